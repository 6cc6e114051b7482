//! One booted systemd container: `systemd-nspawn -b` on a per-run copy of a cached rootfs, commands
//! inside through `nsenter`, clean power-off and clean-up on drop.
//!
//! Boots cost seconds and the CI machine has two cores: prefer one container per test file with
//! sequential steps. Machine names are unique per process and call, so parallel containers do not
//! collide (own rootfs copy, own cgroup, own machine name).

use std::collections::BTreeMap;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::rootfs::{tail_file, RootfsSpec};
use super::{secs, wait_for};

/// Default time limit for one command inside the container.
pub const CMD_TIMEOUT: Duration = Duration::from_secs(120);

pub(super) const CT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
pub(super) const NAME_PREFIX: &str = "tappass-e2e";
/// Allowed in the container on top of nspawn's default system call filter.
pub const LANDLOCK_SYSCALLS: &[&str] = &[
    "landlock_create_ruleset",
    "landlock_add_rule",
    "landlock_restrict_self",
];

/// How to boot.
#[derive(Debug, Clone)]
pub struct BootOptions {
    /// `--private-network`: the container has only its own loopback, so its 127.0.0.1:9620 does
    /// not collide with anything on the host (or in another container). Default `true`; turn it
    /// off only to reach the mirror from inside (apt).
    pub private_network: bool,
    /// Until `systemctl is-system-running` says running/degraded.
    pub boot_timeout: Duration,
    /// More `systemd-nspawn` arguments (e.g. `--bind-ro=…`).
    pub extra_args: Vec<String>,
}

impl Default for BootOptions {
    fn default() -> Self {
        BootOptions {
            private_network: true,
            boot_timeout: Duration::from_secs(120),
            extra_args: Vec::new(),
        }
    }
}

/// The result of a command run inside the container.
#[derive(Debug, Clone)]
pub struct Out {
    pub cmd: String,
    /// Exit code; `None` when killed by a signal or by the time limit.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

impl Out {
    pub fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// `Ok(self)` on exit code 0, else an error naming the command and its output.
    pub fn check(self) -> Result<Out, String> {
        if self.ok() {
            Ok(self)
        } else {
            Err(self.to_string())
        }
    }

    pub fn trimmed(&self) -> &str {
        self.stdout.trim()
    }
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.timed_out {
            write!(f, "`{}` timed out", self.cmd)?;
        } else {
            match self.code {
                Some(c) => write!(f, "`{}` exited with {c}", self.cmd)?,
                None => write!(f, "`{}` was killed by a signal", self.cmd)?,
            }
        }
        if !self.stdout.trim().is_empty() {
            write!(f, "\n--- stdout:\n{}", self.stdout.trim_end())?;
        }
        if !self.stderr.trim().is_empty() {
            write!(f, "\n--- stderr:\n{}", self.stderr.trim_end())?;
        }
        Ok(())
    }
}

/// Standard input for a command.
pub enum Input<'a> {
    Null,
    Bytes(&'a [u8]),
    File(&'a Path),
}

/// A booted container. Dropping it powers it off and removes its rootfs copy and cgroups.
///
/// nspawn runs with a parent-death signal (SIGTERM → clean power-off) so a test process killed
/// without unwinding leaves no container running; the next boot removes the leftover directory.
/// The signal follows the *thread* that booted the container: keep the `Container` in that thread
/// (a test function), not in a static shared between tests.
pub struct Container {
    pub name: String,
    /// Host path of the container's root directory.
    pub root: PathBuf,
    /// Host PID of the container's PID 1 (systemd).
    pub leader: u32,
    work: PathBuf,
    console_log: PathBuf,
    nspawn: Option<Child>,
    cgroups: Vec<PathBuf>,
    keep_root: bool,
    torn_down: bool,
}

pub(super) static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Parent directory of the per-run rootfs copies: `$TAPPASS_E2E_WORK`, else
/// `$TMPDIR/tappass-e2e`.
pub fn work_dir() -> PathBuf {
    std::env::var_os("TAPPASS_E2E_WORK")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("tappass-e2e"))
}

impl Container {
    /// Extracts `spec`'s rootfs (building the cached tarball first if needed), boots it and waits
    /// until systemd reports running (or degraded, after printing the failed units).
    pub fn boot(spec: &RootfsSpec, opts: &BootOptions) -> Result<Container, String> {
        sweep_stale();
        let name = format!(
            "{NAME_PREFIX}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let work = work_dir().join(&name);
        let mut ct = Container {
            root: work.join("root"),
            console_log: work.join("console.log"),
            work,
            name,
            leader: 0,
            nspawn: None,
            cgroups: Vec::new(),
            keep_root: std::env::var("TAPPASS_E2E_KEEP").is_ok_and(|v| v == "1"),
            torn_down: false,
        };
        // From here on, an error return drops `ct`, which cleans up what exists.
        let _ = std::fs::remove_dir_all(&ct.work);
        std::fs::create_dir_all(&ct.work)
            .map_err(|e| format!("mkdir {}: {e}", ct.work.display()))?;

        let t = Instant::now();
        let cached = spec.tarball_path().exists();
        spec.tarball()?;
        if !cached {
            super::log(format!("rootfs built in {}", secs(t)));
        }
        let took = spec.extract(&ct.root)?;
        super::log(format!(
            "rootfs extracted in {:.1}s into {}",
            took.as_secs_f64(),
            ct.root.display()
        ));

        let mut args: Vec<String> = vec![
            "-D".into(),
            ct.root.display().to_string(),
            "-M".into(),
            ct.name.clone(),
            "--register=no".into(),
            "-b".into(),
            "--console=read-only".into(),
        ];
        if opts.private_network {
            args.push("--private-network".into());
        }
        // nspawn's own seccomp allow list (systemd 252) lacks the landlock calls: without this,
        // every process under the container's systemd gets EPERM from landlock_create_ruleset
        // and a daemon that confines itself looks "not enforced" only inside the container.
        args.push(format!(
            "--system-call-filter={}",
            LANDLOCK_SYSCALLS.join(" ")
        ));
        if !host_is_systemd() {
            // No systemd on the host: nspawn cannot get a scope over D-Bus, so it keeps its own
            // cgroup — one we create per container, so parallel runs do not share `/payload`
            // at the hierarchy root and we can remove it afterwards.
            args.push("--keep-unit".into());
            ct.cgroups = make_cgroups(&ct.name)?;
        }
        args.extend(opts.extra_args.iter().cloned());

        let log = std::fs::File::create(&ct.console_log)
            .map_err(|e| format!("{}: {e}", ct.console_log.display()))?;
        let cg_list = ct
            .cgroups
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        super::log(format!("booting: systemd-nspawn {}", args.join(" ")));
        let t_boot = Instant::now();
        // sh moves itself into the cgroups, then becomes nspawn; setpriv's parent-death signal
        // powers the container off should the test process die without running Drop.
        let child = Command::new("sh")
            .arg("-c")
            .arg(
                r#"IFS=:; for d in $E2E_CGROUPS; do echo $$ > "$d/cgroup.procs" || exit 97; done
unset IFS E2E_CGROUPS; exec setpriv --pdeathsig TERM -- "$@""#,
            )
            .arg("sh")
            .arg(super::which("systemd-nspawn").unwrap_or_else(|| "systemd-nspawn".into()))
            .args(&args)
            .env("E2E_CGROUPS", cg_list)
            .env("PATH", CT_PATH)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start systemd-nspawn: {e}"))?;
        let nspawn_pid = child.id();
        ct.nspawn = Some(child);

        // Container PID 1 (host view) = the child of nspawn whose comm is "systemd".
        let leader = wait_for(opts.boot_timeout, Duration::from_millis(50), || {
            if ct.nspawn_exited() {
                return Some(None);
            }
            children_of(nspawn_pid)
                .into_iter()
                .find(|c| comm(*c).as_deref() == Some("systemd"))
                .map(Some)
        });
        ct.leader = match leader {
            Ok(Some(pid)) => pid,
            Ok(None) => {
                return Err(format!(
                    "systemd-nspawn exited during boot; console log:\n{}",
                    tail_file(&ct.console_log, 60)
                ))
            }
            Err(_) => {
                return Err(format!(
                    "no container PID 1 (systemd) below nspawn pid {nspawn_pid} after {:?}; \
                     console log:\n{}",
                    opts.boot_timeout,
                    tail_file(&ct.console_log, 60)
                ))
            }
        };

        let mut last = String::new();
        let state = wait_for(opts.boot_timeout, Duration::from_millis(250), || {
            if ct.nspawn_exited() {
                return Some(Err("the container exited during boot".to_string()));
            }
            let out = ct.exec_timeout(&["systemctl", "is-system-running"], Duration::from_secs(10));
            last = out.trimmed().to_string();
            match last.as_str() {
                "running" | "degraded" => Some(Ok(last.clone())),
                _ => None,
            }
        });
        let state = match state {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                return Err(format!(
                    "{e}; console log:\n{}",
                    tail_file(&ct.console_log, 60)
                ))
            }
            Err(waited) => {
                let jobs = ct.exec(&["systemctl", "list-jobs", "--no-pager"]);
                return Err(format!(
                    "systemd in the container is not up after {waited:?} (is-system-running: \
                     {last:?}); jobs:\n{}\nconsole log:\n{}",
                    jobs.stdout,
                    tail_file(&ct.console_log, 60)
                ));
            }
        };
        super::log(format!(
            "container {} up in {} (is-system-running: {state}, PID 1 = host pid {})",
            ct.name,
            secs(t_boot),
            ct.leader
        ));
        if state == "degraded" {
            let failed = ct.exec(&["systemctl", "--failed", "--no-pager"]);
            super::log(format!("degraded boot, failed units:\n{}", failed.stdout));
        }
        Ok(ct)
    }

    fn nspawn_exited(&mut self) -> bool {
        match self.nspawn.as_mut() {
            Some(c) => !matches!(c.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// The console (boot messages) so far.
    pub fn console(&self, lines: usize) -> String {
        tail_file(&self.console_log, lines)
    }

    // ---- running commands ----------------------------------------------------------------

    /// Runs `args` inside the container (all its namespaces and its root, a clean environment),
    /// with the default time limit.
    pub fn exec(&self, args: &[&str]) -> Out {
        self.exec_with(args, Input::Null, CMD_TIMEOUT)
    }

    pub fn exec_timeout(&self, args: &[&str], timeout: Duration) -> Out {
        self.exec_with(args, Input::Null, timeout)
    }

    /// `sh -c SCRIPT` inside the container.
    pub fn sh(&self, script: &str) -> Out {
        self.exec(&["sh", "-c", script])
    }

    pub fn sh_timeout(&self, script: &str, timeout: Duration) -> Out {
        self.exec_timeout(&["sh", "-c", script], timeout)
    }

    pub fn exec_with(&self, args: &[&str], input: Input<'_>, timeout: Duration) -> Out {
        let secs = timeout.as_secs().max(1).to_string();
        let mut cmd = Command::new("nsenter");
        cmd.arg("-t")
            .arg(self.leader.to_string())
            .args(["-m", "-u", "-i", "-n", "-p", "-C", "-r", "-w"])
            .args(["env", "-i"])
            .arg(format!("PATH={CT_PATH}"))
            .args([
                "LANG=C.UTF-8",
                "SYSTEMD_PAGER=cat",
                "SYSTEMD_COLORS=0",
                "SYSTEMD_LOG_COLOR=0",
            ])
            // The limit is enforced inside (so nothing lingers there), and again from outside.
            .args(["timeout", "-k", "5", &secs])
            .args(args);
        let label = args.join(" ");
        run(&mut cmd, &label, input, timeout + Duration::from_secs(15))
    }

    // ---- files -------------------------------------------------------------------------------

    /// Writes `contents` to `path` inside the container (parents created, mode set, replaced
    /// atomically so a running binary can be overwritten).
    pub fn write_file(&self, path: &str, contents: &[u8], mode: u32) -> Result<(), String> {
        self.install(path, Input::Bytes(contents), mode)
    }

    /// Copies the host file `src` to `dest` inside the container.
    pub fn copy_in(&self, src: &Path, dest: &str, mode: u32) -> Result<(), String> {
        if !src.is_file() {
            return Err(format!("copy_in: {} is not a file", src.display()));
        }
        self.install(dest, Input::File(src), mode)
    }

    fn install(&self, path: &str, input: Input<'_>, mode: u32) -> Result<(), String> {
        let script = r#"set -e; d=$(dirname "$1"); mkdir -p "$d"; t="$d/.e2e-tmp.$$"
umask 077; cat > "$t"; chmod "$2" "$t"; chown 0:0 "$t"; mv -f "$t" "$1""#;
        let mode = format!("{mode:o}");
        self.exec_with(&["sh", "-c", script, "sh", path, &mode], input, CMD_TIMEOUT)
            .check()
            .map(|_| ())
            .map_err(|e| format!("writing {path} in the container: {e}"))
    }

    pub fn read_file(&self, path: &str) -> Result<String, String> {
        self.exec(&["cat", path]).check().map(|o| o.stdout)
    }

    pub fn remove(&self, path: &str) -> Result<(), String> {
        self.exec(&["rm", "-rf", path]).check().map(|_| ())
    }

    // ---- systemd -----------------------------------------------------------------------------

    pub fn systemctl(&self, args: &[&str]) -> Out {
        let mut v = vec!["systemctl", "--no-pager"];
        v.extend_from_slice(args);
        self.exec(&v)
    }

    pub fn daemon_reload(&self) -> Result<(), String> {
        self.systemctl(&["daemon-reload"]).check().map(|_| ())
    }

    /// `systemctl show -P PROP UNIT`, trimmed.
    pub fn show(&self, unit: &str, prop: &str) -> String {
        self.systemctl(&["show", "-P", prop, unit])
            .trimmed()
            .to_string()
    }

    pub fn active_state(&self, unit: &str) -> String {
        self.show(unit, "ActiveState")
    }

    /// `MainPID` (container pid namespace), 0 when none.
    pub fn main_pid(&self, unit: &str) -> u32 {
        self.show(unit, "MainPID").parse().unwrap_or(0)
    }

    /// The last `lines` journal lines of `unit`.
    pub fn journal(&self, unit: &str, lines: usize) -> String {
        let n = lines.to_string();
        let out = self.exec(&[
            "journalctl",
            "--no-pager",
            "-o",
            "short-monotonic",
            "-u",
            unit,
            "-n",
            &n,
        ]);
        format!("{}{}", out.stdout, out.stderr)
    }

    /// A journal cursor for "what came after this point" (see [`Container::journal_after`]).
    pub fn journal_cursor(&self) -> String {
        let out = self.exec(&["journalctl", "-n", "0", "--show-cursor", "--no-pager"]);
        out.stdout
            .lines()
            .find_map(|l| l.strip_prefix("-- cursor: "))
            .unwrap_or("")
            .trim()
            .to_string()
    }

    /// Journal lines of `unit` after `cursor` (all of them when the cursor is empty), in `format`
    /// (`cat`, `short-monotonic`, `json` …).
    pub fn journal_after(&self, unit: &str, cursor: &str, format: &str) -> String {
        let mut args = vec!["journalctl", "--no-pager", "-o", format, "-u", unit];
        let after = format!("--after-cursor={cursor}");
        if !cursor.is_empty() {
            args.push(&after);
        }
        self.exec(&args).stdout
    }

    /// `systemctl status` plus the last 60 journal lines: what a failure message should show.
    pub fn diagnose(&self, unit: &str) -> String {
        let status = self.systemctl(&["status", "-n", "0", unit]);
        format!(
            "--- systemctl status {unit}:\n{}{}\n--- journalctl -u {unit} (last 60):\n{}",
            status.stdout,
            status.stderr,
            self.journal(unit, 60)
        )
    }

    /// `systemctl start UNIT` (or restart …) and check it is active afterwards; the error carries
    /// the unit's status and journal.
    pub fn start_unit(&self, verb: &str, unit: &str) -> Result<(), String> {
        let out = self.exec_timeout(&["systemctl", verb, unit], Duration::from_secs(150));
        let state = self.active_state(unit);
        if out.ok() && state == "active" {
            return Ok(());
        }
        Err(format!(
            "`systemctl {verb} {unit}` did not leave it active (ActiveState={state}): {out}\n{}",
            self.diagnose(unit)
        ))
    }

    /// `/proc/PID/status` of a container process as key → value.
    pub fn proc_status(&self, pid: u32) -> Result<BTreeMap<String, String>, String> {
        let text = self.read_file(&format!("/proc/{pid}/status"))?;
        Ok(text
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .collect())
    }

    /// Powers off and cleans up now (what drop does), returning how long the power-off took.
    pub fn shutdown(mut self) -> Duration {
        let took = self.teardown();
        super::log(format!(
            "container {} powered off in {:.1}s and cleaned up",
            self.name,
            took.as_secs_f64()
        ));
        took
    }

    fn teardown(&mut self) -> Duration {
        self.torn_down = true;
        let t = Instant::now();
        if let Some(mut child) = self.nspawn.take() {
            if matches!(child.try_wait(), Ok(None)) {
                // nspawn turns SIGTERM into SIGRTMIN+3 for the container: a clean poweroff.
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
                let done = wait_for(Duration::from_secs(60), Duration::from_millis(100), || {
                    (!matches!(child.try_wait(), Ok(None))).then_some(())
                });
                if done.is_err() {
                    super::log(format!(
                        "container {} did not power off within 60s: SIGKILL",
                        self.name
                    ));
                    let _ = child.kill();
                    let _ = child.wait();
                }
            }
        }
        let took = t.elapsed();
        remove_run(&self.name, &self.work, &self.cgroups, self.keep_root);
        took
    }
}

/// Removes what one run left on the host: its cgroups, nspawn's propagation directory and its
/// rootfs copy — unless `keep` (`TAPPASS_E2E_KEEP=1`) or something is still mounted below it.
pub(super) fn remove_run(name: &str, work: &Path, cgroups: &[PathBuf], keep: bool) {
    for cg in cgroups {
        remove_cgroup_tree(cg);
    }
    let _ = std::fs::remove_dir(Path::new("/run/systemd/nspawn/propagate").join(name));
    if keep {
        super::log(format!("keeping {} (TAPPASS_E2E_KEEP=1)", work.display()));
    } else if is_mounted_below(work) {
        super::log(format!(
            "not removing {}: something is still mounted below it",
            work.display()
        ));
    } else {
        let t = Instant::now();
        let _ = std::fs::remove_dir_all(work);
        super::log(format!("removed {} in {}", work.display(), secs(t)));
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if std::thread::panicking() && self.leader != 0 && !self.nspawn_exited() {
            let failed = self.systemctl(&["--failed"]);
            super::log(format!(
                "test failed; failed units in {}:\n{}",
                self.name, failed.stdout
            ));
        }
        if self.torn_down {
            return;
        }
        let took = self.teardown();
        super::log(format!(
            "container {} powered off in {:.1}s and cleaned up",
            self.name,
            took.as_secs_f64()
        ));
    }
}

/// Runs a host command with a time limit, capturing its output.
pub fn run(cmd: &mut Command, label: &str, input: Input<'_>, timeout: Duration) -> Out {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    match &input {
        Input::Null => {
            cmd.stdin(Stdio::null());
        }
        Input::Bytes(_) => {
            cmd.stdin(Stdio::piped());
        }
        Input::File(p) => match std::fs::File::open(p) {
            Ok(f) => {
                cmd.stdin(Stdio::from(f));
            }
            Err(e) => return failed(label, format!("cannot open {}: {e}", p.display())),
        },
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return failed(label, format!("cannot start: {e}")),
    };
    if let Input::Bytes(b) = input {
        let mut stdin = child.stdin.take().unwrap();
        let data = b.to_vec();
        std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
    }
    let rx_out = reader(child.stdout.take().unwrap());
    let rx_err = reader(child.stderr.take().unwrap());
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    // Something inside may still hold the pipes after a kill: do not wait for it forever.
    let grace = if timed_out {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(30)
    };
    let stdout = rx_out.recv_timeout(grace).unwrap_or_default();
    let stderr = rx_err.recv_timeout(grace).unwrap_or_default();
    let code = status.and_then(|s| s.code());
    Out {
        cmd: label.to_string(),
        // coreutils `timeout` inside exits 124 (137 after -k) when it had to stop the command.
        timed_out: timed_out || code == Some(124) || code == Some(137),
        code,
        stdout,
        stderr,
    }
}

pub(super) fn failed(label: &str, why: String) -> Out {
    Out {
        cmd: label.to_string(),
        code: None,
        stdout: String::new(),
        stderr: why,
        timed_out: false,
    }
}

fn reader(mut r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        let _ = tx.send(String::from_utf8_lossy(&buf).into_owned());
    });
    rx
}

// ---- host helpers ----------------------------------------------------------------------------

pub(super) fn host_is_systemd() -> bool {
    Path::new("/run/systemd/system").is_dir()
        && std::fs::read_to_string("/proc/1/comm").is_ok_and(|c| c.trim() == "systemd")
}

fn fs_type(p: &Path) -> String {
    Command::new("stat")
        .args(["-fc", "%T"])
        .arg(p)
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Cgroup directories the container's nspawn is moved into, one per hierarchy that systemd in
/// the container uses (named `systemd` v1, `unified` v2 on a hybrid host; the current cgroup on
/// a pure v2 host).
fn cgroup_dirs(name: &str) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for h in ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"] {
        let t = fs_type(Path::new(h));
        if t == "cgroupfs" || t == "cgroup2fs" {
            dirs.push(Path::new(h).join(name));
        }
    }
    if fs_type(Path::new("/sys/fs/cgroup")) == "cgroup2fs" {
        let cur = std::fs::read_to_string("/proc/self/cgroup")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("0::").map(str::to_string))
            .unwrap_or_else(|| "/".into());
        dirs.push(
            Path::new("/sys/fs/cgroup")
                .join(cur.trim_start_matches('/'))
                .join(name),
        );
    }
    dirs
}

pub(super) fn make_cgroups(name: &str) -> Result<Vec<PathBuf>, String> {
    let dirs = cgroup_dirs(name);
    for d in &dirs {
        std::fs::create_dir_all(d)
            .map_err(|e| format!("cannot create cgroup {}: {e}", d.display()))?;
    }
    Ok(dirs)
}

/// Removes a cgroup and its (empty) children, deepest first.
fn remove_cgroup_tree(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                remove_cgroup_tree(&e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

fn children_of(parent: u32) -> Vec<u32> {
    pids()
        .into_iter()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|s| {
                    // "pid (comm) state ppid …": comm may contain spaces and parentheses.
                    let rest = &s[s.rfind(')')? + 1..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

fn comm(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim().to_string())
}

fn is_mounted_below(dir: &Path) -> bool {
    let d = dir.display().to_string();
    std::fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1))
        .any(|m| m == d || m.starts_with(&format!("{d}/")))
}

/// Whether any process has its root or working directory below `dir` (a container still
/// running there).
fn in_use(dir: &Path) -> bool {
    pids().into_iter().any(|p| {
        ["root", "cwd"]
            .iter()
            .any(|l| std::fs::read_link(format!("/proc/{p}/{l}")).is_ok_and(|t| t.starts_with(dir)))
    })
}

/// Removes rootfs copies and cgroups left by test processes that died without cleaning up
/// (killed by a timeout): their pid is part of the machine name.
pub(super) fn sweep_stale() {
    let Ok(entries) = std::fs::read_dir(work_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(&format!("{NAME_PREFIX}-"))
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let path = e.path();
        if in_use(&path) || is_mounted_below(&path) {
            continue;
        }
        let t = Instant::now();
        for cg in cgroup_dirs(&name) {
            remove_cgroup_tree(&cg);
        }
        let _ = std::fs::remove_dir(Path::new("/run/systemd/nspawn/propagate").join(&name));
        let _ = std::fs::remove_dir_all(&path);
        super::log(format!(
            "removed {} (left by dead test process {pid}) in {}",
            path.display(),
            secs(t)
        ));
    }
}
