//! One run of the monitor: every check, the comparison with the previous run, the alerts, and
//! what is remembered for the next run.

use std::time::Duration;

use chrono::Utc;
use serde::Serialize;

use super::state::{self, AlertKind};
use super::{alert, checks, Report};
use crate::config::Config;

/// How to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The daemon's base URL (`http://127.0.0.1:9620`).
    pub base: String,
    /// Bound of each network check.
    pub timeout: Duration,
    /// Read the units' states from this file (`systemctl show` output) instead of asking systemd.
    pub units_from: Option<std::path::PathBuf>,
}

/// An alert raised by this run.
#[derive(Debug, Clone, Serialize)]
pub struct Raised {
    pub kind: AlertKind,
    pub text: String,
    /// `None`: no webhook configured (or it already had this state); `Some(Err)`: the post
    /// failed and the next run tries again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Result<(), String>>,
}

/// What a run found and did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub report: Report,
    /// Set when the problems changed since the previous run (told to the journal).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<Raised>,
    /// Problems of the monitor itself (its state file, the webhook), for standard error.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

fn hostname() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Runs every check, alerts on a change, updates the state and `tappass.down`.
pub async fn run(config: &Config, opts: &Options) -> Outcome {
    let now = Utc::now();
    let dir = config.state_dir();
    let mut notes = Vec::new();
    // One run at a time (the timer's and one by hand), for the whole run.
    let _lock = if dir.is_dir() {
        state::lock(&dir).map_err(|e| notes.push(e)).ok()
    } else {
        None
    };
    let mut st = state::load(&dir).unwrap_or_else(|e| {
        notes.push(e);
        state::State::default()
    });

    let client = reqwest::Client::builder()
        .timeout(opts.timeout)
        .build()
        .expect("a reqwest client with a timeout builds");
    let mut found = vec![checks::daemon(&client, &opts.base, opts.timeout).await];
    found.extend(checks::production(&client, &opts.base).await);
    found.extend(checks::units(opts.units_from.as_deref()));
    found.extend(checks::disk(config));
    found.extend(checks::certificates(config, now));
    let (db, anchor) = checks::database_and_chain(config, st.chain.as_ref()).await;
    found.extend(db);
    found.extend(checks::redis(config, opts.timeout).await);
    found.extend(checks::urls(config, &client, opts.timeout).await);
    found.push(checks::backup(config, now));
    let report = Report::new(hostname(), now, found);

    let mut raised = state::change(&st.observed, &report).map(|c| {
        let text = alert::message(&c, &report);
        alert::to_journal(c.kind, &text);
        Raised {
            kind: c.kind,
            text,
            webhook: None,
        }
    });
    match alert::webhook(config) {
        Some((url, _)) => {
            if let Some(c) = state::change(&st.notified, &report) {
                let text = alert::message(&c, &report);
                let posted = alert::post(&url, &text, opts.timeout).await;
                match &posted {
                    Ok(()) => st.notified = st.notified.after(&report),
                    Err(e) => notes.push(format!(
                        "the alert webhook failed ({e}); the next run tries again"
                    )),
                }
                let r = raised.get_or_insert(Raised {
                    kind: c.kind,
                    text,
                    webhook: None,
                });
                r.webhook = Some(posted);
            }
        }
        None => st.notified = st.notified.after(&report),
    }
    st.observed = st.observed.after(&report);
    st.chain = anchor;

    if dir.is_dir() {
        if let Err(e) = state::save(&dir, &st) {
            notes.push(format!(
                "cannot save {}: {e}",
                dir.join(state::STATE_FILE).display()
            ));
        }
        if let Err(e) = state::mark(&dir, &report) {
            notes.push(format!(
                "cannot update {}: {e}",
                dir.join(state::DOWN_FILE).display()
            ));
        }
    } else {
        notes.push(format!(
            "no state directory {} yet: nothing remembered for the next run",
            dir.display()
        ));
    }
    Outcome {
        report,
        alert: raised,
        notes,
    }
}
