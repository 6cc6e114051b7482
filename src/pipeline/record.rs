//! The audit events of an exchange, built from what the pipeline learned: the request's event
//! (answered, blocked or failed) and, for a stream, its completion event. Pure functions of the
//! `Ctx`, so the audit step, the log line and the metrics agree on what happened.

use secrecy::ExposeSecret;
use serde_json::json;

use crate::audit::event::{AuditEvent, Cost, EventType, PolicyResult, Verdict};
use crate::identity::keys;
use crate::pipeline::{Ctx, Kind, Refusal};

/// The event type of a request's outcome.
pub fn event_type(ctx: &Ctx) -> EventType {
    match &ctx.rejection {
        None => EventType::LlmCall,
        Some(Refusal::PolicyBlock { .. }) => EventType::LlmCallBlocked,
        Some(r) if r.kind() == Kind::Authentication => EventType::AuthFailed,
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
    e.status = Some(ctx.rejection.as_ref().map_or(200, Refusal::status));
    e.latency_ms = Some(ctx.started.elapsed().as_millis() as u64);
    e.detections = ctx.detections.clone();
    e.policy_result = match &ctx.rejection {
        // The policy step records its own rule; other blocks name the step.
        Some(Refusal::PolicyBlock { step, .. }) if ctx.policy.verdict != Verdict::Deny => {
            PolicyResult::deny(*step)
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
        details["error"] =
            json!({"type": r.kind().as_str(), "code": r.code(), "message": r.to_string()});
        if let Some((_, reason)) = r.blocked() {
            details["reason"] = json!(reason);
        }
    }
    e.details = details;
    e
}

/// A stream's completion event: how it ended, what it cost, what was found in it. It names the
/// request's event (`details.request_audit_id`).
pub fn completion_event(ctx: &Ctx) -> AuditEvent {
    let request = request_event(ctx);
    let mut e = AuditEvent::new(EventType::LlmStreamCompleted);
    e.request_id = request.request_id;
    e.agent_id = request.agent_id;
    e.key_id = request.key_id;
    e.session_id = request.session_id;
    e.provider = request.provider;
    e.model = request.model;
    e.stream = Some(true);
    e.cost = Cost {
        prompt_tokens: ctx.usage.prompt_tokens,
        completion_tokens: ctx.usage.completion_tokens,
        usd_micros: ctx.cost_micros,
    };
    let s = &ctx.streaming;
    let outcome = s.outcome.map_or("unknown", |o| o.as_str());
    e.details = json!({
        "outcome": outcome,
        "request_audit_id": ctx.audited.as_ref().map(|l| l.audit_id.clone()),
    });
    if s.usage_estimated {
        e.details["usage_estimated"] = json!(true);
    }
    if let Some((step, reason)) = &s.stopped_by {
        e.details["reason"] = json!(reason);
        e.policy_result = PolicyResult::deny(*step);
    }
    e.detections = s.detections.clone();
    e
}
