//! Scalar functions with their derivatives, shared by [`crate::Var`] and elementwise tensor
//! operations: each returns `(value, derivative)` so that an operation's forward value and its
//! partial live side by side.
//!
//! The special functions guard the domain traps of the `special` crate: its digamma recurses
//! once per unit below 8 (a stack overflow for large negative input), so negative arguments go
//! through the reflection formula here; `log Φ` is computed from an asymptotic series far in
//! the lower tail, where `erfc` underflows.

use crate::fastmath;
use special::{Error as _, Gamma as _};
use std::f64::consts::{FRAC_2_SQRT_PI, LN_2, PI, SQRT_2};

/// ln √(2π).
pub const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Numerically stable `ln(1 + eˣ)`, through the fast [`fastmath::exp`]
/// and [`fastmath::ln_1p`] (within 2 ulp of the same formula on
/// libm's functions).
///
/// # Examples
/// ```
/// assert!((infer_ad::scalar::softplus(0.0) - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(infer_ad::scalar::softplus(800.0), 800.0);
/// ```
#[inline]
pub fn softplus(x: f64) -> f64 {
    softplus_and_sigmoid(x).0
}

/// Numerically stable logistic sigmoid `1 / (1 + e⁻ˣ)`, through the fast
/// [`fastmath::exp`].
///
/// # Examples
/// ```
/// assert_eq!(infer_ad::scalar::sigmoid(0.0), 0.5);
/// assert!(infer_ad::scalar::sigmoid(-800.0) >= 0.0);
/// ```
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    let t = fastmath::exp(-x.abs());
    let r = 1.0 / (1.0 + t);
    let s = if x >= 0.0 { r } else { t * r };
    if x.is_nan() { x } else { s }
}

/// `ln σ(x) = −ln(1 + e⁻ˣ) = −softplus(−x)`, the log-probability of success of a logistic
/// model, stable for large |x| (≈ x far below zero, ≈ −e⁻ˣ far above).
///
/// # Examples
/// ```
/// use infer_ad::scalar::log_sigmoid;
/// assert!((log_sigmoid(0.0) + 2f64.ln()).abs() < 1e-15);
/// assert_eq!(log_sigmoid(-800.0), -800.0);
/// assert!((log_sigmoid(40.0) + (-40.0f64).exp()).abs() < 1e-30);
/// ```
#[inline]
pub fn log_sigmoid(x: f64) -> f64 {
    -softplus(-x)
}

pub use crate::fastmath::softplus_and_sigmoid;

/// `ln Γ(x)` (the log of the absolute value of the gamma function).
///
/// # Examples
/// ```
/// assert!((infer_ad::scalar::lgamma(5.0) - 24f64.ln()).abs() < 1e-13);
/// ```
#[inline]
pub fn lgamma(x: f64) -> f64 {
    special::Gamma::ln_gamma(x).0
}

/// The digamma function ψ(x) = d/dx ln Γ(x). NaN at the poles 0, −1, −2, … and for NaN input.
///
/// Negative arguments use the reflection ψ(x) = ψ(1 − x) − π / tan(πx), so that large negative
/// input does not recurse (the `special` crate's version recurses once per unit below 8).
///
/// # Examples
/// ```
/// let euler = 0.5772156649015329;
/// assert!((infer_ad::scalar::digamma(1.0) + euler).abs() < 1e-14);
/// assert!(infer_ad::scalar::digamma(-1e9 + 0.5).is_finite());
/// ```
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::NAN;
        }
        return digamma(1.0 - x) - PI / (PI * x).tan();
    }
    if x == f64::INFINITY {
        return f64::INFINITY;
    }
    x.digamma()
}

/// The trigamma function ψ′(x). NaN at the poles 0, −1, −2, ….
///
/// # Examples
/// ```
/// let pi2_6 = std::f64::consts::PI.powi(2) / 6.0;
/// assert!((infer_ad::scalar::trigamma(1.0) - pi2_6).abs() < 1e-13);
/// ```
pub fn trigamma(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x <= 0.0 {
        if x == x.floor() {
            return f64::NAN;
        }
        let s = PI / (PI * x).sin();
        return s * s - trigamma(1.0 - x);
    }
    if x == f64::INFINITY {
        return 0.0;
    }
    x.trigamma()
}

/// Error function.
#[inline]
pub fn erf(x: f64) -> f64 {
    x.error()
}

/// Complementary error function `1 − erf(x)`, accurate for large `x`.
#[inline]
pub fn erfc(x: f64) -> f64 {
    x.compl_error()
}

/// Standard normal CDF Φ(x).
///
/// # Examples
/// ```
/// assert!((infer_ad::scalar::normal_cdf(0.0) - 0.5).abs() < 1e-16);
/// ```
#[inline]
pub fn normal_cdf(x: f64) -> f64 {
    0.5 * erfc(-x / SQRT_2)
}

/// `ln Φ(x)`, the log of the standard normal CDF, accurate far into the lower tail
/// (`log_normal_cdf(-40.0)` ≈ −804.6; the naive `ln(Φ(x))` is −∞ there).
///
/// For x < −20 it uses the asymptotic series
/// ln Φ(x) = −x²/2 − ln(−x) − ln√(2π) + ln(1 − 1/x² + 3/x⁴ − 15/x⁶ + 105/x⁸ − 945/x¹⁰)
/// (Abramowitz & Stegun 26.2.12); for x > 5, `ln_1p(−Φ(−x))`; otherwise `ln(erfc(−x/√2)/2)`.
///
/// # Examples
/// ```
/// use infer_ad::scalar::log_normal_cdf;
/// assert!((log_normal_cdf(0.0) + std::f64::consts::LN_2).abs() < 1e-15);
/// assert!((log_normal_cdf(-40.0) + 804.6084420137538).abs() < 1e-9);
/// ```
pub fn log_normal_cdf(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x < -20.0 {
        let r = 1.0 / (x * x);
        let series = 1.0 - r * (1.0 - r * (3.0 - r * (15.0 - r * (105.0 - r * 945.0))));
        -0.5 * x * x - (-x).ln() - LN_SQRT_2PI + series.ln()
    } else if x > 5.0 {
        (-normal_cdf(-x)).ln_1p()
    } else {
        erfc(-x / SQRT_2).ln() - LN_2
    }
}

/// d/dx ln Φ(x) = φ(x)/Φ(x) (the inverse Mills ratio at −x), stable in both tails.
///
/// # Examples
/// ```
/// let d = infer_ad::scalar::log_normal_cdf_deriv(-50.0);
/// assert!((d - 50.0199).abs() < 1e-3); // ≈ −x for very negative x
/// ```
pub fn log_normal_cdf_deriv(x: f64) -> f64 {
    if x < -20.0 {
        // φ/Φ = -x / series-ratio: from the same asymptotic expansion,
        // Φ(x) ≈ φ(x)/(-x) · S(x) with S = 1 − 1/x² + 3/x⁴ − …, so φ/Φ = −x / S.
        let r = 1.0 / (x * x);
        let series = 1.0 - r * (1.0 - r * (3.0 - r * (15.0 - r * (105.0 - r * 945.0))));
        -x / series
    } else {
        let log_phi = -0.5 * x * x - LN_SQRT_2PI;
        (log_phi - log_normal_cdf(x)).exp()
    }
}

/// 2/√π · e^(−x²), the derivative of erf.
#[inline]
pub(crate) fn erf_deriv(x: f64) -> f64 {
    FRAC_2_SQRT_PI * (-x * x).exp()
}

// ---- (value, derivative) pairs used by the elementwise machinery ----

#[inline]
pub(crate) fn d_exp(x: f64) -> (f64, f64) {
    let e = x.exp();
    (e, e)
}
#[inline]
pub(crate) fn d_ln(x: f64) -> (f64, f64) {
    (x.ln(), 1.0 / x)
}
#[inline]
pub(crate) fn d_ln_1p(x: f64) -> (f64, f64) {
    (x.ln_1p(), 1.0 / (1.0 + x))
}
#[inline]
pub(crate) fn d_exp_m1(x: f64) -> (f64, f64) {
    (x.exp_m1(), x.exp())
}
#[inline]
pub(crate) fn d_sqrt(x: f64) -> (f64, f64) {
    let s = x.sqrt();
    (s, 0.5 / s)
}
#[inline]
pub(crate) fn d_sin(x: f64) -> (f64, f64) {
    let (s, c) = x.sin_cos();
    (s, c)
}
#[inline]
pub(crate) fn d_cos(x: f64) -> (f64, f64) {
    let (s, c) = x.sin_cos();
    (c, -s)
}
#[inline]
pub(crate) fn d_tanh(x: f64) -> (f64, f64) {
    let t = x.tanh();
    (t, 1.0 - t * t)
}
#[inline]
pub(crate) fn d_sigmoid(x: f64) -> (f64, f64) {
    let s = sigmoid(x);
    (s, s * (1.0 - s))
}
#[inline]
pub(crate) fn d_softplus(x: f64) -> (f64, f64) {
    softplus_and_sigmoid(x)
}
#[inline]
pub(crate) fn d_log_sigmoid(x: f64) -> (f64, f64) {
    let (sp, s) = softplus_and_sigmoid(-x);
    (-sp, s)
}
#[inline]
pub(crate) fn d_abs(x: f64) -> (f64, f64) {
    let d = if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    };
    (x.abs(), d)
}
#[inline]
pub(crate) fn d_neg(x: f64) -> (f64, f64) {
    (-x, -1.0)
}
#[inline]
pub(crate) fn d_recip(x: f64) -> (f64, f64) {
    let r = 1.0 / x;
    (r, -r * r)
}
#[inline]
pub(crate) fn d_square(x: f64) -> (f64, f64) {
    (x * x, 2.0 * x)
}
#[inline]
pub(crate) fn d_lgamma(x: f64) -> (f64, f64) {
    (lgamma(x), digamma(x))
}
#[inline]
pub(crate) fn d_digamma(x: f64) -> (f64, f64) {
    (digamma(x), trigamma(x))
}
#[inline]
pub(crate) fn d_erf(x: f64) -> (f64, f64) {
    (erf(x), erf_deriv(x))
}
#[inline]
pub(crate) fn d_erfc(x: f64) -> (f64, f64) {
    (erfc(x), -erf_deriv(x))
}
#[inline]
pub(crate) fn d_log_normal_cdf(x: f64) -> (f64, f64) {
    (log_normal_cdf(x), log_normal_cdf_deriv(x))
}
#[inline]
pub(crate) fn d_powi(x: f64, n: i32) -> (f64, f64) {
    if n == 0 {
        (1.0, 0.0)
    } else {
        (x.powi(n), f64::from(n) * x.powi(n - 1))
    }
}
#[inline]
pub(crate) fn d_powf(x: f64, p: f64) -> (f64, f64) {
    if p == 0.0 {
        (1.0, 0.0)
    } else {
        (x.powf(p), p * x.powf(p - 1.0))
    }
}
/// x^y with partials (∂/∂x, ∂/∂y); ∂/∂y at x = 0 is taken as 0 (the limit for y > 0).
#[inline]
pub(crate) fn d_pow(x: f64, y: f64) -> (f64, f64, f64) {
    let v = x.powf(y);
    let dx = if y == 0.0 { 0.0 } else { y * x.powf(y - 1.0) };
    let dy = if x == 0.0 { 0.0 } else { v * x.ln() };
    (v, dx, dy)
}
#[inline]
pub(crate) fn d_clamp(x: f64, lo: f64, hi: f64) -> (f64, f64) {
    if x < lo {
        (lo, 0.0)
    } else if x > hi {
        (hi, 0.0)
    } else {
        (x, 1.0)
    }
}
/// min(a, b) with partials; ties send the gradient to `a`.
#[inline]
pub(crate) fn d_min(a: f64, b: f64) -> (f64, f64, f64) {
    if b < a { (b, 0.0, 1.0) } else { (a, 1.0, 0.0) }
}
/// max(a, b) with partials; ties send the gradient to `a`.
#[inline]
pub(crate) fn d_max(a: f64, b: f64) -> (f64, f64, f64) {
    if b > a { (b, 0.0, 1.0) } else { (a, 1.0, 0.0) }
}
#[inline]
pub(crate) fn d_mul(a: f64, b: f64) -> (f64, f64, f64) {
    (a * b, b, a)
}
#[inline]
pub(crate) fn d_div(a: f64, b: f64) -> (f64, f64, f64) {
    let r = 1.0 / b;
    let v = a * r;
    (v, r, -v * r)
}
#[inline]
pub(crate) fn d_add(a: f64, b: f64) -> (f64, f64, f64) {
    (a + b, 1.0, 1.0)
}
#[inline]
pub(crate) fn d_sub(a: f64, b: f64) -> (f64, f64, f64) {
    (a - b, 1.0, -1.0)
}
