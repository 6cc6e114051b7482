//! The request pipeline shared by both providers: record for `/debug`,
//! latency, auth, validation, `fake:` directives, and the choice between a
//! text answer and a tool call.
//!
//! `openai.rs` and `anthropic.rs` only translate a [`Prepared`] request into
//! their own wire format.

use std::time::Duration;

use axum::{
    body::Bytes,
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use serde_json::{json, Value};

use crate::{controls, provider::Provider, text, AppState};

/// "Never answer": long enough for any test timeout, short enough not to leak forever.
const HANG: Duration = Duration::from_secs(3600);

/// Body returned for `fake:malformed`.
pub const MALFORMED_BODY: &str = r#"{"this is not": json"#;

/// The assistant's reply, before it is put into a wire format.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Text(String),
    /// A call to `name` with JSON object `input` (`{"query": <last user text>}`).
    ToolCall {
        name: String,
        input: Value,
    },
}

impl Answer {
    /// Completion/output tokens: words of the text, or of the serialized arguments.
    pub fn tokens(&self) -> u64 {
        match self {
            Answer::Text(t) => text::count_words(t),
            Answer::ToolCall { input, .. } => text::count_words(&input.to_string()),
        }
    }
}

/// A validated request that should get a normal (successful) answer.
pub struct Prepared {
    pub model: String,
    pub stream: bool,
    /// OpenAI `stream_options.include_usage`.
    pub include_usage: bool,
    /// How a stream ends: normally, cut (`fake:stream_cut`) or stalled (`fake:stall`).
    pub ending: crate::sse::Ending,
    pub prompt_tokens: u64,
    pub answer: Answer,
    /// `fake:shape=…`: the complete answer's unusual shape.
    pub shape: Option<crate::controls::Shape>,
}

/// Runs everything that happens before a successful answer is formatted:
/// record for `/debug`, latency, auth, validation, directives. `Err` is the
/// complete response to send instead (error, malformed body, ...).
pub async fn prepare(
    state: &AppState,
    provider: Provider,
    path: &str,
    headers: &HeaderMap,
    raw: &Bytes,
) -> Result<Prepared, Response> {
    let parsed: Result<Value, _> = serde_json::from_slice(raw);
    let recorded = match &parsed {
        Ok(v) => v.clone(),
        Err(_) => Value::String(String::from_utf8_lossy(raw).into_owned()),
    };
    state.record(path, headers, recorded);
    sleep(state.latency).await;

    if let Some(key) = &state.api_key {
        if !provider.authorized(headers, key) {
            return Err(provider.error(StatusCode::UNAUTHORIZED, "fake upstream: invalid API key"));
        }
    }

    let bad_request = |msg: &str| provider.error(StatusCode::BAD_REQUEST, msg);
    let body = parsed.map_err(|e| bad_request(&format!("request body is not valid JSON: {e}")))?;
    let model = body["model"]
        .as_str()
        .ok_or_else(|| bad_request("`model` is required and must be a string"))?
        .to_owned();
    let messages = body["messages"]
        .as_array()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| bad_request("`messages` is required and must be a non-empty array"))?;

    let user_text = text::last_user_text(messages);
    let directives = controls::parse(&user_text).map_err(|e| bad_request(&e))?;
    sleep(directives.latency).await;
    if directives.hang {
        tokio::time::sleep(HANG).await;
        return Err(provider.error(StatusCode::GATEWAY_TIMEOUT, "fake upstream: hang ended"));
    }
    if let Some(status) = directives.status {
        let message = format!(
            "fake upstream: simulated HTTP {} (fake:status)",
            status.as_u16()
        );
        return Err(provider.error(status, &message));
    }
    if directives.redirect {
        let here = match provider {
            Provider::OpenAi => "/v1/chat/completions",
            Provider::Anthropic => "/v1/messages",
        };
        return Err((StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, here)]).into_response());
    }
    if directives.malformed {
        return Err(([(header::CONTENT_TYPE, "application/json")], MALFORMED_BODY).into_response());
    }

    let answer = if let Some(name) = directives.call.clone() {
        Answer::ToolCall {
            name,
            input: json!({ "query": user_text }),
        }
    } else if provider.ends_with_tool_result(messages) {
        Answer::Text("echo: tool result received".to_owned())
    } else if let Some(name) = provider.first_tool(&body) {
        Answer::ToolCall {
            name,
            input: json!({ "query": user_text }),
        }
    } else {
        Answer::Text(format!("echo: {user_text}"))
    };
    Ok(Prepared {
        model,
        stream: body["stream"] == true,
        include_usage: body["stream_options"]["include_usage"] == true,
        ending: if directives.stall {
            crate::sse::Ending::Stall
        } else if directives.stream_cut {
            crate::sse::Ending::Cut
        } else {
            crate::sse::Ending::Normal
        },
        prompt_tokens: text::prompt_tokens(messages, &body["system"]),
        answer,
        shape: directives.shape,
    })
}

async fn sleep(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}
