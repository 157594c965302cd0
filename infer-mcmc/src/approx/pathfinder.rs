//! Single-path Pathfinder (Zhang, Carpenter, Gelman & Vehtari 2022, Algorithm 1): along the
//! L-BFGS path of −log p, the normal approximation of [`normal`](super::normal) at each
//! iterate, the one with the largest ELBO (estimated with K draws), and M draws from it.

use std::collections::VecDeque;

use ndarray::Array2;
use rand::SeedableRng;

use super::lbfgs::{Convergence, Lbfgs, LbfgsOptions};
use super::normal::{LowRankNormal, curvature_ok, update_diagonal};
use super::{ApproxError, check, check_init_radius, check_max_init_tries};
use crate::density::{Counted, LogDensity};
use crate::error::LogDensityError;
use crate::fit::ChainRng;
use crate::init::random_init;
use crate::sampler::chain_seed;

/// Pathfinder's settings; every default is CmdStan's `method=pathfinder`.
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::PathfinderSettings;
///
/// let s = PathfinderSettings::default();
/// assert_eq!((s.num_paths, s.num_draws, s.num_psis_draws, s.num_elbo_draws), (4, 1000, 1000, 25));
/// assert_eq!((s.lbfgs.history_size, s.lbfgs.max_iterations), (5, 1000));
/// assert!(PathfinderSettings { num_elbo_draws: 0, ..s }.validate().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathfinderSettings {
    /// Independent paths, each from its own random initial point; with more than one their
    /// draws are importance-resampled. Default 4.
    pub num_paths: usize,
    /// Draws returned by each path (M; its ELBO draws included, as in Stan). Default 1000.
    pub num_draws: usize,
    /// Draws importance-resampled from all paths' draws (multi-path). Default 1000.
    pub num_psis_draws: usize,
    /// Draws of each ELBO estimate (K). Default 25.
    pub num_elbo_draws: usize,
    /// L-BFGS settings; `history_size` (J, default 5) is also the number of correction
    /// pairs of the inverse-Hessian estimate; `max_iterations` (L) defaults to 1000,
    /// `rel_patience` to 20 (CmdStan: 1; see [`LbfgsOptions::rel_patience`]: on
    /// earn_height and kilpisjarvi L-BFGS stalls for 10–20 iterations along the
    /// intercept–slope ridge, many posterior sds from the mode, before it moves on), the
    /// rest to CmdStan's.
    pub lbfgs: LbfgsOptions,
    /// Initial points are drawn Uniform(−`init_radius`, `init_radius`) on the unconstrained
    /// scale. Default 2.
    pub init_radius: f64,
    /// Random initial points tried per path. Default 100.
    pub max_init_tries: usize,
    /// Importance-resample the draws of several paths (else all are returned with their
    /// log p and log q). Default `true`.
    pub psis_resample: bool,
    /// Seed of every path's RNG (path `i` uses [`chain_seed`]`(seed, i)`). Default 0.
    pub seed: u64,
    /// Worker threads for the paths; 0 means one per path up to the available parallelism.
    /// The result does not depend on it. Default 0.
    pub num_threads: usize,
}

impl Default for PathfinderSettings {
    fn default() -> Self {
        Self {
            num_paths: 4,
            num_draws: 1000,
            num_psis_draws: 1000,
            num_elbo_draws: 25,
            lbfgs: LbfgsOptions {
                max_iterations: 1000,
                rel_patience: 20,
                ..LbfgsOptions::default()
            },
            init_radius: 2.0,
            max_init_tries: 100,
            psis_resample: true,
            seed: 0,
            num_threads: 0,
        }
    }
}

impl PathfinderSettings {
    /// Checks every field: counts ≥ 1, `init_radius` finite and ≥ 0, `max_init_tries` in
    /// 1 ..= 10⁶, the L-BFGS options.
    ///
    /// # Errors
    ///
    /// [`ApproxError::InvalidSetting`] naming the first invalid field.
    pub fn validate(&self) -> Result<(), ApproxError> {
        for (name, v) in [
            ("num_paths", self.num_paths),
            ("num_draws", self.num_draws),
            ("num_psis_draws", self.num_psis_draws),
            ("num_elbo_draws", self.num_elbo_draws),
        ] {
            check(v >= 1, name, v as f64, ">= 1")?;
        }
        check_init_radius(self.init_radius)?;
        check_max_init_tries(self.max_init_tries)?;
        self.lbfgs.validate()
    }

    /// The number of draws the run returns: `num_draws` for one path, `num_psis_draws`
    /// with resampling, else `num_paths × num_draws` (at most; a failed path gives none).
    #[must_use]
    pub fn output_draws(&self) -> usize {
        if self.num_paths == 1 {
            self.num_draws
        } else if self.psis_resample {
            self.num_psis_draws
        } else {
            self.num_paths.saturating_mul(self.num_draws)
        }
    }

    /// The settings as `key = value` lines for a CSV header, CmdStan's names.
    pub(crate) fn config(&self) -> Vec<(String, String)> {
        let l = &self.lbfgs;
        [
            ("init_alpha", l.init_alpha.to_string()),
            ("tol_obj", l.tol_obj.to_string()),
            ("tol_rel_obj", l.tol_rel_obj.to_string()),
            ("tol_grad", l.tol_grad.to_string()),
            ("tol_rel_grad", l.tol_rel_grad.to_string()),
            ("tol_param", l.tol_param.to_string()),
            ("history_size", l.history_size.to_string()),
            ("num_psis_draws", self.num_psis_draws.to_string()),
            ("num_paths", self.num_paths.to_string()),
            ("psis_resample", u8::from(self.psis_resample).to_string()),
            ("calculate_lp", "1".to_owned()),
            ("max_lbfgs_iters", l.max_iterations.to_string()),
            ("num_draws", self.num_draws.to_string()),
            ("num_elbo_draws", self.num_elbo_draws.to_string()),
            ("seed", self.seed.to_string()),
            ("init", self.init_radius.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

/// The output of one Pathfinder path (Algorithm 1 of Zhang et al. 2022).
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::{PathfinderSettings, single_path};
/// use infer_mcmc::models::Gauss;
///
/// let r = single_path(&mut Gauss::new(2), &PathfinderSettings::default(), 0)?;
/// assert_eq!(r.draws.dim(), (1000, 2));
/// assert!(r.elbo.is_finite() && r.best_iteration >= 1);
/// # Ok::<(), infer_mcmc::approx::ApproxError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PathResult {
    /// The path (0-based).
    pub path: usize,
    /// The draws on the unconstrained scale, draws × dimension: the ELBO draws of the best
    /// iterate first, then the rest.
    pub draws: Array2<f64>,
    /// log p of each draw (−∞ where the density rejected it).
    pub log_p: Vec<f64>,
    /// log q of each draw under the path's best normal approximation.
    pub log_q: Vec<f64>,
    /// The best ELBO estimate.
    pub elbo: f64,
    /// The L-BFGS iteration of the best approximation (1-based).
    pub best_iteration: usize,
    /// L-BFGS iterations run.
    pub iterations: usize,
    /// Why L-BFGS stopped; `None` when its line search failed (the iterates before count).
    pub convergence: Option<Convergence>,
    /// Every log-density and gradient evaluation of the path (initial point, L-BFGS, ELBO
    /// and output draws).
    pub gradient_evals: u64,
}

/// The best approximation so far: its ELBO, iteration, the approximation and its ELBO
/// draws (unconstrained rows, log p, log q).
struct Best {
    elbo: f64,
    iteration: usize,
    normal: LowRankNormal,
    draws: Vec<Vec<f64>>,
    log_p: Vec<f64>,
    log_q: Vec<f64>,
}

/// Runs path `path` of Pathfinder (Zhang et al. 2022, Algorithm 1) on `density`: a random
/// initial point (Uniform(−`init_radius`, `init_radius`), RNG seeded with
/// [`chain_seed`]`(settings.seed, path)`), L-BFGS on −log p, and after each iteration the
/// correction pair (s, y) — kept when yᵀs > 0 and yᵀy / yᵀs ≤ 10¹², the last J of them — the
/// diagonal update, the normal approximation and its ELBO, E_q[log p − log q] estimated with
/// K draws (a draw the density rejects has log p = −∞, so its approximation an ELBO of −∞, as
/// in Stan). The approximation with the largest ELBO gives M draws (its K ELBO draws among
/// them). A line-search failure ends the path; the iterates before it count.
///
/// # Errors
///
/// [`ApproxError::InvalidSetting`] for invalid settings; [`ApproxError::Mcmc`] wrapping
/// [`McmcError::NoFiniteInit`](crate::McmcError::NoFiniteInit) when no initial point has a
/// finite log density; [`ApproxError::NoApproximation`] when no iterate gives a finite ELBO
/// ([`ApproxError::LineSearch`] when the line search failed at the first iteration);
/// [`ApproxError::LogDensity`] for a fatal failure of the density.
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::{PathfinderSettings, single_path};
/// use infer_mcmc::models::EightSchools;
///
/// let s = PathfinderSettings { num_draws: 100, ..PathfinderSettings::default() };
/// let a = single_path(&mut EightSchools::classic(), &s, 0)?;
/// let b = single_path(&mut EightSchools::classic(), &s, 1)?;
/// assert_eq!(a.log_q.len(), 100);
/// assert_ne!(a.draws, b.draws); // each path its own seed
/// # Ok::<(), infer_mcmc::approx::ApproxError>(())
/// ```
pub fn single_path<M: LogDensity + ?Sized>(
    density: &mut M,
    settings: &PathfinderSettings,
    path: usize,
) -> Result<PathResult, ApproxError> {
    settings.validate()?;
    let mut rng = ChainRng::seed_from_u64(chain_seed(settings.seed, path));
    let mut density = Counted::new(density);
    let n = density.dim();
    let start = random_init(
        &mut density,
        settings.init_radius,
        settings.max_init_tries,
        path,
        &mut rng,
    )?;
    let mut opt = Lbfgs::new(&mut density, start.q().to_vec(), settings.lbfgs)?;
    let mut x_prev = opt.x().to_vec();
    let mut g_prev: Vec<f64> = start.grad().iter().map(|g| -g).collect();
    let mut alpha = vec![1.0; n];
    let mut pairs: VecDeque<(Vec<f64>, Vec<f64>)> = VecDeque::new();
    let mut best: Option<Best> = None;
    let (mut u, mut draw, mut grad) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut convergence = None;
    let mut failure = None;
    loop {
        let stop = match opt.step(&mut density) {
            Ok(stop) => stop,
            Err(e @ ApproxError::LineSearch { .. }) => {
                failure = Some(e);
                break;
            }
            Err(e) => return Err(e),
        };
        let x = opt.x().to_vec();
        let g: Vec<f64> = opt.grad().iter().map(|v| -v).collect();
        let s: Vec<f64> = x.iter().zip(&x_prev).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = g.iter().zip(&g_prev).map(|(a, b)| a - b).collect();
        x_prev.clone_from(&x);
        g_prev.clone_from(&g);
        if curvature_ok(&s, &y) {
            update_diagonal(&mut alpha, &s, &y);
            if pairs.len() == settings.lbfgs.history_size {
                pairs.pop_front();
            }
            pairs.push_back((s, y));
        }
        if !pairs.is_empty() {
            let sr: Vec<&[f64]> = pairs.iter().map(|(s, _)| s.as_slice()).collect();
            let yr: Vec<&[f64]> = pairs.iter().map(|(_, y)| y.as_slice()).collect();
            if let Some(normal) = LowRankNormal::new(&x, &g, &alpha, &sr, &yr) {
                let k = settings.num_elbo_draws;
                let (mut draws, mut log_p, mut log_q) = (
                    Vec::with_capacity(k),
                    Vec::with_capacity(k),
                    Vec::with_capacity(k),
                );
                for _ in 0..k {
                    log_q.push(normal.draw(&mut rng, &mut u, &mut draw));
                    log_p.push(log_p_at(&mut density, &draw, &mut grad)?);
                    draws.push(draw.clone());
                }
                let elbo = log_p.iter().zip(&log_q).map(|(p, q)| p - q).sum::<f64>() / k as f64;
                let elbo = if elbo.is_nan() {
                    f64::NEG_INFINITY
                } else {
                    elbo
                };
                if best.as_ref().is_none_or(|b| elbo > b.elbo) && elbo > f64::NEG_INFINITY {
                    best = Some(Best {
                        elbo,
                        iteration: opt.iterations(),
                        normal,
                        draws,
                        log_p,
                        log_q,
                    });
                }
            }
        }
        if let Some(stop) = stop {
            convergence = Some(stop);
            break;
        }
    }
    let Some(mut best) = best else {
        return Err(match failure {
            Some(e) if opt.iterations() <= 1 => e,
            _ => ApproxError::NoApproximation {
                path,
                iterations: opt.iterations(),
            },
        });
    };
    let m = settings.num_draws;
    best.draws.truncate(m);
    best.log_p.truncate(m);
    best.log_q.truncate(m);
    while best.draws.len() < m {
        best.log_q
            .push(best.normal.draw(&mut rng, &mut u, &mut draw));
        best.log_p.push(log_p_at(&mut density, &draw, &mut grad)?);
        best.draws.push(draw.clone());
    }
    let flat: Vec<f64> = best.draws.into_iter().flatten().collect();
    let draws =
        Array2::from_shape_vec((m, n), flat).map_err(|_| ApproxError::DimensionMismatch {
            name: "draws",
            expected: m * n,
            found: 0,
        })?;
    Ok(PathResult {
        path,
        draws,
        log_p: best.log_p,
        log_q: best.log_q,
        elbo: best.elbo,
        best_iteration: best.iteration,
        iterations: opt.iterations(),
        convergence,
        gradient_evals: density.evals,
    })
}

/// log p at `x`, −∞ where the density rejects the point (a recoverable error or a value
/// that is not finite); a fatal failure is an error.
pub(crate) fn log_p_at<M: LogDensity + ?Sized>(
    density: &mut M,
    x: &[f64],
    grad: &mut [f64],
) -> Result<f64, ApproxError> {
    match density.logp_and_grad(x, grad) {
        Ok(lp) if lp.is_finite() => Ok(lp),
        Ok(_) => Ok(f64::NEG_INFINITY),
        Err(LogDensityError::Recoverable { .. }) => Ok(f64::NEG_INFINITY),
        Err(e) => Err(e.into()),
    }
}
