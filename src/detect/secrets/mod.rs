//! `detect_secrets`: credentials and keys in free text (prompts, pasted configs, shell history,
//! stack traces).
//!
//! Kinds: `AWS_ACCESS_KEY`, `AWS_SECRET_KEY`, `GITHUB_TOKEN`, `GITLAB_TOKEN`, `SLACK_TOKEN`,
//! `STRIPE_KEY`, `GOOGLE_API_KEY`, `OPENAI_API_KEY`, `ANTHROPIC_API_KEY`, `JWT`, `PRIVATE_KEY`,
//! `PASSWORD`, `CONNECTION_STRING`, `GENERIC_SECRET`.
//!
//! How it works. One Aho-Corasick pass (ASCII case-insensitive) finds every *trigger* literal in
//! the text; nothing else reads every byte. A trigger is one of:
//!
//! * a vendor anchor (`AKIA`, `ghp_`, `glpat-`, `xoxb-`, `sk_live_`, `AIza`, `sk-`, Slack
//!   webhook hosts, base64-encoded PEM `LS0tLS1CRUdJTi` … — the table in `vendors.rs`), checked
//!   case-sensitively and then validated in code at that spot (exact lengths, word boundaries,
//!   not a placeholder);
//! * a word that secret names contain (`token`, `secret`, `key`, `auth`, `pass`, `pwd`,
//!   `Passwort` …): the `name <sep> value` regex (`assign.rs`) is run anchored at the start of
//!   the name around it, on a bounded window;
//! * the literal a structured shape cannot match without (`eyJ` for JWTs, `-----BEGIN` for PEM
//!   blocks, `://` for connection strings, `AKIA`/`ASIA` for access-key/secret pairs, `curl`,
//!   `mysql` … for command-line passwords): that shape's regex (`shapes.rs`) runs from the first
//!   such trigger on, and not at all when there is none.
//!
//! Prose, logs and code without any trigger thus cost one automaton pass; every regex is from
//! the `regex` crate (linear), and the work per trigger is bounded, so the whole scan is linear
//! in the input.
//!
//! * `AWS_PAIR`: an access key id followed by a 40-character secret (the credentials CSV /
//!   `aws configure` shape), which gives `AWS_SECRET_KEY` without a name.
//! * `JWT`: three base64url segments. In a token context (`Authorization: Bearer`, `token=`,
//!   `session=` …) any `eyJ…` with a payload counts, without decoding it; elsewhere the header
//!   must read as a JOSE header (or the payload start like one), so made-up `eyJ….xxx.yyy`
//!   examples are not flagged.
//! * `PEM`: a `-----BEGIN … PRIVATE KEY-----` block through its END line.
//! * `CONN`: URLs with `user:password@` for database/queue/HTTP schemes, or a driver URL with a
//!   `password=` parameter (JDBC); the whole URL is reported.
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

mod assign;
mod shapes;
mod vendors;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::Finding;
use crate::detect::EntityKind;
use assign::*;
use shapes::*;
use vendors::*;

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

impl Cand {
    fn new(kind: EntityKind, start: usize, end: usize) -> Cand {
        let prio = match kind {
            EntityKind::PrivateKey => PRIO_PRIVATE_KEY,
            EntityKind::AwsSecretKey => PRIO_AWS_SECRET,
            EntityKind::ConnectionString => PRIO_CONNECTION,
            EntityKind::Password => PRIO_PASSWORD,
            EntityKind::GenericSecret => PRIO_GENERIC,
            _ => PRIO_VENDOR,
        };
        Cand {
            kind,
            start,
            end,
            prio,
        }
    }

    /// A vendor-format token: beats the context-based kinds whatever its kind.
    fn vendor(kind: EntityKind, start: usize, end: usize) -> Cand {
        let prio = if kind == EntityKind::PrivateKey {
            PRIO_PRIVATE_KEY
        } else {
            PRIO_VENDOR
        };
        Cand {
            kind,
            start,
            end,
            prio,
        }
    }
}

/// The shapes a trigger literal can start, as bits of [`Trigger::gates`].
mod gate {
    pub const JWT: u8 = 1;
    pub const PEM: u8 = 1 << 1;
    pub const CONN: u8 = 1 << 2;
    pub const AWS_PAIR: u8 = 1 << 3;
    pub const CLI: u8 = 1 << 4;
}

/// Literals that start a structured shape's regex, and which. Matched case-sensitively, like
/// the regexes: `HTTP 502` in a log does not start the command-line scan.
const GATES: &[(&str, u8)] = &[
    ("eyJ", gate::JWT),
    ("-----BEGIN", gate::PEM),
    ("://", gate::CONN),
    ("AKIA", gate::AWS_PAIR),
    ("ASIA", gate::AWS_PAIR),
    ("curl", gate::CLI),
    ("wget", gate::CLI),
    ("http", gate::CLI),
    ("xh", gate::CLI),
    ("mysql", gate::CLI),
    ("sshpass", gate::CLI),
    ("docker", gate::CLI),
    ("redis-cli", gate::CLI),
    ("lftp", gate::CLI),
];

/// Words (lowercase) every secret name of `assign::KV` contains; where one occurs, a
/// `name = value` pair is tried. `mot de passe` and `passwort` contain `pass`; the non-ASCII
/// names are listed as the normalised view spells them too.
const NAME_WORDS: &[&str] = &[
    "token",
    "secret",
    "key",
    "auth",
    "bearer",
    "credential",
    "creds",
    "pass",
    "pwd",
    "contrase",
    "hasło",
    "haslo",
    "lösenord",
    "losenord",
    "wachtwoord",
    "senha",
];

/// What one trigger literal (lowercase) means; several meanings may share a literal.
#[derive(Default)]
struct Trigger {
    /// Vendor anchors spelled this way up to ASCII case: the exact anchor and its rule.
    vendors: Vec<(&'static str, Rule)>,
    /// A secret-name word.
    name: bool,
    /// The shapes it starts, with the exact literal.
    gates: Vec<(&'static str, u8)>,
}

struct Triggers {
    ac: AhoCorasick,
    /// By Aho-Corasick pattern id.
    meaning: Vec<Trigger>,
}

static TRIGGERS: LazyLock<Triggers> = LazyLock::new(|| {
    let mut by_literal: BTreeMap<String, Trigger> = BTreeMap::new();
    for &(anchor, rule) in VENDORS {
        let t = by_literal.entry(anchor.to_ascii_lowercase()).or_default();
        t.vendors.push((anchor, rule));
    }
    for &w in NAME_WORDS {
        by_literal.entry(w.to_string()).or_default().name = true;
    }
    for &(lit, g) in GATES {
        let t = by_literal.entry(lit.to_ascii_lowercase()).or_default();
        t.gates.push((lit, g));
    }
    let ac = AhoCorasickBuilder::new()
        .ascii_case_insensitive(true)
        // Every occurrence of every literal matters (`sk-` inside `task-` is rejected later,
        // `key` inside `api_key` is not): overlapping search needs the standard semantics.
        .match_kind(MatchKind::Standard)
        // A few hundred short literals searched on every text: a full DFA.
        .kind(Some(AhoCorasickKind::DFA))
        .build(by_literal.keys())
        .expect("trigger automaton builds");
    Triggers {
        ac,
        meaning: by_literal.into_values().collect(),
    }
});

/// Finds secrets in `text`, read through its normalised view (`normalize.rs`). Findings are
/// sorted by position, never overlap, and carry the original text's offsets.
pub fn detect_secrets(text: &str) -> Vec<Finding> {
    let view = super::normalize::View::new(text);
    view.originals(detect_secrets_in_view(view.text()))
}

fn detect_secrets_in_view(text: &str) -> Vec<Finding> {
    let triggers = &*TRIGGERS;
    let bytes = text.as_bytes();
    let mut cands: Vec<Cand> = Vec::new();
    let mut names = assign::NameScan::new();
    // Where each shape's regex starts: its first trigger.
    let mut first_gate: [Option<usize>; 5] = [None; 5];
    for m in triggers.ac.find_overlapping_iter(text) {
        let t = &triggers.meaning[m.pattern().as_usize()];
        for &(anchor, rule) in &t.vendors {
            if &bytes[m.start()..m.end()] == anchor.as_bytes() {
                vendor_at(text, rule, m.start(), m.end(), &mut cands);
            }
        }
        if t.name {
            names.at(text, m.start(), m.end(), &mut cands);
        }
        for &(lit, gates) in &t.gates {
            if &bytes[m.start()..m.end()] == lit.as_bytes() {
                for (bit, first) in first_gate.iter_mut().enumerate() {
                    if gates & (1 << bit) != 0 && first.is_none() {
                        *first = Some(m.start());
                    }
                }
            }
        }
    }
    // A shape's match starts at most this far before its trigger (`postgresql+asyncpg://`).
    const BACK: usize = 48;
    let from = |at: usize| {
        let mut i = at.saturating_sub(BACK);
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    type Scan = fn(&str, usize, &mut Vec<Cand>);
    let shapes: [Scan; 5] = [
        shapes::scan_jwts,
        shapes::scan_pem,
        shapes::scan_connection_strings,
        shapes::scan_aws_pairs,
        assign::scan_cli_passwords,
    ];
    for (first, scan) in first_gate.iter().zip(shapes) {
        if let Some(at) = first {
            scan(text, from(*at), &mut cands);
        }
    }
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

/// End of the run of `class` bytes from `from`, looking at no more than `limit` bytes (so a
/// long run costs at most `limit` per anchor).
fn run_end(bytes: &[u8], from: usize, limit: usize, class: impl Fn(u8) -> bool) -> usize {
    let stop = bytes.len().min(from.saturating_add(limit));
    let mut i = from;
    while i < stop && class(bytes[i]) {
        i += 1;
    }
    i
}

/// Start of the run of `class` bytes that ends at `to`, looking back at most `limit` bytes.
fn run_start(bytes: &[u8], to: usize, limit: usize, class: impl Fn(u8) -> bool) -> usize {
    let stop = to.saturating_sub(limit);
    let mut i = to;
    while i > stop && class(bytes[i - 1]) {
        i -= 1;
    }
    i
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

#[cfg(test)]
mod tests;
