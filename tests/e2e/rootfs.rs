//! A Debian rootfs for booting systemd in a container, built once with `debootstrap` and cached as
//! a zstd tarball; extracted afresh for every run.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Packages baked into the rootfs the unit tests boot: systemd as PID 1 (+ D-Bus, nss-systemd
/// for DynamicUser names), `ps`/`curl` for the checks, CA certificates and the daemon's runtime
/// library dependencies. The cache file name carries a hash of this list.
pub const UNITS_INCLUDE: &[&str] = &[
    "systemd",
    "systemd-sysv",
    "dbus",
    "libnss-systemd",
    "procps",
    "curl",
    "ca-certificates",
    "libsqlite3-0",
];

/// The rootfs of tests/e2e_fresh_build.rs: exactly what README.md's "On a fresh machine" tells a
/// new user to install (the Rust toolchain is bind-mounted from the host). A test checks that
/// README's `apt install` line names these packages.
pub const FRESH_INCLUDE: &[&str] = &["build-essential", "pkg-config", "python3-venv"];

/// Bumped whenever [`RootfsSpec::build`] changes what it does to the tree (part of the cache key).
const RECIPE: &str = "minbase-v1: hostname tappass-e2e; apt lists/caches emptied; \
                      systemd-firstboot masked; debootstrap machine-id kept";

/// What to debootstrap. The package e2e (issue 5) defines its own spec with the package's
/// dependencies (and `rpm` for the .rpm run); every distinct spec gets its own cached tarball.
#[derive(Debug, Clone)]
pub struct RootfsSpec {
    /// Short name used in the cache file name, e.g. `units`.
    pub label: &'static str,
    pub suite: &'static str,
    pub include: &'static [&'static str],
    /// More packages on top of `include` (e.g. `rpm`).
    pub extra: &'static [&'static str],
}

impl RootfsSpec {
    /// The rootfs for `tests/e2e_units.rs`.
    pub const UNITS: RootfsSpec = RootfsSpec {
        label: "units",
        suite: "bookworm",
        include: UNITS_INCLUDE,
        extra: &[],
    };

    /// The rootfs for the .rpm half of `tests/e2e_packages.rs`: the same plus Debian's `rpm`
    /// (an empty rpm database, so `rpm -i` needs `--nodeps`: docs/packaging.md).
    pub const RPM: RootfsSpec = RootfsSpec {
        label: "rpm",
        suite: "bookworm",
        include: UNITS_INCLUDE,
        extra: &["rpm"],
    };

    /// The rootfs of `tests/e2e_health.rs`: the same plus a real PostgreSQL and Redis for the
    /// monitor to watch (and for the test to stop or misconfigure).
    pub const OPS: RootfsSpec = RootfsSpec {
        label: "ops",
        suite: "bookworm",
        include: UNITS_INCLUDE,
        extra: &["postgresql", "redis-server"],
    };

    /// The rootfs of `tests/e2e_upgrade.rs`: the same plus what makes and signs a local apt
    /// repository (apt-ftparchive, gpg), and sqlite3 for the deliberately broken version.
    pub const UPGRADE: RootfsSpec = RootfsSpec {
        label: "upgrade",
        suite: "bookworm",
        include: UNITS_INCLUDE,
        extra: &["apt-utils", "gnupg", "sqlite3"],
    };

    /// A bare machine for building from source (not booted: no systemd in it).
    pub const FRESH: RootfsSpec = RootfsSpec {
        label: "fresh",
        suite: "bookworm",
        include: FRESH_INCLUDE,
        extra: &[],
    };

    /// Every package to include: `include` then `extra`.
    pub fn packages(&self) -> Vec<&'static str> {
        self.include.iter().chain(self.extra).copied().collect()
    }

    /// Hex digest over everything that determines the tree's contents.
    pub fn key(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.suite.as_bytes());
        h.update(b"\0");
        for p in self.packages() {
            h.update(p.as_bytes());
            h.update(b",");
        }
        h.update(b"\0");
        h.update(RECIPE.as_bytes());
        hex::encode(&h.finalize()[..6])
    }

    /// `<cache>/rootfs-<suite>-<label>-<hash>.tar.zst`.
    pub fn tarball_path(&self) -> PathBuf {
        cache_dir().join(format!(
            "rootfs-{}-{}-{}.tar.zst",
            self.suite,
            self.label,
            self.key()
        ))
    }

    /// The cached tarball, built first if it does not exist yet. Concurrent test binaries
    /// serialise on a lock file; the tarball appears atomically (rename).
    pub fn tarball(&self) -> Result<PathBuf, String> {
        let path = self.tarball_path();
        if is_nonempty(&path) {
            return Ok(path);
        }
        let dir = cache_dir();
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create cache dir {}: {e}", dir.display()))?;
        let lock_path = dir.join(format!(".lock-{}", self.key()));
        let lock = File::create(&lock_path)
            .map_err(|e| format!("cannot create {}: {e}", lock_path.display()))?;
        lock.lock()
            .map_err(|e| format!("cannot lock {}: {e}", lock_path.display()))?;
        if is_nonempty(&path) {
            return Ok(path); // built by someone else while we waited
        }
        let r = self.build(&path);
        drop(lock);
        r.map(|()| path)
    }

    fn build(&self, tarball: &Path) -> Result<(), String> {
        let mirror = mirror()?;
        let key = self.key();
        let work = cache_dir().join(format!("build-{key}-{}", std::process::id()));
        let root = work.join("root");
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(&root).map_err(|e| format!("mkdir {}: {e}", root.display()))?;
        let log = cache_dir().join(format!("debootstrap-{}-{key}.log", self.label));
        super::log(format!(
            "building rootfs: debootstrap --variant=minbase {} from {mirror} (include: {}); \
             log: {}",
            self.suite,
            self.packages().join(","),
            log.display()
        ));
        let t = Instant::now();
        let log_file = File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let status = Command::new("timeout")
            .arg("1200")
            .arg(super::which("debootstrap").unwrap_or_else(|| "debootstrap".into()))
            .arg("--variant=minbase")
            .arg(format!("--include={}", self.packages().join(",")))
            .arg(self.suite)
            .arg(&root)
            .arg(&mirror)
            .stdin(std::process::Stdio::null())
            .stdout(log_file.try_clone().unwrap())
            .stderr(log_file)
            .status()
            .map_err(|e| format!("cannot run debootstrap: {e}"))?;
        if !status.success() {
            let tail = tail_file(&log, 30);
            let _ = std::fs::remove_dir_all(&work);
            return Err(format!(
                "debootstrap failed ({status}); last lines of {}:\n{tail}",
                log.display()
            ));
        }
        super::log(format!("debootstrap took {}", super::secs(t)));

        // Trim and prepare the tree (see RECIPE).
        std::fs::write(root.join("etc/hostname"), "tappass-e2e\n").map_err(|e| e.to_string())?;
        for dir in ["var/cache/apt/archives", "var/lib/apt/lists"] {
            if let Ok(entries) = std::fs::read_dir(root.join(dir)) {
                for e in entries.flatten() {
                    if e.path().is_file() {
                        let _ = std::fs::remove_file(e.path());
                    }
                }
            }
        }
        if let Ok(entries) = std::fs::read_dir(root.join("var/cache/apt")) {
            for e in entries.flatten() {
                if e.path().extension().is_some_and(|x| x == "bin") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        // Keep debootstrap's machine-id: an empty one means "first boot", and
        // systemd-firstboot would prompt on the read-only console. Mask it anyway.
        let firstboot = root.join("etc/systemd/system/systemd-firstboot.service");
        let _ = std::fs::remove_file(&firstboot);
        std::os::unix::fs::symlink("/dev/null", &firstboot)
            .map_err(|e| format!("mask systemd-firstboot: {e}"))?;

        let t = Instant::now();
        let tmp = tarball.with_extension("zst.tmp");
        let out = Command::new("tar")
            .args([
                "--numeric-owner",
                "--xattrs",
                "--xattrs-include=*",
                "--acls",
            ])
            .arg("-C")
            .arg(&root)
            .args(["-I", "zstd -T0 -6", "-cf"])
            .arg(&tmp)
            .arg(".")
            .output()
            .map_err(|e| format!("cannot run tar: {e}"))?;
        let _ = std::fs::remove_dir_all(&work);
        if !out.status.success() {
            let _ = std::fs::remove_file(&tmp);
            return Err(format!(
                "tar of the rootfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        std::fs::rename(&tmp, tarball).map_err(|e| format!("rename tarball: {e}"))?;
        let size = std::fs::metadata(tarball).map(|m| m.len()).unwrap_or(0);
        super::log(format!(
            "rootfs cached: {} ({:.1} MB, packing took {})",
            tarball.display(),
            size as f64 / 1e6,
            super::secs(t)
        ));
        Ok(())
    }

    /// Extracts the (cached or freshly built) tarball into the empty directory `dest`.
    pub fn extract(&self, dest: &Path) -> Result<Duration, String> {
        let tarball = self.tarball()?;
        let t = Instant::now();
        std::fs::create_dir_all(dest).map_err(|e| format!("mkdir {}: {e}", dest.display()))?;
        let out = Command::new("tar")
            .args([
                "--numeric-owner",
                "--xattrs",
                "--xattrs-include=*",
                "-I",
                "zstd",
            ])
            .arg("-xpf")
            .arg(&tarball)
            .arg("-C")
            .arg(dest)
            .output()
            .map_err(|e| format!("cannot run tar: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "extracting {} into {} failed ({}): {}",
                tarball.display(),
                dest.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(t.elapsed())
    }
}

/// `$TAPPASS_E2E_CACHE`, default `/var/cache/tappass-e2e` (outside the clone).
pub fn cache_dir() -> PathBuf {
    std::env::var_os("TAPPASS_E2E_CACHE")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/var/cache/tappass-e2e"))
}

/// `$TAPPASS_E2E_MIRROR`, else the first Debian URI in the apt sources.
pub fn mirror() -> Result<String, String> {
    if let Ok(m) = std::env::var("TAPPASS_E2E_MIRROR") {
        if !m.is_empty() {
            return Ok(m);
        }
    }
    let mut files = vec![PathBuf::from("/etc/apt/sources.list")];
    if let Ok(entries) = std::fs::read_dir("/etc/apt/sources.list.d") {
        let mut more: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        more.sort();
        files.extend(more);
    }
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for line in text.lines() {
            let line = line.trim();
            let uris: Vec<&str> = if let Some(rest) = line.strip_prefix("URIs:") {
                rest.split_whitespace().collect()
            } else if line.starts_with("deb ") {
                // deb [options] URI suite …
                line.split_whitespace()
                    .skip(1)
                    .filter(|w| w.contains("://"))
                    .take(1)
                    .collect()
            } else {
                continue;
            };
            if let Some(u) = uris
                .into_iter()
                .find(|u| u.trim_end_matches('/').ends_with("/debian"))
            {
                return Ok(u.to_string());
            }
        }
    }
    Err("no Debian mirror in the apt sources; set TAPPASS_E2E_MIRROR".into())
}

fn is_nonempty(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.len() > 0)
}

/// The last `n` lines of a file (for failure messages).
pub fn tail_file(p: &Path, n: usize) -> String {
    let text = std::fs::read(p).unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
