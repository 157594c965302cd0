//! The Poisson distribution.

use crate::elementwise::prelude::*;
use crate::binomial::{bd0, stirlerr};
use rand::Rng;

family! {
    /// The Poisson distribution with rate λ ≥ 0:
    ///
    /// ln P(k) = k ln λ − λ − ln k!, k ∈ {0, 1, …}; −∞ elsewhere (0 · ln 0 = 0, so λ = 0 is the
    /// point mass at 0).
    ///
    /// Mean λ; variance λ; no entropy (as PyTorch). Not reparameterizable.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, Poisson};
    /// let tape = Tape::new();
    /// let d = Poisson::new(tape.var(2.0))?;
    /// let lp = d.log_prob(tape.constant(&ndarray::arr0(0.0)))?;
    /// assert!((lp.to_vec()[0] + 2.0).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Poisson`.
    pub struct Poisson / PoissonK {
        /// A Poisson distribution with rate λ.
        ///
        /// # Errors
        /// [`DistError::InvalidParameter`] for a rate that is negative, NaN or infinite.
        ///
        /// # Examples
        /// ```
        /// let tape = infer_ad::Tape::new();
        /// assert!(infer_dist::Poisson::new(tape.var(-1.0)).is_err());
        /// ```
        new(rate: Check::NON_NEGATIVE),
    }
}

impl<'t> Elementwise<'t> for PoissonK<'t> {
    fn density([k, r]: [f64; 2]) -> (f64, [f64; 2]) {
        let dr = if k == 0.0 { -1.0 } else { k / r - 1.0 };
        if k == 0.0 {
            return (-r, [0.0, dr]);
        }
        // Loader's form −δ(k) − bd0(k, λ) − ½ ln(2πk): k ln λ − ln k! is ∞ − ∞ for k ≳ 1e306
        // and cancels for large k
        let lp = -stirlerr(k) - bd0(k, r, k - r) - 0.5 * ((2.0 * std::f64::consts::PI).ln() + k.ln());
        (lp, [0.0, dr])
    }

    const DOMAIN: Domain = Domain::Count;

    fn draw([_, r]: [f64; 2], rng: &mut dyn rand::RngCore) -> Result<f64, DistError> {
        poisson_draw(rng, r, NAME)
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.rate.broadcast_to(self.batch)?)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.rate.broadcast_to(self.batch)?)
    }
}

/// One Poisson(λ) draw (0 for λ = 0).
pub(crate) fn poisson_draw(
    rng: &mut dyn rand::RngCore,
    rate: f64,
    dist: &'static str,
) -> Result<f64, DistError> {
    if rate == 0.0 {
        return Ok(0.0);
    }
    let d = rand_distr::Poisson::new(rate).map_err(|_| DistError::Sampling {
        dist,
        reason: "Poisson rate beyond the range of rand_distr's sampler",
    })?;
    Ok(rng.sample(d))
}
