//! cost_tracking: the call's actual cost from token usage and the price table; settles the
//! budget reservation and counts tokens against the token limits. Runs after refusals too, so
//! a reservation is always released. A stream is settled when it ends, at the usage the
//! provider reported or — when it reported none — at the reservation's estimate, so a stream
//! is never settled below what it may have cost.

use std::sync::Arc;

use async_trait::async_trait;

use crate::limits::{token_key, Limiter};
use crate::pipeline::estimate::estimate_tokens;
use crate::pipeline::{Ctx, Step};
use crate::providers::{UpstreamReply, Usage};

pub struct CostTracking {
    limiter: Arc<dyn Limiter>,
}

impl CostTracking {
    pub fn new(limiter: Arc<dyn Limiter>) -> Self {
        CostTracking { limiter }
    }

    /// Settles the call at `usage`: the reservation to its actual cost, the tokens against the
    /// token limits. Sets `ctx.cost_micros`.
    async fn settle(&self, ctx: &mut Ctx, usage: Usage) {
        let gov = ctx.gov.clone();
        let model = ctx.route.as_ref().map(|r| r.model.as_str());
        let cost = model.and_then(|m| gov.price(m)).map_or(0, |p| {
            p.cost_micros(usage.prompt_tokens, usage.completion_tokens)
        });
        if let Some(r) = ctx.reservation.take() {
            if let Err(e) = self.limiter.settle(&r, cost).await {
                tracing::error!(error = %e, "budget settlement failed");
            }
        }
        let tokens = usage.prompt_tokens + usage.completion_tokens;
        let l = &gov.config.limits;
        if tokens > 0 {
            let mut keys = Vec::new();
            if let (Some(_), Some(a)) = (l.agent_tokens, ctx.agent.as_ref()) {
                keys.push(token_key(&format!("agent:{}", a.agent_id)));
            }
            if l.org_tokens.is_some() {
                keys.push(token_key("org"));
            }
            for k in keys {
                if let Err(e) = self.limiter.consume(&k, l.window_secs, tokens).await {
                    tracing::error!(error = %e, "token accounting failed");
                }
            }
        }
        ctx.cost_micros = cost;
    }
}

#[async_trait]
impl Step for CostTracking {
    fn name(&self) -> &'static str {
        "cost_tracking"
    }
    fn always_runs(&self) -> bool {
        true
    }

    async fn run(&self, ctx: &mut Ctx) {
        match &ctx.reply {
            Some(UpstreamReply::Stream(_)) if ctx.rejection.is_none() => {
                // Known when the stream ends (on_stream_end).
                ctx.cost_micros = 0;
                ctx.streaming.deferred = true;
                let default_max = ctx.gov.config.budgets.default_max_tokens.unwrap_or(1024);
                let (prompt, completion) = estimate_tokens(ctx, default_max);
                ctx.streaming.fallback_usage = Usage {
                    prompt_tokens: prompt,
                    completion_tokens: completion,
                };
            }
            Some(UpstreamReply::Complete { .. }) => self.settle(ctx, ctx.usage).await,
            // No answer: release the reservation, count nothing.
            _ => self.settle(ctx, Usage::default()).await,
        }
    }

    async fn on_stream_end(&self, ctx: &mut Ctx) {
        if !ctx.streaming.deferred {
            return;
        }
        ctx.streaming.deferred = false;
        if ctx.usage == Usage::default() {
            ctx.usage = ctx.streaming.fallback_usage;
            ctx.streaming.usage_estimated = true;
        }
        self.settle(ctx, ctx.usage).await;
    }
}
