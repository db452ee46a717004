//! SQL over Vigil's store: DataFusion over Parquet plus the collector's hot rows.
//!
//! A [`QueryEngine`] holds one long-lived DataFusion context in which every
//! stored table ([`store`]) and every view ([`views`]) is registered once, and a
//! [`schemas::StoreState`]: inside `vigil serve` the collector's (committed files
//! and acknowledged rows not yet flushed), offline a directory listing. Each
//! statement takes one snapshot of the store, so all the tables and views it
//! touches read the same moment; is planned with DDL, DML, `COPY` and `SET`
//! refused; and runs under the engine's [`QueryLimits`] (a memory pool shared by
//! all statements, and a timeout). Results come back as Arrow batches;
//! [`format`] renders them as a table, CSV, JSON lines or the
//! `{"columns", "rows"}` shape of the HTTP API.

mod catalog;
pub mod check;
pub mod detect;
pub mod error;
pub mod format;
mod store;
mod udf;
pub mod views;

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use schemas::{FixedStore, StoreSnapshot, StoreState};

pub use catalog::QueryLimits;
pub use error::Error;

/// Rows and their schema.
#[derive(Debug, Clone)]
pub struct QueryResult {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl QueryResult {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

/// Refuses a plan that would change anything: DDL (`CREATE`, `DROP`, external
/// tables), DML, `COPY`, and statements (`SET`, transactions), anywhere in the
/// plan including subqueries.
pub fn check_read_only(plan: &LogicalPlan) -> Result<(), Error> {
    let mut refused = None;
    plan.apply_with_subqueries(|p| {
        refused = match p {
            LogicalPlan::Ddl(_) => Some("DDL (CREATE / DROP)"),
            LogicalPlan::Dml(_) => Some("DML (INSERT / UPDATE / DELETE)"),
            LogicalPlan::Copy(_) => Some("COPY"),
            LogicalPlan::Statement(_) => Some("a statement (SET, transactions, PREPARE)"),
            _ => None,
        };
        Ok(if refused.is_some() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    })?;
    refused.map_or(Ok(()), |what| Err(Error::NotReadOnly(what)))
}

#[derive(Clone)]
pub struct QueryEngine {
    base: Arc<SessionState>,
    store: Arc<dyn StoreState>,
    limits: QueryLimits,
}

impl QueryEngine {
    /// An engine over the Parquet files of `data_dir` as they are now (the CLI).
    /// Reads only: nothing is created, not even in an empty data directory.
    pub async fn offline(data_dir: &Path) -> Result<Self, Error> {
        if !schemas::layout::tables_dir(data_dir).is_dir() {
            return Err(Error::NoDataDir(data_dir.display().to_string()));
        }
        let snapshot = StoreSnapshot::from_listing(data_dir)?;
        Self::new(Arc::new(FixedStore(snapshot)), QueryLimits::default()).await
    }

    /// An engine over a live store (the server: the collector's state).
    pub async fn new(store: Arc<dyn StoreState>, limits: QueryLimits) -> Result<Self, Error> {
        Ok(QueryEngine {
            base: Arc::new(catalog::base_state(limits).await?),
            store,
            limits,
        })
    }

    /// A context for one statement, reading one snapshot of the store.
    fn context(&self) -> SessionContext {
        let mut state = SessionState::clone(&self.base);
        state
            .config_mut()
            .set_extension(Arc::new(store::QuerySnapshot(self.store.snapshot())));
        SessionContext::new_with_state(state)
    }

    /// Runs one read-only statement within the engine's limits.
    pub async fn sql(&self, sql: &str) -> Result<QueryResult, Error> {
        let run = async {
            let ctx = self.context();
            let plan = ctx.state().create_logical_plan(sql).await?;
            check_read_only(&plan)?;
            let df = ctx.execute_logical_plan(plan).await?;
            let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
            let batches = df.collect().await?;
            Ok(QueryResult { schema, batches })
        };
        match tokio::time::timeout(self.limits.timeout, run).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout(self.limits.timeout)),
        }
    }
}
