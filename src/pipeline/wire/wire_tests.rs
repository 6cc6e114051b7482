//! Tests of the request schemas: each violation names its field; unreadable parts are counted.

use serde_json::json;

use super::*;

fn openai(body: serde_json::Value) -> Result<Checked, SchemaError> {
    check(&body, WireFormat::OpenAi)
}

fn anthropic(body: serde_json::Value) -> Result<Checked, SchemaError> {
    check(&body, WireFormat::Anthropic)
}

fn field_of(r: Result<Checked, SchemaError>) -> String {
    r.expect_err("should be refused").field
}

#[test]
fn the_reviews_schema_violations_name_their_field() {
    let ok = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    let checked = openai(ok.clone()).unwrap();
    assert!(checked.unscanned.is_empty() && checked.opaque == 0);
    assert_eq!(
        checked.texts,
        crate::pipeline::content::Texts(vec![crate::pipeline::content::TextAt::Text(
            "/messages/0/content".into()
        )])
    );
    let mut b = ok.clone();
    b["messages"][0]["content"] = json!(5);
    let e = openai(b).unwrap_err();
    assert_eq!(e.field, "messages[0].content");
    assert!(
        e.message.contains("a string or an array of content parts"),
        "{e:?}"
    );
    let mut b = ok.clone();
    b["messages"][0]["role"] = json!("hacker");
    let e = openai(b).unwrap_err();
    assert_eq!(e.field, "messages[0].role");
    assert!(
        !e.message.contains("hacker") && e.message.contains("assistant"),
        "{e:?}"
    );
    let mut b = ok.clone();
    b["max_tokens"] = json!(-5);
    assert_eq!(field_of(openai(b)), "max_tokens");
    let mut b = ok.clone();
    b["model"] = json!("m".repeat(100_000));
    assert_eq!(field_of(openai(b)), "model");
    let mut b = ok.clone();
    b["temperature"] = json!(7);
    assert_eq!(field_of(openai(b)), "temperature");
    let mut b = ok.clone();
    b["max_tokens"] = json!(1.5);
    assert_eq!(field_of(openai(b)), "max_tokens");
    let mut b = ok;
    b["n"] = json!(0);
    assert_eq!(field_of(openai(b)), "n");
}

#[test]
fn openai_roles_and_parts() {
    let body = json!({"model": "m", "messages": [
        {"role": "system", "content": "s"},
        {"role": "developer", "content": [{"type": "text", "text": "d"}]},
        {"role": "user", "content": [{"type": "text", "text": "u"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "r"},
        {"role": "assistant", "content": null, "function_call": {"name": "f", "arguments": "{}"}},
        {"role": "function", "name": "f", "content": "r"},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]}
    ]});
    let c = openai(body).unwrap();
    assert_eq!((c.opaque, c.unscanned.len()), (1, 0));
    let c = openai(
        json!({"model": "m", "messages": [{"role": "user", "content": [
        {"type": "file", "file": {"file_data": "JVBERi0="}},
        {"type": "input_audio", "input_audio": {"data": "AA", "format": "wav"}},
        {"type": "hologram", "hologram": {}}]}]}),
    )
    .unwrap();
    assert_eq!(
        c.unscanned,
        vec![
            "messages[0].content[0]",
            "messages[0].content[1]",
            "messages[0].content[2]"
        ]
    );
    for (msg, field) in [
        (
            json!({"role": "tool", "content": "r"}),
            "messages[0].tool_call_id",
        ),
        (
            json!({"role": "function", "content": "r"}),
            "messages[0].name",
        ),
        (json!({"role": "user"}), "messages[0].content"),
        (
            json!({"role": "system", "content": [{"type": "image_url", "image_url": {}}]}),
            "messages[0].content[0].type",
        ),
        (
            json!({"role": "user", "content": [{"type": "text"}]}),
            "messages[0].content[0].text",
        ),
    ] {
        let got = field_of(openai(json!({"model": "m", "messages": [msg]})));
        assert_eq!(got, field, "{msg}");
    }
    assert_eq!(
        field_of(openai(json!({"model": "m", "messages": []}))),
        "messages"
    );
    let c = openai(
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}],
        "tools": [{"type": "function", "function": {"name": "f"}}, {"type": "mystery"}]}),
    )
    .unwrap();
    assert_eq!(c.unscanned, vec!["tools[1]"]);
}

#[test]
fn anthropic_blocks() {
    let body = json!({"model": "m", "max_tokens": 10, "system": [{"type": "text", "text": "s"}],
        "messages": [
        {"role": "user", "content": [
            {"type": "text", "text": "t"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA"}},
            {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "d"}},
            {"type": "search_result", "source": "s", "title": "t", "content": [{"type": "text", "text": "r"}]}
        ]},
        {"role": "assistant", "content": [
            {"type": "thinking", "thinking": "hmm", "signature": "x"},
            {"type": "tool_use", "id": "t1", "name": "f", "input": {"q": "v"}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
            "content": [{"type": "text", "text": "r"}]}]}
    ]});
    let c = anthropic(body).unwrap();
    assert_eq!((c.opaque, c.unscanned.len()), (1, 0));
    let c = anthropic(json!({"model": "m", "max_tokens": 10, "messages": [{"role": "user", "content": [
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBE"}},
        {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "hologram"}]}]}]}))
    .unwrap();
    assert_eq!(
        c.unscanned,
        vec![
            "messages[0].content[0].source",
            "messages[0].content[1].content[0]"
        ]
    );
    for (body, field) in [
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}),
            "max_tokens",
        ),
        (
            json!({"model": "m", "max_tokens": 1, "messages": [{"role": "system", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            json!({"model": "m", "max_tokens": 0, "messages": [{"role": "user", "content": "x"}]}),
            "max_tokens",
        ),
        (
            json!({"model": "m", "max_tokens": 1, "temperature": 1.5, "messages": [{"role": "user", "content": "x"}]}),
            "temperature",
        ),
        (
            json!({"model": "m", "max_tokens": 1, "system": [{"type": "image", "source": {}}],
                   "messages": [{"role": "user", "content": "x"}]}),
            "system[0].type",
        ),
    ] {
        assert_eq!(field_of(anthropic(body.clone())), field, "{body}");
    }
}

#[test]
fn refusals_never_quote_the_value_they_refuse() {
    let secret = "my SSN is 123-45-6789";
    for body in [
        json!({"model": "m", "messages": [{"role": secret, "content": "x"}]}),
        json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": 5}], "name": 7}]}),
        json!({"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": secret}),
        json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": [secret]}]}]}),
    ] {
        let e = openai(body.clone()).unwrap_err();
        assert!(!e.message.contains("123-45"), "{body}: {e:?}");
        assert!(!e.field.contains("123-45"), "{body}: {e:?}");
    }
    let e =
        anthropic(json!({"model": "m", "max_tokens": 5, "messages": "secret 4111 1111 1111 1111"}))
            .unwrap_err();
    assert!(!e.message.contains("4111"), "{e:?}");
    assert_eq!(
        super::without_values("unknown variant `tool`, expected one of `user`"),
        "unknown variant `…`, expected one of `user`"
    );
    assert_eq!(
        super::without_values(r#"invalid type: string "a\"b SSN", expected x"#),
        r#"invalid type: string "…", expected x"#
    );
    assert_eq!(
        super::without_values(&format!("missing field `{}`", "x".repeat(41))),
        "missing field `…`"
    );
}

#[test]
fn a_tool_call_is_a_function_or_a_custom_call() {
    let with = |call: serde_json::Value| json!({"model": "m", "messages": [{"role": "assistant", "content": null, "tool_calls": [call]}]});
    assert!(openai(with(
        json!({"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}})
    ))
    .is_ok());
    assert!(openai(with(
        json!({"id": "a", "type": "custom", "custom": {"name": "g", "input": "x"}})
    ))
    .is_ok());
    assert_eq!(
        field_of(openai(with(json!({"id": "a", "type": "custom"})))),
        "messages[0].tool_calls[0].function"
    );
}
