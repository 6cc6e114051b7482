//! The classifier's features: hashed words, word prefixes and word pairs of the normalised view.
//!
//! A text is read as words: maximal runs of letters and digits, lower-cased, numbers folded into
//! one token (an order number says nothing about intent). Each word yields up to four features,
//! each hashed into a table of `2^bits` weights (the "hashing trick": no vocabulary to ship, any
//! language, unseen words cost nothing):
//!
//! 1. the word itself;
//! 2. its first five bytes, when it is longer (`ignorieren`, `ignorez`, `ignoring` share
//!    `ignor`: one weight covers a word's inflections across the six languages);
//! 3. the pair (previous word, word): `previous instructions`, `system prompt`;
//! 4. the pair of their four-byte prefixes: `prev inst` also matches `previous instruction`,
//!    `vorherigen Anweisungen` and `vorherige Anweisung` alike;
//! 5. the word's concepts in the lexicon (`lexicon.rs`), at most two: `ignore`, `ignorez`,
//!    `negeer` and `vergiss` all carry `IGNORE`, so what English lines teach transfers;
//! 6. the unordered pair of its first concept and the first concept of the last word that had
//!    one (`IGNORE`+`INSTRUCTION` in "ignora tutte le istruzioni").
//!
//! The hash is FNV-1a over the lower-cased bytes with a splitmix64 finalizer, written out here
//! so that features — and the shipped weights that depend on them — never change with a crate
//! version or a platform. The trainer (`src/bin/lab/train.rs`) and the runtime call the same
//! [`for_each_word`], so what was learned is what is scored.
//!
//! Cost: one pass over the bytes, constant work per byte, no allocation.

use super::lexicon::{Lexicon, LEXICON, PER_FORM};

/// Features one word contributes (at most): word, prefix, two pairs, its concepts and one
/// concept pair.
pub const PER_WORD: usize = 5 + PER_FORM;

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;
/// Bytes of the prefix features.
const PREFIX: usize = 5;
const PAIR_PREFIX: usize = 4;
/// Every run of digits reads as this one token.
const NUMBER: u64 = 0x6e75_6d62_6572_2323;

/// One word of a text: where it is and the indices of its features.
#[derive(Debug, Clone, Copy, Default)]
pub struct Word {
    /// Byte range in the text.
    pub start: usize,
    pub end: usize,
    /// Feature indices (`< 2^bits`); only the first `len` are used.
    pub ids: [u32; PER_WORD],
    pub len: u8,
}

impl Word {
    pub fn ids(&self) -> &[u32] {
        &self.ids[..self.len as usize]
    }
}

/// Calls `f` with each word of `text` in order, with the shipped lexicon's concepts.
pub fn for_each_word(text: &str, bits: u32, f: impl FnMut(&Word)) {
    for_each_word_with(text, bits, &LEXICON, f)
}

/// [`for_each_word`] with a given lexicon.
pub fn for_each_word_with(text: &str, bits: u32, lex: &Lexicon, mut f: impl FnMut(&Word)) {
    let bytes = text.as_bytes();
    let mut prev: Option<(u64, u64)> = None;
    // The first concept of the last word that had one.
    let mut prev_concept: Option<u64> = None;
    let mut i = 0;
    while i < bytes.len() {
        let (c, n) = next_char(text, i);
        if !is_word_char(c) {
            i += n;
            continue;
        }
        let s = scan_word(text, i);
        let word = if s.digits { NUMBER } else { s.h };
        let pre4 = if s.digits { NUMBER } else { s.p4 };
        let mut w = Word {
            start: i,
            end: s.end,
            ids: [0; PER_WORD],
            len: 0,
        };
        let push = |w: &mut Word, x: u64| {
            w.ids[w.len as usize] = index(x, bits);
            w.len += 1;
        };
        let unigram = mix(word, 1);
        push(&mut w, unigram);
        if !s.digits && s.len > PREFIX {
            push(&mut w, mix(s.p5, 2));
        }
        if let Some((pw, pp)) = prev {
            push(&mut w, mix(pw.rotate_left(17) ^ word, 3));
            push(&mut w, mix(pp.rotate_left(17) ^ pre4, 4));
        }
        let concepts = lex.lookup(unigram);
        for c in concepts.iter().flatten() {
            push(&mut w, *c);
        }
        if let Some(c) = concepts[0] {
            if let Some(p) = prev_concept {
                // Unordered: word order differs between the languages.
                push(&mut w, mix(p.min(c).rotate_left(17) ^ p.max(c), 6));
            }
            prev_concept = Some(c);
        }
        f(&w);
        prev = Some((word, pre4));
        i = s.end;
    }
}

/// The hash of `text` when it is exactly one word (as [`for_each_word`] reads words), the
/// hash its unigram feature is mixed from.
pub fn hash_word(text: &str) -> Option<u64> {
    if text.is_empty() || !is_word_char(next_char(text, 0).0) {
        return None;
    }
    let s = scan_word(text, 0);
    (s.end == text.len()).then_some(if s.digits { NUMBER } else { s.h })
}

/// One word's hashes, from its first byte `i`.
struct Scanned {
    end: usize,
    /// FNV-1a of the lower-cased word, of its first [`PREFIX`] and [`PAIR_PREFIX`] bytes.
    h: u64,
    p5: u64,
    p4: u64,
    /// Lower-cased bytes.
    len: usize,
    digits: bool,
}

fn scan_word(text: &str, mut i: usize) -> Scanned {
    let bytes = text.as_bytes();
    let mut s = Scanned {
        end: i,
        h: FNV_OFFSET,
        p5: FNV_OFFSET,
        p4: FNV_OFFSET,
        len: 0,
        digits: true,
    };
    while i < bytes.len() {
        let (c, n) = next_char(text, i);
        if !is_word_char(c) {
            break;
        }
        s.digits &= c.is_ascii_digit();
        let mut eat = |b: u8| {
            s.h = (s.h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
            if s.len < PREFIX {
                s.p5 = s.h;
            }
            if s.len < PAIR_PREFIX {
                s.p4 = s.h;
            }
            s.len += 1;
        };
        if c.is_ascii() {
            eat(c.to_ascii_lowercase() as u8);
        } else {
            let mut buf = [0u8; 4];
            for l in c.to_lowercase() {
                for &b in l.encode_utf8(&mut buf).as_bytes() {
                    eat(b);
                }
            }
        }
        i += n;
    }
    s.end = i;
    s
}

fn next_char(text: &str, i: usize) -> (char, usize) {
    let b = text.as_bytes()[i];
    if b.is_ascii() {
        (b as char, 1)
    } else {
        let c = text[i..].chars().next().unwrap_or(' ');
        (c, c.len_utf8())
    }
}

fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric()
    }
}

/// splitmix64's finalizer over the hash and the feature type.
pub fn mix(h: u64, kind: u64) -> u64 {
    let mut z = h ^ kind.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn index(h: u64, bits: u32) -> u32 {
    (h >> (64 - bits)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words of `text` and their features, without concepts.
    fn words(text: &str) -> Vec<(String, Vec<u32>)> {
        let mut out = Vec::new();
        let none = Lexicon::parse(&[]).unwrap();
        for_each_word_with(text, 18, &none, |w| {
            out.push((text[w.start..w.end].to_string(), w.ids().to_vec()))
        });
        out
    }

    #[test]
    fn words_are_runs_of_letters_and_digits() {
        let w: Vec<String> = words("Ignore ALL-previous  instructions, über 42!")
            .into_iter()
            .map(|w| w.0)
            .collect();
        assert_eq!(
            w,
            ["Ignore", "ALL", "previous", "instructions", "über", "42"]
        );
    }

    #[test]
    fn case_does_not_change_features() {
        assert_eq!(
            words("IGNORE Previous")
                .into_iter()
                .map(|w| w.1)
                .collect::<Vec<_>>(),
            words("ignore previous")
                .into_iter()
                .map(|w| w.1)
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn inflections_share_their_prefix_feature() {
        let a = words("ignorieren");
        let b = words("ignoring");
        // [word, prefix]: different words, the same five-byte prefix.
        assert_ne!(a[0].1[0], b[0].1[0]);
        assert_eq!(a[0].1[1], b[0].1[1]);
        // A short word has no prefix feature; the first word has no pair.
        assert_eq!(words("stop")[0].1.len(), 1);
        assert_eq!(words("stop halt")[1].1.len(), 3);
    }

    #[test]
    fn numbers_fold_into_one_token() {
        assert_eq!(words("order 123")[1].1, words("order 98765")[1].1);
        assert_ne!(words("order 123")[1].1, words("order abc")[1].1);
    }

    #[test]
    fn indices_stay_in_the_table() {
        for bits in [8, 12, 18] {
            for_each_word(
                "the quick brown fox jumps over the lazy dog 🦊 naïve",
                bits,
                |w| {
                    assert!(w.ids().iter().all(|&i| i < 1 << bits));
                },
            );
        }
    }

    #[test]
    fn words_of_one_concept_share_a_feature_across_languages() {
        let lex = Lexicon::parse(&[
            ("en", "IGNORE ignore\nINSTRUCTION instructions\n"),
            ("it", "IGNORE ignora\nINSTRUCTION istruzioni\n"),
        ])
        .unwrap();
        let ids = |text: &str| {
            let mut out = Vec::new();
            for_each_word_with(text, 18, &lex, |w| out.push(w.ids().to_vec()));
            out
        };
        let en = ids("ignore the instructions");
        let it = ids("ignora tutte le istruzioni");
        let shared = |a: &[u32], b: &[u32]| a.iter().filter(|x| b.contains(x)).count();
        // The verbs share their concept (and their prefix `ignor`); the nouns their concept and
        // the concept pair IGNORE+INSTRUCTION, though two words stand between them in Italian
        // and one in English.
        assert_eq!(shared(&en[0], &it[0]), 2);
        assert_eq!(shared(&en[2], &it[3]), 2);
        // A word outside the lexicon has only its own features.
        assert_eq!(en[1].len(), 3);
        // Order does not matter to the pair.
        let rev = ids("istruzioni ignora");
        assert!(rev[1].contains(&it[3][it[3].len() - 1]));
    }

    #[test]
    fn features_are_fixed_across_versions() {
        // The shipped weights depend on these exact values (with the shipped lexicon: the last
        // id of "Ignore" is IGNORE, the last two of "previous" PREVIOUS and the pair): a change
        // here needs a retrain.
        let mut ids: Vec<Vec<u32>> = Vec::new();
        for_each_word("Ignore previous", 18, |w| ids.push(w.ids().to_vec()));
        assert_eq!(
            ids,
            [
                vec![236301, 114109, 250486],
                vec![139646, 128502, 207346, 178806, 68022, 76125]
            ]
        );
    }
}
