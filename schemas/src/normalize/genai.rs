//! OpenTelemetry GenAI / MCP semantic conventions, OpenInference and Traceloop
//! (OpenLLMetry), from any app. Records that follow none of them give no agent event.
//!
//! Unlike Codex and Claude Code, these apps spread one action's facts over
//! several records of a request: the session only on the agent span, a tool
//! call's id and arguments only on the model call that asked for it. A first pass
//! over the request ([`RequestFacts::observe_span`], [`RequestFacts::observe_log`])
//! collects them, the second builds the rows. What lives in another request is
//! not seen (docs/vendors.md §11).

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use super::model_calls::{self, Flattened, Place, RequestCalls, RequestedCall, is_schema};
use super::tools::tool_facts;
use super::{AgentEvent, LogCtx, SpanCtx, hex_opt, stable_id};
use crate::attrs::{genai, mcp, openinference, otel, traceloop};
use crate::events::kind;
use crate::otlp::{Attrs, to_json};

/// Words in a failed tool's result or error that say it was refused, not that it broke.
const REFUSAL_WORDS: [&str; 6] = [
    "blocked",
    "denied",
    "refused",
    "not permitted",
    "not allowed",
    "forbidden",
];

/// Without an error status, only a result that *opens* with a refusal word, or
/// names who refused (`… blocked by policy`), is one: `ls: …: Permission denied`
/// is the output of a command that ran.
const REFUSAL_BY: [&str; 5] = [
    "blocked by",
    "denied by",
    "refused by",
    "rejected by",
    "not allowed by",
];

fn refusal(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    REFUSAL_WORDS.iter().any(|w| t.contains(w))
}

fn refusal_statement(text: &str) -> bool {
    let t = text.trim_start().to_ascii_lowercase();
    REFUSAL_WORDS.iter().any(|w| t.starts_with(w)) || REFUSAL_BY.iter().any(|w| t.contains(w))
}

/// Session attributes, most specific first: a conversation beats an app session,
/// which beats the MCP transport session.
const SESSION_KEYS: [&str; 4] = [
    genai::CONVERSATION_ID,
    otel::SESSION_ID,
    traceloop::SESSION_ID,
    mcp::SESSION_ID,
];

fn own_session(a: Attrs<'_>) -> Option<(usize, String)> {
    SESSION_KEYS
        .iter()
        .enumerate()
        .find_map(|(rank, k)| a.string(k).map(|s| (rank, s)))
}

const OI_OUTPUT: Flattened<'static> = Flattened {
    prefix: openinference::OUTPUT_MESSAGES_PREFIX,
    calls: openinference::MESSAGE_TOOL_CALLS,
    id: openinference::TOOL_CALL_ID_FIELD,
    name: openinference::TOOL_CALL_NAME_FIELD,
    arguments: openinference::TOOL_CALL_ARGUMENTS_FIELD,
};
const OI_INPUT: Flattened<'static> = Flattened {
    prefix: openinference::INPUT_MESSAGES_PREFIX,
    ..OI_OUTPUT
};
const TRACELOOP_COMPLETION: Flattened<'static> = Flattened {
    prefix: traceloop::COMPLETION_PREFIX,
    calls: traceloop::TOOL_CALLS,
    id: traceloop::TOOL_CALL_ID_FIELD,
    name: traceloop::TOOL_CALL_NAME_FIELD,
    arguments: traceloop::TOOL_CALL_ARGUMENTS_FIELD,
};
const TRACELOOP_PROMPT: Flattened<'static> = Flattened {
    prefix: traceloop::PROMPT_PREFIX,
    ..TRACELOOP_COMPLETION
};

/// Roles of the per-message events, as hashed into their event ids (a
/// `gen_ai.choice` is the assistant message the next call's history repeats).
const ROLE_SYSTEM: &str = "system";
const ROLE_USER: &str = "user";
const ROLE_ASSISTANT: &str = "assistant";
const ROLE_TOOL: &str = "tool";

/// What the records of one request say about each other.
#[derive(Default)]
pub(super) struct RequestFacts {
    /// trace id → the most specific session any record of the trace names.
    sessions: HashMap<Vec<u8>, (usize, String)>,
    calls: RequestCalls,
    /// Per-message events seen so far per (trace, span), i.e. per model call:
    /// the position in its history of the next one.
    positions: HashMap<(Vec<u8>, Vec<u8>), u64>,
}

impl RequestFacts {
    fn note_session(&mut self, trace: &[u8], found: Option<(usize, String)>) {
        let Some((rank, session)) = found else {
            return;
        };
        if trace.is_empty() {
            return;
        }
        let slot = self
            .sessions
            .entry(trace.to_vec())
            .or_insert((rank, session.clone()));
        if rank < slot.0 {
            *slot = (rank, session);
        }
    }

    /// The record's own session, else its trace's, else the trace id itself (apps
    /// that set none), so that conversations never mix in one NULL session.
    fn session_for(&self, own: Option<String>, trace: &[u8]) -> Option<String> {
        own.or_else(|| self.sessions.get(trace).map(|(_, s)| s.clone()))
            .or_else(|| hex_opt(trace))
    }

    /// First pass, spans: sessions, the calls models asked for, the tool spans.
    pub fn observe_span(&mut self, ctx: &SpanCtx<'_>) {
        let a = ctx.attrs;
        let s = ctx.record;
        self.note_session(&s.trace_id, own_session(a));
        let at = Place {
            trace: s.trace_id.clone(),
            span: s.span_id.clone(),
            parent: s.parent_span_id.clone(),
            start_ns: ctx.ts,
        };
        match role_of(ctx) {
            Some(Role::ModelCall) => {
                let mut asked = model_calls::from_message_attrs(a, &[genai::OUTPUT_MESSAGES]);
                asked.extend(model_calls::from_flattened(a.0, &OI_OUTPUT));
                asked.extend(model_calls::from_flattened(a.0, &TRACELOOP_COMPLETION));
                self.calls.add_asked(&at, asked, true);
                let mut shown = model_calls::from_message_attrs(a, &[genai::INPUT_MESSAGES]);
                shown.extend(model_calls::from_flattened(a.0, &OI_INPUT));
                shown.extend(model_calls::from_flattened(a.0, &TRACELOOP_PROMPT));
                self.calls.add_asked(&at, shown, false);
            }
            Some(Role::Tool) => self
                .calls
                .add_tool_span(&at, tool_name(a), own_tool_call_id(a)),
            Some(Role::Prompt) | None => {}
        }
    }

    /// First pass, log records: sessions and the calls in message events.
    pub fn observe_log(&mut self, ctx: &LogCtx<'_>) {
        let r = ctx.record;
        self.note_session(&r.trace_id, own_session(ctx.attrs));
        let Some(name) = event_name(ctx) else {
            return;
        };
        let at = Place {
            trace: r.trace_id.clone(),
            span: r.span_id.clone(),
            parent: Vec::new(),
            start_ns: ctx.ts,
        };
        match name.as_ref() {
            genai::EVENT_CHOICE => {
                self.calls
                    .add_asked(&at, model_calls::from_message(&body_of(ctx)), true);
            }
            genai::EVENT_ASSISTANT_MESSAGE => {
                self.calls
                    .add_asked(&at, model_calls::from_message(&body_of(ctx)), false);
            }
            genai::EVENT_OPERATION_DETAILS => {
                let a = ctx.attrs;
                self.calls.add_asked(
                    &at,
                    model_calls::from_message_attrs(a, &[genai::OUTPUT_MESSAGES]),
                    true,
                );
                self.calls.add_asked(
                    &at,
                    model_calls::from_message_attrs(a, &[genai::INPUT_MESSAGES]),
                    false,
                );
            }
            _ => {}
        }
    }

    /// Ends the first pass.
    pub fn resolve(&mut self) {
        self.calls.resolve();
    }

    fn next_position(&mut self, trace: &[u8], span: &[u8]) -> u64 {
        let n = self
            .positions
            .entry((trace.to_vec(), span.to_vec()))
            .or_insert(0);
        *n += 1;
        *n - 1
    }
}

/// What a span is, by the first convention it follows.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Role {
    ModelCall,
    Prompt,
    Tool,
}

fn role_of(ctx: &SpanCtx<'_>) -> Option<Role> {
    let a = ctx.attrs;
    if let Some(op) = a.str(genai::OPERATION_NAME) {
        return match op.as_ref() {
            genai::OP_CHAT
            | genai::OP_TEXT_COMPLETION
            | genai::OP_GENERATE_CONTENT
            | genai::OP_EMBEDDINGS => Some(Role::ModelCall),
            genai::OP_INVOKE_AGENT => Some(Role::Prompt),
            genai::OP_EXECUTE_TOOL => Some(Role::Tool),
            _ => None,
        };
    }
    if let Some(k) = a.str(openinference::SPAN_KIND) {
        return match k.to_ascii_uppercase().as_str() {
            openinference::KIND_LLM => Some(Role::ModelCall),
            openinference::KIND_AGENT => Some(Role::Prompt),
            openinference::KIND_TOOL => Some(Role::Tool),
            _ => None,
        };
    }
    if a.str(mcp::METHOD_NAME).as_deref() == Some(mcp::METHOD_TOOLS_CALL) {
        return Some(Role::Tool);
    }
    if let Some(k) = a.str(traceloop::SPAN_KIND) {
        // a workflow or agent span opens a conversation only at the top of the
        // trace; nested ones are steps of it
        let root = ctx.record.parent_span_id.iter().all(|b| *b == 0);
        return match k.as_ref() {
            traceloop::KIND_TOOL => Some(Role::Tool),
            traceloop::KIND_WORKFLOW | traceloop::KIND_AGENT if root => Some(Role::Prompt),
            _ => None,
        };
    }
    match a.str(traceloop::LLM_REQUEST_TYPE).as_deref() {
        Some(traceloop::REQUEST_TYPE_CHAT | traceloop::REQUEST_TYPE_COMPLETION) => {
            Some(Role::ModelCall)
        }
        _ => None,
    }
}

fn span_common(ctx: &SpanCtx<'_>, kind: &'static str, facts: &RequestFacts) -> AgentEvent {
    let a = ctx.attrs;
    let mut e = ctx.event(kind);
    e.session_id = facts.session_for(own_session(a).map(|(_, s)| s), &ctx.record.trace_id);
    e.agent = a
        .first_of(&[genai::AGENT_NAME, genai::AGENT_ID])
        .or_else(|| ctx.origin.service_name.clone());
    e.agent_version = ctx.origin.service_version.clone();
    e.user_id = a.first_of(&[otel::USER_ID, otel::ENDUSER_ID]);
    e
}

/// The last user message in `gen_ai.input.messages` (JSON), if any.
fn last_user_message(a: Attrs<'_>) -> Option<String> {
    let msgs = a.json(genai::INPUT_MESSAGES)?;
    let user = msgs
        .as_array()?
        .iter()
        .rev()
        .find(|m| m.get(genai::MSG_ROLE).and_then(Value::as_str) == Some(genai::ROLE_USER))?;
    if let Some(parts) = user.get(genai::MSG_PARTS).and_then(Value::as_array) {
        let text: Vec<&str> = parts
            .iter()
            .filter_map(|p| p.get(genai::MSG_CONTENT).and_then(Value::as_str))
            .collect();
        return (!text.is_empty()).then(|| text.join("\n"));
    }
    user.get(genai::MSG_CONTENT)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// A Traceloop entity's input, `{"args": [...], "kwargs": {...}}`.
fn traceloop_input(a: Attrs<'_>) -> Option<Value> {
    a.json(traceloop::ENTITY_INPUT)
}

/// The text a Traceloop workflow was started with: its string positional arguments.
fn traceloop_prompt(a: Attrs<'_>) -> Option<String> {
    let input = traceloop_input(a)?;
    let args: Vec<&str> = input
        .get(traceloop::INPUT_ARGS)?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .collect();
    (!args.is_empty()).then(|| args.join("\n"))
}

/// A Traceloop tool's arguments: its keyword arguments, else a lone object
/// passed positionally.
fn traceloop_arguments(a: Attrs<'_>) -> Option<Value> {
    let input = traceloop_input(a)?;
    if let Some(kwargs) = input
        .get(traceloop::INPUT_KWARGS)
        .filter(|k| k.as_object().is_some_and(|o| !o.is_empty()))
    {
        return Some(kwargs.clone());
    }
    match input.get(traceloop::INPUT_ARGS)?.as_array()?.as_slice() {
        [only @ Value::Object(_)] => Some(only.clone()),
        _ => None,
    }
}

fn model_call(ctx: &SpanCtx<'_>, facts: &RequestFacts) -> AgentEvent {
    let a = ctx.attrs;
    let mut e = span_common(ctx, kind::MODEL_CALL, facts);
    e.model = a.first_of(&[
        genai::RESPONSE_MODEL,
        genai::REQUEST_MODEL,
        openinference::LLM_MODEL_NAME,
    ]);
    e.input_tokens = a
        .i64(genai::USAGE_INPUT_TOKENS)
        .or_else(|| a.i64(genai::USAGE_PROMPT_TOKENS))
        .or_else(|| a.i64(openinference::LLM_TOKEN_COUNT_PROMPT));
    e.output_tokens = a
        .i64(genai::USAGE_OUTPUT_TOKENS)
        .or_else(|| a.i64(genai::USAGE_COMPLETION_TOKENS))
        .or_else(|| a.i64(openinference::LLM_TOKEN_COUNT_COMPLETION));
    e.text = a.first_of(&[
        genai::PROVIDER_NAME,
        genai::SYSTEM,
        openinference::LLM_PROVIDER,
    ]);
    e.outcome = ctx
        .status_is_error()
        .then(|| a.string(otel::ERROR_TYPE).unwrap_or_else(|| "error".into()));
    e
}

pub(super) fn span_event(ctx: &SpanCtx<'_>, facts: &RequestFacts) -> Option<AgentEvent> {
    let a = ctx.attrs;
    match role_of(ctx)? {
        Role::ModelCall => Some(model_call(ctx, facts)),
        Role::Prompt => {
            let prompt = last_user_message(a)
                .or_else(|| a.string(openinference::INPUT_VALUE))
                .or_else(|| traceloop_prompt(a))?;
            let mut e = span_common(ctx, kind::PROMPT, facts);
            e.text = Some(prompt);
            Some(e)
        }
        Role::Tool => Some(tool_span(ctx, facts)),
    }
}

fn tool_name(a: Attrs<'_>) -> Option<String> {
    a.first_of(&[
        genai::TOOL_NAME,
        openinference::TOOL_NAME,
        traceloop::ENTITY_NAME,
    ])
}

/// The call id a tool span carries itself; the `mcp` SDK's server spans have
/// only the JSON-RPC request id, unique within their MCP session.
fn own_tool_call_id(a: Attrs<'_>) -> Option<String> {
    a.first_of(&[genai::TOOL_CALL_ID, openinference::TOOL_CALL_ID])
        .or_else(|| {
            a.has(mcp::METHOD_NAME)
                .then(|| a.string(mcp::JSONRPC_REQUEST_ID))
                .flatten()
        })
}

/// The arguments on the tool span itself, with their text as sent. JSON schemas
/// (OpenInference puts them in `tool.parameters` and, in its GenAI mode, in
/// `gen_ai.tool.call.arguments`) are not arguments.
fn span_arguments(a: Attrs<'_>) -> Option<(Value, Option<String>)> {
    let as_sent = [genai::TOOL_CALL_ARGUMENTS, openinference::INPUT_VALUE]
        .into_iter()
        .find_map(|k| {
            let v = a.json(k).filter(|v| v.is_object() && !is_schema(v))?;
            Some((v, a.string(k)))
        });
    as_sent.or_else(|| {
        traceloop_arguments(a).map(|v| {
            let text = v.to_string();
            (v, Some(text))
        })
    })
}

/// A tool's result text; a Traceloop output is JSON, a string one is unwrapped.
fn tool_result_text(a: Attrs<'_>) -> Option<String> {
    a.first_of(&[genai::TOOL_CALL_RESULT, openinference::OUTPUT_VALUE])
        .or_else(|| match a.json(traceloop::ENTITY_OUTPUT) {
            Some(Value::String(s)) => Some(s),
            _ => a.string(traceloop::ENTITY_OUTPUT),
        })
}

fn tool_span(ctx: &SpanCtx<'_>, facts: &RequestFacts) -> AgentEvent {
    let a = ctx.attrs;
    let s = ctx.record;
    let is_mcp = a.has(mcp::METHOD_NAME)
        || a.string(genai::TOOL_TYPE).as_deref() == Some(genai::TOOL_TYPE_MCP);
    let mut e = span_common(
        ctx,
        if is_mcp {
            kind::MCP_CALL
        } else {
            kind::TOOL_RESULT
        },
        facts,
    );
    let own_id = own_tool_call_id(a);
    // what the model asked for: by the span's id, else the call the span was matched to
    let asked: Option<&RequestedCall> = match &own_id {
        Some(id) => facts.calls.by_id(id),
        None => facts.calls.for_tool_span(&s.trace_id, &s.span_id),
    };
    e.tool_call_id = own_id.or_else(|| asked.and_then(|c| c.id.clone()));
    e.tool_name = tool_name(a).or_else(|| asked.and_then(|c| c.name.clone()));
    let (args, args_text) = span_arguments(a)
        .or_else(|| asked.map(|c| (c.arguments.clone(), c.arguments_text.clone())))
        .unwrap_or((Value::Null, None));
    let tool = e.tool_name.clone().unwrap_or_default();
    e.apply_tool_facts(
        tool_facts(&tool, &args, None).or_summary(&tool, || args_text.map(Cow::Owned)),
    );
    if is_mcp {
        // the `mcp` SDK's own spans are the server's (kind SERVER): it is the service
        let server_itself =
            s.kind == opentelemetry_proto::tonic::trace::v1::span::SpanKind::Server as i32;
        e.mcp_server = a
            .first_of(&[mcp::SERVER_NAME, genai::TOOL_SERVER])
            .or_else(|| {
                server_itself
                    .then(|| ctx.origin.service_name.clone())
                    .flatten()
            })
            .or_else(|| a.string(otel::SERVER_ADDRESS));
    }
    let result = tool_result_text(a);
    e.output_bytes = result.as_ref().map(|r| r.len() as i64);
    let errored = ctx.status_is_error() || a.has(otel::ERROR_TYPE);
    let refused = if errored {
        [
            result.as_deref(),
            s.status.as_ref().map(|st| st.message.as_str()),
            a.str(otel::ERROR_TYPE).as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(refusal)
    } else {
        result.as_deref().is_some_and(refusal_statement)
    };
    e.outcome = Some(
        if refused {
            e.decision = Some("deny");
            e.decision_source = Some("app");
            "rejected"
        } else if errored {
            "failure"
        } else {
            "success"
        }
        .into(),
    );
    e
}

fn event_name<'a>(ctx: &LogCtx<'a>) -> Option<Cow<'a, str>> {
    if ctx.record.event_name.is_empty() {
        ctx.attrs.str(otel::EVENT_NAME)
    } else {
        Some(Cow::Borrowed(ctx.record.event_name.as_str()))
    }
}

fn body_of(ctx: &LogCtx<'_>) -> Value {
    match ctx.record.body.as_ref().map(to_json) {
        // a structured body that was stored as text (raw tables, `vigil reindex`)
        Some(Value::String(text)) if text.starts_with('{') => {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
        Some(v) => v,
        None => Value::Null,
    }
}

fn text_of(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// Per-message events (`gen_ai.user.message`, …) re-send the whole history on
/// every model call. A message is identified by its conversation, role, position
/// in the history (its rank among the events of its model call: records sharing
/// a span) and content, so re-sent copies share an event id (one row per request
/// here, one in the `agent_events` view across requests) while the same words
/// said twice stay two messages. `gen_ai.system.message` gives no row but counts
/// for positions.
pub(super) fn log_event(ctx: &LogCtx<'_>, facts: &mut RequestFacts) -> Option<AgentEvent> {
    let a = ctx.attrs;
    let r = ctx.record;
    let name = event_name(ctx)?;
    let (kind, role) = match name.as_ref() {
        genai::EVENT_SYSTEM_MESSAGE => (kind::OTHER, ROLE_SYSTEM),
        genai::EVENT_USER_MESSAGE => (kind::PROMPT, ROLE_USER),
        genai::EVENT_ASSISTANT_MESSAGE | genai::EVENT_CHOICE => {
            (kind::MODEL_RESPONSE, ROLE_ASSISTANT)
        }
        genai::EVENT_TOOL_MESSAGE => (kind::TOOL_RESULT, ROLE_TOOL),
        genai::EVENT_OPERATION_DETAILS => return operation_details(ctx, facts),
        _ => return None,
    };
    let position = facts.next_position(&r.trace_id, &r.span_id);
    if role == ROLE_SYSTEM {
        return None;
    }
    let body = body_of(ctx);
    let message = body.get(genai::MSG_MESSAGE);
    let content = body
        .get(genai::MSG_CONTENT)
        .or_else(|| message.and_then(|m| m.get(genai::MSG_CONTENT)))
        .filter(|c| !c.is_null())
        .map(text_of)
        .or_else(|| a.string(genai::EVENT_CONTENT))
        .or_else(|| body.as_str().map(str::to_string));
    let tool_calls = body
        .get(genai::MSG_TOOL_CALLS)
        .or_else(|| message.and_then(|m| m.get(genai::MSG_TOOL_CALLS)))
        .map(Value::to_string);
    let mut e = ctx.event(kind, Some(name.to_string()));
    e.session_id = facts.session_for(own_session(a).map(|(_, s)| s), &r.trace_id);
    e.agent = ctx.origin.service_name.clone();
    e.agent_version = ctx.origin.service_version.clone();
    e.model = a.first_of(&[genai::RESPONSE_MODEL, genai::REQUEST_MODEL]);
    let tool_call_id = body
        .get(genai::MSG_ID)
        .and_then(Value::as_str)
        .map(str::to_string);
    e.event_id = stable_id(&[
        b"genai-msg",
        e.session_id.as_deref().unwrap_or("").as_bytes(),
        role.as_bytes(),
        &position.to_le_bytes(),
        content.as_deref().unwrap_or("").as_bytes(),
        tool_calls.as_deref().unwrap_or("").as_bytes(),
        tool_call_id.as_deref().unwrap_or("").as_bytes(),
    ]);
    if kind == kind::TOOL_RESULT {
        tool_message(&mut e, tool_call_id, content.as_deref(), facts);
    }
    e.text = content;
    Some(e)
}

/// A tool's result message: the tool ran (or refused); its name and arguments
/// come from the call of the same id that a model asked for in this request.
fn tool_message(
    e: &mut AgentEvent,
    tool_call_id: Option<String>,
    content: Option<&str>,
    facts: &RequestFacts,
) {
    let asked = tool_call_id.as_deref().and_then(|id| facts.calls.by_id(id));
    e.tool_call_id = tool_call_id;
    if let Some(call) = asked {
        e.tool_name = call.name.clone();
        let tool = e.tool_name.clone().unwrap_or_default();
        let args_text = call.arguments_text.clone();
        e.apply_tool_facts(
            tool_facts(&tool, &call.arguments, None)
                .or_summary(&tool, || args_text.map(Cow::Owned)),
        );
    }
    e.output_bytes = content.map(|c| c.len() as i64);
    if content.is_some_and(refusal_statement) {
        e.decision = Some("deny");
        e.decision_source = Some("app");
        e.outcome = Some("rejected".into());
    } else {
        e.outcome = Some("success".into());
    }
}

/// util-genai's `gen_ai.client.inference.operation.details` repeats its model
/// call span (model, tokens) and adds the messages. With a span id that span is
/// the `model_call` row (mapping both would count the call and its tokens twice),
/// so the record gives none; without one (tracing off) it is the model call.
fn operation_details(ctx: &LogCtx<'_>, facts: &RequestFacts) -> Option<AgentEvent> {
    let r = ctx.record;
    if hex_opt(&r.span_id).is_some() {
        return None;
    }
    let a = ctx.attrs;
    let mut e = ctx.event(
        kind::MODEL_CALL,
        Some(genai::EVENT_OPERATION_DETAILS.to_string()),
    );
    e.session_id = facts.session_for(own_session(a).map(|(_, s)| s), &r.trace_id);
    e.agent = ctx.origin.service_name.clone();
    e.agent_version = ctx.origin.service_version.clone();
    e.model = a.first_of(&[genai::RESPONSE_MODEL, genai::REQUEST_MODEL]);
    e.input_tokens = a.i64(genai::USAGE_INPUT_TOKENS);
    e.output_tokens = a.i64(genai::USAGE_OUTPUT_TOKENS);
    e.text = a.first_of(&[genai::PROVIDER_NAME, genai::SYSTEM]);
    Some(e)
}
