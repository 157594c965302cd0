//! Automatic differentiation variational inference (ADVI; Kucukelbir, Tran, Ranganath,
//! Gelman & Blei 2017) on the unconstrained space of any [`LogDensity`], as Stan's
//! `variational` method.
//!
//! A Gaussian guide q = N(μ, LLᵀ) on ℝⁿ — mean-field (L = diag(exp ω)) or full-rank (L
//! lower-triangular with diagonal exp ω) — is fitted by maximizing the evidence lower bound
//! ELBO = E_q\[ln p(z)\] + H\[q\], where ln p is the density on the unconstrained scale (for a
//! [`Model`] wrapped in a [`TapeModel`], the Jacobian of the bijectors included), so the
//! constrained posterior is approximated by the guide pushed through the bijectors.
//!
//! - **Gradient.** Each iteration draws z = μ + Lε on an `infer-ad` tape from the guide (an
//!   `infer-dist` [`Normal`](infer_dist::Normal) or
//!   [`MultivariateNormal`](infer_dist::MultivariateNormal)); ln p(z) enters as one node
//!   whose value and gradient the density computes off the tape
//!   ([`Tape::scalar_with_gradients`](infer_ad::Tape::scalar_with_gradients)); infer-loss's
//!   estimator ([`infer_loss::elbo_loss`], or [`infer_loss::elbo_path_derivative_loss`])
//!   gives the loss, and [`Adam`](infer_ad::optim::Adam) steps along its gradient.
//! - **Stan's procedure.** The step-size scale η is chosen by Stan's search over 100, 10, 1,
//!   0.1, 0.01; the ELBO is estimated every `eval_elbo` iterations and the fit stops when the
//!   mean or median relative ELBO change over a circular buffer falls below `tol_rel_obj`
//!   (see [`AdviSettings`]); then `output_samples` draws are taken from the guide.
//!
//! Everything random comes from the `rng` given: the same seed gives the same fit.
//!
//! # Examples
//! The newcomer case, a [`Model`] fitted in one call:
//! ```
//! use infer_mcmc::advi::{advi_model, AdviSettings};
//! use infer_mcmc::model::{Model, Params};
//! use infer_mcmc::LogDensityError;
//! use infer_ad::Var;
//! use infer_dist::{Constraint, Distribution, Normal, HalfNormal};
//! use rand::SeedableRng;
//!
//! struct Scale { y: Vec<f64> }
//! impl Model for Scale {
//!     fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
//!         let sigma = p.scalar("sigma", Constraint::Positive)?;
//!         Ok(HalfNormal::new(2.0)?.log_prob_sum(sigma)?
//!             + Normal::new(0.0, sigma)?.log_prob_sum(&self.y[..])?)
//!     }
//! }
//! let mut rng = rand::rngs::StdRng::seed_from_u64(7);
//! let fit = advi_model(&Scale { y: vec![0.9, -1.3, 0.4, 2.1, -0.2] }, &AdviSettings::default(), &mut rng)?;
//! let sigma = fit.draws_of("sigma")?;
//! assert!(sigma.iter().all(|&s| s > 0.0));
//! # Ok::<(), infer_mcmc::advi::AdviError>(())
//! ```
//!
//! # References
//! - Kucukelbir, A., Tran, D., Ranganath, R., Gelman, A. & Blei, D. M. (2017). Automatic
//!   differentiation variational inference. JMLR 18(14).
//! - Stan Development Team, *CmdStan User's Guide*, "Variational Inference using ADVI", and
//!   `stan/variational/advi.hpp` (facts of the procedure; the code here is independent).

mod error;
#[cfg(test)]
mod error_tests;
mod fit;
mod guide;
mod settings;
mod sga;
mod target;
#[cfg(test)]
mod tests;

pub use error::AdviError;
pub use fit::{AdviFit, ElboEval};
pub use settings::{AdviFamily, AdviSettings, ElboGradient};

use std::time::Instant;

use ndarray::Array2;
use rand::Rng;

use crate::density::{Counted, LogDensity};
use crate::error::{LogDensityError, McmcError};
use crate::hamiltonian::Position;
use crate::init::random_init;
use crate::model::{Model, TapeModel};
use crate::panic::catch_model_panic;
use guide::Frozen;
use settings::{ETA_SEQUENCE, INIT_TRIES};
use sga::Sga;
use target::Target;

/// Fits an ADVI guide to `density` on its unconstrained space (see the [module
/// docs](self)): the starting point, Stan's step-size search if `adapt_engaged`, the
/// stochastic gradient ascent until the convergence test passes or `max_iterations`, then
/// `output_samples` draws from the guide with log p, log q and the recorded quantities of
/// each ([`LogDensity::write_draw`]).
///
/// **Draws outside the density's domain.** A guide draw where the density cannot be
/// evaluated (a recoverable [`LogDensityError`]: a transformed parameter's Cholesky factor of
/// a matrix that is not numerically positive definite, say) has log p = −∞, and its recorded
/// quantities that could not be computed are NaN — the values recorded before the failure
/// (the constrained parameters) are kept. This is the rule of Stan's sampler output
/// (`mcmc_writer::write_sample_params` catches the exception of `write_array`, whose output
/// starts as NaN, and pads with NaN); Stan's ADVI output loop (`advi::run`) does not catch it,
/// so there one such draw ends the run with the exception. One draw outside the domain says
/// nothing of the others, so the fit is returned; its log p of −∞ marks the draw for
/// importance weighting. A fatal error still ends the fit.
///
/// # Errors
/// - [`AdviError::InvalidSetting`] (see [`AdviSettings::validate`]);
///   [`AdviError::ZeroDimension`]; [`AdviError::InitDimension`];
/// - [`AdviError::NonFiniteInit`] when the log density or its gradient is not finite at the
///   given `init`; [`AdviError::NoFiniteInit`] when no random start is finite;
/// - [`AdviError::EtaAdaptation`] when no step size improves the initial ELBO;
/// - [`AdviError::Diverged`] when the ELBO, a gradient or a guide scale becomes NaN or ±∞;
///   [`AdviError::DroppedDraws`] when every draw of an estimate has a failing log density;
/// - [`AdviError::LogDensity`] for a fatal error of the density (or of recording a draw);
///   [`AdviError::ModelPanicked`] when the density's code panics (the panic is caught, as
///   the sampler catches a chain's).
///
/// # Examples
/// A correlated Gaussian: the full-rank guide recovers it.
/// ```
/// use infer_mcmc::advi::{advi, AdviFamily, AdviSettings};
/// use infer_mcmc::models::CorrGauss;
/// use rand::SeedableRng;
/// let mut target = CorrGauss::new(vec![1.0, 0.8, 0.8, 1.0], 2)?;
/// let settings = AdviSettings { family: AdviFamily::FullRank, ..AdviSettings::default() };
/// let fit = advi(&mut target, &settings, &mut rand::rngs::StdRng::seed_from_u64(1))?;
/// let c = fit.covariance();
/// assert!((c[[0, 1]] / (c[[0, 0]] * c[[1, 1]]).sqrt() - 0.8).abs() < 0.1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn advi<D, R>(
    density: &mut D,
    settings: &AdviSettings,
    rng: &mut R,
) -> Result<AdviFit, AdviError>
where
    D: LogDensity + ?Sized,
    R: Rng + ?Sized,
{
    match catch_model_panic(0, || Ok(fit(density, settings, rng))) {
        Ok(result) => result,
        Err(McmcError::ChainPanicked {
            message, location, ..
        }) => Err(AdviError::ModelPanicked { message, location }),
        Err(e) => Err(e.into()),
    }
}

/// [`advi`] without the panic guard.
fn fit<D, R>(density: &mut D, settings: &AdviSettings, rng: &mut R) -> Result<AdviFit, AdviError>
where
    D: LogDensity + ?Sized,
    R: Rng + ?Sized,
{
    let start = Instant::now();
    settings.validate()?;
    let dim = density.dim();
    if dim == 0 {
        return Err(AdviError::ZeroDimension);
    }
    let (init, init_evals) = initial_point(density, settings, rng)?;
    let layout = density.layout();
    let target = Target::new(density);
    let mut sga = Sga {
        target: &target,
        settings,
        rng: &mut *rng,
        tape: infer_ad::Tape::new(),
        init,
    };
    let mut eta = if settings.adapt_engaged {
        sga.adapt_eta()?
    } else {
        settings.eta
    };
    let mut restarts = 0;
    let ascent = loop {
        match sga.ascend(eta) {
            Ok(a) => break a,
            Err(e @ (AdviError::Diverged { .. } | AdviError::DroppedDraws { .. }))
                if settings.adapt_engaged =>
            {
                // a smaller step-size scale from the sequence, from the start again
                eta = ETA_SEQUENCE
                    .iter()
                    .copied()
                    .find(|&smaller| smaller < eta)
                    .ok_or(e)?;
                restarts += 1;
            }
            Err(e) => return Err(e),
        }
    };
    drop(sga);

    // Stan's output: draws from the guide, with log p and log q of each.
    let n = settings.output_samples;
    let mut frozen = Frozen::new(&ascent.guide);
    let mut draws = Array2::zeros((n, dim));
    let mut values = Array2::zeros((n, layout.len()));
    let (mut log_q, mut log_p) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut z = vec![0.0; dim];
    let mut out = vec![0.0; layout.len()];
    for i in 0..n {
        log_q.push(frozen.draw(&mut *rng, &mut z));
        log_p.push(target.logp(&z).unwrap_or(f64::NEG_INFINITY));
        if let Some(e) = target.take_fatal() {
            return Err(e.into());
        }
        let mut r = &mut *rng;
        out.fill(f64::NAN);
        match target.density().write_draw(&z, &mut r, &mut out) {
            Ok(()) | Err(LogDensityError::Recoverable { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        draws.row_mut(i).assign(&ndarray::ArrayView1::from(&z[..]));
        values
            .row_mut(i)
            .assign(&ndarray::ArrayView1::from(&out[..]));
    }
    let (mean, scale_tril) = frozen.into_parts();
    Ok(AdviFit {
        family: settings.family,
        mean,
        scale_tril,
        draws,
        log_q,
        log_p,
        values,
        layout,
        eta,
        restarts,
        elbo_trace: ascent.trace,
        iterations: ascent.iterations,
        converged: ascent.converged,
        gradient_evals: init_evals + target.evals(),
        wall_time: start.elapsed(),
    })
}

/// [`advi`] of a [`Model`]: wraps it in a [`TapeModel`] (its parameters' bijectors and
/// log |J| included) and fits it. The recorded quantities of the fit are the model's
/// parameters on the constrained scale, its transformed parameters and generated quantities,
/// by name ([`AdviFit::draws_of`]).
///
/// # Errors
/// [`AdviError::Model`] when the model's declarations are invalid; otherwise as [`advi`].
///
/// # Examples
/// ```
/// use infer_mcmc::advi::{advi_model, AdviSettings};
/// use infer_mcmc::model::{Model, Params};
/// use infer_mcmc::LogDensityError;
/// use infer_ad::Var;
/// use infer_dist::{Constraint, Distribution, Normal};
/// use rand::SeedableRng;
///
/// /// y ~ N(mu, 1), mu ~ N(0, 10): the posterior of mu is close to N(mean y, 1/n).
/// struct Mean { y: Vec<f64> }
/// impl Model for Mean {
///     fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
///         let mu = p.scalar("mu", Constraint::Real)?;
///         Ok(Normal::new(0.0, 10.0)?.log_prob_sum(mu)?
///             + Normal::new(mu, 1.0)?.log_prob_sum(&self.y[..])?)
///     }
/// }
/// let mut rng = rand::rngs::StdRng::seed_from_u64(2);
/// let fit = advi_model(&Mean { y: vec![1.0, 2.0, 3.0] }, &AdviSettings::default(), &mut rng)?;
/// assert!((fit.mean[0] - 2.0).abs() < 0.2);
/// # Ok::<(), infer_mcmc::advi::AdviError>(())
/// ```
pub fn advi_model<M, R>(
    model: M,
    settings: &AdviSettings,
    rng: &mut R,
) -> Result<AdviFit, AdviError>
where
    M: Model,
    R: Rng + ?Sized,
{
    let mut density = TapeModel::new(model)?;
    advi(&mut density, settings, rng)
}

/// The guide's starting mean: `settings.init` checked (finite log density and gradient), or
/// Stan's random search; with the number of density evaluations spent.
fn initial_point<D, R>(
    density: &mut D,
    settings: &AdviSettings,
    rng: &mut R,
) -> Result<(Vec<f64>, u64), AdviError>
where
    D: LogDensity + ?Sized,
    R: Rng + ?Sized,
{
    let dim = density.dim();
    match &settings.init {
        Some(init) => {
            if init.len() != dim {
                return Err(AdviError::InitDimension {
                    expected: dim,
                    found: init.len(),
                });
            }
            match Position::new(density, init.clone()) {
                Ok(p) => Ok((p.q().to_vec(), 1)),
                Err(McmcError::NonFiniteStart { logp }) => Err(AdviError::NonFiniteInit { logp }),
                Err(McmcError::LogDensity(LogDensityError::Recoverable { .. })) => {
                    Err(AdviError::NonFiniteInit { logp: f64::NAN })
                }
                Err(e) => Err(e.into()),
            }
        }
        None => {
            let mut counted = Counted::new(density);
            let result = random_init(&mut counted, settings.init_radius, INIT_TRIES, 0, rng);
            let evals = counted.evals;
            match result {
                Ok(p) => Ok((p.q().to_vec(), evals)),
                Err(McmcError::NoFiniteInit { tries, radius, .. }) => {
                    Err(AdviError::NoFiniteInit { tries, radius })
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}
