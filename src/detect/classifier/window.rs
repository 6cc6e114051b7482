//! The features present in a sliding window of words, each counted once.
//!
//! A window's logit sums the weights of the *distinct* features it contains (binary presence,
//! as in textbook logistic regression over a bag of features). Counting each feature once is
//! what keeps repetition from adding up — `governance governance …` ×400 has four features, not
//! 1,600 — while a short prompt keeps its few features at full weight instead of a noisy mean.
//!
//! [`DistinctWindow`] keeps, for every feature id in the window, how many of the window's words
//! carry it; [`DistinctWindow::add`] and [`DistinctWindow::remove`] say when a feature enters or
//! leaves. It lives on the stack (no allocation per text): an open-addressing table of
//! [`SLOTS`] slots, rebuilt with only the live ids when dead ones fill half of it. The runtime
//! scorer and the trainer both slide windows through it, so what is learned is what is scored.

use super::features::PER_WORD;

/// The longest window a model may use (words): its features fill at most a quarter of the table.
pub const MAX_WINDOW: usize = 128;
/// Table slots: a power of two, at least four times the most features a window can hold.
const SLOTS: usize = (4 * MAX_WINDOW * PER_WORD).next_power_of_two();
const EMPTY: u32 = u32::MAX;

/// Feature id → number of the window's words that carry it.
pub struct DistinctWindow {
    keys: [u32; SLOTS],
    counts: [u16; SLOTS],
    /// Slots holding a key, live (count > 0) or dead.
    used: usize,
}

impl Default for DistinctWindow {
    fn default() -> Self {
        DistinctWindow {
            keys: [EMPTY; SLOTS],
            counts: [0; SLOTS],
            used: 0,
        }
    }
}

impl DistinctWindow {
    /// Counts one more occurrence of `id`; true when it was not in the window before.
    pub fn add(&mut self, id: u32) -> bool {
        let slot = self.find(id);
        if self.keys[slot] == EMPTY {
            if self.used + 1 > SLOTS / 2 {
                self.rebuild();
                return self.add(id);
            }
            self.keys[slot] = id;
            self.used += 1;
        }
        self.counts[slot] += 1;
        self.counts[slot] == 1
    }

    /// Counts one occurrence of `id` less (it must be in the window); true when it left.
    pub fn remove(&mut self, id: u32) -> bool {
        let slot = self.find(id);
        debug_assert!(self.keys[slot] == id && self.counts[slot] > 0);
        self.counts[slot] -= 1;
        self.counts[slot] == 0
    }

    /// The slot of `id`, or the empty slot where it would go (linear probing).
    fn find(&self, id: u32) -> usize {
        // Feature ids are already uniform hashes: the low bits index the table.
        let mut slot = id as usize & (SLOTS - 1);
        while self.keys[slot] != EMPTY && self.keys[slot] != id {
            slot = (slot + 1) & (SLOTS - 1);
        }
        slot
    }

    /// Drops the dead keys. Live ones are at most `MAX_WINDOW · PER_WORD`, a quarter of the
    /// table, so a rebuild frees at least a quarter: amortised O(1) per operation.
    fn rebuild(&mut self) {
        let old = std::mem::take(self);
        for (&k, &c) in old.keys.iter().zip(&old.counts) {
            if k != EMPTY && c > 0 {
                let slot = self.find(k);
                self.keys[slot] = k;
                self.counts[slot] = c;
                self.used += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_feature_enters_once_and_leaves_with_its_last_word() {
        let mut w = DistinctWindow::default();
        assert!(w.add(7));
        assert!(!w.add(7));
        assert!(w.add(9));
        assert!(!w.remove(7));
        assert!(w.remove(7));
        assert!(w.add(7), "back after it left");
        assert!(w.remove(9));
    }

    #[test]
    fn colliding_ids_are_kept_apart() {
        let mut w = DistinctWindow::default();
        // Same low bits: the same home slot.
        let (a, b) = (5, 5 + SLOTS as u32);
        assert!(w.add(a));
        assert!(w.add(b));
        assert!(w.remove(a));
        assert!(!w.add(b));
        assert!(w.add(a));
    }

    #[test]
    fn a_long_stream_of_distinct_ids_rebuilds_and_stays_exact() {
        // A sliding window of 200 live ids over 100,000 distinct ones: dead keys are dropped
        // and the counts stay right.
        let mut w = DistinctWindow::default();
        for i in 0..100_000u32 {
            assert!(w.add(i * 167), "{i}");
            if i >= 200 {
                assert!(w.remove((i - 200) * 167), "{i}");
            }
        }
        assert!(w.used <= SLOTS / 2);
    }
}
