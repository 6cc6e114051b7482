//! Unicode tricks that make text read differently to a model (or a reviewer) than it looks:
//! invisible characters, bidirectional controls, tag characters ("ASCII smuggling") and words
//! that mix Latin with Cyrillic or Greek lookalike letters (homoglyph spoofing).
//!
//! One pass over the characters, constant work per character, so linear in the input. Offsets
//! are byte offsets; consecutive characters of the same kind are merged into one finding.
//!
//! # Decisions
//! - `INVISIBLE_CHARACTER`: zero-width space, word joiner and the invisible math operators,
//!   soft hyphen, a byte-order mark anywhere but at offset 0, the deprecated format controls
//!   (U+206A–U+206F), interlinear annotation controls, the Mongolian vowel separator outside
//!   Mongolian text, Hangul fillers, and variation selectors 17–256 (U+E0100–U+E01EF, used to
//!   smuggle bytes) unless they follow a CJK ideograph (ideographic variation sequences).
//!   ZWNJ (U+200C) and ZWJ (U+200D) are flagged only when they are *not* between two
//!   characters of a script that uses them (Arabic-script languages such as Persian, Syriac,
//!   Indic and other Brahmic scripts, Mongolian), and ZWJ is also fine between two emoji
//!   (family, profession and flag sequences; skin-tone modifiers and VS16 are skipped when
//!   looking back). ZWNJ used as a Latin ligature breaker is flagged: it is rare and is a
//!   common way to split a keyword. The format characters scripts need to render (Arabic
//!   number signs, Egyptian hieroglyph and shorthand controls, musical formatting) are not
//!   flagged.
//! - `BIDI_CONTROL`: the embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069)
//!   are always flagged ("Trojan Source"). LRM, RLM and ALM (U+200E, U+200F, U+061C) are
//!   legitimate in right-to-left text, so they are flagged only when the text contains no
//!   right-to-left script at all.
//! - `TAG_CHARACTER`: any run of U+E0000–U+E007F is one finding, except a well-formed emoji
//!   tag sequence (U+1F3F4 WAVING BLACK FLAG, tag letters or digits, CANCEL TAG), which is how
//!   the flags of England, Scotland and Wales are written.
//! - `HOMOGLYPH`: a word (a run of letters, digits, marks and `_`) containing at least one
//!   Latin letter and at least one Cyrillic or Greek letter that passes for a Latin one (see
//!   `is_lookalike`). A word in one script is fine, and so is one that mixes Latin with a Greek
//!   letter that does not pass for a Latin one (`μm`, `Δx`). Lower-case Greek lookalikes count
//!   only next to lower-case Latin letters (`gοogle`): on an upper-case name they are
//!   scientific notation (`TNFα`, `NF-κB`, `Hα`).
use super::Finding;
use crate::detect::EntityKind;

/// Every kind this module reports.
pub const KINDS: [EntityKind; 4] = [
    EntityKind::InvisibleCharacter,
    EntityKind::BidiControl,
    EntityKind::TagCharacter,
    EntityKind::Homoglyph,
];

const ZWNJ: char = '\u{200C}';
const ZWJ: char = '\u{200D}';

/// The rules above plus what the normalised view removed from inside ASCII words (CGJ and
/// variation selectors in `123\u{34F}-45`, `4111\u{FE0F}1111`), one finding per run.
pub fn detect_unicode(text: &str) -> Vec<Finding> {
    if text.is_ascii() {
        return Vec::new();
    }
    let mut out = rules(text);
    let view = super::normalize::View::new(text);
    for f in view.removed_in_words() {
        if !out.iter().any(|o| o.start < f.end && f.start < o.end) {
            out.push(f.clone());
        }
    }
    out.sort_by_key(|f| (f.start, f.end));
    out
}

fn rules(text: &str) -> Vec<Finding> {
    let has_rtl = text.chars().any(is_rtl);
    let mut out: Vec<Finding> = Vec::new();
    let mut word = Word::default();
    // Open tag run: (start, end, well-formed-so-far as a flag tag sequence).
    let mut tag_run: Option<TagRun> = None;
    // The character before the current one, and the last one that was not an emoji modifier
    // or variation selector (the base an emoji ZWJ joins to).
    let mut prev: Option<char> = None;
    let mut prev_emoji_base: Option<char> = None;

    let mut iter = text.char_indices().peekable();
    while let Some((i, c)) = iter.next() {
        let end = i + c.len_utf8();
        let next = iter.peek().map(|&(_, n)| n);

        if is_tag(c) {
            let run = tag_run.get_or_insert(TagRun {
                start: i,
                end: i,
                after_flag: prev == Some('\u{1F3F4}'),
                len: 0,
                cancelled: false,
            });
            run.end = end;
            run.len += 1;
            if run.cancelled || !(is_tag_alnum(c) || c == '\u{E007F}') {
                run.after_flag = false;
            }
            if c == '\u{E007F}' {
                run.cancelled = true;
            }
        } else if let Some(run) = tag_run.take() {
            run.finish(&mut out);
        }

        if is_word_char(c) {
            word.push(i, end, c);
        } else {
            word.finish(&mut out);
        }

        let kind = match c {
            '\u{E0000}'..='\u{E007F}' => None, // handled as a run above
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' => Some(EntityKind::BidiControl),
            '\u{200E}' | '\u{200F}' | '\u{061C}' => (!has_rtl).then_some(EntityKind::BidiControl),
            ZWNJ => (!(prev.is_some_and(is_joining_script) && next.is_some_and(is_joining_script)))
                .then_some(EntityKind::InvisibleCharacter),
            ZWJ => {
                let script_ok =
                    prev.is_some_and(is_joining_script) && next.is_some_and(is_joining_script);
                let emoji_ok = prev_emoji_base.is_some_and(is_pictographic)
                    && prev != Some(ZWJ)
                    && next.is_some_and(is_pictographic);
                (!(script_ok || emoji_ok)).then_some(EntityKind::InvisibleCharacter)
            }
            '\u{FEFF}' => (i != 0).then_some(EntityKind::InvisibleCharacter),
            '\u{180E}' => {
                (!prev.is_some_and(is_mongolian)).then_some(EntityKind::InvisibleCharacter)
            }
            '\u{E0100}'..='\u{E01EF}' => (!prev_emoji_base.is_some_and(is_cjk_ideograph))
                .then_some(EntityKind::InvisibleCharacter),
            '\u{00AD}'
            | '\u{200B}'
            | '\u{2060}'..='\u{2064}'
            | '\u{206A}'..='\u{206F}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{3164}'
            | '\u{FFA0}' => Some(EntityKind::InvisibleCharacter),
            _ => None,
        };
        if let Some(kind) = kind {
            push_merged(&mut out, Finding::new(kind, i, end));
        }

        prev = Some(c);
        if !is_emoji_modifier_or_selector(c) {
            prev_emoji_base = Some(c);
        }
    }
    if let Some(run) = tag_run.take() {
        run.finish(&mut out);
    }
    word.finish(&mut out);
    out.sort_by_key(|f| (f.start, f.end));
    out
}

/// Appends `f`, extending the last finding instead when it has the same kind and ends where
/// `f` starts.
fn push_merged(out: &mut Vec<Finding>, f: Finding) {
    if let Some(last) = out.last_mut() {
        if last.kind == f.kind && last.end == f.start {
            last.end = f.end;
            return;
        }
    }
    out.push(f);
}

struct TagRun {
    start: usize,
    end: usize,
    /// Started right after U+1F3F4 and so far only tag letters/digits, then one CANCEL TAG.
    after_flag: bool,
    len: usize,
    cancelled: bool,
}

impl TagRun {
    fn finish(self, out: &mut Vec<Finding>) {
        // Subdivision flags: 🏴 + 2..=7 tag letters/digits + CANCEL TAG (e.g. gbeng).
        let flag_sequence = self.after_flag && self.cancelled && (3..=8).contains(&self.len);
        if !flag_sequence {
            out.push(Finding::new(EntityKind::TagCharacter, self.start, self.end));
        }
    }
}

#[derive(Default)]
struct Word {
    start: Option<usize>,
    end: usize,
    latin: bool,
    latin_lower: bool,
    /// A Cyrillic lookalike, or an upper-case Greek one.
    lookalike: bool,
    /// A lower-case Greek lookalike (`α`, `κ`, `ο` …).
    greek_lower: bool,
}

impl Word {
    fn push(&mut self, start: usize, end: usize, c: char) {
        if self.start.is_none() {
            self.start = Some(start);
        }
        self.end = end;
        if is_latin_letter(c) {
            self.latin = true;
            self.latin_lower |= c.is_lowercase();
        } else if is_lookalike(c) {
            if is_greek(c) && c.is_lowercase() {
                self.greek_lower = true;
            } else {
                self.lookalike = true;
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<Finding>) {
        if let Some(start) = self.start {
            // A lower-case Greek letter on an upper-case Latin name is scientific notation
            // ("TNFα", "NF-κB", "Hα"); next to lower-case Latin letters it is a spoof ("gοogle").
            if self.latin && (self.lookalike || (self.greek_lower && self.latin_lower)) {
                out.push(Finding::new(EntityKind::Homoglyph, start, self.end));
            }
        }
        *self = Word::default();
    }
}

fn is_tag(c: char) -> bool {
    ('\u{E0000}'..='\u{E007F}').contains(&c)
}

fn is_tag_alnum(c: char) -> bool {
    matches!(c, '\u{E0030}'..='\u{E0039}' | '\u{E0061}'..='\u{E007A}')
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || is_combining_mark(c)
}

fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

fn is_latin_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || matches!(c,
            '\u{00AA}' | '\u{00BA}'
            | '\u{00C0}'..='\u{00D6}'
            | '\u{00D8}'..='\u{00F6}'
            | '\u{00F8}'..='\u{024F}'
            | '\u{0250}'..='\u{02AF}'
            | '\u{1E00}'..='\u{1EFF}'
            | '\u{2C60}'..='\u{2C7F}'
            | '\u{A720}'..='\u{A7FF}'
            | '\u{AB30}'..='\u{AB6F}'
            | '\u{FF21}'..='\u{FF3A}'
            | '\u{FF41}'..='\u{FF5A}')
}

/// Cyrillic and Greek letters that pass for Latin ones in common fonts.
fn is_lookalike(c: char) -> bool {
    matches!(
        c,
        // Cyrillic lower case: а е о р с у х і ј ѕ ԁ һ ӏ ԛ ԝ ү к ь
        'а' | 'е' | 'о' | 'р' | 'с' | 'у' | 'х' | 'і' | 'ј' | 'ѕ' | 'ԁ' | 'һ' | 'ӏ' | 'ԛ' | 'ԝ'
        | 'ү' | 'к'
        // Cyrillic upper case
        | 'А' | 'В' | 'Е' | 'К' | 'М' | 'Н' | 'О' | 'Р' | 'С' | 'Т' | 'Х' | 'І' | 'Ј' | 'Ѕ'
        | 'Ү' | 'Һ' | 'Ӏ' | 'Ԛ' | 'Ԝ'
        // Greek lower case: ο α ι κ ν ρ τ υ χ ϲ ϳ
        | 'ο' | 'α' | 'ι' | 'κ' | 'ν' | 'ρ' | 'τ' | 'υ' | 'χ' | 'ϲ' | 'ϳ'
        // Greek upper case
        | 'Α' | 'Β' | 'Ε' | 'Ζ' | 'Η' | 'Ι' | 'Κ' | 'Μ' | 'Ν' | 'Ο' | 'Ρ' | 'Τ' | 'Υ' | 'Χ'
        | 'Ϲ'
    )
}

/// A right-to-left letter (the Arabic letter mark U+061C is a control, not a letter).
fn is_greek(c: char) -> bool {
    matches!(c, '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}')
}

fn is_rtl(c: char) -> bool {
    c != '\u{061C}'
        && matches!(c,
        '\u{0590}'..='\u{08FF}'   // Hebrew, Arabic, Syriac, Arabic Supplement, Thaana, NKo,
                                  // Samaritan, Mandaic, Arabic Extended
        | '\u{FB1D}'..='\u{FDFF}' // Hebrew and Arabic presentation forms A
        | '\u{FE70}'..='\u{FEFE}' // Arabic presentation forms B
        | '\u{10800}'..='\u{10FFF}' // historic RTL scripts (Phoenician, Old South Arabian ...)
        | '\u{1E800}'..='\u{1EFFF}') // Mende Kikakui, Adlam, Arabic mathematical symbols
}

/// Scripts whose orthography uses ZWNJ/ZWJ between letters: Arabic-script languages (Persian,
/// Urdu, Kurdish ...), Syriac, NKo, the Indic and other Brahmic scripts, Tibetan, Myanmar,
/// Khmer, Mongolian.
fn is_joining_script(c: char) -> bool {
    matches!(c,
        '\u{0600}'..='\u{07FF}'   // Arabic, Syriac, Arabic Supplement, Thaana, NKo
        | '\u{0860}'..='\u{08FF}' // Syriac Supplement, Arabic Extended
        | '\u{0900}'..='\u{0DFF}' // Devanagari .. Sinhala
        | '\u{0F00}'..='\u{109F}' // Tibetan, Myanmar
        | '\u{1780}'..='\u{18AF}' // Khmer, Mongolian
        | '\u{1CD0}'..='\u{1CFF}' // Vedic extensions
        | '\u{A830}'..='\u{A83F}' // common Indic number forms
        | '\u{A8E0}'..='\u{A8FF}' // Devanagari extended
        | '\u{A9E0}'..='\u{A9FF}' // Myanmar extended B
        | '\u{AA60}'..='\u{AA7F}' // Myanmar extended A
        | '\u{FB50}'..='\u{FDFF}' // Arabic presentation forms A
        | '\u{FE70}'..='\u{FEFE}' // Arabic presentation forms B
        | '\u{11000}'..='\u{111FF}') // Brahmi, Kaithi, Sora Sompeng, Chakma, Mahajani, Sharada
}

fn is_mongolian(c: char) -> bool {
    ('\u{1800}'..='\u{18AF}').contains(&c)
}

fn is_cjk_ideograph(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}'
        | '\u{4E00}'..='\u{9FFF}'
        | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3FFFF}')
}

fn is_emoji_modifier_or_selector(c: char) -> bool {
    matches!(
        c,
        '\u{FE0E}' | '\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{20E3}'
    )
}

/// `\p{Extended_Pictographic}`; only asked about the neighbours of a ZWJ.
fn is_pictographic(c: char) -> bool {
    use std::sync::LazyLock;
    static RE: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"^\p{Extended_Pictographic}$").expect("valid regex"));
    !c.is_ascii() && RE.is_match(c.encode_utf8(&mut [0; 4]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(EntityKind, &str)> {
        detect_unicode(text)
            .into_iter()
            .map(|f| (f.kind, &text[f.start..f.end]))
            .collect()
    }

    #[test]
    fn plain_text_is_clean() {
        assert!(detect_unicode("").is_empty());
        assert!(detect_unicode("Hello, world! Nothing to see here.").is_empty());
        assert!(detect_unicode("Crème brûlée, façade, naïve, Ångström, Dvořák, Łódź").is_empty());
        assert!(detect_unicode("日本語のテキストと中文文本").is_empty());
    }

    #[test]
    fn zero_width_space_word_joiner_soft_hyphen() {
        assert_eq!(
            kinds("pass\u{200B}word"),
            vec![(EntityKind::InvisibleCharacter, "\u{200B}")]
        );
        assert_eq!(
            kinds("a\u{2060}b"),
            vec![(EntityKind::InvisibleCharacter, "\u{2060}")]
        );
        assert_eq!(
            kinds("in\u{00AD}visible"),
            vec![(EntityKind::InvisibleCharacter, "\u{00AD}")]
        );
        assert_eq!(
            kinds("x\u{2062}y"),
            vec![(EntityKind::InvisibleCharacter, "\u{2062}")]
        );
        assert_eq!(
            kinds("x\u{206B}y"),
            vec![(EntityKind::InvisibleCharacter, "\u{206B}")]
        );
        assert_eq!(
            kinds("name\u{3164}"),
            vec![(EntityKind::InvisibleCharacter, "\u{3164}")]
        );
    }

    #[test]
    fn consecutive_invisibles_merge() {
        let t = "a\u{200B}\u{200B}\u{2060}b";
        let f = detect_unicode(t);
        assert_eq!(
            f,
            vec![Finding::new(EntityKind::InvisibleCharacter, 1, 1 + 9)]
        );
        // Separated by a visible character: two findings.
        assert_eq!(detect_unicode("a\u{200B}b\u{200B}c").len(), 2);
    }

    #[test]
    fn bom_only_allowed_at_start() {
        assert!(detect_unicode("\u{FEFF}hello").is_empty());
        assert_eq!(
            kinds("hel\u{FEFF}lo"),
            vec![(EntityKind::InvisibleCharacter, "\u{FEFF}")]
        );
    }

    #[test]
    fn zwj_in_emoji_sequences_is_fine() {
        for t in [
            "family: 👨\u{200D}👩\u{200D}👧\u{200D}👦",
            "coder 👩🏽\u{200D}💻 at work",
            "rainbow flag 🏳\u{FE0F}\u{200D}🌈",
            "heart on fire ❤\u{FE0F}\u{200D}🔥",
            "health worker 🧑\u{200D}⚕\u{FE0F}",
        ] {
            assert!(
                detect_unicode(t).is_empty(),
                "{t:?}: {:?}",
                detect_unicode(t)
            );
        }
    }

    #[test]
    fn zwj_outside_emoji_or_joining_scripts_is_flagged() {
        assert_eq!(
            kinds("ad\u{200D}min"),
            vec![(EntityKind::InvisibleCharacter, "\u{200D}")]
        );
        assert_eq!(
            kinds("👩\u{200D}"),
            vec![(EntityKind::InvisibleCharacter, "\u{200D}")]
        );
        assert_eq!(
            kinds("\u{200D}👩"),
            vec![(EntityKind::InvisibleCharacter, "\u{200D}")]
        );
        // A doubled ZWJ between emoji: the second one joins nothing.
        assert_eq!(
            kinds("👩\u{200D}\u{200D}💻"),
            vec![(EntityKind::InvisibleCharacter, "\u{200D}\u{200D}")]
        );
    }

    #[test]
    fn zwnj_in_persian_and_indic_is_fine() {
        for t in [
            "می\u{200C}خواهم به خانه بروم",
            "کتاب\u{200C}ها روی میز هستند",
            "क्\u{200D}ष",
            "ന്\u{200D}മ",
            "हिन्\u{200C}दी",
        ] {
            assert!(
                detect_unicode(t).is_empty(),
                "{t:?}: {:?}",
                detect_unicode(t)
            );
        }
    }

    #[test]
    fn zwnj_in_latin_is_flagged() {
        assert_eq!(
            kinds("ig\u{200C}nore"),
            vec![(EntityKind::InvisibleCharacter, "\u{200C}")]
        );
        assert_eq!(
            kinds("\u{200C}"),
            vec![(EntityKind::InvisibleCharacter, "\u{200C}")]
        );
        // Between a Persian letter and a Latin one: not an orthographic use.
        assert_eq!(
            kinds("ی\u{200C}a"),
            vec![(EntityKind::InvisibleCharacter, "\u{200C}")]
        );
    }

    #[test]
    fn bidi_overrides_and_isolates_always_flagged() {
        assert_eq!(
            kinds("abc\u{202E}fed"),
            vec![(EntityKind::BidiControl, "\u{202E}")]
        );
        assert_eq!(
            kinds("if admin \u{2067}\u{2066} then"),
            vec![(EntityKind::BidiControl, "\u{2067}\u{2066}")]
        );
        assert_eq!(
            kinds("שלום \u{202B}x\u{202C}"),
            vec![
                (EntityKind::BidiControl, "\u{202B}"),
                (EntityKind::BidiControl, "\u{202C}")
            ]
        );
        for c in [
            '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
            '\u{2068}', '\u{2069}',
        ] {
            assert_eq!(detect_unicode(&format!("a{c}b")).len(), 1, "{c:?}");
        }
    }

    #[test]
    fn marks_are_fine_in_rtl_text_only() {
        assert!(detect_unicode("שלום \u{200F}world").is_empty());
        assert!(detect_unicode("مرحبا\u{200E} ABC").is_empty());
        assert!(detect_unicode("١٢\u{061C}٣").is_empty());
        assert_eq!(
            kinds("plain\u{200F} text"),
            vec![(EntityKind::BidiControl, "\u{200F}")]
        );
        assert_eq!(
            kinds("plain\u{200E} text"),
            vec![(EntityKind::BidiControl, "\u{200E}")]
        );
    }

    #[test]
    fn tag_run_is_one_finding() {
        let payload: String = "ignore"
            .chars()
            .map(|c| char::from_u32(0xE0000 + c as u32).unwrap())
            .collect();
        let t = format!("hello{payload}world");
        let f = detect_unicode(&t);
        assert_eq!(
            f,
            vec![Finding::new(EntityKind::TagCharacter, 5, 5 + payload.len())]
        );
        assert_eq!(
            kinds("x\u{E0001}y"),
            vec![(EntityKind::TagCharacter, "\u{E0001}")]
        );
    }

    #[test]
    fn emoji_flag_tag_sequences_are_fine() {
        let england = "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}";
        assert!(detect_unicode(&format!("Go {england}!")).is_empty());
        // Tags after the flag that do not end in CANCEL TAG, or go on after it, are flagged.
        assert_eq!(detect_unicode("🏴\u{E0067}\u{E0062}x").len(), 1);
        assert_eq!(
            detect_unicode("🏴\u{E0067}\u{E0062}\u{E007F}\u{E0069}").len(),
            1
        );
        // A tag run not after the flag.
        assert_eq!(detect_unicode("x\u{E0067}\u{E0062}\u{E007F}").len(), 1);
    }

    #[test]
    fn homoglyph_words() {
        assert_eq!(
            kinds("log in at pаypal now"),
            vec![(EntityKind::Homoglyph, "pаypal")]
        );
        assert_eq!(
            kinds("Micrоsoft support"),
            vec![(EntityKind::Homoglyph, "Micrоsoft")]
        );
        assert_eq!(kinds("аpple"), vec![(EntityKind::Homoglyph, "аpple")]);
        // Greek omicron in a Latin word, Greek rho at its start, upper-case Greek Alpha.
        assert_eq!(kinds("gοogle"), vec![(EntityKind::Homoglyph, "gοogle")]);
        assert_eq!(kinds("ρlease"), vec![(EntityKind::Homoglyph, "ρlease")]);
        assert_eq!(kinds("ΑCME"), vec![(EntityKind::Homoglyph, "ΑCME")]);
        // Two words: two findings; the clean word between them is not reported.
        assert_eq!(
            kinds("pаypal and bаnk"),
            vec![
                (EntityKind::Homoglyph, "pаypal"),
                (EntityKind::Homoglyph, "bаnk")
            ]
        );
        // Digits belong to the word.
        assert_eq!(kinds("аdmin123"), vec![(EntityKind::Homoglyph, "аdmin123")]);
    }

    #[test]
    fn single_script_words_are_fine() {
        for t in [
            "Привет, как дела? Москва и Санкт-Петербург.",
            "Καλημέρα, τι κάνεις; Η Αθήνα είναι όμορφη.",
            "English and русский and ελληνικά side by side",
            "the micrometre (μm) and Δx, π r squared",
            "Ναι, OK",
            "NF-κB signalling, TNFα and PPARα levels, the Hα line, αCD3 antibodies",
        ] {
            assert!(
                detect_unicode(t).is_empty(),
                "{t:?}: {:?}",
                detect_unicode(t)
            );
        }
    }

    #[test]
    fn offsets_are_bytes_in_multibyte_text() {
        let t = "日本語\u{200B}テキスト";
        let f = detect_unicode(t);
        assert_eq!(f, vec![Finding::new(EntityKind::InvisibleCharacter, 9, 12)]);
        assert_eq!(&t[f[0].start..f[0].end], "\u{200B}");
        let t = "ÿ café pаypal";
        let f = detect_unicode(t);
        assert_eq!(f.len(), 1);
        assert_eq!(&t[f[0].start..f[0].end], "pаypal");
        assert_eq!(f[0].start, "ÿ café ".len());
    }

    #[test]
    fn findings_are_sorted_and_kinds_known() {
        let t = "x\u{202E}y pаypal \u{200B} \u{E0041}";
        let f = detect_unicode(t);
        assert!(f.windows(2).all(|w| w[0].start <= w[1].start));
        assert!(f.iter().all(|f| KINDS.contains(&f.kind)));
        assert_eq!(f.len(), 4);
    }

    #[test]
    fn variation_selectors_supplement() {
        assert_eq!(
            kinds("hi\u{E0100}\u{E0101}"),
            vec![(EntityKind::InvisibleCharacter, "\u{E0100}\u{E0101}")]
        );
        assert!(detect_unicode("葛\u{E0100}城市").is_empty());
        // VS16 on an emoji is ordinary.
        assert!(detect_unicode("☺\u{FE0F}").is_empty());
    }

    #[test]
    fn five_megabytes_run() {
        let chunk = "Ordinary text with café, 👨\u{200D}👩\u{200D}👧, pаypal\u{200B} and مرحبا.\n";
        let big = chunk.repeat(5 * 1024 * 1024 / chunk.len() + 1);
        let f = detect_unicode(&big);
        assert!(f.len() >= 2 * (big.len() / chunk.len()));
    }
}
