//! Bijections from unconstrained ℝⁿ onto each continuous [`crate::Constraint`], with
//! log|det J| on the tape: what MCMC and VI use to work in unconstrained space.
//!
//! Every transform maps an *unconstrained* point `y` to a *constrained* point `x = f(y)`.
//! [`Bijector::forward`] records `f` on the tape (so gradients flow from `x` back to `y`),
//! [`Bijector::log_abs_det_jacobian`] records `ln |det ∂f/∂y|` at `y`, and
//! [`Bijector::inverse`] maps a constrained point back with plain `f64` arithmetic (it is used
//! to initialise samplers and variational parameters, never differentiated).
//!
//! The transforms are Stan's (Stan Reference Manual, chapter "Constraint Transforms"), written
//! in the numerically stable forms `ln σ(y) = −softplus(−y)`.

use crate::DistError;
use infer_ad::scalar::{sigmoid, softplus};
use infer_ad::{AdError, Shape, Tensor, Var};

/// A bijection from unconstrained ℝⁿ onto the support of a constraint.
///
/// | variant | constrained set | forward `x = f(y)` | ln \|det J\| |
/// |---|---|---|---|
/// | `Identity` | ℝⁿ | `y` | 0 |
/// | `Exp` | (0, ∞)ⁿ | `eʸ` | Σ y |
/// | `ShiftedExp { low }` | (low, ∞)ⁿ | `low + eʸ` | Σ y |
/// | `ScaledSigmoid { low, high }` | (low, high)ⁿ | `low + (high − low) σ(y)` | Σ ln(high − low) + ln σ(y) + ln σ(−y) |
/// | `Sigmoid` | (0, 1)ⁿ | `σ(y)` | Σ ln σ(y) + ln σ(−y) |
/// | `StickBreaking` | simplex Δᴷ⁻¹ (K−1 → K) | see below | see below |
/// | `LowerCholesky` | n×n lower triangular, positive diagonal (n(n+1)/2 → n²) | see below | Σ of the diagonal's `y` |
///
/// The elementwise transforms accept a tensor of any shape. `StickBreaking` and
/// `LowerCholesky` take a 1-d unconstrained vector.
///
/// **Stick-breaking** (Stan's simplex transform): for `k = 1, …, K−1` let
/// `zₖ = σ(yₖ − ln(K − k))`, `xₖ = (1 − Σ_{j<k} xⱼ) zₖ`, and `x_K = 1 − Σ_{k<K} xₖ`. The
/// offset `−ln(K − k)` makes `y = 0` map to the uniform simplex point. The Jacobian of
/// `y ↦ (x₁, …, x_{K−1})` (the K−1 free coordinates) is triangular with
/// `ln |det J| = Σₖ ln zₖ + ln(1 − zₖ) + ln(1 − Σ_{j<k} xⱼ)`.
/// Internally `ln xₖ = ln σ(uₖ) + Σ_{j<k} ln σ(−uⱼ)` with `uₖ = yₖ − ln(K − k)`, so no
/// stick length underflows to a negative number.
///
/// **Lower Cholesky** (Stan's Cholesky-factor transform, square case): the unconstrained
/// vector fills the lower triangle row by row, `L₀₀, L₁₀, L₁₁, L₂₀, …`, with the diagonal
/// entries exponentiated; the upper triangle is 0. The Jacobian onto the n(n+1)/2 free
/// entries is diagonal, so `ln |det J| = Σᵢ y_{(i,i)}`. This is a *transform*: the
/// constrained matrix has n² entries of which only n(n+1)/2 are free.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::Bijector;
///
/// let tape = Tape::new();
/// let b = Bijector::ScaledSigmoid { low: -1.0, high: 3.0 };
/// let y = tape.tensor(&ndarray::array![0.0, 2.0]);
/// let x = b.forward(y)?;
/// assert_eq!(x.to_vec()[0], 1.0); // the midpoint of (−1, 3)
/// let back = b.inverse(&x.to_vec())?;
/// assert!((back[1] - 2.0).abs() < 1e-12);
/// let lj = b.log_abs_det_jacobian(y)?;
/// lj.backward();
/// assert!(y.grad().iter().all(|g| g.is_finite()));
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// Stan Development Team, *Stan Reference Manual*, "Constraint Transforms": lower-bounded
/// scalar, lower- and upper-bounded scalar, unit simplex, Cholesky factors of covariance
/// matrices.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Bijector {
    /// ℝⁿ → ℝⁿ, the identity.
    Identity,
    /// ℝⁿ → (0, ∞)ⁿ, `x = eʸ`.
    Exp,
    /// ℝⁿ → (low, ∞)ⁿ, `x = low + eʸ`.
    ShiftedExp {
        /// The lower bound.
        low: f64,
    },
    /// ℝⁿ → (low, high)ⁿ, `x = low + (high − low) σ(y)`.
    ScaledSigmoid {
        /// The lower bound.
        low: f64,
        /// The upper bound (`> low`).
        high: f64,
    },
    /// ℝⁿ → (0, 1)ⁿ, `x = σ(y)`.
    Sigmoid,
    /// ℝᴷ⁻¹ → the probability simplex in ℝᴷ, by stick-breaking.
    StickBreaking,
    /// ℝⁿ⁽ⁿ⁺¹⁾ᐟ² → n×n lower-triangular matrices with a positive diagonal (row-major).
    LowerCholesky,
}

/// Builds the error for a constrained value outside the bijector's image.
fn outside(what: &'static str, value: f64, reason: &'static str) -> DistError {
    DistError::OutsideSupport {
        what,
        value,
        reason,
    }
}

/// The `n` with `n(n+1)/2 = m`, if `m` is a triangular number.
fn triangular_root(m: usize) -> Option<usize> {
    let mut n = ((2.0 * m as f64).sqrt()) as usize;
    while n * (n + 1) / 2 > m {
        n -= 1;
    }
    while n * (n + 1) / 2 < m {
        n += 1;
    }
    (n * (n + 1) / 2 == m).then_some(n)
}

/// The largest `r` with `r(r+1)/2 ≤ i`: the row of slot `i` of a row-major lower triangle.
fn triangular_root_floor(i: usize) -> usize {
    let mut r = ((2.0 * i as f64).sqrt()) as usize;
    while r * (r + 1) / 2 > i {
        r -= 1;
    }
    while (r + 1) * (r + 2) / 2 <= i {
        r += 1;
    }
    r
}

/// The `n` with `n² = m`, if `m` is a perfect square.
fn square_root(m: usize) -> Option<usize> {
    let mut n = (m as f64).sqrt() as usize;
    while n * n > m {
        n -= 1;
    }
    while n * n < m {
        n += 1;
    }
    (n * n == m).then_some(n)
}

/// `(ln σ(u), ln σ(−u))` without overflow.
#[inline]
fn log_sigmoids(u: f64) -> (f64, f64) {
    (-softplus(-u), -softplus(u))
}

/// ln(a − b) for `a > b`, also when `a − b` overflows (bounds near ±1.8e308): then the
/// difference is formed from the halves, which are exact at that magnitude.
fn ln_diff(a: f64, b: f64) -> f64 {
    let d = a - b;
    if d.is_finite() {
        d.ln()
    } else {
        (0.5 * a - 0.5 * b).ln() + std::f64::consts::LN_2
    }
}

/// ln(num/den) for positive finite `num`, `den`: the quotient when it is a normal number
/// (one rounding), else the difference of the logarithms (the quotient overflows or loses
/// precision in the subnormal range, e.g. `1 / 4.4e-309`).
fn ln_ratio(num: f64, den: f64) -> f64 {
    let r = num / den;
    if r.is_normal() {
        r.ln()
    } else {
        num.ln() - den.ln()
    }
}

/// The width `high − low` of an interval as `(w, k)` with `high − low = k·w`: `k = 1` when the
/// difference is finite, else `k = 2` and `w = high/2 − low/2` (which is then exact).
fn width(low: f64, high: f64) -> (f64, f64) {
    let w = high - low;
    if w.is_finite() {
        (w, 1.0)
    } else {
        (0.5 * high - 0.5 * low, 2.0)
    }
}

fn need_vector(y: Tensor<'_>, op: &'static str) -> Result<usize, DistError> {
    if y.ndim() != 1 {
        return Err(AdError::WrongRank {
            op,
            expected: 1,
            shape: y.shape(),
        }
        .into());
    }
    Ok(y.numel())
}

impl Bijector {
    /// A short name, e.g. `"StickBreaking"`.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(infer_dist::Bijector::Exp.name(), "Exp");
    /// ```
    pub fn name(&self) -> &'static str {
        match self {
            Bijector::Identity => "Identity",
            Bijector::Exp => "Exp",
            Bijector::ShiftedExp { .. } => "ShiftedExp",
            Bijector::ScaledSigmoid { .. } => "ScaledSigmoid",
            Bijector::Sigmoid => "Sigmoid",
            Bijector::StickBreaking => "StickBreaking",
            Bijector::LowerCholesky => "LowerCholesky",
        }
    }

    /// Checks the bounds of `ShiftedExp` and `ScaledSigmoid` (finite, `low < high`).
    fn validate(&self) -> Result<(), DistError> {
        let bad = |param: &'static str, value: f64, reason: &'static str| {
            Err(DistError::InvalidParameter {
                dist: self.name(),
                param,
                value,
                reason,
            })
        };
        match *self {
            Bijector::ShiftedExp { low } if !low.is_finite() => bad("low", low, "must be finite"),
            Bijector::ScaledSigmoid { low, .. } if !low.is_finite() => {
                bad("low", low, "must be finite")
            }
            Bijector::ScaledSigmoid { low, high } if !(high > low && high.is_finite()) => {
                bad("high", high, "must be finite and > low")
            }
            _ => Ok(()),
        }
    }

    /// Whether the transform acts elementwise (any tensor shape, lengths preserved).
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Bijector;
    /// assert!(Bijector::Exp.is_elementwise());
    /// assert!(!Bijector::StickBreaking.is_elementwise());
    /// ```
    pub fn is_elementwise(&self) -> bool {
        !matches!(self, Bijector::StickBreaking | Bijector::LowerCholesky)
    }

    /// Number of unconstrained coordinates for a constrained value of `constrained_len`
    /// elements: the same for elementwise transforms, `K − 1` for a K-simplex, `n(n+1)/2` for
    /// an n×n Cholesky factor (`constrained_len = n²`).
    ///
    /// # Errors
    /// [`DistError::InvalidLength`] for an empty simplex or a length that is not a square.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Bijector;
    /// assert_eq!(Bijector::StickBreaking.unconstrained_len(4)?, 3);
    /// assert_eq!(Bijector::LowerCholesky.unconstrained_len(9)?, 6);
    /// assert!(Bijector::LowerCholesky.unconstrained_len(8).is_err());
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn unconstrained_len(&self, constrained_len: usize) -> Result<usize, DistError> {
        match self {
            Bijector::StickBreaking => {
                constrained_len
                    .checked_sub(1)
                    .ok_or(DistError::InvalidLength {
                        what: "simplex (constrained) length",
                        len: constrained_len,
                        reason: "a simplex has at least one element",
                    })
            }
            Bijector::LowerCholesky => square_root(constrained_len).map(|n| n * (n + 1) / 2).ok_or(
                DistError::InvalidLength {
                    what: "Cholesky factor (constrained) length",
                    len: constrained_len,
                    reason: "an n×n matrix has n² elements",
                },
            ),
            _ => Ok(constrained_len),
        }
    }

    /// Number of constrained elements produced from `unconstrained_len` coordinates: the
    /// inverse of [`Bijector::unconstrained_len`].
    ///
    /// # Errors
    /// [`DistError::InvalidLength`] when `unconstrained_len` is not a triangular number
    /// (`LowerCholesky`).
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Bijector;
    /// assert_eq!(Bijector::StickBreaking.constrained_len(3)?, 4);
    /// assert_eq!(Bijector::LowerCholesky.constrained_len(6)?, 9);
    /// assert!(Bijector::LowerCholesky.constrained_len(5).is_err());
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn constrained_len(&self, unconstrained_len: usize) -> Result<usize, DistError> {
        match self {
            Bijector::StickBreaking => Ok(unconstrained_len + 1),
            Bijector::LowerCholesky => {
                triangular_root(unconstrained_len)
                    .map(|n| n * n)
                    .ok_or(DistError::InvalidLength {
                        what: "Cholesky factor (unconstrained) length",
                        len: unconstrained_len,
                        reason: "n(n+1)/2 coordinates fill an n×n lower triangle",
                    })
            }
            _ => Ok(unconstrained_len),
        }
    }

    /// Maps an unconstrained point onto the constrained set, on the tape (gradients flow back
    /// to `y`). Elementwise transforms keep `y`'s shape; `StickBreaking` maps a vector of
    /// length K−1 to one of length K; `LowerCholesky` maps a vector of length n(n+1)/2 to an
    /// n×n matrix.
    ///
    /// # Errors
    /// [`DistError::InvalidParameter`] for bounds that are not finite or not ordered
    /// (`ShiftedExp`, `ScaledSigmoid`);
    /// [`DistError::Ad`] wrapping [`AdError::WrongRank`] when `StickBreaking` or
    /// `LowerCholesky` gets a tensor that is not 1-d; [`DistError::InvalidLength`] when the
    /// `LowerCholesky` input length is not triangular; [`DistError::OutsideSupport`] for a
    /// coordinate of `y` that is NaN or ±∞, or for which `eʸ` overflows f64 (`Exp`,
    /// `ShiftedExp` and the diagonal of `LowerCholesky`, e.g. `y = 710`: the image or the
    /// derivative is not representable). Points that round
    /// onto the boundary (`Sigmoid` at `y = −800` gives 0) are returned as they are.
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
        }
    }

    /// ln |det ∂f/∂y| at the unconstrained point `y`, summed over all elements, on the tape.
    /// For `StickBreaking` it is the determinant of the map onto the first K−1 coordinates;
    /// for `LowerCholesky` onto the n(n+1)/2 free entries.
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
    /// not overflow for `Exp`, `ShiftedExp` and the diagonal of `LowerCholesky`.
    fn check_unconstrained(&self, y: Tensor<'_>) -> Result<(), DistError> {
        let diag = |i: usize| {
            // i is a diagonal slot r(r+1)/2 + r of the row-major lower triangle.
            let r = triangular_root_floor(i);
            r * (r + 1) / 2 + r == i
        };
        for (i, v) in y.to_vec().into_iter().enumerate() {
            if !v.is_finite() {
                return Err(outside(
                    self.name(),
                    v,
                    "unconstrained coordinates must be finite",
                ));
            }
            let overflows = match *self {
                Bijector::Exp => v.exp().is_infinite(),
                Bijector::ShiftedExp { .. } => v.exp().is_infinite(),
                Bijector::LowerCholesky => diag(i) && v.exp().is_infinite(),
                _ => false,
            };
            if overflows {
                return Err(outside(
                    self.name(),
                    v,
                    "e^y overflows f64 (the image or the derivative is not representable)",
                ));
            }
        }
        Ok(())
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
        }
    }

    /// Maps a constrained value (row-major, flat) back to unconstrained coordinates, in plain
    /// `f64` (no tape).
    ///
    /// # Errors
    /// [`DistError::OutsideSupport`] when `x` is not in the open constrained set (for
    /// example `x ≤ 0` for `Exp`, a negative entry or a sum far from 1 for `StickBreaking`, a
    /// non-zero upper-triangle entry or a non-positive diagonal for `LowerCholesky`) or is not
    /// finite; [`DistError::InvalidLength`] for an empty simplex or a non-square matrix;
    /// [`DistError::InvalidParameter`] for invalid bounds, as [`Bijector::forward`].
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
    y.map_with_derivative(|v| {
        let (s, sm) = (sigmoid(v), sigmoid(-v));
        let x = if v > 0.0 {
            high - k * (w * sm)
        } else {
            low + k * (w * s)
        };
        (x, k * (w * s * sm))
    })
}

fn stick_breaking<'t>(y: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
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

fn stick_breaking_inverse(x: &[f64]) -> Result<Vec<f64>, DistError> {
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

fn cholesky_order(m: usize) -> Result<usize, DistError> {
    triangular_root(m).ok_or(DistError::InvalidLength {
        what: "Cholesky factor (unconstrained) length",
        len: m,
        reason: "n(n+1)/2 coordinates fill an n×n lower triangle",
    })
}

fn lower_cholesky<'t>(y: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
    let m = need_vector(y, "LowerCholesky::forward")?;
    let n = cholesky_order(m)?;
    let tape = y.tape();
    if n == 0 {
        return Ok(tape.constant(&ndarray::Array2::<f64>::zeros((0, 0))));
    }
    let mut is_diag = vec![0.0; m];
    for i in 0..n {
        is_diag[i * (i + 1) / 2 + i] = 1.0;
    }
    let diag_mask = tape.constant(&ndarray::Array1::from(is_diag));
    let filled = tape.fused_map([y, diag_mask], |_, [v, d]| {
        if d > 0.0 {
            let e = v.exp();
            (e, [e, 0.0])
        } else {
            (v, [1.0, 0.0])
        }
    })?;
    let zeros = tape.constant(&ndarray::Array1::<f64>::zeros(n));
    let mut parts = Vec::with_capacity(2 * n);
    for i in 0..n {
        let start = i * (i + 1) / 2;
        parts.push(filled.slice_axis(0, start, start + i + 1)?);
        if i + 1 < n {
            parts.push(zeros.slice_axis(0, 0, n - i - 1)?);
        }
    }
    let flat = tape.concat(&parts, 0)?;
    Ok(flat.reshape(Shape::matrix(n, n)?.dims())?)
}

fn lower_cholesky_inverse(x: &[f64]) -> Result<Vec<f64>, DistError> {
    let n = square_root(x.len()).ok_or(DistError::InvalidLength {
        what: "Cholesky factor (constrained) length",
        len: x.len(),
        reason: "an n×n matrix has n² elements",
    })?;
    let mut out = Vec::with_capacity(n * (n + 1) / 2);
    for i in 0..n {
        for j in 0..n {
            let v = x[i * n + j];
            if j > i {
                if v != 0.0 {
                    return Err(outside(
                        "LowerCholesky",
                        v,
                        "entries above the diagonal must be 0",
                    ));
                }
            } else if j == i {
                if !(v > 0.0 && v.is_finite()) {
                    return Err(outside(
                        "LowerCholesky",
                        v,
                        "diagonal entries must be positive and finite",
                    ));
                }
                out.push(v.ln());
            } else {
                if !v.is_finite() {
                    return Err(outside("LowerCholesky", v, "entries must be finite"));
                }
                out.push(v);
            }
        }
    }
    Ok(out)
}
