//! Background compaction: many small flush files → few large ones.
//!
//! Every flush writes one file per table and hour partition, so a busy hour
//! collects hundreds of small files and a query for one session checks each of
//! their footers and bloom filters. The compactor merges files of one partition
//! into a file sorted by the table's sort order (`session_id, ts` for
//! `agent_events`), with the same bloom filters and page statistics, so a
//! session's rows sit in a few pages of a few files.
//!
//! **Which files.** Files are grouped in size classes (below 64 KiB, then each
//! [`fan_in`] times the one before, up to [`CompactionConfig::max_file_bytes`]);
//! when a partition holds `fan_in` files of one class, they are merged, which
//! mostly lands in the next class. A row is rewritten about once per class
//! (five classes with the defaults), not once per flush, and a partition keeps
//! fewer than `fan_in` files per class.
//!
//! **Streaming.** Each input is already sorted, so the merge reads one batch of
//! each input at a time and interleaves rows in key order (Arrow's row format
//! for the comparison): memory is a batch per input plus one row group being
//! written, whatever the size of the inputs. Ties keep input order, which is
//! WAL order.
//!
//! **Crash safety.** The output is written as `.tmp` and fsync'd; then the
//! merge list `<output>.merge` (the input names) is written and fsync'd; then
//! the output is renamed into place and the directory fsync'd. From that moment
//! the inputs are not part of the table (see `schemas::layout`): the store
//! swaps inputs for output in one step, statements already running may still
//! read the inputs for [`CompactionConfig::grace`], and then the inputs and the
//! list are removed. A crash before the rename leaves a `.tmp` and a list
//! without output (both removed at start, the inputs stay); after it, the
//! output and inputs that start-up removes. Rows are never in the table twice
//! or not at all.
//!
//! [`fan_in`]: CompactionConfig::fan_in

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow::array::{RecordBatch, new_null_array};
use arrow::compute::{cast, interleave_record_batch};
use arrow::datatypes::SchemaRef;
use arrow::row::{RowConverter, Rows, SortField};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use schemas::layout::{self, TableFile};
use schemas::tables;

use crate::buffer::HotBuffer;
use crate::error::Error;
use crate::failpoint::crash_here;
use crate::flush::{sort_columns, writer_properties};
use crate::metrics::Metrics;

/// The upper bound of the smallest size class (a flush file of a quiet minute).
const MIN_CLASS_BYTES: u64 = 64 * 1024;

/// When and what the compactor merges.
#[derive(Debug, Clone, Copy)]
pub struct CompactionConfig {
    /// How often to look for files to merge; zero turns compaction off.
    pub interval: Duration,
    /// How long merged inputs stay on disk after the swap, so statements that
    /// planned with them can finish (at least the query timeout).
    pub grace: Duration,
    /// Files of one size class merged at once.
    pub fan_in: usize,
    /// Files at least this large are not merged again.
    pub max_file_bytes: u64,
}

impl Default for CompactionConfig {
    fn default() -> Self {
        CompactionConfig {
            interval: Duration::from_secs(10),
            grace: Duration::from_secs(60),
            fan_in: 8,
            max_file_bytes: 128 * 1024 * 1024,
        }
    }
}

impl CompactionConfig {
    /// The size class of a file of `bytes`: 0 below the smallest class bound,
    /// `None` for files too large to merge.
    fn class(&self, bytes: u64) -> Option<u32> {
        if bytes >= self.max_file_bytes {
            return None;
        }
        let fan_in = self.fan_in.max(2) as u64;
        let mut bound = MIN_CLASS_BYTES;
        let mut class = 0;
        while bytes >= bound {
            class += 1;
            bound = bound.saturating_mul(fan_in);
        }
        Some(class)
    }
}

/// One merge to do: `inputs` (in WAL order) of one partition of `table`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Merge {
    pub(crate) table: &'static str,
    pub(crate) inputs: Vec<TableFile>,
}

/// The next merge, if a partition holds `fan_in` files of one size class.
pub(crate) fn plan(buffer: &HotBuffer, config: &CompactionConfig) -> Option<Merge> {
    let fan_in = config.fan_in.max(2);
    for table in tables::ALL_TABLES {
        let files = buffer.files(table);
        // files are sorted by partition, then by WAL range
        for partition in files.chunk_by(|a, b| (&a.date, &a.hour) == (&b.date, &b.hour)) {
            let mut by_class: std::collections::BTreeMap<u32, Vec<&TableFile>> = Default::default();
            for f in partition {
                if let Some(class) = config.class(f.size) {
                    let same = by_class.entry(class).or_default();
                    same.push(f);
                    if same.len() == fan_in {
                        return Some(Merge {
                            table,
                            inputs: same.iter().map(|f| (*f).clone()).collect(),
                        });
                    }
                }
            }
        }
    }
    None
}

/// What one merge did.
#[derive(Debug, Clone)]
pub(crate) struct Merged {
    pub(crate) output: TableFile,
    pub(crate) list: PathBuf,
    pub(crate) rows: usize,
}

/// Merges `merge.inputs` into one file beside them and renames it into place
/// (see the module docs for the order of steps). Blocking I/O.
pub(crate) fn merge(merge: &Merge) -> Result<Merged, Error> {
    let first = merge
        .inputs
        .first()
        .ok_or_else(|| Error::Io(std::io::Error::other("a merge needs at least one input")))?;
    let dir = first
        .path
        .parent()
        .ok_or_else(|| Error::Io(std::io::Error::other("an input without a directory")))?
        .to_path_buf();
    let lo = merge
        .inputs
        .iter()
        .map(|f| f.wal_range.0)
        .min()
        .unwrap_or(0);
    let hi = merge
        .inputs
        .iter()
        .map(|f| f.wal_range.1)
        .max()
        .unwrap_or(0);
    let name = layout::parquet_name(lo, hi, rand::random::<u32>());
    let final_path = dir.join(&name);
    let tmp_path = dir.join(format!("{name}{}", layout::TMP_SUFFIX));
    let list = layout::merge_list_path(&final_path);

    let result = (|| {
        let schema = tables::file_schema(
            &tables::raw_schema(merge.table)
                .ok_or_else(|| Error::UnknownTable(merge.table.to_string()))?,
        );
        let props = writer_properties(merge.table, &schema, lo, hi);
        let mut writer =
            ArrowWriter::try_new(File::create(&tmp_path)?, Arc::clone(&schema), Some(props))?;
        let rows = merge_sorted(merge.table, &schema, &merge.inputs, |batch| {
            writer.write(&batch)?;
            Ok(())
        })?;
        let file = writer.into_inner()?;
        file.sync_all()?;
        drop(file);
        crash_here("compact-before-list");

        let mut f = File::create(&list)?;
        f.write_all(layout::merge_list_text(&merge.inputs).as_bytes())?;
        f.sync_all()?;
        crate::wal::fsync_dir(&dir)?;
        crash_here("compact-before-rename");
        std::fs::rename(&tmp_path, &final_path)?;
        crate::wal::fsync_dir(&dir)?;
        crash_here("compact-after-rename");
        Ok::<_, Error>(rows)
    })();
    let rows = match result {
        Ok(rows) => rows,
        Err(e) => {
            // nothing was renamed: the inputs are still the table (the list goes
            // first: a list without its `.tmp` means "finished")
            let undo = || -> std::io::Result<()> {
                for p in [&list, &tmp_path] {
                    match std::fs::remove_file(p) {
                        Ok(()) => crate::wal::fsync_dir(&dir)?,
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(())
            };
            if let Err(rm) = undo() {
                // start-up removes what is left, in the same order
                tracing::error!(output = %final_path.display(), error = %rm, "could not clean up after a failed compaction");
            }
            return Err(e);
        }
    };
    Ok(Merged {
        output: TableFile {
            date: first.date.clone(),
            hour: first.hour.clone(),
            size: std::fs::metadata(&final_path)?.len(),
            path: final_path,
            wal_range: (lo, hi),
        },
        list,
        rows,
    })
}

/// Removes the inputs of a finished merge, then its list. Blocking I/O.
pub(crate) fn remove_merged(inputs: &[PathBuf], lists: &[PathBuf]) -> Result<(), Error> {
    let mut dirs: Vec<&Path> = Vec::new();
    for p in inputs {
        match std::fs::remove_file(p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
        if let Some(d) = p.parent()
            && !dirs.contains(&d)
        {
            dirs.push(d);
        }
    }
    // the inputs are gone for good before their list is
    for d in dirs {
        crate::wal::fsync_dir(d)?;
    }
    for p in lists {
        match std::fs::remove_file(p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Rows per output batch.
const OUT_ROWS: usize = 8192;

/// One input being read: its current batch and the sort keys of its rows.
struct Cursor {
    reader: ParquetRecordBatchReader,
    batch: RecordBatch,
    keys: Rows,
    pos: usize,
    /// Index of `batch` in the batches the pending output rows point into.
    slot: usize,
}

/// The columns of `batch` as `schema` has them: missing ones (a file written
/// before a column was added) are null, others cast if their type changed.
fn conform(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, Error> {
    if batch.schema() == *schema {
        return Ok(batch);
    }
    let columns = schema
        .fields()
        .iter()
        .map(|f| match batch.column_by_name(f.name()) {
            Some(c) if c.data_type() == f.data_type() => Ok(Arc::clone(c)),
            Some(c) => Ok(cast(c, f.data_type())?),
            None => Ok(new_null_array(f.data_type(), batch.num_rows())),
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(RecordBatch::try_new(Arc::clone(schema), columns)?)
}

/// Streams the rows of the sorted `inputs` to `out` in sort order, in batches
/// of [`OUT_ROWS`]; returns the number of rows.
fn merge_sorted(
    table: &str,
    schema: &SchemaRef,
    inputs: &[TableFile],
    mut out: impl FnMut(RecordBatch) -> Result<(), Error>,
) -> Result<usize, Error> {
    let key_columns: Vec<usize> = sort_columns(table)
        .iter()
        .filter_map(|c| schema.index_of(c).ok())
        .collect();
    let converter = RowConverter::new(
        key_columns
            .iter()
            .map(|&i| SortField::new(schema.field(i).data_type().clone()))
            .collect(),
    )?;
    let keys_of = |batch: &RecordBatch| -> Result<Rows, Error> {
        let cols: Vec<_> = key_columns
            .iter()
            .map(|&i| Arc::clone(batch.column(i)))
            .collect();
        Ok(converter.convert_columns(&cols)?)
    };
    let next_batch = |reader: &mut ParquetRecordBatchReader| -> Result<Option<RecordBatch>, Error> {
        for b in reader.by_ref() {
            let b = conform(b?, schema)?;
            if b.num_rows() > 0 {
                return Ok(Some(b));
            }
        }
        Ok(None)
    };

    let mut slots: Vec<RecordBatch> = Vec::new();
    let mut cursors: Vec<Cursor> = Vec::new();
    for f in inputs {
        let mut reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&f.path)?)?
            .with_batch_size(OUT_ROWS)
            .build()?;
        if let Some(batch) = next_batch(&mut reader)? {
            slots.push(batch.clone());
            cursors.push(Cursor {
                keys: keys_of(&batch)?,
                reader,
                batch,
                pos: 0,
                slot: slots.len() - 1,
            });
        }
    }
    let mut pending: Vec<(usize, usize)> = Vec::with_capacity(OUT_ROWS);
    let mut total = 0;
    let mut emit = |pending: &mut Vec<(usize, usize)>,
                    slots: &mut Vec<RecordBatch>,
                    cursors: &mut Vec<Cursor>|
     -> Result<(), Error> {
        if pending.is_empty() {
            return Ok(());
        }
        let refs: Vec<&RecordBatch> = slots.iter().collect();
        out(interleave_record_batch(&refs, pending)?)?;
        total += pending.len();
        pending.clear();
        // only the batches the cursors are on are still needed
        slots.clear();
        for c in cursors.iter_mut() {
            slots.push(c.batch.clone());
            c.slot = slots.len() - 1;
        }
        Ok(())
    };
    while !cursors.is_empty() {
        let mut best = 0;
        for i in 1..cursors.len() {
            if cursors[i].keys.row(cursors[i].pos) < cursors[best].keys.row(cursors[best].pos) {
                best = i;
            }
        }
        let c = &mut cursors[best];
        pending.push((c.slot, c.pos));
        c.pos += 1;
        if c.pos == c.batch.num_rows() {
            match next_batch(&mut c.reader)? {
                Some(batch) => {
                    c.keys = keys_of(&batch)?;
                    c.pos = 0;
                    slots.push(batch.clone());
                    c.slot = slots.len() - 1;
                    c.batch = batch;
                }
                None => {
                    cursors.remove(best);
                }
            }
        }
        if pending.len() == OUT_ROWS {
            emit(&mut pending, &mut slots, &mut cursors)?;
        }
    }
    emit(&mut pending, &mut slots, &mut cursors)?;
    Ok(total)
}

/// Merged inputs waiting for the grace period to pass.
#[derive(Debug, Default)]
pub(crate) struct Removals(Vec<(Instant, Vec<PathBuf>, PathBuf)>);

impl Removals {
    pub(crate) fn schedule(&mut self, at: Instant, inputs: Vec<PathBuf>, list: PathBuf) {
        self.0.push((at, inputs, list));
    }

    /// Removes the inputs whose grace period is over (all of them with `all`).
    pub(crate) fn run_due(&mut self, now: Instant, all: bool) -> Result<(), Error> {
        while let Some(i) = self.0.iter().position(|(at, _, _)| all || *at <= now) {
            let (_, inputs, list) = &self.0[i];
            remove_merged(inputs, std::slice::from_ref(list))?;
            self.0.remove(i);
        }
        Ok(())
    }
}

/// One round: every merge that is due, one after another. Blocking I/O.
pub(crate) fn compact_round(
    buffer: &HotBuffer,
    config: &CompactionConfig,
    metrics: &Metrics,
    removals: &mut Removals,
    stop: &dyn Fn() -> bool,
) -> Result<usize, Error> {
    removals.run_due(Instant::now(), false)?;
    let mut merges = 0;
    while !stop() {
        let Some(m) = plan(buffer, config) else {
            break;
        };
        let started = Instant::now();
        let merged = merge(&m)?;
        let inputs: Vec<PathBuf> = m.inputs.iter().map(|f| f.path.clone()).collect();
        buffer.replace_files(m.table, &inputs, merged.output.clone());
        removals.schedule(Instant::now() + config.grace, inputs, merged.list.clone());
        crash_here("compact-after-swap");
        metrics.compactions.inc();
        metrics.compacted_files.inc_by(m.inputs.len() as u64);
        metrics.compacted_bytes.inc_by(merged.output.size);
        tracing::debug!(
            table = m.table,
            partition = format!("{}/{}", merged.output.date, merged.output.hour),
            inputs = m.inputs.len(),
            input_bytes = m.inputs.iter().map(|f| f.size).sum::<u64>(),
            output_bytes = merged.output.size,
            rows = merged.rows,
            ms = started.elapsed().as_millis() as u64,
            "compacted"
        );
        merges += 1;
    }
    Ok(merges)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flush::{split_partitions, write_partition_in};
    use crate::request::ExportRequest;
    use crate::wal::Signal;
    use arrow::util::display::{ArrayFormatter, FormatOptions};
    use std::collections::BTreeMap;

    #[test]
    fn size_classes_grow_by_the_fan_in_up_to_the_largest_file() {
        let c = CompactionConfig {
            fan_in: 8,
            max_file_bytes: 128 << 20,
            ..Default::default()
        };
        for (bytes, class) in [
            (0, Some(0)),
            ((64 << 10) - 1, Some(0)),
            (64 << 10, Some(1)),
            ((512 << 10) - 1, Some(1)),
            (512 << 10, Some(2)),
            (4 << 20, Some(3)),
            (32 << 20, Some(4)),
            ((128 << 20) - 1, Some(4)),
            (128 << 20, None),
        ] {
            assert_eq!(c.class(bytes), class, "{bytes} bytes");
        }
    }

    /// Every row of `batch` as text, one string per row.
    fn row_texts(batch: &RecordBatch) -> Vec<String> {
        let options = FormatOptions::default().with_null("∅");
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        (0..batch.num_rows())
            .map(|i| {
                formatters
                    .iter()
                    .map(|f| f.value(i).to_string())
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect()
    }

    fn read(path: &Path) -> Vec<RecordBatch> {
        ParquetRecordBatchReaderBuilder::try_new(File::open(path).unwrap())
            .unwrap()
            .build()
            .unwrap()
            .map(|b| b.unwrap())
            .collect()
    }

    /// One file per request and partition, as the flusher writes them.
    fn files_of_every_fixture(root: &Path, table: &'static str) -> Vec<TableFile> {
        let mut dirs = fixtures::scenarios();
        dirs.extend(fixtures::captures());
        let mut files = Vec::new();
        let mut seq = 0;
        for dir in dirs {
            for m in fixtures::manifest(&dir).unwrap() {
                let signal = Signal::from_otlp_http_path(&m.path).expect("an OTLP path");
                let body = std::fs::read(dir.join(&m.file)).unwrap();
                let req = ExportRequest::decode_json(signal, &body).unwrap();
                seq += 1;
                for (t, batch) in req.rows(1).unwrap() {
                    if t != table {
                        continue;
                    }
                    let batch = crate::buffer::stamp(batch, seq);
                    for ((date, hour), part) in split_partitions(&batch).unwrap() {
                        let path =
                            write_partition_in(root, table, &date, &hour, &part, seq, seq).unwrap();
                        files.push(TableFile {
                            size: std::fs::metadata(&path).unwrap().len(),
                            date,
                            hour,
                            path,
                            wal_range: (seq, seq),
                        });
                    }
                }
            }
        }
        files.sort();
        files
    }

    #[test]
    fn a_merge_keeps_every_row_once_in_sort_order() {
        let dir = tempfile::tempdir().unwrap();
        for table in [tables::AGENT_EVENTS, tables::OTLP_SPANS, tables::OTLP_LOGS] {
            let root = layout::table_dir(dir.path(), table);
            let files = files_of_every_fixture(&root, table);
            let mut partitions: BTreeMap<(String, String), Vec<TableFile>> = BTreeMap::new();
            for f in files {
                partitions
                    .entry((f.date.clone(), f.hour.clone()))
                    .or_default()
                    .push(f);
            }
            let mut merged_some = false;
            for ((date, hour), inputs) in partitions.into_iter().filter(|(_, f)| f.len() >= 2) {
                let mut expected: Vec<String> = inputs
                    .iter()
                    .flat_map(|f| read(&f.path))
                    .flat_map(|b| row_texts(&b))
                    .collect();
                let merged = merge(&Merge {
                    table,
                    inputs: inputs.clone(),
                })
                .unwrap();
                merged_some = true;
                let what = format!("{table} {date}/{hour}");
                assert_eq!(
                    merged.output.wal_range,
                    (inputs[0].wal_range.0, inputs.last().unwrap().wal_range.1),
                    "{what}"
                );
                assert_eq!(
                    (merged.output.date.as_str(), merged.output.hour.as_str()),
                    (date.as_str(), hour.as_str())
                );
                assert_eq!(merged.rows, expected.len(), "{what}");
                let batches = read(&merged.output.path);
                let out = arrow::compute::concat_batches(&batches[0].schema(), &batches).unwrap();
                // in the table's sort order
                let keys: Vec<_> = sort_columns(table)
                    .iter()
                    .map(|c| {
                        SortField::new(out.schema().field_with_name(c).unwrap().data_type().clone())
                    })
                    .collect();
                let converter = RowConverter::new(keys).unwrap();
                let cols: Vec<_> = sort_columns(table)
                    .iter()
                    .map(|c| Arc::clone(out.column_by_name(c).unwrap()))
                    .collect();
                let rows = converter.convert_columns(&cols).unwrap();
                for i in 1..rows.num_rows() {
                    assert!(
                        rows.row(i - 1) <= rows.row(i),
                        "{what}: row {i} out of order"
                    );
                }
                // the same rows, each once
                let mut got = row_texts(&out);
                got.sort();
                expected.sort();
                assert_eq!(got, expected, "{what}");
                // the inputs are still there (removed after the grace period), and
                // the listing already leaves them out
                assert!(inputs.iter().all(|f| f.path.exists()));
                let listing = layout::list_table(dir.path(), table).unwrap();
                assert!(listing.files.contains(&merged.output), "{what}");
                for f in &inputs {
                    assert!(!listing.files.contains(f), "{what}: {}", f.path.display());
                    assert!(listing.merged_inputs.contains(&f.path));
                }
                remove_merged(&listing.merged_inputs, &listing.merge_lists).unwrap();
                assert!(inputs.iter().all(|f| !f.path.exists()));
                assert!(!merged.list.exists());
            }
            assert!(merged_some, "{table}: no partition with two files to merge");
        }
    }

    #[test]
    fn a_partition_merges_once_it_holds_fan_in_files_of_one_class() {
        let dir = tempfile::tempdir().unwrap();
        let root = layout::table_dir(dir.path(), tables::AGENT_EVENTS);
        let files = files_of_every_fixture(&root, tables::AGENT_EVENTS);
        let buffer = HotBuffer::new(0);
        buffer.set_files([(tables::AGENT_EVENTS, files.clone())].into());
        let mut counts: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for f in &files {
            *counts.entry((&f.date, &f.hour)).or_default() += 1;
        }
        let busiest = *counts.values().max().unwrap();
        assert!(busiest >= 3, "{counts:?}");
        let config = |fan_in| CompactionConfig {
            fan_in,
            ..Default::default()
        };
        // more files than any partition holds: nothing to do
        assert_eq!(plan(&buffer, &config(busiest + 1)), None);
        let m = plan(&buffer, &config(busiest)).expect("a merge");
        assert_eq!(m.table, tables::AGENT_EVENTS);
        assert_eq!(m.inputs.len(), busiest);
        let (d, h) = (&m.inputs[0].date, &m.inputs[0].hour);
        assert_eq!(counts[&(d.as_str(), h.as_str())], busiest);
        assert!(m.inputs.iter().all(|f| (&f.date, &f.hour) == (d, h)));
        assert!(m.inputs.windows(2).all(|w| w[0].wal_range < w[1].wal_range));

        // a round merges until no partition holds two files of a class
        let metrics = Metrics::default();
        let mut removals = Removals::default();
        let merges =
            compact_round(&buffer, &config(2), &metrics, &mut removals, &|| false).unwrap();
        assert!(merges >= 1);
        assert_eq!(metrics.compactions.get(), merges as u64);
        assert_eq!(plan(&buffer, &config(2)), None);
        let snapshot = schemas::StoreState::snapshot(&buffer);
        assert!(snapshot.files(tables::AGENT_EVENTS).len() < files.len());
        // the store's list is the listing's
        let listing = layout::list_table(dir.path(), tables::AGENT_EVENTS).unwrap();
        assert_eq!(
            snapshot.files(tables::AGENT_EVENTS),
            listing.files.as_slice()
        );
        // inputs wait for their grace period, then go
        assert!(!listing.merged_inputs.is_empty());
        removals.run_due(Instant::now(), false).unwrap();
        assert!(
            listing.merged_inputs.iter().all(|p| p.exists()),
            "removed before the grace period"
        );
        removals
            .run_due(Instant::now() + Duration::from_secs(3600), false)
            .unwrap();
        assert!(listing.merged_inputs.iter().all(|p| !p.exists()));
        let listing = layout::list_table(dir.path(), tables::AGENT_EVENTS).unwrap();
        assert!(listing.merge_lists.is_empty() && listing.merged_inputs.is_empty());
    }
}
