//! Tests of the configuration loader.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::ExposeSecret as _;

use super::*;

/// A temporary config file, removed on drop.
struct TempFile(PathBuf);

impl TempFile {
    fn new(contents: &str) -> TempFile {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "tappass-config-test-{}-{}.toml",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let mut f = std::fs::File::create(&path).expect("create temp file");
        f.write_all(contents.as_bytes()).expect("write temp file");
        TempFile(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn load_str(toml: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let f = TempFile::new(toml);
    load_from(Some(f.path()), &env(vars), &Overrides::default())
}

fn load_err(toml: &str, vars: &[(&str, &str)]) -> (String, String) {
    let f = TempFile::new(toml);
    let err = load_from(Some(f.path()), &env(vars), &Overrides::default())
        .expect_err("expected a configuration error");
    let msg = err.to_string();
    let prefix = f.path().display().to_string();
    let rest = msg
        .strip_prefix(&prefix)
        .map(str::to_owned)
        .unwrap_or_else(|| msg.clone());
    (msg, rest)
}

fn env_err(vars: &[(&str, &str)]) -> String {
    load_from(None, &env(vars), &Overrides::default())
        .expect_err("expected a configuration error")
        .to_string()
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

// ---------------------------------------------------------------------------------------------
// Defaults and parsing.

#[test]
fn defaults() {
    let c = load_from(None, &[], &Overrides::default()).unwrap();
    assert_eq!(c.server.listen, addr("127.0.0.1:9620"));
    assert_eq!(c.server.max_body_bytes, 5_242_880);
    assert!(c.server.mock_provider);
    assert!(!c.server.metrics_public);
    assert_eq!(c.server.shutdown_grace_secs, 30);
    assert_eq!(c.storage.state_dir, None);
    assert_eq!(c.state_dir(), PathBuf::from("./tappass-data"));
    assert_eq!(c.database.url, None);
    assert_eq!(c.database.max_connections, 10);
    assert_eq!(c.database.connect_timeout_secs, 5);
    assert_eq!(
        c.database_kind(),
        DatabaseKind::Sqlite(PathBuf::from("./tappass-data/tappass.db"))
    );
    assert_eq!(c.audit.batch_max, 256);
    assert_eq!(c.log.format, LogFormat::Auto);
    assert_eq!(c.log.level, "info");
    assert!(c.models.is_empty());
    assert_eq!(c.source_file, None);

    assert_eq!(c.providers.len(), 2);
    let openai = &c.providers["openai"];
    assert_eq!(openai.kind(), ProviderKind::OpenAi);
    assert_eq!(openai.base_url, "https://api.openai.com/v1");
    assert_eq!(openai.resolved_api_key_env(), Some("OPENAI_API_KEY"));
    assert!(openai.api_key.is_none());
    assert_eq!(openai.timeout_secs, 120);
    assert_eq!(openai.connect_timeout_secs, 10);
    assert_eq!(openai.credential_name(), "openai-api-key");
    let anthropic = &c.providers["anthropic"];
    assert_eq!(anthropic.kind(), ProviderKind::Anthropic);
    assert_eq!(anthropic.base_url, "https://api.anthropic.com");
    assert_eq!(anthropic.resolved_api_key_env(), Some("ANTHROPIC_API_KEY"));

    let d = Config::default();
    assert_eq!(d.server, c.server);
    assert_eq!(d.providers.len(), 2);
    assert!(d.validate().is_ok());
}

#[test]
fn empty_file_is_defaults() {
    let c = load_str("", &[]).unwrap();
    assert_eq!(c.server, ServerConfig::default());
    assert!(c.source_file.is_some());
}

#[test]
fn file_parse() {
    let c = load_str(
        r#"
[server]
listen = "0.0.0.0:8080"
max_body_bytes = 1024
mock_provider = false
shutdown_grace_secs = 5

[storage]
state_dir = "/var/lib/tappass"

[database]
url = "postgres://tappass:s3cret@db.internal:5432/tappass"
max_connections = 20
connect_timeout_secs = 3

[providers.openai]
api_key_env = "MY_OPENAI_KEY"
timeout_secs = 60

[providers.ollama]
kind = "openai"
base_url = "http://127.0.0.1:11434/v1/"

[providers.claude-eu]
kind = "anthropic"
base_url = "https://eu.example.com"
api_key = "sk-ant-test"

[models]
llama3 = "ollama"
"llama3.1:8b" = "ollama"
toy = "openai"

[audit]
batch_max = 100

[log]
format = "json"
level = "info,tappass=debug"
"#,
        &[],
    )
    .unwrap();
    assert_eq!(c.server.listen, addr("0.0.0.0:8080"));
    assert_eq!(c.server.max_body_bytes, 1024);
    assert!(!c.server.mock_provider);
    assert_eq!(c.server.shutdown_grace_secs, 5);
    assert_eq!(c.state_dir(), PathBuf::from("/var/lib/tappass"));
    assert_eq!(c.database.max_connections, 20);
    assert_eq!(c.database.connect_timeout_secs, 3);
    assert_eq!(
        c.database_kind(),
        DatabaseKind::Postgres("postgres://tappass:s3cret@db.internal:5432/tappass".into())
    );
    assert_eq!(c.providers.len(), 4);
    let openai = &c.providers["openai"];
    assert_eq!(openai.kind(), ProviderKind::OpenAi);
    assert_eq!(openai.base_url, DEFAULT_OPENAI_BASE_URL);
    assert_eq!(openai.resolved_api_key_env(), Some("MY_OPENAI_KEY"));
    assert_eq!(openai.timeout_secs, 60);
    let ollama = &c.providers["ollama"];
    assert_eq!(ollama.kind(), ProviderKind::OpenAi);
    assert_eq!(
        ollama.base_url, "http://127.0.0.1:11434/v1",
        "trailing slash dropped"
    );
    assert_eq!(ollama.resolved_api_key_env(), None);
    let claude = &c.providers["claude-eu"];
    assert_eq!(claude.kind(), ProviderKind::Anthropic);
    assert_eq!(
        claude.api_key.as_ref().unwrap().expose_secret(),
        "sk-ant-test"
    );
    assert_eq!(c.models["llama3"], "ollama");
    assert_eq!(c.models["llama3.1:8b"], "ollama");
    assert_eq!(c.audit.batch_max, 100);
    assert_eq!(c.log.format, LogFormat::Json);
    assert_eq!(c.log.level, "info,tappass=debug");
}

#[test]
fn missing_explicit_file_is_an_error() {
    let path = Path::new("/nonexistent/tappass-test/tappass.toml");
    let err = load_from(Some(path), &[], &Overrides::default()).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("/nonexistent/tappass-test/tappass.toml: cannot read"),
        "{err}"
    );
    let err = load(Some(path), &Overrides::default()).unwrap_err();
    assert!(matches!(err, ConfigError::Read { .. }), "{err:?}");
}

#[test]
fn syntax_error_has_line() {
    let (_, rest) = load_err(
        "[server]\nlisten = \"127.0.0.1:1\"\nmax_body_bytes = = 3\n",
        &[],
    );
    assert!(rest.starts_with(":3: "), "{rest}");
    let (_, rest) = load_err("[server]\n[server]\n", &[]);
    assert!(rest.starts_with(":2: "), "{rest}");
    assert!(rest.contains("duplicate"), "{rest}");
}

// ---------------------------------------------------------------------------------------------
// Unknown keys and bad values in the file.

#[test]
fn unknown_key_with_line() {
    let (msg, rest) = load_err(
        "# TapPass\n\n[server]\nlisten = \"127.0.0.1:9620\"\nlistn = \"127.0.0.1:9621\"\n",
        &[],
    );
    assert_eq!(
        rest,
        ":5: unknown key `listn` in [server] (expected one of: listen, max_body_bytes, \
         mock_provider, metrics_public, shutdown_grace_secs, header_timeout_secs, environment)",
        "{msg}"
    );
}

#[test]
fn unknown_key_nested_and_top_level() {
    let (_, rest) = load_err(
        "[providers.openai]\ntimeout_secs = 3\n\n[providers.ollama]\nkind = \"openai\"\nbase_ur = \"http://x\"\n",
        &[],
    );
    assert!(
        rest.starts_with(
            ":6: unknown key `base_ur` in [providers.ollama] (expected one of: kind, base_url, "
        ),
        "{rest}"
    );
    let (_, rest) = load_err("[server]\n\n[sever]\nlisten = \"1.2.3.4:5\"\n", &[]);
    assert!(
        rest.starts_with(":3: unknown key `sever` at top level (expected one of: server, storage, database, providers, models, audit, backup, health, log, sandbox, pipeline, flags, limits, budgets, prices, redis, policy, tools)"),
        "{rest}"
    );
    let (_, rest) = load_err("log = { format = \"plain\", colour = true }\n", &[]);
    assert!(
        rest.starts_with(":1: unknown key `colour` in [log]"),
        "{rest}"
    );
}

#[test]
fn unknown_key_error_fields() {
    let f = TempFile::new("[audit]\nbatch = 3\n");
    let err = load_from(Some(f.path()), &[], &Overrides::default()).unwrap_err();
    match &err {
        ConfigError::UnknownKey {
            origin,
            section,
            key,
            expected,
        } => {
            assert_eq!(
                origin,
                &Origin::File {
                    path: f.path().to_owned(),
                    line: Some(2)
                }
            );
            assert_eq!(section.as_deref(), Some("audit"));
            assert_eq!(key, "batch");
            assert_eq!(
                expected,
                &[
                    "batch_max".to_owned(),
                    "checkpoint_secs".to_owned(),
                    "spool".to_owned(),
                    "spool_max_mb".to_owned()
                ]
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(err.key().as_deref(), Some("audit.batch"));
}

#[test]
fn bad_value_with_line() {
    let (_, rest) = load_err("\n\n[server]\nlisten = \"foo\"\n", &[]);
    assert!(
        rest.starts_with(":4: server.listen: invalid socket address \"foo\""),
        "{rest}"
    );
    let (_, rest) = load_err("[server]\nmax_body_bytes = \"big\"\n", &[]);
    assert!(
        rest.starts_with(":2: server.max_body_bytes: invalid type: string \"big\""),
        "{rest}"
    );
    let (_, rest) = load_err("[log]\nformat = \"xml\"\n", &[]);
    assert!(
        rest.starts_with(":2: log.format: unknown variant `xml`"),
        "{rest}"
    );
    let (_, rest) = load_err(
        "[providers.x]\nkind = \"azure\"\nbase_url = \"http://h\"\n",
        &[],
    );
    assert!(
        rest.starts_with(":2: providers.x.kind: unknown variant `azure`"),
        "{rest}"
    );
    let (_, rest) = load_err("[models]\nllama3 = 3\n", &[]);
    assert!(
        rest.starts_with(":2: models.llama3: invalid type: integer"),
        "{rest}"
    );
}

#[test]
fn validation_errors_have_line() {
    let (_, rest) = load_err("[server]\n\nmax_body_bytes = 0\n", &[]);
    assert_eq!(
        rest,
        ":3: server.max_body_bytes: must be between 1 and 1073741824, got 0"
    );
    let (_, rest) = load_err("[database]\nmax_connections = 5000\n", &[]);
    assert!(
        rest.starts_with(":2: database.max_connections: must be between 1 and 1000"),
        "{rest}"
    );
    let (_, rest) = load_err("[audit]\nbatch_max = 0\n", &[]);
    assert!(rest.starts_with(":2: audit.batch_max:"), "{rest}");
    let (_, rest) = load_err("[log]\nlevel = \"tappass=loud\"\n", &[]);
    assert!(
        rest.starts_with(":2: log.level: invalid log filter"),
        "{rest}"
    );
    let (_, rest) = load_err("[providers.openai]\ntimeout_secs = 0\n", &[]);
    assert!(
        rest.starts_with(":2: providers.openai.timeout_secs:"),
        "{rest}"
    );
}

#[test]
fn provider_rules() {
    // kind required for other names, reported at the table header.
    let (_, rest) = load_err(
        "\n[providers.ollama]\nbase_url = \"http://127.0.0.1:11434/v1\"\n",
        &[],
    );
    assert!(
        rest.starts_with(":2: providers.ollama.kind: required"),
        "{rest}"
    );
    // base_url required for other names.
    let (_, rest) = load_err("[providers.ollama]\nkind = \"openai\"\n", &[]);
    assert!(
        rest.starts_with(":1: providers.ollama.base_url: required"),
        "{rest}"
    );
    // base_url must be http(s) with a host.
    for bad in [
        "ftp://h",
        "http://",
        "localhost:11434",
        "http://h:99999",
        "http://u:p@h",
    ] {
        let (_, rest) = load_err(
            &format!("[providers.x]\nkind = \"openai\"\nbase_url = {bad:?}\n"),
            &[],
        );
        assert!(
            rest.starts_with(":3: providers.x.base_url: "),
            "{bad}: {rest}"
        );
    }
    // Invalid names.
    let (_, rest) = load_err(
        "[providers.Ollama]\nkind = \"openai\"\nbase_url = \"http://h\"\n",
        &[],
    );
    assert!(
        rest.starts_with(":1: providers.Ollama: invalid provider name"),
        "{rest}"
    );
    let (_, rest) = load_err(
        "[providers.mock]\nkind = \"openai\"\nbase_url = \"http://h\"\n",
        &[],
    );
    assert!(rest.contains("reserved"), "{rest}");
    // The built-in names keep their kind.
    let (_, rest) = load_err("[providers.openai]\nkind = \"anthropic\"\n", &[]);
    assert!(rest.starts_with(":2: providers.openai.kind:"), "{rest}");
    // api_key_env must not name a TapPass secret.
    let (_, rest) = load_err(
        "[providers.openai]\napi_key_env = \"TAPPASS_ADMIN_API_KEY\"\n",
        &[],
    );
    assert!(
        rest.starts_with(":2: providers.openai.api_key_env:"),
        "{rest}"
    );
    // api_key_env = "" disables the env fallback.
    let c = load_str("[providers.openai]\napi_key_env = \"\"\n", &[]).unwrap();
    assert_eq!(c.providers["openai"].resolved_api_key_env(), None);
    // An explicit kind = "openai" on the openai provider is fine.
    assert!(load_str("[providers.openai]\nkind = \"openai\"\n", &[]).is_ok());
}

#[test]
fn ipv6_listen_and_urls() {
    let c = load_str(
        "[server]\nlisten = \"[::1]:9700\"\nmetrics_public = true\n[providers.v6]\nkind = \"openai\"\nbase_url = \"http://[fd00::1]:8000/v1\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(c.server.listen, addr("[::1]:9700"));
    assert_eq!(c.providers["v6"].base_url, "http://[fd00::1]:8000/v1");
}

// ---------------------------------------------------------------------------------------------
// Precedence.

#[test]
fn env_override_beats_file() {
    let c = load_str(
        "[server]\nlisten = \"127.0.0.1:1111\"\nmax_body_bytes = 10\n[database]\nmax_connections = 3\n",
        &[
            ("TAPPASS_SERVER__LISTEN", "127.0.0.1:2222"),
            ("TAPPASS_DATABASE__MAX_CONNECTIONS", "7"),
            ("TAPPASS_SERVER__MOCK_PROVIDER", "false"),
            ("TAPPASS_LOG__LEVEL", "debug"),
        ],
    )
    .unwrap();
    assert_eq!(c.server.listen, addr("127.0.0.1:2222"));
    assert_eq!(c.server.max_body_bytes, 10, "untouched file value stays");
    assert_eq!(c.database.max_connections, 7);
    assert!(!c.server.mock_provider);
    assert_eq!(c.log.level, "debug");
}

#[test]
fn flag_beats_env() {
    let f =
        TempFile::new("[server]\nlisten = \"127.0.0.1:1111\"\n[storage]\nstate_dir = \"/file\"\n");
    let overrides = Overrides {
        listen: Some(addr("127.0.0.1:3333")),
        state_dir: Some(PathBuf::from("/flag")),
        database_url: Some("sqlite:///flag/db.sqlite".into()),
    };
    let c = load_from(
        Some(f.path()),
        &env(&[
            ("TAPPASS_SERVER__LISTEN", "127.0.0.1:2222"),
            ("TAPPASS_STORAGE__STATE_DIR", "/env"),
            ("TAPPASS_DATABASE__URL", "postgres://env/db"),
        ]),
        &overrides,
    )
    .unwrap();
    assert_eq!(c.server.listen, addr("127.0.0.1:3333"));
    assert_eq!(c.state_dir(), PathBuf::from("/flag"));
    assert_eq!(
        c.database_kind(),
        DatabaseKind::Sqlite(PathBuf::from("/flag/db.sqlite"))
    );

    // A bad flag value is reported as coming from the flag.
    let err = load_from(
        Some(f.path()),
        &env(&[("TAPPASS_DATABASE__URL", "postgres://env/db")]),
        &Overrides {
            database_url: Some("mysql://root:pw@h/db".into()),
            ..Overrides::default()
        },
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.starts_with("command-line flag --database-url: database.url: unsupported database URL scheme `mysql:`"),
        "{msg}"
    );
    assert!(!msg.contains("pw"), "{msg}");
}

#[test]
fn env_value_literals() {
    let c = load_from(
        None,
        &env(&[
            (
                "TAPPASS_PROVIDERS__OLLAMA",
                r#"{ kind = "openai", base_url = "http://127.0.0.1:11434/v1" }"#,
            ),
            ("TAPPASS_PROVIDERS__OLLAMA__TIMEOUT_SECS", "300"),
            ("TAPPASS_PROVIDERS__OLLAMA__API_KEY", "12345"),
            ("TAPPASS_MODELS__LLAMA3", "\"ollama\""),
            ("TAPPASS_SERVER__METRICS_PUBLIC", "true"),
            ("TAPPASS_LOG__FORMAT", "plain"),
        ]),
        &Overrides::default(),
    )
    .unwrap();
    let ollama = &c.providers["ollama"];
    assert_eq!(ollama.kind(), ProviderKind::OpenAi);
    assert_eq!(ollama.timeout_secs, 300);
    assert_eq!(ollama.api_key.as_ref().unwrap().expose_secret(), "12345");
    assert_eq!(c.models["llama3"], "ollama");
    assert!(c.server.metrics_public);
    assert_eq!(c.log.format, LogFormat::Plain);
}

#[test]
fn empty_env_value_is_unset() {
    let c = load_str(
        "[server]\nlisten = \"127.0.0.1:1111\"\n",
        &[
            ("TAPPASS_SERVER__LISTEN", ""),
            ("TAPPASS_OPENAI_BASE_URL", ""),
        ],
    )
    .unwrap();
    assert_eq!(c.server.listen, addr("127.0.0.1:1111"));
    assert_eq!(c.providers["openai"].base_url, DEFAULT_OPENAI_BASE_URL);
}

#[test]
fn client_side_env_names_ignored() {
    let c = load_from(
        None,
        &env(&[
            ("TAPPASS_FLAGS", "mode=observe, pii=mask"),
            ("TAPPASS_URL", "http://localhost:9620"),
            ("TAPPASS_API_KEY", "tp_abc"),
            ("TAPPASS_ADMIN_API_KEY", "tp_admin_xyz"),
            ("TAPPASS_CONFIG", "/x.toml"),
            ("TAPPASS_JWT_SECRET", "s"),
            ("OPENAI_BASE_URL", "http://localhost:9620/v1"),
            ("ANTHROPIC_BASE_URL", "http://localhost:9620"),
            ("OPENAI_API_KEY", "sk-x"),
        ]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(c.providers["openai"].base_url, DEFAULT_OPENAI_BASE_URL);
    assert_eq!(
        c.providers["anthropic"].base_url,
        DEFAULT_ANTHROPIC_BASE_URL
    );
    assert!(!is_override_var("TAPPASS_FLAGS"));
    assert!(!is_override_var("TAPPASS_OPENAI_BASE_URL"));
    assert!(is_override_var("TAPPASS_DATABASE__URL"));
}

#[test]
fn unknown_env_key_names_variable() {
    assert_eq!(
        env_err(&[("TAPPASS_SERVER__LISTN", "127.0.0.1:1")]),
        "environment TAPPASS_SERVER__LISTN: unknown key `listn` in [server] (expected one of: \
         listen, max_body_bytes, mock_provider, metrics_public, shutdown_grace_secs, header_timeout_secs, environment)"
    );
    let msg = env_err(&[("TAPPASS_DATABSE__URL", "sqlite:x.db")]);
    assert!(
        msg.starts_with("environment TAPPASS_DATABSE__URL: unknown key `databse` at top level"),
        "{msg}"
    );
    let msg = env_err(&[("TAPPASS_PROVIDERS__OPENAI__BASEURL", "http://h")]);
    assert!(
        msg.starts_with("environment TAPPASS_PROVIDERS__OPENAI__BASEURL: unknown key `baseurl` in [providers.openai]"),
        "{msg}"
    );
    let msg = env_err(&[("TAPPASS_SERVER__", "x")]);
    assert!(
        msg.starts_with("environment TAPPASS_SERVER__: malformed"),
        "{msg}"
    );
}

#[test]
fn bad_env_value_names_variable() {
    assert_eq!(
        env_err(&[("TAPPASS_SERVER__LISTEN", "x")]),
        "environment TAPPASS_SERVER__LISTEN: server.listen: invalid socket address \"x\" \
         (expected IP:PORT, e.g. 127.0.0.1:9620 or [::1]:9620)"
    );
    let msg = env_err(&[("TAPPASS_SERVER__MAX_BODY_BYTES", "lots")]);
    assert!(
        msg.starts_with(
            "environment TAPPASS_SERVER__MAX_BODY_BYTES: server.max_body_bytes: invalid type"
        ),
        "{msg}"
    );
    // Validation errors after merging also name the variable.
    let msg = env_err(&[("TAPPASS_AUDIT__BATCH_MAX", "0")]);
    assert!(
        msg.starts_with("environment TAPPASS_AUDIT__BATCH_MAX: audit.batch_max: must be between"),
        "{msg}"
    );
    let msg = env_err(&[(
        "TAPPASS_PROVIDERS__OLLAMA__BASE_URL",
        "http://127.0.0.1:11434",
    )]);
    assert!(
        msg.starts_with(
            "environment TAPPASS_PROVIDERS__OLLAMA__BASE_URL: providers.ollama.kind: required"
        ),
        "{msg}"
    );
}

#[test]
fn duplicate_env_paths_rejected() {
    let msg = env_err(&[
        ("TAPPASS_SERVER__LISTEN", "127.0.0.1:1"),
        ("TAPPASS_server__listen", "127.0.0.1:2"),
    ]);
    assert!(msg.contains("server.listen: also set by"), "{msg}");
}

#[test]
fn openai_base_url_fallback_precedence() {
    let fallback = ("TAPPASS_OPENAI_BASE_URL", "http://fallback.example:8000/v1");
    let generic = (
        "TAPPASS_PROVIDERS__OPENAI__BASE_URL",
        "http://generic.example/v1",
    );
    let file = "[providers.openai]\nbase_url = \"http://file.example/v1\"\n";

    // built-in default
    let c = load_from(None, &[], &Overrides::default()).unwrap();
    assert_eq!(c.providers["openai"].base_url, "https://api.openai.com/v1");
    // TAPPASS_OPENAI_BASE_URL > default
    let c = load_from(None, &env(&[fallback]), &Overrides::default()).unwrap();
    assert_eq!(
        c.providers["openai"].base_url,
        "http://fallback.example:8000/v1"
    );
    // file > TAPPASS_OPENAI_BASE_URL
    let c = load_str(file, &[fallback]).unwrap();
    assert_eq!(c.providers["openai"].base_url, "http://file.example/v1");
    // generic env > file
    let c = load_str(file, &[fallback, generic]).unwrap();
    assert_eq!(c.providers["openai"].base_url, "http://generic.example/v1");

    // Same for anthropic; the fallback of one provider does not touch the other.
    let c = load_from(
        None,
        &env(&[("TAPPASS_ANTHROPIC_BASE_URL", "https://proxy.example")]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(c.providers["anthropic"].base_url, "https://proxy.example");
    assert_eq!(c.providers["openai"].base_url, DEFAULT_OPENAI_BASE_URL);

    // A bad fallback value names the fallback variable.
    let msg = env_err(&[("TAPPASS_OPENAI_BASE_URL", "api.openai.com")]);
    assert!(
        msg.starts_with(
            "environment TAPPASS_OPENAI_BASE_URL: providers.openai.base_url: invalid URL"
        ),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------------------------
// Cross-field validation.

#[test]
fn self_proxy_refused() {
    // The classic mistake: the gateway started from a shell where the client variable points
    // at TapPass itself.
    let msg = env_err(&[("TAPPASS_OPENAI_BASE_URL", "http://localhost:9620/v1")]);
    assert!(
        msg.starts_with("environment TAPPASS_OPENAI_BASE_URL: providers.openai.base_url:"),
        "{msg}"
    );
    assert!(msg.contains("would proxy to itself"), "{msg}");

    for url in [
        "http://127.0.0.1:9620",
        "http://127.0.0.2:9620/v1",
        "http://0.0.0.0:9620",
        "http://[::1]:9620",
        "http://LOCALHOST:9620",
        "http://tappass.localhost:9620",
        "http://[::ffff:127.0.0.1]:9620",
    ] {
        let (_, rest) = load_err(&format!("[providers.anthropic]\nbase_url = {url:?}\n"), &[]);
        assert!(
            rest.starts_with(":2: providers.anthropic.base_url:")
                && rest.contains("would proxy to itself"),
            "{url}: {rest}"
        );
    }

    // Listening on all interfaces: loopback still refused; so is the listen IP itself.
    let f = "[server]\nlisten = \"0.0.0.0:8000\"\n[providers.x]\nkind = \"openai\"\nbase_url = \"http://127.0.0.1:8000\"\n";
    assert!(load_err(f, &[]).1.contains("would proxy to itself"));
    let f = "[server]\nlisten = \"10.0.0.5:8000\"\n[providers.x]\nkind = \"openai\"\nbase_url = \"http://10.0.0.5:8000/v1\"\n";
    assert!(load_err(f, &[]).1.contains("would proxy to itself"));

    // Default port of the scheme counts.
    let f = "[server]\nlisten = \"127.0.0.1:80\"\n[providers.x]\nkind = \"openai\"\nbase_url = \"http://localhost\"\n";
    assert!(load_err(f, &[]).1.contains("would proxy to itself"));

    // Other ports and hosts are fine (a local Ollama next to TapPass).
    let c = load_str(
        "[providers.ollama]\nkind = \"openai\"\nbase_url = \"http://localhost:11434/v1\"\n\
         [providers.other]\nkind = \"openai\"\nbase_url = \"http://10.1.2.3:9620/v1\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(c.providers.len(), 4);

    // Changing the listen port by flag makes a previously fine URL a self-proxy.
    let f = TempFile::new(
        "[providers.ollama]\nkind = \"openai\"\nbase_url = \"http://localhost:11434/v1\"\n",
    );
    let err = load_from(
        Some(f.path()),
        &[],
        &Overrides {
            listen: Some(addr("127.0.0.1:11434")),
            ..Overrides::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("would proxy to itself"), "{err}");
}

#[test]
fn models_must_map_to_known_provider() {
    let (_, rest) = load_err("[models]\nllama3 = \"ollama\"\n", &[]);
    assert!(
        rest.starts_with(
            ":2: models.llama3: unknown provider \"ollama\" (configured: anthropic, openai, mock)"
        ),
        "{rest}"
    );
    let (_, rest) = load_err("[models]\n\"llama3.1\" = \"nope\"\n", &[]);
    assert!(
        rest.starts_with(":2: models.\"llama3.1\": unknown provider"),
        "{rest}"
    );
    // mock is fine while the mock provider is on, not when it is off.
    assert!(load_str("[models]\ntoy = \"mock\"\n", &[]).is_ok());
    let (_, rest) = load_err(
        "[server]\nmock_provider = false\n[models]\ntoy = \"mock\"\n",
        &[],
    );
    assert!(
        rest.starts_with(":4: models.toy: maps to the mock provider"),
        "{rest}"
    );
    // From the environment.
    let msg = env_err(&[("TAPPASS_MODELS__GPT5", "azure")]);
    assert!(
        msg.starts_with(
            "environment TAPPASS_MODELS__GPT5: models.gpt5: unknown provider \"azure\""
        ),
        "{msg}"
    );
}

#[test]
fn metrics_public_only_on_loopback() {
    assert!(load_str("[server]\nmetrics_public = true\n", &[]).is_ok());
    let (_, rest) = load_err(
        "[server]\nlisten = \"0.0.0.0:9620\"\nmetrics_public = true\n",
        &[],
    );
    assert!(
        rest.starts_with(
            ":3: server.metrics_public: can only be true when server.listen is a loopback address"
        ),
        "{rest}"
    );
}

// ---------------------------------------------------------------------------------------------
// Database URL, state directory, redaction.

#[test]
fn database_url_kinds() {
    let kind = |url: &str| {
        load_from(
            None,
            &env(&[("TAPPASS_DATABASE__URL", url)]),
            &Overrides::default(),
        )
        .map(|c| c.database_kind())
    };
    assert_eq!(
        kind("sqlite:///var/lib/tappass/t.db").unwrap(),
        DatabaseKind::Sqlite("/var/lib/tappass/t.db".into())
    );
    assert_eq!(
        kind("sqlite://t.db").unwrap(),
        DatabaseKind::Sqlite("t.db".into())
    );
    assert_eq!(
        kind("sqlite:t.db").unwrap(),
        DatabaseKind::Sqlite("t.db".into())
    );
    assert_eq!(
        kind("sqlite:/abs/t.db").unwrap(),
        DatabaseKind::Sqlite("/abs/t.db".into())
    );
    assert_eq!(
        kind("postgres://u:p@h/db").unwrap(),
        DatabaseKind::Postgres("postgres://u:p@h/db".into())
    );
    assert_eq!(
        kind("postgresql:///tappass?host=/run/postgresql").unwrap(),
        DatabaseKind::Postgres("postgresql:///tappass?host=/run/postgresql".into())
    );
    for bad in [
        "mysql://root:hunter2@h/db",
        "sqlite::memory:",
        "sqlite:",
        "sqlite://t.db?mode=rwc",
        "hunter2",
        "postgres:h/db",
    ] {
        let err = kind(bad).unwrap_err().to_string();
        assert!(
            err.starts_with("environment TAPPASS_DATABASE__URL: database.url: "),
            "{bad}: {err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }

    // Default: SQLite in the state directory.
    let c = load_from(
        None,
        &env(&[("TAPPASS_STORAGE__STATE_DIR", "/srv/tp")]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(
        c.database_kind(),
        DatabaseKind::Sqlite("/srv/tp/tappass.db".into())
    );
    assert_eq!(c.database_url_redacted(), "sqlite:/srv/tp/tappass.db");
}

#[test]
fn state_dir_rule() {
    let sd = [("STATE_DIRECTORY", "/var/lib/tappass:/var/lib/other")];
    let c = load_from(None, &env(&sd), &Overrides::default()).unwrap();
    assert_eq!(c.state_dir(), PathBuf::from("/var/lib/tappass"));
    let c = load_str("[storage]\nstate_dir = \"/file\"\n", &sd).unwrap();
    assert_eq!(c.state_dir(), PathBuf::from("/file"));
    let c = load_from(
        None,
        &env(&[("STATE_DIRECTORY", "")]),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(c.state_dir(), PathBuf::from("./tappass-data"));
    let (_, rest) = load_err("[storage]\nstate_dir = \"\"\n", &[]);
    assert!(
        rest.starts_with(":2: storage.state_dir: must not be empty"),
        "{rest}"
    );
}

#[test]
fn password_redaction() {
    assert_eq!(
        redact_url("postgres://tappass:s3cret@db:5432/tappass"),
        "postgres://tappass:***@db:5432/tappass"
    );
    assert_eq!(
        redact_url("postgresql://u:p@ss/w:rd@db/x?sslmode=require"),
        "postgresql://u:***@db/x?sslmode=require"
    );
    assert_eq!(
        redact_url("postgres://db/x?user=u&password=s3cret&sslpassword=k"),
        "postgres://db/x?user=u&password=***&sslpassword=***"
    );
    assert_eq!(redact_url("postgres://u@db/x"), "postgres://u@db/x");
    assert_eq!(
        redact_url("sqlite:///var/lib/t.db"),
        "sqlite:///var/lib/t.db"
    );

    let c = load_str(
        "[database]\nurl = \"postgres://tappass:s3cret@db/tappass\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        c.database_url_redacted(),
        "postgres://tappass:***@db/tappass"
    );
    let debug = format!("{c:?}");
    assert!(!debug.contains("s3cret"), "{debug}");
    assert!(
        debug.contains("postgres://tappass:***@db/tappass"),
        "{debug}"
    );
}

#[test]
fn debug_never_shows_api_key() {
    let c = load_str(
        "[providers.openai]\napi_key = \"sk-supersecret-file\"\n",
        &[(
            "TAPPASS_PROVIDERS__ANTHROPIC__API_KEY",
            "sk-ant-supersecret-env",
        )],
    )
    .unwrap();
    assert_eq!(
        c.providers["openai"]
            .api_key
            .as_ref()
            .unwrap()
            .expose_secret(),
        "sk-supersecret-file"
    );
    for text in [
        format!("{c:?}"),
        format!("{c:#?}"),
        format!("{:?}", c.clone()),
    ] {
        assert!(!text.contains("supersecret"), "{text}");
    }
    // Errors never echo a key either.
    let msg = env_err(&[
        ("TAPPASS_PROVIDERS__OPENAI__API_KEY", "sk-supersecret"),
        ("TAPPASS_PROVIDERS__OPENAI__TIMEOUT_SECS", "0"),
    ]);
    assert!(!msg.contains("supersecret"), "{msg}");
}

#[test]
fn config_validate_on_hand_built_config() {
    let mut c = Config::default();
    c.models.insert("x".into(), "nowhere".into());
    let err = c.validate().unwrap_err();
    assert_eq!(
        err.to_string(),
        "built-in default: models.x: unknown provider \"nowhere\" (configured: anthropic, openai, mock)"
    );
}

#[test]
fn helper_parsers() {
    use super::validate::{parse_http_url, Host};
    let u = parse_http_url("https://api.example.com/v1").unwrap();
    assert_eq!(u.host, Host::Name("api.example.com".into()));
    assert_eq!(u.port, 443);
    let u = parse_http_url("HTTP://10.0.0.1:8080").unwrap();
    assert_eq!(u.port, 8080);
    assert!(parse_http_url("http://h:").is_err());
    assert!(parse_http_url("http://h:+80").is_err());
    assert!(parse_http_url("http://[::1").is_err());
    assert!(parse_http_url("http://h h").is_err());
    assert_eq!(
        super::env::parse_value("[\"a\", \"b\"]"),
        toml::Value::Array(vec!["a".into(), "b".into()])
    );
    assert_eq!(
        super::env::parse_value("info,tappass=debug"),
        toml::Value::String("info,tappass=debug".into())
    );
    assert_eq!(
        super::env::parse_value("1\nx = 2"),
        toml::Value::String("1\nx = 2".into())
    );
}

#[test]
fn documented_example_loads() {
    let doc = include_str!("../../docs/configuration.md");
    let start = doc.find("```toml\n").expect("example block") + "```toml\n".len();
    let end = start + doc[start..].find("```").expect("end of example");
    let c = load_str(&doc[start..end], &[]).expect("the documented example is valid");
    assert_eq!(c.providers.len(), 4);
    assert_eq!(c.models["llama3.1:8b"], "ollama");
    assert_eq!(c.providers["ollama"].resolved_api_key_env(), None);

    // Every key of the schema is documented with its variable.
    for var in [
        "TAPPASS_SERVER__LISTEN",
        "TAPPASS_SERVER__MAX_BODY_BYTES",
        "TAPPASS_SERVER__MOCK_PROVIDER",
        "TAPPASS_SERVER__METRICS_PUBLIC",
        "TAPPASS_SERVER__SHUTDOWN_GRACE_SECS",
        "TAPPASS_SERVER__ENVIRONMENT",
        "TAPPASS_STORAGE__STATE_DIR",
        "TAPPASS_DATABASE__URL",
        "TAPPASS_DATABASE__MAX_CONNECTIONS",
        "TAPPASS_DATABASE__CONNECT_TIMEOUT_SECS",
        "TAPPASS_PROVIDERS__<NAME>__KIND",
        "TAPPASS_PROVIDERS__<NAME>__BASE_URL",
        "TAPPASS_PROVIDERS__<NAME>__API_KEY",
        "TAPPASS_PROVIDERS__<NAME>__API_KEY_ENV",
        "TAPPASS_PROVIDERS__<NAME>__TIMEOUT_SECS",
        "TAPPASS_PROVIDERS__<NAME>__CONNECT_TIMEOUT_SECS",
        "TAPPASS_MODELS__<MODEL>",
        "TAPPASS_AUDIT__BATCH_MAX",
        "TAPPASS_BACKUP__DIR",
        "TAPPASS_BACKUP__RETENTION_DAYS",
        "TAPPASS_HEALTH__DISK_PERCENT",
        "TAPPASS_HEALTH__CERTIFICATES",
        "TAPPASS_HEALTH__CERTIFICATE_DAYS",
        "TAPPASS_HEALTH__URLS",
        "TAPPASS_HEALTH__BACKUP_MAX_AGE_HOURS",
        "TAPPASS_HEALTH__TIMEOUT_SECS",
        "TAPPASS_HEALTH__SLACK_WEBHOOK",
        "TAPPASS_LOG__FORMAT",
        "TAPPASS_LOG__LEVEL",
        "TAPPASS_SANDBOX__REQUIRE",
        "TAPPASS_SANDBOX__UID",
        "TAPPASS_SANDBOX__READ_PATHS",
        "TAPPASS_SANDBOX__WRITE_PATHS",
    ] {
        assert!(doc.contains(&format!("`{var}`")), "{var} not documented");
    }
}

/// Secure by default: with no file and with the packaged `tappass.toml`, a request can only
/// tighten its flags (the review's `mode=observe` / `pii=off`).
#[test]
fn built_in_and_packaged_configs_grant_no_loosening() {
    use crate::governance::flags::{self, Grants, Mode, PiiAction};
    use crate::governance::Governance;
    let packaged = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/tappass.toml");
    let configs = [
        load_from(None, &[], &Overrides::default()).unwrap(),
        load_from(Some(&packaged), &[], &Overrides::default()).unwrap(),
    ];
    for c in configs {
        let gov = Governance::from_config(&c.governance);
        assert_eq!(gov.grants, Grants::NONE);
        let loosen = flags::parse("mode=observe, pii=off, secrets=flag, tools=log").unwrap();
        let (f, ignored) = gov.flags_for(&loosen, Grants::NONE);
        assert_eq!((f.mode, f.pii), (Mode::Enforce, PiiAction::Mask));
        assert_eq!(ignored, vec!["mode", "pii", "secrets"]);
    }
}

/// The package ships the production configuration: production mode, no mock provider; the
/// built-in defaults stay the easy development start.
#[test]
fn the_packaged_config_is_the_production_one() {
    let packaged = Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/tappass.toml");
    let c = load_from(Some(&packaged), &[], &Overrides::default()).unwrap();
    assert_eq!(c.server.environment, super::Environment::Production);
    assert!(!c.server.mock_provider);
    let d = load_from(None, &[], &Overrides::default()).unwrap();
    assert_eq!(d.server.environment, super::Environment::Development);
    let bad = TempFile::new("[server]\nenvironment = \"prod\"\n");
    let err = load_from(Some(bad.path()), &[], &Overrides::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("environment") && err.contains("production"),
        "{err}"
    );
}

#[test]
fn flag_grants_are_validated() {
    let f = TempFile::new("[flags]\ngrant = \"mode, colour\"\n");
    let err = load_from(Some(f.path()), &[], &Overrides::default()).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("flags.grant") && text.contains("colour"),
        "{text}"
    );
}
