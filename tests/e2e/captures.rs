//! Replays the real Codex and Claude Code captures (fixtures/captures) into the
//! running server, request by request as recorded, and reads the sessions back
//! the way an incident responder would.

use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{Server, captures_dir, vigil};
use crate::otlp_clients::walk;

const CODEX_SESSION: &str = "01a20b01-c0f6-7de1-9b2e-e4873fe89a98";
const CLAUDE_SESSION: &str = "a768ad14-8af7-4512-b7b8-cfa9fc0d0f18";
const FAKE_KEY_ID: &str = "AKIAFAKEFAKEFAKEFAKE";
const FAKE_SECRET: &str = "fakeSecretKeyForTelemetryTestsOnly0000000";

/// POSTs every request of a capture (or scenario) directory in manifest order.
pub async fn replay(server: &Server, dir: &Path) {
    for m in fixtures::manifest(dir).expect("manifest") {
        let body = std::fs::read(dir.join(&m.file)).expect("body");
        let r = server.post_otlp(&m.path, &m.content_type, body).await;
        let status = r.status();
        let text = r.text().await.unwrap_or_default();
        assert_eq!(status, 200, "{}/{}: {text}", dir.display(), m.file);
        assert!(
            !text.contains("partialSuccess"),
            "{}: records rejected: {text}",
            m.file
        );
    }
}

async fn replay_both() -> Server {
    let server = Server::start().await;
    let captures = captures_dir();
    replay(&server, &captures.join("codex-0.169.0-json")).await;
    replay(&server, &captures.join("claude-code-2.1.330-json")).await;
    server
}

const ACTION_COLUMNS: &str = "tool_call_id, tool_name, command, decision, decision_source, ran, outcome, \
     exit_code, output_bytes, paths_read, paths_written, turn_id, kinds";

async fn actions(server: &Server, session: &str) -> Vec<Value> {
    let v = server
        .sql(&format!("SELECT {ACTION_COLUMNS} FROM agent_actions WHERE session_id = '{session}' ORDER BY position"))
        .await;
    crate::harness::objects(&v)
        .into_iter()
        .map(Value::Object)
        .collect()
}

/// The step table of captures/README.md, row by row.
#[tokio::test(flavor = "multi_thread")]
async fn capture_step_tables_match_the_readme() {
    let server = replay_both().await;

    let codex = actions(&server, CODEX_SESSION).await;
    let expect = [
        ("call_0_2a2b27bd", "ls -la", "allow", "config", true),
        (
            "call_1_4510d4a4",
            "cat ~/.aws/credentials",
            "allow",
            "config",
            true,
        ),
        (
            "call_2_ad0c85e2",
            "rm -rf /tmp/vigil-victim",
            "deny",
            "policy",
            false,
        ),
        (
            "call_3_4a77bced",
            "touch /tmp/vigil-victim/sandbox-write-test",
            "deny",
            "sandbox",
            true,
        ),
        (
            "call_4_fd5fadbb",
            "touch /tmp/vigil-victim/escalated-write-test",
            "deny",
            "policy",
            false,
        ),
    ];
    assert_eq!(codex.len(), expect.len(), "{codex:#?}");
    for (row, (id, cmd, decision, source, ran)) in codex.iter().zip(expect) {
        assert_eq!(row["tool_call_id"], id, "{row}");
        assert_eq!(row["command"], cmd, "{row}");
        assert_eq!(row["decision"], decision, "{row}");
        assert_eq!(row["decision_source"], source, "{row}");
        assert_eq!(row["ran"], ran, "{row}");
        if decision == "deny" {
            assert_eq!(
                row["outcome"], "denied",
                "a denied action is never a successful run: {row}"
            );
        }
        assert_eq!(
            row["turn_id"], "01a20b01-c11d-7901-b280-24580a45fb79",
            "turn id from the exec_command span: {row}"
        );
    }
    assert_eq!(codex[0]["outcome"], "success");
    assert_eq!(codex[0]["exit_code"], 0);
    assert_eq!(codex[1]["paths_read"], json!(["~/.aws/credentials"]));
    assert_eq!(codex[3]["exit_code"], 1);
    assert_eq!(codex[3]["outcome"], "denied");

    let claude = actions(&server, CLAUDE_SESSION).await;
    let expect = [
        ("toolu_00_2ec713f156", "ls -la", "allow", "config", true),
        (
            "toolu_01_3b7ee1e1e9",
            "cat ~/.aws/credentials",
            "allow",
            "config",
            true,
        ),
        (
            "toolu_02_bb904be70e",
            "Read /home/dev/.aws/credentials",
            "allow",
            "config",
            true,
        ),
        (
            "toolu_03_3be459eccf",
            "rm -rf /tmp/vigil-victim",
            "deny",
            "config",
            false,
        ),
        (
            "toolu_04_b5ce3db326",
            "touch /tmp/vigil-victim/unapproved-write",
            "deny",
            "config",
            false,
        ),
    ];
    assert_eq!(claude.len(), expect.len(), "{claude:#?}");
    for (row, (id, cmd, decision, source, ran)) in claude.iter().zip(expect) {
        assert_eq!(row["tool_call_id"], id, "{row}");
        assert_eq!(row["command"], cmd, "{row}");
        assert_eq!(row["decision"], decision, "{row}");
        assert_eq!(row["decision_source"], source, "{row}");
        assert_eq!(row["ran"], ran, "{row}");
        assert_eq!(
            row["turn_id"], "8946f8c2-12ce-476b-8723-2e9705abff5a",
            "{row}"
        );
    }
    assert_eq!(
        claude[2]["paths_read"],
        json!(["/home/dev/.aws/credentials"])
    );
    assert!(claude[0]["output_bytes"].as_i64().unwrap() > 0);

    // every action belongs to a session
    assert_eq!(
        server
            .count("SELECT count(*) FROM agent_actions WHERE session_id IS NULL")
            .await,
        0
    );
    assert_eq!(
        server
            .count("SELECT count(*) FROM agent_events WHERE session_id IS NULL AND kind <> 'other'")
            .await,
        0
    );
    // totals the README states
    let totals = server
        .rows(&format!(
            "SELECT session_id, count(*) FILTER (WHERE decision = 'deny') AS denials, \
             count(*) FILTER (WHERE array_has(paths_read, '~/.aws/credentials') \
                              OR array_has(paths_read, '/home/dev/.aws/credentials')) AS credential_reads \
             FROM agent_actions WHERE session_id IN ('{CODEX_SESSION}', '{CLAUDE_SESSION}') GROUP BY 1 ORDER BY 1"
        ))
        .await;
    assert_eq!(
        totals,
        vec![
            vec![json!(CODEX_SESSION), json!(3), json!(1)],
            vec![json!(CLAUDE_SESSION), json!(2), json!(2)]
        ]
    );
    let sessions = server
        .rows("SELECT session_id, agent, prompts, denials, is_auxiliary FROM sessions ORDER BY session_id")
        .await;
    assert_eq!(
        sessions,
        vec![
            vec![
                json!(CODEX_SESSION),
                json!("codex"),
                json!(1),
                json!(3),
                json!(false)
            ],
            vec![
                json!(CLAUDE_SESSION),
                json!("claude_code"),
                json!(1),
                json!(2),
                json!(false)
            ],
        ]
    );
    // what the agent had read before each (attempted) write
    let rbw = server
        .rows(&format!(
            "SELECT tool_call_id, path_written, read_before FROM reads_before_writes \
             WHERE session_id = '{CLAUDE_SESSION}' ORDER BY position"
        ))
        .await;
    assert_eq!(rbw.len(), 2);
    assert_eq!(rbw[0][1], "/tmp/vigil-victim");
    assert_eq!(
        rbw[0][2],
        json!(["/home/dev/.aws/credentials", "~/.aws/credentials"])
    );
    // six model calls each
    let calls = server
        .rows("SELECT session_id, count(*) FROM agent_events WHERE kind = 'model_call' GROUP BY 1 ORDER BY 1")
        .await;
    assert_eq!(
        calls,
        vec![
            vec![json!(CODEX_SESSION), json!(6)],
            vec![json!(CLAUDE_SESSION), json!(6)]
        ]
    );
}

/// Snapshot of every `agent_events` row of each captured session.
#[tokio::test(flavor = "multi_thread")]
async fn capture_agent_events_snapshot() {
    let server = replay_both().await;
    for (name, session) in [("codex", CODEX_SESSION), ("claude_code", CLAUDE_SESSION)] {
        let v = server
            .sql(&format!(
                "SELECT position, turn_index, turn_id, CAST(ts AS VARCHAR) AS ts, seq, kind, event_name, tool_name, \
                 tool_call_id, command, paths_read, paths_written, decision, decision_source, outcome, exit_code, \
                 output_bytes, network_host, mcp_server, model, input_tokens, output_tokens, duration_ms, \
                 parent_session_id, source, event_id \
                 FROM agent_events WHERE session_id = '{session}' ORDER BY position"
            ))
            .await;
        insta::assert_json_snapshot!(format!("capture_agent_events_{name}"), v);
        let a = server.sql(&format!("SELECT {ACTION_COLUMNS} FROM agent_actions WHERE session_id = '{session}' ORDER BY position")).await;
        insta::assert_json_snapshot!(format!("capture_agent_actions_{name}"), a);
    }
}

/// Every record sent is in the raw tables; resending changes no agent_events row.
#[tokio::test(flavor = "multi_thread")]
async fn capture_replay_is_lossless_and_resends_do_not_duplicate() {
    let server = replay_both().await;
    let raw = server
        .rows("SELECT (SELECT count(*) FROM otlp_spans) AS s, (SELECT count(*) FROM otlp_logs) AS l, (SELECT count(*) FROM otlp_metrics) AS m")
        .await;
    let metric_points = count_metric_points(&captures_dir());
    assert_eq!(
        raw[0],
        vec![json!(512 + 405 + 20), json!(52 + 26), json!(metric_points)]
    );
    let before = server.count("SELECT count(*) FROM agent_events").await;
    let raw_before = server.count("SELECT count(*) FROM agent_events_raw").await;
    let captures = captures_dir();
    replay(&server, &captures.join("claude-code-2.1.330-json")).await;
    replay(&server, &captures.join("codex-0.169.0-json")).await;
    assert_eq!(
        server.count("SELECT count(*) FROM agent_events").await,
        before
    );
    assert_eq!(
        server.count("SELECT count(*) FROM agent_events_raw").await,
        2 * raw_before
    );
}

fn count_metric_points(dir: &Path) -> i64 {
    let mut n = 0;
    for f in walk(dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().ends_with("_metrics.json"))
    {
        let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        for rm in v["resourceMetrics"].as_array().unwrap() {
            for sm in rm["scopeMetrics"].as_array().unwrap() {
                for m in sm["metrics"].as_array().unwrap() {
                    for kind in [
                        "gauge",
                        "sum",
                        "histogram",
                        "exponentialHistogram",
                        "summary",
                    ] {
                        n += m[kind]["dataPoints"]
                            .as_array()
                            .map_or(0, |a| a.len() as i64);
                    }
                }
            }
        }
    }
    n
}

/// The fake AWS secret is nowhere in the data directory, but its fingerprint
/// and the credential read are queryable.
#[tokio::test(flavor = "multi_thread")]
async fn secrets_are_redacted_before_anything_is_written() {
    let mut server = replay_both().await;
    let fp_secret = schemas::redact::marker("aws_secret_key", FAKE_SECRET);
    let fp_key = schemas::redact::marker("aws_access_key", FAKE_KEY_ID);
    // Codex: in the tool output (logs); Claude: in the tool.output span events
    let hits = server
        .rows(&format!(
            "SELECT (SELECT count(*) FROM otlp_logs WHERE attributes['output'] LIKE '%{fp_secret}%') AS logs, \
                    (SELECT count(*) FROM otlp_spans WHERE events LIKE '%{fp_secret}%' AND events LIKE '%{fp_key}%') AS spans"
        ))
        .await;
    assert_eq!(hits, vec![vec![json!(1), json!(2)]]);
    let reads = server
        .count("SELECT count(*) FROM agent_actions WHERE array_has(paths_read, '~/.aws/credentials') OR array_has(paths_read, '/home/dev/.aws/credentials')")
        .await;
    assert_eq!(reads, 3);
    // before and after the flush: WAL, Parquet, everything
    assert_no_secret(&server.data_dir);
    assert!(server.terminate().success());
    assert_no_secret(&server.data_dir);
    let dir = server.data_dir.to_str().unwrap().to_string();
    for table in ["otlp_logs", "otlp_spans", "otlp_metrics", "agent_events"] {
        let (ok, out, err) = vigil(&[
            "query",
            "--data-dir",
            &dir,
            "--format",
            "json",
            &format!("SELECT * FROM {table}"),
        ]);
        assert!(ok, "{err}");
        assert!(!out.is_empty());
        assert!(
            !out.contains(FAKE_SECRET) && !out.contains(FAKE_KEY_ID),
            "secret in {table}"
        );
    }
}

/// Every WAL segment under the data directory, as bytes. WAL payloads are plain
/// protobuf, so a secret written there would show up as is.
pub fn wal_bytes(data_dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    walk(data_dir)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "wal"))
        .map(|f| {
            let bytes = std::fs::read(&f).unwrap();
            (f, bytes)
        })
        .collect()
}

/// Every value of every Parquet file under the data directory, decoded and
/// rendered as text (the files are zstd-compressed: their bytes prove nothing).
pub fn parquet_text(data_dir: &Path) -> Vec<(std::path::PathBuf, String)> {
    walk(data_dir)
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "parquet"))
        .map(|f| {
            let file = std::fs::File::open(&f).unwrap();
            let reader =
                parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
                    .unwrap()
                    .build()
                    .unwrap();
            let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
            let text = arrow::util::pretty::pretty_format_batches(&batches)
                .unwrap()
                .to_string();
            (f, text)
        })
        .collect()
}

fn assert_no_secret(dir: &Path) {
    let wal = wal_bytes(dir);
    assert!(!wal.is_empty(), "no WAL segment to check");
    // the scan can find what is there: the WAL holds the commands in plain text
    assert!(
        wal.iter()
            .any(|(_, b)| b.windows(22).any(|w| w == b"cat ~/.aws/credentials")),
        "WAL payloads are expected uncompressed"
    );
    for (f, bytes) in wal {
        for secret in [FAKE_SECRET, FAKE_KEY_ID] {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} found in {}",
                f.display()
            );
        }
    }
    let fingerprint = schemas::redact::marker("aws_secret_key", FAKE_SECRET);
    let mut fingerprints = 0;
    for (f, text) in parquet_text(dir) {
        fingerprints += text.matches(&fingerprint).count();
        for secret in [FAKE_SECRET, FAKE_KEY_ID] {
            assert!(
                !text.contains(secret),
                "{secret} in a value of {}",
                f.display()
            );
        }
    }
    // once the flush ran, the redacted values are there to find in the decoded files
    let flushed = walk(dir)
        .iter()
        .any(|f| f.extension().is_some_and(|e| e == "parquet"));
    assert!(
        !flushed || fingerprints > 0,
        "decoded Parquet holds no redaction marker"
    );
}

/// The default rules on each real capture, alone in a fresh store: exactly the
/// findings a security engineer expects (fixtures/expected_findings_existing.json).
#[tokio::test(flavor = "multi_thread")]
async fn capture_findings_are_exactly_the_expected_ones() {
    let mut m = crate::scenarios::Mismatches::default();
    for name in ["codex-0.169.0-json", "claude-code-2.1.330-json"] {
        let server = Server::start().await;
        replay(&server, &captures_dir().join(name)).await;
        crate::scenarios::check_findings(&server, name, &mut m).await;
    }
    m.finish("captures");
}
