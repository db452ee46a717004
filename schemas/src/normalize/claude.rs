//! Anthropic Claude Code: log events (`event.name` without prefix, body
//! `claude_code.<event>`) and beta trace spans. See docs/vendors.md (§5–6 of "Real-client behaviour").

use serde_json::Value;

use super::tools::{mcp_server_of, tool_facts};
use super::values::{decision, decision_source};
use super::{AgentEvent, LogCtx, SpanCtx};
use crate::attrs::{claude, genai, otel};
use crate::events::kind;
use crate::otlp::text;
use crate::vendor::Vendor;

fn event_name(ctx: &LogCtx<'_>) -> Option<String> {
    let from_attr = ctx.attrs.string(otel::EVENT_NAME);
    let from_body = ctx
        .record
        .body
        .as_ref()
        .map(text)
        .filter(|b| b.starts_with(claude::EVENT_PREFIX));
    let name = from_attr.or(from_body)?;
    Some(
        name.strip_prefix(claude::EVENT_PREFIX)
            .unwrap_or(&name)
            .to_string(),
    )
}

fn common(ctx: &LogCtx<'_>, kind: &'static str, name: &str) -> AgentEvent {
    let a = ctx.attrs;
    let mut e = ctx.event(kind, Some(format!("{}{name}", claude::EVENT_PREFIX)));
    e.session_id = a.string(claude::SESSION_ID);
    e.turn_id = a.string(claude::PROMPT_ID);
    e.seq = a.i64(claude::EVENT_SEQUENCE);
    e.agent = Some(Vendor::ClaudeCode.as_str().into());
    e.agent_version = a
        .string(claude::APP_VERSION)
        .or_else(|| ctx.origin.service_version.clone());
    e.user_id = a.first_of(&[
        claude::USER_EMAIL,
        claude::USER_ACCOUNT_UUID,
        claude::USER_ID,
    ]);
    e.tool_name = a.string(claude::TOOL_NAME);
    e.tool_call_id = a.string(claude::TOOL_USE_ID);
    e.model = a.string(claude::MODEL);
    e
}

/// The call's facts from `tool_input` (what the tool got, as sent) merged over
/// `tool_parameters` (Claude's summary: `full_command`, MCP server and tool names).
fn apply_tool_input(ctx: &LogCtx<'_>, e: &mut AgentEvent) {
    let a = ctx.attrs;
    let params = a.json(claude::TOOL_PARAMETERS).unwrap_or(Value::Null);
    let input = a.json(claude::TOOL_INPUT).unwrap_or(Value::Null);
    let tool = e.tool_name.clone().unwrap_or_default();
    let command = params
        .get(claude::FULL_COMMAND)
        .and_then(Value::as_str)
        .map(str::to_string);
    let source = if input.is_object() { &input } else { &params };
    e.apply_tool_facts(
        tool_facts(&tool, source, command).or_summary(&tool, || a.str(claude::TOOL_INPUT)),
    );
    e.mcp_server = params
        .get(claude::MCP_SERVER_NAME)
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| mcp_server_of(&tool));
}

pub(super) fn log_event(ctx: &LogCtx<'_>) -> Option<AgentEvent> {
    let a = ctx.attrs;
    let name = event_name(ctx)?;
    let e = match name.as_str() {
        claude::EVENT_USER_PROMPT => {
            let mut e = common(ctx, kind::PROMPT, &name);
            e.text = a.first_of(&[claude::PROMPT, claude::PROMPT_TEXT]);
            e
        }
        claude::EVENT_API_REQUEST => {
            let mut e = common(ctx, kind::MODEL_CALL, &name);
            e.input_tokens = a.i64(claude::INPUT_TOKENS);
            e.output_tokens = a.i64(claude::OUTPUT_TOKENS);
            e.duration_ms = a.i64(claude::DURATION_MS);
            e
        }
        claude::EVENT_API_ERROR => {
            let mut e = common(ctx, kind::ERROR, &name);
            e.text = a.first_of(&[claude::ERROR, otel::ERROR_MESSAGE]);
            e.outcome = a.string(claude::STATUS_CODE);
            e.duration_ms = a.i64(claude::DURATION_MS);
            e
        }
        claude::EVENT_ASSISTANT_RESPONSE => {
            let mut e = common(ctx, kind::MODEL_RESPONSE, &name);
            e.text = a.string(claude::RESPONSE);
            e
        }
        claude::EVENT_TOOL_DECISION => {
            let mut e = common(ctx, kind::TOOL_DECISION, &name);
            let raw_source = a.string(claude::SOURCE).unwrap_or_default();
            e.decision = match raw_source.as_str() {
                claude::SOURCE_USER_ABORT => Some("abort"),
                claude::SOURCE_USER_REJECT => Some("deny"),
                _ => a.str(claude::DECISION).and_then(|d| decision(&d)),
            };
            e.decision_source = decision_source(&raw_source);
            // the mode the decision was made in: `bypassPermissions` means none was asked
            e.text = a
                .string(claude::PERMISSION_MODE)
                .map(|m| serde_json::json!({ "permission_mode": m }).to_string());
            apply_tool_input(ctx, &mut e);
            e
        }
        claude::EVENT_TOOL_RESULT => {
            let mut e = common(ctx, kind::TOOL_RESULT, &name);
            apply_tool_input(ctx, &mut e);
            if e.mcp_server.is_some() && e.kind == kind::TOOL_RESULT {
                e.kind = kind::MCP_CALL;
            }
            e.duration_ms = a.i64(claude::DURATION_MS);
            e.outcome = a
                .bool(claude::SUCCESS)
                .map(|s| if s { "success" } else { "failure" }.to_string());
            e.output_bytes = a.i64(claude::TOOL_RESULT_SIZE_BYTES);
            e.text = a.string(claude::ERROR);
            // older releases put the decision on the result too
            e.decision = a.str(claude::DECISION).and_then(|d| decision(&d));
            e.decision_source = a.str(claude::SOURCE).and_then(|s| decision_source(&s));
            e
        }
        _ => common(ctx, kind::OTHER, &name),
    };
    Some(e)
}

/// The output a `claude_code.tool` span recorded in its `tool.output` event.
fn tool_output(ctx: &SpanCtx<'_>) -> Option<String> {
    let ev = ctx
        .record
        .events
        .iter()
        .find(|e| e.name == claude::SPAN_EVENT_TOOL_OUTPUT)?;
    let a = crate::otlp::Attrs(&ev.attributes);
    Some(
        a.first_of(&[claude::OUTPUT, claude::CONTENT])
            .unwrap_or_default(),
    )
}

fn span_common(ctx: &SpanCtx<'_>, kind: &'static str) -> AgentEvent {
    let a = ctx.attrs;
    let mut e = ctx.event(kind);
    e.session_id = a.first_of(&[claude::SESSION_ID, genai::CONVERSATION_ID]);
    e.agent = Some(Vendor::ClaudeCode.as_str().into());
    e.agent_version = ctx.origin.service_version.clone();
    e.user_id = a.first_of(&[
        claude::USER_EMAIL,
        claude::USER_ACCOUNT_UUID,
        claude::USER_ID,
    ]);
    e.tool_call_id = a.first_of(&[genai::TOOL_CALL_ID, claude::TOOL_USE_ID]);
    e.tool_name = a.first_of(&[genai::TOOL_NAME, claude::TOOL_NAME]);
    e
}

pub(super) fn span_event(ctx: &SpanCtx<'_>) -> Option<AgentEvent> {
    let a = ctx.attrs;
    match ctx.record.name.as_str() {
        claude::SPAN_TOOL => {
            let mut e = span_common(ctx, kind::TOOL_CALL);
            let input = serde_json::json!({claude::FILE_PATH: a.string(claude::FILE_PATH), claude::URL: a.string(claude::URL)});
            let tool = e.tool_name.clone().unwrap_or_default();
            e.apply_tool_facts(tool_facts(&tool, &input, a.string(claude::FULL_COMMAND)));
            e.mcp_server = mcp_server_of(&tool);
            e.output_bytes = tool_output(ctx).map(|o| o.len() as i64);
            Some(e)
        }
        claude::SPAN_BLOCKED_ON_USER => {
            let mut e = span_common(ctx, kind::TOOL_DECISION);
            e.decision = a.str(claude::DECISION).and_then(|d| decision(&d));
            e.decision_source = a.str(claude::SOURCE).and_then(|s| decision_source(&s));
            Some(e)
        }
        claude::SPAN_EXECUTION => {
            let mut e = span_common(ctx, kind::TOOL_RESULT);
            e.outcome = a
                .bool(claude::SUCCESS)
                .map(|s| if s { "success" } else { "failure" }.to_string());
            Some(e)
        }
        // the prompt and model calls come from the log events
        _ => None,
    }
}

/// Folds Claude's `blocked_on_user` and `execution` spans into their parent `tool`
/// span's row (the decision span carries no tool id of its own). Children whose
/// parent is not in this request keep their own row.
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
        let claude_child = child.agent.as_deref() == Some(Vendor::ClaudeCode.as_str());
        if !claude_child || (child.kind != kind::TOOL_DECISION && child.kind != kind::TOOL_RESULT) {
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
