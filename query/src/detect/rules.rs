//! Detection rules are data: a TOML format of Vigil's own (defaults compiled in,
//! `--rules FILE…` adds or overrides them by id, `enabled = false` turns one
//! off) and Sigma YAML (see [`super::sigma`]).
//!
//! A rule is a **match** over one item of a session (an action: one tool call
//! with its decision, execution and result merged; or an event: one
//! `agent_events` row), or a **sequence** of steps in one session, in order,
//! within `within_events` items and/or `within_seconds`; or both, firing on
//! either. The format is documented in docs/rules.md.

use std::collections::BTreeMap;
use std::sync::Arc;

use regex::Regex;
use schemas::paths::PathGlob;
use serde::Deserialize;

pub use schemas::findings::Severity;

use super::items::{Item, Session, StoreContext};

/// The rules shipped with Vigil.
pub const DEFAULT_RULES: &str = include_str!("../../rules/default.toml");

/// What a rule looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// Tool calls (`agent_actions` rows).
    #[default]
    Actions,
    /// Every `agent_events` row.
    Events,
}

#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("{file}: {reason}")]
    File { file: String, reason: String },
    #[error("{file}: rule {id:?}: {reason}")]
    Rule {
        file: String,
        id: String,
        reason: String,
    },
}

// ---------------------------------------------------------------- file format

/// `[[rule]]` entries of a rules file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    #[serde(default)]
    rule: Vec<RuleSpec>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub on: Option<Target>,
    #[serde(default, rename = "match")]
    pub matches: Option<PredicateSpec>,
    #[serde(default)]
    pub sequence: Option<Vec<StepSpec>>,
    #[serde(default)]
    pub within_events: Option<usize>,
    #[serde(default)]
    pub within_seconds: Option<u64>,
    /// Fire on the first matching item of a session only (a session-wide fact
    /// such as "approvals were off", which every later event repeats).
    #[serde(default)]
    pub once_per_session: Option<bool>,
}

/// A predicate over one item. Every field given must hold (AND); a list means
/// "any of these" (OR).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct PredicateSpec {
    /// `agent_events.kind` (events) or the kinds an action merged (actions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kind: Vec<String>,
    /// Tool name globs (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool: Vec<String>,
    /// Regexes over the command.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub command: Vec<String>,
    /// Regexes over each simple command of a shell command line, as its words
    /// joined by single spaces: wrappers (`sudo`, `env X=1`, `nohup`, `timeout`)
    /// and redirections removed, the scripts of `bash -c '…'`, `$(…)`,
    /// `find -exec` and `xargs` analysed as commands of their own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub simple_command: Vec<String>,
    /// Programs (the first word of any simple command).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub program: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decision: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decision_source: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ran: Option<bool>,
    /// Ran and printed nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silent: Option<bool>,
    /// Path globs (`~/.aws/**`, `*.pem`, `.env*`; home-aware).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths_read: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths_written: Vec<String>,
    /// Regexes over written paths (e.g. absolute or home paths: outside the workspace).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths_written_regex: Vec<String>,
    /// The item has an egress host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<bool>,
    /// Host globs (`*.slack.com`); a glob `example.com` also matches its subdomains.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_host: Vec<String>,
    /// Regexes over the host.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_host_regex: Vec<String>,
    /// The network proxy's verdict (`allow`, `deny`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub network_decision: Vec<String>,
    /// The item is an MCP call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mcp_server: Vec<String>,
    /// The MCP server is not among those the session was configured with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unlisted_mcp_server: Option<bool>,
    /// The item is the first in the whole store with this `network_host` or `mcp_server`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub agent: Vec<String>,
    /// Regexes over the event's text (prompt, settings JSON, permission mode).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub text: Vec<String>,
    /// Another rule's `match`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any: Vec<PredicateSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not: Option<Box<PredicateSpec>>,
}

#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    #[serde(default, rename = "match", skip_serializing_if = "Option::is_none")]
    pub matches: Option<PredicateSpec>,
    /// Another rule's `match` as this step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The same program as the previous step, sharing ≥ 60 % of its words.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub variant_of_previous: bool,
    /// Runs or changes a file the previous step wrote.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub uses_path_of_previous: bool,
    /// Runs (as a program) a file the previous step wrote.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub runs_path_of_previous: bool,
    /// Host globs that do not count for this step (an allowlist).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_not_in: Vec<String>,
}

// ---------------------------------------------------------------- compiled

/// A glob over host names: `example.com` matches it and its subdomains.
#[derive(Debug, Clone)]
struct HostGlob(globset::GlobMatcher, String);

impl HostGlob {
    fn new(p: &str) -> Result<Self, String> {
        let g = globset::GlobBuilder::new(&p.to_ascii_lowercase())
            .literal_separator(false)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(HostGlob(g.compile_matcher(), p.to_ascii_lowercase()))
    }
    fn matches(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.0.is_match(&host) || host.ends_with(&format!(".{}", self.1))
    }
}

#[derive(Debug, Clone)]
struct NameGlob(globset::GlobMatcher);

impl NameGlob {
    fn new(p: &str) -> Result<Self, String> {
        globset::GlobBuilder::new(p)
            .case_insensitive(true)
            .build()
            .map(|g| NameGlob(g.compile_matcher()))
            .map_err(|e| e.to_string())
    }
}

#[derive(Debug, Clone, Default)]
pub struct Predicate {
    kind: Vec<String>,
    tool: Vec<NameGlob>,
    command: Vec<Regex>,
    simple_command: Vec<Regex>,
    program: Vec<String>,
    decision: Vec<String>,
    decision_source: Vec<String>,
    ran: Option<bool>,
    silent: Option<bool>,
    paths_read: Vec<PathGlob>,
    paths_written: Vec<PathGlob>,
    paths_written_regex: Vec<Regex>,
    network: Option<bool>,
    network_host: Vec<HostGlob>,
    network_host_regex: Vec<Regex>,
    network_decision: Vec<String>,
    mcp: Option<bool>,
    mcp_server: Vec<NameGlob>,
    unlisted_mcp_server: Option<bool>,
    first_seen: Option<FirstSeen>,
    agent: Vec<NameGlob>,
    text: Vec<Regex>,
    rule: Option<Arc<Predicate>>,
    any: Vec<Predicate>,
    not: Option<Box<Predicate>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstSeen {
    NetworkHost,
    McpServer,
}

fn regexes(v: &[String]) -> Result<Vec<Regex>, String> {
    v.iter()
        .map(|r| Regex::new(r).map_err(|e| format!("regex {r:?}: {e}")))
        .collect()
}

fn globs<T>(v: &[String], f: impl Fn(&str) -> Result<T, String>) -> Result<Vec<T>, String> {
    v.iter().map(|g| f(g)).collect()
}

fn lower(v: &[String]) -> Vec<String> {
    v.iter().map(|s| s.to_ascii_lowercase()).collect()
}

impl Predicate {
    fn compile(
        spec: &PredicateSpec,
        matches: &BTreeMap<String, Arc<Predicate>>,
    ) -> Result<Self, String> {
        let rule = match &spec.rule {
            None => None,
            Some(id) => Some(Arc::clone(matches.get(id).ok_or_else(|| {
                format!("refers to rule {id:?}, which has no `match` (or comes later in the file)")
            })?)),
        };
        Ok(Predicate {
            kind: lower(&spec.kind),
            tool: globs(&spec.tool, NameGlob::new)?,
            command: regexes(&spec.command)?,
            simple_command: regexes(&spec.simple_command)?,
            program: spec.program.clone(),
            decision: lower(&spec.decision),
            decision_source: lower(&spec.decision_source),
            ran: spec.ran,
            silent: spec.silent,
            paths_read: globs(&spec.paths_read, |g| {
                PathGlob::new(g).map_err(|e| e.to_string())
            })?,
            paths_written: globs(&spec.paths_written, |g| {
                PathGlob::new(g).map_err(|e| e.to_string())
            })?,
            paths_written_regex: regexes(&spec.paths_written_regex)?,
            network: spec.network,
            network_host: globs(&spec.network_host, HostGlob::new)?,
            network_host_regex: regexes(&spec.network_host_regex)?,
            network_decision: lower(&spec.network_decision),
            mcp: spec.mcp,
            mcp_server: globs(&spec.mcp_server, NameGlob::new)?,
            unlisted_mcp_server: spec.unlisted_mcp_server,
            first_seen: match spec.first_seen.as_deref() {
                None => None,
                Some("network_host") => Some(FirstSeen::NetworkHost),
                Some("mcp_server") => Some(FirstSeen::McpServer),
                Some(other) => {
                    return Err(format!(
                        "first_seen = {other:?}: use \"network_host\" or \"mcp_server\""
                    ));
                }
            },
            agent: globs(&spec.agent, NameGlob::new)?,
            text: regexes(&spec.text)?,
            rule,
            any: spec
                .any
                .iter()
                .map(|p| Predicate::compile(p, matches))
                .collect::<Result<_, _>>()?,
            not: spec
                .not
                .as_deref()
                .map(|p| Predicate::compile(p, matches).map(Box::new))
                .transpose()?,
        })
    }

    /// Whether `item` of `session` satisfies every condition.
    pub fn matches(&self, item: &Item, session: &Session, ctx: &StoreContext) -> bool {
        if !self.kind.is_empty() && !item.kinds.iter().any(|k| self.kind.contains(k)) {
            return false;
        }
        if !self.tool.is_empty()
            && !item
                .tool_name
                .as_deref()
                .is_some_and(|t| self.tool.iter().any(|g| g.0.is_match(t)))
        {
            return false;
        }
        if !self.command.is_empty()
            && !item
                .command
                .as_deref()
                .is_some_and(|c| self.command.iter().any(|r| r.is_match(c)))
        {
            return false;
        }
        if !self.simple_command.is_empty()
            && !item
                .simple_commands
                .iter()
                .any(|c| self.simple_command.iter().any(|r| r.is_match(c)))
        {
            return false;
        }
        if !self.program.is_empty() && !item.programs.iter().any(|p| self.program.contains(p)) {
            return false;
        }
        if !self.decision.is_empty()
            && !item
                .decision
                .as_deref()
                .is_some_and(|d| self.decision.iter().any(|x| x == d))
        {
            return false;
        }
        if !self.decision_source.is_empty()
            && !item
                .decision_source
                .as_deref()
                .is_some_and(|d| self.decision_source.iter().any(|x| x == d))
        {
            return false;
        }
        if self.ran.is_some_and(|r| r != item.ran) {
            return false;
        }
        if self.silent.is_some_and(|s| s != item.silent()) {
            return false;
        }
        if !self.paths_read.is_empty()
            && !item
                .paths_read
                .iter()
                .any(|p| self.paths_read.iter().any(|g| g.matches(p)))
        {
            return false;
        }
        if !self.paths_written.is_empty()
            && !item
                .paths_written
                .iter()
                .any(|p| self.paths_written.iter().any(|g| g.matches(p)))
        {
            return false;
        }
        if !self.paths_written_regex.is_empty()
            && !item
                .paths_written
                .iter()
                .any(|p| self.paths_written_regex.iter().any(|r| r.is_match(p)))
        {
            return false;
        }
        if self
            .network
            .is_some_and(|n| n != item.network_host.is_some())
        {
            return false;
        }
        if !self.network_host.is_empty()
            && !item
                .network_host
                .as_deref()
                .is_some_and(|h| self.network_host.iter().any(|g| g.matches(h)))
        {
            return false;
        }
        if !self.network_host_regex.is_empty()
            && !item
                .network_host
                .as_deref()
                .is_some_and(|h| self.network_host_regex.iter().any(|r| r.is_match(h)))
        {
            return false;
        }
        if !self.network_decision.is_empty()
            && !item
                .network_decision
                .as_deref()
                .is_some_and(|d| self.network_decision.iter().any(|x| x == d))
        {
            return false;
        }
        if self.mcp.is_some_and(|m| m != item.mcp_server.is_some()) {
            return false;
        }
        if !self.mcp_server.is_empty()
            && !item
                .mcp_server
                .as_deref()
                .is_some_and(|s| self.mcp_server.iter().any(|g| g.0.is_match(s)))
        {
            return false;
        }
        if let Some(want) = self.unlisted_mcp_server {
            let unlisted = match (&item.mcp_server, &session.configured_mcp_servers) {
                (Some(s), Some(configured)) => !configured.iter().any(|c| c == s),
                _ => false,
            };
            if unlisted != want {
                return false;
            }
        }
        if let Some(f) = self.first_seen {
            let first = match f {
                FirstSeen::NetworkHost => item
                    .network_host
                    .as_deref()
                    .is_some_and(|h| ctx.is_first_host(h, item)),
                FirstSeen::McpServer => item
                    .mcp_server
                    .as_deref()
                    .is_some_and(|s| ctx.is_first_mcp_server(s, item)),
            };
            if !first {
                return false;
            }
        }
        if !self.agent.is_empty()
            && !item
                .agent
                .as_deref()
                .is_some_and(|a| self.agent.iter().any(|g| g.0.is_match(a)))
        {
            return false;
        }
        if !self.text.is_empty()
            && !item
                .text
                .as_deref()
                .is_some_and(|t| self.text.iter().any(|r| r.is_match(t)))
        {
            return false;
        }
        if let Some(r) = &self.rule
            && !r.matches(item, session, ctx)
        {
            return false;
        }
        if !self.any.is_empty() && !self.any.iter().any(|p| p.matches(item, session, ctx)) {
            return false;
        }
        if let Some(n) = &self.not
            && n.matches(item, session, ctx)
        {
            return false;
        }
        true
    }
}

#[derive(Debug, Clone)]
pub struct Step {
    pub predicate: Arc<Predicate>,
    pub variant_of_previous: bool,
    pub uses_path_of_previous: bool,
    pub runs_path_of_previous: bool,
    host_not_in: Vec<HostGlob>,
}

impl Step {
    pub fn host_allowed(&self, item: &Item) -> bool {
        self.host_not_in.is_empty()
            || item
                .network_host
                .as_deref()
                .is_none_or(|h| !self.host_not_in.iter().any(|g| g.matches(h)))
    }
}

/// How a rule is evaluated.
#[derive(Debug, Clone)]
pub enum RuleBody {
    /// Vigil's own format: a match and/or a sequence.
    Native {
        on: Target,
        matches: Option<Arc<Predicate>>,
        sequence: Vec<Step>,
        within_events: Option<usize>,
        within_seconds: Option<u64>,
        once_per_session: bool,
    },
    /// A Sigma rule (detection or correlation), evaluated by `rsigma` over the
    /// session's `agent_events` rows; see [`super::sigma`].
    Sigma,
}

/// One loaded rule, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub title: String,
    pub severity: Severity,
    pub description: String,
    /// Where it came from: `default`, a file path.
    pub source: String,
    /// The definition (TOML as loaded, or the Sigma YAML document), for `/api/rules`.
    pub definition: String,
    pub body: RuleBody,
}

/// Every loaded rule, by id, in load order.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    specs: Vec<(String, RuleSpec)>,
    sigma: super::sigma::SigmaRules,
    /// Ids turned off by `enabled = false` with nothing else (any kind of rule).
    disabled: Vec<String>,
}

impl RuleSet {
    /// The default rules.
    pub fn defaults() -> Self {
        let mut set = RuleSet::default();
        set.add_toml("default", DEFAULT_RULES)
            .expect("the default rules compile");
        set
    }

    /// The default rules, then each file in order (TOML, or Sigma YAML for
    /// `.yml` / `.yaml`), a later rule replacing an earlier one of the same id.
    pub fn load(files: &[std::path::PathBuf]) -> Result<Self, RuleError> {
        let mut set = RuleSet::defaults();
        for f in files {
            let name = f.display().to_string();
            let text = std::fs::read_to_string(f).map_err(|e| RuleError::File {
                file: name.clone(),
                reason: e.to_string(),
            })?;
            let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
            if matches!(ext, "yml" | "yaml") {
                set.add_sigma(&name, &text)?;
            } else {
                set.add_toml(&name, &text)?;
            }
        }
        Ok(set)
    }

    /// Adds (or overrides by id) the rules of a TOML file.
    pub fn add_toml(&mut self, file: &str, text: &str) -> Result<(), RuleError> {
        let parsed: RuleFile = toml::from_str(text).map_err(|e| RuleError::File {
            file: file.to_string(),
            reason: e.to_string(),
        })?;
        for spec in parsed.rule {
            let only_disables =
                spec.enabled == Some(false) && spec.matches.is_none() && spec.sequence.is_none();
            match self.specs.iter_mut().find(|(_, s)| s.id == spec.id) {
                // an override keeps what it does not restate
                Some((src, old)) => {
                    *old = merge(old.clone(), spec);
                    *src = file.to_string();
                }
                None if only_disables => self.disabled.push(spec.id),
                None => {
                    self.sigma.remove(&spec.id);
                    self.specs.push((file.to_string(), spec));
                }
            }
        }
        self.compile()
    }

    /// Adds (or overrides by id) the rules of a Sigma YAML file.
    pub fn add_sigma(&mut self, file: &str, text: &str) -> Result<(), RuleError> {
        let ids = self.sigma.add(file, text)?;
        self.specs.retain(|(_, s)| !ids.contains(&s.id));
        self.disabled.retain(|d| !ids.contains(d));
        self.compile()
    }

    fn compile(&mut self) -> Result<(), RuleError> {
        let mut matches: BTreeMap<String, Arc<Predicate>> = BTreeMap::new();
        let mut rules = Vec::new();
        for (file, spec) in &self.specs {
            let err = |reason: String| RuleError::Rule {
                file: file.clone(),
                id: spec.id.clone(),
                reason,
            };
            let m = spec
                .matches
                .as_ref()
                .map(|p| Predicate::compile(p, &matches).map(Arc::new))
                .transpose()
                .map_err(err)?;
            if let Some(m) = &m {
                matches.insert(spec.id.clone(), Arc::clone(m));
            }
            let sequence = spec
                .sequence
                .iter()
                .flatten()
                .map(|step| {
                    let predicate = match (&step.matches, &step.rule) {
                        (Some(p), None) => Arc::new(Predicate::compile(p, &matches)?),
                        (None, Some(id)) => Arc::clone(matches.get(id).ok_or_else(|| {
                            format!("a step refers to rule {id:?}, which has no `match` (or comes later)")
                        })?),
                        _ => return Err("each step needs exactly one of `match` or `rule`".to_string()),
                    };
                    Ok(Step {
                        predicate,
                        variant_of_previous: step.variant_of_previous,
                        uses_path_of_previous: step.uses_path_of_previous,
                        runs_path_of_previous: step.runs_path_of_previous,
                        host_not_in: globs(&step.host_not_in, HostGlob::new)?,
                    })
                })
                .collect::<Result<Vec<_>, String>>()
                .map_err(err)?;
            if m.is_none() && sequence.is_empty() {
                return Err(err("a rule needs a `match` or a `sequence`".into()));
            }
            if sequence.len() == 1 {
                return Err(err(
                    "a sequence needs at least two steps (use `match` for one)".into(),
                ));
            }
            let severity = spec.severity.ok_or_else(|| err("no `severity`".into()))?;
            if spec.enabled == Some(false) || self.disabled.contains(&spec.id) {
                continue;
            }
            rules.push(Rule {
                id: spec.id.clone(),
                title: spec.title.clone().unwrap_or_else(|| spec.id.clone()),
                severity,
                description: spec.description.clone().unwrap_or_default(),
                source: file.clone(),
                definition: toml::to_string(spec).unwrap_or_default(),
                body: RuleBody::Native {
                    on: spec.on.unwrap_or_default(),
                    matches: m,
                    sequence,
                    within_events: spec.within_events,
                    within_seconds: spec.within_seconds,
                    once_per_session: spec.once_per_session.unwrap_or(false),
                },
            });
        }
        for r in self.sigma.rules() {
            if !self.disabled.contains(&r.id) {
                rules.push(r.clone());
            }
        }
        self.rules = rules;
        Ok(())
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub(crate) fn sigma(&self) -> &super::sigma::SigmaRules {
        &self.sigma
    }

    /// A digest of every enabled rule's definition (and of [`PASS_FORMAT`]): a
    /// pass records it, and a server started with different rules re-evaluates
    /// every session.
    pub fn digest(&self) -> String {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        // what a pass writes is part of it too: markers gained the session
        // summary, so a store from before re-evaluates once to get them
        h.update(PASS_FORMAT.as_bytes());
        for r in &self.rules {
            h.update(r.id.as_bytes());
            h.update(&[0]);
            h.update(r.definition.as_bytes());
            h.update(&[0]);
        }
        format!("{:016x}", h.digest())
    }
}

/// The version of what a detection pass writes; changing it re-evaluates every
/// session once (2: marker rows carry the session summary).
const PASS_FORMAT: &str = "pass-format-2";

/// `newer` over `older`: fields `newer` sets replace those of `older`.
fn merge(older: RuleSpec, newer: RuleSpec) -> RuleSpec {
    RuleSpec {
        id: newer.id,
        title: newer.title.or(older.title),
        severity: newer.severity.or(older.severity),
        description: newer.description.or(older.description),
        enabled: newer.enabled.or(older.enabled),
        on: newer.on.or(older.on),
        matches: newer.matches.or(older.matches),
        sequence: newer.sequence.or(older.sequence),
        within_events: newer.within_events.or(older.within_events),
        within_seconds: newer.within_seconds.or(older.within_seconds),
        once_per_session: newer.once_per_session.or(older.once_per_session),
    }
}
