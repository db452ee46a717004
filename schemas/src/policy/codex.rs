//! Codex execpolicy `.rules` files (`~/.codex/rules/*.rules`).
//!
//! ```python
//! # Starlark
//! SHELLS = ["bash", "sh", "zsh"]
//! prefix_rule(
//!     pattern = ["git", ["push", "fetch"], "origin"],   # a list is alternatives
//!     decision = "prompt",                              # allow | prompt | forbidden
//!     justification = "talks to the remote",
//!     match = ["git push origin main", ["git", "fetch", "origin"]],
//!     not_match = ["git status"],
//! )
//! ```
//!
//! The subset of Starlark read here: `prefix_rule(...)` calls with keyword
//! arguments, top-level assignments (`NAME = [...]`) and references to them,
//! string and list literals (single, double or triple quotes, `r"raw"`),
//! `+` between lists or strings, `True`/`False`/`None`, `#` comments, trailing
//! commas, calls over several lines. Anything else (another function, a
//! positional argument, a number) is a [`PolicyError`] with its line.
//!
//! A rule matches an argv whose first tokens are the pattern's, in order, each
//! equal to the element or one of its alternatives. A program given by path
//! (`/bin/rm`) also matches a pattern token without a `/` (`rm`). `decision`
//! maps `allow` → [`Decision::Allow`] (the default), `prompt` → `Ask`,
//! `forbidden` → `Deny`; of several matching rules the strictest wins (the
//! first of equally strict ones). `match` and `not_match` examples (strings,
//! split like a shell would, or token lists) are checked at load: each `match`
//! example must match its rule and no `not_match` example may.
//!
//! # Judging an action
//!
//! Only shell actions ([`ToolKind::Shell`]) are judged; others get no verdict.
//! The command is split into simple commands; a shell wrapper
//! (`bash -lc '<script>'`, `sh -c`, `zsh -c`) is replaced by its script's
//! commands, as Codex does, while the wrapper argv itself can only make the
//! verdict stricter (a rule forbidding `["bash", "-lc"]` still denies it). If
//! any command matches a `forbidden` rule the action is denied, else if any
//! matches `prompt` it asks; it is allowed only if every command matches an
//! `allow` rule. Otherwise the rules do not decide (`None`): Codex falls back to
//! its approval policy and sandbox, which are not in this file.
//!
//! Approximation: Codex judges a script that uses redirections, substitutions,
//! variables or globs as one opaque command (so its prefix rules do not apply
//! to the parts); here the parts are always judged, which can report a deny
//! Codex would have left to the approval policy.

use std::collections::HashMap;

use super::{
    Action, Decision, PolicyError, ToolKind, Verdict, combine, shell_parts, strictest, tool_kind,
};

/// One `prefix_rule(...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrefixRule {
    /// Per position, the accepted tokens.
    pub pattern: Vec<Vec<String>>,
    pub decision: Decision,
    pub justification: Option<String>,
    /// 1-based line of `prefix_rule`.
    pub line: usize,
    /// The call's source text, as written.
    pub text: String,
}

impl PrefixRule {
    pub fn matches<S: AsRef<str>>(&self, argv: &[S]) -> bool {
        argv.len() >= self.pattern.len()
            && self
                .pattern
                .iter()
                .zip(argv)
                .enumerate()
                .all(|(i, (alts, arg))| {
                    let arg = arg.as_ref();
                    alts.iter().any(|a| {
                        a == arg
                            || (i == 0
                                && !a.contains('/')
                                && arg.contains('/')
                                && arg.rsplit('/').next() == Some(a.as_str()))
                    })
                })
    }
}

/// One loaded `.rules` file.
#[derive(Debug, Clone)]
pub struct CodexRules {
    file: String,
    rules: Vec<PrefixRule>,
}

impl CodexRules {
    pub fn parse(file: &str, text: &str) -> Result<Self, PolicyError> {
        let tokens = lex(file, text)?;
        let mut parser = Parser {
            file,
            text,
            tokens,
            pos: 0,
            env: HashMap::new(),
            rules: Vec::new(),
        };
        parser.file_input()?;
        Ok(CodexRules {
            file: file.to_string(),
            rules: parser.rules,
        })
    }

    pub fn file(&self) -> &str {
        &self.file
    }

    pub fn rules(&self) -> &[PrefixRule] {
        &self.rules
    }

    /// The strictest rule matching one argv.
    pub fn check<S: AsRef<str>>(&self, argv: &[S]) -> Option<&PrefixRule> {
        strictest(
            self.rules
                .iter()
                .filter(|r| r.matches(argv))
                .map(|r| (r.decision, r)),
        )
        .map(|(_, r)| r)
    }

    pub(crate) fn evaluate(&self, action: &Action<'_>) -> Option<Verdict> {
        let ToolKind::Shell(cmd) = tool_kind(action) else {
            return None;
        };
        let parts = shell_parts(cmd);
        let hit = |argv: &[String]| self.check(argv).map(|r| (r.decision, r));
        let required: Vec<_> = parts
            .iter()
            .filter(|p| !p.wrapper)
            .map(|p| hit(&p.argv))
            .collect();
        let extra: Vec<_> = parts
            .iter()
            .filter(|p| p.wrapper)
            .filter_map(|p| hit(&p.argv))
            .collect();
        let (decision, rule) = combine(&required, &extra, &[])?;
        Some(Verdict {
            decision,
            rule: Some(rule.text.clone()),
            file: self.file.clone(),
            line: rule.line,
            justification: rule.justification.clone(),
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Number(String),
    Open(char),
    Close(char),
    Comma,
    Assign,
    Plus,
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
    start: usize,
    end: usize,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Ident(n) => format!("name `{n}`"),
        Tok::Str(s) => format!("string {s:?}"),
        Tok::Number(n) => format!("number {n}"),
        Tok::Open(c) | Tok::Close(c) => format!("`{c}`"),
        Tok::Comma => "`,`".into(),
        Tok::Assign => "`=`".into(),
        Tok::Plus => "`+`".into(),
        Tok::Eof => "end of file".into(),
    }
}

fn lex(file: &str, text: &str) -> Result<Vec<Token>, PolicyError> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut chars = text.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let tok = match c {
            '\n' => {
                line += 1;
                continue;
            }
            c if c.is_whitespace() => continue,
            '\\' if chars.peek().is_some_and(|&(_, n)| n == '\n') => continue, // line continuation
            '#' => {
                while chars.peek().is_some_and(|&(_, n)| n != '\n') {
                    chars.next();
                }
                continue;
            }
            '(' | '[' | '{' => Tok::Open(c),
            ')' | ']' | '}' => Tok::Close(c),
            ',' => Tok::Comma,
            '=' => Tok::Assign,
            '+' => Tok::Plus,
            '"' | '\'' => {
                let (s, lines) = string(file, text, start, c, false, line, &mut chars)?;
                let tok_line = line;
                line += lines;
                let end = chars.peek().map_or(text.len(), |&(i, _)| i);
                out.push(Token {
                    tok: Tok::Str(s),
                    line: tok_line,
                    start,
                    end,
                });
                continue;
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut name = String::from(c);
                while let Some(&(_, n)) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        name.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                // r"raw" strings
                if (name == "r" || name == "R")
                    && let Some(&(_, q)) = chars.peek()
                    && (q == '"' || q == '\'')
                {
                    let (qstart, _) = chars.next().expect("peeked");
                    let (s, lines) = string(file, text, qstart, q, true, line, &mut chars)?;
                    let tok_line = line;
                    line += lines;
                    let end = chars.peek().map_or(text.len(), |&(i, _)| i);
                    out.push(Token {
                        tok: Tok::Str(s),
                        line: tok_line,
                        start,
                        end,
                    });
                    continue;
                }
                Tok::Ident(name)
            }
            c if c.is_ascii_digit() => {
                let mut n = String::from(c);
                while let Some(&(_, d)) = chars.peek() {
                    if d.is_ascii_alphanumeric() || d == '.' {
                        n.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                Tok::Number(n)
            }
            other => {
                return Err(PolicyError::new(
                    file,
                    line,
                    format!("unexpected character `{other}`"),
                ));
            }
        };
        let end = chars.peek().map_or(text.len(), |&(i, _)| i);
        out.push(Token {
            tok,
            line,
            start,
            end,
        });
    }
    out.push(Token {
        tok: Tok::Eof,
        line,
        start: text.len(),
        end: text.len(),
    });
    Ok(out)
}

/// A string literal whose opening quote is at `start`; returns the value and
/// the newlines it spans.
fn string(
    file: &str,
    text: &str,
    start: usize,
    quote: char,
    raw: bool,
    line: usize,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Result<(String, usize), PolicyError> {
    let triple = text[start..].starts_with(&quote.to_string().repeat(3));
    if triple {
        chars.next();
        chars.next();
    }
    let mut s = String::new();
    let mut lines = 0;
    let unterminated =
        || PolicyError::new(file, line, "unterminated string (missing closing quote)");
    loop {
        let Some((i, c)) = chars.next() else {
            return Err(unterminated());
        };
        match c {
            c if c == quote => {
                if !triple {
                    return Ok((s, lines));
                }
                if text[i..].starts_with(&quote.to_string().repeat(3)) {
                    chars.next();
                    chars.next();
                    return Ok((s, lines));
                }
                s.push(c);
            }
            '\n' if !triple => return Err(unterminated()),
            '\n' => {
                lines += 1;
                s.push('\n');
            }
            '\\' => {
                let Some((_, e)) = chars.next() else {
                    return Err(unterminated());
                };
                if e == '\n' {
                    lines += 1;
                }
                if raw {
                    s.push('\\');
                    s.push(e);
                    continue;
                }
                match e {
                    'n' => s.push('\n'),
                    't' => s.push('\t'),
                    'r' => s.push('\r'),
                    '0' => s.push('\0'),
                    '\n' => {}
                    '\\' | '\'' | '"' => s.push(e),
                    other => {
                        s.push('\\');
                        s.push(other);
                    }
                }
            }
            c => s.push(c),
        }
    }
}

#[derive(Debug, Clone)]
struct Val {
    kind: ValKind,
    line: usize,
}

#[derive(Debug, Clone)]
enum ValKind {
    Str(String),
    List(Vec<Val>),
    Bool,
    None,
}

impl ValKind {
    fn type_name(&self) -> &'static str {
        match self {
            ValKind::Str(_) => "a string",
            ValKind::List(_) => "a list",
            ValKind::Bool => "a bool",
            ValKind::None => "None",
        }
    }
}

struct Parser<'t> {
    file: &'t str,
    text: &'t str,
    tokens: Vec<Token>,
    pos: usize,
    env: HashMap<String, Val>,
    rules: Vec<PrefixRule>,
}

const PREFIX_RULE_ARGS: [&str; 5] = ["pattern", "decision", "justification", "match", "not_match"];

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos]
    }

    fn next(&mut self) -> Token {
        let t = self.tokens[self.pos].clone();
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn err(&self, line: usize, reason: impl Into<String>) -> PolicyError {
        PolicyError::new(self.file, line, reason)
    }

    /// An unexpected token; at end of file, the unclosed bracket.
    fn unexpected(&self, got: &Token, expected: &str, open: Option<&Token>) -> PolicyError {
        match (&got.tok, open) {
            (Tok::Eof, Some(open)) => self.err(
                open.line,
                format!(
                    "unbalanced brackets: {} opened here is never closed",
                    describe(&open.tok)
                ),
            ),
            (Tok::Close(c), _) => self.err(
                got.line,
                format!("unbalanced brackets: unexpected `{c}` (expected {expected})"),
            ),
            _ => self.err(
                got.line,
                format!("expected {expected}, found {}", describe(&got.tok)),
            ),
        }
    }

    fn file_input(&mut self) -> Result<(), PolicyError> {
        loop {
            let t = self.next();
            match &t.tok {
                Tok::Eof => return Ok(()),
                Tok::Ident(name) => {
                    let name = name.clone();
                    let after = self.next();
                    match after.tok {
                        Tok::Assign => {
                            let value = self.expr(None)?;
                            self.env.insert(name, value);
                        }
                        Tok::Open('(') => self.call(&name, &t, &after)?,
                        _ => {
                            return Err(self.unexpected(
                                &after,
                                &format!("`(` or `=` after `{name}`"),
                                None,
                            ));
                        }
                    }
                }
                _ => return Err(self.unexpected(&t, "a rule such as `prefix_rule(...)`", None)),
            }
        }
    }

    fn call(&mut self, name: &str, start: &Token, open: &Token) -> Result<(), PolicyError> {
        if name != "prefix_rule" {
            return Err(self.err(
                start.line,
                format!("unknown function `{name}` (only `prefix_rule` is supported)"),
            ));
        }
        let mut args: Vec<(String, Val, usize)> = Vec::new();
        let end = loop {
            let t = self.next();
            let key = match &t.tok {
                Tok::Close(')') => break t.end,
                Tok::Ident(k) if self.peek().tok == Tok::Assign => k.clone(),
                Tok::Eof => return Err(self.unexpected(&t, "`)`", Some(open))),
                Tok::Close(_) => return Err(self.unexpected(&t, "`)`", Some(open))),
                _ => {
                    return Err(self.err(
                        t.line,
                        "prefix_rule takes keyword arguments only (pattern = [...], decision = \"...\")",
                    ));
                }
            };
            self.next(); // `=`
            if !PREFIX_RULE_ARGS.contains(&key.as_str()) {
                return Err(self.err(
                    t.line,
                    format!(
                        "unknown argument `{key}` to prefix_rule (expected {})",
                        PREFIX_RULE_ARGS.join(", ")
                    ),
                ));
            }
            if args.iter().any(|(k, _, _)| *k == key) {
                return Err(self.err(t.line, format!("argument `{key}` given twice")));
            }
            let value = self.expr(Some(open))?;
            args.push((key, value, t.line));
            let sep = self.next();
            match sep.tok {
                Tok::Comma => {}
                Tok::Close(')') => break sep.end,
                _ => return Err(self.unexpected(&sep, "`,` or `)`", Some(open))),
            }
        };
        let text = self.text[start.start..end].to_string();
        let rule = self.prefix_rule(start.line, text, args)?;
        self.rules.push(rule);
        Ok(())
    }

    fn prefix_rule(
        &self,
        line: usize,
        text: String,
        args: Vec<(String, Val, usize)>,
    ) -> Result<PrefixRule, PolicyError> {
        let mut pattern = None;
        let mut decision = Decision::Allow;
        let mut justification = None;
        let mut examples: Vec<(bool, Val)> = Vec::new();
        for (key, value, key_line) in args {
            match key.as_str() {
                "pattern" => pattern = Some(self.pattern(value, key_line)?),
                "decision" => {
                    let ValKind::Str(d) = &value.kind else {
                        return Err(self.err(
                            value.line,
                            format!(
                                "`decision` must be a string, not {}",
                                value.kind.type_name()
                            ),
                        ));
                    };
                    decision = match d.as_str() {
                        "allow" => Decision::Allow,
                        "prompt" => Decision::Ask,
                        "forbidden" => Decision::Deny,
                        other => {
                            return Err(self.err(
                                value.line,
                                format!(
                                    "unknown decision {other:?} (expected \"allow\", \"prompt\" or \"forbidden\")"
                                ),
                            ));
                        }
                    };
                }
                "justification" => match value.kind {
                    ValKind::Str(j) => justification = Some(j),
                    ValKind::None => {}
                    other => {
                        return Err(self.err(
                            value.line,
                            format!(
                                "`justification` must be a string, not {}",
                                other.type_name()
                            ),
                        ));
                    }
                },
                _ => examples.push((key == "match", value)),
            }
        }
        let Some(pattern) = pattern else {
            return Err(self.err(line, "prefix_rule needs a `pattern` (a list of tokens)"));
        };
        let rule = PrefixRule {
            pattern,
            decision,
            justification,
            line,
            text,
        };
        for (want, list) in examples {
            let key = if want { "match" } else { "not_match" };
            let ValKind::List(items) = list.kind else {
                return Err(self.err(
                    list.line,
                    format!("`{key}` must be a list of example commands"),
                ));
            };
            for example in items {
                let argv = match &example.kind {
                    ValKind::Str(s) => split_words(s).map_err(|e| {
                        self.err(example.line, format!("`{key}` example {s:?}: {e}"))
                    })?,
                    ValKind::List(tokens) => tokens
                        .iter()
                        .map(|t| match &t.kind {
                            ValKind::Str(s) => Ok(s.clone()),
                            other => Err(self.err(
                                t.line,
                                format!(
                                    "`{key}` example tokens must be strings, not {}",
                                    other.type_name()
                                ),
                            )),
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    other => {
                        return Err(self.err(
                            example.line,
                            format!(
                                "`{key}` examples must be strings or token lists, not {}",
                                other.type_name()
                            ),
                        ));
                    }
                };
                if rule.matches(&argv) != want {
                    let shown = crate::normalize::shell::shell_join(&argv);
                    return Err(self.err(
                        example.line,
                        if want {
                            format!("`match` example `{shown}` does not match this rule's pattern")
                        } else {
                            format!("`not_match` example `{shown}` matches this rule's pattern")
                        },
                    ));
                }
            }
        }
        Ok(rule)
    }

    fn pattern(&self, value: Val, key_line: usize) -> Result<Vec<Vec<String>>, PolicyError> {
        let ValKind::List(items) = value.kind else {
            return Err(self.err(
                value.line,
                format!(
                    "`pattern` must be a list of tokens, not {}",
                    value.kind.type_name()
                ),
            ));
        };
        if items.is_empty() {
            return Err(self.err(key_line, "`pattern` must not be empty"));
        }
        items
            .into_iter()
            .map(|item| match item.kind {
                ValKind::Str(s) => Ok(vec![s]),
                ValKind::List(alts) if !alts.is_empty() => alts
                    .into_iter()
                    .map(|a| match a.kind {
                        ValKind::Str(s) => Ok(s),
                        other => Err(self.err(
                            a.line,
                            format!(
                                "pattern alternatives must be strings, not {}",
                                other.type_name()
                            ),
                        )),
                    })
                    .collect(),
                ValKind::List(_) => {
                    Err(self.err(item.line, "an empty list of alternatives in `pattern`"))
                }
                other => Err(self.err(
                    item.line,
                    format!(
                        "pattern elements must be strings or lists of strings, not {}",
                        other.type_name()
                    ),
                )),
            })
            .collect()
    }

    /// `atom ('+' atom)*`; `open` is the bracket an end of file would leave open.
    fn expr(&mut self, open: Option<&Token>) -> Result<Val, PolicyError> {
        let mut left = self.atom(open)?;
        while self.peek().tok == Tok::Plus {
            let plus = self.next();
            let right = self.atom(open)?;
            left.kind = match (left.kind, right.kind) {
                (ValKind::List(mut a), ValKind::List(b)) => {
                    a.extend(b);
                    ValKind::List(a)
                }
                (ValKind::Str(a), ValKind::Str(b)) => ValKind::Str(a + &b),
                (a, b) => {
                    return Err(self.err(
                        plus.line,
                        format!("cannot add {} and {}", a.type_name(), b.type_name()),
                    ));
                }
            };
        }
        Ok(left)
    }

    fn atom(&mut self, open: Option<&Token>) -> Result<Val, PolicyError> {
        let t = self.next();
        let kind = match &t.tok {
            Tok::Str(s) => ValKind::Str(s.clone()),
            Tok::Ident(name) => match name.as_str() {
                "True" | "False" => ValKind::Bool,
                "None" => ValKind::None,
                _ => match self.env.get(name) {
                    Some(v) => v.kind.clone(),
                    None => return Err(self.err(t.line, format!("undefined name `{name}`"))),
                },
            },
            Tok::Open(c @ ('[' | '(')) => {
                let close = if *c == '[' { ']' } else { ')' };
                let mut items = Vec::new();
                loop {
                    if self.peek().tok == Tok::Close(close) {
                        self.next();
                        break;
                    }
                    items.push(self.expr(Some(&t))?);
                    let sep = self.next();
                    match sep.tok {
                        Tok::Comma => {}
                        Tok::Close(c) if c == close => break,
                        _ => {
                            return Err(self.unexpected(
                                &sep,
                                &format!("`,` or `{close}`"),
                                Some(&t),
                            ));
                        }
                    }
                }
                // `(x)` is x; `(x,)` and `[...]` are sequences
                if *c == '(' && items.len() == 1 && self.tokens[self.pos - 2].tok != Tok::Comma {
                    return Ok(items.pop().expect("one item"));
                }
                ValKind::List(items)
            }
            Tok::Number(n) => {
                return Err(self.err(t.line, format!("numbers are not supported here ({n})")));
            }
            _ => return Err(self.unexpected(&t, "a string, a list or a name", open)),
        };
        Ok(Val { kind, line: t.line })
    }
}

/// Splits an example command line into words, as a POSIX shell would (quotes
/// and backslashes; no expansions).
fn split_words(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(d) => word.push(d),
                        None => return Err("unterminated `'`".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(e @ ('"' | '\\' | '$' | '`')) => word.push(e),
                            Some(e) => {
                                word.push('\\');
                                word.push(e);
                            }
                            None => return Err("unterminated `\"`".into()),
                        },
                        Some(d) => word.push(d),
                        None => return Err("unterminated `\"`".into()),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(e) = chars.next() {
                    word.push(e);
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        out.push(word);
    }
    if out.is_empty() {
        return Err("empty example".into());
    }
    Ok(out)
}
