//! The `TRANSFORM (…)` clause of `CREATE MODEL`, BigQuery ML's way of
//! capturing preprocessing in a model:
//!
//! ```sql
//! CREATE MODEL churn
//!   TRANSFORM (quantile_bucketize(tenure, 4) OVER () AS tenure,
//!              ML.MIN_MAX_SCALER(monthly_charges) OVER (),
//!              contract, churn)
//!   OPTIONS (model_type = 'logistic_reg', input_label_cols = ['churn'])
//! AS SELECT * FROM telco_customers;
//! ```
//!
//! Each item is a column of the query, passed through, or one of the
//! preprocessing functions of `augur_ml::transform` applied to one column
//! (an `ML.` prefix and an empty `OVER ()` are accepted, as BigQuery writes
//! them). Only the listed columns reach the model, plus the label, the
//! `data_split_col` and the `grouping_cols` of the options. An alias must be
//! the column's own name: the model keeps input names, so prediction takes
//! the raw columns. The clause becomes the `transform` option of `ml_train`
//! and a projection of the training query.
//!
//! Errors: 42601 for a malformed clause; 0A000 for an expression that is not
//! a column or a function of one column, an alias that renames, or a window
//! with `PARTITION BY`/`ORDER BY` (the statistics are fitted over all
//! training rows); the functions' own argument errors come from `ml_train`.

use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, UnaryOperator, Value, WindowType,
};
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::syntax;
use crate::errors::SqlError;

/// The alias of the training query inside the query a `TRANSFORM` clause
/// builds; error messages leave it out (see `errors`).
pub const TRANSFORM_INPUT: &str = "transform_input";

/// A parsed `TRANSFORM (…)` clause.
#[derive(Debug, Default)]
pub struct TransformClause {
    /// Column names in order, each once.
    columns: Vec<String>,
    /// `function(column, args…)` texts for the `transform` option.
    functions: Vec<String>,
}

fn unsupported(msg: impl Into<String>) -> SqlError {
    SqlError::new("0A000", msg)
}

/// Parses `( item [AS name], … )` after the TRANSFORM keyword.
pub fn parse_clause(p: &mut Parser) -> Result<TransformClause, SqlError> {
    p.expect_token(&Token::LParen).map_err(syntax)?;
    let mut clause = TransformClause::default();
    loop {
        let expr = p.parse_expr().map_err(syntax)?;
        let alias = if p.parse_keyword(Keyword::AS) {
            Some(p.parse_identifier().map_err(syntax)?)
        } else {
            None
        };
        let (column, function) = item(&expr)?;
        if let Some(a) = alias
            && ident_name(&a) != column
        {
            return Err(unsupported(format!(
                "TRANSFORM: '{expr} AS {a}' renames column {column}; a model keeps its input names so that prediction takes the raw columns: write AS {column} or leave the alias out"
            )));
        }
        if clause.columns.contains(&column) {
            return Err(unsupported(format!(
                "TRANSFORM: column {column} is listed twice; give one item per column"
            )));
        }
        clause.columns.push(column);
        clause.functions.extend(function);
        if !p.consume_token(&Token::Comma) {
            break;
        }
    }
    p.expect_token(&Token::RParen).map_err(syntax)?;
    Ok(clause)
}

impl TransformClause {
    /// The `transform=[…]` option, when any function was given.
    pub fn option(&self) -> Option<String> {
        (!self.functions.is_empty()).then(|| format!("transform=[{}]", self.functions.join(", ")))
    }

    /// The training query narrowed to the listed columns, plus the columns
    /// that `options` (already `key=value` texts) name.
    pub fn wrap_query(&self, query: &str, options: &[String]) -> String {
        let mut columns = self.columns.clone();
        for o in options {
            if let Some((k, v)) = o.split_once('=')
                && matches!(k, "input_label_cols" | "data_split_col" | "grouping_cols")
                && !columns.iter().any(|c| c == v)
            {
                columns.push(v.to_string());
            }
        }
        let list: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
        format!(
            "SELECT {} FROM ({query}) AS {TRANSFORM_INPUT}",
            list.join(", ")
        )
    }
}

/// A column's name as DataFusion resolves it: lower-cased unless quoted.
fn ident_name(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_ascii_lowercase()
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One item: its column and, for a function, the option text.
fn item(expr: &Expr) -> Result<(String, Option<String>), SqlError> {
    let f = match expr {
        Expr::Identifier(id) => return Ok((ident_name(id), None)),
        Expr::Function(f) => f,
        other => {
            return Err(unsupported(format!(
                "TRANSFORM: '{other}' is not supported; an item is a column or a preprocessing function of one column, e.g. min_max_scaler(tenure) OVER ()"
            )));
        }
    };
    if let Some(over) = &f.over {
        let empty = match over {
            WindowType::WindowSpec(w) => {
                w.partition_by.is_empty() && w.order_by.is_empty() && w.window_frame.is_none()
            }
            WindowType::NamedWindow(_) => false,
        };
        if !empty {
            return Err(unsupported(format!(
                "TRANSFORM: '{expr}': the statistics are fitted over all training rows; write OVER () (PARTITION BY, ORDER BY and frames are not supported)"
            )));
        }
    }
    let name = f
        .name
        .0
        .last()
        .map(|p| p.to_string().to_ascii_lowercase())
        .unwrap_or_default();
    let FunctionArguments::List(list) = &f.args else {
        return Err(unsupported(format!(
            "TRANSFORM: {name} needs the column as its first argument"
        )));
    };
    let mut args = Vec::with_capacity(list.args.len());
    let mut column = None;
    for (i, a) in list.args.iter().enumerate() {
        let FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) = a else {
            return Err(unsupported(format!(
                "TRANSFORM: {name}: give the arguments by position, not '{a}'"
            )));
        };
        if i == 0 {
            let Expr::Identifier(id) = e else {
                return Err(unsupported(format!(
                    "TRANSFORM: {name}: the first argument must be a column of the query, not '{e}'"
                )));
            };
            let c = ident_name(id);
            args.push(quote_ident(&c));
            column = Some(c);
        } else {
            args.push(literal(&name, e)?);
        }
    }
    let column = column.ok_or_else(|| {
        unsupported(format!(
            "TRANSFORM: {name} needs the column as its first argument"
        ))
    })?;
    Ok((column, Some(format!("{name}({})", args.join(", ")))))
}

/// A literal argument in the `transform` option's syntax.
fn literal(name: &str, e: &Expr) -> Result<String, SqlError> {
    Ok(match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => n.to_string(),
            Value::SingleQuotedString(s) => format!("'{}'", s.replace('\'', "''")),
            Value::Boolean(b) => b.to_string(),
            other => {
                return Err(unsupported(format!(
                    "TRANSFORM: {name}: argument {other} is not supported"
                )));
            }
        },
        Expr::UnaryOp {
            op: UnaryOperator::Minus,
            expr,
        } => format!("-{}", literal(name, expr)?),
        Expr::Array(a) => {
            let items: Result<Vec<String>, SqlError> =
                a.elem.iter().map(|x| literal(name, x)).collect();
            format!("[{}]", items?.join(", "))
        }
        other => {
            return Err(unsupported(format!(
                "TRANSFORM: {name}: argument '{other}' must be a literal (number, string, boolean or array)"
            )));
        }
    })
}
