//! The HTTP provider: OpenAI-compatible APIs (OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio) and
//! Anthropic's Messages API. The two differ only in path, auth headers and usage fields, so one
//! type serves both, parameterized by `WireFormat`.

use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use super::{sse, Provider, ProviderError, UpstreamReply, UpstreamRequest, Usage, WireFormat};

/// Default `anthropic-version` when the client sends none.
const ANTHROPIC_VERSION: &str = "2023-06-01";
/// The most of an error body we read and pass on.
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Everything needed to build an `HttpProvider`, resolved from config and secrets.
#[derive(Debug, Clone)]
pub struct ProviderSettings {
    pub name: String,
    pub format: WireFormat,
    /// OpenAI-style base URLs include `/v1`; Anthropic's does not (as their SDKs expect).
    pub base_url: String,
    pub api_key: Option<SecretString>,
    /// OpenAI-compatible only: send the key as `api-key: KEY` (Azure OpenAI) instead of
    /// `Authorization: Bearer KEY`.
    pub api_key_header: bool,
    pub timeout: Duration,
    pub connect_timeout: Duration,
}

pub struct HttpProvider {
    settings: ProviderSettings,
    url: String,
    /// Pooled, keep-alive connections shared by every request to this provider.
    client: reqwest::Client,
}

impl HttpProvider {
    pub fn new(settings: ProviderSettings) -> Result<HttpProvider, reqwest::Error> {
        // A base URL may carry a query (Azure's `?api-version=…`): the path goes before it.
        let (base, query) = match settings.base_url.split_once('?') {
            Some((b, q)) => (b.trim_end_matches('/'), format!("?{q}")),
            None => (settings.base_url.trim_end_matches('/'), String::new()),
        };
        let url = match settings.format {
            WireFormat::OpenAi => format!("{base}/chat/completions{query}"),
            WireFormat::Anthropic => format!("{base}/v1/messages{query}"),
        };
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(64)
            .user_agent(concat!("tappass/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry the provider key to wherever it points: never followed;
            // the 3xx is reported as a provider error.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(HttpProvider {
            settings,
            url,
            client,
        })
    }

    fn headers(&self, req: &UpstreamRequest) -> HeaderMap {
        let mut h = HeaderMap::new();
        let key = self.settings.api_key.as_ref().map(|k| k.expose_secret());
        match self.settings.format {
            WireFormat::OpenAi if self.settings.api_key_header => {
                if let Some(v) = key.and_then(|k| HeaderValue::from_str(k).ok()) {
                    h.insert("api-key", sensitive(v));
                }
            }
            WireFormat::OpenAi => {
                if let Some(v) =
                    key.and_then(|k| HeaderValue::from_str(&format!("Bearer {k}")).ok())
                {
                    h.insert("authorization", sensitive(v));
                }
            }
            WireFormat::Anthropic => {
                if let Some(v) = key.and_then(|k| HeaderValue::from_str(k).ok()) {
                    h.insert("x-api-key", sensitive(v));
                }
                let version = req
                    .anthropic_version
                    .as_deref()
                    .unwrap_or(ANTHROPIC_VERSION);
                if let Ok(v) = HeaderValue::from_str(version) {
                    h.insert("anthropic-version", v);
                }
                if let Some(v) = req
                    .anthropic_beta
                    .as_deref()
                    .and_then(|b| HeaderValue::from_str(b).ok())
                {
                    h.insert("anthropic-beta", v);
                }
            }
        }
        h
    }

    /// Removes our provider key from anything we pass back to a client.
    fn scrub(&self, body: Bytes) -> Bytes {
        match &self.settings.api_key {
            Some(k) if !k.expose_secret().is_empty() => {
                let text = String::from_utf8_lossy(&body);
                let k = k.expose_secret();
                if text.contains(k) {
                    Bytes::from(text.replace(k, "[REDACTED]"))
                } else {
                    body
                }
            }
            _ => body,
        }
    }

    fn map_send_error(&self, e: reqwest::Error) -> ProviderError {
        if e.is_timeout() {
            ProviderError::Timeout(self.settings.timeout.as_secs())
        } else {
            // reqwest's Display never includes our headers; strip the URL's query anyway.
            ProviderError::Unreachable(format!("{}: {}", self.settings.name, e.without_url()))
        }
    }
}

fn sensitive(mut v: HeaderValue) -> HeaderValue {
    v.set_sensitive(true);
    v
}

#[async_trait]
impl Provider for HttpProvider {
    fn name(&self) -> &str {
        &self.settings.name
    }

    fn speaks(&self, format: WireFormat) -> bool {
        format == self.settings.format
    }

    async fn send(
        &self,
        format: WireFormat,
        req: &UpstreamRequest,
    ) -> Result<UpstreamReply, ProviderError> {
        let timeout = self.settings.timeout;
        let mut builder = self
            .client
            .post(&self.url)
            .headers(self.headers(req))
            .json(&req.body);
        if !req.stream {
            builder = builder.timeout(timeout);
        }
        // For streams the total timeout covers only the wait for the response head.
        let resp = tokio::time::timeout(timeout, builder.send())
            .await
            .map_err(|_| ProviderError::Timeout(timeout.as_secs()))?
            .map_err(|e| self.map_send_error(e))?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(ProviderError::Malformed(format!(
                "answered HTTP {} (a redirect); redirects are never followed with provider \
                 credentials",
                status.as_u16()
            )));
        }
        if !status.is_success() {
            let retry_after = resp
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let body = read_capped(resp, MAX_ERROR_BODY).await;
            let body = self.scrub(body);
            return Err(if status.is_server_error() {
                ProviderError::ServerError { status, body }
            } else {
                ProviderError::Rejected {
                    status,
                    body,
                    retry_after,
                }
            });
        }
        if req.stream {
            let is_sse = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|ct| ct.starts_with("text/event-stream"));
            if !is_sse {
                return Err(ProviderError::Malformed(
                    "expected an event stream (text/event-stream)".into(),
                ));
            }
            let bounds = sse::Bounds::with_idle(timeout);
            return Ok(UpstreamReply::Stream(sse::parse(sse::bounded(
                resp.bytes_stream(),
                bounds,
            ))));
        }
        let bytes = read_answer(resp, MAX_ANSWER_BYTES)
            .await
            .map_err(|e| match e {
                Some(e) => self.map_send_error(e),
                None => {
                    ProviderError::Malformed(format!("answer exceeds {MAX_ANSWER_BYTES} bytes"))
                }
            })?;
        let body: Value = serde_json::from_slice(&bytes)
            .map_err(|e| ProviderError::Malformed(format!("answer is not JSON: {e}")))?;
        if !body.is_object() {
            return Err(ProviderError::Malformed(
                "answer is not a JSON object".into(),
            ));
        }
        let usage = Usage::from_body(format, &body);
        Ok(UpstreamReply::Complete { body, usage })
    }
}

/// A complete (non-stream) answer larger than this is refused, not buffered.
pub const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;

/// Reads a whole answer of at most `cap` bytes; `Err(None)` when it is larger.
async fn read_answer(resp: reqwest::Response, cap: usize) -> Result<Bytes, Option<reqwest::Error>> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(None);
    }
    let mut out = bytes::BytesMut::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(Some)?;
        if out.len() + chunk.len() > cap {
            return Err(None);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.freeze())
}

/// Reads at most `cap` bytes of a body (error bodies are passed on, but never unbounded).
async fn read_capped(resp: reqwest::Response, cap: usize) -> Bytes {
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(Ok(chunk)) = stream.next().await {
        let room = cap - out.len();
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= cap {
            break;
        }
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(format: WireFormat, base_url: &str, api_key_header: bool) -> HttpProvider {
        HttpProvider::new(ProviderSettings {
            name: "p".into(),
            format,
            base_url: base_url.into(),
            api_key: Some(SecretString::from("sk-test".to_string())),
            api_key_header,
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        })
        .unwrap()
    }

    fn req() -> UpstreamRequest {
        UpstreamRequest {
            body: serde_json::json!({}),
            stream: false,
            anthropic_version: None,
            anthropic_beta: None,
        }
    }

    #[test]
    fn urls_keep_a_query_at_the_end() {
        let p = provider(
            WireFormat::OpenAi,
            "https://r.openai.azure.com/openai/v1?api-version=preview",
            true,
        );
        assert_eq!(
            p.url,
            "https://r.openai.azure.com/openai/v1/chat/completions?api-version=preview"
        );
        assert_eq!(
            provider(WireFormat::OpenAi, "http://h/v1/", false).url,
            "http://h/v1/chat/completions"
        );
        assert_eq!(
            provider(WireFormat::Anthropic, "https://a.example", false).url,
            "https://a.example/v1/messages"
        );
    }

    #[test]
    fn key_headers_per_format() {
        let h = provider(WireFormat::OpenAi, "http://h/v1", false).headers(&req());
        assert_eq!(h["authorization"], "Bearer sk-test");
        assert!(h["authorization"].is_sensitive());
        let h = provider(WireFormat::OpenAi, "http://h/v1", true).headers(&req());
        assert_eq!(h["api-key"], "sk-test");
        assert!(h.get("authorization").is_none());
        let h = provider(WireFormat::Anthropic, "http://h", false).headers(&req());
        assert_eq!(h["x-api-key"], "sk-test");
        assert_eq!(h["anthropic-version"], ANTHROPIC_VERSION);
    }

    #[test]
    fn scrub_removes_the_key_from_error_bodies() {
        let p = provider(WireFormat::OpenAi, "http://h/v1", false);
        let out = p.scrub(Bytes::from_static(b"{\"error\":\"bad key sk-test\"}"));
        assert_eq!(
            out,
            Bytes::from_static(b"{\"error\":\"bad key [REDACTED]\"}")
        );
    }
}
