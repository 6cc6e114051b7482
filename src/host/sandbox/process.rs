//! Process-wide hardening that needs no privilege and always applies: no core dumps (a dump of
//! a gateway holds provider keys and prompts), not dumpable (no ptrace attach, /proc/self owned
//! by root), and no_new_privs (no setuid gains; required by landlock).

use nix::sys::prctl;
use nix::sys::resource::{setrlimit, Resource};

/// RLIMIT_CORE=0, PR_SET_DUMPABLE=0, PR_SET_NO_NEW_PRIVS=1.
pub fn harden() -> nix::Result<()> {
    setrlimit(Resource::RLIMIT_CORE, 0, 0)?;
    set_not_dumpable()?;
    prctl::set_no_new_privs()
}

/// PR_SET_DUMPABLE=0. Call again after a uid change: the kernel resets it then.
pub fn set_not_dumpable() -> nix::Result<()> {
    prctl::set_dumpable(false)
}

/// Whether the process is dumpable (for reports and tests).
pub fn is_dumpable() -> bool {
    prctl::get_dumpable().unwrap_or(true)
}
