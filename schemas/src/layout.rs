//! The storage layout of a data directory, defined once:
//!
//! ```text
//! <data_dir>/LOCK                  held by the one writer (serve, ingest, reindex)
//! <data_dir>/wal/<seq:020>.wal     WAL segments
//! <data_dir>/tables/<table>/date=YYYY-MM-DD/hour=HH/<lo:020>-<hi:020>-<nonce:08x>.parquet
//! ```
//!
//! A Parquet file's name carries the WAL range it covers (see the collector's
//! flush). Besides naming, this module holds the one directory walk that finds
//! a table's files, used by the writer's coverage scan and by the query layer;
//! it only reads.

use std::path::{Path, PathBuf};

pub const WAL_DIR: &str = "wal";
pub const TABLES_DIR: &str = "tables";
pub const LOCK_FILE: &str = "LOCK";
pub const PARQUET_EXT: &str = "parquet";
/// Suffix of files being written; a crash may leave them, start-up removes them.
pub const TMP_SUFFIX: &str = ".tmp";

pub fn wal_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(WAL_DIR)
}

pub fn tables_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(TABLES_DIR)
}

pub fn table_dir(data_dir: &Path, table: &str) -> PathBuf {
    tables_dir(data_dir).join(table)
}

/// `<table_root>/date=D/hour=H`.
pub fn partition_dir(table_root: &Path, date: &str, hour: &str) -> PathBuf {
    table_root
        .join(format!("date={date}"))
        .join(format!("hour={hour}"))
}

/// The file name of rows from WAL records `lo..=hi`.
pub fn parquet_name(lo: u64, hi: u64, nonce: u32) -> String {
    format!("{lo:020}-{hi:020}-{nonce:08x}.{PARQUET_EXT}")
}

/// `<lo>-<hi>-<nonce>.parquet` → `(lo, hi)`.
pub fn parse_parquet_name(name: &str) -> Option<(u64, u64)> {
    let stem = name.strip_suffix(".parquet")?;
    let mut parts = stem.splitn(3, '-');
    let lo = parts.next()?.parse().ok()?;
    let hi = parts.next()?.parse().ok()?;
    Some((lo, hi))
}

/// One Parquet file of a table, as found on disk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TableFile {
    pub date: String,
    pub hour: String,
    pub path: PathBuf,
    /// The WAL range from the file name.
    pub wal_range: (u64, u64),
    pub size: u64,
}

/// What a walk of a table directory found.
#[derive(Debug, Default, Clone)]
pub struct Listing {
    pub files: Vec<TableFile>,
    /// Unfinished `.tmp` files (a crash during a write).
    pub leftovers: Vec<PathBuf>,
}

/// Every Parquet file of `table` under `data_dir`, sorted by partition and name.
/// A missing table directory is an empty table.
pub fn list_table(data_dir: &Path, table: &str) -> std::io::Result<Listing> {
    let mut out = Listing::default();
    let root = table_dir(data_dir, table);
    let dates = match std::fs::read_dir(&root) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for date_dir in dates {
        let date_dir = date_dir?;
        let Some(date) = dir_value(&date_dir, "date=") else {
            continue;
        };
        for hour_dir in std::fs::read_dir(date_dir.path())? {
            let hour_dir = hour_dir?;
            let Some(hour) = dir_value(&hour_dir, "hour=") else {
                continue;
            };
            for file in std::fs::read_dir(hour_dir.path())? {
                let file = file?;
                let name = file.file_name();
                let name = name.to_string_lossy();
                if name.ends_with(TMP_SUFFIX) {
                    out.leftovers.push(file.path());
                } else if let Some(range) = parse_parquet_name(&name) {
                    out.files.push(TableFile {
                        date: date.clone(),
                        hour: hour.clone(),
                        path: file.path(),
                        wal_range: range,
                        size: file.metadata()?.len(),
                    });
                }
            }
        }
    }
    out.files.sort();
    out.leftovers.sort();
    Ok(out)
}

fn dir_value(entry: &std::fs::DirEntry, prefix: &str) -> Option<String> {
    entry.file_type().ok()?.is_dir().then_some(())?;
    entry
        .file_name()
        .to_str()?
        .strip_prefix(prefix)
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        let n = parquet_name(3, 17, 0xab);
        assert_eq!(
            n,
            "00000000000000000003-00000000000000000017-000000ab.parquet"
        );
        assert_eq!(parse_parquet_name(&n), Some((3, 17)));
        assert_eq!(parse_parquet_name("x.parquet"), None);
        assert_eq!(parse_parquet_name(&format!("{n}{TMP_SUFFIX}")), None);
    }

    #[test]
    fn listing_finds_files_and_leftovers_and_ignores_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let root = table_dir(dir.path(), "t");
        let part = partition_dir(&root, "2026-11-24", "00");
        std::fs::create_dir_all(&part).unwrap();
        std::fs::write(part.join(parquet_name(1, 2, 0)), b"x").unwrap();
        std::fs::write(
            part.join(format!("{}{TMP_SUFFIX}", parquet_name(3, 3, 0))),
            b"",
        )
        .unwrap();
        std::fs::write(part.join("README"), b"").unwrap();
        std::fs::create_dir_all(root.join("junk")).unwrap();
        let l = list_table(dir.path(), "t").unwrap();
        assert_eq!(l.files.len(), 1);
        assert_eq!(l.files[0].wal_range, (1, 2));
        assert_eq!(
            (l.files[0].date.as_str(), l.files[0].hour.as_str()),
            ("2026-11-24", "00")
        );
        assert_eq!(l.files[0].size, 1);
        assert_eq!(l.leftovers.len(), 1);
        assert!(list_table(dir.path(), "missing").unwrap().files.is_empty());
    }
}
