//! The collector's own telemetry, exposed on `GET /metrics` in the OpenMetrics
//! text format (`prometheus-client`).
//!
//! Counted per request or per batch, never per record. Labels are bounded: the
//! signal, or the [`schemas::Status::label`] of an error, never a raw message.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct SignalLabel {
    signal: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct ErrorLabel {
    error_type: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerLabel {
    listener: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ConnectionCloseLabel {
    listener: &'static str,
    reason: &'static str,
}

/// What the connection layer counts for one listener (`otlp_grpc`, `otlp_http`,
/// `http`, `pg`); handed out by [`Metrics::listener`].
#[derive(Debug, Clone)]
pub struct ListenerMetrics {
    /// Connections open now.
    pub open: Gauge,
    /// Connections closed at once because the listener was at `--max-connections`.
    pub refused: Counter,
    /// Connections that did not finish the TLS handshake and protocol preface in time.
    pub handshake_timeouts: Counter,
    /// TLS handshakes that failed (a plain-text client, an untrusted client certificate).
    pub tls_failures: Counter,
    /// Connections closed after `--idle-timeout` without a request.
    pub idle_closes: Counter,
    /// Requests whose body did not arrive within `--body-timeout`.
    pub body_timeouts: Counter,
}

/// A counter family with one bounded label.
#[derive(Debug, Clone)]
pub(crate) struct ByLabel<L>(Family<L, Counter>);

impl ByLabel<SignalLabel> {
    pub(crate) fn add(&self, signal: &'static str, n: u64) {
        self.0.get_or_create(&SignalLabel { signal }).inc_by(n);
    }
}

impl ByLabel<ErrorLabel> {
    pub(crate) fn add(&self, error_type: &'static str, n: u64) {
        self.0.get_or_create(&ErrorLabel { error_type }).inc_by(n);
    }
    #[cfg(test)]
    pub(crate) fn get(&self, error_type: &'static str) -> u64 {
        self.0.get_or_create(&ErrorLabel { error_type }).get()
    }
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub(crate) intake_requests: ByLabel<SignalLabel>,
    pub(crate) intake_records: ByLabel<SignalLabel>,
    pub(crate) intake_rejected_records: ByLabel<SignalLabel>,
    pub(crate) intake_errors: ByLabel<ErrorLabel>,
    pub(crate) wal_fsyncs: Counter,
    pub(crate) wal_write_errors: Counter,
    auth_failures: Counter,
    pub(crate) quarantined_files: Counter,
    auth_refused: Counter,
    pub(crate) wal_bytes: Counter,
    pub(crate) flushes: Counter,
    pub(crate) flush_errors: Counter,
    pub(crate) parquet_files: Counter,
    pub(crate) parquet_rows: Counter,
    pub(crate) parquet_bytes: Counter,
    pub(crate) redacted_values: Counter,
    pub(crate) compactions: Counter,
    pub(crate) compaction_errors: Counter,
    pub(crate) compacted_files: Counter,
    pub(crate) compacted_bytes: Counter,
    pub(crate) buffer_rows: Gauge,
    pub(crate) buffer_bytes: Gauge,
    pub(crate) flushed_upto: Gauge,
    pub(crate) inflight_requests: Gauge,
    pub(crate) request_memory_bytes: Gauge,
    pub(crate) intake_memory_peak_bytes: Gauge,
    connections_open: Family<ListenerLabel, Gauge>,
    connections_refused: Family<ListenerLabel, Counter>,
    connections_closed: Family<ConnectionCloseLabel, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("vigil");
        fn family<L>(registry: &mut Registry, name: &str, help: &str) -> Family<L, Counter>
        where
            L: prometheus_client::encoding::EncodeLabelSet
                + Clone
                + std::hash::Hash
                + Eq
                + std::fmt::Debug
                + Send
                + Sync
                + 'static,
        {
            let f = Family::default();
            registry.register(name, help, f.clone());
            f
        }
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let r = &mut registry;
        Metrics {
            intake_requests: ByLabel(family(r, "intake_requests", "Export requests received")),
            intake_records: ByLabel(family(r, "intake_records", "Records acknowledged")),
            intake_rejected_records: ByLabel(family(
                r,
                "intake_rejected_records",
                "Records rejected by validation (partial success)",
            )),
            intake_errors: ByLabel(family(
                r,
                "intake_errors",
                "Requests answered with an error",
            )),
            wal_fsyncs: counter(r, "wal_fsyncs", "WAL group commits"),
            quarantined_files: counter(
                r,
                "quarantined_files",
                "Damaged WAL segments and Parquet files moved to data/quarantine at start-up",
            ),
            auth_failures: counter(
                r,
                "auth_failures",
                "Requests with a missing or wrong token (every surface)",
            ),
            auth_refused: counter(
                r,
                "auth_refused",
                "Requests refused unchecked: too many failed attempts from their address",
            ),
            wal_write_errors: counter(
                r,
                "wal_write_errors",
                "WAL writes, syncs or segment starts that failed (e.g. disk full)",
            ),
            wal_bytes: counter(r, "wal_bytes", "Bytes appended to the WAL"),
            flushes: counter(r, "flushes", "Flushes of the hot buffer to Parquet"),
            flush_errors: counter(r, "flush_errors", "Failed flushes (retried)"),
            parquet_files: counter(r, "parquet_files", "Parquet files written"),
            parquet_rows: counter(r, "parquet_rows", "Rows written to Parquet"),
            parquet_bytes: counter(r, "parquet_bytes", "Parquet bytes written"),
            redacted_values: counter(
                r,
                "redacted_values",
                "Attribute values in which a secret was redacted",
            ),
            compactions: counter(r, "compactions", "Compactions (files merged into one)"),
            compaction_errors: counter(r, "compaction_errors", "Failed compactions (retried)"),
            compacted_files: counter(r, "compacted_files", "Parquet files merged away"),
            compacted_bytes: counter(r, "compacted_bytes", "Parquet bytes written by compaction"),
            buffer_rows: gauge(r, "buffer_rows", "Acknowledged rows not yet in Parquet"),
            buffer_bytes: gauge(r, "buffer_bytes", "Memory held by unflushed rows"),
            flushed_upto: gauge(
                r,
                "wal_flushed_upto",
                "Highest WAL sequence number in Parquet",
            ),
            inflight_requests: gauge(
                r,
                "intake_inflight_requests",
                "Requests being received or decoded now (see --max-inflight-requests)",
            ),
            request_memory_bytes: gauge(
                r,
                "intake_request_memory_bytes",
                "Memory reserved by requests being decoded and written (see --memory-limit)",
            ),
            intake_memory_peak_bytes: gauge(
                r,
                "intake_memory_peak_bytes",
                "Most memory intake accounted for at once since start: requests' reservations plus unflushed rows",
            ),
            connections_open: {
                let f = Family::default();
                r.register(
                    "connections_open",
                    "Connections open now, per listener",
                    f.clone(),
                );
                f
            },
            connections_refused: family(
                r,
                "connections_refused",
                "Connections closed at once: the listener was at --max-connections",
            ),
            connections_closed: family(
                r,
                "connections_closed",
                "Connections the server closed early, by reason (handshake_timeout, tls_error, idle, body_timeout)",
            ),
            registry,
        }
    }

    /// The connection counts of one listener.
    pub fn listener(&self, listener: &'static str) -> ListenerMetrics {
        let closed = |reason| {
            self.connections_closed
                .get_or_create(&ConnectionCloseLabel { listener, reason })
                .clone()
        };
        ListenerMetrics {
            open: self
                .connections_open
                .get_or_create(&ListenerLabel { listener })
                .clone(),
            refused: self
                .connections_refused
                .get_or_create(&ListenerLabel { listener })
                .clone(),
            handshake_timeouts: closed("handshake_timeout"),
            tls_failures: closed("tls_error"),
            idle_closes: closed("idle"),
            body_timeouts: closed("body_timeout"),
        }
    }

    /// The counters [`schemas::auth::Tokens::counting_into`] counts into.
    pub fn auth_counters(&self) -> (Counter, Counter) {
        (self.auth_failures.clone(), self.auth_refused.clone())
    }

    /// Write-path totals so far (benchmarks and tests read them).
    pub fn totals(&self) -> WriteTotals {
        WriteTotals {
            wal_fsyncs: self.wal_fsyncs.get(),
            wal_bytes: self.wal_bytes.get(),
            parquet_files: self.parquet_files.get(),
            parquet_rows: self.parquet_rows.get(),
            parquet_bytes: self.parquet_bytes.get(),
        }
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }
}

/// Counters of the write path, read at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteTotals {
    pub wal_fsyncs: u64,
    pub wal_bytes: u64,
    pub parquet_files: u64,
    pub parquet_rows: u64,
    pub parquet_bytes: u64,
}

/// The Content-Type of [`Metrics::render`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_every_family_with_its_labels() {
        let m = Metrics::new();
        m.intake_requests.add("logs", 2);
        m.intake_errors.add("overloaded", 1);
        m.wal_fsyncs.inc();
        m.buffer_rows.set(7);
        let text = m.render();
        for line in [
            "vigil_intake_requests_total{signal=\"logs\"} 2",
            "vigil_intake_errors_total{error_type=\"overloaded\"} 1",
            "vigil_wal_fsyncs_total 1",
            "vigil_buffer_rows 7",
            "# EOF",
        ] {
            assert!(text.contains(line), "{line} missing in\n{text}");
        }
        assert_eq!(m.intake_errors.get("overloaded"), 1);
    }
}
