//! OpenAI Chat Completions wire format (`POST /v1/chat/completions`), plain and streamed.

use std::sync::Arc;

use axum::{
    body::Bytes,
    extract::State,
    http::HeaderMap,
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

use crate::controls::Shape;
use uuid::Uuid;

use crate::{
    pipeline::{prepare, Answer, Prepared},
    provider::Provider,
    sse, text, AppState,
};

pub const PATH: &str = "/v1/chat/completions";

pub async fn chat_completions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match prepare(&state, Provider::OpenAi, PATH, &headers, &body).await {
        Ok(req) => req,
        Err(response) => return response,
    };
    let ids = Ids {
        completion: format!("chatcmpl-{}", Uuid::new_v4().simple()),
        call: format!("call_{}", Uuid::new_v4().simple()),
        created: chrono::Utc::now().timestamp(),
    };
    if req.stream {
        sse::response(
            stream_events(&req, &ids, state.chunks),
            state.chunk_delay,
            req.ending,
        )
    } else {
        Json(completion(&req, &ids)).into_response()
    }
}

struct Ids {
    completion: String,
    call: String,
    created: i64,
}

fn finish_reason(answer: &Answer) -> &'static str {
    match answer {
        Answer::Text(_) => "stop",
        Answer::ToolCall { .. } => "tool_calls",
    }
}

fn usage(req: &Prepared) -> Value {
    let completion = req.answer.tokens();
    json!({
        "prompt_tokens": req.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": req.prompt_tokens + completion,
    })
}

/// A complete `chat.completion` object.
fn completion(req: &Prepared, ids: &Ids) -> Value {
    let message = match &req.answer {
        Answer::Text(t) if req.shape == Some(Shape::OffSchema) => {
            json!({"role": "assistant", "content": {"text": t}})
        }
        Answer::Text(t) => json!({"role": "assistant", "content": t}),
        Answer::ToolCall { name, input } => json!({
            "role": "assistant",
            "content": null,
            "tool_calls": [{
                "id": ids.call,
                "type": "function",
                "function": {"name": name, "arguments": input.to_string()},
            }],
        }),
    };
    json!({
        "id": ids.completion,
        "object": "chat.completion",
        "created": ids.created,
        "model": req.model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason(&req.answer),
        }],
        "usage": usage(req),
        "system_fingerprint": null,
    })
}

/// `chat.completion.chunk` events: role, content (or tool-call) pieces, finish
/// reason, optional usage chunk, then `[DONE]`.
fn stream_events(req: &Prepared, ids: &Ids, chunks: usize) -> sse::Events {
    let chunk = |delta: Value, finish: Option<&str>| {
        let mut c = json!({
            "id": ids.completion,
            "object": "chat.completion.chunk",
            "created": ids.created,
            "model": req.model,
            "system_fingerprint": null,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}],
        });
        if req.include_usage {
            // Like OpenAI: every chunk carries `usage: null` except the last one.
            c["usage"] = Value::Null;
        }
        sse::data(&c)
    };

    let (head, pieces) = match &req.answer {
        Answer::Text(t) => (
            vec![chunk(json!({"role": "assistant", "content": ""}), None)],
            text::split_text(t, chunks)
                .into_iter()
                .map(|p| chunk(json!({"content": p}), None))
                .collect(),
        ),
        Answer::ToolCall { name, input } => (
            vec![
                // `content: null` (not "") so the accumulated message matches the
                // non-streamed one, as with the real API.
                chunk(json!({"role": "assistant", "content": null}), None),
                chunk(
                    json!({"tool_calls": [{
                        "index": 0,
                        "id": ids.call,
                        "type": "function",
                        "function": {"name": name, "arguments": ""},
                    }]}),
                    None,
                ),
            ],
            text::split_json(&input.to_string(), chunks)
                .into_iter()
                .map(|p| {
                    chunk(
                        json!({"tool_calls": [{"index": 0, "function": {"arguments": p}}]}),
                        None,
                    )
                })
                .collect(),
        ),
    };

    let mut tail = vec![chunk(json!({}), Some(finish_reason(&req.answer)))];
    if req.include_usage {
        let last = json!({
            "id": ids.completion,
            "object": "chat.completion.chunk",
            "created": ids.created,
            "model": req.model,
            "system_fingerprint": null,
            "choices": [],
            "usage": usage(req),
        });
        tail.push(sse::data(&last));
    }
    tail.push("data: [DONE]\n\n".to_owned());
    let mut pieces: Vec<String> = pieces;
    if let (Some(Shape::GarbageEvent), Answer::Text(t)) = (req.shape, &req.answer) {
        pieces.push(format!("data: not json {t}\n\n"));
    }
    sse::Events { head, pieces, tail }
}
