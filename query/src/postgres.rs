//! The engine as Postgres clients see it (`vigil serve --pg-addr`).
//!
//! [`QueryEngine::for_postgres`] builds a second long-lived context over the same
//! store, limits and memory pool, with what `psql`, Grafana and JDBC ask before
//! any query of their own: the `pg_catalog` tables and functions of
//! `datafusion-pg-catalog` (`pg_class`, `pg_attribute`, `format_type`,
//! `pg_table_is_visible`, `current_schema()`, …). The HTTP API and the CLI keep
//! the plain context, so `pg_catalog` never appears in their `information_schema`.
//!
//! Vigil's views are presented to these clients as tables: `agent_events` is the
//! table a responder queries (the stored rows are `agent_events_raw`), so `\dt`
//! and Grafana's table picker list it and the views beside the raw tables. The
//! wrapper changes only the reported table type; the view is still inlined into
//! each query, so filters reach the scans as before.
//!
//! `current_setting(name [, missing_ok])` answers from the session settings the
//! wire front end reports for `SHOW` (passed in as [`PostgresSettings`]), so the
//! two never disagree.

use std::borrow::Cow;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::compute::cast;
use arrow::datatypes::{DataType, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::plan_err;
use datafusion::datasource::TableType;
use datafusion::error::Result as DfResult;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{
    ColumnarValue, Expr, LogicalPlan, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    TableProviderFilterPushDown, TypeSignature, Volatility,
};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_pg_catalog::pg_catalog::setup_pg_catalog;

use crate::error::Error;
use crate::{QueryEngine, catalog};

/// A session setting's value by its lower-case name (`search_path`, `timezone`,
/// …), `None` for a setting Postgres clients cannot read here.
pub type PostgresSettings = fn(&str) -> Option<String>;

impl QueryEngine {
    /// The same store, limits and memory pool, with `pg_catalog`, Vigil's
    /// views listed as tables and `current_setting()` over `settings` (see the
    /// module docs).
    pub async fn for_postgres(&self, settings: PostgresSettings) -> Result<QueryEngine, Error> {
        let ctx = catalog::base_context(Arc::clone(self.base.runtime_env())).await?;
        present_views_as_tables(&ctx).await?;
        ctx.register_udf(ScalarUDF::new_from_impl(CurrentSetting {
            settings,
            signature: Signature::one_of(
                vec![
                    TypeSignature::String(1),
                    TypeSignature::Exact(vec![DataType::Utf8, DataType::Boolean]),
                ],
                Volatility::Stable,
            ),
        }));
        let catalog_name = ctx
            .state()
            .config()
            .options()
            .catalog
            .default_catalog
            .clone();
        setup_pg_catalog(&ctx, &catalog_name, EmptyContextProvider).map_err(|e| Error::from(*e))?;
        Ok(QueryEngine {
            base: Arc::new(SessionState::clone(&ctx.state())),
            store: Arc::clone(&self.store),
            limits: self.limits,
            scoped: self.scoped,
        })
    }
}

async fn present_views_as_tables(ctx: &SessionContext) -> Result<(), Error> {
    let schema = ctx
        .catalog(&ctx.state().config().options().catalog.default_catalog)
        .and_then(|c| c.schema(&ctx.state().config().options().catalog.default_schema))
        .ok_or_else(|| Error::Sql("no default schema".into()))?;
    for name in schema.table_names() {
        let Some(table) = schema.table(&name).await? else {
            continue;
        };
        if table.table_type() == TableType::View {
            schema.deregister_table(&name)?;
            schema.register_table(name, Arc::new(ViewAsTable(table)))?;
        }
    }
    Ok(())
}

/// Postgres's `current_setting(name [, missing_ok])`.
#[derive(Debug)]
struct CurrentSetting {
    settings: PostgresSettings,
    signature: Signature,
}

impl PartialEq for CurrentSetting {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.settings, other.settings) && self.signature == other.signature
    }
}

impl Eq for CurrentSetting {}

impl std::hash::Hash for CurrentSetting {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.signature.hash(state);
    }
}

impl ScalarUDFImpl for CurrentSetting {
    fn name(&self) -> &str {
        "current_setting"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let names = cast(&arrays[0], &DataType::Utf8)?;
        let names = names.as_string::<i32>();
        let missing_ok = arrays.get(1).map(|a| a.as_boolean().clone());
        let mut out = StringBuilder::new();
        for i in 0..names.len() {
            if names.is_null(i) {
                out.append_null();
                continue;
            }
            let name = names.value(i).to_ascii_lowercase();
            match (self.settings)(&name) {
                Some(value) => out.append_value(value),
                None if missing_ok
                    .as_ref()
                    .is_some_and(|m| m.is_valid(i) && m.value(i)) =>
                {
                    out.append_null()
                }
                None => return plan_err!("unrecognized configuration parameter \"{name}\""),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish()) as ArrayRef))
    }
}

/// A view that reports itself as a base table (and is otherwise the view).
#[derive(Debug)]
struct ViewAsTable(Arc<dyn TableProvider>);

#[async_trait]
impl TableProvider for ViewAsTable {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn get_table_definition(&self) -> Option<&str> {
        self.0.get_table_definition()
    }

    fn get_logical_plan(&'_ self) -> Option<Cow<'_, LogicalPlan>> {
        self.0.get_logical_plan()
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> DfResult<Vec<TableProviderFilterPushDown>> {
        self.0.supports_filters_pushdown(filters)
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.0.scan(state, projection, filters, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn engines() -> (QueryEngine, QueryEngine, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tables")).unwrap();
        let plain = QueryEngine::offline(dir.path()).await.unwrap();
        let pg = plain
            .for_postgres(|name| (name == "search_path").then(|| "public".to_string()))
            .await
            .unwrap();
        (plain, pg, dir)
    }

    fn strings(r: &crate::QueryResult, col: usize) -> Vec<String> {
        let mut out = Vec::new();
        for b in &r.batches {
            let c = arrow::compute::cast(b.column(col), &arrow::datatypes::DataType::Utf8).unwrap();
            let c = c
                .as_any()
                .downcast_ref::<arrow::array::StringArray>()
                .unwrap();
            out.extend(c.iter().map(|v| v.unwrap_or_default().to_string()));
        }
        out
    }

    #[tokio::test]
    async fn postgres_clients_see_pg_catalog_and_views_as_tables_the_api_does_not() {
        let (plain, pg, _dir) = engines().await;
        let sql = "SELECT relname, relkind FROM pg_catalog.pg_class \
                   WHERE relname IN ('agent_events', 'sessions', 'otlp_spans') ORDER BY relname";
        let r = pg.sql(sql).await.unwrap();
        assert_eq!(strings(&r, 0), ["agent_events", "otlp_spans", "sessions"]);
        assert_eq!(strings(&r, 1), ["r", "r", "r"]);
        assert!(
            plain.sql(sql).await.is_err(),
            "pg_catalog leaked into the API context"
        );
        let views =
            "SELECT table_type FROM information_schema.tables WHERE table_name = 'agent_events'";
        assert_eq!(strings(&plain.sql(views).await.unwrap(), 0), ["VIEW"]);
        assert_eq!(strings(&pg.sql(views).await.unwrap(), 0), ["BASE TABLE"]);
        // still the view: de-duplicated, with its derived columns
        let r = pg
            .sql("SELECT turn_index, position FROM agent_events")
            .await
            .unwrap();
        assert_eq!(r.num_rows(), 0);
        // and still read-only
        assert!(matches!(
            pg.sql("DROP VIEW agent_events").await,
            Err(Error::NotReadOnly(_))
        ));
    }

    #[tokio::test]
    async fn current_setting_answers_from_the_settings_it_was_given() {
        let (plain, pg, _dir) = engines().await;
        let r = pg
            .sql("SELECT current_setting('search_path'), current_setting('SEARCH_PATH'), current_setting('work_mem', true)")
            .await
            .unwrap();
        assert_eq!(strings(&r, 0), ["public"]);
        assert_eq!(strings(&r, 1), ["public"]);
        let nulls = r.batches[0].column(2).null_count();
        assert_eq!(nulls, 1, "missing_ok gives null");
        let e = pg
            .sql("SELECT current_setting('work_mem')")
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("unrecognized configuration parameter \"work_mem\""),
            "{e}"
        );
        assert!(
            plain
                .sql("SELECT current_setting('search_path')")
                .await
                .is_err()
        );
    }
}
