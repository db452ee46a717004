//! The dashboard: server-rendered pages (askama templates in `web/templates`)
//! over the same functions the JSON API answers from, so a page and
//! `/api/...` cannot disagree. CSS and a little JavaScript (live refresh,
//! keyboard) are embedded in the binary; nothing loads from elsewhere.
//!
//! Everything shown came from agents and is attacker-controlled: templates
//! escape every value (no `|safe`), links are built only from our own paths with
//! percent-encoded ids, and every page carries a strict Content-Security-Policy
//! (scripts and styles only from this server's `/static/`, no inline script).

mod auth;
mod charts;
mod format;
mod overview;
mod pages;
mod session;
mod sql;

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Router};
use schemas::auth::Access;
use serde::Deserialize;

pub use auth::Logins;

use crate::{ApiError, AppState};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const CSS: &str = include_str!("../../static/vigil.css");
const JS: &str = include_str!("../../static/vigil.js");
const EARLY_JS: &str = include_str!("../../static/early.js");
const ICON: &str = include_str!("../../static/icon.svg");

/// The dashboard's routes; `/static/*` and the login form are open, every other
/// page needs a login (or a bearer token) when the server has a token.
pub(crate) fn router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(overview::page))
        .route("/sessions", get(pages::sessions))
        .route("/sessions/{id}", get(session::page))
        .route("/events/{id}", get(session::event))
        .route("/findings", get(pages::findings))
        .route("/rules", get(pages::rules))
        .route("/sql", get(sql::page))
        .route("/sql.csv", get(sql::csv))
        .route("/live", get(live))
        .route("/logout", axum::routing::post(logout))
        .layer(middleware::from_fn_with_state(state.clone(), require_login));
    Router::new()
        .merge(pages)
        .route("/login", get(login_form).post(login))
        .route("/static/vigil.css", get(|| asset(CSS, "text/css")))
        .route("/static/vigil.js", get(|| asset(JS, "text/javascript")))
        .route(
            "/static/early.js",
            get(|| asset(EARLY_JS, "text/javascript")),
        )
        .route("/static/icon.svg", get(|| asset(ICON, "image/svg+xml")))
        .layer(middleware::from_fn(security_headers))
        .with_state(state)
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

async fn security_headers(req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

/// Who is looking: what the header shows and what logout needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Viewer {
    /// The server has no token: anyone who can reach it may read.
    pub open: bool,
    /// The CSRF token of the viewer's login (for the logout form).
    pub csrf: Option<String>,
}

async fn require_login(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let viewer = if !state.tokens.required(Access::Read) {
        Some(Viewer {
            open: true,
            csrf: None,
        })
    } else if let Some(csrf) =
        auth::cookie(req.headers(), auth::LOGIN_COOKIE).and_then(|id| state.logins.csrf_of(id))
    {
        Some(Viewer {
            open: false,
            csrf: Some(csrf),
        })
    } else {
        // scripts and curl may send the API's bearer token instead
        let bearer = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        (bearer.is_some()
            && state
                .tokens
                .check(Access::Read, bearer, crate::peer_ip(&req))
                .is_ok())
        .then(Viewer::default)
    };
    match viewer {
        Some(v) => {
            req.extensions_mut().insert(v);
            next.run(req).await
        }
        None if req.method() == axum::http::Method::GET && req.uri().path() != "/live" => {
            let next_path = req
                .uri()
                .path_and_query()
                .map_or("/".to_string(), |p| p.to_string());
            Redirect::to(&format!(
                "/login?next={}",
                format::url_component(&next_path)
            ))
            .into_response()
        }
        None => ApiError::Auth(schemas::auth::AuthError::Missing).into_response(),
    }
}

/// The part every page shares: navigation and who is logged in.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    pub active: &'static str,
    pub viewer: Viewer,
    /// Set on pages that refresh themselves when new rows arrive: the store
    /// version the page was rendered from.
    pub live_version: Option<u64>,
}

impl Chrome {
    pub(crate) fn new(active: &'static str, viewer: &Viewer) -> Self {
        Chrome {
            active,
            viewer: viewer.clone(),
            live_version: None,
        }
    }
    pub(crate) fn live(mut self, version: u64) -> Self {
        self.live_version = Some(version);
        self
    }
    pub(crate) fn nav(&self) -> [(&'static str, &'static str, bool); 5] {
        [
            ("/", "Overview", self.active == "overview"),
            ("/sessions", "Sessions", self.active == "sessions"),
            ("/findings", "Findings", self.active == "findings"),
            ("/rules", "Rules", self.active == "rules"),
            ("/sql", "SQL", self.active == "sql"),
        ]
    }
}

/// A page's failure, as a page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    chrome: Chrome,
    status: u16,
    title: String,
    message: String,
}

/// An error on a page: the API's error, shown as HTML with the same status
/// and the same client-safe message (details go to the log).
pub(crate) struct PageError {
    error: ApiError,
    viewer: Viewer,
}

impl PageError {
    pub(crate) fn new(error: impl Into<ApiError>, viewer: &Viewer) -> Self {
        PageError {
            error: error.into(),
            viewer: viewer.clone(),
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.error.status();
        let message = status.client_message(&self.error);
        if status.wire().server_fault {
            tracing::error!(error = %self.error, "dashboard page failed");
        }
        let code = StatusCode::from_u16(status.http()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let page = ErrorPage {
            chrome: Chrome::new("", &self.viewer),
            status: code.as_u16(),
            title: code.canonical_reason().unwrap_or("Error").to_string(),
            message,
        };
        (code, render(&page)).into_response()
    }
}

/// Renders a template; a template that fails to render is a server fault.
pub(crate) fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => axum::response::Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a dashboard page");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// `GET /live`: the store's version, polled by pages that refresh themselves.
async fn live(State(state): State<AppState>) -> Response {
    axum::Json(serde_json::json!({"version": state.engine.store_version()})).into_response()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    chrome: Chrome,
    next: String,
    csrf: String,
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

async fn login_form(
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<LoginQuery>,
) -> Response {
    let next = auth::safe_next(q.next.as_deref());
    if !state.tokens.required(Access::Read) {
        return Redirect::to(&next).into_response();
    }
    login_page(next, None, StatusCode::OK, state.secure_cookies)
}

fn login_page(
    next: String,
    error: Option<String>,
    status: StatusCode,
    secure_cookies: bool,
) -> Response {
    let csrf = auth::random_token();
    let page = LoginPage {
        chrome: Chrome::new("login", &Viewer::default()),
        next,
        csrf: csrf.clone(),
        error,
    };
    let mut resp = (status, render(&page)).into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(
        auth::CSRF_COOKIE,
        &csrf,
        std::time::Duration::from_secs(3600),
        secure_cookies,
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    token: String,
    #[serde(default)]
    csrf: String,
    next: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    crate::Peer(peer): crate::Peer,
    headers: axum::http::HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = auth::safe_next(form.next.as_deref());
    let csrf_ok = auth::cookie(&headers, auth::CSRF_COOKIE)
        .is_some_and(|c| !form.csrf.is_empty() && auth::equal_secrets(c, &form.csrf));
    if !auth::same_origin(&headers) || !csrf_ok {
        return login_page(
            next,
            Some("The form expired or came from another site; please try again.".into()),
            StatusCode::FORBIDDEN,
            state.secure_cookies,
        );
    }
    if !state.tokens.required(Access::Read) {
        return Redirect::to(&next).into_response();
    }
    match state
        .tokens
        .check_token(Access::Read, form.token.as_bytes(), peer)
    {
        Ok(()) => {}
        Err(e @ schemas::auth::AuthError::TooManyAttempts { .. }) => {
            tracing::warn!(peer = ?peer, "dashboard login refused: too many failed attempts");
            return login_page(
                next,
                Some(format!("{e}.")),
                StatusCode::TOO_MANY_REQUESTS,
                state.secure_cookies,
            );
        }
        Err(_) => {
            tracing::warn!(peer = ?peer, "dashboard login with a wrong token");
            return login_page(
                next,
                Some("That token is not valid for reading.".into()),
                StatusCode::UNAUTHORIZED,
                state.secure_cookies,
            );
        }
    }
    let (id, _) = state.logins.create();
    let mut resp = Redirect::to(&next).into_response();
    let h = resp.headers_mut();
    for cookie in [
        auth::set_cookie(
            auth::LOGIN_COOKIE,
            &id,
            auth::LOGIN_TTL,
            state.secure_cookies,
        ),
        auth::set_cookie(
            auth::CSRF_COOKIE,
            "",
            std::time::Duration::ZERO,
            state.secure_cookies,
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

#[derive(Debug, Deserialize)]
pub(crate) struct LogoutForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(
    State(state): State<AppState>,
    headers: axum::http::HeaderMap,
    axum::Extension(viewer): axum::Extension<Viewer>,
    Form(form): Form<LogoutForm>,
) -> Response {
    let Some(expected) = viewer.csrf.as_deref() else {
        // nothing to log out of: open, or a bearer token
        return Redirect::to("/").into_response();
    };
    if !auth::same_origin(&headers) || !auth::equal_secrets(expected, &form.csrf) {
        return PageError::new(
            ApiError::Forbidden("logout must come from the dashboard's own form".into()),
            &viewer,
        )
        .into_response();
    }
    if let Some(id) = auth::cookie(&headers, auth::LOGIN_COOKIE) {
        state.logins.remove(id);
    }
    let mut resp = Redirect::to("/login").into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(
        auth::LOGIN_COOKIE,
        "",
        std::time::Duration::ZERO,
        state.secure_cookies,
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[cfg(test)]
mod tests;
