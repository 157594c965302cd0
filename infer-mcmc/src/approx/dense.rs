//! The little dense linear algebra the approximations need beyond [`crate::linalg`]: a thin
//! Householder QR of a tall matrix given by its columns and triangular solves.

use crate::linalg::dot;

/// Thin QR of the n×m matrix (n ≥ m) whose columns are `cols`: `A = Q R` with Q n×m of
/// orthonormal columns (returned as its columns) and R m×m upper triangular (row-major), by
/// Householder reflections (Golub & Van Loan 2013, *Matrix Computations*, 4th ed.,
/// Algorithm 5.2.1, with Q accumulated backward as in section 5.1.6). A zero column gives a
/// zero row of R (rank-deficient input is fine: Q keeps orthonormal columns).
pub(crate) fn thin_qr(cols: &[Vec<f64>]) -> (Vec<Vec<f64>>, Vec<f64>) {
    let m = cols.len();
    let n = cols.first().map_or(0, Vec::len);
    debug_assert!(n >= m, "thin_qr needs a tall matrix");
    let mut a: Vec<Vec<f64>> = cols.to_vec();
    // the Householder vectors v_k (entries k.. of a length-n vector) and β_k = 2 / vᵀv
    let mut reflectors: Vec<(Vec<f64>, f64)> = Vec::with_capacity(m);
    for k in 0..m {
        let x = &a[k][k..];
        let norm = dot(x, x).sqrt();
        if norm == 0.0 {
            reflectors.push((vec![0.0; n - k], 0.0));
            continue;
        }
        let mut v = x.to_vec();
        // v = x + sign(x₀)‖x‖e₁ avoids cancellation
        v[0] += if v[0] >= 0.0 { norm } else { -norm };
        let vv = dot(&v, &v);
        let beta = if vv > 0.0 { 2.0 / vv } else { 0.0 };
        for col in a.iter_mut().skip(k) {
            let t = beta * dot(&v, &col[k..]);
            for (c, vi) in col[k..].iter_mut().zip(&v) {
                *c -= t * vi;
            }
        }
        reflectors.push((v, beta));
    }
    let mut r = vec![0.0; m * m];
    for j in 0..m {
        for i in 0..=j {
            r[i * m + j] = a[j][i];
        }
    }
    // Q = H₀ H₁ … H_{m−1} [I_m; 0]: apply the reflectors to the first m unit vectors,
    // the last one first.
    let mut q: Vec<Vec<f64>> = (0..m)
        .map(|j| {
            let mut e = vec![0.0; n];
            e[j] = 1.0;
            e
        })
        .collect();
    for (k, (v, beta)) in reflectors.iter().enumerate().rev() {
        if *beta == 0.0 {
            continue;
        }
        for col in &mut q {
            let t = beta * dot(v, &col[k..]);
            for (c, vi) in col[k..].iter_mut().zip(v) {
                *c -= t * vi;
            }
        }
    }
    (q, r)
}

/// Solves `U x = b` in place for the upper-triangular m×m row-major `u` (back substitution).
pub(crate) fn solve_upper(u: &[f64], m: usize, b: &mut [f64]) {
    for i in (0..m).rev() {
        let mut s = b[i];
        for j in i + 1..m {
            s -= u[i * m + j] * b[j];
        }
        b[i] = s / u[i * m + i];
    }
}

/// Solves `Lᵀ x = b` in place for the lower-triangular n×n row-major `l`.
pub(crate) fn solve_lower_transpose(l: &[f64], n: usize, b: &mut [f64]) {
    for i in (0..n).rev() {
        let mut s = b[i];
        for j in i + 1..n {
            s -= l[j * n + i] * b[j];
        }
        b[i] = s / l[i * n + i];
    }
}

/// `out = L u` for the lower-triangular n×n row-major `l`.
pub(crate) fn lower_mul(l: &[f64], n: usize, u: &[f64], out: &mut [f64]) {
    for (i, o) in out.iter_mut().enumerate().take(n) {
        *o = dot(&l[i * n..i * n + i + 1], &u[..=i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thin_qr_reconstructs_and_is_orthonormal() {
        // a 5×3 matrix with a repeated direction in its span
        let cols = vec![
            vec![1.0, 2.0, 0.5, -1.0, 3.0],
            vec![0.0, 1.0, 4.0, 2.0, -1.0],
            vec![2.0, 5.0, 5.0, 0.0, 5.0],
        ];
        let (q, r) = thin_qr(&cols);
        for j in 0..3 {
            for i in 0..5 {
                let rebuilt: f64 = (0..3).map(|k| q[k][i] * r[k * 3 + j]).sum();
                assert!((rebuilt - cols[j][i]).abs() < 1e-12, "({i}, {j})");
            }
            for k in 0..3 {
                let want = if j == k { 1.0 } else { 0.0 };
                assert!((dot(&q[j], &q[k]) - want).abs() < 1e-12);
            }
            for i in j + 1..3 {
                assert_eq!(r[i * 3 + j], 0.0);
            }
        }
        // a zero column keeps Q orthonormal
        let (q, r) = thin_qr(&[vec![0.0; 4], vec![1.0, 1.0, 0.0, 0.0]]);
        assert_eq!(r[0], 0.0);
        assert!((dot(&q[1], &q[1]) - 1.0).abs() < 1e-12);
        assert!(dot(&q[0], &q[1]).abs() < 1e-12);
    }

    #[test]
    fn triangular_solves_invert_their_products() {
        let l = [2.0, 0.0, 0.0, 1.0, 3.0, 0.0, -1.0, 0.5, 4.0];
        let x = [1.0, -2.0, 0.5];
        let mut b = [0.0; 3];
        lower_mul(&l, 3, &x, &mut b);
        assert_eq!(b, [2.0, -5.0, 0.0]);
        // Lᵀ x
        let mut bt: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|k| l[k * 3 + i] * x[k]).sum())
            .collect();
        solve_lower_transpose(&l, 3, &mut bt);
        for (a, b) in bt.iter().zip(x) {
            assert!((a - b).abs() < 1e-14);
        }
        // U = Lᵀ as an upper matrix
        let u: Vec<f64> = (0..9).map(|k| l[(k % 3) * 3 + k / 3]).collect();
        let mut bu: Vec<f64> = (0..3)
            .map(|i| (0..3).map(|k| u[i * 3 + k] * x[k]).sum())
            .collect();
        solve_upper(&u, 3, &mut bu);
        for (a, b) in bu.iter().zip(x) {
            assert!((a - b).abs() < 1e-14);
        }
    }
}
