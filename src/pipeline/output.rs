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
}

impl Channel {
    /// The choice (OpenAI) or content block (Anthropic) it belongs to.
    fn index(self) -> u64 {
        match self {
            Channel::Text(i)
            | Channel::Args(i, _)
            | Channel::Refusal(i)
            | Channel::Reasoning(i) => i,
        }
    }

    /// The OpenAI delta field a text-like channel writes.
    fn openai_field(self) -> Option<&'static str> {
        match self {
            Channel::Text(_) => Some("content"),
            Channel::Refusal(_) => Some("refusal"),
            Channel::Reasoning(_) => Some("reasoning_content"),
            Channel::Args(..) => None,
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
        }
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
                    Channel::Args(i, _) => {
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

    fn openai(&mut self, ev: SseEvent) -> Result<Vec<SseEvent>, String> {
        let Ok(mut chunk) = serde_json::from_str::<Value>(&ev.data) else {
            if ev.data.trim() == "[DONE]" {
                return Ok(vec![ev]);
            }
            self.kinds.push(EntityKind::UnscannedEvent);
            return Ok(Vec::new());
        };
        let mut template = chunk.clone();
        if let Some(obj) = template.as_object_mut() {
            obj.remove("choices");
        }
        self.template = Some(template);
        let Some(choices) = chunk.get_mut("choices").and_then(Value::as_array_mut) else {
            return Ok(vec![ev]);
        };
        let mut choices_taken = std::mem::take(choices);
        for choice in choices_taken.iter_mut() {
            let i = choice.get("index").and_then(Value::as_u64).unwrap_or(0);
            let finishing = choice.get("finish_reason").is_some_and(|f| !f.is_null());
            for ch in [Channel::Text(i), Channel::Refusal(i), Channel::Reasoning(i)] {
                let field = ch.openai_field().unwrap_or("content");
                if let Some(Value::String(piece)) = choice["delta"].get(field).cloned().as_ref() {
                    let out = self.push(ch, piece, false)?;
                    choice["delta"][field] = Value::from(out);
                }
            }
            if let Some(calls) = choice
                .pointer_mut("/delta/tool_calls")
                .and_then(Value::as_array_mut)
            {
                for call in calls.iter_mut() {
                    let t = call.get("index").and_then(Value::as_u64).unwrap_or(0);
                    if let Some(name) = call.pointer("/function/name").and_then(Value::as_str) {
                        if let Some(reason) = (self.tool_check)(name) {
                            return Err(reason);
                        }
                    }
                    if let Some(Value::String(piece)) =
                        call.pointer("/function/arguments").cloned().as_ref()
                    {
                        let out = self.push(Channel::Args(i, t), piece, false)?;
                        call["function"]["arguments"] = Value::from(out);
                    }
                }
            }
            if finishing {
                let rest = self.flush(|c| c.index() == i)?;
                for (ch, text) in rest {
                    match (ch, ch.openai_field()) {
                        (Channel::Args(_, t), _) => {
                            let calls = choice["delta"]
                                .as_object_mut()
                                .map(|d| d.entry("tool_calls").or_insert_with(|| json!([])));
                            if let Some(Value::Array(calls)) = calls {
                                calls.push(json!({"index": t, "function": {"arguments": text}}));
                            }
                        }
                        (_, Some(field)) => {
                            let prev = choice["delta"]
                                .get(field)
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string();
                            choice["delta"][field] = Value::from(prev + &text);
                        }
                        (_, None) => {}
                    }
                }
            }
        }
        chunk["choices"] = Value::Array(choices_taken);
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
        let index = data.get("index").and_then(Value::as_u64).unwrap_or(0);
        match data.get("type").and_then(Value::as_str) {
            Some("content_block_start") => {
                if matches!(
                    data.pointer("/content_block/type").and_then(Value::as_str),
                    Some("tool_use" | "server_tool_use")
                ) {
                    if let Some(name) = data.pointer("/content_block/name").and_then(Value::as_str)
                    {
                        if let Some(reason) = (self.tool_check)(name) {
                            return Err(reason);
                        }
                    }
                }
                // A block may start with content (text, a tool input, search results): scanned
                // whole, as a complete answer would be.
                let Some(block) = data.get_mut("content_block") else {
                    return Ok(vec![ev]);
                };
                let mut kinds = Vec::new();
                let mut failed = None;
                let read = crate::pipeline::content::answer_block_texts_mut(block, &mut |t| {
                    let found = self.scanner.scan_text(t);
                    if !found.is_empty() && self.scanner.action == OutputAction::Block {
                        failed = Some(found.clone());
                    }
                    kinds.extend(found);
                });
                if let Err(e) = read {
                    // Not a block of the Messages API: nothing in it can be found, so it
                    // does not pass.
                    return Err(format!(
                        "a content block the gateway cannot read ({}: {})",
                        e.field, e.message
                    ));
                }
                self.kinds.extend(kinds);
                if let Some(found) = failed {
                    return Err(format!(
                        "sensitive data in the answer: {}",
                        crate::detect::joined(&found)
                    ));
                }
                Ok(vec![SseEvent {
                    event: ev.event,
                    data: data.to_string(),
                }])
            }
            Some("content_block_delta") => {
                let (ch, field) = match data.pointer("/delta/type").and_then(Value::as_str) {
                    Some("text_delta") => (Channel::Text(index), "text"),
                    Some("input_json_delta") => (Channel::Args(index, 0), "partial_json"),
                    Some("thinking_delta") => (Channel::Reasoning(index), "thinking"),
                    _ => return Ok(vec![ev]),
                };
                let piece = data["delta"][field].as_str().unwrap_or("").to_string();
                let out = self.push(ch, &piece, false)?;
                if out.is_empty() {
                    return Ok(Vec::new());
                }
                data["delta"][field] = Value::from(out);
                Ok(vec![SseEvent {
                    event: ev.event,
                    data: data.to_string(),
                }])
            }
            Some("content_block_stop") => {
                let mut out: Vec<SseEvent> = self
                    .flush(|c| c.index() == index)?
                    .into_iter()
                    .filter_map(|(ch, text)| self.synthetic(ch, text))
                    .collect();
                out.push(ev);
                Ok(out)
            }
            _ => Ok(vec![ev]),
        }
    }
}

#[cfg(test)]
#[path = "output_tests.rs"]
mod tests;
