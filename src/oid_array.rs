//! `augur_oid_array(list)`: an array of integers as PostgreSQL's `oid[]`.
//!
//! Augur keeps oids as `Int32`; a column is an `oid` to clients when its
//! Arrow field carries arrow-pg's `pg.oid_alias` marker (catalog columns
//! such as `pg_attribute.atttypid`). DataFusion's `array_agg` and casts drop
//! field markers, so `array_agg(atttypid)` reaches clients as `integer[]`
//! where PostgreSQL answers `oid[]` (asyncpg then introspects `integer[]`
//! again and again). This function returns the same values as a list whose
//! items are marked `oid`, which the wire layer describes as `oid[]` (1028);
//! `src/sql/type_introspection.rs` wraps asyncpg's `array_agg(… atttypid …)`
//! in it.
//!
//! Argument: a list (`List`/`LargeList`) of integers or NULL; returns
//! `List(Int32 "oid")`, NULL for NULL. A value outside `Int32` is 22003;
//! another argument type is 42846 (cannot cast).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
    Volatility,
};

use crate::errors::SqlError;

/// The Arrow type of `oid[]`.
pub fn oid_array_type() -> DataType {
    DataType::List(Arc::new(
        Field::new("item", DataType::Int32, true).with_metadata(HashMap::from([(
            "pg.oid_alias".to_string(),
            "oid".to_string(),
        )])),
    ))
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct OidArray {
    signature: Signature,
}

/// The `augur_oid_array` function.
pub fn augur_oid_array() -> ScalarUDF {
    ScalarUDF::new_from_impl(OidArray {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

fn integer_list(t: &DataType) -> bool {
    match t {
        DataType::Null => true,
        DataType::List(item) | DataType::LargeList(item) => item.data_type().is_integer(),
        _ => false,
    }
}

impl ScalarUDFImpl for OidArray {
    fn name(&self) -> &str {
        "augur_oid_array"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(oid_array_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let t = args.arg_fields[0].data_type();
        if !integer_list(t) {
            return Err(DataFusionError::External(Box::new(SqlError::new(
                "42846",
                format!(
                    "cannot cast type {} to oid[]",
                    crate::errors::pg_type_names(&t.to_string())
                ),
            ))));
        }
        Ok(Arc::new(Field::new(self.name(), oid_array_type(), true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let to = oid_array_type();
        match &args.args[0] {
            ColumnarValue::Array(a) => Ok(ColumnarValue::Array(checked_cast(a, &to)?)),
            ColumnarValue::Scalar(s) => {
                let a = s.to_array_of_size(1)?;
                let cast = checked_cast(&a, &to)?;
                // (ScalarValue::try_from_array would rebuild the item field
                // without its marker)
                let list = datafusion::arrow::array::AsArray::as_list::<i32>(cast.as_ref());
                Ok(ColumnarValue::Scalar(
                    datafusion::common::ScalarValue::List(Arc::new(list.clone())),
                ))
            }
        }
    }
}

/// `a` as `to` (a list of oid-marked `Int32`); an integer that does not fit
/// is an error (22003), not NULL. Arrow's cast drops the item field's
/// marker, so the list is rebuilt around the cast values.
fn checked_cast(
    a: &datafusion::arrow::array::ArrayRef,
    to: &DataType,
) -> Result<datafusion::arrow::array::ArrayRef> {
    use datafusion::arrow::array::{Array, ListArray};
    use datafusion::arrow::compute::{CastOptions, cast_with_options};
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    let DataType::List(item) = to else {
        unreachable!("oid_array_type is a List")
    };
    let plain = DataType::List(Arc::new(Field::new("item", DataType::Int32, true)));
    let cast = cast_with_options(a, &plain, &options).map_err(|_| {
        DataFusionError::External(Box::new(SqlError::new("22003", "OID out of range")))
    })?;
    let list = cast
        .as_any()
        .downcast_ref::<ListArray>()
        .expect("cast to a List gives a ListArray");
    Ok(Arc::new(ListArray::try_new(
        Arc::clone(item),
        list.offsets().clone(),
        Arc::clone(list.values()),
        list.nulls().cloned(),
    )?))
}
