//! Dense linear algebra on row-major slices: matrix products (through `matrixmultiply`),
//! matrix–vector products and their backward passes, triangular solves and the Cholesky
//! factorization with its backward pass (Murray 2016).

use super::{axpy, dot};
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};

/// `C += op(A) · op(B)` for row-major slices, through ndarray's `general_mat_mul` (the
/// `matrixmultiply` kernel: packed, cache-blocked, SIMD micro-kernels). `A` is `m×k` (or, with
/// `at`, stored as `k×m` and transposed), `B` is `k×n` (with `bt`, stored as `n×k`), `C` is
/// `m×n`. Callers guarantee the slice lengths; `m·k·n == 0` is a no-op.
pub(crate) fn gemm_acc(
    [m, k, n]: [usize; 3],
    a: &[f64],
    at: bool,
    b: &[f64],
    bt: bool,
    c: &mut [f64],
) {
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let a = if at {
        ArrayView2::from_shape((k, m), a).map(|v| v.reversed_axes())
    } else {
        ArrayView2::from_shape((m, k), a)
    }
    .expect("the caller passes an m×k slice");
    let b = if bt {
        ArrayView2::from_shape((n, k), b).map(|v| v.reversed_axes())
    } else {
        ArrayView2::from_shape((k, n), b)
    }
    .expect("the caller passes a k×n slice");
    let mut c = ArrayViewMut2::from_shape((m, n), c).expect("the caller passes an m×n slice");
    general_mat_mul(1.0, &a, &b, 1.0, &mut c);
}

pub(crate) fn matvec_backward(
    vals: &[f64],
    adj: &mut [f64],
    [out, a, x]: [usize; 3],
    m: usize,
    k: usize,
    ta: bool,
    tx: bool,
) {
    let (lo, hi) = adj.split_at_mut(out);
    for i in 0..m {
        let g = hi[i];
        if g == 0.0 {
            continue;
        }
        if tx {
            axpy(g, &vals[a + i * k..a + (i + 1) * k], &mut lo[x..x + k]);
        }
        if ta {
            axpy(g, &vals[x..x + k], &mut lo[a + i * k..a + (i + 1) * k]);
        }
    }
}

/// `out[i] = A[i, ..] · x` for a row-major `A` (`out.len()` rows of `x.len()` columns), four
/// rows at a time so that each load of `x` serves four rows. Each row is summed exactly as
/// [`dot`] sums it (four lanes, then the tail), so results are bit-identical to `dot` per row.
///
/// Compiled with AVX2 too, selected at run time: the same operations (no fused multiply–add)
/// four lanes per instruction, so the same bits on every x86-64 CPU.
#[inline]
pub(crate) fn matvec_rows(a: &[f64], x: &[f64], out: &mut [f64]) {
    crate::with_target_features!(["avx2"], matvec_rows_avx2(a: &[f64], x: &[f64], out: &mut [f64]) -> () {
        matvec_rows_body(a, x, out)
    });
    matvec_rows_body(a, x, out)
}

#[inline(always)]
fn matvec_rows_body(a: &[f64], x: &[f64], out: &mut [f64]) {
    let (m, k) = (out.len(), x.len());
    let k4 = k - k % 4;
    let full = m - m % 4;
    for i in (0..full).step_by(4) {
        let [r0, r1, r2, r3] = four_rows(a, i, k);
        let mut acc = [[0.0f64; 4]; 4];
        for ((((xc, c0), c1), c2), c3) in x[..k4]
            .chunks_exact(4)
            .zip(r0.chunks_exact(4))
            .zip(r1.chunks_exact(4))
            .zip(r2.chunks_exact(4))
            .zip(r3.chunks_exact(4))
        {
            for l in 0..4 {
                acc[0][l] += c0[l] * xc[l];
                acc[1][l] += c1[l] * xc[l];
                acc[2][l] += c2[l] * xc[l];
                acc[3][l] += c3[l] * xc[l];
            }
        }
        for (r, row) in [r0, r1, r2, r3].into_iter().enumerate() {
            let a = &acc[r];
            let mut s = (a[0] + a[1]) + (a[2] + a[3]);
            for j in k4..k {
                s += row[j] * x[j];
            }
            out[i + r] = s;
        }
    }
    for i in full..m {
        out[i] = dot(&a[i * k..(i + 1) * k], x);
    }
}

/// Rows `i..i + 4` of the row-major `a` of `k` columns.
#[inline(always)]
fn four_rows(a: &[f64], i: usize, k: usize) -> [&[f64]; 4] {
    let rows = &a[i * k..(i + 4) * k];
    let (r0, rest) = rows.split_at(k);
    let (r1, rest) = rest.split_at(k);
    let (r2, r3) = rest.split_at(k);
    [r0, r1, r2, r3]
}

pub(crate) fn matvec_data_backward(mat: &Array2<f64>, adj: &mut [f64], out: usize, x: usize) {
    let (m, k) = mat.dim();
    let data = mat
        .as_slice()
        .expect("data matrices are stored in standard layout");
    let (lo, hi) = adj.split_at_mut(out);
    let gx = &mut lo[x..x + k];
    let hi = &hi[..m];
    // an AVX2 instance when the CPU has it, bit-identical as for `matvec_rows`
    crate::with_target_features!(["avx2"], matvec_data_backward_avx2(data: &[f64], hi: &[f64], gx: &mut [f64]) -> () {
        matvec_data_backward_body(data, hi, gx)
    });
    matvec_data_backward_body(data, hi, gx)
}

/// `gx += Σᵢ hiᵢ A[i, ..]` for the row-major `data` (`hi.len()` rows of `gx.len()` columns).
#[inline(always)]
fn matvec_data_backward_body(data: &[f64], hi: &[f64], gx: &mut [f64]) {
    let (m, k) = (hi.len(), gx.len());
    // gx += Σᵢ gᵢ A[i, ..], four rows per pass over gx when all four gᵢ are non-zero (the
    // same additions in the same order as one axpy per row, so bit-identical to it).
    let full = m - m % 4;
    let mut i = 0;
    while i < full {
        let g = [hi[i], hi[i + 1], hi[i + 2], hi[i + 3]];
        if g.iter().all(|&v| v != 0.0) {
            let [r0, r1, r2, r3] = four_rows(data, i, k);
            for j in 0..k {
                let mut v = gx[j];
                v += g[0] * r0[j];
                v += g[1] * r1[j];
                v += g[2] * r2[j];
                v += g[3] * r3[j];
                gx[j] = v;
            }
        } else {
            for r in 0..4 {
                if g[r] != 0.0 {
                    axpy(g[r], &data[(i + r) * k..(i + r + 1) * k], gx);
                }
            }
        }
        i += 4;
    }
    for i in full..m {
        let g = hi[i];
        if g != 0.0 {
            axpy(g, &data[i * k..(i + 1) * k], gx);
        }
    }
}

/// The adjoint split at a node's output slot `out`: the inputs' part (below `out`, where the
/// node's gradients are added) and the output's `len` adjoints; `None` when every output
/// adjoint is 0, as a zero adjoint sends nothing.
#[inline]
fn out_adjoint(adj: &mut [f64], out: usize, len: usize) -> Option<(&mut [f64], &[f64])> {
    let (lo, hi) = adj.split_at_mut(out);
    let g = &hi[..len];
    if g.iter().all(|&g| g == 0.0) {
        None
    } else {
        Some((lo, g))
    }
}

pub(crate) fn matmul_backward(
    vals: &[f64],
    adj: &mut [f64],
    [out, a, b]: [usize; 3],
    [m, k, n]: [usize; 3],
    ta: bool,
    tb: bool,
) {
    if m * n == 0 {
        // an empty product sends no gradient (and m or n may be huge when the other is 0)
        return;
    }
    // no gradient reaches this product when its adjoint is 0 (see `zero_skipping_gemm_acc`)
    let Some((lo, gc)) = out_adjoint(adj, out, m * n) else {
        return;
    };
    if ta {
        // gA (m×k) += gC (m×n) · Bᵀ
        gemm_acc_adj(
            [m, n, k],
            gc,
            false,
            &vals[b..b + k * n],
            true,
            &mut lo[a..a + m * k],
        );
    }
    if tb {
        // gB (k×n) += Aᵀ · gC
        gemm_acc_adj(
            [k, m, n],
            &vals[a..a + m * k],
            true,
            gc,
            false,
            &mut lo[b..b + k * n],
        );
    }
}

/// [`gemm_acc`] for a backward pass, where one operand holds adjoints: a zero adjoint sends
/// nothing, even through an infinite or NaN value of the other operand (0 · ∞ would be NaN).
///
/// Scanning both operands for non-finite values before every product costs as much as the
/// product itself for a matrix–vector backward (measured: corr_gauss's gradient 1.05 → 1.48
/// µs). Instead the product goes to a zeroed buffer of C's size (O(m·n), small beside the
/// O(m·k·n) product) with the fast kernel; only if that holds a NaN — which a 0 · ∞ term
/// always produces, and which then is the only case where the two kernels can differ — is
/// it redone term by term.
fn gemm_acc_adj([m, k, n]: [usize; 3], a: &[f64], at: bool, b: &[f64], bt: bool, c: &mut [f64]) {
    let mut product = vec![0.0; m * n];
    gemm_acc([m, k, n], a, at, b, bt, &mut product);
    if product.iter().any(|v| v.is_nan()) {
        product.fill(0.0);
        zero_skipping_gemm_acc([m, k, n], a, at, b, bt, &mut product);
    }
    for (ci, pi) in c.iter_mut().zip(&product) {
        *ci += pi;
    }
}

/// `C += op(A) · op(B)` as [`gemm_acc`], term by term, where a term with a zero factor is
/// exactly 0 whatever the other factor (the backward-pass convention of the tape: a zero
/// adjoint contributes nothing, so a NaN or ∞ value that no gradient reaches stays out of the
/// gradients).
fn zero_skipping_gemm_acc(
    [m, k, n]: [usize; 3],
    a: &[f64],
    at: bool,
    b: &[f64],
    bt: bool,
    c: &mut [f64],
) {
    let ea = |i: usize, l: usize| if at { a[l * m + i] } else { a[i * k + l] };
    let eb = |l: usize, j: usize| if bt { b[j * k + l] } else { b[l * n + j] };
    for i in 0..m {
        for l in 0..k {
            let x = ea(i, l);
            if x == 0.0 {
                continue;
            }
            for j in 0..n {
                let y = eb(l, j);
                if y != 0.0 {
                    c[i * n + j] += x * y;
                }
            }
        }
    }
}

pub(crate) fn matmul_data_backward(
    mat: &Array2<f64>,
    adj: &mut [f64],
    out: usize,
    b: usize,
    n: usize,
) {
    let (m, k) = mat.dim();
    if m * n == 0 {
        // an empty product sends no gradient (and m may be huge when n is 0)
        return;
    }
    let data = mat
        .as_slice()
        .expect("data matrices are stored in standard layout");
    let Some((lo, gc)) = out_adjoint(adj, out, m * n) else {
        return;
    };
    // gB (k×n) += Dᵀ · gC
    gemm_acc_adj([k, m, n], data, true, gc, false, &mut lo[b..b + k * n]);
}

/// Solves `T X = B` in place in `x` (n×m, row-major) for triangular `t` (n×n).
pub(crate) fn tri_solve_into(
    t: &[f64],
    x: &mut [f64],
    n: usize,
    m: usize,
    lower: bool,
    transpose: bool,
) {
    // Effective matrix: T or Tᵀ; Tᵀ of lower is upper.
    let eff_lower = lower != transpose;
    let at = |i: usize, j: usize| {
        if transpose {
            t[j * n + i]
        } else {
            t[i * n + j]
        }
    };
    if eff_lower {
        for i in 0..n {
            for j in 0..i {
                let lij = at(i, j);
                if lij != 0.0 {
                    for c in 0..m {
                        x[i * m + c] -= lij * x[j * m + c];
                    }
                }
            }
            let d = at(i, i);
            for c in 0..m {
                x[i * m + c] /= d;
            }
        }
    } else {
        for i in (0..n).rev() {
            for j in i + 1..n {
                let uij = at(i, j);
                if uij != 0.0 {
                    for c in 0..m {
                        x[i * m + c] -= uij * x[j * m + c];
                    }
                }
            }
            let d = at(i, i);
            for c in 0..m {
                x[i * m + c] /= d;
            }
        }
    }
}

pub(crate) fn trisolve_backward(
    vals: &[f64],
    adj: &mut [f64],
    scratch: &mut Vec<f64>,
    [out, l, b]: [usize; 3],
    n: usize,
    m: usize,
    lower: bool,
    tl: bool,
    tb: bool,
) {
    // Y = T⁻ᵀ gX; gB += Y; gT[i,j] -= Σ_c Y[i,c] X[j,c] on T's triangle.
    //
    // A zero adjoint sends nothing (the tape's convention, as for the elementwise nodes): the
    // sweep visits every node recorded before the root, also a solve whose output no gradient
    // reaches and whose X holds NaN or ∞ (a log density at a NaN value); 0 · NaN there made
    // the gradients of the triangle NaN in every later backward pass (issue 13).
    let Some((lo, gx)) = out_adjoint(adj, out, n * m) else {
        return;
    };
    scratch.clear();
    scratch.extend_from_slice(gx);
    tri_solve_into(&vals[l..l + n * n], scratch, n, m, lower, true);
    if tb {
        for (g, y) in lo[b..b + n * m].iter_mut().zip(scratch.iter()) {
            *g += y;
        }
    }
    if tl {
        let xv = &vals[out..out + n * m];
        let finite = xv.iter().all(|v| v.is_finite());
        for i in 0..n {
            let (j0, j1) = if lower { (0, i + 1) } else { (i, n) };
            let yi = &scratch[i * m..(i + 1) * m];
            for j in j0..j1 {
                let xj = &xv[j * m..(j + 1) * m];
                lo[l + i * n + j] -= if finite {
                    dot(yi, xj)
                } else {
                    yi.iter()
                        .zip(xj)
                        .filter(|&(&y, _)| y != 0.0)
                        .map(|(y, x)| y * x)
                        .sum::<f64>()
                };
            }
        }
    }
}

/// The Cholesky factor L (row-major n×n, zeros above the diagonal) of the symmetric part of
/// `a`, written into `l`; `Err((row, pivot))` at the first pivot that is not positive and
/// finite.
pub(crate) fn cholesky_into(a: &[f64], l: &mut [f64], n: usize) -> Result<(), (usize, f64)> {
    l.fill(0.0);
    for i in 0..n {
        for j in 0..=i {
            let aij = 0.5 * (a[i * n + j] + a[j * n + i]);
            let s = aij - dot(&l[i * n..i * n + j], &l[j * n..j * n + j]);
            if i == j {
                if !(s > 0.0 && s.is_finite()) {
                    return Err((i, s));
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Ok(())
}

/// Backward of [`crate::Tensor::cholesky`]: with P = Lᵀ L̄ and Φ(P) its lower triangle with the
/// diagonal halved, Ā = L⁻ᵀ S L⁻¹ for S = ½(Φ(P) + Φ(P)ᵀ), added to the adjoint of A (the
/// symmetric part of A is what the forward pass reads, so Ā goes to both triangles). From
/// dA = dL Lᵀ + L dLᵀ, i.e. L⁻¹ dL = Φ(L⁻¹ dA L⁻ᵀ) (Murray 2016, "Differentiation of the
/// Cholesky decomposition", arXiv:1602.07527, section 3).
pub(crate) fn cholesky_backward(
    vals: &[f64],
    adj: &mut [f64],
    scratch: &mut Vec<f64>,
    out: usize,
    a: usize,
    n: usize,
) {
    // a zero adjoint sends nothing (the tape's convention; see `trisolve_backward`)
    let Some((lo, lbar)) = out_adjoint(adj, out, n * n) else {
        return;
    };
    let l = &vals[out..out + n * n];
    // P = Lᵀ L̄ on the lower triangle (only that part enters Φ): P[i][j] = Σ_k L[k][i] L̄[k][j],
    // k ≥ i (L lower)
    // S and W in the tape's scratch buffer (no allocation per gradient)
    scratch.clear();
    scratch.resize(2 * n * n, 0.0);
    let (s, w) = scratch.split_at_mut(n * n);
    for i in 0..n {
        for j in 0..=i {
            let mut p = 0.0;
            for k in i..n {
                p += l[k * n + i] * lbar[k * n + j];
            }
            s[i * n + j] = if i == j { 0.5 * p } else { p };
        }
    }
    // S = ½(Φ(P) + Φ(P)ᵀ)
    for i in 0..n {
        for j in 0..i {
            let v = 0.5 * s[i * n + j];
            s[i * n + j] = v;
            s[j * n + i] = v;
        }
    }
    // Z = L⁻ᵀ S, then W = L⁻ᵀ Zᵀ = (Z L⁻¹)ᵀ = Āᵀ
    tri_solve_into(l, s, n, n, true, true);
    for i in 0..n {
        for j in 0..n {
            w[i * n + j] = s[j * n + i];
        }
    }
    tri_solve_into(l, w, n, n, true, true);
    let abar = &mut lo[a..a + n * n];
    for i in 0..n {
        for j in 0..n {
            // Ā is symmetric up to rounding: its symmetric part
            abar[i * n + j] += 0.5 * (w[i * n + j] + w[j * n + i]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run-time-selected (AVX2) instances of the data matrix–vector kernels give the same
    /// bits as their baseline bodies, so results do not depend on the machine.
    #[test]
    fn avx2_instances_are_bit_identical_to_the_baseline() {
        for (m, k) in [(37usize, 25usize), (8, 3), (5, 0), (64, 9), (1, 1)] {
            let a: Vec<f64> = (0..m * k)
                .map(|i| ((i * 7919 % 1009) as f64 / 1009.0 - 0.5) * 4.0)
                .collect();
            let x: Vec<f64> = (0..k).map(|j| 0.3 - 0.07 * j as f64).collect();
            let (mut o1, mut o2) = (vec![1.0; m], vec![2.0; m]);
            matvec_rows(&a, &x, &mut o1);
            matvec_rows_body(&a, &x, &mut o2);
            let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&o1), bits(&o2), "forward, m={m} k={k}");
            for (i, o) in o1.iter().enumerate() {
                assert_eq!(o.to_bits(), dot(&a[i * k..(i + 1) * k], &x).to_bits());
            }
            // backward, with some zero adjoints (the kernel skips them)
            let mat = Array2::from_shape_vec((m, k), a.clone()).expect("m × k");
            let hi: Vec<f64> = (0..m)
                .map(|i| {
                    if i % 5 == 2 {
                        0.0
                    } else {
                        0.1 * i as f64 - 1.0
                    }
                })
                .collect();
            let mut adj = vec![0.5; k];
            adj.extend(&hi);
            matvec_data_backward(&mat, &mut adj, k, 0);
            let mut gx = vec![0.5; k];
            matvec_data_backward_body(&a, &hi, &mut gx);
            assert_eq!(bits(&adj[..k]), bits(&gx), "backward, m={m} k={k}");
        }
    }
}
