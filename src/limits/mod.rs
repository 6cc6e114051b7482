//! Rate limits and budgets behind one small trait, [`Limiter`].
//!
//! Two backends, chosen once at start-up:
//! - [`MemoryLimiter`] — in-process, the embedded default (one gateway process);
//! - [`RedisLimiter`] — Redis, shared by several gateway processes; atomicity by Lua scripts.
//!
//! Rate limits are **fixed windows**: the window index is `now_secs / window_secs`, the counter key
//! is the caller's key suffixed with `:<index>`, and the counter expires when its window is over.
//! Budgets are **reservations**: before a call the expected cost is reserved on every budget at
//! once (all or nothing, never past a limit), afterwards the reservation is settled to the actual
//! cost. Concurrent calls therefore can never overspend a budget. See `docs/limits.md`.
//!
//! The limiter only counts. What to do when it is unavailable (fail closed with 503, or open) is
//! the caller's decision; every method returns [`LimitError::Unavailable`] rather than guessing.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;

mod memory;
mod redis;
#[cfg(test)]
mod tests;

pub use self::memory::MemoryLimiter;
pub use self::redis::RedisLimiter;

/// One rate-limit counter to check (and, when admitted, count) in [`Limiter::admit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCheck {
    /// Counter name without the window suffix, e.g. `"rate:rpm:agent:research-bot"`.
    pub key: String,
    /// Most units the window may hold.
    pub limit: u64,
    /// Window length in seconds (0 is treated as 1).
    pub window_secs: u64,
    /// Units this request adds. `cost > 0`: passes if `current + cost <= limit`.
    /// `cost == 0`: passes if `current < limit` and counts nothing (e.g. tokens-per-minute checked
    /// before the call, the real token count added afterwards with [`Limiter::consume`]).
    pub cost: u64,
}

/// The answer of [`Limiter::admit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RateDecision {
    /// Every check passed and every check was counted.
    Allowed,
    /// The first check (in the order given) that did not pass; nothing was counted.
    Limited {
        key: String,
        limit: u64,
        /// Seconds to the end of that check's window, at least 1 (for `Retry-After`).
        retry_after_secs: u64,
    },
}

impl RateDecision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, RateDecision::Allowed)
    }
}

/// One budget to reserve on in [`Limiter::reserve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetCheck {
    /// Full counter name including the period, e.g. `"budget:day:agent:bot:2026-11-29"`.
    pub key: String,
    /// Most micro-USD the period may spend.
    pub limit_micros: u64,
    /// Lifetime of the counter in seconds, refreshed on every write (0 is treated as 1); make it
    /// outlive the period, e.g. period length + one day.
    pub ttl_secs: u64,
}

/// The answer of [`Limiter::reserve`]; a granted one must be settled exactly once with
/// [`Limiter::settle`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// `amount` was added to every budget: `(key, reserved_micros, ttl_secs)` per budget.
    Granted { entries: Vec<(String, u64, u64)> },
    /// The first budget (in the order given) that could not take the amount; nothing changed.
    Exhausted {
        key: String,
        limit_micros: u64,
        /// What that budget had spent (including open reservations) when asked.
        spent_micros: u64,
    },
}

impl Reservation {
    pub fn is_granted(&self) -> bool {
        matches!(self, Reservation::Granted { .. })
    }
}

/// The only way a limiter fails: its backend could not give an answer in time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    #[error("limits backend unavailable: {0}")]
    Unavailable(String),
}

/// Whether a limits backend error is Redis refusing the credentials (`NOAUTH`, `WRONGPASS`):
/// a wrong password is named as such in `/health/ready` and by `tappass health`.
pub fn is_auth_failure(e: &LimitError) -> bool {
    let LimitError::Unavailable(msg) = e;
    let msg = msg.to_ascii_lowercase();
    ["noauth", "wrongpass", "authentication", "invalid password"]
        .iter()
        .any(|m| msg.contains(m))
}

/// Rate limits and budgets. Implementations are cheap to share (`Arc<dyn Limiter>`).
#[async_trait]
pub trait Limiter: Send + Sync {
    /// `"memory"` or `"redis"`.
    fn backend(&self) -> &'static str;

    /// Whether the backend answers (for `/health/ready`).
    async fn ping(&self) -> Result<(), LimitError>;

    /// Like [`Limiter::ping`] over a fresh connection: the error a new client gets (a wrong
    /// password says so), where the shared connection may only report that it is broken.
    async fn probe(&self) -> Result<(), LimitError> {
        self.ping().await
    }

    /// Atomically: admits only if EVERY check passes, and then counts all of them. Counters are
    /// fixed windows (window index = now_secs / window_secs, key suffixed with it, expiring after
    /// the window). Checks are each compared with the counts before this call.
    async fn admit(&self, checks: &[RateCheck]) -> Result<RateDecision, LimitError>;

    /// Adds `amount` to a window counter after the fact (tokens actually used), in the window that
    /// is current now.
    async fn consume(&self, key: &str, window_secs: u64, amount: u64) -> Result<(), LimitError>;

    /// Atomically reserves `amount_micros` on every budget if ALL stay within their limits; else
    /// nothing changes. An amount of 0 is granted only while every budget is below its limit.
    async fn reserve(
        &self,
        budgets: &[BudgetCheck],
        amount_micros: u64,
    ) -> Result<Reservation, LimitError>;

    /// Settles a granted reservation to the actual cost (adds actual − reserved, may be negative;
    /// a counter never goes below 0). Settling an `Exhausted` reservation does nothing. Settle a
    /// reservation once: a second settle applies the difference again.
    async fn settle(&self, reservation: &Reservation, actual_micros: u64)
        -> Result<(), LimitError>;
}

/// Where limiters read the time. Whole seconds since the Unix epoch.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now_secs(&self) -> u64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_secs(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }
}

/// A clock that moves only when told to (tests, simulations).
#[derive(Debug, Default)]
pub struct ManualClock(AtomicU64);

impl ManualClock {
    pub fn new(now_secs: u64) -> Self {
        ManualClock(AtomicU64::new(now_secs))
    }
    pub fn set(&self, now_secs: u64) {
        self.0.store(now_secs, Ordering::SeqCst);
    }
    pub fn advance(&self, secs: u64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_secs(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A fixed window as seen at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    pub index: u64,
    /// First second after the window (Unix seconds).
    pub end: u64,
    /// Seconds from `now` to `end`, at least 1.
    pub remaining: u64,
}

impl Window {
    pub(crate) fn at(now_secs: u64, window_secs: u64) -> Window {
        let len = window_secs.max(1);
        let index = now_secs / len;
        let end = index.saturating_add(1).saturating_mul(len);
        Window {
            index,
            end,
            remaining: end.saturating_sub(now_secs).max(1),
        }
    }

    /// The counter key of `key` in this window.
    pub(crate) fn key(&self, key: &str) -> String {
        format!("{key}:{}", self.index)
    }
}

/// Whether `current` may take `cost` more under `limit` (cost 0: whether it is below the limit).
pub(crate) fn fits(current: u64, cost: u64, limit: u64) -> bool {
    if cost == 0 {
        current < limit
    } else {
        current
            .checked_add(cost)
            .is_some_and(|total| total <= limit)
    }
}

/// A Redis URL fit for logs: the password (or a lone userinfo, which may be a password) and any
/// `pass`/`password` query value become `***`. Something that does not look like a URL at all is
/// replaced whole.
/// The counter of requests for `scope` (`agent:<id>`, `org`).
pub fn request_key(scope: &str) -> String {
    format!("rate:req:{scope}")
}

/// The counter of tokens for `scope` (`agent:<id>`, `org`).
pub fn token_key(scope: &str) -> String {
    format!("rate:tok:{scope}")
}

pub fn redact_redis_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return "<redacted: not a URL>".to_string();
    };
    let (scheme, rest) = url.split_at(scheme_end + 3);
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rfind('@') {
        Some(at) => {
            let (userinfo, host) = authority.split_at(at);
            match userinfo.find(':') {
                Some(colon) => format!("{}:***{host}", &userinfo[..colon]),
                None => format!("***{host}"),
            }
        }
        None => authority.to_string(),
    };
    format!("{scheme}{authority}{}", redact_query(tail))
}

/// `pass=`/`password=` values in the query part of a URL tail (path, query, fragment) become `***`.
fn redact_query(tail: &str) -> String {
    let Some(q) = tail.find('?') else {
        return tail.to_string();
    };
    let (path, rest) = tail.split_at(q + 1);
    let (query, fragment) = match rest.find('#') {
        Some(h) => rest.split_at(h),
        None => (rest, ""),
    };
    let query = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _))
                if matches!(name.to_ascii_lowercase().as_str(), "pass" | "password") =>
            {
                format!("{name}=***")
            }
            _ => pair.to_string(),
        })
        .collect::<Vec<_>>()
        .join("&");
    format!("{path}{query}{fragment}")
}

/// The secret parts of a Redis URL (password as written and percent-decoded, `pass=` values), so
/// that error messages can be scrubbed of them.
pub(crate) fn url_secrets(url: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    let Some(scheme_end) = url.find("://") else {
        secrets.push(url.to_string());
        return secrets;
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    if let Some(at) = authority.rfind('@') {
        let userinfo = &authority[..at];
        let secret = match userinfo.find(':') {
            Some(colon) => &userinfo[colon + 1..],
            None => userinfo,
        };
        secrets.push(secret.to_string());
    }
    if let Some(q) = tail.find('?') {
        let query = tail[q + 1..].split('#').next().unwrap_or("");
        for pair in query.split('&') {
            if let Some((name, value)) = pair.split_once('=') {
                if matches!(name.to_ascii_lowercase().as_str(), "pass" | "password") {
                    secrets.push(value.to_string());
                }
            }
        }
    }
    let decoded: Vec<String> = secrets.iter().map(|s| percent_decode(s)).collect();
    secrets.extend(decoded);
    secrets.retain(|s| !s.is_empty());
    secrets.sort();
    secrets.dedup();
    // Longest first, so that a secret containing another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    secrets
}

/// `text` with every secret replaced by `***`.
pub(crate) fn scrub(text: &str, secrets: &[String]) -> String {
    secrets
        .iter()
        .fold(text.to_string(), |acc, s| acc.replace(s.as_str(), "***"))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
