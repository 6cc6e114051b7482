//! Verifying the stored chain (`GET /audit/verify`, `tappass audit verify`) and an export file.

use std::io::BufRead;

use serde::Serialize;
use serde_json::Value;

use super::chain::{self, Break, Head, Verifier};
use crate::store::{Store, StoreError};

/// The outcome of a verification, shaped as product.md's `GET /audit/verify` body.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub verified: bool,
    pub chain_intact: bool,
    pub events_checked: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken_event: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Report {
    fn from_result(result: Result<u64, Break>, checked: u64, head: Option<&Head>) -> Report {
        match result {
            Ok(n) => Report {
                verified: true,
                chain_intact: true,
                events_checked: n,
                head_seq: head.map(|h| h.seq),
                head_hash: head.map(|h| h.hash.clone()),
                first_broken_seq: None,
                first_broken_event: None,
                reason: None,
            },
            Err(b) => Report {
                verified: false,
                chain_intact: false,
                events_checked: checked,
                head_seq: head.map(|h| h.seq),
                head_hash: head.map(|h| h.hash.clone()),
                first_broken_seq: Some(b.seq),
                first_broken_event: b.audit_id.clone(),
                reason: Some(b.to_string()),
            },
        }
    }
}

const PAGE: u32 = 1000;

/// Recomputes the whole stored chain from genesis against the recorded head.
///
/// Rows are read up to the head taken at the start, so appends running meanwhile do not count
/// as "events beyond the head"; rows beyond it are checked by comparing `max(seq)` afterwards.
pub async fn verify_store(store: &Store) -> Result<Report, StoreError> {
    verify_store_with(store, &mut |_, _| {}).await
}

/// [`verify_store`], calling `progress(events_checked, head_seq)` after every page.
pub async fn verify_store_with(
    store: &Store,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Report, StoreError> {
    verify_from(store, None, progress).await
}

/// Verifies only what was appended after `anchor`, a link an earlier verification ended on
/// (`tappass health` every 5 minutes): the anchor's row must still be there with the same hash,
/// and every later event must link to it. `None` verifies from genesis. The report counts the
/// events checked in this call.
pub async fn verify_store_since(
    store: &Store,
    anchor: Option<&Head>,
) -> Result<Report, StoreError> {
    verify_from(store, anchor, &mut |_, _| {}).await
}

async fn verify_from(
    store: &Store,
    anchor: Option<&Head>,
    progress: &mut (dyn FnMut(u64, u64) + Send),
) -> Result<Report, StoreError> {
    let head = store.audit_head().await?;
    let upto = head.as_ref().map_or(0, |h| h.seq);
    let (mut v, mut after) = match anchor {
        None => (Verifier::new(), 0u64),
        Some(a) => {
            let row = store.audit_range(a.seq.saturating_sub(1), a.seq, 1).await?;
            let changed = match row.first() {
                None => Some(format!(
                    "event seq {} (verified earlier) is gone: the chain ends at seq {upto}",
                    a.seq
                )),
                Some(r)
                    if r.hash != a.hash || chain::sha256_hex(r.canonical.as_bytes()) != a.hash =>
                {
                    Some(format!("event seq {} changed since it was verified", a.seq))
                }
                Some(_) => None,
            };
            if let Some(reason) = changed {
                let b = Break {
                    seq: a.seq,
                    audit_id: None,
                    reason,
                };
                return Ok(Report::from_result(Err(b), 0, head.as_ref()));
            }
            (Verifier::resume(a.clone()), a.seq)
        }
    };
    // The next page is fetched while this one is checked: with the fast canonical check the
    // database's answer, not the hashing, is the slower half.
    let fetch = |after: u64| {
        let store = store.clone();
        tokio::spawn(async move { store.audit_range(after, upto, PAGE).await })
    };
    let mut next = fetch(after);
    let result = loop {
        let rows = match next.await {
            Ok(rows) => rows?,
            // Never cancelled; a panic in the fetch is this function's own.
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        if rows.is_empty() {
            break Ok(());
        }
        next = fetch(rows.last().map_or(after, |r| r.seq));
        let mut broke = None;
        for r in &rows {
            if let Err(b) = v.push(r.seq, &r.canonical, &r.hash) {
                broke = Some(b);
                break;
            }
            after = r.seq;
        }
        if let Some(b) = broke {
            break Err(b);
        }
        progress(v.checked(), upto);
    };
    let checked = v.checked();
    let result = result.and_then(|()| v.finish(head.as_ref()));
    Ok(Report::from_result(result, checked, head.as_ref()))
}

/// Verifies a JSONL export (one event per line, each with its `hash`), from genesis. Offline:
/// there is no recorded head, so the report's head is the last line's link.
pub fn verify_export(reader: impl BufRead) -> Report {
    let mut v = Verifier::new();
    let mut last: Option<Head> = None;
    for (i, line) in reader.lines().enumerate() {
        let step = (|| -> Result<Head, Break> {
            let at = |reason: String| Break {
                seq: last.as_ref().map_or(1, |h| h.seq + 1),
                audit_id: None,
                reason: format!("line {}: {reason}", i + 1),
            };
            let line = line.map_err(|e| at(format!("unreadable: {e}")))?;
            let mut value: Value =
                serde_json::from_str(&line).map_err(|e| at(format!("not JSON: {e}")))?;
            let obj = value
                .as_object_mut()
                .ok_or_else(|| at("not a JSON object".into()))?;
            let hash = match obj.remove("hash") {
                Some(Value::String(h)) => h,
                _ => return Err(at("no hash field".into())),
            };
            let seq = obj
                .get("seq")
                .and_then(Value::as_u64)
                .ok_or_else(|| at("no seq field".into()))?;
            let canonical = serde_json_canonicalizer::to_string(&value)
                .map_err(|e| at(format!("cannot encode: {e}")))?;
            v.push(seq, &canonical, &hash)?;
            Ok(Head { seq, hash })
        })();
        match step {
            Ok(h) => last = Some(h),
            Err(b) => return Report::from_result(Err(b), v.checked(), last.as_ref()),
        }
    }
    let checked = v.checked();
    let result = v.finish(last.as_ref());
    Report::from_result(result, checked, last.as_ref())
}

/// One export line: the stored event with its `hash` added.
pub fn export_line(canonical: &str, hash: &str) -> Result<String, serde_json::Error> {
    let mut value: Value = serde_json::from_str(canonical)?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("hash".into(), Value::from(hash));
    }
    serde_json_canonicalizer::to_string(&value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::chain::link;
    use crate::audit::event::AuditEvent;

    fn export(n: usize) -> Vec<String> {
        let mut prev: Option<Head> = None;
        let mut lines = Vec::new();
        for _ in 0..n {
            let l = link(
                &AuditEvent::new(crate::audit::event::EventType::LlmCall),
                prev.as_ref(),
            )
            .unwrap();
            lines.push(export_line(&l.canonical, &l.hash).unwrap());
            prev = Some(Head {
                seq: l.seq,
                hash: l.hash,
            });
        }
        lines
    }

    #[test]
    fn export_round_trips_through_offline_verify() {
        let lines = export(3).join("\n");
        let r = verify_export(lines.as_bytes());
        assert!(r.verified, "{r:?}");
        assert_eq!(r.events_checked, 3);
        assert_eq!(r.head_seq, Some(3));
    }

    #[test]
    fn edited_export_line_is_named() {
        let mut lines = export(3);
        lines[1] = lines[1].replace("llm_call", "llm_calm");
        let r = verify_export(lines.join("\n").as_bytes());
        assert!(!r.verified);
        assert_eq!(r.first_broken_seq, Some(2));
        assert!(r.first_broken_event.is_some());
    }

    #[test]
    fn removed_export_line_is_detected() {
        let mut lines = export(3);
        lines.remove(0);
        let r = verify_export(lines.join("\n").as_bytes());
        assert!(!r.verified);
        assert_eq!(r.first_broken_seq, Some(1));
    }

    #[test]
    fn garbage_line_is_reported_with_its_number() {
        let mut lines = export(2);
        lines.push("nope".into());
        let r = verify_export(lines.join("\n").as_bytes());
        assert!(!r.verified);
        assert!(r.reason.unwrap().contains("line 3"));
    }
}
