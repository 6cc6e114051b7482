//! The audit trail's throughput. Run: `cargo bench --bench audit`.
//!
//! Pure rows (one core, no database): linking events (canonical JSON + SHA-256, what an
//! append costs in CPU) and verifying them (what `audit verify` costs per event). Database rows,
//! against PostgreSQL (`TAPPASS_BENCH_PG`, default the test server's `test` database; skipped
//! with a message when it does not answer): sustained appends through the `AuditWriter`'s group
//! commit from many concurrent requests — durable, as the data plane appends — then
//! `verify_store` over what was written. Figures are recorded in docs/benchmarks.md.
//! `BENCH_EVENTS` (default 200,000) sets the database rows' size.

use std::time::{Duration, Instant};

use tappass::audit::chain::{link, Head, Verifier};
use tappass::audit::event::{AuditEvent, EventType};
use tappass::audit::verify::verify_store;
use tappass::audit::AuditWriter;
use tappass::store::{Backend, Store, StoreOptions};

/// An event the size of a data-plane call's (about 1 KiB canonical).
fn event(i: u64) -> AuditEvent {
    let mut e = AuditEvent::new(EventType::LlmCall).agent(format!("agent-{}", i % 50));
    e.request_id = Some(format!("req_{i:016x}"));
    e.key_id = Some("k_3f9a1c2e7b".into());
    e.session_id = Some(format!("sess_{:08x}", i / 10));
    e.provider = Some("openai".into());
    e.model = Some("gpt-4o-mini".into());
    e.stream = Some(false);
    e.status = Some(200);
    e.latency_ms = Some(12 + i % 300);
    e.details(serde_json::json!({
        "pipeline": ["authenticate", "rate_limit", "validate_input", "detect_pii",
                     "detect_secrets", "detect_injection", "detect_unicode", "classify_data",
                     "tool_permissions", "policy", "budget", "call_llm", "scan_output",
                     "cost_tracking", "audit"],
        "flags": {"mode": "standard", "pii": "redact"},
        "classification": "internal",
        "request_bytes": 338 + i % 1000,
        "response_bytes": 612,
        "injection_score_pct": 1,
        "client": "python-openai/3.57.0",
    }))
}

fn rate(n: u64, d: Duration) -> String {
    format!("{:>9.0} events/s", n as f64 / d.as_secs_f64())
}

fn pure_rows(n: u64) {
    let t0 = Instant::now();
    let mut head: Option<Head> = None;
    let mut linked = Vec::with_capacity(n as usize);
    for i in 0..n {
        let l = link(&event(i), head.as_ref()).unwrap();
        head = Some(Head {
            seq: l.seq,
            hash: l.hash.clone(),
        });
        linked.push(l);
    }
    let d = t0.elapsed();
    let bytes: usize = linked.iter().map(|l| l.canonical.len()).sum();
    println!(
        "link (build + canonical JSON + SHA-256), one core   {}   ({} B per event)",
        rate(n, d),
        bytes / n as usize
    );
    let t0 = Instant::now();
    let mut v = Verifier::new();
    for l in &linked {
        v.push(l.seq, &l.canonical, &l.hash).unwrap();
    }
    v.finish(head.as_ref()).unwrap();
    println!(
        "verify in memory, one core                          {}",
        rate(n, t0.elapsed())
    );
}

async fn database_rows(url: &str, n: u64) -> Result<(), String> {
    let admin = Store::open(&StoreOptions {
        backend: Backend::Postgres,
        url: url.to_string(),
        max_connections: 2,
        connect_timeout: Duration::from_secs(3),
        schema: None,
    })
    .await
    .map_err(|e| format!("PostgreSQL at {url}: {e}"))?;
    // A schema of its own, dropped at the end, beside whatever the database holds.
    let schema = format!("bench_audit_{}", std::process::id());
    admin
        .create_schema(&schema)
        .await
        .map_err(|e| e.to_string())?;
    let store = Store::open(&StoreOptions {
        backend: Backend::Postgres,
        url: url.to_string(),
        max_connections: 8,
        connect_timeout: Duration::from_secs(3),
        schema: Some(schema.clone()),
    })
    .await
    .map_err(|e| e.to_string())?;

    let writer = AuditWriter::spawn(store.clone(), 256);
    let clients = 512u64;
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            let mut i = c;
            while i < n {
                writer.append(event(i)).await.expect("append");
                i += clients;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let d = t0.elapsed();
    println!(
        "append through the writer, {clients} concurrent, PostgreSQL   {}   ({n} events in {:.1} s)",
        rate(n, d),
        d.as_secs_f64()
    );

    let t0 = Instant::now();
    let report = verify_store(&store).await.map_err(|e| e.to_string())?;
    let d = t0.elapsed();
    assert!(report.verified, "{report:?}");
    println!(
        "verify_store from PostgreSQL                        {}   ({} events in {:.2} s)",
        rate(report.events_checked, d),
        report.events_checked,
        d.as_secs_f64()
    );
    admin
        .drop_schema(&schema)
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn main() {
    // `cargo test --all-targets` (make test) runs this too, unoptimized: a small smoke run there.
    let scale = if cfg!(debug_assertions) { 100 } else { 1 };
    pure_rows(50_000 / scale);
    let n = std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000 / scale);
    let url = std::env::var("TAPPASS_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if let Err(why) = rt.block_on(database_rows(&url, n)) {
        println!("SKIP the database rows: {why}");
    }
}
