//! Anthropic Messages wire format (`POST /v1/messages`), plain and streamed.

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

pub const PATH: &str = "/v1/messages";

pub async fn messages(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let req = match prepare(&state, Provider::Anthropic, PATH, &headers, &body).await {
        Ok(req) => req,
        Err(response) => return response,
    };
    let ids = Ids {
        message: format!("msg_{}", Uuid::new_v4().simple()),
        tool_use: format!("toolu_{}", Uuid::new_v4().simple()),
    };
    if req.stream {
        sse::response(
            stream_events(&req, &ids, state.chunks),
            state.chunk_delay,
            req.ending,
        )
    } else {
        Json(message(&req, &ids)).into_response()
    }
}

struct Ids {
    message: String,
    tool_use: String,
}

fn stop_reason(answer: &Answer) -> &'static str {
    match answer {
        Answer::Text(_) => "end_turn",
        Answer::ToolCall { .. } => "tool_use",
    }
}

/// The single content block of the answer; `input` is left empty when streaming
/// because it then arrives as `input_json_delta` pieces.
fn content_block(answer: &Answer, ids: &Ids, streaming: bool) -> Value {
    match answer {
        Answer::Text(t) => json!({"type": "text", "text": if streaming { "" } else { t }}),
        Answer::ToolCall { name, input } => json!({
            "type": "tool_use",
            "id": ids.tool_use,
            "name": name,
            "input": if streaming { json!({}) } else { input.clone() },
        }),
    }
}

/// A complete Messages API `message` object.
fn message(req: &Prepared, ids: &Ids) -> Value {
    json!({
        "id": ids.message,
        "type": "message",
        "role": "assistant",
        "model": req.model,
        "content": match (req.shape, &req.answer) {
            (Some(Shape::OffSchema), Answer::Text(t)) => json!(t),
            (Some(Shape::UnknownBlock), Answer::Text(t)) => {
                json!([{"type": "future_block", "text": t}])
            }
            _ => json!([content_block(&req.answer, ids, false)]),
        },
        "stop_reason": stop_reason(&req.answer),
        "stop_sequence": null,
        "usage": {"input_tokens": req.prompt_tokens, "output_tokens": req.answer.tokens()},
    })
}

/// message_start, content_block_start, ping, content_block_delta pieces,
/// content_block_stop, message_delta, message_stop.
fn stream_events(req: &Prepared, ids: &Ids, chunks: usize) -> sse::Events {
    let start = json!({
        "type": "message_start",
        "message": {
            "id": ids.message,
            "type": "message",
            "role": "assistant",
            "model": req.model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": {"input_tokens": req.prompt_tokens, "output_tokens": 1},
        },
    });
    let head = vec![
        sse::event("message_start", &start),
        sse::event(
            "content_block_start",
            &json!({"type": "content_block_start", "index": 0,
                    "content_block": content_block(&req.answer, ids, true)}),
        ),
        sse::event("ping", &json!({"type": "ping"})),
    ];

    let deltas: Vec<Value> = match &req.answer {
        Answer::Text(t) => text::split_text(t, chunks)
            .into_iter()
            .map(|p| json!({"type": "text_delta", "text": p}))
            .collect(),
        Answer::ToolCall { input, .. } => text::split_json(&input.to_string(), chunks)
            .into_iter()
            .map(|p| json!({"type": "input_json_delta", "partial_json": p}))
            .collect(),
    };
    let mut pieces: Vec<String> = deltas
        .into_iter()
        .map(|delta| {
            sse::event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": 0, "delta": delta}),
            )
        })
        .collect();
    if let Answer::Text(t) = &req.answer {
        match req.shape {
            Some(Shape::GarbageEvent) => pieces.push(format!(
                "event: content_block_delta\ndata: not json {t}\n\n"
            )),
            Some(Shape::UnknownBlock) => pieces.push(sse::event(
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": 0,
                        "delta": {"type": "future_delta", "text": t}}),
            )),
            _ => {}
        }
    }

    let tail = vec![
        sse::event(
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": 0}),
        ),
        sse::event(
            "message_delta",
            &json!({
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason(&req.answer), "stop_sequence": null},
                "usage": {"output_tokens": req.answer.tokens()},
            }),
        ),
        sse::event("message_stop", &json!({"type": "message_stop"})),
    ];
    sse::Events { head, pieces, tail }
}
