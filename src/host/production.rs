//! "PRODUCTION UNSAFE": with `[server] environment = "production"` (the packages' setting),
//! what makes this daemon unfit for production is named — in the journal at start, in
//! `STATUS=`, on `/health` and by `tappass doctor` — instead of being silently accepted.
//! The assessment is pure: the caller gathers where each secret came from and what the
//! sandbox achieved.

use serde::Serialize;

use crate::config::Environment;
use crate::host::sandbox::Enforcement;
use crate::secrets::Source;

/// What the assessment looks at.
#[derive(Debug, Clone)]
pub struct Inputs<'a> {
    pub environment: Environment,
    /// Each provider's key source (`None`: no key).
    pub provider_keys: Vec<(&'a str, Option<Source>)>,
    /// The configured admin key's source and the key itself (`None`: the generated first key).
    pub admin_key: Option<(Source, &'a str)>,
    pub mock_provider: bool,
    pub sandbox: Enforcement,
}

/// One reason the daemon is unsafe for production, with the fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unsafe {
    /// `secret`, `weak_admin_key`, `mock_provider`, `sandbox`.
    pub kind: &'static str,
    pub detail: String,
    pub fix: String,
}

/// Shortest admin key accepted as strong (a generated `tp_` key is 3 + 43 characters).
pub const MIN_ADMIN_KEY_LEN: usize = 32;
/// Fewest distinct characters in a strong admin key (rules out `aaaa…` and `abab…`).
const MIN_DISTINCT: usize = 12;

/// Why `key` is weak, if it is.
pub fn weak_admin_key(key: &str) -> Option<String> {
    let len = key.chars().count();
    let distinct = key.chars().collect::<std::collections::BTreeSet<_>>().len();
    if len < MIN_ADMIN_KEY_LEN {
        Some(format!(
            "{len} characters (at least {MIN_ADMIN_KEY_LEN} are required)"
        ))
    } else if distinct < MIN_DISTINCT {
        Some(format!(
            "only {distinct} distinct characters (a repeated pattern)"
        ))
    } else {
        None
    }
}

/// The reasons, in a fixed order; empty in development or when everything is right.
pub fn assess(i: &Inputs<'_>) -> Vec<Unsafe> {
    if i.environment != Environment::Production {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (name, source) in &i.provider_keys {
        if let Some(s @ (Source::Config | Source::Environment)) = source {
            out.push(Unsafe {
                kind: "secret",
                detail: format!("the {name} provider key comes from the {}", where_(*s)),
                fix: format!(
                    "make it the systemd credential {name}-api-key \
                     (/usr/share/doc/tappass/examples/credentials.conf.example) and remove it \
                     from the {}",
                    where_(*s)
                ),
            });
        }
    }
    if let Some((source, key)) = i.admin_key {
        if source != Source::Credential {
            out.push(Unsafe {
                kind: "secret",
                detail: format!("the admin key comes from the {}", where_(source)),
                fix: "make it the systemd credential admin-api-key and unset \
                      TAPPASS_ADMIN_API_KEY"
                    .to_owned(),
            });
        }
        if let Some(why) = weak_admin_key(key) {
            out.push(Unsafe {
                kind: "weak_admin_key",
                detail: format!("the configured admin key is weak: {why}"),
                fix: "use a random key of 32+ characters, e.g. \
                      `openssl rand -base64 33 | tr -d '\\n'`, as the credential admin-api-key"
                    .to_owned(),
            });
        }
    }
    if i.mock_provider {
        out.push(Unsafe {
            kind: "mock_provider",
            detail: "the built-in mock provider is enabled (models mock/… answer without a \
                     provider)"
                .to_owned(),
            fix: "set [server] mock_provider = false in /etc/tappass/tappass.toml".to_owned(),
        });
    }
    if i.sandbox != Enforcement::Full {
        out.push(Unsafe {
            kind: "sandbox",
            detail: format!("the sandbox is {}", i.sandbox.as_str()),
            fix: "run on Linux 6.12+ (landlock ABI 6) and set [sandbox] require = true \
                  (tappass doctor, tappass sandbox check)"
                .to_owned(),
        });
    }
    out
}

fn where_(s: Source) -> &'static str {
    match s {
        Source::Credential => "systemd credential",
        Source::Config => "configuration file",
        Source::Environment => "process environment",
    }
}

/// The `STATUS=` / log summary: `PRODUCTION UNSAFE: a; b`.
pub fn summary(reasons: &[Unsafe]) -> Option<String> {
    (!reasons.is_empty()).then(|| {
        format!(
            "PRODUCTION UNSAFE: {}",
            reasons
                .iter()
                .map(|r| r.detail.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRONG: &str = "tp_admin_Zq8x2LmP0vB7nR4tY6uW1eK9sD3fG5hJ";

    fn safe() -> Inputs<'static> {
        Inputs {
            environment: Environment::Production,
            provider_keys: vec![("openai", Some(Source::Credential)), ("anthropic", None)],
            admin_key: Some((Source::Credential, STRONG)),
            mock_provider: false,
            sandbox: Enforcement::Full,
        }
    }

    #[test]
    fn a_safe_production_setup_has_no_reason() {
        assert_eq!(assess(&safe()), vec![]);
        assert_eq!(summary(&[]), None);
        let mut generated = safe();
        generated.admin_key = None;
        assert_eq!(assess(&generated), vec![]);
    }

    #[test]
    fn development_never_reports() {
        let mut i = safe();
        i.environment = Environment::Development;
        i.mock_provider = true;
        i.sandbox = Enforcement::None;
        i.provider_keys = vec![("openai", Some(Source::Environment))];
        assert_eq!(assess(&i), vec![]);
    }

    #[test]
    fn each_reason_is_named_with_its_source_and_fix() {
        let mut i = safe();
        i.provider_keys = vec![
            ("openai", Some(Source::Environment)),
            ("anthropic", Some(Source::Config)),
            ("azure", Some(Source::Credential)),
        ];
        i.admin_key = Some((Source::Environment, "short"));
        i.mock_provider = true;
        i.sandbox = Enforcement::Partial;
        let r = assess(&i);
        let kinds: Vec<&str> = r.iter().map(|u| u.kind).collect();
        assert_eq!(
            kinds,
            [
                "secret",
                "secret",
                "secret",
                "weak_admin_key",
                "mock_provider",
                "sandbox"
            ]
        );
        assert!(r[0].detail.contains("openai") && r[0].detail.contains("process environment"));
        assert!(r[1].detail.contains("anthropic") && r[1].detail.contains("configuration file"));
        assert!(r[1].fix.contains("anthropic-api-key"));
        assert!(r[2].detail.contains("admin key"));
        assert!(r[3].detail.contains("5 characters"));
        assert!(r[5].detail.contains("partially"));
        let line = summary(&r).unwrap();
        assert!(
            line.starts_with("PRODUCTION UNSAFE: the openai provider key"),
            "{line}"
        );
        assert!(!line.contains("short"), "never the key itself: {line}");
    }

    #[test]
    fn weak_keys() {
        assert!(weak_admin_key(STRONG).is_none());
        assert!(weak_admin_key("x").unwrap().contains("1 characters"));
        assert!(weak_admin_key(&"ab".repeat(20))
            .unwrap()
            .contains("distinct"));
        assert!(weak_admin_key(&"a".repeat(64)).is_some());
        // A generated key: tp_ + 43 base64url characters.
        assert!(weak_admin_key("tp_3q2-7wEAAAAAAAAAaGVsbG8td29ybGQtdGFwcGFzcw").is_none());
    }
}
