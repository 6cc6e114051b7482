//! `tappass-fake-upstream`: a deterministic fake LLM provider speaking the
//! OpenAI Chat Completions and Anthropic Messages wire formats.
//!
//! It is the only fake in the project: tests and benchmarks point the gateway
//! at it instead of a real provider. Answers echo the last user message, usage
//! is a word count, and `fake:` directives in the prompt simulate failures
//! (see `controls.rs` and `docs/fake-upstream.md`).
//!
//! It deliberately does not depend on the `tappass` library so it can be built
//! and shipped on its own (e.g. in a minimal container).

mod anthropic;
mod controls;
mod openai;
mod pipeline;
mod provider;
mod sse;
mod text;
mod webhook;

use std::{
    collections::BTreeMap,
    io::Write,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use axum::{
    extract::{DefaultBodyLimit, State},
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use clap::Parser;
use serde_json::{json, Value};

use provider::Provider;

/// Prompts in benchmarks can be large; the axum default (2 MiB) is too small.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// After SIGTERM/SIGINT, in-flight requests (e.g. `fake:hang`) get this long to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Models listed by `GET /v1/models`.
const MODELS: [(&str, &str); 4] = [
    ("gpt-4o-mini", "openai"),
    ("gpt-4o", "openai"),
    ("claude-3-5-haiku-latest", "anthropic"),
    ("claude-sonnet-4-5", "anthropic"),
];

/// Fake OpenAI/Anthropic provider for TapPass tests and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "tappass-fake-upstream", version, about)]
struct Args {
    /// Address to listen on; port 0 picks a free port (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:9700")]
    listen: String,
    /// Delay before answering every POST, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Delay between streamed events, in milliseconds.
    #[arg(long, default_value_t = 0)]
    chunk_delay_ms: u64,
    /// Number of content pieces a streamed answer is split into.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..))]
    chunks: u32,
    /// When set, require `Authorization: Bearer KEY` (OpenAI routes) or
    /// `x-api-key: KEY` (Anthropic route).
    #[arg(long)]
    api_key: Option<String>,
}

/// Configuration plus what `/debug/*` reports.
pub struct AppState {
    pub latency: Duration,
    pub chunk_delay: Duration,
    pub chunks: usize,
    pub api_key: Option<String>,
    last_request: Mutex<Option<Value>>,
    post_count: AtomicU64,
    webhooks: webhook::Inbox,
}

impl AppState {
    /// Remembers a POST so tests can check what the gateway sent upstream
    /// (which key, which headers, which body). Header names are lowercase;
    /// repeated headers are joined with ", ". A non-JSON body is kept as a string.
    pub fn record(&self, path: &str, headers: &HeaderMap, body: Value) {
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            names
                .entry(name.as_str().to_owned())
                .and_modify(|v| {
                    v.push_str(", ");
                    v.push_str(&value);
                })
                .or_insert_with(|| value.into_owned());
        }
        let entry = json!({"path": path, "headers": names, "body": body});
        *self.last_request.lock().unwrap_or_else(|e| e.into_inner()) = Some(entry);
        self.post_count.fetch_add(1, Ordering::Relaxed);
    }
}

fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route(openai::PATH, post(openai::chat_completions))
        .route(anthropic::PATH, post(anthropic::messages))
        .route("/v1/models", get(models))
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/debug/last-request", get(last_request))
        .route("/debug/requests", get(request_count))
        .route("/webhook", post(webhook::receive))
        .route("/debug/webhooks", get(webhook::received))
        .fallback(unknown_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

/// 404 shaped like OpenAI's answer for an unknown URL.
async fn unknown_route(method: Method, uri: Uri) -> Response {
    let message = format!("fake upstream: invalid URL ({method} {})", uri.path());
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}});
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// OpenAI-style model list (auth-checked like the other OpenAI routes).
async fn models(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Some(key) = &state.api_key {
        if !Provider::OpenAi.authorized(&headers, key) {
            return Provider::OpenAi
                .error(StatusCode::UNAUTHORIZED, "fake upstream: invalid API key");
        }
    }
    let data: Vec<Value> = MODELS
        .iter()
        .map(|(id, owner)| json!({"id": id, "object": "model", "created": 1_700_000_000, "owned_by": owner}))
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

async fn last_request(State(state): State<Arc<AppState>>) -> Response {
    let last = state
        .last_request
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    match last {
        Some(entry) => Json(entry).into_response(),
        None => (
            StatusCode::NOT_FOUND,
            Json(json!({"error": "no POST request received yet"})),
        )
            .into_response(),
    }
}

async fn request_count(State(state): State<Arc<AppState>>) -> Json<Value> {
    Json(json!({"count": state.post_count.load(Ordering::Relaxed)}))
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let state = Arc::new(AppState {
        latency: Duration::from_millis(args.latency_ms),
        chunk_delay: Duration::from_millis(args.chunk_delay_ms),
        chunks: args.chunks as usize,
        api_key: args.api_key,
        last_request: Mutex::new(None),
        post_count: AtomicU64::new(0),
        webhooks: webhook::Inbox::default(),
    });

    // Install signal handlers before announcing the port, so a test that
    // sends SIGTERM right after reading the line always gets a clean exit.
    let signal = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    let addr = listener.local_addr()?;
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "listening on {addr}")?;
        stdout.flush()?;
    }
    tracing::info!(%addr, "fake upstream ready");

    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    // TCP_NODELAY, as a provider's front end has: without it the small SSE events after the
    // first wait for the gateway's delayed ACK (~40 ms each), and a benchmark of streaming
    // would measure Nagle's algorithm instead of the gateway.
    use axum::serve::ListenerExt;
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let server = axum::serve(listener, router(state)).with_graceful_shutdown(async move {
        signal.await;
        let _ = signalled_tx.send(());
    });
    // Graceful shutdown waits for in-flight requests; cap that wait so a
    // `fake:hang` request cannot keep the process alive for an hour.
    let deadline = async {
        match signalled_rx.await {
            Ok(()) => tokio::time::sleep(SHUTDOWN_GRACE).await,
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = server => result?,
        () = deadline => tracing::warn!("in-flight requests still running; exiting anyway"),
    }
    tracing::info!("fake upstream stopped");
    Ok(())
}

/// Resolves on the first SIGTERM or SIGINT.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// Resolves on Ctrl-C (non-Unix fallback).
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
