//! Hot buffer → Parquet files, and the coverage map that makes replay exact.
//!
//! One flush takes every pending WAL record `lo..=hi`, and for each table and
//! `(date, hour)` partition writes one file
//! `tables/<table>/date=D/hour=H/<lo>-<hi>-<nonce>.parquet`: written as `.tmp`,
//! fsync'd, renamed, directory fsync'd. Only then is `hi` committed to the
//! buffer and the WAL trimmed. The range in the name says "every row of this
//! table and partition from records lo..=hi is in this file", so replay after a
//! crash part-way through a flush skips exactly the rows already written.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{AsArray, RecordBatch, UInt32Array};
use arrow::compute::{SortColumn, concat_batches, lexsort_to_indices, take_record_batch};
use arrow::datatypes::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use schemas::layout;
use schemas::tables::{self, COL_DATE, COL_HOUR, COL_TS};

use crate::buffer::{Entry, HotBuffer};
use crate::error::Error;
use crate::metrics::Metrics;

pub(crate) const ZSTD_LEVEL: i32 = 1;
pub(crate) const MAX_ROW_GROUP_ROWS: usize = 128 * 1024;
/// Key-value metadata keys stamped on every file.
pub(crate) const META_WAL_LO: &str = "vigil.wal_seq_lo";
pub(crate) const META_WAL_HI: &str = "vigil.wal_seq_hi";

/// Columns that get a bloom filter, per table (what investigations look up by).
fn bloom_columns(table: &str) -> &'static [&'static str] {
    match table {
        tables::OTLP_SPANS | tables::OTLP_LOGS => &["trace_id"],
        tables::AGENT_EVENTS => &["session_id", "trace_id"],
        tables::FINDINGS => &["session_id"],
        _ => &[],
    }
}

/// Sort order within a file.
pub(crate) fn sort_columns(table: &str) -> &'static [&'static str] {
    match table {
        tables::AGENT_EVENTS | tables::FINDINGS => &["session_id", COL_TS],
        tables::OTLP_SPANS => &["trace_id", COL_TS],
        _ => &[COL_TS],
    }
}

pub(crate) fn writer_properties(
    table: &str,
    schema: &SchemaRef,
    lo: u64,
    hi: u64,
) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::ZSTD(
            ZstdLevel::try_new(ZSTD_LEVEL).expect("valid zstd level"),
        ))
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Page)
        .set_max_row_group_row_count(Some(MAX_ROW_GROUP_ROWS))
        .set_key_value_metadata(Some(vec![
            KeyValue::new(META_WAL_LO.to_string(), lo.to_string()),
            KeyValue::new(META_WAL_HI.to_string(), hi.to_string()),
            KeyValue::new("vigil.table".to_string(), table.to_string()),
        ]));
    // attribute values are mostly long, unique text (commands, outputs): a dictionary
    // is built and thrown away for every page, so write them plain
    b = b.set_column_dictionary_enabled(
        ColumnPath::from(vec![
            "attributes".to_string(),
            "entries".to_string(),
            "values".to_string(),
        ]),
        false,
    );
    for col in bloom_columns(table) {
        b = b.set_column_bloom_filter_enabled(ColumnPath::from(*col), true);
    }
    let sorting: Vec<_> = sort_columns(table)
        .iter()
        .filter_map(|c| schema.index_of(c).ok())
        .map(|i| SortingColumn {
            column_idx: i as i32,
            descending: false,
            nulls_first: true,
        })
        .collect();
    b.set_sorting_columns(Some(sorting)).build()
}

/// `(table, date, hour)` → WAL ranges already in files.
#[derive(Debug, Default, Clone)]
pub(crate) struct Coverage(HashMap<(String, String, String), Vec<(u64, u64)>>);

impl Coverage {
    /// Scans the table directories; removes what a crash can leave: `.tmp`
    /// files, the merge lists of unfinished compactions, and the inputs of
    /// finished ones (then their lists).
    pub(crate) fn scan(data_dir: &Path) -> Result<Self, Error> {
        let mut cov = Coverage::default();
        for table in tables::ALL_TABLES {
            let listing = layout::list_table(data_dir, table)?;
            // an unfinished merge's list goes before its `.tmp` (see `list_table`)
            let mut dirs = std::collections::BTreeSet::new();
            for list in &listing.unfinished_merges {
                tracing::warn!(file = %list.display(), "removing the list of an unfinished compaction");
                std::fs::remove_file(list)?;
                dirs.extend(list.parent());
            }
            for dir in dirs {
                crate::wal::fsync_dir(dir)?;
            }
            for tmp in &listing.leftovers {
                tracing::warn!(file = %tmp.display(), "removing what an interrupted write left");
                std::fs::remove_file(tmp)?;
            }
            crate::compact::remove_merged(&listing.merged_inputs, &listing.merge_lists)?;
            for f in listing.files {
                cov.0
                    .entry((table.to_string(), f.date, f.hour))
                    .or_default()
                    .push(f.wal_range);
            }
        }
        Ok(cov)
    }

    pub(crate) fn covers(&self, table: &str, date: &str, hour: &str, seq: u64) -> bool {
        self.0
            .get(&(table.to_string(), date.to_string(), hour.to_string()))
            .is_some_and(|ranges| ranges.iter().any(|(lo, hi)| (*lo..=*hi).contains(&seq)))
    }

    /// The highest sequence any file covers (0 if none).
    pub(crate) fn max_seq(&self) -> u64 {
        self.0
            .values()
            .flatten()
            .map(|(_, hi)| *hi)
            .max()
            .unwrap_or(0)
    }

    /// Drops the rows of `batch` whose partition already has a file covering `seq`.
    pub(crate) fn filter_uncovered(
        &self,
        table: &str,
        seq: u64,
        batch: RecordBatch,
    ) -> Result<Option<RecordBatch>, Error> {
        if self.0.is_empty() {
            return Ok(Some(batch));
        }
        let (dates, hours) = partition_columns(&batch);
        let keep: Vec<u32> = (0..batch.num_rows())
            .filter(|&i| !self.covers(table, dates.value(i), hours.value(i), seq))
            .map(|i| i as u32)
            .collect();
        if keep.is_empty() {
            return Ok(None);
        }
        if keep.len() == batch.num_rows() {
            return Ok(Some(batch));
        }
        Ok(Some(take_record_batch(&batch, &UInt32Array::from(keep))?))
    }
}

/// What one flush wrote.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FlushStats {
    pub records: usize,
    pub rows: usize,
    pub files: usize,
    pub bytes: u64,
    pub upto: u64,
}

/// Writes every pending buffer entry to Parquet and commits it. Blocking I/O:
/// call from a blocking thread.
pub fn flush(data_dir: &Path, buffer: &HotBuffer, metrics: &Metrics) -> Result<FlushStats, Error> {
    let entries = buffer.pending();
    let Some(last) = entries.last() else {
        return Ok(FlushStats {
            upto: buffer.flushed_upto(),
            ..Default::default()
        });
    };
    let (lo, hi) = (entries[0].seq, last.seq);
    let mut stats = FlushStats {
        records: entries.len(),
        upto: hi,
        ..Default::default()
    };
    let mut written = Vec::new();
    let result = (|| {
        for (table, batches) in group_by_table(&entries) {
            let schema = batches[0].schema();
            let all = concat_batches(&schema, &batches)?;
            for ((date, hour), part) in split_partitions(&all)? {
                let path = write_partition_in(
                    &layout::table_dir(data_dir, table),
                    table,
                    &date,
                    &hour,
                    &part,
                    lo,
                    hi,
                )?;
                let size = std::fs::metadata(&path)?.len();
                stats.files += 1;
                stats.rows += part.num_rows();
                stats.bytes += size;
                written.push((
                    table,
                    layout::TableFile {
                        date,
                        hour,
                        path,
                        wal_range: (lo, hi),
                        size,
                    },
                ));
            }
        }
        Ok::<_, Error>(())
    })();
    if let Err(e) = result {
        // The rows are still in the buffer and the WAL and the retry writes them
        // again: remove this attempt's files so they are not there twice.
        for (_, f) in &written {
            if let Err(rm) = std::fs::remove_file(&f.path) {
                tracing::error!(file = %f.path.display(), error = %rm, "could not remove a file of a failed flush");
            }
        }
        return Err(e);
    }
    buffer.commit_flushed(hi, written);
    metrics.flushes.inc();
    metrics.parquet_files.inc_by(stats.files as u64);
    metrics.parquet_rows.inc_by(stats.rows as u64);
    metrics.parquet_bytes.inc_by(stats.bytes);
    Ok(stats)
}

fn group_by_table(entries: &[Entry]) -> BTreeMap<&'static str, Vec<RecordBatch>> {
    let mut by_table: BTreeMap<&'static str, Vec<RecordBatch>> = BTreeMap::new();
    for e in entries {
        for (t, b) in &e.batches {
            by_table.entry(*t).or_default().push(b.clone());
        }
    }
    by_table
}

/// `(date, hour)`.
pub(crate) type Partition = (String, String);

/// The `date` and `hour` columns every table batch carries.
fn partition_columns(
    batch: &RecordBatch,
) -> (&arrow::array::StringArray, &arrow::array::StringArray) {
    let col = |name| {
        batch
            .column_by_name(name)
            .expect("partition column")
            .as_string::<i32>()
    };
    (col(COL_DATE), col(COL_HOUR))
}

/// Splits a batch by its `(date, hour)` columns, sorted within each partition.
pub(crate) fn split_partitions(
    batch: &RecordBatch,
) -> Result<Vec<(Partition, RecordBatch)>, Error> {
    let (dates, hours) = partition_columns(batch);
    let mut parts: BTreeMap<(&str, &str), Vec<u32>> = BTreeMap::new();
    for i in 0..batch.num_rows() {
        parts
            .entry((dates.value(i), hours.value(i)))
            .or_default()
            .push(i as u32);
    }
    let single = parts.len() == 1;
    let mut out = Vec::with_capacity(parts.len());
    for ((d, h), idx) in parts {
        let part = if single {
            batch.clone()
        } else {
            take_record_batch(batch, &UInt32Array::from(idx))?
        };
        out.push(((d.to_string(), h.to_string()), part));
    }
    Ok(out)
}

/// Rows mostly arrive in order (one session, increasing time): checking is a
/// linear scan, sorting a copy of every column.
fn already_sorted(cols: &[SortColumn], rows: usize) -> Result<bool, Error> {
    let cmps = cols
        .iter()
        .map(|c| {
            arrow::array::make_comparator(c.values.as_ref(), c.values.as_ref(), Default::default())
        })
        .collect::<Result<Vec<_>, _>>()?;
    for i in 1..rows {
        for cmp in &cmps {
            match cmp(i - 1, i) {
                std::cmp::Ordering::Less => break,
                std::cmp::Ordering::Equal => continue,
                std::cmp::Ordering::Greater => return Ok(false),
            }
        }
    }
    Ok(true)
}

fn sort_batch(table: &str, batch: &RecordBatch) -> Result<RecordBatch, Error> {
    let cols: Vec<SortColumn> = sort_columns(table)
        .iter()
        .filter_map(|c| batch.column_by_name(c))
        .map(|c| SortColumn {
            values: Arc::clone(c),
            options: None,
        })
        .collect();
    if cols.is_empty() || batch.num_rows() < 2 || already_sorted(&cols, batch.num_rows())? {
        return Ok(batch.clone());
    }
    let idx = lexsort_to_indices(&cols, None)?;
    Ok(take_record_batch(batch, &idx)?)
}

/// Creates `dir` and its missing parents up to (not above) `root`, and makes each
/// new entry durable by fsyncing the directory that holds it: a new `date=`
/// directory must survive a crash before the WAL that covers it is trimmed.
fn create_dir_durably(root: &Path, dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = dir.parent().unwrap_or(root);
    if parent != root && dir.starts_with(root) {
        create_dir_durably(root, parent)?;
    } else {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(()),
        Err(e) => return Err(e),
    }
    crate::wal::fsync_dir(parent)
}

/// Writes one partition file of `table` under the table directory `root`.
pub(crate) fn write_partition_in(
    root: &Path,
    table: &str,
    date: &str,
    hour: &str,
    batch: &RecordBatch,
    lo: u64,
    hi: u64,
) -> Result<PathBuf, Error> {
    let dir = layout::partition_dir(root, date, hour);
    create_dir_durably(root.parent().unwrap_or(root), &dir)?;
    let name = layout::parquet_name(lo, hi, rand::random::<u32>());
    let final_path = dir.join(&name);
    let tmp_path = dir.join(format!("{name}{}", layout::TMP_SUFFIX));

    let sorted = sort_batch(table, batch)?;
    let file_schema = tables::file_schema(&sorted.schema());
    let cols: Vec<_> = file_schema
        .fields()
        .iter()
        .map(|f| {
            Arc::clone(
                sorted
                    .column_by_name(f.name())
                    .expect("file column in table"),
            )
        })
        .collect();
    let file_batch = RecordBatch::try_new(Arc::clone(&file_schema), cols)?;

    let file = File::create(&tmp_path)?;
    let props = writer_properties(table, &file_schema, lo, hi);
    let mut writer = ArrowWriter::try_new(file, Arc::clone(&file_schema), Some(props))?;
    writer.write(&file_batch)?;
    let file = writer.into_inner()?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp_path, &final_path)?;
    crate::wal::fsync_dir(&dir)?;
    Ok(final_path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{Int64Array, StringArray};

    fn cols(a: Vec<Option<&str>>, b: Vec<i64>) -> Vec<SortColumn> {
        vec![
            SortColumn {
                values: Arc::new(StringArray::from(a)),
                options: None,
            },
            SortColumn {
                values: Arc::new(Int64Array::from(b)),
                options: None,
            },
        ]
    }

    #[test]
    fn sortedness_check_agrees_with_lexsort_order() {
        assert!(
            already_sorted(
                &cols(
                    vec![None, Some("a"), Some("a"), Some("b")],
                    vec![9, 1, 2, 0]
                ),
                4
            )
            .unwrap()
        );
        assert!(!already_sorted(&cols(vec![Some("a"), Some("a")], vec![2, 1]), 2).unwrap());
        assert!(!already_sorted(&cols(vec![Some("b"), Some("a")], vec![1, 2]), 2).unwrap());
        assert!(
            !already_sorted(&cols(vec![Some("a"), None], vec![1, 2]), 2).unwrap(),
            "nulls sort first"
        );
    }
}
