//! What each statement from a Postgres client is: SQL for the engine, client
//! chatter answered here, or refused.
//!
//! Deny by default: only queries (`SELECT`, `WITH`, `VALUES`, `EXPLAIN` of a
//! query, `SHOW`) reach the engine, which plans them and checks the plan again
//! ([`query::check_read_only`]). The session `SET`s, transaction brackets and
//! pool resets that psql, Grafana and JDBC send on their own are accepted and
//! change nothing (the store is read-only, so a transaction is trivially
//! consistent); every other statement is refused before planning.

use std::borrow::Cow;
use std::sync::LazyLock;

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{ObjectName, Set, Statement};
use datafusion_pg_catalog::sql::PostgresCompatibilityParser;
use pgwire::types::format::FormatOptions;
use query::Error;

/// The `server_version` reported to clients (they pick their catalog queries by it).
pub(crate) const SERVER_VERSION: &str = "16.6";
const SERVER_VERSION_NUM: &str = "160006";

/// One statement, decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// SQL for the engine (rewritten for DataFusion: `pg_catalog` operators,
    /// `::regclass` casts, …).
    Query(String),
    /// Answered without the engine.
    Reply(Reply),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reply {
    /// Accepted, changes nothing; answered with this command tag.
    Done(&'static str),
    /// `BEGIN` / `START TRANSACTION`.
    Begin,
    /// `COMMIT` / `ROLLBACK` / `END`, with its tag.
    End(&'static str),
    /// `SHOW name`, answered from the fixed session settings.
    Show { name: String, value: String },
}

/// Session settings clients set on connect; accepted as no-ops.
const HARMLESS_SETTINGS: &[&str] = &[
    "application_name",
    "bytea_output",
    "client_encoding",
    "client_min_messages",
    "datestyle",
    "default_transaction_isolation",
    "default_transaction_read_only",
    "extra_float_digits",
    "intervalstyle",
    "lc_messages",
    "lc_monetary",
    "lc_numeric",
    "lc_time",
    "search_path",
    "standard_conforming_strings",
    "timezone",
    "transaction_isolation",
    "transaction_read_only",
];

/// The settings `SHOW` answers; anything else goes to the engine (DataFusion's
/// own settings) or fails there.
pub(crate) fn setting(name: &str) -> Option<String> {
    let defaults = FormatOptions::default();
    let v = match name {
        "server_version" => SERVER_VERSION,
        "server_version_num" => SERVER_VERSION_NUM,
        "server_encoding" | "client_encoding" => "UTF8",
        "standard_conforming_strings" | "integer_datetimes" => "on",
        "transaction_read_only" | "default_transaction_read_only" => "on",
        "is_superuser" => "off",
        "transaction_isolation" | "default_transaction_isolation" => "read committed",
        "search_path" => "public",
        "max_identifier_length" => "63",
        "lc_collate" | "lc_ctype" => "C",
        "datestyle" => return Some(defaults.date_style),
        "intervalstyle" => return Some(defaults.interval_style),
        "timezone" => return Some(defaults.time_zone),
        _ => return None,
    };
    Some(v.to_string())
}

/// Splits and decides client SQL.
#[derive(Debug, Default)]
pub(crate) struct Statements {
    parser: PostgresCompatibilityParser,
}

impl Statements {
    /// Every statement of `sql`, in order; one that is refused fails the whole text,
    /// so nothing of a refused batch runs.
    pub(crate) fn parse(&self, sql: &str) -> Result<Vec<Action>, Error> {
        let sql = answer_search_path_subquery(sql);
        // the compatibility parser's own sqlparser has no bound on its work
        query::check_postgres(&sql)?;
        match self.parser.parse(&sql) {
            Ok(statements) => statements.iter().map(classify).collect(),
            Err(e) => Err(refused_datafusion_statement(&sql).unwrap_or(Error::Sql(e.to_string()))),
        }
    }
}

/// Grafana's PostgreSQL data source asks which schemas are on the search path
/// (to list tables and to find a table's columns) with a subquery whose lateral
/// `FROM generate_series(…) AS i, string_to_array(…) s` DataFusion cannot plan.
/// It is replaced by its answer, the list of schemas of `setting("search_path")`
/// (a list, not a subquery: Grafana puts it inside `CASE`, where DataFusion
/// plans no subquery).
/// (datafusion-pg-catalog substitutes `''`, "no schema", which leaves Grafana's
/// table picker empty.)
fn answer_search_path_subquery(sql: &str) -> Cow<'_, str> {
    static GRAFANA: LazyLock<regex::Regex> = LazyLock::new(|| {
        let text = r#"SELECT CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
            FROM generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i, string_to_array(current_setting('search_path'),',') s"#;
        // any spacing between the words; none needed around punctuation
        let mut pattern = String::from("(?i)");
        for (i, word) in text.split_whitespace().enumerate() {
            if i > 0 {
                pattern.push_str(r"\s*");
            }
            for part in word.split_inclusive([',', '(', ')']) {
                pattern.push_str(&regex::escape(part));
                if part.ends_with([',', '(', ')']) {
                    pattern.push_str(r"\s*");
                }
            }
        }
        regex::Regex::new(&pattern).expect("a valid pattern")
    });
    let schemas = setting("search_path").unwrap_or_default();
    let answer = schemas
        .split(',')
        .map(|s| format!("'{}'", s.trim().replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    GRAFANA.replace_all(sql, regex::NoExpand(&answer))
}

/// DataFusion's own statements (`CREATE EXTERNAL TABLE`, `COPY … TO 'file'`)
/// are not Postgres syntax; name them instead of reporting a syntax error.
fn refused_datafusion_statement(sql: &str) -> Option<Error> {
    let statements =
        query::parse_datafusion_statements(sql, query::DEFAULT_RECURSION_LIMIT).ok()?;
    statements.iter().find_map(|s| match s {
        DfStatement::CreateExternalTable(_) => Some(Error::NotReadOnly("CREATE EXTERNAL TABLE")),
        DfStatement::CopyTo(_) => Some(Error::NotReadOnly("COPY")),
        _ => None,
    })
}

fn name_of(name: &ObjectName) -> String {
    name.to_string().to_ascii_lowercase().replace('"', "")
}

fn classify(statement: &Statement) -> Result<Action, Error> {
    use Reply::*;
    let refuse = |what| Err(Error::NotReadOnly(what));
    let reply = |r| Ok(Action::Reply(r));
    match statement {
        Statement::Query(_) | Statement::ShowTables { .. } | Statement::ShowColumns { .. } => {
            Ok(Action::Query(statement.to_string()))
        }
        Statement::Explain {
            statement: inner, ..
        } => match classify(inner)? {
            Action::Query(_) => Ok(Action::Query(statement.to_string())),
            Action::Reply(_) => refuse("EXPLAIN of a statement that is not a query"),
        },
        Statement::ShowVariable { variable } => {
            let name = variable
                .iter()
                .map(|i| i.value.to_ascii_lowercase())
                .collect::<Vec<_>>()
                .join(" ");
            let name = if name == "time zone" {
                "timezone".to_string()
            } else {
                name
            };
            match setting(&name) {
                Some(value) => reply(Show { name, value }),
                None => Ok(Action::Query(statement.to_string())),
            }
        }
        Statement::Set(set) => match set {
            Set::SingleAssignment { variable, .. }
                if HARMLESS_SETTINGS.contains(&name_of(variable).as_str()) =>
            {
                reply(Done("SET"))
            }
            Set::SetTimeZone { .. }
            | Set::SetNames { .. }
            | Set::SetNamesDefault {}
            | Set::SetTransaction { .. } => reply(Done("SET")),
            _ => refuse("SET of an engine setting"),
        },
        Statement::StartTransaction { .. } => reply(Begin),
        Statement::Commit { .. } => reply(End("COMMIT")),
        Statement::Rollback { .. } => reply(End("ROLLBACK")),
        Statement::Discard { .. } => reply(Done("DISCARD ALL")),
        Statement::Deallocate { .. } => reply(Done("DEALLOCATE")),
        Statement::UNLISTEN { .. } => reply(Done("UNLISTEN")),
        Statement::Reset(_) => reply(Done("RESET")),
        Statement::Copy { .. } => refuse("COPY"),
        Statement::Insert(_)
        | Statement::Update(_)
        | Statement::Delete(_)
        | Statement::Merge(_) => refuse("DML (INSERT / UPDATE / DELETE / MERGE)"),
        Statement::Truncate(_) => refuse("TRUNCATE"),
        Statement::Drop { .. } => refuse("DDL (DROP)"),
        Statement::CreateTable(_)
        | Statement::CreateView(_)
        | Statement::CreateSchema { .. }
        | Statement::CreateDatabase { .. }
        | Statement::CreateIndex(_)
        | Statement::CreateFunction(_) => refuse("DDL (CREATE)"),
        Statement::AlterTable(_) | Statement::AlterView { .. } | Statement::AlterSchema(_) => {
            refuse("DDL (ALTER)")
        }
        Statement::Prepare { .. } | Statement::Execute { .. } => {
            refuse("SQL-level PREPARE / EXECUTE (use the extended query protocol)")
        }
        // deny by default: grants, vacuum, LISTEN/NOTIFY, procedures, …
        _ => refuse("this statement"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> Result<Action, Error> {
        let mut v = Statements::default().parse(sql)?;
        assert_eq!(v.len(), 1, "{sql}");
        Ok(v.remove(0))
    }

    fn ok(sql: &str) -> Action {
        one(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    #[test]
    fn queries_go_to_the_engine_rewritten_for_datafusion() {
        for sql in [
            "SELECT 1",
            "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
            "EXPLAIN SELECT * FROM agent_events",
            "SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(agent_events)$' COLLATE pg_catalog.default",
        ] {
            assert!(
                matches!(one(sql), Ok(Action::Query(_))),
                "{sql}: {:?}",
                one(sql)
            );
        }
        let Ok(Action::Query(q)) = one("SELECT relname FROM pg_class WHERE relname ~ '^a'") else {
            panic!()
        };
        assert!(q.contains("pg_catalog.pg_class"), "{q}");
    }

    #[test]
    fn grafanas_search_path_subquery_is_answered_with_the_search_path() {
        // as Grafana's table picker sends it (indentation included)
        let sql = r#"SELECT quote_ident(table_name) AS "table"
    FROM information_schema.tables
    WHERE quote_ident(table_schema) NOT IN ('information_schema', 'pg_catalog')
      AND
          quote_ident(table_schema) IN (
          SELECT
            CASE WHEN trim(s[i]) = '"$user"' THEN user ELSE trim(s[i]) END
          FROM
            generate_series(
              array_lower(string_to_array(current_setting('search_path'),','),1),
              array_upper(string_to_array(current_setting('search_path'),','),1)
            ) as i,
            string_to_array(current_setting('search_path'),',') s
          )"#;
        let rewritten = answer_search_path_subquery(sql);
        assert_eq!(
            rewritten,
            "SELECT quote_ident(table_name) AS \"table\"\n    FROM information_schema.tables\n    \
             WHERE quote_ident(table_schema) NOT IN ('information_schema', 'pg_catalog')\n      AND\n          \
             quote_ident(table_schema) IN (\n          'public'\n          )"
        );
        // the same words on one line, other case
        let one_line = "select 1 where 'public' in (select case when trim(s[i]) = '\"$user\"' then user else trim(s[i]) end from generate_series(array_lower(string_to_array(current_setting('search_path'), ','), 1), array_upper(string_to_array(current_setting('search_path'), ','), 1)) as i, string_to_array(current_setting('search_path'), ',') s)";
        assert_eq!(
            answer_search_path_subquery(one_line),
            "select 1 where 'public' in ('public')"
        );
        assert!(matches!(
            answer_search_path_subquery("SELECT current_setting('search_path')"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn client_chatter_is_accepted_and_changes_nothing() {
        let done = Action::Reply(Reply::Done("SET"));
        for sql in [
            "SET extra_float_digits = 3",
            "SET application_name = 'PostgreSQL JDBC Driver'",
            "SET DateStyle TO 'ISO'",
            "SET search_path TO public",
            "SET TIME ZONE 'UTC'",
            "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED",
            "SET client_encoding TO 'UTF8'",
        ] {
            assert_eq!(ok(sql), done, "{sql}");
        }
        assert_eq!(ok("BEGIN"), Action::Reply(Reply::Begin));
        assert_eq!(ok("COMMIT"), Action::Reply(Reply::End("COMMIT")));
        assert_eq!(ok("ROLLBACK"), Action::Reply(Reply::End("ROLLBACK")));
        assert_eq!(ok("DISCARD ALL"), Action::Reply(Reply::Done("DISCARD ALL")));
        assert_eq!(
            ok("SHOW transaction_isolation"),
            Action::Reply(Reply::Show {
                name: "transaction_isolation".into(),
                value: "read committed".into()
            })
        );
        let Ok(Action::Reply(Reply::Show { value, .. })) = one("SHOW server_version") else {
            panic!()
        };
        assert_eq!(value, SERVER_VERSION);
    }

    #[test]
    fn writes_engine_settings_and_file_access_are_refused_by_name() {
        for (sql, what) in [
            ("DROP TABLE agent_events", "DDL (DROP)"),
            ("DROP VIEW sessions", "DDL (DROP)"),
            ("CREATE TABLE t (a int)", "DDL (CREATE)"),
            ("CREATE VIEW v AS SELECT 1", "DDL (CREATE)"),
            (
                "INSERT INTO agent_events_raw VALUES (1)",
                "DML (INSERT / UPDATE / DELETE / MERGE)",
            ),
            (
                "DELETE FROM otlp_logs",
                "DML (INSERT / UPDATE / DELETE / MERGE)",
            ),
            (
                "UPDATE otlp_logs SET body = 'x'",
                "DML (INSERT / UPDATE / DELETE / MERGE)",
            ),
            ("TRUNCATE otlp_logs", "TRUNCATE"),
            ("COPY agent_events TO STDOUT", "COPY"),
            ("COPY (SELECT 1) TO '/tmp/x.csv'", "COPY"),
            ("COPY otlp_logs FROM '/etc/passwd'", "COPY"),
            (
                "SET datafusion.execution.batch_size = 1",
                "SET of an engine setting",
            ),
            ("SET work_mem = '1GB'", "SET of an engine setting"),
            (
                "CREATE EXTERNAL TABLE x STORED AS CSV LOCATION '/etc/passwd'",
                "CREATE EXTERNAL TABLE",
            ),
            (
                "EXPLAIN DELETE FROM otlp_logs",
                "DML (INSERT / UPDATE / DELETE / MERGE)",
            ),
            ("GRANT SELECT ON agent_events TO bob", "this statement"),
            ("VACUUM", "this statement"),
            ("ALTER TABLE otlp_logs ADD COLUMN x int", "DDL (ALTER)"),
        ] {
            match one(sql) {
                Err(Error::NotReadOnly(w)) => assert_eq!(w, what, "{sql}"),
                other => panic!("{sql}: {other:?}"),
            }
        }
        // a batch with one refused statement runs nothing
        assert!(matches!(
            Statements::default().parse("SELECT 1; DROP TABLE otlp_logs"),
            Err(Error::NotReadOnly(_))
        ));
        assert!(matches!(one("SELEC 1"), Err(Error::Sql(_))));
    }
}
