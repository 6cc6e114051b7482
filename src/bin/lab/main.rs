//! `tappass-lab`: the detectors' laboratory — the evaluation harness and the classifier's
//! trainer, over the labelled corpora in `tests/corpus/`.
//!
//! - `tappass-lab eval [--split test]` prints precision, recall and false-positive rates per
//!   entity, family, language and corpus, with examples of misses; `--check` fails below the
//!   acceptance floors (CI runs it on the test split).
//! - `tappass-lab train` rebuilds `src/detect/classifier/injection.model` from the train split
//!   (calibrated on dev); `--verify` only checks that the shipped file is what training gives.
//!
//! A development tool: not shipped in the packages.

mod corpus;
mod eval;
mod train;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use sha2::{Digest, Sha256};
use tappass::detect::classifier::{Model, Scales};

use corpus::Split;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[derive(Parser)]
#[command(
    name = "tappass-lab",
    about = "Evaluate the detectors; train the injection classifier"
)]
struct Cli {
    /// Directory of the labelled corpora.
    #[arg(long, global = true, default_value_os_t = PathBuf::from(ROOT).join("tests/corpus"))]
    corpus: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Precision, recall and false-positive rates of every detector on a split.
    Eval {
        /// The splits to read (repeatable); the test split is the one that is reported.
        #[arg(long, value_enum, default_values_t = [Split::Test])]
        split: Vec<Split>,
        /// Examples of each kind of miss to print.
        #[arg(long, default_value_t = 8)]
        examples: usize,
        /// Exit 1 when a floor is not met (by default issue 11's: PII and secrets
        /// precision/recall ≥ 0.98, injection recall ≥ 0.90 at a false-positive rate ≤ 2 %).
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        floors: eval::Floors,
        /// Score with the model files in this directory (`injection.model`,
        /// `injection_long.model`) instead of the shipped ones (e.g. candidates written by
        /// `train --out DIR`).
        #[arg(long)]
        models: Option<PathBuf>,
    },
    /// Train the injection classifier from the train split and calibrate it on dev.
    Train {
        #[command(flatten)]
        params: train::Params,
        /// Where to write the model.
        /// The directory of the two model files (`injection.model`, `injection_long.model`).
        #[arg(long, default_value_os_t = PathBuf::from(ROOT).join("src/detect/classifier"))]
        out: PathBuf,
        /// Do not write: fail unless the file at --out is exactly what training produces.
        #[arg(long)]
        verify: bool,
    },
    /// What `detect_secrets` finds in each line of corpus files, one JSON line per input line
    /// (`{"file", "line", "findings": [{"kind", "start", "end", "value"}]}`, byte offsets), for
    /// scripts that score it against other tools (scripts/compare-detect-secrets.sh).
    SecretFindings { files: Vec<PathBuf> },
}

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("tappass-lab: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The model files of the two scales, short and long, in the output directory.
const FILES: [&str; 2] = ["injection.model", "injection_long.model"];

fn run() -> Result<bool> {
    let cli = Cli::parse();
    if let Command::SecretFindings { files } = &cli.command {
        return secret_findings(files);
    }
    let cases = corpus::load(&cli.corpus)?;
    match cli.command {
        Command::Eval {
            split,
            examples,
            check,
            floors,
            models,
        } => {
            let model = match models {
                Some(dir) => {
                    let read = |name: &str| -> Result<Model> {
                        let path = dir.join(name);
                        let bytes = std::fs::read(&path)
                            .with_context(|| format!("reading {}", path.display()))?;
                        Model::from_bytes(&bytes).with_context(|| path.display().to_string())
                    };
                    Some(Scales::new(read(FILES[0])?, read(FILES[1])?)?)
                }
                None => None,
            };
            let chosen: Vec<&corpus::Case> =
                cases.iter().filter(|c| split.contains(&c.split)).collect();
            println!("splits {split:?} of {}", cli.corpus.display());
            let ok = eval::run(&chosen, examples, &floors, model.as_ref());
            Ok(ok || !check)
        }
        Command::Train {
            params,
            out,
            verify,
        } => {
            let (scales, reports) = train::train(&cases, &params)?;
            let mut ok = true;
            for ((model, report), name) in [&scales.short, &scales.long]
                .into_iter()
                .zip(&reports)
                .zip(FILES)
            {
                let bytes = model.to_bytes();
                let path = out.join(name);
                println!(
                    "{name}: {}-word windows, trained on {} lines ({} injection), {} non-zero weights of {}, dev threshold logit {:.3}; sha256 {}",
                    model.window,
                    report.train,
                    report.train_injection,
                    report.nonzero,
                    model.weights.len(),
                    report.dev_threshold_logit,
                    hex::encode(Sha256::digest(&bytes))
                );
                if verify {
                    let shipped = std::fs::read(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    if shipped != bytes {
                        println!(
                            "{} differs from what training produces (sha256 {}): retrain with `tappass-lab train` and commit it",
                            path.display(),
                            hex::encode(Sha256::digest(&shipped))
                        );
                        ok = false;
                    } else {
                        println!("{} is reproduced bit for bit", path.display());
                    }
                } else {
                    std::fs::write(&path, &bytes)
                        .with_context(|| format!("writing {}", path.display()))?;
                    println!("wrote {} ({} bytes)", path.display(), bytes.len());
                }
            }
            Ok(ok)
        }
        Command::SecretFindings { .. } => unreachable!("handled above"),
    }
}

fn secret_findings(files: &[PathBuf]) -> Result<bool> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for path in files {
        let body =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        for (n, raw) in body
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let case: serde_json::Value = serde_json::from_str(raw)
                .with_context(|| format!("{}:{}", path.display(), n + 1))?;
            let text = case["text"]
                .as_str()
                .with_context(|| format!("{}:{}: no \"text\"", path.display(), n + 1))?;
            let findings: Vec<serde_json::Value> = tappass::detect::secrets::detect_secrets(text)
                .into_iter()
                .map(|f| {
                    serde_json::json!({
                        "kind": f.kind.as_str(),
                        "start": f.start,
                        "end": f.end,
                        "value": &text[f.start..f.end],
                    })
                })
                .collect();
            let line = serde_json::json!({"file": path, "line": n + 1, "findings": findings});
            writeln!(out, "{line}")?;
        }
    }
    out.flush()?;
    Ok(true)
}
