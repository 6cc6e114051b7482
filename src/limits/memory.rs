//! The in-process limiter: one mutex-guarded map of counters, each with an expiry. Exact and
//! atomic within one process; counters do not survive a restart and are not shared between
//! processes (use [`super::RedisLimiter`] for that).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use super::{
    fits, BudgetCheck, Clock, LimitError, Limiter, RateCheck, RateDecision, Reservation,
    SystemClock, Window,
};

#[derive(Debug, Clone, Copy)]
struct Counter {
    value: u64,
    /// Unix second from which the counter is gone.
    expires_at: u64,
}

#[derive(Debug, Default)]
struct State {
    counters: HashMap<String, Counter>,
    /// The second of the last sweep of expired counters.
    swept_at: u64,
}

impl State {
    /// Drops expired counters, at most once per second of the clock, so memory stays bounded by
    /// the keys that are live now.
    fn sweep(&mut self, now: u64) {
        if now != self.swept_at {
            self.counters.retain(|_, c| c.expires_at > now);
            self.swept_at = now;
        }
    }

    fn get(&self, key: &str, now: u64) -> u64 {
        match self.counters.get(key) {
            Some(c) if c.expires_at > now => c.value,
            _ => 0,
        }
    }

    /// Adds a signed delta (floored at 0) and sets the expiry, like INCRBY + EXPIRE.
    fn add(&mut self, key: &str, delta: i128, expires_at: u64, now: u64) {
        let current = self.get(key, now) as i128;
        let value = (current + delta).clamp(0, u64::MAX as i128) as u64;
        self.counters
            .insert(key.to_string(), Counter { value, expires_at });
    }
}

/// In-process rate limits and budgets (the embedded default).
#[derive(Debug)]
pub struct MemoryLimiter {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryLimiter {
    /// A limiter on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// A limiter on the given clock (tests inject a [`super::ManualClock`]).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        MemoryLimiter {
            state: Mutex::new(State::default()),
            clock,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied update behind (each update
        // is checked fully before anything is written), so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// How many counters are held (expired ones included until the next sweep).
    #[cfg(test)]
    pub(crate) fn counter_count(&self) -> usize {
        self.lock().counters.len()
    }

    /// A counter's value now (0 if absent or expired); `key` as stored (window suffix included).
    #[cfg(test)]
    pub(crate) fn peek(&self, key: &str) -> u64 {
        let now = self.clock.now_secs();
        self.lock().get(key, now)
    }
}

#[async_trait]
impl Limiter for MemoryLimiter {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn ping(&self) -> Result<(), LimitError> {
        Ok(())
    }

    async fn admit(&self, checks: &[RateCheck]) -> Result<RateDecision, LimitError> {
        let now = self.clock.now_secs();
        let windows: Vec<(String, Window)> = checks
            .iter()
            .map(|c| {
                let w = Window::at(now, c.window_secs);
                (w.key(&c.key), w)
            })
            .collect();
        let mut state = self.lock();
        state.sweep(now);
        for (check, (key, window)) in checks.iter().zip(&windows) {
            if !fits(state.get(key, now), check.cost, check.limit) {
                return Ok(RateDecision::Limited {
                    key: check.key.clone(),
                    limit: check.limit,
                    retry_after_secs: window.remaining,
                });
            }
        }
        for (check, (key, window)) in checks.iter().zip(&windows) {
            if check.cost > 0 {
                state.add(key, i128::from(check.cost), window.end, now);
            }
        }
        Ok(RateDecision::Allowed)
    }

    async fn consume(&self, key: &str, window_secs: u64, amount: u64) -> Result<(), LimitError> {
        if amount == 0 {
            return Ok(());
        }
        let now = self.clock.now_secs();
        let window = Window::at(now, window_secs);
        let mut state = self.lock();
        state.sweep(now);
        state.add(&window.key(key), i128::from(amount), window.end, now);
        Ok(())
    }

    async fn reserve(
        &self,
        budgets: &[BudgetCheck],
        amount_micros: u64,
    ) -> Result<Reservation, LimitError> {
        let now = self.clock.now_secs();
        let mut state = self.lock();
        state.sweep(now);
        for b in budgets {
            let spent = state.get(&b.key, now);
            if !fits(spent, amount_micros, b.limit_micros) {
                return Ok(Reservation::Exhausted {
                    key: b.key.clone(),
                    limit_micros: b.limit_micros,
                    spent_micros: spent,
                });
            }
        }
        let mut entries = Vec::with_capacity(budgets.len());
        for b in budgets {
            let ttl = b.ttl_secs.max(1);
            if amount_micros > 0 || state.get(&b.key, now) > 0 {
                state.add(
                    &b.key,
                    i128::from(amount_micros),
                    now.saturating_add(ttl),
                    now,
                );
            }
            entries.push((b.key.clone(), amount_micros, ttl));
        }
        Ok(Reservation::Granted { entries })
    }

    async fn settle(
        &self,
        reservation: &Reservation,
        actual_micros: u64,
    ) -> Result<(), LimitError> {
        let Reservation::Granted { entries } = reservation else {
            return Ok(());
        };
        let now = self.clock.now_secs();
        let mut state = self.lock();
        state.sweep(now);
        for (key, reserved, ttl) in entries {
            let delta = i128::from(actual_micros) - i128::from(*reserved);
            if delta != 0 || state.get(key, now) > 0 {
                state.add(key, delta, now.saturating_add((*ttl).max(1)), now);
            }
        }
        Ok(())
    }
}
