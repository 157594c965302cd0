//! The diagonal-plus-low-rank metric M⁻¹ = D^{1/2} (I + U (Λ − I) Uᵀ) D^{1/2}: every
//! product with it, and every momentum draw, in O(d·k) without forming a d×d matrix.

use rand::Rng;
use rand_distr::StandardNormal;

use crate::error::McmcError;

/// How far from orthonormal the eigenvectors given to
/// [`Metric::low_rank`](super::Metric::low_rank) may be: `|uᵢ·uⱼ − δᵢⱼ| ≤ 1e-8`.
///
/// # Examples
///
/// ```
/// use infer_mcmc::Metric;
/// use infer_mcmc::metric::ORTHONORMALITY_TOLERANCE;
///
/// let s = (0.5f64).sqrt();
/// let nearly = s * (1.0 + 0.1 * ORTHONORMALITY_TOLERANCE);
/// assert!(Metric::low_rank(vec![1.0, 1.0], vec![4.0], vec![vec![s, nearly]]).is_ok());
/// assert!(Metric::low_rank(vec![1.0, 1.0], vec![4.0], vec![vec![s, 1.01 * s]]).is_err());
/// ```
pub const ORTHONORMALITY_TOLERANCE: f64 = 1e-8;

/// The factors of a diagonal-plus-low-rank metric, validated; the hot paths use W = D^{1/2} U
/// (so that M⁻¹ = D + W (Λ − I) Wᵀ, exactly symmetric in floating point).
#[derive(Clone, Debug)]
pub(super) struct LowRank {
    /// D, the diagonal scaling.
    pub(super) diag: Vec<f64>,
    /// D^{1/2}.
    sqrt_diag: Vec<f64>,
    /// λⱼ, each finite and > 0.
    pub(super) values: Vec<f64>,
    /// uⱼ, row-major k×d.
    pub(super) vectors: Vec<f64>,
    /// wⱼ = D^{1/2} uⱼ, row-major k×d.
    scaled: Vec<f64>,
    /// λⱼ − 1 (the velocity).
    velocity: Vec<f64>,
    /// λⱼ^{−1/2} − 1 (the momentum draw).
    momentum: Vec<f64>,
}

impl LowRank {
    /// Validates the factors (the caller has checked the diagonal).
    pub(super) fn new(
        diag: Vec<f64>,
        values: Vec<f64>,
        vectors: Vec<Vec<f64>>,
    ) -> Result<Self, McmcError> {
        let d = diag.len();
        if values.len() != vectors.len() {
            return Err(McmcError::DimensionMismatch {
                name: "eigenvectors (one per eigenvalue)",
                expected: values.len(),
                found: vectors.len(),
            });
        }
        if values.len() > d {
            return Err(McmcError::DimensionMismatch {
                name: "eigenvalues (at most the dimension)",
                expected: d,
                found: values.len(),
            });
        }
        super::check_positive(
            &values,
            "an eigenvalue of the low-rank factor must be finite and > 0",
        )?;
        for (j, u) in vectors.iter().enumerate() {
            if u.len() != d {
                return Err(McmcError::DimensionMismatch {
                    name: "eigenvector",
                    expected: d,
                    found: u.len(),
                });
            }
            if let Some(i) = u.iter().position(|x| !x.is_finite()) {
                return Err(McmcError::InvalidMetric {
                    row: j,
                    col: i,
                    value: u[i],
                    reason: "an eigenvector entry is not finite",
                });
            }
        }
        for (j, u) in vectors.iter().enumerate() {
            for (l, w) in vectors.iter().enumerate().take(j + 1) {
                let dot = crate::linalg::dot(u, w);
                let want = if j == l { 1.0 } else { 0.0 };
                if !((dot - want).abs() <= ORTHONORMALITY_TOLERANCE) {
                    return Err(McmcError::InvalidMetric {
                        row: j,
                        col: l,
                        value: dot,
                        reason: "the eigenvectors must be orthonormal (this is uⱼ·uₗ)",
                    });
                }
            }
        }
        let sqrt_diag: Vec<f64> = diag.iter().map(|v| v.sqrt()).collect();
        let vectors: Vec<f64> = vectors.into_iter().flatten().collect();
        let scaled = vectors
            .chunks(d.max(1))
            .flat_map(|u| u.iter().zip(&sqrt_diag).map(|(x, s)| x * s))
            .collect();
        let velocity = values.iter().map(|v| v - 1.0).collect();
        let momentum = values.iter().map(|v| 1.0 / v.sqrt() - 1.0).collect();
        Ok(Self {
            diag,
            sqrt_diag,
            values,
            vectors,
            scaled,
            velocity,
            momentum,
        })
    }

    /// D = I, rank 0.
    pub(super) fn identity(dim: usize) -> Self {
        Self {
            diag: vec![1.0; dim],
            sqrt_diag: vec![1.0; dim],
            values: Vec::new(),
            vectors: Vec::new(),
            scaled: Vec::new(),
            velocity: Vec::new(),
            momentum: Vec::new(),
        }
    }

    /// The rank k.
    pub(super) fn rank(&self) -> usize {
        self.values.len()
    }

    /// The eigenvectors, one `Vec` each.
    pub(super) fn vectors(&self) -> Vec<Vec<f64>> {
        let d = self.diag.len();
        self.vectors.chunks(d.max(1)).map(<[f64]>::to_vec).collect()
    }

    /// The diagonal of M⁻¹: Dᵢ + Σⱼ (λⱼ − 1) wⱼᵢ².
    pub(super) fn inverse_diagonal(&self) -> Vec<f64> {
        let d = self.diag.len();
        let mut out = self.diag.clone();
        for (w, c) in self.scaled.chunks(d.max(1)).zip(&self.velocity) {
            for (o, x) in out.iter_mut().zip(w) {
                *o += c * x * x;
            }
        }
        out
    }

    /// M⁻¹ as a full row-major d×d matrix (O(d²·k)).
    pub(super) fn inverse_matrix(&self) -> Vec<f64> {
        let d = self.diag.len();
        let mut m = vec![0.0; d * d];
        for i in 0..d {
            m[i * d + i] = self.diag[i];
        }
        for (w, c) in self.scaled.chunks(d.max(1)).zip(&self.velocity) {
            for i in 0..d {
                let ci = c * w[i];
                for j in 0..d {
                    m[i * d + j] += ci * w[j];
                }
            }
        }
        m
    }

    /// p♯ = M⁻¹ p = D p + Σⱼ (λⱼ − 1)(wⱼ·p) wⱼ; returns pᵀ M⁻¹ p. O(d·k), allocation-free:
    /// every wⱼ·p is taken from `p`, which is not written.
    #[inline]
    pub(super) fn sharp(&self, p: &[f64], out: &mut [f64]) -> f64 {
        let d = p.len();
        for ((o, &x), &di) in out.iter_mut().zip(p).zip(&self.diag) {
            *o = di * x;
        }
        for (w, c) in self.scaled.chunks_exact(d).zip(&self.velocity) {
            let t = c * crate::linalg::dot(w, p);
            for (o, &x) in out.iter_mut().zip(w) {
                *o += t * x;
            }
        }
        crate::linalg::dot(p, out)
    }

    /// p = D^{−1/2} (I + U (Λ^{−1/2} − I) Uᵀ) z with z ~ N(0, I): Cov(p) = M, since
    /// (I + U(Λ^{−1/2} − I)Uᵀ)² = (I + U(Λ − I)Uᵀ)⁻¹ for orthonormal U. Draws d standard
    /// normals, as the diagonal metric does; the k rank-one corrections are applied one
    /// after the other (equal to their sum for orthonormal U, up to rounding).
    pub(super) fn sample_momentum<R: Rng + ?Sized>(&self, rng: &mut R, p: &mut [f64]) {
        let d = p.len();
        for pi in p.iter_mut() {
            *pi = rng.sample(StandardNormal);
        }
        for (u, c) in self.vectors.chunks_exact(d).zip(&self.momentum) {
            let t = c * crate::linalg::dot(u, p);
            for (pi, &x) in p.iter_mut().zip(u) {
                *pi += t * x;
            }
        }
        for (pi, s) in p.iter_mut().zip(&self.sqrt_diag) {
            *pi /= s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Metric, MetricKind};
    use crate::linalg;
    use rand::SeedableRng;

    /// d = 4, k = 2: D = (4, 0.25, 1, 9), directions u₁ = (1, 1, 1, 1)/2 (λ = 16) and
    /// u₂ = (1, −1, 0, 0)/√2 (λ = 0.04).
    fn planted() -> Metric {
        let s = 0.5f64.sqrt();
        Metric::low_rank(
            vec![4.0, 0.25, 1.0, 9.0],
            vec![16.0, 0.04],
            vec![vec![0.5; 4], vec![s, -s, 0.0, 0.0]],
        )
        .unwrap()
    }

    #[test]
    fn sharp_is_the_dense_product() {
        let m = planted();
        let full = m.inverse_matrix();
        let p = [0.3, -1.2, 2.0, 0.7];
        let mut out = [0.0; 4];
        let pmp = m.sharp(&p, &mut out);
        let mut want = [0.0; 4];
        linalg::matvec(&full, &p, &mut want);
        for (o, w) in out.iter().zip(&want) {
            assert!((o - w).abs() < 1e-12, "{o} vs {w}");
        }
        assert!((pmp - linalg::dot(&p, &want)).abs() < 1e-12);
        // the diagonal of the full matrix
        for (i, v) in m.inverse_diagonal().iter().enumerate() {
            assert!((v - full[i * 4 + i]).abs() < 1e-12);
        }
        // M⁻¹ by hand: D^{1/2}(I + 15 u₁u₁ᵀ − 0.96 u₂u₂ᵀ)D^{1/2}, entry (0, 1) and (3, 3)
        let (s0, s1, s3) = (2.0, 0.5, 3.0);
        let want01 = s0 * s1 * (15.0 * 0.25 - 0.96 * (-0.5));
        assert!((full[1] - want01).abs() < 1e-12);
        assert!((full[15] - s3 * s3 * (1.0 + 15.0 * 0.25)).abs() < 1e-12);
    }

    /// The momentum draws have covariance M = (M⁻¹)⁻¹, and the leapfrog's velocity p♯ = M⁻¹p
    /// then has covariance M⁻¹ and pᵀM⁻¹p mean d: the kinetic energy and the momentum
    /// distribution agree. Each entry is checked to 6 Monte Carlo standard deviations
    /// (sd of a second moment: √((Mᵢᵢ Mⱼⱼ + Mᵢⱼ²)/n)); 20 checks, false-failure rate < 1e-7.
    #[test]
    fn momentum_covariance_is_m_and_matches_the_kinetic_energy() {
        let m = planted();
        let d = 4;
        let inv = m.inverse_matrix();
        let chol = linalg::cholesky(&inv, d).unwrap();
        let mass = linalg::spd_inverse_from_cholesky(&chol, d);
        let mut rng = rand::rngs::StdRng::seed_from_u64(17);
        let n = 400_000;
        let (mut pp, mut vv) = (vec![0.0; d * d], vec![0.0; d * d]);
        let mut energy = 0.0;
        let (mut p, mut v) = (vec![0.0; d], vec![0.0; d]);
        for _ in 0..n {
            m.sample_momentum(&mut rng, &mut p);
            energy += m.sharp(&p, &mut v);
            for i in 0..d {
                for j in 0..d {
                    pp[i * d + j] += p[i] * p[j];
                    vv[i * d + j] += v[i] * v[j];
                }
            }
        }
        let nf = n as f64;
        for (acc, target) in [(&pp, &mass), (&vv, &inv)] {
            for i in 0..d {
                for j in 0..=i {
                    let got = acc[i * d + j] / nf;
                    let want = target[i * d + j];
                    let sd = ((target[i * d + i] * target[j * d + j] + want * want) / nf).sqrt();
                    assert!(
                        (got - want).abs() < 6.0 * sd,
                        "({i},{j}): {got} vs {want} (sd {sd})"
                    );
                }
            }
        }
        // pᵀM⁻¹p ~ χ²_d: mean d, sd of the mean √(2d/n)
        let mean = energy / nf;
        assert!(
            (mean - d as f64).abs() < 6.0 * (2.0 * d as f64 / nf).sqrt(),
            "{mean}"
        );
    }

    #[test]
    fn rank_zero_samples_as_the_diagonal() {
        let diag = vec![0.5, 2.0, 8.0];
        let lr = Metric::low_rank(diag.clone(), vec![], vec![]).unwrap();
        let dg = Metric::diagonal(diag.clone()).unwrap();
        assert_eq!(lr.diag_inv(), dg.diag_inv());
        let mut r1 = rand::rngs::StdRng::seed_from_u64(5);
        let mut r2 = rand::rngs::StdRng::seed_from_u64(5);
        let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
        for _ in 0..10 {
            lr.sample_momentum(&mut r1, &mut a);
            dg.sample_momentum(&mut r2, &mut b);
            assert_eq!(a, b);
        }
        assert_eq!(
            Metric::identity(3, MetricKind::LowRank).inverse_diagonal(),
            vec![1.0; 3]
        );
    }

    #[test]
    fn rejects_bad_factors() {
        use crate::McmcError;
        let ok = || vec![vec![1.0, 0.0]];
        let bad = |e: Result<Metric, McmcError>| e.unwrap_err();
        assert!(matches!(
            bad(Metric::low_rank(vec![1.0, -1.0], vec![2.0], ok())),
            McmcError::InvalidMetric { row: 1, col: 1, .. }
        ));
        assert!(matches!(
            bad(Metric::low_rank(vec![1.0, 1.0], vec![f64::NAN], ok())),
            McmcError::InvalidMetric { row: 0, .. }
        ));
        assert!(matches!(
            bad(Metric::low_rank(vec![1.0, 1.0], vec![2.0, 3.0], ok())),
            McmcError::DimensionMismatch { .. }
        ));
        assert!(matches!(
            bad(Metric::low_rank(vec![1.0, 1.0], vec![2.0], vec![vec![1.0]])),
            McmcError::DimensionMismatch {
                expected: 2,
                found: 1,
                ..
            }
        ));
        assert!(matches!(
            bad(Metric::low_rank(
                vec![1.0],
                vec![2.0, 2.0],
                vec![vec![1.0], vec![1.0]]
            )),
            McmcError::DimensionMismatch { .. }
        ));
        assert!(matches!(
            bad(Metric::low_rank(
                vec![1.0, 1.0],
                vec![2.0],
                vec![vec![f64::INFINITY, 0.0]]
            )),
            McmcError::InvalidMetric { row: 0, col: 0, .. }
        ));
        // two non-orthogonal unit vectors: the pair (1, 0) is named
        let s = 0.5f64.sqrt();
        assert!(matches!(
            bad(Metric::low_rank(
                vec![1.0, 1.0],
                vec![2.0, 3.0],
                vec![vec![1.0, 0.0], vec![s, s]]
            )),
            McmcError::InvalidMetric { row: 1, col: 0, .. }
        ));
    }
}
