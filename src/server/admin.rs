//! `/admin/*`: agents and keys (product.md's admin API paths). Every change commits together
//! with its audit event; a new key's secret is in the response once and nowhere else.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use secrecy::ExposeSecret;
use serde_json::{json, Map, Value};

use super::auth::{authorize, Caller};
use super::App;
use crate::audit::event::{AuditEvent, EventType};
use crate::governance::flags::Grants;
use crate::identity::keys::{self, GeneratedKey, KeyFamily};
use crate::identity::{KeyStatus, Role};
use crate::pipeline::Refusal;
use crate::store::NewKey;

type Result<T> = std::result::Result<T, Refusal>;

/// Reads a control-plane body (after the caller is authorized), capped at 64 KiB.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<axum::body::Bytes> {
    super::body::read(
        headers,
        body,
        super::body::ADMIN_MAX_BYTES,
        "control-plane bodies",
    )
    .await
}

/// Parses a JSON object body, refusing unknown fields by name.
fn object(body: &[u8], allowed: &[&str]) -> Result<Map<String, Value>> {
    let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(body)
            .map_err(|e| Refusal::invalid("body", format!("not valid JSON: {e}")))?
    };
    let Value::Object(obj) = value else {
        return Err(Refusal::invalid("body", "must be a JSON object"));
    };
    if let Some(unknown) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(Refusal::invalid(
            unknown,
            format!("unknown field (expected one of: {})", allowed.join(", ")),
        ));
    }
    Ok(obj)
}

fn opt_string(obj: &Map<String, Value>, field: &str, max: usize) -> Result<Option<String>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(Refusal::invalid(
            field,
            format!("must be at most {max} characters"),
        )),
        Some(_) => Err(Refusal::invalid(field, "must be a string")),
    }
}

/// `flag_grants`: a list of flag names, returned in `KEYS` order without repeats.
fn flag_grants(obj: &Map<String, Value>) -> Result<Option<Vec<&'static str>>> {
    let field = "flag_grants";
    let names = match obj.get(field) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str())
            .collect::<Option<Vec<&str>>>()
            .ok_or_else(|| Refusal::invalid(field, "must be a list of flag names"))?,
        Some(_) => return Err(Refusal::invalid(field, "must be a list of flag names")),
    };
    let grants = Grants::parse(names).map_err(|e| Refusal::invalid(field, e))?;
    Ok(Some(grants.names()))
}

/// Agent ids: 1–64 characters of `A-Za-z0-9._-`, starting with a letter or digit.
pub fn valid_agent_id(id: &str) -> bool {
    let mut bytes = id.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric())
        && id.len() <= 64
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn admin_event(event_type: EventType, caller: &Caller, details: Value) -> AuditEvent {
    let mut e = AuditEvent::new(event_type);
    let mut details = details;
    details["actor_key_id"] = Value::from(caller.key_id.clone());
    e.details = details;
    e
}

fn new_key(agent_id: Option<&str>, role: Role, family: KeyFamily) -> (GeneratedKey, NewKey) {
    let g = keys::generate(family);
    let k = NewKey {
        key_id: g.key_id.clone(),
        agent_id: agent_id.map(str::to_string),
        role,
        key_hash: g.hash.clone(),
    };
    (g, k)
}

pub async fn create_agent(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let caller = authorize(&app, &headers, &[Role::Admin]).await?;
    let body = read_body(&headers, body).await?;
    let obj = object(&body, &["agent_id", "description", "flag_grants"])?;
    let agent_id = opt_string(&obj, "agent_id", 64)?
        .ok_or_else(|| Refusal::invalid("agent_id", "is required"))?;
    if !valid_agent_id(&agent_id) {
        return Err(Refusal::invalid(
            "agent_id",
            "must be 1-64 characters of A-Z a-z 0-9 . _ - starting with a letter or digit",
        ));
    }
    let description = opt_string(&obj, "description", 1024)?.unwrap_or_default();
    let grants = flag_grants(&obj)?.unwrap_or_default();
    let (generated, key) = new_key(Some(&agent_id), Role::Agent, KeyFamily::Agent);
    let event = admin_event(
        EventType::AgentRegistered,
        &caller,
        json!({"key_id": key.key_id, "flag_grants": grants}),
    )
    .agent(agent_id.clone());
    let (agent, _) = app
        .store
        .create_agent(&agent_id, &description, &grants, &key, &event)
        .await?;
    let mut body = serde_json::to_value(&agent).unwrap_or_default();
    body["key_id"] = Value::from(key.key_id);
    body["api_key"] = Value::from(generated.token.expose_secret());
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

pub async fn list_agents(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response> {
    authorize(&app, &headers, &[Role::Admin]).await?;
    let agents = app.store.list_agents().await?;
    Ok(Json(json!({ "agents": agents })).into_response())
}

pub async fn get_agent(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(agent_id): Path<String>,
) -> Result<Response> {
    authorize(&app, &headers, &[Role::Admin]).await?;
    let agent = app
        .store
        .get_agent(&agent_id)
        .await?
        .ok_or_else(|| Refusal::NotFound(format!("no agent {agent_id}")))?;
    let keys = app.store.list_keys(&agent_id).await?;
    let mut body = serde_json::to_value(&agent).unwrap_or_default();
    body["keys"] = serde_json::to_value(&keys).unwrap_or_default();
    Ok(Json(body).into_response())
}

pub async fn disable_agent(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(agent_id): Path<String>,
) -> Result<Response> {
    let caller = authorize(&app, &headers, &[Role::Admin]).await?;
    let event = admin_event(EventType::AgentDisabled, &caller, json!({})).agent(agent_id.clone());
    if !app.store.disable_agent(&agent_id, &event).await? {
        return Err(Refusal::NotFound(format!("no agent {agent_id}")));
    }
    let agent = app.store.get_agent(&agent_id).await?;
    Ok(Json(agent).into_response())
}

/// `PATCH /admin/agents/{id} {"flag_grants": ["mode"]}`: the flags this agent may loosen
/// (replaces the list; `[]` takes every grant back).
pub async fn update_agent(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(agent_id): Path<String>,
    body: Body,
) -> Result<Response> {
    let caller = authorize(&app, &headers, &[Role::Admin]).await?;
    let body = read_body(&headers, body).await?;
    let obj = object(&body, &["flag_grants"])?;
    let grants =
        flag_grants(&obj)?.ok_or_else(|| Refusal::invalid("flag_grants", "is required"))?;
    let event = admin_event(
        EventType::AgentUpdated,
        &caller,
        json!({"flag_grants": grants}),
    )
    .agent(agent_id.clone());
    if !app
        .store
        .set_flag_grants(&agent_id, &grants, &event)
        .await?
    {
        return Err(Refusal::NotFound(format!("no agent {agent_id}")));
    }
    let agent = app.store.get_agent(&agent_id).await?;
    Ok(Json(agent).into_response())
}

pub async fn issue_key(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(agent_id): Path<String>,
) -> Result<Response> {
    let caller = authorize(&app, &headers, &[Role::Admin]).await?;
    if app.store.get_agent(&agent_id).await?.is_none() {
        return Err(Refusal::NotFound(format!("no agent {agent_id}")));
    }
    let (generated, key) = new_key(Some(&agent_id), Role::Agent, KeyFamily::Agent);
    let event = admin_event(EventType::KeyIssued, &caller, json!({"key_id": key.key_id}))
        .agent(agent_id.clone());
    app.store.add_key(&key, &event).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"agent_id": agent_id, "key_id": key.key_id,
                    "api_key": generated.token.expose_secret()})),
    )
        .into_response())
}

pub async fn rotate_key(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((agent_id, key_id)): Path<(String, String)>,
) -> Result<Response> {
    let caller = authorize(&app, &headers, &[Role::Admin]).await?;
    let (generated, key) = new_key(Some(&agent_id), Role::Agent, KeyFamily::Agent);
    let event = admin_event(
        EventType::KeyRotated,
        &caller,
        json!({"key_id": key_id, "replaced_by": key.key_id}),
    )
    .agent(agent_id.clone());
    if !app
        .store
        .revoke_key(Some(&agent_id), &key_id, Some(&key), false, &event)
        .await?
    {
        return Err(Refusal::NotFound(format!(
            "no active key {key_id} for agent {agent_id}"
        )));
    }
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"agent_id": agent_id, "key_id": key.key_id, "replaces": key_id,
                    "api_key": generated.token.expose_secret()}),
        ),
    )
        .into_response())
}

pub async fn revoke_key(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path((agent_id, key_id)): Path<(String, String)>,
) -> Result<Response> {
    let caller = authorize(&app, &headers, &[Role::Admin]).await?;
    let event = admin_event(EventType::KeyRevoked, &caller, json!({"key_id": key_id}))
        .agent(agent_id.clone());
    if !app
        .store
        .revoke_key(Some(&agent_id), &key_id, None, false, &event)
        .await?
    {
        return Err(Refusal::NotFound(format!(
            "no active key {key_id} for agent {agent_id}"
        )));
    }
    Ok(
        Json(json!({"agent_id": agent_id, "key_id": key_id, "status": KeyStatus::Revoked}))
            .into_response(),
    )
}

/// `POST /admin/keys {"role":"auditor"|"admin"}`: a control-plane key.
pub async fn create_control_key(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response> {
    let caller = authorize(&app, &headers, &[Role::Admin]).await?;
    let body = read_body(&headers, body).await?;
    let obj = object(&body, &["role"])?;
    let role = match opt_string(&obj, "role", 16)?.as_deref() {
        Some("auditor") => Role::Auditor,
        Some("admin") => Role::Admin,
        Some(_) => return Err(Refusal::invalid("role", "must be \"auditor\" or \"admin\"")),
        None => return Err(Refusal::invalid("role", "is required")),
    };
    let (generated, key) = new_key(None, role, KeyFamily::Admin);
    let event = admin_event(
        EventType::KeyIssued,
        &caller,
        json!({"key_id": key.key_id, "role": role.as_str()}),
    );
    app.store.add_key(&key, &event).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"key_id": key.key_id, "role": role.as_str(),
                    "api_key": generated.token.expose_secret()})),
    )
        .into_response())
}

/// `POST /admin/keys/{key_id}/rotate`: replaces a control-plane key (same role) with a new one
/// (shown once); the old one is revoked in the same transaction.
pub async fn rotate_control_key(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(key_id): Path<String>,
) -> Result<Response> {
    let caller = authorize(&app, &headers, &[Role::Admin]).await?;
    let role = control_key_role(&app, &key_id).await?;
    let (generated, key) = new_key(None, role, KeyFamily::Admin);
    let event = admin_event(
        EventType::KeyRotated,
        &caller,
        json!({"key_id": key_id, "replaced_by": key.key_id, "role": role.as_str()}),
    );
    if !app
        .store
        .revoke_key(None, &key_id, Some(&key), false, &event)
        .await?
    {
        return Err(Refusal::NotFound(format!(
            "no active control-plane key {key_id}"
        )));
    }
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"key_id": key.key_id, "role": role.as_str(), "replaces": key_id,
                    "api_key": generated.token.expose_secret()}),
        ),
    )
        .into_response())
}

/// `POST /admin/keys/{key_id}/revoke`: a revoked control-plane key stops working at once. The
/// last active admin key cannot be revoked unless an admin key is configured outside the
/// database (409: rotate it instead).
pub async fn revoke_control_key(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    Path(key_id): Path<String>,
) -> Result<Response> {
    let caller = authorize(&app, &headers, &[Role::Admin]).await?;
    let role = control_key_role(&app, &key_id).await?;
    let event = admin_event(
        EventType::KeyRevoked,
        &caller,
        json!({"key_id": key_id, "role": role.as_str()}),
    );
    let keep_last_admin = app.admin_key.is_none();
    if !app
        .store
        .revoke_key(None, &key_id, None, keep_last_admin, &event)
        .await?
    {
        return Err(Refusal::NotFound(format!(
            "no active control-plane key {key_id}"
        )));
    }
    Ok(
        Json(json!({"key_id": key_id, "role": role.as_str(), "status": KeyStatus::Revoked}))
            .into_response(),
    )
}

/// The role of an active control-plane key, or 404.
async fn control_key_role(app: &App, key_id: &str) -> Result<Role> {
    let not_found = || Refusal::NotFound(format!("no active control-plane key {key_id}"));
    let row = app.store.find_key(key_id).await?.ok_or_else(not_found)?;
    if row.agent_id.is_some() || row.status != KeyStatus::Active {
        return Err(not_found());
    }
    Ok(row.role)
}

/// `POST /admin/config/reload`: like SIGHUP; 200 when applied, 422 with the error when the new
/// configuration was rejected (the old one keeps serving).
pub async fn reload_config(State(app): State<Arc<App>>, headers: HeaderMap) -> Result<Response> {
    let caller = authorize(&app, &headers, &[Role::Admin]).await?;
    let report = app
        .reloader
        .reload(&format!("admin:{}", caller.key_id))
        .await;
    let status = if report.reloaded {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(report)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_id_rules() {
        for ok in ["a", "research-bot", "Bot_1.2", &"x".repeat(64)] {
            assert!(valid_agent_id(ok), "{ok}");
        }
        for bad in ["", "-bot", ".x", "a b", "a/b", "é", &"x".repeat(65)] {
            assert!(!valid_agent_id(bad), "{bad}");
        }
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = object(br#"{"agent_id":"a","colour":"red"}"#, &["agent_id"]).unwrap_err();
        assert_eq!(err.param(), Some("colour"));
        assert!(object(b"", &["agent_id"]).unwrap().is_empty());
        assert_eq!(
            object(b"[1]", &["agent_id"]).unwrap_err().param(),
            Some("body")
        );
    }
}
