//! The request schemas of both wire formats, as serde types: what `validate_input` checks a
//! body against before anything else reads it.
//!
//! Every message role and content-part type the OpenAI Chat Completions and Anthropic Messages
//! APIs define is a variant here; a role outside them, a content that is neither a string nor
//! an array of parts, a number out of range or an over-long model name is a 400 naming the
//! field. A part type the gateway does not know, or one whose content it cannot read (binary
//! files, audio, PDF documents), is counted as *unscanned*: `validate_input` refuses it unless
//! the operator lets unscanned parts pass (`[pipeline] unscanned_parts = "pass"`, audited).
//! Images are the exception: they pass, counted and audited, because refusing them would break
//! every multimodal agent. `content.rs` reads the text of every other part; its coverage test
//! walks a sample of each variant declared here.
//!
//! Unknown *fields* pass: both APIs add parameters often, and none of them carries text the
//! model reads without also being declared here.

pub mod answer;
pub mod anthropic;
pub mod openai;
pub mod stream;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

use crate::pipeline::content::Texts;
use crate::providers::WireFormat;

/// The longest model name accepted (provider model ids are far shorter).
pub const MAX_MODEL_LEN: usize = 256;
/// The largest completion limit accepted (no model produces more in one answer).
pub const MAX_COMPLETION_TOKENS: u64 = 10_000_000;

/// What the schema check learned beyond "valid".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// Paths of parts the gateway cannot read (unknown types, binary files, audio, PDFs).
    pub unscanned: Vec<String>,
    /// Images and provider-encrypted blocks (passed, not read; audited).
    pub opaque: u32,
    /// Where the texts a model reads are (what the detectors scan and rewrite).
    pub texts: Texts,
    /// The tools the request declares (`tools`, legacy `functions`).
    pub tools: Vec<String>,
}

/// A schema violation: the field (a path like `messages[2].content[0].type`) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    pub field: String,
    pub message: String,
}

impl SchemaError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        SchemaError {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Checks `body` (already JSON) against `format`'s request schema.
pub fn check(body: &serde_json::Value, format: WireFormat) -> Result<Checked, SchemaError> {
    match format {
        WireFormat::OpenAi => {
            let r = parse::<openai::Request>(body)?;
            let mut checked = r.check()?;
            r.texts(&mut checked.texts);
            checked.tools = r.tool_names();
            Ok(checked)
        }
        WireFormat::Anthropic => {
            let r = parse::<anthropic::Request>(body)?;
            let mut checked = r.check()?;
            r.texts(&mut checked.texts);
            checked.tools = r.tools.iter().flatten().map(|t| t.name.clone()).collect();
            Ok(checked)
        }
    }
}

/// Deserializes with the path of a failure (`messages[1].role`) as the field.
pub(crate) fn parse<'de, T: Deserialize<'de>>(
    body: &'de serde_json::Value,
) -> Result<T, SchemaError> {
    serde_path_to_error::deserialize(body).map_err(|e| {
        let path = e.path().to_string();
        let message = without_values(&e.into_inner().to_string());
        // A missing field is reported at its parent: name the field itself.
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(name, _)| name.to_string());
        let field = match (path.as_str(), missing) {
            (".", Some(name)) => name,
            (".", None) => "body".to_string(),
            (p, Some(name)) => format!("{p}.{name}"),
            (p, None) => p.to_string(),
        };
        SchemaError::new(field, message)
    })
}

/// serde's message without the value it quotes (`invalid type: string "…"`): a request's or
/// an answer's text is what the gateway has not scanned yet, so it goes neither into the audit
/// trail nor back to a client. Names in backticks (fields, expected variants) are kept.
fn without_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(256));
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        match c {
            // A quoted value (Debug-escaped: `\"` inside does not end it): dropped.
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    match (escaped, c) {
                        (false, '\\') => escaped = true,
                        (false, '"') => break,
                        _ => escaped = false,
                    }
                }
                out.push_str("\"…\"");
            }
            // A name: ours (fields, expected variants) is kept; the variant the body named is
            // the body's own value.
            '`' => {
                let name: String = chars.by_ref().take_while(|c| *c != '`').collect();
                if name.chars().count() <= 40 && !out.ends_with("variant ") {
                    out.push('`');
                    out.push_str(&name);
                    out.push('`');
                } else {
                    out.push_str("`…`");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A message `content`: a string or an array of parts of type `P`.
#[derive(Debug, Clone, PartialEq)]
pub enum Content<P> {
    Text(String),
    Parts(Vec<P>),
}

impl<'de, P: Deserialize<'de>> Deserialize<'de> for Content<P> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<P>(std::marker::PhantomData<P>);
        impl<'de, P: Deserialize<'de>> Visitor<'de> for V<P> {
            type Value = Content<P>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an array of content parts")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Content::Text(s.to_string()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Content::Text(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut parts = Vec::new();
                while let Some(p) = seq.next_element()? {
                    parts.push(p);
                }
                Ok(Content::Parts(parts))
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// Range checks shared by both formats.
fn check_model(model: &str) -> Result<(), SchemaError> {
    if model.trim().is_empty() {
        return Err(SchemaError::new("model", "must not be empty"));
    }
    if model.len() > MAX_MODEL_LEN {
        return Err(SchemaError::new(
            "model",
            format!("must be at most {MAX_MODEL_LEN} bytes"),
        ));
    }
    Ok(())
}

fn check_tokens(field: &str, v: Option<i64>) -> Result<(), SchemaError> {
    match v {
        Some(n) if n < 1 || n as u64 > MAX_COMPLETION_TOKENS => Err(SchemaError::new(
            field,
            format!("must be an integer from 1 to {MAX_COMPLETION_TOKENS}"),
        )),
        _ => Ok(()),
    }
}

fn check_range(field: &str, v: Option<f64>, min: f64, max: f64) -> Result<(), SchemaError> {
    match v {
        Some(x) if !(min..=max).contains(&x) => Err(SchemaError::new(
            field,
            format!("must be a number from {min} to {max}"),
        )),
        _ => Ok(()),
    }
}

fn check_messages_len(n: usize) -> Result<(), SchemaError> {
    if n == 0 {
        return Err(SchemaError::new("messages", "must not be empty"));
    }
    Ok(())
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
