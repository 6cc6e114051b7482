//! TapPass under a real systemd: boots bookworm in systemd-nspawn (see tests/e2e/mod.rs), copies
//! in the debug binaries and the repo's unit files, and checks, step by step, what issue 4's
//! "Done when" asks of the booted systemd: confinement seen in /proc, credentials through a
//! drop-in (and nowhere else), structured journal fields, `tappass sandbox check` under the
//! unit's properties, the watchdog (alive, and a hung daemon killed and restarted), reload,
//! graceful stop, the health service and its timer.
//!
//! One container for the whole file; the steps run in order and each reports PASS/FAIL with the
//! relevant journal. All steps run even when one fails; the test fails at the end with a summary.
//! Needs root, systemd-nspawn, debootstrap and zstd: otherwise `SKIP` (a failure under CI=true).

mod e2e;

use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use serde_json::Value;

use e2e::container::Container;
use e2e::tappass::{self as tp, LISTEN};
use e2e::{parse_timespan, secs, wait_for, BootOptions, RootfsSpec};

const UNIT: &str = "tappass.service";
const UNIT_DIR: &str = "/usr/lib/systemd/system";
const DROPIN_DIR: &str = "/etc/systemd/system/tappass.service.d";
const CRED_DIR: &str = "/etc/tappass/credentials";
const AGENT_ID: &str = "e2e-agent";
const SANDBOX_UNIT: &str = "tappass-sandbox-check.service";
const HEALTH_UNIT: &str = "tappass-health.service";
const HEALTH_TIMER: &str = "tappass-health.timer";

struct Run {
    ct: Container,
    provider_key: String,
    admin_key: String,
    agent_key: Option<String>,
    results: Vec<(String, Duration, Result<(), String>)>,
}

impl Run {
    /// Runs one step, catching panics, and records the outcome.
    fn step(&mut self, name: &str, f: impl FnOnce(&mut Run) -> Result<(), String>) {
        eprintln!();
        e2e::log(format!("=== STEP {name}"));
        let t = Instant::now();
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| f(self))).unwrap_or_else(|p| {
            Err(format!(
                "panicked: {}",
                p.downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            ))
        });
        let took = t.elapsed();
        match &r {
            Ok(()) => eprintln!("PASS  {name} ({:.1}s)", took.as_secs_f64()),
            Err(e) => eprintln!("FAIL  {name} ({:.1}s)\n{e}", took.as_secs_f64()),
        }
        self.results.push((name.to_string(), took, r));
    }

    fn agent_key(&self) -> Result<String, String> {
        self.agent_key
            .clone()
            .ok_or_else(|| "no agent key: the credentials step did not create the agent".into())
    }

    /// Makes sure tappass is running and answering (steps that need it call this first, so one
    /// failed step does not cascade).
    fn ensure_running(&self) -> Result<(), String> {
        if self.ct.active_state(UNIT) != "active" {
            let _ = self.ct.systemctl(&["reset-failed", UNIT]);
            self.ct.start_unit("start", UNIT)?;
        }
        tp::wait_listening(&self.ct, Duration::from_secs(30))
            .map_err(|e| format!("{e}\n{}", self.ct.diagnose(UNIT)))
    }

    fn main_pid(&self) -> Result<u32, String> {
        match self.ct.main_pid(UNIT) {
            0 => Err(format!("{UNIT} has no MainPID\n{}", self.ct.diagnose(UNIT))),
            p => Ok(p),
        }
    }
}

/// Collects problems; `Err` with all of them (plus context) when any.
#[derive(Default)]
struct Problems(Vec<String>);

impl Problems {
    fn check(&mut self, ok: bool, what: impl Into<String>) {
        if !ok {
            self.0.push(what.into());
        }
    }

    fn finish(self, context: impl FnOnce() -> String) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(format!("- {}\n{}", self.0.join("\n- "), context()))
        }
    }
}

#[test]
fn tappass_under_booted_systemd() {
    if !e2e::preflight() {
        return;
    }
    let t0 = Instant::now();
    let ct = Container::boot(&RootfsSpec::UNITS, &BootOptions::default())
        .unwrap_or_else(|e| panic!("booting the container failed: {e}"));
    e2e::log(format!(
        "rootfs ready and container booted after {}",
        secs(t0)
    ));

    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let mut run = Run {
        ct,
        provider_key: format!("sk-upstream-e2e-{suffix}"),
        admin_key: format!("tp_admin_e2e_{}", &suffix[..24]),
        agent_key: None,
        results: Vec::new(),
    };

    // ---- setup: anything failing here is a harness (or build) problem: stop right away.
    let t = Instant::now();
    let units = tp::install_direct(&run.ct, UNIT_DIR)
        .unwrap_or_else(|e| panic!("installing binaries and units failed: {e}"));
    e2e::log(format!(
        "installed binaries and units {units:?} in {}",
        secs(t)
    ));
    tp::write_config(&run.ct, &tp::config_toml(""))
        .unwrap_or_else(|e| panic!("writing the config failed: {e}"));
    let check = run.ct.exec(&[
        "/usr/bin/tappass",
        "config",
        "check",
        "/etc/tappass/tappass.toml",
    ]);
    e2e::log(format!("tappass config check: {check}"));
    tp::start_fake_upstream(&run.ct, 0, &run.provider_key)
        .unwrap_or_else(|e| panic!("starting the fake upstream failed: {e}"));
    e2e::log(format!("setup done in {}", secs(t)));

    run.step(
        "1 start: active, CapEff 0, NoNewPrivs 1, Seccomp 2, dynamic uid",
        step_start,
    );
    run.step(
        "2 credentials via drop-in: used, and in no environ/journal/show",
        step_credentials,
    );
    run.step(
        "3 journal: REQUEST_ID AGENT_ID DECISION STEP LATENCY_MS fields",
        step_journal_fields,
    );
    run.step(
        "4 tappass sandbox check under the unit's properties",
        step_sandbox_check,
    );
    run.step(
        "5 watchdog: pings keep it alive; a hung daemon is killed and restarted",
        step_watchdog,
    );
    run.step(
        "6 systemctl reload applies a config change (same MainPID)",
        step_reload,
    );
    run.step(
        "7 systemctl stop lets an in-flight request finish",
        step_stop_drains,
    );
    run.step(
        "8 tappass-health.service (the monitor) succeeds on a healthy host; its timer listed",
        step_health,
    );
    run.step(
        "9 landlock refused: loudly degraded, fatal with [sandbox] require",
        step_landlock_refused,
    );

    let Run { ct, results, .. } = run;
    let shutdown = ct.shutdown();
    eprintln!(
        "\n=== SUMMARY (whole test {}, power-off {:.1}s)",
        secs(t0),
        shutdown.as_secs_f64()
    );
    for (name, took, r) in &results {
        let verdict = if r.is_ok() { "PASS" } else { "FAIL" };
        eprintln!("{verdict}  {name} ({:.1}s)", took.as_secs_f64());
    }
    let failed: Vec<String> = results
        .iter()
        .filter_map(|(n, _, r)| r.as_ref().err().map(|e| format!("## {n}\n{e}")))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} steps failed:\n\n{}",
        failed.len(),
        results.len(),
        failed.join("\n\n")
    );
}

// ---- 1 ---------------------------------------------------------------------------------------

fn step_start(run: &mut Run) -> Result<(), String> {
    let ct = &run.ct;
    ct.start_unit("start", UNIT)?;
    let pid = run.main_pid()?;
    let st = ct.proc_status(pid)?;
    let get = |k: &str| st.get(k).cloned().unwrap_or_default();
    eprintln!(
        "MainPID {pid}: Uid {} | Gid {} | CapEff {} | CapBnd {} | NoNewPrivs {} | Seccomp {}",
        get("Uid"),
        get("Gid"),
        get("CapEff"),
        get("CapBnd"),
        get("NoNewPrivs"),
        get("Seccomp")
    );
    let uid: u32 = get("Uid")
        .split_whitespace()
        .next()
        .and_then(|u| u.parse().ok())
        .unwrap_or(0);
    let who = ct.exec(&["getent", "passwd", &uid.to_string()]);
    eprintln!("getent passwd {uid}: {}", who.trimmed());
    let mut p = Problems::default();
    p.check(
        get("CapEff") == "0000000000000000",
        format!("CapEff is {:?}, expected 0000000000000000", get("CapEff")),
    );
    p.check(
        get("NoNewPrivs") == "1",
        format!("NoNewPrivs is {:?}, expected 1", get("NoNewPrivs")),
    );
    p.check(
        get("Seccomp") == "2",
        format!("Seccomp is {:?}, expected 2 (filter)", get("Seccomp")),
    );
    p.check(
        (61184..=65519).contains(&uid),
        format!("Uid {uid} is not a dynamic uid (61184..65519)"),
    );
    // The unit's resource bounds are in force (docs/hardening.md, "Memory and tasks").
    for (prop, want) in [
        ("MemoryHigh", "805306368"),
        ("MemoryMax", "1073741824"),
        ("TasksMax", "1024"),
    ] {
        let got = ct.show(UNIT, prop);
        p.check(got == want, format!("{prop}={got}, expected {want}"));
    }
    p.finish(|| ct.diagnose(UNIT))
}

// ---- 2 ---------------------------------------------------------------------------------------

fn step_credentials(run: &mut Run) -> Result<(), String> {
    let ct = &run.ct;
    ct.exec(&["install", "-d", "-m", "0700", CRED_DIR])
        .check()?;
    ct.write_file(
        &format!("{CRED_DIR}/openai-api-key"),
        format!("{}\n", run.provider_key).as_bytes(),
        0o600,
    )?;
    ct.write_file(
        &format!("{CRED_DIR}/admin-api-key"),
        format!("{}\n", run.admin_key).as_bytes(),
        0o600,
    )?;
    let dropin = format!(
        "[Service]\nLoadCredential=openai-api-key:{CRED_DIR}/openai-api-key\n\
         LoadCredential=admin-api-key:{CRED_DIR}/admin-api-key\n"
    );
    ct.write_file(
        &format!("{DROPIN_DIR}/credentials.conf"),
        dropin.as_bytes(),
        0o644,
    )?;
    ct.daemon_reload()?;
    ct.start_unit("restart", UNIT)?;
    tp::wait_listening(ct, Duration::from_secs(30))
        .map_err(|e| format!("{e}\n{}", ct.diagnose(UNIT)))?;
    let pid = run.main_pid()?;

    // The admin key from the credential works.
    let agent_key = tp::create_agent(ct, &run.admin_key, AGENT_ID).map_err(|e| {
        format!(
            "admin API with the credential `admin-api-key`: {e}\n{}",
            ct.diagnose(UNIT)
        )
    })?;
    run.agent_key = Some(agent_key.clone());

    // The provider key from the credential reaches the upstream (which requires it).
    let r = tp::chat(ct, &agent_key, "hello from the e2e test")?;
    let mut p = Problems::default();
    p.check(
        r.status == 200,
        format!(
            "chat through the fake upstream answered {} (expected 200; the upstream requires the \
             provider key from credential `openai-api-key`): {}",
            r.status, r.body
        ),
    );
    if r.status == 200 {
        let content = r.json()["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        p.check(
            content.contains("echo: hello from the e2e test"),
            format!("unexpected answer content {content:?}"),
        );
    }
    if let Ok(last) = tp::http(
        ct,
        "GET",
        &format!("http://{}/debug/last-request", tp::UPSTREAM_LISTEN),
        None,
        None,
    ) {
        let auth = last.json()["headers"]["authorization"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        p.check(
            auth == format!("Bearer {}", run.provider_key),
            "the upstream did not receive `Authorization: Bearer <credential openai-api-key>`",
        );
    }

    // … and appears nowhere else.
    let secrets = [
        ("provider key (openai-api-key)", run.provider_key.as_str()),
        ("admin key (admin-api-key)", run.admin_key.as_str()),
    ];
    let environ = ct.read_file(&format!("/proc/{pid}/environ"))?;
    let environ = environ.replace('\0', "\n");
    p.check(
        environ.contains("CREDENTIALS_DIRECTORY="),
        format!("/proc/{pid}/environ has no CREDENTIALS_DIRECTORY (LoadCredential not applied?):\n{environ}"),
    );
    let journal = ct.exec(&["journalctl", "-o", "json", "--no-pager"]);
    p.check(
        journal.ok() && journal.stdout.len() > 100,
        format!("journalctl -o json: {journal}"),
    );
    let show = ct.systemctl(&["show", UNIT]);
    p.check(show.ok(), format!("systemctl show: {show}"));
    for (what, value) in secrets {
        p.check(
            !environ.contains(value),
            format!("the {what} is in /proc/{pid}/environ"),
        );
        p.check(
            !journal.stdout.contains(value),
            format!(
                "the {what} is in the journal (journalctl -o json), e.g.:\n{}",
                journal
                    .stdout
                    .lines()
                    .filter(|l| l.contains(value))
                    .take(3)
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        );
        p.check(
            !show.stdout.contains(value),
            format!("the {what} is in `systemctl show {UNIT}`"),
        );
    }
    eprintln!(
        "checked: environ ({} vars), journal ({} entries), systemctl show ({} properties)",
        environ.lines().count(),
        journal.stdout.lines().count(),
        show.stdout.lines().count()
    );
    p.finish(|| ct.diagnose(UNIT))
}

// ---- 3 ---------------------------------------------------------------------------------------

const JOURNAL_FIELDS: [&str; 5] = ["REQUEST_ID", "AGENT_ID", "DECISION", "STEP", "LATENCY_MS"];

fn step_journal_fields(run: &mut Run) -> Result<(), String> {
    run.ensure_running()?;
    let key = run.agent_key()?;
    let ct = &run.ct;
    let r = tp::chat(ct, &key, "journal fields please")?;
    if r.status != 200 {
        return Err(format!(
            "chat answered {} (expected 200): {}",
            r.status, r.body
        ));
    }
    let rid = r
        .headers
        .get("x-request-id")
        .cloned()
        .ok_or_else(|| format!("no x-request-id header in the answer: {:?}", r.headers))?;
    eprintln!("request id {rid}");

    let entries = |ct: &Container| -> Vec<serde_json::Map<String, Value>> {
        ct.exec(&["journalctl", "-u", UNIT, "-o", "json", "--no-pager"])
            .stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter_map(|v| v.as_object().cloned())
            .collect()
    };
    let field = |e: &serde_json::Map<String, Value>, k: &str| -> Option<String> {
        e.get(k).and_then(|v| v.as_str().map(str::to_string))
    };
    // Journal writes are asynchronous: give it a few seconds.
    let found = wait_for(Duration::from_secs(10), Duration::from_millis(300), || {
        entries(ct).into_iter().find(|e| {
            field(e, "REQUEST_ID").as_deref() == Some(rid.as_str())
                && JOURNAL_FIELDS.iter().all(|k| e.contains_key(*k))
        })
    });
    match found {
        Ok(e) => {
            let shown: Vec<String> = JOURNAL_FIELDS
                .iter()
                .map(|k| format!("{k}={}", field(&e, k).unwrap_or_default()))
                .collect();
            eprintln!("journal entry: {}", shown.join(" "));
            let agent = field(&e, "AGENT_ID").unwrap_or_default();
            if agent != AGENT_ID {
                return Err(format!(
                    "the entry for request {rid} has AGENT_ID={agent:?}, expected {AGENT_ID:?}"
                ));
            }
            Ok(())
        }
        Err(_) => {
            // Say precisely what is there instead.
            let all = entries(ct);
            let mentioning: Vec<String> = all
                .iter()
                .filter(|e| Value::Object((*e).clone()).to_string().contains(&rid))
                .map(|e| {
                    let own: Vec<&str> = e
                        .keys()
                        .filter(|k| !k.starts_with('_') && !k.starts_with("SYSLOG"))
                        .map(String::as_str)
                        .collect();
                    format!(
                        "fields {own:?}; MESSAGE={:?}",
                        field(e, "MESSAGE").unwrap_or_default()
                    )
                })
                .collect();
            Err(format!(
                "no journal entry of {UNIT} has REQUEST_ID={rid} together with all of \
                 {JOURNAL_FIELDS:?} (searched {} entries). Entries mentioning the request id: {}\n\
                 {}",
                all.len(),
                if mentioning.is_empty() {
                    "none".to_string()
                } else {
                    format!("\n  {}", mentioning.join("\n  "))
                },
                ct.diagnose(UNIT)
            ))
        }
    }
}

// ---- 4 ---------------------------------------------------------------------------------------

fn step_sandbox_check(run: &mut Run) -> Result<(), String> {
    let ct = &run.ct;
    let text = std::fs::read_to_string(tp::repo_dir().join("systemd").join(UNIT))
        .map_err(|e| format!("reading systemd/{UNIT}: {e}"))?;
    let unit = tp::derive_oneshot(
        &text,
        "TapPass sandbox check under tappass.service's properties (e2e)",
        "/usr/bin/tappass sandbox check",
    );
    ct.write_file(
        &format!("/etc/systemd/system/{SANDBOX_UNIT}"),
        unit.as_bytes(),
        0o644,
    )?;
    // The same credentials as the daemon (so $CREDENTIALS_DIRECTORY exists for the check too).
    if let Ok(cred) = ct.read_file(&format!("{DROPIN_DIR}/credentials.conf")) {
        ct.write_file(
            &format!("/etc/systemd/system/{SANDBOX_UNIT}.d/credentials.conf"),
            cred.as_bytes(),
            0o644,
        )?;
    }
    ct.daemon_reload()?;
    let cursor = ct.journal_cursor();
    let out = ct.exec_timeout(
        &["systemctl", "start", SANDBOX_UNIT],
        Duration::from_secs(120),
    );
    let result = ct.show(SANDBOX_UNIT, "Result");
    let status = ct.show(SANDBOX_UNIT, "ExecMainStatus");
    let journal = ct.journal_after(SANDBOX_UNIT, &cursor, "cat");
    eprintln!("--- journal of {SANDBOX_UNIT}:\n{}", journal.trim_end());
    if out.ok() && result == "success" && status == "0" {
        return Ok(());
    }
    Err(format!(
        "{SANDBOX_UNIT} failed: Result={result}, ExecMainStatus={status}; {out}\n\
         --- derived unit:\n{unit}\n--- its journal:\n{journal}"
    ))
}

// ---- 5 ---------------------------------------------------------------------------------------

fn step_watchdog(run: &mut Run) -> Result<(), String> {
    run.ensure_running()?;
    let ct = &run.ct;
    let r = watchdog_checks(run);
    // Always leave the real unit behind.
    let _ = ct.remove(&format!("{DROPIN_DIR}/watchdog.conf"));
    let _ = ct.remove(&format!("{DROPIN_DIR}/hang.conf"));
    let _ = ct.daemon_reload();
    let _ = ct.systemctl(&["reset-failed", UNIT]);
    let restored = ct.start_unit("restart", UNIT);
    r?;
    restored
}

fn watchdog_checks(run: &Run) -> Result<(), String> {
    let ct = &run.ct;
    let configured = ct.show(UNIT, "WatchdogUSec");
    let mut wd = parse_timespan(&configured)
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{UNIT} has no watchdog (WatchdogUSec={configured:?})"))?;
    if wd > Duration::from_secs(10) {
        ct.write_file(
            &format!("{DROPIN_DIR}/watchdog.conf"),
            b"[Service]\nWatchdogSec=3\n",
            0o644,
        )?;
        ct.daemon_reload()?;
        ct.start_unit("restart", UNIT)?;
        wd = parse_timespan(&ct.show(UNIT, "WatchdogUSec")).unwrap_or(wd);
        eprintln!("WatchdogSec {configured} shortened to {wd:?} by a drop-in for the test");
    }
    // (a) pings keep it alive.
    let pid = run.main_pid()?;
    let restarts = ct.show(UNIT, "NRestarts");
    let environ = ct
        .read_file(&format!("/proc/{pid}/environ"))
        .unwrap_or_default()
        .replace('\0', " ");
    let want = format!("WATCHDOG_USEC={}", wd.as_micros());
    if !environ.contains(&want) {
        return Err(format!("MainPID {pid} was not given {want}: {environ}"));
    }
    let nap = wd * 3;
    eprintln!("sleeping {nap:?} (3 × WatchdogSec) with MainPID {pid}");
    std::thread::sleep(nap);
    let (state, pid2, restarts2) = (
        ct.active_state(UNIT),
        ct.main_pid(UNIT),
        ct.show(UNIT, "NRestarts"),
    );
    if state != "active" || pid2 != pid || restarts2 != restarts {
        return Err(format!(
            "after {nap:?} with WatchdogSec={wd:?}: ActiveState={state}, MainPID {pid} -> {pid2}, \
             NRestarts {restarts} -> {restarts2} (the daemon is not sending WATCHDOG=1 at half \
             the interval?)\n{}",
            ct.diagnose(UNIT)
        ));
    }
    eprintln!("alive: same MainPID {pid}, NRestarts {restarts}");

    // (b) a hung daemon (test-only switch: no more WATCHDOG=1 after 1 s) is killed + restarted.
    ct.write_file(
        &format!("{DROPIN_DIR}/hang.conf"),
        b"[Service]\nEnvironment=TAPPASS_TEST_HANG_AFTER_SECS=1\nWatchdogSec=3\n",
        0o644,
    )?;
    ct.daemon_reload()?;
    ct.start_unit("restart", UNIT)?;
    let hung_pid = run.main_pid()?;
    let before: u64 = ct.show(UNIT, "NRestarts").parse().unwrap_or(0);
    let cursor = ct.journal_cursor();
    eprintln!("hang switch on: MainPID {hung_pid}, NRestarts {before}; waiting for the watchdog");
    let mut seen = String::new();
    let outcome = wait_for(Duration::from_secs(40), Duration::from_millis(500), || {
        let journal = ct.journal_after(UNIT, &cursor, "short-monotonic");
        let n: u64 = ct.show(UNIT, "NRestarts").parse().unwrap_or(0);
        let pid = ct.main_pid(UNIT);
        let state = ct.active_state(UNIT);
        seen =
            format!("NRestarts {before} -> {n}, MainPID {hung_pid} -> {pid}, ActiveState={state}");
        (journal.contains("Watchdog timeout")
            && n > before
            && pid != 0
            && pid != hung_pid
            && state == "active")
            .then_some(())
    });
    match outcome {
        Ok(()) => {
            eprintln!("watchdog killed the hung daemon and systemd restarted it: {seen}");
            Ok(())
        }
        Err(w) => Err(format!(
            "with TAPPASS_TEST_HANG_AFTER_SECS=1 and WatchdogSec=3, after {w:?}: expected \
             \"Watchdog timeout\" in the journal, NRestarts increased and a new active MainPID; \
             got {seen}\n--- journal since the restart:\n{}",
            ct.journal_after(UNIT, &cursor, "short-monotonic")
        )),
    }
}

// ---- 6 ---------------------------------------------------------------------------------------

fn config_reloads(run: &Run) -> Option<usize> {
    let r = tp::http(
        &run.ct,
        "GET",
        &tp::gateway_url("/audit?event_type=config_reloaded&limit=1000"),
        Some(&run.admin_key),
        None,
    )
    .ok()?;
    (r.status == 200).then(|| r.json()["events"].as_array().map_or(0, Vec::len))
}

fn step_reload(run: &mut Run) -> Result<(), String> {
    run.ensure_running()?;
    let key = run.agent_key()?;
    let ct = &run.ct;
    let pid = run.main_pid()?;
    for i in 0..2 {
        let r = tp::chat(ct, &key, "before the reload")?;
        if r.status != 200 {
            return Err(format!(
                "baseline chat {i} answered {} (expected 200): {}",
                r.status, r.body
            ));
        }
    }
    let reloads_before = config_reloads(run);
    let limited = tp::config_toml("\n[limits]\nwindow_secs = 3600\nagent_requests = 1\n");
    tp::write_config(ct, &limited)?;
    let out = ct.exec_timeout(&["systemctl", "reload", UNIT], Duration::from_secs(60));
    let mut p = Problems::default();
    p.check(out.ok(), format!("systemctl reload failed: {out}"));
    let (state, pid2) = (ct.active_state(UNIT), ct.main_pid(UNIT));
    p.check(
        state == "active" && pid2 == pid,
        format!(
            "after reload: ActiveState={state}, MainPID {pid} -> {pid2} (expected same, active)"
        ),
    );
    let a = tp::chat(ct, &key, "after the reload 1")?;
    let b = tp::chat(ct, &key, "after the reload 2")?;
    eprintln!(
        "with [limits] agent_requests = 1: chats answered {} and {}",
        a.status, b.status
    );
    p.check(
        b.status == 429,
        format!(
            "after reloading with [limits] agent_requests = 1, two chats answered {} and {} \
             (expected the second to be 429): {}",
            a.status, b.status, b.body
        ),
    );
    if let (Some(before), Some(after)) = (reloads_before, config_reloads(run)) {
        p.check(
            after > before,
            format!("no new config_reloaded audit event ({before} -> {after})"),
        );
    }
    // Back to the original configuration (the next steps need unlimited requests).
    tp::write_config(ct, &tp::config_toml(""))?;
    let out = ct.exec_timeout(&["systemctl", "reload", UNIT], Duration::from_secs(60));
    p.check(out.ok(), format!("second systemctl reload failed: {out}"));
    let c = tp::chat(ct, &key, "limits lifted again")?;
    p.check(
        c.status == 200,
        format!(
            "after reloading without [limits], a chat answered {}: {}",
            c.status, c.body
        ),
    );
    p.finish(|| ct.diagnose(UNIT))
}

// ---- 7 ---------------------------------------------------------------------------------------

fn step_stop_drains(run: &mut Run) -> Result<(), String> {
    run.ensure_running()?;
    let key = run.agent_key()?;
    let r = stop_drains(run, &key);
    // Restore a fast upstream and a running daemon for the next step.
    let restored = tp::start_fake_upstream(&run.ct, 0, &run.provider_key);
    r?;
    restored
}

fn stop_drains(run: &Run, key: &str) -> Result<(), String> {
    let ct = &run.ct;
    tp::start_fake_upstream(ct, 3000, &run.provider_key)?;
    let before = tp::upstream_requests(ct)?;
    let body = serde_json::json!({"model": tp::MODEL, "messages": [{"role": "user", "content": "slow one"}]});
    // The script holds the agent key, so it is on no command line (and not in the journal).
    let script = format!(
        "rm -f /var/tmp/e2e-inflight.*\n\
         curl -sS --max-time 60 -o /var/tmp/e2e-inflight.body -w '%{{http_code}}' \
         -H 'authorization: Bearer {key}' -H 'content-type: application/json' \
         --data-binary '{body}' http://{LISTEN}/v1/chat/completions \
         >/var/tmp/e2e-inflight.status 2>/var/tmp/e2e-inflight.err\n\
         echo $? >/var/tmp/e2e-inflight.done\n"
    );
    ct.write_file("/var/tmp/e2e-inflight.sh", script.as_bytes(), 0o700)?;
    ct.exec(&[
        "systemd-run",
        "--quiet",
        "--collect",
        "--unit=e2e-inflight",
        "/bin/sh",
        "/var/tmp/e2e-inflight.sh",
    ])
    .check()?;
    // Wait until the request is at the upstream (i.e. in flight in the gateway).
    wait_for(Duration::from_secs(5), Duration::from_millis(100), || {
        tp::upstream_requests(ct).ok().filter(|n| *n > before)
    })
    .map_err(|_| {
        format!(
            "the background request never reached the fake upstream; curl: {}",
            ct.read_file("/var/tmp/e2e-inflight.err")
                .unwrap_or_default()
        )
    })?;
    std::thread::sleep(Duration::from_millis(700));
    let t = Instant::now();
    let out = ct.exec_timeout(&["systemctl", "stop", UNIT], Duration::from_secs(90));
    let stop_took = t.elapsed();
    eprintln!(
        "systemctl stop took {:.1}s (upstream latency 3s)",
        stop_took.as_secs_f64()
    );
    let mut p = Problems::default();
    p.check(out.ok(), format!("systemctl stop failed: {out}"));
    let done = wait_for(Duration::from_secs(30), Duration::from_millis(200), || {
        ct.read_file("/var/tmp/e2e-inflight.done").ok()
    });
    let status = ct
        .read_file("/var/tmp/e2e-inflight.status")
        .unwrap_or_default();
    let err = ct
        .read_file("/var/tmp/e2e-inflight.err")
        .unwrap_or_default();
    let answer = ct
        .read_file("/var/tmp/e2e-inflight.body")
        .unwrap_or_default();
    p.check(
        done.is_ok(),
        "the background curl did not finish within 30s after the stop",
    );
    p.check(
        status.trim() == "200",
        format!(
            "the in-flight request ended with HTTP {:?} (expected 200; curl: {}): {}",
            status.trim(),
            err.trim(),
            answer
        ),
    );
    let result = ct.show(UNIT, "Result");
    p.check(
        result == "success",
        format!(
            "{UNIT} Result={result} after the stop (expected success: a clean exit on SIGTERM)"
        ),
    );
    // After the drain the daemon signed the chain head into the journal (the checkpoint that
    // anchors the chain outside the database).
    let checkpoint = wait_for(Duration::from_secs(10), Duration::from_millis(300), || {
        ct.exec(&["journalctl", "-u", UNIT, "-o", "json", "--no-pager"])
            .stdout
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|e| e.get("CHECKPOINT_SEQ").is_some() && e.get("SIGNATURE").is_some())
    });
    p.check(
        checkpoint.is_ok(),
        "no signed audit checkpoint (CHECKPOINT_SEQ, SIGNATURE) in the journal after the stop",
    );
    if let Ok(e) = &checkpoint {
        eprintln!(
            "journal checkpoint: seq {} signature {}…",
            e["CHECKPOINT_SEQ"],
            e["SIGNATURE"]
                .as_str()
                .unwrap_or_default()
                .get(..16)
                .unwrap_or_default()
        );
    }
    p.finish(|| ct.diagnose(UNIT))
}

// ---- 8 ---------------------------------------------------------------------------------------

fn step_health(run: &mut Run) -> Result<(), String> {
    for u in [HEALTH_UNIT, HEALTH_TIMER] {
        if !tp::repo_dir().join("systemd").join(u).is_file() {
            return Err(format!("systemd/{u} is not in the repository (yet)"));
        }
    }
    run.ensure_running()?;
    let ct = &run.ct;
    // A healthy host for the monitor: a backup, and the timers it watches active.
    let backup = ct.exec_timeout(
        &["systemctl", "start", "tappass-backup.service"],
        Duration::from_secs(120),
    );
    let timers = ct.systemctl(&["enable", "--now", "tappass-backup.timer", HEALTH_TIMER]);
    if !backup.ok() || !timers.ok() {
        return Err(format!(
            "backup: {backup}
timers: {timers}
{}",
            ct.diagnose("tappass-backup.service")
        ));
    }
    let cursor = ct.journal_cursor();
    let out = ct.exec_timeout(
        &["systemctl", "start", HEALTH_UNIT],
        Duration::from_secs(120),
    );
    let result = ct.show(HEALTH_UNIT, "Result");
    let journal = ct.journal_after(HEALTH_UNIT, &cursor, "cat");
    eprintln!("--- journal of {HEALTH_UNIT}:\n{}", journal.trim_end());
    let mut p = Problems::default();
    p.check(
        out.ok() && result == "success",
        format!("{HEALTH_UNIT} failed while tappass runs: Result={result}; {out}\n{journal}"),
    );
    let enable = ct.systemctl(&["enable", "--now", HEALTH_TIMER]);
    p.check(
        enable.ok(),
        format!("systemctl enable --now {HEALTH_TIMER}: {enable}"),
    );
    let timers = ct.systemctl(&["list-timers", "--all"]);
    eprintln!(
        "--- systemctl list-timers --all:\n{}",
        timers.stdout.trim_end()
    );
    p.check(
        timers.stdout.contains(HEALTH_TIMER),
        format!(
            "{HEALTH_TIMER} is not in `systemctl list-timers --all`:\n{}",
            timers.stdout
        ),
    );
    p.finish(|| ct.diagnose(HEALTH_TIMER))
}

// ---- 9 ---------------------------------------------------------------------------------------

/// A unit whose seccomp filter refuses the landlock calls (systemd 252's `@system-service`
/// without our extra line): the daemon must say so in STATUS= and the journal, and refuse to
/// start when `[sandbox] require = true`.
fn step_landlock_refused(run: &mut Run) -> Result<(), String> {
    let ct = &run.ct;
    let dropin = format!("{DROPIN_DIR}/zz-no-landlock.conf");
    let deny = "[Service]\nSystemCallFilter=~landlock_create_ruleset landlock_add_rule \
                landlock_restrict_self\n";
    ct.write_file(&dropin, deny.as_bytes(), 0o644)?;
    ct.daemon_reload()?;
    let cursor = ct.journal_cursor();
    let out = ct.exec_timeout(&["systemctl", "restart", UNIT], Duration::from_secs(60));
    let status = ct.show(UNIT, "StatusText");
    let journal = ct.journal_after(UNIT, &cursor, "cat");
    let degraded = out.ok()
        && ct.show(UNIT, "ActiveState") == "active"
        && status.contains("landlock NOT enforced")
        && journal.contains("SANDBOX DEGRADED");
    let mut errors = Vec::new();
    if !degraded {
        errors.push(format!(
            "best effort: expected an active unit with StatusText saying \"landlock NOT \
             enforced\" and SANDBOX DEGRADED in the journal; {out}; StatusText={status:?}\n\
             {journal}"
        ));
    }

    let require = format!("{deny}Environment=TAPPASS_SANDBOX__REQUIRE=true\n");
    ct.write_file(&dropin, require.as_bytes(), 0o644)?;
    ct.daemon_reload()?;
    let cursor = ct.journal_cursor();
    let out = ct.exec_timeout(&["systemctl", "restart", UNIT], Duration::from_secs(60));
    let journal = ct.journal_after(UNIT, &cursor, "cat");
    if out.ok() || !journal.contains("[sandbox] require = true, but landlock is NOT enforced") {
        errors.push(format!(
            "require: expected the start to fail with the reason in the journal; {out}\n{journal}"
        ));
    }

    ct.remove(&dropin)?;
    ct.daemon_reload()?;
    ct.exec(&["systemctl", "reset-failed", UNIT]);
    let out = ct.exec_timeout(&["systemctl", "restart", UNIT], Duration::from_secs(60));
    if !out.ok()
        || !ct
            .show(UNIT, "StatusText")
            .contains("landlock fully enforced")
    {
        errors.push(format!(
            "restored unit: expected landlock fully enforced again; {out}; StatusText={:?}",
            ct.show(UNIT, "StatusText")
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("\n"))
    }
}
