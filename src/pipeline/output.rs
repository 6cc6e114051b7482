//! scan_output and pii_restore on answers — complete ones and streams.
//!
//! A complete answer is scanned in place. A stream is scanned as it flows: each text channel
//! (a choice's content, a tool call's arguments, an Anthropic content block) keeps a small
//! buffer, and only its *safe prefix* is forwarded:
//!
//! - the last `HOLD` bytes stay back, so an entity spread over several chunks (a phone number
//!   with spaces, an IBAN in groups) is seen whole before any of it leaves;
//! - the trailing word stays back too (secrets are single tokens of any length — a JWT, a PEM
//!   body — and are only judged complete once whitespace follows them);
//! - a finding that straddles the cut pulls the cut back to its start;
//! - an open `-----BEGIN … PRIVATE KEY-----` holds everything after it until its END line.
//!
//! The trade-off: a client sees text at most `HOLD` bytes plus one word later than the
//! provider produced it (and never more than `MAX_BUFFER` bytes held back, after which the
//! buffer is scanned and released as is). The end of a channel flushes everything, scanned.
//! Placeholders from pii_restore are single tokens, so they are restored whole too.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::detect::mask::{mask_label, replace, REDACTED};
use crate::detect::EntityKind;
use crate::detect::{pii, secrets, Finding};
use crate::pipeline::content::Texts;
use crate::pipeline::wire::stream::{AnthropicDelta, AnthropicEvent, OpenAiChunk};
use crate::pipeline::wire::{self, anthropic, anthropic::Block, SchemaError};
use crate::pipeline::Flow;
use crate::providers::{SseEvent, WireFormat};

/// Bytes always held back from the end of a stream channel.
pub const HOLD: usize = 128;
/// The most a channel holds back (bounded memory per stream).
pub const MAX_BUFFER: usize = 64 * 1024;

/// Decides whether a tool the model calls is allowed: `Some(reason)` refuses it.
pub type ToolCheck = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What output scanning does with a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputAction {
    /// Replace (PII → `[MASKED_KIND]`, secrets → `[REDACTED]`).
    Redact,
    /// Refuse the answer (complete) / end the stream with an error.
    Block,
    /// Record only.
    Log,
}

/// Scanning settings for one answer.
#[derive(Debug, Clone)]
pub struct Scanner {
    pub action: OutputAction,
    /// Scan for PII (the request's `pii` flag is not `off`).
    pub pii: bool,
    /// Placeholder → original, restored after scanning (pii_restore).
    pub restore: Vec<(String, String)>,
}

impl Scanner {
    fn findings(&self, text: &str) -> Vec<Finding> {
        let mut f = secrets::detect_secrets(text);
        if self.pii {
            f.extend(pii::detect_pii(text));
        }
        f
    }

    /// Scans and rewrites one complete text; returns the kinds found.
    pub fn scan_text(&self, text: &mut String) -> Vec<EntityKind> {
        let found = self.findings(text);
        let kinds: Vec<EntityKind> = found.iter().map(|f| f.kind).collect();
        if self.action == OutputAction::Redact && !found.is_empty() {
            *text = replace(text, found, |f, _| placeholder(f.kind));
        }
        self.restore_in(text);
        kinds
    }

    fn restore_in(&self, text: &mut String) {
        for (label, original) in &self.restore {
            if text.contains(label.as_str()) {
                *text = text.replace(label.as_str(), original);
            }
        }
    }
}

fn placeholder(kind: EntityKind) -> String {
    if kind.family() == crate::detect::Family::Secret {
        REDACTED.to_string()
    } else {
        mask_label(kind)
    }
}

/// Where to cut `buf` so that everything before the cut is safe to release now.
fn safe_cut(buf: &str, findings: &[Finding]) -> usize {
    if buf.len() > MAX_BUFFER {
        return buf.len();
    }
    let mut cut = buf.len().saturating_sub(HOLD);
    // Keep the trailing word (a token still being written).
    let word_start = buf
        .rfind(|c: char| c.is_whitespace())
        .map_or(0, |i| i + buf[i..].chars().next().map_or(1, char::len_utf8));
    cut = cut.min(word_start);
    // An open PEM block holds everything after its BEGIN line.
    if let Some(begin) = buf.rfind("-----BEGIN") {
        if !buf[begin..].contains("-----END") {
            cut = cut.min(begin);
        }
    }
    // A finding across the cut pulls it back to its start.
    let mut changed = true;
    while changed {
        changed = false;
        for f in findings {
            if f.start < cut && f.end > cut {
                cut = f.start;
                changed = true;
            }
        }
    }
    while !buf.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

/// Which text of the stream a buffer belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Channel {
    /// OpenAI choice content / Anthropic text block.
    Text(u64),
    /// OpenAI tool call arguments (choice, tool index) / Anthropic input_json block.
    Args(u64, u64),
    /// OpenAI `delta.refusal` of a choice.
    Refusal(u64),
    /// OpenAI `delta.reasoning_content` / Anthropic thinking block.
    Reasoning(u64),
    /// OpenAI legacy `delta.function_call.arguments` of a choice.
    Function(u64),
    /// OpenAI custom tool call input (choice, tool index).
    Custom(u64, u64),
}

impl Channel {
    /// The choice (OpenAI) or content block (Anthropic) it belongs to.
    fn index(self) -> u64 {
        match self {
            Channel::Text(i)
            | Channel::Args(i, _)
            | Channel::Refusal(i)
            | Channel::Reasoning(i)
            | Channel::Function(i)
            | Channel::Custom(i, _) => i,
        }
    }

    /// The OpenAI delta field a text-like channel writes.
    fn openai_field(self) -> Option<&'static str> {
        match self {
            Channel::Text(_) => Some("content"),
            Channel::Refusal(_) => Some("refusal"),
            Channel::Reasoning(_) => Some("reasoning_content"),
            Channel::Args(..) | Channel::Function(_) | Channel::Custom(..) => None,
        }
    }
}

/// Scans one stream. Feed it every event in order.
pub struct StreamScanner {
    format: WireFormat,
    scanner: Scanner,
    /// Decides whether a called tool is allowed; returns the refusal reason.
    tool_check: ToolCheck,
    buffers: BTreeMap<Channel, String>,
    /// The last OpenAI chunk seen, as a template for synthetic chunks.
    template: Option<Value>,
    /// Every kind found so far (for the audit).
    pub kinds: Vec<EntityKind>,
    /// Stop the stream at a part the gateway cannot read (`[pipeline] unscanned_parts`).
    refuse_unscanned: bool,
}

impl StreamScanner {
    pub fn new(format: WireFormat, scanner: Scanner, tool_check: ToolCheck) -> Self {
        StreamScanner {
            format,
            scanner,
            tool_check,
            buffers: BTreeMap::new(),
            template: None,
            kinds: Vec::new(),
            refuse_unscanned: true,
        }
    }

    /// Lets parts the gateway cannot read pass, recorded (`unscanned_parts = "pass"`).
    pub fn passing_unscanned(mut self, pass: bool) -> Self {
        self.refuse_unscanned = !pass;
        self
    }

    /// Appends `piece` to a channel and returns what may be released (`final` releases all).
    fn push(&mut self, ch: Channel, piece: &str, last: bool) -> Result<String, String> {
        let buf = self.buffers.entry(ch).or_default();
        buf.push_str(piece);
        let findings = self.scanner.findings(buf);
        let cut = if last {
            buf.len()
        } else {
            safe_cut(buf, &findings)
        };
        let released: Vec<Finding> = findings.into_iter().filter(|f| f.end <= cut).collect();
        let mut out: String = buf.drain(..cut).collect();
        if !released.is_empty() {
            self.kinds.extend(released.iter().map(|f| f.kind));
            match self.scanner.action {
                OutputAction::Block => {
                    let mut kinds: Vec<EntityKind> = released.iter().map(|f| f.kind).collect();
                    kinds.dedup();
                    return Err(format!(
                        "sensitive data in the answer: {}",
                        crate::detect::joined(&kinds)
                    ));
                }
                OutputAction::Redact => out = replace(&out, released, |f, _| placeholder(f.kind)),
                OutputAction::Log => {}
            }
        }
        self.scanner.restore_in(&mut out);
        Ok(out)
    }

    /// Releases everything still held for the channels `which` selects.
    fn flush(
        &mut self,
        which: impl Fn(&Channel) -> bool,
    ) -> Result<Vec<(Channel, String)>, String> {
        let chans: Vec<Channel> = self.buffers.keys().copied().filter(|c| which(c)).collect();
        let mut out = Vec::new();
        for ch in chans {
            let rest = self.push(ch, "", true)?;
            self.buffers.remove(&ch);
            if !rest.is_empty() {
                out.push((ch, rest));
            }
        }
        Ok(out)
    }

    /// Looks at one event from the provider.
    pub fn on_event(&mut self, ev: SseEvent) -> Flow {
        let result = match self.format {
            WireFormat::OpenAi => self.openai(ev),
            WireFormat::Anthropic => self.anthropic(ev),
        };
        match result {
            Ok(events) => Flow::Forward(events),
            Err(reason) => Flow::Stop(reason),
        }
    }

    /// Before the terminal event: everything still held, as events.
    pub fn finish(&mut self) -> Flow {
        match self.flush(|_| true) {
            Ok(rest) => Flow::Forward(
                rest.into_iter()
                    .filter_map(|(ch, text)| self.synthetic(ch, text))
                    .collect(),
            ),
            Err(reason) => Flow::Stop(reason),
        }
    }

    fn synthetic(&self, ch: Channel, text: String) -> Option<SseEvent> {
        match self.format {
            WireFormat::OpenAi => {
                let mut chunk = self
                    .template
                    .clone()
                    .unwrap_or_else(|| json!({"object": "chat.completion.chunk"}));
                let delta = match (ch, ch.openai_field()) {
                    (Channel::Args(_, t), _) => {
                        json!({"tool_calls": [{"index": t, "function": {"arguments": text}}]})
                    }
                    (Channel::Function(_), _) => json!({"function_call": {"arguments": text}}),
                    (Channel::Custom(_, t), _) => {
                        json!({"tool_calls": [{"index": t, "custom": {"input": text}}]})
                    }
                    (_, Some(field)) => json!({ field: text }),
                    (_, None) => return None,
                };
                let i = ch.index();
                chunk["choices"] = json!([{"index": i, "delta": delta, "finish_reason": null}]);
                if let Some(obj) = chunk.as_object_mut() {
                    obj.remove("usage");
                }
                Some(SseEvent::data(chunk.to_string()))
            }
            WireFormat::Anthropic => {
                let (index, delta) = match ch {
                    Channel::Text(i) | Channel::Refusal(i) => {
                        (i, json!({"type": "text_delta", "text": text}))
                    }
                    Channel::Args(i, _) | Channel::Function(i) | Channel::Custom(i, _) => {
                        (i, json!({"type": "input_json_delta", "partial_json": text}))
                    }
                    Channel::Reasoning(i) => {
                        (i, json!({"type": "thinking_delta", "thinking": text}))
                    }
                };
                Some(SseEvent::named(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index, "delta": delta})
                        .to_string(),
                ))
            }
        }
    }

    /// A part of the answer the gateway cannot read: recorded, and the stream stopped unless
    /// the operator lets unscanned parts pass.
    fn unscanned(&mut self, what: &str) -> Result<(), String> {
        self.kinds.push(EntityKind::UnscannedPart);
        if self.refuse_unscanned {
            return Err(format!(
                "the answer has {what} the gateway cannot scan; an operator may let such parts \
                 pass with [pipeline] unscanned_parts = \"pass\""
            ));
        }
        Ok(())
    }

    /// Scans and rewrites, whole, the texts of `data` at `texts` (a block that starts with
    /// content, a citation).
    fn scan_whole(&mut self, data: &mut Value, texts: &Texts) -> Result<(), String> {
        let mut kinds = Vec::new();
        let scanner = &self.scanner;
        texts.for_each_mut(data, &mut |t| kinds.extend(scanner.scan_text(t)));
        self.kinds.extend(kinds.iter().copied());
        if !kinds.is_empty() && self.scanner.action == OutputAction::Block {
            kinds.sort_unstable();
            kinds.dedup();
            return Err(format!(
                "sensitive data in the answer: {}",
                crate::detect::joined(&kinds)
            ));
        }
        Ok(())
    }

    fn check_tool(&self, name: Option<&str>) -> Result<(), String> {
        match name.and_then(|n| (self.tool_check)(n)) {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    fn openai(&mut self, ev: SseEvent) -> Result<Vec<SseEvent>, String> {
        if ev.data.trim() == "[DONE]" {
            return Ok(vec![ev]);
        }
        let Ok(mut chunk) = serde_json::from_str::<Value>(&ev.data) else {
            self.kinds.push(EntityKind::UnscannedEvent);
            return Ok(Vec::new());
        };
        let typed: OpenAiChunk = wire::parse(&chunk).map_err(|e| unreadable(&e))?;
        let mut template = chunk.clone();
        if let Some(obj) = template.as_object_mut() {
            obj.remove("choices");
        }
        self.template = Some(template);
        for (c, choice) in typed.choices.iter().enumerate() {
            let i = choice.index;
            if let Some(d) = &choice.delta {
                let delta = &mut chunk["choices"][c]["delta"];
                for (ch, piece) in [
                    (Channel::Text(i), &d.content),
                    (Channel::Refusal(i), &d.refusal),
                    (Channel::Reasoning(i), &d.reasoning_content),
                ] {
                    if let (Some(piece), Some(field)) = (piece, ch.openai_field()) {
                        delta[field] = Value::from(self.push(ch, piece, false)?);
                    }
                }
                for (k, call) in d.tool_calls.iter().flatten().enumerate() {
                    if let Some(f) = &call.function {
                        self.check_tool(f.name.as_deref())?;
                        if let Some(piece) = &f.arguments {
                            let out = self.push(Channel::Args(i, call.index), piece, false)?;
                            delta["tool_calls"][k]["function"]["arguments"] = Value::from(out);
                        }
                    }
                    if let Some(c) = &call.custom {
                        self.check_tool(c.name.as_deref())?;
                        if let Some(piece) = &c.input {
                            let out = self.push(Channel::Custom(i, call.index), piece, false)?;
                            delta["tool_calls"][k]["custom"]["input"] = Value::from(out);
                        }
                    }
                }
                if let Some(f) = &d.function_call {
                    self.check_tool(f.name.as_deref())?;
                    if let Some(piece) = &f.arguments {
                        let out = self.push(Channel::Function(i), piece, false)?;
                        delta["function_call"]["arguments"] = Value::from(out);
                    }
                }
                if d.audio.is_some() {
                    self.unscanned("audio")?;
                }
            }
            if choice.finish_reason.is_some() {
                let rest = self.flush(|ch| ch.index() == i)?;
                let delta = &mut chunk["choices"][c]["delta"];
                if !rest.is_empty() && !delta.is_object() {
                    *delta = json!({});
                }
                for (ch, text) in rest {
                    match (ch, ch.openai_field()) {
                        (Channel::Args(_, t), _) => {
                            let calls = delta
                                .as_object_mut()
                                .map(|d| d.entry("tool_calls").or_insert_with(|| json!([])));
                            if let Some(Value::Array(calls)) = calls {
                                calls.push(json!({"index": t, "function": {"arguments": text}}));
                            }
                        }
                        (Channel::Custom(_, t), _) => {
                            let calls = delta
                                .as_object_mut()
                                .map(|d| d.entry("tool_calls").or_insert_with(|| json!([])));
                            if let Some(Value::Array(calls)) = calls {
                                calls.push(json!({"index": t, "custom": {"input": text}}));
                            }
                        }
                        (Channel::Function(_), _) => {
                            let prev = delta["function_call"]["arguments"]
                                .as_str()
                                .unwrap_or("")
                                .to_string();
                            delta["function_call"]["arguments"] = Value::from(prev + &text);
                        }
                        (_, Some(field)) => {
                            let prev = delta[field].as_str().unwrap_or("").to_string();
                            delta[field] = Value::from(prev + &text);
                        }
                        (_, None) => {}
                    }
                }
            }
        }
        Ok(vec![SseEvent {
            event: ev.event,
            data: chunk.to_string(),
        }])
    }

    fn anthropic(&mut self, ev: SseEvent) -> Result<Vec<SseEvent>, String> {
        let Ok(mut data) = serde_json::from_str::<Value>(&ev.data) else {
            self.kinds.push(EntityKind::UnscannedEvent);
            return Ok(Vec::new());
        };
        let typed: AnthropicEvent = wire::parse(&data).map_err(|e| unreadable(&e))?;
        let rewritten = |data: Value| SseEvent {
            event: ev.event.clone(),
            data: data.to_string(),
        };
        match typed {
            AnthropicEvent::ContentBlockStart { content_block, .. } => {
                match &content_block {
                    Block::ToolUse { name, .. } | Block::ServerToolUse { name, .. } => {
                        self.check_tool(Some(name))?
                    }
                    Block::Unknown => self.unscanned("a content block of an unknown type")?,
                    _ => {}
                }
                // A block may start with content (text, a tool input, search results): scanned
                // whole, as a complete answer would be.
                let mut texts = Texts::default();
                anthropic::block_texts(&content_block, "/content_block", &mut texts);
                self.scan_whole(&mut data, &texts)?;
                Ok(vec![rewritten(data)])
            }
            AnthropicEvent::ContentBlockDelta { index, delta } => {
                let (ch, field, piece) = match delta {
                    AnthropicDelta::TextDelta { text } => (Channel::Text(index), "text", text),
                    AnthropicDelta::InputJsonDelta { partial_json } => {
                        (Channel::Args(index, 0), "partial_json", partial_json)
                    }
                    AnthropicDelta::ThinkingDelta { thinking } => {
                        (Channel::Reasoning(index), "thinking", thinking)
                    }
                    AnthropicDelta::SignatureDelta {} => return Ok(vec![ev]),
                    AnthropicDelta::CitationsDelta { .. } => {
                        let mut texts = Texts::default();
                        texts.strings("/delta/citation".into());
                        self.scan_whole(&mut data, &texts)?;
                        return Ok(vec![rewritten(data)]);
                    }
                    AnthropicDelta::Unknown => {
                        self.unscanned("a delta of an unknown type")?;
                        return Ok(vec![ev]);
                    }
                };
                let out = self.push(ch, &piece, false)?;
                if out.is_empty() {
                    return Ok(Vec::new());
                }
                data["delta"][field] = Value::from(out);
                Ok(vec![rewritten(data)])
            }
            AnthropicEvent::ContentBlockStop { index } => {
                let mut out: Vec<SseEvent> = self
                    .flush(|c| c.index() == index)?
                    .into_iter()
                    .filter_map(|(ch, text)| self.synthetic(ch, text))
                    .collect();
                out.push(ev);
                Ok(out)
            }
            AnthropicEvent::Unknown => {
                self.unscanned("an event of an unknown type")?;
                Ok(vec![ev])
            }
            AnthropicEvent::MessageStart {}
            | AnthropicEvent::MessageDelta {}
            | AnthropicEvent::MessageStop {}
            | AnthropicEvent::Ping {}
            | AnthropicEvent::Error {} => Ok(vec![ev]),
        }
    }
}

/// A stream event that does not fit its format's schema: not forwarded by guesswork.
fn unreadable(e: &SchemaError) -> String {
    format!(
        "the provider sent a stream event the gateway cannot read (at `{}`)",
        e.field
    )
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
