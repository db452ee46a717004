//! The JSON API and `vigil check` on recorded scenarios, through the real
//! server and binary.

use std::process::Command;

use serde_json::{Value, json};

use crate::harness::{Server, vigil_bin};

const CODEX_PUSH: &str = "9c81f019-dad5-7dec-8670-5e3865184677";
const CLAUDE_PUSH: &str = "cb247c3d-156b-73ba-8a30-fca9dba05de5";
const REVIEWED: &str = "feb588bc-1fe4-7999-80ff-b526e11a293a";
const REVIEWER: &str = "66131476-8783-7c56-8180-985d06a75c08";
const PUSHES: [&str; 4] = [
    "call_1_4de35122",
    "call_2_bf6102ab",
    "toolu_01_aeaee983e5",
    "toolu_02_fe77186a2d",
];

async fn loaded() -> Server {
    let server = Server::start().await;
    for name in ["05_force_push_retry", "10_codex_auto_review"] {
        crate::captures::replay(&server, &fixtures::scenarios_dir().join(name)).await;
    }
    server.findings().await; // the detector has caught up
    server
}

async fn get(server: &Server, path: &str) -> (u16, Value) {
    let r = reqwest::get(format!("http://{}{path}", server.http))
        .await
        .expect("GET");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn ids(v: &Value, list: &str, key: &str) -> Vec<String> {
    v[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {v}"))
        .iter()
        .map(|x| x[key].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_chains_findings_and_rules() {
    let server = loaded().await;
    let mut failures = Vec::new();
    let mut expect = |what: &str, ok: bool, detail: String| {
        if !ok {
            failures.push(format!("{what}: {detail}"));
        }
    };

    // (query, sessions newest first, total)
    let cases: [(&str, Vec<&str>, i64); 8] = [
        ("", vec![REVIEWED, CLAUDE_PUSH, CODEX_PUSH], 3),
        (
            "?include_auxiliary=true",
            vec![REVIEWED, REVIEWER, CLAUDE_PUSH, CODEX_PUSH],
            4,
        ),
        ("?agent=claude_code", vec![CLAUDE_PUSH], 1),
        ("?q=force", vec![CLAUDE_PUSH, CODEX_PUSH], 2),
        ("?q=FORCE%20origin", vec![CLAUDE_PUSH, CODEX_PUSH], 2),
        ("?min_severity=critical", vec![], 0),
        ("?has_findings=true&limit=1", vec![REVIEWED], 3),
        ("?limit=2&offset=2", vec![CODEX_PUSH], 3),
    ];
    for (q, want, total) in cases {
        let (status, v) = get(&server, &format!("/api/sessions{q}")).await;
        expect(q, status == 200, format!("status {status}: {v}"));
        let got: Vec<String> = ids(&v, "sessions", "session_id");
        let mut got_sorted = got.clone();
        let mut want_sorted: Vec<String> = want.iter().map(|s| s.to_string()).collect();
        // sessions of one scenario share their timestamps: compare as sets where order ties
        got_sorted.sort();
        want_sorted.sort();
        if q.contains("limit") {
            // which rows a page holds depends on the scenarios' times: its size does not
            expect(
                q,
                got.len() == want.len(),
                format!("sessions {got:?}, want {} rows", want.len()),
            );
        } else {
            expect(
                q,
                got_sorted == want_sorted,
                format!("sessions {got:?}, want {want:?}"),
            );
        }
        expect(
            q,
            v["total"] == json!(total),
            format!("total {}, want {total}", v["total"]),
        );
    }
    // the listing orders as SQL over the `sessions` view does, whichever way it is
    // computed (sort keys that duplicates cannot change read the raw rows)
    for (q, order) in [
        (
            "",
            "WHERE NOT is_auxiliary ORDER BY last_seen DESC NULLS LAST, session_id",
        ),
        (
            "?sort=started&dir=asc&include_auxiliary=true",
            "ORDER BY started ASC NULLS LAST, session_id",
        ),
        (
            "?sort=agent",
            "WHERE NOT is_auxiliary ORDER BY agent DESC NULLS LAST, session_id",
        ),
        (
            "?sort=denials&dir=asc",
            "WHERE NOT is_auxiliary ORDER BY denials ASC NULLS LAST, session_id",
        ),
        (
            "?has_findings=false&include_auxiliary=true",
            "WHERE session_id NOT IN (SELECT session_id FROM findings) ORDER BY last_seen DESC NULLS LAST, session_id",
        ),
    ] {
        let (_, v) = get(&server, &format!("/api/sessions{q}")).await;
        let want: Vec<String> = server
            .rows(&format!("SELECT session_id FROM sessions {order}"))
            .await
            .into_iter()
            .filter_map(|r| r[0].as_str().map(str::to_string))
            .collect();
        let got = ids(&v, "sessions", "session_id");
        expect(q, got == want, format!("{got:?}, want {want:?}"));
    }
    // and both ways give the same rows
    let by_id = |v: &Value| -> std::collections::BTreeMap<String, Value> {
        v["sessions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| {
                (
                    s["session_id"].as_str().unwrap_or("").to_string(),
                    s.clone(),
                )
            })
            .collect()
    };
    let (_, a) = get(
        &server,
        "/api/sessions?include_auxiliary=true&sort=last_seen",
    )
    .await;
    let (_, b) = get(
        &server,
        "/api/sessions?include_auxiliary=true&sort=tool_calls",
    )
    .await;
    expect(
        "rows of both ways",
        by_id(&a) == by_id(&b),
        format!("{a}\n{b}"),
    );

    let (_, all) = get(&server, "/api/sessions").await;
    let codex = all["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == CODEX_PUSH)
        .cloned()
        .unwrap_or_default();
    for (k, want) in [
        ("agent", json!("codex")),
        ("turns", json!(1)),
        ("tool_calls", json!(2)),
        ("denials", json!(1)),
        ("findings", json!(4)),
        ("max_severity", json!("high")),
        (
            "findings_by_severity",
            json!({"critical": 0, "high": 3, "medium": 1, "low": 0, "info": 0}),
        ),
        ("is_auxiliary", json!(false)),
        ("reviews_session", Value::Null),
    ] {
        expect(
            &format!("codex session {k}"),
            codex[k] == want,
            format!("{}, want {want}", codex[k]),
        );
    }

    // the intent chain of the reviewed session
    let (status, chain) = get(&server, &format!("/api/sessions/{REVIEWED}")).await;
    expect("chain", status == 200, format!("status {status}"));
    let turns = chain["turns"].as_array().cloned().unwrap_or_default();
    let prompted: Vec<&Value> = turns.iter().filter(|t| !t["prompt"].is_null()).collect();
    expect(
        "chain turns",
        prompted.len() == 1,
        format!("{} prompted turns", prompted.len()),
    );
    let actions: Vec<Value> = turns
        .iter()
        .flat_map(|t| t["actions"].as_array().cloned().unwrap_or_default())
        .collect();
    let calls: Vec<String> = actions
        .iter()
        .map(|a| a["tool_call_id"].as_str().unwrap_or("").to_string())
        .collect();
    expect(
        "chain actions",
        calls
            == [
                "call_1_f648e5f7",
                "call_2_9cbafcf4",
                "call_3_d593378d",
                "call_4_1d2eb1d0",
            ],
        format!("{calls:?}"),
    );
    let refused = actions
        .iter()
        .find(|a| a["tool_call_id"] == "call_4_1d2eb1d0")
        .cloned()
        .unwrap_or_default();
    for (k, want) in [
        ("decision", json!("deny")),
        ("decision_source", json!("reviewer")),
        ("ran", json!(false)),
        ("reviewed_by", json!(REVIEWER)),
        ("paths_written", json!(["~/.codex/config.toml"])),
    ] {
        expect(
            &format!("refused action {k}"),
            refused[k] == want,
            format!("{}, want {want}", refused[k]),
        );
    }
    expect(
        "refused action steps",
        refused["steps"].as_array().is_some_and(|s| !s.is_empty()),
        format!("{}", refused["steps"]),
    );
    expect(
        "refused action findings",
        refused["findings"].as_array().map(Vec::len) == Some(2),
        format!("{}", refused["findings"]),
    );
    let rules: Vec<String> = ids(&chain, "findings", "rule_id");
    let mut rules_sorted = rules.clone();
    rules_sorted.sort();
    expect(
        "chain findings",
        rules_sorted == ["credential-read", "denied-action", "self-modification"],
        format!("{rules:?}"),
    );
    expect(
        "chain auxiliary",
        ids(&chain, "auxiliary_sessions", "session_id") == [REVIEWER],
        format!("{}", chain["auxiliary_sessions"]),
    );
    let (status, v) = get(&server, "/api/sessions/no-such-session").await;
    expect("unknown session", status == 404, format!("{status}: {v}"));

    // findings
    let (_, f) = get(&server, "/api/findings?rule=denied-then-retried").await;
    let mut sessions = ids(&f, "findings", "session_id");
    sessions.sort();
    expect(
        "denied-then-retried findings",
        sessions == [CODEX_PUSH, CLAUDE_PUSH],
        format!("{sessions:?}"),
    );
    let retried = &f["findings"][0];
    expect(
        "finding details",
        retried["details"]["steps"].as_array().map(Vec::len) == Some(2),
        format!("{}", retried["details"]),
    );
    let (_, f) = get(
        &server,
        &format!("/api/findings?session={CODEX_PUSH}&severity=high"),
    )
    .await;
    expect(
        "high findings of a session",
        f["total"] == json!(3),
        format!("{}", f["total"]),
    );

    // rules
    let (_, r) = get(&server, "/api/rules").await;
    let rule_ids = ids(&r, "rules", "id");
    for id in [
        "denied-action",
        "credential-read",
        "secret-exfiltration",
        "covert-exfiltration",
        "download-execute",
        "destructive-command",
        "destructive-infra",
        "denied-then-retried",
        "unlisted-mcp-server",
        "first-mcp-server",
        "new-egress-domain",
        "silent-side-effect",
        "controls-disabled",
        "self-modification",
    ] {
        expect(
            "rules",
            rule_ids.iter().any(|r| r == id),
            format!("{id} missing from {rule_ids:?}"),
        );
    }

    // clear refusals of bad parameters
    for (q, needle) in [
        ("/api/sessions?since=yesterday", "is not a time"),
        ("/api/sessions?limit=0", "limit"),
        ("/api/sessions?min_severity=urgent", "severity"),
        ("/api/findings?severity=urgent", "severity"),
    ] {
        let (status, v) = get(&server, q).await;
        expect(q, status == 400, format!("status {status}: {v}"));
        expect(
            q,
            v["error"].as_str().is_some_and(|e| e.contains(needle)),
            format!("{v}"),
        );
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

/// `vigil check` with its exit status and output.
/// Every listed session with every column the listing shows, as SQL over
/// the `sessions` and `findings` views computes them, in the listing's order.
async fn sessions_by_sql(server: &Server, filter: &str, order: &str) -> Vec<Value> {
    server
        .rows(&format!(
            "SELECT s.session_id, s.agent, s.agent_version, s.user_id, s.host, s.service_name, \
               s.started, s.last_seen, s.events, s.prompts, s.tool_calls, s.denials, \
               s.reviews_session, s.is_auxiliary, COALESCE(f.n, 0) AS findings, \
               COALESCE(f.high, 0) AS high \
             FROM sessions s LEFT JOIN (SELECT session_id, count(*) AS n, \
               sum(CASE WHEN severity = 'high' THEN 1 ELSE 0 END) AS high \
               FROM findings GROUP BY session_id) f ON f.session_id = s.session_id \
             WHERE {filter} ORDER BY {order}"
        ))
        .await
        .into_iter()
        .map(Value::Array)
        .collect()
}

fn listed(v: &Value) -> Vec<Value> {
    v["sessions"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|s| {
            json!([
                s["session_id"],
                s["agent"],
                s["agent_version"],
                s["user_id"],
                s["host"],
                s["service_name"],
                s["started"],
                s["last_seen"],
                s["events"],
                s["turns"],
                s["tool_calls"],
                s["denials"],
                s["reviews_session"],
                s["is_auxiliary"],
                s["findings"],
                s["findings_by_severity"]["high"],
            ])
        })
        .collect()
}

/// The listing reads the detector's per-session summaries, and computes from
/// the store only the sessions touched since the detector's checkpoint: both
/// parts give exactly what the views give, resend duplicates included.
#[tokio::test(flavor = "multi_thread")]
async fn listing_from_summaries_matches_the_views() {
    let mut first = Server::start().await;
    for name in ["05_force_push_retry", "10_codex_auto_review"] {
        crate::captures::replay(&first, &fixtures::scenarios_dir().join(name)).await;
    }
    first.findings().await; // summaries for every session so far
    first.terminate();
    // a detector that will not run again during the test: what arrives now is
    // past its checkpoint
    let server = Server::start_in(&first.data_dir, &["--detect-interval", "1h"]).await;
    for name in ["12_attack_chains", "05_force_push_retry"] {
        // new sessions, and resent duplicates of summarized ones
        crate::captures::replay(&server, &fixtures::scenarios_dir().join(name)).await;
    }
    let summarized = server
        .count("SELECT count(*) FROM session_summaries WHERE events IS NOT NULL")
        .await;
    let stale = server
        .count(
            "SELECT count(DISTINCT session_id) FROM agent_events_raw \
             WHERE wal_seq > (SELECT max(evaluated_through) FROM findings_raw)",
        )
        .await;
    let all = server.count("SELECT count(*) FROM sessions").await;
    // (the restarted detector may have made one round before the replay ended)
    assert!(
        summarized >= 4,
        "{summarized}: sessions of 05 and 10 summarized"
    );
    assert!(stale >= 2 && all > 4, "{stale} stale of {all}");

    let mut failures = Vec::new();
    for (q, order) in [
        (
            "?include_auxiliary=true&limit=1000",
            "last_seen DESC NULLS LAST, session_id",
        ),
        (
            "?include_auxiliary=true&sort=denials&dir=asc&limit=1000",
            "denials ASC NULLS LAST, session_id",
        ),
        (
            "?include_auxiliary=true&sort=findings&limit=1000",
            "findings DESC NULLS LAST, session_id",
        ),
    ] {
        let (status, v) = get(&server, &format!("/api/sessions{q}")).await;
        let want = sessions_by_sql(&server, "true", order).await;
        let got = listed(&v);
        if status != 200 || got != want || v["total"] != json!(all) {
            failures.push(format!(
                "{q}: status {status}, total {} of {all}\n  got  {got:?}\n  want {want:?}",
                v["total"]
            ));
        }
    }
    // filters on summarized and computed rows alike
    for (q, filter) in [
        ("?has_findings=true", "NOT s.is_auxiliary AND f.n > 0"),
        ("?agent=codex", "NOT s.is_auxiliary AND s.agent = 'codex'"),
    ] {
        let (_, v) = get(&server, &format!("/api/sessions{q}&limit=1000")).await;
        let got = listed(&v);
        let want = sessions_by_sql(&server, filter, "last_seen DESC NULLS LAST, session_id").await;
        if got != want || want.is_empty() {
            failures.push(format!("{q}\n  got  {got:?}\n  want {want:?}"));
        }
    }
    // the reviewer's rows are in Parquet now (flushed before the restart served):
    // the chain finds it through the files' `parent_session_id` index
    let (status, chain) = get(&server, &format!("/api/sessions/{REVIEWED}")).await;
    let reviewers = ids(&chain, "auxiliary_sessions", "session_id");
    if status != 200 || reviewers != [REVIEWER] {
        failures.push(format!(
            "chain of {REVIEWED} after the restart: status {status}, reviewers {reviewers:?}"
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn check(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(vigil_bin())
        .arg("check")
        .args(args)
        .env("VIGIL_LOG", "warn")
        .output()
        .expect("run vigil check");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn denied_calls(violations: &Value) -> Vec<String> {
    let mut v: Vec<String> = violations
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {violations}"))
        .iter()
        .filter(|x| x["policy_decision"] == "deny")
        .map(|x| x["tool_call_id"].as_str().unwrap_or("").to_string())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn policy_checks_over_the_cli_and_http() {
    let mut server = loaded().await;
    let tmp = tempfile::tempdir().unwrap();
    let claude = tmp.path().join("settings.json");
    std::fs::write(
        &claude,
        r#"{"permissions": {
  "allow": ["Bash(*)", "Read(*)", "Edit(*)", "Write(*)"],
  "deny": ["Bash(git push --force:*)", "Bash(git push -f:*)"]
}}"#,
    )
    .unwrap();
    let codex = tmp.path().join("default.rules");
    std::fs::write(
        &codex,
        "prefix_rule(pattern = [\"git\", \"push\"], decision = \"forbidden\", justification = \"no pushes from agents\")\n",
    )
    .unwrap();
    let harmless = tmp.path().join("harmless.rules");
    std::fs::write(
        &harmless,
        "prefix_rule(pattern = [\"rm\", \"-rf\", \"/\"], decision = \"forbidden\")\n",
    )
    .unwrap();
    let bad = tmp.path().join("bad.rules");
    std::fs::write(
        &bad,
        "# ok\nprefix_rule(pattern = [\"git\"], decision = \"maybe\")\n",
    )
    .unwrap();
    let mut pushes: Vec<String> = PUSHES.iter().map(|s| s.to_string()).collect();
    pushes.sort();

    // over HTTP, on the running server
    let client = crate::harness::http_client().build().expect("client");
    let post = async |body: Value| -> (u16, Value) {
        let r = client
            .post(format!("http://{}/api/check", server.http))
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    };
    let content = std::fs::read_to_string(&codex).unwrap();
    let (status, v) =
        post(json!({"policies": [{"name": "default.rules", "content": content}]})).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(denied_calls(&v["violations"]), pushes, "{v}");
    assert_eq!(v["ran"], json!(2), "the -f pushes ran: {v}");
    let first = &v["violations"][0];
    assert_eq!(
        first["rule"].as_str().map(|r| r.contains("prefix_rule")),
        Some(true),
        "{first}"
    );
    assert_eq!(
        first["justification"],
        json!("no pushes from agents"),
        "{first}"
    );
    assert_eq!(first["line"], json!(1), "{first}");
    let (status, v) = post(
        json!({"policies": [{"name": "default.rules", "content": content}], "session": CODEX_PUSH}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        denied_calls(&v["violations"]),
        ["call_1_4de35122", "call_2_bf6102ab"],
        "{v}"
    );
    let bad_text = std::fs::read_to_string(&bad).unwrap();
    let (status, v) = post(json!({"policies": [{"name": "bad.rules", "content": bad_text}]})).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["policy_error"]["line"], json!(2), "{v}");
    let (status, _) = post(json!({"policies": []})).await;
    assert_eq!(status, 400);

    // and from the CLI, over the stored files
    assert!(server.terminate().success());
    let dir = server.data_dir.display().to_string();
    let (code, out, err) = check(&[
        "--data-dir",
        &dir,
        "--policy",
        codex.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(denied_calls(&v), pushes);
    let (code, out, err) = check(&[
        "--data-dir",
        &dir,
        "--policy",
        claude.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(denied_calls(&serde_json::from_str(&out).unwrap()), pushes);
    let (code, out, err) = check(&["--data-dir", &dir, "--policy", codex.to_str().unwrap()]);
    assert_eq!(code, 1, "{err}");
    assert!(
        out.contains("call_1_4de35122")
            && out.contains("4 actions the policy would deny or ask about (2 of them ran)"),
        "{out}"
    );
    let (code, out, err) = check(&["--data-dir", &dir, "--policy", harmless.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("no violations"), "{out}");
    let (code, _, err) = check(&["--data-dir", &dir, "--policy", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.rules:2"), "{err}");
    let (code, _, err) = check(&[
        "--data-dir",
        &dir,
        "--policy",
        codex.to_str().unwrap(),
        "--since",
        "next tuesday",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("is not a time"), "{err}");
}
