//! Home-aware path globs, for permission policies and detection rules.
//!
//! Agents report paths in whatever form they were given: `~/.aws/credentials`,
//! `$HOME/.aws/credentials`, `/home/dev/.aws/credentials`, `./.env`,
//! `src/../.env`. A rule author means "the AWS credentials of whoever runs the
//! agent", so [`PathGlob`] compares paths by what they name, not how they are
//! spelled:
//!
//! | pattern | anchored at | matches |
//! |---|---|---|
//! | `~/.aws/**`, `$HOME/.aws/**`, `${HOME}/.aws/**` | any home directory | a path whose [`home_relative`] part matches `.aws/**`: `~/.aws/x`, `$HOME/.aws/x`, `/home/<user>/.aws/x`, `/Users/<user>/.aws/x`, `/root/.aws/x` |
//! | `/etc/**`, `/home/*/.ssh/*` | the file-system root | absolute paths only |
//! | `id_rsa*`, `*.pem`, `.env*` (no `/`) | anywhere | a path with a component (the file name, or a directory it is in) that matches |
//! | `src/**`, `.ssh/id_*` (a relative path) | anywhere | a path with consecutive components that match: `src/a.rs`, `./src/a.rs`, `/repo/src/a.rs` |
//!
//! Glob syntax is gitignore-like (via `globset`): `*` and `?` never cross a `/`,
//! `**` matches any number of directories (`a/**/b`, `**/x`, `x/**`; elsewhere
//! it is two `*`), `{a,b}` alternatives, `[abc]` classes, `\` escapes. A
//! trailing `/` means everything below that directory.
//!
//! As in gitignore, a pattern that matches a directory covers everything in it:
//! `~/.aws` matches `~/.aws/credentials`, and `.git` matches `/repo/.git/config`.
//!
//! Paths are normalised lexically before matching: repeated `/` and `.`
//! components are dropped and `a/../b` becomes `b`. Nothing touches the file
//! system: symbolic links are not resolved. A relative path (`src/a.rs`,
//! relative to an unknown working directory) never matches a home or
//! root-anchored pattern, and a `~/…` path never matches a root-anchored one
//! (the user is unknown), except that `~`-style patterns exist for exactly that.

use globset::{GlobBuilder, GlobMatcher};

/// The part of `path` below a home directory, if it is in one: `~/x`, `$HOME/x`,
/// `${HOME}/x`, `/home/<user>/x`, `/Users/<user>/x` and `/root/x` give `x`; the
/// home directory itself gives `""`. `~user/x` counts too. Extra slashes after
/// the home directory are skipped (`/root//x` gives `x`); nothing else is
/// normalised.
pub fn home_relative(path: &str) -> Option<&str> {
    /// `rest` after a prefix: the prefix must end at a component boundary.
    fn below(rest: &str) -> Option<&str> {
        (rest.is_empty() || rest.starts_with('/')).then(|| rest.trim_start_matches('/'))
    }
    if let Some(rest) = path.strip_prefix('~') {
        // `~`, `~/x`, `~user/x`
        let user_end = rest.find('/').unwrap_or(rest.len());
        let user = &rest[..user_end];
        if user.chars().any(|c| matches!(c, '+' | '-' | '~')) {
            return None; // `~+`, `~-`: directory-stack forms, not a home
        }
        return below(&rest[user_end..]);
    }
    if let Some(rest) = path.strip_prefix("${HOME}") {
        return below(rest);
    }
    if let Some(rest) = path.strip_prefix("$HOME") {
        return below(rest);
    }
    if let Some(rest) = path.strip_prefix("/root") {
        return below(rest);
    }
    let rest = path
        .strip_prefix("/home/")
        .or_else(|| path.strip_prefix("/Users/"))?;
    let user_end = rest.find('/').unwrap_or(rest.len());
    let user = &rest[..user_end];
    if user.is_empty() || user == "Shared" {
        return None;
    }
    below(&rest[user_end..])
}

/// The pattern's home prefix (`~`, `$HOME`, `${HOME}`), stripped.
fn strip_home_prefix(pattern: &str) -> Option<&str> {
    ["~", "${HOME}", "$HOME"].iter().find_map(|prefix| {
        let rest = pattern.strip_prefix(prefix)?;
        (rest.is_empty() || rest.starts_with('/')).then(|| rest.trim_start_matches('/'))
    })
}

/// Lexical normalisation: the components of `path`, without empty and `.`
/// components, `..` folded into its parent where there is one.
fn components(path: &str) -> Vec<&str> {
    let absolute = path.starts_with('/');
    let mut out: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => match out.last() {
                Some(&last) if last != ".." => {
                    out.pop();
                }
                // `/..` is `/`
                _ if absolute => {}
                _ => out.push(".."),
            },
            _ => out.push(c),
        }
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// below any home directory
    Home,
    /// at the file-system root
    Root,
    /// any consecutive components of any path
    Anywhere,
}

/// A compiled path pattern; see the [module docs](self) for what matches.
#[derive(Debug, Clone)]
pub struct PathGlob {
    pattern: String,
    anchor: Anchor,
    /// the glob has a `/`, so it can span several components
    multi: bool,
    matcher: GlobMatcher,
}

/// A pattern `globset` cannot compile (an unclosed `[` or `{`, say).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid path pattern `{pattern}`: {reason}")]
pub struct PathGlobError {
    pub pattern: String,
    pub reason: String,
}

impl PathGlob {
    pub fn new(pattern: &str) -> Result<Self, PathGlobError> {
        let err = |reason: String| PathGlobError {
            pattern: pattern.to_string(),
            reason,
        };
        let trimmed = pattern.trim();
        if trimmed.is_empty() {
            return Err(err("the pattern is empty".into()));
        }
        let (anchor, glob) = if let Some(rest) = strip_home_prefix(trimmed) {
            (Anchor::Home, rest.to_string())
        } else if trimmed.starts_with('/') {
            (
                Anchor::Root,
                format!("/{}", trimmed.trim_start_matches('/')),
            )
        } else {
            let mut rest = trimmed;
            while let Some(r) = rest.strip_prefix("./") {
                rest = r.trim_start_matches('/');
            }
            (Anchor::Anywhere, rest.to_string())
        };
        let mut glob = glob;
        if glob.is_empty() || glob == "/" {
            // `~`, `~/`, `./`, `/`: the whole directory
            glob.push_str("**");
        } else if glob.ends_with('/') {
            glob.push_str("**");
        }
        let multi = glob.trim_start_matches('/').contains('/') || glob.contains("**");
        let matcher = GlobBuilder::new(&glob)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| err(e.kind().to_string()))?
            .compile_matcher();
        Ok(Self {
            pattern: pattern.to_string(),
            anchor,
            multi,
            matcher,
        })
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    pub fn matches(&self, path: &str) -> bool {
        let path = path.trim();
        if path.is_empty() {
            return false;
        }
        match self.anchor {
            Anchor::Home => home_relative(path).is_some_and(|rel| {
                let comps = components(rel);
                (1..=comps.len()).any(|end| self.matcher.is_match(comps[..end].join("/")))
            }),
            Anchor::Root => {
                path.starts_with('/') && {
                    let comps = components(path);
                    (1..=comps.len()).any(|end| {
                        self.matcher
                            .is_match(format!("/{}", comps[..end].join("/")))
                    })
                }
            }
            Anchor::Anywhere => {
                let comps = components(path);
                if !self.multi {
                    return comps.iter().any(|c| self.matcher.is_match(c));
                }
                (0..comps.len()).any(|start| {
                    (start + 1..=comps.len())
                        .any(|end| self.matcher.is_match(comps[start..end].join("/")))
                })
            }
        }
    }
}

impl std::fmt::Display for PathGlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.pattern)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_relative_forms() {
        let cases: &[(&str, Option<&str>)] = &[
            ("~/x", Some("x")),
            ("~", Some("")),
            ("~/", Some("")),
            ("~dev/.ssh/id_rsa", Some(".ssh/id_rsa")),
            ("$HOME/.aws/config", Some(".aws/config")),
            ("${HOME}/.aws/config", Some(".aws/config")),
            ("$HOME", Some("")),
            ("$HOMEBREW/x", None),
            ("/home/dev/.aws/credentials", Some(".aws/credentials")),
            ("/home/dev", Some("")),
            ("/home/", None),
            ("/home", None),
            ("/Users/ann/x/y", Some("x/y")),
            ("/Users/Shared/x", None),
            ("/root/x", Some("x")),
            ("/root//x", Some("x")),
            ("/root", Some("")),
            ("/rootfs/x", None),
            ("/tmp/.aws/x", None),
            ("relative/x", None),
            ("~+/x", None),
        ];
        for (path, want) in cases {
            assert_eq!(home_relative(path), *want, "home_relative({path:?})");
        }
    }

    #[test]
    fn globs() {
        let cases: &[(&str, &str, bool)] = &[
            // home-anchored
            ("~/.aws/**", "/home/dev/.aws/credentials", true),
            ("~/.aws/**", "~/.aws/credentials", true),
            ("~/.aws/**", "$HOME/.aws/config", true),
            ("~/.aws/**", "${HOME}/.aws/config", true),
            ("~/.aws/**", "/Users/ann/.aws/x", true),
            ("~/.aws/**", "/root/.aws/x", true),
            ("~/.aws/**", "/home/dev/.aws/sso/cache/token.json", true),
            ("~/.aws/**", "/tmp/.aws/x", false),
            ("~/.aws/**", "/home/dev/aws/x", false),
            ("~/.aws/**", ".aws/credentials", false),
            ("~/.aws/**", "/home/dev/project/.aws/x", false),
            ("~/.aws/**", "/home/dev/project/../.aws/credentials", true),
            ("$HOME/.aws/**", "/home/dev/.aws/credentials", true),
            ("${HOME}/.ssh/id_*", "~/.ssh/id_ed25519", true),
            ("~/.ssh/id_*", "~/.ssh/keys/id_rsa", false),
            ("~/.aws", "~/.aws/credentials", true),
            ("~/.aws/", "/root/.aws/credentials", true),
            (
                "~/.config/{gh,hub}/*",
                "/home/dev/.config/gh/hosts.yml",
                true,
            ),
            (
                "~/.config/{gh,hub}/*",
                "/home/dev/.config/git/config",
                false,
            ),
            ("~", "/home/dev/anything/at/all", true),
            ("~", "/etc/passwd", false),
            // file names anywhere
            (".env*", "./.env", true),
            (".env*", "/app/.env.local", true),
            (".env*", ".env", true),
            (".env*", "/app/env", false),
            (".env*", "/app/config.env", false),
            ("*.env", "/app/prod.env", true),
            ("*.env", "/app/.env", true),
            ("*.pem", "certs/server.pem", true),
            ("*.pem", "/etc/ssl/server.pem.bak", false),
            ("id_rsa*", "/home/dev/.ssh/id_rsa", true),
            ("id_rsa*", "~/.ssh/id_rsa.pub", true),
            ("id_rsa*", "/home/dev/.ssh/id_ed25519", false),
            ("?d_rsa", "/x/id_rsa", true),
            ("[ab].txt", "dir/b.txt", true),
            ("[ab].txt", "dir/c.txt", false),
            (".git", "/repo/.git/config", true),
            // relative paths: any run of components
            ("src/**", "src/lib.rs", true),
            ("src/**", "./src/a/b.rs", true),
            ("src/**", "/home/dev/repo/src/main.rs", true),
            ("src/**", "/home/dev/repo/tests/main.rs", false),
            ("src/**/*.ts", "/repo/src/a/b/c.ts", true),
            ("src/**/*.ts", "/repo/src/c.ts", true),
            ("src/**/*.ts", "/repo/src/c.js", false),
            ("./src/*.rs", "/repo/src/a.rs", true),
            (".ssh/id_*", "/home/dev/.ssh/id_rsa", true),
            ("**/secrets/*", "/srv/app/secrets/db.txt", true),
            ("**", "anything", true),
            // root-anchored
            ("/etc/**", "/etc/passwd", true),
            ("/etc/**", "/etc/ssl/private/key.pem", true),
            ("/etc/**", "etc/passwd", false),
            ("/etc/**", "/home/dev/etc/passwd", false),
            ("/etc/**", "/tmp/../etc/shadow", true),
            ("//etc/*", "/etc/hosts", true),
            ("/home/*/.ssh/**", "/home/dev/.ssh/id_rsa", true),
            ("/home/*/.ssh/**", "~/.ssh/id_rsa", false),
            (
                "/tmp/vigil-victim",
                "/tmp/vigil-victim/unapproved-write",
                true,
            ),
            ("/tmp/vigil-victim", "/tmp/vigil-victim-2", false),
            ("/", "/anything", true),
            // empty paths match nothing
            ("**", "", false),
        ];
        for (pattern, path, want) in cases {
            let glob = PathGlob::new(pattern).unwrap();
            assert_eq!(glob.matches(path), *want, "{pattern:?} against {path:?}");
        }
        assert!(cases.len() >= 25);
    }

    #[test]
    fn bad_patterns() {
        for bad in ["", "  ", "src/[ab", "{a,b"] {
            assert!(PathGlob::new(bad).is_err(), "{bad:?} should not compile");
        }
        let e = PathGlob::new("a/[b").unwrap_err();
        assert_eq!(e.pattern, "a/[b");
        assert!(e.to_string().contains("a/[b"), "{e}");
    }

    #[test]
    fn normalisation() {
        assert_eq!(components("/a//b/./c/../d"), vec!["a", "b", "d"]);
        assert_eq!(components("../x"), vec!["..", "x"]);
        assert_eq!(components("/../x"), vec!["x"]);
        assert_eq!(PathGlob::new("~/.aws/**").unwrap().to_string(), "~/.aws/**");
    }
}
