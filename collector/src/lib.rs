//! The OTLP collector: receivers, write-ahead log, hot buffer and Parquet writer.
//!
//! Data flows one way. A receiver ([`receiver::http`] on 4318, [`receiver::grpc`]
//! on 4317) decodes a request (protobuf or lenient OTLP/JSON, gzip with a hard
//! size limit) into `opentelemetry-proto` messages and hands it to
//! [`Collector::export`]. That one path validates records (invalid ones are
//! dropped and reported as partial success), turns the request into Arrow rows
//! for the raw tables and `agent_events`, and appends the request to the
//! [`wal`]. The WAL writer thread group-commits: one `fdatasync` for every
//! request waiting, then moves the rows into the [`buffer`] (queryable at once
//! through [`schemas::HotRows`]) and answers. The [`flush`] task writes buffered
//! rows to zstd Parquet under `tables/<table>/date=…/hour=…/` and trims the WAL.
//! On start, [`Collector::open`] replays the WAL so each acknowledged record is
//! in Parquet exactly once.

pub mod anyvalue;
pub mod buffer;
pub mod collector;
pub mod error;
pub mod events;
pub mod flush;
pub mod metrics;
pub mod otlp_json;
pub mod receiver;
pub mod reindex;
pub mod request;
pub mod rows;
pub mod validate;
pub mod wal;

pub use collector::{Collector, CollectorConfig, ExportOutcome, OpenSummary};
pub use error::Error;
pub use request::ExportRequest;
pub use wal::Signal;
