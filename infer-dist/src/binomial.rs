//! The binomial distribution.

use crate::gamma::xlogy;
use crate::util::{self, PROB, accessors, check, common_items, lp_map, lp_sum, param_map, prob};
use crate::{Constraint, DistError, Distribution, IntoTensor};
use infer_ad::scalar::lgamma;
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;
use rand::Rng;

const NAME: &str = "Binomial";

/// The binomial distribution: successes in n = `total_count` trials with probability p:
///
/// ln P(k) = ln C(n, k) + k ln p + (n − k) ln(1 − p), k ∈ {0, …, n}; −∞ elsewhere.
///
/// Entropy −Σₖ P(k) ln P(k) (summed over the support, as PyTorch); mean np; variance
/// np(1 − p). `total_count` is a count: no gradient flows to it. Not reparameterizable.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Binomial, Distribution};
/// let tape = Tape::new();
/// let d = Binomial::new(tape.constant(&ndarray::arr0(2.0)), tape.var(0.5))?;
/// let lp = d.log_prob(tape.constant(&ndarray::arr0(1.0)))?;
/// assert!((lp.to_vec()[0] - 0.5f64.ln()).abs() < 1e-15);
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// PyTorch, `torch.distributions.Binomial`.
#[derive(Debug, Clone, Copy)]
pub struct Binomial<'t> {
    total_count: Tensor<'t>,
    probs: Tensor<'t>,
    batch: Shape,
}

impl<'t> Binomial<'t> {
    /// A binomial distribution.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a `total_count` that is not a finite non-negative
    /// integer or a probability outside [0, 1]; [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Binomial::new(tape.var(2.5), tape.var(0.5)).is_err());
    /// ```
    #[inline]
    pub fn new(
        total_count: impl IntoTensor<'t>,
        probs: impl IntoTensor<'t>,
    ) -> Result<Self, DistError> {
        let (total_count, probs) = (total_count.into_tensor(), probs.into_tensor());
        check(
            NAME,
            "total_count",
            total_count,
            |n| n >= 0.0 && n.is_finite() && n.fract() == 0.0 && n < 9.0e15,
            "must be a non-negative integer",
        )?;
        check(NAME, "probs", probs, prob, PROB)?;
        let batch = util::batch(NAME, &[total_count, probs])?;
        Ok(Binomial {
            total_count,
            probs,
            batch,
        })
    }

    accessors!(total_count, probs);
}

fn kernel([k, n, p]: [f64; 3]) -> (f64, [f64; 3]) {
    if !(k >= 0.0 && k <= n && k.fract() == 0.0) {
        return if k.is_nan() {
            (f64::NAN, [0.0; 3])
        } else {
            util::neg_inf()
        };
    }
    let lc = lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0);
    let dp =
        (if k == 0.0 { 0.0 } else { k / p }) - (if k == n { 0.0 } else { (n - k) / (1.0 - p) });
    (lc + xlogy(k, p) + xlogy(n - k, 1.0 - p), [0.0, 0.0, dp])
}

impl<'t> Distribution<'t> for Binomial<'t> {
    common_items!(NAME, Binomial, [total_count, probs]);

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
        let n = util::bvals(self.total_count, self.batch);
        let p = util::bvals(self.probs, self.batch);
        let mut x = Vec::with_capacity(n.len());
        for i in 0..n.len() {
            let d =
                rand_distr::Binomial::new(n[i] as u64, p[i]).map_err(|_| DistError::Sampling {
                    dist: NAME,
                    reason: "rand_distr rejected the parameters",
                })?;
            x.push(rng.sample(d) as f64);
        }
        util::array(self.batch, x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.total_count, self.probs], |[n, p]| {
            let (mut h, mut dh) = (0.0, 0.0);
            let mut k = 0.0;
            while k <= n {
                let (lp, [_, _, dp]) = kernel([k, n, p]);
                if lp > f64::NEG_INFINITY {
                    let f = lp.exp();
                    h -= f * lp;
                    // d(−f ln f)/dp = −(ln f + 1) f dp, and Σ f dp = 0
                    dh -= lp * f * dp;
                }
                k += 1.0;
            }
            (h, [0.0, dh])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.total_count, self.probs], |[n, p]| {
            (n * p, [0.0, n])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.total_count, self.probs], |[n, p]| {
            (n * p * (1.0 - p), [0.0, n * (1.0 - 2.0 * p)])
        })
    }

    fn support(&self) -> Constraint {
        let high = self.total_count.to_vec().into_iter().fold(0.0, f64::max);
        Constraint::IntegerInterval { low: 0.0, high }
    }
}
