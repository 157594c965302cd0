//! Stan 2.36's `sum_to_zero_vector` transform (see [`super::Bijector::SumToZero`]): the
//! isometry `x = V y` onto the hyperplane Σx = 0, with the Helmert-like orthonormal columns
//! `vₙ = (1, …, 1, −n, 0, …, 0)/√(n(n+1))`, and its inverse `y = Vᵀ x`.

use super::{finite_image, need_vector, outside};
use crate::DistError;
use infer_ad::{Tensor, Var};

const NAME: &str = "SumToZero";

pub(super) fn unconstrained_len(len: usize) -> Result<usize, DistError> {
    len.checked_sub(1).ok_or(DistError::InvalidLength {
        what: "sum-to-zero (constrained) length",
        len,
        reason: "a sum-to-zero vector has at least one element",
    })
}

/// `x₀ = Σ_{n≥1} wₙ`, `xⱼ = Σ_{n>j} wₙ − j wⱼ` with `wₙ = yₙ₋₁/√(n(n+1))`: O(N) nodes.
pub(super) fn forward<'t>(y: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
    let n = need_vector(y, "SumToZero::forward")?;
    let tape = y.tape();
    if n == 0 {
        return Ok(tape.constant(&ndarray::arr1(&[0.0])));
    }
    let w = tape.fused_map([y], |k, [v]| {
        let c = 1.0 / (((k + 1) * (k + 2)) as f64).sqrt();
        (v * c, [c])
    })?;
    // out[j] for j = N, N−1, …, 0, built from the suffix sums Σ_{m>j} wₘ.
    let mut out: Vec<Var<'t>> = Vec::with_capacity(n + 1);
    let mut suffix: Option<Var<'t>> = None;
    for j in (1..=n).rev() {
        let wj = w.flat(j - 1)?;
        let own = wj * -(j as f64);
        out.push(suffix.map_or(own, |s| s + own));
        suffix = Some(suffix.map_or(wj, |s| s + wj));
    }
    if let Some(s) = suffix {
        out.push(s);
    }
    out.reverse();
    finite_image(NAME, tape.stack_vars(&out)?)
}

/// A power-of-two scale `2^−e` with every `|x| · 2^−e ≤ 2` (`e ≤ 1023`, so that `2^e` and
/// `2^−e` are normal numbers and scaling is exact) and its inverse `2^e`, after checking that
/// `x` is non-empty, finite and sums to 0 within `1e-8 · len · max|x|` (the sum is formed on
/// the scaled entries, so entries near ±1.8e308 do not overflow it).
fn checked_scale(x: &[f64]) -> Result<(f64, f64), DistError> {
    unconstrained_len(x.len())?;
    let mut max = 0.0f64;
    for &v in x {
        if !v.is_finite() {
            return Err(outside(NAME, v, "entries must be finite"));
        }
        max = max.max(v.abs());
    }
    let e = if max > 1.0 {
        (max.log2().ceil() as i32).min(1023)
    } else {
        0
    };
    let (scale, unscale) = (2f64.powi(-e), 2f64.powi(e));
    let sum: f64 = x.iter().map(|v| v * scale).sum();
    let tol = 1e-8 * x.len() as f64 * (max * scale);
    if !(sum.abs() <= tol) {
        return Err(outside(NAME, sum * unscale, "entries must sum to 0"));
    }
    Ok((scale, unscale))
}

/// Whether `x` is a finite non-empty vector summing to 0 within `1e-8 · len · max|x|`.
pub(crate) fn sums_to_zero(x: &[f64]) -> bool {
    checked_scale(x).is_ok()
}

/// `yₙ₋₁ = (Σ_{k<n} xₖ − n xₙ)/√(n(n+1))`, after the checks of [`checked_scale`], on the
/// scaled entries.
pub(super) fn inverse(x: &[f64]) -> Result<Vec<f64>, DistError> {
    let (scale, unscale) = checked_scale(x)?;
    let mut out = Vec::with_capacity(x.len() - 1);
    let mut prefix = x[0] * scale;
    for (k, &v) in x.iter().enumerate().skip(1) {
        let n = k as f64;
        let vs = v * scale;
        let y = (prefix - n * vs) / (n * (n + 1.0)).sqrt() * unscale;
        if !y.is_finite() {
            return Err(outside(
                NAME,
                v,
                "the unconstrained point is beyond the range of f64",
            ));
        }
        out.push(y);
        prefix += vs;
    }
    Ok(out)
}
