//! Per-request `fake:` directives.
//!
//! Tests steer the fake by writing directives into the last user message, so a
//! single running fake can simulate errors, slowness and broken streams without
//! being reconfigured. A directive is a whole whitespace-separated token:
//! `fake:NAME` or `fake:NAME=VALUE`. Unknown names or bad values are rejected
//! (HTTP 400) rather than ignored, so a typo cannot silently pass a test.

use std::time::Duration;

use axum::http::StatusCode;

/// What the directives in one message ask for. `Default` means "behave normally".
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Directives {
    /// `fake:status=NNN` (400..=599): fail with this status and a provider-format error.
    pub status: Option<StatusCode>,
    /// `fake:latency=MS`: extra delay on top of `--latency-ms`.
    pub latency: Duration,
    /// `fake:malformed`: HTTP 200 whose body is not valid JSON.
    pub malformed: bool,
    /// `fake:hang`: never answer.
    pub hang: bool,
    /// `fake:stream_cut`: abort a stream after the first content chunk.
    pub stream_cut: bool,
    /// `fake:call=NAME`: answer with a call to tool NAME even if the request did not declare
    /// it (a model inventing a tool — what the gateway's response-side tool check is for).
    pub call: Option<String>,
    /// `fake:stall`: send the head of a stream and the first content chunk, then nothing,
    /// forever (a provider that goes silent mid-answer).
    pub stall: bool,
    /// `fake:redirect`: answer 307 to this same endpoint (a gateway that follows redirects
    /// would post the request — and its provider key — again, and loop).
    pub redirect: bool,
    /// `fake:shape=unknown_block` / `fake:shape=offschema`: a complete answer of an unusual
    /// shape (see [`Shape`]).
    pub shape: Option<Shape>,
}

/// Complete answers that a provider should not send, but might.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Anthropic: the text block has a type the Messages API does not define (yet); in a
    /// stream, an extra delta of such a type carries the text.
    UnknownBlock,
    /// Streams: an extra event whose data is not JSON carries the text.
    GarbageEvent,
    /// The answer's text is where the format has no text: OpenAI `message.content` an object,
    /// Anthropic `content` a string instead of blocks.
    OffSchema,
}

/// Scans `text` for directives. Later occurrences of the same directive win.
pub fn parse(text: &str) -> Result<Directives, String> {
    let mut d = Directives::default();
    for token in text.split_whitespace() {
        let Some(rest) = token.strip_prefix("fake:") else {
            continue;
        };
        let (name, value) = match rest.split_once('=') {
            Some((name, value)) => (name, Some(value)),
            None => (rest, None),
        };
        match (name, value) {
            ("status", Some(v)) => d.status = Some(parse_status(v, token)?),
            ("latency", Some(v)) => {
                let ms = v
                    .parse::<u64>()
                    .map_err(|_| format!("`{token}`: latency must be milliseconds"))?;
                d.latency = Duration::from_millis(ms);
            }
            ("malformed", None) => d.malformed = true,
            ("hang", None) => d.hang = true,
            ("stream_cut", None) => d.stream_cut = true,
            ("redirect", None) => d.redirect = true,
            ("stall", None) => d.stall = true,
            ("shape", Some("unknown_block")) => d.shape = Some(Shape::UnknownBlock),
            ("shape", Some("offschema")) => d.shape = Some(Shape::OffSchema),
            ("shape", Some("garbage_event")) => d.shape = Some(Shape::GarbageEvent),
            ("call", Some(v))
                if !v.is_empty()
                    && v.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-') =>
            {
                d.call = Some(v.to_string())
            }
            _ => return Err(format!("unknown fake directive `{token}`")),
        }
    }
    Ok(d)
}

/// Only error statuses make sense: a 2xx/3xx "failure" would be indistinguishable
/// from (or worse than) a normal answer.
fn parse_status(value: &str, token: &str) -> Result<StatusCode, String> {
    value
        .parse::<u16>()
        .ok()
        .filter(|code| (400..=599).contains(code))
        .and_then(|code| StatusCode::from_u16(code).ok())
        .ok_or_else(|| format!("`{token}`: status must be 400..=599"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_directive_names_a_tool() {
        assert_eq!(
            parse("fake:call=shell").unwrap().call.as_deref(),
            Some("shell")
        );
        assert!(parse("fake:call=").is_err());
        assert!(parse("fake:call=a;b").is_err());
    }

    #[test]
    fn shape_directive_names_a_known_shape() {
        assert_eq!(
            parse("fake:shape=garbage_event").unwrap().shape,
            Some(Shape::GarbageEvent)
        );
        assert_eq!(
            parse("fake:shape=offschema").unwrap().shape,
            Some(Shape::OffSchema)
        );
        assert!(parse("fake:shape=round").is_err());
        assert!(parse("fake:shape").is_err());
    }

    #[test]
    fn plain_text_has_no_directives() {
        assert_eq!(parse("hello fake world").unwrap(), Directives::default());
        assert_eq!(parse("").unwrap(), Directives::default());
    }

    #[test]
    fn parses_every_directive() {
        let d = parse(
            "please fake:status=429 fake:latency=250\nfake:malformed fake:hang fake:stream_cut \
             fake:redirect fake:stall",
        )
        .unwrap();
        assert!(d.redirect && d.stall);
        assert_eq!(d.status, Some(StatusCode::TOO_MANY_REQUESTS));
        assert_eq!(d.latency, Duration::from_millis(250));
        assert!(d.malformed && d.hang && d.stream_cut);
    }

    #[test]
    fn only_whole_tokens_match() {
        // Embedded in a word or with trailing punctuation: not a directive.
        let d = parse("xfake:hang notfake:status=500").unwrap();
        assert_eq!(d, Directives::default());
        assert!(parse("fake:hang.").is_err(), "`hang.` is an unknown name");
    }

    #[test]
    fn last_occurrence_wins() {
        assert_eq!(
            parse("fake:status=500 fake:status=503").unwrap().status,
            Some(StatusCode::SERVICE_UNAVAILABLE)
        );
    }

    #[test]
    fn rejects_bad_directives() {
        for bad in [
            "fake:status=200",
            "fake:status=abc",
            "fake:status",
            "fake:latency=-1",
            "fake:latency",
            "fake:hang=1",
            "fake:stream-cut",
            "fake:",
        ] {
            assert!(parse(bad).is_err(), "{bad} should be rejected");
        }
        assert!(
            parse("fake:status=529").is_ok(),
            "Anthropic's overloaded status"
        );
    }
}
