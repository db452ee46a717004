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
//!   the questions a responder asks first; the seed questions' own views:
//!   `files_read_before_change`, `silent_commands`, `denied_attempts`,
//!   `plan_evolution`.
//! - `findings`: each session's latest detection pass (see `detect`);
//!   `session_summaries` (a table kept in memory, see `summaries`): the
//!   session row that pass recorded.

use datafusion::prelude::SessionContext;
use schemas::columns::Columns as _;
use schemas::events::AgentEventColumns;

use crate::error::Error;

/// The union of stored and hot `agent_events` rows, duplicates included.
pub const AGENT_EVENTS_RAW: &str = "agent_events_raw";
/// Every pass the detector wrote (the `findings` view keeps the latest).
pub const FINDINGS_RAW: &str = "findings_raw";

fn event_columns() -> String {
    AgentEventColumns::schema()
        .fields()
        .iter()
        .map(|f| format!("\"{}\"", f.name()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Resend duplicates share `session_id` and `event_id`; the copy with the lowest
/// `wal_seq` (the first stored) is kept. Written as "the row whose predecessor in
/// `(event_id, wal_seq)` order has another id" rather than `row_number() OVER
/// (PARTITION BY session_id, event_id …) = 1`: the same rows, but a window
/// partition per session instead of one per event, which DataFusion runs about
/// 3.5× faster over a million events.
fn agent_events_sql() -> String {
    let cols = event_columns();
    let without_turn = cols.replace("\"turn_id\", ", "");
    format!(
        "CREATE VIEW agent_events AS
         WITH dedup AS (
           SELECT {cols},
             lag(event_id) OVER (PARTITION BY session_id ORDER BY event_id, wal_seq) AS __previous
           FROM {AGENT_EVENTS_RAW}
         ), ordered AS (
           SELECT {cols},
             CAST(sum(CASE WHEN kind = 'prompt' THEN 1 ELSE 0 END) OVER (
               PARTITION BY session_id ORDER BY ts, seq NULLS LAST, event_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS turn_index,
             row_number() OVER (PARTITION BY session_id ORDER BY ts, seq NULLS LAST, event_id) AS position
           FROM dedup WHERE (__previous IS DISTINCT FROM event_id)
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
  array_agg(event_id ORDER BY position) AS event_ids,
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

/// Seed question 1: for every file an action changed (or tried to), the files
/// the session had read (and actually ran reading) before it.
///
/// `writes` takes each written path from `agent_events` and joins it to its
/// action, rather than unnesting `agent_actions.paths_written`: DataFusion 55
/// keeps "`(session_id, tool_call_id)` is a key" through `unnest`, where one
/// action becomes a row per path, and then drops `path_written` from the
/// `GROUP BY` below as determined by that key, so `count(*)` counted actions,
/// not writes (apache/datafusion PR 24787). The paths are the same set:
/// `agent_actions.paths_written` is the distinct union of its events' paths.
const FILES_READ_BEFORE_CHANGE: &str = "CREATE VIEW files_read_before_change AS
WITH paths AS (
  SELECT DISTINCT session_id, tool_call_id, path_written FROM (
    SELECT session_id, tool_call_id, unnest(paths_written) AS path_written
    FROM agent_events WHERE tool_call_id IS NOT NULL AND paths_written IS NOT NULL
  )
), writes AS (
  SELECT a.session_id, a.tool_call_id, a.ts, a.position, a.turn_index, a.tool_name, a.command,
    a.decision, a.ran, p.path_written
  FROM agent_actions a JOIN paths p ON p.session_id = a.session_id AND p.tool_call_id = a.tool_call_id
), reads AS (
  SELECT session_id, position, unnest(paths_read) AS path_read
  FROM agent_actions WHERE paths_read IS NOT NULL AND ran
)
SELECT w.session_id, w.tool_call_id, w.ts, w.position, w.turn_index, w.tool_name, w.command,
  w.decision, w.ran, w.path_written,
  array_sort(array_agg(DISTINCT r.path_read) FILTER (WHERE r.path_read IS NOT NULL)) AS read_before,
  count(DISTINCT r.path_read) AS files_read_before
FROM writes w LEFT JOIN reads r ON r.session_id = w.session_id AND r.position < w.position
GROUP BY w.session_id, w.tool_call_id, w.ts, w.position, w.turn_index, w.tool_name, w.command,
  w.decision, w.ran, w.path_written";

/// The first name of `files_read_before_change`, kept for existing queries.
const READS_BEFORE_WRITES: &str = "CREATE VIEW reads_before_writes AS
SELECT session_id, tool_call_id, position, command, decision, path_written, read_before
FROM files_read_before_change";

/// Seed question 3: every refused action, with the later attempts at the same
/// intent (`is_variant`: the same program and most words in common; for tools
/// without a command, the same tool on the same paths) and whether one ran.
const DENIED_ATTEMPTS: &str = "CREATE VIEW denied_attempts AS
WITH denied AS (
  SELECT session_id, tool_call_id, ts, position, turn_index, agent, tool_name, command,
    paths_read, paths_written, network_host, decision, decision_source
  FROM agent_actions WHERE decision IN ('deny', 'abort')
), attempts AS (
  SELECT session_id, tool_call_id, position, tool_name, command, paths_read, paths_written, decision, ran
  FROM agent_actions
)
SELECT d.session_id, d.tool_call_id, d.ts, d.position, d.turn_index, d.agent, d.tool_name,
  d.command, d.paths_written, d.network_host, d.decision, d.decision_source,
  array_agg(a.tool_call_id ORDER BY a.position) FILTER (WHERE a.tool_call_id IS NOT NULL) AS retries,
  count(a.tool_call_id) AS retry_count,
  COALESCE(bool_or(a.ran), false) AS retry_ran
FROM denied d LEFT JOIN attempts a ON a.session_id = d.session_id AND a.position > d.position
  AND (is_variant(d.command, a.command)
       OR (d.command IS NULL AND a.command IS NULL AND a.tool_name = d.tool_name
           AND (a.paths_written IS NOT DISTINCT FROM d.paths_written)
           AND (a.paths_read IS NOT DISTINCT FROM d.paths_read)))
GROUP BY d.session_id, d.tool_call_id, d.ts, d.position, d.turn_index, d.agent, d.tool_name,
  d.command, d.paths_written, d.network_host, d.decision, d.decision_source";

/// Seed question 4: each plan revision, numbered per session, with what changed
/// since the one before (the first revision adds every step).
const PLAN_EVOLUTION: &str = "CREATE VIEW plan_evolution AS
WITH calls AS (
  -- one revision per plan call, whichever of its records carried the plan first
  SELECT session_id, turn_index, turn_id, ts, position, agent, tool_call_id, plan, text,
    row_number() OVER (PARTITION BY session_id, COALESCE(tool_call_id, event_id) ORDER BY position) AS __n
  FROM agent_events WHERE kind = 'plan_update' AND plan IS NOT NULL
), p AS (
  SELECT session_id, turn_index, turn_id, ts, position, agent, tool_call_id, plan, text AS explanation,
    lag(plan) OVER (PARTITION BY session_id ORDER BY position) AS previous_plan,
    row_number() OVER (PARTITION BY session_id ORDER BY position) AS revision
  FROM calls WHERE __n = 1
)
SELECT session_id, revision, turn_index, turn_id, ts, position, agent, tool_call_id, plan, explanation,
  plan_added(previous_plan, plan) AS steps_added,
  plan_removed(previous_plan, plan) AS steps_removed,
  plan_status_changed(previous_plan, plan) AS steps_status_changed
FROM p";

/// Each session's latest detection pass, its findings only. A pass is one WAL
/// append, so its rows share a `wal_seq`, and a later pass supersedes it whole.
fn findings_sql() -> String {
    let rank = schemas::findings::Severity::ALL
        .iter()
        .map(|s| format!("WHEN '{}' THEN {}", s.as_str(), s.rank()))
        .collect::<Vec<_>>()
        .join(" ");
    format!(
        "CREATE VIEW findings AS
         WITH passes AS (
           SELECT *, max(wal_seq) OVER (PARTITION BY session_id) AS __latest FROM {FINDINGS_RAW}
         )
         SELECT finding_id, session_id, ts, rule_id, severity,
           CAST(CASE severity {rank} END AS INT) AS severity_rank,
           title, description, event_ids, tool_call_ids, details
         FROM passes WHERE wal_seq = __latest AND finding_id IS NOT NULL"
    )
}

/// Every view's `CREATE VIEW` statement, each after the views it reads.
pub(crate) fn definitions() -> Vec<String> {
    let mut all = vec![agent_events_sql(), findings_sql()];
    all.extend(
        [
            AGENT_ACTIONS,
            SESSIONS,
            DENIED_ACTIONS,
            SILENT_COMMANDS,
            PLAN_UPDATES,
            FILES_READ_BEFORE_CHANGE,
            READS_BEFORE_WRITES,
            DENIED_ATTEMPTS,
            PLAN_EVOLUTION,
        ]
        .map(String::from),
    );
    all
}

pub async fn register(ctx: &SessionContext) -> Result<(), Error> {
    for sql in definitions() {
        ctx.sql(&sql).await?;
    }
    Ok(())
}
