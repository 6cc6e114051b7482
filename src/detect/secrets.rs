//! `detect_secrets`: credentials and keys in free text (prompts, pasted configs, shell history,
//! stack traces).
//!
//! Kinds: `AWS_ACCESS_KEY`, `AWS_SECRET_KEY`, `GITHUB_TOKEN`, `GITLAB_TOKEN`, `SLACK_TOKEN`,
//! `STRIPE_KEY`, `GOOGLE_API_KEY`, `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `JWT`, `PRIVATE_KEY`,
//! `PASSWORD`, `CONNECTION_STRING`, `GENERIC_SECRET`.
//!
//! How it works. Seven regexes (all from the `regex` crate, so every search is linear in the
//! input; compiled once in `LazyLock`s) each make one pass over the text and propose candidates;
//! everything after that looks only at a candidate's span and a few bytes around it.
//!
//! * `TOKENS`: one alternation of the vendor prefixes (`AKIA`, `ghp_`, `glpat-`, `xoxb-`,
//!   `sk_live_`, `AIza`, `sk-`, Slack webhook URLs, base64-encoded PEM `LS0tLS1CRUdJTi…`). Each
//!   match is classified by its prefix and validated in code (exact lengths, word boundaries,
//!   not a placeholder).
//! * `AWS_PAIR`: an access key id followed by a 40-character secret (the credentials CSV /
//!   `aws configure` shape), which gives `AWS_SECRET_KEY` without a name.
//! * `JWT`: three base64url segments; the header must decode to a JSON object with an `alg` and
//!   the payload to a JSON object, so made-up `eyJ….xxx.yyy` examples are not flagged.
//! * `PEM`: a `-----BEGIN … PRIVATE KEY-----` block through its END line.
//! * `CONN`: URLs with `user:password@` for database/queue/HTTP schemes; the whole URL is
//!   reported.
//! * `KV`: `name <sep> value` where the name mentions a secret-ish word (`password`, `token`,
//!   `secret`, `api_key`, `Authorization: Bearer`, `Passwort`, `mot de passe` …). The name decides
//!   between `PASSWORD`, `AWS_SECRET_KEY` and `GENERIC_SECRET`; the reported span is the value
//!   only. Separators: `=`, `:`, `:=`, `=>`, JSON/escaped-JSON quotes, `password: str = "…"`,
//!   `is`/`was` in prose, and whitespace only for `--flags`, `Bearer`, AWS secret names and
//!   `.netrc` (`login u password p`).
//! * `CLI_PW`: `curl -u user:pass` and `mysql … -pSecret`.
//!
//! Candidates are then resolved so no two findings overlap: a private key beats everything,
//! vendor-specific tokens beat the context-based kinds (`AWS_SECRET_KEY`, then
//! `CONNECTION_STRING`, then `PASSWORD`, then `GENERIC_SECRET`), so `token=ghp_…` is one
//! `GITHUB_TOKEN`, never also a `GENERIC_SECRET`, and `https://oauth2:glpat-…@gitlab.com` is one
//! `GITLAB_TOKEN`, not a `CONNECTION_STRING`.
//!
//! Decisions (documented so they can be argued with):
//! * Placeholders are not secrets: `***`, `<password>`, `${PASSWORD}`, `$TOKEN`, `{{ token }}`,
//!   `%s`, `:password` (SQL bind), `changeme`, `password`, `your_api_key_here`, `sk-...`,
//!   `AKIAXXXXXXXXXXXXXXXX`, `xoxb-your-token-here`, runs of one repeated character, bodies with
//!   fewer than 6 distinct characters. AWS's own documentation examples
//!   (`AKIAIOSFODNN7EXAMPLE`, `wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`) have the real shape and
//!   *are* flagged: a detector cannot tell them from live keys, and they are the usual test keys.
//! * `GENERIC_SECRET` needs a secret-ish name *and* a value of 20–4096 printable ASCII characters
//!   with Shannon entropy ≥ 3.0 bits/char, containing a run that mixes letters and digits (so
//!   `this-is-my-secret-token` or `max_tokens: 4096` are not flagged). Unquoted values must be
//!   token characters (`[A-Za-z0-9_+/=.~-]`), so code (`token = self.next_token()`) is not a
//!   value; nor are snake/kebab identifiers (`x25519_generate_private_key`). UUIDs, URLs, file
//!   paths and JWT-shaped strings that fail JWT validation are never generic secrets: UUIDs are
//!   overwhelmingly identifiers, and a UUID-shaped API key (Heroku) is the accepted miss. Names
//!   like `page_token`/`next_token` (pagination cursors) and `max_tokens` are not secret names.
//! * Hex strings (git SHAs, sha256 digests) are only ever flagged as a generic secret when a
//!   secret-ish name precedes them (`api_key = 5f4dcc3b…`), never after `sha:`/`commit`.
//! * `PASSWORD` has no entropy requirement (real passwords are weak). The value must not be a
//!   placeholder, a type (`password: str`, `password: Option<String>`, `pwd: *mut passwd`), a
//!   code expression (`password=get_pw()`, `password=self.password`, `password = value;`,
//!   `x::Y`), a path (`PWD=/home/me`) or a URL; `$PWD:/app` reads a variable. After a weak
//!   separator (`the password is …`) or in `Password: must be 12 characters`, a plain alphabetic
//!   word is prose. With spaces around the separator (code, YAML) a bare alphabetic identifier
//!   or a number is not a password either, so YAML `password: letmein` is a known miss while
//!   `password: letmein1` and `PASSWORD=letmein` are found. `<x>_pass` counts only for a
//!   service word `<x>` (`db_pass`, `smtp_pass`), not `PASS: test_x` or `in_filter_pass`.
//!   Quoted literals in code (`let password = "bar";`) are flagged: that is a hard-coded password.
//! * A `PRIVATE_KEY` with an END line covers the whole block. Without END (a truncated paste) the
//!   span covers the BEGIN line *and* the key material after it, so redaction removes the
//!   material too. A BEGIN marker with no key material (≥ 40 base64 characters in a run) is not
//!   flagged: error messages and docs quote the header (`expected "-----BEGIN … PRIVATE KEY-----"`).
//! * A `CONNECTION_STRING` needs a password of ≥ 3 characters that is not a placeholder or the
//!   word `password` (the documentation example `postgres://user:password@localhost/db`), and a
//!   host. URL-parser fixtures like `http://a:b@c` are not flagged; `https://user:pw@host` is.
//! * `sk-ant-…` is always `ANTHROPIC_API_KEY`, never `OPENAI_API_KEY`. TapPass's own `tp_` keys are
//!   not special-cased (a `tp_` key after `api_key=` is a `GENERIC_SECRET`, bare it is nothing).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use super::Finding;
use crate::detect::EntityKind;

/// Vendor-prefixed tokens. Bodies are matched greedily and their exact length/boundaries are
/// checked in code, which keeps the automaton small and avoids matching a prefix of a longer word.
static TOKENS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:https?://)?hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9_/\-]+",
        r"|(?-u:\b)(?:",
        r"(?:AKIA|ASIA)[A-Z0-9]{16,}",
        r"|gh[pousr]_[A-Za-z0-9]{30,}",
        r"|github_pat_[A-Za-z0-9_]{30,}",
        r"|gl(?:pat|dt|rt|ptt|soat)-[A-Za-z0-9_\-]{20,}",
        r"|xox[baprs]-[A-Za-z0-9\-]{10,}",
        r"|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}",
        r"|whsec_[A-Za-z0-9+/=]{20,}",
        r"|AIza[A-Za-z0-9_\-]{30,}",
        r"|sk-[A-Za-z0-9_\-]{20,}",
        // base64 of `-----BEGIN` (Kubernetes secrets, Helm values, CI variables)
        r"|LS0tLS1CRUdJTi[A-Za-z0-9+/=]{20,}",
        r")",
    ))
    .expect("TOKENS regex")
});

/// `AKIA…` followed by a 40-character secret on the same line (credentials CSV, `aws configure`).
static AWS_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?-u:\b)(?:AKIA|ASIA)[A-Z0-9]{16}(?:[ \t]*[,:;|][ \t]*|[ \t]+)([A-Za-z0-9/+]{40,})",
    )
    .expect("AWS_PAIR regex")
});

static JWT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?-u:\b)eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*").expect("JWT regex")
});

/// A PEM private key: BEGIN line, then optionally body and END line. The body cannot contain
/// `--`, so it never runs into another block (and each block is scanned once).
static PEM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----",
        r"(?:(?:[A-Za-z0-9+/=:,.\s\\]|-[A-Za-z0-9])*",
        r"-----END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----)?",
    ))
    .expect("PEM regex")
});

/// URLs with credentials. Group `pw` is the password part.
static CONN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?i)(?-u:\b)(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql",
        r"|sqlserver|jdbc:[a-z0-9]+|clickhouse|cockroachdb|neo4j(?:\+s)?|couchbases?|ftps?|sftp",
        r"|smtps?|ldaps?|https?)://",
        r"[^\s:/@?#\x22'`<>]*:(?P<pw>[^\s@/?#\x22'`<>]+)@[^\s\x22'`<>]+",
    ))
    .expect("CONN regex")
});

/// `name <sep> value`. The name must contain a secret-ish word; the code decides what it means.
static KV: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        // A two-word name (`auth token: …`) is tried before a one-word one (`auth`).
        r"(?i)(?P<name>",
        r"(?:api|access|secret|auth|refresh|session|private|client|bearer|bot)[ ](?:key|token|secret)",
        r"|mot[ _]de[ _]passe|contrase(?:ñ|n)a|has(?:ł|l)o|l(?:ö|o)senord|passwort|wachtwoord|senha",
        r"|[A-Za-z0-9_.\-]*(?:token|secret|key|auth|bearer|credential|pass|pwd)[A-Za-z0-9_.\-]*",
        r")",
        r"(?P<sep>",
        // `password: str = "…"` (annotated assignment)
        r"(?:\\?[\x22']\]|\\?[\x22'])?[ \t]*:[ \t]*[A-Za-z_][A-Za-z0-9_<>&\[\]]*[ \t]*=[ \t]*",
        r"|(?:\\?[\x22']\]|\\?[\x22'])?[ \t]*(?:=>|:=|=|:)[ \t]*",
        r"|[ \t]+(?:is|was)[ \t]+",
        r"|[ \t]+",
        r")",
        r"(?:(?P<scheme>bearer|basic|token|bot)[ \t]+)?",
        r"(?:\\\x22(?P<eq>[^\x22\\\r\n]*)\\\x22",
        r"|\x22(?P<dq>[^\x22\r\n]*)\x22|'(?P<sq>[^'\r\n]*)'",
        r"|(?P<uq>[^\s\x22'`,;&)\]}<>]+))",
    ))
    .expect("KV regex")
});

/// Passwords on command lines: `curl -u user:pass`, `mysql … -pSecret`. Both need the command
/// on the same line (`docker run -u 1000:1000`, `socat -u TCP:…` are something else).
static CLI_PW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?-u:\b)(?:curl|wget|http|https|xh)(?:[ \t][^\r\n]*?)?[ \t](?:-u|--user)(?:[ \t]+|=)?[\x22']?",
        r"[^\s:\x22'`@]+:(?P<up>[^\s\x22'`@]+)",
        r"|(?-u:\b)mysql(?:dump|admin|import|sh|slap)?(?:[ \t][^\r\n]*?)?[ \t]-p(?P<mp>[^\s\x22'`\-][^\s\x22'`]*)",
    ))
    .expect("CLI_PW regex")
});

/// Resolution priority: higher wins when candidates overlap.
const PRIO_PRIVATE_KEY: u8 = 6;
const PRIO_VENDOR: u8 = 5;
const PRIO_AWS_SECRET: u8 = 4;
const PRIO_CONNECTION: u8 = 3;
const PRIO_PASSWORD: u8 = 2;
const PRIO_GENERIC: u8 = 1;

struct Cand {
    kind: EntityKind,
    start: usize,
    end: usize,
    prio: u8,
}

/// Finds secrets in `text`, read through its normalised view (`normalize.rs`). Findings are
/// sorted by position, never overlap, and carry the original text's offsets.
pub fn detect_secrets(text: &str) -> Vec<Finding> {
    let view = super::normalize::View::new(text);
    view.originals(detect_secrets_in_view(view.text()))
}

fn detect_secrets_in_view(text: &str) -> Vec<Finding> {
    let mut cands: Vec<Cand> = Vec::new();
    scan_tokens(text, &mut cands);
    scan_aws_pairs(text, &mut cands);
    scan_jwts(text, &mut cands);
    scan_pem(text, &mut cands);
    scan_connection_strings(text, &mut cands);
    scan_key_values(text, &mut cands);
    scan_cli_passwords(text, &mut cands);
    resolve(cands)
}

fn resolve(mut cands: Vec<Cand>) -> Vec<Finding> {
    cands.sort_by(|a, b| {
        b.prio
            .cmp(&a.prio)
            .then(a.start.cmp(&b.start))
            .then((b.end - b.start).cmp(&(a.end - a.start)))
    });
    // start -> (end, kind); the accepted intervals are disjoint, so the one with the greatest
    // start below a candidate's end is the only one that can overlap it.
    let mut taken: BTreeMap<usize, (usize, EntityKind)> = BTreeMap::new();
    for c in cands {
        if c.end <= c.start {
            continue;
        }
        if let Some((_, &(end, _))) = taken.range(..c.end).next_back() {
            if end > c.start {
                continue;
            }
        }
        taken.insert(c.start, (c.end, c.kind));
    }
    taken
        .into_iter()
        .map(|(start, (end, kind))| Finding::new(kind, start, end))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Vendor tokens

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn scan_tokens(text: &str, out: &mut Vec<Cand>) {
    let bytes = text.as_bytes();
    for m in TOKENS.find_iter(text) {
        let s = m.as_str();
        let (start, end) = (m.start(), m.end());
        let next = bytes.get(end).copied();
        let kind = if s.contains("hooks.slack.com/") {
            slack_webhook_ok(s).then_some(EntityKind::SlackToken)
        } else if s.starts_with("AKIA") || s.starts_with("ASIA") {
            // exactly 20 characters and not followed by a lowercase letter/underscore
            (s.len() == 20 && !next.is_some_and(is_word_byte) && !is_placeholder(&s[4..]))
                .then_some(EntityKind::AwsAccessKey)
        } else if let Some(body) = s.strip_prefix("github_pat_") {
            (body.len() >= 30 && !is_placeholder(body)).then_some(EntityKind::GithubToken)
        } else if s.starts_with("gh") && s.as_bytes().get(3) == Some(&b'_') {
            let body = &s[4..];
            (body.len() >= 30 && !next.is_some_and(is_word_byte) && !is_placeholder(body))
                .then_some(EntityKind::GithubToken)
        } else if s.starts_with("gl") {
            let body = &s[s.find('-').map_or(0, |i| i + 1)..];
            (!is_placeholder(body) && has_digit(body)).then_some(EntityKind::GitlabToken)
        } else if s.starts_with("xox") {
            let body = &s[5..];
            (has_digit(body) && !is_placeholder(body)).then_some(EntityKind::SlackToken)
        } else if s.starts_with("whsec_")
            || s[2..].starts_with("_live_")
            || s[2..].starts_with("_test_")
        {
            let body = &s[s.rfind('_').map_or(0, |i| i + 1)..];
            (body.len() >= 16 && !next.is_some_and(is_word_byte) && !is_placeholder(body))
                .then_some(EntityKind::StripeKey)
        } else if let Some(body) = s.strip_prefix("AIza") {
            (body.len() == 35 && !is_placeholder(body)).then_some(EntityKind::GoogleApiKey)
        } else if s.starts_with("LS0tLS1CRUdJTi") {
            if base64_pem_is_private_key(s) {
                out.push(Cand {
                    kind: EntityKind::PrivateKey,
                    start,
                    end,
                    prio: PRIO_PRIVATE_KEY,
                });
            }
            None
        } else if let Some(rest) = s.strip_prefix("sk-ant-") {
            let body = strip_any_prefix(rest, &["api03-", "admin01-", "oat01-", "sid01-"]);
            (body.len() >= 20 && token_body_ok(body)).then_some(EntityKind::AnthropicApiKey)
        } else if let Some(rest) = s.strip_prefix("sk-") {
            let body = strip_any_prefix(rest, &["proj-", "svcacct-", "admin-", "None-"]);
            (body.len() >= 20 && token_body_ok(body)).then_some(EntityKind::OpenaiApiKey)
        } else {
            None
        };
        if let Some(kind) = kind {
            out.push(Cand {
                kind,
                start,
                end,
                prio: PRIO_VENDOR,
            });
        }
    }
}

/// `LS0tLS1CRUdJTi…` decodes to `-----BEGIN …`; only private keys count (not certificates).
fn base64_pem_is_private_key(s: &str) -> bool {
    let head = &s[..s.len().min(96) / 4 * 4];
    base64url_decode(head).is_some_and(|d| {
        let line = d.split(|&b| b == b'\n').next().unwrap_or(&[]);
        line.windows(11).any(|w| w == b"PRIVATE KEY")
    })
}

fn strip_any_prefix<'a>(s: &'a str, prefixes: &[&str]) -> &'a str {
    prefixes.iter().find_map(|p| s.strip_prefix(p)).unwrap_or(s)
}

/// `T…/B…/secret` with a non-placeholder secret.
fn slack_webhook_ok(url: &str) -> bool {
    let Some(i) = url.find("hooks.slack.com/") else {
        return false;
    };
    let path = &url[i + "hooks.slack.com/".len()..];
    let mut parts = path.split('/').skip(1).filter(|p| !p.is_empty());
    let (Some(team), Some(chan), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    team.len() >= 8
        && chan.len() >= 8
        && secret.len() >= 16
        && !is_placeholder(team.get(1..).unwrap_or(""))
        && !is_placeholder(secret)
}

/// Body of an `sk-` style key: not a placeholder, not kebab/snake-case words, at least two of
/// lower/upper/digit.
fn token_body_ok(body: &str) -> bool {
    let classes = [
        body.bytes().any(|b| b.is_ascii_lowercase()),
        body.bytes().any(|b| b.is_ascii_uppercase()),
        body.bytes().any(|b| b.is_ascii_digit()),
    ];
    classes.iter().filter(|c| **c).count() >= 2 && !is_placeholder(body) && !is_word_like(body)
}

fn has_digit(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
}

/// Obvious stand-ins for a real value: `xxxx`, `****`, `...`, `<…>`, a run of one repeated
/// character, or very few distinct characters.
fn is_placeholder(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    if lower.contains("xxxx") || body.contains("****") || body.contains("...") || body.contains('<')
    {
        return true;
    }
    for word in [
        "your_",
        "your-",
        "yourkey",
        "placeholder",
        "redacted",
        "replace_me",
        "replaceme",
    ] {
        if lower.contains(word) {
            return true;
        }
    }
    let bytes = body.as_bytes();
    let mut run = 1;
    for w in bytes.windows(2) {
        if w[0] == w[1] {
            run += 1;
            if run >= 8 {
                return true;
            }
        } else {
            run = 1;
        }
    }
    let mut seen = [false; 256];
    let mut distinct = 0;
    for &b in bytes {
        if !seen[b as usize] {
            seen[b as usize] = true;
            distinct += 1;
        }
    }
    bytes.len() >= 10 && distinct < 6
}

/// Every alphanumeric run is only letters or only digits (`this-is-not-a-key`,
/// `my_secret_token_2024`): human-written, not random.
fn is_word_like(s: &str) -> bool {
    !s.split(|c: char| !c.is_ascii_alphanumeric()).any(|part| {
        part.bytes().any(|b| b.is_ascii_alphabetic()) && part.bytes().any(|b| b.is_ascii_digit())
    })
}

// ---------------------------------------------------------------------------------------------
// AWS secret next to an access key id

fn scan_aws_pairs(text: &str, out: &mut Vec<Cand>) {
    for caps in AWS_PAIR.captures_iter(text) {
        let m = caps.get(1).expect("group 1");
        if aws_secret_ok(m.as_str()) {
            out.push(Cand {
                kind: EntityKind::AwsSecretKey,
                start: m.start(),
                end: m.end(),
                prio: PRIO_AWS_SECRET,
            });
        }
    }
}

/// Exactly 40 base64 characters with upper, lower and digits, not a placeholder.
fn aws_secret_ok(v: &str) -> bool {
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

fn scan_jwts(text: &str, out: &mut Vec<Cand>) {
    for m in JWT.find_iter(text) {
        let mut parts = m.as_str().split('.');
        let (Some(header), Some(payload)) = (parts.next(), parts.next()) else {
            continue;
        };
        if jwt_json_object(header).is_some_and(|h| h.get("alg").is_some_and(|a| a.is_string()))
            && jwt_json_object(payload).is_some()
        {
            out.push(Cand {
                kind: EntityKind::Jwt,
                start: m.start(),
                end: m.end(),
                prio: PRIO_VENDOR,
            });
        }
    }
}

/// Decodes a base64url segment into a JSON object. Segments over 16 KiB are not JWT parts.
fn jwt_json_object(segment: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    if segment.len() > 16 * 1024 {
        return None;
    }
    let bytes = base64url_decode(segment)?;
    match serde_json::from_slice::<serde_json::Value>(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

fn base64url_decode(s: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'-' | b'+' => Some(62),
            b'_' | b'/' => Some(63),
            _ => None,
        }
    }
    let s = s.trim_end_matches('=').as_bytes();
    if s.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    for chunk in s.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= val(c)? << (18 - 6 * i);
        }
        let n = chunk.len() - 1;
        for i in 0..n {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------------------------
// PEM private keys

fn is_b64_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'='
}

/// Length of the longest run of base64 characters in `s`.
fn longest_b64_run(s: &[u8]) -> usize {
    let (mut best, mut cur) = (0, 0);
    for &b in s {
        if is_b64_byte(b) {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

fn scan_pem(text: &str, out: &mut Vec<Cand>) {
    let bytes = text.as_bytes();
    for m in PEM.find_iter(text) {
        let s = m.as_str();
        let header_end = s[5..].find("-----").map_or(s.len(), |i| i + 10);
        if header_end < s.len() {
            // Whole block: it must carry key material, not `...`.
            if longest_b64_run(&s.as_bytes()[header_end..]) >= 40 {
                out.push(Cand {
                    kind: EntityKind::PrivateKey,
                    start: m.start(),
                    end: m.end(),
                    prio: PRIO_PRIVATE_KEY,
                });
            }
            continue;
        }
        // No END line: follow the key material (base64 lines, whitespace, JSON `\n` escapes).
        let mut i = m.end();
        let mut last = m.end();
        let (mut best, mut cur) = (0usize, 0usize);
        while i < bytes.len() {
            let b = bytes[i];
            if is_b64_byte(b) {
                cur += 1;
                best = best.max(cur);
                i += 1;
                last = i;
            } else if b == b'\n' || b == b'\r' || b == b' ' || b == b'\t' {
                cur = 0;
                i += 1;
            } else if b == b'\\' && matches!(bytes.get(i + 1), Some(b'n' | b'r')) {
                cur = 0;
                i += 2;
            } else {
                break;
            }
        }
        if best >= 40 {
            out.push(Cand {
                kind: EntityKind::PrivateKey,
                start: m.start(),
                end: last,
                prio: PRIO_PRIVATE_KEY,
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Connection strings

fn scan_connection_strings(text: &str, out: &mut Vec<Cand>) {
    for caps in CONN.captures_iter(text) {
        let m = caps.get(0).expect("group 0");
        let pw = caps.name("pw").map_or("", |p| p.as_str());
        let url = m.as_str();
        let userinfo_end = caps.name("pw").map_or(0, |p| p.end() - m.start());
        let host_ok = url[userinfo_end + 1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '[');
        if pw.chars().count() < 3
            || !pw.chars().any(char::is_alphanumeric)
            || url[..userinfo_end].contains(['[', ']'])
            || !host_ok
            || is_value_placeholder(pw)
            || PLACEHOLDER_WORDS.contains(&pw.to_ascii_lowercase().as_str())
        {
            continue;
        }
        let trimmed = m
            .as_str()
            .trim_end_matches(['.', ',', ';', ':', ')', ']', '}', '!', '?', '\\']);
        out.push(Cand {
            kind: EntityKind::ConnectionString,
            start: m.start(),
            end: m.start() + trimmed.len(),
            prio: PRIO_CONNECTION,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// name = value

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum NameClass {
    Password,
    AwsSecret,
    Generic,
    Other,
}

/// The last `n` bytes of `s` or a little more (never splits a character).
fn tail(s: &str, n: usize) -> &str {
    let mut from = s.len().saturating_sub(n);
    while !s.is_char_boundary(from) {
        from -= 1;
    }
    &s[from..]
}

/// `apiKey` / `API-KEY` / `x.api_key` -> `api_key`; only the last 64 bytes matter.
fn normalize_name(name: &str) -> String {
    let tail = tail(name, 64);
    let mut out = String::with_capacity(tail.len() + 8);
    let mut prev_lower = false;
    for c in tail.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = true;
        } else {
            out.push('_');
            prev_lower = false;
        }
    }
    out.trim_matches('_').to_string()
}

/// `<x>_pass` is a password only for these `<x>` (a bare `pass` is a compiler/filter pass or a
/// test result: `in_filter_pass`, `PASS: test_x`).
const PASS_QUALIFIERS: [&str; 25] = [
    "db", "user", "smtp", "mail", "ldap", "admin", "root", "ftp", "sftp", "proxy", "redis",
    "mysql", "pg", "postgres", "become", "sudo", "auth", "login", "app", "api", "svc", "service",
    "wifi", "vpn", "imap",
];

/// Password in other languages (lowercase; matched at the end of the name).
const FOREIGN_PASSWORD: [&str; 11] = [
    "mot de passe",
    "mot_de_passe",
    "contraseña",
    "contrasena",
    "hasło",
    "haslo",
    "lösenord",
    "losenord",
    "passwort",
    "wachtwoord",
    "senha",
];

/// Trailing name parts that qualify rather than name the thing (`DB_PASSWORD_PROD`).
const QUALIFIER_SEGMENTS: [&str; 15] = [
    "prod",
    "production",
    "dev",
    "staging",
    "stage",
    "test",
    "live",
    "value",
    "b64",
    "base64",
    "old",
    "new",
    "current",
    "primary",
    "secondary",
];

fn classify_name(name: &str) -> NameClass {
    let name = tail(name, 64);
    let lower = name.to_lowercase();
    if FOREIGN_PASSWORD.iter().any(|w| lower.ends_with(w)) {
        return NameClass::Password;
    }
    let norm = normalize_name(name);
    if norm.ends_with("secret_key_base") {
        return NameClass::Generic; // Rails
    }
    let mut segs: Vec<&str> = norm
        .split('_')
        .filter(|s| !s.is_empty() && !s.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    while segs.len() >= 2 && QUALIFIER_SEGMENTS.contains(&segs[segs.len() - 1]) {
        segs.pop();
    }
    let Some(&last) = segs.last() else {
        return NameClass::Other;
    };
    let prev = if segs.len() >= 2 {
        segs[segs.len() - 2]
    } else {
        ""
    };
    let joined: String = segs.concat();

    if joined.ends_with("secretaccesskey")
        || joined.ends_with("awssecretkey")
        || joined.ends_with("awssecret")
        || joined == "secretkey"
    {
        return NameClass::AwsSecret;
    }
    if last.ends_with("password")
        || last.ends_with("passwd")
        || last.ends_with("passphrase")
        || last.ends_with("pwd")
        || (last == "pass" && PASS_QUALIFIERS.contains(&prev))
    {
        return NameClass::Password;
    }
    const NOT_SECRET_PREFIX: [&str; 6] = ["page", "next", "continuation", "sync", "cursor", "csrf"];
    if (last.ends_with("token") && !NOT_SECRET_PREFIX.contains(&prev) && last != "nexttoken")
        || last.ends_with("secret")
        || last.ends_with("apikey")
        || last.ends_with("secretkey")
        || last.ends_with("accesskey")
        || last.ends_with("privatekey")
        || matches!(
            last,
            "secrets" | "auth" | "authorization" | "bearer" | "credential" | "credentials"
        )
    {
        return NameClass::Generic;
    }
    const KEY_QUALIFIERS: [&str; 17] = [
        "api",
        "access",
        "secret",
        "private",
        "signing",
        "encryption",
        "master",
        "session",
        "auth",
        "account",
        "app",
        "client",
        "subscription",
        "service",
        "admin",
        "webhook",
        "hmac",
    ];
    if last == "key" && KEY_QUALIFIERS.contains(&prev) {
        return NameClass::Generic;
    }
    NameClass::Other
}

/// Words that stand for "no real value here" (lowercase).
const PLACEHOLDER_WORDS: [&str; 44] = [
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "token",
    "changeme",
    "change_me",
    "change-me",
    "example",
    "placeholder",
    "redacted",
    "hidden",
    "masked",
    "null",
    "none",
    "nil",
    "true",
    "false",
    "undefined",
    "empty",
    "required",
    "optional",
    "str",
    "string",
    "&str",
    "bytes",
    "text",
    "secretstr",
    "secretstring",
    "any",
    "unknown",
    "todo",
    "tbd",
    "n/a",
    "na",
    "!vault",
    "your_password",
    "yourpassword",
    "your-password",
    "mypassword",
    "option<string>",
    "int",
    "xxx",
];

/// Syntactic placeholders: template variables, masks, angle brackets.
fn is_value_placeholder(v: &str) -> bool {
    let t = v.trim();
    if t.is_empty() {
        return true;
    }
    let first = t.as_bytes()[0];
    // `$VAR`, `<password>`, `{{ x }}`, `%s`, `[REDACTED]`, `(hidden)`, `:password` (SQL bind)
    if matches!(first, b'$' | b'<' | b'{' | b'%' | b'[' | b'(' | b':') {
        return true;
    }
    if t.bytes()
        .all(|b| matches!(b, b'*' | b'x' | b'X' | b'.' | b'#' | b'-' | b'_' | b'?'))
    {
        return true;
    }
    is_placeholder(t)
}

fn is_path_or_url(v: &str) -> bool {
    if v.contains("://") {
        return true;
    }
    let pathy = v.starts_with('/')
        || v.starts_with("./")
        || v.starts_with("../")
        || v.starts_with("~/")
        || v.starts_with("C:\\");
    if pathy && v.matches(['/', '\\']).count() >= 2 {
        return true;
    }
    let lower = v.to_ascii_lowercase();
    [
        ".pem", ".key", ".json", ".txt", ".yaml", ".yml", ".env", ".crt", ".p12", ".pfx", ".der",
        ".cfg", ".conf", ".ini", ".toml", ".enc", ".gpg",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

fn is_uuid(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, &c)| match i {
            8 | 13 | 18 | 23 => c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Shannon entropy in bits per byte.
fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    for &b in s.as_bytes() {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Minimum Shannon entropy (bits/char) of a generic secret value.
const GENERIC_MIN_ENTROPY: f64 = 3.0;
const GENERIC_MIN_LEN: usize = 20;
/// Longer values are data blobs, not credentials (AWS session tokens, the longest common
/// ones, are about 1 KiB).
const GENERIC_MAX_LEN: usize = 4096;

/// Characters of an unquoted token (base64, base64url, hex, `SG.…`, `tp_live_…`).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/' | b'=' | b'.' | b'~')
}

/// `x25519_generate_private_key`, `child1_token.child_token`: at least three `_`/`-`/`.`
/// separated parts, all short, at least half of them single-case words — an identifier, not a
/// random token (random parts are mixed-case or contain digits).
fn is_identifier_like(v: &str) -> bool {
    let parts: Vec<&str> = v.split(['_', '-', '.']).filter(|p| !p.is_empty()).collect();
    if parts.len() < 3 || parts.iter().any(|p| p.len() > 10) {
        return false;
    }
    let wordy = parts
        .iter()
        .filter(|p| {
            p.len() >= 2
                && (p.bytes().all(|b| b.is_ascii_lowercase())
                    || p.bytes().all(|b| b.is_ascii_uppercase()))
        })
        .count();
    wordy * 2 >= parts.len()
}

fn generic_ok(v: &str, ctx: &ValueCtx) -> bool {
    (GENERIC_MIN_LEN..=GENERIC_MAX_LEN).contains(&v.len())
        && v.bytes().all(|b| b.is_ascii_graphic())
        && (ctx.quoted || v.bytes().all(is_token_byte))
        && !is_code_context(v, ctx)
        && !is_identifier_like(v)
        && !is_value_placeholder(v)
        && !is_path_or_url(v)
        && !is_uuid(v)
        && !(v.starts_with("eyJ") && v.contains('.'))
        && !is_word_like(v)
        && entropy(v) >= GENERIC_MIN_ENTROPY
}

/// Code rather than a literal: `get_pw()`, `cfg["pw"]`, `self.password`, `db_password`.
fn is_code_expression(v: &str) -> bool {
    if v.contains('(') || v.contains('[') {
        return true;
    }
    let ident = |s: &str| {
        let mut b = s.bytes();
        b.next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
            && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
    };
    let parts: Vec<&str> = v.split('.').collect();
    if parts.len() >= 2
        && parts.iter().all(|p| ident(p))
        && parts[0].bytes().all(|c| !c.is_ascii_digit())
    {
        // `self.password`, `settings.DB_PASSWORD`, `args.pwd`
        return parts.iter().all(|p| !p.is_empty())
            && !parts.iter().any(|p| p.bytes().any(|c| c.is_ascii_digit()));
    }
    let lower = v.to_ascii_lowercase();
    ident(v) && (lower.contains("pass") || lower.contains("pwd") || lower.contains("secret"))
}

fn is_plain_word(v: &str) -> bool {
    v.bytes().all(|b| b.is_ascii_alphabetic())
}

/// How a value was written.
#[derive(Clone, Copy, Default)]
struct ValueCtx {
    /// Inside quotes.
    quoted: bool,
    /// After `is`/`was` or plain whitespace rather than `=`/`:`.
    weak: bool,
    /// `name: word more words` — reads like prose.
    prose_follows: bool,
    /// Whitespace around the `=`/`:` (`x = y`, `x: y`), as in code and YAML, unlike `.env`.
    spaced: bool,
    /// The byte right after the value.
    next: Option<u8>,
}

/// An unquoted value that reads as code: a path (`mem::MaybeUninit`), a comparison
/// (`==X`), a pointer/reference type (`*mut u8`, `&str`), a generic (`Option<String>`), or —
/// after a spaced separator — a bare identifier, constant or number (`password = value;`,
/// `SAE_PASSWORD = 277`, `password: String`).
fn is_code_context(v: &str, ctx: &ValueCtx) -> bool {
    if ctx.quoted {
        return false;
    }
    if v.contains("::")
        || v.starts_with([':', '=', '*', '&'])
        || v.starts_with("__")
        || ctx.next == Some(b'<')
    {
        return true;
    }
    let identifier = v.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_');
    let number = v.bytes().all(|b| b.is_ascii_digit())
        || (v.starts_with("0x") && v.len() > 2 && v[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    ctx.spaced && (identifier || number)
}

fn password_ok(v: &str, ctx: &ValueCtx) -> bool {
    if v.chars().count() < 3 || v.len() > 256 {
        return false;
    }
    let lower = v.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.contains(&lower.as_str())
        || is_value_placeholder(v)
        || is_path_or_url(v)
        || lower.starts_with("process.env")
        || lower.starts_with("os.environ")
        || lower.starts_with("env.")
    {
        return false;
    }
    if !ctx.quoted && (is_code_expression(v) || is_code_context(v, ctx)) {
        return false;
    }
    if (ctx.weak || ctx.prose_follows) && is_plain_word(v.trim_end_matches(['!', '?', '.', ','])) {
        return false;
    }
    true
}

/// How the non-English password names in `KV` start (as far as ASCII goes).
const FOREIGN_LEAD: [&str; 6] = ["mot", "contrase", "hasło", "lösenord", "losenord", "senha"];

/// First words of the two-word names in `KV`.
const PHRASE_FIRST: [&str; 10] = [
    "api", "access", "secret", "auth", "refresh", "session", "private", "client", "bearer", "bot",
];

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')
}

/// Cheap pre-check on a `KV` match before extracting its groups: the name (the leading run of
/// name characters, or a two-word phrase) must be secret-ish and the rest long enough to hold a
/// value of that class. Most `key = …` lines in code stop here.
fn kv_worth_parsing(m: &str) -> bool {
    let run = m.bytes().take_while(|&b| is_name_byte(b)).count();
    let rest = m.len() - run;
    let lead = &m[..run];
    if PHRASE_FIRST.iter().any(|w| lead.eq_ignore_ascii_case(w))
        || FOREIGN_LEAD.iter().any(|w| {
            m.len() >= w.len()
                && m.is_char_boundary(w.len())
                && m[..w.len()].eq_ignore_ascii_case(w)
        })
    {
        return true;
    }
    match classify_name(lead) {
        NameClass::Other => false,
        NameClass::Password => rest >= 4,
        NameClass::AwsSecret | NameClass::Generic => rest > GENERIC_MIN_LEN,
    }
}

/// Group indexes of `KV`.
struct KvGroups {
    name: usize,
    sep: usize,
    eq: usize,
    dq: usize,
    sq: usize,
    uq: usize,
}

static KV_GROUPS: LazyLock<KvGroups> = LazyLock::new(|| {
    let idx = |n: &str| {
        KV.capture_names()
            .position(|c| c == Some(n))
            .expect("KV group")
    };
    KvGroups {
        name: idx("name"),
        sep: idx("sep"),
        eq: idx("eq"),
        dq: idx("dq"),
        sq: idx("sq"),
        uq: idx("uq"),
    }
});

fn scan_cli_passwords(text: &str, out: &mut Vec<Cand>) {
    for caps in CLI_PW.captures_iter(text) {
        let Some(m) = caps.name("up").or(caps.name("mp")) else {
            continue;
        };
        let v = m.as_str();
        // `docker run -u 1000:1000` is a uid:gid pair
        if !v.bytes().all(|b| b.is_ascii_digit()) && password_ok(v, &ValueCtx::default()) {
            out.push(Cand {
                kind: EntityKind::Password,
                start: m.start(),
                end: m.end(),
                prio: PRIO_PASSWORD,
            });
        }
    }
}

/// `.netrc` / `_netrc` entries: `machine host login user password secret` (whitespace-separated),
/// recognised by a `login` word at most 80 bytes before the `password` name.
fn after_netrc_login(text: &str, name_start: usize) -> bool {
    let from = name_start.saturating_sub(80);
    let window = &text.as_bytes()[from..name_start];
    window
        .windows(6)
        .any(|w| w.eq_ignore_ascii_case(b"login ") || w.eq_ignore_ascii_case(b"login\t"))
}

fn scan_key_values(text: &str, out: &mut Vec<Cand>) {
    let g = &*KV_GROUPS;
    let mut locs = KV.capture_locations();
    for m in KV.find_iter(text) {
        if !kv_worth_parsing(m.as_str()) {
            continue;
        }
        // KV has no look-around, so the leftmost match from `m.start()` is `m` itself.
        if KV.captures_read_at(&mut locs, text, m.start()).is_none() {
            continue;
        }
        let span = |i: usize| locs.get(i);
        let (Some(name), Some(sep)) = (span(g.name), span(g.sep)) else {
            continue;
        };
        let (value, quoted) = match (span(g.eq).or(span(g.dq)).or(span(g.sq)), span(g.uq)) {
            (Some(v), _) => (v, true),
            (None, Some(v)) => (v, false),
            (None, None) => continue,
        };
        if let Some(c) = key_value_candidate(text, name, sep, value, quoted) {
            out.push(c);
        }
    }
}

fn key_value_candidate(
    text: &str,
    name: (usize, usize),
    sep: (usize, usize),
    value: (usize, usize),
    quoted: bool,
) -> Option<Cand> {
    let bytes = text.as_bytes();
    let name_start = name.0;
    let name = &text[name.0..name.1];
    let sep = &text[sep.0..sep.1];
    // `$PWD:/app` reads a shell variable; `$pwd = "…"` (PHP, Perl) assigns one.
    if name_start > 0 && bytes[name_start - 1] == b'$' && !sep.contains('=') {
        return None;
    }
    let norm = normalize_name(name);
    let class = classify_name(name);
    if class == NameClass::Other {
        return None;
    }
    let sep_t = sep.trim_matches([' ', '\t', '"', '\'', '\\']);
    let weak_connector = sep_t.eq_ignore_ascii_case("is") || sep_t.eq_ignore_ascii_case("was");
    let whitespace_only = sep_t.is_empty();
    let flag_name = name.starts_with('-');
    let last = norm.rsplit('_').next().unwrap_or("");
    if whitespace_only
        && !flag_name
        && !matches!(last, "bearer" | "authorization")
        && class != NameClass::AwsSecret
        && !(class == NameClass::Password && after_netrc_login(text, name_start))
    {
        return None;
    }

    let mut v = &text[value.0..value.1];
    let start = value.0;
    if !quoted {
        v = v.trim_end_matches(['.', ':']);
    }
    if v.is_empty() {
        return None;
    }
    let end = start + v.len();
    // `Password: must be 8 characters` — a word followed by more words is prose.
    let rest = &bytes[end.min(bytes.len())..];
    let prose_follows = !quoted
        && sep_t == ":"
        && rest.len() >= 2
        && rest[0] == b' '
        && rest[1].is_ascii_alphabetic();
    let ctx = ValueCtx {
        quoted,
        weak: weak_connector || whitespace_only,
        prose_follows,
        spaced: !whitespace_only && !weak_connector && sep.contains([' ', '\t']),
        next: rest.first().copied(),
    };

    match class {
        NameClass::AwsSecret if aws_secret_ok(v) => {
            return Some(Cand {
                kind: EntityKind::AwsSecretKey,
                start,
                end,
                prio: PRIO_AWS_SECRET,
            });
        }
        NameClass::Password => {
            return password_ok(v, &ctx).then_some(Cand {
                kind: EntityKind::Password,
                start,
                end,
                prio: PRIO_PASSWORD,
            });
        }
        _ => {}
    }
    generic_ok(v, &ctx).then_some(Cand {
        kind: EntityKind::GenericSecret,
        start,
        end,
        prio: PRIO_GENERIC,
    })
}

#[cfg(test)]
#[path = "secrets_tests.rs"]
mod tests;
