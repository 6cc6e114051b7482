//! detect_pii: personal data in the request — masked, blocked or logged per the `pii` flag
//! (server default from `[pipeline.detect_pii]`), and checked against the `email` flag.

use async_trait::async_trait;

use crate::detect::mask::{mask_label, replace};
use crate::detect::EntityKind;
use crate::detect::{pii, Finding};
use crate::governance::flags::{EmailPolicy, Mode, PiiAction};
use crate::pipeline::{Ctx, Step};

pub struct DetectPii;

const NAME: &str = "detect_pii";

#[async_trait]
impl Step for DetectPii {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn run(&self, ctx: &mut Ctx) {
        let action = ctx.flags.pii;
        let email = ctx.flags.email.clone();
        if action == PiiAction::Off && email == EmailPolicy::Allow {
            return;
        }
        let Some(mut body) = ctx.body.take() else {
            return;
        };
        let gov = ctx.gov.clone();
        let restore = gov.pii_restore;
        let mask = action == PiiAction::Mask && ctx.flags.mode != Mode::Lockdown;
        let mut kinds: Vec<EntityKind> = Vec::new();
        let mut email_violations: Vec<String> = Vec::new();
        let mut masked = std::mem::take(&mut ctx.masked);
        let texts = ctx.texts.clone();
        texts.for_each_mut(&mut body, &mut |text| {
            let found: Vec<Finding> = pii::detect_pii(text)
                .into_iter()
                .filter(|f| gov.pii.wants(f.kind))
                .collect();
            for f in &found {
                kinds.push(f.kind);
                if f.kind == EntityKind::Email {
                    if let Some(v) = email_violation(&email, &text[f.start..f.end]) {
                        email_violations.push(v);
                    }
                }
            }
            if mask && !found.is_empty() {
                *text = replace(text, found, |f, value| {
                    let label = if restore {
                        let n = masked
                            .iter()
                            .filter(|(p, _)| p.starts_with(&format!("[MASKED_{}_", f.kind)))
                            .count()
                            + 1;
                        format!("[MASKED_{}_{n}]", f.kind)
                    } else {
                        mask_label(f.kind)
                    };
                    if restore {
                        masked.push((label.clone(), value.to_string()));
                    }
                    label
                });
            }
        });
        ctx.masked = masked;
        ctx.body = Some(body);
        let distinct = ctx.detected_all(&kinds, NAME);
        if !email_violations.is_empty() {
            ctx.block(
                NAME,
                format!("e-mail policy: {}", email_violations.join("; ")),
            );
            return;
        }
        if distinct.is_empty() || action == PiiAction::Off {
            return;
        }
        if action == PiiAction::Block || ctx.flags.mode == Mode::Lockdown {
            ctx.block(
                NAME,
                format!("PII detected: {}", crate::detect::joined(&distinct)),
            );
        }
    }
}

/// Why an address breaks the `email` flag, if it does. The address itself is never reported.
fn email_violation(policy: &EmailPolicy, address: &str) -> Option<String> {
    match policy {
        EmailPolicy::Allow | EmailPolicy::Mirror(_) => None,
        EmailPolicy::Block => Some("e-mail addresses are not allowed".into()),
        EmailPolicy::Internal(domain) => {
            let host = address
                .rsplit_once('@')
                .map(|(_, h)| h.to_ascii_lowercase())?;
            let inside = host == *domain || host.ends_with(&format!(".{domain}"));
            (!inside).then(|| format!("address outside {domain}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_policies() {
        let internal = EmailPolicy::Internal("co.com".into());
        assert!(email_violation(&internal, "a@co.com").is_none());
        assert!(email_violation(&internal, "a@eu.co.com").is_none());
        assert!(email_violation(&internal, "a@evilco.com").is_some());
        assert!(email_violation(&EmailPolicy::Block, "a@co.com").is_some());
        assert!(email_violation(&EmailPolicy::Allow, "a@x.org").is_none());
    }
}
