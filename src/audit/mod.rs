//! The audit trail: events, the SHA-256 hash chain, group-committed appends, verification.
//!
//! `event`, `chain`, `checkpoint` and `spool_format` are pure (no I/O) and exhaustively
//! unit-tested; `writer` and `verify` talk to the database only through `store::Store`;
//! `spool` keeps events fsync'd on local disk while the database is away; `checkpoint_file`
//! keeps the signed checkpoints that anchor the chain's head outside the database.

pub mod chain;
pub mod checkpoint;
pub mod checkpoint_file;
pub mod event;
pub mod jcs;
pub mod spool;
pub mod spool_format;
pub mod verify;
pub mod writer;

pub use event::AuditEvent;
pub use writer::{AppendError, AuditWriter, Durable, Receipt, SpoolCounters, SpoolState};
