//! authenticate: the presented `tp_` key must be a live agent key of an active agent.

use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

use crate::governance::flags::Grants;
use crate::identity::keys::{self, KeyFamily};
use crate::pipeline::{AgentIdentity, Ctx, Kind, Phase, Rejection, Step};
use crate::store::{Store, StoreError};

pub struct Authenticate {
    store: Store,
}

impl Authenticate {
    pub fn new(store: Store) -> Self {
        Authenticate { store }
    }
}

fn invalid_key(message: &str) -> Rejection {
    Rejection::new(401, Kind::Authentication, message).code("invalid_api_key")
}

#[async_trait]
impl Step for Authenticate {
    fn name(&self) -> &'static str {
        "authenticate"
    }

    fn phase(&self) -> Phase {
        Phase::Before
    }

    fn position(&self) -> u32 {
        10
    }

    async fn run(&self, ctx: &mut Ctx) {
        match self.check(ctx.presented_key.clone()).await {
            Ok(identity) => ctx.agent = Some(identity),
            Err(r) => ctx.reject(r),
        }
    }
}

impl Authenticate {
    async fn check(&self, presented: Option<SecretString>) -> Result<AgentIdentity, Rejection> {
        let token = presented
            .as_ref()
            .map(|k| k.expose_secret())
            .ok_or_else(|| invalid_key("missing API key: send `Authorization: Bearer tp_…`"))?;
        let parsed = keys::parse(token).ok_or_else(|| invalid_key("invalid API key"))?;
        if parsed.family == KeyFamily::Admin {
            return Err(Rejection::new(
                403,
                Kind::Permission,
                "control-plane keys cannot call the data plane; use an agent key",
            )
            .code("wrong_role"));
        }
        let row = match self.store.find_key(&parsed.key_id).await {
            Ok(Some(row)) => row,
            Ok(None) => return Err(invalid_key("invalid API key")),
            Err(e) => {
                if matches!(e, StoreError::Unavailable(_)) {
                    self.store.mark_unavailable();
                }
                tracing::error!(error = %e, "key lookup failed");
                return Err(Rejection::storage_unavailable());
            }
        };
        // Verify the secret before revealing anything about the key's state.
        if !keys::verify(token, &row.key_hash) {
            return Err(invalid_key("invalid API key"));
        }
        if row.role != "agent" {
            return Err(
                Rejection::new(403, Kind::Permission, "this key is not an agent key")
                    .code("wrong_role"),
            );
        }
        if row.status == "revoked" {
            return Err(Rejection::new(
                401,
                Kind::Authentication,
                format!("API key {} has been revoked", row.key_id),
            )
            .code("key_revoked"));
        }
        let agent_id = row.agent_id.clone().unwrap_or_default();
        if row.agent_status.as_deref() != Some("active") {
            return Err(Rejection::new(
                403,
                Kind::Permission,
                format!("agent {agent_id} is disabled"),
            )
            .code("agent_disabled"));
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
