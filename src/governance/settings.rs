//! The resolved governance settings: presets applied, flags parsed, prices indexed. Built from
//! `config::governance::GovernanceConfig`; what every request of one config generation sees.

use std::collections::{HashMap, HashSet};

use super::flags::{self, FlagSet, Flags, Grants, Locks, PiiAction, SecretsAction};
use crate::config::governance::{GovernanceConfig, Preset, StepAction};

/// One detection step's effective settings.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSettings {
    pub action: StepAction,
    pub threshold: f32,
    /// `None` = every entity type.
    pub entities: Option<HashSet<String>>,
}

impl StepSettings {
    fn new(action: StepAction) -> Self {
        StepSettings {
            action,
            threshold: crate::detect::injection::DEFAULT_THRESHOLD,
            entities: None,
        }
    }

    /// Does this step care about entity `kind`?
    pub fn wants(&self, kind: crate::detect::EntityKind) -> bool {
        self.entities
            .as_ref()
            .is_none_or(|e| e.contains(kind.as_str()))
    }
}

/// USD per million tokens, as integer micro-USD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub input_micros_per_mtok: u64,
    pub output_micros_per_mtok: u64,
}

impl Price {
    /// Cost of a call in micro-USD, rounded up (never under-charges a budget).
    pub fn cost_micros(&self, prompt_tokens: u64, completion_tokens: u64) -> u64 {
        let num = u128::from(prompt_tokens) * u128::from(self.input_micros_per_mtok)
            + u128::from(completion_tokens) * u128::from(self.output_micros_per_mtok);
        num.div_ceil(1_000_000).min(u128::from(u64::MAX)) as u64
    }

    /// The most completion tokens `budget_micros` pays for after a prompt of `prompt_tokens`
    /// (`u64::MAX` when completions are free).
    pub fn affordable_completion(&self, prompt_tokens: u64, budget_micros: u64) -> u64 {
        // cost ≤ budget ⟺ prompt·in + n·out ≤ budget·10⁶ (cost_micros is that sum / 10⁶,
        // rounded up), so the largest n is exact integer arithmetic.
        let room = u128::from(budget_micros) * 1_000_000;
        let prompt = u128::from(prompt_tokens) * u128::from(self.input_micros_per_mtok);
        let Some(left) = room.checked_sub(prompt) else {
            return 0;
        };
        if self.output_micros_per_mtok == 0 {
            return u64::MAX;
        }
        (left / u128::from(self.output_micros_per_mtok)).min(u128::from(u64::MAX)) as u64
    }
}

/// Built-in prices (USD per million tokens, input / output); `[prices]` overrides and extends.
const BUILTIN_PRICES: &[(&str, f64, f64)] = &[
    ("gpt-4o-mini", 0.15, 0.60),
    ("gpt-4o", 2.50, 10.00),
    ("gpt-4.1", 2.00, 8.00),
    ("gpt-4.1-mini", 0.40, 1.60),
    ("gpt-4.1-nano", 0.10, 0.40),
    ("o3-mini", 1.10, 4.40),
    ("claude-3-5-haiku-latest", 0.80, 4.00),
    ("claude-3-5-sonnet-latest", 3.00, 15.00),
    ("claude-sonnet-4-5", 3.00, 15.00),
    ("claude-opus-4-1", 15.00, 75.00),
    ("echo", 0.0, 0.0),
];

#[derive(Clone)]
pub struct Governance {
    pub preset: Preset,
    pub pii: StepSettings,
    pub secrets: StepSettings,
    pub injection: StepSettings,
    pub unicode: StepSettings,
    pub scan_output: StepSettings,
    pub pii_restore: bool,
    /// Server defaults for flags a request does not set.
    pub default_flags: Flags,
    pub locks: Locks,
    /// Flags every agent may loosen (`[flags] grant`); agents may hold more of their own.
    pub grants: Grants,
    pub tools_allow: Vec<String>,
    pub tools_deny: Vec<String>,
    pub prices: HashMap<String, Price>,
    /// The policy engine of this generation (`None` when `[policy] enabled = false`).
    pub policy: Option<std::sync::Arc<dyn crate::policy::PolicyEngine>>,
    pub config: GovernanceConfig,
}

impl std::fmt::Debug for Governance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Governance")
            .field("preset", &self.preset)
            .field("default_flags", &self.default_flags.to_string())
            .field("policy", &self.policy.as_ref().map(|p| p.backend()))
            .finish_non_exhaustive()
    }
}

fn preset_actions(p: Preset) -> [StepAction; 5] {
    use StepAction::*;
    // pii, secrets, injection, unicode, scan_output
    match p {
        Preset::Starter => [Log, Redact, Log, Log, Redact],
        Preset::Standard => [Mask, Redact, Block, Block, Redact],
        Preset::Regulated => [Block, Block, Block, Block, Redact],
    }
}

impl Governance {
    /// Resolves a validated config. (Config validation already checked every value.)
    pub fn from_config(cfg: &GovernanceConfig) -> Governance {
        let p = &cfg.pipeline;
        let [pii_a, sec_a, inj_a, uni_a, out_a] = preset_actions(p.preset);
        let step = |c: &crate::config::governance::StepConfig, default: StepAction| {
            let mut s = StepSettings::new(c.action.unwrap_or(default));
            if let Some(t) = c.threshold {
                s.threshold = t as f32;
            }
            s.entities = c.entities.as_ref().map(|e| e.iter().cloned().collect());
            s
        };
        let pii = step(&p.detect_pii, pii_a);
        let secrets = step(&p.detect_secrets, sec_a);
        let mut injection = step(&p.detect_injection, inj_a);
        if p.detect_injection.threshold.is_none() && p.preset == Preset::Regulated {
            injection.threshold = 0.3;
        }
        let mut default_flags = Flags::default();
        let defaults = flags::parse(&cfg.flags.defaults).unwrap_or_default();
        // The operator's defaults apply as written, looser than the built-in ones or not.
        let (with_defaults, _) =
            flags::apply(&default_flags, &Locks::default(), Grants::ALL, &defaults);
        default_flags = with_defaults;
        default_flags.pii = match pii.action {
            StepAction::Block => PiiAction::Block,
            StepAction::Mask | StepAction::Redact => PiiAction::Mask,
            StepAction::Log => PiiAction::Flag,
            StepAction::Off | StepAction::Strip => PiiAction::Off,
        };
        default_flags.secrets = match secrets.action {
            StepAction::Block => SecretsAction::Block,
            StepAction::Log => SecretsAction::Flag,
            _ => SecretsAction::Redact,
        };
        let locks = Locks {
            set: flags::parse(&cfg.flags.locked).unwrap_or_default(),
        };
        let grants = Grants::parse_list(&cfg.flags.grant).unwrap_or_default();
        let mut prices: HashMap<String, Price> = BUILTIN_PRICES
            .iter()
            .map(|(m, i, o)| {
                (
                    (*m).to_string(),
                    Price {
                        input_micros_per_mtok: (i * 1e6).round() as u64,
                        output_micros_per_mtok: (o * 1e6).round() as u64,
                    },
                )
            })
            .collect();
        for (model, pc) in &cfg.prices {
            prices.insert(
                model.clone(),
                Price {
                    input_micros_per_mtok: pc.input_usd_per_mtok.0,
                    output_micros_per_mtok: pc.output_usd_per_mtok.0,
                },
            );
        }
        Governance {
            preset: p.preset,
            pii,
            secrets,
            injection,
            unicode: step(&p.detect_unicode, uni_a),
            scan_output: step(&p.scan_output, out_a),
            pii_restore: p.pii_restore.enabled,
            default_flags,
            locks,
            grants,
            tools_allow: cfg.tools.allow.clone(),
            tools_deny: cfg.tools.deny.clone(),
            prices,
            policy: None,
            config: cfg.clone(),
        }
    }

    /// Resolves a config and loads its policy (reading `*.rego` files or connecting to OPA):
    /// what start-up and every reload call. An error leaves the caller's current generation
    /// in place.
    pub fn load(cfg: &GovernanceConfig) -> Result<Governance, crate::policy::PolicyError> {
        use crate::policy::{
            CachedEngine, OpaEngine, PolicyEngine, RegoEngine, DEFAULT_POLICY, DEFAULT_POLICY_NAME,
        };
        use std::sync::Arc;
        use std::time::Duration;
        let mut g = Governance::from_config(cfg);
        let p = &cfg.policy;
        if !p.enabled {
            tracing::warn!("policy evaluation is disabled ([policy] enabled = false)");
            return Ok(g);
        }
        let timeout = Duration::from_millis(p.timeout_ms);
        let engine: Arc<dyn PolicyEngine> = match &p.opa_url {
            Some(url) => Arc::new(OpaEngine::new(url, timeout)?),
            None if p.dir.is_dir() => Arc::new(RegoEngine::load(&p.dir)?.with_timeout(timeout)),
            None => {
                tracing::info!(dir = %p.dir.display(), "no policy directory: using the built-in default policy");
                Arc::new(
                    RegoEngine::from_sources(
                        &[(DEFAULT_POLICY_NAME.to_string(), DEFAULT_POLICY.to_string())],
                        None,
                    )?
                    .with_timeout(timeout),
                )
            }
        };
        g.policy = Some(if p.cache_ttl_secs > 0 {
            Arc::new(CachedEngine::new(
                engine,
                Duration::from_secs(p.cache_ttl_secs),
                10_000,
            ))
        } else {
            engine
        });
        Ok(g)
    }

    /// The effective flags of a request from an agent holding `agent_grants`, and the flags
    /// whose loosening was refused.
    pub fn flags_for(
        &self,
        requested: &FlagSet,
        agent_grants: Grants,
    ) -> (Flags, Vec<&'static str>) {
        flags::apply(
            &self.default_flags,
            &self.locks,
            self.grants.union(agent_grants),
            requested,
        )
    }

    /// The price of `model` (the provider-side name), if known.
    pub fn price(&self, model: &str) -> Option<Price> {
        self.prices.get(model).copied()
    }
}

impl Default for Governance {
    fn default() -> Self {
        Governance::from_config(&GovernanceConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::governance::StepConfig;

    #[test]
    fn presets_set_step_actions() {
        let mut cfg = GovernanceConfig::default();
        let g = Governance::from_config(&cfg);
        assert_eq!(g.pii.action, StepAction::Mask);
        assert_eq!(g.default_flags.pii, PiiAction::Mask);
        assert_eq!(g.injection.action, StepAction::Block);
        cfg.pipeline.preset = Preset::Regulated;
        let g = Governance::from_config(&cfg);
        assert_eq!(g.default_flags.pii, PiiAction::Block);
        assert_eq!(g.default_flags.secrets, SecretsAction::Block);
        assert!((g.injection.threshold - 0.3).abs() < 1e-6);
        cfg.pipeline.preset = Preset::Starter;
        assert_eq!(Governance::from_config(&cfg).pii.action, StepAction::Log);
    }

    #[test]
    fn explicit_step_settings_beat_the_preset() {
        let mut cfg = GovernanceConfig::default();
        cfg.pipeline.detect_pii = StepConfig {
            action: Some(StepAction::Off),
            threshold: None,
            entities: Some(vec!["EMAIL".into()]),
        };
        let g = Governance::from_config(&cfg);
        assert_eq!(g.default_flags.pii, PiiAction::Off);
        assert!(
            g.pii.wants(crate::detect::EntityKind::Email)
                && !g.pii.wants(crate::detect::EntityKind::Iban)
        );
    }

    #[test]
    fn affordable_completion_fits_the_budget() {
        let p = Price {
            input_micros_per_mtok: 150_000,
            output_micros_per_mtok: 600_000,
        };
        for (prompt, budget) in [(100, 1_000), (0, 7), (5_000, 50_000), (1, 1)] {
            let n = p.affordable_completion(prompt, budget);
            assert!(p.cost_micros(prompt, n) <= budget, "{prompt} {budget}");
            assert!(
                p.cost_micros(prompt, n + 1) > budget,
                "{prompt} {budget}: not the most"
            );
        }
        assert_eq!(
            p.affordable_completion(1_000_000, 10),
            0,
            "the prompt alone is over"
        );
        let free = Price {
            input_micros_per_mtok: 0,
            output_micros_per_mtok: 0,
        };
        assert_eq!(free.affordable_completion(10, 0), u64::MAX);
    }

    #[test]
    fn prices_round_up_and_config_overrides() {
        let p = Price {
            input_micros_per_mtok: 150_000,
            output_micros_per_mtok: 600_000,
        };
        assert_eq!(
            p.cost_micros(1, 0),
            1,
            "a fraction of a micro-dollar is charged as one"
        );
        assert_eq!(p.cost_micros(1_000_000, 1_000_000), 750_000);
        let mut cfg = GovernanceConfig::default();
        cfg.prices.insert(
            "gpt-4o-mini".into(),
            crate::config::governance::PriceConfig {
                input_usd_per_mtok: crate::config::governance::Usd(1_000_000),
                output_usd_per_mtok: crate::config::governance::Usd(2_000_000),
            },
        );
        let g = Governance::from_config(&cfg);
        assert_eq!(
            g.price("gpt-4o-mini").unwrap().output_micros_per_mtok,
            2_000_000
        );
        assert!(g.price("unknown-model").is_none());
    }
}
