//! TLS on every listener, with real clients: the Python OpenTelemetry
//! exporters over gRPC and HTTP (configured by their standard environment
//! variables), the API over HTTPS, `psql` with `sslmode=verify-full`; client
//! certificates with `--tls-client-ca`; plain-text clients refused.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::harness::{Server, python_env, vigil_with_timeout};
use crate::pg::psql_env;

/// A CA, a server certificate for `localhost` and `127.0.0.1`, and a client
/// certificate, all written as PEM files.
struct Pki {
    _dir: tempfile::TempDir,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
    ca_der: CertificateDer<'static>,
    client_der: CertificateDer<'static>,
    client_key_der: Vec<u8>,
}

fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| -> PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        // libpq refuses a key file others can read
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        p
    };
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Vigil test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();
    let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose, cn: &str| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(names).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        p.extended_key_usages = vec![usage];
        let cert = p.signed_by(&key, &ca).unwrap();
        (cert, key)
    };
    let (server, server_key) = leaf(
        vec!["localhost".into(), "127.0.0.1".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
        "vigil",
    );
    let (client, client_key) = leaf(vec![], ExtendedKeyUsagePurpose::ClientAuth, "agent-host-1");
    Pki {
        ca: write("ca.pem", &ca.pem()),
        cert: write("server.pem", &server.pem()),
        key: write("server-key.pem", &server_key.serialize_pem()),
        client_cert: write("client.pem", &client.pem()),
        client_key: write("client-key.pem", &client_key.serialize_pem()),
        ca_der: ca.der().clone(),
        client_der: client.der().clone(),
        client_key_der: client_key.serialize_der(),
        _dir: dir,
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// An HTTPS client that trusts the test CA, with the client certificate or without.
fn https_client(pki: &Pki, client_certificate: bool) -> reqwest::Client {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.add(pki.ca_der.clone()).unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = if client_certificate {
        builder
            .with_client_auth_cert(
                vec![pki.client_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(pki.client_key_der.clone())),
            )
            .unwrap()
    } else {
        builder.with_no_client_auth()
    };
    crate::harness::http_client()
        .tls_backend_preconfigured(config)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// Sends 7 spans and 7 log records with the Python SDK over `protocol`,
/// trusting the CA through `OTEL_EXPORTER_OTLP_CERTIFICATE`.
fn export(server: &Server, pki: &Pki, protocol: &str, run_id: &str, client_certificate: bool) {
    let endpoint = match protocol {
        "grpc" => format!("https://{}", server.grpc),
        _ => format!("https://{}", server.otlp_http),
    };
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_CERTIFICATE", s(&pki.ca)),
        // requests lets these override the exporter's CA (psf/requests#3829); some
        // machines (this one) set them globally, a plain agent host does not
        ("REQUESTS_CA_BUNDLE", ""),
        ("CURL_CA_BUNDLE", ""),
    ];
    if client_certificate {
        env.push(("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", s(&pki.client_cert)));
        env.push(("OTEL_EXPORTER_OTLP_CLIENT_KEY", s(&pki.client_key)));
    }
    let out = python_env(
        "export_sdk.py",
        &[
            "--protocol",
            protocol,
            "--endpoint",
            &endpoint,
            "--run-id",
            run_id,
            "--count",
            "7",
        ],
        &env,
    );
    assert!(out.contains("\"span_failures\": 0"), "{out}");
}

async fn stored(server: &Server, run_id: &str) -> (i64, i64) {
    let spans = server
        .count(&format!(
            "SELECT count(*) FROM otlp_spans WHERE resource_attributes['vigil.run_id'] = '{run_id}'"
        ))
        .await;
    let logs = server
        .count(&format!(
            "SELECT count(*) FROM otlp_logs WHERE resource_attributes['vigil.run_id'] = '{run_id}'"
        ))
        .await;
    (spans, logs)
}

fn verify_full(pki: &Pki) -> Vec<(&str, &str)> {
    vec![("PGSSLMODE", "verify-full"), ("PGSSLROOTCERT", s(&pki.ca))]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_listener_speaks_tls_to_real_clients_and_refuses_plain_text() {
    let pki = pki();
    let server = Server::start_tls(
        &["--tls-cert", s(&pki.cert), "--tls-key", s(&pki.key)],
        https_client(&pki, false),
    )
    .await;

    // OTLP/gRPC and OTLP/HTTP from the Python SDK, read back over HTTPS
    export(&server, &pki, "grpc", "tls-grpc", false);
    export(&server, &pki, "http", "tls-http", false);
    assert_eq!(stored(&server, "tls-grpc").await, (7, 7));
    assert_eq!(stored(&server, "tls-http").await, (7, 7));

    // psql verifies the certificate and its name
    let (ok, out, err) = psql_env(
        &server,
        None,
        &verify_full(&pki),
        "SELECT count(*) FROM otlp_spans;",
    );
    assert!(ok, "psql over TLS failed:\n{out}\n{err}");
    assert_eq!(out.lines().nth(1), Some("14"), "{out}");
    // a client that does not ask for TLS is turned away, not served in plain text
    let (ok, _, err) = psql_env(&server, None, &[("PGSSLMODE", "disable")], "SELECT 1;");
    assert!(!ok);
    assert!(err.contains("accepts TLS connections only"), "{err}");

    // the dashboard's set-up snippets point agents at https://
    let page = server
        .client
        .get(format!("https://{}/", server.http))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!(
            "OTEL_EXPORTER_OTLP_ENDPOINT=https://{}",
            server.grpc
        )),
        "{page}"
    );

    // plain HTTP to a TLS port gets no answer; the failed handshake is counted
    let plain = crate::harness::http_client().build().expect("client");
    for addr in [&server.otlp_http, &server.http] {
        let e = plain
            .get(format!("http://{addr}/readyz"))
            .send()
            .await
            .unwrap_err();
        assert!(!e.is_status(), "{e}");
    }
    let grpc_plain = async {
        let mut c = opentelemetry_proto::tonic::collector::logs::v1::logs_service_client::LogsServiceClient::connect(
            format!("http://{}", server.grpc),
        )
        .await
        .map_err(|e| e.to_string())?;
        c.export(opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest::default())
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    assert!(grpc_plain.is_err(), "a plain-text gRPC call was answered");
    for listener in ["otlp_http", "http", "otlp_grpc"] {
        let failed = server
            .metric(&format!(
                "vigil_connections_closed_total{{listener=\"{listener}\",reason=\"tls_error\"}}"
            ))
            .await;
        assert!(failed >= 1.0, "{listener}: {failed}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_client_ca_only_clients_holding_a_certificate_it_signed_get_in() {
    let pki = pki();
    let server = Server::start_tls(
        &[
            "--tls-cert",
            s(&pki.cert),
            "--tls-key",
            s(&pki.key),
            "--tls-client-ca",
            s(&pki.ca),
        ],
        https_client(&pki, true),
    )
    .await;

    export(&server, &pki, "grpc", "mtls-grpc", true);
    export(&server, &pki, "http", "mtls-http", true);
    assert_eq!(stored(&server, "mtls-grpc").await, (7, 7));
    assert_eq!(stored(&server, "mtls-http").await, (7, 7));

    // the same CA trusted, no certificate shown: refused in the handshake
    let anonymous = https_client(&pki, false);
    for addr in [&server.otlp_http, &server.http] {
        let e = anonymous
            .get(format!("https://{addr}/readyz"))
            .send()
            .await
            .unwrap_err();
        assert!(!e.is_status(), "{e}");
    }

    let mut with_cert = verify_full(&pki);
    with_cert.push(("PGSSLCERT", s(&pki.client_cert)));
    with_cert.push(("PGSSLKEY", s(&pki.client_key)));
    let (ok, out, err) = psql_env(&server, None, &with_cert, "SELECT count(*) FROM otlp_logs;");
    assert!(ok, "psql with a client certificate failed:\n{out}\n{err}");
    assert_eq!(out.lines().nth(1), Some("14"), "{out}");
    // libpq sends ~/.postgresql/postgresql.crt if it exists; point it at nothing
    let mut without = verify_full(&pki);
    without.push(("PGSSLCERT", "/nonexistent/client.pem"));
    without.push(("PGSSLKEY", "/nonexistent/client-key.pem"));
    let (ok, _, err) = psql_env(&server, None, &without, "SELECT 1;");
    assert!(!ok, "psql without a client certificate got in");
    assert!(err.to_lowercase().contains("certificate"), "{err}");

    let failed = server
        .metric("vigil_connections_closed_total{listener=\"http\",reason=\"tls_error\"}")
        .await;
    assert!(failed >= 1.0, "{failed}");
}

#[test]
fn unreadable_tls_files_stop_the_start_with_the_flag_and_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, _, err) = vigil_with_timeout(
        &[
            "serve",
            "--data-dir",
            s(&data),
            "--tls-cert",
            "/nonexistent/cert.pem",
            "--tls-key",
            "/nonexistent/key.pem",
        ],
        std::time::Duration::from_secs(30),
    );
    assert!(!ok);
    assert!(
        err.contains("--tls-cert") && err.contains("/nonexistent/cert.pem"),
        "{err}"
    );
    // nothing was opened: the store was not created
    assert!(!data.exists());
    let (ok, _, err) = vigil_with_timeout(
        &["serve", "--data-dir", s(&data), "--tls-cert", "/tmp/c.pem"],
        std::time::Duration::from_secs(30),
    );
    assert!(!ok);
    assert!(err.contains("--tls-key"), "{err}");
}
