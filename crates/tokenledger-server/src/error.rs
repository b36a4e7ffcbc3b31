//! Errors of the server as a process (cannot bind, cannot open the store)
//! and of one request (a status and a reason, always JSON).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the server's runtime failed: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("invalid [server] configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] tokenledger_core::Error),
}

/// A request that failed: answered with `{"error": reason}` and `status`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub reason: String,
}

impl ApiError {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> ApiError {
        ApiError {
            status,
            reason: reason.into(),
        }
    }

    pub fn bad_request(reason: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, reason)
    }

    /// The store failed: the request may be retried, nothing of it was kept.
    pub fn store(err: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("the store failed, nothing of this request was stored: {err}"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.reason });
        (self.status, axum::Json(body)).into_response()
    }
}

/// Runs blocking store work off the async threads; a panic in it (never
/// expected) becomes a 500 rather than a dropped connection.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error: {e}"),
        ))
    })
}
