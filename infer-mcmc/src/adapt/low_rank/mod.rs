//! nutpie's diagonal-plus-low-rank warmup: the schedule of [`FisherWarmup`] with the metric
//! fitted by [`fit_low_rank`](fit::fit_low_rank) from the window's draws and gradients.
//!
//! [`FisherWarmup`]: crate::adapt::FisherWarmup

mod fit;

use rand::Rng;

use super::fisher::FisherSteps;
use super::warmup::Warmup;
use crate::density::LogDensity;
use crate::error::{McmcError, check};
use crate::hamiltonian::Position;
use crate::kernel::Integrator;
use crate::metric::Metric;
use crate::settings::SamplerSettings;
use crate::transition::Transition;

/// The constants of the low-rank fit; the defaults are nuts-rs's (`LowRankSettings`).
///
/// # Examples
///
/// ```
/// use infer_mcmc::McmcError;
/// use infer_mcmc::adapt::LowRankOptions;
///
/// let o = LowRankOptions::default();
/// assert_eq!((o.gamma, o.cutoff), (1e-5, 2.0));
/// let bad = LowRankOptions { cutoff: 1.0, ..o };
/// assert!(matches!(bad.validate(), Err(McmcError::InvalidSetting { name: "cutoff", .. })));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LowRankOptions {
    /// Regularization γ: γ·I is added to the sums of squares of the scaled draws and of the
    /// scaled gradients before their SPD mean is taken. Default 10⁻⁵.
    pub gamma: f64,
    /// Eigenvalue cutoff c: the directions whose variance in the Fisher-scaled space is
    /// above c or below 1/c are kept. Default 2.
    pub cutoff: f64,
}

impl Default for LowRankOptions {
    fn default() -> Self {
        Self {
            gamma: 1e-5,
            cutoff: 2.0,
        }
    }
}

impl LowRankOptions {
    /// Checks γ finite and > 0 and c finite and > 1.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] naming `gamma` or `cutoff`.
    pub fn validate(&self) -> Result<(), McmcError> {
        check(
            self.gamma > 0.0 && self.gamma.is_finite(),
            "gamma",
            self.gamma,
            "finite and > 0",
        )?;
        check(
            self.cutoff > 1.0 && self.cutoff.is_finite(),
            "cutoff",
            self.cutoff,
            "finite and > 1",
        )
    }
}

/// The warmup draws and gradients since the last switch but one (the foreground window);
/// those from `split` on are the background window that replaces it at the next switch.
#[derive(Clone, Debug)]
struct Window {
    dim: usize,
    draws: Vec<f64>,
    grads: Vec<f64>,
    split: usize,
}

impl Window {
    fn new(dim: usize) -> Self {
        Self {
            dim,
            draws: Vec::new(),
            grads: Vec::new(),
            split: 0,
        }
    }

    fn add(&mut self, position: &Position) {
        self.draws.extend_from_slice(position.q());
        self.grads.extend_from_slice(position.grad());
    }

    fn count(&self) -> usize {
        self.draws.len() / self.dim.max(1)
    }

    fn background_count(&self) -> usize {
        self.count() - self.split
    }

    /// The background becomes the foreground; a new background starts empty.
    fn switch(&mut self) {
        let cut = self.split * self.dim;
        self.draws.drain(..cut);
        self.grads.drain(..cut);
        self.split = self.count();
    }
}

/// nutpie's diagonal-plus-low-rank warmup (selected with
/// [`Adaptation::FisherLowRank`](crate::settings::Adaptation::FisherLowRank)).
///
/// - **Start**: the inverse mass 1/|∂ᵢ log p| at the initial point (as
///   [`FisherWarmup`](crate::adapt::FisherWarmup)), then Stan's step-size heuristic.
/// - **Every warmup draw** before the last 15 %: the draw and its gradient join the window
///   (divergent transitions excepted); the window switches as
///   [`FisherWarmup`](crate::adapt::FisherWarmup)'s estimators do (the background, once it
///   holds 10 draws in the first 30 % of the warmup or 80 later, and that many draws remain
///   before the last 15 %, replaces the foreground). At each switch the metric is refitted
///   from the new foreground: the Fisher diagonal D, then in the D^{−1/2}-scaled
///   space the SPD geometric mean of the draws' and the inverse gradients' sums of squares
///   within the span of both (each + γ·I), whose eigenvectors with eigenvalues above c or
///   below 1/c form U (γ and c from [`LowRankOptions`], nuts-rs's 10⁻⁵ and 2 by default).
///   The first refit reruns the step-size heuristic
///   and restarts dual averaging. A refit that fails (non-finite values) keeps the metric.
/// - **The last 15 %**: dual averaging of the step size alone; sampling uses its average.
/// - **Step-size statistic**: dual averaging targets Stan's acceptance statistic until no
///   estimator switch can follow, then the symmetric one
///   ([`Transition::accept_stat_sym`](crate::Transition::accept_stat_sym)), as nuts-rs does;
///   it allows the 3–8 % longer steps nuts-rs settles on (BENCHMARKS.md, session 11).
///
/// The metric is M⁻¹ = D^{1/2} (I + U (Λ − I) Uᵀ) D^{1/2} ([`Metric::low_rank`]): a leapfrog
/// step costs O(d·k) beyond the gradient. A refit costs O(n d min(d, 2n) + min(d, 2n)³) for a
/// window of n draws. nuts-rs also refits every 20 draws between switches, which made its
/// warmup of a 100-dimensional standard normal 35 times slower than its diagonal one
/// (issue 17); here those refits are left out: on `gauss100` a run then costs about 1.6
/// times the Fisher diagonal's, and the ESS per gradient on the benchmark models is within
/// the seed-to-seed spread of refitting every 20 draws or once more at the end of the
/// adaptive phase (`examples/adaptation_benchmark.rs`).
///
/// # Examples
///
/// ```
/// use infer_mcmc::{MetricKind, Sampler, SamplerSettings, models::CorrGauss};
/// use infer_mcmc::settings::Adaptation;
///
/// // Σ = [[1, 0.95], [0.95, 1]]: in the scaled space the directions (1, ±1)/√2 have
/// // variances 1.95 and 0.05; the second is outside (1/2, 2) and is kept.
/// let settings = SamplerSettings { adaptation: Adaptation::FisherLowRank, num_warmup: 400,
///                                  num_samples: 200, num_chains: 1, ..SamplerSettings::default() };
/// let model = CorrGauss::new(vec![1.0, 0.95, 0.95, 1.0], 2)?;
/// let fit = Sampler::new(settings)?.sample_cloned(&model)?;
/// let metric = &fit.chains[0].metric;
/// assert_eq!(metric.kind(), MetricKind::LowRank);
/// let f = metric.low_rank_factors().expect("low rank");
/// assert!(f.eigenvalues.iter().any(|&l| l < 0.5));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # References
///
/// - Seyboldt, A., Carlson, E. & Carpenter, B. (2026), *Preconditioning Hamiltonian Monte
///   Carlo by minimizing Fisher Divergence*, arXiv:2603.18845: the low-rank-plus-diagonal
///   estimator.
/// - nuts-rs (`transform/adapt/low_rank.rs`, `LowRankSettings`, `LowRankNutsSettings`): the
///   regularization γ = 10⁻⁵, the cutoff 2, the refit at each switch.
#[derive(Clone, Debug)]
pub struct LowRankWarmup {
    steps: FisherSteps,
    window: Window,
    gamma: f64,
    cutoff: f64,
}

impl LowRankWarmup {
    /// The schedule for `settings.num_warmup` draws in `dim` dimensions with the
    /// [`LowRankOptions`] of `settings.adapt.low_rank` (what the [`Sampler`](crate::Sampler)
    /// runs); `chain` names the chain in a metric error.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] for invalid dual-averaging settings.
    pub fn new(settings: &SamplerSettings, dim: usize, chain: usize) -> Result<Self, McmcError> {
        Self::with_options(settings, dim, chain, settings.adapt.low_rank)
    }

    /// As [`LowRankWarmup::new`] with the given γ and c.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::SamplerSettings;
    /// use infer_mcmc::adapt::{LowRankOptions, LowRankWarmup};
    ///
    /// let s = SamplerSettings::default();
    /// let options = LowRankOptions { cutoff: 1.5, ..LowRankOptions::default() };
    /// assert!(LowRankWarmup::with_options(&s, 3, 0, options).is_ok());
    /// let bad = LowRankOptions { gamma: -1.0, ..options };
    /// assert!(LowRankWarmup::with_options(&s, 3, 0, bad).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] for invalid dual-averaging settings or options.
    pub fn with_options(
        settings: &SamplerSettings,
        dim: usize,
        chain: usize,
        options: LowRankOptions,
    ) -> Result<Self, McmcError> {
        options.validate()?;
        Ok(Self {
            steps: FisherSteps::new(settings, chain)?,
            window: Window::new(dim),
            gamma: options.gamma,
            cutoff: options.cutoff,
        })
    }

    /// Starts from the diagonal D = `inverse_diagonal` (rank 0) instead of 1/|∂ᵢ log p| at
    /// the initial point (e.g. a Pathfinder estimate,
    /// [`InitStrategy::PathfinderMetric`](crate::settings::InitStrategy::PathfinderMetric));
    /// it is used until the first refit, and the step-size heuristic runs under it.
    /// [`Warmup::start`] reports entries that are not finite and positive
    /// ([`McmcError::NonFiniteMetric`]) or a length other than the dimension.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::adapt::{LowRankWarmup, Warmup};
    /// use infer_mcmc::{Kernel, Metric, MetricKind, Nuts, Position, SamplerSettings, models::Gauss};
    /// use rand::SeedableRng;
    ///
    /// let s = SamplerSettings::default();
    /// let mut model = Gauss::new(2);
    /// let pos = Position::new(&mut model, vec![0.5, -0.5])?;
    /// let mut nuts = Nuts::new(Metric::identity(2, MetricKind::LowRank), 1.0, s.nuts_options())?;
    /// let mut warmup = LowRankWarmup::new(&s, 2, 0)?.with_initial_metric(vec![4.0, 0.25]);
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    /// warmup.start(nuts.integrator_mut(), &mut model, &pos, &mut rng)?;
    /// assert_eq!(nuts.metric().inverse_diagonal(), vec![4.0, 0.25]);
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    #[must_use]
    pub fn with_initial_metric(mut self, inverse_diagonal: Vec<f64>) -> Self {
        self.steps.given_initial = Some(inverse_diagonal);
        self
    }
}

impl Warmup for LowRankWarmup {
    fn start<M: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        integrator: &mut Integrator,
        density: &mut M,
        position: &Position,
        rng: &mut R,
    ) -> Result<(), McmcError> {
        self.window.add(position);
        let diagonal = self.steps.initial_diagonal(position.grad());
        let metric = Metric::low_rank(diagonal, Vec::new(), Vec::new());
        self.steps
            .set_metric(metric, true, integrator, density, position, rng)
            .map(|_| ())
    }

    fn adapt<M: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        iteration: usize,
        transition: &Transition,
        position: &Position,
        integrator: &mut Integrator,
        density: &mut M,
        rng: &mut R,
    ) -> Result<(), McmcError> {
        let schedule = self.steps.schedule;
        if schedule.adapts_metric(iteration) {
            if !transition.divergent {
                self.window.add(position);
            }
            if schedule.switch_due(iteration, self.window.background_count()) {
                self.window.switch();
                let fitted = fit::fit_low_rank(
                    &self.window.draws,
                    &self.window.grads,
                    position.dim(),
                    self.gamma,
                    self.cutoff,
                );
                if let Some(metric) = fitted
                    && self.steps.set_metric(
                        Ok(metric),
                        false,
                        integrator,
                        density,
                        position,
                        rng,
                    )?
                {
                    return Ok(());
                }
            }
        }
        self.steps
            .update_step_size(iteration, transition, integrator)
    }

    fn stage(&self, iteration: usize) -> crate::observer::AdaptStage {
        self.steps.stage(iteration)
    }

    fn finish(&mut self, integrator: &mut Integrator) -> Result<(), McmcError> {
        self.steps.finish(integrator)
    }
}
