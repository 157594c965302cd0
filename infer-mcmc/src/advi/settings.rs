//! ADVI's settings, every default as in CmdStan's `variational` method.

use super::error::AdviError;

/// The variational family: a Gaussian on the unconstrained space.
///
/// # Examples
/// ```
/// use infer_mcmc::advi::{AdviFamily, AdviSettings};
/// assert_eq!(AdviSettings::default().family, AdviFamily::MeanField);
/// let s = AdviSettings { family: AdviFamily::FullRank, ..AdviSettings::default() };
/// assert!(s.validate().is_ok());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdviFamily {
    /// N(μ, diag(σ²)), σ = exp(ω): 2n parameters (μ, ω). Stan's `meanfield`, the default.
    #[default]
    MeanField,
    /// N(μ, LLᵀ) with L lower-triangular, its diagonal exp(ω) (so always positive): n + n(n+1)/2
    /// parameters (μ, ω and the n(n−1)/2 elements below the diagonal). Stan's `fullrank`,
    /// which keeps the diagonal Lᵢᵢ itself as the parameter (its sign free, the entropy
    /// through ln |Lᵢᵢ|); ω = ln Lᵢᵢ here, as the mean-field family's, so that no step can
    /// make the factor singular.
    FullRank,
}

/// Which gradient estimator of the ELBO each iteration uses: both are infer-loss's
/// estimators applied to one reparameterized draw z = μ + Lε of the guide.
///
/// # Examples
/// ```
/// use infer_mcmc::advi::{AdviSettings, ElboGradient};
/// assert_eq!(AdviSettings::default().gradient, ElboGradient::Reparameterized);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElboGradient {
    /// ∇(ln p(z) − ln q(z)) through z and q's parameters ([`infer_loss::elbo_loss`]; Kingma &
    /// Welling 2014). For a Gaussian guide this is Stan's gradient: with ε fixed,
    /// −ln q(z(ε)) = ½‖ε‖² + Σ ωᵢ + const, whose gradient is exactly that of the entropy
    /// (1 per ω, 0 for μ and the elements below the diagonal), which Stan adds in closed form
    /// (Kucukelbir et al. 2017, eqs. 8–10). The default.
    #[default]
    Reparameterized,
    /// The path derivative only, ∇_z(ln p(z) − ln q(z)) · ∂z/∂θ ("sticking the landing",
    /// [`infer_loss::elbo_path_derivative_loss`]; Roeder, Wu & Duvenaud 2017): unbiased too,
    /// and with zero variance when q is the posterior.
    PathDerivative,
}

/// ADVI's settings (Kucukelbir, Tran, Ranganath, Gelman & Blei 2017). The defaults are
/// CmdStan's (`variational` method, Stan 2.3x): `grad_samples` 1, `elbo_samples` 100, `eta`
/// 1 with `adapt_engaged` and `adapt_iter` 50, `iter` 10000, `tol_rel_obj` 0.01, `eval_elbo`
/// 100, `output_samples` 1000, and Stan's initialization (uniform on (−2, 2) on the
/// unconstrained scale, 100 tries).
///
/// **Optimizer.** Stan's step (eq. 11 of the paper) is, per coordinate,
/// θ ← θ + ρₖ gₖ with ρₖ = η k^(−½) / (τ + √sₖ), τ = 1, sₖ = 0.1 gₖ² + 0.9 sₖ₋₁, s₁ = g₁².
/// That is infer-ad's [`Adam`](infer_ad::optim::Adam) with β₁ = 0 (no momentum), β₂ = 0.9,
/// ε = τ = 1 and learning rate η/√k at iteration k (counted from 1 at each start), which is
/// what runs here; the one difference is Adam's bias correction of sₖ (the same s₁, and
/// weights of the first ~20 squared gradients that differ by less than a factor 1/(1 − 0.9ᵏ)).
/// PyTorch's defaults (β = (0.9, 0.999), ε = 1e-8) were tried and dropped: the long memory of
/// β₂ = 0.999 keeps the huge gradients of the first iterations in the denominator, and on
/// posteriors with small sds the guide stalls far from the mean (posteriordb's `blr`, sds
/// 0.001, mean field, seed 0: a mean 3,466 reference sds off, against 26 with Stan's
/// constants).
///
/// # Examples
/// ```
/// use infer_mcmc::advi::AdviSettings;
/// let s = AdviSettings::default();
/// assert_eq!((s.grad_samples, s.elbo_samples, s.max_iterations), (1, 100, 10_000));
/// assert_eq!((s.eta, s.adapt_engaged, s.adapt_iter), (1.0, true, 50));
/// assert_eq!((s.tol_rel_obj, s.eval_elbo, s.output_samples), (0.01, 100, 1000));
/// let bad = AdviSettings { tol_rel_obj: 0.0, ..s.clone() };
/// assert!(bad.validate().is_err());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AdviSettings {
    /// The guide. Default [`AdviFamily::MeanField`].
    pub family: AdviFamily,
    /// The gradient estimator. Default [`ElboGradient::Reparameterized`] (Stan's).
    pub gradient: ElboGradient,
    /// Draws per gradient estimate (Stan's `grad_samples`). Default 1.
    pub grad_samples: usize,
    /// Draws per ELBO estimate of the convergence test (Stan's `elbo_samples`). Default 100.
    pub elbo_samples: usize,
    /// Step-size scale η > 0 (Stan's `eta`), used as given when `adapt_engaged` is off.
    /// Default 1. With `adapt_engaged`, Stan's search replaces it: from the same start, η =
    /// 100, 10, 1, 0.1, 0.01 in turn run `adapt_iter` iterations each and are scored by the
    /// ELBO after them; the search stops at the first η whose ELBO is worse than the
    /// previous one's, provided that one beat the initial ELBO, and keeps the previous η
    /// (Stan's `adapt_eta`).
    pub eta: f64,
    /// Whether to choose η by Stan's search (Stan's `adapt engaged`). Default true.
    ///
    /// One departure from Stan: the search scores each η by one short noisy run, so it can
    /// pick an η whose first full-size steps (η/√1 = η) blow the guide up; Stan then stops
    /// with an error. Here, with the search engaged, an ascent that diverges or drops every
    /// draw of an estimate restarts from the initial guide with the next smaller η of the
    /// sequence (counted in [`AdviFit::restarts`](super::AdviFit::restarts)); the error is
    /// returned when 0.01 fails too. With `adapt_engaged` off, η is used as given and a
    /// failure is an error at once.
    pub adapt_engaged: bool,
    /// Iterations per η tried by the search (Stan's `adapt iter`). Default 50.
    pub adapt_iter: usize,
    /// Maximum number of iterations (Stan's `iter`). Default 10000.
    pub max_iterations: usize,
    /// Relative tolerance of the ELBO's change (Stan's `tol_rel_obj`): converged when the
    /// mean or the median of the last relative changes |ΔELBO / ELBO| falls below it.
    /// Default 0.01.
    pub tol_rel_obj: f64,
    /// Iterations between ELBO estimates of the convergence test (Stan's `eval_elbo`).
    /// Default 100.
    pub eval_elbo: usize,
    /// Draws from the fitted guide returned in the fit (Stan's `output_samples`).
    /// Default 1000.
    pub output_samples: usize,
    /// The unconstrained starting point of μ (the guide starts at N(init, I), as Stan's).
    /// Default `None`: a point drawn uniformly from (−`init_radius`, `init_radius`)ⁿ where the
    /// log density and its gradient are finite (at most 100 tries).
    pub init: Option<Vec<f64>>,
    /// Half-width of the random initialization box. Default 2 (Stan's); 0 starts at the
    /// origin.
    pub init_radius: f64,
}

impl Default for AdviSettings {
    fn default() -> Self {
        AdviSettings {
            family: AdviFamily::MeanField,
            gradient: ElboGradient::Reparameterized,
            grad_samples: 1,
            elbo_samples: 100,
            eta: 1.0,
            adapt_engaged: true,
            adapt_iter: 50,
            max_iterations: 10_000,
            tol_rel_obj: 0.01,
            eval_elbo: 100,
            output_samples: 1000,
            init: None,
            init_radius: 2.0,
        }
    }
}

/// Stan's `adapt_eta` sequence.
pub(crate) const ETA_SEQUENCE: [f64; 5] = [100.0, 10.0, 1.0, 0.1, 0.01];

/// Stan's random initialization: tries of Uniform(−radius, radius).
pub(crate) const INIT_TRIES: usize = 100;

impl AdviSettings {
    /// Checks every setting: counts ≥ 1 (`adapt_iter` only when `adapt_engaged`),
    /// `eta` and `tol_rel_obj` finite and > 0, `init_radius` finite and ≥ 0, every `init`
    /// coordinate finite.
    ///
    /// # Errors
    /// [`AdviError::InvalidSetting`] naming the first invalid setting and its value.
    ///
    /// # Examples
    /// ```
    /// use infer_mcmc::advi::{AdviError, AdviSettings};
    /// let s = AdviSettings { grad_samples: 0, ..AdviSettings::default() };
    /// assert!(matches!(s.validate(), Err(AdviError::InvalidSetting { name: "grad_samples", .. })));
    /// ```
    pub fn validate(&self) -> Result<(), AdviError> {
        let counts = [
            ("grad_samples", self.grad_samples),
            ("elbo_samples", self.elbo_samples),
            ("max_iterations", self.max_iterations),
            ("eval_elbo", self.eval_elbo),
            ("output_samples", self.output_samples),
        ];
        for (name, v) in counts {
            check(v >= 1, name, v as f64, "an integer >= 1")?;
        }
        if self.adapt_engaged {
            check(
                self.adapt_iter >= 1,
                "adapt_iter",
                self.adapt_iter as f64,
                "an integer >= 1",
            )?;
        }
        check(
            self.eta > 0.0 && self.eta.is_finite(),
            "eta",
            self.eta,
            "finite and > 0",
        )?;
        check(
            self.tol_rel_obj > 0.0 && self.tol_rel_obj.is_finite(),
            "tol_rel_obj",
            self.tol_rel_obj,
            "finite and > 0",
        )?;
        check_init_radius(self.init_radius)?;
        if let Some(x) = self
            .init
            .as_ref()
            .and_then(|i| i.iter().find(|v| !v.is_finite()))
        {
            return Err(AdviError::InvalidSetting {
                name: "init",
                value: *x,
                expected: "finite coordinates",
            });
        }
        Ok(())
    }
}

crate::error::setting_check!(AdviError; init_radius);
