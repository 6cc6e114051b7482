//! The database's schema version, read without migrating, and its reset for a downgrade.
//!
//! A newer tappass may have migrated the database beyond what this build knows; sqlx then
//! refuses to run this build's migrations ("migration 3 was previously applied but is
//! missing"), so an older daemon cannot start on it. `tappass upgrade` rolls a failed upgrade
//! back by reinstalling the previous package and having *its* binary restore the pre-upgrade
//! backup with `restore --reset-schema`, which uses [`Store::reset_schema`].

use sqlx::Row;

use super::{Backend, Store, StoreError};

/// TapPass's tables, children before parents (the order they are dropped in), then the
/// migration records.
const OWN_TABLES: &[&str] = &[
    "audit_events",
    "api_keys",
    "agents",
    "audit_head",
    "_sqlx_migrations",
];

impl Store {
    /// The tables in the store's schema (SQLite: the file; PostgreSQL: `current_schema()`,
    /// which follows the configured `search_path`).
    async fn tables(&self) -> Result<Vec<String>, StoreError> {
        let sql = match self.backend {
            Backend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            Backend::Postgres => {
                "SELECT CAST(table_name AS TEXT) AS name FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
                 ORDER BY name"
            }
        };
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| r.try_get::<String, _>("name").map_err(StoreError::from))
            .collect()
    }

    /// The newest migration applied to the database, 0 for an empty one. Reads only: use it
    /// before [`Store::migrate`] to learn whether a newer tappass migrated the database.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        if !self.tables().await?.iter().any(|t| t == "_sqlx_migrations") {
            return Ok(0);
        }
        let v = sqlx::query("SELECT MAX(version) AS v FROM _sqlx_migrations")
            .fetch_one(&self.pool)
            .await?
            .try_get::<Option<i64>, _>("v")?;
        Ok(v.unwrap_or(0))
    }

    /// Drops TapPass's tables and its migration records in one transaction, then migrates to
    /// this build's schema: an empty database this build can run on, ready for a restore.
    /// Tables a newer version created are left alone (this build cannot know they are
    /// TapPass's) and returned by name, so the caller can report them.
    pub async fn reset_schema(&self) -> Result<Vec<String>, StoreError> {
        let present = self.tables().await?;
        let mut tx = self.pool.begin().await?;
        for t in OWN_TABLES {
            if present.iter().any(|p| p == t) {
                let cascade = match self.backend {
                    Backend::Sqlite => "",
                    // A newer version's table may reference ours: drop the reference, not it.
                    Backend::Postgres => " CASCADE",
                };
                sqlx::query(&format!("DROP TABLE {t}{cascade}"))
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        self.migrate().await?;
        Ok(present
            .into_iter()
            .filter(|p| !OWN_TABLES.contains(&p.as_str()))
            .collect())
    }
}
