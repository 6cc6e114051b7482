//! A refusal: why a request gets no (successful) answer. Plain data; `server::error` turns it
//! into the OpenAI or Anthropic error envelope.

use bytes::Bytes;

/// Machine-readable kinds, as product.md names them (`type` in the error body).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    InvalidRequest,
    Authentication,
    Permission,
    NotFound,
    PolicyBlock,
    RateLimit,
    Budget,
    Unavailable,
    Upstream,
    Internal,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::InvalidRequest => "invalid_request_error",
            Kind::Authentication => "authentication_error",
            Kind::Permission => "permission_error",
            Kind::NotFound => "not_found_error",
            Kind::PolicyBlock => "policy_block",
            Kind::RateLimit => "rate_limit_error",
            Kind::Budget => "budget_exceeded",
            Kind::Unavailable => "service_unavailable",
            Kind::Upstream => "upstream_error",
            Kind::Internal => "internal_error",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rejection {
    pub status: u16,
    pub kind: Kind,
    /// e.g. `invalid_api_key`, `key_revoked`, `model_not_found`, `storage_unavailable`.
    pub code: Option<&'static str>,
    pub message: String,
    /// The request field at fault, for 400s (`param` in OpenAI's envelope).
    pub param: Option<String>,
    /// The step that blocked the request (policy blocks).
    pub blocked_by: Option<&'static str>,
    pub reason: Option<String>,
    pub retry_after: Option<String>,
    /// A provider's own error body, passed through verbatim (key already scrubbed).
    pub passthrough: Option<Bytes>,
}

impl Rejection {
    pub fn new(status: u16, kind: Kind, message: impl Into<String>) -> Self {
        Rejection {
            status,
            kind,
            code: None,
            message: message.into(),
            param: None,
            blocked_by: None,
            reason: None,
            retry_after: None,
            passthrough: None,
        }
    }

    pub fn code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    pub fn param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        let param = param.into();
        Rejection::new(
            400,
            Kind::InvalidRequest,
            format!("{param}: {}", message.into()),
        )
        .param(param)
    }

    pub fn storage_unavailable() -> Self {
        Rejection::new(
            503,
            Kind::Unavailable,
            "storage unavailable: TapPass refuses requests it cannot audit",
        )
        .code("storage_unavailable")
    }
}
