//! `pg_typeof(any) → regtype`: the PostgreSQL name of the type of its
//! argument, as `format_type` writes it (`integer`, `bigint`, `text`,
//! `double precision`, `timestamp with time zone`, `integer[]`).
//!
//! - The argument may be of any type and is not evaluated for its value:
//!   NULL gives the type of the NULL (`pg_typeof(NULL::int8)` is `bigint`);
//!   an untyped NULL and an untyped string literal (`pg_typeof('a')`) are
//!   `unknown`, as in PostgreSQL (the SQL rewrites call the function
//!   without argument for a bare string literal, which DataFusion types as
//!   text).
//! - Returns text (PostgreSQL's regtype prints the same name; Augur has no
//!   regtype values, so the column's type is text, OID 25).
//! - The type is Augur's: a decimal literal such as `1.5` is computed as a
//!   float and is `double precision` (PostgreSQL: `numeric`), and
//!   `varchar` is `text`.
//! - Errors: 42883 (no such function) for more than one argument.
//!
//! Example: `SELECT pg_typeof(tenure), pg_typeof(sum(tenure)) FROM telco_customers`

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PgTypeof {
    signature: Signature,
}

/// The `pg_typeof` scalar function.
pub fn pg_typeof() -> ScalarUDF {
    ScalarUDF::new_from_impl(PgTypeof {
        signature: Signature::one_of(
            vec![TypeSignature::Any(1), TypeSignature::Nullary],
            Volatility::Immutable,
        ),
    })
}

/// PostgreSQL's name of an Arrow type (`format_type`).
pub fn type_name(t: &DataType) -> String {
    match t {
        DataType::Null => "unknown".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "smallint".into(),
        DataType::Int32 | DataType::UInt16 => "integer".into(),
        DataType::Int64 | DataType::UInt32 => "bigint".into(),
        DataType::UInt64 | DataType::Decimal128(_, _) | DataType::Decimal256(_, _) => {
            "numeric".into()
        }
        DataType::Float16 | DataType::Float32 => "real".into(),
        DataType::Float64 => "double precision".into(),
        DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8 => "text".into(),
        DataType::Binary | DataType::BinaryView | DataType::LargeBinary => "bytea".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Timestamp(_, Some(_)) => "timestamp with time zone".into(),
        DataType::Timestamp(_, None) => "timestamp without time zone".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time without time zone".into(),
        DataType::Interval(_) | DataType::Duration(_) => "interval".into(),
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::FixedSizeList(f, _) => format!("{}[]", type_name(f.data_type())),
        DataType::Dictionary(_, v) => type_name(v),
        _ => "record".into(),
    }
}

impl ScalarUDFImpl for PgTypeof {
    fn name(&self) -> &str {
        "pg_typeof"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let name = match args.arg_fields.first() {
            Some(f) => type_name(f.data_type()),
            None => "unknown".into(),
        };
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(name))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::datatypes::{Field, TimeUnit};
    use std::sync::Arc;

    #[test]
    fn names_as_format_type() {
        // PostgreSQL 15's pg_typeof of 1, 1::int8, 'a'::text, 1.5::float8,
        // NULL, now(), ARRAY[1], 1::int2, 1::float4
        let cases = [
            (DataType::Int32, "integer"),
            (DataType::Int64, "bigint"),
            (DataType::Utf8, "text"),
            (DataType::Float64, "double precision"),
            (DataType::Null, "unknown"),
            (
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                "timestamp with time zone",
            ),
            (
                DataType::List(Arc::new(Field::new("item", DataType::Int32, true))),
                "integer[]",
            ),
            (DataType::Int16, "smallint"),
            (DataType::Float32, "real"),
        ];
        for (t, want) in cases {
            assert_eq!(type_name(&t), want, "{t}");
        }
    }
}
