//! Damaged files: a flipped byte in a sealed WAL segment and a truncated
//! Parquet file are found by `vigil fsck` (exit 1, the path named), and start-up
//! moves them to the quarantine and starts instead of refusing, counting them
//! in `/metrics`; everything undamaged is still there, exactly once.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::crash::numbered_logs;
use crate::harness::{Server, vigil};

fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn fsck(data: &Path) -> (bool, String) {
    let (ok, out, err) = vigil(&["fsck", "--data-dir", data.to_str().unwrap()]);
    (ok, format!("{out}{err}"))
}

async fn stored(server: &Server) -> Vec<u64> {
    server
        .rows("SELECT CAST(attributes['n'] AS BIGINT) FROM otlp_logs")
        .await
        .iter()
        .map(|r| r[0].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flipped_byte_in_a_sealed_wal_segment_is_quarantined_not_fatal() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // small segments and no flush: the records stay in several WAL segments
    let args = [
        "--wal-segment-bytes",
        "4096",
        "--flush-interval",
        "1h",
        "--compact-interval",
        "0s",
    ];
    let mut server = Server::start_in(&data, &args).await;
    const PER: u64 = 5;
    for i in 0..60 {
        let r = server
            .post_otlp("/v1/logs", "application/json", numbered_logs(i * PER, PER))
            .await;
        assert_eq!(r.status(), 200);
    }
    server.kill9();
    let segments = files_with_ext(&data.join("wal"), "wal");
    assert!(segments.len() >= 4, "only {} WAL segments", segments.len());
    let victim = segments[1].clone();
    let mut bytes = std::fs::read(&victim).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0x40;
    std::fs::write(&victim, &bytes).unwrap();

    let (ok, report) = fsck(&data);
    assert!(!ok, "fsck passed a damaged segment:\n{report}");
    let name = victim.file_name().unwrap().to_str().unwrap();
    assert!(
        report
            .lines()
            .any(|l| l.starts_with("PROBLEM") && l.contains(name) && l.contains("bad record")),
        "{report}"
    );

    let server = Server::start_in(&data, &args).await;
    assert_eq!(server.metric("vigil_quarantined_files_total").await, 1.0);
    let moved = data.join("quarantine").join("wal").join(name);
    assert!(moved.is_file(), "{} not in the quarantine", moved.display());
    assert_eq!(
        std::fs::read(&moved).unwrap(),
        bytes,
        "the quarantined copy is the damaged segment as it was"
    );
    let present = stored(&server).await;
    let distinct: BTreeSet<u64> = present.iter().copied().collect();
    assert_eq!(distinct.len(), present.len(), "duplicates after quarantine");
    let sent = 60 * PER;
    assert!(distinct.iter().all(|n| *n < sent));
    // the first segment's records and the last request's are all there; what is
    // missing is the rest of the damaged segment, at most one segment's worth
    assert!(
        (0..PER).all(|n| distinct.contains(&n)),
        "first request lost"
    );
    assert!(
        (sent - PER..sent).all(|n| distinct.contains(&n)),
        "last request lost"
    );
    let lost = sent - distinct.len() as u64;
    assert!(
        lost > 0,
        "nothing lost: the damage was not where the test meant it"
    );
    assert!(
        lost <= 4096 / 16,
        "{lost} records lost, more than one segment holds"
    );
    // intake goes on after the quarantine
    assert_eq!(
        server
            .post_otlp("/v1/logs", "application/json", numbered_logs(10_000, PER))
            .await
            .status(),
        200
    );
    let mut server = server;
    assert!(server.terminate().success());
    let (ok, report) = fsck(&data);
    assert!(ok, "after the quarantine the store is clean:\n{report}");
    assert!(
        report.contains("in quarantine:") && report.contains(name),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_truncated_parquet_file_is_quarantined_and_the_rest_stays_readable() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let args = ["--compact-interval", "0s"];
    // two clean shutdowns: two flushes, two files (and the WAL trimmed)
    for (first, _) in [(0u64, ()), (100, ())] {
        let mut server = Server::start_in(&data, &args).await;
        assert_eq!(
            server
                .post_otlp("/v1/logs", "application/json", numbered_logs(first, 10))
                .await
                .status(),
            200
        );
        assert!(server.terminate().success());
    }
    let files: Vec<_> = files_with_ext(&data.join("tables").join("otlp_logs"), "parquet");
    assert_eq!(files.len(), 2, "{files:?}");
    // truncate both: records 0..10 (WAL record 1) are in no WAL segment any more,
    // records 100..110 (WAL record 2) are still in the active segment
    for f in &files {
        let len = std::fs::metadata(f).unwrap().len();
        std::fs::OpenOptions::new()
            .write(true)
            .open(f)
            .unwrap()
            .set_len(len / 2)
            .unwrap();
    }

    let (ok, report) = fsck(&data);
    assert!(!ok, "{report}");
    for f in &files {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert!(
            report.lines().any(|l| l.starts_with("PROBLEM")
                && l.contains(name)
                && l.contains("unreadable Parquet")),
            "{name} not reported:\n{report}"
        );
    }

    let server = Server::start_in(&data, &args).await;
    assert_eq!(server.metric("vigil_quarantined_files_total").await, 2.0);
    let present = stored(&server).await;
    assert_eq!(
        present.iter().copied().collect::<BTreeSet<u64>>(),
        (100..110).collect::<BTreeSet<u64>>(),
        "the rows whose WAL record was still there are replayed into the table, once; the others are only in the quarantine"
    );
    assert_eq!(present.len(), 10);
    for f in &files {
        assert!(!f.exists());
        let relative = f.strip_prefix(&data).unwrap();
        assert!(
            data.join("quarantine").join(relative).is_file(),
            "{} not in the quarantine",
            relative.display()
        );
    }
}
