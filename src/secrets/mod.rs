//! Where secrets come from. Order (product.md): systemd credentials
//! (`$CREDENTIALS_DIRECTORY/<name>`), then config, then the environment — the last only for
//! evaluation, and reported as such. Secrets are `SecretString`s: they redact themselves in
//! Debug output and are exposed only where a header is built or a hash computed.

use std::path::PathBuf;

use secrecy::SecretString;

/// Where a secret was found (logged — the value never is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Credential,
    Config,
    Environment,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Credential => "systemd credential",
            Source::Config => "configuration file (evaluation only)",
            Source::Environment => "environment variable (evaluation only)",
        }
    }
}

/// Reads systemd credential `name` from `$CREDENTIALS_DIRECTORY`, trimming one trailing newline.
pub fn credential(name: &str) -> Option<SecretString> {
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    let path = PathBuf::from(dir).join(name);
    let mut text = std::fs::read_to_string(path).ok()?;
    while text.ends_with('\n') || text.ends_with('\r') {
        text.pop();
    }
    (!text.is_empty()).then(|| SecretString::from(text))
}

fn env_secret(var: &str) -> Option<SecretString> {
    std::env::var(var)
        .ok()
        .filter(|v| !v.is_empty())
        .map(SecretString::from)
}

/// The key for provider `name`: credential `<name>-api-key`, else the config value, else the
/// environment variable `env_var`.
pub fn provider_key(
    name: &str,
    from_config: Option<&SecretString>,
    env_var: Option<&str>,
) -> Option<(SecretString, Source)> {
    if let Some(k) = credential(&format!("{name}-api-key")) {
        return Some((k, Source::Credential));
    }
    if let Some(k) = from_config {
        return Some((k.clone(), Source::Config));
    }
    env_var
        .and_then(env_secret)
        .map(|k| (k, Source::Environment))
}

/// A configured admin key: credential `admin-api-key`, else `TAPPASS_ADMIN_API_KEY`.
pub fn admin_key() -> Option<(SecretString, Source)> {
    if let Some(k) = credential("admin-api-key") {
        return Some((k, Source::Credential));
    }
    env_secret("TAPPASS_ADMIN_API_KEY").map(|k| (k, Source::Environment))
}

/// The Redis URL (it may hold a password): credential `redis-url`, else `[redis] url`.
pub fn redis_url(from_config: Option<&str>) -> Option<(SecretString, Source)> {
    if let Some(u) = credential("redis-url") {
        return Some((u, Source::Credential));
    }
    from_config.map(|u| (SecretString::from(u.to_owned()), Source::Config))
}
