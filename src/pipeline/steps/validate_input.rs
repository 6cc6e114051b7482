//! validate_input: the body must be a JSON object with a model and a non-empty message list.
//! Every refusal names the field at fault.

use async_trait::async_trait;
use serde_json::Value;

use crate::config::governance::UnscannedParts;
use crate::detect::EntityKind;
use crate::pipeline::{Ctx, Refusal, Step};
use crate::providers::RouteError;

/// Also resolves the model to a provider (a `model` nobody serves is a bad request too), so
/// later steps — budgets, policy — know the provider and its model name before the call.
pub struct ValidateInput {
    router: std::sync::Arc<crate::providers::Router>,
}

impl ValidateInput {
    pub fn new(router: std::sync::Arc<crate::providers::Router>) -> Self {
        ValidateInput { router }
    }
}

#[async_trait]
impl Step for ValidateInput {
    fn name(&self) -> &'static str {
        "validate_input"
    }

    async fn run(&self, ctx: &mut Ctx) {
        match validate(&ctx.raw_body) {
            Ok((body, model, stream)) => {
                ctx.body = Some(body);
                ctx.model = Some(model);
                ctx.stream = stream;
            }
            Err(r) => return ctx.reject(r),
        }
        if let Err(r) = check_schema(ctx) {
            return ctx.reject(r);
        }
        match self
            .router
            .route(ctx.format, ctx.model.as_deref().unwrap_or_default())
        {
            Ok(route) => ctx.route = Some(route),
            Err(e) => return ctx.reject(route_refusal(&e)),
        }
        match &ctx.requested_flags {
            Ok(requested) => {
                let agent_grants = ctx.agent.as_ref().map(|a| a.flag_grants);
                let (flags, ignored) = ctx
                    .gov
                    .flags_for(requested, agent_grants.unwrap_or_default());
                ctx.flags = flags;
                ctx.flags_ignored = ignored;
            }
            Err(e) => {
                ctx.reject(Refusal::InvalidFlags(e.to_string()));
            }
        }
    }
}

/// A model nobody serves (404) or one served in the other wire format (400).
pub fn route_refusal(e: &RouteError) -> Refusal {
    match e {
        RouteError::UnknownProvider { .. } | RouteError::NoDefault { .. } => {
            Refusal::ModelNotFound(e.to_string())
        }
        RouteError::WrongFormat { .. } => Refusal::invalid("model", e.to_string()),
    }
}

/// The wire format's schema (`pipeline/wire`): violations are 400 naming the field; parts no
/// detector can read are refused unless `[pipeline] unscanned_parts = "pass"` (then audited).
fn check_schema(ctx: &mut Ctx) -> Result<(), Refusal> {
    let Some(body) = ctx.body.as_ref() else {
        return Ok(());
    };
    let checked = crate::pipeline::wire::check(body, ctx.format)
        .map_err(|e| invalid(e.field.clone(), e.message))?;
    ctx.texts = std::sync::Arc::new(checked.texts);
    ctx.tools = checked.tools;
    if let Some(first) = checked.unscanned.first() {
        if ctx.gov.config.pipeline.unscanned_parts == UnscannedParts::Refuse {
            let kind = part_type(body, first);
            return Err(Refusal::UnscannedPart {
                param: first.clone(),
                message: format!(
                    "a `{kind}` part cannot be scanned for PII, secrets or injection, so it \
                     is refused ({} such part(s)); an operator may let such parts pass \
                     with [pipeline] unscanned_parts = \"pass\"",
                    checked.unscanned.len()
                ),
            });
        }
        ctx.detected(
            EntityKind::UnscannedPart,
            checked.unscanned.len() as u32,
            "validate_input",
        );
    }
    ctx.detected(EntityKind::OpaquePart, checked.opaque, "validate_input");
    Ok(())
}

/// The `type` of the part at `path` (`messages[0].content[2]`, `….source`), for messages.
fn part_type(body: &Value, path: &str) -> String {
    let pointer: String = path
        .split(['.', '['])
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{}", s.trim_end_matches(']')))
        .collect();
    body.pointer(&pointer)
        .and_then(|p| p.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("unknown")
        .chars()
        .take(64)
        .collect()
}

fn invalid(param: impl Into<String>, message: impl Into<String>) -> Refusal {
    Refusal::invalid(param, message)
}

/// Checks the body and returns it parsed with its model and stream flag.
pub fn validate(raw: &[u8]) -> Result<(Value, String, bool), Refusal> {
    let body: Value =
        serde_json::from_slice(raw).map_err(|e| invalid("body", format!("not valid JSON: {e}")))?;
    let obj = body
        .as_object()
        .ok_or_else(|| invalid("body", "must be a JSON object"))?;
    let model = match obj.get("model") {
        Some(Value::String(m)) if !m.trim().is_empty() => m.clone(),
        Some(Value::String(_)) => return Err(invalid("model", "must not be empty")),
        Some(_) => return Err(invalid("model", "must be a string")),
        None => return Err(invalid("model", "is required")),
    };
    let messages = match obj.get("messages") {
        Some(Value::Array(m)) if !m.is_empty() => m,
        Some(Value::Array(_)) => return Err(invalid("messages", "must not be empty")),
        Some(_) => return Err(invalid("messages", "must be an array")),
        None => return Err(invalid("messages", "is required")),
    };
    for (i, m) in messages.iter().enumerate() {
        let Some(m) = m.as_object() else {
            return Err(invalid(format!("messages[{i}]"), "must be an object"));
        };
        if !matches!(m.get("role"), Some(Value::String(_))) {
            return Err(invalid(
                format!("messages[{i}].role"),
                "is required and must be a string",
            ));
        }
    }
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("stream", "must be a boolean")),
    };
    Ok((body, model, stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn param_of(raw: &str) -> Option<String> {
        validate(raw.as_bytes())
            .err()
            .and_then(|r| r.param().map(str::to_string))
    }

    #[test]
    fn accepts_a_minimal_body() {
        let (_, model, stream) =
            validate(br#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#).unwrap();
        assert_eq!(model, "m");
        assert!(!stream);
        let (_, _, stream) =
            validate(br#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#)
                .unwrap();
        assert!(stream);
    }

    #[test]
    fn each_refusal_names_its_field() {
        assert_eq!(param_of("nope").as_deref(), Some("body"));
        assert_eq!(param_of("[]").as_deref(), Some("body"));
        assert_eq!(
            param_of(r#"{"messages":[{"role":"user"}]}"#).as_deref(),
            Some("model")
        );
        assert_eq!(
            param_of(r#"{"model":"","messages":[{"role":"user"}]}"#).as_deref(),
            Some("model")
        );
        assert_eq!(
            param_of(r#"{"model":1,"messages":[{"role":"user"}]}"#).as_deref(),
            Some("model")
        );
        assert_eq!(param_of(r#"{"model":"m"}"#).as_deref(), Some("messages"));
        assert_eq!(
            param_of(r#"{"model":"m","messages":[]}"#).as_deref(),
            Some("messages")
        );
        assert_eq!(
            param_of(r#"{"model":"m","messages":{}}"#).as_deref(),
            Some("messages")
        );
        assert_eq!(
            param_of(r#"{"model":"m","messages":[{"role":"user"},3]}"#).as_deref(),
            Some("messages[1]")
        );
        assert_eq!(
            param_of(r#"{"model":"m","messages":[{"content":"x"}]}"#).as_deref(),
            Some("messages[0].role")
        );
        assert_eq!(
            param_of(r#"{"model":"m","stream":"yes","messages":[{"role":"user"}]}"#).as_deref(),
            Some("stream")
        );
    }

    #[test]
    fn refusals_are_400_and_say_why() {
        let r = validate(br#"{"model":"m"}"#).unwrap_err();
        assert_eq!(r.status(), 400);
        assert!(r.to_string().starts_with("messages:"), "{r}");
    }

    #[test]
    fn unknown_provider_is_404_model_not_found() {
        let r = route_refusal(&RouteError::UnknownProvider {
            model: "x/y".into(),
            provider: "x".into(),
        });
        assert_eq!((r.status(), r.code()), (404, Some("model_not_found")));
    }
}
