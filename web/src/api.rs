//! The JSON API over the views: sessions and their intent chains, findings,
//! rules and retroactive policy checks. Every answer is built from SQL over the
//! same views a user can query (`sessions`, `agent_events`, `agent_actions`,
//! `plan_evolution`, `findings`), so what the API shows and what SQL shows
//! cannot disagree, and making the views fast makes the API fast.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use query::QueryEngine;
use query::views::AGENT_EVENTS_RAW;
use schemas::findings::Severity;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{ApiError, AppState};

type Object = Map<String, Value>;

/// A SQL string literal.
pub(crate) fn lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A `LIKE` pattern matching `s` anywhere, `%` and `_` in it taken literally.
fn contains_pattern(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    lit(&format!("%{escaped}%"))
}

/// The rows of a statement as JSON objects.
pub(crate) async fn objects(engine: &QueryEngine, sql: &str) -> Result<Vec<Object>, ApiError> {
    let result = engine.sql(sql).await?;
    let v = query::format::api_json(&result)?;
    let columns: Vec<String> = v["columns"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c.as_str().map(str::to_string))
        .collect();
    Ok(v["rows"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .map(|row| columns.iter().cloned().zip(row.iter().cloned()).collect())
        .collect())
}

pub(crate) fn time_ns(what: &str, s: &str) -> Result<i64, ApiError> {
    let now = schemas::Clock::now_ns(&schemas::SystemClock);
    schemas::time::parse_instant(s, now).map_err(|e| ApiError::BadRequest(format!("{what}: {e}")))
}

fn severity(s: &str) -> Result<Severity, ApiError> {
    Severity::parse(s).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "severity {s:?}: use one of info, low, medium, high, critical"
        ))
    })
}

const MAX_LIMIT: usize = 1000;

fn paging(limit: Option<usize>, offset: Option<usize>) -> Result<(usize, usize), ApiError> {
    let limit = limit.unwrap_or(50);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}"
        )));
    }
    Ok((limit, offset.unwrap_or(0)))
}

/// Per-session finding counts, joined to `sessions`.
const FINDING_COUNTS: &str =
    "SELECT session_id, count(*) AS findings, max(severity_rank) AS max_severity_rank,
  sum(CASE WHEN severity = 'critical' THEN 1 ELSE 0 END) AS critical,
  sum(CASE WHEN severity = 'high' THEN 1 ELSE 0 END) AS high,
  sum(CASE WHEN severity = 'medium' THEN 1 ELSE 0 END) AS medium,
  sum(CASE WHEN severity = 'low' THEN 1 ELSE 0 END) AS low,
  sum(CASE WHEN severity = 'info' THEN 1 ELSE 0 END) AS info
FROM findings GROUP BY session_id";

const SESSION_COLUMNS: &str = "s.session_id, s.agent, s.agent_version, s.user_id, s.host, s.service_name, \
  s.started, s.last_seen, s.events, s.prompts AS turns, s.tool_calls, s.denials, s.reviews_session, s.is_auxiliary, \
  COALESCE(f.findings, 0) AS findings, COALESCE(f.critical, 0) AS critical, COALESCE(f.high, 0) AS high, \
  COALESCE(f.medium, 0) AS medium, COALESCE(f.low, 0) AS low, COALESCE(f.info, 0) AS info, \
  f.max_severity_rank";

/// `{critical, high, …}` out of a session row's counts.
fn shape_session(mut s: Object) -> Object {
    let mut by = Map::new();
    for sev in Severity::ALL.iter().rev() {
        by.insert(
            sev.as_str().to_string(),
            s.remove(sev.as_str()).unwrap_or(json!(0)),
        );
    }
    let max = s
        .remove("max_severity_rank")
        .and_then(|r| r.as_i64())
        .and_then(|r| Severity::ALL.get((r - 1) as usize).copied());
    s.insert("findings_by_severity".into(), Value::Object(by));
    s.insert(
        "max_severity".into(),
        max.map_or(Value::Null, |m| json!(m.as_str())),
    );
    s
}

#[derive(Debug, Deserialize)]
pub struct SessionsQuery {
    pub agent: Option<String>,
    pub user: Option<String>,
    pub host: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub has_findings: Option<bool>,
    pub min_severity: Option<String>,
    /// Text searched in prompts and commands.
    pub q: Option<String>,
    #[serde(default)]
    pub include_auxiliary: bool,
    /// One of [`SESSION_SORTS`]; `last_seen` by default.
    pub sort: Option<String>,
    /// `asc` or `desc` (default).
    pub dir: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// The columns `GET /api/sessions?sort=` may order by.
pub(crate) const SESSION_SORTS: [&str; 9] = [
    "last_seen",
    "started",
    "agent",
    "user_id",
    "events",
    "turns",
    "tool_calls",
    "denials",
    "findings",
];

/// `ORDER BY` for a session listing: `sort` one of [`SESSION_SORTS`], `dir`
/// `asc` or `desc` (the default: newest, largest first).
fn session_order(sort: Option<&str>, dir: Option<&str>) -> Result<String, ApiError> {
    let sort = sort.unwrap_or("last_seen");
    if !SESSION_SORTS.contains(&sort) {
        return Err(ApiError::BadRequest(format!(
            "sort {sort:?}: use one of {}",
            SESSION_SORTS.join(", ")
        )));
    }
    let dir = match dir.unwrap_or("desc") {
        "asc" => "ASC",
        "desc" => "DESC",
        other => {
            return Err(ApiError::BadRequest(format!(
                "dir {other:?}: use asc or desc"
            )));
        }
    };
    Ok(format!("{sort} {dir} NULLS LAST, session_id"))
}

/// `GET /api/sessions`: filtered, newest first, paged, with a total.
pub async fn sessions(
    State(state): State<AppState>,
    Query(q): Query<SessionsQuery>,
) -> Result<Json<Value>, ApiError> {
    list_sessions(&state.engine, &q).await.map(Json)
}

/// The filters of a session listing on the session's own columns, each written
/// through `col` (a `sessions` column, or the aggregate over raw rows that
/// defines it), so both ways of listing filter alike.
fn session_column_filters(
    q: &SessionsQuery,
    col: impl Fn(&str) -> String,
) -> Result<Vec<String>, ApiError> {
    let mut filters = Vec::new();
    if !q.include_auxiliary {
        filters.push(format!("NOT {}", col("is_auxiliary")));
    }
    for (name, v) in [("agent", &q.agent), ("user_id", &q.user), ("host", &q.host)] {
        if let Some(v) = v {
            filters.push(format!("{} = {}", col(name), lit(v)));
        }
    }
    if let Some(t) = &q.since {
        filters.push(format!(
            "CAST({} AS BIGINT) >= {}",
            col("last_seen"),
            time_ns("since", t)?
        ));
    }
    if let Some(t) = &q.until {
        filters.push(format!(
            "CAST({} AS BIGINT) <= {}",
            col("started"),
            time_ns("until", t)?
        ));
    }
    Ok(filters)
}

/// The `sessions` columns a raw-row listing can compute, as their aggregates.
fn raw_session_column(name: &str) -> String {
    match name {
        "last_seen" => "max(ts)".into(),
        "started" => "min(ts)".into(),
        "is_auxiliary" => "(max(parent_session_id) IS NOT NULL)".into(),
        other => format!("max({other})"),
    }
}

/// The answer of `GET /api/sessions` (the dashboard's session list too).
///
/// The rows come from the detector's session summaries where they are current
/// ([`summarized_sessions`]); otherwise, for sort keys resend duplicates cannot
/// change, from the raw rows ([`list_sessions_by_raw_keys`]); otherwise from
/// the `sessions` view grouped over the whole store. All three give the same
/// rows in the same order (`tests/e2e/api.rs`).
pub(crate) async fn list_sessions(
    engine: &QueryEngine,
    q: &SessionsQuery,
) -> Result<Value, ApiError> {
    let (limit, offset) = paging(q.limit, q.offset)?;
    let order = session_order(q.sort.as_deref(), q.dir.as_deref())?;
    let text_filter = q.q.as_deref().filter(|t| !t.trim().is_empty()).map(|text| {
        let p = contains_pattern(text.trim());
        // the raw rows: a text match does not change with resend duplicates
        format!(
            "session_id IN (SELECT session_id FROM {AGENT_EVENTS_RAW} \
             WHERE (kind = 'prompt' AND text ILIKE {p}) OR command ILIKE {p})"
        )
    });
    let source = match summarized_sessions(engine).await? {
        Some(source) => source,
        None if matches!(
            q.sort.as_deref().unwrap_or("last_seen"),
            "last_seen" | "started" | "agent" | "user_id"
        ) =>
        {
            return list_sessions_by_raw_keys(engine, q, &order, text_filter, limit, offset).await;
        }
        None => format!(
            "SELECT {SESSION_COLUMNS} FROM sessions s \
             LEFT JOIN ({FINDING_COUNTS}) f ON f.session_id = s.session_id"
        ),
    };
    let mut filters = session_column_filters(q, str::to_string)?;
    match q.has_findings {
        Some(true) => filters.push("findings > 0".into()),
        Some(false) => filters.push("findings = 0".into()),
        None => {}
    }
    if let Some(s) = &q.min_severity {
        filters.push(format!("max_severity_rank >= {}", severity(s)?.rank()));
    }
    filters.extend(text_filter);
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    let from = format!("({source}) {filter}");
    // the total rides along as a window over the filtered rows: the sessions
    // are read once, not once for the count and again for the page
    let page = format!(
        "SELECT *, count(*) OVER () AS __total FROM {from} \
         ORDER BY {order} LIMIT {limit} OFFSET {offset}"
    );
    let mut rows = objects(engine, &page).await?;
    let total = match rows.first() {
        Some(r) => r.get("__total").cloned().unwrap_or(json!(0)),
        // past the end (or nothing matched): count on its own
        None if offset > 0 => objects(engine, &format!("SELECT count(*) AS n FROM {from}"))
            .await?
            .first()
            .and_then(|r| r.get("n").cloned())
            .unwrap_or(json!(0)),
        None => json!(0),
    };
    for r in &mut rows {
        r.remove("__total");
    }
    Ok(json!({
        "total": total,
        "limit": limit,
        "offset": offset,
        "sessions": rows.into_iter().map(shape_session).collect::<Vec<_>>(),
    }))
}

/// How many sessions one listing may compute from the store because their
/// summaries are not current; beyond it (the detector catching up after a
/// restart, a store written before summaries existed) listing groups the store.
const MAX_UNSUMMARIZED: usize = 500;

/// Every session as one row with [`SESSION_COLUMNS`]' names, from the
/// detector's summaries (`session_summaries`) — a row per session, not a
/// GROUP BY over the store — if they describe the store as it is now.
///
/// The detector's checkpoint `C` (the highest `evaluated_through`) promises
/// that every session touched by a row at or below `C` was evaluated after it,
/// so its latest summary counts every one of its rows, except for sessions
/// touched past `C`: those few (the ones active in the last detector round) are
/// computed from the `sessions` view, found through file names alone (files
/// are named by their WAL range). `None` if more than [`MAX_UNSUMMARIZED`]
/// sessions need that, or there are no summaries at all.
async fn summarized_sessions(engine: &QueryEngine) -> Result<Option<String>, ApiError> {
    let checkpoint = objects(
        engine,
        "SELECT CAST(max(evaluated_through) AS BIGINT) AS c FROM session_summaries",
    )
    .await?
    .first()
    .and_then(|r| r.get("c")?.as_i64());
    let Some(checkpoint) = checkpoint else {
        return Ok(None);
    };
    let stale = objects(
        engine,
        &format!(
            "SELECT DISTINCT session_id FROM {AGENT_EVENTS_RAW} \
             WHERE wal_seq > {checkpoint} AND session_id IS NOT NULL LIMIT {}",
            MAX_UNSUMMARIZED + 1
        ),
    )
    .await?;
    if stale.len() > MAX_UNSUMMARIZED {
        return Ok(None);
    }
    let stale: Vec<String> = stale
        .iter()
        .filter_map(|r| r.get("session_id")?.as_str().map(lit))
        .collect();
    let worst = Severity::ALL
        .iter()
        .rev()
        .map(|s| format!("WHEN {} > 0 THEN {}", s.as_str(), s.rank()))
        .collect::<Vec<_>>()
        .join(" ");
    let summarized = format!(
        "SELECT session_id, agent, agent_version, user_id, host, service_name, started, \
           last_seen, events, prompts AS turns, tool_calls, denials, reviews_session, is_auxiliary, \
           findings, critical, high, medium, low, info, CASE {worst} END AS max_severity_rank \
         FROM session_summaries WHERE true"
    );
    if stale.is_empty() {
        return Ok(Some(summarized));
    }
    let stale = stale.join(", ");
    Ok(Some(format!(
        "{summarized} AND session_id NOT IN ({stale}) \
         UNION ALL SELECT {SESSION_COLUMNS} FROM sessions s \
           LEFT JOIN ({FINDING_COUNTS}) f ON f.session_id = s.session_id \
         WHERE s.session_id IN ({stale})"
    )))
}

const EVENT_COLUMNS: &str = "event_id, ts, position, turn_index, turn_id, kind, event_name, tool_name, \
  tool_call_id, command, paths_read, paths_written, decision, decision_source, outcome, exit_code, \
  output_bytes, network_host, network_decision, mcp_server, model, input_tokens, output_tokens, \
  duration_ms, text, plan";

const ACTION_COLUMNS: &str = "tool_call_id, ts, position, turn_index, tool_name, command, decision, \
  decision_source, ran, outcome, exit_code, output_bytes, paths_read, paths_written, network_host, \
  network_decision, mcp_server, event_ids";

const FINDING_COLUMNS: &str = "finding_id, session_id, ts, rule_id, severity, severity_rank, title, \
  description, event_ids, tool_call_ids, details";

fn strings_of(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

fn parse_details(mut f: Object) -> Object {
    if let Some(Value::String(d)) = f.get("details")
        && let Ok(v) = serde_json::from_str::<Value>(d)
    {
        f.insert("details".into(), v);
    }
    f
}

/// [`list_sessions`] when every filter and the sort key are columns of
/// `sessions` that resend duplicates cannot change (`max`, `min`, the session's
/// findings): pick the page's session ids from `agent_events_raw` grouped by
/// session — no de-duplicating window, only those columns — and read the whole
/// `sessions` row of just those ids. Same rows, same order as the plain query.
async fn list_sessions_by_raw_keys(
    engine: &QueryEngine,
    q: &SessionsQuery,
    order: &str,
    text_filter: Option<String>,
    limit: usize,
    offset: usize,
) -> Result<Value, ApiError> {
    let having = session_column_filters(q, raw_session_column)?;
    let mut filters = vec!["session_id IS NOT NULL".to_string()];
    match q.has_findings {
        Some(true) => filters.push("session_id IN (SELECT session_id FROM findings)".into()),
        Some(false) => filters.push(
            "session_id NOT IN (SELECT session_id FROM findings WHERE session_id IS NOT NULL)"
                .into(),
        ),
        None => {}
    }
    if let Some(s) = &q.min_severity {
        filters.push(format!(
            "session_id IN (SELECT session_id FROM findings GROUP BY session_id \
             HAVING max(severity_rank) >= {})",
            severity(s)?.rank()
        ));
    }
    filters.extend(text_filter);
    let having = if having.is_empty() {
        String::new()
    } else {
        format!("HAVING {}", having.join(" AND "))
    };
    let keys = format!(
        "SELECT session_id, max(ts) AS last_seen, min(ts) AS started, max(agent) AS agent, \
         max(user_id) AS user_id, count(*) OVER () AS __total FROM {AGENT_EVENTS_RAW} \
         WHERE {} GROUP BY session_id {having} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
        filters.join(" AND ")
    );
    let keys = objects(engine, &keys).await?;
    let total = match keys.first() {
        Some(r) => r.get("__total").cloned().unwrap_or(json!(0)),
        None if offset > 0 => {
            // past the end: count on its own
            let count = format!(
                "SELECT count(*) AS n FROM (SELECT session_id FROM {AGENT_EVENTS_RAW} \
                 WHERE {} GROUP BY session_id {having})",
                filters.join(" AND ")
            );
            objects(engine, &count)
                .await?
                .first()
                .and_then(|r| r.get("n").cloned())
                .unwrap_or(json!(0))
        }
        None => json!(0),
    };
    let ids: Vec<String> = keys
        .iter()
        .filter_map(|r| r.get("session_id")?.as_str().map(str::to_string))
        .collect();
    let mut by_id: HashMap<String, Object> = if ids.is_empty() {
        HashMap::new()
    } else {
        let list: Vec<String> = ids.iter().map(|i| lit(i)).collect();
        objects(
            engine,
            &format!(
                "SELECT {SESSION_COLUMNS} FROM sessions s LEFT JOIN ({FINDING_COUNTS}) f \
                 ON f.session_id = s.session_id WHERE s.session_id IN ({})",
                list.join(", ")
            ),
        )
        .await?
        .into_iter()
        .filter_map(|o| Some((o.get("session_id")?.as_str()?.to_string(), o)))
        .collect()
    };
    let rows: Vec<Value> = ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(shape_session)
        .map(Value::Object)
        .collect();
    Ok(json!({
        "total": total,
        "limit": limit,
        "offset": offset,
        "sessions": rows,
    }))
}

/// `GET /api/sessions/{id}`: the intent chain, turn by turn.
pub async fn session(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    match session_chain(&state.engine, &id).await? {
        Some(chain) => Ok(Json(chain)),
        None => Err(ApiError::NotFound(format!("no session {id:?}"))),
    }
}

/// The intent chain of session `id` as `GET /api/sessions/{id}` answers it;
/// `None` if there is no such session. The session's rows are read from the
/// store once ([`QueryEngine::for_sessions`]: only the files and row groups
/// that hold it), and every view of the chain is computed from them.
pub async fn session_chain(e: &QueryEngine, id: &str) -> Result<Option<Value>, ApiError> {
    let sid = lit(id);
    let head = format!(
        "SELECT {SESSION_COLUMNS} FROM sessions s LEFT JOIN ({FINDING_COUNTS}) f \
         ON f.session_id = s.session_id WHERE s.session_id = {sid}"
    );
    let events = format!(
        "SELECT {EVENT_COLUMNS} FROM agent_events WHERE session_id = {sid} ORDER BY position"
    );
    let actions = format!(
        "SELECT {ACTION_COLUMNS} FROM agent_actions WHERE session_id = {sid} ORDER BY position"
    );
    let findings = format!(
        "SELECT {FINDING_COLUMNS} FROM findings WHERE session_id = {sid} ORDER BY ts, rule_id"
    );
    // reviewer sessions name the one they review; find their ids first, so the
    // `sessions` query below filters on ids (a GROUP BY over every session otherwise)
    let reviewers = format!(
        "SELECT DISTINCT session_id FROM agent_events_raw \
         WHERE parent_session_id = {sid} AND session_id IS NOT NULL"
    );
    let plans = format!(
        "SELECT revision, turn_index, position, plan, explanation, steps_added, steps_removed, \
         steps_status_changed FROM plan_evolution WHERE session_id = {sid} ORDER BY position"
    );
    // the session's rows are read once, and the five views over them from
    // memory (one snapshot for all of them); the reviewers, other sessions,
    // are looked up in the store meanwhile
    let (one, reviewers) = futures::try_join!(
        async { Ok::<_, ApiError>(e.for_sessions(&[id.to_string()]).await?) },
        objects(e, &reviewers),
    )?;
    let (head, events, actions, findings, plans) = futures::try_join!(
        objects(&one, &head),
        objects(&one, &events),
        objects(&one, &actions),
        objects(&one, &findings),
        objects(&one, &plans),
    )?;
    let Some(head) = head.into_iter().next() else {
        return Ok(None);
    };
    let findings: Vec<Object> = findings.into_iter().map(parse_details).collect();
    let reviewers: Vec<String> = reviewers
        .iter()
        .filter_map(|r| r.get("session_id")?.as_str().map(lit))
        .collect();
    let reviews = if reviewers.is_empty() {
        Vec::new()
    } else {
        objects(
            e,
            &format!(
                "SELECT session_id, agent, started, last_seen, prompts, events FROM sessions \
                 WHERE session_id IN ({}) AND reviews_session = {sid} ORDER BY started",
                reviewers.join(", ")
            ),
        )
        .await?
    };
    Ok(Some(intent_chain(
        shape_session(head),
        events,
        actions,
        findings,
        reviews,
        plans,
    )))
}

/// Assembles the chain from the rows of the views (no SQL here, so it is
/// tested on its own).
pub(crate) fn intent_chain(
    head: Object,
    events: Vec<Object>,
    actions: Vec<Object>,
    findings: Vec<Object>,
    reviews: Vec<Object>,
    plans: Vec<Object>,
) -> Value {
    // which findings cite each event
    let mut cited: HashMap<String, Vec<Value>> = HashMap::new();
    for f in &findings {
        for id in strings_of(f.get("event_ids")) {
            cited.entry(id).or_default().push(f["finding_id"].clone());
        }
    }
    let findings_of = |ids: &[String]| -> Vec<Value> {
        let mut out: Vec<Value> = Vec::new();
        for id in ids {
            for f in cited.get(id).into_iter().flatten() {
                if !out.contains(f) {
                    out.push(f.clone());
                }
            }
        }
        out
    };
    let by_event: HashMap<String, &Object> = events
        .iter()
        .filter_map(|ev| {
            ev.get("event_id")
                .and_then(Value::as_str)
                .map(|id| (id.to_string(), ev))
        })
        .collect();
    let turn_of = |o: &Object| o.get("turn_index").and_then(Value::as_i64).unwrap_or(0);
    let mut turns: Vec<(i64, Object)> = Vec::new();
    let turn = |t: i64, turns: &mut Vec<(i64, Object)>| -> usize {
        if let Some(i) = turns.iter().position(|(n, _)| *n == t) {
            return i;
        }
        let mut o = Map::new();
        o.insert("turn_index".into(), json!(t));
        for k in ["model_calls", "actions", "events"] {
            o.insert(k.into(), json!([]));
        }
        o.insert("prompt".into(), Value::Null);
        o.insert("plan".into(), Value::Null);
        o.insert("plan_changes".into(), Value::Null);
        turns.push((t, o));
        turns.len() - 1
    };
    let push = |o: &mut Object, key: &str, v: Value| {
        if let Some(Value::Array(a)) = o.get_mut(key) {
            a.push(v);
        }
    };
    for ev in &events {
        let i = turn(turn_of(ev), &mut turns);
        let o = &mut turns[i].1;
        if o.get("turn_id").is_none() {
            o.insert(
                "turn_id".into(),
                ev.get("turn_id").cloned().unwrap_or(Value::Null),
            );
            o.insert(
                "started".into(),
                ev.get("ts").cloned().unwrap_or(Value::Null),
            );
        }
        let kind = ev.get("kind").and_then(Value::as_str).unwrap_or("");
        let has_call = ev.get("tool_call_id").is_some_and(|c| !c.is_null());
        match kind {
            "prompt" if o["prompt"].is_null() => {
                o.insert(
                    "prompt".into(),
                    ev.get("text").cloned().unwrap_or(Value::Null),
                );
                o.insert("prompt_event_id".into(), ev["event_id"].clone());
            }
            "model_call" | "model_response" if !has_call => {
                let mut m = Map::new();
                for k in [
                    "event_id",
                    "ts",
                    "position",
                    "kind",
                    "model",
                    "input_tokens",
                    "output_tokens",
                    "duration_ms",
                    "outcome",
                ] {
                    m.insert(k.into(), ev.get(k).cloned().unwrap_or(Value::Null));
                }
                push(o, "model_calls", Value::Object(m));
            }
            _ if !has_call => {
                let mut m = ev.clone();
                m.remove("plan");
                let id = m["event_id"].as_str().unwrap_or("").to_string();
                m.insert("findings".into(), json!(findings_of(&[id])));
                push(o, "events", Value::Object(m));
            }
            _ => {}
        }
    }
    for a in &actions {
        let i = turn(turn_of(a), &mut turns);
        let mut m = a.clone();
        let ids = strings_of(a.get("event_ids"));
        let silent = a.get("ran") == Some(&json!(true)) && a.get("output_bytes") == Some(&json!(0));
        m.insert("silent".into(), json!(silent));
        // decision → execution → result: the call's records in session order
        let steps: Vec<Value> = ids
            .iter()
            .filter_map(|id| by_event.get(id))
            .map(|ev| {
                let mut s = Map::new();
                for k in [
                    "event_id",
                    "ts",
                    "kind",
                    "event_name",
                    "decision",
                    "decision_source",
                    "outcome",
                    "exit_code",
                    "output_bytes",
                    "network_decision",
                    "duration_ms",
                    "text",
                ] {
                    if let Some(v) = ev.get(k).filter(|v| !v.is_null()) {
                        s.insert(k.into(), v.clone());
                    }
                }
                Value::Object(s)
            })
            .collect();
        m.insert("steps".into(), Value::Array(steps));
        m.insert("findings".into(), json!(findings_of(&ids)));
        // a reviewer conversation reviewed the action it decided: the latest
        // review started at or before the decision
        let reviewed_by = (a.get("decision_source") == Some(&json!("reviewer")))
            .then(|| {
                let ts = a.get("ts").and_then(Value::as_str).unwrap_or("");
                reviews
                    .iter()
                    .rfind(|r| r.get("started").and_then(Value::as_str).unwrap_or("") <= ts)
                    .or(reviews.first())
                    .map(|r| r["session_id"].clone())
            })
            .flatten();
        m.insert("reviewed_by".into(), reviewed_by.unwrap_or(Value::Null));
        push(&mut turns[i].1, "actions", Value::Object(m));
    }
    // the plan as it stood after each turn, and how it changed since the last turn
    turns.sort_by_key(|(n, _)| *n);
    let mut previous: Option<String> = None;
    for (n, o) in &mut turns {
        let latest = plans
            .iter()
            .rfind(|p| p.get("turn_index").and_then(Value::as_i64).unwrap_or(0) <= *n);
        let Some(p) = latest else { continue };
        let plan = p
            .get("plan")
            .and_then(Value::as_str)
            .unwrap_or("[]")
            .to_string();
        o.insert(
            "plan".into(),
            serde_json::from_str(&plan).unwrap_or(Value::Null),
        );
        let changed = previous.as_deref() != Some(plan.as_str());
        if changed {
            let d = schemas::plan::diff(previous.as_deref(), &plan);
            o.insert(
                "plan_changes".into(),
                json!({"added": d.added, "removed": d.removed, "status_changed": d.status_changed}),
            );
        }
        previous = Some(plan);
    }
    json!({
        "session": head,
        "turns": turns.into_iter().map(|(_, o)| Value::Object(o)).collect::<Vec<_>>(),
        "findings": findings,
        "auxiliary_sessions": reviews,
    })
}

#[derive(Debug, Deserialize)]
pub struct FindingsQuery {
    pub rule: Option<String>,
    /// Minimum severity.
    pub severity: Option<String>,
    pub session: Option<String>,
    pub agent: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

/// `GET /api/findings`: newest first, paged, with a total.
pub async fn findings(
    State(state): State<AppState>,
    Query(q): Query<FindingsQuery>,
) -> Result<Json<Value>, ApiError> {
    list_findings(&state.engine, &q).await.map(Json)
}

/// The answer of `GET /api/findings` (the dashboard's findings page too).
pub(crate) async fn list_findings(
    engine: &QueryEngine,
    q: &FindingsQuery,
) -> Result<Value, ApiError> {
    let (limit, offset) = paging(q.limit, q.offset)?;
    let mut filters = Vec::new();
    if let Some(r) = &q.rule {
        filters.push(format!("f.rule_id = {}", lit(r)));
    }
    if let Some(s) = &q.severity {
        filters.push(format!("f.severity_rank >= {}", severity(s)?.rank()));
    }
    if let Some(s) = &q.session {
        filters.push(format!("f.session_id = {}", lit(s)));
    }
    if let Some(a) = &q.agent {
        filters.push(format!("s.agent = {}", lit(a)));
    }
    if let Some(t) = &q.since {
        filters.push(format!("CAST(f.ts AS BIGINT) >= {}", time_ns("since", t)?));
    }
    if let Some(t) = &q.until {
        filters.push(format!("CAST(f.ts AS BIGINT) <= {}", time_ns("until", t)?));
    }
    let filter = if filters.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", filters.join(" AND "))
    };
    let cols = FINDING_COLUMNS
        .split(", ")
        .map(|c| format!("f.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    // `sessions` is a GROUP BY over the store: join it only to filter by agent;
    // otherwise page the findings alone and look up the page's few sessions
    let from = if q.agent.is_some() {
        format!("findings f LEFT JOIN sessions s ON s.session_id = f.session_id {filter}")
    } else {
        format!("findings f {filter}")
    };
    let count = format!("SELECT count(*) AS n FROM {from}");
    let page = format!(
        "SELECT {cols} FROM {from} ORDER BY f.ts DESC, f.finding_id LIMIT {limit} OFFSET {offset}"
    );
    let (total, mut rows) = futures::try_join!(objects(engine, &count), objects(engine, &page))?;
    let mut ids: Vec<String> = rows
        .iter()
        .filter_map(|r| r.get("session_id")?.as_str().map(lit))
        .collect();
    ids.sort();
    ids.dedup();
    let owners: HashMap<String, Object> = if ids.is_empty() {
        HashMap::new()
    } else {
        objects(
            engine,
            &format!(
                "SELECT session_id, agent, user_id, host FROM sessions WHERE session_id IN ({})",
                ids.join(", ")
            ),
        )
        .await?
        .into_iter()
        .filter_map(|o| Some((o.get("session_id")?.as_str()?.to_string(), o)))
        .collect()
    };
    for r in &mut rows {
        let owner = r
            .get("session_id")
            .and_then(Value::as_str)
            .and_then(|id| owners.get(id));
        for k in ["agent", "user_id", "host"] {
            let v = owner.and_then(|o| o.get(k)).cloned().unwrap_or(Value::Null);
            r.insert(k.into(), v);
        }
    }
    Ok(json!({
        "total": total.first().and_then(|r| r.get("n")).cloned().unwrap_or(json!(0)),
        "limit": limit,
        "offset": offset,
        "findings": rows.into_iter().map(parse_details).collect::<Vec<_>>(),
    }))
}

/// `GET /api/rules`: every loaded rule with its definition.
pub async fn rules(State(state): State<AppState>) -> Json<Value> {
    let rules: Vec<Value> = state
        .rules
        .rules()
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "title": r.title,
                "severity": r.severity.as_str(),
                "description": r.description,
                "source": r.source,
                "format": match r.body { query::detect::RuleBody::Sigma => "sigma", _ => "toml" },
                "definition": r.definition,
            })
        })
        .collect();
    Json(json!({ "digest": state.rules.digest(), "rules": rules }))
}

#[derive(Debug, Deserialize)]
pub struct CheckRequest {
    /// Policy files by name (the name tells `.json` settings from `.rules`).
    pub policies: Vec<PolicyFile>,
    pub session: Option<String>,
    pub since: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PolicyFile {
    pub name: String,
    pub content: String,
}

/// `POST /api/check`: `{"policies": [{"name", "content"}], "session"?, "since"?}`
/// → the actions the policies would deny or ask about.
pub async fn check(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    let req: CheckRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "expected {{\"policies\": [{{\"name\": \"settings.json\", \"content\": \"…\"}}], \"session\"?, \"since\"?}}: {e}"
        ))
    })?;
    if req.policies.is_empty() {
        return Err(ApiError::BadRequest("no policies given".into()));
    }
    let mut set = schemas::policy::PolicySet::new(Vec::new());
    for p in &req.policies {
        let policy = schemas::policy::Policy::parse(&p.name, &p.content).map_err(|e| {
            ApiError::Policy(
                json!({"file": e.file, "line": e.line, "reason": e.reason}),
                e.to_string(),
            )
        })?;
        set.push(policy);
    }
    let scope = query::check::CheckScope {
        session_id: req.session.clone(),
        since_ns: req
            .since
            .as_deref()
            .map(|t| time_ns("since", t))
            .transpose()?,
    };
    let violations = query::check::check(&state.engine, &set, &scope).await?;
    Ok(Json(json!({
        "violations": violations,
        "count": violations.len(),
        "ran": violations.iter().filter(|v| v.ran).count(),
    })))
}
