//! The Poisson distribution.

use crate::bind::{Kernel, family, kernel_items};
use crate::binomial::{bd0, stirlerr};
use crate::util::check_param;
use crate::util::{self, lp_map, lp_sum};
use crate::{Constraint, DistError};

use infer_ad::{Tensor, Var};
use ndarray::ArrayD;
use rand::Rng;

const NAME: &str = "Poisson";

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
        params: [rate],
        extra: {},
    }
    name: NAME,
    rsample: false,
}

impl<'t> Poisson<'t> {
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
    #[inline]
    pub fn new(rate: impl crate::IntoParam<'t>) -> Result<Self, DistError> {
        let [rate] = crate::param::take_params!(NAME; rate);
        check_param(
            NAME,
            "rate",
            &rate,
            |r| r >= 0.0 && r.is_finite(),
            "must be finite and >= 0",
        )?;
        let batch = rate.shape()?;
        Ok(Poisson { rate, batch })
    }
}

fn kernel([k, r]: [f64; 2]) -> (f64, [f64; 2]) {
    if !(k >= 0.0 && k.fract() == 0.0 && k.is_finite()) {
        return if k.is_nan() {
            (f64::NAN, [0.0; 2])
        } else {
            util::neg_inf()
        };
    }
    let dr = if k == 0.0 { -1.0 } else { k / r - 1.0 };
    if k == 0.0 {
        return (-r, [0.0, dr]);
    }
    // Loader's form −δ(k) − bd0(k, λ) − ½ ln(2πk): k ln λ − ln k! is ∞ − ∞ for k ≳ 1e306
    // and cancels for large k
    let lp = -stirlerr(k) - bd0(k, r, k - r) - 0.5 * ((2.0 * std::f64::consts::PI).ln() + k.ln());
    (lp, [0.0, dr])
}

impl<'t> Kernel<'t> for PoissonK<'t> {
    kernel_items!(NAME);

    fn is_discrete(&self) -> bool {
        true
    }

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(NAME, self.batch, [value, self.rate], kernel)
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        lp_sum(NAME, self.batch, [value, self.rate], kernel)
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let r = util::bvals(self.rate, self.batch);
        let mut x = Vec::with_capacity(r.len());
        for &ri in &r {
            x.push(poisson_draw(rng, ri, NAME)?);
        }
        util::draws(NAME, self.batch, x)
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.rate.broadcast_to(self.batch)?)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.rate.broadcast_to(self.batch)?)
    }

    fn support(&self) -> Constraint {
        Constraint::NonNegativeInteger
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
