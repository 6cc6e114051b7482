//! The governance pipeline: ordered steps in three phases around the provider call.
//!
//! A step is one file in `steps/` implementing [`Step`]; it is registered in
//! `steps::default_steps`. The runner orders steps by `(phase, position)`, stops at the first
//! refusal and then runs only the steps that must always run (the audit), so a refused request
//! is recorded exactly like an answered one.

pub mod content;
mod context;
pub mod output;
mod rejection;
pub mod steps;
pub mod stream;
pub mod wire;

use std::sync::Arc;

use async_trait::async_trait;

pub use context::{AgentIdentity, Ctx};
pub use rejection::{Kind, Rejection};

/// When a step runs relative to the provider call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Before,
    Call,
    After,
}

#[async_trait]
pub trait Step: Send + Sync {
    /// The product's step name (`detect_pii`, `call_llm` …), used in headers, audit and metrics.
    fn name(&self) -> &'static str;
    fn phase(&self) -> Phase;
    /// Order inside the phase; lower runs first.
    fn position(&self) -> u32;
    /// Steps that must run even after a refusal (only the audit step so far).
    fn always_runs(&self) -> bool {
        false
    }
    /// Does the step's work. A refusal is recorded with `ctx.reject(…)`.
    async fn run(&self, ctx: &mut Ctx);
}

/// An ordered set of steps.
#[derive(Clone)]
pub struct Pipeline {
    steps: Vec<Arc<dyn Step>>,
}

impl Pipeline {
    pub fn new(mut steps: Vec<Arc<dyn Step>>) -> Pipeline {
        steps.sort_by_key(|s| (s.phase(), s.position()));
        Pipeline { steps }
    }

    pub fn step_names(&self) -> Vec<&'static str> {
        self.steps.iter().map(|s| s.name()).collect()
    }

    pub async fn run(&self, ctx: &mut Ctx) {
        for step in &self.steps {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::WireFormat;
    use std::sync::Mutex;

    struct Probe {
        name: &'static str,
        phase: Phase,
        position: u32,
        reject: bool,
        always: bool,
        log: Arc<Mutex<Vec<&'static str>>>,
    }

    #[async_trait]
    impl Step for Probe {
        fn name(&self) -> &'static str {
            self.name
        }
        fn phase(&self) -> Phase {
            self.phase
        }
        fn position(&self) -> u32 {
            self.position
        }
        fn always_runs(&self) -> bool {
            self.always
        }
        async fn run(&self, ctx: &mut Ctx) {
            self.log.lock().unwrap().push(self.name);
            if self.reject {
                ctx.reject(Rejection::new(403, Kind::PolicyBlock, self.name));
            }
        }
    }

    fn probe(
        log: &Arc<Mutex<Vec<&'static str>>>,
        name: &'static str,
        phase: Phase,
        position: u32,
        reject: bool,
        always: bool,
    ) -> Arc<dyn Step> {
        Arc::new(Probe {
            name,
            phase,
            position,
            reject,
            always,
            log: log.clone(),
        })
    }

    fn ctx() -> Ctx {
        Ctx::new("req".into(), WireFormat::OpenAi, Default::default())
    }

    #[tokio::test]
    async fn steps_run_in_phase_then_position_order() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let p = Pipeline::new(vec![
            probe(&log, "audit", Phase::After, 1000, false, true),
            probe(&log, "call", Phase::Call, 0, false, false),
            probe(&log, "b", Phase::Before, 20, false, false),
            probe(&log, "a", Phase::Before, 10, false, false),
        ]);
        let mut c = ctx();
        p.run(&mut c).await;
        assert_eq!(*log.lock().unwrap(), vec!["a", "b", "call", "audit"]);
        assert_eq!(c.steps_run, vec!["a", "b", "call", "audit"]);
    }

    #[tokio::test]
    async fn a_refusal_skips_to_the_always_running_steps() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let p = Pipeline::new(vec![
            probe(&log, "a", Phase::Before, 10, true, false),
            probe(&log, "b", Phase::Before, 20, false, false),
            probe(&log, "call", Phase::Call, 0, false, false),
            probe(&log, "audit", Phase::After, 1000, false, true),
        ]);
        let mut c = ctx();
        p.run(&mut c).await;
        assert_eq!(*log.lock().unwrap(), vec!["a", "audit"]);
        assert_eq!(c.rejection.unwrap().message, "a");
    }

    #[tokio::test]
    async fn a_step_already_run_is_not_run_again() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let p = Pipeline::new(vec![
            probe(&log, "a", Phase::Before, 10, false, false),
            probe(&log, "b", Phase::Before, 20, false, false),
        ]);
        let mut c = ctx();
        c.steps_run.push("a");
        p.run(&mut c).await;
        assert_eq!(*log.lock().unwrap(), vec!["b"]);
    }

    #[tokio::test]
    async fn the_first_refusal_wins() {
        let log = Arc::new(Mutex::new(Vec::new()));
        let p = Pipeline::new(vec![
            probe(&log, "a", Phase::Before, 10, true, false),
            probe(&log, "audit", Phase::After, 1000, true, true),
        ]);
        let mut c = ctx();
        p.run(&mut c).await;
        assert_eq!(c.rejection.unwrap().message, "a");
    }
}
