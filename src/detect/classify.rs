//! Data classification: the sensitivity level of a text, from the kinds of the findings the
//! detectors reported on it. The highest level any kind maps to wins.
//!
//! - `RESTRICTED`: a secret (credentials, keys, tokens) or regulated financial/identity data
//!   (credit card, US SSN, IBAN).
//! - `CONFIDENTIAL`: personal data (e-mail, phone number, date of birth, IP and MAC address).
//! - `INTERNAL`: only signals about the text itself (prompt injection, unicode tricks) — and,
//!   deliberately, any kind this table does not know yet: something was found, so the text is
//!   never reported as `PUBLIC`, but an unknown kind is not escalated either.
//! - `PUBLIC`: nothing found.

use super::{injection, unicode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Classification {
    Public,
    Internal,
    Confidential,
    Restricted,
}

impl Classification {
    pub fn as_str(self) -> &'static str {
        match self {
            Classification::Public => "PUBLIC",
            Classification::Internal => "INTERNAL",
            Classification::Confidential => "CONFIDENTIAL",
            Classification::Restricted => "RESTRICTED",
        }
    }
}

impl std::fmt::Display for Classification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Regulated identifiers, `RESTRICTED` like every secret kind ([`super::SECRET_KINDS`]).
pub const RESTRICTED_IDENTIFIERS: [&str; 3] = ["CREDIT_CARD", "US_SSN", "IBAN"];

/// Every kind classified `RESTRICTED`: the secret kinds and the regulated identifiers.
pub fn restricted_kinds() -> impl Iterator<Item = &'static str> {
    super::SECRET_KINDS
        .iter()
        .copied()
        .chain(RESTRICTED_IDENTIFIERS)
}

/// Personal data: `CONFIDENTIAL`.
pub const CONFIDENTIAL_KINDS: [&str; 5] = [
    "EMAIL",
    "PHONE_NUMBER",
    "DATE_OF_BIRTH",
    "IP_ADDRESS",
    "MAC_ADDRESS",
];

/// Signals about the text rather than data in it: `INTERNAL`.
pub const INTERNAL_KINDS: [&str; 10] = [
    injection::PROMPT_INJECTION,
    injection::INSTRUCTION_OVERRIDE,
    injection::ROLE_HIJACK,
    injection::PROMPT_EXTRACTION,
    injection::DELIMITER_INJECTION,
    injection::ENCODING_TRICK,
    unicode::INVISIBLE_CHARACTER,
    unicode::BIDI_CONTROL,
    unicode::TAG_CHARACTER,
    unicode::HOMOGLYPH,
];

/// The level of one kind (an unknown kind counts as `INTERNAL`, see the module doc).
pub fn classify_kind(kind: &str) -> Classification {
    if super::SECRET_KINDS.contains(&kind) || RESTRICTED_IDENTIFIERS.contains(&kind) {
        Classification::Restricted
    } else if CONFIDENTIAL_KINDS.contains(&kind) {
        Classification::Confidential
    } else {
        Classification::Internal
    }
}

pub fn classify<'a>(kinds: impl IntoIterator<Item = &'a str>) -> Classification {
    let mut level = Classification::Public;
    for kind in kinds {
        level = level.max(classify_kind(kind));
        if level == Classification::Restricted {
            break;
        }
    }
    level
}

#[cfg(test)]
mod tests {
    use super::Classification::*;
    use super::*;

    #[test]
    fn nothing_is_public() {
        assert_eq!(classify([]), Public);
        assert_eq!(classify(Vec::<&str>::new()), Public);
    }

    #[test]
    fn every_restricted_kind_alone() {
        for k in restricted_kinds() {
            assert_eq!(classify([k]), Restricted, "{k}");
            assert_eq!(classify_kind(k), Restricted, "{k}");
        }
    }

    #[test]
    fn every_confidential_kind_alone() {
        for k in CONFIDENTIAL_KINDS {
            assert_eq!(classify([k]), Confidential, "{k}");
        }
    }

    #[test]
    fn every_internal_kind_alone() {
        for k in INTERNAL_KINDS {
            assert_eq!(classify([k]), Internal, "{k}");
        }
        assert_eq!(classify(["PROMPT_INJECTION"]), Internal);
    }

    #[test]
    fn unknown_kind_is_internal_not_public() {
        assert_eq!(classify(["SOMETHING_NEW"]), Internal);
        assert_eq!(classify([""]), Internal);
        // Kinds are exact upper snake case.
        assert_eq!(classify(["email"]), Internal);
    }

    #[test]
    fn highest_level_wins_in_any_order() {
        for (kinds, want) in [
            (vec!["EMAIL", "PROMPT_INJECTION"], Confidential),
            (vec!["PROMPT_INJECTION", "EMAIL"], Confidential),
            (
                vec!["HOMOGLYPH", "IP_ADDRESS", "AWS_ACCESS_KEY"],
                Restricted,
            ),
            (
                vec!["AWS_ACCESS_KEY", "IP_ADDRESS", "HOMOGLYPH"],
                Restricted,
            ),
            (vec!["CREDIT_CARD", "EMAIL"], Restricted),
            (vec!["BIDI_CONTROL", "TAG_CHARACTER"], Internal),
            (
                vec!["PHONE_NUMBER", "MAC_ADDRESS", "DATE_OF_BIRTH"],
                Confidential,
            ),
            (vec!["EMAIL", "EMAIL", "EMAIL"], Confidential),
        ] {
            assert_eq!(classify(kinds.iter().copied()), want, "{kinds:?}");
        }
    }

    #[test]
    fn every_pair_is_the_max_of_its_parts() {
        let all: Vec<&str> = restricted_kinds()
            .chain(CONFIDENTIAL_KINDS.iter().copied())
            .chain(INTERNAL_KINDS.iter().copied())
            .collect();
        for a in &all {
            for b in &all {
                assert_eq!(classify([*a, *b]), classify_kind(a).max(classify_kind(b)));
            }
        }
    }

    #[test]
    fn lists_are_disjoint() {
        for k in restricted_kinds() {
            assert!(
                !CONFIDENTIAL_KINDS.contains(&k) && !INTERNAL_KINDS.contains(&k),
                "{k}"
            );
        }
        for k in CONFIDENTIAL_KINDS {
            assert!(!INTERNAL_KINDS.contains(&k), "{k}");
        }
    }

    #[test]
    fn works_on_findings() {
        let findings = [super::super::Finding::new("EMAIL", 0, 3)];
        assert_eq!(classify(findings.iter().map(|f| f.kind)), Confidential);
    }

    #[test]
    fn as_str_and_order() {
        assert_eq!(Public.as_str(), "PUBLIC");
        assert_eq!(Internal.as_str(), "INTERNAL");
        assert_eq!(Confidential.as_str(), "CONFIDENTIAL");
        assert_eq!(Restricted.as_str(), "RESTRICTED");
        assert_eq!(Restricted.to_string(), "RESTRICTED");
        assert!(Public < Internal && Internal < Confidential && Confidential < Restricted);
    }
}
