//! The half-normal distribution.

use crate::elementwise::prelude::*;
use crate::special::LN_SQRT_2PI;
use infer_ad::scalar::erf;
use std::f64::consts::{LN_2, PI, SQRT_2};

family! {
    /// The half-normal distribution: |Z| σ for Z ~ N(0, 1),
    ///
    /// ln p(x) = ln 2 − x²/(2σ²) − ln σ − ln √(2π), x ≥ 0.
    ///
    /// Entropy ½ + ln √(2π) + ln σ − ln 2; mean σ√(2/π); variance σ²(1 − 2/π); cdf erf(x/(σ√2)).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, HalfNormal};
    /// let tape = Tape::new();
    /// let d = HalfNormal::new(tape.var(1.0))?;
    /// assert_eq!(d.log_prob(tape.constant(&ndarray::arr0(-0.1)))?.to_vec()[0], f64::NEG_INFINITY);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.HalfNormal`.
    pub struct HalfNormal / HalfNormalK: Reparameterizable {
        /// A half-normal distribution with scale σ.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] for a `scale` that is not finite and > 0.
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::HalfNormal::new(tape.var(0.0)).is_err());
        /// ```
        new(scale: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for HalfNormalK<'t> {
    fn density([x, s]: [f64; 2]) -> (f64, [f64; 2]) {
        let z = x / s;
        (
            LN_2 - 0.5 * z * z - s.ln() - LN_SQRT_2PI,
            [-z / s, z * z - 1.0],
        )
    }

    const DOMAIN: Domain = Domain::NonNegative;

    /// The partials of the density, [`data`] and [`norm`] for σ are in scaled form (times σ).
    const SCALED: Option<Scaled<2>> = Some(Scaled::new(1, [0, 1]));

    const HOISTED: bool = true;

    /// The density without its parameter-only terms ([`norm`]), for `log_prob_sum` with a scalar σ.
    fn data([x, s]: [f64; 2]) -> (f64, [f64; 2]) {
        let z = x / s;
        (-0.5 * z * z, [-z / s, z * z])
    }

    /// The parameter-only terms of the density: ln 2 − ln σ − ln √(2π).
    fn norm([_, s]: [f64; 2]) -> (f64, [f64; 2]) {
        (LN_2 - s.ln() - LN_SQRT_2PI, [0.0, -1.0])
    }

    fn cdf() -> Option<impl Formula<[f64; 2]>> {
        Some(|[x, s]: [f64; 2]| {
            if !(x > 0.0) {
                return (0.0, [0.0; 2]);
            }
            let z = x / s;
            let d = 2.0 * (-0.5 * z * z - LN_SQRT_2PI).exp() / s;
            (erf(z / SQRT_2), [d, -util::mul0(d, z)])
        })
    }

    /// x = σ|ε|, ε standard normal.
    fn pathwise() -> Option<(impl Noise, impl Formula<[f64; 2]>)> {
        Some((
            |rng: &mut dyn rand::RngCore| util::normal(rng).abs(),
            |[e, s]: [f64; 2]| (s * e, [0.0, e]),
        ))
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[s]| {
            (0.5 + LN_SQRT_2PI + s.ln() - LN_2, [1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        let c = (2.0 / PI).sqrt();
        self.map_params(move |[s]| (c * s, [c]))
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        let c = 1.0 - 2.0 / PI;
        self.map_params(move |[s]| {
            (c * s * s, [2.0 * c * s])
        })
    }
}

