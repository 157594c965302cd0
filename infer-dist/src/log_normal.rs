//! The log-normal distribution.

use crate::elementwise::prelude::*;
use crate::special::{LN_SQRT_2PI, normal_cdf};

family! {
    /// The log-normal distribution: ln X ~ N(loc, scale²),
    ///
    /// ln p(x) = −(ln x − μ)²/(2σ²) − ln σ − ln √(2π) − ln x, x > 0.
    ///
    /// Entropy ½ + ln √(2π) + ln σ + μ; mean e^{μ + σ²/2}; variance (e^{σ²} − 1) e^{2μ + σ²};
    /// cdf Φ((ln x − μ)/σ); pathwise draws e^{μ + σε}.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, LogNormal};
    /// let tape = Tape::new();
    /// let d = LogNormal::new(tape.var(0.0), tape.var(1.0))?;
    /// let lp = d.log_prob(tape.constant(&ndarray::arr0(-1.0)))?;
    /// assert_eq!(lp.to_vec()[0], f64::NEG_INFINITY);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.LogNormal`.
    pub struct LogNormal / LogNormalK: Reparameterizable {
        /// A log-normal distribution with log-mean `loc` and log-standard deviation `scale`.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] for a non-finite `loc` or a `scale` that is not finite
        /// and > 0; [`DistError::ShapeMismatch`].
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::LogNormal::new(tape.var(0.0), tape.var(-1.0)).is_err());
        /// ```
        new(loc: Check::FINITE, scale: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for LogNormalK<'t> {
    fn density([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
        let y = x.ln();
        let z = (y - m) / s;
        (
            -0.5 * z * z - s.ln() - LN_SQRT_2PI - y,
            [(-z / s - 1.0) / x, y - m, z * z - 1.0],
        )
    }

    const DOMAIN: Domain = Domain::Positive;

    /// The partials of the density, [`data`] and [`norm`] are in scaled form: for μ times σ²
    /// (ln x − μ), for σ times σ.
    const SCALED: Option<Scaled<3>> = Some(Scaled::new(2, [0, 2, 1]));

    const HOISTED: bool = true;

    /// The density without its parameter-only terms ([`norm`]), for `log_prob_sum` with scalar
    /// μ and σ.
    fn data([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
        let y = x.ln();
        let z = (y - m) / s;
        (-0.5 * z * z - y, [(-z / s - 1.0) / x, y - m, z * z])
    }

    /// The parameter-only terms of the density: −ln σ − ln √(2π).
    fn norm([_, _, s]: [f64; 3]) -> (f64, [f64; 3]) {
        (-s.ln() - LN_SQRT_2PI, [0.0, 0.0, -1.0])
    }

    fn cdf() -> Option<impl Formula<[f64; 3]>> {
        Some(|[x, m, s]: [f64; 3]| {
            if !(x > 0.0) {
                return (0.0, [0.0; 3]);
            }
            let z = (x.ln() - m) / s;
            let d = (-0.5 * z * z - LN_SQRT_2PI).exp() / s;
            // φ(z)·z → 0 as |z| → ∞ (0·∞ at z = ±∞)
            let dz = util::mul0(d, z);
            (normal_cdf(z), [d / x, -d, -dz])
        })
    }

    /// x = e^{μ + σε}, ε standard normal.
    fn pathwise() -> Option<(impl Noise, impl Formula<[f64; 3]>)> {
        Some((util::normal, |[e, m, s]: [f64; 3]| {
            let x = (m + s * e).exp();
            (x, [0.0, x, x * e])
        }))
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[m, s]| {
            (0.5 + LN_SQRT_2PI + s.ln() + m, [1.0, 1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[m, s]| {
            let v = (m + 0.5 * s * s).exp();
            (v, [v, v * s])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        // V = (e^{σ²} − 1) e^{2μ + σ²} = exp(2μ + 2σ² + ln(1 − e^{−σ²})) in logs (the product
        // is ∞ · 0 for μ = −1000, σ = 30 while V = e^{−200});
        // ∂V/∂σ = 4σV + 2σ e^{2μ + σ²}, the second term also in logs.
        self.map_params(|[m, s]| {
            let s2 = s * s;
            // 2(μ + σ²) and μ + (μ + σ²): 2μ alone overflows for μ = −1e308
            // ln(1 − e^{−σ²}) = 2 ln σ − σ²/2 + O(σ⁴) for σ < 1e-4 (σ² underflows to 0 for a
            // subnormal σ, and ln 0 = −∞ met 2μ = ∞ as ∞ − ∞)
            let l1m = if s < 1e-4 {
                2.0 * s.ln() - 0.5 * s2
            } else {
                (-(-s2).exp_m1()).ln()
            };
            let v = (2.0 * (m + s2) + l1m).exp();
            let ds = 4.0 * s * v + (std::f64::consts::LN_2 + s.ln() + (m + (m + s2))).exp();
            (v, [2.0 * v, ds])
        })
    }
}

