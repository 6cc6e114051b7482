//! audit: records the request's decision in the hash chain — answered, blocked or failed —
//! and withholds a success until that record is durably committed (fail-closed). A stream gets
//! a second event when it ends (`record::completion_event`).

use async_trait::async_trait;
use serde_json::json;

use crate::audit::event::EventType;
use crate::audit::AuditWriter;
use crate::pipeline::{completion_event, request_event, Ctx, Refusal, Step};

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

#[async_trait]
impl Step for Audit {
    fn name(&self) -> &'static str {
        "audit"
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
                // At DEBUG: the writer logs the cause at ERROR once per episode, and a full
                // disk must not write one journal line per refused request.
                tracing::debug!(request_id = %ctx.request_id, error = %e, "request could not be audited");
                if ctx.rejection.is_none() {
                    // Fail closed: no answer goes out unaudited. Dropping the reply also closes
                    // an upstream stream before a byte of it reached the client.
                    ctx.reply = None;
                    ctx.reject(Refusal::StorageUnavailable);
                }
            }
        }
    }

    /// The completion event, committed before the terminal event is forwarded (the relay
    /// withholds it when this fails), so a client that saw a stream end knows it is on record.
    async fn on_stream_end(&self, ctx: &mut Ctx) {
        // A stream whose request event failed has nothing to complete.
        if ctx.audited.is_none() {
            return;
        }
        if let Err(e) = self.writer.append(completion_event(ctx)).await {
            tracing::debug!(request_id = %ctx.request_id, error = %e, "stream completion could not be audited");
            ctx.streaming.audit_failed = true;
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
