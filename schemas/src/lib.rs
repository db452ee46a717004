//! Shared vocabulary of Vigil and the pure mappings over it.
//!
//! Data flows through this crate, never into I/O (the one exception: [`layout`]
//! lists a table's files). `collector` decodes OTLP into `opentelemetry-proto`
//! types and asks [`raw`] for the rows of the raw tables and [`normalize`] for
//! the `agent_events` rows; both take their record times from [`time`], their
//! vendor from [`vendor`] and the attribute names producers send from
//! [`attrs`]. Every table is declared once in [`tables`] / [`events`] with
//! [`columns!`]. `query` registers the same schemas and finds files through
//! [`layout`]; every surface maps errors through [`status`] and checks tokens
//! with [`auth`]. [`policy`] judges recorded tool calls against Claude Code and
//! Codex permission files, matching paths with [`paths`]. No other Vigil
//! crate is a dependency of this one.

pub mod attrs;
pub mod auth;
pub mod clock;
pub mod columns;
pub mod events;
pub mod findings;
pub mod hot;
pub mod layout;
pub mod normalize;
pub mod otlp;
pub mod paths;
pub mod plan;
pub mod policy;
pub mod raw;
pub mod redact;
pub mod status;
pub mod tables;
pub mod time;
pub mod vendor;

pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use hot::{FixedStore, StoreSnapshot, StoreState};
pub use status::{Status, WireStatus};
pub use vendor::Vendor;
