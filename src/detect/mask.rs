//! Rewriting a text around findings: masking (`[MASKED_EMAIL]`), redaction (`[REDACTED]`),
//! stripping. Pure.

use super::{non_overlapping, Finding};
use crate::detect::EntityKind;

/// Replaces every finding (overlaps resolved left to right) with `placeholder(finding, value)`.
pub fn replace(
    text: &str,
    findings: Vec<Finding>,
    mut placeholder: impl FnMut(&Finding, &str) -> String,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in non_overlapping(findings) {
        if f.start < at
            || f.end > text.len()
            || !text.is_char_boundary(f.start)
            || !text.is_char_boundary(f.end)
        {
            continue;
        }
        out.push_str(&text[at..f.start]);
        out.push_str(&placeholder(&f, &text[f.start..f.end]));
        at = f.end;
    }
    out.push_str(&text[at..]);
    out
}

/// `[MASKED_EMAIL]`.
pub fn mask_label(kind: EntityKind) -> String {
    format!("[MASKED_{kind}]")
}

pub const REDACTED: &str = "[REDACTED]";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_left_to_right_and_skips_overlaps() {
        let text = "mail a@b.co or call 555";
        let f = vec![
            Finding::new(EntityKind::PhoneNumber, 20, 23),
            Finding::new(EntityKind::Email, 5, 11),
            Finding::new(EntityKind::Email, 6, 8),
        ];
        assert_eq!(
            replace(text, f, |f, _| mask_label(f.kind)),
            "mail [MASKED_EMAIL] or call [MASKED_PHONE_NUMBER]"
        );
    }

    #[test]
    fn multibyte_text_and_bad_offsets() {
        let text = "é a@b.co é";
        let f = vec![
            Finding::new(EntityKind::Email, 3, 9),
            Finding::new(EntityKind::Iban, 1, 2),
        ];
        assert_eq!(replace(text, f, |_, _| REDACTED.into()), "é [REDACTED] é");
        assert_eq!(
            replace(
                "abc",
                vec![Finding::new(EntityKind::Email, 2, 10)],
                |_, _| "!".into()
            ),
            "abc"
        );
    }
}
