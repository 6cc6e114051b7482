//! In-process Rego with `regorus`.
//!
//! Loading parses every module, checks that one of them declares `data.tappass.decision`, and
//! prepares (analyzes and schedules) the engine once. Each evaluation clones that prepared
//! prototype — a clone shares the parsed modules and the schedule, so it costs a few
//! microseconds — sets the input and evaluates the rule on the blocking pool.
//!
//! Two deadlines guard an evaluation, both equal to the configured timeout: regorus's
//! cooperative execution timer stops the interpreter itself (so a runaway policy does not keep
//! a blocking thread busy), and `tokio::time::timeout` guarantees the caller its answer even if
//! the interpreter is stuck inside a single builtin. A semaphore bounds the evaluations in
//! flight, including ones whose caller has already given up.

use std::num::NonZeroU32;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use regorus::utils::limits::ExecutionTimerConfig;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::{Decision, PolicyEngine, PolicyError, DECISION_RULE, DEFAULT_TIMEOUT};

/// The longest a request waits for a free evaluation slot.
const QUEUE_WAIT: Duration = Duration::from_secs(5);

/// The package of [`DECISION_RULE`], as `Engine::add_policy` reports it.
const DECISION_PACKAGE: &str = "data.tappass";
/// Interpreter work units between two clock reads of regorus's execution timer.
const TIMER_CHECK_INTERVAL: u32 = 32;

/// Rego policy evaluated in-process.
pub struct RegoEngine {
    /// The prepared engine (policies + data, analyzed); cloned for every evaluation.
    proto: Arc<regorus::Engine>,
    timeout: Duration,
    slots: Arc<Semaphore>,
    sources: Vec<String>,
    /// Test hook: extra time spent inside the blocking evaluation, to exercise the deadline.
    extra_delay: Duration,
}

impl std::fmt::Debug for RegoEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegoEngine")
            .field("sources", &self.sources)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RegoEngine {
    /// Loads every `*.rego` file of `dir` (sorted by name; `*_test.rego` files are skipped) and
    /// `dir/data.json` if present.
    ///
    /// Errors name the file (and line:column for Rego syntax errors). A directory without any
    /// `.rego` file, or whose policies do not define `data.tappass.decision`, is a load error.
    pub fn load(dir: &Path) -> Result<Self, PolicyError> {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| PolicyError::Load(format!("{}: {e}", dir.display())))?;
        let mut files = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| PolicyError::Load(format!("{}: {e}", dir.display())))?;
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // `*_test.rego` files are unit tests for `opa test`, not policy.
            if name.ends_with(".rego") && !name.ends_with("_test.rego") && path.is_file() {
                files.push(path);
            }
        }
        files.sort();
        if files.is_empty() {
            return Err(PolicyError::Load(format!(
                "{}: no *.rego policy files",
                dir.display()
            )));
        }
        let mut policies = Vec::with_capacity(files.len());
        for path in files {
            let text = std::fs::read_to_string(&path)
                .map_err(|e| PolicyError::Load(format!("{}: {e}", path.display())))?;
            policies.push((path.display().to_string(), text));
        }
        let data_path = dir.join("data.json");
        let data = if data_path.is_file() {
            let text = std::fs::read_to_string(&data_path)
                .map_err(|e| PolicyError::Load(format!("{}: {e}", data_path.display())))?;
            let value: Value = serde_json::from_str(&text).map_err(|e| {
                PolicyError::Load(format!(
                    "{}:{}:{}: {e}",
                    data_path.display(),
                    e.line(),
                    e.column()
                ))
            })?;
            Some(value)
        } else {
            None
        };
        Self::from_sources(&policies, data)
    }

    /// Builds an engine from `(name, text)` policy modules and an optional data document (a JSON
    /// object, visible to policies as `data`). Names appear in error messages.
    pub fn from_sources(
        policies: &[(String, String)],
        data: Option<Value>,
    ) -> Result<Self, PolicyError> {
        if policies.is_empty() {
            return Err(PolicyError::Load("no policy modules".into()));
        }
        let mut engine = regorus::Engine::new();
        // Policies are Rego v1 (`if`, `contains`); regorus's default, made explicit.
        engine.set_rego_v0(false);
        // `print()` output is discarded: it could carry request content to the journal.
        engine.set_gather_prints(true);
        let mut names: Vec<String> = Vec::with_capacity(policies.len());
        let mut in_package: Vec<String> = Vec::new();
        for (name, text) in policies {
            if names.contains(name) {
                return Err(PolicyError::Load(format!("{name}: loaded twice")));
            }
            let package = engine
                .add_policy(name.clone(), text.clone())
                .map_err(|e| PolicyError::Load(located(name, &e.to_string())))?;
            if package == DECISION_PACKAGE {
                in_package.push(name.clone());
            }
            names.push(name.clone());
        }
        if let Some(data) = data {
            if !data.is_object() {
                return Err(PolicyError::Load(
                    "data.json: the data document must be a JSON object".into(),
                ));
            }
            engine.add_data(regorus::Value::from(data)).map_err(|e| {
                PolicyError::Load(format!("data.json: {}", one_line(&e.to_string())))
            })?;
        }
        let mut declared = false;
        for name in &in_package {
            // The selector is relative to the module's package.
            declared |= engine
                .has_declared_rule_rooted_at(name, "decision")
                .map_err(|e| PolicyError::Load(located(name, &e.to_string())))?;
        }
        if !declared {
            return Err(PolicyError::Load(format!(
                "no policy module defines {DECISION_RULE} (package tappass, rule `decision`) in {}",
                names.join(", ")
            )));
        }
        // Analyze and schedule once (an unsafe variable or a recursion is reported here), so
        // every clone starts prepared. The trivial query evaluates none of the policy's rules.
        engine
            .eval_query("true".to_string(), false)
            .map_err(|e| PolicyError::Load(located(&names.join(", "), &e.to_string())))?;
        let mut this = RegoEngine {
            proto: Arc::new(engine),
            timeout: DEFAULT_TIMEOUT,
            slots: Arc::new(Semaphore::new(default_concurrency())),
            sources: names,
            extra_delay: Duration::ZERO,
        };
        this.set_timer();
        Ok(this)
    }

    /// Sets the evaluation deadline (default 200 ms). Beyond it, `evaluate` returns
    /// [`PolicyError::Timeout`].
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self.set_timer();
        self
    }

    /// Bounds the evaluations running at once, including ones already past their deadline
    /// (default: 4 × available cores, at least 4). Callers beyond it wait within their deadline.
    pub fn with_max_concurrency(mut self, n: usize) -> Self {
        self.slots = Arc::new(Semaphore::new(n.max(1)));
        self
    }

    /// The evaluation deadline.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Names of the loaded modules (file paths for [`RegoEngine::load`]), in load order.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    #[cfg(test)]
    pub(crate) fn with_extra_delay(mut self, delay: Duration) -> Self {
        self.extra_delay = delay;
        self
    }

    fn set_timer(&mut self) {
        let config = ExecutionTimerConfig {
            limit: self.timeout,
            check_interval: NonZeroU32::new(TIMER_CHECK_INTERVAL).unwrap_or(NonZeroU32::MIN),
        };
        Arc::make_mut(&mut self.proto).set_execution_timer_config(config);
    }
}

fn default_concurrency() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores * 4).max(4)
}

#[async_trait]
impl PolicyEngine for RegoEngine {
    fn backend(&self) -> &'static str {
        "rego"
    }

    async fn evaluate(&self, input: &Value) -> Result<Decision, PolicyError> {
        let timeout = self.timeout;
        let proto = Arc::clone(&self.proto);
        let slots = Arc::clone(&self.slots);
        let input = input.clone();
        let extra_delay = self.extra_delay;
        // Waiting for a slot is not evaluation: under load, requests queue for a slot (bounded
        // by QUEUE_WAIT) and only the evaluation itself is held to `timeout`, so a burst does
        // not turn into a wave of fail-closed timeouts.
        let permit = tokio::time::timeout(QUEUE_WAIT, slots.acquire_owned())
            .await
            .map_err(|_| PolicyError::Timeout(QUEUE_WAIT))?
            .map_err(|_| PolicyError::Eval("policy engine is shut down".into()))?;
        let run = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            if !extra_delay.is_zero() {
                std::thread::sleep(extra_delay);
            }
            evaluate_blocking(&proto, input, timeout)
        });
        match tokio::time::timeout(timeout, run).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(PolicyError::Eval(format!("evaluation aborted: {e}"))),
            Err(_) => Err(PolicyError::Timeout(timeout)),
        }
    }
}

fn evaluate_blocking(
    proto: &regorus::Engine,
    input: Value,
    timeout: Duration,
) -> Result<Decision, PolicyError> {
    let mut engine = proto.clone();
    engine.set_input(regorus::Value::from(input));
    let value = match engine.eval_rule(DECISION_RULE.to_string()) {
        Ok(value) => value,
        Err(e) => {
            let time_limit = e.chain().any(|cause| {
                matches!(
                    cause.downcast_ref::<regorus::LimitError>(),
                    Some(regorus::LimitError::TimeLimitExceeded { .. })
                )
            });
            return Err(if time_limit {
                PolicyError::Timeout(timeout)
            } else {
                PolicyError::Eval(one_line(&e.to_string()))
            });
        }
    };
    if matches!(value, regorus::Value::Undefined) {
        return Err(PolicyError::BadDecision(format!(
            "{DECISION_RULE} is undefined for this input"
        )));
    }
    let json = serde_json::to_value(&value)
        .map_err(|e| PolicyError::BadDecision(format!("{DECISION_RULE} is not JSON: {e}")))?;
    Decision::from_value(json)
}

/// Regorus errors are multi-line source excerpts:
///
/// ```text
/// --> policy.rego:4:1
///   |
/// 4 | decision := {
///   | ^
/// error: expecting `}` while parsing object
/// ```
///
/// This turns them into one line, `policy.rego:4:1: expecting `}` while parsing object`.
fn one_line(msg: &str) -> String {
    let location = msg
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("--> "))
        .map(str::trim);
    let error = msg
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("error: "))
        .map(str::trim);
    match (location, error) {
        (Some(loc), Some(err)) => format!("{loc}: {err}"),
        (None, Some(err)) => err.to_string(),
        _ => msg
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// [`one_line`], and prefixed with `name` unless the message already says where it is.
fn located(name: &str, msg: &str) -> String {
    let line = one_line(msg);
    if line.starts_with(name) {
        line
    } else {
        format!("{name}: {line}")
    }
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn one_line_keeps_location_and_message() {
        let msg =
            "\n--> policy.rego:4:1\n  |\n4 | \n  | ^\nerror: expecting `}` while parsing object";
        assert_eq!(
            one_line(msg),
            "policy.rego:4:1: expecting `}` while parsing object"
        );
        assert_eq!(
            located("policy.rego", msg),
            "policy.rego:4:1: expecting `}` while parsing object"
        );
        assert_eq!(
            located("a.rego", "not a valid rule path"),
            "a.rego: not a valid rule path"
        );
    }
}
