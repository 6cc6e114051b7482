//! Server-sent events as they travel between provider and client.
//!
//! Parsing uses the `eventsource-stream` crate; re-encoding keeps the provider's own framing
//! (named events for Anthropic, bare `data:` lines for OpenAI) so SDKs see what they expect.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::{EventStream, ProviderError};

/// One SSE event. `event` is `None` for unnamed (`message`) events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

impl SseEvent {
    pub fn data(data: impl Into<String>) -> Self {
        SseEvent {
            event: None,
            data: data.into(),
        }
    }

    pub fn named(event: &str, data: impl Into<String>) -> Self {
        SseEvent {
            event: Some(event.to_string()),
            data: data.into(),
        }
    }

    /// Wire encoding, ending with the blank line that terminates an event.
    pub fn encode(&self) -> Bytes {
        let mut out = String::with_capacity(self.data.len() + 32);
        if let Some(name) = &self.event {
            out.push_str("event: ");
            out.push_str(name);
            out.push('\n');
        }
        for line in self.data.split('\n') {
            out.push_str("data: ");
            out.push_str(line);
            out.push('\n');
        }
        out.push('\n');
        Bytes::from(out)
    }
}

/// Limits on an upstream event stream: silence between chunks, the size of one event, the
/// size of the whole stream. Past any of them the stream ends with an error (the gateway
/// answers the client with an error event and audits the outcome) instead of holding a
/// connection and memory forever.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub idle: std::time::Duration,
    pub max_event_bytes: usize,
    pub max_total_bytes: u64,
}

impl Bounds {
    /// 1 MiB per event (a large tool-call argument fits), 64 MiB per stream.
    pub fn with_idle(idle: std::time::Duration) -> Bounds {
        Bounds {
            idle,
            max_event_bytes: 1024 * 1024,
            max_total_bytes: 64 * 1024 * 1024,
        }
    }
}

/// `bytes` with `bounds` enforced; the first violation is the stream's last item.
pub fn bounded<S, E>(bytes: S, bounds: Bounds) -> impl Stream<Item = Result<Bytes, String>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send + Unpin + 'static,
    E: std::fmt::Display + Send + 'static,
{
    struct State<S> {
        inner: S,
        total: u64,
        /// Bytes since the last blank line (the end of an event), and whether the last byte
        /// seen was a newline.
        pending: usize,
        last_newline: bool,
        done: bool,
    }
    let state = State {
        inner: bytes,
        total: 0,
        pending: 0,
        last_newline: false,
        done: false,
    };
    futures_util::stream::unfold(state, move |mut st| async move {
        if st.done {
            return None;
        }
        let next = match tokio::time::timeout(bounds.idle, st.inner.next()).await {
            Err(_) => Err(format!(
                "no data for {} s (stream idle timeout)",
                bounds.idle.as_secs()
            )),
            Ok(None) => return None,
            Ok(Some(Err(e))) => Err(e.to_string()),
            Ok(Some(Ok(chunk))) => {
                st.total += chunk.len() as u64;
                let mut largest = st.pending;
                for &b in chunk.iter() {
                    if b == b'\n' && st.last_newline {
                        st.pending = 0;
                    } else {
                        st.pending += 1;
                        largest = largest.max(st.pending);
                    }
                    st.last_newline = b == b'\n' || (b == b'\r' && st.last_newline);
                }
                if st.total > bounds.max_total_bytes {
                    Err(format!("stream exceeds {} bytes", bounds.max_total_bytes))
                } else if largest > bounds.max_event_bytes {
                    Err(format!("an event exceeds {} bytes", bounds.max_event_bytes))
                } else {
                    Ok(chunk)
                }
            }
        };
        st.done = next.is_err();
        Some((next, st))
    })
}

const BOM: &[u8] = "\u{feff}".as_bytes();

/// The stream with one leading byte-order mark removed (the SSE spec ignores it), and a blank
/// line in front. Why: eventsource-stream 0.2.3 strips a leading BOM by slicing the string at
/// byte 1, inside the 3-byte character, and panics — any provider (or anything in its place)
/// starting a stream with a BOM would crash the request's task (found by `fuzz/sse`). The blank
/// line makes sure its first character is never a BOM, even after two of them; a blank line
/// before any field dispatches nothing.
fn without_bom<S, E>(bytes: S) -> impl Stream<Item = Result<Bytes, E>> + Send + 'static
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: Send + 'static,
{
    let bytes = Box::pin(bytes);
    futures_util::stream::unfold(
        (bytes, Some(Vec::with_capacity(BOM.len()))),
        |(mut inner, mut head)| async move {
            // Until the first three bytes are known, gather them.
            while let Some(h) = head.as_mut() {
                if h.len() >= BOM.len() {
                    break;
                }
                match inner.next().await {
                    Some(Ok(chunk)) => h.extend_from_slice(&chunk),
                    // The stream failed: that ends it (the gateway reports the error).
                    Some(Err(e)) => return Some((Err(e), (inner, None))),
                    None => break,
                }
            }
            if let Some(h) = head.take() {
                let body = h.strip_prefix(BOM).unwrap_or(&h);
                let first = Bytes::from([b"\n".as_slice(), body].concat());
                return Some((Ok(first), (inner, None)));
            }
            inner.next().await.map(|item| (item, (inner, None)))
        },
    )
}

/// Parses a provider's response body into events.
pub fn parse<S, E>(bytes: S) -> EventStream
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    use eventsource_stream::Eventsource;
    Box::pin(without_bom(bytes).eventsource().map(|r| match r {
        Ok(ev) => Ok(SseEvent {
            event: (!ev.event.is_empty() && ev.event != "message").then_some(ev.event),
            data: ev.data,
        }),
        Err(e) => Err(ProviderError::Malformed(format!(
            "broken event stream: {e}"
        ))),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(
        parts: Vec<Result<&'static str, String>>,
    ) -> impl Stream<Item = Result<Bytes, String>> + Send + Unpin {
        futures_util::stream::iter(
            parts
                .into_iter()
                .map(|r| r.map(|s: &'static str| Bytes::from_static(s.as_bytes()))),
        )
    }

    async fn collect(s: impl Stream<Item = Result<Bytes, String>>) -> Vec<Result<Bytes, String>> {
        s.collect().await
    }

    async fn events(parts: Vec<&'static [u8]>) -> Vec<Result<SseEvent, String>> {
        let s = futures_util::stream::iter(
            parts
                .into_iter()
                .map(|p| Ok::<_, String>(Bytes::from_static(p))),
        );
        parse(s)
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
            .await
    }

    /// A leading byte-order mark is ignored (the SSE spec), whole or cut across chunks; before
    /// `without_bom`, eventsource-stream panicked on it (fuzz/sse found it).
    #[tokio::test]
    async fn a_leading_bom_is_ignored_and_never_panics() {
        let want = vec![Ok(SseEvent::data("a"))];
        assert_eq!(events(vec![b"\xef\xbb\xbfdata: a\n\n"]).await, want);
        assert_eq!(
            events(vec![b"\xef", b"\xbb", b"\xbfdata: a\n\n"]).await,
            want
        );
        assert_eq!(events(vec![b"data: a\n\n"]).await, want);
        assert_eq!(events(vec![b"d", b"ata: a\n\n"]).await, want);
        // A second BOM is no longer a BOM: it is part of the field name (ignored), no panic.
        let two = events(vec![b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\ndata: b\n\n"]).await;
        assert_eq!(two.last(), Some(&Ok(SseEvent::data("b"))), "{two:?}");
        // Cut short inside the character: an error, no event.
        assert!(events(vec![b"\xef\xbb"]).await.iter().all(Result::is_err));
        assert!(events(vec![]).await.is_empty());
    }

    #[tokio::test]
    async fn bounded_passes_normal_streams_through() {
        let b = Bounds::with_idle(std::time::Duration::from_secs(5));
        let out = collect(bounded(
            chunks(vec![Ok("data: a\n\n"), Ok("data: b\n\n")]),
            b,
        ))
        .await;
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|r| r.is_ok()));
    }

    #[tokio::test]
    async fn bounded_ends_an_oversized_event_or_stream() {
        let mut b = Bounds::with_idle(std::time::Duration::from_secs(5));
        b.max_event_bytes = 12;
        let out = collect(bounded(
            chunks(vec![
                Ok("data: 1\n\n"),
                Ok("data: 12345"),
                Ok("678\n\n"),
                Ok("data: x\n\n"),
            ]),
            b,
        ))
        .await;
        assert_eq!(out.len(), 3, "ends at the violation: {out:?}");
        assert!(out[2]
            .as_ref()
            .unwrap_err()
            .contains("an event exceeds 12 bytes"));
        let mut b = Bounds::with_idle(std::time::Duration::from_secs(5));
        b.max_total_bytes = 12;
        let out = collect(bounded(
            chunks(vec![Ok("data: 1\n\n"), Ok("data: 2\n\n")]),
            b,
        ))
        .await;
        assert!(out[1].as_ref().unwrap_err().contains("exceeds 12 bytes"));
    }

    #[tokio::test]
    async fn bounded_ends_a_silent_stream() {
        let b = Bounds::with_idle(std::time::Duration::from_millis(50));
        let silent = chunks(vec![Ok("data: a\n\n")]).chain(futures_util::stream::pending());
        let out = collect(bounded(Box::pin(silent), b)).await;
        assert_eq!(out.len(), 2);
        assert!(out[1].as_ref().unwrap_err().contains("idle timeout"));
    }

    #[test]
    fn encodes_named_and_unnamed_events() {
        assert_eq!(SseEvent::data("[DONE]").encode(), "data: [DONE]\n\n");
        assert_eq!(
            SseEvent::named("ping", "{}").encode(),
            "event: ping\ndata: {}\n\n"
        );
        assert_eq!(SseEvent::data("a\nb").encode(), "data: a\ndata: b\n\n");
    }

    #[tokio::test]
    async fn parses_split_chunks() {
        let chunks: Vec<Result<Bytes, std::convert::Infallible>> = vec![
            Ok(Bytes::from("event: message_start\nda")),
            Ok(Bytes::from("ta: {\"a\":1}\n\ndata: [DONE]\n\n")),
        ];
        let events: Vec<_> = parse(futures_util::stream::iter(chunks))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(
            events,
            vec![
                SseEvent::named("message_start", "{\"a\":1}"),
                SseEvent::data("[DONE]")
            ]
        );
    }
}
