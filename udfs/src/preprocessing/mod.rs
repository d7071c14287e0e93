//! Data preparation functions: `split_fraction`, the BigQuery-ML-style
//! preprocessing functions (scalers, imputer, encoders, bucketizers) and the
//! data-cleaning helpers (`outlier_zscore`, `outlier_iqr`).
//!
//! Functions that need statistics of the data are window functions computed
//! over the whole window partition (`f(x) OVER ()`, `OVER (PARTITION BY …)`);
//! the others are scalar functions.

mod window;

pub mod bag_of_words;
pub mod bucketize;
pub mod feature_cross;
pub mod hash_bucketize;
pub mod imputer;
pub mod label_encoder;
pub mod max_abs_scaler;
pub mod min_max_scaler;
pub mod ml_profile;
pub mod ngrams;
pub mod one_hot_encoder;
pub mod outlier_iqr;
pub mod outlier_zscore;
pub mod polynomial_expand;
pub mod quantile_bucketize;
pub mod robust_scaler;
pub mod split_fraction;
pub mod standard_scaler;
pub mod tf_idf;

use datafusion::logical_expr::{ScalarUDF, WindowUDF};

/// Every preparation scalar function.
pub fn functions() -> Vec<ScalarUDF> {
    vec![
        split_fraction::split_fraction(),
        bucketize::bucketize(),
        hash_bucketize::hash_bucketize(),
        ngrams::ngrams(),
        polynomial_expand::polynomial_expand(),
        feature_cross::feature_cross(),
    ]
}

/// Every preparation window function.
pub fn window_functions() -> Vec<WindowUDF> {
    vec![
        standard_scaler::standard_scaler(),
        min_max_scaler::min_max_scaler(),
        max_abs_scaler::max_abs_scaler(),
        robust_scaler::robust_scaler(),
        imputer::imputer(),
        label_encoder::label_encoder(),
        one_hot_encoder::one_hot_encoder(),
        quantile_bucketize::quantile_bucketize(),
        outlier_zscore::outlier_zscore(),
        outlier_iqr::outlier_iqr(),
        bag_of_words::bag_of_words(),
        tf_idf::tf_idf(),
    ]
}
