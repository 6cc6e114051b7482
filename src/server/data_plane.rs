//! `/v1/*`: the data plane. Reads the request, runs the pipeline, sends the answer.
//!
//! The whole path of a call, top-down: key → body (capped) → `Ctx` → pipeline → `Answer` →
//! response. Nothing here decides policy or records anything: it carries the request in and
//! renders the pipeline's answer — a refusal, a complete answer, or a stream the pipeline
//! governs to its last byte.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::auth;
use super::error::render;
use super::App;
use crate::audit::event::EventType;
use crate::pipeline::{event_type, Answer, Ctx, Kind, Refusal, Step};
use crate::providers::WireFormat;

pub async fn chat_completions(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    handle(app, WireFormat::OpenAi, headers, body).await
}

pub async fn messages(State(app): State<Arc<App>>, headers: HeaderMap, body: Body) -> Response {
    handle(app, WireFormat::Anthropic, headers, body).await
}

/// `GET /v1/models`: the models an agent may name.
pub async fn models(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let mut ctx = Ctx::with_governance(
        request_id(&headers),
        WireFormat::OpenAi,
        Default::default(),
        app.governance.load_full(),
    );
    ctx.presented_key = auth::presented_key(&headers);
    if !app.audit.accepts() {
        return render(&Refusal::StorageUnavailable, WireFormat::OpenAi);
    }
    app.authenticate.run(&mut ctx).await;
    if let Some(r) = &ctx.rejection {
        return render(r, WireFormat::OpenAi);
    }
    let data: Vec<Value> = app
        .router
        .model_ids()
        .into_iter()
        .map(|id| {
            let owner = id.split_once('/').map_or("tappass", |(p, _)| p).to_string();
            json!({"id": id, "object": "model", "created": 0, "owned_by": owner})
        })
        .collect();
    Json(json!({"object": "list", "data": data})).into_response()
}

/// A client-supplied `x-request-id` when it is short and printable, else a fresh one.
fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(
            || format!("req_{}", uuid::Uuid::now_v7().simple()),
            str::to_string,
        )
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

async fn handle(app: Arc<App>, format: WireFormat, headers: HeaderMap, body: Body) -> Response {
    let request_id = request_id(&headers);
    // Fail closed before reading anything: a request we cannot audit gets no answer (the spool,
    // when on, takes the audit events while the database is away).
    if !app.audit.accepts() {
        return with_request_id(render(&Refusal::StorageUnavailable, format), &request_id);
    }
    let mut ctx = Ctx::with_governance(
        request_id.clone(),
        format,
        Default::default(),
        app.governance.load_full(),
    );
    ctx.presented_key = auth::presented_key(&headers);
    // Who is calling, before a byte of the body is read: an anonymous client cannot make the
    // gateway buffer anything. (The pipeline does not run a step twice.)
    app.authenticate.run(&mut ctx).await;
    ctx.steps_run.push(app.authenticate.name());
    if ctx.rejection.is_none() {
        match super::body::read(
            &headers,
            body,
            app.config.server.max_body_bytes,
            "server.max_body_bytes",
        )
        .await
        {
            Ok(raw) => ctx.raw_body = raw,
            Err(r) => ctx.reject(r),
        }
    }
    if let Some(v) = headers.get("x-tappass-flags") {
        ctx.requested_flags = match v.to_str() {
            Ok(s) => crate::governance::flags::parse(s),
            Err(_) => Err(crate::governance::flags::FlagError {
                token: String::new(),
                message: "not valid ASCII".into(),
            }),
        };
    }
    if let Some(s) = header_str(&headers, "x-tappass-session").filter(|s| s.len() <= 128) {
        ctx.session_id = s;
    }
    ctx.anthropic_version = header_str(&headers, "anthropic-version");
    ctx.anthropic_beta = header_str(&headers, "anthropic-beta");

    let ctx = match run_detached(&app, ctx).await {
        Ok(ctx) => ctx,
        Err(r) => return with_request_id(render(&r, format), &request_id),
    };
    let event = event_type(&ctx);
    if event == EventType::AuthFailed {
        app.metrics.auth_failures.inc();
    }
    if ctx.audited.is_some() {
        app.metrics
            .audit_events
            .get_or_create(&super::metrics::EventLabels {
                event_type: event.as_str().to_string(),
            })
            .inc();
    }
    log_request(&ctx);
    let resp = respond(&app, ctx);
    with_request_id(resp, &request_id)
}

/// Runs the pipeline in its own task: when the client hangs up, axum drops this handler, but
/// an exchange that may already have reached the provider runs on to its audit event and
/// budget settlement, which record the disconnect (`details.client_disconnected`).
async fn run_detached(app: &Arc<App>, mut ctx: Ctx) -> Result<Ctx, Refusal> {
    /// Marks the client gone unless disarmed (the handler finished waiting).
    struct Watch(Option<Arc<std::sync::atomic::AtomicBool>>);
    impl Drop for Watch {
        fn drop(&mut self) {
            if let Some(flag) = self.0.take() {
                flag.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
    let mut watch = Watch(Some(ctx.client_gone.clone()));
    let pipeline_app = app.clone();
    let task = tokio::spawn(async move {
        pipeline_app.pipeline.run(&mut ctx).await;
        ctx
    });
    let joined = task.await;
    watch.0 = None;
    joined.map_err(|e| {
        tracing::error!(error = %e, "pipeline task failed");
        Refusal::Internal("the request could not be processed".into())
    })
}

/// One log event per request. Its fields become journal fields of the same, upper-cased names
/// (REQUEST_ID, AGENT_ID, DECISION, STEP, LATENCY_MS): `journalctl -u tappass DECISION=block`.
fn log_request(ctx: &Ctx) {
    let (decision, step) = match &ctx.rejection {
        None => ("allow", ctx.steps_run.last().copied().unwrap_or("-")),
        Some(r) => match r.blocked() {
            Some((step, _)) => ("block", step),
            None if r.kind() == Kind::Authentication => ("deny", "authenticate"),
            None => ("error", ctx.steps_run.last().copied().unwrap_or("-")),
        },
    };
    tracing::info!(
        request_id = %ctx.request_id,
        agent_id = ctx.agent.as_ref().map(|a| a.agent_id.as_str()).unwrap_or("-"),
        decision,
        step,
        status = ctx.rejection.as_ref().map_or(200, Refusal::status),
        seq = ctx.audited.as_ref().and_then(|r| r.seq()),
        stream = ctx.stream,
        latency_ms = ctx.started.elapsed().as_millis() as u64,
        "request"
    );
}

/// Renders the pipeline's answer: the error envelope, the scanned answer with its `tappass`
/// block, or the governed stream; the `x-tappass-*` headers say what governance did.
fn respond(app: &App, ctx: Ctx) -> Response {
    if let Some(r) = &ctx.rejection {
        if let Some((step, _)) = r.blocked() {
            app.metrics
                .pipeline_blocks
                .get_or_create(&super::metrics::StepLabels { step: step.into() })
                .inc();
        }
        return render(r, ctx.format);
    }
    let format = ctx.format;
    let classification = ctx.classification.as_str();
    let warnings = (ctx.flags.mode == crate::governance::flags::Mode::Warn
        && !ctx.warnings.is_empty())
    .then(|| ctx.warnings.clone());
    let mut tappass = json!({
        "blocked": false,
        "classification": classification,
        "request_id": ctx.request_id,
        "session_id": ctx.session_id,
        "audit_id": ctx.audited.as_ref().map(|l| l.audit_id.clone()),
    });
    if let Some(w) = &warnings {
        tappass["warnings"] = json!(w);
    }
    let mut headers = vec![
        ("x-tappass-pipeline-steps", ctx.steps_run.join(",")),
        ("x-tappass-session", ctx.session_id.clone()),
        ("x-tappass-classification", classification.to_string()),
    ];
    if let Some(w) = &warnings {
        let joined: String = w
            .join("; ")
            .chars()
            .filter(|c| c.is_ascii() && !c.is_ascii_control())
            .take(1024)
            .collect();
        headers.push(("x-tappass-warnings", joined));
    }
    let mut resp = match app.pipeline.answer(ctx) {
        Answer::Refused(r) => return render(&r, format),
        Answer::Complete(mut body) => {
            body["tappass"] = tappass;
            Json(body).into_response()
        }
        Answer::Stream(events) => {
            let mut resp = Body::from_stream(events).into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        }
    };
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            resp.headers_mut().insert(name, v);
        }
    }
    resp
}

fn with_request_id(mut resp: Response, id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}
