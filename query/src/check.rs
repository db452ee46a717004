//! Retroactive policy checks: what a permission policy would have said about
//! every recorded tool call (`vigil check`, `POST /api/check`).
//!
//! Each `agent_actions` row in range is judged by a [`PolicySet`]
//! ([`schemas::policy`]: Claude Code `settings.json`, Codex `.rules`); those the
//! policy would deny or ask about are reported with the rule, file and line
//! that decided, beside what actually happened — including calls that ran,
//! which is the point: "what would have been stopped".

use schemas::policy::{Action, Decision, PolicySet};
use serde::Serialize;

use crate::detect::items::{bools, lists, strings};
use crate::{Error, QueryEngine};

/// Which actions to check.
#[derive(Debug, Clone, Default)]
pub struct CheckScope {
    pub session_id: Option<String>,
    /// Only actions at or after this time (ns since the epoch).
    pub since_ns: Option<i64>,
}

/// One action the policy would not have simply allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub session_id: String,
    pub tool_call_id: String,
    /// RFC 3339.
    pub ts: String,
    pub agent: Option<String>,
    pub tool_name: Option<String>,
    pub command: Option<String>,
    /// What the policy says: `deny` or `ask`.
    pub policy_decision: &'static str,
    /// The rule as written, `None` for the policy's default.
    pub rule: Option<String>,
    pub file: String,
    pub line: usize,
    pub justification: Option<String>,
    /// What actually happened.
    pub decision: Option<String>,
    pub decision_source: Option<String>,
    pub ran: bool,
}

/// Every action in `scope` that `policies` would deny or ask about, in session
/// and time order.
pub async fn check(
    engine: &QueryEngine,
    policies: &PolicySet,
    scope: &CheckScope,
) -> Result<Vec<Violation>, Error> {
    let mut filters = vec!["tool_call_id IS NOT NULL".to_string()];
    if let Some(s) = &scope.session_id {
        filters.push(format!("session_id = '{}'", s.replace('\'', "''")));
    }
    if let Some(ns) = scope.since_ns {
        filters.push(format!("CAST(ts AS BIGINT) >= {ns}"));
    }
    let sql = format!(
        "SELECT session_id, tool_call_id, to_char(ts, '%Y-%m-%dT%H:%M:%S%.9fZ') AS ts, agent, tool_name, \
           command, paths_read, paths_written, network_host, mcp_server, decision, decision_source, ran \
         FROM agent_actions WHERE {} ORDER BY session_id, position",
        filters.join(" AND ")
    );
    let result = engine.sql(&sql).await?;
    let mut out = Vec::new();
    for b in &result.batches {
        let session = strings(b, "session_id")?;
        let call = strings(b, "tool_call_id")?;
        let ts = strings(b, "ts")?;
        let agent = strings(b, "agent")?;
        let tool = strings(b, "tool_name")?;
        let command = strings(b, "command")?;
        let read = lists(b, "paths_read")?;
        let written = lists(b, "paths_written")?;
        let host = strings(b, "network_host")?;
        let mcp = strings(b, "mcp_server")?;
        let decision = strings(b, "decision")?;
        let source = strings(b, "decision_source")?;
        let ran = bools(b, "ran")?;
        for i in 0..b.num_rows() {
            let action = Action {
                tool_name: tool[i].as_deref().unwrap_or(""),
                command: command[i].as_deref(),
                paths_read: &read[i],
                paths_written: &written[i],
                network_host: host[i].as_deref(),
                mcp_server: mcp[i].as_deref(),
            };
            let Some(v) = policies.evaluate(&action) else {
                continue;
            };
            if v.decision == Decision::Allow {
                continue;
            }
            out.push(Violation {
                session_id: session[i].clone().unwrap_or_default(),
                tool_call_id: call[i].clone().unwrap_or_default(),
                ts: ts[i].clone().unwrap_or_default(),
                agent: agent[i].clone(),
                tool_name: tool[i].clone(),
                command: command[i].clone(),
                policy_decision: v.decision.as_str(),
                rule: v.rule,
                file: v.file,
                line: v.line,
                justification: v.justification,
                decision: decision[i].clone(),
                decision_source: source[i].clone(),
                ran: ran[i].unwrap_or(false),
            });
        }
    }
    Ok(out)
}
