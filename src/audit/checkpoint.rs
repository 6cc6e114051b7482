//! Signed checkpoints: the chain's head anchored outside the database.
//!
//! The chain proves that no event was changed in place, but someone who can write the
//! database can delete the newest events and rewrite `audit_head` to match — the remaining
//! chain still verifies. So the daemon periodically (and on shutdown) signs `(seq, hash)` of the
//! head with an Ed25519 key the database never sees, and writes the checkpoint to the journal
//! and to a file beside the state. `tappass audit verify` then checks the stored chain against
//! the newest checkpoint: the event at its `seq` must exist with its `hash`.
//!
//! Signing and checking are pure; `checkpoint_file.rs` keeps the key and the file.

use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use serde::{Deserialize, Serialize};

/// Domain separation: a checkpoint signature can never be mistaken for another signed text.
const DOMAIN: &str = "tappass-audit-checkpoint/v1";

/// One signed checkpoint (a line of the checkpoint file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: u64,
    pub hash: String,
    /// RFC 3339 UTC time of signing.
    pub ts: String,
    /// The signer's Ed25519 public key, hex.
    pub public_key: String,
    /// Ed25519 signature over the domain, seq, hash and ts, hex.
    pub signature: String,
}

fn message(seq: u64, hash: &str, ts: &str) -> String {
    format!("{DOMAIN}\n{seq}\n{hash}\n{ts}")
}

/// The checkpoint signer (an Ed25519 key pair from a 32-byte seed).
pub struct Signer {
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("public_key", &self.public_hex())
            .finish()
    }
}

impl Signer {
    pub fn from_seed(seed: &[u8]) -> Result<Signer, String> {
        if seed.len() != 32 {
            return Err(format!(
                "an Ed25519 seed is 32 bytes (64 hex digits), not {}",
                seed.len()
            ));
        }
        Ed25519KeyPair::from_seed_unchecked(seed)
            .map(|pair| Signer { pair })
            .map_err(|e| format!("not an Ed25519 seed: {e}"))
    }

    pub fn public_hex(&self) -> String {
        hex::encode(self.pair.public_key().as_ref())
    }

    pub fn sign(&self, seq: u64, hash: &str, ts: &str) -> Checkpoint {
        let sig = self.pair.sign(message(seq, hash, ts).as_bytes());
        Checkpoint {
            seq,
            hash: hash.to_string(),
            ts: ts.to_string(),
            public_key: self.public_hex(),
            signature: hex::encode(sig.as_ref()),
        }
    }
}

/// What the stored chain looks like next to a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Anchor {
    /// The event at the checkpoint's seq is stored with the signed hash.
    Consistent,
    /// The stored chain ends before the checkpoint: events were deleted.
    Truncated { head_seq: u64, checkpoint_seq: u64 },
    /// The event at the checkpoint's seq has another hash: the chain was rewritten.
    Rewritten { seq: u64 },
}

/// Checks `cp`'s signature with the `trusted` public key (hex). A checkpoint signed by any
/// other key is refused, whatever key it names.
pub fn verify_signature(cp: &Checkpoint, trusted: &str) -> Result<(), String> {
    if !cp.public_key.eq_ignore_ascii_case(trusted) {
        return Err(format!(
            "checkpoint seq {} is signed by key {}, not the trusted key {trusted}",
            cp.seq, cp.public_key
        ));
    }
    let public = hex::decode(trusted).map_err(|_| "the trusted public key is not hex")?;
    let sig = hex::decode(&cp.signature).map_err(|_| "the signature is not hex")?;
    UnparsedPublicKey::new(&ED25519, public)
        .verify(message(cp.seq, &cp.hash, &cp.ts).as_bytes(), &sig)
        .map_err(|_| format!("checkpoint seq {}: bad signature", cp.seq))
}

/// Compares a (signature-checked) checkpoint with the stored chain: `head_seq` and the stored
/// hash of the event at the checkpoint's seq, if any.
pub fn anchor(cp: &Checkpoint, head_seq: u64, stored_hash: Option<&str>) -> Anchor {
    match stored_hash {
        _ if head_seq < cp.seq => Anchor::Truncated {
            head_seq,
            checkpoint_seq: cp.seq,
        },
        None => Anchor::Truncated {
            head_seq,
            checkpoint_seq: cp.seq,
        },
        Some(h) if h == cp.hash => Anchor::Consistent,
        Some(_) => Anchor::Rewritten { seq: cp.seq },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::from_seed(&[7u8; 32]).unwrap()
    }

    #[test]
    fn a_signed_checkpoint_verifies_with_its_key_only() {
        let s = signer();
        let cp = s.sign(42, "ab12", "2026-12-03T10:00:00Z");
        assert!(verify_signature(&cp, &s.public_hex()).is_ok());
        let other = Signer::from_seed(&[8u8; 32]).unwrap();
        assert!(verify_signature(&cp, &other.public_hex()).is_err());
        // A forger who re-signs with their own key and names it is refused too.
        let forged = other.sign(42, "ab12", "2026-12-03T10:00:00Z");
        assert!(verify_signature(&forged, &s.public_hex()).is_err());
    }

    #[test]
    fn any_change_breaks_the_signature() {
        let s = signer();
        let cp = s.sign(42, "ab12", "2026-12-03T10:00:00Z");
        for tampered in [
            Checkpoint {
                seq: 41,
                ..cp.clone()
            },
            Checkpoint {
                hash: "ab13".into(),
                ..cp.clone()
            },
            Checkpoint {
                ts: "2026-12-04T10:00:00Z".into(),
                ..cp.clone()
            },
            Checkpoint {
                signature: "00".repeat(64),
                ..cp.clone()
            },
        ] {
            assert!(verify_signature(&tampered, &s.public_hex()).is_err());
        }
    }

    #[test]
    fn seeds_must_be_32_bytes() {
        assert!(Signer::from_seed(&[1u8; 31]).is_err());
        assert!(Signer::from_seed(&[1u8; 33]).is_err());
        assert_eq!(signer().public_hex().len(), 64);
    }

    #[test]
    fn anchoring_names_truncation_and_rewrites() {
        let cp = signer().sign(10, "h10", "t");
        assert_eq!(anchor(&cp, 12, Some("h10")), Anchor::Consistent);
        assert_eq!(anchor(&cp, 10, Some("h10")), Anchor::Consistent);
        assert_eq!(
            anchor(&cp, 8, None),
            Anchor::Truncated {
                head_seq: 8,
                checkpoint_seq: 10
            }
        );
        assert_eq!(
            anchor(&cp, 10, Some("other")),
            Anchor::Rewritten { seq: 10 }
        );
        // Deleted, then as many forged events appended: the hash gives it away.
        assert_eq!(
            anchor(&cp, 15, Some("forged")),
            Anchor::Rewritten { seq: 10 }
        );
    }
}
