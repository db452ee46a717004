//! The seam between the collector and the query layer for rows not yet in Parquet.
//!
//! `collector` implements [`HotRows`]; `query` reads it. Neither crate depends on
//! the other.

use std::collections::HashMap;

use arrow::record_batch::RecordBatch;

/// A consistent view of the rows that are acknowledged but maybe not yet in Parquet.
///
/// Every row of every table carries a `wal_seq` column. All rows with
/// `wal_seq <= flushed_upto` are in Parquet files that were renamed into place
/// before this snapshot was taken; `batches` holds (at least) every row with
/// `wal_seq > flushed_upto`. A reader that takes Parquet rows with
/// `wal_seq <= flushed_upto` and hot rows with `wal_seq > flushed_upto` sees each
/// row exactly once, whatever the flusher does meanwhile.
#[derive(Debug, Clone, Default)]
pub struct HotSnapshot {
    pub flushed_upto: u64,
    pub batches: HashMap<String, Vec<RecordBatch>>,
}

pub trait HotRows: Send + Sync {
    fn snapshot(&self) -> HotSnapshot;
}
