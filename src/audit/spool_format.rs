//! The spool's record format: one audit event per line, checksummed (pure, unit-tested).
//!
//! A line is the event's JSON, a tab, and the first 16 hex digits of the SHA-256 of that JSON,
//! then `\n`. JSON never contains a raw tab or newline, so the line is unambiguous; the
//! checksum tells a record that was written whole from one damaged on disk. A last line without
//! its `\n` is a write the crash interrupted: its fsync never completed, so no client was told it
//! was recorded, and it is dropped — never half-read.

use sha2::{Digest, Sha256};

use super::event::AuditEvent;

/// Hex digits of the checksum kept per line.
const CHECKSUM_HEX: usize = 16;

/// Encodes `event` as one spool line (with its `\n`), appended to `out`.
pub fn encode(event: &AuditEvent, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    let start = out.len();
    serde_json::to_writer(&mut *out, event)?;
    let sum = checksum(&out[start..]);
    out.push(b'\t');
    out.extend_from_slice(sum.as_bytes());
    out.push(b'\n');
    Ok(())
}

fn checksum(json: &[u8]) -> String {
    let digest = Sha256::digest(json);
    let mut hex = hex::encode(digest);
    hex.truncate(CHECKSUM_HEX);
    hex
}

/// What one line of a spool file holds.
#[derive(Debug, PartialEq)]
pub enum Record {
    Event(Box<AuditEvent>),
    /// A complete line whose checksum or JSON does not hold: damaged on disk.
    Damaged(String),
}

/// Reads the complete lines at the start of `buf`: the records and how many bytes they took.
/// Bytes after the last `\n` (an interrupted write, or a line not yet wholly read) are left for
/// the caller: `consumed` stops before them.
pub fn decode(buf: &[u8]) -> (Vec<Record>, usize) {
    let mut records = Vec::new();
    let mut consumed = 0;
    while let Some(end) = buf[consumed..].iter().position(|&b| b == b'\n') {
        records.push(decode_line(&buf[consumed..consumed + end]));
        consumed += end + 1;
    }
    (records, consumed)
}

fn decode_line(line: &[u8]) -> Record {
    let Some(tab) = line.iter().rposition(|&b| b == b'\t') else {
        return Record::Damaged("no checksum".into());
    };
    let (json, sum) = (&line[..tab], &line[tab + 1..]);
    if sum != checksum(json).as_bytes() {
        return Record::Damaged("checksum mismatch".into());
    }
    match serde_json::from_slice::<AuditEvent>(json) {
        Ok(event) => Record::Event(Box::new(event)),
        Err(e) => Record::Damaged(format!("not an audit event: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::EventType;

    fn event(n: u32) -> AuditEvent {
        AuditEvent::new(EventType::LlmCall)
            .agent(format!("agent-{n}"))
            .details(serde_json::json!({"text": "tab\there\nnewline", "n": n}))
    }

    fn encoded(events: &[AuditEvent]) -> Vec<u8> {
        let mut out = Vec::new();
        for e in events {
            encode(e, &mut out).unwrap();
        }
        out
    }

    #[test]
    fn events_round_trip_one_line_each() {
        let events = [event(1), event(2), event(3)];
        let buf = encoded(&events);
        assert_eq!(buf.iter().filter(|&&b| b == b'\n').count(), 3);
        let (records, consumed) = decode(&buf);
        assert_eq!(consumed, buf.len());
        let back: Vec<AuditEvent> = records
            .into_iter()
            .map(|r| match r {
                Record::Event(e) => *e,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(back, events);
    }

    #[test]
    fn an_interrupted_last_line_is_left_unread_at_every_cut() {
        let events = [event(1), event(2)];
        let buf = encoded(&events);
        let first_end = buf.iter().position(|&b| b == b'\n').unwrap() + 1;
        for cut in 0..buf.len() {
            let (records, consumed) = decode(&buf[..cut]);
            let whole = usize::from(cut >= first_end);
            assert_eq!(records.len(), whole, "cut at {cut}");
            assert_eq!(consumed, if whole == 1 { first_end } else { 0 });
            assert!(records.iter().all(|r| matches!(r, Record::Event(_))));
        }
    }

    #[test]
    fn a_damaged_line_is_reported_and_the_next_still_read() {
        let mut buf = encoded(&[event(1), event(2)]);
        // Flip one byte inside the first record's JSON.
        let at = buf.iter().position(|&b| b == b'1').unwrap();
        buf[at] = b'7';
        let (records, _) = decode(&buf);
        assert!(matches!(&records[0], Record::Damaged(m) if m == "checksum mismatch"));
        assert!(
            matches!(&records[1], Record::Event(e) if e.agent_id.as_deref() == Some("agent-2"))
        );
    }

    #[test]
    fn lines_that_are_not_records_are_damaged() {
        for line in [&b"no tab at all\n"[..], b"{}\t0000000000000000\n", b"\t\n"] {
            let (records, consumed) = decode(line);
            assert_eq!(consumed, line.len());
            assert!(matches!(records[0], Record::Damaged(_)), "{line:?}");
        }
        // A valid checksum over JSON that is not an event.
        let json = br#"{"a":1}"#;
        let mut line = json.to_vec();
        line.push(b'\t');
        line.extend_from_slice(checksum(json).as_bytes());
        line.push(b'\n');
        let (records, _) = decode(&line);
        assert!(matches!(&records[0], Record::Damaged(m) if m.starts_with("not an audit event")));
    }
}
