//! Landlock: the kernel enforces [`Plan`] on this thread and every thread it later creates.
//!
//! Rights are requested at ABI 6 (filesystem incl. truncate and device ioctls, TCP bind and
//! connect). On an older kernel the crate's best-effort mode enforces what the kernel knows and
//! says so; we turn that into [`Enforcement`] and never hide it. Execution is granted nowhere:
//! the daemon never starts a program.

use landlock::{
    path_beneath_rules, Access, AccessFs, AccessNet, BitFlags, LandlockStatus, NetPort, Ruleset,
    RulesetAttr, RulesetCreatedAttr, RulesetStatus, ABI,
};

use super::plan::Plan;
use super::Enforcement;

/// The ABI whose rights we ask for.
const TARGET_ABI: ABI = ABI::V6;

/// What landlock did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LandlockOutcome {
    pub enforcement: Enforcement,
    /// The kernel's landlock ABI (0 when unavailable or refused).
    pub kernel_abi: i32,
    /// Why enforcement is less than full.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The kernel's landlock ABI version, 0 when landlock is missing, disabled, or the syscall is
/// refused (a seccomp filter without the landlock calls answers EPERM — systemd 252's
/// `@system-service` does not include them).
pub fn kernel_abi() -> (i32, Option<std::io::Error>) {
    const LANDLOCK_CREATE_RULESET_VERSION: nix::libc::c_long = 1;
    // SAFETY: landlock_create_ruleset(NULL, 0, VERSION) only returns an integer.
    let v = unsafe {
        nix::libc::syscall(
            nix::libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if v < 0 {
        (0, Some(std::io::Error::last_os_error()))
    } else {
        (v as i32, None)
    }
}

/// Applies `plan` to the calling thread (and its future children).
pub fn restrict(plan: &Plan) -> Result<LandlockOutcome, landlock::RulesetError> {
    let (kernel, probe_error) = kernel_abi();
    let read: BitFlags<AccessFs> = AccessFs::ReadFile | AccessFs::ReadDir;
    let write: BitFlags<AccessFs> = AccessFs::from_all(TARGET_ABI) & !AccessFs::Execute;
    let mut ruleset = Ruleset::default()
        .handle_access(AccessFs::from_all(TARGET_ABI))?
        .handle_access(AccessNet::from_all(TARGET_ABI))?
        .create()?
        .add_rules(path_beneath_rules(&plan.read, read))?
        .add_rules(path_beneath_rules(&plan.write, write))?;
    for port in &plan.bind {
        ruleset = ruleset.add_rule(NetPort::new(*port, AccessNet::BindTcp))?;
    }
    for port in &plan.connect {
        ruleset = ruleset.add_rule(NetPort::new(*port, AccessNet::ConnectTcp))?;
    }
    let status = ruleset.restrict_self()?;
    let enforcement = match status.ruleset {
        RulesetStatus::FullyEnforced => Enforcement::Full,
        RulesetStatus::PartiallyEnforced => Enforcement::Partial,
        RulesetStatus::NotEnforced => Enforcement::None,
    };
    let reason = match (enforcement, status.landlock, probe_error) {
        (Enforcement::Full, _, _) => None,
        (_, _, Some(e)) if e.raw_os_error() == Some(nix::libc::EPERM) => Some(
            "the landlock system calls are refused (EPERM): under systemd, add \
             `SystemCallFilter=landlock_create_ruleset landlock_add_rule landlock_restrict_self`"
                .to_owned(),
        ),
        (_, LandlockStatus::NotEnabled, _) => {
            Some("landlock is built into the kernel but not enabled (lsm= boot parameter)".into())
        }
        (_, LandlockStatus::NotImplemented, _) => {
            Some("the kernel has no landlock (needs Linux 5.13+)".into())
        }
        (_, _, _) => Some(format!(
            "the kernel offers landlock ABI {kernel}; full enforcement needs ABI {} \
             (TCP rules need Linux 6.7+)",
            TARGET_ABI as i32
        )),
    };
    Ok(LandlockOutcome {
        enforcement,
        kernel_abi: kernel,
        reason,
    })
}
