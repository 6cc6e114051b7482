//! Policy decisions: Rego evaluated in-process (`regorus`) or by an external OPA server over REST,
//! behind one small trait.
//!
//! - [`PolicyEngine`] is the whole contract the pipeline sees: an input document in, a
//!   [`Decision`] (or a [`PolicyError`]) out. Every error means "no decision": the caller fails
//!   closed (the request is refused with 503 and audited).
//! - [`RegoEngine`] compiles `*.rego` (+ `data.json`) once and evaluates `data.tappass.decision`
//!   on a clone of the prepared engine, on the blocking pool, under a deadline.
//! - [`OpaEngine`] asks `POST {base}/v1/data/tappass/decision` on an OPA server.
//! - [`CachedEngine`] wraps either with a bounded TTL cache of decisions.
//!
//! The module is self-contained (it only uses crates, not the rest of TapPass), so it can be
//! built and tested on its own. `docs/policy.md` is the user-facing description.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod cache;
mod opa;
mod rego;

pub use cache::{input_digest, CacheStats, CachedEngine};
pub use opa::OpaEngine;
pub use rego::RegoEngine;

#[cfg(test)]
mod builtins_tests;
#[cfg(test)]
mod tests;

/// The rule every policy must define, as a Rego reference.
pub const DECISION_RULE: &str = "data.tappass.decision";
/// The same rule as an OPA Data API path (`POST /v1/data/tappass/decision`).
pub const DECISION_API_PATH: &str = "/v1/data/tappass/decision";
/// The default policy that ships in `packaging/policies/default.rego`, compiled in so that it can
/// be tested here and offered (e.g. by `tappass config check`) without the file.
pub const DEFAULT_POLICY: &str = include_str!("../../packaging/policies/default.rego");
/// The name under which [`DEFAULT_POLICY`] is installed.
pub const DEFAULT_POLICY_NAME: &str = "default.rego";
/// Default deadline of one evaluation (both backends).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(200);

/// The outcome of evaluating the policy on one input.
///
/// The policy produces it as the object `{"allow": bool, "reason"?: string, "rule"?: string,
/// "obligations"?: [..]}`; see [`Decision::from_value`] for the exact shape rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub allow: bool,
    /// Human-readable reason (shown to the agent on a block and audited).
    pub reason: Option<String>,
    /// Name of the rule that decided (audited as `policy_result.rule`).
    pub rule: Option<String>,
    /// Extra duties attached to the decision (e.g. `{"type": "log_full"}`), passed through
    /// verbatim; their meaning is defined by the step that consumes them.
    pub obligations: Vec<Value>,
}

impl Decision {
    /// An allow without reason, rule or obligations.
    pub fn allow() -> Decision {
        Decision {
            allow: true,
            reason: None,
            rule: None,
            obligations: Vec::new(),
        }
    }

    /// A deny by `rule` for `reason`.
    pub fn deny(rule: impl Into<String>, reason: impl Into<String>) -> Decision {
        Decision {
            allow: false,
            reason: Some(reason.into()),
            rule: Some(rule.into()),
            obligations: Vec::new(),
        }
    }

    /// Checks and converts the policy's result.
    ///
    /// The result must be an object with a boolean `allow`. `reason` and `rule` are optional
    /// strings (`null` counts as absent), `obligations` an optional array (`null` counts as
    /// empty). Other keys are ignored, so a policy may add its own diagnostics. Anything else —
    /// including an undefined decision, which callers map to `None` before calling this — is
    /// [`PolicyError::BadDecision`].
    pub fn from_value(value: Value) -> Result<Decision, PolicyError> {
        let Value::Object(mut obj) = value else {
            return Err(PolicyError::BadDecision(format!(
                "{DECISION_RULE} must be an object, got {}",
                json_type(&value)
            )));
        };
        let allow = match obj.remove("allow") {
            Some(Value::Bool(b)) => b,
            Some(other) => {
                return Err(PolicyError::BadDecision(format!(
                    "{DECISION_RULE}.allow must be a boolean, got {}",
                    json_type(&other)
                )))
            }
            None => {
                return Err(PolicyError::BadDecision(format!(
                    "{DECISION_RULE} has no `allow` field"
                )))
            }
        };
        let reason = optional_string(obj.remove("reason"), "reason")?;
        let rule = optional_string(obj.remove("rule"), "rule")?;
        let obligations = match obj.remove("obligations") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(PolicyError::BadDecision(format!(
                    "{DECISION_RULE}.obligations must be an array, got {}",
                    json_type(&other)
                )))
            }
        };
        Ok(Decision {
            allow,
            reason,
            rule,
            obligations,
        })
    }
}

fn optional_string(v: Option<Value>, field: &str) -> Result<Option<String>, PolicyError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(PolicyError::BadDecision(format!(
            "{DECISION_RULE}.{field} must be a string, got {}",
            json_type(&other)
        ))),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Why no decision could be made. Every variant means the caller must fail closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The policy (or its data) could not be loaded: names the file, and the line and column
    /// where the parser gives them (`policy.rego:4:1: expecting `}` while parsing object`).
    #[error("policy load failed: {0}")]
    Load(String),
    /// Evaluation failed (a runtime error in the policy: conflicting rule values, a builtin
    /// error such as division by zero, an unknown function).
    #[error("policy evaluation failed: {0}")]
    Eval(String),
    /// No decision within the deadline.
    #[error("policy evaluation timed out after {0:?}")]
    Timeout(Duration),
    /// The policy server could not be asked (connection refused, HTTP error status).
    #[error("policy server unavailable: {0}")]
    Unavailable(String),
    /// The decision is undefined or not of the expected shape.
    #[error("bad policy decision: {0}")]
    BadDecision(String),
}

impl PolicyError {
    /// A short stable label (`load`, `eval`, `timeout`, `unavailable`, `bad_decision`) for
    /// metrics and audit events.
    pub fn kind(&self) -> &'static str {
        match self {
            PolicyError::Load(_) => "load",
            PolicyError::Eval(_) => "eval",
            PolicyError::Timeout(_) => "timeout",
            PolicyError::Unavailable(_) => "unavailable",
            PolicyError::BadDecision(_) => "bad_decision",
        }
    }
}

/// A policy backend. Implementations are chosen once at start-up; callers hold an
/// `Arc<dyn PolicyEngine>`.
#[async_trait]
pub trait PolicyEngine: Send + Sync {
    /// `"rego"` (in-process) or `"opa"` (external server).
    fn backend(&self) -> &'static str;
    /// Decides on one input document. Any error means: refuse the request (fail closed).
    async fn evaluate(&self, input: &Value) -> Result<Decision, PolicyError>;
    /// Whether the engine can decide now (`/health/ready`): an in-process policy compiled at
    /// load always can; an external server must answer.
    async fn ready(&self) -> Result<(), PolicyError> {
        Ok(())
    }
}

#[async_trait]
impl<T: PolicyEngine + ?Sized> PolicyEngine for Arc<T> {
    fn backend(&self) -> &'static str {
        (**self).backend()
    }
    async fn evaluate(&self, input: &Value) -> Result<Decision, PolicyError> {
        (**self).evaluate(input).await
    }
    async fn ready(&self) -> Result<(), PolicyError> {
        (**self).ready().await
    }
}

#[async_trait]
impl<T: PolicyEngine + ?Sized> PolicyEngine for Box<T> {
    fn backend(&self) -> &'static str {
        (**self).backend()
    }
    async fn evaluate(&self, input: &Value) -> Result<Decision, PolicyError> {
        (**self).evaluate(input).await
    }
    async fn ready(&self) -> Result<(), PolicyError> {
        (**self).ready().await
    }
}
