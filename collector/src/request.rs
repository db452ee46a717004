//! One export request of any signal, and everything derived from it.

use arrow::error::ArrowError;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric;
use prost::Message as _;
use schemas::tables::{OTLP_LOGS, OTLP_METRICS, OTLP_SPANS};

use schemas::normalize::{from_logs, from_spans, to_batch};
use schemas::raw::{log_rows, metric_rows, span_rows};

use crate::wal::Signal;
use crate::wal::writer::TableBatches;

#[derive(Debug, Clone, PartialEq)]
pub enum ExportRequest {
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

impl ExportRequest {
    pub fn signal(&self) -> Signal {
        match self {
            ExportRequest::Traces(_) => Signal::Traces,
            ExportRequest::Logs(_) => Signal::Logs,
            ExportRequest::Metrics(_) => Signal::Metrics,
        }
    }

    pub fn decode_proto(signal: Signal, bytes: &[u8]) -> Result<Self, prost::DecodeError> {
        Ok(match signal {
            Signal::Traces => ExportRequest::Traces(ExportTraceServiceRequest::decode(bytes)?),
            Signal::Logs => ExportRequest::Logs(ExportLogsServiceRequest::decode(bytes)?),
            Signal::Metrics => ExportRequest::Metrics(ExportMetricsServiceRequest::decode(bytes)?),
        })
    }

    pub fn decode_json(signal: Signal, bytes: &[u8]) -> Result<Self, crate::otlp_json::JsonError> {
        use crate::otlp_json::{decode_logs, decode_metrics, decode_traces};
        Ok(match signal {
            Signal::Traces => ExportRequest::Traces(decode_traces(bytes)?),
            Signal::Logs => ExportRequest::Logs(decode_logs(bytes)?),
            Signal::Metrics => ExportRequest::Metrics(decode_metrics(bytes)?),
        })
    }

    pub fn encode_proto(&self) -> Vec<u8> {
        match self {
            ExportRequest::Traces(r) => r.encode_to_vec(),
            ExportRequest::Logs(r) => r.encode_to_vec(),
            ExportRequest::Metrics(r) => r.encode_to_vec(),
        }
    }

    /// Replaces secrets in every string value; returns how many values changed.
    pub fn redact(&mut self, redactor: &schemas::redact::Redactor) -> usize {
        match self {
            ExportRequest::Traces(r) => redactor.traces(r),
            ExportRequest::Logs(r) => redactor.logs(r),
            ExportRequest::Metrics(r) => redactor.metrics(r),
        }
    }

    /// Spans, log records or metric data points in the request.
    pub fn record_count(&self) -> usize {
        match self {
            ExportRequest::Traces(r) => r
                .resource_spans
                .iter()
                .flat_map(|r| &r.scope_spans)
                .map(|s| s.spans.len())
                .sum(),
            ExportRequest::Logs(r) => r
                .resource_logs
                .iter()
                .flat_map(|r| &r.scope_logs)
                .map(|s| s.log_records.len())
                .sum(),
            ExportRequest::Metrics(r) => r
                .resource_metrics
                .iter()
                .flat_map(|r| &r.scope_metrics)
                .flat_map(|s| &s.metrics)
                .map(|m| match &m.data {
                    None => 0,
                    Some(metric::Data::Gauge(g)) => g.data_points.len(),
                    Some(metric::Data::Sum(s)) => s.data_points.len(),
                    Some(metric::Data::Histogram(h)) => h.data_points.len(),
                    Some(metric::Data::ExponentialHistogram(h)) => h.data_points.len(),
                    Some(metric::Data::Summary(s)) => s.data_points.len(),
                })
                .sum(),
        }
    }

    /// The rows this request adds to each table. Deterministic: replaying the
    /// same request with the same `ingest_ns` yields the same rows.
    pub fn rows(&self, ingest_ns: i64) -> Result<TableBatches, ArrowError> {
        let mut out = Vec::new();
        match self {
            ExportRequest::Traces(r) => {
                if let Some(b) = span_rows(r, ingest_ns)? {
                    out.push((OTLP_SPANS, b));
                }
            }
            ExportRequest::Logs(r) => {
                if let Some(b) = log_rows(r, ingest_ns)? {
                    out.push((OTLP_LOGS, b));
                }
            }
            ExportRequest::Metrics(r) => {
                if let Some(b) = metric_rows(r, ingest_ns)? {
                    out.push((OTLP_METRICS, b));
                }
            }
        }
        let events = match self {
            ExportRequest::Traces(r) => from_spans(r, ingest_ns),
            ExportRequest::Logs(r) => from_logs(r, ingest_ns),
            ExportRequest::Metrics(_) => Vec::new(),
        };
        if let Some(b) = to_batch(&events)? {
            out.push((schemas::tables::AGENT_EVENTS, b));
        }
        Ok(out)
    }
}
