//! The seed document's step API — `hmc_step`, `nuts_step`, `find_reasonable_epsilon` (and
//! [`crate::dual_averaging`]) — with its calling convention: the model is a closure returning
//! the **negative** log density (a loss, as an optimizer's closure does), recorded on an
//! `infer-ad` tape, and the parameters are the user's [`ParamStore`], updated in place.
//!
//! Unlike the Python original, `nuts_step` is multinomial NUTS with Stan's generalized U-turn
//! criterion and subtree checks (one gradient per leapfrog step), and `hmc_step`'s acceptance
//! uses the Hamiltonian error of the whole trajectory. A closure that returns NaN or +∞
//! inside a trajectory causes a divergence (the proposal is rejected; its acceptance counts as
//! 0), never a panic; a non-finite loss at the starting point is
//! [`McmcError::NonFiniteStart`].
//!
//! # Examples
//! The seed's NUTS loop:
//! ```
//! use infer_ad::{ParamStore, Tape, Bound};
//! use infer_mcmc::seed::{closure, find_reasonable_epsilon, nuts_step, NutsStepOptions};
//! use infer_mcmc::{dual_averaging, DualAveragingOptions};
//! use rand::SeedableRng;
//!
//! let mut params = ParamStore::new();
//! let ids: Vec<_> = (0..3).map(|i| params.add(format!("p{i}"), ndarray::arr1(&[1.0]))).collect::<Result<_, _>>()?;
//! // negative log density of three independent N(0, 1/2) coordinates
//! let closure = closure(|_t: &Tape, p: &Bound<'_>| {
//!     // −Σ −p² as in the seed: each p ~ N(0, 1/2)
//!     let mut total = p[ids[0]].square().sum();
//!     for &id in &ids[1..] {
//!         total = total + p[id].square().sum();
//!     }
//!     Ok::<_, infer_ad::AdError>(total)
//! });
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! let (initial_epsilon, mut epsilon_bar, mut h_bar) = find_reasonable_epsilon(&mut params, closure, &mut rng)?;
//! let mut epsilon = initial_epsilon;
//! let mut draws = Vec::new();
//! for i in 1..10 {
//!     let accept_prob = nuts_step(epsilon, &mut params, closure, NutsStepOptions::default(), &mut rng)?;
//!     if i < 5 {
//!         (epsilon, epsilon_bar, h_bar) = dual_averaging(accept_prob, i, initial_epsilon, epsilon_bar, h_bar, DualAveragingOptions::default())?;
//!     } else {
//!         epsilon = epsilon_bar;
//!     }
//!     draws.push(params.to_flat());
//! }
//! assert_eq!(draws.len(), 9);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # References
//! Hoffman & Gelman (2014), *The No-U-Turn Sampler*, JMLR 15: algorithms 4 (step-size
//! heuristic) and 6 (dual averaging); Betancourt (2017), arXiv:1701.02434 (multinomial NUTS).

use crate::error::{BoxError, LogDensityError, McmcError};
use crate::{LogDensity, Metric, MetricKind, Nuts, NutsOptions, Position, StaticHmc, Transition};
use infer_ad::{Bound, ParamStore, Tape, Var};
use rand::Rng;

/// Gives a model closure the signature the step functions need: it takes the tape and the
/// bound parameters and returns the **negative** log density on that tape. Rust infers a
/// closure stored in a variable with one fixed lifetime; passing it through this identity
/// function makes it generic over the tape's lifetime, so it can be reused for every step.
///
/// # Examples
/// ```
/// use infer_ad::{ParamStore, Tape, Bound};
/// let nll = infer_mcmc::seed::closure(|_tape: &Tape, p: &Bound<'_>| {
///     Ok::<_, infer_ad::AdError>(p.leaves()[0].square().sum() * 0.5)
/// });
/// let mut params = ParamStore::new();
/// params.add("x", ndarray::arr1(&[0.3]))?;
/// let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
/// infer_mcmc::seed::hmc_step(0.2, 5, &mut params, nll, &mut rng)?;
/// infer_mcmc::seed::hmc_step(0.2, 5, &mut params, nll, &mut rng)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn closure<F, E>(f: F) -> F
where
    F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, E>,
{
    f
}

/// Options of [`nuts_step`], with the seed's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NutsStepOptions {
    /// Maximum tree depth. Default 10.
    pub max_tree_depth: usize,
    /// Largest allowed energy error before the trajectory counts as divergent. Default 1000.
    pub delta_energy_max: f64,
}

impl Default for NutsStepOptions {
    fn default() -> Self {
        NutsStepOptions {
            max_tree_depth: 10,
            delta_energy_max: 1000.0,
        }
    }
}

/// Adapts a loss closure on the tape to the f64 [`LogDensity`] contract (log p = −loss).
struct TapeDensity<'s, F> {
    store: &'s ParamStore,
    tape: Tape,
    closure: F,
}

impl<F, E> LogDensity for TapeDensity<'_, F>
where
    F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, E>,
    E: Into<BoxError>,
{
    fn dim(&self) -> usize {
        self.store.num_elements()
    }

    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        self.tape.clear();
        let TapeDensity {
            store,
            tape,
            closure,
        } = self;
        let bound = store.bind_flat(tape, x).map_err(LogDensityError::fatal)?;
        let loss = closure(tape, &bound).map_err(|e| LogDensityError::fatal(e))?;
        loss.backward();
        bound.grad_into_flat(grad);
        for g in grad.iter_mut() {
            *g = -*g;
        }
        Ok(-loss.value())
    }
}

fn start<'s, F, E>(
    parameters: &'s ParamStore,
    closure: F,
) -> Result<(TapeDensity<'s, F>, Position), McmcError>
where
    F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, E>,
    E: Into<BoxError>,
{
    if parameters.num_elements() == 0 {
        return Err(McmcError::ZeroDimension);
    }
    let mut density = TapeDensity {
        store: parameters,
        tape: Tape::new(),
        closure,
    };
    let position = Position::new(&mut density, parameters.to_flat())?;
    Ok((density, position))
}

fn write_back(parameters: &mut ParamStore, q: &[f64]) -> Result<(), McmcError> {
    parameters
        .write_flat(q)
        .map_err(|e| McmcError::LogDensity(LogDensityError::fatal(e)))
}

/// One Hamiltonian Monte Carlo transition with `num_steps` leapfrog steps of size `epsilon`
/// and a unit metric. The parameters move to the proposal if it is accepted and stay
/// otherwise. Returns the acceptance probability min(1, exp(−ΔH)) (0 for a divergent
/// trajectory).
///
/// `closure` returns the **negative** log density on the tape from the bound parameters.
///
/// # Errors
/// [`McmcError::InvalidSetting`] for a non-positive or non-finite `epsilon` or
/// `num_steps == 0`; [`McmcError::NonFiniteStart`] when the loss is not finite at the current
/// parameters; [`McmcError::LogDensity`] when the closure returns an error.
///
/// # Examples
/// ```
/// use infer_ad::{ParamStore, Tape, Bound};
/// use rand::SeedableRng;
/// let mut params = ParamStore::new();
/// params.add("x", ndarray::arr1(&[1.0, 1.0, 1.0]))?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
/// let a = infer_mcmc::seed::hmc_step(0.1, 10, &mut params,
///     |_: &Tape, p: &Bound<'_>| Ok::<_, infer_ad::AdError>(p.leaves()[0].square().sum()), &mut rng)?;
/// assert!((0.0..=1.0).contains(&a));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn hmc_step<F, E, R>(
    epsilon: f64,
    num_steps: usize,
    parameters: &mut ParamStore,
    closure: F,
    rng: &mut R,
) -> Result<f64, McmcError>
where
    F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, E>,
    E: Into<BoxError>,
    R: Rng + ?Sized,
{
    let dim = parameters.num_elements();
    let mut kernel = StaticHmc::new(
        Metric::identity(dim.max(1), MetricKind::Diagonal),
        epsilon,
        num_steps,
        1000.0,
    )?;
    let (mut density, mut position) = start(parameters, closure)?;
    let t = kernel.transition(&mut density, &mut position, rng)?;
    drop(density);
    write_back(parameters, position.q())?;
    Ok(t.accept_stat)
}

/// One No-U-Turn transition (multinomial NUTS with Stan's generalized U-turn criterion) with
/// step size `epsilon` and a unit metric; the parameters move to the selected state. Returns
/// the average acceptance statistic over the trajectory — what [`crate::dual_averaging`]
/// consumes. [`nuts_step_details`] does the same transition and returns all of it: whether
/// it diverged, the tree depth, the leapfrog steps, the energy.
///
/// `closure` returns the **negative** log density on the tape from the bound parameters.
///
/// # A unit metric cuts off curved posteriors
///
/// The seed's loop — this function, a unit metric, the step size adapted by
/// [`crate::dual_averaging`] toward 0.8 — does not adapt a metric. On a posterior whose scales
/// differ and change along a curve, the step size that gives acceptance 0.8 in the wide part
/// is too large in the narrow part: trajectories entering it diverge, and the chain does not
/// go there. Measured with [`nuts_step_details`] on the banana x₁ ~ N(0, 1),
/// x₂ | x₁ ~ N(x₁², 0.5²) (E\[x₂\] = 1), 100 runs of the seed's loop (1000 adaptation + 1000
/// sampling iterations from (0, 0), seeds 0–99): 3.2 % of the sampling transitions diverge
/// and E\[x₂\] = 0.93 ± 0.05 over the runs (median run 0.79), while the [`crate::Sampler`]
/// (windowed diagonal metric, same target and iterations) has 0.7 % divergences and
/// E\[x₂\] = 0.98 ± 0.04 (median run 0.90). Reproduce it with
/// `cargo run --release -p infer-mcmc --example seed_banana`. Count the divergences with
/// [`nuts_step_details`]; when there are any, the draws are biased: use the
/// [`crate::Sampler`], raise the target acceptance, or reparameterize.
///
/// # Errors
/// [`McmcError::InvalidSetting`] for a bad `epsilon`, `max_tree_depth` outside 1..=30 or
/// `delta_energy_max ≤ 0`; [`McmcError::NonFiniteStart`] when the loss is not finite at the
/// current parameters; [`McmcError::LogDensity`] when the closure returns an error.
///
/// # Examples
/// See the [module documentation](self).
pub fn nuts_step<F, E, R>(
    epsilon: f64,
    parameters: &mut ParamStore,
    closure: F,
    options: NutsStepOptions,
    rng: &mut R,
) -> Result<f64, McmcError>
where
    F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, E>,
    E: Into<BoxError>,
    R: Rng + ?Sized,
{
    nuts_step_details(epsilon, parameters, closure, options, rng).map(|t| t.accept_stat)
}

/// [`nuts_step`] returning the whole [`Transition`]: `accept_stat` (what [`nuts_step`]
/// returns), `divergent` and why, `tree_depth`, `n_leapfrog` (gradient evaluations),
/// `energy` (the Hamiltonian at the selected state), `logp` (log p there, i.e. −loss) and
/// `step_size`. These are Stan's per-draw sampler statistics; count the divergences — see
/// [`nuts_step`] on what they mean for a unit metric.
///
/// # Errors
/// As [`nuts_step`].
///
/// # Examples
/// ```
/// use infer_ad::{ParamStore, Tape, Bound};
/// use infer_mcmc::seed::{closure, nuts_step_details, NutsStepOptions};
/// use rand::SeedableRng;
///
/// let mut params = ParamStore::new();
/// params.add("x", ndarray::arr1(&[0.5, -0.5]))?;
/// // x ~ N(0, I): the loss is ½ Σ x²
/// let nll = closure(|_: &Tape, p: &Bound<'_>| Ok::<_, infer_ad::AdError>(p.leaves()[0].square().sum() * 0.5));
/// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
/// let mut divergent = 0;
/// for _ in 0..100 {
///     let t = nuts_step_details(0.5, &mut params, nll, NutsStepOptions::default(), &mut rng)?;
///     assert!(t.n_leapfrog >= 1 && t.tree_depth >= 1 && (0.0..=1.0).contains(&t.accept_stat));
///     let x = params.to_flat();
///     assert!((t.logp + 0.5 * (x[0] * x[0] + x[1] * x[1])).abs() < 1e-12); // log p = −loss
///     divergent += usize::from(t.divergent);
/// }
/// assert_eq!(divergent, 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn nuts_step_details<F, E, R>(
    epsilon: f64,
    parameters: &mut ParamStore,
    closure: F,
    options: NutsStepOptions,
    rng: &mut R,
) -> Result<Transition, McmcError>
where
    F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, E>,
    E: Into<BoxError>,
    R: Rng + ?Sized,
{
    let dim = parameters.num_elements();
    let mut nuts = Nuts::new(
        Metric::identity(dim.max(1), MetricKind::Diagonal),
        epsilon,
        NutsOptions {
            max_depth: options.max_tree_depth,
            max_delta_h: options.delta_energy_max,
        },
    )?;
    let (mut density, mut position) = start(parameters, closure)?;
    let t = nuts.transition(&mut density, &mut position, rng)?;
    drop(density);
    write_back(parameters, position.q())?;
    Ok(t)
}

/// The step-size heuristic of Hoffman & Gelman (2014, algorithm 4): starting from ε = 1, one
/// leapfrog step with a fresh unit-normal momentum; ε is doubled while the acceptance ratio
/// exceeds ½, or halved until it falls below ½. Returns `(epsilon, epsilon_bar = 1,
/// h_bar = 0)`, the initial state of [`crate::dual_averaging`]. The parameters are not
/// changed. A proposal with a non-finite loss counts as ratio 0.
///
/// # Errors
/// [`McmcError::NonFiniteStart`] when the loss is not finite at the current parameters;
/// [`McmcError::LogDensity`] when the closure fails; [`McmcError::StepSizeSearch`] when the
/// step size leaves (10⁻³⁰⁰, 10³⁰⁰) without crossing ½ (a flat or broken density).
///
/// # Examples
/// ```
/// use infer_ad::{ParamStore, Tape, Bound};
/// use rand::SeedableRng;
/// let mut params = ParamStore::new();
/// params.add("x", ndarray::arr1(&[1.0, 1.0, 1.0]))?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
/// let (eps, eps_bar, h_bar) = infer_mcmc::seed::find_reasonable_epsilon(&mut params,
///     |_: &Tape, p: &Bound<'_>| Ok::<_, infer_ad::AdError>(p.leaves()[0].square().sum()), &mut rng)?;
/// assert!(eps > 0.0 && eps_bar == 1.0 && h_bar == 0.0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn find_reasonable_epsilon<F, E, R>(
    parameters: &mut ParamStore,
    closure: F,
    rng: &mut R,
) -> Result<(f64, f64, f64), McmcError>
where
    F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, E>,
    E: Into<BoxError>,
    R: Rng + ?Sized,
{
    let (mut density, position) = start(parameters, closure)?;
    let metric = Metric::identity(position.q().len(), MetricKind::Diagonal);
    crate::adapt::find_reasonable_epsilon(&mut density, &position, &metric, rng)
}
