//! tool_permissions: the tools a request declares (validate_input read them from the typed
//! model) must pass the server's allow/deny lists and
//! the `tools` flag. (The tools a model *calls* are checked by scan_output on the way back.)

use async_trait::async_trait;

use crate::detect::EntityKind;
use crate::pipeline::tools::tool_denied;
use crate::pipeline::{Ctx, Step};

pub struct ToolPermissions;

#[async_trait]
impl Step for ToolPermissions {
    fn name(&self) -> &'static str {
        "tool_permissions"
    }

    async fn run(&self, ctx: &mut Ctx) {
        let reasons: Vec<String> = ctx
            .tools
            .iter()
            .filter_map(|t| tool_denied(&ctx.gov, &ctx.flags.tools, t))
            .collect();
        if !reasons.is_empty() {
            ctx.detected(
                EntityKind::ToolDenied,
                reasons.len() as u32,
                "tool_permissions",
            );
            ctx.block("tool_permissions", reasons.join("; "));
        }
    }
}
