//! budget: reserve the call's estimated cost on every budget before the provider is called
//! (per call, per session, per day, per month — from `[budgets]` and the `budget` flag), so
//! concurrent calls can never overspend; cost_tracking settles to the actual cost afterwards.
//! Exhausted → 402 `budget_exceeded` (not 429, which SDKs retry on their own).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use crate::limits::{BudgetCheck, Limiter, Reservation};
use crate::pipeline::estimate::estimate_tokens;
use crate::pipeline::{Ctx, Refusal, Step};

pub struct Budget {
    limiter: Arc<dyn Limiter>,
    fail_open: bool,
}

impl Budget {
    pub fn new(limiter: Arc<dyn Limiter>, fail_open: bool) -> Self {
        Budget { limiter, fail_open }
    }
}

const DAY: u64 = 86_400;

fn usd(micros: u64) -> String {
    format!("${}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

/// Below this many completion tokens a capped call is not worth making: refused instead.
const MIN_COMPLETION_TOKENS: u64 = 16;

/// The completion limit the request itself set, if any.
fn requested_max_tokens(ctx: &Ctx) -> Option<u64> {
    let b = ctx.body.as_ref()?;
    b.get("max_tokens")
        .or_else(|| b.get("max_completion_tokens"))
        .and_then(Value::as_u64)
}

/// Writes the completion limit the reservation paid for into the request, so the provider
/// cannot produce more than the budget holds (OpenAI: the field the request used, else
/// `max_tokens`; Anthropic: `max_tokens`).
fn cap_max_tokens(ctx: &mut Ctx, completion: u64) {
    let Some(body) = ctx.body.as_mut().and_then(Value::as_object_mut) else {
        return;
    };
    let field = if body.contains_key("max_completion_tokens") {
        "max_completion_tokens"
    } else {
        "max_tokens"
    };
    body.insert(field.into(), Value::from(completion));
}

#[async_trait]
impl Step for Budget {
    fn name(&self) -> &'static str {
        "budget"
    }

    async fn run(&self, ctx: &mut Ctx) {
        let gov = ctx.gov.clone();
        let b = &gov.config.budgets;
        let (flag_call, flag_session) = ctx.flags.budget.limits();
        let min = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, None) => x,
            (None, y) => y,
        };
        let per_call = min(b.per_call_usd.map(|u| u.0), flag_call);
        let per_session = min(b.per_session_usd.map(|u| u.0), flag_session);
        let (per_day, per_month) = (b.per_day_usd.map(|u| u.0), b.per_month_usd.map(|u| u.0));
        if per_call.is_none() && per_session.is_none() && per_day.is_none() && per_month.is_none() {
            return;
        }
        let (Some(agent), Some(route)) = (ctx.agent.clone(), ctx.route.clone()) else {
            return;
        };
        let Some(price) = gov.price(&route.model) else {
            ctx.reject(Refusal::PriceUnknown { model: route.model });
            return;
        };
        let (prompt, mut completion) = estimate_tokens(ctx, b.default_max_tokens.unwrap_or(1024));
        let explicit = requested_max_tokens(ctx).is_some();
        let mut estimate = price.cost_micros(prompt, completion);
        if let Some(limit) = per_call {
            if estimate > limit {
                // A request that names no limit is capped to what the call budget pays for.
                let fits = price.affordable_completion(prompt, limit);
                if explicit || fits < MIN_COMPLETION_TOKENS {
                    ctx.reject(Refusal::BudgetExceeded(format!(
                        "estimated cost {} (with max_tokens {completion}) exceeds the per-call budget of {}",
                        usd(estimate),
                        usd(limit)
                    )));
                    return;
                }
                completion = fits;
                estimate = price.cost_micros(prompt, completion);
            }
        }
        let now = chrono::Utc::now();
        let who = &agent.agent_id;
        let mut checks = Vec::new();
        if let Some(limit) = per_session {
            checks.push(BudgetCheck {
                key: format!("budget:session:agent:{who}:{}", ctx.session_id),
                limit_micros: limit,
                ttl_secs: 7 * DAY,
            });
        }
        if let Some(limit) = per_day {
            checks.push(BudgetCheck {
                key: format!("budget:day:agent:{who}:{}", now.format("%Y-%m-%d")),
                limit_micros: limit,
                ttl_secs: 2 * DAY,
            });
        }
        if let Some(limit) = per_month {
            checks.push(BudgetCheck {
                key: format!("budget:month:agent:{who}:{}", now.format("%Y-%m")),
                limit_micros: limit,
                ttl_secs: 32 * DAY,
            });
        }
        if checks.is_empty() {
            cap_max_tokens(ctx, completion);
            ctx.cost_micros = estimate;
            return;
        }
        let mut outcome = self.limiter.reserve(&checks, estimate).await;
        // Exhausted for the default completion: cap the completion to what is left, once.
        if let Ok(Reservation::Exhausted {
            limit_micros,
            spent_micros,
            ..
        }) = &outcome
        {
            let left = limit_micros.saturating_sub(*spent_micros);
            let fits = price.affordable_completion(prompt, left);
            if !explicit && (MIN_COMPLETION_TOKENS..completion).contains(&fits) {
                completion = fits;
                estimate = price.cost_micros(prompt, completion);
                outcome = self.limiter.reserve(&checks, estimate).await;
            }
        }
        match outcome {
            Ok(r @ Reservation::Granted { .. }) => {
                cap_max_tokens(ctx, completion);
                ctx.cost_micros = estimate;
                ctx.reservation = Some(r);
            }
            Ok(Reservation::Exhausted {
                key,
                limit_micros,
                spent_micros,
            }) => {
                let period = key.split(':').nth(1).unwrap_or("period");
                ctx.reject(Refusal::BudgetExceeded(format!(
                    "{period} budget exhausted: {} of {} spent, this call needs up to {}",
                    usd(spent_micros),
                    usd(limit_micros),
                    usd(estimate)
                )));
            }
            Err(e) => ctx.limits_unavailable(&e, self.fail_open, "budget"),
        }
    }
}
