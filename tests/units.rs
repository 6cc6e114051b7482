//! The packaged systemd units (`systemd/`): `systemd-analyze verify` accepts them without a
//! warning, and `systemd-analyze security --offline=yes` scores them at or below the exposure
//! levels in docs/hardening.md (tappass.service ≤ 1.1, companion services ≤ 2.0).
//!
//! Needs `systemd-analyze` (systemd ≥ 250 for `--offline=`), not a running systemd. Without it
//! the tests print `SKIP: …` on a developer machine and fail under `CI=true`.
//!
//! `verify` checks that ExecStart='s binary exists, and /usr/bin/tappass does not on a build
//! machine. So the units are verified inside a scratch root (`--root=`): the unit files copied
//! verbatim into its /etc/systemd/system, the host's unit directory (for sysinit.target and the
//! other default dependencies), this build's `tappass` binary as /usr/bin/tappass and `kill` as
//! /bin/kill (ExecReload=).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Every unit file shipped in `systemd/`.
const UNITS: [&str; 6] = [
    "tappass.service",
    "tappass.socket",
    "tappass-health.service",
    "tappass-health.timer",
    "tappass-backup.service",
    "tappass-backup.timer",
];

/// Drop-in examples shipped in `systemd/dropins/`, installed as `tappass.service.d/<name>.conf`.
const DROPINS: [&str; 3] = [
    "credentials.conf.example",
    "ip-allowlist.conf.example",
    "root-directory.conf.example",
];

const MAX_EXPOSURE_DAEMON: f64 = 1.1;
const MAX_EXPOSURE_COMPANION: f64 = 2.0;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn unit_path(name: &str) -> PathBuf {
    repo().join("systemd").join(name)
}

/// `systemd-analyze` with output meant for parsing: no pager, no colours.
fn analyze() -> Command {
    let mut c = Command::new("systemd-analyze");
    c.env("SYSTEMD_PAGER", "")
        .env("SYSTEMD_COLORS", "0")
        .env("SYSTEMD_LOG_COLOR", "0")
        .env("SYSTEMD_LOG_LOCATION", "0")
        .arg("--no-pager");
    c
}

/// True when a usable `systemd-analyze` (≥ 250) is present. Otherwise prints SKIP and returns
/// false on a developer machine, and panics under `CI=true`.
fn have_systemd_analyze(test: &str) -> bool {
    let why = match Command::new("systemd-analyze").arg("--version").output() {
        Err(e) => format!("systemd-analyze not runnable ({e})"),
        Ok(out) if !out.status.success() => "systemd-analyze --version failed".to_string(),
        Ok(out) => {
            // "systemd 252 (252.39-1~deb12u2)"
            let text = String::from_utf8_lossy(&out.stdout);
            let version = text
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u32>().ok());
            match version {
                Some(v) if v >= 250 => return true,
                Some(v) => format!("systemd-analyze {v} is older than 250 (no --offline=)"),
                None => format!("cannot read the systemd version from {text:?}"),
            }
        }
    };
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{test}: {why}; CI must run this test (install systemd)");
    }
    eprintln!("SKIP: {test}: {why}");
    false
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Hard link `from` to `to` (cheap for a large binary), or copy it when they are on different
/// file systems.
fn link_or_copy(from: &Path, to: &Path) {
    if fs::hard_link(from, to).is_err() {
        fs::copy(from, to)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A scratch root for `systemd-analyze --root=`: our units in /etc/systemd/system (plus the given
/// drop-ins for tappass.service), the host's units in /usr/lib/systemd/system, /usr/bin/tappass
/// and /bin/kill.
fn scratch_root(dropins: &[&str]) -> tempfile::TempDir {
    // Inside the target directory, so the binary can be hard-linked rather than copied.
    let root = tempfile::Builder::new()
        .prefix("units-root")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    let r = root.path();

    let etc = r.join("etc/systemd/system");
    fs::create_dir_all(&etc).unwrap();
    for unit in UNITS {
        fs::copy(unit_path(unit), etc.join(unit)).unwrap();
    }
    if !dropins.is_empty() {
        let d = etc.join("tappass.service.d");
        fs::create_dir_all(&d).unwrap();
        for name in dropins {
            let conf = name.trim_end_matches(".example");
            fs::copy(unit_path(&format!("dropins/{name}")), d.join(conf)).unwrap();
        }
    }

    // Default dependencies (sysinit.target, sockets.target, …) come from the host. Regular files
    // only: symlinks there are absolute and would resolve inside the scratch root.
    let lib = r.join("usr/lib/systemd/system");
    fs::create_dir_all(&lib).unwrap();
    for host in ["/usr/lib/systemd/system", "/lib/systemd/system"] {
        let Ok(entries) = fs::read_dir(host) else {
            continue;
        };
        for entry in entries.flatten() {
            let is_file = entry.file_type().map(|t| t.is_file()).unwrap_or(false);
            let dest = lib.join(entry.file_name());
            if is_file && !dest.exists() {
                fs::copy(entry.path(), dest).unwrap();
            }
        }
    }

    let bin = r.join("usr/bin");
    fs::create_dir_all(&bin).unwrap();
    link_or_copy(
        Path::new(env!("CARGO_BIN_EXE_tappass")),
        &bin.join("tappass"),
    );

    // ExecReload=/bin/kill (procps on Debian). Only its existence is checked.
    fs::create_dir_all(r.join("bin")).unwrap();
    let kill = r.join("bin/kill");
    match ["/bin/kill", "/usr/bin/kill"]
        .iter()
        .find(|p| Path::new(p).is_file())
    {
        Some(host_kill) => {
            fs::copy(host_kill, &kill).unwrap();
        }
        None => fs::write(&kill, "#!/bin/sh\nexit 1\n").unwrap(),
    }
    make_executable(&kill);
    // ExecStartPre=+/bin/sh of tappass-health.service (the units' states, read as root).
    let sh = r.join("bin/sh");
    fs::copy("/bin/sh", &sh).unwrap();
    make_executable(&sh);
    root
}

/// Runs `systemd-analyze verify` on all units in `root` and fails on a non-zero exit status or on
/// any message about our units (it exits 0 after "Unknown key …" / "Failed to parse …" warnings
/// in some sections, so its output is checked too).
fn verify_in(root: &Path, what: &str) {
    let out = analyze()
        .arg("verify")
        .arg(format!("--root={}", root.display()))
        .arg("--man=no")
        // Judge our units, not the host's units they pull in.
        .arg("--recursive-errors=no")
        .args(UNITS)
        .output()
        .expect("run systemd-analyze verify");
    let (stdout, stderr) = text(&out);
    let ours: Vec<&str> = stdout
        .lines()
        .chain(stderr.lines())
        .filter(|l| l.contains("tappass"))
        .collect();
    let others: Vec<&str> = stderr.lines().filter(|l| !l.contains("tappass")).collect();
    if !others.is_empty() {
        eprintln!("systemd-analyze verify, messages about other units (not ours, ignored):");
        for l in &others {
            eprintln!("  {l}");
        }
    }
    assert!(
        out.status.success() && ours.is_empty(),
        "systemd-analyze verify ({what}) exited with {} and reported:\n{}\n\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status,
        ours.join("\n"),
    );
}

/// `systemd-analyze security --offline=yes` on `unit` (a path, or a name with `--root=`): the
/// overall exposure level and the deductions (lines marked ✗ with a non-zero exposure).
fn exposure(unit: &str, root: Option<&Path>) -> (f64, String) {
    let mut cmd = analyze();
    cmd.arg("security").arg("--offline=yes");
    if let Some(root) = root {
        cmd.arg(format!("--root={}", root.display()));
    }
    let out = cmd
        .arg(unit)
        .output()
        .expect("run systemd-analyze security");
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "systemd-analyze security --offline=yes {unit} exited with {}:\n{stdout}\n{stderr}",
        out.status
    );
    let name = Path::new(unit).file_name().unwrap().to_string_lossy();
    // "→ Overall exposure level for tappass.service: 1.1 OK 🙂" ("->" without UTF-8).
    let marker = format!("Overall exposure level for {name}: ");
    let score = stdout
        .lines()
        .find_map(|l| l.split_once(&marker).map(|(_, rest)| rest.to_owned()))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no {marker:?} line in:\n{stdout}\n{stderr}"));
    let deductions = stdout
        .lines()
        .filter(|l| l.starts_with('✗') || l.starts_with('-'))
        .collect::<Vec<_>>()
        .join("\n");
    (score, deductions)
}

fn assert_exposure(unit_file: &str, max: f64) {
    let (score, deductions) = exposure(unit_path(unit_file).to_str().unwrap(), None);
    eprintln!("{unit_file}: exposure {score}\n{deductions}");
    assert!(
        score <= max,
        "{unit_file}: exposure {score} > {max} (update the unit, or docs/hardening.md and this \
         test with the reason). Deductions:\n{deductions}"
    );
}

fn unit_text(name: &str) -> String {
    fs::read_to_string(unit_path(name)).unwrap()
}

/// The `Key=value` lines of a unit file (comments and blank lines removed).
fn settings(name: &str) -> Vec<String> {
    unit_text(name)
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn units_pass_systemd_analyze_verify_without_warnings() {
    if !have_systemd_analyze("units_pass_systemd_analyze_verify_without_warnings") {
        return;
    }
    let root = scratch_root(&[]);
    verify_in(root.path(), "packaged units");
}

#[test]
fn dropin_examples_pass_systemd_analyze_verify_without_warnings() {
    if !have_systemd_analyze("dropin_examples_pass_systemd_analyze_verify_without_warnings") {
        return;
    }
    let root = scratch_root(&DROPINS);
    verify_in(root.path(), "with the drop-in examples installed");
}

#[test]
fn tappass_service_exposure_is_at_most_1_1() {
    if !have_systemd_analyze("tappass_service_exposure_is_at_most_1_1") {
        return;
    }
    assert_exposure("tappass.service", MAX_EXPOSURE_DAEMON);
}

#[test]
fn tappass_health_service_exposure_is_at_most_2_0() {
    if !have_systemd_analyze("tappass_health_service_exposure_is_at_most_2_0") {
        return;
    }
    assert_exposure("tappass-health.service", MAX_EXPOSURE_COMPANION);
}

#[test]
fn tappass_backup_service_exposure_is_at_most_2_0() {
    if !have_systemd_analyze("tappass_backup_service_exposure_is_at_most_2_0") {
        return;
    }
    assert_exposure("tappass-backup.service", MAX_EXPOSURE_COMPANION);
}

/// docs/hardening.md and the ip-allowlist drop-in promise 1.0 once the allow list names an
/// upstream address.
#[test]
fn tappass_service_with_ip_allowlist_dropin_exposure_is_at_most_1_0() {
    if !have_systemd_analyze("tappass_service_with_ip_allowlist_dropin_exposure_is_at_most_1_0") {
        return;
    }
    let root = scratch_root(&["ip-allowlist.conf.example"]);
    // As an operator would fill it in: one upstream prefix besides localhost.
    let conf = root
        .path()
        .join("etc/systemd/system/tappass.service.d/ip-allowlist.conf");
    let mut text = fs::read_to_string(&conf).unwrap();
    text.push_str("IPAddressAllow=198.51.100.0/24\n");
    fs::write(&conf, text).unwrap();
    let (score, deductions) = exposure("tappass.service", Some(root.path()));
    eprintln!("tappass.service + ip-allowlist.conf: exposure {score}\n{deductions}");
    assert!(score <= 1.0, "exposure {score} > 1.0:\n{deductions}");
}

/// docs/hardening.md and the root-directory drop-in promise 1.0.
#[test]
fn tappass_service_with_root_directory_dropin_exposure_is_at_most_1_0() {
    if !have_systemd_analyze("tappass_service_with_root_directory_dropin_exposure_is_at_most_1_0") {
        return;
    }
    let root = scratch_root(&["root-directory.conf.example"]);
    let (score, deductions) = exposure("tappass.service", Some(root.path()));
    eprintln!("tappass.service + root-directory.conf: exposure {score}\n{deductions}");
    assert!(score <= 1.0, "exposure {score} > 1.0:\n{deductions}");
}

/// systemd 252 fails a unit whose LoadCredential= source is missing: credentials belong in the
/// drop-in, never in the packaged units.
#[test]
fn packaged_units_reference_no_credential() {
    for unit in UNITS {
        for line in settings(unit) {
            assert!(
                !line.starts_with("LoadCredential") && !line.starts_with("SetCredential"),
                "{unit}: `{line}` belongs in systemd/dropins/credentials.conf.example"
            );
        }
    }
    let dropin = fs::read_to_string(unit_path("dropins/credentials.conf.example")).unwrap();
    for name in [
        "admin-api-key",
        "openai-api-key",
        "anthropic-api-key",
        "redis-url",
    ] {
        assert!(
            dropin.contains(&format!("LoadCredentialEncrypted={name}:")),
            "credentials.conf.example does not show the credential {name}"
        );
    }
}

/// On systemd 252 the landlock calls are not in @system-service: without an explicit allow the
/// daemon's landlock would get EPERM and silently enforce nothing. The allow list must come first
/// (it sets the default action) and no deny line may name a landlock call.
#[test]
fn tappass_service_syscall_filter_allows_landlock() {
    let filters: Vec<String> = settings("tappass.service")
        .into_iter()
        .filter_map(|l| l.strip_prefix("SystemCallFilter=").map(str::to_owned))
        .collect();
    assert_eq!(
        filters.first().map(String::as_str),
        Some("@system-service"),
        "the first SystemCallFilter= must be the allow list: {filters:?}"
    );
    let allowed: Vec<&str> = filters
        .iter()
        .filter(|f| !f.starts_with('~'))
        .flat_map(|f| f.split_whitespace())
        .collect();
    for call in [
        "landlock_create_ruleset",
        "landlock_add_rule",
        "landlock_restrict_self",
    ] {
        assert!(allowed.contains(&call), "{call} not allowed: {filters:?}");
        for deny in filters.iter().filter(|f| f.starts_with('~')) {
            assert!(
                !deny
                    .split_whitespace()
                    .any(|w| w.trim_start_matches('~') == call),
                "{call} denied by SystemCallFilter={deny}"
            );
        }
    }
    // The groups denied must not contain them either (checked against this systemd's tables).
    if have_systemd_analyze("tappass_service_syscall_filter_allows_landlock") {
        for deny in filters.iter().filter(|f| f.starts_with('~')) {
            for group in deny.trim_start_matches('~').split_whitespace() {
                let out = analyze()
                    .arg("syscall-filter")
                    .arg(group)
                    .output()
                    .expect("run systemd-analyze syscall-filter");
                let (stdout, _) = text(&out);
                assert!(
                    !stdout.contains("landlock"),
                    "{group} contains a landlock call:\n{stdout}"
                );
            }
        }
    }
}

/// The socket is optional (the daemon binds server.listen itself without it), and the packaged
/// daemon unit carries no IP allow list (the providers' addresses are the operator's to name, in
/// the ip-allowlist drop-in).
#[test]
fn tappass_service_does_not_require_the_socket_or_an_ip_allowlist() {
    for line in settings("tappass.service") {
        for key in ["Requires=", "BindsTo=", "Requisite="] {
            assert!(
                !(line.starts_with(key) && line.contains("tappass.socket")),
                "tappass.service: `{line}` makes the optional socket mandatory"
            );
        }
        assert!(
            !line.starts_with("IPAddressDeny=") && !line.starts_with("IPAddressAllow="),
            "tappass.service: `{line}` belongs in systemd/dropins/ip-allowlist.conf.example"
        );
    }
}
