//! Self-confinement, applied on the main thread before the runtime starts:
//! 1. [`process::harden`]: no core dumps, not dumpable, no_new_privs — always;
//! 2. [`privileges::ensure_unprivileged`]: root becomes `[sandbox] uid`;
//! 3. [`landlock::restrict`]: the kernel enforces [`plan::plan`].
//!
//! The outcome is a [`Report`]: logged at start, shown to admins on `/health`, printed by
//! `tappass doctor` and `tappass sandbox check`. `[sandbox] require = true` turns anything less
//! than full enforcement into a refusal to start.

pub mod landlock;
pub mod plan;
pub mod privileges;
pub mod probe;
pub mod process;

use std::path::Path;

use crate::config::Config;
use privileges::Privileges;

/// How much of the requested confinement the kernel enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Enforcement {
    Full,
    Partial,
    None,
}

impl Enforcement {
    pub fn as_str(self) -> &'static str {
        match self {
            Enforcement::Full => "fully enforced",
            Enforcement::Partial => "partially enforced",
            Enforcement::None => "NOT enforced",
        }
    }
}

/// What [`confine`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    /// The landlock outcome is the overall one: the other steps either succeed or stop the start.
    pub enforcement: Enforcement,
    pub landlock: landlock::LandlockOutcome,
    pub privileges: Privileges,
    pub core_dumps: &'static str,
    /// Started by systemd (`INVOCATION_ID` set), whose unit confines the process too.
    pub under_systemd: bool,
    pub bind_ports: Vec<u16>,
    pub connect_ports: Vec<u16>,
}

impl Report {
    /// One line for logs and `STATUS=`.
    pub fn summary(&self) -> String {
        let who = match self.privileges {
            Privileges::Dropped { uid, gid } => format!("dropped root to {uid}:{gid}"),
            Privileges::AlreadyUnprivileged { uid } => format!("uid {uid}"),
            Privileges::CapabilitiesCleared { uid } => format!("uid {uid}, capabilities cleared"),
        };
        format!("landlock {} ({who})", self.enforcement.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot disable core dumps: {0}")]
    Process(nix::Error),
    #[error(transparent)]
    Privileges(#[from] privileges::PrivilegeError),
    #[error("state directory {path}: {message}")]
    StateDir { path: String, message: String },
    #[error("landlock: {0}")]
    Landlock(#[from] ::landlock::RulesetError),
    #[error(
        "[sandbox] require = true, but landlock is {}: {}",
        .0.enforcement.as_str(),
        .0.reason.as_deref().unwrap_or("unknown reason")
    )]
    Required(landlock::LandlockOutcome),
}

/// Confines the calling process as described in the module docs. `state_dir` must be absolute;
/// it is created (mode 0700, owned by the uid the daemon will run as) when missing.
/// Must run before any other thread exists.
pub fn confine(config: &Config, state_dir: &Path) -> Result<Report, SandboxError> {
    process::harden().map_err(SandboxError::Process)?;
    let target = privileges::is_root().then(|| (config.sandbox.uid, privileges::target_gid()));
    prepare_state_dir(state_dir, target)?;
    let privileges = privileges::ensure_unprivileged(config.sandbox.uid)?;
    // A parent directory the new uid cannot search shows up here, not at the first write.
    nix::unistd::access(
        state_dir,
        nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK,
    )
    .map_err(|e| SandboxError::StateDir {
        path: state_dir.display().to_string(),
        message: format!(
            "not writable by uid {} ({e}); check the directory and its parents",
            nix::unistd::Uid::current()
        ),
    })?;
    // The kernel makes a process dumpable again on a uid change.
    process::set_not_dumpable().map_err(SandboxError::Process)?;

    let redis_url = crate::secrets::credential("redis-url")
        .map(|u| secrecy::ExposeSecret::expose_secret(&u).to_owned())
        .or_else(|| config.governance.redis.url.clone());
    let plan = plan::plan(
        config,
        state_dir,
        &plan::HostDirs::from_env(),
        redis_url.as_deref(),
    );
    let landlock = landlock::restrict(&plan)?;
    if config.sandbox.require && landlock.enforcement != Enforcement::Full {
        return Err(SandboxError::Required(landlock));
    }
    Ok(Report {
        enforcement: landlock.enforcement,
        landlock,
        privileges,
        core_dumps: "disabled",
        under_systemd: std::env::var_os("INVOCATION_ID").is_some(),
        bind_ports: plan.bind.into_iter().collect(),
        connect_ports: plan.connect.into_iter().collect(),
    })
}

/// Logs the report: info when fully enforced, a loud warning otherwise.
pub fn log(report: &Report) {
    match report.enforcement {
        Enforcement::Full => tracing::info!(
            bind_ports = ?report.bind_ports,
            connect_ports = ?report.connect_ports,
            "sandbox: {}",
            report.summary()
        ),
        _ => tracing::warn!(
            reason = report.landlock.reason.as_deref().unwrap_or("-"),
            "SANDBOX DEGRADED: {} — set [sandbox] require = true to refuse to start like this",
            report.summary()
        ),
    }
}

/// Creates the state directory (0700). As root, a directory we create is handed to the uid we
/// are about to become; an existing one that belongs to someone else is an error that says
/// what to run, rather than a permission failure later.
fn prepare_state_dir(dir: &Path, owner: Option<(u32, u32)>) -> Result<(), SandboxError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let err = |message: String| SandboxError::StateDir {
        path: dir.display().to_string(),
        message,
    };
    let existed = dir.exists();
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| err(format!("cannot create it: {e}")))?;
    let Some((uid, gid)) = owner else {
        return Ok(());
    };
    if !existed {
        nix::unistd::chown(
            dir,
            Some(nix::unistd::Uid::from_raw(uid)),
            Some(nix::unistd::Gid::from_raw(gid)),
        )
        .map_err(|e| err(format!("cannot hand it to uid {uid}: {e}")))?;
        return Ok(());
    }
    let meta = std::fs::metadata(dir).map_err(|e| err(e.to_string()))?;
    if meta.uid() != uid {
        return Err(err(format!(
            "belongs to uid {}, but the daemon runs as uid {uid} ([sandbox] uid); \
             run: chown -R {uid}:{gid} {}",
            meta.uid(),
            dir.display()
        )));
    }
    Ok(())
}
