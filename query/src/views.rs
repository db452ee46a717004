//! Derived views over `agent_events`, registered once in the engine's context.
//!
//! - `agent_events`: the stored rows without resend duplicates (one row per
//!   `event_id`), with `turn_index` (prompts so far in the session), `position`
//!   (order in the session: time, then vendor sequence) and `turn_id` filled in
//!   for vendors that send none (the vendor's id seen in that turn, else
//!   `<session>#<turn_index>`).
//! - `agent_actions`: one row per tool call, merging its decision, call span,
//!   sandbox verdict, review and result (they arrive as separate records, in any
//!   order, often in different requests).
//! - `sessions`: one row per session; reviewer sub-agents are `is_auxiliary`.
//! - `denied_actions`, `silent_commands`, `plan_updates`, `reads_before_writes`:
//!   the questions a responder asks first.

use datafusion::prelude::SessionContext;
use schemas::columns::Columns as _;
use schemas::events::AgentEventColumns;

use crate::error::Error;

/// The union of stored and hot `agent_events` rows, duplicates included.
pub const AGENT_EVENTS_RAW: &str = "agent_events_raw";

fn event_columns() -> String {
    AgentEventColumns::schema()
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn agent_events_sql() -> String {
    let cols = event_columns();
    let without_turn = cols.replace("\"turn_id\", ", "");
    format!(
        "CREATE VIEW agent_events AS
         WITH dedup AS (
           SELECT {cols}, row_number() OVER (PARTITION BY session_id, event_id ORDER BY wal_seq) AS __copy
           FROM {AGENT_EVENTS_RAW}
         ), ordered AS (
           SELECT {cols},
             CAST(sum(CASE WHEN kind = 'prompt' THEN 1 ELSE 0 END) OVER (
               PARTITION BY session_id ORDER BY ts, seq NULLS LAST, event_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS turn_index,
             row_number() OVER (PARTITION BY session_id ORDER BY ts, seq NULLS LAST, event_id) AS position
           FROM dedup WHERE __copy = 1
         )
         SELECT {without_turn},
           COALESCE(turn_id, max(turn_id) OVER (PARTITION BY session_id, turn_index),
                    session_id || '#' || CAST(turn_index AS VARCHAR)) AS turn_id,
           turn_index, position
         FROM ordered"
    )
}

// Every window and group partitions by `session_id` first, so a filter on it
// (one session's chain) is pushed through the views to the scans.
const AGENT_ACTIONS: &str = "CREATE VIEW agent_actions AS
WITH ev AS (
  SELECT *,
    CASE decision WHEN 'deny' THEN 4 WHEN 'abort' THEN 3 WHEN 'ask' THEN 2 WHEN 'allow' THEN 1 ELSE 0 END AS __rank
  FROM agent_events WHERE tool_call_id IS NOT NULL
), ranked AS (
  SELECT *, max(__rank) OVER (PARTITION BY session_id, tool_call_id) AS __top FROM ev
)
SELECT
  session_id,
  tool_call_id,
  min(ts) AS ts,
  min(position) AS position,
  max(turn_index) AS turn_index,
  max(turn_id) AS turn_id,
  max(agent) AS agent,
  max(tool_name) AS tool_name,
  first_value(command ORDER BY CASE source WHEN 'otlp_logs' THEN 0 ELSE 1 END, ts)
    FILTER (WHERE command IS NOT NULL) AS command,
  array_distinct(flatten(array_agg(paths_read) FILTER (WHERE paths_read IS NOT NULL))) AS paths_read,
  array_distinct(flatten(array_agg(paths_written) FILTER (WHERE paths_written IS NOT NULL))) AS paths_written,
  CASE max(__top) WHEN 4 THEN 'deny' WHEN 3 THEN 'abort' WHEN 2 THEN 'ask' WHEN 1 THEN 'allow' END AS decision,
  first_value(decision_source ORDER BY ts, position)
    FILTER (WHERE __rank = __top AND __top > 0 AND decision_source IS NOT NULL) AS decision_source,
  COALESCE(bool_or(outcome IN ('success', 'failure')), false) AS ran,
  CASE
    WHEN max(__top) >= 3 THEN 'denied'
    WHEN bool_or(outcome = 'failure') THEN 'failure'
    WHEN bool_or(outcome = 'success') THEN 'success'
    WHEN bool_or(outcome = 'rejected') THEN 'rejected'
  END AS outcome,
  max(exit_code) AS exit_code,
  COALESCE(max(output_bytes) FILTER (WHERE source = 'otlp_spans'), max(output_bytes)) AS output_bytes,
  max(network_host) AS network_host,
  max(network_decision) AS network_decision,
  max(mcp_server) AS mcp_server,
  max(plan) AS plan,
  array_sort(array_agg(DISTINCT kind)) AS kinds,
  count(*) AS records
FROM ranked
GROUP BY session_id, tool_call_id";

const SESSIONS: &str = "CREATE VIEW sessions AS
SELECT
  session_id,
  max(agent) AS agent,
  max(agent_version) AS agent_version,
  max(user_id) AS user_id,
  max(host) AS host,
  max(service_name) AS service_name,
  min(ts) AS started,
  max(ts) AS last_seen,
  count(*) AS events,
  CAST(sum(CASE WHEN kind = 'prompt' THEN 1 ELSE 0 END) AS BIGINT) AS prompts,
  CAST(count(DISTINCT tool_call_id) AS BIGINT) AS tool_calls,
  CAST(count(DISTINCT CASE WHEN decision IN ('deny', 'abort') THEN COALESCE(tool_call_id, event_id) END) AS BIGINT) AS denials,
  max(parent_session_id) AS reviews_session,
  max(parent_session_id) IS NOT NULL AS is_auxiliary
FROM agent_events WHERE session_id IS NOT NULL
GROUP BY session_id";

const DENIED_ACTIONS: &str = "CREATE VIEW denied_actions AS
SELECT * FROM agent_actions WHERE decision IN ('deny', 'abort')";

const SILENT_COMMANDS: &str = "CREATE VIEW silent_commands AS
SELECT * FROM agent_actions WHERE ran AND output_bytes = 0";

const PLAN_UPDATES: &str = "CREATE VIEW plan_updates AS
SELECT session_id, turn_index, turn_id, ts, position, agent, tool_call_id, plan, text AS explanation
FROM agent_events WHERE kind = 'plan_update'";

/// For every file an action wrote (or tried to), the files the session had read before it.
const READS_BEFORE_WRITES: &str = "CREATE VIEW reads_before_writes AS
WITH writes AS (
  SELECT session_id, tool_call_id, position, command, decision, unnest(paths_written) AS path_written
  FROM agent_actions WHERE paths_written IS NOT NULL
), reads AS (
  SELECT session_id, position, unnest(paths_read) AS path_read
  FROM agent_actions WHERE paths_read IS NOT NULL AND ran
)
SELECT w.session_id, w.tool_call_id, w.position, w.command, w.decision, w.path_written,
  array_sort(array_agg(DISTINCT r.path_read) FILTER (WHERE r.path_read IS NOT NULL)) AS read_before
FROM writes w LEFT JOIN reads r ON r.session_id = w.session_id AND r.position < w.position
GROUP BY w.session_id, w.tool_call_id, w.position, w.command, w.decision, w.path_written";

pub async fn register(ctx: &SessionContext) -> Result<(), Error> {
    ctx.sql(&agent_events_sql()).await?;
    for sql in [
        AGENT_ACTIONS,
        SESSIONS,
        DENIED_ACTIONS,
        SILENT_COMMANDS,
        PLAN_UPDATES,
        READS_BEFORE_WRITES,
    ] {
        ctx.sql(sql).await?;
    }
    Ok(())
}
