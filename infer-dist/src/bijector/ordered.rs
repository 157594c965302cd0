//! Stan's `ordered` and `positive_ordered` transforms (see [`super::Bijector::Ordered`] and
//! [`super::Bijector::PositiveOrdered`]): a cumulative sum of `(y₁ or e^{y₁}, e^{y₂}, …)`.

use super::{finite_image, ln_diff, need_vector, outside};
use crate::DistError;
use infer_ad::{Tensor, Var};

fn name(positive: bool) -> &'static str {
    if positive {
        "PositiveOrdered"
    } else {
        "Ordered"
    }
}

/// `x₁ = y₁` (or `e^{y₁}` when `positive`), `xₖ = xₖ₋₁ + e^{yₖ}`. The caller has checked that
/// every `y` is finite and that the exponentials do not overflow.
pub(super) fn forward<'t>(y: Tensor<'t>, positive: bool) -> Result<Tensor<'t>, DistError> {
    let op = if positive {
        "PositiveOrdered::forward"
    } else {
        "Ordered::forward"
    };
    let n = need_vector(y, op)?;
    if n == 0 {
        return Ok(y);
    }
    let tape = y.tape();
    // The increments, each one node: y₁ (or e^{y₁}) and e^{yₖ}.
    let inc = tape.fused_map([y], |k, [v]| {
        if k == 0 && !positive {
            (v, [1.0])
        } else {
            let e = v.exp();
            (e, [e])
        }
    })?;
    let mut acc = inc.flat(0)?;
    let mut xs: Vec<Var<'t>> = Vec::with_capacity(n);
    xs.push(acc);
    for k in 1..n {
        acc = acc + inc.flat(k)?;
        xs.push(acc);
    }
    finite_image(name(positive), tape.stack_vars(&xs)?)
}

/// `Σ_{k≥2} yₖ` (`Ordered`) or `Σ yₖ` (`PositiveOrdered`): the Jacobian is lower triangular
/// with diagonal `(1 or e^{y₁}, e^{y₂}, …, e^{yₙ})`.
pub(super) fn log_abs_det_jacobian<'t>(
    y: Tensor<'t>,
    positive: bool,
) -> Result<Var<'t>, DistError> {
    let op = if positive {
        "PositiveOrdered::log_abs_det_jacobian"
    } else {
        "Ordered::log_abs_det_jacobian"
    };
    let n = need_vector(y, op)?;
    if positive {
        Ok(y.sum())
    } else if n <= 1 {
        Ok(y.tape().var(0.0))
    } else {
        Ok(y.slice_axis(0, 1, n)?.sum())
    }
}

/// `y₁ = x₁` (or `ln x₁`), `yₖ = ln(xₖ − xₖ₋₁)`; the difference is formed so that it does not
/// overflow for entries near ±1.8e308.
pub(super) fn inverse(x: &[f64], positive: bool) -> Result<Vec<f64>, DistError> {
    let what = name(positive);
    let mut out = Vec::with_capacity(x.len());
    for (k, &v) in x.iter().enumerate() {
        if !v.is_finite() {
            return Err(outside(what, v, "entries must be finite"));
        }
        if k == 0 {
            if positive {
                if v <= 0.0 {
                    return Err(outside(what, v, "entries must be positive"));
                }
                out.push(v.ln());
            } else {
                out.push(v);
            }
        } else {
            let prev = x[k - 1];
            if v <= prev {
                return Err(outside(what, v, "entries must be strictly increasing"));
            }
            out.push(ln_diff(v, prev));
        }
    }
    Ok(out)
}
