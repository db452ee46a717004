//! OTLP/JSON → `opentelemetry-proto` messages, leniently.
//!
//! Written by hand rather than with `opentelemetry-proto`'s `with-serde` feature
//! (0.33), which silently drops the values of metric `oneof`s (opentelemetry-rust
//! issue 3527) and rejects an empty `AnyValue` `{}` (issue 3598), both of which
//! real exporters send; `collector/tests/json_decoder.rs` checks that the two agree
//! on every recorded trace and log request. Beyond those, real exporters differ in
//! details the receiver must accept (docs/vendors.md, "Real-client behaviour"):
//! int64 as a string *or* a number, `"body": null`, empty-string ids, enum values
//! as integers or names, fields the proto has since gained (`entityRefs`,
//! `metadata`) or not yet. Field names are accepted in lowerCamelCase and in the
//! original snake_case, as proto3 JSON requires. Unknown fields are ignored. Ids
//! are hex (the OTLP/JSON rule, not proto3's base64); an id that is not hex fails
//! the whole request, one that is hex of the wrong length is kept so validation
//! can reject just that record.

use base64::Engine as _;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exemplar, exponential_histogram_data_point, metric, number_data_point,
    summary_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{
    ResourceSpans, ScopeSpans, Span, Status as SpanStatus, span,
};
use serde_json::{Map, Value};

/// Why a JSON body could not be decoded; the text is safe to return to the client.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(pub String);

type Result<T> = std::result::Result<T, JsonError>;

fn err<T>(path: &str, what: impl std::fmt::Display) -> Result<T> {
    Err(JsonError(format!("{path}: {what}")))
}

fn parse_root(bytes: &[u8]) -> Result<Map<String, Value>> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => err("$", "expected a JSON object"),
        Err(e) => err("$", format_args!("invalid JSON: {e}")),
    }
}

pub fn decode_traces(bytes: &[u8]) -> Result<ExportTraceServiceRequest> {
    let root = parse_root(bytes)?;
    Ok(ExportTraceServiceRequest {
        resource_spans: list(
            &root,
            "resourceSpans",
            "resource_spans",
            "$",
            resource_spans,
        )?,
    })
}

pub fn decode_logs(bytes: &[u8]) -> Result<ExportLogsServiceRequest> {
    let root = parse_root(bytes)?;
    Ok(ExportLogsServiceRequest {
        resource_logs: list(&root, "resourceLogs", "resource_logs", "$", resource_logs)?,
    })
}

pub fn decode_metrics(bytes: &[u8]) -> Result<ExportMetricsServiceRequest> {
    let root = parse_root(bytes)?;
    Ok(ExportMetricsServiceRequest {
        resource_metrics: list(
            &root,
            "resourceMetrics",
            "resource_metrics",
            "$",
            resource_metrics,
        )?,
    })
}

// ---- field access -------------------------------------------------------------

fn get<'a>(obj: &'a Map<String, Value>, camel: &str, snake: &str) -> Option<&'a Value> {
    obj.get(camel)
        .or_else(|| obj.get(snake))
        .filter(|v| !v.is_null())
}

fn as_obj<'a>(v: &'a Value, path: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .map_or_else(|| err(path, "expected an object"), Ok)
}

fn list<T>(
    obj: &Map<String, Value>,
    camel: &str,
    snake: &str,
    path: &str,
    each: impl Fn(&Map<String, Value>, &str) -> Result<T>,
) -> Result<Vec<T>> {
    match get(obj, camel, snake) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let p = format!("{path}.{camel}[{i}]");
                each(as_obj(v, &p)?, &p)
            })
            .collect(),
        Some(_) => err(&format!("{path}.{camel}"), "expected an array"),
    }
}

fn string(obj: &Map<String, Value>, camel: &str, snake: &str, path: &str) -> Result<String> {
    match get(obj, camel, snake) {
        None => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => err(&format!("{path}.{camel}"), "expected a string"),
    }
}

/// An unsigned 64-bit integer sent as a JSON number or a decimal string.
fn u64_value(v: &Value, path: &str) -> Result<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19)
                    .map(|f| f as u64)
            })
            .map_or_else(|| err(path, "expected an unsigned integer"), Ok),
        Value::String(s) if s.is_empty() => Ok(0),
        Value::String(s) => s.trim().parse().or_else(|_| {
            err(
                path,
                format_args!("expected an unsigned integer, got {s:?}"),
            )
        }),
        _ => err(path, "expected an unsigned integer"),
    }
}

fn i64_value(v: &Value, path: &str) -> Result<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i64)
            })
            .map_or_else(|| err(path, "expected an integer"), Ok),
        Value::String(s) => s
            .trim()
            .parse()
            .or_else(|_| err(path, format_args!("expected an integer, got {s:?}"))),
        _ => err(path, "expected an integer"),
    }
}

fn f64_value(v: &Value, path: &str) -> Result<f64> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .map_or_else(|| err(path, "expected a number"), Ok),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => s
                .trim()
                .parse()
                .or_else(|_| err(path, format_args!("expected a number, got {s:?}"))),
        },
        _ => err(path, "expected a number"),
    }
}

fn u64f(obj: &Map<String, Value>, camel: &str, snake: &str, path: &str) -> Result<u64> {
    get(obj, camel, snake).map_or(Ok(0), |v| u64_value(v, &format!("{path}.{camel}")))
}

fn u32f(obj: &Map<String, Value>, camel: &str, snake: &str, path: &str) -> Result<u32> {
    let v = u64f(obj, camel, snake, path)?;
    u32::try_from(v).or_else(|_| err(&format!("{path}.{camel}"), "out of range for uint32"))
}

fn f64f(obj: &Map<String, Value>, camel: &str, snake: &str, path: &str) -> Result<Option<f64>> {
    get(obj, camel, snake)
        .map(|v| f64_value(v, &format!("{path}.{camel}")))
        .transpose()
}

fn boolf(obj: &Map<String, Value>, camel: &str, snake: &str, path: &str) -> Result<bool> {
    match get(obj, camel, snake) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
        Some(_) => err(&format!("{path}.{camel}"), "expected a boolean"),
    }
}

/// An enum sent as its integer value or its name.
fn enumf(
    obj: &Map<String, Value>,
    camel: &str,
    snake: &str,
    path: &str,
    names: &[&str],
) -> Result<i32> {
    match get(obj, camel, snake) {
        None => Ok(0),
        Some(Value::String(s)) if s.parse::<i32>().is_err() => names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(s))
            .map_or_else(
                || {
                    err(
                        &format!("{path}.{camel}"),
                        format_args!("unknown enum value {s:?}"),
                    )
                },
                |i| Ok(i as i32),
            ),
        Some(v) => {
            let i = i64_value(v, &format!("{path}.{camel}"))?;
            i32::try_from(i)
                .or_else(|_| err(&format!("{path}.{camel}"), "out of range for an enum"))
        }
    }
}

/// A hex id. Empty or absent is "no id". Not hex is an error for the request;
/// hex of the wrong length is returned as is for record-level validation.
fn idf(obj: &Map<String, Value>, camel: &str, snake: &str, path: &str) -> Result<Vec<u8>> {
    match get(obj, camel, snake) {
        None => Ok(Vec::new()),
        Some(Value::String(s)) => hex::decode(s).or_else(|_| {
            err(
                &format!("{path}.{camel}"),
                format_args!("invalid id {s:?}: expected hex digits"),
            )
        }),
        Some(_) => err(&format!("{path}.{camel}"), "expected a hex string"),
    }
}

// ---- common ---------------------------------------------------------------------

fn any_value(obj: &Map<String, Value>, path: &str) -> Result<AnyValue> {
    use any_value::Value as V;
    let value = if let Some(v) = get(obj, "stringValue", "string_value") {
        match v {
            Value::String(s) => Some(V::StringValue(s.clone())),
            _ => return err(&format!("{path}.stringValue"), "expected a string"),
        }
    } else if let Some(v) = get(obj, "boolValue", "bool_value") {
        match v {
            Value::Bool(b) => Some(V::BoolValue(*b)),
            Value::String(s) if s == "true" || s == "false" => Some(V::BoolValue(s == "true")),
            _ => return err(&format!("{path}.boolValue"), "expected a boolean"),
        }
    } else if let Some(v) = get(obj, "intValue", "int_value") {
        Some(V::IntValue(i64_value(v, &format!("{path}.intValue"))?))
    } else if let Some(v) = get(obj, "doubleValue", "double_value") {
        Some(V::DoubleValue(f64_value(
            v,
            &format!("{path}.doubleValue"),
        )?))
    } else if let Some(v) = get(obj, "arrayValue", "array_value") {
        let p = format!("{path}.arrayValue");
        let values = list(as_obj(v, &p)?, "values", "values", &p, any_value)?;
        Some(V::ArrayValue(ArrayValue { values }))
    } else if let Some(v) = get(obj, "kvlistValue", "kvlist_value") {
        let p = format!("{path}.kvlistValue");
        let values = list(as_obj(v, &p)?, "values", "values", &p, key_value)?;
        Some(V::KvlistValue(KeyValueList { values }))
    } else if let Some(v) = get(obj, "bytesValue", "bytes_value") {
        match v {
            Value::String(s) => match base64::engine::general_purpose::STANDARD.decode(s) {
                Ok(b) => Some(V::BytesValue(b)),
                Err(_) => return err(&format!("{path}.bytesValue"), "expected base64"),
            },
            _ => return err(&format!("{path}.bytesValue"), "expected a base64 string"),
        }
    } else {
        None
    };
    Ok(AnyValue { value })
}

fn key_value(obj: &Map<String, Value>, path: &str) -> Result<KeyValue> {
    let value = match get(obj, "value", "value") {
        None => None,
        Some(v) => Some(any_value(
            as_obj(v, &format!("{path}.value"))?,
            &format!("{path}.value"),
        )?),
    };
    Ok(KeyValue {
        key: string(obj, "key", "key", path)?,
        value,
        ..Default::default()
    })
}

fn attributes(obj: &Map<String, Value>, path: &str) -> Result<Vec<KeyValue>> {
    list(obj, "attributes", "attributes", path, key_value)
}

fn resource(obj: &Map<String, Value>, path: &str) -> Result<Option<Resource>> {
    let Some(v) = get(obj, "resource", "resource") else {
        return Ok(None);
    };
    let p = format!("{path}.resource");
    let r = as_obj(v, &p)?;
    Ok(Some(Resource {
        attributes: attributes(r, &p)?,
        dropped_attributes_count: u32f(
            r,
            "droppedAttributesCount",
            "dropped_attributes_count",
            &p,
        )?,
        ..Default::default()
    }))
}

fn scope(obj: &Map<String, Value>, path: &str) -> Result<Option<InstrumentationScope>> {
    let Some(v) = get(obj, "scope", "scope") else {
        return Ok(None);
    };
    let p = format!("{path}.scope");
    let s = as_obj(v, &p)?;
    Ok(Some(InstrumentationScope {
        name: string(s, "name", "name", &p)?,
        version: string(s, "version", "version", &p)?,
        attributes: attributes(s, &p)?,
        dropped_attributes_count: u32f(
            s,
            "droppedAttributesCount",
            "dropped_attributes_count",
            &p,
        )?,
    }))
}

// ---- traces ---------------------------------------------------------------------

const SPAN_KINDS: &[&str] = &[
    "SPAN_KIND_UNSPECIFIED",
    "SPAN_KIND_INTERNAL",
    "SPAN_KIND_SERVER",
    "SPAN_KIND_CLIENT",
    "SPAN_KIND_PRODUCER",
    "SPAN_KIND_CONSUMER",
];
const STATUS_CODES: &[&str] = &["STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"];

fn resource_spans(obj: &Map<String, Value>, path: &str) -> Result<ResourceSpans> {
    Ok(ResourceSpans {
        resource: resource(obj, path)?,
        scope_spans: list(obj, "scopeSpans", "scope_spans", path, |s, p| {
            Ok(ScopeSpans {
                scope: scope(s, p)?,
                spans: list(s, "spans", "spans", p, span)?,
                schema_url: string(s, "schemaUrl", "schema_url", p)?,
            })
        })?,
        schema_url: string(obj, "schemaUrl", "schema_url", path)?,
    })
}

fn span(obj: &Map<String, Value>, path: &str) -> Result<Span> {
    let status = match get(obj, "status", "status") {
        None => None,
        Some(v) => {
            let p = format!("{path}.status");
            let s = as_obj(v, &p)?;
            Some(SpanStatus {
                message: string(s, "message", "message", &p)?,
                code: enumf(s, "code", "code", &p, STATUS_CODES)?,
            })
        }
    };
    Ok(Span {
        trace_id: idf(obj, "traceId", "trace_id", path)?,
        span_id: idf(obj, "spanId", "span_id", path)?,
        trace_state: string(obj, "traceState", "trace_state", path)?,
        parent_span_id: idf(obj, "parentSpanId", "parent_span_id", path)?,
        flags: u32f(obj, "flags", "flags", path)?,
        name: string(obj, "name", "name", path)?,
        kind: enumf(obj, "kind", "kind", path, SPAN_KINDS)?,
        start_time_unix_nano: u64f(obj, "startTimeUnixNano", "start_time_unix_nano", path)?,
        end_time_unix_nano: u64f(obj, "endTimeUnixNano", "end_time_unix_nano", path)?,
        attributes: attributes(obj, path)?,
        dropped_attributes_count: u32f(
            obj,
            "droppedAttributesCount",
            "dropped_attributes_count",
            path,
        )?,
        events: list(obj, "events", "events", path, |e, p| {
            Ok(span::Event {
                time_unix_nano: u64f(e, "timeUnixNano", "time_unix_nano", p)?,
                name: string(e, "name", "name", p)?,
                attributes: attributes(e, p)?,
                dropped_attributes_count: u32f(
                    e,
                    "droppedAttributesCount",
                    "dropped_attributes_count",
                    p,
                )?,
            })
        })?,
        dropped_events_count: u32f(obj, "droppedEventsCount", "dropped_events_count", path)?,
        links: list(obj, "links", "links", path, |l, p| {
            Ok(span::Link {
                trace_id: idf(l, "traceId", "trace_id", p)?,
                span_id: idf(l, "spanId", "span_id", p)?,
                trace_state: string(l, "traceState", "trace_state", p)?,
                attributes: attributes(l, p)?,
                dropped_attributes_count: u32f(
                    l,
                    "droppedAttributesCount",
                    "dropped_attributes_count",
                    p,
                )?,
                flags: u32f(l, "flags", "flags", p)?,
            })
        })?,
        dropped_links_count: u32f(obj, "droppedLinksCount", "dropped_links_count", path)?,
        status,
    })
}

// ---- logs -----------------------------------------------------------------------

fn resource_logs(obj: &Map<String, Value>, path: &str) -> Result<ResourceLogs> {
    Ok(ResourceLogs {
        resource: resource(obj, path)?,
        scope_logs: list(obj, "scopeLogs", "scope_logs", path, |s, p| {
            Ok(ScopeLogs {
                scope: scope(s, p)?,
                log_records: list(s, "logRecords", "log_records", p, log_record)?,
                schema_url: string(s, "schemaUrl", "schema_url", p)?,
            })
        })?,
        schema_url: string(obj, "schemaUrl", "schema_url", path)?,
    })
}

const SEVERITIES: &[&str] = &[
    "SEVERITY_NUMBER_UNSPECIFIED",
    "SEVERITY_NUMBER_TRACE",
    "SEVERITY_NUMBER_TRACE2",
    "SEVERITY_NUMBER_TRACE3",
    "SEVERITY_NUMBER_TRACE4",
    "SEVERITY_NUMBER_DEBUG",
    "SEVERITY_NUMBER_DEBUG2",
    "SEVERITY_NUMBER_DEBUG3",
    "SEVERITY_NUMBER_DEBUG4",
    "SEVERITY_NUMBER_INFO",
    "SEVERITY_NUMBER_INFO2",
    "SEVERITY_NUMBER_INFO3",
    "SEVERITY_NUMBER_INFO4",
    "SEVERITY_NUMBER_WARN",
    "SEVERITY_NUMBER_WARN2",
    "SEVERITY_NUMBER_WARN3",
    "SEVERITY_NUMBER_WARN4",
    "SEVERITY_NUMBER_ERROR",
    "SEVERITY_NUMBER_ERROR2",
    "SEVERITY_NUMBER_ERROR3",
    "SEVERITY_NUMBER_ERROR4",
    "SEVERITY_NUMBER_FATAL",
    "SEVERITY_NUMBER_FATAL2",
    "SEVERITY_NUMBER_FATAL3",
    "SEVERITY_NUMBER_FATAL4",
];

fn log_record(obj: &Map<String, Value>, path: &str) -> Result<LogRecord> {
    let body = match get(obj, "body", "body") {
        None => None,
        Some(v) => Some(any_value(
            as_obj(v, &format!("{path}.body"))?,
            &format!("{path}.body"),
        )?),
    };
    Ok(LogRecord {
        time_unix_nano: u64f(obj, "timeUnixNano", "time_unix_nano", path)?,
        observed_time_unix_nano: u64f(
            obj,
            "observedTimeUnixNano",
            "observed_time_unix_nano",
            path,
        )?,
        severity_number: enumf(obj, "severityNumber", "severity_number", path, SEVERITIES)?,
        severity_text: string(obj, "severityText", "severity_text", path)?,
        body,
        attributes: attributes(obj, path)?,
        dropped_attributes_count: u32f(
            obj,
            "droppedAttributesCount",
            "dropped_attributes_count",
            path,
        )?,
        flags: u32f(obj, "flags", "flags", path)?,
        trace_id: idf(obj, "traceId", "trace_id", path)?,
        span_id: idf(obj, "spanId", "span_id", path)?,
        event_name: string(obj, "eventName", "event_name", path)?,
    })
}

// ---- metrics --------------------------------------------------------------------

const TEMPORALITIES: &[&str] = &[
    "AGGREGATION_TEMPORALITY_UNSPECIFIED",
    "AGGREGATION_TEMPORALITY_DELTA",
    "AGGREGATION_TEMPORALITY_CUMULATIVE",
];

fn resource_metrics(obj: &Map<String, Value>, path: &str) -> Result<ResourceMetrics> {
    Ok(ResourceMetrics {
        resource: resource(obj, path)?,
        scope_metrics: list(obj, "scopeMetrics", "scope_metrics", path, |s, p| {
            Ok(ScopeMetrics {
                scope: scope(s, p)?,
                metrics: list(s, "metrics", "metrics", p, metric)?,
                schema_url: string(s, "schemaUrl", "schema_url", p)?,
            })
        })?,
        schema_url: string(obj, "schemaUrl", "schema_url", path)?,
    })
}

fn metric(obj: &Map<String, Value>, path: &str) -> Result<Metric> {
    let sub = |camel: &str, snake: &str| -> Result<Option<(&Map<String, Value>, String)>> {
        match get(obj, camel, snake) {
            None => Ok(None),
            Some(v) => {
                let p = format!("{path}.{camel}");
                Ok(Some((as_obj(v, &p)?, p)))
            }
        }
    };
    let data = if let Some((g, p)) = sub("gauge", "gauge")? {
        Some(metric::Data::Gauge(Gauge {
            data_points: list(g, "dataPoints", "data_points", &p, number_point)?,
        }))
    } else if let Some((s, p)) = sub("sum", "sum")? {
        Some(metric::Data::Sum(Sum {
            data_points: list(s, "dataPoints", "data_points", &p, number_point)?,
            aggregation_temporality: enumf(
                s,
                "aggregationTemporality",
                "aggregation_temporality",
                &p,
                TEMPORALITIES,
            )?,
            is_monotonic: boolf(s, "isMonotonic", "is_monotonic", &p)?,
        }))
    } else if let Some((h, p)) = sub("histogram", "histogram")? {
        Some(metric::Data::Histogram(Histogram {
            data_points: list(h, "dataPoints", "data_points", &p, histogram_point)?,
            aggregation_temporality: enumf(
                h,
                "aggregationTemporality",
                "aggregation_temporality",
                &p,
                TEMPORALITIES,
            )?,
        }))
    } else if let Some((h, p)) = sub("exponentialHistogram", "exponential_histogram")? {
        Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: list(h, "dataPoints", "data_points", &p, exp_histogram_point)?,
            aggregation_temporality: enumf(
                h,
                "aggregationTemporality",
                "aggregation_temporality",
                &p,
                TEMPORALITIES,
            )?,
        }))
    } else if let Some((s, p)) = sub("summary", "summary")? {
        Some(metric::Data::Summary(Summary {
            data_points: list(s, "dataPoints", "data_points", &p, summary_point)?,
        }))
    } else {
        None
    };
    Ok(Metric {
        name: string(obj, "name", "name", path)?,
        description: string(obj, "description", "description", path)?,
        unit: string(obj, "unit", "unit", path)?,
        metadata: list(obj, "metadata", "metadata", path, key_value)?,
        data,
    })
}

fn exemplars(obj: &Map<String, Value>, path: &str) -> Result<Vec<Exemplar>> {
    list(obj, "exemplars", "exemplars", path, |e, p| {
        let value = if let Some(v) = get(e, "asDouble", "as_double") {
            Some(exemplar::Value::AsDouble(f64_value(v, p)?))
        } else if let Some(v) = get(e, "asInt", "as_int") {
            Some(exemplar::Value::AsInt(i64_value(v, p)?))
        } else {
            None
        };
        Ok(Exemplar {
            filtered_attributes: list(
                e,
                "filteredAttributes",
                "filtered_attributes",
                p,
                key_value,
            )?,
            time_unix_nano: u64f(e, "timeUnixNano", "time_unix_nano", p)?,
            span_id: idf(e, "spanId", "span_id", p)?,
            trace_id: idf(e, "traceId", "trace_id", p)?,
            value,
        })
    })
}

fn number_point(obj: &Map<String, Value>, path: &str) -> Result<NumberDataPoint> {
    let value = if let Some(v) = get(obj, "asDouble", "as_double") {
        Some(number_data_point::Value::AsDouble(f64_value(
            v,
            &format!("{path}.asDouble"),
        )?))
    } else if let Some(v) = get(obj, "asInt", "as_int") {
        Some(number_data_point::Value::AsInt(i64_value(
            v,
            &format!("{path}.asInt"),
        )?))
    } else {
        None
    };
    Ok(NumberDataPoint {
        attributes: attributes(obj, path)?,
        start_time_unix_nano: u64f(obj, "startTimeUnixNano", "start_time_unix_nano", path)?,
        time_unix_nano: u64f(obj, "timeUnixNano", "time_unix_nano", path)?,
        exemplars: exemplars(obj, path)?,
        flags: u32f(obj, "flags", "flags", path)?,
        value,
    })
}

fn u64_list(obj: &Map<String, Value>, camel: &str, snake: &str, path: &str) -> Result<Vec<u64>> {
    match get(obj, camel, snake) {
        None => Ok(Vec::new()),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| u64_value(v, &format!("{path}.{camel}")))
            .collect(),
        Some(_) => err(&format!("{path}.{camel}"), "expected an array"),
    }
}

fn histogram_point(obj: &Map<String, Value>, path: &str) -> Result<HistogramDataPoint> {
    let bounds = match get(obj, "explicitBounds", "explicit_bounds") {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|v| f64_value(v, path))
            .collect::<Result<_>>()?,
        Some(_) => return err(&format!("{path}.explicitBounds"), "expected an array"),
    };
    Ok(HistogramDataPoint {
        attributes: attributes(obj, path)?,
        start_time_unix_nano: u64f(obj, "startTimeUnixNano", "start_time_unix_nano", path)?,
        time_unix_nano: u64f(obj, "timeUnixNano", "time_unix_nano", path)?,
        count: u64f(obj, "count", "count", path)?,
        sum: f64f(obj, "sum", "sum", path)?,
        bucket_counts: u64_list(obj, "bucketCounts", "bucket_counts", path)?,
        explicit_bounds: bounds,
        exemplars: exemplars(obj, path)?,
        flags: u32f(obj, "flags", "flags", path)?,
        min: f64f(obj, "min", "min", path)?,
        max: f64f(obj, "max", "max", path)?,
    })
}

fn buckets(
    obj: &Map<String, Value>,
    camel: &str,
    path: &str,
) -> Result<Option<exponential_histogram_data_point::Buckets>> {
    let Some(v) = get(obj, camel, camel) else {
        return Ok(None);
    };
    let p = format!("{path}.{camel}");
    let b = as_obj(v, &p)?;
    let offset = get(b, "offset", "offset")
        .map(|v| i64_value(v, &p))
        .transpose()?
        .unwrap_or(0);
    Ok(Some(exponential_histogram_data_point::Buckets {
        offset: i32::try_from(offset).or_else(|_| err(&p, "offset out of range"))?,
        bucket_counts: u64_list(b, "bucketCounts", "bucket_counts", &p)?,
    }))
}

fn exp_histogram_point(
    obj: &Map<String, Value>,
    path: &str,
) -> Result<ExponentialHistogramDataPoint> {
    let scale = get(obj, "scale", "scale")
        .map(|v| i64_value(v, path))
        .transpose()?
        .unwrap_or(0);
    Ok(ExponentialHistogramDataPoint {
        attributes: attributes(obj, path)?,
        start_time_unix_nano: u64f(obj, "startTimeUnixNano", "start_time_unix_nano", path)?,
        time_unix_nano: u64f(obj, "timeUnixNano", "time_unix_nano", path)?,
        count: u64f(obj, "count", "count", path)?,
        sum: f64f(obj, "sum", "sum", path)?,
        scale: i32::try_from(scale).or_else(|_| err(path, "scale out of range"))?,
        zero_count: u64f(obj, "zeroCount", "zero_count", path)?,
        positive: buckets(obj, "positive", path)?,
        negative: buckets(obj, "negative", path)?,
        flags: u32f(obj, "flags", "flags", path)?,
        exemplars: exemplars(obj, path)?,
        min: f64f(obj, "min", "min", path)?,
        max: f64f(obj, "max", "max", path)?,
        zero_threshold: f64f(obj, "zeroThreshold", "zero_threshold", path)?.unwrap_or(0.0),
    })
}

fn summary_point(obj: &Map<String, Value>, path: &str) -> Result<SummaryDataPoint> {
    Ok(SummaryDataPoint {
        attributes: attributes(obj, path)?,
        start_time_unix_nano: u64f(obj, "startTimeUnixNano", "start_time_unix_nano", path)?,
        time_unix_nano: u64f(obj, "timeUnixNano", "time_unix_nano", path)?,
        count: u64f(obj, "count", "count", path)?,
        sum: f64f(obj, "sum", "sum", path)?.unwrap_or(0.0),
        quantile_values: list(obj, "quantileValues", "quantile_values", path, |q, p| {
            Ok(summary_data_point::ValueAtQuantile {
                quantile: f64f(q, "quantile", "quantile", p)?.unwrap_or(0.0),
                value: f64f(q, "value", "value", p)?.unwrap_or(0.0),
            })
        })?,
        flags: u32f(obj, "flags", "flags", path)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int64_as_string_or_number_and_null_body() {
        let body = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[
            {"timeUnixNano":"0","observedTimeUnixNano":"1795480994052980481","body":null,
             "attributes":[{"key":"a","value":{"intValue":"6"}},{"key":"b","value":{"intValue":7}}],
             "traceId":"","spanId":""}]}]}]}"#;
        let req = decode_logs(body).unwrap();
        let rec = &req.resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(rec.time_unix_nano, 0);
        assert_eq!(rec.observed_time_unix_nano, 1_795_480_994_052_980_481);
        assert!(rec.body.is_none());
        assert!(rec.trace_id.is_empty());
        let ints: Vec<_> = rec
            .attributes
            .iter()
            .map(|kv| kv.value.clone().unwrap().value.unwrap())
            .collect();
        assert_eq!(
            ints,
            vec![any_value::Value::IntValue(6), any_value::Value::IntValue(7)]
        );
    }

    #[test]
    fn hex_ids_enum_names_and_snake_case() {
        let body = br#"{"resource_spans":[{"scope_spans":[{"spans":[
            {"trace_id":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","kind":"SPAN_KIND_SERVER",
             "status":{"code":2},"startTimeUnixNano":1700000000000000000}]}]}]}"#;
        let req = decode_traces(body).unwrap();
        let s = &req.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(s.trace_id.len(), 16);
        assert_eq!(s.span_id.len(), 8);
        assert_eq!(s.kind, 2);
        assert_eq!(s.status.as_ref().unwrap().code, 2);
        assert_eq!(s.start_time_unix_nano, 1_700_000_000_000_000_000);
    }

    #[test]
    fn non_hex_id_is_a_request_error_with_its_path() {
        let body = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"not-hex"}]}]}]}"#;
        let e = decode_traces(body).unwrap_err();
        assert!(
            e.0.contains("resourceSpans[0].scopeSpans[0].spans[0].traceId"),
            "{e}"
        );
    }

    #[test]
    fn invalid_json_and_wrong_types_are_errors() {
        assert!(decode_traces(b"{").is_err());
        assert!(decode_traces(b"[]").is_err());
        assert!(decode_traces(br#"{"resourceSpans":{}}"#).is_err());
        assert!(
            decode_logs(
                br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"x"}]}]}]}"#
            )
            .is_err()
        );
    }

    #[test]
    fn empty_object_is_an_empty_request() {
        assert!(decode_metrics(b"{}").unwrap().resource_metrics.is_empty());
    }
}
