//! `vigil ingest`: offline import of OTLP export files.
//!
//! Accepts OTLP/JSON files (one export request), JSON lines (one request per
//! line, as the OpenTelemetry Collector's file exporter writes) and protobuf
//! (one `Export*ServiceRequest`), each optionally gzip'd. Requests go through
//! the same path as live intake (validation, WAL, Parquet). A bad line is
//! reported with its number and skipped.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use collector::{Collector, CollectorConfig, ExportRequest, Signal};
use indicatif::{ProgressBar, ProgressStyle};
use schemas::SystemClock;

use crate::cli::IngestArgs;

/// Largest single file accepted (after decompression).
const MAX_FILE_BYTES: usize = 4 * 1024 * 1024 * 1024;

#[derive(Debug, Default)]
struct Totals {
    requests: u64,
    records: u64,
    rejected: u64,
    bad: u64,
}

pub async fn ingest(args: IngestArgs) -> anyhow::Result<()> {
    let forced = args.signal.as_deref().map(parse_signal).transpose()?;
    let config = CollectorConfig::new(args.data_dir.clone());
    let (collector, _) =
        tokio::task::spawn_blocking(move || Collector::open(config, Arc::new(SystemClock)))
            .await??;
    let bar = ProgressBar::new(args.files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} files  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut totals = Totals::default();
    for file in &args.files {
        bar.set_message(file.display().to_string());
        if let Err(e) = ingest_file(&collector, file, forced, &mut totals, &bar).await {
            bar.suspend(|| eprintln!("{}: {e:#}", file.display()));
            totals.bad += 1;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    collector.shutdown().await?;
    println!(
        "imported {} records from {} requests ({} rejected by validation, {} unreadable inputs)",
        totals.records, totals.requests, totals.rejected, totals.bad
    );
    if totals.requests == 0 && totals.bad > 0 {
        bail!("nothing could be imported");
    }
    Ok(())
}

fn parse_signal(s: &str) -> anyhow::Result<Signal> {
    match s {
        "traces" | "spans" => Ok(Signal::Traces),
        "logs" => Ok(Signal::Logs),
        "metrics" => Ok(Signal::Metrics),
        other => bail!("unknown signal {other:?}: use traces, logs or metrics"),
    }
}

/// The signal of a JSON request, from its top-level key.
fn json_signal(text: &str) -> Option<Signal> {
    let head = &text[..text.len().min(4096)];
    [
        ("resourceSpans", Signal::Traces),
        ("resource_spans", Signal::Traces),
        ("resourceLogs", Signal::Logs),
        ("resource_logs", Signal::Logs),
        ("resourceMetrics", Signal::Metrics),
        ("resource_metrics", Signal::Metrics),
    ]
    .iter()
    .filter_map(|(k, s)| head.find(&format!("\"{k}\"")).map(|pos| (pos, *s)))
    .min_by_key(|(pos, _)| *pos)
    .map(|(_, s)| s)
}

fn name_signal(path: &Path) -> Option<Signal> {
    let name = path.file_name()?.to_str()?.to_ascii_lowercase();
    if name.contains("trace") || name.contains("span") {
        Some(Signal::Traces)
    } else if name.contains("log") {
        Some(Signal::Logs)
    } else if name.contains("metric") {
        Some(Signal::Metrics)
    } else {
        None
    }
}

async fn ingest_file(
    collector: &Arc<Collector>,
    path: &Path,
    forced: Option<Signal>,
    totals: &mut Totals,
    bar: &ProgressBar,
) -> anyhow::Result<()> {
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        collector::gunzip_file(&raw, MAX_FILE_BYTES)?
    } else {
        raw
    };
    let trimmed = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .map_or(&bytes[..0], |i| &bytes[i..]);
    if trimmed.first() == Some(&b'{') {
        let text = std::str::from_utf8(&bytes).context("JSON file is not UTF-8")?;
        // one request per file (it parses as one JSON value), or one per line
        if serde_json::from_str::<serde_json::Value>(text).is_ok() {
            let signal = forced.or_else(|| json_signal(text)).or_else(|| name_signal(path)).with_context(|| {
                format!("{}: cannot tell the signal (no resourceSpans/resourceLogs/resourceMetrics)", path.display())
            })?;
            let req = ExportRequest::decode_json(signal, text.as_bytes())?;
            return submit(collector, req, totals).await;
        }
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let signal = forced
                .or_else(|| json_signal(line))
                .or_else(|| name_signal(path));
            let result = match signal {
                None => Err(anyhow::anyhow!(
                    "cannot tell the signal (no resourceSpans/resourceLogs/resourceMetrics)"
                )),
                Some(s) => {
                    ExportRequest::decode_json(s, line.as_bytes()).map_err(anyhow::Error::from)
                }
            };
            match result {
                Ok(req) => submit(collector, req, totals).await?,
                Err(e) => {
                    totals.bad += 1;
                    bar.suspend(|| eprintln!("{}:{}: skipped: {e}", path.display(), i + 1));
                }
            }
        }
        return Ok(());
    }
    let signal = forced.or_else(|| name_signal(path)).with_context(|| {
        format!(
            "{}: protobuf file whose signal is not in its name; pass --signal",
            path.display()
        )
    })?;
    let req = ExportRequest::decode_proto(signal, &bytes)
        .with_context(|| format!("{}: invalid protobuf", path.display()))?;
    submit(collector, req, totals).await
}

async fn submit(
    collector: &Arc<Collector>,
    req: ExportRequest,
    totals: &mut Totals,
) -> anyhow::Result<()> {
    let outcome = collector.export(req).await?;
    totals.requests += 1;
    totals.records += outcome.accepted as u64;
    totals.rejected += outcome.rejected as u64;
    Ok(())
}
