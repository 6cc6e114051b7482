//! The relay of a streamed answer: the pipeline's steps, event by event.
//!
//! The request's event was committed before the first byte (the audit step's `run`). Each
//! provider event then passes every step's `on_stream_event` in pipeline order; at the
//! provider's terminal event (`data: [DONE]` / `message_stop`) the steps release what they hold
//! (`on_stream_flush`), and the stream ends (`on_stream_end`: settlement, the completion event)
//! *before* the terminal event is forwarded, so a client that saw the end of the stream knows
//! it is on record. A stream that breaks, that a step stops, or whose client goes away ends the
//! same way, with its outcome recorded.

use std::convert::Infallible;
use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::json;

use super::{Ctx, Pipeline, StreamOutcome};
use crate::providers::{EventStream, SseEvent, WireFormat};

/// The body of a streamed answer, as the server sends it.
pub type BodyStream = Pin<Box<dyn Stream<Item = Result<Bytes, Infallible>> + Send>>;

/// A stream in flight. Dropped before its end (the client went away), it ends the exchange in a
/// task of its own: `client_closed`, settled and audited.
struct Relay {
    pipeline: Pipeline,
    upstream: EventStream,
    /// `None` once the stream has ended.
    ctx: Option<Ctx>,
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(ctx) = self.ctx.take() {
            let pipeline = self.pipeline.clone();
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let mut ctx = ctx;
                    pipeline
                        .end_stream(&mut ctx, StreamOutcome::ClientClosed)
                        .await;
                });
            }
        }
    }
}

impl Relay {
    /// Ends the stream in a task of its own, so a client hanging up meanwhile cannot cut the
    /// settlement or the completion event short.
    async fn end(&mut self, outcome: StreamOutcome) -> Option<Ctx> {
        let mut ctx = self.ctx.take()?;
        let pipeline = self.pipeline.clone();
        let task = tokio::spawn(async move {
            pipeline.end_stream(&mut ctx, outcome).await;
            ctx
        });
        task.await.ok()
    }

    /// A step stopped the stream: record why, end it, tell the client.
    async fn stop(&mut self, step: &'static str, reason: String) -> Bytes {
        let format = self.format();
        if let Some(ctx) = self.ctx.as_mut() {
            ctx.streaming.stopped_by = Some((step, reason.clone()));
        }
        self.end(StreamOutcome::Blocked).await;
        error_event(format, &format!("Response blocked by policy: {reason}")).encode()
    }

    fn format(&self) -> WireFormat {
        self.ctx.as_ref().map_or(WireFormat::OpenAi, |c| c.format)
    }

    /// The next piece of the body, or `None` at its end.
    async fn next(&mut self) -> Option<Bytes> {
        let format = self.ctx.as_ref()?.format;
        match self.upstream.next().await {
            Some(Ok(ev)) if is_terminal(format, &ev) => {
                let flushed = self.pipeline.flush(self.ctx.as_mut()?);
                let mut out = match flushed {
                    Ok(events) => events,
                    Err((step, reason)) => return Some(self.stop(step, reason).await),
                };
                let ctx = self.end(StreamOutcome::Completed).await;
                if ctx.is_some_and(|c| !c.streaming.audit_failed) {
                    out.push(ev);
                } else {
                    out.push(error_event(
                        format,
                        "the end of this stream could not be audited",
                    ));
                }
                Some(encode_all(&out))
            }
            Some(Ok(ev)) => {
                let passed = self.pipeline.pass(self.ctx.as_mut()?, 0, vec![ev]);
                match passed {
                    Ok(events) => Some(encode_all(&events)),
                    Err((step, reason)) => Some(self.stop(step, reason).await),
                }
            }
            Some(Err(e)) => {
                self.end(StreamOutcome::UpstreamError).await;
                Some(error_event(format, &e.to_string()).encode())
            }
            None => {
                self.end(StreamOutcome::UpstreamIncomplete).await;
                None
            }
        }
    }
}

/// Wraps the provider's `upstream` into the client's body, governed by `pipeline`'s steps.
pub(super) fn relay(pipeline: Pipeline, ctx: Ctx, upstream: EventStream) -> BodyStream {
    let relay = Relay {
        pipeline,
        upstream,
        ctx: Some(ctx),
    };
    Box::pin(futures_util::stream::unfold(
        relay,
        |mut relay| async move {
            let bytes = relay.next().await?;
            Some((Ok(bytes), relay))
        },
    ))
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

/// An error as the last event of a stream, in the client's format.
fn error_event(format: WireFormat, message: &str) -> SseEvent {
    match format {
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
