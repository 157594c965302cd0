//! The Dirichlet distribution on the probability simplex.

use crate::gamma::{dx_power, ln_gamma_with_grad, ln_standard_gamma, xlogy};
use crate::util::{self, POSITIVE, positive};
use crate::{Constraint, DistError};
use infer_ad::scalar::{digamma, lgamma, trigamma};
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "Dirichlet";

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
    pub struct Dirichlet / DirichletK {
        params: [concentration],
        extra: {k: usize},
    }
    name: NAME,
    rsample: true,
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
        util::check_param(NAME, "concentration", &concentration, positive, POSITIVE)?;
        let cshape = concentration.shape()?;
        let d = cshape.dims();
        if d.is_empty() || d[d.len() - 1] == 0 {
            return Err(DistError::ShapeMismatch {
                dist: NAME,
                what: "concentration (needs a non-empty last axis)",
                left: cshape,
                right: Shape::vector(1),
            });
        }
        // Σα must be finite: the normalizer ln Γ(α₀) and every moment need it
        let a = concentration.to_vec();
        for row in a.chunks(d[d.len() - 1]) {
            let total: f64 = row.iter().sum();
            if !total.is_finite() {
                return Err(DistError::InvalidParameter {
                    dist: NAME,
                    param: "concentration",
                    value: total,
                    reason: "the sum of each row must be finite",
                });
            }
        }
        Ok(Dirichlet {
            concentration,
            batch: Shape::new(&d[..d.len() - 1])?,
            k: d[d.len() - 1],
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
    crate::bind::kernel_items!(NAME);

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
        let a = self.concentration.to_vec();
        let mut x = Vec::with_capacity(a.len());
        for row in a.chunks(self.k) {
            let mut l = Vec::with_capacity(self.k);
            for &ai in row {
                l.push(ln_standard_gamma(rng, ai, NAME)?);
            }
            softmax_into(&l, &mut x);
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
                let d = util::digamma_diff(a, s - a); // ψ(α₀) − ψ(αⱼ)
                let t = (a - 1.0) * d;
                let v = if big == 1.0 {
                    // ln Γ(αₘ) − ln Γ(α₀) = −(ln Γ(α₀) − ln Γ(αₘ))
                    t - util::lgamma_diff(a, s - a)
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
        Ok(self.concentration / self.total()?)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        let a0 = self.total()?;
        let tape = a0.tape();
        // v = a(s − a)/(s²(s + 1)) as a product of ratios (s³ overflows for s ≳ 5e102, and the
        // partials were then ∞/∞)
        // ∂v/∂a = ((s − a) − a)/s / ((s + 1)s) and ∂v/∂s = (m/(s + 1) − v(2 + s/(s + 1)))/s,
        // m = a/s, with the factor 1/s last: s − 2a overflowed for a = s = f64::MAX (∞/∞), and
        // m/s² − 2v/s was ∞ − ∞ for a subnormal s
        Ok(tape.fused_map([self.concentration, a0], |_, [a, s]| {
            let m = a / s;
            let v = m * ((s - a) / s) / (s + 1.0);
            (
                v,
                [
                    ((s - a) - a) / s / (s + 1.0) / s,
                    (m / (s + 1.0) - v * (2.0 + s / (s + 1.0))) / s,
                ],
            )
        })?)
    }

    fn support(&self) -> Constraint {
        Constraint::Simplex
    }
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
        let (mut l, mut dl) = (Vec::with_capacity(a.len()), Vec::with_capacity(a.len()));
        for &ai in &a {
            let (li, di) = ln_gamma_with_grad(rng, ai, NAME)?;
            l.push(li);
            dl.push(di);
        }
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
