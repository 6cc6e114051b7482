//! An external OPA server, asked over its REST Data API.
//!
//! `POST {base}/v1/data/tappass/decision?strict-builtin-errors=true` with `{"input": …}`; the
//! answer is `{"result": {...}}`, or `{}` when no loaded policy defines the rule. Builtin errors
//! are made strict so that OPA fails where the in-process backend fails (OPA then answers 500).

use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;

use super::{Decision, PolicyEngine, PolicyError, DECISION_API_PATH, DECISION_RULE};

/// Longest part of an OPA error body quoted in an error message.
const MAX_BODY_IN_ERROR: usize = 300;

/// A policy decided by an OPA server.
#[derive(Debug, Clone)]
pub struct OpaEngine {
    client: reqwest::Client,
    url: reqwest::Url,
    /// OPA's health API (`GET /health`: 200 once its bundles are loaded).
    health: reqwest::Url,
    timeout: Duration,
}

impl OpaEngine {
    /// `base_url` is OPA's address (`http://127.0.0.1:8181`, a path prefix is kept). `timeout`
    /// bounds each whole request (connect, send, answer). The HTTP client is pooled and ignores
    /// `HTTP(S)_PROXY`: a policy decision goes straight to the configured server.
    pub fn new(base_url: &str, timeout: Duration) -> Result<Self, PolicyError> {
        let base = reqwest::Url::parse(base_url)
            .map_err(|e| PolicyError::Load(format!("OPA url {base_url:?}: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(PolicyError::Load(format!(
                "OPA url {base_url:?}: scheme must be http or https"
            )));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(PolicyError::Load(format!(
                "OPA url {base_url:?}: must not have a query or fragment"
            )));
        }
        let joined = format!(
            "{}{}?strict-builtin-errors=true",
            base.as_str().trim_end_matches('/'),
            DECISION_API_PATH
        );
        let url = reqwest::Url::parse(&joined)
            .map_err(|e| PolicyError::Load(format!("OPA url {base_url:?}: {e}")))?;
        let health =
            reqwest::Url::parse(&format!("{}/health", base.as_str().trim_end_matches('/')))
                .map_err(|e| PolicyError::Load(format!("OPA url {base_url:?}: {e}")))?;
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .no_proxy()
            .user_agent(concat!("tappass-policy/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PolicyError::Load(format!("OPA client: {e}")))?;
        Ok(OpaEngine {
            client,
            url,
            health,
            timeout,
        })
    }

    /// The full decision URL that is POSTed to.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    fn request_error(&self, e: reqwest::Error) -> PolicyError {
        if e.is_timeout() {
            PolicyError::Timeout(self.timeout)
        } else {
            // Connection refused, DNS, TLS, reset…: the source chain says which.
            let mut msg = format!("{}: {e}", self.url);
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                msg.push_str(": ");
                msg.push_str(&cause.to_string());
                source = cause.source();
            }
            PolicyError::Unavailable(msg)
        }
    }
}

#[async_trait]
impl PolicyEngine for OpaEngine {
    fn backend(&self) -> &'static str {
        "opa"
    }

    async fn ready(&self) -> Result<(), PolicyError> {
        let resp = self
            .client
            .get(self.health.clone())
            .send()
            .await
            .map_err(|e| self.request_error(e))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(PolicyError::Unavailable(format!(
                "{}: HTTP {}",
                self.health,
                resp.status().as_u16()
            )))
        }
    }

    async fn evaluate(&self, input: &Value) -> Result<Decision, PolicyError> {
        let body = serde_json::json!({ "input": input });
        let response = self
            .client
            .post(self.url.clone())
            .json(&body)
            .send()
            .await
            .map_err(|e| self.request_error(e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.request_error(e))?;
        if !status.is_success() {
            return Err(PolicyError::Unavailable(format!(
                "OPA answered HTTP {}: {}",
                status.as_u16(),
                excerpt(&bytes)
            )));
        }
        let answer: Value = serde_json::from_slice(&bytes).map_err(|e| {
            PolicyError::BadDecision(format!("OPA answer is not JSON ({e}): {}", excerpt(&bytes)))
        })?;
        let Value::Object(mut answer) = answer else {
            return Err(PolicyError::BadDecision(format!(
                "OPA answer is not an object: {}",
                excerpt(&bytes)
            )));
        };
        match answer.remove("result") {
            None => Err(PolicyError::BadDecision(format!(
                "OPA has no {DECISION_RULE} (no policy loaded, or the decision is undefined for this input)"
            ))),
            Some(result) => Decision::from_value(result),
        }
    }
}

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.chars().count() <= MAX_BODY_IN_ERROR {
        text.to_string()
    } else {
        let cut: String = text.chars().take(MAX_BODY_IN_ERROR).collect();
        format!("{cut}…")
    }
}
