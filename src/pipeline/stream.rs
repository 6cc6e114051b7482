//! Relaying a provider's stream to the client while keeping the audit promise.
//!
//! The request's event was committed before the first byte (audit step). This relay forwards
//! events as they arrive, folds in token usage, and commits a completion event *before* it
//! forwards the terminal event (`data: [DONE]` / `message_stop`), so a client that saw the end
//! of the stream knows it is on record. A stream that breaks, or a client that goes away, still
//! leaves a completion event saying so.

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};

use crate::audit::event::{AuditEvent, Cost, Detection, EventType};
use crate::audit::AuditWriter;
use crate::pipeline::output::{StreamScanner, Verdict};
use crate::pipeline::steps::cost_tracking::Settle;
use crate::providers::{EventStream, SseEvent, Usage, WireFormat};

/// How a relayed stream ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Completed,
    UpstreamIncomplete,
    UpstreamError,
    ClientClosed,
    /// scan_output or a tool check stopped the stream.
    Blocked,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::UpstreamIncomplete => "upstream_incomplete",
            Outcome::UpstreamError => "upstream_error",
            Outcome::ClientClosed => "client_closed",
            Outcome::Blocked => "blocked",
        }
    }
}

/// What the relay needs besides the stream itself.
pub struct RelayOptions {
    /// Output DLP and tool checks, chunk by chunk.
    pub scanner: Option<StreamScanner>,
    /// Budget settlement and token accounting (from cost_tracking).
    pub settle: Option<Settle>,
    /// Usage to settle at when the provider reported none (a stream cut short, a client gone):
    /// the reservation's own estimate, an upper bound, so a stream is never settled below
    /// what it may have cost.
    pub fallback_usage: Usage,
    /// The gateway asked an OpenAI provider for the usage chunk the client did not ask for:
    /// it is read and not forwarded.
    pub hide_usage_chunk: bool,
}

/// The relay's state; dropping it before the end records `client_closed`.
struct Relay {
    upstream: EventStream,
    format: WireFormat,
    writer: AuditWriter,
    /// Copied into the completion event (agent, session, model, provider, request id).
    template: AuditEvent,
    usage: Usage,
    /// Output DLP and tool checks, chunk by chunk.
    scanner: Option<StreamScanner>,
    /// Why the stream was stopped, if it was.
    stop_reason: Option<String>,
    /// Budget settlement and token accounting, once usage is known (from cost_tracking).
    settle: Option<Settle>,
    fallback_usage: Usage,
    hide_usage_chunk: bool,
    finished: bool,
}

impl Relay {
    /// The usage to settle and record: the provider's, or the fallback when it sent none.
    fn settled_usage(&self) -> (Usage, bool) {
        if self.usage == Usage::default() {
            (self.fallback_usage, true)
        } else {
            (self.usage, false)
        }
    }

    fn completion_event(&self, outcome: Outcome, cost_micros: u64) -> AuditEvent {
        let mut e = AuditEvent::new(EventType::LlmStreamCompleted);
        e.request_id = self.template.request_id.clone();
        e.agent_id = self.template.agent_id.clone();
        e.key_id = self.template.key_id.clone();
        e.session_id = self.template.session_id.clone();
        e.provider = self.template.provider.clone();
        e.model = self.template.model.clone();
        e.stream = Some(true);
        let (usage, estimated) = self.settled_usage();
        e.cost = Cost {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            usd_micros: cost_micros,
        };
        e.details =
            json!({"outcome": outcome.as_str(), "request_audit_id": self.template.audit_id});
        if estimated {
            e.details["usage_estimated"] = json!(true);
        }
        if let Some(reason) = &self.stop_reason {
            e.details["reason"] = json!(reason);
            e.policy_result = crate::audit::event::PolicyResult::deny("scan_output");
        }
        if let Some(sc) = &self.scanner {
            let kinds: std::collections::BTreeSet<&str> = sc.kinds.iter().copied().collect();
            for k in kinds {
                e.detections.push(Detection {
                    kind: k.to_string(),
                    count: sc.kinds.iter().filter(|x| **x == k).count() as u32,
                    step: "scan_output".into(),
                });
            }
        }
        e
    }

    async fn finish(&mut self, outcome: Outcome) -> bool {
        self.finished = true;
        let cost = match self.settle.take() {
            Some(settle) => settle(self.settled_usage().0).await,
            None => 0,
        };
        let event = self.completion_event(outcome, cost);
        match self.writer.append(event).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(error = %e, "stream completion could not be audited");
                false
            }
        }
    }

    /// Ends the stream because a check refused it: audit, then an error event for the client.
    async fn stop(&mut self, reason: String) -> Bytes {
        self.stop_reason = Some(reason.clone());
        self.finish(Outcome::Blocked).await;
        self.error_event(&format!("Response blocked by policy: {reason}"))
            .encode()
    }

    fn error_event(&self, message: &str) -> SseEvent {
        match self.format {
            WireFormat::OpenAi => SseEvent::data(
                json!({"error": {"message": message, "type": "upstream_error"}}).to_string(),
            ),
            WireFormat::Anthropic => SseEvent::named(
                "error",
                json!({"type": "error", "error": {"type": "api_error", "message": message}})
                    .to_string(),
            ),
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if !self.finished {
            let mut event = self.completion_event(Outcome::ClientClosed, 0);
            let writer = self.writer.clone();
            let settle = self.settle.take();
            let usage = self.settled_usage().0;
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    if let Some(settle) = settle {
                        event.cost.usd_micros = settle(usage).await;
                    }
                    if let Err(e) = writer.append(event).await {
                        tracing::error!(error = %e, "closed stream could not be audited");
                    }
                });
            }
        }
    }
}

fn is_terminal(format: WireFormat, ev: &SseEvent) -> bool {
    match format {
        WireFormat::OpenAi => ev.data.trim() == "[DONE]",
        WireFormat::Anthropic => ev.event.as_deref() == Some("message_stop"),
    }
}

fn encode_all(events: &[SseEvent]) -> Bytes {
    let mut out = Vec::new();
    for e in events {
        out.extend_from_slice(&e.encode());
    }
    Bytes::from(out)
}

/// OpenAI's usage-only chunk (`choices: []`, `usage: {…}`), sent last with `include_usage`.
fn is_usage_chunk(v: &Value) -> bool {
    v.get("choices")
        .and_then(Value::as_array)
        .is_some_and(|c| c.is_empty())
        && v.get("usage").is_some_and(Value::is_object)
}

/// Wraps `upstream` into the client's body stream.
pub fn relay(
    upstream: EventStream,
    format: WireFormat,
    writer: AuditWriter,
    template: AuditEvent,
    options: RelayOptions,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    let relay = Relay {
        upstream,
        format,
        writer,
        template,
        usage: Usage::default(),
        scanner: options.scanner,
        stop_reason: None,
        settle: options.settle,
        fallback_usage: options.fallback_usage,
        hide_usage_chunk: options.hide_usage_chunk,
        finished: false,
    };
    futures_util::stream::unfold(Some(relay), |state| async move {
        let mut relay = state?;
        if relay.finished {
            return None;
        }
        match relay.upstream.next().await {
            Some(Ok(ev)) => {
                if let Ok(v) = serde_json::from_str::<Value>(&ev.data) {
                    relay.usage.absorb(relay.format, &v);
                    if relay.hide_usage_chunk && is_usage_chunk(&v) {
                        return Some((Ok(Bytes::new()), Some(relay)));
                    }
                }
                if is_terminal(relay.format, &ev) {
                    let mut out = Vec::new();
                    if let Some(sc) = relay.scanner.as_mut() {
                        match sc.finish() {
                            Verdict::Forward(evs) => out.extend(evs),
                            Verdict::Stop(reason) => {
                                return Some((Ok(relay.stop(reason).await), Some(relay)))
                            }
                        }
                    }
                    if relay.finish(Outcome::Completed).await {
                        out.push(ev);
                    } else {
                        out.push(relay.error_event("the end of this stream could not be audited"));
                    }
                    return Some((Ok(encode_all(&out)), Some(relay)));
                }
                let verdict = match relay.scanner.as_mut() {
                    Some(sc) => sc.on_event(ev),
                    None => Verdict::Forward(vec![ev]),
                };
                match verdict {
                    Verdict::Forward(evs) => Some((Ok(encode_all(&evs)), Some(relay))),
                    Verdict::Stop(reason) => Some((Ok(relay.stop(reason).await), Some(relay))),
                }
            }
            Some(Err(e)) => {
                relay.finish(Outcome::UpstreamError).await;
                let bytes = relay.error_event(&e.to_string()).encode();
                Some((Ok(bytes), Some(relay)))
            }
            None => {
                relay.finish(Outcome::UpstreamIncomplete).await;
                None
            }
        }
    })
}
