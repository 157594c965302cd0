//! Bounds that are expressions of other parameters (Stan's `real<lower=L, upper=U> x` where
//! `L` and `U` depend on parameters declared before `x`): the transform onto the bounded set
//! with its ln|det J| on the tape, gradients flowing into the bounds as well as into the
//! unconstrained coordinates, and the plain-f64 inverse.

use super::{finite_image, ln_diff, ln_ratio, log_sigmoids, outside, width};
use crate::DistError;
use infer_ad::scalar::sigmoid;
use infer_ad::{Tensor, Var};

const NAME: &str = "bounded";

/// Which bounds an element has: an infinite bound (−∞ lower, +∞ upper) is no bound, as in
/// Stan.
#[derive(Clone, Copy)]
enum Kind {
    Free,
    Lower,
    Upper,
    Both,
}

fn invalid(param: &'static str, value: f64, reason: &'static str) -> DistError {
    DistError::InvalidParameter {
        dist: NAME,
        param,
        value,
        reason,
    }
}

/// Classifies one element's bounds, rejecting NaN, a `+∞` lower or `−∞` upper bound,
/// `upper ≤ lower`, and a width so small (subnormal) that `count/(upper − lower)` overflows:
/// the gradient of `ln(upper − lower)` into a bound shared by `count` elements.
fn kind(l: f64, u: f64, count: f64) -> Result<Kind, DistError> {
    if l.is_nan() || l == f64::INFINITY {
        return Err(invalid("lower", l, "must not be NaN or +∞"));
    }
    if u.is_nan() || u == f64::NEG_INFINITY {
        return Err(invalid("upper", u, "must not be NaN or −∞"));
    }
    Ok(match (l.is_finite(), u.is_finite()) {
        (false, false) => Kind::Free,
        (true, false) => Kind::Lower,
        (false, true) => Kind::Upper,
        (true, true) => {
            if !(u > l) {
                return Err(invalid("upper", u, "must exceed the lower bound"));
            }
            let (w, k) = width(l, u);
            if (count / (k * w)).is_infinite() {
                return Err(invalid(
                    "upper",
                    u,
                    "upper − lower is subnormal: the gradient of ln(upper − lower) overflows",
                ));
            }
            Kind::Both
        }
    })
}

fn classify(l: f64, u: f64) -> Kind {
    match (l.is_finite(), u.is_finite()) {
        (false, false) => Kind::Free,
        (true, false) => Kind::Lower,
        (false, true) => Kind::Upper,
        (true, true) => Kind::Both,
    }
}

/// The bound as it is when it has one element or `y`'s shape, reshaped to `y`'s shape when
/// it has as many elements (row-major), else a shape mismatch.
fn fit_shape<'t>(
    bound: Tensor<'t>,
    y: Tensor<'t>,
    what: &'static str,
) -> Result<Tensor<'t>, DistError> {
    if bound.numel() == 1 || bound.dims() == y.dims() {
        Ok(bound)
    } else if bound.numel() == y.numel() {
        Ok(bound.reshape(y.dims())?)
    } else {
        Err(DistError::ShapeMismatch {
            dist: NAME,
            what,
            left: bound.shape(),
            right: y.shape(),
        })
    }
}

/// Maps unconstrained `y` onto the set between `lower` and `upper`, elementwise, on the tape,
/// and returns the constrained value (shaped as `y`) with `ln |det ∂x/∂y|` summed over the
/// elements. Gradients flow into `y` and into the bounds. Stan's transforms:
///
/// | bounds | `x` | ln \|det J\| per element |
/// |---|---|---|
/// | lower `L` only | `L + eʸ` | `y` |
/// | upper `U` only | `U − eʸ` | `y` |
/// | both | `L + (U − L) σ(y)` | `ln(U − L) + ln σ(y) + ln σ(−y)` |
/// | neither | `y` | 0 |
///
/// Each bound is `None`, a one-element tensor (broadcast) or a tensor with as many elements
/// as `y` (row-major, e.g. `y` flat and the bound shaped as the parameter); an infinite element (`−∞` lower, `+∞` upper) means that element has no such bound, as in
/// Stan. The two-sided form is evaluated from the nearer bound, and with the width formed
/// so that bounds near ±1.8e308 do not overflow.
///
/// # Errors
/// [`DistError::ShapeMismatch`] for a bound with neither one element nor `y.numel()`;
/// [`DistError::InvalidParameter`] (naming `lower` or `upper` and the value) when, at this
/// evaluation, an element has `upper ≤ lower`, a NaN bound, a `+∞` lower or `−∞` upper
/// bound, or a width so small (≈ 1e-308) that the gradient of `ln(upper − lower)` into the
/// bounds overflows; [`DistError::OutsideSupport`] for a non-finite `y`, a
/// one-sided element whose `eʸ` overflows, an image beyond the range of f64 (`L + eʸ` with
/// `L` near 1.8e308) or a ln|det J| sum beyond it; [`DistError::Ad`] for operands on
/// different tapes.
///
/// # Examples
/// Stan's `real<lower=0, upper=1 - alpha> beta`:
/// ```
/// use infer_ad::Tape;
/// use infer_dist::bounded;
/// let tape = Tape::new();
/// let alpha = tape.var(0.25);
/// let upper = (1.0 - alpha).as_tensor();
/// let y = tape.var(0.0).as_tensor();
/// let (beta, log_jac) = bounded(y, Some(tape.scalar(0.0)), Some(upper))?;
/// assert!((beta.to_vec()[0] - 0.375).abs() < 1e-15); // the midpoint of (0, 0.75)
/// assert!((log_jac.value() - (0.75f64 * 0.25).ln()).abs() < 1e-15);
/// (beta.sum() + log_jac).backward();
/// // ∂β/∂α = −σ(0) = −½; ∂ln|J|/∂α = −1/(U − L) = −4/3
/// assert!((alpha.grad() - (-0.5 - 4.0 / 3.0)).abs() < 1e-12);
/// // an upper bound at or below the lower bound is a typed error
/// assert!(bounded(y, Some(tape.scalar(1.0)), Some(tape.scalar(1.0))).is_err());
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// Stan Reference Manual, "Constraint Transforms": "Lower bounded scalar", "Upper bounded
/// scalar", "Lower and upper bounded scalar" (bounds may be any expression of data and
/// previously declared parameters).
pub fn bounded<'t>(
    y: Tensor<'t>,
    lower: Option<Tensor<'t>>,
    upper: Option<Tensor<'t>>,
) -> Result<(Tensor<'t>, Var<'t>), DistError> {
    let tape = y.tape();
    let lower = lower
        .map(|l| fit_shape(l, y, "lower bound vs value"))
        .transpose()?;
    let upper = upper
        .map(|u| fit_shape(u, y, "upper bound vs value"))
        .transpose()?;
    let lo = lower.unwrap_or_else(|| tape.scalar(f64::NEG_INFINITY));
    let hi = upper.unwrap_or_else(|| tape.scalar(f64::INFINITY));
    let (yv, lv, hv) = (y.to_vec(), lo.to_vec(), hi.to_vec());
    let at = |v: &[f64], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    for (i, &v) in yv.iter().enumerate() {
        if !v.is_finite() {
            return Err(outside(NAME, v, "unconstrained coordinates must be finite"));
        }
        let k = kind(at(&lv, i), at(&hv, i), yv.len() as f64)?;
        if matches!(k, Kind::Lower | Kind::Upper) && v.exp().is_infinite() {
            return Err(outside(
                NAME,
                v,
                "e^y overflows f64 (the image or the derivative is not representable)",
            ));
        }
    }
    let x = tape.fused_map([y, lo, hi], |_, [v, l, u]| match classify(l, u) {
        Kind::Free => (v, [1.0, 0.0, 0.0]),
        Kind::Lower => {
            let e = v.exp();
            (l + e, [e, 1.0, 0.0])
        }
        Kind::Upper => {
            let e = v.exp();
            (u - e, [-e, 0.0, 1.0])
        }
        Kind::Both => {
            let (w, k) = width(l, u);
            let (s, sm) = (sigmoid(v), sigmoid(-v));
            let x = if v > 0.0 {
                u - k * (w * sm)
            } else {
                l + k * (w * s)
            };
            (x, [k * (w * s * sm), sm, s])
        }
    })?;
    let x = finite_image(NAME, x)?;
    let x = if x.dims() == y.dims() {
        x
    } else {
        x.reshape(y.dims())?
    };
    let lj = tape.fused_sum([y, lo, hi], |_, [v, l, u]| match classify(l, u) {
        Kind::Free => (0.0, [0.0; 3]),
        Kind::Lower | Kind::Upper => (v, [1.0, 0.0, 0.0]),
        Kind::Both => {
            let (w, k) = width(l, u);
            let inv = 1.0 / (k * w);
            let (a, b) = log_sigmoids(v);
            (ln_diff(u, l) + a + b, [sigmoid(-v) - sigmoid(v), -inv, inv])
        }
    })?;
    if !lj.value().is_finite() {
        return Err(outside(
            NAME,
            lj.value(),
            "ln|det J| at this point is beyond the range of f64",
        ));
    }
    Ok((x, lj))
}

/// The inverse of [`bounded`] in plain `f64`: maps a constrained `x` back to unconstrained
/// coordinates given the bounds' values (`ln(x − L)`, `ln(U − x)`, `ln((x − L)/(U − x))` or
/// `x`). Each bound slice has one element (broadcast) or `x.len()`; infinite elements mean no
/// bound, as in [`bounded`].
///
/// # Errors
/// [`DistError::InvalidLength`] for a bound slice of another length;
/// [`DistError::InvalidParameter`] for invalid bounds, as [`bounded`];
/// [`DistError::OutsideSupport`] for an `x` that is not finite or not strictly inside its
/// bounds.
///
/// # Examples
/// ```
/// use infer_dist::unbounded;
/// let y = unbounded(&[0.375, 2.0], Some(&[0.0]), Some(&[0.75, f64::INFINITY]))?;
/// assert!(y[0].abs() < 1e-15 && (y[1] - 2.0f64.ln()).abs() < 1e-15);
/// assert!(unbounded(&[1.0], Some(&[0.0]), Some(&[0.75])).is_err()); // above the upper bound
/// # Ok::<(), infer_dist::DistError>(())
/// ```
pub fn unbounded(
    x: &[f64],
    lower: Option<&[f64]>,
    upper: Option<&[f64]>,
) -> Result<Vec<f64>, DistError> {
    let n = x.len();
    let fit = |b: Option<&[f64]>, what: &'static str, none: f64| match b {
        None => Ok(vec![none]),
        Some(b) if b.len() == 1 || b.len() == n => Ok(b.to_vec()),
        Some(b) => Err(DistError::InvalidLength {
            what,
            len: b.len(),
            reason: "a bound has one element or one per element of x",
        }),
    };
    let lv = fit(lower, "bounded: lower bound length", f64::NEG_INFINITY)?;
    let hv = fit(upper, "bounded: upper bound length", f64::INFINITY)?;
    let at = |v: &[f64], i: usize| if v.len() == 1 { v[0] } else { v[i] };
    let mut out = Vec::with_capacity(n);
    for (i, &v) in x.iter().enumerate() {
        let (l, u) = (at(&lv, i), at(&hv, i));
        let k = kind(l, u, 1.0)?;
        if !v.is_finite() {
            return Err(outside(NAME, v, "must be finite"));
        }
        out.push(match k {
            Kind::Free => v,
            Kind::Lower if v > l => ln_diff(v, l),
            Kind::Upper if v < u => ln_diff(u, v),
            Kind::Both if v > l && v < u => {
                let (num, den) = (v - l, u - v);
                if num.is_finite() && den.is_finite() {
                    ln_ratio(num, den)
                } else {
                    // The halves are exact at this magnitude and their ratio is the same.
                    ln_ratio(0.5 * v - 0.5 * l, 0.5 * u - 0.5 * v)
                }
            }
            _ => {
                return Err(outside(NAME, v, "must lie strictly inside its bounds"));
            }
        });
    }
    Ok(out)
}
