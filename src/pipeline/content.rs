//! Where the text is in a request or an answer, for both wire formats: detection steps scan
//! these strings and rewrite them in place (masking), without knowing the JSON shapes.

use serde_json::Value;

use crate::providers::WireFormat;

/// Calls `f` on every text a request carries that a model reads: message contents (strings and
/// the text of every part type `pipeline/wire` declares), the Anthropic `system` prompt, tool
/// results, tool-call arguments and inputs echoed back, documents and search results, thinking,
/// refusals, and tool definitions (descriptions and schemas — a poisoned tool description is an
/// injection too).
pub fn request_texts_mut(body: &mut Value, format: WireFormat, f: &mut dyn FnMut(&mut String)) {
    if format == WireFormat::Anthropic {
        if let Some(system) = body.get_mut("system") {
            texts_in_content(system, f);
        }
    }
    if let Some(messages) = body.get_mut("messages").and_then(Value::as_array_mut) {
        for m in messages {
            if let Some(content) = m.get_mut("content") {
                texts_in_content(content, f);
            }
            if let Some(Value::String(s)) = m.get_mut("refusal") {
                f(s);
            }
            // OpenAI: assistant tool calls (and legacy function calls) carried in the history.
            if let Some(calls) = m.get_mut("tool_calls").and_then(Value::as_array_mut) {
                for c in calls {
                    if let Some(Value::String(args)) = c.pointer_mut("/function/arguments") {
                        f(args);
                    }
                }
            }
            if let Some(Value::String(args)) = m.pointer_mut("/function_call/arguments") {
                f(args);
            }
        }
    }
    tool_definitions_mut(body, format, f);
}

/// Descriptions and parameter schemas of declared tools (`tools`, legacy `functions`).
fn tool_definitions_mut(body: &mut Value, format: WireFormat, f: &mut dyn FnMut(&mut String)) {
    let (desc, schema) = match format {
        WireFormat::OpenAi => ("/function/description", "/function/parameters"),
        WireFormat::Anthropic => ("/description", "/input_schema"),
    };
    for t in body
        .get_mut("tools")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(Value::String(s)) = t.pointer_mut(desc) {
            f(s);
        }
        if let Some(v) = t.pointer_mut(schema) {
            strings_mut(v, f);
        }
        if let Some(v) = t.get_mut("custom") {
            strings_mut(v, f);
        }
    }
    for fun in body
        .get_mut("functions")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if let Some(Value::String(s)) = fun.get_mut("description") {
            f(s);
        }
        if let Some(v) = fun.get_mut("parameters") {
            strings_mut(v, f);
        }
    }
}

/// Every string inside a JSON value (tool inputs and schemas: keys are names, values are read).
fn strings_mut(v: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => items.iter_mut().for_each(|i| strings_mut(i, f)),
        Value::Object(map) => map.values_mut().for_each(|i| strings_mut(i, f)),
        _ => {}
    }
}

/// A `content` value: a string, or an array of parts/blocks, each read by its type.
fn texts_in_content(content: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match content {
        Value::String(s) => f(s),
        Value::Array(parts) => parts.iter_mut().for_each(|p| texts_in_part(p, f)),
        _ => {}
    }
}

/// The texts of one answer block (an Anthropic `content_block_start` carries a whole block).
pub fn answer_block_texts_mut(block: &mut Value, f: &mut dyn FnMut(&mut String)) {
    texts_in_part(block, f);
}

/// The texts of one part or block (the types of `pipeline/wire`; images, files and audio carry
/// none that can be read — the schema check refuses or audits those).
fn texts_in_part(p: &mut Value, f: &mut dyn FnMut(&mut String)) {
    let kind = p
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let field = |p: &mut Value, name: &str, f: &mut dyn FnMut(&mut String)| {
        if let Some(Value::String(s)) = p.get_mut(name) {
            f(s);
        }
    };
    match kind.as_str() {
        "text" => field(p, "text", f),
        "refusal" => field(p, "refusal", f),
        "thinking" => field(p, "thinking", f),
        "tool_result" => {
            if let Some(c) = p.get_mut("content") {
                texts_in_content(c, f);
            }
        }
        "tool_use" | "server_tool_use" => {
            if let Some(v) = p.get_mut("input") {
                strings_mut(v, f);
            }
        }
        "web_search_tool_result" => {
            if let Some(v) = p.get_mut("content") {
                strings_mut(v, f);
            }
        }
        "document" => {
            field(p, "title", f);
            field(p, "context", f);
            if let Some(source) = p.get_mut("source") {
                match source.get("type").and_then(Value::as_str) {
                    Some("text") => field(source, "data", f),
                    Some("content") => {
                        if let Some(c) = source.get_mut("content") {
                            texts_in_content(c, f);
                        }
                    }
                    _ => {}
                }
            }
        }
        "search_result" => {
            field(p, "title", f);
            field(p, "source", f);
            if let Some(c) = p.get_mut("content") {
                texts_in_content(c, f);
            }
        }
        _ => {}
    }
}

/// Calls `f` on every text of a complete answer: OpenAI `choices[].message` content, refusal,
/// reasoning and tool/function call arguments; Anthropic `content[]` blocks (text, thinking,
/// tool inputs).
pub fn answer_texts_mut(body: &mut Value, format: WireFormat, f: &mut dyn FnMut(&mut String)) {
    match format {
        WireFormat::OpenAi => {
            let Some(choices) = body.get_mut("choices").and_then(Value::as_array_mut) else {
                return;
            };
            for c in choices {
                let Some(m) = c.get_mut("message") else {
                    continue;
                };
                for name in ["content", "refusal", "reasoning_content"] {
                    if let Some(Value::String(s)) = m.get_mut(name) {
                        f(s);
                    }
                }
                if let Some(calls) = m.get_mut("tool_calls").and_then(Value::as_array_mut) {
                    for call in calls {
                        if let Some(Value::String(args)) = call.pointer_mut("/function/arguments") {
                            f(args);
                        }
                    }
                }
                if let Some(Value::String(args)) = m.pointer_mut("/function_call/arguments") {
                    f(args);
                }
            }
        }
        WireFormat::Anthropic => {
            if let Some(content) = body.get_mut("content") {
                texts_in_content(content, f);
            }
        }
    }
}

/// Tool names a request declares (`tools[].function.name` / `tools[].name`, legacy
/// `functions[].name`).
pub fn declared_tools(body: &Value, format: WireFormat) -> Vec<String> {
    let empty = Vec::new();
    let tools = body
        .get("tools")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let ptr = match format {
        WireFormat::OpenAi => "/function/name",
        WireFormat::Anthropic => "/name",
    };
    let mut out: Vec<String> = tools
        .iter()
        .filter_map(|t| t.pointer(ptr).and_then(Value::as_str).map(str::to_string))
        .collect();
    out.extend(legacy_functions(body));
    out
}

/// OpenAI's legacy `functions[].name` (declared tools all the same).
fn legacy_functions(body: &Value) -> Vec<String> {
    body.get("functions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|f| f.get("name").and_then(Value::as_str).map(str::to_string))
        .collect()
}

/// Tool names a complete answer calls.
pub fn called_tools(body: &Value, format: WireFormat) -> Vec<String> {
    let mut out = Vec::new();
    match format {
        WireFormat::OpenAi => {
            for c in body
                .get("choices")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for call in c
                    .pointer("/message/tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(n) = call.pointer("/function/name").and_then(Value::as_str) {
                        out.push(n.to_string());
                    }
                }
                if let Some(n) = c
                    .pointer("/message/function_call/name")
                    .and_then(Value::as_str)
                {
                    out.push(n.to_string());
                }
            }
        }
        WireFormat::Anthropic => {
            for b in body
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if matches!(
                    b.get("type").and_then(Value::as_str),
                    Some("tool_use" | "server_tool_use")
                ) {
                    if let Some(n) = b.get("name").and_then(Value::as_str) {
                        out.push(n.to_string());
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn collect_request(mut body: Value, format: WireFormat) -> Vec<String> {
        let mut out = Vec::new();
        request_texts_mut(&mut body, format, &mut |s| out.push(s.clone()));
        out
    }

    #[test]
    fn openai_request_texts() {
        let body = json!({"messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url", "image_url": {"url": "x"}}]},
            {"role": "assistant", "content": null, "tool_calls": [{"function": {"name": "f", "arguments": "{\"q\":1}"}}]},
            {"role": "tool", "content": "result"}
        ]});
        assert_eq!(
            collect_request(body, WireFormat::OpenAi),
            vec!["sys", "a", "{\"q\":1}", "result"]
        );
    }

    #[test]
    fn anthropic_request_texts() {
        let body = json!({"system": [{"type": "text", "text": "sys"}], "messages": [
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
            request_texts_mut(&mut body, format, &mut |s| *s = s.replace("MARK", "seen"));
            let left = body.to_string();
            assert!(!left.contains("MARK"), "{format:?}: unread text in {left}");
        }
    }

    #[test]
    fn every_answer_text_is_read() {
        let mut o = json!({"choices": [{"message": {"content": "MARK", "refusal": "MARK",
            "reasoning_content": "MARK", "function_call": {"name": "f", "arguments": "MARK"},
            "tool_calls": [{"function": {"name": "g", "arguments": "MARK"}}]}}]});
        let mut a = json!({"content": [{"type": "text", "text": "MARK"},
            {"type": "thinking", "thinking": "MARK"},
            {"type": "tool_use", "id": "t", "name": "f", "input": {"q": "MARK"}}]});
        for (body, format) in [
            (&mut o, WireFormat::OpenAi),
            (&mut a, WireFormat::Anthropic),
        ] {
            answer_texts_mut(body, format, &mut |s| *s = s.replace("MARK", "seen"));
            assert!(!body.to_string().contains("MARK"), "{body}");
        }
        assert_eq!(called_tools(&o, WireFormat::OpenAi), vec!["g", "f"]);
        let legacy = json!({"functions": [{"name": "shell"}]});
        assert_eq!(declared_tools(&legacy, WireFormat::OpenAi), vec!["shell"]);
    }

    #[test]
    fn rewriting_changes_the_body() {
        let mut body = json!({"messages": [{"role": "user", "content": "mail a@b.co"}]});
        request_texts_mut(&mut body, WireFormat::OpenAi, &mut |s| {
            *s = s.replace("a@b.co", "[MASKED_EMAIL]")
        });
        assert_eq!(body["messages"][0]["content"], "mail [MASKED_EMAIL]");
    }

    #[test]
    fn answers_and_tools() {
        let mut o = json!({"choices": [{"message": {"content": "x", "tool_calls": [{"function": {"name": "shell", "arguments": "{}"}}]}}]});
        let mut seen = Vec::new();
        answer_texts_mut(&mut o, WireFormat::OpenAi, &mut |s| seen.push(s.clone()));
        assert_eq!(seen, vec!["x", "{}"]);
        assert_eq!(called_tools(&o, WireFormat::OpenAi), vec!["shell"]);
        let a = json!({"content": [{"type": "text", "text": "t"}, {"type": "tool_use", "name": "search", "input": {}}]});
        assert_eq!(called_tools(&a, WireFormat::Anthropic), vec!["search"]);
        let req = json!({"tools": [{"type": "function", "function": {"name": "f1"}}]});
        assert_eq!(declared_tools(&req, WireFormat::OpenAi), vec!["f1"]);
        assert_eq!(
            declared_tools(&json!({"tools": [{"name": "g"}]}), WireFormat::Anthropic),
            vec!["g"]
        );
    }
}
