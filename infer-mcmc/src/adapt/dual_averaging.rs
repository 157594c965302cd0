//! Nesterov dual averaging of log ε toward a target acceptance statistic.

use crate::error::{McmcError, check};

/// Options of dual averaging (Hoffman & Gelman 2014, algorithm 6), Stan's defaults.
///
/// # Examples
///
/// ```
/// use infer_mcmc::adapt::DualAveragingOptions;
///
/// let o = DualAveragingOptions::default();
/// assert_eq!((o.delta, o.gamma, o.t0, o.kappa), (0.8, 0.05, 10.0, 0.75));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DualAveragingOptions {
    /// Target acceptance statistic δ. Default 0.8.
    pub delta: f64,
    /// Shrinkage toward μ, γ. Default 0.05.
    pub gamma: f64,
    /// Iteration offset t₀ damping the early iterations. Default 10.
    pub t0: f64,
    /// Decay exponent κ of the averaging weights m^(−κ). Default 0.75.
    pub kappa: f64,
}

impl Default for DualAveragingOptions {
    fn default() -> Self {
        Self {
            delta: 0.8,
            gamma: 0.05,
            t0: 10.0,
            kappa: 0.75,
        }
    }
}

impl DualAveragingOptions {
    /// Checks 0 < δ < 1, γ > 0, t₀ ≥ 0 and 0 < κ ≤ 1.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] naming the field.
    pub fn validate(&self) -> Result<(), McmcError> {
        check(
            self.delta > 0.0 && self.delta < 1.0,
            "delta",
            self.delta,
            "in (0, 1)",
        )?;
        check(
            self.gamma > 0.0 && self.gamma.is_finite(),
            "gamma",
            self.gamma,
            "finite and > 0",
        )?;
        check(
            self.t0 >= 0.0 && self.t0.is_finite(),
            "t0",
            self.t0,
            "finite and >= 0",
        )?;
        check(
            self.kappa > 0.0 && self.kappa <= 1.0,
            "kappa",
            self.kappa,
            "in (0, 1]",
        )
    }
}

/// One step of dual averaging with the seed's calling convention: returns
/// `(epsilon, epsilon_bar, h_bar)`.
///
/// With μ = ln(10 ε₀) (ε₀ = `initial_epsilon`) and iteration `m` (counted from 1):
///
/// H̄ₘ = (1 − 1/(m + t₀)) H̄ₘ₋₁ + (δ − αₘ)/(m + t₀),
/// ln εₘ = μ − √m/γ · H̄ₘ,
/// ln ε̄ₘ = m^(−κ) ln εₘ + (1 − m^(−κ)) ln ε̄ₘ₋₁.
///
/// Start from `epsilon_bar = 1`, `h_bar = 0`; after warmup use ε̄. `m = 0` is treated as 1.
///
/// # Examples
///
/// ```
/// use infer_mcmc::adapt::{dual_averaging, DualAveragingOptions};
///
/// let (eps, eps_bar, h_bar) = dual_averaging(0.5, 1, 0.1, 1.0, 0.0, DualAveragingOptions::default())?;
/// assert!((h_bar - 0.3 / 11.0).abs() < 1e-15);
/// assert!((eps.ln() - ((1.0f64).ln() - 20.0 * h_bar)).abs() < 1e-12);
/// assert_eq!(eps, eps_bar);
/// // A NaN acceptance probability is an error, not a NaN step size.
/// assert!(dual_averaging(f64::NAN, 2, 0.1, eps_bar, h_bar, DualAveragingOptions::default()).is_err());
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
///
/// # Errors
///
/// [`McmcError::InvalidSetting`] naming the argument: `accept_prob` outside [0, 1] (NaN
/// included), `initial_epsilon` not finite and > 0 or with 10 ε₀ overflowing,
/// `epsilon_bar` not finite and > 0, `h_bar` not finite, or an option as
/// [`DualAveragingOptions::validate`]; naming `epsilon` (or `epsilon_bar`) when valid but
/// extreme arguments (say γ = 1e-300) drive the new step size to 0 or ∞, where it is no
/// step size.
///
/// # References
///
/// Hoffman & Gelman (2014), *The No-U-Turn Sampler*, JMLR 15, algorithm 6; Nesterov (2009).
pub fn dual_averaging(
    accept_prob: f64,
    m: usize,
    initial_epsilon: f64,
    epsilon_bar: f64,
    h_bar: f64,
    options: DualAveragingOptions,
) -> Result<(f64, f64, f64), McmcError> {
    options.validate()?;
    check(
        (0.0..=1.0).contains(&accept_prob),
        "accept_prob",
        accept_prob,
        "in [0, 1]",
    )?;
    check(
        initial_epsilon > 0.0 && (10.0 * initial_epsilon).is_finite(),
        "initial_epsilon",
        initial_epsilon,
        "finite and > 0, with 10 × initial_epsilon finite",
    )?;
    check(
        epsilon_bar > 0.0 && epsilon_bar.is_finite(),
        "epsilon_bar",
        epsilon_bar,
        "finite and > 0",
    )?;
    check(h_bar.is_finite(), "h_bar", h_bar, "finite")?;
    let m = m.max(1) as f64;
    let mu = (10.0 * initial_epsilon).ln();
    let w = 1.0 / (m + options.t0);
    let h_bar = (1.0 - w) * h_bar + w * (options.delta - accept_prob);
    let log_eps = mu - m.sqrt() / options.gamma * h_bar;
    let eta = m.powf(-options.kappa);
    let log_eps_bar = eta * log_eps + (1.0 - eta) * epsilon_bar.ln();
    let (eps, eps_bar) = (log_eps.exp(), log_eps_bar.exp());
    const RANGE: &str = "finite and > 0: the update over- or underflowed (extreme gamma or h_bar)";
    check(eps > 0.0 && eps.is_finite(), "epsilon", eps, RANGE)?;
    check(
        eps_bar > 0.0 && eps_bar.is_finite(),
        "epsilon_bar",
        eps_bar,
        RANGE,
    )?;
    Ok((eps, eps_bar, h_bar))
}

/// Dual-averaging state for the step size, as Stan's `stepsize_adaptation`.
///
/// # Examples
///
/// ```
/// use infer_mcmc::adapt::{DualAveraging, DualAveragingOptions};
///
/// let mut da = DualAveraging::new(DualAveragingOptions::default(), 1.0)?;
/// let mut eps: f64 = 1.0;
/// for _ in 0..500 {
///     // Pretend acceptance falls with the step size: α = exp(−ε).
///     eps = da.update((-eps).exp());
/// }
/// // Converges to α = 0.8 ⇔ ε = −ln 0.8 ≈ 0.223.
/// assert!((da.final_step_size() - 0.2231).abs() < 0.02);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
///
/// # References
///
/// Hoffman & Gelman (2014), algorithm 6; Stan Reference Manual, "Step-size adaptation".
#[derive(Clone, Debug)]
pub struct DualAveraging {
    options: DualAveragingOptions,
    mu: f64,
    counter: usize,
    s_bar: f64,
    x_bar: f64,
}

impl DualAveraging {
    /// Starts dual averaging with μ = ln(10 ε₀).
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] for invalid options or ε₀ not finite and positive (or
    /// 10 ε₀ overflowing).
    pub fn new(options: DualAveragingOptions, initial_step_size: f64) -> Result<Self, McmcError> {
        options.validate()?;
        check(
            initial_step_size > 0.0 && (10.0 * initial_step_size).is_finite(),
            "initial_step_size",
            initial_step_size,
            "finite and > 0, with 10 × initial_step_size finite",
        )?;
        Ok(Self {
            options,
            mu: (10.0 * initial_step_size).ln(),
            counter: 0,
            s_bar: 0.0,
            x_bar: 0.0,
        })
    }

    /// Sets μ = ln(10 ε) (done after each metric update, with the new heuristic step size).
    pub fn set_mu_from(&mut self, step_size: f64) {
        self.mu = (10.0 * step_size).ln();
    }

    /// Forgets the history (counter, H̄ and x̄ back to 0).
    pub fn restart(&mut self) {
        self.counter = 0;
        self.s_bar = 0.0;
        self.x_bar = 0.0;
    }

    /// Feeds one acceptance statistic and returns the step size to use next.
    pub fn update(&mut self, accept_stat: f64) -> f64 {
        self.counter += 1;
        let a = if accept_stat > 1.0 { 1.0 } else { accept_stat };
        let m = self.counter as f64;
        let eta = 1.0 / (m + self.options.t0);
        self.s_bar = (1.0 - eta) * self.s_bar + eta * (self.options.delta - a);
        let x = self.mu - self.s_bar * m.sqrt() / self.options.gamma;
        let x_eta = m.powf(-self.options.kappa);
        self.x_bar = (1.0 - x_eta) * self.x_bar + x_eta * x;
        x.exp()
    }

    /// The averaged step size exp(x̄), used after warmup.
    #[must_use]
    pub fn final_step_size(&self) -> f64 {
        self.x_bar.exp()
    }

    /// Number of updates since the last restart.
    #[must_use]
    pub fn counter(&self) -> usize {
        self.counter
    }
}
