//! The request context that flows through the pipeline's steps.

use std::time::Instant;

use bytes::Bytes;
use secrecy::SecretString;
use serde_json::Value;

use super::Rejection;
use crate::audit::chain::Linked;
use crate::audit::event::{Detection, PolicyResult};
use crate::providers::{Route, UpstreamReply, Usage, WireFormat};

/// The authenticated caller of a data-plane request.
#[derive(Debug, Clone)]
pub struct AgentIdentity {
    pub agent_id: String,
    pub key_id: String,
}

/// Everything known about one data-plane request. Each step reads what earlier steps left and
/// adds its own part; none reaches back into the HTTP layer.
pub struct Ctx {
    pub request_id: String,
    /// The endpoint's wire format.
    pub format: WireFormat,
    pub started: Instant,
    /// The presented token (from `Authorization: Bearer` or `x-api-key`).
    pub presented_key: Option<SecretString>,
    pub session_id: String,
    pub anthropic_version: Option<String>,
    pub anthropic_beta: Option<String>,
    pub raw_body: Bytes,
    /// The parsed body, set by `validate_input`.
    pub body: Option<Value>,
    pub model: Option<String>,
    pub stream: bool,
    pub agent: Option<AgentIdentity>,
    pub route: Option<Route>,
    pub reply: Option<UpstreamReply>,
    pub usage: Usage,
    pub upstream_latency_ms: Option<u64>,
    pub detections: Vec<Detection>,
    pub policy: PolicyResult,
    /// Set by the first step that refuses the request; later steps then only run if they
    /// `always_run` (the audit step).
    pub rejection: Option<Rejection>,
    /// The committed audit link of this request.
    pub audited: Option<Linked>,
    /// Names of the steps that ran, in order (reported in `x-tappass-pipeline-steps`).
    pub steps_run: Vec<&'static str>,
}

impl Ctx {
    pub fn new(request_id: String, format: WireFormat, raw_body: Bytes) -> Ctx {
        Ctx {
            request_id,
            format,
            started: Instant::now(),
            presented_key: None,
            session_id: format!("ses_{}", uuid::Uuid::new_v4().simple()),
            anthropic_version: None,
            anthropic_beta: None,
            raw_body,
            body: None,
            model: None,
            stream: false,
            agent: None,
            route: None,
            reply: None,
            usage: Usage::default(),
            upstream_latency_ms: None,
            detections: Vec::new(),
            policy: PolicyResult::allow(),
            rejection: None,
            audited: None,
            steps_run: Vec::new(),
        }
    }

    pub fn reject(&mut self, r: Rejection) {
        if self.rejection.is_none() {
            self.rejection = Some(r);
        }
    }
}
