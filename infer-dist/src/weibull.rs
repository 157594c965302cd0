//! The Weibull distribution.

use crate::gumbel::EULER;
use crate::util::{
    self, POSITIVE, accessors, check, common_items, lp_map, lp_sum, param_map, positive,
    reparameterizable,
};
use crate::{Constraint, DistError, Distribution, IntoTensor, Reparameterizable};
use infer_ad::scalar::{digamma, lgamma};
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "Weibull";

/// The Weibull distribution with scale λ and shape k (`concentration`):
///
/// ln p(x) = ln(k/λ) + (k − 1) ln(x/λ) − (x/λ)ᵏ, x > 0 (PyTorch's support is (0, ∞)).
///
/// Entropy γ(1 − 1/k) + ln(λ/k) + 1; mean λΓ(1 + 1/k); variance λ²(Γ(1 + 2/k) − Γ(1 + 1/k)²);
/// cdf 1 − e^{−(x/λ)ᵏ}; pathwise draws λ E^{1/k}, E ~ Exp(1).
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, Weibull};
/// let tape = Tape::new();
/// let d = Weibull::new(tape.var(2.0), tape.var(1.0))?; // Exponential(½)
/// assert!((d.mean()?.to_vec()[0] - 2.0).abs() < 1e-14);
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// PyTorch, `torch.distributions.Weibull`.
#[derive(Debug, Clone, Copy)]
pub struct Weibull<'t> {
    scale: Tensor<'t>,
    concentration: Tensor<'t>,
    batch: Shape,
}

impl<'t> Weibull<'t> {
    /// A Weibull distribution with `scale` λ and `concentration` k.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] when a parameter is not finite and > 0;
    /// [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Weibull::new(tape.var(1.0), tape.var(0.0)).is_err());
    /// ```
    #[inline]
    pub fn new(
        scale: impl IntoTensor<'t>,
        concentration: impl IntoTensor<'t>,
    ) -> Result<Self, DistError> {
        let (scale, concentration) = (scale.into_tensor(), concentration.into_tensor());
        check(NAME, "scale", scale, positive, POSITIVE)?;
        check(NAME, "concentration", concentration, positive, POSITIVE)?;
        let batch = util::batch(NAME, &[scale, concentration])?;
        Ok(Weibull {
            scale,
            concentration,
            batch,
        })
    }

    accessors!(scale, concentration);
}

fn kernel([x, l, k]: [f64; 3]) -> (f64, [f64; 3]) {
    if !(x > 0.0) || x.is_infinite() {
        return if x.is_nan() {
            (f64::NAN, [0.0; 3])
        } else {
            util::neg_inf()
        };
    }
    let lt = x.ln() - l.ln();
    let tk = (k * lt).exp();
    let pw = if k == 1.0 { 0.0 } else { (k - 1.0) * lt };
    let dx = if k == 1.0 { 0.0 } else { (k - 1.0) / x } - k * tk / x;
    (
        k.ln() - l.ln() + pw - tk,
        [dx, k * (tk - 1.0) / l, 1.0 / k + lt - tk * lt],
    )
}

impl<'t> Distribution<'t> for Weibull<'t> {
    common_items!(NAME, Weibull, [scale, concentration]);
    reparameterizable!();

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.scale, self.concentration],
            kernel,
        )
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        lp_sum(
            NAME,
            self.batch,
            [value, self.scale, self.concentration],
            kernel,
        )
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let u = util::uniforms(rng, self.batch.numel());
        let l = util::bvals(self.scale, self.batch);
        let k = util::bvals(self.concentration, self.batch);
        util::array(
            self.batch,
            (0..u.len())
                .map(|i| l[i] * (-u[i].ln()).powf(1.0 / k[i]))
                .collect(),
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale, self.concentration], |[l, k]| {
            (
                EULER * (1.0 - 1.0 / k) + (l / k).ln() + 1.0,
                [1.0 / l, EULER / (k * k) - 1.0 / k],
            )
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale, self.concentration], |[l, k]| {
            let a = 1.0 + 1.0 / k;
            let g = lgamma(a).exp();
            (l * g, [g, -l * g * digamma(a) / (k * k)])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale, self.concentration], |[l, k]| {
            let (a1, a2) = (1.0 + 1.0 / k, 1.0 + 2.0 / k);
            let (g1, g2) = (lgamma(a1).exp(), lgamma(a2).exp());
            let w = g2 - g1 * g1;
            let dw = -2.0 * g2 * digamma(a2) / (k * k) + 2.0 * g1 * g1 * digamma(a1) / (k * k);
            (l * l * w, [2.0 * l * w, l * l * dw])
        })
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.scale, self.concentration],
            |[x, l, k]| {
                if !(x > 0.0) {
                    return (0.0, [0.0; 3]);
                }
                let lt = (x / l).ln();
                let tk = (k * lt).exp();
                let e = (-tk).exp();
                (
                    -(-tk).exp_m1(),
                    [e * k * tk / x, -e * k * tk / l, e * tk * lt],
                )
            },
        )
    }

    fn support(&self) -> Constraint {
        Constraint::Positive
    }
}

impl<'t> Reparameterizable<'t> for Weibull<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.scale.tape();
        let e = util::uniforms(rng, self.batch.numel())
            .into_iter()
            .map(|u| -u.ln())
            .collect();
        let e = util::constant(tape, self.batch, e)?;
        Ok(
            tape.fused_map([self.scale, self.concentration, e], |_, [l, k, e]| {
                let w = e.powf(1.0 / k);
                let x = l * w;
                (x, [w, -x * e.ln() / (k * k), 0.0])
            })?,
        )
    }
}
