//! `vigil check`: a permission policy evaluated over stored sessions.
//! Exit status: 0 no violation, 1 violations listed, 2 a policy file that
//! cannot be used (with its line and the reason).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use arrow::array::{ArrayRef, RecordBatch, StringArray};
use query::check::{CheckScope, Violation, check};
use schemas::policy::{Policy, PolicySet};

use crate::cli::{CheckArgs, Exit};

/// Reads and parses each policy file; the first bad one is the error.
pub fn load_policies(files: &[PathBuf]) -> Result<PolicySet, String> {
    let mut set = PolicySet::new(Vec::new());
    for f in files {
        let name = f.display().to_string();
        let text = std::fs::read_to_string(f).map_err(|e| format!("{name}: {e}"))?;
        set.push(Policy::parse(&name, &text).map_err(|e| e.to_string())?);
    }
    Ok(set)
}

pub async fn run(args: CheckArgs) -> anyhow::Result<()> {
    let policies = match load_policies(&args.policy) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return Err(Exit(2).into());
        }
    };
    let now = schemas::Clock::now_ns(&schemas::SystemClock);
    let since_ns = args
        .since
        .as_deref()
        .map(|s| schemas::time::parse_instant(s, now))
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("--since")?;
    let engine = query::QueryEngine::offline(&args.data_dir).await?;
    let scope = CheckScope {
        session_id: args.session.clone(),
        since_ns,
    };
    let violations = check(&engine, &policies, &scope).await?;
    match args.format.as_str() {
        "json" => println!("{}", serde_json::to_string_pretty(&violations)?),
        _ => print_table(&violations)?,
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Exit(1).into())
    }
}

fn print_table(violations: &[Violation]) -> anyhow::Result<()> {
    if violations.is_empty() {
        println!("no violations: the policy would have allowed every checked action");
        return Ok(());
    }
    let col = |f: &dyn Fn(&Violation) -> String| -> ArrayRef {
        Arc::new(StringArray::from_iter_values(violations.iter().map(f)))
    };
    let short = |s: &str| {
        if s.chars().count() > 60 {
            s.chars().take(59).collect::<String>() + "…"
        } else {
            s.to_string()
        }
    };
    let batch = RecordBatch::try_from_iter([
        ("session", col(&|v| v.session_id.clone())),
        ("tool_call", col(&|v| v.tool_call_id.clone())),
        ("time", col(&|v| v.ts.chars().take(19).collect())),
        (
            "command",
            col(&|v| {
                short(
                    v.command
                        .as_deref()
                        .or(v.tool_name.as_deref())
                        .unwrap_or(""),
                )
            }),
        ),
        ("policy", col(&|v| v.policy_decision.to_string())),
        (
            "actual",
            col(&|v| {
                format!(
                    "{}{}{}",
                    v.decision.as_deref().unwrap_or("-"),
                    v.decision_source
                        .as_deref()
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default(),
                    if v.ran { ", ran" } else { "" }
                )
            }),
        ),
        (
            "rule",
            col(&|v| {
                format!(
                    "{} {}:{}",
                    v.rule.as_deref().unwrap_or("(default)"),
                    v.file,
                    v.line
                )
            }),
        ),
    ])?;
    println!("{}", arrow::util::pretty::pretty_format_batches(&[batch])?);
    let ran = violations.iter().filter(|v| v.ran).count();
    println!(
        "{} actions the policy would deny or ask about ({ran} of them ran)",
        violations.len()
    );
    Ok(())
}
