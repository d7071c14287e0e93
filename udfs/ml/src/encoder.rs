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
use crate::stats;
use crate::transform::{self, ColumnTransform, Strategy, Transform};

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
    /// One output feature per category; a NULL reads as `impute` when set
    /// (`imputer(x, 'most_frequent')` in the `transform` option).
    OneHot {
        categories: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        impute: Option<String>,
    },
    /// `label_encoder`: `(index − center) / scale`, one output feature, where
    /// index is the category's 1-based position in `categories` (0 for NULL
    /// and categories outside them).
    Ordinal {
        categories: Vec<String>,
        center: f64,
        scale: f64,
    },
    /// `bucketize` / `quantile_bucketize`: the bucket `bin_<i>` (i = 1 + the
    /// number of split points ≤ x) one-hot encoded over the buckets in `bins`
    /// (those seen in training); a NULL or a bucket not in `bins` is all zeros.
    Buckets { splits: Vec<f64>, bins: Vec<usize> },
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
    /// The preprocessing function of the `transform` option fitted into
    /// `encoding`, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Transform>,
}

impl FeatureSpec {
    /// True when the column must be given as text at prediction.
    pub fn is_text(&self) -> bool {
        matches!(
            self.encoding,
            Encoding::OneHot { .. } | Encoding::Ordinal { .. }
        ) || self.sql_type == "text"
    }
    /// Number of encoded features this column produces.
    pub fn width(&self) -> usize {
        match &self.encoding {
            Encoding::Numeric { .. } | Encoding::Ordinal { .. } => 1,
            Encoding::OneHot { categories, .. } => categories.len(),
            Encoding::Buckets { bins, .. } => bins.len(),
            Encoding::Constant => 0,
        }
    }
    /// The encoded features' category parts: `None` for a single numeric
    /// feature, the category or bucket name for each one-hot feature.
    fn parts(&self) -> Vec<Option<String>> {
        match &self.encoding {
            Encoding::Numeric { .. } | Encoding::Ordinal { .. } => vec![None],
            Encoding::OneHot { categories, .. } => {
                categories.iter().map(|c| Some(c.clone())).collect()
            }
            Encoding::Buckets { bins, .. } => {
                bins.iter().map(|b| Some(format!("bin_{b}"))).collect()
            }
            Encoding::Constant => vec![],
        }
    }
}

/// The fitted encoding of all feature columns, in training order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureEncoder {
    pub features: Vec<FeatureSpec>,
}

impl FeatureEncoder {
    /// Fits the encoding on training columns with the default rules.
    pub fn fit(columns: &[&Column], standardize: bool, drop_first: bool) -> Result<Self> {
        Self::fit_with(columns, standardize, drop_first, &[])
    }

    /// Fits the encoding on training columns; a column named in `transforms`
    /// is encoded by its preprocessing function (see [`crate::transform`]).
    ///
    /// Errors: 42703 when a transform names no feature column, 42804 when its
    /// function does not suit the column's type, 54000 for a text column
    /// with more than [`MAX_CATEGORIES`] categories.
    pub fn fit_with(
        columns: &[&Column],
        standardize: bool,
        drop_first: bool,
        transforms: &[ColumnTransform],
    ) -> Result<Self> {
        let mut assigned: Vec<Option<&Transform>> = vec![None; columns.len()];
        for ct in transforms {
            let i = find_column(columns, &ct.column)?;
            let col = columns[i];
            transform::check_kind(
                ct,
                matches!(col.values, ColumnValues::Text(_)),
                &col.sql_type,
            )?;
            assigned[i] = Some(&ct.transform);
        }
        let mut features = Vec::with_capacity(columns.len());
        for (col, t) in columns.iter().zip(assigned) {
            let encoding = match t {
                None => fit_default(col, standardize, drop_first)?,
                Some(t) => fit_transform(col, t, standardize, drop_first)?,
            };
            let mut spec = FeatureSpec {
                name: col.name.clone(),
                sql_type: col.sql_type.clone(),
                encoding,
                transform: t.cloned(),
            };
            if t.is_some() && spec.width() > 0 && encodes_constant(&spec, &col.values)? {
                spec.encoding = Encoding::Constant;
            }
            features.push(spec);
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
        self.features
            .iter()
            .flat_map(|f| f.parts().into_iter().map(|p| (f.name.clone(), p)))
            .collect()
    }

    /// Names of the encoded features, `column` or `column=category`.
    pub fn encoded_names(&self) -> Vec<String> {
        self.encoded_columns()
            .into_iter()
            .map(|(c, p)| match p {
                Some(p) => format!("{c}={p}"),
                None => c,
            })
            .collect()
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
            encode_into(&spec.encoding, col, &mut x, offset);
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

/// Writes one column's encoded features into `x` from column `offset` on
/// (the kinds were checked by the caller).
fn encode_into(encoding: &Encoding, col: &ColumnValues, x: &mut Array2<f64>, offset: usize) {
    match (encoding, col) {
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
        (Encoding::OneHot { categories, impute }, ColumnValues::Text(v)) => {
            for (r, value) in v.iter().enumerate() {
                if let Some(s) = value.as_ref().or(impute.as_ref())
                    && let Ok(i) = categories.binary_search(s)
                {
                    x[[r, offset + i]] = 1.0;
                }
            }
        }
        (
            Encoding::Ordinal {
                categories,
                center,
                scale,
            },
            ColumnValues::Text(v),
        ) => {
            for (r, value) in v.iter().enumerate() {
                x[[r, offset]] = (ordinal(categories, value.as_deref()) - center) / scale;
            }
        }
        (Encoding::Buckets { splits, bins }, ColumnValues::Numeric(v)) => {
            for (r, value) in v.iter().enumerate() {
                if let Some(b) = value.filter(|v| v.is_finite()).map(|v| bucket(splits, v))
                    && let Ok(j) = bins.binary_search(&b)
                {
                    x[[r, offset + j]] = 1.0;
                }
            }
        }
        _ => {}
    }
}

/// `label_encoder`'s value: the 1-based position in the sorted vocabulary, 0 outside it.
fn ordinal(categories: &[String], value: Option<&str>) -> f64 {
    value
        .and_then(|s| categories.binary_search_by(|c| c.as_str().cmp(s)).ok())
        .map_or(0.0, |i| (i + 1) as f64)
}

/// The 1-based bucket of `x` between ascending split points.
fn bucket(splits: &[f64], x: f64) -> usize {
    splits.partition_point(|p| *p <= x) + 1
}

/// The index of the column a transform names: exact match first, then a
/// unique case-insensitive one; 42703 otherwise.
fn find_column(columns: &[&Column], name: &str) -> Result<usize> {
    if let Some(i) = columns.iter().position(|c| c.name == name) {
        return Ok(i);
    }
    let matches: Vec<usize> = (0..columns.len())
        .filter(|&i| columns[i].name.eq_ignore_ascii_case(name))
        .collect();
    match matches.as_slice() {
        [i] => Ok(*i),
        _ => Err(MlError::new(
            sqlstate::UNDEFINED_COLUMN,
            format!(
                "transform names column \"{name}\", which is not a feature column of the training query (the label, data_split_col and grouping_cols cannot be transformed; features: {})",
                columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// True when every encoded feature of the column is the same on all training rows.
fn encodes_constant(spec: &FeatureSpec, values: &ColumnValues) -> Result<bool> {
    let rows = values.len();
    if rows == 0 {
        return Ok(true);
    }
    let mut x = Array2::<f64>::zeros((rows, spec.width()));
    encode_into(&spec.encoding, values, &mut x, 0);
    Ok(x.columns().into_iter().all(|c| {
        let first = c[0];
        c.iter()
            .all(|v| (v - first).abs() <= 1e-12 * first.abs().max(1.0))
    }))
}

/// The default encoding of a column (see the module docs).
fn fit_default(col: &Column, standardize: bool, drop_first: bool) -> Result<Encoding> {
    Ok(match &col.values {
        ColumnValues::Numeric(v) => fit_numeric(v, standardize),
        ColumnValues::Text(v) => fit_categories(&col.name, v, drop_first, None)?,
    })
}

/// One-hot over the categories seen (NULL read as `impute` when given).
fn fit_categories(
    name: &str,
    values: &[Option<String>],
    drop_first: bool,
    impute: Option<String>,
) -> Result<Encoding> {
    let mut set: BTreeSet<&str> = values.iter().flatten().map(String::as_str).collect();
    if let Some(i) = &impute {
        set.insert(i.as_str());
    }
    let has_null = impute.is_none() && values.iter().any(Option::is_none);
    if set.is_empty() || (set.len() == 1 && !has_null) {
        return Ok(Encoding::Constant);
    }
    if set.len() > MAX_CATEGORIES {
        return Err(MlError::new(
            sqlstate::PROGRAM_LIMIT_EXCEEDED,
            format!(
                "text column \"{name}\" has {} distinct values; a model one-hot encodes at most {MAX_CATEGORIES} categories per column: leave it out, bucket it, label-encode it (transform=[label_encoder({name})]) or cast it to a number",
                set.len()
            ),
        ));
    }
    let mut categories: Vec<String> = set.into_iter().map(str::to_owned).collect();
    if drop_first {
        categories.remove(0);
    }
    Ok(Encoding::OneHot { categories, impute })
}

/// The encoding of a column under a preprocessing function of the
/// `transform` option, fitted on the training values.
fn fit_transform(
    col: &Column,
    t: &Transform,
    standardize: bool,
    drop_first: bool,
) -> Result<Encoding> {
    match (&col.values, t) {
        (ColumnValues::Numeric(v), Transform::Imputer { strategy }) => {
            let present = stats::sorted_present(&finite(v));
            let Some(fill) = (match strategy {
                Strategy::Mean => stats::mean_std(&finite(v)).map(|m| m.0),
                Strategy::Median => {
                    (!present.is_empty()).then(|| stats::quantile_linear(&present, 0.5))
                }
                Strategy::MostFrequent => stats::most_frequent(present.iter().copied()),
            }) else {
                return Ok(Encoding::Constant);
            };
            let filled: Vec<Option<f64>> = v
                .iter()
                .map(|x| Some(x.filter(|x| x.is_finite()).unwrap_or(fill)))
                .collect();
            Ok(match fit_numeric(&filled, standardize) {
                Encoding::Numeric { center, scale, .. } => Encoding::Numeric {
                    impute: fill,
                    center,
                    scale,
                },
                other => other,
            })
        }
        (ColumnValues::Numeric(v), Transform::Bucketize { splits }) => {
            Ok(fit_buckets(v, splits.clone(), drop_first))
        }
        (ColumnValues::Numeric(v), Transform::QuantileBucketize { num_buckets }) => {
            let splits = stats::quantile_splits(&stats::sorted_present(&finite(v)), *num_buckets);
            Ok(fit_buckets(v, splits, drop_first))
        }
        (ColumnValues::Numeric(v), scaler) => {
            let v = finite(v);
            let present = stats::sorted_present(&v);
            let (Some(&min), Some(&max)) = (present.first(), present.last()) else {
                return Ok(Encoding::Constant);
            };
            let mean = present.iter().sum::<f64>() / present.len() as f64;
            let (center, scale) = match scaler {
                Transform::StandardScaler => (mean, stats::mean_std(&v).map_or(0.0, |m| m.1)),
                Transform::MinMaxScaler => (min, max - min),
                Transform::MaxAbsScaler => (0.0, min.abs().max(max.abs())),
                Transform::RobustScaler {
                    low,
                    high,
                    with_median,
                    with_quantile_range,
                } => {
                    let center = if *with_median {
                        stats::quantile_linear(&present, 0.5)
                    } else {
                        0.0
                    };
                    let range = stats::quantile_linear(&present, high / 100.0)
                        - stats::quantile_linear(&present, low / 100.0);
                    // scikit-learn divides by 1 where the range is zero
                    let scale = if *with_quantile_range && range > 0.0 {
                        range
                    } else {
                        1.0
                    };
                    (center, scale)
                }
                _ => unreachable!("kinds were checked by check_kind"),
            };
            if !(scale > 0.0 && scale.is_finite()) || min == max {
                return Ok(Encoding::Constant);
            }
            Ok(Encoding::Numeric {
                impute: mean,
                center,
                scale,
            })
        }
        (ColumnValues::Text(v), Transform::Imputer { strategy }) => match strategy {
            Strategy::MostFrequent => {
                fit_categories(&col.name, v, drop_first, stats::most_frequent_text(v))
            }
            _ => Err(MlError::new(
                sqlstate::DATATYPE_MISMATCH,
                format!(
                    "transform: imputer({}) on text needs strategy 'most_frequent'",
                    col.name
                ),
            )),
        },
        (
            ColumnValues::Text(v),
            Transform::OneHotEncoder {
                drop_most_frequent,
                top_k,
                frequency_threshold,
            },
        ) => {
            let mut categories = stats::vocabulary(v, *top_k, *frequency_threshold);
            if *drop_most_frequent {
                if let Some(m) = stats::most_frequent_in(v, &categories) {
                    categories.retain(|c| *c != m);
                }
            } else if drop_first && !categories.is_empty() {
                categories.remove(0);
            }
            Ok(Encoding::OneHot {
                categories,
                impute: None,
            })
        }
        (
            ColumnValues::Text(v),
            Transform::LabelEncoder {
                top_k,
                frequency_threshold,
            },
        ) => {
            let categories = stats::vocabulary(v, *top_k, *frequency_threshold);
            let codes: Vec<Option<f64>> = v
                .iter()
                .map(|s| Some(ordinal(&categories, s.as_deref())))
                .collect();
            Ok(match fit_numeric(&codes, standardize) {
                Encoding::Numeric { center, scale, .. } => Encoding::Ordinal {
                    categories,
                    center,
                    scale,
                },
                other => other,
            })
        }
        _ => unreachable!("kinds were checked by check_kind"),
    }
}

/// The values with NaN and ±Infinity read as missing, as prediction reads them.
fn finite(v: &[Option<f64>]) -> Vec<Option<f64>> {
    v.iter().map(|x| x.filter(|x| x.is_finite())).collect()
}

/// One-hot buckets over the buckets the training values fall in.
fn fit_buckets(v: &[Option<f64>], splits: Vec<f64>, drop_first: bool) -> Encoding {
    let seen: BTreeSet<usize> = v
        .iter()
        .flatten()
        .filter(|x| x.is_finite())
        .map(|x| bucket(&splits, *x))
        .collect();
    let mut bins: Vec<usize> = seen.into_iter().collect();
    if drop_first && !bins.is_empty() {
        bins.remove(0);
    }
    if bins.is_empty() {
        return Encoding::Constant;
    }
    Encoding::Buckets { splits, bins }
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
