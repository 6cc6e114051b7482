//! OpenAI Chat Completions request schema (the parts of it that carry text or constrain it).

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
    #[serde(default)]
    pub max_tokens: Option<i64>,
    #[serde(default)]
    pub max_completion_tokens: Option<i64>,
    #[serde(default)]
    pub temperature: Option<f64>,
    #[serde(default)]
    pub top_p: Option<f64>,
    #[serde(default)]
    pub n: Option<i64>,
    #[serde(default)]
    pub presence_penalty: Option<f64>,
    #[serde(default)]
    pub frequency_penalty: Option<f64>,
    #[serde(default)]
    pub stream: Option<bool>,
    #[serde(default)]
    pub stream_options: Option<StreamOptions>,
    #[serde(default)]
    pub tools: Option<Vec<Tool>>,
    /// Legacy function declarations (checked against the tool lists like `tools`).
    #[serde(default)]
    pub functions: Option<Vec<FunctionDef>>,
}

#[derive(Debug, Deserialize)]
pub struct StreamOptions {
    #[serde(default)]
    pub include_usage: Option<bool>,
}

/// Every role the API defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
    Tool,
    /// Legacy function results.
    Function,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub role: Role,
    #[serde(default)]
    pub content: Option<Content<Part>>,
    #[serde(default)]
    pub tool_calls: Option<Vec<ToolCall>>,
    #[serde(default)]
    pub function_call: Option<FunctionCall>,
    #[serde(default)]
    pub refusal: Option<String>,
    #[serde(default)]
    pub tool_call_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

/// Every content-part type the API defines.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Part {
    Text {
        text: String,
    },
    ImageUrl {
        image_url: Value,
    },
    InputAudio {
        input_audio: Value,
    },
    File {
        file: Value,
    },
    Refusal {
        refusal: String,
    },
    #[serde(other)]
    Unknown,
}

impl Part {
    fn name(&self) -> &'static str {
        match self {
            Part::Text { .. } => "text",
            Part::ImageUrl { .. } => "image_url",
            Part::InputAudio { .. } => "input_audio",
            Part::File { .. } => "file",
            Part::Refusal { .. } => "refusal",
            Part::Unknown => "unknown",
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct ToolCall {
    #[serde(default)]
    pub id: Option<String>,
    /// `type: function` calls.
    #[serde(default)]
    pub function: Option<FunctionCall>,
    /// `type: custom` calls (free-form input to a custom tool).
    #[serde(default)]
    pub custom: Option<CustomCall>,
}

#[derive(Debug, Deserialize)]
pub struct CustomCall {
    pub name: String,
    pub input: String,
}

impl ToolCall {
    /// The called tool's name, and where its input is (relative to the call).
    pub fn name_and_input(&self) -> Option<(&str, &'static str)> {
        match (&self.function, &self.custom) {
            (Some(f), _) => Some((&f.name, "function/arguments")),
            (None, Some(c)) => Some((&c.name, "custom/input")),
            (None, None) => None,
        }
    }
}

/// A tool call must be a function or a custom call.
pub fn check_tool_calls(calls: &[ToolCall], at: &str) -> Result<(), SchemaError> {
    for (k, c) in calls.iter().enumerate() {
        if c.name_and_input().is_none() {
            return Err(SchemaError::new(
                format!("{at}.tool_calls[{k}].function"),
                "is required (or `custom` for a custom tool call)",
            ));
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct FunctionCall {
    pub name: String,
    pub arguments: String,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Tool {
    Function {
        function: FunctionDef,
    },
    Custom {
        custom: Value,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
pub struct FunctionDef {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub parameters: Option<Value>,
}

impl Request {
    pub fn check(&self) -> Result<Checked, SchemaError> {
        check_model(&self.model)?;
        check_messages_len(self.messages.len())?;
        check_tokens("max_tokens", self.max_tokens)?;
        check_tokens("max_completion_tokens", self.max_completion_tokens)?;
        check_range("temperature", self.temperature, 0.0, 2.0)?;
        check_range("top_p", self.top_p, 0.0, 1.0)?;
        check_range("presence_penalty", self.presence_penalty, -2.0, 2.0)?;
        check_range("frequency_penalty", self.frequency_penalty, -2.0, 2.0)?;
        if let Some(n) = self.n {
            if !(1..=128).contains(&n) {
                return Err(SchemaError::new("n", "must be an integer from 1 to 128"));
            }
        }
        let mut checked = Checked::default();
        for (i, m) in self.messages.iter().enumerate() {
            check_message(i, m, &mut checked)?;
        }
        for (i, t) in self.tools.iter().flatten().enumerate() {
            if let Tool::Unknown = t {
                checked.unscanned.push(format!("tools[{i}]"));
            }
        }
        Ok(checked)
    }
}

fn check_message(i: usize, m: &Message, checked: &mut Checked) -> Result<(), SchemaError> {
    let at = |f: &str| format!("messages[{i}].{f}");
    let calls = m.tool_calls.as_ref().is_some_and(|c| !c.is_empty()) || m.function_call.is_some();
    match (&m.content, m.role) {
        (None, Role::Assistant) if calls || m.refusal.is_some() => {}
        (None, Role::Function) => {}
        (None, _) => return Err(SchemaError::new(at("content"), "is required")),
        (Some(Content::Text(_)), _) => {}
        (Some(Content::Parts(parts)), role) => {
            for (j, p) in parts.iter().enumerate() {
                let path = format!("messages[{i}].content[{j}]");
                let allowed = match role {
                    Role::System | Role::Developer | Role::Tool | Role::Function => {
                        matches!(p, Part::Text { .. })
                    }
                    Role::User => !matches!(p, Part::Refusal { .. }),
                    Role::Assistant => {
                        matches!(p, Part::Text { .. } | Part::Refusal { .. } | Part::Unknown)
                    }
                };
                if !allowed {
                    return Err(SchemaError::new(
                        format!("{path}.type"),
                        format!("a `{}` part is not allowed in a {role:?} message", p.name()),
                    ));
                }
                match p {
                    Part::ImageUrl { .. } => checked.opaque += 1,
                    // Binary files and audio cannot be read for PII or injection.
                    Part::InputAudio { .. } | Part::File { .. } | Part::Unknown => {
                        checked.unscanned.push(path)
                    }
                    Part::Text { .. } | Part::Refusal { .. } => {}
                }
            }
        }
    }
    check_tool_calls(
        m.tool_calls.as_deref().unwrap_or_default(),
        &format!("messages[{i}]"),
    )?;
    if m.role == Role::Tool && m.tool_call_id.is_none() {
        return Err(SchemaError::new(
            at("tool_call_id"),
            "is required for a tool message",
        ));
    }
    if m.role == Role::Function && m.name.is_none() {
        return Err(SchemaError::new(
            at("name"),
            "is required for a function message",
        ));
    }
    Ok(())
}

impl Request {
    /// Where the texts of this request are: message contents, refusals, tool-call arguments
    /// echoed back, tool descriptions and parameter schemas.
    pub fn texts(&self, out: &mut Texts) {
        for (i, m) in self.messages.iter().enumerate() {
            message_texts(m, &format!("/messages/{i}"), out);
        }
        for (i, t) in self.tools.iter().flatten().enumerate() {
            match t {
                Tool::Function { function } => {
                    function_texts(function, &format!("/tools/{i}/function"), out)
                }
                Tool::Custom { .. } => out.strings(format!("/tools/{i}/custom")),
                Tool::Unknown => {}
            }
        }
        for (i, f) in self.functions.iter().flatten().enumerate() {
            function_texts(f, &format!("/functions/{i}"), out);
        }
    }

    /// The tools it declares, legacy functions included.
    pub fn tool_names(&self) -> Vec<String> {
        let tools = self.tools.iter().flatten().filter_map(|t| match t {
            Tool::Function { function } => Some(function.name.clone()),
            Tool::Custom { custom } => custom
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string),
            Tool::Unknown => None,
        });
        let functions = self.functions.iter().flatten().map(|f| f.name.clone());
        tools.chain(functions).collect()
    }
}

fn function_texts(f: &FunctionDef, at: &str, out: &mut Texts) {
    if f.description.is_some() {
        out.text(format!("{at}/description"));
    }
    if f.parameters.is_some() {
        out.strings(format!("{at}/parameters"));
    }
}

/// A message's texts (requests and answers share the message shape).
pub fn message_texts(m: &Message, at: &str, out: &mut Texts) {
    content_texts(m.content.as_ref(), &format!("{at}/content"), out);
    if m.refusal.is_some() {
        out.text(format!("{at}/refusal"));
    }
    for (k, call) in m.tool_calls.iter().flatten().enumerate() {
        if let Some((_, input)) = call.name_and_input() {
            out.text(format!("{at}/tool_calls/{k}/{input}"));
        }
    }
    if m.function_call.is_some() {
        out.text(format!("{at}/function_call/arguments"));
    }
}

pub fn content_texts(content: Option<&Content<Part>>, at: &str, out: &mut Texts) {
    match content {
        Some(Content::Text(_)) => out.text(at.to_string()),
        Some(Content::Parts(parts)) => {
            for (j, p) in parts.iter().enumerate() {
                match p {
                    Part::Text { .. } => out.text(format!("{at}/{j}/text")),
                    Part::Refusal { .. } => out.text(format!("{at}/{j}/refusal")),
                    Part::ImageUrl { .. }
                    | Part::InputAudio { .. }
                    | Part::File { .. }
                    | Part::Unknown => {}
                }
            }
        }
        None => {}
    }
}
