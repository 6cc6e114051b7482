//! TapPass: a governance gateway between AI agents and LLM providers, native to a systemd host.
//!
//! # Layout
//! The folders mirror the path of a request and then the host around it:
//!
//! - `server/` — axum router, handlers per API family, the one place errors become HTTP.
//! - `pipeline/` — the `Step` trait, the runner, `steps/` (one file per step), stream relay.
//! - `providers/` — OpenAI-compatible and Anthropic clients, the mock, SSE, model routing.
//! - `audit/` — events, the SHA-256 hash chain (pure), group-committed writer, verification.
//! - `store/` — SQLite and PostgreSQL through one sqlx implementation; migrations in `migrations/`.
//! - `identity/` — keys, roles, the first admin key.
//! - `detect/` — PII, secrets, injection, unicode detectors and classification (pure).
//! - `governance/` — flags, presets, resolved per-generation settings.
//! - `limits/` — rate limits and budgets, in-process or Redis.
//! - `policy/` — Rego (regorus) or OPA, decision cache.
//! - `secrets/` — systemd credentials, config, environment.
//! - `config/` — TOML schema, `TAPPASS_*` overrides, validation with line numbers.
//! - `host/` — logging, sd_notify, socket activation, the self-confinement sandbox.
//! - `cli/` — one file per subcommand.
//!
//! See ARCHITECTURE.md for the codemap and the invariants.

// Exactly one SQLite: both features together would compile SQLite in (sqlx's bundled build wins)
// while the package claims to use the system library.
#[cfg(all(feature = "bundled-sqlite", feature = "system-sqlite"))]
compile_error!(
    "features `bundled-sqlite` (the default) and `system-sqlite` exclude each other: \
     build the packages with `--no-default-features --features system-sqlite`"
);
#[cfg(not(any(feature = "bundled-sqlite", feature = "system-sqlite")))]
compile_error!("choose a SQLite: feature `bundled-sqlite` (the default) or `system-sqlite`");

pub mod audit;
pub mod backup;
pub mod cli;
pub mod config;
pub mod detect;
pub mod governance;
pub mod health;
pub mod host;
pub mod identity;
pub mod limits;
pub mod pipeline;
pub mod policy;
pub mod providers;
pub mod refusal;
pub mod secrets;
pub mod server;
pub mod store;
pub mod upgrade;
