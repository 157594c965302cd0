//! Fused generalized-linear-model likelihoods, each one tape node: logistic regression over
//! fixed outcomes ([`BernoulliLogitGlm`]); Stan's `bernoulli_logit_glm`, `poisson_log_glm`
//! and `normal_id_glm` as distributions over a [`GlmDesign`] (the `dist` module); and the
//! fast path of `Bernoulli::from_logits(data_matvec(x, β) + α).log_prob_sum(y)` (the
//! `affine` module). All share one blocked kernel, generic over the link ([`Link`]).

use crate::error::DistError;
use infer_ad::fastmath::{exp_normal, mad};
use infer_ad::{Shape, Tensor, Var};
use ndarray::Array2;
use std::sync::Arc;

mod affine;
mod dist;

pub(crate) use affine::logit_affine_sum;
pub use dist::{BernoulliLogitGlmDist, GlmDesign, NormalIdGlmDist, PoissonLogGlmDist};

const NAME: &str = "BernoulliLogitGlm";

/// Rows processed per block: the linear predictors and residuals of one block live on the
/// stack, so a log density allocates nothing for up to [`STACK_COEFS`] coefficients, and a
/// block of the design (64·k values) stays in the L1 cache between the two products.
const BLOCK: usize = 64;
/// Lanes of the kernel's explicit accumulators (one AVX-512 vector, two AVX2 vectors).
pub(crate) const L: usize = 8;
/// Coefficient vectors up to this length are handled in stack buffers.
pub(crate) const STACK_COEFS: usize = 64;

/// The logistic-regression likelihood `Σᵢ log Bernoulli(yᵢ | logit = α + xᵢ·β)` over a fixed
/// design matrix `X` (n × k) and outcomes `y ∈ {0, 1}ⁿ`, recorded as **one** tape node whose
/// gradient `∂/∂β = Xᵀ(y − σ(η))`, `∂/∂α = Σᵢ (yᵢ − σ(ηᵢ))` is computed in the same pass as
/// the value — Stan's `bernoulli_logit_glm_lpmf` idea. Against the generic formulation
/// (`Tape::data_matvec` followed by a Bernoulli-logits log density) it stores nothing per row
/// on the tape and runs loops shaped to vectorize (AVX-512 or AVX2 with fused multiply–add,
/// chosen at run time, with the same results on every CPU that has FMA), with the vectorizable
/// [`infer_ad::fastmath::exp_normal`], which makes a logistic-regression gradient as cheap as the
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
    /// `x` in blocks of [`BLOCK`] rows, each block stored column by column (see
    /// [`blocked`]): both products run along rows, so they vectorize over observations, and
    /// each block is read from memory once per evaluation.
    xb: Arc<Blocked>,
    y: Vec<f64>,
}

impl BernoulliLogitGlm {
    /// The likelihood of outcomes `y` (each 0 or 1) given the design matrix `x` (one row per
    /// outcome). A copy of `x` in the layout the kernel reads (and a row-major one, if `x` is
    /// not in standard layout) is made once here.
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
        let (x, xb) = design(NAME, x)?;
        let xb = Arc::new(xb);
        Ok(BernoulliLogitGlm {
            x,
            xb,
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
        let (lp, ga) = self.eval(b, alpha.map_or(0.0, |a| a.value()), g);
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
        Ok(self.eval(beta, alpha, grad_beta))
    }

    /// [`glm_dispatch`] with its lane accumulators on the stack (on the heap for more than
    /// [`STACK_COEFS`] coefficients). `beta` and `g` have one element per column of `x`.
    fn eval(&self, beta: &[f64], alpha: f64, g: &mut [f64]) -> (f64, f64) {
        let k = beta.len();
        let mut stack = [[0.0f64; L]; STACK_COEFS];
        let mut heap = Vec::new();
        let lanes: &mut [[f64; L]] = if k <= STACK_COEFS {
            &mut stack[..k]
        } else {
            heap.resize(k, [0.0; L]);
            &mut heap
        };
        glm_dispatch(
            self.xb.data(),
            &self.y,
            alpha,
            beta,
            g,
            lanes,
            LinkKind::Logit,
        )
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

pub(crate) fn shape2(r: usize, c: usize) -> Shape {
    Shape::new(&[r, c]).unwrap_or(Shape::SCALAR)
}

/// The design matrix checked (every entry finite, else [`DistError::InvalidParameter`] naming
/// `dist`), in standard layout, and its blocked copy for the kernel.
pub(crate) fn design(
    dist: &'static str,
    x: Arc<Array2<f64>>,
) -> Result<(Arc<Array2<f64>>, Blocked), DistError> {
    if let Some(&v) = x.iter().find(|v| !v.is_finite()) {
        return Err(DistError::InvalidParameter {
            dist,
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
    let xb = Blocked::new(&x);
    Ok((x, xb))
}

/// The design matrix in the kernel's layout: blocks of [`BLOCK`] rows (the last block may be
/// shorter), each block stored column by column, each column of a block padded with zeros to
/// a multiple of [`L`] rows, and the whole on a 64-byte boundary — so that every column of
/// every block starts on a cache line, and vector loads never straddle two lines (which
/// halves the load throughput of the kernel's inner loops). Element (r₀ + i, j) of the block
/// of `m` rows starting at row r₀ is at `r₀·k + j·s + i`, `s` = `m` rounded up to a multiple
/// of [`L`] (only the last block has `s` ≠ [`BLOCK`]).
#[derive(Debug)]
pub(crate) struct Blocked {
    /// The layout and `L − 1` spare elements, in which the layout starts at `off`.
    buf: Vec<f64>,
    /// Index of the first element in `buf`: the first on a 64-byte boundary.
    off: usize,
}

impl Blocked {
    pub(crate) fn new(x: &Array2<f64>) -> Self {
        let (n, k) = x.dim();
        let len = (n / BLOCK * BLOCK + (n % BLOCK).next_multiple_of(L)) * k;
        // L − 1 spare elements: an f64 buffer is 8-byte aligned, so a 64-byte boundary lies
        // within its first eight elements.
        let mut buf = vec![0.0; len + L - 1];
        let off = (buf.as_ptr() as usize).wrapping_neg() % 64 / 8;
        for r0 in (0..n).step_by(BLOCK) {
            let m = BLOCK.min(n - r0);
            let stride = m.next_multiple_of(L);
            for j in 0..k {
                let col = &mut buf[off + r0 * k + j * stride..][..m];
                for (i, c) in col.iter_mut().enumerate() {
                    *c = x[[r0 + i, j]];
                }
            }
        }
        Blocked { buf, off }
    }

    pub(crate) fn data(&self) -> &[f64] {
        &self.buf[self.off..self.off + self.buf.len() + 1 - L]
    }
}

/// Rows of one block, on a cache-line boundary like the design's columns.
#[repr(align(64))]
struct BlockRows([f64; BLOCK]);

/// Whether the baseline (not run-time selected) build of [`glm_kernel`] uses fused
/// multiply–adds: where the compilation target guarantees FMA instructions.
pub(crate) const FMA_BASELINE: bool = cfg!(any(target_feature = "fma", target_arch = "aarch64"));

/// [`glm_kernel`] in the best instance the CPU runs: with AVX-512 (eight `f64` per vector)
/// or AVX2 (four), both with fused multiply–add, selected at run time; the crates target
/// baseline x86-64 so that binaries run anywhere.
///
/// **Reproducibility.** The kernel's accumulators are explicit lanes, so every instance
/// performs the same operations in the same order, and a fused multiply–add is rounded once
/// whatever instruction computes it: the AVX-512, AVX2 and baseline instances give
/// bit-identical results on every CPU with FMA (x86-64 since 2013, all aarch64), so the same
/// seed gives the same draws there. On an x86-64 CPU without FMA the kernel multiplies and
/// adds separately (a library `fma` would be some twenty times slower), and results differ
/// in the last bits.
pub(crate) fn glm_dispatch(
    xb: &[f64],
    y: &[f64],
    alpha: f64,
    beta: &[f64],
    g: &mut [f64],
    lanes: &mut [[f64; L]],
    link: LinkKind,
) -> (f64, f64) {
    // One instance of the fused kernel per instruction set: `R` rows of η in registers.
    infer_ad::with_target_features!(
        ["avx512f", "avx2", "fma"],
        kernel_avx512(xb: &[f64], y: &[f64], alpha: f64, beta: &[f64], g: &mut [f64], lanes: &mut [[f64; L]], link: LinkKind) -> (f64, f64) {
            glm_kernel_any::<true, 64>(xb, y, alpha, beta, g, lanes, link)
        }
    );
    infer_ad::with_target_features!(
        ["avx2", "fma"],
        kernel_avx2(xb: &[f64], y: &[f64], alpha: f64, beta: &[f64], g: &mut [f64], lanes: &mut [[f64; L]], link: LinkKind) -> (f64, f64) {
            glm_kernel_any::<true, 32>(xb, y, alpha, beta, g, lanes, link)
        }
    );
    glm_kernel_any::<FMA_BASELINE, 16>(xb, y, alpha, beta, g, lanes, link)
}

/// The family of a GLM kernel: which [`Link`] [`glm_kernel`] applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkKind {
    /// Bernoulli with the logit link ([`Logit`]).
    Logit,
    /// Poisson with the log link ([`LogLink`]).
    Log,
    /// Normal with the identity link ([`Identity`]).
    Identity,
}

/// [`glm_kernel`] for the link `link`, chosen once per call (each instance is compiled
/// with the caller's target features).
#[inline(always)]
fn glm_kernel_any<const FUSED: bool, const R: usize>(
    xb: &[f64],
    y: &[f64],
    alpha: f64,
    beta: &[f64],
    g: &mut [f64],
    lanes: &mut [[f64; L]],
    link: LinkKind,
) -> (f64, f64) {
    match link {
        LinkKind::Logit => glm_kernel::<FUSED, R, Logit>(xb, y, alpha, beta, g, lanes),
        LinkKind::Log => glm_kernel::<FUSED, R, LogLink>(xb, y, alpha, beta, g, lanes),
        LinkKind::Identity => glm_kernel::<FUSED, R, Identity>(xb, y, alpha, beta, g, lanes),
    }
}

/// For `η = α + Xβ` and the link's residuals `r` (see [`Link`]): the link's value,
/// `g = Xᵀr` and `Σ r` — for the logit link the log-likelihood, `Xᵀ(y − σ(η))` and
/// `Σ (y − σ(η))` — one block of
/// [`BLOCK`] rows at a time from the blocked design `xb` (see [`Blocked`]), so that a block
/// is fetched from memory once and read a second time from cache. Full blocks go through
/// [`glm_block`] with the row count a constant, so that its loops compile to straight-line
/// vector code; the last, shorter block through the same function with the row count
/// known at run time. Called through [`glm_dispatch`]; `lanes` holds one accumulator per
/// coefficient.
#[inline(always)]
fn glm_kernel<const FUSED: bool, const R: usize, K: Link>(
    xb: &[f64],
    y: &[f64],
    alpha: f64,
    beta: &[f64],
    g: &mut [f64],
    lanes: &mut [[f64; L]],
) -> (f64, f64) {
    let (n, k) = (y.len(), beta.len());
    let lanes = &mut lanes[..k];
    lanes.fill([0.0; L]);
    let mut acc = Sums {
        lin: [0.0; L],
        ga: [0.0; L],
        logs: 0.0,
    };
    let mut rows = [
        BlockRows([0.0; BLOCK]),
        BlockRows([0.0; BLOCK]),
        BlockRows([0.0; BLOCK]),
    ];
    let mut r0 = 0;
    while r0 < n {
        let m = BLOCK.min(n - r0);
        let blk = &xb[r0 * k..r0 * k + m.next_multiple_of(L) * k];
        let ys = &y[r0..r0 + m];
        if m == BLOCK {
            glm_block::<FUSED, R, K>(BLOCK, blk, ys, alpha, beta, lanes, &mut rows, &mut acc);
        } else {
            glm_block::<FUSED, R, K>(m, blk, ys, alpha, beta, lanes, &mut rows, &mut acc);
        }
        r0 += m;
    }
    for (gj, a) in g.iter_mut().zip(lanes.iter()) {
        *gj = sum_lanes(a);
    }
    (sum_lanes(&acc.lin) - acc.logs, sum_lanes(&acc.ga))
}

/// The kernel's running sums: lanes of the link's value part (for the logit link the
/// log-likelihood's linear part y·η − max(η, 0)) and of the residuals, and the sum of the
/// logarithms (logit link only).
pub(crate) struct Sums {
    lin: [f64; L],
    ga: [f64; L],
    logs: f64,
}

/// One block of `m` ≤ [`BLOCK`] rows (column stride `m` rounded up to [`L`]):
/// - ηᵢ = α + Σⱼ βⱼxᵢⱼ as a chain of multiply–adds in the order of j, `R` rows at a time with
///   the accumulators in registers (then 8 rows, then single rows; the grouping does not
///   change any row's chain, so `R` does not change the result);
/// - the residuals and the terms of the value by the link `K` (see [`Link`]);
/// - gⱼ as the dot product of column j with the residuals, row i of the block into lane
///   i mod 8 of column j's accumulator (summed by [`sum_lanes`] at the end).
///
/// `rows` is scratch for η, the residuals and the link's own use.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn glm_block<const FUSED: bool, const R: usize, K: Link>(
    m: usize,
    blk: &[f64],
    ys: &[f64],
    alpha: f64,
    beta: &[f64],
    lanes: &mut [[f64; L]],
    rows: &mut [BlockRows; 3],
    acc: &mut Sums,
) {
    let m_ = mad::<FUSED>;
    let s = m.next_multiple_of(L);
    let full = m - m % L;
    let [eta, res, ope] = rows;
    let (eta, res, ope) = (&mut eta.0[..m], &mut res.0[..m], &mut ope.0[..m]);
    let ys = &ys[..m];
    // η: R rows, then L rows, then single rows at a time
    let mut i0 = 0;
    while i0 + R <= m {
        let mut a = [alpha; R];
        for (j, &b) in beta.iter().enumerate() {
            let col = &blk[j * s + i0..j * s + i0 + R];
            for l in 0..R {
                a[l] = m_(b, col[l], a[l]);
            }
        }
        eta[i0..i0 + R].copy_from_slice(&a);
        i0 += R;
    }
    while i0 + L <= m {
        let mut a = [alpha; L];
        for (j, &b) in beta.iter().enumerate() {
            let col = &blk[j * s + i0..j * s + i0 + L];
            for l in 0..L {
                a[l] = m_(b, col[l], a[l]);
            }
        }
        eta[i0..i0 + L].copy_from_slice(&a);
        i0 += L;
    }
    for (i, e) in eta.iter_mut().enumerate().skip(i0) {
        *e = alpha;
        for (j, &b) in beta.iter().enumerate() {
            *e = m_(b, blk[j * s + i], *e);
        }
    }
    K::link::<FUSED>(eta, ys, res, ope, acc);
    // gradient, a column at a time; consecutive columns are independent chains, which the
    // CPU overlaps
    for (j, a) in lanes.iter_mut().enumerate() {
        let col = &blk[j * s..j * s + m];
        let mut v = *a;
        for i0 in (0..full).step_by(L) {
            for l in 0..L {
                v[l] = m_(col[i0 + l], res[i0 + l], v[l]);
            }
        }
        for i in full..m {
            v[i - full] = m_(col[i], res[i], v[i - full]);
        }
        *a = v;
    }
}

/// The family-specific part of the GLM kernel, per block of `m` = `eta.len()` rows: from the
/// linear predictors `eta` and outcomes `ys`, the residuals `res` (∂ log p/∂η), whose
/// products with the design's columns give the gradient, and the terms of the value, added
/// into `acc`, row i of the block into lane i mod [`L`]. `ope` is scratch.
pub(crate) trait Link {
    /// See the trait.
    fn link<const FUSED: bool>(
        eta: &[f64],
        ys: &[f64],
        res: &mut [f64],
        ope: &mut [f64],
        acc: &mut Sums,
    );
}

/// Bernoulli with the logit link: e = e^(−|η|) by [`exp_normal`], σ(η) = 1/(1 + e) or
/// e/(1 + e), residual y − σ(η), and the log-likelihood y·η − max(η, 0) − ln(1 + e), whose
/// logarithm is taken once per block as the log of the product of the (1 + e) ∈ (1, 2] (at
/// most 2⁶⁴, no overflow).
pub(crate) struct Logit;

impl Link for Logit {
    #[inline(always)]
    fn link<const FUSED: bool>(
        eta: &[f64],
        ys: &[f64],
        res: &mut [f64],
        ope: &mut [f64],
        acc: &mut Sums,
    ) {
        let m = eta.len();
        let (ys, res, ope) = (&ys[..m], &mut res[..m], &mut ope[..m]);
        let full = m - m % L;
        for i in 0..m {
            let h = eta[i];
            let e = exp_normal::<FUSED>(-h.abs());
            let one_e = 1.0 + e;
            let inv = 1.0 / one_e;
            let sigma = if h >= 0.0 { inv } else { e * inv };
            res[i] = ys[i] - sigma;
            ope[i] = one_e;
        }
        // row i of the block goes to lane i mod L
        let mut prod = [1.0f64; L];
        for i0 in (0..full).step_by(L) {
            for l in 0..L {
                let h = eta[i0 + l];
                acc.lin[l] += ys[i0 + l] * h - if h > 0.0 { h } else { 0.0 };
                prod[l] *= ope[i0 + l];
                acc.ga[l] += res[i0 + l];
            }
        }
        for i in full..m {
            let (h, l) = (eta[i], i - full);
            acc.lin[l] += ys[i] * h - if h > 0.0 { h } else { 0.0 };
            prod[l] *= ope[i];
            acc.ga[l] += res[i];
        }
        acc.logs += (((prod[0] * prod[1]) * (prod[2] * prod[3]))
            * ((prod[4] * prod[5]) * (prod[6] * prod[7])))
            .ln();
    }
}

/// Poisson with the log link: μ = e^η by [`exp_normal`] (∞ above η = 709, where e^η
/// overflows), residual y − μ, and the log-likelihood's parameter-dependent part y·η − μ
/// (the −ln(y!) terms are constant in the parameters and added by the caller).
pub(crate) struct LogLink;

impl Link for LogLink {
    #[inline(always)]
    fn link<const FUSED: bool>(
        eta: &[f64],
        ys: &[f64],
        res: &mut [f64],
        ope: &mut [f64],
        acc: &mut Sums,
    ) {
        let m = eta.len();
        let (ys, res, ope) = (&ys[..m], &mut res[..m], &mut ope[..m]);
        let full = m - m % L;
        for i in 0..m {
            let h = eta[i];
            let e = exp_normal::<FUSED>(h);
            let mu = if h > 709.0 { f64::INFINITY } else { e };
            res[i] = ys[i] - mu;
            ope[i] = mu;
        }
        for i0 in (0..full).step_by(L) {
            for l in 0..L {
                acc.lin[l] += mad::<FUSED>(ys[i0 + l], eta[i0 + l], -ope[i0 + l]);
                acc.ga[l] += res[i0 + l];
            }
        }
        for i in full..m {
            let l = i - full;
            acc.lin[l] += mad::<FUSED>(ys[i], eta[i], -ope[i]);
            acc.ga[l] += res[i];
        }
    }
}

/// Normal with the identity link: residual y − η (the caller divides by σ²) and the sum of
/// squared residuals.
pub(crate) struct Identity;

impl Link for Identity {
    #[inline(always)]
    fn link<const FUSED: bool>(
        eta: &[f64],
        ys: &[f64],
        res: &mut [f64],
        _ope: &mut [f64],
        acc: &mut Sums,
    ) {
        let m = eta.len();
        let (ys, res) = (&ys[..m], &mut res[..m]);
        let full = m - m % L;
        for i in 0..m {
            res[i] = ys[i] - eta[i];
        }
        for i0 in (0..full).step_by(L) {
            for l in 0..L {
                let r = res[i0 + l];
                acc.lin[l] = mad::<FUSED>(r, r, acc.lin[l]);
                acc.ga[l] += r;
            }
        }
        for i in full..m {
            let (r, l) = (res[i], i - full);
            acc.lin[l] = mad::<FUSED>(r, r, acc.lin[l]);
            acc.ga[l] += r;
        }
    }
}

/// The sum of eight lanes as a fixed tree.
#[inline(always)]
pub(crate) fn sum_lanes(s: &[f64; L]) -> f64 {
    ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(n: usize, k: usize) -> (Array2<f64>, Vec<f64>, Vec<f64>) {
        let x = Array2::from_shape_fn((n, k), |(i, j)| {
            (((i * k + j) * 7919 % 1009) as f64 / 1009.0 - 0.5) * 4.0
        });
        let y: Vec<f64> = (0..n).map(|i| f64::from(i % 3 == 0)).collect();
        let beta: Vec<f64> = (0..k).map(|j| 0.3 - 0.07 * j as f64).collect();
        (x, y, beta)
    }

    /// Value, ∂/∂α and ∂/∂β in plain row-by-row f64, the definition written out.
    fn reference(x: &Array2<f64>, y: &[f64], alpha: f64, beta: &[f64]) -> (f64, f64, Vec<f64>) {
        let (mut lp, mut ga, mut g) = (0.0, 0.0, vec![0.0; beta.len()]);
        for (row, &yi) in x.rows().into_iter().zip(y) {
            let h = alpha + row.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>();
            let s = 1.0 / (1.0 + (-h).exp());
            lp += yi * h - h.max(0.0) - (-h.abs()).exp().ln_1p();
            ga += yi - s;
            for (gj, xj) in g.iter_mut().zip(row) {
                *gj += (yi - s) * xj;
            }
        }
        (lp, ga, g)
    }

    fn run<const FUSED: bool>(x: &Array2<f64>, y: &[f64], beta: &[f64]) -> (f64, f64, Vec<f64>) {
        let xb = Blocked::new(x);
        let xb = xb.data();
        let mut g = vec![0.0; beta.len()];
        let mut lanes = vec![[0.0; L]; beta.len()];
        let (lp, ga) = glm_kernel::<FUSED, 16, Logit>(xb, y, 0.2, beta, &mut g, &mut lanes);
        (lp, ga, g)
    }

    const SHAPES: [(usize, usize); 6] =
        [(150, 25), (37, 3), (64, 9), (5, 0), (1000, 25), (130, 70)];

    /// The run-time-selected instance (AVX-512 or AVX2 with FMA on a CPU that has them) and
    /// the baseline build of the kernel with fused multiply–adds give bit-identical results,
    /// so draws do not depend on the machine; each row group size gives the same bits too.
    #[test]
    fn dispatch_is_bit_identical_to_the_baseline_kernel() {
        for (n, k) in SHAPES {
            let (x, y, beta) = case(n, k);
            let xb = Blocked::new(&x);
            let xb = xb.data();
            let mut g1 = vec![0.0; k];
            let mut lanes = vec![[0.0; L]; k];
            let a = glm_dispatch(xb, &y, 0.2, &beta, &mut g1, &mut lanes, LinkKind::Logit);
            // The dispatch fuses wherever the CPU has FMA; a baseline x86-64 CPU without it
            // takes the unfused kernel.
            #[cfg(target_arch = "x86_64")]
            let fused = FMA_BASELINE || std::arch::is_x86_feature_detected!("fma");
            #[cfg(not(target_arch = "x86_64"))]
            let fused = FMA_BASELINE;
            let mut g3 = vec![0.0; k];
            let (b, c) = if fused {
                let c = glm_kernel::<true, 64, Logit>(xb, &y, 0.2, &beta, &mut g3, &mut lanes);
                (run::<true>(&x, &y, &beta), c)
            } else {
                let c = glm_kernel::<false, 64, Logit>(xb, &y, 0.2, &beta, &mut g3, &mut lanes);
                (run::<false>(&x, &y, &beta), c)
            };
            let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            for (other, g) in [((b.0, b.1), &b.2), (c, &g3)] {
                assert_eq!(a.0.to_bits(), other.0.to_bits(), "value, n={n} k={k}");
                assert_eq!(
                    a.1.to_bits(),
                    other.1.to_bits(),
                    "alpha gradient, n={n} k={k}"
                );
                assert_eq!(bits(&g1), bits(g), "beta gradient, n={n} k={k}");
            }
        }
    }

    /// Fused and unfused kernels agree with the definition evaluated row by row with std's
    /// `exp` and `ln_1p`: relative error ≤ 1e-12 of the magnitude of the terms summed
    /// (rounding differences only; a wrong index or lane would be off by O(1)).
    #[test]
    fn both_kernels_match_the_definition() {
        for (n, k) in SHAPES {
            let (x, y, beta) = case(n, k);
            let (lp, ga, g) = reference(&x, &y, 0.2, &beta);
            let scale = (n * (k + 1)) as f64 * 10.0;
            for (name, got) in [
                ("fused", run::<true>(&x, &y, &beta)),
                ("plain", run::<false>(&x, &y, &beta)),
            ] {
                assert!(
                    (got.0 - lp).abs() <= 1e-12 * scale,
                    "{name} value {} vs {lp}, n={n} k={k}",
                    got.0
                );
                assert!(
                    (got.1 - ga).abs() <= 1e-12 * scale,
                    "{name} alpha gradient, n={n} k={k}"
                );
                for (j, (a, b)) in got.2.iter().zip(&g).enumerate() {
                    assert!(
                        (a - b).abs() <= 1e-12 * scale,
                        "{name} beta[{j}] {a} vs {b}, n={n} k={k}"
                    );
                }
            }
        }
    }

    #[test]
    fn blocked_layout_places_each_element() {
        let x = Array2::from_shape_fn((70, 3), |(i, j)| (i * 10 + j) as f64);
        let b = Blocked::new(&x);
        let xb = b.data();
        assert_eq!(xb.as_ptr() as usize % 64, 0);
        // second block: rows 64..70 (m = 6, column stride 8), element (66, 2) at 64·3 + 2·8 + 2
        assert_eq!(xb.len(), 64 * 3 + 8 * 3);
        assert_eq!(xb[64 * 3 + 2 * 8 + 2], 662.0);
        assert_eq!(xb[64 * 3 + 8 + 6], 0.0); // padding after (69, 1)
        assert_eq!(xb[5], 50.0); // first block: (5, 0)
        assert_eq!(xb[64 + 1], 11.0); // (1, 1)
    }
}
