//! The multivariate normal distribution, parameterized by a Cholesky factor.

use crate::bind::{Kernel, RKernel};
use crate::util::{self, FINITE, check_param, finite};
use crate::{Constraint, DistError};
use infer_ad::scalar::LN_SQRT_2PI;
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

crate::bind::family! {
    /// The multivariate normal distribution N(μ, LLᵀ) with `loc` μ (last axis: the n coordinates;
    /// leading axes: the batch) and lower-triangular `scale_tril` L (n×n, positive diagonal):
    ///
    /// ln p(x) = −½‖L⁻¹(x − μ)‖² − Σᵢ ln Lᵢᵢ − (n/2) ln 2π.
    ///
    /// The solve is one triangular-solve node ([`infer_ad::Tensor::tri_solve`]) and the log
    /// determinant [`infer_ad::Tensor::tri_logdet`]. Entropy (n/2)(1 + ln 2π) + Σ ln Lᵢᵢ; mean μ;
    /// variance diag(LLᵀ) = Σⱼ Lᵢⱼ²; pathwise draws μ + Lε.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, MultivariateNormal};
    /// let tape = Tape::new();
    /// let loc = tape.tensor(&ndarray::array![0.0, 0.0]);
    /// let l = tape.tensor(&ndarray::array![[1.0, 0.0], [0.0, 1.0]]);
    /// let d = MultivariateNormal::new(loc, l)?;
    /// let lp = d.log_prob(tape.constant(&ndarray::array![0.0, 0.0]))?;
    /// assert!((lp.to_vec()[0] + (2.0 * std::f64::consts::PI).ln()).abs() < 1e-14);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.MultivariateNormal`.
    pub struct MultivariateNormal / MultivariateNormalK: Reparameterizable {
        params: [loc, scale_tril],
        extra: {n: usize},
        support: |_| Constraint::RealVector,
    }
}

impl<'t> MultivariateNormal<'t> {
    /// A multivariate normal with mean `loc` (shape `batch ++ [n]`) and Cholesky factor
    /// `scale_tril` (n×n).
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a non-finite element, a non-zero element above the
    /// diagonal ("must be lower-triangular") or a diagonal element that is not > 0;
    /// [`DistError::ShapeMismatch`] for a non-square `scale_tril` or a `loc` whose last axis is
    /// not n.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let loc = tape.tensor(&ndarray::array![0.0, 0.0]);
    /// let upper = tape.tensor(&ndarray::array![[1.0, 0.5], [0.0, 1.0]]);
    /// assert!(infer_dist::MultivariateNormal::new(loc, upper).is_err());
    /// ```
    pub fn new(
        loc: impl crate::IntoParam<'t>,
        scale_tril: impl crate::IntoParam<'t>,
    ) -> Result<Self, DistError> {
        let [loc, scale_tril] = crate::param::take_params!(NAME; loc, scale_tril);
        let (lshape, sshape) = (loc.shape()?, scale_tril.shape()?);
        let sd = sshape.dims();
        if sd.len() != 2 || sd[0] != sd[1] || sd[0] == 0 {
            return Err(DistError::ShapeMismatch {
                dist: NAME,
                what: "scale_tril (must be a square n×n matrix)",
                left: sshape,
                right: Shape::matrix(
                    sd.first().copied().unwrap_or(0),
                    sd.first().copied().unwrap_or(0),
                )
                .unwrap_or(Shape::SCALAR),
            });
        }
        let n = sd[0];
        let ld = lshape.dims();
        if ld.is_empty() || ld[ld.len() - 1] != n {
            return Err(DistError::ShapeMismatch {
                dist: NAME,
                what: "loc (last axis must match scale_tril)",
                left: lshape,
                right: sshape,
            });
        }
        check_param(NAME, "loc", &loc, finite, FINITE)?;
        check_param(NAME, "scale_tril", &scale_tril, finite, FINITE)?;
        let l = scale_tril.to_vec();
        for i in 0..n {
            if !(l[i * n + i] > 0.0) {
                return Err(DistError::InvalidParameter {
                    dist: NAME,
                    param: "scale_tril",
                    value: l[i * n + i],
                    reason: "diagonal must be > 0",
                });
            }
            for j in i + 1..n {
                if l[i * n + j] != 0.0 {
                    return Err(DistError::InvalidParameter {
                        dist: NAME,
                        param: "scale_tril",
                        value: l[i * n + j],
                        reason: "must be lower-triangular (zero above the diagonal)",
                    });
                }
            }
        }
        Ok(MultivariateNormal {
            loc,
            scale_tril,
            batch: Shape::new(&ld[..ld.len() - 1])?,
            n,
        })
    }

    /// The dimension n.
    pub fn dim(&self) -> usize {
        self.n
    }
}

impl<'t> MultivariateNormalK<'t> {
    /// Checks a value against the distribution (same tape, broadcastable, last axis n) and
    /// returns its broadcast shape and the batch shape of the result.
    fn value_layout(&self, value: Tensor<'t>) -> Result<(Shape, Shape), DistError> {
        util::same_tape(NAME, &[value, self.loc, self.scale_tril])?;
        let full = util::value_shape(NAME, value.shape(), self.loc.shape())?;
        let d = full.dims();
        if d[d.len() - 1] != self.n {
            return Err(DistError::ShapeMismatch {
                dist: NAME,
                what: "value (last axis must be n)",
                left: value.shape(),
                right: self.loc.shape(),
            });
        }
        Ok((full, Shape::new(&d[..d.len() - 1])?))
    }

    /// The terms of the log densities: an n×m matrix of z = L⁻¹(x − μ) (m = number of rows of
    /// the broadcast value), the column ℓ = ln diag(L) (n×1), the batch shape of the result
    /// and a function giving, for element k = i·m + r of z, the term
    /// −½ z²ᵢᵣ − ℓᵢ − ln √(2π) of row r's log density (Σᵢ over a row is the row's log
    /// density) with its partials with respect to zᵢᵣ and ℓᵢ.
    ///
    /// The solve runs on a copy of L whose diagonal is a constant, so the solve sends
    /// gradients to the off-diagonal elements of L and to the value only; the partial of the
    /// row's log density with respect to ℓᵢ = ln Lᵢᵢ is then given in one piece,
    /// ∂/∂ℓᵢ = uᵢzᵢ − 1 with uᵢ = Lᵢᵢ(L⁻ᵀz)ᵢ = zᵢ − Σⱼ₌ᵢ₊₁ Lⱼᵢ(L⁻ᵀz)ⱼ, and divided by Lᵢᵢ once
    /// in the backward pass of ℓ = ln Lᵢᵢ. Through the solve and the log determinant
    /// separately, the two partials of Lᵢᵢ, z²ᵢ/Lᵢᵢ and −1/Lᵢᵢ, both overflow for a
    /// subnormal Lᵢᵢ and meet as ∞ − ∞ = NaN though their sum is finite (issue 13).
    ///
    /// A row with a ±∞ element is outside the support, and a row whose ‖z‖² overflows has
    /// density 0 in f64 (its partials, of order ‖z‖/Lᵢᵢ, would overflow and meet as ∞ − ∞):
    /// both have log density −∞ with gradient 0 (their term is −∞ for i = 0, else 0).
    #[allow(clippy::type_complexity)]
    fn terms(
        &self,
        value: Tensor<'t>,
    ) -> Result<
        (
            Tensor<'t>,
            Tensor<'t>,
            Shape,
            impl Fn(usize, [f64; 2]) -> (f64, [f64; 2]) + use<>,
        ),
        DistError,
    > {
        let (full, out) = self.value_layout(value)?;
        let (n, m) = (self.n, out.numel());
        let tape = value.tape();
        let diff = (value - self.loc).reshape(&[m, n])?;
        let r = if m == 1 {
            diff.reshape(&[n, 1])?
        } else {
            diff.t()?
        };
        let lv = self.scale_tril.to_vec();
        let d = self.scale_tril.diag()?;
        let ell = d.ln().reshape(&[n, 1])?;
        // L with a constant diagonal: slots n² + i of [vec(L), diag(L)] hold the copies
        let dconst = util::constant(tape, Shape::vector(n), d.to_vec())?;
        let both = tape.concat(&[self.scale_tril.reshape(&[n * n])?, dconst], 0)?;
        let idx: Vec<usize> = (0..n * n)
            .map(|k| if k / n == k % n { n * n + k / n } else { k })
            .collect();
        let lsolve = both.gather(&idx)?.reshape(&[n, n])?;
        let z = lsolve.tri_solve(r, true)?;
        let zv = z.to_vec();
        // rows free of ±∞ whose ‖z‖² is finite; a row with a NaN element stays (NaN in, NaN
        // out); any other row's ‖z‖² overflowed (or x − μ did)
        let maha: Vec<f64> = (0..m)
            .map(|c| (0..n).map(|i| zv[i * m + c] * zv[i * m + c]).sum())
            .collect();
        let mut ok = vec![true; m];
        if value.any_infinite() || maha.iter().any(|q| !q.is_finite()) {
            let vals = util::bvals(value, full);
            for ((o, row), q) in ok.iter_mut().zip(vals.chunks(n)).zip(&maha) {
                let nan = row.iter().any(|v| v.is_nan());
                *o = nan || (q.is_finite() && row.iter().all(|v| v.is_finite()));
            }
        }
        // ∂/∂ℓᵢ of each row: uᵢzᵢ − 1, with u, w = L⁻ᵀz from the back substitution
        let mut pell = vec![0.0; n * m];
        let mut w = vec![0.0; n];
        for c in (0..m).filter(|&c| ok[c]) {
            for i in (0..n).rev() {
                let mut u = zv[i * m + c];
                for j in i + 1..n {
                    u -= util::mul0(lv[j * n + i], w[j]);
                }
                w[i] = u / lv[i * n + i];
                pell[i * m + c] = util::mul0(u, zv[i * m + c]) - 1.0;
            }
        }
        let f = move |k: usize, [z, l]: [f64; 2]| {
            if ok[k % m] {
                (-0.5 * z * z - l - LN_SQRT_2PI, [-z, pell[k]])
            } else if k < m {
                (f64::NEG_INFINITY, [0.0; 2])
            } else {
                (0.0, [0.0; 2])
            }
        };
        Ok((z, ell, out, f))
    }
}

impl<'t> Kernel<'t> for MultivariateNormalK<'t> {

    fn event_shape(&self) -> Shape {
        Shape::vector(self.n)
    }

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        let (z, ell, out, f) = self.terms(value)?;
        let t = value.tape().fused_map([z, ell], f)?;
        Ok(t.sum_axis(0)?.reshape(out.dims())?)
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        let (z, ell, _, f) = self.terms(value)?;
        Ok(value.tape().fused_sum([z, ell], f)?)
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let full = Shape::new(self.loc.dims())?;
        let rows = self.batch.numel();
        let mu = self.loc.to_vec();
        let l = self.scale_tril.to_vec();
        let n = self.n;
        let eps = util::normals(rng, rows * n);
        let mut x = Vec::with_capacity(rows * n);
        for r in 0..rows {
            for i in 0..n {
                let mut v = mu[r * n + i];
                for j in 0..=i {
                    v += l[i * n + j] * eps[r * n + j];
                }
                x.push(v);
            }
        }
        util::draws(NAME, full, x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        let h = self.scale_tril.tri_logdet()? + self.n as f64 * (0.5 + LN_SQRT_2PI);
        Ok(h.as_tensor().broadcast_to(self.batch)?)
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.loc)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        let v = self.scale_tril.square().sum_axis(1)?;
        Ok(v.broadcast_to(self.loc.shape())?)
    }
}

impl<'t> RKernel<'t> for MultivariateNormalK<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.loc.tape();
        let rows = self.batch.numel();
        let eps = util::normals(rng, rows * self.n);
        let x = if rows == 1 {
            let e = util::constant(tape, Shape::vector(self.n), eps)?;
            self.scale_tril.matvec(e)?.reshape(self.loc.dims())?
        } else {
            let e = util::constant(tape, Shape::matrix(rows, self.n)?, eps)?;
            e.matmul(self.scale_tril.t()?)?.reshape(self.loc.dims())?
        };
        util::rdraws(NAME, x + self.loc)
    }
}
