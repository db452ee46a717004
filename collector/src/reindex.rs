//! `vigil reindex`: rebuild `agent_events` from the raw tables after the mapping
//! changed.
//!
//! Raw rows are turned back into OTLP records, grouped by the WAL record they
//! came from (one original request, so span parents and children meet again),
//! normalized with the current mapping, and written to a fresh directory that
//! then replaces `tables/agent_events` in two renames. Attribute values come
//! back as strings (the raw tables store text), which the mapping accepts for
//! every field it reads.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray, MapArray, RecordBatch, StringArray};
use arrow::datatypes::{Int32Type, Int64Type, TimestampNanosecondType, UInt32Type, UInt64Type};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use schemas::normalize::{from_logs, from_spans, to_batch};
use schemas::tables::{self, AGENT_EVENTS, OTLP_LOGS, OTLP_SPANS};

use crate::error::Error;
use crate::flush::{table_dir, write_partition_in};
use crate::rows::{SPAN_KIND_NAMES as SPAN_KINDS, STATUS_NAMES as STATUS};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReindexStats {
    pub partitions: usize,
    pub raw_rows: usize,
    pub events: usize,
    pub files: usize,
}

/// `(table, date, hour, dir)` of every raw partition that can hold agent events.
pub fn raw_partitions(
    data_dir: &Path,
) -> Result<Vec<(&'static str, String, String, PathBuf)>, Error> {
    let mut out = Vec::new();
    for table in [OTLP_LOGS, OTLP_SPANS] {
        let root = table_dir(data_dir, table);
        let Ok(dates) = std::fs::read_dir(&root) else {
            continue;
        };
        for d in dates.flatten() {
            let Some(date) = d
                .file_name()
                .to_str()
                .and_then(|n| n.strip_prefix("date="))
                .map(str::to_string)
            else {
                continue;
            };
            for h in std::fs::read_dir(d.path())?.flatten() {
                let Some(hour) = h
                    .file_name()
                    .to_str()
                    .and_then(|n| n.strip_prefix("hour="))
                    .map(str::to_string)
                else {
                    continue;
                };
                out.push((table, date.clone(), hour, h.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn read_dir_batches(dir: &Path) -> Result<Vec<RecordBatch>, Error> {
    let mut batches = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)?
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for f in files
        .into_iter()
        .filter(|f| f.extension().is_some_and(|e| e == "parquet"))
    {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&f)?)?.build()?;
        for b in reader {
            batches.push(b?);
        }
    }
    Ok(batches)
}

/// Rebuilds `agent_events`; `progress(done, total)` is called per raw partition.
/// The caller must hold the data directory (no server running) and have flushed the WAL.
pub fn reindex(
    data_dir: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<ReindexStats, Error> {
    let live = table_dir(data_dir, AGENT_EVENTS);
    let old = data_dir.join("tables").join(format!("{AGENT_EVENTS}.old"));
    if !live.exists() && old.exists() {
        // a crash between the two renames of an earlier run: put the old table back
        std::fs::rename(&old, &live)?;
    }
    let parts = raw_partitions(data_dir)?;
    let staging = data_dir
        .join("tables")
        .join(format!("{AGENT_EVENTS}.reindex"));
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    std::fs::create_dir_all(&staging)?;
    let mut stats = ReindexStats {
        partitions: parts.len(),
        ..Default::default()
    };
    for (i, (table, date, hour, dir)) in parts.iter().enumerate() {
        let mut by_seq: BTreeMap<u64, Vec<(RecordBatch, usize)>> = BTreeMap::new();
        for b in read_dir_batches(dir)? {
            stats.raw_rows += b.num_rows();
            let seqs = b
                .column_by_name(tables::COL_WAL_SEQ)
                .expect("wal_seq")
                .as_primitive::<UInt64Type>()
                .clone();
            for row in 0..b.num_rows() {
                by_seq
                    .entry(seqs.value(row))
                    .or_default()
                    .push((b.clone(), row));
            }
        }
        let mut out = Vec::new();
        for (seq, rows) in by_seq {
            let events = if *table == OTLP_LOGS {
                let (req, ingest_ns) = logs_request(&rows);
                from_logs(&req, ingest_ns)
            } else {
                let (req, ingest_ns) = spans_request(&rows);
                from_spans(&req, ingest_ns)
            };
            stats.events += events.len();
            if let Some(b) = to_batch(&events)? {
                out.push(stamp(b, seq)?);
            }
        }
        if !out.is_empty() {
            let all = arrow::compute::concat_batches(&out[0].schema(), &out)?;
            let seqs = all.column(0).as_primitive::<UInt64Type>();
            let (lo, hi) = (
                arrow::compute::min(seqs).unwrap_or(0),
                arrow::compute::max(seqs).unwrap_or(0),
            );
            let _ = (date, hour);
            for ((d, h), part) in crate::flush::split_partitions(&all)? {
                write_partition_in(&staging, AGENT_EVENTS, &d, &h, &part, lo, hi)?;
                stats.files += 1;
            }
        }
        progress(i + 1, parts.len());
    }
    // swap in: the old directory moves aside first, so a crash leaves one of the two whole
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    if live.exists() {
        std::fs::rename(&live, &old)?;
    }
    std::fs::rename(&staging, &live)?;
    crate::wal::fsync_dir(&data_dir.join("tables"))?;
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(stats)
}

fn stamp(b: RecordBatch, seq: u64) -> Result<RecordBatch, Error> {
    let mut cols = b.columns().to_vec();
    cols[0] = std::sync::Arc::new(arrow::array::UInt64Array::from_value(seq, b.num_rows()));
    Ok(RecordBatch::try_new(b.schema(), cols)?)
}

fn s(v: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(v.to_string())),
    })
}

fn map_at(b: &RecordBatch, col: &str, row: usize) -> Vec<KeyValue> {
    let Some(m) = b
        .column_by_name(col)
        .and_then(|c| c.as_any().downcast_ref::<MapArray>())
    else {
        return Vec::new();
    };
    if m.is_null(row) {
        return Vec::new();
    }
    let entries = m.value(row);
    let keys = entries.column(0).as_string::<i32>();
    let values = entries.column(1).as_string::<i32>();
    (0..entries.len())
        .map(|i| KeyValue {
            key: keys.value(i).to_string(),
            value: (!values.is_null(i)).then(|| s(values.value(i))).flatten(),
            ..Default::default()
        })
        .collect()
}

fn str_at<'a>(b: &'a RecordBatch, col: &str, row: usize) -> &'a str {
    b.column_by_name(col)
        .map(|c| c.as_string::<i32>())
        .filter(|a: &&StringArray| !a.is_null(row))
        .map_or("", |a| a.value(row))
}

fn id_at(b: &RecordBatch, col: &str, row: usize) -> Vec<u8> {
    hex::decode(str_at(b, col, row)).unwrap_or_default()
}

fn ts_at(b: &RecordBatch, col: &str, row: usize) -> u64 {
    b.column_by_name(col)
        .map(|c| c.as_primitive::<TimestampNanosecondType>())
        .filter(|a| !a.is_null(row))
        .map_or(0, |a| u64::try_from(a.value(row)).unwrap_or(0))
}

fn origin(b: &RecordBatch, row: usize) -> (Resource, InstrumentationScope) {
    (
        Resource {
            attributes: map_at(b, "resource_attributes", row),
            ..Default::default()
        },
        InstrumentationScope {
            name: str_at(b, "scope_name", row).to_string(),
            version: str_at(b, "scope_version", row).to_string(),
            attributes: map_at(b, "scope_attributes", row),
            dropped_attributes_count: 0,
        },
    )
}

fn logs_request(rows: &[(RecordBatch, usize)]) -> (ExportLogsServiceRequest, i64) {
    let mut ingest_ns = i64::MAX;
    let resource_logs = rows
        .iter()
        .map(|(b, r)| {
            let r = *r;
            let ts = b
                .column_by_name("ts")
                .expect("ts")
                .as_primitive::<TimestampNanosecondType>()
                .value(r);
            ingest_ns = ingest_ns.min(ts);
            let time = b
                .column_by_name("time_unix_nano")
                .expect("col")
                .as_primitive::<Int64Type>();
            let body = b.column_by_name("body").expect("col").as_string::<i32>();
            let (resource, scope) = origin(b, r);
            let record = LogRecord {
                time_unix_nano: if time.is_null(r) {
                    0
                } else {
                    u64::try_from(time.value(r)).unwrap_or(0)
                },
                observed_time_unix_nano: ts_at(b, "observed_ts", r),
                severity_number: b
                    .column_by_name("severity_number")
                    .expect("col")
                    .as_primitive::<Int32Type>()
                    .value(r),
                severity_text: str_at(b, "severity_text", r).to_string(),
                body: (!body.is_null(r)).then(|| s(body.value(r))).flatten(),
                attributes: map_at(b, "attributes", r),
                dropped_attributes_count: 0,
                flags: b
                    .column_by_name("flags")
                    .expect("col")
                    .as_primitive::<UInt32Type>()
                    .value(r),
                trace_id: id_at(b, "trace_id", r),
                span_id: id_at(b, "span_id", r),
                event_name: str_at(b, "event_name", r).to_string(),
            };
            ResourceLogs {
                resource: Some(resource),
                scope_logs: vec![ScopeLogs {
                    scope: Some(scope),
                    log_records: vec![record],
                    ..Default::default()
                }],
                ..Default::default()
            }
        })
        .collect();
    (ExportLogsServiceRequest { resource_logs }, ingest_ns)
}

fn span_events(json: &str) -> Vec<span::Event> {
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(json)
    else {
        return Vec::new();
    };
    items
        .iter()
        .map(|e| span::Event {
            time_unix_nano: e["time_unix_nano"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(0),
            name: e["name"].as_str().unwrap_or_default().to_string(),
            attributes: e["attributes"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| KeyValue {
                            key: k.clone(),
                            value: s(&v.as_str().map_or_else(|| v.to_string(), str::to_string)),
                            ..Default::default()
                        })
                        .collect()
                })
                .unwrap_or_default(),
            dropped_attributes_count: 0,
        })
        .collect()
}

fn spans_request(rows: &[(RecordBatch, usize)]) -> (ExportTraceServiceRequest, i64) {
    let mut ingest_ns = i64::MAX;
    // spans of one original scope stay together so parents meet their children
    let mut scopes: BTreeMap<(String, String), (Resource, InstrumentationScope, Vec<Span>)> =
        BTreeMap::new();
    for (b, r) in rows {
        let r = *r;
        let ts = b
            .column_by_name("ts")
            .expect("ts")
            .as_primitive::<TimestampNanosecondType>()
            .value(r);
        ingest_ns = ingest_ns.min(ts);
        let (resource, scope) = origin(b, r);
        let key = (str_at(b, "service_name", r).to_string(), scope.name.clone());
        let kind = str_at(b, "kind", r);
        let status = str_at(b, "status_code", r);
        let span = Span {
            trace_id: id_at(b, "trace_id", r),
            span_id: id_at(b, "span_id", r),
            parent_span_id: id_at(b, "parent_span_id", r),
            trace_state: str_at(b, "trace_state", r).to_string(),
            flags: b
                .column_by_name("flags")
                .expect("col")
                .as_primitive::<UInt32Type>()
                .value(r),
            name: str_at(b, "name", r).to_string(),
            kind: SPAN_KINDS.iter().position(|k| *k == kind).unwrap_or(0) as i32,
            start_time_unix_nano: u64::try_from(ts).unwrap_or(0),
            end_time_unix_nano: ts_at(b, "end_ts", r),
            attributes: map_at(b, "attributes", r),
            events: span_events(str_at(b, "events", r)),
            status: Some(Status {
                code: STATUS.iter().position(|k| *k == status).unwrap_or(0) as i32,
                message: str_at(b, "status_message", r).to_string(),
            }),
            ..Default::default()
        };
        scopes
            .entry(key)
            .or_insert_with(|| (resource, scope, Vec::new()))
            .2
            .push(span);
    }
    let resource_spans = scopes
        .into_values()
        .map(|(resource, scope, spans)| ResourceSpans {
            resource: Some(resource),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope),
                spans,
                ..Default::default()
            }],
            ..Default::default()
        })
        .collect();
    (ExportTraceServiceRequest { resource_spans }, ingest_ns)
}
