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

/// Parses a provider's response body into events.
pub fn parse<S, E>(bytes: S) -> EventStream
where
    S: Stream<Item = Result<Bytes, E>> + Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    use eventsource_stream::Eventsource;
    Box::pin(bytes.eventsource().map(|r| match r {
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
