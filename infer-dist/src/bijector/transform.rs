//! The transforms themselves: [`Bijector::forward`] and [`Bijector::log_abs_det_jacobian`] on
//! the tape, and [`Bijector::inverse`] in plain `f64` arithmetic, dispatching to the
//! submodules of the structured bijectors.

use super::{
    Bijector, cholesky_order, ln_diff, ln_ratio, log_sigmoids, lower_cholesky,
    lower_cholesky_inverse, need_vector, outside, stick_breaking, stick_breaking_inverse,
    triangular_root_floor, width,
};
use super::{cholesky, ordered, sum_to_zero};
use crate::DistError;
use infer_ad::scalar::sigmoid;
use infer_ad::{Tensor, Var};

impl Bijector {
    /// Maps an unconstrained point onto the constrained set, on the tape (gradients flow back
    /// to `y`). Elementwise transforms keep `y`'s shape; `StickBreaking` and `SumToZero` map
    /// a vector of length K−1 to one of length K; `Ordered` and `PositiveOrdered` keep the
    /// length; `LowerCholesky` maps a vector of length n(n+1)/2 to an n×n matrix,
    /// `CholeskyFactorCorr` one of length K(K−1)/2 to a K×K matrix, `CholeskyFactorCov` one
    /// of its unconstrained length to a `rows`×`cols` matrix.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for bounds that are not finite or not ordered
    /// (`ShiftedExp`, `ScaledSigmoid`);
    /// [`DistError::Ad`] wrapping [`AdError::WrongRank`](infer_ad::AdError::WrongRank) when a non-elementwise transform
    /// gets a tensor that is not 1-d; [`DistError::InvalidLength`] when the input length
    /// does not fit (`LowerCholesky`, `CholeskyFactorCorr`, `CholeskyFactorCov`);
    /// [`DistError::OutsideSupport`] for a
    /// coordinate of `y` that is NaN or ±∞, or for which `eʸ` overflows f64 (`Exp`,
    /// `ShiftedExp`, the increments of `Ordered` and `PositiveOrdered` and the diagonal of
    /// `LowerCholesky` and `CholeskyFactorCov`, e.g. `y = 710`: the image or the derivative
    /// is not representable), or when an image formed by sums leaves the range of f64
    /// (`Ordered`, `PositiveOrdered`, `SumToZero`, e.g. `Ordered` at `[1e308, 709]`). Points
    /// that round onto the boundary (`Sigmoid` at `y = −800` gives 0) are returned as they
    /// are.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Bijector, DistError};
    /// let tape = Tape::new();
    /// assert!(matches!(
    ///     Bijector::Exp.forward(tape.tensor(&ndarray::array![710.0])),
    ///     Err(DistError::OutsideSupport { .. })
    /// ));
    /// let y = tape.tensor(&ndarray::array![0.0, 0.0, 0.0]);
    /// let x = Bijector::StickBreaking.forward(y)?;
    /// for xi in x.to_vec() {
    ///     assert!((xi - 0.25).abs() < 1e-15); // y = 0 is the centre of the simplex
    /// }
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn forward<'t>(&self, y: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        self.validate()?;
        self.check_unconstrained(y)?;
        match *self {
            Bijector::Identity => Ok(y),
            Bijector::Exp => Ok(y.exp()),
            Bijector::ShiftedExp { low } => Ok(y.map_with_derivative(|v| {
                let e = v.exp();
                (low + e, e)
            })),
            Bijector::ScaledSigmoid { low, high } => Ok(scaled_sigmoid(y, low, high)),
            Bijector::Sigmoid => Ok(scaled_sigmoid(y, 0.0, 1.0)),
            Bijector::StickBreaking => stick_breaking(y),
            Bijector::LowerCholesky => lower_cholesky(y),
            Bijector::Ordered => ordered::forward(y, false),
            Bijector::PositiveOrdered => ordered::forward(y, true),
            Bijector::CholeskyFactorCorr => cholesky::corr_forward(y),
            Bijector::CholeskyFactorCov { rows, cols } => cholesky::cov_forward(y, rows, cols),
            Bijector::SumToZero => sum_to_zero::forward(y),
        }
    }

    /// ln |det ∂f/∂y| at the unconstrained point `y`, summed over all elements, on the tape.
    /// For `StickBreaking` it is the determinant of the map onto the first K−1 coordinates;
    /// for `LowerCholesky` and `CholeskyFactorCov` onto the free entries (the lower
    /// trapezoid), for `CholeskyFactorCorr` onto the strictly lower triangle; for `SumToZero`
    /// it is 0, the isometry's volume factor (see [`Bijector::SumToZero`]).
    ///
    /// # Errors
    /// As [`Bijector::forward`]; also [`DistError::OutsideSupport`] when the sum leaves the
    /// range of f64 although every coordinate is finite (e.g. `Sigmoid` at `[−1e308, −1e308]`,
    /// where ln|det J| ≈ −2e308).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::Bijector;
    /// let tape = Tape::new();
    /// let y = tape.tensor(&ndarray::array![0.5, -1.0]);
    /// let lj = Bijector::Exp.log_abs_det_jacobian(y)?;
    /// assert!((lj.value() + 0.5).abs() < 1e-15);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn log_abs_det_jacobian<'t>(&self, y: Tensor<'t>) -> Result<Var<'t>, DistError> {
        self.validate()?;
        self.check_unconstrained(y)?;
        let lj = self.log_abs_det_jacobian_unchecked(y)?;
        let v = lj.value();
        if v.is_finite() {
            Ok(lj)
        } else {
            // Each term is finite; only their sum can leave the range of f64 (e.g. two
            // coordinates at −1e308 under `Sigmoid`, whose ln|J| is then ≈ −2e308).
            Err(outside(
                self.name(),
                v,
                "ln|det J| at this point is beyond the range of f64",
            ))
        }
    }

    /// Every unconstrained coordinate must be finite, and its image and derivative
    /// representable: `eʸ` (the derivative, and the image or its increment over `low`) must
    /// not overflow for `Exp`, `ShiftedExp`, the increments of the ordered vectors and the
    /// diagonal of `LowerCholesky` and `CholeskyFactorCov`.
    fn check_unconstrained(&self, y: Tensor<'_>) -> Result<(), DistError> {
        /// Whether eʸ overflows; out of line, so that the exponential (an intrinsic the
        /// optimizer may compute ahead of the `v > 709` test: measured, one `exp` per
        /// coordinate per gradient) runs only above 709.
        #[cold]
        #[inline(never)]
        fn exp_overflows(v: f64) -> bool {
            v.exp().is_infinite()
        }
        let diag = |i: usize| {
            // i is a diagonal slot r(r+1)/2 + r of the row-major lower triangle.
            let r = triangular_root_floor(i);
            r * (r + 1) / 2 + r == i
        };
        // eʸ overflows only above ln(f64::MAX) ≈ 709.78: the exponential is taken only there
        // (this check runs on every gradient; read in place, without a copy)
        let overflows = |i: usize, v: f64| {
            v > 709.0
                && exp_overflows(v)
                && match *self {
                    Bijector::Exp | Bijector::ShiftedExp { .. } | Bijector::PositiveOrdered => true,
                    Bijector::LowerCholesky => diag(i),
                    Bijector::CholeskyFactorCov { cols, .. } => {
                        i < cols * (cols + 1) / 2 && diag(i)
                    }
                    Bijector::Ordered => i > 0,
                    Bijector::Identity
                    | Bijector::ScaledSigmoid { .. }
                    | Bijector::Sigmoid
                    | Bijector::StickBreaking
                    | Bijector::CholeskyFactorCorr
                    | Bijector::SumToZero => false,
                }
        };
        match y.find_value(|i, v| !v.is_finite() || overflows(i, v)) {
            None => Ok(()),
            Some((_, v)) if !v.is_finite() => Err(outside(
                self.name(),
                v,
                "unconstrained coordinates must be finite",
            )),
            Some((_, v)) => Err(outside(
                self.name(),
                v,
                "e^y overflows f64 (the image or the derivative is not representable)",
            )),
        }
    }

    fn log_abs_det_jacobian_unchecked<'t>(&self, y: Tensor<'t>) -> Result<Var<'t>, DistError> {
        let tape = y.tape();
        match *self {
            Bijector::Identity => Ok(tape.var(0.0)),
            Bijector::Exp | Bijector::ShiftedExp { .. } => Ok(y.sum()),
            Bijector::ScaledSigmoid { low, high } => {
                let ln_width = ln_diff(high, low);
                Ok(tape.fused_sum([y], |_, [v]| {
                    let (a, b) = log_sigmoids(v);
                    (ln_width + a + b, [sigmoid(-v) - sigmoid(v)])
                })?)
            }
            Bijector::Sigmoid => Ok(tape.fused_sum([y], |_, [v]| {
                let (a, b) = log_sigmoids(v);
                (a + b, [sigmoid(-v) - sigmoid(v)])
            })?),
            Bijector::StickBreaking => {
                let m = need_vector(y, "StickBreaking::log_abs_det_jacobian")?;
                // Σₖ ln σ(uₖ) + (K − 1 − k) ln σ(−uₖ), k = 0..K−2 (0-based), K = m + 1.
                Ok(tape.fused_sum([y], |k, [v]| {
                    let u = v - ((m - k) as f64).ln();
                    let w = (m - k) as f64;
                    let (a, b) = log_sigmoids(u);
                    (a + w * b, [sigmoid(-u) - w * sigmoid(u)])
                })?)
            }
            Bijector::LowerCholesky => {
                let m = need_vector(y, "LowerCholesky::log_abs_det_jacobian")?;
                let n = cholesky_order(m)?;
                let mut mask = vec![false; m];
                for i in 0..n {
                    mask[i * (i + 1) / 2 + i] = true;
                }
                Ok(y.select(&mask)?.sum())
            }
            Bijector::Ordered => ordered::log_abs_det_jacobian(y, false),
            Bijector::PositiveOrdered => ordered::log_abs_det_jacobian(y, true),
            Bijector::CholeskyFactorCorr => cholesky::corr_log_abs_det_jacobian(y),
            Bijector::CholeskyFactorCov { rows, cols } => {
                cholesky::cov_log_abs_det_jacobian(y, rows, cols)
            }
            Bijector::SumToZero => {
                need_vector(y, "SumToZero::log_abs_det_jacobian")?;
                Ok(tape.var(0.0))
            }
        }
    }

    /// Maps a constrained value (row-major, flat) back to unconstrained coordinates, in plain
    /// `f64` (no tape).
    ///
    /// # Errors
    /// [`DistError::OutsideSupport`] when `x` is not in the open constrained set (for
    /// example `x ≤ 0` for `Exp`, a negative entry or a sum far from 1 for `StickBreaking`, a
    /// non-zero upper-triangle entry or a non-positive diagonal for `LowerCholesky` and
    /// `CholeskyFactorCov`, a vector that is not strictly increasing for `Ordered`, a row
    /// whose norm is not 1 within 1e-8 for `CholeskyFactorCorr`, a sum far from 0 for
    /// `SumToZero`) or is not finite; [`DistError::InvalidLength`] for an empty simplex,
    /// sum-to-zero vector or correlation factor, a non-square matrix or a length other than
    /// `rows · cols`; [`DistError::InvalidParameter`] for invalid bounds or shapes, as
    /// [`Bijector::forward`].
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Bijector;
    /// let y = Bijector::StickBreaking.inverse(&[0.25, 0.25, 0.25, 0.25])?;
    /// assert!(y.iter().all(|v| v.abs() < 1e-12));
    /// assert!(Bijector::Exp.inverse(&[-1.0]).is_err());
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn inverse(&self, x: &[f64]) -> Result<Vec<f64>, DistError> {
        self.validate()?;
        let name = self.name();
        let check = |ok: bool, v: f64, reason: &'static str| {
            if ok {
                Ok(())
            } else {
                Err(outside(name, v, reason))
            }
        };
        match *self {
            Bijector::Identity => {
                for &v in x {
                    check(v.is_finite(), v, "must be finite")?;
                }
                Ok(x.to_vec())
            }
            Bijector::Exp => x
                .iter()
                .map(|&v| {
                    check(v > 0.0 && v.is_finite(), v, "must be positive and finite")?;
                    Ok(v.ln())
                })
                .collect(),
            Bijector::ShiftedExp { low } => x
                .iter()
                .map(|&v| {
                    check(
                        v > low && v.is_finite(),
                        v,
                        "must exceed the lower bound and be finite",
                    )?;
                    Ok(ln_diff(v, low))
                })
                .collect(),
            Bijector::ScaledSigmoid { low, high } => x
                .iter()
                .map(|&v| {
                    check(
                        v > low && v < high,
                        v,
                        "must lie strictly inside (low, high)",
                    )?;
                    // The middle, |y| ≤ 1, as the forward map computes it: y = 2 atanh((x −
                    // mid)/half), without cancellation near the bounds.
                    let (mid, half) = mid_half(low, high);
                    let r = (v - mid) / half;
                    if half.is_normal() && r.abs() <= 0.5f64.tanh() {
                        return Ok(2.0 * r.atanh());
                    }
                    // Both differences are positive (v is strictly inside); either may
                    // overflow for bounds near ±1.8e308, the quotient may too.
                    let (num, den) = (v - low, high - v);
                    if num.is_finite() && den.is_finite() {
                        Ok(ln_ratio(num, den))
                    } else {
                        // The halves are exact at this magnitude and their ratio is the same.
                        Ok(ln_ratio(0.5 * v - 0.5 * low, 0.5 * high - 0.5 * v))
                    }
                })
                .collect(),
            Bijector::Sigmoid => x
                .iter()
                .map(|&v| {
                    check(v > 0.0 && v < 1.0, v, "must lie strictly inside (0, 1)")?;
                    Ok(ln_ratio(v, 1.0 - v))
                })
                .collect(),
            Bijector::StickBreaking => stick_breaking_inverse(x),
            Bijector::LowerCholesky => lower_cholesky_inverse(x),
            Bijector::Ordered => ordered::inverse(x, false),
            Bijector::PositiveOrdered => ordered::inverse(x, true),
            Bijector::CholeskyFactorCorr => cholesky::corr_inverse(x),
            Bijector::CholeskyFactorCov { rows, cols } => cholesky::cov_inverse(x, rows, cols),
            Bijector::SumToZero => sum_to_zero::inverse(x),
        }
    }
}

/// `low + (high − low) σ(y)`, evaluated from the nearer bound so that large |y| does not
/// round onto the boundary earlier than necessary.
///
/// The width is used as `k·w` (see [`width`]) with the product `k·(w·s)` formed last, so bounds
/// near ±1.8e308 (whose difference overflows) still give finite points and derivatives.
fn scaled_sigmoid(y: Tensor<'_>, low: f64, high: f64) -> Tensor<'_> {
    let (w, k) = width(low, high);
    let (mid, half) = mid_half(low, high);
    y.map_with_derivative(|v| {
        let (s, sm) = (sigmoid(v), sigmoid(-v));
        let x = if v.abs() <= 1.0 && half.is_normal() {
            // Near the middle: mid + half·tanh(y/2) (= low + (high − low) σ(y)), which does
            // not cancel two numbers near the bounds (for (−1e308, 1e308) at y = −1e-8 the
            // form below loses 7 digits, and the round trip with them)
            mid + half * (0.5 * v).tanh()
        } else if v > 0.0 {
            high - k * (w * sm)
        } else {
            low + k * (w * s)
        };
        (x, k * (w * s * sm))
    })
}

/// The midpoint and half-width of (low, high), each without overflow.
fn mid_half(low: f64, high: f64) -> (f64, f64) {
    (0.5 * low + 0.5 * high, 0.5 * high - 0.5 * low)
}
