//! On-disk format of WAL segments and records.

use std::io;

/// Segment tag: magic and format version in one 8-byte value.
pub const SEGMENT_TAG: &[u8; 8] = b"VIGWAL01";
/// `len u32 | crc32c u32 | seq u64`.
pub const RECORD_HEADER_LEN: usize = 16;
/// Refuse records larger than this on read, so a corrupt length cannot ask for gigabytes.
pub const MAX_RECORD_LEN: usize = 256 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum WalError {
    #[error("WAL I/O: {0}")]
    Io(#[from] io::Error),
    #[error("WAL segment {path} has tag {found:?}, expected {SEGMENT_TAG:?}")]
    WrongTag { path: String, found: Vec<u8> },
    #[error("WAL segment {path}: bad record at byte {offset}: {reason}")]
    Corrupt {
        path: String,
        offset: u64,
        reason: &'static str,
    },
    #[error("WAL sequence gap: expected {expected}, found {found} in {path}")]
    SequenceGap {
        path: String,
        expected: u64,
        found: u64,
    },
    #[error("WAL payload: {0}")]
    BadPayload(&'static str),
    #[error(
        "WAL segment {path}: the record at byte {offset} passed its checksum but cannot be replayed: {reason}"
    )]
    Unreplayable {
        path: String,
        offset: u64,
        reason: String,
    },
    #[error("WAL segment {path} already holds records beyond the replayed end")]
    SegmentNotEmpty { path: String },
    #[error("the WAL writer has stopped")]
    Closed,
    /// Writing or syncing failed (a full disk, an I/O error); nothing of the
    /// request was acknowledged and the writer goes on with the next one.
    #[error("storage cannot be written right now ({}); nothing was acknowledged, retry later", .0.kind())]
    Unwritable(io::Error),
    #[error("the WAL is full; retry later")]
    Full,
}

/// Appends one framed record to `out`.
pub fn encode_record(seq: u64, payload: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(payload.len()).expect("WAL record over 4 GiB");
    let mut crc = crc32c::crc32c(&seq.to_le_bytes());
    crc = crc32c::crc32c_append(crc, payload);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(payload);
}

/// Result of decoding the record at the start of `buf`.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded<'a> {
    Record {
        seq: u64,
        payload: &'a [u8],
        len: usize,
    },
    /// The buffer ends inside the record (a torn write, if at the end of a file).
    Incomplete,
    Corrupt(&'static str),
}

pub fn decode_record(buf: &[u8]) -> Decoded<'_> {
    if buf.len() < RECORD_HEADER_LEN {
        return Decoded::Incomplete;
    }
    let len = u32::from_le_bytes(buf[0..4].try_into().expect("4 bytes")) as usize;
    let crc = u32::from_le_bytes(buf[4..8].try_into().expect("4 bytes"));
    let seq_bytes: [u8; 8] = buf[8..16].try_into().expect("8 bytes");
    if len > MAX_RECORD_LEN {
        return Decoded::Corrupt("length over the record limit");
    }
    let Some(payload) = buf.get(RECORD_HEADER_LEN..RECORD_HEADER_LEN + len) else {
        return Decoded::Incomplete;
    };
    let actual = crc32c::crc32c_append(crc32c::crc32c(&seq_bytes), payload);
    if actual != crc {
        return Decoded::Corrupt("checksum mismatch");
    }
    Decoded::Record {
        seq: u64::from_le_bytes(seq_bytes),
        payload,
        len: RECORD_HEADER_LEN + len,
    }
}

/// Which OTLP signal a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Signal {
    Traces = 1,
    Logs = 2,
    Metrics = 3,
}

impl Signal {
    pub fn from_u8(v: u8) -> Option<Self> {
        match v {
            1 => Some(Signal::Traces),
            2 => Some(Signal::Logs),
            3 => Some(Signal::Metrics),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Signal::Traces => "traces",
            Signal::Logs => "logs",
            Signal::Metrics => "metrics",
        }
    }
    /// The OTLP/HTTP path its export is sent to.
    pub fn otlp_http_path(self) -> &'static str {
        match self {
            Signal::Traces => "/v1/traces",
            Signal::Logs => "/v1/logs",
            Signal::Metrics => "/v1/metrics",
        }
    }
    /// The signal of an OTLP/HTTP export path (a recorded request's `path`).
    pub fn from_otlp_http_path(path: &str) -> Option<Self> {
        [Signal::Traces, Signal::Logs, Signal::Metrics]
            .into_iter()
            .find(|s| s.otlp_http_path() == path)
    }
}

/// The first byte of a record that carries rows of a derived table (see
/// [`RowsPayload`]); export requests start with their [`Signal`].
pub const ROWS_TAG: u8 = 0x10;

/// What a WAL record carries: an export request ([`Payload`]) or rows Vigil
/// derived itself ([`RowsPayload`]: detection passes).
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Export(Payload),
    Rows(RowsPayload),
}

impl Record {
    pub fn decode(bytes: &[u8]) -> Result<Self, WalError> {
        match bytes.first() {
            Some(&ROWS_TAG) => RowsPayload::decode(bytes).map(Record::Rows),
            _ => Payload::decode(bytes).map(Record::Export),
        }
    }
}

/// Rows of one derived table (`findings`), as one Arrow IPC stream: the rows
/// the detector wrote are replayed as they were, not recomputed.
#[derive(Debug, Clone, PartialEq)]
pub struct RowsPayload {
    pub table: String,
    /// An Arrow IPC stream with one batch.
    pub ipc: Vec<u8>,
}

impl RowsPayload {
    pub fn encode(&self) -> Vec<u8> {
        let name = self.table.as_bytes();
        let len = u8::try_from(name.len()).expect("table names are short");
        let mut out = Vec::with_capacity(2 + name.len() + self.ipc.len());
        out.push(ROWS_TAG);
        out.push(len);
        out.extend_from_slice(name);
        out.extend_from_slice(&self.ipc);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, WalError> {
        let (&tag, rest) = bytes.split_first().ok_or(WalError::BadPayload("empty"))?;
        if tag != ROWS_TAG {
            return Err(WalError::BadPayload("not a rows record"));
        }
        let (&len, rest) = rest
            .split_first()
            .ok_or(WalError::BadPayload("rows record without a table name"))?;
        let len = usize::from(len);
        if rest.len() < len {
            return Err(WalError::BadPayload(
                "rows record shorter than its table name",
            ));
        }
        let table = std::str::from_utf8(&rest[..len])
            .map_err(|_| WalError::BadPayload("table name is not UTF-8"))?;
        Ok(RowsPayload {
            table: table.to_string(),
            ipc: rest[len..].to_vec(),
        })
    }
}

/// What a WAL record carries: the (redacted) export request in protobuf, its
/// signal and the time it was received (used for records that have no time).
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    pub signal: Signal,
    pub ingest_ns: i64,
    pub proto: Vec<u8>,
}

impl Payload {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(9 + self.proto.len());
        out.push(self.signal as u8);
        out.extend_from_slice(&self.ingest_ns.to_le_bytes());
        out.extend_from_slice(&self.proto);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, WalError> {
        if bytes.len() < 9 {
            return Err(WalError::BadPayload("shorter than its header"));
        }
        let signal = Signal::from_u8(bytes[0]).ok_or(WalError::BadPayload("unknown signal"))?;
        let ingest_ns = i64::from_le_bytes(bytes[1..9].try_into().expect("8 bytes"));
        Ok(Payload {
            signal,
            ingest_ns,
            proto: bytes[9..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trip() {
        let mut buf = Vec::new();
        encode_record(7, b"hello", &mut buf);
        assert_eq!(
            decode_record(&buf),
            Decoded::Record {
                seq: 7,
                payload: b"hello",
                len: buf.len()
            }
        );
    }

    #[test]
    fn short_buffer_is_incomplete_and_flipped_bit_is_corrupt() {
        let mut buf = Vec::new();
        encode_record(1, b"payload", &mut buf);
        for cut in 0..buf.len() {
            assert_eq!(
                decode_record(&buf[..cut]),
                Decoded::Incomplete,
                "cut at {cut}"
            );
        }
        let mut bad = buf.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(decode_record(&bad), Decoded::Corrupt("checksum mismatch"));
        let mut bad_seq = buf.clone();
        bad_seq[9] ^= 1;
        assert_eq!(
            decode_record(&bad_seq),
            Decoded::Corrupt("checksum mismatch")
        );
    }

    #[test]
    fn absurd_length_is_corrupt_not_an_allocation() {
        let mut buf = vec![0xff, 0xff, 0xff, 0x7f];
        buf.extend_from_slice(&[0; 12]);
        assert_eq!(
            decode_record(&buf),
            Decoded::Corrupt("length over the record limit")
        );
    }

    #[test]
    fn payload_round_trip() {
        let p = Payload {
            signal: Signal::Logs,
            ingest_ns: -5,
            proto: vec![1, 2, 3],
        };
        assert_eq!(Payload::decode(&p.encode()).unwrap(), p);
        assert!(Payload::decode(&[9; 10]).is_err());
        assert_eq!(Record::decode(&p.encode()).unwrap(), Record::Export(p));
    }

    #[test]
    fn rows_payload_round_trip_and_truncation() {
        let r = RowsPayload {
            table: "findings".into(),
            ipc: vec![7, 8, 9],
        };
        let bytes = r.encode();
        assert_eq!(Record::decode(&bytes).unwrap(), Record::Rows(r));
        assert!(RowsPayload::decode(&bytes[..5]).is_err());
        assert!(RowsPayload::decode(&[ROWS_TAG]).is_err());
        assert!(RowsPayload::decode(&[ROWS_TAG, 2, 0xff, 0xfe]).is_err());
    }
}
