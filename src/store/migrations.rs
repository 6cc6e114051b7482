//! The schema migrations, embedded in the binary at build time.
//!
//! Listed here by hand instead of `sqlx::migrate!`: that macro needs sqlx's `macros` feature,
//! which compiles a second copy of the whole sqlx stack (SQLite's C source and both drivers) for
//! the build host, a large part of a clean build. A test below keeps this list and the files in
//! `migrations/` in step.
//!
//! Each entry becomes the `sqlx::migrate::Migration` that `migrate!` would have made from the
//! file `<version>_<description>.sql` (same version, description and SHA-384 checksum of the
//! SQL), so databases migrated by earlier builds see no difference.

use futures_util::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use super::Backend;

/// One migration file: version, description (the file name's words), SQL.
type Embedded = (i64, &'static str, &'static str);

const SQLITE: &[Embedded] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        2,
        "agent flag grants",
        include_str!("../../migrations/sqlite/0002_agent_flag_grants.sql"),
    ),
];

const POSTGRES: &[Embedded] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        2,
        "agent flag grants",
        include_str!("../../migrations/postgres/0002_agent_flag_grants.sql"),
    ),
];

/// The migrations of `backend`, as a [`MigrationSource`].
#[derive(Debug, Clone, Copy)]
struct Source(&'static [Embedded]);

impl Source {
    fn of(backend: Backend) -> Self {
        Source(match backend {
            Backend::Sqlite => SQLITE,
            Backend::Postgres => POSTGRES,
        })
    }

    fn migrations(self) -> Vec<Migration> {
        self.0
            .iter()
            .map(|&(version, description, sql)| {
                Migration::new(
                    version,
                    description.into(),
                    MigrationType::Simple,
                    sql.into(),
                    // sqlx's own rule for a migration that must run outside a transaction.
                    sql.starts_with("-- no-transaction"),
                )
            })
            .collect()
    }
}

impl MigrationSource<'static> for Source {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async move { Ok(self.migrations()) })
    }
}

/// The newest schema version this build knows (the same for both backends).
pub fn latest_version() -> i64 {
    SQLITE.len().max(POSTGRES.len()) as i64
}

/// The migrator for `backend` (takes sqlx's migration lock on PostgreSQL, as `migrate!` did).
pub(super) async fn migrator(backend: Backend) -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Source::of(backend)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// Every `migrations/<dir>/NNNN_words.sql` file is listed, with its version, description and
    /// exact content, and nothing else is.
    fn assert_matches_dir(dir: &str, embedded: &[Embedded]) {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir);
        let mut files: Vec<(i64, String, String)> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "sql"))
            .map(|p| {
                let stem = p.file_stem().unwrap().to_str().unwrap().to_string();
                let (version, words) = stem.split_once('_').unwrap();
                (
                    version.parse().unwrap(),
                    words.replace('_', " "),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
            .collect();
        files.sort();
        let listed: Vec<(i64, String, String)> = embedded
            .iter()
            .map(|&(v, d, s)| (v, d.to_string(), s.to_string()))
            .collect();
        assert_eq!(
            listed, files,
            "src/store/migrations.rs must list exactly the files in migrations/{dir}/"
        );
    }

    #[test]
    fn both_backends_have_the_same_versions() {
        let v = |l: &[Embedded]| l.iter().map(|e| e.0).collect::<Vec<_>>();
        assert_eq!(v(SQLITE), v(POSTGRES));
        assert_eq!(*v(SQLITE).last().unwrap(), latest_version());
    }

    #[test]
    fn sqlite_list_matches_the_migration_files() {
        assert_matches_dir("sqlite", SQLITE);
    }

    #[test]
    fn postgres_list_matches_the_migration_files() {
        assert_matches_dir("postgres", POSTGRES);
    }

    /// A released migration never changes: databases record its checksum and sqlx refuses to
    /// start on a mismatch. Change the schema with a new file instead.
    #[test]
    fn released_migrations_keep_their_checksums() {
        let released = [
            (Backend::Sqlite, 1, "20b9c9daa2e8a971a7e993c670431be32f5d205c37b00109e2ec03026c2e3c811f600d4a93dc73cbdbcff0abddca0231"),
            (Backend::Postgres, 1, "b7040c58d8dd0354307b5909c97074cd2509da1ba35c34788b33468421e9be4df1424b788d3b5ec1f6cffd91f02dad2a"),
            (Backend::Sqlite, 2, "3c7004f3ca07123f832862d6696a0468d7438d59fd91f48dc1c29f2febe12468060be67a28346a350c86b85ba2e42c83"),
            (Backend::Postgres, 2, "3c7004f3ca07123f832862d6696a0468d7438d59fd91f48dc1c29f2febe12468060be67a28346a350c86b85ba2e42c83"),
        ];
        for (backend, version, checksum) in released {
            let all = Source::of(backend).migrations();
            let m = all.iter().find(|m| m.version == version).unwrap();
            assert_eq!(
                hex::encode(&m.checksum),
                checksum,
                "{backend:?} migration {version}"
            );
            assert_eq!(m.migration_type, MigrationType::Simple);
            assert!(!m.no_tx);
        }
    }
}
