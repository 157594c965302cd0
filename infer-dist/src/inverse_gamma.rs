//! The inverse-gamma distribution.

use crate::bind::{Kernel, RKernel, family, kernel_items};
use crate::gamma::{
    gamma_entropy_shape, gamma_ln_density, ln_gamma_with_grad, ln_standard_gamma, std_gamma_pdf,
};
// The parameter-only terms of the log density, a ln b − ln Γ(a) (below the saddle-point
// shape), are the Gamma(a, b) density's: the same function of the same arguments.
use crate::gamma::norm;
use crate::special::{gamma_p_da, gamma_q};
use crate::util::check_param;
use crate::util::{self, POSITIVE, lp_map, param_map, positive};
use crate::{Constraint, DistError};
use infer_ad::scalar::{digamma, lgamma, trigamma};
use infer_ad::{Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "InverseGamma";

family! {
    /// The inverse-gamma distribution: 1/G for G ~ Gamma(α, rate β),
    ///
    /// ln p(x) = α ln β − ln Γ(α) − (α + 1) ln x − β/x, x > 0.
    ///
    /// Entropy α + ln β + ln Γ(α) − (1 + α)ψ(α); mean β/(α − 1) for α > 1 (∞ otherwise);
    /// variance β²/((α − 1)²(α − 2)) for α > 2 (∞ otherwise); cdf Q(α, β/x). Reparameterizable
    /// through the Gamma's implicit gradients.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, InverseGamma};
    /// let tape = Tape::new();
    /// let d = InverseGamma::new(tape.var(3.0), tape.var(4.0))?;
    /// assert_eq!(d.mean()?.to_vec(), vec![2.0]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.InverseGamma`.
    pub struct InverseGamma / InverseGammaK {
        params: [concentration, rate],
        extra: {},
    }
    name: NAME,
    rsample: true,
}

impl<'t> InverseGamma<'t> {
    /// An inverse-gamma distribution with shape `concentration` and scale `rate` (the rate of
    /// the underlying Gamma).
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] when a parameter is not finite and > 0;
    /// [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::InverseGamma::new(tape.var(1.0), tape.var(0.0)).is_err());
    /// ```
    #[inline]
    pub fn new(
        concentration: impl crate::IntoParam<'t>,
        rate: impl crate::IntoParam<'t>,
    ) -> Result<Self, DistError> {
        let [concentration, rate] = crate::param::take_params!(NAME; concentration, rate);
        check_param(NAME, "concentration", &concentration, positive, POSITIVE)?;
        check_param(NAME, "rate", &rate, positive, POSITIVE)?;
        let batch = util::param_batch(NAME, &[&concentration, &rate])?;
        Ok(InverseGamma {
            concentration,
            rate,
            batch,
        })
    }
}

fn kernel([x, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
    if !(x > 0.0) || x.is_infinite() {
        return util::off_support(x);
    }
    let lx = x.ln();
    // b/x, not b·(1/x): 1/x overflows for a subnormal x where b/x does not
    let bx = b / x;
    // a ln b − (a + 1) ln x − b/x − ln Γ(a) is the Gamma(a, b) log density of 1/x (in the
    // saddle-point form for a large a, see `gamma_ln_density`) minus 2 ln x
    (
        gamma_ln_density(a, b.ln(), -lx, bx) - 2.0 * lx,
        [
            (bx - (a + 1.0)) / x,
            b.ln() - digamma(a) - lx,
            // a/b − 1/x as (a − b/x)/b, here times b: for a tiny b and x both quotients
            // overflowed (∞ − ∞)
            a - bx,
        ],
    )
}

/// [`kernel`] without its parameter-only terms ([`norm`]), for `log_prob_sum` with scalar a
/// and b: −(a + 1) ln x − b/x, with the partials −ln x for a and −b/x for b (times b).
fn data([x, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
    if !(x > 0.0) || x.is_infinite() {
        return util::off_support(x);
    }
    let lx = x.ln();
    let bx = b / x;
    (-(a + 1.0) * lx - bx, [(bx - (a + 1.0)) / x, -lx, -bx])
}

/// The partial of [`kernel`], [`data`] and `norm` for the rate b is in scaled form (times b).
const SCALED: util::Scaled<3> = util::Scaled {
    by: 2,
    pow: [0, 0, 1],
};

impl<'t> Kernel<'t> for InverseGammaK<'t> {
    kernel_items!(NAME);

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.concentration, self.rate],
            SCALED.kernel(kernel),
        )
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        util::lp_sum_hoisted(
            NAME,
            self.batch,
            [value, self.concentration, self.rate],
            kernel,
            data,
            norm,
            SCALED,
        )
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let a = util::bvals(self.concentration, self.batch);
        let b = util::bvals(self.rate, self.batch);
        let mut x = Vec::with_capacity(a.len());
        for i in 0..a.len() {
            x.push(b[i] * (-ln_standard_gamma(rng, a[i], NAME)?).exp());
        }
        util::draws(NAME, self.batch, x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.concentration, self.rate], |[a, b]| {
            (
                // a + ln b + ln Γ(a) − (1 + a)ψ(a); for a ≥ 20 as the Gamma(a, 1) entropy
                // (stable for a huge a) + ln b − 2ψ(a)
                if a < 20.0 {
                    a + b.ln() + lgamma(a) - (1.0 + a) * digamma(a)
                } else {
                    gamma_entropy_shape(a) + b.ln() - 2.0 * digamma(a)
                },
                [1.0 - (1.0 + a) * trigamma(a), 1.0 / b],
            )
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.concentration, self.rate], |[a, b]| {
            if a > 1.0 {
                let r = 1.0 / (a - 1.0);
                (b * r, [-b * r * r, r])
            } else {
                (f64::INFINITY, [0.0; 2])
            }
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.concentration, self.rate], |[a, b]| {
            if a > 2.0 {
                // b²/((a − 1)²(a − 2)) as r · r/(a − 2) with r = b/(a − 1): b² and the
                // denominator overflow separately (∞/∞ = NaN) for a huge a and b whose
                // variance is finite. ∂/∂a = −V (2/(a − 1) + 1/(a − 2)),
                // ∂/∂b = 2 (r/(a − 1))/(a − 2).
                let r = b / (a - 1.0);
                let v = r * (r / (a - 2.0));
                (
                    v,
                    [
                        -v * (2.0 / (a - 1.0) + 1.0 / (a - 2.0)),
                        2.0 * (r / (a - 1.0)) / (a - 2.0),
                    ],
                )
            } else {
                (f64::INFINITY, [0.0; 2])
            }
        })
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.concentration, self.rate],
            |[x, a, b]| {
                if !(x > 0.0) {
                    return (0.0, [0.0; 3]);
                }
                let y = b / x;
                let p = std_gamma_pdf(a, y);
                // p·b/x² as (p·y)/x: x² underflows to 0 for a tiny x (0/0)
                (
                    gamma_q(a, y),
                    [util::mul0(p, y) / x, -gamma_p_da(a, y), -p / x],
                )
            },
        )
    }

    fn support(&self) -> Constraint {
        Constraint::Positive
    }
}

impl<'t> RKernel<'t> for InverseGammaK<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.rate.tape();
        let a = util::bvals(self.concentration, self.batch);
        // x = β / G: store 1/G and −(d ln G/dα)/G.
        let (mut inv, mut dinv) = (Vec::with_capacity(a.len()), Vec::with_capacity(a.len()));
        for &ai in &a {
            let (l, d) = ln_gamma_with_grad(rng, ai, NAME)?;
            let r = (-l).exp();
            inv.push(r);
            dinv.push(-util::mul0(r, d));
        }
        let inv = util::constant(tape, self.batch, inv)?;
        let dinv = util::constant(tape, self.batch, dinv)?;
        util::rdraws(
            NAME,
            tape.fused_map(
                [self.concentration, self.rate, inv, dinv],
                |_, [_, b, r, dr]| (b * r, [b * dr, r, 0.0, 0.0]),
            )?,
        )
    }
}
