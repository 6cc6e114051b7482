//! scan_output (+ pii_restore): DLP on the answer, and the tool calls the model makes. Complete
//! answers are scanned in `run`; a stream event by event in the stream hooks, with the
//! `StreamScanner`'s hold-back buffers (`output.rs`).

use async_trait::async_trait;

use crate::config::governance::StepAction;
use crate::config::governance::UnscannedParts;
use crate::detect::EntityKind;
use crate::governance::flags::{Mode, PiiAction};
use crate::pipeline::output::{OutputAction, Scanner, StreamScanner};
use crate::pipeline::tools::tool_denied;
use crate::pipeline::wire::answer;
use crate::pipeline::{Ctx, Flow, Refusal, Step};
use crate::providers::{SseEvent, UpstreamReply};

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

    async fn run(&self, ctx: &mut Ctx) {
        let scanner = scanner_for(ctx);
        let gov = ctx.gov.clone();
        let tools_flag = ctx.flags.tools.clone();
        match ctx.reply.as_mut() {
            Some(UpstreamReply::Complete { body, .. }) => {
                // What the answer holds, by its typed model: one that does not fit is not
                // scanned by guesswork.
                let content = match answer::read(body, ctx.format) {
                    Ok(c) => c,
                    Err(e) => {
                        ctx.reply = None;
                        ctx.reject(Refusal::UpstreamMalformed(format!(
                            "the provider's answer does not fit the {} answer schema at `{}` ({})",
                            ctx.format.name(),
                            e.field,
                            e.message
                        )));
                        return;
                    }
                };
                let denied: Vec<String> = content
                    .called_tools
                    .iter()
                    .filter_map(|t| tool_denied(&gov, &tools_flag, t))
                    .collect();
                let mut kinds: Vec<EntityKind> = Vec::new();
                if let Some(s) = &scanner {
                    content
                        .texts
                        .for_each_mut(body, &mut |t| kinds.extend(s.scan_text(t)));
                }
                let distinct = ctx.detected_all(&kinds, NAME);
                let unscanned = content.unscanned.len() as u32;
                ctx.detected(EntityKind::UnscannedPart, unscanned, NAME);
                if !denied.is_empty() {
                    ctx.detected(EntityKind::ToolDenied, denied.len() as u32, NAME);
                    ctx.block("tool_permissions", denied.join("; "));
                } else if !distinct.is_empty()
                    && scanner
                        .as_ref()
                        .is_some_and(|s| s.action == OutputAction::Block)
                {
                    ctx.block(
                        NAME,
                        format!(
                            "sensitive data in the answer: {}",
                            crate::detect::joined(&distinct)
                        ),
                    );
                } else if unscanned > 0
                    && gov.config.pipeline.unscanned_parts == UnscannedParts::Refuse
                {
                    ctx.block(
                        NAME,
                        format!(
                            "the answer has {unscanned} block(s) of a type the gateway cannot \
                             scan (first: {})",
                            content.unscanned[0]
                        ),
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
                let pass = gov.config.pipeline.unscanned_parts == UnscannedParts::Pass;
                let check = move |name: &str| tool_denied(&gov, &tools_flag, name);
                ctx.streaming.scanner = Some(
                    StreamScanner::new(ctx.format, scanner, Box::new(check))
                        .passing_unscanned(pass),
                );
            }
            None => {}
        }
    }

    fn on_stream_event(&self, ctx: &mut Ctx, events: Vec<SseEvent>) -> Flow {
        let Some(sc) = ctx.streaming.scanner.as_mut() else {
            return Flow::Forward(events);
        };
        let mut out = Vec::with_capacity(events.len());
        for ev in events {
            match sc.on_event(ev) {
                Flow::Forward(evs) => out.extend(evs),
                stop @ Flow::Stop(_) => return stop,
            }
        }
        Flow::Forward(out)
    }

    fn on_stream_flush(&self, ctx: &mut Ctx) -> Flow {
        match ctx.streaming.scanner.as_mut() {
            Some(sc) => sc.finish(),
            None => Flow::Forward(Vec::new()),
        }
    }

    /// What the stream held, for its completion event.
    async fn on_stream_end(&self, ctx: &mut Ctx) {
        let Some(sc) = ctx.streaming.scanner.take() else {
            return;
        };
        let mut kinds = sc.kinds;
        kinds.sort_unstable();
        for chunk in kinds.chunk_by(|a, b| a == b) {
            ctx.streaming
                .detections
                .push(crate::audit::event::Detection {
                    kind: chunk[0].to_string(),
                    count: chunk.len() as u32,
                    step: NAME.into(),
                });
        }
    }
}
