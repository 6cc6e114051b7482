//! Everything about the host: logging now; sd_notify, sandboxing and privilege dropping come
//! with the host-layer issue. Code here runs before the async runtime exists where it must.

pub mod logging;
