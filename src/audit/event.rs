//! The audit event: what one request or one admin action leaves behind.
//!
//! The field names are product.md's. `seq`, `prev_hash` and `hash` are not here: they belong to
//! the chain and are assigned when the event is linked (see `chain.rs`).

use serde::{Deserialize, Serialize};

/// One detection inside a decision. Never carries the detected value itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    #[serde(rename = "type")]
    pub kind: String,
    pub count: u32,
    pub step: String,
}

/// The policy verdict and the rule (or step) that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyResult {
    pub verdict: String,
    pub rule: Option<String>,
}

impl PolicyResult {
    pub fn allow() -> Self {
        PolicyResult {
            verdict: "allow".into(),
            rule: None,
        }
    }
    pub fn deny(rule: impl Into<String>) -> Self {
        PolicyResult {
            verdict: "deny".into(),
            rule: Some(rule.into()),
        }
    }
    pub fn error(rule: impl Into<String>) -> Self {
        PolicyResult {
            verdict: "error".into(),
            rule: Some(rule.into()),
        }
    }
}

/// Token counts and cost. Money is integer micro-USD, never a float.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cost {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub usd_micros: u64,
}

/// An event before it is linked into the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    pub audit_id: String,
    /// RFC 3339 UTC with microseconds.
    pub ts: String,
    pub event_type: String,
    pub request_id: Option<String>,
    pub agent_id: Option<String>,
    /// Public id of the key that made the call (never the key).
    pub key_id: Option<String>,
    pub session_id: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub stream: Option<bool>,
    /// HTTP status the caller got (or, for a stream's completion event, the stream's outcome).
    pub status: Option<u16>,
    pub latency_ms: Option<u64>,
    pub detections: Vec<Detection>,
    pub policy_result: PolicyResult,
    pub cost: Cost,
    /// Event-specific details (e.g. the key id an admin revoked). Never a secret.
    pub details: serde_json::Value,
}

impl AuditEvent {
    /// A new event of `event_type`, stamped now, with everything else empty.
    pub fn new(event_type: &str) -> Self {
        AuditEvent {
            audit_id: format!("aud_{}", uuid::Uuid::now_v7().simple()),
            ts: now_rfc3339_micros(),
            event_type: event_type.to_string(),
            request_id: None,
            agent_id: None,
            key_id: None,
            session_id: None,
            provider: None,
            model: None,
            stream: None,
            status: None,
            latency_ms: None,
            detections: Vec::new(),
            policy_result: PolicyResult::allow(),
            cost: Cost::default(),
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn agent(mut self, agent_id: impl Into<String>) -> Self {
        self.agent_id = Some(agent_id.into());
        self
    }

    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

/// Event types used across the product.
pub mod types {
    pub const LLM_CALL: &str = "llm_call";
    pub const LLM_CALL_BLOCKED: &str = "llm_call_blocked";
    pub const LLM_CALL_FAILED: &str = "llm_call_failed";
    pub const LLM_STREAM_COMPLETED: &str = "llm_stream_completed";
    pub const AUTH_FAILED: &str = "auth_failed";
    pub const AGENT_REGISTERED: &str = "agent_registered";
    pub const AGENT_DISABLED: &str = "agent_disabled";
    pub const AGENT_UPDATED: &str = "agent_updated";
    pub const KEY_ISSUED: &str = "key_issued";
    pub const KEY_ROTATED: &str = "key_rotated";
    pub const KEY_REVOKED: &str = "key_revoked";
    pub const ADMIN_KEY_GENERATED: &str = "admin_key_generated";
}

/// Now, as RFC 3339 UTC with exactly six fractional digits (`2026-11-29T02:27:24.123456Z`).
pub fn now_rfc3339_micros() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_have_microseconds_and_utc() {
        let ts = now_rfc3339_micros();
        assert_eq!(ts.len(), "2026-11-29T02:27:24.123456Z".len(), "{ts}");
        assert!(ts.ends_with('Z'));
        assert!(chrono::DateTime::parse_from_rfc3339(&ts).is_ok());
    }

    #[test]
    fn detection_serializes_kind_as_type() {
        let d = Detection {
            kind: "EMAIL".into(),
            count: 2,
            step: "detect_pii".into(),
        };
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["type"], "EMAIL");
    }

    #[test]
    fn audit_ids_are_unique_and_prefixed() {
        let a = AuditEvent::new("llm_call");
        let b = AuditEvent::new("llm_call");
        assert!(a.audit_id.starts_with("aud_"));
        assert_ne!(a.audit_id, b.audit_id);
    }
}
