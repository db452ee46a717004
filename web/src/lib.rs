//! The HTTP API and the dashboard over the query layer.
//!
//! Requests come in through [`router`]; `POST /api/sql` runs read-only SQL
//! through [`query::QueryEngine`] (which sees Parquet and not-yet-flushed rows)
//! and answers `{"columns": [...], "rows": [[...]]}`. The rest of the API
//! (`/api/sessions`, `/api/sessions/{id}`, `/api/findings`, `/api/rules`,
//! `POST /api/check`) is built in `api` from SQL over the same views. Errors map through
//! [`schemas::Status`]: the user's mistakes come back as 400 with the reason,
//! server faults as 500 with a generic text (details go to the log). The
//! dashboard (`dashboard`: `/`, `/sessions`, `/findings`, `/rules`, `/sql`)
//! renders the same answers as HTML pages.

mod api;
mod dashboard;
pub mod error;
pub mod pg;

use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use query::QueryEngine;
use schemas::auth::{Access, Tokens};
use schemas::{Clock, SystemClock};
use serde::Deserialize;
use std::sync::Arc;

pub use api::session_chain;
pub use error::ApiError;

#[derive(Clone)]
pub struct AppState {
    engine: QueryEngine,
    tokens: Tokens,
    /// The detection rules the server runs (for `/api/rules`).
    rules: Arc<query::detect::RuleSet>,
    endpoints: Endpoints,
    clock: Arc<dyn Clock>,
    logins: Arc<dashboard::Logins>,
    /// served over TLS: the dashboard's cookies are `Secure`
    secure_cookies: bool,
}

/// Where agents send telemetry to this server (the dashboard's set-up snippets).
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// OTLP/HTTP base URL, `http://host:port` (`https://` with TLS).
    pub otlp_http: String,
    /// OTLP/gRPC base URL, `http://host:port` (`https://` with TLS).
    pub otlp_grpc: String,
}

impl Default for Endpoints {
    fn default() -> Self {
        Endpoints {
            otlp_http: "http://127.0.0.1:4318".into(),
            otlp_grpc: "http://127.0.0.1:4317".into(),
        }
    }
}

impl AppState {
    pub fn new(engine: QueryEngine, tokens: Tokens, rules: Arc<query::detect::RuleSet>) -> Self {
        AppState {
            engine,
            tokens,
            rules,
            endpoints: Endpoints::default(),
            clock: Arc::new(SystemClock),
            logins: Arc::default(),
            secure_cookies: false,
        }
    }

    /// The dashboard is served over TLS: its cookies say `Secure`.
    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    pub fn with_endpoints(mut self, endpoints: Endpoints) -> Self {
        self.endpoints = endpoints;
        self
    }

    /// The clock the dashboard's time ranges count back from.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }
}

#[derive(Debug, Deserialize)]
pub struct SqlRequest {
    pub sql: String,
}

/// The API (bearer token) and the dashboard (login cookie or bearer token).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/sql", post(run_sql))
        .route("/api/sessions", get(api::sessions))
        .route("/api/sessions/{id}", get(api::session))
        .route("/api/findings", get(api::findings))
        .route("/api/rules", get(api::rules))
        .route("/api/check", post(api::check))
        .layer(middleware::from_fn_with_state(state.clone(), require_token))
        .with_state(state.clone())
        .merge(dashboard::router(state))
}

/// The client's address, when the server runs with connect info (`vigil serve`
/// does; handler tests do not, and then nothing is limited per address).
pub(crate) fn peer_ip(req: &Request) -> Option<std::net::IpAddr> {
    peer_of(req.extensions())
}

fn peer_of(extensions: &axum::http::Extensions) -> Option<std::net::IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// [`peer_ip`] as an extractor, for handlers that take a form.
pub(crate) struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(peer_of(&parts.extensions)))
    }
}

async fn require_token(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(|v| v.as_bytes());
    if let Err(e) = state
        .tokens
        .check(Access::Read, authorization, peer_ip(&req))
    {
        return ApiError::Auth(e).into_response();
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

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use serde_json::{Value, json};
    use tower::ServiceExt as _;

    use super::*;

    async fn app(tokens: Tokens) -> (Router, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("tables")).unwrap();
        let engine = QueryEngine::offline(dir.path()).await.unwrap();
        let rules = std::sync::Arc::new(query::detect::RuleSet::defaults());
        (router(AppState::new(engine, tokens, rules)), dir)
    }

    async fn call(
        app: &Router,
        method: &str,
        body: &str,
        auth: Option<&str>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri("/api/sql");
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let resp = app
            .clone()
            .oneshot(req.body(Body::from(body.to_string())).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    #[tokio::test]
    async fn sql_answers_columns_and_rows_and_maps_each_error_to_its_status() {
        let (app, _dir) = app(Tokens::open()).await;
        let cases: [(&str, StatusCode, Value); 5] = [
            (
                r#"{"sql": "SELECT 1 AS x, 'a' AS y, NULL AS z"}"#,
                StatusCode::OK,
                json!({"columns": ["x", "y", "z"], "rows": [[1, "a", null]]}),
            ),
            (
                "not json",
                StatusCode::BAD_REQUEST,
                json!("invalid_argument"),
            ),
            (
                r#"{"sql": "SELEC 1"}"#,
                StatusCode::BAD_REQUEST,
                json!("invalid_argument"),
            ),
            (
                r#"{"sql": "DROP VIEW agent_events"}"#,
                StatusCode::FORBIDDEN,
                json!("forbidden"),
            ),
            (
                r#"{"sql": "SELECT count(*) AS n FROM agent_events"}"#,
                StatusCode::OK,
                json!({"columns": ["n"], "rows": [[0]]}),
            ),
        ];
        for (body, status, want) in cases {
            let (got_status, got) = call(&app, "POST", body, None).await;
            assert_eq!(got_status, status, "{body}: {got}");
            if status == StatusCode::OK {
                assert_eq!(got, want, "{body}");
            } else {
                assert_eq!(got["kind"], want, "{body}: {got}");
                assert!(
                    got["error"].as_str().is_some_and(|e| !e.is_empty()),
                    "{body}: {got}"
                );
            }
        }
        let (status, _) = call(&app, "GET", "", None).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    }

    #[tokio::test]
    async fn the_token_is_checked_like_on_every_other_port() {
        let (app, _dir) = app(Tokens::new(Some("ingest-t"), Some("read-t"))).await;
        let body = r#"{"sql": "SELECT 1 AS x"}"#;
        for (auth, status) in [
            (None, StatusCode::UNAUTHORIZED),
            (Some("Bearer nope"), StatusCode::UNAUTHORIZED),
            (Some("Bearer ingest-t"), StatusCode::UNAUTHORIZED),
            (Some("Bearer read-t"), StatusCode::OK),
            (Some("bearer read-t"), StatusCode::OK),
        ] {
            let (got, v) = call(&app, "POST", body, auth).await;
            assert_eq!(got, status, "{auth:?}: {v}");
            if status == StatusCode::UNAUTHORIZED {
                assert_eq!(v["kind"], "unauthenticated");
            }
        }
    }
}
