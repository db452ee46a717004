//! `vigil bench`: build a store of synthetic sessions through the normal write
//! path, and time the queries a dashboard and an incident responder run against
//! it, beside DuckDB on the same files.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, Subcommand};
use collector::{Collector, CollectorConfig, ExportRequest};
use fixtures::workload::{Request, Workload, WorkloadConfig};

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Write synthetic sessions (Codex, Claude Code, GenAI shapes) into a data
    /// directory through the normal write path (WAL, fsync, Parquet).
    Build(BuildArgs),
    /// Time the session, chain and seed-question queries, beside DuckDB.
    Query(QueryBenchArgs),
    /// Durable ingest from outside: a pinned `vigil serve` per case, OTLP/HTTP
    /// and gRPC load from this process; records/s, CPU, latency, peak RSS.
    Ingest(crate::bench_ingest::IngestBenchArgs),
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[arg(long, env = "VIGIL_DATA_DIR", default_value = "./bench-data")]
    pub data_dir: PathBuf,
    /// About how many agent events to write.
    #[arg(long, default_value_t = 1_000_000)]
    pub events: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Requests in flight at once (they share WAL fsyncs).
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
}

#[derive(Debug, Args)]
pub struct QueryBenchArgs {
    #[arg(long, env = "VIGIL_DATA_DIR", default_value = "./bench-data")]
    pub data_dir: PathBuf,
    /// Random sessions to time the per-session queries over.
    #[arg(long, default_value_t = 100)]
    pub sessions: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Also run the same SQL in DuckDB (Python `duckdb`, its own process).
    #[arg(long)]
    pub duckdb: bool,
    /// Write the results as Markdown here (appended under a heading).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Memory all running statements may hold (as `serve --query-memory-bytes`).
    #[arg(long, default_value_t = query::QueryLimits::default().memory_bytes)]
    pub query_memory_bytes: usize,
}

pub async fn run(cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Build(args) => build(args).await,
        BenchCommand::Query(args) => crate::bench_query::run(args).await,
        BenchCommand::Ingest(args) => crate::bench_ingest::run(args).await,
    }
}

/// The request, and its size as OTLP protobuf on the wire.
fn to_export(r: Request) -> (ExportRequest, usize) {
    use prost::Message as _;
    match r {
        Request::Logs(l) => {
            let n = l.encoded_len();
            (ExportRequest::Logs(l), n)
        }
        Request::Traces(t) => {
            let n = t.encoded_len();
            (ExportRequest::Traces(t), n)
        }
    }
}

async fn build(args: BuildArgs) -> anyhow::Result<()> {
    let mut config = CollectorConfig::new(args.data_dir.clone());
    config.flush_interval = Duration::from_secs(5);
    let (collector, _) = tokio::task::spawn_blocking(move || {
        Collector::open(config, Arc::new(schemas::SystemClock))
    })
    .await?
    .context("opening the store")?;
    let stop = tokio_util::sync::CancellationToken::new();
    let flusher = collector.spawn_flusher(stop.child_token());
    let bar = indicatif::ProgressBar::new(args.events as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} events  {per_sec}  eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let start = Instant::now();
    let workload = Workload::new(WorkloadConfig::new(args.seed, args.events));
    let (tx, rx) = tokio::sync::mpsc::channel::<fixtures::workload::Sent>(args.concurrency * 2);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let producer = tokio::task::spawn_blocking(move || {
        for sent in workload {
            if tx.blocking_send(sent).is_err() {
                break;
            }
        }
    });
    let mut workers = Vec::new();
    let records = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let proto_bytes = Arc::new(std::sync::atomic::AtomicU64::new(0));
    for _ in 0..args.concurrency.max(1) {
        let (c, rx, bar, records, proto_bytes) = (
            Arc::clone(&collector),
            Arc::clone(&rx),
            bar.clone(),
            Arc::clone(&records),
            Arc::clone(&proto_bytes),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let Some(sent) = rx.lock().await.recv().await else {
                    break;
                };
                let events = sent.events as u64;
                let (req, wire) = to_export(sent.request);
                proto_bytes.fetch_add(wire as u64, std::sync::atomic::Ordering::Relaxed);
                loop {
                    match c.export(req.clone()).await {
                        Ok(o) => {
                            records
                                .fetch_add(o.accepted as u64, std::sync::atomic::Ordering::Relaxed);
                            break;
                        }
                        // the buffer is full: let the flusher catch up
                        Err(e) if e.status().wire().retryable => {
                            tokio::time::sleep(Duration::from_millis(50)).await
                        }
                        Err(e) => return Err(anyhow::Error::from(e)),
                    }
                }
                bar.inc(events);
            }
            Ok::<_, anyhow::Error>(())
        }));
    }
    for w in workers {
        w.await??;
    }
    producer.await?;
    stop.cancel();
    let _ = flusher.await;
    collector.shutdown().await?;
    bar.finish_and_clear();
    let secs = start.elapsed().as_secs_f64();
    let n = records.load(std::sync::atomic::Ordering::Relaxed);
    println!(
        "wrote {n} records ({} agent events requested) into {} in {secs:.1}s ({:.0} records/s)",
        args.events,
        args.data_dir.display(),
        n as f64 / secs
    );
    let files_before = table_files(&args.data_dir);
    let start = Instant::now();
    let merges = collector
        .compact_now(collector::CompactionConfig::default())
        .await
        .context("compacting")?;
    println!(
        "compacted: {merges} merges in {:.1}s, {files_before} → {} files",
        start.elapsed().as_secs_f64(),
        table_files(&args.data_dir)
    );
    let proto = proto_bytes.load(std::sync::atomic::Ordering::Relaxed);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let mut total = 0;
    for table in schemas::tables::ALL_TABLES {
        let bytes = table_bytes(&args.data_dir, table);
        total += bytes;
        if bytes > 0 {
            println!("  {table}: {:.1} MiB of Parquet", mib(bytes));
        }
    }
    println!(
        "storage: {:.1} MiB of Parquet for {:.1} MiB of OTLP protobuf: {:.1} B/record, {:.3}× the protobuf",
        mib(total),
        mib(proto),
        total as f64 / n.max(1) as f64,
        total as f64 / proto.max(1) as f64
    );
    Ok(())
}

/// Parquet files of every table.
fn table_files(data_dir: &Path) -> usize {
    schemas::tables::ALL_TABLES
        .iter()
        .filter_map(|t| schemas::layout::list_table(data_dir, t).ok())
        .map(|l| l.files.len())
        .sum()
}

/// Total bytes of the Parquet files of `table`.
pub fn table_bytes(data_dir: &Path, table: &str) -> u64 {
    schemas::layout::list_table(data_dir, table)
        .map(|l| l.files.iter().map(|f| f.size).sum())
        .unwrap_or(0)
}
