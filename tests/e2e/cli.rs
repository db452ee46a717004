//! The offline commands: `vigil ingest` (with a corrupt line) and `vigil reindex`.

use std::io::Write as _;

use serde_json::Value;

use crate::harness::{captures_dir, vigil};

fn compact(path: &std::path::Path) -> String {
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v.to_string()
}

fn query(dir: &str, sql: &str) -> Vec<Value> {
    let (ok, out, err) = vigil(&["query", "--data-dir", dir, "--format", "json", sql]);
    assert!(ok, "{sql}: {err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn ingest_jsonl_skips_a_corrupt_line_and_names_it_then_reindex_rebuilds_the_same_events() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let dir = data.to_str().unwrap();
    let claude = captures_dir().join("claude-code-2.1.330-json");
    let codex = captures_dir().join("codex-0.169.0-json");
    // what the OpenTelemetry Collector's file exporter writes: one request per line
    let lines = [
        compact(&claude.join("0001_traces.json")),
        "{\"resourceLogs\": [ this line is corrupt".to_string(),
        compact(&claude.join("0002_logs.json")),
        compact(&claude.join("0003_metrics.json")),
    ];
    let jsonl = tmp.path().join("export.jsonl");
    std::fs::write(&jsonl, lines.join("\n") + "\n").unwrap();
    // and a gzip'd pretty-printed single request
    let gz = tmp.path().join("codex-logs.json.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&std::fs::read(codex.join("0004_logs.json")).unwrap())
        .unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();

    let (ok, out, err) = vigil(&[
        "ingest",
        "--data-dir",
        dir,
        jsonl.to_str().unwrap(),
        gz.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(
        err.contains("export.jsonl:2:"),
        "the bad line is named: {err}"
    );
    assert!(out.contains("from 4 requests"), "{out}");
    let counts = query(
        dir,
        "SELECT (SELECT count(*) FROM otlp_spans) AS spans, (SELECT count(*) FROM otlp_logs) AS logs",
    );
    assert_eq!(counts[0]["spans"], 20);
    assert_eq!(counts[0]["logs"], 26 + 52);

    let actions_sql = "SELECT session_id, tool_call_id, command, decision, decision_source, ran, paths_read FROM agent_actions ORDER BY session_id, position";
    let before = query(dir, actions_sql);
    let events_before = query(
        dir,
        "SELECT event_id, kind, command, decision FROM agent_events ORDER BY event_id",
    );
    assert_eq!(before.len(), 10);
    let (ok, out, err) = vigil(&["reindex", "--data-dir", dir]);
    assert!(ok, "{err}");
    assert!(out.contains("rebuilt agent_events"), "{out}");
    assert_eq!(query(dir, actions_sql), before);
    assert_eq!(
        query(
            dir,
            "SELECT event_id, kind, command, decision FROM agent_events ORDER BY event_id"
        ),
        events_before
    );
}

#[test]
fn cli_errors_are_clear() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let (ok, _, err) = vigil(&["query", "--data-dir", missing.to_str().unwrap(), "SELECT 1"]);
    assert!(!ok);
    assert!(err.contains("no Vigil data directory"), "{err}");
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let (ok, _, err) = vigil(&[
        "ingest",
        "--data-dir",
        tmp.path().join("d").to_str().unwrap(),
        bad.to_str().unwrap(),
    ]);
    assert!(!ok, "nothing importable is a failure");
    assert!(err.contains("bad.json:1:"), "{err}");
}

#[test]
fn ingest_protobuf_named_by_signal() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let json =
        std::fs::read(captures_dir().join("claude-code-2.1.330-json/0001_traces.json")).unwrap();
    let req = collector::ExportRequest::decode_json(collector::Signal::Traces, &json).unwrap();
    let pb = tmp.path().join("claude-traces.pb");
    std::fs::write(&pb, req.encode_proto()).unwrap();
    let unnamed = tmp.path().join("export.bin");
    std::fs::write(&unnamed, req.encode_proto()).unwrap();
    let (ok, out, err) = vigil(&[
        "ingest",
        "--data-dir",
        dir.to_str().unwrap(),
        pb.to_str().unwrap(),
        unnamed.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("imported 20 records from 1 requests"), "{out}");
    assert!(
        err.contains("export.bin") && err.contains("--signal"),
        "an unnamed protobuf file asks for --signal: {err}"
    );
    let rows = query(
        dir.to_str().unwrap(),
        "SELECT count(*) AS n FROM otlp_spans",
    );
    assert_eq!(rows[0]["n"], 20);
}
