//! The builtins docs/policy.md promises are the ones the in-process engine has: every name in
//! its "available" table resolves in regorus, every name it lists as unavailable does not. A
//! feature trimmed from regorus (Cargo.toml) that drops a documented builtin fails here.

use std::collections::BTreeSet;

/// Whether regorus (as this crate configures it) knows the builtin `name`: a call with one string
/// argument either evaluates or fails for another reason (arity, type) than an unknown function.
fn available(name: &str) -> bool {
    let mut engine = regorus::Engine::new();
    engine.set_strict_builtin_errors(true);
    engine
        .add_policy(
            "probe.rego".into(),
            format!("package probe\n\nx := {name}(\"a\")\n"),
        )
        .unwrap_or_else(|e| panic!("probe policy for {name} does not parse: {e}"));
    match engine.eval_rule("data.probe.x".into()) {
        Ok(_) => true,
        Err(e) => !e.to_string().contains("could not find function"),
    }
}

/// The backticked names in the lines of docs/policy.md between `start` and the next blank line.
fn documented(start: &str) -> BTreeSet<String> {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/policy.md"))
        .expect("docs/policy.md");
    let block: Vec<&str> = doc
        .lines()
        .skip_while(|l| !l.starts_with(start))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect();
    assert!(
        !block.is_empty(),
        "docs/policy.md has no block after {start:?}"
    );
    block
        .iter()
        .flat_map(|l| l.split('`').skip(1).step_by(2))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_documented_builtin_is_available_in_process() {
    let names = documented("<!-- builtins: available -->");
    assert!(names.len() > 100, "only {} names found", names.len());
    let missing: Vec<&String> = names.iter().filter(|n| !available(n)).collect();
    assert!(
        missing.is_empty(),
        "documented but not available: {missing:?}"
    );
}

#[test]
fn builtins_documented_as_unavailable_are_refused() {
    let names = documented("<!-- builtins: not available -->");
    let present: Vec<&String> = names.iter().filter(|n| available(n)).collect();
    assert!(
        present.is_empty(),
        "documented as unavailable but present: {present:?}"
    );
}
