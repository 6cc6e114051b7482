//! detect_secrets: credentials in the request — redacted (`[REDACTED]`), blocked or logged per
//! the `secrets` flag (server default from `[pipeline.detect_secrets]`).

use async_trait::async_trait;

use crate::detect::mask::{replace, REDACTED};
use crate::detect::{secrets, EntityKind};
use crate::governance::flags::{Mode, SecretsAction};
use crate::pipeline::{Ctx, Step};

pub struct DetectSecrets;

const NAME: &str = "detect_secrets";

#[async_trait]
impl Step for DetectSecrets {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn run(&self, ctx: &mut Ctx) {
        let Some(mut body) = ctx.body.take() else {
            return;
        };
        let action = ctx.flags.secrets;
        let lockdown = ctx.flags.mode == Mode::Lockdown;
        let gov = ctx.gov.clone();
        let mut kinds: Vec<EntityKind> = Vec::new();
        let texts = ctx.texts.clone();
        texts.for_each_mut(&mut body, &mut |text| {
            let found: Vec<_> = secrets::detect_secrets(text)
                .into_iter()
                .filter(|f| gov.secrets.wants(f.kind))
                .collect();
            kinds.extend(found.iter().map(|f| f.kind));
            if action == SecretsAction::Redact && !lockdown && !found.is_empty() {
                *text = replace(text, found, |_, _| REDACTED.to_string());
            }
        });
        ctx.body = Some(body);
        let distinct = ctx.detected_all(&kinds, NAME);
        if !distinct.is_empty() && (action == SecretsAction::Block || lockdown) {
            ctx.block(
                NAME,
                format!("secrets detected: {}", crate::detect::joined(&distinct)),
            );
        }
    }
}
