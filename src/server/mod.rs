//! The HTTP server: the route table, shared state and graceful shutdown. Only `server/` knows
//! axum; handlers translate between HTTP and the pipeline / store and decide nothing else.

mod admin;
mod audit_api;
pub mod auth;
mod body;
mod connections;
mod data_plane;
pub mod error;
mod health;
pub mod metrics;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::{get, post};
use secrecy::SecretString;
use tokio::net::TcpListener;

use crate::audit::AuditWriter;
use crate::config::Config;
use crate::pipeline::steps::Authenticate;
use crate::pipeline::Pipeline;
use crate::providers::Router;
use crate::store::Store;

/// Everything a handler may use, built once at start-up.
pub struct App {
    pub config: Config,
    pub store: Store,
    pub audit: AuditWriter,
    pub router: Arc<Router>,
    pub pipeline: Pipeline,
    /// Governance settings; swapped whole on reload, read once per request.
    pub governance: Arc<arc_swap::ArcSwap<crate::governance::Governance>>,
    /// Rate limits and budgets backend (for `/health/ready`).
    pub limiter: Arc<dyn crate::limits::Limiter>,
    pub reloader: Arc<crate::governance::reload::Reloader>,
    /// For routes that only need to know the agent (`GET /v1/models`).
    pub authenticate: Authenticate,
    pub metrics: metrics::Metrics,
    /// An admin key from a credential or `TAPPASS_ADMIN_API_KEY` (kept in memory only).
    pub admin_key: Option<SecretString>,
    /// How the process confined itself (shown to admins on `/health`).
    pub sandbox: Option<crate::host::sandbox::Report>,
    /// Why this daemon is unfit for production (`[server] environment = "production"`).
    pub production_unsafe: Vec<crate::host::production::Unsafe>,
    pub started: Instant,
}

/// The route table.
pub fn routes(app: Arc<App>) -> axum::Router {
    axum::Router::new()
        // data plane (agent keys)
        .route("/v1/chat/completions", post(data_plane::chat_completions))
        .route("/v1/messages", post(data_plane::messages))
        .route("/v1/models", get(data_plane::models))
        // control plane (admin keys)
        .route(
            "/admin/agents",
            post(admin::create_agent).get(admin::list_agents),
        )
        .route(
            "/admin/agents/{agent_id}",
            get(admin::get_agent).patch(admin::update_agent),
        )
        .route(
            "/admin/agents/{agent_id}/disable",
            post(admin::disable_agent),
        )
        .route("/admin/agents/{agent_id}/keys", post(admin::issue_key))
        .route(
            "/admin/agents/{agent_id}/keys/{key_id}/rotate",
            post(admin::rotate_key),
        )
        .route(
            "/admin/agents/{agent_id}/keys/{key_id}/revoke",
            post(admin::revoke_key),
        )
        .route("/admin/keys", post(admin::create_control_key))
        .route(
            "/admin/keys/{key_id}/rotate",
            post(admin::rotate_control_key),
        )
        .route(
            "/admin/keys/{key_id}/revoke",
            post(admin::revoke_control_key),
        )
        .route("/admin/config/reload", post(admin::reload_config))
        // audit (admin or auditor keys)
        .route("/audit", get(audit_api::list))
        .route("/audit/verify", get(audit_api::verify))
        // health (no auth) and metrics
        .route("/health", get(health::health))
        .route("/health/live", get(health::live))
        .route("/health/ready", get(health::ready))
        .route("/metrics", get(health::metrics))
        // Outermost: metrics see every request, including refusals.
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            metrics::track,
        ))
        // Bodies are capped by the handlers themselves (413 in the API's own envelope).
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(app)
}

/// Serves until `shutdown` resolves, then drains in-flight requests for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(());
    let header_timeout = Duration::from_secs(app.config.server.header_timeout_secs);
    let accepting = tokio::spawn(connections::accept_until(
        listener,
        routes(app),
        header_timeout,
        stop_rx,
    ));
    shutdown.await;
    let _ = stop_tx.send(());
    let open = accepting.await.map_err(std::io::Error::other)?;
    tracing::info!(grace_secs = grace.as_secs(), "draining in-flight requests");
    if tokio::time::timeout(grace, open.closed()).await.is_err() {
        tracing::warn!("drain time over; closing remaining connections");
    }
    Ok(())
}
