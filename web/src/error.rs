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
    #[error(transparent)]
    Auth(#[from] schemas::auth::AuthError),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Forbidden(String),
    /// A policy file that cannot be used: where and why, also as JSON.
    #[error("{1}")]
    Policy(serde_json::Value, String),
}

impl ApiError {
    pub fn status(&self) -> Status {
        match self {
            ApiError::Query(e) => e.status(),
            ApiError::BadRequest(_) => Status::InvalidArgument,
            ApiError::Auth(e) => e.status(),
            ApiError::NotFound(_) => Status::NotFound,
            ApiError::Forbidden(_) => Status::Forbidden,
            ApiError::Policy(..) => Status::InvalidArgument,
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
        let mut body = json!({"error": message, "kind": status.label()});
        if let ApiError::Policy(at, _) = &self {
            body["policy_error"] = at.clone();
        }
        let mut resp = (code, Json(body)).into_response();
        if let ApiError::Auth(schemas::auth::AuthError::TooManyAttempts { retry_after }) = &self {
            resp.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after.as_secs().max(1)),
            );
        }
        resp
    }
}
