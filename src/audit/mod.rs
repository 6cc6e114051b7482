//! The audit trail: events, the SHA-256 hash chain, group-committed appends, verification.
//!
//! `event` and `chain` are pure (no I/O) and exhaustively unit-tested; `writer` and `verify`
//! talk to the database only through `store::Store`.

pub mod chain;
pub mod event;
pub mod verify;
pub mod writer;

pub use event::AuditEvent;
pub use writer::{AppendError, AuditWriter};
