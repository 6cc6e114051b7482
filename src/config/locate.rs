//! Mapping TOML positions to keys: which dotted key sits at a byte offset, on which line a
//! key is written, and turning `toml` deserialization errors into located problems.

use std::ops::Range;

use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use toml::Spanned;

/// Every key written in a TOML document with its full path and the byte span of the key.
#[derive(Debug, Default)]
pub(super) struct KeyIndex {
    entries: Vec<(Vec<String>, Range<usize>)>,
}

impl KeyIndex {
    /// Indexes `text`. Returns an empty index when the text cannot be indexed (syntax errors,
    /// datetime values): errors are then reported with a line but without a key.
    pub(super) fn build(text: &str) -> KeyIndex {
        let mut entries = Vec::new();
        let collector = Collect {
            prefix: Vec::new(),
            out: &mut entries,
        };
        match collector.deserialize(toml::de::Deserializer::new(text)) {
            Ok(()) => KeyIndex { entries },
            Err(_) => KeyIndex::default(),
        }
    }

    /// The path of the last key that starts at or before `offset`: for an error inside a
    /// value this is the key the value belongs to.
    pub(super) fn path_at(&self, offset: usize) -> Option<&[String]> {
        self.entries
            .iter()
            .filter(|(_, span)| span.start <= offset)
            .max_by_key(|(_, span)| span.start)
            .map(|(path, _)| path.as_slice())
    }

    /// Byte span of the first occurrence of the key `path`.
    pub(super) fn span_of(&self, path: &[String]) -> Option<Range<usize>> {
        self.entries
            .iter()
            .find(|(p, _)| p.as_slice() == path)
            .map(|(_, span)| span.clone())
    }

    /// Byte span of the first key at or below `path` (`path` itself included).
    pub(super) fn span_under(&self, path: &[String]) -> Option<Range<usize>> {
        self.entries
            .iter()
            .find(|(p, _)| p.starts_with(path))
            .map(|(_, span)| span.clone())
    }

    /// Whether the document wrote the key `path` (or something below it).
    pub(super) fn contains_under(&self, path: &[String]) -> bool {
        self.entries.iter().any(|(p, _)| p.starts_with(path))
    }
}

/// 1-based line of a byte offset.
pub(super) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

struct Collect<'a> {
    prefix: Vec<String>,
    out: &'a mut Vec<(Vec<String>, Range<usize>)>,
}

impl<'de> DeserializeSeed<'de> for Collect<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Collect<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any TOML value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let out = self.out;
        while seq
            .next_element_seed(Collect {
                prefix: self.prefix.clone(),
                out: &mut *out,
            })?
            .is_some()
        {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let out = self.out;
        // A datetime is presented as a map whose key has no span: stop indexing there.
        while let Ok(Some(key)) = map.next_key::<Spanned<String>>() {
            let span = key.span();
            let mut path = self.prefix.clone();
            path.push(key.into_inner());
            out.push((path.clone(), span));
            map.next_value_seed(Collect {
                prefix: path,
                out: &mut *out,
            })?;
        }
        Ok(())
    }
}

/// A deserialization problem with its position in the text that was deserialized.
#[derive(Debug)]
pub(super) enum Problem {
    /// Not tied to a key (syntax error, or the key could not be determined).
    Parse {
        span: Option<Range<usize>>,
        message: String,
    },
    /// A key the schema does not know.
    Unknown {
        span: Option<Range<usize>>,
        /// Path of the containing table, when known (empty = top level).
        section: Option<Vec<String>>,
        key: String,
        expected: Vec<String>,
    },
    /// A bad value at `key`.
    Invalid {
        span: Option<Range<usize>>,
        key: Vec<String>,
        message: String,
    },
}

impl Problem {
    pub(super) fn span(&self) -> Option<Range<usize>> {
        match self {
            Problem::Parse { span, .. }
            | Problem::Unknown { span, .. }
            | Problem::Invalid { span, .. } => span.clone(),
        }
    }
}

/// A TOML syntax error as a problem.
pub(super) fn syntax_problem(err: &toml::de::Error) -> Problem {
    Problem::Parse {
        span: err.span(),
        message: one_line(err.message()),
    }
}

/// Deserializes `text` into `T`, turning an error into a [`Problem`] naming the key.
pub(super) fn deserialize<T: DeserializeOwned>(text: &str) -> Result<T, Problem> {
    toml::from_str::<T>(text).map_err(|err| classify(text, &err))
}

fn classify(text: &str, err: &toml::de::Error) -> Problem {
    let span = err.span();
    let index = KeyIndex::build(text);
    let path = span
        .as_ref()
        .and_then(|s| index.path_at(s.start))
        .map(<[String]>::to_vec);
    let mut message = readable(&one_line(err.message()));
    if let Some(p) = &path {
        if is_datetime_at(text, p) {
            message = message.replacen("invalid type: map", "invalid type: datetime", 1);
        }
    }

    if let Some((key, expected)) = parse_unknown_field(&message) {
        // The span of an unknown-field error is the key itself.
        let section = match &path {
            Some(p) if p.last() == Some(&key) => Some(p[..p.len() - 1].to_vec()),
            _ => None,
        };
        return Problem::Unknown {
            span,
            section,
            key,
            expected,
        };
    }
    match path {
        Some(key) => Problem::Invalid { span, key, message },
        None => Problem::Parse { span, message },
    }
}

/// Rewrites serde's wording for TOML users: internal type names become "a table".
fn readable(message: &str) -> String {
    let mut out = message.replace("expected a map", "expected a table");
    while let Some(i) = out.find("expected struct ") {
        let rest = &out[i + "expected struct ".len()..];
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let tail = rest[end..].to_owned();
        out.truncate(i);
        out.push_str("expected a table");
        out.push_str(&tail);
    }
    out
}

/// Whether the value at `path` in `text` is a TOML datetime.
fn is_datetime_at(text: &str, path: &[String]) -> bool {
    let Ok(table) = text.parse::<toml::Table>() else {
        return false;
    };
    let mut cur: Option<&toml::Value> = None;
    let mut t = &table;
    for seg in path {
        match t.get(seg) {
            Some(v) => {
                cur = Some(v);
                if let toml::Value::Table(next) = v {
                    t = next;
                }
            }
            None => return false,
        }
    }
    matches!(cur, Some(toml::Value::Datetime(_)))
}

/// Parses serde's ``unknown field `x`, expected one of `a`, `b` `` message.
fn parse_unknown_field(message: &str) -> Option<(String, Vec<String>)> {
    let rest = message.strip_prefix("unknown field `")?;
    let (key, rest) = rest.split_once("`, ")?;
    let list = |s: &str, sep: &str| -> Vec<String> {
        s.split(sep)
            .map(|f| f.trim().trim_matches('`').to_owned())
            .filter(|f| !f.is_empty())
            .collect()
    };
    let expected = if let Some(l) = rest.strip_prefix("expected one of ") {
        list(l, ",")
    } else if let Some(l) = rest.strip_prefix("expected ") {
        list(l, " or ")
    } else {
        Vec::new()
    };
    Some((key.to_owned(), expected))
}

fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(": ")
}
