//! What one run of the monitor remembers for the next (`<state_dir>/health-state.json`), when
//! a run alerts, and the `tappass.down` status file.
//!
//! The state that alerts follow is the set of problems — each problem check's key and status,
//! never its detail (a disk going from 91 % to 92 % is the same state). An alert goes out when
//! that set differs from the previous run's: down, degraded, or recovered. The journal hears of
//! every change once; the webhook is compared with what it last *received*, so a change it
//! missed (Slack unreachable) is delivered by the next run instead of being lost.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Check, Health, Report, Status};
use crate::audit::chain::Head;

/// The state file's name in the state directory.
pub const STATE_FILE: &str = "health-state.json";
/// Exists in the state directory while the host is not healthy (the seed's
/// `deploy/status/tappass.down`); holds the last report.
pub const DOWN_FILE: &str = "tappass.down";

/// Problems by check key.
pub type Problems = BTreeMap<String, Status>;

/// The problems of a report.
pub fn problems(report: &Report) -> Problems {
    report.problems().map(|c| (c.key(), c.status)).collect()
}

/// One side of the comparison: what a run saw, or what the webhook was last told.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seen {
    pub health: Health,
    pub problems: Problems,
    /// When `health` began.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
}

impl Seen {
    /// What `report` shows, keeping the start time when the health did not change.
    pub fn after(&self, report: &Report) -> Seen {
        Seen {
            health: report.health,
            problems: problems(report),
            since: if self.health == report.health && self.since.is_some() {
                self.since
            } else {
                Some(report.checked_at)
            },
        }
    }
}

/// The persisted state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// What the last run saw (the journal's side).
    pub observed: Seen,
    /// What the webhook last received (equal to `observed` unless a post failed).
    pub notified: Seen,
    /// The last audit chain link verified by a run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<Head>,
}

/// The kind of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    Down,
    Degraded,
    Recovered,
}

/// A change worth telling: from `before` to the report's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: AlertKind,
    /// Problems that appeared or got worse (or better but not gone), as in the report.
    pub new: Vec<Check>,
    /// Keys of the problems that are gone.
    pub resolved: Vec<String>,
    /// The health before, and since when.
    pub was: Health,
    pub was_since: Option<DateTime<Utc>>,
}

/// The change from `before` to `report`, or `None` when the problems are the same.
pub fn change(before: &Seen, report: &Report) -> Option<Change> {
    let now = problems(report);
    if now == before.problems {
        return None;
    }
    let kind = match report.health {
        Health::Down => AlertKind::Down,
        Health::Degraded => AlertKind::Degraded,
        Health::Healthy => AlertKind::Recovered,
    };
    Some(Change {
        kind,
        new: report
            .problems()
            .filter(|c| before.problems.get(&c.key()) != Some(&c.status))
            .cloned()
            .collect(),
        resolved: before
            .problems
            .keys()
            .filter(|k| !now.contains_key(*k))
            .cloned()
            .collect(),
        was: before.health,
        was_since: before.since,
    })
}

/// Reads the state; a missing file is the first run. A damaged file is reported and replaced
/// (at worst one change is alerted twice).
pub fn load(dir: &Path) -> Result<State, String> {
    let path = dir.join(STATE_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map_err(|e| format!("{} is damaged ({e}); starting afresh", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State::default()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Writes `contents` to `dir/name` atomically (temporary file, fsync, rename), mode 0600,
/// owned like `dir` when run as root.
fn write_atomic(dir: &Path, name: &str, contents: &[u8]) -> std::io::Result<PathBuf> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(contents)?;
    f.sync_all()?;
    crate::backup::adopt_owner(&tmp, dir).map_err(std::io::Error::other)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

pub fn save(dir: &Path, state: &State) -> std::io::Result<()> {
    let bytes = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    write_atomic(dir, STATE_FILE, &bytes).map(|_| ())
}

/// `tappass.down` exists (holding the report) while the host is not healthy.
pub fn mark(dir: &Path, report: &Report) -> std::io::Result<()> {
    if report.health == Health::Healthy {
        match std::fs::remove_file(dir.join(DOWN_FILE)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    } else {
        write_atomic(dir, DOWN_FILE, report.human().as_bytes()).map(|_| ())
    }
}

/// The lock file that serializes runs (the timer's and one by hand), so that two runs never
/// compare against the same previous state and alert one change twice.
pub const LOCK_FILE: &str = ".health.lock";

/// Takes the monitor's lock in `dir`, waiting for a run in progress; held until dropped.
pub fn lock(dir: &Path) -> Result<nix::fcntl::Flock<std::fs::File>, String> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let _ = crate::backup::adopt_owner(&path, dir);
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| format!("cannot lock {}: {e}", path.display()))
}

/// Forgets the verified chain position (after `tappass restore` replaced the chain on purpose),
/// so the next run verifies the restored chain from genesis instead of reporting it broken.
pub fn forget_chain(dir: &Path) -> Result<(), String> {
    let mut state = load(dir).unwrap_or_default();
    if state.chain.take().is_some() {
        save(dir, &state).map_err(|e| format!("{}: {e}", dir.join(STATE_FILE).display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::CheckKind;
    use super::*;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + min * 60, 0).unwrap()
    }

    fn report(min: i64, checks: &[(CheckKind, &str, Status, &str)]) -> Report {
        Report::new(
            "host".into(),
            at(min),
            checks
                .iter()
                .map(|(k, s, st, d)| Check::new(*k, *st, *d).on(*s))
                .collect(),
        )
    }

    const DAEMON_OK: (CheckKind, &str, Status, &str) = (CheckKind::Daemon, "x", Status::Ok, "ok");
    const DAEMON_DOWN: (CheckKind, &str, Status, &str) =
        (CheckKind::Daemon, "x", Status::Fail, "refused");
    const DISK_91: (CheckKind, &str, Status, &str) =
        (CheckKind::Disk, "/var", Status::Warn, "91 %");
    const DISK_92: (CheckKind, &str, Status, &str) =
        (CheckKind::Disk, "/var", Status::Warn, "92 %");
    const URL_DOWN: (CheckKind, &str, Status, &str) =
        (CheckKind::Url, "http://a/", Status::Warn, "refused");

    /// Runs reports through `Seen::after` like successive runs; returns the alerts.
    fn run(reports: &[Report]) -> Vec<Option<Change>> {
        let mut seen = Seen::default();
        reports
            .iter()
            .map(|r| {
                let c = change(&seen, r);
                seen = seen.after(r);
                c
            })
            .collect()
    }

    #[test]
    fn a_healthy_first_run_says_nothing() {
        assert_eq!(run(&[report(0, &[DAEMON_OK])]), vec![None]);
    }

    #[test]
    fn down_then_the_same_then_recovered_alerts_twice() {
        let alerts = run(&[
            report(0, &[DAEMON_OK]),
            report(5, &[DAEMON_DOWN]),
            report(10, &[DAEMON_DOWN]),
            report(15, &[DAEMON_DOWN]),
            report(20, &[DAEMON_OK]),
            report(25, &[DAEMON_OK]),
        ]);
        let kinds: Vec<_> = alerts.iter().map(|a| a.as_ref().map(|c| c.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                None,
                Some(AlertKind::Down),
                None,
                None,
                Some(AlertKind::Recovered),
                None
            ]
        );
        let rec = alerts[4].as_ref().unwrap();
        assert_eq!(rec.resolved, vec!["daemon x".to_owned()]);
        assert_eq!(rec.was, Health::Down);
        assert_eq!(
            rec.was_since,
            Some(at(5)),
            "down since the first run that saw it"
        );
    }

    #[test]
    fn a_changing_detail_is_not_a_change() {
        let alerts = run(&[report(0, &[DISK_91]), report(5, &[DISK_92])]);
        assert_eq!(
            alerts[0].as_ref().map(|c| c.kind),
            Some(AlertKind::Degraded)
        );
        assert_eq!(alerts[1], None);
    }

    #[test]
    fn a_second_problem_is_told_even_at_the_same_health() {
        let alerts = run(&[report(0, &[DISK_91]), report(5, &[DISK_91, URL_DOWN])]);
        let second = alerts[1].as_ref().expect("the URL going down is news");
        assert_eq!(second.kind, AlertKind::Degraded);
        assert_eq!(second.new.len(), 1);
        assert_eq!(second.new[0].kind, CheckKind::Url);
        assert!(second.resolved.is_empty());
    }

    #[test]
    fn down_to_degraded_names_what_resolved() {
        let alerts = run(&[
            report(0, &[DAEMON_DOWN, DISK_91]),
            report(5, &[DAEMON_OK, DISK_91]),
        ]);
        let c = alerts[1].as_ref().unwrap();
        assert_eq!(c.kind, AlertKind::Degraded);
        assert_eq!(c.resolved, vec!["daemon x".to_owned()]);
        assert!(c.new.is_empty());
    }

    #[test]
    fn a_warning_turning_into_a_failure_is_a_change() {
        let mut expired = DISK_91;
        expired.2 = Status::Fail;
        let alerts = run(&[report(0, &[DISK_91]), report(5, &[expired])]);
        assert_eq!(alerts[1].as_ref().map(|c| c.kind), Some(AlertKind::Down));
    }

    #[test]
    fn seen_keeps_its_start_while_the_health_holds() {
        let s = Seen::default().after(&report(0, &[DISK_91]));
        assert_eq!(s.since, Some(at(0)));
        let s = s.after(&report(5, &[DISK_91, URL_DOWN]));
        assert_eq!(s.since, Some(at(0)));
        let s = s.after(&report(10, &[DAEMON_OK]));
        assert_eq!((s.health, s.since), (Health::Healthy, Some(at(10))));
    }

    #[test]
    fn one_run_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock(dir.path()).unwrap();
        let other = std::fs::File::open(dir.path().join(LOCK_FILE)).unwrap();
        let busy = nix::fcntl::Flock::lock(other, nix::fcntl::FlockArg::LockExclusiveNonblock);
        assert!(busy.is_err(), "a second run must wait");
        drop(held);
        let other = std::fs::File::open(dir.path().join(LOCK_FILE)).unwrap();
        assert!(
            nix::fcntl::Flock::lock(other, nix::fcntl::FlockArg::LockExclusiveNonblock).is_ok()
        );
    }

    #[test]
    fn files_round_trip_and_down_file_follows_health() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), State::default());
        let state = State {
            observed: Seen::default().after(&report(0, &[DAEMON_DOWN])),
            notified: Seen::default(),
            chain: Some(Head {
                seq: 7,
                hash: "ab".into(),
            }),
        };
        save(dir.path(), &state).unwrap();
        assert_eq!(load(dir.path()).unwrap(), state);
        forget_chain(dir.path()).unwrap();
        assert_eq!(load(dir.path()).unwrap().chain, None);

        mark(dir.path(), &report(0, &[DAEMON_DOWN])).unwrap();
        let text = std::fs::read_to_string(dir.path().join(DOWN_FILE)).unwrap();
        assert!(text.contains("is DOWN"), "{text}");
        mark(dir.path(), &report(5, &[DAEMON_OK])).unwrap();
        assert!(!dir.path().join(DOWN_FILE).exists());
        mark(dir.path(), &report(10, &[DAEMON_OK])).unwrap();

        std::fs::write(dir.path().join(STATE_FILE), b"{not json").unwrap();
        assert!(load(dir.path()).unwrap_err().contains("damaged"));
    }
}
