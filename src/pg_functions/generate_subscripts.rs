//! `generate_subscripts(anyarray, dim int4 [, reverse bool]) → SETOF int4`:
//! the subscripts of the array's dimension `dim`, ascending (descending when
//! `reverse` is true). Augur's arrays are one-dimensional lists subscripted
//! from 1, so dimension 1 gives 1‥length and any other dimension no rows, as
//! PostgreSQL for a dimension the array lacks; a NULL array, dimension or
//! `reverse`, or an empty array, gives no rows. SQLAlchemy's Inspector
//! (`get_pk_constraint`, `get_unique_constraints`, `get_indexes`, which
//! Superset calls) numbers `pg_index.indkey` with it.
//!
//! Set-returning in PostgreSQL; here a scalar function giving the subscripts
//! as an `int4` list, which the select-list rewrite (`set_returning` in
//! [`crate::sql`]) unnests into rows. Errors: 42883 when the first argument
//! is not an array.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, BooleanArray, Int32Builder, Int64Array, ListBuilder,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

use super::pg_expandarray::{as_list, element_type};

#[derive(Debug, PartialEq, Eq, Hash)]
struct GenerateSubscripts {
    signature: Signature,
}

impl ScalarUDFImpl for GenerateSubscripts {
    fn name(&self) -> &str {
        "generate_subscripts"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        if element_type(&args[0]).is_none() {
            return Err(DataFusionError::Plan(format!(
                "function generate_subscripts({}) does not exist",
                args.iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(DataType::List(Arc::new(Field::new_list_field(
            DataType::Int32,
            true,
        ))))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let arrays = ColumnarValue::values_to_arrays(&args.args)?;
        let element = element_type(arrays[0].data_type())
            .ok_or_else(|| DataFusionError::Internal("generate_subscripts argument".into()))?;
        let list = as_list(&arrays[0], &element)?;
        let dims = cast(&arrays[1], &DataType::Int64)?;
        let dims = dims
            .as_any()
            .downcast_ref::<Int64Array>()
            .ok_or_else(|| DataFusionError::Internal("dimension argument".into()))?;
        let reverse: Option<ArrayRef> = match arrays.get(2) {
            Some(r) => Some(cast(r, &DataType::Boolean)?),
            None => None,
        };
        let reverse = reverse
            .as_ref()
            .and_then(|r| r.as_any().downcast_ref::<BooleanArray>());
        let mut out = ListBuilder::new(Int32Builder::new());
        for i in 0..list.len() {
            let rev = match reverse {
                Some(r) if r.is_null(i) => None,
                Some(r) => Some(r.value(i)),
                None => Some(false),
            };
            if let (false, false, Some(rev)) = (list.is_null(i), dims.is_null(i), rev)
                && dims.value(i) == 1
            {
                let n = list.value(i).len() as i32;
                if rev {
                    out.values().extend((1..=n).rev().map(Some));
                } else {
                    out.values().extend((1..=n).map(Some));
                }
            }
            out.append(true);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

pub fn udf() -> ScalarUDF {
    ScalarUDF::new_from_impl(GenerateSubscripts {
        signature: Signature::one_of(
            vec![TypeSignature::Any(2), TypeSignature::Any(3)],
            Volatility::Immutable,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{AsArray, Int64Array, ListArray};
    use datafusion::arrow::datatypes::{Int16Type, Int32Type};

    fn run(args: Vec<ArrayRef>) -> Vec<Vec<i32>> {
        let types: Vec<DataType> = args.iter().map(|a| a.data_type().clone()).collect();
        let f = udf();
        let rows = args[0].len();
        let out = f
            .invoke_with_args(ScalarFunctionArgs {
                arg_fields: types
                    .iter()
                    .map(|t| Arc::new(Field::new("a", t.clone(), true)))
                    .collect(),
                args: args.into_iter().map(ColumnarValue::Array).collect(),
                number_rows: rows,
                return_field: Arc::new(Field::new("r", f.return_type(&types).unwrap(), true)),
                config_options: Arc::new(Default::default()),
            })
            .unwrap()
            .into_array(rows)
            .unwrap();
        let out = out.as_list::<i32>();
        (0..rows)
            .map(|i| out.value(i).as_primitive::<Int32Type>().values().to_vec())
            .collect()
    }

    #[test]
    fn subscripts_of_dimension_one() {
        // PostgreSQL 15: generate_subscripts(ARRAY[5,6,7], 1) → 1,2,3; with
        // reverse → 3,2,1; dimension 2 of a 1-D array, NULL and '{}' → no rows
        let arrays = || -> ArrayRef {
            Arc::new(ListArray::from_iter_primitive::<Int16Type, _, _>(vec![
                Some(vec![Some(5), Some(6), Some(7)]),
                Some(vec![Some(5), Some(6), Some(7)]),
                None,
                Some(vec![]),
            ]))
        };
        let dims: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 1, 1]));
        assert_eq!(
            run(vec![arrays(), dims.clone()]),
            [vec![1, 2, 3], vec![], vec![], vec![]]
        );
        let rev: ArrayRef = Arc::new(BooleanArray::from(vec![true, true, true, true]));
        assert_eq!(
            run(vec![arrays(), dims, rev]),
            [vec![3, 2, 1], vec![], vec![], vec![]]
        );
    }
}
