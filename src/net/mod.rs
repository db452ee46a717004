//! The connection layer: every listener (OTLP/gRPC, OTLP/HTTP, the API and
//! dashboard, the Postgres wire) accepts through it.
//!
//! ```text
//! accept ─▶ a slot (≤ --max-connections per listener; over it, closed at once)
//!        ─▶ opening, within --handshake-timeout: TLS (rustls; client
//!             certificates with --tls-client-ca), then HTTP/1 or HTTP/2 by
//!             ALPN or by the first bytes (the HTTP/2 preface)
//!        ─▶ hyper: HTTP/1 (headers within --header-timeout) or HTTP/2 (a
//!             stream cap, reset-flood limits, keep-alive pings); every
//!             request body must arrive within --body-timeout; the peer's
//!             address rides in the request's extensions
//!        ─▶ the service: an axum router, or the tonic gRPC routes
//! a connection without a request for --idle-timeout is closed gracefully;
//! at shutdown accepting stops, connections close gracefully, and what is
//! still open after a grace period is dropped.
//! ```
//!
//! Postgres connections take a slot and the TLS acceptor only: pgwire answers
//! the client's `SSLRequest` itself and closes a start-up that takes over 60 s.
//!
//! Written here rather than served by `axum::serve` and tonic's server:
//! neither caps connections nor bounds how long a request's headers or body
//! may take, and hyper-util's auto builder waits for the protocol preface
//! without a deadline (hyperium/hyper#3962), so one TCP connect that sends
//! nothing holds a task and a descriptor for ever.

mod body;
mod io;
pub mod tls;

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use bytes::Bytes;
use collector::ListenerMetrics;
use http::{Request, Response, StatusCode, header};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulConnection;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

pub use body::DeadlineBody;

/// HTTP/2 streams one connection may have open at once.
const MAX_CONCURRENT_STREAMS: u32 = 256;
/// Streams a client may reset before the server has accepted them before its
/// connection is closed (the HTTP/2 "rapid reset" flood, CVE-2023-44487).
const MAX_PENDING_RESET_STREAMS: usize = 20;
/// Streams the server may reset because of a client's protocol errors before
/// the connection is closed.
const MAX_LOCAL_ERROR_RESET_STREAMS: usize = 256;
/// Request header block, HTTP/2 (HTTP/1 is bounded by hyper's read buffer).
const MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;
/// HTTP/2 keep-alive: a ping after this much silence, and the connection is
/// closed when the answer takes longer than [`KEEPALIVE_TIMEOUT`] (a peer that vanished).
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(20);
/// At shutdown, how long HTTP connections get to finish the requests in flight.
const HTTP_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// ALPN protocols per listener: HTTP offers both versions, gRPC needs HTTP/2,
/// Postgres names itself (a direct TLS start, PostgreSQL 17+).
pub const ALPN_HTTP: &[&[u8]] = &[b"h2", b"http/1.1"];
pub const ALPN_GRPC: &[&[u8]] = &[b"h2"];
pub const ALPN_POSTGRES: &[&[u8]] = &[b"postgresql"];

/// The connection limits every listener applies (`vigil serve --help`).
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_connections: usize,
    pub handshake_timeout: Duration,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub idle_timeout: Duration,
}

/// A bound listener with what the layer needs to know about it.
pub struct Listener {
    pub tcp: TcpListener,
    /// Its name in metrics and logs: `otlp_grpc`, `otlp_http`, `http`, `pg`.
    pub name: &'static str,
    pub metrics: ListenerMetrics,
    pub tls: Option<TlsAcceptor>,
}

/// What an HTTP listener speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 and HTTP/2: OTLP/HTTP, the API and the dashboard.
    Http,
    /// gRPC: HTTP/2 only; an HTTP/1 client is closed after its first bytes.
    Grpc,
}

/// Raises the soft limit on open files towards the hard one so that every
/// listener can reach its cap; says so when it cannot.
pub fn raise_open_files_limit(limits: &Limits, listeners: usize) {
    // each connection is one descriptor; the store keeps a few hundred files open at most
    let wanted = (limits.max_connections * listeners + 1024) as u64;
    match rlimit::increase_nofile_limit(wanted) {
        Ok(got) if got < wanted => tracing::warn!(
            open_files = got,
            wanted,
            "the open-files limit is below what --max-connections allows on every listener; \
             connections beyond it fail to be accepted (raise `ulimit -n` or lower --max-connections)"
        ),
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot read or raise the open-files limit"),
    }
}

/// Serves Postgres connections on `listener` until `stop`.
pub async fn serve_pg(
    listener: Listener,
    limits: &Limits,
    pg: web::pg::PgServer,
    stop: CancellationToken,
) {
    let Listener {
        tcp,
        name,
        metrics,
        tls,
    } = listener;
    let handshake_timeout = limits.handshake_timeout;
    let timeouts = metrics.handshake_timeouts.clone();
    accept_loop(
        tcp,
        name,
        limits.max_connections,
        metrics,
        web::pg::SHUTDOWN_GRACE,
        stop,
        move |socket, peer| {
            let pg = pg.clone();
            let tls = tls.clone();
            let timeouts = timeouts.clone();
            async move {
                // pgwire gives a start-up 60 s; one that has not begun is cut off sooner
                let mut first = [0u8; 1];
                match tokio::time::timeout(handshake_timeout, socket.peek(&mut first)).await {
                    Ok(Ok(n)) if n > 0 => pg.serve_connection(socket, tls).await,
                    Ok(_) => {}
                    Err(_) => {
                        timeouts.inc();
                        tracing::debug!(listener = name, %peer, "no start-up within --handshake-timeout: closed");
                    }
                }
            }
        },
    )
    .await
}

/// Serves `service` over HTTP (or gRPC) on `listener` until `stop`.
pub async fn serve_http<S, B>(
    listener: Listener,
    protocol: Protocol,
    limits: Arc<Limits>,
    service: S,
    stop: CancellationToken,
) where
    S: tower::Service<Request<DeadlineBody<Incoming>>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Listener {
        tcp,
        name,
        metrics,
        tls,
    } = listener;
    let shared = Arc::new(HttpListener {
        name,
        protocol,
        limits: Arc::clone(&limits),
        metrics: metrics.clone(),
        tls,
        stop: stop.clone(),
    });
    accept_loop(
        tcp,
        name,
        limits.max_connections,
        metrics,
        HTTP_SHUTDOWN_GRACE,
        stop,
        move |socket, peer| -> Pin<Box<dyn Future<Output = ()> + Send>> {
            Box::pin(Arc::clone(&shared).serve(socket, peer, service.clone()))
        },
    )
    .await
}

/// Accepts until `stop`; each connection runs `handle` in its own task while
/// it holds one of the listener's `max_connections` slots.
async fn accept_loop<H, F>(
    tcp: TcpListener,
    name: &'static str,
    max_connections: usize,
    metrics: ListenerMetrics,
    grace: Duration,
    stop: CancellationToken,
    handle: H,
) where
    H: Fn(TcpStream, SocketAddr) -> F,
    F: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(max_connections));
    let mut connections = JoinSet::new();
    let mut last_refusal_logged: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            accepted = tcp.accept() => match accepted {
                Ok((socket, peer)) => {
                    let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
                        metrics.refused.inc();
                        if last_refusal_logged.is_none_or(|t| t.elapsed() > Duration::from_secs(60)) {
                            last_refusal_logged = Some(Instant::now());
                            tracing::warn!(listener = name, max_connections, %peer,
                                "at --max-connections: closing new connections (counted in vigil_connections_refused_total)");
                        }
                        drop(socket);
                        continue;
                    };
                    // requests and answers are small and latency matters more than packets
                    let _ = socket.set_nodelay(true);
                    let slot = Slot::new(permit, &metrics);
                    let connection = handle(socket, peer);
                    connections.spawn(async move {
                        connection.await;
                        drop(slot);
                    });
                }
                Err(e) => {
                    // e.g. out of file descriptors: back off rather than spin
                    tracing::warn!(listener = name, error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(tcp);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::info!(
            listener = name,
            open = connections.len(),
            "closing connections still open after the shutdown grace"
        );
        connections.shutdown().await;
    }
}

/// A connection's place under the cap, counted in `vigil_connections_open`.
struct Slot {
    _permit: OwnedSemaphorePermit,
    open: prometheus_client::metrics::gauge::Gauge,
}

impl Slot {
    fn new(permit: OwnedSemaphorePermit, metrics: &ListenerMetrics) -> Self {
        metrics.open.inc();
        Slot {
            _permit: permit,
            open: metrics.open.clone(),
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.dec();
    }
}

/// One request's answer, with its type erased (hyper's bounds on a generic
/// service future otherwise defeat the compiler's proof that it is `Send`).
type RequestFuture =
    Pin<Box<dyn Future<Output = Result<Response<axum::body::Body>, Infallible>> + Send>>;

/// What every connection of one HTTP listener shares.
struct HttpListener {
    name: &'static str,
    protocol: Protocol,
    limits: Arc<Limits>,
    metrics: ListenerMetrics,
    tls: Option<TlsAcceptor>,
    stop: CancellationToken,
}

impl HttpListener {
    async fn serve<S, B>(self: Arc<Self>, socket: TcpStream, peer: SocketAddr, service: S)
    where
        S: tower::Service<
                Request<DeadlineBody<Incoming>>,
                Response = Response<B>,
                Error = Infallible,
            > + Clone
            + Send
            + 'static,
        S::Future: Send + 'static,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let opened = tokio::time::timeout(
            self.limits.handshake_timeout,
            io::open(socket, self.tls.clone()),
        )
        .await;
        let (stream, http2) = match opened {
            Ok(Ok(opened)) => opened,
            Ok(Err(io::OpenError::Tls(e))) => {
                self.metrics.tls_failures.inc();
                tracing::debug!(listener = self.name, %peer, error = %e, "TLS handshake failed");
                return;
            }
            Ok(Err(io::OpenError::Io(e))) => {
                tracing::debug!(listener = self.name, %peer, error = %e, "connection closed while opening");
                return;
            }
            Err(_) => {
                self.metrics.handshake_timeouts.inc();
                tracing::debug!(listener = self.name, %peer, "no handshake within --handshake-timeout: closed");
                return;
            }
        };
        if self.protocol == Protocol::Grpc && !http2 {
            tracing::debug!(listener = self.name, %peer, "not HTTP/2 on the gRPC port: closed");
            return;
        }
        let activity = Arc::new(Activity::new());
        let requests = {
            let activity = Arc::clone(&activity);
            let this = Arc::clone(&self);
            hyper::service::service_fn(move |req: Request<Incoming>| -> RequestFuture {
                let busy = activity.begin();
                let late = Arc::new(AtomicBool::new(false));
                let mut req =
                    req.map(|b| DeadlineBody::new(b, this.limits.body_timeout, Arc::clone(&late)));
                req.extensions_mut().insert(ConnectInfo(peer));
                let call = service.clone().oneshot(req);
                let this = Arc::clone(&this);
                Box::pin(async move {
                    let Ok(resp) = call.await;
                    let mut resp = resp.map(axum::body::Body::new);
                    if late.load(Ordering::Relaxed) {
                        this.metrics.body_timeouts.inc();
                        // a gRPC answer carries its status in grpc-status; HTTP says 408
                        if this.protocol == Protocol::Http {
                            *resp.status_mut() = StatusCode::REQUEST_TIMEOUT;
                            if !http2 {
                                resp.headers_mut().insert(
                                    header::CONNECTION,
                                    http::HeaderValue::from_static("close"),
                                );
                            }
                        }
                    }
                    // under way until its answer's head is out: no answer here streams for
                    // long, and a connection closed gracefully still sends what it began
                    drop(busy);
                    Ok::<_, Infallible>(resp)
                })
            })
        };
        let stream = TokioIo::new(stream);
        if http2 {
            let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
            builder
                .timer(TokioTimer::new())
                .max_concurrent_streams(MAX_CONCURRENT_STREAMS)
                .max_pending_accept_reset_streams(MAX_PENDING_RESET_STREAMS)
                .max_local_error_reset_streams(MAX_LOCAL_ERROR_RESET_STREAMS)
                .max_header_list_size(MAX_HEADER_LIST_BYTES)
                .keep_alive_interval(KEEPALIVE_INTERVAL)
                .keep_alive_timeout(KEEPALIVE_TIMEOUT);
            let conn: Pin<Box<dyn Graceful>> = Box::pin(builder.serve_connection(stream, requests));
            drive(conn, activity, self, peer).await
        } else {
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(self.limits.header_timeout);
            let conn: Pin<Box<dyn Graceful>> = Box::pin(builder.serve_connection(stream, requests));
            drive(conn, activity, self, peer).await
        }
    }
}

/// Runs one connection to its end, closing it gracefully when it has been
/// idle too long or the server stops.
async fn drive(
    mut connection: Pin<Box<dyn Graceful>>,
    activity: Arc<Activity>,
    listener: Arc<HttpListener>,
    peer: SocketAddr,
) {
    // owned, so that the future holds no borrow across the loop's awaits
    let stopped = listener.stop.clone().cancelled_owned();
    tokio::pin!(stopped);
    let idle_timeout = listener.limits.idle_timeout;
    let mut closing = false;
    loop {
        let check_at = activity.idle_deadline(idle_timeout);
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(listener = listener.name, %peer, error = %e, "connection ended with an error");
                }
                return;
            }
            _ = &mut stopped, if !closing => {
                connection.as_mut().shut_down();
                closing = true;
            }
            _ = tokio::time::sleep_until(check_at.into()), if !closing => {
                if activity.idle_for() >= idle_timeout {
                    listener.metrics.idle_closes.inc();
                    tracing::debug!(listener = listener.name, %peer, "idle for --idle-timeout: closing");
                    connection.as_mut().shut_down();
                    closing = true;
                }
            }
        }
    }
}

/// An HTTP/1 or HTTP/2 connection being served, which can be asked to finish
/// its requests and close.
trait Graceful: Future<Output = Result<(), hyper::Error>> + Send {
    fn shut_down(self: Pin<&mut Self>);
}

impl<C> Graceful for C
where
    C: GracefulConnection<Error = hyper::Error> + Send,
{
    fn shut_down(self: Pin<&mut Self>) {
        GracefulConnection::graceful_shutdown(self)
    }
}

/// When a connection last finished a request, and how many are under way.
struct Activity {
    origin: Instant,
    last_done_ms: AtomicU64,
    in_flight: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Activity {
            origin: Instant::now(),
            last_done_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        Busy(Arc::clone(self))
    }

    /// How long the connection has had no request under way.
    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        let last = Duration::from_millis(self.last_done_ms.load(Ordering::Relaxed));
        self.origin.elapsed().saturating_sub(last)
    }

    /// The earliest moment the connection can have been idle for `timeout`.
    fn idle_deadline(&self, timeout: Duration) -> Instant {
        Instant::now() + timeout.saturating_sub(self.idle_for())
    }
}

/// One request under way on a connection (dropped when it is answered).
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let a = &self.0;
        a.last_done_ms
            .store(a.origin.elapsed().as_millis() as u64, Ordering::Relaxed);
        a.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_connection_is_idle_only_while_no_request_is_under_way() {
        let a = Arc::new(Activity::new());
        std::thread::sleep(Duration::from_millis(20));
        assert!(a.idle_for() >= Duration::from_millis(20));
        let busy = a.begin();
        let also = a.begin();
        assert_eq!(a.idle_for(), Duration::ZERO);
        assert!(
            a.idle_deadline(Duration::from_secs(60)) >= Instant::now() + Duration::from_secs(59)
        );
        drop(busy);
        assert_eq!(
            a.idle_for(),
            Duration::ZERO,
            "one request is still under way"
        );
        drop(also);
        // idle again, counted from the last answer rather than from the start
        assert!(a.idle_for() < Duration::from_millis(20));
        assert_eq!(a.in_flight.load(Ordering::Relaxed), 0);
    }
}
