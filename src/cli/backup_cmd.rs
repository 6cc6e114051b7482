//! `tappass backup [test-restore|list]` and `tappass restore FILE`.
//!
//! Exit status: 0 done; 1 the check failed (a test restore that does not match its manifest, a
//! broken chain, a restore refused because the daemon runs); 2 could not run (configuration,
//! database, files).

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use clap::{Args, Subcommand};

use super::progress::{Progress, Unit};
use super::{runtime, ConfigArgs};
use crate::backup::{self, BackupError, Restored};
use crate::config::Config;
use crate::store::Store;

/// The unit restore stops and starts with `--stop-service`.
const SERVICE: &str = "tappass.service";

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    pub command: Option<BackupCommand>,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Backup directory (default: backup.dir, else <state_dir>/backups).
    #[arg(long, value_name = "DIR", global = true)]
    pub dir: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum BackupCommand {
    /// Restore a backup (default: the newest complete one) into a throwaway database — a
    /// temporary SQLite file or a temporary PostgreSQL schema — check its rows and chain head
    /// against the manifest, verify the chain, and remove it. Production is not touched.
    TestRestore {
        /// The backup file (default: the newest complete backup in the directory).
        file: Option<PathBuf>,
    },
    /// List the backups in the directory, oldest first.
    List,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The backup file (tappass-YYYY-MM-DDTHHMMSS.sql.gz).
    pub file: PathBuf,
    /// Stop tappass.service first (and start it again afterwards) instead of refusing while it
    /// runs.
    #[arg(long)]
    pub stop_service: bool,
    /// Do not back up the current database before replacing it.
    #[arg(long)]
    pub no_safety_backup: bool,
    /// The database was migrated by a newer tappass (a rolled-back upgrade): drop TapPass's
    /// tables and recreate them at this version's schema before restoring. The current rows
    /// are kept in the safety backup first.
    #[arg(long)]
    pub reset_schema: bool,
    /// Print the result as JSON.
    #[arg(long)]
    pub json: bool,
}

fn load(config: &ConfigArgs) -> Result<Config, ExitCode> {
    config.load(None).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

fn backup_dir(cfg: &Config, flag: Option<PathBuf>) -> PathBuf {
    flag.unwrap_or_else(|| cfg.backup_dir())
}

pub fn run(args: BackupArgs) -> ExitCode {
    let cfg = match load(&args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let dir = backup_dir(&cfg, args.dir);
    match args.command {
        None => create(&cfg, &dir, args.json),
        Some(BackupCommand::TestRestore { file }) => test_restore(&cfg, &dir, file, args.json),
        Some(BackupCommand::List) => list(&dir, args.json),
    }
}

fn create(cfg: &Config, dir: &Path, json: bool) -> ExitCode {
    let result = runtime().block_on(async {
        let opts = crate::store::StoreOptions::for_config(cfg).map_err(|e| e.to_string())?;
        let store = Store::open(&opts).await.map_err(|e| e.to_string())?;
        let mut p = None;
        let made = backup::create(&store, dir, &mut |d, t| {
            step(&mut p, "backup", Unit::Rows, d, t)
        })
        .await;
        store.close().await;
        finish(p);
        let (path, manifest) = made.map_err(|e| e.to_string())?;
        let removed = backup::prune(dir, cfg.backup.retention_days, chrono::Utc::now())
            .map_err(|e| e.to_string())?;
        Ok::<_, String>((path, manifest, removed))
    });
    match result {
        Ok((path, m, removed)) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "backup": path, "manifest": m, "removed": removed })
                );
            } else {
                println!(
                    "backup written: {} ({} bytes; {} agents, {} keys, {} audit events; chain \
                     head seq {})",
                    path.display(),
                    m.bytes,
                    m.rows.agents,
                    m.rows.api_keys,
                    m.rows.audit_events,
                    m.head_seq
                );
                for r in &removed {
                    println!(
                        "removed (older than {} days): {}",
                        cfg.backup.retention_days,
                        r.display()
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: backup failed: {e}");
            ExitCode::from(2)
        }
    }
}

fn list(dir: &Path, json: bool) -> ExitCode {
    let found = match crate::backup::manifest::list(dir) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    };
    if json {
        let items: Vec<_> = found
            .iter()
            .map(|f| {
                serde_json::json!({
                    "file": f.data, "taken_at": f.taken_at.to_rfc3339(), "complete": f.complete
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(items));
    } else if found.is_empty() {
        println!("no backups in {}", dir.display());
    } else {
        for f in &found {
            let size = std::fs::metadata(&f.data).map_or(0, |m| m.len());
            println!(
                "{}  {:>12} bytes  {}{}",
                f.taken_at.format("%Y-%m-%d %H:%M:%S UTC"),
                size,
                f.data.display(),
                if f.complete {
                    ""
                } else {
                    "  (unfinished: no manifest)"
                }
            );
        }
    }
    ExitCode::SUCCESS
}

/// Shows `done` of `total`, creating the progress line on the first call.
fn step(p: &mut Option<Progress>, task: &'static str, unit: Unit, done: u64, total: u64) {
    p.get_or_insert_with(|| Progress::new(task, unit, total))
        .set(done)
}

fn finish(p: Option<Progress>) {
    if let Some(p) = p {
        p.finish();
    }
}

fn print_restored(r: &Restored, json: bool, what: &str) {
    if json {
        println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
        return;
    }
    println!(
        "{what} {}: {} agents, {} keys, {} audit events; chain head seq {}; schema {}{}",
        r.file,
        r.rows.agents,
        r.rows.api_keys,
        r.rows.audit_events,
        r.head_seq,
        r.schema_version,
        if r.manifest_checked {
            "; matches its manifest"
        } else {
            "; no manifest beside it (not compared)"
        }
    );
    super::audit::print_report(&r.chain, false);
}

fn test_restore(cfg: &Config, dir: &Path, file: Option<PathBuf>, json: bool) -> ExitCode {
    let file = match file.map_or_else(|| backup::newest(dir), Ok) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime().block_on(async {
        let opts = crate::store::StoreOptions::for_config(cfg).map_err(|e| (2, e.to_string()))?;
        let mut p = None;
        let r = backup::test_restore(&opts, &file, &mut |d, t| {
            step(&mut p, "test-restore", Unit::Bytes, d, t)
        })
        .await;
        finish(p);
        r.map_err(|e| match e {
            BackupError::Invalid { .. } => (1, e.to_string()),
            e => (2, e.to_string()),
        })
    });
    match result {
        Ok(r) => {
            print_restored(&r, json, "test restore of");
            if r.chain.verified {
                if !json {
                    println!("test restore passed; the throwaway database was removed");
                }
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err((code, e)) => {
            eprintln!("error: test restore FAILED: {e}");
            ExitCode::from(code)
        }
    }
}

/// Is the daemon running? `Some(why)` when it is: the unit is active, or something answers on
/// its configured address.
fn running(cfg: &Config) -> Option<String> {
    if Path::new("/run/systemd/system").exists() {
        let active = Command::new("systemctl")
            .args(["is-active", "--quiet", SERVICE])
            .status()
            .is_ok_and(|s| s.success());
        if active {
            return Some(format!("{SERVICE} is active"));
        }
    }
    let base = crate::health::checks::base_url(cfg.server.listen);
    let answered = runtime().block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .ok()?;
        client.get(format!("{base}/health/live")).send().await.ok()
    });
    answered.map(|_| format!("a tappass daemon answers at {base}"))
}

fn systemctl(verb: &str) -> Result<(), String> {
    let status = Command::new("systemctl")
        .args([verb, SERVICE])
        .status()
        .map_err(|e| format!("systemctl {verb} {SERVICE}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("systemctl {verb} {SERVICE} failed ({status})"))
    }
}

pub fn restore(args: RestoreArgs) -> ExitCode {
    let cfg = match load(&args.config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if !args.file.is_file() {
        eprintln!("error: {}: no such backup file", args.file.display());
        return ExitCode::from(2);
    }
    // Check the file before stopping anything.
    if let Err(e) = backup::check(&args.file) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let mut stopped = false;
    if let Some(why) = running(&cfg) {
        if !args.stop_service {
            eprintln!(
                "error: refusing to restore while tappass runs ({why}): stop it first \
                 (systemctl stop {SERVICE}), or pass --stop-service to have restore stop it and \
                 start it again"
            );
            return ExitCode::from(1);
        }
        if let Err(e) = systemctl("stop") {
            eprintln!("error: {e}; nothing was restored");
            return ExitCode::from(2);
        }
        stopped = true;
        if let Some(why) = running(&cfg) {
            eprintln!(
                "error: tappass still runs after stopping {SERVICE} ({why}); nothing was restored"
            );
            return ExitCode::from(2);
        }
        eprintln!("stopped {SERVICE}");
    }
    let dir = cfg.backup_dir();
    let result = runtime().block_on(async {
        let opts = crate::store::StoreOptions::for_config(&cfg).map_err(|e| e.to_string())?;
        let store = Store::connect_lazy(&opts).map_err(|e| e.to_string())?;
        let found = store.schema_version().await.map_err(|e| e.to_string())?;
        let latest = crate::store::latest_schema_version();
        let newer = found > latest;
        if newer && !args.reset_schema {
            return Err(format!(
                "the database is at schema {found}, newer than this tappass knows ({latest}): \
                 a newer version migrated it. `tappass restore --reset-schema FILE` drops \
                 TapPass's tables, recreates them at schema {latest} and restores FILE (the \
                 current rows are kept in a safety backup first); nothing was changed"
            ));
        }
        if !newer {
            store.migrate().await.map_err(|e| e.to_string())?;
        }
        store.set_ready();
        let safety = if args.no_safety_backup {
            None
        } else {
            let mut p = None;
            let made = backup::create(&store, &dir, &mut |d, t| {
                step(&mut p, "safety-backup", Unit::Rows, d, t)
            })
            .await
            .map_err(|e| {
                format!("the safety backup of the current database failed ({e}); nothing was restored (--no-safety-backup skips it)")
            })?;
            finish(p);
            Some(made.0)
        };
        if newer {
            let left = store.reset_schema().await.map_err(|e| {
                format!("resetting the schema from {found} to {latest} failed: {e}")
            })?;
            eprintln!("schema reset from {found} (a newer tappass) to {latest}");
            if !left.is_empty() {
                eprintln!(
                    "warning: tables a newer tappass created were left in place: {} (drop them \
                     by hand before upgrading again if its migration recreates them)",
                    left.join(", ")
                );
            }
        }
        let mut p = None;
        let r = backup::restore(&store, &args.file, &mut |d, t| {
            step(&mut p, "restore", Unit::Bytes, d, t)
        })
        .await;
        finish(p);
        store.close().await;
        // Run as root on the daemon's SQLite file: whatever root created stays the daemon's.
        if let crate::config::DatabaseKind::Sqlite(db) = cfg.database_kind() {
            backup::adopt_sqlite(&db, &cfg.state_dir()).map_err(|e| e.to_string())?;
        }
        Ok::<_, String>((r.map_err(|e| e.to_string())?, safety))
    });
    let code = match &result {
        Ok((r, safety)) => {
            if let Some(s) = safety {
                if !args.json {
                    println!("the database as it was is kept in {}", s.display());
                }
            }
            print_restored(r, args.json, "restored");
            // The chain was replaced on purpose: the monitor verifies it afresh.
            if let Err(e) = crate::health::state::forget_chain(&cfg.state_dir()) {
                eprintln!("warning: {e}");
            }
            let checkpoints = cfg
                .state_dir()
                .join(crate::audit::checkpoint_file::CHECKPOINT_FILE);
            if let Ok(Some(cp)) = crate::audit::checkpoint_file::newest(&checkpoints) {
                if cp.seq > r.head_seq as u64 {
                    eprintln!(
                        "warning: the newest signed checkpoint ({}) is at seq {}, beyond this \
                         backup's head {}: events {}..={} were recorded after the backup and \
                         are not in it; `tappass audit verify` reports this gap as TRUNCATED",
                        checkpoints.display(),
                        cp.seq,
                        r.head_seq,
                        r.head_seq + 1,
                        cp.seq
                    );
                }
            }
            if r.chain.verified {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("error: restore failed: {e}");
            ExitCode::from(2)
        }
    };
    if stopped {
        match systemctl("start") {
            Ok(()) => eprintln!("started {SERVICE}"),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    code
}
