//! `information_schema._pg_expandarray(anyarray) → SETOF record (x anyelement,
//! n int4)`: each element of a one-dimensional array with its position,
//! counted from 1 (PostgreSQL's definition in `information_schema.sql`).
//! pgjdbc's `getPrimaryKeys`, `getIndexInfo` and `getBestRowIdentifier`
//! expand `pg_index.indkey` with it: `(information_schema._pg_expandarray(
//! i.indkey)).n`.
//!
//! Set-returning in PostgreSQL; here a scalar function giving the rows as a
//! list of structs `{x, n}`, which the select-list rewrite of
//! [`crate::sql`] (`set_returning`) unnests — so `SELECT _pg_expandarray(a)`
//! gives one row per element, as in PostgreSQL, and `(…).x`, `(…).n` read
//! the fields. A NULL or empty array gives no rows (an empty list). Errors:
//! 42883 when the argument is not an array.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, Int32Array, ListArray, StructArray};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// The element type of the array type `t`, if it is one (`NULL` counts as
/// an array of NULLs).
pub(crate) fn element_type(t: &DataType) -> Option<DataType> {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => {
            Some(f.data_type().clone())
        }
        DataType::Null => Some(DataType::Null),
        _ => None,
    }
}

/// `arr` as a `ListArray` (from a large or fixed-size list, or all-NULL).
pub(crate) fn as_list(arr: &ArrayRef, element: &DataType) -> Result<ListArray> {
    let t = DataType::List(Arc::new(Field::new_list_field(element.clone(), true)));
    let list = cast(arr, &t)?;
    list.as_any()
        .downcast_ref::<ListArray>()
        .cloned()
        .ok_or_else(|| DataFusionError::Internal("list argument".into()))
}

fn fields(element: &DataType) -> Fields {
    Fields::from(vec![
        Field::new("x", element.clone(), true),
        Field::new("n", DataType::Int32, false),
    ])
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct PgExpandArray {
    signature: Signature,
}

impl ScalarUDFImpl for PgExpandArray {
    fn name(&self) -> &str {
        "_pg_expandarray"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        let element = element_type(&args[0]).ok_or_else(|| {
            DataFusionError::Plan(format!(
                "function information_schema._pg_expandarray({}) does not exist",
                args[0]
            ))
        })?;
        Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Struct(fields(&element)),
            true,
        ))))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let element = element_type(arrays[0].data_type())
            .ok_or_else(|| DataFusionError::Internal("_pg_expandarray argument".into()))?;
        let list = as_list(&arrays[0], &element)?;
        // NULL and empty arrays both become empty lists: no rows
        let mut kept_values: Vec<ArrayRef> = Vec::new();
        let mut kept_n: Vec<i32> = Vec::new();
        let mut lengths = Vec::with_capacity(list.len());
        for i in 0..list.len() {
            if list.is_null(i) {
                lengths.push(0);
                continue;
            }
            let v = list.value(i);
            kept_n.extend(1..=v.len() as i32);
            lengths.push(v.len());
            kept_values.push(v);
        }
        let x: ArrayRef = if kept_values.is_empty() {
            datafusion::arrow::array::new_empty_array(&element)
        } else {
            let refs: Vec<&dyn Array> = kept_values.iter().map(|a| a.as_ref()).collect();
            datafusion::arrow::compute::concat(&refs)?
        };
        let rows = StructArray::try_new(
            fields(&element),
            vec![x, Arc::new(Int32Array::from(kept_n))],
            None,
        )?;
        let out = ListArray::try_new(
            Arc::new(Field::new_list_field(rows.data_type().clone(), true)),
            OffsetBuffer::from_lengths(lengths),
            Arc::new(rows),
            None,
        )?;
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// The function, registered as `_pg_expandarray` (clients' qualifier
/// `information_schema.` is dropped by the SQL front end).
pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(PgExpandArray {
        signature: Signature::any(1, Volatility::Immutable),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, Int16Array};
    use datafusion::arrow::datatypes::Int16Type;

    #[test]
    fn elements_with_their_positions() {
        // PostgreSQL 15: SELECT * FROM information_schema._pg_expandarray(ARRAY[3,1,2]::int2[])
        //  → (3,1) (1,2) (2,3); NULL → no rows; '{}' → no rows
        let lists = ListArray::from_iter_primitive::<Int16Type, _, _>(vec![
            Some(vec![Some(3), Some(1), Some(2)]),
            None,
            Some(vec![]),
            Some(vec![Some(7), None]),
        ]);
        let t = lists.data_type().clone();
        let f = udf();
        let out = f
            .invoke_with_args(ScalarFunctionArgs {
                args: vec![ColumnarValue::Array(Arc::new(lists))],
                arg_fields: vec![Arc::new(Field::new("a", t.clone(), true))],
                number_rows: 4,
                return_field: Arc::new(Field::new("r", f.return_type(&[t]).unwrap(), true)),
                config_options: Arc::new(Default::default()),
            })
            .unwrap()
            .into_array(4)
            .unwrap();
        let out = out.as_list::<i32>();
        let lens: Vec<usize> = (0..4).map(|i| out.value(i).len()).collect();
        assert_eq!(lens, [3, 0, 0, 2]);
        let first = out.value(0);
        let s = first.as_struct();
        let x = s.column(0).as_any().downcast_ref::<Int16Array>().unwrap();
        let n = s
            .column(1)
            .as_primitive::<datafusion::arrow::datatypes::Int32Type>();
        assert_eq!(x.values().to_vec(), [3, 1, 2]);
        assert_eq!(n.values().to_vec(), [1, 2, 3]);
        let last = out.value(3);
        let s = last.as_struct();
        assert!(s.column(0).is_null(1));
        assert_eq!(
            s.column(1)
                .as_primitive::<datafusion::arrow::datatypes::Int32Type>()
                .values()
                .to_vec(),
            [1, 2]
        );
    }
}
