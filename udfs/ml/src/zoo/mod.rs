//! The algorithms added to the model zoo beyond the linear models, k-means,
//! naive Bayes and trees: a linear support vector machine, DBSCAN, Gaussian
//! mixtures, agglomerative clustering and PCA. Each module fits through the
//! library named in its docs and keeps the fitted model as plain numbers in
//! [`crate::model::Parameters`].

pub mod dbscan;
pub mod hierarchical;
pub mod mixture;
pub mod pca;
pub mod svm;

use crate::error::{MlError, sqlstate};

/// 54000 for a training set too large for an algorithm that holds all
/// pairwise distances or kernel values in memory.
pub(crate) fn too_many_rows(what: &str, rows: usize, max: usize) -> MlError {
    MlError::new(
        sqlstate::PROGRAM_LIMIT_EXCEEDED,
        format!(
            "{what} keeps a rows × rows matrix in memory and takes at most {max} training rows; got {rows} (sample the rows, e.g. WHERE random() < 0.1)"
        ),
    )
}
