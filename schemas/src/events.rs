//! The `agent_events` table: one row per meaningful agent action, whatever the vendor.
//!
//! Column meanings are documented in docs/tables.md. Rows are produced by
//! [`crate::normalize`] from one raw record each; facts that arrive on different
//! records (a Claude Code `Read` path on a span, its decision on a log) are joined
//! at query time through `tool_call_id` (see the `agent_actions` view).

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use crate::tables::{COL_DATE, COL_HOUR, COL_TS, COL_WAL_SEQ, ts_type};

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

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}
fn i64f(name: &str) -> Field {
    Field::new(name, DataType::Int64, true)
}
fn list_utf8(name: &str) -> Field {
    Field::new(
        name,
        DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))),
        true,
    )
}

pub static AGENT_EVENTS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new(COL_WAL_SEQ, DataType::UInt64, false),
        Field::new(COL_TS, ts_type(), false),
        Field::new("event_id", DataType::Utf8, false),
        utf8("session_id"),
        utf8("parent_session_id"),
        utf8("turn_id"),
        i64f("seq"),
        utf8("agent"),
        utf8("agent_version"),
        utf8("user_id"),
        utf8("host"),
        utf8("service_name"),
        Field::new("kind", DataType::Utf8, false),
        utf8("event_name"),
        utf8("tool_name"),
        utf8("tool_call_id"),
        utf8("command"),
        list_utf8("paths_read"),
        list_utf8("paths_written"),
        utf8("decision"),
        utf8("decision_source"),
        utf8("outcome"),
        Field::new("exit_code", DataType::Int32, true),
        i64f("output_bytes"),
        utf8("network_host"),
        utf8("network_decision"),
        utf8("mcp_server"),
        utf8("model"),
        i64f("input_tokens"),
        i64f("output_tokens"),
        i64f("duration_ms"),
        utf8("text"),
        utf8("plan"),
        utf8("trace_id"),
        utf8("span_id"),
        utf8("parent_span_id"),
        utf8("source"),
        Field::new(COL_DATE, DataType::Utf8, false),
        Field::new(COL_HOUR, DataType::Utf8, false),
    ]))
});
