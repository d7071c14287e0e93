//! Text embeddings and vector functions: `embed`, `cosine_similarity`,
//! `inner_product`, `l2_distance`, and the `vector_search` table function. The transformer itself lives in the
//! `augur-embed` crate (candle + tokenizers).

pub mod cosine_similarity;
#[allow(clippy::module_inception)] // one file per SQL function, named as in SQL
pub mod embed;
pub mod inner_product;
pub mod l2_distance;
pub mod vector_search;
pub mod vectors;

use datafusion::logical_expr::ScalarUDF;

/// Every embedding and vector scalar function.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        embed::embed(),
        cosine_similarity::cosine_similarity(),
        inner_product::inner_product(),
        l2_distance::l2_distance(),
    ]
}
