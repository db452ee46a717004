//! The Postgres wire protocol, driven by the real `psql` (postgresql-client).

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::harness::Server;

/// Runs `psql` against `server` with `script` on stdin; returns (success, stdout, stderr).
pub(crate) fn psql(
    server: &Server,
    password: Option<&str>,
    script: &str,
) -> (bool, String, String) {
    psql_env(server, password, &[], script)
}

/// [`psql`] with extra libpq environment (`PGSSLMODE`, `PGSSLROOTCERT`, …).
pub(crate) fn psql_env(
    server: &Server,
    password: Option<&str>,
    env: &[(&str, &str)],
    script: &str,
) -> (bool, String, String) {
    let (host, port) = server.pg.rsplit_once(':').expect("host:port");
    let mut cmd = Command::new("psql");
    cmd.args(["-h", host, "-p", port, "-U", "responder", "-d", "vigil"])
        // no ~/.psqlrc, never prompt, unaligned output, stop at the first error, SQLSTATEs in errors
        .args([
            "-X",
            "-w",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-v",
            "VERBOSITY=verbose",
            "-f",
            "-",
        ])
        .env("PGCONNECT_TIMEOUT", "10")
        .env_remove("PGPASSWORD")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "psql is not installed; this test needs the real client: apt-get install -y postgresql-client (.ci/run installs it)"
        ),
        Err(e) => panic!("starting psql: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("psql");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs `script`, which must succeed; returns its output.
pub(crate) fn psql_ok(server: &Server, password: Option<&str>, script: &str) -> String {
    let (ok, out, err) = psql(server, password, script);
    assert!(
        ok,
        "psql failed on {script:?}\nstdout:\n{out}\nstderr:\n{err}"
    );
    out
}

/// Sends a recorded scenario over OTLP/HTTP JSON.
async fn send_scenario(server: &Server, name: &str) {
    let dir = fixtures::scenarios_dir().join(name);
    for m in fixtures::manifest(&dir).expect("manifest") {
        let body = std::fs::read(dir.join(&m.file)).expect("body");
        let r = server.post_otlp(&m.path, &m.content_type, body).await;
        assert_eq!(r.status(), 200, "{}", m.file);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn psql_queries_lists_and_describes_tables_and_is_refused_every_write() {
    let server = Server::start().await;
    send_scenario(&server, "02_rm_rf_denied").await;

    // a query over sent data, after the session SETs clients send on connect
    let out = psql_ok(
        &server,
        None,
        "SET extra_float_digits = 3;\nSET application_name = 'e2e';\n\\pset tuples_only on\n\
         SELECT agent, command, decision, ran FROM agent_actions \
         WHERE session_id = '5572675d-8093-7ffa-85e4-90c254409f34' AND decision = 'deny';\n\
         SELECT count(DISTINCT session_id) FROM denied_actions;\n\
         SELECT ts FROM agent_events ORDER BY ts LIMIT 1;\n",
    );
    let lines: Vec<&str> = out
        .lines()
        .filter(|l| !l.is_empty() && *l != "SET" && !l.starts_with("Tuples only"))
        .collect();
    assert_eq!(lines[0], "codex|rm -rf ./build /|deny|f", "{out}");
    assert_eq!(lines[1], "3", "{out}");
    // timestamptz, rendered in UTC
    assert!(
        lines[2].starts_with("20") && (lines[2].ends_with("+00") || lines[2].ends_with("+00:00")),
        "{out}"
    );

    // the extended protocol: psql's \gdesc describes a statement without running it
    let out = psql_ok(
        &server,
        None,
        "SELECT ts, session_id, turn_index, paths_written, ran FROM agent_actions \\gdesc\n",
    );
    for (column, ty) in [
        ("ts", "timestamp with time zone"),
        ("session_id", "text"),
        ("turn_index", "bigint"),
        ("paths_written", "text[]"),
        ("ran", "boolean"),
    ] {
        assert!(
            out.contains(&format!("{column}|{ty}")),
            "{column} {ty}:\n{out}"
        );
    }

    // \dt lists the stored tables and the views (presented as tables)
    let out = psql_ok(&server, None, "\\dt\n");
    for table in [
        "agent_events",
        "agent_actions",
        "sessions",
        "denied_actions",
        "otlp_spans",
        "otlp_logs",
    ] {
        assert!(
            out.contains(&format!("public|{table}|table")),
            "{table}:\n{out}"
        );
    }

    // \d shows columns and their types
    let out = psql_ok(&server, None, "\\d agent_events\n");
    for (column, ty) in [
        ("session_id", "text"),
        ("ts", "timestamp with time zone"),
        ("turn_index", "bigint"),
        ("paths_read", "text[]"),
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("{column}|{ty}|"))),
            "{column} {ty}:\n{out}"
        );
    }

    // writes are refused with a clear message and SQLSTATE 42501, and change nothing
    for (sql, what) in [
        ("DROP TABLE agent_events;", "DDL (DROP) is refused"),
        ("COPY agent_events TO STDOUT;", "COPY is refused"),
        ("COPY otlp_logs FROM '/etc/passwd';", "COPY is refused"),
        ("DELETE FROM otlp_logs;", "DML"),
        (
            "SET datafusion.execution.target_partitions = 1;",
            "SET of an engine setting",
        ),
        (
            "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd';",
            "CREATE EXTERNAL TABLE is refused",
        ),
    ] {
        let (ok, out, err) = psql(&server, None, sql);
        assert!(!ok, "{sql} was accepted: {out}");
        assert!(err.contains("ERROR:  42501"), "{sql}: {err}");
        assert!(
            err.contains("only read-only queries are allowed") && err.contains(what),
            "{sql}: {err}"
        );
    }
    // a statement sqlparser 0.62 would parse for hours is cut short: 54001
    let exponential =
        include_str!("../../fuzz/regressions/sql_guard/sqlparser-0.62-exponential-subscripts");
    // (psql sends its first statement, up to the `;`)
    let first = &exponential[..=exponential.find(';').unwrap()];
    let (ok, out, err) = psql(&server, None, &format!("{first}\n"));
    assert!(!ok, "accepted: {out}");
    assert!(err.contains("ERROR:  54001"), "{err}");
    assert!(err.contains("too complex"), "{err}");
    let n = server
        .count("SELECT count(*) FROM agent_events WHERE agent = 'codex'")
        .await;
    assert!(n > 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn with_a_token_psql_must_give_it_as_the_password() {
    let server = Server::start_with(&["--auth-token", "s3cret-token"]).await;
    let (ok, _, err) = psql(&server, Some("wrong"), "SELECT 1;\n");
    assert!(!ok);
    assert!(err.contains("password authentication failed"), "{err}");
    let (ok, _, err) = psql(&server, None, "SELECT 1;\n");
    assert!(!ok, "no password must not connect");
    assert!(!err.is_empty());
    let out = psql_ok(
        &server,
        Some("s3cret-token"),
        "\\pset tuples_only on\nSELECT 40 + 2;\n",
    );
    assert!(out.lines().any(|l| l == "42"), "{out}");
}

/// The subquery Grafana's PostgreSQL data source uses for "schemas on the search path".
const GRAFANA_SEARCH_PATH: &str = r#"
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          "#;

#[tokio::test(flavor = "multi_thread")]
async fn grafanas_table_picker_and_column_queries_list_the_tables() {
    let server = Server::start().await;
    let excluded = "('information_schema', 'pg_catalog', '_timescaledb_cache', '_timescaledb_catalog', \
                    '_timescaledb_internal', '_timescaledb_config', 'timescaledb_information', \
                    'timescaledb_experimental')";
    // the table picker, in its two forms (older Grafana filters by the search path,
    // newer qualifies the names of tables outside it)
    let tables = format!(
        "SELECT quote_ident(table_name) AS \"table\" FROM information_schema.tables \
         WHERE quote_ident(table_schema) NOT IN {excluded} \
           AND quote_ident(table_schema) IN ({GRAFANA_SEARCH_PATH});\n"
    );
    let qualified = format!(
        "SELECT CASE WHEN quote_ident(table_schema) IN ({GRAFANA_SEARCH_PATH}) \
           THEN quote_ident(table_name) \
           ELSE quote_ident(table_schema) || '.' || quote_ident(table_name) END AS \"table\" \
         FROM information_schema.tables WHERE quote_ident(table_schema) NOT IN {excluded} \
         ORDER BY CASE WHEN quote_ident(table_schema) IN ({GRAFANA_SEARCH_PATH}) THEN 0 ELSE 1 END, 1;\n"
    );
    for sql in [&tables, &qualified] {
        let out = psql_ok(&server, None, &format!("\\pset tuples_only on\n{sql}"));
        let names: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
        for table in [
            "agent_events",
            "agent_actions",
            "sessions",
            "findings",
            "otlp_spans",
        ] {
            assert!(names.contains(&table), "{table} missing from {names:?}");
        }
        assert!(
            !names
                .iter()
                .any(|n| n.starts_with("pg_") || n.contains('.')),
            "{names:?}"
        );
    }
    // the columns of the chosen table, by bare and by qualified name
    for table in ["agent_events", "public.agent_events"] {
        let columns = format!(
            "\\pset tuples_only on\n\
             SELECT quote_ident(column_name) AS \"column\", data_type AS \"type\" \
             FROM information_schema.columns WHERE \
             CASE WHEN array_length(parse_ident('{table}'),1) = 2 \
               THEN quote_ident(table_schema) = (parse_ident('{table}'))[1] \
                 AND quote_ident(table_name) = (parse_ident('{table}'))[2] \
               ELSE quote_ident(table_name) = '{table}' \
                 AND quote_ident(table_schema) IN ({GRAFANA_SEARCH_PATH}) END;\n"
        );
        let out = psql_ok(&server, None, &columns);
        let rows: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
        assert!(rows.contains(&"session_id|Utf8"), "{table}: {rows:?}");
        assert!(rows.len() > 20, "{table}: {rows:?}");
    }
    // and the function itself
    let out = psql_ok(
        &server,
        None,
        "\\pset tuples_only on\nSELECT current_setting('search_path');\n",
    );
    assert_eq!(out.trim(), "public", "{out}");
}
