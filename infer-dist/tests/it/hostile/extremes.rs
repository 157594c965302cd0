//! Hostile input, regressions of issue 13: the MultivariateNormal at NaN, subnormal and
//! overflowing inputs, and moments and log densities at extreme parameters against exact
//! values.

use infer_ad::{Tape, Tensor};
use infer_dist::*;
use ndarray::arr1;
use rand::SeedableRng;

/// A 2-d MultivariateNormal with tracked parameters [μ₁, μ₂, L₁₁, L₂₁, L₂₂].
fn mvn2<'t>(tape: &'t Tape, p: [f64; 5]) -> (MultivariateNormal<'t>, Vec<infer_ad::Var<'t>>) {
    let v: Vec<_> = p.iter().map(|&x| tape.var(x)).collect();
    let zero = tape.constant(&ndarray::arr0(0.0)).item().expect("0-d");
    let loc = tape.stack_vars(&[v[0], v[1]]).expect("same tape");
    let l = tape
        .stack_vars(&[v[2], zero, v[3], v[4]])
        .and_then(|l| l.reshape(&[2, 2]))
        .expect("2×2");
    (MultivariateNormal::new(loc, l).expect("valid"), v)
}

/// The sweep of a backward pass visits every node recorded before the root; the triangular
/// solve of a log density at a NaN value (no gradient reaches it) sent 0 · NaN = NaN to the
/// scale factor, so the entropy's gradient, taken later on the same tape, was NaN at
/// ordinary parameters. Expected: ∂H/∂Lᵢᵢ = 1/Lᵢᵢ (mpmath), 0 for L₂₁ and μ.
#[test]
fn mvn_entropy_gradient_after_a_nan_log_prob() {
    let tape = Tape::new();
    let (d, v) = mvn2(&tape, [0.0, 0.0, 2.2e-308, 0.0, 0.022_650_905_887_534_86]);
    let lp = d
        .log_prob(tape.tensor(&arr1(&[f64::NAN, f64::NAN])))
        .expect("shape");
    assert!(lp.to_vec()[0].is_nan());
    d.entropy().expect("defined").sum().backward();
    let g: Vec<f64> = v.iter().map(|x| x.grad()).collect();
    assert_eq!(&g[..2], &[0.0, 0.0]);
    assert_eq!(g[3], 0.0);
    assert!(
        (g[2] / 4.545_454_545_454_545_050_059_7e307 - 1.0).abs() < 1e-15,
        "{g:?}"
    );
    assert!(
        (g[4] / 44.148_344_660_701_419_161 - 1.0).abs() < 1e-14,
        "{g:?}"
    );
}

/// With a subnormal L₁₁ the partials of L₁₁ through the solve (z₁²/L₁₁) and through the log
/// determinant (−1/L₁₁) both overflow, and met as ∞ − ∞ = NaN though their sum
/// (z₁² − 1)/L₁₁ is 0 at z₁ = 1. Point: μ = 0, L = [[2⁻¹⁰⁷⁴, 0], [0, 2]], x = (2⁻¹⁰⁷⁴, 1):
/// z = (1, ½), ln p = −⅝ + 1074 ln 2 − ln 2 − ln 2π = 741.28404767441197152 (mpmath);
/// ∂/∂L₁₁ = 0, ∂/∂L₂₁ = z₁z₂/L₂₂ = ¼, ∂/∂L₂₂ = (z₂² − 1)/L₂₂ = −⅜, ∂/∂μ₂ = z₂/L₂₂ = ¼,
/// ∂/∂μ₁ = z₁/L₁₁ = 2¹⁰⁷⁴, which overflows to +∞.
#[test]
fn mvn_log_prob_gradient_at_a_subnormal_diagonal() {
    for sum in [false, true] {
        let tape = Tape::new();
        let (d, v) = mvn2(&tape, [0.0, 0.0, 5e-324, 0.0, 2.0]);
        let x = tape.tensor(&arr1(&[5e-324, 1.0]));
        let lp = if sum {
            d.log_prob_sum(x).expect("shape")
        } else {
            d.log_prob(x).expect("shape").sum()
        };
        assert!(
            (lp.value() - 741.284_047_674_411_971_52).abs() < 1e-12,
            "{}",
            lp.value()
        );
        lp.backward();
        let g: Vec<f64> = v.iter().map(|x| x.grad()).collect();
        assert_eq!(
            g,
            vec![f64::INFINITY, 0.25, 0.0, 0.25, -0.375],
            "sum: {sum}"
        );
        let gx = x.grad().iter().copied().collect::<Vec<_>>();
        assert_eq!(gx, vec![f64::NEG_INFINITY, -0.25], "sum: {sum}");
    }
}

/// x − μ overflows (1e308 − (−1e308)): the density is 0 in f64, so the log density is −∞
/// with gradient 0, not NaN (the solve turned ∞ into ∞ − ∞).
#[test]
fn mvn_log_prob_when_the_residual_overflows() {
    let tape = Tape::new();
    let (d, v) = mvn2(&tape, [0.0, -1e308, 0.69, 2.16, 5e-324]);
    let x = tape.tensor(&arr1(&[1e308, 1e308]));
    let lp = d.log_prob(x).expect("shape");
    assert_eq!(lp.to_vec(), vec![f64::NEG_INFINITY]);
    assert_eq!(d.log_prob_sum(x).expect("shape").value(), f64::NEG_INFINITY);
    lp.sum().backward();
    assert!(v.iter().all(|x| x.grad() == 0.0));
    assert!(x.grad().iter().all(|&g| g == 0.0));
}

/// InverseGamma(1e200, 3.424171746171744e305): b² and (a − 1)²(a − 2) both overflowed, so
/// the variance b²/((a − 1)²(a − 2)) was ∞/∞ = NaN. Exact (mpmath): V = 117249521472.80853,
/// ∂V/∂a = −3.5174856441842559e-189, ∂V/∂b = 6.8483434923434890e-295.
#[test]
fn inverse_gamma_variance_of_huge_parameters() {
    let tape = Tape::new();
    let (a, b) = (tape.var(1e200), tape.var(3.424_171_746_171_744e305));
    let v = InverseGamma::new(a, b)
        .and_then(|d| d.variance())
        .expect("defined")
        .sum();
    let rel = |x: f64, y: f64| ((x - y) / y).abs();
    assert!(
        rel(v.value(), 117_249_521_472.808_53) < 1e-14,
        "{}",
        v.value()
    );
    v.backward();
    assert!(
        rel(a.grad(), -3.517_485_644_184_255_9e-189) < 1e-14,
        "{}",
        a.grad()
    );
    assert!(
        rel(b.grad(), 6.848_343_492_343_489e-295) < 1e-14,
        "{}",
        b.grad()
    );
}

/// Kumaraswamy at the edges and at subnormal concentrations (issue 13):
/// - a = b = ½ at x = 0: the density is +∞ and the value partial (a − 1)/x − … was ∞ − ∞;
///   its limit is −∞;
/// - a = b = 2⁻¹⁰⁷⁴ at x = 0.9937931582382316: a ln x underflowed, so ln(1 − xᵃ) was −∞ and
///   the log density +∞; exact (mpmath, 900 digits): −739.35485412862853, ∂/∂x =
///   160.60888840253898, ∂/∂a = 0.99688690785852788 (the separate terms 1/a and (b − 1)/a
///   were ∞ − ∞); ∂/∂b = 2.02e323 overflows to +∞.
#[test]
fn kumaraswamy_edges_and_subnormal_concentrations() {
    let tape = Tape::new();
    let (a, b, x) = (tape.var(0.5), tape.var(0.5), tape.var(0.0));
    let lp = Kumaraswamy::new(a, b)
        .and_then(|d| d.log_prob(x.as_tensor()))
        .expect("valid")
        .sum();
    assert_eq!(lp.value(), f64::INFINITY);
    lp.backward();
    assert_eq!(x.grad(), f64::NEG_INFINITY);
    assert_eq!(a.grad(), f64::NEG_INFINITY);
    assert_eq!(b.grad(), 2.0);

    let tape = Tape::new();
    let (a, b, x) = (
        tape.var(5e-324),
        tape.var(5e-324),
        tape.var(0.993_793_158_238_231_6),
    );
    let lp = Kumaraswamy::new(a, b)
        .and_then(|d| d.log_prob(x.as_tensor()))
        .expect("valid")
        .sum();
    assert!(
        (lp.value() + 739.354_854_128_628_53).abs() < 1e-12,
        "{}",
        lp.value()
    );
    lp.backward();
    assert!(
        (x.grad() / 160.608_888_402_538_98 - 1.0).abs() < 1e-12,
        "{}",
        x.grad()
    );
    assert_eq!(b.grad(), f64::INFINITY);
    assert!(
        (a.grad() / 0.996_886_907_858_527_88 - 1.0).abs() < 1e-12,
        "{}",
        a.grad()
    );
}

// ---- moments and log densities at extreme parameters (issue 13, continued) ----

pub(super) fn rel(x: f64, y: f64) -> f64 {
    ((x - y) / y).abs()
}

/// The value and the parameter gradients of a method of a 2-parameter family, built with
/// `f` from tracked leaves.
pub(super) fn value_and_grads<'t>(
    tape: &'t Tape,
    p: [f64; 2],
    f: impl FnOnce(Tensor<'t>, Tensor<'t>) -> Result<Tensor<'t>, DistError>,
) -> (f64, [f64; 2]) {
    let (a, b) = (tape.var(p[0]), tape.var(p[1]));
    let y = f(a.as_tensor(), b.as_tensor()).expect("defined").sum();
    y.backward();
    (y.value(), [a.grad(), b.grad()])
}

/// Weibull variance at a huge concentration: ∂V/∂k = −(2/k²) λ² Γ(1 + 2/k) D with
/// D = ψ(1 + 2/k) − ρ ψ(1 + 1/k) ≈ ζ(2)/k, which the difference of ψs gave as 0 (and
/// 0 · ∞ = NaN when λ² overflows). Exact values (mpmath, 1200 digits):
/// (λ, k) = (f64::MAX, 1e200): V = 5.3159344225240428e216, ∂V/∂k = −1.0631868845048086e17,
/// ∂V/∂λ = 5.9141733585484123e-92; (1e100, 9e15): V = 2.0307827985780567e168,
/// ∂V/∂k = −4.5128506635067921e152.
#[test]
fn weibull_variance_gradient_at_a_huge_concentration() {
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [f64::MAX, 1e200], |l, k| {
        Weibull::new(l, k)?.variance()
    });
    assert!(rel(v, 5.315_934_422_524_042_8e216) < 1e-12, "{v}");
    assert!(rel(g[1], -1.063_186_884_504_808_6e17) < 1e-12, "{g:?}");
    assert!(rel(g[0], 5.914_173_358_548_412_3e-92) < 1e-12, "{g:?}");
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [1e100, 9e15], |l, k| Weibull::new(l, k)?.variance());
    assert!(rel(v, 2.030_782_798_578_056_7e168) < 1e-12, "{v}");
    assert!(rel(g[1], -4.512_850_663_506_792_1e152) < 1e-12, "{g:?}");
}

/// Gamma variance a/b² at (1e308, 1e200): b² overflowed (V = 0, and ∂/∂b = −2a/b³ was
/// ∞/∞ = NaN at a = f64::MAX). Closed form: V = 1e-92, ∂V/∂b = −2V/b = −2e-292,
/// ∂V/∂a = 1/b² = 1e-400, which underflows to 0.
#[test]
fn gamma_variance_of_a_huge_rate() {
    for (a, v_exact) in [(1e308, 1e-92), (f64::MAX, 1.797_693_134_862_315_7e-92)] {
        let tape = Tape::new();
        let (v, g) = value_and_grads(&tape, [a, 1e200], |a, b| Gamma::new(a, b)?.variance());
        assert!(rel(v, v_exact) < 1e-15, "{v}");
        assert!(rel(g[1], -2.0 * v_exact / 1e200) < 1e-15, "{g:?}");
        assert_eq!(g[0], 0.0);
    }
}

/// LogNormal variance at a subnormal σ: σ² underflows to 0, and ln(1 − e^{−σ²}) was
/// ln 0 = −∞ (so V = 0 instead of 2.5e-39 at μ = 700, and ∞ − ∞ = NaN at μ = 1e308).
/// Exact (mpmath, 1200 digits) at μ = 700, σ = 2⁻¹⁰⁷⁴: V = 2.5109841903664207e-39,
/// ∂V/∂μ = 2V, ∂V/∂σ = 1.0164577162983931e285; at μ = 1e308 V overflows to +∞.
#[test]
fn log_normal_variance_at_a_subnormal_scale() {
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [700.0, 5e-324], |m, s| {
        LogNormal::new(m, s)?.variance()
    });
    assert!(rel(v, 2.510_984_190_366_420_7e-39) < 1e-12, "{v}");
    assert!(rel(g[0], 5.021_968_380_732_841_5e-39) < 1e-12, "{g:?}");
    assert!(rel(g[1], 1.016_457_716_298_393_1e285) < 1e-12, "{g:?}");
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [1e308, 5e-324], |m, s| {
        LogNormal::new(m, s)?.variance()
    });
    assert_eq!(v, f64::INFINITY);
    assert!(!g[0].is_nan() && !g[1].is_nan(), "{g:?}");
}

/// Kumaraswamy moments at a subnormal a (1/a ≈ 1e308): ln Γ(1 + 1/a) overflowed in the
/// moment's ln B (∞ − ∞), 2/a overflowed to ∞ (the second moment was taken as 0 though it is
/// ≈ 1 for a tiny b), and ln b + ln Γ(b) cancelled. Exact (mpmath, 1200 digits):
/// - (7.102549248754836e-309, 1e-200): mean 1 − 4.1e-198 (1 to f64), variance
///   7.0942240845077673e-198;
/// - (2.0729008449229745e-308, 1e308): ln mean = −9.35e307, the mean is 0 in f64;
/// - (7.956524320697693e-309, 2.7127004764224116): mean 7.0e-836, variance 1.1e-836, both 0
///   in f64.
#[test]
fn kumaraswamy_moments_at_a_subnormal_concentration() {
    let tape = Tape::new();
    let (m, _) = value_and_grads(&tape, [7.102_549_248_754_836e-309, 1e-200], |a, b| {
        Kumaraswamy::new(a, b)?.mean()
    });
    assert_eq!(m, 1.0);
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [7.102_549_248_754_836e-309, 1e-200], |a, b| {
        Kumaraswamy::new(a, b)?.variance()
    });
    assert!(rel(v, 7.094_224_084_507_767_3e-198) < 1e-10, "{v}");
    assert!(!g[0].is_nan() && !g[1].is_nan(), "{g:?}");
    for p in [
        [2.072_900_844_922_974_5e-308, 1e308],
        [7.956_524_320_697_693e-309, 2.712_700_476_422_411_6],
    ] {
        for var in [false, true] {
            let tape = Tape::new();
            let (y, g) = value_and_grads(&tape, p, |a, b| {
                let d = Kumaraswamy::new(a, b)?;
                if var { d.variance() } else { d.mean() }
            });
            assert_eq!(y, 0.0, "{p:?} variance: {var}");
            assert!(!g[0].is_nan() && !g[1].is_nan(), "{p:?} {g:?}");
        }
    }
}

/// Binomial(0, 1) at 0: the point mass at 0 (log probability 0), where n ln(1 − p) was
/// 0 · (−∞) = NaN.
#[test]
fn binomial_with_zero_trials_and_certain_success() {
    let tape = Tape::new();
    let (n, p) = (tape.var(0.0), tape.var(1.0));
    let d = Binomial::new(n, p).expect("valid");
    let lp = d.log_prob(tape.var(0.0).as_tensor()).expect("shape").sum();
    assert_eq!(lp.value(), 0.0);
    lp.backward();
    assert_eq!((n.grad(), p.grad()), (0.0, 0.0));
    let lp = d.log_prob(tape.var(1.0).as_tensor()).expect("shape").sum();
    assert_eq!(lp.value(), f64::NEG_INFINITY);
}

/// NegativeBinomial with p = 0 (the point mass at 0), and with r and k near f64::MAX, where
/// ln C(k + r − 1, k) was ∞ − ∞: log probability −∞ at k = f64::MAX for p = 1.36e-308
/// (k ln p = −∞ dominates), 0 at k = 0 for p = 0 with ∂/∂p = −r.
#[test]
fn negative_binomial_at_p_zero_and_huge_counts() {
    let tape = Tape::new();
    let (r, p) = (tape.var(1e300), tape.var(1.362_481_211_923_666_5e-308));
    let d = NegativeBinomial::new(r, p).expect("valid");
    let lp = d
        .log_prob(tape.var(f64::MAX).as_tensor())
        .expect("shape")
        .sum();
    assert_eq!(lp.value(), f64::NEG_INFINITY);
    lp.backward();
    assert!(!r.grad().is_nan() && !p.grad().is_nan());

    let tape = Tape::new();
    let (r, p) = (tape.var(1e300), tape.var(0.0));
    let d = NegativeBinomial::new(r, p).expect("valid");
    for (k, want) in [
        (0.0, 0.0),
        (3.0, f64::NEG_INFINITY),
        (1e308, f64::NEG_INFINITY),
    ] {
        let lp = d.log_prob(tape.var(k).as_tensor()).expect("shape").sum();
        assert_eq!(lp.value(), want, "k = {k}");
    }
    let lp = d.log_prob(tape.var(0.0).as_tensor()).expect("shape").sum();
    lp.backward();
    assert_eq!((r.grad(), p.grad()), (0.0, -1e300));

    // both huge, p ordinary: terms of size 1e308 cancel to a few hundred (Loader's form);
    // r = k = 1e308, p = ½ (at the mode): ln f = −355.86361644456768 (mpmath, 400 digits)
    let tape = Tape::new();
    let d = NegativeBinomial::new(tape.var(1e308), tape.var(0.5)).expect("valid");
    let lp = d
        .log_prob(tape.var(1e308).as_tensor())
        .expect("shape")
        .to_vec()[0];
    assert!(rel(lp, -355.863_616_444_567_68) < 1e-12, "{lp}");
}

/// Categorical(probs) with a row summing to a subnormal: ∂ ln(pᵢ/s)/∂pᵢ = 1/pᵢ − 1/s met as
/// ∞ − ∞. At probs [2⁻¹⁰⁷⁴, 0, 0], log_prob(0) = 0 with gradient exactly 0 for p₀ (and
/// −1/s = −2¹⁰⁷⁴ = −∞ for the other two, whose increase would lower the log probability).
#[test]
fn categorical_probs_with_a_subnormal_row() {
    let tape = Tape::new();
    let p: Vec<_> = [5e-324, 0.0, 0.0].iter().map(|&v| tape.var(v)).collect();
    let d = Categorical::from_probs(tape.stack_vars(&p).expect("same tape")).expect("valid");
    let lp = d.log_prob(tape.var(0.0).as_tensor()).expect("shape").sum();
    assert_eq!(lp.value(), 0.0);
    lp.backward();
    assert_eq!(p[0].grad(), 0.0);
    assert!(p[1].grad() < 0.0 && p[2].grad() < 0.0);
    let h = d.entropy().expect("defined").sum();
    assert_eq!(h.value(), 0.0);
    h.backward();
    assert!(p.iter().all(|x| !x.grad().is_nan()));
}

/// StudentT(2⁻¹⁰⁷⁴, 1e-300, 1e300) at x = 2⁻¹⁰⁷⁴: the hoisted `log_prob_sum` multiplied
/// u = 0 by 1/(2ν) = ∞ in ∂/∂ν. Exact (mpmath): ln p = −1063.6887110394643.
#[test]
fn student_t_log_prob_sum_at_a_subnormal_df() {
    let tape = Tape::new();
    let (v, m, s) = (tape.var(5e-324), tape.var(1e-300), tape.var(1e300));
    let d = StudentT::new(v, m, s).expect("valid");
    let lp = d.log_prob_sum(tape.var(5e-324).as_tensor()).expect("shape");
    assert!(
        rel(lp.value(), -1_063.688_711_039_464_3) < 1e-14,
        "{}",
        lp.value()
    );
    lp.backward();
    assert!(!v.grad().is_nan() && !m.grad().is_nan() && !s.grad().is_nan());
}

/// Normal(0, 3.7e154).log_prob_sum at 1e154: σ² overflowed, so the data term −Σ(x − μ)²/(2σ²)
/// was dropped (−0). Exact (mpmath): ln p = −356.86189868343387, ∂/∂σ = −2.5052810297514461e-155,
/// ∂/∂μ = 7.3046018991964943e-156.
#[test]
fn normal_log_prob_sum_at_a_huge_scale() {
    let tape = Tape::new();
    let (m, s) = (tape.var(0.0), tape.var(3.7e154));
    let d = Normal::new(m, s).expect("valid");
    let x = tape.tensor(&arr1(&[1e154]));
    let lp = d.log_prob_sum(x).expect("shape");
    assert!(
        rel(lp.value(), -356.861_898_683_433_87) < 1e-14,
        "{}",
        lp.value()
    );
    lp.backward();
    assert!(
        rel(s.grad(), -2.505_281_029_751_446_1e-155) < 1e-12,
        "{}",
        s.grad()
    );
    assert!(
        rel(m.grad(), 7.304_601_899_196_494_3e-156) < 1e-12,
        "{}",
        m.grad()
    );
}

/// Pareto(f64::MAX, 1e200).rsample: ∂x/∂α = −x e/α² was ∞/∞ = NaN (α² and x·e overflow).
/// Here x = σ e^{e/α} = σ in f64, and ∂x/∂α = −σ e/α² lies in [−σ·37/α², 0] (e = −ln U ≤ 37
/// for the generator's U ≥ 2⁻⁵³): finite, ≤ 0 and of size ≤ 6.7e-90.
#[test]
fn pareto_rsample_gradient_at_a_huge_shape() {
    let tape = Tape::new();
    let (s, a) = (tape.var(f64::MAX), tape.var(1e200));
    let d = Pareto::new(s, a).expect("valid");
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let x = d.rsample(&mut rng).expect("draw").sum();
    assert_eq!(x.value(), f64::MAX);
    x.backward();
    let g = a.grad();
    assert!((-f64::MAX / 1e200 / 1e200 * 37.0..=0.0).contains(&g), "{g}");
    assert_eq!(s.grad(), 1.0);
}
