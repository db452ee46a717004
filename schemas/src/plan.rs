//! Plans as agents report them (Codex `update_plan`, Claude `TodoWrite`), stored
//! in `agent_events.plan` as a JSON array of `{"step", "status"}`, and how one
//! revision differs from the one before.

use serde::Deserialize;

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Step {
    pub step: String,
    #[serde(default)]
    pub status: String,
}

/// Parses a stored plan; `None` for anything that is not a step list.
pub fn parse(plan: &str) -> Option<Vec<Step>> {
    serde_json::from_str(plan).ok()
}

/// What changed from one plan revision to the next. Steps are matched by their
/// text: a reworded step is one removed and one added, as a reader sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PlanDiff {
    /// Steps of `next` not in `previous`, in `next`'s order.
    pub added: Vec<String>,
    /// Steps of `previous` not in `next`, in `previous`'s order.
    pub removed: Vec<String>,
    /// `step: old → new` for steps in both whose status changed, in `next`'s order.
    pub status_changed: Vec<String>,
}

/// The difference between two stored plans; with no previous plan every step
/// is added. A plan that does not parse counts as empty.
pub fn diff(previous: Option<&str>, next: &str) -> PlanDiff {
    let prev = previous.and_then(parse).unwrap_or_default();
    let next = parse(next).unwrap_or_default();
    let mut d = PlanDiff::default();
    for s in &next {
        match prev.iter().find(|p| p.step == s.step) {
            None => d.added.push(s.step.clone()),
            Some(p) if p.status != s.status => d
                .status_changed
                .push(format!("{}: {} → {}", s.step, p.status, s.status)),
            Some(_) => {}
        }
    }
    for p in &prev {
        if !next.iter().any(|s| s.step == p.step) {
            d.removed.push(p.step.clone());
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revisions_are_compared_step_by_step() {
        let a = r#"[{"step":"read code","status":"in_progress"},{"step":"fix bug","status":"pending"}]"#;
        let b = r#"[{"step":"read code","status":"completed"},{"step":"fix bug","status":"pending"},{"step":"run tests","status":"pending"}]"#;
        let c = r#"[{"step":"run tests","status":"completed"}]"#;
        assert_eq!(
            diff(None, a),
            PlanDiff {
                added: vec!["read code".into(), "fix bug".into()],
                removed: vec![],
                status_changed: vec![],
            }
        );
        assert_eq!(
            diff(Some(a), b),
            PlanDiff {
                added: vec!["run tests".into()],
                removed: vec![],
                status_changed: vec!["read code: in_progress → completed".into()],
            }
        );
        assert_eq!(
            diff(Some(b), c),
            PlanDiff {
                added: vec![],
                removed: vec!["read code".into(), "fix bug".into()],
                status_changed: vec!["run tests: pending → completed".into()],
            }
        );
        assert_eq!(diff(Some(a), a), PlanDiff::default());
        assert_eq!(diff(Some("not json"), "[]"), PlanDiff::default());
    }
}
