//! Stan's unit-simplex (stick-breaking) transform (see [`super::Bijector::StickBreaking`]).

use super::{ln_ratio, need_vector, outside};
use crate::DistError;
use infer_ad::scalar::{sigmoid, softplus};
use infer_ad::{Tensor, Var};

pub(super) fn stick_breaking<'t>(y: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
    let m = need_vector(y, "StickBreaking::forward")?;
    let tape = y.tape();
    if m == 0 {
        return Ok(tape.constant(&ndarray::arr1(&[1.0])));
    }
    // ln σ(uₖ) and ln σ(−uₖ) with uₖ = yₖ − ln(K − k) (K − k = m − k for 0-based k).
    let log_z = tape.fused_map([y], |k, [v]| {
        let u = v - ((m - k) as f64).ln();
        (-softplus(-u), [sigmoid(-u)])
    })?;
    let log_1mz = tape.fused_map([y], |k, [v]| {
        let u = v - ((m - k) as f64).ln();
        (-softplus(u), [-sigmoid(u)])
    })?;
    // ln xₖ = ln zₖ + Σ_{j<k} ln(1 − zⱼ);  ln x_K = Σ_{j<K} ln(1 − zⱼ).
    let mut logs = Vec::with_capacity(m + 1);
    let mut acc: Option<Var<'t>> = None;
    for k in 0..m {
        let lz = log_z.flat(k)?;
        let l1 = log_1mz.flat(k)?;
        logs.push(acc.map_or(lz, |a| a + lz));
        acc = Some(acc.map_or(l1, |a| a + l1));
    }
    if let Some(a) = acc {
        logs.push(a);
    }
    Ok(tape.stack_vars(&logs)?.exp())
}

pub(super) fn stick_breaking_inverse(x: &[f64]) -> Result<Vec<f64>, DistError> {
    let k_len = x.len();
    if k_len == 0 {
        return Err(DistError::InvalidLength {
            what: "simplex (constrained) length",
            len: 0,
            reason: "a simplex has at least one element",
        });
    }
    let mut total = 0.0;
    for &v in x {
        if !(v > 0.0 && v.is_finite()) {
            return Err(outside(
                "StickBreaking",
                v,
                "simplex entries must be positive",
            ));
        }
        total += v;
    }
    let tol = 1e-8 * (k_len as f64).max(1.0);
    if !((total - 1.0).abs() <= tol) {
        return Err(outside(
            "StickBreaking",
            total,
            "simplex entries must sum to 1",
        ));
    }
    let m = k_len - 1;
    // zₖ = xₖ / Σ_{j≥k} xⱼ, so logit(zₖ) = ln(xₖ / Σ_{j>k} xⱼ): suffix sums, no cancellation.
    let mut out = vec![0.0; m];
    let mut after = x[m];
    for k in (0..m).rev() {
        out[k] = ln_ratio(x[k], after) + ((m - k) as f64).ln();
        after += x[k];
    }
    Ok(out)
}
