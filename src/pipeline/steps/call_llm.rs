//! call_llm: call the provider `validate_input` routed the request to, with the server's key.
//! For a stream it also reads the usage the provider reports as the events pass (and hides the
//! usage chunk it asked for on the client's behalf).

use std::time::Instant;

use async_trait::async_trait;
use serde_json::Value;

use crate::pipeline::{Ctx, Flow, Refusal, Step};
use crate::providers::{ProviderError, SseEvent, UpstreamReply, UpstreamRequest, WireFormat};

pub struct CallLlm;

/// OpenAI's usage-only chunk (`choices: []`, `usage: {…}`), sent last with `include_usage`.
fn is_usage_chunk(v: &Value) -> bool {
    v.get("choices")
        .and_then(Value::as_array)
        .is_some_and(|c| c.is_empty())
        && v.get("usage").is_some_and(Value::is_object)
}

#[async_trait]
impl Step for CallLlm {
    fn name(&self) -> &'static str {
        "call_llm"
    }

    async fn run(&self, ctx: &mut Ctx) {
        let (Some(body), Some(route)) = (ctx.body.as_ref(), ctx.route.clone()) else {
            ctx.reject(Refusal::Internal(
                "call_llm ran without a validated, routed body".into(),
            ));
            return;
        };
        let mut body = body.clone();
        body["model"] = Value::from(route.model.clone());
        // A stream is settled at what it cost: OpenAI reports a stream's usage only when asked.
        if ctx.stream && ctx.format == WireFormat::OpenAi {
            let asked = body["stream_options"]["include_usage"] == Value::Bool(true);
            if !asked {
                if !body["stream_options"].is_object() {
                    body["stream_options"] = serde_json::json!({});
                }
                body["stream_options"]["include_usage"] = Value::Bool(true);
                ctx.streaming.hide_usage_chunk = true;
            }
        }
        let req = UpstreamRequest {
            body,
            stream: ctx.stream,
            anthropic_version: ctx.anthropic_version.clone(),
            anthropic_beta: ctx.anthropic_beta.clone(),
        };
        let t0 = Instant::now();
        let result = route.provider.send(ctx.format, &req).await;
        ctx.upstream_latency_ms = Some(t0.elapsed().as_millis() as u64);
        match result {
            Ok(reply) => {
                if let UpstreamReply::Complete { usage, .. } = &reply {
                    ctx.usage = *usage;
                }
                ctx.reply = Some(reply);
            }
            Err(e) => ctx.reject(provider_refusal(e)),
        }
    }

    fn on_stream_event(&self, ctx: &mut Ctx, events: Vec<SseEvent>) -> Flow {
        let mut out = Vec::with_capacity(events.len());
        for ev in events {
            if let Ok(v) = serde_json::from_str::<Value>(&ev.data) {
                ctx.usage.absorb(ctx.format, &v);
                if ctx.streaming.hide_usage_chunk && is_usage_chunk(&v) {
                    continue;
                }
            }
            out.push(ev);
        }
        Flow::Forward(out)
    }
}

/// Maps a provider failure to what the agent sees (product.md: 502 / 504 / pass-through).
pub fn provider_refusal(e: ProviderError) -> Refusal {
    let message = e.to_string();
    match e {
        ProviderError::Unreachable(_) => Refusal::UpstreamUnavailable(message),
        ProviderError::Timeout(_) => Refusal::UpstreamTimeout(message),
        ProviderError::ServerError { status, .. } => Refusal::UpstreamFailed {
            status: status.as_u16(),
        },
        ProviderError::Malformed(_) => Refusal::UpstreamMalformed(message),
        ProviderError::Rejected {
            status,
            body,
            retry_after,
        } => Refusal::UpstreamRejected {
            status: status.as_u16(),
            message,
            body,
            retry_after,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn provider_failures_map_to_gateway_statuses() {
        assert_eq!(
            provider_refusal(ProviderError::Unreachable("x".into())).status(),
            502
        );
        assert_eq!(provider_refusal(ProviderError::Timeout(5)).status(), 504);
        assert_eq!(
            provider_refusal(ProviderError::Malformed("x".into())).status(),
            502
        );
        let r = provider_refusal(ProviderError::ServerError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: "secret detail".into(),
        });
        assert_eq!(r.status(), 502);
        assert!(
            r.passthrough().is_none(),
            "5xx bodies are not passed through"
        );
    }

    #[test]
    fn provider_4xx_passes_through() {
        let r = provider_refusal(ProviderError::Rejected {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: "{\"error\":{}}".into(),
            retry_after: Some("3".into()),
        });
        assert_eq!(r.status(), 429);
        assert_eq!(r.retry_after().as_deref(), Some("3"));
        assert!(r.passthrough().is_some());
    }
}
