"""DuckDB over Vigil's Parquet files: the same views (in DuckDB's SQL) and the
same queries as `vigil bench query`, timed in this process.

Usage: python3 bench/duckdb_bench.py DATA_DIR SESSIONS_FILE QUERIES_JSON
Prints one JSON object: {"session": {name: [ms, ...]}, "store": {name: best_ms},
"rows": {name: rows}} so the caller can also compare answers.
"""
import json
import sys
import time

import duckdb

DATA, SESSIONS, QUERIES = sys.argv[1], sys.argv[2], sys.argv[3]

VIEWS = """
CREATE VIEW agent_events_raw AS
  SELECT * FROM read_parquet('{data}/tables/agent_events/*/*/*.parquet', hive_partitioning = true, union_by_name = true);

CREATE VIEW agent_events AS
WITH dedup AS (
  SELECT *, row_number() OVER (PARTITION BY session_id, event_id ORDER BY wal_seq) AS __copy
  FROM agent_events_raw
), ordered AS (
  SELECT * EXCLUDE (__copy),
    CAST(sum(CASE WHEN kind = 'prompt' THEN 1 ELSE 0 END) OVER (
      PARTITION BY session_id ORDER BY ts, seq NULLS LAST, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS BIGINT) AS turn_index,
    row_number() OVER (PARTITION BY session_id ORDER BY ts, seq NULLS LAST, event_id) AS position
  FROM dedup WHERE __copy = 1
)
SELECT * EXCLUDE (turn_id, turn_index, position),
  COALESCE(turn_id, max(turn_id) OVER (PARTITION BY session_id, turn_index),
           session_id || '#' || CAST(turn_index AS VARCHAR)) AS turn_id,
  turn_index, position
FROM ordered;

CREATE VIEW agent_actions AS
WITH ev AS (
  SELECT *,
    CASE decision WHEN 'deny' THEN 4 WHEN 'abort' THEN 3 WHEN 'ask' THEN 2 WHEN 'allow' THEN 1 ELSE 0 END AS __rank
  FROM agent_events WHERE tool_call_id IS NOT NULL
), ranked AS (
  SELECT *, max(__rank) OVER (PARTITION BY session_id, tool_call_id) AS __top FROM ev
)
SELECT
  session_id, tool_call_id,
  min(ts) AS ts, min(position) AS position, max(turn_index) AS turn_index, max(turn_id) AS turn_id,
  max(agent) AS agent, max(tool_name) AS tool_name,
  first(command ORDER BY CASE source WHEN 'otlp_logs' THEN 0 ELSE 1 END, ts) FILTER (WHERE command IS NOT NULL) AS command,
  list_distinct(flatten(list(paths_read) FILTER (WHERE paths_read IS NOT NULL))) AS paths_read,
  list_distinct(flatten(list(paths_written) FILTER (WHERE paths_written IS NOT NULL))) AS paths_written,
  CASE max(__top) WHEN 4 THEN 'deny' WHEN 3 THEN 'abort' WHEN 2 THEN 'ask' WHEN 1 THEN 'allow' END AS decision,
  first(decision_source ORDER BY ts, position)
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
  max(network_host) AS network_host, max(network_decision) AS network_decision,
  max(mcp_server) AS mcp_server, max(plan) AS plan,
  list_sort(list(DISTINCT kind)) AS kinds, count(*) AS records
FROM ranked
GROUP BY session_id, tool_call_id;

CREATE VIEW sessions AS
SELECT session_id, max(agent) AS agent, max(agent_version) AS agent_version, max(user_id) AS user_id,
  max(host) AS host, max(service_name) AS service_name, min(ts) AS started, max(ts) AS last_seen,
  count(*) AS events,
  CAST(sum(CASE WHEN kind = 'prompt' THEN 1 ELSE 0 END) AS BIGINT) AS prompts,
  CAST(count(DISTINCT tool_call_id) AS BIGINT) AS tool_calls,
  CAST(count(DISTINCT CASE WHEN decision IN ('deny', 'abort') THEN COALESCE(tool_call_id, event_id) END) AS BIGINT) AS denials,
  max(parent_session_id) AS reviews_session,
  max(parent_session_id) IS NOT NULL AS is_auxiliary
FROM agent_events WHERE session_id IS NOT NULL
GROUP BY session_id;

CREATE VIEW denied_actions AS SELECT * FROM agent_actions WHERE decision IN ('deny', 'abort');
CREATE VIEW silent_commands AS SELECT * FROM agent_actions WHERE ran AND output_bytes = 0;
CREATE VIEW plan_updates AS
SELECT session_id, turn_index, turn_id, ts, position, agent, tool_call_id, plan, text AS explanation
FROM agent_events WHERE kind = 'plan_update';

CREATE VIEW reads_before_writes AS
WITH writes AS (
  SELECT session_id, tool_call_id, position, command, decision, unnest(paths_written) AS path_written
  FROM agent_actions WHERE paths_written IS NOT NULL
), reads AS (
  SELECT session_id, position, unnest(paths_read) AS path_read
  FROM agent_actions WHERE paths_read IS NOT NULL AND ran
)
SELECT w.session_id, w.tool_call_id, w.position, w.command, w.decision, w.path_written,
  list_sort(list(DISTINCT r.path_read) FILTER (WHERE r.path_read IS NOT NULL)) AS read_before
FROM writes w LEFT JOIN reads r ON r.session_id = w.session_id AND r.position < w.position
GROUP BY w.session_id, w.tool_call_id, w.position, w.command, w.decision, w.path_written;

CREATE VIEW files_read_before_change AS
WITH writes AS (
  SELECT session_id, tool_call_id, ts, position, turn_index, tool_name, command, decision, ran,
    unnest(paths_written) AS path_written
  FROM agent_actions WHERE paths_written IS NOT NULL
), reads AS (
  SELECT session_id, position, unnest(paths_read) AS path_read
  FROM agent_actions WHERE paths_read IS NOT NULL AND ran
)
SELECT w.session_id, w.tool_call_id, w.ts, w.position, w.turn_index, w.tool_name, w.command,
  w.decision, w.ran, w.path_written,
  list_sort(list(DISTINCT r.path_read) FILTER (WHERE r.path_read IS NOT NULL)) AS read_before,
  count(DISTINCT r.path_read) AS files_read_before
FROM writes w LEFT JOIN reads r ON r.session_id = w.session_id AND r.position < w.position
GROUP BY w.session_id, w.tool_call_id, w.ts, w.position, w.turn_index, w.tool_name, w.command,
  w.decision, w.ran, w.path_written;
"""
# Views built on Vigil's own SQL functions (is_variant, plan_added, ...) or on
# tables DuckDB is not given (findings) are not defined here; their queries are
# reported as null and shown as "—".


def timed(con, sql):
    start = time.perf_counter()
    rows = con.execute(sql).fetchall()
    return (time.perf_counter() - start) * 1e3, len(rows)


def defined(con, sql):
    """Whether DuckDB can plan `sql` (False for the views it is not given)."""
    try:
        con.execute("EXPLAIN " + sql)
        return True
    except duckdb.CatalogException:
        return False


def main():
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    for stmt in VIEWS.format(data=DATA).split(";"):
        if stmt.strip():
            con.execute(stmt)
    sessions = [s for s in open(SESSIONS).read().split("\n") if s]
    queries = json.load(open(QUERIES))
    out = {"session": {}, "store": {}, "rows": {}}
    timed(con, queries["session"][0][1].replace("{s}", sessions[0]))
    for name, sql in queries["session"]:
        if not defined(con, sql.replace("{s}", sessions[0])):
            continue
        out["session"][name] = [timed(con, sql.replace("{s}", s))[0] for s in sessions]
    for name, sql in queries["store"]:
        if not defined(con, sql):
            continue
        best, rows = min(timed(con, sql) for _ in range(3))
        out["store"][name] = best
        out["rows"][name] = con.execute(sql).fetchall()[0][0] if sql.lower().startswith("select count") else rows
    print(json.dumps(out))


main()
