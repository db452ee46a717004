//! `/`: what the agents did over a time range, what they were refused, what
//! looks like an attack. A handful of aggregate statements, run together; the
//! tallies (top agents, tools, …) are made here from their grouped rows.
//!
//! Session and network counts read `agent_events_raw`: `min`, `max` and
//! `count(DISTINCT …)` do not change with resend duplicates, and skipping the
//! de-duplicating view keeps the page fast on a large store. Actions come from
//! `agent_actions`, whose definition of one action is the one to show.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use serde_json::Value;

use super::charts::{self, BarChart};
use super::{Chrome, PageError, Viewer, format, render};
use crate::api::objects;
use crate::{ApiError, AppState};

/// The time ranges the selector offers.
const RANGES: [(&str, &str, i64); 4] = [
    ("hour", "last hour", 3_600),
    ("day", "last day", 86_400),
    ("week", "last week", 7 * 86_400),
    ("all", "all time", 0),
];

/// Bucket widths a chart may use, smallest first (seconds).
const BUCKETS: [i64; 10] = [
    60,
    300,
    900,
    3_600,
    3 * 3_600,
    6 * 3_600,
    12 * 3_600,
    86_400,
    7 * 86_400,
    30 * 86_400,
];
/// Bars per chart at most.
const MAX_BARS: i64 = 48;
const NS: i64 = 1_000_000_000;
/// Sessions a bounded range may name to scope the actions query; more, and the
/// query reads every action (as "all time" does).
const MAX_SCOPED_SESSIONS: usize = 2000;

#[derive(Debug, Deserialize)]
pub(crate) struct OverviewQuery {
    range: Option<String>,
}

pub(crate) struct Count {
    pub name: String,
    pub n: u64,
    /// Of which refused (tools, egress) — shown beside the count.
    pub refused: u64,
    pub href: String,
}

pub(crate) struct RecentFinding {
    pub ts: String,
    pub severity: String,
    pub title: String,
    pub rule_id: String,
    pub session_id: String,
    pub href: String,
}

pub(crate) struct SeverityCount {
    pub severity: &'static str,
    pub n: u64,
    pub href: String,
}

#[derive(Template)]
#[template(path = "overview.html")]
pub(crate) struct OverviewPage {
    chrome: Chrome,
    ranges: Vec<(&'static str, &'static str, bool)>,
    range_label: &'static str,
    empty_store: bool,
    setup: super::pages::Setup,
    sessions: u64,
    actions: u64,
    denied: u64,
    findings: u64,
    denied_href: String,
    charts: Vec<BarChart>,
    by_severity: Vec<SeverityCount>,
    by_rule: Vec<Count>,
    tops: Vec<(&'static str, Vec<Count>)>,
    latest: Vec<RecentFinding>,
}

fn s(v: &Value) -> Option<&str> {
    v.as_str()
}
fn u(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_i64().map(|i| i.max(0) as u64))
        .unwrap_or(0)
}

/// The `n` largest of `counts`, largest first, ties by name.
fn top(counts: HashMap<String, (u64, u64)>, n: usize, href: impl Fn(&str) -> String) -> Vec<Count> {
    let mut v: Vec<Count> = counts
        .into_iter()
        .map(|(name, (n, refused))| Count {
            href: href(&name),
            name,
            n,
            refused,
        })
        .collect();
    v.sort_by(|a, b| b.n.cmp(&a.n).then_with(|| a.name.cmp(&b.name)));
    v.truncate(n);
    v
}

pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<OverviewQuery>,
) -> Response {
    match build(&state, &viewer, q.range.as_deref().unwrap_or("day")).await {
        Ok(p) => render(&p),
        Err(e) => PageError::new(e, &viewer).into_response(),
    }
}

async fn build(state: &AppState, viewer: &Viewer, range: &str) -> Result<OverviewPage, ApiError> {
    let version = state.engine.store_version();
    let Some(&(range_key, range_label, range_s)) = RANGES.iter().find(|r| r.0 == range) else {
        return Err(ApiError::BadRequest(format!(
            "range {range:?}: use hour, day, week or all"
        )));
    };
    let now = state.clock.now_ns();
    let e = &state.engine;
    let bounds = objects(
        e,
        "SELECT min(CAST(ts AS BIGINT)) AS lo, max(CAST(ts AS BIGINT)) AS hi FROM agent_events_raw",
    )
    .await?;
    let lo = bounds.first().and_then(|r| r["lo"].as_i64());
    let hi = bounds.first().and_then(|r| r["hi"].as_i64());
    let empty_store = lo.is_none();
    let (since, until) = if range_s > 0 {
        (now - range_s * NS, now)
    } else {
        (
            lo.unwrap_or(now),
            hi.unwrap_or(now).max(lo.unwrap_or(now)) + 1,
        )
    };
    let span_s = ((until - since) / NS).max(1);
    let width_s = BUCKETS
        .iter()
        .copied()
        .find(|w| span_s / w < MAX_BARS)
        .unwrap_or(BUCKETS[BUCKETS.len() - 1]);
    let width = width_s * NS;
    let first = since.div_euclid(width);
    let buckets = (until.div_euclid(width) - first + 1).max(1) as usize;
    // timestamp literals, not a cast of the column: files and row groups
    // outside the range are skipped by their statistics
    let (since_lit, until_lit) = (rfc3339(since), rfc3339(until));
    let in_range = |col: &str| format!("{col} >= '{since_lit}' AND {col} <= '{until_lit}'");
    let sessions_sql = format!(
        "SELECT session_id, max(agent) AS agent, max(user_id) AS user_id, max(host) AS host, \
         min(CAST(ts AS BIGINT)) AS started, max(parent_session_id) AS reviews \
         FROM agent_events_raw WHERE session_id IS NOT NULL AND {} GROUP BY session_id",
        in_range("ts")
    );
    // an action's time is the least of its records': a filter on it cannot reach
    // the scan below the view's GROUP BY. For a bounded range, name the sessions
    // with records in it (a cheap scan of the raw table) so the view reads only those.
    let mut action_scope = String::new();
    if range_s > 0 {
        let touched = objects(
            e,
            &format!(
                "SELECT DISTINCT session_id FROM agent_events_raw \
                 WHERE session_id IS NOT NULL AND {} LIMIT {}",
                in_range("ts"),
                MAX_SCOPED_SESSIONS + 1
            ),
        )
        .await?;
        if touched.len() <= MAX_SCOPED_SESSIONS {
            let ids: Vec<String> = touched
                .iter()
                .filter_map(|r| r.get("session_id")?.as_str().map(crate::api::lit))
                .collect();
            action_scope = if ids.is_empty() {
                "false AND ".to_string()
            } else {
                format!("session_id IN ({}) AND ", ids.join(", "))
            };
        }
    }
    let actions_sql = format!(
        "SELECT CAST(ts AS BIGINT) / {width} AS bucket, decision, tool_name, mcp_server, count(*) AS n \
         FROM agent_actions WHERE {action_scope}{} GROUP BY 1, 2, 3, 4",
        in_range("ts")
    );
    let network_sql = format!(
        "SELECT network_host, max(network_decision) AS verdict, count(DISTINCT event_id) AS n, \
         count(DISTINCT CASE WHEN network_decision = 'deny' OR decision = 'deny' THEN event_id END) AS refused \
         FROM agent_events_raw WHERE network_host IS NOT NULL AND {} GROUP BY network_host",
        in_range("ts")
    );
    let findings_sql = format!(
        "SELECT rule_id, severity, count(*) AS n FROM findings WHERE {} GROUP BY 1, 2",
        in_range("ts")
    );
    let latest_sql = format!(
        "SELECT ts, severity, title, rule_id, session_id, event_ids FROM findings \
         WHERE severity_rank >= 4 AND {} ORDER BY ts DESC, finding_id LIMIT 10",
        in_range("ts")
    );
    let (sessions, actions, network, findings, latest) = futures::try_join!(
        objects(e, &sessions_sql),
        objects(e, &actions_sql),
        objects(e, &network_sql),
        objects(e, &findings_sql),
        objects(e, &latest_sql),
    )?;

    let bucket_of = |ns: i64| (ns.div_euclid(width) - first).clamp(0, buckets as i64 - 1) as usize;
    let mut session_series = vec![0u64; buckets];
    let (mut agents, mut users, mut hosts) = (HashMap::new(), HashMap::new(), HashMap::new());
    let mut session_count = 0;
    for r in &sessions {
        // reviewer sub-conversations are part of the session they review
        if !r["reviews"].is_null() {
            continue;
        }
        session_count += 1;
        if let Some(t) = r["started"].as_i64() {
            session_series[bucket_of(t)] += 1;
        }
        for (map, key) in [
            (&mut agents, "agent"),
            (&mut users, "user_id"),
            (&mut hosts, "host"),
        ] {
            if let Some(v) = s(&r[key]) {
                map.entry(v.to_string()).or_insert((0, 0)).0 += 1;
            }
        }
    }
    let mut action_series = vec![0u64; buckets];
    let mut denied_series = vec![0u64; buckets];
    let (mut tools, mut mcp) = (HashMap::new(), HashMap::new());
    for r in &actions {
        let n = u(&r["n"]);
        let refused = matches!(s(&r["decision"]), Some("deny" | "abort"));
        let b = r["bucket"]
            .as_i64()
            .map_or(0, |b| (b - first).clamp(0, buckets as i64 - 1) as usize);
        action_series[b] += n;
        if refused {
            denied_series[b] += n;
        }
        for (map, key) in [(&mut tools, "tool_name"), (&mut mcp, "mcp_server")] {
            if let Some(v) = s(&r[key]) {
                let c = map.entry(v.to_string()).or_insert((0, 0));
                c.0 += n;
                if refused {
                    c.1 += n;
                }
            }
        }
    }
    let egress: HashMap<String, (u64, u64)> = network
        .iter()
        .filter_map(|r| {
            Some((
                s(&r["network_host"])?.to_string(),
                (u(&r["n"]), u(&r["refused"])),
            ))
        })
        .collect();
    let mut by_rule_counts: HashMap<String, (u64, u64)> = HashMap::new();
    let mut by_sev: HashMap<String, u64> = HashMap::new();
    for r in &findings {
        let n = u(&r["n"]);
        if let Some(rule) = s(&r["rule_id"]) {
            by_rule_counts.entry(rule.to_string()).or_insert((0, 0)).0 += n;
        }
        if let Some(sev) = s(&r["severity"]) {
            *by_sev.entry(sev.to_string()).or_default() += n;
        }
    }
    let finding_total = by_sev.values().sum();
    let since_param = if range_s > 0 {
        format!("&since={}", format::url_component(&format!("{range_s}s")))
    } else {
        String::new()
    };
    let by_severity = schemas::findings::Severity::ALL
        .iter()
        .rev()
        .map(|sev| SeverityCount {
            severity: sev.as_str(),
            n: by_sev.get(sev.as_str()).copied().unwrap_or(0),
            href: format!("/findings?severity={}{since_param}", sev.as_str()),
        })
        .collect();
    let sessions_link = |param: &'static str| {
        let since_param = since_param.clone();
        move |v: &str| {
            format!(
                "/sessions?{param}={}{since_param}",
                format::url_component(v)
            )
        }
    };
    let sql_link = |col: &'static str| {
        move |v: &str| {
            let q = format!(
                "SELECT ts, session_id, tool_name, command, decision, decision_source, network_host, mcp_server \
                 FROM agent_actions WHERE {col} = {} ORDER BY ts DESC LIMIT 100",
                crate::api::lit(v)
            );
            format::sql_href(&q)
        }
    };
    let tops = vec![
        ("Agents", top(agents, 5, sessions_link("agent"))),
        ("Users", top(users, 5, sessions_link("user"))),
        ("Hosts", top(hosts, 5, sessions_link("host"))),
        ("Tools", top(tools, 8, sql_link("tool_name"))),
        ("Egress domains", top(egress, 8, sql_link("network_host"))),
        ("MCP servers", top(mcp, 8, sql_link("mcp_server"))),
    ];
    let by_rule = top(by_rule_counts, 10, |r| {
        format!("/findings?rule={}{since_param}", format::url_component(r))
    });
    let latest = latest
        .iter()
        .map(|r| {
            let sid = s(&r["session_id"]).unwrap_or("").to_string();
            RecentFinding {
                ts: s(&r["ts"]).map(format::time).unwrap_or_default(),
                severity: s(&r["severity"]).unwrap_or("").to_string(),
                title: s(&r["title"]).unwrap_or("").to_string(),
                rule_id: s(&r["rule_id"]).unwrap_or("").to_string(),
                href: format::finding_href(&sid, &r["event_ids"]),
                session_id: sid,
            }
        })
        .collect();
    let start = first * width;
    let charts = vec![
        charts::bar_chart(
            "Sessions started",
            "sessions",
            start,
            width,
            &session_series,
        ),
        charts::bar_chart("Tool actions", "actions", start, width, &action_series),
        charts::bar_chart("Denied or aborted", "denied", start, width, &denied_series),
    ];
    Ok(OverviewPage {
        chrome: Chrome::new("overview", viewer).live(version),
        ranges: RANGES
            .iter()
            .map(|(k, label, _)| (*k, *label, *k == range_key))
            .collect(),
        range_label,
        empty_store,
        setup: super::pages::Setup::of(state),
        sessions: session_count,
        actions: action_series.iter().sum(),
        denied: denied_series.iter().sum(),
        findings: finding_total,
        denied_href: sql_link_denied(),
        charts,
        by_severity,
        by_rule,
        tops,
        latest,
    })
}

/// The console, listing the refused actions.
fn sql_link_denied() -> String {
    let q = "SELECT ts, session_id, tool_name, command, decision, decision_source \
             FROM agent_actions WHERE decision IN ('deny', 'abort') ORDER BY ts DESC LIMIT 100";
    format::sql_href(q)
}

fn rfc3339(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}
