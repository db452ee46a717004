//! `vigil bench query`: the queries a dashboard and an incident responder run,
//! timed on the real engine over a store, and the same questions asked of DuckDB
//! over the same Parquet files in its own process.

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::Context as _;

use crate::bench::QueryBenchArgs;

/// The intent chain of `GET /api/sessions/{id}`, timed in-process.
const CHAIN_API: &str = "chain: GET /api/sessions/{id}";

/// Per-session queries (`{s}` is the session id).
pub const SESSION_QUERIES: &[(&str, &str)] = &[
    (
        "chain: agent_events",
        "SELECT * FROM agent_events WHERE session_id = '{s}' ORDER BY position",
    ),
    (
        "chain: agent_actions",
        "SELECT * FROM agent_actions WHERE session_id = '{s}' ORDER BY position",
    ),
    (
        "sessions (one)",
        "SELECT * FROM sessions WHERE session_id = '{s}'",
    ),
    (
        "reads_before_writes",
        "SELECT * FROM reads_before_writes WHERE session_id = '{s}'",
    ),
    (
        "silent_commands",
        "SELECT * FROM silent_commands WHERE session_id = '{s}'",
    ),
    (
        "denied_actions",
        "SELECT * FROM denied_actions WHERE session_id = '{s}'",
    ),
    (
        "plan_updates",
        "SELECT * FROM plan_updates WHERE session_id = '{s}'",
    ),
    (
        "seed: files_read_before_change",
        "SELECT * FROM files_read_before_change WHERE session_id = '{s}'",
    ),
    (
        "seed: silent_commands",
        "SELECT * FROM silent_commands WHERE session_id = '{s}' ORDER BY position",
    ),
    (
        "seed: denied_attempts",
        "SELECT * FROM denied_attempts WHERE session_id = '{s}'",
    ),
    (
        "seed: plan_evolution",
        "SELECT * FROM plan_evolution WHERE session_id = '{s}'",
    ),
    (
        "findings (one)",
        "SELECT * FROM findings WHERE session_id = '{s}'",
    ),
];

/// Whole-store queries.
pub const STORE_QUERIES: &[(&str, &str)] = &[
    (
        "session list page",
        "SELECT session_id, agent, user_id, started, last_seen, prompts, tool_calls, denials FROM sessions WHERE NOT is_auxiliary ORDER BY last_seen DESC LIMIT 50",
    ),
    (
        "denied events",
        "SELECT count(*) FROM agent_events WHERE decision = 'deny'",
    ),
    ("denied_actions", "SELECT count(*) FROM denied_actions"),
    ("silent_commands", "SELECT count(*) FROM silent_commands"),
    ("plan_updates", "SELECT count(*) FROM plan_updates"),
    (
        "reads_before_writes",
        "SELECT count(*) FROM reads_before_writes",
    ),
    (
        "seed: files_read_before_change",
        "SELECT count(*) FROM files_read_before_change",
    ),
    (
        "seed: denied_attempts",
        "SELECT count(*) FROM denied_attempts",
    ),
    (
        "seed: plan_evolution",
        "SELECT count(*) FROM plan_evolution",
    ),
];

#[derive(Debug, Clone)]
pub struct Timing {
    pub name: String,
    pub samples_ms: Vec<f64>,
}

impl Timing {
    fn pct(&self, p: f64) -> f64 {
        let mut v = self.samples_ms.clone();
        v.sort_by(|a, b| a.total_cmp(b));
        if v.is_empty() {
            return f64::NAN;
        }
        let i = ((v.len() as f64 - 1.0) * p).round() as usize;
        v[i]
    }
}

/// Session ids, shuffled deterministically from the seed.
fn pick_sessions(all: Vec<String>, n: usize, seed: u64) -> Vec<String> {
    let mut all = all;
    let mut x = seed | 1;
    for i in (1..all.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        all.swap(i, (x % (i as u64 + 1)) as usize);
    }
    all.truncate(n);
    all
}

/// Runs `sql`; returns the time in ms and the answer's size: the value of a
/// `SELECT count(*)`, else the number of rows (what DuckDB's side reports too).
async fn time(engine: &query::QueryEngine, sql: &str) -> anyhow::Result<(f64, i64)> {
    let start = Instant::now();
    let r = engine.sql(sql).await.with_context(|| sql.to_string())?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let size = if sql.to_ascii_lowercase().starts_with("select count") {
        let col = arrow::compute::cast(r.batches[0].column(0), &arrow::datatypes::DataType::Int64)?;
        col.as_any()
            .downcast_ref::<arrow::array::Int64Array>()
            .expect("i64")
            .value(0)
    } else {
        r.num_rows() as i64
    };
    Ok((ms, size))
}

pub async fn run(args: QueryBenchArgs) -> anyhow::Result<()> {
    let limits = query::QueryLimits {
        memory_bytes: args.query_memory_bytes,
        // a whole-store view over millions of events may take minutes
        timeout: std::time::Duration::from_secs(600),
    };
    let engine = query::QueryEngine::offline_with(&args.data_dir, limits).await?;
    let ids = engine
        .sql("SELECT DISTINCT session_id FROM agent_events_raw WHERE session_id IS NOT NULL ORDER BY session_id")
        .await?;
    let mut all = Vec::new();
    for b in &ids.batches {
        let col = arrow::compute::cast(b.column(0), &arrow::datatypes::DataType::Utf8)?;
        let col = col
            .as_any()
            .downcast_ref::<arrow::array::StringArray>()
            .expect("utf8");
        all.extend(col.iter().flatten().map(str::to_string));
    }
    let total_sessions = all.len();
    let sessions = pick_sessions(all, args.sessions, args.seed);
    let events = engine.sql("SELECT count(*) FROM agent_events_raw").await?;
    let events = arrow::compute::cast(
        events.batches[0].column(0),
        &arrow::datatypes::DataType::Int64,
    )?;
    let events = events
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .expect("i64")
        .value(0);
    eprintln!(
        "{events} agent events in {total_sessions} sessions; timing {} sessions",
        sessions.len()
    );

    // warm-up: the first statement loads footers into the metadata cache
    time(&engine, &SESSION_QUERIES[0].1.replace("{s}", &sessions[0])).await?;
    let mut per_session: Vec<Timing> = std::iter::once(CHAIN_API)
        .chain(SESSION_QUERIES.iter().map(|(n, _)| *n))
        .map(|n| Timing {
            name: n.to_string(),
            samples_ms: Vec::new(),
        })
        .collect();
    for s in &sessions {
        // the intent chain as the API builds it (its statements, then the JSON)
        let start = Instant::now();
        let chain = web::session_chain(&engine, s)
            .await
            .map_err(|e| anyhow::anyhow!("the chain of {s}: {e}"))?;
        anyhow::ensure!(chain.is_some(), "no chain for session {s}");
        per_session[0]
            .samples_ms
            .push(start.elapsed().as_secs_f64() * 1e3);
        for (i, (_, sql)) in SESSION_QUERIES.iter().enumerate() {
            let (ms, _) = time(&engine, &sql.replace("{s}", s)).await?;
            per_session[i + 1].samples_ms.push(ms);
        }
    }
    let mut store = Vec::new();
    let mut answers = std::collections::HashMap::new();
    let mut failed = Vec::new();
    for (name, sql) in STORE_QUERIES {
        let mut samples = Vec::new();
        for _ in 0..3 {
            match time(&engine, sql).await {
                Ok((ms, size)) => {
                    samples.push(ms);
                    answers.insert(name.to_string(), size);
                }
                // reported, not fatal: the other figures still mean something
                Err(e) => {
                    eprintln!("{name}: {e:#}");
                    failed.push(format!("{name}: {e:#}"));
                    break;
                }
            }
        }
        store.push(Timing {
            name: name.to_string(),
            samples_ms: samples,
        });
    }
    let duck = if args.duckdb {
        Some(crate::bench_duckdb::run(&args.data_dir, &sessions).await?)
    } else {
        None
    };
    let mut report = render(events, total_sessions, &per_session, &store, duck.as_ref());
    // the same question must get the same answer, or the timing means nothing
    let mismatches: Vec<String> = duck
        .iter()
        .flat_map(|d| &d.rows)
        .filter(|(name, theirs)| answers.get(*name).is_some_and(|ours| ours != *theirs))
        .map(|(name, theirs)| format!("{name}: Vigil {} DuckDB {theirs}", answers[name]))
        .collect();
    if !mismatches.is_empty() {
        let _ = writeln!(report, "\n**Answers differ:** {}", mismatches.join("; "));
    }
    for f in &failed {
        let _ = writeln!(report, "\n**Failed:** {f}");
    }
    let _ = writeln!(
        report,
        "\nQuery memory limit {} MiB (`--query-memory-bytes`).",
        args.query_memory_bytes >> 20
    );
    print!("{report}");
    if let Some(path) = &args.out {
        let mut text = std::fs::read_to_string(path).unwrap_or_default();
        text.push_str(&report);
        std::fs::write(path, text)?;
    }
    anyhow::ensure!(failed.is_empty(), "{} queries failed", failed.len());
    anyhow::ensure!(
        mismatches.is_empty(),
        "Vigil and DuckDB answered differently: {}",
        mismatches.join("; ")
    );
    Ok(())
}

fn render(
    events: i64,
    sessions: usize,
    per_session: &[Timing],
    store: &[Timing],
    duck: Option<&crate::bench_duckdb::DuckTimings>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### Queries: {events} agent events, {sessions} sessions\n"
    );
    let _ = writeln!(
        out,
        "| per session ({} sessions) | p50 ms | p99 ms | max ms | DuckDB p50 ms |",
        per_session.first().map_or(0, |t| t.samples_ms.len())
    );
    let _ = writeln!(out, "|---|---:|---:|---:|---:|");
    for t in per_session {
        let d = duck
            .and_then(|d| d.session.get(&t.name))
            .map_or("—".to_string(), |v| {
                format!(
                    "{:.1}",
                    Timing {
                        name: String::new(),
                        samples_ms: v.clone()
                    }
                    .pct(0.5)
                )
            });
        let _ = writeln!(
            out,
            "| {} | {:.1} | {:.1} | {:.1} | {d} |",
            t.name,
            t.pct(0.5),
            t.pct(0.99),
            t.pct(1.0)
        );
    }
    let _ = writeln!(
        out,
        "\n| whole store (best of 3) | Vigil ms | DuckDB ms | ratio |"
    );
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for t in store {
        let best = t.pct(0.0);
        let d = duck.and_then(|d| d.store.get(&t.name)).copied();
        let (dd, ratio) = match d {
            Some(d) => (format!("{d:.1}"), format!("{:.2}×", best / d)),
            None => ("—".into(), "—".into()),
        };
        if t.samples_ms.is_empty() {
            let _ = writeln!(out, "| {} | failed | {dd} | — |", t.name);
            continue;
        }
        let _ = writeln!(out, "| {} | {best:.1} | {dd} | {ratio} |", t.name);
    }
    out
}
