//! `tappass sandbox check`: after confining itself exactly as the daemon does, the process tries
//! what an attacker inside the daemon would — and what the daemon itself must still be able to
//! do. A denial counts only when it comes from the sandbox (EACCES, EPERM, EROFS): "connection
//! refused" means the connection was allowed through.

use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a probe must observe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Denied,
    Allowed,
}

/// One probe's result.
#[derive(Debug)]
pub struct Outcome {
    pub what: String,
    pub expect: Expect,
    /// `Ok(())` when the operation succeeded, else the error it met.
    pub result: Result<(), std::io::Error>,
}

impl Outcome {
    /// Whether the observation matches the expectation.
    pub fn passed(&self) -> bool {
        match (&self.result, self.expect) {
            (Err(e), Expect::Denied) => is_denial(e),
            (Ok(()), Expect::Denied) => false,
            (Ok(()), Expect::Allowed) => true,
            (Err(e), Expect::Allowed) => !is_denial(e),
        }
    }

    /// A report line: `ok   denied  read /etc/shadow (Permission denied)`.
    pub fn line(&self) -> String {
        let seen = match &self.result {
            Ok(()) => "allowed".to_owned(),
            Err(e) if is_denial(e) => format!("denied ({e})"),
            Err(e) => format!("allowed through, then: {e}"),
        };
        let want = match self.expect {
            Expect::Denied => "must be denied",
            Expect::Allowed => "must be allowed",
        };
        let mark = if self.passed() { "ok  " } else { "FAIL" };
        format!("{mark}  {:<52} {want:<16} {seen}", self.what)
    }
}

/// A refusal by landlock, seccomp, file modes or a read-only mount.
pub fn is_denial(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(nix::libc::EACCES) | Some(nix::libc::EPERM) | Some(nix::libc::EROFS)
    )
}

/// What the probes need to know about the confined process.
pub struct Target<'a> {
    pub config_file: Option<&'a Path>,
    pub state_dir: &'a Path,
    pub listen_port: u16,
    pub connect_ports: &'a [u16],
}

/// Runs every probe.
pub fn run(t: &Target<'_>) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut probe = |what: String, expect, result| {
        out.push(Outcome {
            what,
            expect,
            result,
        })
    };

    probe(
        "read /etc/shadow".into(),
        Expect::Denied,
        std::fs::File::open("/etc/shadow").map(drop),
    );
    let usr_file = PathBuf::from(format!(
        "/usr/.tappass-sandbox-check-{}",
        std::process::id()
    ));
    let wrote = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&usr_file)
        .map(drop);
    if wrote.is_ok() {
        let _ = std::fs::remove_file(&usr_file);
    }
    probe(
        format!("write {}", usr_file.display()),
        Expect::Denied,
        wrote,
    );
    probe(
        "execute /bin/sh".into(),
        Expect::Denied,
        std::process::Command::new("/bin/sh")
            .args(["-c", "exit 0"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map(drop),
    );
    let stray = unconfigured_port(9, t.connect_ports);
    probe(
        format!("connect to 127.0.0.1:{stray} (port not configured)"),
        Expect::Denied,
        connect(stray),
    );
    // Above 1023, so that only the sandbox can refuse it.
    let stray_bind = unconfigured_port(40_000, &[t.listen_port]);
    probe(
        format!("bind 127.0.0.1:{stray_bind} (not the listen port)"),
        Expect::Denied,
        TcpListener::bind((Ipv4Addr::LOCALHOST, stray_bind)).map(drop),
    );

    // What the daemon needs.
    if let Some(file) = t.config_file {
        probe(
            format!("read {}", file.display()),
            Expect::Allowed,
            std::fs::read(file).map(drop),
        );
    }
    let state_file = t
        .state_dir
        .join(format!(".sandbox-check-{}", std::process::id()));
    let wrote =
        std::fs::write(&state_file, b"probe").and_then(|_| std::fs::remove_file(&state_file));
    probe(
        format!("write in {}", t.state_dir.display()),
        Expect::Allowed,
        wrote,
    );
    probe(
        format!("bind 127.0.0.1:{} (listen port)", t.listen_port),
        Expect::Allowed,
        match TcpListener::bind((Ipv4Addr::LOCALHOST, t.listen_port)) {
            Err(e) if e.kind() == ErrorKind::AddrInUse => Ok(()), // the daemon holds it
            r => r.map(drop),
        },
    );
    if let Some(port) = t
        .connect_ports
        .iter()
        .copied()
        .find(|p| *p != super::plan::DNS_PORT)
    {
        probe(
            format!("connect to 127.0.0.1:{port} (configured)"),
            Expect::Allowed,
            connect(port),
        );
    }
    probe(
        "resolve localhost".into(),
        Expect::Allowed,
        ("localhost", 80).to_socket_addrs().map(drop),
    );
    out
}

fn connect(port: u16) -> std::io::Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).map(drop)
}

/// The first port from `from` up that is not `taken`, for the "must be denied" probes.
fn unconfigured_port(from: u16, taken: &[u16]) -> u16 {
    (from..=u16::MAX)
        .find(|p| !taken.contains(p))
        .unwrap_or(from)
}
