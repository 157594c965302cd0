//! The mode by L-BFGS (MAP, or the maximum of the unconstrained density) and the Laplace
//! approximation N(mode, H⁻¹) around it, H = −∇² log p by central finite differences of the
//! gradient.

use std::time::Instant;

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

use super::dense::solve_lower_transpose;
use super::lbfgs::{Convergence, Lbfgs, LbfgsOptions};
use super::{
    ApproxError, Approximation, Method, catch_panic, check, check_init_radius,
    check_max_init_tries, try_eval,
};
use crate::density::{Counted, LogDensity};
use crate::fit::ChainRng;
use crate::init::random_init;
use crate::layout::Layout;
use crate::linalg::cholesky;
use crate::model::{Model, TapeModel};
use crate::panic::catch_model_panic;
use crate::sampler::chain_seed;

/// ½ log 2π.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// Settings of [`optimize`]; the defaults are CmdStan's `optimize algorithm=lbfgs`.
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::OptimizeSettings;
///
/// let s = OptimizeSettings::default();
/// assert!(!s.jacobian); // CmdStan's optimize: the mode of the constrained density
/// assert_eq!(s.lbfgs.max_iterations, 2000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OptimizeSettings {
    /// Whether [`optimize_model`] includes the log |Jacobian| of the parameters' transforms
    /// (Stan's `jacobian` flag): `false` (the default, as CmdStan's `optimize`) finds the
    /// mode of the density of the constrained parameters (the MAP estimate), `true` the mode
    /// of the unconstrained density. [`optimize`] takes the density as given.
    pub jacobian: bool,
    /// L-BFGS settings. Default [`LbfgsOptions::default`].
    pub lbfgs: LbfgsOptions,
    /// The initial point is drawn Uniform(−`init_radius`, `init_radius`) on the
    /// unconstrained scale; 0 starts at the origin. Default 2.
    pub init_radius: f64,
    /// Random initial points tried. Default 100.
    pub max_init_tries: usize,
    /// Seed of the RNG (initial point, Laplace draws, generated quantities). Default 0.
    pub seed: u64,
}

impl Default for OptimizeSettings {
    fn default() -> Self {
        Self {
            jacobian: false,
            lbfgs: LbfgsOptions::default(),
            init_radius: 2.0,
            max_init_tries: 100,
            seed: 0,
        }
    }
}

impl OptimizeSettings {
    /// Checks the L-BFGS options, `init_radius` (finite, ≥ 0) and `max_init_tries`
    /// (1 ..= 10⁶).
    ///
    /// # Errors
    ///
    /// [`ApproxError::InvalidSetting`] naming the first invalid field.
    pub fn validate(&self) -> Result<(), ApproxError> {
        self.lbfgs.validate()?;
        check_init_radius(self.init_radius)?;
        check_max_init_tries(self.max_init_tries)
    }
}

/// The optimum found by [`optimize`].
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::{OptimizeSettings, optimize};
/// use infer_mcmc::models::Gauss;
///
/// let mode = optimize(&mut Gauss::new(2), &OptimizeSettings::default())?;
/// assert!(mode.x.iter().all(|x| x.abs() < 1e-6));
/// assert!(mode.convergence.converged());
/// assert_eq!(mode.value_of("x").map(<[f64]>::len), Some(2));
/// # Ok::<(), infer_mcmc::approx::ApproxError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Optimum {
    /// The optimum on the unconstrained scale.
    pub x: Vec<f64>,
    /// log p there.
    pub log_p: f64,
    /// ∇ log p there.
    pub grad: Vec<f64>,
    /// The recorded quantities.
    pub layout: Layout,
    /// The recorded values at the optimum ([`LogDensity::write_draw`]: constrained
    /// parameters, transformed parameters, generated quantities), in `layout` row order.
    pub values: Vec<f64>,
    /// L-BFGS iterations.
    pub iterations: usize,
    /// Evaluations of log p and its gradient (initial point included).
    pub gradient_evals: u64,
    /// Why L-BFGS stopped.
    pub convergence: Convergence,
    /// Wall time, seconds.
    pub wall_seconds: f64,
}

impl Optimum {
    /// The recorded values of the quantity `name` (row-major), if recorded.
    #[must_use]
    pub fn value_of(&self, name: &str) -> Option<&[f64]> {
        self.layout.entry(name).map(|e| &self.values[e.columns()])
    }
}

/// Maximizes log p by L-BFGS from a random initial point (Uniform(−`init_radius`,
/// `init_radius`), the first of up to `max_init_tries` with a finite log density and
/// gradient), until one of CmdStan's convergence criteria holds or `max_iterations`.
///
/// # Errors
///
/// [`ApproxError::InvalidSetting`]; [`ApproxError::Mcmc`] wrapping
/// [`McmcError::NoFiniteInit`](crate::McmcError::NoFiniteInit);
/// [`ApproxError::LineSearch`] when the line search fails (no progress can be made: a
/// discontinuous or wrong gradient); [`ApproxError::LogDensity`] for a fatal failure;
/// [`ApproxError::Draw`] when the optimum cannot be recorded.
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::{OptimizeSettings, optimize};
/// use infer_mcmc::models::CorrGauss;
///
/// let mut target = CorrGauss::new(vec![1.0, 0.5, 0.5, 1.0], 2)?;
/// let mode = optimize(&mut target, &OptimizeSettings::default())?;
/// assert!(mode.x.iter().all(|x| x.abs() < 1e-4));
/// assert!(mode.gradient_evals > mode.iterations as u64);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn optimize<M: LogDensity + ?Sized>(
    density: &mut M,
    settings: &OptimizeSettings,
) -> Result<Optimum, ApproxError> {
    let mut rng = ChainRng::seed_from_u64(chain_seed(settings.seed, 0));
    optimize_with(density, settings, &mut rng)
}

fn optimize_with<M: LogDensity + ?Sized>(
    density: &mut M,
    settings: &OptimizeSettings,
    rng: &mut ChainRng,
) -> Result<Optimum, ApproxError> {
    settings.validate()?;
    let start = Instant::now();
    let mut counted = Counted::new(density);
    let init = random_init(
        &mut counted,
        settings.init_radius,
        settings.max_init_tries,
        0,
        rng,
    )?;
    let mut opt = Lbfgs::new(&mut counted, init.q().to_vec(), settings.lbfgs)?;
    let convergence = loop {
        if let Some(c) = opt.step(&mut counted)? {
            break c;
        }
    };
    let layout = counted.layout();
    let mut values = vec![0.0; layout.len()];
    counted
        .write_draw(opt.x(), rng, &mut values)
        .map_err(|source| ApproxError::Draw { index: 0, source })?;
    Ok(Optimum {
        x: opt.x().to_vec(),
        log_p: opt.log_p(),
        grad: opt.grad(),
        layout,
        values,
        iterations: opt.iterations(),
        gradient_evals: counted.evals,
        convergence,
        wall_seconds: start.elapsed().as_secs_f64(),
    })
}

/// [`optimize`] for a [`Model`], with or without the log |Jacobian| as
/// `settings.jacobian` says (Stan's `jacobian` flag).
///
/// # Errors
///
/// [`ApproxError::Mcmc`] wrapping [`McmcError::Model`](crate::McmcError::Model) for
/// invalid declarations; otherwise as [`optimize`].
///
/// # Examples
///
/// ```
/// use infer_ad::Var;
/// use infer_dist::{Constraint, Distribution, Gamma};
/// use infer_mcmc::approx::{OptimizeSettings, optimize_model};
/// use infer_mcmc::model::{Model, Params};
/// use infer_mcmc::LogDensityError;
///
/// /// λ ~ Gamma(3, 1): mode 2 for the density of λ, 3 for that of log λ (the Jacobian λ).
/// struct Rate;
/// impl Model for Rate {
///     fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
///         let lambda = p.scalar("lambda", Constraint::Positive)?;
///         Ok(Gamma::new(3.0, 1.0)?.log_prob_sum(lambda)?)
///     }
/// }
/// // (to 10⁻³: CmdStan's stopping rules end L-BFGS about 10⁻⁵ from the optimum)
/// let map = optimize_model(&Rate, &OptimizeSettings::default())?;
/// assert!((map.value_of("lambda").unwrap()[0] - 2.0).abs() < 1e-3);
/// let with_jacobian = optimize_model(&Rate, &OptimizeSettings { jacobian: true, ..OptimizeSettings::default() })?;
/// assert!((with_jacobian.value_of("lambda").unwrap()[0] - 3.0).abs() < 1e-3);
/// # Ok::<(), infer_mcmc::approx::ApproxError>(())
/// ```
pub fn optimize_model<M: Model>(
    model: &M,
    settings: &OptimizeSettings,
) -> Result<Optimum, ApproxError> {
    let mut density =
        catch_model_panic(0, || TapeModel::new(model))?.with_jacobian(settings.jacobian);
    catch_panic(0, || optimize(&mut density, settings))
}

/// The Hessian ∇² log p at `x` (row-major n×n) by central differences of the gradient,
/// Hᵢⱼ = (∂ⱼ log p(x + hᵢ eᵢ) − ∂ⱼ log p(x − hᵢ eᵢ)) / 2hᵢ with hᵢ = ε^{1/3} max(1, |xᵢ|)
/// (the step that balances the O(h²) truncation and O(ε/h) rounding errors; Nocedal &
/// Wright 2006, section 8.1), symmetrized as (H + Hᵀ)/2. 2n gradient evaluations.
///
/// # Errors
///
/// [`ApproxError::HessianNotFinite`] naming the coordinate where a gradient could not be
/// evaluated or is not finite; [`ApproxError::LogDensity`] for a fatal failure.
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::hessian;
/// use infer_mcmc::models::CorrGauss;
///
/// // log p = −½ xᵀ Σ⁻¹ x: the Hessian is −Σ⁻¹ = −[[2, −1], [−1, 2]] / 3
/// let h = hessian(&mut CorrGauss::new(vec![2.0, 1.0, 1.0, 2.0], 2)?, &[0.3, -0.1])?;
/// assert!((h[0] + 2.0 / 3.0).abs() < 1e-8 && (h[1] - 1.0 / 3.0).abs() < 1e-8);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn hessian<M: LogDensity + ?Sized>(
    density: &mut M,
    x: &[f64],
) -> Result<Vec<f64>, ApproxError> {
    let n = x.len();
    let mut h = vec![0.0; n * n];
    let (mut gp, mut gm) = (vec![0.0; n], vec![0.0; n]);
    let mut xp = x.to_vec();
    let cbrt_eps = f64::EPSILON.cbrt();
    for i in 0..n {
        let step = cbrt_eps * x[i].abs().max(1.0);
        xp[i] = x[i] + step;
        let up = try_eval(density, &xp, &mut gp)?;
        xp[i] = x[i] - step;
        let down = try_eval(density, &xp, &mut gm)?;
        xp[i] = x[i];
        if up.is_none() || down.is_none() {
            return Err(ApproxError::HessianNotFinite { row: i });
        }
        // the step actually taken, (x + h) − (x − h), exactly representable
        let width = (x[i] + step) - (x[i] - step);
        for j in 0..n {
            h[i * n + j] = (gp[j] - gm[j]) / width;
        }
    }
    for i in 0..n {
        for j in 0..i {
            let v = 0.5 * (h[i * n + j] + h[j * n + i]);
            h[i * n + j] = v;
            h[j * n + i] = v;
        }
    }
    Ok(h)
}

/// Settings of [`laplace`].
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::LaplaceSettings;
///
/// let s = LaplaceSettings::default();
/// assert!(s.optimize.jacobian); // CmdStan's laplace: jacobian = 1
/// assert_eq!(s.num_draws, 1000);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LaplaceSettings {
    /// How the mode is found; its `jacobian` (default `true` here, as CmdStan's `laplace`)
    /// also decides which density [`laplace_model`] approximates.
    pub optimize: OptimizeSettings,
    /// Draws. Default 1000.
    pub num_draws: usize,
}

impl Default for LaplaceSettings {
    fn default() -> Self {
        Self {
            optimize: OptimizeSettings {
                jacobian: true,
                ..OptimizeSettings::default()
            },
            num_draws: 1000,
        }
    }
}

/// The Laplace approximation of `density`: its mode x̂ by [`optimize`], H = −∇² log p(x̂) by
/// [`hessian`], and `num_draws` draws x̂ + L⁻ᵀ z, z ~ N(0, I), with H = L Lᵀ (so the draws
/// have covariance H⁻¹), as CmdStan's `laplace` method; log q is the normalized normal log
/// density Σ log Lᵢᵢ − ½ zᵀz − (n/2) log 2π and log p is evaluated at every draw.
///
/// # Errors
///
/// As [`optimize`] and [`hessian`]; [`ApproxError::NotPositiveDefinite`] when H is not
/// positive definite (the optimum is not a strict maximum, or the finite differences are
/// too inaccurate); [`ApproxError::InvalidSetting`] for `num_draws` 0.
///
/// # Examples
///
/// ```
/// use infer_mcmc::approx::{LaplaceSettings, Method, laplace};
/// use infer_mcmc::models::CorrGauss;
///
/// // for a Gaussian the Laplace approximation is exact (up to the mode's accuracy, about
/// // 10⁻⁵ with CmdStan's stopping rules): log p − log q is the same constant at every draw
/// let mut target = CorrGauss::new(vec![2.0, 1.0, 1.0, 2.0], 2)?;
/// let approx = laplace(&mut target, &LaplaceSettings::default())?;
/// assert_eq!(approx.method, Method::Laplace);
/// for (p, q) in approx.log_p.iter().zip(&approx.log_q) {
///     // log p drops the normalizing constant log(2π |Σ|^{1/2}) = log(2π √3)
///     assert!((p - q - (2.0 * std::f64::consts::PI * 3f64.sqrt()).ln()).abs() < 1e-3);
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn laplace<M: LogDensity + ?Sized>(
    density: &mut M,
    settings: &LaplaceSettings,
) -> Result<Approximation, ApproxError> {
    check(
        settings.num_draws >= 1,
        "num_draws",
        settings.num_draws as f64,
        ">= 1",
    )?;
    let start = Instant::now();
    let mut rng = ChainRng::seed_from_u64(chain_seed(settings.optimize.seed, 0));
    let mode = optimize_with(density, &settings.optimize, &mut rng)?;
    let n = mode.x.len();
    let mut neg_h = hessian(density, &mode.x)?;
    neg_h.iter_mut().for_each(|v| *v = -*v);
    let l = cholesky(&neg_h, n).map_err(|(index, pivot)| ApproxError::NotPositiveDefinite {
        name: "negative Hessian",
        index,
        pivot,
    })?;
    let log_det_l: f64 = (0..n).map(|i| l[i * n + i].ln()).sum();
    let m = settings.num_draws;
    let mut draws = Array2::zeros((m, n));
    let mut log_q = Vec::with_capacity(m);
    let mut z = vec![0.0; n];
    for mut row in draws.rows_mut() {
        for v in z.iter_mut() {
            *v = rng.sample(StandardNormal);
        }
        let zz: f64 = z.iter().map(|v| v * v).sum();
        log_q.push(log_det_l - 0.5 * zz - n as f64 * HALF_LN_2PI);
        solve_lower_transpose(&l, n, &mut z);
        for ((r, x), dz) in row.iter_mut().zip(&mode.x).zip(&z) {
            *r = x + dz;
        }
    }
    let config = vec![
        (
            "jacobian".to_owned(),
            u8::from(settings.optimize.jacobian).to_string(),
        ),
        ("draws".to_owned(), m.to_string()),
        ("mode_log_p".to_owned(), mode.log_p.to_string()),
        ("lbfgs_iterations".to_owned(), mode.iterations.to_string()),
        (
            "lbfgs_convergence".to_owned(),
            format!("{:?}", mode.convergence),
        ),
        ("seed".to_owned(), settings.optimize.seed.to_string()),
    ];
    let approx = Approximation::new(density, Method::Laplace, draws, log_q, &mut rng)?;
    Ok(approx
        .add_gradient_evals(mode.gradient_evals + 2 * n as u64)
        .with_config(config)
        .with_wall_seconds(start.elapsed().as_secs_f64()))
}

/// [`laplace`] for a [`Model`], of the density with or without the log |Jacobian| as
/// `settings.optimize.jacobian` says (default with, as CmdStan's `laplace`).
///
/// # Errors
///
/// As [`optimize_model`] and [`laplace`].
///
/// # Examples
///
/// ```
/// use infer_ad::Var;
/// use infer_dist::{Constraint, Distribution, Gamma};
/// use infer_mcmc::approx::{LaplaceSettings, laplace_model};
/// use infer_mcmc::model::{Model, Params};
/// use infer_mcmc::LogDensityError;
///
/// /// λ ~ Gamma(30, 10): log λ is nearly normal, so is its Laplace approximation
/// struct Rate;
/// impl Model for Rate {
///     fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
///         let lambda = p.scalar("lambda", Constraint::Positive)?;
///         Ok(Gamma::new(30.0, 10.0)?.log_prob_sum(lambda)?)
///     }
/// }
/// let approx = laplace_model(&Rate, &LaplaceSettings::default())?;
/// let lambda = approx.draws_by_name("lambda")?;
/// assert!((lambda.mean().unwrap() - 3.0).abs() < 0.1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn laplace_model<M: Model>(
    model: &M,
    settings: &LaplaceSettings,
) -> Result<Approximation, ApproxError> {
    let mut density =
        catch_model_panic(0, || TapeModel::new(model))?.with_jacobian(settings.optimize.jacobian);
    catch_panic(0, || laplace(&mut density, settings))
}
