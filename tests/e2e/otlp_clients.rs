//! Real OTLP clients (the Python SDK over gRPC and HTTP/protobuf, a hand-written
//! OTLP/JSON POST) → `/api/sql` and `vigil query` return every record intact.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Server, python, vigil, wait_for};

const N: i64 = 7;

async fn assert_sdk_records(server: &Server, run_id: &str) {
    // visible within 2 s of the acknowledgement, before any flush
    let spans = format!(
        "SELECT count(*) FROM otlp_spans WHERE resource_attributes['vigil.run_id'] = '{run_id}'"
    );
    let logs = format!(
        "SELECT count(*) FROM otlp_logs WHERE resource_attributes['vigil.run_id'] = '{run_id}'"
    );
    assert_eq!(server.count(&spans).await, N);
    assert_eq!(server.count(&logs).await, N);
    let rows = server
        .rows(&format!(
            "SELECT name, attributes['seq'], attributes['ratio'], attributes['ok'], attributes['tags'], events, \
             length(trace_id), length(span_id), service_name, scope_name, scope_version \
             FROM otlp_spans WHERE attributes['vigil.run_id'] = '{run_id}' ORDER BY name"
        ))
        .await;
    assert_eq!(rows.len() as i64, N);
    assert_eq!(rows[0][0], "span-0");
    assert_eq!(rows[3][1], "3");
    assert_eq!(rows[0][2], "0.5");
    assert_eq!(rows[0][3], "true");
    assert_eq!(rows[0][4], r#"["a","b"]"#);
    let events: Value = serde_json::from_str(rows[2][5].as_str().unwrap()).unwrap();
    assert_eq!(events[0]["name"], "checkpoint");
    assert_eq!(events[0]["attributes"]["step"], 2);
    assert_eq!(rows[0][6], 32);
    assert_eq!(rows[0][7], 16);
    assert_eq!(rows[0][8], "sdk-e2e");
    assert_eq!(rows[0][9], "vigil.e2e");
    assert_eq!(rows[0][10], "1.0");
    let logs = server
        .rows(&format!(
            "SELECT body, attributes['seq'], severity_text, severity_number FROM otlp_logs \
             WHERE attributes['vigil.run_id'] = '{run_id}' ORDER BY CAST(attributes['seq'] AS INT)"
        ))
        .await;
    assert_eq!(logs[4][0], "record 4");
    assert_eq!(logs[4][1], "4");
    assert_eq!(logs[4][2], "INFO");
    assert_eq!(logs[4][3], 9);
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_over_grpc_and_http_then_vigil_query() {
    let mut server = Server::start_with(&["--flush-interval", "60s"]).await;
    let out = python(
        "export_sdk.py",
        &[
            "--protocol",
            "grpc",
            "--endpoint",
            &format!("http://{}", server.grpc),
            "--run-id",
            "grpc-run",
            "--count",
            &N.to_string(),
        ],
    );
    assert!(out.contains("\"span_failures\": 0"), "{out}");
    assert_sdk_records(&server, "grpc-run").await;

    python(
        "export_sdk.py",
        &[
            "--protocol",
            "http",
            "--endpoint",
            &format!("http://{}", server.otlp_http),
            "--run-id",
            "http-run",
            "--count",
            &N.to_string(),
        ],
    );
    assert_sdk_records(&server, "http-run").await;

    // graceful stop flushes to Parquet; the CLI reads the files
    assert!(server.terminate().success());
    let dir = server.data_dir.to_str().unwrap().to_string();
    let (ok, out, err) = vigil(&[
        "query",
        "--data-dir",
        &dir,
        "--format",
        "json",
        "SELECT resource_attributes['vigil.run_id'] AS run, count(*) AS n FROM otlp_spans GROUP BY 1 ORDER BY 1",
    ]);
    assert!(ok, "{err}");
    let lines: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![
            json!({"run": "grpc-run", "n": N}),
            json!({"run": "http-run", "n": N})
        ]
    );
    let (ok, out, _) = vigil(&[
        "query",
        "--data-dir",
        &dir,
        "--format",
        "csv",
        "SELECT count(*) AS n FROM otlp_logs",
    ]);
    assert!(ok);
    assert_eq!(out.trim(), format!("n\n{}", 2 * N));
    // Hive-style zstd Parquet files exist
    let files: Vec<_> = walk(&server.data_dir.join("tables/otlp_spans"));
    assert!(
        files
            .iter()
            .any(|p| p.to_string_lossy().contains("/date=")
                && p.to_string_lossy().contains("/hour="))
    );
}

pub fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p))
            } else {
                out.push(p)
            }
        }
    }
    out
}

/// Every file and directory below `dir`, sorted.
pub fn walk_all(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            out.push(p.clone());
            if p.is_dir() {
                out.extend(walk_all(&p))
            }
        }
    }
    out.sort();
    out
}

/// A hand-written OTLP/JSON request with every attribute type.
pub fn json_logs(marker: &str) -> Vec<u8> {
    json!({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "handwritten"}}]},
        "scopeLogs": [{"scope": {"name": "manual"}, "logRecords": [{
            "timeUnixNano": "1795481016460000000",
            "severityNumber": 13, "severityText": "WARN",
            "body": {"stringValue": format!("hello {marker}")},
            "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
            "attributes": [
                {"key": "marker", "value": {"stringValue": marker}},
                {"key": "count", "value": {"intValue": "42"}},
                {"key": "count_num", "value": {"intValue": 43}},
                {"key": "pi", "value": {"doubleValue": 3.5}},
                {"key": "flag", "value": {"boolValue": false}},
                {"key": "list", "value": {"arrayValue": {"values": [{"stringValue": "x"}, {"intValue": "1"}]}}},
                {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "k", "value": {"stringValue": "v"}}]}}},
                {"key": "raw", "value": {"bytesValue": "AQID"}}
            ]
        }]}]
    }]})
    .to_string()
    .into_bytes()
}

#[tokio::test(flavor = "multi_thread")]
async fn hand_written_otlp_json_keeps_every_attribute() {
    let server = Server::start().await;
    let r = server
        .post_otlp("/v1/logs", "application/json", json_logs("m1"))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.text().await.unwrap(), "{}");
    let rows = server
        .rows(
            "SELECT body, attributes['count'], attributes['count_num'], attributes['pi'], attributes['flag'], \
             attributes['list'], attributes['kv'], attributes['raw'], trace_id, span_id, severity_text, \
             CAST(ts AS VARCHAR), date, hour FROM otlp_logs WHERE attributes['marker'] = 'm1'",
        )
        .await;
    assert_eq!(
        rows,
        vec![vec![
            json!("hello m1"),
            json!("42"),
            json!("43"),
            json!("3.5"),
            json!("false"),
            json!(r#"["x",1]"#),
            json!(r#"{"k":"v"}"#),
            json!("010203"),
            json!("5b8efff798038103d269b633813fc60c"),
            json!("eee19b7ec3c1b174"),
            json!("WARN"),
            json!("2026-11-24T00:43:36.460Z"),
            json!("2026-11-24"),
            json!("00"),
        ]]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn rows_reach_parquet_within_the_flush_interval_and_stay_queryable() {
    let server = Server::start_with(&["--flush-interval", "200ms"]).await;
    assert_eq!(
        server
            .post_otlp("/v1/logs", "application/json", json_logs("f1"))
            .await
            .status(),
        200
    );
    let dir = server.data_dir.join("tables/otlp_logs");
    wait_for("a Parquet file", Duration::from_secs(10), async || {
        walk(&dir)
            .into_iter()
            .find(|p| p.extension().is_some_and(|e| e == "parquet"))
    })
    .await;
    // after the flush the row is read from Parquet, once
    wait_for(
        "the WAL to be trimmed into Parquet",
        Duration::from_secs(10),
        async || {
            let rows = server
                .rows("SELECT count(*) FROM otlp_logs WHERE attributes['marker'] = 'f1'")
                .await;
            (rows[0][0] == 1).then_some(())
        },
    )
    .await;
    assert_eq!(server.count("SELECT count(*) FROM otlp_logs").await, 1);
}
