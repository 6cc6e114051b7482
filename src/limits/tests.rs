//! Tests of both backends against one contract, plus what is particular to each.
//!
//! Redis tests use `TAPPASS_TEST_REDIS` (default `redis://127.0.0.1:6379`). When it cannot be
//! reached they panic under `CI=true` and otherwise print SKIP and pass. Tests that start their own
//! `redis-server` (restart, AUTH) treat a missing binary the same way. Every test uses its own key
//! prefix, so tests can run in parallel against one Redis.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::*;

// ---------------------------------------------------------------------------------------------
// helpers

/// A fixed start time in the middle of a minute (so windows of 60 s have 30 s left).
const T0: u64 = 1_800_000_030;

fn rate(key: &str, limit: u64, window_secs: u64, cost: u64) -> RateCheck {
    RateCheck {
        key: key.to_string(),
        limit,
        window_secs,
        cost,
    }
}

fn budget(key: &str, limit_micros: u64) -> BudgetCheck {
    BudgetCheck {
        key: key.to_string(),
        limit_micros,
        ttl_secs: 120,
    }
}

fn in_ci() -> bool {
    std::env::var("CI").map(|v| v == "true").unwrap_or(false)
}

/// Under CI a missing test dependency is a failure; elsewhere the test is skipped.
fn skip(test: &str, why: &str) {
    if in_ci() {
        panic!("{test}: {why} (CI=true: Redis tests must not skip)");
    }
    eprintln!("SKIP {test}: {why}");
}

fn redis_url() -> String {
    std::env::var("TAPPASS_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string())
}

/// A key prefix no other test (or earlier run) uses.
fn unique_prefix(test: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!(
        "tappass-test:{test}:{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

async fn redis_limiter(test: &str, prefix: &str) -> Option<RedisLimiter> {
    match RedisLimiter::connect(&redis_url(), prefix, Duration::from_secs(5)).await {
        Ok(l) => Some(l),
        Err(e) => {
            skip(
                test,
                &format!(
                    "Redis at {} unreachable: {e}",
                    redact_redis_url(&redis_url())
                ),
            );
            None
        }
    }
}

async fn raw_conn(url: &str) -> ::redis::aio::MultiplexedConnection {
    ::redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

async fn raw_get(conn: &mut ::redis::aio::MultiplexedConnection, key: &str) -> Option<i64> {
    ::redis::cmd("GET")
        .arg(key)
        .query_async(conn)
        .await
        .unwrap()
}

async fn raw_ttl(conn: &mut ::redis::aio::MultiplexedConnection, key: &str) -> i64 {
    ::redis::cmd("TTL")
        .arg(key)
        .query_async(conn)
        .await
        .unwrap()
}

fn limited(d: &RateDecision) -> (&str, u64, u64) {
    match d {
        RateDecision::Limited {
            key,
            limit,
            retry_after_secs,
        } => (key.as_str(), *limit, *retry_after_secs),
        RateDecision::Allowed => panic!("expected Limited, got Allowed"),
    }
}

// ---------------------------------------------------------------------------------------------
// the contract, run against both backends (on a manual clock)

async fn contract_limit_then_limited(l: &dyn Limiter, clock: &ManualClock) {
    clock.set(T0);
    let check = [rate("rpm:a", 3, 60, 1)];
    for i in 0..3 {
        assert_eq!(
            l.admit(&check).await.unwrap(),
            RateDecision::Allowed,
            "call {i}"
        );
    }
    let d = l.admit(&check).await.unwrap();
    assert_eq!(limited(&d), ("rpm:a", 3, 60 - T0 % 60));
    assert_eq!(limited(&d).2, 30);

    // Retry-After is never 0, even on the window's last second.
    clock.set(T0 - T0 % 60 + 59);
    let d = l.admit(&[rate("rpm:last-second", 0, 60, 1)]).await.unwrap();
    assert_eq!(limited(&d).2, 1);

    // Empty checks admit.
    assert_eq!(l.admit(&[]).await.unwrap(), RateDecision::Allowed);
}

async fn contract_multi_check_atomic(l: &dyn Limiter, clock: &ManualClock) {
    clock.set(T0);
    // The second check fails: the first must not be counted.
    let d = l
        .admit(&[rate("m:a", 10, 60, 1), rate("m:b", 0, 60, 1)])
        .await
        .unwrap();
    assert_eq!(limited(&d).0, "m:b");
    // "m:a" is still at 0: a limit of 1 with cost 1 passes once, then not.
    assert!(l
        .admit(&[rate("m:a", 1, 60, 1)])
        .await
        .unwrap()
        .is_allowed());
    assert!(!l
        .admit(&[rate("m:a", 1, 60, 1)])
        .await
        .unwrap()
        .is_allowed());
    // The first failing check in order is reported.
    let d = l
        .admit(&[
            rate("m:c", 5, 60, 1),
            rate("m:d", 0, 60, 1),
            rate("m:e", 0, 60, 1),
        ])
        .await
        .unwrap();
    assert_eq!(limited(&d).0, "m:d");
    // All pass: all are counted (each by its own cost).
    assert!(l
        .admit(&[rate("m:f", 2, 60, 2), rate("m:g", 5, 10, 3)])
        .await
        .unwrap()
        .is_allowed());
    assert_eq!(
        limited(&l.admit(&[rate("m:f", 2, 60, 1)]).await.unwrap()).0,
        "m:f"
    );
    assert!(l
        .admit(&[rate("m:g", 5, 10, 2)])
        .await
        .unwrap()
        .is_allowed());
    let d = l.admit(&[rate("m:g", 5, 10, 1)]).await.unwrap();
    assert_eq!(limited(&d), ("m:g", 5, 10 - T0 % 10));
}

async fn contract_cost_zero_and_consume(l: &dyn Limiter, clock: &ManualClock) {
    clock.set(T0);
    // Tokens per minute: checked with cost 0 before the call, consumed after it.
    l.consume("tpm:a", 60, 99).await.unwrap();
    for _ in 0..3 {
        assert!(l
            .admit(&[rate("tpm:a", 100, 60, 0)])
            .await
            .unwrap()
            .is_allowed());
    }
    // cost 0 counted nothing: one more unit still fits.
    assert!(l
        .admit(&[rate("tpm:a", 100, 60, 1)])
        .await
        .unwrap()
        .is_allowed());
    let d = l.admit(&[rate("tpm:a", 100, 60, 0)]).await.unwrap();
    assert_eq!(limited(&d), ("tpm:a", 100, 30));
    // consume past the limit is allowed (it records what happened) and keeps it limited.
    l.consume("tpm:a", 60, 500).await.unwrap();
    assert!(!l
        .admit(&[rate("tpm:a", 100, 60, 0)])
        .await
        .unwrap()
        .is_allowed());
    // consume 0 is a no-op; consume counts for cost > 0 checks too.
    l.consume("tpm:b", 60, 0).await.unwrap();
    l.consume("tpm:b", 60, 5).await.unwrap();
    assert!(l
        .admit(&[rate("tpm:b", 6, 60, 1)])
        .await
        .unwrap()
        .is_allowed());
    assert!(!l
        .admit(&[rate("tpm:b", 6, 60, 1)])
        .await
        .unwrap()
        .is_allowed());
    // A limit of 0 admits nothing, cost 0 included.
    assert!(!l
        .admit(&[rate("tpm:c", 0, 60, 0)])
        .await
        .unwrap()
        .is_allowed());
}

async fn contract_windows_roll_over(l: &dyn Limiter, clock: &ManualClock) {
    clock.set(T0);
    let check = [rate("roll:a", 2, 60, 1)];
    assert!(l.admit(&check).await.unwrap().is_allowed());
    assert!(l.admit(&check).await.unwrap().is_allowed());
    let retry = limited(&l.admit(&check).await.unwrap()).2;
    // One second before the end: still limited.
    clock.advance(retry - 1);
    assert!(!l.admit(&check).await.unwrap().is_allowed());
    // At the end of the window: a fresh window.
    clock.advance(1);
    assert!(l.admit(&check).await.unwrap().is_allowed());
    assert!(l.admit(&check).await.unwrap().is_allowed());
    let d = l.admit(&check).await.unwrap();
    assert_eq!(limited(&d).2, 60);
    // consume lands in the current window only.
    l.consume("roll:b", 60, 10).await.unwrap();
    assert!(!l
        .admit(&[rate("roll:b", 10, 60, 0)])
        .await
        .unwrap()
        .is_allowed());
    clock.advance(60);
    assert!(l
        .admit(&[rate("roll:b", 10, 60, 0)])
        .await
        .unwrap()
        .is_allowed());
}

async fn contract_budgets(l: &dyn Limiter, clock: &ManualClock) {
    clock.set(T0);
    let day = budget("budget:day:agent:a:2027-01-15", 10_000);
    let r1 = l.reserve(std::slice::from_ref(&day), 6_000).await.unwrap();
    assert_eq!(
        r1,
        Reservation::Granted {
            entries: vec![(day.key.clone(), 6_000, 120)]
        }
    );
    // 6 000 + 6 000 > 10 000: exhausted, nothing changes.
    assert_eq!(
        l.reserve(std::slice::from_ref(&day), 6_000).await.unwrap(),
        Reservation::Exhausted {
            key: day.key.clone(),
            limit_micros: 10_000,
            spent_micros: 6_000
        }
    );
    // The call cost less than reserved: settling frees the difference.
    l.settle(&r1, 1_000).await.unwrap();
    let r2 = l.reserve(std::slice::from_ref(&day), 9_000).await.unwrap();
    assert!(r2.is_granted());
    // Exactly at the limit: nothing more, not even a zero reservation.
    for amount in [1, 0] {
        match l.reserve(std::slice::from_ref(&day), amount).await.unwrap() {
            Reservation::Exhausted { spent_micros, .. } => assert_eq!(spent_micros, 10_000),
            r => panic!("expected Exhausted, got {r:?}"),
        }
    }
    // Settling higher than reserved records the overspend (the limit only gates new calls).
    l.settle(&r2, 12_000).await.unwrap();
    match l.reserve(std::slice::from_ref(&day), 1).await.unwrap() {
        Reservation::Exhausted { spent_micros, .. } => assert_eq!(spent_micros, 13_000),
        r => panic!("expected Exhausted, got {r:?}"),
    }
    // Settling an Exhausted reservation does nothing.
    let ex = l.reserve(std::slice::from_ref(&day), 1).await.unwrap();
    l.settle(&ex, 1_000_000).await.unwrap();
    match l.reserve(std::slice::from_ref(&day), 1).await.unwrap() {
        Reservation::Exhausted { spent_micros, .. } => assert_eq!(spent_micros, 13_000),
        r => panic!("expected Exhausted, got {r:?}"),
    }

    // Several budgets: all or nothing, the first exhausted one reported.
    let big = budget("budget:month:org:x:2027-01", 1_000_000);
    let small = budget("budget:day:agent:b:2027-01-15", 3_000);
    let r = l
        .reserve(&[big.clone(), small.clone()], 5_000)
        .await
        .unwrap();
    assert_eq!(
        r,
        Reservation::Exhausted {
            key: small.key.clone(),
            limit_micros: 3_000,
            spent_micros: 0
        }
    );
    // `big` was not touched: its whole limit is still there.
    let all = l
        .reserve(std::slice::from_ref(&big), 1_000_000)
        .await
        .unwrap();
    assert!(all.is_granted());
    l.settle(&all, 0).await.unwrap();
    let both = l
        .reserve(&[big.clone(), small.clone()], 2_000)
        .await
        .unwrap();
    assert_eq!(
        both,
        Reservation::Granted {
            entries: vec![
                (big.key.clone(), 2_000, 120),
                (small.key.clone(), 2_000, 120)
            ]
        }
    );
    l.settle(&both, 2_500).await.unwrap();
    assert!(!l
        .reserve(std::slice::from_ref(&small), 501)
        .await
        .unwrap()
        .is_granted());
    assert!(l
        .reserve(std::slice::from_ref(&small), 500)
        .await
        .unwrap()
        .is_granted());
    assert!(l
        .reserve(std::slice::from_ref(&big), 1_000_000 - 2_500)
        .await
        .unwrap()
        .is_granted());

    // Never below 0: a settle that would take a counter negative floors it at 0.
    let floor = budget("budget:day:agent:c:2027-01-15", 5_000);
    let r = l
        .reserve(std::slice::from_ref(&floor), 1_000)
        .await
        .unwrap();
    assert!(r.is_granted());
    let inflated = Reservation::Granted {
        entries: vec![(floor.key.clone(), 50_000, 120)],
    };
    l.settle(&inflated, 0).await.unwrap();
    // Spent is 0 now (not −49 000): exactly the whole limit fits again, and no more.
    assert!(!l
        .reserve(std::slice::from_ref(&floor), 5_001)
        .await
        .unwrap()
        .is_granted());
    assert!(l
        .reserve(std::slice::from_ref(&floor), 5_000)
        .await
        .unwrap()
        .is_granted());

    // No budgets: granted with nothing to settle.
    let none = l.reserve(&[], 123).await.unwrap();
    assert_eq!(none, Reservation::Granted { entries: vec![] });
    l.settle(&none, 456).await.unwrap();
}

/// 1 000 concurrent admits against a limit of 100, spread over `limiters` → exactly 100 allowed.
async fn contract_concurrent_admit(limiters: Vec<Arc<dyn Limiter>>) {
    let mut tasks = Vec::new();
    for i in 0..1000 {
        let l = limiters[i % limiters.len()].clone();
        tasks.push(tokio::spawn(async move {
            l.admit(&[
                rate("conc:rpm", 100, 60, 1),
                rate("conc:rph", 10_000, 3600, 1),
            ])
            .await
            .unwrap()
        }));
    }
    let mut allowed = 0;
    for t in tasks {
        match t.await.unwrap() {
            RateDecision::Allowed => allowed += 1,
            RateDecision::Limited { key, limit, .. } => {
                assert_eq!((key.as_str(), limit), ("conc:rpm", 100));
            }
        }
    }
    assert_eq!(allowed, 100);
    // Only the admitted ones were counted on the second (never failing) check.
    assert!(limiters[0]
        .admit(&[rate("conc:rph", 101, 3600, 0)])
        .await
        .unwrap()
        .is_allowed());
    assert!(!limiters[0]
        .admit(&[rate("conc:rph", 101, 3600, 2)])
        .await
        .unwrap()
        .is_allowed());
    assert!(limiters[0]
        .admit(&[rate("conc:rph", 101, 3600, 1)])
        .await
        .unwrap()
        .is_allowed());
}

/// 300 concurrent reserves of 5 000 against 1 000 000 → exactly 200 granted, never overspent.
async fn contract_concurrent_reserve(limiters: Vec<Arc<dyn Limiter>>) -> Vec<Reservation> {
    let b = budget("budget:day:agent:conc:2027-01-15", 1_000_000);
    let mut tasks = Vec::new();
    for i in 0..300 {
        let l = limiters[i % limiters.len()].clone();
        let b = b.clone();
        tasks.push(tokio::spawn(async move {
            l.reserve(std::slice::from_ref(&b), 5_000).await.unwrap()
        }));
    }
    let mut granted = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        match &r {
            Reservation::Granted { .. } => granted.push(r),
            Reservation::Exhausted {
                spent_micros,
                limit_micros,
                ..
            } => {
                assert_eq!(*limit_micros, 1_000_000);
                assert!(*spent_micros <= 1_000_000, "overspent: {spent_micros}");
                assert!(*spent_micros > 1_000_000 - 5_000);
            }
        }
    }
    assert_eq!(granted.len(), 200);
    match limiters[0]
        .reserve(std::slice::from_ref(&b), 0)
        .await
        .unwrap()
    {
        Reservation::Exhausted { spent_micros, .. } => assert_eq!(spent_micros, 1_000_000),
        r => panic!("expected Exhausted, got {r:?}"),
    }
    // Settling lower frees room: 10 calls that cost 1 000 instead of 5 000 free 40 000.
    for r in &granted[..10] {
        limiters[1 % limiters.len()].settle(r, 1_000).await.unwrap();
    }
    assert!(limiters[0]
        .reserve(std::slice::from_ref(&b), 40_000)
        .await
        .unwrap()
        .is_granted());
    assert!(!limiters[0]
        .reserve(std::slice::from_ref(&b), 1)
        .await
        .unwrap()
        .is_granted());
    granted
}

// ---------------------------------------------------------------------------------------------
// memory backend

fn memory() -> (MemoryLimiter, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(T0));
    (MemoryLimiter::with_clock(clock.clone()), clock)
}

#[tokio::test]
async fn memory_limit_then_limited() {
    let (l, c) = memory();
    assert_eq!(l.backend(), "memory");
    l.ping().await.unwrap();
    contract_limit_then_limited(&l, &c).await;
}

#[tokio::test]
async fn memory_multi_check_atomic() {
    let (l, c) = memory();
    contract_multi_check_atomic(&l, &c).await;
}

#[tokio::test]
async fn memory_cost_zero_and_consume() {
    let (l, c) = memory();
    contract_cost_zero_and_consume(&l, &c).await;
}

#[tokio::test]
async fn memory_windows_roll_over() {
    let (l, c) = memory();
    contract_windows_roll_over(&l, &c).await;
}

#[tokio::test]
async fn memory_budgets() {
    let (l, c) = memory();
    contract_budgets(&l, &c).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_concurrent_admit_is_exact() {
    let l: Arc<dyn Limiter> = Arc::new(memory().0);
    contract_concurrent_admit(vec![l]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_concurrent_reserve_never_overspends() {
    let l: Arc<dyn Limiter> = Arc::new(memory().0);
    contract_concurrent_reserve(vec![l]).await;
}

#[tokio::test]
async fn memory_stays_bounded() {
    let (l, c) = memory();
    for i in 0..1000 {
        l.admit(&[rate(&format!("k{i}"), 10, 60, 1)]).await.unwrap();
    }
    l.reserve(&[budget("b", 100)], 10).await.unwrap();
    assert_eq!(l.counter_count(), 1001);
    // Past the window (30 s left at T0): the window counters go at the next operation.
    c.advance(30);
    l.admit(&[rate("k0", 10, 60, 1)]).await.unwrap();
    assert_eq!(l.counter_count(), 2);
    assert_eq!(l.peek(&Window::at(c.now_secs(), 60).key("k0")), 1);
    // Past the budget's ttl (120 s after its last write): gone too.
    c.advance(91);
    l.consume("other", 60, 1).await.unwrap();
    assert_eq!(l.counter_count(), 1);
    assert_eq!(l.peek("b"), 0);
}

#[tokio::test]
async fn memory_window_zero_is_one_second() {
    let (l, c) = memory();
    let check = [rate("z", 1, 0, 1)];
    assert!(l.admit(&check).await.unwrap().is_allowed());
    assert_eq!(limited(&l.admit(&check).await.unwrap()).2, 1);
    c.advance(1);
    assert!(l.admit(&check).await.unwrap().is_allowed());
}

#[tokio::test]
async fn memory_on_the_system_clock() {
    let l = MemoryLimiter::new();
    let check = [rate("sys", 1, 3600, 1)];
    let first = l.admit(&check).await.unwrap();
    let second = l.admit(&check).await.unwrap();
    // Unless the hour turned between the two calls, the second is limited.
    if first.is_allowed() && !second.is_allowed() {
        let retry = limited(&second).2;
        assert!((1..=3600).contains(&retry));
    }
}

// ---------------------------------------------------------------------------------------------
// Redis backend

async fn redis_manual(test: &str) -> Option<(RedisLimiter, Arc<ManualClock>)> {
    let clock = Arc::new(ManualClock::new(T0));
    let l = redis_limiter(test, &unique_prefix(test)).await?;
    Some((l.with_clock(clock.clone()), clock))
}

#[tokio::test]
async fn redis_limit_then_limited() {
    let Some((l, c)) = redis_manual("redis_limit_then_limited").await else {
        return;
    };
    assert_eq!(l.backend(), "redis");
    l.ping().await.unwrap();
    contract_limit_then_limited(&l, &c).await;
}

#[tokio::test]
async fn redis_multi_check_atomic() {
    let Some((l, c)) = redis_manual("redis_multi_check_atomic").await else {
        return;
    };
    contract_multi_check_atomic(&l, &c).await;
}

#[tokio::test]
async fn redis_cost_zero_and_consume() {
    let Some((l, c)) = redis_manual("redis_cost_zero_and_consume").await else {
        return;
    };
    contract_cost_zero_and_consume(&l, &c).await;
}

#[tokio::test]
async fn redis_windows_roll_over_on_the_clock() {
    let Some((l, c)) = redis_manual("redis_windows_roll_over_on_the_clock").await else {
        return;
    };
    contract_windows_roll_over(&l, &c).await;
}

#[tokio::test]
async fn redis_budgets() {
    let Some((l, c)) = redis_manual("redis_budgets").await else {
        return;
    };
    contract_budgets(&l, &c).await;
}

/// Real time, window of 1 s: limited within the second, admitted again after it, and the old
/// counter expires by itself.
#[tokio::test]
async fn redis_windows_roll_over_in_real_time() {
    let test = "redis_windows_roll_over_in_real_time";
    let prefix = unique_prefix(test);
    let Some(l) = redis_limiter(test, &prefix).await else {
        return;
    };
    let mut raw = raw_conn(&redis_url()).await;
    // Start early in a second so that the burst below stays within one window.
    loop {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
        if now.subsec_millis() < 500 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(
            1000 - u64::from(now.subsec_millis()) + 10,
        ))
        .await;
    }
    let check = [rate("rt", 3, 1, 1)];
    let window = Window::at(SystemClock.now_secs(), 1);
    for _ in 0..3 {
        assert!(l.admit(&check).await.unwrap().is_allowed());
    }
    let d = l.admit(&check).await.unwrap();
    assert_eq!(limited(&d), ("rt", 3, 1));
    let key = format!("{}:rt:{}", prefix, window.index);
    assert_eq!(raw_get(&mut raw, &key).await, Some(3));
    let ttl = raw_ttl(&mut raw, &key).await;
    assert!((1..=2).contains(&ttl), "ttl {ttl}");

    tokio::time::sleep(Duration::from_millis(1100)).await;
    for _ in 0..3 {
        assert!(l.admit(&check).await.unwrap().is_allowed());
    }
    // The first window's counter expires (remaining 1 s + 1 s of slack).
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(raw_get(&mut raw, &key).await, None);
}

#[tokio::test]
async fn redis_keys_prefixes_and_ttls() {
    let test = "redis_keys_prefixes_and_ttls";
    let prefix = unique_prefix(test);
    let Some(l) = redis_limiter(test, &prefix).await else {
        return;
    };
    assert_eq!(l.key_prefix(), format!("{prefix}:"));
    let c = Arc::new(ManualClock::new(T0));
    let l = l.with_clock(c.clone());
    let mut raw = raw_conn(&redis_url()).await;

    l.admit(&[rate("rpm:agent:a", 5, 60, 2)]).await.unwrap();
    let key = format!("{prefix}:rpm:agent:a:{}", T0 / 60);
    assert_eq!(raw_get(&mut raw, &key).await, Some(2));
    let ttl = raw_ttl(&mut raw, &key).await;
    assert!((29..=31).contains(&ttl), "window ttl {ttl}");

    l.consume("tpm:agent:a", 3600, 700).await.unwrap();
    let key = format!("{prefix}:tpm:agent:a:{}", T0 / 3600);
    assert_eq!(raw_get(&mut raw, &key).await, Some(700));
    let expected = (3600 - T0 % 3600 + 1) as i64;
    let ttl = raw_ttl(&mut raw, &key).await;
    assert!(
        (expected - 2..=expected).contains(&ttl),
        "consume ttl {ttl}"
    );

    let b = BudgetCheck {
        key: "budget:day:agent:a:2027-01-15".into(),
        limit_micros: 1_000,
        ttl_secs: 90_000,
    };
    let r = l.reserve(std::slice::from_ref(&b), 400).await.unwrap();
    let key = format!("{prefix}:budget:day:agent:a:2027-01-15");
    assert_eq!(raw_get(&mut raw, &key).await, Some(400));
    assert!((89_998..=90_000).contains(&raw_ttl(&mut raw, &key).await));
    l.settle(&r, 150).await.unwrap();
    assert_eq!(raw_get(&mut raw, &key).await, Some(150));

    // A cost-0 check and a failed check create no keys.
    l.admit(&[rate("nokey:a", 5, 60, 0)]).await.unwrap();
    l.admit(&[rate("nokey:b", 0, 60, 1)]).await.unwrap();
    let n: i64 = ::redis::cmd("EXISTS")
        .arg(format!("{prefix}:nokey:a:{}", T0 / 60))
        .arg(format!("{prefix}:nokey:b:{}", T0 / 60))
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(n, 0);

    // A prefix ending in ':' is used as is.
    let l2 = RedisLimiter::connect(
        &redis_url(),
        &format!("{prefix}-x:"),
        Duration::from_secs(5),
    )
    .await
    .unwrap();
    assert_eq!(l2.key_prefix(), format!("{prefix}-x:"));
}

/// Two limiters with their own connections (two gateway processes), 1 000 concurrent admits
/// against 100 → exactly 100.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_concurrent_admit_is_exact_across_processes() {
    let test = "redis_concurrent_admit_is_exact_across_processes";
    let prefix = unique_prefix(test);
    let clock = Arc::new(ManualClock::new(T0));
    let Some(a) = redis_limiter(test, &prefix).await else {
        return;
    };
    let b = redis_limiter(test, &prefix).await.unwrap();
    let a: Arc<dyn Limiter> = Arc::new(a.with_clock(clock.clone()));
    let b: Arc<dyn Limiter> = Arc::new(b.with_clock(clock.clone()));
    contract_concurrent_admit(vec![a, b]).await;
}

/// 300 concurrent reservations of 5 000 against 1 000 000 over two limiters → exactly 200.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_concurrent_reserve_never_overspends() {
    let test = "redis_concurrent_reserve_never_overspends";
    let prefix = unique_prefix(test);
    let Some(a) = redis_limiter(test, &prefix).await else {
        return;
    };
    let b = redis_limiter(test, &prefix).await.unwrap();
    let a: Arc<dyn Limiter> = Arc::new(a);
    let b: Arc<dyn Limiter> = Arc::new(b);
    let granted = contract_concurrent_reserve(vec![a.clone(), b.clone()]).await;
    let mut raw = raw_conn(&redis_url()).await;
    let key = format!("{prefix}:budget:day:agent:conc:2027-01-15");
    assert_eq!(raw_get(&mut raw, &key).await, Some(1_000_000));
    // Settling every reservation to 0 concurrently, from both: back to exactly the 40 000
    // reserved afterwards, never below 0.
    let mut tasks = Vec::new();
    for (i, r) in granted.into_iter().enumerate().skip(10) {
        let l = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move { l.settle(&r, 0).await.unwrap() }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(raw_get(&mut raw, &key).await, Some(10 * 1_000 + 40_000));
}

#[tokio::test]
async fn redis_down_is_unavailable_quickly() {
    let timeout = Duration::from_millis(500);
    for url in [
        "redis://127.0.0.1:1",
        "redis://:hunter2-secret@127.0.0.1:1/0",
    ] {
        let start = Instant::now();
        let err = RedisLimiter::connect(url, "t", timeout).await.unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        let LimitError::Unavailable(msg) = &err;
        assert!(!msg.contains("hunter2"), "{msg}");
        assert!(err.to_string().starts_with("limits backend unavailable: "));
    }

    // Lazily made: the limiter exists, every call fails within the timeout.
    let l = RedisLimiter::connect_lazy("redis://127.0.0.1:1", "t", timeout).unwrap();
    for _ in 0..2 {
        let start = Instant::now();
        assert!(matches!(l.ping().await, Err(LimitError::Unavailable(_))));
        assert!(matches!(
            l.admit(&[rate("a", 1, 60, 1)]).await,
            Err(LimitError::Unavailable(_))
        ));
        assert!(matches!(
            l.consume("a", 60, 1).await,
            Err(LimitError::Unavailable(_))
        ));
        assert!(matches!(
            l.reserve(&[budget("b", 10)], 1).await,
            Err(LimitError::Unavailable(_))
        ));
        let granted = Reservation::Granted {
            entries: vec![("b".into(), 1, 60)],
        };
        assert!(matches!(
            l.settle(&granted, 0).await,
            Err(LimitError::Unavailable(_))
        ));
        assert!(
            start.elapsed() < Duration::from_secs(4),
            "{:?}",
            start.elapsed()
        );
    }

    // A malformed URL is refused without echoing its secret.
    let err = RedisLimiter::connect_lazy("http://:pw-secret-1@host", "t", timeout).unwrap_err();
    assert!(!err.to_string().contains("pw-secret-1"), "{err}");
}

/// A server that accepts connections and never answers: every call still ends at the timeout.
#[tokio::test]
async fn redis_silent_server_is_bounded_by_the_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let url = format!("redis://127.0.0.1:{port}");
    let timeout = Duration::from_millis(300);
    let start = Instant::now();
    assert!(matches!(
        RedisLimiter::connect(&url, "t", timeout).await,
        Err(LimitError::Unavailable(_))
    ));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let l = RedisLimiter::connect_lazy(&url, "t", timeout).unwrap();
    let start = Instant::now();
    assert!(matches!(
        l.admit(&[rate("a", 1, 60, 1)]).await,
        Err(LimitError::Unavailable(_))
    ));
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    holder.abort();
}

/// A `redis-server` of the test's own on a free port; killed when dropped.
struct OwnRedis {
    child: Child,
    port: u16,
}

impl OwnRedis {
    /// `None` (after SKIP, or a panic under CI) when `redis-server` is not installed.
    fn start(test: &str, port: Option<u16>, extra: &[&str]) -> Option<OwnRedis> {
        let port = port.unwrap_or_else(|| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port()
        });
        let spawned = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(c) => c,
            Err(e) => {
                skip(test, &format!("cannot run redis-server: {e}"));
                return None;
            }
        };
        let mut server = OwnRedis { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("redis-server on {port} exited: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "redis-server did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Redis goes away: calls fail quickly; Redis comes back: the same limiter works again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_reconnects_after_a_restart() {
    let test = "redis_reconnects_after_a_restart";
    let Some(server) = OwnRedis::start(test, None, &[]) else {
        return;
    };
    let port = server.port;
    let url = format!("redis://127.0.0.1:{port}");
    let l = RedisLimiter::connect(&url, "t", Duration::from_millis(500))
        .await
        .unwrap();
    assert!(l
        .admit(&[rate("a", 100, 3600, 1)])
        .await
        .unwrap()
        .is_allowed());

    drop(server);
    let start = Instant::now();
    for _ in 0..3 {
        assert!(matches!(
            l.admit(&[rate("a", 100, 3600, 1)]).await,
            Err(LimitError::Unavailable(_))
        ));
    }
    assert!(matches!(l.ping().await, Err(LimitError::Unavailable(_))));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );

    let _server = OwnRedis::start(test, Some(port), &[]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match l.admit(&[rate("a", 100, 3600, 1)]).await {
            Ok(d) => {
                assert!(d.is_allowed());
                break;
            }
            Err(e) => assert!(Instant::now() < deadline, "did not reconnect: {e}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The scripts were flushed with the old server: EVALSHA reloads them.
    assert!(l.reserve(&[budget("b", 10)], 5).await.unwrap().is_granted());
    l.ping().await.unwrap();
}

/// AUTH through the URL: password only (default user) and an ACL user; a wrong password is
/// Unavailable and never echoed.
#[tokio::test]
async fn redis_auth_via_url() {
    let test = "redis_auth_via_url";
    let Some(server) = OwnRedis::start(
        test,
        None,
        &[
            "--requirepass",
            "s3cret+pw",
            "--user",
            "gateway",
            "on",
            ">g4teway-pw",
            "~*",
            "+@all",
        ],
    ) else {
        return;
    };
    let port = server.port;
    let timeout = Duration::from_secs(2);
    // A '+' may be written as is or percent-encoded.
    for url in [
        format!("redis://:s3cret+pw@127.0.0.1:{port}"),
        format!("redis://:s3cret%2Bpw@127.0.0.1:{port}"),
        format!("redis://default:s3cret+pw@127.0.0.1:{port}/0"),
        format!("redis://gateway:g4teway-pw@127.0.0.1:{port}"),
    ] {
        let l = RedisLimiter::connect(&url, "t", timeout).await.unwrap();
        l.ping().await.unwrap();
        assert!(l.admit(&[rate("a", 10, 60, 1)]).await.unwrap().is_allowed());
        assert!(!format!("{l:?}").contains("pw"), "{l:?}");
        assert!(!l.redacted_url().contains("pw"));
    }
    for url in [
        format!("redis://127.0.0.1:{port}"),
        format!("redis://:wrong-pw-123@127.0.0.1:{port}"),
        format!("redis://gateway:wrong-pw-123@127.0.0.1:{port}"),
    ] {
        let err = RedisLimiter::connect(&url, "t", timeout).await.unwrap_err();
        let LimitError::Unavailable(msg) = &err;
        assert!(!msg.contains("wrong-pw-123"), "{msg}");
    }
}

// ---------------------------------------------------------------------------------------------
// pure helpers

#[test]
fn windows() {
    assert_eq!(
        Window::at(125, 60),
        Window {
            index: 2,
            end: 180,
            remaining: 55
        }
    );
    assert_eq!(Window::at(120, 60).remaining, 60);
    assert_eq!(Window::at(179, 60).remaining, 1);
    assert_eq!(Window::at(5, 0), Window::at(5, 1));
    assert_eq!(Window::at(u64::MAX, 60).remaining, 1);
    assert_eq!(Window::at(125, 60).key("rpm:a"), "rpm:a:2");
}

#[test]
fn fits_semantics() {
    assert!(fits(2, 1, 3));
    assert!(!fits(3, 1, 3));
    assert!(fits(0, 3, 3));
    assert!(!fits(0, 4, 3));
    assert!(fits(2, 0, 3));
    assert!(!fits(3, 0, 3));
    assert!(!fits(0, 0, 0));
    assert!(!fits(u64::MAX, 1, u64::MAX));
}

#[test]
fn redaction() {
    let cases = [
        ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
        ("redis://:pw@host:6379/0", "redis://:***@host:6379/0"),
        ("redis://user:pw@host", "redis://user:***@host"),
        (
            "rediss://user:p%40ss@host:6380/1",
            "rediss://user:***@host:6380/1",
        ),
        ("redis://lonely@host", "redis://***@host"),
        ("redis://u:p@ss@host/2", "redis://u:***@host/2"),
        (
            "redis+unix:///run/redis.sock?db=1&pass=pw&user=u",
            "redis+unix:///run/redis.sock?db=1&pass=***&user=u",
        ),
        ("redis://host?password=pw#x", "redis://host?password=***#x"),
        ("host:6379", "<redacted: not a URL>"),
        ("pw-only-garbage", "<redacted: not a URL>"),
    ];
    for (url, want) in cases {
        assert_eq!(redact_redis_url(url), want, "{url}");
    }
}

#[test]
fn secrets_are_scrubbed() {
    let secrets = url_secrets("redis://u:p%40ss@host?pass=q1");
    let text = scrub("p%40ss p@ss q1 host u", &secrets);
    assert_eq!(text, "*** *** *** host u");
    assert!(url_secrets("redis://host:6379").is_empty());
}
