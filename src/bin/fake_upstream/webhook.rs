//! A Slack-compatible incoming webhook, standing in for Slack in the health monitor's tests:
//! `POST /webhook` accepts any JSON body (`{"text": …}`) and keeps it; `GET /debug/webhooks`
//! lists every body received, in order.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;

use super::AppState;

/// What the webhook received.
#[derive(Default)]
pub struct Inbox(Mutex<Vec<Value>>);

/// `POST /webhook`: 200 "ok", like Slack.
pub async fn receive(
    State(state): State<Arc<AppState>>,
    Json(body): Json<Value>,
) -> (StatusCode, &'static str) {
    state
        .webhooks
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(body);
    (StatusCode::OK, "ok")
}

/// `GET /debug/webhooks`: every body received so far.
pub async fn received(State(state): State<Arc<AppState>>) -> Json<Vec<Value>> {
    Json(
        state
            .webhooks
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone(),
    )
}
