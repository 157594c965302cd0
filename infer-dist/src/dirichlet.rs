//! The Dirichlet distribution on the probability simplex.

use crate::special;
use crate::gamma::{dx_power, ln_standard_gamma_parts, xlogy};
use crate::special::dlnx_dalpha;
use crate::util::{self, POSITIVE, positive};
use crate::{Constraint, DistError};
use infer_ad::scalar::{digamma, lgamma, trigamma};
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

crate::bind::family! {
    /// The Dirichlet distribution with concentration α (last axis: the K components):
    ///
    /// ln p(x) = Σᵢ (αᵢ − 1) ln xᵢ + ln Γ(α₀) − Σᵢ ln Γ(αᵢ), α₀ = Σᵢ αᵢ, x on the simplex
    /// (xᵢ ≥ 0, |Σ xᵢ − 1| < 1e-6 as PyTorch checks); −∞ elsewhere.
    ///
    /// The value gradient is the unprojected ∂/∂xᵢ = (αᵢ − 1)/xᵢ (as PyTorch's autograd gives).
    /// Entropy Σ ln Γ(αᵢ) − ln Γ(α₀) − (K − α₀)ψ(α₀) − Σ (αᵢ − 1)ψ(αᵢ); mean α/α₀; variance
    /// αᵢ(α₀ − αᵢ)/(α₀²(α₀ + 1)). Reparameterizable as normalized Gamma draws with implicit
    /// gradients.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Dirichlet, Distribution};
    /// let tape = Tape::new();
    /// let d = Dirichlet::new(tape.tensor(&ndarray::array![1.0, 1.0, 1.0]))?;
    /// let lp = d.log_prob(tape.constant(&ndarray::array![0.2, 0.3, 0.5]))?;
    /// assert!((lp.to_vec()[0] - 2f64.ln()).abs() < 1e-14); // uniform on the 2-simplex
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Dirichlet`.
    pub struct Dirichlet / DirichletK: Reparameterizable {
        params: [concentration],
        extra: {k: usize},
        support: |_| Constraint::Simplex,
    }
}

/// The checks of a concentration whose last axis holds the K components (the Dirichlet's and
/// the DirichletMultinomial's): every element finite and > 0, a non-empty last axis, and
/// finite row sums Σα (the normalizer ln Γ(α₀) and every moment need them). Returns the batch
/// shape and K.
///
/// # Errors
/// [`DistError::InvalidParameter`] for an element or a row sum that fails;
/// [`DistError::ShapeMismatch`] for a 0-d parameter or an empty last axis.
pub(crate) fn check_concentration(
    dist: &'static str,
    concentration: &crate::Param<'_>,
) -> Result<(Shape, usize), DistError> {
    util::check_param(dist, "concentration", concentration, positive, POSITIVE)?;
    let what = "concentration (needs a non-empty last axis)";
    let (batch, k) = util::split_last(dist, concentration, what)?;
    util::check_row_sums(
        dist,
        "concentration",
        concentration,
        k,
        util::finite,
        util::ROW_TOTALS,
    )?;
    Ok((batch, k))
}

impl<'t> Dirichlet<'t> {
    /// A Dirichlet distribution; the last axis of `concentration` holds the K components.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for an element that is not finite and > 0, or a row whose
    /// sum overflows;
    /// [`DistError::ShapeMismatch`] for a 0-d parameter.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Dirichlet::new(tape.var(1.0)).is_err());
    /// ```
    pub fn new(concentration: impl crate::IntoParam<'t>) -> Result<Self, DistError> {
        let [concentration] = crate::param::take_params!(NAME; concentration);
        let (batch, k) = check_concentration(NAME, &concentration)?;
        Ok(Dirichlet {
            concentration,
            batch,
            k,
        })
    }
}

impl<'t> DirichletK<'t> {
    fn keep(&self, batch: Shape) -> Vec<usize> {
        let mut d = batch.dims().to_vec();
        d.push(1);
        d
    }

    /// Σᵢ αᵢ with a trailing axis of length 1.
    fn total(&self) -> Result<Tensor<'t>, DistError> {
        let a0 = self.concentration.sum_axis(self.concentration.ndim() - 1)?;
        Ok(a0.reshape(&self.keep(self.batch))?)
    }

    /// The concentrations and their row totals α₀ (keeping the last axis), both scaled by
    /// c = 2^600 in the rows where α₀ < 1e-150, and 1/c per row (1 in the others). Ratios of
    /// the two (the mean, the variance's m = αᵢ/α₀) are unchanged — a power of two is exact —
    /// but their partials, 1/α₀ and αᵢ/α₀², overflow for a subnormal α₀, and in the gradient of
    /// a row (Σ αᵢ/α₀ = 1) they met as ∞ − ∞.
    fn scaled_rows(&self) -> Result<(Tensor<'t>, Tensor<'t>, Tensor<'t>), DistError> {
        let s = self.total()?;
        let tape = s.tape();
        let small = |s: f64| s < 1e-150;
        let sv = s.to_vec();
        if !sv.iter().any(|&s| small(s)) {
            return Ok((self.concentration, s, tape.scalar(1.0)));
        }
        let c = 2f64.powi(600);
        let scale = |inv: bool| -> Vec<f64> {
            sv.iter()
                .flat_map(|&s| {
                    let f = if small(s) { c } else { 1.0 };
                    std::iter::repeat_n(if inv { 1.0 / f } else { f }, self.k)
                })
                .collect()
        };
        let shape = self.concentration.shape();
        let a = self.concentration * util::constant(tape, shape, scale(false))?;
        let s = a.sum_axis(a.ndim() - 1)?.reshape(&self.keep(self.batch))?;
        let inv_c = util::constant(tape, shape, scale(true))?;
        Ok((a, s, inv_c))
    }

    /// Shape of log_prob(value) and whether each row is on the simplex.
    fn rows(&self, value: Tensor<'t>) -> Result<(Shape, Shape, Vec<bool>), DistError> {
        util::same_tape(NAME, &[value, self.concentration])?;
        let full = util::value_shape(NAME, value.shape(), self.concentration.shape())?;
        let d = full.dims();
        if d.is_empty() || d[d.len() - 1] != self.k {
            return Err(DistError::ShapeMismatch {
                dist: NAME,
                what: "value (last axis must hold the K components)",
                left: value.shape(),
                right: self.concentration.shape(),
            });
        }
        let out = Shape::new(&d[..d.len() - 1])?;
        let x = util::bvals(value, full);
        let ok = x
            .chunks(self.k)
            .map(|r| Constraint::Simplex.check_event(r))
            .collect();
        Ok((full, out, ok))
    }
}

fn term([x, a]: [f64; 2]) -> (f64, [f64; 2]) {
    (
        xlogy(a - 1.0, x) - lgamma(a),
        [dx_power(a, x), x.ln() - digamma(a)],
    )
}

impl<'t> crate::bind::Kernel<'t> for DirichletK<'t> {

    fn event_shape(&self) -> Shape {
        Shape::vector(self.k)
    }

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        let (full, out, ok) = self.rows(value)?;
        let tape = value.tape();
        let terms = tape.fused_map([value, self.concentration], |_, a| term(a))?;
        let sums = terms.sum_axis(full.ndim() - 1)?;
        let norm = self
            .total()?
            .map_with_derivative(|s| (lgamma(s), digamma(s)))
            .reshape(self.batch.dims())?;
        let ok = util::constant(
            tape,
            out,
            ok.iter().map(|&b| f64::from(u8::from(b))).collect(),
        )?;
        Ok(tape.fused_map([sums, norm, ok], |_, [s, n, ok]| {
            if ok == 1.0 {
                (s + n, [1.0, 1.0, 0.0])
            } else {
                (f64::NEG_INFINITY, [0.0; 3])
            }
        })?)
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        let (_, out, ok) = self.rows(value)?;
        let tape = value.tape();
        if ok.iter().any(|b| !b) {
            return Ok(util::scalar(tape, f64::NEG_INFINITY).sum());
        }
        // Σ over all elements of the per-component terms, plus each row's ln Γ(α₀): rows per
        // batch element = numel(out)/numel(batch).
        let s = tape.fused_sum([value, self.concentration], |_, a| term(a))?;
        let reps = (out.numel() / self.batch.numel().max(1)) as f64;
        let norm = tape.fused_sum([self.total()?], |_, [a0]| {
            (reps * lgamma(a0), [reps * digamma(a0)])
        })?;
        Ok(s + norm)
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let (l, _) = ln_gamma_rows(rng, &self.concentration.to_vec(), self.k)?;
        let mut x = Vec::with_capacity(l.len());
        for row in l.chunks(self.k) {
            softmax_into(row, &mut x);
        }
        util::draws(NAME, self.concentration.shape(), x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        // H = ln B(α) + (α₀ − K)ψ(α₀) − Σ (αⱼ − 1)ψ(αⱼ)
        //   = Σ ln Γ(αⱼ) − ln Γ(α₀) + Σ (αⱼ − 1)(ψ(α₀) − ψ(αⱼ)),
        // one term per component: (αⱼ − 1)(ψ(α₀) − ψ(αⱼ)) + ln Γ(αⱼ), and for the largest
        // component of each row ln Γ(αₘ) − ln Γ(α₀) instead; the differences of ln Γ and ψ
        // by Stirling (`lgamma_diff`, `digamma_diff`), so that a component of 1e308 gives no
        // ∞ − ∞.
        let tape = self.concentration.tape();
        let a = self.concentration.to_vec();
        let mut largest = vec![0.0; a.len()];
        for (row, flag) in a.chunks(self.k).zip(largest.chunks_mut(self.k)) {
            let m = (0..row.len()).fold(0, |m, j| if row[j] > row[m] { j } else { m });
            flag[m] = 1.0;
        }
        let largest = util::constant(tape, self.concentration.shape(), largest)?;
        let kf = self.k as f64;
        let terms = tape.fused_map(
            [self.concentration, self.total()?, largest],
            |_, [a, s, big]| {
                let d = special::digamma_diff(a, s - a); // ψ(α₀) − ψ(αⱼ)
                let t = (a - 1.0) * d;
                let v = if big == 1.0 {
                    // ln Γ(αₘ) − ln Γ(α₀) = −(ln Γ(α₀) − ln Γ(αₘ))
                    t - special::lgamma_diff(a, s - a)
                } else {
                    t + lgamma(a)
                };
                // ∂H/∂αᵢ = −(αᵢ − 1)ψ′(αᵢ) + (α₀ − K)ψ′(α₀). The terms' own partials
                // (ψ(α₀) − (αⱼ − 1)ψ′(αⱼ) in αⱼ; (αⱼ − 1)ψ′(α₀), and −ψ(α₀) for the largest, in
                // α₀) hold ±ψ(α₀) that cancel over the row: they are left out (ψ(α₀) = −∞ for a
                // subnormal α₀ made them ∞ − ∞, as did ψ(αⱼ) + ψ(α₀) − ψ(αⱼ) for a subnormal
                // αⱼ). For α₀ < 1 with ψ′(x) = ψ′(x + 1) + 1/x², the two poles
                // (1 − αᵢ)/αᵢ² − (K − α₀)/α₀² are taken in one quotient (each overflows for
                // α ≲ 1e-154).
                let (pa, ps) = if s < 1.0 {
                    let r = a / s;
                    (
                        -(a - 1.0) * trigamma(a + 1.0) + ((1.0 - a) - (kf - s) * r * r) / a / a,
                        (a - 1.0) * trigamma(s + 1.0),
                    )
                } else {
                    (-(a - 1.0) * trigamma(a), (a - 1.0) * trigamma(s))
                };
                (v, [pa, ps, 0.0])
            },
        )?;
        Ok(terms
            .sum_axis(self.concentration.ndim() - 1)?
            .reshape(self.batch.dims())?)
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        let (a, s, _) = self.scaled_rows()?;
        Ok(a / s)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        let (a, s, inv_c) = self.scaled_rows()?;
        let tape = a.tape();
        // v = m(1 − m)/(α₀ + 1), m = αᵢ/α₀, from the scaled row (a = cαᵢ, s = cα₀, m = a/s):
        // with h = 1/(α₀ + 1), ∂v/∂a = (1 − 2m)h/s and ∂v/∂s = −(1 − 2m)hm/s − vh/c. 1 − m
        // and 1 − 2m as (s − a)/s and ((s − a) − a)/s (exact for a ≈ s; s − 2a overflowed for
        // a = s = f64::MAX); the factor 1/s last (s³ overflows for s ≳ 5e102)
        Ok(tape.fused_map([a, s, inv_c], |_, [a, s, ci]| {
            let m = a / s;
            let r = ((s - a) - a) / s;
            let h = 1.0 / (s * ci + 1.0);
            let v = m * ((s - a) / s) * h;
            (v, [r * h / s, -(r * h * m) / s - v * h * ci, 0.0])
        })?)
    }
}

/// The logs of independent standard Gamma(αⱼ) draws, `k` to a row (a Dirichlet draw is their
/// softmax), and for each row whether it was drawn as a vertex of the simplex. For subnormal
/// concentrations every ln Gⱼ = ln Xⱼ + ln Uⱼ/αⱼ of a row can overflow to −∞, and their softmax
/// would be NaN: then the largest draw is the one whose ln Uⱼ/αⱼ = −e^{ln(−ln Uⱼ) − ln αⱼ} has
/// the smallest exponent, and the draw is that vertex to every digit (its row is set to 0 there
/// and −∞ elsewhere). The random numbers are consumed as by one
/// [`crate::gamma::ln_standard_gamma`] per
/// component.
fn ln_gamma_rows(
    rng: &mut dyn rand::RngCore,
    a: &[f64],
    k: usize,
) -> Result<(Vec<f64>, Vec<bool>), DistError> {
    let mut l = Vec::with_capacity(a.len());
    let mut vertex = Vec::with_capacity(a.len() / k.max(1));
    let mut exps = Vec::with_capacity(k);
    for row in a.chunks(k) {
        exps.clear();
        let start = l.len();
        for &ai in row {
            let (lx, lu) = ln_standard_gamma_parts(rng, ai, NAME)?;
            l.push(lx + lu / ai);
            exps.push((-lu).ln() - ai.ln());
        }
        let all_inf = l[start..].iter().all(|&v| v == f64::NEG_INFINITY);
        if all_inf {
            let j = (0..exps.len()).fold(0, |m, j| if exps[j] < exps[m] { j } else { m });
            for (i, v) in l[start..].iter_mut().enumerate() {
                *v = if i == j { 0.0 } else { f64::NEG_INFINITY };
            }
        }
        vertex.push(all_inf);
    }
    Ok((l, vertex))
}

fn softmax_into(l: &[f64], out: &mut Vec<f64>) {
    let m = l.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = l.iter().map(|v| (v - m).exp()).collect();
    let s: f64 = e.iter().sum();
    out.extend(e.iter().map(|v| v / s));
}

impl<'t> crate::bind::RKernel<'t> for DirichletK<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.concentration.tape();
        let a = self.concentration.to_vec();
        let (l, vertex) = ln_gamma_rows(rng, &a, self.k)?;
        // d ln G/dα; 0 in a row drawn as a vertex, which is constant in α to every digit
        let dl = l
            .chunks(self.k)
            .zip(a.chunks(self.k))
            .zip(&vertex)
            .flat_map(|((lr, ar), &v)| {
                lr.iter()
                    .zip(ar)
                    .map(move |(&li, &ai)| if v { 0.0 } else { dlnx_dalpha(ai, li) })
            })
            .collect();
        let shape = self.concentration.shape();
        let l = util::constant(tape, shape, l)?;
        let dl = util::constant(tape, shape, dl)?;
        // log-gammas on the tape (gradient d ln G/dα), then a softmax along the last axis
        let lg = tape.fused_map([self.concentration, l, dl], |_, [_, l, d]| {
            (l, [d, 0.0, 0.0])
        })?;
        Ok(lg.softmax(shape.ndim() - 1)?)
    }
}
