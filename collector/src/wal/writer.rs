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
            failed: None,
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
    /// After an I/O error nothing more is acknowledged: what is on disk is unknown.
    failed: Option<Arc<WalError>>,
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
        if let Some(e) = &self.failed {
            for a in group.drain(..) {
                let _ = a.done.send(Err(Arc::clone(e)));
            }
            return;
        }
        bytes.clear();
        let first = self.next_seq;
        for (i, a) in group.iter().enumerate() {
            encode_record(first + i as u64, &a.payload, bytes);
        }
        let result = self.write_and_sync(bytes);
        match result {
            Ok(()) => {
                self.metrics.wal_fsyncs.inc();
                self.metrics.wal_bytes.inc_by(bytes.len() as u64);
                self.next_seq += group.len() as u64;
                for (i, a) in group.drain(..).enumerate() {
                    let seq = first + i as u64;
                    self.buffer.push(seq, a.rows);
                    let _ = a.done.send(Ok(seq));
                }
                if self.segment.bytes >= self.config.segment_bytes
                    && let Err(e) = self.rotate()
                {
                    self.fail(e);
                }
            }
            Err(e) => {
                let e = self.fail(e);
                for a in group.drain(..) {
                    let _ = a.done.send(Err(Arc::clone(&e)));
                }
            }
        }
    }

    fn fail(&mut self, e: WalError) -> Arc<WalError> {
        tracing::error!(error = %e, "WAL write failed; intake stops acknowledging");
        let e = Arc::new(e);
        self.failed = Some(Arc::clone(&e));
        e
    }

    fn write_and_sync(&mut self, bytes: &[u8]) -> Result<(), WalError> {
        self.segment.file.write_all(bytes)?;
        self.segment.file.sync_data()?;
        self.segment.bytes += bytes.len() as u64;
        Ok(())
    }

    fn rotate(&mut self) -> Result<(), WalError> {
        self.segment = Segment::open(&self.config.dir, self.next_seq)?;
        Ok(())
    }
}
