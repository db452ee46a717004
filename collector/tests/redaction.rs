//! Redaction keeps its promise on everything that reaches disk: secrets of every
//! default kind, embedded in random text in any field of any signal (resource,
//! scope, record and span-event attributes, log bodies of any AnyValue shape,
//! span names, metric metadata, JSON inside a string), are absent from the WAL
//! bytes and from every value of every Parquet file after a real export and
//! flush. The base64 of a secret is out of scope (SECURITY.md).
//!
//! `PROPTEST_CASES` sets the number of cases (default below), and a failure
//! prints the case to replay (`proptest-regressions/`).

use std::sync::Arc;

use arrow::util::display::{ArrayFormatter, FormatOptions};
use collector::{Collector, CollectorConfig, ExportRequest};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Gauge, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, span};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use proptest::prelude::*;

/// A secret of each default kind, and the part of it that must never be stored.
fn secret() -> impl Strategy<Value = (String, String)> {
    let core = |re: &'static str| proptest::string::string_regex(re).unwrap();
    prop_oneof![
        core("AKIA[0-9A-Z]{16}").prop_map(|k| (k.clone(), k)),
        core("[A-Za-z0-9/+]{30,40}").prop_map(|k| (format!("aws_secret_access_key = {k}"), k)),
        core("sk-ant-[A-Za-z0-9_]{24,40}").prop_map(|k| (k.clone(), k)),
        core("sk-proj-[A-Za-z0-9_]{24,40}").prop_map(|k| (k.clone(), k)),
        core("ghp_[A-Za-z0-9]{36,40}").prop_map(|k| (k.clone(), k)),
        core("xoxb-[A-Za-z0-9]{12,30}").prop_map(|k| (k.clone(), k)),
        core("[A-Za-z0-9._~+/]{24,40}").prop_map(|k| (format!("Authorization: Bearer {k}"), k)),
        core("[A-Za-z0-9]{12,24}").prop_map(|k| (format!("\nexport DEPLOY_TOKEN={k}\n"), k)),
        core("[A-Za-z0-9+/]{40,64}").prop_map(|k| (
            format!("-----BEGIN RSA PRIVATE KEY-----\n{k}\n-----END RSA PRIVATE KEY-----"),
            k
        )),
    ]
}

/// Where in a request the secret goes.
#[derive(Debug, Clone, Copy)]
enum Place {
    ResourceAttribute,
    ScopeAttribute,
    LogAttribute,
    LogBody,
    LogBodyMap,
    LogBodyArray,
    JsonInsideString,
    SpanName,
    SpanAttribute,
    SpanEventAttribute,
    SpanLinkAttribute,
    MetricDescription,
    DataPointAttribute,
}

const PLACES: [Place; 13] = [
    Place::ResourceAttribute,
    Place::ScopeAttribute,
    Place::LogAttribute,
    Place::LogBody,
    Place::LogBodyMap,
    Place::LogBodyArray,
    Place::JsonInsideString,
    Place::SpanName,
    Place::SpanAttribute,
    Place::SpanEventAttribute,
    Place::SpanLinkAttribute,
    Place::MetricDescription,
    Place::DataPointAttribute,
];

fn s(v: &str) -> AnyValue {
    AnyValue {
        value: Some(Value::StringValue(v.into())),
    }
}

fn kv(k: &str, v: AnyValue) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(v),
        ..Default::default()
    }
}

fn resource(attrs: Vec<KeyValue>) -> Option<Resource> {
    Some(Resource {
        attributes: [vec![kv("service.name", s("codex_exec"))], attrs].concat(),
        ..Default::default()
    })
}

fn scope(attrs: Vec<KeyValue>) -> Option<InstrumentationScope> {
    Some(InstrumentationScope {
        name: "codex".into(),
        attributes: attrs,
        ..Default::default()
    })
}

/// One request holding `text` at `place`.
fn request(place: Place, text: &str) -> ExportRequest {
    let attr = || vec![kv("tool.arguments", s(text))];
    let none = Vec::new;
    let log = |attributes: Vec<KeyValue>, body: Option<AnyValue>| LogRecord {
        time_unix_nano: 1_795_481_016_000_000_000,
        attributes: [vec![kv("event.name", s("codex.tool_result"))], attributes].concat(),
        body,
        ..Default::default()
    };
    let logs = |res: Vec<KeyValue>, sc: Vec<KeyValue>, record: LogRecord| {
        ExportRequest::Logs(ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                resource: resource(res),
                scope_logs: vec![ScopeLogs {
                    scope: scope(sc),
                    log_records: vec![record],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    };
    let spans = |span: Span| {
        ExportRequest::Traces(ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: resource(none()),
                scope_spans: vec![ScopeSpans {
                    scope: scope(none()),
                    spans: vec![span],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    };
    let span = || Span {
        trace_id: vec![7; 16],
        span_id: vec![8; 8],
        name: "execute_tool bash".into(),
        start_time_unix_nano: 1_795_481_016_000_000_000,
        end_time_unix_nano: 1_795_481_017_000_000_000,
        ..Default::default()
    };
    let metrics = |description: String, attributes: Vec<KeyValue>| {
        ExportRequest::Metrics(ExportMetricsServiceRequest {
            resource_metrics: vec![ResourceMetrics {
                resource: resource(none()),
                scope_metrics: vec![ScopeMetrics {
                    scope: scope(none()),
                    metrics: vec![Metric {
                        name: "codex.tool.call".into(),
                        description,
                        data: Some(metric::Data::Gauge(Gauge {
                            data_points: vec![NumberDataPoint {
                                attributes,
                                time_unix_nano: 1_795_481_016_000_000_000,
                                value: Some(number_data_point::Value::AsInt(1)),
                                ..Default::default()
                            }],
                        })),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        })
    };
    match place {
        Place::ResourceAttribute => logs(attr(), none(), log(none(), None)),
        Place::ScopeAttribute => logs(none(), attr(), log(none(), None)),
        Place::LogAttribute => logs(none(), none(), log(attr(), None)),
        Place::LogBody => logs(none(), none(), log(none(), Some(s(text)))),
        Place::LogBodyMap => logs(
            none(),
            none(),
            log(
                none(),
                Some(AnyValue {
                    value: Some(Value::KvlistValue(KeyValueList {
                        values: vec![kv(
                            "outer",
                            AnyValue {
                                value: Some(Value::KvlistValue(KeyValueList {
                                    values: vec![kv("output", s(text))],
                                })),
                            },
                        )],
                    })),
                }),
            ),
        ),
        Place::LogBodyArray => logs(
            none(),
            none(),
            log(
                none(),
                Some(AnyValue {
                    value: Some(Value::ArrayValue(ArrayValue {
                        values: vec![s("first"), s(text)],
                    })),
                }),
            ),
        ),
        Place::JsonInsideString => {
            let json = serde_json::json!({"command": ["bash", "-lc", text]}).to_string();
            logs(none(), none(), log(vec![kv("arguments", s(&json))], None))
        }
        Place::SpanName => spans(Span {
            name: text.into(),
            ..span()
        }),
        Place::SpanAttribute => spans(Span {
            attributes: attr(),
            ..span()
        }),
        Place::SpanEventAttribute => spans(Span {
            events: vec![span::Event {
                name: "gen_ai.choice".into(),
                attributes: attr(),
                time_unix_nano: 1_795_481_016_500_000_000,
                ..Default::default()
            }],
            ..span()
        }),
        Place::SpanLinkAttribute => spans(Span {
            links: vec![span::Link {
                trace_id: vec![9; 16],
                span_id: vec![9; 8],
                attributes: attr(),
                ..Default::default()
            }],
            ..span()
        }),
        Place::MetricDescription => metrics(text.to_string(), none()),
        Place::DataPointAttribute => metrics(String::new(), attr()),
    }
}

/// Every value of every Parquet file under `dir`, as text, plus the raw bytes
/// of every other file (the WAL).
fn everything_stored(dir: &std::path::Path) -> (Vec<u8>, String) {
    let (mut raw, mut values) = (Vec::new(), String::new());
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "parquet") {
                let file = std::fs::File::open(&p).unwrap();
                for batch in ParquetRecordBatchReaderBuilder::try_new(file)
                    .unwrap()
                    .build()
                    .unwrap()
                {
                    let batch = batch.unwrap();
                    for col in batch.columns() {
                        let f = ArrayFormatter::try_new(col.as_ref(), &FormatOptions::default())
                            .unwrap();
                        for i in 0..col.len() {
                            values.push_str(&f.value(i).to_string());
                            values.push('\n');
                        }
                    }
                }
            } else {
                raw.extend(std::fs::read(&p).unwrap());
            }
        }
    }
    (raw, values)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(48),
        ..ProptestConfig::default()
    })]

    #[test]
    fn no_secret_reaches_the_wal_or_parquet(
        placements in prop::collection::vec(
            (secret(), 0..PLACES.len(), "[a-z ]{0,12}", "[a-z ]{0,12}"),
            1..6,
        )
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let (cores, stored_something) = rt.block_on(async {
            let (c, _) = Collector::open(CollectorConfig::new(data.clone()), Arc::new(schemas::SystemClock)).unwrap();
            let mut cores = Vec::new();
            let mut accepted = 0;
            for ((text, core), place, before, after) in &placements {
                let o = c.export(request(PLACES[*place], &format!("{before} {text} {after}"))).await.unwrap();
                accepted += o.accepted;
                cores.push((core.clone(), PLACES[*place]));
            }
            // the WAL as acknowledged, before the flush trims it
            let (wal, _) = everything_stored(&data.join("wal"));
            c.shutdown().await.unwrap();
            let (_, parquet) = everything_stored(&data);
            ((cores, wal, parquet), accepted > 0)
        });
        prop_assert!(stored_something);
        let (cores, wal, parquet) = cores;
        prop_assert!(parquet.contains("[REDACTED:"), "nothing was redacted: the test placed no secret");
        for (core, place) in &cores {
            let in_wal = wal.windows(core.len()).any(|w| w == core.as_bytes());
            prop_assert!(!in_wal, "{core:?} (at {place:?}) is in the WAL");
            prop_assert!(!parquet.contains(core.as_str()), "{core:?} (at {place:?}) is in Parquet");
        }
    }
}
