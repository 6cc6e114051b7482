//! `detect_pii`: personal data in free text (prompts, tool output, logs).
//!
//! Kinds: `EMAIL`, `PHONE_NUMBER`, `CREDIT_CARD`, `IBAN`, `US_SSN`, `IP_ADDRESS`,
//! `MAC_ADDRESS`, `DATE_OF_BIRTH`.
//!
//! How it works, and why it stays linear on any input:
//!
//! * Each kind has one candidate regex (the `regex` crate guarantees linear-time search),
//!   compiled once (`LazyLock`). All patterns but the e-mail one have a bounded match length.
//!   A `RegexSet` of all of them first tells, in one pass, which kinds can occur at all; only
//!   those regexes then run, so a text without personal data is scanned once.
//! * Every candidate is checked in plain code that looks only at the matched span and a few
//!   characters around it: checksums (Luhn for cards, ISO 7064 mod-97 for IBANs), value
//!   ranges (IPv4 octets, SSN areas, calendar dates, phone-number lengths per country), and
//!   "is this glued to a bigger token" rules. When a candidate is rejected the scan resumes one
//!   character after its start (e-mail: after its `@`), so a valid entity that overlaps a
//!   rejected candidate is still found; since candidates are bounded that re-scans a constant
//!   number of bytes per rejection. Context checks ("is there a keyword before?") look at a
//!   fixed window (≤ 40 bytes), never at the whole text.
//! * Findings of different kinds never overlap: a more specific kind wins (an IBAN over the
//!   card-like digits inside it, a card over a phone-like reading of the same digits).
//!
//! Decisions (documented so the corpus and callers know what to expect):
//!
//! * Token boundaries: an entity must not be glued to letters or digits on either side, so
//!   `abc4111111111111111`, `id_4111111111111111`, `v10.0.0.1` and `1.2.3.4.5` are not
//!   findings. Letters outside ASCII count as letters (`café4111…` is not a card), except in
//!   scripts written without spaces (CJK, Thai), where `電話番号は090-1234-5678です` is a phone.
//! * E-mail: needs a dot in the domain and an alphabetic top-level label (`user@localhost`,
//!   `lodash@4.17.21`, `icon@2x.png` are not e-mails). URL credentials
//!   (`postgres://user:pw@db.example.com`, `https://user@host/`) and scp-style SSH targets
//!   (`git@github.com:org/repo`) are not e-mails.
//! * Card: 13–19 digits, contiguous or in the usual groups separated by single spaces or
//!   dashes, a known issuer prefix with a length that issuer uses, and a valid Luhn digit.
//!   Numbers right after "order", "invoice", "tracking", "serial", "EAN", … (and no card or
//!   SSN word nearby) are treated as reference numbers, for cards, dashed SSNs and phones.
//! * IBAN: upper-case only, country from the IBAN registry with its exact length, mod-97 == 1.
//! * US SSN: dashed `AAA-GG-SSSS` always (with the SSA range rules); spaced or contiguous only
//!   with "SSN"/"social security" within 40 bytes before.
//! * Phone: `+`/`00` international numbers (length checked per country code for the common
//!   ones), NANP numbers with separators, national numbers with a trunk `0` and at least one
//!   separator (UK, FR, DE, IT, NL, JP …). A bare digit run of 10–13 digits counts only after
//!   a phone word ("phone", "tel", "mobile", "call", …). A candidate that continues a run of
//!   space-separated digit groups (`3704 0044 0532 0130 01`) is not a phone number, nor is
//!   a `dd mm yyyy`-shaped one or one whose subscriber digits are all zero.
//! * IP: IPv4 parsed by `std::net` (so octets ≤ 255 and no leading zeros), not after a
//!   version-like word ("v", "version", "build", "OID", "section", …) or product token
//!   (`Chrome/120.0.0.0`); a port (`:8080`), prefix length (`/24`) or range (`-10.0.0.9`) may
//!   follow. IPv6 parsed by `std::net`, with at least two non-empty groups and a digit (so
//!   `::`, `::1`, `a::b`, `std::net` are not addresses), and not eight two-digit groups (a hex
//!   dump or EUI-64, `00:1a:2b:3c:4d:5e:6f:70`).
//! * MAC: six hex pairs with `:` or `-`, or Cisco `aaaa.bbbb.cccc` containing a hex letter.
//! * Date of birth: a valid calendar date (years 1900–2099) at most 40 bytes after a birth
//!   keyword (English, French, German, Spanish, Italian, and JSON-ish keys like
//!   `date_of_birth`, `dob`, `birthDate`), or at most 24 bytes before one, with no sentence
//!   break in between. Each keyword claims at most one date.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::{Regex, RegexSet};

use super::Finding;
use crate::detect::EntityKind;

/// Kinds in priority order: when two findings overlap, the earlier kind wins.
const PRIORITY: [EntityKind; 8] = [
    EntityKind::Email,
    EntityKind::Iban,
    EntityKind::CreditCard,
    EntityKind::UsSsn,
    EntityKind::MacAddress,
    EntityKind::IpAddress,
    EntityKind::DateOfBirth,
    EntityKind::PhoneNumber,
];

// Candidate patterns, one per kind. Digits are `[0-9]` (Unicode `\d` would admit other scripts'
// digits), word boundaries are ASCII (`(?-u:\b)`, fast in the DFA); Unicode letters next to a
// match are rejected in code.

/// Letters of scripts written without spaces (CJK, Thai) are left out so that an address
/// inside Japanese or Chinese text does not absorb the words around it.
const EMAIL_PAT: &str = r"(?x)
    [[\p{L}\p{N}._%+\-]--[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}\p{Lao}]]+
    @[[\p{L}\p{N}\-]--[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}\p{Lao}]]+
    (?:\.[[\p{L}\p{N}\-]--[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}\p{Lao}]]+)+";

const CARD_PAT: &str = r"(?x)(?-u:\b)(?:
      [0-9]{4}[\ \-][0-9]{4}[\ \-][0-9]{4}[\ \-][0-9]{1,4}(?:[\ \-][0-9]{1,3})?
    | [0-9]{4}[\ \-][0-9]{6}[\ \-][0-9]{4,5}
    | [0-9]{13,19}
    )(?-u:\b)";

const IBAN_PAT: &str = r"(?-u:\b)[A-Z]{2}[0-9]{2}(?:\ ?[A-Z0-9]){11,30}";

const SSN_PAT: &str = r"(?-u:\b)[0-9]{3}(?:-[0-9]{2}-|\ [0-9]{2}\ |[0-9]{2})[0-9]{4}(?-u:\b)";

const IPV4_PAT: &str = r"(?-u:\b)(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?-u:\b)";

const IPV6_PAT: &str =
    r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{0,4})";

const MAC_PAT: &str = r"(?x)(?-u:\b)(?:
      [0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}
    | [0-9A-Fa-f]{2}(?:-[0-9A-Fa-f]{2}){5}
    | [0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}
    )(?-u:\b)";

/// International (`+` or `00`), NANP with separators, national with trunk `0`.
const PHONE_PAT: &str = r"(?x)
      (?:\+|(?-u:\b)00)[1-9][0-9]{0,2}
      (?:[\ .\-]?\(0\))?
      (?:[\ .\-]?\(?[0-9]{1,5}\)?){1,6}
    | (?:(?-u:\b)1[\ .\-])?
      (?:\([0-9]{3}\)\ ?|(?-u:\b)[0-9]{3}[\ .\-])[0-9]{3}[\ .\-][0-9]{4}(?-u:\b)
    | (?:\(0[0-9]{1,4}\)|(?-u:\b)0[0-9]{1,4})(?:[\ .\-/]?[0-9]{2,8}){1,4}(?-u:\b)
    ";

/// A bare run of digits: a phone number only after a phone word.
const PHONE_PLAIN_PAT: &str = r"(?-u:\b)[0-9]{10,13}(?-u:\b)";

const DOB_KEYWORD_PAT: &str = r"(?xi)
      date[\s_\-]{0,3}of[\s_\-]{0,3}birth
    | birth[\s_\-]{0,3}date | birthday | b-day
    | d\.o\.b\.? | dob
    | born
    | n[ée](?:e|\(e\))?\s{1,3}(?:le|en)
    | date[\s_\-]{1,3}de[\s_\-]{1,3}naissance
    | geburtsdatum | geboren(?:\s{1,3}am)? | geb\.
    | fecha[\s_\-]{1,3}de[\s_\-]{1,3}nacimiento | nacid[oa]\s{1,3}el
    | data[\s_\-]{1,3}di[\s_\-]{1,3}nascita | nat[oa]\s{1,3}il
    ";

/// Month names the date pattern accepts (English, French, German, Spanish, Italian), matched
/// case-insensitively.
#[rustfmt::skip]
const MONTH_NAMES: &[(&str, u32)] = &[
    ("january", 1), ("jan", 1), ("janvier", 1), ("januar", 1), ("jänner", 1), ("enero", 1),
    ("gennaio", 1), ("february", 2), ("feb", 2), ("février", 2), ("fevrier", 2), ("februar", 2),
    ("febrero", 2), ("febbraio", 2), ("march", 3), ("mar", 3), ("mars", 3), ("märz", 3),
    ("maerz", 3), ("marzo", 3), ("april", 4), ("apr", 4), ("avril", 4), ("abril", 4),
    ("aprile", 4), ("may", 5), ("mai", 5), ("mayo", 5), ("maggio", 5), ("june", 6), ("jun", 6),
    ("juin", 6), ("juni", 6), ("junio", 6), ("giugno", 6), ("july", 7), ("jul", 7),
    ("juillet", 7), ("juli", 7), ("julio", 7), ("luglio", 7), ("august", 8), ("aug", 8),
    ("août", 8), ("aout", 8), ("agosto", 8), ("september", 9), ("sept", 9), ("sep", 9),
    ("septembre", 9), ("septiembre", 9), ("setiembre", 9), ("settembre", 9), ("october", 10),
    ("oct", 10), ("octobre", 10), ("oktober", 10), ("octubre", 10), ("ottobre", 10),
    ("november", 11), ("nov", 11), ("novembre", 11), ("noviembre", 11), ("december", 12),
    ("dec", 12), ("décembre", 12), ("decembre", 12), ("dezember", 12), ("diciembre", 12),
    ("dicembre", 12),
];

fn date_pattern() -> String {
    let mut names: Vec<&str> = MONTH_NAMES.iter().map(|&(n, _)| n).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    let months = names
        .iter()
        .map(|n| regex::escape(n))
        .collect::<Vec<_>>()
        .join("|");
    format!(
        r"(?xi)(?-u:\b)(?:
              [0-9]{{4}}[\-/.][0-9]{{1,2}}[\-/.][0-9]{{1,2}}
            | [0-9]{{1,2}}[\-/.][0-9]{{1,2}}[\-/.](?:[0-9]{{4}}|[0-9]{{2}})
            | (?:{months})\.?\s{{1,3}}[0-9]{{1,2}}(?:st|nd|rd|th)?,?\s{{1,3}}[0-9]{{4}}
            | [0-9]{{1,2}}(?:st|nd|rd|th|er|\.)?\s{{1,3}}(?:of\s{{1,3}}|de\s{{1,3}})?
              (?:{months})\.?,?\s{{1,3}}(?:de\s{{1,3}})?[0-9]{{4}}
            )(?-u:\b)"
    )
}

/// Index of each pattern in [`GATE`].
#[derive(Clone, Copy)]
enum Pat {
    Email,
    Card,
    Iban,
    Ssn,
    Ipv4,
    Ipv6,
    Mac,
    Phone,
    PhonePlain,
    DobKeyword,
}

const PATTERNS: [&str; 10] = [
    EMAIL_PAT,
    CARD_PAT,
    IBAN_PAT,
    SSN_PAT,
    IPV4_PAT,
    IPV6_PAT,
    MAC_PAT,
    PHONE_PAT,
    PHONE_PLAIN_PAT,
    DOB_KEYWORD_PAT,
];

/// One pass over the text telling which candidate patterns occur at all; only those are then
/// run on their own (a text without personal data is scanned once).
static GATE: LazyLock<RegexSet> =
    LazyLock::new(|| RegexSet::new(PATTERNS).expect("valid PII regex set"));

/// The per-kind regexes, compiled once.
static REGEXES: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    PATTERNS
        .iter()
        .map(|p| Regex::new(p).expect("valid PII regex"))
        .collect()
});

static DATE_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&date_pattern()).expect("valid date regex"));

fn regex(p: Pat) -> &'static Regex {
    &REGEXES[p as usize]
}

/// Outcome of checking one regex candidate.
enum Check {
    /// A finding with this span (possibly trimmed from the candidate).
    Accept(usize, usize),
    /// Not a finding; resume the scan at this byte offset (must be > the candidate start).
    Reject(usize),
}

/// Runs `re` over `text`, checking every candidate with `check`.
fn scan(re: &Regex, text: &str, check: impl Fn(usize, usize) -> Check) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos <= text.len() {
        let Some(m) = re.find_at(text, pos) else {
            break;
        };
        match check(m.start(), m.end()) {
            Check::Accept(s, e) => {
                out.push((s, e));
                pos = e.max(m.start() + 1);
            }
            Check::Reject(next) => pos = next.max(m.start() + 1),
        }
        while pos < text.len() && !text.is_char_boundary(pos) {
            pos += 1;
        }
    }
    out
}

/// Resume point after rejecting a candidate starting at `start`: the next character.
fn next_start(text: &str, start: usize) -> usize {
    start + text[start..].chars().next().map_or(1, char::len_utf8)
}

/// Finds personal data in `text`, read through its normalised view (`normalize.rs`): the
/// offsets are the original text's, spanning any invisible characters inside a finding.
pub fn detect_pii(text: &str) -> Vec<Finding> {
    let view = super::normalize::View::new(text);
    view.originals(detect_pii_in_view(view.text()))
}

fn detect_pii_in_view(text: &str) -> Vec<Finding> {
    let gate = GATE.matches(text);
    let mut found: Vec<Finding> = Vec::new();
    let mut run = |p: Pat, kind: EntityKind, check: &dyn Fn(usize, usize) -> Check| {
        if gate.matched(p as usize) {
            let spans = scan(regex(p), text, check);
            found.extend(spans.into_iter().map(|(s, e)| Finding::new(kind, s, e)));
        }
    };
    run(Pat::Email, EntityKind::Email, &|s, e| {
        check_email_candidate(text, s, e)
    });
    run(Pat::Iban, EntityKind::Iban, &|s, e| check_iban(text, s, e));
    run(Pat::Card, EntityKind::CreditCard, &|s, e| {
        check_card(text, s, e)
    });
    run(Pat::Ssn, EntityKind::UsSsn, &|s, e| check_ssn(text, s, e));
    run(Pat::Mac, EntityKind::MacAddress, &|s, e| {
        check_mac(text, s, e)
    });
    run(Pat::Ipv4, EntityKind::IpAddress, &|s, e| {
        check_ipv4(text, s, e)
    });
    run(Pat::Ipv6, EntityKind::IpAddress, &|s, e| {
        check_ipv6(text, s, e)
    });
    run(Pat::Phone, EntityKind::PhoneNumber, &|s, e| {
        check_phone(text, s, e)
    });
    run(Pat::PhonePlain, EntityKind::PhoneNumber, &|s, e| {
        check_plain_phone(text, s, e)
    });
    if gate.matched(Pat::DobKeyword as usize) {
        found.extend(
            dates_of_birth(text)
                .into_iter()
                .map(|(s, e)| Finding::new(EntityKind::DateOfBirth, s, e)),
        );
    }
    resolve(found)
}

/// Keeps, for every overlap, the finding of the higher-priority kind (then the earlier one);
/// returns the survivors sorted by position. O(n log n) in the number of findings.
fn resolve(mut found: Vec<Finding>) -> Vec<Finding> {
    let rank = |k: EntityKind| {
        PRIORITY
            .iter()
            .position(|p| *p == k)
            .unwrap_or(PRIORITY.len())
    };
    found.sort_by_key(|f| (rank(f.kind), f.start));
    let mut kept: BTreeMap<usize, Finding> = BTreeMap::new();
    for f in found {
        // Kept spans are disjoint, so only the last one starting before `f.end` can overlap.
        let clash = kept
            .range(..f.end)
            .next_back()
            .is_some_and(|(_, k)| k.end > f.start);
        if !clash {
            kept.insert(f.start, f);
        }
    }
    kept.into_values().collect()
}

// ---------------------------------------------------------------------------------------------
// Context helpers (each looks at a bounded number of bytes).

fn prev_char(text: &str, i: usize) -> Option<char> {
    text[..i].chars().next_back()
}

fn prev_char2(text: &str, i: usize) -> Option<char> {
    let mut it = text[..i].chars();
    it.next_back();
    it.next_back()
}

fn next_char(text: &str, i: usize) -> Option<char> {
    text[i..].chars().next()
}

fn next_char2(text: &str, i: usize) -> Option<char> {
    text[i..].chars().nth(1)
}

/// Scripts written without spaces between words (CJK, Thai, Lao; Korean particles attach to
/// the preceding word): their letters next to an entity do not make it part of a bigger token.
fn unspaced_script(c: char) -> bool {
    matches!(u32::from(c),
        0x0E00..=0x0EFF | 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF66..=0xFF9F)
}

/// A letter or digit that would make an adjacent match part of a bigger word.
fn word_char(c: char) -> bool {
    c.is_alphanumeric() && !unspaced_script(c)
}

fn is_alnum(c: Option<char>) -> bool {
    c.is_some_and(word_char)
}

fn is_digit(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_ascii_digit())
}

/// Whether the span starting at `start` continues a bigger token on its left: a letter or
/// digit right before it, or `_`/`-` after a letter or digit, or `.`/`/`/`-` after a digit
/// (`1.2.3.4.5`, `12-4111…`).
fn glued_left(text: &str, start: usize) -> bool {
    let p = prev_char(text, start);
    if is_alnum(p) {
        return true;
    }
    let pp = prev_char2(text, start);
    match p {
        Some('_' | '-') => is_alnum(pp),
        Some('.' | '/') => is_digit(pp),
        _ => false,
    }
}

/// Mirror of [`glued_left`] on the right; `:` followed by a digit also glues (`…:8080`).
fn glued_right(text: &str, end: usize) -> bool {
    let n = next_char(text, end);
    if is_alnum(n) {
        return true;
    }
    let nn = next_char2(text, end);
    match n {
        Some('_' | '-') => is_alnum(nn),
        Some('.' | '/' | ':') => is_digit(nn),
        _ => false,
    }
}

fn glued(text: &str, start: usize, end: usize) -> bool {
    glued_left(text, start) || glued_right(text, end)
}

/// Up to `n` bytes of text before `at`, lower-cased.
fn before(text: &str, at: usize, n: usize) -> String {
    text[floor(text, at, n)..at].to_lowercase()
}

/// The lower-cased words (letters/digits runs, also splitting camelCase) of `s`.
fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if c.is_alphanumeric() {
            if c.is_uppercase() && prev_lower && !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = c.is_lowercase();
            cur.extend(c.to_lowercase());
        } else {
            prev_lower = false;
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Words (of the 32 bytes before `start`) that mark a number as a reference, not personal data.
fn reference_context(text: &str, start: usize) -> bool {
    #[rustfmt::skip]
    const REFERENCE: &[&str] = &[
        "order", "invoice", "inv", "tracking", "ticket", "ref", "reference", "sku", "part",
        "serial", "model", "item", "po", "transaction", "txn", "confirmation", "booking", "case",
        "isbn", "shipment", "parcel", "build", "ean", "gtin", "upc", "barcode", "imei",
    ];
    #[rustfmt::skip]
    const PERSONAL: &[&str] = &[
        "card", "visa", "mastercard", "amex", "credit", "debit", "cc", "pan", "payment", "ssn",
        "social", "security",
    ];
    let w = words(&text[floor(text, start, 32)..start]);
    let has = |list: &[&str]| w.iter().any(|x| list.contains(&x.as_str()));
    has(REFERENCE) && !has(PERSONAL)
}

/// Smallest char boundary `i` with `at - i <= n`: the start of a window of `n` bytes before `at`.
fn floor(text: &str, at: usize, n: usize) -> usize {
    let mut i = at.saturating_sub(n);
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

fn ascii_digits(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

fn number(d: &[u8]) -> u32 {
    d.iter().fold(0, |acc, &x| acc * 10 + u32::from(x))
}

// ---------------------------------------------------------------------------------------------
// EMAIL

/// Resumes after the candidate's `@` when rejected: every other candidate using the same `@`
/// has a local part glued to this one's, so this keeps the (unbounded) e-mail scan linear.
fn check_email_candidate(text: &str, s: usize, e: usize) -> Check {
    let at = s + text[s..e].find('@').expect("regex has @");
    match check_email(text, s, at, e) {
        Some((s, e)) => Check::Accept(s, e),
        None => Check::Reject(at + 1),
    }
}

/// Top-level labels that are really file extensions (`logo@2x.png`); real ccTLDs that double as
/// extensions (`.py`, `.rs`, `.md`) are kept as domains.
#[rustfmt::skip]
const FILE_EXTENSIONS: &[&str] = &[
    "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "pdf", "txt", "js", "ts", "css",
    "html", "json", "yaml", "yml", "toml", "lock", "tgz", "gz",
];

fn check_email(text: &str, mut s: usize, at: usize, e: usize) -> Option<(usize, usize)> {
    // Leading dots are punctuation, not part of the address.
    while text.as_bytes()[s] == b'.' {
        s += 1;
    }
    let local = &text[s..at];
    let domain = &text[at + 1..e];
    if local.is_empty()
        || local.len() > 64
        || local.ends_with('.')
        || local.contains("..")
        || domain.len() > 253
    {
        return None;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels
        .iter()
        .any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-'))
    {
        return None;
    }
    let tld = labels.last()?;
    let tld_ok = (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
        || tld.to_ascii_lowercase().starts_with("xn--");
    if !tld_ok || FILE_EXTENSIONS.contains(&tld.to_ascii_lowercase().as_str()) {
        return None;
    }
    // Right side: nothing word-like may follow; `host:path` is an scp/SSH target.
    match next_char(text, e) {
        Some(c) if word_char(c) || c == '_' || c == '@' => return None,
        Some(':') if next_char2(text, e).is_some_and(|c| !c.is_whitespace()) => return None,
        _ => {}
    }
    // Left side: URL userinfo (`scheme://user:pw@host`, `https://user@host`) is not an e-mail.
    if let Some(':' | '/') = prev_char(text, s) {
        let tok_start = text[..s].rfind(char::is_whitespace).map_or(0, |i| i + 1);
        let token = &text[tok_start.max(floor(text, s, 256))..s];
        if token.contains("://")
            || !token.to_ascii_lowercase().ends_with("mailto:") && token.ends_with('/')
        {
            return None;
        }
    }
    Some((s, e))
}

// ---------------------------------------------------------------------------------------------
// CREDIT_CARD

fn luhn(d: &[u8]) -> bool {
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 1 {
                let y = x * 2;
                if y > 9 {
                    y - 9
                } else {
                    y
                }
            } else {
                x
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Known issuer identification number ranges, with the lengths each brand issues.
fn known_issuer(d: &[u8]) -> bool {
    let n = d.len();
    let p = |k: usize| number(&d[..k.min(n)]);
    let (p2, p3, p4, p6) = (p(2), p(3), p(4), p(6));
    if d[0] == 4 {
        return n == 13 || n == 16 || n == 19; // Visa
    }
    if p2 == 34 || p2 == 37 {
        return n == 15; // American Express
    }
    if (51..=55).contains(&p2) || (2221..=2720).contains(&p4) {
        return n == 16; // Mastercard
    }
    if (2200..=2204).contains(&p4) {
        return (16..=19).contains(&n); // Mir
    }
    if (300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39 {
        return (14..=19).contains(&n); // Diners Club
    }
    if (3528..=3589).contains(&p4) {
        return (16..=19).contains(&n); // JCB
    }
    if p4 == 6011 || (644..=649).contains(&p3) || p2 == 65 || (622_126..=622_925).contains(&p6) {
        return (16..=19).contains(&n); // Discover
    }
    if p2 == 62 || p2 == 81 {
        return (16..=19).contains(&n); // UnionPay
    }
    if p2 == 50 || (56..=58).contains(&p2) || p2 == 60 || p2 == 63 || p2 == 67 || p2 == 69 {
        return (13..=19).contains(&n); // Maestro, RuPay
    }
    false
}

fn card_ok(text: &str, s: usize, e: usize) -> bool {
    let d = ascii_digits(&text[s..e]);
    (13..=19).contains(&d.len()) && known_issuer(&d) && luhn(&d)
}

fn check_card(text: &str, s: usize, e: usize) -> Check {
    if glued_left(text, s) || reference_context(text, s) {
        return Check::Reject(next_start(text, s));
    }
    let mut end = e;
    // A trailing short group may be something else (`4111 1111 1111 1111 12/26`): retry without.
    for _ in 0..2 {
        if !glued_right(text, end) && card_ok(text, s, end) {
            return Check::Accept(s, end);
        }
        match text[s..end].rfind([' ', '-']) {
            Some(i) => end = s + i,
            None => break,
        }
    }
    Check::Reject(next_start(text, s))
}

// ---------------------------------------------------------------------------------------------
// IBAN

fn iban_length(country: &str) -> Option<usize> {
    #[rustfmt::skip]
    const TABLE: &[(&str, usize)] = &[
        ("AD", 24), ("AE", 23), ("AL", 28), ("AT", 20), ("AZ", 28), ("BA", 20), ("BE", 16),
        ("BG", 22), ("BH", 22), ("BI", 27), ("BR", 29), ("BY", 28), ("CH", 21), ("CR", 22),
        ("CY", 28), ("CZ", 24), ("DE", 22), ("DJ", 27), ("DK", 18), ("DO", 28), ("EE", 20),
        ("EG", 29), ("ES", 24), ("FI", 18), ("FK", 18), ("FO", 18), ("FR", 27), ("GB", 22),
        ("GE", 22), ("GI", 23), ("GL", 18), ("GR", 27), ("GT", 28), ("HR", 21), ("HU", 28),
        ("IE", 22), ("IL", 23), ("IQ", 23), ("IS", 26), ("IT", 27), ("JO", 30), ("KW", 30),
        ("KZ", 20), ("LB", 28), ("LC", 32), ("LI", 21), ("LT", 20), ("LU", 20), ("LV", 21),
        ("LY", 25), ("MC", 27), ("MD", 24), ("ME", 22), ("MK", 19), ("MN", 20), ("MR", 27),
        ("MT", 31), ("MU", 30), ("NI", 28), ("NL", 18), ("NO", 15), ("OM", 23), ("PK", 24),
        ("PL", 28), ("PS", 29), ("PT", 25), ("QA", 29), ("RO", 24), ("RS", 22), ("RU", 33),
        ("SA", 24), ("SC", 31), ("SD", 18), ("SE", 24), ("SI", 19), ("SK", 24), ("SM", 27),
        ("SO", 23), ("ST", 25), ("SV", 28), ("TL", 23), ("TN", 24), ("TR", 26), ("UA", 29),
        ("VA", 22), ("VG", 24), ("XK", 20), ("YE", 30),
    ];
    TABLE.iter().find(|(c, _)| *c == country).map(|&(_, n)| n)
}

/// ISO 7064 MOD 97-10 over the rearranged IBAN (country code and check digits moved last).
fn iban_mod97(chars: &[u8]) -> bool {
    let rearranged = chars[4..].iter().chain(&chars[..4]);
    let mut rem: u32 = 0;
    for &c in rearranged {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn check_iban(text: &str, s: usize, e: usize) -> Check {
    let reject = Check::Reject(next_start(text, s));
    let Some(len) = iban_length(&text[s..s + 2]) else {
        return reject;
    };
    if glued_left(text, s) {
        return reject;
    }
    // Take exactly `len` alphanumerics; the candidate may have run into the next word.
    let mut chars = Vec::with_capacity(len);
    let mut end = s;
    for (i, b) in text[s..e].bytes().enumerate() {
        if b != b' ' {
            chars.push(b);
            end = s + i + 1;
            if chars.len() == len {
                break;
            }
        }
    }
    let check_digits = u32::from(chars[2] - b'0') * 10 + u32::from(chars[3] - b'0');
    if chars.len() != len || glued_right(text, end) || !(2..=98).contains(&check_digits) {
        return reject;
    }
    if iban_mod97(&chars) {
        Check::Accept(s, end)
    } else {
        reject
    }
}

// ---------------------------------------------------------------------------------------------
// US_SSN

fn ssn_keyword(text: &str, s: usize) -> bool {
    let ctx = before(text, s, 40);
    ctx.contains("ssn")
        || ctx.contains("social security")
        || ctx.contains("ss#")
        || ctx.contains("soc sec")
}

fn check_ssn(text: &str, s: usize, e: usize) -> Check {
    let reject = Check::Reject(next_start(text, s));
    if glued(text, s, e) {
        return reject;
    }
    let d = ascii_digits(&text[s..e]);
    let (area, group, serial) = (number(&d[..3]), number(&d[3..5]), number(&d[5..]));
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return reject;
    }
    let dashed = text[s..e].contains('-');
    let ok = if dashed {
        !reference_context(text, s)
    } else {
        ssn_keyword(text, s)
    };
    if ok {
        Check::Accept(s, e)
    } else {
        reject
    }
}

// ---------------------------------------------------------------------------------------------
// IP_ADDRESS, MAC_ADDRESS

/// The word right before `s` (skipping spaces and `:`/`=`), lower-cased.
fn preceding_word(text: &str, s: usize) -> String {
    let ctx = before(text, s, 24);
    let trimmed = ctx.trim_end_matches(|c: char| c.is_whitespace() || c == ':' || c == '=');
    let w: String = trimmed
        .chars()
        .rev()
        .take_while(|c| c.is_alphanumeric() || *c == '.' || *c == '§')
        .collect();
    w.chars()
        .rev()
        .collect::<String>()
        .trim_end_matches('.')
        .to_string()
}

fn check_ipv4(text: &str, s: usize, e: usize) -> Check {
    // Every position inside the candidate follows one of its own characters (a digit, hex
    // digit or separator), which would glue any match starting there: resume after it.
    let reject = Check::Reject(e);
    let p = prev_char(text, s);
    let n = next_char(text, e);
    let left_glued = is_alnum(p)
        || match p {
            Some('.') => is_digit(prev_char2(text, s)),
            Some('_') => is_alnum(prev_char2(text, s)),
            // `build-1.2.3.4`, and product tokens like `Chrome/120.0.0.0`.
            Some('-' | '/') => prev_char2(text, s).is_some_and(char::is_alphabetic),
            _ => false,
        };
    let right_glued = is_alnum(n)
        || match n {
            Some('.') => is_digit(next_char2(text, e)),
            Some('_') => is_alnum(next_char2(text, e)),
            Some('-') => next_char2(text, e).is_some_and(char::is_alphabetic),
            _ => false,
        };
    if left_glued || right_glued || text[s..e].parse::<Ipv4Addr>().is_err() {
        return reject;
    }
    #[rustfmt::skip]
    const VERSION_WORDS: &[&str] = &[
        "v", "ver", "version", "versions", "release", "build", "firmware", "fw", "rev", "revision",
        "oid", "section", "sections", "chapter", "§", "clause", "step", "rule", "kernel", "patch",
    ];
    if VERSION_WORDS.contains(&preceding_word(text, s).as_str()) {
        return reject;
    }
    Check::Accept(s, e)
}

fn check_ipv6(text: &str, s: usize, e: usize) -> Check {
    // Every position inside the candidate follows one of its own characters (a digit, hex
    // digit or separator), which would glue any match starting there: resume after it.
    let reject = Check::Reject(e);
    let cand = &text[s..e];
    let p = prev_char(text, s);
    let n = next_char(text, e);
    if is_alnum(p)
        || matches!(p, Some(':' | '_' | '.'))
        || is_alnum(n)
        || matches!(n, Some('_' | ':'))
    {
        return reject;
    }
    if n == Some('.') && is_digit(next_char2(text, e)) {
        return reject;
    }
    let groups = cand.split(':').filter(|g| !g.is_empty()).count();
    // Eight two-digit groups is a colon-separated hex dump (EUI-64, fingerprint), not an address.
    let hex_dump = groups == 8 && cand.split(':').all(|g| g.len() == 2);
    if groups < 2
        || hex_dump
        || !cand.bytes().any(|b| b.is_ascii_digit())
        || cand.parse::<Ipv6Addr>().is_err()
    {
        return reject;
    }
    Check::Accept(s, e)
}

fn check_mac(text: &str, s: usize, e: usize) -> Check {
    // Every position inside the candidate follows one of its own characters (a digit, hex
    // digit or separator), which would glue any match starting there: resume after it.
    let reject = Check::Reject(e);
    let cand = &text[s..e];
    let p = prev_char(text, s);
    let n = next_char(text, e);
    let hex = |c: Option<char>| c.is_some_and(|c| c.is_ascii_hexdigit());
    let sep_glue =
        |c: Option<char>, cc: Option<char>| matches!(c, Some(':' | '-' | '.')) && hex(cc);
    if is_alnum(p)
        || is_alnum(n)
        || sep_glue(p, prev_char2(text, s))
        || sep_glue(n, next_char2(text, e))
    {
        return reject;
    }
    if cand.contains('.') && !cand.bytes().any(|b| b.is_ascii_alphabetic()) {
        return reject;
    }
    Check::Accept(s, e)
}

// ---------------------------------------------------------------------------------------------
// PHONE_NUMBER

/// E.164 country code at the start of `d` and the national number lengths it uses
/// (a generous default for codes not listed).
fn country(d: &[u8]) -> (usize, std::ops::RangeInclusive<usize>) {
    #[rustfmt::skip]
    const KNOWN: &[(u32, usize, usize)] = &[
        (1, 10, 10), (7, 10, 10), (20, 8, 10), (27, 9, 9), (30, 10, 10), (31, 9, 9), (32, 8, 9),
        (33, 9, 9), (34, 9, 9), (36, 8, 9), (39, 6, 11), (40, 9, 9), (41, 9, 9), (43, 4, 13),
        (44, 9, 10), (45, 8, 8), (46, 7, 10), (47, 8, 8), (48, 9, 9), (49, 6, 13), (51, 8, 9),
        (52, 10, 10), (54, 10, 11), (55, 10, 11), (56, 9, 9), (57, 10, 10), (60, 8, 10), (61, 9, 9),
        (62, 8, 12), (63, 8, 10), (64, 8, 10), (65, 8, 8), (66, 8, 9), (81, 9, 10), (82, 8, 10),
        (84, 9, 10), (86, 10, 11), (90, 10, 10), (91, 10, 10), (92, 9, 10), (98, 10, 10),
        (212, 9, 9), (234, 8, 10), (254, 9, 9), (351, 9, 9), (352, 6, 11), (353, 7, 9),
        (358, 5, 12), (420, 9, 9), (852, 8, 8), (971, 8, 9), (972, 8, 9),
    ];
    for len in 1..=3 {
        if d.len() > len {
            let cc = number(&d[..len]);
            if let Some(&(_, lo, hi)) = KNOWN.iter().find(|k| k.0 == cc) {
                return (len, lo..=hi);
            }
        }
    }
    // Unknown code: assume two digits (most codes are 2–3 digits) and E.164's limits.
    (2, 5..=13)
}

/// Byte offsets (relative to `s`) just after each run of digits, with the digits so far.
fn digit_run_ends(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut count = 0;
    let bytes = s.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if b.is_ascii_digit() {
            count += 1;
            if bytes.get(i + 1).is_none_or(|n| !n.is_ascii_digit()) {
                out.push((i + 1, count));
            }
        }
    }
    out
}

fn parens_balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if !(0..=1).contains(&depth) {
            return false;
        }
    }
    depth == 0
}

fn check_phone(text: &str, s: usize, e: usize) -> Check {
    let reject = Check::Reject(next_start(text, s));
    // A digit group right before (`0044 0532 0130 01`, `5 +14155552671`) means the candidate
    // is the tail of a longer run of numbers, not a phone number.
    let after_group = prev_char(text, s) == Some(' ') && is_digit(prev_char2(text, s));
    if glued_left(text, s) || after_group || prev_char(text, s) == Some('+') {
        return reject;
    }
    if reference_context(text, s) && !phone_keyword(text, s) {
        return reject;
    }
    let cand = &text[s..e];
    let intl = cand.starts_with('+') || cand.starts_with("00");
    // The longest prefix ending after a digit run whose digit count is acceptable.
    let (lo, hi) = if intl {
        let body = cand.replacen("(0)", "", 1);
        let d = ascii_digits(&body);
        let zeros = if cand.starts_with("00") { 2 } else { 0 };
        if d.len() <= zeros + 1 {
            return reject;
        }
        let (cc_len, national) = country(&d[zeros..]);
        // A national number never starts with the trunk 0 after the country code (Italy's
        // landlines aside); `0044 0532 …` is not a phone number.
        if d.get(zeros + cc_len) == Some(&0) && number(&d[zeros..zeros + cc_len]) != 39 {
            return reject;
        }
        let trunk = usize::from(cand.contains("(0)"));
        let base = zeros + cc_len + trunk;
        (
            base + national.start(),
            (base + national.end()).min(zeros + 15 + trunk),
        )
    } else {
        let d = ascii_digits(cand);
        if d[0] == 0 {
            (9, 12)
        } else {
            // NANP: optional leading 1, then NXX-NXX-XXXX.
            let core = if d.len() == 11 && d[0] == 1 {
                &d[1..]
            } else {
                &d[..]
            };
            if core.len() != 10 || core[0] < 2 || core[3] < 2 {
                return reject;
            }
            (d.len(), d.len())
        }
    };
    let Some(&(rel_end, _)) = digit_run_ends(cand)
        .iter()
        .rev()
        .find(|&&(rel_end, count)| (lo..=hi).contains(&count) && !glued_right(text, s + rel_end))
    else {
        return reject;
    };
    let mut end = s + rel_end;
    if text[s..end].ends_with(|c: char| c.is_ascii_digit()) && next_char(text, end) == Some(')') {
        end += 1;
    }
    let span = &text[s..end];
    if !parens_balanced(span) {
        return reject;
    }
    if !intl {
        // National and NANP readings need a separator: bare runs are handled by the keyword rule.
        if !span.contains([' ', '.', '-', '/', '(']) {
            return reject;
        }
        if looks_like_date(span)
            || (next_char(text, end) == Some(' ') && is_digit(next_char2(text, end)))
        {
            return reject;
        }
        // `020 000 000`: an amount or a placeholder, not a subscriber number.
        let first_group = span
            .find(|c: char| !c.is_ascii_digit() && c != '(')
            .unwrap_or(span.len());
        if ascii_digits(&span[first_group..]).iter().all(|&d| d == 0) {
            return reject;
        }
    }
    Check::Accept(s, end)
}

/// `dd.mm.yyyy`-shaped digit groups (never a phone number).
fn looks_like_date(span: &str) -> bool {
    let groups: Vec<&str> = span
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    groups.len() == 3 && groups[0].len() <= 2 && groups[1].len() <= 2 && groups[2].len() == 4
}

fn phone_keyword(text: &str, s: usize) -> bool {
    #[rustfmt::skip]
    const PREFIXES: &[&str] = &[
        "phone", "telephon", "telefon", "teléfono", "téléphone", "mobile", "cell", "whatsapp",
        "fax",
    ];
    #[rustfmt::skip]
    const EXACT: &[&str] = &[
        "tel", "tél", "ph", "call", "sms", "text", "contact", "handy", "portable", "móvil", "movil",
        "mob", "cellulare", "numéro",
    ];
    let start = floor(text, s, 40);
    words(&text[start..s])
        .iter()
        .any(|w| PREFIXES.iter().any(|p| w.starts_with(p)) || EXACT.contains(&w.as_str()))
}

fn check_plain_phone(text: &str, s: usize, e: usize) -> Check {
    if !glued(text, s, e) && phone_keyword(text, s) && !reference_context(text, s) {
        Check::Accept(s, e)
    } else {
        Check::Reject(next_start(text, s))
    }
}

// ---------------------------------------------------------------------------------------------
// DATE_OF_BIRTH

fn month_number(word: &str) -> Option<u32> {
    let w = word.to_lowercase();
    MONTH_NAMES.iter().find(|&&(n, _)| n == w).map(|&(_, m)| m)
}

fn valid_date(year: u32, month: u32, day: u32) -> bool {
    if !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    day <= days
}

fn parse_date(s: &str) -> bool {
    let nums: Vec<&str> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let word = s.split(|c: char| !c.is_alphabetic()).find_map(month_number);
    let n = |g: &str| g.parse::<u32>().unwrap_or(0);
    let year_ok = |y: &str| y.len() == 2 || (1900..=2099).contains(&n(y));
    let year_of = |y: &str| if y.len() == 2 { 2000 + n(y) } else { n(y) };
    if let Some(month) = word {
        // "March 14, 1985", "14 March 1985", "14. März 1985": day, then 4-digit year.
        return nums.len() == 2
            && nums[1].len() == 4
            && year_ok(nums[1])
            && valid_date(n(nums[1]), month, n(nums[0]));
    }
    if nums.len() != 3 {
        return false;
    }
    if nums[0].len() == 4 {
        return year_ok(nums[0]) && valid_date(n(nums[0]), n(nums[1]), n(nums[2]));
    }
    let (a, b, y) = (n(nums[0]), n(nums[1]), nums[2]);
    year_ok(y) && (valid_date(year_of(y), b, a) || valid_date(year_of(y), a, b))
}

fn check_date(text: &str, s: usize, e: usize) -> Check {
    let reject = Check::Reject(next_start(text, s));
    let iso_time = next_char(text, e) == Some('T') && is_digit(next_char2(text, e));
    if glued_left(text, s) || (!iso_time && glued_right(text, e)) || !parse_date(&text[s..e]) {
        return reject;
    }
    Check::Accept(s, e)
}

/// A sentence or line break between a keyword and a date breaks their association.
fn breaks_sentence(gap: &str) -> bool {
    gap.contains(['\n', '!', '?', ';']) || gap.contains(". ")
}

fn dates_of_birth(text: &str) -> Vec<(usize, usize)> {
    let keywords = scan(regex(Pat::DobKeyword), text, |s, e| {
        let ends_alnum = text[s..e].ends_with(char::is_alphanumeric);
        if is_alnum(prev_char(text, s)) || (ends_alnum && is_alnum(next_char(text, e))) {
            Check::Reject(next_start(text, s))
        } else {
            Check::Accept(s, e)
        }
    });
    if keywords.is_empty() {
        return Vec::new();
    }
    let dates = scan(&DATE_RE, text, |s, e| check_date(text, s, e));
    let mut claimed = vec![false; dates.len()];
    let mut out = Vec::new();
    for &(ks, ke) in &keywords {
        // The nearest date after the keyword, else the nearest one just before it.
        let i = dates.partition_point(|d| d.0 < ke);
        let after = dates
            .get(i)
            .filter(|d| d.0 - ke <= 40 && !breaks_sentence(&text[ke..d.0]));
        let pick = match after {
            Some(_) if !claimed[i] => Some(i),
            Some(_) => None,
            None => {
                let j = dates.partition_point(|d| d.1 <= ks);
                (j > 0).then(|| j - 1).filter(|&j| {
                    ks - dates[j].1 <= 24 && !claimed[j] && !breaks_sentence(&text[dates[j].1..ks])
                })
            }
        };
        if let Some(i) = pick {
            claimed[i] = true;
            out.push(dates[i]);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
#[path = "pii_tests.rs"]
mod tests;
