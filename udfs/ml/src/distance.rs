//! Distances from one query vector to many stored vectors, the inner loop of
//! `vector_search`.
//!
//! The stored vectors are one contiguous row-major buffer (an Arrow
//! `FixedSizeList<Float32>`'s values, `rows × dim`); the query is float8.
//! Sums are accumulated in f64 over eight independent lanes, so the loop
//! vectorises and the result equals `cosine_similarity`/`inner_product`/
//! `l2_distance` (sequential f64 sums) to rounding (~1e-15 relative).
//! This crate is compiled optimised even in dev builds, which is why the
//! kernel lives here and not in the SQL layer.

/// How `vector_search` measures distance (BigQuery's `distance_type`; smaller is nearer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DistanceType {
    /// ‖a − q‖₂ (pgvector's `<->`).
    Euclidean,
    /// 1 − a·q / (‖a‖ ‖q‖) (pgvector's `<=>`); NaN when a vector has norm 0.
    Cosine,
    /// −a·q (pgvector's `<#>`), so that the largest inner product is nearest.
    DotProduct,
}

impl DistanceType {
    /// Parses BigQuery's names (`EUCLIDEAN`, `COSINE`, `DOT_PRODUCT`) and
    /// pgvector-style aliases (`l2`, `inner_product`), case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "euclidean" | "l2" => Some(Self::Euclidean),
            "cosine" => Some(Self::Cosine),
            "dot_product" | "inner_product" => Some(Self::DotProduct),
            _ => None,
        }
    }

    /// The canonical (BigQuery) name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Euclidean => "EUCLIDEAN",
            Self::Cosine => "COSINE",
            Self::DotProduct => "DOT_PRODUCT",
        }
    }
}

const LANES: usize = 8;

/// Σ xᵢqᵢ, Σ xᵢ², Σ (xᵢ − qᵢ)² over one row, in f64.
#[inline(always)]
fn sums<T: Copy + Into<f64>>(x: &[T], q: &[f64], kind: DistanceType) -> (f64, f64, f64) {
    let mut dot = [0.0f64; LANES];
    let mut nx = [0.0f64; LANES];
    let mut sq = [0.0f64; LANES];
    let xc = x.chunks_exact(LANES);
    let qc = q.chunks_exact(LANES);
    let (xr, qr) = (xc.remainder(), qc.remainder());
    for (xs, qs) in xc.zip(qc) {
        for l in 0..LANES {
            let a: f64 = xs[l].into();
            match kind {
                DistanceType::Euclidean => {
                    let d = a - qs[l];
                    sq[l] += d * d;
                }
                DistanceType::Cosine => {
                    dot[l] += a * qs[l];
                    nx[l] += a * a;
                }
                DistanceType::DotProduct => dot[l] += a * qs[l],
            }
        }
    }
    for (l, (&a, &b)) in xr.iter().zip(qr).enumerate() {
        let a: f64 = a.into();
        dot[l] += a * b;
        nx[l] += a * a;
        sq[l] += (a - b) * (a - b);
    }
    (dot.iter().sum(), nx.iter().sum(), sq.iter().sum())
}

/// The distance from one row `x` to `q` (same length; checked by the caller).
/// `q_norm` is ‖q‖ (used by `Cosine` only).
#[inline]
pub fn distance<T: Copy + Into<f64>>(x: &[T], q: &[f64], q_norm: f64, kind: DistanceType) -> f64 {
    let (dot, nx, sq) = sums(x, q, kind);
    match kind {
        DistanceType::Euclidean => sq.sqrt(),
        DistanceType::Cosine => 1.0 - dot / (nx.sqrt() * q_norm),
        DistanceType::DotProduct => -dot,
    }
}

/// The distances from each `dim`-long row of `values` to `q` (`q.len() == dim`),
/// appended to `out`. `dim > 0` and `values.len()` a multiple of it.
pub fn distances<T: Copy + Into<f64>>(
    values: &[T],
    dim: usize,
    q: &[f64],
    kind: DistanceType,
    out: &mut Vec<f64>,
) {
    assert!(
        dim > 0 && q.len() == dim,
        "query and rows differ in dimension"
    );
    let q_norm = q.iter().map(|v| v * v).sum::<f64>().sqrt();
    out.extend(
        values
            .chunks_exact(dim)
            .map(|x| distance(x, q, q_norm, kind)),
    );
}

/// Indices of the (at most) `k` smallest values of `d` whose index `keep`
/// accepts and that are below `below` (when given), in no particular order.
/// NaN and infinite distances are never selected (a vector with a NaN or
/// infinite element has one, under every distance type).
pub fn smallest(d: &[f64], k: usize, below: Option<f64>, keep: impl Fn(usize) -> bool) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..d.len() as u32)
        .filter(|&i| {
            let v = d[i as usize];
            v.is_finite() && below.is_none_or(|b| v < b) && keep(i as usize)
        })
        .collect();
    if idx.len() > k {
        idx.select_nth_unstable_by(k, |&a, &b| d[a as usize].total_cmp(&d[b as usize]));
        idx.truncate(k);
    }
    idx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_match_hand_computation() {
        // a = [1, 2, 2] (|a| = 3), q = [2, 0, 1] (|q| = √5): a·q = 4,
        // cosine = 4 / (3√5), l2 = √6.
        let a = [1.0f32, 2.0, 2.0, 0.0, 0.0, 0.0];
        let q = [2.0, 0.0, 1.0];
        let mut out = Vec::new();
        distances(&a, 3, &q, DistanceType::Euclidean, &mut out);
        assert!((out[0] - 6f64.sqrt()).abs() < 1e-12);
        assert!((out[1] - 5f64.sqrt()).abs() < 1e-12);
        out.clear();
        distances(&a, 3, &q, DistanceType::Cosine, &mut out);
        assert!((out[0] - (1.0 - 4.0 / (3.0 * 5f64.sqrt()))).abs() < 1e-12);
        assert!(out[1].is_nan(), "zero vector: NaN");
        out.clear();
        distances(&a, 3, &q, DistanceType::DotProduct, &mut out);
        assert_eq!(out, vec![-4.0, -0.0]);
    }

    #[test]
    fn long_rows_use_every_lane_and_the_remainder() {
        let x: Vec<f32> = (0..19).map(|i| i as f32 * 0.5 - 3.0).collect();
        let q: Vec<f64> = (0..19).map(|i| (i as f64).sin()).collect();
        let dot: f64 = x.iter().zip(&q).map(|(a, b)| *a as f64 * b).sum();
        let l2: f64 = x
            .iter()
            .zip(&q)
            .map(|(a, b)| (*a as f64 - b).powi(2))
            .sum::<f64>()
            .sqrt();
        let nx: f64 = x.iter().map(|a| (*a as f64).powi(2)).sum::<f64>().sqrt();
        let nq: f64 = q.iter().map(|a| a * a).sum::<f64>().sqrt();
        let qn = nq;
        assert!((distance(&x, &q, qn, DistanceType::DotProduct) + dot).abs() < 1e-12);
        assert!((distance(&x, &q, qn, DistanceType::Euclidean) - l2).abs() < 1e-12);
        let cos = distance(&x, &q, qn, DistanceType::Cosine);
        assert!((cos - (1.0 - dot / (nx * nq))).abs() < 1e-12);
    }

    #[test]
    fn smallest_skips_nan_and_respects_the_bound() {
        let d = [
            3.0,
            f64::NAN,
            1.0,
            2.0,
            0.5,
            4.0,
            f64::NEG_INFINITY,
            f64::INFINITY,
        ];
        let mut got = smallest(&d, 2, None, |_| true);
        got.sort();
        assert_eq!(got, vec![2, 4]);
        let mut got = smallest(&d, 10, None, |_| true);
        got.sort();
        assert_eq!(got, vec![0, 2, 3, 4, 5]);
        let mut got = smallest(&d, 10, Some(2.5), |i| i != 4);
        got.sort();
        assert_eq!(got, vec![2, 3]);
        assert_eq!(parse_all(), 3);
    }

    fn parse_all() -> usize {
        [
            "EUCLIDEAN",
            "cosine",
            "Dot_Product",
            "l2",
            "inner_product",
            "x",
        ]
        .iter()
        .filter_map(|s| DistanceType::parse(s))
        .map(|d| d.name())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
    }
}
