//! Per-segment models: one model per value of a grouping column, trained in one
//! statement and used through one name (MADlib's `grouping_cols`).
//!
//! With the option `grouping_cols = ['contract']` training fits
//! - an overall model on every row (the grouping column is one of its features), and
//! - one model per distinct non-NULL value of the grouping column, on that
//!   segment's rows, with the same options and the same held-out rows,
//!
//! segments in parallel on the blocking pool's threads. At prediction each row
//! goes to its segment's model; rows whose segment has no model of its own (a
//! NULL or unseen value, or a segment whose training failed — too few rows, one
//! class — recorded in [`Segments::fallback`]) use the overall model. The
//! stored metrics are those of this routed prediction on the held-out rows.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::data::{Column, ColumnValues, LabelType};
use crate::error::{MlError, Result, sqlstate};
use crate::metrics;
use crate::model::{Model, Prediction};
use crate::options::{SplitMethod, TrainOptions};
use crate::split::row_hashes;
use crate::train::fit_with_eval;

/// Most segments one model may have.
pub const MAX_SEGMENTS: usize = 1_000;

/// The per-segment models of a model trained with `grouping_cols`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segments {
    /// The grouping column, one of the overall model's features.
    pub column: String,
    /// Segment value (as text) → the segment's own model.
    pub models: BTreeMap<String, Model>,
    /// Segments without a model of their own, and why; their rows use the overall model.
    pub fallback: BTreeMap<String, String>,
}

/// The held-out rows, chosen by the same rule as `train::fit`.
fn eval_mask(columns: &[Column], opts: &TrainOptions) -> Result<Vec<bool>> {
    let split_idx = match &opts.split {
        SplitMethod::Custom(name) => Some(
            columns
                .iter()
                .position(|c| &c.name == name)
                .ok_or_else(|| {
                    MlError::new(
                        sqlstate::UNDEFINED_COLUMN,
                        format!("data_split_col \"{name}\" is not in the training query"),
                    )
                })?,
        ),
        _ => None,
    };
    let all: Vec<&Column> = columns.iter().collect();
    let rows = columns.first().map_or(0, |c| c.values.len());
    crate::train::eval_mask(columns, opts, split_idx, &row_hashes(&all, rows))
}

fn filter_columns(columns: &[Column], mask: &[bool]) -> Vec<Column> {
    columns
        .iter()
        .map(|c| Column {
            name: c.name.clone(),
            sql_type: c.sql_type.clone(),
            values: c.values.filter(mask),
        })
        .collect()
}

/// Trains the overall model and one model per segment of `group`.
///
/// Errors: 42703 when `group` is not a column; 22023 when it is the label or
/// the split column; 54000 above [`MAX_SEGMENTS`] segments; every error of the
/// overall model's training. A segment that cannot be trained is not an error.
pub fn fit_segmented(
    columns: Vec<Column>,
    label_type: Option<LabelType>,
    opts: &TrainOptions,
    group: &str,
) -> Result<Model> {
    let gi = columns
        .iter()
        .position(|c| c.name == group)
        .ok_or_else(|| {
            MlError::new(
                sqlstate::UNDEFINED_COLUMN,
                format!(
                    "grouping column \"{group}\" is not in the training query; its columns are: {}",
                    columns
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
    if opts.label.as_deref() == Some(group)
        || matches!(&opts.split, SplitMethod::Custom(c) if c == group)
    {
        return Err(MlError::invalid(format!(
            "\"{group}\" cannot be the grouping column: it is the label or the split column"
        )));
    }
    let eval = eval_mask(&columns, opts)?;
    let mut model = fit_with_eval(&columns, label_type, opts, eval.clone())?;

    let rows = eval.len();
    let mut keys: BTreeMap<String, Vec<bool>> = BTreeMap::new();
    for r in 0..rows {
        if let Some(k) = columns[gi].values.text_at(r) {
            if !keys.contains_key(&k) && keys.len() == MAX_SEGMENTS {
                return Err(MlError::new(
                    sqlstate::PROGRAM_LIMIT_EXCEEDED,
                    format!(
                        "grouping column \"{group}\" has more than {MAX_SEGMENTS} values; group by a coarser column"
                    ),
                ));
            }
            keys.entry(k).or_insert_with(|| vec![false; rows])[r] = true;
        }
    }
    let jobs: Vec<(&String, &Vec<bool>)> = keys.iter().collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(jobs.len().max(1));
    let results: Vec<(String, Result<Model>)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (jobs, columns, eval) = (&jobs, &columns, &eval);
                s.spawn(move || {
                    jobs.iter()
                        .skip(t)
                        .step_by(threads)
                        .map(|(key, mask)| {
                            let sub = filter_columns(columns, mask);
                            let sub_eval: Vec<bool> = eval
                                .iter()
                                .zip(mask.iter())
                                .filter(|(_, m)| **m)
                                .map(|(e, _)| *e)
                                .collect();
                            (
                                (*key).clone(),
                                fit_with_eval(&sub, label_type, opts, sub_eval),
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let mut segments = Segments {
        column: group.to_string(),
        models: BTreeMap::new(),
        fallback: BTreeMap::new(),
    };
    for (key, result) in results {
        match result {
            Ok(m) => {
                segments.models.insert(key, m);
            }
            Err(e) => {
                segments.fallback.insert(key, e.message);
            }
        }
    }
    model.segments = Some(Box::new(segments));
    model.options = opts.raw.clone();
    if eval.iter().any(|e| *e) {
        let held_out = filter_columns(&columns, &eval);
        model.metrics = evaluate(&model, &held_out)?;
    }
    Ok(model)
}

/// The overall model's prediction (never routed).
fn predict_overall(model: &Model, columns: &[&ColumnValues]) -> Result<Prediction> {
    model.predict_encoded(&model.encoder.transform(columns)?)
}

/// Routes each row to its segment's model (see the module documentation).
/// `columns` are the overall model's features in training order.
pub fn predict(
    model: &Model,
    segments: &Segments,
    columns: &[&ColumnValues],
) -> Result<Prediction> {
    let gi = model
        .encoder
        .features
        .iter()
        .position(|f| f.name == segments.column)
        .ok_or_else(|| MlError::invalid("the grouping column is not among the model's features"))?;
    let rows = columns.first().map_or(0, |c| c.len());
    // rows per sub-model (None = the overall model)
    let mut groups: BTreeMap<Option<&String>, Vec<bool>> = BTreeMap::new();
    for r in 0..rows {
        let key = columns[gi]
            .text_at(r)
            .and_then(|k| segments.models.get_key_value(&k).map(|(k, _)| k));
        groups.entry(key).or_insert_with(|| vec![false; rows])[r] = true;
    }
    let multiclass = model.label.as_ref().is_some_and(|l| l.classes.len() > 2);
    let mut out: Option<Prediction> = None;
    for (key, mask) in groups {
        let sub_cols: Vec<ColumnValues> = columns.iter().map(|c| c.filter(&mask)).collect();
        let refs: Vec<&ColumnValues> = sub_cols.iter().collect();
        let (m, p) = match key {
            Some(k) => {
                let m = &segments.models[k];
                (m, m.predict(&refs)?)
            }
            None => (model, predict_overall(model, &refs)?),
        };
        let idx: Vec<usize> = (0..rows).filter(|r| mask[*r]).collect();
        let out = out.get_or_insert_with(|| match &p {
            Prediction::Classes { .. } => Prediction::Classes {
                class: vec![0; rows],
                probability: vec![0.0; rows],
            },
            Prediction::Values(_) => Prediction::Values(vec![0.0; rows]),
            Prediction::Clusters { .. } => Prediction::Clusters {
                cluster: vec![0; rows],
                distance: vec![0.0; rows],
            },
            // the model-zoo algorithms refuse grouping_cols at training
            Prediction::Components { .. } => Prediction::Components {
                cluster: vec![0; rows],
                probability: vec![0.0; rows],
            },
            Prediction::Projections(_) => Prediction::Projections(vec![vec![]; rows]),
        });
        match (out, p) {
            (
                Prediction::Classes { class, probability },
                Prediction::Classes {
                    class: c,
                    probability: pr,
                },
            ) => {
                let (all, own) = match (&model.label, &m.label) {
                    (Some(a), Some(o)) => (&a.classes, &o.classes),
                    _ => return Err(MlError::invalid("a segment's classifier has no label")),
                };
                for ((i, c), p) in idx.iter().zip(c).zip(pr) {
                    let name = &own[c];
                    class[*i] = all.iter().position(|x| x == name).unwrap_or(0);
                    // more classes overall: the probability is of the predicted class
                    probability[*i] = if multiclass && own.len() == 2 && c == 0 {
                        1.0 - p
                    } else {
                        p
                    };
                }
            }
            (Prediction::Values(v), Prediction::Values(s)) => {
                for (i, x) in idx.iter().zip(s) {
                    v[*i] = x;
                }
            }
            (
                Prediction::Clusters { cluster, distance },
                Prediction::Clusters {
                    cluster: c,
                    distance: d,
                },
            ) => {
                for ((i, c), d) in idx.iter().zip(c).zip(d) {
                    cluster[*i] = c;
                    distance[*i] = d;
                }
            }
            _ => {
                return Err(MlError::invalid(
                    "segment models disagree on what they predict",
                ));
            }
        }
    }
    Ok(out.unwrap_or(Prediction::Values(vec![])))
}

/// Metrics of the routed prediction on `columns` (features by name and the
/// label; rows with a NULL label skipped): accuracy, precision, recall, F1,
/// log loss and ROC AUC for two classes; accuracy for more; RMSE, MAE and R²
/// for regression; summed inertia for k-means.
pub fn evaluate(model: &Model, columns: &[Column]) -> Result<BTreeMap<String, f64>> {
    let segments = model
        .segments
        .as_deref()
        .ok_or_else(|| MlError::invalid("not a segmented model"))?;
    let (feats, label, keep) = crate::train::checked_rows(model, columns)?;
    let refs: Vec<&ColumnValues> = feats.iter().collect();
    let prediction = predict(model, segments, &refs)?;
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: Option<f64>| {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            m.insert(k.to_string(), v);
        }
    };
    match (prediction, label, &model.label) {
        (Prediction::Classes { class, probability }, Some(col), Some(spec)) => {
            let values = col.values.filter(&keep);
            let mut y = Vec::with_capacity(class.len());
            for r in 0..values.len() {
                let v = values.text_at(r).unwrap_or_default();
                let i = spec.classes.iter().position(|c| *c == v).ok_or_else(|| {
                    MlError::invalid(format!(
                        "label value '{v}' of \"{}\" is not one of the model's classes ({}); filter those rows out",
                        spec.name,
                        spec.classes.join(", ")
                    ))
                })?;
                y.push(i);
            }
            put("accuracy", metrics::accuracy(&y, &class));
            if spec.classes.len() == 2 {
                let y: Vec<bool> = y.iter().map(|c| *c == 1).collect();
                let predicted: Vec<bool> = class.iter().map(|c| *c == 1).collect();
                let (tp, fp, fn_) = metrics::confusion(&y, &predicted);
                put("precision", metrics::precision_from(tp, fp));
                put("recall", metrics::recall_from(tp, fn_));
                put("f1_score", metrics::f1_from(tp, fp, fn_));
                put("log_loss", metrics::log_loss(&y, &probability));
                put("roc_auc", metrics::roc_auc(&y, &probability));
            }
        }
        (Prediction::Values(p), Some(col), _) => {
            let y: Vec<f64> = match &col.values.filter(&keep) {
                ColumnValues::Numeric(v) => v.iter().map(|x| x.unwrap_or(f64::NAN)).collect(),
                ColumnValues::Text(_) => {
                    return Err(MlError::invalid("a regression label must be numeric"));
                }
            };
            put("rmse", metrics::rmse(&y, &p));
            put("mae", metrics::mae(&y, &p));
            put("r2_score", metrics::r2_score(&y, &p));
        }
        (Prediction::Clusters { distance, .. }, None, _) => {
            put("inertia", Some(distance.iter().map(|d| d * d).sum()));
        }
        _ => {}
    }
    Ok(m)
}
