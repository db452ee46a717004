//! SQL over Vigil's store: DataFusion over Parquet plus the collector's hot rows.
//!
//! A [`QueryEngine`] knows the data directory and, inside `vigil serve`, a
//! [`schemas::HotRows`] source. Each query takes a consistent hot snapshot,
//! builds a context in which every table is the union of its Parquet files and
//! its not-yet-flushed rows ([`catalog`]), plus the derived views ([`views`]),
//! and runs the SQL with DDL, DML, `COPY` and `SET` refused. Results come back as
//! Arrow batches; [`format`] renders them as a table, CSV, JSON lines or the
//! `{"columns", "rows"}` shape of the HTTP API.

pub mod catalog;
pub mod error;
pub mod format;
pub mod views;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::logical_expr::LogicalPlan;
use schemas::{HotRows, HotSnapshot};

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

#[derive(Clone)]
pub struct QueryEngine {
    data_dir: PathBuf,
    hot: Option<Arc<dyn HotRows>>,
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

impl QueryEngine {
    /// An engine over the Parquet files of `data_dir` only (the CLI). Reads only.
    pub fn offline(data_dir: &Path) -> Result<Self, Error> {
        if !schemas::layout::tables_dir(data_dir).is_dir() {
            return Err(Error::NoDataDir(data_dir.display().to_string()));
        }
        Ok(QueryEngine {
            data_dir: data_dir.to_path_buf(),
            hot: None,
        })
    }

    /// An engine that also sees acknowledged rows not yet flushed (the server).
    pub fn live(data_dir: &Path, hot: Arc<dyn HotRows>) -> Self {
        QueryEngine {
            data_dir: data_dir.to_path_buf(),
            hot: Some(hot),
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn snapshot(&self) -> HotSnapshot {
        match &self.hot {
            Some(h) => h.snapshot(),
            // no writer: every file on disk is complete and visible
            None => HotSnapshot {
                flushed_upto: u64::MAX,
                batches: Default::default(),
            },
        }
    }

    /// Runs one read-only statement.
    pub async fn sql(&self, sql: &str) -> Result<QueryResult, Error> {
        let ctx = catalog::context(&self.data_dir, &self.snapshot()).await?;
        let plan = ctx.state().create_logical_plan(sql).await?;
        check_read_only(&plan)?;
        let df = ctx.execute_logical_plan(plan).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        Ok(QueryResult { schema, batches })
    }
}
