//! Why a request gets no successful answer: the one error type of the HTTP API, data plane and
//! control plane alike.
//!
//! Each variant is one reason. Its HTTP status, its `type` ([`Kind`]) and its machine-readable
//! `code` are decided in one `match` ([`Refusal::class`]); its message is its `Display`. The
//! server renders it in the caller's envelope (`server::error`), the audit step records the
//! same type, code and message, so a client, a log line and an audit event never disagree.

use bytes::Bytes;

/// The `type` of the error body, as product.md names them.
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

#[derive(Debug, Clone, thiserror::Error)]
pub enum Refusal {
    /// A request field is missing, malformed or out of range.
    #[error("{param}: {message}")]
    Invalid { param: String, message: String },
    /// `X-TapPass-Flags` does not parse.
    #[error("{0}")]
    InvalidFlags(String),
    /// A content part no detector can read, refused by `[pipeline] unscanned_parts`.
    #[error("{param}: {message}")]
    UnscannedPart { param: String, message: String },
    /// A budget applies but the model has no price.
    #[error("model: no price is configured for `{model}`, so its budget cannot be enforced; add [prices.\"{model}\"]")]
    PriceUnknown { model: String },
    /// The body is larger than `setting` allows.
    #[error("request body exceeds the limit of {limit} bytes ({setting})")]
    BodyTooLarge { limit: u64, setting: &'static str },
    /// The body did not arrive in time.
    #[error("request body not received within {secs} s")]
    BodyTimeout { secs: u64 },
    /// No key, or a key that does not verify.
    #[error("{0}")]
    InvalidKey(String),
    #[error("API key {key_id} has been revoked")]
    KeyRevoked { key_id: String },
    /// A key of the wrong family for this plane.
    #[error("{0}")]
    WrongRole(String),
    /// A control-plane key whose role may not do this.
    #[error("{0}")]
    InsufficientRole(String),
    #[error("agent {agent_id} is disabled")]
    AgentDisabled { agent_id: String },
    /// A governance step refused the request (`blocked_by`, `reason`).
    #[error("Request blocked by policy")]
    PolicyBlock { step: &'static str, reason: String },
    #[error("{0}")]
    NotFound(String),
    /// No provider serves this model.
    #[error("{0}")]
    ModelNotFound(String),
    /// The change contradicts what is stored.
    #[error("{0}")]
    Conflict(String),
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    #[error("{0}")]
    BudgetExceeded(String),
    #[error("storage unavailable: TapPass refuses requests it cannot audit")]
    StorageUnavailable,
    #[error("rate limits and budgets cannot be checked right now")]
    LimitsUnavailable,
    /// The policy engine failed (`kind` of failure); TapPass fails closed.
    #[error("policy could not be evaluated ({kind}); TapPass fails closed")]
    PolicyUnavailable { kind: String },
    #[error("{0}")]
    UpstreamUnavailable(String),
    #[error("{0}")]
    UpstreamTimeout(String),
    /// The provider failed with a 5xx; its body is not passed on.
    #[error("provider failed with HTTP {status}")]
    UpstreamFailed { status: u16 },
    #[error("{0}")]
    UpstreamMalformed(String),
    /// The provider's own 4xx, passed through with its body (key already scrubbed).
    #[error("{message}")]
    UpstreamRejected {
        status: u16,
        message: String,
        body: Bytes,
        retry_after: Option<String>,
    },
    #[error("{0}")]
    Internal(String),
}

impl Refusal {
    /// HTTP status, `type` and `code`: the one place they are decided.
    pub fn class(&self) -> (u16, Kind, Option<&'static str>) {
        use Kind::*;
        match self {
            Refusal::Invalid { .. } => (400, InvalidRequest, None),
            Refusal::InvalidFlags(_) => (400, InvalidRequest, Some("invalid_flags")),
            Refusal::UnscannedPart { .. } => (400, InvalidRequest, Some("unscanned_part")),
            Refusal::PriceUnknown { .. } => (400, InvalidRequest, Some("price_unknown")),
            Refusal::BodyTooLarge { .. } => (413, InvalidRequest, Some("request_too_large")),
            Refusal::BodyTimeout { .. } => (408, InvalidRequest, Some("request_timeout")),
            Refusal::InvalidKey(_) => (401, Authentication, Some("invalid_api_key")),
            Refusal::KeyRevoked { .. } => (401, Authentication, Some("key_revoked")),
            Refusal::WrongRole(_) => (403, Permission, Some("wrong_role")),
            Refusal::InsufficientRole(_) => (403, Permission, Some("insufficient_role")),
            Refusal::AgentDisabled { .. } => (403, Permission, Some("agent_disabled")),
            Refusal::PolicyBlock { .. } => (403, PolicyBlock, Some("policy_block")),
            Refusal::NotFound(_) => (404, NotFound, Some("not_found")),
            Refusal::ModelNotFound(_) => (404, NotFound, Some("model_not_found")),
            Refusal::Conflict(_) => (409, InvalidRequest, Some("conflict")),
            Refusal::RateLimited { .. } => (429, RateLimit, Some("rate_limit_exceeded")),
            Refusal::BudgetExceeded(_) => (402, Budget, Some("budget_exceeded")),
            Refusal::StorageUnavailable => (503, Unavailable, Some("storage_unavailable")),
            Refusal::LimitsUnavailable => (503, Unavailable, Some("limits_unavailable")),
            Refusal::PolicyUnavailable { .. } => (503, Unavailable, Some("policy_unavailable")),
            Refusal::UpstreamUnavailable(_) => (502, Upstream, Some("upstream_unavailable")),
            Refusal::UpstreamTimeout(_) => (504, Upstream, Some("upstream_timeout")),
            Refusal::UpstreamFailed { .. } => (502, Upstream, Some("upstream_error")),
            Refusal::UpstreamMalformed(_) => (502, Upstream, Some("upstream_malformed")),
            Refusal::UpstreamRejected { status, .. } => (*status, Upstream, None),
            Refusal::Internal(_) => (500, Internal, None),
        }
    }

    pub fn status(&self) -> u16 {
        self.class().0
    }

    pub fn kind(&self) -> Kind {
        self.class().1
    }

    pub fn code(&self) -> Option<&'static str> {
        self.class().2
    }

    /// The request field at fault (`param` in OpenAI's envelope).
    pub fn param(&self) -> Option<&str> {
        match self {
            Refusal::Invalid { param, .. } | Refusal::UnscannedPart { param, .. } => Some(param),
            Refusal::InvalidFlags(_) => Some("X-TapPass-Flags"),
            Refusal::PriceUnknown { .. } | Refusal::ModelNotFound(_) => Some("model"),
            Refusal::BodyTooLarge { .. } | Refusal::BodyTimeout { .. } => Some("body"),
            _ => None,
        }
    }

    /// The step that blocked the request, and why (policy blocks only).
    pub fn blocked(&self) -> Option<(&'static str, &str)> {
        match self {
            Refusal::PolicyBlock { step, reason } => Some((step, reason)),
            _ => None,
        }
    }

    /// `Retry-After`, when the client should come back later.
    pub fn retry_after(&self) -> Option<String> {
        match self {
            Refusal::RateLimited {
                retry_after_secs, ..
            } => Some(retry_after_secs.max(&1).to_string()),
            Refusal::UpstreamRejected { retry_after, .. } => retry_after.clone(),
            _ => None,
        }
    }

    /// A provider's own error body, passed through verbatim.
    pub fn passthrough(&self) -> Option<&Bytes> {
        match self {
            Refusal::UpstreamRejected { body, .. } => Some(body),
            _ => None,
        }
    }

    /// 400 naming `param`.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        Refusal::Invalid {
            param: param.into(),
            message: message.into(),
        }
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Conflict(what) => Refusal::Conflict(what),
            other => {
                tracing::error!(error = %other, "storage error");
                Refusal::StorageUnavailable
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One of each.
    fn all() -> Vec<Refusal> {
        vec![
            Refusal::invalid("model", "is required"),
            Refusal::InvalidFlags("bad".into()),
            Refusal::UnscannedPart {
                param: "messages[0].content[1]".into(),
                message: "x".into(),
            },
            Refusal::PriceUnknown { model: "m".into() },
            Refusal::BodyTooLarge {
                limit: 10,
                setting: "server.max_body_bytes",
            },
            Refusal::BodyTimeout { secs: 60 },
            Refusal::InvalidKey("invalid API key".into()),
            Refusal::KeyRevoked { key_id: "k".into() },
            Refusal::WrongRole("w".into()),
            Refusal::InsufficientRole("i".into()),
            Refusal::AgentDisabled {
                agent_id: "a".into(),
            },
            Refusal::PolicyBlock {
                step: "detect_pii",
                reason: "PII".into(),
            },
            Refusal::NotFound("n".into()),
            Refusal::ModelNotFound("m".into()),
            Refusal::Conflict("c".into()),
            Refusal::RateLimited {
                message: "r".into(),
                retry_after_secs: 0,
            },
            Refusal::BudgetExceeded("b".into()),
            Refusal::StorageUnavailable,
            Refusal::LimitsUnavailable,
            Refusal::PolicyUnavailable {
                kind: "timeout".into(),
            },
            Refusal::UpstreamUnavailable("u".into()),
            Refusal::UpstreamTimeout("t".into()),
            Refusal::UpstreamFailed { status: 503 },
            Refusal::UpstreamMalformed("m".into()),
            Refusal::UpstreamRejected {
                status: 429,
                message: "slow".into(),
                body: Bytes::from_static(b"{}"),
                retry_after: Some("3".into()),
            },
            Refusal::Internal("i".into()),
        ]
    }

    #[test]
    fn every_refusal_has_a_status_in_range_and_a_message() {
        for r in &all() {
            let (status, _, code) = r.class();
            assert!((400..600).contains(&status), "{r:?}");
            assert!(!r.to_string().is_empty(), "{r:?}");
            // Only a provider's own error and internal errors go without a code.
            assert_eq!(
                code.is_none(),
                matches!(
                    r,
                    Refusal::Invalid { .. }
                        | Refusal::UpstreamRejected { .. }
                        | Refusal::Internal(_)
                ),
                "{r:?}"
            );
        }
    }

    #[test]
    fn the_api_docs_name_every_status_type_and_code() {
        let doc = include_str!("../docs/api.md");
        for r in all() {
            let (status, kind, code) = r.class();
            if let Refusal::UpstreamRejected { .. } = r {
                continue; // the provider's own status and body
            }
            let row = doc
                .lines()
                .filter(|l| l.starts_with(&format!("| {status} ")))
                .find(|l| l.contains(&format!("`{}`", kind.as_str())))
                .unwrap_or_else(|| panic!("docs/api.md has no row for {status} {}", kind.as_str()));
            if let Some(code) = code {
                let listed = doc
                    .lines()
                    .filter(|l| l.starts_with(&format!("| {status} ")))
                    .any(|l| l.contains(&format!("`{code}`")));
                assert!(
                    listed,
                    "docs/api.md: {status} does not list `{code}` ({row})"
                );
            }
        }
    }

    #[test]
    fn four_hundreds_name_their_field() {
        let r = Refusal::invalid("messages[2].role", "must be one of …");
        assert_eq!(r.param(), Some("messages[2].role"));
        assert!(r.to_string().starts_with("messages[2].role: "));
        assert_eq!(
            Refusal::PriceUnknown { model: "x".into() }.param(),
            Some("model")
        );
        assert_eq!(
            Refusal::InvalidFlags("x".into()).param(),
            Some("X-TapPass-Flags")
        );
    }

    #[test]
    fn retry_after_is_at_least_a_second_and_passes_the_providers_through() {
        let r = Refusal::RateLimited {
            message: "x".into(),
            retry_after_secs: 0,
        };
        assert_eq!(r.retry_after().as_deref(), Some("1"));
        let r = Refusal::UpstreamRejected {
            status: 429,
            message: "x".into(),
            body: Bytes::new(),
            retry_after: Some("7".into()),
        };
        assert_eq!((r.status(), r.retry_after().as_deref()), (429, Some("7")));
        assert!(r.passthrough().is_some());
    }

    #[test]
    fn storage_conflicts_are_409_and_other_storage_errors_503() {
        let r = Refusal::from(crate::store::StoreError::Conflict("last admin key".into()));
        assert_eq!((r.status(), r.code()), (409, Some("conflict")));
        let r = Refusal::from(crate::store::StoreError::Unavailable(
            sqlx::Error::PoolClosed,
        ));
        assert_eq!((r.status(), r.code()), (503, Some("storage_unavailable")));
    }
}
