//! The log-density contract the samplers work against: f64 values and gradients on ℝⁿ.

use crate::error::LogDensityError;

/// A differentiable log density over the unconstrained space ℝⁿ.
///
/// Two methods are required: the dimension and a combined evaluation of log p(x) and its
/// gradient. The log density may omit additive constants. The other methods describe how a
/// draw is *recorded*: by default the recorded values are the unconstrained coordinates
/// themselves, named `x[1]`, …, `x[n]` (1-based, as Stan names them). A model with
/// constrained parameters overrides [`param_names`](Self::param_names) and
/// [`write_constrained`](Self::write_constrained) to report, say, `tau` instead of `log tau`.
///
/// # Failure contract
///
/// - `Ok(v)` with a non-finite `v` (NaN, ±∞) is treated like
///   [`LogDensityError::Recoverable`]: inside a trajectory it is a divergence.
/// - `Err(LogDensityError::Recoverable { .. })`: divergence inside a trajectory, another
///   attempt during initialization.
/// - `Err(LogDensityError::Fatal { .. })`: the chain stops and returns the error.
///
/// A sampler owns one instance per chain and calls it from that chain's thread only.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{LogDensity, LogDensityError};
///
/// /// Standard normal in two dimensions.
/// #[derive(Debug)]
/// struct Normal2;
///
/// impl LogDensity for Normal2 {
///     fn dim(&self) -> usize {
///         2
///     }
///     fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
///         grad[0] = -x[0];
///         grad[1] = -x[1];
///         Ok(-0.5 * (x[0] * x[0] + x[1] * x[1]))
///     }
/// }
///
/// let mut model = Normal2;
/// let mut grad = [0.0; 2];
/// let lp = model.logp_and_grad(&[1.0, 2.0], &mut grad)?;
/// assert_eq!(lp, -2.5);
/// assert_eq!(grad, [-1.0, -2.0]);
/// assert_eq!(model.param_names(), ["x[1]", "x[2]"]);
/// # Ok::<(), LogDensityError>(())
/// ```
pub trait LogDensity {
    /// Dimension n of the unconstrained space.
    fn dim(&self) -> usize;

    /// Evaluates log p(x) (up to an additive constant) and writes ∇ log p(x) into `grad`.
    ///
    /// `x` and `grad` both have length [`dim`](Self::dim).
    ///
    /// # Errors
    ///
    /// A [`LogDensityError`] saying whether the failure is recoverable.
    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError>;

    /// Names of the recorded quantities, one per value written by
    /// [`write_constrained`](Self::write_constrained). Default: `x[1]`, …, `x[n]`.
    fn param_names(&self) -> Vec<String> {
        (1..=self.dim()).map(|i| format!("x[{i}]")).collect()
    }

    /// Number of recorded values per draw. Default: [`dim`](Self::dim).
    fn constrained_dim(&self) -> usize {
        self.dim()
    }

    /// Maps an unconstrained point to the recorded (constrained) values, writing
    /// [`constrained_dim`](Self::constrained_dim) values into `out`. Default: the identity.
    ///
    /// # Errors
    ///
    /// A fatal [`LogDensityError`] if the transform fails.
    fn write_constrained(&self, x: &[f64], out: &mut [f64]) -> Result<(), LogDensityError> {
        out.copy_from_slice(x);
        Ok(())
    }
}

impl<M: LogDensity + ?Sized> LogDensity for &mut M {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        (**self).logp_and_grad(x, grad)
    }
    fn param_names(&self) -> Vec<String> {
        (**self).param_names()
    }
    fn constrained_dim(&self) -> usize {
        (**self).constrained_dim()
    }
    fn write_constrained(&self, x: &[f64], out: &mut [f64]) -> Result<(), LogDensityError> {
        (**self).write_constrained(x, out)
    }
}

/// A [`LogDensity`] made of a dimension and a closure `FnMut(&[f64], &mut [f64]) ->
/// Result<f64, LogDensityError>`.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{FnDensity, LogDensity, LogDensityError};
///
/// let mut model = FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
///     g[0] = -x[0];
///     Ok(-0.5 * x[0] * x[0])
/// });
/// let mut g = [0.0];
/// assert_eq!(model.logp_and_grad(&[2.0], &mut g)?, -2.0);
/// # Ok::<(), LogDensityError>(())
/// ```
#[derive(Clone)]
pub struct FnDensity<F> {
    dim: usize,
    f: F,
}

impl<F> FnDensity<F>
where
    F: FnMut(&[f64], &mut [f64]) -> Result<f64, LogDensityError>,
{
    /// Wraps a closure computing log p and its gradient over ℝ^`dim`.
    pub fn new(dim: usize, f: F) -> Self {
        Self { dim, f }
    }
}

impl<F> std::fmt::Debug for FnDensity<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnDensity")
            .field("dim", &self.dim)
            .finish_non_exhaustive()
    }
}

impl<F> LogDensity for FnDensity<F>
where
    F: FnMut(&[f64], &mut [f64]) -> Result<f64, LogDensityError>,
{
    fn dim(&self) -> usize {
        self.dim
    }
    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        (self.f)(x, grad)
    }
}
