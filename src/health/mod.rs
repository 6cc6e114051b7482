//! The health monitor behind `tappass health` (run every 5 minutes by `tappass-health.timer`):
//! the checks ([`checks`]), what a run remembers and when it alerts ([`state`]), the alert
//! itself ([`alert`]) and certificate expiry ([`cert`]).
//!
//! A run produces a [`Report`]: one [`Check`] per thing watched (the daemon, each unit, each
//! filesystem, each certificate, each URL …), each `ok`, `skipped`, `warn` or `fail`. Any `fail`
//! makes the host [`Health::Down`], any `warn` [`Health::Degraded`]. Alerts go out only when the
//! set of problems changes — never a repeat of the same state.

pub mod alert;
pub mod cert;
pub mod checks;
pub mod monitor;
pub mod state;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What one check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Nothing to check here (not configured, not under systemd, not created yet).
    Skipped,
    /// Degrades the host: needs attention, requests are still served.
    Warn,
    /// The host is down, or about to be (requests refused, the chain broken).
    Fail,
}

impl Status {
    pub fn is_problem(self) -> bool {
        matches!(self, Status::Warn | Status::Fail)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Skipped => "skipped",
            Status::Warn => "warn",
            Status::Fail => "FAIL",
        }
    }
}

/// The kinds of checks, in the order a report lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// The daemon's `/health/ready`.
    Daemon,
    /// `PRODUCTION UNSAFE` on the daemon's `/health` (production mode only).
    Production,
    /// A TapPass unit's state (the service, its socket, the timers).
    Unit,
    /// Usage of the filesystem holding the state or backup directory.
    Disk,
    /// The clock's NTP synchronization (`tappass doctor` only).
    Clock,
    /// Expiry of a certificate file named in `[health] certificates`.
    Certificate,
    /// The database, reached directly.
    Database,
    /// Redis, reached directly with the configured URL (its password included).
    Redis,
    /// An external URL of `[health] urls`.
    Url,
    /// The age of the newest backup.
    Backup,
    /// The audit chain, verified since the previous run.
    AuditChain,
}

impl CheckKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Daemon => "daemon",
            CheckKind::Production => "production",
            CheckKind::Unit => "unit",
            CheckKind::Disk => "disk",
            CheckKind::Clock => "clock",
            CheckKind::Certificate => "certificate",
            CheckKind::Database => "database",
            CheckKind::Redis => "redis",
            CheckKind::Url => "url",
            CheckKind::Backup => "backup",
            CheckKind::AuditChain => "audit_chain",
        }
    }
}

/// One finding: what was checked (`kind` and, where there are several, `subject`: a unit, a
/// directory, a file, a URL), the outcome, what was seen, and for a problem the command that
/// fixes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub kind: CheckKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub status: Status,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn new(kind: CheckKind, status: Status, detail: impl Into<String>) -> Check {
        Check {
            kind,
            subject: None,
            status,
            detail: detail.into(),
            fix: None,
        }
    }

    pub fn on(mut self, subject: impl Into<String>) -> Check {
        self.subject = Some(subject.into());
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }

    /// The name a state change is tracked under: `kind` or `kind subject`.
    pub fn key(&self) -> String {
        match &self.subject {
            Some(s) => format!("{} {s}", self.kind.as_str()),
            None => self.kind.as_str().to_owned(),
        }
    }
}

/// The host's overall health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    #[default]
    Healthy,
    Degraded,
    Down,
}

impl Health {
    /// The worst of the checks: any `fail` is down, any `warn` degraded.
    pub fn of<'a>(checks: impl IntoIterator<Item = &'a Check>) -> Health {
        checks
            .into_iter()
            .fold(Health::Healthy, |h, c| match (h, c.status) {
                (_, Status::Fail) | (Health::Down, _) => Health::Down,
                (_, Status::Warn) | (Health::Degraded, _) => Health::Degraded,
                _ => Health::Healthy,
            })
    }

    /// The exit status of `tappass health`: 0 healthy, 1 degraded, 2 down.
    pub fn exit_code(self) -> u8 {
        match self {
            Health::Healthy => 0,
            Health::Degraded => 1,
            Health::Down => 2,
        }
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Health::Healthy => "HEALTHY",
            Health::Degraded => "DEGRADED",
            Health::Down => "DOWN",
        })
    }
}

/// One run of the monitor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub health: Health,
    pub host: String,
    pub checked_at: DateTime<Utc>,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn new(host: String, checked_at: DateTime<Utc>, mut checks: Vec<Check>) -> Report {
        checks.sort_by(|a, b| (a.kind, &a.subject).cmp(&(b.kind, &b.subject)));
        Report {
            health: Health::of(&checks),
            host,
            checked_at,
            checks,
        }
    }

    pub fn problems(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status.is_problem())
    }

    /// The report for a person: one line per check, then the fixes of the problems.
    pub fn human(&self) -> String {
        let mut out = format!(
            "TapPass on {} is {} ({})\n",
            self.host,
            self.health,
            self.checked_at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        for c in &self.checks {
            out.push_str(&format!(
                "{:<5} {:<28} {}\n",
                c.status.as_str(),
                c.key(),
                c.detail
            ));
        }
        for c in self.problems().filter(|c| c.fix.is_some()) {
            out.push_str(&format!(
                "fix   {}: {}\n",
                c.key(),
                c.fix.as_deref().unwrap_or_default()
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(kind: CheckKind, status: Status) -> Check {
        Check::new(kind, status, "x")
    }

    #[test]
    fn health_is_the_worst_check() {
        assert_eq!(Health::of(&[]), Health::Healthy);
        assert_eq!(
            Health::of(&[
                c(CheckKind::Disk, Status::Ok),
                c(CheckKind::Url, Status::Skipped)
            ]),
            Health::Healthy
        );
        assert_eq!(
            Health::of(&[
                c(CheckKind::Disk, Status::Warn),
                c(CheckKind::Url, Status::Ok)
            ]),
            Health::Degraded
        );
        for order in [
            [Status::Warn, Status::Fail, Status::Ok],
            [Status::Fail, Status::Warn, Status::Ok],
            [Status::Ok, Status::Warn, Status::Fail],
        ] {
            let checks: Vec<Check> = order.iter().map(|s| c(CheckKind::Disk, *s)).collect();
            assert_eq!(Health::of(&checks), Health::Down, "{order:?}");
        }
        assert_eq!(Health::Healthy.exit_code(), 0);
        assert_eq!(Health::Degraded.exit_code(), 1);
        assert_eq!(Health::Down.exit_code(), 2);
    }

    #[test]
    fn keys_name_the_subject() {
        assert_eq!(c(CheckKind::AuditChain, Status::Ok).key(), "audit_chain");
        assert_eq!(
            c(CheckKind::Unit, Status::Ok).on("tappass.service").key(),
            "unit tappass.service"
        );
    }

    #[test]
    fn report_sorts_and_lists_fixes_of_problems_only() {
        let r = Report::new(
            "h".into(),
            DateTime::<Utc>::from_timestamp(0, 0).unwrap(),
            vec![
                c(CheckKind::Url, Status::Warn)
                    .on("http://x/")
                    .fix("look at x"),
                c(CheckKind::Daemon, Status::Ok).fix("never shown"),
            ],
        );
        assert_eq!(r.checks[0].kind, CheckKind::Daemon);
        assert_eq!(r.health, Health::Degraded);
        let text = r.human();
        assert!(text.contains("is DEGRADED"), "{text}");
        assert!(text.contains("fix   url http://x/: look at x"), "{text}");
        assert!(!text.contains("never shown"), "{text}");
    }
}
