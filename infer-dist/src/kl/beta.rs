//! KL divergences from the Beta family (against Normal, the gamma family, Beta and Uniform)
//! and between Dirichlet distributions.
//!
//! Formulas: PyTorch `torch/distributions/kl.py` (`_kl_beta_normal`, `_kl_beta_exponential`,
//! `_kl_beta_gamma`, `_kl_beta_beta`, `_kl_beta_uniform`, `_kl_dirichlet_dirichlet`). Each
//! cross-family form is −H(p) − E_p[ln q(X)] with E_p[X] = α/(α+β),
//! Var_p[X] = E(1 − E)/(α+β+1) and E_p[ln X] = ψ(α) − ψ(α+β).

use super::beta_parts::{
    beta_d, beta_neg_entropy, beta_parts, digamma_gap_ln, dirichlet_kl, ln_gap_estimate,
    s_minus_k_trigamma, sum_signed,
};
use super::stable::{
    clamp_rounding, ln_prod_ratio, phi, psi1_minus_ln, scaled_phi, stirling_rest, times_trigamma,
};
use super::{against_gamma_family, joint_shape, kl, kl_map, ln_diff, scaled_diff};
use crate::util::{bvals, mul0};
use infer_ad::scalar::digamma;

/// KL(Beta(α, β) ‖ Normal(m, σ)) and its partials in (α, β, m, σ).
///
/// With −H(p) in Stirling's form (`beta_neg_entropy`), Var = π₁π₂/(S + 1), v = ln(Var/σ²) and
/// z = (π₁ − m)/σ, the form −H(p) + ½ ln(2πσ²) + (Var + (π₁ − m)²)/(2σ²) equals
///
/// KL = ½ φ(v) + ½ z² + ½ − ½ ln(1 + 1/S) + D(α, β) + π₁/β + π₂/α,
///
/// φ(s) = eˢ − 1 − s ≥ 0: the terms that grow without bound are non-negative, the rest are
/// logarithm-sized (see `kl/beta_parts.rs`).
fn beta_normal_kl([a, b, m, s]: [f64; 4]) -> (f64, [f64; 4]) {
    let bp = beta_parts(a, b);
    let ls = s.ln();
    // ln(S + 1) − ln S = ln(1 + 1/S), finite for a subnormal S.
    let l1s = if bp.s < 1.0 {
        bp.s.ln_1p() - bp.ln_s
    } else {
        (1.0 / bp.s).ln_1p()
    };
    let v_ = bp.ln_p1 + bp.ln_p2 - bp.ln_s - l1s - 2.0 * ls;
    let z = scaled_diff(bp.p1, m, s);
    let head = 0.5 * phi(v_) + 0.5 * (z * z) + bp.p1 / b + bp.p2 / a;
    let terms = [0.5 - 0.5 * l1s, beta_d(a, b, bp.s)];
    let v = head + terms[0] + terms[1];
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    let v = clamp_rounding(v, head + terms[0].abs() + terms[1].abs());
    let ev = v_.exp();
    // ∂(−H)/∂α = (α − 1)ψ′(α) − (S − 2)ψ′(S); ∂ ln Var/∂α = 1/α − 2/S − 1/(S + 1);
    // ∂π₁/∂α = π₂/S, ∂π₁/∂β = −π₁/S.
    let (ts, ln_ts) = s_minus_k_trigamma(a, b, 2.0);
    let inv_s = (-bp.ln_s).exp();
    let inv_s1 = (-bp.ln_s - l1s).exp();
    let zs = z / s;
    let grad = |x: f64, other_p: f64, sign: f64| {
        let (tx, ln_tx) = times_trigamma(x - 1.0, x);
        let dlv = sum_signed(&[
            (1.0 / x, -x.ln()),
            (-2.0 * inv_s - inv_s1, (3.0 * inv_s).ln()),
        ]);
        let var_t = 0.5 * mul0(ev, dlv);
        let mean_t = sign * mul0(zs, other_p * inv_s);
        // Terms that may overflow with opposite signs (tiny α, β, σ): the sign of the largest.
        sum_signed(&[
            (tx, ln_tx),
            (-ts, ln_ts),
            (var_t, v_ + dlv.abs().ln() - std::f64::consts::LN_2),
            (mean_t, mean_t.abs().ln()),
        ])
    };
    (
        v,
        [
            grad(a, bp.p2, 1.0),
            grad(b, bp.p1, -1.0),
            -zs,
            (1.0 - ev - z * z) / s,
        ],
    )
}

kl!(
    /// KL(Beta(α, β) ‖ Normal(m, σ)) = −H(p) + ½ ln(2πσ²) + (Var_p + (E_p − m)²)/(2σ²)
    /// (PyTorch `_kl_beta_normal`), evaluated in the regrouped form of `beta_normal_kl`.
    Beta, Normal, [concentration1, concentration0], [loc, scale], beta_normal_kl
);

/// KL(Beta(α, β) ‖ Gamma(αq, βq)) = −H(p) + ln Γ(αq) − αq ln βq − (αq − 1) E_p[ln X] +
/// βq π₁ and its partials in (α, β, αq, βq).
///
/// In Stirling's form (for −H(p) and ln Γ(αq)) it equals
///
/// KL = ½(3 ln S − ln α − ln β) + D(α, β) + π₁/β + P(α) − P(S) + ln π₁ + αq φ(ς) + αq J
///      − ½ ln αq + R(αq),
///
/// ς = ln(βq π₁/αq), φ(s) = eˢ − 1 − s ≥ 0 and J = ln π₁ − E_p[ln X] ≥ 0 (Jensen), taken as
/// ln π₁ + ψ(S + 1) − ψ(α + 1) + π₂/α (αq π₂/α from logarithms) or, for α ≥ 20, from the
/// asymptotic series of ψ(S) − ψ(α) − ln(S/α) (no cancellation of two logarithms).
fn beta_gamma_kl([a, b, aq, rq]: [f64; 4]) -> (f64, [f64; 4]) {
    let bp = beta_parts(a, b);
    let (la, laq, lrq) = (a.ln(), aq.ln(), rq.ln());
    let aq_j = if a >= 20.0 {
        // ψ(S) − ψ(α) − ln(S/α) = ½d₁ + d₂/12 − d₄/120 + d₆/252 with dₙ = α⁻ⁿ − S⁻ⁿ.
        let (r1, r2) = (1.0 / a, (-bp.ln_s).exp());
        let (q1, q2) = (r1 * r1, r2 * r2);
        let d1 = bp.p2 / a;
        let d2 = d1 * (r1 + r2);
        let d4 = d2 * (q1 + q2);
        let d6 = d2 * (q1 * q1 + q1 * q2 + q2 * q2);
        aq * (0.5 * d1 + d2 / 12.0 - d4 / 120.0 + d6 / 252.0).max(0.0)
    } else {
        let j0 = bp.ln_p1 + digamma_gap_ln(bp.s + 1.0, bp.ln_s, a + 1.0, (a + 1.0).ln());
        let j = j0 + bp.p2 / a;
        if j.is_finite() {
            // J ≥ 0 (Jensen): a negative value is rounding.
            aq * j.max(0.0)
        } else {
            // π₂/α beyond f64 (α subnormal): αq π₂/α from logarithms.
            let ln_t = laq + bp.ln_p2 - la;
            sum_signed(&[(aq * j0, laq + j0.abs().ln()), (ln_t.exp(), ln_t)])
        }
    };
    let vs = ln_prod_ratio(rq, bp.p1, aq, lrq + bp.ln_p1 - laq);
    let head = scaled_phi(aq, laq, vs) + aq_j + bp.p1 / b;
    let terms = [
        0.5 * (3.0 * bp.ln_s - la - b.ln()),
        beta_d(a, b, bp.s),
        psi1_minus_ln(a) - psi1_minus_ln(bp.s),
        bp.ln_p1,
        -0.5 * laq + stirling_rest(aq),
    ];
    let v = head + terms.iter().sum::<f64>();
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    let v = clamp_rounding(v, head + terms.iter().map(|t| t.abs()).sum::<f64>());
    // ∂/∂α = (α − αq)ψ′(α) − (S − 1 − αq)ψ′(S) + βq π₂/S,
    // ∂/∂β = (β − 1)ψ′(β) − (S − 1 − αq)ψ′(S) − βq π₁/S,
    // ∂/∂αq = ψ(S) − ψ(α) + ψ(αq) − ln βq, ∂/∂βq = π₁ − αq/βq.
    let (ts, ln_ts) = s_minus_k_trigamma(a, b, 1.0 + aq);
    let (ta, ln_ta) = times_trigamma(a - aq, a);
    let (tb, ln_tb) = times_trigamma(b - 1.0, b);
    let ln_c2 = lrq + bp.ln_p2 - bp.ln_s;
    let ln_c1 = lrq + bp.ln_p1 - bp.ln_s;
    let da = sum_signed(&[(ta, ln_ta), (-ts, ln_ts), (ln_c2.exp(), ln_c2)]);
    let db = sum_signed(&[(tb, ln_tb), (-ts, ln_ts), (-ln_c1.exp(), ln_c1)]);
    let gap = digamma_gap_ln(bp.s, bp.ln_s, a, la);
    let daq = sum_signed(&[
        (gap, ln_gap_estimate(bp.s, a)),
        (digamma(aq) - lrq, (1.0 / aq).ln()),
    ]);
    let drq = sum_signed(&[(bp.p1, bp.ln_p1), (-(aq / rq), laq - lrq)]);
    (v, [da, db, daq, drq])
}

against_gamma_family!(
    /// KL(Beta ‖ gamma-family q), q written as Gamma(αq, βq) (PyTorch `_kl_beta_gamma`,
    /// `_kl_beta_exponential`), in the regrouped form of `beta_gamma_kl`.
    Beta [concentration1, concentration0], beta_gamma_kl
);

kl!(
    /// KL(Beta(αp, βp) ‖ Beta(αq, βq)) = ln B(αq, βq) − ln B(αp, βp) + (αp − αq)ψ(αp) +
    /// (βp − βq)ψ(βp) + (αq + βq − αp − βp)ψ(αp + βp) (PyTorch `_kl_beta_beta`): the
    /// Dirichlet divergence with two components, in the regrouped form of
    /// `beta_parts::dirichlet_kl`.
    Beta, Beta, |p, q| {
        let (ap, bp, aq, bq) = (
            p.concentration1(),
            p.concentration0(),
            q.concentration1(),
            q.concentration0(),
        );
        kl_map("Beta", "Beta", [ap, bp, aq, bq], |[ap, bp, aq, bq]| {
                let (v, ga, gb) = dirichlet_kl(&[ap, bp], &[aq, bq]);
                (v, [ga[0], ga[1], gb[0], gb[1]])
            })
    }
);

/// KL(Beta(α, β) ‖ Uniform(lo, hi)) = −H(p) + ln(hi − lo) and its partials; +∞ unless
/// [0, 1] ⊆ [lo, hi]. −H(p) ≥ 0 in Stirling's form (`beta_neg_entropy`), ln(hi − lo) ≥ 0.
fn beta_uniform_kl([a, b, lo, hi]: [f64; 4]) -> (f64, [f64; 4]) {
    if lo > 0.0 || hi < 1.0 {
        return (f64::INFINITY, [0.0; 4]);
    }
    let bp = beta_parts(a, b);
    let neg_h = beta_neg_entropy(a, b, &bp);
    let v = neg_h + ln_diff(hi, lo);
    if !v.is_finite() {
        return (v, [0.0; 4]);
    }
    // −H(p) = 0 only for Beta(1, 1); its O(ln)-sized terms round to |·| ≲ 1e-15.
    let v = clamp_rounding(v, 1e3);
    let (ts, ln_ts) = s_minus_k_trigamma(a, b, 2.0);
    let d = |x: f64| {
        let (tx, ln_tx) = times_trigamma(x - 1.0, x);
        sum_signed(&[(tx, ln_tx), (-ts, ln_ts)])
    };
    let w = 1.0 / (hi - lo);
    let w = if w.is_finite() {
        w
    } else {
        0.5 / (0.5 * hi - 0.5 * lo)
    };
    (v, [d(a), d(b), w, -w])
}

kl!(
    /// KL(Beta ‖ Uniform(a, b)) = −H(p) + ln(b − a), and +∞ unless [0, 1] ⊆ [a, b] (PyTorch
    /// `_kl_beta_uniform`).
    Beta, Uniform, [concentration1, concentration0], [low, high], beta_uniform_kl
);

kl!(
    /// KL(Dirichlet(αp) ‖ Dirichlet(αq)) = ln Γ(Σαp) − ln Γ(Σαq) − Σ(ln Γ(αp) − ln Γ(αq)) +
    /// Σ(αp − αq)(ψ(αp) − ψ(Σαp)), sums over the last (event) axis (PyTorch
    /// `_kl_dirichlet_dirichlet`), in the regrouped form of `beta_parts::dirichlet_kl`: each
    /// row is evaluated in f64 and recorded as one fused node with the row's partials.
    Dirichlet, Dirichlet, |p, q| {
        let (ap, aq) = (p.concentration(), q.concentration());
        let k = super::event_size("Dirichlet", "KL divergence: event sizes of p and q", ap, aq)?;
        let full = joint_shape("Dirichlet", "Dirichlet", &[ap, aq])?;
        let (va, vb) = (bvals(ap, full), bvals(aq, full));
        let n = full.numel();
        // Per element: the row's divergence on its first element (0 on the others, so that
        // the sum over the event axis is the row's value) and the row's partials.
        let mut share = vec![0.0; n];
        let mut ga = vec![0.0; n];
        let mut gb = vec![0.0; n];
        if k > 0 {
            for start in (0..n).step_by(k) {
                let (v, da, db) = dirichlet_kl(&va[start..start + k], &vb[start..start + k]);
                share[start] = v;
                ga[start..start + k].copy_from_slice(&da);
                gb[start..start + k].copy_from_slice(&db);
            }
        }
        let tape = ap.tape();
        let ap = ap.broadcast_to(full)?;
        let aq = aq.broadcast_to(full)?;
        let node = tape.fused_map([ap, aq], |i, _| (share[i], [ga[i], gb[i]]))?;
        Ok(node.sum_axis(full.ndim() - 1)?)
    }
);
