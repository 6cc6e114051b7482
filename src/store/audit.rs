//! Audit chain persistence: appending linked events and reading them back.

use sqlx::{Any, Transaction};

use super::{get_i64, get_opt_str, get_str, Store, StoreError};
use crate::audit::chain::{self, Head, Linked};
use crate::audit::event::AuditEvent;

/// `audit_id`s looked up per statement when a replay checks what is already stored (well under
/// SQLite's bound on parameters).
const REPLAY_LOOKUP: usize = 500;

/// One stored link, exactly as in the database.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub seq: u64,
    pub canonical: String,
    pub hash: String,
}

/// Filters of `GET /audit`. All optional; results are in seq order.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub agent_id: Option<String>,
    pub event_type: Option<String>,
    /// RFC 3339 UTC, already normalized to our `ts` format so text comparison orders correctly.
    pub since: Option<String>,
    pub after_seq: Option<u64>,
    pub limit: u32,
}

/// Takes the chain lock and returns the current head. Must be the first statement of every
/// write transaction (see the module doc of `store`).
pub(super) async fn lock_head(tx: &mut Transaction<'_, Any>) -> Result<Option<Head>, StoreError> {
    sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1")
        .execute(&mut **tx)
        .await?;
    let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
        .fetch_one(&mut **tx)
        .await?;
    let seq = get_i64(&row, "seq")? as u64;
    Ok(match get_opt_str(&row, "hash")? {
        Some(hash) if seq > 0 => Some(Head { seq, hash }),
        _ => None,
    })
}

/// Rows per `INSERT` statement: 7 parameters each stays under SQLite's oldest bind limit (999),
/// and a group commit of `batch_max` (256 by default) is two statements instead of 256 round
/// trips.
const ROWS_PER_INSERT: usize = 128;
const _: () = assert!(
    ROWS_PER_INSERT * 7 <= 999,
    "over SQLite's oldest bind limit"
);

/// Links and inserts `events` after `head` inside `tx`, then records the new head.
pub(super) async fn append_locked(
    tx: &mut Transaction<'_, Any>,
    mut head: Option<Head>,
    events: &[AuditEvent],
) -> Result<Vec<Linked>, StoreError> {
    let mut out = Vec::with_capacity(events.len());
    for event in events {
        let linked = chain::link(event, head.as_ref())?;
        head = Some(Head {
            seq: linked.seq,
            hash: linked.hash.clone(),
        });
        out.push(linked);
    }
    for (events, linked) in events
        .chunks(ROWS_PER_INSERT)
        .zip(out.chunks(ROWS_PER_INSERT))
    {
        let sql = insert_sql(events.len());
        let mut q = sqlx::query(&sql);
        for (event, linked) in events.iter().zip(linked) {
            q = q
                .bind(linked.seq as i64)
                .bind(&event.audit_id)
                .bind(&event.ts)
                .bind(event.event_type.as_str())
                .bind(event.agent_id.clone())
                .bind(&linked.canonical)
                .bind(&linked.hash);
        }
        q.execute(&mut **tx).await?;
    }
    if let Some(h) = &head {
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(h.seq as i64)
            .bind(&h.hash)
            .execute(&mut **tx)
            .await?;
    }
    Ok(out)
}

/// `INSERT … VALUES ($1, …, $7), ($8, …)` for `rows` rows.
fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO audit_events (seq, audit_id, ts, event_type, agent_id, canonical, hash) VALUES ",
    );
    for r in 0..rows {
        let b = r * 7;
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "(${}, ${}, ${}, ${}, ${}, ${}, ${})",
            b + 1,
            b + 2,
            b + 3,
            b + 4,
            b + 5,
            b + 6,
            b + 7
        ));
    }
    sql
}

impl Store {
    /// Appends a batch of events as one transaction (group commit): all or none are durable.
    pub async fn append_audit(&self, events: &[AuditEvent]) -> Result<Vec<Linked>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let head = lock_head(&mut tx).await?;
        let linked = append_locked(&mut tx, head, events).await?;
        tx.commit().await?;
        Ok(linked)
    }

    /// Appends spooled `events` in order as one transaction, skipping those already in the
    /// chain (by `audit_id`, which is unique): a batch whose commit was cut off before its
    /// acknowledgement, or a segment a crashed daemon had partly replayed, is never written twice.
    /// Returns how many were appended.
    pub async fn replay_audit(&self, events: &[AuditEvent]) -> Result<usize, StoreError> {
        let mut tx = self.pool.begin().await?;
        let head = lock_head(&mut tx).await?;
        let mut present = std::collections::HashSet::new();
        for part in events.chunks(REPLAY_LOOKUP) {
            let marks: Vec<String> = (1..=part.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT audit_id FROM audit_events WHERE audit_id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for e in part {
                q = q.bind(e.audit_id.clone());
            }
            for row in q.fetch_all(&mut *tx).await? {
                present.insert(get_str(&row, "audit_id")?);
            }
        }
        let missing: Vec<AuditEvent> = events
            .iter()
            .filter(|e| !present.contains(&e.audit_id))
            .cloned()
            .collect();
        append_locked(&mut tx, head, &missing).await?;
        tx.commit().await?;
        Ok(missing.len())
    }

    /// The recorded chain head, `None` for an empty chain.
    pub async fn audit_head(&self) -> Result<Option<Head>, StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await?;
        let seq = get_i64(&row, "seq")? as u64;
        Ok(get_opt_str(&row, "hash")?
            .filter(|_| seq > 0)
            .map(|hash| Head { seq, hash }))
    }

    /// Up to `limit` stored links with `after < seq <= upto`, in seq order (for verify/export).
    pub async fn audit_range(
        &self,
        after: u64,
        upto: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, canonical, hash FROM audit_events \
             WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3",
        )
        .bind(after as i64)
        .bind(upto as i64)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(stored_event).collect()
    }

    /// Events matching `filter`, in seq order.
    pub async fn audit_query(&self, filter: &AuditFilter) -> Result<Vec<StoredEvent>, StoreError> {
        let mut sql = String::from("SELECT seq, canonical, hash FROM audit_events WHERE seq > $1");
        let mut n = 1;
        let mut texts: Vec<&str> = Vec::new();
        for (col, op, value) in [
            ("agent_id", "=", filter.agent_id.as_deref()),
            ("event_type", "=", filter.event_type.as_deref()),
            ("ts", ">=", filter.since.as_deref()),
        ] {
            if let Some(v) = value {
                n += 1;
                sql.push_str(&format!(" AND {col} {op} ${n}"));
                texts.push(v);
            }
        }
        sql.push_str(&format!(" ORDER BY seq LIMIT ${}", n + 1));
        let mut q = sqlx::query(&sql).bind(filter.after_seq.unwrap_or(0) as i64);
        for t in texts {
            q = q.bind(t.to_string());
        }
        let rows = q
            .bind(i64::from(filter.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(stored_event).collect()
    }
}

fn stored_event(row: &sqlx::any::AnyRow) -> Result<StoredEvent, StoreError> {
    Ok(StoredEvent {
        seq: get_i64(row, "seq")? as u64,
        canonical: get_str(row, "canonical")?,
        hash: get_str(row, "hash")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_numbers_every_row_s_parameters_in_order() {
        assert!(insert_sql(1).ends_with("VALUES ($1, $2, $3, $4, $5, $6, $7)"));
        let two = insert_sql(2);
        assert!(two.ends_with("($1, $2, $3, $4, $5, $6, $7), ($8, $9, $10, $11, $12, $13, $14)"));
        let full = insert_sql(ROWS_PER_INSERT);
        assert_eq!(full.matches('(').count(), ROWS_PER_INSERT + 1);
        assert!(full.ends_with(&format!("${})", ROWS_PER_INSERT * 7)));
    }
}
