//! `name => value` arguments of Augur table functions (BigQuery's
//! `VECTOR_SEARCH(…, top_k => 5, distance_type => 'COSINE')`): DataFusion 55
//! plans only positional table-function arguments, so each named argument is
//! moved to its parameter's position, and a gap left before it is filled with
//! that parameter's default.
//!
//! Errors: 42883 an unknown parameter name, or a required parameter missing;
//! 42601 a positional argument after a named one, or a parameter given twice.

use std::ops::ControlFlow;

use augur_udfs::table_function::Param;
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, Statement, TableFactor, VisitMut, VisitorMut,
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
            if args
                .iter()
                .any(|a| matches!(a, FunctionArg::Named { .. } | FunctionArg::ExprNamed { .. }))
            {
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

fn reorder(
    function: &str,
    params: &[Param],
    args: Vec<FunctionArg>,
) -> Result<Vec<FunctionArg>, SqlError> {
    let names = || params.iter().map(|p| p.name).collect::<Vec<_>>().join(", ");
    let mut slots: Vec<Option<FunctionArgExpr>> = vec![None; params.len()];
    let mut named_seen = false;
    for (i, a) in args.into_iter().enumerate() {
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
