//! How values read on a page: times, sizes, decisions, truncated text, links.
//! Everything here returns plain text; the templates escape it.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a path segment or query value may keep unescaped.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `s` as one URL path segment or query value.
pub(crate) fn url_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

/// The SQL console with `sql` in its box, run.
pub(crate) fn sql_href(sql: &str) -> String {
    format!("/sql?q={}", url_component(sql))
}

/// Where a finding points: the first of its cited `event_ids` in its
/// session's timeline.
pub(crate) fn finding_href(session: &str, event_ids: &serde_json::Value) -> String {
    let first = event_ids
        .as_array()
        .and_then(|a| a.first())
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    format!(
        "/sessions/{}#ev-{}",
        url_component(session),
        url_component(first)
    )
}

/// A stored RFC 3339 time as `2026-11-24 00:43:14.052` (UTC, milliseconds).
pub(crate) fn time(rfc3339: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(rfc3339) {
        Ok(t) => t
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%d %H:%M:%S%.3f")
            .to_string(),
        Err(_) => rfc3339.to_string(),
    }
}

/// Nanoseconds since the epoch of a stored RFC 3339 time.
pub(crate) fn time_ns(rfc3339: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .and_then(|t| t.timestamp_nanos_opt())
}

/// Nanoseconds since the epoch as `2026-11-24 00:43` (UTC).
pub(crate) fn time_of_ns(ns: i64, with_seconds: bool) -> String {
    let t = chrono::DateTime::from_timestamp_nanos(ns);
    if with_seconds {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// Nanoseconds since the epoch as `2026-11-24 00:43:14.052` (UTC).
pub(crate) fn time_of_ns_ms(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns)
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string()
}

/// `1.2 kB`, `512 B`.
pub(crate) fn bytes(n: i64) -> String {
    const UNITS: [&str; 4] = ["kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut unit = "B";
    for u in UNITS {
        if v < 1000.0 {
            break;
        }
        v /= 1000.0;
        unit = u;
    }
    format!("{v:.1} {unit}")
}

/// A duration in milliseconds as `850 ms`, `12.3 s`, `4 min 2 s`.
pub(crate) fn duration_ms(ms: i64) -> String {
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms < 60_000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{} min {} s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

/// The badge of a decision: its word and CSS class.
pub(crate) fn decision(d: Option<&str>) -> Option<(&'static str, &'static str)> {
    match d? {
        "allow" => Some(("allowed", "allow")),
        "ask" => Some(("asked", "ask")),
        "deny" => Some(("denied", "deny")),
        "abort" => Some(("aborted", "abort")),
        _ => Some(("other", "other")),
    }
}

/// Text cut to `max` characters at a character boundary: the head, and the
/// whole text if anything was cut (for a "show more").
pub(crate) fn truncated(text: &str, max: usize) -> (String, Option<String>) {
    match text.char_indices().nth(max) {
        None => (text.to_string(), None),
        Some((cut, _)) => (format!("{}…", &text[..cut]), Some(text.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_a_person_expects() {
        assert_eq!(url_component("a b/c?d#e&f"), "a%20b%2Fc%3Fd%23e%26f");
        assert_eq!(url_component("call_1-x.y~z"), "call_1-x.y~z");
        assert_eq!(
            time("2026-11-24T00:43:14.052980481Z"),
            "2026-11-24 00:43:14.052"
        );
        assert_eq!(time("not a time"), "not a time");
        assert_eq!(time_ns("1970-01-01T00:00:01Z"), Some(1_000_000_000));
        assert_eq!(time_of_ns(90_000_000_000, false), "1970-01-01 00:01");
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1234), "1.2 kB");
        assert_eq!(bytes(5_600_000), "5.6 MB");
        assert_eq!(duration_ms(850), "850 ms");
        assert_eq!(duration_ms(12_345), "12.3 s");
        assert_eq!(duration_ms(242_000), "4 min 2 s");
        assert_eq!(decision(Some("deny")), Some(("denied", "deny")));
        assert_eq!(decision(None), None);
        assert_eq!(truncated("héllo", 10), ("héllo".to_string(), None));
        assert_eq!(
            truncated("héllo", 2),
            ("hé…".to_string(), Some("héllo".to_string()))
        );
    }
}
