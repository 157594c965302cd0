//! MultivariateNormal–MultivariateNormal KL divergences at extreme factors (issue 13): against
//! mpmath, the gradient checker and single pairs, and the rules of the suite in three
//! dimensions.

// `DistError` carries two `Shape`s by value; the helpers return it as it is.
#![allow(clippy::result_large_err)]

use super::{Dist, LOC, POS, kl_with, pick};
use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_ad::{AdError, Tape};
use infer_dist::*;
use ndarray::{ArrayD, arr1};
use rand::{Rng, SeedableRng};

/// KL(MVN(μp, Lp) ‖ MVN(μq, Lq)) of n-dimensional inputs (row-major factors) and the
/// gradients of μp, Lp, μq, Lq, concatenated in that order.
fn mvn_kl(mp: &[f64], lp: &[f64], mq: &[f64], lq: &[f64]) -> (f64, Vec<f64>) {
    let n = mp.len();
    kl_with(|t| {
        let mat = |x: &[f64]| {
            t.tensor(&ndarray::Array2::from_shape_vec((n, n), x.to_vec()).expect("n×n"))
        };
        let (a, b, c, d) = (t.tensor(&arr1(mp)), mat(lp), t.tensor(&arr1(mq)), mat(lq));
        Ok((
            Box::new(MultivariateNormal::new(a, b)?) as Dist<'_>,
            Box::new(MultivariateNormal::new(c, d)?) as Dist<'_>,
            vec![a, b, c, d],
        ))
    })
}

/// `got` within `rel` of `want` relative (exactly equal for 0 and ±∞).
fn rel_close(got: f64, want: f64, rel: f64) -> bool {
    if want == 0.0 || want.is_infinite() {
        got == want
    } else {
        (got - want).abs() <= rel * want.abs()
    }
}

/// Issue 13: MultivariateNormal–MultivariateNormal through the tape's triangular solves had
/// NaN gradients with a finite divergence once Cholesky entries and locations left about
/// 1e±8 (a Cholesky diagonal of 1e-100 against a location of 1e100: KL 5e215; an off-diagonal
/// of −1e308 against a diagonal of 1e300: KL 5e31), from ∞ − ∞ in the adjoint of the solve.
/// Expected values: mpmath at 1000 digits of ½[tr(Σq⁻¹Σp) + (μq − μp)ᵀΣq⁻¹(μq − μp) − n +
/// ln det Σq − ln det Σp] with Σ = LLᵀ formed and inverted directly (the exact f64 inputs),
/// gradients by mpmath's numerical differentiation of the same at that precision. A gradient
/// beyond f64 (1e316) is +∞; the zero upper triangles have gradient 0.
#[test]
fn multivariate_normal_kl_at_extreme_factors_matches_mpmath() {
    type Case = ([f64; 2], [f64; 4], [f64; 2], [f64; 4], f64, [f64; 12]);
    let cases: [Case; 2] = [
        (
            [1e8, 1e100],
            [1e-100, 0.0, -0.7, 2.5],
            [1e8, -0.7],
            [1e100, 0.0, 1e308, 1.0],
            5.000_000_000_000_000_650_7e215,
            [
                -1e308,
                1e100,
                f64::INFINITY,
                0.0,
                -1e108,
                2.1,
                1e308,
                -1e100,
                -1e116,
                0.0,
                1e-92,
                -1.000_000_000_000_000_1e216,
            ],
        ),
        (
            [-1e8, -1e8],
            [0.3, 0.0, -1e8, 0.3],
            [0.7, 0.7],
            [1e300, 0.0, -1e308, 1.0],
            5.000_000_170_000_001_974_7e31,
            [
                -1.000_000_017e24,
                -1.000_000_017e16,
                -7_000_000_000_000_003.3,
                0.0,
                -70_000_000.000_000_002,
                -3.033_333_333_333_333_5,
                1.000_000_017e24,
                1.000_000_017e16,
                -1.000_000_024e-268,
                0.0,
                -1.000_000_024_000_000_1e-276,
                -1.000_000_034_000_000_4e32,
            ],
        ),
    ];
    for (mp, lp, mq, lq, want, want_g) in cases {
        let (v, g) = mvn_kl(&mp, &lp, &mq, &lq);
        assert!(
            rel_close(v, want, 1e-13),
            "{mp:?} {lp:?}: {v:e} vs {want:e}"
        );
        for (k, (got, want)) in g.iter().zip(want_g).enumerate() {
            if lp_upper(k, 2) {
                continue;
            }
            assert!(
                rel_close(*got, want, 1e-12),
                "gradient {k}: {got:e} vs {want:e}"
            );
        }
    }
}

/// A 3-dimensional pair at moderate parameters: the value and every gradient (μp, the lower
/// triangle of Lp, μq, the lower triangle of Lq; 0 above the diagonal) against mpmath at 1000
/// digits of the covariance form, gradients by numerical differentiation there (as above);
/// relative 1e-12.
#[test]
fn multivariate_normal_kl_in_three_dimensions_matches_mpmath() {
    let (v, g) = mvn_kl(
        &[0.5, -0.3, 1.1],
        &[1.2, 0.0, 0.0, 0.4, 0.7, 0.0, -0.2, 0.3, 0.9],
        &[0.0, 0.2, -0.4],
        &[0.9, 0.0, 0.0, -0.3, 1.1, 0.0, 0.5, -0.6, 0.8],
    );
    assert!(rel_close(v, 2.088_896_112_461_747_225_1, 1e-13), "{v}");
    let lower = |x: [f64; 6]| [x[0], 0.0, 0.0, x[1], x[2], 0.0, x[3], x[4], x[5]];
    let gmp = [
        -0.082_102_591_572_288_596,
        0.611_225_895_316_804_35,
        1.625_631_313_131_313_2,
    ];
    let glp = lower([
        1.119_815_580_042_852_6,
        0.294_421_487_603_305_72,
        -0.268_963_990_554_900_07,
        -0.672_348_484_848_484_82,
        1.065_340_909_090_908_8,
        0.295_138_888_888_888_79,
    ]);
    let glq = lower([
        -1.447_474_889_183_643,
        -0.732_131_925_313_743_35,
        0.142_254_153_101_260_83,
        -0.006_663_860_830_527_581_4,
        0.303_652_050_811_141_89,
        -3.715_775_973_114_988,
    ]);
    let want: Vec<f64> = gmp
        .iter()
        .chain(&glp)
        .copied()
        .chain(gmp.iter().map(|x| -x))
        .chain(glq)
        .collect();
    for (k, (got, want)) in g.iter().zip(&want).enumerate() {
        if lp_upper(k, 3) {
            continue;
        }
        assert!(
            rel_close(*got, *want, 1e-12),
            "gradient {k}: {got} vs {want}"
        );
    }
}

/// Whether gradient `k` of (μp, Lp, μq, Lq) in `n` dimensions is one of Lp's upper triangle:
/// not compared with the textbook form (whose Σp = LpLpᵀ reads the whole of Lp) but with
/// PyTorch's, which multiplies the whole of Lp by Lq⁻¹ (the conformance cases in
/// tests/data/conformance/kl.json).
fn lp_upper(k: usize, n: usize) -> bool {
    (n..n + n * n).contains(&k) && {
        let (i, j) = ((k - n) / n, (k - n) % n);
        j > i
    }
}

/// The fused MultivariateNormal divergence against central differences of itself
/// (`infer_ad`'s gradcheck; step 1e-6, tolerance 1e-6 + 1e-5 relative) in 3 dimensions, the
/// factors built from unconstrained coordinates by `LowerCholesky`, at 40 fixed points with
/// locations in [−2, 2], diagonals in [e⁻¹, e] and off-diagonals in [−1, 1].
#[test]
fn multivariate_normal_kl_passes_gradcheck_in_three_dimensions() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(13);
    let mut draw = |k: usize, w: f64| -> ArrayD<f64> {
        arr1(
            &(0..k)
                .map(|_| w * (2.0 * rng.random::<f64>() - 1.0))
                .collect::<Vec<_>>(),
        )
        .into_dyn()
    };
    let cfg = GradCheckConfig {
        step: 1e-6,
        atol: 1e-6,
        rtol: 1e-5,
    };
    let as_ad = |e: DistError| match e {
        DistError::Ad(e) => e,
        _ => AdError::Empty { op: "kl test" },
    };
    for _ in 0..40 {
        let inputs = vec![draw(3, 2.0), draw(6, 1.0), draw(3, 2.0), draw(6, 1.0)];
        let r = check_gradient(
            &inputs,
            |_, t| {
                let lp = Bijector::LowerCholesky.forward(t[1]).map_err(as_ad)?;
                let lq = Bijector::LowerCholesky.forward(t[3]).map_err(as_ad)?;
                let p = MultivariateNormal::new(t[0], lp).map_err(as_ad)?;
                let q = MultivariateNormal::new(t[2], lq).map_err(as_ad)?;
                Ok(kl_divergence(&p, &q).map_err(as_ad)?.sum())
            },
            &cfg,
        );
        assert!(r.is_ok(), "{inputs:?}: {r:?}");
    }
}

/// A batch of locations against shared factors: the gradient of the summed batch equals the
/// sum of the single pairs' gradients (the factors' gradients accumulate over the batch; the
/// batch's locations get their own), to 1e-13 relative.
#[test]
fn multivariate_normal_kl_batch_gradients_match_single_pairs() {
    let lp = [1.2, 0.0, 0.4, 0.7];
    let lq = [0.9, 0.0, -0.3, 1.1];
    let locs = [[0.5, -0.3], [1e8, 2.0], [-1.0, 0.0]];
    let mq = [0.0, 0.2];
    let tape = Tape::new();
    let (tlp, tlq) = (
        tape.tensor(&ndarray::array![[lp[0], lp[1]], [lp[2], lp[3]]]),
        tape.tensor(&ndarray::array![[lq[0], lq[1]], [lq[2], lq[3]]]),
    );
    let tm = tape.tensor(&ndarray::Array2::from_shape_fn((3, 2), |(i, j)| locs[i][j]));
    let tmq = tape.tensor(&arr1(&mq));
    let p = MultivariateNormal::new(tm, tlp).expect("valid");
    let q = MultivariateNormal::new(tmq, tlq).expect("valid");
    let kl = kl_divergence(&p, &q).expect("registered");
    assert_eq!(kl.dims(), &[3]);
    kl.sum().backward();
    let (mut sum_lp, mut sum_mq, mut sum_lq) = ([0.0; 4], [0.0; 2], [0.0; 4]);
    let gm = tm.grad();
    for (i, loc) in locs.iter().enumerate() {
        let (_, g) = mvn_kl(loc, &lp, &mq, &lq);
        for k in 0..2 {
            assert!(rel_close(gm[[i, k]], g[k], 1e-13), "μp[{i}][{k}]");
            sum_mq[k] += g[6 + k];
        }
        for k in 0..4 {
            sum_lp[k] += g[2 + k];
            sum_lq[k] += g[8 + k];
        }
    }
    let close_all = |got: Vec<f64>, want: &[f64]| {
        got.iter()
            .zip(want)
            .all(|(a, b)| (a - b).abs() <= 1e-13 * b.abs().max(1.0))
    };
    assert!(close_all(tlp.grad().iter().copied().collect(), &sum_lp));
    assert!(close_all(tmq.grad().iter().copied().collect(), &sum_mq));
    assert!(close_all(tlq.grad().iter().copied().collect(), &sum_lq));
}

/// The rules of `kl_rules_hold_for_every_pair_at_extreme_parameters` for 3-dimensional
/// MultivariateNormal pairs (the property test draws 2-dimensional ones): 20,000 draws (fixed
/// seed) of locations and factor entries from the extreme sets (subnormal to ±f64::MAX), a
/// quarter of them identical pairs. The rules are exact (no statistical tolerance): KL is
/// never NaN, is ≥ 0, is 0 for identical pairs, and no gradient is NaN where it is finite.
#[test]
fn multivariate_normal_kl_rules_hold_in_three_dimensions() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x13);
    let draw = |rng: &mut rand::rngs::StdRng| {
        let pos = |r: &mut rand::rngs::StdRng| pick(r, POS, 0.05, 5.0);
        let loc = |r: &mut rand::rngs::StdRng| pick(r, LOC, -3.0, 3.0);
        let m = [loc(rng), loc(rng), loc(rng)];
        let l = [
            pos(rng),
            0.0,
            0.0,
            loc(rng),
            pos(rng),
            0.0,
            loc(rng),
            loc(rng),
            pos(rng),
        ];
        (m, l)
    };
    for case in 0..20_000 {
        let (mp, lp) = draw(&mut rng);
        let identical = case % 4 == 0;
        let (mq, lq) = if identical { (mp, lp) } else { draw(&mut rng) };
        let (v, g) = mvn_kl(&mp, &lp, &mq, &lq);
        let at = format!("{mp:?} {lp:?} ‖ {mq:?} {lq:?}");
        assert!(!v.is_nan() && v >= 0.0, "KL = {v} at {at}");
        assert!(
            !identical || v == 0.0,
            "KL = {v} for identical pairs at {at}"
        );
        assert!(
            !v.is_finite() || g.iter().all(|x| !x.is_nan()),
            "NaN gradient at {at}: {g:?}"
        );
    }
}
