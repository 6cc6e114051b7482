//! `/health`, `/health/live`, `/health/ready` and `/metrics`.
//!
//! The health bodies carry no secrets and no internals unless an admin key is presented.

use std::sync::Arc;

use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::auth::{authorize, is_admin};
use super::App;
use crate::identity::Role;
use crate::pipeline::Refusal;

fn storage_name(app: &App) -> &'static str {
    if app.store.is_ready() {
        app.store.backend().name()
    } else {
        "unavailable"
    }
}

pub async fn health(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let ready = app.store.is_ready();
    let mut body = json!({
        "status": if ready { "healthy" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "storage": storage_name(&app),
        "audit_spool": app.audit.spool_state(),
        "environment": app.config.server.environment,
        // That it is, not why: the reasons are for admins.
        "production_unsafe": !app.production_unsafe.is_empty(),
    });
    if is_admin(&app, &headers).await {
        body["details"] = json!({
            "uptime_secs": app.started.elapsed().as_secs(),
            "providers": app.router.provider_names(),
            "pipeline": app.pipeline.step_names(),
            "database": app.config.database_url_redacted(),
            "sandbox": app.sandbox,
            "production_unsafe": app.production_unsafe,
            "audit_spool": app.audit.spool_counters(),
        });
    }
    Json(body).into_response()
}

pub async fn live() -> Response {
    Json(json!({"status": "ok"})).into_response()
}

/// Ready when the data plane can answer: with the database down that is still the case while
/// the spool takes the audit events and keys are known to authenticate from (`degraded`).
pub async fn ready(State(app): State<Arc<App>>) -> Response {
    let (db, db_ok) = if app.store.is_ready() {
        ("ok", true)
    } else if app.audit.spools() && app.store.knows_keys() {
        ("unavailable (audit spooled to local disk)", true)
    } else {
        ("unavailable", false)
    };
    let gov = app.governance.load();
    // A wrong password is named (only its category: the body is public); the shared
    // connection may only know it is broken, so a fresh one is asked why.
    let auth_failed = async |e: &crate::limits::LimitError| {
        crate::limits::is_auth_failure(e)
            || matches!(app.limiter.probe().await, Err(p) if crate::limits::is_auth_failure(&p))
    };
    let (redis, redis_ok) = match (app.limiter.backend(), app.limiter.ping().await) {
        ("memory", _) => ("in-process", true),
        (_, Ok(())) => ("ok", true),
        (_, Err(_)) if gov.config.redis.fail_open => {
            ("unavailable (fail-open: limits not enforced)", true)
        }
        (_, Err(e)) if auth_failed(&e).await => ("unavailable (authentication failed)", false),
        (_, Err(_)) => ("unavailable", false),
    };
    // An external engine that does not answer cannot decide: every request would be refused.
    let (policy, policy_ok) = match gov.policy.as_ref() {
        None => ("disabled", true),
        Some(p) => match p.ready().await {
            Ok(()) => (p.backend(), true),
            Err(_) => ("unavailable", false),
        },
    };
    let ok = db_ok && redis_ok && policy_ok;
    let status = match (ok, app.store.is_ready()) {
        (false, _) => "unavailable",
        (true, false) => "degraded",
        (true, true) => "ok",
    };
    let body = json!({
        "status": status,
        "checks": {"database": db, "redis": redis, "policy": policy},
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

pub async fn metrics(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    // Open to Prometheus on loopback only when configured; else admin or auditor keys.
    let open = app.config.server.metrics_public && peer.ip().is_loopback();
    if !open {
        authorize(&app, &headers, &[Role::Admin, Role::Auditor]).await?;
    }
    app.metrics.storage_up.set(i64::from(app.store.is_ready()));
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        app.metrics.encode(),
    )
        .into_response())
}
