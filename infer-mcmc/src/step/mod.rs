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
//! Each free function evaluates the closure once more than its leapfrog steps, at the
//! current parameters, since it cannot know that the closure it is given is the one of the
//! previous call. A [`StepSession`] owns the closure and keeps the last draw's gradient:
//! the same draws for the same seed, one gradient per leapfrog step. Both evaluate the
//! closure through the tape bridge [`TapeModel`](crate::model::TapeModel) uses.
//!
//! # Examples
//! The seed's NUTS loop:
//! ```
//! use infer_ad::{ParamStore, Tape, Bound};
//! use infer_mcmc::step::{closure, find_reasonable_epsilon, nuts_step, NutsOptions};
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
//!     let accept_prob = nuts_step(epsilon, &mut params, closure, NutsOptions::default(), &mut rng)?;
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

use crate::error::{BoxError, McmcError};
use crate::{Kernel, Metric, MetricKind, Nuts, StaticHmc, Transition};

/// The options of [`nuts_step`]: the NUTS kernel's own ([`crate::NutsOptions`]), whose
/// defaults are the seed's (tree depth 10, energy error 1000).
pub use crate::NutsOptions;
use infer_ad::{Bound, ParamStore, Tape, Var};
use rand::Rng;

mod bridge;
use bridge::Bridge;

/// Gives a model closure the signature the step functions need: it takes the tape and the
/// bound parameters and returns the **negative** log density on that tape. Rust infers a
/// closure stored in a variable with one fixed lifetime; passing it through this identity
/// function makes it generic over the tape's lifetime, so it can be reused for every step.
///
/// # Examples
/// ```
/// use infer_ad::{ParamStore, Tape, Bound};
/// let nll = infer_mcmc::step::closure(|_tape: &Tape, p: &Bound<'_>| {
///     Ok::<_, infer_ad::AdError>(p.leaves()[0].square().sum() * 0.5)
/// });
/// let mut params = ParamStore::new();
/// params.add("x", ndarray::arr1(&[0.3]))?;
/// let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(1);
/// infer_mcmc::step::hmc_step(0.2, 5, &mut params, nll, &mut rng)?;
/// infer_mcmc::step::hmc_step(0.2, 5, &mut params, nll, &mut rng)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn closure<F, E>(f: F) -> F
where
    F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, E>,
{
    f
}

/// The seed's step API as a session: it owns the closure, the tape, the NUTS or HMC kernel
/// and the last state of the chain (position, log density, gradient), so a loop of steps
/// costs exactly the gradients of its leapfrog steps — plus one at the first step, and one
/// whenever the [`ParamStore`] was changed outside the session.
///
/// Each step takes the store, as the free functions do: the session compares its values
/// bit for bit with the position it left there (and its shapes with those it knew), and
/// evaluates the closure again only when they differ. The free functions ([`nuts_step`],
/// [`hmc_step`], [`nuts_step_details`], [`find_reasonable_epsilon`]) are this session used
/// for one call; with the same seed, a session and the free functions produce the same
/// draws bit for bit.
///
/// The closure is assumed to be a fixed function of the parameters. If what it computes
/// changes between steps — a new minibatch read through a `RefCell`, a changed
/// temperature — call [`StepSession::invalidate`] after the change, or the session goes on
/// from the log density and gradient of the old closure.
///
/// # Examples
/// The seed's NUTS loop with a session; the closure counts its evaluations:
/// ```
/// use infer_ad::{ParamStore, Tape, Bound};
/// use infer_mcmc::step::{NutsOptions, StepSession};
/// use infer_mcmc::{dual_averaging, DualAveragingOptions};
/// use rand::SeedableRng;
/// use std::cell::Cell;
///
/// let mut params = ParamStore::new();
/// let x = params.add("x", ndarray::arr1(&[1.0, 1.0, 1.0]))?;
/// let gradients = Cell::new(0);
/// // x ~ N(0, I/2): the loss (negative log density) is Σ x²
/// let mut session = StepSession::new(|_: &Tape, p: &Bound<'_>| {
///     gradients.set(gradients.get() + 1);
///     Ok::<_, infer_ad::AdError>(p[x].square().sum())
/// });
/// let mut rng = rand::rngs::StdRng::seed_from_u64(7);
/// let (initial_epsilon, mut epsilon_bar, mut h_bar) = session.find_reasonable_epsilon(&mut params, &mut rng)?;
/// let mut epsilon = initial_epsilon;
/// let before = gradients.get();
/// let mut leapfrog_steps = 0;
/// for i in 1..100 {
///     let t = session.nuts_step_details(epsilon, &mut params, NutsOptions::default(), &mut rng)?;
///     leapfrog_steps += t.n_leapfrog;
///     if i < 50 {
///         (epsilon, epsilon_bar, h_bar) = dual_averaging(t.accept_stat, i, initial_epsilon, epsilon_bar, h_bar, DualAveragingOptions::default())?;
///     } else {
///         epsilon = epsilon_bar;
///     }
/// }
/// // One gradient per leapfrog step, none to restart from the last draw.
/// assert_eq!(gradients.get() - before, leapfrog_steps);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct StepSession<F> {
    bridge: Bridge<F>,
    nuts: Option<Nuts>,
    hmc: Option<StaticHmc>,
}

impl<F> std::fmt::Debug for StepSession<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepSession")
            .field("position", &self.bridge.position)
            .field("nuts", &self.nuts)
            .field("hmc", &self.hmc)
            .finish_non_exhaustive()
    }
}

impl<F, E> StepSession<F>
where
    F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, E>,
    E: Into<BoxError>,
{
    /// A session for `closure`, which returns the **negative** log density on the tape from
    /// the bound parameters. Nothing is evaluated until the first step.
    ///
    /// # Examples
    /// See [`StepSession`].
    pub fn new(closure: F) -> Self {
        StepSession {
            bridge: Bridge {
                closure,
                tape: Tape::new(),
                position: None,
                shapes: Vec::new(),
                current: Vec::new(),
            },
            nuts: None,
            hmc: None,
        }
    }

    /// Forgets the kept log density and gradient: the next step evaluates the closure at
    /// the store's values. Call it after changing what the closure computes (a new
    /// minibatch, say).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamStore, Tape, Bound};
    /// use rand::SeedableRng;
    /// use std::cell::Cell;
    /// let mut params = ParamStore::new();
    /// let x = params.add("x", ndarray::arr1(&[0.5]))?;
    /// let centre = Cell::new(0.0); // the "data" the closure reads
    /// let mut session = infer_mcmc::step::StepSession::new(|_: &Tape, p: &Bound<'_>| {
    ///     Ok::<_, infer_ad::AdError>((p[x] - centre.get()).square().sum() * 0.5)
    /// });
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    /// session.hmc_step(0.3, 5, &mut params, &mut rng)?;
    /// centre.set(3.0);
    /// session.invalidate(); // the kept gradient belongs to the old centre
    /// session.hmc_step(0.3, 5, &mut params, &mut rng)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn invalidate(&mut self) {
        self.bridge.position = None;
    }

    /// [`hmc_step`] within the session: one HMC transition with `num_steps` leapfrog steps of
    /// size `epsilon` and a unit metric, costing `num_steps` gradients (fewer if the
    /// trajectory diverges), plus one when the store holds a point the session did not
    /// leave there.
    ///
    /// # Errors
    /// As [`hmc_step`]; after an error the next step evaluates the closure again.
    ///
    /// # Examples
    /// See [`StepSession::invalidate`].
    pub fn hmc_step<R: Rng + ?Sized>(
        &mut self,
        epsilon: f64,
        num_steps: usize,
        parameters: &mut ParamStore,
        rng: &mut R,
    ) -> Result<f64, McmcError> {
        self.hmc_step_details(epsilon, num_steps, parameters, rng)
            .map(|t| t.accept_stat)
    }

    /// [`StepSession::hmc_step`] returning the whole [`Transition`] (`n_leapfrog` is the
    /// number of gradients the transition took).
    ///
    /// # Errors
    /// As [`hmc_step`].
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamStore, Tape, Bound};
    /// use rand::SeedableRng;
    /// let mut params = ParamStore::new();
    /// params.add("x", ndarray::arr1(&[1.0, -1.0]))?;
    /// let mut session = infer_mcmc::step::StepSession::new(|_: &Tape, p: &Bound<'_>| {
    ///     Ok::<_, infer_ad::AdError>(p.leaves()[0].square().sum() * 0.5)
    /// });
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(2);
    /// let t = session.hmc_step_details(0.2, 8, &mut params, &mut rng)?;
    /// assert_eq!(t.n_leapfrog, 8);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn hmc_step_details<R: Rng + ?Sized>(
        &mut self,
        epsilon: f64,
        num_steps: usize,
        parameters: &mut ParamStore,
        rng: &mut R,
    ) -> Result<Transition, McmcError> {
        let dim = parameters.num_elements().max(1);
        let kernel = match &mut self.hmc {
            Some(k) if k.metric().dim() == dim && k.num_steps() == num_steps => {
                k.set_step_size(epsilon)?;
                k
            }
            slot => slot.insert(StaticHmc::new(
                Metric::identity(dim, MetricKind::Diagonal),
                epsilon,
                num_steps,
                1000.0,
            )?),
        };
        let result = self
            .bridge
            .prepare(parameters)
            .and_then(|(mut density, position)| kernel.transition(&mut density, position, rng));
        self.bridge.finish(result, parameters)
    }

    /// [`nuts_step`] within the session: one NUTS transition with step size `epsilon` and a
    /// unit metric, costing its `n_leapfrog` gradients, plus one when the store holds a
    /// point the session did not leave there. Returns the average acceptance statistic.
    ///
    /// # Errors
    /// As [`nuts_step`]; after an error the next step evaluates the closure again.
    ///
    /// # Examples
    /// See [`StepSession`].
    pub fn nuts_step<R: Rng + ?Sized>(
        &mut self,
        epsilon: f64,
        parameters: &mut ParamStore,
        options: NutsOptions,
        rng: &mut R,
    ) -> Result<f64, McmcError> {
        self.nuts_step_details(epsilon, parameters, options, rng)
            .map(|t| t.accept_stat)
    }

    /// [`StepSession::nuts_step`] returning the whole [`Transition`], as
    /// [`nuts_step_details`] does. With a unit metric, count the divergences: see
    /// [`nuts_step`].
    ///
    /// # Errors
    /// As [`nuts_step`].
    ///
    /// # Examples
    /// See [`StepSession`].
    pub fn nuts_step_details<R: Rng + ?Sized>(
        &mut self,
        epsilon: f64,
        parameters: &mut ParamStore,
        options: NutsOptions,
        rng: &mut R,
    ) -> Result<Transition, McmcError> {
        let dim = parameters.num_elements().max(1);
        let kernel = match &mut self.nuts {
            Some(k) if k.metric().dim() == dim && k.options() == options => {
                k.set_step_size(epsilon)?;
                k
            }
            slot => slot.insert(Nuts::new(
                Metric::identity(dim, MetricKind::Diagonal),
                epsilon,
                options,
            )?),
        };
        let result = self
            .bridge
            .prepare(parameters)
            .and_then(|(mut density, position)| kernel.transition(&mut density, position, rng));
        self.bridge.finish(result, parameters)
    }

    /// [`find_reasonable_epsilon`] within the session: its trial leapfrog steps start from
    /// the kept gradient (one more gradient only at the first call or after the store was
    /// changed outside the session). The parameters are not changed.
    ///
    /// # Errors
    /// As [`find_reasonable_epsilon`].
    ///
    /// # Examples
    /// See [`StepSession`].
    pub fn find_reasonable_epsilon<R: Rng + ?Sized>(
        &mut self,
        parameters: &mut ParamStore,
        rng: &mut R,
    ) -> Result<(f64, f64, f64), McmcError> {
        let result = self
            .bridge
            .prepare(parameters)
            .and_then(|(mut density, position)| {
                let metric = Metric::identity(position.dim(), MetricKind::Diagonal);
                crate::adapt::find_reasonable_epsilon(&mut density, position, &metric, rng)
            });
        if result.is_err() {
            self.bridge.position = None;
        }
        result
    }
}

/// One Hamiltonian Monte Carlo transition with `num_steps` leapfrog steps of size `epsilon`
/// and a unit metric. The parameters move to the proposal if it is accepted and stay
/// otherwise. Returns the acceptance probability min(1, exp(−ΔH)) (0 for a divergent
/// trajectory).
///
/// `closure` returns the **negative** log density on the tape from the bound parameters.
///
/// # Cost
/// `num_steps` + 1 gradients (fewer if the trajectory diverges). The + 1 is the gradient at
/// the current parameters, which a free function cannot keep from the previous call: the
/// closure it is given may compute something else now (a new minibatch).
/// In a loop, a [`StepSession`] keeps it and costs exactly the gradients of the leapfrog
/// steps; with the same seed it produces the same draws.
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
/// let a = infer_mcmc::step::hmc_step(0.1, 10, &mut params,
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
    StepSession::new(closure).hmc_step(epsilon, num_steps, parameters, rng)
}

/// One No-U-Turn transition (multinomial NUTS with Stan's generalized U-turn criterion) with
/// step size `epsilon` and a unit metric; the parameters move to the selected state. Returns
/// the average acceptance statistic over the trajectory — what [`crate::dual_averaging`]
/// consumes. [`nuts_step_details`] does the same transition and returns all of it: whether
/// it diverged, the tree depth, the leapfrog steps, the energy.
///
/// `closure` returns the **negative** log density on the tape from the bound parameters.
///
/// # Cost
/// The transition's `n_leapfrog` gradients ([`nuts_step_details`]) + 1. The + 1 is the
/// gradient at the current parameters, which a free function cannot keep from the previous
/// call: the closure it is given may compute something else now (a new minibatch).
/// In a loop, a [`StepSession`] keeps it and costs exactly the gradients of the leapfrog
/// steps; with the same seed it produces the same draws.
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
/// [`McmcError::InvalidSetting`] for a bad `epsilon`, `max_depth` outside 1..=30 or
/// `max_delta_h ≤ 0`; [`McmcError::NonFiniteStart`] when the loss is not finite at the
/// current parameters; [`McmcError::LogDensity`] when the closure returns an error.
///
/// # Examples
/// See the [module documentation](self).
pub fn nuts_step<F, E, R>(
    epsilon: f64,
    parameters: &mut ParamStore,
    closure: F,
    options: NutsOptions,
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
/// [`nuts_step`] on what they mean for a unit metric. Costs `n_leapfrog` + 1 gradients (see
/// [`nuts_step`]; a [`StepSession`] saves the + 1).
///
/// # Errors
/// As [`nuts_step`].
///
/// # Examples
/// ```
/// use infer_ad::{ParamStore, Tape, Bound};
/// use infer_mcmc::step::{closure, nuts_step_details, NutsOptions};
/// use rand::SeedableRng;
///
/// let mut params = ParamStore::new();
/// params.add("x", ndarray::arr1(&[0.5, -0.5]))?;
/// // x ~ N(0, I): the loss is ½ Σ x²
/// let nll = closure(|_: &Tape, p: &Bound<'_>| Ok::<_, infer_ad::AdError>(p.leaves()[0].square().sum() * 0.5));
/// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
/// let mut divergent = 0;
/// for _ in 0..100 {
///     let t = nuts_step_details(0.5, &mut params, nll, NutsOptions::default(), &mut rng)?;
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
    options: NutsOptions,
    rng: &mut R,
) -> Result<Transition, McmcError>
where
    F: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Var<'t>, E>,
    E: Into<BoxError>,
    R: Rng + ?Sized,
{
    StepSession::new(closure).nuts_step_details(epsilon, parameters, options, rng)
}

/// The step-size heuristic of Hoffman & Gelman (2014, algorithm 4): starting from ε = 1, one
/// leapfrog step with a fresh unit-normal momentum; ε is doubled while the acceptance ratio
/// exceeds ½, or halved until it falls below ½. Returns `(epsilon, epsilon_bar = 1,
/// h_bar = 0)`, the initial state of [`crate::dual_averaging`]. The parameters are not
/// changed. A proposal with a non-finite loss counts as ratio 0.
///
/// Costs one gradient per trial step, plus one at the current parameters; a
/// [`StepSession`] keeps that one for the steps that follow.
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
/// let (eps, eps_bar, h_bar) = infer_mcmc::step::find_reasonable_epsilon(&mut params,
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
    StepSession::new(closure).find_reasonable_epsilon(parameters, rng)
}
