//! Storage: SQLite (embedded default) and PostgreSQL (production) through one implementation.
//!
//! Both backends run the same SQL through sqlx's `Any` driver: the schema is identical
//! (`migrations/<backend>/`), placeholders are `$N` (SQLite accepts them too), and every write
//! transaction starts by updating the `audit_head` row — which takes SQLite's write lock and
//! PostgreSQL's row lock before anything is read, so chain appends are serialized across
//! connections *and* across daemons sharing one database. Nothing is ever kept in memory in place
//! of the database: when it is unreachable the store says so (`is_ready() == false`) and callers
//! refuse work with 503.

mod agents;
mod audit;
mod dump;
mod key_cache;
mod migrations;
mod schema;
mod supervisor;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
use tokio::sync::watch;

pub use agents::{AgentRow, KeyRow, NewKey};
pub use audit::{AuditFilter, StoredEvent};
pub use dump::{DumpError, DumpSink, LoadError, Snapshot};
pub use migrations::latest_version as latest_schema_version;
pub use supervisor::spawn_supervisor;

use crate::audit::chain::EncodeError;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The name `/health` reports.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgresql",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),
    /// The change contradicts what is stored (the message says how).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Unavailable(e)
    }
}

/// Is this error a unique-constraint violation (e.g. an agent id taken)?
fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// Connection settings, resolved from config.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    pub backend: Backend,
    /// A sqlx URL (`sqlite:///abs/path.db?mode=rwc` or `postgres://…`).
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout: Duration,
    /// PostgreSQL: the schema to work in (`search_path`) instead of the default `public`; a
    /// throwaway restore (`tappass backup test-restore`) uses its own beside production.
    pub schema: Option<String>,
}

impl StoreOptions {
    /// The options `config` names. The SQLite file lives in the state directory (created 0700,
    /// owned by whoever runs this: the daemon's user under systemd).
    pub fn for_config(config: &crate::config::Config) -> std::io::Result<StoreOptions> {
        let (backend, url) = match config.database_kind() {
            crate::config::DatabaseKind::Sqlite(path) => {
                let path = absolute(&path)?;
                if let Some(dir) = path.parent() {
                    use std::os::unix::fs::DirBuilderExt;
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(dir)?;
                }
                (
                    Backend::Sqlite,
                    format!("sqlite://{}?mode=rwc", path.display()),
                )
            }
            crate::config::DatabaseKind::Postgres(url) => (Backend::Postgres, url),
        };
        Ok(StoreOptions {
            backend,
            url,
            max_connections: config.database.max_connections,
            connect_timeout: config.database.connect_timeout(),
            schema: None,
        })
    }
}

/// `p` made absolute against the current directory.
pub fn absolute(p: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    if p.is_absolute() {
        Ok(p.to_path_buf())
    } else {
        Ok(std::env::current_dir()?.join(p))
    }
}

/// The database handle shared by the whole daemon. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// `true` while connected and migrated. A watch channel so the host layer can follow
    /// changes (sd_notify STATUS=, health) without polling.
    ready: std::sync::Arc<watch::Sender<bool>>,
    /// Keys last read, for authentication during an outage only (`key_cache.rs`).
    keys: std::sync::Arc<key_cache::KeyCache>,
}

impl Store {
    /// Creates the pool without connecting: the daemon starts even when the database is down,
    /// and the supervisor connects and migrates in the background.
    pub fn connect_lazy(opts: &StoreOptions) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = opts.backend;
        let search_path = opts
            .schema
            .as_deref()
            .map(|s| format!("SET search_path TO {}", dump::quote_ident(s)));
        let pool = AnyPoolOptions::new()
            .max_connections(opts.max_connections)
            .acquire_timeout(opts.connect_timeout)
            .after_connect(move |conn, _meta| {
                let search_path = search_path.clone();
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers work beside the writer; synchronous=FULL makes every
                        // commit durable before we answer (the audit promise); busy_timeout makes
                        // writers queue instead of failing.
                        conn.execute(
                            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                             PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;",
                        )
                        .await?;
                    }
                    if let Some(sql) = &search_path {
                        conn.execute(sql.as_str()).await?;
                    }
                    Ok(())
                })
            })
            .connect_lazy(&opts.url)?;
        Ok(Store {
            pool,
            backend,
            ready: std::sync::Arc::new(watch::Sender::new(false)),
            keys: Default::default(),
        })
    }

    /// Opens and closes one connection outside any pool, so that a failure is the database's
    /// own error ("connection refused", "password authentication failed") rather than the
    /// pool's timeout (`tappass health`, `tappass doctor`).
    pub async fn probe(opts: &StoreOptions) -> Result<(), StoreError> {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let conn = sqlx::AnyConnection::connect(&opts.url).await?;
        conn.close().await?;
        Ok(())
    }

    /// Connects and migrates now (for the CLI, which has no supervisor).
    pub async fn open(opts: &StoreOptions) -> Result<Store, StoreError> {
        let store = Store::connect_lazy(opts)?;
        store.migrate().await?;
        store.set_ready();
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// True once connected and migrated, false while the database cannot be reached.
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow()
    }

    /// Follows readiness changes.
    pub fn subscribe_ready(&self) -> watch::Receiver<bool> {
        self.ready.subscribe()
    }

    /// Records that the database failed; the supervisor flips it back once a ping succeeds.
    pub fn mark_unavailable(&self) {
        self.ready.send_if_modified(|r| std::mem::replace(r, false));
    }

    pub(crate) fn set_ready(&self) {
        self.ready.send_if_modified(|r| !std::mem::replace(r, true));
    }

    /// Applies pending migrations (idempotent; sqlx takes a lock on PostgreSQL).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrations::migrator(self.backend)
            .await?
            .run(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

fn get_str(row: &AnyRow, col: &str) -> Result<String, sqlx::Error> {
    sqlx::Row::try_get(row, col)
}

fn get_opt_str(row: &AnyRow, col: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::Row::try_get(row, col)
}

fn get_i64(row: &AnyRow, col: &str) -> Result<i64, sqlx::Error> {
    sqlx::Row::try_get(row, col)
}
