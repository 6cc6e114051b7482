//! The injection classifier: a linear model over hashed word features, scored over windows.
//!
//! The rules in `injection.rs` catch the *shapes* of known attacks precisely; this model
//! catches what they do not spell out — personas and "developer mode" prompts, fictional
//! framing, paraphrased overrides and extraction requests, the same in German, French,
//! Spanish, Italian and Dutch. It runs in-process, on the CPU, with no network: two tables of
//! `2^bits` 16-bit weights (512 KiB each), shipped inside the binary (`injection.model`,
//! `injection_long.model`).
//!
//! # Scoring
//! Each word yields a few hashed features (`features.rs`). The text is read through windows of
//! `window` consecutive words (the whole text when shorter); a window's logit is
//! `bias + scale · Σ weights` over the *distinct* features it holds (`window.rs`: repeating a word
//! does not add up, and a short prompt is judged on its few features at full weight), and the
//! text's score is the logistic of the highest window. The maximum matters for indirect
//! injection: one hostile paragraph in a long benign document is not averaged away. The window
//! slides one word at a time, updating its sum as features enter and leave, so scoring is linear
//! in the text and allocates nothing.
//!
//! # Two scales
//! The window's width is a trade-off, measured on the dev split: a wide window reads a long
//! jailbreak whole (one model's recall 0.71 at 128 words against 0.60 at 32), but an attack
//! wrapped in 100 benign words on each side is diluted by their negative weights (0.30 at 128
//! words, 0.56 at 32). [`Scales`] ships both, a 32-word and a 128-word model, scored in one pass
//! over the words (the features are computed once, and the two weights of a feature are read
//! together), and keeps the higher score: with the rules,
//! dev recall 0.64 at 1.5 % false positives and the padded attacks at 0.51, where one 48-word
//! model had 0.61 at 1.6 % and 0.41 (`scripts/padded_attacks.py`).
//!
//! Each scale is calibrated on the dev split (see `src/bin/lab/train.rs`): 0.5 is the standard
//! preset's operating point, so the models' scores and the rules' score share one threshold.
//!
//! # Training
//! `cargo run --release --bin tappass-lab -- train` rebuilds both model files from the train
//! split of `tests/corpus/` with a fixed seed, bit for bit (CI checks it); the model card is
//! in docs/governance.md.

pub mod features;
pub mod lexicon;
pub mod window;

use std::cell::RefCell;
use std::sync::LazyLock;

use features::Word;
use window::DistinctWindow;

use thiserror::Error;

/// The shipped classifier, parsed once: the short and the long scale (see "Two scales").
pub static INJECTION: LazyLock<Scales> = LazyLock::new(|| {
    Scales::new(
        Model::from_bytes(include_bytes!("injection.model"))
            .expect("the shipped injection.model is valid (a unit test parses it)"),
        Model::from_bytes(include_bytes!("injection_long.model"))
            .expect("the shipped injection_long.model is valid (a unit test parses it)"),
    )
    .expect("the shipped scales share their features (a unit test checks it)")
});

/// Two models of the same features over different windows, scored in one pass; a text's score
/// is the higher of the two (each is calibrated so that 0.5 is its operating point).
#[derive(Debug, Clone, PartialEq)]
pub struct Scales {
    /// A short window: an attack padded with benign text still fills most of one.
    pub short: Model,
    /// A long window: a long jailbreak is read whole.
    pub long: Model,
    /// Both scales' weights of each feature side by side, as the scorer reads them.
    pair: Box<[[i16; 2]]>,
}

impl Scales {
    /// Pairs two models of the same features (the same `bits`).
    pub fn new(short: Model, long: Model) -> Result<Scales, ModelError> {
        if short.bits != long.bits {
            return Err(ModelError::Range("bits (the scales differ)"));
        }
        let pair = short
            .weights
            .iter()
            .zip(long.weights.iter())
            .map(|(&a, &b)| [a, b])
            .collect();
        Ok(Scales { short, long, pair })
    }

    pub fn score(&self, text: &str) -> ModelScore {
        slide(&self.pair, [&self.short, &self.long], text)
    }

    /// Weights in memory, both scales (each model's table and the interleaved one).
    pub fn weights(&self) -> usize {
        self.short.weights.len() + self.long.weights.len() + 2 * self.pair.len()
    }
}

const MAGIC: &[u8; 4] = b"TPIM";
/// 2: features carry the lexicon's concepts.
const VERSION: u32 = 2;

#[derive(Debug, Error, PartialEq)]
pub enum ModelError {
    #[error("not a TapPass model (bad magic)")]
    Magic,
    #[error("model format version {0} is not supported")]
    Version(u32),
    #[error("model is truncated")]
    Truncated,
    #[error("model field {0} is out of range")]
    Range(&'static str),
}

/// A linear window model (see the module doc).
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub bits: u32,
    /// Words per window.
    pub window: u32,
    pub bias: f32,
    /// The weight of one unit of a stored 16-bit weight.
    pub scale: f32,
    pub weights: Box<[i16]>,
}

/// The model's verdict on one text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelScore {
    /// The best window's logit (−∞ for a text without words).
    pub logit: f32,
    /// Logistic of the best window's logit, 0.0 ..= 1.0.
    pub score: f32,
    /// Byte range of that window in the scored text (empty for a text with no words).
    pub start: usize,
    pub end: usize,
}

impl Model {
    /// An empty model of `2^bits` zero weights.
    pub fn new(bits: u32, window: u32, bias: f32, scale: f32) -> Model {
        Model {
            bits,
            window,
            bias,
            scale,
            weights: vec![0; 1 << bits].into_boxed_slice(),
        }
    }

    /// Parses the file format: `TPIM`, then little-endian u32 version, bits, window, f32 bias,
    /// scale, u32 count, and `count` entries of (u32 index, i16 weight) in increasing index
    /// order — only the non-zero weights.
    pub fn from_bytes(b: &[u8]) -> Result<Model, ModelError> {
        let mut r = Reader(b);
        if r.take(4)? != MAGIC {
            return Err(ModelError::Magic);
        }
        let version = r.u32()?;
        if version != VERSION {
            return Err(ModelError::Version(version));
        }
        let bits = r.u32()?;
        if !(8..=24).contains(&bits) {
            return Err(ModelError::Range("bits"));
        }
        let window = r.u32()?;
        if window == 0 || window as usize > window::MAX_WINDOW {
            return Err(ModelError::Range("window"));
        }
        let bias = f32::from_bits(r.u32()?);
        let scale = f32::from_bits(r.u32()?);
        if !bias.is_finite() || !scale.is_finite() || scale <= 0.0 {
            return Err(ModelError::Range("bias/scale"));
        }
        let mut m = Model::new(bits, window, bias, scale);
        let count = r.u32()?;
        let mut last: Option<u32> = None;
        for _ in 0..count {
            let idx = r.u32()?;
            let w = r.u16()? as i16;
            if idx >= 1 << bits || last.is_some_and(|l| idx <= l) {
                return Err(ModelError::Range("index"));
            }
            m.weights[idx as usize] = w;
            last = Some(idx);
        }
        if !r.0.is_empty() {
            return Err(ModelError::Range("length"));
        }
        Ok(m)
    }

    /// The file format of [`Model::from_bytes`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let nonzero: Vec<(u32, i16)> = self
            .weights
            .iter()
            .enumerate()
            .filter(|(_, &w)| w != 0)
            .map(|(i, &w)| (i as u32, w))
            .collect();
        let mut out = Vec::with_capacity(28 + nonzero.len() * 6);
        out.extend_from_slice(MAGIC);
        for v in [
            VERSION,
            self.bits,
            self.window,
            self.bias.to_bits(),
            self.scale.to_bits(),
            nonzero.len() as u32,
        ] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for (i, w) in nonzero {
            out.extend_from_slice(&i.to_le_bytes());
            out.extend_from_slice(&w.to_le_bytes());
        }
        out
    }

    /// Scores `text` (already normalised: the detectors' view).
    pub fn score(&self, text: &str) -> ModelScore {
        slide(self.weights.as_chunks::<1>().0, [self], text)
    }

    /// The logit of a window whose distinct features' stored weights sum to `sum`.
    pub fn window_logit(&self, sum: i64) -> f32 {
        self.bias + self.scale * sum as f32
    }
}

thread_local! {
    /// Each thread's window tables, one per scale: reset per text, never reallocated.
    static WINDOWS: RefCell<[DistinctWindow; 2]> = RefCell::new(Default::default());
}

/// Scores `text` with `K` models (one or two) in one pass over its words, and returns the best
/// window of any. `weights[f][k]` is model `k`'s weight of feature `f`: the scales' weights of
/// one feature sit side by side, one cache line read for both. Each model slides its own window
/// over the shared ring of the last [`window::MAX_WINDOW`] words.
fn slide<const K: usize>(weights: &[[i16; K]], models: [&Model; K], text: &str) -> ModelScore {
    const { assert!(K >= 1 && K <= 2) };
    WINDOWS.with_borrow_mut(|tables| {
        let tables = &mut tables[..K];
        for (t, m) in tables.iter_mut().zip(models) {
            t.reset(m.window as usize);
        }
        let widths = models.map(|m| m.window as usize);
        let mut ring = [Word::default(); window::MAX_WINDOW];
        let mut sums = [0i64; K];
        let mut best = [(f32::NEG_INFINITY, 0usize, 0usize); K];
        let mut n = 0usize;
        features::for_each_word(text, models[0].bits, |w| {
            for k in 0..K {
                if n >= widths[k] {
                    for &i in ring[(n - widths[k]) % window::MAX_WINDOW].ids() {
                        if tables[k].remove(i) {
                            sums[k] -= i64::from(weights[i as usize][k]);
                        }
                    }
                }
            }
            for &i in w.ids() {
                let wi = weights[i as usize];
                for k in 0..K {
                    if tables[k].add(i) {
                        sums[k] += i64::from(wi[k]);
                    }
                }
            }
            ring[n % window::MAX_WINDOW] = *w;
            n += 1;
            for k in 0..K {
                if n >= widths[k] {
                    let logit = models[k].window_logit(sums[k]);
                    if logit > best[k].0 {
                        // The window's first word.
                        best[k] = (
                            logit,
                            ring[(n - widths[k]) % window::MAX_WINDOW].start,
                            w.end,
                        );
                    }
                }
            }
        });
        if n == 0 {
            // Nothing to judge: no words, no score.
            return ModelScore {
                logit: f32::NEG_INFINITY,
                score: 0.0,
                start: 0,
                end: 0,
            };
        }
        let mut top = (f32::NEG_INFINITY, 0, 0);
        for k in 0..K {
            let b = if n < widths[k] {
                // A text shorter than a window is one window.
                let last = ring[(n - 1) % window::MAX_WINDOW].end;
                (models[k].window_logit(sums[k]), ring[0].start, last)
            } else {
                best[k]
            };
            if b.0 > top.0 {
                top = b;
            }
        }
        ModelScore {
            logit: top.0,
            score: sigmoid(top.0),
            start: top.1,
            end: top.2,
        }
    })
}

pub fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], ModelError> {
        if self.0.len() < n {
            return Err(ModelError::Truncated);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, ModelError> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn u16(&mut self) -> Result<u16, ModelError> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }
}

#[cfg(test)]
mod tests;
