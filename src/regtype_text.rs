//! `augur_regtype_text(oid)`: a type oid as PostgreSQL prints a `regtype`
//! (`regtypeout`), which `x::regtype::text` is rewritten to call
//! (`src/sql/type_introspection.rs`; psycopg's `TypeInfo` and asyncpg's type
//! introspection read type names this way). DataFusion keeps a `regtype` as
//! its integer oid, so the cast alone would print `700` where PostgreSQL
//! prints `real`.
//!
//! Argument: an integer oid (`Int32`/`Int64`); returns `Utf8`: `-` for 0,
//! the SQL name `format_type(oid, NULL)` gives for a built-in type (`real`,
//! `integer[]`, `character varying`, `"char"`), the type's name — qualified
//! by its schema outside `pg_catalog` and `public`
//! (`information_schema.cardinal_number`) — for other types in `pg_type`,
//! and the number itself for an oid `pg_type` does not have. NULL for NULL.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type};
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};
use datafusion::prelude::SessionContext;

/// The `augur_regtype_text` function over the types of `ctx`'s `pg_type`.
pub async fn regtype_text(ctx: &SessionContext) -> Result<ScalarUDF> {
    let batches = ctx
        .sql(
            "SELECT CAST(t.oid AS BIGINT), format_type(t.oid, NULL), t.typname, n.nspname \
             FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace",
        )
        .await?
        .collect()
        .await?;
    let mut names: HashMap<i64, String> = HashMap::new();
    for b in &batches {
        let text = |i: usize| cast(b.column(i), &DataType::Utf8);
        let (formatted, typname, nspname) = (text(1)?, text(2)?, text(3)?);
        let (formatted, typname, nspname) = (
            formatted.as_string::<i32>(),
            typname.as_string::<i32>(),
            nspname.as_string::<i32>(),
        );
        let oids = b.column(0).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            if oids.is_null(i) || typname.is_null(i) {
                continue;
            }
            let f = formatted.is_valid(i).then(|| formatted.value(i));
            let name = match f {
                Some(f) if !f.starts_with("oid(") && f != "???" && f != "-" => f.to_string(),
                _ => match nspname.is_valid(i).then(|| nspname.value(i)) {
                    Some("pg_catalog") | Some("public") | None => typname.value(i).to_string(),
                    Some(schema) => format!("{schema}.{}", typname.value(i)),
                },
            };
            names.entry(oids.value(i)).or_insert(name);
        }
    }
    let names = Arc::new(names);
    Ok(create_udf(
        "augur_regtype_text",
        vec![DataType::Int64],
        DataType::Utf8,
        Volatility::Stable,
        Arc::new(move |args: &[ColumnarValue]| {
            let args = ColumnarValue::values_to_arrays(args)?;
            let oids = cast(&args[0], &DataType::Int64)?;
            let out: StringArray = oids
                .as_primitive::<Int64Type>()
                .iter()
                .map(|o| {
                    o.map(|o| match o {
                        0 => "-".to_string(),
                        o => names.get(&o).cloned().unwrap_or_else(|| o.to_string()),
                    })
                })
                .collect();
            Ok(ColumnarValue::Array(Arc::new(out)))
        }),
    ))
}
