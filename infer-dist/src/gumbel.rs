//! The Gumbel (type-I extreme value) distribution.

use crate::elementwise::prelude::*;
use std::f64::consts::PI;

/// The Euler–Mascheroni constant γ.
pub(crate) const EULER: f64 = 0.577_215_664_901_532_9;

family! {
    /// The Gumbel distribution with location μ and scale β:
    ///
    /// ln p(x) = −z − e^{−z} − ln β, z = (x − μ)/β.
    ///
    /// Entropy ln β + 1 + γ; mean μ + βγ; variance π²β²/6; cdf exp(−e^{−z}); pathwise draws
    /// μ − β ln(−ln u).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Gumbel};
    /// let tape = Tape::new();
    /// let d = Gumbel::new(tape.var(0.0), tape.var(1.0))?;
    /// let c = d.cdf(tape.constant(&ndarray::arr0(0.0)))?;
    /// assert!((c.to_vec()[0] - (-1.0f64).exp()).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Gumbel`.
    pub struct Gumbel / GumbelK: Reparameterizable {
        /// A Gumbel distribution.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] for a non-finite `loc` or a `scale` that is not finite
        /// and > 0; [`DistError::ShapeMismatch`].
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Gumbel::new(tape.var(f64::INFINITY), tape.var(1.0)).is_err());
        /// ```
        new(loc: Check::FINITE, scale: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for GumbelK<'t> {
    fn density([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
        let Some((z, e, dz)) = parts(x, m, s) else {
            return util::neg_inf();
        };
        (-z - e - s.ln(), [dz / s, -dz, -dz * z - 1.0])
    }

    /// The partials of the density, [`data`] and [`norm`] for μ and σ are in scaled form
    /// (times σ: 1 − e^(−z) ≤ 1 and z(1 − e^(−z)) − 1 ≥ −1, of one sign where they overflow).
    const SCALED: Option<Scaled<3>> = Some(Scaled::new(2, [0, 1, 1]));

    const HOISTED: bool = true;

    /// The density without its parameter-only term ([`norm`]), for `log_prob_sum` with scalar
    /// μ and β.
    fn data([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
        let Some((z, e, dz)) = parts(x, m, s) else {
            return util::neg_inf();
        };
        (-z - e, [dz / s, -dz, -dz * z])
    }

    /// The parameter-only term of the density: −ln β.
    fn norm([_, _, s]: [f64; 3]) -> (f64, [f64; 3]) {
        (-s.ln(), [0.0, 0.0, -1.0])
    }

    fn cdf() -> Option<impl Formula<[f64; 3]>> {
        Some(|[x, m, s]: [f64; 3]| {
            let z = (x - m) / s;
            let e = (-z).exp();
            let c = (-e).exp();
            let d = c * e / s;
            if !d.is_finite() {
                return (c, [0.0; 3]);
            }
            (c, [d, -d, -util::mul0(d, z)])
        })
    }

    /// Standard Gumbel noise −ln(−ln u); x = μ + βε.
    fn pathwise() -> Option<(impl Noise, impl Formula<[f64; 3]>)> {
        Some((
            |rng: &mut dyn rand::RngCore| -(-util::uniform(rng).ln()).ln(),
            |[e, m, s]: [f64; 3]| (m + s * e, [0.0, 1.0, e]),
        ))
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |[s]| {
            (s.ln() + 1.0 + EULER, [1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[m, s]| {
            (m + s * EULER, [1.0, EULER])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        let c = PI * PI / 6.0;
        param_map(self.batch, [self.scale], move |[s]| {
            (c * s * s, [2.0 * c * s])
        })
    }
}

/// z = (x − μ)/β, e^{−z} and 1 − e^{−z} (the partial in z, negated); `None` where the density
/// is 0 in f64 (x = ±∞, or e^{−z} beyond f64).
fn parts(x: f64, m: f64, s: f64) -> Option<(f64, f64, f64)> {
    if x.is_infinite() {
        return None;
    }
    let z = (x - m) / s;
    let e = (-z).exp();
    if e.is_infinite() {
        return None;
    }
    Some((z, e, e - 1.0))
}

