//! The Euclidean metric (inverse mass matrix) of Hamiltonian Monte Carlo, diagonal or dense.

use rand::Rng;
use rand_distr::StandardNormal;

use crate::error::McmcError;
use crate::linalg;

/// Relative tolerance of the symmetry check of [`Metric::dense`].
///
/// # Examples
///
/// ```
/// use infer_mcmc::metric::{Metric, SYMMETRY_TOLERANCE};
///
/// // An asymmetry of rounding size is accepted (and removed), a larger one is not.
/// let tiny = 0.5 * (1.0 + 0.1 * SYMMETRY_TOLERANCE);
/// assert!(Metric::dense(vec![1.0, tiny, 0.5, 1.0], 2).is_ok());
/// assert!(Metric::dense(vec![1.0, 0.5001, 0.5, 1.0], 2).is_err());
/// ```
pub const SYMMETRY_TOLERANCE: f64 = 1e-10;

/// Which form of metric the sampler adapts: Stan's `diag_e` (default) or `dense_e`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricKind {
    /// Diagonal inverse metric, estimated from the marginal variances (default).
    #[default]
    Diagonal,
    /// Dense inverse metric, estimated from the full covariance.
    Dense,
}

#[derive(Clone, Debug)]
enum Inner {
    Diagonal {
        inv: Vec<f64>,
        inv_sqrt: Vec<f64>,
    },
    Dense {
        /// Inverse metric M⁻¹, row-major n×n.
        inv: Vec<f64>,
        /// Lower Cholesky factor L of M⁻¹ = L Lᵀ.
        chol: Vec<f64>,
    },
}

/// A Euclidean metric, stored as its inverse M⁻¹ (the covariance the sampler adapts to).
///
/// Kinetic energy K(p) = ½ pᵀ M⁻¹ p; momenta are drawn from N(0, M); the position moves
/// along p♯ = M⁻¹ p (Betancourt 2017, §4). Warmup estimates M⁻¹ by the posterior
/// (co)variance.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{Metric, MetricKind};
///
/// let m = Metric::diagonal(vec![1.0, 4.0])?;
/// assert_eq!(m.kind(), MetricKind::Diagonal);
/// assert_eq!(m.inverse_diagonal(), vec![1.0, 4.0]);
/// let d = Metric::dense(vec![2.0, 0.5, 0.5, 1.0], 2)?;
/// assert_eq!(d.inverse_matrix()[1], 0.5);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
///
/// # References
///
/// Betancourt (2017), *A Conceptual Introduction to Hamiltonian Monte Carlo*, arXiv:1701.02434.
#[derive(Clone, Debug)]
pub struct Metric {
    dim: usize,
    inner: Inner,
}

impl Metric {
    /// The unit metric M = I of the given kind.
    #[must_use]
    pub fn identity(dim: usize, kind: MetricKind) -> Self {
        match kind {
            MetricKind::Diagonal => Self {
                dim,
                inner: Inner::Diagonal {
                    inv: vec![1.0; dim],
                    inv_sqrt: vec![1.0; dim],
                },
            },
            MetricKind::Dense => {
                let mut eye = vec![0.0; dim * dim];
                for i in 0..dim {
                    eye[i * dim + i] = 1.0;
                }
                Self {
                    dim,
                    inner: Inner::Dense {
                        inv: eye.clone(),
                        chol: eye,
                    },
                }
            }
        }
    }

    /// A diagonal metric from the diagonal of M⁻¹.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{McmcError, Metric};
    ///
    /// assert!(Metric::diagonal(vec![1.0, 1e-300]).is_ok());
    /// let err = Metric::diagonal(vec![1.0, -2.0]).unwrap_err();
    /// assert!(matches!(err, McmcError::InvalidMetric { row: 1, col: 1, .. }));
    /// ```
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidMetric`] naming the first element that is not finite and positive.
    pub fn diagonal(inverse_diagonal: Vec<f64>) -> Result<Self, McmcError> {
        for (i, &v) in inverse_diagonal.iter().enumerate() {
            if !(v > 0.0 && v.is_finite()) {
                return Err(McmcError::InvalidMetric {
                    row: i,
                    col: i,
                    value: v,
                    reason: "a diagonal element must be finite and > 0",
                });
            }
        }
        let inv_sqrt = inverse_diagonal.iter().map(|v| v.sqrt()).collect();
        Ok(Self {
            dim: inverse_diagonal.len(),
            inner: Inner::Diagonal {
                inv: inverse_diagonal,
                inv_sqrt,
            },
        })
    }

    /// A dense metric from M⁻¹ (row-major `dim`×`dim`, symmetric positive definite).
    ///
    /// Every entry is read: each must be finite, and the matrix symmetric to a relative
    /// tolerance of [`SYMMETRY_TOLERANCE`]: `|aᵢⱼ − aⱼᵢ| ≤ 1e-10 · max(|aᵢⱼ|, |aⱼᵢ|,
    /// √aᵢᵢ·√aⱼⱼ)` (the last term is the scale an off-diagonal entry of a covariance has).
    /// Within the tolerance the matrix is made exactly symmetric, (aᵢⱼ + aⱼᵢ)/2, so that the
    /// momenta and the kinetic energy use the same matrix. Then its Cholesky factorization
    /// must succeed (positive definite).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{McmcError, Metric};
    ///
    /// assert!(Metric::dense(vec![2.0, 0.5, 0.5, 1.0], 2).is_ok());
    /// // The upper triangle is read too.
    /// let err = Metric::dense(vec![1.0, f64::NAN, 0.0, 1.0], 2).unwrap_err();
    /// assert!(matches!(err, McmcError::InvalidMetric { row: 0, col: 1, .. }));
    /// let err = Metric::dense(vec![1.0, 0.9, 0.0, 1.0], 2).unwrap_err();
    /// assert!(matches!(err, McmcError::InvalidMetric { row: 1, col: 0, .. }));
    /// let err = Metric::dense(vec![1.0, 2.0, 2.0, 1.0], 2).unwrap_err();
    /// assert!(matches!(err, McmcError::NotPositiveDefinite { index: 1, .. }));
    /// ```
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] naming `dim` if `dim²` overflows,
    /// [`McmcError::DimensionMismatch`] if the length is not `dim²`,
    /// [`McmcError::InvalidMetric`] for the first non-finite entry or the first asymmetric
    /// pair, [`McmcError::NotPositiveDefinite`] if the Cholesky factorization fails.
    pub fn dense(inverse: Vec<f64>, dim: usize) -> Result<Self, McmcError> {
        let Some(len) = dim.checked_mul(dim) else {
            return Err(McmcError::InvalidSetting {
                name: "dim",
                value: dim as f64,
                expected: "dim × dim must not overflow usize",
            });
        };
        if inverse.len() != len {
            return Err(McmcError::DimensionMismatch {
                name: "inverse metric",
                expected: len,
                found: inverse.len(),
            });
        }
        let mut inverse = inverse;
        if let Some(k) = inverse.iter().position(|v| !v.is_finite()) {
            return Err(McmcError::InvalidMetric {
                row: k / dim,
                col: k % dim,
                value: inverse[k],
                reason: "not finite",
            });
        }
        for i in 0..dim {
            for j in 0..i {
                let (lower, upper) = (inverse[i * dim + j], inverse[j * dim + i]);
                let scale = lower
                    .abs()
                    .max(upper.abs())
                    .max(inverse[i * dim + i].abs().sqrt() * inverse[j * dim + j].abs().sqrt());
                if !((lower - upper).abs() <= SYMMETRY_TOLERANCE * scale) {
                    return Err(McmcError::InvalidMetric {
                        row: i,
                        col: j,
                        value: lower,
                        reason: "differs from its transposed entry (the matrix must be symmetric)",
                    });
                }
                // Halves first: the sum of two entries near f64::MAX would overflow.
                let mid = 0.5 * lower + 0.5 * upper;
                inverse[i * dim + j] = mid;
                inverse[j * dim + i] = mid;
            }
        }
        let chol = linalg::cholesky(&inverse, dim).map_err(|(index, pivot)| {
            McmcError::NotPositiveDefinite {
                name: "inverse metric",
                index,
                pivot,
            }
        })?;
        Ok(Self {
            dim,
            inner: Inner::Dense { inv: inverse, chol },
        })
    }

    /// Dimension.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Diagonal or dense.
    #[must_use]
    pub fn kind(&self) -> MetricKind {
        match self.inner {
            Inner::Diagonal { .. } => MetricKind::Diagonal,
            Inner::Dense { .. } => MetricKind::Dense,
        }
    }

    /// The diagonal of M⁻¹ (for a dense metric, the diagonal of the matrix).
    #[must_use]
    pub fn inverse_diagonal(&self) -> Vec<f64> {
        match &self.inner {
            Inner::Diagonal { inv, .. } => inv.clone(),
            Inner::Dense { inv, .. } => (0..self.dim).map(|i| inv[i * self.dim + i]).collect(),
        }
    }

    /// M⁻¹ as a full row-major `dim`×`dim` matrix.
    #[must_use]
    pub fn inverse_matrix(&self) -> Vec<f64> {
        match &self.inner {
            Inner::Diagonal { inv, .. } => {
                let n = self.dim;
                let mut m = vec![0.0; n * n];
                for i in 0..n {
                    m[i * n + i] = inv[i];
                }
                m
            }
            Inner::Dense { inv, .. } => inv.clone(),
        }
    }

    /// The diagonal of M⁻¹ if the metric is diagonal (hot-path access).
    #[inline]
    pub(crate) fn diag_inv(&self) -> Option<&[f64]> {
        match &self.inner {
            Inner::Diagonal { inv, .. } => Some(inv),
            Inner::Dense { .. } => None,
        }
    }

    /// Draws p ~ N(0, M) into `p`, allocation-free.
    pub(crate) fn sample_momentum<R: Rng + ?Sized>(&self, rng: &mut R, p: &mut [f64]) {
        match &self.inner {
            Inner::Diagonal { inv_sqrt, .. } => {
                for (pi, s) in p.iter_mut().zip(inv_sqrt) {
                    let z: f64 = rng.sample(StandardNormal);
                    *pi = z / s;
                }
            }
            Inner::Dense { chol, .. } => {
                // M⁻¹ = L Lᵀ, so p = L⁻ᵀ z has covariance (L Lᵀ)⁻¹ = M. Solve Lᵀ p = z in place.
                let n = self.dim;
                for pi in p.iter_mut() {
                    *pi = rng.sample(StandardNormal);
                }
                for i in (0..n).rev() {
                    let mut s = p[i];
                    for j in i + 1..n {
                        s -= chol[j * n + i] * p[j];
                    }
                    p[i] = s / chol[i * n + i];
                }
            }
        }
    }

    /// p♯ = M⁻¹ p; returns pᵀ M⁻¹ p (twice the kinetic energy).
    #[inline]
    pub(crate) fn sharp(&self, p: &[f64], out: &mut [f64]) -> f64 {
        match &self.inner {
            Inner::Diagonal { inv, .. } => {
                let mut s = 0.0;
                for i in 0..p.len() {
                    let v = inv[i] * p[i];
                    out[i] = v;
                    s += v * p[i];
                }
                s
            }
            Inner::Dense { inv, .. } => {
                linalg::matvec(inv, p, out);
                linalg::dot(p, out)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn dense_momentum_has_covariance_m() {
        // M⁻¹ = [[2, 0.5], [0.5, 1]] → M = inverse; check E[p pᵀ] ≈ M.
        let m = Metric::dense(vec![2.0, 0.5, 0.5, 1.0], 2).unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let mut p = [0.0; 2];
        let mut acc = [0.0; 3];
        let n = 200_000;
        for _ in 0..n {
            m.sample_momentum(&mut rng, &mut p);
            acc[0] += p[0] * p[0];
            acc[1] += p[0] * p[1];
            acc[2] += p[1] * p[1];
        }
        let det = 2.0 - 0.25;
        let want = [1.0 / det, -0.5 / det, 2.0 / det];
        // Monte Carlo sd ≈ sqrt(2/n)·scale ≈ 0.003; tolerance 0.02 (> 6 sd, false-failure ≈ 0).
        for k in 0..3 {
            assert!((acc[k] / n as f64 - want[k]).abs() < 0.02, "{k}");
        }
    }

    #[test]
    fn rejects_bad_diagonal() {
        assert!(Metric::diagonal(vec![1.0, f64::NAN]).is_err());
        assert!(Metric::diagonal(vec![0.0]).is_err());
        assert!(Metric::dense(vec![1.0], 2).is_err());
    }
}
