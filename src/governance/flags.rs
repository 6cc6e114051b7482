//! Governance flags: the per-request `X-TapPass-Flags` header (product.md, "Governance flags").
//!
//! `mode=observe, pii=mask, email=internal:co.com` — comma-separated `key=value` pairs. Parsing
//! is strict: an unknown key, a bad value, or a key given twice is an error naming the token, so
//! an agent never believes a setting applied that did not. Pure code, fuzzed.

use std::fmt;

/// How hard the pipeline enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// Log would-be blocks, block nothing.
    Observe,
    /// Let requests through with a warning header.
    Warn,
    Enforce,
    /// Enforce, and treat every finding as a block.
    Lockdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PiiAction {
    Off,
    Flag,
    Mask,
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretsAction {
    Flag,
    Redact,
    Block,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailPolicy {
    Allow,
    /// Copy outgoing mail to this address.
    Mirror(String),
    /// Only addresses in this domain.
    Internal(String),
    Block,
}

/// Budget presets; `Custom` in integer micro-USD (per call, per session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetFlag {
    Unlimited,
    Dev,
    Standard,
    Custom {
        per_call_micros: u64,
        per_session_micros: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolsPolicy {
    Log,
    Allowlist(Vec<String>),
    Denylist(Vec<String>),
    Block,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FilesPolicy {
    Allow,
    Project,
    ReadOnly,
    Block,
}

/// The effective flags of a request. `Default` is product.md's defaults (in bold there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flags {
    pub mode: Mode,
    pub pii: PiiAction,
    pub secrets: SecretsAction,
    pub email: EmailPolicy,
    pub budget: BudgetFlag,
    pub tools: ToolsPolicy,
    pub files: FilesPolicy,
}

impl Default for Flags {
    fn default() -> Self {
        Flags {
            mode: Mode::Enforce,
            pii: PiiAction::Off,
            secrets: SecretsAction::Redact,
            email: EmailPolicy::Allow,
            budget: BudgetFlag::Unlimited,
            tools: ToolsPolicy::Log,
            files: FilesPolicy::Allow,
        }
    }
}

impl Flags {
    /// Each flag and its value in the header's syntax, in `KEYS` order.
    pub fn pairs(&self) -> [(&'static str, String); 7] {
        let mode = match self.mode {
            Mode::Observe => "observe",
            Mode::Warn => "warn",
            Mode::Enforce => "enforce",
            Mode::Lockdown => "lockdown",
        };
        let pii = match self.pii {
            PiiAction::Off => "off",
            PiiAction::Flag => "flag",
            PiiAction::Mask => "mask",
            PiiAction::Block => "block",
        };
        let secrets = match self.secrets {
            SecretsAction::Flag => "flag",
            SecretsAction::Redact => "redact",
            SecretsAction::Block => "block",
        };
        let email = match &self.email {
            EmailPolicy::Allow => "allow".to_string(),
            EmailPolicy::Block => "block".to_string(),
            EmailPolicy::Mirror(a) => format!("mirror:{a}"),
            EmailPolicy::Internal(d) => format!("internal:{d}"),
        };
        let budget = match self.budget {
            BudgetFlag::Unlimited => "unlimited".to_string(),
            BudgetFlag::Dev => "dev".to_string(),
            BudgetFlag::Standard => "standard".to_string(),
            BudgetFlag::Custom {
                per_call_micros,
                per_session_micros,
            } => format!(
                "custom:{}:{}",
                usd_text(per_call_micros),
                usd_text(per_session_micros)
            ),
        };
        let tools = match &self.tools {
            ToolsPolicy::Log => "log".to_string(),
            ToolsPolicy::Block => "block".to_string(),
            ToolsPolicy::Allowlist(t) => format!("allowlist:{}", t.join(":")),
            ToolsPolicy::Denylist(t) => format!("denylist:{}", t.join(":")),
        };
        let files = match self.files {
            FilesPolicy::Allow => "allow",
            FilesPolicy::Project => "project",
            FilesPolicy::ReadOnly => "read_only",
            FilesPolicy::Block => "block",
        };
        [
            ("mode", mode.to_string()),
            ("pii", pii.to_string()),
            ("secrets", secrets.to_string()),
            ("email", email),
            ("budget", budget),
            ("tools", tools),
            ("files", files.to_string()),
        ]
    }
}

/// Micro-USD as a decimal USD amount that `usd_micros` reads back exactly.
fn usd_text(micros: u64) -> String {
    format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000)
}

impl fmt::Display for Flags {
    /// In the header's own syntax, e.g. `mode=enforce, pii=mask, …`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text: Vec<String> = self
            .pairs()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        f.write_str(&text.join(", "))
    }
}

/// Flag names, in the order the header documents them.
pub const KEYS: [&str; 7] = [
    "mode", "pii", "secrets", "email", "budget", "tools", "files",
];

/// A parse error naming the offending token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlagError {
    pub token: String,
    pub message: String,
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "X-TapPass-Flags: `{}`: {}", self.token, self.message)
    }
}

/// The flags a request set explicitly (unset keys stay `None`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlagSet {
    pub mode: Option<Mode>,
    pub pii: Option<PiiAction>,
    pub secrets: Option<SecretsAction>,
    pub email: Option<EmailPolicy>,
    pub budget: Option<BudgetFlag>,
    pub tools: Option<ToolsPolicy>,
    pub files: Option<FilesPolicy>,
}

const MAX_HEADER: usize = 4096;
const MAX_TOOLS: usize = 64;

/// Parses a header value.
pub fn parse(header: &str) -> Result<FlagSet, FlagError> {
    let err = |token: &str, message: String| FlagError {
        token: token.chars().take(80).collect(),
        message,
    };
    if header.len() > MAX_HEADER {
        return Err(err("", format!("longer than {MAX_HEADER} bytes")));
    }
    let mut set = FlagSet::default();
    for raw in header.split(',') {
        let token = raw.trim();
        if token.is_empty() {
            continue;
        }
        let Some((key, value)) = token.split_once('=') else {
            return Err(err(token, "expected key=value".into()));
        };
        let (key, value) = (key.trim(), value.trim());
        let bad = |what: &str| err(token, format!("invalid value for {key} (expected {what})"));
        let dup = || err(token, format!("{key} given twice"));
        match key {
            "mode" => {
                let v = match value {
                    "observe" => Mode::Observe,
                    "warn" => Mode::Warn,
                    "enforce" => Mode::Enforce,
                    "lockdown" => Mode::Lockdown,
                    _ => return Err(bad("observe, warn, enforce or lockdown")),
                };
                if set.mode.replace(v).is_some() {
                    return Err(dup());
                }
            }
            "pii" => {
                let v = match value {
                    "mask" => PiiAction::Mask,
                    "block" => PiiAction::Block,
                    "flag" => PiiAction::Flag,
                    "off" => PiiAction::Off,
                    _ => return Err(bad("mask, block, flag or off")),
                };
                if set.pii.replace(v).is_some() {
                    return Err(dup());
                }
            }
            "secrets" => {
                let v = match value {
                    "redact" => SecretsAction::Redact,
                    "block" => SecretsAction::Block,
                    "flag" => SecretsAction::Flag,
                    _ => return Err(bad("redact, block or flag")),
                };
                if set.secrets.replace(v).is_some() {
                    return Err(dup());
                }
            }
            "email" => {
                let v = match value.split_once(':') {
                    None if value == "allow" => EmailPolicy::Allow,
                    None if value == "block" => EmailPolicy::Block,
                    Some(("mirror", addr)) if valid_address(addr) => {
                        EmailPolicy::Mirror(addr.to_ascii_lowercase())
                    }
                    Some(("internal", domain)) if valid_domain(domain) => {
                        EmailPolicy::Internal(domain.to_ascii_lowercase())
                    }
                    _ => return Err(bad("allow, block, mirror:ADDRESS or internal:DOMAIN")),
                };
                if set.email.replace(v).is_some() {
                    return Err(dup());
                }
            }
            "budget" => {
                let v = match value {
                    "unlimited" => BudgetFlag::Unlimited,
                    "dev" => BudgetFlag::Dev,
                    "standard" => BudgetFlag::Standard,
                    _ => {
                        let parts: Vec<&str> = value.split(':').collect();
                        match parts.as_slice() {
                            ["custom", call, session] => {
                                match (usd_micros(call), usd_micros(session)) {
                                    (Some(c), Some(s)) => BudgetFlag::Custom {
                                        per_call_micros: c,
                                        per_session_micros: s,
                                    },
                                    _ => return Err(bad(
                                        "custom:PER_CALL_USD:PER_SESSION_USD, e.g. custom:0.05:2",
                                    )),
                                }
                            }
                            _ => {
                                return Err(bad(
                                    "dev, standard, unlimited or custom:PER_CALL:PER_SESSION",
                                ))
                            }
                        }
                    }
                };
                if set.budget.replace(v).is_some() {
                    return Err(dup());
                }
            }
            "tools" => {
                let v = match value.split_once(':') {
                    None if value == "log" => ToolsPolicy::Log,
                    None if value == "block" => ToolsPolicy::Block,
                    Some((kind @ ("allowlist" | "denylist"), names)) => {
                        let names: Vec<String> = names.split(':').map(str::to_string).collect();
                        if names.len() > MAX_TOOLS || !names.iter().all(|n| valid_tool(n)) {
                            return Err(bad("tool names of A-Z a-z 0-9 _ - . (at most 64)"));
                        }
                        if kind == "allowlist" {
                            ToolsPolicy::Allowlist(names)
                        } else {
                            ToolsPolicy::Denylist(names)
                        }
                    }
                    _ => return Err(bad("log, block, allowlist:T1:T2 or denylist:T1")),
                };
                if set.tools.replace(v).is_some() {
                    return Err(dup());
                }
            }
            "files" => {
                let v = match value {
                    "read_only" => FilesPolicy::ReadOnly,
                    "project" => FilesPolicy::Project,
                    "block" => FilesPolicy::Block,
                    "allow" => FilesPolicy::Allow,
                    _ => return Err(bad("read_only, project, block or allow")),
                };
                if set.files.replace(v).is_some() {
                    return Err(dup());
                }
            }
            _ => {
                return Err(err(
                    token,
                    format!(
                        "unknown flag `{key}` (expected one of: {})",
                        KEYS.join(", ")
                    ),
                ))
            }
        }
    }
    Ok(set)
}

fn valid_tool(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

fn valid_domain(d: &str) -> bool {
    d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

fn valid_address(a: &str) -> bool {
    match a.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && local.len() <= 64
                && local
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b))
                && valid_domain(domain)
        }
        None => false,
    }
}

/// `0.05` → 50_000 micro-USD. At most 6 decimals, at most $1,000,000.
pub fn usd_micros(s: &str) -> Option<u64> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if whole.len() > 7 || frac.len() > 6 {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac_micros: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse().ok()?
    };
    let v = whole.checked_mul(1_000_000)?.checked_add(frac_micros)?;
    (v <= 1_000_000 * 1_000_000).then_some(v)
}

impl BudgetFlag {
    /// Limits (per call, per session) in micro-USD; `None` = no limit. `dev` and `standard` are
    /// the product's presets.
    pub fn limits(self) -> (Option<u64>, Option<u64>) {
        match self {
            BudgetFlag::Unlimited => (None, None),
            BudgetFlag::Dev => (Some(50_000), Some(1_000_000)),
            BudgetFlag::Standard => (Some(500_000), Some(20_000_000)),
            BudgetFlag::Custom {
                per_call_micros,
                per_session_micros,
            } => (Some(per_call_micros), Some(per_session_micros)),
        }
    }
}

/// A flag's name: what grants and locks are about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FlagName {
    Mode,
    Pii,
    Secrets,
    Email,
    Budget,
    Tools,
    Files,
}

impl FlagName {
    /// Every flag, in the header's documented order.
    pub const ALL: [FlagName; 7] = [
        FlagName::Mode,
        FlagName::Pii,
        FlagName::Secrets,
        FlagName::Email,
        FlagName::Budget,
        FlagName::Tools,
        FlagName::Files,
    ];

    pub fn as_str(self) -> &'static str {
        KEYS[self as usize]
    }

    pub fn parse(name: &str) -> Option<FlagName> {
        FlagName::ALL.into_iter().find(|f| f.as_str() == name)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// The flags a request may *loosen* (set below the server's effective value). Tightening needs
/// no grant. Nothing is granted by default: a governed agent cannot switch governance down; an
/// operator grants loosening globally (`[flags] grant`) or per agent (the agent's
/// `flag_grants`, admin API / `tappass agents grant`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grants(u8);

impl Grants {
    pub const NONE: Grants = Grants(0);
    /// Every flag (for the operator's own `[flags] defaults`, never for a request by default).
    pub const ALL: Grants = Grants(0x7f);

    pub fn contains(self, f: FlagName) -> bool {
        self.0 & f.bit() != 0
    }

    pub fn with(self, f: FlagName) -> Grants {
        Grants(self.0 | f.bit())
    }

    pub fn union(self, other: Grants) -> Grants {
        Grants(self.0 | other.0)
    }

    /// Granted flag names, in `KEYS` order.
    pub fn names(self) -> Vec<&'static str> {
        FlagName::ALL
            .into_iter()
            .filter(|f| self.contains(*f))
            .map(FlagName::as_str)
            .collect()
    }

    /// Parses flag names (`mode`, `pii`, …); the error names the first unknown one.
    pub fn parse<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<Grants, String> {
        let mut g = Grants::NONE;
        for raw in names {
            let name = raw.trim();
            if name.is_empty() {
                continue;
            }
            let f = FlagName::parse(name).ok_or_else(|| {
                format!(
                    "unknown flag `{}` (expected some of: {})",
                    name.chars().take(40).collect::<String>(),
                    KEYS.join(", ")
                )
            })?;
            g = g.with(f);
        }
        Ok(g)
    }

    /// Parses the comma-separated form of the configuration (`"mode, pii"`).
    pub fn parse_list(text: &str) -> Result<Grants, String> {
        Grants::parse(text.split(','))
    }
}

/// Strictness: a total order per flag on what the setting lets through. A requested value that
/// is not [`at_least_as_strict`](Strictness::at_least_as_strict) as the effective one is a
/// *loosening*, applied only when granted.
pub trait Strictness {
    /// Does `self` let through nothing that `current` would refuse?
    fn at_least_as_strict(&self, current: &Self) -> bool;
}

macro_rules! ordered_strictness {
    ($($t:ty),*) => {$(
        impl Strictness for $t {
            fn at_least_as_strict(&self, current: &Self) -> bool {
                self >= current
            }
        }
    )*};
}
ordered_strictness!(Mode, PiiAction, SecretsAction, FilesPolicy);

impl Strictness for EmailPolicy {
    /// `allow` < `mirror:A` < `internal:D` < `block`; another address or domain at the same
    /// rank is a loosening (it sends mail somewhere the server did not choose).
    fn at_least_as_strict(&self, current: &Self) -> bool {
        fn rank(e: &EmailPolicy) -> u8 {
            match e {
                EmailPolicy::Allow => 0,
                EmailPolicy::Mirror(_) => 1,
                EmailPolicy::Internal(_) => 2,
                EmailPolicy::Block => 3,
            }
        }
        self == current || rank(self) > rank(current)
    }
}

impl Strictness for BudgetFlag {
    /// Neither the per-call nor the per-session limit may rise (no limit is the highest).
    fn at_least_as_strict(&self, current: &Self) -> bool {
        let (cc, cs) = current.limits();
        let (rc, rs) = self.limits();
        let le = |req: Option<u64>, cur: Option<u64>| match (req, cur) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(r), Some(c)) => r <= c,
        };
        le(rc, cc) && le(rs, cs)
    }
}

impl ToolsPolicy {
    /// May a tool of this name be used under this flag? (The server's `[tools]` lists apply on
    /// top, see `tool_permissions`.)
    pub fn permits(&self, tool: &str) -> bool {
        match self {
            ToolsPolicy::Log => true,
            ToolsPolicy::Block => false,
            ToolsPolicy::Allowlist(a) => a.iter().any(|t| t == tool),
            ToolsPolicy::Denylist(d) => !d.iter().any(|t| t == tool),
        }
    }
}

impl Strictness for ToolsPolicy {
    /// The set of tools the request's policy permits must be a subset of what the effective
    /// policy permits: an allowlist naming a denied tool, a shorter deny list, or `log` under
    /// any list is a loosening.
    fn at_least_as_strict(&self, current: &Self) -> bool {
        use ToolsPolicy::*;
        match (self, current) {
            (Block, _) | (_, Log) => true,
            (_, Block) | (Log, _) => false,
            (Allowlist(req), cur) => req.iter().all(|t| cur.permits(t)),
            (Denylist(req), Denylist(cur)) => cur.iter().all(|t| req.contains(t)),
            // A deny list permits unboundedly many names; an allow list only its own.
            (Denylist(_), Allowlist(_)) => false,
        }
    }
}

/// Server-side locks (`[flags] locked`): the locked value replaces the server default and is a
/// floor no grant can loosen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locks {
    pub set: FlagSet,
}

/// Applies a request's flags on top of `base` (the server's defaults), honouring `locks` and
/// `grants`. Returns the effective flags and the names of flags whose loosening was ignored.
pub fn apply(
    base: &Flags,
    locks: &Locks,
    grants: Grants,
    requested: &FlagSet,
) -> (Flags, Vec<&'static str>) {
    let mut out = base.clone();
    let mut ignored = Vec::new();
    let l = &locks.set;
    macro_rules! take {
        ($field:ident, $name:expr) => {
            if let Some(v) = &l.$field {
                out.$field = v.clone();
            }
            if let Some(v) = &requested.$field {
                let loosening_allowed = grants.contains($name) && l.$field.is_none();
                if loosening_allowed || v.at_least_as_strict(&out.$field) {
                    out.$field = v.clone();
                } else {
                    ignored.push($name.as_str());
                }
            }
        };
    }
    take!(mode, FlagName::Mode);
    take!(pii, FlagName::Pii);
    take!(secrets, FlagName::Secrets);
    take!(email, FlagName::Email);
    take!(budget, FlagName::Budget);
    take!(tools, FlagName::Tools);
    take!(files, FlagName::Files);
    (out, ignored)
}

#[cfg(test)]
#[path = "flags_tests.rs"]
mod tests;
