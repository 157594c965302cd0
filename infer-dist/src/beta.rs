//! The beta distribution.

use crate::elementwise::prelude::*;
use crate::binomial::{bd0, stirlerr};
use crate::gamma::{dx_power, ln_ratio_of_draws, ln_standard_gamma_parts, xlogy};
use crate::special::dlnx_dalpha;
use infer_ad::scalar::{lgamma, sigmoid, trigamma};

family! {
    /// The beta distribution with `concentration1` a and `concentration0` b:
    ///
    /// ln p(x) = (a − 1) ln x + (b − 1) ln(1 − x) − ln B(a, b), x ∈ [0, 1].
    ///
    /// Entropy ln B(a, b) − (a − 1)ψ(a) − (b − 1)ψ(b) + (a + b − 2)ψ(a + b); mean a/(a + b);
    /// variance ab/((a + b)²(a + b + 1)); no cdf (as PyTorch). Reparameterizable as
    /// G₁/(G₁ + G₂) with Gᵢ standard gamma draws carrying implicit gradients.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Beta, Distribution};
    /// let tape = Tape::new();
    /// let d = Beta::new(tape.var(2.0), tape.var(2.0))?;
    /// let lp = d.log_prob(tape.constant(&ndarray::arr0(0.5)))?;
    /// assert!((lp.to_vec()[0] - 1.5f64.ln()).abs() < 1e-14);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Beta`.
    pub struct Beta / BetaK: Reparameterizable {
        /// A beta distribution.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] when a concentration is not finite and > 0;
        /// [`DistError::ShapeMismatch`].
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Beta::new(tape.var(1.0), tape.var(-2.0)).is_err());
        /// ```
        new(concentration1: Check::POSITIVE, concentration0: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for BetaK<'t> {
    fn density([x, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
        let y = 1.0 - x;
        // ln(1 − x) by ln_1p (1 − x rounds to 1 for x < 1e-16, and (b − 1) ln(1 − x) matters
        // for a huge b)
        let ly = (-x).ln_1p();
        let lx = x.ln();
        let value = if a.min(b) >= LARGE {
            ln_density_large(x, a, b, lx, ly)
        } else {
            data_value(x, a, b, ly) + neg_lbeta(a, b)
        };
        let dx = value_partial(x, a, b, y);
        // ∂/∂a = ln x + ψ(a + b) − ψ(a), the ψ difference by `digamma_diff` (ψ of a subnormal
        // argument is −∞ in f64); at x = 0 ln x = −∞ dominates (the difference is then
        // ∞ in f64 for a subnormal a, and the sum was NaN), likewise ∂/∂b at x = 1
        let da = if lx == f64::NEG_INFINITY {
            f64::NEG_INFINITY
        } else {
            lx + special::digamma_diff(a, b)
        };
        let db = if ly == f64::NEG_INFINITY {
            f64::NEG_INFINITY
        } else {
            ly + special::digamma_diff(b, a)
        };
        (value, [dx, da, db])
    }

    const DOMAIN: Domain = Domain::UnitInterval;

    const HOISTED: bool = true;

    /// The density without −ln B(a, b) ([`norm`]), for `log_prob_sum` with scalar a and b:
    /// (a − 1) ln x + (b − 1) ln(1 − x), with the partials ln x and ln(1 − x).
    fn data([x, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
        let y = 1.0 - x;
        let ly = (-x).ln_1p();
        (
            data_value(x, a, b, ly),
            [value_partial(x, a, b, y), x.ln(), ly],
        )
    }

    /// −ln B(a, b) and its partials ψ(a + b) − ψ(a), ψ(a + b) − ψ(b), while the smaller
    /// concentration is below [`LARGE`] (NaN beyond, where the density takes Loader's form:
    /// `log_prob_sum` then sums the kernel).
    fn norm([_, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
        if a.min(b) >= LARGE {
            return (f64::NAN, [0.0; 3]);
        }
        (
            neg_lbeta(a, b),
            [0.0, special::digamma_diff(a, b), special::digamma_diff(b, a)],
        )
    }

    fn draw([_, a, b]: [f64; 3], rng: &mut dyn rand::RngCore) -> Result<f64, DistError> {
        let p1 = ln_standard_gamma_parts(rng, a, NAME)?;
        let p2 = ln_standard_gamma_parts(rng, b, NAME)?;
        Ok(sigmoid(ln_ratio_of_draws(p1, a, p2, b)))
    }

    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let [x, da, db] = implicit(self, rng, |[_, a, b], rng| {
            let (x, da, db) = beta_draw(rng, a, b)?;
            Ok([x, da, db])
        })?;
        util::rdraws(
            NAME,
            self.concentration1.tape().fused_map(
                [self.concentration1, self.concentration0, x, da, db],
                |_, [_, _, x, da, db]| (x, [da, db, 0.0, 0.0, 0.0]),
            )?,
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[a, b]| beta_entropy(a, b),
        )
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[a, b]| {
                let s = a + b;
                (a / s, [b / (s * s), -a / (s * s)])
            },
        )
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[a, b]| {
                // v = m n/(s + 1) with m = a/s, n = b/s (s³ overflows for s ≳ 5e102, and
                // the partials were then ∞/∞); ∂v/∂a = n(n − m)/(s(s + 1)) − v/(s + 1)
                let s = a + b;
                let (m, n) = (a / s, b / s);
                let v = m * n / (s + 1.0);
                let ss = s * (s + 1.0);
                (
                    v,
                    [
                        n * (n - m) / ss - v / (s + 1.0),
                        m * (m - n) / ss - v / (s + 1.0),
                    ],
                )
            },
        )
    }
}

/// −ln B(a, b) = ln Γ(a + b) − ln Γ(a) − ln Γ(b), with the larger argument's difference by
/// Stirling (ln Γ(1e308) = ∞, and ∞ − ∞).
fn neg_lbeta(a: f64, b: f64) -> f64 {
    if b >= a {
        special::lgamma_diff(b, a) - lgamma(a)
    } else {
        special::lgamma_diff(a, b) - lgamma(b)
    }
}

/// (a − 1) ln x + (b − 1) ln(1 − x), given ly = ln(1 − x) (xlogy conventions at a, b = 1).
fn data_value(x: f64, a: f64, b: f64, ly: f64) -> f64 {
    let cy = if b == 1.0 { 0.0 } else { (b - 1.0) * ly };
    xlogy(a - 1.0, x) + cy
}

/// ∂/∂x = (a − 1)/x − (b − 1)/(1 − x), y = 1 − x: for huge a and b both quotients overflow
/// (∞ − ∞ at a = f64::MAX, b = 1e308, x = ½); their halves cannot both overflow (x or 1 − x is
/// ≥ ½).
fn value_partial(x: f64, a: f64, b: f64, y: f64) -> f64 {
    let dx = dx_power(a, x) - dx_power(b, y);
    if dx.is_nan() {
        2.0 * ((0.5 * (a - 1.0)) / x - (0.5 * (b - 1.0)) / y)
    } else {
        dx
    }
}

/// From this size of both concentrations on, the log density is taken in Loader's form
/// ([`ln_density_large`]).
const LARGE: f64 = 1e10;

/// The Beta(a, b) log density for a, b ≥ 1e10 in Loader's saddle-point form (Loader 2000,
/// *Fast and accurate computation of binomial probabilities*; Stirling's series in each
/// ln Γ of ln B, DLMF 5.11.1):
///
/// ln p = −bd0(a, sx) − bd0(b, s(1 − x)) + ½ ln(ab/s) − ½ ln 2π − ln x − ln(1 − x)
///        − δ(a) − δ(b) + δ(s), s = a + b,
///
/// with bd0(k, m) = k ln(k/m) + m − k ≥ 0 and δ Stirling's error. The textbook terms
/// (a − 1) ln x, ln Γ(a + b), ln Γ(a) are each of size a ln a: ∞ − ∞ for a ≳ 1e306 (NaN
/// at a = f64::MAX, b = 1e308), and cancelling to ~a·1e-16 before. s may overflow; it enters
/// by halves (bd0(k, m) = 2 bd0(k/2, m/2), ln s = ln(s/2) + ln 2).
fn ln_density_large(x: f64, a: f64, b: f64, lx: f64, ly: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        // a, b > 1: the density vanishes at both ends
        return f64::NEG_INFINITY;
    }
    let (ha, hb) = (0.5 * a, 0.5 * b);
    let hs = ha + hb;
    let (mx, my) = (hs * x, hs * (1.0 - x));
    let d = ha - mx;
    let dev = 2.0 * (bd0(ha, mx, d) + bd0(hb, my, -d));
    let ln_s = hs.ln() + std::f64::consts::LN_2;
    -dev + 0.5 * (a.ln() + b.ln() - ln_s)
        - 0.5 * (2.0 * std::f64::consts::PI).ln()
        - lx
        - ly
        - stirlerr(a)
        - stirlerr(b)
        + stirlerr(2.0 * hs)
}

/// The Beta(a, b) entropy with its partials.
///
/// H = ln B(a, b) − (a − 1)ψ(a) − (b − 1)ψ(b) + (a + b − 2)ψ(a + b), regrouped as
/// ln B − (a − 1)(ψ(a) − ψ(s)) − (b − 1)(ψ(b) − ψ(s)) with the ψ differences by
/// [`special::digamma_diff`] and ln B by Stirling for a huge argument (each term was ∞ − ∞ at
/// b = 1e308, and ψ(a) − ψ(s) at subnormal a, b). ∂H/∂a = −(a − 1)ψ′(a) + (s − 2)ψ′(s):
/// - for s < 1 with ψ′(x) = ψ′(x + 1) + 1/x², the two poles in one quotient,
///   (1 − a)/a² − (2 − s)/s² = ((1 − a) − (2 − s)(a/s)²)/a² (each pole overflows for
///   a, b ≲ 1e-154, and ∞ − ∞ was NaN);
/// - (s − 2)ψ′(s) → 1 as s → ∞ (s = a + b overflows: ∞ · 0).
fn beta_entropy(a: f64, b: f64) -> (f64, [f64; 2]) {
    let s = a + b;
    let lbeta = if a.min(b) >= LARGE {
        special::ln_beta_large(a, b)
    } else if b >= a {
        lgamma(a) - special::lgamma_diff(b, a)
    } else {
        lgamma(b) - special::lgamma_diff(a, b)
    };
    let (da, db) = (special::digamma_diff(a, b), special::digamma_diff(b, a));
    let h = lbeta + (a - 1.0) * da + (b - 1.0) * db;
    let grad = |c: f64| {
        if s < 1.0 {
            let r = c / s;
            -(c - 1.0) * trigamma(c + 1.0)
                + (s - 2.0) * trigamma(s + 1.0)
                + ((1.0 - c) - (2.0 - s) * r * r) / c / c
        } else if s == f64::INFINITY {
            -(c - 1.0) * trigamma(c) + 1.0
        } else {
            -(c - 1.0) * trigamma(c) + (s - 2.0) * trigamma(s)
        }
    };
    (h, [grad(a), grad(b)])
}

/// Draws x = G₁/(G₁ + G₂) as σ(ln G₁ − ln G₂), with ∂x/∂a and ∂x/∂b.
pub(crate) fn beta_draw(
    rng: &mut dyn rand::RngCore,
    a: f64,
    b: f64,
) -> Result<(f64, f64, f64), DistError> {
    let p1 = ln_standard_gamma_parts(rng, a, NAME)?;
    let p2 = ln_standard_gamma_parts(rng, b, NAME)?;
    let (l1, l2) = (p1.0 + p1.1 / a, p2.0 + p2.1 / b);
    let (d1, d2) = (dlnx_dalpha(a, l1), dlnx_dalpha(b, l2));
    let x = sigmoid(ln_ratio_of_draws(p1, a, p2, b));
    let w = x * (1.0 - x);
    if w == 0.0 {
        // a draw pinned at 0 or 1 (subnormal shapes): x does not move with a or b
        return Ok((x, 0.0, 0.0));
    }
    Ok((x, w * d1, -w * d2))
}

