//! Correlated multivariate normal N(0, Σ) (`corr_gauss`: Σ 50×50, condition number 100).

use crate::density::LogDensity;
use crate::error::{LogDensityError, McmcError};
use crate::linalg;

/// x ~ N(0, Σ): log p(x) = −½ xᵀ Σ⁻¹ x, ∇ log p = −Σ⁻¹ x. The precision Σ⁻¹ is computed once,
/// through the Cholesky factor, at construction.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{LogDensity, models::CorrGauss};
///
/// let mut m = CorrGauss::new(vec![2.0, 1.0, 1.0, 2.0], 2)?;
/// let mut g = [0.0; 2];
/// // Σ⁻¹ = [[2, −1], [−1, 2]] / 3.
/// let lp = m.logp_and_grad(&[1.0, 1.0], &mut g)?;
/// assert!((lp + 1.0 / 3.0).abs() < 1e-12);
/// assert!((g[0] + 1.0 / 3.0).abs() < 1e-12);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct CorrGauss {
    dim: usize,
    cov: Vec<f64>,
    precision: Vec<f64>,
}

impl CorrGauss {
    /// From a row-major `dim`×`dim` covariance matrix.
    ///
    /// # Errors
    ///
    /// [`McmcError::DimensionMismatch`] if `cov.len() != dim²`;
    /// [`McmcError::NotPositiveDefinite`] if Σ is not symmetric positive definite.
    pub fn new(cov: Vec<f64>, dim: usize) -> Result<Self, McmcError> {
        // `dim²` overflowing (`dim = 2³²`) must not wrap to a length that matches.
        let len = dim.checked_mul(dim);
        if len != Some(cov.len()) {
            return Err(McmcError::DimensionMismatch {
                name: "cov",
                expected: len.unwrap_or(usize::MAX),
                found: cov.len(),
            });
        }
        for i in 0..dim {
            for j in 0..i {
                let (a, b) = (cov[i * dim + j], cov[j * dim + i]);
                if !((a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)) {
                    return Err(McmcError::NotPositiveDefinite {
                        name: "cov",
                        index: i,
                        pivot: a - b,
                    });
                }
            }
        }
        let l = linalg::cholesky(&cov, dim).map_err(|(index, pivot)| {
            McmcError::NotPositiveDefinite {
                name: "cov",
                index,
                pivot,
            }
        })?;
        let precision = linalg::spd_inverse_from_cholesky(&l, dim);
        Ok(Self {
            dim,
            cov,
            precision,
        })
    }

    /// From the rows of the covariance matrix.
    ///
    /// # Errors
    ///
    /// As [`CorrGauss::new`], and [`McmcError::DimensionMismatch`] for ragged rows.
    pub fn from_rows(rows: &[Vec<f64>]) -> Result<Self, McmcError> {
        let dim = rows.len();
        Self::new(super::flatten_rows(rows, dim, "cov row")?, dim)
    }

    /// The covariance Σ, row-major.
    #[must_use]
    pub fn covariance(&self) -> &[f64] {
        &self.cov
    }
}

impl LogDensity for CorrGauss {
    fn dim(&self) -> usize {
        self.dim
    }

    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        let n = self.dim;
        let mut s = 0.0;
        for i in 0..n {
            let g = -linalg::dot(&self.precision[i * n..(i + 1) * n], x);
            grad[i] = g;
            s += g * x[i];
        }
        Ok(0.5 * s)
    }
}
