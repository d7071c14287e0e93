//! The model registry: every training is a new version, written atomically as
//! JSON under `<model_dir>/<name>/v<version>.json`, indexed in memory, and
//! listed in the queryable `models` table.
//!
//! One Augur process owns a model directory at a time.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use augur_ml::error::sqlstate;
use augur_ml::{MlError, Model};
use augur_udfs::store::{Deployment, ModelStore, StoredModel, normalize_model_name};
use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use serde::{Deserialize, Serialize};

use crate::fsutil::{clean_temporaries, write_atomic};

/// The on-disk form of one model version.
#[derive(Serialize, Deserialize)]
struct ModelFile {
    format: u32,
    name: String,
    version: u64,
    created_at_micros: i64,
    model: Model,
}

type Index = BTreeMap<String, BTreeMap<u64, Arc<StoredModel>>>;

/// `<model_dir>/<name>/deployed.json`: every version deployed, oldest first.
#[derive(Debug, Serialize, Deserialize, Default, Clone)]
struct DeployHistory {
    history: Vec<u64>,
}

const DEPLOYED_FILE: &str = "deployed.json";

/// `<model_dir>/.versions.json`: the highest version ever issued per name, so
/// numbers are never reused, even after `DROP MODEL`.
const ISSUED_FILE: &str = ".versions.json";

/// The largest model file `ml_import_model` reads (1 GiB).
const MAX_MODEL_FILE_BYTES: u64 = 1 << 30;

/// The version a plain name serves: the latest deployed version that still
/// exists, else the latest version.
fn serving(
    versions: &BTreeMap<u64, Arc<StoredModel>>,
    history: Option<&DeployHistory>,
) -> Option<u64> {
    history
        .and_then(|h| {
            h.history
                .iter()
                .rev()
                .find(|v| versions.contains_key(v))
                .copied()
        })
        .or_else(|| versions.keys().next_back().copied())
}

/// Models on disk, indexed in memory.
#[derive(Debug)]
pub struct ModelRegistry {
    dir: PathBuf,
    /// Lock order: `index` before `deployed`.
    index: RwLock<Index>,
    deployed: RwLock<BTreeMap<String, DeployHistory>>,
}

fn io_err(what: &str, path: &Path, e: impl std::fmt::Display) -> MlError {
    MlError::new(
        sqlstate::IO_ERROR,
        format!("cannot {what} {}: {e}", path.display()),
    )
}

impl ModelRegistry {
    /// Opens (creating if needed) a model directory and loads every version.
    /// Unreadable files are skipped with a warning, never half-loaded.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, MlError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(|e| io_err("create", &dir, e))?;
        let mut index = Index::new();
        let mut deployed = BTreeMap::new();
        for entry in fs::read_dir(&dir)
            .map_err(|e| io_err("read", &dir, e))?
            .flatten()
        {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if entry
                .file_name()
                .to_string_lossy()
                .ends_with(".dropped.tmp")
            {
                let _ = fs::remove_dir_all(&path); // a DROP MODEL interrupted by a crash
                continue;
            }
            clean_temporaries(&path);
            for file in fs::read_dir(&path)
                .map_err(|e| io_err("read", &path, e))?
                .flatten()
            {
                let p = file.path();
                if p.extension().and_then(|e| e.to_str()) != Some("json") {
                    continue;
                }
                if file.file_name() == DEPLOYED_FILE {
                    match fs::read_to_string(&p)
                        .map_err(|e| e.to_string())
                        .and_then(|t| {
                            serde_json::from_str::<DeployHistory>(&t).map_err(|e| e.to_string())
                        }) {
                        Ok(h) => {
                            deployed.insert(entry.file_name().to_string_lossy().to_string(), h);
                        }
                        Err(e) => tracing::warn!("ignoring unreadable {}: {e}", p.display()),
                    }
                    continue;
                }
                match fs::read_to_string(&p)
                    .map_err(|e| e.to_string())
                    .and_then(|t| serde_json::from_str::<ModelFile>(&t).map_err(|e| e.to_string()))
                {
                    Ok(f) => {
                        index.entry(f.name.clone()).or_default().insert(
                            f.version,
                            Arc::new(StoredModel {
                                name: f.name,
                                version: f.version,
                                created_at_micros: f.created_at_micros,
                                model: f.model,
                            }),
                        );
                    }
                    Err(e) => tracing::warn!("skipping unreadable model file {}: {e}", p.display()),
                }
            }
        }
        Ok(Self {
            dir,
            index: RwLock::new(index),
            deployed: RwLock::new(deployed),
        })
    }

    /// The highest version ever issued per model name (empty when the file is missing or unreadable).
    fn issued(&self) -> BTreeMap<String, u64> {
        fs::read(self.dir.join(ISSUED_FILE))
            .ok()
            .and_then(|t| serde_json::from_slice(&t).ok())
            .unwrap_or_default()
    }

    fn history(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, DeployHistory>> {
        self.deployed.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `name`'s deployment history durably, then publishes it.
    fn set_history(&self, name: &str, history: DeployHistory) -> Result<(), MlError> {
        let path = self.dir.join(name).join(DEPLOYED_FILE);
        let text = serde_json::to_vec(&history)
            .map_err(|e| MlError::new(sqlstate::IO_ERROR, e.to_string()))?;
        write_atomic(&path, |f| f.write_all(&text)).map_err(|e| io_err("write", &path, e))?;
        self.deployed
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(name.to_string(), history);
        Ok(())
    }

    /// `name` or `name@v` → (base name, explicit version).
    fn split(name: &str) -> Result<(String, Option<u64>), MlError> {
        let full = normalize_model_name(name, true)?;
        Ok(match full.split_once('@') {
            Some((b, v)) => (b.to_string(), v.parse::<u64>().ok()),
            None => (full, None),
        })
    }

    fn no_model(base: &str) -> MlError {
        MlError::new(
            sqlstate::UNDEFINED_OBJECT,
            format!(
                "model \"{base}\" does not exist; train it with CREATE MODEL {base} ... or see SELECT name FROM models"
            ),
        )
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|p| p.into_inner())
    }
}

impl ModelStore for ModelRegistry {
    fn load(&self, name: &str) -> Result<Arc<StoredModel>, MlError> {
        let (base, version) = Self::split(name)?;
        let index = self.read();
        let versions = index.get(&base).ok_or_else(|| Self::no_model(&base))?;
        let found = match version {
            Some(v) => versions.get(&v),
            None => serving(versions, self.history().get(&base)).and_then(|v| versions.get(&v)),
        };
        found.cloned().ok_or_else(|| {
            MlError::new(
                sqlstate::UNDEFINED_OBJECT,
                format!(
                    "model \"{base}\" has no version {}; it has versions {:?}",
                    version.unwrap_or(0),
                    versions.keys().collect::<Vec<_>>()
                ),
            )
        })
    }

    fn save(&self, name: &str, model: Model) -> Result<Arc<StoredModel>, MlError> {
        // a training cancelled after its last pass writes nothing
        if augur_ml::cancel::is_cancelled() {
            return Err(augur_ml::cancel::cancelled());
        }
        let name = normalize_model_name(name, false)?;
        // The write lock serialises version numbering; readers see the new
        // version only after its file is durable.
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        // never reuse a number, even one whose file could not be read at start
        let on_disk = fs::read_dir(self.dir.join(&name))
            .map(|d| {
                d.flatten()
                    .filter_map(|e| {
                        let n = e.file_name().to_string_lossy().to_string();
                        n.strip_prefix('v')?
                            .strip_suffix(".json")?
                            .parse::<u64>()
                            .ok()
                    })
                    .max()
                    .unwrap_or(0)
            })
            .unwrap_or(0);
        let in_index = index
            .get(&name)
            .and_then(|v| v.keys().next_back().copied())
            .unwrap_or(0);
        // nor one a dropped version or model had: `name@v` keeps meaning one model
        let mut issued = self.issued();
        let version = on_disk
            .max(in_index)
            .max(issued.get(&name).copied().unwrap_or(0))
            + 1;
        issued.insert(name.clone(), version);
        let issued_path = self.dir.join(ISSUED_FILE);
        let issued_text = serde_json::to_vec(&issued)
            .map_err(|e| MlError::new(sqlstate::IO_ERROR, e.to_string()))?;
        write_atomic(&issued_path, |f| f.write_all(&issued_text))
            .map_err(|e| io_err("write", &issued_path, e))?;
        let created_at_micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        let file = ModelFile {
            format: 1,
            name: name.clone(),
            version,
            created_at_micros,
            model,
        };
        let text = serde_json::to_vec_pretty(&file)
            .map_err(|e| MlError::new(sqlstate::IO_ERROR, e.to_string()))?;
        // never write a file that cannot be read back (JSON has no NaN/Infinity)
        if serde_json::from_slice::<ModelFile>(&text).is_err() {
            return Err(MlError::new(
                sqlstate::DATA_EXCEPTION,
                "the fitted model cannot be stored (non-finite parameters or an unreadable encoding); nothing was saved",
            ));
        }
        let path = self.dir.join(&name).join(format!("v{version}.json"));
        write_atomic(&path, |f| f.write_all(&text)).map_err(|e| io_err("write", &path, e))?;
        let stored = Arc::new(StoredModel {
            name: name.clone(),
            version,
            created_at_micros,
            model: file.model,
        });
        index
            .entry(name)
            .or_default()
            .insert(version, stored.clone());
        Ok(stored)
    }

    fn drop_model(&self, name: &str) -> Result<u64, MlError> {
        let full = normalize_model_name(name, true)?;
        let (base, version) = match full.split_once('@') {
            Some((b, v)) => (b.to_string(), v.parse::<u64>().ok()),
            None => (full.clone(), None),
        };
        let mut index = self.index.write().unwrap_or_else(|p| p.into_inner());
        let Some(versions) = index.get_mut(&base) else {
            return Ok(0);
        };
        let dir = self.dir.join(&base);
        let removed = match version {
            Some(v) => {
                if versions.remove(&v).is_none() {
                    return Ok(0);
                }
                let path = dir.join(format!("v{v}.json"));
                crate::fsutil::remove_durable(&path).map_err(|e| io_err("remove", &path, e))?;
                1
            }
            None => {
                // rename first, so a crash never leaves some versions of a dropped model
                let n = versions.len() as u64;
                let doomed = self.dir.join(format!(".{base}.dropped.tmp"));
                fs::rename(&dir, &doomed).map_err(|e| io_err("remove", &dir, e))?;
                crate::fsutil::sync_dir(&self.dir).map_err(|e| io_err("sync", &self.dir, e))?;
                let _ = fs::remove_dir_all(&doomed);
                versions.clear();
                self.deployed
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&base);
                n
            }
        };
        if versions.is_empty() {
            index.remove(&base);
        }
        Ok(removed)
    }

    fn list(&self) -> Result<Vec<Arc<StoredModel>>, MlError> {
        Ok(self
            .read()
            .values()
            .flat_map(|v| v.values().cloned())
            .collect())
    }

    fn serving_version(&self, name: &str) -> Option<u64> {
        let (base, _) = Self::split(name).ok()?;
        let index = self.read();
        serving(index.get(&base)?, self.history().get(&base))
    }

    fn deploy(&self, name: &str) -> Result<Deployment, MlError> {
        let (base, version) = Self::split(name)?;
        // the write lock keeps DROP MODEL and training out while the file is written
        let index = self.index.write().unwrap_or_else(|p| p.into_inner());
        let versions = index.get(&base).ok_or_else(|| Self::no_model(&base))?;
        let version = match version {
            Some(v) if versions.contains_key(&v) => v,
            Some(v) => {
                return Err(MlError::new(
                    sqlstate::UNDEFINED_OBJECT,
                    format!(
                        "model \"{base}\" has no version {v}; it has versions {:?}",
                        versions.keys().collect::<Vec<_>>()
                    ),
                ));
            }
            None => *versions
                .keys()
                .next_back()
                .ok_or_else(|| Self::no_model(&base))?,
        };
        let mut history = self.history().get(&base).cloned().unwrap_or_default();
        let previous_version = serving(versions, Some(&history));
        history.history.retain(|v| versions.contains_key(v));
        history.history.push(version);
        self.set_history(&base, history)?;
        Ok(Deployment {
            name: base,
            version,
            previous_version,
        })
    }

    fn rollback(&self, name: &str) -> Result<Deployment, MlError> {
        let (base, version) = Self::split(name)?;
        if version.is_some() {
            return Err(MlError::invalid(format!(
                "ml_rollback takes a model name without a version; to serve a chosen version use ml_deploy('{base}@N')"
            )));
        }
        let index = self.index.write().unwrap_or_else(|p| p.into_inner());
        let versions = index.get(&base).ok_or_else(|| Self::no_model(&base))?;
        let mut history = self.history().get(&base).cloned().unwrap_or_default();
        history.history.retain(|v| versions.contains_key(v));
        let current = serving(versions, Some(&history)).ok_or_else(|| Self::no_model(&base))?;
        // drop the current deployment; what was deployed before it is next,
        // else (never deployed) the version trained before the current one
        while history.history.last() == Some(&current) {
            history.history.pop();
        }
        let target = match history.history.last() {
            Some(v) => *v,
            None => match versions.range(..current).next_back() {
                Some((v, _)) => {
                    history.history.push(*v);
                    *v
                }
                None => {
                    return Err(MlError::new(
                        "55000",
                        format!(
                            "model \"{base}\" has nothing to roll back to: version {current} is served and no earlier version exists"
                        ),
                    ));
                }
            },
        };
        self.set_history(&base, history)?;
        Ok(Deployment {
            name: base,
            version: target,
            previous_version: Some(current),
        })
    }

    fn export_model(&self, name: &str, path: &Path) -> Result<(Arc<StoredModel>, u64), MlError> {
        let stored = self.load(name)?;
        let file = ModelFile {
            format: 1,
            name: stored.name.clone(),
            version: stored.version,
            created_at_micros: stored.created_at_micros,
            model: stored.model.clone(),
        };
        let text = serde_json::to_vec_pretty(&file)
            .map_err(|e| MlError::new(sqlstate::IO_ERROR, e.to_string()))?;
        if fs::symlink_metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
            return Err(MlError::invalid(format!(
                "{} exists and is not a regular file; give a new file name",
                path.display()
            )));
        }
        if path.is_dir() {
            return Err(MlError::invalid(format!(
                "{} is a directory; give a file name such as {}/{}_v{}.json",
                path.display(),
                path.display(),
                stored.name,
                stored.version
            )));
        }
        write_atomic(path, |f| f.write_all(&text)).map_err(|e| io_err("write", path, e))?;
        Ok((stored, text.len() as u64))
    }

    fn import_model(&self, name: &str, path: &Path) -> Result<Arc<StoredModel>, MlError> {
        let name = normalize_model_name(name, false)?;
        if let Ok(meta) = fs::metadata(path) {
            if !meta.is_file() {
                return Err(MlError::new(
                    "22P02",
                    format!(
                        "{} is not a regular file; give a file written by ml_export_model",
                        path.display()
                    ),
                ));
            }
            if meta.len() > MAX_MODEL_FILE_BYTES {
                return Err(MlError::new(
                    sqlstate::PROGRAM_LIMIT_EXCEEDED,
                    format!(
                        "{} has {} bytes; a model file may have at most {MAX_MODEL_FILE_BYTES}",
                        path.display(),
                        meta.len()
                    ),
                ));
            }
        }
        let text = fs::read(path).map_err(|e| {
            let state = if e.kind() == std::io::ErrorKind::NotFound {
                "58P01"
            } else {
                sqlstate::IO_ERROR
            };
            MlError::new(
                state,
                format!("cannot read model file {}: {e}", path.display()),
            )
        })?;
        let bad = |why: String| {
            MlError::new(
                "22P02",
                format!(
                    "{} is not an Augur model file ({why}); write one with ml_export_model",
                    path.display()
                ),
            )
        };
        let file: ModelFile = serde_json::from_slice(&text).map_err(|e| bad(e.to_string()))?;
        if file.format != 1 {
            return Err(bad(format!(
                "format {} is not supported; this Augur reads format 1",
                file.format
            )));
        }
        check_consistent(&file.model).map_err(bad)?;
        for e in &file.model.embeddings {
            augur_udfs::ml::embedded::check_recorded(e)?;
        }
        self.save(&name, file.model)
    }
}

/// Predicts one all-zero encoded row, so that a model file whose parameters do
/// not fit its feature encoding is refused at import, not at the first query.
fn check_consistent(model: &Model) -> Result<(), String> {
    augur_ml::validate::validate(model)?;
    let width = model.encoder.width();
    let probe = ndarray::Array2::<f64>::zeros((1, width));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        model.predict_encoded(&probe).map_err(|e| e.message)?;
        if model.algorithm.has_probabilities() {
            model.class_probabilities(&probe).map_err(|e| e.message)?;
        }
        Ok::<(), String>(())
    }));
    match result {
        Ok(r) => r,
        Err(_) => Err(format!(
            "its parameters do not fit its {width} encoded features"
        )),
    }
}

/// The `models` table: one row per model version, read live from the registry.
///
/// Columns: `name text, version bigint, algorithm text, label text, classes text,
/// features text, training_rows bigint, evaluation_rows bigint, metrics text
/// (JSON), options text (JSON), deployed boolean (the version a plain name
/// serves), created_at timestamptz`.
#[derive(Debug)]
pub struct ModelsTable {
    store: Arc<dyn ModelStore>,
}

impl ModelsTable {
    pub fn new(store: Arc<dyn ModelStore>) -> Self {
        Self { store }
    }

    fn schema_ref() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new("name", DataType::Utf8, false),
            Field::new("version", DataType::Int64, false),
            Field::new("algorithm", DataType::Utf8, false),
            Field::new("label", DataType::Utf8, true),
            Field::new("classes", DataType::Utf8, true),
            Field::new("features", DataType::Utf8, false),
            Field::new("training_rows", DataType::Int64, false),
            Field::new("evaluation_rows", DataType::Int64, false),
            Field::new("metrics", DataType::Utf8, false),
            Field::new("options", DataType::Utf8, false),
            Field::new("deployed", DataType::Boolean, false),
            Field::new(
                "created_at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
        ]))
    }

    fn batch(&self) -> DfResult<RecordBatch> {
        let models = self.store.list().map_err(augur_udfs::error::to_df)?;
        let text = |f: &dyn Fn(&StoredModel) -> Option<String>| -> ArrayRef {
            Arc::new(StringArray::from(
                models.iter().map(|m| f(m)).collect::<Vec<_>>(),
            ))
        };
        let int = |f: &dyn Fn(&StoredModel) -> i64| -> ArrayRef {
            Arc::new(Int64Array::from(
                models.iter().map(|m| f(m)).collect::<Vec<_>>(),
            ))
        };
        let columns = vec![
            text(&|m| Some(m.name.clone())),
            int(&|m| m.version as i64),
            text(&|m| Some(m.model.algorithm.name().to_string())),
            text(&|m| m.model.label.as_ref().map(|l| l.name.clone())),
            text(&|m| {
                m.model
                    .label
                    .as_ref()
                    .filter(|l| !l.classes.is_empty())
                    .map(|l| l.classes.join(", "))
            }),
            text(&|m| Some(m.model.encoder.feature_list())),
            int(&|m| m.model.training_rows as i64),
            int(&|m| m.model.evaluation_rows as i64),
            text(&|m| serde_json::to_string(&m.model.metrics).ok()),
            text(&|m| serde_json::to_string(&m.model.options).ok()),
            Arc::new(BooleanArray::from(
                models
                    .iter()
                    .map(|m| self.store.serving_version(&m.name) == Some(m.version))
                    .collect::<Vec<_>>(),
            )),
            Arc::new(
                TimestampMicrosecondArray::from(
                    models
                        .iter()
                        .map(|m| m.created_at_micros)
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
        ];
        Ok(RecordBatch::try_new(Self::schema_ref(), columns)?)
    }
}

#[async_trait]
impl TableProvider for ModelsTable {
    fn schema(&self) -> SchemaRef {
        Self::schema_ref()
    }
    /// A table (relkind `r`) for the catalogs, so that psql's `\dt`, SQLAlchemy's
    /// `get_table_names` and BI tools' table pickers list it with the data tables.
    fn table_type(&self) -> TableType {
        TableType::Base
    }
    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let batch = self.batch()?;
        Ok(MemorySourceConfig::try_new_exec(
            &[vec![batch]],
            Self::schema_ref(),
            projection.cloned(),
        )?)
    }
}
