//! The HTTP API (and, later, the dashboard) over the query layer.
//!
//! Requests come in through [`router`]; `POST /api/sql` runs read-only SQL
//! through [`query::QueryEngine`] (which sees Parquet and not-yet-flushed rows)
//! and answers `{"columns": [...], "rows": [[...]]}`. Errors map through
//! [`schemas::Status`]: the user's mistakes come back as 400 with the reason,
//! server faults as 500 with a generic text (details go to the log).

pub mod error;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use query::QueryEngine;
use schemas::auth::{Access, Tokens};
use serde::Deserialize;

pub use error::ApiError;

#[derive(Clone)]
pub struct AppState {
    pub engine: QueryEngine,
    pub tokens: Tokens,
}

#[derive(Debug, Deserialize)]
pub struct SqlRequest {
    pub sql: String,
}

/// The API router; `extra` (health, metrics) is merged in unauthenticated.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/sql", post(run_sql))
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .with_state(state)
}

async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let authorization = req.headers().get(header::AUTHORIZATION).map(|v| v.as_bytes());
    if state.tokens.check(Access::Read, authorization).is_err() {
        return ApiError::Unauthenticated.into_response();
    }
    next.run(req).await
}

/// `{"sql": "..."}`. The body is read as JSON whatever the Content-Type, so a
/// plain `curl -d '{"sql": ...}'` works.
async fn run_sql(
    State(state): State<AppState>,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let req: SqlRequest = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!("expected a JSON body {{\"sql\": \"...\"}}: {e}"))
    })?;
    let result = state.engine.sql(&req.sql).await?;
    Ok(Json(query::format::api_json(&result)?))
}
