//! Errors with a SQLSTATE: the model core's [`MlError`] travels inside
//! `DataFusionError::External`, and the server reads its code back out.

pub use augur_ml::MlError;
pub use augur_ml::error::sqlstate;
use datafusion::error::DataFusionError;

/// Wraps a model-core error so its SQLSTATE survives DataFusion.
pub fn to_df(e: MlError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// A `DataFusionError` with the given SQLSTATE and message.
pub fn sql_err(sqlstate: &'static str, message: impl Into<String>) -> DataFusionError {
    to_df(MlError::new(sqlstate, message))
}

/// 22023 invalid_parameter_value.
pub fn invalid(message: impl Into<String>) -> DataFusionError {
    sql_err(sqlstate::INVALID_PARAMETER_VALUE, message)
}
