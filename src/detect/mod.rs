//! Detectors: pure functions over text. No I/O, no allocation proportional to anything but the
//! input and the findings, linear time on any input (the `regex` crate guarantees it), so they
//! can be unit-tested exhaustively and fuzzed.
//!
//! Every detector returns `Finding`s with byte offsets into the text it was given, so callers
//! can mask or redact exactly the matched span. A finding never leaves the process with its
//! value: the audit trail records only `kind` and counts.

pub mod classify;
pub mod injection;
pub mod mask;
pub mod normalize;
pub mod pii;
pub mod secrets;
pub mod unicode;

/// Entity types `detect_pii` reports.
pub const PII_KINDS: &[&str] = &[
    "EMAIL",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN",
    "US_SSN",
    "IP_ADDRESS",
    "MAC_ADDRESS",
    "DATE_OF_BIRTH",
];

/// Entity types `detect_secrets` reports.
pub const SECRET_KINDS: &[&str] = &[
    "AWS_ACCESS_KEY",
    "AWS_SECRET_KEY",
    "GITHUB_TOKEN",
    "GITLAB_TOKEN",
    "SLACK_TOKEN",
    "STRIPE_KEY",
    "GOOGLE_API_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "JWT",
    "PRIVATE_KEY",
    "PASSWORD",
    "CONNECTION_STRING",
    "GENERIC_SECRET",
];

/// One thing found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Entity type in upper snake case, e.g. `EMAIL`, `CREDIT_CARD`, `AWS_ACCESS_KEY`.
    pub kind: &'static str,
    /// Byte range in the scanned text (`text[start..end]` is the matched value).
    pub start: usize,
    pub end: usize,
}

impl Finding {
    pub fn new(kind: &'static str, start: usize, end: usize) -> Self {
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
