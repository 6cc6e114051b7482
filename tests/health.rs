//! `tappass health`, the monitor, black-box against SQLite and PostgreSQL, with the fake
//! upstream's `/webhook` standing for Slack: each fault is detected, alerted once when it starts
//! and once when it ends (never repeated), and `tappass.down` exists exactly while the host is
//! not healthy; a webhook that fails is retried by the next run; a tampered chain and an
//! unreachable database are named; Redis with a wrong password is named as such.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{bin, free_port, Db, Gateway, GatewayOpts, Proc, Upstream};
use serde_json::Value;

/// A gateway with a config file, the monitor's webhook and its watched files in one place.
struct Host {
    gw: Gateway,
    /// The webhook receiver (a fake upstream's `/webhook`).
    hook: Upstream,
    cert: PathBuf,
    /// Extra `[health]` lines of the config file.
    health: String,
    /// Extra sections of the config file.
    extra: String,
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A PEM certificate valid for `days` days, made by openssl.
fn make_cert(path: &Path, days: u32) {
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-keyout", "/dev/null", "-subj", "/CN=health-test"])
        .args(["-days", &days.to_string(), "-out"])
        .arg(path)
        .output()
        .expect("openssl (the certificate tests need it: apt install openssl)");
    assert!(out.status.success(), "openssl: {}", text(&out));
}

impl Host {
    async fn start(db: Db) -> Host {
        let upstream = Upstream::start(&[]);
        let gw = Gateway::start(GatewayOpts::new(db, &upstream).config("")).await;
        let cert = gw.state_dir.parent().unwrap().join("watched.pem");
        make_cert(&cert, 365);
        let mut h = Host {
            gw,
            hook: upstream,
            cert,
            health: String::new(),
            extra: String::new(),
        };
        h.write_config();
        // A backup, so that its check passes.
        let out = h.gw.cli(&["backup"]);
        assert!(out.status.success(), "{}", text(&out));
        h
    }

    fn write_config(&mut self) {
        let toml = format!(
            "[health]\ncertificates = [{:?}]\n{}\n{}",
            self.cert.display().to_string(),
            self.health,
            self.extra
        );
        std::fs::write(self.gw.config_path(), &toml).unwrap();
        // A restart of the gateway writes the same file.
        self.gw.opts.config = Some(toml);
    }

    fn webhook_url(&self) -> String {
        format!("http://{}/webhook", self.hook.addr)
    }

    /// One run of the monitor, as the timer would (the webhook from the environment).
    fn monitor_with(&self, args: &[&str], webhook: &str) -> Output {
        let mut cmd = Command::new(bin());
        cmd.arg("health")
            .args(args)
            .arg("--config")
            .arg(self.gw.config_path())
            .arg("--state-dir")
            .arg(&self.gw.state_dir)
            .env(
                "TAPPASS_SERVER__LISTEN",
                format!("127.0.0.1:{}", self.gw.port),
            )
            .env("HEALTH_SLACK_WEBHOOK", webhook)
            .env_remove("JOURNAL_STREAM");
        match &self.gw.opts.db {
            Db::Postgres(url) if !args.contains(&"--database-url") => {
                cmd.args(["--database-url", url]);
            }
            _ => {}
        }
        cmd.output().unwrap()
    }

    fn monitor(&self) -> Output {
        self.monitor_with(&[], &self.webhook_url())
    }

    /// The monitor's `--json` report.
    fn report(&self) -> (Output, Value) {
        let out = self.monitor_with(&["--json"], &self.webhook_url());
        let v = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out)));
        (out, v)
    }

    async fn webhooks(&self) -> Vec<String> {
        let v: Vec<Value> = reqwest::get(format!("http://{}/debug/webhooks", self.hook.addr))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v.iter()
            .map(|b| b["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    fn down_file(&self) -> PathBuf {
        self.gw.state_dir.join("tappass.down")
    }

    /// Runs the monitor twice with the fault in place and once after `heal`: one alert naming
    /// `what` (and its exit code), no repeat, `tappass.down` while it lasts; then one
    /// "RECOVERED" and no `tappass.down`.
    async fn fault(
        &mut self,
        what: &str,
        health: &str,
        code: i32,
        heal: impl AsyncFnOnce(&mut Host),
    ) {
        let before = self.webhooks().await.len();
        let out = self.monitor();
        assert_eq!(out.status.code(), Some(code), "{what}: {}", text(&out));
        let hooks = self.webhooks().await;
        assert_eq!(hooks.len(), before + 1, "{what}: one alert: {hooks:#?}");
        let alert = &hooks[before];
        assert!(
            alert.contains(&format!("is {health}"))
                && alert.contains(what)
                && alert.contains("fix:"),
            "{what}: {alert}"
        );
        assert!(self.down_file().exists(), "{what}: no tappass.down");
        let down = std::fs::read_to_string(self.down_file()).unwrap();
        assert!(down.contains(what), "{what}: tappass.down says {down}");

        let again = self.monitor();
        assert_eq!(again.status.code(), Some(code), "{what}: {}", text(&again));
        assert_eq!(self.webhooks().await.len(), before + 1, "{what}: repeated");

        heal(self).await;
        let out = self.monitor();
        assert_eq!(out.status.code(), Some(0), "{what} healed: {}", text(&out));
        let hooks = self.webhooks().await;
        assert_eq!(
            hooks.len(),
            before + 2,
            "{what}: recovery told once: {hooks:#?}"
        );
        assert!(
            hooks[before + 1].contains("RECOVERED"),
            "{what}: {}",
            hooks[before + 1]
        );
        assert!(
            !self.down_file().exists(),
            "{what}: tappass.down left behind"
        );
    }
}

async fn faults_are_alerted_once_per_change(backend: &str) {
    let Some((db, _pg)) = common::database(backend).await else {
        return;
    };
    let mut h = Host::start(db).await;

    // Healthy: nothing said, nothing marked.
    let out = h.monitor();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("is HEALTHY"), "{said}");
    for line in [
        "ok    daemon",
        "ok    database",
        "ok    audit_chain",
        "ok    backup",
        "ok    certificate",
    ] {
        assert!(said.contains(line), "{line}: {said}");
    }
    assert!(h.webhooks().await.is_empty());
    assert!(!h.down_file().exists());

    // 1. The daemon stops.
    h.gw.sigterm().0.wait().unwrap();
    h.fault("daemon", "DOWN", 2, async |h: &mut Host| {
        h.gw.spawn().await;
    })
    .await;

    // 2. The disk threshold is crossed.
    h.health = "disk_percent = 1".into();
    h.write_config();
    h.fault("disk", "DEGRADED", 1, async |h: &mut Host| {
        h.health.clear();
        h.write_config();
    })
    .await;

    // 3. A watched certificate expires in 10 days.
    make_cert(&h.cert, 10);
    h.fault("expires in", "DEGRADED", 1, async |h: &mut Host| {
        make_cert(&h.cert, 365);
    })
    .await;

    // 4. An external URL goes down.
    let status_page = Upstream::start(&[]);
    h.health = format!("urls = [\"http://{}/health\"]", status_page.addr);
    h.write_config();
    let out = h.monitor();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    drop(status_page);
    h.fault("url http://", "DEGRADED", 1, async |h: &mut Host| {
        h.health.clear();
        h.write_config();
    })
    .await;

    // 5. The database cannot be reached (an address where nothing listens).
    let nowhere = format!("postgres://tappass@127.0.0.1:{}/tappass", free_port());
    let out = h.monitor_with(&["--database-url", &nowhere], &h.webhook_url());
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("FAIL  database") && said.to_lowercase().contains("connection refused"),
        "the database's own error: {said}"
    );
    let hooks = h.webhooks().await;
    let last = hooks.last().unwrap();
    assert!(
        last.contains("database") && last.contains("is DOWN"),
        "{last}"
    );
    let out = h.monitor();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(h.webhooks().await.last().unwrap().contains("RECOVERED"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_alerted_once_per_change_sqlite() {
    faults_are_alerted_once_per_change("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_are_alerted_once_per_change_postgres() {
    faults_are_alerted_once_per_change("postgres").await;
}

/// The chain is verified incrementally: new events are checked each run; a tampered event is
/// a DOWN naming the chain, the seq and the fix.
async fn a_tampered_chain_is_down(backend: &str) {
    let Some((db, _pg)) = common::database(backend).await else {
        return;
    };
    let h = Host::start(db).await;
    let (_, first) = h.report();
    let chain = |v: &Value| {
        v["report"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "audit_chain")
            .cloned()
            .unwrap()
    };
    assert_eq!(chain(&first)["status"], "ok", "{first:#}");
    let (key, _) = h.gw.agent("bot").await;
    for i in 0..3 {
        let (status, body) = h.gw.chat(&key, "gpt-4o-mini", &format!("hi {i}")).await;
        assert_eq!(status, 200, "{body}");
    }
    let (_, second) = h.report();
    let detail = chain(&second)["detail"].as_str().unwrap().to_owned();
    let new: u64 = detail
        .strip_prefix("intact: ")
        .and_then(|d| d.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{detail}"));
    assert!(
        (4..=8).contains(&new),
        "only the new events are verified: {detail}"
    );

    for i in 0..2 {
        h.gw.chat(&key, "gpt-4o-mini", &format!("more {i}")).await;
    }
    h.gw.sql(
        "UPDATE audit_events SET canonical = replace(canonical, 'llm_call', 'llm_cal1') \
         WHERE seq = (SELECT max(seq) FROM audit_events)",
    )
    .await;
    let (out, v) = h.report();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let c = chain(&v);
    assert_eq!(c["status"], "fail", "{c:#}");
    assert!(
        c["detail"].as_str().unwrap().contains("BROKEN at seq")
            && c["fix"].as_str().unwrap().contains("tappass audit verify"),
        "{c:#}"
    );
    assert_eq!(v["alert"]["kind"], "down", "{v:#}");
    assert_eq!(
        v["alert"]["webhook"],
        serde_json::json!({"Ok": null}),
        "{v:#}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_chain_is_down_sqlite() {
    a_tampered_chain_is_down("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_chain_is_down_postgres() {
    a_tampered_chain_is_down("postgres").await;
}

/// A webhook that is down does not lose the alert: the next run delivers it, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_webhook_is_retried_by_the_next_run() {
    let mut h = Host::start(Db::Sqlite).await;
    h.gw.sigterm().0.wait().unwrap();
    let dead = format!("http://127.0.0.1:{}/webhook", free_port());
    let out = h.monitor_with(&[], &dead);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("webhook failed") && err.contains("next run tries again"),
        "{err}"
    );
    assert!(!err.contains(&dead), "the webhook URL is a secret: {err}");
    assert!(h.webhooks().await.is_empty());
    let out = h.monitor();
    assert_eq!(out.status.code(), Some(2));
    let hooks = h.webhooks().await;
    assert_eq!(hooks.len(), 1, "{hooks:#?}");
    assert!(hooks[0].contains("is DOWN"), "{}", hooks[0]);
    h.monitor();
    assert_eq!(h.webhooks().await.len(), 1, "delivered once");
}

/// Redis reached with a wrong password is named as an authentication failure, DOWN (the daemon
/// refuses requests without its limits unless `redis.fail_open`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_with_a_wrong_password_is_named() {
    if Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        assert!(!common::in_ci(), "redis-server is required under CI=true");
        eprintln!("SKIP: no redis-server binary");
        return;
    }
    let port = free_port();
    let _redis = Proc(
        Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--requirepass",
                "right-password",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut h = Host::start(Db::Sqlite).await;
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    h.extra = format!("[redis]\nurl = \"redis://:right-password@127.0.0.1:{port}\"\n");
    h.write_config();
    let (out, v) = h.report();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let redis = |v: &Value| {
        v["report"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "redis")
            .cloned()
            .unwrap_or_else(|| panic!("no redis check: {v:#}"))
    };
    assert_eq!(redis(&v)["status"], "ok", "{v:#}");

    h.extra = format!("[redis]\nurl = \"redis://:wrong-password@127.0.0.1:{port}\"\n");
    h.write_config();
    let (out, v) = h.report();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let c = redis(&v);
    let said = c.to_string();
    assert!(
        c["status"] == "fail"
            && said.contains("authentication failed")
            && said.contains("redis-url"),
        "{c:#}"
    );
    assert!(
        !said.contains("wrong-password"),
        "the password leaked: {c:#}"
    );
    assert!(
        h.webhooks().await.last().unwrap().contains("redis"),
        "{:?}",
        h.webhooks().await
    );

    // The daemon itself, given the wrong password, says why it is not ready (only the
    // category: /health/ready is public).
    h.gw.sigterm().0.wait().unwrap();
    h.gw.opts.wait_ready = false;
    h.gw.spawn().await;
    let r = reqwest::get(format!("{}/health/ready", h.gw.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["checks"]["redis"], "unavailable (authentication failed)",
        "{body}"
    );
    assert!(!body.to_string().contains("wrong-password"), "{body}");
}

/// The daemon check reads `/health/ready`: ready is ok; up without its database is DOWN naming
/// what it lacks; nobody listening is DOWN with the command that starts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_check_reads_readiness() {
    let upstream = Upstream::start(&[]);
    let gw = Gateway::start(GatewayOpts::new(Db::Sqlite, &upstream)).await;
    let daemon = |url: &str| {
        let out = Command::new(bin())
            .args(["health", "--json", "--url", url, "--state-dir"])
            .arg(&gw.state_dir)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&out)));
        let c = v["report"]["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "daemon")
            .cloned()
            .unwrap();
        (out.status.code(), c)
    };
    let (_, c) = daemon(&gw.url);
    assert_eq!(c["status"], "ok", "{c:#}");
    assert!(
        c["detail"].as_str().unwrap().contains("database ok"),
        "{c:#}"
    );

    let mut opts = GatewayOpts::new(
        Db::Postgres("postgres://x@127.0.0.1:1/none".into()),
        &upstream,
    )
    .env("TAPPASS_DATABASE__CONNECT_TIMEOUT_SECS", "1");
    opts.wait_ready = false;
    let down = Gateway::start(opts).await;
    let (code, c) = daemon(&down.url);
    assert_eq!(code, Some(2), "{c:#}");
    let detail = c["detail"].as_str().unwrap();
    assert!(
        c["status"] == "fail"
            && detail.contains("NOT ready")
            && detail.contains("HTTP 503")
            && detail.contains("database unavailable"),
        "{c:#}"
    );

    let nobody = format!("http://127.0.0.1:{}", free_port());
    let (code, c) = daemon(&nobody);
    assert_eq!(code, Some(2), "{c:#}");
    assert!(
        c["detail"].as_str().unwrap().contains("not answering")
            && c["fix"]
                .as_str()
                .unwrap()
                .contains("systemctl start tappass"),
        "{c:#}"
    );
}

/// `[health]` settings are checked like every other key: the field is named, a webhook URL
/// (a secret) is never quoted back.
#[test]
fn bad_health_settings_are_named() {
    let dir = common::tempdir();
    for (toml, key, leak) in [
        ("[health]\ndisk_percent = 0\n", "health.disk_percent", None),
        (
            "[health]\ncertificates = [\"relative.pem\"]\n",
            "health.certificates",
            None,
        ),
        ("[health]\nurls = [\"ftp://x\"]\n", "health.urls", None),
        (
            "[health]\nslack_webhook = \"hooks.slack.com/services/T0/B0/SECRETX\"\n",
            "health.slack_webhook",
            Some("SECRETX"),
        ),
    ] {
        let path = dir.path().join("t.toml");
        std::fs::write(&path, toml).unwrap();
        let out = Command::new(bin())
            .args(["config", "check"])
            .arg(&path)
            .output()
            .unwrap();
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{said}");
        assert!(said.contains(key), "{key}: {said}");
        if let Some(secret) = leak {
            assert!(!said.contains(secret), "{said}");
        }
    }
}
