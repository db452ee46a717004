//! The intake memory budget (`--memory-limit`): refusals come before it is
//! crossed, are retryable, and cost nothing that was acknowledged.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;

use crate::harness::Server;

const MIB: u64 = 1024 * 1024;

fn kv(k: &str, v: String) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v)),
        }),
        ..Default::default()
    }
}

/// A Codex-shaped request of `records` tool results, unique by `sender` and `n`.
fn request(sender: usize, n: usize, records: usize) -> Vec<u8> {
    let log_records = (0..records)
        .map(|i| LogRecord {
            time_unix_nano: 1_795_000_000_000_000_000 + (n * records + i) as u64,
            attributes: vec![
                kv("event.name", "codex.tool_result".into()),
                kv("conversation.id", format!("mem-{sender}")),
                kv("call_id", format!("call-{sender}-{n}-{i}")),
                kv("tool_name", "shell".into()),
                kv(
                    "arguments",
                    format!("{{\"command\":[\"cat\",\"src/file{i}.rs\"]}}"),
                ),
                kv("output", "x".repeat(120)),
                kv("success", "true".into()),
            ],
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "codex_exec".into())],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn intake_refuses_before_its_memory_limit_and_loses_nothing_it_acknowledged() {
    // 8 MiB: requests may reserve 2 MiB between them, unflushed rows 2 MiB
    // (a flush starts at 1 MiB); one 512-record request (~150 kB) is priced at ~1.7 MB
    let limit = 8 * MIB;
    let server = Server::start_with(&["--memory-limit", "8MiB"]).await;
    let (senders, per_sender, records) = (12, 6, 512);
    let acknowledged = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let server = Arc::new(server);
    let mut tasks = Vec::new();
    for sender in 0..senders {
        let (server, acknowledged, refused) = (
            Arc::clone(&server),
            Arc::clone(&acknowledged),
            Arc::clone(&refused),
        );
        tasks.push(tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(120);
            for n in 0..per_sender {
                let body = request(sender, n, records);
                // as an exporter does: retry "retry later" until it is stored
                loop {
                    let r = server
                        .post_otlp("/v1/logs", "application/x-protobuf", body.clone())
                        .await;
                    match r.status().as_u16() {
                        200 => {
                            acknowledged.fetch_add(records as u64, Ordering::Relaxed);
                            break;
                        }
                        429 => {
                            assert_eq!(r.headers()["retry-after"], "2", "429 without Retry-After");
                            refused.fetch_add(1, Ordering::Relaxed);
                            assert!(Instant::now() < deadline, "sender {sender} never got in");
                            tokio::time::sleep(Duration::from_millis(20)).await;
                        }
                        other => panic!(
                            "sender {sender} request {n}: {other} {}",
                            r.text().await.unwrap_or_default()
                        ),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.expect("a sender panicked");
    }
    let acknowledged = acknowledged.load(Ordering::Relaxed);
    assert_eq!(acknowledged, (senders * per_sender * records) as u64);
    assert!(
        refused.load(Ordering::Relaxed) > 0,
        "{senders} concurrent senders of ~1.7 MB-priced requests on a 2 MiB share were never refused"
    );
    // what intake accounted for (reservations + unflushed rows) stayed within
    // the half of the limit they share; the flush's copies have the other half
    let peak = server.metric("vigil_intake_memory_peak_bytes").await as u64;
    assert!(peak > MIB, "peak accounted {peak} bytes: nothing counted?");
    assert!(
        peak <= limit / 2,
        "peak accounted {peak} bytes over {}",
        limit / 2
    );
    assert_eq!(
        server.count("SELECT count(*) FROM otlp_logs").await as u64,
        acknowledged
    );
    // durable, not only visible: after SIGKILL every acknowledged record is back, once
    let server = Arc::into_inner(server).expect("senders done");
    let server = server.restart().await;
    assert_eq!(
        server.count("SELECT count(*) FROM otlp_logs").await as u64,
        acknowledged
    );
    assert_eq!(
        server
            .count("SELECT count(DISTINCT tool_call_id) FROM agent_events WHERE session_id LIKE 'mem-%'")
            .await as u64,
        acknowledged
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_larger_than_the_whole_budget_is_refused_for_good() {
    // 1 MiB: requests share 256 KiB; a 512-record request is priced above it
    let server = Server::start_with(&["--memory-limit", "1MiB"]).await;
    let r = server
        .post_otlp("/v1/logs", "application/x-protobuf", request(0, 0, 512))
        .await;
    assert_eq!(r.status(), 413);
    assert!(r.headers().get("retry-after").is_none());
    // a small one still fits
    let r = server
        .post_otlp("/v1/logs", "application/x-protobuf", request(1, 0, 8))
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(server.count("SELECT count(*) FROM otlp_logs").await, 8);
}
