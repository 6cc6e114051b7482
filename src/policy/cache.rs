//! A bounded TTL cache of decisions in front of any [`PolicyEngine`].
//!
//! The key is the SHA-256 of the input's canonical JSON (object keys sorted, no whitespace), so
//! two inputs that differ only in key order share an entry. Allows and denies are cached alike;
//! errors never are (the next request asks the backend again). At most `max_entries` decisions
//! are kept: expired entries go first, then the oldest. Concurrent misses on the same input may
//! each evaluate (no single-flight); the decisions are the same.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{Decision, PolicyEngine, PolicyError};

type Key = [u8; 32];

/// Counters of a [`CachedEngine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub entries: usize,
}

/// Wraps `E` with a decision cache. A zero `ttl` or `max_entries` disables caching.
pub struct CachedEngine<E> {
    inner: E,
    ttl: Duration,
    max_entries: usize,
    state: Mutex<State>,
    hits: AtomicU64,
    misses: AtomicU64,
}

#[derive(Default)]
struct State {
    entries: HashMap<Key, (Decision, Instant)>,
    /// Insertion order; an element whose instant no longer matches its entry is stale.
    order: VecDeque<(Key, Instant)>,
}

impl State {
    /// Drops the entry `order` points at if it is still the same insertion.
    fn drop_if_current(&mut self, key: &Key, at: Instant) {
        if self.entries.get(key).is_some_and(|(_, t)| *t == at) {
            self.entries.remove(key);
        }
    }
}

impl<E> CachedEngine<E> {
    pub fn new(inner: E, ttl: Duration, max_entries: usize) -> Self {
        CachedEngine {
            inner,
            ttl,
            max_entries,
            state: Mutex::new(State::default()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The wrapped engine.
    pub fn inner(&self) -> &E {
        &self.inner
    }

    fn enabled(&self) -> bool {
        !self.ttl.is_zero() && self.max_entries > 0
    }

    /// Forgets every cached decision.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.entries.clear();
        state.order.clear();
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            entries: self.lock().entries.len(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps inconsistent in a way that
        // matters (worst case: a stale order element), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get(&self, key: &Key, now: Instant) -> Option<Decision> {
        let mut state = self.lock();
        match state.entries.get(key) {
            Some((decision, at)) if now.duration_since(*at) < self.ttl => Some(decision.clone()),
            Some(_) => {
                state.entries.remove(key);
                None
            }
            None => None,
        }
    }

    fn put(&self, key: Key, decision: Decision, now: Instant) {
        let mut state = self.lock();
        // Expired entries are at the front (one TTL for all, inserted in time order).
        while let Some(&(k, at)) = state.order.front() {
            if now.duration_since(at) < self.ttl {
                break;
            }
            state.order.pop_front();
            state.drop_if_current(&k, at);
        }
        if let Some((_, at)) = state.entries.get(&key) {
            if now.duration_since(*at) < self.ttl {
                // A concurrent miss already stored this input's decision.
                return;
            }
        }
        while state.entries.len() >= self.max_entries {
            let Some((k, at)) = state.order.pop_front() else {
                break;
            };
            state.drop_if_current(&k, at);
        }
        state.entries.insert(key, (decision, now));
        state.order.push_back((key, now));
    }
}

#[async_trait]
impl<E: PolicyEngine> PolicyEngine for CachedEngine<E> {
    fn backend(&self) -> &'static str {
        self.inner.backend()
    }

    async fn ready(&self) -> Result<(), PolicyError> {
        self.inner.ready().await
    }

    async fn evaluate(&self, input: &Value) -> Result<Decision, PolicyError> {
        if !self.enabled() {
            return self.inner.evaluate(input).await;
        }
        let key = input_key(input);
        if let Some(decision) = self.get(&key, Instant::now()) {
            self.hits.fetch_add(1, Ordering::Relaxed);
            return Ok(decision);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let decision = self.inner.evaluate(input).await?;
        self.put(key, decision.clone(), Instant::now());
        Ok(decision)
    }
}

/// Hex SHA-256 of the input's canonical JSON: the cache key, also usable to reference the
/// policy input in an audit event without storing it.
pub fn input_digest(input: &Value) -> String {
    hex::encode(input_key(input))
}

fn input_key(input: &Value) -> Key {
    let mut hasher = Sha256::new();
    feed_canonical(&mut hasher, input);
    hasher.finalize().into()
}

/// Feeds `v` as JSON with object keys sorted by their UTF-8 bytes and no whitespace.
/// Independent of serde_json's `preserve_order` feature.
fn feed_canonical(h: &mut Sha256, v: &Value) {
    match v {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            h.update(b"{");
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    h.update(b",");
                }
                feed_scalar(h, k);
                h.update(b":");
                feed_canonical(h, &map[k]);
            }
            h.update(b"}");
        }
        Value::Array(items) => {
            h.update(b"[");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    h.update(b",");
                }
                feed_canonical(h, item);
            }
            h.update(b"]");
        }
        scalar => feed_scalar(h, scalar),
    }
}

fn feed_scalar<T: serde::Serialize + ?Sized>(h: &mut Sha256, v: &T) {
    // Serializing a scalar cannot fail; an empty update on the impossible error still keys
    // deterministically.
    h.update(serde_json::to_vec(v).unwrap_or_default());
}
