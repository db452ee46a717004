//! Durable-ingest throughput: decode → validate → redact → rows → WAL (fsync,
//! group commit) → hot buffer, with the background flusher writing Parquet.
//!
//! `cargo run --release -p collector --example ingest_bench -- [records] [per_request] [concurrency]`
//! Pin it to one core to measure per-core throughput: `taskset -c 0 target/release/examples/ingest_bench`.
//! The records are Codex-shaped log events (≈15 attributes each).

use std::sync::Arc;
use std::time::{Duration, Instant};

use collector::{Collector, CollectorConfig, ExportRequest, Signal};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use prost::Message as _;
use schemas::SystemClock;
use tokio_util::sync::CancellationToken;

// the allocator `vigil` uses
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn request(first: usize, n: usize) -> Vec<u8> {
    let records = (first..first + n)
        .map(|i| LogRecord {
            observed_time_unix_nano: 1_795_480_994_000_000_000 + i as u64 * 1000,
            severity_number: 9,
            severity_text: "INFO".into(),
            trace_id: vec![7; 16],
            span_id: vec![(i % 250) as u8 + 1; 8],
            attributes: vec![
                kv("event.name", "codex.tool_result"),
                kv("conversation.id", &format!("01a20b01-c0f6-7de1-9b2e-{:012x}", i / 100)),
                kv("app.version", "0.169.0"),
                kv("model", "gpt-5.1-codex"),
                kv("call_id", &format!("call_{i}")),
                kv("tool_name", "exec_command"),
                kv("duration_ms", "75"),
                kv("success", "true"),
                kv("tool_result_seq", &i.to_string()),
                kv("arguments", r#"{"cmd": "cat src/lib.rs | head -n 20", "yield_time_ms": 10000}"#),
                kv("output", "Chunk ID: 604113\nWall time: 0.0000 seconds\nProcess exited with code 0\nOutput:\nfn main() {}\n"),
                kv("event.timestamp", "2026-11-24T00:43:14.241Z"),
                kv("terminal.type", "xterm"),
                kv("originator", "codex_exec"),
                kv("slug", "gpt-5.1-codex"),
            ],
            ..Default::default()
        })
        .collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![
                    kv("service.name", "codex_exec"),
                    kv("service.version", "0.169.0"),
                    kv("host.name", "vm"),
                ],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                scope: Some(InstrumentationScope {
                    name: "codex_otel.log_only".into(),
                    ..Default::default()
                }),
                log_records: records,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
    .encode_to_vec()
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let total = args.first().copied().unwrap_or(500_000);
    let per_request = args.get(1).copied().unwrap_or(500);
    let concurrency = args.get(2).copied().unwrap_or(16);
    let requests: Vec<Vec<u8>> = (0..total / per_request)
        .map(|r| request(r * per_request, per_request))
        .collect();
    let bytes: usize = requests.iter().map(Vec::len).sum();
    if std::env::var_os("VIGIL_BENCH_STAGES").is_some() {
        stages(&requests, per_request);
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = CollectorConfig::new(dir.path().to_path_buf());
    config.flush_interval = Duration::from_secs(2);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let (c, _) = Collector::open(config, Arc::new(SystemClock)).expect("open");
        let stop = CancellationToken::new();
        let flusher = c.spawn_flusher(stop.clone());
        let requests = Arc::new(requests);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let start = Instant::now();
        let workers: Vec<_> = (0..concurrency)
            .map(|_| {
                let (c, requests, next) = (Arc::clone(&c), Arc::clone(&requests), Arc::clone(&next));
                tokio::spawn(async move {
                    let mut retries = 0u64;
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(body) = requests.get(i) else { break };
                        loop {
                            let req = ExportRequest::decode_proto(Signal::Logs, body).expect("valid");
                            match c.export_with_encoding(req, Some(body.clone())).await {
                                Ok(_) => break,
                                Err(e) if e.status().wire().retryable => {
                                    retries += 1;
                                    tokio::time::sleep(Duration::from_millis(5)).await;
                                }
                                Err(e) => panic!("{e}"),
                            }
                        }
                    }
                    retries
                })
            })
            .collect();
        let mut retries = 0;
        for w in workers {
            retries += w.await.expect("worker");
        }
        let acked = start.elapsed();
        stop.cancel();
        let _ = flusher.await;
        let stats = c.shutdown().await.expect("flush");
        let total_secs = start.elapsed().as_secs_f64();
        let n = requests.len() * per_request;
        let m = c.metrics().totals();
        let parquet_bytes = m.parquet_bytes;
        println!(
            "{n} records in {} requests ({:.1} MB protobuf), concurrency {concurrency}",
            requests.len(),
            bytes as f64 / 1e6
        );
        println!(
            "acknowledged (WAL fsync'd): {:.0} records/s ({:.2}s); including final Parquet flush: {:.0} records/s",
            n as f64 / acked.as_secs_f64(),
            acked.as_secs_f64(),
            n as f64 / total_secs
        );
        println!(
            "fsyncs: {} ({:.0} records per fsync); overload retries: {retries}; Parquet: {} files, {} rows, {:.1} bytes/record (all tables), last flush {} rows",
            m.wal_fsyncs,
            n as f64 / m.wal_fsyncs.max(1) as f64,
            m.parquet_files,
            m.parquet_rows,
            parquet_bytes as f64 / n as f64,
            stats.rows,
        );
    });
}

/// CPU cost of each intake stage, single-threaded, no I/O.
fn stages(requests: &[Vec<u8>], per_request: usize) {
    let n = (requests.len() * per_request) as f64;
    let redactor = schemas::redact::Redactor::with_defaults();
    let time = |name: &str, f: &mut dyn FnMut(&[u8])| {
        let start = Instant::now();
        for r in requests {
            f(r);
        }
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{name:>12}: {:7.2} µs/record  ({:.0} records/s)",
            secs * 1e6 / n,
            n / secs
        );
    };
    time("decode", &mut |b| {
        drop(ExportRequest::decode_proto(Signal::Logs, b).unwrap())
    });
    let decoded: Vec<_> = requests
        .iter()
        .map(|b| ExportRequest::decode_proto(Signal::Logs, b).unwrap())
        .collect();
    let mut i = 0;
    time("redact", &mut |_| {
        let mut r = decoded[i].clone();
        i += 1;
        r.redact(&redactor);
    });
    let mut i = 0;
    time("clone", &mut |_| {
        drop(decoded[i].clone());
        i += 1;
    });
    let mut i = 0;
    time("raw rows", &mut |_| {
        if let ExportRequest::Logs(r) = &decoded[i] {
            drop(schemas::raw::log_rows(r, 0).unwrap());
        }
        i += 1;
    });
    let mut i = 0;
    time("normalize", &mut |_| {
        if let ExportRequest::Logs(r) = &decoded[i] {
            drop(schemas::normalize::from_logs(r, 0));
        }
        i += 1;
    });
    let events: Vec<_> = decoded
        .iter()
        .map(|d| match d {
            ExportRequest::Logs(r) => schemas::normalize::from_logs(r, 0),
            _ => Vec::new(),
        })
        .collect();
    let mut i = 0;
    time("event batch", &mut |_| {
        drop(schemas::normalize::to_batch(&events[i]).unwrap());
        i += 1;
    });
    // Parquet: every request's rows through the real flush (sort, split, zstd, fsync)
    let buffer = collector::internals::HotBuffer::new(0);
    for (i, d) in decoded.iter().enumerate() {
        buffer.push(i as u64 + 1, d.rows(0).unwrap());
    }
    let dir = tempfile::tempdir().unwrap();
    let metrics = collector::Metrics::default();
    let start = Instant::now();
    collector::internals::flush(dir.path(), &buffer, &metrics).unwrap();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:>12}: {:7.2} µs/record  ({:.0} records/s)",
        "parquet",
        secs * 1e6 / n,
        n / secs
    );
    let mut i = 0;
    time("encode", &mut |_| {
        drop(decoded[i].encode_proto());
        i += 1;
    });
}
