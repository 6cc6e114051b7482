//! The kinds of things the detectors and the governance steps find, and what family each
//! belongs to. A finding carries one of these, never a free string; the audit trail and the
//! policy input record its stored name (`as_str`), which never changes once released.

/// What a detector (or a governance step) found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EntityKind {
    // PII (detect_pii)
    Email,
    PhoneNumber,
    CreditCard,
    Iban,
    UsSsn,
    IpAddress,
    MacAddress,
    DateOfBirth,
    // Secrets (detect_secrets)
    AwsAccessKey,
    AwsSecretKey,
    GithubToken,
    GitlabToken,
    SlackToken,
    StripeKey,
    GoogleApiKey,
    OpenaiApiKey,
    AnthropicApiKey,
    Jwt,
    PrivateKey,
    Password,
    ConnectionString,
    GenericSecret,
    // Prompt injection (detect_injection): the verdict and its signals
    PromptInjection,
    InstructionOverride,
    RoleHijack,
    PromptExtraction,
    DelimiterInjection,
    EncodingTrick,
    // Unicode tricks (detect_unicode)
    InvisibleCharacter,
    BidiControl,
    TagCharacter,
    Homoglyph,
    // Governance: what the other steps record
    ToolDenied,
    UnscannedPart,
    OpaquePart,
    UnscannedEvent,
    RateLimit,
}

/// Which detector reports a kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Pii,
    Secret,
    Injection,
    Unicode,
    Governance,
}

impl EntityKind {
    pub const ALL: [EntityKind; 37] = {
        use EntityKind::*;
        [
            Email,
            PhoneNumber,
            CreditCard,
            Iban,
            UsSsn,
            IpAddress,
            MacAddress,
            DateOfBirth,
            AwsAccessKey,
            AwsSecretKey,
            GithubToken,
            GitlabToken,
            SlackToken,
            StripeKey,
            GoogleApiKey,
            OpenaiApiKey,
            AnthropicApiKey,
            Jwt,
            PrivateKey,
            Password,
            ConnectionString,
            GenericSecret,
            PromptInjection,
            InstructionOverride,
            RoleHijack,
            PromptExtraction,
            DelimiterInjection,
            EncodingTrick,
            InvisibleCharacter,
            BidiControl,
            TagCharacter,
            Homoglyph,
            ToolDenied,
            UnscannedPart,
            OpaquePart,
            UnscannedEvent,
            RateLimit,
        ]
    };

    /// The stored name (audit trail, policy input, configuration, placeholders).
    pub fn as_str(self) -> &'static str {
        use EntityKind::*;
        match self {
            Email => "EMAIL",
            PhoneNumber => "PHONE_NUMBER",
            CreditCard => "CREDIT_CARD",
            Iban => "IBAN",
            UsSsn => "US_SSN",
            IpAddress => "IP_ADDRESS",
            MacAddress => "MAC_ADDRESS",
            DateOfBirth => "DATE_OF_BIRTH",
            AwsAccessKey => "AWS_ACCESS_KEY",
            AwsSecretKey => "AWS_SECRET_KEY",
            GithubToken => "GITHUB_TOKEN",
            GitlabToken => "GITLAB_TOKEN",
            SlackToken => "SLACK_TOKEN",
            StripeKey => "STRIPE_KEY",
            GoogleApiKey => "GOOGLE_API_KEY",
            OpenaiApiKey => "OPENAI_API_KEY",
            AnthropicApiKey => "ANTHROPIC_API_KEY",
            Jwt => "JWT",
            PrivateKey => "PRIVATE_KEY",
            Password => "PASSWORD",
            ConnectionString => "CONNECTION_STRING",
            GenericSecret => "GENERIC_SECRET",
            PromptInjection => "PROMPT_INJECTION",
            InstructionOverride => "INSTRUCTION_OVERRIDE",
            RoleHijack => "ROLE_HIJACK",
            PromptExtraction => "PROMPT_EXTRACTION",
            DelimiterInjection => "DELIMITER_INJECTION",
            EncodingTrick => "ENCODING_TRICK",
            InvisibleCharacter => "INVISIBLE_CHARACTER",
            BidiControl => "BIDI_CONTROL",
            TagCharacter => "TAG_CHARACTER",
            Homoglyph => "HOMOGLYPH",
            ToolDenied => "TOOL_DENIED",
            UnscannedPart => "UNSCANNED_PART",
            OpaquePart => "OPAQUE_PART",
            UnscannedEvent => "UNSCANNED_EVENT",
            RateLimit => "RATE_LIMIT",
        }
    }

    pub fn parse(name: &str) -> Option<EntityKind> {
        EntityKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn family(self) -> Family {
        use EntityKind::*;
        match self {
            Email | PhoneNumber | CreditCard | Iban | UsSsn | IpAddress | MacAddress
            | DateOfBirth => Family::Pii,
            AwsAccessKey | AwsSecretKey | GithubToken | GitlabToken | SlackToken | StripeKey
            | GoogleApiKey | OpenaiApiKey | AnthropicApiKey | Jwt | PrivateKey | Password
            | ConnectionString | GenericSecret => Family::Secret,
            PromptInjection | InstructionOverride | RoleHijack | PromptExtraction
            | DelimiterInjection | EncodingTrick => Family::Injection,
            InvisibleCharacter | BidiControl | TagCharacter | Homoglyph => Family::Unicode,
            ToolDenied | UnscannedPart | OpaquePart | UnscannedEvent | RateLimit => {
                Family::Governance
            }
        }
    }

    /// The kinds of one family, in `ALL` order.
    pub fn of(family: Family) -> impl Iterator<Item = EntityKind> {
        EntityKind::ALL
            .into_iter()
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
        for k in EntityKind::ALL {
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
        assert_eq!(EntityKind::of(Family::Pii).count(), 8);
        assert_eq!(EntityKind::of(Family::Secret).count(), 14);
    }
}
