//! The built-in `mock` provider: answers `mock/<anything>` locally by echoing the last user
//! message, in either wire format, streaming or not. It exists so a new user can try the whole
//! path — auth, pipeline, audit — without a provider key; it is clearly named in every audit
//! event (`"provider":"mock"`) and can be switched off (`server.mock_provider = false`).

use async_trait::async_trait;
use futures_util::stream;
use serde_json::{json, Value};

use super::{Provider, ProviderError, SseEvent, UpstreamReply, UpstreamRequest, Usage, WireFormat};

pub struct MockProvider;

/// Text of the last user message (string content or text parts/blocks).
fn last_user_text(body: &Value) -> String {
    let messages = body.get("messages").and_then(Value::as_array);
    let last = messages.and_then(|m| {
        m.iter()
            .rev()
            .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
    });
    match last.and_then(|m| m.get("content")) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

fn words(s: &str) -> u64 {
    s.split_whitespace().count().max(1) as u64
}

#[async_trait]
impl Provider for MockProvider {
    fn name(&self) -> &str {
        "mock"
    }

    fn speaks(&self, _format: WireFormat) -> bool {
        true
    }

    async fn send(
        &self,
        format: WireFormat,
        req: &UpstreamRequest,
    ) -> Result<UpstreamReply, ProviderError> {
        let model = req.body.get("model").cloned().unwrap_or(Value::Null);
        let input = last_user_text(&req.body);
        let text = format!("mock: {input}");
        let usage = Usage {
            prompt_tokens: words(&input),
            completion_tokens: words(&text),
        };
        let id = uuid::Uuid::new_v4().simple().to_string();
        let created = chrono::Utc::now().timestamp();
        if !req.stream {
            let body = match format {
                WireFormat::OpenAi => json!({
                    "id": format!("chatcmpl-{id}"), "object": "chat.completion", "created": created,
                    "model": model,
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                 "finish_reason": "stop", "logprobs": null}],
                    "usage": {"prompt_tokens": usage.prompt_tokens,
                              "completion_tokens": usage.completion_tokens,
                              "total_tokens": usage.prompt_tokens + usage.completion_tokens}
                }),
                WireFormat::Anthropic => json!({
                    "id": format!("msg_{id}"), "type": "message", "role": "assistant", "model": model,
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn", "stop_sequence": null,
                    "usage": {"input_tokens": usage.prompt_tokens, "output_tokens": usage.completion_tokens}
                }),
            };
            return Ok(UpstreamReply::Complete { body, usage });
        }
        let events: Vec<SseEvent> = match format {
            WireFormat::OpenAi => {
                let chunk = |delta: Value, finish: Value| {
                    SseEvent::data(
                        json!({"id": format!("chatcmpl-{id}"), "object": "chat.completion.chunk",
                               "created": created, "model": model,
                               "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]})
                        .to_string(),
                    )
                };
                vec![
                    chunk(json!({"role": "assistant", "content": ""}), Value::Null),
                    chunk(json!({"content": text}), Value::Null),
                    chunk(json!({}), json!("stop")),
                    SseEvent::data("[DONE]"),
                ]
            }
            WireFormat::Anthropic => vec![
                SseEvent::named("message_start", json!({"type": "message_start", "message": {
                    "id": format!("msg_{id}"), "type": "message", "role": "assistant", "model": model,
                    "content": [], "stop_reason": null, "stop_sequence": null,
                    "usage": {"input_tokens": usage.prompt_tokens, "output_tokens": 1}}}).to_string()),
                SseEvent::named("content_block_start", json!({"type": "content_block_start", "index": 0,
                    "content_block": {"type": "text", "text": ""}}).to_string()),
                SseEvent::named("content_block_delta", json!({"type": "content_block_delta", "index": 0,
                    "delta": {"type": "text_delta", "text": text}}).to_string()),
                SseEvent::named("content_block_stop", json!({"type": "content_block_stop", "index": 0}).to_string()),
                SseEvent::named("message_delta", json!({"type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": null},
                    "usage": {"output_tokens": usage.completion_tokens}}).to_string()),
                SseEvent::named("message_stop", json!({"type": "message_stop"}).to_string()),
            ],
        };
        Ok(UpstreamReply::Stream(Box::pin(stream::iter(
            events.into_iter().map(Ok),
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_user_text_handles_strings_and_parts() {
        let b = json!({"messages":[{"role":"user","content":"first"},{"role":"assistant","content":"x"},
                                    {"role":"user","content":[{"type":"text","text":"hello"},{"type":"text","text":"world"}]}]});
        assert_eq!(last_user_text(&b), "hello world");
        assert_eq!(last_user_text(&json!({})), "");
    }

    #[tokio::test]
    async fn mock_echoes_in_both_formats() {
        let req = UpstreamRequest {
            body: json!({"model":"echo","messages":[{"role":"user","content":"hi there"}]}),
            stream: false,
            anthropic_version: None,
            anthropic_beta: None,
        };
        for f in [WireFormat::OpenAi, WireFormat::Anthropic] {
            let UpstreamReply::Complete { body, usage } = MockProvider.send(f, &req).await.unwrap()
            else {
                panic!("expected a complete answer")
            };
            assert!(body.to_string().contains("mock: hi there"));
            assert_eq!(usage.prompt_tokens, 2);
        }
    }
}
