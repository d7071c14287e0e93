//! `l2_distance(a, b)`: the Euclidean distance √Σ (aᵢ − bᵢ)².
//!
//! - `a`, `b`: vectors of the same length: `FixedSizeList`, `List` or
//!   `LargeList` of `Float32` or `Float64`. A scalar argument is compared
//!   with every row.
//! - Returns float8 (computed in f64). NULL vector (or NULL element) → NULL.
//! - Errors: 22000 different vector dimensions (naming both); 42804 an
//!   argument that is not a float vector.
//! - pgvector's `a <-> b`.
//!
//! Example: `SELECT l2_distance(ARRAY[0.0, 0.0], ARRAY[3.0, 4.0])` → 5.

use datafusion::logical_expr::ScalarUDF;

use super::vectors::{Metric, Row, VectorFn, zip_fold};

/// √Σ (aᵢ − bᵢ)².
pub fn metric(a: Row, b: Row) -> f64 {
    zip_fold(a, b, 0.0, |s, x, y| s + (x - y) * (x - y)).sqrt()
}

/// The `l2_distance` scalar function.
pub fn l2_distance() -> ScalarUDF {
    ScalarUDF::new_from_impl(VectorFn::new("l2_distance", Metric::L2))
}
