//! The strong-Wolfe line search of [`Lbfgs`](super::Lbfgs): Nocedal & Wright (2006),
//! *Numerical Optimization*, Algorithm 3.5 (bracketing) and Algorithm 3.6 (`zoom`), with the
//! trial step in `zoom` from the cubic interpolation of eq. (3.59), safeguarded into the
//! middle 80 % of the bracket (else bisection). A point where the density cannot be evaluated
//! (a recoverable error, a non-finite value or gradient) counts as a step that went too far:
//! the bracket closes on it, as Stan's line search halves its step on such points; while no
//! step has been evaluated at all (the first trial rejected), the step is cut tenfold at a
//! time instead, down to the smallest positive step — from a starting point far in the tails
//! the gradient can be 10⁷⁰ and the first trial step that many orders of magnitude too long.

use super::ApproxError;

/// Sufficient-decrease constant c₁ (Nocedal & Wright: 10⁻⁴; Stan's `LSOptions::c1`).
pub(crate) const C1: f64 = 1e-4;
/// Curvature constant c₂ of the strong Wolfe condition (0.9 for quasi-Newton methods,
/// Nocedal & Wright p. 34; Stan's `LSOptions::c2`).
pub(crate) const C2: f64 = 0.9;
/// Steps tried while bracketing (Stan's `maxLSIts`).
const MAX_BRACKET: usize = 20;
/// Factor by which a step that is still descending steeply grows (Stan's line search).
const EXPAND: f64 = 10.0;
/// Trial steps inside a bracket before giving up.
const MAX_ZOOM: usize = 50;
/// Factor by which a rejected step is cut while no step has been evaluated.
const BACK_OFF: f64 = 0.1;
/// Interpolated trial steps are kept this fraction of the bracket away from its ends.
const SAFEGUARD: f64 = 0.1;

/// Why the line search stopped without a step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Failure {
    pub reason: &'static str,
    pub step: f64,
}

/// φ(α) = f(x + α p) and φ′(α) at one step: `None` when the density rejects the point.
type Phi = Option<(f64, f64)>;

/// One end of a bracket: step, φ and φ′ (φ = +∞ and φ′ NaN at a rejected point).
#[derive(Clone, Copy, Debug)]
struct End {
    a: f64,
    f: f64,
    d: f64,
}

/// Finds a step α satisfying the strong Wolfe conditions f(α) ≤ f(0) + c₁ α f′(0) and
/// |f′(α)| ≤ c₂ |f′(0)| along a descent direction (`d0 = f′(0) < 0`), starting from
/// `alpha`. `eval(α)` evaluates φ and φ′ and keeps the point: on success the last point
/// evaluated is the accepted one. Errors of `eval` (fatal density failures) are passed on.
pub(crate) fn strong_wolfe(
    mut eval: impl FnMut(f64) -> Result<Phi, ApproxError>,
    f0: f64,
    d0: f64,
    mut alpha: f64,
) -> Result<Result<f64, Failure>, ApproxError> {
    let mut prev = End {
        a: 0.0,
        f: f0,
        d: d0,
    };
    for i in 0..MAX_BRACKET {
        let Some((f, d)) = eval(alpha)? else {
            let hi = End {
                a: alpha,
                f: f64::INFINITY,
                d: f64::NAN,
            };
            return zoom(&mut eval, f0, d0, prev, hi);
        };
        let here = End { a: alpha, f, d };
        if f > f0 + C1 * alpha * d0 || (i > 0 && f >= prev.f) {
            return zoom(&mut eval, f0, d0, prev, here);
        }
        if d.abs() <= -C2 * d0 {
            return Ok(Ok(alpha));
        }
        if d >= 0.0 {
            return zoom(&mut eval, f0, d0, here, prev);
        }
        prev = here;
        alpha *= EXPAND;
        if !alpha.is_finite() {
            break;
        }
    }
    Ok(Err(Failure {
        reason: "no step of sufficient decrease and curvature found while bracketing",
        step: alpha,
    }))
}

/// Algorithm 3.6: `lo` satisfies sufficient decrease and has the lower φ of the two ends;
/// `hi` is such that [lo, hi] (in either order) holds a strong-Wolfe step.
fn zoom(
    eval: &mut impl FnMut(f64) -> Result<Phi, ApproxError>,
    f0: f64,
    d0: f64,
    mut lo: End,
    mut hi: End,
) -> Result<Result<f64, Failure>, ApproxError> {
    // nothing evaluated yet: back off geometrically until a point can be evaluated
    while lo.a == 0.0 && hi.f == f64::INFINITY {
        let a = hi.a * BACK_OFF;
        if !(a > 0.0) {
            return Ok(Err(Failure {
                reason: "the density rejects every step along the direction",
                step: hi.a,
            }));
        }
        match eval(a)? {
            None => hi.a = a,
            Some((f, d)) => {
                let here = End { a, f, d };
                if f > f0 + C1 * a * d0 {
                    hi = here;
                } else if d.abs() <= -C2 * d0 {
                    return Ok(Ok(a));
                } else if d >= 0.0 {
                    hi = lo;
                    lo = here;
                } else {
                    lo = here;
                }
            }
        }
    }
    for _ in 0..MAX_ZOOM {
        let width = (hi.a - lo.a).abs();
        if width <= f64::EPSILON * lo.a.abs().max(hi.a.abs()) {
            return Ok(Err(Failure {
                reason: "the bracket shrank to nothing",
                step: lo.a,
            }));
        }
        let (left, right) = (lo.a.min(hi.a), lo.a.max(hi.a));
        let a = cubic_min(lo, hi)
            .filter(|&a| a >= left + SAFEGUARD * width && a <= right - SAFEGUARD * width)
            .unwrap_or(0.5 * (lo.a + hi.a));
        let Some((f, d)) = eval(a)? else {
            hi = End {
                a,
                f: f64::INFINITY,
                d: f64::NAN,
            };
            continue;
        };
        if f > f0 + C1 * a * d0 || f >= lo.f {
            hi = End { a, f, d };
        } else {
            if d.abs() <= -C2 * d0 {
                return Ok(Ok(a));
            }
            if d * (hi.a - lo.a) >= 0.0 {
                hi = lo;
            }
            lo = End { a, f, d };
        }
    }
    Ok(Err(Failure {
        reason: "no step satisfying the strong Wolfe conditions in the bracket",
        step: lo.a,
    }))
}

/// The minimizer of the cubic interpolating φ and φ′ at both ends (Nocedal & Wright
/// eq. 3.59); `None` when an end is rejected or the cubic has no minimizer.
fn cubic_min(p: End, q: End) -> Option<f64> {
    if !(p.f.is_finite() && q.f.is_finite() && p.d.is_finite() && q.d.is_finite()) {
        return None;
    }
    let d1 = p.d + q.d - 3.0 * (p.f - q.f) / (p.a - q.a);
    let disc = d1 * d1 - p.d * q.d;
    if !(disc >= 0.0) {
        return None;
    }
    let d2 = (q.a - p.a).signum() * disc.sqrt();
    let a = q.a - (q.a - p.a) * (q.d + d2 - d1) / (q.d - p.d + 2.0 * d2);
    a.is_finite().then_some(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// φ(α) = (α − 2)² − 4 along p from f(0) = 0 with f′(0) = −4.
    #[test]
    fn finds_a_strong_wolfe_step_on_a_parabola() {
        let phi = |a: f64| ((a - 2.0).powi(2) - 4.0, 2.0 * (a - 2.0));
        for start in [1e-3, 1.0, 3.5, 100.0] {
            let mut last = f64::NAN;
            let a = strong_wolfe(
                |a| {
                    last = a;
                    Ok(Some(phi(a)))
                },
                0.0,
                -4.0,
                start,
            )
            .unwrap()
            .unwrap();
            let (f, d) = phi(a);
            assert!(f <= C1 * a * -4.0, "start {start}: α {a}");
            assert!(d.abs() <= C2 * 4.0, "start {start}: α {a}");
            assert_eq!(last, a, "the accepted step is the last evaluated");
        }
    }

    #[test]
    fn closes_the_bracket_on_rejected_points() {
        // defined only for α < 1.5, with its minimum at 2 beyond the edge: the search must
        // settle below 1.5
        let a = strong_wolfe(
            |a| Ok((a < 1.5).then(|| ((a - 2.0).powi(2) - 4.0, 2.0 * (a - 2.0)))),
            0.0,
            -4.0,
            1.0,
        )
        .unwrap();
        // near the edge φ′ ≈ −1 ≤ c₂·4: accepted
        assert!(matches!(a, Ok(a) if a < 1.5), "{a:?}");
    }

    /// A first step 10⁶ times too long (the density defined only within 10⁻⁶ of the
    /// start) is backed off until the density can be evaluated.
    #[test]
    fn backs_off_from_a_far_too_long_first_step() {
        // φ(α) = (α − 10⁻⁶)² with φ′(0) = −2·10⁻⁶, rejected beyond α = 2·10⁻⁶
        let r = strong_wolfe(
            |a| Ok((a < 2e-6).then(|| ((a - 1e-6).powi(2), 2.0 * (a - 1e-6)))),
            1e-12,
            -2e-6,
            1.0,
        )
        .unwrap();
        assert!(matches!(r, Ok(a) if a > 0.0 && a < 2e-6), "{r:?}");
    }

    #[test]
    fn reports_failure_on_an_ascent_direction() {
        // φ increasing from α = 0 although f′(0) claims descent: no step decreases it
        let r = strong_wolfe(|a| Ok(Some((a, 1.0))), 0.0, -1.0, 1.0).unwrap();
        assert!(r.is_err(), "{r:?}");
    }
}
