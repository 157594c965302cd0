//! KL divergences between discrete families: Bernoulli, Binomial, Poisson, Geometric and
//! Categorical.
//!
//! Formulas: PyTorch `torch/distributions/kl.py` (`_kl_bernoulli_bernoulli`,
//! `_kl_bernoulli_poisson`, `_kl_binomial_binomial`, `_kl_poisson_poisson`,
//! `_kl_geometric_geometric`, `_kl_categorical_categorical`), with the conventions
//! 0 · ln 0 = 0 and `+∞` where q gives zero mass to an outcome p can take (the supports are
//! compared exactly, point masses at p ∈ {0, 1} or a count of 0 included).
//!
//! Binomial–Binomial is exact for every pair of counts and takes bounded work for any count
//! (up to 2⁵³): for equal counts it is n · KL(Bernoulli(p) ‖ Bernoulli(q)); `+∞` when the
//! support of p is not inside that of q; and otherwise (where PyTorch refuses,
//! `p.total_count < q.total_count`) the expectation E_p[ln C(n_p, X) − ln C(n_q, X)] is added
//! to the closed form
//!
//! KL = E_p[ln C(n_p, X) − ln C(n_q, X)] + n_p p ln(p/q) + n_p (1 − p) ln(1 − p)
//!      − (n_q − n_p p) ln(1 − q).
//!
//! The expectation is a sum over the window mean ± (40 sd + 40) of Binomial(n_p, p), whose
//! outside mass is below e⁻⁶⁰ (Bernstein's inequality) and in practice far smaller; a window
//! of more than 2¹⁶ integers (sd > 800) is summed on every h-th integer with weight h,
//! h = ⌈width / 2¹⁶⌉ ≤ sd / 800: the trapezoidal rule on a function that is smooth on the
//! scale of sd, accurate far beyond f64 there. The masses come from Loader's saddle-point
//! form (`stirlerr`, `bd0`), which keeps full relative accuracy at counts near 2⁵³ where
//! differences of `lgamma` lose every digit.
//!
//! Poisson–Poisson is λq · bd0(λp/λq) in Loader's stable form (no cancellation when λp ≈ λq).

use super::{joint_shape, kl, kl_map, ln_ratio, to_shape};
use crate::DistError;
use crate::poisson::PoissonK as Poisson;
use infer_ad::Tensor;
use infer_ad::scalar::lgamma;

/// ½ ln(2π).
const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// `x ln(x/y)` for `x, y ≥ 0`, with 0 ln 0 = 0, +∞ for `x > 0 = y`, and no overflow or
/// underflow of the quotient (`ln x − ln y` when `x/y` is not a normal number).
pub(crate) fn x_ln_ratio(x: f64, y: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else if y == 0.0 {
        f64::INFINITY
    } else {
        x * ln_ratio(x, y)
    }
}

/// Loader's `stirlerr(n)` = ln Γ(n + 1) − (n + ½) ln n + n − ½ ln(2π), for n ≥ 1.
fn stirlerr(n: f64) -> f64 {
    if n <= 15.0 {
        lgamma(n + 1.0) - (n + 0.5) * n.ln() + n - HALF_LN_2PI
    } else {
        let n2 = n * n;
        (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0 - (1.0 / 1680.0) / n2) / n2) / n2) / n
    }
}

/// Loader's `bd0(x, m)` = x ln(x/m) + m − x ≥ 0 for `x ≥ 0`, `m > 0`, without the
/// cancellation of the direct form when x ≈ m.
pub(crate) fn bd0(x: f64, m: f64) -> f64 {
    if x == 0.0 {
        return m;
    }
    if (x - m).abs() < 0.1 * (x + m) {
        let v = (x - m) / (x + m);
        let mut s = (x - m) * v;
        let mut ej = 2.0 * x * v;
        let v2 = v * v;
        for j in 1..1000 {
            ej *= v2;
            let s1 = s + ej / f64::from(2 * j + 1);
            if s1 == s {
                break;
            }
            s = s1;
        }
        s.max(0.0)
    } else {
        // Not close: no cancellation beyond one rounding; the value is ≥ 0 mathematically.
        (x_ln_ratio(x, m) + m - x).max(0.0)
    }
}

/// ln of the Binomial(n, p) mass at the integer `k` (0 ≤ k ≤ n), by Loader's saddle-point
/// form; exact conventions at p ∈ {0, 1}.
fn ln_binomial_pmf(k: f64, n: f64, p: f64) -> f64 {
    if p == 0.0 {
        return if k == 0.0 { 0.0 } else { f64::NEG_INFINITY };
    }
    if p == 1.0 {
        return if k == n { 0.0 } else { f64::NEG_INFINITY };
    }
    if k == 0.0 {
        return n * (-p).ln_1p();
    }
    if k == n {
        return n * p.ln();
    }
    let nk = n - k;
    let lc = stirlerr(n) - stirlerr(k) - stirlerr(nk) - bd0(k, n * p) - bd0(nk, n * (1.0 - p));
    let lf = 2.0 * HALF_LN_2PI + k.ln() + (-k / n).ln_1p();
    lc - 0.5 * lf
}

/// ln Γ(x + d) − ln Γ(x) for x ≥ 1, d ≥ 0, accurate also where both terms are near 1e17
/// (Stirling's series, whose terms are each of the size of the result).
pub(crate) fn lgamma_diff(x: f64, d: f64) -> f64 {
    if d == 0.0 {
        return 0.0;
    }
    if x + d < 1e6 {
        return lgamma(x + d) - lgamma(x);
    }
    // ln Γ(y) = (y − ½) ln y − y + ½ ln 2π + ω(y), ω(y) = stirlerr(y) − ln(y)/… is small.
    let omega = |y: f64| {
        if y < 10.0 {
            lgamma(y) - ((y - 0.5) * y.ln() - y + HALF_LN_2PI)
        } else {
            let y2 = y * y;
            (1.0 / 12.0 - (1.0 / 360.0 - (1.0 / 1260.0) / y2) / y2) / y
        }
    };
    (x - 0.5) * (d / x).ln_1p() + d * (x + d).ln() - d + (omega(x + d) - omega(x))
}

/// E f(X) for X ~ Binomial(n, p), 0 < p < 1, n ≥ 1, with bounded work (see the module
/// documentation): at most 2¹⁶ + 1 evaluations of the mass and of `f`.
fn binomial_expectation(n: f64, p: f64, f: impl Fn(f64) -> f64) -> f64 {
    const MAX_TERMS: f64 = 65_536.0;
    let mean = n * p;
    let sd = (mean * (1.0 - p)).sqrt();
    let half = 40.0 * sd + 40.0;
    let lo = (mean - half).floor().max(0.0);
    let hi = (mean + half).ceil().min(n);
    let h = ((hi - lo + 1.0) / MAX_TERMS).ceil().max(1.0);
    let mut acc = 0.0;
    let mut k = lo;
    while k <= hi {
        let w = (ln_binomial_pmf(k, n, p)).exp();
        if w > 0.0 {
            acc += w * f(k);
        }
        k += h;
    }
    acc * h
}

/// The support of Binomial(n, p) as an integer interval.
fn binomial_support(n: f64, p: f64) -> (f64, f64) {
    if p == 0.0 || n == 0.0 {
        (0.0, 0.0)
    } else if p == 1.0 {
        (n, n)
    } else {
        (0.0, n)
    }
}

/// KL(Binomial(n_p, p) ‖ Binomial(n_q, q)) and its partials in `p` and `q`.
///
/// Where p or q sits on a boundary (0 or 1) and the KL is finite, the partial in that
/// probability is the one-sided derivative, which may be ±∞ (as that of p ln p at 0).
fn binomial_kl(np: f64, p: f64, nq: f64, q: f64) -> (f64, f64, f64) {
    let (a, b) = binomial_support(np, p);
    let (c, e) = binomial_support(nq, q);
    if !(c <= a && b <= e) {
        return (f64::INFINITY, 0.0, 0.0);
    }
    // ∂/∂q of −ln q(k) for Binomial(n_q, q), without 0/0 at q ∈ {0, 1}.
    let dq_point = |k: f64| {
        let up = if k > 0.0 { k / q } else { 0.0 };
        let down = if nq > k { (nq - k) / (1.0 - q) } else { 0.0 };
        down - up
    };
    // ∂/∂p of KL at the boundary p ∈ {0, 1} with n_p ≥ 1: the one-sided limit ∓∞.
    if a == b {
        // p is a point mass at k0: KL = −ln q(k0).
        let k0 = a;
        let dp = if np == 0.0 {
            0.0
        } else if p == 0.0 {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        };
        return (-ln_binomial_pmf(k0, nq, q), dp, dq_point(k0));
    }
    // Here 0 < p < 1, n_p ≥ 1, 0 < q < 1 and n_p ≤ n_q.
    let (lp, l1p) = (p.ln(), (-p).ln_1p());
    let (lq, l1q) = (q.ln(), (-q).ln_1p());
    let bern = x_ln_ratio(p, q) + (1.0 - p) * (l1p - l1q);
    let dbern = (lp - lq) - (l1p - l1q);
    let dq = -np * p / q + (nq - np * p) / (1.0 - q);
    if np == nq {
        // n KL(Bernoulli(p) ‖ Bernoulli(q)); the Bernoulli KL is ≥ 0, a tiny negative is
        // rounding (p ≈ q), clamped.
        return ((np * bern).max(0.0), np * dbern, dq);
    }
    let d = nq - np;
    // c(k) = ln C(n_p, k) − ln C(n_q, k) = G(n_p − k + 1) − G(n_p + 1), G(x) = ln Γ(x + d) − ln Γ(x).
    let g0 = lgamma_diff(np + 1.0, d);
    let s = binomial_expectation(np, p, |k| lgamma_diff(np - k + 1.0, d) - g0);
    // dS/dp = n_p E[c(X + 1) − c(X)], X ~ Binomial(n_p − 1, p), c(k + 1) − c(k) =
    // ln((n_p − k)/(n_q − k)) = ln(1 − d/(n_q − k)).
    let ds = if np > 1.0 {
        np * binomial_expectation(np - 1.0, p, |k| (-d / (nq - k)).ln_1p())
    } else {
        np * (-d / nq).ln_1p()
    };
    let value = s + np * x_ln_ratio(p, q) + np * (1.0 - p) * l1p - (nq - np * p) * l1q;
    // KL ≥ 0; only rounding can make the sum of these terms slightly negative.
    (value.max(0.0), ds + np * dbern, dq)
}

/// Binomial–Binomial over broadcast tensors of counts and probabilities (one fused node;
/// the counts get no gradient).
fn binomial_binomial<'t>(
    names: (&'static str, &'static str),
    np: Tensor<'t>,
    pp: Tensor<'t>,
    nq: Tensor<'t>,
    pq: Tensor<'t>,
) -> Result<Tensor<'t>, DistError> {
    let shape = joint_shape(names.0, names.1, &[np, pp, nq, pq])?;
    let kl = pp
        .tape()
        .fused_map([np.detach(), pp, nq.detach(), pq], |_, [np, p, nq, q]| {
            let (v, dp, dq) = binomial_kl(np, p, nq, q);
            (v, [0.0, dp, 0.0, dq])
        })?;
    to_shape(kl, shape)
}

kl!(
    /// KL(Bernoulli(p) ‖ Bernoulli(q)) = p ln(p/q) + (1 − p) ln((1 − p)/(1 − q)), with
    /// 0 ln 0 = 0 and +∞ where q excludes an outcome of p (PyTorch `_kl_bernoulli_bernoulli`).
    Bernoulli, Bernoulli, |p, q| {
        let one = super::constant(p.probs(), 1.0);
        binomial_binomial(("Bernoulli", "Bernoulli"), one, p.probs(), one, q.probs())
    }
);

kl!(
    /// KL(Binomial ‖ Binomial): the closed form n p ln(p/q) + n(1 − p) ln((1 − p)/(1 − q))
    /// for equal counts (PyTorch `_kl_binomial_binomial`), +∞ when the support of p is not
    /// inside that of q, and the exact expectation (bounded work for any count) when p's count
    /// is smaller (see the module documentation).
    Binomial, Binomial, |p, q| binomial_binomial(
        ("Binomial", "Binomial"),
        p.total_count(),
        p.probs(),
        q.total_count(),
        q.probs(),
    )
);

/// KL(Bernoulli(p) ‖ Poisson(λ)) = (1 − p) ln(1 − p) + p ln(p/λ) + λ and its partials; +∞ when
/// p > 0 = λ. At p ∈ {0, 1} the partial in p is the one-sided limit ∓∞.
fn bernoulli_poisson_kl([p, l]: [f64; 2]) -> (f64, [f64; 2]) {
    if p > 0.0 && l == 0.0 {
        return (f64::INFINITY, [0.0, 0.0]);
    }
    let l1p = (-p).ln_1p();
    let v = (1.0 - p) * l1p + x_ln_ratio(p, l) + l;
    let dp = if p == 0.0 {
        f64::NEG_INFINITY
    } else {
        ln_ratio(p, l) - l1p
    };
    let dl = if p == 0.0 { 1.0 } else { 1.0 - p / l };
    // KL ≥ 0 (Gibbs); a negative value is rounding (p ≈ λ, both small), clamped.
    (v.max(0.0), [dp, dl])
}

kl!(
    /// KL(Bernoulli(p) ‖ Poisson(λ)) = p ln p + (1 − p) ln(1 − p) − p ln λ + λ (PyTorch
    /// `_kl_bernoulli_poisson`), 0 for p = λ = 0 and +∞ for p > 0 = λ.
    Bernoulli, Poisson, |p, q| {
        let (pp, rate) = (p.probs(), q.rate());
        kl_map("Bernoulli", "Poisson", [pp, rate], bernoulli_poisson_kl)
    }
);

/// KL(Poisson(a) ‖ Poisson(b)) = a ln(a/b) − a + b = bd0(a, b), and its partials.
fn poisson_kl([a, b]: [f64; 2]) -> (f64, [f64; 2]) {
    if b == 0.0 {
        return if a == 0.0 {
            (0.0, [f64::NEG_INFINITY, 1.0])
        } else {
            (f64::INFINITY, [0.0, 0.0])
        };
    }
    if a == 0.0 {
        return (b, [f64::NEG_INFINITY, 1.0]);
    }
    (bd0(a, b), [ln_ratio(a, b), 1.0 - a / b])
}

/// KL(Poisson(λp) ‖ Poisson(λq)) = λp ln(λp/λq) − λp + λq.
fn poisson_poisson<'t>(p: &Poisson<'t>, q: &Poisson<'t>) -> Result<Tensor<'t>, DistError> {
    let (lp, lq) = (p.rate(), q.rate());
    kl_map("Poisson", "Poisson", [lp, lq], poisson_kl)
}

kl!(
    /// KL(Poisson(λp) ‖ Poisson(λq)) = λp ln(λp/λq) − λp + λq (PyTorch `_kl_poisson_poisson`),
    /// in Loader's `bd0` form.
    Poisson, Poisson, |p, q| poisson_poisson(p, q)
);

/// KL(Geometric(p) ‖ Geometric(q)) = ln(p/q) + ((1 − p)/p)(ln(1 − p) − ln(1 − q)) and its
/// partials; +∞ when p < 1 = q.
fn geometric_kl([p, q]: [f64; 2]) -> (f64, [f64; 2]) {
    if p == 1.0 {
        // A point mass at 0: KL = −ln q; the partial in p is the one-sided limit.
        return (-q.ln(), [f64::INFINITY, -1.0 / q]);
    }
    if q == 1.0 {
        return (f64::INFINITY, [0.0, 0.0]);
    }
    let (l1p, l1q) = ((-p).ln_1p(), (-q).ln_1p());
    let diff = l1p - l1q;
    let v = ln_ratio(p, q) + (1.0 - p) * (diff / p);
    let dp = -(diff / p) / p;
    let dq = ((q - p) / p) / q / (1.0 - q);
    // KL ≥ 0; a negative value is rounding (p ≈ q), clamped.
    (v.max(0.0), [dp, dq])
}

kl!(
    /// KL(Geometric(p) ‖ Geometric(q)) = ln(p/q) + ((1 − p)/p) ln((1 − p)/(1 − q)) (failures
    /// before the first success; PyTorch `_kl_geometric_geometric`).
    Geometric, Geometric, |p, q| {
        let (pp, pq) = (p.probs(), q.probs());
        kl_map("Geometric", "Geometric", [pp, pq], geometric_kl)
    }
);

kl!(
    /// KL(Categorical(p) ‖ Categorical(q)) = Σₖ pₖ (ln pₖ − ln qₖ) over the last axis, with
    /// 0 ln 0 = 0 and +∞ where qₖ = 0 < pₖ (PyTorch `_kl_categorical_categorical`). Gradients
    /// flow through the normalisation of `probs` (or the log-softmax of `logits`).
    Categorical, Categorical, |p, q| {
        let (pp, lp, lq) = (p.probs(), p.logits(), q.logits());
        super::event_size("Categorical", "KL divergence: numbers of categories of p and q", pp, lq)?;
        joint_shape("Categorical", "Categorical", &[pp, lq])?;
        let terms = pp.tape().fused_map([pp, lp, lq], |_, [p, a, b]| {
            if p == 0.0 {
                (0.0, [0.0, 0.0, 0.0])
            } else if b == f64::NEG_INFINITY {
                (f64::INFINITY, [0.0, 0.0, 0.0])
            } else {
                (p * (a - b), [a - b, p, -p])
            }
        })?;
        Ok(terms.sum_axis(terms.ndim() - 1)?)
    }
);
