//! The steps, one file each. To add a step: write its file and add it to `default_steps` at
//! its place — that list is the order the steps run in, and the only place it is written.

mod audit;
mod authenticate;
mod budget;
mod call_llm;
mod classify_data;
mod cost_tracking;
mod detect_injection;
mod detect_pii;
mod detect_secrets;
mod detect_unicode;
mod policy;
mod rate_limit;
mod scan_output;
mod tool_permissions;
mod validate_input;

use std::sync::Arc;

pub use audit::Audit;
pub use authenticate::Authenticate;
pub use call_llm::CallLlm;
pub use policy::probe as probe_policy;
pub use validate_input::ValidateInput;

use super::Step;
use crate::audit::AuditWriter;
use crate::providers::Router;
use crate::store::Store;

/// What steps may use: backends only, chosen once at start-up.
#[derive(Clone)]
pub struct StepDeps {
    pub store: Store,
    pub router: Arc<Router>,
    pub audit: AuditWriter,
    /// Rate limits and budgets (in-process or Redis), chosen once at start-up.
    pub limiter: Arc<dyn crate::limits::Limiter>,
    /// `[redis] fail_open`: let requests through when the limiter cannot answer.
    pub limits_fail_open: bool,
}

/// The pipeline every data-plane request runs through, in order: who is calling and how often,
/// what the request is, what is in it, what may be done with it, what it may cost — then the
/// call — then what came back, what it cost, and the record of it all. Steps that always run
/// (cost_tracking, audit) are last, so a refusal anywhere still settles and is recorded.
pub fn default_steps(deps: &StepDeps) -> Vec<Arc<dyn Step>> {
    vec![
        Arc::new(Authenticate::new(deps.store.clone(), deps.audit.spools())),
        Arc::new(rate_limit::RateLimit::new(
            deps.limiter.clone(),
            deps.limits_fail_open,
        )),
        Arc::new(ValidateInput::new(deps.router.clone())),
        Arc::new(detect_pii::DetectPii),
        Arc::new(detect_secrets::DetectSecrets),
        Arc::new(detect_injection::DetectInjection),
        Arc::new(detect_unicode::DetectUnicode),
        Arc::new(classify_data::ClassifyData),
        Arc::new(tool_permissions::ToolPermissions),
        Arc::new(policy::Policy),
        Arc::new(budget::Budget::new(
            deps.limiter.clone(),
            deps.limits_fail_open,
        )),
        Arc::new(CallLlm),
        Arc::new(scan_output::ScanOutput),
        Arc::new(cost_tracking::CostTracking::new(deps.limiter.clone())),
        Arc::new(Audit::new(deps.audit.clone())),
    ]
}
