//! `vigil reindex`: rebuild `agent_events` from the raw tables after the mapping
//! changed.
//!
//! The raw rows of each WAL record (one original request, so span parents and
//! children meet again) are turned back into the request by `schemas::raw`,
//! normalized with the current mapping, and written to a fresh directory that
//! then replaces `tables/agent_events` in two renames. Normalizing the rebuilt
//! request gives the rows intake gave (tested on every fixture and capture).

use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;

use arrow::array::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use schemas::layout;
use schemas::normalize::{AgentEvent, from_logs, from_spans, to_batch};
use schemas::raw::{logs_request, rows_by_wal_seq, spans_request};
use schemas::tables::{AGENT_EVENTS, OTLP_LOGS, OTLP_SPANS};

use crate::buffer::stamp;
use crate::error::Error;
use crate::failpoint::crash_here;
use crate::flush::{split_partitions, write_partition_in};

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReindexStats {
    pub partitions: usize,
    pub raw_rows: usize,
    pub events: usize,
    pub files: usize,
}

fn read_batches(files: &[layout::TableFile]) -> Result<Vec<RecordBatch>, Error> {
    let mut batches = Vec::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&f.path)?)?.build()?;
        for b in reader {
            batches.push(b?);
        }
    }
    Ok(batches)
}

/// The `agent_events` rows the current mapping gives for rows of a raw table
/// (`otlp_logs` or `otlp_spans`), one batch per WAL record, stamped with it.
pub fn events_from_raw(table: &str, batches: &[RecordBatch]) -> Result<Vec<RecordBatch>, Error> {
    let mut out = Vec::new();
    for (seq, rows) in rows_by_wal_seq(batches)? {
        let events: Vec<AgentEvent> = if table == OTLP_LOGS {
            let (req, received) = logs_request(&rows)?;
            from_logs(&req, received)
        } else {
            let (req, received) = spans_request(&rows)?;
            from_spans(&req, received)
        };
        if let Some(b) = to_batch(&events)? {
            out.push(stamp(b, seq));
        }
    }
    Ok(out)
}

/// Rebuilds `agent_events`; `progress(done, total)` is called per raw partition.
/// The caller must hold the data directory (no server running) and have flushed the WAL.
pub fn reindex(
    data_dir: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<ReindexStats, Error> {
    let tables = layout::tables_dir(data_dir);
    let live = layout::table_dir(data_dir, AGENT_EVENTS);
    // an earlier run that crashed leaves one whole table first
    if let Some(did) = layout::recover_table_swap(data_dir, AGENT_EVENTS)? {
        tracing::warn!(table = AGENT_EVENTS, "{did}");
    }
    let (staging, old) = layout::swap_dirs(data_dir, AGENT_EVENTS);
    // raw files by (table, date, hour): one partition is read and normalized at a time
    let mut parts: BTreeMap<(&str, String, String), Vec<layout::TableFile>> = BTreeMap::new();
    for table in [OTLP_LOGS, OTLP_SPANS] {
        for f in layout::list_table(data_dir, table)?.files {
            parts
                .entry((table, f.date.clone(), f.hour.clone()))
                .or_default()
                .push(f);
        }
    }
    std::fs::create_dir_all(&staging)?;
    let mut stats = ReindexStats {
        partitions: parts.len(),
        ..Default::default()
    };
    let total = parts.len();
    for (i, ((table, _, _), files)) in parts.into_iter().enumerate() {
        let batches = read_batches(&files)?;
        stats.raw_rows += batches.iter().map(RecordBatch::num_rows).sum::<usize>();
        let out = events_from_raw(table, &batches)?;
        if !out.is_empty() {
            let all = arrow::compute::concat_batches(&out[0].schema(), &out)?;
            stats.events += all.num_rows();
            let (lo, hi) = files.iter().fold((u64::MAX, 0), |(lo, hi), f| {
                (lo.min(f.wal_range.0), hi.max(f.wal_range.1))
            });
            for ((d, h), part) in split_partitions(&all)? {
                write_partition_in(&staging, AGENT_EVENTS, &d, &h, &part, lo, hi)?;
                stats.files += 1;
            }
        }
        progress(i + 1, total);
    }
    crate::wal::fsync_dir(&tables)?;
    crash_here("reindex_built");
    // swap in: the old directory moves aside first, so a crash leaves one of the
    // two whole (layout::recover_table_swap, at the next start or run)
    if live.exists() {
        std::fs::rename(&live, &old)?;
    }
    crash_here("reindex_moved_aside");
    std::fs::rename(&staging, &live)?;
    crate::wal::fsync_dir(&tables)?;
    crash_here("reindex_swapped");
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(stats)
}
