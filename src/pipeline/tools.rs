//! Which tools may be used: the server's allow/deny lists and the request's `tools` flag. One
//! rule for the tools a request declares (tool_permissions) and the tools a model calls
//! (scan_output).

use crate::governance::flags::ToolsPolicy;
use crate::governance::Governance;

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
