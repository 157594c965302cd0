//! The gamma distribution, and the standard-gamma draws (with their implicit
//! reparameterization gradients) that Beta, Dirichlet, Chi2, StudentT and InverseGamma share.

use crate::elementwise::prelude::*;
use crate::binomial::{bd0, stirlerr};
use crate::special::{dlnx_dalpha, gamma_p, gamma_p_da};
use infer_ad::scalar::{digamma, lgamma, trigamma};
use rand::Rng;

/// The logarithm of a standard Gamma(α, 1) draw. For α ≥ 1 it is `rand_distr`'s
/// Marsaglia–Tsang sampler; for α < 1 the boost G(α) = G(α + 1)·U^{1/α} is applied in log space,
/// so that draws far below the smallest f64 (tiny α) keep a finite logarithm.
pub(crate) fn ln_standard_gamma(
    rng: &mut dyn rand::RngCore,
    alpha: f64,
    dist: &'static str,
) -> Result<f64, DistError> {
    let (lx, lu) = ln_standard_gamma_parts(rng, alpha, dist)?;
    Ok(lx + lu / alpha)
}

/// The two parts (ln X, ln U) of the log of a standard Gamma(α) draw, ln G = ln X + ln U/α,
/// X ~ Gamma(α + 1) and U ~ U(0, 1) for α < 1 (Marsaglia–Tsang's boost); (ln X, 0) for α ≥ 1.
/// For a subnormal α, ln U/α overflows to −∞ and so does ln G: a caller that compares two
/// such draws (the Beta) compares the parts instead.
pub(crate) fn ln_standard_gamma_parts(
    rng: &mut dyn rand::RngCore,
    alpha: f64,
    dist: &'static str,
) -> Result<(f64, f64), DistError> {
    let bad = |_| DistError::Sampling {
        dist,
        reason: "gamma shape must be finite and > 0",
    };
    if alpha >= 1.0 {
        let g = rand_distr::Gamma::new(alpha, 1.0).map_err(bad)?;
        Ok((rng.sample(g).ln(), 0.0))
    } else {
        let g = rand_distr::Gamma::new(alpha + 1.0, 1.0).map_err(bad)?;
        let x: f64 = rng.sample(g);
        let u = util::uniforms(rng, 1)[0];
        Ok((x.ln(), u.ln()))
    }
}

/// ln G₁ − ln G₂ for two draws given by their parts ([`ln_standard_gamma_parts`]), also when
/// both are −∞ (two subnormal shapes; −∞ − (−∞) would be NaN): then
/// ln Uᵢ/αᵢ = −e^{ln(−ln Uᵢ) − ln αᵢ} dominates, the larger exponent is the smaller draw, and
/// the difference is ∓∞ (G₁/(G₁ + G₂) is 0 or 1 to every digit).
pub(crate) fn ln_ratio_of_draws(
    (lx1, lu1): (f64, f64),
    a1: f64,
    (lx2, lu2): (f64, f64),
    a2: f64,
) -> f64 {
    let d = (lx1 + lu1 / a1) - (lx2 + lu2 / a2);
    if !d.is_nan() {
        return d;
    }
    let e1 = (-lu1).ln() - a1.ln();
    let e2 = (-lu2).ln() - a2.ln();
    if e1 > e2 {
        f64::NEG_INFINITY
    } else if e1 < e2 {
        f64::INFINITY
    } else {
        0.0
    }
}

pub(crate) fn ln_gamma_with_grad(
    rng: &mut dyn rand::RngCore,
    alpha: f64,
    dist: &'static str,
) -> Result<(f64, f64), DistError> {
    let l = ln_standard_gamma(rng, alpha, dist)?;
    Ok((l, dlnx_dalpha(alpha, l)))
}

/// d/dx of (a − 1) ln x, with the `xlogy` convention at a = 1.
#[inline]
pub(crate) fn dx_power(a: f64, x: f64) -> f64 {
    if a == 1.0 { 0.0 } else { (a - 1.0) / x }
}

/// The density of Gamma(α, 1) at y.
pub(crate) fn std_gamma_pdf(a: f64, y: f64) -> f64 {
    // y = ∞: the one-sided limit y^{a−1}e^{−y} → 0 (not ∞ − ∞ in the exponent)
    if !(y > 0.0) || y == f64::INFINITY {
        return 0.0;
    }
    // y^{a−1}e^{−y}/Γ(a) in the stable form of `gamma_ln_density` (for a huge a the
    // textbook (a − 1) ln y − ln Γ(a) is ∞ − ∞); xlogy: y^{a−1} is 1 at a = 1
    gamma_ln_density(a, 0.0, y.ln(), y).exp()
}

/// `c ln x` with PyTorch's `xlogy` convention `0 · ln 0 = 0`.
#[inline]
pub(crate) fn xlogy(c: f64, x: f64) -> f64 {
    if c == 0.0 && !x.is_nan() {
        0.0
    } else {
        c * x.ln()
    }
}

family! {
    /// The gamma distribution with shape α (`concentration`) and rate β:
    ///
    /// ln p(x) = α ln β + (α − 1) ln x − βx − ln Γ(α), x ≥ 0.
    ///
    /// Entropy α − ln β + ln Γ(α) + (1 − α)ψ(α); mean α/β; variance α/β²; cdf P(α, βx) (the
    /// regularized incomplete gamma function, [`crate::special::gamma_p`]).
    ///
    /// Reparameterizable through implicit gradients: a draw x = G/β with G ~ Gamma(α, 1) has
    /// ∂x/∂α = −(∂P/∂α)(G; α) / (β p(G; α)) ([`crate::special::standard_gamma_grad`]).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Gamma};
    /// let tape = Tape::new();
    /// let d = Gamma::new(tape.var(1.0), tape.var(2.0))?; // Exponential(2)
    /// let lp = d.log_prob(tape.constant(&ndarray::arr0(0.5)))?;
    /// assert!((lp.to_vec()[0] - (2f64.ln() - 1.0)).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Gamma`; M. Figurnov, S. Mohamed, A. Mnih (2018), *Implicit
    /// Reparameterization Gradients*.
    pub struct Gamma / GammaK: Reparameterizable {
        /// A gamma distribution with shape `concentration` and `rate`.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] when a parameter is not finite and > 0;
        /// [`DistError::ShapeMismatch`].
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Gamma::new(tape.var(0.0), tape.var(1.0)).is_err());
        /// ```
        new(concentration: Check::POSITIVE, rate: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for GammaK<'t> {
    fn density([x, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
        let lx = x.ln();
        (
            gamma_ln_density(a, b.ln(), lx, b * x),
            [dx_power(a, x) - b, shape_partial(b.ln(), lx, a), a - b * x],
        )
    }

    const DOMAIN: Domain = Domain::NonNegative;

    /// The partial of the density, [`data`] and [`norm`] for the rate β is in scaled form (times
    /// β: α − βx, where α/β − x is ∞ − ∞ for a subnormal β and a huge x).
    const SCALED: Option<Scaled<3>> = Some(Scaled::new(2, [0, 0, 1]));

    const HOISTED: bool = true;

    /// The density without its parameter-only terms ([`norm`]), for `log_prob_sum` with scalar α
    /// and β: (α − 1) ln x − βx, with the partials ln x for α and −βx for β (times β).
    fn data([x, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
        let lx = x.ln();
        let y = b * x;
        (xlogy_l(a - 1.0, lx) - y, [dx_power(a, x) - b, lx, -y])
    }

    /// The parameter-only terms of the density: [`gamma_norm`].
    fn norm(a: [f64; 3]) -> (f64, [f64; 3]) {
        gamma_norm(a)
    }

    fn cdf() -> Option<impl Formula<[f64; 3]>> {
        Some(|[x, a, b]: [f64; 3]| gamma_cdf(x, a, b))
    }

    fn draw([_, a, b]: [f64; 3], rng: &mut dyn rand::RngCore) -> Result<f64, DistError> {
        Ok(ln_standard_gamma(rng, a, NAME)?.exp() / b)
    }

    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let [g, dg] = implicit(self, rng, |[_, a, _], rng| {
            let (l, d) = ln_gamma_with_grad(rng, a, NAME)?;
            let g = l.exp();
            // G ∂ln G/∂α with 0 · ∞ = 0: a draw that underflowed to 0 at a tiny α has an
            // infinite ∂ln G/∂α, and G itself does not move
            Ok([g, util::mul0(g, d)])
        })?;
        util::rdraws(
            NAME,
            self.rate.tape().fused_map(
                [self.concentration, self.rate, g, dg],
                // −g/b² as −(g/b)/b (b² underflows to 0 for a tiny rate: 0/0)
                |_, [_, b, g, dg]| (g / b, [dg / b, -(g / b) / b, 0.0, 0.0]),
            )?,
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[a, b]| {
            gamma_entropy(a, b)
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[a, b]| {
            (a / b, [1.0 / b, -a / (b * b)])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        // a/b² as (a/b)/b and ∂/∂b = −2V/b: b² or 2a alone may overflow (a = 1e308,
        // b = 1e200: V = 1e-92 while b² = ∞, and 2a/b³ was ∞/∞)
        self.map_params(|[a, b]| {
            let v = a / b / b;
            (v, [1.0 / b / b, -2.0 * (v / b)])
        })
    }
}

/// The parameter-only terms of the density, α ln β − ln Γ(α), while α is below the size
/// where [`gamma_ln_density`] takes the saddle-point form (NaN beyond, and `log_prob_sum`
/// then sums the kernel).
pub(crate) fn gamma_norm([_, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
    if a >= SADDLE_POINT_SHAPE {
        return (f64::NAN, [0.0; 3]);
    }
    let lb = b.ln();
    (a * lb - lgamma(a), [0.0, lb - digamma(a), a])
}

/// From this shape on, [`gamma_ln_density`] is in the saddle-point form; below it the
/// textbook terms, which a `log_prob_sum` with scalar parameters hoists.
pub(crate) const SADDLE_POINT_SHAPE: f64 = 10.0;

/// ∂/∂a of the Gamma log density, ln b + ln x − ψ(a). At x = 0 it is −∞ (ln 0 = −∞ wins
/// over any finite ψ(a); a subnormal a has ψ(a) = −∞ in f64, and the sum was NaN).
#[inline]
pub(crate) fn shape_partial(lb: f64, lx: f64, a: f64) -> f64 {
    if lx == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else {
        lb + lx - digamma(a)
    }
}

/// a ln b + (a − 1) ln x − y − ln Γ(a) with y = bx (given as ln b, ln x and y), the Gamma
/// log density. For a ≥ 10 in Loader's saddle-point form
/// ln b − ln y − bd0(a, y) + ½ ln(a/(2π)) − δ(a), ln y = ln b + ln x, bd0(a, y) =
/// a ln(a/y) + y − a ≥ 0, δ Stirling's error: the textbook terms, each of size a ln a, are
/// ∞ − ∞ for a ≳ 1e306 and cancel to ~a·1e-16 before.
pub(crate) fn gamma_ln_density(a: f64, lb: f64, lx: f64, y: f64) -> f64 {
    if a < SADDLE_POINT_SHAPE {
        return a * lb + xlogy_l(a - 1.0, lx) - y - lgamma(a);
    }
    let ly = lb + lx;
    let d = a - y;
    let c = 0.5 * (a / (2.0 * std::f64::consts::PI)).ln() - stirlerr(a);
    if d.abs() < 0.1 * (a + y) {
        lb - ly - bd0(a, y, d) + c
    } else if y == f64::INFINITY {
        // bx beyond f64: e^{−y} wins (a corner: it may not when a is itself ~1e308)
        f64::NEG_INFINITY
    } else {
        // away from the mode, −ln y − bd0 = (a − 1)(ln y − ln a) − ln a + a − y, grouped so
        // that ln y = −∞ (x = 0) or a huge a give −∞, not ∞ − ∞
        lb + (a - 1.0) * (ly - a.ln()) - a.ln() + d + c
    }
}

/// c · l for a logarithm l, 0 when c = 0 (the xlogy convention, 0 · ln 0 = 0).
#[inline]
pub(crate) fn xlogy_l(c: f64, l: f64) -> f64 {
    if c == 0.0 && !l.is_nan() { 0.0 } else { c * l }
}

/// Entropy of Gamma(α, β) with its partials.
pub(crate) fn gamma_entropy(a: f64, b: f64) -> (f64, [f64; 2]) {
    (
        gamma_entropy_shape(a) - b.ln(),
        [1.0 + (1.0 - a) * trigamma(a), -1.0 / b],
    )
}

/// a + ln Γ(a) + (1 − a)ψ(a), the entropy of Gamma(a, 1). For a ≥ 20 from Stirling's
/// series, ½ ln(2πe a) + δ(a) − 1/(2a) + (a − 1)R(a) with ψ(a) = ln a − 1/(2a) − R(a),
/// R(a) = 1/(12a²) − 1/(120a⁴) + 1/(252a⁶) (truncation < 1e-17): ln Γ(a) and (a − 1)ψ(a)
/// are each ~a ln a, cancel, and are ∞ − ∞ for a ≳ 1e306.
pub(crate) fn gamma_entropy_shape(a: f64) -> f64 {
    if a < 20.0 {
        return a + lgamma(a) + (1.0 - a) * digamma(a);
    }
    let r = 1.0 / a;
    let r2 = r * r;
    let big_r = r2 * (1.0 / 12.0 - r2 * (1.0 / 120.0 - r2 / 252.0));
    0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln() + 0.5 * a.ln() + stirlerr(a)
        - 0.5 * r
        + (a - 1.0) * big_r
}

/// cdf P(α, βx) with partials in (x, α, β).
pub(crate) fn gamma_cdf(x: f64, a: f64, b: f64) -> (f64, [f64; 3]) {
    if !(x > 0.0) {
        return (0.0, [0.0; 3]);
    }
    let y = b * x;
    let p = std_gamma_pdf(a, y);
    (gamma_p(a, y), [b * p, gamma_p_da(a, y), util::mul0(x, p)])
}

