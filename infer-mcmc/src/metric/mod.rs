//! The Euclidean metric (inverse mass matrix) of Hamiltonian Monte Carlo: diagonal, dense, or
//! diagonal plus low rank ([`Metric::low_rank`]).

mod low_rank;

pub use low_rank::ORTHONORMALITY_TOLERANCE;

use rand::Rng;
use rand_distr::StandardNormal;

use crate::error::McmcError;
use crate::linalg;
use low_rank::LowRank;

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

/// Which form of metric the sampler adapts: Stan's `diag_e` (default), `dense_e`, or the
/// diagonal plus low rank of [`Adaptation::FisherLowRank`](crate::settings::Adaptation::FisherLowRank).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricKind {
    /// Diagonal inverse metric, estimated from the marginal variances (default).
    #[default]
    Diagonal,
    /// Dense inverse metric, estimated from the full covariance.
    Dense,
    /// Diagonal plus low rank, M⁻¹ = D^{1/2} (I + U (Λ − I) Uᵀ) D^{1/2}
    /// ([`Metric::low_rank`]), adapted by
    /// [`Adaptation::FisherLowRank`](crate::settings::Adaptation::FisherLowRank).
    LowRank,
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
    LowRank(LowRank),
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
    /// The unit metric M = I of the given kind (for [`MetricKind::LowRank`]: D = I and rank 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Metric, MetricKind};
    ///
    /// let m = Metric::identity(3, MetricKind::LowRank);
    /// assert_eq!((m.kind(), m.inverse_diagonal()), (MetricKind::LowRank, vec![1.0; 3]));
    /// ```
    #[must_use]
    pub fn identity(dim: usize, kind: MetricKind) -> Self {
        match kind {
            MetricKind::LowRank => Self {
                dim,
                inner: Inner::LowRank(LowRank::identity(dim)),
            },
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
        check_diagonal(&inverse_diagonal)?;
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

    /// A diagonal-plus-low-rank metric M⁻¹ = D^{1/2} (I + U (Λ − I) Uᵀ) D^{1/2}: `diagonal`
    /// is D (d values, finite and > 0), `eigenvalues` the k values λⱼ (finite and > 0, k ≤ d)
    /// and `eigenvectors` the k columns uⱼ of U (each of length d, orthonormal to
    /// [`ORTHONORMALITY_TOLERANCE`]). The directions uⱼ of the D^{−1/2}-scaled space have
    /// variance λⱼ, every other direction variance 1. Products with M⁻¹ and momentum draws
    /// cost O(d·k); no d×d matrix is formed. With k = 0 the metric samples exactly as
    /// [`Metric::diagonal`] with D.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{McmcError, Metric, MetricKind};
    ///
    /// // D = (4, 1); one direction (1, 1)/√2 of the scaled space with variance 9.
    /// let s = 0.5f64.sqrt();
    /// let m = Metric::low_rank(vec![4.0, 1.0], vec![9.0], vec![vec![s, s]])?;
    /// assert_eq!(m.kind(), MetricKind::LowRank);
    /// // M⁻¹ = D^{1/2} (I + 8 u uᵀ) D^{1/2} = [[4 + 16, 8], [8, 1 + 4]]
    /// let full = m.inverse_matrix();
    /// for (got, want) in full.iter().zip([20.0, 8.0, 8.0, 5.0]) {
    ///     assert!((got - want).abs() < 1e-12);
    /// }
    /// let err = Metric::low_rank(vec![1.0, 1.0], vec![2.0], vec![vec![1.0, 1.0]]).unwrap_err();
    /// assert!(matches!(err, McmcError::InvalidMetric { row: 0, col: 0, .. }));
    /// # Ok::<(), McmcError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidMetric`] for a diagonal element or eigenvalue that is not finite
    /// and positive, a non-finite eigenvector entry, or eigenvectors that are not
    /// orthonormal (naming the pair); [`McmcError::DimensionMismatch`] for more eigenvalues
    /// than dimensions, a count of eigenvectors different from that of eigenvalues, or an
    /// eigenvector whose length is not d.
    pub fn low_rank(
        diagonal: Vec<f64>,
        eigenvalues: Vec<f64>,
        eigenvectors: Vec<Vec<f64>>,
    ) -> Result<Self, McmcError> {
        check_diagonal(&diagonal)?;
        Ok(Self {
            dim: diagonal.len(),
            inner: Inner::LowRank(LowRank::new(diagonal, eigenvalues, eigenvectors)?),
        })
    }

    /// The factors (D, λ, U) of a diagonal-plus-low-rank metric; `None` for the other kinds.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::{Metric, MetricKind};
    ///
    /// let m = Metric::low_rank(vec![2.0, 3.0], vec![0.25], vec![vec![0.0, 1.0]])?;
    /// let f = m.low_rank_factors().expect("low rank");
    /// assert_eq!((f.diagonal, f.eigenvalues), (vec![2.0, 3.0], vec![0.25]));
    /// assert_eq!(f.eigenvectors, vec![vec![0.0, 1.0]]);
    /// assert!(Metric::identity(2, MetricKind::Diagonal).low_rank_factors().is_none());
    /// # Ok::<(), infer_mcmc::McmcError>(())
    /// ```
    #[must_use]
    pub fn low_rank_factors(&self) -> Option<LowRankFactors> {
        match &self.inner {
            Inner::LowRank(lr) => Some(LowRankFactors {
                diagonal: lr.diag.clone(),
                eigenvalues: lr.values.clone(),
                eigenvectors: lr.vectors(),
            }),
            _ => None,
        }
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
            Inner::LowRank(_) => MetricKind::LowRank,
        }
    }

    /// The diagonal of M⁻¹ (for a dense or low-rank metric, the diagonal of the matrix).
    #[must_use]
    pub fn inverse_diagonal(&self) -> Vec<f64> {
        match &self.inner {
            Inner::Diagonal { inv, .. } => inv.clone(),
            Inner::Dense { inv, .. } => (0..self.dim).map(|i| inv[i * self.dim + i]).collect(),
            Inner::LowRank(lr) => lr.inverse_diagonal(),
        }
    }

    /// M⁻¹ as a full row-major `dim`×`dim` matrix (for a low-rank metric O(d²·k) work).
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
            Inner::LowRank(lr) => lr.inverse_matrix(),
        }
    }

    /// The diagonal of M⁻¹ if the metric is diagonal (hot-path access); a low-rank metric of
    /// rank 0 is one.
    #[inline]
    pub(crate) fn diag_inv(&self) -> Option<&[f64]> {
        match &self.inner {
            Inner::Diagonal { inv, .. } => Some(inv),
            Inner::Dense { .. } => None,
            Inner::LowRank(lr) if lr.rank() == 0 => Some(&lr.diag),
            Inner::LowRank(_) => None,
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
            Inner::LowRank(lr) => lr.sample_momentum(rng, p),
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
            Inner::LowRank(lr) => lr.sharp(p, out),
        }
    }
}

/// The factors of a diagonal-plus-low-rank metric M⁻¹ = D^{1/2} (I + U (Λ − I) Uᵀ) D^{1/2}
/// ([`Metric::low_rank_factors`]; [`Metric::low_rank`] builds a metric from them).
///
/// # Examples
///
/// ```
/// use infer_mcmc::metric::{LowRankFactors, Metric};
///
/// let f = LowRankFactors { diagonal: vec![1.0, 2.0], eigenvalues: vec![], eigenvectors: vec![] };
/// let m = Metric::low_rank(f.diagonal.clone(), f.eigenvalues.clone(), f.eigenvectors.clone())?;
/// assert_eq!(m.low_rank_factors(), Some(f));
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LowRankFactors {
    /// D: the diagonal scaling (the Fisher diagonal √(Var(x)/Var(∇ log p)) when adapted).
    pub diagonal: Vec<f64>,
    /// λⱼ: the variances of the directions uⱼ in the D^{−1/2}-scaled space.
    pub eigenvalues: Vec<f64>,
    /// uⱼ: orthonormal directions of the D^{−1/2}-scaled space, one per eigenvalue.
    pub eigenvectors: Vec<Vec<f64>>,
}

/// Checks that every element of a diagonal is finite and > 0.
fn check_diagonal(diagonal: &[f64]) -> Result<(), McmcError> {
    check_positive(diagonal, "a diagonal element must be finite and > 0")
}

/// Checks that every value is finite and > 0; the error places value `i` at (`i`, `i`) and
/// gives `reason`.
fn check_positive(values: &[f64], reason: &'static str) -> Result<(), McmcError> {
    for (i, &v) in values.iter().enumerate() {
        if !(v > 0.0 && v.is_finite()) {
            return Err(McmcError::InvalidMetric {
                row: i,
                col: i,
                value: v,
                reason,
            });
        }
    }
    Ok(())
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
