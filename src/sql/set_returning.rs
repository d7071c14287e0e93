//! PostgreSQL's set-returning functions in a select list, and its composite
//! field selection `(expr).field`, in forms DataFusion plans.
//!
//! - `generate_subscripts(a, d)` and `information_schema._pg_expandarray(a)`
//!   are scalar functions here that return their rows as a list
//!   ([`crate::pg_functions`]); a call becomes `unnest(call)`, so a select
//!   list gives one row per element as in PostgreSQL. Several such calls in
//!   one select list advance together (DataFusion's `unnest`, PostgreSQL 10's
//!   rule), e.g. SQLAlchemy's `unnest(indkey) AS attnum,
//!   generate_subscripts(indkey, 1) AS ord`.
//! - `(expr).field` — a field of a composite value, e.g. pgjdbc's
//!   `(information_schema._pg_expandarray(i.indkey)).n` and
//!   `(result.KEYS).x` — becomes `(expr)['field']`, DataFusion's struct
//!   field access (its `.field` works only on a plain column name). An
//!   unquoted field name is folded to lower case, as PostgreSQL does, and
//!   an unaliased select item `(expr).field` is named `field`, as in
//!   PostgreSQL.

use std::ops::ControlFlow;

use datafusion::sql::sqlparser::ast::{
    AccessExpr, Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList,
    FunctionArguments, Ident, ObjectName, ObjectNamePart, Query, SelectItem, SetExpr, Statement,
    Subscript, Value, VisitorMut,
};

/// Set-returning functions Augur implements as list-valued scalars.
const LIST_VALUED: &[&str] = &["generate_subscripts", "_pg_expandarray"];

/// Applies both rewrites to `statement`.
pub fn set_returning_functions(statement: &mut Statement) {
    let _ = datafusion::sql::sqlparser::ast::VisitMut::visit(statement, &mut Rewrite);
}

struct Rewrite;

/// The field name of `(expr).field`, normalised; `None` for anything else.
fn field_name(e: &Expr) -> Option<Ident> {
    let Expr::CompoundFieldAccess { root, access_chain } = e else {
        return None;
    };
    if matches!(**root, Expr::Identifier(_))
        && access_chain
            .iter()
            .all(|a| matches!(a, AccessExpr::Dot(Expr::Identifier(_))))
    {
        return None; // a column reference
    }
    match access_chain.last()? {
        AccessExpr::Dot(Expr::Identifier(id)) => {
            let name = normalised(id);
            Some(if name == name.to_lowercase() {
                Ident::new(name)
            } else {
                Ident::with_quote('"', name)
            })
        }
        _ => None,
    }
}

fn normalised(id: &Ident) -> String {
    if id.quote_style.is_some() {
        id.value.clone()
    } else {
        id.value.to_lowercase()
    }
}

/// Unaliased `(expr).field` select items of `body` get `field` as alias.
fn name_fields(body: &mut SetExpr) {
    match body {
        SetExpr::Select(select) => {
            for item in &mut select.projection {
                if let SelectItem::UnnamedExpr(e) = item
                    && let Some(alias) = field_name(e)
                {
                    let expr = std::mem::replace(e, Expr::value(Value::Null));
                    *item = SelectItem::ExprWithAlias { expr, alias };
                }
            }
        }
        SetExpr::SetOperation { left, right, .. } => {
            name_fields(left);
            name_fields(right);
        }
        _ => {}
    }
}

impl VisitorMut for Rewrite {
    type Break = ();
    // before the expressions are rewritten below
    fn pre_visit_query(&mut self, query: &mut Query) -> ControlFlow<()> {
        name_fields(&mut query.body);
        ControlFlow::Continue(())
    }
    // post-order: each call is wrapped once, after its arguments
    fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        match expr {
            Expr::Function(f) if is_list_valued(f) => {
                // `information_schema.` / `pg_catalog.`: functions are found by bare name
                let last = f.name.0.last().cloned();
                if let Some(last) = last {
                    f.name = ObjectName(vec![last]);
                }
                let call = std::mem::replace(expr, Expr::value(Value::Null));
                *expr = unnest(call);
            }
            Expr::CompoundFieldAccess { root, access_chain } => {
                // DataFusion folds leading `.name`s after a bare identifier into a
                // column reference itself; every other `.name` is a field access
                let mut leading = matches!(**root, Expr::Identifier(_));
                for access in access_chain.iter_mut() {
                    match access {
                        AccessExpr::Dot(Expr::Identifier(_)) if leading => {}
                        AccessExpr::Dot(Expr::Identifier(id)) => {
                            let name = normalised(id);
                            *access = AccessExpr::Subscript(Subscript::Index {
                                index: Expr::value(Value::SingleQuotedString(name)),
                            });
                        }
                        _ => leading = false,
                    }
                }
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }
}

fn is_list_valued(f: &Function) -> bool {
    matches!(f.args, FunctionArguments::List(_))
        && f.name
            .0
            .last()
            .and_then(ObjectNamePart::as_ident)
            .is_some_and(|i| LIST_VALUED.iter().any(|n| i.value.eq_ignore_ascii_case(n)))
}

/// `unnest(call)`.
fn unnest(call: Expr) -> Expr {
    Expr::Function(Function {
        name: ObjectName(vec![ObjectNamePart::Identifier(Ident::new("unnest"))]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: vec![FunctionArg::Unnamed(FunctionArgExpr::Expr(call))],
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })
}

#[cfg(test)]
mod tests {
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn rewritten(sql: &str) -> String {
        let mut st = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        super::set_returning_functions(&mut st);
        st.to_string()
    }

    #[test]
    fn set_returning_calls_are_unnested() {
        assert_eq!(
            rewritten(
                "SELECT unnest(i.indkey) AS attnum, generate_subscripts(i.indkey, 1) AS ord FROM pg_index i"
            ),
            "SELECT unnest(i.indkey) AS attnum, unnest(generate_subscripts(i.indkey, 1)) AS ord FROM pg_index i"
        );
        assert_eq!(
            rewritten(
                "SELECT information_schema._pg_expandarray(i.indkey) AS KEYS FROM pg_index i"
            ),
            "SELECT unnest(_pg_expandarray(i.indkey)) AS KEYS FROM pg_index i"
        );
    }

    #[test]
    fn composite_fields_are_struct_fields() {
        // pgjdbc's getPrimaryKeys
        assert_eq!(
            rewritten(
                "SELECT (information_schema._pg_expandarray(i.indkey)).n AS KEY_SEQ FROM pg_index i"
            ),
            "SELECT (unnest(_pg_expandarray(i.indkey)))['n'] AS KEY_SEQ FROM pg_index i"
        );
        // named after the field, as in PostgreSQL
        assert_eq!(
            rewritten("SELECT (_pg_expandarray(a)).X, (t.c).\"Y\" FROM t"),
            "SELECT (unnest(_pg_expandarray(a)))['x'] AS x, (t.c)['Y'] AS \"Y\" FROM t"
        );
        assert_eq!(
            rewritten("SELECT 1 FROM r WHERE r.A_ATTNUM = (r.KEYS).X AND (r.k).\"Y\" = 1"),
            "SELECT 1 FROM r WHERE r.A_ATTNUM = (r.KEYS)['x'] AND (r.k)['Y'] = 1"
        );
        // column references and subscripts are left alone
        assert_eq!(
            rewritten("SELECT s.t.c, a[1], s.c['f'] FROM s"),
            "SELECT s.t.c, a[1], s.c['f'] FROM s"
        );
    }
}
