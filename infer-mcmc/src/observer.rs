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
