//! detect_unicode: invisible, bidi-control and tag characters, and mixed-script homoglyphs —
//! blocked, stripped or logged per `[pipeline.detect_unicode]`.

use async_trait::async_trait;

use crate::config::governance::StepAction;
use crate::detect::mask::replace;
use crate::detect::unicode;
use crate::detect::EntityKind;
use crate::governance::flags::Mode;
use crate::pipeline::{Ctx, Step};

pub struct DetectUnicode;

const NAME: &str = "detect_unicode";

#[async_trait]
impl Step for DetectUnicode {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn run(&self, ctx: &mut Ctx) {
        let action = ctx.gov.unicode.action;
        if action == StepAction::Off {
            return;
        }
        let Some(mut body) = ctx.body.take() else {
            return;
        };
        let mut kinds: Vec<EntityKind> = Vec::new();
        let texts = ctx.texts.clone();
        texts.for_each_mut(&mut body, &mut |text| {
            let found = unicode::detect_unicode(text);
            kinds.extend(found.iter().map(|f| f.kind));
            // Homoglyph words are letters, not smuggled characters: stripping keeps them.
            let strip: Vec<_> = found
                .into_iter()
                .filter(|f| f.kind != EntityKind::Homoglyph)
                .collect();
            if action == StepAction::Strip && !strip.is_empty() {
                *text = replace(text, strip, |_, _| String::new());
            }
        });
        ctx.body = Some(body);
        let distinct = ctx.detected_all(&kinds, NAME);
        if !distinct.is_empty() && (action == StepAction::Block || ctx.flags.mode == Mode::Lockdown)
        {
            ctx.block(
                NAME,
                format!("suspicious unicode: {}", crate::detect::joined(&distinct)),
            );
        }
    }
}
