//! Pure text helpers: pulling text out of chat messages, counting "tokens" and
//! splitting answers into stream pieces.
//!
//! Everything here is deterministic so tests can predict exact answers and usage.

use serde_json::Value;

/// Text of one message `content`.
///
/// Both providers use the same two shapes: a plain string, or an array of
/// parts/blocks where text lives in `{"type": "text", "text": ...}`. Several text
/// parts are joined with `"\n"`; other parts (images, tool results) are ignored.
pub fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|p| p["type"] == "text")
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Text of the last message whose role is `user` (empty if there is none).
///
/// This is what the fake echoes and where it looks for `fake:` directives.
pub fn last_user_text(messages: &[Value]) -> String {
    messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .map(|m| content_text(&m["content"]))
        .unwrap_or_default()
}

/// Number of whitespace-separated words: the fake's notion of a token.
pub fn count_words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Words in any content value, including text nested in tool results
/// (`{"type":"tool_result","content": ...}`), so usage reflects the whole prompt.
fn content_words(content: &Value) -> u64 {
    match content {
        Value::String(s) => count_words(s),
        Value::Array(parts) => parts
            .iter()
            .map(|p| {
                let text = p["text"].as_str().map_or(0, count_words);
                text + content_words(&p["content"])
            })
            .sum(),
        _ => 0,
    }
}

/// Prompt/input tokens: words over all message texts plus the Anthropic
/// top-level `system` (pass `Value::Null` when absent). Never below 1.
pub fn prompt_tokens(messages: &[Value], system: &Value) -> u64 {
    let words: u64 = messages.iter().map(|m| content_words(&m["content"])).sum();
    (words + content_words(system)).max(1)
}

/// Splits text into at most `n` pieces of near-equal length (in characters).
/// Pieces are never empty and concatenate back to the input.
pub fn split_text(text: &str, n: usize) -> Vec<String> {
    let units: Vec<&str> = text
        .char_indices()
        .map(|(i, c)| &text[i..i + c.len_utf8()])
        .collect();
    distribute(&units, n)
}

/// Like [`split_text`] for a JSON document, but never cuts inside an escape
/// sequence (`\"`, `\n`, `\u00e9`...), so SDKs that parse partial JSON while
/// streaming (Anthropic `input_json_delta`) always see a clean prefix.
pub fn split_json(json: &str, n: usize) -> Vec<String> {
    let mut units = Vec::new();
    let mut chars = json.char_indices();
    while let Some((start, c)) = chars.next() {
        let mut len = c.len_utf8();
        if c == '\\' {
            if let Some((_, escaped)) = chars.next() {
                len += escaped.len_utf8();
                if escaped == 'u' {
                    len += chars
                        .by_ref()
                        .take(4)
                        .map(|(_, h)| h.len_utf8())
                        .sum::<usize>();
                }
            }
        }
        units.push(&json[start..start + len]);
    }
    distribute(&units, n)
}

/// Groups indivisible units into at most `n` non-empty pieces whose sizes differ by ≤ 1.
fn distribute(units: &[&str], n: usize) -> Vec<String> {
    let n = n.max(1).min(units.len());
    if n == 0 {
        return Vec::new();
    }
    let (base, extra) = (units.len() / n, units.len() % n);
    let mut start = 0;
    (0..n)
        .map(|k| {
            let len = base + usize::from(k < extra);
            let piece = units[start..start + len].concat();
            start += len;
            piece
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_text_handles_string_and_parts() {
        assert_eq!(content_text(&json!("hi there")), "hi there");
        let parts = json!([
            {"type": "text", "text": "a"},
            {"type": "image_url", "image_url": {"url": "x"}},
            {"type": "text", "text": "b"}
        ]);
        assert_eq!(content_text(&parts), "a\nb");
        assert_eq!(content_text(&Value::Null), "");
    }

    #[test]
    fn last_user_text_skips_other_roles() {
        let msgs = vec![
            json!({"role": "system", "content": "sys"}),
            json!({"role": "user", "content": "first"}),
            json!({"role": "user", "content": [{"type": "text", "text": "second"}]}),
            json!({"role": "assistant", "content": "reply"}),
        ];
        assert_eq!(last_user_text(&msgs), "second");
        assert_eq!(last_user_text(&[]), "");
    }

    #[test]
    fn token_counting() {
        assert_eq!(count_words("  one two\tthree\n"), 3);
        let msgs = vec![
            json!({"role": "user", "content": "hello world"}),
            json!({"role": "assistant", "content": null}),
            json!({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t", "content": "sunny and warm"},
                {"type": "text", "text": "thanks"}
            ]}),
        ];
        assert_eq!(prompt_tokens(&msgs, &json!("be brief")), 2 + 3 + 1 + 2);
        assert_eq!(prompt_tokens(&[], &Value::Null), 1, "minimum is 1");
    }

    #[test]
    fn split_text_is_even_and_lossless() {
        assert_eq!(split_text("abcdefghij", 4), ["abc", "def", "gh", "ij"]);
        assert_eq!(split_text("ab", 4), ["a", "b"], "no empty pieces");
        assert_eq!(split_text("héllo wörld", 1), ["héllo wörld"]);
        assert_eq!(split_text("abc", 0), ["abc"], "0 behaves like 1");
        assert!(split_text("", 4).is_empty());
        let pieces = split_text("écho: ünïcode ✓", 5);
        assert_eq!(pieces.len(), 5);
        assert_eq!(pieces.concat(), "écho: ünïcode ✓");
    }

    #[test]
    fn split_json_keeps_escapes_whole() {
        let doc = json!({"query": "a\"b\\c\u{1}"}).to_string();
        let pieces = split_json(&doc, doc.len());
        assert_eq!(pieces.concat(), doc);
        for escape in [r#"\""#, r"\\", r"\u0001"] {
            assert!(
                pieces.iter().any(|p| p == escape),
                "{escape} split: {pieces:?}"
            );
        }
    }
}
