//! The log-density contract the samplers work against: f64 values and gradients on ℝⁿ.

use infer_ad::{Tape, Tensor, Var};
use rand::RngCore;

use crate::error::LogDensityError;
use crate::init::{Inits, identity_init_point};
use crate::layout::Layout;

/// A differentiable log density over the unconstrained space ℝⁿ.
///
/// Two methods are required: the dimension and a combined evaluation of log p(x) and its
/// gradient. The log density may omit additive constants. The other methods describe how a
/// draw is *recorded*: by default the recorded values are the unconstrained coordinates
/// themselves, named `x[1]`, …, `x[n]` (1-based, as Stan names them). A model with
/// constrained parameters overrides [`layout`](Self::layout) and
/// [`write_draw`](Self::write_draw) to report, say, `tau` instead of `log tau` (a
/// [`TapeModel`](crate::model::TapeModel) does this from its declarations).
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
/// assert_eq!(model.layout().names(), ["x[1]", "x[2]"]);
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

    /// The recorded quantities: names, shapes and blocks, the single source of the names in
    /// the draws, the summary and the CSV files. Default: one unconstrained vector `x` of
    /// length [`dim`](Self::dim), recorded as `x[1]`, …, `x[n]`.
    fn layout(&self) -> Layout {
        Layout::vector("x", self.dim()).expect("`x` is a valid name")
    }

    /// Writes the recorded values of the draw at unconstrained point `x` into `out`, of
    /// length `self.layout().len()` in the layout's row order; `rng` drives generated
    /// quantities. Default: the coordinates themselves.
    ///
    /// # Errors
    ///
    /// A [`LogDensityError`] when the point cannot be mapped.
    fn write_draw(
        &mut self,
        x: &[f64],
        rng: &mut dyn RngCore,
        out: &mut [f64],
    ) -> Result<(), LogDensityError> {
        let _ = rng;
        out.copy_from_slice(x);
        Ok(())
    }

    /// The unconstrained starting point for named constrained `inits`, parameters not named
    /// drawn uniformly from (−radius, radius) on the unconstrained scale. Default:
    /// [`identity_init_point`] (every parameter on the real line).
    ///
    /// # Errors
    ///
    /// A fatal [`LogDensityError`] naming an unknown parameter, a wrong number of values or
    /// a value outside the support.
    fn init_point(
        &mut self,
        inits: &Inits,
        radius: f64,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f64>, LogDensityError> {
        identity_init_point(&self.layout(), inits, radius, rng)
    }
}

impl<M: LogDensity + ?Sized> LogDensity for &mut M {
    fn dim(&self) -> usize {
        (**self).dim()
    }
    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        (**self).logp_and_grad(x, grad)
    }
    fn layout(&self) -> Layout {
        (**self).layout()
    }
    fn write_draw(
        &mut self,
        x: &[f64],
        rng: &mut dyn RngCore,
        out: &mut [f64],
    ) -> Result<(), LogDensityError> {
        (**self).write_draw(x, rng, out)
    }
    fn init_point(
        &mut self,
        inits: &Inits,
        radius: f64,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f64>, LogDensityError> {
        (**self).init_point(inits, radius, rng)
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

/// A log density that counts its gradient evaluations (the sampler's chains and the
/// approximations of [`crate::approx`]).
pub(crate) struct Counted<'m, M: ?Sized> {
    pub(crate) inner: &'m mut M,
    pub(crate) evals: u64,
}

impl<'m, M: ?Sized> Counted<'m, M> {
    /// Wraps `inner` with a count of 0.
    pub(crate) fn new(inner: &'m mut M) -> Self {
        Self { inner, evals: 0 }
    }
}

impl<M: LogDensity + ?Sized> LogDensity for Counted<'_, M> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        self.evals += 1;
        self.inner.logp_and_grad(x, grad)
    }
    fn layout(&self) -> Layout {
        self.inner.layout()
    }
    fn write_draw(
        &mut self,
        x: &[f64],
        rng: &mut dyn RngCore,
        out: &mut [f64],
    ) -> Result<(), LogDensityError> {
        self.inner.write_draw(x, rng, out)
    }
    fn init_point(
        &mut self,
        inits: &Inits,
        radius: f64,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f64>, LogDensityError> {
        self.inner.init_point(inits, radius, rng)
    }
}

/// The leaves whose gradient one recorded evaluation reads back.
pub(crate) enum TapeInputs<'t> {
    /// One vector leaf holding all coordinates ([`TapeModel`](crate::model::TapeModel)).
    Vector(Tensor<'t>),
    /// The leaves of a [`ParamStore`](infer_ad::ParamStore) bound at the coordinates, in
    /// store order (the seed's step API, [`crate::seed`]).
    Store(infer_ad::Bound<'t>),
}

/// The one tape bridge from a model recorded on an `infer-ad` tape to the f64 [`LogDensity`]
/// contract, shared by [`TapeModel`](crate::model::TapeModel) and [`crate::seed`]: clears
/// `tape` (keeping its buffers), lets `record` bind the coordinates as leaves and record
/// log p, runs one backward pass and writes ∇ log p into `grad`. Returns log p.
pub(crate) fn tape_logp_and_grad<'a>(
    tape: &'a mut Tape,
    grad: &mut [f64],
    record: impl FnOnce(&'a Tape) -> Result<(TapeInputs<'a>, Var<'a>), LogDensityError>,
) -> Result<f64, LogDensityError> {
    tape.clear();
    let (inputs, lp) = record(tape)?;
    lp.backward();
    match &inputs {
        TapeInputs::Vector(y) => y.grad_into(grad),
        TapeInputs::Store(bound) => bound.grad_into_flat(grad),
    }
    Ok(lp.value())
}
