//! `detect_pii`: personal data in free text (prompts, tool output, logs).
//!
//! Kinds: `EMAIL`, `PHONE_NUMBER`, `CREDIT_CARD`, `IBAN`, `US_SSN`, `IP_ADDRESS`,
//! `MAC_ADDRESS`, `DATE_OF_BIRTH`, `NATIONAL_ID`, `VAT_ID`, `POSTAL_ADDRESS`.
//!
//! How it works, and why it is fast and linear on any input:
//!
//! * No pattern runs over the whole text. A `memchr` for `@` finds the e-mail candidates; one
//!   byte loop (eight bytes at a time where there is no digit) finds every run of ASCII
//!   digits, where everything else starts. Digits are grouped into a *cluster*: the digit
//!   runs joined by at most three separator bytes (` .-/:()`), e.g. `+44 (0)20 7946 0958` or
//!   `2026-11-29 10:01:22`, with the start and length of each group. The loop then jumps to
//!   the cluster's end, so every byte is looked at a constant number of times. A digit run
//!   next to a hex letter or `:` also reads the hex token around it once (IPv6, MAC).
//! * Each cluster is checked by plain code over its groups (cards, SSNs, IPv4, numeric dates,
//!   national numbers), and a cluster that can hold a phone number (a `+`, a trunk `0`, a
//!   NANP or Spanish/Italian grouping, at least seven digits) is handed to the phone regex,
//!   searched only within the cluster. Letters glued before a digit run (`DE89…`, `X1234567L`,
//!   `RSSMRA85…`, `L01X00T47`) are the start of an IBAN, VAT id or national id, parsed from
//!   there. The other regexes (month-name dates, birth keywords, street addresses) run on
//!   windows of at most ~200 bytes around a trigger (a year, a date, a postcode), merged when
//!   they overlap. The `regex` crate is linear in its haystack; every window is bounded and
//!   owned by its trigger, so the total stays linear in the input.
//! * Every candidate is then validated in plain code that looks only at the candidate and a
//!   few characters around it: checksums (Luhn for cards and Italian VAT numbers, ISO 7064
//!   mod 97-10 for IBANs and new Dutch VAT ids, ISO 7064 mod 11-10 for the German tax id and
//!   VAT number, mod 97 for the French NIR and VAT key, mod 23 letters for Spanish DNI/NIE,
//!   the codice fiscale's odd/even table, the Dutch 11-proof, ICAO 9303 7-3-1 for ID cards),
//!   value ranges and "is this glued to a bigger token" rules. Context words are looked up in
//!   a fixed window (≤ 48 bytes) before the candidate, without allocating.
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
//!   (`postgres://user:pw@db.example.com`, `https://user@host/`), scp-style SSH targets
//!   (`git@github.com:org/repo`) and `ssh`/`scp`/`rsync` command targets are not e-mails.
//! * Card: 13–19 digits, contiguous or in the usual groups separated by single spaces or
//!   dashes, a known issuer prefix with a length that issuer uses, and a valid Luhn digit; not
//!   a path segment of a URL. Numbers right after a reference word ("order", "invoice",
//!   "tracking", "Bestellnummer", "facture", "pedido", "fattura", "factuur", …; and no card or
//!   SSN word nearby) are reference numbers, for cards, dashed SSNs, phones and national ids.
//! * IBAN: upper-case, contiguous or in groups separated by single spaces, country from the
//!   IBAN registry with its exact length, mod-97 == 1.
//! * US SSN: dashed `AAA-GG-SSSS` always (with the SSA range rules); spaced or contiguous only
//!   with "SSN"/"social security" within 40 bytes before.
//! * Phone: `+`/`00` international numbers (length checked per country code for the common
//!   ones), NANP numbers with separators, national numbers with a trunk `0` and at least one
//!   separator (UK, FR, DE, IT, NL, JP …), Spanish numbers without trunk prefix in their
//!   usual `612 34 56 78` / `91 123 45 67` grouping and Italian mobiles (`333 123 4567`,
//!   `347 1234567`); other groupings of those (`612 345 678`) and bare digit runs of 9–13
//!   digits count only after a phone word ("phone", "tel", "Handy", "móvil", "cellulare",
//!   "bellen", …). A candidate that continues a run of space-separated digit groups
//!   (`3704 0044 0532 0130 01`) is not a phone number, nor is a `dd mm yyyy`-shaped one or
//!   one whose subscriber digits are all zero.
//! * IP: IPv4 parsed by `std::net` (so octets ≤ 255 and no leading zeros), not after a
//!   version-like word ("v", "version", "build", "OID", "section", …) or product token
//!   (`Chrome/120.0.0.0`); a port (`:8080`), prefix length (`/24`) or range (`-10.0.0.9`) may
//!   follow. IPv6 parsed by `std::net`, with at least two non-empty groups and a digit (so
//!   `::`, `::1`, `a::b`, `std::net` are not addresses), and not eight two-digit groups (a hex
//!   dump or EUI-64, `00:1a:2b:3c:4d:5e:6f:70`).
//! * MAC: six hex pairs with `:` or `-`, or Cisco `aaaa.bbbb.cccc` containing a hex letter,
//!   found from a decimal digit in it (a MAC without one is a 1-in-100 000 draw).
//! * Date of birth: a valid calendar date (years 1900–2099; month names in English, French,
//!   German, Spanish, Italian and Dutch) at most 40 bytes after a birth keyword (those
//!   languages, and JSON-ish keys like `date_of_birth`, `dob`, `birthDate`), or at most 24
//!   bytes before one, with no sentence break in between. Each keyword claims at most one
//!   date.
//! * National id (`NATIONAL_ID`), always with its check digits validated:
//!   - German tax id (Steuer-IdNr): 11 digits, contiguous or `12 345 678 901`, first digit not
//!     0, one digit repeated two or three times in the first ten, ISO 7064 mod 11-10.
//!   - French NIR: 15 characters (sex 1–4/7/8, month 01–12, 20–42 or 50–99, department with
//!     Corsica `2A`/`2B`), contiguous or spaced (`1 85 05 78 006 084 36`), key = 97 − (first
//!     13 digits, 2A→19, 2B→18) mod 97.
//!   - Spanish DNI (`12345678Z`, `12.345.678-Z`) and NIE (`X1234567L`, `X-1234567-L`): the
//!     letter is `TRWAGMYFPDXBNJZSQVHLCKE`[number mod 23]; a spaced or lower-case letter needs
//!     a word like "DNI"/"NIE"/"NIF" before.
//!   - Italian codice fiscale: 16 characters (upper or lower case) in the official layout,
//!     with its check letter.
//!   - Dutch BSN: 9 digits (`123456782`, `1234.56.782`, `123 456 782`) passing the 11-proof,
//!     only after "BSN", "burgerservicenummer" or "sofinummer" (a bare 9-digit number is
//!     too often something else).
//!   - Passport and identity-card numbers (8–12 upper-case letters and digits with at least
//!     one digit) only after a passport/ID-card word ("passport", "Reisepass",
//!     "Personalausweis", "passeport", "carte d'identité", "pasaporte", "passaporto",
//!     "paspoort", "ID card", …); a 10-character German ID-card number must carry a valid
//!     ICAO 9303 check digit.
//! * VAT id (`VAT_ID`), with the country prefix, contiguous or with single spaces, always
//!   with its check: `DE` + 9 digits (mod 11-10), `FR` + 2-digit key + SIREN (key =
//!   (SIREN·100 + 12) mod 97, SIREN Luhn), `IT` + 11 digits (office code, Luhn), `NL` + 9
//!   digits + `B` + 2 digits (11-proof or mod 97-10), `ES` + DNI/NIE/CIF (CIF: Luhn digit or
//!   its letter). A bare Italian partita IVA (11 digits) only after "IVA"/"P.IVA"/"VAT".
//! * Postal address (`POSTAL_ADDRESS`): only the reliable full shapes, street, house number,
//!   postcode and town: German (`Musterstraße 12, 10115 Berlin`: a street word or suffix),
//!   French (`12 rue de la Paix, 75002 Paris`), Spanish (`Calle Mayor 12, 28013 Madrid`),
//!   Italian (`Via Roma 12, 00184 Roma`), Dutch (`Damrak 1, 1012 LG Amsterdam`); the
//!   separator may be a comma, a dash or a line break. A postcode and town alone, or a street
//!   without postcode, is not reported (too often a company or a place, not a person).

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;

use super::Finding;
use crate::detect::EntityKind;

/// Kinds in priority order: when two findings overlap, the earlier kind wins.
const PRIORITY: [EntityKind; 11] = [
    EntityKind::Email,
    EntityKind::Iban,
    EntityKind::VatId,
    EntityKind::CreditCard,
    EntityKind::NationalId,
    EntityKind::UsSsn,
    EntityKind::MacAddress,
    EntityKind::IpAddress,
    EntityKind::PostalAddress,
    EntityKind::DateOfBirth,
    EntityKind::PhoneNumber,
];

// Patterns. Each runs only inside a cluster of digits or a bounded window (see the module
// doc). Digits are `[0-9]` (Unicode `\d` would admit other scripts' digits), word boundaries
// are ASCII (`(?-u:\b)`, fast in the DFA); Unicode letters next to a match are rejected in
// code.

/// International (`+` or `00`), NANP with separators, national with trunk `0`.
const PHONE_PAT: &str = r"(?x)
      (?:\+|(?-u:\b)00)[1-9][0-9]{0,2}
      (?:[\ .\-]?\(0\))?
      (?:[\ .\-]?\(?[0-9]{1,5}\)?){1,6}
    | (?:(?-u:\b)1[\ .\-])?
      (?:\([0-9]{3}\)\ ?|(?-u:\b)[0-9]{3}[\ .\-])[0-9]{3}[\ .\-][0-9]{4}(?-u:\b)
    | (?:\(0[0-9]{1,4}\)|(?-u:\b)0[0-9]{1,4})(?:(?:\ [/\-]\ |[\ .\-/])?[0-9]{2,8}){1,4}(?-u:\b)
    ";

/// National numbers without a trunk prefix: Spain (9 digits from 6–9) and Italian mobiles
/// (3xx). Which groupings count on their own is decided in [`check_phone_nt`].
const PHONE_NT_PAT: &str = r"(?x)(?-u:\b)(?:
      [6-9][0-9]{2}[\ .\-][0-9]{2}[\ .\-][0-9]{2}[\ .\-][0-9]{2}
    | [89][0-9][\ .\-][0-9]{3}[\ .\-][0-9]{2}[\ .\-][0-9]{2}
    | [6-9][0-9]{2}[\ .\-][0-9]{3}[\ .\-][0-9]{3}
    | 3[0-9]{2}[\ .\-]?[0-9]{3}[\ .\-]?[0-9]{3,4}
    | 3[0-9]{2}[\ .\-][0-9]{6,7}
    )(?-u:\b)";

const DOB_KEYWORD_PAT: &str = r"(?xi)
      date[\s_\-]{0,3}of[\s_\-]{0,3}birth
    | birth[\s_\-]{0,3}date | birthday | b-day
    | d\.o\.b\.? | dob
    | born
    | n[ée](?:e|\(e\))?\s{1,3}(?:[àa]\s{1,3}\p{Lu}[\p{L}'\-]+\s{1,3})?(?:le|en)
    | date[\s_\-]{1,3}(?:de[\s_\-]{1,3})?naissance
    | geburtsdatum | geburtstag | geboren(?:\s{1,3}am)? | geb\.(?:[\s\-]{0,2}datum)?
    | (?:fecha[\s_\-]{1,3}|f\.\s?)(?:de[\s_\-]{1,3})?nac(?:imiento|\.)?
    | naissance | nacimiento | nascita | geboorte(?:datum)?
    | nacid[oa]\s{1,3}el
    | data[\s_\-]{1,3}di[\s_\-]{1,3}nascita
    | nat[oa]\s{1,3}(?:a\s{1,3}\p{Lu}[\p{L}'\-]+(?:\s{1,3}\p{Lu}[\p{L}'\-]+)?\s{1,3})?il
    | geboortedatum | geboren\s{1,3}op
    ";

/// Month names the date pattern accepts (English, French, German, Spanish, Italian, Dutch),
/// matched case-insensitively; sorted (looked up by binary search). Accented names are also
/// listed as the normalised view spells them (`März` is read as `Marz`).
#[rustfmt::skip]
const MONTH_NAMES: &[(&str, u32)] = &[
    ("abril", 4), ("agosto", 8), ("aout", 8), ("août", 8), ("apr", 4), ("april", 4), ("aprile", 4),
    ("aug", 8), ("august", 8), ("augustus", 8), ("avril", 4), ("dec", 12), ("december", 12),
    ("decembre", 12), ("dezember", 12), ("dicembre", 12), ("diciembre", 12), ("décembre", 12),
    ("enero", 1), ("feb", 2), ("febbraio", 2), ("febrero", 2), ("februar", 2), ("februari", 2),
    ("february", 2), ("fevrier", 2), ("février", 2), ("gennaio", 1), ("giugno", 6), ("jan", 1),
    ("janner", 1), ("januar", 1), ("januari", 1), ("january", 1), ("janvier", 1), ("juillet", 7),
    ("juin", 6), ("jul", 7), ("juli", 7), ("julio", 7), ("july", 7), ("jun", 6), ("june", 6),
    ("juni", 6), ("junio", 6), ("jänner", 1), ("luglio", 7), ("maart", 3), ("maerz", 3),
    ("maggio", 5), ("mai", 5), ("mar", 3), ("march", 3), ("mars", 3), ("marz", 3), ("marzo", 3),
    ("may", 5), ("mayo", 5), ("mei", 5), ("märz", 3), ("nov", 11), ("november", 11),
    ("novembre", 11), ("noviembre", 11), ("oct", 10), ("october", 10), ("octobre", 10),
    ("octubre", 10), ("oktober", 10), ("ottobre", 10), ("sep", 9), ("sept", 9), ("september", 9),
    ("septembre", 9), ("septiembre", 9), ("setiembre", 9), ("settembre", 9),
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

/// Street addresses, in two parts around the postcode that triggers them: the street and house
/// number ending right before it (German, French, Spanish, Italian shapes before a five-digit
/// postcode; the Dutch shape before `1234 AB`), and the town after it. Written for the
/// normalised view (accents are folded: `allée` is read as `allee`; `ß` stays); `%L` is a
/// letter, `%U` a capital (any non-ASCII character counts as both: cheap, and rare after
/// folding).
fn address_patterns() -> [String; 3] {
    // Between the house number and the postcode: a comma, a dash, a bar or a line break.
    let sep = r"(?:[\ \t]{0,2}[,\-|·][\ \t\r\n]{0,3}|[\ \t]{0,2}\r?\n[\ \t]{0,3}|[\ \t]{1,3})";
    let street5 = r"(?x)(?:
          (?-u:\b)(?:
              (?:%U%L*\ )?%U%L*
                (?i:stra(?:ß|ss)e|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|steig|pfad
                   |markt|graben|promenade|kamp|zeile|wall|deich|stieg)
            | (?:%U%L*\ ){1,2}
                (?:Stra(?:ß|ss)e|Str\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer|Chaussee|Markt|Steig
                   |Pfad|Graben|Promenade)
            | (?:Am|An\ der|An\ den|Auf\ der|Auf\ dem|Im|In\ der|In\ den|Unter\ den|Zum|Zur
                |Hinter\ der|Alte|Neue)\ %U%L+
          )
          \ {1,2}[0-9]{1,4}(?:\ ?[a-zA-Z](?-u:\b))?(?:\ ?[\-/]\ ?[0-9]{1,4}[a-zA-Z]?)?
        | (?-u:\b)[0-9]{1,4}(?:\ ?(?i:bis|ter|quater)(?-u:\b)|\ ?[A-D](?-u:\b))?,?\ {1,2}
          (?i:rue|avenue|av\.|bd\.?|boulevard|place|chemin|allee|impasse|quai|route|cours|square
             |passage|faubourg|residence|lieu-dit|esplanade|promenade|sentier|hameau|rond-point)
          \ [%L'\-\.\ ]{2,60}
        | (?-u:\b)(?i:calle|c/|avenida|avda\.?|av\.|plaza|pza\.?|paseo|camino|carretera|ctra\.?
             |ronda|travesia|rambla|glorieta|urbanizacion|urb\.|pasaje|carrer|avinguda|passeig
             |placa|gran\ via)
          \ ?[%L'\-\.\ ]{0,60},?\ {1,2}(?:(?i:n[o°]\.?|num\.?|numero)\ ?)?[0-9]{1,4}[A-Za-z]?
          (?:,?\ {1,2}(?:[0-9]{1,2}[oa°]?(?:\ ?-?\ ?[A-Za-z0-9]{1,2})?
             |(?i:bajo|atico|izq(?:da)?\.?|dcha?\.?|esc(?:alera)?\.?\ [A-Z0-9]|piso\ [0-9]{1,2}
             |puerta\ [0-9A-Z]{1,2}))){0,3}
        | (?-u:\b)(?i:via|viale|v\.le|piazza|p\.za|p\.zza|piazzale|corso|c\.so|largo|vicolo|strada
             |lungomare|lungotevere|contrada|borgo|salita|vico|localita|loc\.)
          \ [%L'\-\.\ ]{2,60},?\ {1,2}(?:(?i:n\.?)\ ?)?[0-9]{1,4}
          (?:\ ?/\ ?[A-Za-z0-9]{1,2}|[A-Za-z](?-u:\b))?
        )SEP(?:[DF]-\ ?)?\z";
    let street_nl = r"(?x)(?-u:\b)%U[%L\-'\.]*(?:\ (?:[a-z]{1,4}|%U[%L\-'\.]*)){0,3}
        \ [0-9]{1,5}(?:\ ?[a-zA-Z](?-u:\b)|\ ?-\ ?[0-9]{1,4}[a-zA-Z]?|\ (?:hs|bis)(?-u:\b))?
        SEP\z";
    // The town: a capitalised word, optionally a second one joined by a particle
    // (`Frankfurt am Main`, `Den Haag`; `Aix-en-Provence` is one word), then `CEDEX` or a
    // province code.
    let town = r"(?x)\A\ {1,2}(?:(?:A|O|La|Le|Les|El|Los|Las|Il|Lo|Den|De|Het)\ )?%U[%L'\-]*%L
        (?:\ (?:(?:am|an|der|den|im|sur|en|de|del|di|la|le|aan|bei|ob|sul)\ ){0,2}%U[%L'\-]*%L)?
        (?:\ (?i:cedex)(?:\ [0-9]{1,2})?)?(?:\ \(?[A-Z]{2}\)?)?";
    [street5, street_nl, town].map(|p| {
        p.replace("SEP", sep)
            .replace("%L", r"[a-zA-Z\x{80}-\x{10FFFF}]")
            .replace("%U", r"[A-Z\x{80}-\x{10FFFF}]")
    })
}

struct Patterns {
    phone: Regex,
    phone_nt: Regex,
    dob_keyword: Regex,
    date: Regex,
    /// Street and number right before a five-digit postcode; before a Dutch one; the town.
    street5: Regex,
    street_nl: Regex,
    town: Regex,
}

static RE: LazyLock<Patterns> = LazyLock::new(|| {
    let [street5, street_nl, town] =
        address_patterns().map(|p| Regex::new(&p).expect("valid address regex"));
    Patterns {
        phone: Regex::new(PHONE_PAT).expect("valid phone regex"),
        phone_nt: Regex::new(PHONE_NT_PAT).expect("valid phone regex"),
        dob_keyword: Regex::new(DOB_KEYWORD_PAT).expect("valid birth keyword regex"),
        date: Regex::new(&date_pattern()).expect("valid date regex"),
        street5,
        street_nl,
        town,
    }
});

/// Outcome of checking one regex candidate.
enum Check {
    /// A finding with this span (possibly trimmed from the candidate).
    Accept(usize, usize),
    /// Not a finding; resume the scan at this byte offset (must be > the candidate start).
    Reject(usize),
}

/// Runs `re` over `text[from..to]` (the text before `from` is visible to look-behind
/// assertions), checking every candidate with `check`.
fn scan(
    re: &Regex,
    text: &str,
    from: usize,
    to: usize,
    mut check: impl FnMut(usize, usize) -> Check,
) {
    let hay = &text[..to];
    let mut pos = from;
    while pos < to {
        let Some(m) = re.find_at(hay, pos) else {
            break;
        };
        pos = match check(m.start(), m.end()) {
            Check::Accept(_, e) => e.max(m.start() + 1),
            Check::Reject(next) => next.max(m.start() + 1),
        };
        while pos < to && !text.is_char_boundary(pos) {
            pos += 1;
        }
    }
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
    let mut scan = Scan {
        text,
        b: text.as_bytes(),
        found: Vec::new(),
        dates: Vec::new(),
        address_until: 0,
        hex_until: 0,
    };
    scan.emails();
    scan.numbers();
    scan.dates_of_birth();
    resolve(scan.found)
}

/// Keeps, for every overlap, the finding of the higher-priority kind (then the earlier one);
/// returns the survivors sorted by position. O(n log n) in the number of findings.
fn resolve(mut found: Vec<Finding>) -> Vec<Finding> {
    if found.len() < 2 {
        return found;
    }
    let rank = |k: EntityKind| {
        PRIORITY
            .iter()
            .position(|p| *p == k)
            .unwrap_or(PRIORITY.len())
    };
    found.sort_by_key(|f| (rank(f.kind), f.start));
    if found.len() <= 16 {
        // Few findings: a sorted vector.
        let mut kept: Vec<Finding> = Vec::with_capacity(found.len());
        for f in found {
            let i = kept.partition_point(|k| k.start < f.start);
            let clash = (i > 0 && kept[i - 1].end > f.start)
                || kept.get(i).is_some_and(|k| k.start < f.end);
            if !clash {
                kept.insert(i, f);
            }
        }
        return kept;
    }
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

/// The most digit groups a cluster holds; a longer run of numbers is cut into clusters of
/// this many groups (an entity spanning the cut is then not found, which only happens inside
/// walls of numbers).
const MAX_GROUPS: usize = 24;

/// Digit runs joined by at most three separator bytes: the unit every number check reads.
struct Cluster {
    /// The first digit, or the `+`/`(` right before it.
    start: usize,
    /// After the last digit (and a closing parenthesis right after it).
    end: usize,
    /// Byte ranges of the digit runs.
    groups: [(usize, usize); MAX_GROUPS],
    n: usize,
    digits: usize,
    /// Bit `l` set when a group of `l` digits occurs (`l` capped at 31).
    lens: u32,
    /// How many groups have three, and four, digits.
    threes: usize,
    fours: usize,
    /// Whether a `:`, `-` or `.` joins two groups (a MAC address may be around).
    mac_seps: bool,
}

impl Cluster {
    fn new() -> Cluster {
        Cluster {
            start: 0,
            end: 0,
            groups: [(0, 0); MAX_GROUPS],
            n: 0,
            digits: 0,
            lens: 0,
            threes: 0,
            fours: 0,
            mac_seps: false,
        }
    }

    /// Reads the cluster whose first digit run starts at `run` (the buffer is reused: no
    /// clearing per cluster).
    fn fill(&mut self, b: &[u8], run: usize) {
        let c = self;
        c.start = run;
        c.n = 0;
        c.digits = 0;
        c.lens = 0;
        c.threes = 0;
        c.fours = 0;
        c.mac_seps = false;
        if run > 0 && matches!(b[run - 1], b'+' | b'(') {
            c.start = run - 1;
        }
        let mut i = run;
        loop {
            let g = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            c.groups[c.n] = (g, i);
            c.n += 1;
            c.digits += i - g;
            c.lens |= 1 << (i - g).min(31);
            c.threes += usize::from(i - g == 3);
            c.fours += usize::from(i - g == 4);
            c.end = i;
            if c.n == MAX_GROUPS {
                break;
            }
            let mut j = i;
            while j < b.len()
                && j - i < 3
                && matches!(b[j], b' ' | b'.' | b'-' | b'/' | b':' | b'(' | b')')
            {
                j += 1;
            }
            if j > i && j < b.len() && b[j].is_ascii_digit() {
                c.mac_seps |= b[i..j].iter().any(|x| matches!(x, b':' | b'-' | b'.'));
                i = j;
            } else {
                break;
            }
        }
        if b.get(c.end) == Some(&b')') {
            c.end += 1;
        }
    }

    /// Whether a group of `l` digits occurs (`l` < 31).
    fn has(&self, l: usize) -> bool {
        self.lens & (1 << l) != 0
    }

    fn len(&self, k: usize) -> usize {
        self.groups[k].1 - self.groups[k].0
    }

    fn gs(&self, k: usize) -> usize {
        self.groups[k].0
    }

    fn ge(&self, k: usize) -> usize {
        self.groups[k].1
    }

    /// The separator between group `k` and group `k + 1` when it is a single byte.
    fn sep(&self, b: &[u8], k: usize) -> Option<u8> {
        (self.gs(k + 1) == self.ge(k) + 1).then(|| b[self.ge(k)])
    }

    /// Whether groups `k..k + lens.len()` have these lengths, joined by one byte from `seps`.
    fn shape(&self, b: &[u8], k: usize, lens: &[usize], seps: &[u8]) -> bool {
        k + lens.len() <= self.n
            && lens.iter().enumerate().all(|(i, &l)| self.len(k + i) == l)
            && (k..k + lens.len() - 1).all(|i| self.sep(b, i).is_some_and(|s| seps.contains(&s)))
    }
}

/// The first ASCII digit at or after `i`, eight bytes at a time.
fn next_digit(b: &[u8], mut i: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    while i + 8 <= b.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&b[i..i + 8]);
        // Digits become the bytes below 10; "has a byte below n" is the classic
        // (x − n·ONES) & !x & HIGH test (exact for n ≤ 128).
        let x = u64::from_le_bytes(word) ^ (0x30 * ONES);
        if x.wrapping_sub(10 * ONES) & !x & HIGH != 0 {
            break;
        }
        i += 8;
    }
    b[i..].iter().position(u8::is_ascii_digit).map(|k| i + k)
}

/// Whether the digit run ending at `e` continues (at most three separator bytes, then a
/// digit): the same rule [`Cluster::fill`] follows.
fn joins_next_group(b: &[u8], e: usize) -> bool {
    let mut j = e;
    while j < b.len() && j - e < 3 && matches!(b[j], b' ' | b'.' | b'-' | b'/' | b':' | b'(' | b')')
    {
        j += 1;
    }
    j > e && b.get(j).is_some_and(u8::is_ascii_digit)
}

/// A cluster ending in `2` right before `A`/`B`: maybe a French NIR with a Corsican
/// department (`1 85 05 2A …`), which the letter cut short.
fn corsican_department(b: &[u8], c: &Cluster) -> bool {
    let e = c.ge(c.n - 1);
    b[e - 1] == b'2'
        && b.get(e)
            .is_some_and(|x| matches!(x, b'A' | b'B' | b'a' | b'b'))
}

/// The scan of one text (the normalised view) and what it found.
struct Scan<'a> {
    text: &'a str,
    b: &'a [u8],
    found: Vec<Finding>,
    /// Valid calendar dates, for the birth-keyword pass.
    dates: Vec<(usize, usize)>,
    /// End of the last postal address found (a postcode inside it triggers nothing more).
    address_until: usize,
    /// End of the last hex token read for IPv6 addresses.
    hex_until: usize,
}

impl Scan<'_> {
    fn push(&mut self, kind: EntityKind, span: Option<(usize, usize)>) -> bool {
        match span {
            Some((s, e)) => {
                self.found.push(Finding::new(kind, s, e));
                true
            }
            None => false,
        }
    }

    /// Runs `re` over `from..to` with `check`, recording accepted spans as `kind`.
    fn scan_kind(
        &mut self,
        re: &Regex,
        from: usize,
        to: usize,
        kind: EntityKind,
        check: impl Fn(&str, usize, usize) -> Check,
    ) {
        let text = self.text;
        let found = &mut self.found;
        scan(re, text, from, to, |s, e| {
            let c = check(text, s, e);
            if let Check::Accept(s, e) = c {
                found.push(Finding::new(kind, s, e));
            }
            c
        });
    }

    // -----------------------------------------------------------------------------------------
    // The byte loop

    fn numbers(&mut self) {
        let b = self.b;
        let mut c = Cluster::new();
        let mut i = 0;
        while let Some(run) = next_digit(b, i) {
            let mut e = run;
            while e < b.len() && b[e].is_ascii_digit() {
                e += 1;
            }
            self.token_before(run);
            let hex_letter = |x: u8| x.is_ascii_hexdigit() && !x.is_ascii_digit();
            let before = if run > 0 { b[run - 1] } else { b' ' };
            let after = b.get(e).copied().unwrap_or(b' ');
            if hex_letter(before) || hex_letter(after) || before == b':' || after == b':' {
                self.hex_token(run, e);
            }
            let mac_hint =
                hex_letter(before) || hex_letter(after) || matches!(before, b'-' | b'.' | b':');
            if e - run < 4 && !joins_next_group(b, e) {
                // A short number on its own (`502`, `u32`, `9f1c2e`): only an identifier going on
                // with letters (`12AB34567`) or a hex token (`1a-2b-…`) can start here.
                if after.is_ascii_uppercase() {
                    let d = id_document_at(self.text, run);
                    self.push(EntityKind::NationalId, d);
                }
                if mac_hint {
                    self.mac_near(run);
                }
                i = e;
                continue;
            }
            c.fill(b, run);
            if mac_hint || c.mac_seps {
                self.mac_near(run);
            }
            self.cluster(&c);
            i = c.end;
        }
    }

    /// Identifiers that start with letters glued to the digit run at `run` (or one separator
    /// before it): IBAN, VAT id, NIE, codice fiscale, passport and ID-card numbers.
    fn token_before(&mut self, run: usize) {
        let b = self.b;
        let text = self.text;
        let mut t = run;
        while t > 0 && run - t < 7 && b[t - 1].is_ascii_alphabetic() {
            t -= 1;
        }
        let letters = run - t;
        if letters == 0 {
            if run >= 3 && b[run - 1] == b' ' && is_upper(b[run - 3]) && is_upper(b[run - 2]) {
                // `DE 123456789`
                let cc = run - 3;
                if cc == 0 || !is_word_byte(b[cc - 1]) {
                    let v = vat_at(text, cc);
                    self.push(EntityKind::VatId, v);
                }
            } else if run >= 2 && b[run - 1] == b'-' && matches!(b[run - 2], b'X' | b'Y' | b'Z') {
                // `X-1234567-L`
                let s = run - 2;
                if s == 0 || !is_word_byte(b[s - 1]) {
                    let n = nie_at(text, s);
                    self.push(EntityKind::NationalId, n);
                }
            }
            return;
        }
        if t > 0 && is_word_byte(b[t - 1]) {
            return;
        }
        match letters {
            1 => {
                if matches!(b[t], b'X' | b'Y' | b'Z' | b'x' | b'y' | b'z') {
                    let n = nie_at(text, t);
                    self.push(EntityKind::NationalId, n);
                }
                if t >= 3 && b[t - 1] == b' ' && b[t - 3] == b'E' && b[t - 2] == b'S' {
                    // `ES X1234567L`
                    if t == 3 || !is_word_byte(b[t - 4]) {
                        let v = vat_at(text, t - 3);
                        self.push(EntityKind::VatId, v);
                    }
                }
            }
            2 if is_upper(b[t]) && is_upper(b[t + 1]) => {
                let iban = check_iban(text, t);
                if !self.push(EntityKind::Iban, iban) {
                    let v = vat_at(text, t);
                    self.push(EntityKind::VatId, v);
                }
            }
            3 if b[t] == b'E' && b[t + 1] == b'S' => {
                let v = vat_at(text, t);
                self.push(EntityKind::VatId, v);
            }
            6 => {
                let cf = codice_fiscale_at(text, t);
                self.push(EntityKind::NationalId, cf);
            }
            _ => {}
        }
        if letters <= 7 {
            let d = id_document_at(text, t);
            self.push(EntityKind::NationalId, d);
        }
    }

    fn cluster(&mut self, c: &Cluster) {
        let b = self.b;
        let text = self.text;
        // A run glued to letters after it: DNI (`12345678Z`), French passport (`12AB34567`).
        if b.get(c.end).is_some_and(u8::is_ascii_alphabetic) || c.digits == 8 {
            let d = dni_at(text, c);
            self.push(EntityKind::NationalId, d);
        }
        if c.n == 1 && c.len(0) <= 3 && b.get(c.end).is_some_and(u8::is_ascii_uppercase) {
            let d = id_document_at(text, c.gs(0));
            self.push(EntityKind::NationalId, d);
        }
        if c.digits < 4 {
            if corsican_department(b, c) {
                self.national_numbers(c);
            }
            return;
        }
        let long_run = c.lens >> 13 != 0;
        if c.digits >= 13 && (long_run || c.fours >= 3 || (c.has(4) && c.has(6))) {
            self.cards(c);
        }
        if c.has(9) || (c.has(3) && c.has(2) && c.has(4)) {
            self.ssns(c);
        }
        if c.digits >= 7 {
            self.phones(c);
        }
        if c.n >= 4 {
            self.ipv4s(c);
        }
        if c.n >= 3 {
            self.numeric_dates(c);
        }
        self.month_name_date(c);
        if c.digits >= 8 || corsican_department(b, c) {
            self.national_numbers(c);
        }
        self.postcode(c, 0);
        if c.n > 1 {
            // `Via Dante 70 - 90133 Palermo`: the postcode ends a cluster.
            self.postcode(c, c.n - 1);
        }
    }
}

impl Scan<'_> {
    // -----------------------------------------------------------------------------------------
    // Checks over a cluster's groups

    /// Card candidates: one run of 13–19 digits, or `4-4-4-(1..4)[-(1..3)]`, or `4-6-(4..5)`,
    /// groups joined by a single space or dash.
    fn cards(&mut self, c: &Cluster) {
        let b = self.b;
        let mut k = 0;
        while k < c.n {
            let end = if (13..=19).contains(&c.len(k)) {
                Some(c.ge(k))
            } else if c.shape(b, k, &[4, 4, 4], b" -")
                && k + 3 < c.n
                && matches!(c.sep(b, k + 2), Some(b' ' | b'-'))
                && (1..=4).contains(&c.len(k + 3))
            {
                let with_tail = k + 4 < c.n
                    && matches!(c.sep(b, k + 3), Some(b' ' | b'-'))
                    && (1..=3).contains(&c.len(k + 4));
                Some(c.ge(if with_tail { k + 4 } else { k + 3 }))
            } else if c.shape(b, k, &[4, 6], b" -")
                && k + 2 < c.n
                && matches!(c.sep(b, k + 1), Some(b' ' | b'-'))
                && (4..=5).contains(&c.len(k + 2))
            {
                Some(c.ge(k + 2))
            } else {
                None
            };
            if let Some(e) = end {
                if let Some(span) = check_card(self.text, c.gs(k), e) {
                    self.push(EntityKind::CreditCard, Some(span));
                    while k < c.n && c.gs(k) < span.1 {
                        k += 1;
                    }
                    continue;
                }
            }
            k += 1;
        }
    }

    /// `AAA-GG-SSSS`, `AAA GG SSSS` or nine digits.
    fn ssns(&mut self, c: &Cluster) {
        let b = self.b;
        for k in 0..c.n {
            let end = if c.len(k) == 9 {
                c.ge(k)
            } else if c.shape(b, k, &[3, 2, 4], b"-") || c.shape(b, k, &[3, 2, 4], b" ") {
                c.ge(k + 2)
            } else {
                continue;
            };
            let s = check_ssn(self.text, c.gs(k), end);
            self.push(EntityKind::UsSsn, s);
        }
    }

    fn phones(&mut self, c: &Cluster) {
        let b = self.b;
        let text = self.text;
        let first = b[c.gs(0)];
        // Where a phone number can start inside a cluster: its start, or a group after a
        // separator that is not glue (`12:01`, `3.05`) nor the end of a digit group (`5 0…`).
        let trunk = b[c.start] == b'+'
            || b[c.start] == b'('
            || first == b'0'
            || (1..c.n).any(|k| {
                let sep = &b[c.ge(k - 1)..c.gs(k)];
                (b[c.gs(k)] == b'0' || sep.contains(&b'(')) && sep.len() >= 2
            });
        let nanp = (c.shape(b, 0, &[3, 3, 4], b" .-"))
            || (c.len(0) == 1 && c.shape(b, 1, &[3, 3, 4], b" .-"))
            || (c.n >= 2 && b[c.gs(1) - 1] == b')');
        if trunk || nanp {
            // `+…`: the international alternative of the pattern, read directly; the pattern
            // runs only on what is left.
            let mut from = c.start;
            if b[c.start] == b'+' {
                from = c.start + 1;
                // `(+34) 612 345 678`: the country code in parentheses.
                let wrapped = c.start > 0 && b[c.start - 1] == b'(';
                let start = if wrapped { c.start - 1 } else { c.start };
                if let Some(e) = intl_phone_end(b, c.start, wrapped) {
                    if let Check::Accept(s, e) = check_phone(text, start, e) {
                        self.push(EntityKind::PhoneNumber, Some((s, e)));
                        from = e;
                    }
                }
            }
            let rest: usize = (0..c.n)
                .filter(|&k| c.gs(k) >= from)
                .map(|k| c.len(k))
                .sum();
            if rest >= 7 {
                self.scan_kind(&RE.phone, from, c.end, EntityKind::PhoneNumber, check_phone);
            }
        }
        if c.digits >= 9 && c.n >= 2 && matches!(first, b'3' | b'6'..=b'9') {
            self.scan_kind(
                &RE.phone_nt,
                c.start,
                c.end,
                EntityKind::PhoneNumber,
                check_phone_nt,
            );
        }
        for k in 0..c.n {
            if (9..=13).contains(&c.len(k)) {
                let p = check_plain_phone(text, c.gs(k), c.ge(k));
                self.push(EntityKind::PhoneNumber, p);
            }
        }
    }

    fn ipv4s(&mut self, c: &Cluster) {
        let b = self.b;
        let mut k = 0;
        while k + 4 <= c.n {
            if (0..4).all(|i| c.len(k + i) <= 3) && (k..k + 3).all(|i| c.sep(b, i) == Some(b'.')) {
                let s = check_ipv4(self.text, c.gs(k), c.ge(k + 3));
                if self.push(EntityKind::IpAddress, s) {
                    k += 4;
                    continue;
                }
            }
            k += 1;
        }
    }

    /// `yyyy-mm-dd` and `dd.mm.yyyy`-like dates (any of `-/.` between the parts).
    fn numeric_dates(&mut self, c: &Cluster) {
        let b = self.b;
        let mut k = 0;
        while k + 3 <= c.n {
            let seps_ok = (k..k + 2).all(|i| matches!(c.sep(b, i), Some(b'-' | b'/' | b'.')));
            let (l0, l1, l2) = (c.len(k), c.len(k + 1), c.len(k + 2));
            let shape_ok =
                (l0 == 4 && l1 <= 2 && l2 <= 2) || (l0 <= 2 && l1 <= 2 && (l2 == 2 || l2 == 4));
            if seps_ok && shape_ok {
                if time_of_day_follows(b, c.ge(k + 2)) {
                    k += 3;
                    continue;
                }
                if let Check::Accept(s, e) = check_date(self.text, c.gs(k), c.ge(k + 2)) {
                    self.dates.push((s, e));
                    k += 3;
                    continue;
                }
            }
            k += 1;
        }
    }

    /// `14 March 1985`, `March 14, 1985`, `14. März 1985`, `14 de marzo de 1985`: a year that
    /// follows a month name or a day number sends the date pattern over the 48 bytes before it.
    fn month_name_date(&mut self, c: &Cluster) {
        let b = self.b;
        let text = self.text;
        let (ys, ye) = c.groups[0];
        if ye - ys != 4 || c.start != ys || !(1900..=2099).contains(&number_bytes(&b[ys..ye])) {
            return;
        }
        // The word before the year, skipping `, ` and a Spanish `de`.
        let mut i = ys;
        let mut skipped_de = false;
        loop {
            while i > 0 && ys - i < 4 && matches!(b[i - 1], b' ' | b',' | b'.') {
                i -= 1;
            }
            if i == ys || i == 0 {
                return;
            }
            let end = i;
            while i > 0 && end - i < 12 && b[i - 1].is_ascii_alphanumeric() {
                i -= 1;
            }
            let word = &text[i..end];
            if !skipped_de && word.eq_ignore_ascii_case("de") {
                skipped_de = true;
                continue;
            }
            let ordinal = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
            let day = !ordinal.is_empty()
                && ordinal.len() <= 2
                && ordinal.bytes().all(|c| c.is_ascii_digit());
            if !day && month_number(word).is_none() {
                return;
            }
            break;
        }
        let from = floor(text, ys, 48);
        let dates = &mut self.dates;
        scan(&RE.date, text, from, ye, |s, e| {
            let c = check_date(text, s, e);
            if let Check::Accept(s, e) = c {
                dates.push((s, e));
            }
            c
        });
    }

    /// Steuer-ID, NIR, BSN, bare partita IVA, and digit-only passport numbers.
    fn national_numbers(&mut self, c: &Cluster) {
        let b = self.b;
        let text = self.text;
        let nir = c.digits >= 13 || corsican_department(b, c);
        let steuer = c.has(11) || (c.has(2) && c.threes >= 3);
        let bsn = c.has(9) || (c.has(4) && c.has(2) && c.has(3)) || c.threes >= 3;
        let doc = c.n == 1 && (8..=12).contains(&c.len(0));
        if !(nir || steuer || bsn || doc) {
            return;
        }
        for k in 0..c.n {
            let len = c.len(k);
            // Steuer-ID: 11 digits or `12 345 678 901`; else maybe a bare partita IVA.
            let steuer_end = if !steuer {
                None
            } else if len == 11 {
                Some(c.ge(k))
            } else if c.shape(b, k, &[2, 3, 3, 3], b" ") {
                Some(c.ge(k + 3))
            } else {
                None
            };
            if let Some(e) = steuer_end {
                if self.push(EntityKind::NationalId, check_steuer_id(text, c.gs(k), e)) {
                    continue;
                }
                if len == 11
                    && self.push(EntityKind::VatId, check_bare_partita_iva(text, c.gs(k), e))
                {
                    continue;
                }
            }
            // BSN: `123456782`, `1234.56.782`, `123 456 782`.
            let bsn_end = if !bsn {
                None
            } else if len == 9 {
                Some(c.ge(k))
            } else if c.shape(b, k, &[4, 2, 3], b".") || c.shape(b, k, &[3, 3, 3], b" ") {
                Some(c.ge(k + 2))
            } else {
                None
            };
            if let Some(e) = bsn_end {
                if self.push(EntityKind::NationalId, check_bsn(text, c.gs(k), e)) {
                    continue;
                }
            }
            // NIR: 15 characters from this group on.
            if nir
                && matches!(b[c.gs(k)], b'1'..=b'4' | b'7' | b'8')
                && self.push(EntityKind::NationalId, nir_at(text, c.gs(k)))
            {
                continue;
            }
            if doc {
                let d = id_document_at(text, c.gs(k));
                self.push(EntityKind::NationalId, d);
            }
        }
    }

    /// A five-digit postcode (or a Dutch `1234 AB`) followed by a town: the address pattern
    /// runs over the window around it.
    fn postcode(&mut self, c: &Cluster, k: usize) {
        let b = self.b;
        let text = self.text;
        let (s, e) = c.groups[k];
        if s < self.address_until || (k == 0 && c.start != s) || (k + 1 < c.n && c.n > 1) {
            return;
        }
        let upper_at = |i: usize| {
            b.get(i)
                .is_some_and(|&x| x.is_ascii_uppercase() || x >= 0x80)
        };
        let five = e - s == 5 && b.get(e) == Some(&b' ') && upper_at(e + 1);
        let dutch = e - s == 4 && b[s] != b'0' && {
            let j = if b.get(e) == Some(&b' ') { e + 1 } else { e };
            b.get(j..j + 2)
                .is_some_and(|l| l.iter().all(u8::is_ascii_uppercase))
                && b.get(j + 2).is_none_or(|x| !x.is_ascii_alphanumeric())
        };
        if !five && !dutch {
            return;
        }
        // The town after the postcode (after the letters of a Dutch one).
        let town_at = if dutch {
            e + usize::from(b[e] == b' ') + 2
        } else {
            e
        };
        let Some(town) = RE.town.find(&text[town_at..ceil(text, town_at + 64)]) else {
            return;
        };
        // The street and house number ending right before the postcode (the leftmost start
        // whose match reaches it: one search over at most 110 bytes).
        let street = if dutch { &RE.street_nl } else { &RE.street5 };
        let Some(m) = street.find_at(&text[..s], floor(text, s, 110)) else {
            return;
        };
        let (ms, me) = (m.start(), town_at + town.end());
        if !glued_left(text, ms) {
            self.address_until = me;
            self.push(EntityKind::PostalAddress, Some((ms, me)));
        }
    }

    /// A MAC address whose hex token contains the digit run at `run`.
    fn mac_near(&mut self, run: usize) {
        let b = self.b;
        let mut p = run;
        while p > 0
            && run - p < 17
            && (b[p - 1].is_ascii_hexdigit() || matches!(b[p - 1], b'-' | b'.' | b':'))
        {
            p -= 1;
        }
        while p < run && !b[p].is_ascii_hexdigit() {
            p += 1;
        }
        let m = mac_at(self.text, p);
        self.push(EntityKind::MacAddress, m);
    }

    // -----------------------------------------------------------------------------------------
    // E-mail, IPv6

    fn emails(&mut self) {
        let text = self.text;
        // A local part never starts before the end of the previous candidate.
        let mut from = 0;
        while let Some(k) = text[from..].find('@') {
            let at = from + k;
            from = match email_at(text, from, at) {
                Some((s, e)) => {
                    self.found.push(Finding::new(EntityKind::Email, s, e));
                    e
                }
                None => at + 1,
            };
        }
    }

    /// IPv6 (and colon-separated MAC) addresses: the token of hex digits, `:` and `.` around
    /// the digit run `run..run_end` (every address the checks accept holds a digit), when it
    /// holds enough colons. Each byte is in at most one token.
    fn hex_token(&mut self, run: usize, run_end: usize) {
        if run < self.hex_until {
            return;
        }
        let text = self.text;
        let b = self.b;
        let v6 = |x: u8| x.is_ascii_hexdigit() || x == b':' || x == b'.';
        let mut t0 = run;
        while t0 > 0 && run - t0 < 48 && v6(b[t0 - 1]) {
            t0 -= 1;
        }
        let mut t1 = run_end;
        while t1 < b.len() && t1 - run_end < 48 && v6(b[t1]) {
            t1 += 1;
        }
        self.hex_until = t1;
        // Sentence punctuation around the token is not part of it.
        let s = t0 + b[t0..t1].iter().take_while(|&&x| x == b'.').count();
        let mut e = t1;
        while e > s && b[e - 1] == b'.' {
            e -= 1;
        }
        if e > s + 2 && b[e - 1] == b':' && b[e - 2] != b':' {
            e -= 1;
        }
        let token = &b[s..e];
        let colons = token.iter().filter(|&&x| x == b':').count();
        let compressed = token.windows(2).any(|w| w[0] == b':' && w[1] == b':');
        if colons >= 6 || (colons >= 2 && compressed) {
            let ip = check_ipv6(text, s, e);
            if self.push(EntityKind::IpAddress, ip) {
                return;
            }
        }
        if colons == 5 {
            let m = mac_at(text, s);
            self.push(EntityKind::MacAddress, m);
        }
    }

    // -----------------------------------------------------------------------------------------
    // DATE_OF_BIRTH

    /// Pairs the dates found with birth keywords near them; the keyword pattern runs only over
    /// (merged) windows around the dates.
    fn dates_of_birth(&mut self) {
        if self.dates.is_empty() {
            return;
        }
        let text = self.text;
        let mut dates = std::mem::take(&mut self.dates);
        dates.sort_unstable();
        dates.dedup_by(|later, kept| later.0 < kept.1);
        let mut keywords: Vec<(usize, usize)> = Vec::new();
        let mut window: Option<(usize, usize)> = None;
        let run_window = |w: (usize, usize), keywords: &mut Vec<(usize, usize)>| {
            if !birth_keyword_hint(&text.as_bytes()[w.0..w.1]) {
                return;
            }
            scan(&RE.dob_keyword, text, w.0, w.1, |s, e| {
                let ends_alnum = text[s..e].ends_with(char::is_alphanumeric);
                if is_alnum(prev_char(text, s)) || (ends_alnum && is_alnum(next_char(text, e))) {
                    Check::Reject(next_start(text, s))
                } else {
                    keywords.push((s, e));
                    Check::Accept(s, e)
                }
            });
        };
        for &(ds, de) in &dates {
            let w = (floor(text, ds, 72), ceil(text, de + 56));
            window = match window {
                Some(cur) if w.0 <= cur.1 => Some((cur.0, w.1)),
                Some(cur) => {
                    run_window(cur, &mut keywords);
                    Some(w)
                }
                None => Some(w),
            };
        }
        if let Some(cur) = window {
            run_window(cur, &mut keywords);
        }
        let mut claimed = vec![false; dates.len()];
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
                        ks - dates[j].1 <= 24
                            && !claimed[j]
                            && !breaks_sentence(&text[dates[j].1..ks])
                    })
                }
            };
            if let Some(i) = pick {
                claimed[i] = true;
                self.found.push(Finding::new(
                    EntityKind::DateOfBirth,
                    dates[i].0,
                    dates[i].1,
                ));
            }
        }
    }
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

fn is_upper(b: u8) -> bool {
    b.is_ascii_uppercase()
}

/// An ASCII byte that makes an adjacent match part of a bigger word (`\w` in ASCII).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
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
/// digit right before it, or `_`/`-` after a letter or digit, or `.`/`/` after a digit
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

/// Whether a candidate `start..end` is part of a bigger token — or is no token at all: a
/// fixed-length read (a 16-byte codice fiscale) can end inside a multi-byte character, and such
/// a span is refused here, before any context helper slices the text there.
fn glued(text: &str, start: usize, end: usize) -> bool {
    if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
        return true;
    }
    glued_left(text, start) || glued_right(text, end)
}

/// A space and another digit group right after `end`: the candidate is the head of a longer
/// run of numbers.
fn group_follows(text: &str, end: usize) -> bool {
    next_char(text, end) == Some(' ') && is_digit(next_char2(text, end))
}

/// A digit group and a space right before `start`.
fn group_precedes(text: &str, start: usize) -> bool {
    prev_char(text, start) == Some(' ') && is_digit(prev_char2(text, start))
}

/// Smallest char boundary `i` with `at - i <= n`: the start of a window of `n` bytes before `at`.
fn floor(text: &str, at: usize, n: usize) -> usize {
    let mut i = at.saturating_sub(n);
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Smallest char boundary at or after `at` (capped at the text's length).
fn ceil(text: &str, at: usize) -> usize {
    let mut i = at.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Byte-wise order of two short strings (an inlined loop: a `memcmp` call per probe costs
/// more than the comparison).
fn cmp_bytes(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    for (x, y) in a.iter().zip(b) {
        if x != y {
            return x.cmp(y);
        }
    }
    a.len().cmp(&b.len())
}

/// ASCII case-insensitive substring test.
fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.as_bytes()
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The last (at most 16) words of the `n` bytes before `at`: runs of letters and digits,
/// also split where a lower-case letter is followed by an upper-case one (`phoneNumber`).
struct Words<'a> {
    w: [&'a str; 16],
    n: usize,
}

impl<'a> Words<'a> {
    fn before(text: &'a str, at: usize, n: usize) -> Words<'a> {
        let from = floor(text, at, n);
        let s = &text[from..at];
        let mut out = Words { w: [""; 16], n: 0 };
        let mut push = |w: &'a str| {
            if out.n == 16 {
                out.w.copy_within(1.., 0);
                out.n -= 1;
            }
            out.w[out.n] = w;
            out.n += 1;
        };
        let mut start: Option<usize> = None;
        let mut prev_lower = false;
        for (i, c) in s.char_indices() {
            if c.is_alphanumeric() {
                if let Some(st) = start {
                    if c.is_uppercase() && prev_lower {
                        push(&s[st..i]);
                        start = Some(i);
                    }
                } else {
                    start = Some(i);
                }
                prev_lower = c.is_lowercase();
            } else {
                if let Some(st) = start.take() {
                    push(&s[st..i]);
                }
                prev_lower = false;
            }
        }
        if let Some(st) = start {
            push(&s[st..]);
        }
        out
    }

    fn list(&self) -> &[&'a str] {
        &self.w[..self.n]
    }

    /// Whether a word equals one of `exact` (lower case, sorted) or starts with one of
    /// `prefixes` (lower case), ignoring ASCII case.
    fn any(&self, exact: &[&str], prefixes: &[&str]) -> bool {
        self.list().iter().any(|w| {
            let w = w.as_bytes();
            // Lower-cased (the first 24 bytes: longer than any listed word or prefix).
            let mut buf = [0u8; 24];
            let n = w.len().min(buf.len());
            buf[..n].copy_from_slice(&w[..n]);
            buf[..n].make_ascii_lowercase();
            let lower = &buf[..n];
            let exact_hit = w.len() <= buf.len()
                && exact
                    .binary_search_by(|x| cmp_bytes(x.as_bytes(), lower))
                    .is_ok();
            // No prefix in a list is a prefix of another, so the only candidate is the greatest
            // one not after the word.
            exact_hit || {
                let i = prefixes.partition_point(|p| cmp_bytes(p.as_bytes(), lower).is_le());
                i > 0 && {
                    let p = prefixes[i - 1].as_bytes();
                    lower.len() >= p.len() && cmp_bytes(&lower[..p.len()], p).is_eq()
                }
            }
        })
    }

    /// Whether `a` is directly followed by `b` (ASCII case insensitive).
    fn pair(&self, a: &str, b: &str) -> bool {
        self.list()
            .windows(2)
            .any(|w| w[0].eq_ignore_ascii_case(a) && w[1].eq_ignore_ascii_case(b))
    }
}

/// Words that mark a number as a reference, not personal data.
#[rustfmt::skip]
const KW_REFERENCE: &[&str] = &[
    "aktenzeichen", "artnr", "az", "barcode", "booking", "build", "case", "colis", "commande",
    "confirmation", "contract", "contrat", "contrato", "contratto", "dossier", "ean", "envio",
    "fattura", "gtin", "imei", "inv", "invoice", "isbn", "item", "klantnummer", "knr", "kundennr",
    "kundennummer", "kvk", "localizador", "model", "order", "ordernummer", "orders", "ordine",
    "parcel", "part", "pedido", "po", "polis", "poliza", "polizza", "pratica", "prenotazione",
    "ref", "reference", "referencia", "referentie", "reserva", "riferimento", "seguimiento",
    "serial", "shipment", "siren", "siret", "sku", "spedizione", "suivi", "ticket", "tracking",
    "transaction", "txn", "upc", "vorgang", "zending",
];
/// Prefixes of reference words (German and Dutch compounds: `Bestellnummer`).
#[rustfmt::skip]
const KW_REFERENCE_PREFIX: &[&str] = &[
    "artikel", "auftrag", "bestell", "bestelnummer", "boeking", "buchung", "factura", "facture",
    "factuur", "lieferschein", "rechnung", "referenz", "sendung", "tracking", "versicherungsn",
    "vertrag",
];
/// Words that make a number personal even next to a reference word (`card`).
#[rustfmt::skip]
const KW_PERSONAL: &[&str] = &[
    "amex", "card", "carte", "cc", "credit", "creditcard", "debit", "karte", "kreditkarte",
    "mastercard", "pan", "payment", "security", "social", "ssn", "tarjeta", "visa",
];
/// Phone words.
#[rustfmt::skip]
const KW_PHONE: &[&str] = &[
    "bel", "call", "cel", "gsm", "handy", "mob", "movil", "ph", "portable", "ruf", "sms", "tel",
    "telf", "telnr", "text", "tfn", "tfno", "tlf",
];
/// Prefixes of phone words (`telefono`, `Mobilnummer`, `bellen`).
#[rustfmt::skip]
const KW_PHONE_PREFIX: &[&str] = &[
    "anruf", "appel", "bellen", "cell", "celular", "chiam", "contact", "contatt", "erreichbar",
    "fax", "handynummer", "kontakt", "llam", "mobiel", "mobil", "phone", "recapito", "rufnummer",
    "telefon", "telephon", "whatsapp",
];
/// Words before a Dutch BSN.
#[rustfmt::skip]
const KW_BSN: &[&str] = &[
    "bsn", "bsnnummer", "persoonsnummer", "sofi", "sofinummer",
];
/// Prefixes of words before a Dutch BSN.
#[rustfmt::skip]
const KW_BSN_PREFIX: &[&str] = &[
    "burgerservice",
];
/// Words before a Spanish id number.
#[rustfmt::skip]
const KW_ES_ID: &[&str] = &[
    "cif", "dni", "documento", "identidad", "nie", "nif",
];
/// Words before a passport or identity-card number.
#[rustfmt::skip]
const KW_DOC: &[&str] = &[
    "cni", "documentnummer", "dokumentennummer", "identidad", "identita", "identite", "passnr",
    "passnummer", "perso",
];
/// Prefixes of words before a passport or identity-card number.
#[rustfmt::skip]
const KW_DOC_PREFIX: &[&str] = &[
    "ausweis", "identiteitsbewijs", "identiteitskaart", "idkarte", "pasaporte", "paspoort",
    "passaporto", "passeport", "passport", "personalausweis", "reisepass",
];
/// Prefixes of German identity-card words.
#[rustfmt::skip]
const KW_GERMAN_ID_PREFIX: &[&str] = &[
    "ausweis", "idkarte", "personalausweis",
];
/// Words before a bare Italian VAT number.
#[rustfmt::skip]
const KW_VAT: &[&str] = &[
    "iva", "partita", "piva", "vat",
];

/// Whether a word of the 32 bytes before `start` marks a number as a reference, not personal
/// data.
fn reference_context(text: &str, start: usize) -> bool {
    let w = Words::before(text, start, 32);
    w.any(KW_REFERENCE, KW_REFERENCE_PREFIX) && !w.any(KW_PERSONAL, &[])
}

fn phone_keyword(text: &str, s: usize) -> bool {
    Words::before(text, s, 40).any(KW_PHONE, KW_PHONE_PREFIX)
}

/// The values of the ASCII digits of a short string, on the stack (at most 48 are kept: every
/// caller rejects longer numbers by their length).
struct Digits {
    d: [u8; 48],
    n: usize,
}

impl std::ops::Deref for Digits {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.d[..self.n]
    }
}

fn ascii_digits(s: &str) -> Digits {
    let mut out = Digits { d: [0; 48], n: 0 };
    for b in s.bytes().filter(u8::is_ascii_digit) {
        if out.n == out.d.len() {
            break;
        }
        out.d[out.n] = b - b'0';
        out.n += 1;
    }
    out
}

fn number(d: &[u8]) -> u32 {
    d.iter().fold(0, |acc, &x| acc * 10 + u32::from(x))
}

/// The value of a run of ASCII digits (saturating; callers pass short runs).
fn number_bytes(b: &[u8]) -> u64 {
    b.iter().fold(0u64, |acc, &x| {
        acc.saturating_mul(10).saturating_add(u64::from(x - b'0'))
    })
}

// ---------------------------------------------------------------------------------------------
// EMAIL

fn local_char(c: char) -> bool {
    (c.is_alphanumeric() && !unspaced_script(c)) || matches!(c, '.' | '_' | '%' | '+' | '-')
}

fn domain_char(c: char) -> bool {
    (c.is_alphanumeric() && !unspaced_script(c)) || c == '-'
}

/// The e-mail address around the `@` at `at`, its local part starting no earlier than `lo`:
/// the run of local-part characters before the `@`, then labels separated by single dots
/// (at least two).
fn email_at(text: &str, lo: usize, at: usize) -> Option<(usize, usize)> {
    let mut s = at;
    for c in text[lo..at].chars().rev() {
        if !local_char(c) {
            break;
        }
        s -= c.len_utf8();
        if at - s > 256 {
            return None;
        }
    }
    if s == at {
        return None;
    }
    let mut e = at + 1;
    let mut labels = 0;
    let mut domain_end = e;
    loop {
        let label = e;
        for c in text[e..].chars() {
            if !domain_char(c) {
                break;
            }
            e += c.len_utf8();
            if e - at > 300 {
                return None;
            }
        }
        if e == label {
            break;
        }
        labels += 1;
        domain_end = e;
        if text.as_bytes().get(e) == Some(&b'.') {
            e += 1;
        } else {
            break;
        }
    }
    if labels < 2 {
        return None;
    }
    check_email(text, s, at, domain_end)
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
    if domain
        .split('.')
        .any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-'))
    {
        return None;
    }
    let tld = domain.rsplit('.').next()?;
    let tld_ok = (tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic))
        || tld.to_ascii_lowercase().starts_with("xn--");
    if !tld_ok || FILE_EXTENSIONS.iter().any(|x| tld.eq_ignore_ascii_case(x)) {
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
    // `ssh deploy@bastion.example.com`, `scp f user@host.example.org`: a login, not a mailbox.
    let line = &text[floor(text, s, 64)..s];
    let line = &line[line.rfind('\n').map_or(0, |i| i + 1)..];
    let bytes = line.as_bytes();
    let command = (0..bytes.len()).rev().find(|&i| {
        matches!(bytes[i] | 0x20, b's' | b'r' | b'm')
            && (i == 0 || !is_word_byte(bytes[i - 1]))
            && ["ssh ", "scp ", "sftp ", "rsync ", "mosh "]
                .iter()
                .any(|k| {
                    bytes[i..].len() >= k.len()
                        && bytes[i..i + k.len()].eq_ignore_ascii_case(k.as_bytes())
                })
    });
    if let Some(i) = command {
        let args = &line[i..];
        if !args.contains([',', ';']) && !args.contains(". ") {
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

/// A path segment of a URL (`https://discord.com/api/webhooks/4576…/…`).
fn in_url_path(text: &str, s: usize) -> bool {
    if prev_char(text, s) != Some('/') {
        return false;
    }
    let from = floor(text, s, 256);
    let token = &text[text[from..s]
        .rfind(char::is_whitespace)
        .map_or(from, |i| from + i + 1)..s];
    token.contains("://") || token.starts_with("www.")
}

fn check_card(text: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    if glued_left(text, s) || reference_context(text, s) || in_url_path(text, s) {
        return None;
    }
    let mut end = e;
    // A trailing short group may be something else (`4111 1111 1111 1111 12/26`): retry without.
    for _ in 0..2 {
        if !glued_right(text, end) && card_ok(text, s, end) {
            return Some((s, end));
        }
        match text[s..end].rfind([' ', '-']) {
            Some(i) => end = s + i,
            None => break,
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// IBAN

fn iban_length(country: &[u8]) -> Option<usize> {
    #[rustfmt::skip]
    const TABLE: &[(&[u8; 2], usize)] = &[
        (b"AD", 24), (b"AE", 23), (b"AL", 28), (b"AT", 20), (b"AZ", 28), (b"BA", 20), (b"BE", 16),
        (b"BG", 22), (b"BH", 22), (b"BI", 27), (b"BR", 29), (b"BY", 28), (b"CH", 21), (b"CR", 22),
        (b"CY", 28), (b"CZ", 24), (b"DE", 22), (b"DJ", 27), (b"DK", 18), (b"DO", 28), (b"EE", 20),
        (b"EG", 29), (b"ES", 24), (b"FI", 18), (b"FK", 18), (b"FO", 18), (b"FR", 27), (b"GB", 22),
        (b"GE", 22), (b"GI", 23), (b"GL", 18), (b"GR", 27), (b"GT", 28), (b"HR", 21), (b"HU", 28),
        (b"IE", 22), (b"IL", 23), (b"IQ", 23), (b"IS", 26), (b"IT", 27), (b"JO", 30), (b"KW", 30),
        (b"KZ", 20), (b"LB", 28), (b"LC", 32), (b"LI", 21), (b"LT", 20), (b"LU", 20), (b"LV", 21),
        (b"LY", 25), (b"MC", 27), (b"MD", 24), (b"ME", 22), (b"MK", 19), (b"MN", 20), (b"MR", 27),
        (b"MT", 31), (b"MU", 30), (b"NI", 28), (b"NL", 18), (b"NO", 15), (b"OM", 23), (b"PK", 24),
        (b"PL", 28), (b"PS", 29), (b"PT", 25), (b"QA", 29), (b"RO", 24), (b"RS", 22), (b"RU", 33),
        (b"SA", 24), (b"SC", 31), (b"SD", 18), (b"SE", 24), (b"SI", 19), (b"SK", 24), (b"SM", 27),
        (b"SO", 23), (b"ST", 25), (b"SV", 28), (b"TL", 23), (b"TN", 24), (b"TR", 26), (b"UA", 29),
        (b"VA", 22), (b"VG", 24), (b"XK", 20), (b"YE", 30),
    ];
    TABLE
        .iter()
        .find(|(c, _)| &c[..] == country)
        .map(|&(_, n)| n)
}

/// ISO 7064 MOD 97-10 over `chars` in the given order (letters count as 10–35).
fn mod97(chars: impl IntoIterator<Item = u8>) -> u32 {
    let mut rem: u32 = 0;
    for c in chars {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c.to_ascii_uppercase() - b'A') + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem
}

/// Up to `max` characters accepted by `ok` from `s` on, allowing a single space between any
/// two of them after the first `solid` ones; returns how many were read and the end offset.
fn collect(
    b: &[u8],
    s: usize,
    max: usize,
    solid: usize,
    out: &mut [u8],
    ok: impl Fn(u8) -> bool,
) -> (usize, usize) {
    let mut n = 0;
    let mut i = s;
    let mut end = s;
    while i < b.len() && n < max {
        let c = b[i];
        if ok(c) {
            out[n] = c;
            n += 1;
            i += 1;
            end = i;
        } else if c == b' '
            && n >= solid
            && n > 0
            && i == end
            && b.get(i + 1).is_some_and(|&x| ok(x))
        {
            i += 1;
        } else {
            break;
        }
    }
    (n, end)
}

/// The IBAN starting at `s` (two upper-case letters, glued to its check digits).
fn check_iban(text: &str, s: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let len = iban_length(b.get(s..s + 2)?)?;
    if glued_left(text, s) {
        return None;
    }
    let mut chars = [0u8; 34];
    let (n, end) = collect(b, s, len, 4, &mut chars, |c| {
        c.is_ascii_uppercase() || c.is_ascii_digit()
    });
    if n != len
        || !chars[2].is_ascii_digit()
        || !chars[3].is_ascii_digit()
        || glued_right(text, end)
    {
        return None;
    }
    let check_digits = u32::from(chars[2] - b'0') * 10 + u32::from(chars[3] - b'0');
    let rearranged = chars[4..len].iter().chain(&chars[..4]).copied();
    ((2..=98).contains(&check_digits) && mod97(rearranged) == 1).then_some((s, end))
}

// ---------------------------------------------------------------------------------------------
// US_SSN

fn ssn_keyword(text: &str, s: usize) -> bool {
    let ctx = &text[floor(text, s, 40)..s];
    ["ssn", "social security", "ss#", "soc sec"]
        .iter()
        .any(|k| contains_ci(ctx, k))
}

fn check_ssn(text: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    if glued(text, s, e) {
        return None;
    }
    let d = ascii_digits(&text[s..e]);
    let (area, group, serial) = (number(&d[..3]), number(&d[3..5]), number(&d[5..]));
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return None;
    }
    let ok = if text[s..e].contains('-') {
        !reference_context(text, s)
    } else {
        ssn_keyword(text, s)
    };
    ok.then_some((s, e))
}

// ---------------------------------------------------------------------------------------------
// IP_ADDRESS, MAC_ADDRESS

/// The word right before `s` (skipping spaces and `:`/`=`; letters, digits, `.`, `§`).
fn preceding_word(text: &str, s: usize) -> &str {
    let ctx = &text[floor(text, s, 24)..s];
    let trimmed = ctx.trim_end_matches(|c: char| c.is_whitespace() || c == ':' || c == '=');
    let start = trimmed
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '.' || *c == '§')
        .last()
        .map_or(trimmed.len(), |(i, _)| i);
    trimmed[start..].trim_end_matches('.')
}

fn check_ipv4(text: &str, s: usize, e: usize) -> Option<(usize, usize)> {
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
        return None;
    }
    #[rustfmt::skip]
    const VERSION_WORDS: &[&str] = &[
        "v", "ver", "version", "versions", "release", "build", "firmware", "fw", "rev", "revision",
        "oid", "section", "sections", "chapter", "§", "clause", "step", "rule", "kernel", "patch",
    ];
    let w = preceding_word(text, s);
    if VERSION_WORDS.iter().any(|v| w.eq_ignore_ascii_case(v)) {
        return None;
    }
    Some((s, e))
}

fn check_ipv6(text: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let cand = &text[s..e];
    let p = prev_char(text, s);
    let n = next_char(text, e);
    if is_alnum(p)
        || matches!(p, Some(':' | '_' | '.'))
        || is_alnum(n)
        || matches!(n, Some('_' | ':'))
    {
        return None;
    }
    if n == Some('.') && is_digit(next_char2(text, e)) {
        return None;
    }
    let groups = cand.split(':').filter(|g| !g.is_empty()).count();
    // Eight two-digit groups is a colon-separated hex dump (EUI-64, fingerprint), not an address.
    let hex_dump = groups == 8 && cand.split(':').all(|g| g.len() == 2);
    if groups < 2
        || hex_dump
        || !cand.bytes().any(|b| b.is_ascii_digit())
        || cand.parse::<Ipv6Addr>().is_err()
    {
        return None;
    }
    Some((s, e))
}

/// The MAC address starting at `p`: six hex pairs joined by `:` or `-`, or `aaaa.bbbb.cccc`.
fn mac_at(text: &str, p: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes().get(p..)?;
    let hex = |i: usize| b.get(i).is_some_and(u8::is_ascii_hexdigit);
    let end = if b.len() >= 17 && matches!(b[2], b':' | b'-') {
        let sep = b[2];
        let ok =
            (0..6).all(|k| hex(3 * k) && hex(3 * k + 1)) && (1..6).all(|k| b[3 * k - 1] == sep);
        ok.then_some(17)?
    } else if b.len() >= 14 && b[4] == b'.' && b[9] == b'.' {
        let ok = (0..14).filter(|i| i % 5 != 4).all(hex);
        (ok && b[..14].iter().any(u8::is_ascii_alphabetic)).then_some(14)?
    } else {
        return None;
    };
    let e = p + end;
    let prev = prev_char(text, p);
    let next = next_char(text, e);
    let hexc = |c: Option<char>| c.is_some_and(|c| c.is_ascii_hexdigit());
    let sep_glue =
        |c: Option<char>, cc: Option<char>| matches!(c, Some(':' | '-' | '.')) && hexc(cc);
    if is_alnum(prev)
        || is_alnum(next)
        || sep_glue(prev, prev_char2(text, p))
        || sep_glue(next, next_char2(text, e))
    {
        return None;
    }
    Some((p, e))
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
    if glued_left(text, s) || group_precedes(text, s) || prev_char(text, s) == Some('+') {
        return reject;
    }
    let cand = &text[s..e];
    let cb = cand.as_bytes();
    // `00` is the international prefix only before a country code (`0049…`, not `000037…`).
    let intl = cb[0] == b'+'
        || (cb.len() > 1 && cb[0] == b'(' && cb[1] == b'+')
        || (cb.len() > 2 && cb[0] == b'0' && cb[1] == b'0' && (b'1'..=b'9').contains(&cb[2]));
    // Where `(0)` (the trunk prefix written after a country code) is, if anywhere.
    let trunk_at = cb
        .windows(3)
        .position(|w| w[0] == b'(' && w[1] == b'0' && w[2] == b')');
    // The longest prefix ending after a digit run whose digit count is acceptable.
    let (lo, hi) = if intl {
        let d = match trunk_at {
            Some(i) => {
                let mut d = ascii_digits(&cand[..i]);
                let rest = ascii_digits(&cand[i + 3..]);
                let m = rest.n.min(d.d.len() - d.n);
                d.d[d.n..d.n + m].copy_from_slice(&rest[..m]);
                d.n += m;
                d
            }
            None => ascii_digits(cand),
        };
        let zeros = if cb[0] == b'0' { 2 } else { 0 };
        if d.len() <= zeros + 1 {
            return reject;
        }
        let (cc_len, national) = country(&d[zeros..]);
        // A national number never starts with the trunk 0 after the country code (Italy's
        // landlines aside); `0044 0532 …` is not a phone number.
        if d.get(zeros + cc_len) == Some(&0) && number(&d[zeros..zeros + cc_len]) != 39 {
            return reject;
        }
        let trunk = usize::from(trunk_at.is_some());
        let base = zeros + cc_len + trunk;
        (
            base + national.start(),
            (base + national.end()).min(zeros + 15 + trunk),
        )
    } else {
        let d = ascii_digits(cand);
        if d[0] == 0 {
            // A trunk `0` is never followed by another `0` (that is the international prefix).
            if d.get(1) == Some(&0) {
                return reject;
            }
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
    // An extension after a dash (`089 12345678-0`, `…-123`) belongs to the number.
    let extension = |at: usize| {
        let b = text.as_bytes();
        let mut j = at + 1;
        while j < b.len() && j - at <= 5 && b[j].is_ascii_digit() {
            j += 1;
        }
        (b.get(at) == Some(&b'-') && (at + 2..=at + 5).contains(&j) && !glued_right(text, j))
            .then_some(j)
    };
    // The last digit run end where the count fits.
    let mut best = None;
    let mut count = 0;
    let bytes = cand.as_bytes();
    for (i, c) in bytes.iter().enumerate() {
        if c.is_ascii_digit() {
            count += 1;
            let run_end = bytes.get(i + 1).is_none_or(|n| !n.is_ascii_digit());
            let at = s + i + 1;
            if run_end
                && (lo..=hi).contains(&count)
                && (!glued_right(text, at) || extension(at).is_some())
            {
                best = Some(i + 1);
            }
        }
    }
    let Some(rel_end) = best else {
        return reject;
    };
    let mut end = s + rel_end;
    if glued_right(text, end) {
        end = extension(end).unwrap_or(end);
    }
    // A closing parenthesis belongs to the number only when it closes one opened inside it
    // (`(+44 20 7946 0958)` is a number in parentheses).
    let open = text[s..end].bytes().filter(|&c| c == b'(').count();
    let closed = text[s..end].bytes().filter(|&c| c == b')').count();
    if open > closed
        && text[s..end].ends_with(|c: char| c.is_ascii_digit())
        && next_char(text, end) == Some(')')
    {
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
        if looks_like_date(span) || group_follows(text, end) {
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
    // A `+` number is a phone number even after a reference word.
    if !(intl && cb[0] != b'0') && reference_context(text, s) && !phone_keyword(text, s) {
        return reject;
    }
    Check::Accept(s, end)
}

/// Spanish numbers without trunk prefix and Italian mobiles: the usual groupings count on
/// their own (`612 34 56 78`, `91 123 45 67`, `333 123 4567`, `347 1234567`), others
/// (`612 345 678`, `333 123 456`) only after a phone word.
fn check_phone_nt(text: &str, s: usize, e: usize) -> Check {
    let reject = Check::Reject(next_start(text, s));
    if glued(text, s, e)
        || group_precedes(text, s)
        || group_follows(text, e)
        || matches!(prev_char(text, s), Some('+' | '(' | '/' | '.' | '-'))
        || matches!(next_char(text, e), Some('%' | '€' | '$' | ',' ) if next_char2(text, e).is_some_and(|c| c.is_ascii_digit()))
    {
        return reject;
    }
    let span = &text[s..e];
    if looks_like_date(span) {
        return reject;
    }
    let keyword = phone_keyword(text, s);
    if reference_context(text, s) && !keyword {
        return reject;
    }
    let mut lens = [0usize; 5];
    let mut n = 0;
    for g in span
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
    {
        if n == lens.len() {
            return reject;
        }
        lens[n] = g.len();
        n += 1;
    }
    let lens = &lens[..n];
    let usual = matches!(lens, [3, 2, 2, 2] | [2, 3, 2, 2])
        || (span.starts_with('3') && matches!(lens, [3, 3, 4] | [3, 7]));
    if usual || keyword {
        Check::Accept(s, e)
    } else {
        reject
    }
}

/// Where the pattern's international alternative ends when it starts at the `+` at `s`: a
/// country code of one to three digits, an optional `(0)`, then up to six groups of one to
/// five digits, each after an optional `.`/`-`/space and optionally in parentheses (greedy,
/// as the pattern is).
fn intl_phone_end(b: &[u8], s: usize, wrapped: bool) -> Option<usize> {
    let mut i = s + 1;
    if !matches!(b.get(i), Some(b'1'..=b'9')) {
        return None;
    }
    i += 1;
    let mut k = 0;
    while k < 2 && b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
        k += 1;
    }
    if wrapped {
        if b.get(i) != Some(&b')') {
            return None;
        }
        i += 1;
    }
    let j = if matches!(b.get(i), Some(b' ' | b'.' | b'-')) {
        i + 1
    } else {
        i
    };
    if b.get(j) == Some(&b'(') && b.get(j + 1) == Some(&b'0') && b.get(j + 2) == Some(&b')') {
        i = j + 3;
    }
    let mut reps = 0;
    while reps < 6 {
        let mut j = i;
        if matches!(b.get(j), Some(b' ' | b'.' | b'-')) {
            j += 1;
        }
        if b.get(j) == Some(&b'(') {
            j += 1;
        }
        let d0 = j;
        while j < b.len() && j - d0 < 5 && b[j].is_ascii_digit() {
            j += 1;
        }
        if j == d0 {
            break;
        }
        if b.get(j) == Some(&b')') {
            j += 1;
        }
        i = j;
        reps += 1;
    }
    (reps > 0).then_some(i)
}

/// `dd.mm.yyyy`-shaped digit groups (never a phone number).
fn looks_like_date(span: &str) -> bool {
    let mut groups = span
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty());
    match (groups.next(), groups.next(), groups.next(), groups.next()) {
        (Some(a), Some(b), Some(c), None) => a.len() <= 2 && b.len() <= 2 && c.len() == 4,
        _ => false,
    }
}

fn check_plain_phone(text: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    (!glued(text, s, e) && phone_keyword(text, s) && !reference_context(text, s)).then_some((s, e))
}

// ---------------------------------------------------------------------------------------------
// DATE_OF_BIRTH

fn month_number(word: &str) -> Option<u32> {
    let w = word.as_bytes();
    let mut buf = [0u8; 12];
    if w.len() < 3 || w.len() > buf.len() {
        return None;
    }
    // Every month name starts with one of these letters.
    if !matches!(
        w[0] | 0x20,
        b'a' | b'd' | b'e' | b'f' | b'g' | b'j' | b'l' | b'm' | b'n' | b'o' | b's'
    ) {
        return None;
    }
    let lower = &mut buf[..w.len()];
    lower.copy_from_slice(w);
    lower.make_ascii_lowercase();
    MONTH_NAMES
        .binary_search_by(|(n, _)| cmp_bytes(n.as_bytes(), lower))
        .ok()
        .map(|i| MONTH_NAMES[i].1)
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
    let mut nums = [""; 3];
    let mut n = 0;
    for g in s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
    {
        if n == 3 {
            return false;
        }
        nums[n] = g;
        n += 1;
    }
    let nums = &nums[..n];
    let word = s
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .find_map(month_number);
    let num = |g: &str| g.parse::<u32>().unwrap_or(0);
    let year_ok = |y: &str| y.len() == 2 || (1900..=2099).contains(&num(y));
    let year_of = |y: &str| if y.len() == 2 { 2000 + num(y) } else { num(y) };
    if let Some(month) = word {
        // "March 14, 1985", "14 March 1985", "14. März 1985": day, then 4-digit year.
        return nums.len() == 2
            && nums[1].len() == 4
            && year_ok(nums[1])
            && valid_date(num(nums[1]), month, num(nums[0]));
    }
    if nums.len() != 3 {
        return false;
    }
    if nums[0].len() == 4 {
        return year_ok(nums[0]) && valid_date(num(nums[0]), num(nums[1]), num(nums[2]));
    }
    let (a, b, y) = (num(nums[0]), num(nums[1]), nums[2]);
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

/// Whether a word in `b` starts like a birth keyword (`birth…`, `born`, `dob`, `date`, `né`,
/// `geb…`, `fecha`, `nacido`, `nato`, `data di …`): a cheap test before the keyword pattern
/// runs. Every alternative of the pattern starts a word with one of these.
fn birth_keyword_hint(b: &[u8]) -> bool {
    const STARTS: &[&[u8]] = &[
        b"birth", b"b-day", b"born", b"d.o.b", b"dob", b"date", b"data", b"ne ", b"ne\t", b"nee",
        b"ne(", b"nacid", b"nacim", b"naiss", b"nasc", b"nat", b"geb", b"fecha", b"f.",
    ];
    (0..b.len()).any(|i| {
        matches!(b[i] | 0x20, b'b' | b'd' | b'n' | b'g' | b'f')
            && (i == 0 || !b[i - 1].is_ascii_alphanumeric())
            && STARTS
                .iter()
                .any(|k| b.len() - i >= k.len() && b[i..i + k.len()].eq_ignore_ascii_case(k))
    })
}

/// A time of day other than midnight right after a date (`2026-11-29 10:01:22`,
/// `…T10:01`): a timestamp, not a date of birth (dumps write birth dates as `… 00:00:00`).
fn time_of_day_follows(b: &[u8], e: usize) -> bool {
    let t = match b.get(e..e + 6) {
        Some(t) if matches!(t[0], b' ' | b'T') => &t[1..],
        _ => return false,
    };
    let digits = |r: std::ops::Range<usize>| t[r].iter().all(u8::is_ascii_digit);
    digits(0..2)
        && t[2] == b':'
        && digits(3..5)
        && (t[0], t[1], t[3], t[4]) != (b'0', b'0', b'0', b'0')
}

/// A sentence or line break between a keyword and a date breaks their association.
fn breaks_sentence(gap: &str) -> bool {
    gap.contains(['\n', '!', '?', ';']) || gap.contains(". ")
}

// ---------------------------------------------------------------------------------------------
// NATIONAL_ID

/// ISO 7064 MOD 11,10: whether the last digit of `d` is the check digit of the others.
fn mod11_10(d: &[u8]) -> bool {
    let Some((&check, body)) = d.split_last() else {
        return false;
    };
    let mut p = 10u32;
    for &x in body {
        let mut s = (u32::from(x) + p) % 10;
        if s == 0 {
            s = 10;
        }
        p = (s * 2) % 11;
    }
    (11 - p) % 10 == u32::from(check)
}

/// The Dutch 11-proof (BSN, RSIN): 9·d1 + 8·d2 + … + 2·d8 − d9 ≡ 0 (mod 11), not all zero.
fn eleven_proof(d: &[u8]) -> bool {
    if d.len() != 9 || d.iter().all(|&x| x == 0) {
        return false;
    }
    let sum: i32 = d[..8]
        .iter()
        .enumerate()
        .map(|(i, &x)| (9 - i as i32) * i32::from(x))
        .sum::<i32>()
        - i32::from(d[8]);
    sum.rem_euclid(11) == 0
}

/// German tax identification number (Steuer-IdNr): 11 digits, the first not 0; in the first
/// ten exactly one digit occurs two or three times and no other repeats; ISO 7064 mod 11-10.
fn check_steuer_id(text: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    let d = ascii_digits(&text[s..e]);
    if d.len() != 11
        || d[0] == 0
        || glued(text, s, e)
        || group_follows(text, e)
        || group_precedes(text, s)
    {
        return None;
    }
    let mut counts = [0u8; 10];
    for &x in &d[..10] {
        counts[usize::from(x)] += 1;
    }
    let repeated: Vec<u8> = counts.iter().copied().filter(|&c| c > 1).collect();
    if repeated.len() != 1 || !(2..=3).contains(&repeated[0]) || !mod11_10(&d) {
        return None;
    }
    (!reference_context(text, s)).then_some((s, e))
}

/// Dutch BSN after a BSN word: 9 digits passing the 11-proof.
fn check_bsn(text: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    if glued(text, s, e) || group_follows(text, e) || group_precedes(text, s) {
        return None;
    }
    let d = ascii_digits(&text[s..e]);
    if !eleven_proof(&d) {
        return None;
    }
    let w = Words::before(text, s, 48);
    let keyword = w.any(KW_BSN, KW_BSN_PREFIX) || w.pair("citizen", "service");
    keyword.then_some((s, e))
}

/// French NIR (numéro de sécurité sociale) starting at `s`: 15 characters, single spaces
/// allowed between them.
fn nir_at(text: &str, s: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut c = [0u8; 15];
    let (n, e) = collect(b, s, 15, 1, &mut c, |x| {
        x.is_ascii_digit() || matches!(x, b'A' | b'B' | b'a' | b'b')
    });
    if n != 15 || glued(text, s, e) || group_follows(text, e) || group_precedes(text, s) {
        return None;
    }
    c[5] = c[5].to_ascii_uppercase();
    c[6] = c[6].to_ascii_uppercase();
    let corsica = match &c[5..7] {
        b"2A" => Some(1_000_000u64),
        b"2B" => Some(2_000_000u64),
        _ => None,
    };
    let digits_ok = c
        .iter()
        .enumerate()
        .all(|(i, x)| x.is_ascii_digit() || (corsica.is_some() && (i == 6)));
    if !digits_ok || !matches!(c[0], b'1'..=b'4' | b'7' | b'8') {
        return None;
    }
    let month = number_bytes(&c[3..5]);
    if !matches!(month, 1..=12 | 20..=42 | 50..=99) {
        return None;
    }
    let mut body = [0u8; 13];
    body.copy_from_slice(&c[..13]);
    if corsica.is_some() {
        body[6] = b'0';
    }
    // 2A → 19, 2B → 18: "2A" read as "20" is 1 000 000 above "19" in the 13-digit number.
    let n13 = number_bytes(&body) - corsica.unwrap_or(0);
    let key = number_bytes(&c[13..15]);
    (97 - n13 % 97 == key && !reference_context(text, s)).then_some((s, e))
}

const DNI_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Words that introduce a Spanish id number (for spaced or lower-case check letters).
fn spanish_id_keyword(text: &str, s: usize) -> bool {
    let w = Words::before(text, s, 40);
    w.any(KW_ES_ID, &[]) || contains_ci(&text[floor(text, s, 40)..s], "d.n.i")
}

/// Spanish DNI: the cluster is 8 digits (`12345678`, `12.345.678`), then the check letter,
/// glued or after `-` (or a space, or lower case, after a word like "DNI").
fn dni_at(text: &str, c: &Cluster) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    if c.start != c.gs(0) || c.digits != 8 {
        return None;
    }
    let dotted = c.shape(b, 0, &[2, 3, 3], b".");
    if !(c.n == 1 || (dotted && c.n == 3)) {
        return None;
    }
    let s = c.gs(0);
    let mut i = c.ge(c.n - 1);
    let sep = b.get(i).copied();
    let spaced = sep == Some(b' ');
    if matches!(sep, Some(b'-' | b' ')) {
        i += 1;
    }
    let letter = *b.get(i)?;
    if !letter.is_ascii_alphabetic() {
        return None;
    }
    let e = i + 1;
    if glued(text, s, e) {
        return None;
    }
    let digits = ascii_digits(&text[s..c.ge(c.n - 1)]);
    if DNI_LETTERS[(number(&digits) % 23) as usize] != letter.to_ascii_uppercase() {
        return None;
    }
    let plain = letter.is_ascii_uppercase() && !spaced;
    (plain || spanish_id_keyword(text, s)).then_some((s, e))
}

/// Spanish NIE: `X1234567L`, `X-1234567-L` (X, Y, Z stand for 0, 1, 2 in the mod-23 check).
fn nie_at(text: &str, s: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let first = b[s].to_ascii_uppercase();
    let mut i = s + 1;
    let dashed = b.get(i) == Some(&b'-');
    if dashed {
        i += 1;
    }
    let digits = b.get(i..i + 7)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    i += 7;
    if dashed || b.get(i) == Some(&b'-') {
        if b.get(i) != Some(&b'-') {
            return None;
        }
        i += 1;
    }
    let letter = *b.get(i)?;
    let e = i + 1;
    if !letter.is_ascii_alphabetic() || glued(text, s, e) {
        return None;
    }
    let n = u64::from(first - b'X') * 10_000_000 + number_bytes(digits);
    if DNI_LETTERS[(n % 23) as usize] != letter.to_ascii_uppercase() {
        return None;
    }
    let plain = b[s].is_ascii_uppercase() && letter.is_ascii_uppercase();
    (plain || spanish_id_keyword(text, s)).then_some((s, e))
}

/// Italian codice fiscale starting at `s`: 16 characters in the official layout (digits in
/// the date and town code may be replaced by the letters L–V, "omocodia") with its check
/// letter; all upper or all lower case.
fn codice_fiscale_at(text: &str, s: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let raw = b.get(s..s + 16)?;
    if !raw.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let e = s + 16;
    let upper = raw.iter().all(|c| !c.is_ascii_lowercase());
    let lower = raw.iter().all(|c| !c.is_ascii_uppercase());
    if !(upper || lower) || glued(text, s, e) {
        return None;
    }
    let mut c = [0u8; 16];
    for (d, r) in c.iter_mut().zip(raw) {
        *d = r.to_ascii_uppercase();
    }
    let letter = |x: u8| x.is_ascii_uppercase();
    let digitish = |x: u8| x.is_ascii_digit() || b"LMNPQRSTUV".contains(&x);
    let layout = c[..6].iter().all(|&x| letter(x))
        && digitish(c[6])
        && digitish(c[7])
        && b"ABCDEHLMPRST".contains(&c[8])
        && digitish(c[9])
        && digitish(c[10])
        && letter(c[11])
        && c[12..15].iter().all(|&x| digitish(x))
        && letter(c[15]);
    if !layout {
        return None;
    }
    #[rustfmt::skip]
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let value = |x: u8| {
        if x.is_ascii_digit() {
            usize::from(x - b'0')
        } else {
            usize::from(x - b'A')
        }
    };
    let sum: u32 = c[..15]
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 0 {
                ODD[value(x)]
            } else {
                value(x) as u32
            }
        })
        .sum();
    (c[15] == b'A' + (sum % 26) as u8).then_some((s, e))
}

/// ICAO 9303 check digit (weights 7, 3, 1; letters count 10–35) over `body`.
fn icao_check(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let v = if x.is_ascii_digit() {
                u32::from(x - b'0')
            } else {
                u32::from(x - b'A') + 10
            };
            v * [7, 3, 1][i % 3]
        })
        .sum();
    (sum % 10) as u8
}

/// Passport and identity-card numbers after a passport/ID-card word: 8–12 upper-case letters
/// and digits (at least one digit) starting at `s`.
fn id_document_at(text: &str, s: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let len = b[s..]
        .iter()
        .take(13)
        .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        .count();
    let e = s + len;
    let tok = &b[s..e];
    if !(8..=12).contains(&len) || !tok.iter().any(u8::is_ascii_digit) || glued(text, s, e) {
        return None;
    }
    let w = Words::before(text, s, 48);
    let german_id = w.any(&["perso"], KW_GERMAN_ID_PREFIX);
    let keyword = w.any(KW_DOC, KW_DOC_PREFIX)
        || w.pair("id", "card")
        || w.pair("identity", "card")
        || w.pair("id", "kaart");
    if !keyword {
        return None;
    }
    // A German ID-card number printed with its check digit (ICAO 9303).
    const ID_ALPHABET: &[u8] = b"0123456789CFGHJKLMNPRTVWXYZ";
    if german_id
        && len == 10
        && tok[0].is_ascii_uppercase()
        && tok.iter().all(|c| ID_ALPHABET.contains(c))
    {
        return (icao_check(&tok[..9]) == tok[9] - b'0').then_some((s, e));
    }
    Some((s, e))
}

// ---------------------------------------------------------------------------------------------
// VAT_ID

/// Spanish NIF (9 characters): DNI, NIE, K/L/M numbers, or a company CIF.
fn spanish_nif_ok(c: &[u8]) -> bool {
    let digits = |r: std::ops::Range<usize>| c[r].iter().all(u8::is_ascii_digit);
    let letter_of = |n: u64| DNI_LETTERS[(n % 23) as usize];
    match c[0] {
        b'0'..=b'9' => digits(0..8) && c[8] == letter_of(number_bytes(&c[..8])),
        b'X' | b'Y' | b'Z' => {
            digits(1..8)
                && c[8] == letter_of(u64::from(c[0] - b'X') * 10_000_000 + number_bytes(&c[1..8]))
        }
        b'K' | b'L' | b'M' => digits(1..8) && c[8] == letter_of(number_bytes(&c[1..8])),
        b'A'..=b'H' | b'J' | b'N' | b'P'..=b'S' | b'U' | b'V' | b'W' => {
            if !digits(1..8) {
                return false;
            }
            // CIF: the Luhn check digit of the seven digits, or its letter in "JABCDEFGHI".
            let d: Vec<u8> = c[1..8].iter().map(|x| x - b'0').collect();
            let check = (0..10u8)
                .find(|&k| luhn(&[&d[..], &[k]].concat()))
                .unwrap_or(0);
            c[8] == b'0' + check || c[8] == b"JABCDEFGHI"[usize::from(check)]
        }
        _ => false,
    }
}

/// The VAT id starting at the country code at `s` (`DE`, `FR`, `IT`, `NL`, `ES`), contiguous
/// or with single spaces.
fn vat_at(text: &str, s: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let cc = b.get(s..s + 2)?;
    let len = match cc {
        b"DE" | b"ES" => 9,
        b"FR" | b"IT" => 11,
        b"NL" => 12,
        _ => return None,
    };
    if glued_left(text, s) {
        return None;
    }
    let mut i = s + 2;
    if b.get(i) == Some(&b' ') {
        i += 1;
    }
    let mut c = [0u8; 12];
    let (n, e) = collect(b, i, len, 1, &mut c, |x| {
        x.is_ascii_uppercase() || x.is_ascii_digit()
    });
    if n != len || glued_right(text, e) || group_follows(text, e) {
        return None;
    }
    let c = &c[..len];
    let digits: Vec<u8> = c
        .iter()
        .filter(|x| x.is_ascii_digit())
        .map(|x| x - b'0')
        .collect();
    let all_digits = digits.len() == c.len();
    let ok = match cc {
        b"DE" => all_digits && digits[0] != 0 && mod11_10(&digits),
        b"FR" => {
            all_digits && luhn(&digits[2..]) && {
                let siren = number_bytes(&c[2..]);
                number_bytes(&c[..2]) == (siren * 100 + 12) % 97
            }
        }
        b"IT" => {
            let office = number(&digits[7..10]);
            all_digits
                && digits[..7].iter().any(|&x| x != 0)
                && matches!(office, 1..=100 | 120 | 121 | 888 | 999)
                && luhn(&digits)
        }
        b"NL" => {
            c[..9].iter().all(u8::is_ascii_digit)
                && c[9] == b'B'
                && c[10..].iter().all(u8::is_ascii_digit)
                && number_bytes(&c[10..]) > 0
                && (eleven_proof(&digits[..9]) || mod97(b"NL".iter().chain(c).copied()) == 1)
        }
        _ => spanish_nif_ok(c),
    };
    ok.then_some((s, e))
}

/// An Italian partita IVA without its `IT` prefix, after "IVA", "P.IVA", "partita" or "VAT".
fn check_bare_partita_iva(text: &str, s: usize, e: usize) -> Option<(usize, usize)> {
    if glued(text, s, e) {
        return None;
    }
    let d = ascii_digits(&text[s..e]);
    let office = number(&d[7..10]);
    let ok = d[..7].iter().any(|&x| x != 0)
        && matches!(office, 1..=100 | 120 | 121 | 888 | 999)
        && luhn(&d);
    let keyword = Words::before(text, s, 40).any(KW_VAT, &[]);
    (ok && keyword).then_some((s, e))
}

// ---------------------------------------------------------------------------------------------
// POSTAL_ADDRESS

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
#[path = "pii_tests.rs"]
mod tests;
