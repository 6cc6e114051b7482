//! The keys this daemon last read, for authenticating while the database is away.
//!
//! With the audit spool on, the data plane keeps serving through a database outage — but it
//! must still know who is calling. Every successful key lookup leaves its row here; while the
//! database cannot answer, `Store::find_agent_key` answers from here instead. Nothing else ever
//! reads it: with the database up every request is checked against the database.
//!
//! What that trades, written down in docs/api.md: during an outage a key is judged by what this
//! daemon last read of it. A key never used through this daemon since it started is refused
//! (503); a key revoked or an agent disabled *through this daemon* is forgotten at once (every
//! mutation of keys or agents clears the cache, whatever its outcome); one revoked through
//! another daemon after this one last read it is accepted until the database is back.

use std::collections::HashMap;
use std::sync::Mutex;

use super::agents::KeyRow;

/// Most rows kept; beyond it the cache starts over (it refills on the next lookups).
const CAPACITY: usize = 100_000;

/// The rows, and a generation that every mutation of keys or agents moves on: a lookup that
/// read the database before or during a mutation finds the generation changed and keeps
/// nothing, so a row read before a revocation never outlives it.
#[derive(Default)]
pub struct KeyCache {
    rows: Mutex<(u64, HashMap<String, KeyRow>)>,
}

impl KeyCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, (u64, HashMap<String, KeyRow>)> {
        self.rows.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().1.len()
    }

    /// Taken before reading the database; handed back to [`KeyCache::remember`].
    pub fn generation(&self) -> u64 {
        self.lock().0
    }

    /// Remembers what the database said of `key_id` (`None`: no such key), unless keys or
    /// agents changed since `generation` was taken.
    pub fn remember(&self, generation: u64, key_id: &str, row: Option<&KeyRow>) {
        let mut guard = self.lock();
        if guard.0 != generation {
            return;
        }
        let rows = &mut guard.1;
        match row {
            Some(row) => {
                if rows.len() >= CAPACITY && !rows.contains_key(key_id) {
                    rows.clear();
                }
                rows.insert(key_id.to_string(), row.clone());
            }
            None => {
                rows.remove(key_id);
            }
        }
    }

    pub fn get(&self, key_id: &str) -> Option<KeyRow> {
        self.lock().1.get(key_id).cloned()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().1.is_empty()
    }

    /// Forgets everything and moves the generation on.
    pub fn clear(&self) {
        let mut guard = self.lock();
        guard.0 += 1;
        guard.1.clear();
    }

    /// Held across a mutation of keys or agents: clears the cache when taken and again when
    /// dropped, so that no row read before or during it survives it, committed or not.
    pub fn clear_around(&self) -> ClearOnDrop<'_> {
        self.clear();
        ClearOnDrop(self)
    }
}

pub struct ClearOnDrop<'a>(&'a KeyCache);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{KeyStatus, Role};

    fn row(id: &str) -> KeyRow {
        KeyRow {
            key_id: id.into(),
            agent_id: Some("a".into()),
            role: Role::Agent,
            key_hash: "h".into(),
            status: KeyStatus::Active,
            created_at: "t".into(),
            revoked_at: None,
            replaced_by: None,
            agent_status: None,
            agent_flag_grants: None,
        }
    }

    #[test]
    fn remembers_and_forgets() {
        let cache = KeyCache::default();
        assert!(cache.is_empty());
        let g = cache.generation();
        cache.remember(g, "k1", Some(&row("k1")));
        cache.remember(g, "k2", Some(&row("k2")));
        assert_eq!(cache.get("k1").unwrap().key_id, "k1");
        cache.remember(g, "k1", None);
        assert!(
            cache.get("k1").is_none(),
            "a key the database no longer has"
        );
        assert!(cache.get("k2").is_some());
    }

    #[test]
    fn no_row_read_before_or_during_a_mutation_survives_it() {
        let cache = KeyCache::default();
        let before = cache.generation();
        cache.remember(before, "k1", Some(&row("k1")));
        {
            let _mutation = cache.clear_around();
            assert!(cache.is_empty(), "cleared when the mutation starts");
            let during = cache.generation();
            cache.remember(during, "k2", Some(&row("k2")));
        }
        assert!(cache.is_empty(), "cleared when it ends, committed or not");
        // A lookup that read the database before the mutation and answers after it.
        cache.remember(before, "k1", Some(&row("k1")));
        assert!(cache.is_empty());
        let after = cache.generation();
        cache.remember(after, "k1", Some(&row("k1")));
        assert!(cache.get("k1").is_some());
    }

    #[test]
    fn a_full_cache_starts_over() {
        let cache = KeyCache::default();
        let g = cache.generation();
        for i in 0..CAPACITY {
            cache.remember(g, &format!("k{i}"), Some(&row("x")));
        }
        cache.remember(g, "k0", Some(&row("x"))); // present: no reset
        assert_eq!(cache.len(), CAPACITY);
        cache.remember(g, "new", Some(&row("x")));
        assert_eq!(cache.len(), 1);
    }
}
