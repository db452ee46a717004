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

crate::row_table! {
    /// One `agent_events` row, as the normalizer makes it and the table stores it
    /// (the query layer adds derived columns in a view). `wal_seq` is 0 until the
    /// WAL writer stamps it; `date` and `hour` come from `ts`.
    #[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
    pub struct AgentEvent in AgentEventColumns {
        wal_seq: Required<UInt64> = 0u64;
        ts: i64 => Required<Timestamp>,
        event_id: String => Required<Utf8>,
        session_id: Option<String> => Utf8,
        parent_session_id: Option<String> => Utf8,
        turn_id: Option<String> => Utf8,
        seq: Option<i64> => Int64,
        agent: Option<String> => Utf8,
        agent_version: Option<String> => Utf8,
        user_id: Option<String> => Utf8,
        host: Option<String> => Utf8,
        service_name: Option<String> => Utf8,
        kind: &'static str => Required<Utf8>,
        event_name: Option<String> => Utf8,
        tool_name: Option<String> => Utf8,
        tool_call_id: Option<String> => Utf8,
        command: Option<String> => Utf8,
        paths_read: Vec<String> => List<Utf8>,
        paths_written: Vec<String> => List<Utf8>,
        decision: Option<&'static str> => Utf8,
        decision_source: Option<&'static str> => Utf8,
        outcome: Option<String> => Utf8,
        exit_code: Option<i32> => Int32,
        output_bytes: Option<i64> => Int64,
        network_host: Option<String> => Utf8,
        network_decision: Option<&'static str> => Utf8,
        mcp_server: Option<String> => Utf8,
        model: Option<String> => Utf8,
        input_tokens: Option<i64> => Int64,
        output_tokens: Option<i64> => Int64,
        duration_ms: Option<i64> => Int64,
        text: Option<String> => Utf8,
        plan: Option<String> => Utf8,
        trace_id: Option<String> => Utf8,
        span_id: Option<String> => Utf8,
        parent_span_id: Option<String> => Utf8,
        source: &'static str => Required<Utf8>,
    }
    then partition: PartitionColumns = ts
}
