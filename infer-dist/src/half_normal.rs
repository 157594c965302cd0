//! The half-normal distribution.

use crate::bind::{Kernel, RKernel, family, kernel_items};
use crate::util::check_param;
use crate::util::{self, POSITIVE, lp_map, param_map, positive};
use crate::{Constraint, DistError};
use infer_ad::scalar::{LN_SQRT_2PI, erf};
use infer_ad::{Tensor, Var};
use ndarray::ArrayD;
use std::f64::consts::{LN_2, PI, SQRT_2};

const NAME: &str = "HalfNormal";

family! {
    /// The half-normal distribution: |Z| σ for Z ~ N(0, 1),
    ///
    /// ln p(x) = ln 2 − x²/(2σ²) − ln σ − ln √(2π), x ≥ 0.
    ///
    /// Entropy ½ + ln √(2π) + ln σ − ln 2; mean σ√(2/π); variance σ²(1 − 2/π); cdf erf(x/(σ√2)).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Distribution, HalfNormal};
    /// let tape = Tape::new();
    /// let d = HalfNormal::new(tape.var(1.0))?;
    /// assert_eq!(d.log_prob(tape.constant(&ndarray::arr0(-0.1)))?.to_vec()[0], f64::NEG_INFINITY);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.HalfNormal`.
    pub struct HalfNormal / HalfNormalK {
        params: [scale],
        extra: {},
    }
    name: NAME,
    rsample: true,
}

impl<'t> HalfNormal<'t> {
    /// A half-normal distribution with scale σ.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a `scale` that is not finite and > 0.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::HalfNormal::new(tape.var(0.0)).is_err());
    /// ```
    #[inline]
    pub fn new(scale: impl crate::IntoParam<'t>) -> Result<Self, DistError> {
        let [scale] = crate::param::take_params!(NAME; scale);
        check_param(NAME, "scale", &scale, positive, POSITIVE)?;
        let batch = scale.shape()?;
        Ok(HalfNormal { scale, batch })
    }
}

fn kernel([x, s]: [f64; 2]) -> (f64, [f64; 2]) {
    if !(x >= 0.0) || x.is_infinite() {
        return util::off_support(x);
    }
    let z = x / s;
    (
        LN_2 - 0.5 * z * z - s.ln() - LN_SQRT_2PI,
        [-z / s, z * z - 1.0],
    )
}

/// [`kernel`] without its parameter-only terms ([`norm`]), for `log_prob_sum` with a scalar σ.
fn data([x, s]: [f64; 2]) -> (f64, [f64; 2]) {
    if !(x >= 0.0) || x.is_infinite() {
        return util::off_support(x);
    }
    let z = x / s;
    (-0.5 * z * z, [-z / s, z * z])
}

/// The parameter-only terms of [`kernel`]: ln 2 − ln σ − ln √(2π).
fn norm([_, s]: [f64; 2]) -> (f64, [f64; 2]) {
    (LN_2 - s.ln() - LN_SQRT_2PI, [0.0, -1.0])
}

/// The partials of [`kernel`], [`data`] and [`norm`] for σ are in scaled form (times σ).
const SCALED: util::Scaled<2> = util::Scaled { by: 1, pow: [0, 1] };

impl<'t> Kernel<'t> for HalfNormalK<'t> {
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
        let eps = util::normals(rng, self.batch.numel());
        let s = util::bvals(self.scale, self.batch);
        util::draws(
            NAME,
            self.batch,
            (0..eps.len()).map(|i| s[i] * eps[i].abs()).collect(),
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.scale], |[s]| {
            (0.5 + LN_SQRT_2PI + s.ln() - LN_2, [1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        let c = (2.0 / PI).sqrt();
        param_map(self.batch, [self.scale], move |[s]| (c * s, [c]))
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        let c = 1.0 - 2.0 / PI;
        param_map(self.batch, [self.scale], move |[s]| {
            (c * s * s, [2.0 * c * s])
        })
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(NAME, self.batch, [value, self.scale], |[x, s]| {
            if !(x > 0.0) {
                return (0.0, [0.0; 2]);
            }
            let z = x / s;
            let d = 2.0 * (-0.5 * z * z - LN_SQRT_2PI).exp() / s;
            (erf(z / SQRT_2), [d, -util::mul0(d, z)])
        })
    }

    fn support(&self) -> Constraint {
        Constraint::GreaterThanEq(0.0)
    }
}

impl<'t> RKernel<'t> for HalfNormalK<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.scale.tape();
        let e = util::normals(rng, self.batch.numel())
            .into_iter()
            .map(f64::abs)
            .collect();
        let eps = util::constant(tape, self.batch, e)?;
        util::rdraws(
            NAME,
            tape.fused_map([self.scale, eps], |_, [s, e]| (s * e, [e, 0.0]))?,
        )
    }
}
