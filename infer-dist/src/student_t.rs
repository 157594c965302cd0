//! Student's t distribution.

use crate::gamma::{ln_gamma_with_grad, ln_standard_gamma};
use crate::util::{
    self, FINITE, POSITIVE, accessors, check, common_items, finite, lp_map, lp_sum, param_map,
    positive, reparameterizable,
};
use crate::{Constraint, DistError, Distribution, IntoTensor, Reparameterizable};
use infer_ad::scalar::{digamma, lgamma, trigamma};
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;
use std::f64::consts::PI;

const NAME: &str = "StudentT";

/// Student's t distribution with ν = `df` degrees of freedom, location μ and scale σ:
///
/// ln p(x) = −((ν + 1)/2) ln(1 + z²/ν) − ln σ − ½ ln(νπ) − ln Γ(ν/2) + ln Γ((ν + 1)/2),
/// z = (x − μ)/σ.
///
/// Entropy ln σ + ((ν + 1)/2)(ψ((ν + 1)/2) − ψ(ν/2)) + ½ ln ν + ln B(ν/2, ½); mean μ for ν > 1
/// (NaN otherwise); variance σ²ν/(ν − 2) for ν > 2, ∞ for 1 < ν ≤ 2, NaN for ν ≤ 1; no cdf
/// (as PyTorch). Reparameterizable as μ + σ Z √(ν/V), V ~ χ²(ν) through the Gamma's implicit
/// gradients.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, StudentT};
/// let tape = Tape::new();
/// let d = StudentT::new(tape.var(1.0), tape.var(0.0), tape.var(1.0))?; // Cauchy
/// let lp = d.log_prob(tape.constant(&ndarray::arr0(0.0)))?;
/// assert!((lp.to_vec()[0] + std::f64::consts::PI.ln()).abs() < 1e-14);
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// PyTorch, `torch.distributions.StudentT`.
#[derive(Debug, Clone, Copy)]
pub struct StudentT<'t> {
    df: Tensor<'t>,
    loc: Tensor<'t>,
    scale: Tensor<'t>,
    batch: Shape,
}

impl<'t> StudentT<'t> {
    /// A Student's t distribution.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for a `df` or `scale` that is not finite and > 0, or a
    /// non-finite `loc`; [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::StudentT::new(tape.var(0.0), tape.var(0.0), tape.var(1.0)).is_err());
    /// ```
    #[inline]
    pub fn new(
        df: impl IntoTensor<'t>,
        loc: impl IntoTensor<'t>,
        scale: impl IntoTensor<'t>,
    ) -> Result<Self, DistError> {
        let (df, loc, scale) = (df.into_tensor(), loc.into_tensor(), scale.into_tensor());
        check(NAME, "df", df, positive, POSITIVE)?;
        check(NAME, "loc", loc, finite, FINITE)?;
        check(NAME, "scale", scale, positive, POSITIVE)?;
        let batch = util::batch(NAME, &[df, loc, scale])?;
        Ok(StudentT {
            df,
            loc,
            scale,
            batch,
        })
    }

    accessors!(df, loc, scale);
}

fn kernel([x, v, m, s]: [f64; 4]) -> (f64, [f64; 4]) {
    if x.is_infinite() {
        return util::neg_inf();
    }
    let z = (x - m) / s;
    let q = z * z / v;
    let l = q.ln_1p();
    let h0 = 0.5 * v;
    let h1 = 0.5 * (v + 1.0);
    let norm = s.ln() + 0.5 * v.ln() + 0.5 * PI.ln() + lgamma(h0) - lgamma(h1);
    // ∂/∂z of −h1 ln(1 + z²/ν) = −(ν + 1) z / (ν + z²)
    let dz = -(v + 1.0) * z / (v + z * z);
    let dv = -0.5 * l + h1 * q / (v * (1.0 + q)) - 0.5 / v - 0.5 * digamma(h0) + 0.5 * digamma(h1);
    (-h1 * l - norm, [dz / s, dv, -dz / s, -dz * z / s - 1.0 / s])
}

impl<'t> Distribution<'t> for StudentT<'t> {
    common_items!(NAME, StudentT, [df, loc, scale]);
    reparameterizable!();

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.df, self.loc, self.scale],
            kernel,
        )
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        lp_sum(
            NAME,
            self.batch,
            [value, self.df, self.loc, self.scale],
            kernel,
        )
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let v = util::bvals(self.df, self.batch);
        let m = util::bvals(self.loc, self.batch);
        let s = util::bvals(self.scale, self.batch);
        let mut x = Vec::with_capacity(v.len());
        for i in 0..v.len() {
            let z = util::normals(rng, 1)[0];
            let lg = ln_standard_gamma(rng, 0.5 * v[i], NAME)?;
            // √(ν/V) with V = 2G
            let t = z * (0.5 * (v[i].ln() - std::f64::consts::LN_2 - lg)).exp();
            x.push(m[i] + s[i] * t);
        }
        util::array(self.batch, x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.df, self.scale], |[v, s]| {
            let (h0, h1) = (0.5 * v, 0.5 * (v + 1.0));
            let lbeta = lgamma(h0) + lgamma(0.5) - lgamma(h1);
            let h = s.ln() + h1 * (digamma(h1) - digamma(h0)) + 0.5 * v.ln() + lbeta;
            let dv = 0.5 * h1 * (trigamma(h1) - trigamma(h0)) + 0.5 / v;
            (h, [dv, 1.0 / s])
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.df, self.loc], |[v, m]| {
            if v > 1.0 {
                (m, [0.0, 1.0])
            } else {
                (f64::NAN, [0.0; 2])
            }
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.df, self.scale], |[v, s]| {
            if v > 2.0 {
                let r = v / (v - 2.0);
                (
                    s * s * r,
                    [-2.0 * s * s / ((v - 2.0) * (v - 2.0)), 2.0 * s * r],
                )
            } else if v > 1.0 {
                (f64::INFINITY, [0.0; 2])
            } else {
                (f64::NAN, [0.0; 2])
            }
        })
    }

    fn support(&self) -> Constraint {
        Constraint::Real
    }
}

impl<'t> Reparameterizable<'t> for StudentT<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.df.tape();
        let v = util::bvals(self.df, self.batch);
        let (mut t, mut dt) = (Vec::with_capacity(v.len()), Vec::with_capacity(v.len()));
        for &vi in &v {
            let z = util::normals(rng, 1)[0];
            let (lg, dlg) = ln_gamma_with_grad(rng, 0.5 * vi, NAME)?;
            let ti = z * (0.5 * (vi.ln() - std::f64::consts::LN_2 - lg)).exp();
            t.push(ti);
            // d ln T/dν = ½/ν − ½ · d ln G/dν, d ln G/dν = ½ · d ln G/dα
            dt.push(ti * (0.5 / vi - 0.25 * dlg));
        }
        let t = util::constant(tape, self.batch, t)?;
        let dt = util::constant(tape, self.batch, dt)?;
        Ok(tape.fused_map(
            [self.df, self.loc, self.scale, t, dt],
            |_, [_, m, s, t, dt]| (m + s * t, [s * dt, 1.0, t, 0.0, 0.0]),
        )?)
    }
}
