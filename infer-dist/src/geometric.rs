//! The geometric distribution (failures before the first success).

use crate::util::{self, accessors, check, common_items, lp_map, lp_sum, param_map};
use crate::{Constraint, DistError, Distribution, IntoTensor};
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;
use rand::Rng;

const NAME: &str = "Geometric";

/// The geometric distribution: the number of failures before the first success in Bernoulli(p)
/// trials,
///
/// ln P(k) = k ln(1 − p) + ln p, k ∈ {0, 1, …}; −∞ elsewhere.
///
/// Entropy −(p ln p + (1 − p) ln(1 − p))/p; mean (1 − p)/p; variance (1 − p)/p². Not
/// reparameterizable.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, Geometric};
/// let tape = Tape::new();
/// let d = Geometric::new(tape.var(0.5))?;
/// assert_eq!(d.mean()?.to_vec(), vec![1.0]);
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// PyTorch, `torch.distributions.Geometric`.
#[derive(Debug, Clone, Copy)]
pub struct Geometric<'t> {
    probs: Tensor<'t>,
    batch: Shape,
}

impl<'t> Geometric<'t> {
    /// A geometric distribution with success probability `probs` ∈ (0, 1].
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a probability outside (0, 1] (or NaN).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Geometric::new(tape.var(0.0)).is_err());
    /// ```
    #[inline]
    pub fn new(probs: impl IntoTensor<'t>) -> Result<Self, DistError> {
        let probs = probs.into_tensor();
        check(
            NAME,
            "probs",
            probs,
            |p| p > 0.0 && p <= 1.0,
            "must be a probability in (0, 1]",
        )?;
        Ok(Geometric {
            probs,
            batch: probs.shape(),
        })
    }

    accessors!(probs);
}

fn kernel([k, p]: [f64; 2]) -> (f64, [f64; 2]) {
    if !(k >= 0.0 && k.fract() == 0.0 && k.is_finite()) {
        return if k.is_nan() {
            (f64::NAN, [0.0; 2])
        } else {
            util::neg_inf()
        };
    }
    if k == 0.0 {
        return (p.ln(), [0.0, 1.0 / p]);
    }
    (k * (-p).ln_1p() + p.ln(), [0.0, -k / (1.0 - p) + 1.0 / p])
}

impl<'t> Distribution<'t> for Geometric<'t> {
    common_items!(NAME, Geometric, [probs]);

    fn is_discrete(&self) -> bool {
        true
    }

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(NAME, self.batch, [value, self.probs], kernel)
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        lp_sum(NAME, self.batch, [value, self.probs], kernel)
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let p = util::bvals(self.probs, self.batch);
        let mut x = Vec::with_capacity(p.len());
        for &pi in &p {
            let d = rand_distr::Geometric::new(pi).map_err(|_| DistError::Sampling {
                dist: NAME,
                reason: "rand_distr rejected the probability",
            })?;
            x.push(rng.sample(d) as f64);
        }
        util::array(self.batch, x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.probs], |[p]| {
            let q = 1.0 - p;
            let xl = |v: f64| if v == 0.0 { 0.0 } else { v * v.ln() };
            let b = -xl(p) - xl(q);
            let db = if q == 0.0 { 0.0 } else { (q / p).ln() };
            (b / p, [db / p - b / (p * p)])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.probs], |[p]| {
            (1.0 / p - 1.0, [-1.0 / (p * p)])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.probs], |[p]| {
            ((1.0 - p) / (p * p), [-2.0 / (p * p * p) + 1.0 / (p * p)])
        })
    }

    fn support(&self) -> Constraint {
        Constraint::NonNegativeInteger
    }
}
