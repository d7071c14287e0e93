//! Augur's SQL front end: splits a query string into statements, parses
//! `CREATE MODEL` (BigQuery ML's shape) and rewrites it to a call of the
//! `ml_train` table function, and hands everything else to the
//! PostgreSQL-compatibility parser of `datafusion-pg-catalog`.
//!
//! ```sql
//! CREATE [OR REPLACE] MODEL churn
//!   OPTIONS (model_type = 'logistic_reg', input_label_cols = ['churn'])
//! AS SELECT * EXCLUDE (customer_id) FROM telco_customers;
//! -- becomes
//! SELECT * FROM ml_train('churn', 'SELECT ...', 'model_type=logistic_reg, input_label_cols=churn');
//! ```
//! A `TRANSFORM (…)` clause before `OPTIONS` (BigQuery ML's) lists the
//! columns the model takes and the preprocessing functions fitted into it;
//! see `transform`.
//!
//! Every `CREATE MODEL` trains a new version of the model; `OR REPLACE` is
//! accepted and means the same. `DROP MODEL [IF EXISTS] name` (or `'name@3'`
//! for one version) becomes `ml_drop_model`.

use datafusion::sql::sqlparser::ast::{Expr, ObjectNamePart, Statement, Value};
use datafusion::sql::sqlparser::dialect::{GenericDialect, PostgreSqlDialect};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer, Whitespace};
use datafusion_postgres::datafusion_pg_catalog::sql::PostgresCompatibilityParser;

use crate::errors::SqlError;

mod named_args;
mod rewrites;
mod set_returning;
mod transform;
mod type_introspection;
mod unique_names;

pub use transform::TRANSFORM_INPUT;
pub use unique_names::with_unique_names;

/// Parses one or more `;`-separated statements.
pub struct SqlParser {
    compat: PostgresCompatibilityParser,
}

impl Default for SqlParser {
    fn default() -> Self {
        Self::new()
    }
}

fn syntax(e: ParserError) -> SqlError {
    SqlError::new("42601", format!("syntax error: {e}"))
}

fn is_blank(t: &Token) -> bool {
    matches!(t, Token::Whitespace(_))
}

impl SqlParser {
    pub fn new() -> Self {
        Self {
            compat: PostgresCompatibilityParser::new(),
        }
    }

    /// Parses `sql` into statements; an empty string gives none.
    /// Errors: 42601 syntax; 42602 bad model name; 0A000 unsupported options.
    pub fn parse(&self, sql: &str) -> Result<Vec<Statement>, SqlError> {
        let dialect = PostgreSqlDialect {};
        let tokens = Tokenizer::new(&dialect, sql)
            .tokenize_with_location()
            .map_err(|e| SqlError::new("42601", format!("syntax error: {e}")))?;
        let offsets = LineOffsets::new(sql);
        let mut out = Vec::new();
        let mut start = 0; // byte offset where the current statement starts
        for chunk in tokens.split_inclusive(|t| t.token == Token::SemiColon) {
            let end = match chunk.last() {
                Some(t) if t.token == Token::SemiColon => {
                    offsets.byte(t.span.start.line, t.span.start.column)
                }
                _ => sql.len(),
            };
            let text = &sql[start.min(end)..end];
            start = (end + 1).min(sql.len());
            let words: Vec<&Token> = chunk
                .iter()
                .map(|t| &t.token)
                .filter(|t| !is_blank(t) && **t != Token::SemiColon)
                .collect();
            if words.is_empty() {
                continue;
            }
            scrolling_fetch(&words)?;
            if let Some(fetch) = canonical_fetch(&words) {
                out.extend(self.compat.parse(&fetch).map_err(syntax)?);
            } else if let Some(drop) = drop_model(&words)? {
                out.extend(self.compat.parse(&drop).map_err(syntax)?);
            } else if is_create_model(&words) {
                let toks: Vec<Token> = chunk
                    .iter()
                    .map(|t| t.token.clone())
                    .filter(|t| *t != Token::SemiColon)
                    .collect();
                out.push(self.create_model(&toks)?);
            } else if runs_unstubbed(&words) {
                let stmts = Parser::parse_sql(&dialect, text).map_err(syntax)?;
                out.extend(stmts.into_iter().map(|s| self.compat.rewrite(s)));
            } else if let Some(stmts) = self.with_named_registers(&words, text) {
                out.extend(stmts);
            } else {
                match self.compat.parse(text) {
                    Ok(stmts) => out.extend(stmts),
                    // DataFusion's own dialect adds e.g. `SELECT * EXCLUDE (…)`
                    Err(e) => match Parser::parse_sql(&GenericDialect {}, text) {
                        Ok(stmts) => out.extend(stmts),
                        Err(_) => return Err(syntax(e)),
                    },
                }
            }
        }
        for st in &mut out {
            rewrites::postgres_compat(st);
            named_args::to_positional(st)?;
        }
        Ok(out)
    }

    /// `current_user` and `current_catalog` as result columns keep their
    /// names (PostgreSQL's), which the compatibility parser's rewrite to
    /// `session_user` and `current_database()` would change: the statement
    /// is parsed here, those select items get their name as alias, and then
    /// the parser's rewrites run. `None` (the usual path) when the text has
    /// neither word or does not parse here.
    fn with_named_registers(&self, words: &[&Token], text: &str) -> Option<Vec<Statement>> {
        let special = words.iter().any(|t| {
            matches!(t, Token::Word(w) if w.quote_style.is_none()
                && (w.value.eq_ignore_ascii_case("current_user")
                    || w.value.eq_ignore_ascii_case("current_catalog")))
        });
        if !special {
            return None;
        }
        let mut stmts = Parser::parse_sql(&PostgreSqlDialect {}, text).ok()?;
        for st in &mut stmts {
            rewrites::name_special_registers(st);
        }
        Some(stmts.into_iter().map(|s| self.compat.rewrite(s)).collect())
    }

    fn create_model(&self, chunk: &[Token]) -> Result<Statement, SqlError> {
        let tokens: Vec<Token> = chunk
            .iter()
            .filter(|t| {
                !matches!(
                    t,
                    Token::Whitespace(
                        Whitespace::SingleLineComment { .. } | Whitespace::MultiLineComment(_)
                    )
                )
            })
            .cloned()
            .collect();
        let dialect = GenericDialect {};
        let mut p = Parser::new(&dialect).with_tokens(tokens);
        p.expect_keyword(Keyword::CREATE).map_err(syntax)?;
        let _or_replace = p.parse_keywords(&[Keyword::OR, Keyword::REPLACE]);
        p.next_token(); // MODEL, checked by is_create_model
        if p.parse_keywords(&[Keyword::IF, Keyword::NOT, Keyword::EXISTS]) {
            return Err(SqlError::new(
                "0A000",
                "CREATE MODEL IF NOT EXISTS is not supported: every CREATE MODEL trains a new version",
            ));
        }
        let name = p.parse_object_name(false).map_err(syntax)?;
        let name = match name.0.as_slice() {
            [ObjectNamePart::Identifier(id)] => {
                if id.quote_style.is_some() {
                    id.value.clone()
                } else {
                    id.value.to_ascii_lowercase()
                }
            }
            _ => {
                return Err(SqlError::new(
                    "42602",
                    format!("invalid model name {name}: use a plain name such as churn"),
                ));
            }
        };
        let transform = if matches!(&p.peek_token().token, Token::Word(w) if w.value.eq_ignore_ascii_case("transform"))
        {
            p.next_token();
            Some(transform::parse_clause(&mut p)?)
        } else {
            None
        };
        let mut options = Vec::new();
        if p.parse_keyword(Keyword::OPTIONS) {
            p.expect_token(&Token::LParen).map_err(syntax)?;
            loop {
                let key = p.parse_identifier().map_err(syntax)?;
                p.expect_token(&Token::Eq).map_err(syntax)?;
                let value = p.parse_expr().map_err(syntax)?;
                options.push(format!(
                    "{}={}",
                    key.value.to_ascii_lowercase(),
                    option_value(&key.value, &value)?
                ));
                if !p.consume_token(&Token::Comma) {
                    break;
                }
            }
            p.expect_token(&Token::RParen).map_err(syntax)?;
        }
        p.expect_keyword(Keyword::AS).map_err(syntax)?;
        let query = p.parse_query().map_err(syntax)?;
        if p.peek_token().token != Token::EOF {
            return Err(SqlError::new(
                "42601",
                format!(
                    "syntax error: unexpected {} after the query of CREATE MODEL",
                    p.peek_token().token
                ),
            ));
        }
        let mut query = query.to_string();
        if let Some(t) = transform {
            query = t.wrap_query(&query, &options);
            if let Some(option) = t.option() {
                options.push(option);
            }
        }
        let rewritten = format!(
            "SELECT * FROM ml_train({}, {}, {})",
            quote(&name),
            quote(&query),
            quote(&options.join(", "))
        );
        let mut stmts = self.compat.parse(&rewritten).map_err(syntax)?;
        stmts
            .pop()
            .ok_or_else(|| SqlError::new("XX000", "CREATE MODEL rewrite produced no statement"))
    }
}

/// Converts the tokenizer's 1-based line/column (in characters) to byte offsets.
struct LineOffsets<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { text, starts }
    }
    fn byte(&self, line: u64, column: u64) -> usize {
        let Some(&line_start) = self.starts.get((line as usize).saturating_sub(1)) else {
            return self.text.len();
        };
        self.text[line_start..]
            .char_indices()
            .nth((column as usize).saturating_sub(1))
            .map_or(self.text.len(), |(i, _)| line_start + i)
    }
}

/// `DROP MODEL [IF EXISTS] name` → `SELECT * FROM ml_drop_model('name', if_exists)`.
fn drop_model(words: &[&Token]) -> Result<Option<String>, SqlError> {
    let word = |i: usize, w: &str| matches!(words.get(i), Some(Token::Word(x)) if x.value.eq_ignore_ascii_case(w));
    if !(word(0, "drop") && word(1, "model")) {
        return Ok(None);
    }
    let if_exists = word(2, "if") && word(3, "exists");
    let rest = &words[if if_exists { 4 } else { 2 }..];
    let name = match rest {
        [Token::Word(w)] if w.quote_style.is_some() => w.value.clone(),
        [Token::Word(w)] => w.value.to_ascii_lowercase(),
        [Token::SingleQuotedString(s)] => s.clone(),
        _ => {
            return Err(SqlError::new(
                "42601",
                "syntax error: expected DROP MODEL [IF EXISTS] name",
            ));
        }
    };
    Ok(Some(format!(
        "SELECT * FROM ml_drop_model({}, {if_exists})",
        quote(&name)
    )))
}

/// 0A000 for the cursor movements Augur's forward-only cursors cannot make:
/// `MOVE`, and `FETCH` `BACKWARD`, `PRIOR`, `FIRST`, `LAST`, `ABSOLUTE`,
/// `RELATIVE` or with a negative count (PostgreSQL runs them on a scrollable
/// cursor; sqlparser would report some of them as syntax errors, 42601).
fn scrolling_fetch(words: &[&Token]) -> Result<(), SqlError> {
    let word = |i: usize, w: &str| matches!(words.get(i), Some(Token::Word(x)) if x.value.eq_ignore_ascii_case(w));
    let scrolls = word(0, "move")
        || (word(0, "fetch")
            && (["backward", "prior", "first", "last", "absolute", "relative"]
                .iter()
                .any(|w| word(1, w))
                || matches!(words.get(1), Some(Token::Minus))
                || (word(1, "forward") && matches!(words.get(2), Some(Token::Minus)))));
    if scrolls {
        return Err(SqlError::new(
            "0A000",
            "cursors scan forward only: MOVE and FETCH BACKWARD, PRIOR, FIRST, LAST, ABSOLUTE, RELATIVE or a negative count are not supported; use FETCH [FORWARD] n, NEXT or ALL",
        ));
    }
    Ok(())
}

/// PostgreSQL's short FETCH forms, which sqlparser does not parse, written
/// out: `FETCH c` / `FETCH FROM c` (NEXT), `FETCH FORWARD c` (one row) and
/// a missing `FROM` (`FETCH 5 c`) → `FETCH <direction> FROM c`.
fn canonical_fetch(words: &[&Token]) -> Option<String> {
    let is = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.value.eq_ignore_ascii_case(w));
    if words.len() < 2 || !is(words[0], "fetch") || words.iter().any(|t| is(t, "into")) {
        return None;
    }
    let name = words[words.len() - 1];
    if !matches!(name, Token::Word(_)) || is(name, "from") || is(name, "in") {
        return None;
    }
    let mut middle = &words[1..words.len() - 1];
    if let [rest @ .., last] = middle
        && (is(last, "from") || is(last, "in"))
    {
        middle = rest;
    }
    let direction = match middle {
        [] => "NEXT".to_string(),
        [w] if is(w, "forward") => "FORWARD 1".to_string(),
        _ => middle
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" "),
    };
    Some(format!("FETCH {direction} FROM {name}"))
}

/// Whether the statement holds a client query that datafusion-pg-catalog's
/// parser replaces with a stub (its "blacklist") although Augur runs it as
/// written: Grafana's search-path subquery (`string_to_array(
/// current_setting('search_path'), ',')`, stubbed to `''`, which made every
/// public table look off the search path) and DBeaver's relation sizes
/// (`pg_total_relation_size`, stubbed to no rows). These are parsed without
/// the stubs, then rewritten by the crate's rules as usual.
fn runs_unstubbed(words: &[&Token]) -> bool {
    let word = |t: &Token, w: &str| matches!(t, Token::Word(x) if x.value.eq_ignore_ascii_case(w));
    words.iter().any(|t| word(t, "pg_total_relation_size")) || words.windows(3).any(|w| {
        word(w[0], "current_setting")
            && *w[1] == Token::LParen
            && matches!(w[2], Token::SingleQuotedString(s) if s.eq_ignore_ascii_case("search_path"))
    })
}

fn is_create_model(words: &[&Token]) -> bool {
    let word = |i: usize, w: &str| matches!(words.get(i), Some(Token::Word(x)) if x.value.eq_ignore_ascii_case(w));
    word(0, "create")
        && (word(1, "model") || (word(1, "or") && word(2, "replace") && word(3, "model")))
}

/// An option value as text: strings, numbers, booleans, a one-element array.
fn option_value(key: &str, e: &Expr) -> Result<String, SqlError> {
    let text = match e {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
            Value::Number(n, _) => n.to_string(),
            Value::Boolean(b) => b.to_string(),
            other => other.to_string(),
        },
        Expr::Identifier(id) => id.value.clone(),
        Expr::Array(a) if a.elem.len() == 1 => return option_value(key, &a.elem[0]),
        // the one list-valued option: embed_columns = ['a', 'b']
        Expr::Array(a) if key.eq_ignore_ascii_case("embed_columns") => {
            let items = a
                .elem
                .iter()
                .map(|e| option_value(key, e))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(format!("[{}]", items.join(", ")));
        }
        Expr::Array(_) => {
            return Err(SqlError::new(
                "0A000",
                format!("option {key}: only one column is supported"),
            ));
        }
        Expr::UnaryOp { .. } => e.to_string(),
        other => {
            return Err(SqlError::new(
                "22023",
                format!("option {key}: {other} is not a literal value"),
            ));
        }
    };
    if text.contains(',') || text.contains('=') {
        return Err(SqlError::new(
            "22023",
            format!("option {key}: the value '{text}' may not contain ',' or '='"),
        ));
    }
    Ok(text)
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL accepts each of these; they reach the cursor code as the
    /// long form.
    #[test]
    fn short_fetch_forms_are_written_out() {
        let p = SqlParser::new();
        let one = |sql: &str| p.parse(sql).unwrap().remove(0).to_string();
        assert_eq!(one("FETCH c"), "FETCH NEXT FROM c");
        assert_eq!(one("fetch from c;"), "FETCH NEXT FROM c");
        assert_eq!(one("FETCH FORWARD c"), "FETCH FORWARD 1 FROM c");
        assert_eq!(one("FETCH FORWARD 5 IN c"), "FETCH FORWARD 5 FROM c");
        assert_eq!(one("FETCH 3 c"), "FETCH 3 FROM c");
        assert_eq!(
            one("FETCH ALL \"My Cursor\""),
            "FETCH ALL FROM \"My Cursor\""
        );
        assert_eq!(one("FETCH NEXT FROM c"), "FETCH NEXT FROM c");
    }

    #[test]
    fn splits_statements_and_rewrites_create_model() {
        let p = SqlParser::new();
        let s = p
            .parse(
                "SELECT 'it''s; ok'; -- a comment; with a semicolon\n CREATE OR REPLACE MODEL Churn OPTIONS (model_type='logistic_reg', input_label_cols=['churn'], l2_reg=0.5) AS SELECT a, 'x;y' AS b FROM t; ;",
            )
            .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].to_string(), "SELECT 'it''s; ok'");
        let text = s[1].to_string();
        assert!(text.contains("ml_train('churn'"), "{text}");
        assert!(text.contains("''x;y''"), "{text}");
        assert!(
            text.contains("model_type=logistic_reg, input_label_cols=churn, l2_reg=0.5"),
            "{text}"
        );
        assert!(p.parse("").unwrap().is_empty());
        assert_eq!(p.parse("SELEC 1").unwrap_err().sqlstate, "42601");
        assert_eq!(
            p.parse("CREATE MODEL a.b AS SELECT 1")
                .unwrap_err()
                .sqlstate,
            "42602"
        );
        assert_eq!(
            p.parse("CREATE MODEL m OPTIONS (x=['a','b']) AS SELECT 1")
                .unwrap_err()
                .sqlstate,
            "0A000"
        );
    }
}
