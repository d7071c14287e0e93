//! `inner_product(a, b)`: the dot product Σ aᵢ bᵢ.
//!
//! - `a`, `b`: vectors of the same length: `FixedSizeList`, `List` or
//!   `LargeList` of `Float32` or `Float64`. A scalar argument is compared
//!   with every row.
//! - Returns float8 (computed in f64). NULL vector (or NULL element) → NULL.
//! - Errors: 22000 different vector dimensions (naming both); 42804 an
//!   argument that is not a float vector.
//! - pgvector's `a <#> b` is `-inner_product(a, b)`.
//!
//! Example: `SELECT inner_product(embed('tea'), embed('coffee'))`.

use datafusion::logical_expr::ScalarUDF;

use super::vectors::{Metric, Row, VectorFn, zip_fold};

/// Σ aᵢ bᵢ.
pub fn metric(a: Row, b: Row) -> f64 {
    zip_fold(a, b, 0.0, |s, x, y| s + x * y)
}

/// The `inner_product` scalar function.
pub fn inner_product() -> ScalarUDF {
    ScalarUDF::new_from_impl(VectorFn::new("inner_product", Metric::Inner))
}
