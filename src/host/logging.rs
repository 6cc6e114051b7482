//! Logging setup. Under systemd with stderr connected to the journal (`JOURNAL_STREAM` names
//! stderr's device and inode), events go to journald natively, with their fields as journal
//! fields named exactly as in the code, upper-cased (REQUEST_ID, AGENT_ID, DECISION, STEP,
//! LATENCY_MS — no `F_` prefix), so `journalctl -u tappass REQUEST_ID=…` works. Otherwise
//! human-readable lines on a terminal and JSON lines elsewhere.
//!
//! No secret ever reaches a log line: secrets are `SecretString`s (redacted in Debug) and
//! nothing logs request bodies or headers.

use std::io::IsTerminal;
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Where log events went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Journal,
    Plain,
    Json,
}

/// Whether stderr is the journal stream systemd connected (`JOURNAL_STREAM=<dev>:<ino>`).
pub fn stderr_is_journal() -> bool {
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = stream.to_str().and_then(|s| s.split_once(':')) else {
        return false;
    };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    match std::fs::File::from(fd).metadata() {
        Ok(m) => dev.parse() == Ok(m.dev()) && ino.parse() == Ok(m.ino()),
        Err(_) => false,
    }
}

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `log.level`. `log.format`
/// `plain` or `json` forces stderr output even under the journal.
pub fn init(cfg: &LogConfig) -> Sink {
    let filter = || {
        EnvFilter::try_from_env("RUST_LOG")
            .or_else(|_| EnvFilter::try_new(&cfg.level))
            .unwrap_or_else(|_| EnvFilter::new("info"))
    };
    let sink = match cfg.format {
        LogFormat::Json => Sink::Json,
        LogFormat::Plain => Sink::Plain,
        LogFormat::Auto if stderr_is_journal() => Sink::Journal,
        LogFormat::Auto if std::io::stderr().is_terminal() => Sink::Plain,
        LogFormat::Auto => Sink::Json,
    };
    if sink == Sink::Journal {
        match tracing_journald::layer() {
            Ok(layer) => {
                let layer = layer
                    .with_field_prefix(None)
                    .with_syslog_identifier("tappass".to_owned());
                // A second init (tests) keeps the first subscriber.
                let _ = tracing_subscriber::registry()
                    .with(filter())
                    .with(layer)
                    .try_init();
                return Sink::Journal;
            }
            Err(e) => eprintln!("warning: cannot reach the journal ({e}); logging JSON to stderr"),
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = if sink == Sink::Plain {
        builder.try_init()
    } else {
        builder.json().flatten_event(true).try_init()
    };
    if sink == Sink::Journal {
        Sink::Json
    } else {
        sink
    }
}
