//! `cosine_similarity(a, b)`: a·b / (|a| |b|), in [-1, 1].
//!
//! - `a`, `b`: vectors of the same length: `FixedSizeList`, `List` or
//!   `LargeList` of `Float32` or `Float64` (`embed(...)`, `float4[]`,
//!   `float8[]`, `ARRAY[...]`). A scalar argument is compared with every row.
//! - Returns float8 (computed in f64). NULL vector (or NULL element) → NULL;
//!   a zero vector → NaN (as pgvector's cosine distance).
//! - Errors: 22000 different vector dimensions (naming both); 42804 an
//!   argument that is not a float vector.
//! - For `embed` vectors (norm 1) this equals `inner_product`; pgvector's
//!   `a <=> b` is `1 - cosine_similarity(a, b)`.
//!
//! Example: `SELECT id FROM review_vectors ORDER BY cosine_similarity(v, embed('late delivery')) DESC LIMIT 10`.

use datafusion::logical_expr::ScalarUDF;

use super::vectors::{Metric, Row, VectorFn, zip_fold};

/// The cosine of the angle between `a` and `b`.
pub fn metric(a: Row, b: Row) -> f64 {
    let dot = zip_fold(a, b, 0.0, |s, x, y| s + x * y);
    let na = zip_fold(a, a, 0.0, |s, x, _| s + x * x).sqrt();
    let nb = zip_fold(b, b, 0.0, |s, x, _| s + x * x).sqrt();
    dot / (na * nb)
}

/// The `cosine_similarity` scalar function.
pub fn cosine_similarity() -> ScalarUDF {
    ScalarUDF::new_from_impl(VectorFn::new("cosine_similarity", Metric::Cosine))
}
