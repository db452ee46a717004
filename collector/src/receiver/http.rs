//! OTLP/HTTP: `POST /v1/{traces,logs,metrics}`, protobuf or JSON, gzip or not.
//!
//! Handlers are thin: read the body (size-limited), undo the encoding, decode,
//! call [`Collector::export`], answer in the request's encoding with an
//! `Export*ServiceResponse` or a `google.rpc.Status`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message as _;
use schemas::auth::{Access, Tokens};
use serde_json::json;

use super::body::{Encoding, decode_content};
use super::response::ExportResponse;
use crate::collector::{Collector, ExportOutcome};
use crate::error::Error;
use crate::wal::Signal;

/// Seconds a client should wait before retrying an overloaded or closing server.
pub(crate) const RETRY_AFTER_SECS: u64 = 2;

#[derive(Clone)]
struct HttpState {
    collector: Arc<Collector>,
    tokens: Tokens,
}

/// `google.rpc.Status`, the error body OTLP/HTTP specifies.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

/// The OTLP/HTTP router (port 4318).
pub fn router(collector: Arc<Collector>, tokens: Tokens) -> Router {
    // the body limit applies to the bytes on the wire; decompressed size is checked separately
    let limit = collector.config().max_body_bytes;
    let state = HttpState { collector, tokens };
    // layers run outside in: the token first, then admission, both before the body is read
    Router::new()
        .route(
            Signal::Traces.otlp_http_path(),
            post(export_signal::<TRACES>),
        )
        .route(Signal::Logs.otlp_http_path(), post(export_signal::<LOGS>))
        .route(
            Signal::Metrics.otlp_http_path(),
            post(export_signal::<METRICS>),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), admit))
        .layer(middleware::from_fn_with_state(state.clone(), authorize))
        .layer(DefaultBodyLimit::max(limit))
        .with_state(state)
}

/// `/healthz`, `/readyz` and `/metrics`, for the API port.
pub fn admin_router(collector: Arc<Collector>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(|State(c): State<Arc<Collector>>| async move {
                if c.is_accepting() {
                    (StatusCode::OK, "ready\n")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n")
                }
            }),
        )
        .route(
            "/metrics",
            get(|State(c): State<Arc<Collector>>| async move {
                (
                    [(header::CONTENT_TYPE, crate::metrics::CONTENT_TYPE)],
                    c.render_metrics(),
                )
            }),
        )
        .with_state(collector)
}

/// The request's encoding for an early error answer (JSON when unknown).
fn answer_encoding(req: &Request) -> Encoding {
    Encoding::from_content_type(content_type(req.headers())).unwrap_or(Encoding::Json)
}

/// The client's address, when the server was started with connect info.
pub fn peer_ip(req: &Request) -> Option<std::net::IpAddr> {
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// The bearer-token gate (before the body is read).
async fn authorize(State(state): State<HttpState>, req: Request, next: Next) -> Response {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    if let Err(e) = state
        .tokens
        .check(Access::Ingest, authorization, peer_ip(&req))
    {
        let e = Error::Auth(e);
        state.collector.count_error(&e);
        return error_response(&e, answer_encoding(&req));
    }
    next.run(req).await
}

/// Admission: a permit per request in flight, held until the answer is produced,
/// so bodies waiting for the CPU are bounded.
async fn admit(State(state): State<HttpState>, req: Request, next: Next) -> Response {
    let _permit = match state.collector.admit() {
        Ok(p) => p,
        Err(e) => return error_response(&e, answer_encoding(&req)),
    };
    next.run(req).await
}

async fn not_found(State(state): State<HttpState>, req: Request) -> Response {
    let e = Error::NotFound(req.uri().path().to_string());
    state.collector.count_error(&e);
    error_response(&e, Encoding::Json)
}

fn content_type(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
}

const TRACES: u8 = Signal::Traces as u8;
const LOGS: u8 = Signal::Logs as u8;
const METRICS: u8 = Signal::Metrics as u8;

/// `POST /v1/<signal>`; the signal is the route's, as its `u8` tag.
async fn export_signal<const SIGNAL: u8>(
    State(state): State<HttpState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let signal = Signal::from_u8(SIGNAL).expect("a signal tag");
    let collector = &state.collector;
    let encoding = match Encoding::from_content_type(content_type(&headers)) {
        Ok(e) => e,
        Err(e) => {
            collector.count_error(&e);
            return error_response(&e, Encoding::Json);
        }
    };
    let limit = collector.config().max_body_bytes;
    let decoded = body
        .map_err(|r| {
            if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::TooLarge { limit }
            } else {
                Error::BodyRead(r.body_text())
            }
        })
        .and_then(|raw| {
            let enc = headers
                .get(header::CONTENT_ENCODING)
                .and_then(|v| v.to_str().ok());
            decode_content(enc, &raw, limit)
        })
        .and_then(|bytes| {
            let (req, memory) = collector.decode(signal, encoding, &bytes)?;
            Ok((
                req,
                memory,
                (encoding == Encoding::Protobuf).then_some(bytes),
            ))
        });
    let (request, _memory, proto) = match decoded {
        Ok(r) => r,
        Err(e) => {
            collector.metrics().intake_requests.add(signal.as_str(), 1);
            collector.count_error(&e);
            return error_response(&e, encoding);
        }
    };
    match collector.export_with_encoding(request, proto).await {
        Ok(outcome) => success_response(signal, encoding, &outcome),
        Err(e) => error_response(&e, encoding),
    }
}

fn success_response(signal: Signal, encoding: Encoding, o: &ExportOutcome) -> Response {
    fn body<R: ExportResponse>(encoding: Encoding, o: &ExportOutcome) -> Vec<u8> {
        match encoding {
            Encoding::Json => R::json(o),
            Encoding::Protobuf => R::from_outcome(o).encode_to_vec(),
        }
    }
    let bytes = match signal {
        Signal::Traces => body::<ExportTraceServiceResponse>(encoding, o),
        Signal::Logs => body::<ExportLogsServiceResponse>(encoding, o),
        Signal::Metrics => body::<ExportMetricsServiceResponse>(encoding, o),
    };
    ([(header::CONTENT_TYPE, encoding.content_type())], bytes).into_response()
}

/// An error as OTLP/HTTP specifies: the status code, a `google.rpc.Status` body
/// in the request's encoding, and `Retry-After` when retrying makes sense.
pub(crate) fn error_response(e: &Error, encoding: Encoding) -> Response {
    let wire = e.status().wire();
    let message = e.status().client_message(e);
    let body = match encoding {
        Encoding::Json => json!({"code": wire.grpc, "message": message})
            .to_string()
            .into_bytes(),
        Encoding::Protobuf => RpcStatus {
            code: wire.grpc,
            message,
        }
        .encode_to_vec(),
    };
    let status = StatusCode::from_u16(wire.http).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, encoding.content_type())],
        body,
    )
        .into_response();
    if wire.retryable {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    }
    resp
}
