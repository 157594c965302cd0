//! KL divergences between Cauchy distributions (and half-Cauchy ones, which reduce to Cauchy
//! distributions centred at 0).
//!
//! KL(Cauchy(μp, γp) ‖ Cauchy(μq, γq)) = ln(((γp + γq)² + (μp − μq)²) / (4 γp γq))
//! (Chyzak & Nielsen 2019, arXiv:1905.10965; PyTorch `_kl_cauchy_cauchy`). The same formula
//! with both locations 0 gives the half-Cauchy divergence: both are the image of a Cauchy
//! centred at 0 under x ↦ |x| (PyTorch `_kl_transformed_transformed`).

use super::{kl, kl_map};
use crate::util::ln_abs_diff;
use std::f64::consts::LN_2;

/// ln(((γp + γq)² + (μp − μq)²) / (4 γp γq)) and its partials, written as ln(1 + u² + w²) with
/// u = (γp − γq)/(2√(γp γq)) and w = (μp − μq)/(2√(γp γq)): directly for moderate parameters,
/// else from ln|u| and ln|w| (so subnormal scales and locations at ±f64::MAX give the finite
/// value, never ∞/∞ or 0 · ∞). The partials use e^{−KL} = 1/(1 + u² + w²).
fn cauchy_cauchy_kl([mp, sp, mq, sq]: [f64; 4]) -> (f64, [f64; 4]) {
    let moderate = |x: f64| (1e-150..1e150).contains(&x);
    let d = mp - mq;
    let (lp, lq) = (sp.ln(), sq.ln());
    let lg = 0.5 * (lp + lq);
    // ln|w| (−∞ for equal locations).
    let ln_w = if mp == mq {
        f64::NEG_INFINITY
    } else {
        ln_abs_diff(mp, mq) - LN_2 - lg
    };
    let v = if moderate(sp) && moderate(sq) && (d.abs() < 1e150) {
        let g = 2.0 * (sp * sq).sqrt();
        let (u, w) = ((sp - sq) / g, d / g);
        (u * u + w * w).ln_1p()
    } else {
        let ln_u = if sp == sq {
            f64::NEG_INFINITY
        } else {
            (sp - sq).abs().ln() - LN_2 - lg
        };
        let (hi, lo) = (ln_u.max(ln_w), ln_u.min(ln_w));
        if hi < 300.0 {
            ((2.0 * ln_u).exp() + (2.0 * ln_w).exp()).ln_1p()
        } else {
            // u² + w² > 1e600: ln(1 + x) = ln x to far below rounding.
            2.0 * hi + (2.0 * (lo - hi)).exp().ln_1p()
        }
    };
    let e = (-v).exp();
    let dm = if mp == mq {
        0.0
    } else {
        d.signum() * (ln_w - lg - v).exp()
    };
    let dsp = (0.5 * (lp - lq - v).exp() + 0.5 * e - 1.0) / sp;
    let dsq = (0.5 * (lq - lp - v).exp() + 0.5 * e - 1.0) / sq;
    (v, [dm, dsp, -dm, dsq])
}

kl!(
    /// KL(Cauchy ‖ Cauchy) = ln(((γp + γq)² + (μp − μq)²) / (4 γp γq)) (Chyzak & Nielsen 2019).
    Cauchy, Cauchy, [loc, scale], [loc, scale], cauchy_cauchy_kl
);

kl!(
    /// KL(HalfCauchy(γp) ‖ HalfCauchy(γq)) = ln((γp + γq)² / (4 γp γq)).
    HalfCauchy, HalfCauchy, |p, q| {
        let zero = super::constant(p.scale(), 0.0);
        kl_map("HalfCauchy", "HalfCauchy", [zero, p.scale(), zero, q.scale()], cauchy_cauchy_kl)
    }
);
