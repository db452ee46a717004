//! WAL properties: whatever the crash left behind, recovery keeps every complete
//! record, in order, and nothing else. Plus one named test per corruption mode.

use std::path::Path;
use std::sync::Arc;

use collector::Metrics;
use collector::internals::{
    HotBuffer, ReplayedRecord, SEGMENT_TAG, WalConfig, WalError, WalWriter, encode_record,
    read_wal, segment_path,
};
use proptest::prelude::*;

fn write_segment(
    dir: &Path,
    first_seq: u64,
    payloads: &[Vec<u8>],
) -> (std::path::PathBuf, Vec<usize>) {
    let mut bytes = SEGMENT_TAG.to_vec();
    let mut ends = Vec::new();
    for (i, p) in payloads.iter().enumerate() {
        encode_record(first_seq + i as u64, p, &mut bytes);
        ends.push(bytes.len());
    }
    let path = segment_path(dir, first_seq);
    std::fs::write(&path, &bytes).unwrap();
    (path, ends)
}

fn replay(dir: &Path) -> Result<Vec<ReplayedRecord>, WalError> {
    let mut out = Vec::new();
    read_wal(dir, dir, 1, |r| {
        out.push(r);
        Ok(())
    })?;
    Ok(out)
}

fn payloads() -> impl Strategy<Value = Vec<Vec<u8>>> {
    prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Truncating the last segment anywhere keeps exactly the records that fit.
    #[test]
    fn random_truncation_keeps_every_complete_record(payloads in payloads(), cut_frac in 0.0f64..=1.0) {
        let dir = tempfile::tempdir().unwrap();
        let (path, ends) = write_segment(dir.path(), 1, &payloads);
        let len = std::fs::metadata(&path).unwrap().len() as usize;
        let cut = SEGMENT_TAG.len() + ((len - SEGMENT_TAG.len()) as f64 * cut_frac) as usize;
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(cut as u64).unwrap();
        let got = replay(dir.path()).unwrap();
        let complete = ends.iter().filter(|e| **e <= cut).count();
        prop_assert_eq!(got.len(), complete);
        for (i, r) in got.iter().enumerate() {
            prop_assert_eq!(r.seq, 1 + i as u64);
            prop_assert_eq!(&r.payload, &payloads[i]);
        }
        // the torn tail is cut off, so a second recovery reads the same
        prop_assert_eq!(replay(dir.path()).unwrap(), got);
    }

    /// A corrupt byte in the final record (a torn write) loses only that record.
    #[test]
    fn torn_final_record_is_dropped(payloads in payloads().prop_filter("need a record", |p| !p.is_empty()), pos in any::<prop::sample::Index>()) {
        let dir = tempfile::tempdir().unwrap();
        let (path, ends) = write_segment(dir.path(), 1, &payloads);
        let mut bytes = std::fs::read(&path).unwrap();
        let start = if ends.len() > 1 { ends[ends.len() - 2] } else { SEGMENT_TAG.len() };
        let i = start + pos.index(bytes.len() - start);
        bytes[i] ^= 0x5a;
        std::fs::write(&path, &bytes).unwrap();
        let got = replay(dir.path()).unwrap();
        prop_assert_eq!(got.len(), payloads.len() - 1);
        for (r, p) in got.iter().zip(&payloads) {
            prop_assert_eq!(&r.payload, p);
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20))]

    /// The real writer, rotating tiny segments: everything appended replays in order.
    #[test]
    fn writer_output_replays_in_order_across_segments(payloads in payloads()) {
        let dir = tempfile::tempdir().unwrap();
        let buffer = Arc::new(HotBuffer::new(0));
        let config = WalConfig { segment_bytes: 256, ..WalConfig::new(dir.path().to_path_buf()) };
        let writer = WalWriter::start(config, 1, Arc::clone(&buffer), Arc::new(Metrics::default())).unwrap();
        let rt = runtime();
        let seqs: Vec<u64> = payloads.iter().map(|p| rt.block_on(writer.append(p.clone(), Vec::new())).unwrap()).collect();
        writer.close();
        prop_assert_eq!(seqs, (1..=payloads.len() as u64).collect::<Vec<_>>());
        let got = replay(dir.path()).unwrap();
        prop_assert_eq!(got.iter().map(|r| r.payload.clone()).collect::<Vec<_>>(), payloads);
        // acknowledged rows reached the buffer in order
        prop_assert_eq!(buffer.pending().iter().map(|e| e.seq).collect::<Vec<_>>(), (1..=got.len() as u64).collect::<Vec<_>>());
    }
}

#[test]
fn concurrent_appends_share_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let metrics = Arc::new(Metrics::default());
    let writer = Arc::new(
        WalWriter::start(
            WalConfig::new(dir.path().to_path_buf()),
            1,
            Arc::new(HotBuffer::new(0)),
            Arc::clone(&metrics),
        )
        .unwrap(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let tasks: Vec<_> = (0..2000)
            .map(|i| {
                let w = Arc::clone(&writer);
                tokio::spawn(async move { w.append(vec![i as u8; 64], Vec::new()).await.unwrap() })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    writer.close();
    assert_eq!(replay(dir.path()).unwrap().len(), 2000);
    // 2000 appends in flight at once on 2 threads: group commit must put many
    // into each fsync, not merely fewer than one each
    let fsyncs = metrics.totals().wal_fsyncs;
    assert!(
        fsyncs > 0 && 2000 / fsyncs >= 10,
        "group commit: {fsyncs} fsyncs for 2000 appends (want ≥ 10 appends per fsync)"
    );
}

fn quarantined(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("quarantine"))
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn a_segment_with_a_wrong_tag_is_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(segment_path(dir.path(), 1), b"NOTAWAL0rest").unwrap();
    write_segment(dir.path(), 4, &[b"d".to_vec()]);
    let seqs: Vec<u64> = replay(dir.path()).unwrap().iter().map(|r| r.seq).collect();
    assert_eq!(seqs, vec![4]);
    assert_eq!(quarantined(dir.path()), vec![format!("{:020}.wal", 1)]);
    assert!(!segment_path(dir.path(), 1).exists());
}

#[test]
fn corruption_before_the_last_segment_quarantines_that_segment_only() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = write_segment(dir.path(), 1, &[b"a".to_vec(), b"b".to_vec()]);
    write_segment(dir.path(), 3, &[b"c".to_vec()]);
    let mut bytes = std::fs::read(&first).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&first, &bytes).unwrap();
    let got: Vec<(u64, Vec<u8>)> = replay(dir.path())
        .unwrap()
        .into_iter()
        .map(|r| (r.seq, r.payload))
        .collect();
    // the record before the damage, then the next segment
    assert_eq!(got, vec![(1, b"a".to_vec()), (3, b"c".to_vec())]);
    assert_eq!(quarantined(dir.path()), vec![format!("{:020}.wal", 1)]);
    assert_eq!(
        std::fs::read(dir.path().join("quarantine").join(format!("{:020}.wal", 1))).unwrap(),
        bytes
    );
}

#[test]
fn damage_in_the_middle_of_the_last_segment_is_kept_aside_not_taken_for_a_torn_tail() {
    let dir = tempfile::tempdir().unwrap();
    let (path, ends) = write_segment(
        dir.path(),
        1,
        &[b"aaaa".to_vec(), b"bbbb".to_vec(), b"cccc".to_vec()],
    );
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[ends[0] + 17] ^= 1; // inside record 2's payload; record 3 is intact
    std::fs::write(&path, &bytes).unwrap();
    let seqs: Vec<u64> = replay(dir.path()).unwrap().iter().map(|r| r.seq).collect();
    assert_eq!(seqs, vec![1]);
    // the whole damaged segment is in the quarantine; the live one is cut at the damage
    assert_eq!(quarantined(dir.path()), vec![format!("{:020}.wal.copy", 1)]);
    assert_eq!(
        std::fs::read(
            dir.path()
                .join("quarantine")
                .join(format!("{:020}.wal.copy", 1))
        )
        .unwrap(),
        bytes
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), ends[0] as u64);
    // a plain torn tail is cut without a copy
    let dir = tempfile::tempdir().unwrap();
    let (path, ends) = write_segment(dir.path(), 1, &[b"aaaa".to_vec(), b"bbbb".to_vec()]);
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..ends[1] - 2]).unwrap();
    assert_eq!(replay(dir.path()).unwrap().len(), 1);
    assert!(quarantined(dir.path()).is_empty());
}

#[test]
fn a_sequence_gap_stops_recovery() {
    let dir = tempfile::tempdir().unwrap();
    write_segment(dir.path(), 1, &[b"a".to_vec()]);
    write_segment(dir.path(), 5, &[b"e".to_vec()]);
    assert!(matches!(
        replay(dir.path()),
        Err(WalError::SequenceGap {
            expected: 2,
            found: 5,
            ..
        })
    ));
}

#[test]
fn a_segment_with_a_torn_tag_is_removed() {
    let dir = tempfile::tempdir().unwrap();
    write_segment(dir.path(), 1, &[b"a".to_vec()]);
    std::fs::write(segment_path(dir.path(), 2), b"VIG").unwrap();
    let got = replay(dir.path()).unwrap();
    assert_eq!(got.len(), 1);
    assert!(!segment_path(dir.path(), 2).exists());
}
