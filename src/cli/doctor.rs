//! `tappass doctor`: what an operator checks first — the configuration, the state directory, the
//! database, what confinement this kernel allows, and what the running daemon reports about
//! itself (its sandbox outcome needs an admin key: the `admin-api-key` credential,
//! `TAPPASS_ADMIN_API_KEY`, or a readable `<state_dir>/admin.key`). Exit 1 when a check fails.

use std::process::ExitCode;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::ConfigArgs;
use crate::host::sandbox::landlock::kernel_abi;

struct Checks {
    failed: usize,
}

impl Checks {
    fn ok(&self, what: &str, detail: impl std::fmt::Display) {
        println!("ok    {what:<14} {detail}");
    }
    fn warn(&self, what: &str, detail: impl std::fmt::Display) {
        println!("warn  {what:<14} {detail}");
    }
    fn fail(&mut self, what: &str, detail: impl std::fmt::Display) {
        self.failed += 1;
        println!("FAIL  {what:<14} {detail}");
    }
}

/// A backup older than this is stale (the timer runs daily).
const STALE_BACKUP_HOURS: i64 = 48;

/// The newest complete backup: none, or older than two days, is a warning with the fix.
fn backups(c: &mut Checks, dir: &std::path::Path, now: chrono::DateTime<chrono::Utc>) {
    let found = match crate::backup::manifest::list(dir) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => {
            return c.warn(
                "backups",
                format!(
                    "cannot read {}: {e} (run as root: sudo tappass doctor)",
                    dir.display()
                ),
            )
        }
    };
    match crate::backup::manifest::newest(&found) {
        None => c.warn(
            "backups",
            format!(
                "none in {}: take one now with `sudo tappass backup`, and let \
                 `systemctl enable --now tappass-backup.timer` take one daily",
                dir.display()
            ),
        ),
        Some(f) if now - f.taken_at > chrono::Duration::hours(STALE_BACKUP_HOURS) => c.warn(
            "backups",
            format!(
                "the newest, {}, is {} hours old: check `systemctl status tappass-backup.timer \
                 tappass-backup.service` and `journalctl -u tappass-backup`, then \
                 `sudo tappass backup`",
                f.data.display(),
                (now - f.taken_at).num_hours()
            ),
        ),
        Some(f) => c.ok(
            "backups",
            format!(
                "newest {} ({} hours old)",
                f.data.display(),
                (now - f.taken_at).num_hours()
            ),
        ),
    }
}

pub fn run(args: &ConfigArgs) -> ExitCode {
    let mut c = Checks { failed: 0 };
    let config = match args.load(None) {
        Ok(cfg) => {
            let from = cfg
                .source_file
                .as_ref()
                .map_or("built-in defaults".to_owned(), |p| p.display().to_string());
            c.ok("configuration", format!("valid ({from})"));
            cfg
        }
        Err(e) => {
            c.fail("configuration", e);
            return ExitCode::FAILURE;
        }
    };

    let state_dir = config.state_dir();
    match std::fs::metadata(&state_dir) {
        Ok(m) => {
            use std::os::unix::fs::{MetadataExt, PermissionsExt};
            let mode = m.permissions().mode() & 0o777;
            let line = format!("{} (uid {}, mode {mode:o})", state_dir.display(), m.uid());
            if mode & 0o077 != 0 {
                c.warn(
                    "state dir",
                    format!("{line}: readable by others, expected 0700"),
                );
            } else {
                c.ok("state dir", line);
            }
        }
        Err(e) => c.warn(
            "state dir",
            format!("{}: {e} (created on first start)", state_dir.display()),
        ),
    }

    let rt = super::runtime();
    match config.database_kind() {
        // Not opened: SQLite would create files owned by whoever runs the doctor.
        crate::config::DatabaseKind::Sqlite(file) => match std::fs::metadata(&file) {
            Ok(m) => c.ok(
                "database",
                format!("SQLite {} ({} bytes)", file.display(), m.len()),
            ),
            Err(e) => c.warn(
                "database",
                format!("SQLite {}: {e} (created on first start)", file.display()),
            ),
        },
        crate::config::DatabaseKind::Postgres(_) => {
            let reached: Result<(), String> = rt.block_on(async {
                let opts = super::serve::store_options(&config).map_err(|e| e.to_string())?;
                let store = crate::store::Store::connect_lazy(&opts).map_err(|e| e.to_string())?;
                let r = match tokio::time::timeout(Duration::from_secs(5), store.ping()).await {
                    Ok(r) => r.map_err(|e| e.to_string()),
                    Err(_) => Err("no answer within 5 s".to_owned()),
                };
                store.close().await;
                r
            });
            match reached {
                Ok(()) => c.ok("database", config.database_url_redacted()),
                Err(e) => c.fail(
                    "database",
                    format!("{}: {e}", config.database_url_redacted()),
                ),
            }
        }
    }

    backups(&mut c, &config.backup_dir(), chrono::Utc::now());

    match kernel_abi() {
        (abi, _) if abi >= 6 => c.ok(
            "landlock",
            format!("kernel ABI {abi}: filesystem and TCP rules can be fully enforced"),
        ),
        (abi, _) if abi >= 1 => c.warn(
            "landlock",
            format!("kernel ABI {abi}: only partial enforcement (full needs ABI 6, Linux 6.12+)"),
        ),
        (_, e) => c.warn(
            "landlock",
            format!(
                "unavailable ({}): the daemon runs without landlock",
                e.map_or("unknown".to_owned(), |e| e.to_string())
            ),
        ),
    }

    let base = super::health_cmd::base_url(config.server.listen);
    let admin_key = crate::secrets::admin_key()
        .map(|(k, _)| k.expose_secret().to_owned())
        .or_else(|| {
            std::fs::read_to_string(state_dir.join("admin.key"))
                .ok()
                .map(|s| s.trim().to_owned())
        });
    let daemon = rt.block_on(async {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        let (ready_status, ready) = super::health_cmd::probe_ready(&client, &base).await?;
        let mut req = client.get(format!("{base}/health"));
        if let Some(k) = &admin_key {
            req = req.bearer_auth(k);
        }
        let health: serde_json::Value = req.send().await?.json().await.unwrap_or_default();
        Ok::<_, reqwest::Error>((ready_status, ready, health))
    });
    match daemon {
        Ok((status, ready, health)) => {
            let checks = ready["checks"].to_string();
            if status.is_success() {
                c.ok("daemon", format!("ready at {base}: {checks}"));
            } else {
                c.fail(
                    "daemon",
                    format!("NOT ready at {base} (HTTP {status}): {checks}"),
                );
            }
            match health["details"]["sandbox"].as_object() {
                Some(s) => {
                    let enforcement = s["enforcement"].as_str().unwrap_or("?");
                    let line = format!(
                        "landlock {enforcement}; privileges {}; core dumps {}{}",
                        s["privileges"],
                        s["core_dumps"].as_str().unwrap_or("?"),
                        s["landlock"]["reason"]
                            .as_str()
                            .map_or(String::new(), |r| format!("; {r}"))
                    );
                    if enforcement == "full" {
                        c.ok("sandbox", line);
                    } else {
                        c.warn("sandbox", line);
                    }
                }
                None => c.warn(
                    "sandbox",
                    "the daemon's sandbox report needs an admin key (credential admin-api-key, \
                     TAPPASS_ADMIN_API_KEY or a readable <state_dir>/admin.key)",
                ),
            }
        }
        Err(e) => c.fail("daemon", format!("not answering at {base}: {e}")),
    }

    if c.failed == 0 {
        println!("all checks passed");
        ExitCode::SUCCESS
    } else {
        println!("{} check(s) failed", c.failed);
        ExitCode::FAILURE
    }
}
