//! Server-sent-events plumbing shared by both providers: framing, pacing
//! (`--chunk-delay-ms`), the `fake:stream_cut` abort and the `fake:stall` silence.

use std::{io, time::Duration};

use axum::{
    body::{Body, Bytes},
    http::header,
    response::{IntoResponse, Response},
};
use serde_json::Value;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// Lets the bytes sent before a `stream_cut` reach the client before the
/// connection is torn down.
const CUT_FLUSH: Duration = Duration::from_millis(50);

/// How long a stalled stream stays silent ("forever" for any test).
const STALL: Duration = Duration::from_secs(3600);

/// An unnamed event (OpenAI style): `data: JSON`.
pub fn data(payload: &Value) -> String {
    format!("data: {payload}\n\n")
}

/// A named event (Anthropic style): `event: NAME` + `data: JSON`.
pub fn event(name: &str, payload: &Value) -> String {
    format!("event: {name}\ndata: {payload}\n\n")
}

/// A stream split in three parts so `stream_cut` can keep "everything up to
/// the first content chunk" without knowing the provider format.
pub struct Events {
    /// Preamble before any content (role chunk, message_start, ...).
    pub head: Vec<String>,
    /// One event per content piece.
    pub pieces: Vec<String>,
    /// Closing events (finish reason, usage, `[DONE]`, message_stop, ...).
    pub tail: Vec<String>,
}

/// How a stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Normal,
    /// Head and first piece, then the body fails: hyper drops the connection without the
    /// terminating chunk, which is what a provider dying mid-answer looks like.
    Cut,
    /// Head and first piece, then silence with the connection open (until shutdown).
    Stall,
}

/// Streams `events` as `text/event-stream`, waiting `delay` between events, ending as `end`
/// says.
pub fn response(events: Events, delay: Duration, end: Ending) -> Response {
    let Events { head, pieces, tail } = events;
    let cut = end != Ending::Normal;
    let sent: Vec<String> = if cut {
        head.into_iter().chain(pieces.into_iter().take(1)).collect()
    } else {
        head.into_iter().chain(pieces).chain(tail).collect()
    };

    let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(8);
    tokio::spawn(async move {
        for (i, chunk) in sent.into_iter().enumerate() {
            if i > 0 && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                return; // client went away
            }
        }
        if end == Ending::Stall {
            tokio::time::sleep(STALL).await;
            drop(tx);
            return;
        }
        if cut {
            tokio::time::sleep(CUT_FLUSH).await;
            let err = io::Error::new(io::ErrorKind::ConnectionAborted, "fake:stream_cut");
            let _ = tx.send(Err(err)).await;
        }
    });

    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from_stream(ReceiverStream::new(rx)),
    )
        .into_response()
}
