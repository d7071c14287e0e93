//! `name => value` arguments of Augur table functions (BigQuery's
//! `VECTOR_SEARCH(…, top_k => 5, distance_type => 'COSINE')`): DataFusion 55
//! plans only positional table-function arguments, so each named argument is
//! moved to its parameter's position, and a gap left before it is filled with
//! that parameter's default.
//!
//! PostgreSQL's `name := value` is taken as `name => value`, and calls in
//! `LATERAL f(…)` are rewritten too. `TABLE(f(…))` in FROM is refused with a
//! plain sentence (0A000) naming the supported form, `SELECT * FROM f(…)`.
//!
//! Errors: 42883 an unknown parameter name, or a required parameter missing;
//! 42601 a positional argument after a named one, or a parameter given twice;
//! 0A000 `TABLE(f(…))`.

use std::ops::ControlFlow;

use augur_udfs::table_function::Param;
use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArgOperator, Ident, Statement,
    TableFactor, VisitMut, VisitorMut,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

use crate::errors::SqlError;

/// Rewrites every call of an Augur table function with named arguments in
/// `statement` to positional arguments.
pub fn to_positional(statement: &mut Statement) -> Result<(), SqlError> {
    struct V(Option<SqlError>);
    impl VisitorMut for V {
        type Break = ();
        fn pre_visit_table_factor(&mut self, t: &mut TableFactor) -> ControlFlow<()> {
            if let TableFactor::TableFunction { expr, .. } = t {
                // DataFusion would answer with a dump of the syntax tree
                let call = match expr {
                    Expr::Function(f) => format!("{}(…)", f.name),
                    _ => "f(…)".to_string(),
                };
                self.0 = Some(SqlError::new(
                    "0A000",
                    format!(
                        "TABLE({call}) is not supported; call a table function directly in FROM: SELECT * FROM {call}"
                    ),
                ));
                return ControlFlow::Break(());
            }
            let (name, args) = match t {
                TableFactor::Table {
                    name,
                    args: Some(args),
                    ..
                } => (name, &mut args.args),
                // `LATERAL f(…)`
                TableFactor::Function { name, args, .. } => (name, args),
                _ => return ControlFlow::Continue(()),
            };
            if args.iter().any(is_named) {
                let function = name.to_string().to_ascii_lowercase();
                if let Some(params) = augur_udfs::table_function_parameters(&function) {
                    match reorder(&function, params, std::mem::take(args)) {
                        Ok(a) => *args = a,
                        Err(e) => {
                            self.0 = Some(e);
                            return ControlFlow::Break(());
                        }
                    }
                }
            }
            ControlFlow::Continue(())
        }
    }
    let mut v = V(None);
    let _ = statement.visit(&mut v);
    v.0.map_or(Ok(()), Err)
}

/// `name => value`, and PostgreSQL's older `name := value` (which the
/// parser reads as an assignment expression).
fn is_named(a: &FunctionArg) -> bool {
    matches!(a, FunctionArg::Named { .. } | FunctionArg::ExprNamed { .. })
        || assignment(a).is_some()
}

fn assignment(a: &FunctionArg) -> Option<(Ident, Expr)> {
    match a {
        FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::BinaryOp {
            left,
            op: BinaryOperator::Assignment,
            right,
        })) => match left.as_ref() {
            Expr::Identifier(name) => Some((name.clone(), right.as_ref().clone())),
            _ => None,
        },
        _ => None,
    }
}

fn reorder(
    function: &str,
    params: &[Param],
    args: Vec<FunctionArg>,
) -> Result<Vec<FunctionArg>, SqlError> {
    let names = || params.iter().map(|p| p.name).collect::<Vec<_>>().join(", ");
    let mut slots: Vec<Option<FunctionArgExpr>> = vec![None; params.len()];
    let mut named_seen = false;
    for (i, a) in args.into_iter().enumerate() {
        let a = match assignment(&a) {
            Some((name, value)) => FunctionArg::Named {
                name,
                arg: FunctionArgExpr::Expr(value),
                operator: FunctionArgOperator::Assignment,
            },
            None => a,
        };
        match a {
            FunctionArg::Unnamed(e) => {
                if named_seen {
                    return Err(SqlError::new(
                        "42601",
                        format!("{function}: positional argument cannot follow a named argument"),
                    ));
                }
                if i >= slots.len() {
                    return Err(SqlError::new(
                        "42883",
                        format!(
                            "{function} takes at most {} arguments ({})",
                            params.len(),
                            names()
                        ),
                    ));
                }
                slots[i] = Some(e);
            }
            FunctionArg::Named { name, arg, .. }
            | FunctionArg::ExprNamed {
                name: Expr::Identifier(name),
                arg,
                ..
            } => {
                named_seen = true;
                let key = name.value.to_ascii_lowercase();
                let Some(at) = params.iter().position(|p| p.name == key) else {
                    return Err(SqlError::new(
                        "42883",
                        format!(
                            "{function} has no parameter \"{}\"; its parameters: {}",
                            name.value,
                            names()
                        ),
                    ));
                };
                if slots[at].is_some() {
                    return Err(SqlError::new(
                        "42601",
                        format!("{function}: argument \"{key}\" given more than once"),
                    ));
                }
                slots[at] = Some(arg);
            }
            other => {
                return Err(SqlError::new(
                    "42601",
                    format!(
                        "{function}: unsupported argument {other}; use parameter_name => value"
                    ),
                ));
            }
        }
    }
    // drop trailing gaps; fill inner ones with defaults
    while matches!(slots.last(), Some(None)) {
        slots.pop();
    }
    let mut out = Vec::with_capacity(slots.len());
    for (p, s) in params.iter().zip(slots) {
        let e = match (s, p.default) {
            (Some(e), _) => e,
            (None, Some(d)) => {
                let expr = Parser::new(&PostgreSqlDialect {})
                    .try_with_sql(d)
                    .and_then(|mut p| p.parse_expr())
                    .map_err(|e| SqlError::new("XX000", format!("default of {}: {e}", p.name)))?;
                FunctionArgExpr::Expr(expr)
            }
            (None, None) => {
                return Err(SqlError::new(
                    "42883",
                    format!(
                        "{function}: missing argument {} (parameters: {})",
                        p.name,
                        names()
                    ),
                ));
            }
        };
        out.push(FunctionArg::Unnamed(e));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::sql::SqlParser;

    #[test]
    fn named_arguments_become_positional() {
        let p = SqlParser::new();
        let s = p
            .parse("SELECT * FROM vector_search('t', 'v', ARRAY[1.0], distance_type => 'COSINE')")
            .unwrap();
        assert_eq!(
            s[0].to_string(),
            "SELECT * FROM vector_search('t', 'v', ARRAY[1.0], 10, 'COSINE')"
        );
        let s = p
            .parse("SELECT * FROM vector_search(query_value => ARRAY[1.0], top_k => 3, base_table => 't', column_to_search => 'v')")
            .unwrap();
        assert_eq!(
            s[0].to_string(),
            "SELECT * FROM vector_search('t', 'v', ARRAY[1.0], 3)"
        );
        let err = |sql: &str| p.parse(sql).unwrap_err();
        let e = err("SELECT * FROM vector_search('t', 'v', ARRAY[1.0], k => 3)");
        assert_eq!(e.sqlstate, "42883");
        assert!(e.message.contains("no parameter \"k\""), "{}", e.message);
        assert_eq!(
            err("SELECT * FROM vector_search('t', 'v', ARRAY[1.0], top_k => 3, top_k => 4)")
                .sqlstate,
            "42601"
        );
        assert_eq!(
            err("SELECT * FROM vector_search('t', top_k => 3)").sqlstate,
            "42883"
        );
        // `:=` as PostgreSQL allows
        let s = p
            .parse("SELECT * FROM vector_search('t', 'v', ARRAY[1.0], top_k := 3)")
            .unwrap();
        assert_eq!(
            s[0].to_string(),
            "SELECT * FROM vector_search('t', 'v', ARRAY[1.0], 3)"
        );
        let e = err("SELECT * FROM TABLE(vector_search('t', 'v', ARRAY[1.0]))");
        assert_eq!(e.sqlstate, "0A000");
        assert_eq!(
            e.message,
            "TABLE(vector_search(…)) is not supported; call a table function directly in FROM: SELECT * FROM vector_search(…)"
        );
        // LATERAL calls too
        let s = p
            .parse("SELECT * FROM t, LATERAL vector_search('t', 'v', ARRAY[1.0], distance_type => 'COSINE')")
            .unwrap();
        assert_eq!(
            s[0].to_string(),
            "SELECT * FROM t, LATERAL vector_search('t', 'v', ARRAY[1.0], 10, 'COSINE')"
        );
    }
}
