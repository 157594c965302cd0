//! The Delta distribution: a point mass (used for MAP estimation).

use crate::util::{self, FINITE, check, finite, lp_map, lp_sum};
use crate::{Constraint, DistError, Distribution, Family, IntoTensor, Reparameterizable};
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "Delta";

/// A point mass at v: ln p(x) = 0 if x = v, −∞ otherwise (with gradient 0).
///
/// Used for maximum a posteriori estimation: a Delta guide's `rsample` returns v itself, so a
/// loss built from it optimizes v directly. Mean v; variance 0. No entropy.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Delta, Distribution, Reparameterizable};
/// use rand::SeedableRng;
/// let tape = Tape::new();
/// let v = tape.var(1.5);
/// let d = Delta::new(v)?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let x = d.rsample(&mut rng)?;
/// x.sum().backward();
/// assert_eq!(v.grad(), 1.0);
/// assert_eq!(d.log_prob(tape.constant(&ndarray::arr0(2.0)))?.to_vec(), vec![f64::NEG_INFINITY]);
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// Pyro, `pyro.distributions.Delta`; PyTorch's `torch.distributions` has no Delta.
#[derive(Debug, Clone, Copy)]
pub struct Delta<'t> {
    value: Tensor<'t>,
    batch: Shape,
}

impl<'t> Delta<'t> {
    /// A point mass at `value`.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a non-finite element.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Delta::new(tape.var(f64::NAN)).is_err());
    /// ```
    #[inline]
    pub fn new(value: impl IntoTensor<'t>) -> Result<Self, DistError> {
        let value = value.into_tensor();
        check(NAME, "value", value, finite, FINITE)?;
        Ok(Delta {
            value,
            batch: value.shape(),
        })
    }

    /// The location of the point mass.
    pub fn value(&self) -> Tensor<'t> {
        self.value
    }
}

fn kernel([x, v]: [f64; 2]) -> (f64, [f64; 2]) {
    if x == v {
        (0.0, [0.0; 2])
    } else if x.is_nan() {
        (f64::NAN, [0.0; 2])
    } else {
        util::neg_inf()
    }
}

impl<'t> Distribution<'t> for Delta<'t> {
    fn name(&self) -> &'static str {
        NAME
    }

    fn batch_shape(&self) -> Shape {
        self.batch
    }

    fn family(&self) -> Family<'_, 't> {
        Family::Delta(self)
    }

    fn params(&self) -> Vec<(&'static str, crate::Param<'t>)> {
        vec![("value", crate::Param::Tensor(self.value))]
    }

    fn as_reparameterizable(&self) -> Option<&dyn Reparameterizable<'t>> {
        Some(self)
    }

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(NAME, self.batch, [value, self.value], kernel)
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        lp_sum(NAME, self.batch, [value, self.value], kernel)
    }

    fn sample(&self, _rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        util::draws(NAME, self.batch, self.value.to_vec())
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.value)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.value.map_with_derivative(|_| (0.0, 0.0)))
    }

    fn support(&self) -> Constraint {
        Constraint::Real
    }
}

impl<'t> Reparameterizable<'t> for Delta<'t> {
    fn rsample(&self, _rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        Ok(self.value)
    }
}
