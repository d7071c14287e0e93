//! Result column names as PostgreSQL gives them (`FigureColname` in
//! PostgreSQL's parser): an unaliased column keeps its name, a function call
//! is named after the function, a cast after its operand or else its type,
//! `CASE` is `case`, and anything else is `?column?`. DataFusion would name
//! them after the whole expression (`Int64(1)`, `count(*)`), which clients
//! show as column headers and use as dictionary keys.

use datafusion::sql::sqlparser::ast::{
    DataType, Expr, Ident, SelectItem, SetExpr, Statement, Value,
};
use pgwire::api::results::FieldInfo;

/// The PostgreSQL name of each top-level select item of `statement`, `None`
/// where DataFusion's name stands (aliases, wildcards expand to their columns),
/// or `None` overall when the statement is not a plain `SELECT`.
pub fn pg_column_names(statement: &Statement) -> Option<Vec<Option<String>>> {
    let Statement::Query(query) = statement else {
        return None;
    };
    let mut body = query.body.as_ref();
    // a UNION takes its names from its first branch
    loop {
        match body {
            SetExpr::SetOperation { left, .. } => body = left,
            SetExpr::Query(q) => body = q.body.as_ref(),
            _ => break,
        }
    }
    let SetExpr::Select(select) = body else {
        return None;
    };
    if let Some(name) = set_function_column(select) {
        return Some(vec![Some(name)]);
    }
    let mut names = Vec::with_capacity(select.projection.len());
    for item in &select.projection {
        match item {
            SelectItem::UnnamedExpr(e) => {
                names.push(Some(expr_name(e).unwrap_or("?column?".into())))
            }
            SelectItem::ExprWithAlias { .. } => names.push(None),
            // the number of columns a wildcard stands for is not known here
            _ => return None,
        }
    }
    Some(names)
}

/// PostgreSQL's set-returning functions of one scalar column, which name
/// that column after themselves (or after the table alias).
const SCALAR_SET_FUNCTIONS: &[&str] = &[
    "unnest",
    "generate_series",
    "generate_subscripts",
    "string_to_table",
    "regexp_split_to_table",
];

/// The column name of `SELECT * FROM f(…) [AS t[(c)]]` for a function of
/// [`SCALAR_SET_FUNCTIONS`]: `c`, else `t`, else `f`
/// (DataFusion would name it after the whole call, or `value`).
fn set_function_column(select: &datafusion::sql::sqlparser::ast::Select) -> Option<String> {
    use datafusion::sql::sqlparser::ast::TableFactor;
    if !matches!(select.projection.as_slice(), [SelectItem::Wildcard(_)]) {
        return None;
    }
    let [from] = select.from.as_slice() else {
        return None;
    };
    if !from.joins.is_empty() {
        return None;
    }
    let (name, alias) = match &from.relation {
        TableFactor::UNNEST {
            alias,
            array_exprs,
            with_offset: false,
            ..
        } if array_exprs.len() == 1 => ("unnest".to_string(), alias),
        TableFactor::Table {
            name,
            alias,
            args: Some(args),
            ..
        } => {
            let name = name.0.last()?.as_ident().map(ident_name)?;
            // unnest(a, b) has a column per array
            if name == "unnest" && args.args.len() != 1 {
                return None;
            }
            (name, alias)
        }
        _ => return None,
    };
    if !SCALAR_SET_FUNCTIONS.contains(&name.as_str()) {
        return None;
    }
    Some(match alias {
        Some(a) => match a.columns.as_slice() {
            [] => ident_name(&a.name),
            [c] => ident_name(&c.name),
            _ => return None,
        },
        None => name,
    })
}

fn expr_name(e: &Expr) -> Option<String> {
    match e {
        Expr::Identifier(i) => Some(ident_name(i)),
        Expr::CompoundIdentifier(parts) => parts.last().map(ident_name),
        Expr::Function(f) => f.name.0.last().and_then(|p| p.as_ident()).map(ident_name),
        Expr::Cast {
            expr, data_type, ..
        } => expr_name(expr).or_else(|| Some(type_name(data_type))),
        Expr::Nested(inner) => expr_name(inner),
        Expr::Case { .. } => Some("case".into()),
        Expr::Exists { .. } => Some("exists".into()),
        Expr::Array(_) => Some("array".into()),
        Expr::Value(v) if matches!(v.value, Value::Boolean(_)) => Some("bool".into()),
        Expr::TypedString(t) => Some(type_name(&t.data_type)),
        Expr::Subquery(q) => match pg_column_names(&Statement::Query(q.clone())) {
            Some(names) if names.len() == 1 => names[0].clone(),
            _ => None,
        },
        _ => None,
    }
}

/// Unquoted identifiers fold to lower case, as in PostgreSQL.
fn ident_name(i: &Ident) -> String {
    match i.quote_style {
        Some(_) => i.value.clone(),
        None => i.value.to_lowercase(),
    }
}

/// PostgreSQL's internal name of a type as written in a cast (`integer` → `int4`).
fn type_name(t: &DataType) -> String {
    let written = t.to_string().to_lowercase();
    let base = written.split('(').next().unwrap_or("").trim();
    let base = base.strip_prefix("pg_catalog.").unwrap_or(base);
    match base {
        "int" | "integer" | "int4" => "int4",
        "bigint" | "int8" => "int8",
        "smallint" | "int2" => "int2",
        "real" | "float4" => "float4",
        "double precision" | "float8" | "double" | "float" => "float8",
        "boolean" | "bool" => "bool",
        "character varying" | "varchar" => "varchar",
        "character" | "char" => "bpchar",
        "decimal" | "numeric" => "numeric",
        "timestamp with time zone" | "timestamptz" => "timestamptz",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "time" | "time without time zone" => "time",
        other => return other.to_string(),
    }
    .to_string()
}

/// `fields` with the PostgreSQL names put in, when `names` has one entry per field.
pub fn rename(fields: Vec<FieldInfo>, names: Option<&[Option<String>]>) -> Vec<FieldInfo> {
    let Some(names) = names.filter(|n| n.len() == fields.len()) else {
        return fields;
    };
    fields
        .into_iter()
        .zip(names)
        .map(|(f, name)| match name {
            Some(name) if name != f.name() => FieldInfo::new(
                name.clone(),
                f.table_id(),
                f.column_id(),
                f.datatype().clone(),
                f.format(),
            )
            .with_format_options(f.format_options().clone())
            .with_type_size(f.type_size())
            .with_type_modifier(f.type_modifier()),
            _ => f,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
    use datafusion::sql::sqlparser::parser::Parser;

    fn st(sql: &str) -> Statement {
        Parser::parse_sql(&PostgreSqlDialect {}, sql)
            .unwrap()
            .remove(0)
    }

    fn names(sql: &str) -> Vec<String> {
        pg_column_names(&st(sql))
            .unwrap()
            .into_iter()
            .map(|n| n.unwrap_or_else(|| "-".into()))
            .collect()
    }

    #[test]
    fn names_as_postgresql_15() {
        // each expected name is what PostgreSQL 15 answers
        assert_eq!(
            names(
                "SELECT 1, 2.5::float8, NULL::text, 'x' || 'y', count(*), a.b, c, 1::integer, d::text, CASE WHEN true THEN 1 END, true, x AS y, pg_catalog.version()"
            ),
            [
                "?column?", "float8", "text", "?column?", "count", "b", "c", "int4", "d", "case",
                "bool", "-", "version"
            ]
        );
        // a wildcard over a scalar set-returning function (pgcli's
        // `SELECT * FROM unnest(current_schemas(true))`)
        assert_eq!(
            names("SELECT * FROM unnest(current_schemas(true))"),
            ["unnest"]
        );
        assert_eq!(
            names("SELECT * FROM pg_catalog.generate_series(1, 3)"),
            ["generate_series"]
        );
        assert_eq!(names("SELECT * FROM unnest(ARRAY[1]) AS u"), ["u"]);
        assert_eq!(names("SELECT * FROM unnest(ARRAY[1]) AS u(v)"), ["v"]);
        assert!(pg_column_names(&st("SELECT * FROM unnest(ARRAY[1], ARRAY[2])")).is_none());
        assert!(pg_column_names(&st("SELECT * FROM customers")).is_none());
    }
}
