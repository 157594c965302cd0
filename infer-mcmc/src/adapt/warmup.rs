//! Warmup strategies: what tunes a kernel's [`Integrator`] from the warmup transitions.

use rand::Rng;

use super::{DualAveraging, MetricEstimator, WarmupWindows, init_step_size};
use crate::density::LogDensity;
use crate::error::McmcError;
use crate::hamiltonian::Position;
use crate::kernel::Integrator;
use crate::observer::AdaptStage;
use crate::settings::SamplerSettings;
use crate::transition::Transition;

/// A warmup strategy. The [`Sampler`](crate::Sampler) calls [`Warmup::start`] once before
/// the first warmup transition (when there is one), [`Warmup::adapt`] after each, and
/// [`Warmup::finish`] after the last; the strategy sets the step size and metric the
/// sampling phase uses.
///
/// # Examples
///
/// Driving Stan's warmup by hand around a kernel (what the `Sampler` does):
///
/// ```
/// use infer_mcmc::adapt::{StanWarmup, Warmup};
/// use infer_mcmc::{Kernel, Metric, Nuts, Position, SamplerSettings, models::Gauss};
/// use rand::SeedableRng;
///
/// let settings = SamplerSettings { num_warmup: 150, ..SamplerSettings::default() };
/// let mut model = Gauss::new(3);
/// let mut pos = Position::new(&mut model, vec![1.0, -1.0, 0.5])?;
/// let mut nuts = Nuts::new(Metric::identity(3, settings.metric), 1.0, settings.nuts_options())?;
/// let mut warmup = StanWarmup::new(&settings, 3, 0)?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(5);
/// warmup.start(nuts.integrator_mut(), &mut model, &pos, &mut rng)?;
/// for it in 0..settings.num_warmup {
///     let t = nuts.transition(&mut model, &mut pos, &mut rng)?;
///     warmup.adapt(it, &t, &pos, nuts.integrator_mut(), &mut model, &mut rng)?;
/// }
/// warmup.finish(nuts.integrator_mut())?;
/// assert!(nuts.step_size() > 0.3 && nuts.step_size() < 2.5);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
pub trait Warmup {
    /// Prepares the integrator before the first warmup transition (e.g. the step-size
    /// heuristic).
    ///
    /// # Errors
    ///
    /// A failure of the density, or an invalid step size.
    fn start<M: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        integrator: &mut Integrator,
        density: &mut M,
        position: &Position,
        rng: &mut R,
    ) -> Result<(), McmcError>;

    /// Learns from warmup transition number `iteration` (0-based), which ended at
    /// `position`, and retunes the integrator.
    ///
    /// # Errors
    ///
    /// A failure of the density, a metric estimate that is not finite and positive, or an
    /// invalid step size.
    fn adapt<M: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        iteration: usize,
        transition: &Transition,
        position: &Position,
        integrator: &mut Integrator,
        density: &mut M,
        rng: &mut R,
    ) -> Result<(), McmcError>;

    /// The stage of the adaptation after warmup iteration `iteration` (0-based), for
    /// progress displays. Default: [`AdaptStage::Other`].
    fn stage(&self, iteration: usize) -> AdaptStage {
        let _ = iteration;
        AdaptStage::Other
    }

    /// Sets the integrator for the sampling phase after the last warmup transition.
    ///
    /// # Errors
    ///
    /// An invalid final step size.
    fn finish(&mut self, integrator: &mut Integrator) -> Result<(), McmcError>;
}

/// Stan's warmup: the step-size heuristic, dual averaging of the step size toward
/// `target_accept`, and the metric estimated in windows 75 / 25·2ᵏ / 50 (after each metric
/// update the heuristic is rerun and dual averaging restarts with μ = ln(10 ε)); sampling
/// uses the averaged step size.
///
/// # Examples
/// See [`Warmup`].
///
/// # References
///
/// Stan Development Team, *Stan Reference Manual*, "MCMC Sampling", "Adaptation".
#[derive(Clone, Debug)]
pub struct StanWarmup {
    da: DualAveraging,
    windows: WarmupWindows,
    estimator: MetricEstimator,
    /// The slow windows as iteration ranges, for [`Warmup::stage`].
    slow_windows: Vec<(usize, usize)>,
    chain: usize,
}

impl StanWarmup {
    /// Stan's warmup for `settings` (length, target, metric kind, window sizes) in `dim`
    /// dimensions; `chain` names the chain in a metric error.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] for invalid dual-averaging settings.
    pub fn new(settings: &SamplerSettings, dim: usize, chain: usize) -> Result<Self, McmcError> {
        let windows = WarmupWindows::new(
            settings.num_warmup,
            settings.adapt.init_buffer,
            settings.adapt.term_buffer,
            settings.adapt.base_window,
        );
        Ok(Self {
            da: DualAveraging::new(
                settings.dual_averaging_options(),
                settings.initial_step_size,
            )?,
            slow_windows: windows.windows(),
            windows,
            estimator: MetricEstimator::new(settings.metric, dim),
            chain,
        })
    }
}

impl Warmup for StanWarmup {
    fn start<M: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        integrator: &mut Integrator,
        density: &mut M,
        position: &Position,
        rng: &mut R,
    ) -> Result<(), McmcError> {
        heuristic_step_size(integrator, density, position, rng).map(|_| ())
    }

    fn adapt<M: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        _iteration: usize,
        transition: &Transition,
        position: &Position,
        integrator: &mut Integrator,
        density: &mut M,
        rng: &mut R,
    ) -> Result<(), McmcError> {
        let eps = self.da.update(transition.accept_stat);
        integrator.set_step_size(eps)?;
        let (add, end) = self.windows.advance();
        if add {
            self.estimator.add(position.q());
        }
        if end {
            let metric = self
                .estimator
                .metric()
                .map_err(|e| metric_error(self.chain, e))?;
            self.estimator.reset();
            integrator.set_metric(metric)?;
            restart_step_size(&mut self.da, integrator, density, position, rng)?;
        }
        Ok(())
    }

    fn stage(&self, iteration: usize) -> AdaptStage {
        let count = self.slow_windows.len();
        match self
            .slow_windows
            .iter()
            .position(|&(_, end)| iteration < end)
        {
            _ if count == 0 => AdaptStage::StepSizeOnly,
            Some(0) if iteration < self.slow_windows[0].0 => AdaptStage::InitialFast,
            Some(w) => AdaptStage::SlowWindow {
                index: w + 1,
                count,
            },
            None => AdaptStage::StepSizeOnly,
        }
    }

    fn finish(&mut self, integrator: &mut Integrator) -> Result<(), McmcError> {
        integrator.set_step_size(self.da.final_step_size())
    }
}

/// Stan's step-size heuristic at the integrator's metric and step size; sets and returns the
/// step size it finds.
pub(crate) fn heuristic_step_size<M: LogDensity + ?Sized, R: Rng + ?Sized>(
    integrator: &mut Integrator,
    density: &mut M,
    position: &Position,
    rng: &mut R,
) -> Result<f64, McmcError> {
    let eps = init_step_size(
        density,
        position,
        integrator.metric(),
        integrator.step_size(),
        rng,
    )?;
    integrator.set_step_size(eps)?;
    Ok(eps)
}

/// The heuristic step size after a metric update, and dual averaging restarted from it
/// (μ = ln 10ε), as Stan does at the end of each metric window.
pub(crate) fn restart_step_size<M: LogDensity + ?Sized, R: Rng + ?Sized>(
    da: &mut DualAveraging,
    integrator: &mut Integrator,
    density: &mut M,
    position: &Position,
    rng: &mut R,
) -> Result<(), McmcError> {
    let eps = heuristic_step_size(integrator, density, position, rng)?;
    da.set_mu_from(eps);
    da.restart();
    Ok(())
}

/// A metric estimate that is not finite and positive, reported as the chain's.
pub(crate) fn metric_error(chain: usize, e: McmcError) -> McmcError {
    match e {
        McmcError::InvalidSetting { .. } | McmcError::InvalidMetric { .. } => {
            McmcError::NonFiniteMetric { chain }
        }
        other => other,
    }
}
