//! SQL logic tests for the views (`tests/slt/*.slt`, one file per view).
//!
//! Each file starts from an empty store and loads recorded scenarios with
//! `statement ok` / `LOAD <scenario> [<scenario>…]` (requests go through the real
//! collector: validation, redaction, WAL, Parquet), then runs queries against
//! the offline engine and compares every row. Rewrite the expected output after
//! a deliberate change with `VIGIL_SLT_COMPLETE=1 cargo test --test slt`, then
//! review the diff.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::Array;
use arrow::util::display::{ArrayFormatter, FormatOptions};
use collector::{Collector, CollectorConfig, ExportRequest, Signal};
use sqllogictest::{DBOutput, DefaultColumnType};

#[derive(Debug, thiserror::Error)]
enum SltError {
    #[error("{0}")]
    Query(#[from] query::Error),
    #[error("{0}")]
    Load(String),
}

struct Store {
    dir: tempfile::TempDir,
}

impl Store {
    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    async fn load(&self, scenario: &str) -> Result<(), SltError> {
        let dir = if scenario.starts_with("capture:") {
            fixtures::captures_dir().join(scenario.trim_start_matches("capture:"))
        } else {
            fixtures::scenarios_dir().join(scenario)
        };
        let manifest =
            fixtures::manifest(&dir).map_err(|e| SltError::Load(format!("{scenario}: {e}")))?;
        let config = CollectorConfig::new(self.data_dir());
        let (c, _) = Collector::open(config, Arc::new(schemas::SystemClock))
            .map_err(|e| SltError::Load(e.to_string()))?;
        for m in manifest {
            let body =
                std::fs::read(dir.join(&m.file)).map_err(|e| SltError::Load(e.to_string()))?;
            let signal = match m.path.as_str() {
                "/v1/traces" => Signal::Traces,
                "/v1/logs" => Signal::Logs,
                _ => Signal::Metrics,
            };
            let req = ExportRequest::decode_json(signal, &body)
                .map_err(|e| SltError::Load(format!("{}: {e}", m.file)))?;
            c.export(req)
                .await
                .map_err(|e| SltError::Load(e.to_string()))?;
        }
        c.shutdown()
            .await
            .map_err(|e| SltError::Load(e.to_string()))?;
        Ok(())
    }
}

fn render(result: &query::QueryResult) -> Vec<Vec<String>> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in &result.batches {
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).expect("formatter"))
            .collect();
        for r in 0..batch.num_rows() {
            rows.push(
                formatters
                    .iter()
                    .zip(batch.columns())
                    .map(|(f, c)| {
                        let s = f.value(r).to_string();
                        // an empty string must stay visible in the expected output
                        if s.is_empty() && !c.is_null(r) {
                            "(empty)".to_string()
                        } else {
                            s
                        }
                    })
                    .collect(),
            );
        }
    }
    rows
}

#[async_trait::async_trait]
impl sqllogictest::AsyncDB for Store {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<Self::ColumnType>, Self::Error> {
        if let Some(names) = sql.trim().strip_prefix("LOAD ") {
            for name in names.split_whitespace() {
                self.load(name).await?;
            }
            return Ok(DBOutput::StatementComplete(0));
        }
        let engine = query::QueryEngine::offline(&self.data_dir()).await?;
        let result = engine.sql(sql).await?;
        let types = vec![DefaultColumnType::Any; result.schema.fields().len()];
        Ok(DBOutput::Rows {
            types,
            rows: render(&result),
        })
    }

    async fn shutdown(&mut self) {}
}

fn slt_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/slt")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread")]
async fn views() {
    let complete = std::env::var_os("VIGIL_SLT_COMPLETE").is_some();
    let mut failures = Vec::new();
    let files = slt_files();
    assert!(files.len() >= 7, "one .slt file per view: {files:?}");
    for file in files {
        let mut runner = sqllogictest::Runner::new(|| async {
            Ok(Store {
                dir: tempfile::tempdir().expect("tempdir"),
            })
        });
        let result = if complete {
            runner
                .update_test_file(
                    &file,
                    " ",
                    sqllogictest::default_validator,
                    sqllogictest::default_normalizer,
                    sqllogictest::default_column_validator,
                )
                .await
                .map_err(|e| e.to_string())
        } else {
            runner
                .run_file_async(&file)
                .await
                .map_err(|e| e.display(false).to_string())
        };
        if let Err(e) = result {
            failures.push(format!("{}: {e}", file.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The rows of an `EXPLAIN` (or `EXPLAIN ANALYZE`) as text, a line per row.
async fn plan_text(engine: &query::QueryEngine, sql: &str) -> String {
    let plan = engine.sql(sql).await.unwrap();
    render(&plan)
        .into_iter()
        .map(|r| r.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A `session_id` filter on any view reaches every Parquet scan beneath it as a
/// pruning predicate: one session's chain reads only the row groups that can
/// hold it, however large the store.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_filter_reaches_every_scan_through_every_view() {
    let store = Store {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    store.load("04_prompt_injection_exfil").await.unwrap();
    let engine = query::QueryEngine::offline(&store.data_dir())
        .await
        .unwrap();
    let session = "dd89bf93-7193-79c4-8f71-8bdd8144da3a";
    let mut failures = Vec::new();
    for view in [
        "agent_events",
        "agent_actions",
        "sessions",
        "denied_actions",
        "silent_commands",
        "plan_updates",
        "reads_before_writes",
        "files_read_before_change",
        "denied_attempts",
        "plan_evolution",
    ] {
        let text = plan_text(
            &engine,
            &format!("EXPLAIN SELECT * FROM {view} WHERE session_id = '{session}'"),
        )
        .await;
        let scans: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("DataSourceExec"))
            .collect();
        let filtered = scans
            .iter()
            .filter(|l| {
                l.contains("pruning_predicate=")
                    && l.contains(&format!("= {session}"))
                    && l.contains("session_id")
            })
            .count();
        if scans.is_empty() || filtered != scans.len() {
            failures.push(format!(
                "{view}: {filtered} of {} scans filtered:\n{text}",
                scans.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The numbers "A total → B matched" of a pruning metric on a plan line.
fn pruning(line: &str, metric: &str) -> Option<(u64, u64)> {
    let rest = line.split(&format!("{metric}=")).nth(1)?;
    let mut words = rest.split_whitespace();
    let total = words.next()?.parse().ok()?;
    words.next()?; // "total"
    words.next()?; // "→"
    let matched = words.next()?.parse().ok()?;
    Some((total, matched))
}

/// With several sessions in several files, one session's chain opens only the
/// files (by their footers' `session_id` range) and row groups (statistics and
/// bloom filters) that can hold it, and the scan returns only its rows (the
/// filter is evaluated in the reader).
#[tokio::test(flavor = "multi_thread")]
async fn a_session_lookup_skips_the_row_groups_of_other_sessions() {
    let store = Store {
        dir: tempfile::tempdir().expect("tempdir"),
    };
    for scenario in [
        "01_benign_refactor",
        "02_rm_rf_denied",
        "03_curl_pipe_sh_rejected",
        "04_prompt_injection_exfil",
        "12_attack_chains",
    ] {
        store.load(scenario).await.unwrap();
    }
    let engine = query::QueryEngine::offline(&store.data_dir())
        .await
        .unwrap();
    let session = "dd89bf93-7193-79c4-8f71-8bdd8144da3a";
    let count = |sql: String| {
        let engine = engine.clone();
        async move {
            let r = engine.sql(&sql).await.unwrap();
            render(&r)[0][0].parse::<u64>().unwrap()
        }
    };
    let own_rows = count(format!(
        "SELECT count(*) FROM agent_events_raw WHERE session_id = '{session}'"
    ))
    .await;
    let all_rows = count("SELECT count(*) FROM agent_events_raw".into()).await;
    assert!(
        own_rows > 0 && own_rows < all_rows / 2,
        "{own_rows} of {all_rows}"
    );

    let text = plan_text(
        &engine,
        &format!("EXPLAIN ANALYZE SELECT * FROM agent_events_raw WHERE session_id = '{session}'"),
    )
    .await;
    let scan = text
        .lines()
        .find(|l| l.contains("DataSourceExec"))
        .unwrap_or_else(|| panic!("no scan:\n{text}"));
    // files whose footers say they hold other sessions only are not opened
    // at all; of the row groups of those that are, statistics and bloom
    // filters skip the rest
    let files = walk_parquet(&store.data_dir().join("tables").join("agent_events"));
    let opened: usize = scan
        .split("files_opened=")
        .nth(1)
        .and_then(|s| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no files_opened metric:\n{scan}"));
    assert!(files >= 5, "{files} files");
    assert!(
        opened >= 1 && opened < files / 2,
        "{opened} of {files} files opened:\n{scan}"
    );
    let (groups, after_stats) = pruning(scan, "row_groups_pruned_statistics")
        .unwrap_or_else(|| panic!("no statistics metrics:\n{scan}"));
    let (checked, after_bloom) = pruning(scan, "row_groups_pruned_bloom_filter")
        .unwrap_or_else(|| panic!("no bloom filter metrics:\n{scan}"));
    assert_eq!(
        groups as usize, opened,
        "one row group per small file:\n{scan}"
    );
    assert_eq!(checked, after_stats, "{scan}");
    assert!(after_bloom >= 1, "{scan}");
    assert!(
        scan.contains(&format!("output_rows={own_rows},")),
        "the scan returned other sessions' rows (want {own_rows}):\n{scan}"
    );
}

fn walk_parquet(dir: &std::path::Path) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            n += walk_parquet(&path);
        } else if path.extension().is_some_and(|e| e == "parquet") {
            n += 1;
        }
    }
    n
}
