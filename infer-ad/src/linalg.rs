//! Linear algebra on the tape: dot, matrix–vector and matrix–matrix products (also with a
//! constant data matrix held by reference), triangular solves and log-determinants.

use crate::error::{AdError, check_same_tape};
use crate::shape::Shape;
use crate::tape::{Node, Tape};
use crate::tensor::Tensor;
use crate::var::Var;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use std::sync::Arc;

/// `C += op(A) · op(B)` for row-major slices, through ndarray's `general_mat_mul` (the
/// `matrixmultiply` kernel: packed, cache-blocked, SIMD micro-kernels). `A` is `m×k` (or, with
/// `at`, stored as `k×m` and transposed), `B` is `k×n` (with `bt`, stored as `n×k`), `C` is
/// `m×n`. Callers guarantee the slice lengths; `m·k·n == 0` is a no-op.
fn gemm_acc([m, k, n]: [usize; 3], a: &[f64], at: bool, b: &[f64], bt: bool, c: &mut [f64]) {
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

/// Inner product with four accumulators (lets the CPU overlap the additions).
#[inline]
pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0; 4];
    let chunks = n / 4;
    for c in 0..chunks {
        let i = 4 * c;
        acc[0] += a[i] * b[i];
        acc[1] += a[i + 1] * b[i + 1];
        acc[2] += a[i + 2] * b[i + 2];
        acc[3] += a[i + 3] * b[i + 3];
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for i in 4 * chunks..n {
        s += a[i] * b[i];
    }
    s
}

/// `y += alpha * x`.
#[inline(always)]
pub(crate) fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
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
fn matvec_rows(a: &[f64], x: &[f64], out: &mut [f64]) {
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
        let rows = &a[i * k..(i + 4) * k];
        let (r0, rest) = rows.split_at(k);
        let (r1, rest) = rest.split_at(k);
        let (r2, r3) = rest.split_at(k);
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
            let rows = &data[i * k..(i + 4) * k];
            let (r0, rest) = rows.split_at(k);
            let (r1, rest) = rest.split_at(k);
            let (r2, r3) = rest.split_at(k);
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
    let (lo, hi) = adj.split_at_mut(out);
    let gc = &hi[..m * n];
    if gc.iter().all(|&g| g == 0.0) {
        // no gradient reaches this product (see `zero_skipping_gemm_acc`)
        return;
    }
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
    let (lo, hi) = adj.split_at_mut(out);
    if hi[..m * n].iter().all(|&g| g == 0.0) {
        return;
    }
    // gB (k×n) += Dᵀ · gC
    gemm_acc_adj(
        [k, m, n],
        data,
        true,
        &hi[..m * n],
        false,
        &mut lo[b..b + k * n],
    );
}

/// Solves `T X = B` in place in `x` (n×m, row-major) for triangular `t` (n×n).
fn tri_solve_into(t: &[f64], x: &mut [f64], n: usize, m: usize, lower: bool, transpose: bool) {
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
    let (lo, hi) = adj.split_at_mut(out);
    let gx = &hi[..n * m];
    if gx.iter().all(|&g| g == 0.0) {
        return;
    }
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
fn cholesky_into(a: &[f64], l: &mut [f64], n: usize) -> Result<(), (usize, f64)> {
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

/// Backward of [`Tensor::cholesky`]: with P = Lᵀ L̄ and Φ(P) its lower triangle with the
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
    let (lo, hi) = adj.split_at_mut(out);
    let lbar = &hi[..n * n];
    // a zero adjoint sends nothing (the tape's convention; see `trisolve_backward`)
    if lbar.iter().all(|&g| g == 0.0) {
        return;
    }
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

fn need_rank(t: &Tensor<'_>, op: &'static str, r: usize) -> Result<(), AdError> {
    if t.ndim() == r {
        Ok(())
    } else {
        Err(AdError::WrongRank {
            op,
            expected: r,
            shape: t.shape,
        })
    }
}

impl<'t> Tensor<'t> {
    /// Inner product of two 1-d tensors of equal length.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![1.0, 2.0]);
    /// let b = tape.tensor(&ndarray::array![3.0, 4.0]);
    /// let d = a.dot(b)?;
    /// d.backward();
    /// assert_eq!(d.value(), 11.0);
    /// assert_eq!(a.grad().as_slice().unwrap(), &[3.0, 4.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn dot(self, o: Tensor<'t>) -> Result<Var<'t>, AdError> {
        check_same_tape("dot", self.tape, o.tape)?;
        need_rank(&self, "dot", 1)?;
        need_rank(&o, "dot", 1)?;
        if self.numel() != o.numel() {
            return Err(AdError::ShapeMismatch {
                op: "dot",
                left: self.shape,
                right: o.shape,
            });
        }
        let n = self.numel();
        let mut g = self.tape.inner_mut();
        let (a, b) = (self.start as usize, o.start as usize);
        let v = dot(&g.vals[a..a + n], &g.vals[b..b + n]);
        let out = g.next_slot();
        g.vals.push(v);
        if self.tracked || o.tracked {
            g.push_node(Node::Dot {
                out,
                a: self.start,
                b: o.start,
                n: n as u32,
            });
        }
        Ok(Var {
            tape: self.tape,
            idx: out,
            val: v,
        })
    }

    /// Matrix–vector product `self (m×k) · x (k)`.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`]; [`AdError::TooManyElements`]
    /// when the m results would not fit on the tape (an empty m×0 matrix may have any m).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// let x = tape.tensor(&ndarray::array![1.0, -1.0]);
    /// assert_eq!(a.matvec(x)?.to_vec(), vec![-1.0, -1.0]);
    /// let other = infer_ad::Tape::new();
    /// assert!(a.matvec(other.tensor(&ndarray::array![1.0, -1.0])).is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn matvec(self, x: Tensor<'t>) -> Result<Tensor<'t>, AdError> {
        check_same_tape("matvec", self.tape, x.tape)?;
        need_rank(&self, "matvec", 2)?;
        need_rank(&x, "matvec", 1)?;
        let (m, k) = (self.dims()[0], self.dims()[1]);
        if x.numel() != k {
            return Err(AdError::ShapeMismatch {
                op: "matvec",
                left: self.shape,
                right: x.shape,
            });
        }
        let tape = self.tape;
        let mut g = tape.inner_mut();
        g.reserve("matvec", m, 0, 0, &[m])?;
        let (a, xs) = (self.start as usize, x.start as usize);
        let out = g.next_slot();
        for i in 0..m {
            let v = dot(&g.vals[a + i * k..a + (i + 1) * k], &g.vals[xs..xs + k]);
            g.vals.push(v);
        }
        let tracked = self.tracked || x.tracked;
        if tracked {
            g.push_node(Node::MatVec {
                out,
                a: self.start,
                x: x.start,
                m: m as u32,
                k: k as u32,
                ta: self.tracked,
                tx: x.tracked,
            });
        }
        Ok(Tensor::from_slot(tape, out, Shape::vector(m), tracked))
    }

    /// Matrix product `self (m×k) · b (k×n)`.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`]; [`AdError::TooManyElements`]
    /// when the m×n product has too many elements or would not fit on the tape.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// let c = a.matmul(a)?;
    /// assert_eq!(c.to_vec(), vec![7.0, 10.0, 15.0, 22.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn matmul(self, b: Tensor<'t>) -> Result<Tensor<'t>, AdError> {
        check_same_tape("matmul", self.tape, b.tape)?;
        need_rank(&self, "matmul", 2)?;
        need_rank(&b, "matmul", 2)?;
        let (m, k) = (self.dims()[0], self.dims()[1]);
        let n = b.dims()[1];
        if b.dims()[0] != k {
            return Err(AdError::ShapeMismatch {
                op: "matmul",
                left: self.shape,
                right: b.shape,
            });
        }
        let shape = Shape::matrix(m, n)?;
        let tape = self.tape;
        let mut g = tape.inner_mut();
        g.reserve("matmul", m * n, 0, 0, shape.dims())?;
        let out = g.next_slot() as usize;
        g.vals.resize(out + m * n, 0.0);
        let (inp, outp) = g.vals.split_at_mut(out);
        let (a0, b0) = (self.start as usize, b.start as usize);
        // An empty product computes nothing (m or n may be huge when the other is 0).
        if m * n != 0 {
            gemm_acc(
                [m, k, n],
                &inp[a0..a0 + m * k],
                false,
                &inp[b0..b0 + k * n],
                false,
                &mut outp[..m * n],
            );
        }
        let tracked = self.tracked || b.tracked;
        if tracked {
            g.push_node(Node::MatMul {
                out: out as u32,
                a: self.start,
                b: b.start,
                m: m as u32,
                k: k as u32,
                n: n as u32,
                ta: self.tracked,
                tb: b.tracked,
            });
        }
        Ok(Tensor::from_slot(tape, out as u32, shape, tracked))
    }

    /// Solves `self · X = b` for triangular `self` (n×n; `lower` selects which triangle is
    /// read — the other is ignored); `b` is a vector (n) or a matrix (n×m). Gradients flow to
    /// both; the matrix's gradient lives on the triangle that was read.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::WrongRank`], [`AdError::ShapeMismatch`], or [`AdError::Singular`] when a
    /// diagonal element is 0 or not finite.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let l = tape.tensor(&ndarray::array![[2.0, 0.0], [1.0, 1.0]]);
    /// let b = tape.tensor(&ndarray::array![2.0, 3.0]);
    /// let x = l.tri_solve(b, true)?;
    /// assert_eq!(x.to_vec(), vec![1.0, 2.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn tri_solve(self, b: Tensor<'t>, lower: bool) -> Result<Tensor<'t>, AdError> {
        check_same_tape("tri_solve", self.tape, b.tape)?;
        need_rank(&self, "tri_solve", 2)?;
        let n = self.dims()[0];
        let ok_b = match b.ndim() {
            1 => b.dims()[0] == n,
            2 => b.dims()[0] == n,
            _ => false,
        };
        if self.dims()[1] != n || !ok_b {
            return Err(AdError::ShapeMismatch {
                op: "tri_solve",
                left: self.shape,
                right: b.shape,
            });
        }
        let m = if b.ndim() == 1 { 1 } else { b.dims()[1] };
        let tape = self.tape;
        let mut g = tape.inner_mut();
        g.reserve("tri_solve", n * m, 0, 0, b.dims())?;
        let l0 = self.start as usize;
        for i in 0..n {
            let d = g.vals[l0 + i * n + i];
            if d == 0.0 || !d.is_finite() {
                return Err(AdError::Singular { index: i, value: d });
            }
        }
        let out = g.next_slot() as usize;
        let b0 = b.start as usize;
        g.vals.extend_from_within(b0..b0 + n * m);
        let (inp, outp) = g.vals.split_at_mut(out);
        tri_solve_into(&inp[l0..l0 + n * n], outp, n, m, lower, false);
        let tracked = self.tracked || b.tracked;
        if tracked {
            g.push_node(Node::TriSolve {
                out: out as u32,
                l: self.start,
                b: b.start,
                n: n as u32,
                m: m as u32,
                lower,
                tl: self.tracked,
                tb: b.tracked,
            });
        }
        Ok(Tensor::from_slot(tape, out as u32, b.shape, tracked))
    }

    /// The lower Cholesky factor L of a symmetric positive-definite matrix (L Lᵀ = A, zeros
    /// above the diagonal), as Stan's `cholesky_decompose`: one node, whose backward pass is
    /// Murray's (2016) formula (O(n³), two triangular solves). The factor is that of the
    /// symmetric part ½(A + Aᵀ), and the gradient goes to both triangles.
    ///
    /// # Errors
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`] for a non-square matrix;
    /// [`AdError::NotPositiveDefinite`] naming the row whose pivot is ≤ 0 or not finite
    /// (a NaN entry included).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![[4.0, 2.0], [2.0, 5.0]]);
    /// let l = a.cholesky()?;
    /// assert_eq!(l.to_vec(), vec![2.0, 0.0, 1.0, 2.0]);
    /// l.sum().backward();
    /// assert!(a.grad().iter().all(|g| g.is_finite()));
    /// let bad = tape.tensor(&ndarray::array![[1.0, 2.0], [2.0, 1.0]]);
    /// assert!(bad.cholesky().is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn cholesky(self) -> Result<Tensor<'t>, AdError> {
        need_rank(&self, "cholesky", 2)?;
        let n = self.dims()[0];
        if self.dims()[1] != n {
            return Err(AdError::ShapeMismatch {
                op: "cholesky",
                left: self.shape,
                right: self.shape,
            });
        }
        let tape = self.tape;
        let mut g = tape.inner_mut();
        g.reserve("cholesky", n * n, 0, 0, &[])?;
        let a0 = self.start as usize;
        let out = g.next_slot() as usize;
        g.vals.resize(out + n * n, 0.0);
        let (inp, outp) = g.vals.split_at_mut(out);
        if let Err((index, value)) = cholesky_into(&inp[a0..a0 + n * n], outp, n) {
            g.vals.truncate(out);
            return Err(AdError::NotPositiveDefinite { index, value });
        }
        if self.tracked {
            g.push_node(Node::Cholesky {
                out: out as u32,
                a: self.start,
                n: n as u32,
            });
        }
        Ok(Tensor::from_slot(
            tape,
            out as u32,
            self.shape,
            self.tracked,
        ))
    }

    /// The diagonal of a square matrix, as a vector (one gather node).
    ///
    /// # Errors
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`] for a non-square matrix.
    pub fn diag(self) -> Result<Tensor<'t>, AdError> {
        need_rank(&self, "diag", 2)?;
        let n = self.dims()[0];
        if self.dims()[1] != n {
            return Err(AdError::ShapeMismatch {
                op: "diag",
                left: self.shape,
                right: self.shape,
            });
        }
        let idx: Vec<u32> = (0..n).map(|i| self.start + (i * n + i) as u32).collect();
        self.gather_slots("diag", &idx, Shape::vector(n))
    }

    /// ln |det T| of a triangular matrix: Σ ln |Tᵢᵢ|.
    ///
    /// # Errors
    /// As [`Tensor::diag`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let l = tape.tensor(&ndarray::array![[2.0, 0.0], [5.0, 3.0]]);
    /// assert!((l.tri_logdet()?.value() - 6f64.ln()).abs() < 1e-15);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn tri_logdet(self) -> Result<Var<'t>, AdError> {
        Ok(self.diag()?.abs().ln().sum())
    }
}

/// How a tensor was computed from a constant data matrix: `t = data · x + c · offset`
/// (without the last term when `offset` is `None`), from [`Tape::data_affine_source`].
///
/// # Examples
/// ```
/// use std::sync::Arc;
/// let x = Arc::new(ndarray::array![[1.0, 2.0]]);
/// let tape = infer_ad::Tape::new();
/// let beta = tape.tensor(&ndarray::array![1.0, 1.0]);
/// let eta = tape.data_matvec(&x, beta)? + 2.0; // an untracked offset: none recorded
/// let src: infer_ad::DataAffine<'_> = tape.data_affine_source(eta).expect("affine");
/// assert!(src.offset.is_none());
/// assert_eq!(src.x.numel(), 2);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
#[derive(Debug, Clone)]
pub struct DataAffine<'t> {
    /// The data matrix (m × k, standard layout), shared with the tape.
    pub data: Arc<Array2<f64>>,
    /// The vector the data multiplies (k elements, tracked).
    pub x: Tensor<'t>,
    /// A tracked scalar added to every element, with its coefficient (1 for `+`, −1 for `−`).
    pub offset: Option<(Tensor<'t>, f64)>,
}

impl Tape {
    /// Registers a constant data matrix by reference (no copy: the tape keeps an `Arc` until
    /// [`Tape::clear`]) and returns `data · x` for a vector `x`. The gradient flows to `x` only.
    /// This is the fast path for design matrices (regression, first network layers).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when `x` lives on another tape;
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`]; [`AdError::TooManyElements`]
    /// when the m results would not fit on the tape.
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// let x = Arc::new(ndarray::array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// let tape = infer_ad::Tape::new();
    /// let beta = tape.tensor(&ndarray::array![1.0, -1.0]);
    /// let eta = tape.data_matvec(&x, beta)?;
    /// assert_eq!(eta.to_vec(), vec![-1.0, -1.0, -1.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn data_matvec<'t>(
        &'t self,
        data: &Arc<Array2<f64>>,
        x: Tensor<'t>,
    ) -> Result<Tensor<'t>, AdError> {
        check_same_tape("data_matvec", self, x.tape)?;
        need_rank(&x, "data_matvec", 1)?;
        let (m, k) = data.dim();
        if x.numel() != k {
            return Err(AdError::ShapeMismatch {
                op: "data_matvec",
                left: Shape::matrix(m, k)?,
                right: x.shape,
            });
        }
        let data = standard(data);
        let slice = data.as_slice().expect("standard layout");
        let mut g = self.inner_mut();
        g.reserve("data_matvec", m, 0, 0, &[m])?;
        let out = g.next_slot();
        let xs = x.start as usize;
        let o = out as usize;
        g.vals.resize(o + m, 0.0);
        let (inp, outp) = g.vals.split_at_mut(o);
        matvec_rows(slice, &inp[xs..xs + k], outp);
        if x.tracked {
            let d = g.data.len() as u32;
            g.data.push(data);
            g.push_node(Node::MatVecData { out, d, x: x.start });
        }
        Ok(Tensor::from_slot(self, out, Shape::vector(m), x.tracked))
    }

    /// The affine data product behind `t`, when the tape recorded `t` as
    /// [`Tape::data_matvec`]`(data, x)`, possibly followed by the addition of a scalar offset
    /// (`eta + alpha`, `alpha + eta`, `eta - alpha`, `eta + 1.5`): so that a log density of
    /// `t` may compute its gradient with respect to `x` directly as `dataᵀ·(∂/∂t)` in its
    /// forward pass, instead of storing one partial per element and leaving the product to the
    /// backward pass — the peephole behind the GLM fast path of `infer_dist::Bernoulli`.
    ///
    /// The answer is read from the nodes that produced `t`'s slots (tensor nodes are kept in
    /// the order of their outputs, so this is a binary search): it describes exactly how
    /// `t`'s adjoint reaches the tape's leaves, whatever was recorded after `t`. Nothing is
    /// recorded or removed: a caller that records its own gradient to `x` and the offset
    /// leaves `t`'s nodes on the tape, so `t` may also be used elsewhere. `None` for any
    /// other `t` (an untracked product, a product scaled or added to a vector, a 0-d or
    /// multi-dimensional `t`, a view of part of the product).
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// let x = Arc::new(ndarray::array![[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]);
    /// let tape = infer_ad::Tape::new();
    /// let (beta, alpha) = (tape.tensor(&ndarray::array![1.0, -1.0]), tape.var(0.5));
    /// let eta = tape.data_matvec(&x, beta)? + alpha;
    /// let src = tape.data_affine_source(eta).expect("an affine data product");
    /// assert!(Arc::ptr_eq(&src.data, &x));
    /// assert_eq!(src.x.start_index(), beta.start_index());
    /// let (offset, c) = src.offset.expect("a tracked offset");
    /// assert_eq!((offset.start_index(), c), (alpha.as_tensor().start_index(), 1.0));
    /// assert!(tape.data_affine_source(eta * 2.0).is_none());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn data_affine_source<'t>(&'t self, t: Tensor<'t>) -> Option<DataAffine<'t>> {
        if !std::ptr::eq(self, t.tape) || !t.tracked || t.ndim() != 1 {
            return None;
        }
        let n = t.numel();
        let g = self.inner_mut();
        let nodes = &g.nodes;
        // the nodes whose first output is `at` (contiguous: nodes are ordered by output)
        let producers = |at: u32| {
            let lo = nodes.partition_point(|nd| nd.out() < at);
            let hi = lo + nodes[lo..].partition_point(|nd| nd.out() == at);
            &nodes[lo..hi]
        };
        let matvec = |at: u32| match producers(at) {
            [Node::MatVecData { d, x, .. }] if g.data[*d as usize].nrows() == n => {
                let data = Arc::clone(&g.data[*d as usize]);
                let k = data.ncols();
                Some((data, *x, k))
            }
            _ => None,
        };
        let (data, x, k, offset) = if let Some((data, x, k)) = matvec(t.start) {
            (data, x, k, None)
        } else {
            // `t = eta + c·s`: one identity edge from the product, at most one from a scalar
            let (mut eta, mut offset) = (None, None);
            for nd in producers(t.start) {
                match *nd {
                    Node::Lin {
                        a, n: m, s: 1, c, ..
                    } if m as usize == n && c == 1.0 && eta.is_none() => {
                        eta = Some(a);
                    }
                    Node::Lin {
                        a, n: m, s: 0, c, ..
                    } if m as usize == n && offset.is_none() => {
                        offset = Some((a, c));
                    }
                    _ => return None,
                }
            }
            let (data, x, k) = matvec(eta?)?;
            (data, x, k, offset)
        };
        drop(g);
        let k_shape = Shape::vector(k);
        Some(DataAffine {
            data,
            x: Tensor::from_slot(self, x, k_shape, true),
            offset: offset.map(|(a, c)| (Tensor::from_slot(self, a, Shape::SCALAR, true), c)),
        })
    }

    /// `data · b` for a constant data matrix (m×k, held by reference) and a tensor `b` (k×n).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when `b` lives on another tape;
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`]; [`AdError::TooManyElements`]
    /// when the m×n product has too many elements or would not fit on the tape.
    ///
    /// # Examples
    /// ```
    /// use std::sync::Arc;
    /// let d = Arc::new(ndarray::array![[1.0, 2.0]]);
    /// let tape = infer_ad::Tape::new();
    /// let b = tape.tensor(&ndarray::array![[1.0], [1.0]]);
    /// assert_eq!(tape.data_matmul(&d, b)?.to_vec(), vec![3.0]);
    /// let other = infer_ad::Tape::new();
    /// assert!(other.data_matmul(&d, b).is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn data_matmul<'t>(
        &'t self,
        data: &Arc<Array2<f64>>,
        b: Tensor<'t>,
    ) -> Result<Tensor<'t>, AdError> {
        check_same_tape("data_matmul", self, b.tape)?;
        need_rank(&b, "data_matmul", 2)?;
        let (m, k) = data.dim();
        let n = b.dims()[1];
        if b.dims()[0] != k {
            return Err(AdError::ShapeMismatch {
                op: "data_matmul",
                left: Shape::matrix(m, k)?,
                right: b.shape,
            });
        }
        let shape = Shape::matrix(m, n)?;
        let data = standard(data);
        let slice = data.as_slice().expect("standard layout");
        let mut g = self.inner_mut();
        g.reserve("data_matmul", m * n, 0, 0, shape.dims())?;
        let out = g.next_slot() as usize;
        g.vals.resize(out + m * n, 0.0);
        let (inp, outp) = g.vals.split_at_mut(out);
        let b0 = b.start as usize;
        // An empty product computes nothing (m or n may be huge when the other is 0).
        if m * n != 0 {
            gemm_acc(
                [m, k, n],
                slice,
                false,
                &inp[b0..b0 + k * n],
                false,
                &mut outp[..m * n],
            );
        }
        if b.tracked {
            let d = g.data.len() as u32;
            g.data.push(data);
            g.push_node(Node::MatMulData {
                out: out as u32,
                d,
                b: b.start,
                n: n as u32,
            });
        }
        Ok(Tensor::from_slot(self, out as u32, shape, b.tracked))
    }
}

fn standard(data: &Arc<Array2<f64>>) -> Arc<Array2<f64>> {
    if data.is_standard_layout() {
        Arc::clone(data)
    } else {
        Arc::new(data.as_standard_layout().into_owned())
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

    /// A solve or product whose output no gradient reaches sends nothing, even when its
    /// values are NaN or ∞ (issue 13: the sweep visits it, and 0 · NaN made the gradient of
    /// the matrix NaN in a later, unrelated backward pass). Expected gradients: d/dl₀₀ of
    /// ln l₀₀ = 1/l₀₀ = 0.5, 0 elsewhere.
    #[test]
    fn unreached_nodes_with_non_finite_values_send_no_nan() {
        let tape = Tape::new();
        let l = tape.tensor(&ndarray::array![[2.0, 0.0], [1.0, 4.0]]);
        let b = tape.tensor(&ndarray::array![[f64::NAN, 1.0], [f64::INFINITY, 2.0]]);
        let solved = l.tri_solve(b, true).expect("2×2");
        let prod = l.matmul(b).expect("2×2");
        let prod_t = b.matmul(l).expect("2×2");
        assert!(solved.to_vec().iter().any(|v| !v.is_finite()));
        assert!(prod.to_vec().iter().any(|v| !v.is_finite()));
        assert!(prod_t.to_vec().iter().any(|v| !v.is_finite()));
        let root = l.at(&[0, 0]).expect("in range").ln();
        root.backward();
        let g: Vec<f64> = l.grad().iter().copied().collect();
        assert_eq!(g, vec![0.5, 0.0, 0.0, 0.0]);
        assert!(b.grad().iter().all(|&g| g == 0.0));
        // and a reached product with ∞ in one operand: zero adjoints stay out of the sum
        // (column 0 of gC is 0), the reached terms are exact: gB = Lᵀ gC
        let gc_mask = tape.constant(&ndarray::array![[0.0, 1.0], [0.0, 1.0]]);
        let lp = (l.matmul(b).expect("2×2") * gc_mask).sum();
        lp.backward();
        let gb: Vec<f64> = b.grad().iter().copied().collect();
        assert_eq!(gb, vec![0.0, 3.0, 0.0, 4.0]);
        // gL = gC Bᵀ: row i = Σⱼ gC[i, j] B[k, j] = B[k, 1] = (1, 2) for both rows
        let gl: Vec<f64> = l.grad().iter().copied().collect();
        assert_eq!(gl, vec![1.0, 2.0, 1.0, 2.0]);
    }
}
