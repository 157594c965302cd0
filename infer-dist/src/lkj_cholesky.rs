//! The LKJ distribution over Cholesky factors of correlation matrices.

use crate::special;
use crate::gamma::ln_standard_gamma;
use crate::util::{self, POSITIVE, positive};
use crate::{Constraint, DistError};
use infer_ad::{Shape, Tensor};
use ndarray::ArrayD;

crate::bind::family! {
    /// The LKJ distribution with concentration η > 0 over the lower Cholesky factors L of K×K
    /// correlation matrices (Stan's `lkj_corr_cholesky`, PyTorch's `LKJCholesky`): the density of
    /// L when LLᵀ ~ LKJ(η), p(Ω) ∝ det(Ω)^{η−1}, is
    ///
    /// ln p(L) = Σ_{k=2}^{K} (K − k + 2η − 2) ln L_kk − ln c_K(η),
    ///
    /// with the normalizer of Lewandowski, Kurowicka & Joe (2009, p. 1999), as PyTorch computes it
    /// (d = K − 1, α = η + d/2):
    ///
    /// ln c_K(η) = (d/2) ln π + ln Γ_d(α − ½) − d ln Γ(α),
    ///
    /// Γ_d the multivariate gamma function, ln Γ_d(a) = d(d − 1)/4 · ln π + Σ_{j=1}^{d} ln Γ(a + (1 − j)/2).
    /// The differences ln Γ(α − j/2) − ln Γ(α) are taken as single differences (Stirling's series
    /// for large η), so a large concentration loses no digits. η = 1 is uniform over correlation
    /// matrices; η > 1 favours the identity.
    ///
    /// The value is a K×K matrix (event shape `[K, K]`, row-major, the upper triangle zero);
    /// outside the support (not lower triangular, a non-positive diagonal, a row not of unit norm
    /// within 1e-8) the log density is −∞. Gradients flow to η and to the diagonal of L (the
    /// log density does not depend on the other entries). Batch shape: η's shape. No mean,
    /// variance or entropy (as PyTorch). Sampling by the onion method (Lewandowski et al. 2009,
    /// §3.2) on the Cholesky factor, as PyTorch and NumPyro vectorize it: row i of L (numbered
    /// from 0; row 0 is e₁) is √yᵢ·u on the strictly lower part and √(1 − yᵢ) on the diagonal, u
    /// uniform on the unit sphere in ℝⁱ and yᵢ ~ Beta(i/2, η + (K − 1 − i)/2). (NumPyro's
    /// first shape parameter is i/2 as in the paper; PyTorch 2.x uses i − ½, which agrees only for
    /// i = 1: its draws for K ≥ 3 do not have the LKJ marginals 2·Beta(η − 1 + K/2, η − 1 + K/2) − 1
    /// that the test of this sampler checks.)
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, LkjCholesky};
    /// let tape = Tape::new();
    /// // K = 2: L = [[1, 0], [r, √(1 − r²)]] and p(r) = (1 − r²)^{η−1} / (2^{2η−1} B(η, η));
    /// // at η = 1 the correlation r is uniform on (−1, 1)
    /// let d = LkjCholesky::new(2, tape.var(1.0))?;
    /// let (r, s) = (0.6, 0.8);
    /// let lp = d.log_prob(tape.constant(&ndarray::array![[1.0, 0.0], [r, s]]))?;
    /// assert!((lp.to_vec()[0] + 2f64.ln()).abs() < 1e-14);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// D. Lewandowski, D. Kurowicka, H. Joe (2009), "Generating random correlation matrices based
    /// on vines and extended onion method", J. Multivariate Analysis 100; Stan Functions Reference,
    /// `lkj_corr_cholesky`; PyTorch, `torch.distributions.LKJCholesky`.
    pub struct LkjCholesky / LkjCholeskyK {
        params: [concentration],
        extra: {dim: usize},
        name: "LKJCholesky",
        support: |_| Constraint::CholeskyFactorCorr,
    }
}

impl<'t> LkjCholesky<'t> {
    /// The LKJ distribution over Cholesky factors of `dim`×`dim` correlation matrices.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] naming `dim` when `dim` < 2 (as PyTorch; a 1×1 factor
    /// is the constant 1), or naming `concentration` for an element that is not finite and > 0.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::LkjCholesky::new(1, tape.var(1.0)).is_err());
    /// assert!(infer_dist::LkjCholesky::new(3, tape.var(0.0)).is_err());
    /// ```
    pub fn new(dim: usize, concentration: impl crate::IntoParam<'t>) -> Result<Self, DistError> {
        let [concentration] = crate::param::take_params!(NAME; concentration);
        if dim < 2 {
            return Err(DistError::InvalidParameter {
                dist: NAME,
                param: "dim",
                value: dim as f64,
                reason: "must be at least 2",
            });
        }
        util::check_param(NAME, "concentration", &concentration, positive, POSITIVE)?;
        let batch = concentration.shape()?;
        Ok(LkjCholesky {
            dim,
            concentration,
            batch,
        })
    }

    /// The dimension K of the correlation matrices.
    pub fn dim(&self) -> usize {
        self.dim
    }
}

impl<'t> LkjCholeskyK<'t> {
    /// The output shape of `log_prob(value)` and whether each K×K block is in the support.
    fn blocks(&self, value: Tensor<'t>) -> Result<(Shape, Vec<bool>), DistError> {
        util::same_tape(NAME, &[value, self.concentration])?;
        let k = self.dim;
        let d = value.dims();
        if d.len() < 2 || d[d.len() - 1] != k || d[d.len() - 2] != k {
            return Err(DistError::ShapeMismatch {
                dist: NAME,
                what: "value (the last two axes must be K×K)",
                left: value.shape(),
                right: Shape::new(&[k, k])?,
            });
        }
        let vb = Shape::new(&d[..d.len() - 2])?;
        let out = util::value_shape(NAME, vb, self.batch)?;
        let x = value.to_vec();
        let ok: Vec<bool> = x
            .chunks(k * k)
            .map(|m| Constraint::CholeskyFactorCorr.check_event(m))
            .collect();
        // the value's blocks broadcast to the output shape
        let ok = util::broadcast_slice(
            &ok.iter()
                .map(|&b| f64::from(u8::from(b)))
                .collect::<Vec<_>>(),
            vb,
            out,
        );
        Ok((out, ok.iter().map(|&b| b == 1.0).collect()))
    }
}

/// −ln c_K(η) and its derivative in η (see [`LkjCholesky`]).
fn neg_log_normalizer(k: usize, eta: f64) -> (f64, f64) {
    let d = (k - 1) as f64;
    let alpha = eta + 0.5 * d;
    let pi_terms = (0.5 * d + d * (d - 1.0) / 4.0) * std::f64::consts::PI.ln();
    // ln Γ_d(α − ½) − d ln Γ(α) = d(d − 1)/4 · ln π + Σ_{j=1}^{d} [ln Γ(α − j/2) − ln Γ(α)],
    // each bracket −lgamma_diff(α − j/2, j/2)
    let (mut v, mut dv) = (0.0, 0.0);
    for j in 1..k {
        let h = 0.5 * j as f64;
        v -= special::lgamma_diff(alpha - h, h);
        dv -= special::digamma_diff(alpha - h, h);
    }
    (-(pi_terms + v), -dv)
}

impl<'t> crate::bind::Kernel<'t> for LkjCholeskyK<'t> {

    fn event_shape(&self) -> Shape {
        Shape::new(&[self.dim, self.dim]).unwrap_or(Shape::SCALAR)
    }

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        let (out, ok) = self.blocks(value)?;
        let k = self.dim;
        let tape = value.tape();
        // the weight K − k of each diagonal element k ≥ 2 (1-based) and −1 elsewhere
        let mut order = vec![-1.0; k * k];
        for i in 1..k {
            order[i * k + i] = (k - 1 - i) as f64;
        }
        let order = util::constant(tape, Shape::new(&[k, k])?, order)?;
        let mut eta_dims = self.batch.dims().to_vec();
        eta_dims.extend([1, 1]);
        let eta = self.concentration.reshape(&eta_dims)?;
        let terms = tape.fused_map([value, eta, order], |_, [l, e, c]| {
            if c < 0.0 || !(l > 0.0) {
                // off the diagonal (or L₁₁): no term; a non-positive diagonal is masked below
                return (0.0, [0.0; 3]);
            }
            let w = c + 2.0 * (e - 1.0);
            let ln_l = l.ln();
            (w * ln_l, [w / l, 2.0 * ln_l, 0.0])
        })?;
        let nd = terms.ndim();
        let mut flat = terms.dims()[..nd - 2].to_vec();
        flat.push(k * k);
        let sums = terms.reshape(&flat)?.sum_axis(nd - 2)?;
        let ok = util::constant(
            tape,
            out,
            ok.iter().map(|&b| f64::from(u8::from(b))).collect(),
        )?;
        Ok(
            tape.fused_map([sums, self.concentration, ok], |_, [s, e, ok]| {
                if ok == 1.0 {
                    let (c, dc) = neg_log_normalizer(k, e);
                    (s + c, [1.0, dc, 0.0])
                } else {
                    (f64::NEG_INFINITY, [0.0; 3])
                }
            })?,
        )
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let k = self.dim;
        let etas = self.concentration.to_vec();
        let mut x = Vec::with_capacity(etas.len() * k * k);
        for &eta in &etas {
            let start = x.len();
            x.resize(start + k * k, 0.0);
            let m = &mut x[start..];
            m[0] = 1.0;
            for i in 1..k {
                // yᵢ ~ Beta(i/2, η + (K − 1 − i)/2) from two log-gamma draws; 1 − yᵢ from
                // the same draws (no cancellation near y = 1)
                let a = 0.5 * i as f64;
                let b = eta + 0.5 * (k - 1 - i) as f64;
                let (la, lb) = (
                    ln_standard_gamma(rng, a, NAME)?,
                    ln_standard_gamma(rng, b, NAME)?,
                );
                let y = sigmoid(la - lb);
                let y1 = sigmoid(lb - la).max(f64::MIN_POSITIVE);
                // u uniform on the sphere Sⁱ⁻¹ (a zero normal vector, probability 0, is redrawn)
                let u = loop {
                    let u = util::normals(rng, i);
                    let norm = u.iter().map(|v| v * v).sum::<f64>().sqrt();
                    if norm > 0.0 && norm.is_finite() {
                        break u.into_iter().map(|v| v / norm).collect::<Vec<_>>();
                    }
                };
                let sy = y.sqrt();
                for (j, uj) in u.iter().enumerate() {
                    m[i * k + j] = sy * uj;
                }
                m[i * k + i] = y1.sqrt();
            }
        }
        let mut dims = self.batch.dims().to_vec();
        dims.extend([k, k]);
        util::draws(NAME, Shape::new(&dims)?, x)
    }
}

/// 1/(1 + e^{−t}), without overflow.
fn sigmoid(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}
