//! `tappass audit verify|export`: read the database (or an export file) directly, so an auditor
//! need not trust the running daemon.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use super::progress::{Progress, Unit};
use super::{runtime, ConfigArgs};
use crate::audit::checkpoint::{anchor, verify_signature, Anchor};
use crate::audit::checkpoint_file::{newest, CHECKPOINT_FILE, PUBLIC_KEY_FILE};
use crate::audit::verify::{export_line, verify_export, verify_store_with, Report};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain from genesis. Exit 0: intact; 1: broken (the first bad event is
    /// named); 2: could not check.
    ///
    /// The database is also checked against the newest signed checkpoint (a deleted tail or a
    /// rewritten head shows there even when the remaining chain verifies).
    Verify {
        #[command(flatten)]
        config: ConfigArgs,
        /// Verify a JSONL export instead of the database (works offline).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The checkpoint file (default: <state_dir>/audit-checkpoints.jsonl).
        #[arg(long, value_name = "FILE")]
        checkpoints: Option<PathBuf>,
        /// The trusted public key, hex or a file holding it (default:
        /// <state_dir>/audit-signing.pub). Keep your own copy: a checkpoint signed by any other
        /// key is refused.
        #[arg(long, value_name = "HEX|FILE")]
        public_key: Option<String>,
    },
    /// Export the audit trail, one event per line, each with its hash.
    Export {
        #[command(flatten)]
        config: ConfigArgs,
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        /// Output file (default: standard output).
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
}

pub fn run(cmd: AuditCommand) -> ExitCode {
    match cmd {
        AuditCommand::Verify {
            config,
            file,
            json,
            checkpoints,
            public_key,
        } => verify(config, file, json, checkpoints, public_key),
        AuditCommand::Export { config, output, .. } => export(config, output),
    }
}

async fn open_store(args: &ConfigArgs) -> Result<Store, String> {
    let cfg = args.load(None).map_err(|e| e.to_string())?;
    let opts = crate::store::StoreOptions::for_config(&cfg).map_err(|e| e.to_string())?;
    Store::open(&opts).await.map_err(|e| e.to_string())
}

/// Prints a chain report (`audit verify`, `restore`, `backup test-restore`); exit 1 when broken.
pub(super) fn print_report(r: &Report, json: bool) -> ExitCode {
    if json {
        println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
    } else if r.verified {
        println!(
            "audit chain intact: {} events verified{}",
            r.events_checked,
            r.head_hash
                .as_ref()
                .map(|h| format!(", head seq {} hash {h}", r.head_seq.unwrap_or(0)))
                .unwrap_or_default()
        );
    } else {
        println!(
            "audit chain BROKEN after {} good events: {}",
            r.events_checked,
            r.reason.as_deref().unwrap_or("unknown")
        );
    }
    if r.verified {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn verify(
    config: ConfigArgs,
    file: Option<PathBuf>,
    json: bool,
    checkpoints: Option<PathBuf>,
    public_key: Option<String>,
) -> ExitCode {
    if let Some(path) = file {
        return match File::open(&path) {
            Ok(f) => print_report(&verify_export(BufReader::new(f)), json),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                ExitCode::from(2)
            }
        };
    }
    let result = runtime().block_on(async {
        let cfg = config.load(None).map_err(|e| e.to_string())?;
        let store = open_store(&config).await?;
        let mut p: Option<Progress> = None;
        let report = verify_store_with(&store, &mut |done, total| {
            p.get_or_insert_with(|| Progress::new("audit-verify", Unit::Events, total))
                .set(done)
        })
        .await
        .map_err(|e| e.to_string())?;
        if let Some(p) = p {
            p.finish();
        }
        let state_dir = cfg.state_dir();
        let cp_path = checkpoints.unwrap_or_else(|| state_dir.join(CHECKPOINT_FILE));
        let anchor = check_checkpoint(&store, &cp_path, public_key, &state_dir).await?;
        Ok::<_, String>((report, anchor))
    });
    match result {
        Ok((report, anchor)) if json => {
            // One document: the chain's report with the checkpoint check beside it.
            let mut doc = serde_json::to_value(&report).unwrap_or_default();
            doc["checkpoint"] = serde_json::to_value(&anchor).unwrap_or_default();
            println!("{}", serde_json::to_string_pretty(&doc).unwrap_or_default());
            if report.verified && anchor.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Ok((report, anchor)) => {
            let code = print_report(&report, false);
            let anchored = print_anchor(&anchor);
            if code == ExitCode::SUCCESS && !anchored {
                ExitCode::from(1)
            } else {
                code
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// What the newest checkpoint says about the database, or why there is none.
#[derive(Debug, serde::Serialize)]
struct AnchorReport {
    file: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    checkpoint_seq: Option<u64>,
    #[serde(flatten)]
    anchor: Option<Anchor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

async fn check_checkpoint(
    store: &Store,
    path: &std::path::Path,
    public_key: Option<String>,
    state_dir: &std::path::Path,
) -> Result<AnchorReport, String> {
    let mut out = AnchorReport {
        file: path.display().to_string(),
        checkpoint_seq: None,
        anchor: None,
        error: None,
    };
    let cp = match newest(path) {
        Ok(Some(cp)) => cp,
        Ok(None) => return Ok(out),
        Err(e) => {
            out.error = Some(e);
            return Ok(out);
        }
    };
    out.checkpoint_seq = Some(cp.seq);
    let trusted = match public_key {
        Some(k) if std::path::Path::new(&k).is_file() => std::fs::read_to_string(&k)
            .map_err(|e| format!("{k}: {e}"))?
            .trim()
            .to_string(),
        Some(k) => k,
        None => {
            let p = state_dir.join(PUBLIC_KEY_FILE);
            std::fs::read_to_string(&p)
                .map_err(|e| {
                    format!(
                        "no trusted public key ({}: {e}); pass --public-key",
                        p.display()
                    )
                })?
                .trim()
                .to_string()
        }
    };
    if let Err(e) = verify_signature(&cp, &trusted) {
        out.error = Some(e);
        return Ok(out);
    }
    let head_seq = store
        .audit_head()
        .await
        .map_err(|e| e.to_string())?
        .map_or(0, |h| h.seq);
    let at = store
        .audit_range(cp.seq.saturating_sub(1), cp.seq, 1)
        .await
        .map_err(|e| e.to_string())?;
    let stored = at
        .first()
        .filter(|r| r.seq == cp.seq)
        .map(|r| r.hash.as_str());
    out.anchor = Some(anchor(&cp, head_seq, stored));
    Ok(out)
}

impl AnchorReport {
    /// `false` when the check shows tampering or the checkpoint could not be trusted.
    fn ok(&self) -> bool {
        self.error.is_none() && matches!(self.anchor, None | Some(Anchor::Consistent))
    }
}

/// Prints the checkpoint check; `false` when it shows tampering or could not be trusted.
fn print_anchor(r: &AnchorReport) -> bool {
    match (&r.anchor, &r.error) {
        (_, Some(e)) => println!("checkpoint UNTRUSTED ({}): {e}", r.file),
        (None, None) => println!("no signed checkpoint yet ({})", r.file),
        (Some(Anchor::Consistent), _) => println!(
            "checkpoint seq {} matches the database",
            r.checkpoint_seq.unwrap_or(0)
        ),
        (
            Some(Anchor::Truncated {
                head_seq,
                checkpoint_seq,
            }),
            _,
        ) => println!(
            "audit chain TRUNCATED: the signed checkpoint is at seq {checkpoint_seq}, the \
             database has no event there (head {head_seq})"
        ),
        (Some(Anchor::Rewritten { seq }), _) => println!(
            "audit chain REWRITTEN: event seq {seq} does not have the hash the checkpoint signed"
        ),
    }
    r.ok()
}

fn export(config: ConfigArgs, output: Option<PathBuf>) -> ExitCode {
    let result = runtime().block_on(async {
        let store = open_store(&config).await?;
        let mut out: Box<dyn Write> = match &output {
            Some(p) => Box::new(BufWriter::new(
                File::create(p).map_err(|e| format!("cannot create {}: {e}", p.display()))?,
            )),
            None => Box::new(BufWriter::new(std::io::stdout().lock())),
        };
        let head = store.audit_head().await.map_err(|e| e.to_string())?;
        let upto = head.map_or(0, |h| h.seq);
        let mut after = 0;
        let mut n = 0u64;
        let mut progress = Progress::new("audit-export", Unit::Events, upto);
        loop {
            let rows = store
                .audit_range(after, upto, 1000)
                .await
                .map_err(|e| e.to_string())?;
            let Some(last) = rows.last() else { break };
            after = last.seq;
            for r in &rows {
                let line = export_line(&r.canonical, &r.hash)
                    .map_err(|e| format!("event seq {} is not JSON: {e}", r.seq))?;
                writeln!(out, "{line}").map_err(|e| e.to_string())?;
                n += 1;
            }
            progress.add(rows.len() as u64);
        }
        progress.finish();
        out.flush().map_err(|e| e.to_string())?;
        Ok::<u64, String>(n)
    });
    match result {
        Ok(n) => {
            eprintln!("exported {n} events");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}
