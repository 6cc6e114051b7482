//! Governance: the request-independent settings the pipeline's steps apply — flags, step
//! actions from presets, tool lists, limits, budgets and prices — built once from config and
//! swapped atomically on reload.

pub mod flags;
pub mod settings;

pub use settings::{Governance, Price, StepSettings};
pub mod reload;
