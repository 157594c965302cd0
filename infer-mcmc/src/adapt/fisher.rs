//! The gradient-informed diagonal warmup of nutpie (Seyboldt, Carlson & Carpenter,
//! arXiv:2603.18845): the inverse mass matrix σ² = √(Var(x) / Var(∇ log p)), the diagonal
//! that minimizes the sample Fisher divergence between the draws and a Gaussian, updated after
//! every warmup draw from a foreground estimator that a background one replaces on a schedule.

use rand::Rng;

use super::warmup::{metric_error, restart_step_size};
use super::{DualAveraging, WelfordVariance};
use crate::density::LogDensity;
use crate::error::McmcError;
use crate::hamiltonian::Position;
use crate::kernel::Integrator;
use crate::metric::Metric;
use crate::observer::AdaptStage;
use crate::settings::SamplerSettings;
use crate::transition::Transition;

use super::warmup::Warmup;

/// Fraction of the warmup in the early phase, when the background estimator replaces the
/// foreground one every [`EARLY_SWITCH`] draws (nutpie's `early_window`).
const EARLY_FRACTION: f64 = 0.3;
/// Fraction of the warmup at its end that adapts the step size only (nutpie's
/// `step_size_window`).
const STEP_SIZE_FRACTION: f64 = 0.15;
/// Draws in the background estimator before it replaces the foreground one, early ...
const EARLY_SWITCH: usize = 10;
/// ... and later (nutpie's `early_mass_matrix_switch_freq`, `mass_matrix_switch_freq`).
const LATE_SWITCH: usize = 80;
/// Draws the foreground estimator needs before the metric is taken from it.
const MIN_DRAWS: usize = 3;
/// The range an inverse-mass entry is clamped to.
const CLAMP: (f64, f64) = (1e-20, 1e20);

/// The estimators of Var(x) and Var(∇ log p) over the same draws.
#[derive(Clone, Debug)]
struct DrawGrad {
    draws: WelfordVariance,
    grads: WelfordVariance,
}

impl DrawGrad {
    fn new(dim: usize) -> Self {
        Self {
            draws: WelfordVariance::new(dim),
            grads: WelfordVariance::new(dim),
        }
    }

    fn add(&mut self, position: &Position) {
        self.draws.add(position.q());
        self.grads.add(position.grad());
    }

    fn count(&self) -> usize {
        self.draws.count()
    }

    /// √(Var(xᵢ) / Var(∂ᵢ log p)), clamped; 1 where the ratio is not a number (a coordinate
    /// that has not moved, or whose gradient has not).
    fn metric(&self) -> Result<Metric, McmcError> {
        let (vx, vg) = (self.draws.variance(), self.grads.variance());
        Metric::diagonal(
            vx.iter()
                .zip(&vg)
                .map(|(&x, &g)| fisher_entry(x, g))
                .collect(),
        )
    }
}

/// nutpie's schedule, shared by the Fisher diagonal and its low-rank extension: an early phase
/// (the first 30 % of the warmup) with an estimator swap every [`EARLY_SWITCH`] draws, a later
/// one swapping every [`LATE_SWITCH`], and a final step-size-only stretch (the last 15 %).
#[derive(Clone, Copy, Debug)]
pub(super) struct Schedule {
    /// First draw after the early phase.
    early_end: usize,
    /// First draw of the final step-size-only stretch.
    final_start: usize,
}

impl Schedule {
    /// The schedule of `num_warmup` draws.
    pub(super) fn new(num_warmup: usize) -> Self {
        let nf = num_warmup as f64;
        Self {
            early_end: (EARLY_FRACTION * nf) as usize,
            final_start: num_warmup - (STEP_SIZE_FRACTION * nf) as usize,
        }
    }

    /// Whether draw `iteration` still adapts the metric (it is before the final stretch).
    pub(super) fn adapts_metric(self, iteration: usize) -> bool {
        iteration < self.final_start
    }

    /// Whether the background estimator, holding `background` draws after draw `iteration`,
    /// replaces the foreground one: it holds the phase's switch count and that many draws
    /// remain before the final stretch.
    pub(super) fn switch_due(self, iteration: usize, background: usize) -> bool {
        let switch = if iteration < self.early_end {
            EARLY_SWITCH
        } else {
            LATE_SWITCH
        };
        background >= switch && iteration + switch <= self.final_start
    }

    /// Whether draw `iteration` is late: no switch of estimators can follow it (fewer draws
    /// than the phase's switch count remain before the final stretch, or it is in the final
    /// stretch). Late draws adapt the step size to the symmetric acceptance statistic, as
    /// nuts-rs does (its `update_estimator_late`).
    pub(super) fn late(self, iteration: usize) -> bool {
        let switch = if iteration < self.early_end {
            EARLY_SWITCH
        } else {
            LATE_SWITCH
        };
        iteration + switch > self.final_start
    }

    /// The acceptance statistic the step size is adapted to after draw `iteration`: Stan's
    /// before the late draws, the symmetric one from then on.
    pub(super) fn accept_stat(self, iteration: usize, transition: &Transition) -> f64 {
        if self.late(iteration) {
            transition.accept_stat_sym
        } else {
            transition.accept_stat
        }
    }

    /// The stage at `iteration`, for progress displays.
    pub(super) fn stage(self, iteration: usize) -> AdaptStage {
        if iteration >= self.final_start {
            AdaptStage::StepSizeOnly
        } else if iteration < self.early_end {
            AdaptStage::EarlyMetric
        } else {
            AdaptStage::Metric
        }
    }
}

/// What the Fisher diagonal and the low-rank warmups share: the [`Schedule`], dual averaging of
/// the step size (restarted once, when the first estimated metric replaces the one from the
/// initial gradient) and the chain's number for metric errors.
#[derive(Clone, Debug)]
pub(super) struct FisherSteps {
    da: DualAveraging,
    pub(super) schedule: Schedule,
    /// Whether the metric is still the one from the initial gradient.
    initial_metric: bool,
    /// The initial inverse metric (diagonal) to use instead of the one from the gradient.
    pub(super) given_initial: Option<Vec<f64>>,
    chain: usize,
}

impl FisherSteps {
    /// The schedule and dual averaging of `settings` for chain `chain`.
    pub(super) fn new(settings: &SamplerSettings, chain: usize) -> Result<Self, McmcError> {
        Ok(Self {
            da: DualAveraging::new(
                settings.dual_averaging_options(),
                settings.initial_step_size,
            )?,
            schedule: Schedule::new(settings.num_warmup),
            initial_metric: true,
            given_initial: None,
            chain,
        })
    }

    /// The initial inverse metric (diagonal): the given one, else 1/|∂ᵢ log p| at the
    /// initial point ([`gradient_diagonal`]).
    pub(super) fn initial_diagonal(&mut self, grad: &[f64]) -> Vec<f64> {
        self.given_initial
            .take()
            .unwrap_or_else(|| gradient_diagonal(grad))
    }

    /// Installs `metric` (an error in it is reported as the chain's). The metric from the
    /// initial gradient (`at_start`) and the first estimated one then rerun the step-size
    /// heuristic and restart dual averaging. Returns whether they did (a transition's
    /// step-size update is then skipped).
    pub(super) fn set_metric<M: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        metric: Result<Metric, McmcError>,
        at_start: bool,
        integrator: &mut Integrator,
        density: &mut M,
        position: &Position,
        rng: &mut R,
    ) -> Result<bool, McmcError> {
        let metric = metric.map_err(|e| metric_error(self.chain, e))?;
        integrator.set_metric(metric)?;
        let restart = if at_start {
            true
        } else {
            std::mem::replace(&mut self.initial_metric, false)
        };
        if restart {
            restart_step_size(&mut self.da, integrator, density, position, rng)?;
        }
        Ok(restart)
    }

    /// The step size after `transition` at warmup draw `iteration`: dual averaging's update
    /// from its acceptance statistic, the symmetric one late in tuning
    /// ([`Schedule::accept_stat`]).
    pub(super) fn update_step_size(
        &mut self,
        iteration: usize,
        transition: &Transition,
        integrator: &mut Integrator,
    ) -> Result<(), McmcError> {
        let eps = self
            .da
            .update(self.schedule.accept_stat(iteration, transition));
        integrator.set_step_size(eps)
    }

    /// The stage at `iteration`, for progress displays.
    pub(super) fn stage(&self, iteration: usize) -> AdaptStage {
        self.schedule.stage(iteration)
    }

    /// The averaged step size, for sampling.
    pub(super) fn finish(&mut self, integrator: &mut Integrator) -> Result<(), McmcError> {
        integrator.set_step_size(self.da.final_step_size())
    }
}

/// One entry √(var_x / var_g) of the Fisher diagonal, clamped to [`CLAMP`]; 1 when it is NaN.
pub(super) fn fisher_entry(var_x: f64, var_g: f64) -> f64 {
    let v = (var_x / var_g).sqrt();
    if v.is_nan() {
        1.0
    } else {
        v.clamp(CLAMP.0, CLAMP.1)
    }
}

/// The initial inverse mass 1/|∂ᵢ log p| at a point, clamped to [`CLAMP`]; 1 where the
/// gradient is 0 (nutpie's start).
pub(super) fn gradient_diagonal(grad: &[f64]) -> Vec<f64> {
    grad.iter()
        .map(|g| {
            let v = 1.0 / g.abs();
            if v.is_finite() {
                v.clamp(CLAMP.0, CLAMP.1)
            } else {
                1.0
            }
        })
        .collect()
}

/// nutpie's gradient-informed diagonal warmup (selected with
/// [`Adaptation::FisherDiagonal`](crate::settings::Adaptation::FisherDiagonal)).
///
/// - **Start**: the inverse mass σᵢ² = 1/|∂ᵢ log p| at the initial point (clamped to
///   [10⁻²⁰, 10²⁰]; 1 where the gradient is 0), then Stan's step-size heuristic.
/// - **Every warmup draw** before the last 15 %: the draw and its gradient enter a foreground
///   and a background estimator (divergent transitions excepted); once the background holds
///   10 draws (in the first 30 % of the warmup) or 80 draws (later), and that many draws
///   remain before the last 15 %, it replaces the foreground; the metric is then
///   σᵢ² = √(Var(xᵢ) / Var(∂ᵢ log p)) from the foreground, updated after every draw. The first
///   such update reruns the step-size heuristic and restarts dual averaging.
/// - **The last 15 %**: dual averaging of the step size alone; sampling uses its average.
/// - **Step-size statistic**: dual averaging targets Stan's acceptance statistic until no
///   estimator switch can follow, then the symmetric one
///   ([`Transition::accept_stat_sym`](crate::Transition::accept_stat_sym)), as nuts-rs does;
///   it allows the 3–8 % longer steps nuts-rs settles on (BENCHMARKS.md, session 11).
///
/// For a Gaussian, ∇ log p = −Σ⁻¹(x − μ) makes the estimate exact for a diagonal Σ from any
/// set of draws; in general it minimizes the Fisher divergence between the posterior and a
/// Gaussian with that diagonal covariance.
///
/// # Known limitation
///
/// Estimates taken while a chain is still far from the typical set can freeze it: on
/// posteriordb's arma11 (4 chains, 400 warmup draws, seed 20261203) two chains start where
/// the explosive AR recursion gives gradients near 10⁷⁸, the initial 1/|g| sits at the lower
/// clamp, and √(Var(x)/Var(∇ log p)) over the slowly moving draws stays there (R-hat 3).
/// Stan's warmup ([`Adaptation::Stan`](crate::settings::Adaptation::Stan), the default)
/// samples that posterior correctly; check R-hat when using this strategy.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
/// use infer_mcmc::settings::Adaptation;
///
/// let settings = SamplerSettings { adaptation: Adaptation::FisherDiagonal, num_warmup: 400,
///                                  num_samples: 200, num_chains: 1, ..SamplerSettings::default() };
/// let fit = Sampler::new(settings)?.sample(|_| Gauss::new(3))?;
/// // a standard normal: every inverse-mass entry is 1
/// for v in fit.chains[0].metric.inverse_diagonal() {
///     assert!((v - 1.0).abs() < 1e-9);
/// }
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
///
/// # References
///
/// - Seyboldt, A., Carlson, E. & Carpenter, B. (2026), arXiv:2603.18845: the mass matrix
///   that minimizes the sample Fisher divergence.
/// - nutpie / nuts-rs (the schedule's fractions and switch frequencies, the initial
///   1/|gradient|).
#[derive(Clone, Debug)]
pub struct FisherWarmup {
    steps: FisherSteps,
    foreground: DrawGrad,
    background: DrawGrad,
}

impl FisherWarmup {
    /// The schedule for `settings.num_warmup` draws in `dim` dimensions; `chain` names the
    /// chain in a metric error.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] for invalid dual-averaging settings.
    pub fn new(settings: &SamplerSettings, dim: usize, chain: usize) -> Result<Self, McmcError> {
        Ok(Self {
            steps: FisherSteps::new(settings, chain)?,
            foreground: DrawGrad::new(dim),
            background: DrawGrad::new(dim),
        })
    }

    /// Starts from the inverse metric (diagonal) `inverse_diagonal` instead of
    /// 1/|∂ᵢ log p| at the initial point (e.g. a Pathfinder estimate,
    /// [`InitStrategy::PathfinderMetric`](crate::settings::InitStrategy::PathfinderMetric));
    /// it is used until the first estimate, and the step-size heuristic runs under it.
    /// [`Warmup::start`] reports entries that are not finite and positive
    /// ([`McmcError::NonFiniteMetric`]) or a length other than the dimension.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::adapt::{FisherWarmup, Warmup};
    /// use infer_mcmc::{Kernel, Metric, Nuts, Position, SamplerSettings, models::Gauss};
    /// use rand::SeedableRng;
    ///
    /// let s = SamplerSettings::default();
    /// let mut model = Gauss::new(2);
    /// let pos = Position::new(&mut model, vec![0.5, -0.5])?;
    /// let mut nuts = Nuts::new(Metric::identity(2, s.metric), 1.0, s.nuts_options())?;
    /// let mut warmup = FisherWarmup::new(&s, 2, 0)?.with_initial_metric(vec![4.0, 0.25]);
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

impl Warmup for FisherWarmup {
    fn start<M: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        integrator: &mut Integrator,
        density: &mut M,
        position: &Position,
        rng: &mut R,
    ) -> Result<(), McmcError> {
        self.foreground.add(position);
        self.background.add(position);
        let metric = Metric::diagonal(self.steps.initial_diagonal(position.grad()));
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
                self.foreground.add(position);
                self.background.add(position);
            }
            if schedule.switch_due(iteration, self.background.count()) {
                let dim = position.dim();
                self.foreground = std::mem::replace(&mut self.background, DrawGrad::new(dim));
            }
            if self.foreground.count() >= MIN_DRAWS {
                let metric = self.foreground.metric();
                if self
                    .steps
                    .set_metric(metric, false, integrator, density, position, rng)?
                {
                    return Ok(());
                }
            }
        }
        self.steps
            .update_step_size(iteration, transition, integrator)
    }

    fn stage(&self, iteration: usize) -> AdaptStage {
        self.steps.stage(iteration)
    }

    fn finish(&mut self, integrator: &mut Integrator) -> Result<(), McmcError> {
        self.steps.finish(integrator)
    }
}

#[cfg(test)]
mod tests {
    use super::Schedule;

    #[test]
    fn late_draws_follow_the_last_possible_switch() {
        // 400 warmup draws: the early phase ends at draw 120, the final stretch starts at 340
        // (400 − 15 % of 400); later switches need 80 draws, so 260 is the last that can switch
        let s = Schedule::new(400);
        for i in [0, 119, 120, 200, 260] {
            assert!(!s.late(i), "draw {i}");
        }
        for i in [261, 300, 339, 340, 399] {
            assert!(s.late(i), "draw {i}");
        }
        // no switch can happen at a late draw, however full the background is, and every
        // draw before the late ones can switch
        for i in 0..400 {
            assert_eq!(s.late(i), !s.switch_due(i, usize::MAX), "draw {i}");
        }
    }
}
