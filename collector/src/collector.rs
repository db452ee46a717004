//! The collector facade: open (replay), the one ingest path, flushing, shutdown.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use arrow::record_batch::RecordBatch;
use schemas::{SharedClock, StoreState};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::buffer::HotBuffer;
use crate::compact::{CompactionConfig, Removals, compact_round};
use crate::error::Error;
use crate::flush::{Coverage, FlushStats, flush};
use crate::metrics::Metrics;
use crate::receiver::body::{Encoding, decode_request, price_request};
use crate::request::ExportRequest;
use crate::validate::retain_valid;
use crate::wal::Signal;
use crate::wal::writer::TableBatches;
use crate::wal::{self, Payload, Record, RowsPayload, WalConfig, WalWriter, read_wal};

#[derive(Debug, Clone)]
pub struct CollectorConfig {
    pub data_dir: PathBuf,
    /// Largest request body accepted, after decompression.
    pub max_body_bytes: usize,
    /// The memory intake may use: requests being decoded and written, the
    /// unflushed rows and the copies a flush makes of them (see
    /// [`Self::request_memory_limit`], [`Self::hot_rows_limit`]). Queries have
    /// their own limit.
    pub memory_limit: usize,
    /// Unflushed rows beyond which intake answers "retry later", instead of
    /// the memory limit's share (tests and tuning).
    pub max_buffer_bytes: Option<usize>,
    /// Flush rows to Parquet at least this often.
    pub flush_interval: Duration,
    /// ... or as soon as this many rows are pending.
    pub flush_rows: usize,
    pub wal_segment_bytes: u64,
    /// Requests being received and decoded at once; more are refused as
    /// overloaded, so bodies waiting for the CPU cannot pile up in memory.
    pub max_inflight_requests: usize,
    /// Secret redaction applied before the WAL; `None` stores what was sent.
    pub redactor: Option<Arc<schemas::redact::Redactor>>,
}

impl CollectorConfig {
    pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
    pub const DEFAULT_MEMORY_LIMIT: usize = 256 * 1024 * 1024;
    pub const DEFAULT_MAX_INFLIGHT_REQUESTS: usize = 64;
    pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(10);

    /// The defaults, storing under `data_dir`.
    pub fn new(data_dir: PathBuf) -> Self {
        CollectorConfig {
            data_dir,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
            memory_limit: Self::DEFAULT_MEMORY_LIMIT,
            max_buffer_bytes: None,
            flush_interval: Self::DEFAULT_FLUSH_INTERVAL,
            flush_rows: 500_000,
            wal_segment_bytes: 64 * 1024 * 1024,
            max_inflight_requests: Self::DEFAULT_MAX_INFLIGHT_REQUESTS,
            redactor: Some(Arc::new(schemas::redact::Redactor::with_defaults())),
        }
    }
    /// How much memory one request may take decoded, estimated from its bytes
    /// before decoding: 16× the body limit. Real telemetry decodes to about
    /// 5× its size; a body of empty records to 100×.
    pub fn max_decoded_bytes(&self) -> usize {
        self.max_body_bytes.saturating_mul(16)
    }

    /// The memory budget, one place. Intake accounts for two things and refuses
    /// ("retry later") before either crosses its share: requests being decoded
    /// and written (a quarter: each reserves its price before it is decoded)
    /// and unflushed rows (a quarter). A flush copies the rows it writes, at
    /// most twice over: the other half.
    pub fn request_memory_limit(&self) -> usize {
        self.memory_limit / 4
    }
    /// Unflushed rows intake may hold (see [`Self::request_memory_limit`]).
    pub fn hot_rows_limit(&self) -> usize {
        self.max_buffer_bytes.unwrap_or(self.memory_limit / 4)
    }
    /// Unflushed rows that start a flush: half their limit, so intake goes on
    /// while the flush writes.
    pub fn flush_at_bytes(&self) -> usize {
        self.hot_rows_limit() / 2
    }
    /// What a request reserves while it is decoded and written: its priced
    /// decoded size (the body included), its WAL payload (the body again) and
    /// its rows: Arrow rows of the raw table and `agent_events` took 5.7× the
    /// protobuf in `vigil bench ingest` (2.9 KB per 508-byte Codex record).
    fn request_price(decoded_bytes: usize, wire_bytes: usize) -> usize {
        decoded_bytes.saturating_add(wire_bytes.saturating_mul(7))
    }

    fn wal_dir(&self) -> PathBuf {
        schemas::layout::wal_dir(&self.data_dir)
    }
}

/// A request's reservation of the memory limit, returned when dropped.
#[derive(Debug)]
pub(crate) struct RequestMemory {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// What happened to one export request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportOutcome {
    pub accepted: usize,
    pub rejected: usize,
    pub message: Option<String>,
    /// WAL sequence number, if anything was written.
    pub seq: Option<u64>,
}

/// What start-up found.
#[derive(Debug, Clone, Default)]
pub struct OpenSummary {
    pub replayed_records: u64,
    pub truncated_bytes: u64,
    /// Files start-up could not read and moved (or copied) to the quarantine:
    /// `(where they are now, why)`.
    pub quarantined: Vec<(String, String)>,
    pub flushed: FlushStats,
}

pub struct Collector {
    config: CollectorConfig,
    clock: SharedClock,
    buffer: Arc<HotBuffer>,
    wal: WalWriter,
    metrics: Arc<Metrics>,
    accepting: AtomicBool,
    /// Serializes flushes (the background task, `flush_now` and shutdown).
    flush_lock: tokio::sync::Mutex<()>,
    /// Admission for requests in flight (see `max_inflight_requests`).
    inflight: Arc<tokio::sync::Semaphore>,
    /// The requests' share of the memory limit, in KiB permits.
    request_memory: Arc<tokio::sync::Semaphore>,
    /// Exclusive lock on `data_dir/LOCK`: one writer per data directory.
    _lock: std::fs::File,
}

impl Collector {
    /// Opens the store under `config.data_dir`: replays the WAL so every
    /// acknowledged record is in Parquet exactly once, then starts the WAL writer.
    pub fn open(
        config: CollectorConfig,
        clock: SharedClock,
    ) -> Result<(Arc<Self>, OpenSummary), Error> {
        let wal_dir = config.wal_dir();
        std::fs::create_dir_all(&wal_dir)?;
        // the lock file of a process that died is released by the kernel with it
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(config.data_dir.join(schemas::layout::LOCK_FILE))?;
        if lock.try_lock().is_err() {
            return Err(Error::Locked(config.data_dir.display().to_string()));
        }
        std::fs::create_dir_all(schemas::layout::tables_dir(&config.data_dir))?;
        // a `vigil reindex` that crashed: one whole agent_events before anything reads it
        if let Some(did) =
            schemas::layout::recover_table_swap(&config.data_dir, schemas::tables::AGENT_EVENTS)?
        {
            tracing::warn!(table = schemas::tables::AGENT_EVENTS, "{did}");
        }
        let metrics = Arc::new(Metrics::default());
        // before coverage: the WAL records an unreadable file covered, if the WAL
        // still has them, are then replayed into a new one
        let mut quarantined: Vec<(String, String)> =
            crate::integrity::quarantine_unreadable_parquet(&config.data_dir)?
                .into_iter()
                .map(|(p, why)| (p.display().to_string(), why))
                .collect();
        let coverage = Coverage::scan(&config.data_dir)?;
        let buffer = Arc::new(HotBuffer::new(0));
        // A record whose checksum matched but that cannot be applied stops start-up
        // (docs/architecture.md, "Torn tails"): it is not a torn write, and skipping
        // it would drop acknowledged data without anyone noticing.
        let replay = read_wal(&wal_dir, &config.data_dir, coverage.max_seq() + 1, |rec| {
            let rows = replayed_rows(&rec.payload)?;
            let mut kept = Vec::new();
            for (table, batch) in rows {
                if let Some(b) = coverage
                    .filter_uncovered(table, rec.seq, batch)
                    .map_err(|e| format!("coverage: {e}"))?
                {
                    kept.push((table, b));
                }
            }
            buffer.push(rec.seq, kept);
            Ok(())
        })?;
        let next_seq = replay.next_seq.max(coverage.max_seq() + 1).max(1);
        // Flush what replay recovered before accepting anything, so that no
        // partial-flush file holds rows above `flushed_upto` (see StoreSnapshot).
        let flushed = flush(&config.data_dir, &buffer, &metrics)?;
        buffer.commit_flushed(next_seq - 1, Vec::new());
        // what readers see from now on: every file on disk, kept up to date by each flush
        let mut files = std::collections::HashMap::new();
        for table in schemas::tables::ALL_TABLES {
            files.insert(
                table,
                schemas::layout::list_table(&config.data_dir, table)?.files,
            );
        }
        buffer.set_files(files);
        let wal_config = WalConfig {
            segment_bytes: config.wal_segment_bytes,
            ..WalConfig::new(wal_dir.clone())
        };
        let writer = WalWriter::start(
            wal_config,
            next_seq,
            Arc::clone(&buffer),
            Arc::clone(&metrics),
        )?;
        wal::trim(&wal_dir, next_seq - 1)?;
        if replay.records > 0 || replay.truncated_bytes > 0 {
            tracing::info!(
                records = replay.records,
                truncated_bytes = replay.truncated_bytes,
                flushed = ?flushed,
                "WAL replayed"
            );
        }
        quarantined.extend(replay.quarantined);
        metrics.quarantined_files.inc_by(quarantined.len() as u64);
        let summary = OpenSummary {
            replayed_records: replay.records,
            truncated_bytes: replay.truncated_bytes,
            quarantined,
            flushed,
        };
        let inflight = Arc::new(tokio::sync::Semaphore::new(
            config.max_inflight_requests.max(1),
        ));
        let request_memory = Arc::new(tokio::sync::Semaphore::new(
            config.request_memory_limit() / 1024,
        ));
        let collector = Collector {
            inflight,
            request_memory,
            config,
            clock,
            buffer,
            wal: writer,
            metrics,
            accepting: AtomicBool::new(true),
            flush_lock: tokio::sync::Mutex::new(()),
            _lock: lock,
        };
        Ok((Arc::new(collector), summary))
    }

    pub fn config(&self) -> &CollectorConfig {
        &self.config
    }
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
    /// What the store holds now, for readers (committed files and unflushed rows).
    pub fn store(&self) -> Arc<dyn StoreState> {
        Arc::clone(&self.buffer) as Arc<dyn StoreState>
    }
    /// A permit to receive one request, or `Overloaded` when too many are in
    /// flight. Receivers take it before reading the body and hold it until they answer.
    pub(crate) fn admit(&self) -> Result<tokio::sync::OwnedSemaphorePermit, Error> {
        Arc::clone(&self.inflight).try_acquire_owned().map_err(|_| {
            let e = Error::TooManyRequests {
                limit: self.config.max_inflight_requests,
            };
            self.count_error(&e);
            e
        })
    }

    /// Prices, reserves and decodes an untrusted request body: refused when
    /// its price is more than the requests' whole share of the memory limit
    /// (413, retrying cannot help) or more than is free now ("retry later").
    /// The reservation is to be held until the request is answered.
    pub(crate) fn decode(
        &self,
        signal: Signal,
        encoding: Encoding,
        bytes: &[u8],
    ) -> Result<(ExportRequest, RequestMemory), Error> {
        let decoded = price_request(signal, encoding, bytes, self.config.max_decoded_bytes())?;
        let price = CollectorConfig::request_price(decoded, bytes.len());
        let kib = u32::try_from(price.div_ceil(1024).max(1)).unwrap_or(u32::MAX);
        let limit = self.config.request_memory_limit();
        if kib as usize > limit / 1024 {
            return Err(Error::OverMemoryLimit { price, limit });
        }
        self.check_hot_rows()?;
        let permit = Arc::clone(&self.request_memory)
            .try_acquire_many_owned(kib)
            .map_err(|_| Error::Overloaded {
                what: "requests being decoded",
                bytes: self.accounted_memory().0,
                limit,
            })?;
        // the two shares together: rows below their own limit may still leave
        // no room for this request's price beside the other reservations
        let (reserved, hot) = self.accounted_memory();
        let shared = limit + self.config.hot_rows_limit();
        if reserved + hot > shared {
            return Err(Error::Overloaded {
                what: "requests and unflushed rows",
                bytes: reserved + hot,
                limit: shared,
            });
        }
        self.note_memory();
        Ok((
            decode_request(signal, encoding, bytes)?,
            RequestMemory { _permit: permit },
        ))
    }

    /// "Retry later" while unflushed rows are over their share.
    fn check_hot_rows(&self) -> Result<(), Error> {
        let (hot, limit) = (self.buffer.bytes(), self.config.hot_rows_limit());
        if hot > limit {
            return Err(Error::Overloaded {
                what: "unflushed rows",
                bytes: hot,
                limit,
            });
        }
        Ok(())
    }

    /// What intake accounts for now: reserved by requests, held by unflushed rows.
    fn accounted_memory(&self) -> (usize, usize) {
        let reserved = self.config.request_memory_limit() / 1024
            - self
                .request_memory
                .available_permits()
                .min(self.config.request_memory_limit() / 1024);
        (reserved * 1024, self.buffer.bytes())
    }

    /// Updates the accounted-memory gauges and their high-water mark, as a
    /// request is admitted (the moment the sum can grow by its price).
    fn note_memory(&self) {
        let (reserved, hot) = self.accounted_memory();
        self.metrics.request_memory_bytes.set(reserved as i64);
        let total = (reserved + hot) as i64;
        if total > self.metrics.intake_memory_peak_bytes.get() {
            self.metrics.intake_memory_peak_bytes.set(total);
        }
    }

    pub fn is_accepting(&self) -> bool {
        self.accepting.load(Ordering::SeqCst)
    }

    /// The one ingest path for every protocol: validate, make rows, append to the
    /// WAL (fsync'd, group-committed), and only then report success.
    pub async fn export(&self, req: ExportRequest) -> Result<ExportOutcome, Error> {
        self.export_with_encoding(req, None).await
    }

    /// As [`Self::export`], given the request's protobuf bytes as received: when
    /// validation and redaction change nothing they go to the WAL as they are,
    /// saving a re-encode.
    pub async fn export_with_encoding(
        &self,
        mut req: ExportRequest,
        proto: Option<Vec<u8>>,
    ) -> Result<ExportOutcome, Error> {
        let signal = req.signal().as_str();
        self.metrics.intake_requests.add(signal, 1);
        let result = self.export_inner(&mut req, proto).await;
        match &result {
            Ok(o) => {
                self.metrics.intake_records.add(signal, o.accepted as u64);
                self.metrics
                    .intake_rejected_records
                    .add(signal, o.rejected as u64);
            }
            Err(e) => self.count_error(e),
        }
        result
    }

    /// Counts a request that failed before or during ingest.
    pub(crate) fn count_error(&self, e: &Error) {
        self.metrics.intake_errors.add(e.status().label(), 1);
        if e.status().wire().server_fault {
            tracing::error!(error = %e, "intake failed");
        } else {
            tracing::debug!(error = %e, "request refused");
        }
    }

    async fn export_inner(
        &self,
        req: &mut ExportRequest,
        proto: Option<Vec<u8>>,
    ) -> Result<ExportOutcome, Error> {
        if !self.is_accepting() {
            return Err(Error::ShuttingDown);
        }
        self.check_hot_rows()?;
        let rejected = retain_valid(req);
        let mut changed = rejected.count > 0;
        if let Some(r) = &self.config.redactor {
            let n = req.redact(r);
            self.metrics.redacted_values.inc_by(n as u64);
            changed |= n > 0;
        }
        let accepted = req.record_count();
        if accepted == 0 {
            return Ok(ExportOutcome {
                accepted: 0,
                rejected: rejected.count,
                message: rejected.first_reason,
                seq: None,
            });
        }
        let ingest_ns = self.clock.now_ns();
        let rows = req.rows(ingest_ns)?;
        let proto = match proto {
            Some(bytes) if !changed => bytes,
            _ => req.encode_proto(),
        };
        let payload = Payload {
            signal: req.signal(),
            ingest_ns,
            proto,
        }
        .encode();
        let seq = self.wal.append(payload, rows).await?;
        Ok(ExportOutcome {
            accepted,
            rejected: rejected.count,
            message: rejected.first_reason,
            seq: Some(seq),
        })
    }

    /// Appends rows Vigil derived itself (a detection pass) to `table`, through
    /// the WAL like intake: durable when this returns, then visible to queries
    /// and flushed with everything else. Returns the record's sequence number.
    pub async fn append_rows(&self, table: &str, batch: RecordBatch) -> Result<u64, Error> {
        let table = schemas::tables::ALL_TABLES
            .into_iter()
            .find(|t| *t == table)
            .ok_or_else(|| Error::UnknownTable(table.to_string()))?;
        let expected = schemas::tables::raw_schema(table).expect("a stored table");
        if batch.schema().fields() != expected.fields() {
            return Err(Error::UnknownTable(format!(
                "{table} (the batch's columns differ from the table's)"
            )));
        }
        if !self.is_accepting() {
            return Err(Error::ShuttingDown);
        }
        let payload = RowsPayload {
            table: table.to_string(),
            ipc: encode_ipc(&batch)?,
        }
        .encode();
        Ok(self.wal.append(payload, vec![(table, batch)]).await?)
    }

    /// Writes every acknowledged row to Parquet now and trims the WAL.
    pub async fn flush_now(self: &Arc<Self>) -> Result<FlushStats, Error> {
        let _guard = self.flush_lock.lock().await;
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let stats = flush(&this.config.data_dir, &this.buffer, &this.metrics)?;
            wal::trim(&this.config.wal_dir(), stats.upto)?;
            Ok::<_, Error>(stats)
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?
    }

    fn flush_due(&self) -> bool {
        let Some(oldest) = self.buffer.oldest() else {
            return false;
        };
        self.buffer.rows() >= self.config.flush_rows
            || self.buffer.bytes() >= self.config.flush_at_bytes()
            || oldest.elapsed() >= self.config.flush_interval
    }

    /// Flushes in the background whenever a flush is due, until `stop`.
    pub fn spawn_flusher(self: &Arc<Self>, stop: CancellationToken) -> JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tick.tick() => {}
                }
                if !this.flush_due() {
                    continue;
                }
                match this.flush_now().await {
                    Ok(s) if s.files > 0 => tracing::debug!(stats = ?s, "flushed"),
                    Ok(_) => {}
                    Err(e) => {
                        this.metrics.flush_errors.inc();
                        tracing::error!(error = %e, "flush failed; rows stay in the WAL and will be retried");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        })
    }

    /// Runs merges until none is due (`vigil bench build`, offline tools); the
    /// inputs are removed at once, so call it only when no query is running.
    pub async fn compact_now(self: &Arc<Self>, config: CompactionConfig) -> Result<usize, Error> {
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut removals = Removals::default();
            let merges =
                compact_round(&this.buffer, &config, &this.metrics, &mut removals, &|| {
                    false
                })?;
            removals.run_due(std::time::Instant::now(), true)?;
            Ok(merges)
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?
    }

    /// Merges small Parquet files in the background (see [`crate::compact`])
    /// every `config.interval` until `stop`; a merge under way when `stop`
    /// comes is finished first.
    pub fn spawn_compactor(
        self: &Arc<Self>,
        config: CompactionConfig,
        stop: CancellationToken,
    ) -> JoinHandle<()> {
        let this = Arc::clone(self);
        tokio::spawn(async move {
            if config.interval.is_zero() {
                return;
            }
            let removals = Arc::new(parking_lot::Mutex::new(Removals::default()));
            let mut tick = tokio::time::interval(config.interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = tick.tick() => {}
                }
                let (c, removals, stop) = (Arc::clone(&this), Arc::clone(&removals), stop.clone());
                let round = tokio::task::spawn_blocking(move || {
                    compact_round(
                        &c.buffer,
                        &config,
                        &c.metrics,
                        &mut removals.lock(),
                        &|| stop.is_cancelled(),
                    )
                })
                .await;
                match round {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => {
                        this.metrics.compaction_errors.inc();
                        tracing::error!(error = %e, "compaction failed; the files stay as they were and it is retried");
                    }
                    Err(e) => tracing::error!(error = %e, "compaction task failed"),
                }
            }
            // merged inputs still in their grace period are removed by the next start
        })
    }

    /// Ordered shutdown: stop intake, let queued WAL appends finish (each is
    /// fsync'd and answered), flush everything to Parquet, trim the WAL.
    pub async fn shutdown(self: &Arc<Self>) -> Result<FlushStats, Error> {
        self.accepting.store(false, Ordering::SeqCst);
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.wal.close())
            .await
            .map_err(|e| Error::Io(std::io::Error::other(e)))?;
        self.flush_now().await
    }

    /// The `/metrics` exposition, gauges read now.
    pub fn render_metrics(&self) -> String {
        let gauge = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        self.metrics
            .buffer_rows
            .set(gauge(self.buffer.rows() as u64));
        self.metrics
            .buffer_bytes
            .set(gauge(self.buffer.bytes() as u64));
        self.metrics
            .flushed_upto
            .set(gauge(self.buffer.flushed_upto()));
        let free = self.inflight.available_permits();
        let limit = self.config.max_inflight_requests.max(1);
        self.metrics
            .inflight_requests
            .set(gauge(limit.saturating_sub(free) as u64));
        self.metrics
            .request_memory_bytes
            .set(gauge(self.accounted_memory().0 as u64));
        self.metrics.render()
    }
}

/// One batch as an Arrow IPC stream.
fn encode_ipc(batch: &RecordBatch) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut w = arrow_ipc::writer::StreamWriter::try_new(&mut out, &batch.schema())?;
    w.write(batch)?;
    w.finish()?;
    drop(w);
    Ok(out)
}

/// The rows of a [`RowsPayload`], checked against the table they name.
/// The rows a WAL record stands for, as they were when it was acknowledged;
/// `Err` says why a record that passed its checksum cannot be applied.
pub fn replayed_rows(payload: &[u8]) -> Result<TableBatches, String> {
    Ok(match Record::decode(payload).map_err(|e| e.to_string())? {
        Record::Export(payload) => {
            let req = ExportRequest::decode_proto(payload.signal, &payload.proto)
                .map_err(|e| format!("undecodable {} request: {e}", payload.signal.as_str()))?;
            req.rows(payload.ingest_ns)
                .map_err(|e| format!("rows: {e}"))?
        }
        Record::Rows(rows) => vec![decode_rows(&rows).map_err(|e| e.to_string())?],
    })
}

fn decode_rows(rows: &RowsPayload) -> Result<(&'static str, RecordBatch), Error> {
    let table = schemas::tables::ALL_TABLES
        .into_iter()
        .find(|t| *t == rows.table)
        .ok_or_else(|| Error::UnknownTable(rows.table.clone()))?;
    let reader = arrow_ipc::reader::StreamReader::try_new(rows.ipc.as_slice(), None)?;
    let mut batches = Vec::new();
    for b in reader {
        batches.push(b?);
    }
    let schema = schemas::tables::raw_schema(table).expect("a stored table");
    let batch = arrow::compute::concat_batches(&schema, &batches)?;
    Ok((table, batch))
}
