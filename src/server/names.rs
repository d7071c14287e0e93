//! Result column names as PostgreSQL gives them (`FigureColname` in
//! PostgreSQL's parser): an unaliased column keeps its name, a function call
//! is named after the function, a cast after its operand or else its type,
//! `CASE` is `case`, and anything else is `?column?`. DataFusion would name
//! them after the whole expression (`Int64(1)`, `count(*)`), which clients
//! show as column headers and use as dictionary keys.

use datafusion::sql::sqlparser::ast::{
    DataType, Expr, Ident, SelectItem, SetExpr, Statement, TrimWhereField,
};
use pgwire::api::results::FieldInfo;

/// The PostgreSQL name of each top-level select item of `statement` (an
/// alias as written, folded to lower case unless quoted), or `None` overall
/// when the statement is not a plain `SELECT` or has a wildcard (the number of
/// columns it stands for is not known here).
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
    select
        .projection
        .iter()
        .map(|item| item_name(item).map(Some))
        .collect()
}

/// PostgreSQL's name of one select item; `None` for a wildcard.
pub(crate) fn item_name(item: &SelectItem) -> Option<String> {
    match item {
        SelectItem::UnnamedExpr(e) => Some(expr_name(e).unwrap_or("?column?".into())),
        SelectItem::ExprWithAlias { alias, .. } => Some(ident_name(alias)),
        _ => None,
    }
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
    figure(e).map(|(name, _)| name)
}

/// A name and its strength, as in PostgreSQL's `FigureColnameInternal`: 2
/// for a column, function, subquery or `ARRAY[…]`, 1 for a cast's type or
/// `case`. (A boolean constant has no name since PostgreSQL 15: `SELECT
/// true` is `?column?`.) A cast whose operand's name is weaker
/// than 2 is named after its own type (`'1.5'::numeric::int` is `int4`,
/// `CASE … END::text` is `text`).
fn figure(e: &Expr) -> Option<(String, u8)> {
    match e {
        Expr::Identifier(i) => Some((ident_name(i), 2)),
        Expr::CompoundIdentifier(parts) => parts.last().map(|i| (ident_name(i), 2)),
        Expr::Function(f) => f
            .name
            .0
            .last()
            .and_then(|p| p.as_ident())
            .map(|i| (ident_name(i), 2)),
        Expr::Cast {
            expr, data_type, ..
        } => match figure(expr) {
            Some((name, 2)) => Some((name, 2)),
            _ => Some((type_name(data_type), 1)),
        },
        Expr::Nested(inner) => figure(inner),
        // named after its ELSE result when that has a strong name
        Expr::Case { else_result, .. } => match else_result.as_deref().and_then(figure) {
            Some((name, 2)) => Some((name, 2)),
            _ => Some(("case".into(), 1)),
        },
        Expr::Exists { .. } => Some(("exists".into(), 2)),
        Expr::Array(_) => Some(("array".into(), 2)),
        // the SQL-standard forms that PostgreSQL's grammar turns into calls
        // of its functions
        Expr::Substring { shorthand, .. } => {
            Some((if *shorthand { "substr" } else { "substring" }.into(), 2))
        }
        Expr::Trim { trim_where, .. } => Some((
            match trim_where {
                Some(TrimWhereField::Leading) => "ltrim",
                Some(TrimWhereField::Trailing) => "rtrim",
                _ => "btrim",
            }
            .into(),
            2,
        )),
        Expr::Position { .. } => Some(("position".into(), 2)),
        Expr::Extract { .. } => Some(("extract".into(), 2)),
        Expr::Ceil { .. } => Some(("ceil".into(), 2)),
        Expr::Floor { .. } => Some(("floor".into(), 2)),
        Expr::Overlay { .. } => Some(("overlay".into(), 2)),
        Expr::AtTimeZone { .. } => Some(("timezone".into(), 2)),
        Expr::Interval(_) => Some(("interval".into(), 1)),
        Expr::TypedString(t) => Some((type_name(&t.data_type), 1)),
        Expr::Subquery(q) => match pg_column_names(&Statement::Query(q.clone())) {
            Some(names) if names.len() == 1 => names[0].clone().map(|n| (n, 2)),
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

/// `fields` (described from `schema`) with the columns of PostgreSQL type
/// `name` — catalog columns such as `pg_class.relname`, tagged with
/// [`crate::pg_catalog::NAME_KEY`], and plain references to them — typed
/// `name` (19) instead of `text`. Both formats of `name` are the text's bytes.
pub fn name_typed(
    schema: &datafusion::arrow::datatypes::Schema,
    fields: Vec<FieldInfo>,
) -> Vec<FieldInfo> {
    if schema.fields().len() != fields.len() {
        return fields;
    }
    fields
        .into_iter()
        .zip(schema.fields())
        .map(|(f, arrow)| {
            if *f.datatype() == pgwire::api::Type::TEXT
                && arrow.metadata().contains_key(crate::pg_catalog::NAME_KEY)
            {
                retyped(&f, pgwire::api::Type::NAME)
            } else {
                f
            }
        })
        .collect()
}

/// `f` described as `t` (same name, table, column, format).
pub fn retyped(f: &FieldInfo, t: pgwire::api::Type) -> FieldInfo {
    FieldInfo::new(
        f.name().to_string(),
        f.table_id(),
        f.column_id(),
        t,
        f.format(),
    )
    .with_format_options(f.format_options().clone())
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
                "SELECT 1, 2.5::float8, NULL::text, 'x' || 'y', count(*), a.b, c, 1::integer, d::text, CASE WHEN true THEN 1 END, true, x AS y, pg_catalog.version(), '1.5'::numeric::int, CASE WHEN true THEN 1 END::text, count(*)::int, ARRAY[1]::text, CASE WHEN true THEN 1 ELSE c END"
            ),
            [
                "?column?", "float8", "text", "?column?", "count", "b", "c", "int4", "d", "case",
                "?column?", "y", "version", "int4", "text", "count", "array", "c"
            ]
        );
        // the SQL-standard forms of function calls, constants
        assert_eq!(
            names(
                "SELECT true::text, substring('abc' from 1 for 2), substring('abc',1,2), substr('abc', 1, 2), trim(' a '), trim(leading ' a'), trim(trailing 'a '), position('b' in 'abc'), extract(year from now()), ceil(1.5), ceiling(1.5), floor(1.5), overlay('abc' placing 'x' from 1), now() at time zone 'UTC', current_date, date '2020-01-01', interval '1 day', false, CASE WHEN true THEN true END, (true), NULL, upper('a'), now(), 1::int8, 'a'::text, ARRAY[1]"
            ),
            [
                "text",
                "substring",
                "substring",
                "substr",
                "btrim",
                "ltrim",
                "rtrim",
                "position",
                "extract",
                "ceil",
                "ceiling",
                "floor",
                "overlay",
                "timezone",
                "current_date",
                "date",
                "interval",
                "?column?",
                "case",
                "?column?",
                "?column?",
                "upper",
                "now",
                "int8",
                "text",
                "array"
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
