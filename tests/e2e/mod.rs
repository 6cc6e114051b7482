//! End-to-end harness: a real systemd (PID 1) booted in `systemd-nspawn` from a cached Debian
//! rootfs, for tests that must see TapPass as systemd runs it (units, credentials, watchdog,
//! reload, journal) — and, later, as `apt`/`rpm` install it.
//!
//! Pieces:
//! - [`rootfs`]: a debootstrapped minbase rootfs, cached as a zstd tarball outside the clone
//!   (`$TAPPASS_E2E_CACHE`, default `/var/cache/tappass-e2e`); the cache file name carries a hash
//!   of the suite and the package list, so changing [`rootfs::UNITS_INCLUDE`] (or a spec of your
//!   own) builds a new one.
//! - [`container`]: extracts a tarball per run, boots it (`--private-network` by default; the
//!   landlock system calls added to nspawn's own seccomp allow list, which lacks them on systemd
//!   252), runs commands inside with `nsenter`, copies files in, waits for units, powers off and
//!   cleans up on drop.
//! - [`tappass`]: installing the debug binaries and the repo's unit files directly (until the
//!   packages exist), the fake upstream as a unit, HTTP through `curl` inside the container.
//!
//! Requirements: root, `systemd-nspawn` (systemd-container), `debootstrap`, `zstd`, `nsenter`.
//! Without them [`preflight`] prints `SKIP: …` and the test returns — unless `CI=true`, where it
//! panics. Knobs: `TAPPASS_E2E_CACHE`, `TAPPASS_E2E_MIRROR` (default: the Debian URI from the
//! apt sources), `TAPPASS_E2E_WORK` (per-run rootfs parent, default `$TMPDIR/tappass-e2e`),
//! `TAPPASS_E2E_KEEP=1` (keep the per-run rootfs after the test).

#![allow(dead_code)]

pub mod chroot;
pub mod container;
pub mod rootfs;
pub mod tappass;

use std::path::Path;
use std::time::{Duration, Instant};

#[allow(unused_imports)] // each test crate uses a part of the harness
pub use container::{BootOptions, Out};
pub use rootfs::RootfsSpec;

/// True under `CI=true` (or `CI=1`): missing prerequisites are then a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Whether this machine can boot a container. `false` (after printing `SKIP: <why>`) when it
/// cannot; panics instead under `CI=true`.
pub fn preflight() -> bool {
    START.get_or_init(Instant::now);
    let mut missing = Vec::new();
    if !is_root() {
        missing.push("not running as root".to_string());
    }
    for (tool, package) in [
        ("systemd-nspawn", "systemd-container"),
        ("debootstrap", "debootstrap"),
        ("zstd", "zstd"),
        ("nsenter", "util-linux"),
        ("setpriv", "util-linux"),
        ("tar", "tar"),
    ] {
        if which(tool).is_none() {
            missing.push(format!("`{tool}` not found (Debian package {package})"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let why = missing.join("; ");
    if in_ci() {
        panic!("the systemd e2e tests are required under CI=true, but: {why}");
    }
    eprintln!("SKIP: {why}");
    false
}

fn is_root() -> bool {
    // /proc/self/status "Uid:\treal\teffective\t…"
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// `PATH` lookup, including the sbin directories a non-login root shell may lack.
pub fn which(tool: &str) -> Option<std::path::PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file());
    found
}

static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Prints a harness line, `[e2e +SECONDS] msg` (seconds since the harness was first used).
pub fn log(msg: impl std::fmt::Display) {
    let t = START.get_or_init(Instant::now).elapsed().as_secs_f64();
    eprintln!("[e2e +{t:.1}s] {msg}");
}

/// Seconds since `t`, for timing lines.
pub fn secs(t: Instant) -> String {
    format!("{:.1}s", t.elapsed().as_secs_f64())
}

/// Runs one named step of a scenario: `PASS name (time)`, or a panic with the step's error.
pub fn step(name: &str, f: impl FnOnce() -> Result<(), String>) {
    let t = Instant::now();
    match f() {
        Ok(()) => eprintln!("PASS  {name} ({})", secs(t)),
        Err(e) => panic!("FAIL  {name} ({}):\n{e}", secs(t)),
    }
}

/// `Ok` when `ok`, else the message.
pub fn ensure(ok: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(msg())
    }
}

/// Polls `f` every `every` until it returns `Some`, or `timeout` passes (then `Err` with the time
/// waited).
pub fn wait_for<T>(
    timeout: Duration,
    every: Duration,
    mut f: impl FnMut() -> Option<T>,
) -> Result<T, Duration> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Ok(v);
        }
        if start.elapsed() >= timeout {
            return Err(start.elapsed());
        }
        std::thread::sleep(every);
    }
}

/// Parses a systemd time span as `systemctl show` prints it (`30s`, `1min 30s`, `500ms`,
/// `infinity`, `0`) into a `Duration` (`None` for `infinity`/unparsable).
pub fn parse_timespan(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s == "infinity" || s.is_empty() {
        return None;
    }
    let mut total = 0f64;
    for part in s.split_whitespace() {
        let split = part
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(part.len());
        let (num, unit) = part.split_at(split);
        let n: f64 = num.parse().ok()?;
        let factor = match unit {
            "" | "s" | "sec" => 1.0,
            "us" | "usec" | "µs" => 1e-6,
            "ms" | "msec" => 1e-3,
            "min" | "m" => 60.0,
            "h" | "hr" => 3600.0,
            "d" => 86400.0,
            _ => return None,
        };
        total += n * factor;
    }
    Some(Duration::from_secs_f64(total))
}

#[cfg(test)]
mod tests {
    use super::parse_timespan;
    use std::time::Duration;

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("30s"), Some(Duration::from_secs(30)));
        assert_eq!(parse_timespan("1min 30s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_timespan("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_timespan("0"), Some(Duration::ZERO));
        assert_eq!(parse_timespan("infinity"), None);
    }
}
