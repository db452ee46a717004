//! What rules look at: a session's items, loaded through the views.
//!
//! An [`Item`] is either an *action* (one `agent_actions` row: a tool call with
//! its decision, execution and result merged) or an *event* (one `agent_events`
//! row). A session's **timeline** holds its actions and the events that belong
//! to no tool call (prompts, session starts, proxy verdicts, …), in session
//! order; its **events** are every `agent_events` row. Rules `on = "actions"`
//! (the default) run over the timeline, rules `on = "events"` and Sigma rules
//! over the events.

use std::collections::HashMap;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field};
use schemas::normalize::shell;

use crate::{Error, QueryEngine};

/// One action or event of a session.
#[derive(Debug, Clone, Default)]
pub struct Item {
    /// `agent_events.kind` of the event, or every kind an action merged.
    pub kinds: Vec<String>,
    pub event_name: Option<String>,
    pub tool_name: Option<String>,
    pub tool_call_id: Option<String>,
    pub command: Option<String>,
    /// Each simple command of `command`, its words joined by spaces.
    pub simple_commands: Vec<String>,
    /// The first word of each simple command.
    pub programs: Vec<String>,
    pub decision: Option<String>,
    pub decision_source: Option<String>,
    pub ran: bool,
    pub output_bytes: Option<i64>,
    pub paths_read: Vec<String>,
    pub paths_written: Vec<String>,
    pub network_host: Option<String>,
    pub network_decision: Option<String>,
    pub mcp_server: Option<String>,
    pub agent: Option<String>,
    pub text: Option<String>,
    /// The `agent_events` rows this item is made of.
    pub event_ids: Vec<String>,
    /// ns since the epoch.
    pub ts: i64,
    /// Order in the session (`agent_events.position`; an action's first row).
    pub position: i64,
    /// The `agent_events` row as JSON, for Sigma (events only).
    pub row: Option<serde_json::Value>,
    /// An action (a tool call) rather than a single event.
    pub action: bool,
}

impl Item {
    /// Ran and printed nothing (the `silent_commands` view's test).
    pub fn silent(&self) -> bool {
        self.ran && self.output_bytes == Some(0)
    }

    pub(crate) fn with_command(mut self) -> Self {
        if let Some(cmd) = &self.command {
            for argv in shell::simple_commands(cmd) {
                if let Some(first) = argv.first() {
                    self.programs.push(first.clone());
                }
                self.simple_commands.push(argv.join(" "));
            }
        }
        self
    }

    /// Whether this item runs `path` as a program (`/tmp/x.sh`, `./x.sh`).
    pub fn runs(&self, path: &str) -> bool {
        self.programs.iter().any(|p| same_path(p, path))
    }

    /// Whether this item names `path`: reads, writes or runs it, or has it as a
    /// word of its command.
    pub fn uses(&self, path: &str) -> bool {
        self.paths_read
            .iter()
            .chain(&self.paths_written)
            .any(|p| same_path(p, path))
            || self
                .simple_commands
                .iter()
                .any(|c| c.split(' ').any(|w| same_path(w, path)))
    }
}

/// `./x.sh` and `x.sh` are the same file; so are `/tmp//x` and `/tmp/x`.
fn same_path(a: &str, b: &str) -> bool {
    fn norm(p: &str) -> String {
        let mut s = p.trim();
        while let Some(r) = s.strip_prefix("./") {
            s = r;
        }
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            if c == '/' && out.ends_with('/') {
                continue;
            }
            out.push(c);
        }
        out
    }
    !a.is_empty() && norm(a) == norm(b)
}

/// One session, as rules see it.
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub session_id: String,
    /// Actions and the events that belong to no tool call, in session order.
    pub timeline: Vec<Item>,
    /// Every `agent_events` row, in session order.
    pub events: Vec<Item>,
    /// The MCP servers the agent reported being configured with (Codex's
    /// `mcp_servers` on `conversation_starts`); `None` when it did not say.
    pub configured_mcp_servers: Option<Vec<String>>,
    /// The session's last event time (ns).
    pub last_ts: i64,
}

/// Facts about the whole store that some rules need: the first event of each
/// network host and MCP server ever seen.
#[derive(Debug, Clone, Default)]
pub struct StoreContext {
    first_host: HashMap<String, FirstSeen>,
    first_mcp_server: HashMap<String, FirstSeen>,
}

/// The first event that named a host or server.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FirstSeen {
    pub ts: i64,
    pub event_id: String,
}

impl StoreContext {
    /// Records `event_id` as the first event naming `host` (tests).
    #[cfg(test)]
    pub(crate) fn with_first(
        mut self,
        host: Option<&str>,
        mcp: Option<&str>,
        event_id: &str,
    ) -> Self {
        let seen = FirstSeen {
            ts: 0,
            event_id: event_id.to_string(),
        };
        if let Some(h) = host {
            self.first_host.insert(h.to_ascii_lowercase(), seen.clone());
        }
        if let Some(m) = mcp {
            self.first_mcp_server.insert(m.to_string(), seen);
        }
        self
    }

    pub fn is_first_host(&self, host: &str, item: &Item) -> bool {
        self.first_host
            .get(&host.to_ascii_lowercase())
            .is_some_and(|f| item.event_ids.contains(&f.event_id))
    }

    pub fn is_first_mcp_server(&self, server: &str, item: &Item) -> bool {
        self.first_mcp_server
            .get(server)
            .is_some_and(|f| item.event_ids.contains(&f.event_id))
    }

    /// Loads the first event of every host and server in the store.
    pub async fn load(engine: &QueryEngine) -> Result<Self, Error> {
        let mut ctx = StoreContext::default();
        ctx.update(engine, None).await?;
        Ok(ctx)
    }

    /// Folds in the hosts and servers of rows stored after `after_seq` (all rows
    /// when `None`), keeping the earliest event of each.
    pub async fn update(
        &mut self,
        engine: &QueryEngine,
        after_seq: Option<u64>,
    ) -> Result<(), Error> {
        let since = after_seq.map_or(String::new(), |s| format!("AND wal_seq > {s}"));
        for (column, map) in [
            ("network_host", &mut self.first_host),
            ("mcp_server", &mut self.first_mcp_server),
        ] {
            // a row per value: its earliest event (ties broken by id, as everywhere)
            let sql = format!(
                "SELECT {column} AS value, \
                   first_value(ts ORDER BY ts, event_id) AS ts, \
                   first_value(event_id ORDER BY ts, event_id) AS event_id \
                 FROM {raw} WHERE {column} IS NOT NULL AND session_id IS NOT NULL \
                   AND kind <> '{start}' {since} \
                 GROUP BY {column}",
                raw = crate::views::AGENT_EVENTS_RAW,
                // a session start lists configured servers: not a use of them
                start = schemas::events::kind::SESSION_START,
            );
            let result = engine.sql(&sql).await?;
            for batch in &result.batches {
                let values = strings(batch, "value")?;
                let ts = ints(batch, "ts")?;
                let ids = strings(batch, "event_id")?;
                for ((v, t), id) in values.into_iter().zip(ts).zip(ids) {
                    let (Some(v), Some(t), Some(id)) = (v, t, id) else {
                        continue;
                    };
                    let v = if column == "network_host" {
                        v.to_ascii_lowercase()
                    } else {
                        v
                    };
                    let seen = FirstSeen {
                        ts: t,
                        event_id: id,
                    };
                    match map.get_mut(&v) {
                        Some(old) if *old <= seen => {}
                        Some(old) => *old = seen,
                        None => {
                            map.insert(v, seen);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// `'a', 'b'`: a SQL list of string literals.
pub(crate) fn sql_list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

const ACTION_COLUMNS: &str = "session_id, tool_call_id, CAST(ts AS BIGINT) AS ts, position, agent, \
    tool_name, command, paths_read, paths_written, decision, decision_source, ran, output_bytes, \
    network_host, network_decision, mcp_server, kinds, event_ids";

/// Loads the sessions `ids` (those that exist), each with its timeline and
/// events. `rows`: keep each event's row as JSON (for Sigma rules).
pub async fn load_sessions(
    engine: &QueryEngine,
    ids: &[String],
    rows: bool,
) -> Result<Vec<Session>, Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = sql_list(ids);
    let mut sessions: HashMap<String, Session> = HashMap::new();
    let events = engine
        .sql(&format!(
            "SELECT * FROM agent_events WHERE session_id IN ({list}) ORDER BY session_id, position"
        ))
        .await?;
    for batch in &events.batches {
        let json = if rows { Some(batch_json(batch)?) } else { None };
        for (i, item) in items(batch, false)?.into_iter().enumerate() {
            let (session_id, item) = item;
            let session = sessions
                .entry(session_id.clone())
                .or_insert_with(|| Session {
                    session_id,
                    ..Session::default()
                });
            let mut item = item;
            if let Some(json) = &json {
                item.row = Some(json[i].clone());
            }
            session.last_ts = session.last_ts.max(item.ts);
            if item
                .kinds
                .iter()
                .any(|k| k == schemas::events::kind::SESSION_START)
                && item.agent.as_deref() == Some(schemas::Vendor::Codex.as_str())
                && session.configured_mcp_servers.is_none()
            {
                session.configured_mcp_servers = Some(
                    item.mcp_server
                        .as_deref()
                        .unwrap_or("")
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(String::from)
                        .collect(),
                );
            }
            if item
                .kinds
                .iter()
                .any(|k| k == schemas::events::kind::SESSION_START)
            {
                // the servers a session starts with are configuration, not a call
                item.mcp_server = None;
            }
            if item.tool_call_id.is_none() {
                session.timeline.push(item.clone());
            }
            session.events.push(item);
        }
    }
    let actions = engine
        .sql(&format!(
            "SELECT {ACTION_COLUMNS} FROM agent_actions WHERE session_id IN ({list})"
        ))
        .await?;
    for batch in &actions.batches {
        for (session_id, item) in items(batch, true)? {
            if let Some(s) = sessions.get_mut(&session_id) {
                s.timeline.push(item);
            }
        }
    }
    let mut out: Vec<Session> = sessions.into_values().collect();
    for s in &mut out {
        s.timeline.sort_by_key(|i| i.position);
    }
    out.sort_by(|a, b| a.session_id.cmp(&b.session_id));
    Ok(out)
}

/// The items of a batch of `agent_events` rows (`action` false) or of
/// `agent_actions` rows (`action` true): the same columns, except that an event
/// has one `kind` and `event_id` and an `outcome`, an action every `kinds` and
/// `event_ids` it merged and `ran`, and only events carry a name and text.
fn items(batch: &RecordBatch, action: bool) -> Result<Vec<(String, Item)>, Error> {
    let one = |name| -> Result<Vec<Vec<String>>, Error> {
        Ok(strings(batch, name)?
            .into_iter()
            .map(|v| v.into_iter().collect())
            .collect())
    };
    let only_events = |name| -> Result<Vec<Option<String>>, Error> {
        if action {
            Ok(vec![None; batch.num_rows()])
        } else {
            strings(batch, name)
        }
    };
    let (kinds, event_ids, ran) = if action {
        let ran = bools(batch, "ran")?;
        (
            lists(batch, "kinds")?,
            lists(batch, "event_ids")?,
            ran.into_iter().map(|r| r.unwrap_or(false)).collect(),
        )
    } else {
        let outcome = strings(batch, "outcome")?;
        (
            one("kind")?,
            one("event_id")?,
            outcome
                .iter()
                .map(|o| matches!(o.as_deref(), Some("success" | "failure")))
                .collect::<Vec<bool>>(),
        )
    };
    let session = strings(batch, "session_id")?;
    let event_name = only_events("event_name")?;
    let text = only_events("text")?;
    let tool_name = strings(batch, "tool_name")?;
    let tool_call_id = strings(batch, "tool_call_id")?;
    let command = strings(batch, "command")?;
    let decision = strings(batch, "decision")?;
    let decision_source = strings(batch, "decision_source")?;
    let output_bytes = ints(batch, "output_bytes")?;
    let paths_read = lists(batch, "paths_read")?;
    let paths_written = lists(batch, "paths_written")?;
    let network_host = strings(batch, "network_host")?;
    let network_decision = strings(batch, "network_decision")?;
    let mcp_server = strings(batch, "mcp_server")?;
    let agent = strings(batch, "agent")?;
    let ts = ints(batch, "ts")?;
    let position = ints(batch, "position")?;
    let mut out = Vec::with_capacity(batch.num_rows());
    for i in 0..batch.num_rows() {
        let Some(sid) = session[i].clone() else {
            continue;
        };
        let item = Item {
            kinds: kinds[i].clone(),
            event_name: event_name[i].clone(),
            tool_name: tool_name[i].clone(),
            tool_call_id: tool_call_id[i].clone(),
            command: command[i].clone(),
            decision: decision[i].clone(),
            decision_source: decision_source[i].clone(),
            ran: ran[i],
            output_bytes: output_bytes[i],
            paths_read: paths_read[i].clone(),
            paths_written: paths_written[i].clone(),
            network_host: network_host[i].clone(),
            network_decision: network_decision[i].clone(),
            mcp_server: mcp_server[i].clone(),
            agent: agent[i].clone(),
            text: text[i].clone(),
            event_ids: event_ids[i].clone(),
            ts: ts[i].unwrap_or_default(),
            position: position[i].unwrap_or_default(),
            action,
            ..Item::default()
        }
        .with_command();
        out.push((sid, item));
    }
    Ok(out)
}

// ------------------------------------------------------------ column access
// Results come back in whatever physical type the plan chose (`Utf8View` from
// Parquet, `Utf8` from hot rows); each accessor casts to one type first.

fn column(batch: &RecordBatch, name: &str, to: &DataType) -> Result<arrow::array::ArrayRef, Error> {
    let idx = batch
        .schema()
        .index_of(name)
        .map_err(|_| Error::Internal(format!("the detector's query has no column {name}")))?;
    Ok(cast(batch.column(idx), to)?)
}

pub(crate) fn strings(batch: &RecordBatch, name: &str) -> Result<Vec<Option<String>>, Error> {
    let a = column(batch, name, &DataType::Utf8)?;
    let a = a.as_string::<i32>();
    Ok((0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
        .collect())
}

pub(crate) fn ints(batch: &RecordBatch, name: &str) -> Result<Vec<Option<i64>>, Error> {
    let a = column(batch, name, &DataType::Int64)?;
    let a = a.as_primitive::<arrow::datatypes::Int64Type>();
    Ok((0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect())
}

pub(crate) fn bools(batch: &RecordBatch, name: &str) -> Result<Vec<Option<bool>>, Error> {
    let a = column(batch, name, &DataType::Boolean)?;
    let a = a.as_boolean();
    Ok((0..a.len())
        .map(|i| a.is_valid(i).then(|| a.value(i)))
        .collect())
}

pub(crate) fn lists(batch: &RecordBatch, name: &str) -> Result<Vec<Vec<String>>, Error> {
    let to = DataType::List(std::sync::Arc::new(Field::new(
        "item",
        DataType::Utf8,
        true,
    )));
    let a = column(batch, name, &to)?;
    let a = a.as_list::<i32>();
    Ok((0..a.len())
        .map(|i| {
            if a.is_null(i) {
                return Vec::new();
            }
            let v = a.value(i);
            let v = v.as_string::<i32>();
            (0..v.len())
                .filter(|&j| v.is_valid(j))
                .map(|j| v.value(j).to_string())
                .collect()
        })
        .collect())
}

/// Each row of `batch` as a JSON object (Sigma's view of an event).
fn batch_json(batch: &RecordBatch) -> Result<Vec<serde_json::Value>, Error> {
    let mut w = arrow::json::ArrayWriter::new(Vec::new());
    w.write(batch)?;
    w.finish()?;
    let bytes = w.into_inner();
    if bytes.is_empty() {
        return Ok(vec![serde_json::Value::Null; batch.num_rows()]);
    }
    match serde_json::from_slice(&bytes) {
        Ok(serde_json::Value::Array(rows)) => Ok(rows),
        Ok(_) => Err(Error::Internal("rows as JSON: not an array".into())),
        Err(e) => Err(Error::Internal(format!("rows as JSON: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_compare_without_dot_slash_and_double_slashes() {
        assert!(same_path("./x.sh", "x.sh"));
        assert!(same_path("/tmp//x.sh", "/tmp/x.sh"));
        assert!(!same_path("/tmp/x.sh", "x.sh"));
        assert!(!same_path("", ""));
    }

    #[test]
    fn an_item_knows_the_programs_of_its_command() {
        let item = Item {
            command: Some("sudo bash -c 'chmod +x /tmp/x.sh && /tmp/x.sh --now'".into()),
            ..Item::default()
        }
        .with_command();
        assert!(item.runs("/tmp/x.sh"), "{:?}", item.programs);
        assert!(item.uses("/tmp/x.sh"));
        assert!(!item.runs("chmod +x"));
        assert!(
            item.simple_commands
                .iter()
                .any(|c| c == "chmod +x /tmp/x.sh"),
            "{:?}",
            item.simple_commands
        );
    }

    #[test]
    fn sql_lists_quote_quotes() {
        assert_eq!(sql_list(&["a".into(), "it's".into()]), "'a', 'it''s'");
    }
}
