//! Secret redaction, applied to a request before anything is written.
//!
//! Every string value in the request (attributes of resources, scopes, records,
//! span events and links, log bodies, nested arrays and maps) is scanned. A
//! match becomes `[REDACTED:<kind>:<first 8 hex of sha256(secret)>]`, so the store
//! never holds the secret but a responder holding a leaked value can compute its
//! fingerprint and find where it went. Patterns are data: the defaults below plus
//! any from a TOML file (`[[pattern]] kind = "…" regex = "…" group = 1`).

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value::Value};
use regex::{Regex, RegexSet};

use crate::otlp::{Level, RecordOf, ResourceLevel, data_point_attributes_mut};
use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum RedactError {
    #[error("redaction pattern {kind:?}: {source}")]
    BadRegex { kind: String, source: regex::Error },
    #[error("redaction patterns file: {0}")]
    File(String),
}

/// One secret shape. `group` selects the capture group holding the secret (0 = all).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PatternSpec {
    pub kind: String,
    pub regex: String,
    #[serde(default)]
    pub group: usize,
}

/// The built-in patterns, most specific first.
pub fn default_patterns() -> Vec<PatternSpec> {
    let p = |kind: &str, regex: &str, group: usize| PatternSpec {
        kind: kind.into(),
        regex: regex.into(),
        group,
    };
    vec![
        p(
            "private_key",
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----",
            0,
        ),
        p(
            "aws_access_key",
            r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[0-9A-Z]{16}\b",
            0,
        ),
        p(
            "aws_secret_key",
            r#"(?i)aws_?secret_?(?:access_?)?key["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{20,})"#,
            1,
        ),
        p("anthropic_key", r"\bsk-ant-[A-Za-z0-9_\-]{20,}", 0),
        p(
            "openai_key",
            r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}",
            0,
        ),
        p(
            "github_token",
            r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})",
            0,
        ),
        p("slack_token", r"\bxox[abposr]-[A-Za-z0-9\-]{10,}", 0),
        p(
            "bearer_token",
            r"(?i)\bbearer\s+([A-Za-z0-9._~+/=\-]{20,})",
            1,
        ),
        p(
            "env_secret",
            // a line start, or an escaped newline (a script inside a JSON string)
            r#"(?im)(?:^|\\[nr])\s*(?:export\s+)?[A-Za-z0-9_]*(?:SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIALS?)[A-Za-z0-9_]*\s*=\s*["']?([^\s"'#\\]{6,})"#,
            1,
        ),
    ]
}

struct Pattern {
    kind: String,
    regex: Regex,
    group: usize,
}

/// Strings shorter than this cannot hold any default secret; skipping them keeps
/// redaction off the hot path for the common short attribute.
const MIN_SECRET_LEN: usize = 10;

pub struct Redactor {
    set: RegexSet,
    patterns: Vec<Pattern>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field(
                "patterns",
                &self.patterns.iter().map(|p| &p.kind).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The fingerprint that replaces a secret.
pub fn marker(kind: &str, secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    format!("[REDACTED:{kind}:{}]", &hex::encode(digest)[..8])
}

impl Redactor {
    pub fn new(specs: &[PatternSpec]) -> Result<Self, RedactError> {
        let mut patterns = Vec::with_capacity(specs.len());
        for s in specs {
            let regex = Regex::new(&s.regex).map_err(|source| RedactError::BadRegex {
                kind: s.kind.clone(),
                source,
            })?;
            patterns.push(Pattern {
                kind: s.kind.clone(),
                regex,
                group: s.group,
            });
        }
        let set = RegexSet::new(specs.iter().map(|s| s.regex.as_str())).map_err(|source| {
            RedactError::BadRegex {
                kind: "set".into(),
                source,
            }
        })?;
        Ok(Redactor { set, patterns })
    }

    pub fn with_defaults() -> Self {
        Self::new(&default_patterns()).expect("default patterns are valid")
    }

    /// Defaults plus the `[[pattern]]` entries of a TOML file.
    pub fn with_file(toml_text: &str) -> Result<Self, RedactError> {
        #[derive(serde::Deserialize)]
        struct File {
            #[serde(default)]
            pattern: Vec<PatternSpec>,
        }
        let file: File = toml::from_str(toml_text).map_err(|e| RedactError::File(e.to_string()))?;
        let mut specs = default_patterns();
        specs.extend(file.pattern);
        Self::new(&specs)
    }

    /// The redacted text, or `None` when nothing matched.
    pub fn redact_str(&self, s: &str) -> Option<String> {
        if s.len() < MIN_SECRET_LEN {
            return None;
        }
        let hits = self.set.matches(s);
        if !hits.matched_any() {
            return None;
        }
        let mut out = s.to_string();
        for i in hits.iter() {
            let p = &self.patterns[i];
            let mut next = String::with_capacity(out.len());
            let mut last = 0;
            for caps in p.regex.captures_iter(&out) {
                let Some(m) = caps.get(p.group) else { continue };
                if m.as_str().starts_with("[REDACTED:") {
                    continue;
                }
                next.push_str(&out[last..m.start()]);
                next.push_str(&marker(&p.kind, m.as_str()));
                last = m.end();
            }
            next.push_str(&out[last..]);
            out = next;
        }
        (out != s).then_some(out)
    }

    fn value(&self, v: &mut AnyValue) -> usize {
        match &mut v.value {
            Some(Value::StringValue(s)) => match self.redact_str(s) {
                Some(r) => {
                    *s = r;
                    1
                }
                None => 0,
            },
            Some(Value::ArrayValue(a)) => a.values.iter_mut().map(|v| self.value(v)).sum(),
            Some(Value::KvlistValue(kv)) => self.attrs(&mut kv.values),
            _ => 0,
        }
    }

    fn attrs(&self, kvs: &mut [KeyValue]) -> usize {
        kvs.iter_mut()
            .filter_map(|kv| kv.value.as_mut())
            .map(|v| self.value(v))
            .sum()
    }

    /// Redacts the resource and scope attributes of every resource, and each
    /// record with `record`; returns how many values changed.
    fn request<R: ResourceLevel>(
        &self,
        resources: &mut [R],
        mut record: impl FnMut(&mut RecordOf<R>) -> usize,
    ) -> usize {
        let mut n = 0;
        for r in resources {
            if let Some(res) = r.head_mut() {
                n += self.attrs(&mut res.attributes);
            }
            for s in r.items_mut() {
                if let Some(scope) = s.head_mut() {
                    n += self.attrs(&mut scope.attributes);
                }
                n += s.items_mut().iter_mut().map(&mut record).sum::<usize>();
            }
        }
        n
    }

    /// Redacts one free-text field in place; 1 if it changed.
    fn text(&self, s: &mut String) -> usize {
        match self.redact_str(s) {
            Some(r) => {
                *s = r;
                1
            }
            None => 0,
        }
    }

    /// Redacts a traces request in place; returns how many values changed.
    pub fn traces(&self, req: &mut ExportTraceServiceRequest) -> usize {
        self.request(&mut req.resource_spans, |s| {
            // names are free text too: a span named after the command it ran
            let mut n = self.attrs(&mut s.attributes) + self.text(&mut s.name);
            n += s
                .events
                .iter_mut()
                .map(|e| self.attrs(&mut e.attributes) + self.text(&mut e.name))
                .sum::<usize>();
            n += s
                .links
                .iter_mut()
                .map(|l| self.attrs(&mut l.attributes))
                .sum::<usize>();
            if let Some(st) = &mut s.status
                && let Some(r) = self.redact_str(&st.message)
            {
                st.message = r;
                n += 1;
            }
            n
        })
    }

    pub fn logs(&self, req: &mut ExportLogsServiceRequest) -> usize {
        self.request(&mut req.resource_logs, |rec| {
            self.attrs(&mut rec.attributes)
                + rec.body.as_mut().map_or(0, |b| self.value(b))
                + self.text(&mut rec.event_name)
                + self.text(&mut rec.severity_text)
        })
    }

    pub fn metrics(&self, req: &mut ExportMetricsServiceRequest) -> usize {
        self.request(&mut req.resource_metrics, |m| {
            self.attrs(&mut m.metadata)
                + self.text(&mut m.description)
                + data_point_attributes_mut(m)
                    .into_iter()
                    .map(|a| self.attrs(a))
                    .sum::<usize>()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        Redactor::with_defaults()
            .redact_str(s)
            .unwrap_or_else(|| s.to_string())
    }

    #[test]
    fn aws_keys_from_the_captures() {
        let out = r(
            "[default]\naws_access_key_id = AKIAFAKEFAKEFAKEFAKE\naws_secret_access_key = fakeSecretKeyForTelemetryTestsOnly0000000\n",
        );
        assert!(!out.contains("AKIAFAKEFAKEFAKEFAKE"), "{out}");
        assert!(
            !out.contains("fakeSecretKeyForTelemetryTestsOnly0000000"),
            "{out}"
        );
        assert!(
            out.contains(&marker("aws_access_key", "AKIAFAKEFAKEFAKEFAKE")),
            "{out}"
        );
        assert!(
            out.contains(&marker(
                "aws_secret_key",
                "fakeSecretKeyForTelemetryTestsOnly0000000"
            )),
            "{out}"
        );
        assert!(out.starts_with("[default]\naws_access_key_id = [REDACTED:aws_access_key:"));
    }

    #[test]
    fn tokens_and_keys() {
        for (text, kind) in [
            ("key sk-proj-abcdefghijklmnopqrstuvwxyz012345", "openai_key"),
            ("sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "anthropic_key"),
            (
                "token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
                "github_token",
            ),
            ("xoxb-1234567890-abcdefghij", "slack_token"),
            (
                "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig",
                "bearer_token",
            ),
            ("DATABASE_PASSWORD=hunter22hunter", "env_secret"),
            ("export STRIPE_API_KEY='abcdef123456'", "env_secret"),
            (
                "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
                "private_key",
            ),
        ] {
            let out = r(text);
            assert!(
                out.contains(&format!("[REDACTED:{kind}:")),
                "{text} → {out}"
            );
        }
        assert_eq!(r("ls -la && cargo test"), "ls -la && cargo test");
        assert_eq!(r("short"), "short");
    }

    #[test]
    fn redacting_twice_changes_nothing() {
        let once = r("aws_secret_access_key = fakeSecretKeyForTelemetryTestsOnly0000000");
        assert_eq!(r(&once), once);
    }

    #[test]
    fn extra_patterns_from_a_file() {
        let red = Redactor::with_file("[[pattern]]\nkind = \"acme\"\nregex = \"ACME-[0-9]{6}\"\n")
            .unwrap();
        assert_eq!(
            red.redact_str("id ACME-123456 ok").unwrap(),
            format!("id {} ok", marker("acme", "ACME-123456"))
        );
        assert!(Redactor::with_file("[[pattern]]\nkind = \"x\"\nregex = \"(\"\n").is_err());
    }
}
