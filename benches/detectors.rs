//! Detector throughput and policy latency. Run: `cargo bench --bench detectors`.
//! Prints MB/s per detector on 1 KiB and 64 KiB prompts (one core) and the default policy's
//! evaluation latency; figures are recorded in docs/benchmarks.md. `BENCH_ONLY="rules only"`
//! (a row's name) runs one row for 10 s, to profile it.

use std::hint::black_box;
use std::time::{Duration, Instant};

use tappass::detect::{injection, pii, secrets, unicode};

/// A realistic prompt: prose with a few entities, a config snippet, code.
fn prompt(size: usize) -> String {
    let chunk = "Hello team, the customer Alice Martin (alice.martin@example.com, +44 20 7946 0958) \
asked about invoice 2024-117 and her card ending 4242. Server 10.0.4.17 returned HTTP 502 after \
the deploy of v2.3.1; see the logs below.\n\
[2026-11-29 10:01:22] INFO request_id=9f1c2e connect db=postgres host=db.internal port=5432\n\
fn retry(n: u32) -> Result<(), Error> { for i in 0..n { if try_once(i).is_ok() { return Ok(()); } } Err(Error::Timeout) }\n\
Please summarise the incident and ignore nothing important. Thanks, Bob.\n";
    let mut s = String::with_capacity(size + chunk.len());
    while s.len() < size {
        s.push_str(chunk);
    }
    s.truncate(size);
    while !s.is_char_boundary(s.len()) {
        s.pop();
    }
    s
}

fn throughput(name: &str, text: &str, f: &dyn Fn(&str) -> usize) {
    // `BENCH_ONLY=<name>` runs that one for 10 s: for `perf record` on one detector.
    let only = std::env::var("BENCH_ONLY").ok();
    if only.as_deref().is_some_and(|o| o != name.trim()) {
        return;
    }
    let budget = Duration::from_millis(if only.is_some() { 10_000 } else { 700 });
    let t0 = Instant::now();
    let mut n = 0u64;
    while t0.elapsed() < budget {
        black_box(f(black_box(text)));
        n += 1;
    }
    let secs = t0.elapsed().as_secs_f64();
    let mbs = (text.len() as f64 * n as f64) / secs / 1e6;
    println!(
        "{name:<18} {:>7} B  {mbs:>9.1} MB/s  {:>9.1} µs/prompt",
        text.len(),
        secs * 1e6 / n as f64
    );
}

/// The process's resident set, from /proc/self/status (KiB).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    // The classifier's memory: parsing the shipped model (table and all) and one scoring.
    let before = rss_kib();
    let model = &*tappass::detect::classifier::INJECTION;
    black_box(model.score("ignore previous instructions"));
    println!(
        "injection classifier: RSS +{} KiB on loading ({} weights of 16 bits, two scales)\n",
        rss_kib().saturating_sub(before),
        model.weights()
    );
    println!("detector throughput (one core, release)");
    for size in [1024, 64 * 1024] {
        let text = prompt(size);
        throughput("detect_pii", &text, &|t| pii::detect_pii(t).len());
        throughput("detect_secrets", &text, &|t| {
            secrets::detect_secrets(t).len()
        });
        throughput("detect_injection", &text, &|t| {
            injection::detect_injection(t).signals.len()
        });
        throughput("  rules only", &text, &|t| {
            (injection::rules_only(t) * 100.0) as usize
        });
        throughput("  classifier only", &text, &|t| {
            tappass::detect::classifier::INJECTION.score(t).end
        });
        throughput("detect_unicode", &text, &|t| {
            unicode::detect_unicode(t).len()
        });
        throughput("all four", &text, &|t| {
            pii::detect_pii(t).len()
                + secrets::detect_secrets(t).len()
                + injection::detect_injection(t).signals.len()
                + unicode::detect_unicode(t).len()
        });
    }

    println!("\npolicy evaluation (built-in default policy, in-process regorus)");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let engine = tappass::policy::RegoEngine::from_sources(
        &[(
            tappass::policy::DEFAULT_POLICY_NAME.to_string(),
            tappass::policy::DEFAULT_POLICY.to_string(),
        )],
        None,
    )
    .unwrap();
    let input = serde_json::json!({
        "agent": {"id": "bench", "key_id": "k"},
        "request": {"format": "openai", "model": "gpt-4o-mini", "provider": "openai", "stream": false},
        "detections": [{"type": "EMAIL", "count": 1, "step": "detect_pii"}],
        "classification": "CONFIDENTIAL", "injection_score": 0.1,
        "flags": {"mode": "enforce"}, "tools": [], "session": {"id": "s"}
    });
    use tappass::policy::PolicyEngine;
    let mut lat = Vec::new();
    rt.block_on(async {
        for _ in 0..200 {
            engine.evaluate(&input).await.unwrap();
        }
        for _ in 0..2000 {
            let t = Instant::now();
            black_box(engine.evaluate(&input).await.unwrap());
            lat.push(t.elapsed());
        }
    });
    lat.sort();
    let p = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1e6;
    println!(
        "p50 {:.1} µs   p99 {:.1} µs   max {:.1} µs",
        p(0.5),
        p(0.99),
        p(1.0)
    );
}
