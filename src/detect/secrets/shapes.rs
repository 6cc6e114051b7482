//! Secrets recognised by their shape: JWTs, PEM private key blocks, URLs with credentials, and
//! an AWS access key id followed by its secret. Each shape has one regex, run by the driver
//! (`mod.rs`) from the first literal the shape cannot match without.

use std::sync::LazyLock;

use regex::Regex;

use super::*;

/// The matches of `re` in `text` that start at or after `from` (none of the shapes matches
/// the empty string).
pub(super) fn matches_from<'t>(
    re: &'t Regex,
    text: &'t str,
    from: usize,
) -> impl Iterator<Item = regex::Match<'t>> + 't {
    let mut at = from;
    std::iter::from_fn(move || {
        let m = re.find_at(text, at)?;
        at = m.end().max(m.start() + 1);
        while at < text.len() && !text.is_char_boundary(at) {
            at += 1;
        }
        (at <= text.len()).then_some(m)
    })
}

/// `AKIA…` followed by a 40-character secret on the same line (credentials CSV, `aws configure`).
pub(super) static AWS_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u:\b)(?:AKIA|ASIA)[A-Z0-9]{16}(?:[ \t]*[,:;|/][ \t]*|[ \t]+)([A-Za-z0-9/+]{40,})",
    )
    .expect("AWS_PAIR regex")
});

/// `eyJ…` with one to four dots: JWS (three segments), JWE (five), truncated pastes (two).
/// `scan_jwts` decides.
pub(super) static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)eyJ[A-Za-z0-9_\-]+(?:\.[A-Za-z0-9_\-]*){1,4}").expect("JWT regex")
});

/// A PEM private key (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP): BEGIN line, then
/// optionally body and END line. The body cannot contain `--`, so it never runs into another
/// block (and each block is scanned once); anything else may be in it (PGP armor headers,
/// `Proc-Type: 4,ENCRYPTED`, JSON `\n` escapes).
pub(super) static PEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----",
        r"(?:(?:[^-]|-[^-])*",
        r"-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----)?",
    ))
    .expect("PEM regex")
});

/// Every `scheme://…` URL (including `jdbc:…` and `postgresql+asyncpg://`);
/// `scan_connection_strings` looks for credentials in it. The `regex` crate searches for the
/// inner `://` and extends around it, so prose without URLs costs one literal search.
pub(super) static CONN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:jdbc:)?[a-z][a-z0-9+.\-]{1,30}://[^\s\x22'`<>]+")
        .expect("CONN regex")
});

// ---------------------------------------------------------------------------------------------
// AWS secret next to an access key id

pub(super) fn scan_aws_pairs(text: &str, from: usize, out: &mut Vec<Cand>) {
    let mut at = from;
    while let Some(caps) = AWS_PAIR.captures_at(text, at) {
        at = caps.get(0).expect("group 0").end();
        let m = caps.get(1).expect("group 1");
        if aws_secret_ok(m.as_str()) {
            out.push(Cand::new(EntityKind::AwsSecretKey, m.start(), m.end()));
        }
    }
}

/// Exactly 40 base64 characters with upper, lower and digits, not a placeholder.
pub(super) fn aws_secret_ok(v: &str) -> bool {
    v.len() == 40
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
        && v.bytes().any(|b| b.is_ascii_uppercase())
        && v.bytes().any(|b| b.is_ascii_lowercase())
        && v.bytes().any(|b| b.is_ascii_digit())
        && !is_placeholder(v)
        && entropy(v) >= 3.5
}

// ---------------------------------------------------------------------------------------------
// JWT

/// What a JWT's first segment decodes to.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Header {
    /// A JOSE header (`{"alg": …}`), possibly cut off.
    Jose,
    /// A JSON object that is not a JOSE header (`{"foo":"bar"}`).
    OtherJson,
    /// Not readable JSON: made up, mistyped or truncated.
    Unreadable,
}

pub(super) fn jwt_header(segment: &str) -> Header {
    if segment.len() > 16 * 1024 {
        return Header::Unreadable;
    }
    // a cut-off segment (length ≡ 1 mod 4) still decodes without its last character
    let s = if segment.len() % 4 == 1 {
        &segment[..segment.len() - 1]
    } else {
        segment
    };
    let Some(bytes) = base64url_decode(s) else {
        return Header::Unreadable;
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(map)) => {
            if map.get("alg").is_some_and(|a| a.is_string()) {
                Header::Jose
            } else {
                Header::OtherJson
            }
        }
        Ok(_) => Header::Unreadable,
        Err(_) => {
            let has = |k: &[u8]| bytes.windows(k.len()).any(|w| w == k);
            if bytes.starts_with(b"{\"") && (has(b"\"alg\"") || has(b"\"typ\"")) {
                Header::Jose
            } else {
                Header::Unreadable
            }
        }
    }
}

/// The token is the value of an `Authorization: Bearer`, a `jwt=`/`access_token:`/`session=`
/// or similar: the word before it (past quotes, `:`, `=` and spaces) names a token.
pub(super) fn jwt_context(text: &str, start: usize) -> bool {
    let bytes = text.as_bytes();
    let gap = run_start(bytes, start, 6, |b| {
        matches!(b, b'"' | b'\'' | b' ' | b'\t' | b':' | b'=' | b'\\')
    });
    let w0 = run_start(bytes, gap, 40, |b| {
        b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
    });
    let word = text[w0..gap].to_ascii_lowercase();
    word == "bearer"
        || word.ends_with("token")
        || word.ends_with("jwt")
        || word.contains("auth")
        || word.ends_with("session")
        || word.ends_with("cookie")
        || word.ends_with("assertion")
}

/// JWT-shaped strings are JWTs without decoding the payload or checking the signature (pasted
/// tokens are often truncated or hand-edited). A header that decodes to a JSON object without
/// `alg` is something else (`{"foo":"bar"}` base64url-encoded). Otherwise, outside a token
/// context the header must be a JOSE header or the payload start like one (`eyJ`), the segments
/// be of token length and the signature, if any, not a word (`…eyJzdWIiOi.signature` in docs);
/// in a token context (`Bearer eyJ…`) any `eyJ…` with a payload segment counts.
pub(super) fn jwt_ok(parts: &[&str], context: bool) -> bool {
    let (h, p, sig) = (parts[0], parts[1], parts.get(2).copied());
    if sig.is_some_and(|s| !s.is_empty() && is_plain_word(s)) {
        return false;
    }
    let header = jwt_header(h);
    if header == Header::OtherJson {
        return false;
    }
    if context {
        return h.len() >= 10 && p.len() >= 5;
    }
    let strong = header == Header::Jose || p.starts_with("eyJ");
    strong
        && h.len() >= 17
        && p.len() >= 10
        && match sig {
            None => false,
            Some("") => header == Header::Jose,
            Some(s) => s.len() >= 8,
        }
}

pub(super) fn scan_jwts(text: &str, from: usize, out: &mut Vec<Cand>) {
    for m in matches_from(&JWT, text, from) {
        let mut parts: Vec<&str> = m.as_str().split('.').collect();
        // `… h.p.s.` — the last dot ends the sentence (`h.p.` is an unsigned token)
        while parts.len() > 3 && parts.last() == Some(&"") {
            parts.pop();
        }
        if parts[1].is_empty() {
            continue;
        }
        let len = parts.iter().map(|p| p.len()).sum::<usize>() + parts.len() - 1;
        if jwt_ok(&parts, jwt_context(text, m.start())) {
            out.push(Cand::new(EntityKind::Jwt, m.start(), m.start() + len));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// PEM private keys

pub(super) fn scan_pem(text: &str, from: usize, out: &mut Vec<Cand>) {
    let bytes = text.as_bytes();
    for m in matches_from(&PEM, text, from) {
        let s = m.as_str();
        let header_end = s[5..].find("-----").map_or(s.len(), |i| i + 10);
        if header_end < s.len() {
            // Whole block: it must carry key material, not `...`.
            if longest_b64_run(&s.as_bytes()[header_end..]) >= 40 {
                out.push(Cand::new(EntityKind::PrivateKey, m.start(), m.end()));
            }
            continue;
        }
        // No END line: follow the key material (base64 lines, whitespace, JSON `\n` escapes,
        // armor headers such as `Proc-Type: 4,ENCRYPTED` or `Version: GnuPG v2`).
        let mut i = m.end();
        let mut last = m.end();
        let (mut best, mut cur) = (0usize, 0usize);
        let mut line_start = true;
        while i < bytes.len() {
            let b = bytes[i];
            if line_start && b.is_ascii_alphabetic() {
                let n = run_end(bytes, i, 32, |c| c.is_ascii_alphanumeric() || c == b'-');
                if bytes.get(n) == Some(&b':') && bytes.get(n + 1) == Some(&b' ') {
                    i = run_end(bytes, n, 256, |c| !matches!(c, b'\n' | b'\r' | b'\\'));
                    line_start = false;
                    continue;
                }
            }
            line_start = false;
            if is_b64_byte(b) {
                cur += 1;
                best = best.max(cur);
                i += 1;
                last = i;
            } else if b == b'\n' || b == b'\r' || b == b' ' || b == b'\t' {
                line_start = b == b'\n' || b == b'\r';
                cur = 0;
                i += 1;
            } else if b == b'\\' && matches!(bytes.get(i + 1), Some(b'n' | b'r')) {
                line_start = true;
                cur = 0;
                i += 2;
            } else {
                break;
            }
        }
        if best >= 40 {
            out.push(Cand::new(EntityKind::PrivateKey, m.start(), last));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Connection strings

pub(super) fn scan_connection_strings(text: &str, from: usize, out: &mut Vec<Cand>) {
    for m in matches_from(&CONN, text, from) {
        let url = m
            .as_str()
            .trim_end_matches(['.', ',', ';', ':', ')', ']', '}', '!', '?', '\\']);
        if url_has_credentials(url) {
            out.push(Cand::new(
                EntityKind::ConnectionString,
                m.start(),
                m.start() + url.len(),
            ));
        }
    }
}

/// A URL password worth reporting: ≥ 3 characters, not a placeholder, not the word `password`.
pub(super) fn url_password_ok(pw: &str) -> bool {
    pw.chars().count() >= 3
        && pw.chars().any(char::is_alphanumeric)
        && !is_value_placeholder(pw)
        && !PLACEHOLDER_WORDS.contains(&pw.to_ascii_lowercase().as_str())
}

/// `scheme://user:password@host…` (the password may itself contain `@`: the host follows the
/// last one), or a database driver URL with a password parameter (`jdbc:sqlserver://db;
/// password=…`, `…?password=…`; web URLs with `?password=` are left to the `KV` scan, which
/// reports the password).
pub(super) fn url_has_credentials(url: &str) -> bool {
    let Some(sep) = url.find("://") else {
        return false;
    };
    let scheme = url[..sep].to_ascii_lowercase();
    let rest = &url[sep + 3..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    if let Some(at) = authority.rfind('@') {
        let (userinfo, host) = (&authority[..at], &authority[at + 1..]);
        if let Some(colon) = userinfo.find(':') {
            return url_password_ok(&userinfo[colon + 1..])
                && !userinfo.contains(['[', ']'])
                && host
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_alphanumeric() || c == '[');
        }
    }
    if matches!(scheme.as_str(), "http" | "https" | "ws" | "wss") {
        return false;
    }
    rest.split(['?', '&', ';']).skip(1).any(|param| {
        param.split_once('=').is_some_and(|(k, v)| {
            matches!(
                k.to_ascii_lowercase().as_str(),
                "password" | "pwd" | "passwd" | "pass"
            ) && url_password_ok(v)
        })
    })
}
