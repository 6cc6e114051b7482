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
mod openapi;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{on, MethodFilter, MethodRouter};
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

/// One route: its method, its path (axum's `{param}` syntax, which is OpenAPI's too) and its
/// handler. The method is given once and the handler bound to it, so the list below is the
/// whole truth that `openapi.rs`'s drift test compares with the published document.
pub(crate) struct Route {
    // Read by the drift test only: the router takes it from `handler`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub method: Method,
    pub path: &'static str,
    handler: MethodRouter<Arc<App>>,
}

fn route<H, T>(method: Method, path: &'static str, handler: H) -> Route
where
    H: Handler<T, Arc<App>>,
    T: 'static,
{
    let filter = MethodFilter::try_from(method.clone()).expect("a method axum can route");
    Route {
        method,
        path,
        handler: on(filter, handler),
    }
}

/// Every route the server answers, in one table.
pub(crate) fn table() -> Vec<Route> {
    use Method as M;
    vec![
        // data plane (agent keys)
        route(
            M::POST,
            "/v1/chat/completions",
            data_plane::chat_completions,
        ),
        route(M::POST, "/v1/messages", data_plane::messages),
        route(M::GET, "/v1/models", data_plane::models),
        // control plane (admin keys)
        route(M::POST, "/admin/agents", admin::create_agent),
        route(M::GET, "/admin/agents", admin::list_agents),
        route(M::GET, "/admin/agents/{agent_id}", admin::get_agent),
        route(M::PATCH, "/admin/agents/{agent_id}", admin::update_agent),
        route(
            M::POST,
            "/admin/agents/{agent_id}/disable",
            admin::disable_agent,
        ),
        route(M::POST, "/admin/agents/{agent_id}/keys", admin::issue_key),
        route(
            M::POST,
            "/admin/agents/{agent_id}/keys/{key_id}/rotate",
            admin::rotate_key,
        ),
        route(
            M::POST,
            "/admin/agents/{agent_id}/keys/{key_id}/revoke",
            admin::revoke_key,
        ),
        route(M::POST, "/admin/keys", admin::create_control_key),
        route(
            M::POST,
            "/admin/keys/{key_id}/rotate",
            admin::rotate_control_key,
        ),
        route(
            M::POST,
            "/admin/keys/{key_id}/revoke",
            admin::revoke_control_key,
        ),
        route(M::POST, "/admin/config/reload", admin::reload_config),
        // audit (admin or auditor keys)
        route(M::GET, "/audit", audit_api::list),
        route(M::GET, "/audit/verify", audit_api::verify),
        // health (no auth), metrics, the API's description
        route(M::GET, "/health", health::health),
        route(M::GET, "/health/live", health::live),
        route(M::GET, "/health/ready", health::ready),
        route(M::GET, "/metrics", health::metrics),
        route(M::GET, "/openapi.json", openapi::document),
    ]
}

/// The router: the table, plus the metrics middleware.
pub fn routes(app: Arc<App>) -> axum::Router {
    table()
        .into_iter()
        // A path given twice merges its methods (axum panics on the same method twice).
        .fold(axum::Router::new(), |router, r| {
            router.route(r.path, r.handler)
        })
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
