//! One shell script in a fresh copy of a cached rootfs, without booting it: `systemd-nspawn`
//! (no `-b`) gives the script its own mount, PID and network namespaces, `/proc` and `/dev`, and
//! runs it as PID 2 under a minimal init, so a rootfs with no systemd in it works. For tests
//! about what a bare machine can do (tests/e2e_fresh_build.rs), where a booted rootfs would
//! bring packages the test must not have.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::container::{
    failed, host_is_systemd, make_cgroups, remove_run, run, sweep_stale, work_dir, Input, Out,
    COUNTER, CT_PATH, LANDLOCK_SYSCALLS, NAME_PREFIX,
};
use super::rootfs::RootfsSpec;

/// What the script gets besides the rootfs.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// `(host path, path inside)`, mounted read-only.
    pub bind_ro: Vec<(PathBuf, String)>,
    /// `(host path, path inside)`, mounted read-write.
    pub bind: Vec<(PathBuf, String)>,
    /// Environment of the script (on top of `PATH=` the standard directories, unless given).
    pub env: Vec<(String, String)>,
    /// Working directory inside.
    pub chdir: Option<String>,
}

/// The per-run rootfs copy and cgroups, removed on drop.
pub struct Chroot {
    pub name: String,
    /// Host path of the copy's root directory (write into it before [`Chroot::run`]).
    pub root: PathBuf,
    work: PathBuf,
    cgroups: Vec<PathBuf>,
}

impl Chroot {
    /// Extracts `spec`'s rootfs (building the cached tarball first if needed) into a new
    /// directory below [`work_dir`].
    pub fn new(spec: &RootfsSpec) -> Result<Chroot, String> {
        sweep_stale();
        let name = format!(
            "{NAME_PREFIX}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let work = work_dir().join(&name);
        let ch = Chroot {
            root: work.join("root"),
            work,
            name,
            cgroups: Vec::new(),
        };
        let _ = std::fs::remove_dir_all(&ch.work);
        let took = spec.extract(&ch.root)?;
        super::log(format!(
            "rootfs {} extracted in {:.1}s into {}",
            spec.label,
            took.as_secs_f64(),
            ch.root.display()
        ));
        Ok(ch)
    }

    /// Runs `sh -c script` inside, with a private network (only its own loopback) and the
    /// landlock system calls allowed (nspawn 252's own filter lacks them), within `timeout`.
    pub fn run(&mut self, opts: &RunOptions, script: &str, timeout: Duration) -> Out {
        let mut args: Vec<String> = vec![
            "-D".into(),
            self.root.display().to_string(),
            "-M".into(),
            self.name.clone(),
            "--register=no".into(),
            "--as-pid2".into(),
            "--private-network".into(),
            "--quiet".into(),
            // The script's own stdout/stderr (no pseudo-terminal in between).
            "--console=pipe".into(),
            format!("--system-call-filter={}", LANDLOCK_SYSCALLS.join(" ")),
        ];
        if !host_is_systemd() && self.cgroups.is_empty() {
            // As for booted containers: no systemd on the host to ask for a scope, so nspawn
            // keeps a cgroup of our own.
            args.push("--keep-unit".into());
            match make_cgroups(&self.name) {
                Ok(c) => self.cgroups = c,
                Err(e) => return failed("systemd-nspawn", e),
            }
        } else if !self.cgroups.is_empty() {
            args.push("--keep-unit".into());
        }
        for (host, inside) in &opts.bind_ro {
            args.push(format!("--bind-ro={}:{inside}", host.display()));
        }
        for (host, inside) in &opts.bind {
            args.push(format!("--bind={}:{inside}", host.display()));
        }
        if !opts.env.iter().any(|(k, _)| k == "PATH") {
            args.push(format!("--setenv=PATH={CT_PATH}"));
        }
        for (k, v) in &opts.env {
            args.push(format!("--setenv={k}={v}"));
        }
        if let Some(dir) = &opts.chdir {
            args.push(format!("--chdir={dir}"));
        }
        let cg_list = self
            .cgroups
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        super::log(format!("running in {}: {script}", self.name));
        let t = Instant::now();
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(
                r#"IFS=:; for d in $E2E_CGROUPS; do echo $$ > "$d/cgroup.procs" || exit 97; done
unset IFS E2E_CGROUPS; exec setpriv --pdeathsig KILL -- "$@""#,
            )
            .arg("sh")
            .arg(super::which("systemd-nspawn").unwrap_or_else(|| "systemd-nspawn".into()))
            .args(&args)
            .args(["/bin/sh", "-c", script])
            .env("E2E_CGROUPS", cg_list);
        let out = run(&mut cmd, script, Input::Null, timeout);
        super::log(format!("finished in {} ({:?})", super::secs(t), out.code));
        out
    }
}

impl Drop for Chroot {
    fn drop(&mut self) {
        let keep = std::env::var("TAPPASS_E2E_KEEP").is_ok_and(|v| v == "1");
        remove_run(&self.name, &self.work, &self.cgroups, keep);
    }
}
