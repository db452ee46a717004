//! Sigma rules over `agent_events`, evaluated by `rsigma`.
//!
//! A Sigma file loaded with `--rules x.yml` holds detection rules with
//! `logsource: {product: vigil, category: agent_events}` (field names are
//! `agent_events` columns; lists are lists of strings) and correlation rules
//! over them (`event_count`, `value_count`, `temporal`, `temporal_ordered`, …).
//! Each session is evaluated on its own, its events in session order and
//! correlation state reset in between, so a correlation window never spans two
//! sessions whatever its `group-by`. A detection cites the event it matched; a
//! correlation the events `rsigma` kept for it (by `event_id`). The Sigma
//! `title` becomes the finding's title, `level` its severity (`informational`
//! is `info`; no level is `medium`), and the rule id is the document's `name`,
//! else its `id`, else its title in kebab case.

use std::collections::HashMap;

use rsigma_eval::event::JsonEvent;
use rsigma_eval::{CorrelationConfig, CorrelationEngine, CorrelationEventMode, EvaluationResult};
use rsigma_parser::{Level, SigmaCollection, parse_sigma_yaml};

use super::evaluate::Hit;
use super::items::{Item, Session};
use super::rules::{Rule, RuleBody, RuleError, Severity};

/// The logsource Vigil's Sigma rules must name.
const PRODUCT: &str = "vigil";
const CATEGORY: &str = "agent_events";

#[derive(Debug, Clone)]
struct SigmaFile {
    collection: SigmaCollection,
    /// Our rule id for each of rsigma's (rule id or title) keys.
    ids: HashMap<String, String>,
}

/// Every loaded Sigma file.
#[derive(Debug, Clone, Default)]
pub struct SigmaRules {
    files: Vec<SigmaFile>,
    rules: Vec<Rule>,
}

fn severity(level: Option<Level>) -> Severity {
    match level {
        Some(Level::Informational) => Severity::Info,
        Some(Level::Low) => Severity::Low,
        None | Some(Level::Medium) => Severity::Medium,
        Some(Level::High) => Severity::High,
        Some(Level::Critical) => Severity::Critical,
    }
}

fn kebab(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// The key rsigma's results carry for a rule: its id, else its title.
fn result_key(id: Option<&str>, title: &str) -> String {
    id.map_or_else(|| format!("title:{title}"), |i| format!("id:{i}"))
}

/// The documents of a multi-document YAML file, for `/api/rules`.
fn documents(text: &str) -> Vec<String> {
    let mut docs = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            docs.push(String::new());
        } else {
            let d = docs.last_mut().expect("one document at least");
            d.push_str(line);
            d.push('\n');
        }
    }
    docs.retain(|d| !d.trim().is_empty());
    docs
}

impl SigmaRules {
    /// Parses `text` (one file) and adds its rules; returns their ids. A rule
    /// with the id of one loaded before replaces it.
    pub fn add(&mut self, file: &str, text: &str) -> Result<Vec<String>, RuleError> {
        let err = |reason: String| RuleError::File {
            file: file.to_string(),
            reason,
        };
        let collection = parse_sigma_yaml(text).map_err(|e| err(e.to_string()))?;
        if !collection.errors.is_empty() {
            return Err(err(collection.errors.join("; ")));
        }
        if collection.rules.is_empty() && collection.correlations.is_empty() {
            return Err(err("no Sigma rule in the file".into()));
        }
        let docs = documents(text);
        let definition = |title: &str| {
            docs.iter()
                .find(|d| d.contains(title))
                .cloned()
                .unwrap_or_default()
        };
        let mut ids = HashMap::new();
        let mut rules = Vec::new();
        for r in &collection.rules {
            let ls = &r.logsource;
            if ls.product.as_deref() != Some(PRODUCT) || ls.category.as_deref() != Some(CATEGORY) {
                return Err(RuleError::Rule {
                    file: file.to_string(),
                    id: r.title.clone(),
                    reason: format!(
                        "logsource must be {{product: {PRODUCT}, category: {CATEGORY}}}, not {{product: {}, category: {}}}",
                        ls.product.as_deref().unwrap_or("none"),
                        ls.category.as_deref().unwrap_or("none"),
                    ),
                });
            }
            let id = r
                .name
                .clone()
                .or_else(|| r.id.clone())
                .unwrap_or_else(|| kebab(&r.title));
            ids.insert(result_key(r.id.as_deref(), &r.title), id.clone());
            rules.push(Rule {
                id,
                title: r.title.clone(),
                severity: severity(r.level),
                description: r.description.clone().unwrap_or_default(),
                source: file.to_string(),
                definition: definition(&r.title),
                body: RuleBody::Sigma,
            });
        }
        for c in &collection.correlations {
            let id = c
                .name
                .clone()
                .or_else(|| c.id.clone())
                .unwrap_or_else(|| kebab(&c.title));
            ids.insert(result_key(c.id.as_deref(), &c.title), id.clone());
            rules.push(Rule {
                id,
                title: c.title.clone(),
                severity: severity(c.level),
                description: c.description.clone().unwrap_or_default(),
                source: file.to_string(),
                definition: definition(&c.title),
                body: RuleBody::Sigma,
            });
        }
        // compile now, so a rule rsigma cannot use fails at load, not per session
        let mut engine = CorrelationEngine::new(CorrelationConfig::default());
        engine
            .add_collection(&collection)
            .map_err(|e| err(e.to_string()))?;
        let new_ids: Vec<String> = rules.iter().map(|r| r.id.clone()).collect();
        self.remove_ids(&new_ids);
        self.rules.extend(rules);
        self.files.push(SigmaFile { collection, ids });
        Ok(new_ids)
    }

    /// Drops the rules `ids` (a later file redefined them).
    fn remove_ids(&mut self, ids: &[String]) {
        self.rules.retain(|r| !ids.contains(&r.id));
        for f in &mut self.files {
            f.ids.retain(|_, ours| !ids.contains(ours));
        }
    }

    /// Drops rule `id` (a TOML rule replaced it).
    pub fn remove(&mut self, id: &str) {
        self.remove_ids(&[id.to_string()]);
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Engines ready to evaluate sessions (one per file).
    pub fn evaluator(&self) -> SigmaEvaluator {
        let engines = self
            .files
            .iter()
            .filter(|f| !f.ids.is_empty())
            .map(|f| {
                let config = CorrelationConfig {
                    correlation_event_mode: CorrelationEventMode::Refs,
                    max_correlation_events: 64,
                    ..CorrelationConfig::default()
                };
                let mut engine = CorrelationEngine::new(config);
                engine
                    .add_collection(&f.collection)
                    .expect("compiled once at load");
                let empty = engine.export_state();
                (engine, empty, f.ids.clone())
            })
            .collect();
        SigmaEvaluator { engines }
    }
}

/// Stateful evaluation of the Sigma files, one session at a time.
pub struct SigmaEvaluator {
    engines: Vec<(
        CorrelationEngine,
        rsigma_eval::CorrelationSnapshot,
        HashMap<String, String>,
    )>,
}

impl SigmaEvaluator {
    /// The Sigma hits on `session`: `rule_of` finds our rule by id.
    pub fn hits<'a>(
        &mut self,
        session: &'a Session,
        rule_of: &dyn Fn(&str) -> Option<&'a Rule>,
    ) -> Vec<Hit<'a>> {
        let mut hits = Vec::new();
        for (engine, empty, ids) in &mut self.engines {
            engine.import_state(empty.clone());
            for item in &session.events {
                let Some(row) = &item.row else { continue };
                let event = JsonEvent::borrow(row);
                let results = engine.process_event_at(&event, item.ts.div_euclid(1_000_000_000));
                for r in results {
                    let Some(rule) = our_rule(&r, ids).and_then(rule_of) else {
                        continue;
                    };
                    let items = if r.is_correlation() {
                        cited(&r, session)
                    } else {
                        vec![item]
                    };
                    if !items.is_empty() {
                        hits.push(Hit { rule, items });
                    }
                }
            }
        }
        hits
    }
}

fn our_rule<'m>(r: &EvaluationResult, ids: &'m HashMap<String, String>) -> Option<&'m str> {
    ids.get(&result_key(
        r.header.rule_id.as_deref(),
        &r.header.rule_title,
    ))
    .map(String::as_str)
}

/// The session's events a correlation result refers to, in session order.
fn cited<'a>(r: &EvaluationResult, session: &'a Session) -> Vec<&'a Item> {
    let Some(body) = r.as_correlation() else {
        return Vec::new();
    };
    let ids: Vec<&str> = body
        .event_refs
        .iter()
        .flatten()
        .filter_map(|e| e.id.as_deref())
        .collect();
    session
        .events
        .iter()
        .filter(|i| i.event_ids.iter().any(|e| ids.contains(&e.as_str())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_titles_and_levels() {
        let mut s = SigmaRules::default();
        let ids = s
            .add(
                "t.yml",
                "title: Curl To Paste Site\nid: 5d3a\nlogsource:\n  product: vigil\n  category: agent_events\n\
                 detection:\n  sel:\n    command|contains: pastebin.com\n  condition: sel\nlevel: informational\n",
            )
            .unwrap();
        assert_eq!(ids, ["5d3a"]);
        assert_eq!(s.rules()[0].severity, Severity::Info);
        assert_eq!(s.rules()[0].title, "Curl To Paste Site");
        assert!(s.rules()[0].definition.contains("pastebin.com"));
        assert_eq!(kebab("Curl | To  Paste-Site!"), "curl-to-paste-site");
    }

    #[test]
    fn another_logsource_is_refused_with_the_reason() {
        let mut s = SigmaRules::default();
        let e = s
            .add(
                "w.yml",
                "title: Whoami\nlogsource:\n  product: windows\n  category: process_creation\n\
                 detection:\n  sel:\n    CommandLine|contains: whoami\n  condition: sel\n",
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("logsource must be {product: vigil, category: agent_events}"),
            "{e}"
        );
        assert!(e.contains("windows"), "{e}");
    }
}
