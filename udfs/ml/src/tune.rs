//! Hyper-parameter tuning: grid search and random search, each trial scored by
//! k-fold cross-validation, the best trial refitted on the training rows.
//!
//! The search space is text, one hyper-parameter per `;`-separated entry:
//!
//! - `l2_reg = [0.01, 0.1, 1]` — candidates (grid and random search);
//! - `l2_reg = range(0.001, 10)` — uniform on the interval (random search only);
//! - `l2_reg = log_range(0.001, 10)` — log-uniform on the interval (random search only).
//!
//! Names are `ml_train` options (see [`crate::options`]); each trial's options
//! are validated like `ml_train`'s before any trial runs. Tuning settings use
//! BigQuery ML's names: `hparam_tuning_algorithm` (`grid_search` default, or
//! `random_search`), `num_trials` (grid: the grid size, random: 10; at most
//! [`MAX_TRIALS`]), `hparam_tuning_objectives` (one metric of `ml_evaluate`;
//! default `roc_auc` for two-class classifiers, `log_loss` for more classes,
//! `r2_score` for regression, `davies_bouldin_index` … see [`default_objective`]),
//! plus Augur's `folds` (default 5) and `seed` (default 42, also the folds' seed).
//! The folds are the same for every trial, so trials are compared on equal terms.

use std::collections::BTreeMap;

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::data::{Column, ColumnValues, LabelType};
use crate::error::{MlError, Result, sqlstate};
use crate::model::{Algorithm, Model};
use crate::options::{SplitMethod, TrainOptions};
use crate::train::{cross_validate, fit};

/// Most trials one tuning may run.
pub const MAX_TRIALS: usize = 100;

/// One tried combination of hyper-parameters and its cross-validated score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// 1-based, in the order the trials ran.
    pub trial_id: u64,
    /// The options this trial set, on top of the base options.
    pub hyperparameters: BTreeMap<String, String>,
    /// The metric compared between trials.
    pub objective: String,
    /// Mean of the objective over the folds; `None` when the trial failed.
    pub objective_value: Option<f64>,
    /// Sample standard deviation of the objective over the folds.
    pub objective_stddev: Option<f64>,
    /// Why the trial failed (e.g. a solver that did not converge), if it did.
    pub error_message: Option<String>,
    /// True for the trial whose options the saved model was fitted with.
    pub is_optimal: bool,
}

/// How hyper-parameter values are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchAlgorithm {
    Grid,
    Random,
}

/// The values one hyper-parameter may take.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    Candidates(Vec<String>),
    Range { low: f64, high: f64, log: bool },
}

/// Parsed tuning settings.
#[derive(Debug, Clone, PartialEq)]
pub struct TuneConfig {
    pub algorithm: SearchAlgorithm,
    pub num_trials: Option<usize>,
    pub objective: Option<String>,
    pub folds: usize,
    pub seed: u64,
}

const SETTINGS: &[&str] = &[
    "hparam_tuning_algorithm",
    "num_trials",
    "hparam_tuning_objectives",
    "folds",
    "seed",
];

/// Options a search space may not vary (they define the problem, not the model).
const FIXED: &[&str] = &[
    "model_type",
    "input_label_cols",
    "data_split_method",
    "data_split_eval_fraction",
    "data_split_col",
];

/// Options that take whole numbers: random search rounds their ranges' draws.
const INTEGER_OPTIONS: &[&str] = &[
    "max_iterations",
    "n_init",
    "num_clusters",
    "min_samples",
    "num_principal_components",
    "max_tree_depth",
    "min_tree_child_weight",
    "num_parallel_tree",
];

/// Metrics where lower is better; every other metric is maximised.
const LOWER_IS_BETTER: &[&str] = &[
    "log_loss",
    "rmse",
    "mae",
    "mean_squared_error",
    "mean_absolute_error",
    "inertia",
    "davies_bouldin_index",
    "bic",
    "aic",
];

fn parse_f64(name: &str, v: &str) -> Result<f64> {
    v.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| MlError::invalid(format!("{name}: '{v}' is not a finite number")))
}

/// Parses the search space (see the module documentation).
/// Errors: 22023 for a malformed entry, an empty candidate list, a range whose
/// low end is not below its high end (or not positive for `log_range`), a
/// repeated name or a name that is one of the problem-defining options.
pub fn parse_space(text: &str) -> Result<BTreeMap<String, Domain>> {
    let mut space = BTreeMap::new();
    for entry in text.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((name, value)) = entry.split_once('=') else {
            return Err(MlError::invalid(format!(
                "search space entry '{entry}' is not of the form option = [a, b, …] or option = range(low, high)"
            )));
        };
        let name = name.trim().to_ascii_lowercase();
        if FIXED.contains(&name.as_str()) {
            return Err(MlError::invalid(format!(
                "{name} cannot be tuned: it defines the problem; set it in the options"
            )));
        }
        let value = value.trim();
        let lower = value.to_ascii_lowercase();
        let domain = if let Some(inner) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']'))
        {
            let values: Vec<String> = inner
                .split(',')
                .map(|v| v.trim().trim_matches('\'').trim_matches('"').to_string())
                .filter(|v| !v.is_empty())
                .collect();
            if values.is_empty() {
                return Err(MlError::invalid(format!(
                    "{name}: the candidate list is empty"
                )));
            }
            Domain::Candidates(values)
        } else if let Some(args) = lower
            .strip_prefix("log_range(")
            .map(|a| (a, true))
            .or_else(|| lower.strip_prefix("range(").map(|a| (a, false)))
            .and_then(|(a, log)| a.strip_suffix(')').map(|a| (a.to_string(), log)))
        {
            let (inner, log) = args;
            let parts: Vec<&str> = inner.split(',').collect();
            if parts.len() != 2 {
                return Err(MlError::invalid(format!(
                    "{name}: a range takes two numbers, range(low, high)"
                )));
            }
            let (low, high) = (parse_f64(&name, parts[0])?, parse_f64(&name, parts[1])?);
            if low >= high || (log && low <= 0.0) {
                return Err(MlError::invalid(format!(
                    "{name}: a range needs low < high{}, got ({low}, {high})",
                    if log { " and low > 0" } else { "" }
                )));
            }
            Domain::Range { low, high, log }
        } else {
            return Err(MlError::invalid(format!(
                "{name}: '{value}' is not a candidate list [a, b, …], range(low, high) or log_range(low, high)"
            )));
        };
        if space.insert(name.clone(), domain).is_some() {
            return Err(MlError::invalid(format!(
                "{name} appears twice in the search space"
            )));
        }
    }
    if space.is_empty() {
        return Err(MlError::invalid(
            "the search space is empty: give e.g. 'l2_reg = [0.01, 0.1, 1]'",
        ));
    }
    Ok(space)
}

/// Parses tuning settings `key = value, …` (names in the module documentation).
pub fn parse_config(text: &str) -> Result<TuneConfig> {
    let mut cfg = TuneConfig {
        algorithm: SearchAlgorithm::Grid,
        num_trials: None,
        objective: None,
        folds: 5,
        seed: 42,
    };
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((k, v)) = part.split_once('=') else {
            return Err(MlError::invalid(format!(
                "tuning setting '{part}' is not of the form key=value"
            )));
        };
        let key = k.trim().to_ascii_lowercase();
        let v = v.trim().trim_matches('\'').trim_matches('"').trim();
        let int = |max: usize| -> Result<usize> {
            v.parse::<usize>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| {
                    MlError::invalid(format!(
                        "{key} must be an integer from 1 to {max}, got '{v}'"
                    ))
                })
        };
        match key.as_str() {
            "hparam_tuning_algorithm" => {
                cfg.algorithm = match v.to_ascii_lowercase().as_str() {
                    "grid_search" => SearchAlgorithm::Grid,
                    "random_search" => SearchAlgorithm::Random,
                    other => {
                        return Err(MlError::invalid(format!(
                            "hparam_tuning_algorithm '{other}' is not supported; use 'grid_search' or 'random_search'"
                        )));
                    }
                }
            }
            "num_trials" => cfg.num_trials = Some(int(MAX_TRIALS)?),
            "hparam_tuning_objectives" => {
                cfg.objective = Some(
                    v.trim_matches(['[', ']'])
                        .trim_matches('\'')
                        .to_ascii_lowercase(),
                )
            }
            "folds" => {
                cfg.folds = int(crate::train::MAX_FOLDS)?;
                if cfg.folds < 2 {
                    return Err(MlError::invalid("folds must be at least 2"));
                }
            }
            "seed" => {
                cfg.seed = v.parse::<u64>().map_err(|_| {
                    MlError::invalid(format!("seed must be a non-negative integer, got '{v}'"))
                })?
            }
            _ => {
                return Err(MlError::invalid(format!(
                    "unknown tuning setting '{key}'; valid settings are: {}",
                    SETTINGS.join(", ")
                )));
            }
        }
    }
    Ok(cfg)
}

/// The objective used when none is given: `roc_auc` (two-class classifiers),
/// `log_loss` (more classes), `r2_score` (regression), `davies_bouldin_index`
/// (k-means), `bic` (gaussian_mixture, on the held-out fold), `silhouette`
/// (agglomerative), `explained_variance_ratio` (pca), else the first metric
/// the model reports.
pub fn default_objective(algorithm: Algorithm, metrics: &BTreeMap<String, f64>) -> Option<String> {
    let preferred: &[&str] = match algorithm {
        Algorithm::LinearRegression => &["r2_score"],
        Algorithm::KMeans => &["davies_bouldin_index", "silhouette", "inertia"],
        Algorithm::GaussianMixture => &["bic"],
        Algorithm::Agglomerative => &["silhouette", "inertia"],
        Algorithm::Pca => &["explained_variance_ratio"],
        _ => &["roc_auc", "log_loss", "accuracy"],
    };
    preferred
        .iter()
        .find(|m| metrics.contains_key(**m))
        .map(|m| m.to_string())
        .or_else(|| metrics.keys().next().cloned())
}

fn format_value(x: f64) -> String {
    // shortest text that reads back as the same number
    format!("{x}")
}

/// The hyper-parameter combinations to try, in order.
fn combinations(
    space: &BTreeMap<String, Domain>,
    cfg: &TuneConfig,
) -> Result<Vec<BTreeMap<String, String>>> {
    match cfg.algorithm {
        SearchAlgorithm::Grid => {
            let mut grid = vec![BTreeMap::new()];
            for (name, domain) in space {
                let Domain::Candidates(values) = domain else {
                    return Err(MlError::invalid(format!(
                        "{name}: grid search needs a candidate list [a, b, …]; ranges need hparam_tuning_algorithm = 'random_search'"
                    )));
                };
                grid = grid
                    .into_iter()
                    .flat_map(|g| {
                        values.iter().map(move |v| {
                            let mut g = g.clone();
                            g.insert(name.clone(), v.clone());
                            g
                        })
                    })
                    .collect();
                if grid.len() > MAX_TRIALS {
                    return Err(MlError::new(
                        sqlstate::PROGRAM_LIMIT_EXCEEDED,
                        format!(
                            "the grid has more than {MAX_TRIALS} combinations; use fewer candidates or random_search with num_trials"
                        ),
                    ));
                }
            }
            if let Some(n) = cfg.num_trials {
                grid.truncate(n);
            }
            Ok(grid)
        }
        SearchAlgorithm::Random => {
            let n = cfg.num_trials.unwrap_or(10);
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(cfg.seed);
            let mut unit = move || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            Ok((0..n)
                .map(|_| {
                    space
                        .iter()
                        .map(|(name, domain)| {
                            let v = match domain {
                                Domain::Candidates(values) => {
                                    let i = ((unit() * values.len() as f64) as usize)
                                        .min(values.len() - 1);
                                    values[i].clone()
                                }
                                Domain::Range { low, high, log } => {
                                    let x = if *log {
                                        (low.ln() + unit() * (high.ln() - low.ln())).exp()
                                    } else {
                                        low + unit() * (high - low)
                                    };
                                    if INTEGER_OPTIONS.contains(&name.as_str()) {
                                        format_value(x.round().clamp(low.ceil(), high.floor()))
                                    } else {
                                        format_value(x)
                                    }
                                }
                            };
                            (name.clone(), v)
                        })
                        .collect()
                })
                .collect())
        }
    }
}

fn trial_options(
    base: &BTreeMap<String, String>,
    hp: &BTreeMap<String, String>,
    seed: u64,
) -> Result<TrainOptions> {
    let mut raw = base.clone();
    raw.entry("seed".into()).or_insert_with(|| seed.to_string());
    for (k, v) in hp {
        raw.insert(k.clone(), v.clone());
    }
    TrainOptions::from_map(raw)
}

/// Runs the search and returns the best trial's model, fitted with the base
/// options' split, with every trial recorded in [`Model::trials`].
///
/// Errors: 22023 for an invalid trial (checked before any trial runs), an
/// objective the model does not report, and when every trial fails (with the
/// first trial's error); 54000 for a grid over [`MAX_TRIALS`].
pub fn tune(
    columns: &[Column],
    label_type: Option<LabelType>,
    base: &TrainOptions,
    space: &BTreeMap<String, Domain>,
    cfg: &TuneConfig,
) -> Result<Model> {
    let combos = combinations(space, cfg)?;
    let options: Vec<TrainOptions> = combos
        .iter()
        .map(|hp| {
            trial_options(&base.raw, hp, cfg.seed)
                .map_err(|e| MlError::new(e.sqlstate, format!("trial with {hp:?}: {}", e.message)))
        })
        .collect::<Result<_>>()?;
    // With a custom split the trials are cross-validated on the training rows
    // only, so the held-out rows stay unseen until the final evaluation.
    let cv_columns: Vec<Column> = match &base.split {
        SplitMethod::Custom(col) => {
            let split = columns.iter().find(|c| &c.name == col).ok_or_else(|| {
                MlError::new(
                    sqlstate::UNDEFINED_COLUMN,
                    format!("column \"{col}\" (data_split_col) is not in the training query"),
                )
            })?;
            let ColumnValues::Numeric(flags) = &split.values else {
                return Err(MlError::new(
                    sqlstate::DATATYPE_MISMATCH,
                    format!("data_split_col \"{col}\" must be boolean"),
                ));
            };
            let train: Vec<bool> = flags.iter().map(|f| *f != Some(1.0)).collect();
            columns
                .iter()
                .filter(|c| &c.name != col)
                .map(|c| Column {
                    name: c.name.clone(),
                    sql_type: c.sql_type.clone(),
                    values: c.values.filter(&train),
                })
                .collect()
        }
        _ => columns.to_vec(),
    };
    let mut trials = Vec::with_capacity(combos.len());
    let mut objective = cfg.objective.clone();
    let mut first_error = None;
    for (i, (hp, opts)) in combos.iter().zip(&options).enumerate() {
        let mut cv_opts = opts.clone();
        cv_opts.seed = cfg.seed;
        cv_opts.split = SplitMethod::AutoSplit;
        let result = cross_validate(&cv_columns, label_type, &cv_opts, cfg.folds).and_then(|folds| {
            let name = match &objective {
                Some(o) => o.clone(),
                None => default_objective(opts.algorithm, &folds[0].1).ok_or_else(|| {
                    MlError::invalid("the model reports no metric to tune on")
                })?,
            };
            let values: Vec<f64> = folds
                .iter()
                .map(|(_, m)| {
                    m.get(&name).copied().ok_or_else(|| {
                        MlError::invalid(format!(
                            "hparam_tuning_objectives '{name}' is not a metric of this model; it reports: {}",
                            m.keys().cloned().collect::<Vec<_>>().join(", ")
                        ))
                    })
                })
                .collect::<Result<_>>()?;
            Ok((name, values))
        });
        match result {
            Ok((name, values)) => {
                let n = values.len() as f64;
                let mean = values.iter().sum::<f64>() / n;
                let var =
                    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
                objective = Some(name.clone());
                trials.push(Trial {
                    trial_id: i as u64 + 1,
                    hyperparameters: hp.clone(),
                    objective: name,
                    objective_value: Some(mean),
                    objective_stddev: Some(var.sqrt()),
                    error_message: None,
                    is_optimal: false,
                });
            }
            Err(e) => {
                // a bad objective name is the user's mistake, not a failed trial
                if e.message.contains("hparam_tuning_objectives") {
                    return Err(e);
                }
                trials.push(Trial {
                    trial_id: i as u64 + 1,
                    hyperparameters: hp.clone(),
                    objective: objective.clone().unwrap_or_default(),
                    objective_value: None,
                    objective_stddev: None,
                    error_message: Some(e.message.clone()),
                    is_optimal: false,
                });
                first_error.get_or_insert(e);
            }
        }
    }
    let lower_better = objective
        .as_deref()
        .is_some_and(|o| LOWER_IS_BETTER.contains(&o));
    let best = trials
        .iter()
        .enumerate()
        .filter_map(|(i, t)| t.objective_value.map(|v| (i, v)))
        .reduce(|a, b| {
            let better = if lower_better { b.1 < a.1 } else { b.1 > a.1 };
            if better { b } else { a }
        })
        .map(|(i, _)| i);
    let Some(best) = best else {
        let e = first_error.unwrap_or_else(|| MlError::invalid("no trial ran"));
        return Err(MlError::new(
            e.sqlstate,
            format!("every tuning trial failed; the first: {}", e.message),
        ));
    };
    for t in &mut trials {
        t.objective = objective.clone().unwrap_or_default();
    }
    trials[best].is_optimal = true;
    let mut model = fit(columns.to_vec(), label_type, &options[best])?;
    model.trials = trials;
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_is_the_cartesian_product_in_name_order() {
        let space = parse_space("l2_reg = [0.1, 1]; max_iterations = [10, 20, 30]").unwrap();
        let cfg = parse_config("").unwrap();
        let combos = combinations(&space, &cfg).unwrap();
        assert_eq!(combos.len(), 6);
        assert_eq!(combos[0]["l2_reg"], "0.1");
        assert_eq!(combos[0]["max_iterations"], "10");
        assert_eq!(combos[5]["l2_reg"], "1");
        assert_eq!(combos[5]["max_iterations"], "30");
    }

    #[test]
    fn random_search_is_seeded_and_stays_in_range() {
        let space = parse_space("l2_reg = log_range(0.001, 10); n_init = [1, 2]").unwrap();
        let cfg =
            parse_config("hparam_tuning_algorithm = random_search, num_trials = 50, seed = 7")
                .unwrap();
        let a = combinations(&space, &cfg).unwrap();
        assert_eq!(a, combinations(&space, &cfg).unwrap());
        assert_eq!(a.len(), 50);
        for c in &a {
            let x: f64 = c["l2_reg"].parse().unwrap();
            assert!((0.001..=10.0).contains(&x), "{x}");
            assert!(c["n_init"] == "1" || c["n_init"] == "2");
        }
    }

    #[test]
    fn random_search_draws_whole_numbers_for_whole_number_options() {
        let space =
            parse_space("max_tree_depth = range(1, 8); num_parallel_tree = log_range(10, 500)")
                .unwrap();
        let cfg = parse_config("hparam_tuning_algorithm = random_search, num_trials = 30").unwrap();
        for c in combinations(&space, &cfg).unwrap() {
            let d: u64 = c["max_tree_depth"].parse().unwrap();
            let n: u64 = c["num_parallel_tree"].parse().unwrap();
            assert!((1..=8).contains(&d) && (10..=500).contains(&n), "{c:?}");
        }
    }

    #[test]
    fn bad_spaces_and_settings_are_refused() {
        for bad in [
            "",
            "l2_reg",
            "l2_reg = []",
            "l2_reg = range(1, 0)",
            "l2_reg = log_range(0, 1)",
            "model_type = [kmeans]",
            "l2_reg = [1]; l2_reg = [2]",
            "l2_reg = 0.1",
        ] {
            assert!(parse_space(bad).is_err(), "{bad}");
        }
        for bad in [
            "folds = 1",
            "num_trials = 0",
            "hparam_tuning_algorithm = vizier",
            "tries = 3",
        ] {
            assert!(parse_config(bad).is_err(), "{bad}");
        }
        let space = parse_space("l2_reg = range(0, 1)").unwrap();
        assert!(combinations(&space, &parse_config("").unwrap()).is_err());
    }
}
