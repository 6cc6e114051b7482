//! authenticate: the presented `tp_` key must be a live agent key of an active agent.
//!
//! The key is read from the database; while the database is away and the audit spool keeps the
//! data plane serving, from what this daemon last read of it (`store/key_cache.rs`).

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::governance::flags::Grants;
use crate::identity::keys::{self, KeyFamily};
use crate::identity::{AgentStatus, KeyStatus, Role};
use crate::pipeline::{AgentIdentity, Ctx, Refusal, Step};
use crate::store::{Store, StoreError};

pub struct Authenticate {
    store: Store,
    /// Authenticate from the last-known keys during a database outage (the spool is on).
    last_known: bool,
}

impl Authenticate {
    pub fn new(store: Store, last_known: bool) -> Self {
        Authenticate { store, last_known }
    }
}

fn invalid_key(message: &str) -> Refusal {
    Refusal::InvalidKey(message.into())
}

#[async_trait]
impl Step for Authenticate {
    fn name(&self) -> &'static str {
        "authenticate"
    }

    async fn run(&self, ctx: &mut Ctx) {
        match self.check(ctx.presented_key.clone()).await {
            Ok(identity) => ctx.agent = Some(identity),
            Err(r) => ctx.reject(r),
        }
    }
}

impl Authenticate {
    async fn check(&self, presented: Option<SecretString>) -> Result<AgentIdentity, Refusal> {
        let token = presented
            .as_ref()
            .map(|k| k.expose_secret())
            .ok_or_else(|| invalid_key("missing API key: send `Authorization: Bearer tp_…`"))?;
        let parsed = keys::parse(token).ok_or_else(|| invalid_key("invalid API key"))?;
        if parsed.family == KeyFamily::Admin {
            return Err(Refusal::WrongRole(
                "control-plane keys cannot call the data plane; use an agent key".into(),
            ));
        }
        let row = match self
            .store
            .find_agent_key(&parsed.key_id, self.last_known)
            .await
        {
            Ok(Some(row)) => row,
            Ok(None) => return Err(invalid_key("invalid API key")),
            // An outage is logged once by the store's supervisor, not once per request.
            Err(e @ StoreError::Unavailable(_)) => {
                tracing::debug!(error = %e, "key lookup failed: database unavailable");
                return Err(Refusal::StorageUnavailable);
            }
            Err(e) => {
                tracing::error!(error = %e, "key lookup failed");
                return Err(Refusal::StorageUnavailable);
            }
        };
        // Verify the secret before revealing anything about the key's state.
        if !keys::verify(token, &row.key_hash) {
            return Err(invalid_key("invalid API key"));
        }
        if row.role != Role::Agent {
            return Err(Refusal::WrongRole("this key is not an agent key".into()));
        }
        if row.status == KeyStatus::Revoked {
            return Err(Refusal::KeyRevoked { key_id: row.key_id });
        }
        let agent_id = row.agent_id.clone().unwrap_or_default();
        if row.agent_status != Some(AgentStatus::Active) {
            return Err(Refusal::AgentDisabled { agent_id });
        }
        // Stored grants were validated when written; anything unreadable grants nothing.
        let flag_grants = Grants::parse_list(row.agent_flag_grants.as_deref().unwrap_or(""))
            .unwrap_or(Grants::NONE);
        Ok(AgentIdentity {
            agent_id,
            key_id: row.key_id,
            flag_grants,
        })
    }
}
