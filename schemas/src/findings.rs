//! The `findings` table: what the detector concluded about each session.
//!
//! The detector (in `query`) evaluates a session as a whole and writes its
//! result as one *pass*: a marker row (`finding_id` null) saying "this session
//! was evaluated, with these rules, through this point of the store", then one
//! row per finding. Rows go through the collector's WAL like any other, so a
//! pass is durable when it is acknowledged and stamped with its own `wal_seq`.
//! A later pass over the same session supersedes the earlier one: the
//! `findings` view keeps each session's latest pass only, so a finding that no
//! longer holds (rules changed, events arrived that undo a sequence) goes away,
//! and one that still holds keeps its id.

use crate::columns::{Int64, List, Required, Timestamp, UInt64, Utf8};
use crate::tables::PartitionColumns;

/// The stored table (the view over it is `findings`).
pub const FINDINGS: &str = "findings";

/// How serious a finding is, least first (so `max` is the worst).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Also accepts Sigma's `informational`.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "info" | "informational" => Some(Severity::Info),
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }

    /// 1 (info) to 5 (critical), for SQL comparisons (`severity_rank >= 4`).
    pub fn rank(self) -> i32 {
        self as i32 + 1
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::row_table! {
    /// One row of a detection pass: a finding, or (with `finding_id` null) the
    /// pass's marker for its session.
    #[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
    pub struct FindingRow in FindingColumns {
        wal_seq: Required<UInt64> = 0u64;
        /// When the finding happened: the time of the last event it cites (the
        /// marker: the session's last event).
        ts: i64 => Required<Timestamp>,
        session_id: String => Required<Utf8>,
        /// `hex(xxh3-128(rule_id, cited event ids))`: the same finding keeps its id
        /// across passes, restarts and rescans. Null on the marker row.
        finding_id: Option<String> => Utf8,
        rule_id: Option<String> => Utf8,
        severity: Option<&'static str> => Utf8,
        title: Option<String> => Utf8,
        description: Option<String> => Utf8,
        /// The `agent_events.event_id`s the finding rests on, in session order.
        event_ids: Vec<String> => List<Utf8>,
        /// The tool calls among them, in session order.
        tool_call_ids: Vec<String> => List<Utf8>,
        /// JSON: what matched (commands, paths, hosts, the steps of a sequence).
        details: Option<String> => Utf8,
        /// The pass evaluated every `agent_events` row with `wal_seq` up to this.
        evaluated_through: u64 => Required<UInt64>,
        /// Digest of the rule set the pass used (a rule change starts a rescan).
        rules_digest: String => Required<Utf8>,
        // The marker row also carries the session as the pass saw it: its
        // `sessions` row (the marker's `ts` is `last_seen`) and the pass's
        // finding counts, so listing sessions reads one row per session instead
        // of grouping the store (the `session_summaries` view). Null on
        // finding rows, and on markers written before summaries existed.
        agent: Option<String> => Utf8,
        agent_version: Option<String> => Utf8,
        user_id: Option<String> => Utf8,
        host: Option<String> => Utf8,
        service_name: Option<String> => Utf8,
        started: Option<i64> => Timestamp,
        events: Option<i64> => Int64,
        prompts: Option<i64> => Int64,
        tool_calls: Option<i64> => Int64,
        denials: Option<i64> => Int64,
        reviews_session: Option<String> => Utf8,
        /// The pass's findings, and how many of each severity.
        findings: Option<i64> => Int64,
        critical: Option<i64> => Int64,
        high: Option<i64> => Int64,
        medium: Option<i64> => Int64,
        low: Option<i64> => Int64,
        info: Option<i64> => Int64,
    }
    then partition: PartitionColumns = ts
}
