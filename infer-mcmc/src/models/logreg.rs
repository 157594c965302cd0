//! Bayesian logistic regression with a standard-normal prior (`logreg`: N = 1000, D = 25).

use crate::density::LogDensity;
use crate::error::{LogDensityError, McmcError};
use crate::layout::Layout;
use infer_dist::BernoulliLogitGlm;
use std::sync::Arc;

/// β ∈ ℝᴰ, β ~ N(0, I), yᵢ ~ Bernoulli(σ(xᵢ·β)):
///
/// log p(β) = Σᵢ [yᵢ ηᵢ − log(1 + e^ηᵢ)] − ½ βᵀβ,  ∇ log p = Xᵀ(y − σ(Xβ)) − β,  η = Xβ.
///
/// The likelihood and its gradient come from [`BernoulliLogitGlm::log_prob_and_grad`] (the
/// same kernel as the fused tape node: register-blocked loops over X and Xᵀ, one vectorizable
/// e^(−|η|) per row, logarithms once per 32 rows, an AVX2 instance where available); the prior
/// is added here.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{LogDensity, models::LogReg};
///
/// let mut m = LogReg::new(vec![1.0, 0.0, 0.0, 1.0], vec![1.0, 0.0], 2)?;
/// let mut g = [0.0; 2];
/// let lp = m.logp_and_grad(&[0.0, 0.0], &mut g)?;
/// assert!((lp - 2.0 * 0.5f64.ln()).abs() < 1e-12);
/// assert_eq!(g, [0.5, -0.5]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct LogReg {
    glm: BernoulliLogitGlm,
    d: usize,
}

impl LogReg {
    /// From a row-major design matrix `x` (N × `n_features`) and 0/1 outcomes `y` (length N).
    ///
    /// # Errors
    ///
    /// [`McmcError::DimensionMismatch`] if the lengths disagree;
    /// [`McmcError::InvalidSetting`] for an outcome other than 0 or 1 or a non-finite
    /// covariate.
    pub fn new(x: Vec<f64>, y: Vec<f64>, n_features: usize) -> Result<Self, McmcError> {
        let n = y.len();
        let d = n_features;
        if x.len() != n * d {
            return Err(McmcError::DimensionMismatch {
                name: "x",
                expected: n * d,
                found: x.len(),
            });
        }
        for &v in &y {
            crate::error::check(v == 0.0 || v == 1.0, "y", v, "0 or 1")?;
        }
        for &v in &x {
            crate::error::check(v.is_finite(), "x", v, "finite")?;
        }
        let x = ndarray::Array2::from_shape_vec((n, d), x).map_err(|_| {
            McmcError::DimensionMismatch {
                name: "x",
                expected: n * d,
                found: n * d,
            }
        })?;
        // The data were validated above, so this cannot fail; map rather than unwrap.
        let glm = BernoulliLogitGlm::new(Arc::new(x), &y).map_err(|_| McmcError::InvalidModel {
            param: "x, y".to_string(),
            reason: "rejected by BernoulliLogitGlm",
        })?;
        Ok(Self { glm, d })
    }

    /// From the rows of the design matrix.
    ///
    /// # Errors
    ///
    /// As [`LogReg::new`], and [`McmcError::DimensionMismatch`] for ragged rows.
    pub fn from_rows(rows: &[Vec<f64>], y: Vec<f64>) -> Result<Self, McmcError> {
        let d = rows.first().map_or(0, Vec::len);
        Self::new(super::flatten_rows(rows, d, "x row")?, y, d)
    }

    /// Number of observations N.
    #[must_use]
    pub fn num_obs(&self) -> usize {
        self.glm.y().len()
    }
}

impl LogDensity for LogReg {
    fn dim(&self) -> usize {
        self.d
    }

    fn layout(&self) -> Layout {
        Layout::vector("beta", self.d).expect("`beta` is a valid name")
    }

    fn logp_and_grad(&mut self, beta: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        let d = self.d;
        let (beta, grad) = (&beta[..d], &mut grad[..d]);
        let (mut lp, _) = self.glm.log_prob_and_grad(beta, 0.0, grad)?;
        for j in 0..d {
            grad[j] -= beta[j];
            lp -= 0.5 * beta[j] * beta[j];
        }
        if !lp.is_finite() {
            return Err(LogDensityError::recoverable(
                "non-finite logistic log-likelihood",
            ));
        }
        Ok(lp)
    }
}
