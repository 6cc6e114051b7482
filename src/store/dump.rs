//! Reading the whole database in one snapshot (`tappass backup`) and replacing it in one
//! transaction (`tappass restore`), in the row model of [`crate::backup::format`].

use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

use super::audit::lock_head;
use super::{Backend, Store, StoreError};
use crate::backup::format::{Kind, Statement, Table, Value};
use crate::backup::manifest::Rows;

/// Rows read or written per round trip.
const PAGE: i64 = 1000;
/// Rows per multi-row `INSERT` when restoring (7 columns × 100 stays far below both databases'
/// parameter limits).
const INSERT_BATCH: usize = 100;

/// The last word on a restore before its commit: the rows per table and the head it wrote.
pub type Accept<'a> = dyn Fn(&Rows, i64, Option<&str>) -> Result<(), String> + 'a;

/// What a snapshot holds before its rows are read: the head, the schema and the row counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub schema_version: i64,
    pub head_seq: i64,
    pub head_hash: Option<String>,
    pub rows: Rows,
}

/// Where [`Store::dump`] sends what it reads.
pub trait DumpSink {
    /// Called once, before the first row.
    fn start(&mut self, snapshot: &Snapshot) -> std::io::Result<()>;
    /// Every row, parents first, each table in key order.
    fn row(&mut self, table: Table, values: &[Value]) -> std::io::Result<()>;
}

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the backup: {0}")]
    Sink(#[from] std::io::Error),
}

impl From<sqlx::Error> for DumpError {
    fn from(e: sqlx::Error) -> Self {
        DumpError::Store(e.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The source could not give the next statement (a format error, a read error).
    #[error("{0}")]
    Source(String),
    #[error("the backup has no audit_head statement")]
    NoHead,
}

impl From<sqlx::Error> for LoadError {
    fn from(e: sqlx::Error) -> Self {
        LoadError::Store(e.into())
    }
}

fn read_value(row: &AnyRow, col: &str, kind: Kind) -> Result<Value, sqlx::Error> {
    Ok(match kind {
        Kind::Int => Value::Int(row.try_get::<i64, _>(col)?),
        Kind::Text => Value::Text(row.try_get::<String, _>(col)?),
        Kind::NullableText => row
            .try_get::<Option<String>, _>(col)?
            .map_or(Value::Null, Value::Text),
    })
}

fn bind<'q>(
    q: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    v: &Value,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    match v {
        Value::Null => q.bind(None::<String>),
        Value::Int(n) => q.bind(*n),
        Value::Text(s) => q.bind(s.clone()),
    }
}

impl Store {
    /// Reads the head, the counts and then every row inside one read-only snapshot, so the
    /// backup is consistent while the daemon goes on appending (PostgreSQL: `REPEATABLE READ`;
    /// SQLite: one read transaction over the WAL).
    pub async fn dump(&self, sink: &mut dyn DumpSink) -> Result<Snapshot, DumpError> {
        let mut tx = self.pool.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await?;
        }
        let schema = sqlx::query("SELECT MAX(version) AS v FROM _sqlx_migrations")
            .fetch_one(&mut *tx)
            .await?
            .try_get::<Option<i64>, _>("v")?
            .unwrap_or(0);
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        let mut counts = Rows::default();
        for t in Table::ALL {
            let r = sqlx::query(&format!("SELECT COUNT(*) AS n FROM {}", t.name()))
                .fetch_one(&mut *tx)
                .await?;
            *counts.get_mut(t) = r.try_get::<i64, _>("n")? as u64;
        }
        let snapshot = Snapshot {
            // The rows are read with this build's columns: a database a newer tappass migrated
            // (read while rolling an upgrade back) yields a backup of this build's schema.
            schema_version: schema.min(super::latest_schema_version()),
            head_seq: head.try_get("seq")?,
            head_hash: head.try_get("hash")?,
            rows: counts,
        };
        sink.start(&snapshot)?;
        for t in Table::ALL {
            dump_table(&mut tx, t, sink).await?;
        }
        tx.rollback().await?;
        Ok(snapshot)
    }

    /// Replaces every row of the backed-up tables with what `next` yields, in one transaction
    /// that starts with the chain-head lock: on any error nothing changes. `progress` is called
    /// after each batch; `accept` sees the rows per table and the head before the commit and
    /// can still refuse. Returns the rows written per table and the restored head.
    pub async fn replace_all(
        &self,
        next: &mut dyn FnMut() -> Result<Option<Statement>, String>,
        progress: &mut dyn FnMut(),
        accept: &Accept<'_>,
    ) -> Result<(Rows, i64, Option<String>), LoadError> {
        let _keys = self.keys.clear_around();
        let mut tx = self.pool.begin().await?;
        lock_head(&mut tx).await?;
        for t in Table::ALL.iter().rev() {
            sqlx::query(&format!("DELETE FROM {}", t.name()))
                .execute(&mut *tx)
                .await?;
        }
        let mut rows = Rows::default();
        let mut batch: Vec<Vec<Value>> = Vec::with_capacity(INSERT_BATCH);
        let mut batch_table = Table::Agents;
        let mut head = None;
        while let Some(st) = next().map_err(LoadError::Source)? {
            match st {
                Statement::Row { table, values } => {
                    if table != batch_table || batch.len() == INSERT_BATCH {
                        insert(&mut tx, batch_table, &batch).await?;
                        batch.clear();
                        batch_table = table;
                        progress();
                    }
                    *rows.get_mut(table) += 1;
                    batch.push(values);
                }
                Statement::Head { seq, hash } => head = Some((seq, hash)),
            }
        }
        insert(&mut tx, batch_table, &batch).await?;
        let (seq, hash) = head.ok_or(LoadError::NoHead)?;
        accept(&rows, seq, hash.as_deref()).map_err(LoadError::Source)?;
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(seq)
            .bind(hash.clone())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        progress();
        Ok((rows, seq, hash))
    }

    /// PostgreSQL: creates a schema (for a throwaway restore beside production).
    pub async fn create_schema(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query(&format!("CREATE SCHEMA {}", quote_ident(name)))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// PostgreSQL: drops a schema and everything in it.
    pub async fn drop_schema(&self, name: &str) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            quote_ident(name)
        ))
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

/// A double-quoted SQL identifier.
pub(super) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn dump_table(
    tx: &mut Transaction<'_, Any>,
    t: Table,
    sink: &mut dyn DumpSink,
) -> Result<(), DumpError> {
    let cols = t.columns();
    let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
    let key = t.key();
    let first = format!(
        "SELECT {} FROM {} ORDER BY {key} LIMIT {PAGE}",
        names.join(", "),
        t.name()
    );
    let after = format!(
        "SELECT {} FROM {} WHERE {key} > $1 ORDER BY {key} LIMIT {PAGE}",
        names.join(", "),
        t.name()
    );
    let mut cursor: Option<Value> = None;
    loop {
        let q = match &cursor {
            None => sqlx::query(&first),
            Some(v) => bind(sqlx::query(&after), v),
        };
        let page = q.fetch_all(&mut **tx).await?;
        for r in &page {
            let values = cols
                .iter()
                .map(|(c, k)| read_value(r, c, *k))
                .collect::<Result<Vec<_>, _>>()?;
            sink.row(t, &values)?;
            cursor = Some(values.into_iter().next().unwrap_or(Value::Null));
        }
        if (page.len() as i64) < PAGE {
            return Ok(());
        }
    }
}

async fn insert(
    tx: &mut Transaction<'_, Any>,
    t: Table,
    rows: &[Vec<Value>],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let cols = t.columns();
    let names: Vec<&str> = cols.iter().map(|c| c.0).collect();
    let mut sql = format!("INSERT INTO {} ({}) VALUES ", t.name(), names.join(", "));
    let mut n = 0;
    for (i, _) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for j in 0..cols.len() {
            n += 1;
            if j > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${n}"));
        }
        sql.push(')');
    }
    let mut q = sqlx::query(&sql);
    for row in rows {
        for v in row {
            q = bind(q, v);
        }
    }
    q.execute(&mut **tx).await?;
    Ok(())
}
