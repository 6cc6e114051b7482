//! The host layer: how the daemon lives on a Linux host — systemd notifications and socket
//! activation, the journal, and self-confinement (core dumps off, root dropped, landlock).
//!
//! Order matters and is fixed in `cli/serve.rs`: logging, then [`sandbox::confine`] on the
//! main thread, then the tokio runtime — capabilities, uids and landlock are per thread, and
//! threads inherit them from the thread that creates them.

pub mod listen;
pub mod logging;
pub mod notify;
pub mod production;
pub mod sandbox;
