//! Never run as root. Started as root outside systemd (a container entrypoint, `sudo tappass
//! serve`), the daemon becomes `[sandbox] uid` with no capabilities; under systemd's
//! `DynamicUser=` it is already unprivileged and the unit's seccomp filter forbids the calls
//! used here, so it checks and moves on.

use caps::CapSet;
use nix::unistd::{getresuid, setgroups, setresgid, setresuid, Gid, Group, Uid};

/// The fallback group: `nogroup` on Debian, `nobody` on Fedora.
pub const NOGROUP: u32 = 65534;

/// What happened to the process's privileges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Privileges {
    /// Started as root; now runs as `uid`/`gid` with no capabilities.
    Dropped { uid: u32, gid: u32 },
    /// Not root and holding no capability (e.g. systemd's `DynamicUser=`): nothing to do.
    AlreadyUnprivileged { uid: u32 },
    /// Not root but held capabilities, now cleared.
    CapabilitiesCleared { uid: u32 },
}

#[derive(Debug, thiserror::Error)]
pub enum PrivilegeError {
    #[error("cannot drop root privileges ({step}): {source}; refusing to run as root")]
    Drop {
        step: &'static str,
        source: std::io::Error,
    },
    #[error("still root after dropping privileges (uids {0:?}); refusing to run as root")]
    StillRoot(Vec<u32>),
    #[error("cannot clear capabilities held by uid {uid}: {message}")]
    Capabilities { uid: u32, message: String },
}

fn step(step: &'static str) -> impl FnOnce(nix::Error) -> PrivilegeError {
    move |e| PrivilegeError::Drop {
        step,
        source: e.into(),
    }
}

fn caps_step(step: &'static str) -> impl FnOnce(caps::errors::CapsError) -> PrivilegeError {
    move |e| PrivilegeError::Drop {
        step,
        source: std::io::Error::other(e.to_string()),
    }
}

/// Whether any of real, effective or saved uid is 0.
pub fn is_root() -> bool {
    getresuid().map_or(true, |r| {
        r.real.is_root() || r.effective.is_root() || r.saved.is_root()
    })
}

/// The group to run as: `tappass` when it exists (and is not root's), else 65534. Never a
/// group looked up by the uid's number: gid 999 is `systemd-journal` on Debian.
pub fn target_gid() -> u32 {
    match Group::from_name("tappass") {
        Ok(Some(g)) if g.gid.as_raw() != 0 => g.gid.as_raw(),
        _ => NOGROUP,
    }
}

/// Ensures the process is not privileged; see the module docs. Call before any thread starts.
pub fn ensure_unprivileged(uid: u32) -> Result<Privileges, PrivilegeError> {
    if is_root() {
        let gid = target_gid();
        drop_root(uid, gid)?;
        return Ok(Privileges::Dropped { uid, gid });
    }
    let me = Uid::current().as_raw();
    if !holds_capabilities() {
        return Ok(Privileges::AlreadyUnprivileged { uid: me });
    }
    for set in [
        CapSet::Ambient,
        CapSet::Inheritable,
        CapSet::Effective,
        CapSet::Permitted,
    ] {
        caps::clear(None, set).map_err(|e| PrivilegeError::Capabilities {
            uid: me,
            message: e.to_string(),
        })?;
    }
    Ok(Privileges::CapabilitiesCleared { uid: me })
}

/// Whether the process holds any effective, permitted or ambient capability. Read from
/// /proc/self/status rather than capget(2), which a unit's seccomp filter may refuse.
fn holds_capabilities() -> bool {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else {
        return true;
    };
    status
        .lines()
        .filter(|l| {
            l.starts_with("CapEff:") || l.starts_with("CapPrm:") || l.starts_with("CapAmb:")
        })
        .any(|l| {
            l.split_whitespace()
                .nth(1)
                .is_none_or(|v| !v.trim_start_matches('0').is_empty())
        })
}

/// Root → `uid`:`gid`, in the only order that works: the bounding set first (dropping it needs
/// CAP_SETPCAP, gone after setresuid), then supplementary groups, gid, uid, then the sets the
/// uid change leaves (inheritable; ambient is cleared by the kernel but we make sure).
fn drop_root(uid: u32, gid: u32) -> Result<(), PrivilegeError> {
    caps::clear(None, CapSet::Bounding).map_err(caps_step("clear the bounding set"))?;
    setgroups(&[]).map_err(step("setgroups"))?;
    let g = Gid::from_raw(gid);
    setresgid(g, g, g).map_err(step("setresgid"))?;
    let u = Uid::from_raw(uid);
    setresuid(u, u, u).map_err(step("setresuid"))?;
    for set in [
        CapSet::Ambient,
        CapSet::Inheritable,
        CapSet::Effective,
        CapSet::Permitted,
    ] {
        caps::clear(None, set).map_err(caps_step("clear capabilities"))?;
    }
    let r = getresuid().map_err(step("getresuid"))?;
    let uids = [r.real, r.effective, r.saved];
    if uids.iter().any(|u| u.is_root()) || nix::unistd::setuid(Uid::from_raw(0)).is_ok() {
        return Err(PrivilegeError::StillRoot(
            uids.iter().map(|u| u.as_raw()).collect(),
        ));
    }
    Ok(())
}
