//! `/sessions/{id}`: one session's intent chain as a timeline, turn by turn —
//! prompt, plan and how it changed, model calls, each tool action with its
//! decision and result, network and MCP events, findings beside what they cite —
//! under a swimlane of the whole session. Built from `api::session_chain`, the
//! answer of `GET /api/sessions/{id}`.
//!
//! `/events/{id}`: one normalized event and the stored OTLP record it came from.

use std::collections::HashMap;

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use serde_json::Value;

use super::charts::{self, Placed, Swimlane};
use super::{Chrome, PageError, Viewer, format, render};
use crate::api::{lit, objects, session_chain};
use crate::{ApiError, AppState};

/// Characters of a prompt, command or output shown before "show more".
const SHOWN_CHARS: usize = 400;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ChainJson {
    session: HeadJson,
    turns: Vec<TurnJson>,
    findings: Vec<FindingJson>,
    auxiliary_sessions: Vec<AuxJson>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct HeadJson {
    session_id: String,
    agent: Option<String>,
    agent_version: Option<String>,
    user_id: Option<String>,
    host: Option<String>,
    service_name: Option<String>,
    started: Option<String>,
    last_seen: Option<String>,
    events: i64,
    turns: i64,
    tool_calls: i64,
    denials: i64,
    reviews_session: Option<String>,
    findings: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TurnJson {
    turn_index: i64,
    started: Option<String>,
    prompt: Option<String>,
    prompt_event_id: Option<String>,
    plan: Option<Vec<PlanStepJson>>,
    plan_changes: Option<PlanChangesJson>,
    model_calls: Vec<ModelJson>,
    actions: Vec<ActionJson>,
    events: Vec<EventJson>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PlanStepJson {
    step: String,
    status: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PlanChangesJson {
    added: Vec<String>,
    removed: Vec<String>,
    status_changed: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ModelJson {
    event_id: String,
    ts: Option<String>,
    position: u64,
    kind: String,
    model: Option<String>,
    input_tokens: Option<i64>,
    output_tokens: Option<i64>,
    duration_ms: Option<i64>,
    outcome: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ActionJson {
    tool_call_id: String,
    ts: Option<String>,
    position: u64,
    tool_name: Option<String>,
    command: Option<String>,
    decision: Option<String>,
    decision_source: Option<String>,
    ran: bool,
    outcome: Option<String>,
    exit_code: Option<i64>,
    output_bytes: Option<i64>,
    paths_read: Option<Vec<String>>,
    paths_written: Option<Vec<String>>,
    network_host: Option<String>,
    network_decision: Option<String>,
    mcp_server: Option<String>,
    silent: bool,
    steps: Vec<StepJson>,
    reviewed_by: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StepJson {
    event_id: String,
    kind: String,
    event_name: Option<String>,
    decision: Option<String>,
    decision_source: Option<String>,
    outcome: Option<String>,
    exit_code: Option<i64>,
    output_bytes: Option<i64>,
    network_decision: Option<String>,
    duration_ms: Option<i64>,
    text: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EventJson {
    event_id: String,
    ts: Option<String>,
    position: u64,
    kind: String,
    event_name: Option<String>,
    tool_name: Option<String>,
    command: Option<String>,
    decision: Option<String>,
    decision_source: Option<String>,
    outcome: Option<String>,
    network_host: Option<String>,
    network_decision: Option<String>,
    mcp_server: Option<String>,
    model: Option<String>,
    text: Option<String>,
    paths_read: Option<Vec<String>>,
    paths_written: Option<Vec<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FindingJson {
    finding_id: String,
    ts: Option<String>,
    rule_id: String,
    severity: String,
    title: String,
    description: String,
    event_ids: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AuxJson {
    session_id: String,
    agent: Option<String>,
    started: Option<String>,
    prompts: i64,
    events: i64,
}

/// Text that may be long: what is shown, and the whole if it was cut.
pub(crate) struct LongText {
    pub head: String,
    pub full: Option<String>,
}

impl LongText {
    fn of(text: &str) -> Self {
        let (head, full) = format::truncated(text, SHOWN_CHARS);
        LongText { head, full }
    }
}

/// A finding cited on a timeline item.
pub(crate) struct FindingRef {
    pub number: usize,
    pub severity: String,
    pub title: String,
    pub href: String,
    /// This item's place in the finding's sequence (`step 2 of 3`).
    pub step: String,
}

pub(crate) struct Badge {
    pub label: &'static str,
    pub class: &'static str,
    /// Who decided: `config`, `user`, `policy`, `sandbox`, `reviewer`, `proxy`…
    pub by: String,
}

fn badge(decision: Option<&str>, source: Option<&str>) -> Option<Badge> {
    format::decision(decision).map(|(label, class)| Badge {
        label,
        class,
        by: source.unwrap_or("").to_string(),
    })
}

pub(crate) struct StepView {
    pub anchor: String,
    pub href: String,
    pub kind: String,
    pub name: String,
    pub badge: Option<Badge>,
    pub detail: String,
    pub text: Option<LongText>,
    /// A finding cites this record.
    pub cited: bool,
}

pub(crate) struct ActionView {
    pub anchor: String,
    pub ts: String,
    pub tool: String,
    pub command: Option<LongText>,
    pub badge: Option<Badge>,
    pub result: String,
    pub silent: bool,
    pub reads: Vec<String>,
    pub writes: Vec<String>,
    pub network: Option<String>,
    pub network_refused: bool,
    pub mcp: Option<String>,
    pub steps: Vec<StepView>,
    pub findings: Vec<FindingRef>,
    pub reviewer: Option<ReviewerView>,
}

pub(crate) struct ReviewerView {
    pub href: String,
    pub label: String,
}

pub(crate) struct EventView {
    pub anchor: String,
    pub href: String,
    pub ts: String,
    pub kind: String,
    pub name: String,
    pub badge: Option<Badge>,
    pub summary: String,
    pub refused: bool,
    pub text: Option<LongText>,
    pub findings: Vec<FindingRef>,
}

pub(crate) struct ModelView {
    pub anchor: String,
    pub href: String,
    pub ts: String,
    pub kind: String,
    pub model: String,
    pub detail: String,
}

pub(crate) enum Item {
    Model(ModelView),
    Action(ActionView),
    Event(EventView),
}

pub(crate) struct PlanView {
    pub steps: Vec<(String, String)>,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub status_changed: Vec<String>,
    pub changed: bool,
}

pub(crate) struct TurnView {
    pub anchor: String,
    pub index: i64,
    pub started: String,
    pub prompt: Option<LongText>,
    pub prompt_anchor: String,
    pub prompt_href: String,
    pub prompt_findings: Vec<FindingRef>,
    pub plan: Option<PlanView>,
    pub items: Vec<Item>,
}

pub(crate) struct FindingView {
    pub anchor: String,
    pub number: usize,
    pub severity: String,
    pub title: String,
    pub description: String,
    pub rule_id: String,
    pub rule_href: String,
    pub ts: String,
    /// The cited events in order, each a link into the timeline.
    pub sequence: Vec<(String, String)>,
}

pub(crate) struct Fact {
    pub label: &'static str,
    pub value: String,
}

#[derive(Template)]
#[template(path = "session.html")]
pub(crate) struct SessionPage {
    chrome: Chrome,
    id: String,
    facts: Vec<Fact>,
    reviews: Option<(String, String)>,
    swimlane: Option<Swimlane>,
    findings: Vec<FindingView>,
    turns: Vec<TurnView>,
    auxiliary: Vec<(String, String)>,
    json_href: String,
    sql_href: String,
}

fn event_href(session: &str, event_id: &str) -> String {
    format!(
        "/events/{}?session={}",
        format::url_component(event_id),
        format::url_component(session)
    )
}

fn anchor(event_id: &str) -> String {
    format!("ev-{event_id}")
}

pub(crate) async fn page(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
) -> Response {
    let version = state.engine.store_version();
    let chain = match session_chain(&state.engine, &id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return PageError::new(ApiError::NotFound(format!("no session {id:?}")), &viewer)
                .into_response();
        }
        Err(e) => return PageError::new(e, &viewer).into_response(),
    };
    let chain: ChainJson = match serde_json::from_value(chain) {
        Ok(c) => c,
        Err(e) => {
            return PageError::new(
                ApiError::Query(query::Error::Internal(format!("the chain's JSON: {e}"))),
                &viewer,
            )
            .into_response();
        }
    };
    render(&build(
        chain,
        Chrome::new("sessions", &viewer).live(version),
    ))
}

fn build(chain: ChainJson, chrome: Chrome) -> SessionPage {
    let sid = chain.session.session_id.clone();
    // A finding cites events; the timeline shows it on the unit holding each:
    // the action for the records of one tool call, else the event itself.
    let mut unit_of: HashMap<&str, String> = HashMap::new();
    for t in &chain.turns {
        for a in &t.actions {
            for st in &a.steps {
                unit_of.insert(st.event_id.as_str(), format!("call-{}", a.tool_call_id));
            }
        }
    }
    let unit = |id: &str| unit_of.get(id).cloned().unwrap_or_else(|| anchor(id));
    let cited_events: std::collections::HashSet<&str> = chain
        .findings
        .iter()
        .flat_map(|f| f.event_ids.iter().map(String::as_str))
        .collect();
    // each finding's units in order (numbered F1… in time order)
    let units: Vec<Vec<String>> = chain
        .findings
        .iter()
        .map(|f| {
            let mut v: Vec<String> = Vec::new();
            for id in &f.event_ids {
                let u = unit(id);
                if !v.contains(&u) {
                    v.push(u);
                }
            }
            v
        })
        .collect();
    let mut cites: HashMap<&str, Vec<(usize, usize)>> = HashMap::new();
    for (i, us) in units.iter().enumerate() {
        for (k, u) in us.iter().enumerate() {
            cites.entry(u.as_str()).or_default().push((i, k));
        }
    }
    let refs_of = |unit: &str| -> Vec<FindingRef> {
        cites
            .get(unit)
            .into_iter()
            .flatten()
            .map(|&(i, k)| {
                let f = &chain.findings[i];
                FindingRef {
                    number: i + 1,
                    severity: f.severity.clone(),
                    title: f.title.clone(),
                    href: format!("#finding-{}", f.finding_id),
                    step: if units[i].len() > 1 {
                        format!("step {} of {}", k + 1, units[i].len())
                    } else {
                        String::new()
                    },
                }
            })
            .collect()
    };
    let aux: HashMap<&str, &AuxJson> = chain
        .auxiliary_sessions
        .iter()
        .map(|a| (a.session_id.as_str(), a))
        .collect();
    // what each event is called in a finding's sequence
    let mut labels: HashMap<String, String> = HashMap::new();
    let mut placed: Vec<Placed> = Vec::new();
    let place = |placed: &mut Vec<Placed>,
                 ts: &Option<String>,
                 lane,
                 class: &str,
                 target: &str,
                 label: String| {
        if let Some(ns) = ts.as_deref().and_then(format::time_ns) {
            placed.push(Placed {
                ts_ns: ns,
                lane,
                class: class.to_string(),
                href: format!("#{target}"),
                label,
            });
        }
    };
    let mut turns = Vec::new();
    for t in &chain.turns {
        let mut items: Vec<(u64, Item)> = Vec::new();
        for m in &t.model_calls {
            let mut detail = Vec::new();
            if let (Some(i), Some(o)) = (m.input_tokens, m.output_tokens) {
                detail.push(format!("{i} → {o} tokens"));
            } else if let Some(i) = m.input_tokens {
                detail.push(format!("{i} input tokens"));
            }
            if let Some(d) = m.duration_ms {
                detail.push(format::duration_ms(d));
            }
            if let Some(o) = &m.outcome {
                detail.push(o.clone());
            }
            let model = m.model.clone().unwrap_or_else(|| "model".into());
            place(
                &mut placed,
                &m.ts,
                1,
                "model",
                &anchor(&m.event_id),
                format!("model call: {model}"),
            );
            labels.insert(anchor(&m.event_id), format!("model call ({model})"));
            items.push((
                m.position,
                Item::Model(ModelView {
                    anchor: anchor(&m.event_id),
                    href: event_href(&sid, &m.event_id),
                    ts: m.ts.as_deref().map(format::time).unwrap_or_default(),
                    kind: m.kind.replace('_', " "),
                    model,
                    detail: detail.join(" · "),
                }),
            ));
        }
        for a in &t.actions {
            let tool = a.tool_name.clone().unwrap_or_else(|| "tool".into());
            let what = a.command.clone().unwrap_or_else(|| tool.clone());
            let call_anchor = format!("call-{}", a.tool_call_id);
            labels.insert(call_anchor.clone(), format::truncated(&what, 80).0);
            let class = a.decision.as_deref().unwrap_or("none");
            place(
                &mut placed,
                &a.ts,
                2,
                class,
                &call_anchor,
                format!(
                    "{} — {}",
                    format::truncated(&what, 80).0,
                    a.decision.as_deref().unwrap_or("no decision")
                ),
            );
            let mut result = Vec::new();
            if let Some(o) = &a.outcome {
                result.push(o.clone());
            }
            if let Some(c) = a.exit_code {
                result.push(format!("exit {c}"));
            }
            if a.silent {
                result.push("no visible output".into());
            } else if let Some(b) = a.output_bytes {
                result.push(format!("{} output", format::bytes(b)));
            }
            if !a.ran && a.outcome.is_none() {
                result.push("no result recorded".into());
            }
            let steps = a
                .steps
                .iter()
                .map(|s| {
                    let mut detail = Vec::new();
                    if let Some(o) = &s.outcome {
                        detail.push(o.clone());
                    }
                    if let Some(c) = s.exit_code {
                        detail.push(format!("exit {c}"));
                    }
                    if let Some(b) = s.output_bytes {
                        detail.push(format!("{} output", format::bytes(b)));
                    }
                    if let Some(n) = &s.network_decision {
                        detail.push(format!("proxy: {n}"));
                    }
                    if let Some(d) = s.duration_ms {
                        detail.push(format::duration_ms(d));
                    }
                    StepView {
                        anchor: anchor(&s.event_id),
                        href: event_href(&sid, &s.event_id),
                        kind: s.kind.replace('_', " "),
                        name: s.event_name.clone().unwrap_or_default(),
                        badge: badge(s.decision.as_deref(), s.decision_source.as_deref()),
                        detail: detail.join(" · "),
                        text: s.text.as_deref().map(LongText::of),
                        cited: cited_events.contains(s.event_id.as_str()),
                    }
                })
                .collect();
            let reviewer = a.reviewed_by.as_deref().map(|r| ReviewerView {
                href: format!("/sessions/{}", format::url_component(r)),
                label: match aux.get(r) {
                    Some(x) => format!(
                        "{} · {} events{}",
                        x.agent.as_deref().unwrap_or("reviewer"),
                        x.events,
                        x.started
                            .as_deref()
                            .map(|s| format!(" · started {}", format::time(s)))
                            .unwrap_or_default()
                    ),
                    None => r.to_string(),
                },
            });
            items.push((
                a.position,
                Item::Action(ActionView {
                    findings: refs_of(&call_anchor),
                    anchor: call_anchor,
                    ts: a.ts.as_deref().map(format::time).unwrap_or_default(),
                    tool,
                    command: a.command.as_deref().map(LongText::of),
                    badge: badge(a.decision.as_deref(), a.decision_source.as_deref()),
                    result: result.join(" · "),
                    silent: a.silent,
                    reads: a.paths_read.clone().unwrap_or_default(),
                    writes: a.paths_written.clone().unwrap_or_default(),
                    network: a.network_host.as_ref().map(|h| match &a.network_decision {
                        Some(d) => format!("{h} — proxy {d}"),
                        None => h.clone(),
                    }),
                    network_refused: a.network_decision.as_deref() == Some("deny"),
                    mcp: a.mcp_server.clone(),
                    steps,
                    reviewer,
                }),
            ));
        }
        for e in &t.events {
            let mut summary = Vec::new();
            if let Some(c) = &e.command {
                summary.push(c.clone());
            } else if let Some(tn) = &e.tool_name {
                summary.push(tn.clone());
            }
            if let Some(h) = &e.network_host {
                summary.push(match &e.network_decision {
                    Some(d) => format!("{h} — proxy {d}"),
                    None => h.clone(),
                });
            }
            if let Some(m) = &e.mcp_server
                && e.kind != "session_start"
            {
                summary.push(format!("MCP server {m}"));
            }
            if let Some(m) = &e.model {
                summary.push(m.clone());
            }
            if let Some(o) = &e.outcome {
                summary.push(o.clone());
            }
            for (what, paths) in [("read", &e.paths_read), ("wrote", &e.paths_written)] {
                if let Some(p) = paths {
                    summary.push(format!("{what} {}", p.join(", ")));
                }
            }
            let refused = e.network_decision.as_deref() == Some("deny")
                || matches!(e.decision.as_deref(), Some("deny" | "abort"));
            let lane = if e.network_host.is_some()
                || e.mcp_server.is_some() && e.kind != "session_start"
            {
                3
            } else if e.kind == "prompt" {
                0
            } else {
                2
            };
            let class = if refused { "deny" } else { "event" };
            let label = format!(
                "{}{}",
                e.kind.replace('_', " "),
                summary
                    .first()
                    .map(|s| format!(": {s}"))
                    .unwrap_or_default()
            );
            place(
                &mut placed,
                &e.ts,
                lane,
                class,
                &anchor(&e.event_id),
                format::truncated(&label, 100).0,
            );
            labels.insert(anchor(&e.event_id), format::truncated(&label, 80).0);
            items.push((
                e.position,
                Item::Event(EventView {
                    anchor: anchor(&e.event_id),
                    href: event_href(&sid, &e.event_id),
                    ts: e.ts.as_deref().map(format::time).unwrap_or_default(),
                    kind: e.kind.replace('_', " "),
                    name: e.event_name.clone().unwrap_or_default(),
                    badge: badge(e.decision.as_deref(), e.decision_source.as_deref()),
                    summary: summary.join(" · "),
                    refused,
                    text: e.text.as_deref().map(LongText::of),
                    findings: refs_of(&anchor(&e.event_id)),
                }),
            ));
        }
        items.sort_by_key(|(p, _)| *p);
        let prompt_id = t.prompt_event_id.clone().unwrap_or_default();
        if t.prompt.is_some() {
            place(
                &mut placed,
                &t.started,
                0,
                "prompt",
                &anchor(&prompt_id),
                format!("turn {} prompt", t.turn_index),
            );
            labels.insert(anchor(&prompt_id), format!("turn {} prompt", t.turn_index));
        }
        let plan = t.plan.as_ref().map(|steps| {
            let changes = t.plan_changes.as_ref();
            PlanView {
                steps: steps
                    .iter()
                    .map(|s| (s.step.clone(), s.status.clone()))
                    .collect(),
                added: changes.map(|c| c.added.clone()).unwrap_or_default(),
                removed: changes.map(|c| c.removed.clone()).unwrap_or_default(),
                status_changed: changes
                    .map(|c| c.status_changed.clone())
                    .unwrap_or_default(),
                changed: changes.is_some(),
            }
        });
        turns.push(TurnView {
            anchor: format!("turn-{}", t.turn_index),
            index: t.turn_index,
            started: t.started.as_deref().map(format::time).unwrap_or_default(),
            prompt: t.prompt.as_deref().map(LongText::of),
            prompt_anchor: anchor(&prompt_id),
            prompt_href: event_href(&sid, &prompt_id),
            prompt_findings: refs_of(&anchor(&prompt_id)),
            plan,
            items: items.into_iter().map(|(_, i)| i).collect(),
        });
    }
    let findings: Vec<FindingView> = chain
        .findings
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let finding_anchor = format!("finding-{}", f.finding_id);
            place(
                &mut placed,
                &f.ts,
                4,
                &f.severity,
                &finding_anchor,
                format!("finding {}: {}", i + 1, f.title),
            );
            FindingView {
                anchor: finding_anchor,
                number: i + 1,
                severity: f.severity.clone(),
                title: f.title.clone(),
                description: f.description.clone(),
                rule_href: format!("/rules#rule-{}", format::url_component(&f.rule_id)),
                rule_id: f.rule_id.clone(),
                ts: f.ts.as_deref().map(format::time).unwrap_or_default(),
                sequence: units[i]
                    .iter()
                    .map(|u| {
                        (
                            format!("#{u}"),
                            labels.get(u).cloned().unwrap_or_else(|| u.clone()),
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let h = &chain.session;
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let facts = vec![
        Fact {
            label: "agent",
            value: format!(
                "{}{}",
                opt(&h.agent),
                h.agent_version
                    .as_deref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default()
            ),
        },
        Fact {
            label: "user",
            value: opt(&h.user_id),
        },
        Fact {
            label: "host",
            value: opt(&h.host),
        },
        Fact {
            label: "service",
            value: opt(&h.service_name),
        },
        Fact {
            label: "started",
            value: h.started.as_deref().map(format::time).unwrap_or_default(),
        },
        Fact {
            label: "last seen",
            value: h.last_seen.as_deref().map(format::time).unwrap_or_default(),
        },
        Fact {
            label: "turns",
            value: h.turns.to_string(),
        },
        Fact {
            label: "tool calls",
            value: h.tool_calls.to_string(),
        },
        Fact {
            label: "denials",
            value: h.denials.to_string(),
        },
        Fact {
            label: "findings",
            value: h.findings.to_string(),
        },
        Fact {
            label: "events",
            value: h.events.to_string(),
        },
    ];
    let sql = format!(
        "SELECT position, ts, kind, tool_name, command, decision, decision_source, outcome \
         FROM agent_events WHERE session_id = {} ORDER BY position",
        lit(&sid)
    );
    SessionPage {
        chrome,
        reviews: h.reviews_session.as_deref().map(|r| {
            (
                format!("/sessions/{}", format::url_component(r)),
                r.to_string(),
            )
        }),
        swimlane: charts::swimlane(placed),
        findings,
        turns,
        auxiliary: chain
            .auxiliary_sessions
            .iter()
            .map(|a| {
                (
                    format!("/sessions/{}", format::url_component(&a.session_id)),
                    format!(
                        "{} ({} prompts, {} events)",
                        a.session_id, a.prompts, a.events
                    ),
                )
            })
            .collect(),
        json_href: format!("/api/sessions/{}", format::url_component(&sid)),
        sql_href: format::sql_href(&sql),
        facts,
        id: sid,
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct EventQuery {
    session: Option<String>,
}

/// One stored value as a page shows it: text as is, everything else as JSON;
/// maps as their entries.
pub(crate) enum Shown {
    Null,
    Text(String),
    Entries(Vec<(String, String)>),
}

fn shown(v: &Value) -> Shown {
    match v {
        Value::Null => Shown::Null,
        Value::String(s) => Shown::Text(s.clone()),
        Value::Object(m) => Shown::Entries(
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_string),
                    )
                })
                .collect(),
        ),
        other => Shown::Text(other.to_string()),
    }
}

#[derive(Template)]
#[template(path = "event.html")]
pub(crate) struct EventPage {
    chrome: Chrome,
    id: String,
    session_href: Option<String>,
    timeline_href: Option<String>,
    event: Vec<(String, Shown)>,
    source_table: String,
    sources: Vec<Vec<(String, Shown)>>,
}

pub(crate) async fn event(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    Query(q): Query<EventQuery>,
) -> Response {
    match event_page(&state, &viewer, &id, q.session.as_deref()).await {
        Ok(p) => render(&p),
        Err(e) => PageError::new(e, &viewer).into_response(),
    }
}

async fn event_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    session: Option<&str>,
) -> Result<EventPage, ApiError> {
    let e = &state.engine;
    // with its session the view reads only that session's rows
    let sql = match session {
        Some(s) => format!(
            "SELECT * FROM agent_events WHERE session_id = {} AND event_id = {}",
            lit(s),
            lit(id)
        ),
        None => format!(
            "SELECT * FROM agent_events_raw WHERE event_id = {} ORDER BY wal_seq LIMIT 1",
            lit(id)
        ),
    };
    let row = objects(e, &sql)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("no event {id:?}")))?;
    let text = |k: &str| row.get(k).and_then(Value::as_str).map(str::to_string);
    let source_table = text("source").unwrap_or_default();
    let source_sql = match source_table.as_str() {
        "otlp_spans" => match (text("trace_id"), text("span_id")) {
            (Some(t), Some(s)) => Some(format!(
                "SELECT * FROM otlp_spans WHERE trace_id = {} AND span_id = {}",
                lit(&t),
                lit(&s)
            )),
            _ => None,
        },
        "otlp_logs" => row.get("wal_seq").and_then(Value::as_u64).zip(text("ts")).map(|(seq, ts)| {
            let ns = format::time_ns(&ts).unwrap_or(0);
            let trace = match text("trace_id") {
                Some(t) => format!("trace_id = {}", lit(&t)),
                None => "(trace_id IS NULL OR trace_id = '00000000000000000000000000000000')".into(),
            };
            format!(
                "SELECT * FROM otlp_logs WHERE wal_seq = {seq} AND CAST(ts AS BIGINT) = {ns} AND {trace}"
            )
        }),
        _ => None,
    };
    let sources = match source_sql {
        Some(sql) => objects(e, &sql)
            .await?
            .into_iter()
            .map(|r| r.iter().map(|(k, v)| (k.clone(), shown(v))).collect())
            .collect(),
        None => Vec::new(),
    };
    let sid = text("session_id");
    Ok(EventPage {
        chrome: Chrome::new("sessions", viewer),
        id: id.to_string(),
        session_href: sid
            .as_deref()
            .map(|s| format!("/sessions/{}", format::url_component(s))),
        timeline_href: sid
            .as_deref()
            .map(|s| format!("/sessions/{}#{}", format::url_component(s), anchor(id))),
        event: row.iter().map(|(k, v)| (k.clone(), shown(v))).collect(),
        source_table,
        sources,
    })
}

#[cfg(test)]
mod tests {
    use askama::Template as _;
    use serde_json::json;

    use super::*;

    const PAYLOADS: [&str; 6] = [
        "<script>window.pwned=1</script>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "javascript:alert(1)",
        "</textarea>\"><b>",
        "' onmouseover='alert(1)",
    ];

    #[test]
    fn attacker_text_is_escaped_everywhere_on_the_session_page() {
        let p = PAYLOADS.join(" ");
        let chain = json!({
            "session": {"session_id": p, "agent": p, "user_id": p, "host": p, "reviews_session": p},
            "turns": [{
                "turn_index": 1, "prompt": p, "prompt_event_id": "e1",
                "plan": [{"step": p, "status": p}],
                "plan_changes": {"added": [p], "removed": [p], "status_changed": [p]},
                "model_calls": [{"event_id": "e2", "position": 2, "kind": "model_call", "model": p, "outcome": p}],
                "actions": [{
                    "tool_call_id": p, "position": 3, "tool_name": p, "command": p, "decision": "deny",
                    "decision_source": p, "paths_read": [p], "paths_written": [p], "network_host": p,
                    "mcp_server": p, "reviewed_by": p,
                    "steps": [{"event_id": "e3", "kind": "tool_result", "event_name": p, "text": p}]
                }],
                "events": [{"event_id": "e4", "position": 4, "kind": "network", "network_host": p, "text": p}]
            }],
            "findings": [{"finding_id": "f1", "rule_id": p, "severity": "high", "title": p,
                          "description": p, "event_ids": ["e3", "e4"]}],
            "auxiliary_sessions": [{"session_id": p, "agent": p}]
        });
        let chain: ChainJson = serde_json::from_value(chain).unwrap();
        let html = build(chain, Chrome::new("sessions", &Viewer::default()))
            .render()
            .unwrap();
        for raw in [
            "<script>window",
            "<img src=x",
            "<svg onload",
            "</textarea>\"",
            "' onmouseover='",
        ] {
            assert!(!html.contains(raw), "{raw:?} unescaped");
        }
        assert!(
            html.contains("&#60;script&#62;window.pwned=1&#60;/script&#62;")
                || html.contains("&lt;script&gt;window.pwned=1"),
            "the payload is shown as text"
        );
        assert!(!html.contains("href=\"javascript:"), "no javascript: link");
        // ids from data only ever sit inside our own paths, percent-encoded
        assert!(html.contains("/sessions/%3Cscript%3E"), "{html}");
        // the finding's sequence connects the action and the network event
        assert!(
            html.contains("step 1 of 2") && html.contains("step 2 of 2"),
            "{html}"
        );
    }
}
