//! A stored table as DataFusion sees it: its committed Parquet files plus the
//! acknowledged rows not yet in one, both from the query's [`StoreSnapshot`].
//!
//! The snapshot rides in the query's session config (an extension set by
//! [`crate::QueryEngine`] for each statement), so every table a statement
//! touches, and every view over them, reads the same moment of the store. The
//! file list comes from the snapshot, not from listing directories: a query over
//! a million events opens only the files whose partition, statistics and bloom
//! filters can hold matching rows (Parquet footers are cached by DataFusion's
//! file metadata cache).

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::FileFormat;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder, ParquetSource};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::Result;
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::union::UnionExec;
use schemas::StoreSnapshot;
use schemas::layout::TableFile;
use schemas::tables::{self, COL_DATE, COL_HOUR};

/// The store moment a statement reads (a session-config extension).
#[derive(Debug)]
pub(crate) struct QuerySnapshot(pub StoreSnapshot);

/// One stored table (`otlp_spans`, …, `agent_events`).
#[derive(Debug)]
pub(crate) struct StoreTable {
    table: &'static str,
    /// The table as queried: file columns then `date`, `hour`.
    schema: SchemaRef,
    /// The columns of the files (without the partition columns).
    file_schema: SchemaRef,
}

impl StoreTable {
    pub(crate) fn new(table: &'static str) -> Self {
        let schema = tables::raw_schema(table).expect("a stored table");
        StoreTable {
            table,
            file_schema: tables::file_schema(&schema),
            schema,
        }
    }

    /// The Parquet scan of `files`, with `filters` as the pruning predicate
    /// (partitions, row-group statistics, bloom filters, page index).
    async fn scan_files(
        &self,
        state: &dyn Session,
        files: &[TableFile],
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let partitions = state.config().target_partitions().max(1);
        let mut groups: Vec<Vec<PartitionedFile>> = vec![Vec::new(); partitions.min(files.len())];
        for (i, f) in files.iter().enumerate() {
            // object-store locations are absolute and `.`-free: a store opened as
            // `./data` (the default) must name `/cwd/data/…`, not `%2E/data/…`
            let path = std::path::absolute(&f.path)?;
            let path = path.to_string_lossy();
            let file = PartitionedFile::new(path.trim_start_matches('/'), f.size)
                .with_partition_values(vec![
                    ScalarValue::Utf8(Some(f.date.clone())),
                    ScalarValue::Utf8(Some(f.hour.clone())),
                ]);
            let n = groups.len();
            groups[i % n].push(file);
        }
        let table_schema = TableSchema::builder(Arc::clone(&self.file_schema))
            .with_table_partition_cols(
                [COL_DATE, COL_HOUR]
                    .iter()
                    .map(|c| Arc::new(Field::new(*c, DataType::Utf8, false)))
                    .collect::<Vec<_>>(),
            )
            .build();
        let mut source = ParquetSource::new(table_schema);
        if let Some(predicate) = conjunction(filters.iter().cloned()) {
            let df_schema = DFSchema::try_from(Arc::clone(&self.schema))?;
            source = source.with_predicate(state.create_physical_expr(predicate, &df_schema)?);
        }
        let config =
            FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), Arc::new(source))
                .with_file_groups(groups.into_iter().map(FileGroup::new).collect())
                .with_projection_indices(projection.cloned())?
                .with_limit(limit)
                .build();
        ParquetFormat::default()
            .with_options(state.table_options().parquet.clone())
            .create_physical_plan(state, config)
            .await
    }
}

#[async_trait]
impl datafusion::catalog::TableProvider for StoreTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        // used for pruning; DataFusion still filters the rows
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(snapshot) = state.config().get_extension::<QuerySnapshot>() else {
            return datafusion::common::internal_err!(
                "{} was scanned outside a Vigil query (no store snapshot)",
                self.table
            );
        };
        let snapshot = &snapshot.0;
        let mut inputs: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
        let files = snapshot.files(self.table);
        if !files.is_empty() {
            inputs.push(
                self.scan_files(state, files, projection, filters, limit)
                    .await?,
            );
        }
        let hot = snapshot.batches(self.table);
        if !hot.is_empty() {
            inputs.push(MemorySourceConfig::try_new_exec(
                &[hot.to_vec()],
                Arc::clone(&self.schema),
                projection.cloned(),
            )?);
        }
        if inputs.is_empty() {
            let projected = match projection {
                Some(p) => Arc::new(self.schema.project(p)?),
                None => Arc::clone(&self.schema),
            };
            return Ok(Arc::new(EmptyExec::new(projected)));
        }
        UnionExec::try_new(inputs)
    }
}
