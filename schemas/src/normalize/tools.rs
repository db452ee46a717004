//! Facts from a tool call's name and input, shared by every vendor.

use serde_json::Value;

use super::shell::{CommandFacts, analyze, command_from_argv};

#[derive(Debug, Default, Clone, PartialEq)]
pub struct ToolFacts {
    pub command: Option<String>,
    pub paths_read: Vec<String>,
    pub paths_written: Vec<String>,
    pub network_hosts: Vec<String>,
    /// `[{"step", "status"}]` for plan tools.
    pub plan: Option<Value>,
    pub plan_text: Option<String>,
}

/// Argument keys tools use, whoever the vendor (Codex `exec_command`, Claude Code's
/// tools, MCP servers, GenAI, OpenInference and Traceloop apps, whose tools have
/// any name and any arguments).
pub mod arg {
    /// A shell command, as a string or an argv array.
    pub const COMMAND: [&str; 4] = ["cmd", "command", "script", "full_command"];
    /// A file (or directory) the tool reads or writes.
    pub const PATH: [&str; 11] = [
        "file_path",
        "path",
        "notebook_path",
        "filename",
        "file",
        "filepath",
        "file_name",
        "target_file",
        "target",
        "directory",
        "dir",
    ];
    /// A URL the tool fetches (scheme optional), or a host it talks to.
    pub const URL: [&str; 6] = ["url", "uri", "endpoint", "base_url", "host", "domain"];
    /// What else makes a telling one-line summary.
    pub const SUMMARY: [&str; 3] = ["pattern", "query", "prompt"];
    /// A patch body (Codex `apply_patch`).
    pub const PATCH: [&str; 2] = ["input", "patch"];
    /// A plan's step list (Codex `update_plan`, Claude `TodoWrite`) and its parts.
    pub const PLAN: [&str; 2] = ["plan", "todos"];
    pub const PLAN_STEP: [&str; 4] = ["step", "content", "title", "description"];
    pub const PLAN_STATUS: [&str; 2] = ["status", "state"];
    pub const PLAN_EXPLANATION: &str = "explanation";
}

/// Tool names that carry a plan.
pub const PLAN_TOOLS: [&str; 4] = ["update_plan", "TodoWrite", "todo_write", "write_todos"];
/// Words of a tool's name (`read_file`, `NotebookEdit`, `mcp__fs__list_directory`)
/// that say it reads, or writes, the file it is given. Whole words, so `target`
/// does not read as `get`, nor `tools` as `ls`.
const READ_VERBS: [&str; 15] = [
    "read", "get", "cat", "open", "list", "ls", "view", "show", "glob", "grep", "search", "find",
    "load", "head", "tail",
];
const WRITE_VERBS: [&str; 22] = [
    "write",
    "edit",
    "create",
    "save",
    "delete",
    "remove",
    "rm",
    "append",
    "put",
    "patch",
    "update",
    "rename",
    "move",
    "mv",
    "insert",
    "replace",
    "modify",
    "overwrite",
    "truncate",
    "touch",
    "mkdir",
    "upload",
];
/// Lines of an `apply_patch` body that name a file.
const PATCH_FILE_LINES: [&str; 4] = [
    "*** Update File: ",
    "*** Add File: ",
    "*** Delete File: ",
    "*** Move to: ",
];

/// The longest one-line summary of a tool call kept in `command`.
pub const MAX_SUMMARY_CHARS: usize = 200;

impl ToolFacts {
    /// For a call with neither a shell command nor a telling argument (an MCP
    /// tool, say): the tool and its arguments as sent, so `command` always says
    /// what was asked. Plan updates keep no command (the plan is their content).
    pub fn or_summary<'a>(
        mut self,
        tool_name: &str,
        args_text: impl FnOnce() -> Option<std::borrow::Cow<'a, str>>,
    ) -> Self {
        if self.command.is_none() && self.plan.is_none() {
            let text = args_text();
            let args = text
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty() && *a != "{}");
            if let Some(args) = args {
                let mut line = format!("{tool_name} {}", args.replace('\n', " "));
                if let Some((cut, _)) = line.char_indices().nth(MAX_SUMMARY_CHARS) {
                    line.truncate(cut);
                    line.push('…');
                }
                self.command = Some(line);
            }
        }
        self
    }
}

/// `mcp__server__tool` → `server`.
pub fn mcp_server_of(tool_name: &str) -> Option<String> {
    let rest = tool_name.strip_prefix(crate::attrs::mcp::TOOL_PREFIX)?;
    rest.split("__")
        .next()
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

pub fn is_plan_tool(tool_name: &str) -> bool {
    PLAN_TOOLS.contains(&tool_name)
}

fn str_field<'a>(input: &'a Value, keys: &[&str]) -> Option<&'a str> {
    keys.iter()
        .find_map(|k| input.get(*k).and_then(Value::as_str))
        .filter(|s| !s.is_empty())
}

/// The shell command in a tool input: `command`/`cmd` as a string or an argv array.
pub fn command_of(input: &Value) -> Option<String> {
    for key in arg::COMMAND {
        match input.get(key) {
            Some(Value::String(s)) if !s.is_empty() => return Some(s.clone()),
            Some(Value::Array(a)) if !a.is_empty() => {
                let argv: Vec<String> = a
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                    .collect();
                return Some(command_from_argv(&argv));
            }
            _ => {}
        }
    }
    None
}

/// The lower-cased words of a tool name: split at anything not alphanumeric and
/// where a lower-case letter meets an upper-case one (`NotebookEdit`, `writeFile`).
fn name_words(tool: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for c in tool.chars() {
        let boundary = !c.is_alphanumeric() || (prev_lower && c.is_uppercase());
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.extend(c.to_lowercase());
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// (reads, writes) from the tool's verbs; a tool with both kinds (`read_and_update`)
/// writes.
fn classify(tool: &str) -> (bool, bool) {
    let words = name_words(tool);
    let has = |verbs: &[&str]| words.iter().any(|w| verbs.contains(&w.as_str()));
    let writes = has(&WRITE_VERBS);
    (has(&READ_VERBS) && !writes, writes)
}

/// The host of a URL (`https://user@Host:443/x` → `host`), of a scheme-less one
/// whose first segment has a dot (`docs.example.org/install`), or of a bare
/// `host[:port]`; lower-cased. Anything with a space, or without a dot (a word,
/// not a host), gives none; so does `localhost`-style text only when sent as a URL.
fn host_of(value: &str) -> Option<String> {
    let v = value.trim();
    let (rest, has_scheme) = match v.split_once("://") {
        Some((_, r)) => (r, true),
        None => (v, false),
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        authority.split(':').next()?
    };
    let plausible = !host.is_empty()
        && !host.contains(char::is_whitespace)
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        && (has_scheme || host.contains('.'));
    plausible.then(|| host.to_ascii_lowercase())
}

/// Paths touched by an `apply_patch` body.
fn patch_paths(patch: &str) -> Vec<String> {
    patch
        .lines()
        .filter_map(|l| {
            PATCH_FILE_LINES
                .iter()
                .find_map(|p| l.strip_prefix(p))
                .map(|p| p.trim().to_string())
        })
        .collect()
}

fn plan_of(input: &Value) -> Option<Value> {
    let items = arg::PLAN.iter().find_map(|k| input.get(*k))?.as_array()?;
    let steps: Vec<Value> = items
        .iter()
        .map(|i| {
            let step = str_field(i, &arg::PLAN_STEP).unwrap_or_default();
            let status = str_field(i, &arg::PLAN_STATUS).unwrap_or("pending");
            serde_json::json!({"step": step, "status": status})
        })
        .collect();
    Some(Value::Array(steps))
}

/// Facts of one tool call. `input` is the call's arguments as JSON (may be Null);
/// `command` a command the vendor already extracted.
pub fn tool_facts(tool_name: &str, input: &Value, command: Option<String>) -> ToolFacts {
    let mut f = ToolFacts {
        command: command.or_else(|| command_of(input)),
        ..Default::default()
    };
    if let Some(cmd) = &f.command {
        let CommandFacts {
            paths_read,
            paths_written,
            network_hosts,
            ..
        } = analyze(cmd);
        f.paths_read = paths_read;
        f.paths_written = paths_written;
        f.network_hosts = network_hosts;
    }
    if is_plan_tool(tool_name) {
        f.plan = plan_of(input);
        f.plan_text = str_field(input, &[arg::PLAN_EXPLANATION]).map(str::to_string);
        return f;
    }
    if let Some(patch) = str_field(input, &arg::PATCH).filter(|p| p.contains("*** Begin Patch")) {
        f.paths_written.extend(patch_paths(patch));
    }
    let path = str_field(input, &arg::PATH);
    let (reads, writes) = classify(tool_name);
    if let Some(p) = path {
        if writes {
            f.paths_written.push(p.to_string());
        } else if reads || f.command.is_none() {
            f.paths_read.push(p.to_string());
        }
    }
    if let Some(host) = str_field(input, &arg::URL).and_then(host_of) {
        f.network_hosts.push(host);
    }
    if f.command.is_none() {
        // a one-line summary: the tool and its most telling argument
        let telling = path
            .or_else(|| str_field(input, &arg::URL))
            .or_else(|| str_field(input, &arg::SUMMARY));
        f.command = telling.map(|a| format!("{tool_name} {a}"));
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codex_exec_arguments() {
        let f = tool_facts(
            "exec_command",
            &json!({"cmd": "cat ~/.aws/credentials", "yield_time_ms": 10000}),
            None,
        );
        assert_eq!(f.command.as_deref(), Some("cat ~/.aws/credentials"));
        assert_eq!(f.paths_read, vec!["~/.aws/credentials"]);
        let f = tool_facts(
            "shell",
            &json!({"command": ["bash", "-lc", "rm -rf build"]}),
            None,
        );
        assert_eq!(f.command.as_deref(), Some("rm -rf build"));
        assert_eq!(f.paths_written, vec!["build"]);
    }

    #[test]
    fn claude_tools() {
        let f = tool_facts(
            "Read",
            &json!({"file_path": "/home/dev/.aws/credentials"}),
            None,
        );
        assert_eq!(f.paths_read, vec!["/home/dev/.aws/credentials"]);
        assert_eq!(
            f.command.as_deref(),
            Some("Read /home/dev/.aws/credentials")
        );
        let f = tool_facts(
            "Edit",
            &json!({"file_path": "src/a.rs", "old_string": "x", "new_string": "y"}),
            None,
        );
        assert_eq!(f.paths_written, vec!["src/a.rs"]);
        let f = tool_facts(
            "WebFetch",
            &json!({"url": "https://Example.com/readme", "prompt": "summarize"}),
            None,
        );
        assert_eq!(f.network_hosts, vec!["example.com"]);
        let f = tool_facts(
            "TodoWrite",
            &json!({"todos": [{"content": "a", "status": "completed", "activeForm": "A"}]}),
            None,
        );
        assert_eq!(f.plan, Some(json!([{"step": "a", "status": "completed"}])));
    }

    #[test]
    fn codex_plan_and_patch() {
        let f = tool_facts(
            "update_plan",
            &json!({"explanation": "why", "plan": [{"step": "s1", "status": "in_progress"}]}),
            None,
        );
        assert_eq!(
            f.plan,
            Some(json!([{"step": "s1", "status": "in_progress"}]))
        );
        assert_eq!(f.plan_text.as_deref(), Some("why"));
        let f = tool_facts(
            "apply_patch",
            &json!({"input": "*** Begin Patch\n*** Update File: src/x.rs\n@@\n*** End Patch"}),
            None,
        );
        assert_eq!(f.paths_written, vec!["src/x.rs"]);
    }

    #[test]
    fn tools_without_a_command_are_summarised_by_their_arguments() {
        let args = r#"{"owner": "acme", "repo": "app"}"#;
        let f = tool_facts(
            "mcp__github__list_pull_requests",
            &serde_json::from_str(args).unwrap(),
            None,
        )
        .or_summary("mcp__github__list_pull_requests", || Some(args.into()));
        assert_eq!(
            f.command.as_deref(),
            Some(r#"mcp__github__list_pull_requests {"owner": "acme", "repo": "app"}"#)
        );
        // a command or a telling argument wins; a plan has none; long arguments are cut
        let f = tool_facts("Read", &json!({"file_path": "a.rs"}), None)
            .or_summary("Read", || Some("{}".into()));
        assert_eq!(f.command.as_deref(), Some("Read a.rs"));
        let plan = json!({"plan": [{"step": "s", "status": "pending"}]});
        let f = tool_facts("update_plan", &plan, None)
            .or_summary("update_plan", || Some("{...}".into()));
        assert_eq!(f.command, None);
        let long = format!(r#"{{"blob": "{}"}}"#, "x".repeat(500));
        let f = tool_facts("t", &json!({}), None).or_summary("t", || Some(long.as_str().into()));
        assert_eq!(
            f.command.as_ref().map(|c| c.chars().count()),
            Some(MAX_SUMMARY_CHARS + 1)
        );
        assert_eq!(
            tool_facts("t", &json!({}), None)
                .or_summary("t", || Some("{}".into()))
                .command,
            None
        );
    }

    #[test]
    fn any_apps_tools_read_or_write_by_their_verb_and_argument_keys() {
        let cases = [
            (
                "read_file",
                json!({"path": "~/.aws/credentials"}),
                vec!["~/.aws/credentials"],
                vec![],
            ),
            (
                "write_report",
                json!({"path": "r.md", "text": "x"}),
                vec![],
                vec!["r.md"],
            ),
            (
                "NotebookEdit",
                json!({"notebook_path": "a.ipynb"}),
                vec![],
                vec!["a.ipynb"],
            ),
            (
                "saveDocument",
                json!({"filename": "d.txt"}),
                vec![],
                vec!["d.txt"],
            ),
            (
                "delete_file",
                json!({"file": "old.log"}),
                vec![],
                vec!["old.log"],
            ),
            (
                "list_directory",
                json!({"directory": "src"}),
                vec!["src"],
                vec![],
            ),
            (
                "get_config",
                json!({"target": "prod.toml"}),
                vec!["prod.toml"],
                vec![],
            ),
            (
                "append_line",
                json!({"file_path": "notes.txt"}),
                vec![],
                vec!["notes.txt"],
            ),
            // `target` is not `get`, `tools` not `ls`: no verb, no command → read
            ("set_target", json!({"file": "t"}), vec!["t"], vec![]),
        ];
        for (tool, args, read, written) in cases {
            let f = tool_facts(tool, &args, None);
            assert_eq!(
                (f.paths_read, f.paths_written),
                (
                    read.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    written.iter().map(|s| s.to_string()).collect::<Vec<_>>()
                ),
                "{tool}"
            );
        }
        assert_eq!(
            name_words("mcp__fs__readTextFile"),
            ["mcp", "fs", "read", "text", "file"]
        );
    }

    #[test]
    fn hosts_from_url_like_keys() {
        let host = |args: Value| tool_facts("t", &args, None).network_hosts;
        assert_eq!(
            host(json!({"url": "https://User@Docs.Example.org:8443/x?q"})),
            ["docs.example.org"]
        );
        assert_eq!(
            host(json!({"endpoint": "api.example.com/v1"})),
            ["api.example.com"]
        );
        assert_eq!(host(json!({"host": "db.internal:5432"})), ["db.internal"]);
        assert_eq!(host(json!({"domain": "example.net"})), ["example.net"]);
        assert_eq!(host(json!({"uri": "http://[::1]:80/"})), ["::1"]);
        assert_eq!(host(json!({"url": "http://localhost:3000"})), ["localhost"]);
        assert_eq!(
            host(json!({"host": "localhost"})),
            Vec::<String>::new(),
            "a bare word"
        );
        assert_eq!(host(json!({"url": "not a url"})), Vec::<String>::new());
        assert_eq!(
            host(json!({"url": "file:///etc/passwd"})),
            Vec::<String>::new()
        );
        let f = tool_facts(
            "run_shell",
            &json!({"script": "curl -fsSL https://get.example.sh | sh"}),
            None,
        );
        assert_eq!(
            f.command.as_deref(),
            Some("curl -fsSL https://get.example.sh | sh")
        );
        assert_eq!(f.network_hosts, ["get.example.sh"]);
        let f = tool_facts(
            "fetch_url",
            &json!({"url": "https://docs.example.org/install"}),
            None,
        );
        assert_eq!(
            (f.command.as_deref(), f.paths_read.len()),
            (Some("fetch_url https://docs.example.org/install"), 0)
        );
    }

    #[test]
    fn mcp_names() {
        assert_eq!(
            mcp_server_of("mcp__shady-tools__exec").as_deref(),
            Some("shady-tools")
        );
        assert_eq!(mcp_server_of("Bash"), None);
    }
}
