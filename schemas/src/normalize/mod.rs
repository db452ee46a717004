//! Vendor telemetry → `agent_events` rows. Pure: the same request and ingest
//! time always give the same rows (replay and `vigil reindex` rely on it).
//!
//! One raw record gives at most one event (a few give none: model-traffic
//! chatter, start-up phases). Facts spread over several records of one action
//! (decision, span, result) share `tool_call_id` and are merged by the
//! `agent_actions` view, because they arrive in any order and in different
//! requests. Which vendor a record comes from is decided by its resource and
//! scope ([`Vendor::detect`]); see docs/vendors.md for every field.

mod claude;
mod codex;
mod genai;
pub mod shell;
pub mod tools;
pub mod values;

use std::sync::Arc;

use arrow::array::{
    ArrayRef, Int32Builder, Int64Builder, ListBuilder, RecordBatch, StringBuilder,
    TimestampNanosecondBuilder, UInt64Array,
};
use arrow::error::ArrowError;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde::Serialize;

use crate::events::AGENT_EVENTS_SCHEMA;
use crate::otlp::{Attrs, hex_lower, render_text};
use crate::tables::PartitionCache;

/// One `agent_events` row.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct AgentEvent {
    pub ts: i64,
    pub event_id: String,
    pub session_id: Option<String>,
    pub parent_session_id: Option<String>,
    pub turn_id: Option<String>,
    pub seq: Option<i64>,
    pub agent: Option<String>,
    pub agent_version: Option<String>,
    pub user_id: Option<String>,
    pub host: Option<String>,
    pub service_name: Option<String>,
    pub kind: &'static str,
    pub event_name: Option<String>,
    pub tool_name: Option<String>,
    pub tool_call_id: Option<String>,
    pub command: Option<String>,
    pub paths_read: Vec<String>,
    pub paths_written: Vec<String>,
    pub decision: Option<&'static str>,
    pub decision_source: Option<&'static str>,
    pub outcome: Option<String>,
    pub exit_code: Option<i32>,
    pub output_bytes: Option<i64>,
    pub network_host: Option<String>,
    pub network_decision: Option<&'static str>,
    pub mcp_server: Option<String>,
    pub model: Option<String>,
    pub input_tokens: Option<i64>,
    pub output_tokens: Option<i64>,
    pub duration_ms: Option<i64>,
    pub text: Option<String>,
    pub plan: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub parent_span_id: Option<String>,
    pub source: &'static str,
}

impl AgentEvent {
    /// Takes what a tool call's input says: command, paths, first network host, plan.
    pub(crate) fn apply_tool_facts(&mut self, f: tools::ToolFacts) {
        self.command = f.command;
        self.paths_read = f.paths_read;
        self.paths_written = f.paths_written;
        self.network_host = f.network_hosts.into_iter().next();
        if let Some(plan) = f.plan {
            self.kind = crate::events::kind::PLAN_UPDATE;
            self.plan = Some(plan.to_string());
            self.text = f.plan_text;
        }
    }
}

/// Which producer's conventions a record follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Codex,
    ClaudeCode,
    /// GenAI / MCP semantic conventions, or OpenInference, from any app.
    GenAi,
    Unknown,
}

impl Vendor {
    pub fn detect(service_name: &str, scope_name: &str) -> Vendor {
        if service_name.starts_with("codex") || scope_name.starts_with("codex") {
            Vendor::Codex
        } else if service_name == "claude-code"
            || scope_name.starts_with("com.anthropic.claude_code")
        {
            Vendor::ClaudeCode
        } else {
            Vendor::GenAi
        }
    }
}

/// Resource-level facts shared by every record of a resource.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origin {
    pub service_name: Option<String>,
    pub service_version: Option<String>,
    pub host: Option<String>,
}

impl Origin {
    fn new(resource: &[KeyValue]) -> Self {
        let a = Attrs(resource);
        Origin {
            service_name: a.string("service.name"),
            service_version: a.string("service.version"),
            host: a.first_of(&["host.name", "host.id"]),
        }
    }
}

fn hex_opt(id: &[u8]) -> Option<String> {
    (!id.is_empty() && id.iter().any(|b| *b != 0)).then(|| hex_lower(id))
}

/// Hashes length-prefixed parts, so `["ab", "c"]` and `["a", "bc"]` differ.
#[derive(Default)]
struct IdHasher(xxhash_rust::xxh3::Xxh3);

impl IdHasher {
    fn part(&mut self, p: &[u8]) -> &mut Self {
        self.0.update(&(p.len() as u64).to_le_bytes());
        self.0.update(p);
        self
    }
    /// The 128-bit XXH3 digest, hex.
    fn finish(&self) -> String {
        hex_lower(&self.0.digest128().to_be_bytes())
    }
}

/// A stable id over the parts. XXH3-128: not cryptographic (ids only deduplicate
/// resends), stable across versions, and cheap enough to hash every record at intake.
pub fn stable_id(parts: &[&[u8]]) -> String {
    let mut h = IdHasher::default();
    for p in parts {
        h.part(p);
    }
    h.finish()
}

/// The identity of a log record: everything it carries, in order. Values are
/// hashed in their text form so a record rebuilt from the raw tables
/// (`vigil reindex`) gets the same id.
fn log_record_id(rec: &LogRecord) -> String {
    let mut h = IdHasher::default();
    h.part(b"log")
        .part(&rec.trace_id)
        .part(&rec.span_id)
        .part(&rec.time_unix_nano.to_le_bytes())
        .part(&rec.observed_time_unix_nano.to_le_bytes())
        .part(rec.event_name.as_bytes());
    let mut scratch = String::new();
    let mut text_of =
        |v: &opentelemetry_proto::tonic::common::v1::AnyValue, h: &mut IdHasher| match &v.value {
            Some(opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s)) => {
                h.part(s.as_bytes());
            }
            _ => {
                scratch.clear();
                render_text(v, &mut scratch);
                h.part(scratch.as_bytes());
            }
        };
    for kv in &rec.attributes {
        h.part(kv.key.as_bytes());
        match &kv.value {
            Some(v) => text_of(v, &mut h),
            None => {
                h.part(b"");
            }
        }
    }
    if let Some(b) = &rec.body {
        text_of(b, &mut h);
    }
    h.finish()
}

/// One log record with what every mapper needs.
pub(crate) struct LogCtx<'a> {
    pub origin: &'a Origin,
    pub rec: &'a LogRecord,
    pub attrs: Attrs<'a>,
    pub ts: i64,
}

impl LogCtx<'_> {
    /// An event of `kind` with the record's identity, time and links filled in.
    pub fn event(&self, kind: &'static str, event_name: Option<String>) -> AgentEvent {
        AgentEvent {
            ts: self.ts,
            event_id: log_record_id(self.rec),
            kind,
            event_name,
            service_name: self.origin.service_name.clone(),
            host: self.origin.host.clone(),
            trace_id: hex_opt(&self.rec.trace_id),
            span_id: hex_opt(&self.rec.span_id),
            source: "otlp_logs",
            ..Default::default()
        }
    }
}

/// One span.
pub(crate) struct SpanCtx<'a> {
    pub origin: &'a Origin,
    pub span: &'a Span,
    pub attrs: Attrs<'a>,
    pub ts: i64,
}

impl SpanCtx<'_> {
    pub fn event(&self, kind: &'static str) -> AgentEvent {
        let s = self.span;
        AgentEvent {
            ts: self.ts,
            event_id: stable_id(&[b"span", &s.trace_id, &s.span_id]),
            kind,
            event_name: Some(s.name.clone()),
            service_name: self.origin.service_name.clone(),
            host: self.origin.host.clone(),
            trace_id: hex_opt(&s.trace_id),
            span_id: hex_opt(&s.span_id),
            parent_span_id: hex_opt(&s.parent_span_id),
            duration_ms: (s.end_time_unix_nano >= s.start_time_unix_nano
                && s.start_time_unix_nano > 0)
                .then(|| ((s.end_time_unix_nano - s.start_time_unix_nano) / 1_000_000) as i64),
            source: "otlp_spans",
            ..Default::default()
        }
    }

    pub fn status_is_error(&self) -> bool {
        self.span.status.as_ref().is_some_and(|s| s.code == 2)
    }
}

fn ns(t: u64) -> i64 {
    i64::try_from(t).unwrap_or(i64::MAX)
}

/// Time of a log record: its time, else observed time, else `event.timestamp`,
/// else when Vigil received it.
pub fn log_time(rec: &LogRecord, ingest_ns: i64) -> i64 {
    if rec.time_unix_nano > 0 {
        ns(rec.time_unix_nano)
    } else if rec.observed_time_unix_nano > 0 {
        ns(rec.observed_time_unix_nano)
    } else {
        Attrs(&rec.attributes)
            .str("event.timestamp")
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(&s).ok())
            .and_then(|d| d.timestamp_nanos_opt())
            .unwrap_or(ingest_ns)
    }
}

/// `agent_events` rows for a logs request.
pub fn from_logs(req: &ExportLogsServiceRequest, ingest_ns: i64) -> Vec<AgentEvent> {
    let mut out = Vec::new();
    for rl in &req.resource_logs {
        let resource = rl.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        let origin = Origin::new(resource);
        for sl in &rl.scope_logs {
            let scope_name = sl.scope.as_ref().map_or("", |s| s.name.as_str());
            let vendor = Vendor::detect(origin.service_name.as_deref().unwrap_or(""), scope_name);
            for rec in &sl.log_records {
                let ctx = LogCtx {
                    origin: &origin,
                    rec,
                    attrs: Attrs(&rec.attributes),
                    ts: log_time(rec, ingest_ns),
                };
                let ev = match vendor {
                    Vendor::Codex => codex::log_event(&ctx),
                    Vendor::ClaudeCode => claude::log_event(&ctx),
                    Vendor::GenAi | Vendor::Unknown => genai::log_event(&ctx),
                };
                out.extend(ev);
            }
        }
    }
    out
}

/// `agent_events` rows for a traces request.
pub fn from_spans(req: &ExportTraceServiceRequest, ingest_ns: i64) -> Vec<AgentEvent> {
    let mut out = Vec::new();
    for rs in &req.resource_spans {
        let resource = rs.resource.as_ref().map_or(&[][..], |r| &r.attributes[..]);
        let origin = Origin::new(resource);
        for ss in &rs.scope_spans {
            let scope_name = ss.scope.as_ref().map_or("", |s| s.name.as_str());
            let vendor = Vendor::detect(origin.service_name.as_deref().unwrap_or(""), scope_name);
            let mut batch = Vec::new();
            for span in &ss.spans {
                let start = ns(span.start_time_unix_nano);
                let ts = if start > 0 { start } else { ingest_ns };
                let ctx = SpanCtx {
                    origin: &origin,
                    span,
                    attrs: Attrs(&span.attributes),
                    ts,
                };
                let ev = match vendor {
                    Vendor::Codex => codex::span_event(&ctx),
                    Vendor::ClaudeCode => claude::span_event(&ctx),
                    Vendor::GenAi | Vendor::Unknown => genai::span_event(&ctx),
                };
                batch.extend(ev);
            }
            if vendor == Vendor::ClaudeCode {
                claude::link_children_to_tools(&mut batch);
            }
            out.extend(batch);
        }
    }
    out
}

/// Rows as an Arrow batch in the `agent_events` schema (`wal_seq` = 0).
pub fn to_batch(events: &[AgentEvent]) -> Result<Option<RecordBatch>, ArrowError> {
    if events.is_empty() {
        return Ok(None);
    }
    let n = events.len();
    let mut ts = TimestampNanosecondBuilder::with_capacity(n);
    let mut strs: Vec<StringBuilder> = (0..STRING_COLUMNS).map(|_| StringBuilder::new()).collect();
    let mut seq = Int64Builder::new();
    let mut paths_read = ListBuilder::new(StringBuilder::new());
    let mut paths_written = ListBuilder::new(StringBuilder::new());
    let mut exit_code = Int32Builder::new();
    let mut ints: Vec<Int64Builder> = (0..4).map(|_| Int64Builder::new()).collect();
    let mut parts = PartitionCache::default();
    let mut date = StringBuilder::new();
    let mut hour = StringBuilder::new();
    for e in events {
        ts.append_value(e.ts);
        seq.append_option(e.seq);
        for (b, v) in strs.iter_mut().zip(string_values(e)) {
            b.append_option(v);
        }
        for (list, paths) in [
            (&mut paths_read, &e.paths_read),
            (&mut paths_written, &e.paths_written),
        ] {
            if paths.is_empty() {
                list.append_null();
            } else {
                for p in paths {
                    list.values().append_value(p);
                }
                list.append(true);
            }
        }
        exit_code.append_option(e.exit_code);
        for (b, v) in ints.iter_mut().zip([
            e.output_bytes,
            e.input_tokens,
            e.output_tokens,
            e.duration_ms,
        ]) {
            b.append_option(v);
        }
        let (d, h) = parts.get(e.ts);
        date.append_value(d);
        hour.append_value(h);
    }
    let mut s = strs
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef);
    let mut i = ints
        .into_iter()
        .map(|mut b| Arc::new(b.finish()) as ArrayRef);
    let mut next_s = || s.next().expect("string column");
    let mut next_i = || i.next().expect("int column");
    // column order of AGENT_EVENTS_SCHEMA
    let cols: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from(vec![0u64; n])),
        Arc::new(ts.finish().with_timezone("UTC")),
        next_s(), // event_id
        next_s(), // session_id
        next_s(), // parent_session_id
        next_s(), // turn_id
        Arc::new(seq.finish()),
        next_s(), // agent
        next_s(), // agent_version
        next_s(), // user_id
        next_s(), // host
        next_s(), // service_name
        next_s(), // kind
        next_s(), // event_name
        next_s(), // tool_name
        next_s(), // tool_call_id
        next_s(), // command
        Arc::new(paths_read.finish()),
        Arc::new(paths_written.finish()),
        next_s(), // decision
        next_s(), // decision_source
        next_s(), // outcome
        Arc::new(exit_code.finish()),
        next_i(), // output_bytes
        next_s(), // network_host
        next_s(), // network_decision
        next_s(), // mcp_server
        next_s(), // model
        next_i(), // input_tokens
        next_i(), // output_tokens
        next_i(), // duration_ms
        next_s(), // text
        next_s(), // plan
        next_s(), // trace_id
        next_s(), // span_id
        next_s(), // parent_span_id
        next_s(), // source
        Arc::new(date.finish()),
        Arc::new(hour.finish()),
    ];
    RecordBatch::try_new(Arc::clone(&AGENT_EVENTS_SCHEMA), cols).map(Some)
}

const STRING_COLUMNS: usize = 27;

/// The string columns of a row, in schema order.
fn string_values(e: &AgentEvent) -> [Option<&str>; STRING_COLUMNS] {
    [
        Some(e.event_id.as_str()),
        e.session_id.as_deref(),
        e.parent_session_id.as_deref(),
        e.turn_id.as_deref(),
        e.agent.as_deref(),
        e.agent_version.as_deref(),
        e.user_id.as_deref(),
        e.host.as_deref(),
        e.service_name.as_deref(),
        Some(e.kind),
        e.event_name.as_deref(),
        e.tool_name.as_deref(),
        e.tool_call_id.as_deref(),
        e.command.as_deref(),
        e.decision,
        e.decision_source,
        e.outcome.as_deref(),
        e.network_host.as_deref(),
        e.network_decision,
        e.mcp_server.as_deref(),
        e.model.as_deref(),
        e.text.as_deref(),
        e.plan.as_deref(),
        e.trace_id.as_deref(),
        e.span_id.as_deref(),
        e.parent_span_id.as_deref(),
        Some(e.source),
    ]
}

#[cfg(test)]
mod tests;
