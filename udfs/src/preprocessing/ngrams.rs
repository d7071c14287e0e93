//! `ngrams(tokens, range [, separator])`: the n-grams of an array of tokens,
//! BigQuery ML's `ML.NGRAMS`.
//!
//! - `tokens`: array of text, e.g. `string_to_array(lower(review), ' ')`.
//! - `range`: array literal `[min_n, max_n]` (or `[n]`), 1 ≤ min_n ≤ max_n.
//! - `separator`: text literal joining the tokens of an n-gram, default `' '`.
//! - Returns an array of text: for each start position, the n-grams of
//!   length min_n … max_n (`ngrams(['a', 'b', 'c'], [1, 2])` =
//!   `[a, a b, b, b c, c]`). NULL tokens are skipped; a NULL array → NULL.
//! - Errors: 42804 when `tokens` is not an array of text; 22023 for a bad
//!   `range` or a non-literal separator.
//!
//! Example: `SELECT ngrams(string_to_array('not good at all', ' '), [2, 2])`

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, ListBuilder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};

use super::window::{is_text, type_name};
use crate::error::{invalid, sql_err, sqlstate};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Ngrams {
    signature: Signature,
}

/// The `ngrams` scalar function.
pub fn ngrams() -> ScalarUDF {
    ScalarUDF::new_from_impl(Ngrams {
        signature: Signature::one_of(
            vec![TypeSignature::Any(2), TypeSignature::Any(3)],
            Volatility::Immutable,
        ),
    })
}

fn text_list() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

/// `(min_n, max_n)` from the literal range array.
fn range(arg: &ColumnarValue) -> Result<(usize, usize)> {
    let bad = || {
        invalid("ngrams: range must be an array literal [min_n, max_n] with 1 <= min_n <= max_n")
    };
    let ColumnarValue::Scalar(s) = arg else {
        return Err(bad());
    };
    let a = s.to_array()?;
    let a = cast(
        &a,
        &DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
    )
    .map_err(|_| bad())?;
    let a = a.as_list::<i32>();
    if a.is_empty() || a.is_null(0) {
        return Err(bad());
    }
    let v = a.value(0);
    let v: Vec<Option<i64>> = v
        .as_primitive::<datafusion::arrow::datatypes::Int64Type>()
        .iter()
        .collect();
    let (lo, hi) = match v.as_slice() {
        [Some(n)] => (*n, *n),
        [Some(a), Some(b)] => (*a, *b),
        _ => return Err(bad()),
    };
    if lo < 1 || hi < lo {
        return Err(bad());
    }
    Ok((lo as usize, hi as usize))
}

impl ScalarUDFImpl for Ngrams {
    fn name(&self) -> &str {
        "ngrams"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first().unwrap_or(&DataType::Null) {
            DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _)
                if is_text(f.data_type()) => {}
            DataType::Null => {}
            other => {
                return Err(sql_err(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "ngrams: tokens must be an array of text, got {}",
                        type_name(other)
                    ),
                ));
            }
        }
        Ok(text_list())
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (lo, hi) = range(&args.args[1])?;
        let sep = match args.args.get(2) {
            None => " ".to_string(),
            Some(ColumnarValue::Scalar(
                ScalarValue::Utf8(Some(s))
                | ScalarValue::Utf8View(Some(s))
                | ScalarValue::LargeUtf8(Some(s)),
            )) => s.clone(),
            _ => return Err(invalid("ngrams: separator must be a text literal")),
        };
        let tokens = cast(&args.args[0].to_array(args.number_rows)?, &text_list())?;
        let tokens = tokens.as_list::<i32>();
        let mut out = ListBuilder::new(StringBuilder::new());
        for i in 0..tokens.len() {
            if tokens.is_null(i) {
                out.append_null();
                continue;
            }
            let row = tokens.value(i);
            let words: Vec<&str> = row.as_string::<i32>().iter().flatten().collect();
            for start in 0..words.len() {
                for n in lo..=hi {
                    if start + n > words.len() {
                        break;
                    }
                    out.values()
                        .append_value(words[start..start + n].join(&sep));
                }
            }
            out.append(true);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}
