//! The host layer seen from outside the process: privilege drop and confinement when started as
//! root outside systemd, the sd_notify protocol, socket activation and `tappass sandbox check`.
//! The same behaviour under a real systemd is proven by `tests/e2e_units.rs`.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixDatagram;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{bin, Db, Gateway, GatewayOpts, Upstream};

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Root is needed to prove the drop; on a developer machine the test skips, in CI it must run.
fn need_root(test: &str) -> bool {
    if is_root() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test} must run as root under CI=true");
    }
    eprintln!("SKIP {test}: needs root");
    false
}

fn status_field(pid: u32, key: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("{key} not in /proc/{pid}/status"))
        .trim()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn started_as_root_it_runs_as_uid_999_without_capabilities_and_not_dumpable() {
    if !need_root("root drop") {
        return;
    }
    let upstream = Upstream::start(&[]);
    let gw = Gateway::start(GatewayOpts::new(Db::Sqlite, &upstream)).await;
    let pid = gw.pid();
    let uids: Vec<String> = status_field(pid, "Uid")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(uids, ["999"; 4], "real, effective, saved, fs uid");
    let gids: Vec<String> = status_field(pid, "Gid")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert!(gids.iter().all(|g| g == &gids[0]), "{gids:?}");
    assert_ne!(gids[0], "999", "gid 999 is systemd-journal on Debian");
    assert_ne!(gids[0], "0");
    assert_eq!(
        status_field(pid, "Groups"),
        "",
        "supplementary groups cleared"
    );
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(status_field(pid, set), "0000000000000000", "{set}");
    }
    assert_eq!(status_field(pid, "NoNewPrivs"), "1");
    // A process that is not dumpable has its /proc files owned by root, not by its uid.
    let owner = std::fs::metadata(format!("/proc/{pid}/status"))
        .unwrap()
        .uid();
    assert_eq!(
        owner, 0,
        "/proc/{pid} of a non-dumpable process belongs to root"
    );
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let core = limits
        .lines()
        .find(|l| l.starts_with("Max core file size"))
        .unwrap();
    assert_eq!(
        core.split_whitespace().collect::<Vec<_>>()[4..6],
        ["0", "0"],
        "{core}"
    );
    // It still does its job.
    let (key, _) = gw.agent("root-drop").await;
    assert_eq!(gw.chat(&key, "gpt-4o-mini", "hi").await.0, 200);
    let db = std::fs::metadata(gw.state_dir.join("tappass.db")).unwrap();
    assert_eq!(db.uid(), 999, "state files belong to the unprivileged uid");
    assert_eq!(
        db.mode() & 0o077,
        0,
        "umask 0077: nobody else reads the database"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_shows_admins_the_sandbox_outcome() {
    let upstream = Upstream::start(&[]);
    let gw = Gateway::start(GatewayOpts::new(Db::Sqlite, &upstream)).await;
    let (status, health) = gw.get("/health", &gw.admin_key).await;
    assert_eq!(status, 200);
    let sandbox = &health["details"]["sandbox"];
    assert_eq!(sandbox["enforcement"], "full", "{health}");
    assert_eq!(sandbox["core_dumps"], "disabled");
    assert_eq!(sandbox["bind_ports"], serde_json::json!([gw.port]));
    assert!(sandbox["landlock"]["kernel_abi"].as_i64().unwrap() >= 6);
    let (_, anonymous) = gw.get("/health", "").await;
    assert!(anonymous.get("details").is_none(), "{anonymous}");
}

#[test]
fn sandbox_check_proves_the_confinement() {
    let dir = common::tempdir();
    let out = Command::new(bin())
        .args(["sandbox", "check", "--state-dir"])
        .arg(dir.path().join("state"))
        .env_clear()
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for denied in [
        "read /etc/shadow",
        "write /usr/",
        "execute /bin/sh",
        "connect to 127.0.0.1:9 (port not configured)",
        "(not the listen port)",
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(denied))
            .unwrap_or_else(|| panic!("no probe {denied:?} in\n{text}"));
        assert!(
            line.starts_with("ok") && line.contains("denied ("),
            "{line}"
        );
    }
    assert!(text.contains("landlock fully enforced"), "{text}");
    assert!(text.contains("sandbox check passed"), "{text}");
}

#[test]
fn sandbox_uid_zero_is_refused_with_the_key_named() {
    let dir = common::tempdir();
    let out = Command::new(bin())
        .args(["serve", "--state-dir"])
        .arg(dir.path())
        .env("TAPPASS_SANDBOX__UID", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sandbox.uid") && err.contains("root"), "{err}");
}

/// Datagrams the daemon sent to `NOTIFY_SOCKET`, collected until `until` holds or 15 s pass.
fn collect(sock: &UnixDatagram, seen: &mut Vec<String>, until: impl Fn(&[String]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut buf = vec![0u8; 4096];
    while !until(seen) {
        assert!(Instant::now() < deadline, "timed out; received: {seen:#?}");
        if let Ok(n) = sock.recv(&mut buf) {
            seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
    }
}

/// A `NOTIFY_SOCKET` to hand the daemon, in a directory that lives as long as the first value.
fn notify_socket() -> (tempfile::TempDir, std::path::PathBuf, UnixDatagram) {
    let dir = common::tempdir();
    let path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    // The daemon may have dropped to uid 999: let it send.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    (dir, path, sock)
}

fn count(seen: &[String], line: &str) -> usize {
    seen.iter().filter(|m| m.lines().any(|l| l == line)).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speaks_sd_notify_ready_status_watchdog_reloading_and_stopping() {
    let (_dir, path, sock) = notify_socket();

    let upstream = Upstream::start(&[]);
    let opts = GatewayOpts::new(Db::Sqlite, &upstream)
        .config("[log]\nlevel = \"info\"\n")
        .env("NOTIFY_SOCKET", path.to_str().unwrap())
        .env("WATCHDOG_USEC", "400000");
    let gw = Gateway::start(opts).await;
    let mut seen = Vec::new();
    collect(&sock, &mut seen, |s| {
        count(s, "READY=1") == 1 && count(s, "WATCHDOG=1") >= 3
    });
    let ready = seen.iter().find(|m| m.contains("READY=1")).unwrap();
    assert!(
        ready.contains(&format!(
            "STATUS=Serving on 127.0.0.1:{}; storage sqlite ok",
            gw.port
        )),
        "{ready}"
    );
    assert!(ready.contains("landlock fully enforced"), "{ready}");

    // systemctl reload = SIGHUP: RELOADING=1, then READY=1 once the new config is in force.
    std::fs::write(gw.config_path(), "[log]\nlevel = \"info\"\n[flags]\n").unwrap();
    Command::new("kill")
        .args(["-HUP", &gw.pid().to_string()])
        .status()
        .unwrap();
    collect(&sock, &mut seen, |s| count(s, "READY=1") == 2);
    let reloading = seen.iter().position(|m| m.contains("RELOADING=1")).unwrap();
    let ready_again = seen.iter().rposition(|m| m.contains("READY=1")).unwrap();
    assert!(reloading < ready_again, "{seen:#?}");
    assert!(
        seen[reloading].contains("MONOTONIC_USEC="),
        "{}",
        seen[reloading]
    );
    assert!(
        seen[ready_again].contains("STATUS=Configuration reloaded"),
        "{}",
        seen[ready_again]
    );

    // systemctl stop = SIGTERM: STOPPING=1 before the drain.
    Command::new("kill")
        .args(["-TERM", &gw.pid().to_string()])
        .status()
        .unwrap();
    collect(&sock, &mut seen, |s| count(s, "STOPPING=1") == 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_is_down_keeps_it_up_and_says_so_in_status() {
    let (_dir, path, sock) = notify_socket();
    let upstream = Upstream::start(&[]);
    // Nothing listens on port 1.
    let mut opts = GatewayOpts::new(
        Db::Postgres("postgres://x@127.0.0.1:1/none".into()),
        &upstream,
    )
    .env("NOTIFY_SOCKET", path.to_str().unwrap())
    .env("TAPPASS_DATABASE__CONNECT_TIMEOUT_SECS", "1");
    opts.wait_ready = false;
    let gw = Gateway::start(opts).await;
    let mut seen = Vec::new();
    collect(&sock, &mut seen, |s| count(s, "READY=1") == 1);
    let ready = seen.iter().find(|m| m.contains("READY=1")).unwrap();
    assert!(ready.contains("storage postgresql UNAVAILABLE"), "{ready}");
    let r = reqwest::get(format!("{}/health/ready", gw.url))
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_on_a_socket_passed_by_systemd() {
    let Ok(activate) = which("systemd-socket-activate") else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("systemd-socket-activate (package systemd) is required under CI=true");
        }
        eprintln!("SKIP: systemd-socket-activate not installed");
        return;
    };
    let dir = common::tempdir();
    let port = common::free_port();
    let upstream = Upstream::start(&[]);
    let child = Command::new(activate)
        .args([
            "-l",
            &format!("127.0.0.1:{port}"),
            bin(),
            "serve",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .env_clear()
        .env(
            "TAPPASS_PROVIDERS__OPENAI__BASE_URL",
            upstream.openai_base(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _guard = common::Proc(child);
    // The socket is listening before the daemon even starts: the first connection starts it.
    let url = format!("http://127.0.0.1:{port}/health/ready");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = reqwest::get(&url).await {
            assert_eq!(r.status(), 200);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no answer on the activated socket"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn which(name: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .map(|d| std::path::Path::new(d).join(name))
        .find(|p| p.exists())
        .ok_or(())
}

/// Runs `tappass ARGS` with extra environment; its exit code and standard output.
fn tappass(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let out = Command::new(bin())
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_reports_config_database_kernel_and_the_daemons_sandbox() {
    let upstream = Upstream::start(&[]);
    let gw = Gateway::start(GatewayOpts::new(Db::Sqlite, &upstream)).await;
    let listen = format!("127.0.0.1:{}", gw.port);
    let (code, text) = tappass(
        &["doctor", "--state-dir", gw.state_dir.to_str().unwrap()],
        &[
            ("TAPPASS_SERVER__LISTEN", &listen),
            ("TAPPASS_ADMIN_API_KEY", &gw.admin_key),
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    for line in [
        "ok    configuration",
        "ok    state dir",
        "ok    database",
        "ok    audit_chain    intact",
        "ok    clock",
        "ok    policy         loaded; a plain request is allowed",
        "ok    landlock       kernel ABI",
        "ok    daemon         ready",
        "ok    sandbox        landlock full",
        "all checks passed",
    ] {
        assert!(text.contains(line), "{line:?} missing in\n{text}");
    }
    drop(gw);
    // With the daemon gone, the doctor says so and fails.
    let dir = common::tempdir();
    let nobody = format!("127.0.0.1:{}", common::free_port());
    let (code, text) = tappass(
        &["doctor", "--state-dir", dir.path().to_str().unwrap()],
        &[("TAPPASS_SERVER__LISTEN", &nobody)],
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("FAIL  daemon"), "{text}");
}

/// `[server] environment = "production"`: a provider key from the environment, a weak admin key
/// from the environment and the mock provider are each named — in `STATUS=`, on `/health` (only
/// that it is unsafe for anonymous callers, the reasons for admins) and by `tappass doctor`
/// with its fix. In development nothing is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_unsafe_is_reported_everywhere() {
    let (_dir, path, sock) = notify_socket();
    let upstream = Upstream::start(&[]);
    let weak = "admin-key-123";
    let opts = GatewayOpts::new(Db::Sqlite, &upstream)
        .config("[server]\nenvironment = \"production\"\n")
        .env("NOTIFY_SOCKET", path.to_str().unwrap())
        .env("TAPPASS_ADMIN_API_KEY", weak);
    let mut gw = Gateway::start(opts).await;

    let mut seen = Vec::new();
    collect(&sock, &mut seen, |s| count(s, "READY=1") == 1);
    let ready = seen.iter().find(|m| m.contains("READY=1")).unwrap();
    assert!(
        ready.contains(
            "PRODUCTION UNSAFE: the anthropic provider key comes from the process environment"
        ) && ready.contains("the admin key comes from the process environment")
            && ready.contains("mock provider is enabled"),
        "{ready}"
    );
    assert!(!ready.contains(weak), "the key itself: {ready}");

    let public: serde_json::Value = reqwest::get(format!("{}/health", gw.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(public["environment"], "production", "{public}");
    assert_eq!(public["production_unsafe"], true, "{public}");
    assert!(public.get("details").is_none(), "{public}");
    let (_, admin) = gw.get("/health", weak).await;
    let kinds: Vec<&str> = admin["details"]["production_unsafe"]
        .as_array()
        .unwrap_or_else(|| panic!("{admin}"))
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    for kind in ["secret", "weak_admin_key", "mock_provider"] {
        assert!(kinds.contains(&kind), "{kind}: {admin}");
    }

    let listen = format!("127.0.0.1:{}", gw.port);
    let config = gw.config_path();
    let on_gw = |command: &str, env: &[(&str, &str)]| {
        let args = [
            command,
            "--config",
            config.to_str().unwrap(),
            "--state-dir",
            gw.state_dir.to_str().unwrap(),
        ];
        tappass(&args, env)
    };
    let (code, text) = on_gw(
        "doctor",
        &[
            ("TAPPASS_SERVER__LISTEN", &listen),
            ("TAPPASS_ADMIN_API_KEY", weak),
        ],
    );
    assert_eq!(code, Some(1), "{text}");
    // The monitor (no admin key): that it is unsafe, and where to look.
    let (code, report) = on_gw("health", &[("TAPPASS_SERVER__LISTEN", &listen)]);
    assert_ne!(code, Some(0), "{report}");
    assert!(
        report.contains("warn  production") && report.contains("sudo tappass doctor"),
        "{report}"
    );
    assert!(
        text.contains("FAIL  production     PRODUCTION UNSAFE: the openai provider key comes from the process environment")
            && text.contains("openai-api-key")
            && text.contains("weak")
            && text.contains("mock_provider = false"),
        "{text}"
    );

    // Development (the built-in default): the same set-up reports nothing.
    gw.sigterm().0.wait().unwrap();
    gw.opts.config = Some(String::new());
    gw.spawn().await;
    let public: serde_json::Value = reqwest::get(format!("{}/health", gw.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&public["environment"], &public["production_unsafe"]),
        (&serde_json::json!("development"), &serde_json::json!(false)),
        "{public}"
    );
}
