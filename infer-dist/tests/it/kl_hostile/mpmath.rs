//! KL divergences at extreme parameters against mpmath (issue 13, area C): the gamma family,
//! the Normal, Uniform–Beta, the location–scale pairs, the formerly narrow pairs and the
//! Dirichlet.

// `DistError` carries two `Shape`s by value; the helpers return it as it is.
#![allow(clippy::result_large_err)]

use super::{build, close, evaluate};
use infer_ad::{Tape, Tensor};
use infer_dist::*;
use ndarray::{arr0, arr1};

/// KL(p ‖ q) and the gradients of every parameter for families built by [`build`] (one
/// parameter list per side).
fn kl_of(pf: &str, xp: &[f64], qf: &str, xq: &[f64]) -> (f64, Vec<f64>) {
    let tape = Tape::new();
    let tp: Vec<Tensor<'_>> = xp.iter().map(|&x| tape.tensor(&arr0(x))).collect();
    let tq: Vec<Tensor<'_>> = xq.iter().map(|&x| tape.tensor(&arr0(x))).collect();
    let p = build(pf, &tp, 0.0).expect("valid p");
    let q = build(qf, &tq, 0.0).expect("valid q");
    let kl = kl_divergence(p.as_ref(), q.as_ref())
        .expect("registered")
        .sum();
    let v = kl.value();
    kl.backward();
    (v, tp.iter().chain(&tq).flat_map(|t| t.grad()).collect())
}

/// A regression case: p's family and parameters, q's, and the expected KL.
type Case<'a> = (&'a str, &'a [f64], &'a str, &'a [f64], f64);

/// A regression case with two parameters on each side.
type PairCase = (&'static str, [f64; 2], &'static str, [f64; 2], f64);

/// Issue 13 (area C2): the gamma-family KL subtracted ln Γ and ψ terms of size α ln α:
/// KL(Gamma(1e100, 1) ‖ Exponential(1e-100)) was −2.4e86, subnormal shapes gave NaN. Now the
/// Stirling-regrouped form. Expected values: mpmath at 400 digits of
/// αq ln(βp/βq) + ln Γ(αq) − ln Γ(αp) + (αp − αq)ψ(αp) + (βq − βp)αp/βp at the f64 inputs.
#[test]
fn gamma_family_kl_at_extreme_shapes_matches_mpmath() {
    let cases: [Case<'_>; 6] = [
        (
            "Gamma",
            &[1e100, 1.0],
            "Exponential",
            &[1e-100],
            114.710_316_116_497_61,
        ),
        (
            "Gamma",
            &[1e300, 1e-300],
            "Gamma",
            &[2e300, 1e-300],
            3.862_943_611_198_906_4e299,
        ),
        (
            "Gamma",
            &[5e-324, 1.0],
            "Gamma",
            &[1e-300, 3.0],
            2.024_022_533_073_106_2e23,
        ),
        (
            "Gamma",
            &[1e-300, 1.0],
            "Gamma",
            &[5e-324, 1.0],
            52.664_544_023_167_557,
        ),
        // Chi2(1e308) = Gamma(5e307, ½).
        (
            "Chi2",
            &[1e308],
            "Exponential",
            &[1.0],
            1.000_000_000_000_000_011e308,
        ),
        (
            "InverseGamma",
            &[3e8, 2e8],
            "InverseGamma",
            &[3.1e8, 2e8],
            164_845.075_398_925_12,
        ),
    ];
    for (pf, xp, qf, xq, want) in cases {
        let (v, g) = kl_of(pf, xp, qf, xq);
        assert!(
            close(v, want, 1e-11),
            "{pf}{xp:?} ‖ {qf}{xq:?}: {v:e} vs {want:e}"
        );
        assert!(g.iter().all(|x| !x.is_nan()), "{pf} ‖ {qf}: {g:?}");
    }
    // Beyond f64: αq/αp overflows.
    let (v, g) = kl_of("Gamma", &[5e-324, 1.0], "Gamma", &[1.0, 1.0]);
    assert_eq!(v, f64::INFINITY);
    assert!(g.iter().all(|x| !x.is_nan()), "{g:?}");
}

/// Issue 13 (area C2): Normal–Normal with σ = 5e-324 gave 0 · ∞ (the hoisted 1/σq²
/// overflowed). Now ½ φ(2 ln(σp/σq)) + ½ z². Expected values: mpmath (400 digits) of
/// ln(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½; LogNormal and HalfNormal share the form.
#[test]
fn normal_kl_at_subnormal_and_huge_scales_matches_mpmath() {
    let cases: [(&str, [f64; 2], [f64; 2], f64); 4] = [
        ("Normal", [0.0, 5e-324], [0.0, 1.0], 743.940_071_921_381_26),
        (
            "LogNormal",
            [0.0, 5e-324],
            [0.0, 1.0],
            743.940_071_921_381_26,
        ),
        (
            "Normal",
            [1e308, 1.0],
            [-1e308, 1e300],
            20_000_000_000_000_688.615,
        ),
        (
            "Normal",
            [0.0, 1e-300],
            [1e-300, 2e-300],
            0.443_147_180_559_945_31,
        ),
    ];
    for (f, xp, xq, want) in cases {
        let (v, g) = kl_of(f, &xp, f, &xq);
        assert!(
            close(v, want, 1e-13),
            "{f}{xp:?} ‖ {xq:?}: {v:e} vs {want:e}"
        );
        assert!(g.iter().all(|x| !x.is_nan()), "{f}: {g:?}");
    }
    let (v, _) = kl_of("HalfNormal", &[5e-324], "HalfNormal", &[1.0]);
    assert!(close(v, 743.940_071_921_381_26, 1e-13), "{v}");
    // σq = 5e-324 against σp = 1: the divergence (≈ 2e646) is beyond f64.
    let (v, g) = kl_of("Normal", &[0.0, 1.0], "Normal", &[0.0, 5e-324]);
    assert_eq!(v, f64::INFINITY);
    assert!(g.iter().all(|x| !x.is_nan()), "{g:?}");
    let (v, _) = kl_of("Normal", &[0.0, 5e-324], "Normal", &[0.0, 5e-324]);
    assert_eq!(v, 0.0);
}

/// Issue 13 (area C2): KL(Uniform ‖ Beta) at concentrations ≥ 1e300 was NaN or wrong (ln B
/// and the (α − 1), (β − 1) terms overflowed with opposite signs). Expected values: mpmath
/// (400 digits) of ln B(α, β) − ln(b − a) − (α − 1) E[ln X] − (β − 1) E[ln(1 − X)].
#[test]
fn uniform_against_beta_at_huge_concentrations_matches_mpmath() {
    let cases: [([f64; 2], [f64; 2], f64); 3] = [
        ([0.3, 0.5], [1e300, 1e300], 5.610_873_617_676_872_8e298),
        ([0.3, 0.5], [1e308, 1e300], 9.269_085_558_590_953_4e307),
        ([0.25, 0.75], [1e300, 3e300], 7.041_631_339_956_709_6e299),
    ];
    for (xp, xq, want) in cases {
        let (v, g) = kl_of("Uniform", &xp, "Beta", &xq);
        assert!(close(v, want, 1e-11), "{xp:?} ‖ {xq:?}: {v:e} vs {want:e}");
        assert!(g.iter().all(|x| !x.is_nan()), "{g:?}");
    }
}

/// Issue 13 (area C2): Laplace–Laplace, Laplace–Normal, Cauchy–Cauchy with subnormal scales
/// and locations at ±f64::MAX gave NaN (0 · ∞, ∞ − ∞, ∞/∞). Now regrouped into
/// non-negative terms (φ(s) = eˢ − 1 − s) or ln(1 + u² + w²) from logarithms. Expected
/// values: mpmath (400 digits) of the textbook forms (see each pair's documentation).
#[test]
fn location_scale_kl_at_extreme_parameters_matches_mpmath() {
    let cases: [PairCase; 8] = [
        (
            "Laplace",
            [0.0, 5e-324],
            "Laplace",
            [1.0, 1.0],
            744.440_071_921_381_26,
        ),
        (
            "Laplace",
            [1e308, 1.0],
            "Laplace",
            [-1e308, 1e300],
            200_000_689.775_527_89,
        ),
        (
            "Laplace",
            [0.0, 1e308],
            "Laplace",
            [5e-324, 5e-324],
            f64::INFINITY,
        ),
        (
            "Cauchy",
            [f64::MAX, 5e-324],
            "Cauchy",
            [-1e308, 1e308],
            1_454.427_811_250_589_5,
        ),
        (
            "Cauchy",
            [0.0, 5e-324],
            "Cauchy",
            [0.0, 1e308],
            1_452.249_986_202_427_4,
        ),
        (
            "Cauchy",
            [1e-8, 1e-300],
            "Cauchy",
            [0.0, 2e-300],
            1_342.630_252_766_842_8,
        ),
        (
            "Laplace",
            [0.0, 1e-300],
            "Normal",
            [0.0, 1.0],
            690.001_319_250_858_43,
        ),
        (
            "Laplace",
            [1e308, 1e300],
            "Normal",
            [-1e308, 1e300],
            19_999_999_999_999_998.565,
        ),
    ];
    for (pf, xp, qf, xq, want) in cases {
        let (v, g) = kl_of(pf, &xp, qf, &xq);
        if want.is_infinite() {
            assert_eq!(v, want, "{pf}{xp:?} ‖ {qf}{xq:?}");
        } else {
            assert!(
                close(v, want, 1e-12),
                "{pf}{xp:?} ‖ {qf}{xq:?}: {v:e} vs {want:e}"
            );
            assert!(g.iter().all(|x| !x.is_nan()), "{pf} ‖ {qf}: {g:?}");
        }
    }
    let (v, _) = kl_of("HalfCauchy", &[5e-324], "HalfCauchy", &[1e308]);
    assert!(close(v, 1_452.249_986_202_427_4, 1e-12), "{v}");
    let (v, _) = kl_of("Laplace", &[0.0, 1.0], "Normal", &[0.0, 5e-324]);
    assert_eq!(v, f64::INFINITY);
}

/// Issue 13: the pairs that were held to narrower ranges (their closed forms subtracted ln Γ,
/// ψ and exponential terms that cancel or overflow) now evaluate regrouped forms over the
/// whole of f64. Expected values: mpmath 1.3 at 800 digits of the textbook forms (PyTorch's
/// `kl.py` expressions, with ln Γ, ψ and erf from mpmath) at the exact f64 inputs, computed
/// outside the crate; `f64::INFINITY` where the exact divergence exceeds f64::MAX. Gradients
/// are checked not NaN at the finite cases.
#[test]
fn formerly_narrow_pairs_match_mpmath_at_extreme_parameters() {
    const M: f64 = f64::MAX;
    let inf = f64::INFINITY;
    let cases: [Case<'_>; 26] = [
        (
            "Normal",
            &[1e308, 1e300],
            "Gumbel",
            &[-1e308, 1e305],
            2_010.093_986_931_765_7,
        ),
        (
            "Normal",
            &[0.0, 5e-324],
            "Gumbel",
            &[1e-300, 1e-300],
            53.963_887_318_421_93,
        ),
        (
            "Gumbel",
            &[1e308, 2e300],
            "Gumbel",
            &[-1e308, 1e300],
            199_999_998.884_068_48,
        ),
        (
            "Gumbel",
            &[0.0, 5e-324],
            "Gumbel",
            &[0.0, 1.0],
            743.862_856_256_479_73,
        ),
        (
            "Gumbel",
            &[M, 1e300],
            "Normal",
            &[-M, 1e305],
            6_463_412.089_663_667,
        ),
        (
            "Gumbel",
            &[0.0, 5e-324],
            "Normal",
            &[0.0, 1.0],
            743.781_794_789_684_4,
        ),
        (
            "Normal",
            &[-1e308, M],
            "Laplace",
            &[1e308, 2.5],
            8.962_639_016_251_33e307,
        ),
        (
            "Normal",
            &[0.0, 5e-324],
            "Laplace",
            &[1.0, 1.0],
            744.714_280_568_736_5,
        ),
        (
            "Gamma",
            &[1e-300, 1e-300],
            "Normal",
            &[0.0, 1.5],
            1.222_222_222_222_222_2e300,
        ),
        // α/β = 2e308 overflows; the divergence does not.
        (
            "Gamma",
            &[1e308, 0.5],
            "Normal",
            &[0.0, 1e308],
            355.404_957_140_523_1,
        ),
        ("Gamma", &[0.88, 1e-300], "Gumbel", &[1e308, 0.3], inf),
        (
            "Gamma",
            &[2.5, 1e-300],
            "Gumbel",
            &[1e300, 1e300],
            0.250_580_969_014_835_15,
        ),
        (
            "Gamma",
            &[1e300, 1.0],
            "Gumbel",
            &[1e300, 1e290],
            321.942_974_485_961_7,
        ),
        (
            "Pareto",
            &[1e308, 1e308],
            "Normal",
            &[1e308, 1e300],
            690.694_466_431_418_4,
        ),
        (
            "Pareto",
            &[1.0, M],
            "Normal",
            &[1.7, 0.3],
            711.219_900_844_484_96,
        ),
        (
            "Pareto",
            &[1e-300, 3.0],
            "Exponential",
            &[1e300],
            1.265_278_955_334_776_4,
        ),
        // Chi2(1e308) = Gamma(5e307, ½); the divergence ≈ 8.7e308 exceeds f64.
        ("Pareto", &[1e300, 1e8], "Chi2", &[1e308], inf),
        (
            "Beta",
            &[1e308, 1e300],
            "Normal",
            &[0.957, 1e-8],
            9_244_995_700_345.447,
        ),
        ("Beta", &[1e-300, 1.0], "Normal", &[0.0, 1e-300], 1.25e300),
        (
            "Beta",
            &[1e-8, 1e300],
            "Gamma",
            &[0.3, 0.3],
            30_000_189.442_132_144,
        ),
        (
            "Beta",
            &[1e308, 1.5],
            "Gamma",
            &[5e-324, 5e-324],
            1_452.275_307_788_171_9,
        ),
        (
            "Beta",
            &[2.5, 1e308],
            "Exponential",
            &[1e300],
            16.690_732_859_447_311,
        ),
        (
            "Beta",
            &[2.5, 1e308],
            "Uniform",
            &[-0.7, 1e8],
            725.886_941_483_613_4,
        ),
        ("Beta", &[1e-300, 1e-300], "Uniform", &[0.0, 1.0], 1e300),
        (
            "Beta",
            &[1e308, 1e308],
            "Beta",
            &[5e307, 5e307],
            0.096_573_590_279_972_65,
        ),
        (
            "Beta",
            &[1e-300, 2.25],
            "Beta",
            &[1e-299, 2.25],
            6.697_414_907_005_954,
        ),
    ];
    for (pf, xp, qf, xq, want) in cases {
        let (v, g) = kl_of(pf, xp, qf, xq);
        if want.is_infinite() {
            assert_eq!(v, want, "{pf}{xp:?} ‖ {qf}{xq:?}");
            continue;
        }
        assert!(
            close(v, want, 1e-10),
            "{pf}{xp:?} ‖ {qf}{xq:?}: {v:e} vs {want:e}"
        );
        assert!(g.iter().all(|x| !x.is_nan()), "{pf} ‖ {qf}: {g:?}");
    }
    // Identical Betas with a subnormal or huge concentration: exactly 0.
    for x in [[1e8, 5e-324], [5e-324, 1e-300], [M, M]] {
        let (v, g) = kl_of("Beta", &x, "Beta", &x);
        assert_eq!(v, 0.0, "{x:?}");
        assert!(g.iter().all(|x| !x.is_nan()), "{g:?}");
    }
}

/// Issue 13: Dirichlet–Dirichlet at concentrations near f64::MAX (the sum overflows) and
/// 1e-8 was NaN. Expected values: mpmath at 800 digits of ln Γ(Σαp) − ln Γ(Σαq) −
/// Σ(ln Γ(αp) − ln Γ(αq)) + Σ(αp − αq)(ψ(αp) − ψ(Σαp)).
#[test]
fn dirichlet_kl_at_extreme_concentrations_matches_mpmath() {
    let cases: [([f64; 3], [f64; 3], f64); 3] = [
        (
            [1e308, 1e-8, 1e-8],
            [1e300, 1e-8, 2e-8],
            0.306_853_352_060_477_3,
        ),
        (
            [2.5, 1e8, 1e308],
            [3.0, 1e8, 1e308],
            0.056_885_989_764_404_556,
        ),
        ([2.5, 1e8, 1e308], [2.5, 1e8, 1e308], 0.0),
    ];
    for (xp, xq, want) in cases {
        let (xp, xq) = (vec![arr1(&xp).into_dyn()], vec![arr1(&xq).into_dyn()]);
        let (v, grad_nan, _) =
            evaluate("Dirichlet", "Dirichlet", &xp, &xq, (0.0, 0.0)).expect("valid");
        assert!(close(v, want, 1e-10), "{xp:?} ‖ {xq:?}: {v:e} vs {want:e}");
        assert!(!grad_nan, "{xp:?} ‖ {xq:?}");
    }
}
