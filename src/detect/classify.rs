//! Data classification: the sensitivity level of a text, from the kinds of the findings the
//! detectors reported on it. The highest level any kind maps to wins.
//!
//! - `RESTRICTED`: a secret (credentials, keys, tokens) or regulated financial/identity data
//!   (credit card, US SSN, an EU national id, IBAN).
//! - `CONFIDENTIAL`: personal data (e-mail, phone number, date of birth, postal address, IP and
//!   MAC address) and business identifiers (VAT id).
//! - `INTERNAL`: only signals about the text itself (prompt injection, unicode tricks) — and,
//!   deliberately, any kind this table does not know yet: something was found, so the text is
//!   never reported as `PUBLIC`, but an unknown kind is not escalated either.
//! - `PUBLIC`: nothing found.

use super::{EntityKind, Family};

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

/// The level of one kind. Governance records (a denied tool, an unscanned part) are signals
/// about the request, like injection and unicode findings: `INTERNAL`.
pub fn classify_kind(kind: EntityKind) -> Classification {
    use EntityKind::*;
    match kind.family() {
        Family::Secret => Classification::Restricted,
        Family::Pii => match kind {
            CreditCard | UsSsn | NationalId | Iban => Classification::Restricted,
            _ => Classification::Confidential,
        },
        Family::Injection | Family::Unicode | Family::Governance => Classification::Internal,
    }
}

/// The level of a stored kind name: one this build does not know counts as `INTERNAL` (see
/// the module doc).
pub fn classify_name(name: &str) -> Classification {
    EntityKind::parse(name).map_or(Classification::Internal, classify_kind)
}

pub fn classify(kinds: impl IntoIterator<Item = EntityKind>) -> Classification {
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
    }

    #[test]
    fn every_kind_alone_has_its_familys_level() {
        use EntityKind::*;
        for &k in EntityKind::ALL {
            let want = match k.family() {
                Family::Secret => Restricted,
                Family::Pii if matches!(k, CreditCard | UsSsn | NationalId | Iban) => Restricted,
                Family::Pii => Confidential,
                _ => Internal,
            };
            assert_eq!(classify([k]), want, "{k}");
            assert_eq!(classify_name(k.as_str()), want, "{k}");
        }
    }

    #[test]
    fn unknown_stored_name_is_internal_not_public() {
        assert_eq!(classify_name("SOMETHING_NEW"), Internal);
        assert_eq!(classify_name(""), Internal);
        // Names are exact upper snake case.
        assert_eq!(classify_name("email"), Internal);
    }

    #[test]
    fn highest_level_wins_in_any_order() {
        use EntityKind::*;
        for (kinds, want) in [
            (vec![Email, PromptInjection], Confidential),
            (vec![PromptInjection, Email], Confidential),
            (vec![Homoglyph, IpAddress, AwsAccessKey], Restricted),
            (vec![AwsAccessKey, IpAddress, Homoglyph], Restricted),
            (vec![CreditCard, Email], Restricted),
            (vec![Email, NationalId], Restricted),
            (vec![VatId, PostalAddress], Confidential),
            (vec![BidiControl, TagCharacter], Internal),
            (vec![PhoneNumber, MacAddress, DateOfBirth], Confidential),
            (vec![Email, Email, Email], Confidential),
        ] {
            assert_eq!(classify(kinds.iter().copied()), want, "{kinds:?}");
        }
    }

    #[test]
    fn every_pair_is_the_max_of_its_parts() {
        for &a in EntityKind::ALL {
            for &b in EntityKind::ALL {
                assert_eq!(classify([a, b]), classify_kind(a).max(classify_kind(b)));
            }
        }
    }

    #[test]
    fn works_on_findings() {
        let findings = [super::super::Finding::new(EntityKind::Email, 0, 3)];
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
