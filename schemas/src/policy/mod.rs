//! Permission policies, evaluated retroactively against recorded tool calls.
//!
//! `vigil check` asks of every row of `agent_actions`: what would this policy
//! have said about this call? A [`Policy`] is one file, either a Claude Code
//! `settings.json` ([`claude`]) or a Codex `.rules` file ([`codex`]); the format
//! is told by the content (a JSON object is Claude settings, anything else
//! Codex rules) or a `.json` file name. [`Policy::evaluate`] judges one
//! [`Action`] and gives a [`Verdict`]: the [`Decision`], the rule as written and
//! where it is. A [`PolicySet`] judges with several files at once.
//!
//! # Which tool an action is
//!
//! Rules are written for one agent's tool names; actions come from any agent.
//! [`tool_kind`] maps an action by its shape:
//!
//! - Claude Code's own tool names are themselves (`Bash`, `Read`, `Grep`,
//!   `Glob`, `LS`, `NotebookRead`, `Edit`, `Write`, `MultiEdit`,
//!   `NotebookEdit`, `WebFetch`, `WebSearch`);
//! - `mcp__<server>__<tool>` names, or any action with `mcp_server` set, are MCP
//!   tools;
//! - Codex `apply_patch` is an edit;
//! - a shell tool is `Bash`: the known names (`exec_command`, `shell`,
//!   `shell_command`, `local_shell`, `container.exec`, `unified_exec`,
//!   `run_shell_command`, …) and any other tool whose `command` is a shell
//!   command line rather than Vigil's `<tool> <argument>` summary;
//! - otherwise a tool that wrote paths is an edit, one that only read paths a
//!   read, and anything else is judged by its name alone.
//!
//! So Claude `Bash(…)` rules judge a Codex `exec_command`, and Codex prefix rules
//! judge a Claude `Bash` call.
//!
//! # Shell commands
//!
//! Both agents judge a compound command (`&&`, `||`, `;`, `|`) one simple
//! command at a time, on the argv [`simple_commands`] gives (wrappers such as
//! `sudo`, `env X=1`, `timeout 5`, `nohup` removed, redirections dropped). A
//! command is denied if any part is denied, asks if any part asks, and is
//! allowed only if every part is allowed; otherwise the policy's fallback
//! applies. A shell wrapper (`bash -lc '<script>'`, `sh -c`, `zsh -c`) is
//! looked into: the script's commands are judged too (see each format for how
//! they count).
//!
//! [`simple_commands`]: crate::normalize::shell::simple_commands

pub mod claude;
pub mod codex;

use crate::normalize::shell::simple_commands;

/// What a policy says about an action. Ordered by strictness, so `max` is the
/// strictest: `Allow < Ask < Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decision {
    Allow,
    Ask,
    Deny,
}

impl Decision {
    /// `allow`, `ask`, `deny`: the words `agent_actions.decision` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Ask => "ask",
            Decision::Deny => "deny",
        }
    }
}

impl std::fmt::Display for Decision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One tool call, as `agent_actions` records it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Action<'a> {
    pub tool_name: &'a str,
    /// The shell command, or for other tools Vigil's summary (`Read /path`).
    pub command: Option<&'a str>,
    pub paths_read: &'a [String],
    pub paths_written: &'a [String],
    pub network_host: Option<&'a str>,
    pub mcp_server: Option<&'a str>,
}

/// A policy's answer for one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub decision: Decision,
    /// The rule that decided, as written in the file (a Claude rule string such
    /// as `Bash(rm -rf:*)`, or a Codex `prefix_rule(…)` call's source text).
    /// `None` when no rule matched and the decision is the policy's default.
    pub rule: Option<String>,
    /// The file the rule (or the default mode) came from, as given to
    /// [`Policy::parse`].
    pub file: String,
    /// 1-based line of the rule; for a default, the line of `defaultMode`, or
    /// 0 when the file does not set one.
    pub line: usize,
    /// Why: a Codex rule's `justification`, or for a Claude default the mode
    /// that gave it. `None` for a Claude rule.
    pub justification: Option<String>,
}

/// A policy file that cannot be used: `vigil check` exits 2 with this.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct PolicyError {
    pub file: String,
    /// 1-based line of the problem.
    pub line: usize,
    pub reason: String,
}

impl PolicyError {
    pub(crate) fn new(file: &str, line: usize, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_string(),
            line: line.max(1),
            reason: reason.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyFormat {
    /// Claude Code `settings.json` (`permissions.allow` / `ask` / `deny`).
    ClaudeSettings,
    /// Codex execpolicy `.rules` (`prefix_rule(…)`).
    CodexRules,
}

#[derive(Debug, Clone)]
enum Inner {
    Claude(claude::ClaudeSettings),
    Codex(codex::CodexRules),
}

/// One loaded policy file.
#[derive(Debug, Clone)]
pub struct Policy(Inner);

impl Policy {
    /// Parses `text`, the content of `file` (the name is used in verdicts and
    /// errors, and a `.json` name forces the Claude format). A file whose first
    /// non-blank character is `{` is Claude settings; anything else is Codex
    /// rules (an empty file is a rules file with no rules).
    pub fn parse(file: &str, text: &str) -> Result<Policy, PolicyError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let json = text.trim_start().starts_with('{') || file.ends_with(".json");
        Ok(Policy(if json {
            Inner::Claude(claude::ClaudeSettings::parse(file, text)?)
        } else {
            Inner::Codex(codex::CodexRules::parse(file, text)?)
        }))
    }

    pub fn format(&self) -> PolicyFormat {
        match &self.0 {
            Inner::Claude(_) => PolicyFormat::ClaudeSettings,
            Inner::Codex(_) => PolicyFormat::CodexRules,
        }
    }

    pub fn file(&self) -> &str {
        match &self.0 {
            Inner::Claude(c) => c.file(),
            Inner::Codex(c) => c.file(),
        }
    }

    pub fn as_claude(&self) -> Option<&claude::ClaudeSettings> {
        match &self.0 {
            Inner::Claude(c) => Some(c),
            Inner::Codex(_) => None,
        }
    }

    pub fn as_codex(&self) -> Option<&codex::CodexRules> {
        match &self.0 {
            Inner::Claude(_) => None,
            Inner::Codex(c) => Some(c),
        }
    }

    /// This file's verdict. Claude settings always give one (no matching rule
    /// means the default mode decides); Codex rules give `None` when no rule
    /// decides (Codex then falls back to its approval policy, which the rules
    /// file does not hold) and for non-shell actions.
    pub fn evaluate(&self, action: &Action<'_>) -> Option<Verdict> {
        match &self.0 {
            Inner::Claude(c) => Some(claude::evaluate(&[c], action)),
            Inner::Codex(c) => c.evaluate(action),
        }
    }
}

/// Several policy files judged together.
///
/// The strictest verdict across files wins; between equally strict verdicts,
/// the earlier file's. Claude settings files are first merged into one layered
/// configuration, as Claude Code merges user, project and local settings: a
/// rule in any of them applies (deny > ask > allow), and only when no rule of
/// any of them matches does the default mode decide (the first file that sets
/// `defaultMode`, so pass the most specific first). The merged Claude verdict
/// takes the place of the first Claude file in the order.
#[derive(Debug, Clone, Default)]
pub struct PolicySet {
    policies: Vec<Policy>,
}

impl PolicySet {
    pub fn new(policies: Vec<Policy>) -> Self {
        Self { policies }
    }

    pub fn push(&mut self, policy: Policy) {
        self.policies.push(policy);
    }

    pub fn policies(&self) -> &[Policy] {
        &self.policies
    }

    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// The strictest verdict of the set; `None` when it has no Claude file and
    /// no Codex rule decides.
    pub fn evaluate(&self, action: &Action<'_>) -> Option<Verdict> {
        let claude: Vec<&claude::ClaudeSettings> =
            self.policies.iter().filter_map(Policy::as_claude).collect();
        let mut claude_done = false;
        let mut best: Option<Verdict> = None;
        for policy in &self.policies {
            let verdict = match &policy.0 {
                Inner::Claude(_) if claude_done => continue,
                Inner::Claude(_) => {
                    claude_done = true;
                    Some(claude::evaluate(&claude, action))
                }
                Inner::Codex(c) => c.evaluate(action),
            };
            if let Some(v) = verdict
                && best.as_ref().is_none_or(|b| v.decision > b.decision)
            {
                best = Some(v);
            }
        }
        best
    }
}

/// What kind of tool an action is, for the rules of either format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind<'a> {
    /// A shell command (Claude `Bash`); the command line, `""` if none.
    Shell(&'a str),
    /// A file-reading tool: its Claude name (`Read`, `Grep`, `Glob`, `LS`,
    /// `NotebookRead`; `Read` for other agents' readers).
    Read(&'a str),
    /// A file-editing tool: its Claude name (`Edit`, `Write`, `MultiEdit`,
    /// `NotebookEdit`; `Edit` for `apply_patch` and other writers).
    Edit(&'a str),
    WebFetch,
    WebSearch,
    Mcp {
        server: &'a str,
        tool: &'a str,
    },
    /// Anything else, known by its tool name only.
    Other(&'a str),
}

/// Claude Code's tools that need no permission in its `default` mode.
pub(crate) const READ_ONLY_TOOLS: [&str; 7] = [
    "Read",
    "Grep",
    "Glob",
    "LS",
    "NotebookRead",
    "TodoWrite",
    "TodoRead",
];
const CLAUDE_READ_TOOLS: [&str; 5] = ["Read", "Grep", "Glob", "LS", "NotebookRead"];
const CLAUDE_EDIT_TOOLS: [&str; 4] = ["Edit", "Write", "MultiEdit", "NotebookEdit"];
/// Other agents' shell tools (Codex, Gemini CLI, Cline, Cursor, …).
const SHELL_TOOLS: [&str; 11] = [
    "exec_command",
    "shell",
    "shell_command",
    "local_shell",
    "container.exec",
    "unified_exec",
    "run_shell_command",
    "execute_command",
    "run_terminal_cmd",
    "bash",
    "terminal",
];

/// Classifies an action; see the [module docs](self).
pub fn tool_kind<'a>(action: &Action<'a>) -> ToolKind<'a> {
    let name = action.tool_name;
    let command = action.command.unwrap_or("");
    if name == "Bash" {
        return ToolKind::Shell(command);
    }
    if CLAUDE_READ_TOOLS.contains(&name) {
        return ToolKind::Read(name);
    }
    if CLAUDE_EDIT_TOOLS.contains(&name) {
        return ToolKind::Edit(name);
    }
    match name {
        "WebFetch" => return ToolKind::WebFetch,
        "WebSearch" | "web_search" => return ToolKind::WebSearch,
        "apply_patch" => return ToolKind::Edit("Edit"),
        // Codex's plan tool is Claude's TodoWrite
        "update_plan" => return ToolKind::Other("TodoWrite"),
        _ => {}
    }
    if let Some(rest) = name.strip_prefix(crate::attrs::mcp::TOOL_PREFIX) {
        let (server, tool) = rest.split_once("__").unwrap_or((rest, ""));
        return ToolKind::Mcp {
            server: action.mcp_server.unwrap_or(server),
            tool,
        };
    }
    if let Some(server) = action.mcp_server.filter(|s| !s.is_empty()) {
        return ToolKind::Mcp { server, tool: name };
    }
    if SHELL_TOOLS.contains(&name) {
        return ToolKind::Shell(command);
    }
    // Vigil summarises non-shell tools as `<tool> <argument>`
    let summary = command == name
        || command
            .strip_prefix(name)
            .is_some_and(|r| r.starts_with(' '));
    if !command.is_empty() && !summary {
        return ToolKind::Shell(command);
    }
    if !action.paths_written.is_empty() {
        ToolKind::Edit("Edit")
    } else if !action.paths_read.is_empty() {
        ToolKind::Read("Read")
    } else {
        ToolKind::Other(name)
    }
}

/// One simple command of a shell command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub argv: Vec<String>,
    /// `bash -lc '<script>'` and the like: its script's commands follow it
    pub wrapper: bool,
    /// inside a wrapper's script
    pub nested: bool,
}

/// How deep shell wrappers are looked into (`bash -c "sh -c '…'"`).
const MAX_WRAPPER_DEPTH: usize = 4;

/// The script of a shell wrapper argv: `bash|sh|zsh|dash [-flags]c <script>`.
pub(crate) fn wrapped_script(argv: &[String]) -> Option<&str> {
    let prog = argv.first()?.rsplit('/').next()?;
    if !matches!(prog, "bash" | "sh" | "zsh" | "dash" | "ksh") {
        return None;
    }
    let flag = argv.get(1)?;
    let is_c = flag.starts_with('-') && !flag.starts_with("--") && flag.ends_with('c');
    is_c.then(|| argv.get(2).map(String::as_str)).flatten()
}

/// The simple commands of `cmd`, shell wrappers followed by their script's.
pub(crate) fn shell_parts(cmd: &str) -> Vec<Part> {
    // `simple_commands` already follows a wrapper into its script and lists
    // the script's commands right after it; they are skipped here and walked
    // again one level deeper so each part knows whether it is nested.
    fn walk(cmd: &str, depth: usize, out: &mut Vec<Part>) {
        let mut argvs = simple_commands(cmd).into_iter();
        while let Some(argv) = argvs.next() {
            let script = wrapped_script(&argv).map(str::to_string);
            if let Some(script) = &script {
                let inner = simple_commands(script).len();
                argvs.by_ref().take(inner).for_each(drop);
            }
            let script = script.filter(|_| depth < MAX_WRAPPER_DEPTH);
            out.push(Part {
                argv,
                wrapper: script.is_some(),
                nested: depth > 0,
            });
            if let Some(script) = script {
                walk(&script, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(cmd, 0, &mut out);
    out
}

/// The strictest of `hits`; the first of equally strict ones.
pub(crate) fn strictest<T: Copy>(
    hits: impl IntoIterator<Item = (Decision, T)>,
) -> Option<(Decision, T)> {
    let mut best: Option<(Decision, T)> = None;
    for hit in hits {
        if best.is_none_or(|b| hit.0 > b.0) {
            best = Some(hit);
        }
    }
    best
}

/// Combines per-part results: `required` (every part must be allowed for the
/// whole to be allowed), `extra` (can only make it stricter) and `whole` (a rule
/// that matched the whole command line: if it allows, it covers every part).
/// `None`: no rule decides the whole; the fallback applies.
pub(crate) fn combine<T: Copy>(
    required: &[Option<(Decision, T)>],
    extra: &[(Decision, T)],
    whole: &[(Decision, T)],
) -> Option<(Decision, T)> {
    let all = required.iter().flatten().chain(extra).chain(whole).copied();
    let best = strictest(all)?;
    if best.0 > Decision::Allow {
        return Some(best);
    }
    if let Some(w) = whole.first() {
        return Some(*w);
    }
    if !required.is_empty() && required.iter().all(Option::is_some) {
        return required[0];
    }
    None
}

#[cfg(test)]
mod tests;
