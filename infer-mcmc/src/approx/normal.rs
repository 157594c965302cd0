//! Pathfinder's normal approximation at one L-BFGS iterate: N(μ, Σ) with Σ the BFGS
//! inverse-Hessian estimate from a diagonal α and the last m correction pairs (S, Y) in
//! compact form (Byrd, Nocedal & Schnabel 1994, eq. 3.13; Zhang et al. 2022, Algorithm 3):
//!
//! Σ = diag(α) + β γ βᵀ,  β = [diag(α) Y, S],
//! γ = [[0, −R⁻¹], [−R⁻ᵀ, R⁻ᵀ (D + Yᵀ diag(α) Y) R⁻¹]],
//!
//! R the upper triangle of SᵀY and D its diagonal; μ = x − Σ ∇f at the iterate (f = −log p,
//! so μ = x + Σ ∇ log p). With Z = −S R⁻ᵀ this is Σ = diag(α) + [αY, Z] M̄ [αY, Z]ᵀ,
//! M̄ = [[0, I], [I, D + YᵀαY]]. Draws and log q follow Zhang et al. (2022), Algorithm 4:
//! when 2m ≥ n, Σ is formed and factored (Cholesky); otherwise with the thin QR
//! α^{−1/2}[αY, Z] = Q R̃ and the Cholesky factor L of I + R̃ M̄ R̃ᵀ,
//! Σ^{1/2} = α^{1/2} (Q (L − I) Qᵀ + I) and log |Σ|^{1/2} = Σ log Lᵢᵢ + ½ Σ log αᵢ.

use rand::Rng;
use rand_distr::StandardNormal;

use super::dense::{lower_mul, solve_upper, thin_qr};
use crate::linalg::{cholesky, dot};

/// ½ log 2π.
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_7;

/// How Σ^{1/2} is applied.
#[derive(Clone, Debug)]
enum Factor {
    /// Σ = L Lᵀ, L lower n×n row-major.
    Dense { l: Vec<f64> },
    /// Σ^{1/2} = α^{1/2} (Q (L − I) Qᵀ + I): Q's k columns, L lower k×k row-major.
    LowRank {
        sqrt_alpha: Vec<f64>,
        q: Vec<Vec<f64>>,
        l: Vec<f64>,
    },
}

/// A normal approximation N(μ, Σ) of the posterior at one iterate (see the module docs).
#[derive(Clone, Debug)]
pub(crate) struct LowRankNormal {
    mean: Vec<f64>,
    /// log |Σ|^{1/2}.
    half_log_det: f64,
    factor: Factor,
}

/// The Gilbert–Lemaréchal update of the diagonal α with the pair (s, y) (Gilbert &
/// Lemaréchal 1989, eq. 4.9; Zhang et al. 2022, Algorithm 3):
/// αᵢ ← yᵀs / (yᵀαy / αᵢ + yᵢ² − (yᵀαy / sᵀα⁻¹s) (sᵢ/αᵢ)²). An update that would leave an
/// entry non-finite or ≤ 0 is not applied (returns `false`).
pub(crate) fn update_diagonal(alpha: &mut [f64], s: &[f64], y: &[f64]) -> bool {
    let ys = dot(y, s);
    let yay: f64 = alpha.iter().zip(y).map(|(a, yi)| a * yi * yi).sum();
    let sas: f64 = alpha.iter().zip(s).map(|(a, si)| si * si / a).sum();
    let new: Vec<f64> = alpha
        .iter()
        .zip(s.iter().zip(y))
        .map(|(a, (si, yi))| {
            let r = si / a;
            ys / (yay / a + yi * yi - (yay / sas) * r * r)
        })
        .collect();
    if new.iter().all(|a| a.is_finite() && *a > 0.0) {
        alpha.copy_from_slice(&new);
        true
    } else {
        false
    }
}

/// Zhang et al.'s curvature check of a pair: yᵀs > 0 and yᵀy / yᵀs ≤ 10¹² (the pair is left
/// out of the history otherwise).
pub(crate) fn curvature_ok(s: &[f64], y: &[f64]) -> bool {
    let ys = dot(y, s);
    ys > 0.0 && dot(y, y) / ys <= 1e12
}

impl LowRankNormal {
    /// The approximation at iterate `x` with ∇f = `grad_f` (f = −log p), diagonal `alpha`
    /// and pairs `s`, `y` (oldest first, at least one); `None` when Σ is not positive
    /// definite in floating point.
    pub(crate) fn new(
        x: &[f64],
        grad_f: &[f64],
        alpha: &[f64],
        s: &[&[f64]],
        y: &[&[f64]],
    ) -> Option<Self> {
        let n = x.len();
        let m = s.len();
        // R: upper triangle of SᵀY (row-major m×m); Zᵀ = −R⁻¹ Sᵀ, column by column.
        let mut r = vec![0.0; m * m];
        for i in 0..m {
            for j in i..m {
                r[i * m + j] = dot(s[i], y[j]);
            }
        }
        let mut z = vec![vec![0.0; n]; m];
        let mut col = vec![0.0; m];
        for c in 0..n {
            for i in 0..m {
                col[i] = s[i][c];
            }
            solve_upper(&r, m, &mut col);
            for i in 0..m {
                z[i][c] = -col[i];
            }
        }
        let ay: Vec<Vec<f64>> = y
            .iter()
            .map(|yi| yi.iter().zip(alpha).map(|(v, a)| v * a).collect())
            .collect();
        // M = D + Yᵀ diag(α) Y
        let mut mm = vec![0.0; m * m];
        for i in 0..m {
            for j in 0..m {
                mm[i * m + j] = dot(y[i], &ay[j]) + if i == j { r[i * m + i] } else { 0.0 };
            }
        }
        // μ = x − Σ g: Σ g = α∘g + αY (Zᵀg) + Z ((αY)ᵀg + M Zᵀg)
        let zg: Vec<f64> = z.iter().map(|zi| dot(zi, grad_f)).collect();
        let ayg: Vec<f64> = ay.iter().map(|v| dot(v, grad_f)).collect();
        let mut mean: Vec<f64> = x
            .iter()
            .zip(alpha.iter().zip(grad_f))
            .map(|(xi, (a, g))| xi - a * g)
            .collect();
        for i in 0..m {
            let mz: f64 = (0..m).map(|j| mm[i * m + j] * zg[j]).sum();
            let (ci, di) = (zg[i], ayg[i] + mz);
            for c in 0..n {
                mean[c] -= ay[i][c] * ci + z[i][c] * di;
            }
        }
        if !mean.iter().all(|v| v.is_finite()) {
            return None;
        }
        if 2 * m >= n {
            let mut sigma = vec![0.0; n * n];
            for c in 0..n {
                for d in 0..n {
                    let mut v = if c == d { alpha[c] } else { 0.0 };
                    for i in 0..m {
                        v += ay[i][c] * z[i][d] + z[i][c] * ay[i][d];
                        for j in 0..m {
                            v += z[i][c] * mm[i * m + j] * z[j][d];
                        }
                    }
                    sigma[c * n + d] = v;
                }
            }
            // exact symmetry (the two halves are sums in different orders)
            for c in 0..n {
                for d in 0..c {
                    let v = 0.5 * (sigma[c * n + d] + sigma[d * n + c]);
                    sigma[c * n + d] = v;
                    sigma[d * n + c] = v;
                }
            }
            let l = cholesky(&sigma, n).ok()?;
            let half_log_det = (0..n).map(|i| l[i * n + i].ln()).sum();
            return Some(Self {
                mean,
                half_log_det,
                factor: Factor::Dense { l },
            });
        }
        // W = α^{−1/2} [αY, Z] = [α^{1/2} Y, α^{−1/2} Z]; W = Q R̃
        let sqrt_alpha: Vec<f64> = alpha.iter().map(|a| a.sqrt()).collect();
        let mut w: Vec<Vec<f64>> = Vec::with_capacity(2 * m);
        for yi in y {
            w.push(yi.iter().zip(&sqrt_alpha).map(|(v, a)| v * a).collect());
        }
        for zi in &z {
            w.push(zi.iter().zip(&sqrt_alpha).map(|(v, a)| v / a).collect());
        }
        let (q, rt) = thin_qr(&w);
        let k = 2 * m;
        // M̄ = [[0, I], [I, M]]; C = I + R̃ M̄ R̃ᵀ
        let mbar = |i: usize, j: usize| -> f64 {
            match (i < m, j < m) {
                (true, true) => 0.0,
                (true, false) => f64::from(u8::from(j - m == i)),
                (false, true) => f64::from(u8::from(i - m == j)),
                (false, false) => mm[(i - m) * m + (j - m)],
            }
        };
        let mut rm = vec![0.0; k * k];
        for i in 0..k {
            for j in 0..k {
                rm[i * k + j] = (i..k).map(|t| rt[i * k + t] * mbar(t, j)).sum();
            }
        }
        let mut cmat = vec![0.0; k * k];
        for i in 0..k {
            for j in 0..=i {
                let v: f64 = (j..k).map(|t| rm[i * k + t] * rt[j * k + t]).sum::<f64>()
                    + f64::from(u8::from(i == j));
                cmat[i * k + j] = v;
                cmat[j * k + i] = v;
            }
        }
        let l = cholesky(&cmat, k).ok()?;
        let half_log_det = (0..k).map(|i| l[i * k + i].ln()).sum::<f64>()
            + 0.5 * alpha.iter().map(|a| a.ln()).sum::<f64>();
        Some(Self {
            mean,
            half_log_det,
            factor: Factor::LowRank { sqrt_alpha, q, l },
        })
    }

    /// The mean μ, for tests.
    #[cfg(test)]
    pub(crate) fn mean(&self) -> &[f64] {
        &self.mean
    }

    /// Draws φ ~ N(μ, Σ) into `out` and returns log q(φ); `u` is scratch of length n.
    pub(crate) fn draw<R: Rng + ?Sized>(&self, rng: &mut R, u: &mut [f64], out: &mut [f64]) -> f64 {
        let n = self.mean.len();
        for v in u.iter_mut() {
            *v = rng.sample(StandardNormal);
        }
        match &self.factor {
            Factor::Dense { l } => lower_mul(l, n, u, out),
            Factor::LowRank { sqrt_alpha, q, l } => {
                let k = q.len();
                let v: Vec<f64> = q.iter().map(|qi| dot(qi, u)).collect();
                let mut lv = vec![0.0; k];
                lower_mul(l, k, &v, &mut lv);
                out.copy_from_slice(u);
                for (i, qi) in q.iter().enumerate() {
                    let c = lv[i] - v[i];
                    for (o, qv) in out.iter_mut().zip(qi) {
                        *o += c * qv;
                    }
                }
                for (o, a) in out.iter_mut().zip(sqrt_alpha) {
                    *o *= a;
                }
            }
        }
        for (o, m) in out.iter_mut().zip(&self.mean) {
            *o += m;
        }
        -self.half_log_det - 0.5 * dot(u, u) - n as f64 * HALF_LN_2PI
    }

    /// Σ (row-major n×n), for tests: the covariance the draws have.
    #[cfg(test)]
    pub(crate) fn covariance(&self) -> Vec<f64> {
        let n = self.mean.len();
        // Σ = A Aᵀ with A = Σ^{1/2} applied to the unit vectors
        let mut a = vec![0.0; n * n];
        let mut e = vec![0.0; n];
        let mut col = vec![0.0; n];
        for j in 0..n {
            e.fill(0.0);
            e[j] = 1.0;
            match &self.factor {
                Factor::Dense { l } => lower_mul(l, n, &e, &mut col),
                Factor::LowRank { sqrt_alpha, q, l } => {
                    let k = q.len();
                    let v: Vec<f64> = q.iter().map(|qi| dot(qi, &e)).collect();
                    let mut lv = vec![0.0; k];
                    lower_mul(l, k, &v, &mut lv);
                    col.copy_from_slice(&e);
                    for (i, qi) in q.iter().enumerate() {
                        for (o, qv) in col.iter_mut().zip(qi) {
                            *o += (lv[i] - v[i]) * qv;
                        }
                    }
                    for (o, s) in col.iter_mut().zip(sqrt_alpha) {
                        *o *= s;
                    }
                }
            }
            for i in 0..n {
                a[i * n + j] = col[i];
            }
        }
        let mut sigma = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                sigma[i * n + j] = dot(&a[i * n..(i + 1) * n], &a[j * n..(j + 1) * n]);
            }
        }
        sigma
    }

    /// log |Σ|^{1/2}, for tests.
    #[cfg(test)]
    pub(crate) fn half_log_det(&self) -> f64 {
        self.half_log_det
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compact form against the BFGS recursion it stands for: H ← (I − ρ s yᵀ) H
    /// (I − ρ y sᵀ) + ρ s sᵀ from H₀ = diag(α), pair by pair (Nocedal & Wright eq. 6.17),
    /// in the dense (n = 3, m = 2) and the low-rank (n = 7, m = 2) forms; and log |Σ|^{1/2}
    /// against the Cholesky factor of the recursion's H.
    #[test]
    fn compact_form_matches_the_bfgs_recursion() {
        for n in [3usize, 7] {
            let alpha: Vec<f64> = (0..n).map(|i| 0.5 + 0.1 * i as f64).collect();
            let s: Vec<Vec<f64>> = (0..2)
                .map(|p| {
                    (0..n)
                        .map(|i| ((i * 3 + p * 5) % 7) as f64 * 0.1 - 0.2)
                        .collect()
                })
                .collect();
            // y = A s for an SPD A (so yᵀs > 0)
            let amat = |i: usize, j: usize| if i == j { 2.0 + i as f64 * 0.3 } else { 0.2 };
            let y: Vec<Vec<f64>> = s
                .iter()
                .map(|si| {
                    (0..n)
                        .map(|i| (0..n).map(|j| amat(i, j) * si[j]).sum())
                        .collect()
                })
                .collect();
            let mut h = vec![0.0; n * n];
            for i in 0..n {
                h[i * n + i] = alpha[i];
            }
            for (si, yi) in s.iter().zip(&y) {
                let rho = 1.0 / dot(si, yi);
                let v = |i: usize, j: usize| f64::from(u8::from(i == j)) - rho * yi[i] * si[j];
                let mut t = vec![0.0; n * n];
                for i in 0..n {
                    for j in 0..n {
                        t[i * n + j] = (0..n).map(|k| v(k, i) * h[k * n + j]).sum();
                    }
                }
                for i in 0..n {
                    for j in 0..n {
                        h[i * n + j] = (0..n).map(|k| t[i * n + k] * v(k, j)).sum::<f64>()
                            + rho * si[i] * si[j];
                    }
                }
            }
            let x = vec![0.3; n];
            let g: Vec<f64> = (0..n).map(|i| i as f64 * 0.2 - 0.5).collect();
            let sr: Vec<&[f64]> = s.iter().map(Vec::as_slice).collect();
            let yr: Vec<&[f64]> = y.iter().map(Vec::as_slice).collect();
            let q = LowRankNormal::new(&x, &g, &alpha, &sr, &yr).unwrap();
            let sigma = q.covariance();
            for i in 0..n * n {
                assert!(
                    (sigma[i] - h[i]).abs() < 1e-10,
                    "n {n}: {i}: {} vs {}",
                    sigma[i],
                    h[i]
                );
            }
            for i in 0..n {
                let hg: f64 = (0..n).map(|j| h[i * n + j] * g[j]).sum();
                assert!((q.mean()[i] - (x[i] - hg)).abs() < 1e-12);
            }
            let l = cholesky(&h, n).unwrap();
            let want: f64 = (0..n).map(|i| l[i * n + i].ln()).sum();
            assert!((q.half_log_det() - want).abs() < 1e-10);
        }
    }

    /// The update is the inverse diagonal of the direct BFGS update B⁺ = B − B s sᵀ B / sᵀBs +
    /// y yᵀ / yᵀs of the scaled diagonal B = (yᵀαy / yᵀs) diag(α)⁻¹ (Gilbert & Lemaréchal
    /// 1989, section 4), computed here as that matrix formula.
    #[test]
    fn diagonal_update_is_the_diagonal_of_a_scaled_bfgs_update() {
        let s = [0.1, 0.2, -0.1];
        let y = [0.2, 0.5, -0.3];
        let alpha0 = [1.0, 0.5, 2.0];
        let ys: f64 = (0..3).map(|i| y[i] * s[i]).sum();
        let yay: f64 = (0..3).map(|i| y[i] * alpha0[i] * y[i]).sum();
        let b: Vec<f64> = alpha0.iter().map(|a| yay / ys / a).collect();
        let sbs: f64 = (0..3).map(|i| s[i] * b[i] * s[i]).sum();
        let want: Vec<f64> = (0..3)
            .map(|i| 1.0 / (b[i] - (b[i] * s[i]).powi(2) / sbs + y[i] * y[i] / ys))
            .collect();
        let mut alpha = alpha0.to_vec();
        assert!(update_diagonal(&mut alpha, &s, &y));
        for (a, w) in alpha.iter().zip(&want) {
            assert!((a - w).abs() < 1e-12 * w, "{alpha:?} vs {want:?}");
        }
        assert!(curvature_ok(&[1.0, 0.0], &[1.0, 0.0]));
        assert!(!curvature_ok(&[1.0, 0.0], &[-1.0, 0.0]));
        assert!(!curvature_ok(&[1e-7, 0.0], &[1e-1, 1e3]));
    }
}
