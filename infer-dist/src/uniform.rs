//! The continuous uniform distribution.

use crate::util::{
    self, FINITE, accessors, check, common_items, finite, lp_map, lp_sum, param_map,
    reparameterizable,
};
use crate::{Constraint, DistError, Distribution, IntoTensor, Reparameterizable};
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "Uniform";

/// The uniform distribution on [low, high):
///
/// ln p(x) = −ln(high − low) for low ≤ x < high, −∞ elsewhere (PyTorch's half-open support).
///
/// Entropy ln(high − low); mean (low + high)/2; variance (high − low)²/12; cdf
/// clamp((x − low)/(high − low), 0, 1); pathwise draws low + (high − low)u. The value gradient
/// of log_prob is 0.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, Uniform};
/// let tape = Tape::new();
/// let d = Uniform::new(tape.var(0.0), tape.var(4.0))?;
/// let lp = d.log_prob(tape.constant(&ndarray::array![1.0, 5.0]))?;
/// assert_eq!(lp.to_vec(), vec![-(4f64.ln()), f64::NEG_INFINITY]);
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// PyTorch, `torch.distributions.Uniform`.
#[derive(Debug, Clone, Copy)]
pub struct Uniform<'t> {
    low: Tensor<'t>,
    high: Tensor<'t>,
    batch: Shape,
}

impl<'t> Uniform<'t> {
    /// A uniform distribution on [low, high).
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for non-finite bounds or `high ≤ low` (reported on
    /// `high`); [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Uniform::new(tape.var(1.0), tape.var(1.0)).is_err());
    /// ```
    #[inline]
    pub fn new(low: impl IntoTensor<'t>, high: impl IntoTensor<'t>) -> Result<Self, DistError> {
        let (low, high) = (low.into_tensor(), high.into_tensor());
        check(NAME, "low", low, finite, FINITE)?;
        check(NAME, "high", high, finite, FINITE)?;
        let batch = util::batch(NAME, &[low, high])?;
        let (l, h) = (util::bvals(low, batch), util::bvals(high, batch));
        for i in 0..l.len() {
            if !(h[i] > l[i]) {
                return Err(DistError::InvalidParameter {
                    dist: NAME,
                    param: "high",
                    value: h[i],
                    reason: "must be > low",
                });
            }
        }
        Ok(Uniform { low, high, batch })
    }

    accessors!(low, high);
}

fn kernel([x, l, h]: [f64; 3]) -> (f64, [f64; 3]) {
    if !(x >= l && x < h) {
        return if x.is_nan() {
            (f64::NAN, [0.0; 3])
        } else {
            util::neg_inf()
        };
    }
    let r = 1.0 / (h - l);
    (-(h - l).ln(), [0.0, r, -r])
}

impl<'t> Distribution<'t> for Uniform<'t> {
    common_items!(NAME, Uniform, [low, high]);
    reparameterizable!();

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(NAME, self.batch, [value, self.low, self.high], kernel)
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        lp_sum(NAME, self.batch, [value, self.low, self.high], kernel)
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let u = util::uniforms(rng, self.batch.numel());
        let l = util::bvals(self.low, self.batch);
        let h = util::bvals(self.high, self.batch);
        util::array(
            self.batch,
            (0..u.len()).map(|i| l[i] + (h[i] - l[i]) * u[i]).collect(),
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.low, self.high], |[l, h]| {
            let r = 1.0 / (h - l);
            ((h - l).ln(), [-r, r])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.low, self.high], |[l, h]| {
            (0.5 * (l + h), [0.5, 0.5])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.low, self.high], |[l, h]| {
            let w = h - l;
            (w * w / 12.0, [-w / 6.0, w / 6.0])
        })
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.low, self.high],
            |[x, l, h]| {
                let w = h - l;
                let c = (x - l) / w;
                if c <= 0.0 {
                    (0.0, [0.0; 3])
                } else if c >= 1.0 {
                    (1.0, [0.0; 3])
                } else {
                    (c, [1.0 / w, (x - h) / (w * w), -(x - l) / (w * w)])
                }
            },
        )
    }

    fn support(&self) -> Constraint {
        let low = self.low.to_vec().into_iter().fold(f64::INFINITY, f64::min);
        let high = self
            .high
            .to_vec()
            .into_iter()
            .fold(f64::NEG_INFINITY, f64::max);
        Constraint::Interval { low, high }
    }
}

impl<'t> Reparameterizable<'t> for Uniform<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.low.tape();
        let u = util::constant(tape, self.batch, util::uniforms(rng, self.batch.numel()))?;
        Ok(tape.fused_map([self.low, self.high, u], |_, [l, h, u]| {
            (l + (h - l) * u, [1.0 - u, u, 0.0])
        })?)
    }
}
