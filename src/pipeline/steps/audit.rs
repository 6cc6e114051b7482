//! audit: records the request's decision in the hash chain — answered, blocked or failed —
//! and withholds a success until that record is durably committed (fail-closed).

use async_trait::async_trait;
use secrecy::ExposeSecret;
use serde_json::json;

use crate::audit::event::{types, AuditEvent, Cost, PolicyResult};
use crate::audit::AuditWriter;
use crate::identity::keys;
use crate::pipeline::{Ctx, Kind, Phase, Rejection, Step};

pub struct Audit {
    writer: AuditWriter,
}

impl Audit {
    pub fn new(writer: AuditWriter) -> Self {
        Audit { writer }
    }
}

/// The event type of a request's outcome.
pub fn event_type(ctx: &Ctx) -> &'static str {
    match &ctx.rejection {
        None => types::LLM_CALL,
        Some(r) if r.blocked_by.is_some() => types::LLM_CALL_BLOCKED,
        Some(r) if r.kind == Kind::Authentication => types::AUTH_FAILED,
        Some(_) => types::LLM_CALL_FAILED,
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
        Some(r) if r.blocked_by.is_some() && ctx.policy.verdict != "deny" => {
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
        let event = request_event(ctx);
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
