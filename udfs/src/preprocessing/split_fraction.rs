//! `split_fraction(key [, seed])`: a deterministic pseudo-random number in
//! [0, 1) per key, for reproducible train/test splits in plain SQL.
//!
//! - `key`: any type, read by its text form (e.g. a customer id).
//! - `seed`: integer literal, default 42; another seed gives another split.
//! - Returns float8; NULL key → NULL. The same key and seed give the same
//!   value on every machine and in every version (FNV-1a 64-bit hash of the
//!   text and the seed, finished with splitmix64), so
//!   `WHERE split_fraction(customer_id) < 0.2` selects the same 20 % of
//!   customers every time, whatever order the rows come in.
//! - Errors: 22023 when `seed` is not an integer literal.
//!
//! Example: `SELECT count(*) FROM telco_customers WHERE split_fraction(customer_id) < 0.2`

use std::sync::Arc;

use augur_ml::split::key_fraction;
use datafusion::arrow::array::{Array, AsArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::invalid;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SplitFraction {
    signature: Signature,
}

/// The `split_fraction` scalar function.
pub fn split_fraction() -> ScalarUDF {
    ScalarUDF::new_from_impl(SplitFraction {
        signature: Signature::one_of(
            vec![
                datafusion::logical_expr::TypeSignature::Any(1),
                datafusion::logical_expr::TypeSignature::Any(2),
            ],
            Volatility::Immutable,
        ),
    })
}

impl ScalarUDFImpl for SplitFraction {
    fn name(&self) -> &str {
        "split_fraction"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let seed = match args.args.get(1) {
            None => 42,
            Some(ColumnarValue::Scalar(s)) => match s.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(Some(v)) => v as u64,
                _ => return Err(invalid("split_fraction: seed must be an integer")),
            },
            Some(ColumnarValue::Array(_)) => {
                return Err(invalid(
                    "split_fraction: seed must be a literal, the same for every row",
                ));
            }
        };
        let keys = args.args[0].to_array(args.number_rows)?;
        let text = cast(&keys, &DataType::Utf8)?;
        let text = text.as_string::<i32>();
        let out: Float64Array = (0..text.len())
            .map(|i| text.is_valid(i).then(|| key_fraction(text.value(i), seed)))
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}
