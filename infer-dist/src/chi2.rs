//! The chi-squared distribution.

use crate::bind::{Kernel, RKernel, family, kernel_items};
use crate::gamma::{
    SADDLE_POINT_SHAPE, dx_power, gamma_cdf, gamma_entropy, gamma_ln_density, ln_gamma_with_grad,
    ln_standard_gamma, shape_partial, xlogy_l,
};
use crate::util::check_param;
use crate::util::{self, lp_map, param_map, positive};
use crate::{Constraint, DistError};
use infer_ad::scalar::{digamma, lgamma};
use infer_ad::{Tensor, Var};
use ndarray::ArrayD;
use std::f64::consts::LN_2;

const NAME: &str = "Chi2";

family! {
    /// The chi-squared distribution with ν degrees of freedom: Gamma(ν/2, rate ½),
    ///
    /// ln p(x) = −(ν/2) ln 2 + (ν/2 − 1) ln x − x/2 − ln Γ(ν/2), x ≥ 0.
    ///
    /// Entropy, cdf and the implicit reparameterization gradient are the Gamma's at α = ν/2,
    /// β = ½; mean ν; variance 2ν.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Chi2, Distribution};
    /// let tape = Tape::new();
    /// let d = Chi2::new(tape.var(2.0))?; // Exponential(½)
    /// let c = d.cdf(tape.constant(&ndarray::arr0(2.0)))?;
    /// assert!((c.to_vec()[0] - (1.0 - (-1.0f64).exp())).abs() < 1e-14);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Chi2`.
    pub struct Chi2 / Chi2K {
        params: [df],
        extra: {},
    }
    name: NAME,
    rsample: true,
}

impl<'t> Chi2<'t> {
    /// A chi-squared distribution with `df` degrees of freedom (any positive real).
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] when `df` is not finite and > 0, or is the one subnormal
    /// (5e-324) whose half underflows to 0.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Chi2::new(tape.var(0.0)).is_err());
    /// ```
    #[inline]
    pub fn new(df: impl crate::IntoParam<'t>) -> Result<Self, DistError> {
        let [df] = crate::param::take_params!(NAME; df);
        // Chi2(ν) is Gamma(ν/2, ½): ν/2 must not underflow to 0, which it does for the one
        // value ν = 5e-324 (the smallest subnormal)
        check_param(
            NAME,
            "df",
            &df,
            |v| positive(v) && 0.5 * v > 0.0,
            "must be finite and > 0, with df/2 > 0 (df ≥ 1e-323)",
        )?;
        let batch = df.shape()?;
        Ok(Chi2 { df, batch })
    }
}

fn kernel([x, v]: [f64; 2]) -> (f64, [f64; 2]) {
    if !(x >= 0.0) || x.is_infinite() {
        return util::off_support(x);
    }
    let a = 0.5 * v;
    (
        // the Gamma(ν/2, ½) log density, in its stable form for a large ν
        gamma_ln_density(a, -LN_2, x.ln(), 0.5 * x),
        [dx_power(a, x) - 0.5, 0.5 * shape_partial(-LN_2, x.ln(), a)],
    )
}

/// [`kernel`] without its parameter-only terms ([`norm`]), for `log_prob_sum` with a scalar
/// ν: (ν/2 − 1) ln x − x/2, with the partial ½ ln x for ν.
fn data([x, v]: [f64; 2]) -> (f64, [f64; 2]) {
    if !(x >= 0.0) || x.is_infinite() {
        return util::off_support(x);
    }
    let a = 0.5 * v;
    let lx = x.ln();
    (
        xlogy_l(a - 1.0, lx) - 0.5 * x,
        [dx_power(a, x) - 0.5, 0.5 * lx],
    )
}

/// The parameter-only terms of [`kernel`], −(ν/2) ln 2 − ln Γ(ν/2), while ν/2 is below the size
/// where [`gamma_ln_density`] takes the saddle-point form (NaN beyond: `log_prob_sum` then
/// sums the kernel).
fn norm([_, v]: [f64; 2]) -> (f64, [f64; 2]) {
    let a = 0.5 * v;
    if a >= SADDLE_POINT_SHAPE {
        return (f64::NAN, [0.0; 2]);
    }
    (-a * LN_2 - lgamma(a), [0.0, 0.5 * (-LN_2 - digamma(a))])
}

/// No scale parameter: the partials are as they are.
const SCALED: util::Scaled<2> = util::Scaled { by: 1, pow: [0, 0] };

impl<'t> Kernel<'t> for Chi2K<'t> {
    kernel_items!(NAME);

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(NAME, self.batch, [value, self.df], kernel)
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        util::lp_sum_hoisted(
            NAME,
            self.batch,
            [value, self.df],
            kernel,
            data,
            norm,
            SCALED,
        )
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let v = util::bvals(self.df, self.batch);
        let mut x = Vec::with_capacity(v.len());
        for &vi in &v {
            x.push(2.0 * ln_standard_gamma(rng, 0.5 * vi, NAME)?.exp());
        }
        util::draws(NAME, self.batch, x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.df], |[v]| {
            let (h, [da, _]) = gamma_entropy(0.5 * v, 0.5);
            (h, [0.5 * da])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.df.broadcast_to(self.batch)?)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        Ok(self.df.scale(2.0).broadcast_to(self.batch)?)
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(NAME, self.batch, [value, self.df], |[x, v]| {
            let (c, [dx, da, _]) = gamma_cdf(x, 0.5 * v, 0.5);
            (c, [dx, 0.5 * da])
        })
    }

    fn support(&self) -> Constraint {
        Constraint::GreaterThanEq(0.0)
    }
}

impl<'t> RKernel<'t> for Chi2K<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.df.tape();
        let v = util::bvals(self.df, self.batch);
        let (mut x, mut dx) = (Vec::with_capacity(v.len()), Vec::with_capacity(v.len()));
        for &vi in &v {
            let (l, d) = ln_gamma_with_grad(rng, 0.5 * vi, NAME)?;
            let xi = 2.0 * l.exp();
            x.push(xi);
            // 0 · ∞ = 0: a draw that underflowed to 0 does not move with ν
            dx.push(0.5 * util::mul0(xi, d));
        }
        let x = util::constant(tape, self.batch, x)?;
        let dx = util::constant(tape, self.batch, dx)?;
        util::rdraws(
            NAME,
            tape.fused_map([self.df, x, dx], |_, [_, x, dx]| (x, [dx, 0.0, 0.0]))?,
        )
    }
}
