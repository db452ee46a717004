//! OTLP/gRPC: the three `Export` services over one tonic server (port 4317).

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use schemas::auth::{Access, Tokens};

use super::response::ExportResponse;
use crate::collector::Collector;
use crate::error::Error;
use crate::request::ExportRequest;

#[derive(Clone)]
struct GrpcIngest {
    collector: Arc<Collector>,
}

/// A tonic status for an error (clients retry UNAVAILABLE / RESOURCE_EXHAUSTED by code).
fn to_status(e: &Error) -> Status {
    let code = tonic::Code::from_i32(e.status().grpc());
    Status::new(code, e.status().client_message(e))
}

impl GrpcIngest {
    async fn ingest<R: ExportResponse>(&self, req: ExportRequest) -> Result<Response<R>, Status> {
        let outcome = self
            .collector
            .export(req)
            .await
            .map_err(|e| to_status(&e))?;
        Ok(Response::new(R::from_outcome(&outcome)))
    }
}

/// The `Export` method of one signal's service: into the one ingest path.
macro_rules! export_service {
    ($($service:ident, $request:ident, $response:ident, $variant:ident;)*) => {$(
        #[tonic::async_trait]
        impl $service for GrpcIngest {
            async fn export(
                &self,
                request: Request<$request>,
            ) -> Result<Response<$response>, Status> {
                self.ingest(ExportRequest::$variant(request.into_inner())).await
            }
        }
    )*};
}

export_service! {
    TraceService, ExportTraceServiceRequest, ExportTraceServiceResponse, Traces;
    LogsService, ExportLogsServiceRequest, ExportLogsServiceResponse, Logs;
    MetricsService, ExportMetricsServiceRequest, ExportMetricsServiceResponse, Metrics;
}

/// Builds the gRPC router: the three services with gzip and the body limit,
/// behind the token check and admission (both before the message is read).
pub fn routes(collector: Arc<Collector>, tokens: Tokens) -> tonic::service::Routes {
    let limit = collector.config().max_body_bytes;
    let ingest = GrpcIngest {
        collector: Arc::clone(&collector),
    };
    let gate = move |mut req: Request<()>| -> Result<Request<()>, Status> {
        let authorization = req.metadata().get("authorization").map(|v| v.as_bytes());
        let peer = req.remote_addr().map(|a| a.ip());
        if let Err(e) = tokens.check(Access::Ingest, authorization, peer) {
            let e = Error::Auth(e);
            collector.count_error(&e);
            return Err(to_status(&e));
        }
        // the permit rides in the request's extensions until the call is answered
        let permit = collector.admit().map_err(|e| to_status(&e))?;
        req.extensions_mut().insert(Arc::new(permit));
        Ok(req)
    };
    // gzip both ways, the body limit, and the gate in front of each service
    macro_rules! service {
        ($server:ident) => {
            tonic::service::interceptor::InterceptedService::new(
                $server::new(ingest.clone())
                    .accept_compressed(CompressionEncoding::Gzip)
                    .send_compressed(CompressionEncoding::Gzip)
                    .max_decoding_message_size(limit),
                gate.clone(),
            )
        };
    }
    tonic::service::Routes::new(service!(TraceServiceServer))
        .add_service(service!(LogsServiceServer))
        .add_service(service!(MetricsServiceServer))
}

/// Serves gRPC on `listener` until `shutdown` resolves; in-flight calls finish.
pub async fn serve(
    routes: tonic::service::Routes,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), tonic::transport::Error> {
    let incoming = tokio_stream_from(listener);
    tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .add_routes(routes)
        .serve_with_incoming_shutdown(incoming, shutdown)
        .await
}

fn tokio_stream_from(listener: tokio::net::TcpListener) -> tonic::transport::server::TcpIncoming {
    tonic::transport::server::TcpIncoming::from(listener)
}
