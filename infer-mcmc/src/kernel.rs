//! What every Hamiltonian transition kernel shares: the [`Integrator`] state warmup tunes (the
//! metric and the step size) and the [`Kernel`] trait through which the [`Sampler`] and the
//! warmup strategies drive [`Nuts`] and [`StaticHmc`] alike.
//!
//! [`Sampler`]: crate::Sampler
//! [`Nuts`]: crate::Nuts
//! [`StaticHmc`]: crate::StaticHmc

use rand::Rng;

use crate::density::LogDensity;
use crate::error::{McmcError, check};
use crate::hamiltonian::Position;
use crate::metric::Metric;
use crate::transition::Transition;

/// The leapfrog integrator's tunable state: the metric (inverse mass matrix) and the step
/// size, validated on every change.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{Integrator, Metric, MetricKind};
///
/// let mut i = Integrator::new(Metric::identity(2, MetricKind::Diagonal), 0.5)?;
/// i.set_step_size(0.25)?;
/// assert_eq!(i.step_size(), 0.25);
/// assert!(i.set_step_size(f64::NAN).is_err());
/// assert!(i.set_metric(Metric::identity(3, MetricKind::Diagonal)).is_err());
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Integrator {
    metric: Metric,
    step_size: f64,
}

impl Integrator {
    /// An integrator with the given metric and step size.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] for a step size that is not finite and positive;
    /// [`McmcError::ZeroDimension`] for a 0-dimensional metric.
    pub fn new(metric: Metric, step_size: f64) -> Result<Self, McmcError> {
        check_step_size(step_size)?;
        if metric.dim() == 0 {
            return Err(McmcError::ZeroDimension);
        }
        Ok(Self { metric, step_size })
    }

    /// The dimension.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.metric.dim()
    }

    /// The current step size.
    #[must_use]
    pub fn step_size(&self) -> f64 {
        self.step_size
    }

    /// Sets the step size.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] unless finite and positive.
    pub fn set_step_size(&mut self, step_size: f64) -> Result<(), McmcError> {
        check_step_size(step_size)?;
        self.step_size = step_size;
        Ok(())
    }

    /// The current metric.
    #[must_use]
    pub fn metric(&self) -> &Metric {
        &self.metric
    }

    /// Replaces the metric (same dimension).
    ///
    /// # Errors
    ///
    /// [`McmcError::DimensionMismatch`] if the dimension differs.
    pub fn set_metric(&mut self, metric: Metric) -> Result<(), McmcError> {
        if metric.dim() != self.metric.dim() {
            return Err(McmcError::DimensionMismatch {
                name: "metric",
                expected: self.metric.dim(),
                found: metric.dim(),
            });
        }
        self.metric = metric;
        Ok(())
    }
}

/// A Hamiltonian Markov transition kernel: one transition from a position, and the
/// [`Integrator`] that warmup adapts. The setters are provided once, here.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{FnDensity, Kernel, Metric, MetricKind, Nuts, NutsOptions, Position};
/// use rand::SeedableRng;
///
/// fn run<K: Kernel>(kernel: &mut K) -> Result<f64, infer_mcmc::McmcError> {
///     let mut model = FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
///         g[0] = -x[0];
///         Ok(-0.5 * x[0] * x[0])
///     });
///     let mut pos = Position::new(&mut model, vec![0.5])?;
///     let mut rng = rand::rngs::StdRng::seed_from_u64(1);
///     kernel.set_step_size(0.8)?;
///     Ok(kernel.transition(&mut model, &mut pos, &mut rng)?.accept_stat)
/// }
/// let mut nuts = Nuts::new(Metric::identity(1, MetricKind::Diagonal), 1.0, NutsOptions::default())?;
/// assert!(run(&mut nuts)? <= 1.0);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
pub trait Kernel {
    /// One transition from `position`, which is moved to the selected state.
    ///
    /// # Errors
    ///
    /// [`McmcError::DimensionMismatch`] if the position or density does not match the
    /// metric's dimension; [`McmcError::NonFiniteStart`] if the position's log p is not
    /// finite; [`McmcError::LogDensity`] for a fatal density failure (the position is then
    /// unchanged).
    fn transition<M: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        density: &mut M,
        position: &mut Position,
        rng: &mut R,
    ) -> Result<Transition, McmcError>;

    /// The integrator state.
    fn integrator(&self) -> &Integrator;

    /// The integrator state, mutably.
    fn integrator_mut(&mut self) -> &mut Integrator;

    /// The current step size.
    fn step_size(&self) -> f64 {
        self.integrator().step_size()
    }

    /// Sets the step size.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] unless finite and positive.
    fn set_step_size(&mut self, step_size: f64) -> Result<(), McmcError> {
        self.integrator_mut().set_step_size(step_size)
    }

    /// The current metric.
    fn metric(&self) -> &Metric {
        self.integrator().metric()
    }

    /// Replaces the metric (same dimension).
    ///
    /// # Errors
    ///
    /// [`McmcError::DimensionMismatch`] if the dimension differs.
    fn set_metric(&mut self, metric: Metric) -> Result<(), McmcError> {
        self.integrator_mut().set_metric(metric)
    }
}

/// Checks a step size: finite and > 0.
pub(crate) fn check_step_size(step_size: f64) -> Result<(), McmcError> {
    check(
        step_size > 0.0 && step_size.is_finite(),
        "step_size",
        step_size,
        "finite and > 0",
    )
}

/// Checks that the density and the position match the kernel's dimension and that the
/// position's log p is finite.
pub(crate) fn check_dims(
    dim: usize,
    density_dim: usize,
    position: &Position,
) -> Result<(), McmcError> {
    if density_dim != dim {
        return Err(McmcError::DimensionMismatch {
            name: "density",
            expected: dim,
            found: density_dim,
        });
    }
    if position.dim() != dim {
        return Err(McmcError::DimensionMismatch {
            name: "position",
            expected: dim,
            found: position.dim(),
        });
    }
    if !position.logp.is_finite() {
        return Err(McmcError::NonFiniteStart {
            logp: position.logp,
        });
    }
    Ok(())
}
