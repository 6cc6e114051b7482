//! `tappass doctor`: what an operator checks first — the configuration, the state directory,
//! everything the health monitor watches (units, disk, certificates, the database with its own
//! error, Redis, URLs, backups, the whole audit chain; each problem with its fix), the clock,
//! the policy, what confinement this kernel allows, and what the running daemon reports about
//! itself (its sandbox and PRODUCTION UNSAFE need an admin key: the `admin-api-key`
//! credential, `TAPPASS_ADMIN_API_KEY`, or a readable `<state_dir>/admin.key`). Exit 1 when a
//! check fails.

use std::process::ExitCode;
use std::time::Duration;

use secrecy::ExposeSecret;

use super::ConfigArgs;
use crate::health::{checks, Status};
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
    /// One of the health monitor's checks, with its fix when it found a problem.
    fn health(&mut self, c: &crate::health::Check) {
        let what = c.key();
        let what = what.as_str();
        let detail = match &c.fix {
            Some(fix) if c.status.is_problem() => format!("{}: {fix}", c.detail),
            _ => c.detail.clone(),
        };
        match c.status {
            Status::Ok | Status::Skipped => self.ok(what, detail),
            Status::Warn => self.warn(what, detail),
            Status::Fail => self.fail(what, detail),
        }
    }
}

/// The policy: none loaded, one that does not compile, or one that denies a plain request
/// (so every request), each with its fix. An OPA server is judged by the daemon's readiness.
fn policy(c: &mut Checks, config: &crate::config::Config, rt: &tokio::runtime::Runtime) {
    let p = &config.governance.policy;
    let fix = format!(
        "edit the .rego files in {}, check with `tappass config check /etc/tappass/tappass.toml`, \
         then `systemctl reload tappass`",
        p.dir.display()
    );
    if !p.enabled {
        return c.warn(
            "policy",
            "none: [policy] enabled = false, no request is judged by a policy: set it to true \
             and reload",
        );
    }
    if let Some(url) = &p.opa_url {
        return c.ok(
            "policy",
            format!("OPA at {url} (its readiness: the daemon line)"),
        );
    }
    let gov = match crate::governance::Governance::load(&config.governance) {
        Ok(g) => std::sync::Arc::new(g),
        Err(e) => return c.fail("policy", format!("does not load: {e}: {fix}")),
    };
    match rt.block_on(crate::pipeline::steps::probe_policy(gov, "gpt-4o-mini")) {
        Some(Ok(d)) if d.allow => c.ok("policy", "loaded; a plain request is allowed"),
        Some(Ok(d)) => c.fail(
            "policy",
            format!(
                "denies a plain request (rule {}: {}), so every request: {fix}",
                d.rule.as_deref().unwrap_or("?"),
                d.reason.as_deref().unwrap_or("no reason given")
            ),
        ),
        Some(Err(e)) => c.fail(
            "policy",
            format!("cannot decide a plain request: {e}: {fix}"),
        ),
        None => c.warn("policy", "none loaded"),
    }
}

/// `PRODUCTION UNSAFE`, as the daemon assessed itself: each reason with its fix (the reasons
/// need an admin key; without one, only that there are some).
fn production(c: &mut Checks, health: &serde_json::Value) {
    if health["environment"] != "production" {
        return c.ok(
            "environment",
            format!(
                "{} (PRODUCTION UNSAFE is only assessed with [server] environment = \"production\")",
                health["environment"].as_str().unwrap_or("?")
            ),
        );
    }
    match health["details"]["production_unsafe"].as_array() {
        Some(reasons) if reasons.is_empty() => c.ok("environment", "production, nothing unsafe"),
        Some(reasons) => {
            for r in reasons {
                c.fail(
                    "production",
                    format!(
                        "PRODUCTION UNSAFE: {}: {}",
                        r["detail"].as_str().unwrap_or("?"),
                        r["fix"].as_str().unwrap_or("?")
                    ),
                );
            }
        }
        None if health["production_unsafe"] == true => c.fail(
            "production",
            "PRODUCTION UNSAFE (the reasons need an admin key: credential admin-api-key, \
             TAPPASS_ADMIN_API_KEY or a readable <state_dir>/admin.key)",
        ),
        None => c.ok("environment", "production, nothing unsafe"),
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

    // What the health monitor watches (tappass health), each with its fix; the whole audit
    // chain is verified.
    let rt = super::runtime();
    let now = chrono::Utc::now();
    let timeout = Duration::from_secs(config.health.timeout_secs);
    let mut found = checks::units(None);
    found.extend(checks::disk(&config));
    found.push(checks::clock());
    found.extend(checks::certificates(&config, now));
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("a reqwest client with a timeout builds");
    rt.block_on(async {
        found.extend(checks::database_and_chain(&config, None).await.0);
        found.extend(checks::redis(&config, timeout).await);
        found.extend(checks::urls(&config, &client, timeout).await);
    });
    found.push(checks::backup(&config, now));
    for check in &found {
        c.health(check);
    }
    policy(&mut c, &config, &rt);
    // The last `tappass upgrade` (its record is root's: read when the doctor runs as root).
    if let Ok(Some(r)) = crate::upgrade::load_record(std::path::Path::new(crate::upgrade::DIR)) {
        let (status, detail) = crate::upgrade::judge(&r);
        match status {
            Status::Fail => c.fail("upgrade", detail),
            _ => c.ok("upgrade", detail),
        }
    }

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

    let base = checks::base_url(config.server.listen);
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
        let (ready_status, ready) = checks::probe_ready(&client, &base).await?;
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
            production(&mut c, &health);
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
