//! Who is calling: API keys and roles.

pub mod bootstrap;
pub mod keys;
pub mod roles;

pub use roles::Role;
