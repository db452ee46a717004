//! What lands on disk: reindex rebuilds exactly the `agent_events` rows intake
//! made (every fixture and capture, and spans with only an end time), and every
//! flushed Parquet file carries its declared sort order, working bloom filters
//! and its WAL range.

use std::path::Path;
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch};
use arrow::compute::concat_batches;
use collector::{Collector, CollectorConfig, ExportRequest, Signal};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::serialized_reader::ReadOptionsBuilder;
use schemas::tables::{AGENT_EVENTS, OTLP_LOGS, OTLP_SPANS};

fn signal_of(path: &str) -> Signal {
    match path {
        "/v1/traces" => Signal::Traces,
        "/v1/logs" => Signal::Logs,
        _ => Signal::Metrics,
    }
}

/// Every request of every scenario and capture, decoded.
fn recorded_requests() -> Vec<(String, ExportRequest)> {
    let mut dirs = fixtures::scenarios();
    dirs.extend(fixtures::captures());
    assert!(dirs.len() >= 11, "fixtures missing: {dirs:?}");
    let mut out = Vec::new();
    for dir in dirs {
        for m in fixtures::manifest(&dir).expect("manifest") {
            let body = std::fs::read(dir.join(&m.file)).unwrap();
            let req = ExportRequest::decode_json(signal_of(&m.path), &body).unwrap();
            out.push((format!("{}/{}", dir.display(), m.file), req));
        }
    }
    out
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

/// Records whose time is not what it seems: spans with only an end time or none,
/// and logs with no time beside a log with one (the receive time must not be
/// guessed from the others).
fn tricky_requests() -> Vec<(String, ExportRequest)> {
    let span = |id: u8, start: u64, end: u64| Span {
        trace_id: vec![id; 16],
        span_id: vec![id; 8],
        name: "execute_tool read_file".into(),
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes: vec![
            kv("gen_ai.operation.name", "execute_tool"),
            kv("gen_ai.tool.name", "read_file"),
            kv("gen_ai.conversation.id", "conv-1"),
            kv("gen_ai.tool.call.arguments", r#"{"path": "/etc/hosts"}"#),
        ],
        ..Default::default()
    };
    let traces = ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "acme-agent")],
                ..Default::default()
            }),
            scope_spans: vec![ScopeSpans {
                spans: vec![
                    span(1, 0, 1_795_481_016_000_000_000),
                    span(2, 0, 0),
                    span(3, 1_795_481_015_000_000_000, 1_795_481_016_000_000_000),
                    span(4, 1_795_481_017_000_000_000, 1_795_481_016_000_000_000),
                ],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    let log = |time: u64, prompt: &str| LogRecord {
        time_unix_nano: time,
        attributes: vec![
            kv("event.name", "user_prompt"),
            kv("session.id", "s-1"),
            kv("prompt", prompt),
        ],
        ..Default::default()
    };
    let logs = ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: vec![kv("service.name", "claude-code")],
                ..Default::default()
            }),
            scope_logs: vec![ScopeLogs {
                log_records: vec![log(1_700_000_000_000_000_000, "early"), log(0, "no time")],
                ..Default::default()
            }],
            ..Default::default()
        }],
    };
    vec![
        (
            "spans without start times".into(),
            ExportRequest::Traces(traces),
        ),
        (
            "logs with and without times".into(),
            ExportRequest::Logs(logs),
        ),
    ]
}

/// A batch written to Parquet and read back, as `vigil reindex` reads it.
fn through_parquet(batch: &RecordBatch) -> RecordBatch {
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(buf))
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    concat_batches(&batch.schema(), &batches).unwrap()
}

#[test]
fn reindex_rebuilds_exactly_the_events_intake_made() {
    let mut requests = recorded_requests();
    requests.extend(tricky_requests());
    let mut compared = 0;
    let mut failures = Vec::new();
    for (i, (what, req)) in requests.iter().enumerate() {
        let received = 1_795_490_000_000_000_000 + i as i64;
        let rows = req.rows(received).unwrap();
        let find = |t: &str| {
            rows.iter()
                .find(|(name, _)| *name == t)
                .map(|(_, b)| b.clone())
        };
        let raw_table = match req.signal() {
            Signal::Traces => OTLP_SPANS,
            Signal::Logs => OTLP_LOGS,
            Signal::Metrics => continue,
        };
        let raw = through_parquet(&find(raw_table).expect("raw rows"));
        let rebuilt = collector::reindex::events_from_raw(raw_table, &[raw]).unwrap();
        match (find(AGENT_EVENTS), rebuilt.is_empty()) {
            (None, true) => {}
            (Some(intake), false) => {
                let rebuilt = concat_batches(&intake.schema(), &rebuilt).unwrap();
                if rebuilt != intake {
                    let diff: Vec<String> = intake
                        .schema()
                        .fields()
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| intake.column(*i) != rebuilt.column(*i))
                        .map(|(i, f)| {
                            format!(
                                "column {}: intake {:?}\n  reindex {:?}",
                                f.name(),
                                intake.column(i),
                                rebuilt.column(i)
                            )
                        })
                        .collect();
                    failures.push(format!("{what}:\n{}", diff.join("\n")));
                }
                compared += 1;
            }
            (intake, _) => failures.push(format!(
                "{what}: intake made {} rows, reindex {}",
                intake.map_or(0, |b| b.num_rows()),
                rebuilt.iter().map(RecordBatch::num_rows).sum::<usize>()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(compared >= 20, "only {compared} requests gave events");
}

#[test]
fn spans_with_only_an_end_time_get_it_in_both_tables() {
    let (_, req) = &tricky_requests()[0];
    let rows = req.rows(42).unwrap();
    let ts = |t: &str| -> Vec<i64> {
        let (_, b) = rows.iter().find(|(n, _)| *n == t).unwrap();
        b.column_by_name("ts")
            .unwrap()
            .as_primitive::<arrow::datatypes::TimestampNanosecondType>()
            .values()
            .to_vec()
    };
    let want = vec![
        1_795_481_016_000_000_000,
        42,
        1_795_481_015_000_000_000,
        1_795_481_017_000_000_000,
    ];
    assert_eq!(ts(OTLP_SPANS), want);
    assert_eq!(ts(AGENT_EVENTS), want);
}

async fn store_with_fixtures(dir: &Path) {
    let (c, _) = Collector::open(
        CollectorConfig::new(dir.to_path_buf()),
        Arc::new(schemas::SystemClock),
    )
    .unwrap();
    for (_, req) in recorded_requests() {
        c.export(req).await.unwrap();
    }
    c.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn flushed_files_carry_their_sort_order_bloom_filters_and_wal_range() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    store_with_fixtures(&dir).await;
    let mut checked_blooms = std::collections::BTreeSet::new();
    for table in schemas::tables::INTAKE_TABLES {
        let files = schemas::layout::list_table(&dir, table).unwrap().files;
        assert!(!files.is_empty(), "{table}: no files");
        for f in files {
            let options = ReadOptionsBuilder::new()
                .with_reader_properties(
                    parquet::file::properties::ReaderProperties::builder()
                        .set_read_bloom_filter(true)
                        .build(),
                )
                .build();
            let reader = SerializedFileReader::new_with_options(
                std::fs::File::open(&f.path).unwrap(),
                options,
            )
            .unwrap();
            let meta = reader.metadata();
            let kv: std::collections::HashMap<_, _> = meta
                .file_metadata()
                .key_value_metadata()
                .unwrap()
                .iter()
                .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
                .collect();
            assert_eq!(
                kv["vigil.wal_seq_lo"],
                f.wal_range.0.to_string(),
                "{}",
                f.path.display()
            );
            assert_eq!(
                kv["vigil.wal_seq_hi"],
                f.wal_range.1.to_string(),
                "{}",
                f.path.display()
            );
            assert_eq!(kv["vigil.table"], table);
            let schema = meta.file_metadata().schema_descr();
            let col = |name: &str| {
                (0..schema.num_columns()).find(|&i| schema.column(i).path().string() == name)
            };
            let want_sort: Vec<usize> = match table {
                AGENT_EVENTS => vec![col("session_id").unwrap(), col("ts").unwrap()],
                OTLP_SPANS => vec![col("trace_id").unwrap(), col("ts").unwrap()],
                _ => vec![col("ts").unwrap()],
            };
            // the rows really are in that order
            let batches: Vec<RecordBatch> =
                ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&f.path).unwrap())
                    .unwrap()
                    .build()
                    .unwrap()
                    .map(|b| b.unwrap())
                    .collect();
            let all = concat_batches(&batches[0].schema(), &batches).unwrap();
            let cmps: Vec<_> = want_sort
                .iter()
                .map(|&i| {
                    let c = all.column(i).as_ref();
                    arrow::array::make_comparator(c, c, Default::default()).unwrap()
                })
                .collect();
            let in_order = (1..all.num_rows()).all(|r| {
                for cmp in &cmps {
                    match cmp(r - 1, r) {
                        std::cmp::Ordering::Less => return true,
                        std::cmp::Ordering::Equal => continue,
                        std::cmp::Ordering::Greater => return false,
                    }
                }
                true
            });
            assert!(
                in_order,
                "{}: rows out of the declared order",
                f.path.display()
            );
            for rg in 0..meta.num_row_groups() {
                let declared: Vec<usize> = meta
                    .row_group(rg)
                    .sorting_columns()
                    .unwrap()
                    .iter()
                    .map(|s| s.column_idx as usize)
                    .collect();
                assert_eq!(declared, want_sort, "{}", f.path.display());
                let bloom_col = match table {
                    AGENT_EVENTS => Some("session_id"),
                    OTLP_SPANS | OTLP_LOGS => Some("trace_id"),
                    _ => None,
                };
                let Some(name) = bloom_col else { continue };
                let i = col(name).unwrap();
                let rg_reader = reader.get_row_group(rg).unwrap();
                let bloom = rg_reader
                    .get_column_bloom_filter(i)
                    .unwrap_or_else(|| panic!("{}: no bloom filter on {name}", f.path.display()));
                let values = all.column(i).as_string::<i32>();
                let present = values.iter().flatten().next();
                if let Some(v) = present {
                    assert!(
                        bloom.check(&v),
                        "{}: {name} {v} not found",
                        f.path.display()
                    );
                    checked_blooms.insert(table);
                }
                let absent = "no-such-session-00000000-0000-0000-0000-000000000000";
                assert!(
                    !bloom.check(&absent),
                    "{}: the bloom filter lets an absent {name} through",
                    f.path.display()
                );
            }
        }
    }
    assert_eq!(
        checked_blooms.into_iter().collect::<Vec<_>>(),
        vec![AGENT_EVENTS, OTLP_LOGS, OTLP_SPANS],
        "a present value was looked up in every bloom-filtered table"
    );
}
