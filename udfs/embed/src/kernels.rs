//! Element-wise kernels of the packed encoder (GELU, softmax, layer norm),
//! written as plain loops that the compiler vectorises, compiled three
//! times (AVX-512, AVX2 + FMA, baseline) and picked at run time by the
//! CPU's features.
//!
//! Why not the scalar `f32::exp` and candle's `erf_f32`: with 2 threads on
//! the 1,000 Fine Foods test reviews the encoder evaluates ~840 million
//! GELUs and ~400 million softmax exponentials; the scalar library calls
//! took 20–25% of the encoder's time (BENCHMARKS.md). The approximations
//! here are the ones PyTorch's own vectorised CPU kernels use:
//! - `exp`: Cephes' `expf` (range reduction by `ln 2` split in two parts, a
//!   degree-6 polynomial, 2ⁿ built from the exponent bits), ≤ 2 ulp;
//! - `erf`: Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5·10⁻⁷), as in
//!   PyTorch's `Vectorized<float>::erf`, which its CPU GELU uses (in f32
//!   arithmetic ≤ 5·10⁻⁷: cancellation in `1 − p·t·e^(−x²)` near 0).

/// Lanes of the partial sums (one AVX-512 register of `f32`).
const LANES: usize = 16;

/// Generates `pub fn $name` dispatching to AVX-512 / AVX2+FMA copies of the
/// `#[inline(always)]` body `$body` on x86-64, to the body elsewhere.
macro_rules! multiversion {
    ($(#[$m:meta])* pub fn $name:ident($($a:ident: $t:ty),*) $(-> $r:ty)? = $body:ident) => {
        $(#[$m])*
        pub fn $name($($a: $t),*) $(-> $r)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                unsafe fn v4($($a: $t),*) $(-> $r)? { $body($($a),*) }
                #[target_feature(enable = "avx2,fma")]
                unsafe fn v3($($a: $t),*) $(-> $r)? { $body($($a),*) }
                if std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512vl")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has the features the copy is compiled for.
                    return unsafe { v4($($a),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: as above.
                    return unsafe { v3($($a),*) };
                }
            }
            $body($($a),*)
        }
    };
}

/// `eˣ` (Cephes `expf`; inputs below −87 give ~2⁻¹²⁶, above 88 give ~2¹²⁷).
#[inline(always)]
fn exp(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // adding and subtracting 1.5·2²³ rounds to the nearest integer
    const ROUND: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let t = x.mul_add(LOG2E, ROUND);
    let n = t - ROUND;
    let r = n.mul_add(-LN2_HI, x);
    let r = n.mul_add(-LN2_LO, r);
    let p = 1.987_569_1e-4f32;
    let p = p.mul_add(r, 1.398_2e-3);
    let p = p.mul_add(r, 8.333_452e-3);
    let p = p.mul_add(r, 4.166_579_6e-2);
    let p = p.mul_add(r, 1.666_666_5e-1);
    let p = p.mul_add(r, 0.5);
    let y = p.mul_add(r * r, r) + 1.0;
    // t's low mantissa bits hold n (−126 ≤ n ≤ 127) in two's complement:
    // adding the bias and shifting gives 2ⁿ's exponent field without a
    // float-to-int conversion (which does not vectorise, being saturating)
    y * f32::from_bits(t.to_bits().wrapping_add(127) << 23)
}

/// `erf(x)` (Abramowitz & Stegun 7.1.26, |error| ≤ 1.5·10⁻⁷).
#[inline(always)]
fn erf(x: f32) -> f32 {
    let a = x.abs();
    let t = 1.0 / 0.327_591_1f32.mul_add(a, 1.0);
    let p = 1.061_405_4f32;
    let p = p.mul_add(t, -1.453_152);
    let p = p.mul_add(t, 1.421_413_8);
    let p = p.mul_add(t, -0.284_496_74);
    let p = p.mul_add(t, 0.254_829_6);
    let y = 1.0 - p * t * exp(-a * a);
    y.copysign(x)
}

#[inline(always)]
fn gelu_erf_body(x: &mut [f32]) {
    for v in x {
        let u = *v;
        *v = 0.5 * u * (1.0 + erf(u * std::f32::consts::FRAC_1_SQRT_2));
    }
}

multiversion! {
    /// GELU, erf form (`x·Φ(x)`), in place.
    pub fn gelu_erf(x: &mut [f32]) = gelu_erf_body
}

#[inline(always)]
fn gelu_tanh_body(x: &mut [f32]) {
    for v in x {
        let u = *v;
        // tanh(z) = 1 − 2 / (e²ᶻ + 1)
        let z = (2.0f32 / std::f32::consts::PI).sqrt() * (0.044_715 * u * u).mul_add(u, u);
        let th = 1.0 - 2.0 / (exp(2.0 * z) + 1.0);
        *v = 0.5 * u * (1.0 + th);
    }
}

multiversion! {
    /// GELU, tanh approximation, in place.
    pub fn gelu_tanh(x: &mut [f32]) = gelu_tanh_body
}

#[inline(always)]
fn exp_rows_body(x: &mut [f32], width: usize, inv_sums: &mut [f32]) {
    for (row, inv_sum) in x.chunks_exact_mut(width).zip(inv_sums) {
        let mut m = [f32::NEG_INFINITY; LANES];
        let mut chunks = row.chunks_exact(LANES);
        for c in &mut chunks {
            for i in 0..LANES {
                m[i] = m[i].max(c[i]);
            }
        }
        let max = chunks.remainder().iter().fold(
            m.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            |a, &b| a.max(b),
        );
        let mut s = [0f32; LANES];
        let mut chunks = row.chunks_exact_mut(LANES);
        for c in &mut chunks {
            for i in 0..LANES {
                c[i] = exp(c[i] - max);
                s[i] += c[i];
            }
        }
        let mut sum: f32 = s.iter().sum();
        for v in chunks.into_remainder() {
            *v = exp(*v - max);
            sum += *v;
        }
        *inv_sum = 1.0 / sum;
    }
}

multiversion! {
    /// The numerators of the softmax of every `width`-long row of `x`
    /// (`exp(x − row max)`), in place, and `1 / their sum` per row in
    /// `inv_sums`: the attention scales its `s × d` context rather than the
    /// `s × s` probabilities.
    pub fn exp_rows(x: &mut [f32], width: usize, inv_sums: &mut [f32]) = exp_rows_body
}

/// Sum of a slice in `LANES` partial sums (vectorisable; a sequential sum
/// is not, floating-point addition being ordered).
#[inline(always)]
fn sum(x: &[f32]) -> f32 {
    let mut s = [0f32; LANES];
    let mut chunks = x.chunks_exact(LANES);
    for c in &mut chunks {
        for i in 0..LANES {
            s[i] += c[i];
        }
    }
    s.iter().sum::<f32>() + chunks.remainder().iter().sum::<f32>()
}

#[inline(always)]
fn layer_norm_body(x: &mut [f32], w: &[f32], b: &[f32], eps: f32) {
    let h = w.len();
    let n = h as f32;
    for row in x.chunks_exact_mut(h) {
        let mean = sum(row) / n;
        let mut s = [0f32; LANES];
        let mut chunks = row.chunks_exact(LANES);
        for c in &mut chunks {
            for i in 0..LANES {
                let d = c[i] - mean;
                s[i] = d.mul_add(d, s[i]);
            }
        }
        let var = (s.iter().sum::<f32>()
            + chunks
                .remainder()
                .iter()
                .map(|v| (v - mean) * (v - mean))
                .sum::<f32>())
            / n;
        let inv = 1.0 / (var + eps).sqrt();
        for ((v, w), b) in row.iter_mut().zip(w).zip(b) {
            *v = ((*v - mean) * inv).mul_add(*w, *b);
        }
    }
}

multiversion! {
    /// Layer norm of every `w.len()`-long row of `x` in place (two passes:
    /// mean, then variance of the deviations, biased as PyTorch's).
    pub fn layer_norm(x: &mut [f32], w: &[f32], b: &[f32], eps: f32) = layer_norm_body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_within_two_ulp_over_the_softmax_range() {
        let mut worst = 0f64;
        for i in 0..200_000 {
            let x = -87.0 + i as f32 * (87.0 + 10.0) / 200_000.0;
            let got = exp(x) as f64;
            let want = (x as f64).exp();
            worst = worst.max(((got - want) / want).abs());
        }
        assert!(worst < 2.5e-7, "relative error {worst}");
    }

    #[test]
    fn erf_matches_a_series_to_half_a_millionth() {
        // erf by its Taylor series in f64 (converges fast for |x| ≤ 3)
        let reference = |x: f64| -> f64 {
            let (mut term, mut s, mut k) = (x, x, 0.0);
            while term.abs() > 1e-17 {
                k += 1.0;
                term *= -x * x / k;
                s += term / (2.0 * k + 1.0);
            }
            s * 2.0 / std::f64::consts::PI.sqrt()
        };
        for i in -3000..=3000 {
            let x = i as f32 / 1000.0;
            let err = (erf(x) as f64 - reference(x as f64)).abs();
            // 1.5·10⁻⁷ of the approximation plus f32 rounding
            assert!(err < 5e-7, "erf({x}) off by {err}");
        }
        assert_eq!(erf(10.0), 1.0);
        assert_eq!(erf(-10.0), -1.0);
    }

    #[test]
    fn softmax_and_layer_norm_match_f64_references() {
        let width = 37;
        let mut x: Vec<f32> = (0..width * 3)
            .map(|i| ((i * 7919) % 101) as f32 / 9.0 - 5.0)
            .collect();
        let orig = x.clone();
        let mut inv = vec![0f32; 3];
        exp_rows(&mut x, width, &mut inv);
        for ((row, o), inv) in x.chunks(width).zip(orig.chunks(width)).zip(inv) {
            let m = o.iter().fold(f32::MIN, |a, &b| a.max(b)) as f64;
            let z: f64 = o.iter().map(|&v| (v as f64 - m).exp()).sum();
            for (g, &v) in row.iter().zip(o) {
                assert!((*g as f64 * inv as f64 - (v as f64 - m).exp() / z).abs() < 1e-7);
            }
        }
        let h = 40;
        let mut x: Vec<f32> = (0..h * 2)
            .map(|i| (i as f32 * 0.37).sin() * 3.0 + 1.0)
            .collect();
        let orig = x.clone();
        let w: Vec<f32> = (0..h).map(|i| 1.0 + i as f32 / 100.0).collect();
        let b: Vec<f32> = (0..h).map(|i| i as f32 / 50.0).collect();
        layer_norm(&mut x, &w, &b, 1e-12);
        for (row, o) in x.chunks(h).zip(orig.chunks(h)) {
            let mean = o.iter().map(|&v| v as f64).sum::<f64>() / h as f64;
            let var = o.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / h as f64;
            for k in 0..h {
                let want = (o[k] as f64 - mean) / (var + 1e-12).sqrt() * w[k] as f64 + b[k] as f64;
                assert!((row[k] as f64 - want).abs() < 1e-5, "{} vs {want}", row[k]);
            }
        }
    }
}
