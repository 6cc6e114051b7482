//! The concept lexicon: words of six languages that mean the same thing to an attack share one
//! feature.
//!
//! The corpus is mostly English, and a linear model over words learns what it saw: it knows
//! that "ignore previous instructions" is an override, but not that "ignora le istruzioni
//! precedenti" or "negeer de vorige instructies" is the same sentence. The lexicon maps each
//! known word form to at most two *concepts* (`IGNORE`, `PREVIOUS`, `INSTRUCTION`, `PERSONA`,
//! `UNRESTRICTED` …), and every concept is one more feature of the word, shared across the
//! languages (`features.rs`): what English lines teach about `IGNORE`+`INSTRUCTION` then also
//! scores the Italian and the Dutch line. Concept *pairs* (a concept word and the concept word
//! before it, in either order, since word order differs between languages) carry the
//! combinations.
//!
//! The word lists (`lexicon/<lang>.txt`: `KEY form form …`, 65 concepts, about 14,000 forms)
//! were written from knowledge of each language, not from the corpora, so they do not leak the
//! test split. A form is read through the detectors' normalised view and hashed like a word of a
//! text (case and accents folded), so `précédentes`, `PRECEDENTES` and `precedentes` are one
//! entry. One table serves all languages, so a form that is a common word with another meaning
//! in another language would fire there: such forms are left out (English "die" is the German
//! and Dutch article, "je" French "I" but Dutch "you"; `scripts/lexicon_conflicts.py` lists the
//! candidates from the train split).
//!
//! Lookup is one probe of a small open-addressing table (32-bit keys, a few hundred KiB) per word.

use std::sync::LazyLock;

use thiserror::Error;

use super::features::{hash_word, mix};
use crate::detect::normalize::View;

/// The shipped word lists, English first.
pub const SOURCES: [(&str, &str); 6] = [
    ("en", include_str!("lexicon/en.txt")),
    ("de", include_str!("lexicon/de.txt")),
    ("fr", include_str!("lexicon/fr.txt")),
    ("es", include_str!("lexicon/es.txt")),
    ("it", include_str!("lexicon/it.txt")),
    ("nl", include_str!("lexicon/nl.txt")),
];

/// The shipped lexicon, parsed once.
pub static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    Lexicon::parse(&SOURCES).expect("the shipped lexicon is valid (a unit test parses it)")
});

/// Concepts one word may carry.
pub const PER_FORM: usize = 2;
/// The most concepts a lexicon may define (ids are one byte; 0 is "none").
const MAX_CONCEPTS: usize = 255;

#[derive(Debug, Error, PartialEq)]
pub enum LexiconError {
    #[error("lexicon {lang} line {line}: {what}")]
    Line {
        lang: &'static str,
        line: usize,
        what: String,
    },
    #[error("the lexicon defines more than {MAX_CONCEPTS} concepts")]
    TooManyConcepts,
}

#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    /// High half of the word's mixed hash, never 0 (0 marks an empty slot).
    key: u32,
    /// Concept ids + 1, 0 for none.
    concepts: [u8; PER_FORM],
}

/// Word hash → up to [`PER_FORM`] concepts.
#[derive(Debug, Clone)]
pub struct Lexicon {
    slots: Box<[Slot]>,
    /// Each concept's feature hash (from its key), by id.
    concepts: Vec<u64>,
    names: Vec<String>,
    forms: usize,
}

impl Lexicon {
    /// Parses word lists of `(lang, text)`; a form listed under more concepts than
    /// [`PER_FORM`] (across languages) keeps the first ones, in `sources` order.
    pub fn parse(sources: &[(&'static str, &str)]) -> Result<Lexicon, LexiconError> {
        let mut names: Vec<String> = Vec::new();
        let mut entries: Vec<(u64, u8)> = Vec::new();
        for &(lang, text) in sources {
            for (n, line) in text.lines().enumerate() {
                let err = |what: String| LexiconError::Line {
                    lang,
                    line: n + 1,
                    what,
                };
                let mut parts = line.split_whitespace();
                let Some(key) = parts.next() else { continue };
                if !key.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') {
                    return Err(err(format!("concept key {key:?} is not UPPER_CASE")));
                }
                let id = match names.iter().position(|k| k == key) {
                    Some(i) => i,
                    None => {
                        if names.len() == MAX_CONCEPTS {
                            return Err(LexiconError::TooManyConcepts);
                        }
                        names.push(key.to_string());
                        names.len() - 1
                    }
                };
                for form in parts {
                    let view = View::new(form);
                    let word = hash_word(view.text())
                        .ok_or_else(|| err(format!("{form:?} is not one word")))?;
                    entries.push((mix(word, 1), id as u8 + 1));
                }
            }
        }
        let slots = (entries.len() * 2).next_power_of_two().max(16);
        let mut lex = Lexicon {
            slots: vec![Slot::default(); slots].into_boxed_slice(),
            concepts: names.iter().map(|k| concept_hash(k)).collect(),
            names,
            forms: 0,
        };
        for (h, id) in entries {
            let i = lex.find(h);
            let slot = &mut lex.slots[i];
            if slot.key == 0 {
                slot.key = key(h);
                lex.forms += 1;
            }
            if !slot.concepts.contains(&id) {
                if let Some(free) = slot.concepts.iter_mut().find(|c| **c == 0) {
                    *free = id;
                }
            }
        }
        Ok(lex)
    }

    /// The concepts' feature hashes of the word whose mixed hash (`mix(word, 1)`) is `h`.
    #[inline]
    pub fn lookup(&self, h: u64) -> [Option<u64>; PER_FORM] {
        let slot = &self.slots[self.find(h)];
        slot.concepts
            .map(|c| (slot.key != 0 && c != 0).then(|| self.concepts[c as usize - 1]))
    }

    /// The names of a word's concepts (for tests and the lab).
    pub fn concepts_of(&self, word: &str) -> Vec<&str> {
        let view = View::new(word);
        let Some(h) = hash_word(view.text()) else {
            return Vec::new();
        };
        let slot = &self.slots[self.find(mix(h, 1))];
        slot.concepts
            .iter()
            .filter(|&&c| slot.key != 0 && c != 0)
            .map(|&c| self.names[c as usize - 1].as_str())
            .collect()
    }

    /// Distinct word forms.
    pub fn forms(&self) -> usize {
        self.forms
    }

    /// Concept keys, in order of first appearance.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The slot of `h`, or the empty slot where it would go (linear probing; the table is at
    /// most half full).
    #[inline]
    fn find(&self, h: u64) -> usize {
        let mask = self.slots.len() - 1;
        let k = key(h);
        let mut i = h as usize & mask;
        while self.slots[i].key != 0 && self.slots[i].key != k {
            i = (i + 1) & mask;
        }
        i
    }
}

fn key(h: u64) -> u32 {
    ((h >> 32) as u32).max(1)
}

/// A concept's feature hash: its key hashed like a word, so the same key in another build of
/// the lexicon is the same feature.
fn concept_hash(key: &str) -> u64 {
    mix(hash_word(key).unwrap_or(0), 5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_lexicon_carries_the_override_across_six_languages() {
        let lex = &*LEXICON;
        assert!(lex.forms() > 10_000, "{}", lex.forms());
        for w in [
            "ignore",
            "vergiss",
            "ignorez",
            "olvida",
            "dimentica",
            "negeer",
        ] {
            assert_eq!(lex.concepts_of(w), ["IGNORE"], "{w}");
        }
        for w in [
            "instructions",
            "Anweisungen",
            "consignes",
            "istruzioni",
            "instructies",
        ] {
            assert_eq!(lex.concepts_of(w)[0], "INSTRUCTION", "{w}");
        }
    }

    #[test]
    fn words_that_mean_something_else_in_another_language_are_left_out() {
        // English "die" is the German and Dutch article, "son" French and Spanish "are/his",
        // "te" Dutch "to", "je" French "I" but Dutch "you", "du" French "of the".
        for w in ["die", "son", "te", "si", "je", "du", "i"] {
            assert!(LEXICON.concepts_of(w).is_empty(), "{w}");
        }
    }

    #[test]
    fn forms_fold_case_and_accents() {
        let lex = Lexicon::parse(&[
            ("fr", "PREVIOUS précédentes\n"),
            ("it", "PREVIOUS precedenti\n"),
        ])
        .unwrap();
        for w in ["précédentes", "PRECEDENTES", "precedentes", "Precedenti"] {
            assert_eq!(lex.concepts_of(w), ["PREVIOUS"], "{w}");
        }
        assert!(lex.concepts_of("précédent").is_empty());
        assert_eq!(lex.forms(), 2);
    }

    #[test]
    fn a_word_keeps_at_most_two_concepts_and_no_duplicates() {
        let lex = Lexicon::parse(&[
            ("en", "A_ONE play\nB_TWO play\n"),
            ("nl", "A_ONE play\nC_THREE play\n"),
        ])
        .unwrap();
        assert_eq!(lex.concepts_of("play"), ["A_ONE", "B_TWO"]);
        assert_eq!(lex.names(), ["A_ONE", "B_TWO", "C_THREE"]);
    }

    #[test]
    fn bad_lines_name_the_language_and_line() {
        assert_eq!(
            Lexicon::parse(&[("de", "IGNORE vergiss\nignore x\n")]).unwrap_err(),
            LexiconError::Line {
                lang: "de",
                line: 2,
                what: "concept key \"ignore\" is not UPPER_CASE".into()
            }
        );
        assert!(matches!(
            Lexicon::parse(&[("en", "IGNORE set-aside\n")]),
            Err(LexiconError::Line { line: 1, .. })
        ));
    }

    #[test]
    fn unknown_words_have_no_concepts() {
        assert!(LEXICON.concepts_of("zebra").is_empty());
        assert_eq!(LEXICON.lookup(12345), [None, None]);
    }
}
