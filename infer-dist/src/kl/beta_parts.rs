//! Stirling-regrouped pieces of the Beta and Dirichlet divergences: every piece is finite, a
//! logarithm-sized number, or a non-negative term that is +∞ only where the divergence
//! exceeds f64 — so subnormal and near-`f64::MAX` concentrations give no ∞ − ∞, 0 · ∞ or ∞/∞.
//!
//! Notation: P(y) = ψ(y + 1) − ln y, R(y) = ln Γ(y) − (y − ½) ln y + y − ½ ln 2π (Stirling's
//! remainder), hm(y) = ½ − yP(y) ∈ (0, ½] (see `kl/stable.rs`).

use super::stable::{half_minus_yp, psi1_minus_ln, stirling_rest, times_trigamma};
use super::{ln_ratio, stable::digamma_gap};
use infer_ad::scalar::digamma;

/// S = α + β and the proportions π₁ = α/S, π₂ = β/S of a Beta(α, β), from logarithms where
/// S overflows or a proportion underflows.
pub(crate) struct BetaParts {
    /// α + β (+∞ where it overflows).
    pub(crate) s: f64,
    /// ln(α + β).
    pub(crate) ln_s: f64,
    /// α/S, β/S.
    pub(crate) p1: f64,
    pub(crate) p2: f64,
    /// ln(α/S), ln(β/S).
    pub(crate) ln_p1: f64,
    pub(crate) ln_p2: f64,
}

pub(crate) fn beta_parts(a: f64, b: f64) -> BetaParts {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    let l1p = (lo / hi).ln_1p();
    let ln_s = hi.ln() + l1p;
    let (ln_lo, ln_hi) = (ln_ratio(lo, hi) - l1p, -l1p);
    let (ln_p1, ln_p2) = if a <= b {
        (ln_lo, ln_hi)
    } else {
        (ln_hi, ln_lo)
    };
    BetaParts {
        s: a + b,
        ln_s,
        p1: ln_p1.exp(),
        p2: ln_p2.exp(),
        ln_p1,
        ln_p2,
    }
}

/// D(α, β) = R(S) − R(α) − R(β) + (α − 1)(P(α) − P(S)) + (β − 1)(P(β) − P(S)) − 1, written
/// without products of large and small numbers: (α − 1)(P(α) − P(S)) = ½π₂ − hm(α) +
/// π₁ hm(S) − P(α) + P(S), so D = R(S) − R(α) − R(β) − ½ − hm(α) − hm(β) + hm(S) − P(α) −
/// P(β) + 2P(S): every term is O(ln) or O(1/y) (R, P and hm at S = +∞ are 0).
pub(crate) fn beta_d(a: f64, b: f64, s: f64) -> f64 {
    stirling_rest(s)
        - stirling_rest(a)
        - stirling_rest(b)
        - 0.5
        - half_minus_yp(a)
        - half_minus_yp(b)
        + half_minus_yp(s)
        - psi1_minus_ln(a)
        - psi1_minus_ln(b)
        + 2.0 * psi1_minus_ln(s)
}

/// −H(Beta(α, β)) = ln Γ(S) − ln Γ(α) − ln Γ(β) + (α − 1)ψ(α) + (β − 1)ψ(β) − (S − 2)ψ(S)
/// in Stirling's form: ½(3 ln S − ln α − ln β) − ½ ln 2π + D(α, β) + π₁/β + π₂/α (the terms
/// of size S ln S cancel analytically; π₁/β + π₂/α ≥ 0 is +∞ only where −H is).
pub(crate) fn beta_neg_entropy(a: f64, b: f64, bp: &BetaParts) -> f64 {
    0.5 * (3.0 * bp.ln_s - a.ln() - b.ln()) - HALF_LN_2PI
        + beta_d(a, b, bp.s)
        + bp.p1 / b
        + bp.p2 / a
}

/// ½ ln(2π).
pub(crate) const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// (S − k) ψ′(S) for S = α + β (also where S overflows: then Sψ′(S) = 1 to f64 precision and
/// (S − k)/S is taken from halves), with ln|·|.
pub(crate) fn s_minus_k_trigamma(a: f64, b: f64, k: f64) -> (f64, f64) {
    let s = a + b;
    if s.is_finite() {
        times_trigamma(s - k, s)
    } else {
        let q = (0.5 * a + 0.5 * b - 0.5 * k) / (0.5 * a + 0.5 * b);
        (q, q.abs().ln())
    }
}

/// Σ of terms given with ln|term|: the plain sum where it is not NaN, else (two or more
/// infinite terms of opposite signs) the infinite term of the largest logarithm (0 on a tie).
/// For partial derivatives whose parts overflow with opposite signs.
pub(crate) fn sum_signed(terms: &[(f64, f64)]) -> f64 {
    let s: f64 = terms.iter().map(|t| t.0).sum();
    if !s.is_nan() {
        return s;
    }
    let mut best = (0.0, f64::NEG_INFINITY);
    let mut tie = false;
    for &(v, l) in terms.iter().filter(|t| t.0.is_infinite()) {
        if l > best.1 {
            best = (v, l);
            tie = false;
        } else if l == best.1 && v != best.0 {
            tie = true;
        }
    }
    if tie { 0.0 } else { best.0 }
}

/// ln|ψ(y) − ψ(x)| where that difference overflows (x or y tiny): ≈ ln|1/x − 1/y|.
pub(crate) fn ln_gap_estimate(y: f64, x: f64) -> f64 {
    crate::util::ln_abs_diff(y, x) - x.ln() - y.ln()
}

/// ψ(y) − ψ(x) for y, x > 0 of which either may be a sum that overflowed (+∞, with its
/// logarithm given): then ψ = ln (the omitted −1/(2y) is below 1e-308).
pub(crate) fn digamma_gap_ln(y: f64, ln_y: f64, x: f64, ln_x: f64) -> f64 {
    if y.is_finite() && x.is_finite() {
        digamma_gap(y, x)
    } else {
        let psi = |v: f64, l: f64| if v.is_finite() { digamma(v) } else { l };
        psi(y, ln_y) - psi(x, ln_x)
    }
}

/// g(ρ) = ρ ln ρ − ρ + 1 ≥ 0 times π_a, for π_b = ρ π_a given with logarithms: the series
/// Σ_{k≥2} (−d)^k/(k(k − 1)) in d = ρ − 1 for |d| < 0.1 (20 terms, truncation below 1e-22),
/// else π_b(ln π_b − ln π_a) − π_b + π_a (finite also where π_a underflows to 0).
fn cat_term(pa: f64, ln_pa: f64, pb: f64, ln_pb: f64) -> f64 {
    // From the proportions themselves where they are normal numbers (d = 0 exactly for equal
    // proportions), else from their logarithms.
    let (l, d) = if pa.is_normal() && pb.is_normal() {
        ((pb / pa).ln(), (pb - pa) / pa)
    } else {
        let l = ln_pb - ln_pa;
        (l, l.exp_m1())
    };
    if l.abs() < 0.09 {
        let mut acc = 0.0;
        for k in (2..=21).rev() {
            let k = f64::from(k);
            acc = 1.0 / (k * (k - 1.0)) - d * acc;
        }
        pa * d * d * acc
    } else {
        (pb * l - pb + pa).max(0.0)
    }
}

/// T(a, b) = KL(Gamma(a, 1) ‖ Gamma(b, 1)) − (a − b + b ln(b/a)) =
/// ½ φ(ln ρ) + (ρ − 1) hm(a) + R(b) − R(a), ρ = b/a (given with ln ρ), for a, b > 0 either of
/// which may be +∞ (an overflowed sum: R = hm = 0 there).
fn gamma_rest(a: f64, b: f64, rho: f64, ln_rho: f64) -> f64 {
    let hm = half_minus_yp(a);
    let lin = if rho.is_infinite() {
        f64::INFINITY
    } else {
        (rho - 1.0) * hm
    };
    0.5 * super::stable::phi(ln_rho) + lin + stirling_rest(b) - stirling_rest(a)
}

/// (x/sx)/(y/sy) and its logarithm for positive x, y and powers of two sx, sy: from the
/// quotient (one rounding) where it is a normal number, else from logarithms.
fn ratio(x: f64, sx: f64, y: f64, sy: f64) -> (f64, f64) {
    let r = (x / y) * (sy / sx);
    if r.is_normal() {
        (r, r.ln())
    } else {
        let l = ln_ratio(x, y) + (sy / sx).ln();
        (l.exp(), l)
    }
}

/// KL(Dirichlet(a) ‖ Dirichlet(b)) and its partials in every aᵢ and bᵢ.
///
/// With Dirichlet(a) the normalised vector of independent Gamma(aᵢ, 1) and
/// KL(Gamma(a, 1) ‖ Gamma(b, 1)) = (a − b + b ln(b/a)) + T(a, b) (see `gamma_rest`), the
/// textbook form ln Γ(Σa) − ln Γ(Σb) − Σ(ln Γ(aᵢ) − ln Γ(bᵢ)) + Σ(aᵢ − bᵢ)(ψ(aᵢ) − ψ(Σa))
/// equals
///
/// KL = Σb · KL(Cat(b/Σb) ‖ Cat(a/Σa)) + Σᵢ T(aᵢ, bᵢ) − T(Σa, Σb):
///
/// the terms of size a ln a cancel analytically (their sum is Σb times a categorical
/// divergence, a sum of non-negative terms), and T is ½φ plus O(ln) terms; the remaining
/// difference is of terms whose infinite parts (bᵢ/aᵢ beyond f64, which bounds the
/// divergence from below) make the whole +∞. Sums that overflow are carried scaled by 2⁻ᵐ.
pub(crate) fn dirichlet_kl(a: &[f64], b: &[f64]) -> (f64, Vec<f64>, Vec<f64>) {
    let k = a.len();
    // Each sum scaled by 2^-m where it overflows (m = 0 where it does not; a separate scale
    // for each, so that a tiny sum is not flushed to 0 by the other's scale).
    let scaled_sum = |x: &[f64]| {
        let s: f64 = x.iter().sum();
        if s.is_finite() {
            (s, 1.0)
        } else {
            let scale = 2f64.powi(-((usize::BITS - k.leading_zeros()) as i32));
            (x.iter().map(|v| v * scale).sum(), scale)
        }
    };
    let ((sa, sc_a), (sb, sc_b)) = (scaled_sum(a), scaled_sum(b));
    let (ln_sa, ln_sb) = (sa.ln() - sc_a.ln(), sb.ln() - sc_b.ln());
    // The unscaled sums (+∞ where they overflow): R, hm and ψ′ are evaluated at them.
    let (ua, ub) = (sa / sc_a, sb / sc_b);
    let mut cat = 0.0;
    let mut rest = 0.0;
    let mut rest_abs = 0.0;
    for i in 0..k {
        let (ln_pa, ln_pb) = (a[i].ln() - ln_sa, b[i].ln() - ln_sb);
        let (pa, pb) = ((a[i] * sc_a) / sa, (b[i] * sc_b) / sb);
        cat += cat_term(pa, ln_pa, pb, ln_pb);
        let (rho, ln_rho) = ratio(b[i], 1.0, a[i], 1.0);
        let t = gamma_rest(a[i], b[i], rho, ln_rho);
        rest += t;
        rest_abs += t.abs();
    }
    let zeros = || (vec![0.0; k], vec![0.0; k]);
    if rest.is_infinite() {
        // Some bᵢ/aᵢ beyond f64.
        let (ga, gb) = zeros();
        return (f64::INFINITY, ga, gb);
    }
    let (rho_s, ln_rho_s) = ratio(sb, sc_b, sa, sc_a);
    let t_s = gamma_rest(ua, ub, rho_s, ln_rho_s);
    // Σb · cat, from the scaled sum where Σb overflows.
    let head = (sb * cat) / sc_b;
    let v = head + rest - t_s;
    if !v.is_finite() {
        let (ga, gb) = zeros();
        return (v, ga, gb);
    }
    let v = super::stable::clamp_rounding(v, head + rest_abs + t_s.abs());
    // ∂/∂aᵢ = (aᵢ − bᵢ)ψ′(aᵢ) − (Σa − Σb)ψ′(Σa); ∂/∂bᵢ = ψ(bᵢ) − ψ(aᵢ) − ψ(Σb) + ψ(Σa).
    let (ts, ln_ts) = if ua >= 1e4 {
        // (Σa − Σb)/Σa from the scaled sums, times Σa ψ′(Σa) = 1 + 1/(2Σa) + …
        let q = if sc_a == sc_b {
            (sa - sb) / sa
        } else {
            -(ln_sb - ln_sa).exp_m1()
        };
        let r = 1.0 / ua;
        let xt = 1.0 + r * (0.5 + r / 6.0);
        (q * xt, q.abs().ln() + xt.ln())
    } else {
        times_trigamma(ua - ub, ua)
    };
    let gap_s = digamma_gap_ln(ub, ln_sb, ua, ln_sa);
    let ln_gap_s = if ua.is_finite() && ub.is_finite() {
        ln_gap_estimate(ub, ua)
    } else {
        f64::NEG_INFINITY
    };
    let mut ga = Vec::with_capacity(k);
    let mut gb = Vec::with_capacity(k);
    for i in 0..k {
        let (ti, ln_ti) = times_trigamma(a[i] - b[i], a[i]);
        ga.push(sum_signed(&[(ti, ln_ti), (-ts, ln_ts)]));
        let gi = digamma_gap(b[i], a[i]);
        gb.push(sum_signed(&[
            (gi, ln_gap_estimate(b[i], a[i])),
            (-gap_s, ln_gap_s),
        ]));
    }
    (v, ga, gb)
}
