//! policy: the Rego policy (in-process or OPA) decides on what the earlier steps found.
//! Fail-closed: an evaluation error or timeout refuses the request with 503 and is audited.

use async_trait::async_trait;
use serde_json::json;

use crate::audit::event::PolicyResult;
use crate::pipeline::{Ctx, Refusal, Step};

pub struct Policy;

/// The policy input document (docs/policy.md).
pub fn input(ctx: &Ctx) -> serde_json::Value {
    json!({
        "agent": ctx.agent.as_ref().map(|a| json!({"id": a.agent_id, "key_id": a.key_id})),
        "request": {
            "format": match ctx.format { crate::providers::WireFormat::OpenAi => "openai", crate::providers::WireFormat::Anthropic => "anthropic" },
            "model": ctx.model,
            "provider": ctx.route.as_ref().map(|r| r.provider.name().to_string()),
            "stream": ctx.stream,
        },
        "detections": ctx.detections,
        "classification": ctx.classification.as_str(),
        "injection_score": ctx.injection_score,
        "flags": ctx.flags.pairs().into_iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>(),
        "tools": ctx.tools,
        "session": {"id": ctx.session_id},
    })
}

/// Asks the policy of `gov` about a plain request — an agent, a chat to `model`, nothing
/// detected, the default flags — as the pipeline would (`tappass config check`, `tappass
/// doctor`): a policy that denies it denies every request. `None` when no policy is enabled.
pub async fn probe(
    gov: std::sync::Arc<crate::governance::Governance>,
    model: &str,
) -> Option<Result<crate::policy::Decision, crate::policy::PolicyError>> {
    let engine = gov.policy.clone()?;
    let mut ctx = Ctx::with_governance(
        "req_policy_probe".into(),
        crate::providers::WireFormat::OpenAi,
        bytes::Bytes::new(),
        gov,
    );
    ctx.model = Some(model.to_owned());
    ctx.agent = Some(crate::pipeline::AgentIdentity {
        agent_id: "policy-probe".into(),
        key_id: "probe".into(),
        flag_grants: crate::governance::flags::Grants::NONE,
    });
    Some(engine.evaluate(&input(&ctx)).await)
}

#[async_trait]
impl Step for Policy {
    fn name(&self) -> &'static str {
        "policy"
    }

    async fn run(&self, ctx: &mut Ctx) {
        let Some(engine) = ctx.gov.policy.clone() else {
            return;
        };
        let doc = input(ctx);
        match engine.evaluate(&doc).await {
            Ok(d) if d.allow => {
                ctx.obligations = d.obligations;
                ctx.policy = PolicyResult {
                    verdict: crate::audit::event::Verdict::Allow,
                    rule: d.rule,
                };
            }
            Ok(d) => {
                ctx.obligations = d.obligations;
                let rule = d.rule.unwrap_or_else(|| "policy".into());
                ctx.policy = PolicyResult::deny(rule.clone());
                ctx.block(
                    "policy",
                    d.reason.unwrap_or_else(|| format!("denied by rule {rule}")),
                );
            }
            Err(e) => {
                tracing::error!(error = %e, backend = engine.backend(), "policy evaluation failed: refusing the request");
                ctx.policy = PolicyResult::error(e.kind());
                ctx.reject(Refusal::PolicyUnavailable {
                    kind: e.kind().to_string(),
                });
            }
        }
    }
}
