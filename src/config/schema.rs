//! The configuration schema: the public, resolved [`Config`] and the raw, file-shaped
//! types it is deserialized from.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use serde::{Deserialize, Deserializer};

/// Default listen address of the gateway.
pub const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)), 9620);
/// Default request body cap: 5 MiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 5 * 1024 * 1024;
/// Upper bound for `server.max_body_bytes`: 1 GiB.
pub const MAX_BODY_BYTES_LIMIT: u64 = 1024 * 1024 * 1024;
/// State directory used when neither the configuration nor `$STATE_DIRECTORY` names one.
pub const DEFAULT_STATE_DIR: &str = "./tappass-data";
/// The packages' state directory (`StateDirectory=tappass`).
pub const PACKAGED_STATE_DIR: &str = "/var/lib/tappass";
/// File name of the default SQLite database inside the state directory.
pub const SQLITE_FILE_NAME: &str = "tappass.db";
/// Built-in base URL of the `openai` provider.
pub const DEFAULT_OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// Built-in base URL of the `anthropic` provider.
pub const DEFAULT_ANTHROPIC_BASE_URL: &str = "https://api.anthropic.com";
/// Environment variable that supplies the `openai` base URL when the configuration does not.
pub const OPENAI_BASE_URL_ENV: &str = "TAPPASS_OPENAI_BASE_URL";
/// Environment variable that supplies the `anthropic` base URL when the configuration does not.
pub const ANTHROPIC_BASE_URL_ENV: &str = "TAPPASS_ANTHROPIC_BASE_URL";
/// Name of the built-in mock provider (models `mock/…`).
pub const MOCK_PROVIDER: &str = "mock";

/// The complete, validated TapPass configuration.
///
/// Produced by [`load`](super::load), [`load_from`](super::load_from) or
/// [`check_file`](super::check_file); `Config::default()` is the built-in defaults with an
/// empty environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `[server]`: the HTTP listener.
    pub server: ServerConfig,
    /// `[storage]`: where TapPass keeps its state.
    pub storage: StorageConfig,
    /// `[database]`: audit/agent database.
    pub database: DatabaseConfig,
    /// `[providers.<name>]`: upstream LLM providers by name. Always contains `openai` and
    /// `anthropic`.
    pub providers: BTreeMap<String, ProviderConfig>,
    /// `[models]`: bare model name → provider name (a key of `providers`, or `mock`).
    pub models: BTreeMap<String, String>,
    /// `[audit]`: audit trail tuning.
    pub audit: AuditConfig,
    /// `[backup]`: where `tappass backup` writes and how long backups are kept.
    pub backup: BackupConfig,
    /// `[health]`: what `tappass health` (the monitor of `tappass-health.timer`) checks and
    /// where it alerts.
    pub health: HealthConfig,
    /// `[log]`: logging.
    pub log: LogConfig,
    /// `[sandbox]`: how the daemon confines itself (uid drop, landlock).
    pub sandbox: SandboxConfig,
    /// The governance sections (`[pipeline]`, `[flags]`, `[limits]`, `[budgets]`, `[prices]`,
    /// `[redis]`, `[policy]`, `[tools]`): hot-reloadable.
    pub governance: super::governance::GovernanceConfig,
    /// The configuration file that was read, if any.
    pub source_file: Option<PathBuf>,
    /// First entry of `$STATE_DIRECTORY` at load time (set by systemd's `StateDirectory=`).
    pub(super) systemd_state_directory: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        super::load_from(None, &[], &super::Overrides::default())
            .expect("built-in configuration defaults are valid")
    }
}

impl Config {
    /// The state directory: the configured value (flag, environment or file), else the first
    /// entry of `$STATE_DIRECTORY` (as seen at load time), else — for the packaged
    /// configuration, `/etc/tappass/tappass.toml`, when `/var/lib/tappass` exists — the
    /// packages' state directory, so `sudo tappass backup|restore|audit verify` on an installed
    /// host work on the daemon's data; else `./tappass-data`.
    pub fn state_dir(&self) -> PathBuf {
        self.storage
            .state_dir
            .clone()
            .or_else(|| self.systemd_state_directory.clone())
            .or_else(|| {
                let packaged = self
                    .source_file
                    .as_deref()
                    .is_some_and(|f| f == std::path::Path::new(super::DEFAULT_CONFIG_PATH));
                let dir = std::path::Path::new(PACKAGED_STATE_DIR);
                (packaged && dir.is_dir()).then(|| dir.to_path_buf())
            })
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE_DIR))
    }

    /// The database to use: the configured URL, else the SQLite file
    /// `<state_dir>/tappass.db`.
    ///
    /// `load` guarantees a valid URL. For a hand-built `Config` with an unsupported URL this
    /// returns `Postgres(url)` and connecting will fail; call [`Config::validate`] first.
    pub fn database_kind(&self) -> DatabaseKind {
        match &self.database.url {
            None => DatabaseKind::Sqlite(self.state_dir().join(SQLITE_FILE_NAME)),
            Some(url) => super::validate::parse_database_url(url)
                .unwrap_or_else(|_| DatabaseKind::Postgres(url.clone())),
        }
    }

    /// The effective database URL with any password masked, safe to log and display.
    pub fn database_url_redacted(&self) -> String {
        match &self.database.url {
            Some(url) => redact_url(url),
            None => format!(
                "sqlite:{}",
                self.state_dir().join(SQLITE_FILE_NAME).display()
            ),
        }
    }

    /// The backup directory: `backup.dir`, else `<state_dir>/backups`.
    pub fn backup_dir(&self) -> PathBuf {
        self.backup
            .dir
            .clone()
            .unwrap_or_else(|| self.state_dir().join("backups"))
    }

    /// The provider with this name, if configured.
    pub fn provider(&self, name: &str) -> Option<&ProviderConfig> {
        self.providers.get(name)
    }

    /// Re-checks a (possibly hand-modified) configuration with the same rules as `load`.
    /// Errors name the key; their origin is [`Origin::Default`](super::Origin::Default)
    /// because the source of the values is not known any more.
    pub fn validate(&self) -> Result<(), super::ConfigError> {
        super::validate::validate(self, &super::validate::Provenance::default())
    }
}

/// Masks the password of a database URL (`postgres://user:***@host/db`, also a
/// `password=` query parameter). Strings without a password are returned unchanged.
pub fn redact_url(url: &str) -> String {
    super::validate::redact_url(url)
}

/// `[server]`: the HTTP listener.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on (`IP:PORT`). Default `127.0.0.1:9620`.
    #[serde(deserialize_with = "de_socket_addr")]
    pub listen: SocketAddr,
    /// Maximum request body size in bytes (1 ..= 1 GiB). Default 5 MiB.
    pub max_body_bytes: u64,
    /// Offer the built-in `mock` provider (models `mock/…`) so TapPass can be tried without a
    /// provider key. Default `true`.
    pub mock_provider: bool,
    /// Serve `/metrics` without authentication. Only allowed when `listen` is a loopback
    /// address. Default `false`.
    pub metrics_public: bool,
    /// Seconds to let in-flight requests finish after SIGTERM. Default 30.
    pub shutdown_grace_secs: u64,
    /// Seconds a client has to send a request's head, from connecting or from its previous
    /// answer (closes slowloris and idle keep-alive connections), 1 ..= 300. Default 30.
    pub header_timeout_secs: u64,
    /// `production` (the packages' setting) reports what is unsafe for production as
    /// `PRODUCTION UNSAFE`; `development` (the built-in default) does not.
    pub environment: Environment,
}

/// `[server] environment`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    #[default]
    Development,
    Production,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: DEFAULT_LISTEN,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            mock_provider: true,
            metrics_public: false,
            shutdown_grace_secs: 30,
            header_timeout_secs: 30,
            environment: Environment::Development,
        }
    }
}

impl ServerConfig {
    /// `shutdown_grace_secs` as a `Duration`.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.shutdown_grace_secs)
    }
}

/// `[storage]`: where TapPass keeps its state (admin key file, SQLite database …).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Explicit state directory. When unset, [`Config::state_dir`] falls back to
    /// `$STATE_DIRECTORY`, then `./tappass-data`.
    pub state_dir: Option<PathBuf>,
}

/// `[database]`: the database holding agents, keys and the audit trail.
///
/// `Debug` masks the password of `url`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite:PATH`, `sqlite://PATH`, `postgres://…` or `postgresql://…`. Unset: the SQLite
    /// file `<state_dir>/tappass.db`. May contain a password: never print it, use
    /// [`Config::database_url_redacted`].
    pub url: Option<String>,
    /// Connection pool size (1 ..= 1000). Default 10.
    pub max_connections: u32,
    /// Seconds to wait for a database connection (1 ..= 3600). Default 5.
    pub connect_timeout_secs: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
            connect_timeout_secs: 5,
        }
    }
}

impl DatabaseConfig {
    /// `connect_timeout_secs` as a `Duration`.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &self.url.as_deref().map(redact_url))
            .field("max_connections", &self.max_connections)
            .field("connect_timeout_secs", &self.connect_timeout_secs)
            .finish()
    }
}

/// Which database [`Config::database_kind`] selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    /// A SQLite database file (path as given: relative paths are relative to the working
    /// directory).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (may contain a password: do not log it).
    Postgres(String),
}

/// Wire format of an upstream provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI and OpenAI-compatible APIs (Azure OpenAI, Ollama, vLLM, LM Studio …).
    OpenAi,
    /// Anthropic Messages API.
    Anthropic,
}

impl ProviderKind {
    /// `"openai"` or `"anthropic"`, as written in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::OpenAi => "openai",
            ProviderKind::Anthropic => "anthropic",
        }
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an OpenAI-compatible provider receives its key.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthHeader {
    /// `Authorization: Bearer KEY`.
    #[default]
    Authorization,
    /// `api-key: KEY` (Azure OpenAI).
    ApiKey,
}

/// A resolved upstream provider (`[providers.<name>]`).
///
/// `Debug` never shows `api_key`.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// The provider's name (the key in `[providers]`), `[a-z0-9_-]+`.
    pub name: String,
    /// Wire format. Inferred for the names `openai` and `anthropic`.
    pub kind: ProviderKind,
    /// Base URL (http or https, no trailing slash).
    pub base_url: String,
    /// API key from the configuration file or environment override (evaluation only; prefer a
    /// systemd credential).
    pub api_key: Option<SecretString>,
    /// Environment variable holding the key, after defaults (`OPENAI_API_KEY` for `openai`,
    /// `ANTHROPIC_API_KEY` for `anthropic`); `None` when there is none or it was disabled with
    /// `api_key_env = ""`.
    pub api_key_env: Option<String>,
    /// How the key is sent (OpenAI-compatible providers): `authorization` (`Bearer KEY`, the
    /// default) or `api-key` (an `api-key: KEY` header, as Azure OpenAI expects).
    pub auth_header: AuthHeader,
    /// Total upstream request timeout in seconds (1 ..= 3600). Default 120.
    pub timeout_secs: u64,
    /// Upstream connect timeout in seconds (1 ..= 3600). Default 10.
    pub connect_timeout_secs: u64,
}

impl ProviderConfig {
    /// Default total upstream timeout.
    pub const DEFAULT_TIMEOUT_SECS: u64 = 120;
    /// Default upstream connect timeout.
    pub const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;

    /// The provider's wire format.
    pub fn kind(&self) -> ProviderKind {
        self.kind
    }

    /// The environment variable to read the API key from as a last resort (evaluation only).
    pub fn resolved_api_key_env(&self) -> Option<&str> {
        self.api_key_env.as_deref()
    }

    /// Name of the systemd credential holding this provider's key: `<name>-api-key`
    /// (read from `$CREDENTIALS_DIRECTORY`).
    pub fn credential_name(&self) -> String {
        format!("{}-api-key", self.name)
    }

    /// `timeout_secs` as a `Duration`.
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// `connect_timeout_secs` as a `Duration`.
    pub fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.connect_timeout_secs)
    }
}

/// `[audit]`: audit trail tuning.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Maximum number of events committed in one transaction (group commit), 1 ..= 10000.
    /// Default 256.
    pub batch_max: usize,
    /// Seconds between signed checkpoints of the chain head (when it moved), 1 ..= 86400.
    /// Default 60. One is also written on shutdown.
    pub checkpoint_secs: u64,
    /// While the database cannot take events, fsync them to `<state_dir>/spool` and keep
    /// answering; they are replayed into the database in order once it is back. `false`: refuse
    /// requests with 503 instead. Default `true`.
    pub spool: bool,
    /// Most MiB the spool may hold, 1 ..= 1048576; beyond it requests are refused with 503.
    /// Default 1024.
    pub spool_max_mb: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            batch_max: 256,
            checkpoint_secs: 60,
            spool: true,
            spool_max_mb: 1024,
        }
    }
}

/// `[backup]`: `tappass backup` (run daily by `tappass-backup.timer`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BackupConfig {
    /// Directory of the backups (absolute). Default: `<state_dir>/backups`.
    pub dir: Option<PathBuf>,
    /// Days a backup is kept, 1 ..= 3650 (the newest one is always kept). Default 30.
    pub retention_days: u32,
}

impl Default for BackupConfig {
    fn default() -> Self {
        Self {
            dir: None,
            retention_days: 30,
        }
    }
}

/// `[health]`: the monitor `tappass health` (run every 5 minutes by `tappass-health.timer`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HealthConfig {
    /// Alert when the filesystem of the state or backup directory is fuller than this
    /// percentage, 1 ..= 100. Default 90.
    pub disk_percent: u8,
    /// Certificate files (PEM, absolute paths) whose expiry is watched.
    pub certificates: Vec<PathBuf>,
    /// Alert when a watched certificate expires in fewer days than this, 1 ..= 3650. Default 30.
    pub certificate_days: u32,
    /// External URLs that must answer (any status below 400), e.g. a licence server or the
    /// providers' status pages.
    pub urls: Vec<String>,
    /// Alert when the newest backup is older than this many hours, 1 ..= 8760. Default 48.
    pub backup_max_age_hours: u32,
    /// Seconds each network check may take, 1 ..= 300. Default 10.
    pub timeout_secs: u64,
    /// A Slack-compatible incoming webhook for alerts. A secret: prefer the systemd credential
    /// `health-slack-webhook` (this value is for evaluation; `HEALTH_SLACK_WEBHOOK` too).
    #[serde(deserialize_with = "de_opt_secret")]
    pub slack_webhook: Option<SecretString>,
}

impl Default for HealthConfig {
    fn default() -> Self {
        Self {
            disk_percent: 90,
            certificates: Vec::new(),
            certificate_days: 30,
            urls: Vec::new(),
            backup_max_age_hours: 48,
            timeout_secs: 10,
            slack_webhook: None,
        }
    }
}

fn de_opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
    Ok(Option::<String>::deserialize(d)?
        .filter(|s| !s.is_empty())
        .map(SecretString::from))
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Let the logging setup choose `plain` or `json` for the output (terminal, journal).
    #[default]
    Auto,
    /// Human-readable lines.
    Plain,
    /// One JSON object per line.
    Json,
}

/// `[log]`: logging.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `auto`, `plain` or `json`. Default `auto`.
    pub format: LogFormat,
    /// A `tracing` EnvFilter directive string, e.g. `info` or `info,tappass=debug`.
    /// Default `info`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Auto,
            level: "info".to_owned(),
        }
    }
}

/// Uid the daemon drops to when started as root outside systemd (the Docker image's `tappass`).
pub const DEFAULT_SANDBOX_UID: u32 = 999;

/// `[sandbox]`: self-confinement. The daemon always disables core dumps; it drops root and
/// applies landlock before its runtime starts (see `docs/hardening.md`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxConfig {
    /// Refuse to start unless landlock is fully enforced (filesystem and TCP rules).
    /// Default `false`: best effort, with the outcome logged and shown on `/health`.
    pub require: bool,
    /// The uid to run as when started as root outside systemd. Never 0. Default 999.
    pub uid: u32,
    /// Extra read-only paths (beyond config, credentials, trust store and libraries).
    pub read_paths: Vec<PathBuf>,
    /// Extra read-write paths (beyond the state, runtime and cache directories).
    pub write_paths: Vec<PathBuf>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            require: false,
            uid: DEFAULT_SANDBOX_UID,
            read_paths: Vec::new(),
            write_paths: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Raw (file-shaped) types.

/// The configuration exactly as written (file + environment), before resolution.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) server: ServerConfig,
    pub(super) storage: StorageConfig,
    pub(super) database: DatabaseConfig,
    pub(super) providers: BTreeMap<String, RawProvider>,
    pub(super) models: BTreeMap<String, String>,
    pub(super) audit: AuditConfig,
    pub(super) backup: BackupConfig,
    pub(super) health: HealthConfig,
    pub(super) log: LogConfig,
    pub(super) sandbox: SandboxConfig,
    pub(super) pipeline: super::governance::PipelineConfig,
    pub(super) flags: super::governance::FlagsConfig,
    pub(super) limits: super::governance::LimitsConfig,
    pub(super) budgets: super::governance::BudgetsConfig,
    pub(super) prices: BTreeMap<String, super::governance::PriceConfig>,
    pub(super) redis: super::governance::RedisConfig,
    pub(super) policy: super::governance::PolicyConfig,
    pub(super) tools: super::governance::ToolsConfig,
}

/// `[providers.<name>]` as written. No `Debug`: it holds the plain API key.
#[derive(Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawProvider {
    pub(super) kind: Option<ProviderKind>,
    pub(super) base_url: Option<String>,
    pub(super) api_key: Option<String>,
    pub(super) api_key_env: Option<String>,
    pub(super) auth_header: Option<AuthHeader>,
    pub(super) timeout_secs: Option<u64>,
    pub(super) connect_timeout_secs: Option<u64>,
}

fn de_socket_addr<'de, D: Deserializer<'de>>(d: D) -> Result<SocketAddr, D::Error> {
    let s = String::deserialize(d)?;
    super::validate::parse_socket_addr(&s).map_err(serde::de::Error::custom)
}
