//! The diagonal-plus-low-rank metric that minimizes the sample Fisher divergence of a window
//! of draws and their gradients (Seyboldt, Carlson & Carpenter, arXiv:2603.18845, the
//! low-rank-plus-diagonal estimator; defaults and the order of the steps as in nuts-rs,
//! `transform/adapt/low_rank.rs`).

use crate::adapt::fisher::fisher_entry;
use crate::linalg::eigen::{symmetric_eigen, symmetric_eigen_if};
use crate::linalg::{cholesky, dot};
use crate::metric::Metric;

/// A basis vector is dropped when less than this fraction of the vector it came from is
/// outside the span of the basis so far (numerical rank of the draws and gradients).
const RANK_TOLERANCE: f64 = 1e-10;

/// Fits M⁻¹ = D^{1/2} (I + U (Λ − I) Uᵀ) D^{1/2} to `n` draws xⱼ and gradients gⱼ = ∇ log p(xⱼ)
/// (row-major n×d each):
///
/// 1. D = √(Var(x) / Var(∇ log p)) per coordinate (the Fisher diagonal; σᵢ = Dᵢ^{1/2} =
///    √(sd(xᵢ)/sd(∂ᵢ log p))), clamped as [`FisherWarmup`](crate::adapt::FisherWarmup) does;
/// 2. in the scaled space, centered draws X = D^{−1/2}(x − x̄) and gradients
///    G = D^{1/2}(g − ḡ);
/// 3. an orthonormal basis Q of the span of X and G (the whole space when 2n ≥ d), and there
///    C = QᵀXXᵀQ + γI and B = QᵀGGᵀQ + γI;
/// 4. A = B⁻¹ # C, the SPD geometric mean (the unique SPD solution of A B A = C, the
///    covariance Σ minimizing the Fisher divergence of N(0, Σ) to the sample: for a Gaussian
///    XXᵀ ≈ nΣ and GGᵀ ≈ nΣ⁻¹), computed as L^{−T} (Lᵀ C L)^{1/2} L^{−1} with B = L Lᵀ;
/// 5. A's eigenpairs (λⱼ, vⱼ) with λⱼ > c or λⱼ < 1/c, and uⱼ = Q vⱼ.
///
/// Directions outside the span keep variance 1 in the scaled space. `None` when the
/// decomposition fails (a non-finite draw or gradient, an eigenvalue that is not positive).
pub(super) fn fit_low_rank(
    draws: &[f64],
    grads: &[f64],
    d: usize,
    gamma: f64,
    cutoff: f64,
) -> Option<Metric> {
    let n = draws.len() / d.max(1);
    if n == 0 || d == 0 {
        return None;
    }
    let (mean_x, var_x) = mean_var(draws, d);
    let (mean_g, var_g) = mean_var(grads, d);
    let diagonal: Vec<f64> = var_x
        .iter()
        .zip(&var_g)
        .map(|(&x, &g)| fisher_entry(x, g))
        .collect();
    let sigma: Vec<f64> = diagonal.iter().map(|v| v.sqrt()).collect();
    let mut xs = draws.to_vec();
    let mut gs = grads.to_vec();
    for j in 0..n {
        for i in 0..d {
            xs[j * d + i] = (xs[j * d + i] - mean_x[i]) / sigma[i];
            gs[j * d + i] = (gs[j * d + i] - mean_g[i]) * sigma[i];
        }
    }
    if xs.iter().chain(&gs).any(|v| !v.is_finite()) {
        return None;
    }
    // Coordinates in the basis: the scaled vectors themselves when the basis is the identity.
    let basis = (2 * n < d).then(|| orthonormal_basis(&xs, &gs, d));
    let (m, xp, gp) = match &basis {
        None => (d, xs, gs),
        Some(q) => {
            let m = q.len() / d;
            (m, project(q, &xs, d), project(q, &gs, d))
        }
    };
    if m == 0 {
        return Metric::low_rank(diagonal, Vec::new(), Vec::new()).ok();
    }
    let c = gram(&xp, m, gamma);
    let b = gram(&gp, m, gamma);
    let a = spd_geometric_mean(&b, &c, m)?;
    let kept = |lambda: f64| lambda > cutoff || lambda < 1.0 / cutoff;
    // The eigenvectors are computed only if some direction is kept.
    let eig = symmetric_eigen_if(&a, m, kept)?;
    if !eig.values.iter().all(|&l| l > 0.0 && l.is_finite()) {
        return None;
    }
    let (mut values, mut vectors) = (Vec::new(), Vec::new());
    for (j, &lambda) in eig.values.iter().enumerate() {
        if kept(lambda) {
            let v = &eig.vectors[j * m..(j + 1) * m];
            let u = match &basis {
                None => v.to_vec(),
                Some(q) => {
                    let mut u = vec![0.0; d];
                    for (row, &vk) in q.chunks_exact(d).zip(v) {
                        u.iter_mut().zip(row).for_each(|(ui, qi)| *ui += vk * qi);
                    }
                    u
                }
            };
            values.push(lambda);
            vectors.push(u);
        }
    }
    Metric::low_rank(diagonal, values, vectors).ok()
}

/// Per-coordinate mean and population variance of n rows of length d.
fn mean_var(rows: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let n = (rows.len() / d) as f64;
    let mut mean = vec![0.0; d];
    for row in rows.chunks_exact(d) {
        mean.iter_mut().zip(row).for_each(|(m, x)| *m += x);
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0; d];
    for row in rows.chunks_exact(d) {
        for ((v, x), m) in var.iter_mut().zip(row).zip(&mean) {
            *v += (x - m) * (x - m);
        }
    }
    var.iter_mut().for_each(|v| *v /= n);
    (mean, var)
}

/// Orthonormal rows (m×d) spanning the rows of `xs` and `gs`: modified Gram–Schmidt, twice
/// per vector, dropping vectors already in the span (to [`RANK_TOLERANCE`]).
fn orthonormal_basis(xs: &[f64], gs: &[f64], d: usize) -> Vec<f64> {
    let mut q: Vec<f64> = Vec::new();
    for v in xs.chunks_exact(d).chain(gs.chunks_exact(d)) {
        let norm0 = dot(v, v).sqrt();
        if norm0 == 0.0 {
            continue;
        }
        let mut w = v.to_vec();
        for _ in 0..2 {
            for row in q.chunks_exact(d) {
                let h = dot(row, &w);
                w.iter_mut().zip(row).for_each(|(x, r)| *x -= h * r);
            }
        }
        let norm = dot(&w, &w).sqrt();
        if norm > RANK_TOLERANCE * norm0 {
            q.extend(w.iter().map(|x| x / norm));
        }
    }
    q
}

/// The coordinates Q v of each row v (n×m).
fn project(q: &[f64], rows: &[f64], d: usize) -> Vec<f64> {
    rows.chunks_exact(d)
        .flat_map(|v| q.chunks_exact(d).map(move |row| dot(row, v)))
        .collect()
}

/// Σⱼ vⱼ vⱼᵀ + γ I for the rows vⱼ of `rows` (n×m), full m×m.
fn gram(rows: &[f64], m: usize, gamma: f64) -> Vec<f64> {
    let mut g = vec![0.0; m * m];
    for v in rows.chunks_exact(m) {
        for a in 0..m {
            let va = v[a];
            let row = &mut g[a * m..a * m + a + 1];
            row.iter_mut()
                .zip(&v[..=a])
                .for_each(|(x, vb)| *x += va * vb);
        }
    }
    for a in 0..m {
        g[a * m + a] += gamma;
        for b in 0..a {
            g[b * m + a] = g[a * m + b];
        }
    }
    g
}

/// The SPD A with A B A = C (the geometric mean B⁻¹ # C): with B = L Lᵀ,
/// A = L^{−T} (Lᵀ C L)^{1/2} L^{−1}. `None` if B is not positive definite or an
/// eigen-decomposition fails.
fn spd_geometric_mean(b: &[f64], c: &[f64], m: usize) -> Option<Vec<f64>> {
    let l = cholesky(b, m).ok()?;
    let lt = transpose(&l, m);
    let t = mat_mul(&lt, &mat_mul_lower(c, &l, m), m);
    let eig = symmetric_eigen(&symmetrized(t, m), m)?;
    // S = W diag(√τ) Wᵀ, τ clamped at 0 (Lᵀ C L is SPD; rounding may give −ε).
    let mut s = vec![0.0; m * m];
    for (w, &tau) in eig.vectors.chunks_exact(m).zip(&eig.values) {
        let r = tau.max(0.0).sqrt();
        for a in 0..m {
            let ra = r * w[a];
            s[a * m..(a + 1) * m]
                .iter_mut()
                .zip(w)
                .for_each(|(x, wb)| *x += ra * wb);
        }
    }
    let z = lower_inverse(&l, m);
    let a = mat_mul(&transpose(&z, m), &mat_mul_lower(&s, &z, m), m);
    Some(symmetrized(a, m))
}

/// (A + Aᵀ)/2.
fn symmetrized(mut a: Vec<f64>, m: usize) -> Vec<f64> {
    for i in 0..m {
        for j in 0..i {
            let v = 0.5 * (a[i * m + j] + a[j * m + i]);
            a[i * m + j] = v;
            a[j * m + i] = v;
        }
    }
    a
}

fn transpose(a: &[f64], m: usize) -> Vec<f64> {
    let mut t = vec![0.0; m * m];
    for i in 0..m {
        for j in 0..m {
            t[j * m + i] = a[i * m + j];
        }
    }
    t
}

/// A B for row-major m×m matrices (i-k-j order: rows of B stream through).
fn mat_mul(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        let row = &mut out[i * m..(i + 1) * m];
        for k in 0..m {
            let aik = a[i * m + k];
            if aik != 0.0 {
                row.iter_mut()
                    .zip(&b[k * m..(k + 1) * m])
                    .for_each(|(o, bk)| *o += aik * bk);
            }
        }
    }
    out
}

/// A B for a lower-triangular B (row k of B is zero beyond column k).
fn mat_mul_lower(a: &[f64], b: &[f64], m: usize) -> Vec<f64> {
    let mut out = vec![0.0; m * m];
    for i in 0..m {
        let row = &mut out[i * m..(i + 1) * m];
        for k in 0..m {
            let aik = a[i * m + k];
            row[..=k]
                .iter_mut()
                .zip(&b[k * m..=k * m + k])
                .for_each(|(o, bk)| *o += aik * bk);
        }
    }
    out
}

/// L⁻¹ of a lower-triangular L with a positive diagonal (forward substitution, row by row).
fn lower_inverse(l: &[f64], m: usize) -> Vec<f64> {
    let mut z = vec![0.0; m * m];
    for i in 0..m {
        let inv = 1.0 / l[i * m + i];
        z[i * m + i] = inv;
        for j in 0..i {
            // (L Z)ᵢⱼ = 0: Zᵢⱼ = −(Σ_{k<i} Lᵢₖ Zₖⱼ) / Lᵢᵢ
            let s: f64 = (j..i).map(|k| l[i * m + k] * z[k * m + j]).sum();
            z[i * m + j] = -s * inv;
        }
    }
    z
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometric_mean_of_diagonals() {
        // A B A = C with B = diag(1, 1, 0.5), C = diag(1, 4, 8): A = diag(1, 2, 4).
        let mut b = vec![0.0; 9];
        let mut c = vec![0.0; 9];
        for (i, (bi, ci)) in [(1.0, 1.0), (1.0, 4.0), (0.5, 8.0)].into_iter().enumerate() {
            b[i * 3 + i] = bi;
            c[i * 3 + i] = ci;
        }
        let a = spd_geometric_mean(&b, &c, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { [1.0, 2.0, 4.0][i] } else { 0.0 };
                assert!((a[i * 3 + j] - want).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn geometric_mean_solves_aba_equals_c() {
        let b = vec![2.0, 0.3, -0.1, 0.3, 1.0, 0.2, -0.1, 0.2, 0.5];
        let c = vec![5.0, -1.0, 0.4, -1.0, 3.0, 0.0, 0.4, 0.0, 0.7];
        let a = spd_geometric_mean(&b, &c, 3).unwrap();
        let aba = mat_mul(&mat_mul(&a, &b, 3), &a, 3);
        for (x, y) in aba.iter().zip(&c) {
            assert!((x - y).abs() < 1e-12, "{x} vs {y}");
        }
        assert!(
            symmetric_eigen(&a, 3)
                .unwrap()
                .values
                .iter()
                .all(|&v| v > 0.0)
        );
    }

    #[test]
    fn basis_spans_and_drops_dependent_vectors() {
        let d = 5;
        let xs = vec![1.0, 2.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        // the gradients: one a combination of the draws, one new direction
        let gs = vec![2.0, 5.0, 1.0, 0.0, 2.0, 0.0, 0.0, 0.0, 3.0, 0.0];
        let q = orthonormal_basis(&xs, &gs, d);
        assert_eq!(q.len(), 3 * d);
        for (i, a) in q.chunks_exact(d).enumerate() {
            for (j, b) in q.chunks_exact(d).enumerate() {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((dot(a, b) - want).abs() < 1e-14);
            }
        }
        // every input is reproduced by its coordinates
        for v in xs.chunks_exact(d).chain(gs.chunks_exact(d)) {
            let c = project(&q, v, d);
            for i in 0..d {
                let back: f64 = q.chunks_exact(d).zip(&c).map(|(r, ck)| r[i] * ck).sum();
                assert!((back - v[i]).abs() < 1e-13);
            }
        }
    }
}
