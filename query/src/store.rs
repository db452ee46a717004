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
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::physical_plan::union::UnionExec;
use schemas::StoreSnapshot;
use schemas::layout::TableFile;
use schemas::tables::{self, COL_DATE, COL_HOUR};

const COL_SESSION_ID: &str = "session_id";
/// A reviewer session's `parent_session_id` names the session it reviews; the
/// intent chain looks reviewers up by it.
const COL_PARENT_SESSION_ID: &str = "parent_session_id";
/// The columns whose values each file holds are indexed ([`FileKeys`]), for
/// the tables that have them.
const INDEXED_COLUMNS: [&str; 2] = [COL_SESSION_ID, COL_PARENT_SESSION_ID];

/// The store moment a statement reads (a session-config extension).
#[derive(Debug, Default)]
pub(crate) struct QuerySnapshot {
    pub store: StoreSnapshot,
    /// The store restricted to a few sessions ([`crate::QueryEngine::for_sessions`]):
    /// nothing learnt from it holds for the whole store.
    pub scoped: bool,
}

/// One stored table (`otlp_spans`, …, `agent_events`).
#[derive(Debug)]
pub(crate) struct StoreTable {
    table: &'static str,
    /// The table as queried: file columns then `date`, `hour`.
    schema: SchemaRef,
    /// The columns of the files (without the partition columns).
    file_schema: SchemaRef,
    /// Per indexed column the table has, the values each file holds.
    indexes: Vec<FileKeys>,
}

impl StoreTable {
    pub(crate) fn new(table: &'static str) -> Self {
        let schema = tables::raw_schema(table).expect("a stored table");
        StoreTable {
            table,
            file_schema: tables::file_schema(&schema),
            indexes: INDEXED_COLUMNS
                .iter()
                .filter(|c| schema.index_of(c).is_ok())
                .map(|c| FileKeys::new(c))
                .collect(),
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
        let scoped = snapshot.scoped;
        let snapshot = &snapshot.store;
        let mut inputs: Vec<Arc<dyn ExecutionPlan>> = Vec::new();
        // a file's name says which records it holds: a `wal_seq` bound (the
        // detector's "rows since", the listing's "touched since") skips the
        // files outside it without opening them
        let (lo, hi) = wal_seq_bounds(filters);
        let mut files: Vec<TableFile> = snapshot
            .files(self.table)
            .iter()
            .filter(|f| f.wal_range.1 >= lo && f.wal_range.0 <= hi)
            .cloned()
            .collect();
        // and a `session_id` bound (one session's chain, a detector pass) or a
        // `parent_session_id` one (its reviewers) the files that hold no value
        // within it, by each file's values read once: DataFusion would open
        // every file to learn the same
        // (a scoped snapshot lists no files: it says nothing of which are gone)
        let all = (!scoped).then(|| snapshot.files(self.table));
        for index in &self.indexes {
            if let Some(bounds) = key_bounds(filters, index.column) {
                files = index.keep(files, &bounds, all);
            }
        }
        if !files.is_empty() {
            inputs.push(
                self.scan_files(state, &files, projection, filters, limit)
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

/// The values of one column a file holds.
#[derive(Debug, Clone, PartialEq)]
enum FileValues {
    /// The file could not be read, or lacks the column: it may hold any value.
    Unknown,
    /// Every row's value is NULL.
    None,
    /// Exactly these, sorted.
    Set(Vec<Vec<u8>>),
}

/// Each file's [`FileValues`] of one text column, read the first time a
/// statement with a bound on the column meets the file (files never change
/// once written; entries of files gone from the store are dropped). For
/// `session_id`, one entry per session and hour partition: about 3 MB at 10M
/// events; for `parent_session_id`, one per reviewer session.
#[derive(Debug)]
struct FileKeys {
    column: &'static str,
    files: std::sync::Mutex<std::collections::HashMap<std::path::PathBuf, FileValues>>,
}

impl FileKeys {
    fn new(column: &'static str) -> Self {
        FileKeys {
            column,
            files: Default::default(),
        }
    }

    /// The files of `files` that may hold a value within `bounds`.
    /// `all`, the store's whole file list, lets it forget files gone since.
    fn keep(
        &self,
        files: Vec<TableFile>,
        bounds: &Bounds,
        all: Option<&[TableFile]>,
    ) -> Vec<TableFile> {
        let mut known = self.files.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(all) = all
            && known.len() > 2 * all.len() + 64
        {
            let current: std::collections::HashSet<&std::path::Path> =
                all.iter().map(|f| f.path.as_path()).collect();
            known.retain(|p, _| current.contains(p.as_path()));
        }
        files
            .into_iter()
            .filter(|f| {
                let values = known
                    .entry(f.path.clone())
                    .or_insert_with(|| file_values(&f.path, self.column));
                match values {
                    FileValues::Unknown => true,
                    FileValues::None => false,
                    FileValues::Set(ids) => {
                        // is any of the file's values within the bounds?
                        let first = bounds
                            .lo
                            .as_ref()
                            .map_or(0, |lo| ids.partition_point(|id| id < lo));
                        ids.get(first)
                            .is_some_and(|id| bounds.hi.as_ref().is_none_or(|hi| id <= hi))
                    }
                }
            })
            .collect()
    }
}

/// Reads the text column `column` of `path` (only it) for the values the file
/// holds: statistics alone cannot tell, for random ids (Claude Code's),
/// whether a session is in a file whose range spans nearly every id.
fn file_values(path: &std::path::Path, column: &str) -> FileValues {
    use datafusion::parquet::arrow::ProjectionMask;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let Ok(file) = std::fs::File::open(path) else {
        return FileValues::Unknown;
    };
    let Ok(builder) = ParquetRecordBatchReaderBuilder::try_new(file) else {
        return FileValues::Unknown;
    };
    let Some(leaf) = builder
        .parquet_schema()
        .columns()
        .iter()
        .position(|c| c.path().string() == column)
    else {
        return FileValues::Unknown;
    };
    let mask = ProjectionMask::leaves(builder.parquet_schema(), [leaf]);
    let Ok(reader) = builder.with_projection(mask).build() else {
        return FileValues::Unknown;
    };
    let mut ids: std::collections::BTreeSet<Vec<u8>> = std::collections::BTreeSet::new();
    for batch in reader {
        let Ok(batch) = batch else {
            return FileValues::Unknown;
        };
        let column = batch.column(0);
        let Some(strings) = column.as_any().downcast_ref::<arrow::array::StringArray>() else {
            return FileValues::Unknown;
        };
        for id in strings.iter().flatten() {
            if ids.last().is_none_or(|l| l.as_slice() != id.as_bytes()) {
                ids.insert(id.as_bytes().to_vec());
            }
        }
    }
    if ids.is_empty() {
        FileValues::None
    } else {
        FileValues::Set(ids.into_iter().collect())
    }
}

/// The values of a column a conjunction of filters allows, inclusive.
#[derive(Debug, Default, PartialEq)]
struct Bounds {
    lo: Option<Vec<u8>>,
    hi: Option<Vec<u8>>,
}

/// `None` when the filters do not bound `column` (or allow NULL).
fn key_bounds(filters: &[Expr], column: &str) -> Option<Bounds> {
    let is_column = |e: &Expr| matches!(e, Expr::Column(c) if c.name == column);
    let text = |v: &ScalarValue| match v {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::Utf8View(Some(s))
        | ScalarValue::LargeUtf8(Some(s)) => Some(s.as_bytes().to_vec()),
        _ => None,
    };
    let mut b = Bounds::default();
    let mut bounded = false;
    let raise = |b: &mut Bounds, v: Vec<u8>| {
        if b.lo.as_ref().is_none_or(|lo| v > *lo) {
            b.lo = Some(v);
        }
    };
    let lower = |b: &mut Bounds, v: Vec<u8>| {
        if b.hi.as_ref().is_none_or(|hi| v < *hi) {
            b.hi = Some(v);
        }
    };
    for f in filters {
        match f {
            Expr::InList(l) if !l.negated && is_column(&l.expr) => {
                let values: Option<Vec<Vec<u8>>> = l
                    .list
                    .iter()
                    .map(|e| match e {
                        Expr::Literal(v, _) => text(v),
                        _ => None,
                    })
                    .collect();
                let Some(values) = values.filter(|v| !v.is_empty()) else {
                    continue;
                };
                raise(&mut b, values.iter().min().cloned().expect("not empty"));
                lower(&mut b, values.iter().max().cloned().expect("not empty"));
                bounded = true;
            }
            Expr::BinaryExpr(e) => {
                let (op, v) = match (&*e.left, &*e.right) {
                    (c, Expr::Literal(v, _)) if is_column(c) => (e.op, v),
                    (Expr::Literal(v, _), c) if is_column(c) => match e.op.swap() {
                        Some(op) => (op, v),
                        None => continue,
                    },
                    _ => continue,
                };
                let Some(v) = text(v) else { continue };
                match op {
                    Operator::Eq => {
                        raise(&mut b, v.clone());
                        lower(&mut b, v);
                    }
                    Operator::Gt | Operator::GtEq => raise(&mut b, v),
                    Operator::Lt | Operator::LtEq => lower(&mut b, v),
                    _ => continue,
                }
                bounded = true;
            }
            _ => {}
        }
    }
    bounded.then_some(b)
}

/// The `wal_seq` values `filters` (a conjunction) allow, as an inclusive range:
/// comparisons of the column with a literal narrow it, anything else does not.
fn wal_seq_bounds(filters: &[Expr]) -> (u64, u64) {
    let (mut lo, mut hi) = (0u64, u64::MAX);
    for f in filters {
        let Expr::BinaryExpr(b) = f else { continue };
        let (column, op, value) = match (&*b.left, &*b.right) {
            (c, Expr::Literal(v, _)) => (c, b.op, v),
            (Expr::Literal(v, _), c) => match b.op.swap() {
                Some(op) => (c, op, v),
                None => continue,
            },
            _ => continue,
        };
        let column = match column {
            Expr::Cast(c) => &*c.expr,
            Expr::TryCast(c) => &*c.expr,
            c => c,
        };
        let is_wal_seq =
            matches!(column, Expr::Column(c) if c.name == schemas::tables::COL_WAL_SEQ);
        let Some(v) = literal_i128(value).filter(|_| is_wal_seq) else {
            continue;
        };
        let clamp = |v: i128| v.clamp(0, u64::MAX as i128) as u64;
        match op {
            Operator::Gt => lo = lo.max(clamp(v + 1)),
            Operator::GtEq => lo = lo.max(clamp(v)),
            Operator::Lt => hi = hi.min(clamp(v - 1)),
            Operator::LtEq => hi = hi.min(clamp(v)),
            Operator::Eq => {
                lo = lo.max(clamp(v));
                hi = hi.min(clamp(v));
            }
            _ => {}
        }
    }
    (lo, hi)
}

fn literal_i128(v: &ScalarValue) -> Option<i128> {
    Some(match v {
        ScalarValue::UInt64(Some(v)) => *v as i128,
        ScalarValue::UInt32(Some(v)) => *v as i128,
        ScalarValue::Int64(Some(v)) => *v as i128,
        ScalarValue::Int32(Some(v)) => *v as i128,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use datafusion::prelude::{col, lit};

    use super::*;

    #[test]
    fn session_comparisons_and_lists_bound_the_files_to_read() {
        let b = |lo: &str, hi: &str| Bounds {
            lo: Some(lo.as_bytes().to_vec()),
            hi: Some(hi.as_bytes().to_vec()),
        };
        assert_eq!(key_bounds(&[], COL_SESSION_ID), None);
        assert_eq!(
            key_bounds(&[col("session_id").eq(lit("s1"))], COL_SESSION_ID),
            Some(b("s1", "s1"))
        );
        assert_eq!(
            key_bounds(
                &[col("session_id").in_list(vec![lit("s3"), lit("s1"), lit("s2")], false)],
                COL_SESSION_ID
            ),
            Some(b("s1", "s3"))
        );
        // a range and a list narrow each other
        assert_eq!(
            key_bounds(
                &[
                    col("session_id").gt_eq(lit("s2")),
                    col("session_id").in_list(vec![lit("s1"), lit("s5")], false),
                    lit("s4").gt_eq(col("session_id")),
                ],
                COL_SESSION_ID
            ),
            Some(b("s2", "s4"))
        );
        // NOT IN, other columns, non-literals: no bound
        assert_eq!(
            key_bounds(
                &[col("session_id").in_list(vec![lit("s1")], true)],
                COL_SESSION_ID
            ),
            None
        );
        assert_eq!(
            key_bounds(&[col("agent").eq(lit("codex"))], COL_SESSION_ID),
            None
        );
        // each indexed column is bounded by its own comparisons only
        assert_eq!(
            key_bounds(
                &[col("parent_session_id").eq(lit("p1"))],
                COL_PARENT_SESSION_ID
            ),
            Some(b("p1", "p1"))
        );
        assert_eq!(
            key_bounds(&[col("session_id").eq(lit("s1"))], COL_PARENT_SESSION_ID),
            None
        );
        assert_eq!(
            key_bounds(&[col("parent_session_id").eq(lit("p1"))], COL_SESSION_ID),
            None
        );
        assert_eq!(
            key_bounds(&[col("session_id").eq(col("turn_id"))], COL_SESSION_ID),
            None
        );
    }

    #[test]
    fn files_outside_a_bound_are_skipped_by_the_values_they_hold() {
        use arrow::array::StringArray;
        use arrow::record_batch::RecordBatch;
        use datafusion::parquet::arrow::ArrowWriter;
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, ids: Vec<Option<&str>>, parents: Vec<Option<&str>>| {
            let path = dir.path().join(name);
            let schema = Arc::new(arrow::datatypes::Schema::new(vec![
                Field::new(COL_SESSION_ID, DataType::Utf8, true),
                Field::new(COL_PARENT_SESSION_ID, DataType::Utf8, true),
            ]));
            let batch = RecordBatch::try_new(
                Arc::clone(&schema),
                vec![
                    Arc::new(StringArray::from(ids)),
                    Arc::new(StringArray::from(parents)),
                ],
            )
            .unwrap();
            let mut w =
                ArrowWriter::try_new(std::fs::File::create(&path).unwrap(), schema, None).unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
            TableFile {
                date: "2026-12-01".into(),
                hour: "00".into(),
                path,
                wal_range: (1, 1),
                size: 0,
            }
        };
        let a = write(
            "a.parquet",
            vec![Some("s1"), None, Some("s2"), Some("s9")],
            vec![None, None, None, Some("s1")],
        );
        let b = write("b.parquet", vec![Some("s5"), Some("s6")], vec![None, None]);
        let none = write("none.parquet", vec![None, None], vec![None, Some("s5")]);
        let garbage = dir.path().join("garbage.parquet");
        std::fs::write(&garbage, b"not parquet").unwrap();
        let garbage = TableFile {
            path: garbage,
            ..a.clone()
        };
        let all = vec![a, b, none, garbage];
        let sessions = FileKeys::new(COL_SESSION_ID);
        let parents = FileKeys::new(COL_PARENT_SESSION_ID);
        let kept = |index: &FileKeys, lo: Option<&str>, hi: Option<&str>| -> Vec<String> {
            let bounds = Bounds {
                lo: lo.map(|s| s.as_bytes().to_vec()),
                hi: hi.map(|s| s.as_bytes().to_vec()),
            };
            index
                .keep(all.clone(), &bounds, Some(&all))
                .iter()
                .map(|f| f.path.file_name().unwrap().to_string_lossy().into_owned())
                .collect()
        };
        let one = |index: &FileKeys, v: &str| kept(index, Some(v), Some(v));
        assert_eq!(one(&sessions, "s2"), ["a.parquet", "garbage.parquet"]);
        assert_eq!(kept(&sessions, Some("s3"), Some("s4")), ["garbage.parquet"]);
        assert_eq!(
            kept(&sessions, Some("s2"), None),
            ["a.parquet", "b.parquet", "garbage.parquet"]
        );
        assert_eq!(kept(&sessions, None, Some("s0")), ["garbage.parquet"]);
        assert_eq!(
            kept(&sessions, Some("s3"), Some("s5")),
            ["b.parquet", "garbage.parquet"]
        );
        // the reviewers of s1 and s5 are in the files that name them as parent,
        // whatever sessions those hold
        assert_eq!(one(&parents, "s1"), ["a.parquet", "garbage.parquet"]);
        assert_eq!(one(&parents, "s5"), ["none.parquet", "garbage.parquet"]);
        assert_eq!(one(&parents, "s2"), ["garbage.parquet"]);
        assert_eq!(
            sessions.files.lock().unwrap().len(),
            4,
            "each file read once"
        );
        assert_eq!(
            parents.files.lock().unwrap().len(),
            4,
            "each file read once"
        );
    }

    #[test]
    fn wal_seq_comparisons_bound_the_files_to_read() {
        assert_eq!(wal_seq_bounds(&[]), (0, u64::MAX));
        assert_eq!(
            wal_seq_bounds(&[
                col("wal_seq").gt(lit(10u64)),
                col("wal_seq").lt_eq(lit(20i64))
            ]),
            (11, 20)
        );
        assert_eq!(
            wal_seq_bounds(&[lit(5u64).lt(col("wal_seq"))]),
            (6, u64::MAX)
        );
        assert_eq!(wal_seq_bounds(&[col("wal_seq").eq(lit(7i32))]), (7, 7));
        assert_eq!(
            wal_seq_bounds(&[col("wal_seq").gt_eq(lit(-3i64))]),
            (0, u64::MAX)
        );
        // other columns, other operators: no bound
        assert_eq!(wal_seq_bounds(&[col("seq").gt(lit(10u64))]), (0, u64::MAX));
        assert_eq!(
            wal_seq_bounds(&[col("wal_seq").not_eq(lit(10u64))]),
            (0, u64::MAX)
        );
    }
}
