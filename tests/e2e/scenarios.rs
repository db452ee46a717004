//! The recorded scenarios of `fixtures/`: each is sent through the running server
//! (HTTP/JSON for some, gRPC or HTTP/protobuf for others, as real agents do) and
//! its `agent_events` / `agent_actions` rows are snapshot-tested and checked
//! against the scenario's own expectations.

use std::path::Path;

use collector::{ExportRequest, Signal};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_client::MetricsServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use serde_json::Value;

use crate::harness::Server;

#[derive(Debug, Clone, Copy)]
enum Transport {
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

async fn send(server: &Server, dir: &Path, transport: Transport) {
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

/// Checks the facts `scenario.json` lists for each action.
fn check_expectations(name: &str, expect: &Value, actions: &[serde_json::Map<String, Value>]) {
    let Some(list) = expect["expect"]["actions"].as_array() else {
        return;
    };
    for want in list {
        let found = actions.iter().find(|a| {
            a["session_id"] == want["session_id"]
                && (want["tool_call_id"].is_null() || a["tool_call_id"] == want["tool_call_id"])
                && (!want["tool_call_id"].is_null() || a["command"] == want["command"])
        });
        let Some(got) = found else {
            panic!("{name}: no action for {want}\nactions: {actions:#?}")
        };
        for key in [
            "command",
            "decision",
            "decision_source",
            "ran",
            "network_host",
        ] {
            if let Some(w) = want.get(key).filter(|w| !w.is_null()) {
                assert_eq!(&got[key], w, "{name}: {key} of {want}\ngot {got:?}");
            }
        }
        for key in ["paths_read", "paths_written"] {
            if let Some(w) = want
                .get(key)
                .and_then(Value::as_array)
                .filter(|w| !w.is_empty())
            {
                let have: Vec<&Value> = got[key]
                    .as_array()
                    .map(|a| a.iter().collect())
                    .unwrap_or_default();
                for p in w {
                    assert!(
                        have.contains(&p),
                        "{name}: {key} of {want} lacks {p}: got {got:?}"
                    );
                }
            }
        }
        if want.get("silent") == Some(&Value::Bool(true)) {
            assert_eq!(
                got["output_bytes"], 0,
                "{name}: silent command {want}: {got:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_recorded_scenario_normalizes_as_expected() {
    let scenarios = fixtures::scenarios();
    assert!(
        scenarios.len() >= 9,
        "fixtures/scenarios is missing scenarios: {scenarios:?}"
    );
    for (i, dir) in scenarios.iter().enumerate() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let transport = [
            Transport::HttpJson,
            Transport::Grpc,
            Transport::HttpProtobuf,
        ][i % 3];
        let server = Server::start().await;
        send(&server, dir, transport).await;
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
                "SELECT session_id, tool_call_id, tool_name, command, decision, decision_source, ran, outcome, \
                 exit_code, output_bytes, paths_read, paths_written, network_host, mcp_server, turn_index \
                 FROM agent_actions ORDER BY session_id, position",
            )
            .await;
        insta::assert_json_snapshot!(format!("scenario_{name}_events"), events);
        insta::assert_json_snapshot!(format!("scenario_{name}_actions"), actions);
        let expect: Value = serde_json::from_slice(
            &std::fs::read(dir.join("scenario.json")).expect("scenario.json"),
        )
        .unwrap();
        check_expectations(&name, &expect, &crate::harness::objects(&actions));
    }
}
