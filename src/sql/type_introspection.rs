//! Rewrites for asyncpg's type introspection: [`domain_base_type`] and
//! [`oid_array_agg`].
//!
//! asyncpg's type introspection (`INTRO_LOOKUP_TYPES` in asyncpg's
//! `introspection.py`, sent the first time a result has a type asyncpg has
//! no built-in codec for: `real[]`, `bigint[]`, the embeddings of `embed`)
//! finds a domain's base type with a correlated recursive CTE:
//!
//! ```sql
//! (CASE WHEN t.typtype = 'd' THEN
//!     (WITH RECURSIVE typebases(oid, depth) AS (
//!          SELECT t2.typbasetype AS oid, 0 AS depth FROM pg_type t2 WHERE t2.oid = t.oid
//!          UNION ALL
//!          SELECT t2.typbasetype AS oid, tb.depth + 1 AS depth
//!          FROM pg_type t2, typebases tb WHERE tb.oid = t2.oid AND t2.typbasetype != 0
//!     ) SELECT oid FROM typebases ORDER BY depth DESC LIMIT 1)
//!  ELSE NULL END)
//! ```
//!
//! DataFusion cannot decorrelate a recursive CTE, so the subquery becomes
//! the outer row's own `typbasetype` (`t.typbasetype`). That is the same
//! answer for every domain whose base type is not itself a domain — all of
//! PostgreSQL's built-in domains (`information_schema.cardinal_number`, …),
//! and Augur cannot create others (no `CREATE DOMAIN`).

use datafusion::sql::sqlparser::ast::{
    BinaryOperator, Expr, Ident, Query, SetExpr, Statement, visit_expressions_mut,
};
use std::ops::ControlFlow;

/// `array_agg(<x>.atttypid …)` (asyncpg's composite-type attributes) as
/// `augur_oid_array(array_agg(…))` (see `crate::oid_array`): PostgreSQL's `array_agg` of an `oid` column is an
/// `oid[]`, which asyncpg decodes with a built-in codec; DataFusion's
/// `array_agg` drops the `oid` marker of its argument and gives `integer[]`,
/// a type asyncpg would introspect again, without end.
pub fn oid_array_agg(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments};
    let _ = visit_expressions_mut(statement, |e| {
        let Expr::Function(f) = e else {
            return ControlFlow::<()>::Continue(());
        };
        let FunctionArguments::List(args) = &f.args else {
            return ControlFlow::Continue(());
        };
        let of_atttypid = f.name.to_string().eq_ignore_ascii_case("array_agg")
            && f.over.is_none()
            && match args.args.as_slice() {
                [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Identifier(i)))] => {
                    i.value == "atttypid"
                }
                [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::CompoundIdentifier(p)))] => {
                    p.last().is_some_and(|i| i.value == "atttypid")
                }
                _ => false,
            };
        if of_atttypid && let Some(cast) = parse_expr(&format!("augur_oid_array({e})")) {
            *e = cast;
        }
        ControlFlow::Continue(())
    });
}

/// `<x>::oid[]` / `CAST(<x> AS oid[])` as `augur_oid_array(CAST(<x> AS
/// bigint[]))`: DataFusion plans `oid` as a plain `integer`, so the array
/// would reach clients (and a `$1::oid[]` parameter be described) as
/// `integer[]`; `augur_oid_array` makes it PostgreSQL's `oid[]` (1028).
pub fn oid_array_casts(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{ArrayElemTypeDef, DataType};
    let _ = visit_expressions_mut(statement, |e| {
        let Expr::Cast {
            expr, data_type, ..
        } = e
        else {
            return ControlFlow::<()>::Continue(());
        };
        let DataType::Array(
            ArrayElemTypeDef::SquareBracket(element, None)
            | ArrayElemTypeDef::AngleBracket(element),
        ) = data_type
        else {
            return ControlFlow::Continue(());
        };
        let is_oid = matches!(element.as_ref(), DataType::Custom(name, args)
            if args.is_empty() && name.to_string().to_lowercase().trim_start_matches("pg_catalog.") == "oid");
        if is_oid
            && let Some(call) = parse_expr(&format!("augur_oid_array(CAST(({expr}) AS bigint[]))"))
        {
            *e = call;
        }
        ControlFlow::Continue(())
    });
}

/// `<x>::regtype::text` (also spelled with `CAST` or `pg_catalog.` names) as
/// `augur_regtype_text(<x>)`: the type's name, as PostgreSQL prints a
/// `regtype` (see `crate::regtype_text`), where DataFusion would print the
/// number.
pub fn regtype_text_casts(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{
        DataType, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments,
        ObjectName,
    };
    fn named(t: &DataType, name: &str) -> bool {
        match t {
            DataType::Custom(n, args) if args.is_empty() => {
                n.to_string()
                    .to_lowercase()
                    .trim_start_matches("pg_catalog.")
                    == name
            }
            DataType::Text => name == "text",
            _ => false,
        }
    }
    let _ = visit_expressions_mut(statement, |e| {
        let Expr::Cast {
            expr: outer,
            data_type: to_text,
            ..
        } = e
        else {
            return ControlFlow::<()>::Continue(());
        };
        let Expr::Cast {
            expr: inner,
            data_type: to_regtype,
            ..
        } = outer.as_ref()
        else {
            return ControlFlow::Continue(());
        };
        if named(to_text, "text") && named(to_regtype, "regtype") {
            *e = Expr::Function(Function {
                name: ObjectName::from(vec![Ident::new("augur_regtype_text")]),
                uses_odbc_syntax: false,
                parameters: FunctionArguments::None,
                args: FunctionArguments::List(FunctionArgumentList {
                    duplicate_treatment: None,
                    args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(*inner.clone()))],
                    clauses: vec![],
                }),
                filter: None,
                null_treatment: None,
                over: None,
                within_group: vec![],
            });
        }
        ControlFlow::Continue(())
    });
}

/// `sql` parsed as one PostgreSQL expression.
fn parse_expr(sql: &str) -> Option<Expr> {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;
    Parser::new(&PostgreSqlDialect {})
        .try_with_sql(sql)
        .and_then(|mut p| p.parse_expr())
        .ok()
}

/// Replaces each such subquery of `statement` by `<outer>.typbasetype`.
pub fn domain_base_type(statement: &mut Statement) {
    let _ = visit_expressions_mut(statement, |e| {
        if let Expr::Subquery(q) = e
            && let Some(outer) = base_type_lookup(q)
        {
            *e = Expr::CompoundIdentifier(vec![outer, Ident::new("typbasetype")]);
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The outer row's alias when `q` is the recursive base-type lookup above:
/// one recursive CTE over `pg_type` returning `typbasetype`, whose first term
/// is filtered by `t2.oid = <outer>.oid`.
fn base_type_lookup(q: &Query) -> Option<Ident> {
    let with = q.with.as_ref()?;
    if !with.recursive || with.cte_tables.len() != 1 {
        return None;
    }
    let cte = &with.cte_tables[0].query;
    let SetExpr::SetOperation { left, .. } = cte.body.as_ref() else {
        return None;
    };
    let SetExpr::Select(first) = left.as_ref() else {
        return None;
    };
    let text = first.to_string().to_lowercase();
    if !text.contains("typbasetype") || !text.contains("pg_type") {
        return None;
    }
    let Some(Expr::BinaryOp {
        left,
        op: BinaryOperator::Eq,
        right,
    }) = &first.selection
    else {
        return None;
    };
    let column = |e: &Expr| match e {
        Expr::CompoundIdentifier(parts) if parts.len() == 2 && parts[1].value == "oid" => {
            Some(parts[0].clone())
        }
        _ => None,
    };
    // `t2.oid = t.oid`: the side that is not the CTE's own pg_type row
    let (a, b) = (column(left)?, column(right)?);
    let own = first.from.first().and_then(|t| match &t.relation {
        datafusion::sql::sqlparser::ast::TableFactor::Table { alias, .. } => {
            alias.as_ref().map(|a| a.name.value.clone())
        }
        _ => None,
    })?;
    if a.value == own {
        Some(b)
    } else if b.value == own {
        Some(a)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    #[test]
    fn array_agg_of_atttypid_and_oid_array_casts_are_oid_arrays() {
        let sql = "SELECT array_agg(ia.atttypid ORDER BY ia.attnum), array_agg(attname), $1::oid[], CAST(x AS pg_catalog.oid[]), y::int4[] FROM pg_attribute ia";
        let mut s = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        super::oid_array_agg(&mut s);
        super::oid_array_casts(&mut s);
        assert_eq!(
            s.to_string(),
            "SELECT augur_oid_array(array_agg(ia.atttypid ORDER BY ia.attnum)), array_agg(attname), \
             augur_oid_array(CAST(($1) AS BIGINT[])), augur_oid_array(CAST((x) AS BIGINT[])), y::INT4[] FROM pg_attribute ia"
        );
    }

    #[test]
    fn regtype_text_casts_print_names() {
        let sql = "SELECT oid::regtype::text, CAST(CAST(x AS pg_catalog.regtype) AS pg_catalog.text), y::regtype, z::int4::text";
        let mut s = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        super::regtype_text_casts(&mut s);
        assert_eq!(
            s.to_string(),
            "SELECT augur_regtype_text(oid), augur_regtype_text(x), y::regtype, z::INT4::TEXT"
        );
    }

    #[test]
    fn asyncpg_base_type_lookup_is_the_rows_own_base_type() {
        let sql = "SELECT t.oid, (CASE WHEN t.typtype = 'd' THEN (WITH RECURSIVE typebases(oid, depth) AS (\
             SELECT t2.typbasetype AS oid, 0 AS depth FROM pg_type t2 WHERE t2.oid = t.oid \
             UNION ALL SELECT t2.typbasetype AS oid, tb.depth + 1 AS depth FROM pg_type t2, typebases tb \
             WHERE tb.oid = t2.oid AND t2.typbasetype != 0) SELECT oid FROM typebases ORDER BY depth DESC LIMIT 1) \
             ELSE NULL END) AS basetype FROM pg_catalog.pg_type AS t";
        let mut s = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        super::domain_base_type(&mut s);
        assert_eq!(
            s.to_string(),
            "SELECT t.oid, (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE NULL END) AS basetype \
             FROM pg_catalog.pg_type AS t"
        );
        // other recursive subqueries are left alone
        let other = "SELECT (WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT max(n) FROM r)";
        let mut s = Parser::parse_sql(&PostgreSqlDialect {}, other)
            .unwrap()
            .remove(0);
        let before = s.to_string();
        super::domain_base_type(&mut s);
        assert_eq!(s.to_string(), before);
    }
}
