//! OpenAI Codex: OTLP log events named by the `event.name` attribute (`codex.*`),
//! plus `exec_command` spans that carry the turn id. See real-clients.md §3–4, §9.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::tools::{is_plan_tool, mcp_server_of, tool_facts};
use super::values::{decision, decision_source};
use super::{AgentEvent, LogCtx, SpanCtx};
use crate::events::kind;

/// The first words of the prompt Codex gives its automated reviewer.
pub const REVIEWER_PROMPT_PREFIX: &str = "The following is the Codex agent history";
static REVIEWED_SESSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"Reviewed Codex session id:\s*([0-9A-Za-z-]{8,})").expect("valid regex")
});

/// The exit code in an exec result (`Process exited with code N`, `exit code N`).
fn exit_code(output: &str) -> Option<i32> {
    let rest = ["Process exited with code ", "exit code: ", "exit code "]
        .iter()
        .find_map(|marker| output.find(marker).map(|i| &output[i + marker.len()..]))?;
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Output text that means exec policy or the approval policy refused the command
/// before it ran (no `tool_decision` is logged for these).
fn policy_rejection(output: &str) -> bool {
    output.contains("Rejected(")
        || output.contains("approval policy is Never")
        || output.contains("rejected by policy")
}

/// Output text of a call the user or reviewer refused (a `tool_decision` says who).
fn declined(output: &str) -> bool {
    let o = output.to_ascii_lowercase();
    o.contains("rejected due to unacceptable risk")
        || o.contains("rejected by user")
        || o.contains("user rejected")
}

fn common(ctx: &LogCtx<'_>, kind: &'static str) -> AgentEvent {
    let a = ctx.attrs;
    let name = a.string("event.name");
    let mut e = ctx.event(kind, name);
    e.session_id = a.string("conversation.id");
    e.agent = Some("codex".into());
    e.agent_version = a
        .first_of(&["app.version"])
        .or_else(|| ctx.origin.service_version.clone());
    e.user_id = a.first_of(&["user.account_id", "user.email"]);
    e.model = a.string("model");
    e.tool_call_id = a.first_of(&["call_id", "item.id"]);
    e.tool_name = a.string("tool_name");
    e.turn_id = a.first_of(&["turn.id", "turn_id"]);
    e
}

/// Bytes after the `Output:` line of an exec result; `None` if there is none.
pub fn output_body(output: &str) -> Option<&str> {
    output
        .split_once("\nOutput:\n")
        .map(|(_, body)| body)
        .or_else(|| output.strip_prefix("Output:\n"))
}

pub(super) fn log_event(ctx: &LogCtx<'_>) -> Option<AgentEvent> {
    let a = ctx.attrs;
    // the DEBUG "flushing OTEL metrics" record has no event.name
    let name = a.string("event.name")?;
    let short = name.strip_prefix("codex.").unwrap_or(&name);
    match short {
        "conversation_starts" => {
            let mut e = common(ctx, kind::SESSION_START);
            let servers = a.string("mcp_servers");
            e.mcp_server = servers.clone();
            e.text = Some(
                serde_json::json!({
                    "approval_policy": a.string("approval_policy"),
                    "sandbox_policy": a.string("sandbox_policy"),
                    "provider": a.string("provider_name"),
                    "mcp_servers": servers,
                })
                .to_string(),
            );
            Some(e)
        }
        "user_prompt" => {
            let mut e = common(ctx, kind::PROMPT);
            let prompt = a.string("prompt");
            if let Some(p) = &prompt
                && p.starts_with(REVIEWER_PROMPT_PREFIX)
            {
                e.agent = Some("codex-reviewer".into());
                e.parent_session_id = REVIEWED_SESSION.captures(p).map(|c| c[1].to_string());
            }
            e.text = prompt;
            Some(e)
        }
        "api_request" | "websocket_request" => {
            let mut e = common(ctx, kind::MODEL_CALL);
            e.duration_ms = a.i64("duration_ms");
            e.outcome = a
                .string("http.response.status_code")
                .or_else(|| a.string("error.message"));
            Some(e)
        }
        "sse_event" | "websocket_event" => {
            // model traffic chatter; only the copy with token counts is worth a row
            let input = a.i64("input_token_count")?;
            let mut e = common(ctx, kind::MODEL_RESPONSE);
            e.input_tokens = Some(input);
            e.output_tokens = a.i64("output_token_count");
            Some(e)
        }
        "tool_decision" => {
            let mut e = common(ctx, kind::TOOL_DECISION);
            e.decision = a.str("decision").and_then(|d| decision(&d));
            e.decision_source = a.str("source").and_then(|s| decision_source(&s));
            e.mcp_server = a
                .string("mcp_server")
                .or_else(|| e.tool_name.as_deref().and_then(mcp_server_of));
            Some(e)
        }
        "sandbox_outcome" => {
            let mut e = common(ctx, kind::SANDBOX);
            let outcome = a.string("outcome");
            if outcome.as_deref().and_then(decision) == Some("deny") {
                e.decision = Some("deny");
                e.decision_source = Some("sandbox");
            }
            e.outcome = outcome;
            e.duration_ms = a.i64("initial_duration_ms");
            Some(e)
        }
        "tool_result" => Some(tool_result(ctx)),
        "guardian_assessment" => {
            let mut e = common(ctx, kind::REVIEW);
            e.tool_call_id = a.first_of(&["item.id", "call_id"]);
            e.decision = a
                .first_of(&["outcome", "status"])
                .as_deref()
                .and_then(decision);
            e.decision_source = Some("reviewer");
            e.outcome = a.string("risk_level");
            e.text = a.string("rationale");
            Some(e)
        }
        _ if a.has("decision") && (a.has("host") || a.has("domain")) => {
            // network-proxy verdicts (the event name has changed between releases)
            let mut e = common(ctx, kind::NETWORK);
            e.network_host = a
                .first_of(&["host", "domain"])
                .map(|h| h.to_ascii_lowercase());
            e.network_decision = a.str("decision").and_then(|d| decision(&d));
            e.decision = e.network_decision;
            e.decision_source = Some("proxy");
            e.text = a.string("reason");
            Some(e)
        }
        "startup_phase" | "turn_ttft" => None,
        _ => Some(common(ctx, kind::OTHER)),
    }
}

fn tool_result(ctx: &LogCtx<'_>) -> AgentEvent {
    let a = ctx.attrs;
    let mut e = common(ctx, kind::TOOL_RESULT);
    let tool = e.tool_name.clone().unwrap_or_default();
    e.seq = a.i64("tool_result_seq");
    e.duration_ms = a.i64("duration_ms");
    let args: Value = a.json("arguments").unwrap_or(Value::Null);
    e.apply_tool_facts(tool_facts(&tool, &args, None));
    e.mcp_server = a.string("mcp_server").or_else(|| mcp_server_of(&tool));
    if e.mcp_server.is_some() && e.kind == kind::TOOL_RESULT {
        e.kind = kind::MCP_CALL;
    }
    let output = a.string("output").unwrap_or_default();
    let success = a.bool("success");
    if success == Some(false) && policy_rejection(&output) {
        // refused by exec policy / approval policy: never spawned, no decision event
        e.decision = Some("deny");
        e.decision_source = Some("policy");
        e.outcome = Some("rejected".into());
    } else if success == Some(false) && declined(&output) {
        e.outcome = Some("rejected".into());
    } else {
        e.outcome = success.map(|s| if s { "success" } else { "failure" }.to_string());
        e.exit_code = exit_code(&output);
        e.output_bytes = output_body(&output).map(|b| b.len() as i64).or_else(|| {
            // non-exec tools return their output as is
            (!is_plan_tool(&tool) && !tool.contains("exec") && !tool.contains("shell"))
                .then_some(output.len() as i64)
        });
    }
    e
}

/// `exec_command` spans give the turn of a call (log events have none).
pub(super) fn span_event(ctx: &SpanCtx<'_>) -> Option<AgentEvent> {
    let a = ctx.attrs;
    // only the tool span itself: other spans that mention the call (e.g. the
    // reviewer's `guardian_scoring_observation`) carry no conversation and add nothing
    if ctx.span.name != "exec_command" {
        return None;
    }
    let call_id = a.string("call_id")?;
    let mut e = ctx.event(kind::TOOL_CALL);
    e.session_id = Some(a.string("conversation.id")?);
    e.agent = Some("codex".into());
    e.agent_version = ctx.origin.service_version.clone();
    e.tool_call_id = Some(call_id);
    e.tool_name = a
        .string("tool_name")
        .or_else(|| Some(ctx.span.name.clone()));
    e.turn_id = a.first_of(&["turn.id", "turn_id"]);
    Some(e)
}
