//! The features present in a sliding window of words, each counted once.
//!
//! A window's logit sums the weights of the *distinct* features it contains (binary presence,
//! as in textbook logistic regression over a bag of features). Counting each feature once is
//! what keeps repetition from adding up — `governance governance …` ×400 has four features, not
//! 1,600 — while a short prompt keeps its few features at full weight instead of a noisy mean.
//!
//! [`DistinctWindow`] keeps, for every feature id in the window, how many of the window's words
//! carry it; [`DistinctWindow::add`] and [`DistinctWindow::remove`] say when a feature enters or
//! leaves. It is an open-addressing table sized to the window (`4 · window · PER_WORD` slots,
//! rounded up to a power of two: 1,024 for 32 words, 4,096 for 128), rebuilt with only the live
//! ids when dead ones fill half of it. Its slots carry a generation stamp, so starting a new text
//! ([`DistinctWindow::reset`]) costs nothing instead of clearing the table: the scorer keeps one
//! table per scale per thread and a text allocates nothing. The runtime scorer and the trainer
//! both slide windows through it, so what is learned is what is scored.

use super::features::PER_WORD;

/// The longest window a model may use (words): its features fill at most a quarter of the table.
pub const MAX_WINDOW: usize = 128;
/// The most live ids a window holds.
const MAX_LIVE: usize = MAX_WINDOW * PER_WORD;
/// Slots of the largest table: a power of two, four times the most features a window holds.
const MAX_SLOTS: usize = (4 * MAX_LIVE).next_power_of_two();

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    key: u32,
    count: u16,
    /// The slot is in use when this is the table's current generation.
    generation: u16,
}

/// Feature id → number of the window's words that carry it.
pub struct DistinctWindow {
    slots: Box<[Slot]>,
    /// Slots in use for the current window width, minus one.
    mask: usize,
    generation: u16,
    /// Slots holding a key in this generation, live (count > 0) or dead.
    used: usize,
}

impl Default for DistinctWindow {
    /// A table for the widest window, empty.
    fn default() -> Self {
        let mut w = DistinctWindow {
            slots: vec![Slot::default(); MAX_SLOTS].into_boxed_slice(),
            mask: MAX_SLOTS - 1,
            generation: 0,
            used: 0,
        };
        w.reset(MAX_WINDOW);
        w
    }
}

impl DistinctWindow {
    /// Empties the table for a window of `window` words (at most [`MAX_WINDOW`]).
    pub fn reset(&mut self, window: usize) {
        let window = window.clamp(1, MAX_WINDOW);
        self.mask = (4 * window * PER_WORD).next_power_of_two() - 1;
        self.used = 0;
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // Stamps are about to repeat: clear once every 65,535 texts.
            self.slots.fill(Slot::default());
            self.generation = 1;
        }
    }

    /// Counts one more occurrence of `id`; true when it was not in the window before.
    pub fn add(&mut self, id: u32) -> bool {
        let slot = self.find(id);
        let half = self.slots() / 2;
        let s = &mut self.slots[slot];
        if s.generation != self.generation {
            if self.used + 1 > half {
                self.rebuild();
                return self.add(id);
            }
            *s = Slot {
                key: id,
                count: 0,
                generation: self.generation,
            };
            self.used += 1;
        }
        s.count += 1;
        s.count == 1
    }

    /// Counts one occurrence of `id` less (it must be in the window); true when it left.
    pub fn remove(&mut self, id: u32) -> bool {
        let slot = self.find(id);
        let s = &mut self.slots[slot];
        debug_assert!(s.generation == self.generation && s.key == id && s.count > 0);
        s.count -= 1;
        s.count == 0
    }

    /// Slots in use for the current window width.
    fn slots(&self) -> usize {
        self.mask + 1
    }

    /// The slot of `id`, or the free slot where it would go (linear probing).
    fn find(&self, id: u32) -> usize {
        // Feature ids are already uniform hashes: the low bits index the table.
        let mut slot = id as usize & self.mask;
        loop {
            let s = &self.slots[slot];
            if s.generation != self.generation || s.key == id {
                return slot;
            }
            slot = (slot + 1) & self.mask;
        }
    }

    /// Drops the dead keys. Live ones are at most `window · PER_WORD`, a quarter of the table,
    /// so a rebuild frees at least a quarter: amortised O(1) per operation.
    fn rebuild(&mut self) {
        let mut live = [(0u32, 0u16); MAX_LIVE];
        let mut n = 0;
        for s in &self.slots[..=self.mask] {
            if s.generation == self.generation && s.count > 0 {
                live[n] = (s.key, s.count);
                n += 1;
            }
        }
        let mask = self.mask;
        self.reset(MAX_WINDOW);
        self.mask = mask;
        for &(key, count) in &live[..n] {
            let slot = self.find(key);
            self.slots[slot] = Slot {
                key,
                count,
                generation: self.generation,
            };
            self.used += 1;
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
        let (a, b) = (5, 5 + MAX_SLOTS as u32);
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
        assert!(w.used <= MAX_SLOTS / 2);
    }

    #[test]
    fn a_narrow_window_uses_a_small_table_and_stays_exact() {
        let mut w = DistinctWindow::default();
        w.reset(4);
        assert_eq!(w.slots(), (4 * 4 * PER_WORD).next_power_of_two());
        for i in 0..10_000u32 {
            assert!(w.add(i * 31), "{i}");
            if i >= 20 {
                assert!(w.remove((i - 20) * 31), "{i}");
            }
        }
        assert!(w.used <= w.slots() / 2);
    }

    #[test]
    fn reset_forgets_the_previous_text_across_generation_wraps() {
        let mut w = DistinctWindow::default();
        for round in 0..70_000u32 {
            w.reset(2);
            // Each text sees its ids as new, whatever the texts before held.
            assert!(w.add(round % 3), "{round}");
            assert!(w.add(7), "{round}");
            assert!(!w.add(7));
        }
    }
}
