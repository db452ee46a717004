//! Reading the WAL back at start-up.

use std::fs::OpenOptions;
use std::path::Path;

use super::format::{Decoded, SEGMENT_TAG, WalError, decode_record};
use super::list_segments;

/// One record as replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayedRecord {
    pub seq: u64,
    pub payload: Vec<u8>,
}

/// What replay found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReplaySummary {
    pub segments: usize,
    pub records: u64,
    /// Bytes cut from the end of the last segment (a torn final write).
    pub truncated_bytes: u64,
    /// The sequence number the next record must get.
    pub next_seq: u64,
    /// Segments that could not be read past some point, as `(where it was moved
    /// or copied, why)`: every record before the damage was replayed.
    pub quarantined: Vec<(String, String)>,
}

/// Whether a record that passes its checksum starts anywhere in `rest` with a
/// sequence number after `expected`: then the bad bytes before it are damage in
/// the middle of acknowledged data, not a torn final write. The sequence check
/// comes first, so random bytes almost never cost a checksum.
pub(crate) fn valid_record_after(rest: &[u8], expected: u64) -> bool {
    (1..rest.len()).any(|off| {
        let Some(seq) = rest.get(off + 8..off + 16) else {
            return false;
        };
        let seq = u64::from_le_bytes(seq.try_into().expect("8 bytes"));
        seq > expected
            && seq < expected.saturating_add(1 << 24)
            && matches!(decode_record(&rest[off..]), Decoded::Record { .. })
    })
}

/// Calls `each` for every complete record in sequence order, truncating a torn
/// tail of the last segment. A damaged segment is moved (the last one: copied)
/// under `quarantine_root`'s quarantine directory (the data directory's) after
/// the records before the damage were replayed. `first_seq_hint` is the sequence to start from when
/// the WAL is empty. A record `each` cannot apply (its `Err` is the reason)
/// stops the replay with the segment and offset: its checksum matched, so it is
/// not a torn write, and skipping it would silently drop acknowledged data.
pub fn read_wal(
    dir: &Path,
    quarantine_root: &Path,
    first_seq_hint: u64,
    mut each: impl FnMut(ReplayedRecord) -> Result<(), String>,
) -> Result<ReplaySummary, WalError> {
    let segments = list_segments(dir)?;
    let mut summary = ReplaySummary {
        segments: segments.len(),
        next_seq: first_seq_hint,
        ..Default::default()
    };
    let data_dir = quarantine_root;
    let mut expected: Option<u64> = None;
    for (i, (first_seq, path)) in segments.iter().enumerate() {
        let is_last = i + 1 == segments.len();
        let seg = path.display().to_string();
        let bytes = std::fs::read(path)?;
        if bytes.len() <= SEGMENT_TAG.len() && SEGMENT_TAG.starts_with(&bytes) {
            // created (by a start or a rotation) but nothing was appended before the
            // stop or crash: it holds nothing acknowledged, and the writer creates the
            // segment it needs afresh
            tracing::info!(segment = %seg, bytes = bytes.len(), "removing a WAL segment with no records");
            summary.truncated_bytes += bytes.len() as u64;
            std::fs::remove_file(path)?;
            summary.segments -= 1;
            continue;
        }
        if bytes.len() < SEGMENT_TAG.len() || &bytes[..8] != SEGMENT_TAG {
            let reason = format!("not a WAL segment (tag {:?})", &bytes[..bytes.len().min(8)]);
            quarantine_segment(data_dir, path, &reason, &mut summary)?;
            // the next segment starts where its name says
            expected = None;
            continue;
        }
        let mut offset = SEGMENT_TAG.len();
        let mut seq_expected = expected.unwrap_or(*first_seq);
        let mut damaged = false;
        while offset < bytes.len() {
            match decode_record(&bytes[offset..]) {
                Decoded::Record { seq, payload, len } => {
                    if seq != seq_expected {
                        return Err(WalError::SequenceGap {
                            path: seg,
                            expected: seq_expected,
                            found: seq,
                        });
                    }
                    each(ReplayedRecord {
                        seq,
                        payload: payload.to_vec(),
                    })
                    .map_err(|reason| WalError::Unreplayable {
                        path: seg.clone(),
                        offset: offset as u64,
                        reason,
                    })?;
                    summary.records += 1;
                    seq_expected = seq + 1;
                    offset += len;
                }
                Decoded::Incomplete | Decoded::Corrupt(_)
                    if is_last && !valid_record_after(&bytes[offset..], seq_expected) =>
                {
                    let cut = (bytes.len() - offset) as u64;
                    tracing::warn!(segment = %seg, offset, bytes = cut, "truncating torn WAL tail");
                    let f = OpenOptions::new().write(true).open(path)?;
                    f.set_len(offset as u64)?;
                    f.sync_all()?;
                    summary.truncated_bytes += cut;
                    break;
                }
                Decoded::Incomplete | Decoded::Corrupt(_) if is_last => {
                    // damage with acknowledged records after it: keep a copy of the
                    // whole segment aside, then go on from the last good record
                    let reason = format!("bad record at byte {offset}, with good records after it");
                    let copy = quarantine_copy(data_dir, path)?;
                    tracing::error!(segment = %seg, offset, copy = %copy.display(), "WAL segment damaged in the middle; replayed up to the damage, the whole segment is kept in the quarantine");
                    summary
                        .quarantined
                        .push((copy.display().to_string(), reason));
                    let f = OpenOptions::new().write(true).open(path)?;
                    f.set_len(offset as u64)?;
                    f.sync_all()?;
                    summary.truncated_bytes += (bytes.len() - offset) as u64;
                    break;
                }
                Decoded::Incomplete | Decoded::Corrupt(_) => {
                    let reason = match decode_record(&bytes[offset..]) {
                        Decoded::Corrupt(r) => format!("bad record at byte {offset}: {r}"),
                        _ => format!("truncated record at byte {offset}"),
                    };
                    quarantine_segment(data_dir, path, &reason, &mut summary)?;
                    damaged = true;
                    break;
                }
            }
        }
        if damaged {
            expected = None;
            continue;
        }
        expected = Some(seq_expected);
        summary.next_seq = seq_expected;
    }
    Ok(summary)
}

/// Moves a sealed segment that cannot be read past some point aside.
fn quarantine_segment(
    data_dir: &Path,
    path: &Path,
    reason: &str,
    summary: &mut ReplaySummary,
) -> Result<(), WalError> {
    let moved = schemas::layout::quarantine(data_dir, path)?;
    tracing::error!(segment = %path.display(), moved_to = %moved.display(), reason, "WAL segment damaged; replayed up to the damage and moved it to the quarantine");
    summary
        .quarantined
        .push((moved.display().to_string(), reason.to_string()));
    Ok(())
}

/// Copies `path` into the quarantine (the original stays in use).
fn quarantine_copy(data_dir: &Path, path: &Path) -> std::io::Result<std::path::PathBuf> {
    let tmp = path.with_extension("wal.copy");
    std::fs::copy(path, &tmp)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    let target = schemas::layout::quarantine(data_dir, &tmp)?;
    Ok(target)
}
