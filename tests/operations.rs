//! Operator-facing behaviour: config checks, refusing bad start-ups, credentials, metrics,
//! the mock provider.

mod common;

use std::process::Command;

use common::{bin, Db, Gateway, GatewayOpts, Upstream};
use serde_json::json;

#[test]
fn config_check_accepts_good_files_and_names_bad_keys_with_lines() {
    let dir = common::tempdir();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, "[server]\nlisten = \"127.0.0.1:9700\"\n").unwrap();
    let out = Command::new(bin())
        .args(["config", "check"])
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[server]\nlisten = \"127.0.0.1:9700\"\nlistn = 1\n").unwrap();
    let out = Command::new(bin())
        .args(["config", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:3") && err.contains("listn"), "{err}");

    // Environment overrides are checked too, and named.
    let out = Command::new(bin())
        .args(["config", "check"])
        .arg(&good)
        .env("TAPPASS_SERVER__MAX_BODY_BYTES", "lots")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TAPPASS_SERVER__MAX_BODY_BYTES"));
}

/// `config check` compiles the policy the file names: a Rego syntax error fails the check with
/// the file and line, before a reload or restart would meet it.
#[test]
fn config_check_compiles_the_policy() {
    let dir = common::tempdir();
    let policies = dir.path().join("policies");
    std::fs::create_dir(&policies).unwrap();
    let conf = dir.path().join("tappass.toml");
    std::fs::write(
        &conf,
        format!("[policy]\ndir = {:?}\n", policies.display().to_string()),
    )
    .unwrap();
    let check = || {
        Command::new(bin())
            .args(["config", "check"])
            .arg(&conf)
            .output()
            .unwrap()
    };
    std::fs::write(
        policies.join("custom.rego"),
        "package tappass\n\ndecision := {\"allow\": true}\n",
    )
    .unwrap();
    let out = check();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("compiled"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );

    std::fs::write(
        policies.join("custom.rego"),
        "package tappass\n\ndecision := {\"allow\": true\n",
    )
    .unwrap();
    let out = check();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("policy") && err.contains("custom.rego"),
        "the broken file is named: {err}"
    );

    // A policy that refuses everything compiles, and is said to refuse everything: by
    // config check (a warning) and by the doctor (a failure, with the fix).
    std::fs::write(
        policies.join("custom.rego"),
        "package tappass\n\ndecision := {\"allow\": false, \"rule\": \"lockdown\", \"reason\": \"closed\"}\n",
    )
    .unwrap();
    let out = check();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && err.contains("denies a plain request (rule lockdown"),
        "{err}"
    );
    let state = dir.path().join("state");
    let out = Command::new(bin())
        .args(["doctor", "--config"])
        .arg(&conf)
        .arg("--state-dir")
        .arg(&state)
        .env(
            "TAPPASS_SERVER__LISTEN",
            format!("127.0.0.1:{}", common::free_port()),
        )
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("FAIL  policy") && said.contains("lockdown") && said.contains("config check"),
        "{said}"
    );
}

#[test]
fn serve_refuses_bad_config_and_self_proxy() {
    let dir = common::tempdir();
    let out = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:19999", "--state-dir"])
        .arg(dir.path())
        .env(
            "TAPPASS_PROVIDERS__OPENAI__BASE_URL",
            "http://127.0.0.1:19999/v1",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("providers.openai.base_url"), "{err}");

    let out = Command::new(bin())
        .args(["serve", "--database-url", "mysql://x/y", "--state-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("database.url"));
}

/// Keys from systemd credentials: the provider key reaches the provider, the admin key works,
/// and no admin.key is generated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_directory_supplies_provider_and_admin_keys() {
    let upstream = Upstream::start(&["--api-key", "sk-from-credential"]);
    let creds = common::tempdir();
    std::fs::write(creds.path().join("openai-api-key"), "sk-from-credential\n").unwrap();
    let admin = "tp_admin_from-a-credential-0000";
    std::fs::write(creds.path().join("admin-api-key"), admin).unwrap();
    let mut opts = GatewayOpts::new(Db::Sqlite, &upstream)
        .env("CREDENTIALS_DIRECTORY", creds.path().to_str().unwrap());
    opts.wait_ready = false;
    let mut gw = Gateway::start(opts).await;
    gw.wait_ready().await;
    gw.admin_key = admin.to_string();
    assert!(
        !gw.state_dir.join("admin.key").exists(),
        "no key generated when one is configured"
    );
    let (key, _) = gw.agent("cred-bot").await;
    let (status, body) = gw.chat(&key, "gpt-4o-mini", "hi").await;
    assert_eq!(status, 200, "{body}");
    let last = upstream.last_request().await;
    assert_eq!(
        last["headers"]["authorization"],
        "Bearer sk-from-credential"
    );
    let (status, health) = gw.get("/health", admin).await;
    assert_eq!(status, 200);
    assert!(
        health["details"]["uptime_secs"].is_u64(),
        "admins see details: {health}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_a_key_and_count_requests() {
    let upstream = Upstream::start(&[]);
    let gw = Gateway::start(GatewayOpts::new(Db::Sqlite, &upstream)).await;
    let (key, _) = gw.agent("m").await;
    gw.chat(&key, "gpt-4o-mini", "hi").await;
    let r = gw
        .http
        .get(format!("{}/metrics", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = gw
        .http
        .get(format!("{}/metrics", gw.url))
        .bearer_auth(&gw.admin_key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let text = r.text().await.unwrap();
    assert!(
        text.contains(
            "tappass_http_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 1"
        ),
        "{text}"
    );
    assert!(text.contains("tappass_http_request_duration_seconds_bucket"));
    assert!(text.contains("tappass_storage_up 1"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_provider_answers_without_a_provider_key() {
    let upstream = Upstream::start(&[]);
    let gw = Gateway::start(GatewayOpts::new(Db::Sqlite, &upstream)).await;
    let (key, _) = gw.agent("try").await;
    let (status, body) = gw.chat(&key, "mock/echo", "hello mock").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["choices"][0]["message"]["content"], "mock: hello mock");
    let events = gw.audit_all().await;
    let call = events
        .iter()
        .find(|e| e["event_type"] == "llm_call")
        .unwrap();
    assert_eq!(call["provider"], "mock");
    // Switched off, the prefix is unknown.
    let gw2 = Gateway::start(
        GatewayOpts::new(Db::Sqlite, &upstream).env("TAPPASS_SERVER__MOCK_PROVIDER", "false"),
    )
    .await;
    let (key2, _) = gw2.agent("try").await;
    let (status, _) = gw2
        .post(
            "/v1/chat/completions",
            &key2,
            &json!({"model": "mock/echo", "messages": [{"role": "user", "content": "x"}]}),
        )
        .await;
    assert_eq!(status, 404);
}

/// `tappass upgrade` checks its arguments before anything else, and refuses clearly where it
/// cannot run (not root, no systemd, not installed from a package).
#[test]
fn upgrade_refuses_bad_arguments_and_hosts_it_cannot_upgrade() {
    let run = |args: &[&str]| {
        let out = Command::new(bin())
            .arg("upgrade")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = run(&[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("<VERSION>"), "{err}");
    let (code, err) = run(&["1.0.0", "--rollback"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--rollback") && err.contains("cannot be used"),
        "{err}"
    );
    let (code, err) = run(&["1.0.0", "--timeout", "0"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("--timeout"), "{err}");

    // Here (a test machine): not root, or no systemd, or tappass not installed by dpkg/rpm.
    let dir = common::tempdir();
    let (code, err) = run(&["1.0.0", "--state-dir", dir.path().to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("run it as root")
            || err.contains("systemd is not running here")
            || err.contains("not installed by a package manager here"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
}
