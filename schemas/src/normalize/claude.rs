//! Anthropic Claude Code: log events (`event.name` without prefix, body
//! `claude_code.<event>`) and beta trace spans. See real-clients.md §5–6.

use serde_json::Value;

use super::tools::{mcp_server_of, tool_facts};
use super::values::{decision, decision_source};
use super::{AgentEvent, LogCtx, SpanCtx};
use crate::events::kind;
use crate::otlp::text;

fn event_name(ctx: &LogCtx<'_>) -> Option<String> {
    let from_attr = ctx.attrs.string("event.name");
    let from_body = ctx
        .rec
        .body
        .as_ref()
        .map(text)
        .filter(|b| b.starts_with("claude_code."));
    let name = from_attr.or(from_body)?;
    Some(
        name.strip_prefix("claude_code.")
            .unwrap_or(&name)
            .to_string(),
    )
}

fn common(ctx: &LogCtx<'_>, kind: &'static str, name: &str) -> AgentEvent {
    let a = ctx.attrs;
    let mut e = ctx.event(kind, Some(format!("claude_code.{name}")));
    e.session_id = a.string("session.id");
    e.turn_id = a.string("prompt.id");
    e.seq = a.i64("event.sequence");
    e.agent = Some("claude_code".into());
    e.agent_version = a
        .string("app.version")
        .or_else(|| ctx.origin.service_version.clone());
    e.user_id = a.first_of(&["user.email", "user.account_uuid", "user.id"]);
    e.tool_name = a.string("tool_name");
    e.tool_call_id = a.string("tool_use_id");
    e.model = a.string("model");
    e
}

/// The call's input: `tool_input` (what the tool got) merged over `tool_parameters`
/// (Claude's summary: `full_command`, MCP server and tool names).
fn tool_input(ctx: &LogCtx<'_>) -> (Value, Value) {
    let params = ctx.attrs.json("tool_parameters").unwrap_or(Value::Null);
    let input = ctx.attrs.json("tool_input").unwrap_or(Value::Null);
    (params, input)
}

fn apply_tool(e: &mut AgentEvent, params: &Value, input: &Value) {
    let tool = e.tool_name.clone().unwrap_or_default();
    let command = params
        .get("full_command")
        .and_then(Value::as_str)
        .map(str::to_string);
    let source = if input.is_object() { input } else { params };
    e.apply_tool_facts(tool_facts(&tool, source, command));
    e.mcp_server = params
        .get("mcp_server_name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| mcp_server_of(&tool));
}

pub(super) fn log_event(ctx: &LogCtx<'_>) -> Option<AgentEvent> {
    let a = ctx.attrs;
    let name = event_name(ctx)?;
    let e = match name.as_str() {
        "user_prompt" => {
            let mut e = common(ctx, kind::PROMPT, &name);
            e.text = a.first_of(&["prompt", "prompt_text"]);
            e
        }
        "api_request" => {
            let mut e = common(ctx, kind::MODEL_CALL, &name);
            e.input_tokens = a.i64("input_tokens");
            e.output_tokens = a.i64("output_tokens");
            e.duration_ms = a.i64("duration_ms");
            e
        }
        "api_error" => {
            let mut e = common(ctx, kind::ERROR, &name);
            e.text = a.first_of(&["error", "error.message"]);
            e.outcome = a.string("status_code");
            e.duration_ms = a.i64("duration_ms");
            e
        }
        "assistant_response" => {
            let mut e = common(ctx, kind::MODEL_RESPONSE, &name);
            e.text = a.string("response");
            e
        }
        "tool_decision" => {
            let mut e = common(ctx, kind::TOOL_DECISION, &name);
            let raw_source = a.string("source").unwrap_or_default();
            e.decision = match raw_source.as_str() {
                "user_abort" => Some("abort"),
                "user_reject" => Some("deny"),
                _ => a.str("decision").and_then(|d| decision(&d)),
            };
            e.decision_source = decision_source(&raw_source);
            let (params, input) = tool_input(ctx);
            apply_tool(&mut e, &params, &input);
            e
        }
        "tool_result" => {
            let mut e = common(ctx, kind::TOOL_RESULT, &name);
            let (params, input) = tool_input(ctx);
            apply_tool(&mut e, &params, &input);
            if e.mcp_server.is_some() && e.kind == kind::TOOL_RESULT {
                e.kind = kind::MCP_CALL;
            }
            e.duration_ms = a.i64("duration_ms");
            e.outcome = a
                .bool("success")
                .map(|s| if s { "success" } else { "failure" }.to_string());
            e.output_bytes = a.i64("tool_result_size_bytes");
            e.text = a.string("error");
            // older releases put the decision on the result too
            e.decision = a.str("decision").and_then(|d| decision(&d));
            e.decision_source = a.str("source").and_then(|s| decision_source(&s));
            e
        }
        _ => common(ctx, kind::OTHER, &name),
    };
    Some(e)
}

/// The output a `claude_code.tool` span recorded in its `tool.output` event.
fn tool_output(ctx: &SpanCtx<'_>) -> Option<String> {
    let ev = ctx.span.events.iter().find(|e| e.name == "tool.output")?;
    let a = crate::otlp::Attrs(&ev.attributes);
    Some(a.first_of(&["output", "content"]).unwrap_or_default())
}

fn span_common(ctx: &SpanCtx<'_>, kind: &'static str) -> AgentEvent {
    let a = ctx.attrs;
    let mut e = ctx.event(kind);
    e.session_id = a.first_of(&["session.id", "gen_ai.conversation.id"]);
    e.agent = Some("claude_code".into());
    e.agent_version = ctx.origin.service_version.clone();
    e.user_id = a.first_of(&["user.email", "user.account_uuid", "user.id"]);
    e.tool_call_id = a.first_of(&["gen_ai.tool.call.id", "tool_use_id"]);
    e.tool_name = a.first_of(&["gen_ai.tool.name", "tool_name"]);
    e
}

pub(super) fn span_event(ctx: &SpanCtx<'_>) -> Option<AgentEvent> {
    let a = ctx.attrs;
    match ctx.span.name.as_str() {
        "claude_code.tool" => {
            let mut e = span_common(ctx, kind::TOOL_CALL);
            let input =
                serde_json::json!({"file_path": a.string("file_path"), "url": a.string("url")});
            let tool = e.tool_name.clone().unwrap_or_default();
            e.apply_tool_facts(tool_facts(&tool, &input, a.string("full_command")));
            e.mcp_server = mcp_server_of(&tool);
            e.output_bytes = tool_output(ctx).map(|o| o.len() as i64);
            Some(e)
        }
        "claude_code.tool.blocked_on_user" => {
            let mut e = span_common(ctx, kind::TOOL_DECISION);
            e.decision = a.str("decision").and_then(|d| decision(&d));
            e.decision_source = a.str("source").and_then(|s| decision_source(&s));
            Some(e)
        }
        "claude_code.tool.execution" => {
            let mut e = span_common(ctx, kind::TOOL_RESULT);
            e.outcome = a
                .bool("success")
                .map(|s| if s { "success" } else { "failure" }.to_string());
            Some(e)
        }
        // the prompt and model calls come from the log events
        _ => None,
    }
}

/// Folds `blocked_on_user` and `execution` spans into their parent `tool` span's
/// row (the decision span carries no tool id of its own). Children whose parent
/// is not in this request keep their own row.
pub(super) fn link_children_to_tools(events: &mut Vec<AgentEvent>) {
    let parents: std::collections::HashMap<String, usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind == kind::TOOL_CALL)
        .filter_map(|(i, e)| e.span_id.clone().map(|s| (s, i)))
        .collect();
    let mut folded = vec![false; events.len()];
    for i in 0..events.len() {
        let child = &events[i];
        if child.kind != kind::TOOL_DECISION && child.kind != kind::TOOL_RESULT {
            continue;
        }
        let Some(&p) = child.parent_span_id.as_ref().and_then(|ps| parents.get(ps)) else {
            continue;
        };
        let child = events[i].clone();
        let parent = &mut events[p];
        if child.kind == kind::TOOL_DECISION {
            parent.decision = child.decision;
            parent.decision_source = child.decision_source;
        } else {
            parent.outcome = child.outcome;
        }
        folded[i] = true;
    }
    let mut i = 0;
    events.retain(|_| {
        let keep = !folded[i];
        i += 1;
        keep
    });
}
