//! `tf_idf(tokens [, top_k [, frequency_threshold]]) OVER (…)`: TF-IDF of
//! the terms of a tokenized document, BigQuery ML's `ML.TF_IDF`.
//!
//! - Arguments and dictionary as `bag_of_words` (unknown term = index 0).
//! - Returns `[{index bigint, value float8}]`, one element per distinct term
//!   of the document in index order, value = tf · idf with BigQuery's
//!   definitions: tf = count in the document / document length, idf =
//!   ln(1 + documents / (1 + documents containing the term)), documents
//!   counted over the window partition (NULL documents included).
//! - Errors: as `bag_of_words`.
//!
//! Example: `SELECT tf_idf(string_to_array(review, ' '), 100, 2) OVER () FROM reviews`

use std::collections::HashMap;

use datafusion::arrow::array::ArrayRef;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::WindowUDF;

use super::bag_of_words::{documents, documents_type, to_list};
use super::window::partition_function;

/// The `tf_idf` window function.
pub fn tf_idf() -> WindowUDF {
    partition_function("tf_idf", &[1, 2, 3], documents_type, compute)
}

fn compute(values: &ArrayRef, params: &[Option<ScalarValue>]) -> Result<ArrayRef> {
    let docs = documents(values, "tf_idf", params)?;
    let n = docs.len() as f64;
    let mut df: HashMap<i64, usize> = HashMap::new();
    for d in &docs {
        for i in d.keys() {
            *df.entry(*i).or_insert(0) += 1;
        }
    }
    let rows: Vec<Vec<(i64, f64)>> = docs
        .iter()
        .map(|d| {
            let len: usize = d.values().sum();
            d.iter()
                .map(|(i, c)| {
                    let idf = (1.0 + n / (1.0 + df[i] as f64)).ln();
                    (*i, *c as f64 / len as f64 * idf)
                })
                .collect()
        })
        .collect();
    Ok(to_list(&rows))
}
