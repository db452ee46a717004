//! A full disk: with the data directory on a small tmpfs that fills up, intake
//! answers retry-later (503 / UNAVAILABLE with Retry-After, or 429 while the
//! unflushable buffer is over budget), never 500 and never silence; queries
//! keep working; once space is freed intake resumes by itself, and every
//! acknowledged record is stored exactly once.
//!
//! The tmpfs is mounted by the test, so it needs CAP_SYS_ADMIN (root, as CI
//! runs); it is unmounted when the test ends, pass or fail.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient;

use crate::crash::{grpc_logs, numbered_logs};
use crate::harness::{Server, wait_for};

/// A tmpfs of `bytes` on a fresh directory, unmounted on drop.
struct SmallFs {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl SmallFs {
    fn mount(bytes: u64) -> SmallFs {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("fs");
        std::fs::create_dir(&root).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={bytes}"),
                "vigil-disk-test",
            ])
            .arg(&root)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "this test mounts a small tmpfs and needs root (CAP_SYS_ADMIN): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        SmallFs { _dir: dir, root }
    }

    /// Writes a filler file until the filesystem refuses; returns its path.
    fn fill(&self) -> PathBuf {
        use std::io::Write as _;
        let path = self.root.join("filler");
        let mut f = std::fs::File::create(&path).unwrap();
        let chunk = vec![0xA5u8; 64 * 1024];
        loop {
            match f.write(&chunk) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => panic!("filling the disk: {e}"),
            }
        }
        // the last partial pages too
        for _ in 0..64 {
            if f.write(&[0u8; 1024]).is_err() {
                break;
            }
        }
        path
    }
}

impl Drop for SmallFs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.root).status();
    }
}

/// Sends `n` records numbered from `*next` over HTTP; the status and whether a
/// retryable answer carried Retry-After.
async fn send(server: &Server, next: &mut u64, acked: &mut BTreeSet<u64>) -> u16 {
    const PER_REQUEST: u64 = 50;
    let first = *next;
    *next += PER_REQUEST;
    let r = server
        .client
        .post(server.otlp_url("/v1/logs"))
        .header("content-type", "application/json")
        .body(numbered_logs(first, PER_REQUEST))
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .expect("every request gets an HTTP answer");
    let status = r.status().as_u16();
    match status {
        200 => acked.extend(first..first + PER_REQUEST),
        429 | 503 => assert!(
            r.headers().get("retry-after").is_some(),
            "a {status} without Retry-After"
        ),
        other => panic!(
            "status {other} on a full disk: {}",
            r.text().await.unwrap_or_default()
        ),
    }
    status
}

fn free_bytes(path: &Path) -> u64 {
    let out = Command::new("df")
        .args(["--output=avail", "-B1"])
        .arg(path)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_disk_answers_retry_later_and_recovers_by_itself() {
    let fs = SmallFs::mount(24 * 1024 * 1024);
    let data = fs.root.join("data");
    let mut server = Server::start_in(&data, &["--flush-interval", "200ms"]).await;
    let (mut next, mut acked) = (0u64, BTreeSet::new());
    for _ in 0..20 {
        assert_eq!(send(&server, &mut next, &mut acked).await, 200);
    }

    let filler = fs.fill();
    assert!(
        free_bytes(&fs.root) < 64 * 1024,
        "the disk is not full: {} bytes free",
        free_bytes(&fs.root)
    );
    let mut refused = 0;
    for _ in 0..60 {
        if send(&server, &mut next, &mut acked).await != 200 {
            refused += 1;
        }
    }
    assert!(
        refused >= 50,
        "only {refused} of 60 requests refused on a full disk"
    );
    // gRPC says UNAVAILABLE (or RESOURCE_EXHAUSTED), which OTLP exporters retry;
    // large enough not to fit in the slack of the WAL's last page
    let mut grpc = LogsServiceClient::connect(format!("http://{}", server.grpc))
        .await
        .unwrap();
    let refused_grpc = grpc
        .export(grpc_logs(2_000_000, 2_000))
        .await
        .expect_err("a 2,000-record export acknowledged on a full disk");
    assert!(
        matches!(
            refused_grpc.code(),
            tonic::Code::Unavailable | tonic::Code::ResourceExhausted
        ),
        "gRPC on a full disk: {refused_grpc:?}"
    );
    assert!(server.metric("vigil_wal_write_errors_total").await >= 1.0);
    // reading does not need space
    let (status, body) = server.sql_status("SELECT count(*) FROM otlp_logs").await;
    assert_eq!(status, 200, "query on a full disk: {body}");

    std::fs::remove_file(&filler).unwrap();
    wait_for("intake to resume", Duration::from_secs(30), async || {
        let mut scratch = BTreeSet::new();
        let mut n = next;
        let ok = send(&server, &mut n, &mut scratch).await == 200;
        next = n;
        acked.extend(scratch);
        ok.then_some(())
    })
    .await;
    for _ in 0..20 {
        assert_eq!(
            send(&server, &mut next, &mut acked).await,
            200,
            "after space was freed"
        );
    }
    grpc.export(grpc_logs(1_000_000, 5))
        .await
        .expect("gRPC after space was freed");
    acked.extend(1_000_000..1_000_005);

    // everything acknowledged is stored exactly once, also from Parquet after a restart
    assert!(server.terminate().success(), "clean shutdown");
    let server = Server::start_in(&data, &[]).await;
    let rows = server
        .rows("SELECT CAST(attributes['n'] AS BIGINT) FROM otlp_logs")
        .await;
    let stored: Vec<u64> = rows.iter().map(|r| r[0].as_u64().unwrap()).collect();
    let distinct: BTreeSet<u64> = stored.iter().copied().collect();
    assert_eq!(stored.len(), distinct.len(), "duplicated records");
    let lost: Vec<_> = acked.difference(&distinct).take(10).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
}
