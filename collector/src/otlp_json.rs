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

/// One JSON object of the request and its path (for error messages). Field
/// names are looked up in lowerCamelCase; an object sent with snake_case names
/// (proto3 JSON allows both) is renamed once when it is entered, the camelCase
/// name winning where both are sent.
struct Obj<'a> {
    map: std::borrow::Cow<'a, Map<String, Value>>,
    path: String,
}

fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

impl<'a> Obj<'a> {
    fn new(v: &'a Value, path: String) -> Result<Self> {
        let Some(map) = v.as_object() else {
            return err(&path, "expected an object");
        };
        let map = if map.keys().any(|k| k.contains('_')) {
            let mut renamed: Map<String, Value> = map
                .iter()
                .filter(|(k, _)| !k.contains('_'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            for (k, v) in map.iter().filter(|(k, _)| k.contains('_')) {
                renamed.entry(camel_case(k)).or_insert_with(|| v.clone());
            }
            std::borrow::Cow::Owned(renamed)
        } else {
            std::borrow::Cow::Borrowed(map)
        };
        Ok(Obj { map, path })
    }

    fn root(bytes: &[u8]) -> Result<Value> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(_) => err("$", "expected a JSON object"),
            Err(e) => err("$", format_args!("invalid JSON: {e}")),
        }
    }

    /// A field's value; `null` counts as absent.
    fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    fn at(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    /// A nested object, if present.
    fn obj(&self, name: &str) -> Result<Option<Obj<'_>>> {
        self.get(name)
            .map(|v| Obj::new(v, self.at(name)))
            .transpose()
    }

    fn list<T>(&self, name: &str, each: impl Fn(&Obj<'_>) -> Result<T>) -> Result<Vec<T>> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| each(&Obj::new(v, format!("{}.{name}[{i}]", self.path))?))
                .collect(),
            Some(_) => err(&self.at(name), "expected an array"),
        }
    }

    /// A list of scalars read with `each`.
    fn values<T>(&self, name: &str, each: impl Fn(&Value) -> Scalar<T>) -> Result<Vec<T>> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => a.iter().map(|v| self.scalar(name, each(v))).collect(),
            Some(_) => err(&self.at(name), "expected an array"),
        }
    }

    /// A scalar's result, with this field's path on error.
    fn scalar<T>(&self, name: &str, r: Scalar<T>) -> Result<T> {
        r.or_else(|what| err(&self.at(name), what))
    }

    fn string(&self, name: &str) -> Result<String> {
        match self.get(name) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => err(&self.at(name), "expected a string"),
        }
    }

    fn u64(&self, name: &str) -> Result<u64> {
        self.get(name)
            .map_or(Ok(0), |v| self.scalar(name, u64_value(v)))
    }

    fn u32(&self, name: &str) -> Result<u32> {
        u32::try_from(self.u64(name)?).or_else(|_| err(&self.at(name), "out of range for uint32"))
    }

    fn i32(&self, name: &str) -> Result<i32> {
        let v = self
            .get(name)
            .map_or(Ok(0), |v| self.scalar(name, i64_value(v)))?;
        i32::try_from(v).or_else(|_| err(&self.at(name), "out of range"))
    }

    fn f64(&self, name: &str) -> Result<Option<f64>> {
        self.get(name)
            .map(|v| self.scalar(name, f64_value(v)))
            .transpose()
    }

    fn bool(&self, name: &str) -> Result<bool> {
        match self.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s == "true" || s == "false" => Ok(s == "true"),
            Some(_) => err(&self.at(name), "expected a boolean"),
        }
    }

    /// An enum sent as its integer value or its name.
    fn enumeration(&self, name: &str, names: &[&str]) -> Result<i32> {
        match self.get(name) {
            None => Ok(0),
            Some(Value::String(s)) if s.parse::<i32>().is_err() => names
                .iter()
                .position(|n| n.eq_ignore_ascii_case(s))
                .map_or_else(
                    || err(&self.at(name), format_args!("unknown enum value {s:?}")),
                    |i| Ok(i as i32),
                ),
            Some(_) => self.i32(name),
        }
    }

    /// A hex id. Empty or absent is "no id". Not hex is an error for the request;
    /// hex of the wrong length is returned as is for record-level validation.
    fn id(&self, name: &str) -> Result<Vec<u8>> {
        match self.get(name) {
            None => Ok(Vec::new()),
            Some(Value::String(s)) => hex::decode(s).or_else(|_| {
                err(
                    &self.at(name),
                    format_args!("invalid id {s:?}: expected hex digits"),
                )
            }),
            Some(_) => err(&self.at(name), "expected a hex string"),
        }
    }

    fn attributes(&self, name: &str) -> Result<Vec<KeyValue>> {
        self.list(name, key_value)
    }

    fn dropped(&self) -> Result<u32> {
        self.u32("droppedAttributesCount")
    }

    fn any_value(&self, name: &str) -> Result<Option<AnyValue>> {
        self.obj(name)?.map(|o| any_value(&o)).transpose()
    }
}

pub fn decode_traces(bytes: &[u8]) -> Result<ExportTraceServiceRequest> {
    let root = Obj::root(bytes)?;
    Ok(ExportTraceServiceRequest {
        resource_spans: Obj::new(&root, "$".into())?.list("resourceSpans", resource_spans)?,
    })
}

pub fn decode_logs(bytes: &[u8]) -> Result<ExportLogsServiceRequest> {
    let root = Obj::root(bytes)?;
    Ok(ExportLogsServiceRequest {
        resource_logs: Obj::new(&root, "$".into())?.list("resourceLogs", resource_logs)?,
    })
}

pub fn decode_metrics(bytes: &[u8]) -> Result<ExportMetricsServiceRequest> {
    let root = Obj::root(bytes)?;
    Ok(ExportMetricsServiceRequest {
        resource_metrics: Obj::new(&root, "$".into())?.list("resourceMetrics", resource_metrics)?,
    })
}

// ---- scalars --------------------------------------------------------------------

/// What is wrong with a scalar; the caller adds the path (only on error, so
/// well-formed requests pay nothing for paths).
type Scalar<T> = std::result::Result<T, String>;

/// An unsigned 64-bit integer sent as a JSON number or a decimal string.
fn u64_value(v: &Value) -> Scalar<u64> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19)
                    .map(|f| f as u64)
            })
            .ok_or_else(|| "expected an unsigned integer".to_string()),
        Value::String(s) if s.is_empty() => Ok(0),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("expected an unsigned integer, got {s:?}")),
        _ => Err("expected an unsigned integer".to_string()),
    }
}

fn i64_value(v: &Value) -> Scalar<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18)
                    .map(|f| f as i64)
            })
            .ok_or_else(|| "expected an integer".to_string()),
        Value::String(s) => s
            .trim()
            .parse()
            .map_err(|_| format!("expected an integer, got {s:?}")),
        _ => Err("expected an integer".to_string()),
    }
}

fn f64_value(v: &Value) -> Scalar<f64> {
    match v {
        Value::Number(n) => n.as_f64().ok_or_else(|| "expected a number".to_string()),
        Value::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => s
                .trim()
                .parse()
                .map_err(|_| format!("expected a number, got {s:?}")),
        },
        _ => Err("expected a number".to_string()),
    }
}

// ---- common ---------------------------------------------------------------------

fn any_value(o: &Obj<'_>) -> Result<AnyValue> {
    use any_value::Value as V;
    let value = if let Some(v) = o.get("stringValue") {
        match v {
            Value::String(s) => Some(V::StringValue(s.clone())),
            _ => return err(&o.at("stringValue"), "expected a string"),
        }
    } else if let Some(v) = o.get("boolValue") {
        match v {
            Value::Bool(b) => Some(V::BoolValue(*b)),
            Value::String(s) if s == "true" || s == "false" => Some(V::BoolValue(s == "true")),
            _ => return err(&o.at("boolValue"), "expected a boolean"),
        }
    } else if let Some(v) = o.get("intValue") {
        Some(V::IntValue(o.scalar("intValue", i64_value(v))?))
    } else if let Some(v) = o.get("doubleValue") {
        Some(V::DoubleValue(o.scalar("doubleValue", f64_value(v))?))
    } else if let Some(a) = o.obj("arrayValue")? {
        Some(V::ArrayValue(ArrayValue {
            values: a.list("values", any_value)?,
        }))
    } else if let Some(kv) = o.obj("kvlistValue")? {
        Some(V::KvlistValue(KeyValueList {
            values: kv.list("values", key_value)?,
        }))
    } else if let Some(v) = o.get("bytesValue") {
        match v {
            Value::String(s) => match base64::engine::general_purpose::STANDARD.decode(s) {
                Ok(b) => Some(V::BytesValue(b)),
                Err(_) => return err(&o.at("bytesValue"), "expected base64"),
            },
            _ => return err(&o.at("bytesValue"), "expected a base64 string"),
        }
    } else {
        None
    };
    Ok(AnyValue { value })
}

fn key_value(o: &Obj<'_>) -> Result<KeyValue> {
    Ok(KeyValue {
        key: o.string("key")?,
        value: o.any_value("value")?,
        ..Default::default()
    })
}

fn resource(o: &Obj<'_>) -> Result<Option<Resource>> {
    o.obj("resource")?
        .map(|r| {
            Ok(Resource {
                attributes: r.attributes("attributes")?,
                dropped_attributes_count: r.dropped()?,
                ..Default::default()
            })
        })
        .transpose()
}

fn scope(o: &Obj<'_>) -> Result<Option<InstrumentationScope>> {
    o.obj("scope")?
        .map(|s| {
            Ok(InstrumentationScope {
                name: s.string("name")?,
                version: s.string("version")?,
                attributes: s.attributes("attributes")?,
                dropped_attributes_count: s.dropped()?,
            })
        })
        .transpose()
}

/// `resource*` → `scope*` → records, the same for every signal.
macro_rules! resource_level {
    ($($fn:ident: $resource:ident { $scopes:ident: $scopes_json:literal, $scope:ident { $records:ident: $records_json:literal, $record:ident } };)*) => {$(
        fn $fn(o: &Obj<'_>) -> Result<$resource> {
            Ok($resource {
                resource: resource(o)?,
                $scopes: o.list($scopes_json, |s| {
                    Ok($scope {
                        scope: scope(s)?,
                        $records: s.list($records_json, $record)?,
                        schema_url: s.string("schemaUrl")?,
                    })
                })?,
                schema_url: o.string("schemaUrl")?,
            })
        }
    )*};
}

resource_level! {
    resource_spans: ResourceSpans { scope_spans: "scopeSpans", ScopeSpans { spans: "spans", span } };
    resource_logs: ResourceLogs { scope_logs: "scopeLogs", ScopeLogs { log_records: "logRecords", log_record } };
    resource_metrics: ResourceMetrics { scope_metrics: "scopeMetrics", ScopeMetrics { metrics: "metrics", metric } };
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

fn span(o: &Obj<'_>) -> Result<Span> {
    let status = o
        .obj("status")?
        .map(|s| {
            Ok(SpanStatus {
                message: s.string("message")?,
                code: s.enumeration("code", STATUS_CODES)?,
            })
        })
        .transpose()?;
    Ok(Span {
        trace_id: o.id("traceId")?,
        span_id: o.id("spanId")?,
        trace_state: o.string("traceState")?,
        parent_span_id: o.id("parentSpanId")?,
        flags: o.u32("flags")?,
        name: o.string("name")?,
        kind: o.enumeration("kind", SPAN_KINDS)?,
        start_time_unix_nano: o.u64("startTimeUnixNano")?,
        end_time_unix_nano: o.u64("endTimeUnixNano")?,
        attributes: o.attributes("attributes")?,
        dropped_attributes_count: o.dropped()?,
        events: o.list("events", |e| {
            Ok(span::Event {
                time_unix_nano: e.u64("timeUnixNano")?,
                name: e.string("name")?,
                attributes: e.attributes("attributes")?,
                dropped_attributes_count: e.dropped()?,
            })
        })?,
        dropped_events_count: o.u32("droppedEventsCount")?,
        links: o.list("links", |l| {
            Ok(span::Link {
                trace_id: l.id("traceId")?,
                span_id: l.id("spanId")?,
                trace_state: l.string("traceState")?,
                attributes: l.attributes("attributes")?,
                dropped_attributes_count: l.dropped()?,
                flags: l.u32("flags")?,
            })
        })?,
        dropped_links_count: o.u32("droppedLinksCount")?,
        status,
    })
}

// ---- logs -----------------------------------------------------------------------

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

fn log_record(o: &Obj<'_>) -> Result<LogRecord> {
    Ok(LogRecord {
        time_unix_nano: o.u64("timeUnixNano")?,
        observed_time_unix_nano: o.u64("observedTimeUnixNano")?,
        severity_number: o.enumeration("severityNumber", SEVERITIES)?,
        severity_text: o.string("severityText")?,
        body: o.any_value("body")?,
        attributes: o.attributes("attributes")?,
        dropped_attributes_count: o.dropped()?,
        flags: o.u32("flags")?,
        trace_id: o.id("traceId")?,
        span_id: o.id("spanId")?,
        event_name: o.string("eventName")?,
    })
}

// ---- metrics --------------------------------------------------------------------

const TEMPORALITIES: &[&str] = &[
    "AGGREGATION_TEMPORALITY_UNSPECIFIED",
    "AGGREGATION_TEMPORALITY_DELTA",
    "AGGREGATION_TEMPORALITY_CUMULATIVE",
];

fn metric(o: &Obj<'_>) -> Result<Metric> {
    let temporality = |d: &Obj<'_>| d.enumeration("aggregationTemporality", TEMPORALITIES);
    let data = if let Some(g) = o.obj("gauge")? {
        Some(metric::Data::Gauge(Gauge {
            data_points: g.list("dataPoints", number_point)?,
        }))
    } else if let Some(s) = o.obj("sum")? {
        Some(metric::Data::Sum(Sum {
            data_points: s.list("dataPoints", number_point)?,
            aggregation_temporality: temporality(&s)?,
            is_monotonic: s.bool("isMonotonic")?,
        }))
    } else if let Some(h) = o.obj("histogram")? {
        Some(metric::Data::Histogram(Histogram {
            data_points: h.list("dataPoints", histogram_point)?,
            aggregation_temporality: temporality(&h)?,
        }))
    } else if let Some(h) = o.obj("exponentialHistogram")? {
        Some(metric::Data::ExponentialHistogram(ExponentialHistogram {
            data_points: h.list("dataPoints", exp_histogram_point)?,
            aggregation_temporality: temporality(&h)?,
        }))
    } else if let Some(s) = o.obj("summary")? {
        Some(metric::Data::Summary(Summary {
            data_points: s.list("dataPoints", summary_point)?,
        }))
    } else {
        None
    };
    Ok(Metric {
        name: o.string("name")?,
        description: o.string("description")?,
        unit: o.string("unit")?,
        metadata: o.attributes("metadata")?,
        data,
    })
}

fn exemplars(o: &Obj<'_>) -> Result<Vec<Exemplar>> {
    o.list("exemplars", |e| {
        let value = if let Some(v) = e.get("asDouble") {
            Some(exemplar::Value::AsDouble(
                e.scalar("asDouble", f64_value(v))?,
            ))
        } else if let Some(v) = e.get("asInt") {
            Some(exemplar::Value::AsInt(e.scalar("asInt", i64_value(v))?))
        } else {
            None
        };
        Ok(Exemplar {
            filtered_attributes: e.attributes("filteredAttributes")?,
            time_unix_nano: e.u64("timeUnixNano")?,
            span_id: e.id("spanId")?,
            trace_id: e.id("traceId")?,
            value,
        })
    })
}

fn number_point(o: &Obj<'_>) -> Result<NumberDataPoint> {
    let value = if let Some(v) = o.get("asDouble") {
        Some(number_data_point::Value::AsDouble(
            o.scalar("asDouble", f64_value(v))?,
        ))
    } else if let Some(v) = o.get("asInt") {
        Some(number_data_point::Value::AsInt(
            o.scalar("asInt", i64_value(v))?,
        ))
    } else {
        None
    };
    Ok(NumberDataPoint {
        attributes: o.attributes("attributes")?,
        start_time_unix_nano: o.u64("startTimeUnixNano")?,
        time_unix_nano: o.u64("timeUnixNano")?,
        exemplars: exemplars(o)?,
        flags: o.u32("flags")?,
        value,
    })
}

fn histogram_point(o: &Obj<'_>) -> Result<HistogramDataPoint> {
    Ok(HistogramDataPoint {
        attributes: o.attributes("attributes")?,
        start_time_unix_nano: o.u64("startTimeUnixNano")?,
        time_unix_nano: o.u64("timeUnixNano")?,
        count: o.u64("count")?,
        sum: o.f64("sum")?,
        bucket_counts: o.values("bucketCounts", u64_value)?,
        explicit_bounds: o.values("explicitBounds", f64_value)?,
        exemplars: exemplars(o)?,
        flags: o.u32("flags")?,
        min: o.f64("min")?,
        max: o.f64("max")?,
    })
}

fn buckets(o: &Obj<'_>, name: &str) -> Result<Option<exponential_histogram_data_point::Buckets>> {
    o.obj(name)?
        .map(|b| {
            Ok(exponential_histogram_data_point::Buckets {
                offset: b.i32("offset")?,
                bucket_counts: b.values("bucketCounts", u64_value)?,
            })
        })
        .transpose()
}

fn exp_histogram_point(o: &Obj<'_>) -> Result<ExponentialHistogramDataPoint> {
    Ok(ExponentialHistogramDataPoint {
        attributes: o.attributes("attributes")?,
        start_time_unix_nano: o.u64("startTimeUnixNano")?,
        time_unix_nano: o.u64("timeUnixNano")?,
        count: o.u64("count")?,
        sum: o.f64("sum")?,
        scale: o.i32("scale")?,
        zero_count: o.u64("zeroCount")?,
        positive: buckets(o, "positive")?,
        negative: buckets(o, "negative")?,
        flags: o.u32("flags")?,
        exemplars: exemplars(o)?,
        min: o.f64("min")?,
        max: o.f64("max")?,
        zero_threshold: o.f64("zeroThreshold")?.unwrap_or(0.0),
    })
}

fn summary_point(o: &Obj<'_>) -> Result<SummaryDataPoint> {
    Ok(SummaryDataPoint {
        attributes: o.attributes("attributes")?,
        start_time_unix_nano: o.u64("startTimeUnixNano")?,
        time_unix_nano: o.u64("timeUnixNano")?,
        count: o.u64("count")?,
        sum: o.f64("sum")?.unwrap_or(0.0),
        quantile_values: o.list("quantileValues", |q| {
            Ok(summary_data_point::ValueAtQuantile {
                quantile: q.f64("quantile")?.unwrap_or(0.0),
                value: q.f64("value")?.unwrap_or(0.0),
            })
        })?,
        flags: o.u32("flags")?,
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
    fn snake_case_names_are_read_and_camel_case_wins_when_both_are_sent() {
        let body = br#"{"resourceLogs":[{"scope_logs":[{"log_records":[
            {"time_unix_nano":"5","timeUnixNano":"6","severity_text":"WARN","event_name":"e"}]}]}]}"#;
        let rec = &decode_logs(body).unwrap().resource_logs[0].scope_logs[0].log_records[0];
        assert_eq!(rec.time_unix_nano, 6);
        assert_eq!(rec.severity_text, "WARN");
        assert_eq!(rec.event_name, "e");
        assert_eq!(
            camel_case("observed_time_unix_nano"),
            "observedTimeUnixNano"
        );
    }

    #[test]
    fn empty_object_is_an_empty_request() {
        assert!(decode_metrics(b"{}").unwrap().resource_metrics.is_empty());
    }
}
