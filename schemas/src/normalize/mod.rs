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

use arrow::array::{ListBuilder, RecordBatch, StringBuilder};
use arrow::error::ArrowError;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde::Serialize;

use crate::attrs::otel;
use crate::columns::Columns as _;
use crate::events::AgentEventColumns;
use crate::otlp::{Attrs, hex_lower, render_text};
use crate::tables::PartitionCache;
use crate::time::{log_time, span_duration_ns, span_time};
use crate::vendor::Vendor;

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
            service_name: a.string(otel::SERVICE_NAME),
            service_version: a.string(otel::SERVICE_VERSION),
            host: a.first_of(&[otel::HOST_NAME, otel::HOST_ID]),
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
            duration_ms: span_duration_ns(s.start_time_unix_nano, s.end_time_unix_nano)
                .map(|d| d / 1_000_000),
            source: "otlp_spans",
            ..Default::default()
        }
    }

    pub fn status_is_error(&self) -> bool {
        self.span.status.as_ref().is_some_and(|s| s.code == 2)
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
            let service = origin.service_name.as_deref().unwrap_or("");
            for rec in &sl.log_records {
                let ctx = LogCtx {
                    origin: &origin,
                    rec,
                    attrs: Attrs(&rec.attributes),
                    ts: log_time(
                        rec.time_unix_nano,
                        rec.observed_time_unix_nano,
                        &rec.attributes,
                        ingest_ns,
                    ),
                };
                let ev = match Vendor::detect(service, scope_name, &rec.attributes) {
                    Vendor::Codex => codex::log_event(&ctx),
                    Vendor::ClaudeCode => claude::log_event(&ctx),
                    Vendor::GenAi | Vendor::Mcp | Vendor::OpenInference | Vendor::Otel => {
                        genai::log_event(&ctx)
                    }
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
            let service = origin.service_name.as_deref().unwrap_or("");
            let mut batch = Vec::new();
            let mut claude_spans = false;
            for span in &ss.spans {
                let ctx = SpanCtx {
                    origin: &origin,
                    span,
                    attrs: Attrs(&span.attributes),
                    ts: span_time(span.start_time_unix_nano, span.end_time_unix_nano, ingest_ns),
                };
                let ev = match Vendor::detect(service, scope_name, &span.attributes) {
                    Vendor::Codex => codex::span_event(&ctx),
                    Vendor::ClaudeCode => {
                        claude_spans = true;
                        claude::span_event(&ctx)
                    }
                    Vendor::GenAi | Vendor::Mcp | Vendor::OpenInference | Vendor::Otel => {
                        genai::span_event(&ctx)
                    }
                };
                batch.extend(ev);
            }
            if claude_spans {
                claude::link_children_to_tools(&mut batch);
            }
            out.extend(batch);
        }
    }
    out
}

/// Rows as an Arrow batch in the `agent_events` schema (`wal_seq` = 0, stamped
/// by the WAL writer).
pub fn to_batch(events: &[AgentEvent]) -> Result<Option<RecordBatch>, ArrowError> {
    if events.is_empty() {
        return Ok(None);
    }
    let mut b = AgentEventColumns::with_capacity(events.len());
    let mut parts = PartitionCache::default();
    let paths = |list: &mut ListBuilder<StringBuilder>, paths: &[String]| {
        if paths.is_empty() {
            list.append_null();
        } else {
            for p in paths {
                list.values().append_value(p);
            }
            list.append(true);
        }
    };
    for e in events {
        b.wal_seq.append_value(0);
        b.ts.append_value(e.ts);
        b.event_id.append_value(&e.event_id);
        b.session_id.append_option(e.session_id.as_deref());
        b.parent_session_id.append_option(e.parent_session_id.as_deref());
        b.turn_id.append_option(e.turn_id.as_deref());
        b.seq.append_option(e.seq);
        b.agent.append_option(e.agent.as_deref());
        b.agent_version.append_option(e.agent_version.as_deref());
        b.user_id.append_option(e.user_id.as_deref());
        b.host.append_option(e.host.as_deref());
        b.service_name.append_option(e.service_name.as_deref());
        b.kind.append_value(e.kind);
        b.event_name.append_option(e.event_name.as_deref());
        b.tool_name.append_option(e.tool_name.as_deref());
        b.tool_call_id.append_option(e.tool_call_id.as_deref());
        b.command.append_option(e.command.as_deref());
        paths(&mut b.paths_read, &e.paths_read);
        paths(&mut b.paths_written, &e.paths_written);
        b.decision.append_option(e.decision);
        b.decision_source.append_option(e.decision_source);
        b.outcome.append_option(e.outcome.as_deref());
        b.exit_code.append_option(e.exit_code);
        b.output_bytes.append_option(e.output_bytes);
        b.network_host.append_option(e.network_host.as_deref());
        b.network_decision.append_option(e.network_decision);
        b.mcp_server.append_option(e.mcp_server.as_deref());
        b.model.append_option(e.model.as_deref());
        b.input_tokens.append_option(e.input_tokens);
        b.output_tokens.append_option(e.output_tokens);
        b.duration_ms.append_option(e.duration_ms);
        b.text.append_option(e.text.as_deref());
        b.plan.append_option(e.plan.as_deref());
        b.trace_id.append_option(e.trace_id.as_deref());
        b.span_id.append_option(e.span_id.as_deref());
        b.parent_span_id.append_option(e.parent_span_id.as_deref());
        b.source.append_value(e.source);
        parts.append(&mut b.partition, e.ts);
    }
    b.finish().map(Some)
}

#[cfg(test)]
mod tests;
