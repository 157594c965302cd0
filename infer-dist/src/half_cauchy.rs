//! The half-Cauchy distribution.

use crate::elementwise::prelude::*;
use infer_ad::fastmath;
use std::f64::consts::{LN_2, PI};

family! {
    /// The half-Cauchy distribution: |C| γ for a standard Cauchy C,
    ///
    /// ln p(x) = ln 2 − ln π − ln γ − ln(1 + (x/γ)²), x ≥ 0.
    ///
    /// Entropy ln(2πγ); cdf (2/π) atan(x/γ); mean and variance ∞ (as PyTorch returns).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, HalfCauchy};
    /// let tape = Tape::new();
    /// let d = HalfCauchy::new(tape.var(2.0))?;
    /// let c = d.cdf(tape.constant(&ndarray::arr0(2.0)))?;
    /// assert!((c.to_vec()[0] - 0.5).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.HalfCauchy`.
    pub struct HalfCauchy / HalfCauchyK: Reparameterizable {
        /// A half-Cauchy distribution with scale γ.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] for a `scale` that is not finite and > 0.
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::HalfCauchy::new(tape.var(f64::INFINITY)).is_err());
        /// ```
        new(scale: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for HalfCauchyK<'t> {
    /// With (z² − 1)/(z² + 1) = 1 − 2/(1 + z²) for σ (1 when z² overflows).
    fn density([x, s]: [f64; 2]) -> (f64, [f64; 2]) {
        let (z2, l, g) = parts(x, s);
        (
            LN_2 - PI.ln() - fastmath::ln(s) - l,
            [-2.0 * g / s, 1.0 - 2.0 / (1.0 + z2)],
        )
    }

    const DOMAIN: Domain = Domain::NonNegative;

    /// The partials of the density, [`data`] and [`norm`] for σ are in scaled form (times σ).
    const SCALED: Option<Scaled<2>> = Some(Scaled::new(1, [0, 1]));

    const HOISTED: bool = true;

    /// The density without its parameter-only terms ([`norm`]), for `log_prob_sum` with a scalar σ.
    fn data([x, s]: [f64; 2]) -> (f64, [f64; 2]) {
        let (z2, l, g) = parts(x, s);
        (-l, [-2.0 * g / s, 2.0 - 2.0 / (1.0 + z2)])
    }

    /// The parameter-only terms of the density: ln 2 − ln π − ln σ.
    fn norm([_, s]: [f64; 2]) -> (f64, [f64; 2]) {
        (LN_2 - PI.ln() - fastmath::ln(s), [0.0, -1.0])
    }

    fn cdf() -> Option<impl Formula<[f64; 2]>> {
        Some(|[x, s]: [f64; 2]| {
            if !(x > 0.0) {
                return (0.0, [0.0; 2]);
            }
            let z = x / s;
            let d = 2.0 / (PI * s * (1.0 + z * z));
            // the density times z → 0 as z → ∞ (0·∞ at z = ∞)
            (2.0 / PI * z.atan(), [d, -util::mul0(d, z)])
        })
    }

    fn pathwise() -> Option<(impl Noise, impl Formula<[f64; 2]>)> {
        Some((noise, |[e, s]: [f64; 2]| (s * e, [0.0, e])))
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[s]| {
            ((2.0 * PI * s).ln(), [1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        util::param_fill(self.batch, self.scale, f64::INFINITY)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        util::param_fill(self.batch, self.scale, f64::INFINITY)
    }
}

/// z² = (x/σ)², ln(1 + z²) and z/(1 + z²), also when z² overflows (then 2 ln z from the logs
/// and 1/z: the ratios of two infinities were NaN), for x in the support.
fn parts(x: f64, s: f64) -> (f64, f64, f64) {
    let z = x / s;
    let z2 = z * z;
    let (l, g) = if z2.is_finite() {
        (fastmath::ln_1p(z2), z / (1.0 + z2))
    } else {
        (2.0 * (x.ln() - s.ln()), 1.0 / z)
    };
    (z2, l, g)
}

/// |tan(π(u − ½))|: the standard half-Cauchy noise.
fn noise(rng: &mut dyn rand::RngCore) -> f64 {
    (PI * (util::uniform(rng) - 0.5)).tan().abs()
}

