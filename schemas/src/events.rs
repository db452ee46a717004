//! The `agent_events` table: one row per meaningful agent action, whatever the vendor.
//!
//! Column meanings are documented in docs/tables.md. Rows are produced by
//! [`crate::normalize`] from one raw record each; facts that arrive on different
//! records (a Claude Code `Read` path on a span, its decision on a log) are joined
//! at query time through `tool_call_id` (see the `agent_actions` view).

use crate::columns::{Int32, Int64, List, Required, Timestamp, UInt64, Utf8};
use crate::tables::PartitionColumns;

/// `kind` values.
pub mod kind {
    pub const SESSION_START: &str = "session_start";
    pub const PROMPT: &str = "prompt";
    pub const MODEL_CALL: &str = "model_call";
    pub const MODEL_RESPONSE: &str = "model_response";
    pub const PLAN_UPDATE: &str = "plan_update";
    pub const TOOL_DECISION: &str = "tool_decision";
    pub const TOOL_CALL: &str = "tool_call";
    pub const TOOL_RESULT: &str = "tool_result";
    pub const MCP_CALL: &str = "mcp_call";
    pub const NETWORK: &str = "network";
    pub const SANDBOX: &str = "sandbox";
    pub const REVIEW: &str = "review";
    pub const ERROR: &str = "error";
    pub const OTHER: &str = "other";
}

crate::columns! {
    /// `agent_events`, as stored (the query layer adds derived columns in a view).
    pub struct AgentEventColumns {
        wal_seq: Required<UInt64>,
        ts: Required<Timestamp>,
        event_id: Required<Utf8>,
        session_id: Utf8,
        parent_session_id: Utf8,
        turn_id: Utf8,
        seq: Int64,
        agent: Utf8,
        agent_version: Utf8,
        user_id: Utf8,
        host: Utf8,
        service_name: Utf8,
        kind: Required<Utf8>,
        event_name: Utf8,
        tool_name: Utf8,
        tool_call_id: Utf8,
        command: Utf8,
        paths_read: List<Utf8>,
        paths_written: List<Utf8>,
        decision: Utf8,
        decision_source: Utf8,
        outcome: Utf8,
        exit_code: Int32,
        output_bytes: Int64,
        network_host: Utf8,
        network_decision: Utf8,
        mcp_server: Utf8,
        model: Utf8,
        input_tokens: Int64,
        output_tokens: Int64,
        duration_ms: Int64,
        text: Utf8,
        plan: Utf8,
        trace_id: Utf8,
        span_id: Utf8,
        parent_span_id: Utf8,
        source: Required<Utf8>,
    }
    then partition: PartitionColumns
}
