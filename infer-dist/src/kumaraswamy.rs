//! The Kumaraswamy distribution.

use crate::gumbel::EULER;
use crate::util::{
    self, POSITIVE, accessors, check, common_items, lp_map, lp_sum, param_map, positive,
    reparameterizable,
};
use crate::{Constraint, DistError, Distribution, IntoTensor, Reparameterizable};
use infer_ad::scalar::{digamma, lgamma, trigamma};
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "Kumaraswamy";

/// The Kumaraswamy distribution with `concentration1` a and `concentration0` b:
///
/// ln p(x) = ln a + ln b + (a − 1) ln x + (b − 1) ln(1 − xᵃ), x ∈ [0, 1].
///
/// cdf 1 − (1 − xᵃ)ᵇ; raw moments E\[Xⁿ\] = b B(1 + n/a, b) (mean n = 1, variance
/// E\[X²\] − E\[X\]²); entropy (1 − 1/b) + (1 − 1/a)(ψ(b + 1) + γ) − ln a − ln b; pathwise draws
/// by the inverse cdf (1 − u^{1/b})^{1/a}.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, Kumaraswamy};
/// let tape = Tape::new();
/// let d = Kumaraswamy::new(tape.var(1.0), tape.var(1.0))?; // Uniform(0, 1)
/// assert!((d.mean()?.to_vec()[0] - 0.5).abs() < 1e-14);
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// PyTorch, `torch.distributions.Kumaraswamy`; P. Kumaraswamy (1980), *A generalized
/// probability density function for double-bounded random processes*.
#[derive(Debug, Clone, Copy)]
pub struct Kumaraswamy<'t> {
    concentration1: Tensor<'t>,
    concentration0: Tensor<'t>,
    batch: Shape,
}

impl<'t> Kumaraswamy<'t> {
    /// A Kumaraswamy distribution.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] when a concentration is not finite and > 0;
    /// [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Kumaraswamy::new(tape.var(0.0), tape.var(1.0)).is_err());
    /// ```
    #[inline]
    pub fn new(
        concentration1: impl IntoTensor<'t>,
        concentration0: impl IntoTensor<'t>,
    ) -> Result<Self, DistError> {
        let (c1, c0) = (concentration1.into_tensor(), concentration0.into_tensor());
        check(NAME, "concentration1", c1, positive, POSITIVE)?;
        check(NAME, "concentration0", c0, positive, POSITIVE)?;
        let batch = util::batch(NAME, &[c1, c0])?;
        Ok(Kumaraswamy {
            concentration1: c1,
            concentration0: c0,
            batch,
        })
    }

    accessors!(concentration1, concentration0);
}

fn kernel([x, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
    if !(0.0..=1.0).contains(&x) {
        return if x.is_nan() {
            (f64::NAN, [0.0; 3])
        } else {
            util::neg_inf()
        };
    }
    let lx = x.ln();
    let xa = (a * lx).exp();
    let y = -(a * lx).exp_m1(); // 1 − xᵃ
    let l1 = y.ln();
    let pa = if a == 1.0 { 0.0 } else { (a - 1.0) * lx };
    let pb = if b == 1.0 { 0.0 } else { (b - 1.0) * l1 };
    let dxa = if a == 1.0 { 0.0 } else { (a - 1.0) / x };
    let w = if b == 1.0 { 0.0 } else { (b - 1.0) * xa / y };
    (
        a.ln() + b.ln() + pa + pb,
        [dxa - w * a / x, 1.0 / a + lx - w * lx, 1.0 / b + l1],
    )
}

/// ln E[Xⁿ] = ln b + ln Γ(1 + n/a) + ln Γ(b) − ln Γ(1 + b + n/a), with partials in (a, b).
fn log_moment(a: f64, b: f64, n: f64) -> (f64, [f64; 2]) {
    let (p, q) = (1.0 + n / a, 1.0 + b + n / a);
    (
        b.ln() + lgamma(p) + lgamma(b) - lgamma(q),
        [
            (-n / (a * a)) * (digamma(p) - digamma(q)),
            1.0 / b + digamma(b) - digamma(q),
        ],
    )
}

impl<'t> Distribution<'t> for Kumaraswamy<'t> {
    common_items!(NAME, Kumaraswamy, [concentration1, concentration0]);
    reparameterizable!();

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.concentration1, self.concentration0],
            kernel,
        )
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        lp_sum(
            NAME,
            self.batch,
            [value, self.concentration1, self.concentration0],
            kernel,
        )
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let u = util::uniforms(rng, self.batch.numel());
        let a = util::bvals(self.concentration1, self.batch);
        let b = util::bvals(self.concentration0, self.batch);
        util::array(
            self.batch,
            (0..u.len())
                .map(|i| ((-(u[i].ln() / b[i]).exp_m1()).ln() / a[i]).exp())
                .collect(),
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(
            self.batch,
            [self.concentration1, self.concentration0],
            |[a, b]| {
                let (t1, t0) = (1.0 - 1.0 / a, 1.0 - 1.0 / b);
                let h0 = digamma(b + 1.0) + EULER;
                (
                    t0 + t1 * h0 - a.ln() - b.ln(),
                    [
                        h0 / (a * a) - 1.0 / a,
                        1.0 / (b * b) + t1 * trigamma(b + 1.0) - 1.0 / b,
                    ],
                )
            },
        )
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(
            self.batch,
            [self.concentration1, self.concentration0],
            |[a, b]| {
                let (l, [da, db]) = log_moment(a, b, 1.0);
                let m = l.exp();
                (m, [m * da, m * db])
            },
        )
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(
            self.batch,
            [self.concentration1, self.concentration0],
            |[a, b]| {
                let (l1, [a1, b1]) = log_moment(a, b, 1.0);
                let (l2, [a2, b2]) = log_moment(a, b, 2.0);
                let (m1, m2) = (l1.exp(), l2.exp());
                (
                    m2 - m1 * m1,
                    [m2 * a2 - 2.0 * m1 * m1 * a1, m2 * b2 - 2.0 * m1 * m1 * b1],
                )
            },
        )
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.concentration1, self.concentration0],
            |[x, a, b]| {
                if !(x > 0.0) {
                    return (0.0, [0.0; 3]);
                }
                if x >= 1.0 {
                    return (1.0, [0.0; 3]);
                }
                let lx = x.ln();
                let xa = (a * lx).exp();
                let l1 = (-(a * lx).exp_m1()).ln(); // ln(1 − xᵃ)
                let yb = (b * l1).exp(); // (1 − xᵃ)ᵇ
                let g = b * yb / (-(a * lx).exp_m1()); // b (1 − xᵃ)^{b−1}
                (-(b * l1).exp_m1(), [g * a * xa / x, g * xa * lx, -yb * l1])
            },
        )
    }

    fn support(&self) -> Constraint {
        Constraint::UnitInterval
    }
}

impl<'t> Reparameterizable<'t> for Kumaraswamy<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.concentration1.tape();
        let lu = util::uniforms(rng, self.batch.numel())
            .into_iter()
            .map(f64::ln)
            .collect();
        let lu = util::constant(tape, self.batch, lu)?;
        Ok(tape.fused_map(
            [self.concentration1, self.concentration0, lu],
            |_, [a, b, lu]| {
                let w = (lu / b).exp(); // u^{1/b}
                let y = -(lu / b).exp_m1(); // 1 − u^{1/b}
                let ly = y.ln();
                let x = (ly / a).exp();
                (x, [-x * ly / (a * a), x / (a * y) * w * lu / (b * b), 0.0])
            },
        )?)
    }
}
