//! Training options, named as in BigQuery ML's `CREATE MODEL … OPTIONS (…)`.
//!
//! | option | applies to | default | meaning |
//! |---|---|---|---|
//! | `model_type` | all | required | `logistic_reg`, `linear_reg`, `kmeans`, `naive_bayes` (Gaussian), `decision_tree_classifier`, `decision_tree_regressor`, `random_forest_classifier`, `random_forest_regressor` (see `trees`) |
//! | `input_label_cols` | logistic_reg, linear_reg | required | the label column |
//! | `num_clusters` | kmeans | 4 | k, from 1 to the row count |
//! | `l2_reg` | logistic_reg, linear_reg | 1.0 (logistic), 0 (linear) | L2 penalty, ≥ 0 (see below) |
//! | `l1_reg` | linear_reg | 0 | L1 penalty, ≥ 0 (see below) |
//! | `max_iterations` | all | 500 (logistic), 300 (kmeans) | iteration cap, ≥ 1 |
//! | `n_init` | kmeans | 10 | k-means++ restarts; the lowest inertia wins |
//! | `standardize_features` | all | true | centre and scale numeric features |
//! | `data_split_method` | all | `auto_split` (`no_split` for kmeans) | `auto_split`, `random`, `custom`, `no_split` |
//! | `data_split_eval_fraction` | random, auto_split | 0.2 | share of rows held out for evaluation |
//! | `data_split_col` | custom | — | boolean column, TRUE marks an evaluation row; not a feature |
//! | `seed` | all | 42 | seed of the random split, of k-means++ and of forests |
//! | `grouping_cols` | all | — | one column: one model per value of it, plus an overall model (see `segment`) |
//! | `max_tree_depth` | trees, forests | 6 (tree), 20 (forest) | depth limit, 1–100 |
//! | `min_tree_child_weight` | trees, forests | 1 | least training rows in each child of a split |
//! | `min_split_loss` | trees, forests | 0 | least weighted impurity decrease of a split, ≥ 0 |
//! | `num_parallel_tree` | forests | 100 | trees in the forest, 1–1000 |
//! | `subsample` | forests | 0.8 | bootstrap rows per tree (share of training rows), (0, 1] |
//! | `colsample_bynode` | forests | 0.8 | share of features tried at each split, (0, 1] |
//! | `transform` | all | — | preprocessing captured in the model: `[min_max_scaler(x), quantile_bucketize(y, 4), …]` (see `transform`) |
//! | `eps` | dbscan | 0.5 | neighbourhood radius (Euclidean, on the standardised features), > 0 |
//! | `min_samples` | dbscan | 5 | rows within `eps` (itself included) that make a core sample, 2–100000 |
//! | `covariance_type` | gaussian_mixture | `full` | only `full` is supported |
//! | `linkage` | agglomerative | `ward` | `ward`, `complete`, `average` or `single` |
//! | `num_principal_components` | pca | all | components kept, from 1 to min(rows, encoded features) |
//!
//! The algorithms added for the model zoo take only their own options plus
//! `model_type`, `standardize_features`, `seed`, `transform` and the `data_split_*` options:
//! `linear_svm` also `input_label_cols` and `l2_reg` (> 0; C = 1 / l2_reg,
//! default 1); `gaussian_mixture` `num_clusters`, `n_init` (default 1, as
//! scikit-learn), `max_iterations` (default 100) and `covariance_type`;
//! `agglomerative` `num_clusters` and `linkage`; `dbscan` `eps` and
//! `min_samples`; `pca` `num_principal_components`. None of them takes
//! `grouping_cols` yet (0A000).
//! | `embed_columns` | all | — | text columns the model embeds itself (`['review']` or `['a', 'b']`): each becomes the features `review[1]` … `review[dim]` of its sentence embedding, and prediction embeds the raw text again |
//! | `embed_model` | with `embed_columns` | `all-MiniLM-L6-v2` | the embedding model: the default model, a model directory path, or a directory name in the model cache (as `embed(model, text)`) |
//!
//! Penalties: `logistic_reg` minimises `Σ logloss + l2_reg/2·‖w‖²` (scikit-learn's
//! `LogisticRegression(C = 1/l2_reg)`). `linear_reg` with no penalty is ordinary least
//! squares; with `l1_reg` or `l2_reg` it minimises `1/(2n)·‖y − Xw‖² + l1_reg·‖w‖₁ +
//! l2_reg/2·‖w‖²` (unpenalised intercept): ridge (`l1_reg = 0`) exactly by Cholesky on the
//! normal equations (scikit-learn's `Ridge(alpha = n·l2_reg)`, see `ridge`), lasso and
//! elastic net by coordinate descent (linfa-elasticnet; scikit-learn's `ElasticNet(alpha =
//! l1_reg + l2_reg, l1_ratio = l1_reg / (l1_reg + l2_reg))`).
//! The intercept is never penalised.
//!
//! `auto_split` holds out `data_split_eval_fraction` of the rows when there are at
//! least 500 rows, and none below that (as BigQuery ML does). The random split is
//! decided per row by a hash of the row's values and the seed, so it does not
//! depend on the order the rows arrive in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{MlError, Result};
use crate::model::{Algorithm, VALID_NAMES};
use crate::transform::{self, ColumnTransform};
use crate::trees::TreeOptions;

/// How rows are divided between training and evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SplitMethod {
    AutoSplit,
    Random,
    Custom(String),
    NoSplit,
}

/// Validated training options.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    pub algorithm: Algorithm,
    pub label: Option<String>,
    pub num_clusters: usize,
    pub l2_reg: f64,
    pub l1_reg: f64,
    pub max_iterations: u64,
    pub n_init: usize,
    pub standardize: bool,
    pub split: SplitMethod,
    pub eval_fraction: f64,
    pub seed: u64,
    /// Decision tree and random forest settings.
    pub tree: TreeOptions,
    /// Preprocessing functions captured in the model (see [`crate::transform`]).
    pub transform: Vec<ColumnTransform>,
    /// Settings of the model-zoo algorithms (see `zoo`).
    pub zoo: ZooOptions,
    /// Text columns the model embeds itself, in the order given.
    pub embed_columns: Vec<String>,
    /// The embedding model for `embed_columns`.
    pub embed_model: String,
    /// The options exactly as given, for the registry.
    pub raw: BTreeMap<String, String>,
}

const VALID: &[&str] = &[
    "model_type",
    "input_label_cols",
    "num_clusters",
    "l2_reg",
    "l1_reg",
    "max_iterations",
    "n_init",
    "standardize_features",
    "data_split_method",
    "data_split_eval_fraction",
    "data_split_col",
    "seed",
    "grouping_cols",
    "max_tree_depth",
    "min_split_loss",
    "min_tree_child_weight",
    "num_parallel_tree",
    "subsample",
    "colsample_bynode",
    "transform",
    "eps",
    "min_samples",
    "covariance_type",
    "linkage",
    "num_principal_components",
    "embed_columns",
    "embed_model",
];

/// Settings of DBSCAN, Gaussian mixtures, agglomerative clustering and PCA.
#[derive(Debug, Clone, PartialEq)]
pub struct ZooOptions {
    pub eps: f64,
    pub min_samples: usize,
    pub linkage: String,
    /// `None`: every component (min(rows, encoded features)).
    pub num_components: Option<usize>,
}

/// Options every algorithm takes.
const COMMON: &[&str] = &[
    "model_type",
    "standardize_features",
    "data_split_method",
    "data_split_eval_fraction",
    "data_split_col",
    "seed",
    "transform",
    "embed_columns",
    "embed_model",
];

/// The options of the model-zoo algorithms besides [`COMMON`]; `None` for
/// the older algorithms, which check their options one by one.
fn zoo_options(algorithm: Algorithm) -> Option<&'static [&'static str]> {
    match algorithm {
        Algorithm::LinearSvm => Some(&["input_label_cols", "l2_reg"]),
        Algorithm::Dbscan => Some(&["eps", "min_samples"]),
        Algorithm::GaussianMixture => Some(&[
            "num_clusters",
            "n_init",
            "max_iterations",
            "covariance_type",
        ]),
        Algorithm::Agglomerative => Some(&["num_clusters", "linkage"]),
        Algorithm::Pca => Some(&["num_principal_components"]),
        _ => None,
    }
}

/// The algorithm each model-zoo option belongs to.
const ZOO_KEYS: &[(&str, &str)] = &[
    ("eps", "dbscan"),
    ("min_samples", "dbscan"),
    ("covariance_type", "gaussian_mixture"),
    ("linkage", "agglomerative"),
    ("num_principal_components", "pca"),
];

/// The default of `embed_model`: the default embedding model.
pub const DEFAULT_EMBED_MODEL: &str = "all-MiniLM-L6-v2";

/// A list value `['a', 'b']` (or a single `a`) as its items, unquoted.
fn list_items(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|v| {
            v.trim()
                .trim_matches('\'')
                .trim_matches('"')
                .trim()
                .to_string()
        })
        .filter(|v| !v.is_empty())
        .collect()
}

/// Options of tree models, and those of forests only.
const TREE_OPTIONS: &[&str] = &["max_tree_depth", "min_split_loss", "min_tree_child_weight"];
const FOREST_OPTIONS: &[&str] = &["num_parallel_tree", "subsample", "colsample_bynode"];

impl TrainOptions {
    /// Parses `key = value, key = value` text (values may be quoted with `'`).
    /// Errors: 22023 an unknown or repeated option, a part without `=`, or
    /// an unclosed `[`, `(` or quote (or a stray `]`/`)`).
    pub fn parse(text: &str) -> Result<Self> {
        check_balanced(text)?;
        let mut raw = BTreeMap::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let Some((k, v)) = part.split_once('=') else {
                return Err(MlError::invalid(format!(
                    "option '{part}' is not of the form key=value"
                )));
            };
            // accept the CREATE MODEL spellings too: 'x', "x", ['x']
            let v = v
                .trim()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .trim();
            let key = k.trim().to_ascii_lowercase();
            // a list keeps its items, unquoted, joined by ", "
            let v = if key == "transform" {
                // a list of function calls, parsed by `transform::parse`
                v.to_string()
            } else if v.contains(',') {
                list_items(v).join(", ")
            } else {
                v.trim_matches('\'').trim_matches('"').to_string()
            };
            if raw.insert(key.clone(), v).is_some() {
                return Err(MlError::invalid(format!("option {key} is given twice")));
            }
        }
        Self::from_map(raw)
    }

    /// Validates options given as a map of lower-case keys to values.
    pub fn from_map(raw: BTreeMap<String, String>) -> Result<Self> {
        for key in raw.keys() {
            if !VALID.contains(&key.as_str()) {
                return Err(MlError::invalid(format!(
                    "unknown option '{key}'; valid options are: {}",
                    VALID.join(", ")
                )));
            }
        }
        let get = |k: &str| raw.get(k).map(String::as_str);
        let algorithm = match get("model_type").map(str::to_ascii_lowercase).as_deref() {
            Some(t) => Algorithm::from_name(t)?,
            None => {
                return Err(MlError::invalid(format!(
                    "option model_type is required: one of {}",
                    VALID_NAMES.join(", ")
                )));
            }
        };
        check_applicable(algorithm, &raw)?;
        let label = get("input_label_cols").map(|s| s.to_string());
        match (algorithm.is_supervised(), &label) {
            (true, None) => {
                return Err(MlError::invalid(format!(
                    "option input_label_cols is required for model_type '{}'",
                    algorithm.name()
                )));
            }
            (false, Some(_)) => {
                return Err(MlError::invalid(format!(
                    "{} takes no label: remove option input_label_cols",
                    algorithm.name()
                )));
            }
            _ => {}
        }
        let num_clusters = parse_num::<usize>(get("num_clusters"), "num_clusters", 4)?;
        if num_clusters < 1 {
            return Err(MlError::invalid("num_clusters must be at least 1"));
        }
        let default_l2 = if matches!(
            algorithm,
            Algorithm::LogisticRegression | Algorithm::LinearSvm
        ) {
            1.0
        } else {
            0.0
        };
        let l2_reg = parse_num::<f64>(get("l2_reg"), "l2_reg", default_l2)?;
        let l1_reg = parse_num::<f64>(get("l1_reg"), "l1_reg", 0.0)?;
        for (name, v) in [("l2_reg", l2_reg), ("l1_reg", l1_reg)] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(MlError::invalid(format!(
                    "{name} must be a finite number >= 0"
                )));
            }
        }
        if algorithm == Algorithm::LinearSvm && l2_reg <= 0.0 {
            return Err(MlError::invalid(
                "l2_reg of linear_svm must be > 0 (C = 1 / l2_reg)",
            ));
        }
        if l1_reg > 0.0 && algorithm != Algorithm::LinearRegression {
            return Err(MlError::new(
                crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
                format!(
                    "l1_reg is supported for linear_reg only, not {}",
                    algorithm.name()
                ),
            ));
        }
        if get("l2_reg").is_some() && matches!(algorithm, Algorithm::KMeans | Algorithm::NaiveBayes)
            || get("l2_reg").is_some() && algorithm.is_tree()
        {
            return Err(MlError::invalid(format!(
                "{} takes no l2_reg",
                algorithm.name()
            )));
        }
        let default_iters = match algorithm {
            Algorithm::KMeans => 300,
            Algorithm::GaussianMixture => 100,
            Algorithm::LinearRegression => 1000,
            _ => 500,
        };
        let max_iterations =
            parse_num::<u64>(get("max_iterations"), "max_iterations", default_iters)?;
        if max_iterations < 1 {
            return Err(MlError::invalid("max_iterations must be at least 1"));
        }
        let default_n_init = if algorithm == Algorithm::GaussianMixture {
            1
        } else {
            10
        };
        let n_init = parse_num::<usize>(get("n_init"), "n_init", default_n_init)?;
        if !(1..=1000).contains(&n_init) {
            return Err(MlError::invalid("n_init must be between 1 and 1000"));
        }
        let standardize = match get("standardize_features")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("true") => true,
            Some("false") => false,
            Some(v) => {
                return Err(MlError::invalid(format!(
                    "standardize_features must be true or false, got '{v}'"
                )));
            }
        };
        let split = match get("data_split_method")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None if !algorithm.is_supervised() => SplitMethod::NoSplit,
            None | Some("auto_split") => SplitMethod::AutoSplit,
            Some("random") => SplitMethod::Random,
            Some("no_split") => SplitMethod::NoSplit,
            Some("custom") => match get("data_split_col") {
                Some(c) => SplitMethod::Custom(c.to_string()),
                None => {
                    return Err(MlError::invalid(
                        "data_split_method 'custom' needs option data_split_col naming a boolean column (TRUE = evaluation row)",
                    ));
                }
            },
            Some(v) => {
                return Err(MlError::invalid(format!(
                    "data_split_method must be one of auto_split, random, custom, no_split; got '{v}'"
                )));
            }
        };
        if get("data_split_col").is_some() && !matches!(split, SplitMethod::Custom(_)) {
            return Err(MlError::invalid(
                "data_split_col is only used with data_split_method = 'custom'",
            ));
        }
        let eval_fraction = parse_num::<f64>(
            get("data_split_eval_fraction"),
            "data_split_eval_fraction",
            0.2,
        )?;
        if !(eval_fraction > 0.0 && eval_fraction < 1.0) {
            return Err(MlError::invalid(
                "data_split_eval_fraction must be strictly between 0 and 1",
            ));
        }
        let seed = parse_num::<u64>(get("seed"), "seed", 42)?;
        let tree = tree_options(algorithm, &get, seed)?;
        let transform = match get("transform") {
            Some(t) => transform::parse(t)?,
            None => Vec::new(),
        };
        let zoo = zoo_settings(&get)?;
        let embed_columns = get("embed_columns").map(list_items).unwrap_or_default();
        let mut seen = std::collections::BTreeSet::new();
        for c in &embed_columns {
            if !seen.insert(c.as_str()) {
                return Err(MlError::invalid(format!(
                    "embed_columns names column \"{c}\" twice"
                )));
            }
            if label.as_deref() == Some(c.as_str()) {
                return Err(MlError::invalid(format!(
                    "embed_columns names the label \"{c}\"; only features can be embedded"
                )));
            }
        }
        if get("embed_columns").is_some() && embed_columns.is_empty() {
            return Err(MlError::invalid(
                "embed_columns is empty: name the text columns to embed, e.g. embed_columns = ['review']",
            ));
        }
        let embed_model = match get("embed_model") {
            Some(_) if embed_columns.is_empty() => {
                return Err(MlError::invalid(
                    "embed_model is only used with embed_columns (the text columns to embed)",
                ));
            }
            Some("") => return Err(MlError::invalid("embed_model must not be empty")),
            Some(m) => m.to_string(),
            None => DEFAULT_EMBED_MODEL.to_string(),
        };
        Ok(Self {
            algorithm,
            label,
            num_clusters,
            l2_reg,
            l1_reg,
            max_iterations,
            n_init,
            standardize,
            split,
            eval_fraction,
            seed,
            tree,
            transform,
            zoo,
            embed_columns,
            embed_model,
            raw,
        })
    }
}

/// 22023 when `text` has an unclosed `[`, `(` or quote, or a closing
/// bracket without its opening one (quotes respected).
fn check_balanced(text: &str) -> Result<()> {
    let mut open: Vec<char> = Vec::new();
    let mut quote = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '(') => open.push(c),
            (None, ']' | ')') => {
                let want = if c == ']' { '[' } else { '(' };
                if open.pop() != Some(want) {
                    return Err(MlError::invalid(format!(
                        "options: '{c}' without a matching '{want}' in: {text}"
                    )));
                }
            }
            _ => {}
        }
    }
    if let Some(q) = quote {
        return Err(MlError::invalid(format!(
            "options: unclosed quote {q} in: {text}"
        )));
    }
    if let Some(c) = open.pop() {
        let close = if c == '[' { ']' } else { ')' };
        return Err(MlError::invalid(format!(
            "options: unclosed '{c}' (add the closing '{close}') in: {text}"
        )));
    }
    Ok(())
}

/// Splits `key=value, key=value` at the commas outside brackets, parentheses
/// and quotes, so a value may be a list (`transform=[f(a, 1), g(b)]`).
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None, 0);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[' | '(') => depth += 1,
            (None, ']' | ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

/// Rejects an option that does not apply: a model-zoo option given to
/// another algorithm, or, for a model-zoo algorithm, any option outside its
/// own and the common ones (22023, naming the valid ones); `grouping_cols`
/// for a model-zoo algorithm is 0A000.
fn check_applicable(algorithm: Algorithm, raw: &BTreeMap<String, String>) -> Result<()> {
    for (key, owner) in ZOO_KEYS {
        if raw.contains_key(*key) && algorithm.name() != *owner {
            return Err(MlError::invalid(format!(
                "option {key} does not apply to model_type '{}'; it is for {owner}",
                algorithm.name()
            )));
        }
    }
    let Some(own) = zoo_options(algorithm) else {
        return Ok(());
    };
    if raw.contains_key("grouping_cols") {
        return Err(MlError::new(
            crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
            format!(
                "grouping_cols is not supported for model_type '{}' yet; train one model per segment's rows",
                algorithm.name()
            ),
        ));
    }
    for key in raw.keys() {
        if !COMMON.contains(&key.as_str()) && !own.contains(&key.as_str()) {
            let mut valid: Vec<&str> = COMMON.to_vec();
            valid.extend(own);
            return Err(MlError::invalid(format!(
                "option {key} does not apply to model_type '{}'; its options are: {}",
                algorithm.name(),
                valid.join(", ")
            )));
        }
    }
    Ok(())
}

/// Parses and range-checks the model-zoo options (their applicability was
/// checked by `check_applicable`).
fn zoo_settings<'a>(get: &impl Fn(&str) -> Option<&'a str>) -> Result<ZooOptions> {
    let eps = parse_num::<f64>(get("eps"), "eps", 0.5)?;
    if !(eps.is_finite() && eps > 0.0) {
        return Err(MlError::invalid(format!(
            "eps must be a finite number > 0, got {eps}"
        )));
    }
    let min_samples = parse_num::<usize>(get("min_samples"), "min_samples", 5)?;
    if !(2..=100_000).contains(&min_samples) {
        return Err(MlError::invalid(format!(
            "min_samples must be between 2 and 100000, got {min_samples}"
        )));
    }
    match get("covariance_type")
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("full") => {}
        Some(t @ ("tied" | "diag" | "spherical")) => {
            return Err(MlError::new(
                crate::error::sqlstate::FEATURE_NOT_SUPPORTED,
                format!("covariance_type '{t}' is not supported; only 'full' is"),
            ));
        }
        Some(t) => {
            return Err(MlError::invalid(format!(
                "covariance_type must be 'full' (scikit-learn's full, tied, diag and spherical: only full is supported); got '{t}'"
            )));
        }
    }
    let linkage = get("linkage").unwrap_or("ward").to_ascii_lowercase();
    if !crate::zoo::hierarchical::LINKAGES.contains(&linkage.as_str()) {
        return Err(MlError::invalid(format!(
            "linkage must be one of {}; got '{linkage}'",
            crate::zoo::hierarchical::LINKAGES.join(", ")
        )));
    }
    let num_components = get("num_principal_components")
        .map(|v| parse_num::<usize>(Some(v), "num_principal_components", 1))
        .transpose()?;
    if num_components == Some(0) {
        return Err(MlError::invalid(
            "num_principal_components must be at least 1",
        ));
    }
    Ok(ZooOptions {
        eps,
        min_samples,
        linkage,
        num_components,
    })
}

/// Validates the tree options: only for tree models (forest options only for
/// forests), each within its range (22023 otherwise).
fn tree_options<'a>(
    algorithm: Algorithm,
    get: &impl Fn(&str) -> Option<&'a str>,
    seed: u64,
) -> Result<TreeOptions> {
    let forest = algorithm.is_forest();
    for key in TREE_OPTIONS.iter().chain(FOREST_OPTIONS) {
        let for_forests = FOREST_OPTIONS.contains(key);
        let allowed = if for_forests {
            forest
        } else {
            algorithm.is_tree()
        };
        if get(key).is_some() && !allowed {
            return Err(MlError::invalid(format!(
                "option {key} does not apply to model_type '{}'; it is for {}",
                algorithm.name(),
                if for_forests {
                    "random_forest_classifier and random_forest_regressor"
                } else {
                    "decision_tree_classifier, decision_tree_regressor, random_forest_classifier and random_forest_regressor"
                }
            )));
        }
    }
    let default_depth = if forest { 20 } else { 6 };
    let max_depth = parse_num::<usize>(get("max_tree_depth"), "max_tree_depth", default_depth)?;
    if !(1..=100).contains(&max_depth) {
        return Err(MlError::invalid(format!(
            "max_tree_depth must be between 1 and 100, got {max_depth}"
        )));
    }
    let min_split_loss = parse_num::<f64>(get("min_split_loss"), "min_split_loss", 0.0)?;
    if !(min_split_loss.is_finite() && min_split_loss >= 0.0) {
        return Err(MlError::invalid(
            "min_split_loss must be a finite number >= 0",
        ));
    }
    let min_child_rows =
        parse_num::<usize>(get("min_tree_child_weight"), "min_tree_child_weight", 1)?;
    if min_child_rows < 1 {
        return Err(MlError::invalid(
            "min_tree_child_weight must be a whole number >= 1 (training rows in each child of a split)",
        ));
    }
    let trees = parse_num::<usize>(get("num_parallel_tree"), "num_parallel_tree", 100)?;
    if !(1..=1000).contains(&trees) {
        return Err(MlError::invalid(format!(
            "num_parallel_tree must be between 1 and 1000, got {trees}"
        )));
    }
    let fraction = |key: &str, default: f64| -> Result<f64> {
        let v = parse_num::<f64>(get(key), key, default)?;
        if v > 0.0 && v <= 1.0 {
            Ok(v)
        } else {
            Err(MlError::invalid(format!(
                "{key} must be in (0, 1], got {v}"
            )))
        }
    };
    Ok(TreeOptions {
        max_depth,
        min_split_loss,
        min_child_rows,
        trees: if forest { trees } else { 1 },
        subsample: fraction("subsample", 0.8)?,
        colsample_bynode: fraction("colsample_bynode", 0.8)?,
        seed,
    })
}

fn parse_num<T: std::str::FromStr>(value: Option<&str>, key: &str, default: T) -> Result<T> {
    match value {
        None => Ok(default),
        Some(v) => v
            .parse::<T>()
            .map_err(|_| MlError::invalid(format!("option {key} has an invalid value '{v}'"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_validates() {
        let o = TrainOptions::parse("model_type='logistic_reg', input_label_cols=churn").unwrap();
        assert_eq!(o.algorithm, Algorithm::LogisticRegression);
        assert_eq!(o.label.as_deref(), Some("churn"));
        assert_eq!(o.split, SplitMethod::AutoSplit);
        let e = TrainOptions::parse("model_type=kmeans, bogus=1").unwrap_err();
        assert!(e.message.contains("valid options are"), "{e}");
        let e = TrainOptions::parse("model_type=logistic_reg").unwrap_err();
        assert!(e.message.contains("input_label_cols"));
        let e = TrainOptions::parse("model_type=kmeans, num_clusters=0").unwrap_err();
        assert_eq!(e.sqlstate, "22023");
        let e = TrainOptions::parse("model_type=tree").unwrap_err();
        assert!(e.message.contains("kmeans"));
    }

    #[test]
    fn unbalanced_brackets_and_quotes_are_errors() {
        for (text, want) in [
            (
                "model_type=kmeans, transform=[min_max_scaler(tenure)",
                "unclosed '['",
            ),
            (
                "model_type=kmeans, transform=[min_max_scaler(tenure]",
                "']' without",
            ),
            ("model_type='kmeans", "unclosed quote"),
            ("model_type=kmeans]", "']' without"),
        ] {
            let e = TrainOptions::parse(text).unwrap_err();
            assert_eq!(e.sqlstate, "22023", "{text}");
            assert!(e.message.contains(want), "{text}: {}", e.message);
        }
        // brackets inside quotes do not count
        let o = TrainOptions::parse("model_type=kmeans, transform=[imputer(x, '[')]");
        assert!(o.is_ok() || !o.unwrap_err().message.contains("unclosed"));
    }

    #[test]
    fn embed_columns_take_a_list() {
        let o = TrainOptions::parse(
            "model_type=logistic_reg, embed_columns=['review', \"title\"], input_label_cols=['score']",
        )
        .unwrap();
        assert_eq!(o.embed_columns, vec!["review", "title"]);
        assert_eq!(o.embed_model, DEFAULT_EMBED_MODEL);
        assert_eq!(o.label.as_deref(), Some("score"));
        assert_eq!(o.raw["embed_columns"], "review, title");
        let o = TrainOptions::parse("model_type=kmeans, embed_columns=review, embed_model='m'")
            .unwrap();
        assert_eq!(
            (o.embed_columns, o.embed_model),
            (vec!["review".into()], "m".into())
        );
        for bad in [
            "model_type=kmeans, embed_model=m",
            "model_type=kmeans, embed_columns=[]",
            "model_type=kmeans, embed_columns=['a', 'a']",
            "model_type=logistic_reg, input_label_cols=a, embed_columns=a",
        ] {
            assert_eq!(
                TrainOptions::parse(bad).unwrap_err().sqlstate,
                "22023",
                "{bad}"
            );
        }
    }
}
