//! The answer schemas of both wire formats (complete, non-streamed answers), as serde types:
//! what scan_output reads. An answer that does not fit is not scanned by guesswork: scan_output
//! refuses it (502 `upstream_malformed`). A block type the gateway does not know is counted as
//! unscanned, as in requests.

use serde::Deserialize;
use serde_json::Value;

use super::{anthropic, openai, parse, SchemaError};
use crate::pipeline::content::Texts;
use crate::providers::WireFormat;

/// What scan_output needs to know of an answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Content {
    /// Where its texts are.
    pub texts: Texts,
    /// The tools it calls.
    pub called_tools: Vec<String>,
    /// Paths of blocks the gateway cannot read (unknown types).
    pub unscanned: Vec<String>,
}

/// OpenAI: `choices[].message`.
#[derive(Debug, Deserialize)]
pub struct OpenAiAnswer {
    #[serde(default)]
    pub choices: Vec<Choice>,
}

#[derive(Debug, Deserialize)]
pub struct Choice {
    #[serde(default)]
    pub message: Option<AnswerMessage>,
}

/// An assistant message as an answer carries it.
#[derive(Debug, Deserialize)]
pub struct AnswerMessage {
    #[serde(default)]
    pub content: Option<super::Content<openai::Part>>,
    #[serde(default)]
    pub refusal: Option<String>,
    /// Reasoning text some OpenAI-compatible providers return.
    #[serde(default)]
    pub reasoning_content: Option<String>,
    #[serde(default)]
    pub tool_calls: Option<Vec<openai::ToolCall>>,
    #[serde(default)]
    pub function_call: Option<openai::FunctionCall>,
}

/// Anthropic: `content[]` blocks.
#[derive(Debug, Deserialize)]
pub struct AnthropicAnswer {
    #[serde(default)]
    pub content: Vec<anthropic::Block>,
}

/// Reads a complete answer of `format`.
pub fn read(body: &Value, format: WireFormat) -> Result<Content, SchemaError> {
    let mut out = Content::default();
    match format {
        WireFormat::OpenAi => {
            let answer: OpenAiAnswer = parse(body)?;
            for (i, c) in answer.choices.iter().enumerate() {
                let Some(m) = &c.message else { continue };
                let at = format!("/choices/{i}/message");
                openai::content_texts(m.content.as_ref(), &format!("{at}/content"), &mut out.texts);
                if m.refusal.is_some() {
                    out.texts.text(format!("{at}/refusal"));
                }
                if m.reasoning_content.is_some() {
                    out.texts.text(format!("{at}/reasoning_content"));
                }
                let calls = m.tool_calls.as_deref().unwrap_or_default();
                openai::check_tool_calls(calls, &format!("choices[{i}].message"))?;
                for (k, (name, input)) in calls
                    .iter()
                    .enumerate()
                    .filter_map(|(k, c)| c.name_and_input().map(|n| (k, n)))
                {
                    out.texts.text(format!("{at}/tool_calls/{k}/{input}"));
                    out.called_tools.push(name.to_string());
                }
                if let Some(call) = &m.function_call {
                    out.texts.text(format!("{at}/function_call/arguments"));
                    out.called_tools.push(call.name.clone());
                }
            }
        }
        WireFormat::Anthropic => {
            let answer: AnthropicAnswer = parse(body)?;
            for (j, b) in answer.content.iter().enumerate() {
                let at = format!("/content/{j}");
                anthropic::block_texts(b, &at, &mut out.texts);
                match b {
                    anthropic::Block::ToolUse { name, .. }
                    | anthropic::Block::ServerToolUse { name, .. } => {
                        out.called_tools.push(name.clone())
                    }
                    anthropic::Block::Unknown => out.unscanned.push(format!("content[{j}]")),
                    _ => {}
                }
            }
        }
    }
    Ok(out)
}
