//! The labelled detector corpus (`tests/corpus/*.jsonl`): prints precision and recall per
//! entity and fails below 0.95.
//!
//! Each line: `{"text": "...", "entities": [{"kind": "EMAIL", "value": "a@b.example"}]}`.
//! A line with no entities is a negative (a near miss the detectors must leave alone). Every
//! detector runs over every line, so a detector that fires on another area's text costs
//! precision too. `PROMPT_INJECTION` is judged per line (score ≥ threshold), without a value.

use std::collections::BTreeMap;

use serde_json::Value;
use tappass::detect::{injection, pii, secrets, unicode, Finding};

const MIN: f64 = 0.95;

#[derive(Default, Debug)]
struct Tally {
    tp: u32,
    fp: u32,
    fn_: u32,
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

#[test]
fn corpus_precision_and_recall_per_entity() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut tally: BTreeMap<String, Tally> = BTreeMap::new();
    let mut cases = 0;
    let mut misses: Vec<String> = Vec::new();
    for file in files
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
    {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        for (n, line) in std::fs::read_to_string(file).unwrap().lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            cases += 1;
            let case: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{}: {e}", n + 1));
            let text = case["text"].as_str().unwrap();
            let mut expected: Vec<(String, Option<(usize, usize)>)> = Vec::new();
            for e in case["entities"].as_array().unwrap() {
                let kind = e["kind"].as_str().unwrap().to_string();
                let span = e["value"].as_str().map(|v| {
                    let at = text
                        .find(v)
                        .unwrap_or_else(|| panic!("{name}:{}: value {v:?} not in text", n + 1));
                    (at, at + v.len())
                });
                expected.push((kind, span));
            }
            let mut found: Vec<Finding> = pii::detect_pii(text);
            found.extend(secrets::detect_secrets(text));
            found.extend(unicode::detect_unicode(text));
            let inj = injection::detect_injection(text);
            let inj_expected = expected.iter().any(|(k, _)| k == "PROMPT_INJECTION");
            let inj_found = inj.score >= injection::DEFAULT_THRESHOLD;
            let t = tally.entry("PROMPT_INJECTION".into()).or_default();
            match (inj_expected, inj_found) {
                (true, true) => t.tp += 1,
                (false, true) => {
                    t.fp += 1;
                    misses.push(format!(
                        "{name}:{} FP PROMPT_INJECTION score {:.2}",
                        n + 1,
                        inj.score
                    ));
                }
                (true, false) => {
                    t.fn_ += 1;
                    misses.push(format!(
                        "{name}:{} FN PROMPT_INJECTION score {:.2}",
                        n + 1,
                        inj.score
                    ));
                }
                (false, false) => {}
            }
            let mut used = vec![false; found.len()];
            for (kind, span) in expected.iter().filter(|(k, _)| k != "PROMPT_INJECTION") {
                let span = span.expect("entities other than PROMPT_INJECTION need a value");
                let hit = found.iter().enumerate().position(|(i, f)| {
                    !used[i] && f.kind.as_str() == kind && overlaps((f.start, f.end), span)
                });
                let t = tally.entry(kind.clone()).or_default();
                match hit {
                    Some(i) => {
                        used[i] = true;
                        t.tp += 1;
                    }
                    None => {
                        t.fn_ += 1;
                        misses.push(format!(
                            "{name}:{} FN {kind} {:?}",
                            n + 1,
                            &text[span.0..span.1]
                        ));
                    }
                }
            }
            for (i, f) in found.iter().enumerate() {
                // Several findings on one expected span (e.g. two unicode characters) are fine.
                let covered = expected.iter().any(|(k, s)| {
                    k == f.kind.as_str() && s.is_some_and(|s| overlaps((f.start, f.end), s))
                });
                if !used[i] && !covered {
                    tally.entry(f.kind.to_string()).or_default().fp += 1;
                    misses.push(format!(
                        "{name}:{} FP {} {:?}",
                        n + 1,
                        f.kind,
                        &text[f.start..f.end]
                    ));
                }
            }
        }
    }
    println!("{cases} cases");
    println!(
        "{:<22} {:>5} {:>5} {:>5} {:>9} {:>9}",
        "entity", "tp", "fp", "fn", "precision", "recall"
    );
    let mut failed = Vec::new();
    for (kind, t) in &tally {
        let p = if t.tp + t.fp == 0 {
            1.0
        } else {
            f64::from(t.tp) / f64::from(t.tp + t.fp)
        };
        let r = if t.tp + t.fn_ == 0 {
            1.0
        } else {
            f64::from(t.tp) / f64::from(t.tp + t.fn_)
        };
        println!(
            "{kind:<22} {:>5} {:>5} {:>5} {p:>9.3} {r:>9.3}",
            t.tp, t.fp, t.fn_
        );
        if p < MIN || r < MIN {
            failed.push(kind.clone());
        }
    }
    for m in &misses {
        println!("  {m}");
    }
    assert!(
        cases >= 300,
        "the corpus needs at least 300 cases, has {cases}"
    );
    assert!(failed.is_empty(), "below {MIN}: {failed:?}");
}
