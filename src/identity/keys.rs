//! API keys: generation, parsing, hashing and constant-time verification.
//!
//! A key is `tp_<key_id>_<secret>` (agents) or `tp_admin_<key_id>_<secret>` (admins and
//! auditors). The `key_id` is public — safe to log, show and use as a database lookup — so the
//! secret part is never used to *find* a row, only to *compare* against the stored SHA-256 hash,
//! and that comparison is constant-time. The secret is 32 random alphanumerics (~190 bits), so a
//! plain SHA-256 (no slow KDF) is the right hash: nothing to brute-force.

use rand::{distributions::Alphanumeric, Rng};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix of agent keys (data plane).
pub const AGENT_PREFIX: &str = "tp_";
/// Prefix of control-plane keys (admin and auditor roles).
pub const ADMIN_PREFIX: &str = "tp_admin_";

const KEY_ID_LEN: usize = 12;
const SECRET_LEN: usize = 32;

/// Which family a presented token claims to belong to (by prefix only; nothing is verified yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFamily {
    Agent,
    Admin,
}

/// A freshly generated key: the token is shown to its owner once, then only the hash is kept.
pub struct GeneratedKey {
    pub key_id: String,
    pub token: SecretString,
    pub hash: String,
}

/// Generates a new key of the given family.
pub fn generate(family: KeyFamily) -> GeneratedKey {
    let key_id = random_lower_alnum(KEY_ID_LEN);
    let secret: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(SECRET_LEN)
        .map(char::from)
        .collect();
    let prefix = match family {
        KeyFamily::Agent => AGENT_PREFIX,
        KeyFamily::Admin => ADMIN_PREFIX,
    };
    let token = format!("{prefix}{key_id}_{secret}");
    let hash = hash_token(&token);
    GeneratedKey {
        key_id,
        token: SecretString::from(token),
        hash,
    }
}

fn random_lower_alnum(len: usize) -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
        .collect()
}

/// Hex SHA-256 of a token; what the database stores.
pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A presented token split into its public id; `None` when it is not in our format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedToken {
    pub family: KeyFamily,
    pub key_id: String,
}

/// Parses a presented token without verifying it.
pub fn parse(token: &str) -> Option<ParsedToken> {
    let (family, rest) = if let Some(rest) = token.strip_prefix(ADMIN_PREFIX) {
        (KeyFamily::Admin, rest)
    } else if let Some(rest) = token.strip_prefix(AGENT_PREFIX) {
        (KeyFamily::Agent, rest)
    } else {
        return None;
    };
    let (key_id, secret) = rest.split_once('_')?;
    let id_ok = key_id.len() == KEY_ID_LEN
        && key_id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let secret_ok = secret.len() == SECRET_LEN && secret.bytes().all(|b| b.is_ascii_alphanumeric());
    (id_ok && secret_ok).then(|| ParsedToken {
        family,
        key_id: key_id.to_string(),
    })
}

/// Constant-time check of a presented token against a stored hex hash.
pub fn verify(token: &str, stored_hash: &str) -> bool {
    let presented = hash_token(token);
    presented.as_bytes().ct_eq(stored_hash.as_bytes()).into()
}

/// Constant-time check against a secret held in memory (e.g. `TAPPASS_ADMIN_API_KEY`).
pub fn verify_secret(token: &str, configured: &SecretString) -> bool {
    verify(token, &hash_token(configured.expose_secret()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_verify() {
        for family in [KeyFamily::Agent, KeyFamily::Admin] {
            let key = generate(family);
            let token = key.token.expose_secret();
            let parsed = parse(token).expect("own format");
            assert_eq!(parsed.family, family);
            assert_eq!(parsed.key_id, key.key_id);
            assert!(verify(token, &key.hash));
        }
    }

    #[test]
    fn agent_and_admin_prefixes_are_distinct() {
        let admin = generate(KeyFamily::Admin);
        assert!(admin.token.expose_secret().starts_with("tp_admin_"));
        let agent = generate(KeyFamily::Agent);
        assert!(!agent.token.expose_secret().starts_with("tp_admin_"));
    }

    #[test]
    fn a_changed_secret_does_not_verify() {
        let key = generate(KeyFamily::Agent);
        let mut token = key.token.expose_secret().to_string();
        let last = token.pop().unwrap();
        token.push(if last == 'a' { 'b' } else { 'a' });
        assert!(!verify(&token, &key.hash));
    }

    #[test]
    fn foreign_and_malformed_tokens_do_not_parse() {
        for bad in [
            "",
            "sk-abc",
            "tp_",
            "tp_short_secret",
            "tp_abcdefghijkl_tooshort",
            "tp_ABCDEFGHIJKL_0123456789abcdef0123456789abcdef",
            "tp_abcdefghijkl_0123456789abcdef0123456789abcde!",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn verify_secret_compares_configured_keys() {
        let configured = SecretString::from("my-admin-key".to_string());
        assert!(verify_secret("my-admin-key", &configured));
        assert!(!verify_secret("my-admin-kez", &configured));
    }
}
