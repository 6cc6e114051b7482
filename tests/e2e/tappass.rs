//! TapPass inside a booted container: installing the build directly (binaries + the repo's unit
//! files, until packages exist), its configuration, the fake upstream as a unit, HTTP via `curl`
//! inside the container (the container has its own network namespace).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};

use super::container::{Container, Input};
use super::wait_for;

/// Where the daemon listens inside the container.
pub const LISTEN: &str = "127.0.0.1:9620";
/// Where the fake upstream listens inside the container.
pub const UPSTREAM_LISTEN: &str = "127.0.0.1:9700";
/// The fake upstream's unit (written by [`start_fake_upstream`]).
pub const UPSTREAM_UNIT: &str = "fake-upstream.service";
/// The provider key file the fake upstream's unit reads (root 0600). The key is on no unit's
/// command line (systemd logs a transient unit's command line), and the upstream's output does not
/// go to the journal (which records the logging process's command line).
pub const UPSTREAM_KEY_FILE: &str = "/etc/tappass-e2e/upstream-key";
/// The fake upstream's output (kept out of the journal, see [`start_fake_upstream`]).
pub const UPSTREAM_LOG: &str = "/var/log/tappass-e2e-upstream.log";
/// Model names the fake upstream answers on the OpenAI route.
pub const MODEL: &str = "gpt-4o-mini";

pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The repo's unit files: `systemd/*.service`, `*.socket`, `*.timer`.
pub fn unit_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(repo_dir().join("systemd"))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .is_some_and(|x| x == "service" || x == "socket" || x == "timer")
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Copies the debug binaries to /usr/bin and the repo's units to `unit_dir` (as a package would
/// put them: `/usr/lib/systemd/system`), then `daemon-reload`. Returns the unit names.
pub fn install_direct(ct: &Container, unit_dir: &str) -> Result<Vec<String>, String> {
    ct.copy_in(
        Path::new(env!("CARGO_BIN_EXE_tappass")),
        "/usr/bin/tappass",
        0o755,
    )?;
    ct.copy_in(
        Path::new(env!("CARGO_BIN_EXE_tappass-fake-upstream")),
        "/usr/bin/tappass-fake-upstream",
        0o755,
    )?;
    let units = unit_files();
    if units.is_empty() {
        return Err(format!("no unit files in {}/systemd", repo_dir().display()));
    }
    let mut names = Vec::new();
    for u in &units {
        let name = u.file_name().unwrap().to_string_lossy().into_owned();
        ct.copy_in(u, &format!("{unit_dir}/{name}"), 0o644)?;
        names.push(name);
    }
    ct.daemon_reload()?;
    Ok(names)
}

/// `/etc/tappass/tappass.toml` for the tests: the listener on [`LISTEN`], provider `openai`
/// pointing at the fake upstream, no mock provider, plus `extra` TOML appended.
pub fn config_toml(extra: &str) -> String {
    format!(
        r#"# written by the e2e test
[server]
listen = "{LISTEN}"
mock_provider = false
shutdown_grace_secs = 30

[providers.openai]
kind = "openai"
base_url = "http://{UPSTREAM_LISTEN}/v1"
api_key_env = ""
timeout_secs = 60

[log]
level = "info"
{extra}"#
    )
}

/// Writes `/etc/tappass/tappass.toml` (root-owned 0644: the dynamic user must read it; it holds
/// no secret).
pub fn write_config(ct: &Container, toml: &str) -> Result<(), String> {
    ct.exec(&["install", "-d", "-m", "0755", "/etc/tappass"])
        .check()?;
    ct.write_file("/etc/tappass/tappass.toml", toml.as_bytes(), 0o644)
}

/// (Re)starts the fake upstream as [`UPSTREAM_UNIT`] on [`UPSTREAM_LISTEN`] with the given
/// latency, requiring `key`; waits until it answers.
pub fn start_fake_upstream(ct: &Container, latency_ms: u64, key: &str) -> Result<(), String> {
    ct.write_file(UPSTREAM_KEY_FILE, format!("{key}\n").as_bytes(), 0o600)?;
    let unit = format!(
        r#"[Unit]
Description=Fake LLM upstream for the TapPass e2e tests

[Service]
ExecStart=/bin/sh -c 'exec /usr/bin/tappass-fake-upstream --listen {UPSTREAM_LISTEN} --latency-ms {latency_ms} --api-key "$$(cat {UPSTREAM_KEY_FILE})"'
# Not into the journal: it records every logging process's command line (_CMDLINE), and this one
# holds the provider key, which the test asserts appears nowhere in the journal.
StandardOutput=append:{UPSTREAM_LOG}
StandardError=inherit
"#
    );
    ct.write_file(
        &format!("/etc/systemd/system/{UPSTREAM_UNIT}"),
        unit.as_bytes(),
        0o644,
    )?;
    ct.daemon_reload()?;
    ct.start_unit("restart", UPSTREAM_UNIT)?;
    wait_for(Duration::from_secs(20), Duration::from_millis(100), || {
        http(
            ct,
            "GET",
            &format!("http://{UPSTREAM_LISTEN}/debug/requests"),
            None,
            None,
        )
        .ok()
        .filter(|r| r.status == 200)
    })
    .map(|_| ())
    .map_err(|_| {
        format!(
            "fake upstream not answering on {UPSTREAM_LISTEN} after 20s\n{}\n--- {UPSTREAM_LOG}:\n{}",
            ct.diagnose(UPSTREAM_UNIT),
            ct.exec(&["tail", "-n", "30", UPSTREAM_LOG]).stdout
        )
    })
}

/// How many POSTs the fake upstream has received.
pub fn upstream_requests(ct: &Container) -> Result<u64, String> {
    let r = http(
        ct,
        "GET",
        &format!("http://{UPSTREAM_LISTEN}/debug/requests"),
        None,
        None,
    )?;
    r.json()["count"]
        .as_u64()
        .ok_or_else(|| format!("unexpected /debug/requests answer: {}", r.body))
}

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    /// Lower-case names.
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// One HTTP request with `curl` inside the container. `Err` only when curl itself fails
/// (connection refused, timeout).
pub fn http(
    ct: &Container,
    method: &str,
    url: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Result<Resp, String> {
    let auth = bearer.map(|k| format!("authorization: Bearer {k}"));
    let mut args = vec![
        "curl",
        "-sS",
        "-i",
        "--max-time",
        "90",
        "-X",
        method,
        "-H",
        "accept: */*",
    ];
    if let Some(a) = &auth {
        args.extend(["-H", a.as_str()]);
    }
    let data;
    if let Some(b) = body {
        data = b.to_string();
        args.extend([
            "-H",
            "content-type: application/json",
            "--data-binary",
            "@-",
        ]);
        args.push(url);
        let out = ct.exec_with(
            &args,
            Input::Bytes(data.as_bytes()),
            Duration::from_secs(100),
        );
        return parse_curl(out, method, url);
    }
    args.push(url);
    parse_curl(
        ct.exec_timeout(&args, Duration::from_secs(100)),
        method,
        url,
    )
}

fn parse_curl(out: super::Out, method: &str, url: &str) -> Result<Resp, String> {
    if !out.ok() {
        return Err(format!("{method} {url}: {out}"));
    }
    let raw = out.stdout;
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| format!("{method} {url}: no HTTP header block in {raw:?}"))?;
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{method} {url}: bad status line in {head:?}"))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(Resp {
        status,
        headers,
        body: body.to_string(),
    })
}

pub fn gateway_url(path: &str) -> String {
    format!("http://{LISTEN}{path}")
}

/// `POST /admin/agents`; returns the agent's key.
pub fn create_agent(ct: &Container, admin_key: &str, agent_id: &str) -> Result<String, String> {
    let r = http(
        ct,
        "POST",
        &gateway_url("/admin/agents"),
        Some(admin_key),
        Some(&json!({"agent_id": agent_id, "description": "e2e"})),
    )?;
    if r.status != 201 {
        return Err(format!(
            "POST /admin/agents answered {} (expected 201): {}",
            r.status, r.body
        ));
    }
    r.json()["api_key"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| format!("POST /admin/agents: no api_key in {}", r.body))
}

/// A chat completion through the gateway.
pub fn chat(ct: &Container, agent_key: &str, text: &str) -> Result<Resp, String> {
    http(
        ct,
        "POST",
        &gateway_url("/v1/chat/completions"),
        Some(agent_key),
        Some(&json!({"model": MODEL, "messages": [{"role": "user", "content": text}]})),
    )
}

/// Waits until `/health/live` answers (the listener is up).
pub fn wait_listening(ct: &Container, timeout: Duration) -> Result<(), String> {
    wait_for(timeout, Duration::from_millis(100), || {
        http(ct, "GET", &gateway_url("/health/live"), None, None)
            .ok()
            .filter(|r| r.status == 200)
    })
    .map(|_| ())
    .map_err(|w| format!("tappass not answering /health/live on {LISTEN} after {w:?}"))
}

/// Derives a oneshot unit running `exec_start` under the same `[Service]` hardening as
/// `service_text` (a unit file's text): every `[Service]` line is kept except those that only make
/// sense for the long-running daemon (type, notify access, reload, restart, watchdog, stop
/// timeout, socket/fd-store wiring); `[Unit]` gets only `description`; `[Install]` is dropped.
pub fn derive_oneshot(service_text: &str, description: &str, exec_start: &str) -> String {
    const DROP: &[&str] = &[
        "Type",
        "NotifyAccess",
        "ExecStart",
        "ExecStartPre",
        "ExecStartPost",
        "ExecReload",
        "ExecStop",
        "ExecStopPost",
        "Restart",
        "RestartSec",
        "RestartPreventExitStatus",
        "WatchdogSec",
        "TimeoutStopSec",
        "TimeoutStartSec",
        "Sockets",
        "FileDescriptorStoreMax",
    ];
    // Join continuation lines first.
    let mut logical = Vec::new();
    let mut cur = String::new();
    for line in service_text.lines() {
        if let Some(stripped) = line.strip_suffix('\\') {
            cur.push_str(stripped);
            cur.push(' ');
            continue;
        }
        cur.push_str(line);
        logical.push(std::mem::take(&mut cur));
    }
    if !cur.is_empty() {
        logical.push(cur);
    }
    let mut out = format!(
        "# Derived by the e2e test from tappass.service: same [Service] hardening, oneshot.\n\
         [Unit]\nDescription={description}\n\n[Service]\nType=oneshot\nExecStart={exec_start}\n"
    );
    let mut section = String::new();
    for line in logical {
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            section = t.to_string();
            continue;
        }
        if section != "[Service]" || t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        let key = t.split('=').next().unwrap_or("").trim();
        if DROP.contains(&key) {
            continue;
        }
        out.push_str(t);
        out.push('\n');
    }
    out
}
