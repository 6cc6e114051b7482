//! `tappass health`: the monitor `tappass-health.timer` runs every 5 minutes (`src/health/`).
//! Prints the report (or, with `--quiet`, only alerts); exit 0 healthy, 1 degraded, 2 down or
//! the monitor could not run.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::ConfigArgs;
use crate::health::checks::base_url;
use crate::health::monitor::{self, Options};

#[derive(Debug, Clone, Args)]
pub struct HealthArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Base URL of the daemon (default: http:// + server.listen from the configuration).
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Seconds each network check may take (default: health.timeout_secs).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,
    /// Print the report and any alert as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print nothing but alerts (on standard error, for the journal): what the timer runs.
    #[arg(long, conflicts_with = "json")]
    pub quiet: bool,
    /// Read the units' states from FILE (the output of `systemctl show -p
    /// Id,LoadState,ActiveState,SubState …`) instead of asking systemd: the timer's sandboxed
    /// unit writes it first with privileges, since the system bus refuses dynamic users.
    #[arg(long, value_name = "FILE")]
    pub units_from: Option<std::path::PathBuf>,
}

pub fn run(args: HealthArgs) -> ExitCode {
    let config = match args.config.load(None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let opts = Options {
        base: args
            .url
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| base_url(config.server.listen)),
        timeout: Duration::from_secs(args.timeout.unwrap_or(config.health.timeout_secs).max(1)),
        units_from: args.units_from,
    };
    let out = super::runtime().block_on(monitor::run(&config, &opts));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else if !args.quiet {
        print!("{}", out.report.human());
        if let Some(a) = &out.alert {
            println!("state changed: {:?} alert raised", a.kind);
        }
    }
    for n in &out.notes {
        eprintln!("warning: {n}");
    }
    ExitCode::from(out.report.health.exit_code())
}
