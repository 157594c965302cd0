//! The beta distribution.

use crate::bind::{Kernel, RKernel, family, kernel_items};
use crate::gamma::{dx_power, ln_ratio_of_draws, ln_standard_gamma_parts, xlogy};
use crate::special::dlnx_dalpha;
use crate::util::check_param;
use crate::util::{self, POSITIVE, lp_map, lp_sum, param_map, positive};
use crate::{Constraint, DistError};
use infer_ad::scalar::{digamma, lgamma, sigmoid, trigamma};
use infer_ad::{Tensor, Var};
use ndarray::ArrayD;

const NAME: &str = "Beta";

family! {
    /// The beta distribution with `concentration1` a and `concentration0` b:
    ///
    /// ln p(x) = (a − 1) ln x + (b − 1) ln(1 − x) − ln B(a, b), x ∈ [0, 1].
    ///
    /// Entropy ln B(a, b) − (a − 1)ψ(a) − (b − 1)ψ(b) + (a + b − 2)ψ(a + b); mean a/(a + b);
    /// variance ab/((a + b)²(a + b + 1)); no cdf (as PyTorch). Reparameterizable as
    /// G₁/(G₁ + G₂) with Gᵢ standard gamma draws carrying implicit gradients.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Beta, Distribution};
    /// let tape = Tape::new();
    /// let d = Beta::new(tape.var(2.0), tape.var(2.0))?;
    /// let lp = d.log_prob(tape.constant(&ndarray::arr0(0.5)))?;
    /// assert!((lp.to_vec()[0] - 1.5f64.ln()).abs() < 1e-14);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// PyTorch, `torch.distributions.Beta`.
    pub struct Beta / BetaK {
        params: [concentration1, concentration0],
        extra: {},
    }
    name: NAME,
    rsample: true,
}

impl<'t> Beta<'t> {
    /// A beta distribution.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] when a concentration is not finite and > 0;
    /// [`DistError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Beta::new(tape.var(1.0), tape.var(-2.0)).is_err());
    /// ```
    #[inline]
    pub fn new(
        concentration1: impl crate::IntoParam<'t>,
        concentration0: impl crate::IntoParam<'t>,
    ) -> Result<Self, DistError> {
        let [c1, c0] = crate::param::take_params!(NAME; concentration1, concentration0);
        check_param(NAME, "concentration1", &c1, positive, POSITIVE)?;
        check_param(NAME, "concentration0", &c0, positive, POSITIVE)?;
        let batch = util::param_batch(NAME, &[&c1, &c0])?;
        Ok(Beta {
            concentration1: c1,
            concentration0: c0,
            batch,
        })
    }
}

fn kernel([x, a, b]: [f64; 3]) -> (f64, [f64; 3]) {
    if !(0.0..=1.0).contains(&x) {
        return if x.is_nan() {
            (f64::NAN, [0.0; 3])
        } else {
            util::neg_inf()
        };
    }
    let y = 1.0 - x;
    // ln(1 − x) by ln_1p (1 − x rounds to 1 for x < 1e-16, and (b − 1) ln(1 − x) matters
    // for a huge b)
    let ly = (-x).ln_1p();
    let ab = digamma(a + b);
    // −ln B(a, b) = ln Γ(a + b) − ln Γ(a) − ln Γ(b), with the larger argument's difference
    // by Stirling (ln Γ(1e308) = ∞, and ∞ − ∞)
    let neg_lbeta = if b >= a {
        util::lgamma_diff(b, a) - lgamma(a)
    } else {
        util::lgamma_diff(a, b) - lgamma(b)
    };
    let cy = if b == 1.0 { 0.0 } else { (b - 1.0) * ly };
    (
        xlogy(a - 1.0, x) + cy + neg_lbeta,
        [
            dx_power(a, x) - dx_power(b, y),
            x.ln() + ab - digamma(a),
            ly + ab - digamma(b),
        ],
    )
}

/// Draws x = G₁/(G₁ + G₂) as σ(ln G₁ − ln G₂), with ∂x/∂a and ∂x/∂b.
pub(crate) fn beta_draw(
    rng: &mut dyn rand::RngCore,
    a: f64,
    b: f64,
) -> Result<(f64, f64, f64), DistError> {
    let p1 = ln_standard_gamma_parts(rng, a, NAME)?;
    let p2 = ln_standard_gamma_parts(rng, b, NAME)?;
    let (l1, l2) = (p1.0 + p1.1 / a, p2.0 + p2.1 / b);
    let (d1, d2) = (dlnx_dalpha(a, l1), dlnx_dalpha(b, l2));
    let x = sigmoid(ln_ratio_of_draws(p1, a, p2, b));
    let w = x * (1.0 - x);
    if w == 0.0 {
        // a draw pinned at 0 or 1 (subnormal shapes): x does not move with a or b
        return Ok((x, 0.0, 0.0));
    }
    Ok((x, w * d1, -w * d2))
}

impl<'t> Kernel<'t> for BetaK<'t> {
    kernel_items!(NAME);

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
        let a = util::bvals(self.concentration1, self.batch);
        let b = util::bvals(self.concentration0, self.batch);
        let mut x = Vec::with_capacity(a.len());
        for i in 0..a.len() {
            let p1 = ln_standard_gamma_parts(rng, a[i], NAME)?;
            let p2 = ln_standard_gamma_parts(rng, b[i], NAME)?;
            x.push(sigmoid(ln_ratio_of_draws(p1, a[i], p2, b[i])));
        }
        util::draws(NAME, self.batch, x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        param_map(
            self.batch,
            [self.concentration1, self.concentration0],
            |[a, b]| {
                // ln B(a, b) − (a − 1)ψ(a) − (b − 1)ψ(b) + (a + b − 2)ψ(a + b), regrouped as
                // ln B − (a − 1)(ψ(a) − ψ(s)) − (b − 1)(ψ(b) − ψ(s)) with the ψ differences and
                // ln B stable for a huge argument (each term was ∞ − ∞ at b = 1e308)
                let s = a + b;
                let (lbeta, da, db) = if b >= a {
                    (
                        lgamma(a) - util::lgamma_diff(b, a),
                        digamma(s) - digamma(a),
                        util::digamma_diff(b, a),
                    )
                } else {
                    (
                        lgamma(b) - util::lgamma_diff(a, b),
                        util::digamma_diff(a, b),
                        digamma(s) - digamma(b),
                    )
                };
                let h = lbeta + (a - 1.0) * da + (b - 1.0) * db;
                let ts = (s - 2.0) * trigamma(s);
                (
                    h,
                    [-(a - 1.0) * trigamma(a) + ts, -(b - 1.0) * trigamma(b) + ts],
                )
            },
        )
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        param_map(
            self.batch,
            [self.concentration1, self.concentration0],
            |[a, b]| {
                let s = a + b;
                (a / s, [b / (s * s), -a / (s * s)])
            },
        )
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        param_map(
            self.batch,
            [self.concentration1, self.concentration0],
            |[a, b]| {
                // v = m n/(s + 1) with m = a/s, n = b/s (s³ overflows for s ≳ 5e102, and
                // the partials were then ∞/∞); ∂v/∂a = n(n − m)/(s(s + 1)) − v/(s + 1)
                let s = a + b;
                let (m, n) = (a / s, b / s);
                let v = m * n / (s + 1.0);
                let ss = s * (s + 1.0);
                (
                    v,
                    [
                        n * (n - m) / ss - v / (s + 1.0),
                        m * (m - n) / ss - v / (s + 1.0),
                    ],
                )
            },
        )
    }

    fn support(&self) -> Constraint {
        Constraint::UnitInterval
    }
}

impl<'t> RKernel<'t> for BetaK<'t> {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let tape = self.concentration1.tape();
        let a = util::bvals(self.concentration1, self.batch);
        let b = util::bvals(self.concentration0, self.batch);
        let n = a.len();
        let (mut x, mut da, mut db) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for i in 0..n {
            let (xi, dai, dbi) = beta_draw(rng, a[i], b[i])?;
            x.push(xi);
            da.push(dai);
            db.push(dbi);
        }
        let x = util::constant(tape, self.batch, x)?;
        let da = util::constant(tape, self.batch, da)?;
        let db = util::constant(tape, self.batch, db)?;
        util::rdraws(
            NAME,
            tape.fused_map(
                [self.concentration1, self.concentration0, x, da, db],
                |_, [_, _, x, da, db]| (x, [da, db, 0.0, 0.0, 0.0]),
            )?,
        )
    }
}
