//! Errors of the configuration loader.
//!
//! Every error says where the offending value came from (file and line, environment
//! variable, command-line flag or built-in default) and, when there is one, the dotted key.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The configuration file; `line` is 1-based when known.
    File {
        /// The file as it was given (or the default path).
        path: PathBuf,
        /// 1-based line number, when the position is known.
        line: Option<usize>,
    },
    /// An environment variable (`TAPPASS_<SECTION>__<KEY>`, or one of the base-URL fallbacks).
    Env {
        /// Name of the variable.
        var: String,
    },
    /// A command-line flag (`--listen`, `--state-dir`, `--database-url`).
    Flag {
        /// The flag as the user types it.
        flag: String,
    },
    /// A built-in default.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File {
                path,
                line: Some(line),
            } => write!(f, "{}:{line}", path.display()),
            Origin::File { path, line: None } => write!(f, "{}", path.display()),
            Origin::Env { var } => write!(f, "environment {var}"),
            Origin::Flag { flag } => write!(f, "command-line flag {flag}"),
            Origin::Default => f.write_str("built-in default"),
        }
    }
}

/// A configuration error. The `Display` form is a single line meant for operators, e.g.
/// ``/etc/tappass/tappass.toml:12: unknown key `listn` in [server] (expected one of: listen, …)``.
///
/// Messages never contain secrets (provider API keys, database passwords).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration file could not be read (missing, permissions, not UTF-8 …).
    #[error("{}: cannot read configuration file: {source}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// Malformed input that is not tied to one key: TOML syntax errors, malformed variable names.
    #[error("{origin}: {message}")]
    Parse {
        /// Where the input came from.
        origin: Origin,
        /// What is wrong.
        message: String,
    },
    /// A key that the schema does not know.
    #[error("{origin}: unknown key `{key}`{} ({})", section_suffix(.section), expected_list(.expected))]
    UnknownKey {
        /// Where the key came from.
        origin: Origin,
        /// The table holding the key (`"server"`, `"providers.openai"`; `""` = top level),
        /// when known.
        section: Option<String>,
        /// The unknown key itself.
        key: String,
        /// The keys allowed in that table.
        expected: Vec<String>,
    },
    /// A value that is present but not acceptable.
    #[error("{origin}: {key}: {message}")]
    Invalid {
        /// Where the value came from.
        origin: Origin,
        /// Dotted key, e.g. `server.listen` or `providers.ollama.base_url`.
        key: String,
        /// What is wrong with it.
        message: String,
    },
}

impl ConfigError {
    /// Where the offending input came from (`None` for read errors).
    pub fn origin(&self) -> Option<&Origin> {
        match self {
            ConfigError::Read { .. } => None,
            ConfigError::Parse { origin, .. }
            | ConfigError::UnknownKey { origin, .. }
            | ConfigError::Invalid { origin, .. } => Some(origin),
        }
    }

    /// The dotted key concerned, when there is one.
    pub fn key(&self) -> Option<String> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key.clone()),
            ConfigError::UnknownKey {
                section: Some(section),
                key,
                ..
            } if !section.is_empty() => {
                Some(format!("{section}.{}", super::validate::key_segment(key)))
            }
            ConfigError::UnknownKey { key, .. } => Some(super::validate::key_segment(key)),
            _ => None,
        }
    }
}

fn section_suffix(section: &Option<String>) -> String {
    match section.as_deref() {
        None => String::new(),
        Some("") => " at top level".to_owned(),
        Some(s) => format!(" in [{s}]"),
    }
}

fn expected_list(expected: &[String]) -> String {
    if expected.is_empty() {
        "no keys are allowed here".to_owned()
    } else {
        format!("expected one of: {}", expected.join(", "))
    }
}
