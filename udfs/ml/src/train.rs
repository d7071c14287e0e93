//! Training: split, fit the encoding, fit the algorithm through linfa, evaluate.

use std::collections::{BTreeMap, BTreeSet};

use linfa::prelude::*;
use linfa_elasticnet::ElasticNet;
use linfa_linear::LinearRegression;
use ndarray::{Array1, Array2, Axis};

use crate::data::{Column, ColumnValues, LabelType};
use crate::encoder::FeatureEncoder;
use crate::error::{MlError, Result, sqlstate};
use crate::metrics;
use crate::model::{Algorithm, LabelSpec, Model, Parameters, Prediction};
use crate::options::{SplitMethod, TrainOptions};
use crate::split::{canonical_order, row_fractions, row_hashes};

/// Rows at or above which `auto_split` holds out an evaluation set.
pub const AUTO_SPLIT_MIN_ROWS: usize = 500;

/// L-BFGS stops when the norm of the mean objective's gradient falls below
/// this (see [`crate::logistic`]), the same at any row count.
const GRADIENT_TOLERANCE: f64 = 1e-6;
/// The silhouette in a training summary uses at most this many rows, picked
/// by row hash (scikit-learn's `sample_size`); the `silhouette` aggregate uses
/// all rows.
pub const SILHOUETTE_SAMPLE: usize = 10_000;

/// Trains a model on the columns of a query.
///
/// `label_types` tells the SQL type family of each column (needed only for the
/// label). Errors: 42703 unknown label/split column, 22004 NULL labels, 22023
/// empty input, one class, k > rows; 0A000 more than two classes.
pub fn fit(
    columns: Vec<Column>,
    label_type: Option<LabelType>,
    opts: &TrainOptions,
) -> Result<Model> {
    if let Some(group) = opts.raw.get("grouping_cols") {
        return crate::segment::fit_segmented(columns, label_type, opts, group);
    }
    fit_split(&columns, label_type, opts, None)
}

/// The held-out rows the options choose: the TRUE rows of `data_split_col`
/// (column `split_idx`), none (`no_split`, or `auto_split` below
/// [`AUTO_SPLIT_MIN_ROWS`] rows), else each row whose hash fraction is below
/// `data_split_eval_fraction`. Errors: 42804 for a non-boolean split column.
pub(crate) fn eval_mask(
    columns: &[Column],
    opts: &TrainOptions,
    split_idx: Option<usize>,
    hashes: &[u64],
) -> Result<Vec<bool>> {
    let rows = hashes.len();
    Ok(match (&opts.split, split_idx) {
        (SplitMethod::Custom(name), Some(i)) => match &columns[i].values {
            ColumnValues::Numeric(v) if columns[i].sql_type == "boolean" => {
                v.iter().map(|x| x == &Some(1.0)).collect()
            }
            _ => {
                return Err(MlError::new(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "data_split_col \"{name}\" must be a boolean column (TRUE = evaluation row)"
                    ),
                ));
            }
        },
        (SplitMethod::NoSplit, _) => vec![false; rows],
        (SplitMethod::AutoSplit, _) if rows < AUTO_SPLIT_MIN_ROWS => vec![false; rows],
        _ => row_fractions(hashes, opts.seed)
            .into_iter()
            .map(|f| f < opts.eval_fraction)
            .collect(),
    })
}

/// `fit` (of one model, never per segment) with the evaluation rows given.
pub fn fit_with_eval(
    columns: &[Column],
    label_type: Option<LabelType>,
    opts: &TrainOptions,
    eval_rows: Vec<bool>,
) -> Result<Model> {
    fit_split(columns, label_type, opts, Some(eval_rows))
}

/// 0A000 for what per-segment models do not support yet.
fn refuse_segments(opts_or_model: bool, what: &str) -> Result<()> {
    if opts_or_model {
        return Err(MlError::new(
            sqlstate::FEATURE_NOT_SUPPORTED,
            format!(
                "{what} is not supported for per-segment models (grouping_cols); use it on a model of one segment's rows"
            ),
        ));
    }
    Ok(())
}

/// Folds of k-fold cross-validation allowed.
pub const MAX_FOLDS: usize = 20;

/// k-fold cross-validation: every row is assigned to one of `folds` folds by
/// the hash of its values and the seed (so folds do not depend on row order);
/// for each fold a model is trained on the other folds and evaluated on it.
/// Returns the metrics of each fold, in fold order. The options' own split
/// settings are not used. Errors: 22023 for fewer than 2 or more than 20 folds
/// or fewer rows than folds, and every error `fit` gives on a fold.
pub fn cross_validate(
    columns: &[Column],
    label_type: Option<LabelType>,
    opts: &TrainOptions,
    folds: usize,
) -> Result<Vec<(Model, BTreeMap<String, f64>)>> {
    let rows = columns.first().map_or(0, |c| c.values.len());
    if !(2..=MAX_FOLDS).contains(&folds) {
        return Err(MlError::invalid(format!(
            "folds must be between 2 and {MAX_FOLDS}, got {folds}"
        )));
    }
    if rows < folds {
        return Err(MlError::invalid(format!(
            "{rows} rows cannot be split into {folds} folds"
        )));
    }
    refuse_segments(opts.raw.contains_key("grouping_cols"), "cross-validation")?;
    if matches!(opts.split, SplitMethod::Custom(_)) {
        return Err(MlError::invalid(
            "cross-validation makes its own folds: remove data_split_method = 'custom'",
        ));
    }
    let all: Vec<&Column> = columns.iter().collect();
    let fold_of: Vec<usize> = row_fractions(&row_hashes(&all, rows), opts.seed)
        .into_iter()
        .map(|f| ((f * folds as f64) as usize).min(folds - 1))
        .collect();
    (0..folds)
        .map(|k| {
            let eval: Vec<bool> = fold_of.iter().map(|f| *f == k).collect();
            let model = fit_split(columns, label_type, opts, Some(eval))?;
            let metrics = model.metrics.clone();
            Ok((model, metrics))
        })
        .collect()
}

/// `fit` with the evaluation rows given (`Some`) or chosen by the options (`None`).
fn fit_split(
    columns: &[Column],
    label_type: Option<LabelType>,
    opts: &TrainOptions,
    eval_rows: Option<Vec<bool>>,
) -> Result<Model> {
    let rows = columns.first().map_or(0, |c| c.values.len());
    if rows == 0 {
        return Err(MlError::invalid(
            "the training query returned no rows; check its WHERE clause",
        ));
    }
    for c in columns {
        if let ColumnValues::Numeric(v) = &c.values
            && let Some(bad) = v.iter().flatten().find(|x| !x.is_finite())
        {
            return Err(MlError::invalid(format!(
                "column \"{}\" contains {bad}; a model needs finite numbers (filter them out or replace them with NULL)",
                c.name
            )));
        }
    }
    let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let find = |name: &str| -> Result<usize> {
        names.iter().position(|n| *n == name).ok_or_else(|| {
            MlError::new(
                sqlstate::UNDEFINED_COLUMN,
                format!(
                    "column \"{name}\" is not in the training query; its columns are: {}",
                    names.join(", ")
                ),
            )
        })
    };
    let label_idx = opts.label.as_deref().map(find).transpose()?;
    let split_idx = match &opts.split {
        SplitMethod::Custom(c) => Some(find(c)?),
        _ => None,
    };

    let all: Vec<&Column> = columns.iter().collect();
    let hashes = row_hashes(&all, rows);
    // evaluation mask
    let eval = match eval_rows {
        Some(e) => e,
        None => eval_mask(columns, opts, split_idx, &hashes)?,
    };
    let train_mask: Vec<bool> = eval.iter().map(|e| !e).collect();
    let n_train = train_mask.iter().filter(|t| **t).count();
    let n_eval = rows - n_train;
    if n_train == 0 {
        return Err(MlError::invalid(
            "every row is an evaluation row; no rows are left to train on",
        ));
    }

    let feature_cols: Vec<&Column> = columns
        .iter()
        .enumerate()
        .filter(|(i, _)| Some(*i) != label_idx && Some(*i) != split_idx)
        .map(|(_, c)| c)
        .collect();
    if feature_cols.is_empty() {
        return Err(MlError::invalid(
            "the training query has no feature columns besides the label",
        ));
    }
    let train_cols: Vec<Column> = feature_cols
        .iter()
        .map(|c| Column {
            name: c.name.clone(),
            sql_type: c.sql_type.clone(),
            values: c.values.filter(&train_mask),
        })
        .collect();
    let train_refs: Vec<&Column> = train_cols.iter().collect();
    let penalised = opts.l1_reg + opts.l2_reg > 0.0;
    // unpenalised least squares needs full-rank features: drop one category per column
    let drop_first = opts.algorithm == Algorithm::LinearRegression && !penalised;
    let encoder =
        FeatureEncoder::fit_with(&train_refs, opts.standardize, drop_first, &opts.transform)?;
    // all rows encoded once, then split: filtering the columns first would
    // copy every text value of both sides
    let all_refs: Vec<&ColumnValues> = feature_cols.iter().map(|c| &c.values).collect();
    let x_all = if rows.saturating_mul(encoder.width().max(1)) <= crate::encoder::MAX_CELLS {
        Some(encoder.transform(&all_refs)?)
    } else {
        None
    };
    let encode = |mask: &[bool]| -> Result<Array2<f64>> {
        match &x_all {
            Some(x) => {
                let rows: Vec<usize> = (0..mask.len()).filter(|r| mask[*r]).collect();
                Ok(x.select(Axis(0), &rows))
            }
            None => {
                let cols: Vec<ColumnValues> =
                    feature_cols.iter().map(|c| c.values.filter(mask)).collect();
                let refs: Vec<&ColumnValues> = cols.iter().collect();
                encoder.transform(&refs)
            }
        }
    };
    let x_train = encode(&train_mask)?;
    let x_eval = encode(&eval)?;
    drop(x_all);
    // rows in an order that depends only on their values (see split::canonical_order)
    let order = canonical_order(&masked(&hashes, &train_mask));
    let x_fit = x_train.select(Axis(0), &order);
    let label = label_idx.map(|i| &columns[i]);

    let mut model = Model {
        algorithm: opts.algorithm,
        label: None,
        encoder,
        parameters: Parameters::Linear {
            coefficients: vec![],
            intercept: 0.0,
        },
        metrics: BTreeMap::new(),
        training_rows: n_train as u64,
        evaluation_rows: n_eval as u64,
        options: opts.raw.clone(),
        trials: Vec::new(),
        segments: None,
        embeddings: Vec::new(),
    };

    match opts.algorithm {
        Algorithm::LogisticRegression => {
            let (spec, y, y_train) = classifier_labels(label, label_type, &train_mask, &order)?;
            let y_fit = y_train.as_slice().unwrap_or(&[]);
            model.parameters = if spec.classes.len() == 2 {
                let positive: Vec<bool> = y_fit.iter().map(|c| *c == 1).collect();
                let fitted = crate::logistic::fit_binary(
                    x_fit.view(),
                    &positive,
                    opts.l2_reg,
                    opts.max_iterations,
                    GRADIENT_TOLERANCE,
                )?;
                Parameters::Logistic {
                    coefficients: fitted.coefficients[0].clone(),
                    intercept: fitted.intercepts[0],
                }
            } else {
                // fit over the classes present in training; a class with no
                // training rows gets probability ~0
                let present: Vec<usize> = y_fit
                    .iter()
                    .copied()
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let index: Vec<usize> = y_fit
                    .iter()
                    .map(|c| present.binary_search(c).unwrap_or(0))
                    .collect();
                let fitted = crate::logistic::fit_multinomial(
                    x_fit.view(),
                    &index,
                    present.len(),
                    opts.l2_reg,
                    opts.max_iterations,
                    GRADIENT_TOLERANCE,
                )?;
                let mut coefficients = vec![vec![0.0; x_fit.ncols()]; spec.classes.len()];
                let mut intercepts = vec![-1e6; spec.classes.len()];
                for (j, class) in present.iter().enumerate() {
                    coefficients[*class] = fitted.coefficients[j].clone();
                    intercepts[*class] = fitted.intercepts[j];
                }
                Parameters::Multinomial {
                    coefficients,
                    intercepts,
                }
            };
            let y_eval = masked(&y, &eval);
            model.label = Some(spec);
            if !y_eval.is_empty() {
                model.metrics = classification_metrics(&model, &x_eval, &y_eval)?;
            }
        }
        Algorithm::NaiveBayes => {
            let (spec, y, y_train) = classifier_labels(label, label_type, &train_mask, &order)?;
            if x_fit.ncols() == 0 {
                return Err(MlError::invalid(
                    "every feature column is constant in the training rows",
                ));
            }
            // scikit-learn's GaussianNB: per-class means and variances, variances
            // smoothed by 1e-9 × the largest feature variance
            let y_text = y_train.mapv(|c| c.to_string());
            let fitted = linfa_bayes::GaussianNb::params()
                .var_smoothing(1e-9)
                .fit(&Dataset::new(x_fit.clone(), y_text))
                .map_err(|e| {
                    MlError::new(sqlstate::DATA_EXCEPTION, format!("naive Bayes failed: {e}"))
                })?;
            model.parameters = Parameters::NaiveBayes { model: fitted };
            let y_eval = masked(&y, &eval);
            model.label = Some(spec);
            if !y_eval.is_empty() {
                model.metrics = classification_metrics(&model, &x_eval, &y_eval)?;
            }
        }
        Algorithm::DecisionTreeClassifier | Algorithm::RandomForestClassifier => {
            let (spec, y, y_train) = classifier_labels(label, label_type, &train_mask, &order)?;
            if x_fit.ncols() == 0 {
                return Err(MlError::invalid(
                    "every feature column is constant in the training rows",
                ));
            }
            let y_fit = y_train.to_vec();
            let target = crate::trees::Target::Classes(&y_fit, spec.classes.len());
            let trees = if opts.algorithm.is_forest() {
                crate::trees::fit_forest(&x_fit, target, &opts.tree)?
            } else {
                vec![crate::trees::fit_tree(&x_fit, target, &opts.tree)?]
            };
            model.parameters = Parameters::Trees { trees };
            let y_eval = masked(&y, &eval);
            model.label = Some(spec);
            if !y_eval.is_empty() {
                model.metrics = classification_metrics(&model, &x_eval, &y_eval)?;
            }
        }
        Algorithm::DecisionTreeRegressor | Algorithm::RandomForestRegressor => {
            let label = label.ok_or_else(|| MlError::invalid("a regressor needs a label"))?;
            let y = numeric_label(label)?;
            let y_train = permuted(&masked(&y, &train_mask), &order).to_vec();
            if x_fit.ncols() == 0 {
                return Err(MlError::invalid(
                    "every feature column is constant in the training rows",
                ));
            }
            let target = crate::trees::Target::Values(&y_train);
            let trees = if opts.algorithm.is_forest() {
                crate::trees::fit_forest(&x_fit, target, &opts.tree)?
            } else {
                vec![crate::trees::fit_tree(&x_fit, target, &opts.tree)?]
            };
            model.parameters = Parameters::Trees { trees };
            finish_regression(&mut model, &label.name, &masked(&y, &eval), &x_eval)?;
        }
        Algorithm::LinearRegression => {
            let label = label.ok_or_else(|| MlError::invalid("linear_reg needs a label"))?;
            let y = numeric_label(label)?;
            let y_train = permuted(&masked(&y, &train_mask), &order);
            if x_train.ncols() == 0 {
                return Err(MlError::invalid(
                    "every feature column is constant in the training rows",
                ));
            }
            if !penalised && n_train <= x_train.ncols() {
                return Err(MlError::invalid(format!(
                    "linear regression needs more training rows ({n_train}) than encoded features ({}); or set l2_reg",
                    x_train.ncols()
                )));
            }
            model.parameters = if opts.l1_reg == 0.0 && opts.l2_reg > 0.0 {
                let (coefficients, intercept) = crate::ridge::fit(
                    x_fit.view(),
                    y_train.view(),
                    opts.l2_reg,
                )
                .ok_or_else(|| {
                    MlError::new(
                        sqlstate::DATA_EXCEPTION,
                        "ridge regression failed: the features or label hold non-finite values",
                    )
                })?;
                Parameters::Linear {
                    coefficients,
                    intercept,
                }
            } else if penalised {
                // linfa-elasticnet centres y but not X, which fixes the intercept at
                // mean(y) and is wrong for uncentred columns (one-hot features).
                // Centre X ourselves, as scikit-learn does, and move the shift into
                // the intercept.
                let x_mean = x_fit
                    .mean_axis(Axis(0))
                    .unwrap_or_else(|| Array1::zeros(x_fit.ncols()));
                let x_centred = &x_fit - &x_mean.view().insert_axis(Axis(0));
                let fitted = ElasticNet::params()
                    .penalty(opts.l1_reg + opts.l2_reg)
                    .l1_ratio(opts.l1_reg / (opts.l1_reg + opts.l2_reg))
                    .with_intercept(true)
                    .max_iterations(opts.max_iterations.min(u64::from(u32::MAX)) as u32)
                    .tolerance(1e-6)
                    .fit(&Dataset::new(x_centred, y_train))
                    .map_err(|e| {
                        MlError::new(sqlstate::DATA_EXCEPTION, format!("elastic net failed: {e}"))
                    })?;
                let w = fitted.hyperplane();
                Parameters::Linear {
                    coefficients: w.to_vec(),
                    intercept: fitted.intercept() - x_mean.dot(w),
                }
            } else {
                let fitted = LinearRegression::default()
                    .fit(&Dataset::new(x_fit.clone(), y_train.clone()))
                    .map_err(|e| {
                        MlError::new(
                            sqlstate::DATA_EXCEPTION,
                            format!("linear regression failed: {e}; remove collinear feature columns or set l2_reg"),
                        )
                    })?;
                let p = Parameters::Linear {
                    coefficients: fitted.params().to_vec(),
                    intercept: fitted.intercept(),
                };
                check_least_squares(&p, &x_fit, y_train.as_slice().unwrap_or(&[]))?;
                p
            };
            finish_regression(&mut model, &label.name, &masked(&y, &eval), &x_eval)?;
        }
        Algorithm::LinearSvm => {
            let (spec, y, y_train) = classifier_labels(label, label_type, &train_mask, &order)?;
            if spec.classes.len() != 2 {
                return Err(MlError::new(
                    sqlstate::FEATURE_NOT_SUPPORTED,
                    format!(
                        "linear_svm supports two classes; label \"{}\" has {} (use logistic_reg or a tree model for more)",
                        spec.name,
                        spec.classes.len()
                    ),
                ));
            }
            if x_fit.ncols() == 0 {
                return Err(MlError::invalid(
                    "every feature column is constant in the training rows",
                ));
            }
            let positive: Vec<bool> = y_train.iter().map(|c| *c == 1).collect();
            let (coefficients, intercept) =
                crate::zoo::svm::fit(&x_fit, &positive, 1.0 / opts.l2_reg)?;
            model.parameters = Parameters::LinearSvm {
                coefficients,
                intercept,
            };
            let y_eval = masked(&y, &eval);
            model.label = Some(spec);
            if !y_eval.is_empty() {
                model.metrics = classification_metrics(&model, &x_eval, &y_eval)?;
            }
        }
        Algorithm::Dbscan => {
            if x_train.ncols() == 0 {
                return Err(MlError::invalid(
                    "every feature column is constant; dbscan needs at least one varying column",
                ));
            }
            let fitted = crate::zoo::dbscan::fit(&x_fit, opts.zoo.eps, opts.zoo.min_samples)?;
            model.parameters = Parameters::Dbscan {
                eps: opts.zoo.eps,
                core_samples: fitted.core_samples,
                core_clusters: fitted.core_clusters,
            };
            // the labels ml_predict and ml_evaluate give these rows (a border
            // point goes to its nearest core sample's cluster), so the stored
            // metrics equal ml_evaluate over the training query
            if let Prediction::Clusters { cluster, .. } = model.predict_encoded(&x_fit)? {
                model.metrics = dbscan_metrics(&x_fit, &cluster);
            }
        }
        Algorithm::GaussianMixture => {
            let k = opts.num_clusters;
            check_clusters("gaussian_mixture", k, &x_train)?;
            let fitted =
                crate::zoo::mixture::fit(&x_fit, k, opts.n_init, opts.max_iterations, opts.seed)?;
            model.parameters = Parameters::GaussianMixture {
                weights: fitted.weights,
                means: fitted.means,
                covariances: fitted.covariances,
            };
            let x_m = if n_eval > 0 { &x_eval } else { &x_fit };
            model.metrics = mixture_metrics(&model, x_m)?;
        }
        Algorithm::Agglomerative => {
            let k = opts.num_clusters;
            check_clusters("agglomerative", k, &x_train)?;
            let (labels, centroids) = crate::zoo::hierarchical::fit(&x_fit, k, &opts.zoo.linkage)?;
            insert(
                &mut model.metrics,
                "inertia",
                Some(metrics::inertia(&x_fit, &centroids, &labels)),
            );
            let m = n_train.min(SILHOUETTE_SAMPLE);
            insert(
                &mut model.metrics,
                "silhouette",
                metrics::silhouette(x_fit.slice(ndarray::s![..m, ..]), &labels[..m]),
            );
            model.parameters = Parameters::Agglomerative {
                linkage: opts.zoo.linkage.clone(),
                centroids,
            };
        }
        Algorithm::Pca => {
            let most = n_train.min(x_train.ncols());
            if n_train < 2 {
                return Err(MlError::invalid(format!(
                    "pca needs at least 2 training rows; got {n_train}"
                )));
            }
            if x_train.ncols() == 0 {
                return Err(MlError::invalid(
                    "every feature column is constant; pca needs at least one varying column",
                ));
            }
            let k = opts.zoo.num_components.unwrap_or(most);
            if k > most {
                return Err(MlError::invalid(format!(
                    "num_principal_components = {k} but at most min(training rows, encoded features) = min({n_train}, {}) = {most} components exist",
                    x_train.ncols()
                )));
            }
            let fitted = crate::zoo::pca::fit(&x_fit, k)?;
            insert(
                &mut model.metrics,
                "explained_variance_ratio",
                Some(fitted.explained_variance_ratio.iter().sum::<f64>().min(1.0)),
            );
            model.parameters = Parameters::Pca {
                mean: fitted.mean,
                components: fitted.components,
                explained_variance: fitted.explained_variance,
                explained_variance_ratio: fitted.explained_variance_ratio,
            };
        }
        Algorithm::KMeans => {
            let k = opts.num_clusters;
            check_clusters("k-means", k, &x_train)?;
            let fitted =
                crate::kmeans::fit(x_fit.view(), k, opts.n_init, opts.max_iterations, opts.seed);
            let centroids = fitted.centroids;
            model.parameters = Parameters::KMeans {
                centroids: centroids.clone(),
            };
            // rows in hash order, so the silhouette sample (the first rows)
            // does not depend on the order the query returned them in
            let x_eval_sorted;
            let (x_m, label_rows) = if n_eval > 0 {
                x_eval_sorted = x_eval.select(Axis(0), &canonical_order(&masked(&hashes, &eval)));
                (&x_eval_sorted, n_eval)
            } else {
                (&x_fit, n_train)
            };
            if let Prediction::Clusters { cluster, .. } = model.predict_encoded(x_m)? {
                insert(
                    &mut model.metrics,
                    "inertia",
                    Some(metrics::inertia(x_m, &centroids, &cluster)),
                );
                let m = label_rows.min(SILHOUETTE_SAMPLE);
                insert(
                    &mut model.metrics,
                    "silhouette",
                    metrics::silhouette(x_m.slice(ndarray::s![..m, ..]), &cluster[..m]),
                );
            }
        }
    }
    Ok(model)
}

/// The checks every clustering with a fixed number of clusters makes: k
/// at most the training rows and the distinct points, and at least one
/// varying feature (22023).
fn check_clusters(what: &str, k: usize, x_train: &Array2<f64>) -> Result<()> {
    let n_train = x_train.nrows();
    if k > n_train {
        return Err(MlError::invalid(format!(
            "num_clusters = {k} is larger than the {n_train} training rows"
        )));
    }
    if x_train.ncols() == 0 {
        return Err(MlError::invalid(format!(
            "every feature column is constant; {what} needs at least one varying column"
        )));
    }
    let distinct: BTreeSet<Vec<u64>> = x_train
        .rows()
        .into_iter()
        .take(100_000)
        .map(|r| r.iter().map(|v| v.to_bits()).collect())
        .collect();
    if distinct.len() < k {
        return Err(MlError::invalid(format!(
            "num_clusters = {k} but the training rows hold only {} distinct points",
            distinct.len()
        )));
    }
    Ok(())
}

/// A Gaussian mixture's fit on rows: the mean log-likelihood per row
/// (scikit-learn's `score`), and BIC and AIC on those rows.
fn mixture_metrics(model: &Model, x: &Array2<f64>) -> Result<BTreeMap<String, f64>> {
    let mut m = BTreeMap::new();
    let Parameters::GaussianMixture {
        weights,
        means,
        covariances,
    } = &model.parameters
    else {
        return Ok(m);
    };
    if x.nrows() == 0 {
        return Ok(m);
    }
    let (_, log_norm) = crate::zoo::mixture::posterior(x, weights, means, covariances)?;
    let n = x.nrows() as f64;
    let ll = log_norm.iter().sum::<f64>() / n;
    let (k, d) = (weights.len() as f64, x.ncols() as f64);
    let parameters = k * d + k * d * (d + 1.0) / 2.0 + k - 1.0;
    insert(&mut m, "log_likelihood", Some(ll));
    insert(&mut m, "bic", Some(-2.0 * ll * n + parameters * n.ln()));
    insert(&mut m, "aic", Some(-2.0 * ll * n + 2.0 * parameters));
    Ok(m)
}

/// Rejects an ordinary least-squares fit that the solver could not make:
/// collinear features (e.g. one-hot columns that always move together) make
/// QR least squares numerically singular, which shows as non-finite
/// coefficients or a fit worse than predicting the mean.
fn check_least_squares(p: &Parameters, x: &Array2<f64>, y: &[f64]) -> Result<()> {
    let Parameters::Linear {
        coefficients,
        intercept,
    } = p
    else {
        return Ok(());
    };
    let finite = intercept.is_finite() && coefficients.iter().all(|c| c.is_finite());
    let fitted = x.dot(&Array1::from(coefficients.clone())) + *intercept;
    let sse: f64 = fitted.iter().zip(y).map(|(f, t)| (f - t).powi(2)).sum();
    let mean = y.iter().sum::<f64>() / y.len().max(1) as f64;
    let sst: f64 = y.iter().map(|t| (t - mean).powi(2)).sum();
    if !finite || !sse.is_finite() || sse > sst * (1.0 + 1e-9) + 1e-12 {
        return Err(MlError::new(
            sqlstate::DATA_EXCEPTION,
            "linear regression could not be solved: the features are collinear (some columns are combinations of others); set a small l2_reg (ridge, e.g. l2_reg = 0.001) or remove the redundant columns",
        ));
    }
    Ok(())
}

/// The entries of `values` where `mask` is true.
/// Records a regression model's float label and its held-out rmse, mae and
/// r2_score (none when no row was held out).
fn finish_regression(
    model: &mut Model,
    label: &str,
    y_eval: &[f64],
    x_eval: &Array2<f64>,
) -> Result<()> {
    model.label = Some(LabelSpec {
        name: label.to_string(),
        label_type: LabelType::Float,
        classes: vec![],
    });
    if !y_eval.is_empty()
        && let Prediction::Values(p) = model.predict_encoded(x_eval)?
    {
        insert(&mut model.metrics, "rmse", metrics::rmse(y_eval, &p));
        insert(&mut model.metrics, "mae", metrics::mae(y_eval, &p));
        insert(
            &mut model.metrics,
            "r2_score",
            metrics::r2_score(y_eval, &p),
        );
    }
    Ok(())
}

fn masked<T: Copy>(values: &[T], mask: &[bool]) -> Vec<T> {
    values
        .iter()
        .zip(mask)
        .filter(|(_, m)| **m)
        .map(|(v, _)| *v)
        .collect()
}

/// `values` reordered by `order`.
fn permuted<T: Copy>(values: &[T], order: &[usize]) -> Array1<T> {
    order.iter().map(|i| values[*i]).collect()
}

/// Records a metric when it is defined (and finite: JSON has no NaN).
/// DBSCAN's metrics over rows `x` (in the model's feature space: encoded and,
/// with `standardize_features`, standardised) with cluster ids `labels`
/// (`NOISE` for noise): `num_clusters` (distinct clusters), `noise_fraction`,
/// and `silhouette`: scikit-learn's `silhouette_score` of the non-noise rows
/// only (noise is not a cluster, so it is left out rather than scored as a
/// cluster of its own), over the first `SILHOUETTE_SAMPLE` of them in the
/// order given (row-hash order in training and in `evaluate`); absent with
/// fewer than two clusters. Training and `evaluate` both call this with the
/// labels `predict` gives, so the two agree on the same rows.
fn dbscan_metrics(x: &Array2<f64>, labels: &[usize]) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    let clusters: BTreeSet<usize> = labels
        .iter()
        .copied()
        .filter(|c| *c != crate::model::NOISE)
        .collect();
    let noise = labels.iter().filter(|c| **c == crate::model::NOISE).count();
    insert(&mut m, "num_clusters", Some(clusters.len() as f64));
    if !labels.is_empty() {
        insert(
            &mut m,
            "noise_fraction",
            Some(noise as f64 / labels.len() as f64),
        );
    }
    let dense: BTreeMap<usize, usize> = clusters.iter().enumerate().map(|(i, c)| (*c, i)).collect();
    let rows: Vec<usize> = (0..labels.len())
        .filter(|i| labels[*i] != crate::model::NOISE)
        .take(SILHOUETTE_SAMPLE)
        .collect();
    let sample = x.select(Axis(0), &rows);
    let sample_labels: Vec<usize> = rows.iter().map(|i| dense[&labels[*i]]).collect();
    insert(
        &mut m,
        "silhouette",
        metrics::silhouette(sample.view(), &sample_labels),
    );
    m
}

fn insert(map: &mut BTreeMap<String, f64>, key: &str, value: Option<f64>) {
    if let Some(v) = value.filter(|v| v.is_finite()) {
        map.insert(key.to_string(), v);
    }
}

fn classification_metrics(
    model: &Model,
    x: &Array2<f64>,
    y: &[usize],
) -> Result<BTreeMap<String, f64>> {
    let mut m = BTreeMap::new();
    if model.label.as_ref().is_some_and(|l| l.classes.len() > 2) {
        for (name, v) in metrics::multiclass_metrics(y, &model.class_probabilities(x)?) {
            insert(&mut m, name, v);
        }
    } else if let Prediction::Classes { class, probability } = model.predict_encoded(x)? {
        let y: Vec<bool> = y.iter().map(|c| *c == 1).collect();
        let predicted: Vec<bool> = class.iter().map(|c| *c == 1).collect();
        let (tp, fp, fn_) = metrics::confusion(&y, &predicted);
        insert(&mut m, "accuracy", metrics::accuracy(&y, &predicted));
        insert(&mut m, "precision", metrics::precision_from(tp, fp));
        insert(&mut m, "recall", metrics::recall_from(tp, fn_));
        insert(&mut m, "f1_score", metrics::f1_from(tp, fp, fn_));
        // linear_svm's scores are decision values, not probabilities
        if model.algorithm.has_probabilities() {
            insert(&mut m, "log_loss", metrics::log_loss(&y, &probability));
        }
        insert(&mut m, "roc_auc", metrics::roc_auc(&y, &probability));
    }
    Ok(m)
}

/// The classes of a label in sort order and each row's class index. With two
/// classes the last one is the positive class.
fn class_labels(label: &Column, label_type: Option<LabelType>) -> Result<(LabelSpec, Vec<usize>)> {
    let nulls = (0..label.values.len())
        .filter(|r| label.values.is_null(*r))
        .count();
    if nulls > 0 {
        return Err(MlError::new(
            sqlstate::NULL_VALUE_NOT_ALLOWED,
            format!(
                "label \"{}\" is NULL in {nulls} rows; filter them out (WHERE {} IS NOT NULL)",
                label.name, label.name
            ),
        ));
    }
    let label_type = label_type.unwrap_or(LabelType::Text);
    let classes: Vec<String> = match &label.values {
        ColumnValues::Text(v) => v
            .iter()
            .flatten()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        ColumnValues::Numeric(v) => {
            let mut xs: Vec<f64> = v.iter().flatten().copied().collect();
            xs.sort_by(f64::total_cmp);
            xs.dedup();
            xs.into_iter().map(crate::data::format_number).collect()
        }
    };
    if classes.len() < 2 {
        return Err(MlError::invalid(format!(
            "label \"{}\" has a single class ({}); a classifier needs two",
            label.name,
            classes.first().map_or("none", String::as_str)
        )));
    }
    if classes.len() > MAX_CLASSES {
        return Err(MlError::invalid(format!(
            "label \"{}\" has {} distinct values; a classifier takes at most {MAX_CLASSES} (is it a continuous value? use linear_reg)",
            label.name,
            classes.len()
        )));
    }
    let y = (0..label.values.len())
        .map(|r| {
            let v = label.values.text_at(r).unwrap_or_default();
            classes
                .binary_search_by(|c| class_order(c, &v, &label.values))
                .unwrap_or(0)
        })
        .collect();
    Ok((
        LabelSpec {
            name: label.name.clone(),
            label_type,
            classes,
        },
        y,
    ))
}

/// The most classes a classifier accepts.
pub const MAX_CLASSES: usize = 1000;

/// Orders class texts as `class_labels` sorted them (numbers numerically).
fn class_order(a: &str, b: &str, values: &ColumnValues) -> std::cmp::Ordering {
    match values {
        ColumnValues::Numeric(_) => a
            .parse::<f64>()
            .unwrap_or(f64::NAN)
            .total_cmp(&b.parse::<f64>().unwrap_or(f64::NAN)),
        ColumnValues::Text(_) => a.cmp(b),
    }
}

fn numeric_label(label: &Column) -> Result<Vec<f64>> {
    match &label.values {
        ColumnValues::Numeric(v) => {
            let nulls = v.iter().filter(|x| x.is_none()).count();
            if nulls > 0 {
                return Err(MlError::new(
                    sqlstate::NULL_VALUE_NOT_ALLOWED,
                    format!(
                        "label \"{}\" is NULL in {nulls} rows; filter them out (WHERE {} IS NOT NULL)",
                        label.name, label.name
                    ),
                ));
            }
            Ok(v.iter().map(|x| x.unwrap_or(0.0)).collect())
        }
        ColumnValues::Text(_) => Err(MlError::new(
            sqlstate::DATATYPE_MISMATCH,
            format!(
                "a regression model needs a numeric label; \"{}\" is text: use a classifier (logistic_reg, a tree or forest classifier) or cast the label",
                label.name
            ),
        )),
    }
}

/// Metrics of a trained model on new rows: the columns must include every
/// feature (by name) and, for supervised models, the label. Rows with a NULL
/// label are skipped. Same metric names as the training summary.
pub fn evaluate(model: &Model, columns: &[Column]) -> Result<BTreeMap<String, f64>> {
    if model.segments.is_some() {
        return crate::segment::evaluate(model, columns);
    }
    let (x, label, keep) = encode_rows(model, columns)?;
    let mut m = BTreeMap::new();
    if x.nrows() == 0 {
        return Ok(m);
    }
    // clustering metrics sample the first rows in row-hash order, as training
    // does, so they do not depend on the order the query returns rows in
    let x = if model.label.is_none() {
        let features: Vec<&Column> = model
            .encoder
            .features
            .iter()
            .filter_map(|f| columns.iter().find(|c| c.name == f.name))
            .collect();
        x.select(Axis(0), &canonical_order(&row_hashes(&features, x.nrows())))
    } else {
        x
    };
    match (&model.label, label) {
        (Some(spec), Some(col)) if model.algorithm.is_classifier() => {
            let y = class_indices(spec, col, &keep)?;
            m = classification_metrics(model, &x, &y)?;
        }
        (Some(_), Some(col)) => {
            let y: Vec<f64> = numeric_label(&Column {
                values: col.values.filter(&keep),
                ..col.clone()
            })?;
            if let Prediction::Values(p) = model.predict_encoded(&x)? {
                insert(&mut m, "rmse", metrics::rmse(&y, &p));
                insert(&mut m, "mae", metrics::mae(&y, &p));
                insert(&mut m, "r2_score", metrics::r2_score(&y, &p));
            }
        }
        _ if matches!(model.parameters, Parameters::GaussianMixture { .. }) => {
            m = mixture_metrics(model, &x)?;
        }
        _ if matches!(model.parameters, Parameters::Dbscan { .. }) => {
            if let Prediction::Clusters { cluster, .. } = model.predict_encoded(&x)? {
                m = dbscan_metrics(&x, &cluster);
            }
        }
        (_, _) if matches!(model.parameters, Parameters::Pca { .. }) => {
            if let Parameters::Pca { components, .. } = &model.parameters {
                insert(
                    &mut m,
                    "explained_variance_ratio",
                    crate::zoo::pca::explained_variance_ratio(&x, components),
                );
            }
        }
        _ => {
            if let (
                Parameters::KMeans { centroids } | Parameters::Agglomerative { centroids, .. },
                Prediction::Clusters { cluster, .. },
            ) = (&model.parameters, model.predict_encoded(&x)?)
            {
                insert(
                    &mut m,
                    "inertia",
                    Some(metrics::inertia(&x, centroids, &cluster)),
                );
                let n = x.nrows().min(SILHOUETTE_SAMPLE);
                insert(
                    &mut m,
                    "silhouette",
                    metrics::silhouette(x.slice(ndarray::s![..n, ..]), &cluster[..n]),
                );
            }
        }
    }
    Ok(m)
}

/// A classifier's label: its classes, every row's class index, and the
/// training rows' class indices in training order. Errors: NULL labels
/// (22004), fewer than two classes among the training rows (22023).
fn classifier_labels(
    label: Option<&Column>,
    label_type: Option<LabelType>,
    train_mask: &[bool],
    order: &[usize],
) -> Result<(LabelSpec, Vec<usize>, Array1<usize>)> {
    let label =
        label.ok_or_else(|| MlError::invalid("a classifier needs a label (input_label_cols)"))?;
    let (spec, y) = class_labels(label, label_type)?;
    let y_train = permuted(&masked(&y, train_mask), order);
    let distinct: BTreeSet<usize> = y_train.iter().copied().collect();
    if distinct.len() < 2 {
        return Err(MlError::invalid(format!(
            "label \"{}\" has a single class among the training rows; a classifier needs at least two",
            spec.name
        )));
    }
    Ok((spec, y, y_train))
}

/// The class index of each kept row's label; 22023 for a value that is not
/// one of the model's classes.
fn class_indices(spec: &LabelSpec, col: &Column, keep: &[bool]) -> Result<Vec<usize>> {
    let mut y = Vec::new();
    for r in (0..col.values.len()).filter(|r| keep[*r]) {
        let v = col.values.text_at(r).unwrap_or_default();
        match spec
            .classes
            .binary_search_by(|c| class_order(c, &v, &col.values))
        {
            Ok(i) => y.push(i),
            Err(_) => {
                return Err(MlError::invalid(format!(
                    "label value '{v}' of \"{}\" is not one of the model's classes ({}); filter those rows out",
                    spec.name,
                    spec.classes.join(", ")
                )));
            }
        }
    }
    Ok(y)
}

/// A classifier's rows with a non-NULL label: encoded features and class indices.
fn labelled(model: &Model, columns: &[Column]) -> Result<(Array2<f64>, Vec<usize>)> {
    refuse_segments(model.segments.is_some(), "a confusion matrix or ROC curve")?;
    let spec = model
        .label
        .as_ref()
        .filter(|_| model.algorithm.is_classifier())
        .ok_or_else(|| {
            MlError::invalid(format!(
                "this needs a classifier; the model is {}",
                model.algorithm.name()
            ))
        })?;
    let (x, label, keep) = encode_rows(model, columns)?;
    let label = label.ok_or_else(|| MlError::invalid("the model has no label"))?;
    Ok((x, class_indices(spec, label, &keep)?))
}

/// The rows of a query a model can be checked on (those whose label, if the
/// model has one, is not NULL): their encoded features, the label column and
/// which rows were kept. Errors with 42703 when a column is missing.
fn encode_rows<'a>(
    model: &Model,
    columns: &'a [Column],
) -> Result<(Array2<f64>, Option<&'a Column>, Vec<bool>)> {
    let (features, label, keep) = checked_rows(model, columns)?;
    let refs: Vec<&ColumnValues> = features.iter().collect();
    Ok((model.encoder.transform(&refs)?, label, keep))
}

/// `encode_rows` before encoding: the kept rows of each feature column in
/// training order, the label column and which rows were kept.
pub(crate) fn checked_rows<'a>(
    model: &Model,
    columns: &'a [Column],
) -> Result<(Vec<ColumnValues>, Option<&'a Column>, Vec<bool>)> {
    let find = |name: &str| -> Result<&'a Column> {
        columns.iter().find(|c| c.name == name).ok_or_else(|| {
            MlError::new(
                sqlstate::UNDEFINED_COLUMN,
                format!("column \"{name}\" is missing from the query"),
            )
        })
    };
    let label = model.label.as_ref().map(|l| find(&l.name)).transpose()?;
    let rows = columns.first().map_or(0, |c| c.values.len());
    let keep: Vec<bool> = (0..rows)
        .map(|r| label.is_none_or(|l| !l.values.is_null(r)))
        .collect();
    let feats: Vec<ColumnValues> = model
        .encoder
        .features
        .iter()
        .map(|f| find(&f.name).map(|c| c.values.filter(&keep)))
        .collect::<Result<_>>()?;
    Ok((feats, label, keep))
}

/// Counts of (actual class, predicted class), `k × k` in class order
/// (scikit-learn's `confusion_matrix`, BigQuery ML's `ML.CONFUSION_MATRIX`).
pub fn confusion_matrix(model: &Model, columns: &[Column]) -> Result<Vec<Vec<u64>>> {
    let (x, y) = labelled(model, columns)?;
    let k = model.label.as_ref().map_or(0, |l| l.classes.len());
    let mut m = vec![vec![0u64; k]; k];
    if let Prediction::Classes { class, .. } = model.predict_encoded(&x)? {
        for (a, p) in y.iter().zip(&class) {
            m[*a][*p] += 1;
        }
    }
    Ok(m)
}

/// One point of a ROC curve.
#[derive(Debug, Clone, PartialEq)]
pub struct RocPoint {
    pub threshold: f64,
    pub true_positives: u64,
    pub false_positives: u64,
    pub true_negatives: u64,
    pub false_negatives: u64,
}

/// The ROC curve of a binary classifier: one point per distinct predicted
/// probability, highest first; a row is predicted positive when its
/// probability is at least the threshold (scikit-learn's `roc_curve` with
/// `drop_intermediate=False`, without its leading `inf` point). For
/// `linear_svm` the scores and thresholds are decision values, not
/// probabilities.
pub fn roc_curve(model: &Model, columns: &[Column]) -> Result<Vec<RocPoint>> {
    if !(model.algorithm.is_classifier()
        && model.label.as_ref().is_some_and(|l| l.classes.len() == 2))
    {
        return Err(MlError::invalid(format!(
            "a ROC curve needs a two-class classifier; the model is {}",
            model.algorithm.name()
        )));
    }
    let (x, y) = labelled(model, columns)?;
    let Prediction::Classes { probability, .. } = model.predict_encoded(&x)? else {
        return Ok(vec![]);
    };
    let positives = y.iter().filter(|c| **c == 1).count() as u64;
    let negatives = y.len() as u64 - positives;
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|a, b| probability[*b].total_cmp(&probability[*a]));
    let mut out = Vec::new();
    let (mut tp, mut fp) = (0u64, 0u64);
    let mut i = 0;
    while i < idx.len() {
        let t = probability[idx[i]];
        while i < idx.len() && probability[idx[i]] == t {
            if y[idx[i]] == 1 {
                tp += 1
            } else {
                fp += 1
            }
            i += 1;
        }
        out.push(RocPoint {
            threshold: t,
            true_positives: tp,
            false_positives: fp,
            true_negatives: negatives - fp,
            false_negatives: positives - tp,
        });
    }
    Ok(out)
}
