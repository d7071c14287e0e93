//! DBSCAN (scikit-learn's `DBSCAN(eps, min_samples)`, Euclidean distance)
//! through linfa-clustering's `Dbscan`: a core sample has at least
//! `min_samples` training rows (itself included) within `eps`; clusters are
//! the core samples connected through each other's `eps`-neighbourhoods plus
//! the rows within `eps` of them; every other row is noise.
//!
//! Prediction for new rows (DBSCAN itself has none, nor has scikit-learn's):
//! a row joins the cluster of its nearest core sample when that one is within
//! `eps`, and is noise otherwise. A training row that is a core sample or
//! whose nearest core sample is within `eps` keeps its cluster; a border row
//! within `eps` of core samples of two clusters may move to the nearer one.
//!
//! Cost: linfa lists (and sorts) every row's `eps`-neighbourhood, so dense
//! data is quadratic — 5 000 rows all within `eps` of each other take about
//! 4 s, where scikit-learn's C code takes a fraction of that; core samples are
//! found with one `min_samples`-nearest query per row instead of listing the
//! neighbourhoods again. The model stores every core sample.

use linfa::prelude::*;
use linfa_clustering::Dbscan;
use linfa_nn::distance::L2Dist;
use linfa_nn::{CommonNearestNeighbour, NearestNeighbour};
use ndarray::{Array2, Axis};

use crate::error::{MlError, Result, sqlstate};
use crate::model::{NOISE, Prediction};

/// A fitted DBSCAN: the core samples with their clusters, and the training
/// rows' own labels (0-based, [`NOISE`] for noise).
pub struct Fitted {
    pub core_samples: Vec<Vec<f64>>,
    pub core_clusters: Vec<usize>,
    pub labels: Vec<usize>,
}

pub fn fit(x: &Array2<f64>, eps: f64, min_samples: usize) -> Result<Fitted> {
    let failed = |e: String| MlError::new(sqlstate::DATA_EXCEPTION, format!("dbscan failed: {e}"));
    let labels = Dbscan::params(min_samples)
        .tolerance(eps)
        .check()
        .map_err(|e| MlError::invalid(format!("dbscan: {e}")))?
        .transform(x);
    let index = CommonNearestNeighbour::KdTree
        .from_batch(x, L2Dist)
        .map_err(|e| failed(e.to_string()))?;
    let mut core_samples = Vec::new();
    let mut core_clusters = Vec::new();
    for (row, label) in x.axis_iter(Axis(0)).zip(labels.iter()) {
        // core: the min_samples-th nearest row (itself first) is within eps
        // (cheaper than listing the whole eps-neighbourhood again)
        let nearest = index
            .k_nearest(row, min_samples)
            .map_err(|e| failed(e.to_string()))?;
        let core = nearest.len() >= min_samples
            && nearest
                .last()
                .is_some_and(|(p, _)| euclidean(p.view(), row) <= eps);
        if core {
            let Some(c) = label else {
                return Err(failed("a core sample was left unlabelled".into()));
            };
            core_samples.push(row.to_vec());
            core_clusters.push(*c);
        }
    }
    Ok(Fitted {
        core_samples,
        core_clusters,
        labels: labels.iter().map(|l| l.unwrap_or(NOISE)).collect(),
    })
}

fn euclidean(a: ndarray::ArrayView1<f64>, b: ndarray::ArrayView1<f64>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(p, q)| (p - q) * (p - q))
        .sum::<f64>()
        .sqrt()
}

/// The cluster of each row of `x`: that of the nearest core sample within
/// `eps`, else [`NOISE`]; the distance is to the nearest core sample
/// (infinite when there are none).
pub fn predict(
    x: &Array2<f64>,
    eps: f64,
    core_samples: &[Vec<f64>],
    core_clusters: &[usize],
) -> Prediction {
    let n = x.nrows();
    let d = x.ncols();
    let core = Array2::from_shape_fn((core_samples.len(), d), |(i, j)| {
        core_samples[i].get(j).copied().unwrap_or(0.0)
    });
    let index = if core_samples.is_empty() || d == 0 {
        None
    } else {
        CommonNearestNeighbour::KdTree
            .from_batch(&core, L2Dist)
            .ok()
    };
    let mut cluster = vec![NOISE; n];
    let mut distance = vec![f64::INFINITY; n];
    if let Some(index) = index {
        for (i, row) in x.axis_iter(Axis(0)).enumerate() {
            if let Ok(found) = index.k_nearest(row, 1)
                && let Some((point, at)) = found.first()
            {
                let dist = euclidean(point.view(), row);
                distance[i] = dist;
                if dist <= eps {
                    cluster[i] = core_clusters.get(*at).copied().unwrap_or(NOISE);
                }
            }
        }
    }
    Prediction::Clusters { cluster, distance }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn clusters_noise_and_prediction() {
        let x = array![
            [0.0, 0.0],
            [0.0, 0.1],
            [0.1, 0.0],
            [5.0, 5.0],
            [5.0, 5.1],
            [5.1, 5.0],
            [20.0, 20.0]
        ];
        let f = fit(&x, 0.5, 3).unwrap();
        assert_eq!(f.labels[6], NOISE);
        assert_eq!(f.labels[0], f.labels[2]);
        assert_ne!(f.labels[0], f.labels[3]);
        assert_eq!(f.core_samples.len(), 6);
        let new = array![[0.05, 0.05], [5.0, 4.8], [10.0, 10.0]];
        let Prediction::Clusters { cluster, distance } =
            predict(&new, 0.5, &f.core_samples, &f.core_clusters)
        else {
            panic!()
        };
        assert_eq!(cluster, vec![f.labels[0], f.labels[3], NOISE]);
        assert!((distance[1] - 0.2).abs() < 1e-12);
    }
}
