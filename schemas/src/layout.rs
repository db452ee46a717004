//! The storage layout of a data directory, defined once:
//!
//! ```text
//! <data_dir>/LOCK                  held by the one writer (serve, ingest, reindex)
//! <data_dir>/wal/<seq:020>.wal     WAL segments
//! <data_dir>/tables/<table>/date=YYYY-MM-DD/hour=HH/<lo:020>-<hi:020>-<nonce:08x>.parquet
//! <data_dir>/tables/<table>/date=YYYY-MM-DD/hour=HH/<output>.parquet.merge
//! <data_dir>/tables/<table>.reindex/…   a table being rebuilt whole (`vigil reindex`)
//! <data_dir>/tables/<table>.old/…       the table it replaces, during the swap
//! ```
//!
//! A Parquet file's name carries the WAL range it covers (see the collector's
//! flush). A `.merge` file names the inputs of a compaction whose output is
//! `<output>.parquet`: once the output exists the inputs are no longer part of
//! the table, even while they are still on disk (running statements may read
//! them until they are removed, and a crash may leave them). Besides naming,
//! this module holds the one directory walk that finds a table's files, used by
//! the writer's coverage scan and by the query layer; it only reads.

use std::path::{Path, PathBuf};

pub const WAL_DIR: &str = "wal";
pub const TABLES_DIR: &str = "tables";
pub const LOCK_FILE: &str = "LOCK";
pub const PARQUET_EXT: &str = "parquet";
/// Suffix of files being written; a crash may leave them, start-up removes them.
pub const TMP_SUFFIX: &str = ".tmp";
/// Suffix of a compaction's list of inputs (`<output file name>.merge`).
pub const MERGE_SUFFIX: &str = ".merge";

/// A table rebuilt whole is written to `<table>.reindex`, then the live table
/// moves to `<table>.old` and the new one takes its place (two renames).
pub const REBUILD_SUFFIX: &str = ".reindex";
pub const REPLACED_SUFFIX: &str = ".old";

/// The directories of a whole-table swap: (being built, being replaced).
pub fn swap_dirs(data_dir: &Path, table: &str) -> (PathBuf, PathBuf) {
    let tables = tables_dir(data_dir);
    (
        tables.join(format!("{table}{REBUILD_SUFFIX}")),
        tables.join(format!("{table}{REPLACED_SUFFIX}")),
    )
}

/// Leaves one whole `table` after a crash in a whole-table rebuild: between
/// the renames, the table moved aside comes back (the rebuild is undone, to be
/// run again); after them, the replaced table is removed; a half-built one is
/// removed. Returns what it did, if anything, for the log.
pub fn recover_table_swap(data_dir: &Path, table: &str) -> std::io::Result<Option<&'static str>> {
    let live = table_dir(data_dir, table);
    let (building, replaced) = swap_dirs(data_dir, table);
    let mut did = None;
    if replaced.exists() {
        if live.exists() {
            std::fs::remove_dir_all(&replaced)?;
            did = Some("removed the table a finished rebuild replaced");
        } else {
            std::fs::rename(&replaced, &live)?;
            did = Some("put back the table an interrupted rebuild had moved aside; run it again");
        }
    }
    if building.exists() {
        std::fs::remove_dir_all(&building)?;
        did = did.or(Some("removed an interrupted rebuild; run it again"));
    }
    if did.is_some() {
        std::fs::File::open(tables_dir(data_dir))?.sync_all()?;
    }
    Ok(did)
}

/// Where start-up moves files it cannot read (a corrupt WAL segment, a
/// truncated Parquet file), under their path relative to the data directory.
pub const QUARANTINE_DIR: &str = "quarantine";

pub fn quarantine_dir(data_dir: &Path) -> PathBuf {
    data_dir.join(QUARANTINE_DIR)
}

/// Moves `path` (inside `data_dir`) into the quarantine, keeping its relative
/// path (and adding `.N` if that name is taken), and makes both directories'
/// entries durable. Returns where it went.
pub fn quarantine(data_dir: &Path, path: &Path) -> std::io::Result<PathBuf> {
    let relative = path
        .strip_prefix(data_dir)
        .unwrap_or(path.file_name().map_or(path, Path::new));
    let mut target = quarantine_dir(data_dir).join(relative);
    let parent = target
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| quarantine_dir(data_dir));
    std::fs::create_dir_all(&parent)?;
    let mut n = 1;
    while target.exists() {
        target = parent.join(format!(
            "{}.{n}",
            relative
                .file_name()
                .map(|f| f.to_string_lossy())
                .unwrap_or_default()
        ));
        n += 1;
    }
    std::fs::rename(path, &target)?;
    for dir in [Some(parent.as_path()), path.parent()]
        .into_iter()
        .flatten()
    {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(target)
}

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

/// The list of inputs of the compaction whose output is `output`.
pub fn merge_list_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(MERGE_SUFFIX);
    output.with_file_name(name)
}

/// The text of a merge list: one input file name per line.
pub fn merge_list_text(inputs: &[TableFile]) -> String {
    inputs
        .iter()
        .filter_map(|f| f.path.file_name()?.to_str())
        .map(|n| format!("{n}\n"))
        .collect()
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
    /// The table: every file holding rows of it, each row in exactly one.
    pub files: Vec<TableFile>,
    /// Unfinished `.tmp` files (a crash during a write).
    pub leftovers: Vec<PathBuf>,
    /// Merge lists of compactions whose output was never renamed into place (its
    /// `.tmp` is still there): their inputs are still the table. Remove these
    /// before the `.tmp` files, or the merge would look finished.
    pub unfinished_merges: Vec<PathBuf>,
    /// Inputs of finished compactions, still on disk: not part of the table.
    pub merged_inputs: Vec<PathBuf>,
    /// The merge lists of finished compactions (removable once their inputs are).
    pub merge_lists: Vec<PathBuf>,
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
            let mut files = Vec::new();
            let mut merges = Vec::new();
            let mut unfinished = std::collections::HashSet::new();
            for file in std::fs::read_dir(hour_dir.path())? {
                let file = file?;
                let name = file.file_name();
                let name = name.to_string_lossy();
                if name.ends_with(TMP_SUFFIX) {
                    unfinished.insert(name.to_string());
                    out.leftovers.push(file.path());
                } else if let Some(output) = name.strip_suffix(MERGE_SUFFIX) {
                    merges.push((output.to_string(), file.path()));
                } else if let Some(range) = parse_parquet_name(&name) {
                    files.push(TableFile {
                        date: date.clone(),
                        hour: hour.clone(),
                        path: file.path(),
                        wal_range: range,
                        size: file.metadata()?.len(),
                    });
                }
            }
            for (output, list) in merges {
                // The output is written as `.tmp` before its list and renamed after
                // it, so a list without a `.tmp` belongs to a finished merge, even
                // once its output has been merged again and removed. (Decided from
                // this one walk of the directory, so a rename during it cannot make
                // the inputs vanish before the output is seen.)
                if unfinished.contains(&format!("{output}{TMP_SUFFIX}")) {
                    out.unfinished_merges.push(list);
                    continue;
                }
                let inputs = std::fs::read_to_string(&list)?;
                let inputs: Vec<&str> = inputs.lines().filter(|l| !l.is_empty()).collect();
                files.retain(|f| {
                    let merged = f
                        .path
                        .file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n != output && inputs.contains(&n));
                    if merged {
                        out.merged_inputs.push(f.path.clone());
                    }
                    !merged
                });
                out.merge_lists.push(list);
            }
            out.files.extend(files);
        }
    }
    out.files.sort();
    out.leftovers.sort();
    out.unfinished_merges.sort();
    out.merged_inputs.sort();
    out.merge_lists.sort();
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

    #[test]
    fn inputs_of_a_finished_merge_are_not_part_of_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let part = partition_dir(&table_dir(dir.path(), "t"), "2026-11-24", "00");
        std::fs::create_dir_all(&part).unwrap();
        let file = |lo, hi, nonce| {
            let p = part.join(parquet_name(lo, hi, nonce));
            std::fs::write(&p, b"x").unwrap();
            p
        };
        let (a, b, c) = (file(1, 2, 0), file(3, 4, 0), file(5, 9, 0));
        let merged = file(1, 4, 1);
        let inputs = list_table(dir.path(), "t").unwrap().files;
        let inputs: Vec<TableFile> = inputs
            .into_iter()
            .filter(|f| f.path == a || f.path == b)
            .collect();
        assert_eq!(inputs.len(), 2);
        std::fs::write(merge_list_path(&merged), merge_list_text(&inputs)).unwrap();
        // a merge whose output was never renamed into place: its inputs stay
        let unfinished = part.join(parquet_name(5, 12, 7));
        std::fs::write(merge_list_path(&unfinished), merge_list_text(&inputs[1..])).unwrap();
        let unfinished_tmp = part.join(format!("{}{TMP_SUFFIX}", parquet_name(5, 12, 7)));
        std::fs::write(&unfinished_tmp, b"").unwrap();

        let l = list_table(dir.path(), "t").unwrap();
        let paths: Vec<_> = l.files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(paths, [merged.clone(), c.clone()]);
        assert_eq!(l.merged_inputs, [a.clone(), b.clone()]);
        assert_eq!(l.merge_lists, [merge_list_path(&merged)]);
        assert_eq!(l.unfinished_merges, [merge_list_path(&unfinished)]);
        assert_eq!(l.leftovers, [unfinished_tmp]);

        // merged again: `merged` is an input of `twice`, and once it is removed
        // its own list still says that a and b are not the table
        let twice = file(1, 9, 2);
        let all = list_table(dir.path(), "t").unwrap().files;
        let second: Vec<TableFile> = all.into_iter().filter(|f| f.path != twice).collect();
        std::fs::write(merge_list_path(&twice), merge_list_text(&second)).unwrap();
        std::fs::remove_file(&merged).unwrap();
        let l = list_table(dir.path(), "t").unwrap();
        let paths: Vec<_> = l.files.iter().map(|f| f.path.clone()).collect();
        assert_eq!(paths, std::slice::from_ref(&twice));
        assert_eq!(l.merged_inputs, [a, b, c]);
        assert_eq!(
            l.merge_lists,
            [merge_list_path(&merged), merge_list_path(&twice)]
        );
    }
}
