//! Control-plane authentication: admin and auditor keys (product.md's auth matrix).

use axum::http::{header, HeaderMap};

use super::App;
use crate::identity::keys::{self, KeyFamily};
use crate::identity::{KeyStatus, Role};
use crate::pipeline::Refusal;

/// Who is calling the control plane.
#[derive(Debug, Clone)]
pub struct Caller {
    pub role: Role,
    /// Public key id, or `configured` for the key from a credential / `TAPPASS_ADMIN_API_KEY`.
    pub key_id: String,
}

/// The bearer token of a request, if any.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn unauthorized(message: &str) -> Refusal {
    Refusal::InvalidKey(message.into())
}

fn forbidden(message: &str) -> Refusal {
    Refusal::InsufficientRole(message.into())
}

/// Authenticates a control-plane caller and checks its role against `allowed`.
pub async fn authorize(
    app: &App,
    headers: &HeaderMap,
    allowed: &[Role],
) -> Result<Caller, Refusal> {
    let token = bearer(headers)
        .ok_or_else(|| unauthorized("missing API key: send `Authorization: Bearer tp_admin_…`"))?;
    let caller = if app
        .admin_key
        .as_ref()
        .is_some_and(|k| keys::verify_secret(token, k))
    {
        Caller {
            role: Role::Admin,
            key_id: "configured".into(),
        }
    } else {
        let parsed = keys::parse(token).ok_or_else(|| unauthorized("invalid API key"))?;
        if parsed.family != KeyFamily::Admin {
            return Err(forbidden("agent keys cannot use the control plane"));
        }
        if !app.store.is_ready() {
            return Err(Refusal::StorageUnavailable);
        }
        let row = app
            .store
            .find_key(&parsed.key_id)
            .await?
            .filter(|row| keys::verify(token, &row.key_hash))
            .ok_or_else(|| unauthorized("invalid API key"))?;
        if row.status != KeyStatus::Active {
            return Err(Refusal::KeyRevoked { key_id: row.key_id });
        }
        Caller {
            role: row.role,
            key_id: row.key_id,
        }
    };
    if !allowed.contains(&caller.role) {
        return Err(forbidden(&format!(
            "a {} key may not do this",
            caller.role.as_str()
        )));
    }
    Ok(caller)
}

/// Does the request carry a valid admin key? (For optional details on `/health`.)
pub async fn is_admin(app: &App, headers: &HeaderMap) -> bool {
    authorize(app, headers, &[Role::Admin]).await.is_ok()
}

/// The presented data-plane key: `Authorization: Bearer` or Anthropic's `x-api-key`.
pub fn presented_key(headers: &HeaderMap) -> Option<secrecy::SecretString> {
    bearer(headers)
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(|t| secrecy::SecretString::from(t.to_string()))
}
