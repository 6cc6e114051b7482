//! Faults under load (issue 13): the database going away, Redis killed, the state directory
//! full, the upstream slow, failing, resetting connections, sending garbage and cutting streams.
//! For each: no panic, clear errors to clients, no audit event lost or written twice, and a
//! chain that verifies after recovery. (kill -9 under load is in `resilience.rs`; each upstream
//! fault one request at a time, with its exact audit record, in `hostile.rs`.)
//!
//! Small by default; `TAPPASS_FAULTS_LARGE=1` runs them longer and with more clients.

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::tcp_cut::{target_of, TcpCut};
use common::{Db, Gateway, GatewayOpts, PgDb, Upstream};
use serde_json::{json, Value};
use tokio::sync::Mutex;

fn large() -> bool {
    std::env::var("TAPPASS_FAULTS_LARGE").is_ok_and(|v| v == "1")
}

/// One request of the load and what came of it.
#[derive(Debug, Clone)]
struct Outcome {
    sent: Instant,
    answered: Instant,
    status: u16,
    /// `tappass.audit_id` of a 2xx, `error.code` otherwise.
    id_or_code: String,
}

/// Clients sending chat requests back to back until `stop`.
struct Load {
    stop: Arc<AtomicBool>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

/// What one request of a load sends: `(model, text, stream)` for worker `w`'s `i`-th request.
type Request = Arc<dyn Fn(usize, usize) -> (&'static str, String, bool) + Send + Sync>;

impl Load {
    /// Plain chat requests to the healthy upstream.
    fn start(gw: &Gateway, key: &str, clients: usize) -> Load {
        Self::start_with(
            gw,
            key,
            clients,
            Arc::new(|w, i| ("gpt-4o-mini", format!("w{w} r{i}"), false)),
        )
    }

    fn start_with(gw: &Gateway, key: &str, clients: usize, request: Request) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let outcomes: Arc<Mutex<Vec<Outcome>>> = Arc::default();
        let workers = (0..clients)
            .map(|w| {
                let (http, url, key) = (gw.http.clone(), gw.url.clone(), key.to_string());
                let (stop, outcomes, request) = (stop.clone(), outcomes.clone(), request.clone());
                tokio::spawn(async move {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        i += 1;
                        let (model, text, stream) = request(w, i);
                        let sent = Instant::now();
                        let r = http
                            .post(format!("{url}/v1/chat/completions"))
                            .bearer_auth(&key)
                            .json(&json!({"model": model, "stream": stream,
                                "messages": [{"role": "user", "content": text}]}))
                            .timeout(Duration::from_secs(30))
                            .send()
                            .await;
                        let Ok(r) = r else {
                            // The daemon is down (restart): nothing was answered.
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            continue;
                        };
                        let status = r.status().as_u16();
                        let text = r.text().await.unwrap_or_default();
                        let id_or_code = if status == 200 && stream {
                            // A stream's audit_id is not in its events; what matters is its end.
                            if text.contains("data: [DONE]") {
                                "stream:done"
                            } else {
                                "stream:cut"
                            }
                            .to_string()
                        } else {
                            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                            let at = if status == 200 {
                                &body["tappass"]["audit_id"]
                            } else {
                                &body["error"]["code"]
                            };
                            at.as_str().unwrap_or("").to_string()
                        };
                        outcomes.lock().await.push(Outcome {
                            sent,
                            answered: Instant::now(),
                            status,
                            id_or_code,
                        });
                    }
                })
            })
            .collect();
        Load {
            stop,
            outcomes,
            workers,
        }
    }

    async fn count(&self) -> usize {
        self.outcomes.lock().await.len()
    }

    /// Waits until `n` more requests were answered (whatever their status).
    async fn wait_more(&self, n: usize, within: Duration) {
        let target = self.count().await + n;
        let t0 = Instant::now();
        while self.count().await < target {
            assert!(t0.elapsed() < within, "the load stalled");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the last 50 requests sent after `since` were all answered 200: service came
    /// back by itself after `what`.
    async fn wait_recovered(&self, since: Instant, what: &str) {
        loop {
            let outcomes = self.outcomes.lock().await;
            let recent: Vec<&Outcome> = outcomes.iter().filter(|o| o.sent > since).collect();
            if recent.len() >= 50 && recent[recent.len() - 50..].iter().all(|o| o.status == 200) {
                return;
            }
            drop(outcomes);
            assert!(
                since.elapsed() < Duration::from_secs(30),
                "no recovery after {what}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn finish(self) -> Vec<Outcome> {
        self.stop.store(true, Ordering::Relaxed);
        for w in self.workers {
            w.await.unwrap();
        }
        let outcomes = self.outcomes.lock().await.clone();
        outcomes
    }
}

/// Polls `/health` (public part) until `audit_spool` is `want`.
async fn wait_spool(gw: &Gateway, want: &str, within: Duration) {
    let t0 = Instant::now();
    loop {
        let (_, h) = gw.get("/health", "").await;
        if h["audit_spool"] == want {
            return;
        }
        assert!(
            t0.elapsed() < within,
            "audit spool not {want} after {within:?}: {h}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every 2xx is in the chain exactly once, the chain verifies, and the chain's order never
/// contradicts what the clients saw: a request answered before another was sent comes first.
async fn assert_chain_keeps_every_answer(gw: &Gateway, outcomes: &[Outcome]) {
    let report = gw.verify().await;
    assert_eq!(report["verified"], true, "{report}");
    let events = gw.audit_all().await;
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=events.len() as u64).collect::<Vec<_>>());
    let mut seq_of: HashMap<&str, u64> = HashMap::new();
    for e in &events {
        let id = e["audit_id"].as_str().unwrap();
        assert!(
            seq_of.insert(id, e["seq"].as_u64().unwrap()).is_none(),
            "{id} is in the chain twice"
        );
    }
    let answered: Vec<&Outcome> = outcomes.iter().filter(|o| o.status == 200).collect();
    let missing: Vec<&str> = answered
        .iter()
        .map(|o| o.id_or_code.as_str())
        .filter(|id| !seq_of.contains_key(id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} answered requests are not in the chain: {:?}",
        missing.len(),
        answered.len(),
        &missing[..missing.len().min(5)]
    );
    let ids: HashSet<&str> = answered.iter().map(|o| o.id_or_code.as_str()).collect();
    assert_eq!(
        ids.len(),
        answered.len(),
        "an audit_id was handed out twice"
    );
    // Order: sweep the requests by send time; every answer that arrived before must be earlier
    // in the chain.
    let mut by_answer: Vec<&Outcome> = answered.clone();
    by_answer.sort_by_key(|o| o.answered);
    let mut by_send: Vec<&Outcome> = answered.clone();
    by_send.sort_by_key(|o| o.sent);
    let (mut i, mut max_before) = (0, 0u64);
    for o in by_send {
        while i < by_answer.len() && by_answer[i].answered < o.sent {
            max_before = max_before.max(seq_of[by_answer[i].id_or_code.as_str()]);
            i += 1;
        }
        let seq = seq_of[o.id_or_code.as_str()];
        assert!(
            seq > max_before,
            "{} (seq {seq}) was sent after a request at seq {max_before} was answered, yet comes before it",
            o.id_or_code
        );
    }
}

/// PostgreSQL unreachable under load, with a kill -9 and a restart in the middle of the outage:
/// the data plane keeps answering from the spool, the restarted daemon adopts what the dead one
/// spooled, and on recovery one chain holds every answered request once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_outage_under_load_is_spooled_then_replayed_in_order() {
    let Some(pg) = PgDb::create().await else {
        return;
    };
    let (outage, clients) = if large() {
        (Duration::from_secs(30), 32)
    } else {
        (Duration::from_secs(8), 8)
    };
    let cut = TcpCut::start(target_of(&pg.url)).await;
    let upstream = Upstream::start(&[]);
    let mut gw = Gateway::start(
        GatewayOpts::new(Db::Postgres(cut.url(&pg.url)), &upstream)
            .env("TAPPASS_DATABASE__CONNECT_TIMEOUT_SECS", "1"),
    )
    .await;
    let (key, _) = gw.agent("through-outage").await;
    let load = Load::start(&gw, &key, clients);
    load.wait_more(100, Duration::from_secs(30)).await;

    // The outage: the first half with this daemon, then kill -9 and a new one.
    cut.cut();
    let t0 = Instant::now();
    load.wait_more(200, outage).await;
    wait_spool(&gw, "spooling", Duration::from_secs(5)).await;
    let (status, ready) = gw.get("/health/ready", "").await;
    assert_eq!(status, 200, "serving from the spool is ready: {ready}");
    assert_eq!(ready["status"], "degraded", "{ready}");
    tokio::time::sleep(outage / 2).await;
    gw.kill9();
    gw.opts.wait_ready = false;
    gw.spawn().await;
    // The new daemon has read no key yet: it cannot tell who calls, and says so.
    let (status, body) = gw.chat(&key, "gpt-4o-mini", "who am I?").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (503, Some("storage_unavailable")),
        "{body}"
    );
    let (status, _) = gw.get("/health/ready", "").await;
    assert_eq!(status, 503);
    tokio::time::sleep(outage.saturating_sub(t0.elapsed())).await;

    cut.restore();
    gw.wait_ready().await;
    load.wait_more(200, Duration::from_secs(30)).await;
    let outcomes = load.finish().await;
    wait_spool(&gw, "idle", Duration::from_secs(30)).await;

    // Clients saw answers or clear errors, never anything else.
    let mut by_status: HashMap<(u16, String), usize> = HashMap::new();
    for o in &outcomes {
        let code = if o.status == 200 {
            String::new()
        } else {
            o.id_or_code.clone()
        };
        *by_status.entry((o.status, code)).or_default() += 1;
    }
    for ((status, code), n) in &by_status {
        assert!(
            *status == 200 || (*status == 503 && code == "storage_unavailable"),
            "{n} × {status} {code}: {by_status:?}"
        );
    }
    let during: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.sent > t0 && o.answered < t0 + outage / 2)
        .collect();
    let served = during.iter().filter(|o| o.status == 200).count();
    assert!(
        served >= 100 && served * 100 >= during.len() * 95,
        "the outage's first half: {served} of {} answered",
        during.len()
    );
    gw.admin_key = gw.find_admin_key().await;
    assert_chain_keeps_every_answer(&gw, &outcomes).await;
    eprintln!(
        "outage {outage:?}: {} requests, {by_status:?}",
        outcomes.len()
    );
    // No segment is left behind.
    let left: Vec<_> = std::fs::read_dir(gw.state_dir.join("spool"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// A redis-server of this test's own, on its own port, so it can be killed.
struct OwnRedis {
    proc: Option<common::Proc>,
}

impl OwnRedis {
    fn start(port: u16) -> Option<OwnRedis> {
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) if common::in_ci() => panic!("redis-server is required under CI=true: {e}"),
            Err(e) => {
                eprintln!("SKIP: cannot start redis-server ({e})");
                return None;
            }
        };
        let t0 = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(OwnRedis {
            proc: Some(common::Proc(child)),
        })
    }

    fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            let _ = p.0.kill();
            let _ = p.0.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Redis killed under load: limits cannot be checked, so requests are refused with a clear 503
/// (fail closed) and audited; once Redis is back, service resumes by itself, and the chain holds
/// every answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_under_load_fails_closed_then_recovers() {
    let Some(pg) = PgDb::create().await else {
        return;
    };
    let port = common::free_port();
    let Some(mut redis) = OwnRedis::start(port) else {
        return;
    };
    let (down, clients) = if large() {
        (Duration::from_secs(30), 32)
    } else {
        (Duration::from_secs(4), 8)
    };
    let upstream = Upstream::start(&[]);
    let toml = format!(
        "[redis]\nurl = \"redis://127.0.0.1:{port}\"\ntimeout_ms = 500\n\
         [limits]\nagent_requests = 100000000\nwindow_secs = 60\n"
    );
    let gw =
        Gateway::start(GatewayOpts::new(Db::Postgres(pg.url.clone()), &upstream).config(&toml))
            .await;
    let (key, _) = gw.agent("through-redis-death").await;
    let load = Load::start(&gw, &key, clients);
    load.wait_more(100, Duration::from_secs(30)).await;

    redis.kill9();
    let t0 = Instant::now();
    tokio::time::sleep(down).await;
    let refused_while_down = {
        let outcomes = load.outcomes.lock().await;
        outcomes
            .iter()
            .filter(|o| o.sent > t0 + Duration::from_secs(1) && o.status != 200)
            .count()
    };
    let mut redis = OwnRedis::start(port).expect("redis-server restarts");
    // Service resumes by itself: 50 answers in a row after the restart.
    let t1 = Instant::now();
    load.wait_recovered(t1, "Redis came back").await;
    let outcomes = load.finish().await;
    redis.kill9();

    assert!(
        refused_while_down > 0,
        "nothing was refused while Redis was down"
    );
    for o in &outcomes {
        assert!(
            o.status == 200 || (o.status == 503 && o.id_or_code == "limits_unavailable"),
            "{} {}",
            o.status,
            o.id_or_code
        );
    }
    assert_chain_keeps_every_answer(&gw, &outcomes).await;
    let refused = outcomes.iter().filter(|o| o.status != 200).count();
    eprintln!(
        "redis down {down:?}: {} requests, {refused} refused (limits_unavailable)",
        outcomes.len()
    );
}

/// A small tmpfs mounted for one test (root only), unmounted when dropped.
struct SmallFs {
    dir: std::path::PathBuf,
    _parent: tempfile::TempDir,
}

impl SmallFs {
    /// Owned by `uid:gid`: as root the daemon drops to its own user (`[sandbox] uid`, 999) and
    /// refuses a state directory it does not own.
    fn mount(size: &str, uid: u32, gid: u32) -> Option<SmallFs> {
        let parent = common::tempdir();
        let dir = parent.path().join("state");
        std::fs::create_dir(&dir).unwrap();
        let mounted = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700,uid={uid},gid={gid}"),
                "tmpfs",
            ])
            .arg(&dir)
            .status();
        match mounted {
            Ok(s) if s.success() => Some(SmallFs {
                dir,
                _parent: parent,
            }),
            other if common::in_ci() => panic!("CI runs as root and must mount a tmpfs: {other:?}"),
            other => {
                eprintln!("SKIP: cannot mount a tmpfs (not root?): {other:?}");
                None
            }
        }
    }

    /// Fills the file system; returns the filler to delete.
    fn fill(&self) -> std::path::PathBuf {
        use std::io::Write;
        let path = self.dir.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        while f.write_all(&block[..512]).is_ok() {}
        let _ = f.sync_all();
        path
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.dir)
            .status();
    }
}

/// The state directory full (SQLite and the spool both live there): requests are refused with
/// a clear 503, nothing answered goes unrecorded, and once space is freed service resumes by
/// itself with a chain that verifies. The log names the cause without flooding: a handful of
/// ERROR lines for the whole episode, not one per refused request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_directory_full_fails_closed_then_recovers() {
    let Some(fs) = SmallFs::mount("8m", 999, 65534) else {
        return;
    };
    let upstream = Upstream::start(&[]);
    let log_dir = common::tempdir();
    let log = log_dir.path().join("tappass.log");
    let mut opts = GatewayOpts::new(Db::Sqlite, &upstream);
    opts.state_dir = Some(fs.dir.clone());
    opts.stderr_to = Some(log.clone());
    let gw = Gateway::start(opts).await;
    let (key, _) = gw.agent("disk-full").await;
    let load = Load::start(&gw, &key, 4);
    load.wait_more(50, Duration::from_secs(30)).await;

    let filler = fs.fill();
    let t0 = Instant::now();
    load.wait_more(50, Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    std::fs::remove_file(&filler).unwrap();
    let t1 = Instant::now();
    load.wait_recovered(t1, "space was freed").await;
    let outcomes = load.finish().await;
    let refused = outcomes
        .iter()
        .filter(|o| o.sent > t0 && o.answered < t1 && o.status != 200)
        .count();
    assert!(refused > 0, "nothing was refused while the disk was full");
    for o in &outcomes {
        assert!(
            o.status == 200 || (o.status == 503 && o.id_or_code == "storage_unavailable"),
            "{} {}",
            o.status,
            o.id_or_code
        );
    }
    wait_spool(&gw, "idle", Duration::from_secs(30)).await;
    assert_chain_keeps_every_answer(&gw, &outcomes).await;
    let logged = std::fs::read_to_string(&log).unwrap();
    let errors: Vec<&str> = logged.lines().filter(|l| l.contains("ERROR")).collect();
    assert!(
        errors.iter().any(|l| l.contains("audit append failed")),
        "the cause is not in the log:\n{logged}"
    );
    assert!(
        errors.len() <= 10,
        "{} ERROR lines for one episode of {refused} refused requests:\n{}",
        errors.len(),
        errors[..errors.len().min(20)].join("\n")
    );
    eprintln!(
        "state directory full: {} requests, {refused} refused while full, {} ERROR lines logged:\n{}",
        outcomes.len(),
        errors.len(),
        errors.join("\n")
    );
}

/// A provider that resets every connection: accepts, lets the request arrive, and closes with
/// the request unread — Linux answers that with a TCP RST.
fn resetting_provider() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(5));
                drop(conn);
            });
        }
    });
    format!("http://{addr}/v1")
}

/// The upstream misbehaving in every way at once, under load: slow answers, 5xx, garbage
/// bodies, streams cut in the middle, answers that never come (the provider's timeout), and a
/// second provider that resets every connection. Each client sees a clear answer for its kind,
/// every request leaves its audit event (and every stream its completion event), healthy
/// requests keep being served throughout, and the chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_faults_under_load_are_answered_clearly_and_audited() {
    let Some(pg) = PgDb::create().await else {
        return;
    };
    let (run, clients) = if large() {
        (Duration::from_secs(30), 32)
    } else {
        (Duration::from_secs(4), 12)
    };
    let upstream = Upstream::start(&[]);
    let toml = format!(
        "[providers.openai]\ntimeout_secs = 1\n\
         [providers.resetter]\nkind = \"openai\"\nbase_url = \"{}\"\napi_key_env = \"\"\n",
        resetting_provider()
    );
    let gw =
        Gateway::start(GatewayOpts::new(Db::Postgres(pg.url.clone()), &upstream).config(&toml))
            .await;
    let (key, _) = gw.agent("through-upstream-faults").await;
    // The kind of a request is its worker's number: every kind runs all the time.
    const KINDS: usize = 7;
    let request: Request = Arc::new(|w, i| match w % KINDS {
        0 => ("gpt-4o-mini", format!("healthy w{w} r{i}"), false),
        1 => ("gpt-4o-mini", format!("slow fake:latency=200 r{i}"), false),
        2 => (
            "gpt-4o-mini",
            format!("failing fake:status=500 r{i}"),
            false,
        ),
        3 => ("gpt-4o-mini", format!("garbage fake:malformed r{i}"), false),
        4 => (
            "gpt-4o-mini",
            format!("cut short fake:stream_cut r{i}"),
            true,
        ),
        5 => (
            "gpt-4o-mini",
            format!("never answers fake:hang r{i}"),
            false,
        ),
        _ => ("resetter/gpt-4o-mini", format!("reset r{i}"), false),
    });
    let load = Load::start_with(&gw, &key, clients.max(KINDS), request);
    tokio::time::sleep(run).await;
    let outcomes = load.finish().await;

    // Each kind's answer, exactly (worker w sent kind w % KINDS; outcomes do not say which
    // worker, so match on the answer and count per kind).
    let count = |status: u16, what: &str| {
        outcomes
            .iter()
            .filter(|o| o.status == status && o.id_or_code == what)
            .count()
    };
    let ok = outcomes
        .iter()
        .filter(|o| o.status == 200 && o.id_or_code.starts_with("aud"))
        .count();
    let table = [
        ("200 answered (healthy, slow)", ok),
        ("502 upstream_error (5xx)", count(502, "upstream_error")),
        (
            "502 upstream_malformed (garbage)",
            count(502, "upstream_malformed"),
        ),
        ("200 stream cut", count(200, "stream:cut")),
        (
            "504 upstream_timeout (hang)",
            count(504, "upstream_timeout"),
        ),
        (
            "502 upstream_unavailable (reset)",
            count(502, "upstream_unavailable"),
        ),
    ];
    println!("{} requests in {run:?}: {table:?}", outcomes.len());
    let explained: usize = table.iter().map(|(_, n)| n).sum();
    let odd: Vec<_> = outcomes
        .iter()
        .filter(|o| {
            !(o.status == 200 && (o.id_or_code.starts_with("aud") || o.id_or_code == "stream:cut")
                || matches!(
                    (o.status, o.id_or_code.as_str()),
                    (
                        502,
                        "upstream_error" | "upstream_malformed" | "upstream_unavailable"
                    ) | (504, "upstream_timeout")
                ))
        })
        .take(5)
        .collect();
    assert_eq!(explained, outcomes.len(), "unexpected answers: {odd:?}");
    for (what, n) in table {
        assert!(n > 0, "no request ended as {what}");
    }
    assert_eq!(
        count(200, "stream:done"),
        0,
        "a cut stream ended as if complete"
    );

    // Nothing lost: one event per request, one completion per stream, every answer once.
    let events = gw.audit_all().await;
    let per_request = events
        .iter()
        .filter(|e| {
            matches!(
                e["event_type"].as_str(),
                Some("llm_call" | "llm_call_failed" | "llm_call_blocked")
            )
        })
        .count();
    assert_eq!(
        per_request,
        outcomes.len(),
        "requests without their audit event"
    );
    let completions = events
        .iter()
        .filter(|e| e["event_type"] == "llm_stream_completed")
        .filter(|e| e["details"]["outcome"] == "upstream_error")
        .count();
    assert_eq!(
        completions,
        count(200, "stream:cut"),
        "cut streams without their completion event"
    );
    // Streams carry no audit_id in their events; every other answer is checked by its id.
    let by_id: Vec<Outcome> = outcomes
        .iter()
        .filter(|o| !o.id_or_code.starts_with("stream:"))
        .cloned()
        .collect();
    assert_chain_keeps_every_answer(&gw, &by_id).await;

    // And the gateway is none the worse.
    let (status, body) = gw.chat(&key, "gpt-4o-mini", "still here").await;
    assert_eq!(status, 200, "{body}");
}
