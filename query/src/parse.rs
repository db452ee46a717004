//! Parsing SQL with a bound on the parser's work.
//!
//! sqlparser 0.62 (the version DataFusion 55 pins) backtracks exponentially on
//! some short inputs: a 250-byte chain of `a.b[c] [d]…` subscripts parses for
//! hours, on a runtime thread, where no statement timeout can reach it
//! (found by `fuzz/fuzz_targets/sql_guard.rs`; fixed upstream by
//! apache/datafusion-sqlparser-rs#2344, #2350, #2352 and #2372, released after
//! 0.62). Until DataFusion moves to a fixed sqlparser, every statement Vigil
//! plans is parsed through [`BudgetedDialect`]: DataFusion's own dialect with
//! a meter on the parser's calls into it (the Postgres wire first checks its
//! statements the same way with the Postgres dialect, [`check_postgres`]). Once the meter passes a budget
//! proportional to the statement's length, the next expression the parser
//! starts fails with the one error its backtracking never swallows, so the
//! whole parse ends at once and the caller reports the statement as too
//! complex. Real statements use a small fraction of the budget (see the
//! tests).

use std::any::TypeId;
use std::cell::Cell;
use std::collections::VecDeque;
use std::iter::Peekable;
use std::str::Chars;

use datafusion::sql::parser::{DFParserBuilder, Statement as DfStatement};

use datafusion::sql::sqlparser::ast::{
    ColumnOption, Expr, GranteesType, Ident, ObjectNamePart, Statement,
};
use datafusion::sql::sqlparser::dialect::{Dialect, GenericDialect, PostgreSqlDialect, Precedence};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};

use crate::Error;

/// Calls into the dialect a statement may make regardless of its length.
const BASE_BUDGET: u64 = 100_000;
/// And per byte of SQL: real statements make fewer than 10 (see the tests).
const BUDGET_PER_BYTE: u64 = 200;

/// DataFusion's default SQL parser recursion limit
/// (`datafusion.sql_parser.recursion_limit`).
pub const DEFAULT_RECURSION_LIMIT: usize = 50;

/// The statements of `sql`, parsed as DataFusion's
/// `SessionState::sql_to_statement` does (its default dialect,
/// `datafusion.sql_parser.dialect = generic`, and `recursion_limit`), within
/// the work budget.
pub fn parse_datafusion_statements(
    sql: &str,
    recursion_limit: usize,
) -> Result<VecDeque<DfStatement>, Error> {
    let dialect = BudgetedDialect::for_statement(GenericDialect {}, sql.len());
    let parsed = DFParserBuilder::new(sql)
        .with_dialect(&dialect)
        .with_recursion_limit(recursion_limit)
        .build()
        .and_then(|mut parser| parser.parse_statements());
    if dialect.exhausted() {
        return Err(Error::TooComplex);
    }
    Ok(parsed?)
}

/// The one statement of `sql` (see [`parse_datafusion_statements`]).
pub(crate) fn parse_statement(sql: &str, recursion_limit: usize) -> Result<DfStatement, Error> {
    let mut statements = parse_datafusion_statements(sql, recursion_limit)?;
    if statements.len() > 1 {
        return Err(Error::Sql(
            "one statement at a time: this text holds several".into(),
        ));
    }
    statements
        .pop_front()
        .ok_or_else(|| Error::Sql("no SQL statement was given".into()))
}

/// Whether `sql` parses as the Postgres dialect within the work budget, for the
/// Postgres wire, whose statement parser (datafusion-pg-catalog's) takes no
/// dialect of ours: `Err(TooComplex)` if not. Syntax errors are left to that
/// parser to report.
pub fn check_postgres(sql: &str) -> Result<(), Error> {
    let dialect = BudgetedDialect::for_statement(PostgreSqlDialect {}, sql.len());
    let _ = Parser::new(&dialect)
        .try_with_sql(sql)
        .and_then(|mut parser| parser.parse_statements());
    if dialect.exhausted() {
        Err(Error::TooComplex)
    } else {
        Ok(())
    }
}

/// A dialect `D` with a meter on the parser's work. It answers every question
/// exactly as `D` does, including [`Dialect::dialect`], so sqlparser's
/// `dialect_of!` checks see `D`.
#[derive(Debug)]
pub(crate) struct BudgetedDialect<D> {
    inner: D,
    calls: Cell<u64>,
    budget: u64,
}

impl<D: Dialect> BudgetedDialect<D> {
    /// `inner` with a budget that fits a statement of `sql_len` bytes.
    pub(crate) fn for_statement(inner: D, sql_len: usize) -> Self {
        let budget = BASE_BUDGET.saturating_add(BUDGET_PER_BYTE.saturating_mul(sql_len as u64));
        Self {
            inner,
            calls: Cell::new(0),
            budget,
        }
    }

    /// Whether the parse was cut short by the budget (rather than by the
    /// recursion limit, which reports the same parser error).
    pub(crate) fn exhausted(&self) -> bool {
        self.calls.get() > self.budget
    }

    #[cfg(test)]
    pub(crate) fn calls(&self) -> u64 {
        self.calls.get()
    }

    fn tick(&self) {
        self.calls.set(self.calls.get().saturating_add(1));
    }

    /// Counts a call that can fail: past the budget it fails with
    /// `RecursionLimitExceeded`, which `Parser::maybe_parse` passes up
    /// instead of trying the next alternative.
    fn checked(&self) -> Result<(), ParserError> {
        self.tick();
        if self.exhausted() {
            Err(ParserError::RecursionLimitExceeded)
        } else {
            Ok(())
        }
    }
}

/// Forwards sqlparser's yes/no dialect questions, counting each.
macro_rules! forward_flags {
    ($($name:ident,)*) => {
        $(
            fn $name(&self) -> bool {
                self.tick();
                self.inner.$name()
            }
        )*
    };
}

impl<D: Dialect> Dialect for BudgetedDialect<D> {
    fn dialect(&self) -> TypeId {
        self.inner.dialect()
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        self.inner.is_delimited_identifier_start(ch)
    }

    fn is_nested_delimited_identifier_start(&self, ch: char) -> bool {
        self.inner.is_nested_delimited_identifier_start(ch)
    }

    fn peek_nested_delimited_identifier_quotes(
        &self,
        chars: Peekable<Chars<'_>>,
    ) -> Option<(char, Option<char>)> {
        self.inner.peek_nested_delimited_identifier_quotes(chars)
    }

    fn identifier_quote_style(&self, identifier: &str) -> Option<char> {
        self.inner.identifier_quote_style(identifier)
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        self.inner.is_identifier_start(ch)
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        self.inner.is_identifier_part(ch)
    }

    fn is_custom_operator_part(&self, ch: char) -> bool {
        self.inner.is_custom_operator_part(ch)
    }

    fn parse_prefix(&self, parser: &mut Parser) -> Option<Result<Expr, ParserError>> {
        if let Err(e) = self.checked() {
            return Some(Err(e));
        }
        self.inner.parse_prefix(parser)
    }

    fn parse_infix(
        &self,
        parser: &mut Parser,
        expr: &Expr,
        precedence: u8,
    ) -> Option<Result<Expr, ParserError>> {
        if let Err(e) = self.checked() {
            return Some(Err(e));
        }
        self.inner.parse_infix(parser, expr, precedence)
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        if let Err(e) = self.checked() {
            return Some(Err(e));
        }
        self.inner.get_next_precedence(parser)
    }

    fn get_next_precedence_default(&self, parser: &Parser) -> Result<u8, ParserError> {
        self.checked()?;
        self.inner.get_next_precedence_default(parser)
    }

    fn parse_statement(&self, parser: &mut Parser) -> Option<Result<Statement, ParserError>> {
        if let Err(e) = self.checked() {
            return Some(Err(e));
        }
        self.inner.parse_statement(parser)
    }

    fn parse_column_option(
        &self,
        parser: &mut Parser,
    ) -> Result<Option<Result<Option<ColumnOption>, ParserError>>, ParserError> {
        self.checked()?;
        self.inner.parse_column_option(parser)
    }

    fn prec_value(&self, prec: Precedence) -> u8 {
        self.inner.prec_value(prec)
    }

    fn prec_unknown(&self) -> u8 {
        self.inner.prec_unknown()
    }

    fn is_reserved_for_identifier(&self, kw: Keyword) -> bool {
        self.tick();
        self.inner.is_reserved_for_identifier(kw)
    }

    fn get_reserved_keywords_for_select_item_operator(&self) -> &[Keyword] {
        self.inner.get_reserved_keywords_for_select_item_operator()
    }

    fn get_reserved_grantees_types(&self) -> &[GranteesType] {
        self.inner.get_reserved_grantees_types()
    }

    fn is_column_alias(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        self.tick();
        self.inner.is_column_alias(kw, parser)
    }

    fn is_select_item_alias(&self, explicit: bool, kw: &Keyword, parser: &mut Parser) -> bool {
        self.tick();
        self.inner.is_select_item_alias(explicit, kw, parser)
    }

    fn is_table_factor(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        self.tick();
        self.inner.is_table_factor(kw, parser)
    }

    fn is_table_alias(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        self.tick();
        self.inner.is_table_alias(kw, parser)
    }

    fn is_table_factor_alias(&self, explicit: bool, kw: &Keyword, parser: &mut Parser) -> bool {
        self.tick();
        self.inner.is_table_factor_alias(explicit, kw, parser)
    }

    fn is_identifier_generating_function_name(
        &self,
        ident: &Ident,
        name_parts: &[ObjectNamePart],
    ) -> bool {
        self.inner
            .is_identifier_generating_function_name(ident, name_parts)
    }

    // every `(&self) -> bool` method of sqlparser 0.62's `Dialect`, in its
    // order: one left out would silently answer the trait's default instead
    // of the inner dialect's
    forward_flags!(
        supports_string_literal_backslash_escape,
        ignores_wildcard_escapes,
        supports_unicode_string_literal,
        supports_filter_during_aggregation,
        supports_window_clause_named_window_reference,
        supports_within_after_array_aggregation,
        supports_partition_by_after_order_by,
        supports_array_join_syntax,
        supports_group_by_expr,
        supports_group_by_with_modifier,
        supports_left_associative_joins_without_parens,
        supports_outer_join_operator,
        supports_cross_join_constraint,
        supports_connect_by,
        supports_execute_immediate,
        supports_match_recognize,
        supports_in_empty_list,
        supports_start_transaction_modifier,
        supports_end_transaction_modifier,
        supports_named_fn_args_with_eq_operator,
        supports_named_fn_args_with_colon_operator,
        supports_named_fn_args_with_assignment_operator,
        supports_named_fn_args_with_rarrow_operator,
        supports_named_fn_args_with_expr_name,
        supports_numeric_prefix,
        supports_numeric_literal_underscores,
        supports_window_function_null_treatment_arg,
        supports_dictionary_syntax,
        support_map_literal_syntax,
        supports_lambda_functions,
        supports_parenthesized_set_variables,
        supports_comma_separated_set_assignments,
        supports_update_order_by,
        supports_select_wildcard_except,
        convert_type_before_value,
        supports_triple_quoted_string,
        supports_trailing_commas,
        supports_limit_comma,
        supports_string_literal_concatenation,
        supports_string_literal_concatenation_with_newline,
        supports_projection_trailing_commas,
        supports_from_trailing_commas,
        supports_column_definition_trailing_commas,
        supports_object_name_double_dot_notation,
        supports_struct_literal,
        supports_empty_projections,
        supports_select_expr_star,
        supports_from_first_select,
        supports_from_first_insert,
        supports_pipe_operator,
        supports_user_host_grantee,
        supports_match_against,
        supports_select_wildcard_exclude,
        supports_select_exclude,
        supports_create_table_multi_schema_info_sources,
        supports_select_modifiers,
        describe_requires_table_keyword,
        allow_extract_custom,
        allow_extract_single_quotes,
        supports_extract_comma_syntax,
        supports_subquery_as_function_arg,
        supports_create_view_comment_syntax,
        supports_array_typedef_without_element_type,
        supports_parens_around_table_factor,
        supports_values_as_table_factor,
        supports_dollar_placeholder,
        supports_dollar_as_money_prefix,
        supports_create_index_with_clause,
        require_interval_qualifier,
        supports_explain_with_utility_options,
        supports_asc_desc_in_column_definition,
        supports_factorial_operator,
        supports_bitwise_shift_operators,
        supports_nested_comments,
        supports_multiline_comment_hints,
        supports_eq_alias_assignment,
        supports_try_convert,
        supports_bang_not_operator,
        supports_listen_notify,
        supports_load_data,
        supports_load_extension,
        supports_top_before_distinct,
        supports_boolean_literals,
        supports_show_like_before_in,
        supports_comment_on,
        supports_create_table_select,
        supports_partiql,
        supports_constraint_keyword_without_name,
        supports_key_column_option,
        supports_table_sample_before_alias,
        supports_insert_set,
        supports_insert_table_function,
        supports_insert_table_query,
        supports_insert_format,
        supports_insert_table_alias,
        supports_set_stmt_without_operator,
        supports_table_versioning,
        supports_string_escape_constant,
        supports_table_hints,
        requires_single_line_comment_whitespace,
        supports_array_typedef_with_brackets,
        supports_geometric_types,
        supports_order_by_all,
        supports_set_names,
        supports_space_separated_column_options,
        supports_alter_column_type_using,
        supports_comma_separated_drop_column_list,
        supports_notnull_operator,
        supports_data_type_signed_suffix,
        supports_interval_options,
        supports_create_table_like_parenthesized,
        supports_semantic_view_table_factor,
        supports_quote_delimited_string,
        supports_comment_optimizer_hint,
        supports_double_ampersand_operator,
        supports_binary_kw_as_cast,
        supports_select_wildcard_replace,
        supports_select_wildcard_ilike,
        supports_select_wildcard_rename,
        supports_select_wildcard_with_alias,
        supports_optimize_table,
        supports_install,
        supports_detach,
        supports_prewhere,
        supports_with_fill,
        supports_limit_by,
        supports_interpolate,
        supports_settings,
        supports_select_format,
        supports_comma_separated_trim,
        supports_cte_without_as,
        supports_select_item_multi_column_alias,
        supports_xml_expressions,
        supports_create_table_using,
        supports_long_type_as_bigint,
        supports_map_literal_with_angle_brackets,
    );
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    /// Statements Vigil itself runs or documents, parsed with and without
    /// the meter: same statements, and how much of the budget they used.
    fn real_statements() -> Vec<String> {
        let mut all = crate::views::definitions();
        all.extend(
            [
                "SELECT * FROM agent_events WHERE session_id = 'abc' ORDER BY position",
                "SELECT count(*) FROM agent_events WHERE decision = 'deny'",
                "SELECT s.session_id, count(*) AS n FROM sessions s JOIN agent_events e \
                 ON e.session_id = s.session_id GROUP BY 1 ORDER BY n DESC LIMIT 20",
                "SELECT attributes['codex.tool_name'], a[1][2], x::int FROM t",
                "WITH t AS (SELECT 1 AS a) SELECT a FROM t UNION ALL SELECT 2",
                "EXPLAIN SELECT 1",
                "SELECT CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END, \
                 CAST(ts AS DATE), interval '1 day', date_trunc('hour', ts) FROM t",
                "SELECT $1, $2 = 'x'",
            ]
            .map(String::from),
        );
        all
    }

    #[test]
    fn real_statements_parse_as_datafusion_parses_them_well_within_the_budget() {
        for sql in real_statements() {
            let metered = BudgetedDialect::for_statement(GenericDialect {}, sql.len());
            let ours = DFParserBuilder::new(sql.as_str())
                .with_dialect(&metered)
                .build()
                .and_then(|mut p| p.parse_statements())
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
            let theirs = datafusion::sql::parser::DFParser::parse_sql(&sql).unwrap();
            assert_eq!(ours, theirs, "{sql}");
            let per_byte = metered.calls() as f64 / sql.len() as f64;
            assert!(
                per_byte < 10.0,
                "{sql}: {per_byte:.1} calls per byte, budget {BUDGET_PER_BYTE}"
            );
            assert!(!metered.exhausted());
        }
    }

    #[test]
    fn the_postgres_check_passes_real_statements() {
        for sql in real_statements() {
            assert!(check_postgres(&sql).is_ok(), "{sql}");
        }
        // a syntax error is for the caller's parser to report
        assert!(check_postgres("SELEC 1 FROM").is_ok());
    }

    /// Inputs on which sqlparser 0.62 backtracks exponentially (each would
    /// parse for minutes to hours): the fuzzer's find and the shapes of the
    /// upstream fixes.
    fn exponential_inputs() -> Vec<(&'static str, String)> {
        let fuzzed =
            include_str!("../../fuzz/regressions/sql_guard/sqlparser-0.62-exponential-subscripts");
        vec![
            ("fuzzed subscript chain", fuzzed.to_string()),
            (
                "if(current_time( chain (#2352)",
                format!("SELECT {}x", "if(current_time(".repeat(30)),
            ),
            (
                "case - chain (#2352)",
                format!("SELECT {}", "case\t-".repeat(30)),
            ),
        ]
    }

    #[test]
    fn an_exponential_statement_is_cut_short_as_too_complex() {
        for (name, sql) in exponential_inputs() {
            // on a thread, so that a regression fails here instead of hanging
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let started = Instant::now();
                let generic = parse_statement(&sql, DEFAULT_RECURSION_LIMIT);
                let postgres = check_postgres(&sql);
                let _ = tx.send((generic, postgres, started.elapsed()));
            });
            // a debug build takes well under a second
            let (generic, postgres, took) = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("{name}: still parsing after 30 s"));
            assert!(
                matches!(generic, Err(Error::TooComplex)),
                "{name}: {generic:?}"
            );
            assert!(
                matches!(postgres, Err(Error::TooComplex)),
                "{name}: {postgres:?}"
            );
            eprintln!("{name}: cut short after {took:?}");
        }
    }

    #[test]
    fn one_statement_at_a_time() {
        assert!(parse_statement("SELECT 1", DEFAULT_RECURSION_LIMIT).is_ok());
        let two = parse_statement("SELECT 1; SELECT 2", DEFAULT_RECURSION_LIMIT);
        assert!(
            matches!(&two, Err(Error::Sql(m)) if m.contains("several")),
            "{two:?}"
        );
        let none = parse_statement(" ; ", DEFAULT_RECURSION_LIMIT);
        assert!(
            matches!(&none, Err(Error::Sql(m)) if m.contains("no SQL")),
            "{none:?}"
        );
        let deep = format!("SELECT {}1{}", "(".repeat(60), ")".repeat(60));
        let deep = parse_statement(&deep, DEFAULT_RECURSION_LIMIT);
        assert!(
            matches!(&deep, Err(Error::Sql(m)) if m.contains("RecursionLimitExceeded")),
            "{deep:?}"
        );
    }
}
