//! Who is calling: API keys and roles.

pub mod bootstrap;
pub mod keys;
pub mod roles;
pub mod status;

pub use roles::Role;
pub use status::{AgentStatus, KeyStatus};
