//! The stream events of both wire formats, as serde types: what the stream scanner reads in
//! each event before it rewrites the event's text. An event that does not fit is not forwarded
//! by guesswork; a delta or event type the gateway does not know is unscanned (the stream is
//! stopped unless `[pipeline] unscanned_parts = "pass"`).

use serde::Deserialize;
use serde_json::Value;

use super::anthropic::Block;

/// An OpenAI `chat.completion.chunk`.
#[derive(Debug, Deserialize)]
pub struct OpenAiChunk {
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
}

#[derive(Debug, Deserialize)]
pub struct ChunkChoice {
    #[serde(default)]
    pub index: u64,
    #[serde(default)]
    pub delta: Option<Delta>,
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// What a chunk adds to a choice.
#[derive(Debug, Default, Deserialize)]
pub struct Delta {
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub refusal: Option<String>,
    /// Reasoning text some OpenAI-compatible providers stream.
    #[serde(default)]
    pub reasoning_content: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<DeltaToolCall>>,
    /// Legacy function calls, streamed like tool calls.
    #[serde(default)]
    pub function_call: Option<DeltaFunction>,
    /// Audio output (base64 and a transcript): not read.
    #[serde(default)]
    pub audio: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub struct DeltaToolCall {
    #[serde(default)]
    pub index: u64,
    #[serde(default)]
    pub function: Option<DeltaFunction>,
    /// A custom tool call: its input streams like function arguments.
    #[serde(default)]
    pub custom: Option<DeltaCustom>,
}

#[derive(Debug, Deserialize)]
pub struct DeltaCustom {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub input: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct DeltaFunction {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub arguments: Option<String>,
}

/// An Anthropic Messages stream event.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicEvent {
    MessageStart {},
    ContentBlockStart {
        index: u64,
        content_block: Block,
    },
    ContentBlockDelta {
        index: u64,
        delta: AnthropicDelta,
    },
    ContentBlockStop {
        index: u64,
    },
    MessageDelta {},
    MessageStop {},
    Ping {},
    Error {},
    #[serde(other)]
    Unknown,
}

/// What a `content_block_delta` adds to a block.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AnthropicDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    /// The signature of a thinking block: no text.
    SignatureDelta {},
    /// A citation of a source document: its cited text is read whole.
    CitationsDelta {
        citation: Value,
    },
    #[serde(other)]
    Unknown,
}
