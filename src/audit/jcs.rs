//! A fast, allocation-free recognizer of RFC 8785 (JCS) canonical JSON objects, for `audit
//! verify`. Pure code, no I/O.
//!
//! Verification must prove that each stored event is canonical — that re-encoding it gives the
//! same bytes — and read its `audit_id`, `seq` and `prev_hash`. Parsing every event into a
//! `serde_json::Value` and re-serializing it costs ~18 µs per 1 KiB event, nearly all of it in
//! the allocator; this walk over the bytes costs a fraction of that. It is a *fast path* only:
//! it answers `Some` just for bytes it can prove canonical (what the writer produces), and
//! `None` for everything else, which the verifier then checks the slow, reference way (parse and
//! re-encode) — so a `None` never weakens verification, and error messages stay the reference
//! ones. The differential tests below hold the one property that matters: whatever this accepts,
//! the reference accepts too, with the same fields.

/// What the verifier needs from a canonical event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields<'a> {
    /// The top-level `audit_id` (a string without escapes), if present.
    pub audit_id: Option<&'a str>,
    /// The top-level `seq` (a non-negative integer), if present.
    pub seq: Option<u64>,
    /// The top-level `prev_hash`: `Some(None)` for `null`, `Some(Some(h))` for a string without
    /// escapes; `None` when absent.
    pub prev_hash: Option<Option<&'a str>>,
}

/// Nesting deeper than this is left to the reference path (which refuses past 128 levels).
const MAX_DEPTH: usize = 64;

/// `Some(fields)` when `text` is provably a canonical JSON object; `None`: not shown here.
pub fn canonical_object(text: &str) -> Option<Fields<'_>> {
    let b = text.as_bytes();
    let mut p = Parser { b, i: 0 };
    let mut fields = Fields {
        audit_id: None,
        seq: None,
        prev_hash: None,
    };
    p.object(0, Some(&mut fields))?;
    (p.i == b.len()).then_some(fields)
}

struct Parser<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    fn value(&mut self, depth: usize) -> Option<()> {
        match self.peek()? {
            b'{' => self.object(depth + 1, None),
            b'[' => self.array(depth + 1),
            b'"' => self.string().map(|_| ()),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.integer().map(|_| ()),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.i + word.len();
        (self.b.get(self.i..end)? == word).then(|| self.i = end)
    }

    /// An object whose keys are strictly increasing in UTF-16 code-unit order (JCS's order,
    /// which also rules out duplicates). At the top level, `fields` collects what the verifier
    /// reads.
    fn object(&mut self, depth: usize, mut fields: Option<&mut Fields<'a>>) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'{')?;
        if self.eat(b'}').is_some() {
            return Some(());
        }
        let mut prev: Option<&'a [u8]> = None;
        loop {
            let key = self.string()?;
            if let Some(prev) = prev {
                if utf16_cmp(prev, key)? != std::cmp::Ordering::Less {
                    return None;
                }
            }
            prev = Some(key);
            self.eat(b':')?;
            match fields.as_deref_mut() {
                Some(f) if key == b"audit_id" => f.audit_id = Some(self.plain_string()?),
                Some(f) if key == b"seq" => f.seq = Some(self.integer()?.try_into().ok()?),
                Some(f) if key == b"prev_hash" => {
                    f.prev_hash = Some(if self.peek()? == b'n' {
                        self.literal(b"null")?;
                        None
                    } else {
                        Some(self.plain_string()?)
                    })
                }
                _ => self.value(depth)?,
            }
            if self.eat(b',').is_none() {
                return self.eat(b'}');
            }
        }
    }

    fn array(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.eat(b'[')?;
        if self.eat(b']').is_some() {
            return Some(());
        }
        loop {
            self.value(depth)?;
            if self.eat(b',').is_none() {
                return self.eat(b']');
            }
        }
    }

    /// A string in canonical form; returns its raw contents (between the quotes, escapes kept).
    /// Canonical escaping (RFC 8785 §3.2.2.2): `\"`, `\\`, `\b \f \n \r \t`, and `\u00xx`
    /// (lower-case hex) for the other control characters; everything else literal.
    fn string(&mut self) -> Option<&'a [u8]> {
        self.eat(b'"')?;
        let start = self.i;
        loop {
            let c = self.peek()?;
            match c {
                b'"' => {
                    let s = &self.b[start..self.i];
                    self.i += 1;
                    return Some(s);
                }
                0x00..=0x1f => return None,
                b'\\' => {
                    self.i += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            let hex = self.b.get(self.i + 1..self.i + 5)?;
                            let ok = hex[0] == b'0'
                                && hex[1] == b'0'
                                && matches!(hex[2], b'0' | b'1')
                                && matches!(hex[3], b'0'..=b'9' | b'a'..=b'f');
                            let code =
                                u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
                            // The five with a short form must use it.
                            if !ok || matches!(code, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d) {
                                return None;
                            }
                            self.i += 5;
                        }
                        _ => return None,
                    }
                }
                _ => self.i += 1,
            }
        }
    }

    /// A string without any escape (ids and hashes), as `&str`.
    fn plain_string(&mut self) -> Option<&'a str> {
        let raw = self.string()?;
        if raw.contains(&b'\\') {
            return None;
        }
        std::str::from_utf8(raw).ok()
    }

    /// An integer as ECMAScript prints it, limited to 15 digits (exact in an f64, far below
    /// 1e21 where ECMAScript switches to exponents): `0`, or an optional `-` and no leading zero;
    /// never `-0`. Anything else (fractions, exponents, long integers) is left to the reference.
    fn integer(&mut self) -> Option<i64> {
        let start = self.i;
        let neg = self.eat(b'-').is_some();
        let digits = self.i;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1;
        }
        let n = self.i - digits;
        if n == 0 || n > 15 || (self.b[digits] == b'0' && (n > 1 || neg)) {
            return None;
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        std::str::from_utf8(&self.b[start..self.i])
            .ok()?
            .parse()
            .ok()
    }
}

/// Compares two raw (escaped, canonical) JSON strings by their decoded UTF-16 code units.
fn utf16_cmp(a: &[u8], b: &[u8]) -> Option<std::cmp::Ordering> {
    let (mut a, mut b) = (Units::new(a)?, Units::new(b)?);
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Some(std::cmp::Ordering::Equal),
            (x, y) if x != y => return Some(x.cmp(&y)),
            _ => {}
        }
    }
}

/// The UTF-16 code units of a raw canonical JSON string's contents.
struct Units<'a> {
    chars: std::str::Chars<'a>,
    pending: Option<u16>,
}

impl<'a> Units<'a> {
    fn new(raw: &'a [u8]) -> Option<Self> {
        Some(Units {
            chars: std::str::from_utf8(raw).ok()?.chars(),
            pending: None,
        })
    }
}

impl Iterator for Units<'_> {
    type Item = u16;

    fn next(&mut self) -> Option<u16> {
        if let Some(u) = self.pending.take() {
            return Some(u);
        }
        let c = self.chars.next()?;
        let c = if c == '\\' {
            match self.chars.next()? {
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => {
                    let hex: String = self.chars.by_ref().take(4).collect();
                    char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?
                }
                other => other,
            }
        } else {
            c
        };
        let mut buf = [0u16; 2];
        let units = c.encode_utf16(&mut buf);
        if units.len() == 2 {
            self.pending = Some(units[1]);
        }
        Some(units[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    /// The reference: what `Verifier` did for every event before this fast path.
    fn reference(text: &str) -> Option<Value> {
        let v: Value = serde_json::from_str(text).ok()?;
        let again = serde_json_canonicalizer::to_string(&v).ok()?;
        (again == text && v.is_object()).then_some(v)
    }

    /// The one property: accepted here ⇒ accepted by the reference, with the same fields.
    fn agrees(text: &str) -> bool {
        let Some(f) = canonical_object(text) else {
            return true;
        };
        let Some(v) = reference(text) else {
            panic!("fast path accepted what the reference refuses: {text:?}");
        };
        assert_eq!(
            f.audit_id,
            v.get("audit_id").and_then(Value::as_str),
            "{text}"
        );
        assert_eq!(f.seq, v.get("seq").and_then(Value::as_u64), "{text}");
        let prev = v.get("prev_hash").map(|p| p.as_str());
        assert_eq!(f.prev_hash, prev, "{text}");
        true
    }

    fn event() -> String {
        serde_json_canonicalizer::to_string(&serde_json::json!({
            "audit_id": "aud_01J", "seq": 42, "prev_hash": "ab12", "ts": "2026-12-05T09:00:00.000001Z",
            "event_type": "llm_call", "status": 200, "latency_ms": 12, "stream": false,
            "agent_id": null, "cost": {"usd_micros": 0, "prompt_tokens": 3},
            "detections": [{"kind": "EMAIL", "count": 2}],
            "details": {"é": "ünïcode \u{1F600} \u{2028}", "tab\t": "line\nbreak \"q\" \\ \u{1}\u{1f}",
                        "z": [], "a": {}, "n": -7, "big": 123456789012345u64,
                        "\u{10000}": 1, "\u{ffff}": 2}
        }))
        .unwrap()
    }

    #[test]
    fn accepts_what_the_writer_writes() {
        let text = event();
        let f = canonical_object(&text).expect("canonical");
        assert_eq!(f.audit_id, Some("aud_01J"));
        assert_eq!(f.seq, Some(42));
        assert_eq!(f.prev_hash, Some(Some("ab12")));
        let genesis = r#"{"audit_id":"x","prev_hash":null,"seq":1}"#;
        assert_eq!(canonical_object(genesis).unwrap().prev_hash, Some(None));
    }

    /// Events hold integers only (money in micro-USD, scores in per cent), so fractions and
    /// exponents are left to the reference rather than re-implementing ECMAScript's number
    /// printing here.
    #[test]
    fn fractions_are_left_to_the_reference() {
        for text in [
            r#"{"a":0.5}"#,
            r#"{"a":1e+21}"#,
            r#"{"a":1234567890123456}"#,
        ] {
            assert!(reference(text).is_some(), "{text}");
            assert!(canonical_object(text).is_none(), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_canonical() {
        for text in [
            r#"{"b":1,"a":2}"#,  // order
            r#"{"a":1,"a":1}"#,  // duplicate
            r#"{"a": 1}"#,       // white space
            r#" {"a":1}"#,       //
            r#"{"a":1}\n"#,      //
            r#"{"a":1.0}"#,      // number form
            r#"{"a":01}"#,       //
            r#"{"a":-0}"#,       //
            r#"{"a":1e2}"#,      //
            r#"{"a":"\u0041"}"#, // needless escape
            r#"{"a":"\u000a"}"#, // short form exists
            r#"{"a":"\u001F"}"#, // upper-case hex
            r#"{"a":"\/"}"#,     // escaped solidus
            "{\"a\":\"\u{1}\"}", // raw control character
            r#"{"a":tru}"#,      // broken literal
            r#"[1]"#,            // not an object
            r#"{"a":1"#,         // cut
            "",                  //
        ] {
            assert!(canonical_object(text).is_none(), "{text}");
            agrees(text);
        }
    }

    /// UTF-16 order differs from UTF-8 and code-point order above U+FFFF: U+10000 (a surrogate
    /// pair, 0xD800…) sorts before U+FFFF in JCS.
    #[test]
    fn keys_sort_by_utf16_code_units() {
        assert!(canonical_object("{\"\u{10000}\":1,\"\u{ffff}\":2}").is_some());
        assert!(canonical_object("{\"\u{ffff}\":2,\"\u{10000}\":1}").is_none());
        assert!(canonical_object(r#"{"\n":1,"a":2}"#).is_some());
    }

    #[test]
    fn deep_nesting_is_left_to_the_reference() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100), "]".repeat(100));
        assert!(canonical_object(&deep).is_none());
    }

    /// Differential: every single-byte edit, deletion and insertion of a real event, and a
    /// stream of random multi-byte edits: the fast path never accepts what the reference
    /// refuses, and agrees on the fields when both accept.
    #[test]
    fn never_accepts_what_the_reference_refuses() {
        let text = event();
        let bytes = text.as_bytes();
        let alphabet = b"{}[]\",:\\0123456789-.eEtrufalsn aAzZ/\x01\n\xc3\xa9";
        let mut tried = 0;
        let mut check = |b: Vec<u8>| {
            if let Ok(s) = String::from_utf8(b) {
                agrees(&s);
                tried += 1;
            }
        };
        for i in 0..bytes.len() {
            let mut del = bytes.to_vec();
            del.remove(i);
            check(del);
            for &c in alphabet {
                let mut ed = bytes.to_vec();
                ed[i] = c;
                check(ed);
                let mut ins = bytes.to_vec();
                ins.insert(i, c);
                check(ins);
            }
        }
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut rnd = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        for _ in 0..20_000 {
            let mut b = bytes.to_vec();
            for _ in 0..1 + rnd(4) {
                let i = rnd(b.len());
                b[i] = alphabet[rnd(alphabet.len())];
            }
            check(b);
        }
        assert!(tried > 40_000, "{tried}");
    }
}
