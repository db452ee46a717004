//! Vendor telemetry → `agent_events` rows. Pure: the same request and ingest
//! time always give the same rows (replay and `vigil reindex` rely on it).
//!
//! One raw record gives at most one event (a few give none: model-traffic
//! chatter, start-up phases, records that repeat another). Facts spread over
//! several records of one action (decision, span, result) share `tool_call_id`
//! and are merged by the `agent_actions` view, because they arrive in any order
//! and in different requests. Where a record lacks the id or the session that
//! another record of the same request gives (GenAI apps, Claude's child spans),
//! the request is read twice: once to collect, once to build the rows. Rows of a
//! request that repeat each other (same session and event id) are kept once, the
//! earliest. Which vendor a record comes from is decided by its resource and
//! scope ([`Vendor::detect`]); see docs/vendors.md for every field.

mod claude;
mod codex;
mod genai;
pub mod model_calls;
pub mod shell;
pub mod tools;
pub mod values;

use arrow::array::RecordBatch;
use arrow::error::ArrowError;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::trace::v1::Span;

use crate::attrs::otel;
use crate::columns::Columns as _;
use crate::events::AgentEventColumns;
use crate::otlp::{Attrs, RecordOf, ResourceLevel, hex_lower, render_text, scopes};
use crate::tables;
use crate::time::{log_time, span_duration_ns, span_time};
use crate::vendor::Vendor;

pub use crate::events::AgentEvent;

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

/// One record (a log record or a span) with what every mapper needs.
pub(crate) struct RecordCtx<'a, R> {
    pub origin: &'a Origin,
    pub record: &'a R,
    pub attrs: Attrs<'a>,
    pub ts: i64,
}

pub(crate) type LogCtx<'a> = RecordCtx<'a, LogRecord>;
pub(crate) type SpanCtx<'a> = RecordCtx<'a, Span>;

impl<R> RecordCtx<'_, R> {
    /// An event of `kind` with the record's time, origin and ids filled in.
    fn base(&self, kind: &'static str, event_id: String, ids: (&[u8], &[u8])) -> AgentEvent {
        AgentEvent {
            ts: self.ts,
            event_id,
            kind,
            service_name: self.origin.service_name.clone(),
            host: self.origin.host.clone(),
            trace_id: hex_opt(ids.0),
            span_id: hex_opt(ids.1),
            ..Default::default()
        }
    }
}

impl LogCtx<'_> {
    /// An event of `kind` with the record's identity, time and links filled in.
    pub fn event(&self, kind: &'static str, event_name: Option<String>) -> AgentEvent {
        let r = self.record;
        AgentEvent {
            event_name,
            source: tables::OTLP_LOGS,
            ..self.base(kind, log_record_id(r), (&r.trace_id, &r.span_id))
        }
    }
}

impl SpanCtx<'_> {
    pub fn event(&self, kind: &'static str) -> AgentEvent {
        let s = self.record;
        AgentEvent {
            event_name: Some(s.name.clone()),
            parent_span_id: hex_opt(&s.parent_span_id),
            duration_ms: span_duration_ns(s.start_time_unix_nano, s.end_time_unix_nano)
                .map(|d| d / 1_000_000),
            source: tables::OTLP_SPANS,
            ..self.base(
                kind,
                stable_id(&[b"span", &s.trace_id, &s.span_id]),
                (&s.trace_id, &s.span_id),
            )
        }
    }

    pub fn status_is_error(&self) -> bool {
        self.record.status.as_ref().is_some_and(|s| s.code == 2)
    }
}

/// What normalization needs to know of a record, whatever the signal.
pub(crate) trait Record {
    fn attributes(&self) -> &[KeyValue];
    /// The record's time ([`crate::time`]), `received_ns` when it has none.
    fn time(&self, received_ns: i64) -> i64;
}

macro_rules! record {
    ($($ty:ty => |$r:ident, $received:ident| $time:expr;)*) => {$(
        impl Record for $ty {
            fn attributes(&self) -> &[KeyValue] {
                &self.attributes
            }
            fn time(&self, $received: i64) -> i64 {
                let $r = self;
                $time
            }
        }
    )*};
}

record! {
    LogRecord => |r, received| log_time(r.time_unix_nano, r.observed_time_unix_nano, &r.attributes, received);
    Span => |r, received| span_time(r.start_time_unix_nano, r.end_time_unix_nano, received);
}

/// Calls `f` with the vendor and context of every record of a request, in order.
fn each_record<R: ResourceLevel>(
    resources: &[R],
    received_ns: i64,
    mut f: impl FnMut(Vendor, &RecordCtx<'_, RecordOf<R>>),
) where
    RecordOf<R>: Record,
{
    for (o, records) in scopes(resources) {
        let origin = Origin::new(o.resource_attributes());
        let service = origin.service_name.as_deref().unwrap_or("");
        for record in records {
            let ctx = RecordCtx {
                origin: &origin,
                record,
                attrs: Attrs(record.attributes()),
                ts: record.time(received_ns),
            };
            f(
                Vendor::detect(service, o.scope_name(), record.attributes()),
                &ctx,
            );
        }
    }
}

/// Keeps one row of each (session, event id), the earliest, in the original
/// order: the GenAI per-message events re-send the history with every model call,
/// and the copy that stays decides the message's time (hence its turn).
fn keep_first_copies(events: &mut Vec<AgentEvent>) {
    let mut earliest: std::collections::HashMap<(Option<String>, String), usize> =
        std::collections::HashMap::with_capacity(events.len());
    for (i, e) in events.iter().enumerate() {
        let key = (e.session_id.clone(), e.event_id.clone());
        match earliest.get(&key) {
            Some(&j) if events[j].ts <= e.ts => {}
            _ => {
                earliest.insert(key, i);
            }
        }
    }
    if earliest.len() == events.len() {
        return;
    }
    let keep: std::collections::HashSet<usize> = earliest.into_values().collect();
    let mut i = 0;
    events.retain(|_| {
        let kept = keep.contains(&i);
        i += 1;
        kept
    });
}

/// `agent_events` rows for a logs request.
pub fn from_logs(req: &ExportLogsServiceRequest, ingest_ns: i64) -> Vec<AgentEvent> {
    let mut generic = genai::RequestFacts::default();
    each_record(&req.resource_logs, ingest_ns, |vendor, ctx| {
        if vendor.is_generic() {
            generic.observe_log(ctx);
        }
    });
    generic.resolve();
    let mut out = Vec::new();
    each_record(&req.resource_logs, ingest_ns, |vendor, ctx| {
        out.extend(match vendor {
            Vendor::Codex => codex::log_event(ctx),
            Vendor::ClaudeCode => claude::log_event(ctx),
            _ => genai::log_event(ctx, &mut generic),
        })
    });
    keep_first_copies(&mut out);
    out
}

/// `agent_events` rows for a traces request.
pub fn from_spans(req: &ExportTraceServiceRequest, ingest_ns: i64) -> Vec<AgentEvent> {
    let mut generic = genai::RequestFacts::default();
    each_record(&req.resource_spans, ingest_ns, |vendor, ctx| {
        if vendor.is_generic() {
            generic.observe_span(ctx);
        }
    });
    generic.resolve();
    let mut out = Vec::new();
    let mut claude_spans = false;
    each_record(&req.resource_spans, ingest_ns, |vendor, ctx| {
        out.extend(match vendor {
            Vendor::Codex => codex::span_event(ctx),
            Vendor::ClaudeCode => {
                claude_spans = true;
                claude::span_event(ctx)
            }
            _ => genai::span_event(ctx, &generic),
        })
    });
    if claude_spans {
        claude::link_children_to_tools(&mut out);
    }
    keep_first_copies(&mut out);
    out
}

/// Rows as an Arrow batch in the `agent_events` schema (`wal_seq` = 0, stamped
/// by the WAL writer).
pub fn to_batch(events: &[AgentEvent]) -> Result<Option<RecordBatch>, ArrowError> {
    if events.is_empty() {
        return Ok(None);
    }
    let mut b = AgentEventColumns::with_capacity(events.len());
    for e in events {
        b.append_row(e);
    }
    b.finish().map(Some)
}

#[cfg(test)]
mod scenario_tests;
#[cfg(test)]
mod tests;
