//! audit: records the request's decision in the hash chain — answered, blocked or failed —
//! and withholds a success until that record is durably committed (fail-closed).

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::audit::event::{AuditEvent, Cost, EventType, PolicyResult, Verdict};
use crate::audit::AuditWriter;
use crate::identity::keys;
use crate::pipeline::{Ctx, Kind, Phase, Rejection, Step};

pub struct Audit {
    writer: AuditWriter,
    auth_failures: AuthFailureGate,
}

impl Audit {
    pub fn new(writer: AuditWriter) -> Self {
        Audit {
            writer,
            auth_failures: AuthFailureGate::default(),
        }
    }
}

/// Failed authentications written to the chain per second, at most. Each is evidence, but an
/// unauthenticated flood must not take the chain lock and an fsync per request: beyond this
/// rate they are counted (`tappass_auth_failures_total` counts all of them) and the next event
/// written carries `details.suppressed_auth_failures`.
pub const AUTH_FAILED_EVENTS_PER_SEC: u32 = 20;

/// The rate gate for `auth_failed` events.
#[derive(Debug, Default)]
pub struct AuthFailureGate {
    /// (second since start, events written in it, failures suppressed since the last written).
    state: std::sync::Mutex<(u64, u32, u64)>,
    start: std::sync::OnceLock<std::time::Instant>,
}

impl AuthFailureGate {
    /// `Some(suppressed before this one)` when this failure is written, `None` when counted
    /// only.
    pub fn admit(&self) -> Option<u64> {
        let start = self.start.get_or_init(std::time::Instant::now);
        self.admit_at(start.elapsed().as_secs())
    }

    fn admit_at(&self, second: u64) -> Option<u64> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if st.0 != second {
            st.0 = second;
            st.1 = 0;
        }
        if st.1 >= AUTH_FAILED_EVENTS_PER_SEC {
            st.2 += 1;
            return None;
        }
        st.1 += 1;
        Some(std::mem::take(&mut st.2))
    }
}

/// The event type of a request's outcome.
pub fn event_type(ctx: &Ctx) -> EventType {
    match &ctx.rejection {
        None => EventType::LlmCall,
        Some(r) if r.blocked_by.is_some() => EventType::LlmCallBlocked,
        Some(r) if r.kind == Kind::Authentication => EventType::AuthFailed,
        Some(_) => EventType::LlmCallFailed,
    }
}

/// The request's audit event, from what the pipeline learned.
pub fn request_event(ctx: &Ctx) -> AuditEvent {
    let mut e = AuditEvent::new(event_type(ctx));
    e.request_id = Some(ctx.request_id.clone());
    e.agent_id = ctx.agent.as_ref().map(|a| a.agent_id.clone());
    // The key id is public; for a failed login it tells which key was tried.
    e.key_id = ctx.agent.as_ref().map(|a| a.key_id.clone()).or_else(|| {
        ctx.presented_key
            .as_ref()
            .and_then(|k| keys::parse(k.expose_secret()))
            .map(|p| p.key_id)
    });
    e.session_id = Some(ctx.session_id.clone());
    e.provider = ctx.route.as_ref().map(|r| r.provider.name().to_string());
    e.model = ctx.model.clone();
    e.stream = Some(ctx.stream);
    e.status = Some(ctx.rejection.as_ref().map_or(200, |r| r.status));
    e.latency_ms = Some(ctx.started.elapsed().as_millis() as u64);
    e.detections = ctx.detections.clone();
    e.policy_result = match &ctx.rejection {
        // The policy step records its own rule; other blocks name the step.
        Some(r) if r.blocked_by.is_some() && ctx.policy.verdict != Verdict::Deny => {
            PolicyResult::deny(r.blocked_by.unwrap_or_default())
        }
        _ => ctx.policy.clone(),
    };
    e.cost = Cost {
        prompt_tokens: ctx.usage.prompt_tokens,
        completion_tokens: ctx.usage.completion_tokens,
        usd_micros: 0,
    };
    e.cost.usd_micros = ctx.cost_micros;
    let mut details = json!({"classification": ctx.classification.as_str()});
    if ctx
        .requested_flags
        .as_ref()
        .is_ok_and(|f| *f != Default::default())
    {
        details["flags"] = json!(ctx.flags.to_string());
    }
    if !ctx.flags_ignored.is_empty() {
        details["flags_ignored"] = json!(ctx.flags_ignored);
    }
    if !ctx.warnings.is_empty() {
        details["would_block"] = json!(ctx.warnings);
        details["mode"] = json!(format!("{:?}", ctx.flags.mode).to_lowercase());
    }
    if !ctx.obligations.is_empty() {
        details["obligations"] = json!(ctx.obligations);
    }
    if ctx.injection_score > 0.0 {
        details["injection_score_pct"] = json!((ctx.injection_score * 100.0).round() as u32);
    }
    if ctx.client_disconnected() {
        // The status is what the client would have received.
        details["client_disconnected"] = json!(true);
    }
    if let Some(r) = &ctx.rejection {
        details["error"] = json!({"type": r.kind.as_str(), "code": r.code, "message": r.message});
        if let Some(reason) = &r.reason {
            details["reason"] = json!(reason);
        }
    }
    e.details = details;
    e
}

#[async_trait]
impl Step for Audit {
    fn name(&self) -> &'static str {
        "audit"
    }

    fn phase(&self) -> Phase {
        Phase::After
    }

    fn position(&self) -> u32 {
        u32::MAX
    }

    fn always_runs(&self) -> bool {
        true
    }

    async fn run(&self, ctx: &mut Ctx) {
        let mut event = request_event(ctx);
        if event.event_type == EventType::AuthFailed {
            match self.auth_failures.admit() {
                None => return,
                Some(0) => {}
                Some(n) => event.details["suppressed_auth_failures"] = json!(n),
            }
        }
        match self.writer.append(event).await {
            Ok(link) => ctx.audited = Some(link),
            Err(e) => {
                tracing::error!(request_id = %ctx.request_id, error = %e, "request could not be audited");
                if ctx.rejection.is_none() {
                    // Fail closed: no answer goes out unaudited. Dropping the reply also closes
                    // an upstream stream before a byte of it reached the client.
                    ctx.reply = None;
                    ctx.reject(Rejection::storage_unavailable());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_failures_are_written_at_a_bounded_rate_and_counted() {
        let gate = AuthFailureGate::default();
        for _ in 0..AUTH_FAILED_EVENTS_PER_SEC {
            assert_eq!(gate.admit_at(7), Some(0));
        }
        for _ in 0..500 {
            assert_eq!(gate.admit_at(7), None);
        }
        assert_eq!(
            gate.admit_at(8),
            Some(500),
            "the next written one carries the count"
        );
        assert_eq!(gate.admit_at(8), Some(0));
    }
}
