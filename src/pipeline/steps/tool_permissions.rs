//! tool_permissions: the tools a request declares must pass the server's allow/deny lists and
//! the `tools` flag. (The tools a model *calls* are checked by scan_output on the way back.)

use async_trait::async_trait;

use crate::governance::flags::ToolsPolicy;
use crate::governance::Governance;
use crate::pipeline::content::declared_tools;
use crate::pipeline::{Ctx, Phase, Step};

pub struct ToolPermissions;

/// Why `tool` may not be used under `gov` and `flag`, if it may not.
pub fn tool_denied(gov: &Governance, flag: &ToolsPolicy, tool: &str) -> Option<String> {
    if gov.tools_deny.iter().any(|t| t == tool) {
        return Some(format!("tool `{tool}` is denied by the server"));
    }
    if !gov.tools_allow.is_empty() && !gov.tools_allow.iter().any(|t| t == tool) {
        return Some(format!("tool `{tool}` is not on the server's allow list"));
    }
    if flag.permits(tool) {
        return None;
    }
    Some(match flag {
        ToolsPolicy::Block => "tools are blocked (tools=block)".into(),
        ToolsPolicy::Denylist(_) => format!("tool `{tool}` is on the deny list"),
        _ => format!("tool `{tool}` is not on the allow list"),
    })
}

#[async_trait]
impl Step for ToolPermissions {
    fn name(&self) -> &'static str {
        "tool_permissions"
    }
    fn phase(&self) -> Phase {
        Phase::Before
    }
    fn position(&self) -> u32 {
        80
    }

    async fn run(&self, ctx: &mut Ctx) {
        let Some(body) = ctx.body.as_ref() else {
            return;
        };
        ctx.tools = declared_tools(body, ctx.format);
        let reasons: Vec<String> = ctx
            .tools
            .iter()
            .filter_map(|t| tool_denied(&ctx.gov, &ctx.flags.tools, t))
            .collect();
        if !reasons.is_empty() {
            ctx.detected("TOOL_DENIED", reasons.len() as u32, "tool_permissions");
            ctx.block("tool_permissions", reasons.join("; "));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::governance::GovernanceConfig;

    #[test]
    fn server_lists_and_flags() {
        let mut cfg = GovernanceConfig::default();
        cfg.tools.deny = vec!["shell".into()];
        let gov = Governance::from_config(&cfg);
        assert!(tool_denied(&gov, &ToolsPolicy::Log, "shell").is_some());
        assert!(tool_denied(&gov, &ToolsPolicy::Log, "search").is_none());
        assert!(tool_denied(&gov, &ToolsPolicy::Block, "search").is_some());
        assert!(tool_denied(
            &gov,
            &ToolsPolicy::Denylist(vec!["search".into()]),
            "search"
        )
        .is_some());
        assert!(
            tool_denied(&gov, &ToolsPolicy::Allowlist(vec!["calc".into()]), "search").is_some()
        );
        assert!(tool_denied(&gov, &ToolsPolicy::Allowlist(vec!["calc".into()]), "calc").is_none());
        cfg.tools.allow = vec!["calc".into()];
        let gov = Governance::from_config(&cfg);
        assert!(tool_denied(&gov, &ToolsPolicy::Log, "search").is_some());
    }
}
