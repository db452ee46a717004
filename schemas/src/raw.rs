//! Decoded OTLP requests ↔ Arrow rows of the raw tables, both directions in one
//! place.
//!
//! Forward ([`span_rows`], [`log_rows`], [`metric_rows`]): one batch per table
//! per request, filled column by column through the declarations of
//! [`crate::tables`]. `wal_seq` is written as 0 and stamped by the WAL writer.
//! Times come from [`crate::time`], the vendor label from [`Vendor::detect`].
//!
//! Back ([`logs_request`], [`spans_request`]): the rows of one WAL record
//! turned back into an export request, for `vigil reindex`. Attribute values
//! come back as strings (the raw tables store text), which the normalizer reads
//! the same way for every field it uses; times, ids and names come back exactly,
//! so normalizing the rebuilt request gives the rows intake gave (tested on
//! every fixture and capture).

use std::collections::BTreeMap;

use arrow::array::{Array, AsArray, MapArray, RecordBatch, StringArray};
use arrow::datatypes::{Int32Type, Int64Type, TimestampNanosecondType, UInt32Type, UInt64Type};
use arrow::error::ArrowError;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{Exemplar, metric, number_data_point};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};
use serde_json::json;

use crate::attrs::otel;
use crate::columns::{AttrMapBuilder, Columns, Utf8};
use crate::otlp::{
    Attrs, RecordOf, RecordOrigin, ResourceLevel, attrs_json, hex_lower, record_count, render_text,
    scopes,
};
use crate::tables::{EnvelopeColumns, LogColumns, MetricColumns, SpanColumns};
use crate::time::{log_time, ns, point_time, span_duration_ns, span_start_from_row, span_time};
use crate::vendor::Vendor;

/// `SpanKind` values as stored in `otlp_spans.kind`.
pub const SPAN_KIND_NAMES: [&str; 6] = [
    "unspecified",
    "internal",
    "server",
    "client",
    "producer",
    "consumer",
];
/// `StatusCode` values as stored in `otlp_spans.status_code`.
pub const STATUS_NAMES: [&str; 3] = ["unset", "ok", "error"];
/// `AggregationTemporality` values as stored in `otlp_metrics.temporality`.
pub const TEMPORALITY_NAMES: [&str; 3] = ["unspecified", "delta", "cumulative"];

fn enum_name(names: &[&'static str], v: i32) -> String {
    usize::try_from(v)
        .ok()
        .and_then(|i| names.get(i))
        .map_or_else(|| v.to_string(), |s| (*s).to_string())
}

fn enum_value(names: &[&str], name: &str) -> i32 {
    names
        .iter()
        .position(|k| *k == name)
        .map_or_else(|| name.parse().unwrap_or(0), |i| i as i32)
}

fn append_attrs(b: &mut AttrMapBuilder, kvs: &[KeyValue], scratch: &mut String) {
    for kv in kvs {
        b.keys().append_value(&kv.key);
        match &kv.value {
            None => b.values().append_null(),
            Some(v) => {
                scratch.clear();
                render_text(v, scratch);
                b.values().append_value(scratch.as_str());
            }
        }
    }
    // a map value is never null: an empty map is "no attributes"
    let _ = b.append(true);
}

/// The resource's `service.name` (the last one if repeated), or "".
fn service_name<'a>(o: &RecordOrigin<'a>) -> std::borrow::Cow<'a, str> {
    Attrs(o.resource_attributes())
        .str(otel::SERVICE_NAME)
        .unwrap_or_default()
}

/// Fills the envelope columns every raw table shares.
struct EnvelopeWriter {
    scratch: String,
    received_ns: i64,
}

impl EnvelopeWriter {
    fn new(received_ns: i64) -> Self {
        EnvelopeWriter {
            scratch: String::new(),
            received_ns,
        }
    }

    fn append(
        &mut self,
        b: &mut EnvelopeColumns,
        o: &RecordOrigin<'_>,
        service: &str,
        record_attrs: &[KeyValue],
        ts: i64,
    ) {
        Utf8::append_non_empty(&mut b.service_name, service);
        b.vendor
            .append_value(Vendor::detect(service, o.scope_name(), record_attrs).as_str());
        append_attrs(
            &mut b.resource_attributes,
            o.resource_attributes(),
            &mut self.scratch,
        );
        b.resource_dropped_attributes_count
            .append_value(o.resource.map_or(0, |r| r.dropped_attributes_count));
        Utf8::append_non_empty(&mut b.resource_schema_url, o.resource_schema_url);
        Utf8::append_non_empty(&mut b.scope_name, o.scope_name());
        Utf8::append_non_empty(
            &mut b.scope_version,
            o.scope.map_or("", |s| s.version.as_str()),
        );
        append_attrs(
            &mut b.scope_attributes,
            o.scope.map_or(&[], |s| &s.attributes),
            &mut self.scratch,
        );
        Utf8::append_non_empty(&mut b.scope_schema_url, o.scope_schema_url);
        b.received_ts.append_value(self.received_ns);
        b.partition.append_ts(ts);
    }
}

fn optional_ts(b: &mut arrow::array::TimestampNanosecondBuilder, t: u64) {
    if t > 0 {
        b.append_value(ns(t))
    } else {
        b.append_null()
    }
}

/// The rows of one raw table for a request: `fill` appends the rows of one
/// record (one, or a metric's data points) and says how many. `None` when the
/// request gave none.
fn table_rows<R: ResourceLevel, C: Columns>(
    resources: &[R],
    capacity: usize,
    received_ns: i64,
    mut fill: impl FnMut(&mut C, &mut EnvelopeWriter, &RecordOrigin<'_>, &str, &RecordOf<R>) -> usize,
) -> Result<Option<RecordBatch>, ArrowError> {
    let mut b = C::with_capacity(capacity);
    let mut env = EnvelopeWriter::new(received_ns);
    let mut rows = 0;
    for (origin, records) in scopes(resources) {
        let service = service_name(&origin);
        for r in records {
            rows += fill(&mut b, &mut env, &origin, &service, r);
        }
    }
    if rows == 0 {
        return Ok(None);
    }
    b.finish().map(Some)
}

/// A JSON array of `items`, NULL for none (span events and links, exemplars).
fn json_list<T>(items: &[T], item: impl Fn(&T) -> serde_json::Value) -> Option<String> {
    (!items.is_empty())
        .then(|| serde_json::Value::Array(items.iter().map(item).collect()).to_string())
}

/// Spans → one `otlp_spans` batch; `None` when the request has no spans.
pub fn span_rows(
    req: &ExportTraceServiceRequest,
    received_ns: i64,
) -> Result<Option<RecordBatch>, ArrowError> {
    let capacity = record_count(&req.resource_spans);
    table_rows(
        &req.resource_spans,
        capacity,
        received_ns,
        |b: &mut SpanColumns, env, origin, service, s| {
            let t = span_time(s.start_time_unix_nano, s.end_time_unix_nano, received_ns);
            b.wal_seq.append_value(0);
            b.ts.append_value(t);
            optional_ts(&mut b.end_ts, s.end_time_unix_nano);
            b.duration_ns.append_option(span_duration_ns(
                s.start_time_unix_nano,
                s.end_time_unix_nano,
            ));
            b.trace_id.append_value(hex_lower(&s.trace_id));
            b.span_id.append_value(hex_lower(&s.span_id));
            Utf8::append_non_empty(&mut b.parent_span_id, &hex_lower(&s.parent_span_id));
            Utf8::append_non_empty(&mut b.trace_state, &s.trace_state);
            b.flags.append_value(s.flags);
            b.name.append_value(&s.name);
            b.kind.append_value(enum_name(&SPAN_KIND_NAMES, s.kind));
            let st = s.status.as_ref();
            b.status_code
                .append_value(enum_name(&STATUS_NAMES, st.map_or(0, |s| s.code)));
            Utf8::append_non_empty(&mut b.status_message, st.map_or("", |s| s.message.as_str()));
            append_attrs(&mut b.attributes, &s.attributes, &mut env.scratch);
            b.dropped_attributes_count
                .append_value(s.dropped_attributes_count);
            b.events.append_option(json_list(&s.events, |e| {
                json!({"time_unix_nano": e.time_unix_nano.to_string(), "name": e.name,
                       "attributes": attrs_json(&e.attributes),
                       "dropped_attributes_count": e.dropped_attributes_count})
            }));
            b.dropped_events_count.append_value(s.dropped_events_count);
            b.links.append_option(json_list(&s.links, |l| {
                json!({"trace_id": hex_lower(&l.trace_id), "span_id": hex_lower(&l.span_id),
                       "trace_state": l.trace_state, "flags": l.flags,
                       "attributes": attrs_json(&l.attributes),
                       "dropped_attributes_count": l.dropped_attributes_count})
            }));
            b.dropped_links_count.append_value(s.dropped_links_count);
            env.append(&mut b.envelope, origin, service, &s.attributes, t);
            1
        },
    )
}

/// Log records → one `otlp_logs` batch.
pub fn log_rows(
    req: &ExportLogsServiceRequest,
    received_ns: i64,
) -> Result<Option<RecordBatch>, ArrowError> {
    let capacity = record_count(&req.resource_logs);
    let mut scratch = String::new();
    table_rows(
        &req.resource_logs,
        capacity,
        received_ns,
        |b: &mut LogColumns, env, origin, service, r| {
            let t = log_time(
                r.time_unix_nano,
                r.observed_time_unix_nano,
                &r.attributes,
                received_ns,
            );
            b.wal_seq.append_value(0);
            b.ts.append_value(t);
            if r.time_unix_nano > 0 {
                b.time_unix_nano.append_value(ns(r.time_unix_nano))
            } else {
                b.time_unix_nano.append_null()
            }
            optional_ts(&mut b.observed_ts, r.observed_time_unix_nano);
            b.severity_number.append_value(r.severity_number);
            Utf8::append_non_empty(&mut b.severity_text, &r.severity_text);
            match &r.body {
                None => b.body.append_null(),
                Some(v) => {
                    scratch.clear();
                    render_text(v, &mut scratch);
                    b.body.append_value(&scratch);
                }
            }
            Utf8::append_non_empty(&mut b.event_name, &r.event_name);
            Utf8::append_non_empty(&mut b.trace_id, &hex_lower(&r.trace_id));
            Utf8::append_non_empty(&mut b.span_id, &hex_lower(&r.span_id));
            b.flags.append_value(r.flags);
            append_attrs(&mut b.attributes, &r.attributes, &mut scratch);
            b.dropped_attributes_count
                .append_value(r.dropped_attributes_count);
            env.append(&mut b.envelope, origin, service, &r.attributes, t);
            1
        },
    )
}

/// What differs between data point kinds; the rest of the row is shared.
#[derive(Default)]
struct Point<'a> {
    attributes: &'a [KeyValue],
    start: u64,
    time: u64,
    flags: u32,
    exemplars: &'a [Exemplar],
    value_double: Option<f64>,
    value_int: Option<i64>,
    count: Option<u64>,
    sum: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    buckets: Option<(&'a [u64], &'a [f64])>,
    details: Option<serde_json::Value>,
}

/// The fields histograms and exponential histograms share.
macro_rules! histogram_point {
    ($p:expr) => {
        Point {
            attributes: &$p.attributes,
            start: $p.start_time_unix_nano,
            time: $p.time_unix_nano,
            flags: $p.flags,
            exemplars: &$p.exemplars,
            count: Some($p.count),
            sum: $p.sum,
            min: $p.min,
            max: $p.max,
            ..Default::default()
        }
    };
}

/// A metric's type label, temporality, monotonicity and data points.
type MetricShape<'a> = (&'static str, Option<i32>, Option<bool>, Vec<Point<'a>>);

fn metric_shape(m: &opentelemetry_proto::tonic::metrics::v1::Metric) -> MetricShape<'_> {
    use opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets;
    match &m.data {
        None => ("none", None, None, Vec::new()),
        Some(metric::Data::Gauge(g)) => ("gauge", None, None, g.data_points.iter().map(number_point).collect()),
        Some(metric::Data::Sum(s)) => (
            "sum",
            Some(s.aggregation_temporality),
            Some(s.is_monotonic),
            s.data_points.iter().map(number_point).collect(),
        ),
        Some(metric::Data::Histogram(h)) => (
            "histogram",
            Some(h.aggregation_temporality),
            None,
            h.data_points
                .iter()
                .map(|p| Point {
                    buckets: Some((&p.bucket_counts, &p.explicit_bounds)),
                    ..histogram_point!(p)
                })
                .collect(),
        ),
        Some(metric::Data::ExponentialHistogram(h)) => (
            "exponential_histogram",
            Some(h.aggregation_temporality),
            None,
            h.data_points
                .iter()
                .map(|p| {
                    let b = |b: &Option<Buckets>| {
                        b.as_ref()
                            .map(|b| json!({"offset": b.offset, "bucket_counts": b.bucket_counts}))
                    };
                    Point {
                        details: Some(json!({"scale": p.scale, "zero_count": p.zero_count,
                            "zero_threshold": p.zero_threshold,
                            "positive": b(&p.positive), "negative": b(&p.negative)})),
                        ..histogram_point!(p)
                    }
                })
                .collect(),
        ),
        Some(metric::Data::Summary(s)) => (
            "summary",
            None,
            None,
            s.data_points
                .iter()
                .map(|p| Point {
                    attributes: &p.attributes,
                    start: p.start_time_unix_nano,
                    time: p.time_unix_nano,
                    flags: p.flags,
                    count: Some(p.count),
                    sum: Some(p.sum),
                    details: Some(json!({"quantile_values": p.quantile_values.iter()
                        .map(|q| json!({"quantile": q.quantile, "value": q.value})).collect::<Vec<_>>()})),
                    ..Default::default()
                })
                .collect(),
        ),
    }
}

/// Metric data points → one `otlp_metrics` batch (one row per point).
pub fn metric_rows(
    req: &ExportMetricsServiceRequest,
    received_ns: i64,
) -> Result<Option<RecordBatch>, ArrowError> {
    let mut scratch = String::new();
    table_rows(
        &req.resource_metrics,
        0,
        received_ns,
        |b: &mut MetricColumns, env, origin, service, m| {
            let (mtype, temporality, monotonic, points) = metric_shape(m);
            let n = points.len();
            for p in points {
                let t = point_time(p.time, p.start, received_ns);
                b.wal_seq.append_value(0);
                b.ts.append_value(t);
                optional_ts(&mut b.start_ts, p.start);
                b.metric_name.append_value(&m.name);
                Utf8::append_non_empty(&mut b.description, &m.description);
                Utf8::append_non_empty(&mut b.unit, &m.unit);
                b.metric_type.append_value(mtype);
                b.temporality
                    .append_option(temporality.map(|t| enum_name(&TEMPORALITY_NAMES, t)));
                b.is_monotonic.append_option(monotonic);
                b.value_double.append_option(p.value_double);
                b.value_int.append_option(p.value_int);
                b.count.append_option(p.count);
                b.sum.append_option(p.sum);
                b.min.append_option(p.min);
                b.max.append_option(p.max);
                match p.buckets {
                    Some((counts, bounds)) => {
                        b.bucket_counts.values().append_slice(counts);
                        b.bucket_counts.append(true);
                        b.explicit_bounds.values().append_slice(bounds);
                        b.explicit_bounds.append(true);
                    }
                    None => {
                        b.bucket_counts.append_null();
                        b.explicit_bounds.append_null();
                    }
                }
                b.details.append_option(p.details.map(|d| d.to_string()));
                b.exemplars
                    .append_option(json_list(p.exemplars, exemplar_json));
                b.flags.append_value(p.flags);
                append_attrs(&mut b.attributes, p.attributes, &mut scratch);
                append_attrs(&mut b.metric_metadata, &m.metadata, &mut scratch);
                env.append(&mut b.envelope, origin, service, p.attributes, t);
            }
            n
        },
    )
}

fn number_point(p: &opentelemetry_proto::tonic::metrics::v1::NumberDataPoint) -> Point<'_> {
    let (value_double, value_int) = match p.value {
        Some(number_data_point::Value::AsDouble(d)) => (Some(d), None),
        Some(number_data_point::Value::AsInt(i)) => (None, Some(i)),
        None => (None, None),
    };
    Point {
        attributes: &p.attributes,
        start: p.start_time_unix_nano,
        time: p.time_unix_nano,
        flags: p.flags,
        exemplars: &p.exemplars,
        value_double,
        value_int,
        ..Default::default()
    }
}

fn exemplar_json(e: &Exemplar) -> serde_json::Value {
    use opentelemetry_proto::tonic::metrics::v1::exemplar::Value;
    let value = match e.value {
        Some(Value::AsDouble(d)) => json!(d),
        Some(Value::AsInt(i)) => json!(i),
        None => serde_json::Value::Null,
    };
    json!({"time_unix_nano": e.time_unix_nano.to_string(), "trace_id": hex_lower(&e.trace_id),
           "span_id": hex_lower(&e.span_id), "value": value,
           "filtered_attributes": attrs_json(&e.filtered_attributes)})
}

// ---------------------------------------------------------------------------
// Back: raw rows → export requests (for `vigil reindex`).

/// One stored row: a batch and a row index in it.
pub type RowRef<'a> = (&'a RecordBatch, usize);

fn column<'a>(b: &'a RecordBatch, name: &str) -> Result<&'a dyn Array, ArrowError> {
    b.column_by_name(name)
        .map(|c| c.as_ref())
        .ok_or_else(|| ArrowError::SchemaError(format!("raw table lacks column {name:?}")))
}

fn string_value(v: &str) -> Option<AnyValue> {
    Some(AnyValue {
        value: Some(any_value::Value::StringValue(v.to_string())),
    })
}

fn map_at(b: &RecordBatch, col: &str, row: usize) -> Result<Vec<KeyValue>, ArrowError> {
    let m = column(b, col)?
        .as_any()
        .downcast_ref::<MapArray>()
        .ok_or_else(|| ArrowError::SchemaError(format!("{col} is not a map")))?;
    if m.is_null(row) {
        return Ok(Vec::new());
    }
    let entries = m.value(row);
    let keys = entries.column(0).as_string::<i32>();
    let values = entries.column(1).as_string::<i32>();
    Ok((0..entries.len())
        .map(|i| KeyValue {
            key: keys.value(i).to_string(),
            value: (!values.is_null(i))
                .then(|| string_value(values.value(i)))
                .flatten(),
            ..Default::default()
        })
        .collect())
}

fn str_at<'a>(b: &'a RecordBatch, col: &str, row: usize) -> Result<&'a str, ArrowError> {
    let a: &StringArray = column(b, col)?.as_string();
    Ok(if a.is_null(row) { "" } else { a.value(row) })
}

fn id_at(b: &RecordBatch, col: &str, row: usize) -> Result<Vec<u8>, ArrowError> {
    Ok(hex::decode(str_at(b, col, row)?).unwrap_or_default())
}

fn opt_ts_at(b: &RecordBatch, col: &str, row: usize) -> Result<Option<i64>, ArrowError> {
    let a = column(b, col)?.as_primitive::<TimestampNanosecondType>();
    Ok((!a.is_null(row)).then(|| a.value(row)))
}

fn u64_ns(t: Option<i64>) -> u64 {
    t.map_or(0, |t| u64::try_from(t).unwrap_or(0))
}

fn prim<T: arrow::datatypes::ArrowPrimitiveType>(
    b: &RecordBatch,
    col: &str,
    row: usize,
) -> Result<Option<T::Native>, ArrowError> {
    let a = column(b, col)?.as_primitive::<T>();
    Ok((!a.is_null(row)).then(|| a.value(row)))
}

fn origin_at(b: &RecordBatch, row: usize) -> Result<(Resource, InstrumentationScope), ArrowError> {
    Ok((
        Resource {
            attributes: map_at(b, "resource_attributes", row)?,
            dropped_attributes_count: prim::<UInt32Type>(
                b,
                "resource_dropped_attributes_count",
                row,
            )?
            .unwrap_or(0),
            ..Default::default()
        },
        InstrumentationScope {
            name: str_at(b, "scope_name", row)?.to_string(),
            version: str_at(b, "scope_version", row)?.to_string(),
            attributes: map_at(b, "scope_attributes", row)?,
            dropped_attributes_count: 0,
        },
    ))
}

/// When the rows' request was received (older files without `received_ts`: the
/// earliest row time, which is what those files' rows fell back to).
fn received_at(rows: &[RowRef<'_>]) -> Result<i64, ArrowError> {
    let mut earliest = i64::MAX;
    for (b, r) in rows {
        if let Some(c) = b.column_by_name("received_ts") {
            let a = c.as_primitive::<TimestampNanosecondType>();
            if !a.is_null(*r) {
                return Ok(a.value(*r));
            }
        }
        earliest = earliest.min(prim::<TimestampNanosecondType>(b, "ts", *r)?.unwrap_or(0));
    }
    Ok(earliest)
}

/// The `otlp_logs` rows of one WAL record as the request they came from, and
/// when it was received.
pub fn logs_request(rows: &[RowRef<'_>]) -> Result<(ExportLogsServiceRequest, i64), ArrowError> {
    let received = received_at(rows)?;
    let mut resource_logs = Vec::with_capacity(rows.len());
    for &(b, r) in rows {
        let (resource, scope) = origin_at(b, r)?;
        let body = column(b, "body")?.as_string::<i32>();
        let record = LogRecord {
            time_unix_nano: u64_ns(prim::<Int64Type>(b, "time_unix_nano", r)?),
            observed_time_unix_nano: u64_ns(opt_ts_at(b, "observed_ts", r)?),
            severity_number: prim::<Int32Type>(b, "severity_number", r)?.unwrap_or(0),
            severity_text: str_at(b, "severity_text", r)?.to_string(),
            body: (!body.is_null(r))
                .then(|| string_value(body.value(r)))
                .flatten(),
            attributes: map_at(b, "attributes", r)?,
            dropped_attributes_count: prim::<UInt32Type>(b, "dropped_attributes_count", r)?
                .unwrap_or(0),
            flags: prim::<UInt32Type>(b, "flags", r)?.unwrap_or(0),
            trace_id: id_at(b, "trace_id", r)?,
            span_id: id_at(b, "span_id", r)?,
            event_name: str_at(b, "event_name", r)?.to_string(),
        };
        resource_logs.push(ResourceLogs {
            resource: Some(resource),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope),
                log_records: vec![record],
                ..Default::default()
            }],
            ..Default::default()
        });
    }
    Ok((ExportLogsServiceRequest { resource_logs }, received))
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
                            value: string_value(
                                &v.as_str().map_or_else(|| v.to_string(), str::to_string),
                            ),
                            ..Default::default()
                        })
                        .collect()
                })
                .unwrap_or_default(),
            dropped_attributes_count: e["dropped_attributes_count"].as_u64().unwrap_or(0) as u32,
        })
        .collect()
}

/// The `otlp_spans` rows of one WAL record as the request they came from, and
/// when it was received. Rows are in the order they were sent; consecutive rows
/// of one resource and scope share a `ScopeSpans` again, so parents meet their
/// children as they did at intake.
pub fn spans_request(rows: &[RowRef<'_>]) -> Result<(ExportTraceServiceRequest, i64), ArrowError> {
    let received = received_at(rows)?;
    let mut resource_spans: Vec<ResourceSpans> = Vec::new();
    let mut current: Option<(Resource, InstrumentationScope)> = None;
    for &(b, r) in rows {
        let origin = origin_at(b, r)?;
        let ts = prim::<TimestampNanosecondType>(b, "ts", r)?.unwrap_or(0);
        let end_ts = opt_ts_at(b, "end_ts", r)?;
        let duration = prim::<Int64Type>(b, "duration_ns", r)?;
        let span = Span {
            trace_id: id_at(b, "trace_id", r)?,
            span_id: id_at(b, "span_id", r)?,
            parent_span_id: id_at(b, "parent_span_id", r)?,
            trace_state: str_at(b, "trace_state", r)?.to_string(),
            flags: prim::<UInt32Type>(b, "flags", r)?.unwrap_or(0),
            name: str_at(b, "name", r)?.to_string(),
            kind: enum_value(&SPAN_KIND_NAMES, str_at(b, "kind", r)?),
            start_time_unix_nano: span_start_from_row(ts, end_ts, duration),
            end_time_unix_nano: u64_ns(end_ts),
            attributes: map_at(b, "attributes", r)?,
            dropped_attributes_count: prim::<UInt32Type>(b, "dropped_attributes_count", r)?
                .unwrap_or(0),
            events: span_events(str_at(b, "events", r)?),
            dropped_events_count: prim::<UInt32Type>(b, "dropped_events_count", r)?.unwrap_or(0),
            dropped_links_count: prim::<UInt32Type>(b, "dropped_links_count", r)?.unwrap_or(0),
            status: Some(Status {
                code: enum_value(&STATUS_NAMES, str_at(b, "status_code", r)?),
                message: str_at(b, "status_message", r)?.to_string(),
            }),
            ..Default::default()
        };
        if current.as_ref() != Some(&origin) {
            resource_spans.push(ResourceSpans {
                resource: Some(origin.0.clone()),
                scope_spans: vec![ScopeSpans {
                    scope: Some(origin.1.clone()),
                    ..Default::default()
                }],
                ..Default::default()
            });
            current = Some(origin);
        }
        let last = resource_spans.last_mut().expect("pushed above");
        last.scope_spans[0].spans.push(span);
    }
    Ok((ExportTraceServiceRequest { resource_spans }, received))
}

/// Groups rows by the WAL record (`wal_seq`) they came from, in sequence order.
pub fn rows_by_wal_seq(
    batches: &[RecordBatch],
) -> Result<BTreeMap<u64, Vec<RowRef<'_>>>, ArrowError> {
    let mut by_seq: BTreeMap<u64, Vec<RowRef<'_>>> = BTreeMap::new();
    for b in batches {
        let seqs = column(b, crate::tables::COL_WAL_SEQ)?.as_primitive::<UInt64Type>();
        for row in 0..b.num_rows() {
            by_seq.entry(seqs.value(row)).or_default().push((b, row));
        }
    }
    Ok(by_seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::AsArray;
    use opentelemetry_proto::tonic::common::v1::any_value::Value;

    use crate::otlp::tests::kv;

    fn one_span(start: u64, end: u64, attributes: Vec<KeyValue>) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        name: "exec_command".into(),
                        start_time_unix_nano: start,
                        end_time_unix_nano: end,
                        attributes,
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn duplicate_attribute_keys_are_both_kept_in_the_raw_table() {
        let req = one_span(
            0,
            0,
            vec![
                kv("thread.id", Value::IntValue(7)),
                kv("thread.id", Value::StringValue("conv".into())),
            ],
        );
        let batch = span_rows(&req, 5).unwrap().unwrap();
        let attrs = batch
            .column_by_name("attributes")
            .unwrap()
            .as_any()
            .downcast_ref::<MapArray>()
            .unwrap();
        let entries = attrs.value(0);
        let keys: Vec<_> = entries
            .column(0)
            .as_string::<i32>()
            .iter()
            .flatten()
            .collect();
        let values: Vec<_> = entries
            .column(1)
            .as_string::<i32>()
            .iter()
            .flatten()
            .collect();
        assert_eq!(keys, vec!["thread.id", "thread.id"]);
        assert_eq!(values, vec!["7", "conv"]);
        // no start or end time: the receive time
        let ts = batch
            .column_by_name("ts")
            .unwrap()
            .as_primitive::<TimestampNanosecondType>();
        assert_eq!(ts.value(0), 5);
    }

    #[test]
    fn a_span_with_only_an_end_time_is_stored_at_its_end_and_rebuilt_without_a_start() {
        let req = one_span(0, 900, vec![]);
        let batch = span_rows(&req, 5).unwrap().unwrap();
        let ts = batch
            .column_by_name("ts")
            .unwrap()
            .as_primitive::<TimestampNanosecondType>();
        assert_eq!(ts.value(0), 900);
        let (back, received) = spans_request(&[(&batch, 0)]).unwrap();
        assert_eq!(received, 5);
        let span = &back.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(
            (span.start_time_unix_nano, span.end_time_unix_nano),
            (0, 900)
        );
    }
}
