//! The governance pipeline: the whole exchange of one data-plane request, from the presented
//! key to the last byte of a stream.
//!
//! A step is one file in `steps/` implementing [`Step`]; `steps::default_steps` lists them, and
//! that list is the one source of truth for their order. The runner stops at the first refusal
//! and then runs only the steps that must always run (cost tracking, audit), so a refused
//! request is recorded exactly like an answered one.
//!
//! A streamed answer does not leave the pipeline: [`Pipeline::answer`] wraps it in a relay
//! (`stream.rs`) that passes every provider event through the steps' stream hooks, in the same
//! order — scanning, usage, settlement and the completion audit are steps, and the server only
//! renders what comes out.

pub mod content;
mod context;
mod estimate;
pub mod output;
mod record;
pub mod steps;
mod stream;
pub mod tools;
pub mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

pub use crate::refusal::{Kind, Refusal};
pub use context::{AgentIdentity, Ctx, StreamOutcome, StreamState};
pub use record::{completion_event, event_type, request_event};
pub use stream::BodyStream;

use crate::providers::{SseEvent, UpstreamReply};

/// What a step does with the events of a streamed answer.
pub enum Flow {
    /// Pass these on (possibly none, possibly rewritten or with held-back text first).
    Forward(Vec<SseEvent>),
    /// End the stream: this reason goes to the client as an error event and into the audit.
    Stop(String),
}

#[async_trait]
pub trait Step: Send + Sync {
    /// The product's step name (`detect_pii`, `call_llm` …), used in headers, audit and metrics.
    fn name(&self) -> &'static str;
    /// Steps that must run even after a refusal (settlement and audit).
    fn always_runs(&self) -> bool {
        false
    }
    /// Does the step's work. A refusal is recorded with `ctx.reject(…)` / `ctx.block(…)`.
    async fn run(&self, ctx: &mut Ctx);
    /// A streamed answer: the provider's events pass through every step in order; a step may
    /// rewrite them, hold them back, or stop the stream.
    fn on_stream_event(&self, _ctx: &mut Ctx, events: Vec<SseEvent>) -> Flow {
        Flow::Forward(events)
    }
    /// The provider sent its terminal event: release what is held back, or stop.
    fn on_stream_flush(&self, _ctx: &mut Ctx) -> Flow {
        Flow::Forward(Vec::new())
    }
    /// The stream is over, however it ended (`ctx.streaming.outcome`): settle and record.
    async fn on_stream_end(&self, _ctx: &mut Ctx) {}
}

/// What the server renders.
pub enum Answer {
    Refused(Refusal),
    /// A complete answer, scanned.
    Complete(Value),
    /// A streamed answer, governed event by event.
    Stream(BodyStream),
}

/// An ordered set of steps.
#[derive(Clone)]
pub struct Pipeline {
    steps: Arc<[Arc<dyn Step>]>,
}

impl Pipeline {
    /// The steps run in the order given.
    pub fn new(steps: Vec<Arc<dyn Step>>) -> Pipeline {
        Pipeline {
            steps: steps.into(),
        }
    }

    pub fn step_names(&self) -> Vec<&'static str> {
        self.steps.iter().map(|s| s.name()).collect()
    }

    pub async fn run(&self, ctx: &mut Ctx) {
        for step in self.steps.iter() {
            // A step the caller already ran (authentication before the body is read) is done.
            if ctx.steps_run.contains(&step.name()) {
                continue;
            }
            if ctx.rejection.is_some() && !step.always_runs() {
                continue;
            }
            step.run(ctx).await;
            ctx.steps_run.push(step.name());
        }
        // A stream refused after the provider answered (its audit failed) never flows: end it
        // here, so what it reserved is settled.
        if ctx.rejection.is_some() && ctx.streaming.deferred && ctx.streaming.outcome.is_none() {
            ctx.reply = None;
            self.end_stream(ctx, StreamOutcome::Refused).await;
        }
    }

    /// Hands the exchange over for rendering.
    pub fn answer(&self, mut ctx: Ctx) -> Answer {
        if let Some(r) = ctx.rejection.take() {
            return Answer::Refused(r);
        }
        match ctx.reply.take() {
            Some(UpstreamReply::Complete { body, .. }) => Answer::Complete(body),
            Some(UpstreamReply::Stream(events)) => {
                Answer::Stream(stream::relay(self.clone(), ctx, events))
            }
            None => Answer::Refused(Refusal::Internal("the pipeline produced no answer".into())),
        }
    }

    /// Runs the stream hooks of the steps from `from` on: `Err((step, reason))` if one stops.
    fn pass(
        &self,
        ctx: &mut Ctx,
        from: usize,
        mut events: Vec<SseEvent>,
    ) -> Result<Vec<SseEvent>, (&'static str, String)> {
        for step in self.steps.iter().skip(from) {
            if events.is_empty() {
                break;
            }
            match step.on_stream_event(ctx, events) {
                Flow::Forward(evs) => events = evs,
                Flow::Stop(reason) => return Err((step.name(), reason)),
            }
        }
        Ok(events)
    }

    /// Every step releases what it holds, in order; what a step releases passes the later ones.
    fn flush(&self, ctx: &mut Ctx) -> Result<Vec<SseEvent>, (&'static str, String)> {
        let mut out = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            match step.on_stream_flush(ctx) {
                Flow::Forward(evs) => out.extend(self.pass(ctx, i + 1, evs)?),
                Flow::Stop(reason) => return Err((step.name(), reason)),
            }
        }
        Ok(out)
    }

    /// The end of a stream, however it ended: every step's `on_stream_end`, in order.
    async fn end_stream(&self, ctx: &mut Ctx, outcome: StreamOutcome) {
        ctx.streaming.outcome = Some(outcome);
        for step in self.steps.iter() {
            step.on_stream_end(ctx).await;
        }
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
