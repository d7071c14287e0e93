//! Errors of the model core, each carrying the PostgreSQL SQLSTATE a client sees.

use std::fmt;

/// A model-core error: a SQLSTATE code and a message that says what to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MlError {
    /// Five-character PostgreSQL SQLSTATE, e.g. `22023` (invalid_parameter_value).
    pub sqlstate: &'static str,
    pub message: String,
}

/// SQLSTATE codes used by the model core (PostgreSQL Appendix A).
pub mod sqlstate {
    /// invalid_parameter_value: an option or argument value is out of range.
    pub const INVALID_PARAMETER_VALUE: &str = "22023";
    /// null_value_not_allowed: a NULL where a value is required (labels).
    pub const NULL_VALUE_NOT_ALLOWED: &str = "22004";
    /// datatype_mismatch: a column or argument has the wrong type.
    pub const DATATYPE_MISMATCH: &str = "42804";
    /// undefined_column: a named column does not exist.
    pub const UNDEFINED_COLUMN: &str = "42703";
    /// undefined_object: the model does not exist.
    pub const UNDEFINED_OBJECT: &str = "42704";
    /// invalid_name: a model name that is not a plain identifier.
    pub const INVALID_NAME: &str = "42602";
    /// program_limit_exceeded: too many categories or cells.
    pub const PROGRAM_LIMIT_EXCEEDED: &str = "54000";
    /// feature_not_supported.
    pub const FEATURE_NOT_SUPPORTED: &str = "0A000";
    /// data_exception: the data cannot be fitted (e.g. the solver failed).
    pub const DATA_EXCEPTION: &str = "22000";
    /// io_error (PostgreSQL's 58030): the model file could not be read or written.
    pub const IO_ERROR: &str = "58030";
}

impl MlError {
    pub fn new(sqlstate: &'static str, message: impl Into<String>) -> Self {
        Self {
            sqlstate,
            message: message.into(),
        }
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(sqlstate::INVALID_PARAMETER_VALUE, message)
    }
}

impl fmt::Display for MlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MlError {}

pub type Result<T> = std::result::Result<T, MlError>;
