//! `tappass audit verify|export`: read the database (or an export file) directly, so an auditor
//! need not trust the running daemon.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Subcommand, ValueEnum};

use super::{runtime, ConfigArgs};
use crate::audit::verify::{export_line, verify_export, verify_store, Report};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain from genesis. Exit 0: intact; 1: broken (the first bad event is
    /// named); 2: could not check.
    Verify {
        #[command(flatten)]
        config: ConfigArgs,
        /// Verify a JSONL export instead of the database (works offline).
        #[arg(long, value_name = "FILE")]
        file: Option<PathBuf>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
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
        AuditCommand::Verify { config, file, json } => verify(config, file, json),
        AuditCommand::Export { config, output, .. } => export(config, output),
    }
}

async fn open_store(args: &ConfigArgs) -> Result<Store, String> {
    let cfg = args.load(None).map_err(|e| e.to_string())?;
    let opts = super::serve::store_options(&cfg).map_err(|e| e.to_string())?;
    Store::open(&opts).await.map_err(|e| e.to_string())
}

fn print_report(r: &Report, json: bool) -> ExitCode {
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

fn verify(config: ConfigArgs, file: Option<PathBuf>, json: bool) -> ExitCode {
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
        let store = open_store(&config).await?;
        verify_store(&store).await.map_err(|e| e.to_string())
    });
    match result {
        Ok(report) => print_report(&report, json),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
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
        }
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
