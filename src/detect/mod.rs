//! Detectors: pure functions over text. No I/O, no allocation proportional to anything but the
//! input and the findings, linear time on any input (the `regex` crate guarantees it), so they
//! can be unit-tested exhaustively and fuzzed.
//!
//! Every detector returns `Finding`s with byte offsets into the text it was given, so callers
//! can mask or redact exactly the matched span. A finding never leaves the process with its
//! value: the audit trail records only `kind` and counts.

pub mod classifier;
pub mod classify;
mod entity;
pub mod injection;
pub mod mask;
pub mod normalize;
pub mod pii;
mod prefilter;
pub mod secrets;
pub mod unicode;

pub use entity::{joined, EntityKind, Family};

/// One thing found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: EntityKind,
    /// Byte range in the scanned text (`text[start..end]` is the matched value).
    pub start: usize,
    pub end: usize,
}

impl Finding {
    pub fn new(kind: EntityKind, start: usize, end: usize) -> Self {
        Finding { kind, start, end }
    }
}

/// Sorts findings by position and drops any that overlap an earlier (or longer, at the same
/// start) one, so replacements can be applied left to right.
pub fn non_overlapping(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    for f in findings {
        if out.last().is_none_or(|last| f.start >= last.end) {
            out.push(f);
        }
    }
    out
}
