//! The Weibull distribution.

use crate::elementwise::prelude::*;
use crate::gumbel::EULER;
use infer_ad::scalar::{digamma, lgamma};

family! {
    /// The Weibull distribution with scale λ and shape k (`concentration`):
    ///
    /// ln p(x) = ln(k/λ) + (k − 1) ln(x/λ) − (x/λ)ᵏ, x > 0 (PyTorch's support is (0, ∞)).
    ///
    /// Entropy γ(1 − 1/k) + ln(λ/k) + 1; mean λΓ(1 + 1/k); variance λ²(Γ(1 + 2/k) − Γ(1 + 1/k)²);
    /// cdf 1 − e^{−(x/λ)ᵏ}; pathwise draws λ E^{1/k}, E ~ Exp(1).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Weibull};
    /// let tape = Tape::new();
    /// let d = Weibull::new(tape.var(2.0), tape.var(1.0))?; // Exponential(½)
    /// assert!((d.mean()?.to_vec()[0] - 2.0).abs() < 1e-14);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Weibull`.
    pub struct Weibull / WeibullK: Reparameterizable {
        /// A Weibull distribution with `scale` λ and `concentration` k.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] when a parameter is not finite and > 0;
        /// [`DistError::ShapeMismatch`].
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Weibull::new(tape.var(1.0), tape.var(0.0)).is_err());
        /// ```
        new(scale: Check::POSITIVE, concentration: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for WeibullK<'t> {
    fn density([x, l, k]: [f64; 3]) -> (f64, [f64; 3]) {
        let lt = x.ln() - l.ln();
        let tk = (k * lt).exp();
        if tk == f64::INFINITY {
            // (x/λ)ᵏ beyond f64: e^{−(x/λ)ᵏ} wins over (x/λ)^{k−1}, the density is 0 in f64
            // (the sum below would be ∞ − ∞)
            return util::neg_inf();
        }
        let pw = if k == 1.0 { 0.0 } else { (k - 1.0) * lt };
        // ∂/∂x = ((k − 1) − k tᵏ)/x = (−1 − k expm1(k ln t))/x with the factor 1/x out: for a
        // subnormal x the two quotients (k − 1)/x and k tᵏ/x overflowed separately (∞ − ∞ at
        // x = λ), and for a huge k, k − 1 rounds to k (the numerator was 0, not −1)
        let em1 = (k * lt).exp_m1();
        let dx = (-1.0 - k * em1) / x;
        // ∂/∂k = 1/k + ln t (1 − tᵏ) = 1/k − ln t · expm1(k ln t): one product (ln t − tᵏ ln t
        // was ∞ − ∞ when tᵏ ln t overflows), and accurate when tᵏ ≈ 1
        (
            k.ln() - l.ln() + pw - tk,
            [dx, k * em1 / l, 1.0 / k - util::mul0(lt, em1)],
        )
    }

    const DOMAIN: Domain = Domain::Positive;

    fn cdf() -> Option<impl Formula<[f64; 3]>> {
        Some(|[x, l, k]: [f64; 3]| {
            if !(x > 0.0) {
                return (0.0, [0.0; 3]);
            }
            let lt = (x / l).ln();
            let tk = (k * lt).exp();
            // w = z e^{−z} with z = (x/λ)^k, → 0 as z → ∞ (not ∞ · 0); the partials
            // multiply it with mul0, so an infinite factor at w = 0 gives 0, not NaN
            let w = if tk == f64::INFINITY {
                0.0
            } else {
                tk * (-tk).exp()
            };
            (
                -(-tk).exp_m1(),
                [
                    util::mul0(w, k / x),
                    -util::mul0(w, k / l),
                    util::mul0(w, lt),
                ],
            )
        })
    }

    /// x = λ E^{1/k}, E = −ln u.
    fn pathwise() -> Option<(impl Noise, impl Formula<[f64; 3]>)> {
        Some((
            |rng: &mut dyn rand::RngCore| -util::uniform(rng).ln(),
            |[e, l, k]: [f64; 3]| {
                let w = e.powf(1.0 / k);
                let x = l * w;
                // ∂x/∂k = −x ln e/k², as −x · ((ln e/k)/k) with 0 · ∞ = 0: for a tiny k the draw
                // underflows to 0 while k² underflows too (0/0)
                (x, [0.0, w, -util::mul0(x, e.ln() / k / k)])
            },
        ))
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        // H = γ(1 − 1/k) + ln λ − ln k + 1 (ln(λ/k) would overflow or underflow in the ratio);
        // ∂H/∂k = (γ − k)/k², one term (not γ/k² − 1/k, ∞ − ∞ for a tiny k)
        self.map_params(|[l, k]| {
            (
                EULER * (1.0 - 1.0 / k) + l.ln() - k.ln() + 1.0,
                [1.0 / l, (EULER - k) / k / k],
            )
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        // λ Γ(1 + 1/k) = exp(ln λ + ln Γ(1 + 1/k)) (Γ overflows for k ≲ 0.006 while the
        // product may not)
        self.map_params(|[l, k]| {
            let a = 1.0 + 1.0 / k;
            let lg = lgamma(a);
            let m = (l.ln() + lg).exp();
            (m, [lg.exp(), -m * digamma(a) / k / k])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        // V = λ² (Γ(1 + 2/k) − Γ(1 + 1/k)²) = exp(2 ln λ + ln Γ(1 + 2/k) + ln(1 − ρ)),
        // ρ = Γ(1 + 1/k)²/Γ(1 + 2/k) = e^{−δ} ∈ (0, 1] (log-convexity of Γ), 1 − ρ by expm1
        // (the difference of Γs is ∞ − ∞ for k ≲ 0.006, and cancels for a large k);
        // ∂V/∂k = −(2/k²) λ² Γ(1 + 2/k) (ψ(1 + 2/k) − ρ ψ(1 + 1/k)).
        self.map_params(|[l, k]| {
            let t = 1.0 / k;
            if t == f64::INFINITY {
                // k below 1/f64::MAX: Γ(1 + 2/k) overflows, and so do V and its partials
                return (f64::INFINITY, [f64::INFINITY, f64::NEG_INFINITY]);
            }
            let (a1, a2) = (1.0 + t, 1.0 + 2.0 * t);
            let delta = weibull_delta(t);
            let base = 2.0 * l.ln() + lgamma(a2);
            let one_minus_rho = -(-delta).exp_m1();
            // ln(1 − e^{−δ}) = ln δ − δ/2 + O(δ²) for δ < 1e-8, with ln δ from the series
            // (δ ≈ ζ(2)t² underflows to 0 for t ≲ 1e-162, a huge k)
            let ln_1m_rho = if delta < 1e-8 {
                weibull_ln_delta(t) - 0.5 * delta
            } else {
                one_minus_rho.ln()
            };
            let v = (base + ln_1m_rho).exp();
            // D = ψ(1 + 2t) − ρ ψ(1 + t) = [ψ(1 + 2t) − ψ(1 + t)] + (1 − ρ) ψ(1 + t): for a
            // small t both ψs are −γ to the last digit, D ≈ ζ(2) t; the product
            // 2t² λ² Γ(1 + 2t) D is taken in log space (t² underflows while λ² overflows)
            let d = weibull_dpsi(t) + util::mul0(one_minus_rho, digamma(a1));
            let dk = if d == 0.0 {
                0.0
            } else {
                -d.signum() * (std::f64::consts::LN_2 - 2.0 * k.ln() + base + d.abs().ln()).exp()
            };
            (v, [2.0 * v / l, dk])
        })
    }
}

/// ζ(j)(2ʲ − 2)/j for j = 2, …, 21 (mpmath).
const WEIBULL_DELTA: [f64; 20] = [
    1.6449340668482264,
    2.4041138063191885,
    3.7881313179889835,
    6.22156653086022,
    10.512544973839308,
    18.150286992874612,
    31.87945605928473,
    56.780475593477995,
    102.301645578063,
    186.0919190803662,
    341.2506231957703,
    630.0773094089744,
    1170.2145262106094,
    2184.466816943389,
    4095.9375942242555,
    7710.058882793788,
    14563.500037382837,
    27594.0526552217,
    52428.75001498929,
    99864.33334285778,
];

/// δ(t)/t² by the series of [`weibull_delta`] (for t < 0.05).
fn delta_over_t2(t: f64) -> f64 {
    let mut s = 0.0;
    for (i, &c) in WEIBULL_DELTA.iter().enumerate().rev() {
        let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
        s = s * t + sign * c;
    }
    s
}

/// δ(t) = ln Γ(1 + 2t) − 2 ln Γ(1 + t) ≥ 0 (t = 1/k). For t < 0.05 by its Taylor series
/// Σ_{j≥2} (−1)ʲ ζ(j)(2ʲ − 2)/j · tʲ from ln Γ(1 + t) = −γt + Σ_{j≥2} (−1)ʲ ζ(j) tʲ/j
/// (twenty terms; the rest is below 1e-20 relative), where the difference of ln Γs would
/// keep only ~1e-16/δ of its digits; 2t ln 2 beyond t = 1e100 (a tiny k).
fn weibull_delta(t: f64) -> f64 {
    if t < 0.05 {
        delta_over_t2(t) * t * t
    } else if t > 1e100 {
        // δ ~ 2t ln 2 (the Γs overflow); only e^{−δ} = 0 is used then
        2.0 * t * std::f64::consts::LN_2
    } else {
        // the difference of the ln Γs taken stably for a large t
        special::lgamma_diff(1.0 + t, t) - lgamma(1.0 + t)
    }
}

/// ln δ(t) for t < 0.05, as 2 ln t + ln(δ/t²) from the series of [`weibull_delta`] (δ
/// itself underflows for t ≲ 1e-162); ln of [`weibull_delta`] beyond.
fn weibull_ln_delta(t: f64) -> f64 {
    if t < 0.05 {
        2.0 * t.ln() + delta_over_t2(t).ln()
    } else {
        weibull_delta(t).ln()
    }
}

/// ψ(1 + 2t) − ψ(1 + t) = δ′(t)/2 (t = 1/k): for t < 0.05 from the series of [`weibull_delta`]
/// differentiated, ½ Σ_{j≥2} (−1)ʲ j c_j t^{j−1} (the difference of ψs would be 0 for
/// t < 1e-17); for t ≥ 0.05 as a difference of ψs ([`special::digamma_diff`]).
fn weibull_dpsi(t: f64) -> f64 {
    if t < 0.05 {
        let mut s = 0.0;
        for (i, &c) in WEIBULL_DELTA.iter().enumerate().rev() {
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            s = s * t + sign * c * (i + 2) as f64;
        }
        0.5 * s * t
    } else {
        special::digamma_diff(1.0 + t, t)
    }
}

