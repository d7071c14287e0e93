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

/// Checks `model`; the error says what does not fit.
pub fn validate(model: &Model) -> Result<(), String> {
    let n = model.encoder.width();
    for f in &model.encoder.features {
        if let Encoding::Numeric {
            impute,
            center,
            scale,
        } = f.encoding
        {
            finite(&format!("feature \"{}\"", f.name), &[impute, center, scale])?;
            if scale <= 0.0 {
                return Err(format!("feature \"{}\" has scale {scale}", f.name));
            }
        }
    }
    embeddings(model)?;
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

/// The largest vector length accepted for a self-embedded column.
const MAX_EMBEDDING_DIM: usize = 65_536;

/// Each self-embedded text column (`embed_columns`) must own exactly the
/// features `column[1]` … `column[dim]`, in order and next to each other, and
/// name a model; no feature may claim a column that is not recorded.
fn embeddings(model: &Model) -> Result<(), String> {
    let names: Vec<&str> = model.feature_names();
    let mut seen = std::collections::BTreeSet::new();
    for e in &model.embeddings {
        if !seen.insert(e.column.as_str()) {
            return Err(format!("embedded column \"{}\" is listed twice", e.column));
        }
        if e.model.trim().is_empty() {
            return Err(format!("embedded column \"{}\" names no model", e.column));
        }
        if e.dim == 0 || e.dim > MAX_EMBEDDING_DIM {
            return Err(format!(
                "embedded column \"{}\" has dimension {}",
                e.column, e.dim
            ));
        }
        let prefix = format!("{}[", e.column);
        let Some(start) = names.iter().position(|n| n.starts_with(&prefix)) else {
            return Err(format!(
                "embedded column \"{}\" has no features {}[1]…",
                e.column, e.column
            ));
        };
        for k in 0..e.dim {
            let want = format!("{}[{}]", e.column, k + 1);
            if names.get(start + k) != Some(&want.as_str()) {
                return Err(format!(
                    "embedded column \"{}\" of dimension {} needs feature {want} at position {}",
                    e.column,
                    e.dim,
                    start + k + 1
                ));
            }
        }
        if names
            .get(start + e.dim)
            .is_some_and(|n| n.starts_with(&prefix))
        {
            return Err(format!(
                "embedded column \"{}\" has more than {} features",
                e.column, e.dim
            ));
        }
    }
    for f in &model.encoder.features {
        if model.embedding(&f.name).is_some() {
            return Err(format!(
                "feature \"{}\" is also an embedded text column",
                f.name
            ));
        }
    }
    Ok(())
}
