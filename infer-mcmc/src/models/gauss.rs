//! Independent standard normal in n dimensions (`gauss100` for n = 100).

use crate::density::LogDensity;
use crate::error::LogDensityError;

/// x ∈ ℝⁿ, x ~ N(0, I): log p(x) = −½ xᵀx, ∇ log p = −x.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{LogDensity, models::Gauss};
///
/// let mut m = Gauss::new(100);
/// let mut g = vec![0.0; 100];
/// assert_eq!(m.logp_and_grad(&vec![1.0; 100], &mut g)?, -50.0);
/// assert_eq!(g[7], -1.0);
/// # Ok::<(), infer_mcmc::LogDensityError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Gauss {
    dim: usize,
}

impl Gauss {
    /// The standard normal in `dim` dimensions.
    #[must_use]
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
}

impl LogDensity for Gauss {
    fn dim(&self) -> usize {
        self.dim
    }

    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        let mut s = 0.0;
        for (g, &v) in grad.iter_mut().zip(x) {
            *g = -v;
            s += v * v;
        }
        Ok(-0.5 * s)
    }
}
