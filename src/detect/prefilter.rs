//! Where each rule of a set of regex rules can start to match, found in one pass of literal
//! search.
//!
//! Running a large alternation of rules over every byte is the slow part of a rule engine
//! (the lazy DFA of 80 complex patterns misses its cache constantly), and so is asking a
//! `RegexSet` of all of them "which rules match here". Almost every rule can only start with
//! one of a finite set of literals — `ignore`, `disregard`, `you are now`, `<|im_start|>` —
//! which `regex-syntax` extracts from the pattern itself. Cut to at most [`LITERAL_BYTES`]
//! bytes and made prefix-free, they form one Aho-Corasick automaton whose every match says
//! where to try which rules. The extraction is sound by construction (every match of a rule
//! starts with one of its prefixes), so this is an exact optimisation, not a heuristic: the
//! same matches are found.
//!
//! Two kinds of rule do not fit and are handled apart:
//! - rules anchored at a line start (`(?m)^…` in every alternative): tried at line starts;
//! - rules whose prefixes are too short to be selective (a rule starting with `[a-z]*`): each
//!   is searched on its own, which lets the `regex` crate use that one pattern's inner
//!   literals.

use aho_corasick::automaton::Automaton;
use aho_corasick::{dfa::DFA, Anchored, MatchKind};
use regex::Regex;
use regex_syntax::hir::literal::{ExtractKind, Extractor};

/// Literals are cut to this length: long enough to be selective, short enough that the set
/// stays small.
const LITERAL_BYTES: usize = 8;
/// A rule with a prefix shorter than this is searched on its own.
const MIN_SELECTIVE: usize = 2;
/// Rules per set: the bit mask of a candidate.
pub const MAX_RULES: usize = 128;

/// Which rules to try at a position: bit `i` is rule `i`.
pub type Rules = u128;

pub struct Prefilter {
    /// A full DFA over the literals, run by hand in [`Prefilter::candidates`]: through the
    /// concrete type its transitions inline (the `AhoCorasick` wrapper's overlapping search
    /// makes a dynamic call per byte, which cost more than the rules it saved).
    literals: Option<DFA>,
    /// The rules of each literal (by pattern id).
    literal_rules: Vec<Rules>,
    /// Rules anchored at a line start.
    line_start_rules: Rules,
    /// Rules searched on their own (unanchored), with their index.
    wide: Vec<(usize, Regex)>,
}

impl Prefilter {
    /// `patterns`: the rules, in the order their indices refer to.
    pub fn new<S: AsRef<str>>(patterns: &[S]) -> Prefilter {
        Prefilter::build(patterns, Rules::MAX, None)
    }

    /// A prefilter that reads a text and finds where the rules in `keep` may start in its
    /// rot13 image: over the rot13 images of their literals. Its candidates say, without
    /// making the image, whether there is anything to verify in it — nearly never, since the
    /// image of ordinary text is gibberish. Line-start and unselective rules are left out.
    pub fn rot13<S: AsRef<str>>(patterns: &[S], keep: Rules) -> Prefilter {
        // As the normalised (lower-case) text's image is made: ASCII letters only.
        let rot = |b: u8| match b {
            b'a'..=b'm' => b + 13,
            b'n'..=b'z' => b - 13,
            _ => b,
        };
        Prefilter::build(patterns, keep, Some(rot))
    }

    /// The prefilter of the rules in `keep`; with `image`, over their literals with each byte
    /// mapped by it, and without the line-start and unselective rules (which are not found
    /// through literals).
    fn build<S: AsRef<str>>(patterns: &[S], keep: Rules, image: Option<fn(u8) -> u8>) -> Prefilter {
        assert!(patterns.len() <= MAX_RULES, "at most {MAX_RULES} rules");
        let mut literals: Vec<(Vec<u8>, Rules)> = Vec::new();
        let mut line_start_rules: Rules = 0;
        let mut wide = Vec::new();
        for (idx, p) in patterns.iter().enumerate() {
            let p = p.as_ref();
            let bit: Rules = 1 << idx;
            if keep & bit == 0 {
                continue;
            }
            if all_alternatives_at_line_start(p) {
                if image.is_none() {
                    line_start_rules |= bit;
                }
                continue;
            }
            match prefixes(p) {
                Some(lits) if lits.iter().all(|l| l.len() >= MIN_SELECTIVE) => {
                    literals.extend(lits.into_iter().map(|mut l| {
                        l.truncate(LITERAL_BYTES);
                        (l.into_iter().map(image.unwrap_or(|b| b)).collect(), bit)
                    }))
                }
                _ if image.is_some() => {}
                _ => wide.push((
                    idx,
                    regex::RegexBuilder::new(&p.replace(r"\b", r"(?-u:\b)"))
                        .size_limit(1 << 24)
                        .build()
                        .unwrap_or_else(|e| panic!("bad pattern {p}: {e}")),
                )),
            }
        }
        // Sorted, a literal's extensions follow it: fold them (and duplicates) into it, since
        // wherever an extension occurs the literal occurs too.
        literals.sort();
        let mut kept: Vec<(Vec<u8>, Rules)> = Vec::new();
        for (l, rules) in literals {
            match kept.iter_mut().rev().find(|(k, _)| l.starts_with(k)) {
                Some((_, r)) => *r |= rules,
                None => kept.push((l, rules)),
            }
        }
        let literals = (!kept.is_empty()).then(|| {
            DFA::builder()
                // Standard semantics: a state reports every literal that ends there.
                .match_kind(MatchKind::Standard)
                .prefilter(false)
                .build(kept.iter().map(|(l, _)| l))
                .expect("literal set builds")
        });
        Prefilter {
            literals,
            literal_rules: kept.into_iter().map(|(_, r)| r).collect(),
            line_start_rules,
            wide,
        }
    }

    /// Every position of `hay` where some rule may start to match, ascending, with the rules
    /// to try there.
    pub fn candidates(&self, hay: &str) -> Vec<(usize, Rules)> {
        let mut out: Vec<(usize, Rules)> = Vec::new();
        if let Some(dfa) = &self.literals {
            let mut sid = dfa
                .start_state(Anchored::No)
                .expect("an unanchored DFA has an unanchored start");
            for (i, &b) in hay.as_bytes().iter().enumerate() {
                sid = dfa.next_state(Anchored::No, sid, b);
                if dfa.is_special(sid) && dfa.is_match(sid) {
                    for k in 0..dfa.match_len(sid) {
                        let pid = dfa.match_pattern(sid, k);
                        out.push((
                            i + 1 - dfa.pattern_len(pid),
                            self.literal_rules[pid.as_usize()],
                        ));
                    }
                }
            }
        }
        if self.line_start_rules != 0 {
            out.push((0, self.line_start_rules));
            out.extend(
                hay.match_indices('\n')
                    .map(|(i, _)| (i + 1, self.line_start_rules)),
            );
        }
        for (idx, re) in &self.wide {
            let mut at = 0;
            while let Some(m) = re.find_at(hay, at) {
                out.push((m.start(), 1 << idx));
                at = m.start() + hay[m.start()..].chars().next().map_or(1, char::len_utf8);
                if at > hay.len() {
                    break;
                }
            }
        }
        out.retain(|&(i, _)| i < hay.len());
        out.sort_unstable_by_key(|c| c.0);
        let mut merged: Vec<(usize, Rules)> = Vec::with_capacity(out.len());
        for (i, r) in out {
            match merged.last_mut() {
                Some(last) if last.0 == i => last.1 |= r,
                _ => merged.push((i, r)),
            }
        }
        merged
    }
}

/// The indices of the rules in `rules`, ascending.
pub fn indices(mut rules: Rules) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (rules != 0).then(|| {
            let i = rules.trailing_zeros() as usize;
            rules &= rules - 1;
            i
        })
    })
}

/// The literals every match of `pattern` starts with; `None` when the set is not finite.
fn prefixes(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let hir = regex_syntax::ParserBuilder::new()
        .build()
        .parse(&pattern.replace(r"\b", r"(?-u:\b)"))
        .unwrap_or_else(|e| panic!("bad pattern {pattern}: {e}"));
    let mut ex = Extractor::new();
    ex.kind(ExtractKind::Prefix)
        .limit_class(64)
        .limit_repeat(16)
        .limit_literal_len(LITERAL_BYTES)
        .limit_total(10_000);
    ex.extract(&hir)
        .literals()
        .map(|l| l.iter().map(|x| x.as_bytes().to_vec()).collect())
}

/// Whether each top-level alternative of `pattern` starts with `(?m)^`.
fn all_alternatives_at_line_start(pattern: &str) -> bool {
    let mut depth = 0i32;
    let mut starts = vec![0usize];
    let bytes = pattern.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b'|' if depth == 0 => starts.push(i + 1),
            _ => {}
        }
        i += 1;
    }
    starts.iter().all(|&s| pattern[s..].starts_with("(?m)^"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(rules: &[&str], hay: &str) -> Vec<(usize, Vec<usize>)> {
        Prefilter::new(rules)
            .candidates(hay)
            .into_iter()
            .map(|(i, r)| (i, indices(r).collect()))
            .collect()
    }

    #[test]
    fn literal_rules_are_tried_where_their_prefixes_occur() {
        let c = found(
            &[r"\bignore\s+previous", r"\byou are now\b"],
            "ok ignore it; you are here",
        );
        assert_eq!(c, [(3, vec![0]), (14, vec![1])]);
    }

    #[test]
    fn a_shared_prefix_tries_every_rule_that_has_it() {
        let c = found(
            &[r"\bignore\s+previous", r"\bignorance\b", r"\bign\b"],
            "ignorance",
        );
        assert_eq!(c, [(0, vec![0, 1, 2])]);
    }

    #[test]
    fn line_start_rules_are_tried_at_line_starts() {
        let c = found(&[r"(?m)^[ \t]*system\s*:|(?m)^user:"], "a\nb\n\nc");
        assert_eq!(c, [(0, vec![0]), (2, vec![0]), (4, vec![0]), (5, vec![0])]);
    }

    #[test]
    fn rules_without_selective_prefixes_are_searched_on_their_own() {
        let p = Prefilter::new(&[r"\b[a-z]*bot\s+breaks\s+rules"]);
        assert_eq!(p.wide.len(), 1);
        assert_eq!(p.candidates("the chatbot breaks rules"), [(4, 1)]);
        assert!(p.candidates("the chatbot is fine").is_empty());
    }

    #[test]
    fn every_match_start_is_a_candidate_for_its_rule() {
        let rules = [
            r"\b(?:ignore|disregard)\s+(?:all\s+)?previous\s+instructions",
            r"(?m)^[ \t]*(?:system|assistant)\s*:",
            r"\b(?:you|[a-z]*bot)\s+(?:never|don't)\s+refuse",
            r"<\|im_start\|>",
            r"\bignore\s+the\s+above",
        ];
        let hay = "x <|im_start|> y\n  system: hi\nthe chatbot never refuse. please disregard \
                   all previous instructions, ignore the above; you don't refuse";
        let c = Prefilter::new(&rules).candidates(hay);
        for (idx, r) in rules.iter().enumerate() {
            for m in Regex::new(r).unwrap().find_iter(hay) {
                assert!(
                    c.iter()
                        .any(|&(i, rs)| i == m.start() && rs & (1 << idx) != 0),
                    "{r} at {}: {c:?}",
                    m.start()
                );
            }
        }
    }

    #[test]
    fn the_rot13_prefilter_finds_its_rules_in_the_plain_text() {
        let rules = [r"\bignore\s+previous", r"(?m)^system:", r"\bforget\b"];
        // Rule 2 is not kept; the line-start rule is left out.
        let p = Prefilter::rot13(&rules, 0b011);
        let found = |hay: &str| -> Vec<(usize, Vec<usize>)> {
            p.candidates(hay)
                .into_iter()
                .map(|(i, r)| (i, indices(r).collect()))
                .collect()
        };
        assert_eq!(found("ok vtaber cerivbhf"), [(3, vec![0])]);
        assert!(found("ignore previous\nflfgrz:").is_empty());
        assert!(found("sbetrg").is_empty());
    }

    #[test]
    fn indices_lists_the_set_bits() {
        assert_eq!(indices(0).count(), 0);
        assert_eq!(
            indices(0b1011 | 1 << 127).collect::<Vec<_>>(),
            [0, 1, 3, 127]
        );
    }
}
