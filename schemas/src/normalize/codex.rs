//! OpenAI Codex: OTLP log events named by the `event.name` attribute (`codex.*`),
//! plus `exec_command` spans that carry the turn id. See docs/vendors.md (§3–4, §9 of "Real-client behaviour").

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::tools::{is_plan_tool, mcp_server_of, tool_facts};
use super::values::{decision, decision_source};
use super::{AgentEvent, LogCtx, SpanCtx};
use crate::attrs::{codex, otel};
use crate::events::kind;
use crate::vendor::Vendor;

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

/// Who refused a call, from the output Codex gives the model: the automated
/// reviewer or the user. Its `tool_decision` says the same, so the result row
/// carries that decider too, and never contradicts the action it belongs to.
fn declined_by(output: &str) -> Option<&'static str> {
    let o = output.to_ascii_lowercase();
    if o.contains("rejected due to unacceptable risk") {
        Some("reviewer")
    } else if o.contains("rejected by user") || o.contains("user rejected") {
        Some("user")
    } else {
        None
    }
}

fn common(ctx: &LogCtx<'_>, kind: &'static str) -> AgentEvent {
    let a = ctx.attrs;
    let name = a.string(otel::EVENT_NAME);
    let mut e = ctx.event(kind, name);
    e.session_id = a.string(codex::CONVERSATION_ID);
    e.agent = Some(Vendor::Codex.as_str().into());
    e.agent_version = a
        .first_of(&[codex::APP_VERSION])
        .or_else(|| ctx.origin.service_version.clone());
    e.user_id = a.first_of(&[codex::USER_ACCOUNT_ID, codex::USER_EMAIL]);
    e.model = a.string(codex::MODEL);
    e.tool_call_id = a.first_of(&[codex::CALL_ID, codex::ITEM_ID]);
    e.tool_name = a.string(codex::TOOL_NAME);
    e.turn_id = a.first_of(&[codex::TURN_ID_DOTTED, codex::TURN_ID]);
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
    let name = a.string(otel::EVENT_NAME)?;
    let short = name.strip_prefix(codex::EVENT_PREFIX).unwrap_or(&name);
    match short {
        codex::EVENT_CONVERSATION_STARTS => {
            let mut e = common(ctx, kind::SESSION_START);
            let servers = a.string(codex::MCP_SERVERS);
            e.mcp_server = servers.clone();
            e.text = Some(
                serde_json::json!({
                    "approval_policy": a.string(codex::APPROVAL_POLICY),
                    "sandbox_policy": a.string(codex::SANDBOX_POLICY),
                    "provider": a.string(codex::PROVIDER_NAME),
                    "mcp_servers": servers,
                })
                .to_string(),
            );
            Some(e)
        }
        codex::EVENT_USER_PROMPT => {
            let mut e = common(ctx, kind::PROMPT);
            let prompt = a.string(codex::PROMPT);
            if let Some(p) = &prompt
                && p.starts_with(REVIEWER_PROMPT_PREFIX)
            {
                e.agent = Some("codex-reviewer".into());
                e.parent_session_id = REVIEWED_SESSION.captures(p).map(|c| c[1].to_string());
            }
            e.text = prompt;
            Some(e)
        }
        codex::EVENT_API_REQUEST | codex::EVENT_WEBSOCKET_REQUEST => {
            let mut e = common(ctx, kind::MODEL_CALL);
            e.duration_ms = a.i64(codex::DURATION_MS);
            e.outcome = a
                .string(otel::HTTP_STATUS_CODE)
                .or_else(|| a.string(otel::ERROR_MESSAGE));
            Some(e)
        }
        codex::EVENT_SSE_EVENT | codex::EVENT_WEBSOCKET_EVENT => {
            // model traffic chatter; only the copy with token counts is worth a row
            let input = a.i64(codex::INPUT_TOKEN_COUNT)?;
            let mut e = common(ctx, kind::MODEL_RESPONSE);
            e.input_tokens = Some(input);
            e.output_tokens = a.i64(codex::OUTPUT_TOKEN_COUNT);
            Some(e)
        }
        codex::EVENT_TOOL_DECISION => {
            let mut e = common(ctx, kind::TOOL_DECISION);
            e.decision = a.str(codex::DECISION).and_then(|d| decision(&d));
            e.decision_source = a.str(codex::SOURCE).and_then(|s| decision_source(&s));
            e.mcp_server = a
                .string(codex::MCP_SERVER)
                .or_else(|| e.tool_name.as_deref().and_then(mcp_server_of));
            Some(e)
        }
        codex::EVENT_SANDBOX_OUTCOME => {
            let mut e = common(ctx, kind::SANDBOX);
            let outcome = a.string(codex::OUTCOME);
            if outcome.as_deref().and_then(decision) == Some("deny") {
                e.decision = Some("deny");
                e.decision_source = Some("sandbox");
            }
            e.outcome = outcome;
            e.duration_ms = a.i64(codex::INITIAL_DURATION_MS);
            Some(e)
        }
        codex::EVENT_TOOL_RESULT => Some(tool_result(ctx)),
        codex::EVENT_GUARDIAN_ASSESSMENT => {
            let mut e = common(ctx, kind::REVIEW);
            e.tool_call_id = a.first_of(&[codex::ITEM_ID, codex::CALL_ID]);
            e.decision = a
                .first_of(&[codex::OUTCOME, codex::STATUS])
                .as_deref()
                .and_then(decision);
            e.decision_source = Some("reviewer");
            e.outcome = a.string(codex::RISK_LEVEL);
            e.text = a.string(codex::RATIONALE);
            Some(e)
        }
        _ if a.has(codex::DECISION) && (a.has(codex::HOST) || a.has(codex::DOMAIN)) => {
            // network-proxy verdicts (the event name has changed between releases)
            let mut e = common(ctx, kind::NETWORK);
            e.network_host = a
                .first_of(&[codex::HOST, codex::DOMAIN])
                .map(|h| h.to_ascii_lowercase());
            e.network_decision = a.str(codex::DECISION).and_then(|d| decision(&d));
            e.decision = e.network_decision;
            e.decision_source = Some("proxy");
            e.text = a.string(codex::REASON);
            Some(e)
        }
        codex::EVENT_STARTUP_PHASE | codex::EVENT_TURN_TTFT => None,
        _ => Some(common(ctx, kind::OTHER)),
    }
}

fn tool_result(ctx: &LogCtx<'_>) -> AgentEvent {
    let a = ctx.attrs;
    let mut e = common(ctx, kind::TOOL_RESULT);
    let tool = e.tool_name.clone().unwrap_or_default();
    e.seq = a.i64(codex::TOOL_RESULT_SEQ);
    e.duration_ms = a.i64(codex::DURATION_MS);
    let args: Value = a.json(codex::ARGUMENTS).unwrap_or(Value::Null);
    e.apply_tool_facts(
        tool_facts(&tool, &args, None).or_summary(&tool, || a.str(codex::ARGUMENTS)),
    );
    e.mcp_server = a.string(codex::MCP_SERVER).or_else(|| mcp_server_of(&tool));
    if e.mcp_server.is_some() && e.kind == kind::TOOL_RESULT {
        e.kind = kind::MCP_CALL;
    }
    let output = a.string(codex::OUTPUT).unwrap_or_default();
    let success = a.bool(codex::SUCCESS);
    // the decider's own words first: a reviewer's rationale may quote anything,
    // "approval policy is Never" included
    let declined = (success == Some(false))
        .then(|| declined_by(&output))
        .flatten();
    if let Some(decider) = declined {
        e.decision = Some("deny");
        e.decision_source = Some(decider);
        e.outcome = Some("rejected".into());
    } else if success == Some(false) && policy_rejection(&output) {
        // refused by exec policy / approval policy: never spawned, no decision event
        e.decision = Some("deny");
        e.decision_source = Some("policy");
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
    if ctx.record.name != codex::SPAN_EXEC_COMMAND {
        return None;
    }
    let call_id = a.string(codex::CALL_ID)?;
    let mut e = ctx.event(kind::TOOL_CALL);
    e.session_id = Some(a.string(codex::CONVERSATION_ID)?);
    e.agent = Some(Vendor::Codex.as_str().into());
    e.agent_version = ctx.origin.service_version.clone();
    e.tool_call_id = Some(call_id);
    e.tool_name = a
        .string(codex::TOOL_NAME)
        .or_else(|| Some(ctx.record.name.clone()));
    e.turn_id = a.first_of(&[codex::TURN_ID_DOTTED, codex::TURN_ID]);
    Some(e)
}
