//! Where the text is in a request or an answer, for both wire formats: detection steps scan
//! these strings and rewrite them in place (masking), without knowing the JSON shapes.

use serde_json::Value;

use crate::providers::WireFormat;

/// Calls `f` on every text a user or tool put in a request: message contents (strings or text
/// parts), the Anthropic `system` prompt, tool results, and tool-call arguments echoed back.
pub fn request_texts_mut(body: &mut Value, format: WireFormat, f: &mut dyn FnMut(&mut String)) {
    if format == WireFormat::Anthropic {
        if let Some(system) = body.get_mut("system") {
            texts_in_content(system, f);
        }
    }
    let Some(messages) = body.get_mut("messages").and_then(Value::as_array_mut) else {
        return;
    };
    for m in messages {
        if let Some(content) = m.get_mut("content") {
            texts_in_content(content, f);
        }
        // OpenAI: assistant tool calls carried in the history.
        if let Some(calls) = m.get_mut("tool_calls").and_then(Value::as_array_mut) {
            for c in calls {
                if let Some(Value::String(args)) = c.pointer_mut("/function/arguments") {
                    f(args);
                }
            }
        }
    }
}

/// A `content` value: a string, or an array of parts/blocks (`text`, Anthropic `tool_result`).
fn texts_in_content(content: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match content {
        Value::String(s) => f(s),
        Value::Array(parts) => {
            for p in parts {
                match p.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        if let Some(Value::String(s)) = p.get_mut("text") {
                            f(s);
                        }
                    }
                    Some("tool_result") => {
                        if let Some(c) = p.get_mut("content") {
                            texts_in_content(c, f);
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}

/// Calls `f` on every text of a complete answer: OpenAI `choices[].message.content` and tool
/// call arguments; Anthropic `content[]` text blocks.
pub fn answer_texts_mut(body: &mut Value, format: WireFormat, f: &mut dyn FnMut(&mut String)) {
    match format {
        WireFormat::OpenAi => {
            let Some(choices) = body.get_mut("choices").and_then(Value::as_array_mut) else {
                return;
            };
            for c in choices {
                if let Some(Value::String(s)) = c.pointer_mut("/message/content") {
                    f(s);
                }
                if let Some(calls) = c
                    .pointer_mut("/message/tool_calls")
                    .and_then(Value::as_array_mut)
                {
                    for call in calls {
                        if let Some(Value::String(args)) = call.pointer_mut("/function/arguments") {
                            f(args);
                        }
                    }
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

/// Tool names a request declares (`tools[].function.name` / `tools[].name`).
pub fn declared_tools(body: &Value, format: WireFormat) -> Vec<String> {
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return Vec::new();
    };
    let ptr = match format {
        WireFormat::OpenAi => "/function/name",
        WireFormat::Anthropic => "/name",
    };
    tools
        .iter()
        .filter_map(|t| t.pointer(ptr).and_then(Value::as_str).map(str::to_string))
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
            }
        }
        WireFormat::Anthropic => {
            for b in body
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if b.get("type").and_then(Value::as_str) == Some("tool_use") {
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
