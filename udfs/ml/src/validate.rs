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
    embeddings(model)?;
    let classes = model.label.as_ref().map_or(0, |l| l.classes.len());
    if model.algorithm.is_classifier() && classes < 2 {
        return Err(format!("a classifier with {classes} classes"));
    }
    match &model.parameters {
        Parameters::Logistic {
            coefficients,
            intercept,
        }
        | Parameters::LinearSvm {
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
        Parameters::Dbscan {
            eps,
            core_samples,
            core_clusters,
        } => {
            finite("eps", &[*eps])?;
            if *eps <= 0.0 {
                return Err(format!("eps is {eps}"));
            }
            if core_samples.len() != core_clusters.len() {
                return Err(format!(
                    "{} core samples with {} cluster ids",
                    core_samples.len(),
                    core_clusters.len()
                ));
            }
            for c in core_samples {
                width("a core sample", c.len(), n)?;
                finite("a core sample", c)?;
            }
            // cluster ids are 0..k with every id used
            let k = core_clusters.iter().max().map_or(0, |m| m + 1);
            if k > core_clusters.len() {
                return Err(format!(
                    "cluster id {} among {} core samples",
                    k - 1,
                    core_clusters.len()
                ));
            }
        }
        Parameters::GaussianMixture {
            weights,
            means,
            covariances,
        } => {
            if weights.is_empty()
                || means.len() != weights.len()
                || covariances.len() != weights.len()
            {
                return Err(format!(
                    "{} weights, {} means and {} covariances",
                    weights.len(),
                    means.len(),
                    covariances.len()
                ));
            }
            finite("the weights", weights)?;
            if weights.iter().any(|w| *w <= 0.0) || (weights.iter().sum::<f64>() - 1.0).abs() > 1e-6
            {
                return Err("the weights are not positive numbers summing to 1".into());
            }
            for (mean, cov) in means.iter().zip(covariances) {
                width("a mean", mean.len(), n)?;
                finite("a mean", mean)?;
                if cov.len() != n {
                    return Err(format!(
                        "a covariance has {} rows for {n} encoded features",
                        cov.len()
                    ));
                }
                for row in cov {
                    width("a covariance row", row.len(), n)?;
                    finite("a covariance", row)?;
                }
                for (i, row) in cov.iter().enumerate() {
                    if row
                        .iter()
                        .zip(cov.iter().map(|r| r[i]))
                        .any(|(a, b)| *a != b)
                    {
                        return Err("a covariance is not symmetric".into());
                    }
                }
            }
            // positive definiteness is checked by predicting a row
        }
        Parameters::Agglomerative { linkage, centroids } => {
            if !crate::zoo::hierarchical::LINKAGES.contains(&linkage.as_str()) {
                return Err(format!("linkage '{linkage}'"));
            }
            if centroids.is_empty() {
                return Err("no centroids".into());
            }
            for c in centroids {
                width("a centroid", c.len(), n)?;
                finite("a centroid", c)?;
            }
        }
        Parameters::Pca {
            mean,
            components,
            explained_variance,
            explained_variance_ratio,
        } => {
            width("the mean", mean.len(), n)?;
            finite("the mean", mean)?;
            let k = components.len();
            if k == 0
                || k > n
                || explained_variance.len() != k
                || explained_variance_ratio.len() != k
            {
                return Err(format!(
                    "{k} components with {} variances and {} ratios for {n} encoded features",
                    explained_variance.len(),
                    explained_variance_ratio.len()
                ));
            }
            for c in components {
                width("a component", c.len(), n)?;
                finite("a component", c)?;
            }
            finite("the explained variances", explained_variance)?;
            finite("the explained variance ratios", explained_variance_ratio)?;
            if explained_variance_ratio.iter().any(|r| *r < 0.0)
                || explained_variance_ratio.iter().sum::<f64>() > 1.0 + 1e-9
            {
                return Err("the explained variance ratios are not shares of 1".into());
            }
        }
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
