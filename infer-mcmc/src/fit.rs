//! Sampler output: per-chain draws, Stan's per-draw statistics and the adapted parameters.

use ndarray::Array2;

/// The RNG of a chain: ChaCha12, the generator behind `rand::rngs::StdRng` (the same stream for
/// the same seed), used by name so that its state can be saved (rand_chacha's `serde`
/// feature) when checkpoints are written to disk.
pub(crate) type ChainRng = rand_chacha::ChaCha12Rng;

use crate::layout::Layout;
use crate::metric::Metric;
use crate::settings::SamplerSettings;
use crate::transition::Transition;

/// Names of the per-draw sampler statistics, in CmdStan's column order.
pub const STAT_NAMES: [&str; 7] = [
    "lp__",
    "accept_stat__",
    "stepsize__",
    "treedepth__",
    "n_leapfrog__",
    "divergent__",
    "energy__",
];

/// Stan's sampler statistics of one draw.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{DrawStats, STAT_NAMES};
///
/// let s = DrawStats { lp: -1.0, accept_stat: 0.9, step_size: 0.5, tree_depth: 2,
///                     n_leapfrog: 3, divergent: false, energy: 2.0 };
/// assert_eq!(s.to_array(), [-1.0, 0.9, 0.5, 2.0, 3.0, 0.0, 2.0]);
/// assert_eq!(STAT_NAMES[3], "treedepth__");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DrawStats {
    /// `lp__`: log density (up to a constant) at the draw, on the unconstrained scale.
    pub lp: f64,
    /// `accept_stat__`: the transition's average acceptance statistic.
    pub accept_stat: f64,
    /// `stepsize__`: the step size used.
    pub step_size: f64,
    /// `treedepth__`: the NUTS tree depth (0 for static HMC).
    pub tree_depth: usize,
    /// `n_leapfrog__`: leapfrog steps (gradient evaluations) of the transition.
    pub n_leapfrog: usize,
    /// `divergent__`: whether the trajectory diverged.
    pub divergent: bool,
    /// `energy__`: the Hamiltonian at the draw.
    pub energy: f64,
}

impl DrawStats {
    /// The statistics of a transition.
    #[must_use]
    pub fn from_transition(t: &Transition) -> Self {
        Self {
            lp: t.logp,
            accept_stat: t.accept_stat,
            step_size: t.step_size,
            tree_depth: t.tree_depth,
            n_leapfrog: t.n_leapfrog,
            divergent: t.divergent,
            energy: t.energy,
        }
    }

    /// The values in the order of [`STAT_NAMES`] (booleans as 0/1).
    #[must_use]
    pub fn to_array(&self) -> [f64; 7] {
        [
            self.lp,
            self.accept_stat,
            self.step_size,
            self.tree_depth as f64,
            self.n_leapfrog as f64,
            if self.divergent { 1.0 } else { 0.0 },
            self.energy,
        ]
    }
}

/// The output of one chain.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
///
/// let settings = SamplerSettings { num_chains: 1, num_warmup: 100, num_samples: 50,
///                                  ..SamplerSettings::default() };
/// let chain = Sampler::new(settings)?.sample_chain(0, &mut Gauss::new(2))?;
/// assert_eq!(chain.draws.dim(), (50, 2));
/// assert_eq!(chain.num_leapfrog() as u64, chain.sampling_gradient_evals);
/// assert!(chain.step_size > 0.0 && chain.num_divergent() == 0);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Chain {
    /// The chain index (0-based).
    pub chain: usize,
    /// The seed of this chain's RNG (derived from the run's seed and the chain index).
    pub rng_seed: u64,
    /// Sampling draws (after thinning) × recorded values (see
    /// [`LogDensity::write_draw`](crate::LogDensity::write_draw)).
    pub draws: Array2<f64>,
    /// Statistics of each sampling draw.
    pub stats: Vec<DrawStats>,
    /// Warmup draws (empty unless `save_warmup`).
    pub warmup_draws: Array2<f64>,
    /// Statistics of each warmup draw (empty unless `save_warmup`).
    pub warmup_stats: Vec<DrawStats>,
    /// The step size after adaptation.
    pub step_size: f64,
    /// The metric after adaptation.
    pub metric: Metric,
    /// The initial point on the unconstrained scale.
    pub init: Vec<f64>,
    /// Wall time of warmup, seconds.
    pub warmup_seconds: f64,
    /// Wall time of sampling, seconds.
    pub sampling_seconds: f64,
    /// Gradient evaluations before sampling: the search for an initial point, Stan's
    /// step-size heuristic (at the start and after each metric update) and the warmup
    /// trajectories.
    pub warmup_gradient_evals: u64,
    /// Gradient evaluations of the sampling trajectories (every transition, also those that
    /// thinning drops; equal to the sum of `n_leapfrog__` when `thin` is 1).
    pub sampling_gradient_evals: u64,
    /// Where the chain stopped, for [`Sampler::extend`](crate::Sampler::extend).
    pub state: ChainState,
}

/// Where a chain stopped: its transition and generated-quantity RNG streams, its position
/// (unconstrained) and the number of sampling iterations done — with the chain's step size
/// and metric, everything [`Sampler::extend`](crate::Sampler::extend) needs to continue it
/// exactly as an uninterrupted run would have.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
///
/// let settings = SamplerSettings { num_chains: 1, num_warmup: 50, num_samples: 20,
///                                  ..SamplerSettings::default() };
/// let fit = Sampler::new(settings)?.sample(|_| Gauss::new(2))?;
/// let state = &fit.chains[0].state;
/// assert_eq!(state.sampling_iterations(), 20);
/// assert_eq!(state.position().len(), 2);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ChainState {
    pub(crate) rng: ChainRng,
    pub(crate) gq_rng: ChainRng,
    pub(crate) q: Vec<f64>,
    pub(crate) sampling_iterations: usize,
}

impl ChainState {
    /// The last position, on the unconstrained scale.
    #[must_use]
    pub fn position(&self) -> &[f64] {
        &self.q
    }

    /// Sampling iterations done (before thinning).
    #[must_use]
    pub fn sampling_iterations(&self) -> usize {
        self.sampling_iterations
    }
}

impl Chain {
    /// Divergent sampling transitions.
    #[must_use]
    pub fn num_divergent(&self) -> usize {
        self.stats.iter().filter(|s| s.divergent).count()
    }

    /// Leapfrog steps (gradient evaluations) of the recorded sampling transitions.
    #[must_use]
    pub fn num_leapfrog(&self) -> usize {
        self.stats.iter().map(|s| s.n_leapfrog).sum()
    }

    /// Every gradient evaluation of the chain, warmup and sampling.
    #[must_use]
    pub fn gradient_evals(&self) -> u64 {
        self.warmup_gradient_evals + self.sampling_gradient_evals
    }

    /// Sampling transitions that reached tree depth `max_depth`.
    #[must_use]
    pub fn num_max_depth(&self, max_depth: usize) -> usize {
        self.stats
            .iter()
            .filter(|s| s.tree_depth >= max_depth)
            .count()
    }
}

/// The output of a [`Sampler`](crate::Sampler) run: every chain plus the model's layout.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{Sampler, SamplerSettings, models::Gauss};
///
/// let settings = SamplerSettings { num_chains: 2, num_warmup: 100, num_samples: 50,
///                                  ..SamplerSettings::default() };
/// let fit = Sampler::new(settings)?.sample(|_| Gauss::new(2))?;
/// assert_eq!((fit.num_chains(), fit.num_draws()), (2, 50));
/// assert_eq!(fit.param_names(), ["x[1]", "x[2]"]);
/// let x2 = fit.draws_by_name("x[2]")?; // chains × draws
/// assert_eq!(x2.dim(), (2, 50));
/// assert_eq!(fit.stat_draws("treedepth__").map(|a| a.dim()), Some((2, 50)));
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Fit {
    /// The recorded quantities: names, shapes and blocks of the columns of each chain's
    /// `draws`.
    pub layout: Layout,
    /// The chains, in chain order.
    pub chains: Vec<Chain>,
    /// The settings of the run.
    pub settings: SamplerSettings,
    /// Wall time of the whole run, seconds (the chains run in parallel on threads, so this is
    /// less than the sum of their times when there are several threads; it includes the
    /// approximation of [`InitStrategy::Pathfinder`](crate::InitStrategy::Pathfinder) and
    /// [`InitStrategy::PathfinderMetric`](crate::InitStrategy::PathfinderMetric)).
    pub wall_seconds: f64,
    /// Gradient evaluations spent finding the chains' initial points (and metric) before they
    /// started: those of the approximation of
    /// [`InitStrategy::Pathfinder`](crate::InitStrategy::Pathfinder) or
    /// [`InitStrategy::PathfinderMetric`](crate::InitStrategy::PathfinderMetric), 0 otherwise (each
    /// chain's own search for a finite point is in its `warmup_gradient_evals`).
    pub init_gradient_evals: u64,
}

impl Fit {
    /// Number of chains.
    #[must_use]
    pub fn num_chains(&self) -> usize {
        self.chains.len()
    }

    /// Number of (thinned) sampling draws per chain.
    #[must_use]
    pub fn num_draws(&self) -> usize {
        self.chains.first().map_or(0, |c| c.draws.nrows())
    }

    /// Names of the recorded values (the columns of each chain's `draws`), Stan's 1-based
    /// element form (`theta[1,2]`): parameters, then transformed parameters, then generated
    /// quantities.
    #[must_use]
    pub fn param_names(&self) -> &[String] {
        self.layout.names()
    }

    /// Column of a recorded value by name.
    #[must_use]
    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.param_names().iter().position(|n| n == name)
    }

    /// Every draw of the quantity `name` as chains × draws × its shape (`theta` of shape
    /// `[8]` gives chains × draws × 8).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{McmcError, Sampler, SamplerSettings, models::Gauss};
    ///
    /// let settings = SamplerSettings { num_warmup: 20, num_samples: 10, num_chains: 2,
    ///                                  ..SamplerSettings::default() };
    /// let fit = Sampler::new(settings)?.sample(|_| Gauss::new(3))?;
    /// assert_eq!(fit.draws_of("x")?.shape(), [2, 10, 3]);
    /// # Ok::<(), McmcError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`McmcError::UnknownName`](crate::McmcError::UnknownName) when nothing is recorded
    /// under `name`.
    pub fn draws_of(&self, name: &str) -> Result<ndarray::ArrayD<f64>, crate::McmcError> {
        let (c, n) = (self.num_chains(), self.num_draws());
        quantity_draws(
            &self.layout,
            name,
            &[c, n],
            self.chains.iter().flat_map(|ch| ch.draws.rows()),
        )
    }

    /// Draws of the `index`-th recorded value as chains × draws (the layout of the
    /// diagnostics). `None` if the index is out of range.
    #[must_use]
    pub fn param_draws(&self, index: usize) -> Option<Array2<f64>> {
        if index >= self.layout.len() {
            return None;
        }
        let (c, n) = (self.num_chains(), self.num_draws());
        Some(Array2::from_shape_fn((c, n), |(i, j)| {
            self.chains[i].draws[[j, index]]
        }))
    }

    /// Draws of a recorded value by name (as in [`param_names`](Self::param_names), Stan's
    /// 1-based `eta[1]` form), chains × draws.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{McmcError, Sampler, SamplerSettings, models::Gauss};
    ///
    /// let settings = SamplerSettings { num_warmup: 20, num_samples: 10, num_chains: 1,
    ///                                  ..SamplerSettings::default() };
    /// let fit = Sampler::new(settings)?.sample(|_| Gauss::new(3))?;
    /// assert_eq!(fit.draws_by_name("x[3]")?.dim(), (1, 10));
    /// // Indices are 1-based: the error names the valid range.
    /// let err = fit.draws_by_name("x[0]").unwrap_err();
    /// assert!(err.to_string().contains("x[1] ..= x[3]"), "{err}");
    /// # Ok::<(), McmcError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`McmcError::UnknownName`](crate::McmcError::UnknownName) when no recorded value has this name: for an indexed name
    /// whose base exists (`eta[0]`, `eta[9]` of `eta[1]` … `eta[8]`) the message gives the
    /// valid 1-based range, otherwise it lists the recorded names.
    pub fn draws_by_name(&self, name: &str) -> Result<Array2<f64>, crate::McmcError> {
        self.param_index(name)
            .and_then(|i| self.param_draws(i))
            .ok_or_else(|| unknown_name(&self.layout, name))
    }

    /// A sampler statistic (one of [`STAT_NAMES`]) as chains × draws.
    #[must_use]
    pub fn stat_draws(&self, name: &str) -> Option<Array2<f64>> {
        let k = STAT_NAMES.iter().position(|n| *n == name)?;
        let (c, n) = (self.num_chains(), self.num_draws());
        Some(Array2::from_shape_fn((c, n), |(i, j)| {
            self.chains[i].stats[j].to_array()[k]
        }))
    }

    /// Divergent sampling transitions over all chains.
    #[must_use]
    pub fn num_divergent(&self) -> usize {
        self.chains.iter().map(Chain::num_divergent).sum()
    }

    /// Gradient evaluations of every chain, warmup and sampling, and of the approximation
    /// that gave their initial points ([`init_gradient_evals`](Self::init_gradient_evals)).
    #[must_use]
    pub fn gradient_evals(&self) -> u64 {
        self.init_gradient_evals + self.chains.iter().map(Chain::gradient_evals).sum::<u64>()
    }

    /// Sampling transitions that hit the maximum tree depth, over all chains.
    #[must_use]
    pub fn num_max_depth(&self) -> usize {
        self.chains
            .iter()
            .map(|c| c.num_max_depth(self.settings.max_depth))
            .sum()
    }
}

/// Every recorded draw of the quantity `name` as `lead` × its shape (`lead` the chains and
/// draws of a [`Fit`], the draws of an [`Approximation`](crate::approx::Approximation)),
/// from the recorded rows in that order.
///
/// # Errors
///
/// [`McmcError::UnknownName`](crate::McmcError::UnknownName) when nothing is recorded under
/// `name`; [`McmcError::DimensionMismatch`](crate::McmcError::DimensionMismatch) when the rows
/// do not fill `lead`.
pub(crate) fn quantity_draws<'a>(
    layout: &Layout,
    name: &str,
    lead: &[usize],
    rows: impl Iterator<Item = ndarray::ArrayView1<'a, f64>>,
) -> Result<ndarray::ArrayD<f64>, crate::McmcError> {
    let e = layout
        .entry(name)
        .ok_or_else(|| unknown_name(layout, name))?;
    let mut shape = lead.to_vec();
    shape.extend_from_slice(&e.shape);
    let cols = e.columns();
    let total = lead.iter().product::<usize>() * e.numel();
    let mut values = Vec::with_capacity(total);
    for row in rows {
        values.extend(cols.clone().map(|k| row[k]));
    }
    ndarray::ArrayD::from_shape_vec(shape, values).map_err(|_| {
        crate::McmcError::DimensionMismatch {
            name: "recorded draws",
            expected: total,
            found: 0,
        }
    })
}

/// The error for a name nothing is recorded under: for an indexed name whose base exists
/// (`eta[0]`, `eta[9]` of `eta[1]` … `eta[8]`) the message gives the valid 1-based range,
/// otherwise it lists the recorded names.
pub(crate) fn unknown_name(layout: &Layout, name: &str) -> crate::McmcError {
    crate::McmcError::UnknownName {
        name: name.to_owned(),
        hint: name_hint(layout, name),
    }
}

/// What the valid names look like, for [`unknown_name`].
fn name_hint(layout: &Layout, name: &str) -> String {
    let wanted = name.split_once('[').map_or(name, |(b, _)| b).trim();
    let names = layout.names();
    match layout.entry(wanted) {
        Some(e) if !e.shape.is_empty() => {
            let cols = e.columns();
            format!(
                "`{wanted}` has {} elements, {} ..= {} (indices are 1-based)",
                e.numel(),
                names[cols.start],
                names[cols.end - 1]
            )
        }
        _ => {
            const SHOWN: usize = 20;
            let mut list: Vec<&str> = names.iter().take(SHOWN).map(String::as_str).collect();
            if names.len() > SHOWN {
                list.push("…");
            }
            format!("the recorded values are {}", list.join(", "))
        }
    }
}
