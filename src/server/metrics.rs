//! Prometheus metrics (`GET /metrics`), via the prometheus-client crate.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use super::App;
use std::sync::Arc;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StepLabels {
    pub step: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabels {
    pub event_type: String,
}

pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub audit_events: Family<EventLabels, Counter>,
    pub pipeline_blocks: Family<StepLabels, Counter>,
    /// Every failed data-plane authentication (the audit trail holds a rate-limited sample).
    pub auth_failures: Counter,
    pub storage_up: Gauge,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("tappass");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            http_requests.clone(),
        );
        let http_duration = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to the response head, by route",
            http_duration.clone(),
        );
        let audit_events = Family::<EventLabels, Counter>::default();
        registry.register(
            "audit_events",
            "Audit events committed by this process, by type",
            audit_events.clone(),
        );
        let pipeline_blocks = Family::<StepLabels, Counter>::default();
        registry.register(
            "pipeline_blocks",
            "Requests refused by a pipeline step",
            pipeline_blocks.clone(),
        );
        let auth_failures = Counter::default();
        registry.register(
            "auth_failures",
            "Failed data-plane authentications (audited at a bounded rate)",
            auth_failures.clone(),
        );
        let storage_up = Gauge::default();
        registry.register(
            "storage_up",
            "1 when the database is connected and migrated",
            storage_up.clone(),
        );
        Metrics {
            registry,
            http_requests,
            http_duration,
            audit_events,
            pipeline_blocks,
            auth_failures,
            storage_up,
        }
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// Middleware: counts every request by its route template (never the raw path, which could
/// carry ids without bound) and times it to the response head.
pub async fn track(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let t0 = Instant::now();
    let resp = next.run(req).await;
    let m = &app.metrics;
    m.http_duration
        .get_or_create(&RouteLabels {
            route: route.clone(),
        })
        .observe(t0.elapsed().as_secs_f64());
    m.http_requests
        .get_or_create(&HttpLabels {
            route,
            status: resp.status().as_u16(),
        })
        .inc();
    resp
}
