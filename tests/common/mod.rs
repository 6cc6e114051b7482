//! Black-box test harness: starts the real `tappass` binary and the fake LLM upstream as child
//! processes, against SQLite or a fresh PostgreSQL database per test.
//!
//! Service-backed tests need PostgreSQL (`TAPPASS_TEST_PG`, default
//! `postgres://postgres@127.0.0.1:5432/test`). Without it they skip with a message on a
//! developer machine — and fail under `CI=true`.

#![allow(dead_code)]

pub mod tcp_cut;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use sqlx::Connection;

/// The provider key the gateway holds (the fake upstream requires it for both formats).
pub const UPSTREAM_KEY: &str = "sk-upstream-test-key";

pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_tappass")
}

/// A temporary directory the daemon can search: run as root, the tests start daemons that drop
/// to uid 999 and must still reach their config, policies and credentials in here.
pub fn tempdir() -> tempfile::TempDir {
    let t = tempfile::tempdir().unwrap();
    std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    t
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A child process killed on drop.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The fake provider (`tappass-fake-upstream`), answering both wire formats.
pub struct Upstream {
    pub addr: String,
    _proc: Proc,
}

impl Upstream {
    pub fn start(extra: &[&str]) -> Upstream {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tappass-fake-upstream"));
        cmd.args(["--listen", "127.0.0.1:0"]);
        if !extra.contains(&"--api-key") {
            cmd.args(["--api-key", UPSTREAM_KEY]);
        }
        let mut child = cmd
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start fake upstream");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from fake upstream: {line:?}"))
            .to_string();
        Upstream {
            addr,
            _proc: Proc(child),
        }
    }

    pub fn openai_base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn anthropic_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub async fn last_request(&self) -> Value {
        reqwest::get(format!("http://{}/debug/last-request", self.addr))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// Which database a gateway uses.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite,
    Postgres(String),
}

fn pg_admin_url() -> String {
    std::env::var("TAPPASS_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A fresh PostgreSQL database for one test (dropped when this value is dropped). `None` when
/// PostgreSQL is not reachable outside CI (the test then skips); panics in CI.
pub struct PgDb {
    pub url: String,
    name: String,
}

impl PgDb {
    pub async fn create() -> Option<PgDb> {
        let admin = pg_admin_url();
        let mut conn = match sqlx::PgConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                if in_ci() {
                    panic!("PostgreSQL is required under CI=true but {admin} is unreachable: {e}");
                }
                eprintln!("SKIP: PostgreSQL not reachable at {admin} ({e}); set TAPPASS_TEST_PG");
                return None;
            }
        };
        let name = format!("tappass_t_{}", uuid::Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let base = admin.rsplit_once('/').unwrap().0;
        Some(PgDb {
            url: format!("{base}/{name}"),
            name,
        })
    }

    /// A URL for a database that does not exist (yet), with the name this value will drop.
    pub fn reserve() -> PgDb {
        let name = format!("tappass_t_{}", uuid::Uuid::new_v4().simple());
        let base = pg_admin_url().rsplit_once('/').unwrap().0.to_string();
        PgDb {
            url: format!("{base}/{name}"),
            name,
        }
    }

    pub async fn create_now(&self) {
        let mut conn = sqlx::PgConnection::connect(&pg_admin_url()).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {}", self.name))
            .execute(&mut conn)
            .await
            .unwrap();
    }

    pub async fn exec(&self, sql: &str) {
        let mut conn = sqlx::PgConnection::connect(&self.url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let admin = pg_admin_url();
        // Best effort, on a thread of its own (Drop may run inside a runtime).
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut c)
                        .await;
                }
            });
        })
        .join();
    }
}

/// How to start a gateway.
#[derive(Clone)]
pub struct GatewayOpts {
    pub db: Db,
    pub openai_base: String,
    pub anthropic_base: String,
    pub env: Vec<(String, String)>,
    /// Reuse a state directory (restart tests).
    pub state_dir: Option<PathBuf>,
    pub port: Option<u16>,
    pub wait_ready: bool,
    /// TOML written to a file passed with `--config`.
    pub config: Option<String>,
    /// The gateway's stderr (its log, `RUST_LOG=error`) appended to this file instead of the
    /// test's, for tests that check what it logs.
    pub stderr_to: Option<PathBuf>,
}

impl GatewayOpts {
    pub fn new(db: Db, upstream: &Upstream) -> Self {
        GatewayOpts {
            db,
            openai_base: upstream.openai_base(),
            anthropic_base: upstream.anthropic_base(),
            env: Vec::new(),
            state_dir: None,
            port: None,
            wait_ready: true,
            config: None,
            stderr_to: None,
        }
    }

    pub fn config(mut self, toml: &str) -> Self {
        self.config = Some(toml.to_string());
        self
    }

    pub fn env(mut self, k: &str, v: &str) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }
}

/// A running `tappass serve`.
pub struct Gateway {
    pub url: String,
    pub port: u16,
    pub state_dir: PathBuf,
    pub admin_key: String,
    pub opts: GatewayOpts,
    pub proc: Option<Proc>,
    _tmp: Option<tempfile::TempDir>,
    pub http: reqwest::Client,
}

impl Gateway {
    pub async fn start(opts: GatewayOpts) -> Gateway {
        let (tmp, state_dir) = match &opts.state_dir {
            Some(d) => (None, d.clone()),
            None => {
                let t = tempdir();
                let d = t.path().join("state");
                (Some(t), d)
            }
        };
        let port = opts.port.unwrap_or_else(free_port);
        let mut gw = Gateway {
            url: format!("http://127.0.0.1:{port}"),
            port,
            state_dir,
            admin_key: String::new(),
            opts,
            proc: None,
            _tmp: tmp,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .unwrap(),
        };
        gw.spawn().await;
        gw
    }

    /// (Re)starts the process with the same options and state directory.
    pub async fn spawn(&mut self) {
        let mut cmd = Command::new(bin());
        cmd.arg("serve")
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .arg("--state-dir")
            .arg(&self.state_dir)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "error")
            .env(
                "TAPPASS_PROVIDERS__OPENAI__BASE_URL",
                &self.opts.openai_base,
            )
            .env(
                "TAPPASS_PROVIDERS__ANTHROPIC__BASE_URL",
                &self.opts.anthropic_base,
            )
            .env("OPENAI_API_KEY", UPSTREAM_KEY)
            .env("ANTHROPIC_API_KEY", UPSTREAM_KEY)
            .stdout(Stdio::null())
            .stderr(match &self.opts.stderr_to {
                Some(path) => Stdio::from(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .expect("open the gateway's log file"),
                ),
                None => Stdio::inherit(),
            });
        if let Db::Postgres(url) = &self.opts.db {
            cmd.args(["--database-url", url]);
        }
        if let Some(toml) = &self.opts.config {
            let path = self.config_path();
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, toml).unwrap();
            cmd.arg("--config").arg(&path);
        }
        for (k, v) in &self.opts.env {
            cmd.env(k, v);
        }
        self.proc = Some(Proc(cmd.spawn().expect("start tappass")));
        self.wait_listening().await;
        if self.opts.wait_ready {
            self.wait_ready().await;
            self.admin_key = self.find_admin_key().await;
        }
    }

    /// Where `opts.config` is written (beside the state directory).
    pub fn config_path(&self) -> PathBuf {
        self.state_dir.parent().unwrap().join("tappass.toml")
    }

    /// Rewrites the config file and sends SIGHUP; waits until the reload is on record.
    pub async fn reload_with(&self, toml: &str) {
        std::fs::write(self.config_path(), toml).unwrap();
        let before = self.audit_all().await.len();
        let status = Command::new("kill")
            .args(["-HUP", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let events = self.audit_all().await;
            if events[before..].iter().any(|e| {
                e["event_type"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("config_reload"))
            }) {
                return;
            }
            assert!(Instant::now() < deadline, "no reload event after SIGHUP");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// POSTs a chat with extra headers; returns status, headers and JSON body.
    pub async fn chat_with(
        &self,
        key: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        self.chat_with_path("/v1/chat/completions", key, body, headers)
            .await
    }

    /// POSTs `body` to `path` with extra headers.
    pub async fn chat_with_path(
        &self,
        path: &str,
        key: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(key)
            .json(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let h = r.headers().clone();
        (status, h, r.json().await.unwrap_or(Value::Null))
    }

    /// The configured admin key (`TAPPASS_ADMIN_API_KEY`), else the generated one.
    pub async fn find_admin_key(&self) -> String {
        match self
            .opts
            .env
            .iter()
            .find(|(k, _)| k == "TAPPASS_ADMIN_API_KEY")
        {
            Some((_, v)) => v.clone(),
            None => read_admin_key(&self.state_dir).await,
        }
    }

    /// Sends SIGTERM (graceful shutdown) and returns the process to wait on.
    pub fn sigterm(&mut self) -> Proc {
        let p = self.proc.take().expect("running");
        let status = Command::new("kill")
            .args(["-TERM", &p.0.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        p
    }

    pub fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            let _ = p.0.kill(); // SIGKILL
            let _ = p.0.wait();
            std::mem::forget(p);
        }
    }

    pub fn pid(&self) -> u32 {
        self.proc.as_ref().unwrap().0.id()
    }

    async fn wait_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if self
                .http
                .get(format!("{}/health/live", self.url))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            if let Some(status) = self.proc.as_mut().unwrap().0.try_wait().unwrap() {
                panic!("tappass exited during start-up: {status}");
            }
            assert!(Instant::now() < deadline, "tappass did not start listening");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let r = self
                .http
                .get(format!("{}/health/ready", self.url))
                .send()
                .await;
            if r.is_ok_and(|r| r.status() == 200) {
                return;
            }
            assert!(Instant::now() < deadline, "tappass did not become ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub async fn get(&self, path: &str, key: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(key)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn post(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, key, body).await
    }

    pub async fn patch(&self, path: &str, key: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, key, body).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        body: &Value,
    ) -> (u16, Value) {
        let r = self
            .http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Registers an agent and returns (its key, key_id).
    pub async fn agent(&self, id: &str) -> (String, String) {
        let (status, body) = self
            .post("/admin/agents", &self.admin_key, &json!({"agent_id": id}))
            .await;
        assert_eq!(status, 201, "create agent: {body}");
        (
            body["api_key"].as_str().unwrap().to_string(),
            body["key_id"].as_str().unwrap().to_string(),
        )
    }

    pub async fn chat(&self, key: &str, model: &str, text: &str) -> (u16, Value) {
        self.post(
            "/v1/chat/completions",
            key,
            &json!({"model": model, "messages": [{"role": "user", "content": text}]}),
        )
        .await
    }

    pub async fn verify(&self) -> Value {
        let (status, body) = self.get("/audit/verify", &self.admin_key).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// All audit events (paged).
    pub async fn audit_all(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let (status, body) = self
                .get(
                    &format!("/audit?limit=1000&after_seq={after}"),
                    &self.admin_key,
                )
                .await;
            assert_eq!(status, 200, "{body}");
            let events = body["events"].as_array().unwrap().clone();
            if events.is_empty() {
                return out;
            }
            after = events.last().unwrap()["seq"].as_u64().unwrap();
            out.extend(events);
        }
    }

    /// Runs the CLI with this gateway's database and state directory.
    pub fn cli(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = Command::new(bin());
        cmd.args(args)
            .arg("--state-dir")
            .arg(&self.state_dir)
            .env("TAPPASS_URL", &self.url);
        if let Db::Postgres(url) = &self.opts.db {
            cmd.args(["--database-url", url]);
        }
        cmd.output().unwrap()
    }

    /// Executes SQL on this gateway's database directly (tampering tests).
    pub async fn sql(&self, sql: &str) {
        match &self.opts.db {
            Db::Sqlite => {
                let url = format!("sqlite://{}", self.state_dir.join("tappass.db").display());
                let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
                sqlx::query(sql).execute(&mut c).await.unwrap();
            }
            Db::Postgres(url) => {
                let mut c = sqlx::PgConnection::connect(url).await.unwrap();
                sqlx::query(sql).execute(&mut c).await.unwrap();
            }
        }
    }
}

/// The newest data-plane request event (`llm_call*`) of an audit listing.
pub fn last_call(events: &[Value]) -> &Value {
    events
        .iter()
        .rev()
        .find(|e| {
            e["event_type"]
                .as_str()
                .is_some_and(|t| t.starts_with("llm_call"))
        })
        .unwrap()
}

/// A (streamed) response body as text, read to its end.
pub async fn body_text(resp: reqwest::Response) -> String {
    use futures_util::StreamExt;
    let mut out = String::new();
    let mut s = resp.bytes_stream();
    while let Some(chunk) = s.next().await {
        out.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    out
}

async fn read_admin_key(state_dir: &Path) -> String {
    let path = state_dir.join("admin.key");
    for _ in 0..100 {
        if let Ok(k) = std::fs::read_to_string(&path) {
            return k.trim().to_string();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no admin key at {}", path.display());
}

/// Sets up the database for `backend` ("sqlite" | "postgres"); `None` = skip (see `PgDb`).
pub async fn database(backend: &str) -> Option<(Db, Option<PgDb>)> {
    match backend {
        "sqlite" => Some((Db::Sqlite, None)),
        "postgres" => {
            let pg = PgDb::create().await?;
            Some((Db::Postgres(pg.url.clone()), Some(pg)))
        }
        other => panic!("unknown backend {other}"),
    }
}

/// Runs `cmd` (stdout and stderr piped) to its end off the async runtime, copying its output to
/// ours line by line (live under `--nocapture`); returns its exit status and the output.
pub async fn run_teed(mut cmd: Command) -> (std::process::ExitStatus, String) {
    use std::sync::{Arc, Mutex};
    fn tee(
        from: impl std::io::Read + Send + 'static,
        log: Arc<Mutex<String>>,
    ) -> std::thread::JoinHandle<()> {
        std::thread::spawn(move || {
            for line in BufReader::new(from).lines() {
                let Ok(line) = line else { break };
                println!("{line}");
                let mut log = log.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        })
    }
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("start {:?}: {e}", cmd.get_program()));
    let log = Arc::new(Mutex::new(String::new()));
    let out = tee(child.stdout.take().unwrap(), log.clone());
    let err = tee(child.stderr.take().unwrap(), log.clone());
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .expect("wait for the child");
    out.join().unwrap();
    err.join().unwrap();
    let log = log.lock().unwrap().clone();
    (status, log)
}
