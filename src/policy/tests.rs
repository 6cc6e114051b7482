//! Tests of the policy module: both backends (OPA against a fake server started here), the
//! cache, and the default policy that ships.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{json, Value};

use super::*;

// ---------------------------------------------------------------------------------------------
// helpers

fn rego(text: &str) -> RegoEngine {
    RegoEngine::from_sources(&[("test.rego".to_string(), text.to_string())], None)
        .unwrap_or_else(|e| panic!("policy should load: {e}"))
}

fn rego_err(text: &str) -> PolicyError {
    RegoEngine::from_sources(&[("test.rego".to_string(), text.to_string())], None)
        .expect_err("policy should not load")
}

fn default_engine() -> RegoEngine {
    RegoEngine::from_sources(
        &[(DEFAULT_POLICY_NAME.to_string(), DEFAULT_POLICY.to_string())],
        None,
    )
    .expect("the default policy loads")
}

/// A request input as the gateway builds it, allowed by the default policy.
fn gateway_input() -> Value {
    json!({
        "agent": {"id": "research-bot", "key_id": "key_01"},
        "request": {"format": "openai", "model": "gpt-4o-mini", "provider": "openai", "stream": false},
        "detections": [{"type": "EMAIL", "count": 2, "step": "detect_pii"}],
        "classification": "INTERNAL",
        "injection_score": 0.1,
        "flags": {"mode": "enforce", "pii": "mask"},
        "tools": ["search"],
        "session": {"id": "ses_1", "turn": 1}
    })
}

const ALLOW_OR_DENY: &str = r#"
package tappass

default decision := {"allow": true}

decision := {"allow": false, "reason": "model not allowed", "rule": "model_allowlist"} if {
    not input.request.model in {"gpt-4o-mini"}
}
"#;

// ---------------------------------------------------------------------------------------------
// Decision shape

#[test]
fn decision_shape_is_checked() {
    let d = Decision::from_value(json!({"allow": true})).unwrap();
    assert_eq!(d, Decision::allow());
    let d = Decision::from_value(json!({
        "allow": false, "reason": "r", "rule": "x", "obligations": [{"type": "log_full"}], "extra": 1
    }))
    .unwrap();
    assert!(!d.allow);
    assert_eq!(d.reason.as_deref(), Some("r"));
    assert_eq!(d.rule.as_deref(), Some("x"));
    assert_eq!(d.obligations, vec![json!({"type": "log_full"})]);
    let d =
        Decision::from_value(json!({"allow": true, "reason": null, "obligations": null})).unwrap();
    assert_eq!(d, Decision::allow());

    for bad in [
        json!(true),
        json!("allow"),
        json!([]),
        json!({}),
        json!({"allow": "true"}),
        json!({"allow": 1}),
        json!({"allow": true, "reason": 3}),
        json!({"allow": true, "rule": {"name": "x"}}),
        json!({"allow": true, "obligations": {"type": "x"}}),
    ] {
        match Decision::from_value(bad.clone()) {
            Err(PolicyError::BadDecision(msg)) => assert!(msg.contains("data.tappass.decision")),
            other => panic!("{bad} gave {other:?}"),
        }
    }
}

#[test]
fn error_kinds_are_stable() {
    assert_eq!(PolicyError::Load("x".into()).kind(), "load");
    assert_eq!(PolicyError::Eval("x".into()).kind(), "eval");
    assert_eq!(
        PolicyError::Timeout(Duration::from_millis(1)).kind(),
        "timeout"
    );
    assert_eq!(PolicyError::Unavailable("x".into()).kind(), "unavailable");
    assert_eq!(PolicyError::BadDecision("x".into()).kind(), "bad_decision");
}

// ---------------------------------------------------------------------------------------------
// Rego backend

#[tokio::test]
async fn rego_allows() {
    let engine = rego(ALLOW_OR_DENY);
    assert_eq!(engine.backend(), "rego");
    assert_eq!(engine.timeout(), DEFAULT_TIMEOUT);
    let d = engine.evaluate(&gateway_input()).await.unwrap();
    assert_eq!(d, Decision::allow());
}

#[tokio::test]
async fn rego_denies_with_reason_and_rule() {
    let engine = rego(ALLOW_OR_DENY);
    let mut input = gateway_input();
    input["request"]["model"] = json!("gpt-4o");
    let d = engine.evaluate(&input).await.unwrap();
    assert_eq!(d, Decision::deny("model_allowlist", "model not allowed"));
}

#[tokio::test]
async fn rego_passes_obligations_and_sets_as_arrays() {
    let engine = rego(
        r#"
package tappass
obligations contains {"type": "log_full"} if input.classification == "CONFIDENTIAL"
obligations contains {"type": "notify", "to": "dpo"} if input.classification == "CONFIDENTIAL"
decision := {"allow": true, "obligations": obligations}
"#,
    );
    let d = engine
        .evaluate(&json!({"classification": "CONFIDENTIAL"}))
        .await
        .unwrap();
    assert!(d.allow);
    assert_eq!(d.obligations.len(), 2);
    assert!(d.obligations.contains(&json!({"type": "log_full"})));
    let d = engine.evaluate(&json!({})).await.unwrap();
    assert!(d.obligations.is_empty());
}

#[tokio::test]
async fn rego_runtime_errors_are_eval() {
    // Division by zero (a builtin error: strict, as the OPA backend asks OPA to be).
    let engine = rego("package tappass\ndecision := {\"allow\": 10 / input.n > 1}\n");
    assert!(engine.evaluate(&json!({"n": 2})).await.unwrap().allow);
    match engine.evaluate(&json!({"n": 0})).await {
        Err(PolicyError::Eval(msg)) => {
            assert!(msg.contains("divide by zero"), "{msg}");
            assert!(msg.contains("test.rego:2:"), "location in {msg}");
            assert!(!msg.contains('\n'), "one line: {msg}");
        }
        other => panic!("expected Eval, got {other:?}"),
    }

    // An unknown function is only found when the rule that calls it is evaluated.
    let engine = rego("package tappass\ndecision := {\"allow\": nope.check(input)}\n");
    match engine.evaluate(&json!({})).await {
        Err(PolicyError::Eval(msg)) => assert!(msg.contains("nope.check"), "{msg}"),
        other => panic!("expected Eval, got {other:?}"),
    }

    // Two complete definitions producing different values.
    let engine = rego(
        r#"
package tappass
decision := {"allow": true} if input.a
decision := {"allow": false} if input.b
"#,
    );
    assert!(engine.evaluate(&json!({"a": true})).await.unwrap().allow);
    assert!(matches!(
        engine.evaluate(&json!({"a": true, "b": true})).await,
        Err(PolicyError::Eval(_))
    ));
}

#[tokio::test]
async fn rego_undefined_or_malformed_decision_is_bad_decision() {
    let engine = rego("package tappass\ndecision := {\"allow\": true} if input.ok\n");
    assert!(engine.evaluate(&json!({"ok": true})).await.unwrap().allow);
    match engine.evaluate(&json!({})).await {
        Err(PolicyError::BadDecision(msg)) => assert!(msg.contains("undefined"), "{msg}"),
        other => panic!("expected BadDecision, got {other:?}"),
    }

    for text in [
        "package tappass\ndecision := true\n",
        "package tappass\ndecision := {\"allow\": \"yes\"}\n",
        "package tappass\ndecision := {\"deny\": false}\n",
        "package tappass\ndecision := {\"allow\": true, \"reason\": 42}\n",
    ] {
        let engine = rego(text);
        assert!(
            matches!(
                engine.evaluate(&json!({})).await,
                Err(PolicyError::BadDecision(_))
            ),
            "{text}"
        );
    }
}

#[test]
fn rego_load_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a_ok.rego"), ALLOW_OR_DENY).unwrap();
    std::fs::write(
        dir.path().join("b_broken.rego"),
        "package tappass\n\nextra := {\"x\": 1\n",
    )
    .unwrap();
    let err = RegoEngine::load(dir.path()).unwrap_err();
    let PolicyError::Load(msg) = &err else {
        panic!("expected Load, got {err:?}");
    };
    assert!(msg.contains("b_broken.rego:4:"), "file and line in {msg}");
    assert!(!msg.contains('\n'), "one line: {msg}");
    assert!(err.to_string().starts_with("policy load failed: "));

    // Rego v0 syntax is refused with a pointer at the rule.
    match rego_err("package tappass\n\ndecision = x { x := {\"allow\": true} }\n") {
        PolicyError::Load(msg) => assert!(msg.starts_with("test.rego:3:"), "{msg}"),
        other => panic!("expected Load, got {other:?}"),
    }
}

#[test]
fn rego_load_refuses_a_policy_set_without_decision() {
    match rego_err("package tappass\nallow := true\n") {
        PolicyError::Load(msg) => assert!(msg.contains("data.tappass.decision"), "{msg}"),
        other => panic!("expected Load, got {other:?}"),
    }
    match rego_err("package other\ndecision := {\"allow\": true}\n") {
        PolicyError::Load(msg) => assert!(msg.contains("data.tappass.decision"), "{msg}"),
        other => panic!("expected Load, got {other:?}"),
    }
    assert!(matches!(
        RegoEngine::from_sources(&[], None),
        Err(PolicyError::Load(_))
    ));
    let twice = vec![
        ("a.rego".to_string(), ALLOW_OR_DENY.to_string()),
        ("a.rego".to_string(), ALLOW_OR_DENY.to_string()),
    ];
    assert!(matches!(
        RegoEngine::from_sources(&twice, None),
        Err(PolicyError::Load(_))
    ));
}

#[test]
fn rego_load_dir_errors() {
    let dir = tempfile::tempdir().unwrap();
    match RegoEngine::load(dir.path()).unwrap_err() {
        PolicyError::Load(msg) => assert!(msg.contains("no *.rego"), "{msg}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        RegoEngine::load(&dir.path().join("missing")),
        Err(PolicyError::Load(_))
    ));

    std::fs::write(dir.path().join("p.rego"), ALLOW_OR_DENY).unwrap();
    std::fs::write(dir.path().join("data.json"), "{\n  \"models\": [\n}").unwrap();
    match RegoEngine::load(dir.path()).unwrap_err() {
        PolicyError::Load(msg) => assert!(msg.contains("data.json:3:"), "{msg}"),
        other => panic!("{other:?}"),
    }
    std::fs::write(dir.path().join("data.json"), "[1, 2]").unwrap();
    match RegoEngine::load(dir.path()).unwrap_err() {
        PolicyError::Load(msg) => assert!(msg.contains("data.json"), "{msg}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn rego_load_dir_reads_sorted_policies_and_data() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("20-decision.rego"),
        r#"
package tappass
import data.tappass.models

default decision := {"allow": false, "rule": "model_allowlist", "reason": "model not allowed"}
decision := {"allow": true} if models.allowed
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("10-models.rego"),
        r#"
package tappass.models
allowed if input.request.model in data.allowed_models
"#,
    )
    .unwrap();
    std::fs::write(dir.path().join("README.md"), "not a policy").unwrap();
    std::fs::write(
        dir.path().join("data.json"),
        r#"{"allowed_models": ["gpt-4o-mini", "claude-3-5-haiku"]}"#,
    )
    .unwrap();
    let engine = RegoEngine::load(dir.path()).unwrap();
    let names: Vec<&str> = engine
        .sources()
        .iter()
        .map(|s| s.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names, ["10-models.rego", "20-decision.rego"]);
    assert!(engine.evaluate(&gateway_input()).await.unwrap().allow);
    let mut input = gateway_input();
    input["request"]["model"] = json!("o1");
    let d = engine.evaluate(&input).await.unwrap();
    assert_eq!(d.rule.as_deref(), Some("model_allowlist"));
}

/// The builtins docs/policy.md promises for the in-process backend (a dropped regorus feature
/// shows up here).
#[tokio::test]
async fn rego_documented_builtins_are_available() {
    let engine = rego(
        r#"
package tappass

ok contains "regex" if regex.match(`^gpt-4o(-mini)?$`, input.request.model)
ok contains "glob" if glob.match("gpt-*", [], input.request.model)
ok contains "time" if time.now_ns() > 0
ok contains "base64" if base64.decode("aGk=") == "hi"
ok contains "base64url" if base64url.encode_no_pad("hi") == "aGk"
ok contains "hex" if hex.encode("hi") == "6869"
ok contains "net" if net.cidr_contains("10.0.0.0/8", "10.1.2.3")
ok contains "semver" if semver.compare("1.2.3", "1.10.0") == -1
ok contains "urlquery" if urlquery.encode("a b") == "a+b"
ok contains "walk" if count([p | walk(input.request, [p, _])]) > 1
ok contains "json" if json.unmarshal(json.marshal({"a": 1})) == {"a": 1}
ok contains "object" if object.get(input, ["flags", "mode"], "none") == "enforce"
ok contains "sprintf" if sprintf("%s/%d", ["a", 1]) == "a/1"

names := {"regex", "glob", "time", "base64", "base64url", "hex", "net", "semver", "urlquery", "walk", "json", "object", "sprintf"}

decision := {"allow": count(ok) == count(names), "obligations": [n | some n in names; not n in ok]}
"#,
    );
    let d = engine.evaluate(&gateway_input()).await.unwrap();
    assert!(d.obligations.is_empty(), "failing: {:?}", d.obligations);
    assert!(d.allow);
}

/// The example of docs/policy.md: an extra file extends the default policy's `denials`, with a
/// data.json; `*_test.rego` files are not loaded.
#[tokio::test]
async fn documented_extension_of_the_default_policy() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DEFAULT_POLICY_NAME), DEFAULT_POLICY).unwrap();
    std::fs::write(
        dir.path().join("models.rego"),
        r#"package tappass

model_allowed if not data.model_allowlist[input.agent.id]

model_allowed if input.request.model in data.model_allowlist[input.agent.id]

denials contains {"priority": 4, "rule": "model_allowlist", "reason": "model not allowed for this agent"} if {
	not model_allowed
}
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("data.json"),
        r#"{"model_allowlist": {"research-bot": ["gpt-4o-mini"]}}"#,
    )
    .unwrap();
    // Would not even parse as a policy module of ours; must be skipped.
    std::fs::write(
        dir.path().join("default_test.rego"),
        "package tappass_test\n\nnot rego {",
    )
    .unwrap();
    let engine = RegoEngine::load(dir.path()).unwrap();
    assert_eq!(engine.sources().len(), 2);

    assert!(engine.evaluate(&gateway_input()).await.unwrap().allow);
    let mut input = gateway_input();
    input["request"]["model"] = json!("gpt-4o");
    let d = engine.evaluate(&input).await.unwrap();
    assert_eq!(d.rule.as_deref(), Some("model_allowlist"));
    input["agent"]["id"] = json!("other-bot");
    assert!(engine.evaluate(&input).await.unwrap().allow);
    // The default rules still come first.
    input["agent"]["id"] = json!("research-bot");
    input["injection_score"] = json!(0.9);
    let d = engine.evaluate(&input).await.unwrap();
    assert_eq!(d.rule.as_deref(), Some("prompt_injection"));
}

/// Heavy only when asked: 8·10⁹ iterations, far beyond any deadline.
const HEAVY: &str = r#"
package tappass
n := numbers.range(1, 2000)
decision := {"allow": count([1 | some a in n; some b in n; some c in n]) > 0} if input.heavy
decision := {"allow": true} if not input.heavy
"#;

#[tokio::test]
async fn rego_heavy_policy_times_out_and_stops() {
    let timeout = Duration::from_millis(100);
    // One evaluation slot: the light evaluation below only gets it once the heavy one has
    // really stopped on its blocking thread (regorus's execution timer), not just been
    // abandoned by its caller.
    let engine = rego(HEAVY).with_timeout(timeout).with_max_concurrency(1);
    let started = Instant::now();
    let result = engine.evaluate(&json!({"heavy": true})).await;
    let took = started.elapsed();
    assert_eq!(result, Err(PolicyError::Timeout(timeout)));
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(
        result.unwrap_err().to_string(),
        "policy evaluation timed out after 100ms"
    );

    // Without the interpreter's own timer the heavy evaluation would hold the only slot for
    // minutes; with it, the slot is free again right after the deadline. Retry a few times so
    // that a loaded machine does not make this flaky.
    let mut light = Err(PolicyError::Timeout(timeout));
    for _ in 0..10 {
        light = engine.evaluate(&json!({"heavy": false})).await;
        if light.is_ok() {
            break;
        }
    }
    assert!(
        light.unwrap().allow,
        "the heavy evaluation did not release its slot"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn rego_slow_evaluation_hits_the_caller_deadline() {
    // The test hook sleeps inside the blocking evaluation: the interpreter's own timer never
    // sees it, only the caller-side deadline does.
    let timeout = Duration::from_millis(50);
    let engine = rego(ALLOW_OR_DENY)
        .with_timeout(timeout)
        .with_extra_delay(Duration::from_millis(400));
    let started = Instant::now();
    assert_eq!(
        engine.evaluate(&gateway_input()).await,
        Err(PolicyError::Timeout(timeout))
    );
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn rego_engine_is_shareable_across_tasks() {
    let engine: Arc<dyn PolicyEngine> = Arc::new(rego(ALLOW_OR_DENY));
    let mut tasks = Vec::new();
    for i in 0..32 {
        let engine = Arc::clone(&engine);
        tasks.push(tokio::spawn(async move {
            let mut input = gateway_input();
            if i % 2 == 1 {
                input["request"]["model"] = json!("gpt-4o");
            }
            (i, engine.evaluate(&input).await.unwrap().allow)
        }));
    }
    for t in tasks {
        let (i, allow) = t.await.unwrap();
        assert_eq!(allow, i % 2 == 0);
    }
}

// ---------------------------------------------------------------------------------------------
// the default policy

#[tokio::test]
async fn default_policy_allows_ordinary_requests() {
    let engine = default_engine();
    let d = engine.evaluate(&gateway_input()).await.unwrap();
    assert_eq!(d, Decision::allow());
    // The decision is always defined, even for an empty input.
    assert_eq!(
        engine.evaluate(&json!({})).await.unwrap(),
        Decision::allow()
    );
    // Just under the injection threshold.
    let mut input = gateway_input();
    input["injection_score"] = json!(0.79);
    assert!(engine.evaluate(&input).await.unwrap().allow);
    // RESTRICTED outside lockdown is allowed, with the full-logging obligation.
    input["classification"] = json!("RESTRICTED");
    let d = engine.evaluate(&input).await.unwrap();
    assert!(d.allow);
    assert_eq!(d.obligations, vec![json!({"type": "log_full"})]);
}

#[tokio::test]
async fn default_policy_obliges_full_logging_for_confidential() {
    let engine = default_engine();
    let mut input = gateway_input();
    input["classification"] = json!("CONFIDENTIAL");
    let d = engine.evaluate(&input).await.unwrap();
    assert!(d.allow);
    assert_eq!(d.rule, None);
    assert_eq!(d.obligations, vec![json!({"type": "log_full"})]);
}

#[tokio::test]
async fn default_policy_denies_private_keys() {
    let engine = default_engine();
    let mut input = gateway_input();
    input["detections"] = json!([
        {"type": "EMAIL", "count": 1, "step": "detect_pii"},
        {"type": "PRIVATE_KEY", "count": 1, "step": "detect_secrets"},
        {"type": "PRIVATE_KEY", "count": 2, "step": "scan_output"}
    ]);
    let d = engine.evaluate(&input).await.unwrap();
    assert!(!d.allow);
    assert_eq!(d.rule.as_deref(), Some("private_key"));
    assert!(d.reason.unwrap().contains("private key"));
}

#[tokio::test]
async fn default_policy_denies_prompt_injection() {
    let engine = default_engine();
    for score in [json!(0.8), json!(0.95), json!(1)] {
        let mut input = gateway_input();
        input["injection_score"] = score.clone();
        let d = engine.evaluate(&input).await.unwrap();
        assert!(!d.allow, "score {score}");
        assert_eq!(d.rule.as_deref(), Some("prompt_injection"));
        assert!(d.reason.unwrap().contains("prompt injection"));
    }
}

#[tokio::test]
async fn default_policy_denies_restricted_data_in_lockdown() {
    let engine = default_engine();
    let mut input = gateway_input();
    input["classification"] = json!("RESTRICTED");
    input["flags"]["mode"] = json!("lockdown");
    let d = engine.evaluate(&input).await.unwrap();
    assert!(!d.allow);
    assert_eq!(d.rule.as_deref(), Some("restricted_lockdown"));
    assert!(d.reason.unwrap().contains("RESTRICTED"));
    assert_eq!(d.obligations, vec![json!({"type": "log_full"})]);
    // Lockdown alone does not deny.
    input["classification"] = json!("PUBLIC");
    assert!(engine.evaluate(&input).await.unwrap().allow);
}

#[tokio::test]
async fn default_policy_first_deny_rule_decides() {
    let engine = default_engine();
    let mut input = gateway_input();
    input["classification"] = json!("RESTRICTED");
    input["flags"]["mode"] = json!("lockdown");
    input["injection_score"] = json!(0.9);
    let d = engine.evaluate(&input).await.unwrap();
    assert_eq!(d.rule.as_deref(), Some("prompt_injection"));
    input["detections"] = json!([{"type": "PRIVATE_KEY", "count": 1, "step": "detect_secrets"}]);
    let d = engine.evaluate(&input).await.unwrap();
    assert_eq!(d.rule.as_deref(), Some("private_key"));
}

#[tokio::test]
async fn default_policy_loads_from_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(DEFAULT_POLICY_NAME), DEFAULT_POLICY).unwrap();
    let engine = RegoEngine::load(dir.path()).unwrap();
    assert!(engine.evaluate(&gateway_input()).await.unwrap().allow);
}

/// Rough latency of one evaluation of the default policy (run with `--ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measurement, not a check"]
async fn default_policy_latency() {
    let engine = default_engine();
    let input = gateway_input();
    for _ in 0..200 {
        engine.evaluate(&input).await.unwrap();
    }
    let n = 5_000u32;
    let started = Instant::now();
    for _ in 0..n {
        engine.evaluate(&input).await.unwrap();
    }
    let sequential = started.elapsed() / n;

    let engine = Arc::new(engine);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let engine = Arc::clone(&engine);
        let input = input.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..n / 8 {
                engine.evaluate(&input).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let throughput = f64::from(n) / started.elapsed().as_secs_f64();

    // The parts: a clone of the prepared engine and the bare interpreter call.
    let proto = {
        let mut e = regorus::Engine::new();
        e.add_policy("default.rego".into(), DEFAULT_POLICY.into())
            .unwrap();
        e.eval_query("true".into(), false).unwrap();
        e
    };
    let started = Instant::now();
    for _ in 0..n {
        std::hint::black_box(proto.clone());
    }
    let clone = started.elapsed() / n;
    let mut reused = proto.clone();
    let started = Instant::now();
    for _ in 0..n {
        reused.set_input(regorus::Value::from(input.clone()));
        std::hint::black_box(reused.eval_rule(DECISION_RULE.into()).unwrap());
    }
    let bare = started.elapsed() / n;
    let started = Instant::now();
    for _ in 0..n {
        let mut fresh = proto.clone();
        fresh.set_input(regorus::Value::from(input.clone()));
        std::hint::black_box(fresh.eval_rule(DECISION_RULE.into()).unwrap());
    }
    let cloned = started.elapsed() / n;
    println!(
        "default policy: {sequential:?}/evaluation end to end (sequential), \
         {throughput:.0} evaluations/s with 8 concurrent callers; \
         engine clone {clone:?}; eval_rule on a reused engine {bare:?}, \
         on a fresh clone {cloned:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// OPA backend, against a fake OPA

#[derive(Clone, Copy, Debug)]
enum Fake {
    Allow,
    Deny,
    NoResult,
    NotJson,
    Status(u16),
    Slow(Duration),
}

#[derive(Default)]
struct Seen {
    bodies: Vec<Value>,
    queries: Vec<String>,
}

async fn fake_opa(mode: Fake) -> (String, Arc<Mutex<Seen>>) {
    use axum::extract::{RawQuery, State};
    use axum::http::StatusCode;
    use axum::response::{IntoResponse, Response};
    use axum::routing::post;
    use axum::{Json, Router};

    async fn decide(
        State((mode, seen)): State<(Fake, Arc<Mutex<Seen>>)>,
        RawQuery(query): RawQuery,
        Json(body): Json<Value>,
    ) -> Response {
        {
            let mut seen = seen.lock().unwrap();
            seen.bodies.push(body);
            seen.queries.push(query.unwrap_or_default());
        }
        match mode {
            Fake::Allow => Json(json!({"result": {"allow": true}})).into_response(),
            Fake::Deny => Json(json!({
                "decision_id": "d1",
                "result": {"allow": false, "reason": "no", "rule": "opa_rule", "obligations": [{"type": "log_full"}]}
            }))
            .into_response(),
            Fake::NoResult => Json(json!({})).into_response(),
            Fake::NotJson => "<html>hello</html>".into_response(),
            Fake::Status(code) => (
                StatusCode::from_u16(code).unwrap(),
                Json(json!({"code": "internal_error", "message": format!("fake failure {code}")})),
            )
                .into_response(),
            Fake::Slow(d) => {
                tokio::time::sleep(d).await;
                Json(json!({"result": {"allow": true}})).into_response()
            }
        }
    }

    let seen = Arc::new(Mutex::new(Seen::default()));
    let app = Router::new()
        .route("/v1/data/tappass/decision", post(decide))
        .route("/prefix/v1/data/tappass/decision", post(decide))
        .with_state((mode, Arc::clone(&seen)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), seen)
}

fn opa(base: &str) -> OpaEngine {
    OpaEngine::new(base, Duration::from_millis(500)).unwrap()
}

#[tokio::test]
async fn opa_allows_and_sends_the_input() {
    let (base, seen) = fake_opa(Fake::Allow).await;
    let engine = opa(&base);
    assert_eq!(engine.backend(), "opa");
    assert_eq!(
        engine.url(),
        format!("{base}/v1/data/tappass/decision?strict-builtin-errors=true")
    );
    let input = gateway_input();
    assert_eq!(engine.evaluate(&input).await.unwrap(), Decision::allow());
    // Pooled client: a second request on the same engine.
    assert!(engine.evaluate(&input).await.unwrap().allow);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.bodies.len(), 2);
    assert_eq!(seen.bodies[0], json!({"input": input}));
    assert_eq!(seen.queries[0], "strict-builtin-errors=true");
}

#[tokio::test]
async fn opa_base_url_keeps_a_path_prefix() {
    let (base, seen) = fake_opa(Fake::Allow).await;
    let engine = opa(&format!("{base}/prefix/"));
    assert!(engine.evaluate(&json!({})).await.unwrap().allow);
    assert_eq!(seen.lock().unwrap().bodies.len(), 1);
}

#[tokio::test]
async fn opa_denies() {
    let (base, _) = fake_opa(Fake::Deny).await;
    let d = opa(&base).evaluate(&gateway_input()).await.unwrap();
    assert!(!d.allow);
    assert_eq!(d.rule.as_deref(), Some("opa_rule"));
    assert_eq!(d.reason.as_deref(), Some("no"));
    assert_eq!(d.obligations, vec![json!({"type": "log_full"})]);
}

#[tokio::test]
async fn opa_without_result_is_bad_decision() {
    let (base, _) = fake_opa(Fake::NoResult).await;
    match opa(&base).evaluate(&gateway_input()).await {
        Err(PolicyError::BadDecision(msg)) => assert!(msg.contains("no policy loaded"), "{msg}"),
        other => panic!("expected BadDecision, got {other:?}"),
    }
    let (base, _) = fake_opa(Fake::NotJson).await;
    assert!(matches!(
        opa(&base).evaluate(&gateway_input()).await,
        Err(PolicyError::BadDecision(_))
    ));
}

#[tokio::test]
async fn opa_http_errors_are_unavailable() {
    for code in [500u16, 403, 400, 404] {
        let (base, _) = fake_opa(Fake::Status(code)).await;
        match opa(&base).evaluate(&gateway_input()).await {
            Err(PolicyError::Unavailable(msg)) => {
                assert!(msg.contains(&format!("HTTP {code}")), "{msg}");
                assert!(msg.contains("fake failure"), "body quoted: {msg}");
            }
            other => panic!("{code}: expected Unavailable, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn opa_slow_answer_times_out() {
    let (base, _) = fake_opa(Fake::Slow(Duration::from_secs(3))).await;
    let timeout = Duration::from_millis(150);
    let engine = OpaEngine::new(&base, timeout).unwrap();
    let started = Instant::now();
    assert_eq!(
        engine.evaluate(&gateway_input()).await,
        Err(PolicyError::Timeout(timeout))
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn opa_closed_port_is_unavailable() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let engine = opa(&format!("http://127.0.0.1:{port}"));
    match engine.evaluate(&gateway_input()).await {
        Err(PolicyError::Unavailable(msg)) => assert!(msg.contains(&port.to_string()), "{msg}"),
        other => panic!("expected Unavailable, got {other:?}"),
    }
}

#[test]
fn opa_bad_base_url_is_refused() {
    for bad in [
        "",
        "not a url",
        "ftp://127.0.0.1/",
        "http://127.0.0.1:8181/?x=1",
    ] {
        assert!(
            matches!(
                OpaEngine::new(bad, Duration::from_millis(100)),
                Err(PolicyError::Load(_))
            ),
            "{bad:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// cache

/// Counts evaluations; denies inputs with `"deny": true`, fails those with `"fail": true`.
#[derive(Default)]
struct Counting {
    calls: AtomicUsize,
}

#[async_trait]
impl PolicyEngine for Counting {
    fn backend(&self) -> &'static str {
        "fake"
    }
    async fn evaluate(&self, input: &Value) -> Result<Decision, PolicyError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if input["fail"] == json!(true) {
            return Err(PolicyError::Unavailable("down".into()));
        }
        if input["deny"] == json!(true) {
            return Ok(Decision::deny("r", "denied"));
        }
        Ok(Decision::allow())
    }
}

fn calls(c: &CachedEngine<Counting>) -> usize {
    c.inner().calls.load(Ordering::SeqCst)
}

#[tokio::test]
async fn cache_answers_identical_inputs_once() {
    let cache = CachedEngine::new(Counting::default(), Duration::from_secs(60), 100);
    assert_eq!(cache.backend(), "fake");
    let a = gateway_input();
    assert!(cache.evaluate(&a).await.unwrap().allow);
    assert!(cache.evaluate(&a).await.unwrap().allow);
    assert_eq!(calls(&cache), 1);
    // The same document written with another key order is the same input.
    let reordered: Value = serde_json::from_str(
        r#"{"session": {"turn": 1, "id": "ses_1"}, "tools": ["search"],
            "flags": {"pii": "mask", "mode": "enforce"}, "injection_score": 0.1,
            "classification": "INTERNAL",
            "detections": [{"step": "detect_pii", "count": 2, "type": "EMAIL"}],
            "request": {"stream": false, "provider": "openai", "model": "gpt-4o-mini", "format": "openai"},
            "agent": {"key_id": "key_01", "id": "research-bot"}}"#,
    )
    .unwrap();
    assert!(cache.evaluate(&reordered).await.unwrap().allow);
    assert_eq!(calls(&cache), 1);
    // A different input is evaluated.
    let mut b = gateway_input();
    b["session"]["turn"] = json!(2);
    assert!(cache.evaluate(&b).await.unwrap().allow);
    assert_eq!(calls(&cache), 2);
    assert_eq!(
        cache.stats(),
        CacheStats {
            hits: 2,
            misses: 2,
            entries: 2
        }
    );
}

#[tokio::test]
async fn cache_keeps_denies_but_not_errors() {
    let cache = CachedEngine::new(Counting::default(), Duration::from_secs(60), 100);
    let deny = json!({"deny": true});
    for _ in 0..3 {
        assert_eq!(
            cache.evaluate(&deny).await.unwrap(),
            Decision::deny("r", "denied")
        );
    }
    assert_eq!(calls(&cache), 1);
    let fail = json!({"fail": true});
    for _ in 0..3 {
        assert!(matches!(
            cache.evaluate(&fail).await,
            Err(PolicyError::Unavailable(_))
        ));
    }
    assert_eq!(calls(&cache), 4);
    assert_eq!(cache.stats().entries, 1);
}

#[tokio::test]
async fn cache_entries_expire() {
    let cache = CachedEngine::new(Counting::default(), Duration::from_millis(80), 100);
    let a = json!({"a": 1});
    cache.evaluate(&a).await.unwrap();
    cache.evaluate(&a).await.unwrap();
    assert_eq!(calls(&cache), 1);
    tokio::time::sleep(Duration::from_millis(120)).await;
    cache.evaluate(&a).await.unwrap();
    assert_eq!(calls(&cache), 2);
    cache.evaluate(&a).await.unwrap();
    assert_eq!(calls(&cache), 2);
}

#[tokio::test]
async fn cache_is_bounded_and_evicts_the_oldest() {
    let cache = CachedEngine::new(Counting::default(), Duration::from_secs(60), 3);
    for i in 0..4 {
        cache.evaluate(&json!({"i": i})).await.unwrap();
    }
    assert_eq!(calls(&cache), 4);
    assert_eq!(cache.stats().entries, 3);
    // The newest are still there; the oldest (0) was evicted.
    for i in 1..4 {
        cache.evaluate(&json!({"i": i})).await.unwrap();
    }
    assert_eq!(calls(&cache), 4);
    cache.evaluate(&json!({"i": 0})).await.unwrap();
    assert_eq!(calls(&cache), 5);
    assert_eq!(cache.stats().entries, 3);

    // Many more distinct inputs never grow it past the bound.
    for i in 100..1_100 {
        cache.evaluate(&json!({"i": i})).await.unwrap();
    }
    assert_eq!(cache.stats().entries, 3);
    cache.clear();
    assert_eq!(cache.stats().entries, 0);
}

#[tokio::test]
async fn cache_expired_entries_are_evicted_first() {
    let cache = CachedEngine::new(Counting::default(), Duration::from_millis(60), 1_000);
    for i in 0..10 {
        cache.evaluate(&json!({"i": i})).await.unwrap();
    }
    assert_eq!(cache.stats().entries, 10);
    tokio::time::sleep(Duration::from_millis(100)).await;
    cache.evaluate(&json!({"fresh": true})).await.unwrap();
    assert_eq!(cache.stats().entries, 1);
}

#[tokio::test]
async fn cache_with_zero_ttl_or_size_is_off() {
    for (ttl, max) in [(Duration::ZERO, 100), (Duration::from_secs(60), 0)] {
        let cache = CachedEngine::new(Counting::default(), ttl, max);
        for _ in 0..3 {
            cache.evaluate(&json!({"a": 1})).await.unwrap();
        }
        assert_eq!(calls(&cache), 3);
        assert_eq!(cache.stats().entries, 0);
    }
}

#[tokio::test]
async fn cache_wraps_a_shared_rego_engine() {
    let engine: Arc<dyn PolicyEngine> = Arc::new(default_engine());
    let cached = CachedEngine::new(engine, Duration::from_secs(5), 10_000);
    assert_eq!(cached.backend(), "rego");
    let mut input = gateway_input();
    input["injection_score"] = json!(0.9);
    let first = cached.evaluate(&input).await.unwrap();
    let second = cached.evaluate(&input).await.unwrap();
    assert_eq!(first, second);
    assert!(!first.allow);
    assert_eq!(cached.stats().hits, 1);
}

#[test]
fn input_digest_is_canonical() {
    use sha2::{Digest, Sha256};
    let value = json!({"b": 1, "a": [1, {"d": "é\"", "c": null}], "e": 0.5});
    // Keys sorted at every level, no whitespace, strings as serde_json writes them.
    let expected = hex::encode(Sha256::digest(
        r#"{"a":[1,{"c":null,"d":"é\""}],"b":1,"e":0.5}"#.as_bytes(),
    ));
    let got = input_digest(&value);
    assert_eq!(got, expected);
    assert_eq!(got.len(), 64);
}
