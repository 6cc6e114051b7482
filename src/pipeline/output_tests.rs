//! Unit tests of `output.rs`.

use super::*;
use crate::detect::EntityKind;

fn scanner(action: OutputAction) -> Scanner {
    Scanner {
        action,
        pii: true,
        restore: Vec::new(),
    }
}

fn openai_chunk(text: &str) -> SseEvent {
    SseEvent::data(
        json!({"id": "c1", "object": "chat.completion.chunk", "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": null}]})
        .to_string(),
    )
}

fn openai_finish() -> SseEvent {
    SseEvent::data(
        json!({"id": "c1", "object": "chat.completion.chunk", "model": "m",
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
        .to_string(),
    )
}

fn collect_openai(events: &[SseEvent]) -> String {
    events
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(&e.data).ok())
        .filter_map(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_string)
        })
        .collect()
}

fn run(s: &mut StreamScanner, events: Vec<SseEvent>) -> (Vec<SseEvent>, Option<String>) {
    let mut out = Vec::new();
    for ev in events {
        match s.on_event(ev) {
            Flow::Forward(evs) => out.extend(evs),
            Flow::Stop(r) => return (out, Some(r)),
        }
    }
    (out, None)
}

fn no_tools() -> ToolCheck {
    Box::new(|_| None)
}

#[test]
fn an_email_split_across_chunks_never_leaves_in_clear() {
    let mut s = StreamScanner::new(
        WireFormat::OpenAi,
        scanner(OutputAction::Redact),
        no_tools(),
    );
    let pieces = [
        "Write to ali",
        "ce.smith@exam",
        "ple.com today, please. ",
        "Thanks!",
    ];
    let mut events: Vec<SseEvent> = pieces.iter().map(|p| openai_chunk(p)).collect();
    events.push(openai_finish());
    let (out, stop) = run(&mut s, events);
    assert!(stop.is_none());
    let text = collect_openai(&out);
    assert_eq!(text, "Write to [MASKED_EMAIL] today, please. Thanks!");
    for e in &out {
        assert!(
            !e.data.contains("example.com") && !e.data.contains("alice"),
            "leaked in {}",
            e.data
        );
    }
    assert!(s.kinds.contains(&EntityKind::Email));
}

#[test]
fn a_secret_split_across_chunks_is_redacted() {
    let mut s = StreamScanner::new(
        WireFormat::OpenAi,
        scanner(OutputAction::Redact),
        no_tools(),
    );
    let key = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
    let events = vec![
        openai_chunk("token: ghp_01234"),
        openai_chunk(&key[10..25]),
        openai_chunk(&key[25..]),
        openai_chunk(" done"),
        openai_finish(),
    ];
    let (out, _) = run(&mut s, events);
    let text = collect_openai(&out);
    assert!(!text.contains("ghp_"), "{text}");
    for e in &out {
        assert!(
            !e.data.contains("0123456789abc"),
            "partial key leaked: {}",
            e.data
        );
    }
}

#[test]
fn text_flows_while_streaming() {
    let mut s = StreamScanner::new(
        WireFormat::OpenAi,
        scanner(OutputAction::Redact),
        no_tools(),
    );
    let long = "word ".repeat(100);
    let (out, _) = run(&mut s, vec![openai_chunk(&long)]);
    let released = collect_openai(&out);
    assert!(
        released.len() >= long.len() - HOLD - 5,
        "released only {} bytes",
        released.len()
    );
}

#[test]
fn block_stops_the_stream() {
    let mut s = StreamScanner::new(WireFormat::OpenAi, scanner(OutputAction::Block), no_tools());
    let (_, stop) = run(
        &mut s,
        vec![openai_chunk("mail bob@example.com "), openai_finish()],
    );
    assert!(stop.unwrap().contains(EntityKind::Email.as_str()));
}

#[test]
fn denied_tool_call_stops_the_stream() {
    let mut s = StreamScanner::new(
        WireFormat::OpenAi,
        scanner(OutputAction::Redact),
        Box::new(|n| (n == "shell").then(|| "tool `shell` is denied".to_string())),
    );
    let ev = SseEvent::data(json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c", "type": "function", "function": {"name": "shell", "arguments": ""}}]}, "finish_reason": null}]}).to_string());
    let (_, stop) = run(&mut s, vec![ev]);
    assert!(stop.unwrap().contains("shell"));
}

#[test]
fn anthropic_blocks_flush_before_stop() {
    let mut s = StreamScanner::new(
        WireFormat::Anthropic,
        scanner(OutputAction::Redact),
        no_tools(),
    );
    let delta = |t: &str| {
        SseEvent::named("content_block_delta", json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": t}}).to_string())
    };
    let stop = SseEvent::named(
        "content_block_stop",
        json!({"type": "content_block_stop", "index": 0}).to_string(),
    );
    let (out, _) = run(
        &mut s,
        vec![delta("call +1 415 555"), delta(" 2671 now"), stop],
    );
    let text: String = out
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(&e.data).ok())
        .filter_map(|v| v["delta"]["text"].as_str().map(str::to_string))
        .collect();
    assert_eq!(text, "call [MASKED_PHONE_NUMBER] now");
    assert_eq!(
        out.last().unwrap().event.as_deref(),
        Some("content_block_stop")
    );
}

#[test]
fn restore_puts_masked_values_back() {
    let sc = Scanner {
        action: OutputAction::Redact,
        pii: false,
        restore: vec![("[MASKED_EMAIL_1]".into(), "ann@corp.example".into())],
    };
    let mut s = StreamScanner::new(WireFormat::OpenAi, sc.clone(), no_tools());
    let (out, _) = run(
        &mut s,
        vec![
            openai_chunk("Reply to [MASKED_"),
            openai_chunk("EMAIL_1] ok"),
            openai_finish(),
        ],
    );
    assert_eq!(collect_openai(&out), "Reply to ann@corp.example ok");
    let mut t = "to [MASKED_EMAIL_1]".to_string();
    sc.scan_text(&mut t);
    assert_eq!(t, "to ann@corp.example");
}

#[test]
fn open_private_key_is_held_until_its_end() {
    let buf = "here: -----BEGIN PRIVATE KEY-----\nMIIE".to_string() + &"A".repeat(300) + "\n";
    assert_eq!(safe_cut(&buf, &[]), 6);
}

/// The review's unscanned stream parts: non-JSON events, refusal and reasoning deltas,
/// thinking deltas, a block that starts with content.
#[test]
fn every_stream_part_is_scanned_or_dropped() {
    let mut s = StreamScanner::new(
        WireFormat::OpenAi,
        scanner(OutputAction::Redact),
        no_tools(),
    );
    let delta = |d: Value| {
        SseEvent::data(
            json!({"id": "c1", "object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": d, "finish_reason": null}]})
            .to_string(),
        )
    };
    let (out, stop) = run(
        &mut s,
        vec![
            SseEvent::data("not json: alice@example.com"),
            delta(json!({"refusal": "mail alice@exa"})),
            delta(json!({"refusal": "mple.com now "})),
            delta(json!({"reasoning_content": "key AKIAIOSFODNN7EXAMPLE ok "})),
            openai_finish(),
            SseEvent::data("[DONE]"),
        ],
    );
    assert!(stop.is_none());
    let text: String = out.iter().map(|e| e.data.clone()).collect();
    assert!(
        !text.contains("alice@") && !text.contains("AKIAIOSFODNN7EXAMPLE"),
        "{text}"
    );
    assert!(
        text.contains("[MASKED_EMAIL]") && text.contains("[REDACTED]"),
        "{text}"
    );
    assert!(text.contains("[DONE]"));
    assert!(s.kinds.contains(&EntityKind::UnscannedEvent));

    let mut s = StreamScanner::new(
        WireFormat::Anthropic,
        scanner(OutputAction::Redact),
        no_tools(),
    );
    let ev = |name: &str, d: Value| SseEvent::named(name, d.to_string());
    let (out, stop) = run(
        &mut s,
        vec![
            ev(
                "content_block_start",
                json!({"type": "content_block_start", "index": 0,
                "content_block": {"type": "thinking", "thinking": ""}}),
            ),
            ev(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "the key is ghp_0123456789abcdef"}}),
            ),
            ev(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "thinking_delta", "thinking": "ghijABCDEFGHIJ012345 ok"}}),
            ),
            ev(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": 0}),
            ),
            ev(
                "content_block_start",
                json!({"type": "content_block_start", "index": 1,
                "content_block": {"type": "text", "text": "write to bob@example.org"}}),
            ),
            ev(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": 1}),
            ),
            SseEvent::named("ping", "garbage{"),
        ],
    );
    assert!(stop.is_none());
    let text: String = out.iter().map(|e| e.data.clone()).collect();
    assert!(
        !text.contains("ghp_") && !text.contains("bob@example.org"),
        "{text}"
    );
    assert!(!text.contains("garbage"));
}

fn all_data(events: &[SseEvent]) -> String {
    events.iter().map(|e| e.data.as_str()).collect()
}

#[test]
fn legacy_function_call_arguments_are_scanned_and_its_name_checked() {
    let chunk = |f: Value| {
        SseEvent::data(
            json!({"object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"function_call": f}, "finish_reason": null}]})
            .to_string(),
        )
    };
    let mut s = StreamScanner::new(
        WireFormat::OpenAi,
        scanner(OutputAction::Redact),
        no_tools(),
    );
    let (out, stop) = run(
        &mut s,
        vec![
            chunk(json!({"name": "lookup", "arguments": "{\"q\": \"AKIAIOSFO"})),
            chunk(json!({"arguments": "DNN7EXAMPLE\"} "})),
            openai_finish(),
        ],
    );
    assert_eq!(stop, None);
    let text = all_data(&out);
    assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"), "{text}");
    assert!(text.contains("[REDACTED]"), "{text}");
    let mut s = StreamScanner::new(
        WireFormat::OpenAi,
        scanner(OutputAction::Redact),
        Box::new(|n| (n == "shell").then(|| "tool `shell` is denied".to_string())),
    );
    let (_, stop) = run(
        &mut s,
        vec![chunk(json!({"name": "shell", "arguments": ""}))],
    );
    assert_eq!(stop.as_deref(), Some("tool `shell` is denied"));
}

fn anthropic_event(name: &str, data: Value) -> SseEvent {
    SseEvent::named(name, data.to_string())
}

#[test]
fn citations_in_a_stream_are_scanned() {
    let mut s = StreamScanner::new(
        WireFormat::Anthropic,
        scanner(OutputAction::Redact),
        no_tools(),
    );
    let (out, stop) = run(
        &mut s,
        vec![anthropic_event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "citations_delta",
                "citation": {"type": "char_location", "cited_text": "write to carol@example.org"}}}),
        )],
    );
    assert_eq!(stop, None);
    let text = all_data(&out);
    assert!(!text.contains("carol@example.org"), "{text}");
    assert!(s.kinds.contains(&EntityKind::Email));
}

#[test]
fn unknown_stream_parts_stop_the_stream_unless_allowed() {
    let unknown = [
        anthropic_event(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0,
                "delta": {"type": "future_delta", "text": "carol@example.org"}}),
        ),
        anthropic_event(
            "content_block_start",
            json!({"type": "content_block_start", "index": 1,
                "content_block": {"type": "future_block", "text": "x"}}),
        ),
        anthropic_event("future_event", json!({"type": "future_event", "x": 1})),
    ];
    for ev in unknown {
        let mut s = StreamScanner::new(
            WireFormat::Anthropic,
            scanner(OutputAction::Redact),
            no_tools(),
        );
        let (_, stop) = run(&mut s, vec![ev.clone()]);
        assert!(stop.is_some_and(|r| r.contains("cannot scan")), "{ev:?}");
        let mut s = StreamScanner::new(
            WireFormat::Anthropic,
            scanner(OutputAction::Redact),
            no_tools(),
        )
        .passing_unscanned(true);
        let (out, stop) = run(&mut s, vec![ev.clone()]);
        assert_eq!((stop, out.len()), (None, 1), "{ev:?}");
        assert!(s.kinds.contains(&EntityKind::UnscannedPart));
    }
}

#[test]
fn events_that_do_not_fit_the_schema_stop_the_stream() {
    for (format, ev) in [
        (
            WireFormat::Anthropic,
            anthropic_event(
                "content_block_delta",
                json!({"type": "content_block_delta", "delta": {"type": "text_delta", "text": "x"}}),
            ),
        ),
        (
            WireFormat::Anthropic,
            anthropic_event(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": ["carol@example.org"]}}),
            ),
        ),
        (
            WireFormat::OpenAi,
            SseEvent::data(
                json!({"choices": [{"index": 0, "delta": {"content": {"t": "carol@example.org"}}}]})
                    .to_string(),
            ),
        ),
    ] {
        let mut s = StreamScanner::new(format, scanner(OutputAction::Redact), no_tools());
        let (out, stop) = run(&mut s, vec![ev.clone()]);
        let reason = stop.expect("stopped");
        assert!(reason.contains("cannot read"), "{reason}");
        assert!(!reason.contains("carol"), "{reason}");
        assert!(out.is_empty(), "{ev:?}");
    }
}

#[test]
fn custom_tool_call_input_is_scanned_and_its_name_checked() {
    let chunk = |call: Value| {
        SseEvent::data(
            json!({"object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": null}]})
            .to_string(),
        )
    };
    let mut s = StreamScanner::new(
        WireFormat::OpenAi,
        scanner(OutputAction::Redact),
        Box::new(|n| (n == "shell").then(|| "tool `shell` is denied".to_string())),
    );
    let (out, stop) = run(
        &mut s,
        vec![
            chunk(
                json!({"index": 0, "type": "custom", "custom": {"name": "notes", "input": "mail carol@exa"}}),
            ),
            chunk(json!({"index": 0, "custom": {"input": "mple.org now "}})),
            openai_finish(),
        ],
    );
    assert_eq!(stop, None);
    let text = all_data(&out);
    assert!(!text.contains("carol@example.org"), "{text}");
    assert!(text.contains("[MASKED_EMAIL]"), "{text}");
    let (_, stop) = run(
        &mut s,
        vec![chunk(
            json!({"index": 1, "type": "custom", "custom": {"name": "shell", "input": ""}}),
        )],
    );
    assert_eq!(stop.as_deref(), Some("tool `shell` is denied"));
}
