//! call_llm: route the model to a provider and call it with the server's key.

use std::time::Instant;

use async_trait::async_trait;
use serde_json::Value;

use crate::pipeline::{Ctx, Kind, Phase, Rejection, Step};
use crate::providers::{ProviderError, RouteError, UpstreamReply, UpstreamRequest, WireFormat};

/// Calls the provider `validate_input` routed the request to.
pub struct CallLlm;

#[async_trait]
impl Step for CallLlm {
    fn name(&self) -> &'static str {
        "call_llm"
    }

    fn phase(&self) -> Phase {
        Phase::Call
    }

    fn position(&self) -> u32 {
        0
    }

    async fn run(&self, ctx: &mut Ctx) {
        let (Some(body), Some(route)) = (ctx.body.as_ref(), ctx.route.clone()) else {
            ctx.reject(Rejection::new(
                500,
                Kind::Internal,
                "call_llm ran without a validated, routed body",
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
                ctx.hide_usage_chunk = true;
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
            Err(e) => ctx.reject(provider_rejection(e)),
        }
    }
}

pub fn route_rejection(e: &RouteError) -> Rejection {
    match e {
        RouteError::UnknownProvider { .. } | RouteError::NoDefault { .. } => {
            Rejection::new(404, Kind::NotFound, e.to_string())
                .code("model_not_found")
                .param("model")
        }
        RouteError::WrongFormat { .. } => Rejection::invalid("model", e.to_string()),
    }
}

/// Maps a provider failure to what the agent sees (product.md: 502 / 504 / pass-through).
pub fn provider_rejection(e: ProviderError) -> Rejection {
    let message = e.to_string();
    match e {
        ProviderError::Unreachable(_) => {
            Rejection::new(502, Kind::Upstream, message).code("upstream_unavailable")
        }
        ProviderError::Timeout(_) => {
            Rejection::new(504, Kind::Upstream, message).code("upstream_timeout")
        }
        ProviderError::ServerError { status, .. } => Rejection::new(
            502,
            Kind::Upstream,
            format!("provider failed with HTTP {}", status.as_u16()),
        )
        .code("upstream_error"),
        ProviderError::Malformed(_) => {
            Rejection::new(502, Kind::Upstream, message).code("upstream_malformed")
        }
        ProviderError::Rejected {
            status,
            body,
            retry_after,
        } => {
            let mut r = Rejection::new(status.as_u16(), Kind::Upstream, message);
            r.passthrough = Some(body);
            r.retry_after = retry_after;
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

    #[test]
    fn provider_failures_map_to_gateway_statuses() {
        assert_eq!(
            provider_rejection(ProviderError::Unreachable("x".into())).status,
            502
        );
        assert_eq!(provider_rejection(ProviderError::Timeout(5)).status, 504);
        assert_eq!(
            provider_rejection(ProviderError::Malformed("x".into())).status,
            502
        );
        let r = provider_rejection(ProviderError::ServerError {
            status: StatusCode::SERVICE_UNAVAILABLE,
            body: "secret detail".into(),
        });
        assert_eq!(r.status, 502);
        assert!(r.passthrough.is_none(), "5xx bodies are not passed through");
    }

    #[test]
    fn provider_4xx_passes_through() {
        let r = provider_rejection(ProviderError::Rejected {
            status: StatusCode::TOO_MANY_REQUESTS,
            body: "{\"error\":{}}".into(),
            retry_after: Some("3".into()),
        });
        assert_eq!(r.status, 429);
        assert_eq!(r.retry_after.as_deref(), Some("3"));
        assert!(r.passthrough.is_some());
    }

    #[test]
    fn unknown_provider_is_404_model_not_found() {
        let r = route_rejection(&RouteError::UnknownProvider {
            model: "x/y".into(),
            provider: "x".into(),
        });
        assert_eq!((r.status, r.code), (404, Some("model_not_found")));
    }
}
