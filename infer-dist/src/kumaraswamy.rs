//! The Kumaraswamy distribution.

use crate::elementwise::prelude::*;
use crate::gumbel::EULER;
use infer_ad::scalar::{digamma, lgamma, trigamma};

family! {
    /// The Kumaraswamy distribution with `concentration1` a and `concentration0` b:
    ///
    /// ln p(x) = ln a + ln b + (a − 1) ln x + (b − 1) ln(1 − xᵃ), x ∈ [0, 1].
    ///
    /// cdf 1 − (1 − xᵃ)ᵇ; raw moments E\[Xⁿ\] = b B(1 + n/a, b) (mean n = 1, variance
    /// E\[X²\] − E\[X\]²); entropy (1 − 1/b) + (1 − 1/a)(ψ(b + 1) + γ) − ln a − ln b; pathwise draws
    /// by the inverse cdf (1 − u^{1/b})^{1/a}.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Kumaraswamy};
    /// let tape = Tape::new();
    /// let d = Kumaraswamy::new(tape.var(1.0), tape.var(1.0))?; // Uniform(0, 1)
    /// assert!((d.mean()?.to_vec()[0] - 0.5).abs() < 1e-14);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Kumaraswamy`; P. Kumaraswamy (1980), *A generalized
    /// probability density function for double-bounded random processes*.
    pub struct Kumaraswamy / KumaraswamyK: Reparameterizable {
        /// A Kumaraswamy distribution.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] when a concentration is not finite and > 0;
        /// [`DistError::ShapeMismatch`].
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Kumaraswamy::new(tape.var(0.0), tape.var(1.0)).is_err());
        /// ```
        new(concentration1: Check::POSITIVE, concentration0: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for KumaraswamyK<'t> {
    fn density([x, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
        let lx = x.ln();
        let t = a * lx;
        let xa = t.exp();
        // ln(1 − xᵃ) and a/(1 − xᵃ) with 1 − xᵃ = −expm1(t), t = a ln x. For |t| < 1e-5 (x near
        // 1, or a tiny: t may underflow to 0 though ln(1 − xᵃ) is about ln(a |ln x|), finite)
        // from the series −expm1(t) = −t φ(t), φ(t) = 1 + t/2 + t²/6 + O(t³), ln φ(t) =
        // t/2 + t²/24 + O(t⁴): ln(1 − xᵃ) = ln a + ln(−ln x) + ln φ and a/(1 − xᵃ) =
        // 1/(−ln x φ) (truncation errors below 1e-16 relative).
        let small = t.abs() < 1e-5;
        let (l1, ay) = if small {
            let phi = 1.0 + t * (0.5 + t / 6.0);
            (
                a.ln() + (-lx).ln() + t * (0.5 + t / 24.0),
                1.0 / (-lx * phi),
            )
        } else {
            let y = -t.exp_m1();
            (y.ln(), a / y)
        };
        let pa = if a == 1.0 { 0.0 } else { (a - 1.0) * lx };
        let pb = if b == 1.0 { 0.0 } else { (b - 1.0) * l1 };
        let dxa = if a == 1.0 { 0.0 } else { (a - 1.0) / x };
        // ∂/∂x of (b − 1) ln(1 − xᵃ) is −(b − 1) a x^{a−1}/(1 − xᵃ): x^{a−1} by powf, which is
        // 1 at x = 0 for a = 1 (xᵃ/x would be 0/0 there)
        let wx = if b == 1.0 {
            0.0
        } else {
            (b - 1.0) * x.powf(a - 1.0) * ay
        };
        // The two terms of ∂/∂x share the factor 1/x: when x is 0 or so small that both
        // overflow (a < 1), their difference ∞ − ∞ is taken with the factor out,
        // ((a − 1) − (b − 1) a xᵃ/(1 − xᵃ))/x, which is −∞ at x = 0 (xᵃ = 0) for a < 1.
        let mut px = dxa - wx;
        if px.is_nan() {
            px = ((a - 1.0) - util::mul0(b - 1.0, xa * ay)) / x;
        }
        // ∂/∂a = 1/a + ln x − (b − 1) xᵃ ln x/(1 − xᵃ). At x = 0 ln x = −∞ dominates (xᵃ ln x →
        // 0). For small t, ln x/(1 − xᵃ) = −1/(a φ) and xᵃ/φ = t/(1 − e⁻ᵗ) = 1 + t/2 + t²/12 +
        // O(t⁴), so ∂/∂a = b/a + (b − 1) ln x (1/2 + t/12) + ln x in one piece (the separate
        // terms 1/a and (b − 1)/a are ∞ − ∞ for a subnormal a, and t = a ln x may underflow;
        // the limit at x = 1 is b/a).
        let pa_ = if lx == f64::NEG_INFINITY {
            f64::NEG_INFINITY
        } else if small {
            let split = b / a + (b - 1.0) * lx * (0.5 + t / 12.0);
            // both terms overflow (b/a and b ln x for a huge b): the sum in one fraction
            let joint = if split.is_nan() {
                (b + (b - 1.0) * t * (0.5 + t / 12.0)) / a
            } else {
                split
            };
            joint + lx
        } else {
            let xlx = if xa == 0.0 { 0.0 } else { xa * lx };
            1.0 / a + lx - (b - 1.0) * xlx * ay / a
        };
        // ∂/∂b = 1/b + ln(1 − xᵃ): −∞ at x = 1, where the logarithm dominates 1/b (which
        // overflows for a subnormal b: ∞ − ∞)
        let pb_ = if l1 == f64::NEG_INFINITY {
            f64::NEG_INFINITY
        } else {
            1.0 / b + l1
        };
        (a.ln() + b.ln() + pa + pb, [px, pa_, pb_])
    }

    const DOMAIN: Domain = Domain::UnitInterval;

    fn cdf() -> Option<impl Formula<[f64; 3]>> {
        Some(|[x, a, b]: [f64; 3]| {
            if !(x > 0.0) {
                return (0.0, [0.0; 3]);
            }
            if x >= 1.0 {
                return (1.0, [0.0; 3]);
            }
            let lx = x.ln();
            let l1 = (-(a * lx).exp_m1()).ln(); // ln(1 − xᵃ)
            let yb = (b * l1).exp(); // (1 − xᵃ)ᵇ
            // the partials in log space: ln[b (1 − xᵃ)^{b−1} xᵃ], without the products
            // b·xᵃ/x of a huge and a tiny factor (∞ · 0)
            let lb1 = if b == 1.0 { 0.0 } else { (b - 1.0) * l1 };
            let lg = b.ln() + lb1 + a * lx;
            (
                -(b * l1).exp_m1(),
                [
                    (lg + a.ln() - lx).exp(),
                    util::mul0(lg.exp(), lx),
                    -util::mul0(yb, l1),
                ],
            )
        })
    }

    /// The inverse cdf x = (1 − u^{1/b})^{1/a}, from ε = ln u.
    fn pathwise() -> Option<(impl Noise, impl Formula<[f64; 3]>)> {
        Some((
            |rng: &mut dyn rand::RngCore| util::uniform(rng).ln(),
            |[lu, a, b]: [f64; 3]| {
                let t = lu / b; // ln u^{1/b} ≤ 0
                let y = -t.exp_m1(); // 1 − u^{1/b}
                let ly = y.ln();
                let x = (ly / a).exp();
                (x, [0.0, rsample_da(x, ly, a), rsample_db(x, t, a, b)])
            },
        ))
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[a, b]| {
                let (t1, t0) = (1.0 - 1.0 / a, 1.0 - 1.0 / b);
                // ψ(1 + b) + γ, by its series ζ(2)b − ζ(3)b² + ζ(4)b³ for b < 1e-5 (error
                // below 1e-20 relative), where 1 + b rounds (it was 0 for b < 1e-17)
                let h0 = if b < 1e-5 {
                    b * (ZETA2 - b * (ZETA3 - b * ZETA4))
                } else {
                    digamma(b + 1.0) + EULER
                };
                let tb = trigamma(b + 1.0);
                let mut h = t0 + t1 * h0 - a.ln() - b.ln();
                let mut ga = h0 / (a * a) - 1.0 / a;
                let mut gb = 1.0 / (b * b) + t1 * tb - 1.0 / b;
                // a or b subnormal: the separate terms overflow; grouped by the common factor
                // (t₁h₀ = h₀ − h₀/a was −∞ · 0 or −∞ for a finite h₀/a, 1/a² − 1/a and 1/b² − 1/b were ∞ − ∞)
                if !h.is_finite() {
                    h = t0 + (h0 - h0 / a) - a.ln() - b.ln();
                }
                if ga.is_nan() {
                    ga = (h0 / a - 1.0) / a;
                }
                if gb.is_nan() {
                    gb = ((1.0 - b) / b + (b - b / a) * tb) / b;
                }
                (h, [ga, gb])
            },
        )
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[a, b]| {
                let (l, [da, db]) = log_moment(a, b, 1.0);
                let m = l.exp();
                (m, [util::mul0(m, da), util::mul0(m, db)])
            },
        )
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        // V = m₂ − m₁² = m₁² (e^{d} − 1), d = ln m₂ − 2 ln m₁ ≥ 0, in logs:
        // V = exp(2 ln m₁ + ln(e^{d} − 1)). The difference m₂ − m₁² cancels completely for a
        // large a (it went negative at a = 1e8), and m₁² underflows while e^{d} overflows for a
        // tiny a. d = Δ²(1) − Δ²(1 + b) with Δ²(x) = ln Γ(x + 2t) − 2 ln Γ(x + t) + ln Γ(x),
        // t = 1/a (the ln b and ln Γ(b) terms cancel exactly), taken from `second_difference`.
        self.map_params(|[a, b]| {
                let (l1, [a1, b1]) = log_moment(a, b, 1.0);
                if l1 < -746.0 {
                    // V ≤ E[X²] ≤ E[X] = e^{l₁} (X ∈ [0, 1]) is below half the least
                    // subnormal: 0 in f64 (and 2l₁ may overflow to −∞, then ∞ − ∞ below)
                    return (0.0, [0.0; 2]);
                }
                let (l2, [a2, b2]) = log_moment(a, b, 2.0);
                let t = 1.0 / a;
                let c = 1.0 + b;
                // d by the second differences for a small t (where l₂ − 2l₁ cancels), else
                // from the moments (then d is O(t) or larger and l₂ − 2l₁ does not cancel)
                let d = if t < 0.01 {
                    second_difference(1.0, t) - second_difference(c, t)
                } else {
                    l2 - 2.0 * l1
                }
                // d ≥ 0 (E[X²] ≥ E[X]², Jensen); a negative d is rounding at a subnormal b,
                // where both moments are 1 − O(b)
                .max(0.0);
                // ln(e^d − 1)
                let e = if d > 30.0 {
                    d + (-(-d).exp()).ln_1p()
                } else {
                    d.exp_m1().ln()
                };
                let v = (2.0 * l1 + e).exp();
                // ∂V/∂θ = V (2 ∂l₁ + e^d/(e^d − 1) ∂d) = 2V ∂l₁ + m₁² e^d ∂d with
                // m₁² e^d = e^{2l₁ + d} (= E[X²]) formed directly: e^d/(e^d − 1) is ∞ for a
                // subnormal d, where ∂d is 0 (∞ · 0). ∂d/∂a and ∂d/∂b from the moments'
                // partials (ψ differences).
                let m2 = (2.0 * l1 + d).exp();
                let ga = if v == 0.0 {
                    0.0
                } else if a1 == a2 && a1.is_infinite() {
                    // n/a overflows (a subnormal a): ∂lₙ/∂a = b/a for both moments, which
                    // overflows, and ∂V/∂a = (2V − E[X²]) b/a (not ∞ − ∞)
                    util::mul0(2.0 * v - m2, a1)
                } else {
                    2.0 * v * a1 + m2 * (a2 - 2.0 * a1)
                };
                let gb = if v == 0.0 {
                    0.0
                } else {
                    2.0 * v * b1 + m2 * (b2 - 2.0 * b1)
                };
                (v, [ga, gb])
            },
        )
    }
}

/// ζ(2), ζ(3), ζ(4).
const ZETA2: f64 = 1.644_934_066_848_226_4;
const ZETA3: f64 = 1.202_056_903_159_594_3;
const ZETA4: f64 = 1.082_323_233_711_138_2;

/// ln Γ(1 + b): −γb + ζ(2)b²/2 for b < 1e-6 (error ζ(3)b³/3, below 1e-12 relative), where
/// 1 + b rounds and ln Γ(1 + b) would lose the digits of b.
fn lgamma1p(b: f64) -> f64 {
    if b < 1e-6 {
        b * (-EULER + b * (std::f64::consts::PI * std::f64::consts::PI / 12.0))
    } else {
        lgamma(1.0 + b)
    }
}

/// ln E[Xⁿ] = ln(b B(1 + n/a, b)) and its partials in (a, b). With p = 1 + n/a, q = p + b:
/// ln b + ln B(p, b) = ln Γ(1 + b) + ln Γ(p) − ln Γ(q) (Γ(1 + b) = b Γ(b), which keeps the
/// digits that ln b + ln Γ(b) cancels for a tiny b); ∂/∂a = (n/a²)(ψ(q) − ψ(p)),
/// ∂/∂b = ψ(1 + b) − ψ(q), the ψ differences taken by [`special::digamma_diff`].
/// - p = ∞ (n/a overflows, a subnormal a): ln p = ln n − ln a, and for b < 1e10 (b/p below
///   1e-298) ln Γ(p + b) − ln Γ(p) = b ln p to the last digit: ln E[Xⁿ] = ln Γ(1 + b) − b ln p,
///   ∂/∂a = b/a, ∂/∂b = ψ(1 + b) − ln p; for a larger b the moment underflows (−∞);
/// - p, b ≥ 1e10: Stirling's formula for ln B(p, b) ([`special::ln_beta_large`]), which avoids
///   ln Γ(1e308) = ∞ in the ln Γ differences (∞ − ∞).
fn log_moment(a: f64, b: f64, n: f64) -> (f64, [f64; 2]) {
    let h = n / a;
    let p = 1.0 + h;
    if p.is_infinite() {
        if b >= 1e10 {
            // b B(p, b) ≤ b Γ(b) p^{−b} underflows
            return (f64::NEG_INFINITY, [0.0; 2]);
        }
        let ln_p = n.ln() - a.ln();
        return (lgamma1p(b) - b * ln_p, [b / a, digamma(1.0 + b) - ln_p]);
    }
    let lm = if p.min(b) >= 1e10 {
        b.ln() + special::ln_beta_large(p, b)
    } else if b >= p {
        // ln Γ(p) + ln Γ(b) − ln Γ(p + b) with the larger argument's difference taken stably
        // (ln Γ(1e308) is ∞ and the textbook sum ∞ − ∞)
        b.ln() + lgamma(p) - special::lgamma_diff(b, p)
    } else {
        lgamma1p(b) - special::lgamma_diff(p, b)
    };
    (
        lm,
        [
            // (n/a²)(ψ(q) − ψ(p)) as (h (ψ(q) − ψ(p)))/a: h/a = n/a² overflows for a ≲ 1e-154
            // while the product (≈ b/a) does not
            util::mul0(h, special::digamma_diff(p, b)) / a,
            -special::digamma_diff(1.0 + b, h),
        ],
    )
}

/// Δ²(x) = ln Γ(x + 2t) − 2 ln Γ(x + t) + ln Γ(x) for x ≥ 1, t > 0. For t < 0.01x as
/// t² E[ψ′(x + S)], S the sum of two uniforms on [0, t] (triangular, mean t, variance t²/6):
/// t² (ψ′(x + t) + ψ‴(x + t) t²/12 + O(t⁴ψ⁽⁵⁾)), ψ‴ t² by the second difference of ψ′ — the
/// relative error is below 1e-9 at t = 0.01x (it falls as (t/x)⁴; and t < 0.01 here, so
/// for x > 1e10 too), where the direct form keeps only ~1e-12 of its
/// digits (it keeps none at t = 1e-8).
fn second_difference(x: f64, t: f64) -> f64 {
    if t < 0.01 * x || x > 1e10 {
        let (p0, p1, p2) = (trigamma(x), trigamma(x + t), trigamma(x + 2.0 * t));
        t * t * (p1 + (p2 - 2.0 * p1 + p0) / 12.0)
    } else {
        lgamma(x + 2.0 * t) - 2.0 * lgamma(x + t) + lgamma(x)
    }
}

/// ∂x/∂a = −x ln y/a² of the draw x = y^{1/a}, y = 1 − u^{1/b}; in logs when the direct
/// product under- or overflows (x ln y/a and a² are ∞ and 0 for a tiny a, and the draw is 0:
/// 0/0 was NaN). 0 when x = 0 or y = 1.
fn rsample_da(x: f64, ly: f64, a: f64) -> f64 {
    if x == 0.0 || ly == 0.0 {
        return 0.0;
    }
    let g = -(x * ly / a) / a;
    if g.is_finite() && g != 0.0 {
        g
    } else {
        -(ly / a + (-ly).ln() - 2.0 * a.ln()).exp()
    }
}

/// ∂x/∂b = x u^{1/b} ln u/(a b² (1 − u^{1/b})) = −x q/(a b), q = −t/expm1(−t) ∈ (0, 1],
/// t = ln u/b (q = 1 at t = 0, where u^{1/b} = 1 and 1 − u^{1/b} = 0 separately gave
/// ∞ · 0); in logs when x q/(a b) under- or overflows.
fn rsample_db(x: f64, t: f64, a: f64, b: f64) -> f64 {
    let q = if t == 0.0 {
        1.0
    } else if t == f64::NEG_INFINITY {
        // u^{1/b} = 0 (a subnormal b): q → 0, not ∞/∞
        0.0
    } else {
        -t / (-t).exp_m1()
    };
    if x == 0.0 || q == 0.0 {
        return 0.0;
    }
    let g = -(x * q / a) / b;
    if g.is_finite() && g != 0.0 {
        g
    } else {
        -(x.ln() + q.ln() - a.ln() - b.ln()).exp()
    }
}
