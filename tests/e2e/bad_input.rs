//! Bad input gets a clear error, is counted, and never costs other data.

use std::io::Write as _;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message as _;
use serde_json::Value;

use crate::harness::Server;
use crate::otlp_clients::json_logs;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn kv(k: &str, v: &str) -> KeyValue {
    KeyValue {
        key: k.into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::StringValue(v.into())),
        }),
        ..Default::default()
    }
}

fn span(name: &str, trace_id: Vec<u8>, span_id: Vec<u8>) -> Span {
    Span {
        name: name.into(),
        trace_id,
        span_id,
        start_time_unix_nano: 1_795_481_016_000_000_000,
        end_time_unix_nano: 1_795_481_016_100_000_000,
        attributes: vec![kv("marker", name)],
        ..Default::default()
    }
}

fn traces(spans: Vec<Span>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Sends a valid request with `marker` and checks it is stored.
async fn valid_roundtrip(server: &Server, marker: &str) {
    let r = server
        .post_otlp("/v1/logs", "application/json", json_logs(marker))
        .await;
    assert_eq!(r.status(), 200);
    let n = server
        .count(&format!(
            "SELECT count(*) FROM otlp_logs WHERE attributes['marker'] = '{marker}'"
        ))
        .await;
    assert_eq!(n, 1, "valid data {marker} lost");
}

async fn error_count(server: &Server, error_type: &str) -> u64 {
    server
        .metric(&format!(
            "vigil_intake_errors_total{{error_type=\"{error_type}\"}}"
        ))
        .await as u64
}

/// Sends `body` and asserts the status and that a valid request before and after survives.
async fn case(
    server: &Server,
    name: &str,
    path: &str,
    ct: &str,
    encoding: Option<&str>,
    body: Vec<u8>,
    status: u16,
) -> Value {
    valid_roundtrip(server, &format!("{name}-before")).await;
    let mut req = server
        .client
        .post(server.otlp_url(path))
        .header("content-type", ct)
        .body(body);
    if let Some(e) = encoding {
        req = req.header("content-encoding", e);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status().as_u16(), status, "case {name}");
    let is_json = r
        .headers()
        .get("content-type")
        .is_some_and(|v| v.to_str().unwrap().starts_with("application/json"));
    let bytes = r.bytes().await.unwrap();
    valid_roundtrip(server, &format!("{name}-after")).await;
    if is_json {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    } else {
        Value::Null
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn each_bad_input_is_refused_clearly_and_nothing_else_is_lost() {
    let server = Server::start_with(&["--max-body-bytes", "1048576"]).await;

    let body = case(
        &server,
        "badproto",
        "/v1/traces",
        "application/x-protobuf",
        None,
        b"\xff\xff\xff garbage".to_vec(),
        400,
    )
    .await;
    assert_eq!(
        body,
        Value::Null,
        "protobuf requests get a protobuf google.rpc.Status"
    );
    let body = case(
        &server,
        "badjson",
        "/v1/logs",
        "application/json",
        None,
        b"{\"resourceLogs\": [".to_vec(),
        400,
    )
    .await;
    assert_eq!(body["code"], 3);
    assert!(
        body["message"].as_str().unwrap().contains("invalid JSON"),
        "{body}"
    );
    let body = case(
        &server,
        "ctype",
        "/v1/logs",
        "text/plain",
        None,
        json_logs("x"),
        415,
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("Content-Type"),
        "{body}"
    );
    let body = case(
        &server,
        "path",
        "/v1/nothing",
        "application/json",
        None,
        json_logs("x"),
        404,
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("/v1/nothing"));
    let big = vec![b' '; 2 * 1024 * 1024];
    case(
        &server,
        "big",
        "/v1/logs",
        "application/json",
        None,
        big,
        413,
    )
    .await;
    let bomb = gzip(&vec![b' '; 64 * 1024 * 1024]);
    assert!(bomb.len() < 1024 * 1024);
    let body = case(
        &server,
        "bomb",
        "/v1/logs",
        "application/json",
        Some("gzip"),
        bomb,
        413,
    )
    .await;
    assert!(body["message"].as_str().unwrap().contains("limit"));
    case(
        &server,
        "badgzip",
        "/v1/logs",
        "application/json",
        Some("gzip"),
        b"not gzip".to_vec(),
        400,
    )
    .await;
    case(
        &server,
        "empty-proto",
        "/v1/traces",
        "application/x-protobuf",
        None,
        Vec::new(),
        200,
    )
    .await;
    let body = case(
        &server,
        "empty-json",
        "/v1/logs",
        "application/json",
        None,
        b"{}".to_vec(),
        200,
    )
    .await;
    assert_eq!(body, serde_json::json!({}));

    // non-hex id in JSON: the request is unreadable
    let bad_hex = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"zz","spanId":"eee19b7ec3c1b174","name":"x"}]}]}]}"#;
    let body = case(
        &server,
        "hexid",
        "/v1/traces",
        "application/json",
        None,
        bad_hex.to_vec(),
        400,
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("traceId"),
        "{body}"
    );

    // wrong-length ids in protobuf: that span is rejected, its neighbour kept (partial success)
    let req = traces(vec![
        span("good-span", vec![1; 16], vec![2; 8]),
        span("bad-span", vec![1; 5], vec![2; 8]),
    ]);
    let r = server
        .post_otlp("/v1/traces", "application/x-protobuf", req.encode_to_vec())
        .await;
    assert_eq!(r.status(), 200);
    let resp =
        opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse::decode(
            r.bytes().await.unwrap(),
        )
        .unwrap();
    let partial = resp.partial_success.expect("partial success");
    assert_eq!(partial.rejected_spans, 1);
    assert!(partial.error_message.contains("bad-span"));
    assert_eq!(
        server
            .count("SELECT count(*) FROM otlp_spans WHERE name = 'good-span'")
            .await,
        1
    );
    assert_eq!(
        server
            .count("SELECT count(*) FROM otlp_spans WHERE name = 'bad-span'")
            .await,
        0
    );

    // the same over JSON, answered in JSON
    let mixed = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[
        {"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"ok-json"},
        {"traceId":"5b8e","spanId":"eee19b7ec3c1b174","name":"short-json"}]}]}]}"#;
    let r = server
        .post_otlp("/v1/traces", "application/json", mixed.to_vec())
        .await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["partialSuccess"]["rejectedSpans"], "1");

    assert!(error_count(&server, "invalid_argument").await >= 4);
    assert!(error_count(&server, "payload_too_large").await >= 2);
    assert_eq!(error_count(&server, "unsupported_media_type").await, 1);
    assert_eq!(error_count(&server, "not_found").await, 1);
    let health = server
        .client
        .get(format!("http://{}/healthz", server.http))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn gzip_and_chunked_bodies_are_accepted() {
    let server = Server::start().await;
    let r = server
        .client
        .post(server.otlp_url("/v1/logs"))
        .header("content-type", "application/json")
        .header("content-encoding", "gzip")
        .body(gzip(&json_logs("gz")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = json_logs("chunked")
        .chunks(17)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let r = server
        .client
        .post(server.otlp_url("/v1/logs"))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        server
            .count("SELECT count(*) FROM otlp_logs WHERE attributes['marker'] IN ('gz', 'chunked')")
            .await,
        2
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_token_guards_otlp_grpc_and_the_api() {
    let server = Server::start_with(&["--auth-token", "s3cret"]).await;
    let r = server
        .post_otlp("/v1/logs", "application/json", json_logs("noauth"))
        .await;
    assert_eq!(r.status(), 401);
    let r = server
        .client
        .post(server.otlp_url("/v1/logs"))
        .header("content-type", "application/json")
        .header("authorization", "Bearer s3cret")
        .body(json_logs("auth"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (status, _) = server.sql_status("SELECT 1").await;
    assert_eq!(status, 401);
    let r = server
        .client
        .post(format!("http://{}/api/sql", server.http))
        .header("authorization", "Bearer s3cret")
        .json(&serde_json::json!({"sql": "SELECT count(*) AS n FROM otlp_logs"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["rows"][0][0], 1);

    let mut client = TraceServiceClient::connect(format!("http://{}", server.grpc))
        .await
        .unwrap();
    let err = client
        .export(traces(vec![span("g", vec![1; 16], vec![2; 8])]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::Unauthenticated);
    let mut req = tonic::Request::new(traces(vec![span("g", vec![1; 16], vec![2; 8])]));
    req.metadata_mut()
        .insert("authorization", "Bearer s3cret".parse().unwrap());
    client.export(req).await.unwrap();
    // health stays open for probes
    assert_eq!(
        server
            .client
            .get(format!("http://{}/healthz", server.http))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn overloaded_intake_answers_retryable_statuses() {
    // a 1-byte buffer budget and no flushing: the second request finds the buffer full
    let server = Server::start_with(&["--max-buffer-bytes", "1", "--flush-interval", "600s"]).await;
    assert_eq!(
        server
            .post_otlp("/v1/logs", "application/json", json_logs("first"))
            .await
            .status(),
        200
    );
    let r = server
        .post_otlp("/v1/logs", "application/json", json_logs("second"))
        .await;
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "2");
    let mut client = TraceServiceClient::connect(format!("http://{}", server.grpc))
        .await
        .unwrap();
    let err = client
        .export(traces(vec![span("g", vec![1; 16], vec![2; 8])]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::ResourceExhausted);
    assert_eq!(server.count("SELECT count(*) FROM otlp_logs").await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn sql_api_is_read_only() {
    let server = Server::start().await;
    // refused as writes: 403 Forbidden; a file path is no table: 400
    for (sql, status_want, kind) in [
        ("CREATE TABLE t AS SELECT 1", 403, "forbidden"),
        (
            "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
            403,
            "forbidden",
        ),
        (
            "INSERT INTO otlp_logs SELECT * FROM otlp_logs",
            403,
            "forbidden",
        ),
        (
            "COPY (SELECT 1) TO '/tmp/vigil-copy-test.csv'",
            403,
            "forbidden",
        ),
        ("DROP VIEW otlp_logs", 403, "forbidden"),
        ("SET datafusion.execution.batch_size = 1", 403, "forbidden"),
        ("SELECT * FROM (SELECT 1) WHERE EXISTS (SELECT 1)", 200, ""),
        ("SELECT * FROM '/etc/passwd'", 400, "invalid_argument"),
    ] {
        let (status, body) = server.sql_status(sql).await;
        assert_eq!(status, status_want, "{sql} → {body}");
        if status_want != 200 {
            assert_eq!(body["kind"], kind, "{sql} → {body}");
            assert!(
                body["error"].as_str().is_some_and(|e| !e.is_empty()),
                "{sql} → {body}"
            );
        }
        if status_want == 403 {
            assert!(
                body["error"].as_str().unwrap().contains("read-only"),
                "{sql} → {body}"
            );
        }
    }
    let (status, body) = server.sql_status("SELECT nope FROM otlp_logs").await;
    assert_eq!(status, 400);
    assert!(body["error"].as_str().unwrap().contains("nope"), "{body}");
    // a statement sqlparser 0.62 would parse for hours (found by fuzzing) is
    // cut short, and the engine answers the next one
    let exponential =
        include_str!("../../fuzz/regressions/sql_guard/sqlparser-0.62-exponential-subscripts");
    let (status, body) = server.sql_status(exponential).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["kind"], "statement_too_complex", "{body}");
    assert!(
        body["error"].as_str().unwrap().contains("too complex"),
        "{body}"
    );
    assert_eq!(server.count("SELECT count(*) FROM otlp_logs").await, 0);
    assert!(!std::path::Path::new("/tmp/vigil-copy-test.csv").exists());
    let r = server
        .client
        .post(format!("http://{}/api/sql", server.http))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // `curl -d '{"sql": …}'` sends a form content type; the body is JSON all the same
    let r = server
        .client
        .post(format!("http://{}/api/sql", server.http))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(r#"{"sql": "SELECT 1 + 1 AS two"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap()["rows"][0][0], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_beyond_the_inflight_limit_are_refused_not_queued() {
    // one request may be received at a time; a slow upload holds the only permit
    let server = Server::start_with(&["--max-inflight-requests", "1"]).await;
    let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
    let url = server.otlp_url("/v1/logs");
    let slow = tokio::spawn({
        let client = server.client.clone();
        async move {
            client
                .post(url)
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(rx))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    let body = json_logs("slow");
    tx.unbounded_send(Ok(body[..10].to_vec())).unwrap();
    // wait until the slow request's head has reached the server and holds the permit
    crate::harness::wait_for(
        "the slow upload to hold the permit",
        std::time::Duration::from_secs(10),
        async || (server.metric("vigil_intake_inflight_requests").await == 1.0).then_some(()),
    )
    .await;
    assert!(!slow.is_finished(), "the slow upload is still in flight");
    let refused = server
        .post_otlp("/v1/logs", "application/json", json_logs("fast"))
        .await;
    assert_eq!(
        refused.status(),
        429,
        "a second request while the first is in flight is refused"
    );
    assert_eq!(refused.headers()["retry-after"], "2");
    tx.unbounded_send(Ok(body[10..].to_vec())).unwrap();
    drop(tx);
    assert_eq!(slow.await.unwrap(), 200);
    assert_eq!(
        server
            .count("SELECT count(*) FROM otlp_logs WHERE attributes['marker'] = 'slow'")
            .await,
        1
    );
    assert_eq!(
        server
            .post_otlp("/v1/logs", "application/json", json_logs("after"))
            .await
            .status(),
        200
    );
}

/// `--query-timeout` and `--query-memory-bytes` stop a heavy statement with a
/// clear, typed error while intake keeps acknowledging.
#[tokio::test(flavor = "multi_thread")]
async fn heavy_queries_hit_their_limits_and_intake_carries_on() {
    let slow = Server::start_with(&["--query-timeout", "300ms"]).await;
    // far more work than 300 ms: the timeout stops it
    let (status, body) = slow
        .sql_status("SELECT count(*) FROM generate_series(1, 20000000000) a")
        .await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["kind"], "timeout", "{body}");
    assert!(
        body["error"]
            .as_str()
            .is_some_and(|e| e.contains("query timeout")),
        "{body}"
    );
    let small = Server::start_with(&["--query-memory-bytes", "4000000"]).await;
    // a hash join's build side cannot spill: 3M rows do not fit in 4 MB
    let (status, body) = small
        .sql_status(
            "SELECT count(*) FROM generate_series(1, 3000000) a JOIN generate_series(1, 3000000) b ON a.value = b.value",
        )
        .await;
    assert_eq!(status, 413, "{body}");
    assert_eq!(body["kind"], "query_too_large", "{body}");
    // and intake was never affected (counted on the raw table: in 4 MB even the
    // de-duplicating view's sort is refused, which is the limit doing its job)
    for server in [&slow, &small] {
        let body = std::fs::read(fixtures::scenarios_dir().join("02_rm_rf_denied/0002_logs.json"))
            .unwrap();
        let r = server.post_otlp("/v1/logs", "application/json", body).await;
        assert_eq!(r.status(), 200);
        assert!(server.count("SELECT count(*) FROM agent_events_raw").await > 0);
    }
}

/// A body of empty records: two bytes each on the wire, a couple of hundred
/// decoded. Five million of them (10 MB) once took 1.7 GB.
fn empty_log_records(n: usize) -> Vec<u8> {
    fn put_len(mut n: usize, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }
    let scope: Vec<u8> = std::iter::repeat_n([0x12u8, 0x00], n).flatten().collect();
    let mut resource = vec![0x12];
    put_len(scope.len(), &mut resource);
    resource.extend(scope);
    let mut req = vec![0x0a];
    put_len(resource.len(), &mut req);
    req.extend(resource);
    req
}

#[tokio::test(flavor = "multi_thread")]
async fn a_small_body_that_would_decode_to_gigabytes_is_refused_before_decoding() {
    let server = Server::start().await;
    let body = empty_log_records(5_000_000);
    assert!(
        body.len() < 16 << 20,
        "under the body limit: {}",
        body.len()
    );
    let r = server
        .post_otlp("/v1/logs", "application/x-protobuf", body.clone())
        .await;
    assert_eq!(r.status(), 413);
    let status = RpcStatus::decode(r.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code, 3);
    assert!(
        status.message.contains("too many records"),
        "{}",
        status.message
    );

    // the same bytes over gRPC, sent as they are (decoding them here would cost
    // the test what it protects the server from)
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{}", server.grpc))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel).max_encoding_message_size(64 << 20);
    grpc.ready().await.unwrap();
    let err = grpc
        .unary(
            tonic::Request::new(body),
            "/opentelemetry.proto.collector.logs.v1.LogsService/Export"
                .parse()
                .unwrap(),
            RawCodec,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument, "{err:?}");
    assert!(
        err.message().contains("too many records"),
        "{}",
        err.message()
    );

    // nothing was decoded, nothing stored, and the server is fine
    let peak = server.peak_rss();
    assert!(peak < 512 << 20, "peak RSS {} MiB", peak >> 20);
    assert_eq!(
        server
            .metric("vigil_intake_errors_total{error_type=\"payload_too_large\"}")
            .await,
        2.0
    );
    assert_eq!(
        server
            .post_otlp("/v1/logs", "application/json", json_logs("after"))
            .await
            .status(),
        200
    );
    assert_eq!(server.count("SELECT count(*) FROM otlp_logs").await, 1);
}

#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// A gRPC codec that sends bytes as they are and ignores the answer's body.
#[derive(Clone, Copy, Default)]
struct RawCodec;

impl tonic::codec::Codec for RawCodec {
    type Encode = Vec<u8>;
    type Decode = ();
    type Encoder = RawCodec;
    type Decoder = RawCodec;
    fn encoder(&mut self) -> RawCodec {
        RawCodec
    }
    fn decoder(&mut self) -> RawCodec {
        RawCodec
    }
}

impl tonic::codec::Encoder for RawCodec {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use prost::bytes::BufMut as _;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCodec {
    type Item = ();
    type Error = tonic::Status;
    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<()>, tonic::Status> {
        use prost::bytes::Buf as _;
        src.advance(src.remaining());
        Ok(Some(()))
    }
}
