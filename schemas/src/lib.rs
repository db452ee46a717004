//! Shared vocabulary of Vigil: table schemas, the status table, the clock and the
//! hot-rows seam, and the pure mapping from vendor telemetry to `agent_events`.
//!
//! Data flows through this crate, never into I/O: `collector` decodes OTLP into
//! `opentelemetry-proto` types, asks [`tables`] for the Arrow schema of each raw
//! table, and [`normalize`] for the `agent_events` rows of each record; `query`
//! reads the same schemas to register tables. No other Vigil crate is a
//! dependency of this one.

pub mod clock;
pub mod events;
pub mod hot;
pub mod normalize;
pub mod otlp;
pub mod redact;
pub mod status;
pub mod tables;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use hot::{HotRows, HotSnapshot};
pub use status::{Status, WireStatus};
