//! The Cauchy distribution.

use crate::elementwise::prelude::*;
use std::f64::consts::PI;

family! {
    /// The Cauchy distribution with location μ and scale γ:
    ///
    /// ln p(x) = −ln π − ln γ − ln(1 + z²), z = (x − μ)/γ.
    ///
    /// Entropy ln(4πγ); cdf ½ + atan(z)/π; mean NaN and variance ∞ (as PyTorch returns);
    /// pathwise draws x = μ + γ tan(π(u − ½)).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Cauchy, Distribution};
    /// let tape = Tape::new();
    /// let d = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
    /// let lp = d.log_prob(tape.constant(&ndarray::arr0(0.0)))?;
    /// assert!((lp.to_vec()[0] + std::f64::consts::PI.ln()).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Cauchy`.
    pub struct Cauchy / CauchyK: Reparameterizable {
        /// A Cauchy distribution.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] for a non-finite `loc` or a `scale` that is not finite
        /// and > 0; [`DistError::ShapeMismatch`].
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Cauchy::new(tape.var(0.0), tape.var(f64::NAN)).is_err());
        /// ```
        new(loc: Check::FINITE, scale: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for CauchyK<'t> {
    /// With (z² − 1)/(z² + 1) = 1 − 2/(1 + z²) for σ (1 when z² overflows).
    fn density([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
        let Some((z2, l, gz)) = parts(x, m, s) else {
            return util::neg_inf();
        };
        (
            -PI.ln() - s.ln() - l,
            [-2.0 * gz / s, 2.0 * gz, 1.0 - 2.0 / (1.0 + z2)],
        )
    }

    /// The partials of the density, [`data`] and [`norm`] for μ and σ are in scaled form
    /// (times σ: bounded, where the partials overflow for a subnormal σ).
    const SCALED: Option<Scaled<3>> = Some(Scaled::new(2, [0, 1, 1]));

    const HOISTED: bool = true;

    /// The density without its parameter-only terms ([`norm`]), for `log_prob_sum` with scalar
    /// μ and σ: −ln(1 + z²), with ∂/∂σ = (1 − 2/(1 + z²))/σ + 1/σ.
    fn data([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
        let Some((z2, l, gz)) = parts(x, m, s) else {
            return util::neg_inf();
        };
        (-l, [-2.0 * gz / s, 2.0 * gz, 2.0 - 2.0 / (1.0 + z2)])
    }

    /// The parameter-only terms of the density: −ln π − ln σ.
    fn norm([_, _, s]: [f64; 3]) -> (f64, [f64; 3]) {
        (-PI.ln() - s.ln(), [0.0, 0.0, -1.0])
    }

    fn cdf() -> Option<impl Formula<[f64; 3]>> {
        Some(|[x, m, s]: [f64; 3]| {
            let z = (x - m) / s;
            let d = 1.0 / (PI * s * (1.0 + z * z));
            // the density times z → 0 as |z| → ∞ (0·∞ at z = ±∞)
            (0.5 + z.atan() / PI, [d, -d, -util::mul0(d, z)])
        })
    }

    fn pathwise() -> Option<(impl Noise, impl Formula<[f64; 3]>)> {
        Some((
            |rng: &mut dyn rand::RngCore| (PI * (util::uniform(rng) - 0.5)).tan(),
            |[e, m, s]: [f64; 3]| (m + s * e, [0.0, 1.0, e]),
        ))
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |[s]| {
            ((4.0 * PI * s).ln(), [1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        util::param_fill(self.batch, self.loc, f64::NAN)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        util::param_fill(self.batch, self.scale, f64::INFINITY)
    }
}

/// z² = ((x − μ)/σ)², ln(1 + z²) and z/(1 + z²), also when z² overflows (2 ln|z| from the
/// logs, and 1/z: the ratios of infinities were NaN); `None` for an infinite x.
fn parts(x: f64, m: f64, s: f64) -> Option<(f64, f64, f64)> {
    if x.is_infinite() {
        return None;
    }
    let z = (x - m) / s;
    let z2 = z * z;
    let (l, gz) = if z2.is_finite() {
        (z2.ln_1p(), z / (1.0 + z2))
    } else {
        (2.0 * (util::ln_abs_diff(x, m) - s.ln()), 1.0 / z)
    };
    Some((z2, l, gz))
}

