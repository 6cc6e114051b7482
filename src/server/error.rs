//! The one place refusals become HTTP responses, in the envelope of the API family that was
//! called: OpenAI's `{"error":{…}}` or Anthropic's `{"type":"error","error":{…}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::pipeline::Refusal;
use crate::providers::WireFormat;

/// Renders `r` for a client of `format`.
pub fn render(r: &Refusal, format: WireFormat) -> Response {
    let (status, kind, code) = r.class();
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = if let Some(body) = r.passthrough() {
        (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            body.clone(),
        )
            .into_response()
    } else {
        let mut inner = Map::new();
        inner.insert("message".into(), Value::from(r.to_string()));
        inner.insert("type".into(), Value::from(kind.as_str()));
        if let Some(code) = code {
            inner.insert("code".into(), Value::from(code));
        }
        if let Some(param) = r.param() {
            inner.insert("param".into(), Value::from(param));
        }
        if let Some((step, reason)) = r.blocked() {
            inner.insert("blocked_by".into(), Value::from(step));
            inner.insert("reason".into(), Value::from(reason));
        }
        let body = match format {
            WireFormat::OpenAi => json!({ "error": inner }),
            WireFormat::Anthropic => json!({ "type": "error", "error": inner }),
        };
        (status, axum::Json(body)).into_response()
    };
    if let Some(v) = r.retry_after().and_then(|v| HeaderValue::from_str(&v).ok()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

/// Control-plane errors (admin, audit, health): always the OpenAI envelope.
impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        render(&self, WireFormat::OpenAi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(resp: Response) -> Value {
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[tokio::test]
    async fn openai_and_anthropic_envelopes() {
        let r = Refusal::InvalidKey("nope".into());
        let o = body_of(render(&r, WireFormat::OpenAi)).await;
        assert_eq!(o["error"]["type"], "authentication_error");
        assert_eq!(o["error"]["code"], "invalid_api_key");
        let a = body_of(render(&r, WireFormat::Anthropic)).await;
        assert_eq!(a["type"], "error");
        assert_eq!(a["error"]["message"], "nope");
    }

    #[tokio::test]
    async fn policy_block_carries_step_and_reason() {
        let r = Refusal::PolicyBlock {
            step: "detect_pii",
            reason: "PII detected: EMAIL".into(),
        };
        let resp = render(&r, WireFormat::OpenAi);
        assert_eq!(resp.status(), 403);
        let o = body_of(resp).await;
        assert_eq!(o["error"]["blocked_by"], "detect_pii");
        assert_eq!(o["error"]["type"], "policy_block");
    }

    #[tokio::test]
    async fn passthrough_keeps_status_body_and_retry_after() {
        let r = Refusal::UpstreamRejected {
            status: 429,
            message: "x".into(),
            body: bytes::Bytes::from_static(b"{\"error\":{\"message\":\"slow down\"}}"),
            retry_after: Some("2".into()),
        };
        let resp = render(&r, WireFormat::OpenAi);
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "2");
        assert_eq!(body_of(resp).await["error"]["message"], "slow down");
    }
}
