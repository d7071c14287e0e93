//! The model store the SQL functions read and write. The engine implements it
//! (`augur::registry::ModelRegistry`, on disk); tests may use an in-memory one.

use std::fmt::Debug;
use std::sync::Arc;

use augur_ml::{MlError, Model};

/// One saved version of a model.
#[derive(Debug, Clone)]
pub struct StoredModel {
    pub name: String,
    /// 1 for the first training of a name, then 2, 3, ...
    pub version: u64,
    /// Microseconds since the Unix epoch, UTC.
    pub created_at_micros: i64,
    pub model: Model,
}

/// Where models live. Implementations must be safe to call from many
/// connections at once and must never expose a half-written model.
pub trait ModelStore: Debug + Send + Sync {
    /// The latest version of `name`, or version `v` for `name@v`.
    /// Errors: 42704 when the model or version does not exist.
    fn load(&self, name: &str) -> Result<Arc<StoredModel>, MlError>;
    /// Saves `model` as the next version of `name` and returns it.
    fn save(&self, name: &str, model: Model) -> Result<Arc<StoredModel>, MlError>;
    /// Every version of every model, ordered by name then version.
    fn list(&self) -> Result<Vec<Arc<StoredModel>>, MlError>;
    /// Removes every version of `name`, or version `v` for `name@v`, durably;
    /// returns how many versions were removed (0 when there was nothing).
    fn drop_model(&self, name: &str) -> Result<u64, MlError>;
}

/// Checks and normalises a model name: case-insensitive, stored lower-case,
/// `[a-z_][a-z0-9_]*` up to 63 characters, optionally followed by `@version`
/// when `allow_version`. Errors with 42602 (invalid_name).
pub fn normalize_model_name(name: &str, allow_version: bool) -> Result<String, MlError> {
    let lower = name.trim().to_ascii_lowercase();
    let (base, version) = match lower.split_once('@') {
        Some((b, v)) if allow_version => (b, Some(v)),
        _ => (lower.as_str(), None),
    };
    let ok_base = !base.is_empty()
        && base.len() <= 63
        && base
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && base
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    let ok_version = version.is_none_or(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()));
    if ok_base && ok_version {
        Ok(lower)
    } else {
        Err(MlError::new(
            augur_ml::error::sqlstate::INVALID_NAME,
            format!(
                "invalid model name '{name}': use at most 63 letters, digits and underscores, not starting with a digit{}",
                if allow_version {
                    ", optionally followed by @version"
                } else {
                    ""
                }
            ),
        ))
    }
}
