//! The negative binomial distribution (PyTorch's convention).

use crate::gamma::{ln_standard_gamma, xlogy};
use crate::poisson::poisson_draw;
use crate::util::{
    self, POSITIVE, accessors, check, common_items, lp_map, lp_sum, param_map, positive,
};
use crate::{Constraint, DistError, Distribution, IntoTensor};
use infer_ad::scalar::{digamma, lgamma};
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "NegativeBinomial";

/// The negative binomial distribution as PyTorch defines it: the number of successes before
/// r = `total_count` failures, each trial succeeding with probability p = `probs`:
///
/// ln P(k) = ln Γ(r + k) − ln k! − ln Γ(r) + r ln(1 − p) + k ln p, k ∈ {0, 1, …}.
///
/// Mean rp/(1 − p); variance rp/(1 − p)²; no entropy (as PyTorch). Gradients flow to `probs`
/// and to the (real) `total_count`. Sampled as a Gamma–Poisson mixture. Not reparameterizable.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, NegativeBinomial};
/// let tape = Tape::new();
/// let d = NegativeBinomial::new(tape.var(3.0), tape.var(0.25))?;
/// assert!((d.mean()?.to_vec()[0] - 1.0).abs() < 1e-15);
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// PyTorch, `torch.distributions.NegativeBinomial`.
#[derive(Debug, Clone, Copy)]
pub struct NegativeBinomial<'t> {
    total_count: Tensor<'t>,
    probs: Tensor<'t>,
    batch: Shape,
}

impl<'t> NegativeBinomial<'t> {
    /// A negative binomial distribution.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a `total_count` that is not finite and > 0 or a
    /// probability outside [0, 1); [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::NegativeBinomial::new(tape.var(2.0), tape.var(1.0)).is_err());
    /// ```
    #[inline]
    pub fn new(
        total_count: impl IntoTensor<'t>,
        probs: impl IntoTensor<'t>,
    ) -> Result<Self, DistError> {
        let (total_count, probs) = (total_count.into_tensor(), probs.into_tensor());
        check(NAME, "total_count", total_count, positive, POSITIVE)?;
        check(
            NAME,
            "probs",
            probs,
            |p| (0.0..1.0).contains(&p),
            "must be a probability in [0, 1)",
        )?;
        let batch = util::batch(NAME, &[total_count, probs])?;
        Ok(NegativeBinomial {
            total_count,
            probs,
            batch,
        })
    }

    accessors!(total_count, probs);
}

fn kernel([k, r, p]: [f64; 3]) -> (f64, [f64; 3]) {
    if !(k >= 0.0 && k.fract() == 0.0 && k.is_finite()) {
        return if k.is_nan() {
            (f64::NAN, [0.0; 3])
        } else {
            util::neg_inf()
        };
    }
    let l1p = (-p).ln_1p();
    let dp = (if k == 0.0 { 0.0 } else { k / p }) - r / (1.0 - p);
    (
        // ln C(k + r − 1, k) = ln Γ(r + k) − ln Γ(k + 1) − ln Γ(r), the difference of the
        // two ln Γs of the larger argument by Stirling's difference (∞ − ∞ for an argument
        // ≳ 1e305, and cancelling before)
        if r >= k {
            util::lgamma_diff(r, k) - lgamma(k + 1.0)
        } else {
            util::lgamma_diff(k + 1.0, r - 1.0) - lgamma(r)
        } + r * l1p
            + xlogy(k, p),
        [0.0, digamma(r + k) - digamma(r) + l1p, dp],
    )
}

impl<'t> Distribution<'t> for NegativeBinomial<'t> {
    common_items!(NAME, NegativeBinomial, [total_count, probs]);

    fn is_discrete(&self) -> bool {
        true
    }

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.total_count, self.probs],
            kernel,
        )
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        lp_sum(
            NAME,
            self.batch,
            [value, self.total_count, self.probs],
            kernel,
        )
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let r = util::bvals(self.total_count, self.batch);
        let p = util::bvals(self.probs, self.batch);
        let mut x = Vec::with_capacity(r.len());
        for i in 0..r.len() {
            if p[i] == 0.0 {
                x.push(0.0);
                continue;
            }
            // λ ~ Gamma(r, scale p/(1 − p)), k ~ Poisson(λ)
            let lam = (ln_standard_gamma(rng, r[i], NAME)? + p[i].ln() - (-p[i]).ln_1p()).exp();
            x.push(poisson_draw(rng, lam, NAME)?);
        }
        util::draws(NAME, self.batch, x)
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.total_count, self.probs], |[r, p]| {
            let q = 1.0 - p;
            (r * p / q, [p / q, r / (q * q)])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.total_count, self.probs], |[r, p]| {
            let q = 1.0 - p;
            (r * p / (q * q), [p / (q * q), r * (1.0 + p) / (q * q * q)])
        })
    }

    fn support(&self) -> Constraint {
        Constraint::NonNegativeInteger
    }
}
