//! Intake counters, exposed in Prometheus text format on `GET /metrics`.
//!
//! Counted per request or per batch, never per record. Error labels are the
//! bounded [`schemas::Status::label`] values, never raw messages.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use std::collections::BTreeMap;

#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.add(1);
    }
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A counter with one bounded label.
#[derive(Debug, Default)]
pub struct LabeledCounter(Mutex<BTreeMap<String, u64>>);

impl LabeledCounter {
    pub fn add(&self, label: &str, n: u64) {
        *self.0.lock().entry(label.to_string()).or_default() += n;
    }
    pub fn get(&self, label: &str) -> u64 {
        self.0.lock().get(label).copied().unwrap_or(0)
    }
}

#[derive(Debug, Default)]
pub struct Metrics {
    pub intake_requests: LabeledCounter,
    pub intake_records: LabeledCounter,
    pub intake_rejected_records: LabeledCounter,
    pub intake_errors: LabeledCounter,
    pub wal_fsyncs: Counter,
    pub wal_bytes: Counter,
    pub flushes: Counter,
    pub parquet_files: Counter,
    pub parquet_rows: Counter,
    pub parquet_bytes: Counter,
    pub flush_errors: Counter,
    pub redacted_values: Counter,
}

impl Metrics {
    pub fn render(&self, gauges: &[(&str, &str, u64)]) -> String {
        let mut out = String::new();
        let labeled =
            |out: &mut String, name: &str, help: &str, label: &str, c: &LabeledCounter| {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
                for (k, v) in c.0.lock().iter() {
                    let _ = writeln!(out, "{name}{{{label}=\"{k}\"}} {v}");
                }
            };
        labeled(
            &mut out,
            "vigil_intake_requests_total",
            "Export requests received.",
            "signal",
            &self.intake_requests,
        );
        labeled(
            &mut out,
            "vigil_intake_records_total",
            "Records acknowledged.",
            "signal",
            &self.intake_records,
        );
        labeled(
            &mut out,
            "vigil_intake_rejected_records_total",
            "Records rejected by validation (partial success).",
            "signal",
            &self.intake_rejected_records,
        );
        labeled(
            &mut out,
            "vigil_intake_errors_total",
            "Requests answered with an error.",
            "error_type",
            &self.intake_errors,
        );
        for (name, help, c) in [
            (
                "vigil_wal_fsyncs_total",
                "WAL group commits.",
                &self.wal_fsyncs,
            ),
            (
                "vigil_wal_bytes_total",
                "Bytes appended to the WAL.",
                &self.wal_bytes,
            ),
            (
                "vigil_flushes_total",
                "Flushes of the hot buffer to Parquet.",
                &self.flushes,
            ),
            (
                "vigil_flush_errors_total",
                "Failed flushes (retried).",
                &self.flush_errors,
            ),
            (
                "vigil_parquet_files_total",
                "Parquet files written.",
                &self.parquet_files,
            ),
            (
                "vigil_parquet_rows_total",
                "Rows written to Parquet.",
                &self.parquet_rows,
            ),
            (
                "vigil_parquet_bytes_total",
                "Parquet bytes written.",
                &self.parquet_bytes,
            ),
            (
                "vigil_redacted_values_total",
                "Attribute values in which a secret was redacted.",
                &self.redacted_values,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                c.get()
            );
        }
        for (name, help, v) in gauges {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {v}");
        }
        out
    }
}
