//! One export request of any signal, and everything derived from it.

use arrow::error::ArrowError;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
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
        use schemas::otlp::{data_point_count, record_count, scopes};
        match self {
            ExportRequest::Traces(r) => record_count(&r.resource_spans),
            ExportRequest::Logs(r) => record_count(&r.resource_logs),
            ExportRequest::Metrics(r) => scopes(&r.resource_metrics)
                .flat_map(|(_, metrics)| metrics)
                .map(data_point_count)
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
