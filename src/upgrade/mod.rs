//! `tappass upgrade VERSION` and `tappass upgrade --rollback`: an upgrade through the system's
//! package manager that puts the previous version back by itself when the new one does not
//! become ready.
//!
//! An upgrade, in order: keep the installed version's package file in [`DIR`] (root-only; a
//! mirror may stop serving it); stop `tappass.service` (and `tappass.socket`, so nothing starts
//! it again), take a backup, install VERSION from the signed repositories, start the service
//! and wait for `/health/ready`. When that does not come within the timeout: stop it, reinstall
//! the kept package, and — when the failed version migrated the schema beyond what the
//! previous one knows, which would keep the previous daemon from starting — have the
//! reinstalled binary restore the pre-upgrade backup with `restore --reset-schema`. Then start
//! it and wait for readiness again.
//!
//! [`Record`] (`DIR/upgrade.json`) remembers the last upgrade, so `--rollback` can undo a
//! successful one later with the same steps.

pub mod package;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::store::{Store, StoreOptions};
use package::{PackageError, PackageManager};

/// Where kept packages and the record live: root's alone, outside the daemon's state directory
/// (a daemon that could write here could plant the package root installs on a rollback).
pub const DIR: &str = "/var/lib/tappass-upgrade";
/// The installed binary, which a rollback runs after reinstalling (its schema, its restore).
pub const BINARY: &str = "/usr/bin/tappass";
pub const SERVICE: &str = "tappass.service";
pub const SOCKET: &str = "tappass.socket";
const RECORD: &str = "upgrade.json";
/// Package files kept besides the one a rollback needs.
const KEEP: usize = 3;

/// A package file this command kept.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Kept {
    pub version: String,
    pub file: PathBuf,
    pub sha256: String,
}

/// Where an upgrade got to.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Interrupted while installing or waiting (the record says what to undo).
    InProgress,
    /// The new version is installed and ready.
    Upgraded,
    /// The previous version is back and ready.
    RolledBack,
    /// The previous version is back, but not ready, or could not be put back.
    RollbackFailed,
    /// Nothing to do: that version is installed.
    Unchanged,
}

impl Outcome {
    /// The command's exit status: 0 upgraded (or nothing to do), 1 rolled back to a healthy
    /// previous version, 2 not healthy.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Upgraded | Outcome::Unchanged => 0,
            Outcome::RolledBack => 1,
            Outcome::InProgress | Outcome::RollbackFailed => 2,
        }
    }
}

/// The last upgrade (`DIR/upgrade.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub from: Kept,
    /// The schema version the database had before the upgrade (the backup's).
    pub schema: i64,
    pub to: String,
    /// The backup taken just before installing, with the service stopped.
    pub backup: PathBuf,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub outcome: Outcome,
    /// Why the new version was rolled back.
    pub reason: Option<String>,
    /// What the rollback's restore printed, when it ran.
    pub restore: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum UpgradeError {
    /// Before anything changed.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Package(#[from] PackageError),
    #[error("{0}")]
    Failed(String),
}

/// Steps of one run, for progress (`[n/total] what`).
pub type Say<'a> = &'a mut dyn FnMut(u32, u32, &str);

/// One upgrade or rollback run.
pub struct Upgrader<'a> {
    pub pm: &'a dyn PackageManager,
    pub config: &'a Config,
    /// `--config`/`--state-dir`/`--database-url` as given, passed on to the reinstalled
    /// binary's restore.
    pub config_args: Vec<String>,
    pub dir: PathBuf,
    pub timeout: Duration,
    pub say: Say<'a>,
}

fn failed(what: &str) -> impl FnOnce(String) -> UpgradeError + '_ {
    move |e| UpgradeError::Failed(format!("{what}: {e}"))
}

fn sha256_file(path: &Path) -> Result<String, String> {
    let mut f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut sha = Sha256::new();
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        if n == 0 {
            return Ok(hex::encode(sha.finalize()));
        }
        sha.update(&buf[..n]);
    }
}

fn systemctl(args: &[&str]) -> Result<(), String> {
    let out = Command::new("systemctl")
        .args(args)
        .output()
        .map_err(|e| format!("systemctl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "systemctl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn unit_property(unit: &str, prop: &str) -> String {
    Command::new("systemctl")
        .args(["show", "--value", "-p", prop, unit])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The service's journal since `since`, last lines: why a new version did not become ready.
fn journal_since(since: DateTime<Utc>) -> String {
    let at = format!("@{}", since.timestamp());
    Command::new("journalctl")
        .args([
            "-u",
            SERVICE,
            "--since",
            &at,
            "-n",
            "8",
            "--no-pager",
            "-o",
            "cat",
        ])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("cannot start the async runtime")
}

/// Reads the record of the last upgrade.
pub fn load_record(dir: &Path) -> Result<Option<Record>, String> {
    let path = dir.join(RECORD);
    match std::fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b)
            .map(Some)
            .map_err(|e| format!("{}: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Writes the record atomically (a crash leaves the old one or the new one).
fn save_record(dir: &Path, r: &Record) -> Result<(), String> {
    let path = dir.join(RECORD);
    let tmp = dir.join(format!(".{RECORD}.tmp"));
    let body = serde_json::to_vec_pretty(r).map_err(|e| e.to_string())?;
    std::fs::write(&tmp, body)
        .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
        .and_then(|()| std::fs::rename(&tmp, &path))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The kept package files to delete: all but the newest [`KEEP`] by name order of keeping
/// (modification time), never one in `protect`.
pub fn prune_list(
    mut files: Vec<(PathBuf, std::time::SystemTime)>,
    protect: &[&Path],
) -> Vec<PathBuf> {
    files.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    files
        .into_iter()
        .skip(KEEP)
        .map(|(p, _)| p)
        .filter(|p| !protect.contains(&p.as_path()))
        .collect()
}

impl Upgrader<'_> {
    fn packages(&self) -> PathBuf {
        self.dir.join("packages")
    }

    /// The root-only directories, created on first use.
    fn ensure_dirs(&self) -> Result<(), UpgradeError> {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        for d in [&self.dir, &self.packages()] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(d)
                .and_then(|()| std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700)))
                .map_err(|e| UpgradeError::Refused(format!("{}: {e}", d.display())))?;
        }
        Ok(())
    }

    /// Keeps the package file of `version` and records its checksum.
    fn keep(&self, version: &str) -> Result<Kept, UpgradeError> {
        let file = self.pm.fetch(version, &self.packages())?;
        let inside = self.pm.file_version(&file)?;
        if inside != version {
            return Err(UpgradeError::Refused(format!(
                "{} holds version {inside}, not {version}",
                file.display()
            )));
        }
        let sha256 = sha256_file(&file).map_err(UpgradeError::Refused)?;
        Ok(Kept {
            version: version.to_owned(),
            file,
            sha256,
        })
    }

    fn prune_packages(&self, protect: &[&Path]) {
        let Ok(rd) = std::fs::read_dir(self.packages()) else {
            return;
        };
        let files = rd
            .filter_map(Result::ok)
            .filter_map(|e| Some((e.path(), e.metadata().ok()?.modified().ok()?)))
            .collect();
        for p in prune_list(files, protect) {
            let _ = std::fs::remove_file(p);
        }
    }

    /// Stops the units; returns whether the socket was active (to start it again).
    fn stop(&self) -> Result<bool, String> {
        let socket = unit_property(SOCKET, "ActiveState") == "active";
        systemctl(&["stop", SOCKET, SERVICE])?;
        Ok(socket)
    }

    fn start(&self, socket: bool) -> Result<(), String> {
        let _ = systemctl(&["reset-failed", SERVICE]);
        if socket {
            systemctl(&["start", SOCKET])?;
        }
        systemctl(&["start", "--no-block", SERVICE])
    }

    /// Waits for `/health/ready`: `Err(why)` when it does not come within the timeout, or the
    /// unit gives up first.
    fn wait_ready(&self) -> Result<Duration, String> {
        let base = crate::health::checks::base_url(self.config.server.listen);
        let started = Instant::now();
        runtime().block_on(async {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(2))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .map_err(|e| e.to_string())?;
            loop {
                let last = match crate::health::checks::probe_ready(&client, &base).await {
                    Ok((s, _)) if s.is_success() => return Ok(started.elapsed()),
                    Ok((s, body)) => format!("{base}/health/ready answered {s}: {body}"),
                    Err(e) => format!("nothing answers at {base}/health/ready ({e})"),
                };
                if unit_property(SERVICE, "ActiveState") == "failed" {
                    return Err(format!("{SERVICE} failed; {last}"));
                }
                if started.elapsed() >= self.timeout {
                    return Err(format!(
                        "not ready within {} s; {last}",
                        self.timeout.as_secs()
                    ));
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        })
    }

    /// Stops the daemon's writers and takes the pre-upgrade backup; returns its path and the
    /// schema version.
    fn backup(&self) -> Result<(PathBuf, i64), String> {
        let dir = self.config.backup_dir();
        let made = runtime().block_on(async {
            let opts = StoreOptions::for_config(self.config).map_err(|e| e.to_string())?;
            let store = Store::open(&opts).await.map_err(|e| e.to_string())?;
            let made = crate::backup::create(&store, &dir, &mut |_, _| {}).await;
            store.close().await;
            made.map_err(|e| e.to_string())
        })?;
        if let crate::config::DatabaseKind::Sqlite(db) = self.config.database_kind() {
            crate::backup::adopt_sqlite(&db, &self.config.state_dir())
                .map_err(|e| e.to_string())?;
        }
        Ok((made.0, made.1.schema_version))
    }

    /// The database's schema version, read without migrating.
    fn schema_version(&self) -> Result<i64, String> {
        runtime().block_on(async {
            let opts = StoreOptions::for_config(self.config).map_err(|e| e.to_string())?;
            let store = Store::connect_lazy(&opts).map_err(|e| e.to_string())?;
            let v = store.schema_version().await.map_err(|e| e.to_string());
            store.close().await;
            v
        })
    }

    /// `tappass upgrade VERSION`.
    pub fn upgrade(&mut self, version: &str) -> Result<Record, UpgradeError> {
        const N: u32 = 7;
        if !package::valid_version(version) {
            return Err(UpgradeError::Refused(format!(
                "VERSION: {version:?} is not a package version (e.g. 1.4.0-1)"
            )));
        }
        (self.say)(1, N, "checking the installed and the available versions");
        let current = self.pm.installed()?;
        if current == version {
            return Ok(Record {
                from: Kept {
                    version: current.clone(),
                    file: PathBuf::new(),
                    sha256: String::new(),
                },
                schema: 0,
                to: current,
                backup: PathBuf::new(),
                started_at: Utc::now(),
                finished_at: Some(Utc::now()),
                outcome: Outcome::Unchanged,
                reason: None,
                restore: None,
            });
        }
        if let Err(e) = self.pm.refresh() {
            eprintln!("warning: refreshing the package lists failed, using the ones there: {e}");
        }
        let available = self.pm.available()?;
        if !available.iter().any(|v| v == version) {
            return Err(UpgradeError::Refused(format!(
                "version {version} is not in the configured {} repositories (they offer: {}); \
                 nothing was changed",
                self.pm.name(),
                if available.is_empty() {
                    "none".to_owned()
                } else {
                    available.join(", ")
                }
            )));
        }
        self.ensure_dirs()?;

        (self.say)(
            2,
            N,
            &format!("keeping the package of {current} for a rollback"),
        );
        let from = self.keep(&current).map_err(|e| {
            UpgradeError::Refused(format!(
                "cannot keep the installed version's package, so a rollback would be impossible \
                 ({e}); nothing was changed"
            ))
        })?;

        (self.say)(3, N, &format!("stopping {SERVICE}"));
        let socket = self.stop().map_err(failed("stopping the service"))?;

        (self.say)(4, N, "backing up the database");
        let (backup, schema) = match self.backup() {
            Ok(b) => b,
            Err(e) => {
                let _ = self.start(socket);
                return Err(UpgradeError::Failed(format!(
                    "the pre-upgrade backup failed ({e}); nothing was installed and {SERVICE} \
                     was started again"
                )));
            }
        };
        let mut record = Record {
            from,
            schema,
            to: version.to_owned(),
            backup,
            started_at: Utc::now(),
            finished_at: None,
            outcome: Outcome::InProgress,
            reason: None,
            restore: None,
        };
        save_record(&self.dir, &record).map_err(UpgradeError::Failed)?;

        (self.say)(
            5,
            N,
            &format!("installing {version} with {}", self.pm.name()),
        );
        let installed = self.pm.install_version(version).map_err(|e| e.to_string());

        (self.say)(6, N, &format!("starting {SERVICE}"));
        let started_at = Utc::now();
        let ready = installed.and_then(|()| {
            self.start(socket)?;
            (self.say)(
                7,
                N,
                &format!(
                    "waiting up to {} s for /health/ready",
                    self.timeout.as_secs()
                ),
            );
            self.wait_ready()
        });
        match ready {
            Ok(_) => {
                record.outcome = Outcome::Upgraded;
                record.finished_at = Some(Utc::now());
                save_record(&self.dir, &record).map_err(UpgradeError::Failed)?;
                // The new version's package, for the next upgrade's rollback.
                let new = self.keep(version).ok();
                let mut protect = vec![record.from.file.as_path()];
                if let Some(n) = &new {
                    protect.push(n.file.as_path());
                }
                self.prune_packages(&protect);
                Ok(record)
            }
            Err(why) => {
                let journal = journal_since(started_at);
                let reason = if journal.is_empty() {
                    why
                } else {
                    format!("{why}\n{SERVICE} said:\n{journal}")
                };
                self.rollback(record, reason)
            }
        }
    }

    /// `tappass upgrade --rollback`: undoes the last successful upgrade.
    pub fn rollback_last(&mut self) -> Result<Record, UpgradeError> {
        let record = load_record(&self.dir)
            .map_err(UpgradeError::Refused)?
            .ok_or_else(|| {
                UpgradeError::Refused(format!(
                    "no upgrade to roll back ({} does not exist)",
                    self.dir.join(RECORD).display()
                ))
            })?;
        if record.outcome == Outcome::RolledBack {
            return Err(UpgradeError::Refused(format!(
                "the upgrade to {} was already rolled back to {}",
                record.to, record.from.version
            )));
        }
        let current = self.pm.installed()?;
        if current != record.to && record.outcome == Outcome::Upgraded {
            return Err(UpgradeError::Refused(format!(
                "{current} is installed, not {} which the last upgrade installed: roll back with \
                 `tappass upgrade {}` instead",
                record.to, record.from.version
            )));
        }
        self.rollback(record, "requested (--rollback)".to_owned())
    }

    /// Puts `record.from` back: the package, the schema when it moved, the service.
    fn rollback(&mut self, mut record: Record, reason: String) -> Result<Record, UpgradeError> {
        const N: u32 = 4;
        record.reason = Some(reason);
        record.outcome = Outcome::RollbackFailed;
        let result = self.put_back(&mut record, N);
        record.finished_at = Some(Utc::now());
        match result {
            Ok(()) => record.outcome = Outcome::RolledBack,
            Err(e) => {
                let why = record.reason.take().unwrap_or_default();
                record.reason = Some(format!("{why}\nthe rollback failed: {e}"));
            }
        }
        save_record(&self.dir, &record).map_err(UpgradeError::Failed)?;
        Ok(record)
    }

    fn put_back(&mut self, record: &mut Record, n: u32) -> Result<(), String> {
        let from = record.from.clone();
        (self.say)(1, n, &format!("rolling back: stopping {SERVICE}"));
        let socket = self.stop()?;
        (self.say)(
            2,
            n,
            &format!("reinstalling {} from {}", from.version, from.file.display()),
        );
        let sum = sha256_file(&from.file)?;
        if sum != from.sha256 {
            return Err(format!(
                "{} changed since it was kept (SHA-256 {sum}, recorded {}): not installing it",
                from.file.display(),
                from.sha256
            ));
        }
        self.pm
            .install_file(&from.file)
            .map_err(|e| e.to_string())?;
        let now = self.pm.installed().map_err(|e| e.to_string())?;
        if now != from.version {
            return Err(format!(
                "{now} is installed after reinstalling {}",
                from.version
            ));
        }
        let schema = self.schema_version()?;
        if schema > record.schema {
            (self.say)(
                3,
                n,
                &format!(
                    "the schema moved from {} to {schema}: restoring the pre-upgrade backup with \
                     {} {}",
                    record.schema,
                    from.version,
                    record.backup.display()
                ),
            );
            let out = Command::new(BINARY)
                .arg("restore")
                .arg("--reset-schema")
                .args(&self.config_args)
                .arg(&record.backup)
                .output()
                .map_err(|e| format!("{BINARY} restore: {e}"))?;
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
            .lines()
            .filter(|l| !l.starts_with("progress "))
            .collect::<Vec<_>>()
            .join("\n");
            record.restore = Some(text.clone());
            if !out.status.success() {
                return Err(format!("restoring the pre-upgrade backup failed:\n{text}"));
            }
        } else {
            (self.say)(
                3,
                n,
                &format!("the schema is still {schema}: the database is kept as it is"),
            );
        }
        (self.say)(
            4,
            n,
            &format!("starting {SERVICE} and waiting for /health/ready"),
        );
        self.start(socket)?;
        self.wait_ready().map(|_| ())
    }
}

/// What `tappass doctor` says about the last upgrade: an interrupted one, or one whose rollback
/// failed too, is a failure with its fix.
pub fn judge(r: &Record) -> (crate::health::Status, String) {
    use crate::health::Status;
    let at = r
        .finished_at
        .unwrap_or(r.started_at)
        .format("%Y-%m-%d %H:%M UTC");
    let why = r
        .reason
        .as_deref()
        .and_then(|w| w.lines().next())
        .unwrap_or("");
    match r.outcome {
        Outcome::Upgraded => (
            Status::Ok,
            format!("last: {} -> {} at {at}", r.from.version, r.to),
        ),
        Outcome::Unchanged => (Status::Ok, format!("last: {} kept", r.to)),
        Outcome::RolledBack => (
            Status::Ok,
            format!(
                "last: {} rolled back to {} at {at} ({why})",
                r.to, r.from.version
            ),
        ),
        Outcome::InProgress => (
            Status::Fail,
            format!(
                "the upgrade from {} to {} started at {at} was interrupted: `sudo tappass \
                 upgrade --rollback` puts {} back (pre-upgrade backup {})",
                r.from.version,
                r.to,
                r.from.version,
                r.backup.display()
            ),
        ),
        Outcome::RollbackFailed => (
            Status::Fail,
            format!(
                "the upgrade to {} failed at {at} ({why}) and so did its rollback: see \
                 `journalctl -u tappass` and {}, then `sudo tappass upgrade --rollback` to retry",
                r.to,
                Path::new(DIR).join(RECORD).display()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn record(outcome: Outcome) -> Record {
        Record {
            from: Kept {
                version: "1.0.0-1".into(),
                file: "/var/lib/tappass-upgrade/packages/tappass_1.0.0-1_amd64.deb".into(),
                sha256: "ab".repeat(32),
            },
            schema: 2,
            to: "1.1.0-1".into(),
            backup: "/var/lib/tappass/backups/tappass-2026-12-05T010203.sql.gz".into(),
            started_at: Utc::now(),
            finished_at: None,
            outcome,
            reason: Some("not ready within 60 s; nothing answers\nmore".into()),
            restore: None,
        }
    }

    #[test]
    fn the_doctor_fails_an_interrupted_upgrade_or_a_failed_rollback_with_the_fix() {
        use crate::health::Status;
        let (s, d) = judge(&record(Outcome::Upgraded));
        assert_eq!(s, Status::Ok);
        assert!(d.starts_with("last: 1.0.0-1 -> 1.1.0-1 at "), "{d}");
        let (s, d) = judge(&record(Outcome::RolledBack));
        assert_eq!(s, Status::Ok);
        assert!(
            d.contains("1.1.0-1 rolled back to 1.0.0-1") && d.contains("(not ready within 60 s"),
            "{d}"
        );
        assert!(
            !d.contains("more"),
            "only the first line of the reason: {d}"
        );
        let (s, d) = judge(&record(Outcome::InProgress));
        assert_eq!(s, Status::Fail);
        assert!(
            d.contains("interrupted") && d.contains("tappass upgrade --rollback"),
            "{d}"
        );
        let (s, d) = judge(&record(Outcome::RollbackFailed));
        assert_eq!(s, Status::Fail);
        assert!(
            d.contains("so did its rollback") && d.contains("--rollback"),
            "{d}"
        );
    }

    #[test]
    fn exit_codes_tell_upgraded_from_rolled_back_from_broken() {
        assert_eq!(Outcome::Upgraded.exit_code(), 0);
        assert_eq!(Outcome::Unchanged.exit_code(), 0);
        assert_eq!(Outcome::RolledBack.exit_code(), 1);
        assert_eq!(Outcome::RollbackFailed.exit_code(), 2);
        assert_eq!(Outcome::InProgress.exit_code(), 2);
    }

    #[test]
    fn pruning_keeps_the_newest_and_the_protected() {
        let t = |s| SystemTime::UNIX_EPOCH + Duration::from_secs(s);
        let files = vec![
            (PathBuf::from("a"), t(1)),
            (PathBuf::from("b"), t(2)),
            (PathBuf::from("c"), t(3)),
            (PathBuf::from("d"), t(4)),
            (PathBuf::from("e"), t(5)),
        ];
        assert_eq!(
            prune_list(files.clone(), &[]),
            vec![PathBuf::from("b"), PathBuf::from("a")]
        );
        assert_eq!(
            prune_list(files, &[Path::new("a")]),
            vec![PathBuf::from("b")]
        );
        assert!(prune_list(vec![(PathBuf::from("x"), t(1))], &[]).is_empty());
    }

    #[test]
    fn record_round_trips_and_names_its_outcome() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_record(dir.path()).unwrap().is_none());
        let r = record(Outcome::RolledBack);
        save_record(dir.path(), &r).unwrap();
        let text = std::fs::read_to_string(dir.path().join(RECORD)).unwrap();
        assert!(text.contains("\"outcome\": \"rolled_back\""), "{text}");
        let back = load_record(dir.path()).unwrap().unwrap();
        assert_eq!(back.from, r.from);
        assert_eq!(back.outcome, Outcome::RolledBack);
        std::fs::write(dir.path().join(RECORD), "{").unwrap();
        assert!(load_record(dir.path()).unwrap_err().contains(RECORD));
    }

    #[test]
    fn sha256_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, "abc").unwrap();
        assert_eq!(
            sha256_file(&p).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(sha256_file(&dir.path().join("missing")).is_err());
    }
}
