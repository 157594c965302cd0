//! Plain-slice kernels: the arithmetic of the tape's operations on `&[f64]`, with no tape
//! types. The tape-facing operations (in the modules beside `tape/`) check shapes, reserve
//! slots and record nodes, then call a kernel here for the forward values; the backward sweep
//! (`tape/sweep.rs`) calls a kernel here for each node's adjoints. Nothing in this module
//! imports the tape, so a kernel can be tested, benchmarked and reused on plain slices.
//!
//! * this file: [`dot`] and `axpy`;
//! * `linalg`: matrix products, matrix–vector products and their backward passes,
//!   triangular solves, the Cholesky factorization and its backward pass;
//! * `reduce`: lane-parallel sums, sums of squared deviations, the reverse cumulative sum;
//! * `adjoint`: the backward loops of the elementwise, linear, reduction and grouped nodes.
//!
//! Results are bit-for-bit what the tape computes: the tape calls these same functions.
//!
//! # Examples
//! ```
//! use infer_ad::kernels::dot;
//! assert_eq!(dot(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
//! ```

mod adjoint;
mod linalg;
mod reduce;

pub(crate) use adjoint::{
    dot_backward, elem_backward, group_backward, lin_backward, scale_into, splat,
};
pub(crate) use linalg::{
    cholesky_backward, cholesky_into, gemm_acc, matmul_backward, matmul_data_backward,
    matvec_backward, matvec_data_backward, matvec_rows, tri_solve_into, trisolve_backward,
};
pub(crate) use reduce::{cumsum_backward, dev_moments, lane_sum4, lane_sum8, sq_dev_backward};

/// The inner product `Σ aᵢ bᵢ` over the first `min(a.len(), b.len())` elements, with four
/// accumulators (lets the CPU overlap the additions): element `i` is added into lane
/// `i mod 4` for the largest multiple of four elements, the lanes are combined as
/// `(l₀ + l₁) + (l₂ + l₃)`, and the remaining elements are added in order. The same bits on
/// every machine; the tape's dot product, matrix–vector product (each row) and Cholesky
/// factorization sum exactly this way.
///
/// # Examples
/// ```
/// use infer_ad::kernels::dot;
/// let a = [1.0, 2.0, 3.0, 4.0, 5.0];
/// let b = [1.0, 1.0, 1.0, 1.0, 2.0];
/// assert_eq!(dot(&a, &b), 20.0);
/// // the longer operand is cut to the shorter one's length
/// assert_eq!(dot(&a[..2], &b), 3.0);
/// assert_eq!(dot(&[], &b), 0.0);
/// ```
#[inline]
#[must_use]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
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
