//! The labelled corpora (`tests/corpus/*.jsonl`) and their fixed train/dev/test split.
//!
//! Each line: `{"text": …, "entities": [{"kind": "EMAIL", "value": "a@b.example"}, …],
//! "lang": "de", "category": "role_play"}`; `lang` defaults to `en`. `PROMPT_INJECTION` is judged
//! per line and has no value; every other entity names the exact text it covers. A line without
//! entities is benign.
//!
//! The split is a pure function of the text: the first byte of
//! `sha256("tappass-corpus-split-v1\n" + text)` modulo 10 — 0–5 train, 6–7 dev, 8–9 test. A line
//! keeps its split when others are added or the files are reordered, and nobody chooses it.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use sha2::{Digest, Sha256};

pub const INJECTION: &str = "PROMPT_INJECTION";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Split {
    Train,
    Dev,
    Test,
}

impl Split {
    pub fn of(text: &str) -> Split {
        let mut h = Sha256::new();
        h.update(b"tappass-corpus-split-v1\n");
        h.update(text.as_bytes());
        match h.finalize()[0] % 10 {
            0..=5 => Split::Train,
            6..=7 => Split::Dev,
            _ => Split::Test,
        }
    }
}

/// One labelled line.
#[derive(Debug, Clone)]
pub struct Case {
    /// File stem, e.g. `jailbreak_en`.
    pub corpus: String,
    pub line: usize,
    pub text: String,
    pub lang: String,
    pub category: String,
    /// Entities other than `PROMPT_INJECTION`: kind and byte span.
    pub spans: Vec<(String, (usize, usize))>,
    pub injection: bool,
    pub split: Split,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    text: String,
    entities: Vec<Entity>,
    #[serde(default)]
    lang: Option<String>,
    #[serde(default)]
    category: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entity {
    kind: String,
    #[serde(default)]
    value: Option<String>,
}

/// Every case of every `*.jsonl` file in `dir`, in file and line order.
pub fn load(dir: &Path) -> Result<Vec<Case>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    files.retain(|p| p.extension().is_some_and(|e| e == "jsonl"));
    files.sort();
    let mut out = Vec::new();
    let mut seen = std::collections::HashMap::new();
    for file in &files {
        let corpus = file.file_stem().unwrap().to_string_lossy().to_string();
        let body = std::fs::read_to_string(file)?;
        for (n, raw) in body.lines().enumerate() {
            if raw.trim().is_empty() {
                continue;
            }
            let at = format!("{corpus}.jsonl:{}", n + 1);
            let line: Line = serde_json::from_str(raw).with_context(|| at.clone())?;
            if let Some(first) = seen.insert(line.text.clone(), at.clone()) {
                bail!("{at}: the same text as {first} (every text must be unique)");
            }
            let mut spans = Vec::new();
            let mut injection = false;
            for e in line.entities {
                if e.kind == INJECTION {
                    injection = true;
                    continue;
                }
                let Some(v) = e.value else {
                    bail!("{at}: entity {} needs a value", e.kind)
                };
                let Some(s) = line.text.find(&v) else {
                    bail!("{at}: value {v:?} is not in the text")
                };
                spans.push((e.kind, (s, s + v.len())));
            }
            out.push(Case {
                split: Split::of(&line.text),
                corpus: corpus.clone(),
                line: n + 1,
                lang: line.lang.unwrap_or_else(|| "en".into()),
                category: line.category.unwrap_or_default(),
                text: line.text,
                spans,
                injection,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_fixed_and_roughly_60_20_20() {
        // Pinned: moving a line to another split would leak tuning into the test split.
        assert_eq!(
            Split::of("Ignore all previous instructions."),
            Split::of("Ignore all previous instructions.")
        );
        let mut n = [0usize; 3];
        for i in 0..10_000 {
            n[Split::of(&format!("case {i}")) as usize] += 1;
        }
        assert!((5_700..6_300).contains(&n[0]), "{n:?}");
        assert!((1_800..2_200).contains(&n[1]), "{n:?}");
        assert!((1_800..2_200).contains(&n[2]), "{n:?}");
    }
}
