//! The recorded scenarios of `fixtures/`: each is its own test. It is sent
//! through the running server (HTTP/JSON for some, gRPC or HTTP/protobuf for
//! others, as real agents do), its `agent_events` / `agent_actions` rows are
//! snapshot-tested, and every field of its `scenario.json` expectations is
//! checked — a `null` expectation asserts that Vigil reports nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use collector::{ExportRequest, Signal};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use serde_json::{Map, Value, json};

use crate::harness::{Server, objects};

#[derive(Debug, Clone, Copy)]
pub(crate) enum Transport {
    HttpJson,
    HttpProtobuf,
    Grpc,
}

fn signal_of(path: &str) -> Signal {
    match path {
        "/v1/traces" => Signal::Traces,
        "/v1/logs" => Signal::Logs,
        _ => Signal::Metrics,
    }
}

pub(crate) async fn send(server: &Server, dir: &Path, transport: Transport) {
    for m in fixtures::manifest(dir).expect("manifest") {
        let body = std::fs::read(dir.join(&m.file)).expect("body");
        match transport {
            Transport::HttpJson => {
                let r = server.post_otlp(&m.path, &m.content_type, body).await;
                assert_eq!(
                    r.status(),
                    200,
                    "{}: {}",
                    m.file,
                    r.text().await.unwrap_or_default()
                );
            }
            Transport::HttpProtobuf => {
                let req =
                    ExportRequest::decode_json(signal_of(&m.path), &body).expect("fixture decodes");
                let r = server
                    .post_otlp(&m.path, "application/x-protobuf", req.encode_proto())
                    .await;
                assert_eq!(r.status(), 200, "{}", m.file);
            }
            Transport::Grpc => {
                let url = format!("http://{}", server.grpc);
                match ExportRequest::decode_json(signal_of(&m.path), &body)
                    .expect("fixture decodes")
                {
                    ExportRequest::Traces(r) => {
                        TraceServiceClient::connect(url)
                            .await
                            .unwrap()
                            .export(r)
                            .await
                            .expect("gRPC export");
                    }
                    ExportRequest::Logs(r) => {
                        LogsServiceClient::connect(url)
                            .await
                            .unwrap()
                            .export(r)
                            .await
                            .expect("gRPC export");
                    }
                    ExportRequest::Metrics(r) => {
                        MetricsServiceClient::connect(url)
                            .await
                            .unwrap()
                            .export(r)
                            .await
                            .expect("gRPC export");
                    }
                }
            }
        }
    }
}

/// Collects every mismatch instead of stopping at the first, so one run shows them all.
#[derive(Default)]
pub struct Mismatches(Vec<String>);

impl Mismatches {
    pub fn eq(&mut self, what: impl std::fmt::Display, got: &Value, want: &Value) {
        if got != want {
            self.0.push(format!("{what}: got {got}, want {want}"));
        }
    }
    pub fn check(
        &mut self,
        what: impl std::fmt::Display,
        ok: bool,
        detail: impl std::fmt::Display,
    ) {
        if !ok {
            self.0.push(format!("{what}: {detail}"));
        }
    }
    pub fn finish(self, name: &str) {
        assert!(
            self.0.is_empty(),
            "{name}: {} mismatches:\n  {}",
            self.0.len(),
            self.0.join("\n  ")
        );
    }
}

/// A list column as a set of strings (NULL and `[]` are both empty).
fn set(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Keys of an expectation object that the checks below read; any other key is
/// a new expectation nobody checks, and fails the test.
const ACTION_KEYS: [&str; 15] = [
    "session_id",
    "agent",
    "turn",
    "tool_call_id",
    "tool_name",
    "command",
    "summary",
    "decision",
    "decision_source",
    "ran",
    "paths_read",
    "paths_written",
    "network_host",
    "mcp_server",
    "silent",
];

fn unknown_keys(what: &str, obj: &Value, known: &[&str], m: &mut Mismatches) {
    for k in obj.as_object().into_iter().flat_map(|o| o.keys()) {
        m.check(
            format!("{what}: key {k:?}"),
            known.contains(&k.as_str()),
            "is not checked by this test",
        );
    }
}

fn check_actions(expect: &Value, actions: &[Map<String, Value>], m: &mut Mismatches) {
    let want = expect["actions"].as_array().expect("expect.actions");
    for w in want {
        unknown_keys("action", w, &ACTION_KEYS, m);
        let id = &w["tool_call_id"];
        let Some(got) = actions
            .iter()
            .find(|a| a["session_id"] == w["session_id"] && &a["tool_call_id"] == id)
        else {
            m.check(format!("action {id}"), false, "missing");
            continue;
        };
        let at = |k: &str| format!("action {id} {k}");
        m.eq(at("agent"), &got["agent"], &w["agent"]);
        m.eq(at("turn"), &got["turn_index"], &w["turn"]);
        m.eq(at("tool_name"), &got["tool_name"], &w["tool_name"]);
        for k in [
            "decision",
            "decision_source",
            "ran",
            "network_host",
            "mcp_server",
        ] {
            m.eq(at(k), &got[k], &w[k]);
        }
        // `command` is the shell command; `summary` what Vigil shows for a tool
        // without one (a plan update, or the tool and its arguments)
        match w["summary"].as_str() {
            None => m.eq(at("command"), &got["command"], &w["command"]),
            Some("plan update") => {
                m.eq(at("command"), &got["command"], &Value::Null);
                m.check(
                    at("summary"),
                    set(&got["kinds"]).contains("plan_update") && !got["plan"].is_null(),
                    format!("a plan update: kinds {} plan {}", got["kinds"], got["plan"]),
                );
            }
            Some(summary) => m.eq(at("command"), &got["command"], &json!(summary)),
        }
        for k in ["paths_read", "paths_written"] {
            m.check(
                at(k),
                set(&got[k]) == set(&w[k]),
                format!("got {}, want {}", got[k], w[k]),
            );
        }
        let silent = got["ran"] == json!(true) && got["output_bytes"] == json!(0);
        m.eq(at("silent"), &json!(silent), &w["silent"]);
    }
    let ids: BTreeSet<_> = want
        .iter()
        .map(|w| (w["session_id"].to_string(), w["tool_call_id"].to_string()))
        .collect();
    for a in actions {
        let key = (a["session_id"].to_string(), a["tool_call_id"].to_string());
        m.check(
            format!("action {}", a["tool_call_id"]),
            ids.contains(&key),
            "reported but not expected",
        );
    }
}

async fn check_sessions(server: &Server, expect: &Value, m: &mut Mismatches) {
    let got = objects(
        &server
            .sql(
                "SELECT session_id, agent, service_name, prompts, tool_calls, denials FROM sessions \
                 WHERE NOT is_auxiliary ORDER BY session_id",
            )
            .await,
    );
    let want = expect["sessions"].as_array().expect("expect.sessions");
    m.check(
        "sessions",
        got.len() == want.len(),
        format!("{} sessions, want {}", got.len(), want.len()),
    );
    for w in want {
        unknown_keys(
            "session",
            w,
            &[
                "session_id",
                "agent",
                "service_name",
                "prompts",
                "tool_calls",
                "denials",
            ],
            m,
        );
        let Some(g) = got.iter().find(|g| g["session_id"] == w["session_id"]) else {
            m.check(format!("session {}", w["session_id"]), false, "missing");
            continue;
        };
        for k in ["agent", "service_name", "prompts", "tool_calls", "denials"] {
            m.eq(format!("session {} {k}", w["session_id"]), &g[k], &w[k]);
        }
    }
}

async fn check_plans(server: &Server, expect: &Value, m: &mut Mismatches) {
    let got = objects(
        &server
            .sql("SELECT session_id, tool_call_id, turn_index, explanation, plan FROM plan_updates ORDER BY session_id, position")
            .await,
    );
    let want = expect["plans"].as_array().expect("expect.plans");
    m.check(
        "plans",
        got.len() == want.len(),
        format!("{} plan updates, want {}", got.len(), want.len()),
    );
    for w in want {
        unknown_keys(
            "plan",
            w,
            &["session_id", "tool_call_id", "turn", "explanation", "steps"],
            m,
        );
        let Some(g) = got
            .iter()
            .find(|g| g["session_id"] == w["session_id"] && g["tool_call_id"] == w["tool_call_id"])
        else {
            m.check(format!("plan {}", w["tool_call_id"]), false, "missing");
            continue;
        };
        let at = |k: &str| format!("plan {} {k}", w["tool_call_id"]);
        m.eq(at("turn"), &g["turn_index"], &w["turn"]);
        m.eq(at("explanation"), &g["explanation"], &w["explanation"]);
        let steps: Value = g["plan"]
            .as_str()
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or(Value::Null);
        m.eq(at("steps"), &steps, &w["steps"]);
    }
}

async fn check_network(server: &Server, expect: &Value, m: &mut Mismatches) {
    let got = objects(
        &server
            .sql(
                "SELECT session_id, tool_call_id, network_host, network_decision, decision_source \
                 FROM agent_events WHERE kind = 'network' ORDER BY session_id, position",
            )
            .await,
    );
    let want = expect["network"].as_array().expect("expect.network");
    m.check(
        "network",
        got.len() == want.len(),
        format!("{} network events, want {}", got.len(), want.len()),
    );
    for w in want {
        unknown_keys(
            "network",
            w,
            &["session_id", "tool_call_id", "host", "decision", "source"],
            m,
        );
        let found = got.iter().any(|g| {
            g["session_id"] == w["session_id"]
                && g["tool_call_id"] == w["tool_call_id"]
                && g["network_host"] == w["host"]
                && g["network_decision"] == w["decision"]
                && g["decision_source"] == w["source"]
        });
        m.check(format!("network {w}"), found, format!("not among {got:?}"));
    }
}

async fn check_mcp(
    server: &Server,
    expect: &Value,
    actions: &[Map<String, Value>],
    m: &mut Mismatches,
) {
    let Some(mcp) = expect.get("mcp") else {
        return;
    };
    unknown_keys(
        "mcp",
        mcp,
        &["configured", "unlisted_servers", "unlisted_calls"],
        m,
    );
    for (session, servers) in mcp["configured"].as_object().expect("mcp.configured") {
        let configured = server
            .rows(&format!(
                "SELECT mcp_server FROM agent_events WHERE kind = 'session_start' AND session_id = '{session}'"
            ))
            .await;
        let listed: BTreeSet<String> = configured
            .iter()
            .filter_map(|r| r[0].as_str())
            .flat_map(|s| s.split(',').map(|x| x.trim().to_string()))
            .collect();
        m.check(
            format!("mcp configured for {session}"),
            listed == set(servers),
            format!("got {listed:?}, want {servers}"),
        );
    }
    let unlisted = set(&mcp["unlisted_servers"]);
    for call in mcp["unlisted_calls"]
        .as_array()
        .expect("mcp.unlisted_calls")
    {
        let ok = actions.iter().any(|a| {
            a["session_id"] == call["session_id"]
                && a["tool_call_id"] == call["tool_call_id"]
                && a["mcp_server"]
                    .as_str()
                    .is_some_and(|s| unlisted.contains(s))
        });
        m.check(
            format!("unlisted MCP call {call}"),
            ok,
            "no action on an unlisted server",
        );
    }
}

async fn check_requests(server: &Server, dir: &Path, expect: &Value, m: &mut Mismatches) {
    let req = &expect["requests"];
    unknown_keys("requests", req, &["total", "distinct", "resent"], m);
    let manifest = fixtures::manifest(dir).expect("manifest");
    m.eq("requests.total", &json!(manifest.len()), &req["total"]);
    let mut distinct = BTreeSet::new();
    for e in &manifest {
        distinct.insert(std::fs::read(dir.join(&e.file)).expect("body"));
    }
    m.eq(
        "requests.distinct",
        &json!(distinct.len()),
        &req["distinct"],
    );
    // every request (resends too) is a WAL record; resent ones add no agent event
    let wal_records = server
        .count("SELECT count(DISTINCT wal_seq) FROM (SELECT wal_seq FROM otlp_logs UNION ALL SELECT wal_seq FROM otlp_spans UNION ALL SELECT wal_seq FROM otlp_metrics)")
        .await;
    m.eq("requests stored", &json!(wal_records), &req["total"]);
    let raw = server.count("SELECT count(*) FROM agent_events_raw").await;
    let unique = server
        .count("SELECT count(DISTINCT event_id) FROM agent_events_raw")
        .await;
    let events = server.count("SELECT count(*) FROM agent_events").await;
    m.eq(
        "agent_events without resends",
        &json!(events),
        &json!(unique),
    );
    let resent = req["resent"].as_array().expect("requests.resent");
    m.check(
        "resent requests",
        resent.is_empty() == (raw == unique),
        format!(
            "{} resent, raw {raw} rows for {unique} events",
            resent.len()
        ),
    );
    for r in resent {
        unknown_keys("resent", r, &["file", "same_as"], m);
        let a = std::fs::read(dir.join(r["file"].as_str().unwrap())).unwrap();
        let b = std::fs::read(dir.join(r["same_as"].as_str().unwrap())).unwrap();
        m.check(format!("resent {r}"), a == b, "the files differ");
    }
}

async fn check_logs(server: &Server, expect: &Value, m: &mut Mismatches) {
    if let Some(n) = expect.get("log_records") {
        let distinct = server
            .count("SELECT count(DISTINCT attributes['event.sequence']) FROM otlp_logs WHERE attributes['event.sequence'] IS NOT NULL")
            .await;
        m.eq("log_records", &json!(distinct), n);
    }
    if let Some(chunks) = expect.get("log_chunks") {
        let got = server
            .rows(
                "SELECT wal_seq, array_sort(array_agg(CAST(attributes['event.sequence'] AS BIGINT))) \
                 FROM otlp_logs WHERE attributes['event.sequence'] IS NOT NULL GROUP BY wal_seq",
            )
            .await;
        let stored: BTreeSet<String> = got.iter().map(|r| r[1].to_string()).collect();
        for c in chunks.as_array().expect("log_chunks") {
            m.check(
                format!("log chunk {c}"),
                stored.contains(&c.to_string()),
                format!("no request carried exactly these records; requests: {stored:?}"),
            );
        }
    }
}

/// Secrets are in no stored byte (WAL payloads are not compressed) and no decoded value.
async fn check_secrets(server: &Server, expect: &Value, m: &mut Mismatches) {
    let secrets: Vec<String> = expect["secrets"]
        .as_array()
        .expect("expect.secrets")
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    if secrets.is_empty() {
        return;
    }
    for s in &secrets {
        for (path, bytes) in crate::captures::wal_bytes(&server.data_dir) {
            m.check(
                format!("secret in {}", path.display()),
                !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
                "found in the WAL",
            );
        }
        for table in [
            "otlp_logs",
            "otlp_spans",
            "otlp_metrics",
            "agent_events_raw",
        ] {
            let dump = server
                .sql(&format!("SELECT * FROM {table}"))
                .await
                .to_string();
            m.check(
                format!("secret in {table}"),
                !dump.contains(s.as_str()),
                "found in a value",
            );
        }
    }
}

/// The findings, exactly: every expected one present once, nothing else.
pub async fn check_findings(server: &Server, name: &str, m: &mut Mismatches) {
    let mut want = fixtures::expected_findings(name)
        .unwrap_or_else(|| panic!("{name}: no expected findings recorded"));
    for w in &want {
        unknown_keys(
            "finding",
            w,
            &["rule", "session_id", "tool_call_ids", "severity", "event"],
            m,
        );
    }
    want.sort_by_key(|v| v.to_string());
    let got = server.findings().await;
    for w in &want {
        m.check(format!("finding {w}"), got.contains(w), "missing");
    }
    for g in &got {
        m.check(format!("finding {g}"), want.contains(g), "not expected");
    }
}

async fn check_auxiliary(server: &Server, expect: &Value, m: &mut Mismatches) {
    let got = objects(
        &server
            .sql(
                "SELECT session_id, agent, service_name, reviews_session, prompts, tool_calls, denials \
                 FROM sessions WHERE is_auxiliary ORDER BY session_id",
            )
            .await,
    );
    let want = expect["auxiliary_sessions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    m.check(
        "auxiliary sessions",
        got.len() == want.len(),
        format!("{} auxiliary sessions, want {}", got.len(), want.len()),
    );
    for w in &want {
        let Some(g) = got.iter().find(|g| g["session_id"] == w["session_id"]) else {
            m.check(
                format!("auxiliary session {}", w["session_id"]),
                false,
                "missing",
            );
            continue;
        };
        for k in w.as_object().into_iter().flat_map(|o| o.keys()) {
            m.eq(
                format!("auxiliary session {} {k}", w["session_id"]),
                &g[k.as_str()],
                &w[k],
            );
        }
    }
}

fn scenario_dir(name: &str) -> PathBuf {
    fixtures::scenarios_dir().join(name)
}

async fn run(name: &str, transport: Transport) {
    let dir = scenario_dir(name);
    let expect: Value =
        serde_json::from_slice(&std::fs::read(dir.join("scenario.json")).expect("scenario.json"))
            .unwrap();
    let server = Server::start().await;
    send(&server, &dir, transport).await;
    let events = server
        .sql(
            "SELECT session_id, position, turn_index, kind, event_name, tool_name, tool_call_id, command, \
             paths_read, paths_written, decision, decision_source, outcome, exit_code, output_bytes, \
             network_host, network_decision, mcp_server, model, input_tokens, output_tokens, plan, text, \
             parent_session_id, event_id FROM agent_events ORDER BY session_id, position",
        )
        .await;
    let actions = server
        .sql(
            "SELECT session_id, tool_call_id, agent, tool_name, command, decision, decision_source, ran, outcome, \
             exit_code, output_bytes, paths_read, paths_written, network_host, mcp_server, turn_index, kinds, plan \
             FROM agent_actions ORDER BY session_id, position",
        )
        .await;
    insta::assert_json_snapshot!(format!("scenario_{name}_events"), events);
    insta::assert_json_snapshot!(format!("scenario_{name}_actions"), actions);
    let e = &expect["expect"];
    let mut m = Mismatches::default();
    unknown_keys(
        "expect",
        e,
        &[
            "sessions",
            "actions",
            "plans",
            "network",
            "secrets",
            "requests",
            "mcp",
            "log_records",
            "log_chunks",
            "findings",
            "auxiliary_sessions",
        ],
        &mut m,
    );
    let actions = objects(&actions);
    check_actions(e, &actions, &mut m);
    check_sessions(&server, e, &mut m).await;
    check_plans(&server, e, &mut m).await;
    check_network(&server, e, &mut m).await;
    check_mcp(&server, e, &actions, &mut m).await;
    check_requests(&server, &dir, e, &mut m).await;
    check_logs(&server, e, &mut m).await;
    check_secrets(&server, e, &mut m).await;
    check_auxiliary(&server, e, &mut m).await;
    check_findings(&server, name, &mut m).await;
    m.finish(name);
}

/// One test per scenario, each over one of the transports real agents use.
macro_rules! scenarios {
    ($($test:ident => $name:literal over $transport:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread")]
            async fn $test() {
                run($name, Transport::$transport).await;
            }
        )*

        #[test]
        fn every_scenario_directory_has_a_test() {
            let tested: BTreeSet<String> = [$($name),*].iter().map(|s| s.to_string()).collect();
            let present: BTreeSet<String> = fixtures::scenarios()
                .iter()
                .map(|d| d.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            assert_eq!(tested, present);
        }
    };
}

scenarios! {
    scenario_01_benign_refactor => "01_benign_refactor" over HttpJson,
    scenario_02_rm_rf_denied => "02_rm_rf_denied" over Grpc,
    scenario_03_curl_pipe_sh_rejected => "03_curl_pipe_sh_rejected" over HttpProtobuf,
    scenario_04_prompt_injection_exfil => "04_prompt_injection_exfil" over HttpJson,
    scenario_05_force_push_retry => "05_force_push_retry" over Grpc,
    scenario_06_prod_db_dropped => "06_prod_db_dropped" over HttpProtobuf,
    scenario_07_unlisted_mcp_server => "07_unlisted_mcp_server" over HttpJson,
    scenario_08_silent_commands => "08_silent_commands" over Grpc,
    scenario_09_split_out_of_order => "09_split_out_of_order" over HttpProtobuf,
    scenario_10_codex_auto_review => "10_codex_auto_review" over HttpJson,
    scenario_11_genai_libraries => "11_genai_libraries" over HttpProtobuf,
    scenario_12_attack_chains => "12_attack_chains" over Grpc,
    scenario_13_benign_network => "13_benign_network" over HttpJson,
}
