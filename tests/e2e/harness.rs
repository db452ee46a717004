//! Starts the real `vigil` binary on port 0 in a fresh data directory.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Server {
    child: Option<Child>,
    pub data_dir: PathBuf,
    pub grpc: String,
    pub otlp_http: String,
    pub http: String,
    /// The Postgres wire address (`host:port`).
    pub pg: String,
    extra: Vec<String>,
    _tmp: Option<tempfile::TempDir>,
    pub client: reqwest::Client,
    /// `http`, or `https` for a server started with [`Server::start_tls`].
    pub scheme: &'static str,
}

/// A `reqwest` client builder. reqwest's rustls is built without a crypto
/// provider of its own (the tests use ring, as the server does), so the
/// process-wide default is installed first.
pub fn http_client() -> reqwest::ClientBuilder {
    static PROVIDER: std::sync::Once = std::sync::Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
    reqwest::Client::builder()
}

pub fn vigil_bin() -> &'static str {
    env!("CARGO_BIN_EXE_vigil")
}

/// Polls `f` until it returns `Some`, failing the test after `timeout`.
pub async fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut f: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

impl Server {
    pub async fn start() -> Server {
        Self::start_with(&[]).await
    }

    pub async fn start_with(extra: &[&str]) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().join("data");
        let mut s = Self::start_in(&data_dir, extra).await;
        s._tmp = Some(tmp);
        s
    }

    /// Starts on an existing data directory (restarts in crash tests).
    pub async fn start_in(data_dir: &Path, extra: &[&str]) -> Server {
        Self::start_in_env(data_dir, extra, &[]).await
    }

    /// [`Server::start_in`] with extra environment variables (a `VIGIL_FAILPOINT`);
    /// a restart does not carry them over.
    pub async fn start_in_env(data_dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        Self::launch(data_dir, extra, env, None).await
    }

    /// Starts with TLS flags in `extra`; `client` trusts the server's CA (and
    /// may hold a client certificate) and is used for every HTTP request.
    pub async fn start_tls(extra: &[&str], client: reqwest::Client) -> Server {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data_dir = tmp.path().join("data");
        let mut s = Self::launch(&data_dir, extra, &[], Some(client)).await;
        s._tmp = Some(tmp);
        s
    }

    async fn launch(
        data_dir: &Path,
        extra: &[&str],
        env: &[(&str, &str)],
        tls_client: Option<reqwest::Client>,
    ) -> Server {
        let addr_file = data_dir.with_extension(format!("addr-{}", std::process::id()));
        let _ = std::fs::remove_file(&addr_file);
        let child = Command::new(vigil_bin())
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args([
                "--otlp-grpc-addr",
                "127.0.0.1:0",
                "--otlp-http-addr",
                "127.0.0.1:0",
                "--http-addr",
                "127.0.0.1:0",
                "--pg-addr",
                "127.0.0.1:0",
            ])
            .arg("--addr-file")
            .arg(&addr_file)
            .args(extra)
            .env("VIGIL_LOG", "warn")
            // findings a tenth of a second behind intake, so tests wait less
            .env("VIGIL_DETECT_INTERVAL", "100ms")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start vigil");
        let mut child = child;
        let addrs: Value = wait_for("the address file", Duration::from_secs(30), async || {
            if let Some(status) = child.try_wait().expect("wait") {
                panic!("vigil serve exited during start-up: {status}");
            }
            std::fs::read_to_string(&addr_file)
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok())
        })
        .await;
        let _ = std::fs::remove_file(&addr_file);
        let get = |k: &str| addrs[k].as_str().expect("address").to_string();
        let server = Server {
            child: Some(child),
            data_dir: data_dir.to_path_buf(),
            grpc: get("otlp_grpc"),
            otlp_http: get("otlp_http"),
            http: get("http"),
            pg: get("pg"),
            extra: extra.iter().map(|s| s.to_string()).collect(),
            _tmp: None,
            scheme: if tls_client.is_some() {
                "https"
            } else {
                "http"
            },
            // a fresh connection per request: after a 413 the server closes its end while
            // the client may still hold the connection as idle
            client: tls_client.unwrap_or_else(|| {
                crate::harness::http_client()
                    .pool_max_idle_per_host(0)
                    .build()
                    .expect("client")
            }),
        };
        let url = format!("{}://{}/readyz", server.scheme, server.http);
        let client = server.client.clone();
        wait_for("readyz", Duration::from_secs(30), async || {
            client
                .get(&url)
                .send()
                .await
                .ok()
                .filter(|r| r.status().is_success())
                .map(|_| ())
        })
        .await;
        server
    }

    /// The server's peak resident memory so far (VmHWM), in bytes.
    pub fn peak_rss(&self) -> u64 {
        let pid = self.child.as_ref().expect("running").id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .expect("VmHWM")
            * 1024
    }

    /// How many file descriptors the server holds open now.
    pub fn open_fds(&self) -> usize {
        let pid = self.child.as_ref().expect("running").id();
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .expect("/proc/<pid>/fd")
            .count()
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Waits for the process to exit on its own (a failpoint); `None` if it is
    /// still running after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let c = self.child.as_mut().expect("running");
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(st) = c.try_wait().expect("wait") {
                self.child = None;
                return Some(st);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM and wait for a clean exit; returns the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let mut c = self.child.take().expect("running");
        let status = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(st) = c.try_wait().expect("wait") {
                return st;
            }
            assert!(
                Instant::now() < deadline,
                "vigil did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Starts again on the same data directory with the same flags.
    pub async fn restart(mut self) -> Server {
        self.kill9();
        let extra: Vec<String> = std::mem::take(&mut self.extra);
        let refs: Vec<&str> = extra.iter().map(String::as_str).collect();
        let mut next = Server::start_in(&self.data_dir.clone(), &refs).await;
        next._tmp = self._tmp.take();
        next
    }

    pub fn otlp_url(&self, path: &str) -> String {
        format!("{}://{}{path}", self.scheme, self.otlp_http)
    }

    pub async fn post_otlp(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        self.client
            .post(self.otlp_url(path))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST")
    }

    /// `POST /api/sql`; panics on a non-200 answer.
    /// Waits until the detector has evaluated every stored event, then returns
    /// the `findings` view as `{rule, session_id, tool_call_ids, severity, event}`
    /// objects (`event`: the `event_name` of the first cited event of a finding
    /// that cites no tool call, else absent), sorted.
    pub async fn findings(&self) -> Vec<Value> {
        wait_for(
            "the detector to catch up",
            Duration::from_secs(60),
            async || {
                let rows = self
                    .rows(
                        "SELECT (SELECT CAST(max(wal_seq) AS BIGINT) FROM agent_events_raw), \
                            (SELECT CAST(max(evaluated_through) AS BIGINT) FROM findings_raw)",
                    )
                    .await;
                let (top, through) = (rows[0][0].as_i64(), rows[0][1].as_i64());
                (top.is_none() || through >= top).then_some(())
            },
        )
        .await;
        let got = objects(
            &self
                .sql(
                    "SELECT f.rule_id, f.session_id, f.tool_call_ids, f.severity, \
                       (SELECT min(e.event_name) FROM agent_events e \
                        WHERE e.session_id = f.session_id AND e.event_id = f.event_ids[1]) AS event \
                     FROM findings f ORDER BY f.session_id, f.ts, f.rule_id",
                )
                .await,
        );
        let mut out: Vec<Value> = got
            .into_iter()
            .map(|f| {
                let ids = f["tool_call_ids"].as_array().cloned().unwrap_or_default();
                let mut v = serde_json::json!({
                    "rule": f["rule_id"],
                    "session_id": f["session_id"],
                    "tool_call_ids": ids,
                    "severity": f["severity"],
                });
                if ids.is_empty() {
                    v["event"] = f["event"].clone();
                }
                v
            })
            .collect();
        out.sort_by_key(|v| v.to_string());
        out
    }

    pub async fn sql(&self, sql: &str) -> Value {
        let (status, body) = self.sql_status(sql).await;
        assert_eq!(status, 200, "SQL failed: {sql}\n{body}");
        body
    }

    pub async fn sql_status(&self, sql: &str) -> (u16, Value) {
        let r = self
            .client
            .post(format!("{}://{}/api/sql", self.scheme, self.http))
            .json(&serde_json::json!({"sql": sql}))
            .send()
            .await
            .expect("POST /api/sql");
        let status = r.status().as_u16();
        (status, r.json().await.expect("JSON body"))
    }

    /// Rows of a query as JSON arrays.
    pub async fn rows(&self, sql: &str) -> Vec<Vec<Value>> {
        let v = self.sql(sql).await;
        v["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r.as_array().expect("row").clone())
            .collect()
    }

    /// The value of an unlabelled metric on `/metrics` (0 when absent).
    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .client
            .get(format!("{}://{}/metrics", self.scheme, self.http))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    pub async fn count(&self, sql: &str) -> i64 {
        let rows = self.rows(sql).await;
        rows[0][0].as_i64().expect("a count")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Runs `vigil` with arguments and returns (success, stdout, stderr).
pub fn vigil(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(vigil_bin())
        .args(args)
        .env("VIGIL_LOG", "warn")
        .output()
        .expect("run vigil");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `vigil` expecting it to exit by itself within `timeout` (a start-up
/// that must fail); a process still running then is killed and fails the test.
pub fn vigil_with_timeout(args: &[&str], timeout: Duration) -> (bool, String, String) {
    vigil_env(args, &[], timeout)
}

/// [`vigil_with_timeout`] with extra environment variables (a `VIGIL_FAILPOINT`).
pub fn vigil_env(args: &[&str], env: &[(&str, &str)], timeout: Duration) -> (bool, String, String) {
    let mut child = Command::new(vigil_bin())
        .args(args)
        .env("VIGIL_LOG", "warn")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run vigil");
    let deadline = Instant::now() + timeout;
    while child.try_wait().expect("wait").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("vigil {args:?} still running after {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The clone the tests run in (from cargo's runtime environment, see `fixtures::scenarios_dir`).
pub fn repo_root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// Byte-exact exports of real Codex and Claude Code runs (see fixtures/captures/README.md).
pub fn captures_dir() -> PathBuf {
    fixtures::captures_dir()
}

/// Runs a Python helper from tests/python; panics with its output on failure.
pub fn python(script: &str, args: &[&str]) -> String {
    python_env(script, args, &[])
}

/// [`python`] with extra environment variables.
pub fn python_env(script: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    let out = Command::new("python3")
        .arg(repo_root().join("tests/python").join(script))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{script} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An `/api/sql` answer as one JSON object per row, keyed by column.
pub fn objects(v: &Value) -> Vec<serde_json::Map<String, Value>> {
    let cols: Vec<String> = v["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| {
            cols.iter()
                .cloned()
                .zip(r.as_array().expect("row").iter().cloned())
                .collect()
        })
        .collect()
}

/// `s` percent-encoded for a URL path segment (everything but `[A-Za-z0-9-_.~]`).
pub fn url_component(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
