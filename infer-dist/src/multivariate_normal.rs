//! The multivariate normal distribution, parameterized by a Cholesky factor.

use crate::util::{self, FINITE, check, finite};
use crate::{Constraint, DistError, Distribution, Family, IntoTensor, Reparameterizable};
use infer_ad::scalar::LN_SQRT_2PI;
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "MultivariateNormal";

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
#[derive(Debug, Clone, Copy)]
pub struct MultivariateNormal<'t> {
    loc: Tensor<'t>,
    scale_tril: Tensor<'t>,
    batch: Shape,
    n: usize,
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
        loc: impl IntoTensor<'t>,
        scale_tril: impl IntoTensor<'t>,
    ) -> Result<Self, DistError> {
        let (loc, scale_tril) = (loc.into_tensor(), scale_tril.into_tensor());
        let sd = scale_tril.dims();
        if sd.len() != 2 || sd[0] != sd[1] || sd[0] == 0 {
            return Err(DistError::ShapeMismatch {
                dist: NAME,
                what: "scale_tril (must be a square n×n matrix)",
                left: scale_tril.shape(),
                right: Shape::matrix(
                    sd.first().copied().unwrap_or(0),
                    sd.first().copied().unwrap_or(0),
                )
                .unwrap_or(Shape::SCALAR),
            });
        }
        let n = sd[0];
        let ld = loc.dims();
        if ld.is_empty() || ld[ld.len() - 1] != n {
            return Err(DistError::ShapeMismatch {
                dist: NAME,
                what: "loc (last axis must match scale_tril)",
                left: loc.shape(),
                right: scale_tril.shape(),
            });
        }
        util::same_tape(NAME, &[loc, scale_tril])?;
        check(NAME, "loc", loc, finite, FINITE)?;
        check(NAME, "scale_tril", scale_tril, finite, FINITE)?;
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

    /// The `loc` parameter.
    pub fn loc(&self) -> Tensor<'t> {
        self.loc
    }

    /// The `scale_tril` parameter.
    pub fn scale_tril(&self) -> Tensor<'t> {
        self.scale_tril
    }

    /// The dimension n.
    pub fn dim(&self) -> usize {
        self.n
    }

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

    /// z = L⁻¹(x − μ) as an n×m matrix (m = number of rows of the broadcast value), and the
    /// output (batch) shape.
    fn whiten(&self, value: Tensor<'t>) -> Result<(Tensor<'t>, Shape), DistError> {
        let (_, out) = self.value_layout(value)?;
        let m = out.numel();
        let diff = (value - self.loc).reshape(&[m, self.n])?;
        let z = if m == 1 {
            self.scale_tril
                .tri_solve(diff.reshape(&[self.n])?, true)?
                .reshape(&[self.n, 1])?
        } else {
            self.scale_tril.tri_solve(diff.t()?, true)?
        };
        Ok((z, out))
    }

    /// `None` when every element of the value is finite or NaN; otherwise the broadcast value
    /// shape, the batch shape of the result and, per row, whether it is free of ±∞.
    #[allow(clippy::type_complexity)]
    fn infinite_rows(
        &self,
        value: Tensor<'t>,
    ) -> Result<Option<(Shape, Shape, Vec<bool>)>, DistError> {
        // Reading the value's own tape is safe before the layout checks; the usual all-finite
        // value leaves them to `whiten`, so they run once per log density.
        if !value.any_infinite() {
            return Ok(None);
        }
        let (full, out) = self.value_layout(value)?;
        let vals = util::bvals(value, full);
        let rows = vals
            .chunks(self.n)
            .map(|r| r.iter().all(|v| !v.is_infinite()))
            .collect();
        Ok(Some((full, out, rows)))
    }

    fn norm_const(&self) -> Result<Var<'t>, DistError> {
        Ok(self.scale_tril.tri_logdet()? + self.n as f64 * LN_SQRT_2PI)
    }
}

impl<'t> Distribution<'t> for MultivariateNormal<'t> {
    fn name(&self) -> &'static str {
        NAME
    }

    fn batch_shape(&self) -> Shape {
        self.batch
    }

    fn event_shape(&self) -> Shape {
        Shape::vector(self.n)
    }

    fn family(&self) -> Family<'_, 't> {
        Family::MultivariateNormal(self)
    }

    fn params(&self) -> Vec<(&'static str, Tensor<'t>)> {
        vec![("loc", self.loc), ("scale_tril", self.scale_tril)]
    }

    fn as_reparameterizable(&self) -> Option<&dyn Reparameterizable<'t>> {
        Some(self)
    }

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        let Some(bad) = self.infinite_rows(value)? else {
            let (z, out) = self.whiten(value)?;
            let maha = z.square().sum_axis(0)?.reshape(out.dims())?;
            let c = self.norm_const()?;
            return Ok(value.tape().fused_map([maha, c.as_tensor()], |_, [q, c]| {
                (-0.5 * q - c, [-0.5, -1.0])
            })?);
        };
        // Rows with a ±∞ element are outside the support: −∞ with gradient 0. They are
        // whitened as 0 (a masked copy of the value), so that no ∞ enters the triangular
        // solve, whose gradient would then be NaN for every row.
        let tape = value.tape();
        let (full, out, row_ok) = bad;
        let keep: Vec<f64> = row_ok
            .iter()
            .flat_map(|&ok| std::iter::repeat_n(f64::from(u8::from(ok)), self.n))
            .collect();
        let keep = util::constant(tape, full, keep)?;
        let masked = tape.fused_map([value, keep], |_, [v, k]| {
            if k == 1.0 {
                (v, [1.0, 0.0])
            } else {
                (0.0, [0.0; 2])
            }
        })?;
        let (z, _) = self.whiten(masked)?;
        let maha = z.square().sum_axis(0)?.reshape(out.dims())?;
        let c = self.norm_const()?;
        let ok = util::constant(
            tape,
            out,
            row_ok.iter().map(|&b| f64::from(u8::from(b))).collect(),
        )?;
        Ok(tape.fused_map([maha, c.as_tensor(), ok], |_, [q, c, ok]| {
            if ok == 1.0 {
                (-0.5 * q - c, [-0.5, -1.0, 0.0])
            } else {
                (f64::NEG_INFINITY, [0.0; 3])
            }
        })?)
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        if self.infinite_rows(value)?.is_some() {
            return Ok(util::scalar(value.tape(), f64::NEG_INFINITY).sum());
        }
        let (z, out) = self.whiten(value)?;
        let m = out.numel() as f64;
        let c = self.norm_const()?;
        Ok(value
            .tape()
            .fused_sum([z, c.as_tensor()], move |i, [z, c]| {
                // the constant enters once per row: spread it over the first row's elements
                let share = if i == 0 { m } else { 0.0 };
                (-0.5 * z * z - share * c, [-z, -share])
            })?)
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

    fn support(&self) -> Constraint {
        Constraint::RealVector
    }
}

impl<'t> Reparameterizable<'t> for MultivariateNormal<'t> {
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
