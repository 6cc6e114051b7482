//! An alert: its text (pure), the Slack-compatible webhook it is posted to, and the journal line.
//!
//! The webhook receives `{"text": "…"}` — what Slack's incoming webhooks and most chat tools
//! accept. Its URL is a secret (it lets anyone post): the systemd credential
//! `health-slack-webhook`, else `[health] slack_webhook`, else `$HEALTH_SLACK_WEBHOOK`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};

use super::state::{AlertKind, Change};
use super::Report;
use crate::secrets::Source;

/// The credential holding the webhook URL.
pub const WEBHOOK_CREDENTIAL: &str = "health-slack-webhook";
/// The environment variable holding the webhook URL (evaluation).
pub const WEBHOOK_ENV: &str = "HEALTH_SLACK_WEBHOOK";

/// The webhook URL and where it came from, if one is configured.
pub fn webhook(config: &crate::config::Config) -> Option<(SecretString, Source)> {
    if let Some(u) = crate::secrets::credential(WEBHOOK_CREDENTIAL) {
        return Some((u, Source::Credential));
    }
    if let Some(u) = &config.health.slack_webhook {
        return Some((u.clone(), Source::Config));
    }
    std::env::var(WEBHOOK_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .map(|v| (SecretString::from(v), Source::Environment))
}

fn duration(from: DateTime<Utc>, to: DateTime<Utc>) -> String {
    let m = (to - from).num_minutes().max(0);
    match m {
        0 => "under a minute".to_owned(),
        m if m < 120 => format!("{m} min"),
        m if m < 48 * 60 => format!("{} h {} min", m / 60, m % 60),
        m => format!("{} days", m / (24 * 60)),
    }
}

/// The alert's text: a first line that says it all, then one line per problem with its fix.
pub fn message(change: &Change, report: &Report) -> String {
    let host = &report.host;
    let mut out = match change.kind {
        AlertKind::Recovered => {
            let how_long = change
                .was_since
                .map(|s| format!(" after {}", duration(s, report.checked_at)))
                .unwrap_or_default();
            format!(
                "TapPass on {host} RECOVERED: all checks pass (was {}{how_long})",
                change.was
            )
        }
        AlertKind::Down | AlertKind::Degraded => {
            let first = change
                .new
                .first()
                .or_else(|| report.problems().next())
                .map(|c| format!(": {} — {}", c.key(), c.detail))
                .unwrap_or_default();
            format!("TapPass on {host} is {}{first}", report.health)
        }
    };
    for c in report.problems() {
        let new = change.new.iter().any(|n| n.key() == c.key());
        out.push_str(&format!(
            "\n• {}{} {}: {}",
            if new { "" } else { "(still) " },
            c.status.as_str(),
            c.key(),
            c.detail
        ));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("\n  fix: {fix}"));
        }
    }
    if !change.resolved.is_empty() && change.kind != AlertKind::Recovered {
        out.push_str(&format!("\n• resolved: {}", change.resolved.join(", ")));
    }
    out
}

/// The journal priority of an alert (syslog levels: 3 err, 4 warning, 5 notice).
pub fn priority(kind: AlertKind) -> u8 {
    match kind {
        AlertKind::Down => 3,
        AlertKind::Degraded => 4,
        AlertKind::Recovered => 5,
    }
}

/// Writes the alert to standard error: under systemd the journal, at the alert's priority
/// (the `<N>` prefix journald reads from a unit's output).
pub fn to_journal(kind: AlertKind, text: &str) {
    let prefix = std::env::var_os("JOURNAL_STREAM")
        .map(|_| format!("<{}>", priority(kind)))
        .unwrap_or_default();
    for line in text.lines() {
        eprintln!("{prefix}{line}");
    }
}

/// Posts `{"text": text}` to the webhook. Redirects are not followed (a webhook that moved is
/// a configuration error, not somewhere to send alerts blindly); any non-2xx is a failure.
pub async fn post(url: &SecretString, text: &str, timeout: Duration) -> Result<(), String> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let resp = client
        .post(url.expose_secret())
        .json(&serde_json::json!({ "text": text }))
        .send()
        .await
        // reqwest's error names the URL, which is the secret: keep only the kind.
        .map_err(|e| {
            if e.is_timeout() {
                format!("no answer within {} s", timeout.as_secs())
            } else if e.is_connect() {
                "connection refused or unreachable".to_owned()
            } else {
                "request failed".to_owned()
            }
        })?;
    if resp.status().is_success() {
        Ok(())
    } else {
        Err(format!("HTTP {}", resp.status().as_u16()))
    }
}

#[cfg(test)]
mod tests {
    use super::super::state::{change, Seen};
    use super::super::{Check, CheckKind, Status};
    use super::*;

    fn at(min: i64) -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_800_000_000 + min * 60, 0).unwrap()
    }

    fn daemon(status: Status) -> Check {
        Check::new(CheckKind::Daemon, status, "not answering").fix("systemctl start tappass")
    }

    #[test]
    fn down_names_the_problem_and_its_fix() {
        let r = Report::new("gw1".into(), at(5), vec![daemon(Status::Fail)]);
        let c = change(&Seen::default(), &r).unwrap();
        let text = message(&c, &r);
        assert!(
            text.starts_with("TapPass on gw1 is DOWN: daemon — not answering"),
            "{text}"
        );
        assert!(text.contains("fix: systemctl start tappass"), "{text}");
        assert_eq!(priority(c.kind), 3);
    }

    #[test]
    fn recovered_says_how_long_it_was_down() {
        let down = Report::new("gw1".into(), at(5), vec![daemon(Status::Fail)]);
        let seen = Seen::default().after(&down);
        let ok = Report::new("gw1".into(), at(47), vec![daemon(Status::Ok)]);
        let c = change(&seen, &ok).unwrap();
        assert_eq!(
            message(&c, &ok),
            "TapPass on gw1 RECOVERED: all checks pass (was DOWN after 42 min)"
        );
        assert_eq!(priority(c.kind), 5);
    }

    #[test]
    fn old_problems_are_marked_still_and_resolved_ones_listed() {
        let disk = Check::new(CheckKind::Disk, Status::Warn, "95 %").on("/var");
        let before = Report::new("h".into(), at(0), vec![daemon(Status::Fail), disk.clone()]);
        let after = Report::new("h".into(), at(5), vec![daemon(Status::Ok), disk]);
        let c = change(&Seen::default().after(&before), &after).unwrap();
        let text = message(&c, &after);
        assert!(
            text.starts_with("TapPass on h is DEGRADED: disk /var — 95 %"),
            "{text}"
        );
        assert!(text.contains("• (still) warn disk /var: 95 %"), "{text}");
        assert!(text.contains("• resolved: daemon"), "{text}");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(duration(at(0), at(0)), "under a minute");
        assert_eq!(duration(at(0), at(90)), "90 min");
        assert_eq!(duration(at(0), at(150)), "2 h 30 min");
        assert_eq!(duration(at(0), at(60 * 24 * 3)), "3 days");
        assert_eq!(duration(at(5), at(0)), "under a minute");
    }
}
