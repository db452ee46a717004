//! Split tokens from files, on every surface, and the limit on failed attempts.

use std::os::unix::fs::PermissionsExt as _;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Server, vigil_with_timeout};
use crate::otlp_clients::json_logs;
use crate::pg::{psql, psql_ok};

async fn send_logs(server: &Server, token: Option<&str>) -> u16 {
    let mut r = server
        .client
        .post(server.otlp_url("/v1/logs"))
        .header("content-type", "application/json")
        .body(json_logs("auth"));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    r.send().await.unwrap().status().as_u16()
}

async fn sql(server: &Server, token: &str) -> (u16, Value) {
    let r = server
        .client
        .post(format!("http://{}/api/sql", server.http))
        .bearer_auth(token)
        .json(&json!({"sql": "SELECT count(*) AS n FROM otlp_logs"}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ingest_token_cannot_read_and_a_read_token_cannot_send() {
    let dir = tempfile::tempdir().unwrap();
    let (ingest_file, read_file) = (dir.path().join("ingest"), dir.path().join("read"));
    std::fs::write(&ingest_file, "agents-only\n").unwrap();
    std::fs::write(&read_file, "  readers-only  \n").unwrap();
    for f in [&ingest_file, &read_file] {
        std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let server = Server::start_with(&[
        "--ingest-token-file",
        ingest_file.to_str().unwrap(),
        "--read-token-file",
        read_file.to_str().unwrap(),
    ])
    .await;
    assert_eq!(send_logs(&server, Some("agents-only")).await, 200);
    assert_eq!(send_logs(&server, Some("readers-only")).await, 401);
    assert_eq!(send_logs(&server, None).await, 401);

    let (status, body) = sql(&server, "readers-only").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rows"][0][0], 1);
    let (status, body) = sql(&server, "agents-only").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["kind"], "unauthenticated");

    // the dashboard's login and the Postgres password take the read token only
    let (ok, _, err) = psql(&server, Some("agents-only"), "SELECT 1;\n");
    assert!(
        !ok && err.contains("password authentication failed"),
        "{err}"
    );
    let out = psql_ok(
        &server,
        Some("readers-only"),
        "\\pset tuples_only on\nSELECT 7 * 6;\n",
    );
    assert!(out.lines().any(|l| l == "42"), "{out}");
    let page = server
        .client
        .get(format!("http://{}/sessions", server.http))
        .bearer_auth("agents-only")
        .send()
        .await
        .unwrap();
    assert_eq!(
        page.url().path(),
        "/login",
        "an ingest token opens no page: sent to the login instead"
    );
    // the failures so far (two OTLP, one SQL, one psql, one page), all counted
    assert!(server.metric("vigil_auth_failures_total").await >= 5.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_token_file_stops_the_start_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let data = dir.path().join("data");
    for (args, expected) in [
        (
            vec!["--auth-token-file", empty.to_str().unwrap()],
            "is empty",
        ),
        (
            vec![
                "--read-token-file",
                dir.path().join("absent").to_str().unwrap(),
            ],
            "reading the token file",
        ),
    ] {
        let mut full = vec!["serve", "--data-dir", data.to_str().unwrap()];
        full.extend(args);
        let (ok, _, err) = vigil_with_timeout(&full, Duration::from_secs(30));
        assert!(!ok, "started with {full:?}");
        assert!(err.contains(expected), "{full:?}: {err}");
    }
    assert!(
        !data.exists(),
        "a bad token file must stop the start before the store is opened"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn repeated_failures_from_one_address_are_refused_for_a_while() {
    let server = Server::start_with(&["--auth-token", "s3cret"]).await;
    // every surface shares the count: OTLP/HTTP failures lock out the API too
    for i in 0..20 {
        assert_eq!(send_logs(&server, Some("guess")).await, 401, "attempt {i}");
    }
    let r = server
        .client
        .post(server.otlp_url("/v1/logs"))
        .header("content-type", "application/json")
        .bearer_auth("s3cret")
        .body(json_logs("locked"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "the right token is not even checked now");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    let (status, body) = sql(&server, "s3cret").await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("too many failed authentication attempts"),
        "{body}"
    );
    assert_eq!(server.metric("vigil_auth_failures_total").await, 20.0);
    assert_eq!(server.metric("vigil_auth_refused_total").await, 2.0);
}
