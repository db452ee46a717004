//! The recorded scenarios of `fixtures/scenarios/`, normalized request by request
//! and checked against their `scenario.json`: every per-tool-call fact the rows
//! give (tool, command or summary, paths, host, MCP server, decision and its
//! source, whether it ran, its turn) and the per-session counts.
//!
//! `schemas` depends on no other crate, so the files are read from the
//! workspace, decoded by the small OTLP/JSON reader below (the collector's is the
//! lenient one), and the rows merged per tool call the way the `agent_actions`
//! view does (query/src/views.rs); the e2e tests run the view itself.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use serde_json::{Value, json};

use super::{AgentEvent, from_logs, from_spans};

// ---- OTLP/JSON, as the fixtures write it (camelCase, hex ids, int64 as strings)

fn uint(v: Option<&Value>) -> u64 {
    match v {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(Value::Number(n)) => n.as_u64().unwrap_or(0),
        _ => 0,
    }
}

fn hex_id(v: Option<&Value>) -> Vec<u8> {
    let s = v.and_then(Value::as_str).unwrap_or("");
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex id"))
        .collect()
}

fn any_value(v: &Value) -> AnyValue {
    use any_value::Value as V;
    let value = if let Some(s) = v.get("stringValue").and_then(Value::as_str) {
        Some(V::StringValue(s.into()))
    } else if let Some(i) = v.get("intValue") {
        Some(V::IntValue(match i {
            Value::String(s) => s.parse().expect("int"),
            n => n.as_i64().expect("int"),
        }))
    } else if let Some(d) = v.get("doubleValue") {
        Some(V::DoubleValue(d.as_f64().expect("double")))
    } else if let Some(b) = v.get("boolValue") {
        Some(V::BoolValue(b.as_bool().expect("bool")))
    } else if let Some(a) = v.get("arrayValue") {
        Some(V::ArrayValue(ArrayValue {
            values: list(a, "values").iter().map(any_value).collect(),
        }))
    } else {
        v.get("kvlistValue").map(|kv| {
            V::KvlistValue(KeyValueList {
                values: attributes(kv, "values"),
            })
        })
    };
    AnyValue { value }
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn attributes(v: &Value, key: &str) -> Vec<KeyValue> {
    list(v, key)
        .iter()
        .map(|kv| KeyValue {
            key: kv["key"].as_str().expect("key").into(),
            value: kv.get("value").filter(|v| !v.is_null()).map(any_value),
            ..Default::default()
        })
        .collect()
}

fn resource(r: &Value) -> Option<Resource> {
    Some(Resource {
        attributes: attributes(r.get("resource")?, "attributes"),
        ..Default::default()
    })
}

fn scope(s: &Value) -> Option<InstrumentationScope> {
    let sc = s.get("scope")?;
    Some(InstrumentationScope {
        name: sc.get("name").and_then(Value::as_str).unwrap_or("").into(),
        version: sc
            .get("version")
            .and_then(Value::as_str)
            .unwrap_or("")
            .into(),
        ..Default::default()
    })
}

fn traces(doc: &Value) -> ExportTraceServiceRequest {
    let span_of = |s: &Value| Span {
        trace_id: hex_id(s.get("traceId")),
        span_id: hex_id(s.get("spanId")),
        parent_span_id: hex_id(s.get("parentSpanId")),
        name: s["name"].as_str().unwrap_or("").into(),
        kind: uint(s.get("kind")) as i32,
        start_time_unix_nano: uint(s.get("startTimeUnixNano")),
        end_time_unix_nano: uint(s.get("endTimeUnixNano")),
        attributes: attributes(s, "attributes"),
        events: list(s, "events")
            .iter()
            .map(|e| span::Event {
                time_unix_nano: uint(e.get("timeUnixNano")),
                name: e["name"].as_str().unwrap_or("").into(),
                attributes: attributes(e, "attributes"),
                ..Default::default()
            })
            .collect(),
        status: s.get("status").map(|st| Status {
            code: uint(st.get("code")) as i32,
            message: st
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("")
                .into(),
        }),
        ..Default::default()
    };
    ExportTraceServiceRequest {
        resource_spans: list(doc, "resourceSpans")
            .iter()
            .map(|r| ResourceSpans {
                resource: resource(r),
                scope_spans: list(r, "scopeSpans")
                    .iter()
                    .map(|s| ScopeSpans {
                        scope: scope(s),
                        spans: list(s, "spans").iter().map(span_of).collect(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    }
}

fn logs(doc: &Value) -> ExportLogsServiceRequest {
    let record_of = |r: &Value| LogRecord {
        time_unix_nano: uint(r.get("timeUnixNano")),
        observed_time_unix_nano: uint(r.get("observedTimeUnixNano")),
        trace_id: hex_id(r.get("traceId")),
        span_id: hex_id(r.get("spanId")),
        event_name: r
            .get("eventName")
            .and_then(Value::as_str)
            .unwrap_or("")
            .into(),
        severity_text: r
            .get("severityText")
            .and_then(Value::as_str)
            .unwrap_or("")
            .into(),
        body: r.get("body").filter(|b| !b.is_null()).map(any_value),
        attributes: attributes(r, "attributes"),
        ..Default::default()
    };
    ExportLogsServiceRequest {
        resource_logs: list(doc, "resourceLogs")
            .iter()
            .map(|r| ResourceLogs {
                resource: resource(r),
                scope_logs: list(r, "scopeLogs")
                    .iter()
                    .map(|s| ScopeLogs {
                        scope: scope(s),
                        log_records: list(s, "logRecords").iter().map(record_of).collect(),
                        ..Default::default()
                    })
                    .collect(),
                ..Default::default()
            })
            .collect(),
    }
}

fn scenario_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/scenarios")
        .join(name)
}

/// Every row of the scenario, request by request as the collector normalizes
/// them, each with the request's order (the WAL sequence the view dedups by).
fn normalize(dir: &Path) -> Vec<(usize, AgentEvent)> {
    let manifest = std::fs::read_to_string(dir.join("manifest.jsonl")).expect("manifest");
    let mut rows = Vec::new();
    for (seq, line) in manifest
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
    {
        let m: Value = serde_json::from_str(line).expect("manifest line");
        let file = m["file"].as_str().expect("file");
        let doc: Value =
            serde_json::from_slice(&std::fs::read(dir.join(file)).expect("request body"))
                .expect("OTLP/JSON");
        let received = (m["time"].as_f64().unwrap_or(0.0) * 1e9) as i64;
        let events = match m["path"].as_str() {
            Some("/v1/traces") => from_spans(&traces(&doc), received),
            Some("/v1/logs") => from_logs(&logs(&doc), received),
            _ => Vec::new(),
        };
        rows.extend(events.into_iter().map(|e| (seq, e)));
    }
    rows
}

// ---- the `agent_events` / `agent_actions` views, for the facts compared here

/// The view's dedup: one row per (session, event id), from the earliest request.
fn dedup(rows: Vec<(usize, AgentEvent)>) -> Vec<AgentEvent> {
    let mut seen = BTreeSet::new();
    let mut rows = rows;
    rows.sort_by_key(|(seq, _)| *seq);
    rows.into_iter()
        .filter(|(_, e)| seen.insert((e.session_id.clone(), e.event_id.clone())))
        .map(|(_, e)| e)
        .collect()
}

/// The view's order within a session: time, vendor sequence (NULLs last), event id.
fn order_key(e: &AgentEvent) -> (i64, bool, i64, String) {
    (
        e.ts,
        e.seq.is_none(),
        e.seq.unwrap_or(0),
        e.event_id.clone(),
    )
}

fn decision_rank(d: Option<&str>) -> u8 {
    match d {
        Some("deny") => 4,
        Some("abort") => 3,
        Some("ask") => 2,
        Some("allow") => 1,
        _ => 0,
    }
}

/// One tool call's facts as `agent_actions` merges them, keyed as the expectations are.
fn actions(events: &[AgentEvent]) -> BTreeMap<(String, String), Value> {
    let mut by_call: BTreeMap<(String, String), Vec<&AgentEvent>> = BTreeMap::new();
    for e in events {
        if let (Some(s), Some(t)) = (&e.session_id, &e.tool_call_id) {
            by_call.entry((s.clone(), t.clone())).or_default().push(e);
        }
    }
    let turn_of = |e: &AgentEvent| {
        events
            .iter()
            .filter(|p| {
                p.session_id == e.session_id && p.kind == "prompt" && order_key(p) <= order_key(e)
            })
            .count()
    };
    by_call
        .into_iter()
        .map(|(key, rows)| {
            let max_str = |f: fn(&AgentEvent) -> Option<&str>| rows.iter().filter_map(|e| f(e)).max();
            let mut commands: Vec<&&AgentEvent> =
                rows.iter().filter(|e| e.command.is_some()).collect();
            commands.sort_by_key(|e| (e.source != "otlp_logs", e.ts));
            let top = rows
                .iter()
                .map(|e| decision_rank(e.decision))
                .max()
                .unwrap_or(0);
            let mut deciders: Vec<&&AgentEvent> = rows
                .iter()
                .filter(|e| top > 0 && decision_rank(e.decision) == top && e.decision_source.is_some())
                .collect();
            deciders.sort_by_key(|e| order_key(e));
            let paths = |f: fn(&AgentEvent) -> &Vec<String>| {
                rows.iter()
                    .flat_map(|e| f(e).iter().cloned())
                    .collect::<BTreeSet<_>>()
            };
            let ran = rows
                .iter()
                .any(|e| matches!(e.outcome.as_deref(), Some("success" | "failure")));
            let span_bytes = rows
                .iter()
                .filter(|e| e.source == "otlp_spans")
                .filter_map(|e| e.output_bytes)
                .max();
            let output_bytes = span_bytes.or_else(|| rows.iter().filter_map(|e| e.output_bytes).max());
            let decision = ["deny", "abort", "ask", "allow"]
                .into_iter()
                .find(|d| decision_rank(Some(d)) == top);
            let action = json!({
                "agent": max_str(|e| e.agent.as_deref()),
                "turn": rows.iter().map(|e| turn_of(e)).max(),
                "tool_name": max_str(|e| e.tool_name.as_deref()),
                "command": commands.first().and_then(|e| e.command.clone()),
                "decision": decision,
                "decision_source": deciders.first().and_then(|e| e.decision_source),
                "ran": ran,
                "paths_read": paths(|e| &e.paths_read),
                "paths_written": paths(|e| &e.paths_written),
                "network_host": max_str(|e| e.network_host.as_deref()),
                "mcp_server": max_str(|e| e.mcp_server.as_deref()),
                "silent": ran && output_bytes == Some(0),
                "rows": rows.iter().map(|e| json!([e.kind, e.decision, e.decision_source, e.outcome])).collect::<Vec<_>>(),
            });
            (key, action)
        })
        .collect()
}

/// Compares one scenario's rows with its expectations; returns every mismatch.
fn mismatches(name: &str) -> Vec<String> {
    let dir = scenario_dir(name);
    let scenario: Value =
        serde_json::from_slice(&std::fs::read(dir.join("scenario.json")).expect("scenario.json"))
            .expect("scenario JSON");
    let expect = &scenario["expect"];
    let events = dedup(normalize(&dir));
    let got = actions(&events);
    let mut out = Vec::new();
    let mut expected_calls = BTreeSet::new();
    for w in expect["actions"].as_array().expect("expect.actions") {
        let key = (
            w["session_id"].as_str().expect("session_id").to_string(),
            w["tool_call_id"]
                .as_str()
                .expect("tool_call_id")
                .to_string(),
        );
        expected_calls.insert(key.clone());
        let Some(g) = got.get(&key) else {
            out.push(format!("{name} {key:?}: missing"));
            continue;
        };
        // `command` is the shell command; `summary` what Vigil shows for a tool
        // without one (the tool and its telling argument), stored in `command`
        let command = match &w["summary"] {
            Value::String(s) if s != "plan update" => json!(s),
            _ => w["command"].clone(),
        };
        let as_set = |v: &Value| -> BTreeSet<String> {
            v.as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        };
        let mut check = |what: &str, got: &Value, want: &Value| {
            if got != want {
                out.push(format!(
                    "{name} {}: {what} = {got}, want {want} (rows {})",
                    key.1, g["rows"]
                ));
            }
        };
        check("command", &g["command"], &command);
        for k in [
            "agent",
            "turn",
            "tool_name",
            "decision",
            "decision_source",
            "ran",
            "network_host",
            "mcp_server",
            "silent",
        ] {
            let want = if k == "turn" { &w["turn"] } else { &w[k] };
            check(k, &g[k], want);
        }
        for k in ["paths_read", "paths_written"] {
            check(k, &json!(as_set(&g[k])), &json!(as_set(&w[k])));
        }
    }
    for key in got.keys().filter(|k| !expected_calls.contains(*k)) {
        out.push(format!("{name} {key:?}: reported but not expected"));
    }
    // sessions: the non-auxiliary ones, with their prompts, tool calls and denials
    let auxiliary: BTreeSet<&str> = events
        .iter()
        .filter(|e| e.parent_session_id.is_some())
        .filter_map(|e| e.session_id.as_deref())
        .collect();
    let sessions: BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e.session_id.as_deref())
        .filter(|s| !auxiliary.contains(s))
        .collect();
    let want_sessions: BTreeSet<&str> = expect["sessions"]
        .as_array()
        .expect("expect.sessions")
        .iter()
        .filter_map(|s| s["session_id"].as_str())
        .collect();
    if sessions != want_sessions {
        out.push(format!(
            "{name}: sessions {sessions:?}, want {want_sessions:?}"
        ));
    }
    for w in expect["sessions"].as_array().expect("expect.sessions") {
        let id = w["session_id"].as_str();
        let of = |e: &&AgentEvent| e.session_id.as_deref() == id;
        let prompts = events
            .iter()
            .filter(of)
            .filter(|e| e.kind == "prompt")
            .count();
        let calls: BTreeSet<&str> = events
            .iter()
            .filter(of)
            .filter_map(|e| e.tool_call_id.as_deref())
            .collect();
        let denials: BTreeSet<&str> = events
            .iter()
            .filter(of)
            .filter(|e| matches!(e.decision, Some("deny" | "abort")))
            .map(|e| e.tool_call_id.as_deref().unwrap_or(&e.event_id))
            .collect();
        let got = json!({"prompts": prompts, "tool_calls": calls.len(), "denials": denials.len()});
        let want = json!({"prompts": w["prompts"], "tool_calls": w["tool_calls"], "denials": w["denials"]});
        if got != want {
            out.push(format!("{name} session {id:?}: {got}, want {want}"));
        }
    }
    out
}

#[test]
fn genai_libraries_scenario_gives_every_expected_tool_call_fact() {
    let m = mismatches("11_genai_libraries");
    assert!(
        m.is_empty(),
        "{} mismatches:\n  {}",
        m.len(),
        m.join("\n  ")
    );
}

/// Every recorded scenario (Codex, Claude Code and the GenAI apps alike), so a
/// mapping change that breaks another vendor's expectations fails here first.
#[test]
fn every_scenario_gives_its_expected_tool_call_facts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios");
    let mut names: Vec<String> = std::fs::read_dir(&root)
        .expect("fixtures/scenarios")
        .filter_map(Result::ok)
        .filter(|d| d.path().join("scenario.json").exists())
        .map(|d| d.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 13, "{names:?}");
    let m: Vec<String> = names.iter().flat_map(|n| mismatches(n)).collect();
    assert!(
        m.is_empty(),
        "{} mismatches:\n  {}",
        m.len(),
        m.join("\n  ")
    );
}

#[test]
fn codex_auto_review_scenario_rows_agree_with_their_actions() {
    let m = mismatches("10_codex_auto_review");
    assert!(
        m.is_empty(),
        "{} mismatches:\n  {}",
        m.len(),
        m.join("\n  ")
    );
    // no row of a call names a decision or decider other than its action's, and
    // the result of a refused call says who refused it (not only `rejected`)
    let events = dedup(normalize(&scenario_dir("10_codex_auto_review")));
    let mut refused_results = 0;
    for ((_, call), action) in actions(&events) {
        for row in action["rows"].as_array().unwrap() {
            let refused_result = row[0] == "tool_result" && row[3] == "rejected";
            refused_results += usize::from(refused_result);
            if !row[1].is_null() || refused_result {
                assert_eq!(
                    (&row[1], &row[2]),
                    (&action["decision"], &action["decision_source"]),
                    "{call}: row {row} contradicts its action"
                );
            }
        }
    }
    assert_eq!(refused_results, 1, "call_4's result");
}
