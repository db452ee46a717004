//! The seam between the writer and the readers: what the store holds at one moment.
//!
//! `collector` implements [`StoreState`] (its hot buffer knows every file it has
//! committed and every acknowledged row not yet in one); `query` reads it, and
//! so does the offline engine from a directory listing. Neither crate depends
//! on the other.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use arrow::record_batch::RecordBatch;

use crate::layout::{self, TableFile};
use crate::tables::ALL_TABLES;

/// A consistent view of the store: the committed Parquet files of each table and
/// the acknowledged rows that are in none of them yet.
///
/// Every row with `wal_seq <= flushed_upto` is in exactly one of `files` (files
/// are committed together with `flushed_upto`, and a compaction swaps its inputs
/// for its output in one step); `batches` holds every row with
/// `wal_seq > flushed_upto`. Reading `files` and `batches` of one snapshot gives
/// each acknowledged row exactly once, whatever the flusher does meanwhile.
#[derive(Debug, Clone, Default)]
pub struct StoreSnapshot {
    pub flushed_upto: u64,
    pub files: HashMap<&'static str, Arc<Vec<TableFile>>>,
    pub batches: HashMap<&'static str, Vec<RecordBatch>>,
}

impl StoreSnapshot {
    /// Every committed file under `data_dir`, no rows in memory (the offline engine).
    pub fn from_listing(data_dir: &Path) -> std::io::Result<Self> {
        let mut files = HashMap::new();
        for table in ALL_TABLES {
            files.insert(table, Arc::new(layout::list_table(data_dir, table)?.files));
        }
        Ok(StoreSnapshot {
            flushed_upto: u64::MAX,
            files,
            batches: HashMap::new(),
        })
    }

    pub fn files(&self, table: &str) -> &[TableFile] {
        self.files.get(table).map_or(&[], |f| f.as_slice())
    }

    pub fn batches(&self, table: &str) -> &[RecordBatch] {
        self.batches.get(table).map_or(&[], Vec::as_slice)
    }
}

/// Something that can say what the store holds now.
pub trait StoreState: Send + Sync {
    fn snapshot(&self) -> StoreSnapshot;
    /// A number that grows whenever rows are added (the last WAL record
    /// applied), so a reader can tell cheaply that something new arrived
    /// (the dashboard's live refresh). A store that never changes answers 0.
    fn version(&self) -> u64 {
        0
    }
}

/// A store that does not change: a listing taken once (`vigil query`).
#[derive(Debug, Clone)]
pub struct FixedStore(pub StoreSnapshot);

impl StoreState for FixedStore {
    fn snapshot(&self) -> StoreSnapshot {
        self.0.clone()
    }
}
