//! Integrity of a data directory: the Parquet check start-up applies (a file
//! whose footer cannot be read is moved to the quarantine, so the table stays
//! readable and the WAL records it covered, if still there, are replayed), and
//! [`fsck`], which checks everything and changes nothing.

use std::fs::File;
use std::path::{Path, PathBuf};

use parquet::file::metadata::ParquetMetaDataReader;
use schemas::layout;
use schemas::tables;

use crate::error::Error;
use crate::wal::list_segments;
use crate::wal::replay::{SegmentEnd, scan_segment};

/// Rows in a Parquet file per its footer, or why the footer cannot be read.
fn parquet_rows(path: &Path) -> Result<u64, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let meta = ParquetMetaDataReader::new()
        .parse_and_finish(&file)
        .map_err(|e| e.to_string())?;
    Ok(u64::try_from(meta.file_metadata().num_rows()).unwrap_or(0))
}

/// Reads every page of a Parquet file (`fsck --deep`): page checksums and
/// decompression, not only the footer.
fn read_all_pages(path: &Path) -> Result<u64, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .map_err(|e| e.to_string())?;
    let mut rows = 0u64;
    for batch in reader {
        rows += batch.map_err(|e| e.to_string())?.num_rows() as u64;
    }
    Ok(rows)
}

/// Moves every table file whose footer cannot be read to the quarantine;
/// returns `(where it went, why)` for each.
pub(crate) fn quarantine_unreadable_parquet(
    data_dir: &Path,
) -> Result<Vec<(PathBuf, String)>, Error> {
    let mut moved = Vec::new();
    for table in tables::ALL_TABLES {
        for f in layout::list_table(data_dir, table)?.files {
            if let Err(reason) = parquet_rows(&f.path) {
                let to = layout::quarantine(data_dir, &f.path)?;
                tracing::error!(file = %f.path.display(), moved_to = %to.display(), reason, "unreadable Parquet file moved to the quarantine; its rows are not in the table");
                moved.push((to, reason));
            }
        }
    }
    Ok(moved)
}

/// What [`fsck`] found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FsckReport {
    pub wal_segments: usize,
    pub wal_records: u64,
    /// WAL sequence range present, if any.
    pub wal_range: Option<(u64, u64)>,
    pub parquet_files: usize,
    pub parquet_rows: u64,
    /// Highest WAL sequence the Parquet files cover.
    pub parquet_covered_upto: u64,
    /// Files already in the quarantine.
    pub quarantined: Vec<PathBuf>,
    /// Left by an interrupted write or compaction; start-up removes them.
    pub leftovers: Vec<PathBuf>,
    /// `(file, what is wrong)`: anything here means data is damaged or missing.
    pub problems: Vec<(PathBuf, String)>,
}

impl FsckReport {
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }

    /// A report for people, one finding per line.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let wal = match self.wal_range {
            Some((lo, hi)) => format!("records {lo}..={hi}"),
            None => "no records".to_string(),
        };
        out.push_str(&format!(
            "WAL: {} segment(s), {} record(s), {wal}\n",
            self.wal_segments, self.wal_records
        ));
        out.push_str(&format!(
            "Parquet: {} file(s), {} row(s), WAL covered up to {}\n",
            self.parquet_files, self.parquet_rows, self.parquet_covered_upto
        ));
        for p in &self.leftovers {
            out.push_str(&format!(
                "leftover (removed at next start): {}\n",
                p.display()
            ));
        }
        for p in &self.quarantined {
            out.push_str(&format!("in quarantine: {}\n", p.display()));
        }
        for (p, what) in &self.problems {
            out.push_str(&format!("PROBLEM {}: {what}\n", p.display()));
        }
        out.push_str(if self.is_clean() {
            "ok: no problems found\n"
        } else {
            "damaged: see PROBLEM lines\n"
        });
        out
    }
}

/// Checks a data directory without changing it: every WAL record's checksum and
/// the sequence across segments, every Parquet footer (every page with `deep`),
/// and that the WAL and the Parquet files together cover every sequence number
/// from the first file to the last record (a gap would be acknowledged records
/// in neither).
pub fn fsck(data_dir: &Path, deep: bool) -> Result<FsckReport, Error> {
    let mut report = FsckReport::default();
    if !data_dir.is_dir() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no data directory at {}", data_dir.display()),
        )));
    }
    check_wal(&layout::wal_dir(data_dir), &mut report)?;
    let mut ranges = Vec::new();
    for table in tables::ALL_TABLES {
        let listing = layout::list_table(data_dir, table)?;
        report.leftovers.extend(listing.leftovers);
        report.leftovers.extend(listing.unfinished_merges);
        report.leftovers.extend(listing.merged_inputs);
        report.leftovers.extend(listing.merge_lists);
        for f in listing.files {
            report.parquet_files += 1;
            let rows = if deep {
                read_all_pages(&f.path)
            } else {
                parquet_rows(&f.path)
            };
            match rows {
                Ok(n) => report.parquet_rows += n,
                Err(e) => report
                    .problems
                    .push((f.path.clone(), format!("unreadable Parquet: {e}"))),
            }
            ranges.push(f.wal_range);
        }
    }
    report.parquet_covered_upto = ranges.iter().map(|r| r.1).max().unwrap_or(0);
    // Every record is in Parquet or still in the WAL: the WAL must begin at or
    // below the record after the highest one the files cover.
    if let Some((first, _)) = report.wal_range
        && first > report.parquet_covered_upto + 1
    {
        report.problems.push((
            layout::wal_dir(data_dir),
            format!(
                "records {}..={} are neither in Parquet (covered up to {}) nor in the WAL (begins at {first})",
                report.parquet_covered_upto + 1,
                first - 1,
                report.parquet_covered_upto
            ),
        ));
    }
    let q = layout::quarantine_dir(data_dir);
    if q.is_dir() {
        let mut stack = vec![q];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir)? {
                let p = e?.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    report.quarantined.push(p);
                }
            }
        }
        report.quarantined.sort();
    }
    Ok(report)
}

fn check_wal(wal_dir: &Path, report: &mut FsckReport) -> Result<(), Error> {
    let segments = match list_segments(wal_dir) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    report.wal_segments = segments.len();
    let mut expected: Option<u64> = None;
    for (i, (first_seq, path)) in segments.iter().enumerate() {
        let is_last = i + 1 == segments.len();
        let bytes = std::fs::read(path)?;
        let scan = scan_segment(&bytes, *first_seq, is_last);
        let problem = |what: String| (path.clone(), what);
        match &scan.end {
            SegmentEnd::Empty => continue, // created, nothing appended
            SegmentEnd::NotASegment => {
                report
                    .problems
                    .push(problem("not a WAL segment (wrong tag)".into()));
                expected = None;
                continue;
            }
            _ => {}
        }
        if let Some(e) = expected
            && e != *first_seq
        {
            report.problems.push(problem(format!(
                "sequence gap: the previous segment ends before {e}, this one begins at {first_seq}"
            )));
        }
        for &(seq, _, _) in &scan.records {
            report.wal_records += 1;
            let lo = report.wal_range.map_or(seq, |r| r.0);
            report.wal_range = Some((lo, seq));
        }
        match scan.end {
            SegmentEnd::Whole | SegmentEnd::Empty | SegmentEnd::NotASegment => {}
            SegmentEnd::OutOfSequence {
                offset,
                expected,
                found,
            } => report.problems.push(problem(format!(
                "record at byte {offset} has sequence {found}, expected {expected}"
            ))),
            // a torn final write: never acknowledged, cut at the next start
            SegmentEnd::TornTail { .. } => report.leftovers.push(path.clone()),
            SegmentEnd::Damaged { reason, .. } => report.problems.push(problem(format!(
                "{reason}{}",
                if is_last { "" } else { " in a sealed segment" }
            ))),
        }
        let next = scan.next_seq;
        expected = Some(next);
    }
    Ok(())
}
