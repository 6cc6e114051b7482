//! The injection classifier: a linear model over hashed word features, scored over windows.
//!
//! The rules in `injection.rs` catch the *shapes* of known attacks precisely; this model
//! catches what they do not spell out — personas and "developer mode" prompts, fictional
//! framing, paraphrased overrides and extraction requests, the same in German, French,
//! Spanish, Italian and Dutch. It runs in-process, on the CPU, with no network: a table of
//! `2^bits` 16-bit weights (512 KiB), shipped inside the binary (`injection.model`).
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
//! The score is calibrated on the dev split (see `src/bin/lab/train.rs`): 0.5 is the standard
//! preset's operating point, so the model's score and the rules' score share one threshold.
//!
//! # Training
//! `cargo run --release --bin tappass-lab -- train` rebuilds `injection.model` from the train
//! split of `tests/corpus/` with a fixed seed, bit for bit (CI checks it); the model card is
//! in docs/governance.md.

pub mod features;
pub mod lexicon;
pub mod window;

use std::sync::LazyLock;

use features::Word;
use window::DistinctWindow;

use thiserror::Error;

/// The shipped model, parsed once.
pub static INJECTION: LazyLock<Model> = LazyLock::new(|| {
    Model::from_bytes(include_bytes!("injection.model"))
        .expect("the shipped injection.model is valid (a unit test parses it)")
});

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
        let window = self.window as usize;
        // The window's words, as a ring; the features it holds, each once; their weights' sum.
        let mut ring = [Word::default(); window::MAX_WINDOW];
        let mut present = DistinctWindow::default();
        let mut sum: i64 = 0;
        let mut n = 0usize;
        let mut best = (f32::NEG_INFINITY, 0usize, 0usize);
        features::for_each_word(text, self.bits, |w| {
            let slot = n % window;
            if n >= window {
                for &i in ring[slot].ids() {
                    if present.remove(i) {
                        sum -= i64::from(self.weights[i as usize]);
                    }
                }
            }
            for &i in w.ids() {
                if present.add(i) {
                    sum += i64::from(self.weights[i as usize]);
                }
            }
            ring[slot] = *w;
            n += 1;
            if n >= window {
                let logit = self.window_logit(sum);
                if logit > best.0 {
                    // The window's first word is the oldest in the ring.
                    best = (logit, ring[n % window].start, w.end);
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
        if n < window {
            // A text shorter than a window is one window.
            best = (self.window_logit(sum), ring[0].start, ring[n - 1].end);
        }
        ModelScore {
            logit: best.0,
            score: sigmoid(best.0),
            start: best.1,
            end: best.2,
        }
    }

    /// The logit of a window whose distinct features' stored weights sum to `sum`.
    pub fn window_logit(&self, sum: i64) -> f32 {
        self.bias + self.scale * sum as f32
    }
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
