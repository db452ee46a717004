//! `agent_events` rows for a request (the mapping itself lives in `schemas::normalize`).

use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use schemas::normalize::{from_logs, from_spans, to_batch};

use crate::request::ExportRequest;

pub fn event_rows(req: &ExportRequest, ingest_ns: i64) -> Result<Option<RecordBatch>, ArrowError> {
    let events = match req {
        ExportRequest::Traces(r) => from_spans(r, ingest_ns),
        ExportRequest::Logs(r) => from_logs(r, ingest_ns),
        ExportRequest::Metrics(_) => return Ok(None),
    };
    to_batch(&events)
}
