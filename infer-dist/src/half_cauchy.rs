//! The half-Cauchy distribution.

use crate::bind::{Kernel, RKernel, family, kernel_items};
use crate::util::check_param;
use crate::util::{self, POSITIVE, lp_map, param_map, positive};
use crate::{Constraint, DistError};
use infer_ad::{Tensor, Var, fastmath};
use ndarray::ArrayD;
use std::f64::consts::{LN_2, PI};

const NAME: &str = "HalfCauchy";

family! {
    /// The half-Cauchy distribution: |C| γ for a standard Cauchy C,
    ///
    /// ln p(x) = ln 2 − ln π − ln γ − ln(1 + (x/γ)²), x ≥ 0.
    ///
    /// Entropy ln(2πγ); cdf (2/π) atan(x/γ); mean and variance ∞ (as PyTorch returns).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, HalfCauchy};
    /// let tape = Tape::new();
    /// let d = HalfCauchy::new(tape.var(2.0))?;
    /// let c = d.cdf(tape.constant(&ndarray::arr0(2.0)))?;
    /// assert!((c.to_vec()[0] - 0.5).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.HalfCauchy`.
    pub struct HalfCauchy / HalfCauchyK {
        params: [scale],
        extra: {},
    }
    name: NAME,
    rsample: true,
}

impl<'t> HalfCauchy<'t> {
    /// A half-Cauchy distribution with scale γ.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a `scale` that is not finite and > 0.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::HalfCauchy::new(tape.var(f64::INFINITY)).is_err());
    /// ```
    #[inline]
    pub fn new(scale: impl crate::IntoParam<'t>) -> Result<Self, DistError> {
        let [scale] = crate::param::take_params!(NAME; scale);
        check_param(NAME, "scale", &scale, positive, POSITIVE)?;
        let batch = scale.shape()?;
        Ok(HalfCauchy { scale, batch })
    }
}

fn kernel([x, s]: [f64; 2]) -> (f64, [f64; 2]) {
    if !(x >= 0.0) || x.is_infinite() {
        return util::off_support(x);
    }
    let z = x / s;
    let z2 = z * z;
    // ln(1 + z²), z/(1 + z²) and (z² − 1)/(z² + 1) = 1 − 2/(1 + z²), also when z² overflows
    // (then 2 ln z from the logs, 1/z and 1): the ratios of two infinities were NaN
    let (l, g) = if z2.is_finite() {
        (fastmath::ln_1p(z2), z / (1.0 + z2))
    } else {
        (2.0 * (x.ln() - s.ln()), 1.0 / z)
    };
    (
        LN_2 - PI.ln() - fastmath::ln(s) - l,
        [-2.0 * g / s, 1.0 - 2.0 / (1.0 + z2)],
    )
}

/// [`kernel`] without its parameter-only terms ([`norm`]), for `log_prob_sum` with a scalar σ.
fn data([x, s]: [f64; 2]) -> (f64, [f64; 2]) {
    if !(x >= 0.0) || x.is_infinite() {
        return util::off_support(x);
    }
    let z = x / s;
    let z2 = z * z;
    let (l, g) = if z2.is_finite() {
        (fastmath::ln_1p(z2), z / (1.0 + z2))
    } else {
        (2.0 * (x.ln() - s.ln()), 1.0 / z)
    };
    (-l, [-2.0 * g / s, 2.0 - 2.0 / (1.0 + z2)])
}

/// The parameter-only terms of [`kernel`]: ln 2 − ln π − ln σ.
fn norm([_, s]: [f64; 2]) -> (f64, [f64; 2]) {
    (LN_2 - PI.ln() - fastmath::ln(s), [0.0, -1.0])
}

/// The partials of [`kernel`], [`data`] and [`norm`] for σ are in scaled form (times σ).
const SCALED: util::Scaled<2> = util::Scaled { by: 1, pow: [0, 1] };

impl<'t> Kernel<'t> for HalfCauchyK<'t> {
    kernel_items!(NAME);

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(NAME, self.batch, [value, self.scale], SCALED.kernel(kernel))
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        util::lp_sum_hoisted(
            NAME,
            self.batch,
            [value, self.scale],
            kernel,
            data,
            norm,
            SCALED,
        )
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let u = util::uniforms(rng, self.batch.numel());
        let s = util::bvals(self.scale, self.batch);
        util::draws(
            NAME,
            self.batch,
            (0..u.len())
                .map(|i| s[i] * (PI * (u[i] - 0.5)).tan().abs())
                .collect(),
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |[s]| {
            ((2.0 * PI * s).ln(), [1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |_| (f64::INFINITY, [0.0]))
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |_| (f64::INFINITY, [0.0]))
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(NAME, self.batch, [value, self.scale], |[x, s]| {
            if !(x > 0.0) {
                return (0.0, [0.0; 2]);
            }
            let z = x / s;
            let d = 2.0 / (PI * s * (1.0 + z * z));
            // the density times z → 0 as z → ∞ (0·∞ at z = ∞)
            (2.0 / PI * z.atan(), [d, -util::mul0(d, z)])
        })
    }

    fn support(&self) -> Constraint {
        Constraint::GreaterThanEq(0.0)
    }
}

impl<'t> RKernel<'t> for HalfCauchyK<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.scale.tape();
        let e = util::uniforms(rng, self.batch.numel())
            .into_iter()
            .map(|u| (PI * (u - 0.5)).tan().abs())
            .collect();
        let eps = util::constant(tape, self.batch, e)?;
        util::rdraws(
            NAME,
            tape.fused_map([self.scale, eps], |_, [s, e]| (s * e, [e, 0.0]))?,
        )
    }
}
