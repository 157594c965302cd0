//! The Delta distribution: a point mass (used for MAP estimation).

use crate::elementwise::prelude::*;

crate::bind::family! {
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
    pub struct Delta / DeltaK: Reparameterizable {
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
        new(value: Check::FINITE),
    }
}

impl<'t> Elementwise<'t> for DeltaK<'t> {
    fn density([x, v]: [f64; 2]) -> (f64, [f64; 2]) {
        if x == v {
            (0.0, [0.0; 2])
        } else if x.is_nan() {
            (f64::NAN, [0.0; 2])
        } else {
            util::neg_inf()
        }
    }

    fn draw([_, v]: [f64; 2], _rng: &mut dyn rand::RngCore) -> Result<f64, DistError> {
        Ok(v)
    }

    fn rsample(&self, _rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        Ok(self.value)
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.value)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.value.map_with_derivative(|_| (0.0, 0.0)))
    }
}

