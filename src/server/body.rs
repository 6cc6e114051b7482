//! Reading a request body: capped before anything is buffered, and bounded in time.
//!
//! Every route that takes a body reads it through here, after authenticating the caller, so an
//! anonymous client can neither make the gateway buffer a large body nor hold a connection
//! open by sending one slowly.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use futures_util::StreamExt;

use crate::pipeline::Refusal;

/// A whole body must arrive within this time (408 otherwise). Generous for the largest
/// allowed body on a slow link, short enough that a trickling client lets go.
pub const READ_TIMEOUT: Duration = Duration::from_secs(60);

/// Bodies of the control plane (agent ids, descriptions, grants) are small.
pub const ADMIN_MAX_BYTES: u64 = 64 * 1024;

/// An oversized body is still read (and discarded) up to this much, so the client — which is
/// usually still sending — gets the 413 instead of a connection reset.
const DRAIN_MAX: u64 = 64 * 1024 * 1024;

/// Reads the body up to `cap` bytes; more is 413 naming `setting`, slower than
/// [`READ_TIMEOUT`] is 408.
pub async fn read(
    headers: &HeaderMap,
    body: Body,
    cap: u64,
    setting: &'static str,
) -> Result<bytes::Bytes, Refusal> {
    match tokio::time::timeout(READ_TIMEOUT, read_capped(headers, body, cap, setting)).await {
        Ok(r) => r,
        Err(_) => Err(Refusal::BodyTimeout {
            secs: READ_TIMEOUT.as_secs(),
        }),
    }
}

async fn read_capped(
    headers: &HeaderMap,
    body: Body,
    cap: u64,
    setting: &'static str,
) -> Result<bytes::Bytes, Refusal> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut buf = bytes::BytesMut::with_capacity(declared.unwrap_or(0).min(cap) as usize);
    let mut seen: u64 = 0;
    let mut over = declared.is_some_and(|n| n > cap);
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| Refusal::invalid("body", format!("could not be read: {e}")))?;
        seen += chunk.len() as u64;
        if seen > cap {
            over = true;
        }
        if over {
            buf.clear();
            if seen > DRAIN_MAX {
                break;
            }
        } else {
            buf.extend_from_slice(&chunk);
        }
    }
    if over {
        return Err(Refusal::BodyTooLarge {
            limit: cap,
            setting,
        });
    }
    Ok(buf.freeze())
}
