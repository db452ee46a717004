//! OpenTelemetry GenAI / MCP semantic conventions and OpenInference, from any
//! app. Records that follow none of them give no agent event.

use std::borrow::Cow;

use serde_json::Value;

use super::tools::tool_facts;
use super::{AgentEvent, LogCtx, SpanCtx, stable_id};
use crate::attrs::{genai, mcp, openinference, otel};
use crate::events::kind;
use crate::otlp::{Attrs, to_json};

const REFUSAL_WORDS: [&str; 6] = [
    "blocked",
    "denied",
    "refused",
    "not permitted",
    "not allowed",
    "forbidden",
];

fn refusal(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    REFUSAL_WORDS.iter().any(|w| t.contains(w))
}

fn session_of(a: Attrs<'_>) -> Option<String> {
    a.first_of(&[genai::CONVERSATION_ID, otel::SESSION_ID, mcp::SESSION_ID])
}

fn span_common(ctx: &SpanCtx<'_>, kind: &'static str) -> AgentEvent {
    let a = ctx.attrs;
    let mut e = ctx.event(kind);
    e.session_id = session_of(a);
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
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))?;
    if let Some(parts) = user.get("parts").and_then(Value::as_array) {
        let text: Vec<&str> = parts
            .iter()
            .filter_map(|p| p.get("content").and_then(Value::as_str))
            .collect();
        return (!text.is_empty()).then(|| text.join("\n"));
    }
    user.get("content")
        .and_then(Value::as_str)
        .map(str::to_string)
}

pub(super) fn span_event(ctx: &SpanCtx<'_>) -> Option<AgentEvent> {
    let a = ctx.attrs;
    let op = a.string(genai::OPERATION_NAME);
    let oi_kind = a
        .string(openinference::SPAN_KIND)
        .map(|k| k.to_ascii_uppercase());
    let mcp_method = a.string(mcp::METHOD_NAME);
    match (op.as_deref(), oi_kind.as_deref(), mcp_method.as_deref()) {
        (
            Some(
                genai::OP_CHAT
                | genai::OP_TEXT_COMPLETION
                | genai::OP_GENERATE_CONTENT
                | genai::OP_EMBEDDINGS,
            ),
            _,
            _,
        )
        | (None, Some(openinference::KIND_LLM), _) => {
            let mut e = span_common(ctx, kind::MODEL_CALL);
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
            Some(e)
        }
        (Some(genai::OP_INVOKE_AGENT), _, _) | (None, Some(openinference::KIND_AGENT), _) => {
            let prompt = last_user_message(a).or_else(|| a.string(openinference::INPUT_VALUE))?;
            let mut e = span_common(ctx, kind::PROMPT);
            e.text = Some(prompt);
            Some(e)
        }
        (Some(genai::OP_EXECUTE_TOOL), _, _)
        | (None, Some(openinference::KIND_TOOL), _)
        | (None, None, Some(mcp::METHOD_TOOLS_CALL)) => Some(tool_span(ctx)),
        _ => None,
    }
}

fn tool_span(ctx: &SpanCtx<'_>) -> AgentEvent {
    let a = ctx.attrs;
    let is_mcp = a.has(mcp::METHOD_NAME)
        || a.string(genai::TOOL_TYPE).as_deref() == Some(genai::TOOL_TYPE_MCP);
    let mut e = span_common(
        ctx,
        if is_mcp {
            kind::MCP_CALL
        } else {
            kind::TOOL_RESULT
        },
    );
    e.tool_name = a.first_of(&[genai::TOOL_NAME, openinference::TOOL_NAME]);
    e.tool_call_id = a.first_of(&[genai::TOOL_CALL_ID, openinference::TOOL_CALL_ID]);
    let args = a
        .json(genai::TOOL_CALL_ARGUMENTS)
        .or_else(|| a.json(openinference::TOOL_PARAMETERS))
        .or_else(|| a.json(openinference::INPUT_VALUE))
        .unwrap_or(Value::Null);
    let args_text = a.first_of(&[
        genai::TOOL_CALL_ARGUMENTS,
        openinference::TOOL_PARAMETERS,
        openinference::INPUT_VALUE,
    ]);
    let tool = e.tool_name.clone().unwrap_or_default();
    e.apply_tool_facts(
        tool_facts(&tool, &args, None).or_summary(&tool, || args_text.map(Into::into)),
    );
    if is_mcp {
        e.mcp_server = a.first_of(&[mcp::SERVER_NAME, genai::TOOL_SERVER, otel::SERVER_ADDRESS]);
    }
    let result = a.first_of(&[genai::TOOL_CALL_RESULT, openinference::OUTPUT_VALUE]);
    e.output_bytes = result.as_ref().map(|r| r.len() as i64);
    if ctx.status_is_error() || a.has(otel::ERROR_TYPE) {
        let why = [
            result.as_deref(),
            ctx.record.status.as_ref().map(|s| s.message.as_str()),
            a.str(otel::ERROR_TYPE).as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(refusal);
        if why {
            e.decision = Some("deny");
            e.decision_source = Some("app");
            e.outcome = Some("rejected".into());
        } else {
            e.outcome = Some("failure".into());
        }
    } else {
        e.outcome = Some("success".into());
    }
    e
}

/// Older instrumentations emit messages as log records (`gen_ai.user.message`,
/// …), re-emitting the whole history on every call: the event id hashes the
/// conversation, role and content, so repeats collapse into one row.
pub(super) fn log_event(ctx: &LogCtx<'_>) -> Option<AgentEvent> {
    let a = ctx.attrs;
    let name: Cow<'_, str> = if ctx.record.event_name.is_empty() {
        a.str(otel::EVENT_NAME)?
    } else {
        Cow::Borrowed(ctx.record.event_name.as_str())
    };
    let kind = match name.as_ref() {
        genai::EVENT_USER_MESSAGE => kind::PROMPT,
        genai::EVENT_ASSISTANT_MESSAGE | genai::EVENT_CHOICE => kind::MODEL_RESPONSE,
        genai::EVENT_TOOL_MESSAGE => kind::TOOL_RESULT,
        genai::EVENT_OPERATION_DETAILS => kind::MODEL_CALL,
        _ => return None,
    };
    let body = match ctx.record.body.as_ref().map(to_json) {
        // a structured body that was stored as text (raw tables, `vigil reindex`)
        Some(Value::String(text)) if text.starts_with('{') => {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        }
        Some(v) => v,
        None => Value::Null,
    };
    let content = body
        .get("content")
        .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_string))
        .or_else(|| {
            body.get("message")
                .and_then(|m| m.get("content"))
                .map(|c| c.as_str().map_or_else(|| c.to_string(), str::to_string))
        })
        .or_else(|| a.string(genai::EVENT_CONTENT))
        .or_else(|| body.as_str().map(str::to_string));
    let mut e = ctx.event(kind, Some(name.to_string()));
    e.session_id = session_of(a);
    e.agent = ctx.origin.service_name.clone();
    e.model = a.first_of(&[genai::RESPONSE_MODEL, genai::REQUEST_MODEL]);
    e.input_tokens = a.i64(genai::USAGE_INPUT_TOKENS);
    e.output_tokens = a.i64(genai::USAGE_OUTPUT_TOKENS);
    e.tool_call_id = body.get("id").and_then(Value::as_str).map(str::to_string);
    if kind != kind::MODEL_CALL {
        let trace = e.trace_id.clone().unwrap_or_default();
        let conv = e.session_id.clone().unwrap_or(trace);
        e.event_id = stable_id(&[
            b"genai-msg",
            conv.as_bytes(),
            name.as_bytes(),
            content.as_deref().unwrap_or("").as_bytes(),
        ]);
    }
    e.text = content;
    Some(e)
}
