//! The kinds of things the detectors and the governance steps find, and what family each
//! belongs to. A finding carries one of these, never a free string; the audit trail and the
//! policy input record its stored name (`as_str`), which never changes once released.

/// Which detector reports a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Pii,
    Secret,
    Injection,
    Unicode,
    /// What the governance steps record (a denied tool, an unscanned part, a rate limit).
    Governance,
}

/// Declares `EntityKind` from one table: each variant once, with its stored name and family.
macro_rules! entity_kinds {
    ($($variant:ident = $name:literal, $family:ident;)*) => {
        /// What a detector (or a governance step) found.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum EntityKind {
            $($variant,)*
        }

        impl EntityKind {
            /// Every kind, in table order.
            pub const ALL: &'static [EntityKind] = &[$(EntityKind::$variant,)*];

            /// The stored name (audit trail, policy input, configuration, placeholders).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(EntityKind::$variant => $name,)*
                }
            }

            /// The detector that reports it.
            pub fn family(self) -> Family {
                match self {
                    $(EntityKind::$variant => Family::$family,)*
                }
            }
        }
    };
}

entity_kinds! {
    Email = "EMAIL", Pii;
    PhoneNumber = "PHONE_NUMBER", Pii;
    CreditCard = "CREDIT_CARD", Pii;
    Iban = "IBAN", Pii;
    UsSsn = "US_SSN", Pii;
    IpAddress = "IP_ADDRESS", Pii;
    MacAddress = "MAC_ADDRESS", Pii;
    DateOfBirth = "DATE_OF_BIRTH", Pii;
    NationalId = "NATIONAL_ID", Pii;
    VatId = "VAT_ID", Pii;
    PostalAddress = "POSTAL_ADDRESS", Pii;
    AwsAccessKey = "AWS_ACCESS_KEY", Secret;
    AwsSecretKey = "AWS_SECRET_KEY", Secret;
    GithubToken = "GITHUB_TOKEN", Secret;
    GitlabToken = "GITLAB_TOKEN", Secret;
    SlackToken = "SLACK_TOKEN", Secret;
    StripeKey = "STRIPE_KEY", Secret;
    GoogleApiKey = "GOOGLE_API_KEY", Secret;
    OpenaiApiKey = "OPENAI_API_KEY", Secret;
    AnthropicApiKey = "ANTHROPIC_API_KEY", Secret;
    Jwt = "JWT", Secret;
    PrivateKey = "PRIVATE_KEY", Secret;
    Password = "PASSWORD", Secret;
    ConnectionString = "CONNECTION_STRING", Secret;
    GenericSecret = "GENERIC_SECRET", Secret;
    PromptInjection = "PROMPT_INJECTION", Injection;
    InstructionOverride = "INSTRUCTION_OVERRIDE", Injection;
    RoleHijack = "ROLE_HIJACK", Injection;
    PromptExtraction = "PROMPT_EXTRACTION", Injection;
    DelimiterInjection = "DELIMITER_INJECTION", Injection;
    EncodingTrick = "ENCODING_TRICK", Injection;
    InjectionClassifier = "INJECTION_CLASSIFIER", Injection;
    InvisibleCharacter = "INVISIBLE_CHARACTER", Unicode;
    BidiControl = "BIDI_CONTROL", Unicode;
    TagCharacter = "TAG_CHARACTER", Unicode;
    Homoglyph = "HOMOGLYPH", Unicode;
    ToolDenied = "TOOL_DENIED", Governance;
    UnscannedPart = "UNSCANNED_PART", Governance;
    OpaquePart = "OPAQUE_PART", Governance;
    UnscannedEvent = "UNSCANNED_EVENT", Governance;
    RateLimit = "RATE_LIMIT", Governance;
}

impl EntityKind {
    pub fn parse(name: &str) -> Option<EntityKind> {
        EntityKind::ALL.iter().copied().find(|k| k.as_str() == name)
    }

    /// The kinds of one family, in `ALL` order.
    pub fn of(family: Family) -> impl Iterator<Item = EntityKind> {
        EntityKind::ALL
            .iter()
            .copied()
            .filter(move |k| k.family() == family)
    }
}

/// `EMAIL, IBAN`: kinds for a message.
pub fn joined(kinds: &[EntityKind]) -> String {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    names.join(", ")
}

impl std::fmt::Display for EntityKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_listed_once_and_round_trips_through_its_name() {
        let mut names: Vec<&str> = EntityKind::ALL.iter().map(|k| k.as_str()).collect();
        for &k in EntityKind::ALL {
            assert_eq!(EntityKind::parse(k.as_str()), Some(k));
            assert_eq!(k.to_string(), k.as_str());
            let upper_snake = k
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_');
            assert!(upper_snake, "{k:?}");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EntityKind::ALL.len());
        assert_eq!(EntityKind::parse("email"), None);
    }

    #[test]
    fn families_partition_the_kinds() {
        let total: usize = [
            Family::Pii,
            Family::Secret,
            Family::Injection,
            Family::Unicode,
            Family::Governance,
        ]
        .into_iter()
        .map(|f| EntityKind::of(f).count())
        .sum();
        assert_eq!(total, EntityKind::ALL.len());
        assert_eq!(EntityKind::of(Family::Pii).count(), 11);
        assert_eq!(EntityKind::of(Family::Secret).count(), 14);
    }
}
