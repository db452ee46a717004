//! A second start always works: stop (SIGTERM) or crash (SIGKILL), with or
//! without data in between, and whatever state a stop or crash leaves on disk,
//! the next start succeeds and every acknowledged record is present once.

use std::path::Path;

use crate::harness::Server;
use crate::otlp_clients::json_logs;

/// Sends one record marked `marker` and checks it was acknowledged.
async fn send(server: &Server, marker: &str) {
    let r = server
        .post_otlp("/v1/logs", "application/json", json_logs(marker))
        .await;
    assert_eq!(r.status(), 200, "{marker}: {}", r.text().await.unwrap_or_default());
}

/// Every marker sent so far is stored exactly once, and nothing else.
async fn assert_exactly(server: &Server, markers: &[String]) {
    let rows = server
        .rows("SELECT attributes['marker'], count(*) FROM otlp_logs GROUP BY 1 ORDER BY 1")
        .await;
    let mut want: Vec<_> = markers.to_vec();
    want.sort();
    let got: Vec<(String, i64)> = rows
        .iter()
        .map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_i64().unwrap()))
        .collect();
    let expected: Vec<(String, i64)> = want.into_iter().map(|m| (m, 1)).collect();
    assert_eq!(got, expected);
    let events = server
        .count("SELECT count(*) FROM agent_events_raw WHERE source = 'otlp_logs'")
        .await;
    assert_eq!(events, 0, "hand-written logs are no agent events");
}

#[derive(Debug, Clone, Copy)]
enum Stop {
    Term,
    Kill,
}

#[tokio::test(flavor = "multi_thread")]
async fn start_stop_cycles_with_and_without_data_always_start_again() {
    let mut server = Server::start().await;
    let data_dir = server.data_dir.clone();
    let mut sent: Vec<String> = Vec::new();
    // every combination, in an order that also repeats each one back to back
    let cycles = [
        (Stop::Term, false),
        (Stop::Term, false),
        (Stop::Term, true),
        (Stop::Term, false),
        (Stop::Kill, false),
        (Stop::Kill, false),
        (Stop::Kill, true),
        (Stop::Term, true),
        (Stop::Kill, true),
        (Stop::Kill, false),
        (Stop::Term, false),
    ];
    for (i, (stop, with_data)) in cycles.into_iter().enumerate() {
        if with_data {
            for j in 0..3 {
                let m = format!("c{i}-r{j}");
                send(&server, &m).await;
                sent.push(m);
            }
        }
        match stop {
            Stop::Term => {
                let status = server.terminate();
                assert!(status.success(), "cycle {i}: exit {status:?} after SIGTERM");
            }
            Stop::Kill => server.kill9(),
        }
        server = server.restart().await;
        assert_eq!(server.data_dir, data_dir);
        assert_exactly(&server, &sent).await;
    }
}

/// Writes `bytes` to a file under the data directory.
fn plant(dir: &Path, rel: &str, bytes: &[u8]) {
    let path = dir.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
}

/// The next segment's file name after the ones present.
fn next_segment_name(data_dir: &Path) -> String {
    let mut names: Vec<String> = std::fs::read_dir(data_dir.join("wal"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".wal"))
        .collect();
    names.sort();
    let last: u64 = names
        .last()
        .and_then(|n| n.trim_end_matches(".wal").parse().ok())
        .unwrap_or(1);
    format!("wal/{:020}.wal", last + 1)
}

#[tokio::test(flavor = "multi_thread")]
async fn every_state_a_stop_or_crash_leaves_starts_cleanly() {
    let mut server = Server::start().await;
    let dir = server.data_dir.clone();
    let mut sent = Vec::new();
    let states: [(&str, fn(&Path)); 5] = [
        ("an empty segment (tag only) beyond the last record", |d| {
            plant(d, &next_segment_name(d), b"VIGWAL01")
        }),
        ("a segment with a partial tag", |d| {
            plant(d, &next_segment_name(d), b"VIG")
        }),
        ("a zero-length segment", |d| plant(d, &next_segment_name(d), b"")),
        ("a half-written Parquet temp file", |d| {
            plant(
                d,
                "tables/otlp_logs/date=2026-11-24/hour=00/00000000000000000001-00000000000000000009-00000000.parquet.tmp",
                b"PAR1 half a footer",
            )
        }),
        ("the LOCK file of a process that died", |d| {
            plant(d, "LOCK", b"12345")
        }),
    ];
    for (i, (what, make)) in states.into_iter().enumerate() {
        let m = format!("state{i}");
        send(&server, &m).await;
        sent.push(m);
        server.kill9();
        make(&dir);
        server = server.restart().await;
        assert_exactly(&server, &sent).await;
        let leftovers: Vec<_> = crate::otlp_clients::walk(&dir.join("tables"))
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{what}: temp files left: {leftovers:?}");
    }
    // and a clean stop after all of that
    assert!(server.terminate().success());
    server = server.restart().await;
    assert_exactly(&server, &sent).await;
}
