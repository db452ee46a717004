//! Command-line interface. Every flag has a `VIGIL_*` environment twin.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use query::format::OutputFormat;

#[derive(Debug, Parser)]
#[command(
    name = "vigil",
    version,
    about = "OTLP collector, columnar store and SQL for AI coding-agent telemetry"
)]
pub struct Cli {
    /// Log filter (tracing EnvFilter syntax).
    #[arg(long, env = "VIGIL_LOG", default_value = "info", global = true)]
    pub log: String,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the OTLP receivers (gRPC and HTTP), the store and the SQL API.
    Serve(Box<ServeArgs>),
    /// Run read-only SQL over a data directory.
    Query(QueryArgs),
    /// Import OTLP export files (JSON, JSON lines, protobuf; gzip ok) into a data directory.
    Ingest(IngestArgs),
    /// Rebuild `agent_events` from the raw tables (after a mapping change). Stop the server first.
    Reindex(ReindexArgs),
    /// Evaluate the detection rules over every stored session again (after a
    /// rule change). Stop the server first.
    Rescan(RescanArgs),
    /// Judge stored tool calls by a permission policy (Claude Code settings.json,
    /// Codex .rules): list every call it would deny or ask about. Exit 0: none;
    /// 1: some; 2: a policy file that cannot be used.
    Check(CheckArgs),
    /// Verify a data directory without changing it: WAL checksums and sequence,
    /// Parquet footers (`--deep`: every page), WAL coverage, the quarantine.
    /// Exit 0: clean; 1: damage found. Safe while the server runs.
    Fsck(FsckArgs),
    /// Benchmarks: build a synthetic store, time queries beside DuckDB.
    #[command(subcommand)]
    Bench(crate::bench::BenchCommand),
}

#[derive(Debug, Args)]
pub struct FsckArgs {
    #[arg(long, env = "VIGIL_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Read every page of every Parquet file, not only the footers.
    #[arg(long)]
    pub deep: bool,
}

#[derive(Debug, Args)]
pub struct ReindexArgs {
    #[arg(long, env = "VIGIL_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
}

/// Ends the process with this status (the command printed what it had to say).
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}

impl std::error::Error for Exit {}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[arg(long, env = "VIGIL_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Policy files: Claude Code `settings.json` (`permissions.allow/ask/deny`) or
    /// Codex `.rules` (`prefix_rule(…)`); the strictest answer of all wins.
    #[arg(long, required = true, num_args = 1..)]
    pub policy: Vec<PathBuf>,
    /// Only this session.
    #[arg(long)]
    pub session: Option<String>,
    /// Only actions since: RFC 3339, a date, or a span back from now (24h, 7d).
    #[arg(long)]
    pub since: Option<String>,
    /// Output: table or json.
    #[arg(long, default_value = "table", value_parser = ["table", "json"])]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct RescanArgs {
    #[arg(long, env = "VIGIL_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Rule files (TOML, or Sigma `.yml`) added to the defaults, as for `serve`.
    #[arg(long, env = "VIGIL_RULES", value_delimiter = ',', num_args = 1..)]
    pub rules: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Where the WAL and the Parquet tables live.
    #[arg(long, env = "VIGIL_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// OTLP/gRPC listen address.
    #[arg(long, env = "VIGIL_OTLP_GRPC_ADDR", default_value = "127.0.0.1:4317")]
    pub otlp_grpc_addr: SocketAddr,
    /// OTLP/HTTP listen address.
    #[arg(long, env = "VIGIL_OTLP_HTTP_ADDR", default_value = "127.0.0.1:4318")]
    pub otlp_http_addr: SocketAddr,
    /// API (and health) listen address.
    #[arg(long, env = "VIGIL_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: SocketAddr,
    /// Postgres wire protocol listen address (psql, Grafana; read-only SQL).
    #[arg(long, env = "VIGIL_PG_ADDR", default_value = "127.0.0.1:5433")]
    pub pg_addr: SocketAddr,
    #[command(flatten)]
    pub tokens: TokenArgs,
    #[command(flatten)]
    pub connections: ConnectionArgs,
    /// Largest request body, after decompression, in bytes.
    #[arg(long, env = "VIGIL_MAX_BODY_BYTES", default_value_t = collector::CollectorConfig::DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Memory intake may use (bytes, or with KiB / MiB / GiB): requests being
    /// decoded and written, unflushed rows, the flush's copies. Intake answers
    /// "retry later" before it is crossed. Queries: --query-memory-bytes.
    #[arg(long, env = "VIGIL_MEMORY_LIMIT", default_value = "256MiB", value_parser = parse_bytes)]
    pub memory_limit: usize,
    /// Unflushed rows (bytes) before intake answers "retry later", instead of
    /// the memory limit's quarter (tests and tuning).
    #[arg(long, env = "VIGIL_MAX_BUFFER_BYTES", hide = true)]
    pub max_buffer_bytes: Option<usize>,
    /// Requests received and decoded at once before intake answers "retry later".
    #[arg(long, env = "VIGIL_MAX_INFLIGHT_REQUESTS", default_value_t = collector::CollectorConfig::DEFAULT_MAX_INFLIGHT_REQUESTS)]
    pub max_inflight_requests: usize,
    /// Write buffered rows to Parquet at least this often (e.g. 10s, 500ms, 1m).
    #[arg(long, env = "VIGIL_FLUSH_INTERVAL", default_value = "10s", value_parser = humantime::parse_duration)]
    pub flush_interval: Duration,
    /// How often the compactor looks for small Parquet files to merge into large
    /// sorted ones (0s turns compaction off).
    #[arg(long, env = "VIGIL_COMPACT_INTERVAL", default_value = "10s", value_parser = humantime::parse_duration)]
    pub compact_interval: Duration,
    /// Start a new WAL segment once the current one is this large (tests).
    #[arg(long, env = "VIGIL_WAL_SEGMENT_BYTES", default_value_t = 64 * 1024 * 1024, hide = true)]
    pub wal_segment_bytes: u64,
    /// Files of one size class merged at once (tests and tuning).
    #[arg(long, env = "VIGIL_COMPACT_FAN_IN", default_value_t = 8, hide = true, value_parser = clap::value_parser!(u16).range(2..=64))]
    pub compact_fan_in: u16,
    /// Secret redaction before anything is stored: on or off.
    #[arg(long, env = "VIGIL_REDACT", default_value = "on", value_parser = ["on", "off"])]
    pub redact: String,
    /// TOML file of extra redaction patterns (`[[pattern]] kind = "…" regex = "…" group = 0`).
    #[arg(long, env = "VIGIL_REDACT_PATTERNS")]
    pub redact_patterns: Option<PathBuf>,
    /// How long one SQL statement may run (API, Postgres wire, the detector's own
    /// queries) before it is stopped with a timeout error.
    #[arg(long, env = "VIGIL_QUERY_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub query_timeout: Duration,
    /// Memory (bytes) all running statements may hold together for sorts, joins
    /// and aggregations; a statement needing more fails, intake is not affected.
    #[arg(long, env = "VIGIL_QUERY_MEMORY_BYTES", default_value_t = 512 * 1024 * 1024)]
    pub query_memory_bytes: usize,
    /// Detection rule files (TOML, or Sigma `.yml` / `.yaml`), added to the
    /// defaults in order; a rule with a default's id overrides it. See docs/rules.md.
    #[arg(long, env = "VIGIL_RULES", value_delimiter = ',', num_args = 1..)]
    pub rules: Vec<PathBuf>,
    /// How often the detector looks for new rows (findings lag intake by about this).
    #[arg(long, env = "VIGIL_DETECT_INTERVAL", default_value = "1s", value_parser = humantime::parse_duration)]
    pub detect_interval: Duration,
    /// Write a JSON file with the bound addresses once listening (for tests and scripts).
    #[arg(long, env = "VIGIL_ADDR_FILE", hide = true)]
    pub addr_file: Option<PathBuf>,
}

/// TLS, and what one client may hold: every listener (OTLP/gRPC, OTLP/HTTP,
/// the API and dashboard, the Postgres wire) applies these. See
/// docs/reliability.md, "Slow and hostile clients".
#[derive(Debug, Args)]
pub struct ConnectionArgs {
    /// PEM certificate chain: every listener speaks TLS (the Postgres port
    /// answers `sslmode=require` and up; plain clients are refused elsewhere).
    #[arg(long, env = "VIGIL_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "VIGIL_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates: every client must present a certificate signed by
    /// one of them (mutual TLS), on top of any token.
    #[arg(long, env = "VIGIL_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// Connections open at once per listener; a connection beyond it is closed
    /// at once and counted in vigil_connections_refused_total.
    #[arg(long, env = "VIGIL_MAX_CONNECTIONS", default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Time a new connection gets for its TLS handshake and its protocol's
    /// first bytes (a client that connects and says nothing is closed after it).
    #[arg(long, env = "VIGIL_HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = humantime::parse_duration)]
    pub handshake_timeout: Duration,
    /// Time an HTTP/1 client gets to send a request's headers; also how long an
    /// idle HTTP/1 keep-alive connection waits for its next request.
    #[arg(long, env = "VIGIL_HEADER_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,
    /// Time a request's body gets to arrive in full after its headers (HTTP
    /// answers 408; a gRPC call fails).
    #[arg(long, env = "VIGIL_BODY_TIMEOUT", default_value = "30s", value_parser = humantime::parse_duration)]
    pub body_timeout: Duration,
    /// An HTTP/2 or gRPC connection without a request for this long is closed
    /// gracefully (clients reconnect when they next send).
    #[arg(long, env = "VIGIL_IDLE_TIMEOUT", default_value = "5m", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,
}

impl ConnectionArgs {
    pub fn limits(&self) -> crate::net::Limits {
        crate::net::Limits {
            max_connections: self.max_connections as usize,
            handshake_timeout: self.handshake_timeout,
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            idle_timeout: self.idle_timeout,
        }
    }

    pub fn tls(&self) -> anyhow::Result<Option<crate::net::tls::Tls>> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(cert), Some(key)) => Ok(Some(crate::net::tls::Tls::load(
                cert,
                key,
                self.tls_client_ca.as_deref(),
            )?)),
            _ => Ok(None),
        }
    }
}

/// Who may send and who may read. A token given by file stays out of `ps` and
/// the environment; `--ingest-token*` and `--read-token*` override
/// `--auth-token*` for their side.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Require `Authorization: Bearer <token>` on OTLP and the API, and this
    /// token as the password on the Postgres port (sets both tokens below).
    #[arg(
        long,
        env = "VIGIL_AUTH_TOKEN",
        hide_env_values = true,
        conflicts_with = "auth_token_file"
    )]
    pub auth_token: Option<String>,
    /// Read the token of `--auth-token` from this file (surrounding whitespace ignored).
    #[arg(long, env = "VIGIL_AUTH_TOKEN_FILE")]
    pub auth_token_file: Option<PathBuf>,
    /// The token agents send telemetry with (OTLP/gRPC and OTLP/HTTP only): an
    /// agent holding it cannot read anything back.
    #[arg(
        long,
        env = "VIGIL_INGEST_TOKEN",
        hide_env_values = true,
        conflicts_with = "ingest_token_file"
    )]
    pub ingest_token: Option<String>,
    /// Read the token of `--ingest-token` from this file.
    #[arg(long, env = "VIGIL_INGEST_TOKEN_FILE")]
    pub ingest_token_file: Option<PathBuf>,
    /// The token readers use: the API, the dashboard login and the Postgres password.
    #[arg(
        long,
        env = "VIGIL_READ_TOKEN",
        hide_env_values = true,
        conflicts_with = "read_token_file"
    )]
    pub read_token: Option<String>,
    /// Read the token of `--read-token` from this file.
    #[arg(long, env = "VIGIL_READ_TOKEN_FILE")]
    pub read_token_file: Option<PathBuf>,
}

impl TokenArgs {
    pub fn tokens(&self) -> anyhow::Result<schemas::auth::Tokens> {
        let both = token_from(self.auth_token.as_deref(), self.auth_token_file.as_deref())?;
        let ingest = token_from(
            self.ingest_token.as_deref(),
            self.ingest_token_file.as_deref(),
        )?;
        let read = token_from(self.read_token.as_deref(), self.read_token_file.as_deref())?;
        let ingest = ingest.or_else(|| both.clone());
        let read = read.or(both);
        Ok(schemas::auth::Tokens::new(
            ingest.as_deref(),
            read.as_deref(),
        ))
    }
}

/// A token given inline or by file; a given but empty token is an error rather
/// than an open server.
/// A size: bytes, or a number with `KiB`, `MiB` or `GiB` (`K`, `M`, `G` too).
pub fn parse_bytes(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: usize = digits
        .parse()
        .map_err(|_| format!("{s:?}: a size is a whole number, then KiB, MiB or GiB"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" => 10,
        "m" | "mib" => 20,
        "g" | "gib" => 30,
        other => {
            return Err(format!(
                "{s:?}: unknown unit {other:?} (use KiB, MiB or GiB)"
            ));
        }
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?}: too large"))
}

fn token_from(
    inline: Option<&str>,
    file: Option<&std::path::Path>,
) -> anyhow::Result<Option<String>> {
    let (token, from) = match (inline, file) {
        (Some(t), _) => (t.to_string(), "the token given".to_string()),
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the token file {}", path.display()))?;
            warn_if_others_can_read(path);
            (text, format!("the token file {}", path.display()))
        }
        (None, None) => return Ok(None),
    };
    let token = token.trim();
    anyhow::ensure!(!token.is_empty(), "{from} is empty");
    Ok(Some(token.to_string()))
}

fn warn_if_others_can_read(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(file = %path.display(), mode = format!("{:o}", meta.permissions().mode() & 0o777), "the token file can be read by other users; chmod 600 it");
    }
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    #[arg(long, env = "VIGIL_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Output format: table, csv or json (one object per line).
    #[arg(long, default_value = "table")]
    pub format: OutputFormat,
    /// The SQL statement.
    pub sql: String,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[arg(long, env = "VIGIL_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Signal of files whose name does not say (traces, logs, metrics); by default
    /// guessed from the content or the file name.
    #[arg(long)]
    pub signal: Option<String>,
    /// Files to import.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// The redactor `--redact` and `--redact-patterns` ask for.
pub fn redactor(
    mode: &str,
    patterns: Option<&std::path::Path>,
) -> anyhow::Result<Option<std::sync::Arc<schemas::redact::Redactor>>> {
    use schemas::redact::Redactor;
    if mode == "off" {
        return Ok(None);
    }
    let r = match patterns {
        None => Redactor::with_defaults(),
        Some(p) => {
            let text =
                std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?;
            Redactor::with_file(&text)?
        }
    };
    Ok(Some(std::sync::Arc::new(r)))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => crate::serve::serve(*args).await,
        Command::Query(args) => {
            let engine = query::QueryEngine::offline(&args.data_dir).await?;
            let result = engine.sql(&args.sql).await?;
            let text = query::format::render(&result, args.format)?;
            print!("{text}");
            if args.format == OutputFormat::Table && !text.ends_with('\n') {
                println!();
            }
            Ok(())
        }
        Command::Ingest(args) => crate::ingest_files::ingest(args).await.context("ingest"),
        Command::Reindex(args) => reindex(args).await,
        Command::Rescan(args) => crate::detect::rescan(args.data_dir, args.rules).await,
        Command::Check(args) => crate::check::run(args).await,
        Command::Bench(cmd) => crate::bench::run(cmd).await,
        Command::Fsck(args) => {
            let report =
                tokio::task::spawn_blocking(move || collector::fsck(&args.data_dir, args.deep))
                    .await??;
            print!("{}", report.render());
            if report.is_clean() {
                Ok(())
            } else {
                Err(Exit(1).into())
            }
        }
    }
}

async fn reindex(args: ReindexArgs) -> anyhow::Result<()> {
    use collector::{Collector, CollectorConfig};
    if !args.data_dir.join("tables").is_dir() {
        anyhow::bail!("no Vigil data directory at {}", args.data_dir.display());
    }
    // replay and flush the WAL first, so every acknowledged record is in the raw tables
    let config = CollectorConfig::new(args.data_dir.clone());
    let (c, _) = tokio::task::spawn_blocking(move || {
        Collector::open(config, std::sync::Arc::new(schemas::SystemClock))
    })
    .await?
    .context("opening the data directory (is a server running on it?)")?;
    c.shutdown().await?;
    drop(c);
    let dir = args.data_dir.clone();
    let stats = tokio::task::spawn_blocking(move || {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("reindexing {bar:30} {pos}/{len} partitions")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let stats = collector::reindex::reindex(&dir, |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        });
        bar.finish_and_clear();
        stats
    })
    .await??;
    println!(
        "rebuilt agent_events: {} events from {} raw rows in {} partitions ({} files)",
        stats.events, stats.raw_rows, stats.partitions, stats.files
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes_take_binary_units() {
        for (text, want) in [
            ("0", Ok(0)),
            ("4096", Ok(4096)),
            ("64KiB", Ok(64 << 10)),
            ("256MiB", Ok(256 << 20)),
            ("256 mib", Ok(256 << 20)),
            ("2G", Ok(2 << 30)),
        ] {
            assert_eq!(parse_bytes(text), want, "{text}");
        }
        for bad in ["", "MiB", "1.5GiB", "10MB", "-1"] {
            assert!(parse_bytes(bad).is_err(), "{bad:?} accepted");
        }
    }
}
