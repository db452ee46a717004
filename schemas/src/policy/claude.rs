//! Claude Code `settings.json` permissions.
//!
//! ```json
//! {"permissions": {"allow": ["Bash(ls:*)", "Read(~/.aws/**)"],
//!                  "ask": ["Bash(git push:*)"],
//!                  "deny": ["Bash(rm -rf:*)", "WebFetch(domain:evil.example)"],
//!                  "additionalDirectories": ["~/.aws"], "defaultMode": "default"}}
//! ```
//!
//! A rule is `Tool` (every use of the tool; `Tool(*)` is the same) or
//! `Tool(specifier)`. Any matching deny rule wins, then any ask rule, then any
//! allow rule; with none, the permission mode decides (below). Other keys of
//! the file are ignored.
//!
//! # Bash rules
//!
//! - `Bash(ls)`: exactly `ls`.
//! - `Bash(npm run test:*)` (legacy) and `Bash(npm run test *)`: the command is
//!   `npm run test` or starts with `npm run test ` — a word boundary, as Claude
//!   Code documents `Bash(ls *)` matching `ls -la` but not `lsof`. `Bash(ls*)`
//!   (no space) matches `lsof` too.
//! - `*` anywhere else matches any text, spaces included: `Bash(git * main)`.
//! - A compound command is judged per simple command (see [the policy
//!   module](super)): `Bash(ls:*)` does not allow `ls && rm -rf x`, and
//!   `Bash(rm -rf:*)` denies `ls; rm -rf x`. Wrappers (`sudo`, `timeout 5`,
//!   `nohup`, `env X=1`, …) are removed before matching; Claude Code removes
//!   `timeout`, `nice`, `nohup` and the like, so this is stricter for deny rules
//!   and looser for allow rules on `sudo`/`env`.
//! - A rule that itself contains a shell operator (`Bash(curl * | sh)`) is also
//!   tried against the whole command line. For deny and ask rules `*` then
//!   matches anything; for allow rules `*` does not match `;`, `&`, `|`,
//!   newlines, backticks or `$(`, so an allowed pipeline cannot smuggle in
//!   another command.
//! - Commands inside a shell wrapper (`bash -c '<script>'`) are judged too, but
//!   only for deny and ask: the wrapper is what Claude Code sees, so an allow
//!   rule for it (`Bash(bash:*)`) is enough to allow it.
//!
//! # File rules
//!
//! `Read(…)` rules apply to the paths read by `Read`, `Grep`, `Glob`, `LS` and
//! `NotebookRead`; `Grep(…)`, `Glob(…)`, `LS(…)`, `NotebookRead(…)` rules to that
//! tool only. `Edit(…)`, `Write(…)`, `MultiEdit(…)` and `NotebookEdit(…)` rules
//! are one family: each applies to the paths written by every file-editing
//! tool (Codex `apply_patch` included). Read rules do not apply to shell
//! commands (`cat .env`), as in Claude Code. A tool call with several paths is
//! judged per path like a compound command. Patterns are [`PathGlob`]s
//! (gitignore-like):
//!
//! - `~/x`: below the home directory (any user's, [`crate::paths`]);
//! - `//x`: the absolute path `/x`;
//! - `/x`: relative to the settings file's project root, **approximated**: the
//!   root is not in the telemetry, so it matches any path that ends in `x` (any
//!   consecutive components matching `x`);
//! - `x`, `./x`: relative to the working directory, likewise approximated;
//!   `*.env` matches a file `*.env` in any directory.
//!
//! # Other rules
//!
//! - `WebFetch(domain:example.com)`: a `WebFetch` whose host is exactly
//!   `example.com` (case-insensitive). Subdomains do not match, as in Claude
//!   Code; write `domain:*.example.com` for them (`*` is a wildcard here).
//! - `WebSearch`, and any other tool by name (`Task`, `TodoWrite`, or another
//!   agent's tool name such as `exec_command`).
//! - `mcp__server` and `mcp__server__*`: every tool of that MCP server;
//!   `mcp__server__tool`: one tool (`*` is a wildcard in the tool part). Server
//!   names are compared with characters other than letters, digits, `_` and
//!   `-` replaced by `_`, as Claude Code names them.
//! - A specifier on a tool whose specifiers Vigil does not know (`Task(Explore)`)
//!   never matches.
//!
//! # Default (no rule matches)
//!
//! `defaultMode`, Claude Code's permission mode (`default` when absent):
//!
//! | mode | read-only tools (`Read`, `Grep`, `Glob`, `LS`, `NotebookRead`, `TodoWrite`) | file edits | everything else (`Bash`, `WebFetch`, MCP, …) |
//! |---|---|---|---|
//! | `default`, `auto` | allow | ask | ask |
//! | `acceptEdits` | allow | allow | ask |
//! | `plan`, `dontAsk` | allow | deny | deny |
//! | `bypassPermissions` | allow | allow | allow |
//!
//! Approximations: reads outside the working directory and
//! `additionalDirectories` ask in real Claude Code, but the working directory is
//! not known here, so read-only tools always allow; `auto` mode's classifier is
//! not modelled (it asks); Claude Code's built-in set of harmless commands it
//! runs without asking is not modelled (they ask). `additionalDirectories` is
//! parsed and kept, not applied.

use regex::Regex;
use serde_json::Value;

use super::{
    Action, Decision, PolicyError, ToolKind, Verdict, combine, shell_parts, strictest, tool_kind,
};
use crate::normalize::shell::shell_join;
use crate::paths::PathGlob;

/// Claude Code's permission mode (`permissions.defaultMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Default,
    AcceptEdits,
    Plan,
    BypassPermissions,
    DontAsk,
    Auto,
}

impl Mode {
    const ALL: [Mode; 6] = [
        Mode::Default,
        Mode::AcceptEdits,
        Mode::Plan,
        Mode::BypassPermissions,
        Mode::DontAsk,
        Mode::Auto,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::AcceptEdits => "acceptEdits",
            Mode::Plan => "plan",
            Mode::BypassPermissions => "bypassPermissions",
            Mode::DontAsk => "dontAsk",
            Mode::Auto => "auto",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The decision for a tool call no rule matches.
    pub fn default_decision(self, kind: ToolKind<'_>) -> Decision {
        let read_only = match kind {
            ToolKind::Read(_) => true,
            ToolKind::Other(name) => super::READ_ONLY_TOOLS.contains(&name),
            _ => false,
        };
        match self {
            Mode::BypassPermissions => Decision::Allow,
            _ if read_only => Decision::Allow,
            Mode::AcceptEdits if matches!(kind, ToolKind::Edit(_)) => Decision::Allow,
            Mode::Plan | Mode::DontAsk => Decision::Deny,
            _ => Decision::Ask,
        }
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One permission rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// The list it is in: `deny`, `ask` or `allow`.
    pub decision: Decision,
    /// As written.
    pub text: String,
    /// 1-based line in the file (best effort: where the string first appears
    /// in its list).
    pub line: usize,
    matcher: Matcher,
}

#[derive(Debug, Clone)]
enum Matcher {
    /// every use of a tool
    Tool(ToolSel),
    Bash(BashPattern),
    Path {
        /// `None`: the whole family (`Read(…)`, `Edit(…)`, `Write(…)`, …)
        tool: Option<String>,
        edit: bool,
        glob: PathGlob,
    },
    Domain(Regex),
    Mcp {
        server: String,
        /// `None`: every tool of the server
        tool: Option<Regex>,
    },
    /// a specifier Vigil does not understand
    Never,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ToolSel {
    Shell,
    ReadFamily,
    ReadTool(String),
    EditFamily,
    WebFetch,
    WebSearch,
    Named(String),
}

#[derive(Debug, Clone)]
struct BashPattern {
    /// against one simple command
    part: Regex,
    /// against the whole command line, for rules with a shell operator:
    /// (deny/ask form, allow form)
    whole: Option<(Regex, Regex)>,
}

/// `*` in a Bash pattern, and the prefix tail of `X:*` / `X *`.
const ANY: &str = ".*";
/// `*` in an allow rule matched against a whole command line: no operators.
const ANY_SAFE: &str = r"(?:[^;&|\n`$]|\$[^(;&|\n`]|\$$)*";

/// Glob (`*` only) to an anchored regex; `prefix` adds "or followed by a
/// space and anything".
fn glob_regex(body: &str, prefix: bool, any: &str) -> Regex {
    let mut re = String::from("(?s)^");
    for (i, piece) in body.split('*').enumerate() {
        if i > 0 {
            re.push_str(any);
        }
        re.push_str(&regex::escape(piece));
    }
    if prefix {
        re.push_str(&format!("(?:\\s{any})?"));
    }
    re.push('$');
    Regex::new(&re).expect("escaped pattern is a valid regex")
}

impl BashPattern {
    fn new(spec: &str) -> BashPattern {
        let (body, prefix) = if let Some(b) = spec.strip_suffix(":*") {
            (b.trim_end(), true)
        } else if let Some(b) = spec.strip_suffix(" *") {
            (b.trim_end(), true)
        } else {
            (spec, false)
        };
        let whole = spec.contains(['|', ';', '&']).then(|| {
            (
                glob_regex(body, prefix, ANY),
                glob_regex(body, prefix, ANY_SAFE),
            )
        });
        BashPattern {
            part: glob_regex(body, prefix, ANY),
            whole,
        }
    }

    fn matches_argv(&self, argv: &[String]) -> bool {
        self.part.is_match(&argv.join(" ")) || self.part.is_match(&shell_join(argv))
    }

    /// Against the whole command line; `allow` picks the operator-safe form.
    fn matches_whole(&self, cmd: &str, allow: bool) -> bool {
        let Some((strict, safe)) = &self.whole else {
            return false;
        };
        let line = cmd.split_whitespace().collect::<Vec<_>>().join(" ");
        if allow {
            safe.is_match(&line)
        } else {
            strict.is_match(&line)
        }
    }
}

/// MCP server names as Claude Code forms them.
fn mcp_name(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

const READ_TOOLS: [&str; 5] = ["Read", "Grep", "Glob", "LS", "NotebookRead"];
const EDIT_TOOLS: [&str; 4] = ["Edit", "Write", "MultiEdit", "NotebookEdit"];

/// `Tool` or `Tool(specifier)` into its parts.
fn split_rule(text: &str) -> Result<(&str, Option<&str>), String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty rule".into());
    }
    let (name, spec) = match t.find('(') {
        Some(open) => {
            if !t.ends_with(')') {
                return Err(format!(
                    "unbalanced parenthesis in rule `{t}`: `(` is never closed (write `Tool` or `Tool(specifier)`)"
                ));
            }
            let spec = &t[open + 1..t.len() - 1];
            if spec.trim().is_empty() {
                return Err(format!(
                    "empty specifier in rule `{t}`: write `{}` alone to match every use",
                    &t[..open]
                ));
            }
            (&t[..open], Some(spec.trim()))
        }
        None if t.contains(')') => {
            return Err(format!(
                "unbalanced parenthesis in rule `{t}`: `)` without `(`"
            ));
        }
        None => (t, None),
    };
    let mcp = name.starts_with(crate::attrs::mcp::TOOL_PREFIX);
    let valid = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c) || (mcp && c == '*'));
    if !valid {
        return Err(format!(
            "`{name}` in rule `{t}` is not a tool name (write `Tool` or `Tool(specifier)`)"
        ));
    }
    Ok((name, spec))
}

fn parse_rule(text: &str) -> Result<Matcher, String> {
    let (name, spec) = split_rule(text)?;
    let spec = spec.filter(|s| *s != "*");
    if let Some(rest) = name.strip_prefix(crate::attrs::mcp::TOOL_PREFIX) {
        if spec.is_some() {
            return Err(format!(
                "MCP rule `{}` takes no `(…)`: write `mcp__server` or `mcp__server__tool`",
                text.trim()
            ));
        }
        let (server, tool) = match rest.split_once("__") {
            Some((s, t)) => (s, Some(t)),
            None => (rest, None),
        };
        if server.is_empty() || server.contains('*') {
            return Err(format!(
                "MCP rule `{}` needs a server name: `mcp__server` or `mcp__server__tool`",
                text.trim()
            ));
        }
        let tool = tool
            .filter(|t| !t.is_empty() && *t != "*")
            .map(|t| glob_regex(t, false, ANY));
        return Ok(Matcher::Mcp {
            server: mcp_name(server),
            tool,
        });
    }
    let Some(spec) = spec else {
        return Ok(Matcher::Tool(match name {
            "Bash" => ToolSel::Shell,
            "Read" => ToolSel::ReadFamily,
            n if READ_TOOLS.contains(&n) => ToolSel::ReadTool(n.to_string()),
            n if EDIT_TOOLS.contains(&n) => ToolSel::EditFamily,
            "WebFetch" => ToolSel::WebFetch,
            "WebSearch" => ToolSel::WebSearch,
            n => ToolSel::Named(n.to_string()),
        }));
    };
    match name {
        "Bash" => {
            let (body, prefix) = spec
                .strip_suffix(":*")
                .map(|b| (b, true))
                .unwrap_or((spec, false));
            if prefix && body.trim().is_empty() {
                return Ok(Matcher::Tool(ToolSel::Shell));
            }
            Ok(Matcher::Bash(BashPattern::new(spec)))
        }
        n if READ_TOOLS.contains(&n) || EDIT_TOOLS.contains(&n) => {
            let pattern = if let Some(abs) = spec.strip_prefix("//") {
                format!("/{abs}")
            } else if let Some(project) = spec.strip_prefix('/') {
                // project-root relative: the root is unknown, match anywhere
                if project.trim_start_matches('/').is_empty() {
                    "**".to_string()
                } else {
                    project.to_string()
                }
            } else {
                spec.to_string()
            };
            let glob = PathGlob::new(&pattern)
                .map_err(|e| format!("rule `{}`: {}", text.trim(), e.reason))?;
            let edit = EDIT_TOOLS.contains(&n);
            Ok(Matcher::Path {
                tool: (n != "Read" && !edit).then(|| n.to_string()),
                edit,
                glob,
            })
        }
        "WebFetch" => {
            let domain = spec
                .strip_prefix("domain:")
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .ok_or_else(|| {
                    format!(
                        "rule `{}`: WebFetch rules take `domain:<host>`",
                        text.trim()
                    )
                })?;
            let mut re = String::from("(?i)^");
            for (i, piece) in domain.split('*').enumerate() {
                if i > 0 {
                    re.push_str("[^/]*");
                }
                re.push_str(&regex::escape(piece));
            }
            re.push('$');
            Ok(Matcher::Domain(
                Regex::new(&re).expect("escaped pattern is a valid regex"),
            ))
        }
        _ => Ok(Matcher::Never),
    }
}

/// What one rule is asked about.
#[derive(Clone, Copy)]
enum Subject<'a> {
    /// the action as a whole
    Whole,
    /// one simple command of a shell action
    Argv(&'a [String]),
    /// one path of a file action
    Path(&'a str),
}

impl ToolSel {
    fn covers(&self, action: &Action<'_>, kind: ToolKind<'_>) -> bool {
        match (self, kind) {
            (ToolSel::Shell, ToolKind::Shell(_))
            | (ToolSel::ReadFamily, ToolKind::Read(_))
            | (ToolSel::EditFamily, ToolKind::Edit(_))
            | (ToolSel::WebFetch, ToolKind::WebFetch)
            | (ToolSel::WebSearch, ToolKind::WebSearch) => true,
            (ToolSel::ReadTool(n), ToolKind::Read(t)) => n == t,
            (ToolSel::Named(n), ToolKind::Other(t)) => n == t || *n == action.tool_name,
            (ToolSel::Named(n), _) => *n == action.tool_name,
            _ => false,
        }
    }
}

impl Rule {
    fn applies(&self, action: &Action<'_>, kind: ToolKind<'_>, subject: Subject<'_>) -> bool {
        match (&self.matcher, subject) {
            (Matcher::Tool(sel), _) => sel.covers(action, kind),
            (Matcher::Bash(p), Subject::Argv(argv)) => {
                matches!(kind, ToolKind::Shell(_)) && p.matches_argv(argv)
            }
            (Matcher::Path { tool, edit, glob }, Subject::Path(path)) => {
                let family = match kind {
                    ToolKind::Read(t) => !edit && tool.as_deref().is_none_or(|n| n == t),
                    ToolKind::Edit(_) => *edit,
                    _ => false,
                };
                family && glob.matches(path)
            }
            (Matcher::Domain(re), _) => {
                kind == ToolKind::WebFetch && action.network_host.is_some_and(|h| re.is_match(h))
            }
            (Matcher::Mcp { server, tool }, _) => match kind {
                ToolKind::Mcp { server: s, tool: t } => {
                    mcp_name(s) == *server && tool.as_ref().is_none_or(|re| re.is_match(t))
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// One loaded `settings.json`.
#[derive(Debug, Clone)]
pub struct ClaudeSettings {
    file: String,
    rules: Vec<Rule>,
    default_mode: Option<(Mode, usize)>,
    additional_directories: Vec<String>,
}

fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The offset of the object key `"key"` (followed by `:`) at or after `from`.
fn key_offset(text: &str, key: &str, from: usize) -> Option<usize> {
    let needle = format!("\"{key}\"");
    let mut start = from;
    while let Some(i) = text.get(start..)?.find(&needle) {
        let at = start + i;
        let after = &text[at + needle.len()..];
        if after.trim_start().starts_with(':') {
            return Some(at);
        }
        start = at + needle.len();
    }
    None
}

impl ClaudeSettings {
    pub fn parse(file: &str, text: &str) -> Result<Self, PolicyError> {
        let value: Value = serde_json::from_str(text).map_err(|e| {
            let msg = e.to_string();
            let msg = msg
                .rsplit_once(" at line ")
                .map_or(msg.as_str(), |(m, _)| m);
            PolicyError::new(
                file,
                e.line(),
                format!("invalid JSON: {msg} (column {})", e.column()),
            )
        })?;
        let Some(root) = value.as_object() else {
            return Err(PolicyError::new(
                file,
                1,
                "Claude settings must be a JSON object",
            ));
        };
        let mut settings = ClaudeSettings {
            file: file.to_string(),
            rules: Vec::new(),
            default_mode: None,
            additional_directories: Vec::new(),
        };
        let Some(perms) = root.get("permissions") else {
            return Ok(settings);
        };
        let perms_at = key_offset(text, "permissions", 0).unwrap_or(0);
        let err = |at: usize, reason: String| PolicyError::new(file, line_at(text, at), reason);
        let Some(perms) = perms.as_object() else {
            return Err(err(perms_at, "`permissions` must be an object".into()));
        };
        for (key, decision) in [
            ("deny", Decision::Deny),
            ("ask", Decision::Ask),
            ("allow", Decision::Allow),
        ] {
            let Some(list) = perms.get(key) else {
                continue;
            };
            let list_at = key_offset(text, key, perms_at).unwrap_or(perms_at);
            let Some(items) = list.as_array() else {
                return Err(err(
                    list_at,
                    format!("`permissions.{key}` must be a list of rule strings"),
                ));
            };
            let mut cursor = list_at;
            for item in items {
                let at = serde_json::to_string(item).ok().and_then(|needle| {
                    text.get(cursor..)?
                        .find(&needle)
                        .map(|i| (cursor + i, needle.len()))
                });
                let line_offset = at.map_or(list_at, |(i, _)| i);
                if let Some((i, len)) = at {
                    cursor = i + len;
                }
                let Some(rule_text) = item.as_str() else {
                    return Err(err(
                        line_offset,
                        format!("`permissions.{key}` holds {item}, not a rule string"),
                    ));
                };
                let matcher = parse_rule(rule_text).map_err(|reason| err(line_offset, reason))?;
                settings.rules.push(Rule {
                    decision,
                    text: rule_text.to_string(),
                    line: line_at(text, line_offset),
                    matcher,
                });
            }
        }
        if let Some(mode) = perms.get("defaultMode") {
            let at = key_offset(text, "defaultMode", perms_at).unwrap_or(perms_at);
            let parsed = mode.as_str().and_then(Mode::parse).ok_or_else(|| {
                let names: Vec<_> = Mode::ALL.iter().map(|m| m.as_str()).collect();
                err(
                    at,
                    format!(
                        "unknown defaultMode {mode} (expected one of {})",
                        names.join(", ")
                    ),
                )
            })?;
            settings.default_mode = Some((parsed, line_at(text, at)));
        }
        if let Some(dirs) = perms.get("additionalDirectories") {
            let at = key_offset(text, "additionalDirectories", perms_at).unwrap_or(perms_at);
            let dirs = dirs
                .as_array()
                .and_then(|a| {
                    a.iter()
                        .map(|d| d.as_str().map(str::to_string))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or_else(|| {
                    err(
                        at,
                        "`permissions.additionalDirectories` must be a list of paths".into(),
                    )
                })?;
            settings.additional_directories = dirs;
        }
        Ok(settings)
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    /// Deny rules first, then ask, then allow, each in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// `defaultMode` if the file sets it.
    pub fn default_mode(&self) -> Option<Mode> {
        self.default_mode.map(|(m, _)| m)
    }

    pub fn additional_directories(&self) -> &[String] {
        &self.additional_directories
    }
}

type Hit<'a> = (Decision, (&'a ClaudeSettings, &'a Rule));

/// The verdict of layered settings (user, project, local: all rules apply; the
/// first file that sets `defaultMode` gives the default).
pub(crate) fn evaluate(layers: &[&ClaudeSettings], action: &Action<'_>) -> Verdict {
    let rules: Vec<(&ClaudeSettings, &Rule)> = layers
        .iter()
        .flat_map(|l| l.rules.iter().map(move |r| (*l, r)))
        .collect();
    let kind = tool_kind(action);
    let best = |subject: Subject<'_>| -> Option<Hit<'_>> {
        strictest(
            rules
                .iter()
                .filter(|(_, r)| r.applies(action, kind, subject))
                .map(|&(l, r)| (r.decision, (l, r))),
        )
    };
    let per_path = |paths: &[String]| -> Option<Hit<'_>> {
        if paths.is_empty() {
            return best(Subject::Whole);
        }
        let required: Vec<_> = paths.iter().map(|p| best(Subject::Path(p))).collect();
        combine(&required, &[], &[])
    };
    let hit = match kind {
        ToolKind::Shell(cmd) => {
            let parts = shell_parts(cmd);
            if parts.is_empty() {
                best(Subject::Whole)
            } else {
                let required: Vec<_> = parts
                    .iter()
                    .filter(|p| !p.nested)
                    .map(|p| best(Subject::Argv(&p.argv)))
                    .collect();
                let extra: Vec<_> = parts
                    .iter()
                    .filter(|p| p.nested)
                    .filter_map(|p| best(Subject::Argv(&p.argv)))
                    .filter(|h| h.0 > Decision::Allow)
                    .collect();
                let whole: Vec<_> = rules
                    .iter()
                    .filter(|(_, r)| match &r.matcher {
                        Matcher::Bash(p) => p.matches_whole(cmd, r.decision == Decision::Allow),
                        _ => false,
                    })
                    .map(|&(l, r)| (r.decision, (l, r)))
                    .collect();
                combine(&required, &extra, &whole)
            }
        }
        ToolKind::Read(_) => per_path(action.paths_read),
        ToolKind::Edit(_) => per_path(action.paths_written),
        _ => best(Subject::Whole),
    };
    match hit {
        Some((decision, (layer, rule))) => Verdict {
            decision,
            rule: Some(rule.text.clone()),
            file: layer.file.clone(),
            line: rule.line,
            justification: None,
        },
        None => {
            let (mode, file, line) = layers
                .iter()
                .find_map(|l| l.default_mode.map(|(m, line)| (m, l.file.as_str(), line)))
                .unwrap_or((
                    Mode::Default,
                    layers.first().map_or("", |l| l.file.as_str()),
                    0,
                ));
            let decision = mode.default_decision(kind);
            let verb = match decision {
                Decision::Allow => "allows",
                Decision::Ask => "asks",
                Decision::Deny => "denies",
            };
            Verdict {
                decision,
                rule: None,
                file: file.to_string(),
                line,
                justification: Some(format!(
                    "no rule matches; Claude Code's `{mode}` permission mode {verb}"
                )),
            }
        }
    }
}
