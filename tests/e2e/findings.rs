//! Incremental, exactly-once detection: a sequence whose halves arrive in
//! separate requests, the later half first and a restart in between, yields
//! one finding; restarts add no duplicate; `vigil rescan` gives the same set.

use serde_json::Value;

use crate::harness::{Server, vigil};

const SCENARIO: &str = "04_prompt_injection_exfil";
const CODEX_SESSION: &str = "dd89bf93-7193-79c4-8f71-8bdd8144da3a";
const READ: &str = "call_2_e62e359e";
const UPLOAD: &str = "call_3_bc3b3d9a";

/// The scenario's Codex log request split in two: the upload's records and the rest.
fn halves() -> (Vec<u8>, Vec<u8>) {
    let path = fixtures::scenarios_dir()
        .join(SCENARIO)
        .join("0002_logs.json");
    let body: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mentions_upload = |r: &Value| r.to_string().contains(UPLOAD);
    let keep = |pred: &dyn Fn(&Value) -> bool| {
        let mut b = body.clone();
        for rl in b["resourceLogs"].as_array_mut().unwrap() {
            for sl in rl["scopeLogs"].as_array_mut().unwrap() {
                sl["logRecords"].as_array_mut().unwrap().retain(|r| pred(r));
            }
        }
        serde_json::to_vec(&b).unwrap()
    };
    let upload = keep(&|r| mentions_upload(r));
    let rest = keep(&|r| !mentions_upload(r));
    (upload, rest)
}

async fn post(server: &Server, body: Vec<u8>) {
    let r = server.post_otlp("/v1/logs", "application/json", body).await;
    assert_eq!(r.status(), 200);
}

fn exfiltrations(findings: &[Value]) -> Vec<&Value> {
    findings
        .iter()
        .filter(|f| f["rule"] == "secret-exfiltration" && f["session_id"] == CODEX_SESSION)
        .collect()
}

/// `finding_id, rule_id, session_id` of every finding, sorted: what a rescan must reproduce.
async fn ids(server: &Server) -> Vec<Vec<Value>> {
    server.findings().await;
    server
        .rows("SELECT finding_id, rule_id, session_id FROM findings ORDER BY finding_id")
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sequence_split_across_requests_and_a_restart_is_found_once() {
    let (upload, rest) = halves();
    let server = Server::start().await;
    post(&server, upload).await;
    let first = server.findings().await;
    assert_eq!(
        exfiltrations(&first),
        Vec::<&Value>::new(),
        "only the upload so far"
    );
    assert!(
        first
            .iter()
            .any(|f| f["rule"] == "denied-action"
                && f["tool_call_ids"] == serde_json::json!([UPLOAD])),
        "the refused upload is a finding on its own: {first:?}"
    );

    let server = server.restart().await;
    post(&server, rest).await;
    let after = server.findings().await;
    let want = serde_json::json!({
        "rule": "secret-exfiltration",
        "session_id": CODEX_SESSION,
        "tool_call_ids": [READ, UPLOAD],
        "severity": "critical",
    });
    assert_eq!(exfiltrations(&after), vec![&want]);
    let before_restart = ids(&server).await;
    assert_eq!(
        before_restart.len(),
        after.len(),
        "one row per finding in the view"
    );

    // a restart re-evaluates nothing twice and duplicates nothing
    let mut server = server.restart().await;
    assert_eq!(ids(&server).await, before_restart);
    let raw = server
        .count(&format!(
            "SELECT count(DISTINCT wal_seq) FROM findings_raw WHERE session_id = '{CODEX_SESSION}'"
        ))
        .await;
    assert_eq!(raw, 2, "two passes over the Codex session: one per half");

    // a rescan recomputes the same findings, with the same ids
    let status = server.terminate();
    assert!(status.success(), "{status}");
    let dir = server.data_dir.display().to_string();
    let (ok, out, err) = vigil(&["rescan", "--data-dir", &dir]);
    assert!(ok, "rescan failed: {err}");
    assert!(
        out.contains(&format!("{} findings", before_restart.len())),
        "{out}"
    );
    let (ok, out, err) = vigil(&[
        "query",
        "--data-dir",
        &dir,
        "--format",
        "json",
        "SELECT finding_id, rule_id, session_id FROM findings ORDER BY finding_id",
    ]);
    assert!(ok, "{err}");
    let rescanned: Vec<Vec<Value>> = out
        .lines()
        .map(|l| {
            let o: serde_json::Map<String, Value> = serde_json::from_str(l).unwrap();
            vec![
                o["finding_id"].clone(),
                o["rule_id"].clone(),
                o["session_id"].clone(),
            ]
        })
        .collect();
    assert_eq!(rescanned, before_restart);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_rule_file_stops_the_start_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("bad.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nid = \"x\"\nseverity = \"high\"\n[rule.match]\ncommand = ['(unclosed']\n",
    )
    .unwrap();
    let dir = tmp.path().join("data");
    let rescan = || {
        crate::harness::vigil(&[
            "rescan",
            "--data-dir",
            &dir.display().to_string(),
            "--rules",
            &rules.display().to_string(),
        ])
    };
    let (ok, _, err) = rescan();
    assert!(!ok);
    assert!(err.contains("no Vigil data directory"), "{err}");
    std::fs::create_dir_all(dir.join("tables")).unwrap();
    let (ok, _, err) = rescan();
    assert!(!ok);
    assert!(err.contains("bad.toml"), "{err}");
    assert!(err.contains("rule \"x\""), "{err}");
    assert!(err.contains("unclosed"), "{err}");
}
