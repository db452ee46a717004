//! The WAL writer thread: group commit, then hand-off to the hot buffer.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;

use arrow::record_batch::RecordBatch;
use parking_lot::Mutex;
use tokio::sync::oneshot;

use super::format::{SEGMENT_TAG, WalError, encode_record};
use super::{fsync_dir, segment_path};
use crate::buffer::HotBuffer;
use crate::metrics::Metrics;

#[derive(Debug, Clone)]
pub struct WalConfig {
    pub dir: PathBuf,
    /// Start a new segment once the current one is this large.
    pub segment_bytes: u64,
    /// Requests that may wait for the writer at once; more is `Full` (retryable).
    pub queue_len: usize,
    /// Most bytes written between two fsyncs.
    pub max_group_bytes: usize,
}

impl WalConfig {
    pub fn new(dir: PathBuf) -> Self {
        WalConfig {
            dir,
            segment_bytes: 64 * 1024 * 1024,
            queue_len: 4096,
            max_group_bytes: 16 * 1024 * 1024,
        }
    }
}

/// Rows of one request, by table, waiting for their sequence number.
pub type TableBatches = Vec<(&'static str, RecordBatch)>;

struct Append {
    payload: Vec<u8>,
    rows: TableBatches,
    done: oneshot::Sender<Result<u64, Arc<WalError>>>,
}

/// Handle to the writer thread. Dropping every handle stops the thread after it
/// has written and synced everything already queued.
pub struct WalWriter {
    tx: Mutex<Option<SyncSender<Append>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl WalWriter {
    /// Starts the writer with a fresh segment beginning at `next_seq`.
    pub fn start(
        config: WalConfig,
        next_seq: u64,
        buffer: Arc<HotBuffer>,
        metrics: Arc<Metrics>,
    ) -> Result<Self, WalError> {
        std::fs::create_dir_all(&config.dir)?;
        let segment = Segment::open(&config.dir, next_seq)?;
        let (tx, rx) = sync_channel(config.queue_len);
        let mut state = WriterState {
            config,
            segment,
            next_seq,
            buffer,
            metrics,
            torn: false,
            failed_groups: 0,
        };
        let thread = std::thread::Builder::new()
            .name("vigil-wal".into())
            .spawn(move || state.run(rx))?;
        Ok(WalWriter {
            tx: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Appends `payload`; resolves once it is fsync'd and `rows` are in the hot
    /// buffer, with the record's sequence number.
    pub async fn append(&self, payload: Vec<u8>, rows: TableBatches) -> Result<u64, Arc<WalError>> {
        let (done, wait) = oneshot::channel();
        let tx = self
            .tx
            .lock()
            .clone()
            .ok_or_else(|| Arc::new(WalError::Closed))?;
        match tx.try_send(Append {
            payload,
            rows,
            done,
        }) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => return Err(Arc::new(WalError::Full)),
            Err(TrySendError::Disconnected(_)) => return Err(Arc::new(WalError::Closed)),
        }
        wait.await.map_err(|_| Arc::new(WalError::Closed))?
    }

    /// Stops accepting, waits for queued appends to be synced, joins the thread.
    pub fn close(&self) {
        self.tx.lock().take();
        let thread = self.thread.lock().take();
        if let Some(t) = thread
            && t.join().is_err()
        {
            tracing::error!("WAL writer thread panicked");
        }
    }
}

impl Drop for WalWriter {
    fn drop(&mut self) {
        self.close();
    }
}

struct Segment {
    file: File,
    bytes: u64,
}

impl Segment {
    /// Opens the segment whose first record will be `first_seq`. A stop or crash
    /// before anything was appended leaves that file behind (just the tag, or
    /// part of it); it holds nothing, so it is reused rather than refused.
    fn open(dir: &Path, first_seq: u64) -> Result<Self, WalError> {
        let path = segment_path(dir, first_seq);
        let mut file = match OpenOptions::new().create_new(true).write(true).open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let mut f = OpenOptions::new().read(true).write(true).open(&path)?;
                let mut head = Vec::new();
                (&mut f)
                    .take(SEGMENT_TAG.len() as u64 + 1)
                    .read_to_end(&mut head)?;
                let shown = path.display().to_string();
                if head.len() > SEGMENT_TAG.len() {
                    return Err(WalError::SegmentNotEmpty { path: shown });
                }
                if !SEGMENT_TAG.starts_with(&head) {
                    return Err(WalError::WrongTag {
                        path: shown,
                        found: head,
                    });
                }
                tracing::info!(segment = %shown, "reusing an empty WAL segment");
                f.set_len(0)?;
                f.seek(std::io::SeekFrom::Start(0))?;
                f
            }
            Err(e) => return Err(e.into()),
        };
        file.write_all(SEGMENT_TAG)?;
        file.sync_all()?;
        fsync_dir(dir)?;
        Ok(Segment {
            file,
            bytes: SEGMENT_TAG.len() as u64,
        })
    }
}

struct WriterState {
    config: WalConfig,
    segment: Segment,
    next_seq: u64,
    buffer: Arc<HotBuffer>,
    metrics: Arc<Metrics>,
    /// A write or sync failed (a full disk, say): the active segment may hold
    /// part of a group nobody was told is stored. Until it is cut back to
    /// `segment.bytes` (the end of the last synced group), nothing is written.
    torn: bool,
    /// Groups refused since the last successful write: the first is logged as a
    /// warning, the rest (a full disk refuses every request) at debug level.
    failed_groups: u64,
}

impl WriterState {
    fn run(&mut self, rx: Receiver<Append>) {
        let mut group: Vec<Append> = Vec::new();
        let mut bytes: Vec<u8> = Vec::new();
        while let Ok(first) = rx.recv() {
            group.push(first);
            // Let the producers run once before syncing: on a busy core the appends
            // that arrive meanwhile share this fsync instead of each paying for one.
            std::thread::yield_now();
            let mut size = group[0].payload.len();
            while size < self.config.max_group_bytes {
                match rx.try_recv() {
                    Ok(a) => {
                        size += a.payload.len();
                        group.push(a);
                    }
                    Err(_) => break,
                }
            }
            self.commit(&mut group, &mut bytes);
        }
    }

    fn commit(&mut self, group: &mut Vec<Append>, bytes: &mut Vec<u8>) {
        if self.torn
            && let Err(e) = self.repair()
        {
            let e = Arc::new(WalError::Unwritable(e));
            for a in group.drain(..) {
                let _ = a.done.send(Err(Arc::clone(&e)));
            }
            return;
        }
        bytes.clear();
        let first = self.next_seq;
        for (i, a) in group.iter().enumerate() {
            encode_record(first + i as u64, &a.payload, bytes);
        }
        match self.write_and_sync(bytes) {
            Ok(()) => {
                if self.failed_groups > 0 {
                    tracing::info!(refused = self.failed_groups, "WAL writes succeed again");
                    self.failed_groups = 0;
                }
                self.metrics.wal_fsyncs.inc();
                self.metrics.wal_bytes.inc_by(bytes.len() as u64);
                self.next_seq += group.len() as u64;
                for (i, a) in group.drain(..).enumerate() {
                    let seq = first + i as u64;
                    self.buffer.push(seq, a.rows);
                    let _ = a.done.send(Ok(seq));
                }
                if self.segment.bytes >= self.config.segment_bytes {
                    self.rotate();
                }
            }
            Err(e) => {
                // Nobody in this group is acknowledged, and the same sequence
                // numbers go to the next group, so the partial bytes must go:
                // cut the segment back now (that needs no free space) and, if
                // even that fails, before the next write.
                self.metrics.wal_write_errors.inc();
                if self.failed_groups == 0 {
                    tracing::warn!(error = %e, "WAL write failed; answering retry-later until writes succeed again");
                } else {
                    tracing::debug!(error = %e, records = group.len(), "WAL write failed");
                }
                self.failed_groups += 1;
                self.torn = true;
                if let Err(e) = self.repair() {
                    tracing::error!(error = %e, "could not cut the WAL segment back after a failed write; retrying before the next write");
                }
                let e = Arc::new(WalError::Unwritable(e));
                for a in group.drain(..) {
                    let _ = a.done.send(Err(Arc::clone(&e)));
                }
            }
        }
    }

    /// Cuts the active segment back to the end of its last synced group.
    fn repair(&mut self) -> std::io::Result<()> {
        let end = self.segment.bytes;
        self.segment.file.set_len(end)?;
        self.segment.file.seek(std::io::SeekFrom::Start(end))?;
        self.segment.file.sync_all()?;
        self.torn = false;
        tracing::debug!(
            bytes = end,
            "WAL segment cut back to its last synced record"
        );
        Ok(())
    }

    fn write_and_sync(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.segment.file.write_all(bytes)?;
        self.segment.file.sync_data()?;
        self.segment.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Starts the next segment. If that fails (no space for the new file), the
    /// current one stays active and grows past its size; the next group tries again.
    fn rotate(&mut self) {
        match Segment::open(&self.config.dir, self.next_seq) {
            Ok(segment) => self.segment = segment,
            Err(e) => {
                self.metrics.wal_write_errors.inc();
                tracing::warn!(error = %e, "could not start a new WAL segment; writing on in the current one");
                // a half-made file would sit between this segment's records on replay
                let path = segment_path(&self.config.dir, self.next_seq);
                if let Err(rm) = std::fs::remove_file(&path)
                    && rm.kind() != std::io::ErrorKind::NotFound
                {
                    tracing::error!(segment = %path.display(), error = %rm, "could not remove a half-made WAL segment");
                }
            }
        }
    }
}
