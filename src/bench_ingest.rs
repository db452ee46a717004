//! `vigil bench ingest`: durable ingest measured from outside the server, as
//! an agent fleet would load it.
//!
//! Each case starts a fresh `vigil serve` (this binary) in its own process and
//! data directory, pinned with `taskset` to `--server-cpus`; run the bench
//! itself pinned to the other cores (`taskset -c 1 vigil bench ingest`). The
//! load is the query benchmark's workload (Codex / Claude Code log events and
//! GenAI spans in their real shapes), regrouped into requests of `--batch`
//! records and encoded once before any timing: the client only writes bytes.
//! OTLP/HTTP goes over HTTP/1.1, OTLP/gRPC over HTTP/2 with the gRPC framing
//! written here, so gzip bodies are compressed once too. One connection per
//! worker, each sending its next request when the last was answered.
//!
//! Per case it reports stored records/s (acknowledged records over the
//! measured window, then counted back with SQL: every acknowledged record must
//! be stored exactly once), the server's CPU-seconds per million records (from
//! `/proc/<pid>/stat`), request latency p50/p99 and the server's peak RSS
//! (sampled every 20 ms, and `VmHWM`). The decode-only ceiling is prost
//! decoding the same requests on one thread of this process. The overload
//! suite sends at twice the 4-connection HTTP rate, open loop, and reports the
//! share refused ("retry later") and the exactly-once count.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use clap::Args;
use collector::ExportRequest;
use fixtures::workload::{Request, Workload, WorkloadConfig};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;

#[derive(Debug, Args)]
pub struct IngestBenchArgs {
    /// Where each case's store is made (one directory per case, removed after it).
    #[arg(long, default_value = "./bench-ingest")]
    pub work_dir: PathBuf,
    /// CPUs the server is pinned to (`taskset -c`); empty: not pinned.
    #[arg(long, default_value = "0")]
    pub server_cpus: String,
    /// Protocols: http (OTLP/HTTP protobuf over HTTP/1.1), grpc.
    #[arg(long, value_delimiter = ',', default_value = "http,grpc")]
    pub protocols: Vec<Protocol>,
    /// Signals: logs (agent log events), spans.
    #[arg(long, value_delimiter = ',', default_value = "logs,spans")]
    pub signals: Vec<SignalKind>,
    /// Connection counts to run each protocol and signal at.
    #[arg(long, value_delimiter = ',', default_value = "1,4,16")]
    pub connections: Vec<usize>,
    /// Records per request.
    #[arg(long, default_value_t = 512)]
    pub batch: usize,
    /// Measured time per case (after the warm-up).
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    #[arg(long, default_value = "3s", value_parser = humantime::parse_duration)]
    pub warmup: Duration,
    /// Also run gzip bodies (log events, 4 and 16 connections, each protocol).
    #[arg(long)]
    pub gzip: bool,
    /// The overload suite's length: twice the sustainable HTTP rate, open loop (0s: skip).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub overload: Duration,
    /// Distinct records encoded per signal before timing (sent round and round).
    #[arg(long, default_value_t = 100_000)]
    pub pool_records: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Extra arguments for `vigil serve` (repeat; e.g. `--serve-arg=--memory-limit=256MiB`).
    #[arg(long = "serve-arg", allow_hyphen_values = true)]
    pub serve_args: Vec<String>,
    /// Write the results as Markdown here (appended under a heading).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Seconds, not minutes: a small pool, 4 connections, 2 s per case, a 3 s
    /// overload. Fails if any acknowledged record is not stored exactly once.
    #[arg(long)]
    pub smoke: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Protocol {
    Http,
    Grpc,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Http => "HTTP",
            Protocol::Grpc => "gRPC",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignalKind {
    Logs,
    Spans,
}

impl SignalKind {
    fn table(self) -> &'static str {
        match self {
            SignalKind::Logs => schemas::tables::OTLP_LOGS,
            SignalKind::Spans => schemas::tables::OTLP_SPANS,
        }
    }
    fn http_path(self) -> &'static str {
        match self {
            SignalKind::Logs => "/v1/logs",
            SignalKind::Spans => "/v1/traces",
        }
    }
    fn grpc_path(self) -> &'static str {
        match self {
            SignalKind::Logs => "/opentelemetry.proto.collector.logs.v1.LogsService/Export",
            SignalKind::Spans => "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        }
    }
    fn name(self) -> &'static str {
        match self {
            SignalKind::Logs => "log records",
            SignalKind::Spans => "spans",
        }
    }
}

/// One pre-encoded request: its records and its bodies as each protocol sends them.
struct Encoded {
    records: u64,
    /// OTLP protobuf.
    proto: Bytes,
    /// Where in `proto` each UUID-shaped string starts (session, prompt and
    /// event ids), rewritten on every round through the pool.
    uuids: Vec<u32>,
    /// gzip of the first [`GZIP_ROUNDS`] rounds, if the run has gzip cases.
    gzip: Vec<Bytes>,
}

/// Rounds through the pool whose gzip bodies are made before timing; later
/// rounds repeat them (their ids then repeat too).
const GZIP_ROUNDS: usize = 8;

/// Offsets of the 36-byte `8-4-4-4-12` hex strings in `b`.
fn uuid_offsets(b: &[u8]) -> Vec<u32> {
    let mut out = Vec::new();
    let mut i = 0;
    while i + 36 <= b.len() {
        let w = &b[i..i + 36];
        let ok = w.iter().enumerate().all(|(j, c)| match j {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
        if ok {
            out.push(i as u32);
            i += 36;
        } else {
            i += 1;
        }
    }
    out
}

/// `proto` as round `round` sends it: every UUID's first eight hex digits
/// mixed with the round, the same way everywhere, so a session keeps its
/// records together and each round brings new sessions (real traffic does;
/// the same sessions over and over would make the detector re-read them).
fn rewrite_ids(proto: &[u8], uuids: &[u32], round: u64) -> Vec<u8> {
    let mut b = proto.to_vec();
    if round == 0 {
        return b;
    }
    let mix = (round.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32;
    for &at in uuids {
        let at = at as usize;
        let prefix = std::str::from_utf8(&b[at..at + 8])
            .ok()
            .and_then(|s| u32::from_str_radix(s, 16).ok())
            .unwrap_or(0);
        let new = format!("{:08x}", prefix ^ mix);
        b[at..at + 8].copy_from_slice(new.as_bytes());
    }
    b
}

struct Pool {
    signal: SignalKind,
    requests: Vec<Encoded>,
    records: u64,
    proto_bytes: u64,
}

impl Pool {
    /// The `i`th request sent from the pool (round `i / len`), as `protocol` sends it.
    fn body(&self, i: usize, protocol: Protocol, gzip: bool) -> Bytes {
        let e = &self.requests[i % self.requests.len()];
        let round = i / self.requests.len();
        let raw = if gzip {
            e.gzip[round % e.gzip.len()].clone()
        } else {
            Bytes::from(rewrite_ids(&e.proto, &e.uuids, round as u64))
        };
        match protocol {
            Protocol::Http => raw,
            // the gRPC length-prefixed message: compressed flag, big-endian length
            Protocol::Grpc => {
                let mut framed = Vec::with_capacity(raw.len() + 5);
                framed.push(u8::from(gzip));
                framed.extend_from_slice(&(raw.len() as u32).to_be_bytes());
                framed.extend_from_slice(&raw);
                Bytes::from(framed)
            }
        }
    }
}

/// Builds the pools: the workload's requests of each signal, merged into
/// requests of about `batch` records.
fn build_pools(args: &IngestBenchArgs) -> anyhow::Result<Vec<Pool>> {
    // (records, protobuf) of each merged request
    let mut logs: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut spans: Vec<(u64, Vec<u8>)> = Vec::new();
    let (mut cur_logs, mut n_logs, mut total_logs) = (ExportLogsServiceRequest::default(), 0, 0);
    let (mut cur_spans, mut n_spans, mut total_spans) =
        (ExportTraceServiceRequest::default(), 0, 0);
    let want = args.pool_records;
    let need_logs = args.signals.contains(&SignalKind::Logs);
    let need_spans = args.signals.contains(&SignalKind::Spans);
    // the workload has about one span per three log events
    for sent in Workload::new(WorkloadConfig::new(args.seed, want.saturating_mul(8))) {
        match sent.request {
            Request::Logs(mut l) if need_logs && total_logs < want => {
                let n = ExportRequest::Logs(l.clone()).record_count();
                cur_logs.resource_logs.append(&mut l.resource_logs);
                (n_logs, total_logs) = (n_logs + n, total_logs + n);
                if n_logs >= args.batch {
                    logs.push((n_logs as u64, std::mem::take(&mut cur_logs).encode_to_vec()));
                    n_logs = 0;
                }
            }
            Request::Traces(mut t) if need_spans && total_spans < want => {
                let n = ExportRequest::Traces(t.clone()).record_count();
                cur_spans.resource_spans.append(&mut t.resource_spans);
                (n_spans, total_spans) = (n_spans + n, total_spans + n);
                if n_spans >= args.batch {
                    spans.push((
                        n_spans as u64,
                        std::mem::take(&mut cur_spans).encode_to_vec(),
                    ));
                    n_spans = 0;
                }
            }
            _ => {}
        }
        if (!need_logs || total_logs >= want) && (!need_spans || total_spans >= want) {
            break;
        }
    }
    let gzip = |b: &[u8]| -> anyhow::Result<Bytes> {
        use std::io::Write as _;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b)?;
        Ok(Bytes::from(enc.finish()?))
    };
    let mut pools = Vec::new();
    for signal in &args.signals {
        let encoded = match signal {
            SignalKind::Logs => std::mem::take(&mut logs),
            SignalKind::Spans => std::mem::take(&mut spans),
        };
        if encoded.is_empty() {
            bail!(
                "the workload gave no full request of {} (raise --pool-records)",
                signal.name()
            );
        }
        let mut requests = Vec::new();
        for (records, proto) in encoded {
            let uuids = uuid_offsets(&proto);
            let mut gzipped = Vec::new();
            if args.gzip {
                for round in 0..GZIP_ROUNDS {
                    gzipped.push(gzip(&rewrite_ids(&proto, &uuids, round as u64))?);
                }
            }
            requests.push(Encoded {
                records,
                proto: Bytes::from(proto),
                uuids,
                gzip: gzipped,
            });
        }
        pools.push(Pool {
            signal: *signal,
            records: requests.iter().map(|r| r.records).sum(),
            proto_bytes: requests.iter().map(|r| r.proto.len() as u64).sum(),
            requests,
        });
    }
    Ok(pools)
}

/// Decoding alone, on one thread: records/s prost reaches on the pool.
fn decode_ceiling(pool: &Pool) -> anyhow::Result<f64> {
    let start = Instant::now();
    let mut records = 0u64;
    while start.elapsed() < Duration::from_secs(2) {
        for r in &pool.requests {
            match pool.signal {
                SignalKind::Logs => {
                    std::hint::black_box(ExportLogsServiceRequest::decode(&r.proto[..])?);
                }
                SignalKind::Spans => {
                    std::hint::black_box(ExportTraceServiceRequest::decode(&r.proto[..])?);
                }
            }
            records += r.records;
        }
    }
    Ok(records as f64 / start.elapsed().as_secs_f64())
}

/// A `vigil serve` child in its own data directory.
struct Server {
    child: Child,
    /// Stopped in order by [`Server::stop`]; otherwise killed when dropped
    /// (the bench failed part-way).
    stopped: bool,
    dir: PathBuf,
    otlp_http: String,
    grpc: String,
    http: String,
}

impl Server {
    fn start(args: &IngestBenchArgs, name: &str) -> anyhow::Result<Server> {
        let dir = args.work_dir.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let addr_file = dir.join("addrs.json");
        let exe = std::env::current_exe().context("finding this binary")?;
        let mut cmd = if args.server_cpus.is_empty() {
            Command::new(&exe)
        } else {
            let mut c = Command::new("taskset");
            c.arg("-c").arg(&args.server_cpus).arg(&exe);
            c
        };
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(dir.join("data"))
            .args(["--otlp-grpc-addr", "127.0.0.1:0"])
            .args(["--otlp-http-addr", "127.0.0.1:0"])
            .args(["--http-addr", "127.0.0.1:0"])
            .args(["--pg-addr", "127.0.0.1:0"])
            .arg("--addr-file")
            .arg(&addr_file)
            .args(&args.serve_args)
            .env("VIGIL_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("server.log"))?);
        let mut child = cmd
            .spawn()
            .with_context(|| format!("starting {} (is taskset installed?)", exe.display()))?;
        let deadline = Instant::now() + Duration::from_secs(60);
        let addrs: serde_json::Value = loop {
            if let Some(status) = child.try_wait()? {
                let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
                bail!("vigil serve exited during start-up ({status}):\n{log}");
            }
            if let Some(v) = std::fs::read_to_string(&addr_file)
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok())
            {
                break v;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                bail!("vigil serve did not listen within 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let get = |k: &str| -> anyhow::Result<String> {
            Ok(addrs[k]
                .as_str()
                .with_context(|| format!("{k} in the address file"))?
                .to_string())
        };
        Ok(Server {
            otlp_http: get("otlp_http")?,
            grpc: get("otlp_grpc")?,
            http: get("http")?,
            child,
            stopped: false,
            dir,
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User plus system CPU time so far.
    fn cpu(&self, ticks_per_s: f64) -> anyhow::Result<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()))?;
        // fields after the command name, which is in parentheses and may hold spaces
        let rest = stat.rsplit_once(')').context("/proc/<pid>/stat")?.1;
        let f: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = f[11].parse::<u64>()? + f[12].parse::<u64>()?;
        Ok(Duration::from_secs_f64(ticks as f64 / ticks_per_s))
    }

    /// Rows of `table`, counted by the server's SQL.
    async fn count(&self, table: &str) -> anyhow::Result<u64> {
        let body = serde_json::json!({ "sql": format!("SELECT count(*) FROM {table}") });
        let (status, bytes) = post(
            &self.http,
            "/api/sql",
            "application/json",
            None,
            Bytes::from(body.to_string()),
        )
        .await?;
        let v: serde_json::Value = serde_json::from_slice(&bytes)?;
        if status != 200 {
            bail!("counting {table}: {status} {v}");
        }
        v["rows"][0][0]
            .as_u64()
            .with_context(|| format!("a count in {v}"))
    }

    /// SIGTERM, then waits for the final flush; SIGKILL after a minute.
    fn stop(mut self) -> anyhow::Result<()> {
        self.stopped = true;
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.child.try_wait()?.is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// One POST on a fresh HTTP/1.1 connection (the SQL count).
async fn post(
    addr: &str,
    path: &str,
    content_type: &str,
    encoding: Option<&str>,
    body: Bytes,
) -> anyhow::Result<(u16, Bytes)> {
    let mut conn = Http1::connect(addr).await?;
    conn.post(addr, path, content_type, encoding, body).await
}

struct Http1(hyper::client::conn::http1::SendRequest<Full<Bytes>>);

impl Http1 {
    async fn connect(addr: &str) -> anyhow::Result<Http1> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(conn);
        Ok(Http1(send))
    }

    async fn post(
        &mut self,
        host: &str,
        path: &str,
        content_type: &str,
        encoding: Option<&str>,
        body: Bytes,
    ) -> anyhow::Result<(u16, Bytes)> {
        self.0.ready().await?;
        let mut req = http::Request::post(path)
            .header(http::header::HOST, host)
            .header(http::header::CONTENT_TYPE, content_type);
        if let Some(e) = encoding {
            req = req.header(http::header::CONTENT_ENCODING, e);
        }
        let resp = self.0.send_request(req.body(Full::new(body))?).await?;
        let status = resp.status().as_u16();
        Ok((status, resp.into_body().collect().await?.to_bytes()))
    }
}

struct Grpc(hyper::client::conn::http2::SendRequest<Full<Bytes>>);

impl Grpc {
    async fn connect(addr: &str) -> anyhow::Result<Grpc> {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream))
                .await?;
        tokio::spawn(conn);
        Ok(Grpc(send))
    }

    /// One unary call; the gRPC status code and the response message.
    async fn call(
        &mut self,
        host: &str,
        path: &str,
        gzip: bool,
        framed: Bytes,
    ) -> anyhow::Result<(u32, Bytes)> {
        self.0.ready().await?;
        let mut req = http::Request::post(format!("http://{host}{path}"))
            .header(http::header::CONTENT_TYPE, "application/grpc")
            .header(http::header::TE, "trailers");
        if gzip {
            req = req.header("grpc-encoding", "gzip");
        }
        let resp = self.0.send_request(req.body(Full::new(framed))?).await?;
        // a trailers-only answer (an error) carries the status in its headers
        let header_status = grpc_status(resp.headers());
        let collected = resp.into_body().collect().await?;
        let status = collected
            .trailers()
            .and_then(grpc_status)
            .or(header_status)
            .context("an answer without grpc-status")?;
        let body = collected.to_bytes();
        Ok((
            status,
            if body.len() >= 5 {
                body.slice(5..)
            } else {
                body
            },
        ))
    }
}

fn grpc_status(h: &http::HeaderMap) -> Option<u32> {
    h.get("grpc-status")?.to_str().ok()?.parse().ok()
}

/// What the server said to one request.
enum Answer {
    /// Stored: this many records (the rest rejected as invalid).
    Stored(u64),
    /// "Retry later": 429 / 503, RESOURCE_EXHAUSTED / UNAVAILABLE.
    Refused,
    Failed(String),
}

/// A connection of either protocol.
enum Conn {
    Http(Http1),
    Grpc(Grpc),
}

impl Conn {
    async fn open(protocol: Protocol, server: &Server) -> anyhow::Result<Conn> {
        Ok(match protocol {
            Protocol::Http => Conn::Http(Http1::connect(&server.otlp_http).await?),
            Protocol::Grpc => Conn::Grpc(Grpc::connect(&server.grpc).await?),
        })
    }

    async fn send(
        &mut self,
        server: &Server,
        signal: SignalKind,
        gzip: bool,
        body: Bytes,
        records: u64,
    ) -> Answer {
        let rejected = |b: &[u8]| -> u64 {
            match signal {
                SignalKind::Logs => ExportLogsServiceResponse::decode(b)
                    .ok()
                    .and_then(|r| r.partial_success)
                    .map_or(0, |p| p.rejected_log_records.max(0) as u64),
                SignalKind::Spans => ExportTraceServiceResponse::decode(b)
                    .ok()
                    .and_then(|r| r.partial_success)
                    .map_or(0, |p| p.rejected_spans.max(0) as u64),
            }
        };
        match self {
            Conn::Http(c) => {
                let enc = gzip.then_some("gzip");
                match c
                    .post(
                        &server.otlp_http,
                        signal.http_path(),
                        "application/x-protobuf",
                        enc,
                        body,
                    )
                    .await
                {
                    Ok((200, b)) => Answer::Stored(records - rejected(&b).min(records)),
                    Ok((429 | 503, _)) => Answer::Refused,
                    Ok((s, b)) => {
                        Answer::Failed(format!("HTTP {s}: {}", String::from_utf8_lossy(&b)))
                    }
                    Err(e) => Answer::Failed(format!("{e:#}")),
                }
            }
            Conn::Grpc(c) => match c.call(&server.grpc, signal.grpc_path(), gzip, body).await {
                Ok((0, b)) => Answer::Stored(records - rejected(&b).min(records)),
                // RESOURCE_EXHAUSTED, UNAVAILABLE
                Ok((8 | 14, _)) => Answer::Refused,
                Ok((s, _)) => Answer::Failed(format!("grpc-status {s}")),
                Err(e) => Answer::Failed(format!("{e:#}")),
            },
        }
    }
}

/// Tallies shared by a case's workers.
#[derive(Default)]
struct Tally {
    stored: AtomicU64,
    requests: AtomicU64,
    refused: AtomicU64,
    failed: AtomicU64,
    /// Records stored while the window was open.
    window_stored: AtomicU64,
    first_failure: parking_lot::Mutex<Option<String>>,
}

impl Tally {
    fn answer(&self, a: Answer, in_window: bool) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        match a {
            Answer::Stored(n) => {
                self.stored.fetch_add(n, Ordering::Relaxed);
                if in_window {
                    self.window_stored.fetch_add(n, Ordering::Relaxed);
                }
            }
            Answer::Refused => {
                self.refused.fetch_add(1, Ordering::Relaxed);
            }
            Answer::Failed(why) => {
                self.failed.fetch_add(1, Ordering::Relaxed);
                self.first_failure.lock().get_or_insert(why);
            }
        }
    }
}

/// Samples the server's RSS until stopped; the largest seen, in KiB.
fn sample_rss(pid: u32, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    std::thread::spawn(move || {
        let mut peak = 0;
        while !stop.load(Ordering::Relaxed) {
            if let Some(kib) = proc_status_kib(&pid.to_string(), "VmRSS:") {
                peak = peak.max(kib);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        peak
    })
}

struct CaseResult {
    label: String,
    /// The overload suite: refusals and dropped connections are expected.
    open_loop: bool,
    records_per_s: f64,
    cpu_s_per_million: f64,
    p50_ms: f64,
    p99_ms: f64,
    peak_rss_mib: f64,
    hwm_mib: f64,
    refused_share: f64,
    acknowledged: u64,
    stored: u64,
    failed: u64,
    first_failure: Option<String>,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((p / 100.0) * (sorted.len() - 1) as f64).round() as usize]
}

/// Closed loop: `connections` workers, each sending its next request when the
/// last is answered, for the warm-up and then the measured window.
async fn closed_loop(
    args: &IngestBenchArgs,
    pool: &Arc<Pool>,
    protocol: Protocol,
    connections: usize,
    gzip: bool,
    ticks_per_s: f64,
) -> anyhow::Result<CaseResult> {
    let label = format!(
        "{} {} ×{connections}{}",
        pool.signal.name(),
        protocol.name(),
        if gzip { " gzip" } else { "" }
    );
    let server = Arc::new(Server::start(args, "case")?);
    let tally = Arc::new(Tally::default());
    let window_open = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicBool::new(false));
    let stop_rss = Arc::new(AtomicBool::new(false));
    let rss = sample_rss(server.pid(), Arc::clone(&stop_rss));
    let mut workers = Vec::new();
    for w in 0..connections {
        let (server, pool, tally, window_open, done) = (
            Arc::clone(&server),
            Arc::clone(pool),
            Arc::clone(&tally),
            Arc::clone(&window_open),
            Arc::clone(&done),
        );
        let mut conn = Conn::open(protocol, &server).await?;
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            // workers start at different places in the pool
            let mut i = w * pool.requests.len() / connections.max(1);
            while !done.load(Ordering::Relaxed) {
                let body = pool.body(i, protocol, gzip);
                let records = pool.requests[i % pool.requests.len()].records;
                let in_window = window_open.load(Ordering::Relaxed);
                let t = Instant::now();
                let a = conn.send(&server, pool.signal, gzip, body, records).await;
                let refused = matches!(a, Answer::Refused);
                if in_window && window_open.load(Ordering::Relaxed) {
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                let broken = matches!(a, Answer::Failed(_));
                tally.answer(a, in_window);
                if broken {
                    // the connection may be gone; a new one for the next request
                    match Conn::open(protocol, &server).await {
                        Ok(c) => conn = c,
                        Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                    }
                }
                if refused {
                    // as an exporter backs off on "retry later"
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                i += 1;
            }
            latencies
        }));
    }
    tokio::time::sleep(args.warmup).await;
    let cpu0 = server.cpu(ticks_per_s)?;
    let t0 = Instant::now();
    window_open.store(true, Ordering::Relaxed);
    tokio::time::sleep(args.duration).await;
    window_open.store(false, Ordering::Relaxed);
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu1 = server.cpu(ticks_per_s)?;
    let window = tally.window_stored.load(Ordering::Relaxed);
    done.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.await?);
    }
    let measured = Measured {
        label,
        open_loop: false,
        records: window,
        elapsed,
        cpu: cpu1 - cpu0,
    };
    finish(
        server,
        tally,
        pool.signal,
        (stop_rss, rss),
        latencies,
        measured,
    )
    .await
}

/// Open loop at `rate` records/s for the overload window: requests go out on
/// schedule whether or not earlier ones were answered (up to 256 at once).
async fn open_loop(
    args: &IngestBenchArgs,
    pool: &Arc<Pool>,
    protocol: Protocol,
    rate: f64,
    ticks_per_s: f64,
) -> anyhow::Result<CaseResult> {
    const MAX_OUTSTANDING: usize = 256;
    let per_request = pool.records as f64 / pool.requests.len() as f64;
    let interval = Duration::from_secs_f64(per_request / rate);
    let server = Arc::new(Server::start(args, "overload")?);
    let tally = Arc::new(Tally::default());
    let stop_rss = Arc::new(AtomicBool::new(false));
    let rss = sample_rss(server.pid(), Arc::clone(&stop_rss));
    // idle connections, reused; a request finds one or opens one
    let idle: Arc<parking_lot::Mutex<VecDeque<Conn>>> = Default::default();
    let outstanding = Arc::new(tokio::sync::Semaphore::new(MAX_OUTSTANDING));
    let skipped = Arc::new(AtomicU64::new(0));
    let lat = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let cpu0 = server.cpu(ticks_per_s)?;
    let t0 = Instant::now();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut tasks = tokio::task::JoinSet::new();
    let mut i = 0usize;
    while t0.elapsed() < args.overload {
        tick.tick().await;
        let Ok(permit) = Arc::clone(&outstanding).try_acquire_owned() else {
            skipped.fetch_add(1, Ordering::Relaxed);
            continue;
        };
        let (server, pool, tally, idle, lat) = (
            Arc::clone(&server),
            Arc::clone(pool),
            Arc::clone(&tally),
            Arc::clone(&idle),
            Arc::clone(&lat),
        );
        let n = i;
        i += 1;
        tasks.spawn(async move {
            let _permit = permit;
            let conn = idle.lock().pop_front();
            let mut conn = match conn {
                Some(c) => c,
                None => match Conn::open(protocol, &server).await {
                    Ok(c) => c,
                    Err(e) => {
                        tally.answer(Answer::Failed(format!("connect: {e:#}")), true);
                        return;
                    }
                },
            };
            let body = pool.body(n, protocol, false);
            let records = pool.requests[n % pool.requests.len()].records;
            let t = Instant::now();
            let a = conn.send(&server, pool.signal, false, body, records).await;
            lat.lock().push(t.elapsed().as_secs_f64() * 1000.0);
            let keep = !matches!(a, Answer::Failed(_));
            tally.answer(a, true);
            if keep {
                idle.lock().push_back(conn);
            }
        });
        // reap finished requests as we go
        while tasks.try_join_next().is_some() {}
    }
    let elapsed = t0.elapsed().as_secs_f64();
    while tasks.join_next().await.is_some() {}
    let cpu1 = server.cpu(ticks_per_s)?;
    let latencies = std::mem::take(&mut *lat.lock());
    let skipped = skipped.load(Ordering::Relaxed);
    drop(idle);
    let measured = Measured {
        label: format!(
            "overload: {} {} at {:.0}/s offered{}",
            pool.signal.name(),
            protocol.name(),
            rate,
            if skipped > 0 {
                format!(" ({skipped} sends skipped: {MAX_OUTSTANDING} outstanding)")
            } else {
                String::new()
            }
        ),
        open_loop: true,
        records: tally.stored.load(Ordering::Relaxed),
        elapsed,
        cpu: cpu1 - cpu0,
    };
    finish(
        server,
        tally,
        pool.signal,
        (stop_rss, rss),
        latencies,
        measured,
    )
    .await
}

/// What a case's window measured, for [`finish`].
struct Measured {
    label: String,
    open_loop: bool,
    /// Records acknowledged in the window (the rate's numerator).
    records: u64,
    elapsed: f64,
    /// Server CPU time over the window.
    cpu: Duration,
}

/// Ends a case whose load has stopped: stops the RSS sampler, counts the
/// table back with SQL, stops the server.
async fn finish(
    server: Arc<Server>,
    tally: Arc<Tally>,
    signal: SignalKind,
    (stop_rss, rss): (Arc<AtomicBool>, std::thread::JoinHandle<u64>),
    mut latencies: Vec<f64>,
    m: Measured,
) -> anyhow::Result<CaseResult> {
    stop_rss.store(true, Ordering::Relaxed);
    let peak_kib = rss.join().unwrap_or(0);
    let hwm_kib = proc_status_kib(&server.pid().to_string(), "VmHWM:").unwrap_or(0);
    latencies.sort_by(f64::total_cmp);
    let stored = server.count(signal.table()).await?;
    let requests = tally.requests.load(Ordering::Relaxed).max(1);
    let result = CaseResult {
        label: m.label,
        open_loop: m.open_loop,
        records_per_s: m.records as f64 / m.elapsed,
        cpu_s_per_million: m.cpu.as_secs_f64() / (m.records.max(1) as f64 / 1e6),
        p50_ms: percentile(&latencies, 50.0),
        p99_ms: percentile(&latencies, 99.0),
        peak_rss_mib: peak_kib as f64 / 1024.0,
        hwm_mib: hwm_kib as f64 / 1024.0,
        refused_share: tally.refused.load(Ordering::Relaxed) as f64 / requests as f64,
        acknowledged: tally.stored.load(Ordering::Relaxed),
        stored,
        failed: tally.failed.load(Ordering::Relaxed),
        first_failure: tally.first_failure.lock().take(),
    };
    drop(tally);
    Arc::into_inner(server)
        .context("a request still holds the server")?
        .stop()?;
    Ok(result)
}

fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// A field of `/proc/<pid>/status` (`pid` may be `self`), trimmed.
fn proc_status(pid: &str, key: &str) -> Option<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .map(|v| v.trim().to_string())
}

/// A `kB` field of `/proc/<pid>/status` (VmRSS, VmHWM), in KiB.
fn proc_status_kib(pid: &str, key: &str) -> Option<u64> {
    proc_status(pid, key)?
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

fn cpus_allowed() -> String {
    proc_status("self", "Cpus_allowed_list:").unwrap_or_else(|| "?".into())
}

fn row(r: &CaseResult) -> String {
    let exact = if r.stored == r.acknowledged {
        "yes".to_string()
    } else {
        format!("**no: {} stored**", r.stored)
    };
    format!(
        "| {} | {:.0} | {:.2} | {:.1} | {:.1} | {:.0} | {:.0} | {:.1} % | {} | {} | {}{} |",
        r.label,
        r.records_per_s,
        r.cpu_s_per_million,
        r.p50_ms,
        r.p99_ms,
        r.peak_rss_mib,
        r.hwm_mib,
        r.refused_share * 100.0,
        r.acknowledged,
        exact,
        r.failed,
        r.first_failure
            .as_deref()
            .map(|f| format!(" ({})", f.chars().take(80).collect::<String>()))
            .unwrap_or_default(),
    )
}

const HEADER: &str = "| case | records/s | server CPU-s per 1M | p50 ms | p99 ms | peak RSS MiB (sampled) | VmHWM MiB | refused | acknowledged | stored exactly once | failed |\n|---|---|---|---|---|---|---|---|---|---|---|";

pub async fn run(mut args: IngestBenchArgs) -> anyhow::Result<()> {
    if args.smoke {
        args.pool_records = args.pool_records.min(5_000);
        args.connections = vec![4];
        args.duration = args.duration.min(Duration::from_secs(2));
        args.warmup = args.warmup.min(Duration::from_millis(500));
        args.overload = args.overload.min(Duration::from_secs(3));
    }
    if args.batch == 0 || args.connections.contains(&0) {
        bail!("--batch and --connections must be at least 1");
    }
    let ticks = ticks_per_second();
    let started = Instant::now();
    let pools: Vec<Arc<Pool>> = build_pools(&args)?.into_iter().map(Arc::new).collect();
    let mut out = String::new();
    let say = |line: String, out: &mut String| {
        println!("{line}");
        out.push_str(&line);
        out.push('\n');
    };
    say(
        format!(
            "server pinned to CPUs {:?}, this client on CPUs {}; {} per case after {} warm-up; requests of ~{} records",
            args.server_cpus,
            cpus_allowed(),
            humantime::format_duration(args.duration),
            humantime::format_duration(args.warmup),
            args.batch
        ),
        &mut out,
    );
    for p in &pools {
        let ceiling = decode_ceiling(p)?;
        say(
            format!(
                "{}: {} distinct in {} requests, {:.0} B/record protobuf; decode-only ceiling (prost, one thread of this process): {:.0} records/s",
                p.signal.name(),
                p.records,
                p.requests.len(),
                p.proto_bytes as f64 / p.records.max(1) as f64,
                ceiling
            ),
            &mut out,
        );
    }
    say(String::new(), &mut out);
    say(HEADER.to_string(), &mut out);
    let mut results = Vec::new();
    let mut sustainable: Option<f64> = None;
    for pool in &pools {
        for &protocol in &args.protocols {
            for &connections in &args.connections {
                let r = closed_loop(&args, pool, protocol, connections, false, ticks).await?;
                say(row(&r), &mut out);
                if pool.signal == SignalKind::Logs && protocol == Protocol::Http && connections == 4
                {
                    sustainable = Some(r.records_per_s);
                }
                results.push(r);
            }
        }
    }
    if args.gzip
        && let Some(pool) = pools.iter().find(|p| p.signal == SignalKind::Logs)
    {
        for &protocol in &args.protocols {
            for connections in [4, 16] {
                let r = closed_loop(&args, pool, protocol, connections, true, ticks).await?;
                say(row(&r), &mut out);
                results.push(r);
            }
        }
    }
    if !args.overload.is_zero()
        && let (Some(pool), Some(rate)) = (
            pools.iter().find(|p| p.signal == SignalKind::Logs),
            sustainable.or_else(|| results.first().map(|r| r.records_per_s)),
        )
    {
        let protocol = args.protocols.first().copied().unwrap_or(Protocol::Http);
        let r = open_loop(&args, pool, protocol, 2.0 * rate, ticks).await?;
        say(row(&r), &mut out);
        results.push(r);
    }
    say(
        format!(
            "\n{} cases in {:.0} s",
            results.len(),
            started.elapsed().as_secs_f64()
        ),
        &mut out,
    );
    let _ = std::fs::remove_dir(&args.work_dir);
    if let Some(path) = &args.out {
        append(path, &out)?;
    }
    let lost: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.stored != r.acknowledged)
        .collect();
    if !lost.is_empty() {
        bail!(
            "acknowledged records not stored exactly once in: {}",
            lost.iter()
                .map(|r| r.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if args.smoke
        && let Some(r) = results
            .iter()
            .find(|r| !r.open_loop && (r.failed > 0 || r.acknowledged == 0))
    {
        bail!(
            "{}: {} failed requests, {} records acknowledged ({})",
            r.label,
            r.failed,
            r.acknowledged,
            r.first_failure.as_deref().unwrap_or("no failure recorded")
        );
    }
    Ok(())
}

fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    writeln!(
        f,
        "\n### Ingest\n\n```\nvigil bench ingest {}\n```\n",
        std::env::args().skip(3).collect::<Vec<_>>().join(" ")
    )?;
    f.write_all(text.as_bytes())?;
    Ok(())
}
