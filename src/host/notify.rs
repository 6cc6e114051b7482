//! Telling systemd what the daemon is doing (`sd_notify(3)`): READY=1 once it serves, STATUS=
//! lines people read in `systemctl status`, RELOADING=1/READY=1 around a reload, STOPPING=1 on
//! shutdown, and WATCHDOG=1 at half of `WatchdogSec=`.
//!
//! Outside systemd (`NOTIFY_SOCKET` unset) every call is a no-op.

use std::time::Duration;

use sd_notify::NotifyState;

/// Test-only switch: after this many seconds the daemon stops sending WATCHDOG=1, as a hung event
/// loop would, so the e2e suite can prove that systemd kills and restarts it.
pub const TEST_HANG_ENV: &str = "TAPPASS_TEST_HANG_AFTER_SECS";

/// Sends `states`; a failure is logged, never fatal (systemd then acts on its own timeouts).
fn send(states: &[NotifyState]) {
    if let Err(e) = sd_notify::notify(states) {
        tracing::warn!(error = %e, "cannot notify systemd");
    }
}

/// READY=1 with a status line.
pub fn ready(status: &str) {
    send(&[NotifyState::Ready, NotifyState::Status(status)]);
}

/// STATUS= only.
pub fn status(status: &str) {
    send(&[NotifyState::Status(status)]);
}

/// RELOADING=1 (with MONOTONIC_USEC, which newer systemd requires and 252 ignores).
pub fn reloading() {
    let mut states = vec![
        NotifyState::Reloading,
        NotifyState::Status("Reloading configuration"),
    ];
    if let Ok(now) = NotifyState::monotonic_usec_now() {
        states.push(now);
    }
    send(&states);
}

/// STOPPING=1 with a status line.
pub fn stopping(status: &str) {
    send(&[NotifyState::Stopping, NotifyState::Status(status)]);
}

/// The watchdog interval systemd asked for (`WatchdogSec=`), if any.
pub fn watchdog_interval() -> Option<Duration> {
    sd_notify::watchdog_enabled()
}

/// Runs forever: pings the watchdog at half its interval (only while this task gets scheduled,
/// so a stuck runtime stops the pings) and refreshes STATUS= when `current_status` changes.
pub async fn watchdog_loop(current_status: impl Fn() -> String) {
    let watchdog = watchdog_interval();
    let every = watchdog.map_or(Duration::from_secs(2), |d| {
        (d / 2).max(Duration::from_millis(100))
    });
    let hang_after = std::env::var(TEST_HANG_ENV)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_secs);
    if let Some(d) = hang_after {
        tracing::warn!(
            after_secs = d.as_secs(),
            "{TEST_HANG_ENV} is set: watchdog pings will stop (test-only switch)"
        );
    }
    let started = tokio::time::Instant::now();
    let mut last = String::new();
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if hang_after.is_some_and(|d| started.elapsed() >= d) {
            tracing::error!("test switch: watchdog pings stopped, simulating a hung daemon");
            std::future::pending::<()>().await;
        }
        let now = current_status();
        let mut states = Vec::with_capacity(2);
        if watchdog.is_some() {
            states.push(NotifyState::Watchdog);
        }
        if now != last {
            states.push(NotifyState::Status(&now));
        }
        if !states.is_empty() {
            send(&states);
        }
        last = now;
    }
}
