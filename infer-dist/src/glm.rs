//! A fused generalized-linear-model likelihood: logistic regression as one tape node.

use crate::error::DistError;
use infer_ad::fastmath::exp;
use infer_ad::{Shape, Tensor, Var};
use ndarray::Array2;
use std::sync::Arc;

const NAME: &str = "BernoulliLogitGlm";

/// Rows processed per block: the linear predictors and residuals of one block live on the
/// stack, so a log density allocates nothing for up to [`STACK_COEFS`] coefficients.
const BLOCK: usize = 64;
/// Coefficient vectors up to this length are handled in stack buffers.
const STACK_COEFS: usize = 64;

/// The logistic-regression likelihood `Σᵢ log Bernoulli(yᵢ | logit = α + xᵢ·β)` over a fixed
/// design matrix `X` (n × k) and outcomes `y ∈ {0, 1}ⁿ`, recorded as **one** tape node whose
/// gradient `∂/∂β = Xᵀ(y − σ(η))`, `∂/∂α = Σᵢ (yᵢ − σ(ηᵢ))` is computed in the same pass as
/// the value — Stan's `bernoulli_logit_glm_lpmf` idea. Against the generic formulation
/// (`Tape::data_matvec` followed by a Bernoulli-logits log density) it stores nothing per row
/// on the tape and runs loops shaped to vectorize, with the vectorizable
/// [`infer_ad::fastmath::exp`], which makes a logistic-regression gradient as cheap as the
/// hand-written one of `infer_mcmc::models::LogReg`, whose loop structure it shares.
///
/// Both formulations give the same value and gradient up to rounding (tested).
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::BernoulliLogitGlm;
/// use std::sync::Arc;
/// let x = Arc::new(ndarray::array![[1.0, 0.5], [-0.3, 2.0], [0.7, -1.0]]);
/// let glm = BernoulliLogitGlm::new(x, &[1.0, 0.0, 1.0])?;
/// let tape = Tape::new();
/// let beta = tape.tensor(&ndarray::array![0.2, -0.1]);
/// let lp = glm.log_prob(beta, None)?;
/// lp.backward();
/// assert!(lp.value() < 0.0);
/// assert_eq!(beta.grad().len(), 2);
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// Stan Functions Reference, "Bernoulli-logit generalized linear model (logistic
/// regression)".
#[derive(Debug, Clone)]
pub struct BernoulliLogitGlm {
    x: Arc<Array2<f64>>,
    /// `x` transposed (column-major copy, k × n): both products run along rows, so they
    /// vectorize over observations.
    xt: Arc<Vec<f64>>,
    y: Vec<f64>,
}

impl BernoulliLogitGlm {
    /// The likelihood of outcomes `y` (each 0 or 1) given the design matrix `x` (one row per
    /// outcome). A transposed copy of `x` (and a row-major one, if `x` is not in standard
    /// layout) is made once here.
    ///
    /// # Errors
    /// [`DistError::ShapeMismatch`] when `y` has not one entry per row of `x`;
    /// [`DistError::InvalidParameter`] for an outcome other than 0 or 1 (`y`) or a non-finite
    /// entry of `x`.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::BernoulliLogitGlm;
    /// let x = std::sync::Arc::new(ndarray::array![[1.0], [2.0]]);
    /// assert!(BernoulliLogitGlm::new(x.clone(), &[1.0, 0.5]).is_err());
    /// assert!(BernoulliLogitGlm::new(x, &[1.0, 0.0]).is_ok());
    /// ```
    pub fn new(x: Arc<Array2<f64>>, y: &[f64]) -> Result<Self, DistError> {
        if y.len() != x.nrows() {
            return Err(DistError::ShapeMismatch {
                dist: NAME,
                what: "outcomes y against the rows of x",
                left: Shape::vector(y.len()),
                right: shape2(x.nrows(), x.ncols()),
            });
        }
        if let Some(&v) = y.iter().find(|&&v| v != 0.0 && v != 1.0) {
            return Err(DistError::InvalidParameter {
                dist: NAME,
                param: "y",
                value: v,
                reason: "must be 0 or 1",
            });
        }
        if let Some(&v) = x.iter().find(|v| !v.is_finite()) {
            return Err(DistError::InvalidParameter {
                dist: NAME,
                param: "x",
                value: v,
                reason: "must be finite",
            });
        }
        let x = if x.is_standard_layout() {
            x
        } else {
            Arc::new(x.as_standard_layout().into_owned())
        };
        let xt = Arc::new(x.t().iter().copied().collect());
        Ok(BernoulliLogitGlm {
            x,
            xt,
            y: y.to_vec(),
        })
    }

    /// The design matrix.
    pub fn x(&self) -> &Arc<Array2<f64>> {
        &self.x
    }

    /// The outcomes.
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    /// `Σᵢ log Bernoulli(yᵢ | logit = α + xᵢ·β)` on `beta`'s tape, differentiable in `beta`
    /// (k elements, any shape) and in the optional intercept `alpha`. A non-finite
    /// coefficient gives a NaN log density (and NaN gradients), which a sampler treats as a
    /// divergence.
    ///
    /// # Errors
    /// [`DistError::ShapeMismatch`] when `beta` does not have one element per column of `x`.
    ///
    /// # Panics
    /// If `alpha` belongs to another tape than `beta`.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::BernoulliLogitGlm;
    /// let x = std::sync::Arc::new(ndarray::array![[0.0], [0.0]]);
    /// let glm = BernoulliLogitGlm::new(x, &[1.0, 0.0])?;
    /// let tape = Tape::new();
    /// let (beta, alpha) = (tape.tensor(&ndarray::array![3.0]), tape.var(0.0));
    /// let lp = glm.log_prob(beta, Some(alpha))?;
    /// assert!((lp.value() - 2.0 * 0.5f64.ln()).abs() < 1e-15);
    /// lp.backward();
    /// assert_eq!(alpha.grad(), 0.0); // (1 − ½) + (0 − ½)
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn log_prob<'t>(
        &self,
        beta: Tensor<'t>,
        alpha: Option<Var<'t>>,
    ) -> Result<Var<'t>, DistError> {
        let k = self.x.ncols();
        if beta.numel() != k {
            return Err(self.beta_mismatch(beta.shape()));
        }
        if let Some(a) = alpha {
            assert!(
                std::ptr::eq(a.tape(), beta.tape()),
                "{NAME}::log_prob: alpha and beta belong to different tapes"
            );
        }
        let mut stack = [0.0f64; 2 * STACK_COEFS];
        let mut heap = Vec::new();
        let buf: &mut [f64] = if k <= STACK_COEFS {
            &mut stack[..2 * k]
        } else {
            heap.resize(2 * k, 0.0);
            &mut heap
        };
        let (b, g) = buf.split_at_mut(k);
        beta.value_into(b);
        let (lp, ga) = self.log_prob_and_grad(b, alpha.map_or(0.0, |a| a.value()), g)?;
        let ga = [ga];
        let tape = beta.tape();
        let out = match alpha {
            Some(al) => tape.scalar_with_gradients(lp, &[(beta, g), (al.as_tensor(), &ga)]),
            None => tape.scalar_with_gradients(lp, &[(beta, g)]),
        };
        out.map_err(|_| self.beta_mismatch(beta.shape()))
    }

    /// The same log-likelihood in plain `f64`, for a log density with a hand-written gradient
    /// (such as `infer_mcmc::models::LogReg`): returns the value and ∂/∂α, and writes
    /// ∂/∂β = Xᵀ(y − σ(α + Xβ)) into `grad_beta`.
    ///
    /// # Errors
    /// [`DistError::ShapeMismatch`] when `beta` or `grad_beta` does not have one element per
    /// column of `x`.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::BernoulliLogitGlm;
    /// let x = std::sync::Arc::new(ndarray::array![[1.0, 0.0], [0.0, 1.0]]);
    /// let glm = BernoulliLogitGlm::new(x, &[1.0, 0.0])?;
    /// let mut g = [0.0; 2];
    /// let (lp, d_alpha) = glm.log_prob_and_grad(&[0.0, 0.0], 0.0, &mut g)?;
    /// assert!((lp - 2.0 * 0.5f64.ln()).abs() < 1e-15);
    /// assert_eq!((g, d_alpha), ([0.5, -0.5], 0.0));
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn log_prob_and_grad(
        &self,
        beta: &[f64],
        alpha: f64,
        grad_beta: &mut [f64],
    ) -> Result<(f64, f64), DistError> {
        let k = self.x.ncols();
        for len in [beta.len(), grad_beta.len()] {
            if len != k {
                return Err(self.beta_mismatch(Shape::vector(len)));
            }
        }
        let xs = self.x.as_slice().unwrap_or(&[]);
        Ok(glm_dispatch(xs, &self.xt, &self.y, alpha, beta, grad_beta))
    }

    fn beta_mismatch(&self, got: Shape) -> DistError {
        DistError::ShapeMismatch {
            dist: NAME,
            what: "coefficients beta against the columns of x",
            left: got,
            right: shape2(self.x.nrows(), self.x.ncols()),
        }
    }
}

fn shape2(r: usize, c: usize) -> Shape {
    Shape::new(&[r, c]).unwrap_or(Shape::SCALAR)
}

/// [`glm_kernel`] compiled with AVX2 (four `f64` per vector instead of SSE2's two) when the
/// CPU has it. The crates target baseline x86-64 so that binaries run anywhere; the kernel's
/// loops are written with explicit independent accumulators and no fused multiply–add, so
/// every lane performs the same operations in the same order and the results are
/// bit-identical with and without AVX2 — the same seed gives the same draws on any machine.
fn glm_dispatch(
    x: &[f64],
    xt: &[f64],
    y: &[f64],
    alpha: f64,
    beta: &[f64],
    g: &mut [f64],
) -> (f64, f64) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            #[target_feature(enable = "avx2")]
            fn glm_kernel_avx2(
                x: &[f64],
                xt: &[f64],
                y: &[f64],
                alpha: f64,
                beta: &[f64],
                g: &mut [f64],
            ) -> (f64, f64) {
                glm_kernel(x, xt, y, alpha, beta, g)
            }
            // SAFETY: the only requirement of `glm_kernel_avx2` is a CPU with AVX2, which was
            // checked on the line above.
            #[allow(unsafe_code)]
            return unsafe { glm_kernel_avx2(x, xt, y, alpha, beta, g) };
        }
    }
    glm_kernel(x, xt, y, alpha, beta, g)
}

/// The value, `g = Xᵀ(y − σ(η))` and `Σ (y − σ(η))` for `η = α + Xβ`, in blocks of
/// [`BLOCK`] rows, with the loops shaped so that they vectorize and keep their accumulators
/// in registers:
/// - η over 16 rows at a time from the transposed design `xt` (k × n), one axpy per column;
/// - e = exp(−|η|) with [`infer_ad::fastmath::exp`], σ(η) = 1/(1 + e) or e/(1 + e), and the
///   log-likelihood y·η − max(η, 0) − ln(1 + e), whose logarithms are taken once per 32 rows
///   as the log of the product of the (1 + e) ∈ (1, 2] (no overflow: the product is ≤ 2³²);
/// - the gradient eight features at a time over the row-major `x`, two rows per step.
///
/// Called through [`glm_dispatch`].
#[inline(always)]
fn glm_kernel(
    x: &[f64],
    xt: &[f64],
    y: &[f64],
    alpha: f64,
    beta: &[f64],
    g: &mut [f64],
) -> (f64, f64) {
    const R: usize = 16;
    const F: usize = 8;
    let (n, k) = (y.len(), beta.len());
    g.fill(0.0);
    let (mut lin, mut ga) = ([0.0f64; 4], [0.0f64; 4]);
    let mut logs = 0.0;
    let mut eta = [0.0f64; BLOCK];
    let mut res = [0.0f64; BLOCK];
    let mut ope = [0.0f64; BLOCK];
    let mut r0 = 0;
    while r0 < n {
        let m = BLOCK.min(n - r0);
        // η, sixteen rows at a time held in registers
        let full = m - m % R;
        for i0 in (0..full).step_by(R) {
            let mut acc = [alpha; R];
            for (j, &b) in beta.iter().enumerate() {
                let col = &xt[j * n + r0 + i0..j * n + r0 + i0 + R];
                for l in 0..R {
                    acc[l] += b * col[l];
                }
            }
            eta[i0..i0 + R].copy_from_slice(&acc);
        }
        for (i, e) in eta.iter_mut().enumerate().take(m).skip(full) {
            *e = alpha;
            for (j, &b) in beta.iter().enumerate() {
                *e += b * xt[j * n + r0 + i];
            }
        }
        // link
        let ys = &y[r0..r0 + m];
        for i in 0..m {
            let h = eta[i];
            let e = exp(-h.abs());
            let one_e = 1.0 + e;
            let inv = 1.0 / one_e;
            let sigma = if h >= 0.0 { inv } else { e * inv };
            res[i] = ys[i] - sigma;
            ope[i] = one_e;
        }
        for ((eta_c, y_c), ope_c) in eta[..m]
            .chunks(32)
            .zip(ys.chunks(32))
            .zip(ope[..m].chunks(32))
        {
            // Element l goes to lane l % 4 (chunks of four, so that the loop vectorizes).
            let mut prod = [1.0f64; 4];
            let (mut e4, mut y4, mut o4) = (
                eta_c.chunks_exact(4),
                y_c.chunks_exact(4),
                ope_c.chunks_exact(4),
            );
            for ((h, yv), o) in (&mut e4).zip(&mut y4).zip(&mut o4) {
                for l in 0..4 {
                    lin[l] += yv[l] * h[l] - if h[l] > 0.0 { h[l] } else { 0.0 };
                    prod[l] *= o[l];
                }
            }
            let rest = e4
                .remainder()
                .iter()
                .zip(y4.remainder())
                .zip(o4.remainder());
            for (l, ((&h, &yv), &o)) in rest.enumerate() {
                lin[l] += yv * h - if h > 0.0 { h } else { 0.0 };
                prod[l] *= o;
            }
            logs += ((prod[0] * prod[1]) * (prod[2] * prod[3])).ln();
        }
        let mut r4 = res[..m].chunks_exact(4);
        for r in &mut r4 {
            for l in 0..4 {
                ga[l] += r[l];
            }
        }
        for (l, &r) in r4.remainder().iter().enumerate() {
            ga[l] += r;
        }
        // gradient, eight features at a time, two rows per step
        let full_f = k - k % F;
        let rows = &x[r0 * k..(r0 + m) * k];
        for c0 in (0..full_f).step_by(F) {
            let mut acc0 = [0.0f64; F];
            let mut acc1 = [0.0f64; F];
            let mut i = 0;
            while i + 1 < m {
                let (q0, q1) = (res[i], res[i + 1]);
                let x0 = &rows[i * k + c0..i * k + c0 + F];
                let x1 = &rows[(i + 1) * k + c0..(i + 1) * k + c0 + F];
                for l in 0..F {
                    acc0[l] += q0 * x0[l];
                    acc1[l] += q1 * x1[l];
                }
                i += 2;
            }
            if i < m {
                let x0 = &rows[i * k + c0..i * k + c0 + F];
                for l in 0..F {
                    acc0[l] += res[i] * x0[l];
                }
            }
            for l in 0..F {
                g[c0 + l] += acc0[l] + acc1[l];
            }
        }
        for (j, gj) in g.iter_mut().enumerate().skip(full_f) {
            let col = &xt[j * n + r0..j * n + r0 + m];
            *gj += col.iter().zip(&res[..m]).map(|(a, b)| a * b).sum::<f64>();
        }
        r0 += m;
    }
    let sum4 = |s: [f64; 4]| (s[0] + s[2]) + (s[1] + s[3]);
    (sum4(lin) - logs, sum4(ga))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The run-time-selected instance (AVX2 on a CPU that has it) and the baseline build of
    /// the kernel give bit-identical results, so draws do not depend on the machine.
    #[test]
    fn dispatch_is_bit_identical_to_the_baseline_kernel() {
        for (n, k) in [(150usize, 25usize), (37, 3), (64, 9), (5, 0)] {
            let x: Vec<f64> = (0..n * k)
                .map(|i| ((i * 7919 % 1009) as f64 / 1009.0 - 0.5) * 4.0)
                .collect();
            let mut xt = vec![0.0; n * k];
            for i in 0..n {
                for j in 0..k {
                    xt[j * n + i] = x[i * k + j];
                }
            }
            let y: Vec<f64> = (0..n).map(|i| f64::from(i % 3 == 0)).collect();
            let beta: Vec<f64> = (0..k).map(|j| 0.3 - 0.07 * j as f64).collect();
            let (mut g1, mut g2) = (vec![0.0; k], vec![0.0; k]);
            let a = glm_dispatch(&x, &xt, &y, 0.2, &beta, &mut g1);
            let b = glm_kernel(&x, &xt, &y, 0.2, &beta, &mut g2);
            assert_eq!(a.0.to_bits(), b.0.to_bits(), "value, n={n} k={k}");
            assert_eq!(a.1.to_bits(), b.1.to_bits(), "alpha gradient, n={n} k={k}");
            for (p, q) in g1.iter().zip(&g2) {
                assert_eq!(p.to_bits(), q.to_bits(), "beta gradient, n={n} k={k}");
            }
        }
    }
}
