//! The request context that flows through the pipeline's steps.

use std::time::Instant;

use bytes::Bytes;
use secrecy::SecretString;
use serde_json::Value;

use super::Refusal;
use crate::audit::event::{Detection, PolicyResult};
use crate::audit::Receipt;
use crate::detect::classify::Classification;
use crate::detect::EntityKind;
use crate::governance::flags::{FlagError, FlagSet, Flags, Mode};
use crate::governance::Governance;
use crate::limits::LimitError;
use crate::providers::{Route, UpstreamReply, Usage, WireFormat};

/// The authenticated caller of a data-plane request.
#[derive(Debug, Clone)]
pub struct AgentIdentity {
    pub agent_id: String,
    pub key_id: String,
    /// Flags this agent may loosen (its own grants; the server's are in `Governance`).
    pub flag_grants: crate::governance::flags::Grants,
}

/// How a streamed answer ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamOutcome {
    Completed,
    /// The provider's stream ended without its terminal event.
    UpstreamIncomplete,
    UpstreamError,
    ClientClosed,
    /// A step (scan_output, a tool check) stopped it.
    Blocked,
    /// The request was refused after the provider answered (its audit failed): never relayed.
    Refused,
}

impl StreamOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamOutcome::Completed => "completed",
            StreamOutcome::UpstreamIncomplete => "upstream_incomplete",
            StreamOutcome::UpstreamError => "upstream_error",
            StreamOutcome::ClientClosed => "client_closed",
            StreamOutcome::Blocked => "blocked",
            StreamOutcome::Refused => "refused",
        }
    }
}

/// What the steps' stream hooks share while a streamed answer flows.
#[derive(Default)]
pub struct StreamState {
    /// Set when the stream is over.
    pub outcome: Option<StreamOutcome>,
    /// The step that stopped the stream, and why.
    pub stopped_by: Option<(&'static str, String)>,
    /// Findings in the answer (for the completion event).
    pub detections: Vec<Detection>,
    /// scan_output's scanner (hold-back buffers per channel).
    pub scanner: Option<crate::pipeline::output::StreamScanner>,
    /// cost_tracking deferred the settlement to the end of the stream.
    pub deferred: bool,
    /// Usage to settle at when the provider reports none (a stream cut short, a client gone):
    /// the reservation's own estimate, an upper bound, so a stream is never settled below
    /// what it may have cost.
    pub fallback_usage: Usage,
    /// The settled usage is that estimate.
    pub usage_estimated: bool,
    /// call_llm asked an OpenAI provider for the usage chunk the client did not ask for: it is
    /// read and not forwarded.
    pub hide_usage_chunk: bool,
    /// The completion event could not be committed: the terminal event is not forwarded.
    pub audit_failed: bool,
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
    /// The governance settings this request runs under (one config generation throughout).
    pub gov: std::sync::Arc<Governance>,
    /// `X-TapPass-Flags` as parsed (an error is refused by `validate_input`).
    pub requested_flags: Result<FlagSet, FlagError>,
    /// Effective flags (server defaults, locks, request).
    pub flags: Flags,
    /// Locked flags the request tried to loosen (ignored, audited).
    pub flags_ignored: Vec<&'static str>,
    /// Would-be blocks in `observe` / `warn` mode.
    pub warnings: Vec<String>,
    pub classification: Classification,
    pub injection_score: f32,
    /// Placeholder → original value, for `pii_restore`.
    pub masked: Vec<(String, String)>,
    /// Cost of the call in micro-USD (estimated before, actual after).
    pub cost_micros: u64,
    /// Tools the request declares (validate_input, from the typed model).
    pub tools: Vec<String>,
    /// Where the texts of the request are (validate_input, from the typed model): what the
    /// detectors scan and rewrite.
    pub texts: std::sync::Arc<crate::pipeline::content::Texts>,
    /// Obligations the policy attached to its decision (recorded in the audit event).
    pub obligations: Vec<serde_json::Value>,
    /// The budget reservation to settle after the call (set by the budget step).
    pub reservation: Option<crate::limits::Reservation>,
    /// A streamed answer's state, shared by the steps' stream hooks.
    pub streaming: StreamState,
    /// Set by the first step that refuses the request; later steps then only run if they
    /// `always_run` (the audit step).
    pub rejection: Option<Refusal>,
    /// The request's audit event, once durable (in the database or the spool).
    pub audited: Option<Receipt>,
    /// Names of the steps that ran, in order (reported in `x-tappass-pipeline-steps`).
    pub steps_run: Vec<&'static str>,
    /// Set by the HTTP layer when the client went away before its answer: the exchange still
    /// runs to its audit event and settlement, which record the disconnect.
    pub client_gone: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Ctx {
    pub fn new(request_id: String, format: WireFormat, raw_body: Bytes) -> Ctx {
        Ctx::with_governance(request_id, format, raw_body, Default::default())
    }

    pub fn with_governance(
        request_id: String,
        format: WireFormat,
        raw_body: Bytes,
        gov: std::sync::Arc<Governance>,
    ) -> Ctx {
        let flags = gov.default_flags.clone();
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
            gov,
            requested_flags: Ok(FlagSet::default()),
            flags,
            flags_ignored: Vec::new(),
            warnings: Vec::new(),
            classification: Classification::Public,
            injection_score: 0.0,
            masked: Vec::new(),
            cost_micros: 0,
            tools: Vec::new(),
            texts: Default::default(),
            obligations: Vec::new(),
            reservation: None,
            streaming: StreamState::default(),
            rejection: None,
            audited: None,
            steps_run: Vec::new(),
            client_gone: Default::default(),
        }
    }

    /// Did the client go away before its answer?
    pub fn client_disconnected(&self) -> bool {
        self.client_gone.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn reject(&mut self, r: Refusal) {
        if self.rejection.is_none() {
            self.rejection = Some(r);
        }
    }

    /// A step wants to refuse the request. In `enforce` and `lockdown` it is refused (403
    /// `policy_block`); in `observe` and `warn` it goes on and the would-be block is recorded.
    pub fn block(&mut self, step: &'static str, reason: String) {
        match self.flags.mode {
            Mode::Enforce | Mode::Lockdown => self.reject(Refusal::PolicyBlock { step, reason }),
            Mode::Observe | Mode::Warn => self.warnings.push(format!("{step}: {reason}")),
        }
    }

    /// The limits backend did not answer: refused (503), or — with `[redis] fail_open`, an
    /// operator's explicit choice — let through unlimited, logged and recorded as a warning.
    pub fn limits_unavailable(&mut self, e: &LimitError, fail_open: bool, step: &'static str) {
        if fail_open {
            tracing::warn!(error = %e, step, "limits backend unavailable: letting the request through UNLIMITED ([redis] fail_open = true)");
            self.warnings
                .push(format!("{step}: limits backend unavailable, not enforced"));
        } else {
            tracing::error!(error = %e, step, "limits backend unavailable: refusing the request");
            self.reject(Refusal::LimitsUnavailable);
        }
    }

    /// Records every finding in `kinds` (one entry per finding) for `step`; returns the
    /// distinct kinds, sorted, for messages.
    pub fn detected_all(&mut self, kinds: &[EntityKind], step: &str) -> Vec<EntityKind> {
        let mut distinct = kinds.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        for k in &distinct {
            let n = kinds.iter().filter(|x| *x == k).count() as u32;
            self.detected(*k, n, step);
        }
        distinct
    }

    /// Adds `n` findings of `kind` by `step` to the audit record (aggregated, never values).
    pub fn detected(&mut self, kind: EntityKind, count: u32, step: &str) {
        let kind = kind.as_str();
        if count == 0 {
            return;
        }
        match self
            .detections
            .iter_mut()
            .find(|d| d.kind == kind && d.step == step)
        {
            Some(d) => d.count += count,
            None => self.detections.push(crate::audit::event::Detection {
                kind: kind.to_string(),
                count,
                step: step.to_string(),
            }),
        }
    }
}
