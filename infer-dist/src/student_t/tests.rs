//! The [`kernel`](super::kernel) against an independent per-observation reference, in both
//! instances (the run-time selected one and the baseline), and `log_prob_sum` against the
//! elementwise path and, at ν = 1e15, against the Normal.

use super::kernel::{self, BLOCK, Sums};
use super::{Hoisted, half_ratio};
use crate::{Normal, StudentT};
use infer_ad::Tape;
use proptest::prelude::*;

/// The per-observation sums and partials for x by std's `ln_1p` and cancellation-free forms:
/// u − ln(1 + w²) = −u·t − 2t³(1/3 + t²/5 + t⁴/7 + …), t = w²/(2 + w²) (from
/// ln(1 + w²) = 2 atanh t and u − 2t = −u·t), every term of one sign. Returns the sums and,
/// for each, the sum of the magnitudes of its terms (the scale of its rounding error).
fn reference(x: &[f64], v: f64, m: f64, s: f64) -> (Sums, Sums, Vec<f64>) {
    let (mut sum, mut mag) = (Sums::default(), Sums::default());
    let mut px = Vec::with_capacity(x.len());
    let (v1, rv) = (v + 1.0, v.sqrt());
    for &xi in x {
        let z = (xi - m) / s;
        let w = z / rv;
        let w2 = w * w;
        let (u, g) = (w2 / (1.0 + w2), w / (1.0 + w2));
        let ul = if w2 < 1.0 {
            let t = w2 / (2.0 + w2);
            let t2 = t * t;
            let (mut series, mut p) = (0.0, 1.0);
            for k in 0..40 {
                series += p / f64::from(2 * k + 3);
                p *= t2;
            }
            -u * t - 2.0 * t * t2 * series
        } else {
            u - w2.ln_1p()
        };
        // ((ν + 1)/2) ln(1 + w²) = ½(z² + w²)·ln(1 + w²)/w² (no underflow of w²)
        let hl = if w2 > 0.0 {
            0.5 * (z * z + w2) * (w2.ln_1p() / w2)
        } else {
            0.0
        };
        let dv = [0.5 * ul, u / (2.0 * v)];
        let terms = [-hl, dv[0] + dv[1], v1 / rv * g, v1 * u];
        sum.value += terms[0];
        sum.df += terms[1];
        sum.loc += terms[2];
        sum.scale += terms[3];
        mag.value += terms[0].abs();
        mag.df += dv[0].abs() + dv[1].abs();
        mag.loc += terms[2].abs();
        mag.scale += terms[3].abs();
        px.push(-(v1 / rv) * g / s);
    }
    (sum, mag, px)
}

/// Observations μ + σ·z with z from a spread of scales (at μ, near it, bulk, tails).
fn observations(n: usize, m: f64, s: f64, seed: u64) -> Vec<f64> {
    let mut st = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..n)
        .map(|i| {
            st ^= st << 13;
            st ^= st >> 7;
            st ^= st << 17;
            let a = (st >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            let z = match i % 5 {
                0 => 4.0 * a,
                1 => a * 1e-6,
                2 => a / (0.01 + a * a).sqrt() * 3.0,
                3 => 0.1 / (a + 1e-3),
                _ => 0.0,
            };
            m + s * z
        })
        .collect()
}

/// Both instances against [`reference`]: every sum within `tol` of its terms' magnitudes,
/// every partial for x within `tol` relative.
fn check_kernel(x: &[f64], v: f64, m: f64, s: f64, tol: f64) {
    let h = Hoisted::new(v, m, s);
    let (want, mag, want_px) = reference(x, v, m, s);
    for (name, baseline) in [("dispatched", false), ("baseline", true)] {
        let mut px = Vec::new();
        let mut sink = |p: &[f64]| px.extend_from_slice(p);
        let got = if baseline {
            kernel::sums_baseline(x, Some(&mut sink), &h)
        } else {
            kernel::sums(x, Some(&mut sink), &h)
        };
        assert_eq!(px.len(), x.len());
        let at = format!("{name}, ν = {v}, μ = {m}, σ = {s}, n = {}", x.len());
        for (g, w, s, what) in [
            (got.value, want.value, mag.value, "value"),
            (got.df, want.df, mag.df, "ν"),
            (got.loc, want.loc, mag.loc, "μ"),
            (got.scale, want.scale, mag.scale, "σ"),
        ] {
            assert!(
                (g - w).abs() <= tol * s,
                "{what}, {at}: {g} vs {w} (scale {s})"
            );
        }
        for (i, (p, q)) in px.iter().zip(&want_px).enumerate() {
            assert!((p - q).abs() <= tol * q.abs(), "∂/∂x[{i}], {at}: {p} vs {q}");
        }
        // without the partials for x: the same sums
        let data = if baseline {
            kernel::sums_baseline(x, None, &h)
        } else {
            kernel::sums(x, None, &h)
        };
        assert_eq!(data, got, "{at}: untracked value");
    }
}

#[test]
fn kernel_matches_reference_at_block_edges_and_extremes() {
    // n around the lanes and blocks; ν across the fast (product) and exact (large-ν) blocks
    for n in [0, 1, 7, 8, 9, 63, 64, 255, BLOCK, BLOCK + 1, 3 * BLOCK - 5, 2000] {
        for v in [1e-3, 0.7, 4.5, 30.0, 1e4, 1e15] {
            for (m, s) in [(0.3, 1.2), (-2e3, 1e-150), (1e-3, 4e120)] {
                let x = observations(n, m, s, n as u64 + 1);
                // worst-case bound of the product form 3.2e-13 (module docs of `kernel`),
                // sums of ≤ 2000 terms
                check_kernel(&x, v, m, s, 1e-12);
            }
        }
    }
}

#[test]
fn kernel_falls_back_exactly_for_huge_and_non_finite_observations() {
    let (v, m, s) = (2.0, 0.5, 1.5);
    let mut x = observations(700, m, s, 9);
    // a w² beyond 2¹²⁰ in the second block: that block by the per-observation terms
    x[300] = m + s * 1e70;
    check_kernel(&x, v, m, s, 1e-12);
    let h = Hoisted::new(v, m, s);
    for bad in [f64::NAN, f64::INFINITY] {
        x[300] = bad;
        for got in [
            kernel::sums(&x, None, &h),
            kernel::sums_baseline(&x, None, &h),
        ] {
            assert!(!got.value.is_finite(), "{bad}: {got:?}");
        }
    }
}

#[test]
fn reciprocal_is_within_one_ulp() {
    #[cfg(target_arch = "x86_64")]
    {
        let mut q: Vec<f64> = (0..4096)
            .map(|i| 1.0 + (f64::from(i) * 0.037).exp_m1())
            .collect();
        q.extend([1.0, 1.0 + f64::EPSILON, 2.0 - f64::EPSILON, 3.0, 1e36, 1.3e36]);
        for c in q.chunks_exact(8) {
            let c: [f64; 8] = c.try_into().unwrap_or([1.0; 8]);
            let Some(r) = kernel::recip8(c) else {
                return; // no AVX-512F: the baseline divides
            };
            for (q, r) in c.iter().zip(r) {
                let exact = 1.0 / q;
                let ulp = exact.to_bits().abs_diff(r.to_bits());
                assert!(ulp <= 1, "1/{q}: {r} vs {exact} ({ulp} ulp)");
            }
        }
    }
}

/// `log_prob_sum` (the kernel) and Σ `log_prob` (elementwise): value and gradients.
fn both(x: &[f64], v: f64, m: f64, s: f64) -> [[f64; 4]; 2] {
    [true, false].map(|sum| {
        let tape = Tape::new();
        let xt = tape.constant(&ndarray::Array1::from(x.to_vec()));
        let (df, loc, scale) = (tape.var(v), tape.var(m), tape.var(s));
        let d = StudentT::new(df, loc, scale).unwrap_or_else(|e| panic!("{e}"));
        let lp = if sum {
            d.log_prob_sum(xt)
        } else {
            d.log_prob(xt).map(|t| t.sum())
        }
        .unwrap_or_else(|e| panic!("{e}"));
        lp.backward();
        [lp.value(), df.grad(), loc.grad(), scale.grad()]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Against the elementwise path: the value within 1e-12 of Σ |log p|, each gradient
    /// within 1e-12 of the magnitudes of its terms (including n·|½D′(ν/2)| and n/σ).
    #[test]
    fn log_prob_sum_matches_elementwise(
        lv in -3.0f64..15.0,
        m in -10.0f64..10.0,
        ls in -3.0f64..3.0,
        n in prop_oneof![Just(0usize), Just(1), Just(7), 0usize..700],
        seed in 0u64..1000,
    ) {
        let (v, s) = (10f64.powf(lv), 10f64.powf(ls));
        let x = observations(n, m, s, seed);
        let [got, want] = both(&x, v, m, s);
        let (_, mag, _) = reference(&x, v, m, s);
        let nf = n as f64;
        let (d0, d1, _) = half_ratio(v);
        let scales = [
            mag.value + nf * (d0.abs() + s.ln().abs() + 1.0),
            mag.df + nf * (0.5 * d1).abs(),
            mag.loc / s,
            (mag.scale + nf) / s,
        ];
        for k in 0..4 {
            prop_assert!(
                (got[k] - want[k]).abs() <= 1e-12 * scales[k],
                "[{k}] ν = {v}, μ = {m}, σ = {s}, n = {n}: {} vs {} (scale {})",
                got[k], want[k], scales[k]
            );
        }
    }
}

#[test]
fn large_df_matches_the_normal() {
    // ν = 1e15: the Student-t is the Normal to O(z⁴/ν) ≈ 1e-15 relative; observations at
    // μ, within 1e-8 σ of it and out to 4σ
    let (m, s) = (0.7, 2.5);
    let mut x = observations(1000, m, s, 3);
    x.extend([m, m + 1e-8 * s, m - 1e-12, m + 4.0 * s]);
    let tape = Tape::new();
    let xt = tape.constant(&ndarray::Array1::from(x));
    let t = StudentT::new(tape.var(1e15), tape.var(m), tape.var(s))
        .and_then(|d| d.log_prob_sum(xt))
        .unwrap_or_else(|e| panic!("{e}"));
    let nrm = Normal::new(tape.var(m), tape.var(s))
        .and_then(|d| d.log_prob_sum(xt))
        .unwrap_or_else(|e| panic!("{e}"));
    let (a, b) = (t.value(), nrm.value());
    assert!((a - b).abs() <= 1e-12 * b.abs(), "{a} vs {b}");
}


/// `log_prob_sum` with scalar ν, σ and a tracked location of the value's shape (the hoisted
/// regression path) and Σ `log_prob` (elementwise): value, ∂/∂ν, ∂/∂σ, then ∂/∂μᵢ and
/// ∂/∂xᵢ per element (both tracked).
fn both_vector_loc(x: &[f64], loc: &[f64], v: f64, s: f64) -> [(Vec<f64>, Vec<f64>, Vec<f64>); 2] {
    [true, false].map(|sum| {
        let tape = Tape::new();
        let xt = tape.tensor(&ndarray::Array1::from(x.to_vec()));
        let lt = tape.tensor(&ndarray::Array1::from(loc.to_vec()));
        let (df, scale) = (tape.var(v), tape.var(s));
        let d = StudentT::new(df, lt, scale).unwrap_or_else(|e| panic!("{e}"));
        let lp = if sum {
            d.log_prob_sum(xt)
        } else {
            d.log_prob(xt).map(|t| t.sum())
        }
        .unwrap_or_else(|e| panic!("{e}"));
        lp.backward();
        (
            vec![lp.value(), df.grad(), scale.grad()],
            lt.grad().iter().copied().collect(),
            xt.grad().iter().copied().collect(),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The vector-μ path against the elementwise path: the value within 1e-12 of
    /// Σ |log p| + n(|D| + |ln σ| + 1), ∂/∂ν within 1e-12 of n(1 + |½D′|) + Σ|terms| bound
    /// (each term's magnitude ≤ 1 + ½/ν per observation), ∂/∂σ within 1e-12 of n(ν + 2)/σ,
    /// and each ∂/∂μᵢ, ∂/∂xᵢ within 1e-12 of (ν + 1)/(σ√ν) (the largest a term can be).
    #[test]
    fn vector_loc_log_prob_sum_matches_elementwise(
        lv in -3.0f64..15.0,
        m in -10.0f64..10.0,
        ls in -3.0f64..3.0,
        n in prop_oneof![Just(0usize), Just(1), Just(7), 0usize..300],
        seed in 0u64..1000,
    ) {
        let (v, s) = (10f64.powf(lv), 10f64.powf(ls));
        let z = observations(n, 0.0, s, seed);
        let loc: Vec<f64> = (0..n).map(|i| m + (i as f64 - 0.5 * n as f64) * 0.01).collect();
        let x: Vec<f64> = z.iter().zip(&loc).map(|(z, l)| z + l).collect();
        let [(got, got_loc, got_x), (want, want_loc, want_x)] = both_vector_loc(&x, &loc, v, s);
        let nf = n as f64;
        let (d0, d1, _) = half_ratio(v);
        let (_, mag, _) = reference(&z, v, 0.0, s);
        let scales = [
            mag.value + nf * (d0.abs() + s.ln().abs() + 1.0),
            mag.df + nf * (0.5 * d1).abs(),
            (mag.scale + nf) / s,
        ];
        for k in 0..3 {
            prop_assert!(
                (got[k] - want[k]).abs() <= 1e-12 * scales[k],
                "[{k}] ν = {v}, μ ≈ {m}, σ = {s}, n = {n}: {} vs {} (scale {})",
                got[k], want[k], scales[k]
            );
        }
        let per = (v + 1.0) / (s * v.sqrt());
        for (i, ((a, b), (c, d))) in got_loc.iter().zip(&want_loc).zip(got_x.iter().zip(&want_x)).enumerate() {
            prop_assert!((a - b).abs() <= 1e-12 * per, "∂/∂μ[{i}]: {a} vs {b}");
            prop_assert!((c - d).abs() <= 1e-12 * per, "∂/∂x[{i}]: {c} vs {d}");
        }
    }
}
