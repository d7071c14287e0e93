//! Augur's model core, independent of SQL and Arrow.
//!
//! Columns come in as plain vectors ([`Column`]); this crate fits the feature
//! encoding ([`FeatureEncoder`]), trains through linfa ([`train::fit`]), stores
//! everything a prediction needs in a serialisable [`Model`], and computes the
//! evaluation metrics ([`metrics`]). The SQL layer (`augur-udfs`) converts Arrow
//! arrays into these columns and maps [`MlError`] to SQLSTATE codes.
//!
//! This crate is compiled with optimisations even in dev builds (see the
//! workspace `Cargo.toml`), because linfa's and ndarray's generic code is
//! instantiated here.

pub mod cancel;
pub mod data;
pub mod distance;
pub mod encoder;
pub mod error;
pub mod kmeans;
pub mod logistic;
pub mod metrics;
pub mod model;
pub mod newton;
pub mod options;
pub mod parallel;
pub mod ridge;
pub mod segment;
pub mod split;
pub mod stats;
pub mod train;
pub mod transform;
pub mod trees;
pub mod tune;
pub mod validate;
pub mod zoo;

pub use data::{Column, ColumnValues};
pub use encoder::FeatureEncoder;
pub use error::{MlError, Result};
pub use model::{Algorithm, Model, Prediction};
pub use options::TrainOptions;
