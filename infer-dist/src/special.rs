//! Plain-f64 numerics the families need: the regularized incomplete gamma functions with their
//! derivative in the shape parameter, and the implicit reparameterization gradient of a
//! standard Gamma draw.
//!
//! The `special` crate's `inc_gamma` loops forever on NaN input and has no upper tail, so the
//! functions here are written afresh with guards: NaN in → NaN out, `x ≤ 0` → P = 0,
//! `x = ∞` → P = 1, and every loop is bounded.
//!
//! Method (Numerical Recipes §6.2; Temme 1996, *Special Functions*, ch. 11): for `x < a + 1`
//! the series P(a, x) = xᵃ e⁻ˣ / Γ(a + 1) · Σₙ cₙ with c₀ = 1, cₙ = cₙ₋₁ x / (a + n); otherwise
//! Legendre's continued fraction for Q(a, x) = xᵃ e⁻ˣ / Γ(a) · 1/(x + 1 − a − 1·(1 − a)/(x + 3 − a
//! − 2·(2 − a)/(x + 5 − a − …))), evaluated by the modified Lentz method. The a-derivative is
//! carried along: termwise for the series (∂/∂a of xᵃ⁺ⁿ/Γ(a + n + 1) is the term times
//! ln x − ψ(a + n + 1)), and with forward-mode dual numbers through the Lentz recurrence.

use infer_ad::scalar::{digamma, lgamma};

/// ln √(2π), the standard normal cdf Φ and ln Φ, as the families use them. They are defined in
/// `infer_ad::scalar`, whose tensor operation `log_normal_cdf` needs them (infer-ad cannot
/// depend on this crate); this is their path in infer-dist.
pub use infer_ad::scalar::{LN_SQRT_2PI, log_normal_cdf, normal_cdf};

const EPS: f64 = 1e-16;
const TINY: f64 = 1e-300;
const MAX_ITER: usize = 2_000_000;
/// Above this shape the Wilson–Hilferty approximation gives the reparameterization gradient.
const LARGE_SHAPE: f64 = 1e8;

/// The pieces shared by P, Q and their a-derivatives: either the series sums (S, S′) or the
/// continued fraction (F, ∂F/∂a).
enum Parts {
    /// `P = e^{a ln x − x − lnΓ(a+1)} · s`, `∂P/∂a = e^{…} · ds`.
    Series { s: f64, ds: f64 },
    /// `Q = e^{a ln x − x − lnΓ(a)} · f`, `∂Q/∂a = e^{…} · ((ln x − ψ(a)) f + df)`.
    Fraction { f: f64, df: f64 },
}

fn series(a: f64, x: f64, ln_x: f64) -> Parts {
    let mut c = 1.0;
    let mut psi = digamma(a + 1.0);
    let mut s = 1.0;
    let mut ds = ln_x - psi;
    let mut n = 1.0;
    for _ in 0..MAX_ITER {
        c *= x / (a + n);
        psi += 1.0 / (a + n);
        s += c;
        let t = c * (ln_x - psi);
        ds += t;
        if c <= EPS * s * 1e-1 && t.abs() <= EPS * (ds.abs() + s * ln_x.abs()) && a + n > x {
            break;
        }
        n += 1.0;
    }
    Parts::Series { s, ds }
}

/// A forward-mode dual number `v + d·ε` (derivative with respect to the shape a).
#[derive(Clone, Copy)]
struct Dual {
    v: f64,
    d: f64,
}

impl Dual {
    fn add(self, o: Dual) -> Dual {
        Dual {
            v: self.v + o.v,
            d: self.d + o.d,
        }
    }
    fn mul(self, o: Dual) -> Dual {
        Dual {
            v: self.v * o.v,
            d: self.d * o.v + self.v * o.d,
        }
    }
    fn recip(self) -> Dual {
        let r = 1.0 / self.v;
        Dual {
            v: r,
            d: -self.d * r * r,
        }
    }
    fn guard(self) -> Dual {
        if self.v.abs() < TINY {
            Dual { v: TINY, d: self.d }
        } else {
            self
        }
    }
}

fn fraction(a: f64, x: f64) -> Parts {
    let mut b = Dual {
        v: x + 1.0 - a,
        d: -1.0,
    };
    let mut c = Dual {
        v: 1.0 / TINY,
        d: 0.0,
    };
    let mut d = b.guard().recip();
    let mut h = d;
    for i in 1..MAX_ITER {
        let i = i as f64;
        let an = Dual {
            v: -i * (i - a),
            d: i,
        };
        b.v += 2.0;
        d = an.mul(d).add(b).guard().recip();
        c = b.add(an.mul(c.recip())).guard();
        let del = d.mul(c);
        h = h.mul(del);
        if (del.v - 1.0).abs() < EPS && del.d.abs() < EPS * (1.0 + (h.d / h.v).abs()) {
            break;
        }
    }
    Parts::Fraction { f: h.v, df: h.d }
}

fn parts(a: f64, x: f64) -> Parts {
    if x < a + 1.0 {
        series(a, x, x.ln())
    } else {
        fraction(a, x)
    }
}

/// The regularized lower incomplete gamma function P(a, x) = γ(a, x)/Γ(a) for a > 0: the cdf
/// of Gamma(a, 1) at x. NaN for NaN input or a ≤ 0; 0 for x ≤ 0; 1 for x = ∞.
///
/// # Examples
/// ```
/// use infer_dist::special::gamma_p;
/// // P(1, x) = 1 − e⁻ˣ
/// assert!((gamma_p(1.0, 2.0) - (1.0 - (-2.0f64).exp())).abs() < 1e-15);
/// assert_eq!(gamma_p(2.0, 0.0), 0.0);
/// assert!(gamma_p(f64::NAN, 1.0).is_nan());
/// ```
///
/// # References
/// Numerical Recipes, 3rd ed., §6.2 (series and continued fraction).
pub fn gamma_p(a: f64, x: f64) -> f64 {
    regularized::<false>(a, x)
}

/// The regularized upper incomplete gamma function Q(a, x) = 1 − P(a, x), computed directly
/// in the upper tail (no cancellation when P ≈ 1).
///
/// # Examples
/// ```
/// use infer_dist::special::gamma_q;
/// assert!((gamma_q(1.0, 50.0) - (-50.0f64).exp()).abs() < 1e-30);
/// assert_eq!(gamma_q(3.0, 0.0), 1.0);
/// ```
///
/// # References
/// Numerical Recipes, 3rd ed., §6.2.
pub fn gamma_q(a: f64, x: f64) -> f64 {
    regularized::<true>(a, x)
}

/// P(a, x), or with `UPPER` Q(a, x): the series gives P and the continued fraction Q
/// directly, the other as its complement; Temme's expansion gives both for a large a.
fn regularized<const UPPER: bool>(a: f64, x: f64) -> f64 {
    let (at_zero, at_inf) = if UPPER { (1.0, 0.0) } else { (0.0, 1.0) };
    if let Some(v) = edge(a, x, at_zero, at_inf) {
        return v;
    }
    if a >= TEMME_SHAPE {
        let (p, q) = temme(a, x);
        return if UPPER { q } else { p };
    }
    let (lower, t) = if fraction_vanishes(a, x, a.ln()) {
        (false, 0.0)
    } else {
        match parts(a, x) {
            Parts::Series { s, .. } => (true, ln_prefactor(a, x).exp() * s),
            Parts::Fraction { f, .. } => (false, (ln_prefactor(a, x) + a.ln()).exp() * f),
        }
    };
    let v = if lower != UPPER { t } else { 1.0 - t };
    // A probability: the product of the prefactor and the sum rounds above 1 by an ulp or two
    // when it is ≈ 1 (P(5e-324, 0.5) was 1 + 2e-16); only rounding-size excess is clipped.
    v.clamp(0.0, 1.0)
}

/// ∂P(a, x)/∂a, the derivative of the regularized lower incomplete gamma function in its
/// shape. NaN for NaN input or a ≤ 0; 0 for x ≤ 0 or x = ∞.
///
/// # Examples
/// ```
/// use infer_dist::special::{gamma_p, gamma_p_da};
/// let (a, x, h) = (2.5, 1.7, 1e-5);
/// let fd = (gamma_p(a + h, x) - gamma_p(a - h, x)) / (2.0 * h);
/// assert!((gamma_p_da(a, x) - fd).abs() < 1e-9);
/// ```
pub fn gamma_p_da(a: f64, x: f64) -> f64 {
    if let Some(v) = edge(a, x, 0.0, 0.0) {
        return v;
    }
    if a >= TEMME_SHAPE {
        // central difference of the uniform expansion, on the scale √a of P's variation
        let h = 1e-4 * a.sqrt();
        return (temme(a + h, x).0 - temme(a - h, x).0) / (2.0 * h);
    }
    // the continued fraction's branch with a prefactor that is 0 in f64 (the a < 1 arm's
    // prefactor has no factor a): −0 · (…) below, whatever the fraction
    if fraction_vanishes(a, x, if a < 1.0 { 0.0 } else { a.ln() }) {
        return -0.0;
    }
    let ln_x = x.ln();
    match parts(a, x) {
        Parts::Series { ds, .. } => crate::util::mul0(ln_prefactor(a, x).exp(), ds),
        Parts::Fraction { f, df } if a < 1.0 => {
            // the factor a inside the bracket, with aψ(a) = aψ(a + 1) − 1: ψ(a) is −∞ in f64
            // for a subnormal a (and then the prefactor is 0: 0 · ∞), while aψ(a) → −1
            let a_psi = a * digamma(a + 1.0) - 1.0;
            -crate::util::mul0(ln_prefactor(a, x).exp(), (a * ln_x - a_psi) * f + a * df)
        }
        Parts::Fraction { f, df } => -crate::util::mul0(
            (ln_prefactor(a, x) + a.ln()).exp(),
            (ln_x - digamma(a)) * f + df,
        ),
    }
}

/// Whether `parts(a, x)` takes the continued fraction and its prefactor
/// e^{ln_prefactor(a, x) + extra} is exactly 0 in f64: the value (and the a-derivative) is then
/// 0 · (a finite fraction) = 0 whatever the fraction, which is skipped — far in the upper tail
/// (x = 5e307) the fraction's a-derivative took its whole iteration budget to converge, 1.4 s
/// per cdf value. The results are the same, bit for bit.
fn fraction_vanishes(a: f64, x: f64, extra: f64) -> bool {
    !(x < a + 1.0) && (ln_prefactor(a, x) + extra).exp() == 0.0
}

/// ln(xᵃ e⁻ˣ/Γ(a + 1)), the prefactor of the series (and, plus ln a, of the continued
/// fraction). For a ≥ 10 in the saddle-point form −bd0(a, x) − ½ ln(2πa) − δ(a) (Loader
/// 2000): the textbook a ln x − x − ln Γ(a + 1) adds terms of size a ln a that cancel (to
/// ~a·1e-16 in absolute terms) and are ∞ − ∞ for a ≳ 1e306.
fn ln_prefactor(a: f64, x: f64) -> f64 {
    if a < 10.0 {
        return a * x.ln() - x - lgamma(a + 1.0);
    }
    -crate::binomial::bd0(a, x, a - x)
        - 0.5 * ((2.0 * std::f64::consts::PI).ln() + a.ln())
        - crate::binomial::stirlerr(a)
}

/// From this shape on, P and Q come from Temme's uniform asymptotic expansion: the series
/// and the continued fraction need ~√a terms there (and overflow for a ≳ 1e306).
const TEMME_SHAPE: f64 = 1e12;

/// (P(a, x), Q(a, x)) by Temme's uniform expansion (DLMF 8.12.3–8.12.4, 8.12.9): with
/// λ = x/a, ½η² = λ − 1 − ln λ (η of the sign of λ − 1),
/// Q = ½ erfc(η √(a/2)) + R, P = ½ erfc(−η √(a/2)) − R, R = e^{−aη²/2}/√(2πa) · c₀(η),
/// c₀ = 1/(λ − 1) − 1/η (by its series −1/3 + η/12 − 23η²/1080 near η = 0). The next term,
/// c₁/a, is below 1e-15 of R for a ≥ 1e12.
fn temme(a: f64, x: f64) -> (f64, f64) {
    let mu = x / a - 1.0;
    let half_eta2 = mu - mu.ln_1p();
    let eta = (2.0 * half_eta2.max(0.0)).sqrt().copysign(mu);
    let c0 = if eta.abs() < 1e-3 {
        -1.0 / 3.0 + eta / 12.0 - 23.0 / 1080.0 * eta * eta
    } else {
        1.0 / mu - 1.0 / eta
    };
    let r = (-a * half_eta2).exp() / (2.0 * std::f64::consts::PI * a).sqrt() * c0;
    let s = eta * (0.5 * a).sqrt();
    let q = 0.5 * infer_ad::scalar::erfc(s) + r;
    let p = 0.5 * infer_ad::scalar::erfc(-s) - r;
    (p.clamp(0.0, 1.0), q.clamp(0.0, 1.0))
}

fn edge(a: f64, x: f64, at_zero: f64, at_inf: f64) -> Option<f64> {
    if a.is_nan() || x.is_nan() || !(a > 0.0) || a == f64::INFINITY {
        Some(f64::NAN)
    } else if x <= 0.0 {
        Some(at_zero)
    } else if x == f64::INFINITY {
        Some(at_inf)
    } else {
        None
    }
}

/// The implicit reparameterization gradient of a standard Gamma draw: for x ~ Gamma(α, 1),
/// dx/dα = −(∂P/∂α)(x; α) / p(x; α), where P is the cdf and p the density
/// (Figurnov, Mohamed & Mnih 2018, eq. 5). A draw of Gamma(α, β) is x/β, so its derivative
/// in α is this divided by β.
///
/// Computed without forming P or p: the ratio is −(x/α)·S′ on the series branch and
/// x·((ln x − ψ(α))F + ∂F/∂α) on the continued-fraction branch (see the module docs), so
/// draws that underflow or sit far in a tail keep full relative accuracy. For α > 10⁸ the
/// Wilson–Hilferty approximation x ≈ α(1 − 1/(9α) + z/(3√α))³ is differentiated at fixed z.
/// Returns NaN for NaN input or α ≤ 0, and 0 for x = 0.
///
/// # Examples
/// ```
/// use infer_dist::special::standard_gamma_grad;
/// // At the median of Gamma(1, 1), x = ln 2: dx/dα = 0.9680448304420445 (mpmath, 40 digits).
/// let g = standard_gamma_grad(1.0, std::f64::consts::LN_2);
/// assert!((g - 0.968_044_830_442_044_5).abs() < 1e-13);
/// ```
///
/// # References
/// M. Figurnov, S. Mohamed, A. Mnih (2018), *Implicit Reparameterization Gradients*, NeurIPS.
pub fn standard_gamma_grad(alpha: f64, x: f64) -> f64 {
    if x == 0.0 && alpha > 0.0 {
        return 0.0;
    }
    x * dlnx_dalpha(alpha, x.ln())
}

/// d(ln x)/dα for a standard Gamma(α, 1) draw given by its logarithm (so that draws below the
/// smallest f64 keep a finite, accurate derivative).
pub(crate) fn dlnx_dalpha(alpha: f64, ln_x: f64) -> f64 {
    if alpha.is_nan() || ln_x.is_nan() || !(alpha > 0.0) || alpha == f64::INFINITY {
        return f64::NAN;
    }
    if ln_x == f64::NEG_INFINITY {
        // x → 0: d ln x/dα → −S′/α with S′ → ln x − ψ(α+1) → −∞·…; the draw is pinned at 0.
        return 0.0;
    }
    if ln_x == f64::INFINITY {
        return 0.0;
    }
    let x = ln_x.exp();
    if alpha > LARGE_SHAPE {
        // Wilson–Hilferty: x = α (1 − 1/(9α) + z/(3√α))³ with z held fixed.
        let r = (x / alpha).cbrt();
        let sa = alpha.sqrt();
        let z = (r - 1.0 + 1.0 / (9.0 * alpha)) * 3.0 * sa;
        let inner = 1.0 - 1.0 / (9.0 * alpha) + z / (3.0 * sa);
        // 3α · d(inner)/dα = 1/(3α) − z/(2√α), taken as one expression: 3α overflows for
        // α > f64::MAX/3 and 9α², 6α√α before, and ∞ · 0 was NaN
        let three_a_d_inner = 1.0 / (3.0 * alpha) - z / (2.0 * sa);
        let dx = inner.powi(3) + inner * inner * three_a_d_inner;
        return dx / x;
    }
    if x < alpha + 1.0 {
        match series(alpha, x, ln_x) {
            Parts::Series { ds, .. } => -ds / alpha,
            Parts::Fraction { .. } => f64::NAN,
        }
    } else {
        match fraction(alpha, x) {
            Parts::Fraction { f, df } => (ln_x - digamma(alpha)) * f + df,
            Parts::Series { .. } => f64::NAN,
        }
    }
}

/// α · d(ln x)/dα for a standard Gamma(α, 1) draw given by its logarithm: on the series
/// branch −S′ itself, which stays finite when d(ln x)/dα = −S′/α overflows (a tiny α, whose
/// draws are e^{ln U/α}); elsewhere α times [`dlnx_dalpha`].
pub(crate) fn alpha_dlnx_dalpha(alpha: f64, ln_x: f64) -> f64 {
    let finite = alpha > 0.0 && alpha <= LARGE_SHAPE && ln_x.is_finite();
    if finite
        && ln_x.exp() < alpha + 1.0
        && let Parts::Series { ds, .. } = series(alpha, ln_x.exp(), ln_x)
    {
        return -ds;
    }
    let d = dlnx_dalpha(alpha, ln_x);
    if d == 0.0 { 0.0 } else { alpha * d }
}

/// ln Γ(x + h) − ln Γ(x) for h > −x with x + h ≥ 20 or x < 20, without the cancellation of two ln Γs of size x ln x (for x < 20 and |h| ≤ 1e-5 x by the midpoint rule h ψ(x + h/2)): for
/// x ≥ 20 from Stirling's series, (x − ½) ln(1 + h/x) + h ln(x + h) − h + st(x + h) − st(x),
/// st(y) = 1/(12y) − 1/(360y³) + 1/(1260y⁵) − 1/(1680y⁷) + 1/(1188y⁹) (truncation < 1e-17 at
/// y ≥ 20); directly below.
pub(crate) fn lgamma_diff(x: f64, h: f64) -> f64 {
    if x < 20.0 {
        if h == 0.0 {
            return 0.0;
        }
        if h.abs() <= 1e-5 * x && x >= 1e-300 {
            // h ψ(x + h/2), the midpoint rule (error h³ψ″/24, below 1e-11 relative here): the
            // difference of two ln Γs keeps only ~1e-16·|ln Γ(x)|/|h ψ| of its digits
            return h * digamma(x + 0.5 * h);
        }
        return lgamma(x + h) - lgamma(x);
    }
    let st = |y: f64| {
        let r = 1.0 / y;
        let r2 = r * r;
        r * (1.0 / 12.0
            - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 * (1.0 / 1680.0 - r2 / 1188.0))))
    };
    // ln(x + h) as ln x + ln(1 + h/x): x + h overflows for x, h ~ 1e308; and
    // x ln(1 + u) − h, u = h/x, by its series −h(u/2 − u²/3 + u³/4) for |u| < 1e-5
    // (truncation below 1e-15 relative): ln(1 + u) underflows to 0 for u ≲ 1e-308 and the
    // two terms then left −h instead of ≈ 0
    let u = h / x;
    let r = u.ln_1p();
    let xr_h = if u.abs() < 1e-5 {
        -h * u * (0.5 - u * (1.0 / 3.0 - 0.25 * u))
    } else {
        x * r - h
    };
    xr_h - 0.5 * r + h * (x.ln() + r) + st(x + h) - st(x)
}

/// ln B(x, y) for x, y ≥ 1e10 by Stirling's formula (DLMF 5.11.1 in each ln Γ):
/// ½ ln 2π − (x − ½) ln(1 + y/x) − (y − ½) ln(1 + x/y) − ½ ln(x + y), without forming x + y
/// (it may overflow) or ln Γ(x) (∞ beyond 2.5e305, where ln Γ differences are ∞ − ∞). The
/// omitted corrections 1/(12x) + 1/(12y) − 1/(12(x + y)) are below 1e-11, against a result
/// of magnitude above 1e10.
pub(crate) fn ln_beta_large(x: f64, y: f64) -> f64 {
    let (r, s) = ((y / x).ln_1p(), (x / y).ln_1p());
    0.5 * (2.0 * std::f64::consts::PI).ln() - (x - 0.5) * r - (y - 0.5) * s - 0.5 * (x.ln() + r)
}

/// ψ(x + h) − ψ(x) for h ≥ 0 without the cancellation of two ψs ≈ ln x: for x ≥ 20 from
/// ψ(y) ~ ln y − 1/(2y) − 1/(12y²) + 1/(120y⁴) − 1/(252y⁶) (truncation < 1e-16 at y ≥ 20),
/// differences of reciprocals taken as 1/x − 1/(x + h) = h/(x(x + h)); directly for
/// 1 ≤ x < 20; for x < 1 by the recurrence ψ(x) = ψ(x + 1) − 1/x as
/// ψ(x + 1 + h) − ψ(x + 1) + (h/x)/(x + h): ψ(x) is −∞ in f64 for a subnormal x, and the
/// direct difference was ∞ − ∞ (or −∞ − (−∞) when x + h is subnormal too). Exactly 0 for h = 0.
pub(crate) fn digamma_diff(x: f64, h: f64) -> f64 {
    if h == 0.0 && !x.is_nan() {
        return 0.0;
    }
    if x < 1.0 {
        return digamma(x + 1.0 + h) - digamma(x + 1.0) + h / x / (x + h);
    }
    if x < 20.0 {
        return digamma(x + h) - digamma(x);
    }
    let y = x + h;
    let (r1, r2) = (1.0 / x, 1.0 / y);
    let (q1, q2) = (r1 * r1, r2 * r2);
    // 1/xⁿ − 1/yⁿ for n = 1, 2, 4, 6
    let d1 = h / x / y;
    let d2 = d1 * (r1 + r2);
    let d4 = d2 * (q1 + q2);
    let d6 = d2 * (q1 * q1 + q1 * q2 + q2 * q2);
    (h / x).ln_1p() + 0.5 * d1 + d2 / 12.0 - d4 / 120.0 + d6 / 252.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Skipping a continued fraction whose prefactor is 0 in f64 gives the bits the full
    /// computation gives: P, Q and ∂P/∂a against the formulas evaluated with the fraction.
    #[test]
    fn vanishing_fractions_are_skipped_exactly() {
        for (a, x) in [
            (0.5, 800.0),
            (3.0, 1e4),
            (0.3, 1e6),
            (2.5, 800.0),
            (1e-300, 900.0),
        ] {
            assert!(fraction_vanishes(a, x, a.ln()), "a = {a}, x = {x}");
            let Parts::Fraction { f, df } = fraction(a, x) else {
                unreachable!("fraction returns its variant")
            };
            let t = (ln_prefactor(a, x) + a.ln()).exp() * f;
            assert_eq!(gamma_p(a, x).to_bits(), (1.0 - t).clamp(0.0, 1.0).to_bits());
            assert_eq!(gamma_q(a, x).to_bits(), t.clamp(0.0, 1.0).to_bits());
            let ln_x = x.ln();
            let da = if a < 1.0 {
                let a_psi = a * digamma(a + 1.0) - 1.0;
                -crate::util::mul0(ln_prefactor(a, x).exp(), (a * ln_x - a_psi) * f + a * df)
            } else {
                -crate::util::mul0(
                    (ln_prefactor(a, x) + a.ln()).exp(),
                    (ln_x - digamma(a)) * f + df,
                )
            };
            assert_eq!(gamma_p_da(a, x).to_bits(), da.to_bits(), "a = {a}, x = {x}");
        }
        // not skipped where the prefactor is not 0
        assert!(!fraction_vanishes(3.0, 50.0, 3.0f64.ln()));
    }
}
