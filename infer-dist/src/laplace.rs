//! The Laplace distribution.

use crate::elementwise::prelude::*;

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

family! {
    /// The Laplace (double-exponential) distribution with location μ and scale b:
    ///
    /// ln p(x) = −ln(2b) − |x − μ|/b.
    ///
    /// Entropy 1 + ln(2b); mean μ; variance 2b²; cdf ½ − ½ sgn(x − μ)(e^{−|x − μ|/b} − 1);
    /// pathwise draws μ − b sgn(u) ln(1 − |u|), u ~ U(−1, 1). The derivative of |·| at 0 is 0.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Laplace};
    /// let tape = Tape::new();
    /// let d = Laplace::new(tape.var(0.0), tape.var(1.0))?;
    /// assert_eq!(d.variance()?.to_vec(), vec![2.0]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Laplace`.
    pub struct Laplace / LaplaceK: Reparameterizable {
        /// A Laplace distribution.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] for a non-finite `loc` or a `scale` that is not finite
        /// and > 0; [`DistError::ShapeMismatch`].
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Laplace::new(tape.var(0.0), tape.var(0.0)).is_err());
        /// ```
        new(loc: Check::FINITE, scale: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for LaplaceK<'t> {
    fn density([x, m, s]: [f64; 3]) -> (f64, [f64; 3]) {
        if x.is_infinite() {
            return util::neg_inf();
        }
        let d = x - m;
        let g = sign(d) / s;
        let r = d.abs() / s;
        // ∂/∂s = (|d|/s − 1)/s, here times s: s² underflows to 0 for a tiny scale, and
        // −1/s + |d|/s² was then −1/s + 0/0 (NaN at x = loc); ln 2s as ln 2 + ln s (2s overflows)
        (-std::f64::consts::LN_2 - s.ln() - r, [-g, sign(d), r - 1.0])
    }

    /// The partials of the density for μ and σ are in scaled form (times σ).
    const SCALED: Option<Scaled<3>> = Some(Scaled::new(2, [0, 1, 1]));

    fn cdf() -> Option<impl Formula<[f64; 3]>> {
        Some(|[x, m, s]: [f64; 3]| {
            let d = x - m;
            let e = (-d.abs() / s).exp();
            let p = 0.5 * e / s;
            (
                0.5 - 0.5 * sign(d) * (-d.abs() / s).exp_m1(),
                [p, -p, -util::mul0(p, d / s)],
            )
        })
    }

    /// Standard Laplace noise −sgn(u) ln(1 − |u|), u ~ U(−1, 1); x = μ + bε.
    fn pathwise() -> Option<(impl Noise, impl Formula<[f64; 3]>)> {
        Some((
            |rng: &mut dyn rand::RngCore| {
                let u = 2.0 * util::uniform(rng) - 1.0;
                -sign(u) * (-u.abs()).ln_1p()
            },
            |[e, m, s]: [f64; 3]| (m + s * e, [0.0, 1.0, e]),
        ))
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |[s]| {
            (1.0 + (2.0 * s).ln(), [1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.loc.broadcast_to(self.batch)?)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |[s]| (2.0 * s * s, [4.0 * s]))
    }
}

