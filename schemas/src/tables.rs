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

use std::sync::Arc;

use arrow::array::StringBuilder;
use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};

use crate::columns::{
    AttrMap, Boolean, Columns, Float64, Int32, Int64, List, Required, Timestamp, UInt32, UInt64,
    Utf8,
};

pub const OTLP_SPANS: &str = "otlp_spans";
pub const OTLP_LOGS: &str = "otlp_logs";
pub const OTLP_METRICS: &str = "otlp_metrics";
pub const AGENT_EVENTS: &str = "agent_events";

pub use crate::findings::FINDINGS;

/// Tables written by the collector, in a fixed order: the raw tables and
/// `agent_events` from intake, `findings` from the detector.
/// The tables filled from OTLP requests.
pub const INTAKE_TABLES: [&str; 4] = [OTLP_SPANS, OTLP_LOGS, OTLP_METRICS, AGENT_EVENTS];
/// Every stored table: the intake's and the detector's `findings`.
pub const ALL_TABLES: [&str; 5] = [OTLP_SPANS, OTLP_LOGS, OTLP_METRICS, AGENT_EVENTS, FINDINGS];

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

/// The Hive partition of a row, from its `ts` (UTC): last in every table. Keeps
/// the strings of the last hour seen, since rows mostly arrive in time order.
#[derive(Debug)]
pub struct PartitionColumns {
    pub date: StringBuilder,
    pub hour: StringBuilder,
    cache: PartitionCache,
}

impl PartitionColumns {
    /// Appends the partition of `ts_ns`.
    pub fn append_ts(&mut self, ts_ns: i64) {
        let (d, h) = self.cache.get(ts_ns);
        self.date.append_value(d);
        self.hour.append_value(h);
    }
}

impl crate::columns::Fill<i64> for PartitionColumns {
    fn fill(&mut self, ts_ns: i64) {
        self.append_ts(ts_ns)
    }
}

impl Columns for PartitionColumns {
    fn with_capacity(rows: usize) -> Self {
        PartitionColumns {
            date: StringBuilder::with_capacity(rows, rows * 10),
            hour: StringBuilder::with_capacity(rows, rows * 2),
            cache: PartitionCache::default(),
        }
    }
    fn fields(out: &mut Vec<Field>) {
        out.push(Field::new(COL_DATE, DataType::Utf8, false));
        out.push(Field::new(COL_HOUR, DataType::Utf8, false));
    }
    fn finish_into(&mut self, out: &mut Vec<arrow::array::ArrayRef>) {
        out.push(Arc::new(self.date.finish()));
        out.push(Arc::new(self.hour.finish()));
    }
    fn schema() -> SchemaRef {
        Arc::new(Schema::new(Self::field_list()))
    }
}

crate::columns! {
    /// What sent a raw record, and when Vigil received it.
    pub struct EnvelopeColumns {
        service_name: Utf8,
        vendor: Utf8,
        resource_attributes: AttrMap,
        resource_dropped_attributes_count: UInt32,
        resource_schema_url: Utf8,
        scope_name: Utf8,
        scope_version: Utf8,
        scope_attributes: AttrMap,
        scope_schema_url: Utf8,
        /// When Vigil received the request (the fallback for records without a time).
        received_ts: Timestamp,
    }
    then partition: PartitionColumns
}

crate::columns! {
    /// `otlp_spans`: one row per span. `ts` is the start time (see [`crate::time::span_time`]).
    pub struct SpanColumns {
        wal_seq: Required<UInt64>,
        ts: Required<Timestamp>,
        end_ts: Timestamp,
        duration_ns: Int64,
        trace_id: Utf8,
        span_id: Utf8,
        parent_span_id: Utf8,
        trace_state: Utf8,
        flags: UInt32,
        name: Utf8,
        kind: Utf8,
        status_code: Utf8,
        status_message: Utf8,
        attributes: AttrMap,
        dropped_attributes_count: UInt32,
        /// JSON array of {time_unix_nano, name, attributes, dropped_attributes_count}
        events: Utf8,
        dropped_events_count: UInt32,
        /// JSON array of {trace_id, span_id, trace_state, flags, attributes, dropped_attributes_count}
        links: Utf8,
        dropped_links_count: UInt32,
    }
    then envelope: EnvelopeColumns
}

crate::columns! {
    /// `otlp_logs`: one row per log record. `ts` from [`crate::time::log_time`].
    pub struct LogColumns {
        wal_seq: Required<UInt64>,
        ts: Required<Timestamp>,
        time_unix_nano: Int64,
        observed_ts: Timestamp,
        severity_number: Int32,
        severity_text: Utf8,
        /// a string body as sent; any other AnyValue as JSON
        body: Utf8,
        event_name: Utf8,
        trace_id: Utf8,
        span_id: Utf8,
        flags: UInt32,
        attributes: AttrMap,
        dropped_attributes_count: UInt32,
    }
    then envelope: EnvelopeColumns
}

crate::columns! {
    /// `otlp_metrics`: one row per data point. `ts` from [`crate::time::point_time`].
    pub struct MetricColumns {
        wal_seq: Required<UInt64>,
        ts: Required<Timestamp>,
        start_ts: Timestamp,
        metric_name: Utf8,
        description: Utf8,
        unit: Utf8,
        /// gauge | sum | histogram | exponential_histogram | summary
        metric_type: Utf8,
        /// delta | cumulative | unspecified (null for gauges and summaries)
        temporality: Utf8,
        is_monotonic: Boolean,
        value_double: Float64,
        value_int: Int64,
        count: UInt64,
        sum: Float64,
        min: Float64,
        max: Float64,
        bucket_counts: List<UInt64>,
        explicit_bounds: List<Float64>,
        /// JSON: exponential-histogram buckets, summary quantiles
        details: Utf8,
        /// JSON array of exemplars
        exemplars: Utf8,
        flags: UInt32,
        attributes: AttrMap,
        metric_metadata: AttrMap,
    }
    then envelope: EnvelopeColumns
}

/// Schema of a raw table by name.
pub fn raw_schema(table: &str) -> Option<SchemaRef> {
    match table {
        OTLP_SPANS => Some(SpanColumns::schema()),
        OTLP_LOGS => Some(LogColumns::schema()),
        OTLP_METRICS => Some(MetricColumns::schema()),
        AGENT_EVENTS => Some(crate::events::AgentEventColumns::schema()),
        FINDINGS => Some(crate::findings::FindingColumns::schema()),
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
