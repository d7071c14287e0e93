//! Feature encoding fitted on the training rows and replayed at prediction.
//!
//! Rules (documented to users in README.md):
//! - numeric columns (integers, floats, decimals, booleans as 0/1): a NULL (and,
//!   at prediction, a NaN or infinity) is replaced by the training mean; with `standardize` the value is then
//!   centred on the training mean and divided by the population standard
//!   deviation (as scikit-learn's `StandardScaler`);
//! - text columns are one-hot encoded over the categories seen in training,
//!   sorted; a NULL or a category never seen in training encodes as all zeros
//!   (scikit-learn's `OneHotEncoder(handle_unknown='ignore')`);
//! - with `drop_first` (used by unregularised linear regression) the first
//!   category is dropped, so an unseen category reads as the first one;
//! - a column that is constant in the training rows carries no information
//!   and produces no encoded feature.

use std::collections::BTreeSet;

use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::data::{Column, ColumnValues};
use crate::error::{MlError, Result, sqlstate};

/// The most categories one text column may one-hot encode into.
pub const MAX_CATEGORIES: usize = 1_000;
/// The largest encoded design matrix, in cells (8 bytes each: 2 GiB).
pub const MAX_CELLS: usize = 1 << 28;

/// How one input column becomes encoded features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Encoding {
    /// `(coalesce(x, impute) - center) / scale`, one output feature.
    Numeric {
        impute: f64,
        center: f64,
        scale: f64,
    },
    /// One output feature per category.
    OneHot { categories: Vec<String> },
    /// Constant in training: no output feature.
    Constant,
}

/// One input feature column as the model saw it in training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureSpec {
    pub name: String,
    /// SQL type name in the training query (`bigint`, `text`, ...).
    pub sql_type: String,
    pub encoding: Encoding,
}

impl FeatureSpec {
    /// True when the column must be given as text at prediction.
    pub fn is_text(&self) -> bool {
        matches!(self.encoding, Encoding::OneHot { .. }) || self.sql_type == "text"
    }
    fn width(&self) -> usize {
        match &self.encoding {
            Encoding::Numeric { .. } => 1,
            Encoding::OneHot { categories } => categories.len(),
            Encoding::Constant => 0,
        }
    }
}

/// The fitted encoding of all feature columns, in training order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureEncoder {
    pub features: Vec<FeatureSpec>,
}

impl FeatureEncoder {
    /// Fits the encoding on training columns.
    pub fn fit(columns: &[&Column], standardize: bool, drop_first: bool) -> Result<Self> {
        let mut features = Vec::with_capacity(columns.len());
        for col in columns {
            let encoding = match &col.values {
                ColumnValues::Numeric(v) => fit_numeric(v, standardize),
                ColumnValues::Text(v) => {
                    let set: BTreeSet<&str> = v.iter().flatten().map(String::as_str).collect();
                    let has_null = v.iter().any(Option::is_none);
                    if set.is_empty() || (set.len() == 1 && !has_null) {
                        Encoding::Constant
                    } else {
                        if set.len() > MAX_CATEGORIES {
                            return Err(MlError::new(
                                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                                format!(
                                    "text column \"{}\" has {} distinct values; a model one-hot encodes at most {MAX_CATEGORIES} categories per column: leave it out, bucket it, or cast it to a number",
                                    col.name,
                                    set.len()
                                ),
                            ));
                        }
                        let mut categories: Vec<String> =
                            set.into_iter().map(str::to_owned).collect();
                        if drop_first {
                            categories.remove(0);
                        }
                        Encoding::OneHot { categories }
                    }
                }
            };
            features.push(FeatureSpec {
                name: col.name.clone(),
                sql_type: col.sql_type.clone(),
                encoding,
            });
        }
        Ok(Self { features })
    }

    /// Number of encoded features (columns of the design matrix).
    pub fn width(&self) -> usize {
        self.features.iter().map(FeatureSpec::width).sum()
    }

    /// Each encoded feature as (column, category): category is `None` for a
    /// numeric column.
    pub fn encoded_columns(&self) -> Vec<(String, Option<String>)> {
        let mut out = Vec::with_capacity(self.width());
        for f in &self.features {
            match &f.encoding {
                Encoding::Numeric { .. } => out.push((f.name.clone(), None)),
                Encoding::OneHot { categories } => {
                    out.extend(categories.iter().map(|c| (f.name.clone(), Some(c.clone()))))
                }
                Encoding::Constant => {}
            }
        }
        out
    }

    /// Names of the encoded features, `column` or `column=category`.
    pub fn encoded_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.width());
        for f in &self.features {
            match &f.encoding {
                Encoding::Numeric { .. } => names.push(f.name.clone()),
                Encoding::OneHot { categories } => {
                    names.extend(categories.iter().map(|c| format!("{}={}", f.name, c)))
                }
                Encoding::Constant => {}
            }
        }
        names
    }

    /// Encodes columns given in training order into a dense `rows × width` matrix.
    ///
    /// Errors with 22023 on a wrong column count and 42804 on a column whose
    /// kind (numeric/text) differs from training.
    pub fn transform(&self, columns: &[&ColumnValues]) -> Result<Array2<f64>> {
        if columns.len() != self.features.len() {
            return Err(MlError::invalid(format!(
                "the model expects {} feature columns ({}), got {}",
                self.features.len(),
                self.feature_list(),
                columns.len()
            )));
        }
        let rows = columns.first().map_or(0, |c| c.len());
        if rows.saturating_mul(self.width().max(1)) > MAX_CELLS {
            return Err(MlError::new(
                sqlstate::PROGRAM_LIMIT_EXCEEDED,
                format!(
                    "{rows} rows × {} encoded features exceed the {MAX_CELLS}-cell limit of one batch; use fewer rows or features",
                    self.width()
                ),
            ));
        }
        let mut x = Array2::<f64>::zeros((rows, self.width()));
        let mut offset = 0;
        for (spec, col) in self.features.iter().zip(columns) {
            if spec.is_text() != matches!(col, ColumnValues::Text(_)) {
                let want = if spec.is_text() { "text" } else { "numeric" };
                return Err(MlError::new(
                    sqlstate::DATATYPE_MISMATCH,
                    format!(
                        "feature '{}' was {} ({}) in training; pass a {want} value",
                        spec.name, want, spec.sql_type
                    ),
                ));
            }
            match (&spec.encoding, col) {
                (Encoding::Constant, _) => {}
                (
                    Encoding::Numeric {
                        impute,
                        center,
                        scale,
                    },
                    ColumnValues::Numeric(v),
                ) => {
                    for (r, value) in v.iter().enumerate() {
                        // NULL, NaN and ±Infinity are all missing values here
                        let v = value.filter(|v| v.is_finite()).unwrap_or(*impute);
                        x[[r, offset]] = (v - center) / scale;
                    }
                }
                (Encoding::OneHot { categories }, ColumnValues::Text(v)) => {
                    for (r, value) in v.iter().enumerate() {
                        if let Some(s) = value
                            && let Ok(i) = categories.binary_search_by(|c| c.as_str().cmp(s))
                        {
                            x[[r, offset + i]] = 1.0;
                        }
                    }
                }
                // kinds were checked above
                _ => {}
            }
            offset += spec.width();
        }
        Ok(x)
    }

    /// `name type, name type, ...` for error messages.
    pub fn feature_list(&self) -> String {
        self.features
            .iter()
            .map(|f| format!("{} {}", f.name, f.sql_type))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn fit_numeric(values: &[Option<f64>], standardize: bool) -> Encoding {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    if present.is_empty() {
        return Encoding::Constant;
    }
    let n = present.len() as f64;
    let mean = present.iter().sum::<f64>() / n;
    let var = present.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let std = var.sqrt();
    if std <= f64::EPSILON * mean.abs().max(1.0) {
        return Encoding::Constant;
    }
    if standardize {
        Encoding::Numeric {
            impute: mean,
            center: mean,
            scale: std,
        }
    } else {
        Encoding::Numeric {
            impute: mean,
            center: 0.0,
            scale: 1.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(name: &str, v: Vec<Option<f64>>) -> Column {
        Column {
            name: name.into(),
            sql_type: "double precision".into(),
            values: ColumnValues::Numeric(v),
        }
    }
    fn text(name: &str, v: &[Option<&str>]) -> Column {
        Column {
            name: name.into(),
            sql_type: "text".into(),
            values: ColumnValues::Text(v.iter().map(|s| s.map(str::to_owned)).collect()),
        }
    }

    #[test]
    fn standardises_imputes_and_one_hot_encodes() {
        // mean 2, population std sqrt(2/3)
        let a = num("a", vec![Some(1.0), Some(2.0), Some(3.0), None]);
        let b = text("b", &[Some("y"), Some("x"), None, Some("y")]);
        let enc = FeatureEncoder::fit(&[&a, &b], true, false).unwrap();
        assert_eq!(enc.encoded_names(), vec!["a", "b=x", "b=y"]);
        let x = enc
            .transform(&[
                &ColumnValues::Numeric(vec![Some(3.0), None]),
                &ColumnValues::Text(vec![Some("z".into()), Some("x".into())]),
            ])
            .unwrap();
        let s = (2.0f64 / 3.0).sqrt();
        assert!((x[[0, 0]] - 1.0 / s).abs() < 1e-12);
        assert_eq!(x[[1, 0]], 0.0); // NULL -> mean -> 0 after centring
        assert_eq!(x.row(0).to_vec()[1..], [0.0, 0.0]); // unseen category
        assert_eq!(x.row(1).to_vec()[1..], [1.0, 0.0]);
    }

    #[test]
    fn constant_columns_produce_no_feature_and_kinds_are_checked() {
        let a = num("a", vec![Some(5.0), Some(5.0)]);
        let b = text("b", &[Some("k"), Some("k")]);
        let enc = FeatureEncoder::fit(&[&a, &b], true, false).unwrap();
        assert_eq!(enc.width(), 0);
        let err = enc
            .transform(&[
                &ColumnValues::Text(vec![Some("1".into())]),
                &ColumnValues::Text(vec![Some("k".into())]),
            ])
            .unwrap_err();
        assert_eq!(err.sqlstate, "42804");
        let err = enc
            .transform(&[&ColumnValues::Numeric(vec![Some(1.0)])])
            .unwrap_err();
        assert_eq!(err.sqlstate, "22023");
    }
}
