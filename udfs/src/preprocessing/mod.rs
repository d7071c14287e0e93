//! Data preparation functions.

pub mod split_fraction;

use datafusion::logical_expr::ScalarUDF;

/// Every preparation scalar function.
pub fn functions() -> Vec<ScalarUDF> {
    vec![split_fraction::split_fraction()]
}
