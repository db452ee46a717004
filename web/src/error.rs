//! API errors and their HTTP answers.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use schemas::Status;
use serde_json::json;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Query(#[from] query::Error),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("missing or invalid bearer token")]
    Unauthenticated,
}

impl ApiError {
    pub fn status(&self) -> Status {
        match self {
            ApiError::Query(e) => e.status(),
            ApiError::BadRequest(_) => Status::InvalidArgument,
            ApiError::Unauthenticated => Status::Unauthenticated,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = status.client_message(&self);
        if status.wire().server_fault {
            tracing::error!(error = %self, "API request failed");
        }
        let code = StatusCode::from_u16(status.http()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            code,
            Json(json!({"error": message, "kind": status.label()})),
        )
            .into_response()
    }
}
