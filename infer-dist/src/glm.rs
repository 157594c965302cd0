//! Fused generalized-linear-model likelihoods, each one tape node: logistic regression over
//! fixed outcomes ([`BernoulliLogitGlm`]); Stan's `bernoulli_logit_glm`, `poisson_log_glm`
//! and `normal_id_glm` as distributions over a [`GlmDesign`] (the `dist` module); and the
//! fast path of `Bernoulli::from_logits(data_matvec(x, β) + α).log_prob_sum(y)` (the
//! `affine` module). All share one blocked kernel, generic over the link ([`Link`]).

use crate::error::DistError;
use infer_ad::{Shape, Tensor, Var};
use ndarray::Array2;
use std::sync::Arc;

mod affine;
mod cache;
mod design;
mod dist;
mod kernel;
mod link;

pub(crate) use affine::{deferred_logits_finite, logit_affine_sum};
pub use design::GlmDesign;
pub use dist::{BernoulliLogitGlmDist, NormalIdGlmDist, PoissonLogGlmDist};
pub(crate) use kernel::{Blocked, FMA_BASELINE, LinkKind, glm_eval, sum_lanes, with_coefficients};
pub(crate) use link::{Link, Logit, Sums};

const NAME: &str = "BernoulliLogitGlm";

/// Rows processed per block: the linear predictors and residuals of one block live on the
/// stack, so a log density allocates nothing for up to [`STACK_COEFS`] coefficients, and a
/// block of the design (64·k values) stays in the L1 cache between the two products.
pub(crate) const BLOCK: usize = 64;
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
        let tape = beta.tape();
        let out = with_coefficients(beta, k, |b, g| {
            let (lp, ga) = self.eval(b, alpha.map_or(0.0, |a| a.value()), g);
            let ga = [ga];
            match alpha {
                Some(al) => tape.scalar_with_gradients(lp, &[(beta, g), (al.as_tensor(), &ga)]),
                None => tape.scalar_with_gradients(lp, &[(beta, g)]),
            }
        });
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

    /// The fused kernel ([`glm_eval`]) for the logit link: the log-likelihood and Σ (y − σ(η)),
    /// with `g` = Xᵀ(y − σ(η)). `beta` and `g` have one element per column of `x`.
    fn eval(&self, beta: &[f64], alpha: f64, g: &mut [f64]) -> (f64, f64) {
        glm_eval(self.xb.data(), &self.y, alpha, beta, g, LinkKind::Logit)
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
