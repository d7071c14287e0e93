//! `bag_of_words(tokens [, top_k [, frequency_threshold]]) OVER (…)`: the
//! term counts of a tokenized document, BigQuery ML's `ML.BAG_OF_WORDS`.
//!
//! - `tokens`: array of text (e.g. `string_to_array(lower(text), ' ')`).
//! - `top_k` (default 32000) and `frequency_threshold` (default 5): the
//!   dictionary keeps the terms seen at least `frequency_threshold` times in
//!   the partition, at most `top_k` most frequent, sorted alphabetically and
//!   numbered from 1; every other term is the unknown term, index 0.
//! - Returns `[{index bigint, value float8}]` (the `one_hot_encoder` type),
//!   one element per distinct term of the document in index order, value =
//!   its count in the document. NULL tokens are skipped; a NULL document
//!   gives an empty array.
//! - Errors: 42804 when `tokens` is not an array of text; 22023 for a bad
//!   `top_k` or `frequency_threshold`.
//!
//! Example: `SELECT bag_of_words(string_to_array(review, ' '), 100, 2) OVER () FROM reviews`

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int64Array, ListArray, StructArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use super::label_encoder::{vocabulary, vocabulary_params};
use super::one_hot_encoder::{output_type, struct_fields};
use super::window::{is_text, partition_function, type_name};
use crate::error::{invalid, sql_err, sqlstate};

/// The `bag_of_words` window function.
pub fn bag_of_words() -> WindowUDF {
    partition_function(
        "bag_of_words",
        &[1, 2, 3],
        documents_type,
        |values, params| {
            let docs = documents(values, "bag_of_words", params)?;
            Ok(to_list(
                &docs
                    .iter()
                    .map(|d| d.iter().map(|(i, n)| (*i, *n as f64)).collect())
                    .collect::<Vec<_>>(),
            ))
        },
    )
}

/// Return rule: an array of text in, `[{index, value}]` out.
pub fn documents_type(name: &str, types: &[DataType]) -> Result<DataType> {
    match types.first() {
        Some(DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _))
            if is_text(f.data_type()) =>
        {
            Ok(output_type())
        }
        Some(DataType::Null) => Ok(output_type()),
        Some(other) => Err(sql_err(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "{name}: the document must be an array of text tokens, got {}",
                type_name(other)
            ),
        )),
        None => Err(invalid(format!("{name}: missing the document argument"))),
    }
}

/// Each document's term counts by dictionary index (0 = unknown term).
pub fn documents(
    values: &ArrayRef,
    name: &str,
    params: &[Option<ScalarValue>],
) -> Result<Vec<BTreeMap<i64, usize>>> {
    let (top_k, threshold) = vocabulary_params(name, params, 0)?;
    let lists = cast(
        values,
        &DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
    )?;
    let lists = lists.as_list::<i32>();
    let docs: Vec<Vec<String>> = (0..lists.len())
        .map(|i| {
            if lists.is_null(i) {
                return vec![];
            }
            let v = lists.value(i);
            v.as_string::<i32>()
                .iter()
                .flatten()
                .map(str::to_owned)
                .collect()
        })
        .collect();
    let all: Vec<Option<String>> = docs.iter().flatten().cloned().map(Some).collect();
    let vocab = vocabulary(&all, top_k, threshold);
    Ok(docs
        .iter()
        .map(|d| {
            let mut counts = BTreeMap::new();
            for t in d {
                *counts
                    .entry(vocab.get(t).copied().unwrap_or(0))
                    .or_insert(0) += 1;
            }
            counts
        })
        .collect())
}

/// Rows of `(index, value)` pairs as a list of structs.
pub fn to_list(rows: &[Vec<(i64, f64)>]) -> ArrayRef {
    let index: Int64Array = rows.iter().flatten().map(|p| Some(p.0)).collect();
    let value: Float64Array = rows.iter().flatten().map(|p| Some(p.1)).collect();
    let structs = StructArray::new(
        struct_fields(),
        vec![Arc::new(index) as ArrayRef, Arc::new(value)],
        None,
    );
    Arc::new(ListArray::new(
        Arc::new(Field::new_list_field(
            DataType::Struct(struct_fields()),
            true,
        )),
        OffsetBuffer::from_lengths(rows.iter().map(Vec::len)),
        Arc::new(structs),
        None,
    ))
}
