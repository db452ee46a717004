//! Compaction: every answer is the same before, during and after it, and a
//! crash at any step of a merge loses and duplicates nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::crash::numbered_logs;
use crate::harness::{Server, wait_for};

/// Queries whose answers must not change; the view queries have a total order,
/// the raw tables are compared as multisets of rows.
const ORDERED: &[&str] = &[
    "SELECT * FROM agent_events ORDER BY session_id, position",
    "SELECT * FROM agent_actions ORDER BY session_id, position",
    "SELECT * FROM sessions ORDER BY session_id",
    "SELECT * FROM files_read_before_change ORDER BY session_id, position, path_written",
    "SELECT * FROM silent_commands ORDER BY session_id, position",
    "SELECT * FROM denied_attempts ORDER BY session_id, position",
    "SELECT * FROM plan_evolution ORDER BY session_id, revision",
    "SELECT finding_id, session_id, rule_id, severity, event_ids FROM findings ORDER BY finding_id",
];
const UNORDERED: &[&str] = &[
    "SELECT * FROM otlp_spans",
    "SELECT * FROM otlp_logs",
    "SELECT * FROM otlp_metrics",
    "SELECT * FROM agent_events_raw",
];

async fn answers(server: &Server) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for sql in ORDERED {
        let rows = server.rows(sql).await;
        out.push((
            sql.to_string(),
            rows.iter()
                .map(|r| Value::from(r.clone()).to_string())
                .collect(),
        ));
    }
    for sql in UNORDERED {
        let mut rows: Vec<String> = server
            .rows(sql)
            .await
            .iter()
            .map(|r| Value::from(r.clone()).to_string())
            .collect();
        rows.sort();
        out.push((sql.to_string(), rows));
    }
    out
}

fn assert_same(before: &[(String, Vec<String>)], now: &[(String, Vec<String>)], when: &str) {
    for ((sql, a), (_, b)) in before.iter().zip(now) {
        let only = |x: &[String], y: &[String]| -> Vec<String> {
            x.iter()
                .filter(|r| !y.contains(r))
                .take(3)
                .cloned()
                .collect()
        };
        assert_eq!(
            a.len(),
            b.len(),
            "{when}: {sql}: row count changed; only before: {:?}; only now: {:?}",
            only(a, b),
            only(b, a)
        );
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(x, y, "{when}: {sql}: row {i} changed");
        }
    }
}

/// Parquet files of the tables that are part of them: on disk, minus the
/// inputs named by a finished merge (still on disk in their grace period).
fn live_files(data_dir: &Path) -> usize {
    let all = crate::otlp_clients::walk(&data_dir.join("tables"));
    let merged: BTreeSet<PathBuf> = all
        .iter()
        .filter(|p| p.to_string_lossy().ends_with(".merge"))
        .flat_map(|list| {
            let dir = list.parent().unwrap().to_path_buf();
            std::fs::read_to_string(list)
                .unwrap()
                .lines()
                .map(|n| dir.join(n))
                .collect::<Vec<_>>()
        })
        .collect();
    all.iter()
        .filter(|p| p.extension().is_some_and(|e| e == "parquet") && !merged.contains(*p))
        .count()
}

async fn wait_flushed(server: &Server) {
    wait_for("a flush", Duration::from_secs(30), async || {
        (server.metric("vigil_buffer_rows").await == 0.0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn answers_are_the_same_before_during_and_after_compaction() {
    let tmp = tempfile::tempdir().unwrap();
    let data_dir = tmp.path().join("data");
    let no_compaction = ["--flush-interval", "50ms", "--compact-interval", "0s"];
    let mut server = Server::start_in(&data_dir, &no_compaction).await;
    // every scenario and capture, each request twice (resends the views drop),
    // one flush per request: many small files per partition
    let mut dirs = fixtures::scenarios();
    dirs.extend(fixtures::captures());
    for round in 0..2 {
        for dir in &dirs {
            for m in fixtures::manifest(dir).expect("manifest") {
                let body = std::fs::read(dir.join(&m.file)).unwrap();
                let r = server.post_otlp(&m.path, &m.content_type, body).await;
                assert_eq!(r.status(), 200, "round {round}: {}", m.file);
                wait_flushed(&server).await;
            }
        }
    }
    server.findings().await;
    let before = answers(&server).await;
    assert!(
        before
            .iter()
            .all(|(sql, rows)| !rows.is_empty() || sql.contains("otlp_metrics")),
        "a query answered nothing, so it tests nothing: {:?}",
        before.iter().map(|(s, r)| (s, r.len())).collect::<Vec<_>>()
    );
    assert!(server.terminate().success());
    let files_before = live_files(&data_dir);

    let compaction = [
        "--flush-interval",
        "50ms",
        "--compact-interval",
        "50ms",
        "--compact-fan-in",
        "2",
        "--query-timeout",
        "5s",
    ];
    let mut server = Server::start_in(&data_dir, &compaction).await;
    // during: answers taken while merges are still being swapped in
    wait_for("a compaction", Duration::from_secs(60), async || {
        (server.metric("vigil_compactions_total").await >= 1.0).then_some(())
    })
    .await;
    assert_same(&before, &answers(&server).await, "during compaction");
    // after: once a whole round of queries saw no further merge
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let merges = server.metric("vigil_compactions_total").await;
        let now = answers(&server).await;
        assert_same(&before, &now, "after compaction");
        if server.metric("vigil_compactions_total").await == merges {
            break;
        }
        assert!(Instant::now() < deadline, "compaction never settled");
    }
    assert_eq!(server.metric("vigil_compaction_errors_total").await, 0.0);
    assert!(server.terminate().success());
    let files_after = live_files(&data_dir);
    assert!(
        files_after * 2 < files_before,
        "{files_before} files before, {files_after} after"
    );
    // and from the files alone, after the restart that removes merged inputs
    let server = Server::start_in(&data_dir, &no_compaction).await;
    assert_same(&before, &answers(&server).await, "after a restart");
    let leftovers: Vec<_> = crate::otlp_clients::walk(&data_dir.join("tables"))
        .into_iter()
        .filter(|p| {
            let p = p.to_string_lossy();
            p.ends_with(".merge") || p.ends_with(".tmp")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(live_files(&data_dir), files_after);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_crash_at_each_step_of_a_merge_loses_and_duplicates_nothing() {
    let flags = [
        "--flush-interval",
        "20ms",
        "--compact-interval",
        "20ms",
        "--compact-fan-in",
        "2",
    ];
    let mut failures = Vec::new();
    for point in [
        "compact-before-list",
        "compact-before-rename",
        "compact-after-rename",
        "compact-after-swap",
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let data_dir = tmp.path().join("data");
        let mut server =
            Server::start_in_env(&data_dir, &flags, &[("VIGIL_FAILPOINT", point)]).await;
        let client = crate::harness::http_client()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        let mut acked = BTreeSet::new();
        let mut next = 0u64;
        // send until the failpoint stops the process (bounded)
        let crashed = loop {
            if next >= 20_000 {
                break false;
            }
            let r = client
                .post(server.otlp_url("/v1/logs"))
                .header("content-type", "application/json")
                .body(numbered_logs(next, 10))
                .send()
                .await;
            match r {
                Ok(r) if r.status() == 200 => acked.extend(next..next + 10),
                Ok(r) => panic!("{point}: unexpected status {}", r.status()),
                Err(_) => break true,
            }
            next += 10;
        };
        assert!(crashed, "{point}: the failpoint was never reached");
        let status = server
            .wait_exit(Duration::from_secs(10))
            .expect("the process stopped");
        assert!(!status.success(), "{point}: {status}");
        drop(server);

        let server = Server::start_in(&data_dir, &flags).await;
        let present: Vec<u64> = server
            .rows("SELECT CAST(attributes['n'] AS BIGINT) FROM otlp_logs ORDER BY 1")
            .await
            .into_iter()
            .map(|r| r[0].as_u64().unwrap())
            .collect();
        let distinct: BTreeSet<u64> = present.iter().copied().collect();
        if distinct.len() != present.len() {
            failures.push(format!(
                "{point}: {} rows for {} records (duplicates)",
                present.len(),
                distinct.len()
            ));
        }
        let lost: Vec<_> = acked.difference(&distinct).take(5).collect();
        if !lost.is_empty() {
            failures.push(format!("{point}: acknowledged but lost: {lost:?}"));
        }
        // and the store goes on compacting after the restart
        wait_for(
            "a compaction after the restart",
            Duration::from_secs(30),
            async || {
                if server.metric("vigil_compaction_errors_total").await > 0.0 {
                    return Some(Err("compaction errors"));
                }
                let more = client
                    .post(server.otlp_url("/v1/logs"))
                    .header("content-type", "application/json")
                    .body(numbered_logs(next, 10))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200);
                assert!(more, "{point}: intake after the restart");
                next += 10;
                (server.metric("vigil_compactions_total").await >= 1.0).then_some(Ok(()))
            },
        )
        .await
        .unwrap_or_else(|e| failures.push(format!("{point}: {e}")));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
