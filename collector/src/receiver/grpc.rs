//! OTLP/gRPC: the three `Export` services over one tonic server (port 4317).

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::metrics_service_server::{
    MetricsService, MetricsServiceServer,
};
use opentelemetry_proto::tonic::collector::metrics::v1::{
    ExportMetricsPartialSuccess, ExportMetricsServiceRequest, ExportMetricsServiceResponse,
};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use tonic::codec::CompressionEncoding;
use tonic::{Request, Response, Status};

use super::token_matches;
use crate::collector::{Collector, ExportOutcome};
use crate::error::Error;
use crate::request::ExportRequest;

#[derive(Clone)]
pub struct GrpcIngest {
    collector: Arc<Collector>,
}

/// A tonic status for an error, with `RetryInfo`-style hint in the message for
/// retryable ones (clients retry UNAVAILABLE / RESOURCE_EXHAUSTED by code).
pub fn to_status(e: &Error) -> Status {
    let code = tonic::Code::from_i32(e.status().grpc());
    Status::new(code, e.client_message())
}

impl GrpcIngest {
    async fn ingest(&self, req: ExportRequest) -> Result<ExportOutcome, Status> {
        self.collector.export(req).await.map_err(|e| to_status(&e))
    }
}

fn rejected(o: &ExportOutcome) -> Option<(i64, String)> {
    (o.rejected > 0).then(|| {
        (
            i64::try_from(o.rejected).unwrap_or(i64::MAX),
            o.message.clone().unwrap_or_default(),
        )
    })
}

#[tonic::async_trait]
impl TraceService for GrpcIngest {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let o = self
            .ingest(ExportRequest::Traces(request.into_inner()))
            .await?;
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: rejected(&o).map(|(n, m)| ExportTracePartialSuccess {
                rejected_spans: n,
                error_message: m,
            }),
        }))
    }
}

#[tonic::async_trait]
impl LogsService for GrpcIngest {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let o = self
            .ingest(ExportRequest::Logs(request.into_inner()))
            .await?;
        Ok(Response::new(ExportLogsServiceResponse {
            partial_success: rejected(&o).map(|(n, m)| ExportLogsPartialSuccess {
                rejected_log_records: n,
                error_message: m,
            }),
        }))
    }
}

#[tonic::async_trait]
impl MetricsService for GrpcIngest {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let o = self
            .ingest(ExportRequest::Metrics(request.into_inner()))
            .await?;
        Ok(Response::new(ExportMetricsServiceResponse {
            partial_success: rejected(&o).map(|(n, m)| ExportMetricsPartialSuccess {
                rejected_data_points: n,
                error_message: m,
            }),
        }))
    }
}

/// Builds the gRPC router: the three services with gzip, the body limit and,
/// when configured, the bearer-token check.
pub fn routes(collector: Arc<Collector>, auth_token: Option<Arc<str>>) -> tonic::service::Routes {
    let limit = collector.config().max_body_bytes;
    let ingest = GrpcIngest {
        collector: Arc::clone(&collector),
    };
    let check = move |req: Request<()>| -> Result<Request<()>, Status> {
        if let Some(expected) = &auth_token {
            let presented = req
                .metadata()
                .get("authorization")
                .and_then(|v| v.to_str().ok());
            if !token_matches(presented, expected) {
                let e = Error::Unauthenticated;
                collector.count_error(&e);
                return Err(to_status(&e));
            }
        }
        // admission before the message is decoded; the permit rides in the
        // request's extensions until the call is answered
        let permit = collector.admit().map_err(|e| to_status(&e))?;
        let mut req = req;
        req.extensions_mut().insert(Arc::new(permit));
        Ok(req)
    };
    let traces = TraceServiceServer::new(ingest.clone())
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(limit);
    let logs = LogsServiceServer::new(ingest.clone())
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(limit);
    let metrics = MetricsServiceServer::new(ingest)
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(limit);
    tonic::service::Routes::new(tonic::service::interceptor::InterceptedService::new(
        traces,
        check.clone(),
    ))
    .add_service(tonic::service::interceptor::InterceptedService::new(
        logs,
        check.clone(),
    ))
    .add_service(tonic::service::interceptor::InterceptedService::new(
        metrics, check,
    ))
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
