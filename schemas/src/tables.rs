//! Arrow schemas of the stored tables.
//!
//! Every table starts with `wal_seq` (the WAL record the row came from; see
//! [`crate::hot::HotSnapshot`]) and ends with the Hive partition columns `date`
//! (`YYYY-MM-DD`) and `hour` (`HH`), UTC, derived from `ts`. The partition columns
//! live only in the directory names of Parquet files (`date=…/hour=…/`); rows in
//! memory carry them as ordinary columns so both sources union cleanly.
//!
//! Attribute maps are `Map<Utf8, Utf8>`: strings as sent, ints and doubles in
//! decimal, booleans as `true`/`false`, bytes as hex, arrays and key-value lists as
//! compact JSON. Duplicate keys are kept in the order sent (a map lookup returns
//! the first; see docs/tables.md). Span events, span links and metric details
//! that have no scalar shape are stored as JSON text.

use std::sync::{Arc, LazyLock};

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

pub const OTLP_SPANS: &str = "otlp_spans";
pub const OTLP_LOGS: &str = "otlp_logs";
pub const OTLP_METRICS: &str = "otlp_metrics";
pub const AGENT_EVENTS: &str = "agent_events";

/// Tables written by the collector, in a fixed order.
pub const ALL_TABLES: [&str; 4] = [OTLP_SPANS, OTLP_LOGS, OTLP_METRICS, AGENT_EVENTS];

pub const COL_WAL_SEQ: &str = "wal_seq";
pub const COL_TS: &str = "ts";
pub const COL_DATE: &str = "date";
pub const COL_HOUR: &str = "hour";
/// The columns that exist only as directory names in Parquet.
pub const PARTITION_COLUMNS: [&str; 2] = [COL_DATE, COL_HOUR];

pub fn ts_type() -> DataType {
    DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into()))
}

/// `Map<Utf8, Utf8>` with the field names `MapBuilder` uses.
pub fn attr_map_type() -> DataType {
    DataType::Map(
        Arc::new(Field::new(
            "entries",
            DataType::Struct(Fields::from(vec![
                Field::new("keys", DataType::Utf8, false),
                Field::new("values", DataType::Utf8, true),
            ])),
            false,
        )),
        false,
    )
}

fn utf8(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}
fn ts(name: &str) -> Field {
    Field::new(name, ts_type(), true)
}
fn map(name: &str) -> Field {
    Field::new(name, attr_map_type(), true)
}

fn with_envelope(body: Vec<Field>) -> SchemaRef {
    let mut fields = vec![
        Field::new(COL_WAL_SEQ, DataType::UInt64, false),
        Field::new(COL_TS, ts_type(), false),
    ];
    fields.extend(body);
    fields.extend([
        utf8("service_name"),
        utf8("vendor"),
        map("resource_attributes"),
        Field::new("resource_dropped_attributes_count", DataType::UInt32, true),
        utf8("resource_schema_url"),
        utf8("scope_name"),
        utf8("scope_version"),
        map("scope_attributes"),
        utf8("scope_schema_url"),
        Field::new(COL_DATE, DataType::Utf8, false),
        Field::new(COL_HOUR, DataType::Utf8, false),
    ]);
    Arc::new(Schema::new(fields))
}

/// One row per span. `ts` is the start time.
pub static SPANS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    with_envelope(vec![
        ts("end_ts"),
        Field::new("duration_ns", DataType::Int64, true),
        utf8("trace_id"),
        utf8("span_id"),
        utf8("parent_span_id"),
        utf8("trace_state"),
        Field::new("flags", DataType::UInt32, true),
        utf8("name"),
        utf8("kind"),
        utf8("status_code"),
        utf8("status_message"),
        map("attributes"),
        Field::new("dropped_attributes_count", DataType::UInt32, true),
        // JSON array of {time_unix_nano, name, attributes, dropped_attributes_count}
        utf8("events"),
        Field::new("dropped_events_count", DataType::UInt32, true),
        // JSON array of {trace_id, span_id, trace_state, flags, attributes, dropped_attributes_count}
        utf8("links"),
        Field::new("dropped_links_count", DataType::UInt32, true),
    ])
});

/// One row per log record. `ts` is `time_unix_nano`, else `observed_time_unix_nano`,
/// else the `event.timestamp` attribute, else the time Vigil received it.
pub static LOGS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    with_envelope(vec![
        Field::new("time_unix_nano", DataType::Int64, true),
        ts("observed_ts"),
        Field::new("severity_number", DataType::Int32, true),
        utf8("severity_text"),
        // a string body as sent; any other AnyValue as JSON
        utf8("body"),
        utf8("event_name"),
        utf8("trace_id"),
        utf8("span_id"),
        Field::new("flags", DataType::UInt32, true),
        map("attributes"),
        Field::new("dropped_attributes_count", DataType::UInt32, true),
    ])
});

/// One row per metric data point. `ts` is the point's `time_unix_nano`.
pub static METRICS_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    with_envelope(vec![
        ts("start_ts"),
        utf8("metric_name"),
        utf8("description"),
        utf8("unit"),
        // gauge | sum | histogram | exponential_histogram | summary
        utf8("metric_type"),
        // delta | cumulative | unspecified (null for gauges and summaries)
        utf8("temporality"),
        Field::new("is_monotonic", DataType::Boolean, true),
        Field::new("value_double", DataType::Float64, true),
        Field::new("value_int", DataType::Int64, true),
        Field::new("count", DataType::UInt64, true),
        Field::new("sum", DataType::Float64, true),
        Field::new("min", DataType::Float64, true),
        Field::new("max", DataType::Float64, true),
        Field::new(
            "bucket_counts",
            DataType::List(Arc::new(Field::new("item", DataType::UInt64, true))),
            true,
        ),
        Field::new(
            "explicit_bounds",
            DataType::List(Arc::new(Field::new("item", DataType::Float64, true))),
            true,
        ),
        // JSON: exponential-histogram buckets, summary quantiles
        utf8("details"),
        // JSON array of exemplars
        utf8("exemplars"),
        Field::new("flags", DataType::UInt32, true),
        map("attributes"),
        map("metric_metadata"),
    ])
});

/// Schema of a raw table by name.
pub fn raw_schema(table: &str) -> Option<SchemaRef> {
    match table {
        OTLP_SPANS => Some(Arc::clone(&SPANS_SCHEMA)),
        OTLP_LOGS => Some(Arc::clone(&LOGS_SCHEMA)),
        OTLP_METRICS => Some(Arc::clone(&METRICS_SCHEMA)),
        AGENT_EVENTS => Some(Arc::clone(&crate::events::AGENT_EVENTS_SCHEMA)),
        _ => None,
    }
}

/// The schema of the Parquet files: the table schema without the partition columns.
pub fn file_schema(table_schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<_> = table_schema
        .fields()
        .iter()
        .filter(|f| !PARTITION_COLUMNS.contains(&f.name().as_str()))
        .cloned()
        .collect();
    Arc::new(Schema::new_with_metadata(
        fields,
        table_schema.metadata().clone(),
    ))
}

/// `(date, hour)` partition values for a timestamp in ns, UTC.
pub fn partition_of(ts_ns: i64) -> (String, String) {
    let dt = chrono::DateTime::from_timestamp_nanos(ts_ns);
    (
        dt.format("%Y-%m-%d").to_string(),
        dt.format("%H").to_string(),
    )
}

/// Caches the partition strings for the last hour seen: rows mostly arrive in
/// time order, so this avoids formatting a date per row.
#[derive(Debug, Default)]
pub struct PartitionCache {
    hour_bucket: Option<i64>,
    date: String,
    hour: String,
}

const NS_PER_HOUR: i64 = 3_600_000_000_000;

impl PartitionCache {
    pub fn get(&mut self, ts_ns: i64) -> (&str, &str) {
        let bucket = ts_ns.div_euclid(NS_PER_HOUR);
        if self.hour_bucket != Some(bucket) {
            let (d, h) = partition_of(ts_ns);
            self.date = d;
            self.hour = h;
            self.hour_bucket = Some(bucket);
        }
        (&self.date, &self.hour)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_values_are_utc_date_and_hour() {
        // 2026-11-24T00:43:36Z
        assert_eq!(
            partition_of(1_795_481_016_460_000_000),
            ("2026-11-24".to_string(), "00".to_string())
        );
        let mut cache = PartitionCache::default();
        assert_eq!(cache.get(0), ("1970-01-01", "00"));
        assert_eq!(cache.get(NS_PER_HOUR * 25 + 5), ("1970-01-02", "01"));
        assert_eq!(cache.get(-1), ("1969-12-31", "23"));
    }

    #[test]
    fn file_schema_drops_partition_columns_only() {
        for t in ALL_TABLES {
            let full = raw_schema(t).unwrap();
            let file = file_schema(&full);
            assert_eq!(file.fields().len() + 2, full.fields().len());
            assert_eq!(file.field(0).name(), COL_WAL_SEQ);
            assert!(file.field_with_name(COL_DATE).is_err());
        }
    }
}
