//! KL divergences from the Uniform and Pareto families.
//!
//! Formulas: PyTorch `torch/distributions/kl.py` (`_kl_uniform_normal`, `_kl_uniform_gamma`,
//! `_kl_uniform_exponetial`, `_kl_uniform_uniform`, `_kl_uniform_gumbel`, `_kl_uniform_pareto`,
//! `_kl_uniform_beta`, `_kl_pareto_normal`, `_kl_pareto_exponential`, `_kl_pareto_gamma`,
//! `_kl_pareto_pareto`). Over U(a, b), E[ln X] = (b ln b − a ln a − (b − a))/(b − a).
//! The divergence is +∞ where the support of p is not inside that of q, and where it diverges
//! (Pareto with α ≤ 1, or α ≤ 2 against a Normal): the parameters of those elements are
//! replaced by harmless values before the formula runs, so no NaN reaches value or gradient.

use super::stable::{
    add_overflowed, clamp_rounding, digamma_gap, ln_prod_ratio, neg_ln1m_minus, phi, scaled_phi,
    stirling_rest,
};
use super::{against_gamma_family, kl, kl_map, ln_diff, ln_ratio, scaled_diff};
use crate::util::mul0;
use infer_ad::scalar::{digamma, lgamma};

/// ½ ln(2π).
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// `1/(x − y)` for `x > y`, finite also when `x − y` overflows.
fn recip_diff(x: f64, y: f64) -> f64 {
    let d = x - y;
    if d.is_finite() {
        1.0 / d
    } else {
        0.5 / (0.5 * x - 0.5 * y)
    }
}

/// KL(Uniform(a, b) ‖ Normal(m, σ)) written in the scaled width t = (b − a)/σ and centre
/// z = ((a + b)/2 − m)/σ: −ln t + ½ ln 2π + t²/24 + z²/2 (no difference of large terms; ln t
/// from logarithms when t over- or underflows), and its partials in (a, b, m, σ).
fn uniform_normal_kl([a, b, m, s]: [f64; 4]) -> (f64, [f64; 4]) {
    let t = scaled_diff(b, a, s);
    let ln_t = if t.is_normal() {
        t.ln()
    } else {
        ln_diff(b, a) - s.ln()
    };
    let z = scaled_diff(0.5 * a + 0.5 * b, m, s);
    let v = -ln_t + HALF_LN_2PI + t * t / 24.0 + 0.5 * z * z;
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    let (dt, dz) = (t / 12.0 - 1.0 / t, z);
    // Numerators first: with a subnormal scale each quotient alone may be ±∞.
    let da = (0.5 * dz - dt) / s;
    let db = (0.5 * dz + dt) / s;
    // t·∂/∂t = t²/12 − 1 formed directly (t may underflow to 0 where 1/t is ∞).
    (v, [da, db, -dz / s, -(t * t / 12.0 - 1.0 + z * dz) / s])
}

kl!(
    /// KL(Uniform(a, b) ‖ Normal(m, σ)) = ln(√(2π) σ/(b − a)) + ((b − a)²/12 +
    /// ((a + b)/2 − m)²)/(2σ²) (PyTorch `_kl_uniform_normal`), evaluated in the scaled width
    /// and centre so that no intermediate overflows into ∞ − ∞.
    Uniform, Normal, [low, high], [loc, scale], uniform_normal_kl
);

/// ln Γ(α) − α ln α + α = −½ ln α + ½ ln 2π + ω(α) (Stirling), O(ln α) for every α > 0.
fn lgamma_minus_stirling_head(al: f64) -> f64 {
    if al < 10.0 {
        lgamma(al) - al * al.ln() + al
    } else {
        let y2 = al * al;
        -0.5 * al.ln() + HALF_LN_2PI + (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0) / y2) / y2) / al
    }
}

/// KL(Uniform(a, b) ‖ Gamma(α, β)) = −ln(b − a) + ln Γ(α) − α ln β + (1 − α) E[ln X] +
/// β(a + b)/2 and its partials in (a, b, α, β); +∞ where a < 0.
///
/// Regrouped as [ln Γ(α) − α ln α + α] + α (φ(u) + J) + E[ln X] − ln(b − a) with
/// u = β m/α (m the midpoint), φ(u) = u − 1 − ln u ≥ 0 and J = ln m − E[ln X] ≥ 0 (Jensen):
/// the terms that grow with α or β are one non-negative product, so parameters near 1e308
/// give +∞ (or a finite value), never ∞ − ∞.
fn uniform_gamma_kl([a, b, al, r]: [f64; 4]) -> (f64, [f64; 4]) {
    if a < 0.0 {
        return (f64::INFINITY, [0.0; 4]);
    }
    let c = b - a;
    let (e1, e1_lo, e1_hi) = mean_ln_uniform(a, b.ln(), c);
    let sum = a + b;
    let mid = 0.5 * a + 0.5 * b;
    // ln m from a + b (exact halving is lost for subnormal bounds).
    let ln_mid = if sum.is_finite() {
        sum.ln() - std::f64::consts::LN_2
    } else {
        mid.ln()
    };
    let t = if a == 0.0 { f64::INFINITY } else { c / a };
    let jensen = ((a / b).ln_1p() - std::f64::consts::LN_2 - h_ln1p(t)).max(0.0);
    let ln_u = r.ln() + ln_mid - al.ln();
    let phi = if ln_u.abs() < 0.5 {
        ln_u.exp_m1() - ln_u
    } else {
        ln_u.exp() - 1.0 - ln_u
    };
    let v = lgamma_minus_stirling_head(al) + al * (phi + jensen) + e1 - c.ln();
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    let k = 1.0 - al;
    let da = (1.0 + times(k, e1_lo)) / c + 0.5 * r;
    let db = (-1.0 + times(k, e1_hi)) / c + 0.5 * r;
    (v, [da, db, digamma(al) - r.ln() - e1, mid - al / r])
}

against_gamma_family!(
    /// KL(Uniform ‖ gamma-family q), q written as Gamma(α, β); +∞ where `low < 0`
    /// (PyTorch `_kl_uniform_gamma`, `_kl_uniform_exponetial`).
    Uniform [low, high], uniform_gamma_kl
);

kl!(
    /// KL(Uniform(ap, bp) ‖ Uniform(aq, bq)) = ln((bq − aq)/(bp − ap)), +∞ unless
    /// [ap, bp] ⊆ [aq, bq] (PyTorch `_kl_uniform_uniform`); widths that overflow f64 (bounds
    /// near ±1.8e308) are handled in logarithms.
    Uniform, Uniform, |p, q| {
        let (ap, bp, aq, bq) = (p.low(), p.high(), q.low(), q.high());
        kl_map("Uniform", "Uniform", [ap, bp, aq, bq], |[ap, bp, aq, bq]| {
            if aq > ap || bq < bp {
                return (f64::INFINITY, [0.0; 4]);
            }
            let (cp, cq) = (bp - ap, bq - aq);
            let v = if cp.is_finite() && cq.is_finite() {
                ln_ratio(cq, cp)
            } else {
                // Widths beyond f64: the ratio of the half-widths (exact at that magnitude).
                ln_ratio(0.5 * bq - 0.5 * aq, 0.5 * bp - 0.5 * ap)
            };
            let (rp, rq) = (recip_diff(bp, ap), recip_diff(bq, aq));
            // The inner width never exceeds the outer: KL ≥ 0 up to rounding, clamped.
            (v.max(0.0), [rp, -rp, -rq, rq])
        })
    }
);

/// ln((1 − e^{−t})/t) for t ≥ 0 (≤ 0; −t/2 + t²/24 − … near 0, −ln t for large t).
fn ln_one_minus_exp_over(t: f64, ln_t: f64) -> f64 {
    if t < 1e-4 {
        -0.5 * t + t * t / 24.0
    } else {
        (-(-t).exp_m1()).ln() - ln_t
    }
}

/// The Langevin function coth(u) − 1/u (u/3 − u³/45 near 0, → 1).
fn langevin(u: f64) -> f64 {
    if u < 1e-3 {
        u / 3.0 - u * u * u / 45.0
    } else if u > 20.0 {
        1.0 - 1.0 / u
    } else {
        1.0 / u.tanh() - 1.0 / u
    }
}

/// KL(Uniform(a, b) ‖ Gumbel(m, β)) and its partials in (a, b, m, β).
///
/// With t = (b − a)/β, l = (a − m)/β and w = ln((1 − e^{−t})/t) − l, the PyTorch form
/// ln(β/(b − a)) + ½(h + l) − (β/(b − a))(e^{−h} − e^{−l}) (h = l + t) equals
///
/// KL = (e^w − w) + ln((1 − e^{−t})/t) + t/2 − ln t,
///
/// a sum of terms that are each finite or +∞ (e^w − w ≥ 1; the rest ≥ −1 and finite), so
/// no ∞ − ∞ arises where the exponentials of the direct form overflow.
fn uniform_gumbel_kl([a, b, m, beta]: [f64; 4]) -> (f64, [f64; 4]) {
    let t = scaled_diff(b, a, beta);
    let ln_t = if t.is_normal() {
        t.ln()
    } else {
        ln_diff(b, a) - beta.ln()
    };
    let half_t = if t.is_finite() {
        0.5 * t
    } else {
        (0.5 * b - 0.5 * a) / beta
    };
    let r = ln_one_minus_exp_over(t, ln_t);
    let l = scaled_diff(a, m, beta);
    let w = r - l;
    let ew = w.exp();
    let first = if w.is_infinite() {
        f64::INFINITY
    } else {
        ew - w
    };
    let v = first + r + half_t - ln_t;
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    // KL = z + e^{−z} S(t) − ln t with z = l + t/2, S(t) = sinh(t/2)/(t/2), e^{−z} S = e^w:
    // ∂/∂z = 1 − e^w, ∂/∂t = e^w L(t/2)/2 − 1/t (L the Langevin function).
    let z = l + half_t;
    let dz = 1.0 - ew;
    let dt = 0.5 * ew * langevin(half_t) - (-ln_t).exp();
    // Numerators first: with a subnormal scale each quotient alone may be ±∞.
    let da = (0.5 * dz - dt) / beta;
    let db = (0.5 * dz + dt) / beta;
    // t·∂/∂t formed directly (t may underflow to 0 where 1/t is ∞).
    let t_dt = ew * half_t * langevin(half_t) - 1.0;
    (v, [da, db, -dz / beta, -(z * dz + t_dt) / beta])
}

kl!(
    /// KL(Uniform(a, b) ‖ Gumbel(m, β)) = ln(β/(b − a)) + ½(h + l) − β/(b − a)(e^{−h} − e^{−l})
    /// with h = (b − m)/β, l = (a − m)/β (PyTorch `_kl_uniform_gumbel`), evaluated as a sum of
    /// terms that cannot cancel to ∞ − ∞ (see `uniform_gumbel_kl`).
    Uniform, Gumbel, [low, high], [loc, scale], uniform_gumbel_kl
);

/// KL(Uniform(a, b) ‖ Pareto(s, α)) = α (E[ln X] − ln s) + E[ln X] − ln α − ln(b − a) and its
/// partials in (a, b, s, α); +∞ where a < s.
fn uniform_pareto_kl([a, b, s, al]: [f64; 4]) -> (f64, [f64; 4]) {
    if a < s {
        return (f64::INFINITY, [0.0; 4]);
    }
    let c = b - a;
    let (e1, e1_lo, e1_hi) = mean_ln_uniform(a, b.ln(), c);
    let t = c / a;
    // E[ln X] − ln s = ln(b/s) + h(t) ≥ 0, without subtracting two large logarithms.
    let above = ln_ratio(b, s) + h_ln1p(t);
    let v = al * above + e1 - al.ln() - c.ln();
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    let k = al + 1.0;
    (
        v,
        [
            (k * e1_lo + 1.0) / c,
            (k * e1_hi - 1.0) / c,
            -al / s,
            above - 1.0 / al,
        ],
    )
}

kl!(
    /// KL(Uniform(a, b) ‖ Pareto(s, α)) = (α + 1) E[ln X] − ln(α s^α (b − a)), +∞ where a < s
    /// (PyTorch `_kl_uniform_pareto`).
    Uniform, Pareto, [low, high], [scale, alpha], uniform_pareto_kl
);

/// ln(1 + t)/t − 1 for t ≥ 0 (−1 at t = ∞), with its series near 0.
fn h_ln1p(t: f64) -> f64 {
    if t.is_infinite() {
        -1.0
    } else if t < 1e-2 {
        // Σ_{k≥1} (−t)^k/(k + 1); the omitted terms are below t⁸/9 < 1e-16 · t/2.
        let mut acc = 0.0;
        for k in (1..=7).rev() {
            acc = (-t) * (1.0 / f64::from(k + 1) + acc);
        }
        acc
    } else {
        t.ln_1p() / t - 1.0
    }
}

/// E[ln Y] for Y ~ U(lo, hi), 0 ≤ lo < hi, given ln hi and c = hi − lo, and c times its
/// partials in lo and hi: E = ln hi + h(c/lo) with h(t) = ln(1 + t)/t − 1 (exact at lo = 0, no
/// cancellation for narrow intervals). The partials are returned multiplied by c so that the
/// callers add them to the other 1/c terms before dividing (no ∞ − ∞ for a subnormal c).
fn mean_ln_uniform(lo: f64, ln_hi: f64, c: f64) -> (f64, f64, f64) {
    // lo = ±0 gives t = +∞ (E = ln hi − 1).
    let t = if lo == 0.0 { f64::INFINITY } else { c / lo };
    let h = h_ln1p(t);
    // c ∂E/∂hi = ln hi − E = −h ∈ [0, 1], c ∂E/∂lo = E − ln lo = ln(1 + t) + h(t) ≥ 0.
    (ln_hi + h, t.ln_1p() + h, -h)
}

/// `k · d` with 0 · ∞ = 0 (a zero coefficient silences an infinite one-sided derivative).
fn times(k: f64, d: f64) -> f64 {
    if k == 0.0 { 0.0 } else { k * d }
}

/// KL(Uniform(a, b) ‖ Beta(α, β)) and its partials in (a, b, α, β); +∞ unless [a, b] ⊆ [0, 1].
fn uniform_beta_kl([a, b, al, be]: [f64; 4]) -> (f64, [f64; 4]) {
    if a < 0.0 || b > 1.0 {
        return (f64::INFINITY, [0.0; 4]);
    }
    let c = b - a;
    let (e1, e1_lo, e1_hi) = mean_ln_uniform(a, b.ln(), c);
    // 1 − X ~ U(1 − b, 1 − a); 1 − b is exact for b ≥ ½ and ln(1 − a) = ln1p(−a).
    let (e2, e2_lo, e2_hi) = mean_ln_uniform(1.0 - b, (-a).ln_1p(), c);
    let (k1, k2) = (al - 1.0, be - 1.0);
    // ln B(α, β) by Stirling, R its remainder and S = α + β (ln S without overflowing S):
    // α ln π₁ + β ln π₂ + ½ ln(S/(αβ)) + ½ ln 2π + R(α) + R(β) − R(S), πᵢ = (α, β)/S.
    let (lo_c, hi_c) = if al <= be { (al, be) } else { (be, al) };
    let ln_s = hi_c.ln() + (lo_c / hi_c).ln_1p();
    // ln π of the larger is −ln(1 + lo/hi) (no difference of two ln S-sized numbers).
    let ln_1p_ratio = (lo_c / hi_c).ln_1p();
    let (ln_lo, ln_hi) = (ln_ratio(lo_c, hi_c) - ln_1p_ratio, -ln_1p_ratio);
    let (ln_p1, ln_p2) = if al <= be {
        (ln_lo, ln_hi)
    } else {
        (ln_hi, ln_lo)
    };
    // The terms of size S: α(ln π₁ − E[ln X]) + β(ln π₂ − E[ln(1 − X)]) =
    // S E[KL(Bernoulli(π₁) ‖ Bernoulli(X))] ≥ 0, taken as S times a convex combination (a
    // negative combination is rounding of a value ≈ 0; S is formed from halves).
    let (p1, p2) = (ln_p1.exp(), ln_p2.exp());
    let (u1, u2) = (p1 * (ln_p1 - e1), p2 * (ln_p2 - e2));
    let bracket = clamp_rounding(u1 + u2, u1.abs() + u2.abs());
    let big = bracket * (0.5 * al + 0.5 * be) * 2.0;
    let rest = e1 + e2 - 0.5 * (ln_p1 + be.ln()) + HALF_LN_2PI + stirling_rest(al) - c.ln()
        + stirling_rest(be)
        - stirling_rest(ln_s.exp());
    let v = big + rest;
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    let da = (1.0 - times(k1, e1_lo) + times(k2, e2_hi)) / c;
    let db = (-1.0 - times(k1, e1_hi) + times(k2, e2_lo)) / c;
    // ψ(α) − ψ(α + β) (and for β), also where α + β overflows (then both are ≥ 2^1022 and
    // ψ(y) − ln y = −1/(2y) + …).
    let psi_gap = |x: f64, ln_px: f64| {
        let s = al + be;
        if s.is_finite() {
            -digamma_gap(s, x)
        } else {
            ln_px - 0.5 / x
        }
    };
    let dal = psi_gap(al, ln_p1) - e1;
    let dbe = psi_gap(be, ln_p2) - e2;
    // KL ≥ 0; a negative value is rounding (p ≈ q, terms of size ≤ ~745), clamped.
    (clamp_rounding(v, 1e3 + big), [da, db, dal, dbe])
}

kl!(
    /// KL(Uniform(a, b) ‖ Beta(α, β)) = −ln(b − a) − (α − 1) E[ln X] − (β − 1) E[ln(1 − X)] +
    /// ln B(α, β), +∞ unless [a, b] ⊆ [0, 1] (PyTorch `_kl_uniform_beta`). E[ln X] is taken as
    /// ln b + h((b − a)/a), h(t) = ln(1 + t)/t − 1, which keeps its digits for narrow
    /// intervals (the direct (b ln b − a ln a)/(b − a) − 1 loses them all at b − a = 1e-8).
    Uniform, Beta, [low, high], [concentration1, concentration0], uniform_beta_kl
);

/// KL(Pareto(s, α) ‖ Normal(m, σ)) and its partials in (s, α, m, σ); +∞ where α ≤ 2.
///
/// With E = αs/(α − 1), Var = αs²/((α − 1)²(α − 2)), v = ln(Var/σ²) and z = (E − m)/σ, the
/// form ln(√(2π) σ α/s) − 1/α + (Var + (E − m)²)/(2σ²) − 1 equals
///
/// KL = ½ φ(v) + ½ z² + (−ln(1 − 1/α) − 1/α) − ½ ln(1 − 2/α) + ½ ln 2π − ½,
///
/// φ(s) = eˢ − 1 − s ≥ 0: every term is non-negative (the constant ≈ 0.419), v is taken from
/// logarithms and z from halves where E − m overflows, so no ∞ − ∞ arises.
fn pareto_normal_kl([sp, ap, m, sq]: [f64; 4]) -> (f64, [f64; 4]) {
    if !(ap > 2.0) {
        return (f64::INFINITY, [0.0; 4]);
    }
    let x = 1.0 / ap;
    let (l1, l2) = ((-x).ln_1p(), (-2.0 * x).ln_1p());
    let (ls, lsq) = (sp.ln(), sq.ln());
    // ln Var = 2 ln s − 2 ln α − 2 ln(1 − 1/α) − ln(1 − 2/α).
    let v_ = 2.0 * (ls - lsq) - 2.0 * ap.ln() - 2.0 * l1 - l2;
    let e_half = 0.5 * sp / (1.0 - x);
    let e = 2.0 * e_half;
    let d = e - m;
    let z = if d.is_finite() {
        d / sq
    } else {
        (e_half - 0.5 * m) / sq * 2.0
    };
    let v = 0.5 * phi(v_) + 0.5 * (z * z) + neg_ln1m_minus(x) - 0.5 * l2 + HALF_LN_2PI - 0.5;
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    let ev = v_.exp();
    // E/σ and s/((α − 1)²σ) = (E/σ)/(α(α − 1)).
    let e_s = (ls - l1 - lsq).exp();
    let ds = (ev - 1.0 + mul0(z, e_s)) / sp;
    let dln_var = x - 2.0 / (ap - 1.0) - 1.0 / (ap - 2.0);
    let e_s_a = (ls - l1 - lsq - ap.ln() - (ap - 1.0).ln()).exp();
    let da = x + x * x + 0.5 * mul0(ev, dln_var) - mul0(z, e_s_a);
    (v, [ds, da, -z / sq, (1.0 - ev - z * z) / sq])
}

kl!(
    /// KL(Pareto(s, α) ‖ Normal(m, σ)) = ln(√(2π) σ α/s) − 1/α + (Var_p + (E_p − m)²)/(2σ²) − 1
    /// with E_p = αs/(α − 1), Var_p = α s²/((α − 1)²(α − 2)); +∞ where α ≤ 2 (PyTorch
    /// `_kl_pareto_normal`), evaluated in the regrouped form of `pareto_normal_kl`.
    Pareto, Normal, [scale, alpha], [loc, scale], pareto_normal_kl
);

/// KL(Pareto(s, α) ‖ Gamma(αq, βq)) and its partials in (s, α, αq, βq); +∞ where α ≤ 1.
///
/// With E = αs/(α − 1) = E_p[X], E_p[ln X] = ln s + 1/α and Stirling's form of ln Γ(αq)
/// (R its remainder), the form ln α − (ln s + 1/α) + ln Γ(αq) − αq ln βq +
/// (1 − αq)(ln s + 1/α) + βq E − 1 equals
///
/// KL = αq φ(ς) + αq J + ln α − 1 − ½ ln αq + R(αq) + ½ ln 2π,
///
/// ς = ln(βq E/αq), φ(s) = eˢ − 1 − s ≥ 0 and J = ln E − E_p[ln X] = −ln(1 − 1/α) − 1/α ≥ 0:
/// the terms that grow with αq, βq or s are non-negative products, the rest are logarithms.
fn pareto_gamma_kl([sp, ap, aq, rq]: [f64; 4]) -> (f64, [f64; 4]) {
    if !(ap > 1.0) {
        return (f64::INFINITY, [0.0; 4]);
    }
    let x = 1.0 / ap;
    let (ls, laq, lrq) = (sp.ln(), aq.ln(), rq.ln());
    let ln_e = ls - (-x).ln_1p();
    let vs = ln_prod_ratio(rq, sp / (1.0 - x), aq, lrq + ln_e - laq);
    let j = neg_ln1m_minus(x);
    let head = scaled_phi(aq, laq, vs) + aq * j;
    let terms = [ap.ln() - 1.0, -0.5 * laq + stirling_rest(aq), HALF_LN_2PI];
    let v = head + terms.iter().sum::<f64>();
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    let scale = head + terms.iter().map(|t| t.abs()).sum::<f64>();
    let rq_e = (lrq + ln_e).exp();
    let e = ln_e.exp();
    (
        clamp_rounding(v, scale),
        [
            (rq_e - aq) / sp,
            (1.0 + aq * x) * x - (lrq + ln_e - ap.ln() - (ap - 1.0).ln()).exp(),
            digamma(aq) - lrq - ls - x,
            add_overflowed(e, -(aq / rq), ln_e, laq - lrq),
        ],
    )
}

against_gamma_family!(
    /// KL(Pareto ‖ gamma-family q), q written as Gamma(α, β); +∞ where α ≤ 1 (PyTorch
    /// `_kl_pareto_gamma`, `_kl_pareto_exponential`).
    Pareto [scale, alpha], pareto_gamma_kl
);

/// r − 1 − ln r ≥ 0 for r > 0, without cancellation near r = 1.
fn r_minus_ln_r(r: f64, ln_r: f64) -> f64 {
    let d = r - 1.0;
    if d.abs() < 0.5 {
        (d - d.ln_1p()).max(0.0)
    } else if r.is_infinite() {
        f64::INFINITY
    } else {
        d - ln_r
    }
}

/// KL(Pareto(sp, αp) ‖ Pareto(sq, αq)) = αq ln(sp/sq) + (r − 1 − ln r), r = αq/αp, and its
/// partials in (sp, αp, sq, αq); +∞ where sp < sq.
fn pareto_pareto_kl([sp, ap, sq, aq]: [f64; 4]) -> (f64, [f64; 4]) {
    if sp < sq {
        return (f64::INFINITY, [0.0; 4]);
    }
    let r = aq / ap;
    let ln_s = ln_ratio(sp, sq);
    // Both terms are ≥ 0 (sp ≥ sq), so an overflow of either is +∞, never ∞ − ∞.
    let v = aq * ln_s + r_minus_ln_r(r, ln_ratio(aq, ap));
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    (
        v,
        [aq / sp, -(r - 1.0) / ap, -aq / sq, ln_s + (r - 1.0) / aq],
    )
}

kl!(
    /// KL(Pareto(sp, αp) ‖ Pareto(sq, αq)) = αq ln(sp/sq) − ln(αq/αp) + αq/αp − 1, +∞ where
    /// sp < sq (Gil 2011; PyTorch `_kl_pareto_pareto`).
    Pareto, Pareto, [scale, alpha], [scale, alpha], pareto_pareto_kl
);
