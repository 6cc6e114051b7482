//! rate_limit: requests and tokens per window, per agent and for the whole gateway (org).
//! Tokens are checked before the call (is the window already full?) and counted after it by
//! cost_tracking. A limiter that cannot answer refuses the request (503) unless
//! `[redis] fail_open` says otherwise — loudly.

use std::sync::Arc;

use async_trait::async_trait;

use crate::detect::EntityKind;
use crate::limits::{request_key, token_key, Limiter, RateCheck, RateDecision};
use crate::pipeline::{Ctx, Refusal, Step};

pub struct RateLimit {
    limiter: Arc<dyn Limiter>,
    fail_open: bool,
}

impl RateLimit {
    pub fn new(limiter: Arc<dyn Limiter>, fail_open: bool) -> Self {
        RateLimit { limiter, fail_open }
    }
}

#[async_trait]
impl Step for RateLimit {
    fn name(&self) -> &'static str {
        "rate_limit"
    }

    async fn run(&self, ctx: &mut Ctx) {
        let Some(agent) = ctx.agent.as_ref() else {
            return;
        };
        let l = &ctx.gov.config.limits;
        let agent_scope = format!("agent:{}", agent.agent_id);
        let mut checks = Vec::new();
        let mut add = |key: String, limit: Option<u64>, cost: u64| {
            if let Some(limit) = limit {
                checks.push(RateCheck {
                    key,
                    limit,
                    window_secs: l.window_secs,
                    cost,
                });
            }
        };
        add(request_key(&agent_scope), l.agent_requests, 1);
        add(request_key("org"), l.org_requests, 1);
        add(token_key(&agent_scope), l.agent_tokens, 0);
        add(token_key("org"), l.org_tokens, 0);
        if checks.is_empty() {
            return;
        }
        match self.limiter.admit(&checks).await {
            Ok(RateDecision::Allowed) => {}
            Ok(RateDecision::Limited {
                key,
                limit,
                retry_after_secs,
            }) => {
                let what = if key.starts_with("rate:tok:") {
                    "tokens"
                } else {
                    "requests"
                };
                let scope = if key.contains(":org") {
                    "gateway"
                } else {
                    "agent"
                };
                let message = format!(
                    "rate limit reached: {limit} {what} per {} s for this {scope}",
                    l.window_secs
                );
                ctx.detected(EntityKind::RateLimit, 1, "rate_limit");
                ctx.reject(Refusal::RateLimited {
                    message,
                    retry_after_secs,
                });
            }
            Err(e) => ctx.limits_unavailable(&e, self.fail_open, "rate_limit"),
        }
    }
}
