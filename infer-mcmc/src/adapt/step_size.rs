//! Heuristics for an initial step size: Stan's `init_stepsize` and Hoffman & Gelman's
//! algorithm 4.

use rand::Rng;

use crate::density::LogDensity;
use crate::error::McmcError;
use crate::hamiltonian::{PhasePoint, Position, leapfrog};
use crate::metric::Metric;

/// One leapfrog step of size `eps` from `z0` (momentum already drawn) into `z`; returns
/// H₀ − H with NaN mapped to −∞.
fn delta_h<M: LogDensity + ?Sized>(
    density: &mut M,
    metric: &Metric,
    z0: &PhasePoint,
    z: &mut PhasePoint,
    eps: f64,
) -> Result<f64, McmcError> {
    z.copy_from(z0);
    let outcome = leapfrog(density, metric, z, eps, z0.energy, f64::INFINITY)?;
    let d = z0.energy - outcome.energy();
    Ok(if d.is_nan() { f64::NEG_INFINITY } else { d })
}

/// Stan's step-size heuristic (`base_hmc::init_stepsize`): starting from `step_size`, double
/// (or halve) ε until the acceptance probability exp(H₀ − H) of a single leapfrog step from
/// `position`, with a fresh momentum each time, crosses 0.8.
///
/// Steps of exactly 0, above 10⁷ or NaN are returned unchanged, as in Stan.
///
/// # Examples
///
/// ```
/// use infer_mcmc::adapt::init_step_size;
/// use infer_mcmc::{FnDensity, Metric, MetricKind, Position};
/// use rand::SeedableRng;
///
/// // N(0, 0.01²): the stable step size is far below 1.
/// let mut model = FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
///     g[0] = -x[0] / 1e-4;
///     Ok(-0.5 * x[0] * x[0] / 1e-4)
/// });
/// let pos = Position::new(&mut model, vec![0.01])?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let eps = init_step_size(&mut model, &pos, &Metric::identity(1, MetricKind::Diagonal), 1.0, &mut rng)?;
/// assert!(eps < 0.05);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
///
/// # Errors
///
/// [`McmcError::StepSizeSearch`] when ε exceeds 10⁷ (improper posterior) or reaches 0;
/// [`McmcError::LogDensity`] for a fatal density failure.
///
/// # References
///
/// Stan Development Team, `stan/mcmc/hmc/base_hmc.hpp`; Stan Reference Manual, "Step-size
/// adaptation".
pub fn init_step_size<M: LogDensity + ?Sized, R: Rng + ?Sized>(
    density: &mut M,
    position: &Position,
    metric: &Metric,
    step_size: f64,
    rng: &mut R,
) -> Result<f64, McmcError> {
    let mut eps = step_size;
    if eps == 0.0 || eps > 1e7 || eps.is_nan() {
        return Ok(eps);
    }
    let dim = metric.dim();
    let mut z0 = PhasePoint::new(dim);
    let mut z = PhasePoint::new(dim);
    let log_target = 0.8f64.ln();

    z0.start(position, metric, rng);
    let direction = if delta_h(density, metric, &z0, &mut z, eps)? > log_target {
        1
    } else {
        -1
    };
    loop {
        z0.start(position, metric, rng);
        let d = delta_h(density, metric, &z0, &mut z, eps)?;
        if (direction == 1) && !(d > log_target) {
            break;
        }
        if (direction == -1) && !(d < log_target) {
            break;
        }
        eps = if direction == 1 { 2.0 * eps } else { 0.5 * eps };
        if eps > 1e7 || eps == 0.0 {
            return Err(McmcError::StepSizeSearch { step_size: eps });
        }
    }
    Ok(eps)
}

/// Hoffman & Gelman's heuristic for a first step size (algorithm 4), with the seed's return
/// convention `(epsilon, epsilon_bar = 1, h_bar = 0)`.
///
/// Starting at ε = 1 with one momentum draw r, ε is doubled (or halved) while the
/// acceptance ratio p(θ′, r′)/p(θ, r) of one leapfrog step stays above (or below) 1/2.
///
/// # Examples
///
/// ```
/// use infer_mcmc::adapt::find_reasonable_epsilon;
/// use infer_mcmc::{FnDensity, Metric, MetricKind, Position};
/// use rand::SeedableRng;
///
/// let mut model = FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
///     g[0] = -x[0] / 1e-4;
///     Ok(-0.5 * x[0] * x[0] / 1e-4)
/// });
/// let pos = Position::new(&mut model, vec![0.01])?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let (eps, eps_bar, h_bar) =
///     find_reasonable_epsilon(&mut model, &pos, &Metric::identity(1, MetricKind::Diagonal), &mut rng)?;
/// assert!(eps < 0.05 && eps_bar == 1.0 && h_bar == 0.0);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
///
/// # Errors
///
/// [`McmcError::StepSizeSearch`] if ε leaves [10⁻³⁰⁰, 10³⁰⁰];
/// [`McmcError::LogDensity`] for a fatal density failure.
///
/// # References
///
/// Hoffman & Gelman (2014), *The No-U-Turn Sampler*, JMLR 15, algorithm 4.
pub fn find_reasonable_epsilon<M: LogDensity + ?Sized, R: Rng + ?Sized>(
    density: &mut M,
    position: &Position,
    metric: &Metric,
    rng: &mut R,
) -> Result<(f64, f64, f64), McmcError> {
    let dim = metric.dim();
    let mut z0 = PhasePoint::new(dim);
    let mut z = PhasePoint::new(dim);
    z0.start(position, metric, rng);
    let mut eps = 1.0f64;
    let mut log_ratio = delta_h(density, metric, &z0, &mut z, eps)?;
    let a: f64 = if log_ratio > 0.5f64.ln() { 1.0 } else { -1.0 };
    while a * log_ratio > -a * std::f64::consts::LN_2 {
        eps *= 2f64.powf(a);
        if !(eps > 1e-300 && eps < 1e300) {
            return Err(McmcError::StepSizeSearch { step_size: eps });
        }
        log_ratio = delta_h(density, metric, &z0, &mut z, eps)?;
    }
    Ok((eps, 1.0, 0.0))
}
