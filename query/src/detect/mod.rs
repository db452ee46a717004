//! Findings: rules evaluated over whole sessions, incrementally.
//!
//! A [`Detector`] keeps a checkpoint, the highest `agent_events_raw.wal_seq`
//! whose sessions it has evaluated. Each round it asks the store which sessions
//! rows past the checkpoint touched, loads each of them whole through the views
//! ([`items`]), runs every rule on it ([`evaluate`] for Vigil's TOML rules,
//! [`sigma`] for Sigma files) and returns one *pass* per chunk of sessions: a
//! `findings` batch with a marker row per session plus a row per finding. The
//! caller (`vigil serve`, `vigil rescan`) writes it through the collector's WAL,
//! so a pass is as durable as an acknowledged export. Because a touched session
//! is evaluated as a whole, the half of a sequence that arrives late, in another
//! request or out of order still completes it; because a finding's id is a hash
//! of its rule and the events it cites and the `findings` view keeps only each
//! session's latest pass, re-evaluating a session (after a restart, a crash
//! between chunks, or a rescan) never duplicates a finding.
//!
//! The checkpoint survives restarts in the data itself: a round's last chunk
//! records the round's target in `evaluated_through`, earlier chunks the
//! previous checkpoint, so `max(evaluated_through)` over passes made with the
//! same rules digest is a point through which every session was evaluated.
//! Started with other rules (another digest), the detector starts from zero and
//! re-evaluates every session.

mod evaluate;
pub(crate) mod items;
mod rules;
mod sigma;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use schemas::columns::Columns as _;
use schemas::findings::{FindingColumns, FindingRow};

pub use evaluate::commands_are_variants;
pub use items::{Item, Session, StoreContext};
pub use rules::{DEFAULT_RULES, Rule, RuleBody, RuleError, RuleSet, Severity, Target};

use crate::views::{AGENT_EVENTS_RAW, FINDINGS_RAW};
use crate::{Error, QueryEngine};
use evaluate::Hit;

/// Sessions evaluated per pass: bounds the memory of one pass and the size of
/// its `IN (…)` list. At 200, a server taking 50k records/s peaked at 422 MiB
/// RSS (compaction off, `vigil bench ingest`); at 50, 295 MiB, at the same rate.
pub const SESSIONS_PER_PASS: usize = 50;

/// One pass: the rows to write and what they cover.
#[derive(Debug)]
pub struct Pass {
    /// `findings` rows (markers and findings), `wal_seq` to be stamped on write.
    pub batch: RecordBatch,
    pub sessions: usize,
    pub findings: usize,
    /// `evaluated_through` of this pass's rows.
    pub evaluated_through: u64,
    /// Sessions of this round still to evaluate after this pass.
    pub remaining: usize,
}

/// Evaluates the rules over the sessions new rows touch; see the module docs.
pub struct Detector {
    rules: Arc<RuleSet>,
    digest: String,
    context: StoreContext,
    /// Rows through this `wal_seq` are folded into `context`.
    context_through: Option<u64>,
    checkpoint: u64,
    /// The current round: its target `wal_seq` and the sessions left.
    round: Option<(u64, Vec<String>)>,
}

impl Detector {
    /// A detector resuming from what the store says was evaluated with these
    /// rules (`from_scratch`: evaluating every session again, as `rescan`).
    pub async fn new(
        engine: &QueryEngine,
        rules: Arc<RuleSet>,
        from_scratch: bool,
    ) -> Result<Self, Error> {
        let digest = rules.digest();
        let checkpoint = if from_scratch {
            0
        } else {
            let r = engine
                .sql(&format!(
                    "SELECT CAST(max(evaluated_through) AS BIGINT) AS through FROM {FINDINGS_RAW} \
                     WHERE rules_digest = '{digest}'"
                ))
                .await?;
            first_int(&r.batches, "through")?.unwrap_or(0) as u64
        };
        Ok(Detector {
            rules,
            digest,
            context: StoreContext::default(),
            context_through: None,
            checkpoint,
            round: None,
        })
    }

    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Every session through this `wal_seq` has been evaluated.
    pub fn checkpoint(&self) -> u64 {
        self.checkpoint
    }

    /// The next pass, or `None` when no session waits. After writing
    /// `pass.batch`, call [`Detector::written`]; if writing failed, call
    /// [`Detector::retry`] and the round starts again from the checkpoint.
    pub async fn next_pass(&mut self, engine: &QueryEngine) -> Result<Option<Pass>, Error> {
        if self.round.as_ref().is_none_or(|(_, left)| left.is_empty()) {
            let Some(round) = self.start_round(engine).await? else {
                return Ok(None);
            };
            self.round = Some(round);
        }
        let (target, left) = self.round.as_mut().expect("a round was started");
        let target = *target;
        let take = left.len().min(SESSIONS_PER_PASS);
        let ids: Vec<String> = left.drain(..take).collect();
        let remaining = left.len();
        let evaluated_through = if remaining == 0 {
            target
        } else {
            self.checkpoint
        };
        // one read of these sessions' rows for everything the pass asks
        let scoped = engine.for_sessions(&ids).await?;
        let sessions = items::load_sessions(&scoped, &ids, !self.rules.sigma().is_empty()).await?;
        let mut summaries = session_summaries(&scoped).await?;
        let mut columns = FindingColumns::with_capacity(sessions.len() * 2);
        let mut findings = 0;
        for session in &sessions {
            let rows = self.evaluate(session);
            let mut marker = summaries.remove(&session.session_id).unwrap_or_default();
            let count = |s: Severity| {
                Some(
                    rows.iter()
                        .filter(|r| r.severity == Some(s.as_str()))
                        .count() as i64,
                )
            };
            marker.findings = Some(rows.len() as i64);
            marker.critical = count(Severity::Critical);
            marker.high = count(Severity::High);
            marker.medium = count(Severity::Medium);
            marker.low = count(Severity::Low);
            marker.info = count(Severity::Info);
            columns.append_row(&FindingRow {
                ts: session.last_ts,
                session_id: session.session_id.clone(),
                evaluated_through,
                rules_digest: self.digest.clone(),
                ..marker
            });
            for row in rows {
                columns.append_row(&FindingRow {
                    evaluated_through,
                    rules_digest: self.digest.clone(),
                    ..row
                });
                findings += 1;
            }
        }
        Ok(Some(Pass {
            batch: columns.finish()?,
            sessions: sessions.len(),
            findings,
            evaluated_through,
            remaining,
        }))
    }

    /// `pass` is durable: the checkpoint moves to what it covers.
    pub fn written(&mut self, pass: &Pass) {
        self.checkpoint = self.checkpoint.max(pass.evaluated_through);
    }

    /// The last pass was not written: evaluate the round again from the checkpoint.
    pub fn retry(&mut self) {
        self.round = None;
    }

    /// The sessions touched by rows past the checkpoint, and the `wal_seq` they
    /// reach; brings the store-wide context up to that point first.
    async fn start_round(
        &mut self,
        engine: &QueryEngine,
    ) -> Result<Option<(u64, Vec<String>)>, Error> {
        let r = engine
            .sql(&format!(
                "SELECT CAST(max(wal_seq) AS BIGINT) AS top FROM {AGENT_EVENTS_RAW}"
            ))
            .await?;
        let top = first_int(&r.batches, "top")?.unwrap_or(0) as u64;
        if top <= self.checkpoint {
            return Ok(None);
        }
        if self.context_through.is_none_or(|t| t < top) {
            self.context.update(engine, self.context_through).await?;
            self.context_through = Some(top);
        }
        let r = engine
            .sql(&format!(
                "SELECT DISTINCT session_id FROM {AGENT_EVENTS_RAW} \
                 WHERE wal_seq > {} AND wal_seq <= {top} AND session_id IS NOT NULL \
                 ORDER BY session_id",
                self.checkpoint
            ))
            .await?;
        let mut ids = Vec::new();
        for b in &r.batches {
            ids.extend(items::strings(b, "session_id")?.into_iter().flatten());
        }
        if ids.is_empty() {
            // rows without a session: nothing to evaluate, but they are covered
            self.checkpoint = top;
            return Ok(None);
        }
        Ok(Some((top, ids)))
    }

    /// The findings of every rule on `session`, in session order.
    pub fn evaluate(&self, session: &Session) -> Vec<FindingRow> {
        let mut hits = evaluate::native_hits(self.rules.rules(), session, &self.context);
        if !self.rules.sigma().is_empty() {
            let mut sigma = self.rules.sigma().evaluator();
            hits.extend(sigma.hits(session, &|id| self.rules.get(id)));
        }
        let mut rows: Vec<FindingRow> = hits.iter().map(|h| finding_row(session, h)).collect();
        rows.sort_by(|a, b| {
            (a.ts, &a.rule_id, &a.finding_id).cmp(&(b.ts, &b.rule_id, &b.finding_id))
        });
        rows.dedup_by(|a, b| a.finding_id == b.finding_id);
        rows
    }
}

/// Each session's `sessions` row on `engine` (scoped to a pass's sessions), as
/// the summary columns of its marker row: the listing reads these instead of
/// grouping the store, so they come from the view itself, not a second
/// definition of it.
async fn session_summaries(
    engine: &QueryEngine,
) -> Result<std::collections::HashMap<String, FindingRow>, Error> {
    let r = engine
        .sql(
            "SELECT session_id, agent, agent_version, user_id, host, service_name, \
             CAST(started AS BIGINT) AS started, events, prompts, tool_calls, denials, \
             reviews_session FROM sessions",
        )
        .await?;
    let mut out = std::collections::HashMap::new();
    for b in &r.batches {
        let text = |c: &str| items::strings(b, c);
        let (ids, agent, version, user, host, service, reviews) = (
            text("session_id")?,
            text("agent")?,
            text("agent_version")?,
            text("user_id")?,
            text("host")?,
            text("service_name")?,
            text("reviews_session")?,
        );
        let (started, events, prompts, tool_calls, denials) = (
            items::ints(b, "started")?,
            items::ints(b, "events")?,
            items::ints(b, "prompts")?,
            items::ints(b, "tool_calls")?,
            items::ints(b, "denials")?,
        );
        for i in 0..b.num_rows() {
            let Some(id) = ids[i].clone() else { continue };
            out.insert(
                id,
                FindingRow {
                    agent: agent[i].clone(),
                    agent_version: version[i].clone(),
                    user_id: user[i].clone(),
                    host: host[i].clone(),
                    service_name: service[i].clone(),
                    started: started[i],
                    events: events[i],
                    prompts: prompts[i],
                    tool_calls: tool_calls[i],
                    denials: denials[i],
                    reviews_session: reviews[i].clone(),
                    ..FindingRow::default()
                },
            );
        }
    }
    Ok(out)
}

fn first_int(batches: &[RecordBatch], column: &str) -> Result<Option<i64>, Error> {
    for b in batches {
        if let Some(v) = items::ints(b, column)?.into_iter().next() {
            return Ok(v);
        }
    }
    Ok(None)
}

/// `hex(xxh3-128(rule id, cited event ids))`: stable across passes and rescans.
pub fn finding_id(rule_id: &str, event_ids: &[String]) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(rule_id.as_bytes());
    for id in event_ids {
        h.update(&[0]);
        h.update(id.as_bytes());
    }
    hex::encode(h.digest128().to_be_bytes())
}

fn finding_row(session: &Session, hit: &Hit<'_>) -> FindingRow {
    let mut event_ids: Vec<String> = Vec::new();
    let mut tool_call_ids: Vec<String> = Vec::new();
    for item in &hit.items {
        for id in &item.event_ids {
            if !event_ids.contains(id) {
                event_ids.push(id.clone());
            }
        }
        if let Some(id) = &item.tool_call_id
            && item.action
            && !tool_call_ids.contains(id)
        {
            tool_call_ids.push(id.clone());
        }
    }
    let rule = hit.rule;
    let steps: Vec<serde_json::Value> = hit.items.iter().map(|i| step_json(i)).collect();
    FindingRow {
        ts: hit
            .items
            .iter()
            .map(|i| i.ts)
            .max()
            .unwrap_or(session.last_ts),
        session_id: session.session_id.clone(),
        finding_id: Some(finding_id(&rule.id, &event_ids)),
        rule_id: Some(rule.id.clone()),
        severity: Some(rule.severity.as_str()),
        title: Some(fill_title(&rule.title, &hit.items)),
        description: Some(rule.description.clone()).filter(|d| !d.is_empty()),
        event_ids,
        tool_call_ids,
        details: Some(serde_json::json!({ "steps": steps }).to_string()),
        ..FindingRow::default()
    }
}

/// What a cited item was, for the finding's `details`.
fn step_json(i: &Item) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    let mut put = |k: &str, v: Option<serde_json::Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    put("tool_call_id", i.tool_call_id.clone().map(Into::into));
    put("tool_name", i.tool_name.clone().map(Into::into));
    put("event_name", i.event_name.clone().map(Into::into));
    put("command", i.command.clone().map(Into::into));
    put("decision", i.decision.clone().map(Into::into));
    put("decision_source", i.decision_source.clone().map(Into::into));
    put("ran", Some(i.ran.into()));
    put(
        "paths_read",
        (!i.paths_read.is_empty()).then(|| i.paths_read.clone().into()),
    );
    put(
        "paths_written",
        (!i.paths_written.is_empty()).then(|| i.paths_written.clone().into()),
    );
    put("network_host", i.network_host.clone().map(Into::into));
    put(
        "network_decision",
        i.network_decision.clone().map(Into::into),
    );
    put("mcp_server", i.mcp_server.clone().map(Into::into));
    put("event_ids", Some(i.event_ids.clone().into()));
    serde_json::Value::Object(m)
}

/// A rule title with `{command}`, `{tool_name}`, `{decision}`,
/// `{decision_source}`, `{network_host}`, `{mcp_server}`, `{destination}` (the
/// host, else the MCP server) or `{path}` filled
/// from the last cited item that has it (`?` when none does).
fn fill_title(title: &str, items: &[&Item]) -> String {
    const MAX: usize = 120;
    let mut out = title.to_string();
    type Field = fn(&Item) -> Option<String>;
    let fields: [(&str, Field); 8] = [
        ("{destination}", |i| {
            // where data went: a host, else an MCP server
            i.network_host
                .clone()
                .or_else(|| i.mcp_server.as_ref().map(|s| format!("MCP server {s}")))
        }),
        ("{command}", |i| {
            // tools without a command line: the tool and what it touched
            i.command.clone().or_else(|| {
                let what = i
                    .paths_written
                    .first()
                    .or(i.paths_read.first())
                    .or(i.network_host.as_ref());
                i.tool_name
                    .as_ref()
                    .map(|t| what.map_or_else(|| t.clone(), |w| format!("{t} {w}")))
            })
        }),
        ("{tool_name}", |i| i.tool_name.clone()),
        ("{decision}", |i| i.decision.clone()),
        ("{decision_source}", |i| i.decision_source.clone()),
        ("{network_host}", |i| i.network_host.clone()),
        ("{mcp_server}", |i| i.mcp_server.clone()),
        ("{path}", |i| {
            i.paths_written.first().or(i.paths_read.first()).cloned()
        }),
    ];
    for (placeholder, get) in fields {
        if !out.contains(placeholder) {
            continue;
        }
        let mut value = items
            .iter()
            .rev()
            .find_map(|i| get(i))
            .unwrap_or_else(|| "?".to_string());
        if value.chars().count() > MAX {
            value = value.chars().take(MAX - 1).collect::<String>() + "…";
        }
        out = out.replace(placeholder, &value);
    }
    out
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn finding_ids_depend_on_rule_and_events_only() {
        let a = finding_id("r", &["e1".into(), "e2".into()]);
        assert_eq!(a.len(), 32);
        assert_eq!(a, finding_id("r", &["e1".into(), "e2".into()]));
        assert_ne!(a, finding_id("r2", &["e1".into(), "e2".into()]));
        assert_ne!(a, finding_id("r", &["e1".into()]));
        // the separator keeps ("e1e2") and ("e1", "e2") apart
        assert_ne!(finding_id("r", &["e1e2".into()]), a);
    }

    #[test]
    fn titles_take_the_last_item_that_has_the_field() {
        let read = Item {
            command: Some("cat ~/.aws/credentials".into()),
            ..Item::default()
        };
        let send = Item {
            network_host: Some("evil.example".into()),
            decision_source: Some("proxy".into()),
            ..Item::default()
        };
        assert_eq!(
            fill_title(
                "{command} then {network_host} ({decision_source}, {mcp_server})",
                &[&read, &send]
            ),
            "cat ~/.aws/credentials then evil.example (proxy, ?)"
        );
        let mcp = Item {
            mcp_server: Some("files".into()),
            ..Item::default()
        };
        assert_eq!(
            fill_title("to {destination}", &[&read, &send]),
            "to evil.example"
        );
        assert_eq!(
            fill_title("to {destination}", &[&read, &mcp]),
            "to MCP server files"
        );
        let long = Item {
            command: Some("x".repeat(500)),
            ..Item::default()
        };
        let t = fill_title("ran {command}", &[&long]);
        assert_eq!(t.chars().count(), 4 + 120);
        assert!(t.ends_with('…'));
    }
}
