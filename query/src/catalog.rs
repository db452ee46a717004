//! The long-lived query context: every stored table registered once as a
//! [`StoreTable`] and every view defined once over them.
//!
//! Nothing here lists directories or reads files: which files exist is part of
//! each statement's snapshot (see [`crate::store`]), so the same context serves
//! every statement, and views are planned with the outer query so that a
//! `session_id` filter reaches the scans.

use std::sync::Arc;

use datafusion::execution::SessionState;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};
use schemas::tables::{self, ALL_TABLES};

use crate::error::Error;
use crate::store::{QuerySnapshot, StoreTable};
use crate::views;

/// Limits every statement runs under.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    /// Memory all running statements may hold for sorts, joins and aggregations
    /// together; beyond it they spill or fail, never intake.
    pub memory_bytes: usize,
    /// How long one statement may run.
    pub timeout: std::time::Duration,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits {
            memory_bytes: 512 * 1024 * 1024,
            timeout: std::time::Duration::from_secs(30),
        }
    }
}

fn config() -> SessionConfig {
    SessionConfig::new()
        .with_information_schema(true)
        .with_target_partitions(2)
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
        .set_bool("datafusion.execution.parquet.reorder_filters", true)
        .set_bool("datafusion.execution.parquet.bloom_filter_on_read", true)
        .set_bool("datafusion.execution.parquet.enable_page_index", true)
        // an empty snapshot until a statement sets its own
        .with_extension(Arc::new(QuerySnapshot::default()))
}

/// The runtime every statement shares: one memory pool for all of them.
pub(crate) fn runtime(limits: QueryLimits) -> Result<Arc<RuntimeEnv>, Error> {
    Ok(RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(limits.memory_bytes)))
        .build_arc()?)
}

/// A context with every stored table and view registered, over `runtime`.
pub(crate) async fn base_context(runtime: Arc<RuntimeEnv>) -> Result<SessionContext, Error> {
    let ctx = SessionContext::new_with_config_rt(config(), runtime);
    for table in ALL_TABLES {
        // agent_events and findings get a view on top (see views.rs)
        let name = match table {
            tables::AGENT_EVENTS => views::AGENT_EVENTS_RAW,
            tables::FINDINGS => views::FINDINGS_RAW,
            _ => table,
        };
        ctx.register_table(name, Arc::new(StoreTable::new(table)))?;
    }
    ctx.register_table(
        crate::summaries::SESSION_SUMMARIES,
        Arc::new(crate::summaries::SessionSummaries::new()),
    )?;
    for f in crate::udf::all() {
        ctx.register_udf(f);
    }
    views::register(&ctx).await?;
    Ok(ctx)
}

/// The state every statement starts from.
pub(crate) async fn base_state(limits: QueryLimits) -> Result<SessionState, Error> {
    Ok(base_context(runtime(limits)?).await?.state())
}
