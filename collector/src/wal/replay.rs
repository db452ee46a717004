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
}

/// Calls `each` for every complete record in sequence order, truncating a torn
/// tail of the last segment. `first_seq_hint` is the sequence to start from when
/// the WAL is empty. A record `each` cannot apply (its `Err` is the reason)
/// stops the replay with the segment and offset: its checksum matched, so it is
/// not a torn write, and skipping it would silently drop acknowledged data.
pub fn read_wal(
    dir: &Path,
    first_seq_hint: u64,
    mut each: impl FnMut(ReplayedRecord) -> Result<(), String>,
) -> Result<ReplaySummary, WalError> {
    let segments = list_segments(dir)?;
    let mut summary = ReplaySummary {
        segments: segments.len(),
        next_seq: first_seq_hint,
        ..Default::default()
    };
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
            return Err(WalError::WrongTag {
                path: seg,
                found: bytes[..bytes.len().min(8)].to_vec(),
            });
        }
        let mut offset = SEGMENT_TAG.len();
        let mut seq_expected = expected.unwrap_or(*first_seq);
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
                Decoded::Incomplete | Decoded::Corrupt(_) if is_last => {
                    let cut = (bytes.len() - offset) as u64;
                    tracing::warn!(segment = %seg, offset, bytes = cut, "truncating torn WAL tail");
                    let f = OpenOptions::new().write(true).open(path)?;
                    f.set_len(offset as u64)?;
                    f.sync_all()?;
                    summary.truncated_bytes += cut;
                    break;
                }
                Decoded::Incomplete => {
                    return Err(WalError::Corrupt {
                        path: seg,
                        offset: offset as u64,
                        reason: "truncated record",
                    });
                }
                Decoded::Corrupt(reason) => {
                    return Err(WalError::Corrupt {
                        path: seg,
                        offset: offset as u64,
                        reason,
                    });
                }
            }
        }
        expected = Some(seq_expected);
        summary.next_seq = seq_expected;
    }
    Ok(summary)
}
