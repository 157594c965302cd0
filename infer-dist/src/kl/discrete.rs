//! KL divergences between discrete families: Bernoulli, Binomial, Poisson, Geometric and
//! Categorical.
//!
//! Formulas: PyTorch `torch/distributions/kl.py` (`_kl_bernoulli_bernoulli`,
//! `_kl_bernoulli_poisson`, `_kl_binomial_binomial`, `_kl_poisson_poisson`,
//! `_kl_geometric_geometric`, `_kl_categorical_categorical`), with the conventions
//! 0 · ln 0 = 0 and `+∞` where q gives zero mass to an outcome p can take. Binomial–Binomial
//! is exact for every pair of counts: `+∞` when `p.total_count > q.total_count` (as PyTorch),
//! and, where PyTorch refuses (`p.total_count < q.total_count`), the finite sum
//! E_p[ln C(n_p, X) − ln C(n_q, X)] is added to the closed form:
//!
//! KL = E_p[ln C(n_p, X) − ln C(n_q, X)] + n_p p ln(p/q) + n_p (1 − p) ln(1 − p)
//!      − (n_q − n_p p) ln(1 − q).

use super::{joint_shape, kl, to_shape};
use crate::{DistError, Poisson};
use infer_ad::Tensor;
use infer_ad::scalar::lgamma;

/// `x ln(x/y)` with 0 ln 0 = 0 and +∞ for `x > 0 = y`.
fn x_ln_ratio(x: f64, y: f64) -> f64 {
    if x == 0.0 {
        0.0
    } else if y == 0.0 {
        f64::INFINITY
    } else {
        x * (x / y).ln()
    }
}

/// ln C(n, k).
fn ln_choose(n: f64, k: f64) -> f64 {
    lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0)
}

/// The Binomial(n, p) mass at `k` (k = 0..=n), safe at p ∈ {0, 1}.
fn binomial_pmf(n: f64, p: f64, k: f64) -> f64 {
    if p == 0.0 {
        return if k == 0.0 { 1.0 } else { 0.0 };
    }
    if p == 1.0 {
        return if k == n { 1.0 } else { 0.0 };
    }
    (ln_choose(n, k) + k * p.ln() + (n - k) * (-p).ln_1p()).exp()
}

/// KL(Binomial(n_p, p) ‖ Binomial(n_q, q)) and its partials in `p` and `q`.
fn binomial_kl(np: f64, p: f64, nq: f64, q: f64) -> (f64, f64, f64) {
    if np > nq {
        return (f64::INFINITY, 0.0, 0.0);
    }
    // E_p[ln C(n_p, X) − ln C(n_q, X)] and its derivative in p, via
    // d/dp B(k; n, p) = n (B(k − 1; n − 1, p) − B(k; n − 1, p)).
    let (mut s, mut ds) = (0.0, 0.0);
    if np < nq {
        let c = |k: f64| ln_choose(np, k) - ln_choose(nq, k);
        let mut k = 0.0;
        while k <= np {
            s += binomial_pmf(np, p, k) * c(k);
            if k < np {
                ds += np * binomial_pmf(np - 1.0, p, k) * (c(k + 1.0) - c(k));
            }
            k += 1.0;
        }
    }
    let coef = nq - np * p;
    let tail = if coef == 0.0 {
        0.0
    } else {
        -coef * (-q).ln_1p()
    };
    let value = s + np * x_ln_ratio(p, q) + np * x_ln_ratio(1.0 - p, 1.0) + tail;
    let dp = ds + np * ((p / q).ln() - ((1.0 - p) / (1.0 - q)).ln());
    let dq = -np * p / q + coef / (1.0 - q);
    (value, dp, dq)
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
    /// for equal counts (PyTorch `_kl_binomial_binomial`), +∞ when p's count is larger, and the
    /// exact finite sum when it is smaller (see the module documentation).
    Binomial, Binomial, |p, q| binomial_binomial(
        ("Binomial", "Binomial"),
        p.total_count(),
        p.probs(),
        q.total_count(),
        q.probs(),
    )
);

kl!(
    /// KL(Bernoulli(p) ‖ Poisson(λ)) = p ln p + (1 − p) ln(1 − p) − p ln λ + λ (PyTorch
    /// `_kl_bernoulli_poisson`).
    Bernoulli, Poisson, |p, q| {
        let (pp, rate) = (p.probs(), q.rate());
        let shape = joint_shape("Bernoulli", "Poisson", &[pp, rate])?;
        let kl = pp.tape().fused_map([pp, rate], |_, [p, l]| {
            let v = x_ln_ratio(p, 1.0) + x_ln_ratio(1.0 - p, 1.0) - p * l.ln() + l;
            (v, [p.ln() - (-p).ln_1p() - l.ln(), 1.0 - p / l])
        })?;
        to_shape(kl, shape)
    }
);

/// KL(Poisson(λp) ‖ Poisson(λq)) = λp ln(λp/λq) − λp + λq.
fn poisson_poisson<'t>(p: &Poisson<'t>, q: &Poisson<'t>) -> Result<Tensor<'t>, DistError> {
    let (lp, lq) = (p.rate(), q.rate());
    let shape = joint_shape("Poisson", "Poisson", &[lp, lq])?;
    let kl = lp.tape().fused_map([lp, lq], |_, [a, b]| {
        (x_ln_ratio(a, b) - a + b, [(a / b).ln(), 1.0 - a / b])
    })?;
    to_shape(kl, shape)
}

kl!(
    /// KL(Poisson(λp) ‖ Poisson(λq)) = λp ln(λp/λq) − λp + λq (PyTorch `_kl_poisson_poisson`).
    Poisson, Poisson, |p, q| poisson_poisson(p, q)
);

kl!(
    /// KL(Geometric(p) ‖ Geometric(q)) = ln(p/q) + ((1 − p)/p) ln((1 − p)/(1 − q)) (failures
    /// before the first success; PyTorch `_kl_geometric_geometric`).
    Geometric, Geometric, |p, q| {
        let (pp, pq) = (p.probs(), q.probs());
        let shape = joint_shape("Geometric", "Geometric", &[pp, pq])?;
        let kl = pp.tape().fused_map([pp, pq], |_, [p, q]| {
            let v = (p / q).ln() + x_ln_ratio(1.0 - p, 1.0 - q) / p;
            let l = ((1.0 - q) / (1.0 - p)).ln();
            let dp = if p == 1.0 { 0.0 } else { l / (p * p) };
            (v, [dp, -1.0 / q + (1.0 - p) / (p * (1.0 - q))])
        })?;
        to_shape(kl, shape)
    }
);

kl!(
    /// KL(Categorical(p) ‖ Categorical(q)) = Σₖ pₖ (ln pₖ − ln qₖ) over the last axis, with
    /// 0 ln 0 = 0 and +∞ where qₖ = 0 < pₖ (PyTorch `_kl_categorical_categorical`). Gradients
    /// flow through the normalisation of `probs` (or the log-softmax of `logits`).
    Categorical, Categorical, |p, q| {
        let (pp, lp, lq) = (p.probs(), p.logits(), q.logits());
        let k = pp.dims().last().copied().unwrap_or(0);
        if pp.ndim() == 0 || lq.ndim() == 0 || lq.dims().last() != Some(&k) {
            return Err(DistError::ShapeMismatch {
                dist: "Categorical",
                what: "KL divergence: numbers of categories of p and q",
                left: pp.shape(),
                right: lq.shape(),
            });
        }
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
