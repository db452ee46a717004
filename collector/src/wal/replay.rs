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

/// Why reading a segment stopped (see [`scan_segment`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SegmentEnd {
    /// Every byte after the tag was a record.
    Whole,
    /// Created, by a start or a rotation, but nothing appended: at most the tag.
    Empty,
    /// The file does not begin with the WAL tag.
    NotASegment,
    /// The record at `offset` passed its checksum but has the wrong sequence number.
    OutOfSequence {
        offset: usize,
        expected: u64,
        found: u64,
    },
    /// The last segment ends in a write cut short, with nothing valid after it:
    /// never acknowledged; start-up cuts it off.
    TornTail { offset: usize },
    /// A bad record at `offset` (`reason` names it and the offset): in a sealed
    /// segment, or in the last one with valid records after it. Acknowledged
    /// data may be behind it.
    Damaged { offset: usize, reason: String },
}

/// The records of one segment, read without changing anything.
pub(crate) struct SegmentScan<'a> {
    /// `(seq, byte offset, payload)` of each record before the end.
    pub records: Vec<(u64, usize, &'a [u8])>,
    pub end: SegmentEnd,
    /// The sequence number the record after the last one read would have.
    pub next_seq: u64,
}

/// Reads a segment's records from `first_seq` on and says why it stopped:
/// the one classification of a segment's state that start-up (which repairs)
/// and `vigil fsck` (which reports) both use.
pub(crate) fn scan_segment(bytes: &[u8], first_seq: u64, is_last: bool) -> SegmentScan<'_> {
    let mut scan = SegmentScan {
        records: Vec::new(),
        end: SegmentEnd::Whole,
        next_seq: first_seq,
    };
    if bytes.len() <= SEGMENT_TAG.len() && SEGMENT_TAG.starts_with(bytes) {
        scan.end = SegmentEnd::Empty;
        return scan;
    }
    if bytes.len() < SEGMENT_TAG.len() || &bytes[..SEGMENT_TAG.len()] != SEGMENT_TAG {
        scan.end = SegmentEnd::NotASegment;
        return scan;
    }
    let mut offset = SEGMENT_TAG.len();
    while offset < bytes.len() {
        let bad = match decode_record(&bytes[offset..]) {
            Decoded::Record { seq, payload, len } => {
                if seq != scan.next_seq {
                    scan.end = SegmentEnd::OutOfSequence {
                        offset,
                        expected: scan.next_seq,
                        found: seq,
                    };
                    return scan;
                }
                scan.records.push((seq, offset, payload));
                scan.next_seq = seq + 1;
                offset += len;
                continue;
            }
            Decoded::Incomplete => format!("truncated record at byte {offset}"),
            Decoded::Corrupt(why) => format!("bad record at byte {offset}: {why}"),
        };
        scan.end = if is_last && !valid_record_after(&bytes[offset..], scan.next_seq) {
            SegmentEnd::TornTail { offset }
        } else {
            SegmentEnd::Damaged {
                offset,
                reason: bad,
            }
        };
        return scan;
    }
    scan
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
        let scan = scan_segment(&bytes, expected.unwrap_or(*first_seq), is_last);
        for &(seq, offset, payload) in &scan.records {
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
        }
        let cut_at = |offset: usize| -> Result<(), WalError> {
            let f = OpenOptions::new().write(true).open(path)?;
            f.set_len(offset as u64)?;
            f.sync_all()?;
            Ok(())
        };
        match scan.end {
            SegmentEnd::Whole => {}
            SegmentEnd::Empty => {
                // it holds nothing acknowledged, and the writer creates the segment it needs afresh
                tracing::info!(segment = %seg, bytes = bytes.len(), "removing a WAL segment with no records");
                summary.truncated_bytes += bytes.len() as u64;
                std::fs::remove_file(path)?;
                summary.segments -= 1;
                continue;
            }
            SegmentEnd::NotASegment => {
                let reason = format!("not a WAL segment (tag {:?})", &bytes[..bytes.len().min(8)]);
                quarantine_segment(data_dir, path, &reason, &mut summary)?;
                // the next segment starts where its name says
                expected = None;
                continue;
            }
            SegmentEnd::OutOfSequence {
                expected, found, ..
            } => {
                return Err(WalError::SequenceGap {
                    path: seg,
                    expected,
                    found,
                });
            }
            SegmentEnd::TornTail { offset } => {
                let cut = (bytes.len() - offset) as u64;
                tracing::warn!(segment = %seg, offset, bytes = cut, "truncating torn WAL tail");
                cut_at(offset)?;
                summary.truncated_bytes += cut;
            }
            SegmentEnd::Damaged { offset, reason } if is_last => {
                // acknowledged records after the damage: keep a copy of the whole
                // segment aside, then go on from the last good record
                let reason = format!("{reason}, with good records after it");
                let copy = quarantine_copy(data_dir, path)?;
                tracing::error!(segment = %seg, offset, copy = %copy.display(), "WAL segment damaged in the middle; replayed up to the damage, the whole segment is kept in the quarantine");
                summary
                    .quarantined
                    .push((copy.display().to_string(), reason));
                cut_at(offset)?;
                summary.truncated_bytes += (bytes.len() - offset) as u64;
            }
            SegmentEnd::Damaged { reason, .. } => {
                quarantine_segment(data_dir, path, &reason, &mut summary)?;
                expected = None;
                continue;
            }
        }
        expected = Some(scan.next_seq);
        summary.next_seq = scan.next_seq;
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
