//! The exponential distribution.

use crate::elementwise::prelude::*;

family! {
    /// The exponential distribution with rate λ:
    ///
    /// ln p(x) = ln λ − λx, x ≥ 0.
    ///
    /// Entropy 1 − ln λ; mean 1/λ; variance 1/λ²; cdf 1 − e^{−λx}; pathwise draws E/λ with
    /// E = −ln u.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Exponential};
    /// let tape = Tape::new();
    /// let d = Exponential::new(tape.var(2.0))?;
    /// assert_eq!(d.mean()?.to_vec(), vec![0.5]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Exponential`.
    pub struct Exponential / ExponentialK: Reparameterizable {
        /// An exponential distribution with rate λ.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] for a `rate` that is not finite and > 0.
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Exponential::new(tape.var(-1.0)).is_err());
        /// ```
        new(rate: Check::POSITIVE),
    }
}

impl<'t> Elementwise<'t> for ExponentialK<'t> {
    fn density([x, r]: [f64; 2]) -> (f64, [f64; 2]) {
        (r.ln() - r * x, [-r, 1.0 - r * x])
    }

    const DOMAIN: Domain = Domain::NonNegative;

    /// The partials of the density, [`data`] and [`norm`] for the rate λ are in scaled form
    /// (times λ: 1 − λx, where 1/λ − x is ∞ − ∞ for a subnormal λ and a huge x).
    const SCALED: Option<Scaled<2>> = Some(Scaled::new(1, [0, 1]));

    const HOISTED: bool = true;

    /// The density without its parameter-only term ([`norm`]), for `log_prob_sum` with a scalar λ.
    fn data([x, r]: [f64; 2]) -> (f64, [f64; 2]) {
        (-r * x, [-r, -r * x])
    }

    /// The parameter-only term of the density: ln λ.
    fn norm([_, r]: [f64; 2]) -> (f64, [f64; 2]) {
        (r.ln(), [0.0, 1.0])
    }

    fn cdf() -> Option<impl Formula<[f64; 2]>> {
        Some(|[x, r]: [f64; 2]| {
            if !(x > 0.0) {
                return (0.0, [0.0; 2]);
            }
            let e = (-r * x).exp();
            // x e^{−rx} → 0 as x → ∞ (0·∞ at x = ∞)
            (-(-r * x).exp_m1(), [r * e, util::mul0(x, e)])
        })
    }

    /// x = E/λ, E = −ln u.
    fn pathwise() -> Option<(impl Noise, impl Formula<[f64; 2]>)> {
        Some((
            |rng: &mut dyn rand::RngCore| -util::uniform(rng).ln(),
            |[e, r]: [f64; 2]| (e / r, [0.0, -e / (r * r)]),
        ))
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[r]| (1.0 - r.ln(), [-1.0 / r]))
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[r]| (1.0 / r, [-1.0 / (r * r)]))
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        self.map_params(|[r]| {
            (1.0 / (r * r), [-2.0 / (r * r * r)])
        })
    }
}

