//! `session_summaries`: each session's row as its latest detection pass
//! recorded it (the summary columns of the pass's marker row, see
//! `schemas::findings`), kept in memory and brought up to date incrementally.
//!
//! Computing it as a view means grouping every marker the store holds (one per
//! session per pass, spread over a file per hour) on every statement: ~250 ms
//! at 10M events, where the session list must answer in a tenth of that. Rows
//! never change once acknowledged, so the table remembers the latest marker
//! of each session through some `wal_seq` and, per statement, folds in only the
//! rows above it — found by file name (files are named by their WAL range)
//! and in the hot rows, a few at most. Memory: one row per session (~300 B).

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, BooleanArray, RecordBatch, UInt32Array};
use arrow::compute::{concat_batches, filter_record_batch, is_not_null, take_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt64Type};
use async_trait::async_trait;
use datafusion::catalog::Session;
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::{col, lit};
use schemas::findings::FINDINGS;
use schemas::tables::COL_WAL_SEQ;
use tokio::sync::Mutex;

use crate::store::{QuerySnapshot, StoreTable};

/// The view's name.
pub const SESSION_SUMMARIES: &str = "session_summaries";

/// The marker columns kept, in the table's order; `ts` is shown as
/// `last_seen`, and `is_auxiliary` is added after `reviews_session`.
const KEPT: [&str; 21] = [
    "session_id",
    "agent",
    "agent_version",
    "user_id",
    "host",
    "service_name",
    "started",
    "ts",
    "events",
    "prompts",
    "tool_calls",
    "denials",
    "reviews_session",
    "findings",
    "critical",
    "high",
    "medium",
    "low",
    "info",
    "evaluated_through",
    COL_WAL_SEQ,
];

#[derive(Debug)]
pub(crate) struct SessionSummaries {
    findings: StoreTable,
    /// `KEPT` columns of the findings table.
    kept: Vec<usize>,
    schema: SchemaRef,
    cache: Mutex<Cache>,
}

#[derive(Debug, Default)]
struct Cache {
    /// Every marker with `wal_seq` at or below this is folded into `latest`.
    through: Option<u64>,
    /// The latest summary marker of each session, `KEPT` columns.
    latest: Option<RecordBatch>,
}

impl SessionSummaries {
    pub(crate) fn new() -> Self {
        let findings = StoreTable::new(FINDINGS);
        let source = datafusion::catalog::TableProvider::schema(&findings);
        let kept: Vec<usize> = KEPT
            .iter()
            .map(|c| source.index_of(c).expect("a findings column"))
            .collect();
        let mut fields: Vec<Field> = Vec::new();
        for &i in &kept[..kept.len() - 1] {
            let f = source.field(i);
            fields.push(match f.name().as_str() {
                "ts" => f.clone().with_name("last_seen"),
                _ => f.clone(),
            });
            if f.name() == "reviews_session" {
                fields.push(Field::new("is_auxiliary", DataType::Boolean, false));
            }
        }
        SessionSummaries {
            findings,
            kept,
            schema: Arc::new(Schema::new(fields)),
            cache: Mutex::new(Cache::default()),
        }
    }

    /// The summary markers of `state`'s snapshot with `wal_seq` above `after`.
    async fn markers_after(
        &self,
        state: &dyn Session,
        after: Option<u64>,
    ) -> Result<Vec<RecordBatch>> {
        let mut filters = vec![col("events").is_not_null()];
        if let Some(after) = after {
            filters.push(col(COL_WAL_SEQ).gt(lit(after)));
        }
        let plan = datafusion::catalog::TableProvider::scan(
            &self.findings,
            state,
            Some(&self.kept),
            &filters,
            None,
        )
        .await?;
        let batches = datafusion::physical_plan::collect(plan, state.task_ctx()).await?;
        // the filters prune files; the rows (hot ones too) are checked here
        let wal_seq = KEPT.len() - 1;
        let events = KEPT.iter().position(|c| *c == "events").expect("kept");
        let mut out = Vec::new();
        for b in batches {
            let seqs = b.column(wal_seq).as_primitive::<UInt64Type>();
            let present = is_not_null(b.column(events))?;
            let mask: BooleanArray = (0..b.num_rows())
                .map(|i| Some(present.value(i) && after.is_none_or(|a| seqs.value(i) > a)))
                .collect();
            out.push(filter_record_batch(&b, &mask)?);
        }
        Ok(out)
    }

    /// The table's rows from the cached markers.
    fn shape(&self, latest: &RecordBatch) -> Result<RecordBatch> {
        let mut columns: Vec<ArrayRef> = Vec::new();
        for (i, name) in KEPT[..KEPT.len() - 1].iter().enumerate() {
            columns.push(Arc::clone(latest.column(i)));
            if *name == "reviews_session" {
                columns.push(Arc::new(is_not_null(latest.column(i))?));
            }
        }
        Ok(RecordBatch::try_new(Arc::clone(&self.schema), columns)?)
    }
}

/// The highest `wal_seq` of a findings row in the snapshot.
fn top(snapshot: &schemas::StoreSnapshot) -> Option<u64> {
    let files = snapshot.files(FINDINGS).iter().map(|f| f.wal_range.1).max();
    let hot = snapshot
        .batches(FINDINGS)
        .iter()
        .filter_map(|b| {
            let i = b.schema().index_of(COL_WAL_SEQ).ok()?;
            arrow::compute::max(b.column(i).as_primitive::<UInt64Type>())
        })
        .max();
    files.max(hot)
}

/// `batches` reduced to each session's row with the highest `wal_seq`, in
/// input order.
fn latest_per_session(schema: SchemaRef, batches: &[RecordBatch]) -> Result<RecordBatch> {
    let all = concat_batches(&schema, batches)?;
    let ids = all.column(0).as_string::<i32>();
    let seqs = all.column(KEPT.len() - 1).as_primitive::<UInt64Type>();
    let mut best: HashMap<&str, (u64, u32)> = HashMap::with_capacity(all.num_rows());
    for i in 0..all.num_rows() {
        if ids.is_null(i) {
            continue;
        }
        let (id, seq) = (ids.value(i), seqs.value(i));
        let entry = best.entry(id).or_insert((seq, i as u32));
        if seq > entry.0 {
            *entry = (seq, i as u32);
        }
    }
    let mut keep: Vec<u32> = best.into_values().map(|(_, i)| i).collect();
    keep.sort_unstable();
    Ok(take_record_batch(&all, &UInt32Array::from(keep))?)
}

#[async_trait]
impl datafusion::catalog::TableProvider for SessionSummaries {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::View
    }

    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(vec![
            TableProviderFilterPushDown::Unsupported;
            filters.len()
        ])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let Some(snapshot) = state.config().get_extension::<QuerySnapshot>() else {
            return datafusion::common::internal_err!(
                "{SESSION_SUMMARIES} was scanned outside a Vigil query (no store snapshot)"
            );
        };
        let source_schema = Arc::new(
            datafusion::catalog::TableProvider::schema(&self.findings).project(&self.kept)?,
        );
        let top = top(&snapshot.store);
        let mut cache = self.cache.lock().await;
        let latest = if snapshot.scoped || top < cache.through {
            // a few sessions only, or a statement older than what the cache
            // holds: its own snapshot, from scratch, and nothing remembered
            let markers = self.markers_after(state, None).await?;
            latest_per_session(source_schema, &markers)?
        } else {
            if top > cache.through || cache.latest.is_none() {
                let mut markers = self.markers_after(state, cache.through).await?;
                if let Some(previous) = cache.latest.take() {
                    markers.insert(0, previous);
                }
                cache.latest = Some(latest_per_session(source_schema, &markers)?);
                cache.through = top;
            }
            cache.latest.clone().expect("just filled")
        };
        drop(cache);
        let rows = self.shape(&latest)?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![rows]],
            Arc::clone(&self.schema),
            projection.cloned(),
        )?)
    }
}
