//! The gamma distribution, and the standard-gamma draws (with their implicit
//! reparameterization gradients) that Beta, Dirichlet, Chi2, StudentT and InverseGamma share.

use crate::special::{dlnx_dalpha, gamma_p, gamma_p_da};
use crate::util::{
    self, POSITIVE, accessors, check, common_items, lp_map, lp_sum, param_map, positive,
    reparameterizable,
};
use crate::{Constraint, DistError, Distribution, IntoTensor, Reparameterizable};
use infer_ad::scalar::{digamma, lgamma, trigamma};
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;
use rand::Rng;

const NAME: &str = "Gamma";

/// The logarithm of a standard Gamma(α, 1) draw. For α ≥ 1 it is `rand_distr`'s
/// Marsaglia–Tsang sampler; for α < 1 the boost G(α) = G(α + 1)·U^{1/α} is applied in log space,
/// so that draws far below the smallest f64 (tiny α) keep a finite logarithm.
pub(crate) fn ln_standard_gamma(
    rng: &mut dyn rand::RngCore,
    alpha: f64,
    dist: &'static str,
) -> Result<f64, DistError> {
    let bad = |_| DistError::Sampling {
        dist,
        reason: "gamma shape must be finite and > 0",
    };
    if alpha >= 1.0 {
        let g = rand_distr::Gamma::new(alpha, 1.0).map_err(bad)?;
        Ok(rng.sample(g).ln())
    } else {
        let g = rand_distr::Gamma::new(alpha + 1.0, 1.0).map_err(bad)?;
        let x: f64 = rng.sample(g);
        let u = util::uniforms(rng, 1)[0];
        Ok(x.ln() + u.ln() / alpha)
    }
}

/// A standard gamma draw as `(ln g, d ln g/dα)`.
pub(crate) fn ln_gamma_with_grad(
    rng: &mut dyn rand::RngCore,
    alpha: f64,
    dist: &'static str,
) -> Result<(f64, f64), DistError> {
    let l = ln_standard_gamma(rng, alpha, dist)?;
    Ok((l, dlnx_dalpha(alpha, l)))
}

/// d/dx of (a − 1) ln x, with the `xlogy` convention at a = 1.
#[inline]
pub(crate) fn dx_power(a: f64, x: f64) -> f64 {
    if a == 1.0 { 0.0 } else { (a - 1.0) / x }
}

/// The density of Gamma(α, 1) at y.
pub(crate) fn std_gamma_pdf(a: f64, y: f64) -> f64 {
    if !(y > 0.0) {
        return 0.0;
    }
    ((a - 1.0) * y.ln() - y - lgamma(a)).exp()
}

/// `c ln x` with PyTorch's `xlogy` convention `0 · ln 0 = 0`.
#[inline]
pub(crate) fn xlogy(c: f64, x: f64) -> f64 {
    if c == 0.0 && !x.is_nan() {
        0.0
    } else {
        c * x.ln()
    }
}

/// The gamma distribution with shape α (`concentration`) and rate β:
///
/// ln p(x) = α ln β + (α − 1) ln x − βx − ln Γ(α), x ≥ 0.
///
/// Entropy α − ln β + ln Γ(α) + (1 − α)ψ(α); mean α/β; variance α/β²; cdf P(α, βx) (the
/// regularized incomplete gamma function, [`crate::special::gamma_p`]).
///
/// Reparameterizable through implicit gradients: a draw x = G/β with G ~ Gamma(α, 1) has
/// ∂x/∂α = −(∂P/∂α)(G; α) / (β p(G; α)) ([`crate::special::standard_gamma_grad`]).
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, Gamma};
/// let tape = Tape::new();
/// let d = Gamma::new(tape.var(1.0), tape.var(2.0))?; // Exponential(2)
/// let lp = d.log_prob(tape.constant(&ndarray::arr0(0.5)))?;
/// assert!((lp.to_vec()[0] - (2f64.ln() - 1.0)).abs() < 1e-15);
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// PyTorch, `torch.distributions.Gamma`; M. Figurnov, S. Mohamed, A. Mnih (2018), *Implicit
/// Reparameterization Gradients*.
#[derive(Debug, Clone, Copy)]
pub struct Gamma<'t> {
    concentration: Tensor<'t>,
    rate: Tensor<'t>,
    batch: Shape,
}

impl<'t> Gamma<'t> {
    /// A gamma distribution with shape `concentration` and `rate`.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] when a parameter is not finite and > 0;
    /// [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Gamma::new(tape.var(0.0), tape.var(1.0)).is_err());
    /// ```
    #[inline]
    pub fn new(
        concentration: impl IntoTensor<'t>,
        rate: impl IntoTensor<'t>,
    ) -> Result<Self, DistError> {
        let (concentration, rate) = (concentration.into_tensor(), rate.into_tensor());
        check(NAME, "concentration", concentration, positive, POSITIVE)?;
        check(NAME, "rate", rate, positive, POSITIVE)?;
        let batch = util::batch(NAME, &[concentration, rate])?;
        Ok(Gamma {
            concentration,
            rate,
            batch,
        })
    }

    accessors!(concentration, rate);
}

fn kernel([x, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
    if !(x >= 0.0) || x.is_infinite() {
        return if x.is_nan() {
            (f64::NAN, [0.0; 3])
        } else {
            util::neg_inf()
        };
    }
    let lx = x.ln();
    (
        a * b.ln() + xlogy(a - 1.0, x) - b * x - lgamma(a),
        [dx_power(a, x) - b, b.ln() + lx - digamma(a), a / b - x],
    )
}

/// Entropy of Gamma(α, β) with its partials.
pub(crate) fn gamma_entropy(a: f64, b: f64) -> (f64, [f64; 2]) {
    (
        a - b.ln() + lgamma(a) + (1.0 - a) * digamma(a),
        [1.0 + (1.0 - a) * trigamma(a), -1.0 / b],
    )
}

/// cdf P(α, βx) with partials in (x, α, β).
pub(crate) fn gamma_cdf(x: f64, a: f64, b: f64) -> (f64, [f64; 3]) {
    if !(x > 0.0) {
        return (0.0, [0.0; 3]);
    }
    let y = b * x;
    let p = std_gamma_pdf(a, y);
    (gamma_p(a, y), [b * p, gamma_p_da(a, y), x * p])
}

impl<'t> Distribution<'t> for Gamma<'t> {
    common_items!(NAME, Gamma, [concentration, rate]);
    reparameterizable!();

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.concentration, self.rate],
            kernel,
        )
    }

    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        lp_sum(
            NAME,
            self.batch,
            [value, self.concentration, self.rate],
            kernel,
        )
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let a = util::bvals(self.concentration, self.batch);
        let b = util::bvals(self.rate, self.batch);
        let mut x = Vec::with_capacity(a.len());
        for i in 0..a.len() {
            x.push(ln_standard_gamma(rng, a[i], NAME)?.exp() / b[i]);
        }
        util::array(self.batch, x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.concentration, self.rate], |[a, b]| {
            gamma_entropy(a, b)
        })
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.concentration, self.rate], |[a, b]| {
            (a / b, [1.0 / b, -a / (b * b)])
        })
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(self.batch, [self.concentration, self.rate], |[a, b]| {
            let b2 = b * b;
            (a / b2, [1.0 / b2, -2.0 * a / (b2 * b)])
        })
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        lp_map(
            NAME,
            self.batch,
            [value, self.concentration, self.rate],
            |[x, a, b]| gamma_cdf(x, a, b),
        )
    }

    fn support(&self) -> Constraint {
        Constraint::GreaterThanEq(0.0)
    }
}

impl<'t> Reparameterizable<'t> for Gamma<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.rate.tape();
        let a = util::bvals(self.concentration, self.batch);
        let (mut g, mut dg) = (Vec::with_capacity(a.len()), Vec::with_capacity(a.len()));
        for &ai in &a {
            let (l, d) = ln_gamma_with_grad(rng, ai, NAME)?;
            let gi = l.exp();
            g.push(gi);
            dg.push(gi * d);
        }
        let g = util::constant(tape, self.batch, g)?;
        let dg = util::constant(tape, self.batch, dg)?;
        Ok(tape.fused_map(
            [self.concentration, self.rate, g, dg],
            |_, [_, b, g, dg]| (g / b, [dg / b, -g / (b * b), 0.0, 0.0]),
        )?)
    }
}
