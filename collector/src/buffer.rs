//! The hot buffer: acknowledged rows not yet in Parquet, queryable at once.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use arrow::array::UInt64Array;
use arrow::record_batch::RecordBatch;
use parking_lot::RwLock;
use schemas::hot::{StoreSnapshot, StoreState};
use schemas::layout::TableFile;

/// Rows of one WAL record, stamped with its sequence number.
#[derive(Debug, Clone)]
pub struct Entry {
    pub seq: u64,
    pub batches: Vec<(&'static str, RecordBatch)>,
    pub bytes: usize,
    pub received: Instant,
}

#[derive(Debug, Default)]
struct Inner {
    flushed_upto: u64,
    /// The newest WAL record pushed.
    last_seq: u64,
    entries: VecDeque<Entry>,
    bytes: usize,
    rows: usize,
    /// The committed Parquet files of each table: together with `flushed_upto`,
    /// every acknowledged row is in exactly one of them or in `entries`.
    files: HashMap<&'static str, Arc<Vec<TableFile>>>,
}

#[derive(Debug, Default)]
pub struct HotBuffer {
    inner: RwLock<Inner>,
}

/// Replaces the placeholder `wal_seq` column (always column 0) with `seq`.
pub(crate) fn stamp(batch: RecordBatch, seq: u64) -> RecordBatch {
    let mut cols = batch.columns().to_vec();
    cols[0] = Arc::new(UInt64Array::from_value(seq, batch.num_rows()));
    RecordBatch::try_new(batch.schema(), cols).expect("same schema, same length")
}

impl HotBuffer {
    pub fn new(flushed_upto: u64) -> Self {
        HotBuffer {
            inner: RwLock::new(Inner {
                flushed_upto,
                ..Default::default()
            }),
        }
    }

    /// Adds the rows of record `seq`. Called in sequence order by the WAL writer.
    pub fn push(&self, seq: u64, batches: Vec<(&'static str, RecordBatch)>) {
        let batches: Vec<_> = batches
            .into_iter()
            .map(|(t, b)| (t, stamp(b, seq)))
            .collect();
        let bytes = batches.iter().map(|(_, b)| b.get_array_memory_size()).sum();
        let rows: usize = batches.iter().map(|(_, b)| b.num_rows()).sum();
        let mut inner = self.inner.write();
        inner.last_seq = inner.last_seq.max(seq);
        inner.bytes += bytes;
        inner.rows += rows;
        inner.entries.push_back(Entry {
            seq,
            batches,
            bytes,
            received: Instant::now(),
        });
    }

    /// Entries not yet flushed, oldest first.
    pub fn pending(&self) -> Vec<Entry> {
        let inner = self.inner.read();
        inner
            .entries
            .iter()
            .filter(|e| e.seq > inner.flushed_upto)
            .cloned()
            .collect()
    }

    /// The files already on disk when the store opened.
    pub fn set_files(&self, files: HashMap<&'static str, Vec<TableFile>>) {
        let mut inner = self.inner.write();
        inner.files = files.into_iter().map(|(t, f)| (t, Arc::new(f))).collect();
    }

    /// Records that every row up to `upto` is in renamed Parquet files, the new
    /// ones among them `written`, and drops those rows: readers see the files and
    /// stop seeing the rows in one step.
    pub fn commit_flushed(&self, upto: u64, written: Vec<(&'static str, TableFile)>) {
        let mut inner = self.inner.write();
        for (table, file) in written {
            let list = inner.files.entry(table).or_default();
            let mut files = list.as_ref().clone();
            files.push(file);
            files.sort();
            *list = Arc::new(files);
        }
        inner.flushed_upto = inner.flushed_upto.max(upto);
        while inner.entries.front().is_some_and(|e| e.seq <= upto) {
            let e = inner.entries.pop_front().expect("checked");
            inner.bytes -= e.bytes;
            inner.rows -= e.batches.iter().map(|(_, b)| b.num_rows()).sum::<usize>();
        }
    }

    /// The committed files of `table` (what a snapshot lists, without copying
    /// the hot rows).
    pub(crate) fn files(&self, table: &str) -> Arc<Vec<TableFile>> {
        self.inner
            .read()
            .files
            .get(table)
            .cloned()
            .unwrap_or_default()
    }

    /// Swaps the `inputs` of a compaction of `table` for its `output`: readers
    /// see one or the other, never both.
    pub(crate) fn replace_files(&self, table: &'static str, inputs: &[PathBuf], output: TableFile) {
        let mut inner = self.inner.write();
        let list = inner.files.entry(table).or_default();
        let mut files: Vec<TableFile> = list
            .iter()
            .filter(|f| !inputs.contains(&f.path))
            .cloned()
            .collect();
        files.push(output);
        files.sort();
        *list = Arc::new(files);
    }

    pub fn flushed_upto(&self) -> u64 {
        self.inner.read().flushed_upto
    }
    pub fn bytes(&self) -> usize {
        self.inner.read().bytes
    }
    pub fn rows(&self) -> usize {
        self.inner.read().rows
    }
    /// When the oldest unflushed entry arrived.
    pub fn oldest(&self) -> Option<Instant> {
        self.inner.read().entries.front().map(|e| e.received)
    }
}

impl StoreState for HotBuffer {
    fn snapshot(&self) -> StoreSnapshot {
        let inner = self.inner.read();
        let mut batches: HashMap<&'static str, Vec<RecordBatch>> = HashMap::new();
        for e in inner.entries.iter().filter(|e| e.seq > inner.flushed_upto) {
            for (t, b) in &e.batches {
                batches.entry(*t).or_default().push(b.clone());
            }
        }
        StoreSnapshot {
            flushed_upto: inner.flushed_upto,
            files: inner.files.clone(),
            batches,
        }
    }

    fn version(&self) -> u64 {
        let inner = self.inner.read();
        inner.last_seq.max(inner.flushed_upto)
    }
}
