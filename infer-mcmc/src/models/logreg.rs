//! Bayesian logistic regression with a standard-normal prior (`logreg`: N = 1000, D = 25).

use crate::density::LogDensity;
use crate::error::{LogDensityError, McmcError};
use infer_ad::fastmath::exp;

/// β ∈ ℝᴰ, β ~ N(0, I), yᵢ ~ Bernoulli(σ(xᵢ·β)):
///
/// log p(β) = Σᵢ [yᵢ ηᵢ − log(1 + e^ηᵢ)] − ½ βᵀβ,  ∇ log p = Xᵀ(y − σ(Xβ)) − β,  η = Xβ.
///
/// X is stored twice, feature-major (η = Xβ sixteen rows at a time in registers) and row-major
/// (Xᵀr eight features at a time in registers); the N softplus and sigmoid terms share one vectorizable e^(−|η|) each
/// ([`infer_ad::fastmath::exp`]), and the
/// logarithms are taken once per 32 rows of a product of factors in (1, 2].
///
/// # Examples
///
/// ```
/// use infer_mcmc::{LogDensity, models::LogReg};
///
/// let mut m = LogReg::new(vec![1.0, 0.0, 0.0, 1.0], vec![1.0, 0.0], 2)?;
/// let mut g = [0.0; 2];
/// let lp = m.logp_and_grad(&[0.0, 0.0], &mut g)?;
/// assert!((lp - 2.0 * 0.5f64.ln()).abs() < 1e-12);
/// assert_eq!(g, [0.5, -0.5]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct LogReg {
    /// X, row-major N × D.
    x: Vec<f64>,
    /// Xᵀ, row-major D × N.
    xt: Vec<f64>,
    y: Vec<f64>,
    n: usize,
    d: usize,
    eta: Vec<f64>,
    resid: Vec<f64>,
    one_plus_e: Vec<f64>,
}

impl LogReg {
    /// From a row-major design matrix `x` (N × `n_features`) and 0/1 outcomes `y` (length N).
    ///
    /// # Errors
    ///
    /// [`McmcError::DimensionMismatch`] if the lengths disagree;
    /// [`McmcError::InvalidSetting`] for an outcome other than 0 or 1 or a non-finite
    /// covariate.
    pub fn new(x: Vec<f64>, y: Vec<f64>, n_features: usize) -> Result<Self, McmcError> {
        let n = y.len();
        let d = n_features;
        if x.len() != n * d {
            return Err(McmcError::DimensionMismatch {
                name: "x",
                expected: n * d,
                found: x.len(),
            });
        }
        for &v in &y {
            crate::error::check(v == 0.0 || v == 1.0, "y", v, "0 or 1")?;
        }
        for &v in &x {
            crate::error::check(v.is_finite(), "x", v, "finite")?;
        }
        let mut xt = vec![0.0; n * d];
        for i in 0..n {
            for j in 0..d {
                xt[j * n + i] = x[i * d + j];
            }
        }
        Ok(Self {
            x,
            xt,
            y,
            n,
            d,
            eta: vec![0.0; n],
            resid: vec![0.0; n],
            one_plus_e: vec![0.0; n],
        })
    }

    /// From the rows of the design matrix.
    ///
    /// # Errors
    ///
    /// As [`LogReg::new`], and [`McmcError::DimensionMismatch`] for ragged rows.
    pub fn from_rows(rows: &[Vec<f64>], y: Vec<f64>) -> Result<Self, McmcError> {
        let d = rows.first().map_or(0, Vec::len);
        let mut x = Vec::with_capacity(rows.len() * d);
        for r in rows {
            if r.len() != d {
                return Err(McmcError::DimensionMismatch {
                    name: "x row",
                    expected: d,
                    found: r.len(),
                });
            }
            x.extend_from_slice(r);
        }
        Self::new(x, y, d)
    }

    /// Number of observations N.
    #[must_use]
    pub fn num_obs(&self) -> usize {
        self.n
    }
}

impl LogDensity for LogReg {
    fn dim(&self) -> usize {
        self.d
    }

    fn param_names(&self) -> Vec<String> {
        (1..=self.d).map(|i| format!("beta[{i}]")).collect()
    }

    fn logp_and_grad(&mut self, beta: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        let (n, d) = (self.n, self.d);
        let beta = &beta[..d];
        let grad = &mut grad[..d];
        let eta = &mut self.eta[..n];
        let resid = &mut self.resid[..n];
        let ope = &mut self.one_plus_e[..n];
        let y = &self.y[..n];

        // η = Xβ, sixteen rows at a time held in registers, columns contiguous.
        const B: usize = 16;
        let full = n - n % B;
        for i0 in (0..full).step_by(B) {
            let mut acc = [0.0f64; B];
            for j in 0..d {
                let b = beta[j];
                let x = &self.xt[j * n + i0..j * n + i0 + B];
                for k in 0..B {
                    acc[k] += b * x[k];
                }
            }
            eta[i0..i0 + B].copy_from_slice(&acc);
        }
        for i in full..n {
            let mut s = 0.0;
            for j in 0..d {
                s += beta[j] * self.xt[j * n + i];
            }
            eta[i] = s;
        }
        // e = exp(−|η|); σ(η) = 1/(1+e) for η ≥ 0, e/(1+e) otherwise; r = y − σ(η).
        for i in 0..n {
            let h = eta[i];
            let e = exp(-h.abs());
            let one_e = 1.0 + e;
            let inv = 1.0 / one_e;
            let sigma = if h >= 0.0 { inv } else { e * inv };
            resid[i] = y[i] - sigma;
            ope[i] = one_e;
        }
        // log-likelihood: Σ yη − max(η, 0) − ln(1 + e), the logs one per 32 rows.
        let mut acc = [0.0f64; 4];
        let mut lp = 0.0;
        for (c, (eta_c, (y_c, ope_c))) in eta
            .chunks(32)
            .zip(y.chunks(32).zip(ope.chunks(32)))
            .enumerate()
        {
            let _ = c;
            let mut prod = [1.0f64; 4];
            for k in 0..eta_c.len() {
                let h = eta_c[k];
                acc[k % 4] += y_c[k] * h - if h > 0.0 { h } else { 0.0 };
                prod[k % 4] *= ope_c[k];
            }
            lp -= ((prod[0] * prod[1]) * (prod[2] * prod[3])).ln();
        }
        lp += (acc[0] + acc[1]) + (acc[2] + acc[3]);
        // ∇ = Xᵀ r − β: eight features at a time, two rows per step, accumulators in
        // registers over the row-major X; leftover features by a dot over Xᵀ's rows.
        const F: usize = 8;
        let full_f = d - d % F;
        for c0 in (0..full_f).step_by(F) {
            let mut acc0 = [0.0f64; F];
            let mut acc1 = [0.0f64; F];
            let mut i = 0;
            while i + 1 < n {
                let (r0, r1) = (resid[i], resid[i + 1]);
                let x0 = &self.x[i * d + c0..i * d + c0 + F];
                let x1 = &self.x[(i + 1) * d + c0..(i + 1) * d + c0 + F];
                for k in 0..F {
                    acc0[k] += r0 * x0[k];
                    acc1[k] += r1 * x1[k];
                }
                i += 2;
            }
            if i < n {
                let x0 = &self.x[i * d + c0..i * d + c0 + F];
                for k in 0..F {
                    acc0[k] += resid[i] * x0[k];
                }
            }
            for k in 0..F {
                grad[c0 + k] = acc0[k] + acc1[k] - beta[c0 + k];
            }
        }
        for j in full_f..d {
            grad[j] = crate::linalg::dot(&self.xt[j * n..(j + 1) * n], resid) - beta[j];
        }
        for j in 0..d {
            lp -= 0.5 * beta[j] * beta[j];
        }
        if !lp.is_finite() {
            return Err(LogDensityError::recoverable(
                "non-finite logistic log-likelihood",
            ));
        }
        Ok(lp)
    }
}
