//! Anthropic Messages request schema (the parts of it that carry text or constrain it).

use serde::Deserialize;
use serde_json::Value;

use crate::pipeline::content::Texts;

use super::{
    check_messages_len, check_model, check_range, check_tokens, Checked, Content, SchemaError,
};

#[derive(Debug, Deserialize)]
pub struct Request {
    pub model: String,
    pub messages: Vec<Message>,
    pub max_tokens: i64,
    #[serde(default)]
    pub system: Option<Content<Block>>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub top_k: Option<i64>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub tools: Option<Vec<Tool>>,
}

/// Every role the API defines (the system prompt is a field of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Content<Block>,
}

/// Every content-block type a request may carry.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    Text {
        text: String,
    },
    Image {
        source: Value,
    },
    Document {
        source: DocumentSource,
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        context: Option<String>,
    },
    SearchResult {
        source: String,
        title: String,
        content: Vec<Block>,
    },
    ToolUse {
        id: String,
        name: String,
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        #[serde(default)]
        content: Option<Content<Block>>,
    },
    Thinking {
        thinking: String,
    },
    /// Encrypted by the provider in an earlier answer: opaque, passed back as received.
    RedactedThinking {
        data: String,
    },
    ServerToolUse {
        id: String,
        name: String,
        input: Value,
    },
    WebSearchToolResult {
        tool_use_id: String,
        content: Value,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DocumentSource {
    /// Plain text, read like any text.
    Text {
        data: String,
    },
    /// Text blocks.
    Content {
        content: Content<Block>,
    },
    /// A PDF (base64), a URL or an uploaded file: the gateway cannot read it.
    Base64 {
        data: String,
    },
    Url {
        url: String,
    },
    File {
        file_id: String,
    },
    #[serde(other)]
    Unknown,
}

/// A tool definition: a custom tool (`name`, `description`, `input_schema`) or a server tool
/// (`type`, `name`, settings).
#[derive(Debug, Deserialize)]
pub struct Tool {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub input_schema: Option<Value>,
}

impl Request {
    pub fn check(&self) -> Result<Checked, SchemaError> {
        check_model(&self.model)?;
        check_messages_len(self.messages.len())?;
        check_tokens("max_tokens", Some(self.max_tokens))?;
        check_range("temperature", self.temperature, 0.0, 1.0)?;
        check_range("top_p", self.top_p, 0.0, 1.0)?;
        if self.top_k.is_some_and(|k| k < 0) {
            return Err(SchemaError::new("top_k", "must not be negative"));
        }
        let mut checked = Checked::default();
        if let Some(Content::Parts(blocks)) = &self.system {
            for (j, b) in blocks.iter().enumerate() {
                if !matches!(b, Block::Text { .. }) {
                    return Err(SchemaError::new(
                        format!("system[{j}].type"),
                        "the system prompt takes text blocks only",
                    ));
                }
            }
        }
        for (i, m) in self.messages.iter().enumerate() {
            if let Content::Parts(blocks) = &m.content {
                for (j, b) in blocks.iter().enumerate() {
                    visit(b, &format!("messages[{i}].content[{j}]"), &mut checked);
                }
            }
        }
        Ok(checked)
    }
}

/// Counts the blocks the gateway cannot read, nested ones included.
fn visit(b: &Block, path: &str, checked: &mut Checked) {
    match b {
        Block::Image { .. } | Block::RedactedThinking { .. } => checked.opaque += 1,
        Block::Document { source, .. } => match source {
            DocumentSource::Text { .. } => {}
            DocumentSource::Content { content } => {
                if let Content::Parts(inner) = content {
                    for (k, c) in inner.iter().enumerate() {
                        visit(c, &format!("{path}.source.content[{k}]"), checked);
                    }
                }
            }
            _ => checked.unscanned.push(format!("{path}.source")),
        },
        Block::SearchResult { content, .. } => {
            for (k, c) in content.iter().enumerate() {
                visit(c, &format!("{path}.content[{k}]"), checked);
            }
        }
        Block::ToolResult {
            content: Some(Content::Parts(inner)),
            ..
        } => {
            for (k, c) in inner.iter().enumerate() {
                visit(c, &format!("{path}.content[{k}]"), checked);
            }
        }
        Block::Unknown => checked.unscanned.push(path.to_string()),
        _ => {}
    }
}

impl Request {
    /// Where the texts of this request are: the system prompt, every block's text (nested
    /// ones included), tool inputs echoed back, tool descriptions and input schemas.
    pub fn texts(&self, out: &mut Texts) {
        content_texts(self.system.as_ref(), "/system", out);
        for (i, m) in self.messages.iter().enumerate() {
            content_texts(Some(&m.content), &format!("/messages/{i}/content"), out);
        }
        for (i, t) in self.tools.iter().flatten().enumerate() {
            if t.description.is_some() {
                out.text(format!("/tools/{i}/description"));
            }
            if t.input_schema.is_some() {
                out.strings(format!("/tools/{i}/input_schema"));
            }
        }
    }
}

fn content_texts(content: Option<&Content<Block>>, at: &str, out: &mut Texts) {
    match content {
        Some(Content::Text(_)) => out.text(at.to_string()),
        Some(Content::Parts(blocks)) => {
            for (j, b) in blocks.iter().enumerate() {
                block_texts(b, &format!("{at}/{j}"), out);
            }
        }
        None => {}
    }
}

/// The texts of one block at `at` (requests and answers share the block types).
pub fn block_texts(b: &Block, at: &str, out: &mut Texts) {
    match b {
        Block::Text { .. } => out.text(format!("{at}/text")),
        Block::Thinking { .. } => out.text(format!("{at}/thinking")),
        Block::ToolUse { .. } | Block::ServerToolUse { .. } => out.strings(format!("{at}/input")),
        Block::WebSearchToolResult { .. } => out.strings(format!("{at}/content")),
        Block::ToolResult { content, .. } => {
            content_texts(content.as_ref(), &format!("{at}/content"), out)
        }
        Block::Document {
            source,
            title,
            context,
        } => {
            if title.is_some() {
                out.text(format!("{at}/title"));
            }
            if context.is_some() {
                out.text(format!("{at}/context"));
            }
            match source {
                DocumentSource::Text { .. } => out.text(format!("{at}/source/data")),
                DocumentSource::Content { content } => {
                    content_texts(Some(content), &format!("{at}/source/content"), out)
                }
                DocumentSource::Base64 { .. }
                | DocumentSource::Url { .. }
                | DocumentSource::File { .. }
                | DocumentSource::Unknown => {}
            }
        }
        Block::SearchResult { content, .. } => {
            out.text(format!("{at}/title"));
            out.text(format!("{at}/source"));
            for (k, c) in content.iter().enumerate() {
                block_texts(c, &format!("{at}/content/{k}"), out);
            }
        }
        Block::Image { .. } | Block::RedactedThinking { .. } | Block::Unknown => {}
    }
}
