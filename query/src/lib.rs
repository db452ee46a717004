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
mod parse;
mod postgres;
mod store;
mod summaries;
mod udf;
pub mod views;

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::{DataType, SchemaRef};
use arrow::record_batch::RecordBatch;
use datafusion::common::ParamValues;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::SessionState;
use datafusion::logical_expr::LogicalPlan;
use datafusion::prelude::SessionContext;
use schemas::{FixedStore, StoreSnapshot, StoreState};

pub use catalog::QueryLimits;
pub use error::Error;
pub use parse::{DEFAULT_RECURSION_LIMIT, check_postgres, parse_datafusion_statements};
pub use postgres::PostgresSettings;

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

/// A planned read-only statement, to run later with parameter values (the
/// Postgres extended protocol's Parse, then Bind + Execute). The plan holds no
/// store snapshot: each [`QueryEngine::execute`] reads the store as it is then.
#[derive(Debug, Clone)]
pub struct Prepared {
    plan: LogicalPlan,
    schema: SchemaRef,
}

impl Prepared {
    /// The result columns.
    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// The types of `$1`, `$2`, …, in order; `None` where the plan does not
    /// decide one.
    pub fn parameter_types(&self) -> Result<Vec<Option<DataType>>, Error> {
        let mut params: Vec<(usize, Option<DataType>)> = self
            .plan
            .get_parameter_types()?
            .into_iter()
            .filter_map(|(name, ty)| Some((name.strip_prefix('$')?.parse().ok()?, ty)))
            .collect();
        params.sort_by_key(|(i, _)| *i);
        let n = params.last().map_or(0, |(i, _)| *i);
        let mut out = vec![None; n];
        for (i, ty) in params {
            if i >= 1 {
                out[i - 1] = ty;
            }
        }
        Ok(out)
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
    /// Made by [`QueryEngine::for_sessions`].
    scoped: bool,
}

impl QueryEngine {
    /// An engine over the Parquet files of `data_dir` as they are now (the CLI).
    /// Reads only: nothing is created, not even in an empty data directory.
    pub async fn offline(data_dir: &Path) -> Result<Self, Error> {
        Self::offline_with(data_dir, QueryLimits::default()).await
    }

    /// [`QueryEngine::offline`] under other limits (`vigil bench query`).
    pub async fn offline_with(data_dir: &Path, limits: QueryLimits) -> Result<Self, Error> {
        if !schemas::layout::tables_dir(data_dir).is_dir() {
            return Err(Error::NoDataDir(data_dir.display().to_string()));
        }
        let snapshot = StoreSnapshot::from_listing(data_dir)?;
        Self::new(Arc::new(FixedStore(snapshot)), limits).await
    }

    /// An engine over a live store (the server: the collector's state).
    pub async fn new(store: Arc<dyn StoreState>, limits: QueryLimits) -> Result<Self, Error> {
        Ok(QueryEngine {
            base: Arc::new(catalog::base_state(limits).await?),
            store,
            limits,
            scoped: false,
        })
    }

    /// Grows whenever rows arrive ([`StoreState::version`]): compare two
    /// readings to learn, without a query, whether anything is new.
    pub fn store_version(&self) -> u64 {
        self.store.version()
    }

    /// An engine that sees these sessions only: their `agent_events` and
    /// `findings` rows are read from the store once, in one snapshot, and every
    /// statement run on the returned engine reads them from memory. Because
    /// every view partitions by `session_id` first, a view's rows for these
    /// sessions are the same as on `self` — one scan of the store instead of one
    /// per statement (an intent chain runs six; the detector a few per pass).
    /// The other tables are read from the same snapshot as usual.
    pub async fn for_sessions(&self, ids: &[String]) -> Result<QueryEngine, Error> {
        let mut snapshot = self.store.snapshot();
        let ctx = self.context_over(snapshot.clone());
        let list = detect::items::sql_list(ids);
        // the range as well as the list: DataFusion prunes pages and row groups
        // with an `IN` of at most 20 values, and with a range of any size (files
        // are sorted by `session_id`, and the detector asks for neighbours)
        let range = match (ids.iter().min(), ids.iter().max()) {
            (Some(lo), Some(hi)) => format!(
                "session_id >= {} AND session_id <= {} AND ",
                detect::items::sql_list(std::slice::from_ref(lo)),
                detect::items::sql_list(std::slice::from_ref(hi))
            ),
            _ => String::new(),
        };
        for (table, name) in [
            (schemas::tables::AGENT_EVENTS, views::AGENT_EVENTS_RAW),
            (schemas::findings::FINDINGS, views::FINDINGS_RAW),
        ] {
            let rows = if ids.is_empty() {
                Vec::new()
            } else {
                let sql = format!("SELECT * FROM {name} WHERE {range}session_id IN ({list})");
                self.limited(async {
                    let plan = Self::plan(&ctx, &sql).await?;
                    Self::run(&ctx, plan).await
                })
                .await?
                .batches
            };
            snapshot.files.insert(table, Arc::new(Vec::new()));
            snapshot.batches.insert(table, rows);
        }
        Ok(QueryEngine {
            base: Arc::clone(&self.base),
            store: Arc::new(FixedStore(snapshot)),
            limits: self.limits,
            scoped: true,
        })
    }

    /// A context for one statement, reading one snapshot of the store.
    fn context(&self) -> SessionContext {
        self.context_over(self.store.snapshot())
    }

    fn context_over(&self, snapshot: StoreSnapshot) -> SessionContext {
        let mut state = SessionState::clone(&self.base);
        state
            .config_mut()
            .set_extension(Arc::new(store::QuerySnapshot {
                store: snapshot,
                scoped: self.scoped,
            }));
        SessionContext::new_with_state(state)
    }

    /// Runs one read-only statement within the engine's limits.
    pub async fn sql(&self, sql: &str) -> Result<QueryResult, Error> {
        self.limited(async {
            let ctx = self.context();
            let plan = Self::plan(&ctx, sql).await?;
            Self::run(&ctx, plan).await
        })
        .await
    }

    /// Plans one statement (refusing anything that is not read-only) without
    /// running it.
    pub async fn prepare(&self, sql: &str) -> Result<Prepared, Error> {
        self.limited(async {
            let plan = Self::plan(&self.context(), sql).await?;
            let schema: SchemaRef = Arc::new(plan.schema().as_arrow().clone());
            Ok(Prepared { plan, schema })
        })
        .await
    }

    /// Runs a prepared statement with `params` for its placeholders, within the
    /// engine's limits, over the store as it is now.
    pub async fn execute(
        &self,
        prepared: &Prepared,
        params: Option<&ParamValues>,
    ) -> Result<QueryResult, Error> {
        self.limited(async {
            let plan = match params {
                Some(p) => prepared.plan.clone().replace_params_with_values(p)?,
                None => prepared.plan.clone(),
            };
            // the values may name anything a literal can: check again
            check_read_only(&plan)?;
            Self::run(&self.context(), plan).await
        })
        .await
    }

    async fn plan(ctx: &SessionContext, sql: &str) -> Result<LogicalPlan, Error> {
        let state = ctx.state();
        let recursion_limit = state.config_options().sql_parser.recursion_limit.get();
        let statement = parse::parse_statement(sql, recursion_limit)?;
        let plan = state.statement_to_plan(statement).await?;
        check_read_only(&plan)?;
        Ok(plan)
    }

    async fn run(ctx: &SessionContext, plan: LogicalPlan) -> Result<QueryResult, Error> {
        let df = ctx.execute_logical_plan(plan).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        Ok(QueryResult { schema, batches })
    }

    async fn limited<T>(&self, run: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        match tokio::time::timeout(self.limits.timeout, run).await {
            Ok(result) => result,
            Err(_) => Err(Error::Timeout(self.limits.timeout)),
        }
    }
}

#[cfg(test)]
mod tests {
    use datafusion::common::ScalarValue;

    use super::*;

    #[tokio::test]
    async fn a_prepared_statement_runs_with_its_parameters_and_stays_read_only() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tables")).unwrap();
        let engine = QueryEngine::offline(dir.path()).await.unwrap();
        let p = engine
            .prepare("SELECT CAST($1 AS BIGINT) + 1 AS n, $2 = 'x' AS b")
            .await
            .unwrap();
        assert_eq!(p.schema().field(0).name(), "n");
        assert_eq!(p.parameter_types().unwrap().len(), 2);
        let params = ParamValues::List(vec![
            ScalarValue::Int64(Some(41)).into(),
            ScalarValue::Utf8(Some("x".into())).into(),
        ]);
        let r = engine.execute(&p, Some(&params)).await.unwrap();
        let text = format::render(&r, format::OutputFormat::Csv).unwrap();
        assert_eq!(text.trim(), "n,b\n42,true");
        for sql in [
            "DROP VIEW agent_events",
            "SET datafusion.execution.batch_size = 1",
        ] {
            assert!(matches!(
                engine.prepare(sql).await,
                Err(Error::NotReadOnly(_))
            ));
        }
    }
}
