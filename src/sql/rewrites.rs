//! Rewrites of PostgreSQL client SQL (catalog queries of psql, SQLAlchemy,
//! pgjdbc) into forms DataFusion plans, applied to every parsed statement.

use datafusion::sql::sqlparser::ast::{Expr, Statement, Value};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;

/// Applies all rewrites to `statement`.
pub fn postgres_compat(statement: &mut Statement) {
    super::type_introspection::domain_base_type(statement);
    super::type_introspection::oid_array_agg(statement);
    super::type_introspection::oid_array_casts(statement);
    super::type_introspection::regtype_text_casts(statement);
    super::set_returning::set_returning_functions(statement);
    like_escape_to_backslash(statement);
    float_types(statement);
    numeric_literal_casts(statement);
    interval_clock_literals(statement);
    bare_user_and_regproc_joins(statement);
    untyped_literal_types(statement);
    regclass_names(statement);
    aggregate_catalog_subqueries(statement);
    subqueries_in_order_by(statement);
    let _ =
        datafusion::sql::sqlparser::ast::VisitMut::visit(statement, &mut InSubqueryInProjection);
    let _ = datafusion::sql::sqlparser::ast::VisitMut::visit(statement, &mut PgInformationSchema);
    let mut scalar_in_from = ScalarInFrom {
        value_users: value_users(statement),
    };
    let _ = datafusion::sql::sqlparser::ast::VisitMut::visit(statement, &mut scalar_in_from);
}

/// `ORDER BY` with a subquery (Grafana's table picker sorts by `CASE WHEN
/// schema IN (SELECT … search path …) THEN 0 ELSE 1 END`), which DataFusion
/// plans only in a projection or filter: the expression becomes a hidden
/// column of the query, sorted on outside and left out of the result:
/// `SELECT * EXCLUDE (__augur_order_0) FROM (SELECT …, e AS __augur_order_0
/// FROM …) AS __augur_sorted ORDER BY __augur_order_0, 1`. Only for a plain
/// `SELECT` whose other sort keys are output positions or output names.
fn subqueries_in_order_by(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{
        Ident, OrderByKind, SelectItem, SetExpr, visit_expressions,
    };
    use std::ops::ControlFlow;
    let Statement::Query(q) = statement else {
        return;
    };
    let Some(order_by) = &q.order_by else {
        return;
    };
    let OrderByKind::Expressions(items) = &order_by.kind else {
        return;
    };
    let SetExpr::Select(select) = q.body.as_ref() else {
        return;
    };
    let has_subquery = |e: &Expr| {
        visit_expressions(e, |x| match x {
            Expr::Subquery(_) | Expr::InSubquery { .. } | Expr::Exists { .. } => {
                ControlFlow::Break(())
            }
            _ => ControlFlow::Continue(()),
        })
        .is_break()
    };
    if !items.iter().any(|i| has_subquery(&i.expr)) || select.distinct.is_some() {
        return;
    }
    let output_names: Vec<String> = select
        .projection
        .iter()
        .filter_map(|p| match p {
            SelectItem::ExprWithAlias { alias, .. } => Some(alias.value.clone()),
            _ => None,
        })
        .collect();
    let movable = |e: &Expr| match e {
        Expr::Value(v) => matches!(v.value, Value::Number(..)),
        Expr::Identifier(i) => output_names.contains(&i.value),
        e => has_subquery(e),
    };
    if !items.iter().all(|i| movable(&i.expr)) {
        return;
    }
    let mut inner = q.as_ref().clone();
    let mut outer_items = items.clone();
    let mut hidden = Vec::new();
    let SetExpr::Select(inner_select) = inner.body.as_mut() else {
        return;
    };
    for item in outer_items.iter_mut().filter(|i| has_subquery(&i.expr)) {
        let name = format!("__augur_order_{}", hidden.len());
        inner_select.projection.push(SelectItem::ExprWithAlias {
            expr: item.expr.clone(),
            alias: Ident::new(&name),
        });
        item.expr = Expr::Identifier(Ident::new(&name));
        hidden.push(name);
    }
    inner.order_by = None;
    let limit = inner.limit_clause.take();
    let mut outer_order = order_by.clone();
    outer_order.kind = OrderByKind::Expressions(outer_items);
    let sql = format!(
        "SELECT * EXCLUDE ({}) FROM ({inner}) AS __augur_sorted {outer_order}{}",
        hidden.join(", "),
        limit.map(|l| format!(" {l}")).unwrap_or_default()
    );
    // `EXCLUDE` is DataFusion's (the generic dialect's), not PostgreSQL's
    if let Ok(Statement::Query(rewritten)) =
        Parser::new(&datafusion::sql::sqlparser::dialect::GenericDialect {})
            .try_with_sql(&sql)
            .and_then(|mut p| p.parse_statement())
    {
        *q = rewritten;
    }
}

/// `x IN (SELECT c …)` in a select list, which DataFusion cannot execute
/// (it decorrelates `IN` subqueries in filters only), becomes
/// `coalesce(array_has((SELECT array_agg(c) FROM (SELECT c …) AS
/// __augur_in(c)), x), false)`. This is PostgreSQL's answer except that it
/// is false where PostgreSQL's is NULL (x NULL, or no match and a NULL in
/// the list), the same inside `CASE WHEN` or `WHERE`, where clients use it
/// (Grafana's table picker). `NOT IN` is left alone.
struct InSubqueryInProjection;

impl datafusion::sql::sqlparser::ast::VisitorMut for InSubqueryInProjection {
    type Break = ();
    fn post_visit_query(
        &mut self,
        query: &mut datafusion::sql::sqlparser::ast::Query,
    ) -> std::ops::ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr, visit_expressions_mut};
        use std::ops::ControlFlow;
        let SetExpr::Select(select) = query.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        for item in &mut select.projection {
            let expr = match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => e,
                _ => continue,
            };
            let _ = visit_expressions_mut(expr, |e| {
                if let Expr::InSubquery {
                    expr,
                    subquery,
                    negated: false,
                } = e
                {
                    let sql = format!(
                        "coalesce(array_has((SELECT array_agg(__augur_in.c) FROM ({subquery}) AS __augur_in(c)), {expr}), false)"
                    );
                    if let Ok(rewritten) = Parser::new(&PostgreSqlDialect {})
                        .try_with_sql(&sql)
                        .and_then(|mut p| p.parse_expr())
                    {
                        *e = rewritten;
                    }
                }
                ControlFlow::<()>::Continue(())
            });
        }
        ControlFlow::Continue(())
    }
}

/// Array-valued (not set-returning) functions clients call in `FROM`.
const SCALAR_FUNCTIONS_IN_FROM: &[&str] = &[
    "string_to_array",
    "regexp_split_to_array",
    "current_schemas",
    "parse_ident",
];

/// A scalar function in `FROM` is, in PostgreSQL, a table of one row whose
/// one column is named after the alias (Grafana's search-path query:
/// `FROM generate_series(…) AS i, string_to_array(current_setting(
/// 'search_path'), ',') s` then reads `s[i]`). DataFusion looks it up as a
/// table function; this makes `f(args) [AS t[(c)]]` the derived table
/// `(SELECT f(args) AS c) AS t` (`c` defaults to `t`, `t` to `f`). Likewise
/// the column of a scalar set-returning function with a table alias but no
/// column list is named after the alias: `generate_series(…) AS i` reads
/// as `AS i(i)`, unless the statement reads `i.value` (DataFusion's name,
/// which Augur accepted before).
struct ScalarInFrom {
    value_users: Vec<String>,
}

/// The qualifiers `q` of every `q.value` in `statement`, lower case.
fn value_users(statement: &Statement) -> Vec<String> {
    use datafusion::sql::sqlparser::ast::visit_expressions;
    let mut out = Vec::new();
    let _ = visit_expressions(statement, |e| {
        if let Expr::CompoundIdentifier(p) = e
            && p.len() == 2
            && p[1].value.eq_ignore_ascii_case("value")
        {
            out.push(p[0].value.to_lowercase());
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    out
}

impl datafusion::sql::sqlparser::ast::VisitorMut for ScalarInFrom {
    type Break = ();
    fn post_visit_table_factor(
        &mut self,
        factor: &mut datafusion::sql::sqlparser::ast::TableFactor,
    ) -> std::ops::ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::{
            Ident, TableAlias, TableAliasColumnDef, TableFactor,
        };
        // `generate_series(…) AS i`: the column is `i` (DataFusion: `value`)
        if let TableFactor::Table {
            name,
            alias: Some(alias),
            args: Some(_),
            ..
        } = factor
            && alias.columns.is_empty()
            && !self.value_users.contains(&alias.name.value.to_lowercase())
            && name.0.last().and_then(|p| p.as_ident()).is_some_and(|f| {
                ["generate_series", "generate_subscripts"]
                    .contains(&f.value.to_ascii_lowercase().as_str())
            })
        {
            alias.columns = vec![TableAliasColumnDef {
                name: alias.name.clone(),
                data_type: None,
            }];
            return std::ops::ControlFlow::Continue(());
        }
        if let TableFactor::Table {
            name,
            alias,
            args: Some(args),
            ..
        } = factor
            && let Some(function) = name.0.last().and_then(|p| p.as_ident())
            && SCALAR_FUNCTIONS_IN_FROM.contains(&function.value.to_ascii_lowercase().as_str())
        {
            let table = alias.as_ref().map_or_else(
                || Ident::new(function.value.to_ascii_lowercase()),
                |a| a.name.clone(),
            );
            let column = match alias.as_ref().map(|a| a.columns.as_slice()) {
                Some([c]) => c.name.clone(),
                Some([]) | None => table.clone(),
                Some(_) => return std::ops::ControlFlow::Continue(()),
            };
            let call = format!(
                "SELECT {name}({}) AS {column}",
                args.args
                    .iter()
                    .map(|a| a.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if let Ok(Statement::Query(q)) = Parser::new(&PostgreSqlDialect {})
                .try_with_sql(&call)
                .and_then(|mut p| p.parse_statement())
            {
                *factor = TableFactor::Derived {
                    lateral: false,
                    subquery: q,
                    alias: Some(TableAlias {
                        explicit: true,
                        name: table,
                        columns: vec![],
                        at: None,
                    }),
                    sample: None,
                };
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// PostgreSQL's `float` is `double precision`, and `float(p)` is `real` for
/// p ≤ 24 and `double precision` above; DataFusion maps `float` and every
/// `float(p)` to real (Float32). Rewritten in casts and in `CREATE TABLE`
/// column types.
fn float_types(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{
        ArrayElemTypeDef, DataType, ExactNumberInfo, visit_expressions_mut,
    };
    use std::ops::ControlFlow;
    fn fix(t: &mut DataType) {
        match t {
            DataType::Float(ExactNumberInfo::None) => *t = DataType::DoublePrecision,
            DataType::Float(ExactNumberInfo::Precision(p)) => {
                *t = if *p <= 24 {
                    DataType::Real
                } else {
                    DataType::DoublePrecision
                }
            }
            DataType::Array(
                ArrayElemTypeDef::SquareBracket(inner, _)
                | ArrayElemTypeDef::AngleBracket(inner)
                | ArrayElemTypeDef::Parenthesis(inner),
            ) => fix(inner),
            _ => {}
        }
    }
    if let Statement::CreateTable(ct) = statement {
        for c in &mut ct.columns {
            fix(&mut c.data_type);
        }
    }
    let _ = visit_expressions_mut(statement, |e| {
        if let Expr::Cast { data_type, .. } = e {
            fix(data_type);
        }
        ControlFlow::<()>::Continue(())
    });
}

/// A decimal literal is `numeric` in PostgreSQL and rounds half away from
/// zero when cast to an integer (`2.5::int` is 3); DataFusion reads it as a
/// float, which rounds half to even (see `pg_casts`). A decimal literal cast
/// to an integer type is cast to numeric first.
fn numeric_literal_casts(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{
        CastKind, DataType, ExactNumberInfo, UnaryOperator, visit_expressions_mut,
    };
    use std::ops::ControlFlow;
    fn decimal_literal(e: &Expr) -> bool {
        match e {
            Expr::Value(v) => {
                matches!(&v.value, Value::Number(n, _) if n.contains(['.', 'e', 'E']))
            }
            Expr::Nested(inner) => decimal_literal(inner),
            Expr::UnaryOp {
                op: UnaryOperator::Minus | UnaryOperator::Plus,
                expr,
            } => decimal_literal(expr),
            _ => false,
        }
    }
    let _ = visit_expressions_mut(statement, |e| {
        if let Expr::Cast {
            expr, data_type, ..
        } = e
            && matches!(
                data_type,
                DataType::Int(_)
                    | DataType::Integer(_)
                    | DataType::Int4(_)
                    | DataType::BigInt(_)
                    | DataType::Int8(_)
                    | DataType::SmallInt(_)
                    | DataType::Int2(_)
            )
            && decimal_literal(expr)
        {
            let literal = std::mem::replace(expr.as_mut(), Expr::value(Value::Null));
            **expr = Expr::Cast {
                kind: CastKind::DoubleColon,
                expr: Box::new(literal),
                data_type: DataType::Numeric(ExactNumberInfo::None),
                array: false,
                format: None,
            };
        }
        ControlFlow::<()>::Continue(())
    });
}

/// Gives the top-level select items `current_user` and `current_catalog`
/// (written without parentheses) their own name as alias, as PostgreSQL
/// names those columns; see `SqlParser::with_named_registers`.
pub fn name_special_registers(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{FunctionArguments, Ident, SelectItem, SetExpr};
    fn in_body(body: &mut SetExpr) {
        match body {
            SetExpr::Select(select) => {
                for item in &mut select.projection {
                    let SelectItem::UnnamedExpr(Expr::Function(f)) = item else {
                        continue;
                    };
                    let name = match f.name.0.as_slice() {
                        [part] => part.as_ident().filter(|i| i.quote_style.is_none()),
                        _ => None,
                    };
                    let Some(name) = name.map(|i| i.value.to_ascii_lowercase()) else {
                        continue;
                    };
                    if matches!(f.args, FunctionArguments::None)
                        && (name == "current_user" || name == "current_catalog")
                    {
                        *item = SelectItem::ExprWithAlias {
                            expr: Expr::Function(f.clone()),
                            alias: Ident::with_quote('"', name),
                        };
                    }
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                in_body(left);
                in_body(right);
            }
            SetExpr::Query(q) => in_body(&mut q.body),
            _ => {}
        }
    }
    if let Statement::Query(q) = statement {
        in_body(&mut q.body);
    }
}

/// Two catalog idioms DataFusion cannot run as written:
/// - bare `user` (Grafana's search-path query) is PostgreSQL's
///   `current_user`;
/// - `proc.oid = typ.typreceive` (Npgsql's type loading, Power BI): the
///   `regproc` columns of `pg_type` (`typinput`, `typoutput`, `typreceive`,
///   `typsend`) hold the function's name here, so the join compares
///   `proc.proname` with it instead.
fn bare_user_and_regproc_joins(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{BinaryOperator, Ident, visit_expressions_mut};
    use std::ops::ControlFlow;
    const REGPROC: [&str; 4] = ["typinput", "typoutput", "typreceive", "typsend"];
    let _ = visit_expressions_mut(statement, |e| {
        match e {
            // sqlparser reads bare `user` as a call without arguments
            Expr::Function(f)
                if matches!(
                    f.args,
                    datafusion::sql::sqlparser::ast::FunctionArguments::None
                ) && f.name.0.len() == 1
                    && f.name.0[0].as_ident().is_some_and(|i| {
                        i.quote_style.is_none() && i.value.eq_ignore_ascii_case("user")
                    }) =>
            {
                f.name = datafusion::sql::sqlparser::ast::ObjectName::from(vec![Ident::new(
                    "current_user",
                )]);
            }
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Eq,
                right,
            } => {
                let is_regproc = |x: &Expr| {
                    matches!(x, Expr::CompoundIdentifier(p) if p.len() == 2
                        && REGPROC.contains(&p[1].value.to_ascii_lowercase().as_str()))
                };
                let to_proname = |x: &mut Expr| {
                    if let Expr::CompoundIdentifier(p) = x
                        && p.len() == 2
                        && p[1].value.eq_ignore_ascii_case("oid")
                    {
                        p[1] = Ident::new("proname");
                    }
                };
                if is_regproc(right) {
                    to_proname(left);
                } else if is_regproc(left) {
                    to_proname(right);
                }
            }
            _ => {}
        }
        ControlFlow::<()>::Continue(())
    });
}

/// PostgreSQL reads the time part of an interval literal as a clock,
/// `INTERVAL '1 day 02:03:04'` or `'-01:30'::interval`; DataFusion's parser
/// takes only unit words. Each `[-]H:MM[:SS[.ffffff]]` token of an interval
/// literal becomes `H hours M minutes S seconds` (all with the token's sign).
fn interval_clock_literals(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{DataType, visit_expressions_mut};
    use std::ops::ControlFlow;
    let _ = visit_expressions_mut(statement, |e| {
        let literal = match e {
            Expr::Interval(i) => Some(i.value.as_mut()),
            Expr::Cast {
                expr,
                data_type: DataType::Interval { .. },
                ..
            } => Some(expr.as_mut()),
            _ => None,
        };
        if let Some(Expr::Value(v)) = literal
            && let Value::SingleQuotedString(text) = &mut v.value
            && let Some(new) = interval_clock_text(text)
        {
            *text = new;
        }
        ControlFlow::<()>::Continue(())
    });
}

/// `text` with its clock tokens spelled in units, or `None` if it has none.
pub fn interval_clock_text(text: &str) -> Option<String> {
    let mut changed = false;
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            let (sign, body) = match w.strip_prefix('-') {
                Some(b) => ("-", b),
                None => ("", w.strip_prefix('+').unwrap_or(w)),
            };
            let parts: Vec<&str> = body.split(':').collect();
            let numeric = |p: &str, frac: bool| {
                !p.is_empty()
                    && p.chars().all(|c| c.is_ascii_digit() || (frac && c == '.'))
                    && p.matches('.').count() <= 1
            };
            let ok = (parts.len() == 2 || parts.len() == 3)
                && numeric(parts[0], false)
                && numeric(parts[1], false)
                && parts.get(2).is_none_or(|s| numeric(s, true));
            if !ok {
                return w.to_string();
            }
            changed = true;
            let mut out = format!("{sign}{} hours {sign}{} minutes", parts[0], parts[1]);
            if let Some(s) = parts.get(2) {
                out.push_str(&format!(" {sign}{s} seconds"));
            }
            out
        })
        .collect();
    changed.then(|| words.join(" "))
}

/// DataFusion's LIKE takes only the backslash as escape character;
/// SQLAlchemy's Inspector (Superset's schema list) writes
/// `nspname NOT LIKE 'pg/_' || '%' ESCAPE '/'`. The pattern is rewritten to
/// backslash escapes: `replace(replace(p, '\', '\\'), '/', '\')`.
/// (An escaped escape character, `//`, then reads as a literal backslash.)
fn like_escape_to_backslash(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::visit_expressions_mut;
    use std::ops::ControlFlow;
    let _ = visit_expressions_mut(statement, |e| {
        if let Expr::Like {
            pattern,
            escape_char,
            ..
        }
        | Expr::ILike {
            pattern,
            escape_char,
            ..
        } = e
            && let Some(esc) = escape_char
            && let Value::SingleQuotedString(c) = &esc.value
            && c != "\\"
            && c.chars().count() == 1
        {
            let text = format!(
                "replace(replace({pattern}, '\\', '\\\\'), '{}', '\\')",
                c.replace('\'', "''")
            );
            if let Ok(new) = Parser::new(&PostgreSqlDialect {})
                .try_with_sql(&text)
                .and_then(|mut p| p.parse_expr())
            {
                **pattern = new;
                esc.value = Value::SingleQuotedString("\\".into());
            }
        }
        ControlFlow::<()>::Continue(())
    });
}

/// DataFusion plans a correlated scalar subquery only when it is aggregated;
/// catalog queries (SQLAlchemy's `get_columns`: `(SELECT pg_get_expr(adbin, adrelid)
/// FROM pg_attrdef WHERE adrelid = attrelid AND adnum = attnum)`) look up at
/// most one row without aggregating. Such a subquery over `pg_catalog`
/// tables, with one output column, no aggregate, no `GROUP BY`, `ORDER BY` or
/// `LIMIT`, gets its column wrapped in `max(…)`, which gives the same row.
fn aggregate_catalog_subqueries(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{
        GroupByExpr, SelectItem, SetExpr, TableFactor, visit_expressions_mut,
    };
    use std::ops::ControlFlow;
    let _ = visit_expressions_mut(statement, |e| {
        let Expr::Subquery(q) = e else {
            return ControlFlow::<()>::Continue(());
        };
        if q.order_by.is_some() || q.limit_clause.is_some() || q.with.is_some() {
            return ControlFlow::Continue(());
        }
        let SetExpr::Select(select) = q.body.as_mut() else {
            return ControlFlow::Continue(());
        };
        let catalog_only = !select.from.is_empty()
            && select.from.iter().all(|t| {
                std::iter::once(&t.relation)
                    .chain(t.joins.iter().map(|j| &j.relation))
                    .all(|r| match r {
                        TableFactor::Table { name, .. } => name
                            .0
                            .last()
                            .and_then(|p| p.as_ident())
                            .is_some_and(|i| i.value.starts_with("pg_")),
                        _ => false,
                    })
            });
        // Augur has no sequences: a scalar subquery over pg_sequence alone is NULL
        // (SQLAlchemy's identity lookup, whose regclass casts DataFusion cannot decorrelate)
        let only_sequences = select.from.len() == 1
            && select.from[0].joins.is_empty()
            && matches!(&select.from[0].relation, TableFactor::Table { name, .. }
                if name.0.last().and_then(|p| p.as_ident()).is_some_and(|i| i.value == "pg_sequence"));
        if catalog_only && only_sequences {
            *e = Expr::value(Value::Null);
            return ControlFlow::Continue(());
        }
        let grouped = !matches!(&select.group_by, GroupByExpr::Expressions(v, _) if v.is_empty());
        if !catalog_only || grouped || select.having.is_some() || select.projection.len() != 1 {
            return ControlFlow::Continue(());
        }
        let item = &mut select.projection[0];
        let (SelectItem::UnnamedExpr(inner) | SelectItem::ExprWithAlias { expr: inner, .. }) = item
        else {
            return ControlFlow::Continue(());
        };
        let text = inner.to_string();
        let lower = text.to_lowercase();
        if [
            "count(",
            "max(",
            "min(",
            "sum(",
            "avg(",
            "array_agg(",
            "bool_and(",
            "bool_or(",
            "string_agg(",
        ]
        .iter()
        .any(|a| lower.contains(a))
        {
            return ControlFlow::Continue(());
        }
        if let Ok(new) = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(&format!("max({text})"))
            .and_then(|mut p| p.parse_expr())
        {
            *inner = new;
        }
        // DataFusion cannot decorrelate a filter on the outer row alone
        // (`WHERE pg_attribute.atthasdef AND …`): such conditions move out,
        // `CASE WHEN <outer conditions> THEN (subquery) END`
        let local: Vec<String> = select
            .from
            .iter()
            .flat_map(|t| std::iter::once(&t.relation).chain(t.joins.iter().map(|j| &j.relation)))
            .filter_map(|r| match r {
                TableFactor::Table { name, alias, .. } => match alias {
                    Some(a) => Some(a.name.value.to_lowercase()),
                    None => name
                        .0
                        .last()
                        .and_then(|p| p.as_ident())
                        .map(|i| i.value.to_lowercase()),
                },
                _ => None,
            })
            .collect();
        let Some(selection) = select.selection.take() else {
            return ControlFlow::Continue(());
        };
        let mut conjuncts = Vec::new();
        split_and(selection, &mut conjuncts);
        let (outer, own): (Vec<Expr>, Vec<Expr>) = conjuncts
            .into_iter()
            .partition(|c| refers_only_outside(c, &local));
        select.selection = own.into_iter().reduce(|a, b| Expr::BinaryOp {
            left: Box::new(a),
            op: datafusion::sql::sqlparser::ast::BinaryOperator::And,
            right: Box::new(b),
        });
        if !outer.is_empty() {
            let condition = outer
                .iter()
                .map(|c| format!("({c})"))
                .collect::<Vec<_>>()
                .join(" AND ");
            if let Ok(new) = Parser::new(&PostgreSqlDialect {})
                .try_with_sql(&format!("CASE WHEN {condition} THEN ({q}) END"))
                .and_then(|mut p| p.parse_expr())
            {
                *e = new;
            }
        }
        ControlFlow::Continue(())
    });
}

fn split_and(e: Expr, out: &mut Vec<Expr>) {
    use datafusion::sql::sqlparser::ast::BinaryOperator;
    match e {
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            split_and(*left, out);
            split_and(*right, out);
        }
        Expr::Nested(inner)
            if matches!(
                *inner,
                Expr::BinaryOp {
                    op: BinaryOperator::And,
                    ..
                }
            ) =>
        {
            split_and(*inner, out)
        }
        other => out.push(other),
    }
}

/// Whether every column `e` names is qualified by a table that is not one of
/// `local` (and it names at least one): a condition on the outer row only.
fn refers_only_outside(e: &Expr, local: &[String]) -> bool {
    use datafusion::sql::sqlparser::ast::visit_expressions;
    use std::ops::ControlFlow;
    let mut any = false;
    let inside = visit_expressions(e, |x| match x {
        Expr::Identifier(_) | Expr::Subquery(_) | Expr::Exists { .. } | Expr::InSubquery { .. } => {
            ControlFlow::Break(())
        }
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
            any = true;
            if local.contains(&parts[parts.len() - 2].value.to_lowercase()) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
        _ => ControlFlow::Continue(()),
    });
    any && inside.is_continue()
}

/// `information_schema.columns` with PostgreSQL's type names: DataFusion's
/// view gives Arrow's (`Int64`, `Utf8View`); the query reads it through
/// `augur_pg_type_name` and adds `udt_name` (`int8`, `text`), which
/// Metabase, Grafana and pgcli read. `ordinal_position` counts from 1, as
/// PostgreSQL's (DataFusion's from 0).
const PG_COLUMNS_VIEW: &str = "SELECT table_catalog, table_schema, table_name, column_name, \
    ordinal_position + 1 AS ordinal_position, column_default, is_nullable, augur_pg_type_name(data_type) AS data_type, \
    character_maximum_length, character_octet_length, numeric_precision, numeric_precision_radix, \
    numeric_scale, datetime_precision, interval_type, augur_pg_udt_name(data_type) AS udt_name, \
    table_catalog AS udt_catalog, 'pg_catalog' AS udt_schema, \
    'NO' AS is_identity, 'NEVER' AS is_generated, 'YES' AS is_updatable \
    FROM information_schema.columns";

/// Catalog tables Augur adds to datafusion-pg-catalog's (which qualifies
/// only its own unqualified names): found without `pg_catalog.`.
const AUGUR_PG_CATALOG_TABLES: &[&str] = &["pg_stat_activity"];

/// `information_schema.columns` as above, and [`AUGUR_PG_CATALOG_TABLES`]
/// qualified.
struct PgInformationSchema;

impl datafusion::sql::sqlparser::ast::VisitorMut for PgInformationSchema {
    type Break = ();
    fn post_visit_table_factor(
        &mut self,
        factor: &mut datafusion::sql::sqlparser::ast::TableFactor,
    ) -> std::ops::ControlFlow<()> {
        use datafusion::sql::sqlparser::ast::{SetExpr, TableFactor};
        if let TableFactor::Table {
            name,
            alias,
            args: None,
            ..
        } = factor
        {
            let parts: Vec<String> = name
                .0
                .iter()
                .filter_map(|p| p.as_ident().map(|i| i.value.to_lowercase()))
                .collect();
            let n = parts.len();
            if n == 1 && AUGUR_PG_CATALOG_TABLES.contains(&parts[0].as_str()) {
                // pg_catalog is first on PostgreSQL's search path
                name.0.insert(
                    0,
                    datafusion::sql::sqlparser::ast::ObjectNamePart::Identifier(
                        datafusion::sql::sqlparser::ast::Ident::new("pg_catalog"),
                    ),
                );
            } else if n >= 2 && parts[n - 2] == "information_schema" && parts[n - 1] == "columns" {
                let alias = alias
                    .as_ref()
                    .map_or_else(|| "columns".to_string(), |a| a.to_string());
                let sql = format!("SELECT * FROM ({PG_COLUMNS_VIEW}) AS {alias}");
                if let Ok(Statement::Query(q)) = Parser::new(&PostgreSqlDialect {})
                    .try_with_sql(&sql)
                    .and_then(|mut p| p.parse_statement())
                    && let SetExpr::Select(select) = *q.body
                    && let Some(from) = select.from.into_iter().next()
                {
                    *factor = from.relation;
                }
            }
        }
        std::ops::ControlFlow::Continue(())
    }
}

/// `pg_typeof('a')`: a bare string literal is of type `unknown` in
/// PostgreSQL, but text in DataFusion; the call loses its argument, which
/// `pg_typeof` answers `unknown` (see `pg_functions::pg_typeof`).
fn untyped_literal_types(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{
        FunctionArg, FunctionArgExpr, FunctionArguments, visit_expressions_mut,
    };
    use std::ops::ControlFlow;
    let _ = visit_expressions_mut(statement, |e| {
        if let Expr::Function(f) = e
            && f.name.to_string().eq_ignore_ascii_case("pg_typeof")
            && let FunctionArguments::List(list) = &mut f.args
            && let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = list.args.as_slice()
            && matches!(
                arg,
                Expr::Value(v) if matches!(v.value, Value::SingleQuotedString(_))
            )
        {
            list.args.clear();
        }
        ControlFlow::<()>::Continue(())
    });
}

/// The name in `'t'::regclass` as the compatibility parser rewrote it (a
/// subquery of `pg_class`), when `e` is such a subquery.
fn regclass_lookup_name(e: &Expr) -> Option<String> {
    use datafusion::sql::sqlparser::ast::visit_expressions;
    use std::ops::ControlFlow;
    let Expr::Subquery(q) = e else {
        return None;
    };
    if !q
        .to_string()
        .starts_with("SELECT c.oid FROM pg_catalog.pg_class c ")
    {
        return None;
    }
    let mut name = None;
    let _ = visit_expressions(q.as_ref(), |x| {
        if let Expr::Function(f) = x
            && f.name.to_string().eq_ignore_ascii_case("parse_ident")
            && let Some(Expr::Cast { expr, .. }) = function_args(f).first()
            && let Expr::Value(v) = expr.as_ref()
            && let Value::SingleQuotedString(s) = &v.value
        {
            name = Some(s.clone());
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    });
    let name = name?;
    // the compatibility parser adds `LIMIT 1` to a subquery in a projection
    let text = q.to_string();
    let text = text.strip_suffix(" LIMIT 1").unwrap_or(&text);
    let expected = regclass_lookup(&name)?.to_string();
    (expected.strip_prefix('(').and_then(|t| t.strip_suffix(')')) == Some(text)).then_some(name)
}

fn function_args(f: &datafusion::sql::sqlparser::ast::Function) -> Vec<&Expr> {
    use datafusion::sql::sqlparser::ast::{FunctionArg, FunctionArgExpr, FunctionArguments};
    match &f.args {
        FunctionArguments::List(l) => l
            .args
            .iter()
            .filter_map(|a| match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(e)) => Some(e),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

/// `'name'::regclass` as the compatibility parser rewrites it.
fn regclass_lookup(name: &str) -> Option<Expr> {
    use datafusion::sql::sqlparser::ast::{SelectItem, SetExpr};
    use datafusion_postgres::datafusion_pg_catalog::sql::rules::{
        RewriteRegCastToSubquery, SqlStatementRewriteRule,
    };
    let text = format!(
        "SELECT {}::regclass",
        Value::SingleQuotedString(name.to_string())
    );
    let st = Parser::parse_sql(&PostgreSqlDialect {}, &text)
        .ok()?
        .pop()?;
    let Statement::Query(q) = RewriteRegCastToSubquery::new().rewrite(st) else {
        return None;
    };
    let SetExpr::Select(s) = *q.body else {
        return None;
    };
    match s.projection.into_iter().next()? {
        SelectItem::UnnamedExpr(e) => Some(e),
        _ => None,
    }
}

/// Relation names as PostgreSQL's `regclass` reads them:
/// - `'no_such_table'::regclass` is 42P01 `relation "no_such_table" does
///   not exist` (the compatibility parser's lookup gives NULL): the lookup
///   selects `coalesce(max(c.oid), augur_no_relation('no_such_table'))`,
///   whose second argument raises the error when no relation matches (the
///   aggregate makes the lookup one row, NULL when nothing matches);
/// - a string literal given to `pg_relation_size` or
///   `pg_total_relation_size` is a regclass (PostgreSQL coerces the
///   literal), with the same error for a missing relation.
fn regclass_names(statement: &mut Statement) {
    use datafusion::sql::sqlparser::ast::{
        FunctionArg, FunctionArgExpr, FunctionArguments, SelectItem, SetExpr, visit_expressions_mut,
    };
    use std::ops::ControlFlow;
    let checked = |name: &str| -> Option<Expr> {
        let Expr::Subquery(mut q) = regclass_lookup(name)? else {
            return None;
        };
        let SetExpr::Select(select) = q.body.as_mut() else {
            return None;
        };
        let quoted = Value::SingleQuotedString(name.to_string());
        let sql = format!(
            "coalesce(max(CASE WHEN n.nspname = 'pg_catalog' THEN c.oid END), max(c.oid), augur_no_relation({quoted}))"
        );
        let e = Parser::new(&PostgreSqlDialect {})
            .try_with_sql(&sql)
            .and_then(|mut p| p.parse_expr())
            .ok()?;
        select.projection = vec![SelectItem::UnnamedExpr(e)];
        // an unqualified name is looked up in pg_catalog too, which
        // PostgreSQL's search path always has (first)
        let _ = visit_expressions_mut(&mut select.selection, |x| {
            if x.to_string() == "n.nspname = current_schema()"
                && let Ok(e) = Parser::new(&PostgreSqlDialect {})
                    .try_with_sql("n.nspname IN ('pg_catalog', current_schema())")
                    .and_then(|mut p| p.parse_expr())
            {
                *x = e;
            }
            ControlFlow::<()>::Continue(())
        });
        Some(Expr::Subquery(q))
    };
    let _ = visit_expressions_mut(statement, |e| {
        if let Some(checked) = regclass_lookup_name(e).and_then(|n| checked(&n)) {
            *e = checked;
        } else if let Expr::Function(f) = e
            && ["pg_relation_size", "pg_total_relation_size"]
                .iter()
                .any(|n| f.name.to_string().eq_ignore_ascii_case(n))
            && let FunctionArguments::List(list) = &mut f.args
            && let [FunctionArg::Unnamed(FunctionArgExpr::Expr(arg))] = list.args.as_mut_slice()
            && let Expr::Value(v) = arg
            && let Value::SingleQuotedString(name) = &v.value
            && !name.bytes().all(|b| b.is_ascii_digit())
            && let Some(lookup) = checked(name)
        {
            *arg = lookup;
        }
        ControlFlow::<()>::Continue(())
    });
}

#[cfg(test)]
mod tests {
    use super::interval_clock_text;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn rewritten(sql: &str) -> String {
        let mut st = Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0);
        super::postgres_compat(&mut st);
        st.to_string()
    }

    #[test]
    fn decimal_literals_are_numeric_before_an_integer_cast() {
        assert_eq!(
            rewritten("SELECT 2.5::int, CAST(-1.5 AS bigint), 2::int, x::int"),
            "SELECT 2.5::NUMERIC::INT, CAST(-1.5::NUMERIC AS BIGINT), 2::INT, x::INT"
        );
    }

    #[test]
    fn float_is_double_precision() {
        assert_eq!(
            rewritten("SELECT 1.5::float, x::float(25), x::float(24), CAST(x AS float[])"),
            "SELECT 1.5::DOUBLE PRECISION, x::DOUBLE PRECISION, x::REAL, CAST(x AS DOUBLE PRECISION[])"
        );
        assert_eq!(
            rewritten("CREATE TABLE t (a float, b float(10))"),
            "CREATE TABLE t (a DOUBLE PRECISION, b REAL)"
        );
    }

    #[test]
    fn bare_user_and_regproc_joins() {
        assert_eq!(rewritten("SELECT user"), "SELECT current_user");
        assert_eq!(
            rewritten("SELECT \"user\" FROM t"),
            "SELECT \"user\" FROM t"
        );
        assert_eq!(
            rewritten(
                "SELECT 1 FROM pg_type AS typ LEFT JOIN pg_proc AS proc ON proc.oid = typ.typreceive"
            ),
            "SELECT 1 FROM pg_type AS typ LEFT JOIN pg_proc AS proc ON proc.proname = typ.typreceive"
        );
    }

    #[test]
    fn scalar_functions_in_from_are_one_row_tables() {
        assert_eq!(
            rewritten("SELECT s[i] FROM generate_series(1, 2) AS i, string_to_array('a,b', ',') s"),
            "SELECT s[i] FROM generate_series(1, 2) AS i (i), (SELECT string_to_array('a,b', ',') AS s) AS s"
        );
        assert_eq!(
            rewritten("SELECT * FROM pg_catalog.current_schemas(true) AS t(c)"),
            "SELECT * FROM (SELECT pg_catalog.current_schemas(true) AS c) AS t"
        );
        assert_eq!(
            rewritten("SELECT * FROM generate_series(1, 2)"),
            "SELECT * FROM generate_series(1, 2)"
        );
        // DataFusion's column name, where the query uses it
        assert_eq!(
            rewritten("SELECT a.value FROM generate_series(1, 2) AS a"),
            "SELECT a.value FROM generate_series(1, 2) AS a"
        );
    }

    #[test]
    fn subqueries_in_order_by_move_into_the_projection() {
        assert_eq!(
            rewritten(
                "SELECT a AS x FROM t ORDER BY CASE WHEN a IN (SELECT b FROM u) THEN 0 ELSE 1 END, 1 LIMIT 5"
            ),
            // (the IN then becomes an array lookup, see below)
            "SELECT * EXCLUDE (__augur_order_0) FROM (SELECT a AS x, CASE WHEN coalesce(array_has((SELECT array_agg(__augur_in.c) FROM (SELECT b FROM u) AS __augur_in (c)), a), false) THEN 0 ELSE 1 END AS __augur_order_0 FROM t) AS __augur_sorted ORDER BY __augur_order_0, 1 LIMIT 5"
        );
        // a sort key of the input (not an output column) is left alone
        assert_eq!(
            rewritten("SELECT a FROM t ORDER BY b IN (SELECT b FROM u), c"),
            "SELECT a FROM t ORDER BY b IN (SELECT b FROM u), c"
        );
    }

    #[test]
    fn in_subqueries_in_select_lists_become_array_lookups() {
        assert_eq!(
            rewritten(
                "SELECT CASE WHEN a IN (SELECT b FROM u) THEN 0 END FROM t WHERE a IN (SELECT b FROM u)"
            ),
            "SELECT CASE WHEN coalesce(array_has((SELECT array_agg(__augur_in.c) FROM (SELECT b FROM u) AS __augur_in (c)), a), false) THEN 0 END FROM t WHERE a IN (SELECT b FROM u)"
        );
    }

    #[test]
    fn interval_clocks_become_units() {
        assert_eq!(
            interval_clock_text("1 day 02:03:04").as_deref(),
            Some("1 day 02 hours 03 minutes 04 seconds")
        );
        assert_eq!(
            interval_clock_text("-01:30").as_deref(),
            Some("-01 hours -30 minutes")
        );
        assert_eq!(
            interval_clock_text("00:00:01.5").as_deref(),
            Some("00 hours 00 minutes 01.5 seconds")
        );
        assert_eq!(interval_clock_text("3 days"), None);
    }
}
