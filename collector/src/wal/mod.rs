//! The write-ahead log: nothing is acknowledged before it is here and fsync'd.
//!
//! Invariants:
//! - A segment file is `data/wal/<first seq, 20 digits>.wal`: an 8-byte tag
//!   (magic and version in one), then records `len u32 | crc32c u32 | seq u64 | payload`,
//!   little-endian, the CRC covering `seq` and `payload`. Sorting names sorts by sequence.
//! - Sequence numbers are dense and increase by one per record across segments.
//! - One writer thread appends; every request waiting when it wakes shares one
//!   `fdatasync` (group commit). Only after the sync are the request's rows handed
//!   to the hot buffer, in sequence order, and then the waiters answered. The hot
//!   buffer is therefore always a prefix-closed suffix of the WAL.
//! - A segment is deleted only when every record in it is at or below the
//!   buffer's `flushed_upto`, i.e. in renamed, fsync'd Parquet files. The active
//!   segment is never deleted.
//! - On start, a bad record in the last segment is a torn write: the segment is
//!   truncated there and a warning logged. A bad record anywhere else stops start-up.

pub(crate) mod format;
pub(crate) mod replay;
pub(crate) mod writer;

pub use format::{Payload, Record, RowsPayload, Signal, WalError};
pub use replay::{ReplayedRecord, read_wal};
pub use writer::{WalConfig, WalWriter};

use std::path::{Path, PathBuf};

/// Lists segment files in sequence order as `(first_seq, path)`.
pub fn list_segments(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(stem) = name.strip_suffix(".wal")
            && let Ok(seq) = stem.parse::<u64>()
        {
            out.push((seq, path));
        }
    }
    out.sort_by_key(|(s, _)| *s);
    Ok(out)
}

pub fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(format!("{first_seq:020}.wal"))
}

/// Deletes closed segments whose records are all `<= upto`. Returns how many.
pub fn trim(dir: &Path, upto: u64) -> std::io::Result<usize> {
    let segs = list_segments(dir)?;
    let mut removed = 0;
    // a segment's last seq is the next segment's first seq minus one; the last
    // segment is the active one and is never removed
    for pair in segs.windows(2) {
        let (_, path) = &pair[0];
        let (next_first, _) = pair[1];
        if next_first.saturating_sub(1) <= upto {
            std::fs::remove_file(path)?;
            removed += 1;
        } else {
            break;
        }
    }
    if removed > 0 {
        fsync_dir(dir)?;
    }
    Ok(removed)
}

/// Makes a directory's entries (creates, renames, deletes) durable.
pub fn fsync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}
