//! Limits shared by two gateway processes through one real Redis: exact under concurrency.

mod common;

use std::sync::Arc;

use common::{Db, Gateway, GatewayOpts, PgDb, Upstream};
use serde_json::{json, Value};

fn redis_url() -> Option<String> {
    let url =
        std::env::var("TAPPASS_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let addr = url
        .trim_start_matches("redis://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    match std::net::TcpStream::connect(&addr) {
        Ok(_) => Some(url),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("Redis is required under CI=true but {url} is unreachable: {e}")
        }
        Err(e) => {
            eprintln!("SKIP: Redis not reachable at {url} ({e}); set TAPPASS_TEST_REDIS");
            None
        }
    }
}

/// Two daemons on one PostgreSQL and one Redis.
async fn pair(config: &str) -> Option<(Upstream, Arc<Gateway>, Arc<Gateway>, PgDb, String)> {
    let redis = redis_url()?;
    let pg = PgDb::create().await?;
    let upstream = Upstream::start(&[]);
    let prefix = format!("tappass-test-{}:", uuid::Uuid::new_v4().simple());
    // A generous Redis timeout: 1,000 requests at once on a 2-core machine queue for a while,
    // and a timeout would (correctly) fail closed with 503 — not what this test measures.
    let toml = format!(
        "[redis]\nurl = \"{redis}\"\nkey_prefix = \"{prefix}\"\ntimeout_ms = 10000\n{config}"
    );
    let opts = GatewayOpts::new(Db::Postgres(pg.url.clone()), &upstream)
        .env("TAPPASS_ADMIN_API_KEY", "tp_admin_two-gateways-one-redis")
        .config(&toml);
    let a = Arc::new(Gateway::start(opts.clone()).await);
    let b = Arc::new(Gateway::start(opts).await);
    let (key, _) = a.agent("shared").await;
    Some((upstream, a, b, pg, key))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_admit_exactly_the_limit() {
    let Some((_u, a, b, _pg, key)) =
        pair("[limits]\nagent_requests = 100\nwindow_secs = 3600\n").await
    else {
        return;
    };
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let gw = if i % 2 == 0 { a.clone() } else { b.clone() };
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            gw.chat_with(
                &key,
                &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
                &[],
            )
            .await
            .0
        }));
    }
    let mut ok = 0;
    let mut limited = 0;
    for t in tasks {
        match t.await.unwrap() {
            200 => ok += 1,
            429 => limited += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    println!("admitted {ok}, limited {limited}");
    assert_eq!(ok, 100);
    assert_eq!(limited, 900);
    let (_, ready) = a.get("/health/ready", "").await;
    assert_eq!(ready["checks"]["redis"], "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_never_overspend_a_budget() {
    // $1,000 per million tokens: a call with max_tokens 20 reserves ≈ $0.03 and costs ≈ $0.01.
    let cfg = "[budgets]\nper_day_usd = 1.0\n[prices.\"gpt-4o-mini\"]\ninput_usd_per_mtok = 1000.0\noutput_usd_per_mtok = 1000.0\n";
    let Some((_u, a, b, _pg, key)) = pair(cfg).await else {
        return;
    };
    let mut tasks = Vec::new();
    for i in 0..200 {
        let gw = if i % 2 == 0 { a.clone() } else { b.clone() };
        let key = key.clone();
        tasks.push(tokio::spawn(async move {
            gw.chat_with(
                &key,
                &json!({"model": "gpt-4o-mini", "max_tokens": 20,
                        "messages": [{"role": "user", "content": format!("request number {i}")}]}),
                &[],
            )
            .await
            .0
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 402).count();
    assert_eq!(ok + refused, 200, "{statuses:?}");
    assert!(
        ok > 0 && refused > 0,
        "the budget must bind: {ok} ok, {refused} refused"
    );
    let events: Vec<Value> = a.audit_all().await;
    let spent: u64 = events
        .iter()
        .filter(|e| e["event_type"] == "llm_call")
        .filter_map(|e| e["cost"]["usd_micros"].as_u64())
        .sum();
    println!("{ok} calls admitted, {refused} refused, spent {spent} micro-USD of 1000000");
    assert!(spent <= 1_000_000, "overspent: {spent}");
    assert_eq!(a.verify().await["verified"], true);
}

/// Redis down: fail closed by default (503, /health/ready says so); `fail_open` lets requests
/// through unlimited and says so too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_unreachable_fails_closed_or_open_as_configured() {
    let upstream = Upstream::start(&[]);
    let dead = format!("redis://127.0.0.1:{}", common::free_port());
    for fail_open in [false, true] {
        let toml = format!(
            "[redis]\nurl = \"{dead}\"\ntimeout_ms = 200\nfail_open = {fail_open}\n[limits]\nagent_requests = 10\n"
        );
        let mut opts = GatewayOpts::new(Db::Sqlite, &upstream).config(&toml);
        opts.wait_ready = false;
        let mut gw = Gateway::start(opts).await;
        // Ready reflects Redis; the database itself is fine.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while gw.get("/health", "").await.1["storage"] != "sqlite" {
            assert!(std::time::Instant::now() < deadline);
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        gw.admin_key = gw.find_admin_key().await;
        let (status, ready) = gw.get("/health/ready", "").await;
        let (key, _) = gw.agent("r").await;
        let (chat, _, body) = gw
            .chat_with(
                &key,
                &json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
                &[],
            )
            .await;
        if fail_open {
            assert_eq!(status, 200, "{ready}");
            assert!(ready["checks"]["redis"]
                .as_str()
                .unwrap()
                .contains("fail-open"));
            assert_eq!(chat, 200, "{body}");
        } else {
            assert_eq!(status, 503, "{ready}");
            assert_eq!(ready["checks"]["redis"], "unavailable");
            assert_eq!(
                (chat, body["error"]["code"].as_str()),
                (503, Some("limits_unavailable"))
            );
        }
    }
}
