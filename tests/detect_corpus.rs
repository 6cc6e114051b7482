//! The detectors against the labelled corpora (`tests/corpus/`), through the evaluation
//! harness `tappass-lab` (src/bin/lab/): the held-out test split must meet the acceptance
//! floors, and the shipped classifier must be exactly what its training script produces.

use std::process::Command;

fn lab(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tappass-lab"))
        .args(args)
        .output()
        .expect("run tappass-lab");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    (out.status.success(), text)
}

/// Injection floor on the way to issue 11's (recall 0.90): a ratchet at the figure reached on
/// the committed corpus, raised as detection improves. Lowered only when harder lines join the
/// corpus (2026-12-04: 1,220 lines of long jailbreaks and five-language attacks took the test
/// split from 0.74 to 0.57; German, French, Spanish, Italian and Dutch rules then took it
/// to 0.592; two more rounds, 3,785 lines written in new wording, took the first model to
/// 0.445 on the grown split and the retrained one to 0.597; the concept lexicon and a fourth
/// round of German and Dutch lines, 0.653; French, Spanish and Italian lines and the two-scale
/// classifier, 0.676; 4,750 more lines (the fifth round in six languages) and training retuned on
/// dev, 0.736), and then said in
/// docs/governance.md. The false-positive ceiling
/// and the PII and secrets floors are the issue's own.
const INJECTION_RECALL_RATCHET: &str = "0.73";

#[test]
fn the_test_split_meets_the_floors() {
    let (ok, text) = lab(&[
        "eval",
        "--split",
        "test",
        "--check",
        "--examples",
        "20",
        "--min-injection-recall",
        INJECTION_RECALL_RATCHET,
    ]);
    assert!(ok, "below a floor (see FAIL lines above)");
    let lines: usize = text
        .lines()
        .find_map(|l| l.strip_suffix(" lines")?.parse().ok())
        .unwrap_or(0);
    assert!(
        lines >= 400,
        "the test split needs at least 400 lines, has {lines}"
    );
}

#[test]
fn training_reproduces_the_shipped_model_bit_for_bit() {
    let (ok, text) = lab(&["train", "--verify"]);
    assert!(ok && text.contains("reproduced bit for bit"));
}

#[test]
fn a_damaged_corpus_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.jsonl"),
        "{\"text\": \"hello\", \"entities\": []}\n{\"text\": \"mail a@b.example\", \"entities\": [{\"kind\": \"EMAIL\", \"value\": \"c@d.example\"}]}\n",
    )
    .unwrap();
    let (ok, text) = lab(&["eval", "--corpus", dir.path().to_str().unwrap()]);
    assert!(!ok);
    assert!(
        text.contains("bad.jsonl:2") && text.contains("not in the text"),
        "{text}"
    );
}
