//! Agglomerative clustering (scikit-learn's `AgglomerativeClustering(
//! n_clusters, linkage)` on Euclidean distances): the linkage is computed by
//! kodama (the library under linfa-hierarchical) and the dendrogram is cut
//! after `rows - num_clusters` merges.
//!
//! Why not linfa-hierarchical itself: it takes a similarity kernel and turns
//! it into distances as `-ln(similarity)`, clipping similarities below 1e-6.
//! With a Gaussian kernel that is the *squared* distance over the kernel
//! width, and every pair further apart than `sqrt(13.8 × width)` gets the same
//! distance, so distant groups merge by cluster size instead of distance
//! (unit test `linfa_hierarchical_ties_distant_groups`: Ward joins a lone
//! far point to a group instead of joining the two groups 900 apart). kodama takes the Euclidean
//! distances directly and implements Ward, complete, average and single
//! linkage as scipy / fastcluster do.
//!
//! Prediction for new rows (scikit-learn has none): the nearest cluster
//! centroid, i.e. the mean of the cluster's training rows.

use kodama::{Method, linkage};
use ndarray::{Array2, Axis};

use crate::error::{MlError, Result};

/// The condensed distance matrix holds rows × (rows − 1) / 2 numbers.
pub const MAX_ROWS: usize = 10_000;

/// The linkages accepted, as scikit-learn names them.
pub const LINKAGES: &[&str] = &["ward", "complete", "average", "single"];

fn method(name: &str) -> Result<Method> {
    match name {
        "ward" => Ok(Method::Ward),
        "complete" => Ok(Method::Complete),
        "average" => Ok(Method::Average),
        "single" => Ok(Method::Single),
        other => Err(MlError::invalid(format!(
            "linkage must be one of {}; got '{other}'",
            LINKAGES.join(", ")
        ))),
    }
}

/// Cluster labels (0-based, numbered in order of first appearance) and the
/// centroids of the clusters.
pub fn fit(x: &Array2<f64>, k: usize, linkage_name: &str) -> Result<(Vec<usize>, Vec<Vec<f64>>)> {
    let n = x.nrows();
    if n > MAX_ROWS {
        return Err(super::too_many_rows(
            "agglomerative clustering",
            n,
            MAX_ROWS,
        ));
    }
    let m = method(linkage_name)?;
    let labels = if n < 2 {
        vec![0; n]
    } else {
        let mut condensed = Vec::with_capacity(n * (n - 1) / 2);
        for i in 0..n {
            let a = x.row(i);
            for j in i + 1..n {
                let b = x.row(j);
                let d2: f64 = a.iter().zip(b.iter()).map(|(p, q)| (p - q) * (p - q)).sum();
                condensed.push(d2.sqrt());
            }
        }
        let dendrogram = linkage(&mut condensed, n, m);
        cut(
            dendrogram.steps().iter().map(|s| (s.cluster1, s.cluster2)),
            n,
            k,
        )
    };
    let centroids = centroids(x, &labels, k);
    Ok((labels, centroids))
}

/// Labels after the first `n - k` merges of a dendrogram (merge `s` creates
/// cluster `n + s`, kodama's and scipy's numbering).
fn cut(steps: impl Iterator<Item = (usize, usize)>, n: usize, k: usize) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..2 * n).collect();
    for (s, (a, b)) in steps.take(n.saturating_sub(k)).enumerate() {
        parent[a] = n + s;
        parent[b] = n + s;
    }
    let root = |mut i: usize| {
        while parent[i] != i {
            i = parent[i];
        }
        i
    };
    let mut ids = std::collections::HashMap::new();
    (0..n)
        .map(|i| {
            let next = ids.len();
            *ids.entry(root(i)).or_insert(next)
        })
        .collect()
}

fn centroids(x: &Array2<f64>, labels: &[usize], k: usize) -> Vec<Vec<f64>> {
    let mut sums = vec![vec![0.0; x.ncols()]; k];
    let mut counts = vec![0usize; k];
    for (row, l) in x.axis_iter(Axis(0)).zip(labels) {
        counts[*l] += 1;
        for (s, v) in sums[*l].iter_mut().zip(row.iter()) {
            *s += v;
        }
    }
    sums.into_iter()
        .zip(counts)
        .filter(|(_, c)| *c > 0)
        .map(|(s, c)| s.into_iter().map(|v| v / c as f64).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use linfa::traits::Transformer;
    use linfa_hierarchical::HierarchicalCluster;
    use linfa_kernel::{Kernel, KernelMethod};
    use ndarray::array;

    // groups at 0..2, 900..901 and 1000 on a line: Euclidean linkage joins
    // the two far groups first (100 apart), leaving {0, 1, 2} alone
    fn line() -> Array2<f64> {
        array![[0.0], [1.0], [2.0], [900.0], [901.0], [1000.0]]
    }

    #[test]
    fn ward_and_single_cut_as_scipy() {
        for linkage in LINKAGES {
            let (labels, centroids) = fit(&line(), 2, linkage).unwrap();
            assert_eq!(labels, vec![0, 0, 0, 1, 1, 1], "{linkage}");
            assert_eq!(
                centroids,
                vec![vec![1.0], vec![(900.0 + 901.0 + 1000.0) / 3.0]]
            );
        }
        let (labels, _) = fit(&line(), 3, "ward").unwrap();
        assert_eq!(labels, vec![0, 0, 0, 1, 1, 2]);
    }

    #[test]
    fn linfa_hierarchical_ties_distant_groups() {
        // {0, 1, 2} and {900, 901, 902} are 900 apart, 5000 is 4000 further:
        // Euclidean Ward joins the two groups; on linfa's clipped (equal)
        // distances Ward prefers joining the small lone point to a group
        let x = array![[0.0], [1.0], [2.0], [900.0], [901.0], [902.0], [5000.0]];
        let kernel = Kernel::params()
            .method(KernelMethod::Gaussian(1.0))
            .transform(x.view());
        let theirs = HierarchicalCluster::default()
            .with_method(Method::Ward)
            .num_clusters(2)
            .transform(kernel)
            .unwrap();
        let t = theirs.targets();
        // every distance between the groups was clipped to the same value
        let ours = fit(&x, 2, "ward").unwrap().0;
        let same = |l: &[usize]| (l[0] == l[3], l[3] == l[6]);
        assert_eq!(same(&ours), (true, false));
        assert_ne!(same(t), same(&ours), "{t:?}");
    }
}
