//! The result of one Markov transition, with Stan's per-draw sampler statistics.

use crate::hamiltonian::Divergence;

/// What one transition did: the statistics Stan reports per draw.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{FnDensity, Kernel, Metric, MetricKind, Nuts, NutsOptions, Position};
/// use rand::SeedableRng;
///
/// let mut model = FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
///     g[0] = -x[0];
///     Ok(-0.5 * x[0] * x[0])
/// });
/// let mut nuts = Nuts::new(Metric::identity(1, MetricKind::Diagonal), 0.9, NutsOptions::default())?;
/// let mut pos = Position::new(&mut model, vec![0.5])?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
/// let t = nuts.transition(&mut model, &mut pos, &mut rng)?;
/// assert!(t.n_leapfrog >= 1 && t.accept_stat <= 1.0 && !t.divergent);
/// assert_eq!(t.logp, pos.logp());
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition {
    /// Average acceptance statistic: for NUTS the mean of min(1, exp(H₀ − H)) over every
    /// leapfrog state of the trajectory (Stan's `accept_stat__`); for static HMC the
    /// Metropolis acceptance probability.
    pub accept_stat: f64,
    /// Symmetric acceptance statistic: the mean of 2 / (1 + exp|H₀ − H|) over the same states
    /// (0 at a divergence), which weighs energy errors of either sign alike; nutpie's warmup
    /// adapts the step size to it late in tuning (nuts-rs 0.19, `AcceptanceRateCollector`'s
    /// `mean_sym`). Equal to `accept_stat` in expectation only for symmetric errors; it is
    /// larger when the errors are mostly positive, so targeting it allows longer steps.
    pub accept_stat_sym: f64,
    /// Number of leapfrog steps (= gradient evaluations) taken (`n_leapfrog__`).
    pub n_leapfrog: usize,
    /// Depth of the NUTS tree (`treedepth__`); 0 for static HMC.
    pub tree_depth: usize,
    /// Whether the trajectory diverged (`divergent__`).
    pub divergent: bool,
    /// Why it diverged, if it did.
    pub divergence: Option<Divergence>,
    /// Hamiltonian H at the selected state (`energy__`).
    pub energy: f64,
    /// log p at the selected state (`lp__`).
    pub logp: f64,
    /// Step size used (`stepsize__`).
    pub step_size: f64,
}
