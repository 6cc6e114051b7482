//! The evaluation harness: every detector over the chosen split of every corpus; precision,
//! recall and false-positive rate per entity, family, language and corpus, with examples of
//! what went wrong.
//!
//! Matching rules: a found span counts for an expected entity of the same kind that it
//! overlaps; a finding no expected entity of its kind overlaps is a false positive (several
//! findings on one expected span, e.g. two invisible characters, are fine). Injection is judged
//! per line: score ≥ the preset's threshold.

use std::collections::BTreeMap;

use tappass::detect::classifier::Scales;
use tappass::detect::normalize::View;
use tappass::detect::{injection, pii, secrets, unicode, Family, Finding};

use crate::corpus::Case;

/// The floors `--check` enforces; the defaults are issue 11's acceptance floors.
#[derive(Debug, Clone, clap::Args)]
pub struct Floors {
    /// PII precision and recall (span level, all PII kinds together).
    #[arg(long, default_value_t = 0.98)]
    pub min_pii: f64,
    /// Secrets precision and recall (span level, all secret kinds together).
    #[arg(long, default_value_t = 0.98)]
    pub min_secrets: f64,
    /// Injection recall at the standard preset's threshold.
    #[arg(long, default_value_t = 0.90)]
    pub min_injection_recall: f64,
    /// Injection false-positive rate on benign lines at the standard preset's threshold.
    #[arg(long, default_value_t = 0.02)]
    pub max_injection_fpr: f64,
}

/// The presets' injection thresholds (src/governance/settings.rs).
pub const PRESETS: [(&str, f32); 2] = [("standard", 0.5), ("regulated", 0.3)];

#[derive(Default, Debug, Clone, Copy)]
struct Tally {
    tp: u32,
    fp: u32,
    fn_: u32,
}

impl Tally {
    fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
}

/// Per line injection outcome counts.
#[derive(Default, Debug, Clone, Copy)]
struct Binary {
    tp: u32,
    fn_: u32,
    fp: u32,
    tn: u32,
}

impl Binary {
    fn add(&mut self, expected: bool, found: bool) {
        match (expected, found) {
            (true, true) => self.tp += 1,
            (true, false) => self.fn_ += 1,
            (false, true) => self.fp += 1,
            (false, false) => self.tn += 1,
        }
    }
    fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    fn fpr(&self) -> f64 {
        1.0 - ratio(self.tn, self.tn + self.fp)
    }
    fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    fn row(&self, name: &str) -> String {
        format!(
            "{name:<28} {:>6} {:>8.3} {:>7} {:>8.3} {:>9.3}",
            self.tp + self.fn_,
            self.recall(),
            self.fp + self.tn,
            self.fpr(),
            self.precision()
        )
    }
}

fn ratio(a: u32, b: u32) -> f64 {
    if b == 0 {
        1.0
    } else {
        f64::from(a) / f64::from(b)
    }
}

fn overlaps(a: (usize, usize), b: (usize, usize)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

fn snippet(text: &str, at: (usize, usize)) -> String {
    let from = text.floor_char_boundary(at.0.saturating_sub(40));
    let to = text.ceil_char_boundary((at.1 + 40).min(text.len()));
    let s: String = text[from..to].chars().take(160).collect();
    format!("{s:?}")
}

/// Runs the harness over `cases`; returns whether every floor holds. With `model`, the
/// classifier's scores are that model's instead of the shipped one's (to compare candidates on
/// dev before shipping one).
pub fn run(cases: &[&Case], examples: usize, floors: &Floors, model: Option<&Scales>) -> bool {
    let mut entity: BTreeMap<String, Tally> = BTreeMap::new();
    let mut family: BTreeMap<String, Tally> = BTreeMap::new();
    let mut lang: BTreeMap<(String, String), Tally> = BTreeMap::new();
    let mut misses: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut inj: Vec<(&Case, injection::InjectionReport)> = Vec::new();
    for c in cases {
        let mut found: Vec<Finding> = pii::detect_pii(&c.text);
        found.extend(secrets::detect_secrets(&c.text));
        found.extend(unicode::detect_unicode(&c.text));
        let mut record = |kind: &str, t: &mut dyn FnMut(&mut Tally)| {
            t(entity.entry(kind.to_string()).or_default());
            let fam = family_of(kind);
            t(family.entry(fam.clone()).or_default());
            t(lang.entry((fam, c.lang.clone())).or_default());
        };
        let mut used = vec![false; found.len()];
        for (kind, span) in &c.spans {
            let hit = found.iter().enumerate().position(|(i, f)| {
                !used[i] && f.kind.as_str() == kind && overlaps((f.start, f.end), *span)
            });
            match hit {
                Some(i) => {
                    used[i] = true;
                    record(kind, &mut |t| t.tp += 1);
                }
                None => {
                    record(kind, &mut |t| t.fn_ += 1);
                    misses
                        .entry(format!("FN {kind}"))
                        .or_default()
                        .push(format!(
                            "{}:{} {}",
                            c.corpus,
                            c.line,
                            snippet(&c.text, *span)
                        ));
                }
            }
        }
        for (i, f) in found.iter().enumerate() {
            let covered = c
                .spans
                .iter()
                .any(|(k, s)| k == f.kind.as_str() && overlaps((f.start, f.end), *s));
            if !used[i] && !covered {
                record(f.kind.as_str(), &mut |t| t.fp += 1);
                misses
                    .entry(format!("FP {}", f.kind))
                    .or_default()
                    .push(format!(
                        "{}:{} {}",
                        c.corpus,
                        c.line,
                        snippet(&c.text, (f.start, f.end))
                    ));
            }
        }
        let report = match model {
            // A candidate model: the shipped one is not consulted (it may not even parse with
            // this build's features).
            Some(m) => {
                let rules = injection::rules_only(&c.text);
                let model = m.score(View::new(&c.text).text()).score;
                injection::InjectionReport {
                    score: rules.max(model),
                    rules,
                    model,
                    signals: Vec::new(),
                }
            }
            None => injection::detect_injection(&c.text),
        };
        inj.push((c, report));
    }

    println!("{} lines", cases.len());
    println!("\n## Entities (span level)");
    println!(
        "{:<22} {:>5} {:>5} {:>5} {:>9} {:>9}",
        "entity", "tp", "fp", "fn", "precision", "recall"
    );
    let row = |name: &str, t: &Tally| {
        println!(
            "{name:<22} {:>5} {:>5} {:>5} {:>9.3} {:>9.3}",
            t.tp,
            t.fp,
            t.fn_,
            t.precision(),
            t.recall()
        )
    };
    for (k, t) in &entity {
        row(k, t);
    }
    println!("\n{:<22}", "family");
    for (k, t) in &family {
        row(k, t);
    }
    println!("\n{:<22}", "family / language");
    for ((f, l), t) in &lang {
        row(&format!("{f} {l}"), t);
    }

    let mut ok = true;
    for (fam, min) in [("PII", floors.min_pii), ("SECRET", floors.min_secrets)] {
        let t = family.get(fam).copied().unwrap_or_default();
        if t.precision() < min || t.recall() < min {
            println!(
                "FAIL {fam}: precision {:.3} recall {:.3}, floor {min}",
                t.precision(),
                t.recall()
            );
            ok = false;
        }
    }

    println!("\n## Prompt injection (line level)");
    let header = format!(
        "{:<28} {:>6} {:>8} {:>7} {:>8} {:>9}",
        "", "attacks", "recall", "benign", "FPR", "precision"
    );
    for (preset, threshold) in PRESETS {
        println!("\n### preset {preset}: score ≥ {threshold:.2}\n{header}");
        let mut all = Binary::default();
        let (mut rules, mut model) = (Binary::default(), Binary::default());
        let mut by: BTreeMap<String, Binary> = BTreeMap::new();
        for (c, r) in &inj {
            let hit = r.score >= threshold;
            all.add(c.injection, hit);
            rules.add(c.injection, r.rules >= threshold);
            model.add(c.injection, r.model >= threshold);
            for key in [
                format!("corpus {}", c.corpus),
                format!("lang {}", c.lang),
                format!(
                    "category {}",
                    if c.category.is_empty() {
                        "-"
                    } else {
                        &c.category
                    }
                ),
            ] {
                by.entry(key).or_default().add(c.injection, hit);
            }
            if preset == "standard" && hit != c.injection {
                let what = if c.injection { "FN" } else { "FP" };
                misses
                    .entry(format!("{what} PROMPT_INJECTION"))
                    .or_default()
                    .push(format!(
                        "{}:{} score {:.2} (rules {:.2}, model {:.2}) {}",
                        c.corpus,
                        c.line,
                        r.score,
                        r.rules,
                        r.model,
                        snippet(&c.text, (0, 120))
                    ));
            }
        }
        println!("{}", all.row("all"));
        println!("{}", rules.row("  rules alone"));
        println!("{}", model.row("  model alone"));
        for (k, b) in &by {
            println!("{}", b.row(k));
        }
        if preset == "standard"
            && (all.recall() < floors.min_injection_recall || all.fpr() > floors.max_injection_fpr)
        {
            println!(
                "FAIL PROMPT_INJECTION: recall {:.3} (floor {}), FPR {:.3} (ceiling {})",
                all.recall(),
                floors.min_injection_recall,
                all.fpr(),
                floors.max_injection_fpr
            );
            ok = false;
        }
    }

    println!("\n## Examples (at most {examples} of each)");
    for (what, list) in &misses {
        println!("{what}: {}", list.len());
        for m in list.iter().take(examples) {
            println!("  {m}");
        }
    }
    ok
}

/// `PII`, `SECRET`, `UNICODE` … for an entity kind name.
fn family_of(kind: &str) -> String {
    match tappass::detect::EntityKind::parse(kind).map(|k| k.family()) {
        Some(Family::Pii) => "PII".into(),
        Some(Family::Secret) => "SECRET".into(),
        Some(f) => format!("{f:?}").to_uppercase(),
        None => format!("unknown kind {kind}"),
    }
}
