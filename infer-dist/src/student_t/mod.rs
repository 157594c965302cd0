//! Student's t distribution.

use crate::elementwise::prelude::*;
use crate::gamma::ln_standard_gamma;
use crate::special::{LN_SQRT_2PI, alpha_dlnx_dalpha};
use infer_ad::scalar::{digamma, lgamma, trigamma};
use infer_ad::fastmath;

mod kernel;
#[cfg(test)]
mod tests;

family! {
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
    pub struct StudentT / StudentTK {
        params: [df: Check::POSITIVE, loc: Check::FINITE, scale: Check::POSITIVE],
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
        new,
        support: |_| Constraint::Real,
        rsample: true,
    }
}

impl<'t> Elementwise<'t> for StudentTK<'t> {
    /// The log density and its partials in the form that tends to the normal limit:
    /// with w² = z²/ν and a = ν/2,
    /// ln p = −((ν + 1)/2) ln(1 + w²) − ln σ − ln √(2π) + D(a)
    /// ([`half_ratio`]; the textbook −½ ln(νπ) − ln Γ(ν/2) + ln Γ((ν + 1)/2) is −½ ln(2π) + D(a),
    /// which loses every digit for ν ≳ 1e15). ((ν + 1)/2) ln(1 + w²) is taken as
    /// ½(z² + w²)(1 − w²/2 + w⁴/3) for w² < 1e-8 (exact to 1e-24, and free of the underflow of
    /// z²/ν), and as 2 ln|w| computed in logs when w² overflows.
    fn density([x, v, m, s]: [f64; 4]) -> (f64, [f64; 4]) {
        if x.is_infinite() {
            return util::neg_inf();
        }
        let z = (x - m) / s;
        let rv = v.sqrt();
        let w = z / rv;
        let w2 = w * w;
        let (l, u, g) = if w2.is_finite() {
            (w2.ln_1p(), w2 / (1.0 + w2), w / (1.0 + w2))
        } else {
            // |w| ≥ 1.3e154: ln(1 + w²) = 2 ln|w| to 1e-308; w²/(1 + w²) = 1; w/(1 + w²) = 1/w
            (
                2.0 * (util::ln_abs_diff(x, m) - s.ln() - 0.5 * v.ln()),
                1.0,
                1.0 / w,
            )
        };
        let hl = if w2 < 1e-8 {
            0.5 * (z * z + w2) * (1.0 - w2 * (0.5 - w2 / 3.0))
        } else {
            0.5 * (v + 1.0) * l
        };
        let (d0, d1, _) = half_ratio(v);
        // ∂/∂z = −(ν + 1) z/(ν + z²) = −((ν + 1)/√ν) · w/(1 + w²)
        let dz = -((v + 1.0) / rv) * g;
        // ∂/∂ν = −½ ln(1 + w²) + ½ u + u/(2ν) + ½ D′(ν/2), u = w²/(1 + w²); u − ln(1 + w²) =
        // Σ (−1)ⁿ⁺¹ (1 − 1/n) w²ⁿ by its series for a small w² (the two cancel to ~w⁴/2)
        let u_l = if w2 < 1e-3 {
            -w2 * w2 * (0.5 - w2 * (2.0 / 3.0 - w2 * (0.75 - w2 * (0.8 - w2 * (5.0 / 6.0)))))
        } else {
            u - l
        };
        let dv = 0.5 * u_l + 0.5 * u / v + 0.5 * d1;
        // ∂/∂σ = (−z ∂/∂z − 1)/σ = ((ν + 1) u − 1)/σ; the partials for μ and σ in scaled form
        // (times σ, [`SCALED`])
        let ds = (v + 1.0) * u - 1.0;
        (-hl - s.ln() - LN_SQRT_2PI + d0, [dz / s, dv, -dz, ds])
    }

    const SCALED: Option<Scaled<4>> = Some(SCALED);

    fn log_prob_sum_fast(&self, value: Operand<'_, 't>) -> Result<Option<Var<'t>>, DistError> {
        if self.df.numel() == 1 && self.scale.numel() == 1 {
            if self.loc.numel() == 1 {
                util::value_shape(NAME, value.shape(), self.batch)?;
                return self.log_prob_sum_hoisted(value);
            }
            if self.loc.shape() == value.shape() && value.shape() == self.batch {
                return self.log_prob_sum_hoisted_loc(value);
            }
        }
        Ok(None)
    }

    fn draw([_, v, m, s]: [f64; 4], rng: &mut dyn rand::RngCore) -> Result<f64, DistError> {
        let z = util::normal(rng);
        let lg = ln_standard_gamma(rng, 0.5 * v, NAME)?;
        // √(ν/V) with V = 2G
        let t = z * (0.5 * (v.ln() - std::f64::consts::LN_2 - lg)).exp();
        Ok(m + s * t)
    }

    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let [t, dt] = implicit(self, rng, |[_, v, _, _], rng| {
            let z = util::normal(rng);
            let lg = ln_standard_gamma(rng, 0.5 * v, NAME)?;
            let t = z * (0.5 * (v.ln() - std::f64::consts::LN_2 - lg)).exp();
            // d ln T/dν = ½/ν − ½ · d ln G/dν, d ln G/dν = ½ · d ln G/dα, taken as
            // ½ (1 − α d ln G/dα)/ν with α = ν/2: for a subnormal ν both ½/ν and d ln G/dα
            // overflow (∞ − ∞), while α d ln G/dα stays finite; 0 · ∞ = 0 for a draw at 0
            let sc = alpha_dlnx_dalpha(0.5 * v, lg);
            Ok([t, util::mul0(t, 0.5 * (1.0 - sc) / v)])
        })?;
        util::rdraws(
            NAME,
            self.df.tape().fused_map(
                [self.df, self.loc, self.scale, t, dt],
                |_, [_, m, s, t, dt]| (m + s * t, [s * dt, 1.0, t, 0.0, 0.0]),
            )?,
        )
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        // H = ln σ + ((ν + 1)/2)(ψ((ν + 1)/2) − ψ(ν/2)) + ½ ln ν + ln B(ν/2, ½)
        //   = ln σ + ln √(2π) + ½ + 1/(2ν) + ((ν + 1)/2) D′(ν/2) − D(ν/2)
        // (D of `half_ratio`), which tends to the normal's ln σ + ln √(2π) + ½ as ν → ∞;
        // ∂H/∂ν = −1/(2ν²) + ¼ (ν + 1) D″(ν/2).
        param_map(self.batch, [self.df, self.scale], |[v, s]| {
            let (d0, d1, d2) = half_ratio(v);
            let h1 = 0.5 * (v + 1.0);
            let h = s.ln() + LN_SQRT_2PI + 0.5 + 0.5 / v + h1 * d1 - d0;
            let dv = 0.5 * h1 * d2 - 0.5 / (v * v);
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
                // ∂/∂ν = −2σ²/(ν − 2)², squared after the division (no ∞/∞ for huge ν)
                let q = s / (v - 2.0);
                (s * s * r, [-2.0 * q * q, 2.0 * s * r])
            } else if v > 1.0 {
                (f64::INFINITY, [0.0; 2])
            } else {
                (f64::NAN, [0.0; 2])
            }
        })
    }
}

/// Odd coefficients c₁, c₃, …, c₁₅ of the asymptotic series
/// D(a) ~ Σ c_k a⁻ᵏ, c_k = (−1)^{k+1} (B_{k+1}(½) − B_{k+1}(0)) / (k(k + 1))
/// (Bernoulli polynomials; DLMF 5.11.8 for ln Γ(a + ½) − ln Γ(a)):
/// −1/8, 1/192, −1/640, 17/14336, −31/18432, 691/180224, −5461/425984, 929569/15728640.
const HALF_RATIO: [f64; 8] = [
    -1.0 / 8.0,
    1.0 / 192.0,
    -1.0 / 640.0,
    17.0 / 14336.0,
    -31.0 / 18432.0,
    691.0 / 180_224.0,
    -5461.0 / 425_984.0,
    929_569.0 / 15_728_640.0,
];

/// From this a on, the series (truncated after c₁₅) is used: its error there is below
/// 4e-18 for D and 1e-16 relative for its derivatives (checked against mpmath).
const HALF_RATIO_SERIES: f64 = 10.0;

/// D(a) = ln Γ(a + ½) − ln Γ(a) − ½ ln a with D′(a) and D″(a) at a = ν/2, for ν > 0: the
/// part of the Student-t normalizing constant that vanishes in the normal limit
/// (D ~ −1/(8a)). It takes ν, not a, because ν/2 underflows to 0 for ν = 5e-324.
///
/// Written without cancellation for every ν: by the asymptotic series for large a (the
/// differences of ln Γ and ψ there lose every digit as a → ∞), and for small a through
/// ln Γ(a) = ln Γ(a + 1) − ln a (and the same for ψ, ψ′), so that no ∞ − ∞ arises as a → 0:
/// D = ln Γ(a + ½) − ln Γ(a + 1) + ½ ln a, D′ = ψ(a + ½) − ψ(a + 1) + 1/(2a),
/// D″ = ψ′(a + ½) − ψ′(a + 1) − 1/(2a²).
pub(crate) fn half_ratio(v: f64) -> (f64, f64, f64) {
    let a = 0.5 * v;
    if a >= HALF_RATIO_SERIES {
        let t = 1.0 / a;
        let t2 = t * t;
        let (mut d0, mut d1, mut d2) = (0.0, 0.0, 0.0);
        for (i, &c) in HALF_RATIO.iter().enumerate().rev() {
            let k = (2 * i + 1) as f64;
            d0 = d0 * t2 + c;
            d1 = d1 * t2 - k * c;
            d2 = d2 * t2 + k * (k + 1.0) * c;
        }
        (d0 * t, d1 * t2, d2 * t2 * t)
    } else {
        (
            lgamma(a + 0.5) - lgamma(a + 1.0) + 0.5 * (v.ln() - std::f64::consts::LN_2),
            digamma(a + 0.5) - digamma(a + 1.0) + 1.0 / v,
            trigamma(a + 0.5) - trigamma(a + 1.0) - 2.0 / (v * v),
        )
    }
}

/// The partials of the density and [`Hoisted::term`] for μ and σ are in scaled form (times σ:
/// bounded where the partials overflow for a subnormal σ).
const SCALED: Scaled<4> = Scaled {
    by: 3,
    pow: [0, 0, 1, 1],
};

/// Up to this ν (2⁵³) `log_prob_sum` takes the [`kernel`]: there a w² that underflows
/// changes the value by at most ((ν + 1)/2)·2⁻¹⁰⁷⁴ < 3e-308 per observation (the
/// per-observation [`Hoisted::term`] takes ½(z² + w²) for small w² instead); above, the
/// per-observation terms.
const KERNEL_MAX_DF: f64 = 9_007_199_254_740_992.0;

/// What [`StudentT::log_prob_sum_hoisted`] computes once per call for scalar ν, μ, σ.
#[derive(Clone, Copy)]
struct Hoisted {
    loc: f64,
    /// 1/σ, 1/√ν.
    inv_scale: f64,
    inv_rv: f64,
    /// (ν + 1)/2, (ν + 1)/√ν, 1/(2ν), ν + 1.
    half_v1: f64,
    v1_rv: f64,
    half_inv_v: f64,
    v1: f64,
    /// 1/(σ√ν) (w = (x − μ)/(σ√ν)) and −((ν + 1)/√ν)/σ (∂/∂x = that times w/(1 + w²)), for
    /// the [`kernel`].
    c1: f64,
    kx: f64,
}

impl Hoisted {
    /// The constants for ν, μ, σ (1/σ and 1/(2ν) finite: checked by the caller).
    fn new(v: f64, m: f64, s: f64) -> Hoisted {
        let (rv, inv_scale) = (v.sqrt(), 1.0 / s);
        let v1_rv = (v + 1.0) / rv;
        Hoisted {
            loc: m,
            inv_scale,
            inv_rv: 1.0 / rv,
            half_v1: 0.5 * (v + 1.0),
            v1_rv,
            half_inv_v: 0.5 / v,
            v1: v + 1.0,
            c1: inv_scale / rv,
            kx: -v1_rv * inv_scale,
        }
    }

    /// The per-observation part of the density — everything that involves x — with the
    /// parameter-only terms left out: −((ν + 1)/2) ln(1 + w²) and its partials for
    /// x, ν, μ, σ (∂/∂ν without ½ D′(ν/2), ∂/∂σ without −1/σ). The same formulas and
    /// small-w² series as the density, written with selects instead of branches and the
    /// branch-free [`fastmath::ln_1p_and_recip`] (one division for ln(1 + w²) and 1/(1 + w²))
    /// so that the loop over observations vectorizes. An infinite or NaN x, or a w² that
    /// overflows, gives a non-finite term (the caller then takes the elementwise kernel,
    /// which handles those exactly).
    #[inline(always)]
    fn term(&self, x: f64) -> (f64, [f64; 4]) {
        let z = (x - self.loc) * self.inv_scale;
        let w = z * self.inv_rv;
        let w2 = w * w;
        let (l, q) = fastmath::ln_1p_and_recip(w2);
        let (u, g) = (w2 * q, w * q);
        let hl_series = 0.5 * (z * z + w2) * (1.0 - w2 * (0.5 - w2 * (1.0 / 3.0)));
        let hl = if w2 < 1e-8 {
            hl_series
        } else {
            self.half_v1 * l
        };
        let ul_series =
            -w2 * w2 * (0.5 - w2 * (2.0 / 3.0 - w2 * (0.75 - w2 * (0.8 - w2 * (5.0 / 6.0)))));
        let u_l = if w2 < 1e-3 { ul_series } else { u - l };
        let dzs = -self.v1_rv * g;
        let dv = 0.5 * u_l + self.half_inv_v * u;
        (-hl, [dzs * self.inv_scale, dv, -dzs, self.v1 * u])
    }
}

impl<'t> StudentTK<'t> {
    /// `log_prob_sum` for scalar ν and σ and a location μ of the value's shape (a robust
    /// regression's μ = X·β): the parameter-only terms n(−ln σ − ln √(2π) + D(ν/2)) and their
    /// partials hoisted as in [`Self::log_prob_sum_hoisted`] — no ln Γ or ψ per observation —
    /// and the per-observation part [`Hoisted::term`] of xᵢ − μᵢ in one fused node, whose
    /// partial for μᵢ is minus that for xᵢ. `None` in the cases the scalar path returns it;
    /// the caller then takes the elementwise kernel.
    fn log_prob_sum_hoisted_loc(
        &self,
        value: Operand<'_, 't>,
    ) -> Result<Option<Var<'t>>, DistError> {
        let (v, s) = (self.df.item()?.value(), self.scale.item()?.value());
        if !(1.0 / s).is_finite() || !(0.5 / v).is_finite() {
            return Ok(None);
        }
        // μ = 0: `term` then sees the residual x − μᵢ itself
        let h = Hoisted::new(v, 0.0, s);
        let tape = self.df.tape();
        let (data, acc) = tape.fused_sum_operands(
            [
                value,
                self.df.detach().into(),
                self.loc.into(),
                self.scale.detach().into(),
            ],
            |_, [x, _, m, _]| {
                let (t, [dx, dv, _, ds]) = h.term(x - m);
                (t, [dx, dv, -dx, ds])
            },
        )?;
        // the partials for the value and μ are stored per element by the fused node
        let n = value.numel() as f64;
        self.hoisted_result(v, s, n, data.value(), Some(data), [acc[1], acc[3]], None)
    }

    /// The hoisted paths' result: the per-observation sum `sum` over `n` observations plus
    /// the parameter-only terms n(D(ν/2) − ln σ − ln √(2π)), with ∂/∂ν and ∂/∂σ (`acc`: the
    /// per-observation sums for ν and σ) and, for a scalar μ, ∂/∂μ (`loc`; `None` when μ's
    /// partials are stored per element in `data`), the partials for μ and σ summed in scaled
    /// form and divided once ([`SCALED`]). `data`, the node of per-element partials if one was
    /// recorded, enters with weight 1. `None` when the total is not finite.
    #[allow(clippy::too_many_arguments)]
    fn hoisted_result(
        &self,
        v: f64,
        s: f64,
        n: f64,
        sum: f64,
        data: Option<Var<'t>>,
        [df, scale]: [f64; 2],
        loc: Option<f64>,
    ) -> Result<Option<Var<'t>>, DistError> {
        let (d0, d1, _) = half_ratio(v);
        let total = sum + n * (d0 - s.ln() - LN_SQRT_2PI);
        if !total.is_finite() {
            return Ok(None);
        }
        let g = SCALED.unscale(s, [0.0, df + 0.5 * n * d1, loc.unwrap_or(0.0), scale - n]);
        let (one, gv, gm, gs) = ([1.0], [g[1]], [g[2]], [g[3]]);
        // in the order value node, ν, μ, σ, those that apply
        let mut pairs: [(Tensor<'t>, &[f64]); 4] = [(self.df, &gv); 4];
        let mut k = 0;
        if let Some(data) = data {
            pairs[k] = (data.as_tensor(), &one);
            k += 1;
        }
        pairs[k] = (self.df, &gv);
        k += 1;
        if loc.is_some() {
            pairs[k] = (self.loc, &gm);
            k += 1;
        }
        pairs[k] = (self.scale, &gs);
        k += 1;
        Ok(Some(
            self.df.tape().scalar_with_gradients(total, &pairs[..k])?,
        ))
    }
}

impl<'t> StudentTK<'t> {
    /// `log_prob_sum` for scalar ν, μ, σ: the parameter-only terms of the log density,
    /// n(−ln σ − ln √(2π) + D(ν/2)) ([`half_ratio`]; the stable form of
    /// ln Γ((ν + 1)/2) − ln Γ(ν/2) − ½ ln(νπ) − ln σ) and their partials n·½D′(ν/2) and −n/σ,
    /// are computed once per call rather than per observation (as `Normal::log_prob_sum`
    /// hoists ln σ); the per-observation part is one node over the observations read in
    /// place: the [`kernel`] (no logarithm per observation; the partials for the value
    /// stored only when it is tracked), or for ν > [`KERNEL_MAX_DF`] [`Hoisted::term`] per
    /// observation. `None` when that part is not finite (an infinite or NaN value,
    /// |x − μ|/σ beyond ~1e154) or 1/σ or 1/(2ν) overflows: then the caller takes the
    /// elementwise kernel, exact in those cases.
    fn log_prob_sum_hoisted(&self, value: Operand<'_, 't>) -> Result<Option<Var<'t>>, DistError> {
        let (v, m, s) = (
            self.df.item()?.value(),
            self.loc.item()?.value(),
            self.scale.item()?.value(),
        );
        let inv_scale = 1.0 / s;
        // 1/(2ν) overflows for ν below ~2.8e-309: ∞ · u would be ∞ · 0 = NaN at x = μ, where
        // the kernel's u/(2ν) is 0
        if !inv_scale.is_finite() || !(0.5 / v).is_finite() {
            return Ok(None);
        }
        let h = Hoisted::new(v, m, s);
        let tape = self.df.tape();
        // (Σ terms, the node holding them when one is recorded, the sums)
        let kernel_ok = v <= KERNEL_MAX_DF && h.c1.is_finite() && h.kx.is_finite();
        let (sum, data, acc) = match value {
            // the observations as one slice, in blocks without a logarithm per observation
            // ([`kernel`]); the partials for the value only when it is tracked
            Operand::Tensor(t) if kernel_ok => {
                let (data, acc) = tape.fused_sum_slice(t, |xs, px| {
                    let acc = match px {
                        Some(out) => kernel::sums(xs, Some(&mut |p: &[f64]| out.extend(p)), &h),
                        None => kernel::sums(xs, None, &h),
                    };
                    (acc.value, acc)
                })?;
                (data.value(), Some(data), acc)
            }
            // observed data read in place: no node, no partials
            Operand::Data(d) if kernel_ok => {
                let acc = kernel::sums(d.values(), None, &h);
                (acc.value, None, acc)
            }
            _ => {
                let (data, acc) = tape.fused_sum_operands(
                    [
                        value,
                        self.df.detach().into(),
                        self.loc.detach().into(),
                        self.scale.detach().into(),
                    ],
                    |_, [x, ..]| h.term(x),
                )?;
                let [_, df, loc, scale] = acc;
                let value = data.value();
                (value, Some(data), kernel::Sums { value, df, loc, scale })
            }
        };
        let n = value.numel() as f64;
        self.hoisted_result(v, s, n, sum, data, [acc.df, acc.scale], Some(acc.loc))
    }
}

