//! OTLP/gRPC: the three `Export` methods as tonic routes (port 4317), served
//! by the binary's connection layer like every other listener.
//!
//! The services are written out here rather than taken from the generated
//! servers, for one reason: the generated ones decode the message with prost
//! before our code runs, and a small message can decode to gigabytes (see
//! `wire_budget`). Here tonic hands over the message's bytes (after gzip and
//! its size limit), and they take the same bounded decode as OTLP/HTTP —
//! budget check, then prost — and go to the WAL as received when nothing
//! changes them.

use std::convert::Infallible;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message as _;
use prost::bytes::{Buf as _, BufMut as _};
use tonic::codec::{
    Codec, CompressionEncoding, DecodeBuf, Decoder, EnabledCompressionEncodings, EncodeBuf, Encoder,
};
use tonic::server::{NamedService, UnaryService};
use tonic::{Request, Response, Status};

use schemas::auth::{Access, Tokens};

use super::body::Encoding;
use super::response::ExportResponse;
use crate::collector::Collector;
use crate::error::Error;
use crate::wal::Signal;

/// A tonic status for an error (clients retry UNAVAILABLE / RESOURCE_EXHAUSTED by code).
fn to_status(e: &Error) -> Status {
    let code = tonic::Code::from_i32(e.status().grpc());
    Status::new(code, e.status().client_message(e))
}

/// Messages as bytes both ways: requests are decoded by [`Collector::decode`],
/// responses arrive encoded.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

struct RawEncoder;
struct RawDecoder;

impl Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RawEncoder {
        RawEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

impl Encoder for RawEncoder {
    type Item = Vec<u8>;
    type Error = Status;
    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawDecoder {
    type Item = Vec<u8>;
    type Error = Status;
    /// One copy, into the buffer the WAL record is built from.
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Status> {
        let mut bytes = vec![0; src.remaining()];
        src.copy_to_slice(&mut bytes);
        Ok(Some(bytes))
    }
}

/// One signal's `Export` service: its gRPC names and response type.
trait ExportMethod: Send + Sync + 'static {
    const SERVICE: &'static str;
    const PATH: &'static str;
    const SIGNAL: Signal;
    type Response: ExportResponse;
}

struct Traces;
struct Logs;
struct Metrics;

impl ExportMethod for Traces {
    const SERVICE: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
    const PATH: &'static str = "/opentelemetry.proto.collector.trace.v1.TraceService/Export";
    const SIGNAL: Signal = Signal::Traces;
    type Response = ExportTraceServiceResponse;
}
impl ExportMethod for Logs {
    const SERVICE: &'static str = "opentelemetry.proto.collector.logs.v1.LogsService";
    const PATH: &'static str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    const SIGNAL: Signal = Signal::Logs;
    type Response = ExportLogsServiceResponse;
}
impl ExportMethod for Metrics {
    const SERVICE: &'static str = "opentelemetry.proto.collector.metrics.v1.MetricsService";
    const PATH: &'static str = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";
    const SIGNAL: Signal = Signal::Metrics;
    type Response = ExportMetricsServiceResponse;
}

/// The `Export` service of signal `M`, into the one ingest path.
struct ExportService<M> {
    collector: Arc<Collector>,
    _method: PhantomData<M>,
}

impl<M> Clone for ExportService<M> {
    fn clone(&self) -> Self {
        ExportService {
            collector: Arc::clone(&self.collector),
            _method: PhantomData,
        }
    }
}

impl<M: ExportMethod> NamedService for ExportService<M> {
    const NAME: &'static str = M::SERVICE;
}

impl<M: ExportMethod> UnaryService<Vec<u8>> for ExportService<M> {
    type Response = Vec<u8>;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Response<Vec<u8>>, Status>> + Send>,
    >;
    fn call(&mut self, request: Request<Vec<u8>>) -> Self::Future {
        let collector = Arc::clone(&self.collector);
        Box::pin(async move {
            let bytes = request.into_inner();
            let (req, _memory) = match collector.decode(M::SIGNAL, Encoding::Protobuf, &bytes) {
                Ok(r) => r,
                Err(e) => {
                    collector
                        .metrics()
                        .intake_requests
                        .add(M::SIGNAL.as_str(), 1);
                    collector.count_error(&e);
                    return Err(to_status(&e));
                }
            };
            let outcome = collector
                .export_with_encoding(req, Some(bytes))
                .await
                .map_err(|e| to_status(&e))?;
            Ok(Response::new(
                M::Response::from_outcome(&outcome).encode_to_vec(),
            ))
        })
    }
}

impl<M: ExportMethod, B> tower::Service<http::Request<B>> for ExportService<M>
where
    B: http_body::Body + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Self::Response, Infallible>> + Send>,
    >;
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = self.clone();
        let limit = self.collector.config().max_body_bytes;
        Box::pin(async move {
            if req.uri().path() != M::PATH {
                return Ok(
                    Status::unimplemented(format!("no method {}", req.uri().path())).into_http(),
                );
            }
            let mut gzip = EnabledCompressionEncodings::default();
            gzip.enable(CompressionEncoding::Gzip);
            let mut grpc = tonic::server::Grpc::new(RawCodec)
                .apply_compression_config(gzip, gzip)
                .apply_max_message_size_config(Some(limit), None);
            Ok(grpc.unary(method, req).await)
        })
    }
}

/// Builds the gRPC router: the three services with gzip and the body limit,
/// behind the token check and admission (both before the message is read).
pub fn routes(collector: Arc<Collector>, tokens: Tokens) -> tonic::service::Routes {
    let gate = {
        let collector = Arc::clone(&collector);
        move |mut req: Request<()>| -> Result<Request<()>, Status> {
            let authorization = req.metadata().get("authorization").map(|v| v.as_bytes());
            // set by the connection layer that serves these routes, as for OTLP/HTTP
            let peer = req
                .extensions()
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip());
            if let Err(e) = tokens.check(Access::Ingest, authorization, peer) {
                let e = Error::Auth(e);
                collector.count_error(&e);
                return Err(to_status(&e));
            }
            // the permit rides in the request's extensions until the call is answered
            let permit = collector.admit().map_err(|e| to_status(&e))?;
            req.extensions_mut().insert(Arc::new(permit));
            Ok(req)
        }
    };
    fn service<M: ExportMethod, G: tonic::service::Interceptor>(
        collector: &Arc<Collector>,
        gate: G,
    ) -> tonic::service::interceptor::InterceptedService<ExportService<M>, G> {
        tonic::service::interceptor::InterceptedService::new(
            ExportService::<M> {
                collector: Arc::clone(collector),
                _method: PhantomData,
            },
            gate,
        )
    }
    tonic::service::Routes::new(service::<Traces, _>(&collector, gate.clone()))
        .add_service(service::<Logs, _>(&collector, gate.clone()))
        .add_service(service::<Metrics, _>(&collector, gate))
}
