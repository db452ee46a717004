//! The OTLP collector: receivers, write-ahead log, hot buffer and Parquet writer.
//!
//! Data flows one way. A receiver ([`receiver::http`] on 4318, [`receiver::grpc`]
//! on 4317) checks the token and admits the request, decodes it (protobuf or
//! lenient OTLP/JSON, gzip with a hard size limit) into `opentelemetry-proto`
//! messages and hands it to [`Collector::export`]. That one path validates
//! records (invalid ones are dropped and reported as partial success), redacts
//! secrets, turns the request into Arrow rows for the raw tables and
//! `agent_events` (`schemas::raw`, `schemas::normalize`), and appends it to the
//! write-ahead log. The WAL writer thread group-commits: one `fdatasync` for
//! every request waiting, then moves the rows into the hot buffer (queryable at
//! once through [`schemas::StoreState`]) and answers. The flusher writes buffered
//! rows to zstd Parquet under the layout of `schemas::layout` and trims the
//! WAL; the compactor (`compact.rs`) merges the small files of each partition
//! into large sorted ones and swaps them in under running queries. On start, [`Collector::open`] replays the WAL so each acknowledged
//! record is in Parquet exactly once.
//!
//! The public surface is [`Collector`] and its [`CollectorConfig`], the
//! receivers' routers and `serve`, [`ExportRequest`] and the offline helpers
//! (`vigil ingest`: [`gunzip_file`]; `vigil reindex`: [`reindex`]).

mod buffer;
mod collector;
mod compact;
mod error;
mod failpoint;
mod flush;
mod integrity;
mod metrics;
mod otlp_json;
pub mod receiver;
pub mod reindex;
mod request;
mod validate;
mod wal;
mod wire_budget;

pub use collector::{Collector, CollectorConfig, ExportOutcome, OpenSummary};
pub use compact::CompactionConfig;
pub use error::Error;
pub use flush::FlushStats;
pub use integrity::{FsckReport, fsck};
pub use metrics::{ListenerMetrics, Metrics, WriteTotals};
pub use otlp_json::JsonError;
pub use request::ExportRequest;
pub use wal::Signal;

/// Inflates a gzip'd file body (an offline import), at most `limit` bytes.
pub fn gunzip_file(bytes: &[u8], limit: usize) -> Result<Vec<u8>, Error> {
    receiver::body::gunzip_limited(bytes, limit)
}

/// The WAL, hot buffer and flush, for the crate's own tests, benchmarks and
/// fuzz targets only.
#[doc(hidden)]
pub mod internals {
    pub use crate::buffer::HotBuffer;
    pub use crate::collector::replayed_rows;
    pub use crate::flush::flush;
    pub use crate::validate::retain_valid;
    pub use crate::wal::format::{Decoded, decode_record};
    pub use crate::wal::format::{Payload, SEGMENT_TAG, encode_record};
    pub use crate::wal::{ReplayedRecord, WalConfig, WalError, WalWriter, read_wal, segment_path};
}
