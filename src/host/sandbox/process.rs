//! Process-wide hardening that needs no privilege and always applies: no core dumps (a dump of
//! a gateway holds provider keys and prompts), not dumpable (no ptrace attach, /proc/self owned
//! by root), no_new_privs (no setuid gains; required by landlock), and umask 0077 (the database
//! and the admin key file are nobody else's business, with or without systemd's `UMask=`).

use nix::sys::prctl;
use nix::sys::resource::{setrlimit, Resource};
use nix::sys::stat::{umask, Mode};

/// RLIMIT_CORE=0, PR_SET_DUMPABLE=0, PR_SET_NO_NEW_PRIVS=1, umask 0077.
pub fn harden() -> nix::Result<()> {
    setrlimit(Resource::RLIMIT_CORE, 0, 0)?;
    umask(Mode::from_bits_truncate(0o077));
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
