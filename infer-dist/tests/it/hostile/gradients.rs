//! Hostile input, gradients at extreme parameters (issue 13: the former `GRAD_EXCLUDED`
//! entries) against exact values.

use super::extremes::{rel, value_and_grads};
use super::{Dist, families};
use infer_ad::{Tape, Tensor};
use infer_dist::*;
use ndarray::arr1;
use rand::SeedableRng;

/// The value and the gradients (parameters, then the value) of `f` at a 2-parameter family
/// built from tracked leaves, evaluated at the tracked value `x`.
fn at_value<'t>(
    tape: &'t Tape,
    p: [f64; 2],
    x: f64,
    f: impl FnOnce(Tensor<'t>, Tensor<'t>, Tensor<'t>) -> Result<Tensor<'t>, DistError>,
) -> (f64, [f64; 3]) {
    let (a, b, v) = (tape.var(p[0]), tape.var(p[1]), tape.var(x));
    let y = f(a.as_tensor(), b.as_tensor(), v.as_tensor())
        .expect("defined")
        .sum();
    y.backward();
    (y.value(), [a.grad(), b.grad(), v.grad()])
}

/// Beta(f64::MAX, 1e308) at ½: ln Γ(a + b) − ln Γ(a) − ln Γ(b) was ∞ − ∞ (NaN), and
/// (a − 1)/x − (b − 1)/(1 − x) too. Now Loader's form. Exact (mpmath, 60 digits):
/// ln p = −1.1531451410120057947e307, ∂/∂a = −0.25085623457901704072,
/// ∂/∂b = 0.33564801663890900298, ∂/∂x = 1.5953862697246313943e308.
#[test]
fn beta_log_prob_at_extreme_parameters_huge_concentrations() {
    for sum in [false, true] {
        let tape = Tape::new();
        let (l, g) = at_value(&tape, [f64::MAX, 1e308], 0.5, |a, b, x| {
            let d = Beta::new(a, b)?;
            if sum {
                Ok(d.log_prob_sum(x)?.as_tensor())
            } else {
                d.log_prob(x)
            }
        });
        assert!(rel(l, -1.153_145_141_012_005_8e307) < 1e-12, "{l}");
        assert!(rel(g[0], -0.250_856_234_579_017_04) < 1e-12, "{g:?}");
        assert!(rel(g[1], 0.335_648_016_638_909) < 1e-12, "{g:?}");
        assert!(rel(g[2], 1.595_386_269_724_631_4e308) < 1e-12, "{g:?}");
    }
}

/// At x = 0 with a subnormal shape, ∂/∂a of the log density is ln 0 + … = −∞: the sum
/// ln x + ψ(a + b) − ψ(a) was −∞ + ∞ (ψ(5e-324) = −∞ in f64). Beta, Gamma and Chi2.
#[test]
fn log_prob_at_extreme_parameters_shape_partial_at_zero() {
    let tape = Tape::new();
    let (l, g) = at_value(&tape, [5e-324, 1e308], 0.0, |a, b, x| {
        Beta::new(a, b)?.log_prob(x)
    });
    assert_eq!(l, f64::INFINITY);
    assert_eq!(g[0], f64::NEG_INFINITY);
    assert!(g.iter().all(|v| !v.is_nan()), "{g:?}");
    let tape = Tape::new();
    let (_, g) = at_value(&tape, [5e-324, f64::MAX], 0.0, |a, b, x| {
        Gamma::new(a, b)?.log_prob(x)
    });
    assert_eq!(g[0], f64::NEG_INFINITY);
    assert!(g.iter().all(|v| !v.is_nan()), "{g:?}");
    let tape = Tape::new();
    let (v, x) = (tape.var(5.869_375_067_285_75e-309), tape.var(0.0));
    let lp = Chi2::new(v)
        .and_then(|d| d.log_prob(x.as_tensor()))
        .expect("valid");
    lp.sum().backward();
    assert_eq!(v.grad(), f64::NEG_INFINITY);
    assert!(!x.grad().is_nan());
}

/// Laplace(0.01, 2.178699856750168e-202) at x = loc: s² underflowed and −1/s + |x − μ|/s²
/// was 0/0. Exact: ln p = −ln 2s = 463.65031330133727479 (mpmath), ∂/∂s = −1/s =
/// −4.5898933572779419157e201, ∂/∂μ = ∂/∂x = 0 (the subgradient at the kink).
#[test]
fn laplace_log_prob_at_extreme_parameters_tiny_scale() {
    let tape = Tape::new();
    let (l, g) = at_value(
        &tape,
        [0.01, 2.178_699_856_750_168e-202],
        0.01,
        |m, s, x| Laplace::new(m, s)?.log_prob(x),
    );
    assert!(rel(l, 463.650_313_301_337_27) < 1e-14, "{l}");
    assert!(rel(g[1], -4.589_893_357_277_942e201) < 1e-14, "{g:?}");
    assert_eq!((g[0], g[2]), (0.0, 0.0));
}

/// InverseGamma(30, 2.2e-308) at x = 4.82e-310: ∂/∂b = a/b − 1/x was ∞ − ∞. Exact (mpmath):
/// ln p = 709.95402095464830869, ∂/∂a = 0.43641548560432492295; ∂/∂b = −7.1e308 and
/// ∂/∂x = 3.0e310 overflow to ∓∞.
#[test]
fn inverse_gamma_log_prob_at_extreme_parameters_subnormal_rate() {
    let tape = Tape::new();
    let (l, g) = at_value(&tape, [30.0, 2.2e-308], 4.82e-310, |a, b, x| {
        InverseGamma::new(a, b)?.log_prob(x)
    });
    assert!(rel(l, 709.954_020_954_648_3) < 1e-13, "{l}");
    assert!(rel(g[0], 0.436_415_485_604_324_9) < 1e-12, "{g:?}");
    assert_eq!((g[1], g[2]), (f64::NEG_INFINITY, f64::INFINITY));
}

/// Weibull(λ = 2⁻¹⁰⁷⁴, k = 1e308) at x = λ: ∂/∂x = (k − 1)/x − k(x/λ)ᵏ/x was ∞ − ∞.
/// Closed form at x = λ: ln p = ln k − ln λ − 1 = 1452.636280563547333 (mpmath),
/// ∂/∂λ = k((x/λ)ᵏ − 1)/λ = 0, ∂/∂k = 1/k = 1e-308, ∂/∂x = −1/x, which overflows to −∞.
#[test]
fn weibull_log_prob_at_extreme_parameters_subnormal_value() {
    let tape = Tape::new();
    let (l, g) = at_value(&tape, [5e-324, 1e308], 5e-324, |s, k, x| {
        Weibull::new(s, k)?.log_prob(x)
    });
    assert!(rel(l, 1_452.636_280_563_547_3) < 1e-14, "{l}");
    assert_eq!(g[0], 0.0);
    assert!(rel(g[1], 1e-308) < 1e-14, "{g:?}");
    assert_eq!(g[2], f64::NEG_INFINITY);
}

/// NegativeBinomial(2⁻¹⁰⁷⁴, 2⁻¹⁰⁷⁴) at 0: ∂/∂r = ψ(r + 0) − ψ(r) + ln(1 − p) was
/// −∞ − (−∞). Closed form: ln P(0) = r ln(1 − p) (0 in f64), ∂/∂r = ln(1 − p) = −2⁻¹⁰⁷⁴,
/// ∂/∂p = −r/(1 − p) = −2⁻¹⁰⁷⁴.
#[test]
fn negative_binomial_log_prob_at_extreme_parameters_subnormal_count() {
    let tape = Tape::new();
    let (l, g) = at_value(&tape, [5e-324, 5e-324], 0.0, |r, p, x| {
        NegativeBinomial::new(r, p)?.log_prob(x)
    });
    assert_eq!(l, 0.0);
    assert_eq!((g[0], g[1]), (-5e-324, -5e-324));
}

/// The Gamma-type cdfs where the density factor of the partials is 0 and its cofactor
/// infinite (ψ(2⁻¹⁰⁷⁴) = −∞; and a shape ~1e308 made y^{a−1}/Γ(a) ∞ − ∞ in the exponent):
/// P(2⁻¹⁰⁷⁴, 1e208) = 1, P(f64::MAX/2, 5e7) = 0 and Q(2⁻¹⁰⁷⁴, 5e307) = 0, every partial a
/// multiple of e^{−y} with y ≥ 5e7, which is 0 in f64.
#[test]
fn gamma_cdfs_at_extreme_parameters() {
    let tape = Tape::new();
    let (c, g) = at_value(&tape, [5e-324, 1e308], 1e-100, |a, b, x| {
        Gamma::new(a, b)?.cdf(x)
    });
    assert_eq!((c, g), (1.0, [0.0; 3]));
    let tape = Tape::new();
    let (v, x) = (tape.var(f64::MAX), tape.var(1e8));
    let c = Chi2::new(v)
        .and_then(|d| d.cdf(x.as_tensor()))
        .expect("valid")
        .sum();
    c.backward();
    assert_eq!((c.value(), v.grad(), x.grad()), (0.0, 0.0, 0.0));
    let tape = Tape::new();
    let (c, g) = at_value(&tape, [5e-324, 1e308], 2.0, |a, b, x| {
        InverseGamma::new(a, b)?.cdf(x)
    });
    assert_eq!((c, g), (0.0, [0.0; 3]));
}

/// Beta(1e-200, 1e-200) entropy: ∂H/∂a = −(a − 1)ψ′(a) + (s − 2)ψ′(s) was ∞ − ∞ (both
/// trigammas overflow); the poles together are ((1 − a) − (2 − s)(a/s)²)/a² ≈ 1/(2a²), which
/// overflows to +∞. H = −1.0000000000000000179e200 (mpmath).
#[test]
fn beta_entropy_at_extreme_parameters_subnormal_concentrations() {
    let tape = Tape::new();
    let (h, g) = value_and_grads(&tape, [1e-200, 1e-200], |a, b| Beta::new(a, b)?.entropy());
    assert!(rel(h, -1e200) < 1e-14, "{h}");
    assert_eq!(g, [f64::INFINITY; 2]);
}

/// Dirichlet([2⁻¹⁰⁷⁴, 1, 3.99151770220401]) entropy: the partials of the components held
/// ψ(α₀) − ψ(αⱼ) + ψ(αⱼ) with ψ(2⁻¹⁰⁷⁴) = −∞ (∞ − ∞). ∂H/∂αᵢ = −(αᵢ − 1)ψ′(αᵢ) +
/// (α₀ − 3)ψ′(α₀): +∞ (overflow) for the first, 0.4415943099746264085 and
/// −0.40950292992504404366 (mpmath) for the others; H itself is ≈ −1/α₁, −∞ in f64.
#[test]
fn dirichlet_entropy_at_extreme_parameters_subnormal_component() {
    let tape = Tape::new();
    let a: Vec<_> = [5e-324, 1.0, 3.991_517_702_204_01]
        .iter()
        .map(|&v| tape.var(v))
        .collect();
    let h = Dirichlet::new(tape.stack_vars(&a).expect("one tape"))
        .and_then(|d| d.entropy())
        .expect("defined")
        .sum();
    assert_eq!(h.value(), f64::NEG_INFINITY);
    h.backward();
    assert_eq!(a[0].grad(), f64::INFINITY);
    assert!(
        rel(a[1].grad(), 0.441_594_309_974_626_4) < 1e-12,
        "{}",
        a[1].grad()
    );
    assert!(
        rel(a[2].grad(), -0.409_502_929_925_044_04) < 1e-12,
        "{}",
        a[2].grad()
    );
}

/// Dirichlet([f64::MAX, 10, 2.6178366936803625]) variance: s − 2a overflowed (−∞/∞).
/// Every variance and partial is below 1e-300 (αᵢ(α₀ − αᵢ)/α₀³ with α₀ ≈ 1.8e308): 0 or
/// subnormal in f64, never NaN.
#[test]
fn dirichlet_variance_at_extreme_parameters_huge_component() {
    let tape = Tape::new();
    let a: Vec<_> = [f64::MAX, 10.0, 2.617_836_693_680_362_5]
        .iter()
        .map(|&v| tape.var(v))
        .collect();
    let v = Dirichlet::new(tape.stack_vars(&a).expect("one tape"))
        .and_then(|d| d.variance())
        .expect("defined");
    assert!(v.to_vec().iter().all(|x| (0.0..1e-300).contains(x)));
    v.sum().backward();
    assert!(a.iter().all(|x| x.grad().abs() < 1e-300), "{a:?}");
}

/// Kumaraswamy variance: at a = 1e-160 the moment partial (n/a²)(ψ(q) − ψ(p)) overflowed
/// (n/a² = ∞) and the two moments' partials met as ∞ − ∞; at b = 2.2e-308 the factor
/// e^d/(e^d − 1) of a subnormal d was ∞ times a zero. Exact (mpmath, 250 and 800 digits):
/// (1e-160, 0.3653126911711035): V = 2.4504608558294607942e-59,
/// ∂V/∂a = 8.9518444985250576824e100, ∂V/∂b = −9.0472073761497116169e-57;
/// (3, 2.2e-308): V = 2.8904154542231913716e-309 (subnormal: 2⁻²⁰ relative is all f64
/// holds there), ∂V/∂b = 0.13138252064650868702.
#[test]
fn kumaraswamy_variance_at_extreme_parameters() {
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [1e-160, 0.365_312_691_171_103_5], |a, b| {
        Kumaraswamy::new(a, b)?.variance()
    });
    assert!(rel(v, 2.450_460_855_829_460_8e-59) < 1e-9, "{v}");
    assert!(rel(g[0], 8.951_844_498_525_058e100) < 1e-9, "{g:?}");
    assert!(rel(g[1], -9.047_207_376_149_712e-57) < 1e-9, "{g:?}");
    let tape = Tape::new();
    let (v, g) = value_and_grads(&tape, [3.0, 2.2e-308], |a, b| {
        Kumaraswamy::new(a, b)?.variance()
    });
    assert!(rel(v, 2.890_415_454_223_191_4e-309) < 1e-6, "{v}");
    assert!(rel(g[1], 0.131_382_520_646_508_7) < 1e-9, "{g:?}");
    assert!(!g[0].is_nan() && g[0].abs() < 1e-300, "{g:?}");
}

/// Kumaraswamy(2⁻¹⁰⁷⁴, 1e-300) entropy: ψ(1 + b) + γ rounded to 0 and (1 − 1/a) · 0 was
/// −∞ · 0 = NaN. Exact (mpmath): H = −9.9999999999999997494e299 (the 1 − 1/b term; the
/// ζ(2)b/a term adds −3.3e23).
#[test]
fn kumaraswamy_entropy_at_extreme_parameters() {
    let tape = Tape::new();
    let (h, g) = value_and_grads(&tape, [5e-324, 1e-300], |a, b| {
        Kumaraswamy::new(a, b)?.entropy()
    });
    assert!(rel(h, -9.999_999_999_999_999_7e299) < 1e-14, "{h}");
    assert!(!g[0].is_nan() && !g[1].is_nan(), "{g:?}");
}

/// The implicit reparameterization gradient at a huge shape (Wilson–Hilferty): 3α overflowed
/// for α > f64::MAX/3 and ∞ · 0 was NaN. For Gamma(α, 1), dx/dα → 1 as α → ∞ at a fixed
/// quantile (x = α + z√α + O(1)): at α = x = f64::MAX it is 1 − O(α^{-1/2}), equal to 1 in
/// f64 up to rounding.
#[test]
fn standard_gamma_grad_at_extreme_parameters_huge_shape() {
    let g = infer_dist::special::standard_gamma_grad(f64::MAX, f64::MAX);
    assert!((g - 1.0).abs() < 1e-12, "{g}");
}

/// rsample gradients at extreme parameters are never NaN; a draw pinned at 0 (underflow at
/// a tiny shape) has gradient 0 in its shape. Points that were NaN: Gamma(1e-300, 16),
/// Chi2(2.2e-308), Kumaraswamy(1e-300, 16), Weibull(1e-200, 1e-200) (draws underflowing to
/// 0 with an infinite ∂ln x/∂α), and at huge shapes StudentT(f64::MAX, 10, 2.6),
/// InverseGamma(f64::MAX, 1e-200), Beta(3, 1e308), Dirichlet([1e300, 1e308, 1.62e171])
/// and Dirichlet([0.18694050396741285, 1e300, 1e308]). Several seeds each.
#[test]
fn rsample_gradients_at_extreme_parameters() {
    let cases: &[(&str, &[f64])] = &[
        ("Gamma", &[1e-300, 16.0]),
        ("Chi2", &[2.2e-308]),
        ("Kumaraswamy", &[1e-300, 16.0]),
        ("Weibull", &[1e-200, 1e-200]),
        ("StudentT", &[f64::MAX, 10.0, 2.617_836_693_680_362_5]),
        ("InverseGamma", &[f64::MAX, 1e-200]),
        ("Beta", &[3.0, 1e308]),
        ("Dirichlet", &[1e300, 1e308, 1.62e171]),
        ("Dirichlet", &[0.186_940_503_967_412_85, 1e300, 1e308]),
    ];
    let fams = families();
    for &(name, p) in cases {
        let build = fams.iter().find(|f| f.0 == name).expect("family").2;
        for seed in 0..20u64 {
            let tape = Tape::new();
            let (d, leaves) = build(&tape, p);
            let d = d.expect("valid");
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let r = d.as_reparameterizable().expect("reparameterizable");
            let s = match r.rsample(&mut rng) {
                Ok(s) => s,
                Err(DistError::Sampling { .. }) => continue,
                Err(e) => panic!("{name}{p:?}: {e:?}"),
            };
            let x = s.to_vec();
            s.sum().backward();
            for l in &leaves {
                let g = l.grad().iter().copied().collect::<Vec<_>>();
                assert!(
                    g.iter().all(|v| !v.is_nan()),
                    "{name}{p:?} seed {seed}: {g:?}"
                );
            }
            if x.len() == 1 && x[0] == 0.0 && name != "Weibull" {
                assert_eq!(leaves[0].grad().iter().copied().sum::<f64>(), 0.0, "{name}");
            }
        }
    }
}

/// NegativeBinomial(1e308, 1 − 2⁻⁵³) at k = f64::MAX: ∂/∂p = k/p − r/(1 − p) was ∞ − ∞
/// (PROPTEST_RNG_SEED=18). Closed form: (k(1 − p) − rp)/(p(1 − p)) = −9.0e323, which
/// overflows to −∞; ∂/∂r is finite.
#[test]
fn negative_binomial_log_prob_at_extreme_parameters_huge_count() {
    let tape = Tape::new();
    let (_, g) = at_value(
        &tape,
        [1e308, 1.0 - f64::EPSILON / 2.0],
        f64::MAX,
        |r, p, x| NegativeBinomial::new(r, p)?.log_prob(x),
    );
    assert_eq!(g[1], f64::NEG_INFINITY);
    assert!(g[0].is_finite(), "{g:?}");
}

/// Scalar parameters whose reciprocal overflows (σ < 5.6e-309): each value's partial for σ
/// (or μ) is ±∞, of opposite signs for two values, and their sum was NaN. The sums in scaled
/// form give the true gradient: of definite sign, or an exact 0 where the terms cancel.
#[test]
fn log_prob_sum_gradients_at_a_scale_whose_reciprocal_overflows() {
    let grads = |build: &dyn Fn(&Tape) -> (Dist<'_>, Vec<Tensor<'_>>), xs: &[f64]| -> Vec<f64> {
        let tape = Tape::new();
        let (d, leaves) = build(&tape);
        let s = d.log_prob_sum(tape.constant(&arr1(xs))).unwrap();
        assert!(s.value().is_finite(), "{}", s.value());
        s.backward();
        leaves.iter().map(|l| l.grad().iter().sum()).collect()
    };
    let sigma = 2.97435946661293e-309;
    // HalfNormal: ∂σ = (Σ zᵢ² − n)/σ, z = (6.7e8, 0): +∞ (the true value, 1.5e326, overflows)
    let g = grads(
        &|t| {
            let s = t.var(sigma).as_tensor();
            (Box::new(HalfNormal::new(s).unwrap()), vec![s])
        },
        &[2e-300, 0.0],
    );
    assert_eq!(g, [f64::INFINITY]);
    // Normal at μ = 0, σ = 5e-324, values ±1e-300: ∂μ = Σ(xᵢ − μ)/σ² = 0 exactly (the
    // partials were +∞ and −∞)
    let g = grads(
        &|t| {
            let (m, s) = (t.var(0.0).as_tensor(), t.var(5e-324).as_tensor());
            (Box::new(Normal::new(m, s).unwrap()), vec![m, s])
        },
        &[-1e-300, 1e-300],
    );
    assert_eq!(g, [0.0, f64::INFINITY]);
    // Cauchy at μ = 0, σ = 5e-324, values 0 and 1e-300 (z = 0 and 2.02e23): ∂μ =
    // Σ 2zᵢ/(1 + zᵢ²)/σ = 2/x₂ = 2e300; ∂σ = Σ(1 − 2/(1 + zᵢ²))/σ = (−1 + 1 − 4.9e-47)/σ =
    // −2σ/x₂² ≈ −9.9e276 (the per-value partials were −∞ and +∞). In f64 the terms −1 and
    // 1 − 4.9e-47 cancel to 0: finite, never NaN, of the right sign or 0.
    let g = grads(
        &|t| {
            let (m, s) = (t.var(0.0).as_tensor(), t.var(5e-324).as_tensor());
            (Box::new(Cauchy::new(m, s).unwrap()), vec![m, s])
        },
        &[0.0, 1e-300],
    );
    assert!((g[0] - 2e300).abs() <= 1e-12 * 2e300, "{g:?}");
    assert!(g[1].is_finite() && g[1] <= 0.0, "{g:?}");
    // StudentT(ν = 3) the same: ∂μ = (ν + 1)(x₂ − μ)/(νσ² + (x₂ − μ)²) = 4/x₂ = 4e300;
    // ∂σ = Σ((ν + 1)uᵢ − 1)/σ with u = (0, 1): (−1 + 3)/σ = +∞
    let g = grads(
        &|t| {
            let (v, m, s) = (
                t.var(3.0).as_tensor(),
                t.var(0.0).as_tensor(),
                t.var(5e-324).as_tensor(),
            );
            (Box::new(StudentT::new(v, m, s).unwrap()), vec![v, m, s])
        },
        &[0.0, 1e-300],
    );
    assert!(g[0].is_finite() && g[2] == f64::INFINITY, "{g:?}");
    assert!((g[1] - 4e300).abs() <= 1e-12 * 4e300, "{g:?}");
}

/// A Dirichlet with subnormal concentrations: every ln Gⱼ of a draw is −∞ (their softmax was
/// NaN); the draw is a vertex, and the mean and variance have gradients without NaN.
#[test]
fn dirichlet_at_subnormal_concentrations() {
    let tape = Tape::new();
    let a = tape.tensor(&arr1(&[5e-324, 1e-310, 2.97435946661293e-309]));
    let d = Dirichlet::new(a).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    for _ in 0..20 {
        let x = d.sample(&mut rng).unwrap();
        assert_eq!(x.sum(), 1.0);
        assert!(x.iter().all(|&v| v == 0.0 || v == 1.0), "{x:?}");
        let r = d.rsample(&mut rng).unwrap();
        assert_eq!(r.to_vec().iter().sum::<f64>(), 1.0);
        r.sum().backward();
        assert!(a.grad().iter().all(|g| !g.is_nan()));
    }
    let m = d.mean().unwrap();
    let got = m.to_vec();
    // αᵢ/α₀ with α₀ = 3.07435946661293e-309 (exact to within a subnormal's rounding)
    assert!(
        (got[1] - 1e-310 / 3.07435946661293e-309).abs() < 1e-12,
        "{got:?}"
    );
    assert!((got.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    m.sum().backward();
    // Σ mean = 1 for every α: the gradient of the sum is 0 (to rounding, times 1/α₀)
    assert!(a.grad().iter().all(|g| g.is_finite()), "{:?}", a.grad());
    let v = d.variance().unwrap();
    v.sum().backward();
    assert!(a.grad().iter().all(|g| !g.is_nan()), "{:?}", a.grad());
}
