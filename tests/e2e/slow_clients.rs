//! Slow and hostile clients against the real binary: a connection that says
//! nothing, headers or a body trickled a byte at a time, a gRPC call that never
//! ends, an idle HTTP/2 connection, more connections than the cap, an HTTP/2
//! reset flood. Each is cut off by its limit (configured small here) while
//! other clients keep being served, and memory and descriptors stay bounded.

use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::harness::{Server, wait_for};

const LIMITS: &[&str] = &[
    "--handshake-timeout",
    "1s",
    "--header-timeout",
    "1s",
    "--body-timeout",
    "2s",
    "--idle-timeout",
    "2s",
];

const LOG: &str = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"still served"}}]}]}]}"#;

/// A normal client on a new connection gets its export acknowledged.
async fn served(server: &Server) {
    let r = server
        .post_otlp("/v1/logs", "application/json", LOG.as_bytes().to_vec())
        .await;
    assert_eq!(r.status(), 200);
}

/// Reads until the server closes the connection; how long that took.
async fn until_closed(stream: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(
            limit.saturating_sub(started.elapsed()),
            stream.read(&mut buf),
        )
        .await
        {
            Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("the server did not close the connection within {limit:?}"),
        }
    }
}

/// Sends `head`, then `pad` a byte every 50 ms, over and over, until the server
/// closes the connection (at most 10 s); what it answered and when it closed.
async fn trickle(addr: &str, head: &[u8], pad: &'static [u8]) -> (Duration, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sender = tokio::spawn(async move {
        for b in pad.iter().cycle().take(4096) {
            if writer.write_all(&[*b]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let started = Instant::now();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer)).await;
    let took = started.elapsed();
    sender.abort();
    (took, answer)
}

async fn closed(server: &Server, listener: &str, reason: &str) -> f64 {
    server
        .metric(&format!(
            "vigil_connections_closed_total{{listener=\"{listener}\",reason=\"{reason}\"}}"
        ))
        .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connection_that_says_nothing_or_trickles_its_headers_is_closed_at_its_timeout() {
    let server = Server::start_with(LIMITS).await;
    let mut handles = Vec::new();
    for addr in [&server.otlp_http, &server.grpc, &server.http, &server.pg] {
        let addr = addr.clone();
        handles.push(tokio::spawn(async move {
            let mut silent = TcpStream::connect(&addr).await.unwrap();
            until_closed(&mut silent, Duration::from_secs(10)).await
        }));
    }
    // the silent connections do not stop anyone else
    served(&server).await;
    for (h, name) in handles
        .into_iter()
        .zip(["otlp_http", "otlp_grpc", "http", "pg"])
    {
        let took = h.await.unwrap();
        assert!(
            took >= Duration::from_millis(900) && took < Duration::from_secs(5),
            "{name}: a silent connection was closed after {took:?}, not at --handshake-timeout 1s"
        );
    }
    for listener in ["otlp_http", "otlp_grpc", "http", "pg"] {
        assert_eq!(
            closed(&server, listener, "handshake_timeout").await,
            1.0,
            "{listener}"
        );
    }

    // slowloris: a header byte every 50 ms never completes the header block
    let (took, answer) = trickle(
        &server.otlp_http,
        b"POST /v1/logs HTTP/1.1\r\nHost: vigil\r\n",
        b"X-Padding: ",
    )
    .await;
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(5),
        "trickled headers were cut off after {took:?}, not at --header-timeout 1s"
    );
    // no request was made of them
    assert!(
        answer.is_empty() || answer.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    served(&server).await;
    assert_eq!(server.count("SELECT count(*) FROM otlp_logs").await, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_trickled_a_byte_at_a_time_is_answered_408_and_a_grpc_call_that_never_ends_fails() {
    let server = Server::start_with(LIMITS).await;

    // HTTP/1.1: 4 KiB announced, a byte every 50 ms (each read is quick, the whole is not)
    let (took, answer) = trickle(
        &server.otlp_http,
        b"POST /v1/logs HTTP/1.1\r\nHost: vigil\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n",
        b" ",
    )
    .await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.to_lowercase().contains("connection: close"),
        "{answer}"
    );
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(6),
        "answered after {took:?}, not at --body-timeout 2s"
    );

    // gRPC: a call whose message never finishes arriving
    let tcp = TcpStream::connect(&server.grpc).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let request = http::Request::builder()
        .method("POST")
        .uri(format!(
            "http://{}/opentelemetry.proto.collector.logs.v1.LogsService/Export",
            server.grpc
        ))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (response, mut send) = client.send_request(request, false).unwrap();
    // a message frame that announces 1,000 bytes, then 10 of them, then nothing
    let mut frame = vec![0u8, 0, 0, 0x03, 0xe8];
    frame.extend_from_slice(&[0u8; 10]);
    send.send_data(Bytes::from(frame), false).unwrap();
    let started = Instant::now();
    let (tonic_ok, response) = tokio::join!(
        async {
            // meanwhile a normal gRPC client is served on another connection
            let mut c = opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient::connect(
                format!("http://{}", server.grpc),
            )
            .await
            .unwrap();
            c.export(
                opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest::default(
                ),
            )
            .await
            .is_ok()
        },
        tokio::time::timeout(Duration::from_secs(10), response)
    );
    assert!(tonic_ok);
    let response = response.expect("no answer to the unfinished call").unwrap();
    let took = started.elapsed();
    assert_eq!(response.status(), 200);
    let status_in_headers = response.headers().get("grpc-status").cloned();
    let mut body = response.into_body();
    let status = match status_in_headers {
        Some(s) => s,
        None => {
            while body.data().await.is_some() {}
            body.trailers().await.unwrap().expect("trailers")["grpc-status"].clone()
        }
    };
    assert_ne!(status, "0", "the unfinished call succeeded");
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(6),
        "the unfinished call was failed after {took:?}, not at --body-timeout 2s"
    );
    assert_eq!(closed(&server, "otlp_http", "body_timeout").await, 1.0);
    assert_eq!(closed(&server, "otlp_grpc", "body_timeout").await, 1.0);
    served(&server).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_http2_connection_is_closed_gracefully_at_the_idle_timeout() {
    let server = Server::start_with(LIMITS).await;
    let tcp = TcpStream::connect(&server.grpc).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    let started = Instant::now();
    // one call, then nothing: the clock starts when it is answered
    let mut c = client.ready().await.unwrap();
    let request = http::Request::builder()
        .method("POST")
        .uri(format!("http://{}/no.such.Service/Method", server.grpc))
        .header("content-type", "application/grpc")
        .body(())
        .unwrap();
    let (response, _) = c.send_request(request, true).unwrap();
    let conn = tokio::spawn(connection);
    let response = response.await.unwrap();
    assert_eq!(response.headers()["grpc-status"], "12"); // UNIMPLEMENTED
    let ended = tokio::time::timeout(Duration::from_secs(10), conn)
        .await
        .expect("the idle connection was not closed");
    // a graceful close: GOAWAY with NO_ERROR, not a protocol error
    assert!(ended.unwrap().is_ok());
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1900) && took < Duration::from_secs(6),
        "closed after {took:?}, not at --idle-timeout 2s"
    );
    assert_eq!(closed(&server, "otlp_grpc", "idle").await, 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_cap_are_closed_at_once_and_other_listeners_keep_serving() {
    let mut flags = vec!["--max-connections", "1000", "--handshake-timeout", "3s"];
    flags.extend_from_slice(&LIMITS[2..]);
    let server = Server::start_with(&flags).await;
    let before = server.open_fds();
    let mut idle = Vec::new();
    for _ in 0..1200 {
        idle.push(TcpStream::connect(&server.otlp_http).await.unwrap());
    }
    // the 200 over the cap are closed at once; the 1,000 under it stay open
    let closed_now = |idle: &[TcpStream]| {
        idle.iter()
            .filter(|s| {
                let mut b = [0u8; 1];
                match s.try_read(&mut b) {
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => false,
                    Ok(0) | Err(_) => true,
                    Ok(_) => panic!("the server sent something on an idle connection"),
                }
            })
            .count()
    };
    let at_once = wait_for(
        "200 connections closed",
        Duration::from_secs(2),
        async || {
            let n = closed_now(&idle);
            (n >= 200).then_some(n)
        },
    )
    .await;
    assert_eq!(at_once, 200);
    let refused = server
        .metric("vigil_connections_refused_total{listener=\"otlp_http\"}")
        .await;
    assert_eq!(refused, 200.0);
    let open = server
        .metric("vigil_connections_open{listener=\"otlp_http\"}")
        .await;
    assert_eq!(open, 1000.0);
    let held = server.open_fds();
    assert!(
        held <= before + 1000 + 16,
        "{held} descriptors open with 1,000 idle connections (before: {before})"
    );
    // the API listener has its own slots
    assert_eq!(server.count("SELECT count(*) FROM otlp_logs").await, 0);
    // the idle ones are closed at the handshake timeout, and intake serves again
    wait_for(
        "the idle connections to be closed",
        Duration::from_secs(10),
        async || (server.open_fds() <= before + 16).then_some(()),
    )
    .await;
    served(&server).await;
    // (the descriptor count allows some slack: the last closes may still be
    // on their way to the counter)
    let timed_out = wait_for(
        "1,000 handshake timeouts counted",
        Duration::from_secs(10),
        async || {
            let n = closed(&server, "otlp_http", "handshake_timeout").await;
            (n >= 1000.0).then_some(n)
        },
    )
    .await;
    assert_eq!(timed_out, 1000.0);
    drop(idle);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_http2_reset_flood_is_cut_off_and_memory_stays_bounded() {
    let server = Server::start_with(LIMITS).await;
    let tcp = TcpStream::connect(&server.otlp_http).await.unwrap();
    let (mut client, connection) = h2::client::handshake(tcp).await.unwrap();
    let conn = tokio::spawn(connection);
    let mut sent = 0usize;
    let flood = 100_000;
    for _ in 0..flood {
        client = match client.ready().await {
            Ok(c) => c,
            Err(_) => break,
        };
        let request = http::Request::builder()
            .method("POST")
            .uri(format!("http://{}/v1/logs", server.otlp_http))
            .header("content-type", "application/json")
            .body(())
            .unwrap();
        let Ok((response, mut stream)) = client.send_request(request, false) else {
            break;
        };
        stream.send_reset(h2::Reason::CANCEL);
        drop(response);
        sent += 1;
    }
    let ended = tokio::time::timeout(Duration::from_secs(10), conn)
        .await
        .expect("the flooding connection was not closed");
    // the server sends GOAWAY (ENHANCE_YOUR_CALM) and closes; a client still writing
    // may see the closed socket before it reads the GOAWAY
    let e = ended
        .unwrap()
        .expect_err("the flooding connection ended without an error");
    assert!(
        e.reason() == Some(h2::Reason::ENHANCE_YOUR_CALM) || e.is_io(),
        "{e}"
    );
    eprintln!("reset flood: cut off after {sent} streams ({e})");
    assert!(
        sent < 10_000,
        "{sent} reset streams were taken before the connection was cut off"
    );
    served(&server).await;
    let peak = server.peak_rss();
    assert!(peak < 300 << 20, "peak RSS {} MiB", peak >> 20);
}
