//! The list pages — sessions, findings, rules — and the set-up hints an empty
//! store shows. Each list is the JSON API's answer (`api::list_sessions`,
//! `api::list_findings`) laid out as a table.

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use serde_json::Value;

use super::{Chrome, PageError, Viewer, format, render};
use crate::AppState;
use crate::api::{FindingsQuery, SESSION_SORTS, SessionsQuery, list_findings, list_sessions};

const PAGE_SIZE: usize = 50;

/// Where agents send their telemetry, as the set-up snippets show it.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub codex: String,
    pub claude: String,
    pub token_note: bool,
}

impl Setup {
    pub(crate) fn of(state: &AppState) -> Self {
        let http = &state.endpoints.otlp_http;
        let grpc = &state.endpoints.otlp_grpc;
        let ingest_token = state.tokens.required(schemas::auth::Access::Ingest);
        let codex_headers = if ingest_token {
            ", headers = { \"authorization\" = \"Bearer <token>\" }"
        } else {
            ""
        };
        let claude_headers = if ingest_token {
            "\nOTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer <token>'"
        } else {
            ""
        };
        Setup {
            codex: format!(
                "# ~/.codex/config.toml\n[otel]\nlog_user_prompt = true\n\
                 exporter = {{ otlp-http = {{ endpoint = \"{http}/v1/logs\", protocol = \"json\"{codex_headers} }} }}\n\
                 trace_exporter = {{ otlp-http = {{ endpoint = \"{http}/v1/traces\", protocol = \"json\"{codex_headers} }} }}"
            ),
            claude: format!(
                "CLAUDE_CODE_ENABLE_TELEMETRY=1\nOTEL_LOGS_EXPORTER=otlp\nOTEL_METRICS_EXPORTER=otlp\n\
                 OTEL_EXPORTER_OTLP_PROTOCOL=grpc\nOTEL_EXPORTER_OTLP_ENDPOINT={grpc}\n\
                 OTEL_LOG_USER_PROMPTS=1{claude_headers}"
            ),
            token_note: ingest_token,
        }
    }
}

fn str_of(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or("").to_string()
}
fn int_of(v: &Value, k: &str) -> i64 {
    v[k].as_i64().unwrap_or(0)
}

pub(crate) struct SessionRow {
    pub href: String,
    pub id: String,
    pub agent: String,
    pub user: String,
    pub host: String,
    pub started: String,
    pub last_seen: String,
    pub turns: i64,
    pub tool_calls: i64,
    pub denials: i64,
    pub findings: i64,
    pub max_severity: String,
    pub auxiliary: bool,
}

pub(crate) struct SortLink {
    pub label: &'static str,
    pub href: String,
    /// `▲` / `▼` on the column sorted by.
    pub arrow: &'static str,
    pub numeric: bool,
}

#[derive(Template)]
#[template(path = "sessions.html")]
pub(crate) struct SessionsPage {
    chrome: Chrome,
    f: SessionFilters,
    total: i64,
    rows: Vec<SessionRow>,
    columns: Vec<SortLink>,
    prev: Option<String>,
    next: Option<String>,
    first_row: usize,
    last_row: usize,
    filtered: bool,
    empty_store: bool,
    setup: Setup,
    severities: Vec<&'static str>,
}

/// The filter form's fields, as typed.
#[derive(Debug, Default, Deserialize, Clone)]
pub(crate) struct SessionFilters {
    #[serde(default)]
    pub agent: String,
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub since: String,
    #[serde(default)]
    pub until: String,
    /// `yes`, `no` or empty.
    #[serde(default)]
    pub has_findings: String,
    #[serde(default)]
    pub min_severity: String,
    #[serde(default)]
    pub q: String,
    #[serde(default)]
    pub sort: String,
    #[serde(default)]
    pub dir: String,
    #[serde(default)]
    pub page: usize,
    #[serde(default)]
    pub auxiliary: String,
}

fn some(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

impl SessionFilters {
    fn query(&self) -> SessionsQuery {
        SessionsQuery {
            agent: some(&self.agent),
            user: some(&self.user),
            host: some(&self.host),
            since: some(&self.since),
            until: some(&self.until),
            has_findings: match self.has_findings.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            min_severity: some(&self.min_severity),
            q: some(&self.q),
            include_auxiliary: self.auxiliary == "yes",
            sort: some(&self.sort),
            dir: some(&self.dir),
            limit: Some(PAGE_SIZE),
            offset: Some(self.page * PAGE_SIZE),
        }
    }

    /// This listing's URL with some fields changed.
    fn href(&self, sort: Option<(&str, &str)>, page: usize) -> String {
        let (sort, dir) = sort.unwrap_or((self.sort.as_str(), self.dir.as_str()));
        let mut parts = Vec::new();
        for (k, v) in [
            ("agent", self.agent.as_str()),
            ("user", &self.user),
            ("host", &self.host),
            ("since", &self.since),
            ("until", &self.until),
            ("has_findings", &self.has_findings),
            ("min_severity", &self.min_severity),
            ("q", &self.q),
            ("auxiliary", &self.auxiliary),
            ("sort", sort),
            ("dir", dir),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", format::url_component(v)));
            }
        }
        if page > 0 {
            parts.push(format!("page={page}"));
        }
        if parts.is_empty() {
            "/sessions".to_string()
        } else {
            format!("/sessions?{}", parts.join("&"))
        }
    }

    fn is_filtered(&self) -> bool {
        [
            &self.agent,
            &self.user,
            &self.host,
            &self.since,
            &self.until,
            &self.has_findings,
            &self.min_severity,
            &self.q,
        ]
        .iter()
        .any(|v| !v.trim().is_empty())
    }
}

pub(crate) async fn sessions(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(f): Query<SessionFilters>,
) -> Response {
    let version = state.engine.store_version();
    let answer = match list_sessions(&state.engine, &f.query()).await {
        Ok(a) => a,
        Err(e) => return PageError::new(e, &viewer).into_response(),
    };
    let total = int_of(&answer, "total");
    let rows: Vec<SessionRow> = answer["sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let id = str_of(s, "session_id");
            SessionRow {
                href: format!("/sessions/{}", format::url_component(&id)),
                agent: str_of(s, "agent"),
                user: str_of(s, "user_id"),
                host: str_of(s, "host"),
                started: s["started"].as_str().map(format::time).unwrap_or_default(),
                last_seen: s["last_seen"]
                    .as_str()
                    .map(format::time)
                    .unwrap_or_default(),
                turns: int_of(s, "turns"),
                tool_calls: int_of(s, "tool_calls"),
                denials: int_of(s, "denials"),
                findings: int_of(s, "findings"),
                max_severity: str_of(s, "max_severity"),
                auxiliary: s["is_auxiliary"].as_bool().unwrap_or(false),
                id,
            }
        })
        .collect();
    let sort = if f.sort.is_empty() {
        "last_seen"
    } else {
        f.sort.as_str()
    };
    let dir = if f.dir == "asc" { "asc" } else { "desc" };
    let labels = [
        ("agent", "Agent", false),
        ("user_id", "User", false),
        ("started", "Started", false),
        ("last_seen", "Last seen", false),
        ("turns", "Turns", true),
        ("tool_calls", "Tool calls", true),
        ("denials", "Denials", true),
        ("findings", "Findings", true),
    ];
    debug_assert!(labels.iter().all(|(k, ..)| SESSION_SORTS.contains(k)));
    let columns = labels
        .iter()
        .map(|&(key, label, numeric)| {
            let current = key == sort;
            let next_dir = if current && dir == "desc" {
                "asc"
            } else {
                "desc"
            };
            SortLink {
                label,
                href: f.href(Some((key, next_dir)), 0),
                arrow: match (current, dir) {
                    (false, _) => "",
                    (true, "asc") => "▲",
                    (true, _) => "▼",
                },
                numeric,
            }
        })
        .collect();
    let shown_to = f.page * PAGE_SIZE + rows.len();
    let page = SessionsPage {
        chrome: Chrome::new("sessions", &viewer).live(version),
        prev: (f.page > 0).then(|| f.href(None, f.page - 1)),
        next: ((shown_to as i64) < total).then(|| f.href(None, f.page + 1)),
        first_row: if rows.is_empty() {
            0
        } else {
            f.page * PAGE_SIZE + 1
        },
        last_row: shown_to,
        filtered: f.is_filtered(),
        empty_store: total == 0 && !f.is_filtered(),
        setup: Setup::of(&state),
        severities: schemas::findings::Severity::ALL
            .iter()
            .map(|s| s.as_str())
            .collect(),
        total,
        rows,
        columns,
        f,
    };
    render(&page)
}

pub(crate) struct FindingRow {
    pub ts: String,
    pub severity: String,
    pub rule_id: String,
    pub rule_href: String,
    pub title: String,
    pub description: String,
    pub session_id: String,
    pub session_href: String,
    pub event_href: String,
    pub agent: String,
    pub user: String,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct FindingFilters {
    #[serde(default)]
    pub rule: String,
    #[serde(default)]
    pub severity: String,
    #[serde(default)]
    pub agent: String,
    #[serde(default)]
    pub since: String,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub page: usize,
}

#[derive(Template)]
#[template(path = "findings.html")]
pub(crate) struct FindingsPage {
    chrome: Chrome,
    f: FindingFilters,
    total: i64,
    rows: Vec<FindingRow>,
    rules: Vec<(String, String)>,
    severities: Vec<&'static str>,
    prev: Option<String>,
    next: Option<String>,
}

impl FindingFilters {
    fn href(&self, page: usize) -> String {
        let mut parts: Vec<String> = [
            ("rule", &self.rule),
            ("severity", &self.severity),
            ("agent", &self.agent),
            ("since", &self.since),
            ("until", &self.until),
        ]
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", format::url_component(v)))
        .collect();
        if page > 0 {
            parts.push(format!("page={page}"));
        }
        format!("/findings?{}", parts.join("&"))
    }
}

pub(crate) async fn findings(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Query(f): Query<FindingFilters>,
) -> Response {
    let q = FindingsQuery {
        rule: some(&f.rule),
        severity: some(&f.severity),
        session: None,
        agent: some(&f.agent),
        since: some(&f.since),
        until: some(&f.until),
        limit: Some(PAGE_SIZE),
        offset: Some(f.page * PAGE_SIZE),
    };
    let answer = match list_findings(&state.engine, &q).await {
        Ok(a) => a,
        Err(e) => return PageError::new(e, &viewer).into_response(),
    };
    let total = int_of(&answer, "total");
    let rows: Vec<FindingRow> = answer["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| {
            let sid = str_of(r, "session_id");
            let session_href = format!("/sessions/{}", format::url_component(&sid));
            FindingRow {
                ts: r["ts"].as_str().map(format::time).unwrap_or_default(),
                severity: str_of(r, "severity"),
                rule_href: format!(
                    "/rules#rule-{}",
                    format::url_component(&str_of(r, "rule_id"))
                ),
                rule_id: str_of(r, "rule_id"),
                title: str_of(r, "title"),
                description: str_of(r, "description"),
                event_href: format::finding_href(&sid, &r["event_ids"]),
                session_href,
                session_id: sid,
                agent: str_of(r, "agent"),
                user: str_of(r, "user_id"),
            }
        })
        .collect();
    let shown_to = f.page * PAGE_SIZE + rows.len();
    let page = FindingsPage {
        chrome: Chrome::new("findings", &viewer),
        total,
        rows,
        rules: state
            .rules
            .rules()
            .iter()
            .map(|r| (r.id.clone(), r.title.clone()))
            .collect(),
        severities: schemas::findings::Severity::ALL
            .iter()
            .map(|s| s.as_str())
            .collect(),
        prev: (f.page > 0).then(|| f.href(f.page - 1)),
        next: ((shown_to as i64) < total).then(|| f.href(f.page + 1)),
        f,
    };
    render(&page)
}

pub(crate) struct RuleRow {
    pub id: String,
    pub anchor: String,
    pub title: String,
    pub severity: String,
    pub description: String,
    pub source: String,
    pub format: &'static str,
    pub definition: String,
    pub findings_href: String,
}

#[derive(Template)]
#[template(path = "rules.html")]
pub(crate) struct RulesPage {
    chrome: Chrome,
    digest: String,
    rules: Vec<RuleRow>,
}

pub(crate) async fn rules(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
) -> Response {
    let rules = state
        .rules
        .rules()
        .iter()
        .map(|r| RuleRow {
            anchor: format!("rule-{}", format::url_component(&r.id)),
            findings_href: format!("/findings?rule={}", format::url_component(&r.id)),
            id: r.id.clone(),
            title: r.title.clone(),
            severity: r.severity.as_str().to_string(),
            description: r.description.clone(),
            source: r.source.clone(),
            format: match r.body {
                query::detect::RuleBody::Sigma => "Sigma",
                _ => "TOML",
            },
            definition: r.definition.clone(),
        })
        .collect();
    render(&RulesPage {
        chrome: Chrome::new("rules", &viewer),
        digest: state.rules.digest().to_string(),
        rules,
    })
}
