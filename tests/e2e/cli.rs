//! The offline commands: `vigil ingest` (with a corrupt line) and `vigil reindex`.

use std::io::Write as _;

use serde_json::Value;

use crate::harness::{Server, captures_dir, vigil, vigil_env};

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

/// Every JSON request of both shared captures, stored offline in a new data directory.
fn store_of_captures(dir: &str) {
    let mut files = Vec::new();
    for capture in fixtures::captures() {
        for entry in std::fs::read_dir(&capture).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path.to_str().unwrap().to_string());
            }
        }
    }
    files.sort();
    let mut args = vec!["ingest", "--data-dir", dir];
    args.extend(files.iter().map(String::as_str));
    let (ok, _, err) = vigil(&args);
    assert!(ok, "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reindex_killed_at_any_step_leaves_the_events_whole_and_can_run_again() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let dir = data.to_str().unwrap();
    store_of_captures(dir);
    let events_sql =
        "SELECT event_id, session_id, kind, command, decision FROM agent_events ORDER BY event_id";
    let actions_sql = "SELECT session_id, tool_call_id, command, decision, ran FROM agent_actions ORDER BY session_id, position";
    let events = query(dir, events_sql);
    let actions = query(dir, actions_sql);
    assert!(events.len() > 50, "{}", events.len());
    assert!(!actions.is_empty());
    let tables = data.join("tables");
    let leftovers = || {
        ["agent_events.reindex", "agent_events.old"]
            .into_iter()
            .filter(|d| tables.join(d).exists())
            .collect::<Vec<_>>()
    };
    for point in ["reindex_built", "reindex_moved_aside", "reindex_swapped"] {
        let (ok, _, err) = vigil_env(
            &["reindex", "--data-dir", dir],
            &[("VIGIL_FAILPOINT", point)],
            std::time::Duration::from_secs(120),
        );
        assert!(!ok, "{point}: the reindex did not stop");
        assert!(err.contains(point), "{point}: {err}");
        // the crash left the swap half done …
        assert!(!leftovers().is_empty(), "{point}: nothing left to recover");
        // … and the next start leaves one whole table, with every event
        let mut server = Server::start_in(&data, &[]).await;
        assert_eq!(leftovers(), Vec::<&str>::new(), "{point}");
        let n = server.count("SELECT count(*) FROM agent_events").await;
        assert_eq!(n as usize, events.len(), "{point}");
        assert!(server.terminate().success());
        assert_eq!(query(dir, events_sql), events, "{point}");
        assert_eq!(query(dir, actions_sql), actions, "{point}");
    }
    // killed from outside, at whatever it was doing: the next run recovers and finishes
    for delay_ms in [5u64, 40, 150] {
        let mut child = std::process::Command::new(crate::harness::vigil_bin())
            .args(["reindex", "--data-dir", dir])
            .env("VIGIL_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let (ok, out, err) = vigil(&["reindex", "--data-dir", dir]);
        assert!(ok, "after a kill at {delay_ms} ms: {err}");
        assert!(out.contains("rebuilt agent_events"), "{out}");
        assert_eq!(leftovers(), Vec::<&str>::new());
        assert_eq!(
            query(dir, events_sql),
            events,
            "after a kill at {delay_ms} ms"
        );
        assert_eq!(
            query(dir, actions_sql),
            actions,
            "after a kill at {delay_ms} ms"
        );
    }
}
