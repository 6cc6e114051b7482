//! LLM providers: one trait, an HTTP client for each wire format, a mock, and model routing.
//!
//! TapPass does not translate between wire formats (yet): a request on an OpenAI route goes to a
//! provider that speaks OpenAI, `/v1/messages` to one that speaks Anthropic. Bodies pass through
//! with only the model name rewritten, so provider features we do not model still work.

mod http;
mod mock;
mod router;
pub mod sse;
pub mod usage;

use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::Stream;
use reqwest::StatusCode;
use serde_json::Value;

pub use http::{HttpProvider, ProviderSettings};
pub use mock::MockProvider;
pub use router::{Route, RouteError, Router};
pub use sse::SseEvent;
pub use usage::Usage;

/// The two wire formats TapPass speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireFormat {
    OpenAi,
    Anthropic,
}

impl WireFormat {
    pub fn name(self) -> &'static str {
        match self {
            WireFormat::OpenAi => "OpenAI",
            WireFormat::Anthropic => "Anthropic",
        }
    }
}

/// What the gateway sends upstream.
#[derive(Debug, Clone)]
pub struct UpstreamRequest {
    /// The client's body with `model` already rewritten to the provider's name for it.
    pub body: Value,
    pub stream: bool,
    /// `anthropic-version` / `anthropic-beta` from the client, passed through when present.
    pub anthropic_version: Option<String>,
    pub anthropic_beta: Option<String>,
}

/// A stream of SSE events from the provider.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<SseEvent, ProviderError>> + Send>>;

/// What came back.
pub enum UpstreamReply {
    /// A complete, well-formed JSON answer (2xx).
    Complete { body: Value, usage: Usage },
    /// A 2xx streaming answer, still flowing.
    Stream(EventStream),
}

/// Why there is no usable answer. Statuses follow product.md: unreachable/5xx/garbage → 502,
/// timeout → 504, the provider's own 4xx/429 → passed through (key scrubbed).
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("provider unreachable: {0}")]
    Unreachable(String),
    #[error("provider timed out after {0} s")]
    Timeout(u64),
    #[error("provider failed with HTTP {status}")]
    ServerError { status: StatusCode, body: Bytes },
    #[error("provider rejected the request with HTTP {status}")]
    Rejected {
        status: StatusCode,
        body: Bytes,
        retry_after: Option<String>,
    },
    #[error("provider sent a malformed answer: {0}")]
    Malformed(String),
}

/// An LLM provider. Implementations: `HttpProvider` (OpenAI-compatible or Anthropic), `MockProvider`.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The configured name (`openai`, `anthropic`, `ollama`, `mock` …), as audited.
    fn name(&self) -> &str;
    /// Whether it can serve requests in `format`.
    fn speaks(&self, format: WireFormat) -> bool;
    /// Sends one request. `format` is the endpoint's format (the mock speaks both).
    async fn send(
        &self,
        format: WireFormat,
        req: &UpstreamRequest,
    ) -> Result<UpstreamReply, ProviderError>;
}
