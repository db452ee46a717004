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

/// A point in time as a user writes it on the command line or in a query
/// string: RFC 3339 (`2026-12-01T09:00:00Z`), a date (`2026-12-01`, midnight
/// UTC), or a span back from `now_ns` (`90m`, `24h`, `7d`, `1h 30m`).
pub fn parse_instant(s: &str, now_ns: i64) -> Result<i64, String> {
    let s = s.trim();
    if let Some(ns) = parse_rfc3339_ns(s) {
        return Ok(ns);
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        && let Some(ns) = d
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_utc().timestamp_nanos_opt())
    {
        return Ok(ns);
    }
    let span = parse_span(s).ok_or_else(|| {
        format!("{s:?} is not a time: use RFC 3339 (2026-12-01T09:00:00Z), a date (2026-12-01) or a span back from now (90m, 24h, 7d)")
    })?;
    Ok(now_ns.saturating_sub(span))
}

/// `90s`, `15m`, `24h`, `7d`, `2w`, and sums of them (`1h 30m`), in ns.
fn parse_span(s: &str) -> Option<i64> {
    let mut total: i64 = 0;
    let mut any = false;
    for part in s.split_whitespace() {
        let split = part.find(|c: char| !c.is_ascii_digit())?;
        let (n, unit) = part.split_at(split);
        let n: i64 = n.parse().ok()?;
        let unit_ns: i64 = match unit {
            "s" | "sec" | "secs" => 1_000_000_000,
            "m" | "min" | "mins" => 60 * 1_000_000_000,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600 * 1_000_000_000,
            "d" | "day" | "days" => 86_400 * 1_000_000_000,
            "w" | "week" | "weeks" => 7 * 86_400 * 1_000_000_000,
            _ => return None,
        };
        total = total.checked_add(n.checked_mul(unit_ns)?)?;
        any = true;
    }
    any.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_from_the_command_line() {
        let now = 1_800_000_000_000_000_000;
        let h = 3_600_000_000_000;
        assert_eq!(parse_instant("24h", now), Ok(now - 24 * h));
        assert_eq!(parse_instant("1h 30m", now), Ok(now - 90 * 60_000_000_000));
        assert_eq!(parse_instant("7d", now), Ok(now - 7 * 24 * h));
        assert_eq!(
            parse_instant("2026-12-01T09:00:00Z", now),
            Ok(parse_rfc3339_ns("2026-12-01T09:00:00Z").unwrap())
        );
        assert_eq!(
            parse_instant("2026-12-01", now),
            Ok(parse_rfc3339_ns("2026-12-01T00:00:00Z").unwrap())
        );
        for bad in ["", "yesterday", "5 parsecs", "12x"] {
            let e = parse_instant(bad, now).unwrap_err();
            assert!(e.contains("is not a time"), "{bad}: {e}");
        }
    }

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
