//! `/sql`: the console. The query travels in the URL (`?q=`), so a result can
//! be bookmarked, shared and reloaded; it is read-only SQL like everywhere
//! else. `/sql.csv?q=` downloads the whole result.

use std::time::Instant;

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use serde_json::Value;

use super::{Chrome, PageError, Viewer, format, render};
use crate::{ApiError, AppState};

/// Rows shown on the page; the CSV has them all.
const SHOWN_ROWS: usize = 500;
/// Characters of a cell shown.
const CELL_CHARS: usize = 300;

/// The incident-response cookbook, one click away (README, "Incident-response cookbook").
const EXAMPLES: [(&str, &str); 7] = [
    (
        "What looks worst right now",
        "SELECT ts, severity, rule_id, title, session_id FROM findings\nWHERE severity_rank >= 4 ORDER BY ts DESC LIMIT 20",
    ),
    (
        "Denied actions, newest first",
        "SELECT ts, session_id, tool_name, command, decision, decision_source\nFROM agent_actions WHERE decision IN ('deny', 'abort') ORDER BY ts DESC LIMIT 50",
    ),
    (
        "Sessions that read a credential and then talked to the network",
        "SELECT DISTINCT session_id FROM findings\nWHERE rule_id IN ('secret-exfiltration', 'covert-exfiltration')",
    ),
    (
        "Files read before each change (one session)",
        "SELECT position, command, path_written, read_before\nFROM files_read_before_change WHERE session_id = 'S' ORDER BY position",
    ),
    (
        "Commands that ran with no visible output (one session)",
        "SELECT ts, command, exit_code, paths_written FROM silent_commands\nWHERE session_id = 'S' ORDER BY position",
    ),
    (
        "Denied attempts and retries (one session)",
        "SELECT ts, command, decision, decision_source, retries, retry_ran\nFROM denied_attempts WHERE session_id = 'S' ORDER BY position",
    ),
    (
        "How the plan evolved (one session)",
        "SELECT revision, turn_index, steps_added, steps_removed, steps_status_changed\nFROM plan_evolution WHERE session_id = 'S' ORDER BY revision",
    ),
];

#[derive(Debug, Default, Deserialize)]
pub(crate) struct SqlQuery {
    #[serde(default)]
    q: String,
}

pub(crate) struct Example {
    pub title: &'static str,
    pub sql: &'static str,
    pub href: String,
}

#[derive(Template)]
#[template(path = "sql.html")]
pub(crate) struct SqlPage {
    chrome: Chrome,
    sql: String,
    examples: Vec<Example>,
    columns: Vec<String>,
    rows: Vec<Vec<Option<String>>>,
    total_rows: usize,
    elapsed: String,
    error: Option<String>,
    csv_href: String,
    ran: bool,
}

fn cell(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(format::truncated(s, CELL_CHARS).0),
        other => Some(format::truncated(&other.to_string(), CELL_CHARS).0),
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<SqlQuery>,
) -> Response {
    let sql = q.q.trim().to_string();
    let mut page = SqlPage {
        chrome: Chrome::new("sql", &viewer),
        examples: EXAMPLES
            .iter()
            .map(|(title, sql)| Example {
                title,
                sql,
                href: format::sql_href(sql),
            })
            .collect(),
        columns: Vec::new(),
        rows: Vec::new(),
        total_rows: 0,
        elapsed: String::new(),
        error: None,
        csv_href: format!("/sql.csv?q={}", format::url_component(&sql)),
        ran: false,
        sql,
    };
    if page.sql.is_empty() {
        return render(&page);
    }
    let started = Instant::now();
    let result = state.engine.sql(&page.sql).await;
    page.elapsed = format::duration_ms(started.elapsed().as_millis() as i64);
    page.ran = true;
    let answer = result
        .map_err(ApiError::from)
        .and_then(|r| query::format::api_json(&r).map_err(ApiError::from));
    match answer {
        Ok(v) => {
            page.columns = v["columns"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect();
            let rows = v["rows"].as_array().cloned().unwrap_or_default();
            page.total_rows = rows.len();
            page.rows = rows
                .iter()
                .take(SHOWN_ROWS)
                .map(|r| r.as_array().into_iter().flatten().map(cell).collect())
                .collect();
        }
        Err(e) => {
            let status = e.status();
            if status.wire().server_fault {
                tracing::error!(error = %e, "SQL console statement failed");
            }
            page.error = Some(status.client_message(&e));
        }
    }
    render(&page)
}

pub(crate) async fn csv(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<SqlQuery>,
) -> Response {
    if q.q.trim().is_empty() {
        return PageError::new(
            ApiError::BadRequest("no query: add ?q=SELECT …".into()),
            &viewer,
        )
        .into_response();
    }
    let body = match state
        .engine
        .sql(&q.q)
        .await
        .and_then(|r| query::format::render(&r, query::format::OutputFormat::Csv))
    {
        Ok(b) => b,
        Err(e) => return PageError::new(e, &viewer).into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"vigil-query.csv\"",
            ),
        ],
        body,
    )
        .into_response()
}
