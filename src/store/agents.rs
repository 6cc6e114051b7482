//! Agents and API keys. Every mutation commits together with its audit event, so the trail
//! never misses an admin action and never records one that did not happen.

use serde::Serialize;
use sqlx::any::AnyRow;

use super::audit::{append_locked, lock_head};
use super::{get_opt_str, get_str, is_unique_violation, Store, StoreError};
use crate::audit::chain::Linked;
use crate::audit::event::AuditEvent;
use crate::identity::{AgentStatus, KeyStatus, Role};

/// An agent as the admin API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct AgentRow {
    pub agent_id: String,
    pub description: String,
    pub status: AgentStatus,
    /// Flags this agent may loosen (names, `KEYS` order); empty: it can only tighten.
    pub flag_grants: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A key's public record plus its hash (the hash never leaves the server).
#[derive(Debug, Clone, Serialize)]
pub struct KeyRow {
    pub key_id: String,
    pub agent_id: Option<String>,
    pub role: Role,
    #[serde(skip)]
    pub key_hash: String,
    pub status: KeyStatus,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub replaced_by: Option<String>,
    /// The owning agent's status (`None` for control-plane keys).
    #[serde(skip)]
    pub agent_status: Option<AgentStatus>,
    /// The owning agent's flag grants, as stored (`mode,pii`).
    #[serde(skip)]
    pub agent_flag_grants: Option<String>,
}

/// A key to insert: id, role, owner and hash.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub key_id: String,
    pub agent_id: Option<String>,
    pub role: Role,
    pub key_hash: String,
}

/// A column holding one of an enum's stored names; anything else is a decode error (a row
/// nobody wrote through this code), never a silent default.
fn get_enum<T>(row: &AnyRow, col: &str, parse: fn(&str) -> Option<T>) -> Result<T, sqlx::Error> {
    let stored = get_str(row, col)?;
    parse(&stored).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: format!("unknown value {stored:?}").into(),
    })
}

fn agent_row(row: &AnyRow) -> Result<AgentRow, sqlx::Error> {
    Ok(AgentRow {
        agent_id: get_str(row, "agent_id")?,
        description: get_str(row, "description")?,
        status: get_enum(row, "status", AgentStatus::parse)?,
        flag_grants: split_grants(&get_str(row, "flag_grants")?),
        created_at: get_str(row, "created_at")?,
        updated_at: get_str(row, "updated_at")?,
    })
}

fn key_row(row: &AnyRow) -> Result<KeyRow, sqlx::Error> {
    Ok(KeyRow {
        key_id: get_str(row, "key_id")?,
        agent_id: get_opt_str(row, "agent_id")?,
        role: get_enum(row, "role", Role::parse)?,
        key_hash: get_str(row, "key_hash")?,
        status: get_enum(row, "status", KeyStatus::parse)?,
        created_at: get_str(row, "created_at")?,
        revoked_at: get_opt_str(row, "revoked_at")?,
        replaced_by: get_opt_str(row, "replaced_by")?,
        agent_status: match get_opt_str(row, "agent_status")? {
            Some(_) => Some(get_enum(row, "agent_status", AgentStatus::parse)?),
            None => None,
        },
        agent_flag_grants: get_opt_str(row, "agent_flag_grants")?,
    })
}

/// The stored form of flag grants (`mode,pii`) as names.
fn split_grants(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

const AGENT_SELECT: &str =
    "SELECT agent_id, description, status, flag_grants, created_at, updated_at FROM agents";

const KEY_SELECT: &str =
    "SELECT k.key_id, k.agent_id, k.role, k.key_hash, k.status, k.created_at, \
     k.revoked_at, k.replaced_by, a.status AS agent_status, a.flag_grants AS agent_flag_grants \
     FROM api_keys k LEFT JOIN agents a ON a.agent_id = k.agent_id";

async fn insert_key(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    key: &NewKey,
    now: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO api_keys (key_id, agent_id, role, key_hash, status, created_at) \
         VALUES ($1, $2, $3, $4, 'active', $5)",
    )
    .bind(&key.key_id)
    .bind(key.agent_id.clone())
    .bind(key.role.as_str())
    .bind(&key.key_hash)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            StoreError::Conflict(format!("key {} already exists", key.key_id))
        } else {
            e.into()
        }
    })?;
    Ok(())
}

impl Store {
    /// Registers an agent with its first key. `Conflict` when the id is taken.
    pub async fn create_agent(
        &self,
        agent_id: &str,
        description: &str,
        flag_grants: &[&str],
        key: &NewKey,
        event: &AuditEvent,
    ) -> Result<(AgentRow, Linked), StoreError> {
        let _keys = self.keys.clear_around();
        let mut tx = self.pool.begin().await?;
        let head = lock_head(&mut tx).await?;
        let now = event.ts.clone();
        sqlx::query(
            "INSERT INTO agents (agent_id, description, status, flag_grants, created_at, \
             updated_at) VALUES ($1, $2, 'active', $3, $4, $4)",
        )
        .bind(agent_id)
        .bind(description)
        .bind(flag_grants.join(","))
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::Conflict(format!("agent {agent_id} already exists"))
            } else {
                e.into()
            }
        })?;
        insert_key(&mut tx, key, &now).await?;
        let linked = append_locked(&mut tx, head, std::slice::from_ref(event)).await?;
        tx.commit().await?;
        let agent = AgentRow {
            agent_id: agent_id.to_string(),
            description: description.to_string(),
            status: AgentStatus::Active,
            flag_grants: flag_grants.iter().map(|s| s.to_string()).collect(),
            created_at: now.clone(),
            updated_at: now,
        };
        Ok((agent, linked.into_iter().next().expect("one event")))
    }

    pub async fn get_agent(&self, agent_id: &str) -> Result<Option<AgentRow>, StoreError> {
        let row = sqlx::query(&format!("{AGENT_SELECT} WHERE agent_id = $1"))
            .bind(agent_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(agent_row).transpose()?)
    }

    pub async fn list_agents(&self) -> Result<Vec<AgentRow>, StoreError> {
        let rows = sqlx::query(&format!("{AGENT_SELECT} ORDER BY agent_id"))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.iter().map(agent_row).collect::<Result<_, _>>()?)
    }

    /// Disables an agent (its keys stop working). `Ok(false)` when no such agent.
    pub async fn disable_agent(
        &self,
        agent_id: &str,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let _keys = self.keys.clear_around();
        let mut tx = self.pool.begin().await?;
        let head = lock_head(&mut tx).await?;
        let res = sqlx::query(
            "UPDATE agents SET status = 'disabled', updated_at = $2 WHERE agent_id = $1",
        )
        .bind(agent_id)
        .bind(&event.ts)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() == 0 {
            return Ok(false); // dropping tx rolls back
        }
        append_locked(&mut tx, head, std::slice::from_ref(event)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Replaces an agent's flag grants. `Ok(false)` when no such agent.
    pub async fn set_flag_grants(
        &self,
        agent_id: &str,
        flag_grants: &[&str],
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let _keys = self.keys.clear_around();
        let mut tx = self.pool.begin().await?;
        let head = lock_head(&mut tx).await?;
        let res =
            sqlx::query("UPDATE agents SET flag_grants = $2, updated_at = $3 WHERE agent_id = $1")
                .bind(agent_id)
                .bind(flag_grants.join(","))
                .bind(&event.ts)
                .execute(&mut *tx)
                .await?;
        if res.rows_affected() == 0 {
            return Ok(false);
        }
        append_locked(&mut tx, head, std::slice::from_ref(event)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Adds a key (agent or control-plane) with its audit event.
    pub async fn add_key(&self, key: &NewKey, event: &AuditEvent) -> Result<(), StoreError> {
        let _keys = self.keys.clear_around();
        let mut tx = self.pool.begin().await?;
        let head = lock_head(&mut tx).await?;
        insert_key(&mut tx, key, &event.ts).await?;
        append_locked(&mut tx, head, std::slice::from_ref(event)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds the first admin key only if no active admin key exists yet. `Ok(false)` if one does.
    pub async fn add_first_admin_key(
        &self,
        key: &NewKey,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let _keys = self.keys.clear_around();
        let mut tx = self.pool.begin().await?;
        let head = lock_head(&mut tx).await?; // the chain lock also serializes this check
        let existing = sqlx::query(
            "SELECT key_id FROM api_keys WHERE role = 'admin' AND status = 'active' LIMIT 1",
        )
        .fetch_optional(&mut *tx)
        .await?;
        if existing.is_some() {
            return Ok(false);
        }
        insert_key(&mut tx, key, &event.ts).await?;
        append_locked(&mut tx, head, std::slice::from_ref(event)).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Is there an active admin key in the database?
    pub async fn active_admin_key_exists(&self) -> Result<bool, StoreError> {
        let row = sqlx::query(
            "SELECT key_id FROM api_keys WHERE role = 'admin' AND status = 'active' LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// A key with its agent's status, by public id.
    pub async fn find_key(&self, key_id: &str) -> Result<Option<KeyRow>, StoreError> {
        let row = sqlx::query(&format!("{KEY_SELECT} WHERE k.key_id = $1"))
            .bind(key_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.as_ref().map(key_row).transpose()?)
    }

    /// The key of a data-plane call. From the database whenever it answers; while it cannot,
    /// and only when `last_known` (the audit spool is on), what this daemon last read of the key
    /// (see `key_cache.rs` for what that trades) — a key it never read is `Unavailable`.
    pub async fn find_agent_key(
        &self,
        key_id: &str,
        last_known: bool,
    ) -> Result<Option<KeyRow>, StoreError> {
        let generation = self.keys.generation();
        let read = if self.is_ready() {
            self.find_key(key_id).await
        } else {
            Err(StoreError::Unavailable(sqlx::Error::PoolClosed))
        };
        match read {
            Ok(row) => {
                self.keys.remember(generation, key_id, row.as_ref());
                Ok(row)
            }
            Err(StoreError::Unavailable(e)) => {
                self.mark_unavailable();
                match self.keys.get(key_id).filter(|_| last_known) {
                    Some(row) => Ok(Some(row)),
                    None => Err(StoreError::Unavailable(e)),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Whether any key is known for authentication during an outage.
    pub fn knows_keys(&self) -> bool {
        !self.keys.is_empty()
    }

    pub async fn list_keys(&self, agent_id: &str) -> Result<Vec<KeyRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "{KEY_SELECT} WHERE k.agent_id = $1 ORDER BY k.created_at, k.key_id"
        ))
        .bind(agent_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(key_row).collect::<Result<_, _>>()?)
    }

    /// Revokes an active key of `agent_id` (`None`: a control-plane key); when `replacement` is
    /// given, inserts it in the same transaction (rotation). `Ok(false)` when there is no such
    /// active key. Revoking the last active admin key without a replacement is a `Conflict`
    /// unless `keep_last_admin` is false (another admin key exists outside the database).
    pub async fn revoke_key(
        &self,
        agent_id: Option<&str>,
        key_id: &str,
        replacement: Option<&NewKey>,
        keep_last_admin: bool,
        event: &AuditEvent,
    ) -> Result<bool, StoreError> {
        let _keys = self.keys.clear_around();
        let mut tx = self.pool.begin().await?;
        let head = lock_head(&mut tx).await?;
        let owner = if agent_id.is_some() {
            "agent_id = $2"
        } else {
            "agent_id IS NULL AND $2 IS NULL"
        };
        let res = sqlx::query(&format!(
            "UPDATE api_keys SET status = 'revoked', revoked_at = $3, replaced_by = $4 \
             WHERE key_id = $1 AND {owner} AND status = 'active'"
        ))
        .bind(key_id)
        .bind(agent_id.map(str::to_string))
        .bind(&event.ts)
        .bind(replacement.map(|k| k.key_id.clone()))
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() == 0 {
            return Ok(false);
        }
        // Only now: the old key exists, so its agent does, and the new key's row can refer to
        // it (inserted first, an unknown agent was a foreign-key error, i.e. a 503 for a 404).
        if let Some(new) = replacement {
            insert_key(&mut tx, new, &event.ts).await?;
        }
        if agent_id.is_none() && keep_last_admin {
            let left = sqlx::query(
                "SELECT key_id FROM api_keys WHERE role = 'admin' AND status = 'active' LIMIT 1",
            )
            .fetch_optional(&mut *tx)
            .await?;
            if left.is_none() {
                return Err(StoreError::Conflict(format!(
                    "{key_id} is the last active admin key: rotate it instead, or create another \
                     admin key first"
                )));
            }
        }
        append_locked(&mut tx, head, std::slice::from_ref(event)).await?;
        tx.commit().await?;
        Ok(true)
    }
}
