//! The DuckDB side of `vigil bench query`: `bench/duckdb_bench.py` defines the
//! same views in DuckDB's SQL over the same Parquet files and runs the same
//! queries in its own process.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context as _;

use crate::bench_query::{SESSION_QUERIES, STORE_QUERIES};

#[derive(Debug, Clone, Default)]
pub struct DuckTimings {
    pub session: HashMap<String, Vec<f64>>,
    pub store: HashMap<String, f64>,
    /// What DuckDB answered for each whole-store query (a count, or the rows).
    pub rows: HashMap<String, i64>,
}

pub async fn run(data_dir: &Path, sessions: &[String]) -> anyhow::Result<DuckTimings> {
    let tmp = tempfile_dir()?;
    let sessions_file = tmp.join("sessions.txt");
    std::fs::write(&sessions_file, sessions.join("\n"))?;
    let queries_file = tmp.join("queries.json");
    std::fs::write(
        &queries_file,
        serde_json::json!({"session": SESSION_QUERIES, "store": STORE_QUERIES}).to_string(),
    )?;
    let script = std::env::current_dir()?
        .join("bench")
        .join("duckdb_bench.py");
    let data = data_dir.canonicalize()?;
    let out = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(&data)
        .arg(&sessions_file)
        .arg(&queries_file)
        .output()
        .await
        .context("running bench/duckdb_bench.py (pip install -r bench/requirements.txt)")?;
    anyhow::ensure!(
        out.status.success(),
        "DuckDB run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let _ = std::fs::remove_dir_all(&tmp);
    let mut t = DuckTimings::default();
    for (k, samples) in v["session"].as_object().into_iter().flatten() {
        t.session.insert(
            k.clone(),
            samples
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|x| x.as_f64())
                .collect(),
        );
    }
    for (k, ms) in v["store"].as_object().into_iter().flatten() {
        t.store.insert(k.clone(), ms.as_f64().unwrap_or(f64::NAN));
    }
    for (k, n) in v["rows"].as_object().into_iter().flatten() {
        t.rows.insert(k.clone(), n.as_i64().unwrap_or(-1));
    }
    Ok(t)
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("vigil-duckdb-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}
