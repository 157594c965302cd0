//! Scalar building blocks for KL forms that stay finite (or +∞) and non-negative at every
//! valid parameter: the large parts of ln Γ and ψ are combined analytically (Stirling), and
//! the remaining terms are each O(ln x) or a non-negative product.

use crate::special::digamma_diff;
use infer_ad::scalar::{digamma, lgamma, trigamma};

/// ½ ln(2π).
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// φ(s) = eˢ − 1 − s ≥ 0 (+∞ beyond f64), with its Taylor series near 0 (no cancellation).
pub(crate) fn phi(s: f64) -> f64 {
    if s == f64::INFINITY {
        // e^∞ − ∞ would be ∞ − ∞.
        f64::INFINITY
    } else if s.abs() < 1e-3 {
        // s²/2 + s³/6 + s⁴/24 + s⁵/120; the omitted terms are below 1e-15 relative.
        s * s * (0.5 + s * (1.0 / 6.0 + s * (1.0 / 24.0 + s / 120.0)))
    } else {
        s.exp_m1() - s
    }
}

/// Stirling's remainder R(y) = ln Γ(y) − (y − ½) ln y + y − ½ ln 2π for y > 0: its series
/// 1/(12y) − 1/(360y³) + 1/(1260y⁵) − 1/(1680y⁷) + 1/(1188y⁹) for y ≥ 20 (truncation below
/// 1e-17), directly below (where every term is at most ~745 in size).
pub(crate) fn stirling_rest(y: f64) -> f64 {
    if y >= 20.0 {
        let r = 1.0 / y;
        let r2 = r * r;
        r * (1.0 / 12.0
            - r2 * (1.0 / 360.0 - r2 * (1.0 / 1260.0 - r2 * (1.0 / 1680.0 - r2 / 1188.0))))
    } else {
        lgamma(y) - (y - 0.5) * y.ln() + y - HALF_LN_2PI
    }
}

/// ψ(y + 1) − ln y = ψ(y) − ln y + 1/y for y > 0, finite for every such y (≤ ~745): from
/// ψ(y) ~ ln y − 1/(2y) − 1/(12y²) + 1/(120y⁴) − 1/(252y⁶) for y ≥ 20 (truncation below
/// 1e-16 relative), directly below.
pub(crate) fn psi1_minus_ln(y: f64) -> f64 {
    if y >= 20.0 {
        let r = 1.0 / y;
        let r2 = r * r;
        r * (0.5 - r * (1.0 / 12.0 - r2 * (1.0 / 120.0 - r2 / 252.0)))
    } else {
        digamma(y + 1.0) - y.ln()
    }
}

/// ψ(y) − ψ(x) for x, y > 0 without ∞ − ∞ (ψ of a subnormal is −∞ in f64) and without the
/// cancellation of two ψ ≈ ln x: ±∞ only when the true difference is beyond f64.
pub(crate) fn digamma_gap(y: f64, x: f64) -> f64 {
    if x == y {
        return 0.0;
    }
    let (lo, hi, sign) = if x < y { (x, y, 1.0) } else { (y, x, -1.0) };
    let d = if lo >= 20.0 {
        digamma_diff(lo, hi - lo)
    } else {
        // ψ(t) = ψ(t + 1) − 1/t; 1/lo − 1/hi = ((hi − lo)/hi)/lo (no ∞ − ∞).
        digamma(hi + 1.0) - digamma(lo + 1.0) + (hi - lo) / hi / lo
    };
    sign * d
}

/// ln ψ′(y) for y > 0: finite also where ψ′ ≈ 1/y² overflows (subnormal y).
pub(crate) fn ln_trigamma(y: f64) -> f64 {
    if y < 1e-100 {
        // ψ′(y) = 1/y² + ψ′(y + 1), and y²ψ′(y + 1) < 2e-200.
        -2.0 * y.ln()
    } else {
        trigamma(y).ln()
    }
}

/// `a + b` where the sum of two overflowed terms of opposite sign would be NaN: then the sign
/// of the larger, decided from their logarithms `ln_a = ln|a|`, `ln_b = ln|b|` (the result is
/// then ±∞, or 0 when they agree to rounding).
pub(crate) fn add_overflowed(a: f64, b: f64, ln_a: f64, ln_b: f64) -> f64 {
    let s = a + b;
    if !s.is_nan() {
        return s;
    }
    if ln_a > ln_b {
        a
    } else if ln_b > ln_a {
        b
    } else {
        0.0
    }
}

/// A result that must be ≥ 0 whose terms (of total size `scale`) were summed in f64: a
/// negative of rounding size (≤ 64 ulp of `scale`) is the rounding of a true value ≥ 0 and is
/// returned as 0; anything more negative is returned unchanged (a defect to be seen, not hidden).
pub(crate) fn clamp_rounding(v: f64, scale: f64) -> f64 {
    if v < 0.0 && -v <= 64.0 * f64::EPSILON * scale {
        0.0
    } else {
        v
    }
}

/// ½ − y P(y) with P(y) = ψ(y + 1) − ln y, for y > 0: in (0, ½], ≈ 1/(12y) for large y
/// (series 1/(12y) − 1/(120y³) + 1/(252y⁵) for y ≥ 20, truncation below 1e-16 relative; at
/// y = +∞, 0), directly below. Used where y P(y) multiplies a ratio that may be huge.
pub(crate) fn half_minus_yp(y: f64) -> f64 {
    if y >= 20.0 {
        let r = 1.0 / y;
        let r2 = r * r;
        r * (1.0 / 12.0 - r2 * (1.0 / 120.0 - r2 / 252.0))
    } else {
        0.5 - y * psi1_minus_ln(y)
    }
}

/// h(α) = KL(Gamma(α, β) ‖ Normal(α/β, α/β²)) = (α − 1)P(α) − R(α) + 1/α − ½ ≥ 0 (P as in
/// [`psi1_minus_ln`], R Stirling's remainder): the part of −H(Gamma) that is not a logarithm
/// of the scale. Written as −(½ − αP) − P − R + 1/α, every term O(1/α) for large α (no
/// cancellation at the ½ level: h ≈ 1/(3α)); +∞ only for α below ~5.6e-309, where 1/α is.
pub(crate) fn gamma_normal_gap(a: f64) -> f64 {
    let v = -half_minus_yp(a) - psi1_minus_ln(a) - stirling_rest(a) + 1.0 / a;
    // Each term is O(1/α) or O(ln α): a negative sum is rounding of h ≈ 1/(3α).
    v.max(0.0)
}

/// c ψ′(x) for x > 0 and any finite or infinite c, with ln|c ψ′(x)| for [`add_overflowed`]:
/// for x ≥ 1e4 as (c/x)(xψ′(x)) with xψ′(x) = 1 + 1/(2x) + 1/(6x²) − 1/(30x⁴) (truncation
/// below 1e-20; x may be +∞, where xψ′(x) = 1), directly below (where ψ′ of a subnormal x
/// may be +∞, and the logarithm stays finite).
pub(crate) fn times_trigamma(c: f64, x: f64) -> (f64, f64) {
    if c == 0.0 {
        return (0.0, f64::NEG_INFINITY);
    }
    if x >= 1e4 {
        let r = 1.0 / x;
        let xt = 1.0 + r * (0.5 + r * (1.0 / 6.0 - r * r / 30.0));
        let q = c / x;
        (q * xt, c.abs().ln() - x.ln() + xt.ln())
    } else {
        (c * trigamma(x), c.abs().ln() + ln_trigamma(x))
    }
}

/// a φ(s) = a(eˢ − 1 − s) ≥ 0 for a > 0 (ln a given), also where eˢ overflows but a eˢ does
/// not (then exp(ln a + s) − a(1 + s), no cancellation for s > 1).
pub(crate) fn scaled_phi(a: f64, ln_a: f64, s: f64) -> f64 {
    if s > 1.0 {
        // a eˢ > a(1 + s): when the first overflows the divergence term is +∞ (no ∞ − ∞).
        let big = (ln_a + s).exp();
        if big.is_infinite() {
            f64::INFINITY
        } else {
            big - a * (1.0 + s)
        }
    } else {
        a * phi(s)
    }
}

/// −ln(1 − x) − x = x²/2 + x³/3 + … ≥ 0 for 0 ≤ x < 1 (series below 0.01, truncation below
/// 1e-17 relative).
pub(crate) fn neg_ln1m_minus(x: f64) -> f64 {
    if x < 0.01 {
        let mut acc = 0.0;
        for k in (2..=9).rev() {
            acc = x * (1.0 / f64::from(k) + acc);
        }
        x * acc
    } else {
        -(-x).ln_1p() - x
    }
}

/// ln(a·b/c) for positive a, b, c: from the product and quotient where both are normal
/// numbers (two roundings, so the logarithm of a ratio near 1 keeps its digits), else
/// `fallback` (the same logarithm from a sum of logarithms).
pub(crate) fn ln_prod_ratio(a: f64, b: f64, c: f64, fallback: f64) -> f64 {
    let p = a * b;
    if p.is_normal() {
        let r = p / c;
        if r.is_normal() {
            return r.ln();
        }
    }
    fallback
}
