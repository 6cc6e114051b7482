//! Resolution of providers and validation of a merged configuration, plus the small parsers
//! it needs (socket address, http(s) URL, database URL) and URL password redaction.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;

use secrecy::SecretString;

use super::error::{ConfigError, Origin};
use super::locate::{self, KeyIndex};
use super::schema::{
    Config, DatabaseKind, ProviderConfig, ProviderKind, RawProvider, ANTHROPIC_BASE_URL_ENV,
    DEFAULT_ANTHROPIC_BASE_URL, DEFAULT_OPENAI_BASE_URL, MAX_BODY_BYTES_LIMIT, MOCK_PROVIDER,
    OPENAI_BASE_URL_ENV,
};

// ---------------------------------------------------------------------------------------------
// Provenance: where each key came from, to name it in errors.

/// The configuration file as read, with its key positions.
#[derive(Debug)]
pub(super) struct FileSource {
    pub(super) path: PathBuf,
    pub(super) text: String,
    pub(super) index: KeyIndex,
}

impl FileSource {
    pub(super) fn new(path: PathBuf, text: String) -> Self {
        let index = KeyIndex::build(&text);
        Self { path, text, index }
    }

    /// Origin for a byte span of the file.
    pub(super) fn origin_at(&self, span: Option<std::ops::Range<usize>>) -> Origin {
        Origin::File {
            path: self.path.clone(),
            line: span.map(|s| locate::line_of(&self.text, s.start)),
        }
    }
}

/// Which source set which key. Lookups follow precedence: flag > environment > file.
#[derive(Debug, Default)]
pub(super) struct Provenance {
    pub(super) flags: Vec<(Vec<String>, String)>,
    pub(super) env: Vec<(Vec<String>, String)>,
    pub(super) file: Option<FileSource>,
}

impl Provenance {
    /// Where the value of `key` came from. A key not written anywhere is attributed to the
    /// nearest enclosing table that was written (e.g. a missing `kind` to its
    /// `[providers.x]` header), else to the built-in default.
    pub(super) fn origin(&self, key: &[&str]) -> Origin {
        let key: Vec<String> = key.iter().map(|s| (*s).to_owned()).collect();
        for n in (1..=key.len()).rev() {
            let cand = &key[..n];
            if let Some((_, flag)) = self.flags.iter().find(|(p, _)| p.as_slice() == cand) {
                return Origin::Flag { flag: flag.clone() };
            }
            if let Some((_, var)) = self.env.iter().find(|(p, _)| p.as_slice() == cand) {
                return Origin::Env { var: var.clone() };
            }
            if let Some(file) = &self.file {
                if let Some(span) = file.index.span_of(cand) {
                    return file.origin_at(Some(span));
                }
            }
            if let Some((_, var)) = self.env.iter().find(|(p, _)| p.starts_with(cand)) {
                return Origin::Env { var: var.clone() };
            }
            if let Some(file) = &self.file {
                if file.index.contains_under(cand) {
                    return file.origin_at(file.index.span_under(cand));
                }
            }
        }
        Origin::Default
    }

    fn invalid(&self, key: &[&str], message: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            origin: self.origin(key),
            key: dotted(key),
            message: message.into(),
        }
    }
}

/// A key segment as written in TOML: bare when possible, else quoted.
pub(super) fn key_segment(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        s.to_owned()
    } else {
        format!("{s:?}")
    }
}

/// A dotted key path, quoting segments that are not bare TOML keys.
pub(super) fn dotted<S: AsRef<str>>(path: &[S]) -> String {
    path.iter()
        .map(|s| key_segment(s.as_ref()))
        .collect::<Vec<_>>()
        .join(".")
}

// ---------------------------------------------------------------------------------------------
// Providers.

fn builtin_kind(name: &str) -> Option<ProviderKind> {
    match name {
        "openai" => Some(ProviderKind::OpenAi),
        "anthropic" => Some(ProviderKind::Anthropic),
        _ => None,
    }
}

fn default_api_key_env(name: &str) -> Option<&'static str> {
    match name {
        "openai" => Some("OPENAI_API_KEY"),
        "anthropic" => Some("ANTHROPIC_API_KEY"),
        _ => None,
    }
}

fn check_provider_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
    {
        return Err(format!(
            "invalid provider name {name:?}: use lower-case letters, digits, `_` and `-`"
        ));
    }
    if name == MOCK_PROVIDER {
        return Err(format!(
            "the name `{MOCK_PROVIDER}` is reserved for the built-in mock provider (server.mock_provider)"
        ));
    }
    Ok(())
}

/// Turns the raw provider tables into resolved providers: adds `openai` and `anthropic`,
/// infers their kind, applies the base-URL fallbacks and key-variable defaults.
pub(super) fn resolve_providers(
    raw: BTreeMap<String, RawProvider>,
    env: &[(String, String)],
    prov: &mut Provenance,
) -> Result<BTreeMap<String, ProviderConfig>, ConfigError> {
    let mut raw = raw;
    for name in ["openai", "anthropic"] {
        raw.entry(name.to_owned()).or_default();
    }
    let mut out = BTreeMap::new();
    for (name, p) in raw {
        let n = name.as_str();
        check_provider_name(n).map_err(|m| prov.invalid(&["providers", n], m))?;
        let kind = match (p.kind, builtin_kind(n)) {
            (Some(k), Some(b)) if k != b => {
                return Err(prov.invalid(
                    &["providers", n, "kind"],
                    format!("the provider named `{n}` is always of kind {b}; give this {k} provider another name"),
                ))
            }
            (Some(k), _) | (None, Some(k)) => k,
            (None, None) => {
                return Err(prov.invalid(
                    &["providers", n, "kind"],
                    "required for a provider not named openai or anthropic (one of: openai, anthropic)",
                ))
            }
        };
        let base_url = match p.base_url {
            Some(url) => url,
            None => {
                let (fallback_var, default) = match n {
                    "openai" => (OPENAI_BASE_URL_ENV, DEFAULT_OPENAI_BASE_URL),
                    "anthropic" => (ANTHROPIC_BASE_URL_ENV, DEFAULT_ANTHROPIC_BASE_URL),
                    _ => {
                        return Err(prov.invalid(
                            &["providers", n, "base_url"],
                            format!("required for provider `{n}` (e.g. \"http://127.0.0.1:11434/v1\" for Ollama)"),
                        ))
                    }
                };
                match super::env::lookup(env, fallback_var) {
                    Some(url) => {
                        prov.env.push((
                            vec!["providers".into(), name.clone(), "base_url".into()],
                            fallback_var.to_owned(),
                        ));
                        url.to_owned()
                    }
                    None => default.to_owned(),
                }
            }
        };
        let api_key = match p.api_key {
            Some(k) if k.is_empty() => {
                return Err(prov.invalid(
                    &["providers", n, "api_key"],
                    "is empty; remove it or set a key",
                ))
            }
            Some(k) => Some(SecretString::from(k)),
            None => None,
        };
        let api_key_env = match p.api_key_env {
            Some(e) if e.is_empty() => None,
            Some(e) => Some(e),
            None => default_api_key_env(n).map(str::to_owned),
        };
        let provider = ProviderConfig {
            name: name.clone(),
            kind,
            base_url: normalize_base_url(&base_url),
            api_key,
            api_key_env,
            auth_header: p.auth_header.unwrap_or_default(),
            timeout_secs: p
                .timeout_secs
                .unwrap_or(ProviderConfig::DEFAULT_TIMEOUT_SECS),
            connect_timeout_secs: p
                .connect_timeout_secs
                .unwrap_or(ProviderConfig::DEFAULT_CONNECT_TIMEOUT_SECS),
        };
        out.insert(name, provider);
    }
    Ok(out)
}

/// Drops trailing slashes of the path (`https://h/v1/` → `https://h/v1`) unless the URL has a
/// query or fragment.
fn normalize_base_url(url: &str) -> String {
    if url.contains(['?', '#']) {
        return url.to_owned();
    }
    let trimmed = url.trim_end_matches('/');
    match trimmed.find("://") {
        Some(i) if trimmed.len() > i + 3 => trimmed.to_owned(),
        _ => url.to_owned(),
    }
}

/// Secret variables TapPass itself reads: a provider must never be given one of them.
const OWN_SECRET_VARS: &[&str] = &[
    "TAPPASS_ADMIN_API_KEY",
    "TAPPASS_API_KEY",
    "TAPPASS_JWT_SECRET",
    "TAPPASS_VAULT_KEY",
    "TAPPASS_LICENSE",
    "TAPPASS_SSO_CLIENT_SECRET",
];

fn check_env_var_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let valid = matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(format!(
            "invalid environment variable name {name:?} (letters, digits and `_`)"
        ));
    }
    if OWN_SECRET_VARS.contains(&name) {
        return Err(format!(
            "{name} is a TapPass secret and must not be sent to a provider"
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Validation.

fn check_range(
    prov: &Provenance,
    key: &[&str],
    value: u64,
    min: u64,
    max: u64,
) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(prov.invalid(key, format!("must be between {min} and {max}, got {value}")))
    }
}

/// Checks a resolved configuration. Errors name the key and, through `prov`, its source.
pub(super) fn validate(config: &Config, prov: &Provenance) -> Result<(), ConfigError> {
    // [server]
    let server = &config.server;
    let listen = server.listen;
    check_range(
        prov,
        &["server", "max_body_bytes"],
        server.max_body_bytes,
        1,
        MAX_BODY_BYTES_LIMIT,
    )?;
    check_range(
        prov,
        &["server", "header_timeout_secs"],
        server.header_timeout_secs,
        1,
        300,
    )?;
    if server.metrics_public && !listen.ip().to_canonical().is_loopback() {
        return Err(prov.invalid(
            &["server", "metrics_public"],
            format!(
                "can only be true when server.listen is a loopback address (it is {listen}); \
                 scrapers on other hosts must use an admin or auditor key"
            ),
        ));
    }

    // [storage]
    if let Some(dir) = &config.storage.state_dir {
        if dir.as_os_str().is_empty() {
            return Err(prov.invalid(&["storage", "state_dir"], "must not be empty"));
        }
    }

    // [database]
    let db = &config.database;
    if let Some(url) = &db.url {
        parse_database_url(url).map_err(|m| prov.invalid(&["database", "url"], m))?;
    }
    check_range(
        prov,
        &["database", "max_connections"],
        u64::from(db.max_connections),
        1,
        1000,
    )?;
    check_range(
        prov,
        &["database", "connect_timeout_secs"],
        db.connect_timeout_secs,
        1,
        3600,
    )?;

    // [providers.*]
    for (name, p) in &config.providers {
        let n = name.as_str();
        check_provider_name(n).map_err(|m| prov.invalid(&["providers", n], m))?;
        if let Some(b) = builtin_kind(n) {
            if p.kind != b {
                return Err(prov.invalid(
                    &["providers", n, "kind"],
                    format!("the provider named `{n}` is always of kind {b}"),
                ));
            }
        }
        let key = ["providers", n, "base_url"];
        let url = parse_http_url(&p.base_url).map_err(|m| prov.invalid(&key, m))?;
        if url.points_at(listen) {
            return Err(prov.invalid(
                &key,
                format!(
                    "{:?} points at TapPass's own listener (server.listen = {listen}): it would proxy to itself",
                    p.base_url
                ),
            ));
        }
        if let Some(var) = &p.api_key_env {
            check_env_var_name(var)
                .map_err(|m| prov.invalid(&["providers", n, "api_key_env"], m))?;
        }
        check_range(
            prov,
            &["providers", n, "timeout_secs"],
            p.timeout_secs,
            1,
            3600,
        )?;
        check_range(
            prov,
            &["providers", n, "connect_timeout_secs"],
            p.connect_timeout_secs,
            1,
            3600,
        )?;
    }

    // [models]
    for (model, target) in &config.models {
        let key = ["models", model.as_str()];
        if model.trim().is_empty() {
            return Err(prov.invalid(&key, "empty model name"));
        }
        if target == MOCK_PROVIDER {
            if !server.mock_provider {
                return Err(prov.invalid(
                    &key,
                    "maps to the mock provider, which is disabled (server.mock_provider = false)",
                ));
            }
        } else if !config.providers.contains_key(target) {
            let known: Vec<&str> = config.providers.keys().map(String::as_str).collect();
            return Err(prov.invalid(
                &key,
                format!(
                    "unknown provider {target:?} (configured: {}{})",
                    known.join(", "),
                    if server.mock_provider { ", mock" } else { "" }
                ),
            ));
        }
    }

    // [audit]
    check_range(
        prov,
        &["audit", "batch_max"],
        config.audit.batch_max as u64,
        1,
        10_000,
    )?;
    check_range(
        prov,
        &["audit", "checkpoint_secs"],
        config.audit.checkpoint_secs,
        1,
        86_400,
    )?;
    check_range(
        prov,
        &["audit", "spool_max_mb"],
        config.audit.spool_max_mb,
        1,
        1 << 20,
    )?;

    // [backup]
    check_range(
        prov,
        &["backup", "retention_days"],
        u64::from(config.backup.retention_days),
        1,
        3_650,
    )?;
    if let Some(dir) = config.backup.dir.as_ref().filter(|d| !d.is_absolute()) {
        return Err(prov.invalid(
            &["backup", "dir"],
            format!("{} is not an absolute path", dir.display()),
        ));
    }

    // [health]
    let health = &config.health;
    check_range(
        prov,
        &["health", "disk_percent"],
        u64::from(health.disk_percent),
        1,
        100,
    )?;
    check_range(
        prov,
        &["health", "certificate_days"],
        u64::from(health.certificate_days),
        1,
        3_650,
    )?;
    check_range(
        prov,
        &["health", "backup_max_age_hours"],
        u64::from(health.backup_max_age_hours),
        1,
        8_760,
    )?;
    check_range(
        prov,
        &["health", "timeout_secs"],
        health.timeout_secs,
        1,
        300,
    )?;
    if let Some(p) = health.certificates.iter().find(|p| !p.is_absolute()) {
        return Err(prov.invalid(
            &["health", "certificates"],
            format!("{} is not an absolute path", p.display()),
        ));
    }
    for url in &health.urls {
        parse_http_url(url).map_err(|e| prov.invalid(&["health", "urls"], e))?;
    }
    if let Some(hook) = &health.slack_webhook {
        use secrecy::ExposeSecret;
        // A webhook URL is a secret: the message never quotes it.
        parse_http_url(hook.expose_secret()).map_err(|_| {
            prov.invalid(
                &["health", "slack_webhook"],
                "must be an http:// or https:// URL with a host (not shown: it is a secret)",
            )
        })?;
    }

    // [sandbox]
    if config.sandbox.uid == 0 {
        return Err(prov.invalid(
            &["sandbox", "uid"],
            "must not be 0: the daemon refuses to run as root",
        ));
    }
    for (key, paths) in [
        ("read_paths", &config.sandbox.read_paths),
        ("write_paths", &config.sandbox.write_paths),
    ] {
        if let Some(p) = paths.iter().find(|p| !p.is_absolute()) {
            return Err(prov.invalid(
                &["sandbox", key],
                format!("{} is not an absolute path", p.display()),
            ));
        }
    }

    // [log]
    let level = &config.log.level;
    if level.trim().is_empty() {
        return Err(prov.invalid(&["log", "level"], "must not be empty (e.g. \"info\")"));
    }
    if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(level) {
        return Err(prov.invalid(
            &["log", "level"],
            format!("invalid log filter {level:?}: {e}"),
        ));
    }

    validate_governance(&config.governance, prov)
}

/// The governance sections (`[pipeline]` … `[tools]`).
use crate::detect::{EntityKind, Family};

fn validate_governance(
    g: &super::governance::GovernanceConfig,
    prov: &Provenance,
) -> Result<(), ConfigError> {
    use super::governance::StepAction as A;
    let p = &g.pipeline;
    type StepRule<'a> = (
        &'a str,
        &'a super::governance::StepConfig,
        &'a [A],
        Option<Family>,
    );
    let steps: [StepRule; 5] = [
        (
            "detect_pii",
            &p.detect_pii,
            &[A::Block, A::Mask, A::Log, A::Off],
            Some(Family::Pii),
        ),
        (
            "detect_secrets",
            &p.detect_secrets,
            &[A::Block, A::Redact, A::Log],
            Some(Family::Secret),
        ),
        (
            "detect_injection",
            &p.detect_injection,
            &[A::Block, A::Log, A::Off],
            None,
        ),
        (
            "detect_unicode",
            &p.detect_unicode,
            &[A::Block, A::Strip, A::Log, A::Off],
            None,
        ),
        (
            "scan_output",
            &p.scan_output,
            &[A::Block, A::Redact, A::Mask, A::Log, A::Off],
            None,
        ),
    ];
    for (name, step, allowed, kinds) in steps {
        if let Some(a) = step.action {
            if !allowed.contains(&a) {
                let names: Vec<&str> = allowed.iter().map(|a| a.as_str()).collect();
                return Err(prov.invalid(
                    &["pipeline", name, "action"],
                    format!(
                        "`{}` is not an action of {name} (expected one of: {})",
                        a.as_str(),
                        names.join(", ")
                    ),
                ));
            }
        }
        if let Some(t) = step.threshold {
            if name != "detect_injection" {
                return Err(prov.invalid(
                    &["pipeline", name, "threshold"],
                    "only detect_injection has a threshold",
                ));
            }
            if !(0.0..=1.0).contains(&t) {
                return Err(prov.invalid(
                    &["pipeline", name, "threshold"],
                    format!("must be between 0.0 and 1.0, got {t}"),
                ));
            }
        }
        if let Some(list) = &step.entities {
            let Some(family) = kinds else {
                return Err(prov.invalid(
                    &["pipeline", name, "entities"],
                    "only detect_pii and detect_secrets take entities",
                ));
            };
            let known = |e: &str| EntityKind::parse(e).is_some_and(|k| k.family() == family);
            if let Some(bad) = list.iter().find(|e| !known(e)) {
                let kinds: Vec<&str> = EntityKind::of(family).map(EntityKind::as_str).collect();
                return Err(prov.invalid(
                    &["pipeline", name, "entities"],
                    format!(
                        "unknown entity {bad:?} (expected some of: {})",
                        kinds.join(", ")
                    ),
                ));
            }
        }
    }
    for (key, value) in [("defaults", &g.flags.defaults), ("locked", &g.flags.locked)] {
        match crate::governance::flags::parse(value) {
            Err(e) => {
                return Err(prov.invalid(&["flags", key], format!("`{}`: {}", e.token, e.message)))
            }
            Ok(set) if key == "defaults" && (set.pii.is_some() || set.secrets.is_some()) => {
                return Err(prov.invalid(
                    &["flags", key],
                    "pii and secrets defaults are set by pipeline.detect_pii.action and \
                     pipeline.detect_secrets.action",
                ))
            }
            Ok(_) => {}
        }
    }
    if let Err(e) = crate::governance::flags::Grants::parse_list(&g.flags.grant) {
        return Err(prov.invalid(&["flags", "grant"], e));
    }
    check_range(
        prov,
        &["limits", "window_secs"],
        g.limits.window_secs,
        1,
        86_400,
    )?;
    for (key, v) in [
        ("agent_requests", g.limits.agent_requests),
        ("agent_tokens", g.limits.agent_tokens),
        ("org_requests", g.limits.org_requests),
        ("org_tokens", g.limits.org_tokens),
    ] {
        if let Some(v) = v {
            check_range(prov, &["limits", key], v, 1, u64::MAX / 2)?;
        }
    }
    if let Some(t) = g.budgets.default_max_tokens {
        check_range(prov, &["budgets", "default_max_tokens"], t, 1, 10_000_000)?;
    }
    if let Some(url) = &g.redis.url {
        if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
            return Err(prov.invalid(
                &["redis", "url"],
                "must start with redis:// or rediss:// (TLS)",
            ));
        }
    }
    check_range(
        prov,
        &["redis", "timeout_ms"],
        g.redis.timeout_ms,
        1,
        10_000,
    )?;
    if g.redis.key_prefix.is_empty() {
        return Err(prov.invalid(&["redis", "key_prefix"], "must not be empty"));
    }
    check_range(
        prov,
        &["policy", "timeout_ms"],
        g.policy.timeout_ms,
        1,
        10_000,
    )?;
    check_range(
        prov,
        &["policy", "cache_ttl_secs"],
        g.policy.cache_ttl_secs,
        0,
        3600,
    )?;
    if let Some(url) = &g.policy.opa_url {
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() < 10 {
            return Err(prov.invalid(&["policy", "opa_url"], "must be an http:// or https:// URL"));
        }
    }
    for (key, list) in [("allow", &g.tools.allow), ("deny", &g.tools.deny)] {
        if let Some(bad) = list.iter().find(|t| {
            t.is_empty()
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        }) {
            return Err(prov.invalid(
                &["tools", key],
                format!("invalid tool name {bad:?} (A-Z a-z 0-9 _ - .)"),
            ));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Parsers.

/// Parses `IP:PORT`.
pub(super) fn parse_socket_addr(s: &str) -> Result<SocketAddr, String> {
    s.parse().map_err(|_| {
        format!(
            "invalid socket address {s:?} (expected IP:PORT, e.g. 127.0.0.1:9620 or [::1]:9620)"
        )
    })
}

#[derive(Debug, PartialEq, Eq)]
pub(super) enum Host {
    Ip(IpAddr),
    Name(String),
}

/// The parts of an http(s) URL TapPass cares about.
#[derive(Debug)]
pub(super) struct HttpUrl {
    pub(super) host: Host,
    pub(super) port: u16,
}

impl HttpUrl {
    /// Whether a connection to this URL would reach a listener bound to `listen`: same port,
    /// and a host that is loopback, unspecified, `listen`'s own IP, or `localhost`.
    pub(super) fn points_at(&self, listen: SocketAddr) -> bool {
        if self.port != listen.port() {
            return false;
        }
        match &self.host {
            Host::Name(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name == "localhost" || name.ends_with(".localhost")
            }
            Host::Ip(ip) => {
                let ip = ip.to_canonical();
                ip.is_loopback() || ip.is_unspecified() || ip == listen.ip().to_canonical()
            }
        }
    }
}

/// Parses an `http://` or `https://` URL with a host (and optional port, path, query).
pub(super) fn parse_http_url(s: &str) -> Result<HttpUrl, String> {
    if s.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("invalid URL {s:?}: contains whitespace"));
    }
    let Some((scheme, rest)) = s.split_once("://") else {
        return Err(format!(
            "invalid URL {s:?}: must start with http:// or https://"
        ));
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => 80,
        "https" => 443,
        _ => return Err(format!("invalid URL {s:?}: scheme must be http or https")),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.is_empty() {
        return Err(format!("invalid URL {s:?}: no host"));
    }
    if authority.contains('@') {
        return Err(
            "credentials in the URL (user:password@) are not supported; use api_key or a credential"
                .to_owned(),
        );
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let Some((addr, after)) = v6.split_once(']') else {
            return Err(format!("invalid URL {s:?}: unterminated IPv6 address"));
        };
        let ip: Ipv6Addr = addr
            .parse()
            .map_err(|_| format!("invalid URL {s:?}: invalid IPv6 address"))?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| format!("invalid URL {s:?}: junk after IPv6 address"))?,
            ),
        };
        (Host::Ip(IpAddr::V6(ip)), port)
    } else {
        let (h, p) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if h.is_empty() {
            return Err(format!("invalid URL {s:?}: no host"));
        }
        if !h
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
        {
            return Err(format!("invalid URL {s:?}: invalid host {h:?}"));
        }
        let host = match h.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(ip),
            Err(_) => Host::Name(h.to_owned()),
        };
        (host, p)
    };
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n != 0 && p.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(format!("invalid URL {s:?}: invalid port {p:?}")),
        },
    };
    Ok(HttpUrl { host, port })
}

/// Parses a database URL into its kind. Messages never repeat the URL (it may hold a
/// password).
pub(super) fn parse_database_url(url: &str) -> Result<DatabaseKind, String> {
    const EXPECTED: &str = "expected sqlite:PATH, sqlite://PATH, postgres://… or postgresql://…";
    let Some((scheme, rest)) = url.split_once(':') else {
        return Err(format!("not a database URL ({EXPECTED})"));
    };
    let scheme_ok = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(format!("not a database URL ({EXPECTED})"));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "sqlite" => {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(
                    "sqlite URL has no file path (e.g. sqlite:///var/lib/tappass/tappass.db)"
                        .to_owned(),
                );
            }
            if path == ":memory:" || path.contains("mode=memory") {
                return Err(
                    "in-memory SQLite is not supported: the audit trail must survive restarts"
                        .to_owned(),
                );
            }
            if path.contains('?') {
                return Err(
                    "query options are not supported in sqlite URLs (TapPass sets the SQLite options itself)"
                        .to_owned(),
                );
            }
            Ok(DatabaseKind::Sqlite(PathBuf::from(path)))
        }
        "postgres" | "postgresql" => {
            if !rest.starts_with("//") {
                return Err(format!("malformed PostgreSQL URL ({EXPECTED})"));
            }
            Ok(DatabaseKind::Postgres(url.to_owned()))
        }
        other => Err(format!(
            "unsupported database URL scheme `{other}:` ({EXPECTED})"
        )),
    }
}

/// Masks the password in `scheme://user:password@host/…` and in `password=` query
/// parameters. Errs on the side of masking too much: it is for display only.
pub(super) fn redact_url(url: &str) -> String {
    let Some(i) = url.find("://") else {
        return url.to_owned();
    };
    let (head, rest) = url.split_at(i + 3);
    let mut out = head.to_owned();
    let tail = match rest.rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.split_once(':') {
                Some((user, _)) => {
                    out.push_str(user);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            &rest[at..]
        }
        None => rest,
    };
    match tail.split_once('?') {
        None => out.push_str(tail),
        Some((before, query)) => {
            out.push_str(before);
            out.push('?');
            let params: Vec<String> = query
                .split('&')
                .map(|param| match param.split_once('=') {
                    Some((k, _)) if k.to_ascii_lowercase().ends_with("password") => {
                        format!("{k}=***")
                    }
                    _ => param.to_owned(),
                })
                .collect();
            out.push_str(&params.join("&"));
        }
    }
    out
}
