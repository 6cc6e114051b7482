//! TapPass configuration: schema, loading and validation.
//!
//! Sources, highest precedence first: command-line flags ([`Overrides`]) > environment
//! (`TAPPASS_<SECTION>__<KEY>`) > configuration file (TOML) > built-in defaults.
//! See `docs/configuration.md` for every key.
//!
//! Loading works in steps so that every error can say where the bad value came from:
//! 1. the file alone is parsed and deserialized (errors carry `file:line`);
//! 2. each `TAPPASS_…__…` variable is checked alone against the schema (errors name the
//!    variable), then all are merged over the file's table and deserialized again;
//! 3. flags are applied, providers resolved (built-in `openai`/`anthropic`, base-URL
//!    fallbacks), and the result validated (errors name the key and its source).

mod env;
mod error;
pub mod governance;
mod locate;
mod schema;
mod validate;

#[cfg(test)]
mod tests;

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use toml::{Table, Value};

pub use env::{is_override_var, ENV_PREFIX, ENV_SEPARATOR};
pub use error::{ConfigError, Origin};
pub use schema::{
    redact_url, AuditConfig, AuthHeader, BackupConfig, Config, DatabaseConfig, DatabaseKind,
    Environment, HealthConfig, LogConfig, LogFormat, ProviderConfig, ProviderKind, SandboxConfig,
    ServerConfig, StorageConfig, ANTHROPIC_BASE_URL_ENV, DEFAULT_ANTHROPIC_BASE_URL,
    DEFAULT_LISTEN, DEFAULT_MAX_BODY_BYTES, DEFAULT_OPENAI_BASE_URL, DEFAULT_SANDBOX_UID,
    DEFAULT_STATE_DIR, MAX_BODY_BYTES_LIMIT, MOCK_PROVIDER, OPENAI_BASE_URL_ENV, SQLITE_FILE_NAME,
};

use schema::RawConfig;
use validate::{FileSource, Provenance};

/// The configuration file read when no path is given explicitly (if it exists).
pub const DEFAULT_CONFIG_PATH: &str = "/etc/tappass/tappass.toml";

/// Variable set by systemd's `StateDirectory=`; colon-separated when several are configured.
pub const STATE_DIRECTORY_ENV: &str = "STATE_DIRECTORY";

/// Command-line flags that override configuration keys (highest precedence).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `--listen`: overrides `server.listen`.
    pub listen: Option<SocketAddr>,
    /// `--state-dir`: overrides `storage.state_dir`.
    pub state_dir: Option<PathBuf>,
    /// `--database-url`: overrides `database.url` (validated like the file value).
    pub database_url: Option<String>,
}

/// Loads the configuration for the daemon.
///
/// The file is `explicit` when given (it must exist), else [`DEFAULT_CONFIG_PATH`] when it
/// exists, else none (built-in defaults). The environment is the process environment.
pub fn load(explicit: Option<&Path>, overrides: &Overrides) -> Result<Config, ConfigError> {
    let path: Option<PathBuf> = match explicit {
        Some(p) => Some(p.to_owned()),
        None => {
            let default = Path::new(DEFAULT_CONFIG_PATH);
            match default.try_exists() {
                Ok(true) => Some(default.to_owned()),
                Ok(false) => None,
                Err(source) => {
                    return Err(ConfigError::Read {
                        path: default.to_owned(),
                        source,
                    })
                }
            }
        }
    };
    let env = process_env()?;
    load_from(path.as_deref(), &env, overrides)
}

/// Checks a configuration file as the daemon would load it (file + process environment, no
/// flags), for `tappass config check FILE`.
pub fn check_file(path: &Path) -> Result<Config, ConfigError> {
    let env = process_env()?;
    load_from(Some(path), &env, &Overrides::default())
}

/// The testable core of [`load`]: reads `path` if given (it must exist), applies the
/// environment `env` and the flags `overrides`, resolves and validates.
pub fn load_from(
    path: Option<&Path>,
    env: &[(String, String)],
    overrides: &Overrides,
) -> Result<Config, ConfigError> {
    let file = match path {
        Some(p) => Some(FileSource::new(p.to_owned(), read_file(p)?)),
        None => None,
    };
    load_source(file, env, overrides)
}

/// `text` loaded as if it were the file at `path` (nothing is read from disk there; the
/// fuzzer's entry point).
pub fn load_text(
    path: &Path,
    text: String,
    env: &[(String, String)],
) -> Result<Config, ConfigError> {
    load_source(
        Some(FileSource::new(path.to_owned(), text)),
        env,
        &Overrides::default(),
    )
}

fn load_source(
    file: Option<FileSource>,
    env: &[(String, String)],
    overrides: &Overrides,
) -> Result<Config, ConfigError> {
    let mut prov = Provenance::default();
    let mut table = Table::new();

    // 1. The file alone.
    let source_file = file.as_ref().map(|f| f.path.clone());
    if let Some(file) = file {
        table = file.text.parse::<Table>().map_err(|e| {
            let problem = locate::syntax_problem(&e);
            file_error(&file, problem)
        })?;
        locate::deserialize::<RawConfig>(&file.text).map_err(|p| file_error(&file, p))?;
        prov.file = Some(file);
    }

    // 2. Environment overrides, each checked alone, then merged over the file.
    let env_overrides = env::collect(env)?;
    for o in &env_overrides {
        for p in o.paths() {
            prov.env.push((p, o.var.clone()));
        }
        env::merge_at(&mut table, &o.path, o.value.clone());
    }
    let mut raw: RawConfig = Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| {
            let vars: Vec<&str> = env_overrides.iter().map(|o| o.var.as_str()).collect();
            ConfigError::Parse {
                origin: Origin::Env {
                    var: vars.join(", "),
                },
                message: e.message().to_owned(),
            }
        })?;

    // 3. Flags.
    let mut flag = |key: [&str; 2], name: &str| {
        prov.flags.push((
            key.iter().map(|s| (*s).to_owned()).collect(),
            name.to_owned(),
        ));
    };
    if let Some(listen) = overrides.listen {
        raw.server.listen = listen;
        flag(["server", "listen"], "--listen");
    }
    if let Some(dir) = &overrides.state_dir {
        raw.storage.state_dir = Some(dir.clone());
        flag(["storage", "state_dir"], "--state-dir");
    }
    if let Some(url) = &overrides.database_url {
        raw.database.url = Some(url.clone());
        flag(["database", "url"], "--database-url");
    }

    // 4. Resolve and validate.
    let providers = validate::resolve_providers(raw.providers, env, &mut prov)?;
    let config = Config {
        server: raw.server,
        storage: raw.storage,
        database: raw.database,
        providers,
        models: raw.models,
        audit: raw.audit,
        backup: raw.backup,
        health: raw.health,
        log: raw.log,
        sandbox: raw.sandbox,
        governance: governance::GovernanceConfig {
            pipeline: raw.pipeline,
            flags: raw.flags,
            limits: raw.limits,
            budgets: raw.budgets,
            prices: raw.prices,
            redis: raw.redis,
            policy: raw.policy,
            tools: raw.tools,
        },
        source_file,
        systemd_state_directory: env::lookup(env, STATE_DIRECTORY_ENV)
            .and_then(|v| v.split(':').next())
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
    };
    validate::validate(&config, &prov)?;
    Ok(config)
}

fn file_error(file: &FileSource, problem: locate::Problem) -> ConfigError {
    let origin = file.origin_at(problem.span());
    match problem {
        locate::Problem::Parse { message, .. } => ConfigError::Parse { origin, message },
        locate::Problem::Unknown {
            section,
            key,
            expected,
            ..
        } => ConfigError::UnknownKey {
            origin,
            section: section.map(|s| validate::dotted(&s)),
            key,
            expected,
        },
        locate::Problem::Invalid { key, message, .. } => ConfigError::Invalid {
            origin,
            key: validate::dotted(&key),
            message,
        },
    }
}

fn read_file(path: &Path) -> Result<String, ConfigError> {
    let err = |source| ConfigError::Read {
        path: path.to_owned(),
        source,
    };
    let bytes = std::fs::read(path).map_err(err)?;
    let text = String::from_utf8(bytes).map_err(|_| {
        err(io::Error::new(
            io::ErrorKind::InvalidData,
            "not valid UTF-8",
        ))
    })?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(stripped) => stripped.to_owned(),
        None => text,
    })
}

/// The process environment as UTF-8 pairs. Variables that are not UTF-8 are skipped, unless
/// they are configuration overrides (then it is an error naming the variable).
fn process_env() -> Result<Vec<(String, String)>, ConfigError> {
    let mut out = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Ok(name) = name.into_string() else {
            continue;
        };
        match value.into_string() {
            Ok(value) => out.push((name, value)),
            Err(_) if is_override_var(&name) => {
                return Err(ConfigError::Parse {
                    origin: Origin::Env { var: name },
                    message: "value is not valid UTF-8".to_owned(),
                })
            }
            Err(_) => {}
        }
    }
    Ok(out)
}
