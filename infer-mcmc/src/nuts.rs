//! Multinomial No-U-Turn sampler with the generalized U-turn criterion, as in Stan.

use rand::Rng;

use crate::density::LogDensity;
use crate::error::{McmcError, check};
use crate::hamiltonian::{Divergence, LeapfrogOutcome, PhasePoint, Position, leapfrog};
use crate::kernel::{Integrator, Kernel, check_dims};
use crate::metric::Metric;
use crate::transition::Transition;

/// Options of the NUTS transition.
///
/// # Examples
///
/// ```
/// use infer_mcmc::NutsOptions;
///
/// let o = NutsOptions::default();
/// assert_eq!((o.max_depth, o.max_delta_h), (10, 1000.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NutsOptions {
    /// Maximum tree depth: at most 2^`max_depth` − 1 leapfrog steps per transition.
    /// Default 10 (Stan's `max_depth`).
    pub max_depth: usize,
    /// Divergence threshold on the energy error H − H₀. Default 1000 (Stan's `max_deltaH`).
    pub max_delta_h: f64,
}

impl Default for NutsOptions {
    fn default() -> Self {
        Self {
            max_depth: 10,
            max_delta_h: 1000.0,
        }
    }
}

impl NutsOptions {
    /// Checks `max_depth ≥ 1` (and ≤ 30) and `max_delta_h > 0`.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] naming the field.
    pub fn validate(&self) -> Result<(), McmcError> {
        check(
            (1..=30).contains(&self.max_depth),
            "max_depth",
            self.max_depth as f64,
            "an integer in 1..=30",
        )?;
        check(
            self.max_delta_h > 0.0,
            "max_delta_h",
            self.max_delta_h,
            "> 0",
        )
    }
}

/// The state a proposal needs: position, gradient, log p and H.
#[derive(Clone, Debug)]
struct Sample {
    q: Vec<f64>,
    grad: Vec<f64>,
    logp: f64,
    energy: f64,
}

impl Sample {
    fn new(dim: usize) -> Self {
        Self {
            q: vec![0.0; dim],
            grad: vec![0.0; dim],
            logp: f64::NAN,
            energy: f64::NAN,
        }
    }

    #[inline]
    fn set(&mut self, z: &PhasePoint) {
        self.q.copy_from_slice(&z.q);
        self.grad.copy_from_slice(&z.grad);
        self.logp = z.logp;
        self.energy = z.energy;
    }
}

/// A finished subtree: its boundary momenta, summed momentum, proposal and weight.
#[derive(Clone, Debug)]
struct Subtree {
    p_beg: Vec<f64>,
    ps_beg: Vec<f64>,
    p_end: Vec<f64>,
    ps_end: Vec<f64>,
    rho: Vec<f64>,
    propose: Sample,
    log_sum_weight: f64,
}

impl Subtree {
    fn new(dim: usize) -> Self {
        Self {
            p_beg: vec![0.0; dim],
            ps_beg: vec![0.0; dim],
            p_end: vec![0.0; dim],
            ps_end: vec![0.0; dim],
            rho: vec![0.0; dim],
            propose: Sample::new(dim),
            log_sum_weight: f64::NEG_INFINITY,
        }
    }
}

/// Storage for the two halves built at one recursion level.
#[derive(Clone, Debug)]
struct Level {
    init: Subtree,
    fin: Subtree,
}

/// Everything a transition writes, allocated once per sampler (levels grow on first use).
#[derive(Clone, Debug)]
struct Buffers {
    levels: Vec<Level>,
    top: Subtree,
    z_fwd: PhasePoint,
    z_bck: PhasePoint,
    sample: Sample,
    p_fwd_fwd: Vec<f64>,
    ps_fwd_fwd: Vec<f64>,
    p_fwd_bck: Vec<f64>,
    ps_fwd_bck: Vec<f64>,
    p_bck_fwd: Vec<f64>,
    ps_bck_fwd: Vec<f64>,
    p_bck_bck: Vec<f64>,
    ps_bck_bck: Vec<f64>,
    rho: Vec<f64>,
    rho_fwd: Vec<f64>,
    rho_bck: Vec<f64>,
}

impl Buffers {
    fn new(dim: usize) -> Self {
        let v = || vec![0.0; dim];
        Self {
            levels: Vec::new(),
            top: Subtree::new(dim),
            z_fwd: PhasePoint::new(dim),
            z_bck: PhasePoint::new(dim),
            sample: Sample::new(dim),
            p_fwd_fwd: v(),
            ps_fwd_fwd: v(),
            p_fwd_bck: v(),
            ps_fwd_bck: v(),
            p_bck_fwd: v(),
            ps_bck_fwd: v(),
            p_bck_bck: v(),
            ps_bck_bck: v(),
            rho: v(),
            rho_fwd: v(),
            rho_bck: v(),
        }
    }
}

/// log(eᵃ + eᵇ), exact at ±∞.
#[inline]
pub(crate) fn log_sum_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    let m = a.max(b);
    m + (-(a - b).abs()).exp().ln_1p()
}

/// Per-transition context threaded through the recursion.
struct Ctx<'a, M: ?Sized, R: ?Sized> {
    density: &'a mut M,
    metric: &'a Metric,
    rng: &'a mut R,
    eps: f64,
    h0: f64,
    max_delta_h: f64,
    n_leapfrog: usize,
    sum_metro_prob: f64,
    sum_sym_prob: f64,
    divergence: Option<Divergence>,
}

/// The multinomial No-U-Turn sampler (NUTS) with a fixed step size and metric.
///
/// One [`transition`](Nuts::transition) follows Stan's `base_nuts`: the trajectory doubles in
/// a random direction; the new subtree's states are drawn uniformly (multinomially, weight
/// exp(−H)) within it and merged with a biased progressive draw that favours the new subtree;
/// it stops when the generalized no-U-turn criterion p♯₋·ρ > 0 ∧ p♯₊·ρ > 0 (ρ = summed
/// momenta) fails on the whole trajectory, on any subtree, or across the boundary between
/// two merged subtrees (the two extra checks Stan added in 2.21), at the maximum depth, or on
/// a divergence (H − H₀ > `max_delta_h`, or a non-finite or rejected point). The acceptance
/// statistic is the mean of min(1, exp(H₀ − H)) over all leapfrog states.
///
/// All tree buffers are allocated when the sampler is created (the per-depth ones on their
/// first use); a transition allocates nothing.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{FnDensity, Kernel, Metric, MetricKind, Nuts, NutsOptions, Position};
/// use rand::SeedableRng;
///
/// let mut model = FnDensity::new(3, |x: &[f64], g: &mut [f64]| {
///     g.iter_mut().zip(x).for_each(|(g, x)| *g = -x);
///     Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
/// });
/// let mut nuts = Nuts::new(Metric::identity(3, MetricKind::Diagonal), 0.5, NutsOptions::default())?;
/// let mut pos = Position::new(&mut model, vec![1.0, -1.0, 0.0])?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let mut sum = 0.0;
/// for _ in 0..200 {
///     nuts.transition(&mut model, &mut pos, &mut rng)?;
///     sum += pos.q()[0];
/// }
/// assert!((sum / 200.0).abs() < 0.5);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
///
/// # References
///
/// - Hoffman & Gelman (2014), *The No-U-Turn Sampler*, JMLR 15.
/// - Betancourt (2017), *A Conceptual Introduction to Hamiltonian Monte Carlo*,
///   arXiv:1701.02434, appendix A (multinomial sampling, generalized criterion).
/// - Stan Development Team, *Stan Reference Manual*, "MCMC Sampling" (NUTS).
#[derive(Clone, Debug)]
pub struct Nuts {
    options: NutsOptions,
    integrator: Integrator,
    buf: Buffers,
}

impl Nuts {
    /// A NUTS kernel with the given metric and step size.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] for a step size that is not finite and positive or
    /// invalid options; [`McmcError::ZeroDimension`] for a 0-dimensional metric.
    pub fn new(metric: Metric, step_size: f64, options: NutsOptions) -> Result<Self, McmcError> {
        options.validate()?;
        let integrator = Integrator::new(metric, step_size)?;
        Ok(Self {
            options,
            buf: Buffers::new(integrator.dim()),
            integrator,
        })
    }

    /// The options.
    #[must_use]
    pub fn options(&self) -> NutsOptions {
        self.options
    }
}

impl Kernel for Nuts {
    fn integrator(&self) -> &Integrator {
        &self.integrator
    }

    fn integrator_mut(&mut self) -> &mut Integrator {
        &mut self.integrator
    }

    /// One NUTS transition from `position`, which is moved to the selected state.
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
    ) -> Result<Transition, McmcError> {
        let (metric, step_size) = (self.integrator.metric(), self.integrator.step_size());
        let dim = metric.dim();
        check_dims(dim, density.dim(), position)?;
        let Buffers {
            levels,
            top,
            z_fwd,
            z_bck,
            sample,
            p_fwd_fwd,
            ps_fwd_fwd,
            p_fwd_bck,
            ps_fwd_bck,
            p_bck_fwd,
            ps_bck_fwd,
            p_bck_bck,
            ps_bck_bck,
            rho,
            rho_fwd,
            rho_bck,
        } = &mut self.buf;

        z_fwd.start(position, metric, rng);
        z_bck.copy_from(z_fwd);
        sample.set(z_fwd);
        for v in [&mut *p_fwd_fwd, p_fwd_bck, p_bck_fwd, p_bck_bck, rho] {
            v.copy_from_slice(&z_fwd.p);
        }
        for v in [&mut *ps_fwd_fwd, ps_fwd_bck, ps_bck_fwd, ps_bck_bck] {
            v.copy_from_slice(&z_fwd.p_sharp);
        }
        let h0 = z_fwd.energy;
        let mut ctx = Ctx {
            density,
            metric,
            rng,
            eps: step_size,
            h0,
            max_delta_h: self.options.max_delta_h,
            n_leapfrog: 0,
            sum_metro_prob: 0.0,
            sum_sym_prob: 0.0,
            divergence: None,
        };
        let mut log_sum_weight = 0.0;
        let mut depth = 0;

        while depth < self.options.max_depth {
            while levels.len() < depth {
                levels.push(Level {
                    init: Subtree::new(dim),
                    fin: Subtree::new(dim),
                });
            }
            let forward = ctx.rng.random::<f64>() > 0.5;
            let valid = if forward {
                // The old trajectory becomes the backward part; extend from its forward end.
                std::mem::swap(rho_bck, rho);
                std::mem::swap(p_bck_fwd, p_fwd_fwd);
                std::mem::swap(ps_bck_fwd, ps_fwd_fwd);
                ctx.eps = step_size;
                let valid = build_tree(&mut ctx, z_fwd, depth, top, &mut levels[..depth])?;
                std::mem::swap(p_fwd_bck, &mut top.p_beg);
                std::mem::swap(ps_fwd_bck, &mut top.ps_beg);
                std::mem::swap(p_fwd_fwd, &mut top.p_end);
                std::mem::swap(ps_fwd_fwd, &mut top.ps_end);
                std::mem::swap(rho_fwd, &mut top.rho);
                valid
            } else {
                // The old trajectory becomes the forward part; extend from its backward end.
                std::mem::swap(rho_fwd, rho);
                std::mem::swap(p_fwd_bck, p_bck_bck);
                std::mem::swap(ps_fwd_bck, ps_bck_bck);
                ctx.eps = -step_size;
                let valid = build_tree(&mut ctx, z_bck, depth, top, &mut levels[..depth])?;
                std::mem::swap(p_bck_fwd, &mut top.p_beg);
                std::mem::swap(ps_bck_fwd, &mut top.ps_beg);
                std::mem::swap(p_bck_bck, &mut top.p_end);
                std::mem::swap(ps_bck_bck, &mut top.ps_end);
                std::mem::swap(rho_bck, &mut top.rho);
                valid
            };
            if !valid {
                break;
            }
            depth += 1;

            // Biased progressive sampling: favour the new subtree.
            if top.log_sum_weight > log_sum_weight {
                std::mem::swap(sample, &mut top.propose);
            } else {
                let accept = (top.log_sum_weight - log_sum_weight).exp();
                if ctx.rng.random::<f64>() < accept {
                    std::mem::swap(sample, &mut top.propose);
                }
            }
            log_sum_weight = log_sum_exp(log_sum_weight, top.log_sum_weight);

            // ρ = ρ_bck + ρ_fwd; criterion over the merged trajectory and across the seam.
            let mut d = [0.0f64; 6];
            for i in 0..dim {
                let r = rho_bck[i] + rho_fwd[i];
                rho[i] = r;
                d[0] += ps_bck_bck[i] * r;
                d[1] += ps_fwd_fwd[i] * r;
                let r_bck_ext = rho_bck[i] + p_fwd_bck[i];
                d[2] += ps_bck_bck[i] * r_bck_ext;
                d[3] += ps_fwd_bck[i] * r_bck_ext;
                let r_fwd_ext = rho_fwd[i] + p_bck_fwd[i];
                d[4] += ps_bck_fwd[i] * r_fwd_ext;
                d[5] += ps_fwd_fwd[i] * r_fwd_ext;
            }
            if !d.iter().all(|&v| v > 0.0) {
                break;
            }
        }

        let n_leapfrog = ctx.n_leapfrog;
        let accept_stat = ctx.sum_metro_prob / n_leapfrog as f64;
        let accept_stat_sym = ctx.sum_sym_prob / n_leapfrog as f64;
        let divergence = ctx.divergence;
        position.q.copy_from_slice(&sample.q);
        position.grad.copy_from_slice(&sample.grad);
        position.logp = sample.logp;
        Ok(Transition {
            accept_stat,
            accept_stat_sym,
            n_leapfrog,
            tree_depth: depth,
            divergent: divergence.is_some(),
            divergence,
            energy: sample.energy,
            logp: sample.logp,
            step_size,
        })
    }
}

/// Builds a subtree of 2^`depth` leapfrog steps from `z` into `out`; returns whether it is
/// valid (no divergence, no U-turn inside). `levels` has exactly `depth` entries.
fn build_tree<M: LogDensity + ?Sized, R: Rng + ?Sized>(
    ctx: &mut Ctx<'_, M, R>,
    z: &mut PhasePoint,
    depth: usize,
    out: &mut Subtree,
    levels: &mut [Level],
) -> Result<bool, McmcError> {
    let Some((level, lower)) = levels.split_last_mut() else {
        // Base case: one leapfrog step.
        let outcome = leapfrog(ctx.density, ctx.metric, z, ctx.eps, ctx.h0, ctx.max_delta_h)?;
        ctx.n_leapfrog += 1;
        let w = ctx.h0 - outcome.energy();
        out.log_sum_weight = w;
        ctx.sum_metro_prob += if w > 0.0 { 1.0 } else { w.exp() };
        ctx.sum_sym_prob += symmetric_accept(w);
        if let LeapfrogOutcome::Divergent(d) = outcome {
            ctx.divergence = Some(d);
            return Ok(false);
        }
        out.propose.set(z);
        out.p_beg.copy_from_slice(&z.p);
        out.ps_beg.copy_from_slice(&z.p_sharp);
        out.p_end.copy_from_slice(&z.p);
        out.ps_end.copy_from_slice(&z.p_sharp);
        out.rho.copy_from_slice(&z.p);
        return Ok(true);
    };
    debug_assert_eq!(lower.len() + 1, depth);
    let Level { init, fin } = level;
    if !build_tree(ctx, z, depth - 1, init, lower)? {
        return Ok(false);
    }
    if !build_tree(ctx, z, depth - 1, fin, lower)? {
        return Ok(false);
    }

    // Multinomial (uniform-progressive) choice between the two halves.
    let lsw = log_sum_exp(init.log_sum_weight, fin.log_sum_weight);
    out.log_sum_weight = lsw;
    let take_final = if fin.log_sum_weight > lsw {
        true
    } else {
        ctx.rng.random::<f64>() < (fin.log_sum_weight - lsw).exp()
    };
    if take_final {
        std::mem::swap(&mut out.propose, &mut fin.propose);
    } else {
        std::mem::swap(&mut out.propose, &mut init.propose);
    }

    let n = out.rho.len();
    let mut d = [0.0f64; 6];
    for i in 0..n {
        let r = init.rho[i] + fin.rho[i];
        out.rho[i] = r;
        d[0] += init.ps_beg[i] * r;
        d[1] += fin.ps_end[i] * r;
        let r_init_ext = init.rho[i] + fin.p_beg[i];
        d[2] += init.ps_beg[i] * r_init_ext;
        d[3] += fin.ps_beg[i] * r_init_ext;
        let r_fin_ext = fin.rho[i] + init.p_end[i];
        d[4] += init.ps_end[i] * r_fin_ext;
        d[5] += fin.ps_end[i] * r_fin_ext;
    }
    std::mem::swap(&mut out.p_beg, &mut init.p_beg);
    std::mem::swap(&mut out.ps_beg, &mut init.ps_beg);
    std::mem::swap(&mut out.p_end, &mut fin.p_end);
    std::mem::swap(&mut out.ps_end, &mut fin.ps_end);
    Ok(d.iter().all(|&v| v > 0.0))
}

/// The symmetric acceptance probability 2 / (1 + exp|w|) of an energy change w = H₀ − H
/// (= 2 min(1, eʷ) / (1 + eʷ), nuts-rs's `mean_sym` term); 0 for NaN or infinite |w|.
pub(crate) fn symmetric_accept(w: f64) -> f64 {
    if w.is_nan() {
        0.0
    } else {
        2.0 / (1.0 + w.abs().exp())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_sum_exp_edges() {
        assert_eq!(log_sum_exp(f64::NEG_INFINITY, 1.0), 1.0);
        assert_eq!(log_sum_exp(2.0, f64::NEG_INFINITY), 2.0);
        assert!((log_sum_exp(0.0, 0.0) - 2f64.ln()).abs() < 1e-15);
        assert_eq!(log_sum_exp(f64::INFINITY, 0.0), f64::INFINITY);
    }

    #[test]
    fn symmetric_accept_matches_its_definition() {
        // 2 min(1, eʷ) / (1 + eʷ), the unsimplified form, where it does not overflow
        for w in [-30.0, -2.5, -0.1, 0.0, 0.1, 2.5, 30.0] {
            let e: f64 = f64::exp(w);
            let direct = 2.0 * e.min(1.0) / (1.0 + e);
            assert!((symmetric_accept(w) - direct).abs() < 1e-15, "w = {w}");
            assert_eq!(symmetric_accept(w), symmetric_accept(-w));
        }
        assert_eq!(symmetric_accept(0.0), 1.0);
        assert_eq!(symmetric_accept(f64::NEG_INFINITY), 0.0);
        assert_eq!(symmetric_accept(f64::INFINITY), 0.0);
        assert_eq!(symmetric_accept(f64::NAN), 0.0);
        assert_eq!(symmetric_accept(-1e10), 0.0);
    }
}
