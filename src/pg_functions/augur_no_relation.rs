//! `augur_no_relation(name text) → oid` (internal): fails with PostgreSQL's
//! error for a relation name that `regclass` cannot resolve. The SQL
//! rewrites call it where the lookup of `'name'::regclass` (or of a name
//! given to `pg_relation_size`) finds nothing:
//! `coalesce(lookup, augur_no_relation('name'))`.
//!
//! - Returns an int4 oid type so that it fits the lookup; it never returns.
//!   Volatile, so that it is not evaluated while the plan is simplified,
//!   only where `coalesce` reaches it.
//! - NULL `name` gives NULL (nothing to report).
//! - Errors: 42P01 `relation "name" does not exist`.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{ColumnarValue, ScalarUDF, Volatility, create_udf};

use crate::errors::SqlError;

/// The `augur_no_relation` scalar function.
pub fn augur_no_relation() -> ScalarUDF {
    create_udf(
        "augur_no_relation",
        vec![DataType::Utf8],
        DataType::Int32,
        Volatility::Volatile,
        Arc::new(|args: &[ColumnarValue]| {
            let arrays = ColumnarValue::values_to_arrays(args)?;
            let names = datafusion::common::cast::as_string_array(&arrays[0])?;
            if let Some(name) = names.iter().flatten().next() {
                return Err(DataFusionError::External(Box::new(SqlError::new(
                    "42P01",
                    format!("relation \"{name}\" does not exist"),
                ))));
            }
            Ok(ColumnarValue::Scalar(ScalarValue::Int32(None)))
        }),
    )
}
