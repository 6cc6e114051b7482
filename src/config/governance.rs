//! Governance configuration: `[pipeline]`, `[flags]`, `[limits]`, `[budgets]`, `[prices]`,
//! `[redis]`, `[policy]`, `[tools]`. These sections are hot-reloadable (SIGHUP, admin API).
//!
//! Unset step settings come from the preset; money is written in USD (a TOML number) and held
//! as integer micro-USD.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer};

/// `[pipeline] preset`: a starting point for every step's action.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Log findings, redact secrets; blocks nothing but secrets' exposure.
    Starter,
    /// Mask PII, redact secrets, block prompt injection and smuggled characters.
    #[default]
    Standard,
    /// Block PII and secrets outright; stricter injection threshold.
    Regulated,
}

/// What a detection step does with what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepAction {
    /// Refuse the request (403 `policy_block`).
    Block,
    /// Replace each finding with a typed placeholder (`[MASKED_EMAIL]`).
    Mask,
    /// Replace each finding with `[REDACTED]`.
    Redact,
    /// Remove the offending characters (unicode).
    Strip,
    /// Record the finding in the audit event and continue.
    Log,
    /// Do not run the step.
    Off,
}

impl StepAction {
    pub fn as_str(self) -> &'static str {
        match self {
            StepAction::Block => "block",
            StepAction::Mask => "mask",
            StepAction::Redact => "redact",
            StepAction::Strip => "strip",
            StepAction::Log => "log",
            StepAction::Off => "off",
        }
    }
}

/// One detection step's settings (`[pipeline.<step>]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StepConfig {
    /// The action; unset = the preset's.
    pub action: Option<StepAction>,
    /// Score threshold (detect_injection), 0.0 ..= 1.0; unset = the preset's.
    pub threshold: Option<f64>,
    /// Only these entity types (detect_pii, detect_secrets); unset = all.
    pub entities: Option<Vec<String>>,
}

/// `[pipeline]`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PipelineConfig {
    pub preset: Preset,
    pub detect_pii: StepConfig,
    pub detect_secrets: StepConfig,
    pub detect_injection: StepConfig,
    pub detect_unicode: StepConfig,
    /// DLP on responses (streams included).
    pub scan_output: StepConfig,
    /// Restore values masked on the way in, for the same agent, on the way out.
    pub pii_restore: PiiRestoreConfig,
    /// Parts the detectors cannot read (unknown part types, files, audio, PDF documents).
    pub unscanned_parts: UnscannedParts,
}

/// `[pipeline] unscanned_parts`: what happens to a request part no detector can read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UnscannedParts {
    /// 400 naming the part (the default: every part is scanned, or the request is refused).
    #[default]
    Refuse,
    /// Forwarded unread, recorded in the audit event (`UNSCANNED_PART` detections).
    Pass,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PiiRestoreConfig {
    pub enabled: bool,
}

/// `[flags]`: server defaults and locks for `X-TapPass-Flags`, in the header's own syntax.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlagsConfig {
    /// Defaults for flags the request does not set, e.g. `"mode=enforce, budget=standard"`.
    /// (`pii` and `secrets` default to the detect steps' actions.)
    pub defaults: String,
    /// Values a request may tighten but never loosen, even when granted, e.g.
    /// `"mode=enforce, pii=mask"`. (Every flag is already locked at its default unless granted.)
    pub locked: String,
    /// Flags any agent may loosen below the server's value, e.g. `"mode, pii"`. Default none:
    /// a request can only tighten. Per-agent grants are the agent's `flag_grants`.
    pub grant: String,
}

/// `[limits]`: fixed-window rate limits. Unset = unlimited.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Window length in seconds (1 ..= 86400). Default 60.
    pub window_secs: u64,
    /// Requests per window per agent.
    pub agent_requests: Option<u64>,
    /// Tokens (prompt + completion) per window per agent.
    pub agent_tokens: Option<u64>,
    /// Requests per window for the whole gateway (all agents).
    pub org_requests: Option<u64>,
    /// Tokens per window for the whole gateway.
    pub org_tokens: Option<u64>,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            window_secs: 60,
            agent_requests: None,
            agent_tokens: None,
            org_requests: None,
            org_tokens: None,
        }
    }
}

/// Money in config: a USD number, held as integer micro-USD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Usd(pub u64);

impl<'de> Deserialize<'de> for Usd {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        usd_to_micros(v).map(Usd).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "invalid amount {v}: expected USD from 0 to 1000000 with at most 6 decimals"
            ))
        })
    }
}

/// `1.5` → 1_500_000. Rounds to the micro-dollar.
pub fn usd_to_micros(v: f64) -> Option<u64> {
    (v.is_finite() && (0.0..=1_000_000.0).contains(&v)).then(|| (v * 1_000_000.0).round() as u64)
}

/// `[budgets]`: per-agent spending limits in USD. Unset = unlimited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetsConfig {
    pub per_call_usd: Option<Usd>,
    pub per_session_usd: Option<Usd>,
    pub per_day_usd: Option<Usd>,
    pub per_month_usd: Option<Usd>,
    /// Completion tokens assumed for the reservation when a request sets no `max_tokens`.
    /// Default 1024.
    pub default_max_tokens: Option<u64>,
}

/// `[prices."<model>"]`: USD per million tokens, for budgets and cost in the audit trail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceConfig {
    pub input_usd_per_mtok: Usd,
    pub output_usd_per_mtok: Usd,
}

/// `[redis]`: shared limits across replicas. Unset `url` = in-process limits.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// `redis://[:password@]host:port[/db]` or `rediss://…` (TLS). May hold a password: prefer
    /// the systemd credential `redis-url`.
    pub url: Option<String>,
    /// When Redis is unreachable: `false` (default) refuses requests with 503; `true` lets them
    /// through unlimited (logged loudly, shown on /health/ready).
    pub fail_open: bool,
    /// Per-operation timeout in milliseconds (1 ..= 10000). Default 250.
    pub timeout_ms: u64,
    /// Prefix of every key TapPass writes. Default `tappass:`.
    pub key_prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            url: None,
            fail_open: false,
            timeout_ms: 250,
            key_prefix: "tappass:".into(),
        }
    }
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &self.url.as_ref().map(|_| "[set]"))
            .field("fail_open", &self.fail_open)
            .field("timeout_ms", &self.timeout_ms)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

/// `[policy]`: Rego policy, in-process or on an OPA server.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyConfig {
    /// Evaluate policy at all. Default `true`.
    pub enabled: bool,
    /// Directory of `*.rego` files (and optional `data.json`). When it does not exist, the
    /// built-in default policy is used. Default `/etc/tappass/policies`.
    pub dir: PathBuf,
    /// Use an OPA server instead of the in-process engine, e.g. `http://127.0.0.1:8181`.
    pub opa_url: Option<String>,
    /// Evaluation timeout in milliseconds (1 ..= 10000). Default 200.
    pub timeout_ms: u64,
    /// Decision cache TTL in seconds (0 disables). Default 5.
    pub cache_ttl_secs: u64,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        PolicyConfig {
            enabled: true,
            dir: PathBuf::from("/etc/tappass/policies"),
            opa_url: None,
            timeout_ms: 200,
            cache_ttl_secs: 5,
        }
    }
}

/// `[tools]`: which tools requests may declare and models may call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToolsConfig {
    /// When non-empty, only these tools.
    pub allow: Vec<String>,
    /// Never these tools.
    pub deny: Vec<String>,
}

/// All governance sections together (what a reload swaps).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GovernanceConfig {
    pub pipeline: PipelineConfig,
    pub flags: FlagsConfig,
    pub limits: LimitsConfig,
    pub budgets: BudgetsConfig,
    pub prices: BTreeMap<String, PriceConfig>,
    pub redis: RedisConfig,
    pub policy: PolicyConfig,
    pub tools: ToolsConfig,
}
