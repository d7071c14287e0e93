//! Structural checks of a model read from a file (`ml_import_model`): the
//! parameters must fit the feature encoding and the label, so a hand-edited or
//! foreign file is refused instead of predicting nonsense.

use crate::encoder::Encoding;
use crate::model::{Model, Parameters};

/// Largest magnitude accepted for a stored number: beyond it a dot product
/// overflows to infinity and predictions become NaN.
const MAX_MAGNITUDE: f64 = 1e100;

fn finite(what: &str, values: &[f64]) -> Result<(), String> {
    match values
        .iter()
        .find(|v| !v.is_finite() || v.abs() > MAX_MAGNITUDE)
    {
        Some(v) => Err(format!("{what} holds {v}")),
        None => Ok(()),
    }
}

fn width(what: &str, got: usize, want: usize) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!(
            "{what} has {got} values for {want} encoded features"
        ))
    }
}

/// Checks one feature's encoding: finite statistics, positive scales, sorted
/// categories (prediction looks them up by binary search).
fn check_encoding(name: &str, encoding: &Encoding) -> Result<(), String> {
    let what = format!("feature \"{name}\"");
    let positive = |scale: f64| {
        if scale > 0.0 {
            Ok(())
        } else {
            Err(format!("{what} has scale {scale}"))
        }
    };
    let sorted = |ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(format!("{what} has categories out of order"))
        }
    };
    match encoding {
        Encoding::Numeric {
            impute,
            center,
            scale,
        } => {
            finite(&what, &[*impute, *center, *scale])?;
            positive(*scale)
        }
        Encoding::OneHot { categories, .. } => sorted(categories.is_sorted_by(|a, b| a < b)),
        Encoding::Ordinal {
            categories,
            center,
            scale,
        } => {
            finite(&what, &[*center, *scale])?;
            positive(*scale)?;
            sorted(categories.is_sorted_by(|a, b| a < b))
        }
        Encoding::Buckets { splits, bins } => {
            finite(&what, splits)?;
            sorted(splits.is_sorted() && bins.is_sorted_by(|a, b| a < b))
        }
        Encoding::Constant => Ok(()),
    }
}

/// Checks `model`; the error says what does not fit.
pub fn validate(model: &Model) -> Result<(), String> {
    let n = model.encoder.width();
    for f in &model.encoder.features {
        check_encoding(&f.name, &f.encoding)?;
    }
    let classes = model.label.as_ref().map_or(0, |l| l.classes.len());
    if model.algorithm.is_classifier() && classes < 2 {
        return Err(format!("a classifier with {classes} classes"));
    }
    match &model.parameters {
        Parameters::Logistic {
            coefficients,
            intercept,
        } => {
            if classes != 2 {
                return Err(format!("a two-class model with {classes} classes"));
            }
            width("the coefficients", coefficients.len(), n)?;
            finite("the coefficients", coefficients)?;
            finite("the intercept", &[*intercept])?;
        }
        Parameters::Multinomial {
            coefficients,
            intercepts,
        } => {
            if coefficients.len() != classes || intercepts.len() != classes {
                return Err(format!(
                    "{} coefficient rows and {} intercepts for {classes} classes",
                    coefficients.len(),
                    intercepts.len()
                ));
            }
            for row in coefficients {
                width("a coefficient row", row.len(), n)?;
                finite("the coefficients", row)?;
            }
            // a class without training rows is stored with a very negative intercept
            if intercepts
                .iter()
                .any(|v| v.is_nan() || v.abs() > MAX_MAGNITUDE)
            {
                return Err("the intercepts hold a non-finite number".into());
            }
        }
        Parameters::Linear {
            coefficients,
            intercept,
        } => {
            width("the coefficients", coefficients.len(), n)?;
            finite("the coefficients", coefficients)?;
            finite("the intercept", &[*intercept])?;
        }
        Parameters::KMeans { centroids } => {
            if centroids.is_empty() {
                return Err("no centroids".into());
            }
            for c in centroids {
                width("a centroid", c.len(), n)?;
                finite("a centroid", c)?;
            }
        }
        Parameters::Trees { trees } => {
            if trees.is_empty() {
                return Err("no trees".into());
            }
            for tree in trees {
                let stats = if tree.regression { 3 } else { classes };
                if tree.nodes.is_empty() {
                    return Err("a tree without nodes".into());
                }
                for (i, node) in tree.nodes.iter().enumerate() {
                    if node.stats.len() != stats {
                        return Err(format!(
                            "node {i} has {} statistics, not {stats}",
                            node.stats.len()
                        ));
                    }
                    finite("node statistics", &node.stats)?;
                    if let Some((f, t, l, r)) = node.split {
                        let len = tree.nodes.len();
                        if f >= n || !t.is_finite() || l <= i || r <= i || l >= len || r >= len {
                            return Err(format!("node {i} splits on ({f}, {t}, {l}, {r})"));
                        }
                    }
                }
            }
        }
        Parameters::NaiveBayes { .. } => {} // checked by predicting a row
    }
    if let Some(segments) = &model.segments {
        for (key, m) in &segments.models {
            validate(m).map_err(|e| format!("segment '{key}': {e}"))?;
        }
    }
    Ok(())
}
