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
    assert_eq!(
        r.status(),
        200,
        "{marker}: {}",
        r.text().await.unwrap_or_default()
    );
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

/// Puts one leftover state into a data directory.
type Plant = fn(&Path);

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
    let states: [(&str, Plant); 5] = [
        ("an empty segment (tag only) beyond the last record", |d| {
            plant(d, &next_segment_name(d), b"VIGWAL01")
        }),
        ("a segment with a partial tag", |d| {
            plant(d, &next_segment_name(d), b"VIG")
        }),
        ("a zero-length segment", |d| {
            plant(d, &next_segment_name(d), b"")
        }),
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
        assert!(
            leftovers.is_empty(),
            "{what}: temp files left: {leftovers:?}"
        );
    }
    // and a clean stop after all of that
    assert!(server.terminate().success());
    server = server.restart().await;
    assert_exactly(&server, &sent).await;
}

/// A WAL record whose checksum is right but whose content cannot be replayed is
/// not a torn write: start-up stops and names the segment and the offset,
/// instead of skipping acknowledged data.
#[tokio::test(flavor = "multi_thread")]
async fn an_unreplayable_record_stops_start_up_with_its_place() {
    let mut server = Server::start().await;
    send(&server, "before").await;
    server.kill9();
    let wal = server.data_dir.join("wal");
    let summary = collector::internals::read_wal(&wal, &server.data_dir, 1, |_| Ok(())).unwrap();
    let (_, last) = {
        let mut segs: Vec<_> = std::fs::read_dir(&wal)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "wal"))
            .collect();
        segs.sort();
        (segs.len(), segs.last().unwrap().clone())
    };
    let offset = std::fs::metadata(&last).unwrap().len();
    let mut record = Vec::new();
    // a payload with an unknown signal byte, framed with a correct CRC
    collector::internals::encode_record(
        summary.next_seq,
        &[9, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        &mut record,
    );
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .unwrap();
    std::io::Write::write_all(&mut f, &record).unwrap();
    drop(f);
    let (ok, _, err) = crate::harness::vigil_with_timeout(
        &[
            "serve",
            "--data-dir",
            server.data_dir.to_str().unwrap(),
            "--otlp-grpc-addr",
            "127.0.0.1:0",
            "--otlp-http-addr",
            "127.0.0.1:0",
            "--http-addr",
            "127.0.0.1:0",
            "--pg-addr",
            "127.0.0.1:0",
        ],
        std::time::Duration::from_secs(30),
    );
    assert!(!ok, "start-up must refuse the WAL");
    assert!(err.contains(&last.display().to_string()), "{err}");
    assert!(err.contains(&format!("byte {offset}")), "{err}");
    assert!(err.contains("cannot be replayed"), "{err}");
    // nothing was changed: the record is still there for someone to look at
    assert_eq!(
        std::fs::metadata(&last).unwrap().len(),
        offset + record.len() as u64
    );
}

/// `vigil query` only reads: it creates nothing, not even in an empty data directory.
#[test]
fn vigil_query_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("tables")).unwrap();
    let before = crate::otlp_clients::walk_all(tmp.path());
    let (ok, out, err) = crate::harness::vigil(&[
        "query",
        "--data-dir",
        data.to_str().unwrap(),
        "--format",
        "csv",
        "SELECT count(*) AS n FROM agent_events",
    ]);
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "n\n0");
    assert_eq!(crate::otlp_clients::walk_all(tmp.path()), before);
    // and a directory that is not a Vigil store is refused, untouched
    let (ok, _, err) = crate::harness::vigil(&[
        "query",
        "--data-dir",
        tmp.path().join("nope").to_str().unwrap(),
        "SELECT 1",
    ]);
    assert!(!ok);
    assert!(err.contains("no Vigil data directory"), "{err}");
    assert!(!tmp.path().join("nope").exists());
}

/// The README's way: `vigil serve` in a directory, data under the default
/// relative `./data`, stopped and started again, then queried once rows are
/// in Parquet files.
#[tokio::test(flavor = "multi_thread")]
async fn the_default_relative_data_dir_serves_flushed_files_after_a_restart() {
    /// A server that a failed assertion does not leave running.
    struct KillOnDrop(std::process::Child);
    impl Drop for KillOnDrop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    let tmp = tempfile::tempdir().unwrap();
    let body =
        std::fs::read(fixtures::scenarios_dir().join("04_prompt_injection_exfil/0002_logs.json"))
            .unwrap();
    let serve = || {
        std::process::Command::new(crate::harness::vigil_bin())
            .current_dir(tmp.path())
            .args([
                "serve",
                "--otlp-grpc-addr",
                "127.0.0.1:0",
                "--otlp-http-addr",
                "127.0.0.1:0",
            ])
            .args([
                "--http-addr",
                "127.0.0.1:0",
                "--pg-addr",
                "127.0.0.1:0",
                "--addr-file",
                "addrs.json",
            ])
            .env("VIGIL_LOG", "warn")
            .env_remove("VIGIL_DATA_DIR")
            .spawn()
            .map(KillOnDrop)
            .expect("start vigil")
    };
    let addrs = async || -> serde_json::Value {
        crate::harness::wait_for(
            "the address file",
            std::time::Duration::from_secs(30),
            async || {
                std::fs::read_to_string(tmp.path().join("addrs.json"))
                    .ok()
                    .and_then(|s| serde_json::from_str(&s).ok())
            },
        )
        .await
    };
    let stop = |mut child: KillOnDrop| {
        let ok = std::process::Command::new("kill")
            .args(["-INT", &child.0.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        assert!(child.0.wait().unwrap().success(), "a clean stop exits 0");
        let _ = std::fs::remove_file(tmp.path().join("addrs.json"));
    };
    let client = crate::harness::http_client().build().expect("client");
    let child = serve();
    let a = addrs().await;
    let r = client
        .post(format!(
            "http://{}/v1/logs",
            a["otlp_http"].as_str().unwrap()
        ))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    stop(child); // flushes the rows to ./data/tables
    assert!(tmp.path().join("data/tables").is_dir());
    for _ in 0..2 {
        let child = serve();
        let a = addrs().await;
        let v: serde_json::Value = client
            .post(format!("http://{}/api/sql", a["http"].as_str().unwrap()))
            .body(r#"{"sql": "SELECT count(*) AS n FROM agent_events"}"#)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["rows"][0][0], serde_json::json!(18), "{v}");
        stop(child);
    }
}
