//! The dashboard in a real browser: headless Chromium driven over WebDriver
//! (`chromedriver`, from Debian's `chromium-driver`), against the real binary
//! with recorded scenarios and both shared captures sent through OTLP.
//! Every page is saved as a screenshot under
//! `$CARGO_TARGET_TMPDIR/dashboard-screenshots/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::harness::{Server, captures_dir, wait_for};
use crate::scenarios::{Transport, send};

/// A chromedriver process and one browser session; both end on drop.
struct Browser {
    client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

async fn browser() -> Browser {
    let port = free_port();
    let driver = match Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "chromedriver is not installed; the dashboard tests drive a real browser: \
             apt-get install -y chromium chromium-driver (.ci/run installs them)"
        ),
        Err(e) => panic!("starting chromedriver: {e}"),
    };
    let profile = tempfile::tempdir().expect("profile dir");
    let caps = json!({
        "goog:chromeOptions": {
            "binary": std::env::var("VIGIL_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--window-size=1366,900",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    let url = format!("http://127.0.0.1:{port}");
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let client = wait_for(
        "chromedriver to start a browser",
        Duration::from_secs(60),
        async || {
            ClientBuilder::new(connector.clone())
                .capabilities(caps.clone())
                .connect(&url)
                .await
                .ok()
        },
    )
    .await;
    Browser {
        client,
        driver,
        _profile: profile,
    }
}

fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

impl Browser {
    /// Navigates and waits until the page has loaded (a first navigation can
    /// answer while the blank start page is still the document).
    async fn open(&self, url: &str) {
        self.client.goto(url).await.expect("goto");
        let path = url.split_once("://").map_or(url, |(_, r)| r);
        let path = path.find('/').map_or("/", |i| &path[i..]).to_string();
        wait_for(&format!("{url} to load"), Duration::from_secs(30), async || {
            let v = self
                .js("return [document.readyState, location.pathname + location.search, !!document.querySelector('main')]")
                .await;
            let here = v[1].as_str().unwrap_or("");
            let same = path.starts_with(here) || here.starts_with(path.split('#').next().unwrap_or(""));
            (v[0] == json!("complete") && v[2] == json!(true) && same).then_some(())
        })
        .await;
    }

    /// The page's visible text (empty while there is no body).
    async fn text(&self) -> String {
        let v = self
            .js("return document.body ? document.body.innerText : ''")
            .await;
        v.as_str().unwrap_or("").to_string()
    }

    async fn js(&self, script: &str) -> Value {
        self.client.execute(script, vec![]).await.expect("script")
    }

    /// The whole page as a PNG (the window grown to the page's height).
    async fn screenshot(&self, name: &str) {
        let h = self
            .js("return Math.min(document.documentElement.scrollHeight, 6000)")
            .await
            .as_i64()
            .unwrap_or(900);
        let _ = self.client.set_window_size(1366, h.max(768) as u32).await;
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write png");
        let _ = self.client.set_window_size(1366, 900).await;
    }

    async fn count(&self, css: &str) -> usize {
        self.client
            .find_all(Locator::Css(css))
            .await
            .expect("find_all")
            .len()
    }

    /// Waits until the page's text contains `want`.
    async fn wait_text(&self, want: &str) -> String {
        wait_for(
            &format!("{want:?} on the page"),
            Duration::from_secs(30),
            async || {
                let t = self.text().await;
                t.contains(want).then_some(t)
            },
        )
        .await
    }
}

const RM_RF: &str = "01a20b01-c0f6-7de1-9b2e-e4873fe89a98";
const EXFIL: &str = "dd89bf93-7193-79c4-8f71-8bdd8144da3a";
const PLANS: &str = "37d233fd-f4c7-75d7-8447-7e08c8930928";

async fn server_with_scenarios() -> Server {
    let server = Server::start().await;
    for name in [
        "01_benign_refactor",
        "02_rm_rf_denied",
        "04_prompt_injection_exfil",
        "07_unlisted_mcp_server",
    ] {
        send(
            &server,
            &fixtures::scenarios_dir().join(name),
            Transport::HttpJson,
        )
        .await;
    }
    for capture in ["codex-0.169.0-json", "claude-code-2.1.330-json"] {
        crate::captures::replay(&server, &captures_dir().join(capture)).await;
    }
    server.findings().await; // the detector has caught up
    server
}

#[tokio::test]
async fn a_security_engineer_reads_the_sessions_in_the_browser() {
    let server = server_with_scenarios().await;
    let b = browser().await;
    let base = format!("http://{}", server.http);
    let mut failures: Vec<String> = Vec::new();
    let mut check = |ok: bool, what: String| {
        if !ok {
            failures.push(what);
        }
    };

    // overview: counts, charts, findings by rule, latest high-severity findings
    b.open(&format!("{base}/?range=all")).await;
    let t = b.text().await;
    check(
        t.contains("denied or aborted"),
        format!("overview counts: {t}"),
    );
    check(
        t.contains("secret-exfiltration"),
        "overview: findings by rule".into(),
    );
    check(
        t.contains("Latest high-severity findings"),
        "overview: latest".into(),
    );
    check(
        b.count("figure.chart svg rect.bar").await >= 3,
        "overview: chart bars".into(),
    );
    check(
        t.contains("Egress domains") && t.contains("exfil.evil-domain.example"),
        format!("overview: egress {t}"),
    );
    b.screenshot("overview").await;

    // sessions: the table lists the scenario sessions; search narrows it
    b.open(&format!("{base}/sessions")).await;
    let t = b.text().await;
    check(
        t.contains(RM_RF) && t.contains(EXFIL),
        "sessions: rows".into(),
    );
    b.screenshot("sessions").await;
    b.open(&format!("{base}/sessions?q=vigil-victim")).await;
    let t = b.text().await;
    check(
        t.contains(RM_RF) && !t.contains(PLANS),
        format!("sessions search: {t}"),
    );

    // the denied rm -rf, with who denied it
    b.open(&format!("{base}/sessions/{RM_RF}")).await;
    let rm = b
        .js("return [...document.querySelectorAll('article.action')].filter(a => a.querySelector('.command') && a.querySelector('.command').innerText.includes('rm -rf /tmp/vigil-victim')).map(a => a.querySelector('.tl-meta .badge').innerText)")
        .await;
    check(
        rm == json!(["denied by policy"]),
        format!("rm -rf badge: {rm}"),
    );
    check(
        b.count("svg .mark.m-deny").await >= 1,
        "swimlane: a denied mark".into(),
    );
    b.screenshot("session-rm-rf").await;

    // every event links to its stored record
    let raw = b
        .js("const a = [...document.querySelectorAll('article.action')].find(a => a.innerText.includes('rm -rf /tmp/vigil-victim')); \
             return a ? a.querySelector('ol.steps a.raw').getAttribute('href') : null")
        .await;
    let raw = raw.as_str().unwrap_or("").to_string();
    check(raw.starts_with("/events/"), format!("raw link: {raw}"));
    b.open(&format!("{base}{raw}")).await;
    let t = b.text().await;
    check(
        t.contains("Normalized (agent_events)") && t.contains(RM_RF) && t.contains("exec_command"),
        format!("event page: {t}"),
    );
    check(
        t.contains("Stored record (otlp_logs)") || t.contains("Stored record (otlp_spans)"),
        format!("the OTLP record: {t}"),
    );
    check(
        t.contains("conversation.id") || t.contains("trace_id"),
        format!("its attributes: {t}"),
    );
    b.screenshot("event").await;

    // the exfiltration finding links the credential read and the blocked egress
    b.open(&format!("{base}/sessions/{EXFIL}")).await;
    let seq = b
        .js("const f = [...document.querySelectorAll('li.finding')].find(f => f.innerText.includes('Secret read, then sent to exfil.evil-domain.example')); \
             return f ? [...f.querySelectorAll('ol.sequence a')].map(a => [a.getAttribute('href'), a.innerText]) : null")
        .await;
    let steps = seq.as_array().cloned().unwrap_or_default();
    check(steps.len() >= 2, format!("exfil sequence: {seq}"));
    let texts: Vec<String> = steps
        .iter()
        .map(|s| s[1].as_str().unwrap_or("").to_string())
        .collect();
    check(
        texts.first().is_some_and(|t| {
            t.contains("credentials") || t.contains(".env") || t.contains("secret")
        }),
        format!("sequence starts at the read: {texts:?}"),
    );
    check(
        texts
            .iter()
            .any(|t| t.contains("exfil.evil-domain.example")),
        format!("sequence reaches the egress: {texts:?}"),
    );
    // every link in the sequence lands on an element of the timeline
    for s in &steps {
        let href = s[0].as_str().unwrap_or("");
        let found = b
            .js(&format!(
                "return document.getElementById({}) !== null",
                json!(href.trim_start_matches('#'))
            ))
            .await;
        check(
            found == json!(true),
            format!("sequence link {href} has no target"),
        );
    }
    let blocked = b
        .js("return [...document.querySelectorAll('.tl-item')].some(e => e.innerText.includes('exfil.evil-domain.example') && e.innerText.includes('denied by proxy'))")
        .await;
    check(
        blocked == json!(true),
        "the blocked egress shows who blocked it".into(),
    );
    b.screenshot("session-exfiltration").await;

    // the plan as it changed across turns
    b.open(&format!("{base}/sessions/{PLANS}")).await;
    check(
        b.count(".tl-item.plan.changed").await >= 3,
        "plan changed in three turns".into(),
    );
    check(
        b.count(".plan-steps .chg.add").await >= 3,
        "added steps marked".into(),
    );
    let t = b.text().await;
    check(
        t.contains("in_progress → completed") || t.contains("pending → in_progress"),
        format!("status changes: {t}"),
    );
    b.screenshot("session-plan").await;

    // from a finding to its event: the anchor scrolls to it and highlights it
    b.open(&format!("{base}/findings?rule=secret-exfiltration"))
        .await;
    b.screenshot("findings").await;
    let link = b
        .client
        .find(Locator::Css("table.data tbody tr td:nth-child(3) a"))
        .await
        .expect("a finding link");
    let href = link.attr("href").await.expect("href").unwrap_or_default();
    link.click().await.expect("click");
    let url = wait_for("the session page", Duration::from_secs(20), async || {
        let u = b.client.current_url().await.ok()?;
        u.path().starts_with("/sessions/").then_some(u)
    })
    .await;
    check(
        url.fragment().is_some_and(|f| f.starts_with("ev-")),
        format!("{url} from {href}"),
    );
    let target = b
        .js("const t = document.querySelector(':target'); if (!t) return null; const r = t.getBoundingClientRect(); \
             return [getComputedStyle(t).backgroundColor, r.top >= 0 && r.top < innerHeight]")
        .await;
    check(
        target[1] == json!(true),
        format!("the cited event is scrolled into view: {target}"),
    );
    check(
        target[0].as_str().is_some_and(|c| c != "rgba(0, 0, 0, 0)"),
        format!("and highlighted: {target}"),
    );

    // rules page lists each rule with its definition
    b.open(&format!("{base}/rules")).await;
    check(
        b.count("section.rule details pre").await >= 10,
        "rules with definitions".into(),
    );
    b.screenshot("rules").await;

    // SQL console: type, run, see the rows, download them as CSV
    b.open(&format!("{base}/sql")).await;
    let area = b
        .client
        .find(Locator::Css("textarea#q"))
        .await
        .expect("textarea");
    area.send_keys("SELECT session_id, denials FROM sessions WHERE denials > 0 ORDER BY denials DESC, session_id LIMIT 3").await.expect("type");
    b.client
        .find(Locator::Css("form.sql-form button[type=submit]"))
        .await
        .expect("run")
        .click()
        .await
        .expect("click");
    b.wait_text("rows in").await;
    let rows = b.js("return [...document.querySelectorAll('table.results tbody tr')].map(r => [...r.cells].map(c => c.innerText))").await;
    let want = server
        .rows("SELECT session_id, CAST(denials AS VARCHAR) AS d FROM sessions WHERE denials > 0 ORDER BY denials DESC, session_id LIMIT 3")
        .await;
    check(
        rows == json!(want),
        format!("console rows {rows} vs API {want:?}"),
    );
    b.screenshot("sql").await;
    let csv_href = b
        .client
        .find(Locator::Css("a.download"))
        .await
        .expect("csv link")
        .attr("href")
        .await
        .expect("href")
        .unwrap_or_default();
    let csv = server
        .client
        .get(format!("{base}{csv_href}"))
        .send()
        .await
        .expect("csv");
    check(
        csv.headers()
            .get("content-disposition")
            .is_some_and(|v| v.to_str().unwrap_or("").contains("attachment")),
        "CSV is a download".into(),
    );
    let csv = csv.text().await.unwrap_or_default();
    let mut lines = csv.lines();
    check(
        lines.next() == Some("session_id,denials"),
        format!("CSV header: {csv}"),
    );
    check(lines.count() == want.len(), format!("CSV rows: {csv}"));

    // a session page that fails shows why
    b.open(&format!("{base}/sessions/no-such")).await;
    let t = b.text().await;
    check(
        t.contains("404") && t.contains("no session \"no-such\""),
        format!("404 page: {t}"),
    );
    b.screenshot("not-found").await;

    assert!(failures.is_empty(), "{failures:#?}");
}

/// A Claude Code prompt record of session `id`, as the real client sends it.
fn prompt_record(id: &str, prompt: &str) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    json!({"resourceLogs": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "claude-code"}},
            {"key": "host.name", "value": {"stringValue": "live-host"}}
        ]},
        "scopeLogs": [{"scope": {"name": "com.anthropic.claude_code.events", "version": "2.1.330"},
            "logRecords": [{
                "timeUnixNano": now.to_string(),
                "observedTimeUnixNano": now.to_string(),
                "body": {"stringValue": "claude_code.user_prompt"},
                "attributes": [
                    {"key": "event.name", "value": {"stringValue": "user_prompt"}},
                    {"key": "session.id", "value": {"stringValue": id}},
                    {"key": "prompt.id", "value": {"stringValue": format!("{id}-p1")}},
                    {"key": "prompt", "value": {"stringValue": prompt}},
                    {"key": "prompt_length", "value": {"stringValue": prompt.len().to_string()}}
                ]
            }]
        }]
    }]})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn new_events_appear_without_a_reload() {
    let server = Server::start().await;
    let b = browser().await;
    let base = format!("http://{}", server.http);
    // an empty store says what to do
    b.open(&format!("{base}/sessions")).await;
    let t = b.wait_text("No sessions yet").await;
    assert!(
        t.contains(&format!("http://{}/v1/logs", server.otlp_http)),
        "the Codex snippet names this server: {t}"
    );
    assert!(
        t.contains(&format!(
            "OTEL_EXPORTER_OTLP_ENDPOINT=http://{}",
            server.grpc
        )),
        "{t}"
    );
    b.screenshot("empty").await;

    let r = server
        .post_otlp(
            "/v1/logs",
            "application/json",
            prompt_record("live-session-1", "first"),
        )
        .await;
    assert_eq!(r.status(), 200);
    b.wait_text("live-session-1").await;
    b.js("window.vigilSentinel = 42; window.scrollTo(0, 0)")
        .await;
    let r = server
        .post_otlp(
            "/v1/logs",
            "application/json",
            prompt_record("live-session-2", "second"),
        )
        .await;
    assert_eq!(r.status(), 200);
    b.wait_text("live-session-2").await;
    assert_eq!(
        b.js("return window.vigilSentinel").await,
        json!(42),
        "the page was not reloaded"
    );

    // and on the session page
    b.open(&format!("{base}/sessions/live-session-2")).await;
    b.js("window.vigilSentinel = 7").await;
    let r = server
        .post_otlp(
            "/v1/logs",
            "application/json",
            prompt_record("live-session-2", "a follow-up prompt"),
        )
        .await;
    assert_eq!(r.status(), 200);
    b.wait_text("a follow-up prompt").await;
    assert_eq!(b.js("return window.vigilSentinel").await, json!(7));
}

const XSS: &str = "<script>window.vigilPwned=1</script><img src=x onerror=\"window.vigilPwned=2\"><svg onload=\"window.vigilPwned=3\"></svg></textarea>\"><a href=\"javascript:window.vigilPwned=4\">x</a>' onmouseover='window.vigilPwned=5' \"><iframe src=\"javascript:window.parent.vigilPwned=6\"></iframe>";

/// Adds the payload to the attacker-controlled values of an OTLP/JSON body:
/// prompts, commands, tool arguments and output, MCP server names, plans. A
/// value holding JSON (tool arguments) gets it inside each of its strings.
fn poison(v: &mut Value) {
    const KEYS: [&str; 12] = [
        "prompt",
        "arguments",
        "output",
        "mcp_server",
        "full_command",
        "tool_parameters",
        "tool_input",
        "content",
        "response",
        "prompt_text",
        "user_prompt",
        "bash_command",
    ];
    fn inside(v: &mut Value) {
        match v {
            Value::String(s) => s.push_str(XSS),
            Value::Array(a) => a.iter_mut().for_each(inside),
            Value::Object(o) => o.values_mut().for_each(inside),
            _ => {}
        }
    }
    match v {
        Value::Object(o) => {
            let key = o.get("key").and_then(Value::as_str).map(str::to_string);
            if let (Some(k), Some(Value::String(s))) = (
                key,
                o.get_mut("value").and_then(|x| x.get_mut("stringValue")),
            ) && KEYS.contains(&k.as_str())
            {
                match serde_json::from_str::<Value>(s) {
                    Ok(mut j) if j.is_object() || j.is_array() => {
                        inside(&mut j);
                        *s = j.to_string();
                    }
                    _ => s.push_str(XSS),
                }
                return;
            }
            o.values_mut().for_each(poison);
        }
        Value::Array(a) => a.iter_mut().for_each(poison),
        _ => {}
    }
}

#[tokio::test]
async fn script_in_agent_data_renders_as_text_and_never_runs() {
    let server = Server::start().await;
    for name in [
        "01_benign_refactor",
        "07_unlisted_mcp_server",
        "02_rm_rf_denied",
    ] {
        let dir = fixtures::scenarios_dir().join(name);
        for m in fixtures::manifest(&dir).expect("manifest") {
            let mut body: Value =
                serde_json::from_slice(&std::fs::read(dir.join(&m.file)).unwrap()).unwrap();
            poison(&mut body);
            let r = server
                .post_otlp(&m.path, "application/json", body.to_string().into_bytes())
                .await;
            assert_eq!(r.status(), 200, "{name}/{}", m.file);
        }
    }
    server.findings().await;
    let poisoned = server
        .rows("SELECT count(*) FROM agent_events WHERE text LIKE '%vigilPwned%' OR command LIKE '%vigilPwned%' OR mcp_server LIKE '%vigilPwned%' OR plan LIKE '%vigilPwned%'")
        .await;
    assert!(
        poisoned[0][0].as_i64().unwrap_or(0) >= 10,
        "the payload is stored: {poisoned:?}"
    );
    let sessions: Vec<String> = server
        .rows("SELECT session_id FROM sessions ORDER BY session_id")
        .await
        .into_iter()
        .filter_map(|r| r[0].as_str().map(str::to_string))
        .collect();
    assert!(sessions.len() >= 3, "{sessions:?}");

    let b = browser().await;
    let base = format!("http://{}", server.http);
    let mut pages = vec![
        "/?range=all".to_string(),
        "/sessions".to_string(),
        format!("/sessions?q={}", "%3Cscript%3E"),
        "/findings".to_string(),
        format!(
            "/sql?q={}",
            "SELECT%20text%2C%20command%2C%20mcp_server%2C%20plan%20FROM%20agent_events%20WHERE%20text%20LIKE%20%27%25vigilPwned%25%27%20LIMIT%2020"
        ),
    ];
    pages.extend(
        sessions
            .iter()
            .map(|s| format!("/sessions/{}", crate::harness::url_component(s))),
    );
    let mut failures = Vec::new();
    let mut shown_as_text = 0;
    for (i, page) in pages.iter().enumerate() {
        b.open(&format!("{base}{page}")).await;
        // give any injected handler the chance to run: hover everything, wait a moment
        b.js("document.querySelectorAll('*').forEach(e => e.dispatchEvent(new MouseEvent('mouseover', {bubbles: true})))").await;
        let _ = b
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1]; setTimeout(done, 300)",
                vec![],
            )
            .await;
        if let Ok(text) = b.client.get_alert_text().await {
            failures.push(format!("{page}: a dialog opened: {text}"));
            let _ = b.client.dismiss_alert().await;
        }
        let state = b
            .js("return [typeof window.vigilPwned, window.vigilCspViolations, document.querySelectorAll('iframe, img[src=\"x\"], a[href^=\"javascript:\"]').length, document.body.innerText.includes('<script>window.vigilPwned=1</script>')]")
            .await;
        if state[0] != json!("undefined") {
            failures.push(format!("{page}: the payload ran: {state}"));
        }
        if state[1] != json!(0) {
            failures.push(format!("{page}: CSP violations: {state}"));
        }
        if state[2] != json!(0) {
            failures.push(format!("{page}: injected elements: {state}"));
        }
        if state[3] == json!(true) {
            shown_as_text += 1;
        }
        if page.starts_with("/sessions/") {
            b.screenshot(&format!("xss-session-{i}")).await;
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        shown_as_text >= 3,
        "the payload is shown as text on the pages that hold it ({shown_as_text})"
    );
}
