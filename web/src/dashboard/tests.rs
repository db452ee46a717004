//! Handler tests: every page, its status codes and headers, and the login flow,
//! through the real router (`tower::ServiceExt::oneshot`).

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use schemas::auth::Tokens;
use tower::ServiceExt as _;

use crate::{AppState, Endpoints, router};

struct Answer {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn app(tokens: Tokens) -> (Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tables")).unwrap();
    let engine = query::QueryEngine::offline(dir.path()).await.unwrap();
    let rules = std::sync::Arc::new(query::detect::RuleSet::defaults());
    let state = AppState::new(engine, tokens, rules).with_endpoints(Endpoints {
        otlp_http: "http://127.0.0.1:14318".into(),
        otlp_grpc: "http://127.0.0.1:14317".into(),
    });
    (router(state), dir)
}

async fn send(app: &Router, req: Request<Body>) -> Answer {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = axum::body::to_bytes(resp.into_body(), 8 << 20)
        .await
        .unwrap();
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

#[tokio::test]
async fn over_tls_the_dashboard_cookies_are_secure() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("tables")).unwrap();
    let engine = query::QueryEngine::offline(dir.path()).await.unwrap();
    let rules = std::sync::Arc::new(query::detect::RuleSet::defaults());
    let tokens = Tokens::new(Some("ingest-t"), Some("read-t"));
    let app = router(AppState::new(engine, tokens, rules).with_secure_cookies(true));
    let a = get(&app, "/login", None).await;
    assert_eq!(a.status, StatusCode::OK);
    let csrf = set_cookie(&a, "vigil_csrf").expect("csrf cookie");
    assert!(csrf.ends_with("; Secure"), "{csrf}");
    assert!(csrf.contains("HttpOnly; SameSite=Strict"), "{csrf}");
}

async fn get(app: &Router, uri: &str, cookie: Option<&str>) -> Answer {
    let mut req = Request::get(uri);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    send(app, req.body(Body::empty()).unwrap()).await
}

async fn post_form(
    app: &Router,
    uri: &str,
    form: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Answer {
    let mut req = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "127.0.0.1:8080");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    if let Some(o) = origin {
        req = req.header(header::ORIGIN, o);
    }
    send(app, req.body(Body::from(form.to_string())).unwrap()).await
}

fn header(a: &Answer, name: header::HeaderName) -> &str {
    a.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// `name=value` of the `Set-Cookie` for `name`, with its attributes.
fn set_cookie<'a>(a: &'a Answer, name: &str) -> Option<&'a str> {
    a.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
}

fn cookie_value(set: &str) -> &str {
    set.split(';')
        .next()
        .unwrap_or("")
        .split_once('=')
        .map_or("", |(_, v)| v)
}

#[tokio::test]
async fn every_page_renders_on_an_empty_store_with_its_security_headers() {
    let (app, _dir) = app(Tokens::open()).await;
    let pages = [
        ("/", "No sessions yet"),
        ("/?range=hour", "last hour"),
        ("/?range=all", "No sessions yet"),
        ("/sessions", "No sessions yet"),
        (
            "/sessions?q=rm&min_severity=high&sort=denials&dir=asc",
            "No session matches",
        ),
        ("/findings", "No findings"),
        ("/rules", "credential-read"),
        ("/sql", "Cookbook"),
        ("/sql?q=SELECT%201%20AS%20x", "1 rows in"),
    ];
    let mut failures = Vec::new();
    for (uri, want) in pages {
        let a = get(&app, uri, None).await;
        if a.status != StatusCode::OK {
            failures.push(format!("{uri}: status {}", a.status));
            continue;
        }
        if !a.body.contains(want) {
            failures.push(format!("{uri}: no {want:?}"));
        }
        if !header(&a, header::CONTENT_TYPE).starts_with("text/html") {
            failures.push(format!(
                "{uri}: content type {}",
                header(&a, header::CONTENT_TYPE)
            ));
        }
        let csp = header(&a, header::CONTENT_SECURITY_POLICY);
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
        ] {
            if !csp.contains(directive) {
                failures.push(format!("{uri}: CSP {csp:?} lacks {directive}"));
            }
        }
        if header(&a, header::X_CONTENT_TYPE_OPTIONS) != "nosniff" {
            failures.push(format!("{uri}: no nosniff"));
        }
        if a.body.contains("<script>") || a.body.contains("style=") {
            failures.push(format!("{uri}: inline script or style"));
        }
        if !a.body.contains("open access") {
            failures.push(format!("{uri}: the header does not say it is open"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // the empty state shows this server's own addresses, ready to copy
    let a = get(&app, "/", None).await;
    assert!(
        a.body
            .contains("endpoint = &#34;http://127.0.0.1:14318/v1/logs&#34;"),
        "{}",
        a.body
    );
    assert!(
        a.body
            .contains("OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:14317"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn bad_parameters_and_missing_things_get_their_status_as_a_page() {
    let (app, _dir) = app(Tokens::open()).await;
    for (uri, status, want) in [
        // quotes arrive escaped, as everything on a page
        (
            "/?range=year",
            StatusCode::BAD_REQUEST,
            "range &#34;year&#34;",
        ),
        (
            "/sessions?sort=password",
            StatusCode::BAD_REQUEST,
            "sort &#34;password&#34;",
        ),
        (
            "/sessions?min_severity=awful",
            StatusCode::BAD_REQUEST,
            "severity &#34;awful&#34;",
        ),
        (
            "/sessions?since=yesterday-ish",
            StatusCode::BAD_REQUEST,
            "since",
        ),
        (
            "/findings?severity=awful",
            StatusCode::BAD_REQUEST,
            "severity &#34;awful&#34;",
        ),
        (
            "/sessions/no-such-session",
            StatusCode::NOT_FOUND,
            "no session &#34;no-such-session&#34;",
        ),
        (
            "/events/ffff?session=s",
            StatusCode::NOT_FOUND,
            "no event &#34;ffff&#34;",
        ),
        ("/sql.csv", StatusCode::BAD_REQUEST, "no query"),
        (
            "/sql.csv?q=DROP%20VIEW%20agent_events",
            StatusCode::FORBIDDEN,
            "read-only",
        ),
        ("/nope", StatusCode::NOT_FOUND, ""),
    ] {
        let a = get(&app, uri, None).await;
        assert_eq!(a.status, status, "{uri}: {}", a.body);
        assert!(a.body.contains(want), "{uri}: no {want:?} in {}", a.body);
    }
    // the console shows a statement's error on its page
    let a = get(&app, "/sql?q=SELEC%201", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.body.contains("role=\"alert\""), "{}", a.body);
    assert!(a.body.contains("SELEC"), "{}", a.body);
}

#[tokio::test]
async fn csv_downloads_live_version_and_assets_have_their_types() {
    let (app, _dir) = app(Tokens::open()).await;
    let a = get(
        &app,
        "/sql.csv?q=SELECT%201%20AS%20x%2C%20%27a%2Cb%27%20AS%20y",
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(header(&a, header::CONTENT_TYPE), "text/csv; charset=utf-8");
    assert_eq!(
        header(&a, header::CONTENT_DISPOSITION),
        "attachment; filename=\"vigil-query.csv\""
    );
    assert_eq!(a.body, "x,y\n1,\"a,b\"\n");
    let a = get(&app, "/live", None).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.body, r#"{"version":0}"#);
    for (uri, ty) in [
        ("/static/vigil.css", "text/css"),
        ("/static/vigil.js", "text/javascript"),
        ("/static/early.js", "text/javascript"),
        ("/static/icon.svg", "image/svg+xml"),
    ] {
        let a = get(&app, uri, None).await;
        assert_eq!(a.status, StatusCode::OK, "{uri}");
        assert_eq!(header(&a, header::CONTENT_TYPE), ty, "{uri}");
        assert!(!a.body.is_empty(), "{uri}");
    }
}

#[tokio::test]
async fn with_a_token_the_dashboard_asks_for_it_once_and_logs_out() {
    let (app, _dir) = app(Tokens::new(Some("ingest-t"), Some("read-t"))).await;
    // not logged in: pages send to the login form, /live and POSTs answer 401
    let a = get(&app, "/sessions?q=x", None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(
        header(&a, header::LOCATION),
        "/login?next=%2Fsessions%3Fq%3Dx"
    );
    assert_eq!(
        get(&app, "/live", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        get(&app, "/static/vigil.css", None).await.status,
        StatusCode::OK
    );
    // the API's bearer token works on pages too; the ingest token does not
    for (auth, status) in [
        ("Bearer read-t", StatusCode::OK),
        ("Bearer ingest-t", StatusCode::SEE_OTHER),
    ] {
        let req = Request::get("/rules")
            .header(header::AUTHORIZATION, auth)
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&app, req).await.status, status, "{auth}");
    }

    let form = get(&app, "/login?next=%2Fsessions%3Fq%3Dx", None).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("name=\"token\""), "{}", form.body);
    let csrf_set = set_cookie(&form, "vigil_csrf").expect("csrf cookie");
    assert!(
        csrf_set.contains("HttpOnly") && csrf_set.contains("SameSite=Strict"),
        "{csrf_set}"
    );
    let csrf = cookie_value(csrf_set);
    assert!(
        form.body.contains(&format!("value=\"{csrf}\"")),
        "the form carries the cookie's value"
    );
    let csrf_cookie = format!("vigil_csrf={csrf}");
    let next = "next=%2Fsessions%3Fq%3Dx";

    // refused: a wrong token, no CSRF value, another site's origin
    let a = post_form(
        &app,
        "/login",
        &format!("token=nope&csrf={csrf}&{next}"),
        Some(&csrf_cookie),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(a.body.contains("not valid"), "{}", a.body);
    assert!(set_cookie(&a, "vigil_login").is_none());
    let a = post_form(
        &app,
        "/login",
        &format!("token=read-t&{next}"),
        Some(&csrf_cookie),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = post_form(
        &app,
        "/login",
        &format!("token=read-t&csrf={csrf}&{next}"),
        Some(&csrf_cookie),
        Some("http://evil.example"),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert!(set_cookie(&a, "vigil_login").is_none());
    // an open redirect is not on offer
    let a = post_form(
        &app,
        "/login",
        &format!("token=read-t&csrf={csrf}&next=%2F%2Fevil.example"),
        Some(&csrf_cookie),
        Some("http://127.0.0.1:8080"),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(header(&a, header::LOCATION), "/");

    let a = post_form(
        &app,
        "/login",
        &format!("token=read-t&csrf={csrf}&{next}"),
        Some(&csrf_cookie),
        Some("http://127.0.0.1:8080"),
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(header(&a, header::LOCATION), "/sessions?q=x");
    let login_set = set_cookie(&a, "vigil_login").expect("login cookie");
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(login_set.contains(attr), "{login_set} lacks {attr}");
    }
    // plain HTTP: a Secure cookie would never come back
    assert!(!login_set.contains("Secure"), "{login_set}");
    let login = format!("vigil_login={}", cookie_value(login_set));

    let page = get(&app, "/sessions?q=x", Some(&login)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("log out"), "{}", page.body);
    assert!(!page.body.contains("open access"));
    assert_eq!(
        get(&app, "/live", Some(&login)).await.status,
        StatusCode::OK
    );
    let logout_csrf = page
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the logout form's csrf")
        .to_string();

    // logout needs the login's own CSRF token
    let a = post_form(&app, "/logout", "csrf=wrong", Some(&login), None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&app, "/", Some(&login)).await.status,
        StatusCode::OK,
        "still logged in"
    );
    let a = post_form(
        &app,
        "/logout",
        &format!("csrf={logout_csrf}"),
        Some(&login),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(header(&a, header::LOCATION), "/login");
    assert!(set_cookie(&a, "vigil_login").is_some_and(|c| c.contains("Max-Age=0")));
    let a = get(&app, "/", Some(&login)).await;
    assert_eq!(
        a.status,
        StatusCode::SEE_OTHER,
        "the login is gone on the server too"
    );
}

#[tokio::test]
async fn without_a_token_login_sends_back_to_the_page() {
    let (app, _dir) = app(Tokens::open()).await;
    let a = get(&app, "/login?next=%2Ffindings", None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(header(&a, header::LOCATION), "/findings");
}
