//! A trained model: its feature encoding, label and fitted parameters.
//!
//! The model stores plain numbers (coefficients, centroids), not a library's
//! serialised object, so the file format is ours and stable; prediction is a
//! dot product or a nearest-centroid search over the encoded features.

use std::collections::BTreeMap;

use ndarray::{Array1, Array2, Axis};
use serde::{Deserialize, Serialize};

use crate::data::{ColumnValues, LabelType};
use crate::encoder::FeatureEncoder;
use crate::error::{MlError, Result, sqlstate};

/// The algorithms Augur trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    LogisticRegression,
    LinearRegression,
    KMeans,
    NaiveBayes,
    DecisionTreeClassifier,
    RandomForestClassifier,
    DecisionTreeRegressor,
    RandomForestRegressor,
    LinearSvm,
    Dbscan,
    GaussianMixture,
    Agglomerative,
    Pca,
}

impl Algorithm {
    /// Accepts BigQuery ML's names and scikit-learn-style long names.
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "logistic_reg" | "logistic_regression" => Ok(Self::LogisticRegression),
            "linear_reg" | "linear_regression" => Ok(Self::LinearRegression),
            "kmeans" | "k_means" => Ok(Self::KMeans),
            "naive_bayes" | "gaussian_nb" => Ok(Self::NaiveBayes),
            "decision_tree_classifier" => Ok(Self::DecisionTreeClassifier),
            "random_forest_classifier" => Ok(Self::RandomForestClassifier),
            "decision_tree_regressor" => Ok(Self::DecisionTreeRegressor),
            "random_forest_regressor" => Ok(Self::RandomForestRegressor),
            "linear_svm" | "linear_svc" | "svm" => Ok(Self::LinearSvm),
            "dbscan" => Ok(Self::Dbscan),
            "gaussian_mixture" | "gmm" => Ok(Self::GaussianMixture),
            "agglomerative" | "hierarchical" | "agglomerative_clustering" => {
                Ok(Self::Agglomerative)
            }
            "pca" => Ok(Self::Pca),
            other => Err(MlError::invalid(format!(
                "unknown model_type '{other}': valid are {}",
                VALID_NAMES.join(", ")
            ))),
        }
    }
    /// The canonical name shown in the `models` table.
    pub fn name(self) -> &'static str {
        match self {
            Self::LogisticRegression => "logistic_reg",
            Self::LinearRegression => "linear_reg",
            Self::KMeans => "kmeans",
            Self::NaiveBayes => "naive_bayes",
            Self::DecisionTreeClassifier => "decision_tree_classifier",
            Self::RandomForestClassifier => "random_forest_classifier",
            Self::DecisionTreeRegressor => "decision_tree_regressor",
            Self::RandomForestRegressor => "random_forest_regressor",
            Self::LinearSvm => "linear_svm",
            Self::Dbscan => "dbscan",
            Self::GaussianMixture => "gaussian_mixture",
            Self::Agglomerative => "agglomerative",
            Self::Pca => "pca",
        }
    }
    pub fn is_supervised(self) -> bool {
        !matches!(
            self,
            Self::KMeans | Self::Dbscan | Self::GaussianMixture | Self::Agglomerative | Self::Pca
        )
    }
    /// Assigns rows to clusters (`predict` returns a cluster id).
    pub fn is_clustering(self) -> bool {
        matches!(
            self,
            Self::KMeans | Self::Dbscan | Self::GaussianMixture | Self::Agglomerative
        )
    }
    pub fn is_classifier(self) -> bool {
        matches!(
            self,
            Self::LogisticRegression
                | Self::NaiveBayes
                | Self::DecisionTreeClassifier
                | Self::RandomForestClassifier
                | Self::LinearSvm
        )
    }
    /// Gives probabilities (`predict_proba`): every classifier but
    /// `linear_svm` (whose decision values are not calibrated), and
    /// `gaussian_mixture` (the posterior of the assigned component).
    pub fn has_probabilities(self) -> bool {
        (self.is_classifier() && self != Self::LinearSvm) || self == Self::GaussianMixture
    }
    /// Predicts a number (linear regression, regression trees).
    pub fn is_regressor(self) -> bool {
        matches!(
            self,
            Self::LinearRegression | Self::DecisionTreeRegressor | Self::RandomForestRegressor
        )
    }
    pub fn is_tree(self) -> bool {
        matches!(
            self,
            Self::DecisionTreeClassifier
                | Self::RandomForestClassifier
                | Self::DecisionTreeRegressor
                | Self::RandomForestRegressor
        )
    }
    pub fn is_forest(self) -> bool {
        matches!(
            self,
            Self::RandomForestClassifier | Self::RandomForestRegressor
        )
    }
}

/// The `model_type` values, quoted, for error messages.
pub const VALID_NAMES: &[&str] = &[
    "'logistic_reg'",
    "'linear_reg'",
    "'kmeans'",
    "'naive_bayes'",
    "'decision_tree_classifier'",
    "'random_forest_classifier'",
    "'decision_tree_regressor'",
    "'random_forest_regressor'",
    "'linear_svm'",
    "'dbscan'",
    "'gaussian_mixture'",
    "'agglomerative'",
    "'pca'",
];

/// The label of a supervised model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelSpec {
    pub name: String,
    pub label_type: LabelType,
    /// Classifiers: the classes in sort order; the last is the positive class.
    #[serde(default)]
    pub classes: Vec<String>,
}

/// Fitted parameters, in the encoded feature space.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Parameters {
    /// `P(positive) = 1 / (1 + exp(-(x·coefficients + intercept)))`.
    Logistic {
        coefficients: Vec<f64>,
        intercept: f64,
    },
    /// More than two classes: `P(class c) = softmax_c(x·coefficients[c] + intercepts[c])`,
    /// classes in `LabelSpec::classes` order.
    Multinomial {
        coefficients: Vec<Vec<f64>>,
        intercepts: Vec<f64>,
    },
    /// `y = x·coefficients + intercept`.
    Linear {
        coefficients: Vec<f64>,
        intercept: f64,
    },
    /// Gaussian naive Bayes (per-class feature means, variances and priors);
    /// its labels are class indices written as text, so the model's map of
    /// classes survives JSON (whose object keys are strings).
    NaiveBayes {
        model: linfa_bayes::GaussianNb<f64, String>,
    },
    /// Decision tree (one tree) or random forest: node tables with the
    /// training class counts of every node (see `trees`).
    Trees { trees: Vec<crate::trees::Tree> },
    /// One row per cluster.
    KMeans { centroids: Vec<Vec<f64>> },
    /// Linear support vector machine (two classes): the decision value is
    /// `x·coefficients + intercept`; at or above 0 predicts the positive class.
    LinearSvm {
        coefficients: Vec<f64>,
        intercept: f64,
    },
    /// DBSCAN: the core samples of the training rows and their 0-based
    /// cluster; a new row joins the cluster of its nearest core sample when
    /// that is within `eps`, else it is noise (see `zoo::dbscan`).
    Dbscan {
        eps: f64,
        core_samples: Vec<Vec<f64>>,
        core_clusters: Vec<usize>,
    },
    /// Gaussian mixture with full covariances (see `zoo::mixture`).
    GaussianMixture {
        weights: Vec<f64>,
        means: Vec<Vec<f64>>,
        covariances: Vec<Vec<Vec<f64>>>,
    },
    /// Agglomerative clustering: the mean of each cluster's training rows;
    /// a new row goes to the nearest one.
    Agglomerative {
        linkage: String,
        centroids: Vec<Vec<f64>>,
    },
    /// Principal components (rows, unit length) of the encoded features,
    /// their centre, and each component's variance and share of the total.
    Pca {
        mean: Vec<f64>,
        components: Vec<Vec<f64>>,
        explained_variance: Vec<f64>,
        explained_variance_ratio: Vec<f64>,
    },
}

/// Everything needed to predict, plus what the registry shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub algorithm: Algorithm,
    pub label: Option<LabelSpec>,
    pub encoder: FeatureEncoder,
    pub parameters: Parameters,
    /// Evaluation metrics on the held-out rows (training rows for k-means).
    pub metrics: BTreeMap<String, f64>,
    pub training_rows: u64,
    pub evaluation_rows: u64,
    /// Options as given at training.
    pub options: BTreeMap<String, String>,
    /// Hyper-parameter tuning trials (`ml_tune`); empty for a plain training.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trials: Vec<crate::tune::Trial>,
    /// Per-segment models (`grouping_cols`); `None` for a plain model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<Box<crate::segment::Segments>>,
    /// Text columns embedded by the model itself (`embed_columns`): at
    /// prediction the raw text is embedded again with the same model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embeddings: Vec<TextEmbedding>,
}

/// A text column the model embeds itself: its features are the elements
/// `column[1]` … `column[dim]` of the sentence embedding of the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextEmbedding {
    /// The text column of the training query.
    pub column: String,
    /// The embedding model as named in `embed_model` (`all-MiniLM-L6-v2`, a
    /// directory path, or a directory name in the model cache).
    pub model: String,
    /// Vector length of that model.
    pub dim: usize,
}

/// Predictions for a batch of rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Prediction {
    /// Classifier: index into `LabelSpec::classes`, and the probability of the
    /// positive class (two classes) or of the predicted class (more than two).
    Classes {
        class: Vec<usize>,
        probability: Vec<f64>,
    },
    /// Regression: the predicted value.
    Values(Vec<f64>),
    /// K-means, agglomerative, DBSCAN: the 0-based cluster index ([`NOISE`]
    /// for a DBSCAN noise row) and the Euclidean distance to its centroid
    /// (DBSCAN: to the nearest core sample).
    Clusters {
        cluster: Vec<usize>,
        distance: Vec<f64>,
    },
    /// Gaussian mixture: the 0-based component with the highest posterior
    /// probability, and that probability.
    Components {
        cluster: Vec<usize>,
        probability: Vec<f64>,
    },
    /// PCA: each row projected on the principal components.
    Projections(Vec<Vec<f64>>),
}

/// The cluster index of a DBSCAN noise row (SQL: -1).
pub const NOISE: usize = usize::MAX;

impl Model {
    /// Predicts for feature columns given in training order.
    pub fn predict(&self, columns: &[&ColumnValues]) -> Result<Prediction> {
        if let Some(segments) = &self.segments {
            return crate::segment::predict(self, segments, columns);
        }
        let x = self.encoder.transform(columns)?;
        self.predict_encoded(&x)
    }

    /// Predicts from an already encoded design matrix.
    pub fn predict_encoded(&self, x: &Array2<f64>) -> Result<Prediction> {
        match &self.parameters {
            Parameters::Logistic {
                coefficients,
                intercept,
            } => {
                let probability = positive_probability(x, coefficients, *intercept);
                let class = probability.iter().map(|p| usize::from(*p >= 0.5)).collect();
                Ok(Prediction::Classes { class, probability })
            }
            Parameters::Trees { trees } if trees.first().is_some_and(|t| t.regression) => {
                Ok(Prediction::Values(crate::trees::values(trees, x)))
            }
            Parameters::NaiveBayes { .. } | Parameters::Trees { .. }
                if self.label.as_ref().is_some_and(|l| l.classes.len() == 2) =>
            {
                let p = self.class_probabilities(x)?;
                let probability: Vec<f64> = p.column(1).to_vec();
                let class = probability.iter().map(|p| usize::from(*p >= 0.5)).collect();
                Ok(Prediction::Classes { class, probability })
            }
            Parameters::Multinomial { .. }
            | Parameters::NaiveBayes { .. }
            | Parameters::Trees { .. } => {
                let p = self.class_probabilities(x)?;
                let (class, probability) = p
                    .rows()
                    .into_iter()
                    .map(|row| argmax(row.iter().copied()))
                    .unzip();
                Ok(Prediction::Classes { class, probability })
            }
            Parameters::Linear {
                coefficients,
                intercept,
            } => {
                let y = x.dot(&Array1::from(coefficients.clone())) + *intercept;
                Ok(Prediction::Values(y.to_vec()))
            }
            Parameters::LinearSvm { .. } => {
                let score = self.decision_values(x)?;
                let class = score.iter().map(|s| usize::from(*s >= 0.0)).collect();
                Ok(Prediction::Classes {
                    class,
                    probability: score,
                })
            }
            Parameters::Dbscan {
                eps,
                core_samples,
                core_clusters,
            } => Ok(crate::zoo::dbscan::predict(
                x,
                *eps,
                core_samples,
                core_clusters,
            )),
            Parameters::GaussianMixture { .. } => {
                let p = self.class_probabilities(x)?;
                let (cluster, probability) = p
                    .rows()
                    .into_iter()
                    .map(|row| argmax(row.iter().copied()))
                    .unzip();
                Ok(Prediction::Components {
                    cluster,
                    probability,
                })
            }
            Parameters::Pca {
                mean, components, ..
            } => Ok(Prediction::Projections(crate::zoo::pca::project(
                x, mean, components,
            ))),
            Parameters::KMeans { centroids } | Parameters::Agglomerative { centroids, .. } => {
                let mut cluster = Vec::with_capacity(x.nrows());
                let mut distance = Vec::with_capacity(x.nrows());
                for row in x.axis_iter(Axis(0)) {
                    let (best, d2) = nearest(row.as_slice().unwrap_or(&row.to_vec()), centroids);
                    cluster.push(best);
                    distance.push(d2.sqrt());
                }
                Ok(Prediction::Clusters { cluster, distance })
            }
        }
    }

    /// Classifiers: the probability of every class (rows × classes, in
    /// `LabelSpec::classes` order).
    pub fn class_probabilities(&self, x: &Array2<f64>) -> Result<Array2<f64>> {
        match &self.parameters {
            Parameters::Logistic {
                coefficients,
                intercept,
            } => {
                let mut p = Array2::zeros((x.nrows(), 2));
                for (i, pos) in positive_probability(x, coefficients, *intercept)
                    .into_iter()
                    .enumerate()
                {
                    p[[i, 0]] = 1.0 - pos;
                    p[[i, 1]] = pos;
                }
                Ok(p)
            }
            Parameters::Multinomial {
                coefficients,
                intercepts,
            } => {
                let k = coefficients.len();
                let mut w = Array2::zeros((x.ncols(), k));
                for (c, col) in coefficients.iter().enumerate() {
                    for (j, v) in col.iter().enumerate() {
                        w[[j, c]] = *v;
                    }
                }
                let mut z = x.dot(&w) + &Array1::from(intercepts.clone());
                for mut row in z.rows_mut() {
                    let m = row.fold(f64::NEG_INFINITY, |a, b| a.max(*b));
                    row.mapv_inplace(|v| (v - m).exp());
                    let s = row.sum();
                    row.mapv_inplace(|v| v / s);
                }
                Ok(z)
            }
            Parameters::NaiveBayes { model } => {
                use linfa_bayes::NaiveBayes;
                let k = self.label.as_ref().map_or(0, |l| l.classes.len());
                let mut p = Array2::zeros((x.nrows(), k));
                if x.nrows() > 0 {
                    let (probs, classes) = model.predict_proba(x.view());
                    for (j, class) in classes.iter().enumerate() {
                        if let Ok(c) = class.parse::<usize>()
                            && c < k
                        {
                            p.column_mut(c).assign(&probs.column(j));
                        }
                    }
                }
                Ok(p)
            }
            Parameters::Trees { trees } if self.algorithm.is_classifier() => {
                let k = self.label.as_ref().map_or(0, |l| l.classes.len());
                Ok(crate::trees::probabilities(trees, x, k))
            }
            Parameters::GaussianMixture {
                weights,
                means,
                covariances,
            } => crate::zoo::mixture::posterior(x, weights, means, covariances).map(|(p, _)| p),
            Parameters::LinearSvm { .. } => Err(MlError::new(
                sqlstate::FEATURE_NOT_SUPPORTED,
                "linear_svm gives no probabilities: its decision values are not calibrated; use predict for the class (or logistic_reg for probabilities)",
            )),
            _ => Err(MlError::invalid("class probabilities need a classifier")),
        }
    }

    /// `linear_svm`: the signed decision value `x·w + b` of each row (the
    /// positive class at or above 0); 22023 for other models.
    pub fn decision_values(&self, x: &Array2<f64>) -> Result<Vec<f64>> {
        match &self.parameters {
            Parameters::LinearSvm {
                coefficients,
                intercept,
            } => Ok((x.dot(&Array1::from(coefficients.clone())) + *intercept).to_vec()),
            _ => Err(MlError::invalid("decision values need a linear_svm model")),
        }
    }

    /// Per-row attributions of a linear model's prediction to its input
    /// columns: for each row and feature column, the sum of `weight × encoded
    /// value` over the column's encoded features (for a classifier, on the
    /// log-odds of the positive class — of the predicted class when there are
    /// more than two). With the intercept they add up to the linear score.
    /// Errors with 22023 for models that are not linear.
    pub fn attributions(&self, x: &Array2<f64>) -> Result<Vec<Vec<f64>>> {
        let weights: Vec<Vec<f64>> = match &self.parameters {
            Parameters::Logistic { coefficients, .. }
            | Parameters::Linear { coefficients, .. }
            | Parameters::LinearSvm { coefficients, .. } => {
                vec![coefficients.clone(); x.nrows()]
            }
            Parameters::Multinomial { coefficients, .. } => match self.predict_encoded(x)? {
                Prediction::Classes { class, .. } => {
                    class.iter().map(|c| coefficients[*c].clone()).collect()
                }
                _ => vec![],
            },
            _ => {
                return Err(MlError::invalid(format!(
                    "explanations need a linear model (linear_reg, logistic_reg or linear_svm); the model is {}",
                    self.algorithm.name()
                )));
            }
        };
        let widths: Vec<usize> = self.encoder.features.iter().map(|f| f.width()).collect();
        Ok(x.rows()
            .into_iter()
            .zip(&weights)
            .map(|(row, w)| {
                let mut offset = 0;
                widths
                    .iter()
                    .map(|width| {
                        let a = (offset..offset + width).map(|j| w[j] * row[j]).sum();
                        offset += width;
                        a
                    })
                    .collect()
            })
            .collect())
    }

    /// Tree models: per input column in training order, the number of
    /// splits on it over all trees (BigQuery ML's `importance_weight`) and its
    /// share of the total weighted Gini decrease (scikit-learn's
    /// `feature_importances_`, summed over a column's one-hot categories;
    /// columns sum to 1). Errors with 22023 for other models.
    pub fn feature_importance(&self) -> Result<Vec<(String, u64, f64)>> {
        let Parameters::Trees { trees } = &self.parameters else {
            return Err(MlError::invalid(format!(
                "feature importances need a tree model (decision_tree_classifier, decision_tree_regressor, random_forest_classifier, random_forest_regressor); the model is {}",
                self.algorithm.name()
            )));
        };
        let encoded = self.encoder.encoded_columns();
        let (gain, splits) = crate::trees::importances(trees, encoded.len());
        Ok(self
            .feature_names()
            .into_iter()
            .map(|name| {
                let (mut w, mut g) = (0, 0.0);
                for (j, (f, _)) in encoded.iter().enumerate() {
                    if f == name {
                        w += splits[j];
                        g += gain[j];
                    }
                }
                (name.to_string(), w, g)
            })
            .collect())
    }

    /// Feature names in training order.
    /// The self-embedded text column whose elements are named `column[k]`.
    pub fn embedding(&self, column: &str) -> Option<&TextEmbedding> {
        self.embeddings.iter().find(|e| e.column == column)
    }

    pub fn feature_names(&self) -> Vec<&str> {
        self.encoder
            .features
            .iter()
            .map(|f| f.name.as_str())
            .collect()
    }

    /// The model as JSON (the registry's file format).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| MlError::new(sqlstate::IO_ERROR, format!("cannot serialise model: {e}")))
    }

    pub fn from_json(text: &str) -> Result<Self> {
        serde_json::from_str(text)
            .map_err(|e| MlError::new(sqlstate::IO_ERROR, format!("cannot read model file: {e}")))
    }
}

/// P(positive class) of a binary logistic model for each encoded row.
fn positive_probability(x: &Array2<f64>, coefficients: &[f64], intercept: f64) -> Vec<f64> {
    let z = x.dot(&Array1::from(coefficients.to_vec())) + intercept;
    z.iter().map(|z| sigmoid(*z)).collect()
}

/// The index and value of the largest value (the first one on ties).
pub fn argmax(values: impl Iterator<Item = f64>) -> (usize, f64) {
    values
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |best, (i, v)| {
            if v > best.1 { (i, v) } else { best }
        })
}

/// Numerically stable logistic function.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// Index of the nearest centroid and the squared distance to it.
pub fn nearest(row: &[f64], centroids: &[Vec<f64>]) -> (usize, f64) {
    let mut best = 0;
    let mut best_d = f64::INFINITY;
    for (i, c) in centroids.iter().enumerate() {
        let d: f64 = row.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum();
        if d < best_d {
            best = i;
            best_d = d;
        }
    }
    (best, best_d)
}
