//! `bucketize(x, split_points [, exclude_boundaries])`: the bucket of a number
//! between given split points, BigQuery ML's `ML.BUCKETIZE`.
//!
//! - `x`: any numeric type.
//! - `split_points`: an array of finite numbers in ascending order, e.g.
//!   `[0, 12, 24]` (may differ per row).
//! - `exclude_boundaries`: boolean literal, default false; when true the
//!   first and last split points are dropped, so values below the second
//!   point and above the second-to-last share the end buckets.
//! - Returns text `bin_<i>`, i = 1 + the number of split points ≤ x
//!   (`bucketize(2.5, [1, 2, 3])` = `bin_3`, with `true`: `bin_2`).
//!   NULL `x` or NULL `split_points` → NULL.
//! - Errors: 42804 when `x` is not numeric or `split_points` not an array;
//!   22023 for unsorted or non-finite split points.
//!
//! Example: `SELECT bucketize(tenure, [12, 24, 48]) FROM telco_customers`

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Float64Type};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

use super::window::{is_numeric, type_name};
use crate::error::{invalid, sql_err, sqlstate};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Bucketize {
    signature: Signature,
}

/// The `bucketize` scalar function.
pub fn bucketize() -> ScalarUDF {
    ScalarUDF::new_from_impl(Bucketize {
        signature: Signature::one_of(
            vec![TypeSignature::Any(2), TypeSignature::Any(3)],
            Volatility::Immutable,
        ),
    })
}

fn float_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true)))
}

/// Checks a row's split points: finite and ascending.
fn check_splits(splits: &[Option<f64>]) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(splits.len());
    for s in splits {
        match s {
            Some(x) if x.is_finite() => out.push(*x),
            _ => {
                return Err(invalid(
                    "bucketize: split points must be finite numbers, not NULL, NaN or infinity",
                ));
            }
        }
    }
    if out.windows(2).any(|w| w[0] > w[1]) {
        return Err(invalid(format!(
            "bucketize: split points must be in ascending order, got {out:?}"
        )));
    }
    Ok(out)
}

impl ScalarUDFImpl for Bucketize {
    fn name(&self) -> &str {
        "bucketize"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        if arg_types.len() < 2 {
            return Err(invalid(
                "bucketize takes an expression and an array of split points",
            ));
        }
        if !is_numeric(&arg_types[0]) {
            return Err(sql_err(
                sqlstate::DATATYPE_MISMATCH,
                format!(
                    "bucketize: the expression must be numeric, got {}",
                    type_name(&arg_types[0])
                ),
            ));
        }
        match &arg_types[1] {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)
                if is_numeric(f.data_type()) => {}
            other => {
                return Err(sql_err(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "bucketize: split_points must be an array of numbers like [1, 2, 3], got {}",
                        type_name(other)
                    ),
                ));
            }
        }
        Ok(DataType::Utf8)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let exclude = match args.args.get(2) {
            None => false,
            Some(ColumnarValue::Scalar(ScalarValue::Boolean(Some(b)))) => *b,
            _ => {
                return Err(invalid(
                    "bucketize: exclude_boundaries must be a boolean literal",
                ));
            }
        };
        let x = cast(&args.args[0].to_array(n)?, &DataType::Float64)?;
        let x = x.as_primitive::<Float64Type>();
        // one literal array of split points is checked once
        let constant = match &args.args[1] {
            ColumnarValue::Scalar(s) => Some(s.is_null()),
            ColumnarValue::Array(_) => None,
        };
        let lists = cast(
            &args.args[1].to_array(if constant.is_some() { 1 } else { n })?,
            &float_list(),
        )?;
        let lists = lists.as_list::<i32>();
        let row_splits = |i: usize| -> Result<Option<Vec<f64>>> {
            if lists.is_null(i) {
                return Ok(None);
            }
            let v = lists.value(i);
            let v: Vec<Option<f64>> = v.as_primitive::<Float64Type>().iter().collect();
            let mut s = check_splits(&v)?;
            if exclude {
                if s.len() >= 2 {
                    s = s[1..s.len() - 1].to_vec();
                } else {
                    s.clear();
                }
            }
            Ok(Some(s))
        };
        let fixed = if constant.is_some() {
            Some(row_splits(0)?)
        } else {
            None
        };
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let splits = match &fixed {
                Some(s) => s.clone(),
                None => row_splits(i)?,
            };
            out.push(match (x.is_valid(i), splits) {
                (true, Some(s)) => {
                    let v = x.value(i);
                    Some(augur_ml::stats::bucket_label(&s, v))
                }
                _ => None,
            });
        }
        Ok(ColumnarValue::Array(Arc::new(StringArray::from(out))))
    }
}
