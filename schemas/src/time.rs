//! The time of a record, decided once for raw rows, normalization and reindex.
//!
//! OTLP times are `u64` nanoseconds where 0 means "not set". Vigil stores `i64`
//! nanoseconds (Arrow's timestamp type), saturating.

use opentelemetry_proto::tonic::common::v1::KeyValue;

use crate::attrs::otel;
use crate::otlp::Attrs;

/// An OTLP nanosecond time as stored; 0 (unset) stays 0.
pub fn ns(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// An RFC 3339 time (`event.timestamp`) in ns.
pub fn parse_rfc3339_ns(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .and_then(|d| d.timestamp_nanos_opt())
}

/// A log record's time: its own time, else when the SDK observed it, else the
/// `event.timestamp` attribute (Codex sends `timeUnixNano: 0`), else when Vigil
/// received it.
pub fn log_time(time_unix_nano: u64, observed: u64, attrs: &[KeyValue], received_ns: i64) -> i64 {
    first_set(&[time_unix_nano, observed]).unwrap_or_else(|| {
        Attrs(attrs)
            .str(otel::EVENT_TIMESTAMP)
            .and_then(|s| parse_rfc3339_ns(&s))
            .unwrap_or(received_ns)
    })
}

/// The first of `times` that is set (non-zero).
fn first_set(times: &[u64]) -> Option<i64> {
    times.iter().find(|t| **t > 0).map(|t| ns(*t))
}

/// A span's time: its start, else its end (some exporters send only the end),
/// else when Vigil received it.
pub fn span_time(start: u64, end: u64, received_ns: i64) -> i64 {
    first_set(&[start, end]).unwrap_or(received_ns)
}

/// A span's duration, when both ends are set and in order.
pub fn span_duration_ns(start: u64, end: u64) -> Option<i64> {
    (start > 0 && end >= start).then(|| ns(end) - ns(start))
}

/// The start time a span was sent with, recovered from what `otlp_spans` stores
/// (`ts` from [`span_time`], `end_ts`, `duration_ns` from [`span_duration_ns`]):
/// a span stored without a duration whose `ts` is its end time had no start.
pub fn span_start_from_row(ts: i64, end_ts: Option<i64>, duration_ns: Option<i64>) -> u64 {
    let started = duration_ns.is_some() || end_ts != Some(ts);
    if started {
        u64::try_from(ts).unwrap_or(0)
    } else {
        0
    }
}

/// A metric data point's time: its time, else its start, else when received.
pub fn point_time(time: u64, start: u64, received_ns: i64) -> i64 {
    first_set(&[time, start]).unwrap_or(received_ns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn span_start_round_trips_through_the_stored_columns() {
        let received = 5_000;
        for (start, end) in [(10u64, 20u64), (10, 10), (10, 0), (0, 20), (0, 0), (30, 20)] {
            let ts = span_time(start, end, received);
            let end_ts = (end > 0).then(|| ns(end));
            let duration = span_duration_ns(start, end);
            let back = span_start_from_row(ts, end_ts, duration);
            // the recovered start gives the same stored time and duration
            assert_eq!(span_time(back, end, received), ts, "{start},{end}");
            assert_eq!(span_duration_ns(back, end), duration, "{start},{end}");
            if start > 0 {
                assert_eq!(back, start, "{start},{end}");
            }
        }
    }

    #[test]
    fn log_time_falls_back_in_order() {
        let kv = |v: &str| KeyValue {
            key: otel::EVENT_TIMESTAMP.into(),
            value: Some(opentelemetry_proto::tonic::common::v1::AnyValue {
                value: Some(
                    opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(v.into()),
                ),
            }),
            ..Default::default()
        };
        let attrs = [kv("2026-11-24T00:43:36.460Z")];
        assert_eq!(log_time(7, 8, &attrs, 9), 7);
        assert_eq!(log_time(0, 8, &attrs, 9), 8);
        assert_eq!(log_time(0, 0, &attrs, 9), 1_795_481_016_460_000_000);
        assert_eq!(log_time(0, 0, &[kv("yesterday")], 9), 9);
        assert_eq!(log_time(0, 0, &[], 9), 9);
        assert_eq!(point_time(0, 4, 9), 4);
        assert_eq!(point_time(0, 0, 9), 9);
    }
}
