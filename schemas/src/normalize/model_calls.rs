//! The tool calls a model asked for, as GenAI, OpenInference and Traceloop
//! instrumentations record them on the model call, and how a tool span is joined
//! to one of them.
//!
//! Apps emit the tool span themselves, and often leave out what the model call
//! already says: agent frameworks put no tool-call id on it, the `mcp` SDK and
//! several instrumentations no arguments, and OpenInference's GenAI mode puts the
//! tool's *schema* where the arguments belong (docs/vendors.md §11). The model's
//! output messages hold both the id and the arguments. A tool span with an id
//! takes the call of that id; one without takes, in time order, the next call of
//! the same tool name that a model call under the same parent (the tool span's
//! parent itself, or a sibling) asked for before it, else any earlier one in the
//! trace.
//!
//! Normalization sees one request at a time, so only calls in the same request
//! are found; model calls and tool spans of one trace normally leave in the same
//! span batch, and the per-message log events (whose tool results need the name
//! and arguments of the call) in the same log batch.

use std::collections::{HashMap, HashSet};

use opentelemetry_proto::tonic::common::v1::KeyValue;
use serde_json::Value;

use crate::attrs::genai;
use crate::otlp::{Attrs, text};

/// One tool call the model asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestedCall {
    pub id: Option<String>,
    pub name: Option<String>,
    /// The arguments as JSON (an object, or Null when absent or not JSON).
    pub arguments: Value,
    /// The arguments as the model sent them (a JSON string), or their compact JSON.
    pub arguments_text: Option<String>,
}

fn non_empty(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// Arguments sent as a JSON string (OpenAI's wire form) or as an object (GenAI messages).
fn arguments_of(v: Option<&Value>) -> (Value, Option<String>) {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => (
            serde_json::from_str(s).unwrap_or(Value::Null),
            Some(s.clone()),
        ),
        Some(v @ (Value::Object(_) | Value::Array(_))) => (v.clone(), Some(v.to_string())),
        _ => (Value::Null, None),
    }
}

/// `{"id", "name", "arguments"}` (a GenAI `tool_call` part) or
/// `{"id", "function": {"name", "arguments"}}` (OpenAI's `tool_calls` items).
fn call_of(item: &Value) -> RequestedCall {
    let function = item.get(genai::MSG_FUNCTION).unwrap_or(item);
    let (arguments, arguments_text) = arguments_of(
        function
            .get(genai::MSG_ARGUMENTS)
            .or_else(|| item.get(genai::MSG_ARGUMENTS)),
    );
    RequestedCall {
        id: non_empty(item.get(genai::MSG_ID)),
        name: non_empty(
            function
                .get(genai::MSG_NAME)
                .or_else(|| item.get(genai::MSG_NAME)),
        ),
        arguments,
        arguments_text,
    }
}

/// The tool calls of one message: its `tool_call` parts (GenAI conventions), its
/// `tool_calls` (OpenAI shape, also inside a `message`, as in `gen_ai.choice`).
pub fn from_message(message: &Value) -> Vec<RequestedCall> {
    let mut calls = Vec::new();
    if let Some(parts) = message.get(genai::MSG_PARTS).and_then(Value::as_array) {
        calls.extend(
            parts
                .iter()
                .filter(|p| {
                    p.get(genai::PART_TYPE).and_then(Value::as_str)
                        == Some(genai::PART_TYPE_TOOL_CALL)
                })
                .map(call_of),
        );
    }
    for holder in [Some(message), message.get(genai::MSG_MESSAGE)]
        .into_iter()
        .flatten()
    {
        if let Some(items) = holder.get(genai::MSG_TOOL_CALLS).and_then(Value::as_array) {
            calls.extend(items.iter().map(call_of));
        }
    }
    calls
}

/// The tool calls of a message list (`gen_ai.input.messages` / `gen_ai.output.messages`).
pub fn from_messages(messages: &Value) -> Vec<RequestedCall> {
    match messages {
        Value::Array(list) => list.iter().flat_map(from_message).collect(),
        Value::Object(_) => from_message(messages),
        _ => Vec::new(),
    }
}

/// Where flattened messages keep their tool calls:
/// `<prefix>N.<calls>M.<id | name | arguments>`.
pub struct Flattened<'a> {
    pub prefix: &'a str,
    pub calls: &'a str,
    pub id: &'a str,
    pub name: &'a str,
    pub arguments: &'a str,
}

/// The tool calls of flattened messages (OpenInference `llm.output_messages.*`,
/// OpenLLMetry `gen_ai.completion.*`), in message then call order.
pub fn from_flattened(attrs: &[KeyValue], f: &Flattened<'_>) -> Vec<RequestedCall> {
    let mut found: std::collections::BTreeMap<(u64, u64), RequestedCall> = Default::default();
    for kv in attrs {
        let Some(rest) = kv.key.strip_prefix(f.prefix) else {
            continue;
        };
        let Some((message, rest)) = rest.split_once('.') else {
            continue;
        };
        let Some(rest) = rest.strip_prefix(f.calls) else {
            continue;
        };
        let Some((call, field)) = rest.split_once('.') else {
            continue;
        };
        let (Ok(message), Ok(call)) = (message.parse::<u64>(), call.parse::<u64>()) else {
            continue;
        };
        let Some(value) = kv.value.as_ref().map(text).filter(|v| !v.is_empty()) else {
            continue;
        };
        let entry = found.entry((message, call)).or_default();
        if field == f.id {
            entry.id = Some(value);
        } else if field == f.name {
            entry.name = Some(value);
        } else if field == f.arguments {
            (entry.arguments, entry.arguments_text) = arguments_of(Some(&Value::String(value)));
        }
    }
    found.into_values().collect()
}

/// Whether `v` is a JSON schema (`{"type": "object", "properties": …}`) rather
/// than a call's arguments: OpenInference's `tool.parameters`, and its GenAI mode's
/// `gen_ai.tool.call.arguments`.
pub fn is_schema(v: &Value) -> bool {
    v.get("type").and_then(Value::as_str) == Some("object")
        && v.get("properties").is_some_and(Value::is_object)
}

/// Where a record sits in its trace (ids as sent, raw bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Place {
    pub trace: Vec<u8>,
    pub span: Vec<u8>,
    pub parent: Vec<u8>,
    pub start_ns: i64,
}

struct Asked {
    call: RequestedCall,
    at: Place,
    /// From the model's output (this call asked for it), not from the history it was given.
    from_output: bool,
    claimed: bool,
}

struct IdlessTool {
    at: Place,
    name: String,
}

/// The tool calls models asked for in one request, and which tool span takes which.
#[derive(Default)]
pub struct RequestCalls {
    asked: Vec<Asked>,
    by_id: HashMap<String, usize>,
    ids_of_tool_spans: HashSet<String>,
    idless_tools: Vec<IdlessTool>,
    assigned: HashMap<(Vec<u8>, Vec<u8>), usize>,
}

impl RequestCalls {
    /// Calls a model call at `at` asked for (`from_output`) or was shown in its
    /// history (then only found by id).
    pub fn add_asked(&mut self, at: &Place, calls: Vec<RequestedCall>, from_output: bool) {
        for call in calls {
            let i = self.asked.len();
            if let Some(id) = &call.id {
                // the model's own output beats a copy in a later call's history
                match self.by_id.get(id) {
                    Some(&j) if self.asked[j].from_output || !from_output => {}
                    _ => {
                        self.by_id.insert(id.clone(), i);
                    }
                }
            }
            self.asked.push(Asked {
                call,
                at: at.clone(),
                from_output,
                claimed: false,
            });
        }
    }

    /// A tool span, with the call id it carries itself.
    pub fn add_tool_span(&mut self, at: &Place, name: Option<String>, id: Option<String>) {
        match (id, name) {
            (Some(id), _) => {
                self.ids_of_tool_spans.insert(id);
            }
            (None, Some(name)) => self.idless_tools.push(IdlessTool {
                at: at.clone(),
                name,
            }),
            (None, None) => {}
        }
    }

    /// Gives each tool span without an id the call it most likely executed.
    pub fn resolve(&mut self) {
        for a in &mut self.asked {
            a.claimed = a
                .call
                .id
                .as_ref()
                .is_some_and(|id| self.ids_of_tool_spans.contains(id));
        }
        let mut tools: Vec<&IdlessTool> = self.idless_tools.iter().collect();
        tools.sort_by_key(|t| t.at.start_ns);
        for tool in tools {
            let candidate = |related: bool| {
                self.asked
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| {
                        a.from_output
                            && !a.claimed
                            && a.at.trace == tool.at.trace
                            && a.at.start_ns <= tool.at.start_ns
                            && a.call.name.as_deref() == Some(tool.name.as_str())
                            && (!related
                                || a.at.span == tool.at.parent
                                || (!a.at.parent.is_empty() && a.at.parent == tool.at.parent))
                    })
                    .min_by_key(|(i, a)| (a.at.start_ns, *i))
                    .map(|(i, _)| i)
            };
            if let Some(i) = candidate(true).or_else(|| candidate(false)) {
                self.asked[i].claimed = true;
                self.assigned
                    .insert((tool.at.trace.clone(), tool.at.span.clone()), i);
            }
        }
    }

    pub fn by_id(&self, id: &str) -> Option<&RequestedCall> {
        self.by_id.get(id).map(|&i| &self.asked[i].call)
    }

    /// The call [`Self::resolve`] gave the tool span at `trace`/`span`.
    pub fn for_tool_span(&self, trace: &[u8], span: &[u8]) -> Option<&RequestedCall> {
        self.assigned
            .get(&(trace.to_vec(), span.to_vec()))
            .map(|&i| &self.asked[i].call)
    }
}

/// Reads the attributes of `a` named by `keys` as one message list each.
pub fn from_message_attrs(a: Attrs<'_>, keys: &[&str]) -> Vec<RequestedCall> {
    keys.iter()
        .filter_map(|k| a.json(k))
        .flat_map(|m| from_messages(&m))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn genai_parts_and_openai_tool_calls() {
        let genai = json!([{"role": "assistant", "parts": [
            {"type": "text", "content": "reading"},
            {"type": "tool_call", "id": "c1", "name": "read_file", "arguments": {"path": "a.txt"}}
        ]}]);
        assert_eq!(
            from_messages(&genai),
            vec![RequestedCall {
                id: Some("c1".into()),
                name: Some("read_file".into()),
                arguments: json!({"path": "a.txt"}),
                arguments_text: Some(r#"{"path":"a.txt"}"#.into()),
            }]
        );
        let choice = json!({"index": "0", "message": {"role": "assistant", "tool_calls": [
            {"id": "c2", "type": "function", "function": {"name": "get_build_status", "arguments": "{\"pipeline\":\"nightly\"}"}}
        ]}});
        assert_eq!(
            from_message(&choice),
            vec![RequestedCall {
                id: Some("c2".into()),
                name: Some("get_build_status".into()),
                arguments: json!({"pipeline": "nightly"}),
                arguments_text: Some(r#"{"pipeline":"nightly"}"#.into()),
            }]
        );
        assert_eq!(from_messages(&json!("not messages")), vec![]);
        assert_eq!(from_message(&json!({"content": "hi"})), vec![]);
    }

    #[test]
    fn schemas_are_not_arguments() {
        assert!(is_schema(
            &json!({"type": "object", "properties": {"url": {"type": "string"}}})
        ));
        assert!(!is_schema(&json!({"url": "https://x.example"})));
        assert!(!is_schema(&json!({"type": "object"})));
    }

    fn place(span: u8, parent: u8, start_ns: i64) -> Place {
        Place {
            trace: vec![1],
            span: vec![span],
            parent: vec![parent],
            start_ns,
        }
    }

    fn asked(id: &str, name: &str) -> RequestedCall {
        RequestedCall {
            id: Some(id.into()),
            name: Some(name.into()),
            ..Default::default()
        }
    }

    #[test]
    fn idless_tool_spans_take_the_next_unclaimed_call_of_their_name() {
        let mut calls = RequestCalls::default();
        // two model calls under agent span 9, each asking for one write
        calls.add_asked(&place(1, 9, 10), vec![asked("w1", "write_file")], true);
        calls.add_asked(&place(2, 9, 30), vec![asked("w2", "write_file")], true);
        // a later call's history repeats w1: found by id, never matched by name
        calls.add_asked(&place(3, 9, 50), vec![asked("w1", "write_file")], false);
        calls.add_tool_span(&place(11, 9, 20), Some("write_file".into()), None);
        calls.add_tool_span(&place(12, 9, 40), Some("write_file".into()), None);
        // a third write executed with no model call before it: none
        calls.add_tool_span(&place(13, 9, 5), Some("write_file".into()), None);
        calls.resolve();
        let id_of = |span: u8| {
            calls
                .for_tool_span(&[1], &[span])
                .and_then(|c| c.id.clone())
        };
        assert_eq!(id_of(11).as_deref(), Some("w1"));
        assert_eq!(id_of(12).as_deref(), Some("w2"));
        assert_eq!(id_of(13), None);
        assert_eq!(
            calls.by_id("w2").and_then(|c| c.name.as_deref()),
            Some("write_file")
        );
        assert_eq!(calls.by_id("nope"), None);
    }

    #[test]
    fn calls_claimed_by_id_are_not_matched_by_name() {
        let mut calls = RequestCalls::default();
        calls.add_asked(
            &place(1, 9, 10),
            vec![asked("a", "fetch"), asked("b", "fetch")],
            true,
        );
        calls.add_tool_span(&place(11, 9, 20), Some("fetch".into()), Some("a".into()));
        calls.add_tool_span(&place(12, 9, 21), Some("fetch".into()), None);
        calls.resolve();
        assert_eq!(
            calls
                .for_tool_span(&[1], &[12])
                .and_then(|c| c.id.as_deref()),
            Some("b")
        );
        assert_eq!(calls.for_tool_span(&[1], &[11]), None);
    }

    #[test]
    fn the_tool_spans_own_model_call_or_siblings_come_first() {
        let mut calls = RequestCalls::default();
        // another agent (parent 8) asked for the same tool earlier in the trace
        calls.add_asked(&place(1, 8, 5), vec![asked("other", "run")], true);
        // the tool span is a child of model call 2
        calls.add_asked(&place(2, 9, 10), vec![asked("mine", "run")], true);
        calls.add_tool_span(&place(11, 2, 20), Some("run".into()), None);
        calls.resolve();
        assert_eq!(
            calls
                .for_tool_span(&[1], &[11])
                .and_then(|c| c.id.as_deref()),
            Some("mine")
        );
    }
}
