//! `tappass upgrade VERSION` and `tappass upgrade --rollback` (the procedure: [`crate::upgrade`]).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;

use super::ConfigArgs;
use crate::upgrade::{self, Outcome, Record, UpgradeError, Upgrader};

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The package version to install (as apt or dnf spells it, e.g. 1.4.0-1).
    #[arg(
        value_name = "VERSION",
        required_unless_present = "rollback",
        conflicts_with = "rollback"
    )]
    pub target: Option<String>,
    /// Undo the last upgrade: reinstall the package it replaced (kept in
    /// /var/lib/tappass-upgrade), restoring its pre-upgrade backup if the schema moved.
    #[arg(long)]
    pub rollback: bool,
    /// How long the new version has to answer /health/ready.
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `--config`/`--state-dir`/`--database-url` as given, for the reinstalled binary's restore.
fn passed_on(c: &ConfigArgs) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(p) = &c.config {
        v.extend(["--config".to_owned(), p.display().to_string()]);
    }
    if let Some(p) = &c.state_dir {
        v.extend(["--state-dir".to_owned(), p.display().to_string()]);
    }
    if let Some(u) = &c.database_url {
        v.extend(["--database-url".to_owned(), u.clone()]);
    }
    v
}

/// One step line on stderr: `[n/total] what` on a terminal, a `key=value` line otherwise.
fn say(started: Instant, task: &'static str) -> impl FnMut(u32, u32, &str) {
    let tty = std::io::stderr().is_terminal();
    move |n, total, what| {
        if tty {
            eprintln!("[{n}/{total}] {what}");
        } else {
            eprintln!(
                "progress task={task} unit=steps done={} total={total} elapsed_s={:.1} step={what:?}",
                n - 1,
                started.elapsed().as_secs_f64()
            );
        }
    }
}

pub fn run(args: UpgradeArgs) -> ExitCode {
    if !nix::unistd::geteuid().is_root() {
        eprintln!(
            "error: tappass upgrade installs packages: run it as root (sudo tappass upgrade …)"
        );
        return ExitCode::from(2);
    }
    if !std::path::Path::new("/run/systemd/system").exists() {
        eprintln!(
            "error: tappass upgrade restarts tappass.service, but systemd is not running here"
        );
        return ExitCode::from(2);
    }
    let cfg = match args.config.load(None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let pm = match upgrade::package::detect() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let task = if args.rollback { "rollback" } else { "upgrade" };
    let mut say = say(started, task);
    let mut up = Upgrader {
        pm: pm.as_ref(),
        config: &cfg,
        config_args: passed_on(&args.config),
        dir: PathBuf::from(upgrade::DIR),
        timeout: Duration::from_secs(args.timeout),
        say: &mut say,
    };
    let result = match &args.target {
        Some(v) if !args.rollback => up.upgrade(v),
        _ => up.rollback_last(),
    };
    match result {
        Ok(r) => {
            report(&r, args.json, started.elapsed());
            if args.rollback && r.outcome == Outcome::RolledBack {
                // Asked for: done.
                return ExitCode::SUCCESS;
            }
            ExitCode::from(r.outcome.exit_code())
        }
        Err(e) => {
            let what = match e {
                UpgradeError::Refused(_) | UpgradeError::Package(_) => "refused",
                UpgradeError::Failed(_) => "failed",
            };
            eprintln!("error: {task} {what}: {e}");
            ExitCode::from(2)
        }
    }
}

fn report(r: &Record, json: bool, took: Duration) {
    if json {
        println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
        return;
    }
    let secs = took.as_secs();
    match r.outcome {
        Outcome::Unchanged => println!("tappass {} is already installed; nothing to do", r.to),
        Outcome::Upgraded => println!(
            "upgraded tappass {} -> {} in {secs} s; /health/ready answers 200\n\
             pre-upgrade backup: {}\n\
             to go back: sudo tappass upgrade --rollback",
            r.from.version,
            r.to,
            r.backup.display()
        ),
        Outcome::RolledBack | Outcome::RollbackFailed | Outcome::InProgress => {
            let header = if r.outcome == Outcome::RolledBack {
                format!(
                    "ROLLED BACK: tappass {} is installed again and ready (in {secs} s); {} was \
                     not kept",
                    r.from.version, r.to
                )
            } else {
                format!(
                    "ROLLBACK FAILED: tappass is not healthy (in {secs} s); see `tappass doctor` \
                     and `journalctl -u tappass`"
                )
            };
            println!("{header}");
            if let Some(why) = &r.reason {
                println!("why: {why}");
            }
            if let Some(restore) = &r.restore {
                println!("the pre-upgrade backup was restored:\n{restore}");
            }
            println!("pre-upgrade backup: {}", r.backup.display());
        }
    }
}
