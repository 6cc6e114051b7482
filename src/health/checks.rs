//! The monitor's checks. Each looks at one thing the way an operator would, says what it saw,
//! and for a problem gives the command that fixes it. None of them changes anything.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::ExposeSecret;

use super::{cert, Check, CheckKind, Status};
use crate::audit::chain::Head;
use crate::config::{Config, DatabaseKind};
use crate::limits::Limiter;
use crate::store::Store;

/// The URL the daemon answers on, from `server.listen` (a wildcard address means loopback).
pub fn base_url(listen: std::net::SocketAddr) -> String {
    let ip = match listen.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => "127.0.0.1".to_owned(),
        ip if ip.is_unspecified() => "[::1]".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{ip}:{}", listen.port())
}

/// `GET <base>/health/ready`: the status and the body (`{"status", "checks"}`).
pub async fn probe_ready(
    client: &reqwest::Client,
    base: &str,
) -> Result<(reqwest::StatusCode, serde_json::Value), reqwest::Error> {
    let resp = client.get(format!("{base}/health/ready")).send().await?;
    let status = resp.status();
    Ok((status, resp.json().await.unwrap_or_default()))
}

/// Why a request failed, in a few words (reqwest's own text repeats the URL).
fn why(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {} s", timeout.as_secs())
    } else if e.is_connect() {
        "connection refused or unreachable".to_owned()
    } else if e.is_redirect() {
        "too many redirects".to_owned()
    } else {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(e);
        while let Some(inner) = src {
            s = format!("{s}: {inner}");
            src = inner.source();
        }
        s
    }
}

/// The daemon's own view: `/health/ready` (database, Redis, policy engine).
pub async fn daemon(client: &reqwest::Client, base: &str, timeout: Duration) -> Check {
    let logs = "journalctl -u tappass -n 50 --no-pager";
    match probe_ready(client, base).await {
        Ok((status, body)) => {
            let checks = body["checks"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| format!("{k} {}", v.as_str().unwrap_or("?")))
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            if status.is_success() {
                Check::new(
                    CheckKind::Daemon,
                    Status::Ok,
                    format!("ready at {base}: {checks}"),
                )
            } else {
                Check::new(
                    CheckKind::Daemon,
                    Status::Fail,
                    format!("NOT ready at {base} (HTTP {}): {checks}", status.as_u16()),
                )
                .fix(format!(
                    "see what it lacks above; {logs}; sudo tappass doctor"
                ))
            }
        }
        Err(e) => Check::new(
            CheckKind::Daemon,
            Status::Fail,
            format!("not answering at {base}: {}", why(&e, timeout)),
        )
        .fix(format!("sudo systemctl start tappass; {logs}")),
    }
}

/// In production mode, whether the daemon says it is `PRODUCTION UNSAFE` (`/health`; the
/// reasons need an admin key, so the fix is the doctor). `None` in development or when the
/// daemon does not answer (the daemon check says so).
pub async fn production(client: &reqwest::Client, base: &str) -> Option<Check> {
    let body: serde_json::Value = client
        .get(format!("{base}/health"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    if body["environment"] != "production" {
        return None;
    }
    Some(if body["production_unsafe"] == true {
        Check::new(
            CheckKind::Production,
            Status::Warn,
            "PRODUCTION UNSAFE: the daemon runs in production with a secret outside systemd \
             credentials, a weak admin key, the mock provider or a partial sandbox",
        )
        .fix("sudo tappass doctor names each reason and its fix; then sudo systemctl restart tappass")
    } else {
        Check::new(
            CheckKind::Production,
            Status::Ok,
            "production, nothing unsafe",
        )
    })
}

/// A unit's state as `systemctl show` prints it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UnitState {
    pub id: String,
    pub load: String,
    pub active: String,
    pub sub: String,
}

/// Parses `systemctl show -p Id,LoadState,ActiveState,SubState U…`: one block per unit,
/// separated by blank lines.
pub fn parse_show(text: &str) -> Vec<UnitState> {
    let mut out = Vec::new();
    let mut cur = UnitState::default();
    for line in text.lines().chain(std::iter::once("")) {
        match line.split_once('=') {
            Some(("Id", v)) => cur.id = v.to_owned(),
            Some(("LoadState", v)) => cur.load = v.to_owned(),
            Some(("ActiveState", v)) => cur.active = v.to_owned(),
            Some(("SubState", v)) => cur.sub = v.to_owned(),
            _ if line.trim().is_empty() && !cur.id.is_empty() => {
                out.push(std::mem::take(&mut cur));
            }
            _ => {}
        }
    }
    out
}

/// The units watched, and how bad it is when one is not active.
pub const SERVICE: &str = "tappass.service";
const SOCKET: &str = "tappass.socket";
const TIMERS: [&str; 2] = ["tappass-backup.timer", "tappass-health.timer"];

/// Judges the units' states (pure): the service must run — or wait on its socket — and the
/// timers must be active.
pub fn judge_units(states: &[UnitState]) -> Vec<Check> {
    let get = |id: &str| states.iter().find(|s| s.id == id);
    let socket_active = get(SOCKET).is_some_and(|s| s.active == "active");
    let mut out = Vec::new();
    for id in std::iter::once(SERVICE).chain(TIMERS) {
        let check = |status, detail: String| Check::new(CheckKind::Unit, status, detail).on(id);
        let Some(s) = get(id) else {
            out.push(check(Status::Warn, "systemd did not report it".into()));
            continue;
        };
        let state = format!("{} ({})", s.active, s.sub);
        out.push(match (id == SERVICE, s.load.as_str(), s.active.as_str()) {
            (_, "not-found", _) => check(Status::Skipped, "not installed".into()),
            (_, _, "active" | "reloading") => check(Status::Ok, state),
            (true, _, "inactive") if socket_active => check(
                Status::Ok,
                "inactive, started by tappass.socket on the first connection".into(),
            ),
            (true, _, "activating" | "deactivating") => check(Status::Warn, state)
                .fix("wait a minute; if it stays so: journalctl -u tappass -n 50 --no-pager"),
            (true, _, _) => check(Status::Fail, state)
                .fix("journalctl -u tappass -n 50 --no-pager, then sudo systemctl start tappass"),
            (false, _, _) => {
                check(Status::Warn, state).fix(format!("sudo systemctl enable --now {id}"))
            }
        });
    }
    out
}

/// The TapPass units: from `systemctl show`, or from a file holding its output (`units_from`:
/// the timer's unit writes it in a privileged `ExecStartPre=+`, because the system bus refuses
/// `DynamicUser=` callers). Skipped when not booted with systemd.
pub fn units(units_from: Option<&Path>) -> Vec<Check> {
    if let Some(file) = units_from {
        return match std::fs::read_to_string(file) {
            Ok(text) => judge_units(&parse_show(&text)),
            Err(e) => vec![Check::new(
                CheckKind::Unit,
                Status::Warn,
                format!("cannot read the units' states from {}: {e}", file.display()),
            )
            .fix("systemctl cat tappass-health.service (its ExecStartPre= writes that file)")],
        };
    }
    if !Path::new("/run/systemd/system").is_dir() {
        return vec![Check::new(
            CheckKind::Unit,
            Status::Skipped,
            "not booted with systemd",
        )];
    }
    let mut cmd = Command::new("systemctl");
    cmd.args(["show", "--property=Id,LoadState,ActiveState,SubState", "--"]);
    cmd.arg(SERVICE).arg(SOCKET).args(TIMERS);
    match cmd.output() {
        Ok(out) if out.status.success() => {
            judge_units(&parse_show(&String::from_utf8_lossy(&out.stdout)))
        }
        Ok(out) => vec![Check::new(
            CheckKind::Unit,
            Status::Warn,
            format!(
                "systemctl show failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        )
        .fix("systemctl status tappass tappass-backup.timer tappass-health.timer")],
        Err(e) => vec![Check::new(
            CheckKind::Unit,
            Status::Warn,
            format!("cannot run systemctl: {e}"),
        )],
    }
}

/// Judges `timedatectl show -p NTPSynchronized --value` (pure): signed checkpoints, backup
/// ages, certificate expiry and the audit trail's timestamps all trust this clock.
pub fn judge_clock(ntp_synchronized: &str) -> Check {
    match ntp_synchronized.trim() {
        "yes" => Check::new(CheckKind::Clock, Status::Ok, "synchronized (NTP)"),
        "no" => Check::new(
            CheckKind::Clock,
            Status::Warn,
            "NOT synchronized: the audit trail's timestamps and every age and expiry trust it",
        )
        .fix("sudo systemctl enable --now systemd-timesyncd (or chrony); timedatectl status"),
        other => Check::new(
            CheckKind::Clock,
            Status::Skipped,
            format!("unknown ({other:?} from timedatectl)"),
        ),
    }
}

/// The clock's synchronization, from `timedatectl` (`tappass doctor`; it needs systemd's bus,
/// which the monitor's sandboxed unit cannot reach). Skipped when not booted with systemd.
pub fn clock() -> Check {
    if !Path::new("/run/systemd/system").is_dir() {
        return Check::new(CheckKind::Clock, Status::Skipped, "not booted with systemd");
    }
    match Command::new("timedatectl")
        .args(["show", "--property=NTPSynchronized", "--value"])
        .output()
    {
        Ok(out) if out.status.success() => judge_clock(&String::from_utf8_lossy(&out.stdout)),
        Ok(out) => Check::new(
            CheckKind::Clock,
            Status::Skipped,
            format!(
                "timedatectl failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        ),
        Err(e) => Check::new(
            CheckKind::Clock,
            Status::Skipped,
            format!("cannot run timedatectl: {e}"),
        ),
    }
}

/// The nearest existing directory at or above `p` (a backup directory not made yet is on its
/// parent's filesystem).
fn existing(p: &Path) -> Option<PathBuf> {
    p.ancestors().find(|a| a.is_dir()).map(Path::to_path_buf)
}

/// Used share of a filesystem as `df` counts it: blocks in use over the blocks a user may have.
pub fn used_percent(blocks: u64, free: u64, avail: u64) -> f64 {
    let used = blocks.saturating_sub(free);
    let usable = used + avail;
    if usable == 0 {
        0.0
    } else {
        used as f64 * 100.0 / usable as f64
    }
}

/// Usage of the filesystems of the state and backup directories, against `disk_percent`.
pub fn disk(config: &Config) -> Vec<Check> {
    let limit = f64::from(config.health.disk_percent);
    let mut seen: Vec<u64> = Vec::new();
    let mut out = Vec::new();
    for (what, dir) in [
        ("state", config.state_dir()),
        ("backups", config.backup_dir()),
    ] {
        let Some(at) = existing(&dir) else { continue };
        let subject = dir.display().to_string();
        match nix::sys::statvfs::statvfs(&at) {
            Ok(s) => {
                if seen.contains(&s.filesystem_id()) {
                    continue;
                }
                seen.push(s.filesystem_id());
                let frag = s.fragment_size();
                let pct = used_percent(s.blocks(), s.blocks_free(), s.blocks_available());
                let avail = s.blocks_available() * frag / (1024 * 1024);
                let detail = format!("{pct:.1} % used, {avail} MiB free ({what})");
                out.push(if pct > limit {
                    Check::new(
                        CheckKind::Disk,
                        Status::Warn,
                        format!("{detail}: above health.disk_percent = {limit}"),
                    )
                    .on(subject)
                    .fix(format!(
                        "free space on the filesystem of {}: `du -sh {}/*`, old backups \
                         (`sudo tappass backup list`, backup.retention_days), \
                         `journalctl --vacuum-size=500M`",
                        at.display(),
                        at.display()
                    ))
                } else {
                    Check::new(CheckKind::Disk, Status::Ok, detail).on(subject)
                });
            }
            Err(e) => out.push(
                Check::new(
                    CheckKind::Disk,
                    Status::Warn,
                    format!("cannot read filesystem usage: {e}"),
                )
                .on(subject),
            ),
        }
    }
    out
}

/// Expiry of every file in `[health] certificates`.
pub fn certificates(config: &Config, now: DateTime<Utc>) -> Vec<Check> {
    let days = config.health.certificate_days;
    config
        .health
        .certificates
        .iter()
        .map(|path| {
            let subject = path.display().to_string();
            let parsed = std::fs::read(path)
                .map_err(|e| format!("cannot read: {e}"))
                .and_then(|b| cert::parse_pem(&b));
            match parsed {
                Ok(certs) => {
                    let (status, detail) = cert::status(&certs, now, days);
                    let c = Check::new(CheckKind::Certificate, status, detail).on(&subject);
                    if status.is_problem() {
                        c.fix(format!(
                            "renew the certificate and replace {subject}, then reload what uses it"
                        ))
                    } else {
                        c
                    }
                }
                Err(e) => Check::new(CheckKind::Certificate, Status::Warn, e)
                    .on(&subject)
                    .fix(
                        "check the path in health.certificates; the monitor runs as the daemon's \
                         user, which must be able to read it",
                    ),
            }
        })
        .collect()
}

/// Each URL of `[health] urls` must answer below 400 (redirects followed).
pub async fn urls(config: &Config, client: &reqwest::Client, timeout: Duration) -> Vec<Check> {
    let mut out = Vec::new();
    for url in &config.health.urls {
        // The query may carry a token: the alert names the URL without it.
        let subject = url.split(['?', '#']).next().unwrap_or(url).to_owned();
        let fix = format!("curl -sSI {subject} — is it down, or is this host's network?");
        out.push(match client.get(url).send().await {
            Ok(r) if r.status().as_u16() < 400 => Check::new(
                CheckKind::Url,
                Status::Ok,
                format!("HTTP {}", r.status().as_u16()),
            )
            .on(subject),
            Ok(r) => Check::new(
                CheckKind::Url,
                Status::Warn,
                format!("HTTP {}", r.status().as_u16()),
            )
            .on(subject)
            .fix(fix),
            Err(e) => Check::new(CheckKind::Url, Status::Warn, why(&e, timeout))
                .on(subject)
                .fix(fix),
        });
    }
    out
}

/// Redis, when configured (credential `redis-url` or `[redis] url`): connected and
/// authenticated with the same URL the daemon uses, then `PING`. A wrong password is named as
/// such. With `redis.fail_open` the daemon serves without limits, so it is a warning.
pub async fn redis(config: &Config, timeout: Duration) -> Option<Check> {
    let r = &config.governance.redis;
    let (url, _) = crate::secrets::redis_url(r.url.as_deref())?;
    let url = url.expose_secret();
    let subject = crate::limits::redact_redis_url(url);
    let result = match crate::limits::RedisLimiter::connect_lazy(url, &r.key_prefix, timeout) {
        Ok(l) => match tokio::time::timeout(timeout, l.probe()).await {
            Ok(r) => r.map_err(|e| (crate::limits::is_auth_failure(&e), e.to_string())),
            Err(_) => Err((false, format!("no answer within {} s", timeout.as_secs()))),
        },
        Err(e) => Err((false, e.to_string())),
    };
    let bad = if r.fail_open {
        Status::Warn
    } else {
        Status::Fail
    };
    Some(match result {
        Ok(()) => Check::new(CheckKind::Redis, Status::Ok, "PONG").on(subject),
        Err((true, e)) => Check::new(
            CheckKind::Redis,
            bad,
            format!("authentication failed (wrong or missing password): {e}"),
        )
        .on(subject)
        .fix(
            "put the right password in the credential redis-url (see \
                 /usr/share/doc/tappass/examples/credentials.conf.example), compare with \
                 Redis's requirepass / ACL, then sudo systemctl restart tappass",
        ),
        Err((false, e)) => Check::new(CheckKind::Redis, bad, e).on(subject).fix(
            "systemctl status redis-server; redis-cli -u URL ping (the URL of the credential \
             redis-url or redis.url)",
        ),
    })
}

/// The database reached directly, then the audit chain verified since `anchor` (the last link
/// a previous run verified). Returns the checks and the new anchor.
pub async fn database_and_chain(
    config: &Config,
    anchor: Option<&Head>,
) -> (Vec<Check>, Option<Head>) {
    let subject = config.database_url_redacted();
    if let DatabaseKind::Sqlite(file) = config.database_kind() {
        if !file.exists() {
            return (
                vec![Check::new(
                    CheckKind::Database,
                    Status::Skipped,
                    "SQLite file not created yet (the daemon creates it on its first start)",
                )
                .on(subject)],
                anchor.cloned(),
            );
        }
    }
    let timeout = config.database.connect_timeout();
    let opened = crate::store::StoreOptions::for_config(config)
        .map_err(|e| e.to_string())
        .and_then(|o| {
            let store = Store::connect_lazy(&o).map_err(|e| e.to_string())?;
            Ok((o, store))
        });
    let (opts, store) = match opened {
        Ok(s) => s,
        Err(e) => {
            return (
                vec![Check::new(CheckKind::Database, Status::Fail, e).on(subject)],
                anchor.cloned(),
            )
        }
    };
    let pinged = match tokio::time::timeout(timeout, Store::probe(&opts)).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs())),
    };
    let mut out = Vec::new();
    let mut next = anchor.cloned();
    match pinged {
        Err(e) => out.push(
            Check::new(CheckKind::Database, Status::Fail, e)
                .on(&subject)
                .fix(match config.database_kind() {
                    DatabaseKind::Postgres(_) => {
                        "systemctl status postgresql; journalctl -u postgresql -n 50 --no-pager; \
                         check database.url (sudo tappass doctor)"
                    }
                    DatabaseKind::Sqlite(_) => {
                        "sudo tappass doctor (the state directory and its permissions)"
                    }
                }),
        ),
        Ok(()) => {
            out.push(Check::new(CheckKind::Database, Status::Ok, "reachable").on(&subject));
            let verified = tokio::time::timeout(
                Duration::from_secs(600),
                crate::audit::verify::verify_store_since(&store, anchor),
            )
            .await;
            out.push(match verified {
                Ok(Ok(r)) if r.verified => {
                    next = r.head_hash.clone().map(|hash| Head {
                        seq: r.head_seq.unwrap_or(0),
                        hash,
                    });
                    Check::new(
                        CheckKind::AuditChain,
                        Status::Ok,
                        format!(
                            "intact: {} new events verified{}",
                            r.events_checked,
                            r.head_seq
                                .map(|s| format!(", head seq {s}"))
                                .unwrap_or_default()
                        ),
                    )
                }
                Ok(Ok(r)) => Check::new(
                    CheckKind::AuditChain,
                    Status::Fail,
                    format!(
                        "BROKEN at seq {}: {}",
                        r.first_broken_seq.unwrap_or(0),
                        r.reason.as_deref().unwrap_or("unknown")
                    ),
                )
                .fix(
                    "sudo tappass audit verify (the whole chain, with the signed checkpoints); \
                     restore the newest good backup with sudo tappass restore --stop-service FILE",
                ),
                Ok(Err(e)) => Check::new(
                    CheckKind::AuditChain,
                    Status::Warn,
                    format!("cannot read the chain: {e}"),
                ),
                Err(_) => Check::new(
                    CheckKind::AuditChain,
                    Status::Warn,
                    "verification did not finish within 600 s",
                ),
            });
        }
    }
    store.close().await;
    if let DatabaseKind::Sqlite(db) = config.database_kind() {
        // Run as root: the -wal/-shm files SQLite may have made stay the daemon's.
        let _ = crate::backup::adopt_sqlite(&db, &config.state_dir());
    }
    (out, next)
}

/// A backup older than this many hours is stale (the timer runs daily).
pub fn backup(config: &Config, now: DateTime<Utc>) -> Check {
    let dir = config.backup_dir();
    let max = i64::from(config.health.backup_max_age_hours);
    let c = |status, detail: String| Check::new(CheckKind::Backup, status, detail);
    let found = match crate::backup::manifest::list(&dir) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return c(Status::Warn, format!("cannot read {}: {e}", dir.display()))
                .fix("run as root or as the daemon's user: sudo tappass health")
        }
    };
    match crate::backup::manifest::newest(&found) {
        None => c(Status::Warn, format!("no backup in {}", dir.display())).fix(
            "sudo tappass backup, and sudo systemctl enable --now tappass-backup.timer \
             for a daily one",
        ),
        Some(f) if now - f.taken_at > chrono::Duration::hours(max) => c(
            Status::Warn,
            format!(
                "the newest, {}, is {} hours old (more than health.backup_max_age_hours = {max})",
                f.data.display(),
                (now - f.taken_at).num_hours()
            ),
        )
        .fix(
            "systemctl status tappass-backup.timer tappass-backup.service; \
             journalctl -u tappass-backup -n 50 --no-pager; then sudo tappass backup",
        ),
        Some(f) => c(
            Status::Ok,
            format!(
                "newest {} ({} hours old)",
                f.data.display(),
                (now - f.taken_at).num_hours()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_systemctl_show() {
        let text = "Id=tappass.service\nLoadState=loaded\nActiveState=active\nSubState=running\n\n\
                    Id=tappass.socket\nLoadState=loaded\nActiveState=inactive\nSubState=dead\n\n\
                    Id=tappass-backup.timer\nLoadState=not-found\nActiveState=inactive\nSubState=dead\n";
        let s = parse_show(text);
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].id, "tappass.service");
        assert_eq!(
            (s[0].active.as_str(), s[0].sub.as_str()),
            ("active", "running")
        );
        assert_eq!(s[2].load, "not-found");
    }

    fn unit(id: &str, active: &str) -> UnitState {
        UnitState {
            id: id.into(),
            load: "loaded".into(),
            active: active.into(),
            sub: "x".into(),
        }
    }

    fn statuses(states: &[UnitState]) -> Vec<(String, Status)> {
        judge_units(states)
            .into_iter()
            .map(|c| (c.subject.unwrap(), c.status))
            .collect()
    }

    #[test]
    fn a_stopped_service_is_a_failure_and_a_stopped_timer_a_warning() {
        let all_ok = [
            unit(SERVICE, "active"),
            unit(SOCKET, "inactive"),
            unit(TIMERS[0], "active"),
            unit(TIMERS[1], "active"),
        ];
        assert!(statuses(&all_ok).iter().all(|(_, s)| *s == Status::Ok));
        let mut stopped = all_ok.clone();
        stopped[0].active = "inactive".into();
        stopped[2].active = "inactive".into();
        let got = statuses(&stopped);
        assert_eq!(got[0], (SERVICE.to_owned(), Status::Fail));
        assert_eq!(got[1], (TIMERS[0].to_owned(), Status::Warn));
        stopped[0].active = "failed".into();
        assert_eq!(statuses(&stopped)[0].1, Status::Fail);
    }

    #[test]
    fn an_idle_socket_activated_service_is_fine() {
        let states = [
            unit(SERVICE, "inactive"),
            unit(SOCKET, "active"),
            unit(TIMERS[0], "active"),
            unit(TIMERS[1], "active"),
        ];
        assert_eq!(statuses(&states)[0].1, Status::Ok);
    }

    #[test]
    fn missing_units_are_skipped_or_warned() {
        let mut gone = unit(TIMERS[0], "inactive");
        gone.load = "not-found".into();
        let got = statuses(&[unit(SERVICE, "active"), gone]);
        assert_eq!(got[1].1, Status::Skipped);
        assert_eq!(got[2].1, Status::Warn, "not reported at all");
    }

    #[test]
    fn an_unsynchronized_clock_is_a_warning() {
        assert_eq!(judge_clock("yes\n").status, Status::Ok);
        let c = judge_clock("no\n");
        assert_eq!(c.status, Status::Warn);
        assert!(c.fix.unwrap().contains("timesyncd"));
        assert_eq!(judge_clock("").status, Status::Skipped);
    }

    #[test]
    fn disk_usage_counts_like_df() {
        assert_eq!(used_percent(100, 100, 95), 0.0);
        // 100 blocks, 10 free of which 5 reserved for root: 90 used of 95 usable.
        assert!((used_percent(100, 10, 5) - 94.736).abs() < 0.01);
        assert_eq!(used_percent(0, 0, 0), 0.0);
        assert_eq!(used_percent(100, 0, 0), 100.0);
    }

    #[test]
    fn base_url_maps_wildcards_to_loopback() {
        assert_eq!(
            base_url("0.0.0.0:9620".parse().unwrap()),
            "http://127.0.0.1:9620"
        );
        assert_eq!(base_url("[::]:1".parse().unwrap()), "http://[::1]:1");
        assert_eq!(base_url("[::1]:2".parse().unwrap()), "http://[::1]:2");
        assert_eq!(base_url("10.0.0.1:3".parse().unwrap()), "http://10.0.0.1:3");
    }
}
