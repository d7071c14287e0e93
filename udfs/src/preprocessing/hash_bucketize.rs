//! `hash_bucketize(x, num_buckets)`: a category hashed into one of
//! `num_buckets` buckets, like BigQuery ML's `ML.HASH_BUCKETIZE`.
//!
//! - `x`: any type, read by its text form; `num_buckets`: integer literal ≥ 1.
//! - Returns bigint in [0, num_buckets): `floor(h · num_buckets)` where h is
//!   the same stable hash fraction as `split_fraction(x, 0)` (FNV-1a 64 and
//!   splitmix64). BigQuery uses FarmHash fingerprints, so the bucket numbers
//!   differ from BigQuery's; they are stable across machines and versions.
//!   NULL → NULL.
//! - Errors: 22023 when `num_buckets` is not a positive integer literal.
//!
//! Example: `SELECT hash_bucketize(payment_method, 8) FROM telco_customers`

use std::sync::Arc;

use augur_ml::split::key_fraction;
use datafusion::arrow::array::{Array, AsArray, Int64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::error::invalid;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct HashBucketize {
    signature: Signature,
}

/// The `hash_bucketize` scalar function.
pub fn hash_bucketize() -> ScalarUDF {
    ScalarUDF::new_from_impl(HashBucketize {
        signature: Signature::any(2, Volatility::Immutable),
    })
}

impl ScalarUDFImpl for HashBucketize {
    fn name(&self) -> &str {
        "hash_bucketize"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let buckets = match &args.args[1] {
            ColumnarValue::Scalar(s) if s.data_type().is_integer() => {
                match s.cast_to(&DataType::Int64)? {
                    ScalarValue::Int64(Some(k)) if k >= 1 => k,
                    _ => return Err(invalid("hash_bucketize: num_buckets must be 1 or more")),
                }
            }
            _ => {
                return Err(invalid(
                    "hash_bucketize: num_buckets must be an integer literal, e.g. 16",
                ));
            }
        };
        let keys = cast(&args.args[0].to_array(args.number_rows)?, &DataType::Utf8)?;
        let keys = keys.as_string::<i32>();
        let out: Int64Array = (0..keys.len())
            .map(|i| {
                keys.is_valid(i).then(|| {
                    ((key_fraction(keys.value(i), 0) * buckets as f64) as i64).min(buckets - 1)
                })
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}
