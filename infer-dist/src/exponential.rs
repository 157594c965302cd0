//! The exponential distribution.

use crate::bind::{Kernel, RKernel, family, kernel_items};
use crate::util::check_param;
use crate::util::{self, POSITIVE, lp_map, param_map, positive};
use crate::{Constraint, DistError};
use infer_ad::{Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "Exponential";

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
    pub struct Exponential / ExponentialK {
        params: [rate],
        extra: {},
    }
    name: NAME,
    rsample: true,
}

impl<'t> Exponential<'t> {
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
    #[inline]
    pub fn new(rate: impl crate::IntoParam<'t>) -> Result<Self, DistError> {
        let [rate] = crate::param::take_params!(NAME; rate);
        check_param(NAME, "rate", &rate, positive, POSITIVE)?;
        let batch = rate.shape()?;
        Ok(Exponential { rate, batch })
    }
}

fn kernel([x, r]: [f64; 2]) -> (f64, [f64; 2]) {
    if !(x >= 0.0) || x.is_infinite() {
        return util::off_support(x);
    }
    (r.ln() - r * x, [-r, 1.0 - r * x])
}

/// [`kernel`] without its parameter-only term ([`norm`]), for `log_prob_sum` with a scalar λ.
fn data([x, r]: [f64; 2]) -> (f64, [f64; 2]) {
    if !(x >= 0.0) || x.is_infinite() {
        return util::off_support(x);
    }
    (-r * x, [-r, -r * x])
}

/// The parameter-only term of [`kernel`]: ln λ.
fn norm([_, r]: [f64; 2]) -> (f64, [f64; 2]) {
    (r.ln(), [0.0, 1.0])
}

/// The partials of [`kernel`], [`data`] and [`norm`] for the rate λ are in scaled form
/// (times λ: 1 − λx, where 1/λ − x is ∞ − ∞ for a subnormal λ and a huge x).
const SCALED: util::Scaled<2> = util::Scaled { by: 1, pow: [0, 1] };

impl<'t> Kernel<'t> for ExponentialK<'t> {
    kernel_items!(NAME);

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(NAME, self.batch, [value, self.rate], SCALED.kernel(kernel))
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        util::lp_sum_hoisted(
            NAME,
            self.batch,
            [value, self.rate],
            kernel,
            data,
            norm,
            SCALED,
        )
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let u = util::uniforms(rng, self.batch.numel());
        let r = util::bvals(self.rate, self.batch);
        util::draws(
            NAME,
            self.batch,
            (0..u.len()).map(|i| -u[i].ln() / r[i]).collect(),
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.rate], |[r]| (1.0 - r.ln(), [-1.0 / r]))
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.rate], |[r]| (1.0 / r, [-1.0 / (r * r)]))
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.rate], |[r]| {
            (1.0 / (r * r), [-2.0 / (r * r * r)])
        })
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(NAME, self.batch, [value, self.rate], |[x, r]| {
            if !(x > 0.0) {
                return (0.0, [0.0; 2]);
            }
            let e = (-r * x).exp();
            // x e^{−rx} → 0 as x → ∞ (0·∞ at x = ∞)
            (-(-r * x).exp_m1(), [r * e, util::mul0(x, e)])
        })
    }

    fn support(&self) -> Constraint {
        Constraint::GreaterThanEq(0.0)
    }
}

impl<'t> RKernel<'t> for ExponentialK<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.rate.tape();
        let e = util::uniforms(rng, self.batch.numel())
            .into_iter()
            .map(|u| -u.ln())
            .collect();
        let eps = util::constant(tape, self.batch, e)?;
        util::rdraws(
            NAME,
            tape.fused_map([self.rate, eps], |_, [r, e]| (e / r, [-e / (r * r), 0.0]))?,
        )
    }
}
