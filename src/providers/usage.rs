//! Token usage, read from either wire format (complete answers and stream events).

use serde_json::Value;

use super::WireFormat;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
}

fn field(v: &Value, path: &[&str]) -> Option<u64> {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_u64)
}

impl Usage {
    /// From a complete answer.
    pub fn from_body(format: WireFormat, body: &Value) -> Usage {
        let mut u = Usage::default();
        u.absorb(format, body);
        u
    }

    /// Folds in whatever usage a JSON document (answer or stream event) carries.
    pub fn absorb(&mut self, format: WireFormat, v: &Value) {
        match format {
            WireFormat::OpenAi => {
                if let Some(n) = field(v, &["usage", "prompt_tokens"]) {
                    self.prompt_tokens = n;
                }
                if let Some(n) = field(v, &["usage", "completion_tokens"]) {
                    self.completion_tokens = n;
                }
            }
            WireFormat::Anthropic => {
                // complete answer / message_delta: top-level usage; message_start: message.usage
                for base in [&["usage"][..], &["message", "usage"][..]] {
                    let mut p = base.to_vec();
                    p.push("input_tokens");
                    if let Some(n) = field(v, &p) {
                        self.prompt_tokens = n;
                    }
                    p.pop();
                    p.push("output_tokens");
                    if let Some(n) = field(v, &p) {
                        self.completion_tokens = n;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn openai_usage() {
        let u = Usage::from_body(
            WireFormat::OpenAi,
            &json!({"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}),
        );
        assert_eq!(
            u,
            Usage {
                prompt_tokens: 3,
                completion_tokens: 5
            }
        );
    }

    #[test]
    fn anthropic_stream_usage_accumulates() {
        let mut u = Usage::default();
        u.absorb(
            WireFormat::Anthropic,
            &json!({"type":"message_start","message":{"usage":{"input_tokens":7,"output_tokens":1}}}),
        );
        u.absorb(
            WireFormat::Anthropic,
            &json!({"type":"message_delta","usage":{"output_tokens":12}}),
        );
        assert_eq!(
            u,
            Usage {
                prompt_tokens: 7,
                completion_tokens: 12
            }
        );
    }

    #[test]
    fn missing_usage_is_zero() {
        assert_eq!(
            Usage::from_body(WireFormat::OpenAi, &json!({})),
            Usage::default()
        );
    }
}
