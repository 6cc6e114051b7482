//! scan_output (+ pii_restore): DLP on the answer. Complete answers are scanned here; for a
//! stream this step prepares the `StreamScanner` that the relay applies chunk by chunk.

use async_trait::async_trait;

use crate::config::governance::StepAction;
use crate::governance::flags::{Mode, PiiAction};
use crate::pipeline::content::{answer_texts_mut, called_tools};
use crate::pipeline::output::{OutputAction, Scanner, StreamScanner};
use crate::pipeline::steps::tool_permissions::tool_denied;
use crate::pipeline::{Ctx, Phase, Step};
use crate::providers::UpstreamReply;

pub struct ScanOutput;

const NAME: &str = "scan_output";

/// The scanner for this request's answer, or `None` when there is nothing to do.
fn scanner_for(ctx: &Ctx) -> Option<Scanner> {
    let action = match ctx.gov.scan_output.action {
        StepAction::Off => None,
        StepAction::Block if matches!(ctx.flags.mode, Mode::Observe | Mode::Warn) => {
            Some(OutputAction::Log)
        }
        StepAction::Block => Some(OutputAction::Block),
        StepAction::Log => Some(OutputAction::Log),
        _ => Some(OutputAction::Redact),
    };
    let restore = if ctx.gov.pii_restore {
        ctx.masked.clone()
    } else {
        Vec::new()
    };
    match action {
        Some(action) => Some(Scanner {
            action,
            pii: ctx.flags.pii != PiiAction::Off,
            restore,
        }),
        None if !restore.is_empty() => Some(Scanner {
            action: OutputAction::Log,
            pii: false,
            restore,
        }),
        None => None,
    }
}

#[async_trait]
impl Step for ScanOutput {
    fn name(&self) -> &'static str {
        NAME
    }
    fn phase(&self) -> Phase {
        Phase::After
    }
    fn position(&self) -> u32 {
        10
    }

    async fn run(&self, ctx: &mut Ctx) {
        let scanner = scanner_for(ctx);
        let gov = ctx.gov.clone();
        let tools_flag = ctx.flags.tools.clone();
        match ctx.reply.as_mut() {
            Some(UpstreamReply::Complete { body, .. }) => {
                let denied: Vec<String> = called_tools(body, ctx.format)
                    .iter()
                    .filter_map(|t| tool_denied(&gov, &tools_flag, t))
                    .collect();
                let mut kinds: Vec<&'static str> = Vec::new();
                if let Some(s) = &scanner {
                    answer_texts_mut(body, ctx.format, &mut |t| kinds.extend(s.scan_text(t)));
                }
                let distinct = ctx.detected_all(&kinds, NAME);
                if !denied.is_empty() {
                    ctx.detected("TOOL_DENIED", denied.len() as u32, NAME);
                    ctx.block("tool_permissions", denied.join("; "));
                } else if !distinct.is_empty()
                    && scanner
                        .as_ref()
                        .is_some_and(|s| s.action == OutputAction::Block)
                {
                    ctx.block(
                        NAME,
                        format!("sensitive data in the answer: {}", distinct.join(", ")),
                    );
                }
                // Only a block that refused drops the answer: in observe / warn mode it is a
                // recorded warning and the answer goes out as audited.
                if ctx.rejection.is_some() {
                    ctx.reply = None;
                }
            }
            Some(UpstreamReply::Stream(_)) => {
                let scanner = scanner.unwrap_or(Scanner {
                    action: OutputAction::Log,
                    pii: false,
                    restore: Vec::new(),
                });
                let check = move |name: &str| tool_denied(&gov, &tools_flag, name);
                ctx.stream_scanner = Some(StreamScanner::new(ctx.format, scanner, Box::new(check)));
            }
            None => {}
        }
    }
}
