//! Where the texts a model reads are in a request or an answer, for both wire formats.
//!
//! The typed model of `pipeline/wire` decides: each wire type lists the places of its texts as
//! JSON pointers ([`Texts`]), computed once when the body is checked. Detection steps then read
//! and rewrite (mask, redact) the strings at those places in the body itself, so every field
//! the gateway does not model is forwarded untouched. Free-form JSON the APIs define as such —
//! tool inputs, parameter schemas, search results — is read whole: every string in it.

use serde_json::Value;

/// One place of text in a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextAt {
    /// A JSON pointer to a string.
    Text(String),
    /// A JSON pointer to a value whose every string is read (keys are names, not read).
    Strings(String),
}

/// The places of text in one body, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Texts(pub Vec<TextAt>);

impl Texts {
    pub fn text(&mut self, pointer: String) {
        self.0.push(TextAt::Text(pointer));
    }

    pub fn strings(&mut self, pointer: String) {
        self.0.push(TextAt::Strings(pointer));
    }

    /// Calls `f` on every text of `body` at these places.
    pub fn for_each_mut(&self, body: &mut Value, f: &mut dyn FnMut(&mut String)) {
        for at in &self.0 {
            match at {
                TextAt::Text(p) => {
                    if let Some(Value::String(s)) = body.pointer_mut(p) {
                        f(s);
                    }
                }
                TextAt::Strings(p) => {
                    if let Some(v) = body.pointer_mut(p) {
                        strings_mut(v, f);
                    }
                }
            }
        }
    }
}

/// Every string inside a JSON value.
fn strings_mut(v: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|i| strings_mut(i, f)),
        Value::Object(map) => map.values_mut().for_each(|i| strings_mut(i, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::wire::{self, answer, SchemaError};
    use crate::providers::WireFormat;
    use serde_json::json;

    fn request_texts_mut(
        body: &mut Value,
        format: WireFormat,
        f: &mut dyn FnMut(&mut String),
    ) -> Result<(), SchemaError> {
        wire::check(body, format)?.texts.for_each_mut(body, f);
        Ok(())
    }

    fn answer_content(body: &Value, format: WireFormat) -> Result<answer::Content, SchemaError> {
        answer::read(body, format)
    }

    fn answer_texts_mut(
        body: &mut Value,
        format: WireFormat,
        f: &mut dyn FnMut(&mut String),
    ) -> Result<(), SchemaError> {
        answer::read(body, format)?.texts.for_each_mut(body, f);
        Ok(())
    }

    fn declared_tools(body: &Value, format: WireFormat) -> Vec<String> {
        wire::check(body, format).unwrap().tools
    }

    fn called_tools(body: &Value, format: WireFormat) -> Vec<String> {
        answer_content(body, format).unwrap().called_tools
    }

    fn collect_request(mut body: Value, format: WireFormat) -> Vec<String> {
        let mut out = Vec::new();
        request_texts_mut(&mut body, format, &mut |s| out.push(s.clone())).unwrap();
        out
    }

    #[test]
    fn openai_request_texts() {
        let body = json!({"model": "m", "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "x"}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f", "arguments": "{\"q\":1}"}}]},
            {"role": "tool", "tool_call_id": "c", "content": "result"}
        ]});
        assert_eq!(
            collect_request(body, WireFormat::OpenAi),
            vec!["sys", "a", "{\"q\":1}", "result"]
        );
    }

    #[test]
    fn anthropic_request_texts() {
        let body = json!({"model": "m", "max_tokens": 5, "system": [{"type": "text", "text": "sys"}], "messages": [
            {"role": "user", "content": "hi"},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "r"}]}]}
        ]});
        assert_eq!(
            collect_request(body, WireFormat::Anthropic),
            vec!["sys", "hi", "r"]
        );
    }

    /// Every text-bearing field of every part type `pipeline/wire` declares is visited: a
    /// marker in each is gone after rewriting (ids, names and binary data carry none).
    #[test]
    fn every_declared_part_type_is_read() {
        let openai = json!({"model": "m", "messages": [
            {"role": "system", "content": "MARK"},
            {"role": "developer", "content": [{"type": "text", "text": "MARK"}]},
            {"role": "user", "content": [{"type": "text", "text": "MARK"},
                {"type": "image_url", "image_url": {"url": "https://x/i.png"}}]},
            {"role": "assistant", "content": [{"type": "text", "text": "MARK"},
                {"type": "refusal", "refusal": "MARK"}], "refusal": "MARK",
             "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{\"q\":\"MARK\"}"}}]},
            {"role": "assistant", "content": null, "function_call": {"name": "f", "arguments": "MARK"}},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "d", "type": "custom", "custom": {"name": "g", "input": "MARK"}}]},
            {"role": "tool", "tool_call_id": "c", "content": [{"type": "text", "text": "MARK"}]},
            {"role": "function", "name": "f", "content": "MARK"}],
            "tools": [{"type": "function", "function": {"name": "f", "description": "MARK",
                "parameters": {"type": "object", "properties": {"q": {"description": "MARK"}}}}},
                {"type": "custom", "custom": {"name": "g", "description": "MARK"}}],
            "functions": [{"name": "h", "description": "MARK", "parameters": {"title": "MARK"}}]});
        let anthropic = json!({"model": "m", "max_tokens": 5,
            "system": [{"type": "text", "text": "MARK"}],
            "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "MARK"},
                {"type": "document", "title": "MARK", "context": "MARK",
                 "source": {"type": "text", "media_type": "text/plain", "data": "MARK"}},
                {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": "MARK"}]}},
                {"type": "search_result", "source": "MARK", "title": "MARK",
                 "content": [{"type": "text", "text": "MARK"}]},
                {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "MARK"}]},
                {"type": "tool_result", "tool_use_id": "t", "content": "MARK"}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "MARK", "signature": "s"},
                {"type": "tool_use", "id": "t", "name": "f", "input": {"q": ["MARK", {"r": "MARK"}]}},
                {"type": "server_tool_use", "id": "s", "name": "web_search", "input": {"query": "MARK"}},
                {"type": "web_search_tool_result", "tool_use_id": "s", "content": [{"title": "MARK"}]}]}],
            "tools": [{"name": "f", "description": "MARK", "input_schema": {"properties": {"q": {"description": "MARK"}}}}]});
        for (body, format) in [
            (openai, WireFormat::OpenAi),
            (anthropic, WireFormat::Anthropic),
        ] {
            assert!(
                crate::pipeline::wire::check(&body, format).is_ok(),
                "{body}"
            );
            let mut body = body;
            request_texts_mut(&mut body, format, &mut |s| *s = s.replace("MARK", "seen")).unwrap();
            let left = body.to_string();
            assert!(!left.contains("MARK"), "{format:?}: unread text in {left}");
        }
    }

    #[test]
    fn every_answer_text_is_read() {
        let mut o = json!({"choices": [{"message": {"content": "MARK", "refusal": "MARK",
            "reasoning_content": "MARK", "function_call": {"name": "f", "arguments": "MARK"},
            "tool_calls": [{"function": {"name": "g", "arguments": "MARK"}},
                {"type": "custom", "custom": {"name": "h", "input": "MARK"}}]}}]});
        let mut a = json!({"content": [{"type": "text", "text": "MARK"},
            {"type": "thinking", "thinking": "MARK"},
            {"type": "tool_use", "id": "t", "name": "f", "input": {"q": "MARK"}}]});
        for (body, format) in [
            (&mut o, WireFormat::OpenAi),
            (&mut a, WireFormat::Anthropic),
        ] {
            answer_texts_mut(body, format, &mut |s| *s = s.replace("MARK", "seen")).unwrap();
            assert!(!body.to_string().contains("MARK"), "{body}");
        }
        assert_eq!(called_tools(&o, WireFormat::OpenAi), vec!["g", "h", "f"]);
        let legacy = json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "functions": [{"name": "shell"}]});
        assert_eq!(declared_tools(&legacy, WireFormat::OpenAi), vec!["shell"]);
    }

    #[test]
    fn rewriting_changes_the_body() {
        let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "mail a@b.co",
            "x_vendor": {"note": "a@b.co"}}], "metadata": {"k": "v"}});
        request_texts_mut(&mut body, WireFormat::OpenAi, &mut |s| {
            *s = s.replace("a@b.co", "[MASKED_EMAIL]")
        })
        .unwrap();
        assert_eq!(body["messages"][0]["content"], "mail [MASKED_EMAIL]");
        // Fields the typed model does not declare are forwarded as they came.
        assert_eq!(body["metadata"], json!({"k": "v"}));
        assert_eq!(body["messages"][0]["x_vendor"], json!({"note": "a@b.co"}));
    }

    #[test]
    fn answers_and_tools() {
        let mut o = json!({"choices": [{"message": {"content": "x", "tool_calls": [{"function": {"name": "shell", "arguments": "{}"}}]}}]});
        let mut seen = Vec::new();
        answer_texts_mut(&mut o, WireFormat::OpenAi, &mut |s| seen.push(s.clone())).unwrap();
        assert_eq!(seen, vec!["x", "{}"]);
        assert_eq!(called_tools(&o, WireFormat::OpenAi), vec!["shell"]);
        let a = json!({"content": [{"type": "text", "text": "t"}, {"type": "tool_use", "id": "t", "name": "search", "input": {}}]});
        assert_eq!(called_tools(&a, WireFormat::Anthropic), vec!["search"]);
        let req = json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
            "tools": [{"type": "function", "function": {"name": "f1"}}]});
        assert_eq!(declared_tools(&req, WireFormat::OpenAi), vec!["f1"]);
        let req = json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}],
            "tools": [{"name": "g"}]});
        assert_eq!(declared_tools(&req, WireFormat::Anthropic), vec!["g"]);
    }

    #[test]
    fn answers_that_do_not_fit_the_schema_are_errors_not_guesses() {
        for (body, format, field) in [
            (
                json!({"choices": [{"message": {"content": 5}}]}),
                WireFormat::OpenAi,
                "choices[0].message.content",
            ),
            (
                json!({"choices": [{"message": {"tool_calls": [{"function": {"name": "f"}}]}}]}),
                WireFormat::OpenAi,
                "choices[0].message.tool_calls[0].function.arguments",
            ),
            (json!({"choices": {"0": {}}}), WireFormat::OpenAi, "choices"),
            (
                json!({"choices": [{"message": {"tool_calls": [{"id": "x"}]}}]}),
                WireFormat::OpenAi,
                "choices[0].message.tool_calls[0].function",
            ),
            // A tagged block reports the block (serde reads its fields after the tag).
            (
                json!({"content": [{"type": "text", "text": 7}]}),
                WireFormat::Anthropic,
                "content[0]",
            ),
            (
                json!({"content": [{"type": "tool_use", "name": "f"}]}),
                WireFormat::Anthropic,
                "content[0].id",
            ),
        ] {
            let e = answer_content(&body, format).unwrap_err();
            assert_eq!(e.field, field, "{body}: {}", e.message);
        }
        let a = json!({"content": [{"type": "text", "text": "t"}, {"type": "future_block", "x": "MARK"}]});
        let c = answer_content(&a, WireFormat::Anthropic).unwrap();
        assert_eq!(c.unscanned, vec!["content[1]"]);
    }
}
