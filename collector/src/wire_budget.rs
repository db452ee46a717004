//! How much memory a request will take once decoded, estimated from its bytes
//! before anything is allocated, so a small body cannot become gigabytes.
//!
//! The amplification is in empty or tiny messages: an empty `LogRecord` is two
//! bytes on the wire and a ~200-byte struct once decoded, and then a row — a
//! 10 MB body of five million of them took 1.7 GB before this check. Real
//! telemetry decodes to a few times its wire size (a Codex log record with
//! 25 attributes: about 4.5×), attacks to 50–100×.
//!
//! - **Protobuf**: a walk over the wire format that follows the message-typed
//!   fields of the OTLP schema and adds `size_of` of each message's struct; a
//!   packed varint field counts 8 bytes per wire byte. It reads tags and lengths
//!   only, and stops at the first malformed length (prost then reports it) or
//!   once the budget is exceeded. Nesting deeper than [`MAX_DEPTH`] is refused.
//! - **JSON**: every `{` and `[` outside strings counts [`JSON_ELEMENT_BYTES`].
//!
//! Only untrusted bytes are checked (the receivers); WAL replay never refuses
//! a record that was acknowledged.

use std::mem::size_of;

use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, EntityRef, InstrumentationScope, KeyValue, KeyValueList,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::metrics::v1::{
    Exemplar, ExponentialHistogram, ExponentialHistogramDataPoint, Gauge, Histogram,
    HistogramDataPoint, Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum, Summary,
    SummaryDataPoint, exponential_histogram_data_point::Buckets,
    summary_data_point::ValueAtQuantile,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span};

use crate::wal::Signal;

/// Nesting (message within message) allowed; OTLP needs about 12, plus what
/// AnyValue arrays and maps nest.
pub(crate) const MAX_DEPTH: usize = 64;
/// What one JSON object or array is taken to cost decoded (its struct, its
/// `Vec` slot and the decoder's own `Value`).
pub(crate) const JSON_ELEMENT_BYTES: usize = 192;

/// The OTLP message types whose decoded size is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Request(Signal),
    ResourceSpans,
    ResourceLogs,
    ResourceMetrics,
    Resource,
    EntityRef,
    Scope,
    ScopeSpans,
    ScopeLogs,
    ScopeMetrics,
    Span,
    SpanEvent,
    SpanLink,
    SpanStatus,
    LogRecord,
    Metric,
    Gauge,
    Sum,
    Histogram,
    ExpHistogram,
    Summary,
    NumberPoint,
    HistogramPoint,
    ExpHistogramPoint,
    Buckets,
    SummaryPoint,
    Quantile,
    Exemplar,
    KeyValue,
    AnyValue,
    ArrayValue,
    KeyValueList,
}

/// How a field of a message decodes.
enum Field {
    Message(Kind),
    /// Packed repeated varints: up to 8 bytes per wire byte.
    PackedVarints,
    /// Scalars, strings and bytes: about their wire size, already in the body.
    Other,
}

impl Kind {
    fn size(self) -> usize {
        match self {
            Kind::Request(_) => 24,
            Kind::ResourceSpans => size_of::<ResourceSpans>(),
            Kind::ResourceLogs => size_of::<ResourceLogs>(),
            Kind::ResourceMetrics => size_of::<ResourceMetrics>(),
            Kind::Resource => size_of::<Resource>(),
            Kind::EntityRef => size_of::<EntityRef>(),
            Kind::Scope => size_of::<InstrumentationScope>(),
            Kind::ScopeSpans => size_of::<ScopeSpans>(),
            Kind::ScopeLogs => size_of::<ScopeLogs>(),
            Kind::ScopeMetrics => size_of::<ScopeMetrics>(),
            Kind::Span => size_of::<Span>(),
            Kind::SpanEvent => size_of::<span::Event>(),
            Kind::SpanLink => size_of::<span::Link>(),
            Kind::SpanStatus => size_of::<Status>(),
            Kind::LogRecord => size_of::<LogRecord>(),
            Kind::Metric => size_of::<Metric>(),
            Kind::Gauge => size_of::<Gauge>(),
            Kind::Sum => size_of::<Sum>(),
            Kind::Histogram => size_of::<Histogram>(),
            Kind::ExpHistogram => size_of::<ExponentialHistogram>(),
            Kind::Summary => size_of::<Summary>(),
            Kind::NumberPoint => size_of::<NumberDataPoint>(),
            Kind::HistogramPoint => size_of::<HistogramDataPoint>(),
            Kind::ExpHistogramPoint => size_of::<ExponentialHistogramDataPoint>(),
            Kind::Buckets => size_of::<Buckets>(),
            Kind::SummaryPoint => size_of::<SummaryDataPoint>(),
            Kind::Quantile => size_of::<ValueAtQuantile>(),
            Kind::Exemplar => size_of::<Exemplar>(),
            Kind::KeyValue => size_of::<KeyValue>(),
            Kind::AnyValue => size_of::<AnyValue>(),
            Kind::ArrayValue => size_of::<ArrayValue>(),
            Kind::KeyValueList => size_of::<KeyValueList>(),
        }
    }

    /// The message-typed fields, by number, from the OTLP `.proto` files.
    fn field(self, number: u64) -> Field {
        use Field::{Message as M, Other, PackedVarints};
        match (self, number) {
            (Kind::Request(Signal::Traces), 1) => M(Kind::ResourceSpans),
            (Kind::Request(Signal::Logs), 1) => M(Kind::ResourceLogs),
            (Kind::Request(Signal::Metrics), 1) => M(Kind::ResourceMetrics),
            (Kind::ResourceSpans | Kind::ResourceLogs | Kind::ResourceMetrics, 1) => {
                M(Kind::Resource)
            }
            (Kind::ResourceSpans, 2) => M(Kind::ScopeSpans),
            (Kind::ResourceLogs, 2) => M(Kind::ScopeLogs),
            (Kind::ResourceMetrics, 2) => M(Kind::ScopeMetrics),
            (Kind::Resource, 1) => M(Kind::KeyValue),
            (Kind::Resource, 3) => M(Kind::EntityRef),
            (Kind::ScopeSpans | Kind::ScopeLogs | Kind::ScopeMetrics, 1) => M(Kind::Scope),
            (Kind::ScopeSpans, 2) => M(Kind::Span),
            (Kind::ScopeLogs, 2) => M(Kind::LogRecord),
            (Kind::ScopeMetrics, 2) => M(Kind::Metric),
            (Kind::Scope, 3) => M(Kind::KeyValue),
            (Kind::Span, 9) => M(Kind::KeyValue),
            (Kind::Span, 11) => M(Kind::SpanEvent),
            (Kind::Span, 13) => M(Kind::SpanLink),
            (Kind::Span, 15) => M(Kind::SpanStatus),
            (Kind::SpanEvent, 3) => M(Kind::KeyValue),
            (Kind::SpanLink, 4) => M(Kind::KeyValue),
            (Kind::LogRecord, 5) => M(Kind::AnyValue),
            (Kind::LogRecord, 6) => M(Kind::KeyValue),
            (Kind::Metric, 5) => M(Kind::Gauge),
            (Kind::Metric, 7) => M(Kind::Sum),
            (Kind::Metric, 9) => M(Kind::Histogram),
            (Kind::Metric, 10) => M(Kind::ExpHistogram),
            (Kind::Metric, 11) => M(Kind::Summary),
            (Kind::Metric, 12) => M(Kind::KeyValue),
            (Kind::Gauge | Kind::Sum, 1) => M(Kind::NumberPoint),
            (Kind::Histogram, 1) => M(Kind::HistogramPoint),
            (Kind::ExpHistogram, 1) => M(Kind::ExpHistogramPoint),
            (Kind::Summary, 1) => M(Kind::SummaryPoint),
            (Kind::NumberPoint, 7) => M(Kind::KeyValue),
            (Kind::NumberPoint, 5) => M(Kind::Exemplar),
            (Kind::HistogramPoint, 9) => M(Kind::KeyValue),
            (Kind::HistogramPoint, 8) => M(Kind::Exemplar),
            (Kind::ExpHistogramPoint, 1) => M(Kind::KeyValue),
            (Kind::ExpHistogramPoint, 8 | 9) => M(Kind::Buckets),
            (Kind::ExpHistogramPoint, 11) => M(Kind::Exemplar),
            (Kind::Buckets, 2) => PackedVarints,
            (Kind::SummaryPoint, 7) => M(Kind::KeyValue),
            (Kind::SummaryPoint, 6) => M(Kind::Quantile),
            (Kind::Exemplar, 7) => M(Kind::KeyValue),
            (Kind::KeyValue, 2) => M(Kind::AnyValue),
            (Kind::AnyValue, 5) => M(Kind::ArrayValue),
            (Kind::AnyValue, 6) => M(Kind::KeyValueList),
            (Kind::ArrayValue, 1) => M(Kind::AnyValue),
            (Kind::KeyValueList, 1) => M(Kind::KeyValue),
            _ => Other,
        }
    }
}

/// Why a request was refused before decoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OverBudget {
    /// It would take more than the budget decoded.
    Size { limit: usize },
    /// Messages nested deeper than [`MAX_DEPTH`].
    Depth,
}

/// Checks a protobuf export request of `signal` against `limit` decoded bytes.
/// A malformed body passes (prost reports it precisely).
/// The estimated decoded size of `bytes` (the bytes themselves included), or
/// why it is over `limit`.
pub(crate) fn check_protobuf(
    signal: Signal,
    bytes: &[u8],
    limit: usize,
) -> Result<usize, OverBudget> {
    let mut total = bytes.len();
    walk(Kind::Request(signal), bytes, 0, &mut total, limit)?;
    Ok(total)
}

fn walk(
    kind: Kind,
    mut buf: &[u8],
    depth: usize,
    total: &mut usize,
    limit: usize,
) -> Result<(), OverBudget> {
    if depth > MAX_DEPTH {
        return Err(OverBudget::Depth);
    }
    *total += kind.size();
    if *total > limit {
        return Err(OverBudget::Size { limit });
    }
    while !buf.is_empty() {
        let Some((key, rest)) = varint(buf) else {
            return Ok(());
        };
        buf = rest;
        let (number, wire_type) = (key >> 3, key & 7);
        match wire_type {
            0 => match varint(buf) {
                Some((_, rest)) => buf = rest,
                None => return Ok(()),
            },
            1 => match buf.get(8..) {
                Some(rest) => buf = rest,
                None => return Ok(()),
            },
            5 => match buf.get(4..) {
                Some(rest) => buf = rest,
                None => return Ok(()),
            },
            2 => {
                let Some((len, rest)) = varint(buf) else {
                    return Ok(());
                };
                let Some(body) = usize::try_from(len).ok().and_then(|l| rest.get(..l)) else {
                    return Ok(());
                };
                buf = &rest[body.len()..];
                match kind.field(number) {
                    Field::Message(child) => walk(child, body, depth + 1, total, limit)?,
                    Field::PackedVarints => {
                        *total += body.len() * 8;
                        if *total > limit {
                            return Err(OverBudget::Size { limit });
                        }
                    }
                    Field::Other => {}
                }
            }
            _ => return Ok(()),
        }
    }
    Ok(())
}

fn varint(buf: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, &b) in buf.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, &buf[i + 1..]));
        }
    }
    None
}

/// Checks an OTLP/JSON body against `limit` decoded bytes.
/// As [`check_protobuf`], for OTLP/JSON.
pub(crate) fn check_json(bytes: &[u8], limit: usize) -> Result<usize, OverBudget> {
    let (mut in_string, mut escaped) = (false, false);
    let mut total = bytes.len();
    let mut depth = 0usize;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > MAX_DEPTH * 2 {
                    return Err(OverBudget::Depth);
                }
                total += JSON_ELEMENT_BYTES;
                if total > limit {
                    return Err(OverBudget::Size { limit });
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::ExportRequest;

    /// `body` as the length-delimited field whose key byte is `key`.
    fn field(key: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![key];
        let mut n = body.len();
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
        out.extend_from_slice(body);
        out
    }

    /// A logs request of one resource and scope around the records' bytes
    /// (`ResourceLogs` = field 1, `ScopeLogs` = field 2).
    fn logs_request(records: &[u8]) -> Vec<u8> {
        field(0x0a, &field(0x12, records))
    }

    fn empty_records(n: usize) -> Vec<u8> {
        let scope: Vec<u8> = std::iter::repeat_n([0x12u8, 0x00], n).flatten().collect();
        logs_request(&scope)
    }

    #[test]
    fn empty_records_are_priced_as_structs_not_bytes() {
        let body = empty_records(100_000);
        assert_eq!(body.len(), 1 + 3 + 1 + 3 + 200_000);
        let estimate = 100_000 * size_of::<LogRecord>();
        assert!(check_protobuf(Signal::Logs, &body, estimate).is_err());
        let priced = check_protobuf(Signal::Logs, &body, 2 * estimate).unwrap();
        assert_eq!(
            priced,
            body.len() + estimate + 24 + size_of::<ResourceLogs>() + size_of::<ScopeLogs>()
        );
        // the walk follows the same schema prost decodes
        let ExportRequest::Logs(req) = ExportRequest::decode_proto(Signal::Logs, &body).unwrap()
        else {
            unreachable!()
        };
        assert_eq!(
            req.resource_logs[0].scope_logs[0].log_records.len(),
            100_000
        );
    }

    #[test]
    fn real_requests_fit_in_eight_times_their_size() {
        let mut checked = 0;
        for capture in fixtures::captures() {
            for m in fixtures::manifest(&capture).unwrap() {
                let signal = Signal::from_otlp_http_path(&m.path).expect("an OTLP path");
                let (name, f) = (&m.file, capture.join(&m.file));
                let json = std::fs::read(&f).unwrap();
                assert_eq!(
                    check_json(&json, 8 * json.len()).map(drop),
                    Ok(()),
                    "{name} as JSON"
                );
                let proto = ExportRequest::decode_json(signal, &json)
                    .unwrap()
                    .encode_proto();
                assert_eq!(
                    check_protobuf(signal, &proto, 8 * proto.len()).map(drop),
                    Ok(()),
                    "{name} as protobuf"
                );
                checked += 1;
            }
        }
        assert!(checked >= 7, "only {checked} capture files");
    }

    #[test]
    fn nesting_is_bounded_and_json_strings_do_not_count() {
        // AnyValue { array_value { values: AnyValue { array_value … } } }, deeper than allowed
        let mut inner: Vec<u8> = Vec::new();
        for _ in 0..(MAX_DEPTH + 2) {
            inner = field(0x2a, &field(0x0a, &inner));
        }
        // LogRecord.body is field 5
        let req = logs_request(&field(0x12, &field(0x2a, &inner)));
        assert_eq!(
            check_protobuf(Signal::Logs, &req, usize::MAX),
            Err(OverBudget::Depth)
        );

        let braces_in_a_string = format!("{{\"body\": \"{}\"}}", "{[".repeat(10_000));
        // one object: the bytes and one element
        assert_eq!(
            check_json(braces_in_a_string.as_bytes(), 30_000),
            Ok(braces_in_a_string.len() + JSON_ELEMENT_BYTES)
        );
        let objects = "[".to_string() + &"{},".repeat(1000) + "{}]";
        assert_eq!(
            check_json(objects.as_bytes(), 1000 * JSON_ELEMENT_BYTES),
            Err(OverBudget::Size {
                limit: 1000 * JSON_ELEMENT_BYTES
            })
        );
        assert_eq!(
            check_json(br#"{"a": "\"{"}"#, 1000),
            Ok(12 + JSON_ELEMENT_BYTES)
        );
    }
}
