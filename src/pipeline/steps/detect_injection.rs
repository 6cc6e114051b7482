//! detect_injection: a prompt-injection score over the request's texts; at or above the
//! threshold the request is blocked (or logged, per `[pipeline.detect_injection]`).

use async_trait::async_trait;

use crate::config::governance::StepAction;
use crate::detect::injection;
use crate::detect::EntityKind;
use crate::governance::flags::Mode;
use crate::pipeline::{Ctx, Step};

pub struct DetectInjection;

const NAME: &str = "detect_injection";

#[async_trait]
impl Step for DetectInjection {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn run(&self, ctx: &mut Ctx) {
        let settings = ctx.gov.injection.clone();
        if settings.action == StepAction::Off {
            return;
        }
        let Some(mut body) = ctx.body.take() else {
            return;
        };
        let mut score: f32 = 0.0;
        let mut signals: Vec<EntityKind> = Vec::new();
        // Every text is scanned, system messages included: the gateway cannot tell an
        // operator's system prompt from one an agent forged.
        let texts = ctx.texts.clone();
        texts.for_each_mut(&mut body, &mut |text| {
            let r = injection::detect_injection(text);
            score = score.max(r.score);
            signals.extend(r.signals.iter().map(|s| s.kind));
        });
        ctx.body = Some(body);
        ctx.injection_score = score;
        if score < settings.threshold {
            return;
        }
        ctx.detected(EntityKind::PromptInjection, 1, NAME);
        signals.sort_unstable();
        signals.dedup();
        for s in &signals {
            ctx.detected(*s, 1, NAME);
        }
        if settings.action == StepAction::Block || ctx.flags.mode == Mode::Lockdown {
            ctx.block(
                NAME,
                format!(
                    "prompt injection (score {score:.2}): {}",
                    crate::detect::joined(&signals)
                ),
            );
        }
    }
}
