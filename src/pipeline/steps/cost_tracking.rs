//! cost_tracking: the call's actual cost from token usage and the price table; settles the
//! budget reservation and counts tokens against the token limits. Runs after refusals too, so
//! a reservation is always released. For streams the same work runs when the stream ends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;

use super::rate_limit::token_key;
use crate::governance::Governance;
use crate::limits::{Limiter, Reservation};
use crate::pipeline::{Ctx, Phase, Step};
use crate::providers::{UpstreamReply, Usage};

pub struct CostTracking {
    limiter: Arc<dyn Limiter>,
}

impl CostTracking {
    pub fn new(limiter: Arc<dyn Limiter>) -> Self {
        CostTracking { limiter }
    }
}

/// Settles a finished call: returns its cost in micro-USD.
pub type Settle = Box<dyn FnOnce(Usage) -> Pin<Box<dyn Future<Output = u64> + Send>> + Send>;

/// The settlement of one call, to run now (complete answers) or at the end of a stream.
fn settlement(
    limiter: Arc<dyn Limiter>,
    gov: Arc<Governance>,
    model: Option<String>,
    agent: Option<String>,
    reservation: Option<Reservation>,
) -> Settle {
    Box::new(move |usage: Usage| {
        Box::pin(async move {
            let cost = model.as_deref().and_then(|m| gov.price(m)).map_or(0, |p| {
                p.cost_micros(usage.prompt_tokens, usage.completion_tokens)
            });
            if let Some(r) = &reservation {
                if let Err(e) = limiter.settle(r, cost).await {
                    tracing::error!(error = %e, "budget settlement failed");
                }
            }
            let tokens = usage.prompt_tokens + usage.completion_tokens;
            let l = &gov.config.limits;
            if tokens > 0 {
                let mut keys = Vec::new();
                if let (Some(_), Some(a)) = (l.agent_tokens, agent.as_deref()) {
                    keys.push(token_key(&format!("agent:{a}")));
                }
                if l.org_tokens.is_some() {
                    keys.push(token_key("org"));
                }
                for k in keys {
                    if let Err(e) = limiter.consume(&k, l.window_secs, tokens).await {
                        tracing::error!(error = %e, "token accounting failed");
                    }
                }
            }
            cost
        })
    })
}

#[async_trait]
impl Step for CostTracking {
    fn name(&self) -> &'static str {
        "cost_tracking"
    }
    fn phase(&self) -> Phase {
        Phase::After
    }
    fn position(&self) -> u32 {
        40
    }
    fn always_runs(&self) -> bool {
        true
    }

    async fn run(&self, ctx: &mut Ctx) {
        let settle = settlement(
            self.limiter.clone(),
            ctx.gov.clone(),
            ctx.route.as_ref().map(|r| r.model.clone()),
            ctx.agent.as_ref().map(|a| a.agent_id.clone()),
            ctx.reservation.take(),
        );
        match &ctx.reply {
            Some(UpstreamReply::Stream(_)) if ctx.rejection.is_none() => {
                ctx.cost_micros = 0; // known when the stream ends
                ctx.stream_settle = Some(settle);
                let default_max = ctx.gov.config.budgets.default_max_tokens.unwrap_or(1024);
                let (prompt, completion) = super::budget::estimate_tokens(ctx, default_max);
                ctx.stream_fallback_usage = Usage {
                    prompt_tokens: prompt,
                    completion_tokens: completion,
                };
            }
            Some(UpstreamReply::Complete { .. }) => ctx.cost_micros = settle(ctx.usage).await,
            // No answer: release the reservation, count nothing.
            _ => ctx.cost_micros = settle(Usage::default()).await,
        }
    }
}
