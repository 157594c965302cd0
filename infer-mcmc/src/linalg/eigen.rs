//! Eigen-decomposition of a small dense symmetric matrix: Householder reduction to
//! tridiagonal form, then the implicit symmetric QR algorithm with Wilkinson shifts
//! (Golub & Van Loan, *Matrix Computations*, 4th ed., Algorithms 8.3.1 and 8.3.3).
//!
//! O(n³) with small constants; written here because the low-rank warmup needs it for
//! matrices of a few dozen to a few hundred rows, a few times per warmup (see
//! `adapt::low_rank`), and the crate otherwise needs no linear-algebra dependency.

/// Eigenvalues in ascending order and the matching orthonormal eigenvectors.
#[derive(Clone, Debug)]
pub(crate) struct SymmetricEigen {
    /// The eigenvalues, ascending.
    pub values: Vec<f64>,
    /// Row-major n×n: row j is the unit eigenvector of `values[j]`.
    pub vectors: Vec<f64>,
}

/// Relative size below which an off-diagonal element of the tridiagonal matrix is taken as
/// zero (deflation), against the two diagonal elements next to it.
const DEFLATE: f64 = f64::EPSILON;
/// QR steps allowed per eigenvalue before giving up (two or three are typical).
const STEPS_PER_VALUE: usize = 30;

/// The eigen-decomposition A = V diag(λ) Vᵀ of the symmetric row-major n×n matrix `a`
/// (only its lower triangle is read). `None` when an entry is not finite or the QR
/// iteration does not converge within 30 steps per eigenvalue.
pub(crate) fn symmetric_eigen(a: &[f64], n: usize) -> Option<SymmetricEigen> {
    symmetric_eigen_if(a, n, |_| true)
}

/// As [`symmetric_eigen`], but the eigenvectors (the O(n³) part beyond the reduction) are
/// computed only if some eigenvalue satisfies `wanted`; otherwise `vectors` is empty. The
/// eigenvalues are the same either way.
pub(crate) fn symmetric_eigen_if(
    a: &[f64],
    n: usize,
    wanted: impl Fn(f64) -> bool,
) -> Option<SymmetricEigen> {
    debug_assert_eq!(a.len(), n * n);
    if a.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let mut w = a.to_vec();
    for i in 0..n {
        for j in 0..i {
            w[j * n + i] = w[i * n + j];
        }
    }
    let (d0, e0, reflectors) = tridiagonalize(w, n);
    let (mut d, mut e) = (d0.clone(), e0.clone());
    implicit_qr(&mut d, &mut e, None, n)?;
    if !d.iter().any(|&v| wanted(v)) {
        d.sort_by(f64::total_cmp);
        return Some(SymmetricEigen {
            values: d,
            vectors: Vec::new(),
        });
    }
    let (mut d, mut e) = (d0, e0);
    let mut rows = transposed_q(&reflectors, n);
    implicit_qr(&mut d, &mut e, Some(&mut rows), n)?;
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| d[i].total_cmp(&d[j]));
    let values = order.iter().map(|&i| d[i]).collect();
    let mut vectors = Vec::with_capacity(n * n);
    for &i in &order {
        vectors.extend_from_slice(&rows[i * n..(i + 1) * n]);
    }
    Some(SymmetricEigen { values, vectors })
}

/// The Householder reflectors Hₖ = I − βₖ vₖ vₖᵀ of a reduction, vₖ acting on indices k+1..n.
type Reflectors = Vec<(Vec<f64>, f64)>;

/// Householder reduction A = Q T Qᵀ of the full symmetric `w`: returns T's diagonal, its
/// sub-diagonal (`e[k]` between rows k and k+1, length n − 1) and the reflectors whose
/// product is Q.
fn tridiagonalize(mut w: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>, Reflectors) {
    // The reflectors Hₖ = I − βₖ vₖ vₖᵀ, vₖ acting on indices k+1..n.
    let mut reflectors: Vec<(Vec<f64>, f64)> = Vec::with_capacity(n.saturating_sub(2));
    let mut p = vec![0.0; n];
    for k in 0..n.saturating_sub(2) {
        let r = n - k - 1;
        let mut v: Vec<f64> = (0..r).map(|i| w[(k + 1 + i) * n + k]).collect();
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 || v[1..].iter().all(|&x| x == 0.0) {
            reflectors.push((v, 0.0));
            continue;
        }
        // H x = α e₁ with α = −sign(x₀)‖x‖ (no cancellation in v₀ = x₀ − α).
        let alpha = if v[0] >= 0.0 { -norm } else { norm };
        v[0] -= alpha;
        let beta = 2.0 / v.iter().map(|x| x * x).sum::<f64>();
        // S ← H S H for the trailing block S: p = β S v, q = p − (β/2)(pᵀv) v,
        // S ← S − v qᵀ − q vᵀ.
        let base = k + 1;
        for i in 0..r {
            let row = &w[(base + i) * n + base..(base + i) * n + base + r];
            p[i] = beta * super::dot(row, &v);
        }
        let half = 0.5 * beta * super::dot(&p[..r], &v);
        for i in 0..r {
            p[i] -= half * v[i];
        }
        for i in 0..r {
            let (vi, qi) = (v[i], p[i]);
            let row = &mut w[(base + i) * n + base..(base + i) * n + base + r];
            for j in 0..r {
                row[j] -= vi * p[j] + qi * v[j];
            }
        }
        // Column k below the diagonal is now α e₁.
        w[base * n + k] = alpha;
        for i in 1..r {
            w[(base + i) * n + k] = 0.0;
        }
        reflectors.push((v, beta));
    }
    let d: Vec<f64> = (0..n).map(|i| w[i * n + i]).collect();
    let e: Vec<f64> = (1..n).map(|i| w[i * n + i - 1]).collect();
    (d, e, reflectors)
}

/// Qᵀ (row-major) for Q = H₀ H₁ ⋯ from the reflectors of [`tridiagonalize`].
fn transposed_q(reflectors: &Reflectors, n: usize) -> Vec<f64> {
    // Q = H₀ H₁ ⋯, accumulated from the last reflector (each touches rows and columns k+1..
    // only, where the product so far is the identity outside).
    let mut q = vec![0.0; n * n];
    for i in 0..n {
        q[i * n + i] = 1.0;
    }
    let mut t = vec![0.0; n];
    for (k, (v, beta)) in reflectors.iter().enumerate().rev() {
        if *beta == 0.0 {
            continue;
        }
        let base = k + 1;
        // Q[base.., base..] ← (I − β v vᵀ) Q[base.., base..]: tᵀ = vᵀ Q, Q −= β v tᵀ.
        t[base..].fill(0.0);
        for (i, &vi) in v.iter().enumerate() {
            let row = &q[(base + i) * n..(base + i + 1) * n];
            for j in base..n {
                t[j] += vi * row[j];
            }
        }
        for (i, &vi) in v.iter().enumerate() {
            let row = &mut q[(base + i) * n..(base + i + 1) * n];
            for j in base..n {
                row[j] -= beta * vi * t[j];
            }
        }
    }
    // Qᵀ: its rows become the eigenvectors as the QR steps rotate them.
    let mut qt = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            qt[j * n + i] = q[i * n + j];
        }
    }
    qt
}

/// Diagonalizes the tridiagonal (d, e) in place by implicit QR steps with Wilkinson shifts,
/// applying every rotation to the rows of `rows` when given (initially Qᵀ, finally the
/// eigenvectors).
fn implicit_qr(d: &mut [f64], e: &mut [f64], mut rows: Option<&mut [f64]>, n: usize) -> Option<()> {
    if n < 2 {
        return Some(());
    }
    let mut steps = 0;
    let max_steps = STEPS_PER_VALUE * n;
    let negligible = |e: f64, a: f64, b: f64| e.abs() <= DEFLATE * (a.abs() + b.abs());
    let mut hi = n - 1;
    while hi > 0 {
        if negligible(e[hi - 1], d[hi - 1], d[hi]) {
            e[hi - 1] = 0.0;
            hi -= 1;
            continue;
        }
        let mut lo = hi - 1;
        while lo > 0 && !negligible(e[lo - 1], d[lo - 1], d[lo]) {
            lo -= 1;
        }
        if lo > 0 {
            e[lo - 1] = 0.0;
        }
        steps += 1;
        if steps > max_steps {
            return None;
        }
        qr_step(d, e, rows.as_deref_mut(), n, lo, hi);
    }
    Some(())
}

/// One implicit symmetric QR step on the unreduced block lo..=hi (Golub & Van Loan,
/// Algorithm 8.3.2): the Wilkinson shift μ from the trailing 2×2 block, a first rotation
/// from (d_lo − μ, e_lo), then the bulge chased down the band.
fn qr_step(
    d: &mut [f64],
    e: &mut [f64],
    mut rows: Option<&mut [f64]>,
    n: usize,
    lo: usize,
    hi: usize,
) {
    let (a, b, c) = (d[hi - 1], e[hi - 1], d[hi]);
    let delta = 0.5 * (a - c);
    let sign = if delta >= 0.0 { 1.0 } else { -1.0 };
    let mu = c - b * b / (delta + sign * norm2(delta, b));
    let mut x = d[lo] - mu;
    let mut z = e[lo];
    for k in lo..hi {
        let r = norm2(x, z);
        let (cs, sn) = if r == 0.0 { (1.0, 0.0) } else { (x / r, z / r) };
        if k > lo {
            e[k - 1] = r;
        }
        let (ak, ak1, bk) = (d[k], d[k + 1], e[k]);
        let (cc, ss, cs2) = (cs * cs, sn * sn, 2.0 * cs * sn);
        d[k] = cc * ak + cs2 * bk + ss * ak1;
        d[k + 1] = ss * ak - cs2 * bk + cc * ak1;
        e[k] = cs * sn * (ak1 - ak) + (cc - ss) * bk;
        if k + 1 < hi {
            let next = e[k + 1];
            z = sn * next;
            e[k + 1] = cs * next;
            x = e[k];
        }
        if let Some(rows) = rows.as_deref_mut() {
            let (upper, lower) = rows.split_at_mut((k + 1) * n);
            let rk = &mut upper[k * n..];
            let rk1 = &mut lower[..n];
            for j in 0..n {
                let (u, v) = (rk[j], rk1[j]);
                rk[j] = cs * u + sn * v;
                rk1[j] = cs * v - sn * u;
            }
        }
    }
}

/// √(x² + z²): the plain formula where the squares neither overflow nor underflow (the QR
/// steps call it once per rotation, and `hypot` costs several times more), `hypot`
/// elsewhere.
#[inline]
fn norm2(x: f64, z: f64) -> f64 {
    let m = x.abs().max(z.abs());
    if m > 1e-150 && m < 1e150 {
        (x * x + z * z).sqrt()
    } else {
        x.hypot(z)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn residual(a: &[f64], n: usize, eig: &SymmetricEigen) -> (f64, f64) {
        // max |A v − λ v| and max |VᵀV − I|.
        let mut res: f64 = 0.0;
        let mut orth: f64 = 0.0;
        for j in 0..n {
            let v = &eig.vectors[j * n..(j + 1) * n];
            for i in 0..n {
                let av: f64 = (0..n).map(|k| a[i * n + k] * v[k]).sum();
                res = res.max((av - eig.values[j] * v[i]).abs());
            }
            for l in 0..n {
                let w = &eig.vectors[l * n..(l + 1) * n];
                let dot: f64 = v.iter().zip(w).map(|(x, y)| x * y).sum();
                orth = orth.max((dot - if j == l { 1.0 } else { 0.0 }).abs());
            }
        }
        (res, orth)
    }

    /// A random orthogonal matrix (rows) from Gram–Schmidt of Gaussian vectors.
    fn random_orthogonal(n: usize, rng: &mut impl Rng) -> Vec<f64> {
        let mut q: Vec<f64> = Vec::with_capacity(n * n);
        while q.len() < n * n {
            let mut v: Vec<f64> = (0..n).map(|_| rng.random::<f64>() - 0.5).collect();
            for _ in 0..2 {
                for r in q.chunks(n) {
                    let h: f64 = r.iter().zip(&v).map(|(a, b)| a * b).sum();
                    v.iter_mut().zip(r).for_each(|(x, y)| *x -= h * y);
                }
            }
            let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
            q.extend(v.iter().map(|x| x / norm));
        }
        q
    }

    #[test]
    fn recovers_a_planted_spectrum() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for n in [1, 2, 3, 7, 40] {
            let q = random_orthogonal(n, &mut rng);
            // spread over 12 orders of magnitude, one repeated value
            let mut lambda: Vec<f64> = (0..n)
                .map(|i| 10f64.powf(-6.0 + 12.0 * i as f64 / n.max(2) as f64))
                .collect();
            if n > 3 {
                lambda[2] = lambda[1];
            }
            let mut a = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..n {
                    a[i * n + j] = (0..n)
                        .map(|k| q[k * n + i] * lambda[k] * q[k * n + j])
                        .sum();
                }
            }
            let eig = symmetric_eigen(&a, n).unwrap();
            let mut want = lambda.clone();
            want.sort_by(f64::total_cmp);
            let scale = want[n - 1];
            for (got, want) in eig.values.iter().zip(&want) {
                // backward stable: absolute error ~ ε‖A‖
                assert!((got - want).abs() <= 1e-12 * scale, "{got} vs {want}");
            }
            let (res, orth) = residual(&a, n, &eig);
            assert!(res <= 1e-12 * scale && orth <= 1e-12, "n={n}: {res} {orth}");
        }
    }

    #[test]
    fn handles_diagonal_zero_and_tridiagonal_input() {
        let eig = symmetric_eigen(&[3.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 2.0], 3).unwrap();
        assert_eq!(eig.values, vec![-1.0, 2.0, 3.0]);
        let zero = symmetric_eigen(&[0.0; 16], 4).unwrap();
        assert!(zero.values.iter().all(|&v| v == 0.0));
        // the 1-D Laplacian: eigenvalues 2 − 2cos(kπ/(n+1))
        let n = 12;
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            a[i * n + i] = 2.0;
            if i + 1 < n {
                a[i * n + i + 1] = -1.0;
                a[(i + 1) * n + i] = -1.0;
            }
        }
        let eig = symmetric_eigen(&a, n).unwrap();
        for (k, v) in eig.values.iter().enumerate() {
            let want = 2.0 - 2.0 * ((k + 1) as f64 * std::f64::consts::PI / (n + 1) as f64).cos();
            assert!((v - want).abs() < 1e-13, "{v} vs {want}");
        }
        let (res, orth) = residual(&a, n, &eig);
        assert!(res < 1e-13 && orth < 1e-13);
        assert!(symmetric_eigen(&[1.0, f64::NAN, f64::NAN, 1.0], 2).is_none());
        assert!(symmetric_eigen(&[], 0).is_some_and(|e| e.values.is_empty()));
    }

    #[test]
    fn vectors_only_when_wanted() {
        let a = [2.0, 0.5, 0.0, 0.5, 1.0, 0.1, 0.0, 0.1, 3.0];
        let full = symmetric_eigen(&a, 3).unwrap();
        let none = symmetric_eigen_if(&a, 3, |v| v > 10.0).unwrap();
        assert!(none.vectors.is_empty());
        assert_eq!(none.values, full.values);
        let some = symmetric_eigen_if(&a, 3, |v| v > 2.5).unwrap();
        assert_eq!((some.values, some.vectors), (full.values, full.vectors));
    }

    #[test]
    fn random_symmetric_matrices() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for n in [2, 5, 16, 33, 100] {
            let mut a = vec![0.0; n * n];
            for i in 0..n {
                for j in 0..=i {
                    let v = rng.random::<f64>() * 2.0 - 1.0;
                    a[i * n + j] = v;
                    a[j * n + i] = v;
                }
            }
            let eig = symmetric_eigen(&a, n).unwrap();
            assert!(eig.values.windows(2).all(|w| w[0] <= w[1]));
            // trace is preserved
            let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
            assert!((eig.values.iter().sum::<f64>() - trace).abs() < 1e-11 * n as f64);
            let (res, orth) = residual(&a, n, &eig);
            assert!(
                res < 1e-12 * n as f64 && orth < 1e-12 * n as f64,
                "n={n}: {res} {orth}"
            );
        }
    }
}
