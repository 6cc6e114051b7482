//! The normalised view every detector reads, with a map back to the original text.
//!
//! Agents smuggle entities past pattern matchers with characters a model ignores or reads as
//! their plain forms: `123\u{34F}-45-6789` (a combining grapheme joiner), `4111\u{FE0F} 1111…`
//! (a variation selector), full-width `１２３-４５-６７８９`, `AKIA…\u{200B}…` (zero-width space),
//! Cyrillic `А` for Latin `A`. Detectors therefore never see the raw text: they read
//! [`View::text`], and their findings are mapped back with [`View::original`] so that masking
//! and redaction rewrite the original text — the whole span, invisible characters included.
//!
//! # What the view does, character by character
//! 1. ASCII is kept as is (the fast path: an ASCII text *is* its own view, nothing is copied).
//! 2. Tag characters U+E0020–U+E007E become the ASCII they encode (models read them so: "ASCII
//!    smuggling"); other default-ignorable code points are removed (Unicode's
//!    `Default_Ignorable_Code_Point`: soft hyphen, CGJ, zero-width characters, bidi controls,
//!    word joiner and the invisible operators, variation selectors, Hangul fillers …).
//! 3. Combining marks right after an ASCII character are removed (`1\u{332}` reads as `1`).
//! 4. Dashes and minus signs become `-`, space separators become a space.
//! 5. Decimal digits of every script (full-width, Arabic-Indic, Devanagari, …) become ASCII.
//! 6. Cyrillic and Greek letters that pass for Latin ones become the Latin letter.
//! 7. Everything else goes through the compatibility decomposition, one character at a time
//!    (full-width letters, ligatures, circled and mathematical alphanumerics, superscripts);
//!    where that yields ASCII its combining marks are dropped too (`é` reads as `e`), where it
//!    does not (Hangul, Greek with tonos) the character is kept.
//!
//! The view is for matching only; nobody downstream ever receives it. It is linear in the
//! input: constant work per character.
//!
//! # Findings of the pass
//! Removing an invisible character is itself evidence when it sits between two visible ASCII
//! characters, where no script needs it (`123\u{34F}-45`, `4111\u{FE0F}1111`): such removals are reported
//! as `INVISIBLE_CHARACTER` findings for the unicode step (`detect_unicode` merges them with its
//! own). A variation selector after a digit that starts a keycap (`1\u{FE0F}\u{20E3}`) is
//! legitimate and not reported.

use std::borrow::Cow;

use unicode_normalization::char::decompose_compatible;

use super::Finding;
use crate::detect::EntityKind;

/// A text as detectors read it.
#[derive(Debug, Clone)]
pub struct View<'a> {
    original: &'a str,
    text: Cow<'a, str>,
    /// For each byte of `text`: the original byte range of the character it came from. Empty
    /// when the view is the original.
    origin: Vec<(u32, u32)>,
    /// Characters removed inside ASCII words (see the module doc).
    removed: Vec<Finding>,
}

impl<'a> View<'a> {
    pub fn new(original: &'a str) -> View<'a> {
        if original.is_ascii() {
            return View {
                original,
                text: Cow::Borrowed(original),
                origin: Vec::new(),
                removed: Vec::new(),
            };
        }
        let mut text = String::with_capacity(original.len());
        let mut origin: Vec<(u32, u32)> = Vec::with_capacity(original.len());
        let mut removed: Vec<Finding> = Vec::new();
        let mut buf = [0u8; 4];
        let mut push = |text: &mut String, origin: &mut Vec<(u32, u32)>, c: char, s, e| {
            text.push(c);
            for _ in 0..c.encode_utf8(&mut buf).len() {
                origin.push((s as u32, e as u32));
            }
        };
        let mut iter = original.char_indices().peekable();
        while let Some((i, c)) = iter.next() {
            let end = i + c.len_utf8();
            if c.is_ascii() {
                push(&mut text, &mut origin, c, i, end);
                continue;
            }
            // Tag characters spell ASCII that models read ("ASCII smuggling"): the view reads
            // it too.
            if let '\u{E0020}'..='\u{E007E}' = c {
                let ascii = char::from_u32(c as u32 - 0xE0000).unwrap_or(' ');
                push(&mut text, &mut origin, ascii, i, end);
                continue;
            }
            let after_ascii = text.as_bytes().last().is_some_and(u8::is_ascii);
            if is_default_ignorable(c) || (after_ascii && is_combining_mark(c)) {
                // Only invisible characters are evidence: a combining accent after a Latin
                // letter is how decomposed (NFD) text writes `é`.
                // (Tag characters are the unicode step's own `TAG_CHARACTER` rule.)
                let invisible = is_default_ignorable(c) && !matches!(c, '\u{E0000}'..='\u{E007F}');
                let prev_word = text.as_bytes().last().is_some_and(u8::is_ascii_graphic);
                let next = iter.peek().map(|&(_, n)| n);
                let next_word =
                    next.is_some_and(|n| n.is_ascii_graphic() || is_ignorable_or_mark(n));
                let keycap = is_variation_selector(c) && next == Some('\u{20E3}');
                if invisible && prev_word && next_word && !keycap {
                    match removed.last_mut() {
                        Some(f) if f.end == i => f.end = end,
                        _ => removed.push(Finding::new(EntityKind::InvisibleCharacter, i, end)),
                    }
                }
                continue;
            }
            if let Some(folded) = fold_simple(c) {
                push(&mut text, &mut origin, folded, i, end);
                continue;
            }
            let start_len = text.len();
            decompose_compatible(c, |d| push(&mut text, &mut origin, d, i, end));
            settle_decomposition(&mut text, &mut origin, start_len, c);
        }
        View {
            original,
            text: Cow::Owned(text),
            origin,
            removed,
        }
    }

    /// The normalised text detectors match on.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The original text.
    pub fn source(&self) -> &'a str {
        self.original
    }

    /// Whether the view differs from the original.
    pub fn is_folded(&self) -> bool {
        matches!(self.text, Cow::Owned(_))
    }

    /// The original byte range of view range `start..end`: from the first character it came
    /// from to the end of the last one (characters removed in between are inside).
    pub fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        if self.origin.is_empty() {
            return (start, end);
        }
        if start >= self.origin.len() {
            return (self.original.len(), self.original.len());
        }
        let last = end.clamp(start + 1, self.origin.len()) - 1;
        (self.origin[start].0 as usize, self.origin[last].1 as usize)
    }

    /// A finding on the view as a finding on the original.
    pub fn original(&self, f: Finding) -> Finding {
        let (start, end) = self.original_range(f.start, f.end);
        Finding { start, end, ..f }
    }

    /// Findings on the view mapped to the original.
    pub fn originals(&self, findings: Vec<Finding>) -> Vec<Finding> {
        if self.origin.is_empty() {
            return findings;
        }
        findings.into_iter().map(|f| self.original(f)).collect()
    }

    /// Invisible characters this pass removed from between visible ASCII characters
    /// (original offsets).
    pub fn removed_in_words(&self) -> &[Finding] {
        &self.removed
    }
}

/// The simple one-character folds (steps 4–6 of the module doc), or `None`.
fn fold_simple(c: char) -> Option<char> {
    if let Some(d) = digit_value(c) {
        return Some(char::from(b'0' + d));
    }
    Some(match c {
        '\u{2010}'..='\u{2015}'
        | '\u{2212}'
        | '\u{2043}'
        | '\u{FE58}'
        | '\u{FE63}'
        | '\u{FF0D}' => '-',
        '\u{00A0}'
        | '\u{1680}'
        | '\u{2000}'..='\u{200A}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{202F}'
        | '\u{205F}'
        | '\u{3000}' => ' ',
        _ => return lookalike(c),
    })
}

/// Settles the compatibility decomposition of `c` (pushed from `start_len` on): a result with
/// ASCII in it is kept without its combining marks (`ﬁ` → `fi`, `é` → `e`, `Ａ` → `A`); one
/// without ASCII (Hangul syllables into jamo, Greek with tonos) is put back as `c`.
fn settle_decomposition(
    text: &mut String,
    origin: &mut Vec<(u32, u32)>,
    start_len: usize,
    c: char,
) {
    let tail = &text[start_len..];
    if tail.chars().nth(1).is_none() {
        return;
    }
    let kept: String = if tail.bytes().any(|b| b.is_ascii()) {
        tail.chars().filter(|&ch| !is_combining_mark(ch)).collect()
    } else {
        c.to_string()
    };
    let range = origin[start_len];
    text.truncate(start_len);
    origin.truncate(start_len);
    text.push_str(&kept);
    origin.resize(text.len(), range);
}

/// The value of a decimal digit of any script (`Nd`), or `None`. Each script's digits are ten
/// consecutive code points; the table lists the zeros.
fn digit_value(c: char) -> Option<u8> {
    const ZEROS: [u32; 46] = [
        0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
        0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0,
        0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0,
        0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x116C0, 0x1D7CE,
        0x1E950, 0x1FBF0, 0x2070,
    ];
    let cp = c as u32;
    if cp < 0x0660 {
        return None;
    }
    // Superscript digits are scattered (¹²³ are in Latin-1); NFKC handles them.
    if (0x2070..=0x2079).contains(&cp) {
        return None;
    }
    for z in ZEROS {
        if (z..z + 10).contains(&cp) {
            return Some((cp - z) as u8);
        }
    }
    // Mathematical digits: five styles of ten from U+1D7CE.
    if (0x1D7CE..=0x1D7FF).contains(&cp) {
        return Some(((cp - 0x1D7CE) % 10) as u8);
    }
    None
}

/// The Latin letter a Cyrillic or Greek lookalike passes for (the same set the unicode step's
/// `HOMOGLYPH` rule knows).
fn lookalike(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' => 'a',
        'е' => 'e',
        'о' | 'ο' => 'o',
        'р' | 'ρ' => 'p',
        'с' | 'ϲ' => 'c',
        'у' | 'ү' => 'y',
        'х' | 'χ' => 'x',
        'і' | 'ι' => 'i',
        'ј' | 'ϳ' => 'j',
        'ѕ' => 's',
        'ԁ' => 'd',
        'һ' => 'h',
        'ӏ' => 'l',
        'ԛ' => 'q',
        'ԝ' => 'w',
        'к' | 'κ' => 'k',
        'ν' => 'v',
        'τ' => 't',
        'υ' => 'u',
        'А' | 'Α' => 'A',
        'В' | 'Β' => 'B',
        'Е' | 'Ε' => 'E',
        'Ζ' => 'Z',
        'К' | 'Κ' => 'K',
        'М' | 'Μ' => 'M',
        'Н' | 'Η' => 'H',
        'Һ' => 'H',
        'О' | 'Ο' => 'O',
        'Р' | 'Ρ' => 'P',
        'С' | 'Ϲ' => 'C',
        'Т' | 'Τ' => 'T',
        'Х' | 'Χ' => 'X',
        'І' | 'Ι' | 'Ӏ' => 'I',
        'Ј' => 'J',
        'Ѕ' => 'S',
        'Ү' | 'Υ' => 'Y',
        'Ԛ' => 'Q',
        'Ԝ' => 'W',
        'Ν' => 'N',
        _ => return None,
    })
}

/// Unicode's `Default_Ignorable_Code_Point` (DerivedCoreProperties.txt).
pub fn is_default_ignorable(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF0}'..='\u{FFF8}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0000}'..='\u{E0FFF}')
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

/// Combining marks of the general-purpose blocks (diacritics a font stacks on any letter).
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

fn is_ignorable_or_mark(c: char) -> bool {
    is_default_ignorable(c) || is_combining_mark(c)
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
