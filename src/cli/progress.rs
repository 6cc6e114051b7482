//! Progress of a long command (backup, restore, test-restore, `audit verify`/`export`).
//!
//! On a terminal: one line on stderr, redrawn at most ten times a second, with the share done,
//! the rate and an ETA. Not on a terminal (a timer's journal, a pipe): a plain `key=value` line
//! every few seconds, so a log shows that a long run is alive and how far it got, and never a
//! carriage return or an escape sequence. Standard output stays free for the command's result.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often a line is written when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(5);
/// How often the terminal line is redrawn.
const TTY_EVERY: Duration = Duration::from_millis(100);

/// What is counted: events, rows or bytes (which are shown in MiB).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Rows,
    Events,
    Bytes,
}

impl Unit {
    fn name(self) -> &'static str {
        match self {
            Unit::Rows => "rows",
            Unit::Events => "events",
            Unit::Bytes => "MiB",
        }
    }

    fn show(self, n: u64) -> String {
        match self {
            Unit::Bytes => format!("{:.1}", n as f64 / 1_048_576.0),
            _ => n.to_string(),
        }
    }
}

/// One task's progress. `total` may be unknown (0). Task names have no spaces (`backup`,
/// `audit-verify`): they are a value in the plain lines.
pub struct Progress {
    task: &'static str,
    unit: Unit,
    total: u64,
    done: u64,
    started: Instant,
    last: Option<Instant>,
    tty: bool,
}

impl Progress {
    pub fn new(task: &'static str, unit: Unit, total: u64) -> Progress {
        Progress {
            task,
            unit,
            total,
            done: 0,
            started: Instant::now(),
            last: None,
            tty: std::io::stderr().is_terminal(),
        }
    }

    /// Sets how much is done, and shows it when it is time to.
    pub fn set(&mut self, done: u64) {
        self.done = done;
        let every = if self.tty { TTY_EVERY } else { PLAIN_EVERY };
        let now = Instant::now();
        let due = match self.last {
            None => now.duration_since(self.started) >= every,
            Some(t) => now.duration_since(t) >= every,
        };
        if due {
            self.last = Some(now);
            self.show(false);
        }
    }

    pub fn add(&mut self, n: u64) {
        self.set(self.done + n);
    }

    /// The final line (always written, so a log holds the run's size and duration).
    pub fn finish(mut self) {
        if self.total < self.done {
            self.total = self.done;
        }
        self.show(true);
    }

    fn show(&self, last: bool) {
        let line = line(
            self.task,
            self.unit,
            self.done,
            self.total,
            self.started.elapsed(),
            self.tty,
            last,
        );
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{line}{}", if last { "\n" } else { "" });
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }
}

/// The text of one progress line (pure, for the tests).
fn line(
    task: &str,
    unit: Unit,
    done: u64,
    total: u64,
    elapsed: Duration,
    tty: bool,
    last: bool,
) -> String {
    let secs = elapsed.as_secs_f64();
    let rate = if secs > 0.0 { done as f64 / secs } else { 0.0 };
    let eta = (total > done && rate > 0.0).then(|| ((total - done) as f64 / rate).ceil() as u64);
    let u = unit.name();
    if tty {
        let share = (done * 100)
            .checked_div(total)
            .map_or(String::new(), |p| format!("{p}% "));
        let of = if total > 0 {
            format!("/{}", unit.show(total))
        } else {
            String::new()
        };
        let tail = match (last, eta) {
            (true, _) => format!("done in {}", clock(secs.round() as u64)),
            (false, Some(e)) => format!("ETA {}", clock(e)),
            (false, None) => String::new(),
        };
        format!(
            "{task}: {share}{}{of} {u}, {} {u}/s {tail}",
            unit.show(done),
            unit.show(rate as u64)
        )
    } else {
        let mut s = format!(
            "progress task={task} unit={u} done={} total={} rate_per_s={} elapsed_s={:.1}",
            unit.show(done),
            unit.show(total),
            unit.show(rate as u64),
            secs
        );
        if let (false, Some(e)) = (last, eta) {
            s.push_str(&format!(" eta_s={e}"));
        }
        if last {
            s.push_str(" finished=true");
        }
        s
    }
}

/// `h:mm:ss` or `m:ss`.
fn clock(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_line_has_share_rate_and_eta() {
        let l = line(
            "backup",
            Unit::Events,
            2_500,
            10_000,
            Duration::from_secs(5),
            true,
            false,
        );
        assert_eq!(l, "backup: 25% 2500/10000 events, 500 events/s ETA 0:15");
    }

    #[test]
    fn finished_terminal_line_says_how_long() {
        let l = line(
            "restore",
            Unit::Bytes,
            3 * 1_048_576,
            3 * 1_048_576,
            Duration::from_secs(62),
            true,
            true,
        );
        assert!(l.starts_with("restore: 100% 3.0/3.0 MiB"), "{l}");
        assert!(l.ends_with("done in 1:02"), "{l}");
    }

    #[test]
    fn plain_line_is_key_value_without_control_characters() {
        let l = line(
            "audit-verify",
            Unit::Events,
            100,
            400,
            Duration::from_secs(1),
            false,
            false,
        );
        assert_eq!(
            l,
            "progress task=audit-verify unit=events done=100 total=400 rate_per_s=100 \
             elapsed_s=1.0 eta_s=3"
        );
        assert!(!l.chars().any(char::is_control));
        let l = line("x", Unit::Rows, 4, 4, Duration::from_secs(1), false, true);
        assert!(l.ends_with("finished=true") && !l.contains("eta_s"), "{l}");
    }

    #[test]
    fn unknown_total_gives_no_share_and_no_eta() {
        let l = line(
            "export",
            Unit::Events,
            7,
            0,
            Duration::from_secs(1),
            true,
            false,
        );
        assert_eq!(l, "export: 7 events, 7 events/s ");
    }

    #[test]
    fn clock_formats() {
        assert_eq!(clock(0), "0:00");
        assert_eq!(clock(3_725), "1:02:05");
    }
}
