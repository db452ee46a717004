//! Rules over one session: which items each rule cites.
//!
//! A **match** rule cites each item it matches (`once_per_session`: the first
//! only). A **sequence** rule cites, for each item that satisfies its last step,
//! the earliest chain of items before it (or the same item: one command can
//! read a secret and send it) that satisfies the earlier steps in order, with
//! each step's relation to the one before (a variant of it, using or running a
//! path it wrote, a host outside an allowlist) and within the rule's window.
//! So a secret read followed by three uploads is three findings, each citing
//! the first read and its upload.

use std::collections::HashSet;

use super::items::{Item, Session, StoreContext};
use super::rules::{Rule, RuleBody, Step, Target};

/// One rule firing: the rule and the items it cites, in session order.
#[derive(Debug, Clone)]
pub struct Hit<'a> {
    pub rule: &'a Rule,
    pub items: Vec<&'a Item>,
}

/// Every hit of the native rules in `rules` on `session`, without repeats.
pub fn native_hits<'a>(
    rules: &'a [Rule],
    session: &'a Session,
    ctx: &StoreContext,
) -> Vec<Hit<'a>> {
    let mut hits = Vec::new();
    for rule in rules {
        let RuleBody::Native {
            on,
            matches,
            sequence,
            within_events,
            within_seconds,
            once_per_session,
        } = &rule.body
        else {
            continue;
        };
        let items = match on {
            Target::Actions => &session.timeline,
            Target::Events => &session.events,
        };
        let mut seen: HashSet<Vec<usize>> = HashSet::new();
        let mut push = |idx: Vec<usize>, hits: &mut Vec<Hit<'a>>| {
            if seen.insert(idx.clone()) {
                hits.push(Hit {
                    rule,
                    items: idx.iter().map(|&i| &items[i]).collect(),
                });
            }
        };
        if let Some(m) = matches {
            for (i, item) in items.iter().enumerate() {
                if m.matches(item, session, ctx) {
                    push(vec![i], &mut hits);
                    if *once_per_session {
                        break;
                    }
                }
            }
        }
        if !sequence.is_empty() {
            let window = Window {
                events: *within_events,
                ns: within_seconds.map(|s| s.saturating_mul(1_000_000_000) as i64),
            };
            for chain in sequences(sequence, items, session, ctx, window) {
                push(chain, &mut hits);
                if *once_per_session {
                    break;
                }
            }
        }
    }
    hits
}

#[derive(Debug, Clone, Copy)]
struct Window {
    /// The chain spans at most this many items (first to last, inclusive).
    events: Option<usize>,
    ns: Option<i64>,
}

impl Window {
    fn holds(&self, items: &[Item], first: usize, last: usize) -> bool {
        self.events.is_none_or(|n| last - first < n.max(1))
            && self
                .ns
                .is_none_or(|ns| items[last].ts.saturating_sub(items[first].ts) <= ns)
    }
}

/// The chains (item indexes, one per step, duplicates folded) of `steps` in
/// `items`: one per item satisfying the last step, the earliest before it.
fn sequences(
    steps: &[Step],
    items: &[Item],
    session: &Session,
    ctx: &StoreContext,
    window: Window,
) -> Vec<Vec<usize>> {
    // which items satisfy each step's own predicate, computed once
    let candidates: Vec<Vec<usize>> = steps
        .iter()
        .map(|s| {
            (0..items.len())
                .filter(|&i| {
                    s.predicate.matches(&items[i], session, ctx) && s.host_allowed(&items[i])
                })
                .collect()
        })
        .collect();
    let last = steps.len() - 1;
    let mut out = Vec::new();
    for &end in &candidates[last] {
        let mut chain = vec![end];
        if earliest_chain(
            steps,
            &candidates,
            items,
            last,
            end,
            end,
            window,
            &mut chain,
        ) {
            chain.reverse();
            chain.dedup();
            out.push(chain);
        }
    }
    out
}

/// Extends `chain` (which ends with the item chosen for step `step`, at
/// `at`) backwards through steps `step-1 .. 0`, earliest candidates first.
#[allow(clippy::too_many_arguments)]
fn earliest_chain(
    steps: &[Step],
    candidates: &[Vec<usize>],
    items: &[Item],
    step: usize,
    at: usize,
    end: usize,
    window: Window,
    chain: &mut Vec<usize>,
) -> bool {
    if step == 0 {
        return true;
    }
    let this = &steps[step];
    for &prev in candidates[step - 1].iter().take_while(|&&p| p <= at) {
        if !window.holds(items, prev, end) || !related(this, &items[prev], &items[at]) {
            continue;
        }
        chain.push(prev);
        if earliest_chain(steps, candidates, items, step - 1, prev, end, window, chain) {
            return true;
        }
        chain.pop();
    }
    false
}

/// Whether `item` (for `step`) stands in the step's relation to `prev`.
fn related(step: &Step, prev: &Item, item: &Item) -> bool {
    if step.variant_of_previous && !is_variant(prev, item) {
        return false;
    }
    if step.uses_path_of_previous && !prev.paths_written.iter().any(|p| item.uses(p)) {
        return false;
    }
    if step.runs_path_of_previous && !prev.paths_written.iter().any(|p| item.runs(p)) {
        return false;
    }
    true
}

/// The same program and at least 60 % of the words in common (of the longer
/// command): `git push --force origin main` and `git push -f origin main`.
pub fn is_variant(a: &Item, b: &Item) -> bool {
    if std::ptr::eq(a, b) {
        return false;
    }
    match (&a.command, &b.command) {
        (Some(x), Some(y)) => {
            if a.programs.first() != b.programs.first() || a.programs.is_empty() {
                return false;
            }
            similar_words(x, y)
        }
        // tools without a command: the same tool on the same paths
        _ => {
            a.tool_name.is_some()
                && a.tool_name == b.tool_name
                && (a.paths_written == b.paths_written && a.paths_read == b.paths_read)
        }
    }
}

/// At least 60 % of the words of the longer command line are in the other.
fn similar_words(x: &str, y: &str) -> bool {
    let wx: Vec<&str> = x.split_whitespace().collect();
    let wy: Vec<&str> = y.split_whitespace().collect();
    let common = wx.iter().filter(|w| wy.contains(w)).count();
    let longer = wx.len().max(wy.len()).max(1);
    common * 10 >= longer * 6
}

/// [`is_variant`] for two command lines (the `is_variant` SQL function).
pub fn commands_are_variants(x: &str, y: &str) -> bool {
    let first = |c: &str| {
        schemas::normalize::shell::simple_commands(c)
            .into_iter()
            .next()
            .and_then(|argv| argv.into_iter().next())
    };
    let p = first(x);
    p.is_some() && p == first(y) && similar_words(x, y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(c: &str) -> Item {
        let mut i = Item {
            command: Some(c.into()),
            ..Item::default()
        };
        for argv in schemas::normalize::shell::simple_commands(c) {
            i.programs.push(argv[0].clone());
            i.simple_commands.push(argv.join(" "));
        }
        i
    }

    #[test]
    fn variants_share_the_program_and_most_words() {
        let cases = [
            (
                "git push --force origin main",
                "git push -f origin main",
                true,
            ),
            (
                "git push --force origin main",
                "git push origin main --force",
                true,
            ),
            ("rm -rf ./build /", "rm -rf ./build", true),
            ("git push --force origin main", "git status", false),
            (
                "curl https://a.example/x",
                "wget https://a.example/x",
                false,
            ),
            ("ls", "ls", true),
        ];
        for (a, b, want) in cases {
            assert_eq!(is_variant(&cmd(a), &cmd(b)), want, "{a} vs {b}");
            assert_eq!(commands_are_variants(a, b), want, "{a} vs {b}");
        }
    }

    #[test]
    fn windows_bound_items_and_seconds() {
        let items: Vec<Item> = (0..5)
            .map(|i| Item {
                ts: i * 1_000_000_000,
                ..Item::default()
            })
            .collect();
        let w = Window {
            events: Some(3),
            ns: None,
        };
        assert!(w.holds(&items, 0, 2));
        assert!(!w.holds(&items, 0, 3));
        let w = Window {
            events: None,
            ns: Some(2_000_000_000),
        };
        assert!(w.holds(&items, 1, 3));
        assert!(!w.holds(&items, 0, 3));
    }
}
