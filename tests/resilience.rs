//! Fail-closed storage, concurrency, crashes and scale-out: the audit promise under stress.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{database, Db, Gateway, GatewayOpts, PgDb, Upstream};
use serde_json::{json, Value};
use tokio::sync::Mutex;

fn llm_calls(events: &[Value]) -> Vec<&Value> {
    events
        .iter()
        .filter(|e| e["event_type"] == "llm_call")
        .collect()
}

/// A database that is down keeps the daemon up, degraded and refusing; once it is back the
/// daemon recovers by itself — and nothing was ever served or stored in memory meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unreachable_fails_closed_then_recovers() {
    let Some(_probe) = PgDb::create().await else {
        return;
    };
    let pg = PgDb::reserve(); // its database does not exist yet
    let upstream = Upstream::start(&[]);
    let mut opts = GatewayOpts::new(Db::Postgres(pg.url.clone()), &upstream);
    opts.wait_ready = false;
    let gw = Gateway::start(opts).await;

    let (status, health) = gw.get("/health", "").await;
    assert_eq!(status, 200);
    assert_eq!(health["storage"], "unavailable");
    assert_eq!(health["status"], "degraded");
    let (status, ready) = gw.get("/health/ready", "").await;
    assert_eq!(status, 503);
    assert_eq!(ready["checks"]["database"], "unavailable");
    let (status, body) = gw
        .chat(
            "tp_aaaaaaaaaaaa_0123456789abcdef0123456789abcdef",
            "gpt-4o-mini",
            "hi",
        )
        .await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], "storage_unavailable");
    let (status, _) = gw
        .get(
            "/admin/agents",
            "tp_admin_aaaaaaaaaaaa_0123456789abcdef0123456789abcdef",
        )
        .await;
    assert_eq!(status, 503);

    pg.create_now().await;
    gw.wait_ready().await; // the supervisor retries on its own
    let admin = gw.find_admin_key().await;
    let (status, health) = gw.get("/health", &admin).await;
    assert_eq!(
        (status, health["storage"].as_str()),
        (200, Some("postgresql"))
    );
    let mut gw = gw;
    gw.admin_key = admin;
    let (key, _) = gw.agent("bot").await;
    assert_eq!(gw.chat(&key, "gpt-4o-mini", "hi").await.0, 200);
    assert_eq!(gw.verify().await["verified"], true);
}

async fn concurrent_requests_all_on_one_chain(backend: &str) {
    let Some((db, _pg)) = database(backend).await else {
        return;
    };
    let upstream = Upstream::start(&[]);
    let gw = Arc::new(Gateway::start(GatewayOpts::new(db, &upstream)).await);
    let (key, _) = gw.agent("load").await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let gw = gw.clone();
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let (status, body) = gw.chat(&key, "gpt-4o-mini", &format!("request {i}")).await;
            assert_eq!(status, 200, "{body}");
            body["tappass"]["audit_id"].as_str().unwrap().to_string()
        }));
    }
    let mut ids = HashSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap());
    }
    assert_eq!(ids.len(), 200);
    let report = gw.verify().await;
    assert_eq!(report["verified"], true, "{report}");
    let events = gw.audit_all().await;
    let calls: HashSet<String> = llm_calls(&events)
        .iter()
        .map(|e| e["audit_id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        calls, ids,
        "every answered request is in the chain exactly once"
    );
    let seqs: Vec<u64> = events.iter().map(|e| e["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=events.len() as u64).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_200_concurrent_requests() {
    concurrent_requests_all_on_one_chain("sqlite").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_200_concurrent_requests() {
    concurrent_requests_all_on_one_chain("postgres").await
}

/// kill -9 under load: after a restart the chain verifies and every request that got a 2xx is
/// in the audit trail.
async fn kill9_under_load(backend: &str) {
    let Some((db, _pg)) = database(backend).await else {
        return;
    };
    let upstream = Upstream::start(&[]);
    let mut gw = Gateway::start(GatewayOpts::new(db, &upstream)).await;
    let (key, _) = gw.agent("crash").await;
    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = Vec::new();
    for w in 0..16 {
        let (http, url, key) = (gw.http.clone(), gw.url.clone(), key.clone());
        let (answered, stop) = (answered.clone(), stop.clone());
        workers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let r = http
                    .post(format!("{url}/v1/chat/completions"))
                    .bearer_auth(&key)
                    .json(&json!({"model": "gpt-4o-mini",
                                  "messages": [{"role": "user", "content": format!("w{w} r{i}")}]}))
                    .send()
                    .await;
                let Ok(r) = r else { continue };
                if r.status().is_success() {
                    if let Ok(body) = r.json::<Value>().await {
                        answered
                            .lock()
                            .await
                            .push(body["tappass"]["audit_id"].as_str().unwrap().to_string());
                    }
                }
            }
        }));
    }
    // Let the load build up, then crash the daemon mid-flight.
    let t0 = Instant::now();
    while answered.lock().await.len() < 150 && t0.elapsed() < Duration::from_secs(20) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    gw.kill9();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for w in workers {
        w.await.unwrap();
    }
    let answered = answered.lock().await.clone();
    assert!(
        answered.len() >= 150,
        "load did not build up: {}",
        answered.len()
    );

    gw.spawn().await;
    let report = gw.verify().await;
    assert_eq!(report["verified"], true, "{report}");
    let events = gw.audit_all().await;
    let recorded: HashSet<&str> = events
        .iter()
        .filter_map(|e| e["audit_id"].as_str())
        .collect();
    let missing: Vec<&String> = answered
        .iter()
        .filter(|id| !recorded.contains(id.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "{} answered requests missing from the audit: {missing:?}",
        missing.len()
    );
    // and the daemon serves again
    assert_eq!(gw.chat(&key, "gpt-4o-mini", "after crash").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kill9_under_load_loses_no_answered_request() {
    kill9_under_load("sqlite").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_kill9_under_load_loses_no_answered_request() {
    kill9_under_load("postgres").await
}

/// Two daemons sharing one PostgreSQL (the scale-out case) build one chain that verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_on_one_postgres_share_one_chain() {
    let Some(pg) = PgDb::create().await else {
        return;
    };
    let upstream = Upstream::start(&[]);
    let admin = "tp_admin_shared-admin-key-for-the-two-daemons";
    let opts = GatewayOpts::new(Db::Postgres(pg.url.clone()), &upstream)
        .env("TAPPASS_ADMIN_API_KEY", admin);
    let a = Arc::new(Gateway::start(opts.clone()).await);
    let b = Arc::new(Gateway::start(opts).await);
    let (key, _) = a.agent("scale").await; // registered through A, used through both
    let mut tasks = Vec::new();
    for i in 0..300 {
        let gw = if i % 2 == 0 { a.clone() } else { b.clone() };
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            let (status, body) = gw.chat(&key, "gpt-4o-mini", &format!("r{i}")).await;
            assert_eq!(status, 200, "{body}");
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    for gw in [&a, &b] {
        let report = gw.verify().await;
        assert_eq!(report["verified"], true, "{report}");
        assert_eq!(report["events_checked"], 301);
    }
    assert_eq!(llm_calls(&a.audit_all().await).len(), 300);
}

/// SIGTERM lets in-flight requests finish (graceful drain).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_in_flight_requests() {
    let upstream = Upstream::start(&[]);
    let mut gw = Gateway::start(GatewayOpts::new(Db::Sqlite, &upstream)).await;
    let (key, _) = gw.agent("drain").await;
    let (http, url) = (gw.http.clone(), gw.url.clone());
    let slow = tokio::spawn(async move {
        http.post(format!("{url}/v1/chat/completions"))
            .bearer_auth(&key)
            .json(&json!({"model": "gpt-4o-mini",
                          "messages": [{"role": "user", "content": "fake:latency=1500 slow"}]}))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut proc = gw.sigterm();
    assert_eq!(
        slow.await.unwrap().unwrap(),
        200,
        "in-flight request was cut off"
    );
    let status = proc.0.wait().unwrap();
    assert!(status.success(), "daemon exit status {status}");
    std::mem::forget(proc);
}
