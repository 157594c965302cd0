//! Multi-path Pathfinder (Zhang et al. 2022, Algorithm 2): independent paths, in parallel,
//! their draws pooled and importance-resampled with Pareto-smoothed weights.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use ndarray::Array2;
use rand::SeedableRng;
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;

use super::pathfinder::{PathResult, PathfinderSettings, single_path};
use super::psis::psis;
use super::{ApproxError, Approximation, Method, catch_panic};
use crate::density::LogDensity;
use crate::error::McmcError;
use crate::fit::ChainRng;
use crate::model::{Model, TapeModel};
use crate::panic::catch_model_panic;
use crate::sampler::splitmix64;

/// Mixed into the seed for the RNG of the importance resampling.
const RESAMPLE_STREAM: u64 = 0x7073_6973_7265_7361;
/// Mixed into the seed for the RNG of the draws' generated quantities.
const GQ_STREAM: u64 = 0x7061_7468_6771_7273;

/// Pathfinder with `settings.num_paths` paths, path `i` on its own density from
/// `make_density(i)` (called on the path's thread), the paths on `settings.num_threads`
/// threads. One path ([`Method::Pathfinder`]): its `num_draws` draws. Several
/// ([`Method::MultiPathfinder`]): the draws of the paths that succeeded, pooled; with
/// `psis_resample` (the default) `num_psis_draws` of them drawn with replacement with
/// probabilities the Pareto-smoothed importance weights ([`psis`] of log p − log q, each draw's
/// log q under its own path's approximation, as in Stan), whose k̂ is
/// [`Approximation::pareto_k`]. A path that fails (no finite initial point, a line search
/// that fails at once, no finite ELBO) is left out, as Stan leaves it out. The draws are
/// recorded (constrained values, transformed parameters, generated quantities) with the
/// density of `make_density(0)`. The result is the same for every thread count.
///
/// # Errors
///
/// [`ApproxError::InvalidSetting`] for invalid settings; with one path, that path's error;
/// with several, [`ApproxError::AllPathsFailed`] when every path failed, and the first
/// fatal error of a path (a fatal log-density failure, a panic of the model as
/// [`McmcError::ChainPanicked`] with the path as its chain) otherwise; [`ApproxError::Draw`]
/// when a draw cannot be recorded.
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::{Method, PathfinderSettings, pathfinder};
/// use infer_mcmc::models::EightSchools;
///
/// let approx = pathfinder(&PathfinderSettings::default(), |_| EightSchools::classic())?;
/// assert_eq!(approx.method, Method::MultiPathfinder);
/// assert_eq!(approx.num_draws(), 1000);
/// assert!(approx.draws_by_name("tau")?.iter().all(|&t| t > 0.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn pathfinder<M, F>(
    settings: &PathfinderSettings,
    make_density: F,
) -> Result<Approximation, ApproxError>
where
    M: LogDensity,
    F: Fn(usize) -> M + Sync,
{
    settings.validate()?;
    let start = Instant::now();
    let results = run_paths(settings, |path| {
        let mut density = make_density(path);
        single_path(&mut density, settings, path)
    });
    let mut density = catch_model_panic(0, || Ok(make_density(0)))?;
    combine(results, &mut density, settings, start)
}

/// [`pathfinder`] with every path run in turn on one density (the same result as
/// [`pathfinder`] with a factory of copies of it).
///
/// # Errors
///
/// As [`pathfinder`].
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::{PathfinderSettings, pathfinder, pathfinder_on};
/// use infer_mcmc::models::Gauss;
///
/// let s = PathfinderSettings { num_paths: 2, ..PathfinderSettings::default() };
/// let a = pathfinder_on(&mut Gauss::new(2), &s)?;
/// let b = pathfinder(&s, |_| Gauss::new(2))?;
/// assert_eq!(a.unconstrained, b.unconstrained);
/// # Ok::<(), infer_mcmc::approx::ApproxError>(())
/// ```
pub fn pathfinder_on<M: LogDensity + ?Sized>(
    density: &mut M,
    settings: &PathfinderSettings,
) -> Result<Approximation, ApproxError> {
    settings.validate()?;
    let start = Instant::now();
    let results = (0..settings.num_paths)
        .map(|path| catch_panic(path, || single_path(density, settings, path)))
        .collect();
    combine(results, density, settings, start)
}

/// [`pathfinder`] for a [`Model`]: its layout is learned once, then each path evaluates its
/// own [`TapeModel`] (with the Jacobian of the transforms: the posterior of the
/// unconstrained coordinates, as Stan's Pathfinder).
///
/// # Errors
///
/// [`ApproxError::Mcmc`] wrapping [`McmcError::Model`] for invalid declarations; otherwise as
/// [`pathfinder`].
///
/// # Examples
///
/// ```
/// use infer_ad::Var;
/// use infer_dist::{Constraint, Distribution, Normal};
/// use infer_mcmc::approx::{PathfinderSettings, pathfinder_model};
/// use infer_mcmc::model::{Model, Params};
/// use infer_mcmc::LogDensityError;
///
/// /// y = 1.2, 0.8, 1.5 ~ N(mu, sigma), mu ~ N(0, 10), sigma ~ N⁺(0, 2)
/// struct Mean;
/// impl Model for Mean {
///     fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
///         let mu = p.scalar("mu", Constraint::Real)?;
///         let sigma = p.scalar("sigma", Constraint::Positive)?;
///         Ok(Normal::new(0.0, 10.0)?.log_prob_sum(mu)?
///             + Normal::new(0.0, 2.0)?.log_prob_sum(sigma)?
///             + Normal::new(mu, sigma)?.log_prob_sum(&ndarray::arr1(&[1.2, 0.8, 1.5]))?)
///     }
/// }
/// let approx = pathfinder_model(&Mean, &PathfinderSettings::default())?;
/// assert_eq!(approx.param_names(), ["mu", "sigma"]);
/// assert!(approx.draws_by_name("sigma")?.iter().all(|&s| s > 0.0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn pathfinder_model<M: Model + Sync>(
    model: &M,
    settings: &PathfinderSettings,
) -> Result<Approximation, ApproxError> {
    let (layout, order) = catch_model_panic(0, || TapeModel::new(model))?.parts();
    pathfinder(settings, |_| {
        TapeModel::with_parts(model, layout.clone(), order.clone())
    })
}

/// Runs `run(path)` for every path on the settings' threads, a panic caught as the path's
/// error, the results in path order.
fn run_paths<R>(settings: &PathfinderSettings, run: R) -> Vec<Result<PathResult, ApproxError>>
where
    R: Fn(usize) -> Result<PathResult, ApproxError> + Sync,
{
    let n = settings.num_paths;
    let available = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = match settings.num_threads {
        0 => available.min(n),
        t => t.min(n),
    };
    let run = |path: usize| catch_panic(path, || run(path));
    if threads <= 1 {
        return (0..n).map(run).collect();
    }
    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<PathResult, ApproxError>>>> =
        (0..n).map(|_| Mutex::new(None)).collect();
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let path = next.fetch_add(1, Ordering::Relaxed);
                    if path >= n {
                        break;
                    }
                    let r = run(path);
                    *slots[path].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
                }
            });
        }
    });
    slots
        .into_iter()
        .enumerate()
        .map(|(path, m)| {
            m.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .unwrap_or_else(|| {
                    Err(ApproxError::Mcmc(McmcError::ChainPanicked {
                        chain: path,
                        message: "the path's thread ended without a result".to_owned(),
                        location: None,
                    }))
                })
        })
        .collect()
}

/// Pools the paths' results into the approximation (see [`pathfinder`]).
fn combine<M: LogDensity + ?Sized>(
    results: Vec<Result<PathResult, ApproxError>>,
    density: &mut M,
    settings: &PathfinderSettings,
    start: Instant,
) -> Result<Approximation, ApproxError> {
    let paths = results.len();
    let mut gq_rng = ChainRng::seed_from_u64(splitmix64(settings.seed ^ GQ_STREAM));
    let mut config = settings.config();
    if paths == 1 {
        let r = results
            .into_iter()
            .next()
            .ok_or(ApproxError::AllPathsFailed {
                paths: 0,
                first: Box::new(ApproxError::NoApproximation {
                    path: 0,
                    iterations: 0,
                }),
            })??;
        config.push(("best_iteration".to_owned(), r.best_iteration.to_string()));
        config.push(("elbo".to_owned(), r.elbo.to_string()));
        config.push(("lbfgs_iterations".to_owned(), r.iterations.to_string()));
        config.push((
            "lbfgs_convergence".to_owned(),
            r.convergence
                .map_or_else(|| "LineSearchFailed".to_owned(), |c| format!("{c:?}")),
        ));
        let approx = Approximation::with_log_p(
            density,
            Method::Pathfinder,
            r.draws,
            r.log_q,
            r.log_p,
            &mut gq_rng,
        )?;
        return Ok(approx
            .add_gradient_evals(r.gradient_evals)
            .with_config(config)
            .with_wall_seconds(start.elapsed().as_secs_f64()));
    }
    let mut ok = Vec::with_capacity(paths);
    let mut first_error = None;
    for r in results {
        match r {
            Ok(r) => ok.push(r),
            Err(e) if e.is_path_failure() => {
                first_error.get_or_insert(e);
            }
            Err(e) => return Err(e),
        }
    }
    if ok.is_empty() {
        return Err(ApproxError::AllPathsFailed {
            paths,
            first: Box::new(first_error.unwrap_or(ApproxError::NoApproximation {
                path: 0,
                iterations: 0,
            })),
        });
    }
    let n = density.dim();
    let evals: u64 = ok.iter().map(|r| r.gradient_evals).sum();
    config.push(("successful_paths".to_owned(), ok.len().to_string()));
    let mut rows: Vec<&[f64]> = Vec::new();
    let (mut log_p, mut log_q) = (Vec::new(), Vec::new());
    for r in &ok {
        for (i, row) in r.draws.rows().into_iter().enumerate() {
            rows.push(row.to_slice().unwrap_or(&[]));
            log_p.push(r.log_p[i]);
            log_q.push(r.log_q[i]);
        }
    }
    let (picked, pareto_k) = if settings.psis_resample {
        let ratios: Vec<f64> = log_p.iter().zip(&log_q).map(|(p, q)| p - q).collect();
        let smoothed = psis(&ratios, 1.0)?;
        let weights: Vec<f64> = smoothed.log_weights.iter().map(|w| w.exp()).collect();
        let index = WeightedIndex::new(&weights).map_err(|_| ApproxError::InvalidSetting {
            name: "log_ratios",
            value: f64::NAN,
            expected: "importance weights that are not all zero",
        })?;
        let mut rng = ChainRng::seed_from_u64(splitmix64(settings.seed ^ RESAMPLE_STREAM));
        let picked: Vec<usize> = (0..settings.num_psis_draws)
            .map(|_| index.sample(&mut rng))
            .collect();
        (picked, Some(smoothed.pareto_k))
    } else {
        ((0..rows.len()).collect(), None)
    };
    let mut flat = Vec::with_capacity(picked.len() * n);
    for &i in &picked {
        if rows[i].len() != n {
            return Err(ApproxError::DimensionMismatch {
                name: "draws",
                expected: n,
                found: rows[i].len(),
            });
        }
        flat.extend_from_slice(rows[i]);
    }
    let draws = Array2::from_shape_vec((picked.len(), n), flat).map_err(|_| {
        ApproxError::DimensionMismatch {
            name: "draws",
            expected: picked.len() * n,
            found: 0,
        }
    })?;
    let pick = |v: &[f64]| picked.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let approx = Approximation::with_log_p(
        density,
        Method::MultiPathfinder,
        draws,
        pick(&log_q),
        pick(&log_p),
        &mut gq_rng,
    )?;
    let mut approx = approx
        .add_gradient_evals(evals)
        .with_config(config)
        .with_wall_seconds(start.elapsed().as_secs_f64());
    approx.pareto_k = pareto_k;
    Ok(approx)
}
