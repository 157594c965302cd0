//! Eight schools, non-centered (Rubin 1981; Gelman et al., *Bayesian Data Analysis*).

use crate::density::LogDensity;
use crate::error::{LogDensityError, McmcError, check};
use crate::layout::{EntrySpec, Layout, ParamSupport};
use infer_dist::Constraint;

/// The non-centered hierarchical model of the eight-schools data:
///
/// μ ~ N(0, 5), τ ~ HalfCauchy(5), ηⱼ ~ N(0, 1), yⱼ ~ N(μ + τ ηⱼ, σⱼ),
///
/// sampled on ℝ^(J+2) as (μ, log τ, η₁, …, η_J) with the log-Jacobian log τ added. Recorded
/// values are `mu`, `tau` (constrained, τ = e^(log τ)) and `eta[1]`, …, `eta[J]`.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{LogDensity, models::EightSchools};
///
/// let mut m = EightSchools::classic();
/// assert_eq!(m.dim(), 10);
/// let mut out = [0.0; 10];
/// let mut x = [0.0; 10];
/// x[1] = 1.0;
/// m.write_draw(&x, &mut rand::rng(), &mut out)?;
/// assert_eq!(out[1], 1f64.exp());
/// assert_eq!(m.layout().names()[2], "eta[1]");
/// # Ok::<(), infer_mcmc::LogDensityError>(())
/// ```
#[derive(Clone, Debug)]
pub struct EightSchools {
    y: Vec<f64>,
    inv_var: Vec<f64>,
}

impl EightSchools {
    /// From the observed effects `y` and their standard errors `sigma`.
    ///
    /// # Errors
    ///
    /// [`McmcError::DimensionMismatch`] for different lengths; [`McmcError::InvalidSetting`]
    /// for a `sigma` that is not finite and positive or a non-finite `y`.
    pub fn new(y: Vec<f64>, sigma: Vec<f64>) -> Result<Self, McmcError> {
        if y.len() != sigma.len() {
            return Err(McmcError::DimensionMismatch {
                name: "sigma",
                expected: y.len(),
                found: sigma.len(),
            });
        }
        for &s in &sigma {
            check(s > 0.0 && s.is_finite(), "sigma", s, "finite and > 0")?;
        }
        for &v in &y {
            check(v.is_finite(), "y", v, "finite")?;
        }
        Ok(Self {
            inv_var: sigma.iter().map(|s| 1.0 / (s * s)).collect(),
            y,
        })
    }

    /// The classic data: y = (28, 8, −3, 7, −1, 1, 18, 12), σ = (15, 10, 16, 11, 9, 11, 10, 18).
    #[must_use]
    pub fn classic() -> Self {
        let y = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
        let sigma: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];
        Self {
            y: y.to_vec(),
            inv_var: sigma.iter().map(|s| 1.0 / (s * s)).collect(),
        }
    }
}

impl LogDensity for EightSchools {
    fn dim(&self) -> usize {
        self.y.len() + 2
    }

    fn layout(&self) -> Layout {
        let real = Some(ParamSupport::Fixed(Constraint::Real));
        let positive = Some(ParamSupport::Fixed(Constraint::Positive));
        let j = self.y.len();
        Layout::new(vec![
            EntrySpec::parameter("mu", &[], 1, real),
            EntrySpec::parameter("tau", &[], 1, positive),
            EntrySpec::parameter("eta", &[j], j, real),
        ])
        .expect("constant, distinct, valid names")
    }

    fn write_draw(
        &mut self,
        x: &[f64],
        _rng: &mut dyn rand::RngCore,
        out: &mut [f64],
    ) -> Result<(), LogDensityError> {
        out.copy_from_slice(x);
        out[1] = x[1].exp();
        Ok(())
    }

    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        let mu = x[0];
        let log_tau = x[1];
        let tau = log_tau.exp();
        // μ ~ N(0, 5²).
        let mut lp = -0.5 * mu * mu / 25.0;
        let mut g_mu = -mu / 25.0;
        // τ ~ HalfCauchy(5) on log τ with Jacobian: −ln(1 + τ²/25) + log τ.
        let t2 = tau * tau / 25.0;
        lp += -t2.ln_1p() + log_tau;
        let mut g_tau = 0.0; // ∂/∂τ of the likelihood terms
        let mut g_log_tau = 1.0 - 2.0 * t2 / (1.0 + t2);
        for j in 0..self.y.len() {
            let eta = x[j + 2];
            let r = (self.y[j] - mu - tau * eta) * self.inv_var[j];
            lp += -0.5 * eta * eta - 0.5 * r * (self.y[j] - mu - tau * eta);
            g_mu += r;
            g_tau += r * eta;
            grad[j + 2] = tau * r - eta;
        }
        g_log_tau += tau * g_tau;
        grad[0] = g_mu;
        grad[1] = g_log_tau;
        Ok(lp)
    }
}
