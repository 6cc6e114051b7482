//! What the confined daemon may touch, derived from its configuration: a pure function, so the
//! rules are unit-tested without a kernel.

use std::collections::BTreeSet;
use std::path::PathBuf;

use reqwest::Url;

use crate::config::{Config, DatabaseKind};

/// Read-only for everyone: name resolution (glibc reads these and loads NSS modules from the
/// library directories), time zones, the TLS trust stores of Debian and Fedora, and the
/// randomness device. Paths that do not exist on a host are skipped when the rules are made.
pub const SYSTEM_READ: &[&str] = &[
    "/etc/resolv.conf",
    "/etc/hosts",
    "/etc/nsswitch.conf",
    "/etc/gai.conf",
    "/etc/host.conf",
    "/etc/services",
    "/etc/localtime",
    "/etc/ld.so.cache",
    "/usr/share/zoneinfo",
    "/etc/ssl/certs",
    "/usr/share/ca-certificates",
    "/etc/pki/tls/certs",
    "/etc/pki/ca-trust",
    "/lib",
    "/lib64",
    "/usr/lib",
    "/usr/lib64",
    "/run/systemd/resolve",
    "/dev/urandom",
];

/// Read-write for everyone: the null device.
pub const SYSTEM_WRITE: &[&str] = &["/dev/null"];

/// The configuration directory read when no file is named.
pub const DEFAULT_CONFIG_DIR: &str = "/etc/tappass";

/// DNS over TCP (glibc falls back to it for truncated answers).
pub const DNS_PORT: u16 = 53;

/// Directories systemd gives the service (`$CREDENTIALS_DIRECTORY`, `RuntimeDirectory=` …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostDirs {
    pub credentials: Option<PathBuf>,
    pub runtime: Vec<PathBuf>,
    pub cache: Vec<PathBuf>,
}

impl HostDirs {
    /// From the environment systemd sets (colon-separated lists).
    pub fn from_env() -> Self {
        let list = |var: &str| -> Vec<PathBuf> {
            std::env::var(var)
                .map(|v| {
                    v.split(':')
                        .filter(|s| !s.is_empty())
                        .map(PathBuf::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        Self {
            credentials: std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from),
            runtime: list("RUNTIME_DIRECTORY"),
            cache: list("CACHE_DIRECTORY"),
        }
    }
}

/// The rules: what may be read, written, bound and connected to. Nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Read-only (directories with everything beneath, or single files).
    pub read: Vec<PathBuf>,
    /// Read-write (create, remove, truncate) — never execute.
    pub write: Vec<PathBuf>,
    /// TCP ports that may be bound.
    pub bind: BTreeSet<u16>,
    /// TCP ports that may be connected to (any address).
    pub connect: BTreeSet<u16>,
}

/// The plan for `config`. `state_dir` must be absolute; `redis_url` is the URL in use (it may
/// come from a credential rather than the file).
pub fn plan(
    config: &Config,
    state_dir: &std::path::Path,
    dirs: &HostDirs,
    redis_url: Option<&str>,
) -> Plan {
    let mut read: Vec<PathBuf> = SYSTEM_READ.iter().map(PathBuf::from).collect();
    match config.source_file.as_deref().and_then(|f| f.parent()) {
        // The directory, not the file: editors replace the file by renaming a new one over it,
        // and landlock rules follow inodes.
        Some(dir) if !dir.as_os_str().is_empty() => read.push(dir.to_path_buf()),
        Some(_) => read.push(PathBuf::from(".")),
        None => read.push(PathBuf::from(DEFAULT_CONFIG_DIR)),
    }
    let policy = &config.governance.policy;
    if policy.enabled && policy.opa_url.is_none() {
        read.push(policy.dir.clone());
    }
    read.extend(dirs.credentials.iter().cloned());
    read.extend(config.sandbox.read_paths.iter().cloned());

    let mut write: Vec<PathBuf> = SYSTEM_WRITE.iter().map(PathBuf::from).collect();
    write.push(state_dir.to_path_buf());
    // An explicit SQLite URL may put the file elsewhere; by default it is in the state dir.
    if let (Some(_), DatabaseKind::Sqlite(file)) = (&config.database.url, config.database_kind()) {
        if let Some(dir) = file.parent().filter(|d| *d != state_dir) {
            write.push(dir.to_path_buf());
        }
    }
    write.extend(dirs.runtime.iter().cloned());
    write.extend(dirs.cache.iter().cloned());
    write.extend(config.sandbox.write_paths.iter().cloned());
    dedup(&mut read);
    dedup(&mut write);

    let mut connect = BTreeSet::from([DNS_PORT]);
    for p in config.providers.values() {
        connect.extend(url_port(&p.base_url));
    }
    if let DatabaseKind::Postgres(url) = config.database_kind() {
        connect.extend(postgres_port(&url));
    }
    if let Some(url) = redis_url {
        connect.extend(redis_port(url));
    }
    if policy.enabled {
        if let Some(url) = &policy.opa_url {
            connect.extend(url_port(url));
        }
    }
    Plan {
        read,
        write,
        bind: BTreeSet::from([config.server.listen.port()]),
        connect,
    }
}

fn dedup(paths: &mut Vec<PathBuf>) {
    let mut seen = BTreeSet::new();
    paths.retain(|p| seen.insert(p.clone()));
}

/// The TCP port of an http(s) URL (explicit or the scheme's default).
pub fn url_port(url: &str) -> Option<u16> {
    Url::parse(url).ok()?.port_or_known_default()
}

/// The TCP port of a PostgreSQL URL; `None` when it connects over a unix socket
/// (`postgresql:///db?host=/run/postgresql`).
pub fn postgres_port(url: &str) -> Option<u16> {
    let u = Url::parse(url).ok()?;
    let query = |key: &str| {
        u.query_pairs()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    };
    let host = u
        .host_str()
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
        .or_else(|| query("host"));
    match host {
        Some(h) if !h.starts_with('/') => Some(
            u.port()
                .or_else(|| query("port").and_then(|p| p.parse().ok()))
                .unwrap_or(5432),
        ),
        _ => None,
    }
}

/// The TCP port of a Redis URL (`redis://`, `rediss://`; default 6379); `None` for unix sockets.
pub fn redis_port(url: &str) -> Option<u16> {
    let u = Url::parse(url).ok()?;
    match u.scheme() {
        "redis" | "rediss" | "valkey" | "valkeys" => Some(u.port().unwrap_or(6379)),
        _ => None,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
