//! A backup's manifest and the backup directory's naming and retention rules (pure but for
//! [`list`], which reads the directory).
//!
//! `tappass-2026-12-04T031500.sql.gz` is written with its manifest beside it,
//! `tappass-2026-12-04T031500.manifest.json`, last: a backup without a manifest is unfinished
//! (or was interrupted) and is never picked as "the newest".

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::format::Table;

const PREFIX: &str = "tappass-";
const DATA_SUFFIX: &str = ".sql.gz";
const MANIFEST_SUFFIX: &str = ".manifest.json";
const STAMP: &str = "%Y-%m-%dT%H%M%S";

/// What a backup holds, written beside it and checked before any restore.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The backup file's name (in the same directory).
    pub file: String,
    /// `tappass-backup/1`.
    pub format: String,
    pub created_at: String,
    pub tappass_version: String,
    /// `sqlite` or `postgresql`: where it was taken (it restores into either).
    pub backend: String,
    /// The newest schema migration applied to the database it was taken from.
    pub schema_version: i64,
    /// The chain head recorded in the snapshot (seq 0 and no hash: an empty chain).
    pub head_seq: u64,
    pub head_hash: Option<String>,
    pub rows: Rows,
    /// SHA-256 of the backup file's bytes (compressed), hex.
    pub sha256: String,
    pub bytes: u64,
}

/// Row counts per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rows {
    pub agents: u64,
    pub api_keys: u64,
    pub audit_events: u64,
}

impl Rows {
    pub fn get_mut(&mut self, t: Table) -> &mut u64 {
        match t {
            Table::Agents => &mut self.agents,
            Table::ApiKeys => &mut self.api_keys,
            Table::AuditEvents => &mut self.audit_events,
        }
    }

    pub fn total(&self) -> u64 {
        self.agents + self.api_keys + self.audit_events
    }
}

pub const FORMAT_NAME: &str = "tappass-backup/1";

/// The file names of a backup taken at `at`: (data, manifest).
pub fn names(at: DateTime<Utc>) -> (String, String) {
    let stem = format!("{PREFIX}{}", at.format(STAMP));
    (
        format!("{stem}{DATA_SUFFIX}"),
        format!("{stem}{MANIFEST_SUFFIX}"),
    )
}

/// The manifest that belongs to a backup file (`x.sql.gz` → `x.manifest.json`).
pub fn manifest_path(data: &Path) -> PathBuf {
    let name = data.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let stem = name.strip_suffix(DATA_SUFFIX).unwrap_or(name);
    data.with_file_name(format!("{stem}{MANIFEST_SUFFIX}"))
}

/// When a backup file name says it was taken, if it is one of ours.
pub fn taken_at(name: &str) -> Option<DateTime<Utc>> {
    let stamp = name
        .strip_prefix(PREFIX)?
        .strip_suffix(DATA_SUFFIX)
        .or_else(|| name.strip_prefix(PREFIX)?.strip_suffix(MANIFEST_SUFFIX))?;
    NaiveDateTime::parse_from_str(stamp, STAMP)
        .ok()
        .map(|t| Utc.from_utc_datetime(&t))
}

/// One backup found in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub data: PathBuf,
    pub taken_at: DateTime<Utc>,
    /// Whether its manifest exists (a backup without one is unfinished).
    pub complete: bool,
}

/// Every backup in `dir`, oldest first.
pub fn list(dir: &Path) -> std::io::Result<Vec<Found>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.ends_with(DATA_SUFFIX) {
            continue;
        }
        if let Some(at) = taken_at(name) {
            out.push(Found {
                complete: manifest_path(&path).is_file(),
                data: path,
                taken_at: at,
            });
        }
    }
    out.sort_by_key(|f| f.taken_at);
    Ok(out)
}

/// The newest complete backup.
pub fn newest(found: &[Found]) -> Option<&Found> {
    found.iter().rev().find(|f| f.complete)
}

/// The backups retention removes: older than `days` days before `now`, always keeping the newest
/// complete one (a daemon stopped for a month must not lose its last backup).
pub fn expired(found: &[Found], now: DateTime<Utc>, days: u32) -> Vec<&Found> {
    let cutoff = now - chrono::Duration::days(i64::from(days));
    let keep = newest(found).map(|f| &f.data);
    found
        .iter()
        .filter(|f| f.taken_at < cutoff && Some(&f.data) != keep)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn found(stamp: &str, complete: bool) -> Found {
        Found {
            data: PathBuf::from(format!("/b/tappass-{stamp}.sql.gz")),
            taken_at: taken_at(&format!("tappass-{stamp}.sql.gz")).unwrap(),
            complete,
        }
    }

    #[test]
    fn names_and_times_round_trip() {
        let t = at("2026-12-04T03:15:07Z");
        let (data, manifest) = names(t);
        assert_eq!(data, "tappass-2026-12-04T031507.sql.gz");
        assert_eq!(manifest, "tappass-2026-12-04T031507.manifest.json");
        assert_eq!(taken_at(&data), Some(t));
        assert_eq!(taken_at(&manifest), Some(t));
        assert_eq!(
            manifest_path(Path::new("/x/tappass-2026-12-04T031507.sql.gz")),
            PathBuf::from("/x/tappass-2026-12-04T031507.manifest.json")
        );
    }

    #[test]
    fn other_files_are_not_backups() {
        for n in [
            "tappass.db",
            "tappass-2026-12-04.sql",
            "tappass-yesterday.sql.gz",
            "other-2026-12-04T031507.sql.gz",
            "tappass-2026-13-04T031507.sql.gz",
        ] {
            assert_eq!(taken_at(n), None, "{n}");
        }
    }

    #[test]
    fn newest_skips_unfinished_backups() {
        let f = vec![
            found("2026-12-01T031500", true),
            found("2026-12-02T031500", true),
            found("2026-12-03T031500", false),
        ];
        assert_eq!(newest(&f), Some(&f[1]));
        assert_eq!(newest(&f[2..]), None);
    }

    #[test]
    fn retention_removes_old_backups_but_keeps_the_newest_complete_one() {
        let f = vec![
            found("2026-10-01T031500", true),
            found("2026-11-03T031500", true),
            found("2026-11-05T031500", true),
            found("2026-12-03T031500", false),
        ];
        let now = at("2026-12-04T12:00:00Z");
        let gone: Vec<_> = expired(&f, now, 30).into_iter().cloned().collect();
        assert_eq!(gone, vec![f[0].clone(), f[1].clone()]);
        // Everything old: the newest complete one stays.
        let gone = expired(&f[..3], at("2027-06-01T00:00:00Z"), 30);
        assert_eq!(gone.len(), 2);
        assert!(!gone.contains(&&f[2]));
    }
}
