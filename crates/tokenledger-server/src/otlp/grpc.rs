//! OTLP over gRPC: `MetricsService/Export` and `LogsService/Export` on their
//! own listener. Admission, mapping, storing and partial successes are the
//! HTTP handlers' own functions; tonic only frames, inflates gzip and
//! enforces `body_limit_bytes` on the message (compressed and inflated).

use super::{export_logs, export_metrics};
use crate::app::{AppState, Need};
use crate::auth::Principal;
use crate::error::{ApiError, ServerError};
use axum::http::StatusCode;
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
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tonic::codec::CompressionEncoding;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Code, Request, Response, Status};

/// Serves both OTLP services on `listener` until `shutdown` completes, then
/// finishes the calls already accepted, as the HTTP server does.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    let limit = state.body_limit;
    let otlp = Arc::new(Otlp(Arc::clone(&state)));
    let metrics = MetricsServiceServer::from_arc(Arc::clone(&otlp))
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(limit);
    let logs = LogsServiceServer::from_arc(otlp)
        .accept_compressed(CompressionEncoding::Gzip)
        .max_decoding_message_size(limit);
    Server::builder()
        .add_service(InterceptedService::new(metrics, admit(Arc::clone(&state))))
        .add_service(InterceptedService::new(logs, admit(state)))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown)
        .await
        .map_err(|e| ServerError::Runtime(std::io::Error::other(e)))
}

/// Checks the bearer token (and takes from the rate limit) from the call's
/// metadata before its message is read, so a refused caller costs no
/// decoding, just as the HTTP handlers check before reading the body.
fn admit(state: Arc<AppState>) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |mut request: Request<()>| {
        let peer = request
            .remote_addr()
            .ok_or_else(|| Status::internal("the caller's address is unknown"))?;
        let headers = request.metadata().clone().into_headers();
        let principal = state.auth.check(&headers, Need::Write, peer)?;
        request.extensions_mut().insert(principal);
        Ok(request)
    }
}

fn principal<T>(request: &Request<T>) -> Result<Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| Status::internal("the call was not admitted"))
}

struct Otlp(Arc<AppState>);

#[tonic::async_trait]
impl MetricsService for Otlp {
    async fn export(
        &self,
        request: Request<ExportMetricsServiceRequest>,
    ) -> Result<Response<ExportMetricsServiceResponse>, Status> {
        let principal = principal(&request)?;
        let answer = export_metrics(&self.0, principal, request.into_inner()).await?;
        Ok(Response::new(answer))
    }
}

#[tonic::async_trait]
impl LogsService for Otlp {
    async fn export(
        &self,
        request: Request<ExportLogsServiceRequest>,
    ) -> Result<Response<ExportLogsServiceResponse>, Status> {
        let principal = principal(&request)?;
        let answer = export_logs(&self.0, principal, request.into_inner()).await?;
        Ok(Response::new(answer))
    }
}

/// The codes OTLP exporters act on: `ResourceExhausted` and `Unavailable`
/// are retried (nothing was stored); `Unauthenticated`, `PermissionDenied`
/// and `InvalidArgument` drop the batch. Too large is `OutOfRange`, as
/// tonic answers for a message over `max_decoding_message_size`.
impl From<ApiError> for Status {
    fn from(error: ApiError) -> Status {
        let code = match error.status {
            StatusCode::UNAUTHORIZED => Code::Unauthenticated,
            StatusCode::FORBIDDEN => Code::PermissionDenied,
            StatusCode::BAD_REQUEST | StatusCode::UNSUPPORTED_MEDIA_TYPE => Code::InvalidArgument,
            StatusCode::TOO_MANY_REQUESTS => Code::ResourceExhausted,
            StatusCode::PAYLOAD_TOO_LARGE => Code::OutOfRange,
            StatusCode::SERVICE_UNAVAILABLE => Code::Unavailable,
            _ => Code::Internal,
        };
        Status::new(code, error.reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_errors_become_the_grpc_codes_exporters_expect() {
        let code = |status: StatusCode| Status::from(ApiError::new(status, "x")).code();
        assert_eq!(code(StatusCode::UNAUTHORIZED), Code::Unauthenticated);
        assert_eq!(code(StatusCode::FORBIDDEN), Code::PermissionDenied);
        assert_eq!(code(StatusCode::BAD_REQUEST), Code::InvalidArgument);
        assert_eq!(code(StatusCode::TOO_MANY_REQUESTS), Code::ResourceExhausted);
        assert_eq!(code(StatusCode::SERVICE_UNAVAILABLE), Code::Unavailable);
        assert_eq!(code(StatusCode::INTERNAL_SERVER_ERROR), Code::Internal);
    }
}
