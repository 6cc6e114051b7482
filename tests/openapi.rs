//! The published API description against the running server: schemathesis (PyPI, pinned in
//! `tests/sdk/requirements.txt`, installed by `make venv`) generates requests from
//! `GET /openapi.json` — valid ones and broken ones — and checks that no answer is a 5xx and
//! that every answer has a status, content type, headers and body the document allows.
//!
//! Two runs, each with the key its routes take: the data plane with an agent key, everything
//! else with an admin key. The gateway stores in PostgreSQL and calls the fake upstream.
//! `TAPPASS_SCHEMATHESIS_EXAMPLES` (default 100 per operation) and `TAPPASS_SCHEMATHESIS_SEED`
//! make a run larger or different. Without the venv the test skips on a developer machine and
//! fails under `CI=true`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{database, in_ci, Gateway, GatewayOpts, Upstream};

/// What schemathesis checks: no server error and conformance to the document.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_headers_conformance,response_schema_conformance";

fn schemathesis(repo: &Path) -> Result<PathBuf, String> {
    let exe = std::env::var_os("TAPPASS_SCHEMATHESIS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join(".venv/bin/schemathesis"));
    if !exe.exists() {
        return Err(format!("no schemathesis at {}", exe.display()));
    }
    Ok(exe)
}

/// Runs schemathesis over the operations `filter` selects, with `key`; returns its output.
async fn run(exe: &Path, gw: &Gateway, filter: [&str; 2], key: &str, report: &Path) -> String {
    let examples =
        std::env::var("TAPPASS_SCHEMATHESIS_EXAMPLES").unwrap_or_else(|_| "100".to_string());
    let seed = std::env::var("TAPPASS_SCHEMATHESIS_SEED").unwrap_or_else(|_| "13".to_string());
    // Not "coverage" by default: on `/v1/messages` (whose content blocks nest recursively)
    // schemathesis 4.32.5 fails inside itself on CPython 3.11 ("AST constructor recursion depth
    // mismatch", reported as a hypothesis FlakyFailure) for some seeds; with seed 13 it passes
    // (`TAPPASS_SCHEMATHESIS_PHASES=examples,coverage,fuzzing`). Not "stateful": the document
    // declares no links between operations.
    let phases = std::env::var("TAPPASS_SCHEMATHESIS_PHASES")
        .unwrap_or_else(|_| "examples,fuzzing".to_string());
    let mut cmd = Command::new(exe);
    cmd.arg("run")
        .arg(format!("{}/openapi.json", gw.url))
        .args(filter)
        .args(["--checks", CHECKS])
        .args(["--phases", &phases])
        .args(["--max-examples", &examples, "--seed", &seed])
        .args(["--workers", "2", "--request-timeout", "30"])
        .args(["--header", &format!("Authorization: Bearer {key}")])
        .args(["--report", "junit", "--report-dir"])
        .arg(report)
        .args(["--output-sanitize", "true"])
        // Its crash cache (`.schemathesis/`) goes there too, not into the checkout.
        .current_dir(report)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("NO_COLOR", "1");
    let (status, log) = common::run_teed(cmd).await;
    assert!(
        status.success(),
        "schemathesis {filter:?} found failures ({status}); see the output above"
    );
    log
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_5xx_and_no_schema_violation() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let exe = match schemathesis(repo) {
        Ok(e) => e,
        Err(why) => {
            if in_ci() {
                panic!("schemathesis is required under CI=true but {why}; run `make venv`");
            }
            println!("SKIP: {why}; run `make venv` (or set TAPPASS_SCHEMATHESIS)");
            return;
        }
    };
    let Some((db, _pg)) = database("postgres").await else {
        return;
    };
    let upstream = Upstream::start(&[]);
    let gw = Gateway::start(GatewayOpts::new(db, &upstream)).await;
    let (agent_key, _) = gw.agent("schemathesis-bot").await;
    let report = common::tempdir();

    let data = run(
        &exe,
        &gw,
        ["--include-path-regex", "^/v1/"],
        &agent_key,
        report.path(),
    )
    .await;
    let rest = run(
        &exe,
        &gw,
        ["--exclude-path-regex", "^/v1/"],
        &gw.admin_key,
        report.path(),
    )
    .await;

    // It ran what it should: every operation it selected was tested (a filter that matched
    // nothing, or operations it could not generate for, would also exit 0).
    for log in [&data, &rest] {
        let count = |label: &str| -> u32 {
            let line = log
                .lines()
                .find_map(|l| l.trim().strip_prefix(label))
                .unwrap_or_else(|| panic!("no {label:?} in schemathesis' summary"));
            line.trim().split('/').next().unwrap().parse().unwrap()
        };
        let (selected, tested) = (count("Selected:"), count("Tested:"));
        assert!(
            selected > 0 && tested == selected,
            "{tested} of {selected} operations tested"
        );
    }
    // And left a chain that verifies.
    let report = gw.verify().await;
    assert_eq!(report["verified"], true, "{report}");
}
