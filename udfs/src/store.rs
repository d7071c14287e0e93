//! The model store the SQL functions read and write. The engine implements it
//! (`augur::registry::ModelRegistry`, on disk); tests may use an in-memory one.

use std::fmt::Debug;
use std::path::Path;
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
    /// The version `load(name)` serves for a plain `name`: the one chosen with
    /// [`ModelStore::deploy`] while it exists, else the latest. `None` when the
    /// model does not exist.
    fn serving_version(&self, name: &str) -> Option<u64>;
    /// Makes `name@version` (or the latest version for a plain `name`) the one
    /// that a plain `name` resolves to, durably. Errors: 42704 when it does not exist.
    fn deploy(&self, name: &str) -> Result<Deployment, MlError>;
    /// Deploys again the version that was deployed before the current one.
    /// Errors: 42704 for an unknown model; 55000 when there is nothing to roll back to.
    fn rollback(&self, name: &str) -> Result<Deployment, MlError>;
    /// Writes `name` (or `name@v`) to `path` as a self-contained model file,
    /// atomically; returns the version written and the file's size in bytes.
    fn export_model(&self, name: &str, path: &Path) -> Result<(Arc<StoredModel>, u64), MlError>;
    /// Reads a file written by [`ModelStore::export_model`] (on this or another
    /// Augur) and saves it as the next version of `name`. The model is checked
    /// before anything is saved. Errors: 58P01 when the file does not exist,
    /// 22P02 when it is not a consistent Augur model file.
    fn import_model(&self, name: &str, path: &Path) -> Result<Arc<StoredModel>, MlError>;
}

/// The result of [`ModelStore::deploy`] and [`ModelStore::rollback`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    pub name: String,
    /// The version now served for the plain name.
    pub version: u64,
    /// The version served before, if any.
    pub previous_version: Option<u64>,
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
    let ok_version = version.is_none_or(|v| {
        !v.is_empty() && v.chars().all(|c| c.is_ascii_digit()) && v.parse::<u64>().is_ok()
    });
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
