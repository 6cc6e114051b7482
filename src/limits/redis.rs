//! The Redis limiter: counters shared by every gateway process that uses the same Redis and key
//! prefix. Each operation is one Lua script (EVALSHA, loaded on demand), so it is atomic in Redis;
//! window indexes are computed here from the local clock and passed in as key suffixes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{Client, RedisError, Script};
use async_trait::async_trait;

use super::{
    redact_redis_url, scrub, url_secrets, BudgetCheck, Clock, LimitError, Limiter, RateCheck,
    RateDecision, Reservation, SystemClock, Window,
};

/// Largest counter value and argument handled exactly: Lua numbers are doubles (2^53 − 1).
const MAX_EXACT: u64 = (1 << 53) - 1;

fn exact(v: u64) -> u64 {
    v.min(MAX_EXACT)
}

/// Seconds a window counter outlives its window, for replicas whose clocks lag a little.
const WINDOW_TTL_SLACK_SECS: u64 = 1;

struct Scripts {
    admit: Script,
    reserve: Script,
    settle: Script,
}

/// Rate limits and budgets in Redis, shared by several gateway processes.
///
/// Cloning is cheap and shares the connection.
#[derive(Clone)]
pub struct RedisLimiter {
    conn: ConnectionManager,
    /// For [`Limiter::probe`]: a fresh connection's own error.
    client: Client,
    scripts: Arc<Scripts>,
    prefix: String,
    timeout: Duration,
    clock: Arc<dyn Clock>,
    redacted_url: String,
}

impl fmt::Debug for RedisLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLimiter")
            .field("url", &self.redacted_url)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisLimiter {
    /// Connects to `url` (`redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for TLS,
    /// verified against the system's trust store) and loads the scripts. Every Redis call,
    /// this one included, is bounded by `timeout`; failures are [`LimitError::Unavailable`] with
    /// the password scrubbed. All keys start with `key_prefix` (`"tappass"` → `"tappass:"`; a
    /// prefix already ending in `:` is used as is). The connection reconnects by itself.
    pub async fn connect(
        url: &str,
        key_prefix: &str,
        timeout: Duration,
    ) -> Result<Self, LimitError> {
        let limiter = Self::connect_lazy(url, key_prefix, timeout)?;
        let mut conn = limiter.conn.clone();
        let scripts = limiter.scripts.clone();
        limiter
            .bounded("connect", async move {
                scripts.admit.prepare_invoke().load_async(&mut conn).await?;
                scripts
                    .reserve
                    .prepare_invoke()
                    .load_async(&mut conn)
                    .await?;
                scripts
                    .settle
                    .prepare_invoke()
                    .load_async(&mut conn)
                    .await?;
                Ok(())
            })
            .await
            .map_err(|e| scrub_error(e, url))?;
        Ok(limiter)
    }

    /// Like [`RedisLimiter::connect`] but without connecting: only the URL is checked now, the
    /// connection is made on first use. For a gateway that must start while Redis is down (and
    /// report it in `/health/ready`) instead of refusing to start.
    pub fn connect_lazy(
        url: &str,
        key_prefix: &str,
        timeout: Duration,
    ) -> Result<Self, LimitError> {
        let redacted_url = redact_redis_url(url);
        let client = Client::open(url).map_err(|e| {
            LimitError::Unavailable(scrub(
                &format!("invalid redis URL {redacted_url}: {e}"),
                &url_secrets(url),
            ))
        })?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(2)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(1));
        let conn =
            ConnectionManager::new_lazy_with_config(client.clone(), config).map_err(|e| {
                LimitError::Unavailable(scrub(&format!("redis: {e}"), &url_secrets(url)))
            })?;
        let mut prefix = key_prefix.to_string();
        if !prefix.is_empty() && !prefix.ends_with(':') {
            prefix.push(':');
        }
        Ok(RedisLimiter {
            conn,
            client,
            scripts: Arc::new(Scripts {
                admit: Script::new(include_str!("admit.lua")),
                reserve: Script::new(include_str!("reserve.lua")),
                settle: Script::new(include_str!("settle.lua")),
            }),
            prefix,
            timeout,
            clock: Arc::new(SystemClock),
            redacted_url,
        })
    }

    /// The same limiter reading window indexes from `clock` (tests).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The URL with its secrets replaced, for logs and diagnostics.
    pub fn redacted_url(&self) -> &str {
        &self.redacted_url
    }

    /// The key prefix in use (ends with `:` unless empty).
    pub fn key_prefix(&self) -> &str {
        &self.prefix
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Runs one Redis operation within the timeout.
    async fn bounded<T>(
        &self,
        what: &str,
        op: impl std::future::Future<Output = Result<T, RedisError>>,
    ) -> Result<T, LimitError> {
        match tokio::time::timeout(self.timeout, op).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(LimitError::Unavailable(format!("redis {what}: {e}"))),
            Err(_) => Err(LimitError::Unavailable(format!(
                "redis {what}: no answer within {} ms",
                self.timeout.as_millis()
            ))),
        }
    }
}

fn scrub_error(e: LimitError, url: &str) -> LimitError {
    let LimitError::Unavailable(msg) = e;
    LimitError::Unavailable(scrub(&msg, &url_secrets(url)))
}

#[async_trait]
impl Limiter for RedisLimiter {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn ping(&self) -> Result<(), LimitError> {
        let mut conn = self.conn.clone();
        self.bounded("ping", async move {
            ::redis::cmd("PING").query_async::<String>(&mut conn).await
        })
        .await
        .map(|_| ())
    }

    async fn probe(&self) -> Result<(), LimitError> {
        let client = self.client.clone();
        self.bounded("connect", async move {
            let mut c = client.get_multiplexed_async_connection().await?;
            ::redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .map(|_| ())
    }

    async fn admit(&self, checks: &[RateCheck]) -> Result<RateDecision, LimitError> {
        if checks.is_empty() {
            return Ok(RateDecision::Allowed);
        }
        let now = self.clock.now_secs();
        let windows: Vec<Window> = checks
            .iter()
            .map(|c| Window::at(now, c.window_secs))
            .collect();
        let mut invocation = self.scripts.admit.prepare_invoke();
        for (check, window) in checks.iter().zip(&windows) {
            invocation
                .key(self.full_key(&window.key(&check.key)))
                .arg(exact(check.limit))
                .arg(exact(check.cost))
                .arg(window.remaining + WINDOW_TTL_SLACK_SECS);
        }
        let mut conn = self.conn.clone();
        let failed: i64 = self
            .bounded(
                "admit",
                async move { invocation.invoke_async(&mut conn).await },
            )
            .await?;
        if failed == 0 {
            return Ok(RateDecision::Allowed);
        }
        let i = usize::try_from(failed - 1)
            .ok()
            .filter(|i| *i < checks.len())
            .ok_or_else(|| {
                LimitError::Unavailable(format!("redis admit: unexpected answer {failed}"))
            })?;
        Ok(RateDecision::Limited {
            key: checks[i].key.clone(),
            limit: checks[i].limit,
            retry_after_secs: windows[i].remaining,
        })
    }

    async fn consume(&self, key: &str, window_secs: u64, amount: u64) -> Result<(), LimitError> {
        if amount == 0 {
            return Ok(());
        }
        let window = Window::at(self.clock.now_secs(), window_secs);
        let full = self.full_key(&window.key(key));
        let ttl = window.remaining + WINDOW_TTL_SLACK_SECS;
        let mut pipe = ::redis::pipe();
        pipe.atomic()
            .incr(&full, exact(amount))
            .ignore()
            .expire(&full, ttl as i64)
            .ignore();
        let mut conn = self.conn.clone();
        self.bounded(
            "consume",
            async move { pipe.query_async::<()>(&mut conn).await },
        )
        .await
    }

    async fn reserve(
        &self,
        budgets: &[BudgetCheck],
        amount_micros: u64,
    ) -> Result<Reservation, LimitError> {
        let amount = exact(amount_micros);
        if budgets.is_empty() {
            return Ok(Reservation::Granted {
                entries: Vec::new(),
            });
        }
        let mut invocation = self.scripts.reserve.prepare_invoke();
        invocation.arg(amount);
        for b in budgets {
            invocation
                .key(self.full_key(&b.key))
                .arg(exact(b.limit_micros))
                .arg(b.ttl_secs.max(1));
        }
        let mut conn = self.conn.clone();
        let (failed, spent): (i64, i64) = self
            .bounded("reserve", async move {
                invocation.invoke_async(&mut conn).await
            })
            .await?;
        if failed == 0 {
            return Ok(Reservation::Granted {
                entries: budgets
                    .iter()
                    .map(|b| (b.key.clone(), amount, b.ttl_secs.max(1)))
                    .collect(),
            });
        }
        let i = usize::try_from(failed - 1)
            .ok()
            .filter(|i| *i < budgets.len())
            .ok_or_else(|| {
                LimitError::Unavailable(format!("redis reserve: unexpected answer {failed}"))
            })?;
        Ok(Reservation::Exhausted {
            key: budgets[i].key.clone(),
            limit_micros: budgets[i].limit_micros,
            spent_micros: u64::try_from(spent).unwrap_or(0),
        })
    }

    async fn settle(
        &self,
        reservation: &Reservation,
        actual_micros: u64,
    ) -> Result<(), LimitError> {
        let Reservation::Granted { entries } = reservation else {
            return Ok(());
        };
        if entries.is_empty() {
            return Ok(());
        }
        let actual = exact(actual_micros) as i64;
        let mut invocation = self.scripts.settle.prepare_invoke();
        for (key, reserved, ttl) in entries {
            invocation
                .key(self.full_key(key))
                .arg(actual - exact(*reserved) as i64)
                .arg((*ttl).max(1));
        }
        let mut conn = self.conn.clone();
        self.bounded("settle", async move {
            invocation.invoke_async::<i64>(&mut conn).await
        })
        .await
        .map(|_| ())
    }
}
