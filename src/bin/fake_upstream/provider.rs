//! The few places where OpenAI and Anthropic differ outside their response
//! formats: auth headers, error bodies, how tools are declared and how a tool
//! result is sent back.

use axum::{
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    OpenAi,
    Anthropic,
}

impl Provider {
    /// OpenAI: `Authorization: Bearer KEY`. Anthropic: `x-api-key: KEY`, or
    /// `Authorization: Bearer KEY`, which is what the `anthropic` 2.x Python SDK
    /// sends for an `api_key`.
    pub fn authorized(self, headers: &HeaderMap, key: &str) -> bool {
        let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let bearer = get(header::AUTHORIZATION.as_str())
            .and_then(|v| v.strip_prefix("Bearer "))
            .is_some_and(|token| token == key);
        match self {
            Provider::OpenAi => bearer,
            Provider::Anthropic => bearer || get("x-api-key") == Some(key),
        }
    }

    /// An error response in the provider's own format, so SDKs raise their
    /// usual typed exceptions. 429 carries `retry-after: 1` like real providers.
    pub fn error(self, status: StatusCode, message: &str) -> Response {
        let body = match self {
            Provider::OpenAi => {
                let (kind, code) = openai_error_kind(status);
                json!({"error": {"message": message, "type": kind, "param": null, "code": code}})
            }
            Provider::Anthropic => {
                json!({"type": "error", "error": {"type": anthropic_error_kind(status), "message": message}})
            }
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }

    /// Name of the first declared tool, unless tools are absent or disabled
    /// with `tool_choice: "none"` (OpenAI) / `{"type": "none"}` (Anthropic).
    pub fn first_tool(self, body: &Value) -> Option<String> {
        let choice_none = body["tool_choice"] == "none" || body["tool_choice"]["type"] == "none";
        if choice_none {
            return None;
        }
        let tool = body["tools"].as_array()?.first()?;
        let name = match self {
            Provider::OpenAi => &tool["function"]["name"],
            Provider::Anthropic => &tool["name"],
        };
        name.as_str().map(str::to_owned)
    }

    /// Whether the conversation ends with a tool result, i.e. the model already
    /// called a tool and should now answer in text.
    pub fn ends_with_tool_result(self, messages: &[Value]) -> bool {
        let Some(last) = messages.last() else {
            return false;
        };
        match self {
            Provider::OpenAi => last["role"] == "tool" || last["role"] == "function",
            Provider::Anthropic => {
                last["role"] == "user"
                    && last["content"]
                        .as_array()
                        .is_some_and(|blocks| blocks.iter().any(|b| b["type"] == "tool_result"))
            }
        }
    }
}

fn openai_error_kind(status: StatusCode) -> (&'static str, Option<&'static str>) {
    match status.as_u16() {
        401 => ("invalid_request_error", Some("invalid_api_key")),
        403 => ("invalid_request_error", Some("permission_denied")),
        404 => ("invalid_request_error", Some("model_not_found")),
        429 => ("requests", Some("rate_limit_exceeded")),
        500..=599 => ("server_error", None),
        _ => ("invalid_request_error", None),
    }
}

fn anthropic_error_kind(status: StatusCode) -> &'static str {
    match status.as_u16() {
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_selection() {
        let openai = json!({"tools": [{"type": "function", "function": {"name": "search"}}]});
        assert_eq!(
            Provider::OpenAi.first_tool(&openai).as_deref(),
            Some("search")
        );
        let mut disabled = openai.clone();
        disabled["tool_choice"] = json!("none");
        assert_eq!(Provider::OpenAi.first_tool(&disabled), None);
        assert_eq!(Provider::OpenAi.first_tool(&json!({"tools": []})), None);

        let anthropic = json!({"tools": [{"name": "lookup", "input_schema": {}}, {"name": "b"}]});
        assert_eq!(
            Provider::Anthropic.first_tool(&anthropic).as_deref(),
            Some("lookup")
        );
        let mut disabled = anthropic.clone();
        disabled["tool_choice"] = json!({"type": "none"});
        assert_eq!(Provider::Anthropic.first_tool(&disabled), None);
    }

    #[test]
    fn tool_result_detection() {
        let openai = [
            json!({"role": "user", "content": "q"}),
            json!({"role": "tool", "content": "r"}),
        ];
        assert!(Provider::OpenAi.ends_with_tool_result(&openai));
        assert!(!Provider::OpenAi.ends_with_tool_result(&openai[..1]));

        let anthropic =
            [json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t"}]})];
        assert!(Provider::Anthropic.ends_with_tool_result(&anthropic));
        let text_only = [json!({"role": "user", "content": "q"})];
        assert!(!Provider::Anthropic.ends_with_tool_result(&text_only));
    }

    #[test]
    fn auth_headers() {
        let mut h = HeaderMap::new();
        h.insert("authorization", HeaderValue::from_static("Bearer k1"));
        h.insert("x-api-key", HeaderValue::from_static("k2"));
        assert!(Provider::OpenAi.authorized(&h, "k1"));
        assert!(
            !Provider::OpenAi.authorized(&h, "k2"),
            "OpenAI ignores x-api-key"
        );
        assert!(Provider::Anthropic.authorized(&h, "k2"));
        assert!(
            Provider::Anthropic.authorized(&h, "k1"),
            "Anthropic also takes a bearer"
        );
        assert!(!Provider::Anthropic.authorized(&h, "k3"));
        assert!(!Provider::OpenAi.authorized(&HeaderMap::new(), "k1"));
    }
}
