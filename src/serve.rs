//! `vigil serve`: process wiring and ordered shutdown.
//!
//! Start: read the TLS files and tokens, open the store (WAL replay), bind all
//! listeners, start the flusher, the compactor, the detector and the servers
//! (each on the connection layer, `crate::net`). Stop (SIGTERM / Ctrl-C): stop
//! accepting connections and let in-flight requests finish (10 s; Postgres
//! sessions 2 s) → stop the detector
//! and the compactor (a merge under way finishes) → close the WAL (queued appends are fsync'd and
//! answered) → flush everything to Parquet → exit 0.

use std::sync::Arc;

use anyhow::Context as _;
use collector::receiver::{grpc, http as otlp_http};
use collector::{Collector, CollectorConfig};
use schemas::SystemClock;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::cli::ServeArgs;
use crate::net::{self, Protocol};

pub async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = CollectorConfig::new(args.data_dir.clone());
    config.max_body_bytes = args.max_body_bytes;
    config.memory_limit = args.memory_limit;
    config.max_buffer_bytes = args.max_buffer_bytes;
    config.max_inflight_requests = args.max_inflight_requests;
    config.flush_interval = args.flush_interval;
    config.wal_segment_bytes = args.wal_segment_bytes;
    config.redactor = crate::cli::redactor(&args.redact, args.redact_patterns.as_deref())?;
    // a bad rule or token file stops the start, before anything is opened
    let rules = crate::detect::load_rules(&args.rules)?;
    let tokens = args.tokens.tokens()?;
    let tls = args.connections.tls()?;
    let limits = Arc::new(args.connections.limits());
    crate::net::raise_open_files_limit(&limits, 4);
    let (collector, summary) =
        tokio::task::spawn_blocking(move || Collector::open(config, Arc::new(SystemClock)))
            .await?
            .with_context(|| format!("opening the store in {}", args.data_dir.display()))?;
    tracing::info!(
        data_dir = %args.data_dir.display(),
        replayed = summary.replayed_records,
        "store open"
    );
    for (path, why) in &summary.quarantined {
        tracing::error!(file = %path, reason = %why, "moved to the quarantine at start-up; `vigil fsck` lists it");
    }
    let (failed, refused) = collector.metrics().auth_counters();
    let tokens = tokens.counting_into(failed, refused);

    let grpc_listener = bind(args.otlp_grpc_addr, "OTLP/gRPC").await?;
    let otlp_http_listener = bind(args.otlp_http_addr, "OTLP/HTTP").await?;
    let api_listener = bind(args.http_addr, "API").await?;
    let pg_listener = bind(args.pg_addr, "Postgres").await?;
    let addrs = serde_json::json!({
        "otlp_grpc": grpc_listener.local_addr()?.to_string(),
        "otlp_http": otlp_http_listener.local_addr()?.to_string(),
        "http": api_listener.local_addr()?.to_string(),
        "pg": pg_listener.local_addr()?.to_string(),
    });
    tracing::info!(
        otlp_grpc = %addrs["otlp_grpc"].as_str().unwrap_or_default(),
        otlp_http = %addrs["otlp_http"].as_str().unwrap_or_default(),
        http = %addrs["http"].as_str().unwrap_or_default(),
        pg = %addrs["pg"].as_str().unwrap_or_default(),
        tls = tls.is_some(),
        client_certificates = tls.as_ref().is_some_and(|t| t.client_certificates),
        "listening"
    );

    let stop = CancellationToken::new();
    let flusher = collector.spawn_flusher(stop.child_token());

    let query_limits = query::QueryLimits {
        memory_bytes: args.query_memory_bytes,
        timeout: args.query_timeout,
    };
    let engine = query::QueryEngine::new(collector.store(), query_limits).await?;
    let compactor = collector.spawn_compactor(
        collector::CompactionConfig {
            interval: args.compact_interval,
            // a statement planned before a swap reads the old files until it ends
            grace: args.query_timeout + std::time::Duration::from_secs(10),
            fan_in: usize::from(args.compact_fan_in),
            ..Default::default()
        },
        stop.child_token(),
    );
    let detector = crate::detect::spawn(
        Arc::clone(&collector),
        engine.clone(),
        Arc::clone(&rules),
        args.detect_interval,
        stop.child_token(),
    );
    let scheme = if tls.is_some() { "https" } else { "http" };
    let api = web::router(
        web::AppState::new(engine.clone(), tokens.clone(), Arc::clone(&rules))
            .with_endpoints(web::Endpoints {
                otlp_http: format!("{scheme}://{}", otlp_http_listener.local_addr()?),
                otlp_grpc: format!("{scheme}://{}", grpc_listener.local_addr()?),
            })
            .with_secure_cookies(tls.is_some()),
    )
    .merge(otlp_http::admin_router(Arc::clone(&collector)));
    let otlp = otlp_http::router(Arc::clone(&collector), tokens.clone());
    let pg = web::pg::PgServer::new(engine, tokens.clone(), tls.is_some()).await?;
    let grpc_routes = grpc::routes(Arc::clone(&collector), tokens).prepare();

    let listener = |tcp, name, alpn| net::Listener {
        tcp,
        name,
        metrics: collector.metrics().listener(name),
        tls: tls.as_ref().map(|t| t.acceptor(alpn)),
    };
    let otlp_http_listener = listener(otlp_http_listener, "otlp_http", net::ALPN_HTTP);
    let api_listener = listener(api_listener, "http", net::ALPN_HTTP);
    let pg_listener = listener(pg_listener, "pg", net::ALPN_POSTGRES);
    let grpc_listener = listener(grpc_listener, "otlp_grpc", net::ALPN_GRPC);
    // every server stops with `stop`, before the final flush; they end only then
    let mut servers = tokio::task::JoinSet::new();
    servers.spawn(net::serve_http(
        otlp_http_listener,
        Protocol::Http,
        Arc::clone(&limits),
        otlp,
        stop.clone(),
    ));
    servers.spawn(net::serve_http(
        api_listener,
        Protocol::Http,
        Arc::clone(&limits),
        api,
        stop.clone(),
    ));
    servers.spawn(net::serve_http(
        grpc_listener,
        Protocol::Grpc,
        Arc::clone(&limits),
        grpc_routes,
        stop.clone(),
    ));
    {
        let (limits, stop) = (Arc::clone(&limits), stop.clone());
        servers.spawn(async move { net::serve_pg(pg_listener, &limits, pg, stop).await });
    }
    if let Some(path) = &args.addr_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, addrs.to_string())?;
        std::fs::rename(&tmp, path)?;
    }

    let mut failure = None;
    tokio::select! {
        _ = shutdown_signal() => tracing::info!("shutting down: stopping intake"),
        Some(res) = servers.join_next() => {
            failure = Some(match res { Ok(()) => anyhow::anyhow!("a server stopped unexpectedly"), Err(e) => e.into() });
        }
    }
    stop.cancel();
    while servers.join_next().await.is_some() {}
    // the detector writes through the collector: it stops first
    let _ = detector.await;
    let _ = compactor.await;
    let _ = flusher.await;
    let stats = collector.shutdown().await.context("final flush")?;
    tracing::info!(rows = stats.rows, files = stats.files, "flushed; bye");
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

async fn bind(addr: std::net::SocketAddr, what: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the {what} listener to {addr}"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
