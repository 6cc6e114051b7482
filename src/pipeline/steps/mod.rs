//! The steps, one file each. To add a step: write its file and add it to `default_steps`.

pub mod audit;
mod authenticate;
mod call_llm;
mod validate_input;

use std::sync::Arc;

pub use audit::Audit;
pub use authenticate::Authenticate;
pub use call_llm::CallLlm;
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
}

/// The pipeline every data-plane request runs through.
pub fn default_steps(deps: &StepDeps) -> Vec<Arc<dyn Step>> {
    vec![
        Arc::new(Authenticate::new(deps.store.clone())),
        Arc::new(ValidateInput),
        Arc::new(CallLlm::new(deps.router.clone())),
        Arc::new(Audit::new(deps.audit.clone())),
    ]
}
