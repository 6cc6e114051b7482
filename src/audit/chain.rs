//! The hash chain: linking events and verifying a chain. Pure code, no I/O.
//!
//! Encoding (product.md, "Audit event encoding"): the linked event is the event's fields plus
//! `seq` and `prev_hash`, serialized as RFC 8785 canonical JSON. Those canonical bytes are what
//! is stored — verbatim — and `hash = hex(SHA-256(bytes))`. Verification recomputes everything
//! from the stored bytes, never from re-serialized typed columns, and compares the last link to
//! the recorded chain head so that a deleted tail is caught too.

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::event::AuditEvent;

/// A link's position: its `seq` and `hash`. The chain head is the last link.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

/// An event linked into the chain: the canonical bytes to store and their hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub seq: u64,
    pub audit_id: String,
    pub canonical: String,
    pub hash: String,
}

/// Errors linking an event (only possible if serialization itself fails).
#[derive(Debug, thiserror::Error)]
#[error("cannot encode audit event: {0}")]
pub struct EncodeError(#[from] serde_json::Error);

/// Links `event` after `prev` (`None` for the genesis event).
pub fn link(event: &AuditEvent, prev: Option<&Head>) -> Result<Linked, EncodeError> {
    let mut value = serde_json::to_value(event)?;
    let seq = prev.map_or(1, |h| h.seq + 1);
    let obj = value
        .as_object_mut()
        .expect("AuditEvent serializes to an object");
    obj.insert("seq".into(), Value::from(seq));
    obj.insert(
        "prev_hash".into(),
        prev.map_or(Value::Null, |h| Value::from(h.hash.clone())),
    );
    let canonical = serde_json_canonicalizer::to_string(&value)?;
    let hash = sha256_hex(canonical.as_bytes());
    Ok(Linked {
        seq,
        audit_id: event.audit_id.clone(),
        canonical,
        hash,
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Is `hex_hash` the lower-case hex SHA-256 of `bytes`? (No allocation.)
fn sha256_matches(bytes: &[u8], hex_hash: &str) -> bool {
    let mut buf = [0u8; 64];
    hex::encode_to_slice(Sha256::digest(bytes), &mut buf).is_ok() && buf == hex_hash.as_bytes()
}

/// Where and why a chain stopped verifying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The seq at which the break was found (the stored row's seq, or the expected one).
    pub seq: u64,
    /// The event's audit_id when it could still be read.
    pub audit_id: Option<String>,
    pub reason: String,
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.audit_id {
            Some(id) => write!(f, "event seq {} ({id}): {}", self.seq, self.reason),
            None => write!(f, "event seq {}: {}", self.seq, self.reason),
        }
    }
}

/// Incremental verifier: feed stored rows in seq order, then call `finish` with the recorded head.
#[derive(Debug, Default)]
pub struct Verifier {
    last: Option<Head>,
    checked: u64,
}

impl Verifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Continues after a link verified earlier (`tappass health` verifies only what is new).
    pub fn resume(after: Head) -> Self {
        Verifier {
            last: Some(after),
            checked: 0,
        }
    }

    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// Checks one stored row: `seq` and `hash` as stored beside the canonical bytes.
    pub fn push(&mut self, seq: u64, canonical: &str, hash: &str) -> Result<(), Break> {
        if self.push_fast(seq, canonical, hash) {
            return Ok(());
        }
        self.push_reference(seq, canonical, hash)
    }

    /// The fast path: the bytes are provably canonical (`jcs::canonical_object`) and every
    /// check passes. `false` leaves the row to `push_reference`, which names what is wrong.
    fn push_fast(&mut self, seq: u64, canonical: &str, hash: &str) -> bool {
        let expected_seq = self.last.as_ref().map_or(1, |h| h.seq + 1);
        let Some(f) = super::jcs::canonical_object(canonical) else {
            return false;
        };
        let prev_expected = self.last.as_ref().map(|h| h.hash.as_str());
        let ok = seq == expected_seq
            && f.seq == Some(seq)
            && f.prev_hash == Some(prev_expected)
            && sha256_matches(canonical.as_bytes(), hash);
        if ok {
            self.last = Some(Head {
                seq,
                hash: hash.to_string(),
            });
            self.checked += 1;
        }
        ok
    }

    /// The reference check: parse, compare, re-encode. Slow (allocates a tree per event), so
    /// only rows the fast path could not prove go through it; it reports the first failure.
    fn push_reference(&mut self, seq: u64, canonical: &str, hash: &str) -> Result<(), Break> {
        let expected_seq = self.last.as_ref().map_or(1, |h| h.seq + 1);
        let fail = |audit_id: Option<String>, reason: String| Break {
            seq: expected_seq.min(seq.max(1)),
            audit_id,
            reason,
        };
        let value: Value = serde_json::from_str(canonical)
            .map_err(|e| fail(None, format!("stored event is not valid JSON: {e}")))?;
        let audit_id = value
            .get("audit_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        if seq != expected_seq {
            return Err(fail(
                audit_id,
                format!("expected seq {expected_seq}, found {seq} (an event is missing)"),
            ));
        }
        if value.get("seq").and_then(Value::as_u64) != Some(seq) {
            return Err(fail(audit_id, "seq inside the event does not match".into()));
        }
        let prev_in_event = value
            .get("prev_hash")
            .ok_or_else(|| fail(audit_id.clone(), "prev_hash missing from the event".into()))?;
        let prev_expected = self
            .last
            .as_ref()
            .map_or(Value::Null, |h| Value::from(h.hash.clone()));
        if *prev_in_event != prev_expected {
            return Err(fail(
                audit_id,
                "prev_hash does not match the previous event's hash".into(),
            ));
        }
        let computed = sha256_hex(canonical.as_bytes());
        if computed != hash {
            return Err(fail(
                audit_id,
                "hash does not match the event's content (modified)".into(),
            ));
        }
        let recanonical = serde_json_canonicalizer::to_string(&value)
            .map_err(|e| fail(audit_id.clone(), format!("cannot re-encode: {e}")))?;
        if recanonical != canonical {
            return Err(fail(audit_id, "stored bytes are not canonical JSON".into()));
        }
        self.last = Some(Head {
            seq,
            hash: hash.to_string(),
        });
        self.checked += 1;
        Ok(())
    }

    /// Compares the last verified link with the recorded head (`None`: an empty chain).
    pub fn finish(self, recorded_head: Option<&Head>) -> Result<u64, Break> {
        match (self.last.as_ref(), recorded_head) {
            (None, None) => Ok(0),
            (Some(last), Some(head)) if last == head => Ok(self.checked),
            (last, head) => {
                let last_seq = last.map_or(0, |h| h.seq);
                let head_seq = head.map_or(0, |h| h.seq);
                let reason = if head_seq > last_seq {
                    format!("chain head records seq {head_seq} but the last event is seq {last_seq} (events were deleted)")
                } else if head_seq < last_seq {
                    format!("events after the recorded head seq {head_seq} (last is {last_seq})")
                } else {
                    "the last event's hash differs from the recorded chain head".to_string()
                };
                Err(Break {
                    seq: last_seq.max(head_seq),
                    audit_id: None,
                    reason,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<Linked> {
        let mut out: Vec<Linked> = Vec::new();
        for i in 0..n {
            let mut e = AuditEvent::new(crate::audit::event::EventType::LlmCall);
            e.agent_id = Some(format!("agent-{i}"));
            let prev = out.last().map(|l| Head {
                seq: l.seq,
                hash: l.hash.clone(),
            });
            out.push(link(&e, prev.as_ref()).unwrap());
        }
        out
    }

    fn head_of(c: &[Linked]) -> Option<Head> {
        c.last().map(|l| Head {
            seq: l.seq,
            hash: l.hash.clone(),
        })
    }

    fn verify(c: &[Linked], head: Option<&Head>) -> Result<u64, Break> {
        let mut v = Verifier::new();
        for l in c {
            v.push(l.seq, &l.canonical, &l.hash)?;
        }
        v.finish(head)
    }

    #[test]
    fn genesis_has_seq_1_and_null_prev_hash() {
        let c = chain(1);
        let v: Value = serde_json::from_str(&c[0].canonical).unwrap();
        assert_eq!(v["seq"], 1);
        assert!(v["prev_hash"].is_null());
        assert_eq!(c[0].hash, sha256_hex(c[0].canonical.as_bytes()));
    }

    #[test]
    fn canonical_form_is_sorted_and_compact() {
        let c = chain(1);
        let s = &c[0].canonical;
        assert!(!s.contains(": ") && !s.contains(", "));
        let keys: Vec<String> = serde_json::from_str::<serde_json::Map<String, Value>>(s)
            .unwrap()
            .keys()
            .cloned()
            .collect();
        // serde_json's Map is sorted (no preserve_order), so this is the sorted key order; the
        // canonical text must list keys in exactly that order.
        let mut pos = 0;
        for k in keys {
            let at = s[pos..]
                .find(&format!("\"{k}\":"))
                .expect("key present in order");
            pos += at;
        }
    }

    #[test]
    fn intact_chain_verifies() {
        let c = chain(5);
        assert_eq!(verify(&c, head_of(&c).as_ref()), Ok(5));
        assert_eq!(verify(&[], None), Ok(0));
    }

    #[test]
    fn one_byte_edit_is_detected() {
        let mut c = chain(4);
        c[2].canonical = c[2].canonical.replacen("agent-2", "agent-X", 1);
        let err = verify(&c, head_of(&c).as_ref()).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("modified"), "{}", err.reason);
        assert_eq!(err.audit_id.as_deref(), Some(c[2].audit_id.as_str()));
    }

    #[test]
    fn edit_with_recomputed_hash_breaks_the_next_link() {
        let mut c = chain(4);
        c[1].canonical = c[1].canonical.replacen("agent-1", "agent-Y", 1);
        c[1].hash = sha256_hex(c[1].canonical.as_bytes());
        let err = verify(&c, head_of(&c).as_ref()).unwrap_err();
        assert_eq!(err.seq, 3);
        assert!(err.reason.contains("prev_hash"));
    }

    #[test]
    fn deleted_middle_event_is_detected() {
        let mut c = chain(4);
        let head = head_of(&c);
        c.remove(1);
        let err = verify(&c, head.as_ref()).unwrap_err();
        assert_eq!(err.seq, 2);
        assert!(err.reason.contains("missing"));
    }

    #[test]
    fn deleted_tail_is_detected_by_the_head() {
        let mut c = chain(4);
        let head = head_of(&c);
        c.pop();
        let err = verify(&c, head.as_ref()).unwrap_err();
        assert!(err.reason.contains("deleted"), "{}", err.reason);
        // and deleting everything is caught as well
        assert!(verify(&[], head.as_ref()).is_err());
    }

    #[test]
    fn events_beyond_the_head_are_detected() {
        let c = chain(3);
        let short_head = head_of(&c[..2]);
        assert!(verify(&c, short_head.as_ref()).is_err());
    }

    #[test]
    fn non_canonical_bytes_with_matching_hash_are_detected() {
        let mut c = chain(1);
        let pretty =
            serde_json::to_string_pretty(&serde_json::from_str::<Value>(&c[0].canonical).unwrap())
                .unwrap();
        c[0].hash = sha256_hex(pretty.as_bytes());
        c[0].canonical = pretty;
        let err = verify(&c, head_of(&c).as_ref()).unwrap_err();
        assert!(err.reason.contains("canonical"));
    }

    #[test]
    fn a_resumed_verifier_checks_only_what_follows_its_anchor() {
        let c = chain(5);
        let anchor = head_of(&c[..3]).unwrap();
        let mut v = Verifier::resume(anchor.clone());
        for l in &c[3..] {
            v.push(l.seq, &l.canonical, &l.hash).unwrap();
        }
        assert_eq!(v.finish(head_of(&c).as_ref()), Ok(2));

        // An anchor that is not what event 3 hashed to: event 4 does not link to it.
        let wrong = Head {
            seq: 3,
            hash: c[1].hash.clone(),
        };
        let err = Verifier::resume(wrong)
            .push(c[3].seq, &c[3].canonical, &c[3].hash)
            .unwrap_err();
        assert_eq!(err.seq, 4);
        assert!(err.reason.contains("prev_hash"), "{}", err.reason);

        // Nothing new: the anchor must still be the head.
        assert_eq!(
            Verifier::resume(anchor.clone()).finish(Some(&anchor)),
            Ok(0)
        );
        assert!(Verifier::resume(anchor)
            .finish(head_of(&c).as_ref())
            .is_err());
    }

    #[test]
    fn garbage_row_is_detected() {
        let mut v = Verifier::new();
        let err = v.push(1, "{not json", "00").unwrap_err();
        assert_eq!(err.seq, 1);
    }

    #[test]
    fn unicode_and_escapes_survive_canonicalization() {
        let mut e = AuditEvent::new(crate::audit::event::EventType::LlmCall);
        e.model = Some("mødel \"quoted\" \u{1F600} \n tab\t".into());
        let l = link(&e, None).unwrap();
        let mut v = Verifier::new();
        v.push(1, &l.canonical, &l.hash).unwrap();
        assert!(v
            .finish(Some(&Head {
                seq: 1,
                hash: l.hash.clone()
            }))
            .is_ok());
    }
}
