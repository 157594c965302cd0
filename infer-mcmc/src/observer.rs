//! Progress reporting: an observer called after every iteration of every chain.

/// Warmup or sampling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Adaptation iterations (not part of the posterior sample).
    Warmup,
    /// Sampling iterations.
    Sampling,
}

/// What an observer is told after each iteration.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct DrawEvent {
    /// The chain (0-based).
    pub chain: usize,
    /// Iteration within the phase (0-based).
    pub iteration: usize,
    /// Warmup or sampling.
    pub phase: Phase,
    /// Iterations of this phase in total.
    pub phase_len: usize,
    /// Divergent transitions of this chain so far in this phase, this one included.
    pub divergences: usize,
    /// Whether this iteration's transition diverged.
    pub divergent: bool,
    /// The current step size.
    pub step_size: f64,
    /// Where the warmup's adaptation is after this iteration ([`AdaptStage::None`] while
    /// sampling).
    pub stage: AdaptStage,
}

/// The stage of a warmup strategy at an iteration, as progress displays show it.
///
/// # Examples
///
/// ```
/// use infer_mcmc::AdaptStage;
///
/// assert_eq!(AdaptStage::SlowWindow { index: 2, count: 5 }.to_string(), "slow 2/5");
/// assert_eq!(AdaptStage::StepSizeOnly.to_string(), "final");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AdaptStage {
    /// Not adapting (sampling, or a warmup without adaptation).
    #[default]
    None,
    /// Stan's initial fast interval: the step size only, the metric as it started.
    InitialFast,
    /// Stan's slow window `index` (1-based) of `count`: its draws estimate the metric.
    SlowWindow {
        /// The window, 1-based.
        index: usize,
        /// The number of windows.
        count: usize,
    },
    /// The final stretch (Stan's terminal fast interval, nutpie's final 15 %): the step size
    /// only, with the final metric.
    StepSizeOnly,
    /// nutpie's early phase: the metric from draws and gradients, the background estimator
    /// swapped in every 10 draws.
    EarlyMetric,
    /// nutpie's later phase: the same, swapped every 80 draws.
    Metric,
    /// A warmup strategy that does not report its stage.
    Other,
}

impl std::fmt::Display for AdaptStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("-"),
            Self::InitialFast => f.write_str("fast"),
            Self::SlowWindow { index, count } => write!(f, "slow {index}/{count}"),
            Self::StepSizeOnly => f.write_str("final"),
            Self::EarlyMetric => f.write_str("early"),
            Self::Metric => f.write_str("metric"),
            Self::Other => f.write_str("adapt"),
        }
    }
}

/// Called by the sampler after every iteration of every chain, from the chain's thread
/// (hence `Sync`). The default method does nothing.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use infer_mcmc::{DrawEvent, Observer, Phase};
///
/// #[derive(Debug, Default)]
/// struct CountSampling(AtomicUsize);
///
/// impl Observer for CountSampling {
///     fn on_draw(&self, event: &DrawEvent) {
///         if event.phase == Phase::Sampling {
///             self.0.fetch_add(1, Ordering::Relaxed);
///         }
///     }
/// }
/// ```
pub trait Observer: Sync {
    /// One iteration finished.
    fn on_draw(&self, event: &DrawEvent) {
        let _ = event;
    }
}

/// The observer that does nothing (default).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

impl<O: Observer + ?Sized> Observer for &O {
    fn on_draw(&self, event: &DrawEvent) {
        (**self).on_draw(event);
    }
}
