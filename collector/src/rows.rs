//! Decoded OTLP requests → Arrow record batches of the raw tables.
//!
//! One batch per table per request, in the column order of
//! [`schemas::tables`]. `wal_seq` is written as 0 here and stamped by the WAL
//! writer once the request has its sequence number. Builders are reused across
//! rows of a request and nothing is allocated per attribute beyond the bytes the
//! Arrow buffers need.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int32Builder, Int64Builder, ListBuilder, MapBuilder,
    StringBuilder, TimestampNanosecondBuilder, UInt32Builder, UInt64Builder,
};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::metrics::v1::{Exemplar, metric, number_data_point};
use opentelemetry_proto::tonic::resource::v1::Resource;
use serde_json::json;

use crate::anyvalue::{attrs_json, find_str, render_text, to_json};
use schemas::tables::{LOGS_SCHEMA, METRICS_SCHEMA, PartitionCache, SPANS_SCHEMA};

/// Converts an OTLP u64 nanosecond time to i64, saturating.
pub fn ns(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// Lowercase hex of an id; empty for an absent id.
pub fn hex_id(id: &[u8]) -> String {
    schemas::otlp::hex_lower(id)
}

/// Which agent or convention produced a record, from its resource, scope and attributes.
pub fn detect_vendor(service_name: &str, scope_name: &str, attrs: &[KeyValue]) -> &'static str {
    if service_name.starts_with("codex") || scope_name.starts_with("codex") {
        return "codex";
    }
    if service_name == "claude-code" || scope_name.starts_with("com.anthropic.claude_code") {
        return "claude_code";
    }
    let mut vendor = "otel";
    for kv in attrs {
        if kv.key == "openinference.span.kind" {
            return "openinference";
        }
        if kv.key.starts_with("gen_ai.") {
            vendor = "genai";
        } else if kv.key.starts_with("mcp.") && vendor == "otel" {
            vendor = "mcp";
        }
    }
    vendor
}

type AttrMap = MapBuilder<StringBuilder, StringBuilder>;

fn append_attrs(b: &mut AttrMap, kvs: &[KeyValue], scratch: &mut String) {
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

fn opt_str(b: &mut StringBuilder, s: &str) {
    if s.is_empty() {
        b.append_null()
    } else {
        b.append_value(s)
    }
}

/// Columns every raw table shares: what sent it and when (the partition).
struct Envelope {
    service_name: StringBuilder,
    vendor: StringBuilder,
    resource_attributes: AttrMap,
    resource_dropped: UInt32Builder,
    resource_schema_url: StringBuilder,
    scope_name: StringBuilder,
    scope_version: StringBuilder,
    scope_attributes: AttrMap,
    scope_schema_url: StringBuilder,
    date: StringBuilder,
    hour: StringBuilder,
    partitions: PartitionCache,
    scratch: String,
}

/// The resource and scope of the records being appended.
struct Origin<'a> {
    resource: Option<&'a Resource>,
    resource_schema_url: &'a str,
    scope: Option<&'a InstrumentationScope>,
    scope_schema_url: &'a str,
    service_name: &'a str,
}

impl<'a> Origin<'a> {
    fn new(
        resource: Option<&'a Resource>,
        resource_schema_url: &'a str,
        scope: Option<&'a InstrumentationScope>,
        scope_schema_url: &'a str,
    ) -> Self {
        let service_name = resource
            .and_then(|r| find_str(&r.attributes, "service.name"))
            .unwrap_or("");
        Origin {
            resource,
            resource_schema_url,
            scope,
            scope_schema_url,
            service_name,
        }
    }
    fn scope_name(&self) -> &str {
        self.scope.map_or("", |s| s.name.as_str())
    }
}

impl Envelope {
    fn new() -> Self {
        Envelope {
            service_name: StringBuilder::new(),
            vendor: StringBuilder::new(),
            resource_attributes: MapBuilder::new(None, StringBuilder::new(), StringBuilder::new()),
            resource_dropped: UInt32Builder::new(),
            resource_schema_url: StringBuilder::new(),
            scope_name: StringBuilder::new(),
            scope_version: StringBuilder::new(),
            scope_attributes: MapBuilder::new(None, StringBuilder::new(), StringBuilder::new()),
            scope_schema_url: StringBuilder::new(),
            date: StringBuilder::new(),
            hour: StringBuilder::new(),
            partitions: PartitionCache::default(),
            scratch: String::new(),
        }
    }

    fn append(&mut self, o: &Origin<'_>, record_attrs: &[KeyValue], ts: i64) {
        opt_str(&mut self.service_name, o.service_name);
        self.vendor
            .append_value(detect_vendor(o.service_name, o.scope_name(), record_attrs));
        append_attrs(
            &mut self.resource_attributes,
            o.resource.map_or(&[], |r| &r.attributes),
            &mut self.scratch,
        );
        self.resource_dropped
            .append_value(o.resource.map_or(0, |r| r.dropped_attributes_count));
        opt_str(&mut self.resource_schema_url, o.resource_schema_url);
        opt_str(&mut self.scope_name, o.scope_name());
        opt_str(
            &mut self.scope_version,
            o.scope.map_or("", |s| s.version.as_str()),
        );
        append_attrs(
            &mut self.scope_attributes,
            o.scope.map_or(&[], |s| &s.attributes),
            &mut self.scratch,
        );
        opt_str(&mut self.scope_schema_url, o.scope_schema_url);
        let (d, h) = self.partitions.get(ts);
        self.date.append_value(d);
        self.hour.append_value(h);
    }

    fn finish(mut self, cols: &mut Vec<ArrayRef>) {
        cols.push(Arc::new(self.service_name.finish()));
        cols.push(Arc::new(self.vendor.finish()));
        cols.push(Arc::new(self.resource_attributes.finish()));
        cols.push(Arc::new(self.resource_dropped.finish()));
        cols.push(Arc::new(self.resource_schema_url.finish()));
        cols.push(Arc::new(self.scope_name.finish()));
        cols.push(Arc::new(self.scope_version.finish()));
        cols.push(Arc::new(self.scope_attributes.finish()));
        cols.push(Arc::new(self.scope_schema_url.finish()));
        cols.push(Arc::new(self.date.finish()));
        cols.push(Arc::new(self.hour.finish()));
    }
}

fn ts_col(b: TimestampNanosecondBuilder) -> ArrayRef {
    let mut b = b;
    Arc::new(b.finish().with_timezone("UTC"))
}

fn zero_seq(n: usize) -> ArrayRef {
    Arc::new(arrow::array::UInt64Array::from(vec![0u64; n]))
}

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

fn enum_name(names: &[&'static str], v: i32) -> String {
    usize::try_from(v)
        .ok()
        .and_then(|i| names.get(i))
        .map_or_else(|| v.to_string(), |s| (*s).to_string())
}

/// Spans → one `otlp_spans` batch; `None` when the request has no spans.
pub fn span_rows(
    req: &ExportTraceServiceRequest,
    ingest_ns: i64,
) -> Result<Option<RecordBatch>, ArrowError> {
    let mut env = Envelope::new();
    let mut ts = TimestampNanosecondBuilder::new();
    let mut end_ts = TimestampNanosecondBuilder::new();
    let mut duration = Int64Builder::new();
    let mut trace_id = StringBuilder::new();
    let mut span_id = StringBuilder::new();
    let mut parent = StringBuilder::new();
    let mut trace_state = StringBuilder::new();
    let mut flags = UInt32Builder::new();
    let mut name = StringBuilder::new();
    let mut kind = StringBuilder::new();
    let mut status_code = StringBuilder::new();
    let mut status_message = StringBuilder::new();
    let mut attrs = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    let mut dropped_attrs = UInt32Builder::new();
    let mut events = StringBuilder::new();
    let mut dropped_events = UInt32Builder::new();
    let mut links = StringBuilder::new();
    let mut dropped_links = UInt32Builder::new();
    let mut scratch = String::new();
    let mut n = 0;
    for rs in &req.resource_spans {
        for ss in &rs.scope_spans {
            let origin = Origin::new(
                rs.resource.as_ref(),
                &rs.schema_url,
                ss.scope.as_ref(),
                &ss.schema_url,
            );
            for s in &ss.spans {
                n += 1;
                let start = ns(s.start_time_unix_nano);
                let end = ns(s.end_time_unix_nano);
                let t = if start > 0 {
                    start
                } else if end > 0 {
                    end
                } else {
                    ingest_ns
                };
                ts.append_value(t);
                if end > 0 {
                    end_ts.append_value(end)
                } else {
                    end_ts.append_null()
                }
                if start > 0 && end >= start {
                    duration.append_value(end - start)
                } else {
                    duration.append_null()
                }
                trace_id.append_value(hex_id(&s.trace_id));
                span_id.append_value(hex_id(&s.span_id));
                opt_str(&mut parent, &hex_id(&s.parent_span_id));
                opt_str(&mut trace_state, &s.trace_state);
                flags.append_value(s.flags);
                name.append_value(&s.name);
                kind.append_value(enum_name(&SPAN_KIND_NAMES, s.kind));
                let st = s.status.as_ref();
                status_code.append_value(enum_name(&STATUS_NAMES, st.map_or(0, |s| s.code)));
                opt_str(&mut status_message, st.map_or("", |s| s.message.as_str()));
                append_attrs(&mut attrs, &s.attributes, &mut scratch);
                dropped_attrs.append_value(s.dropped_attributes_count);
                if s.events.is_empty() {
                    events.append_null();
                } else {
                    let ev: Vec<_> = s
                        .events
                        .iter()
                        .map(|e| {
                            json!({"time_unix_nano": e.time_unix_nano.to_string(), "name": e.name,
                                   "attributes": attrs_json(&e.attributes),
                                   "dropped_attributes_count": e.dropped_attributes_count})
                        })
                        .collect();
                    events.append_value(serde_json::Value::Array(ev).to_string());
                }
                dropped_events.append_value(s.dropped_events_count);
                if s.links.is_empty() {
                    links.append_null();
                } else {
                    let lk: Vec<_> = s
                        .links
                        .iter()
                        .map(|l| {
                            json!({"trace_id": hex_id(&l.trace_id), "span_id": hex_id(&l.span_id),
                                   "trace_state": l.trace_state, "flags": l.flags,
                                   "attributes": attrs_json(&l.attributes),
                                   "dropped_attributes_count": l.dropped_attributes_count})
                        })
                        .collect();
                    links.append_value(serde_json::Value::Array(lk).to_string());
                }
                dropped_links.append_value(s.dropped_links_count);
                env.append(&origin, &s.attributes, t);
            }
        }
    }
    if n == 0 {
        return Ok(None);
    }
    let mut cols: Vec<ArrayRef> = vec![
        zero_seq(n),
        ts_col(ts),
        ts_col(end_ts),
        Arc::new(duration.finish()),
        Arc::new(trace_id.finish()),
        Arc::new(span_id.finish()),
        Arc::new(parent.finish()),
        Arc::new(trace_state.finish()),
        Arc::new(flags.finish()),
        Arc::new(name.finish()),
        Arc::new(kind.finish()),
        Arc::new(status_code.finish()),
        Arc::new(status_message.finish()),
        Arc::new(attrs.finish()),
        Arc::new(dropped_attrs.finish()),
        Arc::new(events.finish()),
        Arc::new(dropped_events.finish()),
        Arc::new(links.finish()),
        Arc::new(dropped_links.finish()),
    ];
    env.finish(&mut cols);
    RecordBatch::try_new(Arc::clone(&SPANS_SCHEMA), cols).map(Some)
}

/// Parses an RFC 3339 `event.timestamp` attribute to ns.
pub fn parse_rfc3339_ns(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .and_then(|d| d.timestamp_nanos_opt())
}

/// The time of a log record: its own time, else when the SDK observed it, else
/// the `event.timestamp` attribute, else when we received it.
pub fn log_time(time_unix_nano: u64, observed: u64, attrs: &[KeyValue], ingest_ns: i64) -> i64 {
    if time_unix_nano > 0 {
        ns(time_unix_nano)
    } else if observed > 0 {
        ns(observed)
    } else {
        find_str(attrs, "event.timestamp")
            .and_then(parse_rfc3339_ns)
            .unwrap_or(ingest_ns)
    }
}

/// Log records → one `otlp_logs` batch.
pub fn log_rows(
    req: &ExportLogsServiceRequest,
    ingest_ns: i64,
) -> Result<Option<RecordBatch>, ArrowError> {
    let mut env = Envelope::new();
    let mut ts = TimestampNanosecondBuilder::new();
    let mut time_raw = Int64Builder::new();
    let mut observed = TimestampNanosecondBuilder::new();
    let mut sev_num = Int32Builder::new();
    let mut sev_text = StringBuilder::new();
    let mut body = StringBuilder::new();
    let mut event_name = StringBuilder::new();
    let mut trace_id = StringBuilder::new();
    let mut span_id = StringBuilder::new();
    let mut flags = UInt32Builder::new();
    let mut attrs = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    let mut dropped = UInt32Builder::new();
    let mut scratch = String::new();
    let mut n = 0;
    for rl in &req.resource_logs {
        for sl in &rl.scope_logs {
            let origin = Origin::new(
                rl.resource.as_ref(),
                &rl.schema_url,
                sl.scope.as_ref(),
                &sl.schema_url,
            );
            for r in &sl.log_records {
                n += 1;
                let t = log_time(
                    r.time_unix_nano,
                    r.observed_time_unix_nano,
                    &r.attributes,
                    ingest_ns,
                );
                ts.append_value(t);
                if r.time_unix_nano > 0 {
                    time_raw.append_value(ns(r.time_unix_nano))
                } else {
                    time_raw.append_null()
                }
                if r.observed_time_unix_nano > 0 {
                    observed.append_value(ns(r.observed_time_unix_nano))
                } else {
                    observed.append_null()
                }
                sev_num.append_value(r.severity_number);
                opt_str(&mut sev_text, &r.severity_text);
                match &r.body {
                    None => body.append_null(),
                    Some(b) => {
                        scratch.clear();
                        render_text(b, &mut scratch);
                        body.append_value(&scratch);
                    }
                }
                opt_str(&mut event_name, &r.event_name);
                opt_str(&mut trace_id, &hex_id(&r.trace_id));
                opt_str(&mut span_id, &hex_id(&r.span_id));
                flags.append_value(r.flags);
                append_attrs(&mut attrs, &r.attributes, &mut scratch);
                dropped.append_value(r.dropped_attributes_count);
                env.append(&origin, &r.attributes, t);
            }
        }
    }
    if n == 0 {
        return Ok(None);
    }
    let mut cols: Vec<ArrayRef> = vec![
        zero_seq(n),
        ts_col(ts),
        Arc::new(time_raw.finish()),
        ts_col(observed),
        Arc::new(sev_num.finish()),
        Arc::new(sev_text.finish()),
        Arc::new(body.finish()),
        Arc::new(event_name.finish()),
        Arc::new(trace_id.finish()),
        Arc::new(span_id.finish()),
        Arc::new(flags.finish()),
        Arc::new(attrs.finish()),
        Arc::new(dropped.finish()),
    ];
    env.finish(&mut cols);
    RecordBatch::try_new(Arc::clone(&LOGS_SCHEMA), cols).map(Some)
}

#[derive(Default)]
struct MetricCols {
    ts: TimestampNanosecondBuilder,
    start_ts: TimestampNanosecondBuilder,
    name: StringBuilder,
    description: StringBuilder,
    unit: StringBuilder,
    metric_type: StringBuilder,
    temporality: StringBuilder,
    is_monotonic: BooleanBuilder,
    value_double: Float64Builder,
    value_int: Int64Builder,
    count: UInt64Builder,
    sum: Float64Builder,
    min: Float64Builder,
    max: Float64Builder,
    bucket_counts: ListBuilder<UInt64Builder>,
    explicit_bounds: ListBuilder<Float64Builder>,
    details: StringBuilder,
    exemplars: StringBuilder,
    flags: UInt32Builder,
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

const TEMPORALITY_NAMES: [&str; 3] = ["unspecified", "delta", "cumulative"];

/// Metric data points → one `otlp_metrics` batch (one row per point).
pub fn metric_rows(
    req: &ExportMetricsServiceRequest,
    ingest_ns: i64,
) -> Result<Option<RecordBatch>, ArrowError> {
    let mut env = Envelope::new();
    let mut c = MetricCols::default();
    let mut attrs = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    let mut meta = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    let mut scratch = String::new();
    let mut n = 0;
    for rm in &req.resource_metrics {
        for sm in &rm.scope_metrics {
            let origin = Origin::new(
                rm.resource.as_ref(),
                &rm.schema_url,
                sm.scope.as_ref(),
                &sm.schema_url,
            );
            for m in &sm.metrics {
                let (mtype, temporality, monotonic, points): (&str, Option<i32>, Option<bool>, Vec<Point<'_>>) =
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
                                    attributes: &p.attributes,
                                    start: p.start_time_unix_nano,
                                    time: p.time_unix_nano,
                                    flags: p.flags,
                                    exemplars: &p.exemplars,
                                    count: Some(p.count),
                                    sum: p.sum,
                                    min: p.min,
                                    max: p.max,
                                    buckets: Some((&p.bucket_counts, &p.explicit_bounds)),
                                    ..Default::default()
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
                                    let b = |b: &Option<_>| {
                                        b.as_ref().map(|b: &opentelemetry_proto::tonic::metrics::v1::exponential_histogram_data_point::Buckets| {
                                            json!({"offset": b.offset, "bucket_counts": b.bucket_counts})
                                        })
                                    };
                                    Point {
                                        attributes: &p.attributes,
                                        start: p.start_time_unix_nano,
                                        time: p.time_unix_nano,
                                        flags: p.flags,
                                        exemplars: &p.exemplars,
                                        count: Some(p.count),
                                        sum: p.sum,
                                        min: p.min,
                                        max: p.max,
                                        details: Some(json!({"scale": p.scale, "zero_count": p.zero_count,
                                            "zero_threshold": p.zero_threshold,
                                            "positive": b(&p.positive), "negative": b(&p.negative)})),
                                        ..Default::default()
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
                    };
                for p in points {
                    n += 1;
                    let t = if p.time > 0 {
                        ns(p.time)
                    } else if p.start > 0 {
                        ns(p.start)
                    } else {
                        ingest_ns
                    };
                    c.ts.append_value(t);
                    if p.start > 0 {
                        c.start_ts.append_value(ns(p.start))
                    } else {
                        c.start_ts.append_null()
                    }
                    c.name.append_value(&m.name);
                    opt_str(&mut c.description, &m.description);
                    opt_str(&mut c.unit, &m.unit);
                    c.metric_type.append_value(mtype);
                    c.temporality
                        .append_option(temporality.map(|t| enum_name(&TEMPORALITY_NAMES, t)));
                    c.is_monotonic.append_option(monotonic);
                    c.value_double.append_option(p.value_double);
                    c.value_int.append_option(p.value_int);
                    c.count.append_option(p.count);
                    c.sum.append_option(p.sum);
                    c.min.append_option(p.min);
                    c.max.append_option(p.max);
                    match p.buckets {
                        Some((counts, bounds)) => {
                            c.bucket_counts.values().append_slice(counts);
                            c.bucket_counts.append(true);
                            c.explicit_bounds.values().append_slice(bounds);
                            c.explicit_bounds.append(true);
                        }
                        None => {
                            c.bucket_counts.append_null();
                            c.explicit_bounds.append_null();
                        }
                    }
                    c.details.append_option(p.details.map(|d| d.to_string()));
                    if p.exemplars.is_empty() {
                        c.exemplars.append_null();
                    } else {
                        let ex: Vec<_> = p.exemplars.iter().map(exemplar_json).collect();
                        c.exemplars
                            .append_value(serde_json::Value::Array(ex).to_string());
                    }
                    c.flags.append_value(p.flags);
                    append_attrs(&mut attrs, p.attributes, &mut scratch);
                    append_attrs(&mut meta, &m.metadata, &mut scratch);
                    env.append(&origin, p.attributes, t);
                }
            }
        }
    }
    if n == 0 {
        return Ok(None);
    }
    let mut cols: Vec<ArrayRef> = vec![
        zero_seq(n),
        ts_col(c.ts),
        ts_col(c.start_ts),
        Arc::new(c.name.finish()),
        Arc::new(c.description.finish()),
        Arc::new(c.unit.finish()),
        Arc::new(c.metric_type.finish()),
        Arc::new(c.temporality.finish()),
        Arc::new(c.is_monotonic.finish()),
        Arc::new(c.value_double.finish()),
        Arc::new(c.value_int.finish()),
        Arc::new(c.count.finish()),
        Arc::new(c.sum.finish()),
        Arc::new(c.min.finish()),
        Arc::new(c.max.finish()),
        Arc::new(c.bucket_counts.finish()),
        Arc::new(c.explicit_bounds.finish()),
        Arc::new(c.details.finish()),
        Arc::new(c.exemplars.finish()),
        Arc::new(c.flags.finish()),
        Arc::new(attrs.finish()),
        Arc::new(meta.finish()),
    ];
    env.finish(&mut cols);
    RecordBatch::try_new(Arc::clone(&METRICS_SCHEMA), cols).map(Some)
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
    json!({"time_unix_nano": e.time_unix_nano.to_string(), "trace_id": hex_id(&e.trace_id),
           "span_id": hex_id(&e.span_id), "value": value,
           "filtered_attributes": attrs_json(&e.filtered_attributes)})
}

/// Exposed for normalization of nested values.
pub fn json_of(v: &opentelemetry_proto::tonic::common::v1::AnyValue) -> serde_json::Value {
    to_json(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, MapArray};
    use opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    #[test]
    fn duplicate_attribute_keys_are_both_kept_in_the_raw_table() {
        let kv = |k: &str, v: Value| KeyValue {
            key: k.into(),
            value: Some(AnyValue { value: Some(v) }),
            ..Default::default()
        };
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans: vec![Span {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        name: "exec_command".into(),
                        attributes: vec![
                            kv("thread.id", Value::IntValue(7)),
                            kv("thread.id", Value::StringValue("conv".into())),
                        ],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        };
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
        // no start time: the ingest time
        let ts = batch
            .column_by_name("ts")
            .unwrap()
            .as_primitive::<arrow::datatypes::TimestampNanosecondType>();
        assert_eq!(ts.value(0), 5);
    }
}
