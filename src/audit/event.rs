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

/// What the policy (or a refusing step) decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allow,
    Deny,
    /// The policy could not be evaluated (the request is refused: fail closed).
    Error,
}

/// The policy verdict and the rule (or step) that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyResult {
    pub verdict: Verdict,
    pub rule: Option<String>,
}

impl PolicyResult {
    pub fn allow() -> Self {
        PolicyResult {
            verdict: Verdict::Allow,
            rule: None,
        }
    }
    pub fn deny(rule: impl Into<String>) -> Self {
        PolicyResult {
            verdict: Verdict::Deny,
            rule: Some(rule.into()),
        }
    }
    pub fn error(rule: impl Into<String>) -> Self {
        PolicyResult {
            verdict: Verdict::Error,
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
    pub event_type: EventType,
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
    pub fn new(event_type: EventType) -> Self {
        AuditEvent {
            audit_id: format!("aud_{}", uuid::Uuid::now_v7().simple()),
            ts: now_rfc3339_micros(),
            event_type,
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

/// Every kind of event the trail holds (stored as its snake_case name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    /// A data-plane request that was answered.
    LlmCall,
    /// Refused by a pipeline step or the policy.
    LlmCallBlocked,
    /// Failed otherwise (validation, provider, storage …).
    LlmCallFailed,
    /// The end of a streamed answer.
    LlmStreamCompleted,
    /// A data-plane request with a missing, unknown or revoked key (rate-limited).
    AuthFailed,
    AgentRegistered,
    AgentDisabled,
    /// Flag grants changed.
    AgentUpdated,
    KeyIssued,
    KeyRotated,
    KeyRevoked,
    AdminKeyGenerated,
    ConfigReloaded,
    ConfigReloadRejected,
}

impl EventType {
    pub const ALL: [EventType; 14] = [
        EventType::LlmCall,
        EventType::LlmCallBlocked,
        EventType::LlmCallFailed,
        EventType::LlmStreamCompleted,
        EventType::AuthFailed,
        EventType::AgentRegistered,
        EventType::AgentDisabled,
        EventType::AgentUpdated,
        EventType::KeyIssued,
        EventType::KeyRotated,
        EventType::KeyRevoked,
        EventType::AdminKeyGenerated,
        EventType::ConfigReloaded,
        EventType::ConfigReloadRejected,
    ];

    /// The stored name, e.g. `llm_call`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LlmCall => "llm_call",
            EventType::LlmCallBlocked => "llm_call_blocked",
            EventType::LlmCallFailed => "llm_call_failed",
            EventType::LlmStreamCompleted => "llm_stream_completed",
            EventType::AuthFailed => "auth_failed",
            EventType::AgentRegistered => "agent_registered",
            EventType::AgentDisabled => "agent_disabled",
            EventType::AgentUpdated => "agent_updated",
            EventType::KeyIssued => "key_issued",
            EventType::KeyRotated => "key_rotated",
            EventType::KeyRevoked => "key_revoked",
            EventType::AdminKeyGenerated => "admin_key_generated",
            EventType::ConfigReloaded => "config_reloaded",
            EventType::ConfigReloadRejected => "config_reload_rejected",
        }
    }
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
    fn event_types_are_stored_by_their_names() {
        for t in EventType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
            let back: EventType = serde_json::from_value(t.as_str().into()).unwrap();
            assert_eq!(back, t);
        }
    }

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
        let a = AuditEvent::new(EventType::LlmCall);
        let b = AuditEvent::new(EventType::LlmCall);
        assert!(a.audit_id.starts_with("aud_"));
        assert_ne!(a.audit_id, b.audit_id);
    }
}
