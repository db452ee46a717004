//! Registers the stored tables (Parquet + hot rows) in a DataFusion context.
//!
//! Each table `t` is a view over two sources that never overlap:
//! `__stored_t` (a Parquet listing table over `tables/t/date=…/hour=…/`, with
//! `date` and `hour` as partition columns so `WHERE date = …` prunes
//! directories) filtered to `wal_seq <= flushed_upto`, and `__hot_t` (the
//! in-memory rows of a [`HotSnapshot`]) filtered to `wal_seq > flushed_upto`.

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::DataType;
use datafusion::datasource::MemTable;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::{
    ListingOptions, ListingTable, ListingTableConfig, ListingTableUrl,
};
use datafusion::prelude::{SessionConfig, SessionContext};
use schemas::HotSnapshot;
use schemas::tables::{self, ALL_TABLES, COL_DATE, COL_HOUR};

use crate::error::Error;
use crate::views;

fn session() -> SessionContext {
    let config = SessionConfig::new()
        .with_information_schema(true)
        .with_target_partitions(2)
        .set_bool("datafusion.execution.parquet.pushdown_filters", true)
        .set_bool("datafusion.execution.parquet.bloom_filter_on_read", true);
    SessionContext::new_with_config(config)
}

/// A context with every table registered over `data_dir` and `hot`.
pub async fn context(data_dir: &Path, hot: &HotSnapshot) -> Result<SessionContext, Error> {
    let ctx = session();
    for table in ALL_TABLES {
        let schema = tables::raw_schema(table).expect("known table");
        let dir = schemas::layout::table_dir(data_dir, table);
        let stored: Arc<dyn datafusion::catalog::TableProvider> = if dir.is_dir() {
            let url = ListingTableUrl::parse(format!("{}/", dir.canonicalize()?.display()))?;
            let options = ListingOptions::new(Arc::new(ParquetFormat::default()))
                .with_file_extension(".parquet")
                .with_table_partition_cols(vec![
                    (COL_DATE.to_string(), DataType::Utf8),
                    (COL_HOUR.to_string(), DataType::Utf8),
                ]);
            let config = ListingTableConfig::new(url)
                .with_listing_options(options)
                .with_schema(tables::file_schema(&schema));
            Arc::new(ListingTable::try_new(config)?)
        } else {
            // nothing written yet: an empty table, and nothing created (queries only read)
            Arc::new(MemTable::try_new(Arc::clone(&schema), vec![vec![]])?)
        };
        ctx.register_table(format!("__stored_{table}"), stored)?;
        let batches = hot.batches.get(table).cloned().unwrap_or_default();
        let mem = MemTable::try_new(Arc::clone(&schema), vec![batches])?;
        ctx.register_table(format!("__hot_{table}"), Arc::new(mem))?;
        let s = hot.flushed_upto;
        // agent_events gets a de-duplicating view on top (see views.rs)
        let name = if table == tables::AGENT_EVENTS {
            views::AGENT_EVENTS_RAW
        } else {
            table
        };
        ctx.sql(&format!(
            "CREATE VIEW {name} AS \
             SELECT * FROM __stored_{table} WHERE wal_seq <= {s} \
             UNION ALL SELECT * FROM __hot_{table} WHERE wal_seq > {s}"
        ))
        .await?;
    }
    crate::views::register(&ctx).await?;
    Ok(ctx)
}
