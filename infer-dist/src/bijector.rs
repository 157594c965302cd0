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
use infer_ad::scalar::softplus;
use infer_ad::{AdError, Tensor};

mod bounds;
mod cholesky;
mod lengths;
mod ordered;
mod simplex;
mod sum_to_zero;
mod transform;

use cholesky::{cholesky_order, lower_cholesky, lower_cholesky_inverse};
use simplex::{stick_breaking, stick_breaking_inverse};

pub use bounds::{bounded, unbounded};
pub(crate) use sum_to_zero::sums_to_zero;

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
/// | `Ordered` | strictly increasing vectors | `x₁ = y₁`, `xₖ = xₖ₋₁ + e^{yₖ}` | Σ_{k≥2} yₖ |
/// | `PositiveOrdered` | strictly increasing positive vectors | `x₁ = e^{y₁}`, `xₖ = xₖ₋₁ + e^{yₖ}` | Σ yₖ |
/// | `CholeskyFactorCorr` | K×K Cholesky factors of correlation matrices (K(K−1)/2 → K²) | tanh, then rows of unit norm | Σ_{i>j} (i − j + 1) ln sech y_{ij} |
/// | `CholeskyFactorCov { rows, cols }` | rows×cols lower trapezoid, positive diagonal | as `LowerCholesky`, then free rows | Σ of the diagonal's `y` |
/// | `SumToZero` | vectors summing to 0 (N → N+1) | Stan's isometric transform | 0 (see below) |
///
/// The elementwise transforms accept a tensor of any shape; the others take a 1-d
/// unconstrained vector. `Ordered`, `PositiveOrdered`, `CholeskyFactorCorr`,
/// `CholeskyFactorCov` and `SumToZero` are Stan's `ordered`, `positive_ordered`,
/// `cholesky_factor_corr`, `cholesky_factor_cov` and `sum_to_zero_vector` (their formulas are
/// on the variants); parameter-dependent bounds are [`crate::bounded`].
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
    /// ℝⁿ → strictly increasing vectors (Stan's `ordered`): `x₁ = y₁`,
    /// `xₖ = xₖ₋₁ + e^{yₖ}`. The Jacobian is lower triangular with diagonal
    /// `(1, e^{y₂}, …, e^{yₙ})`, so `ln |det J| = Σ_{k≥2} yₖ`.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::Bijector;
    /// let tape = Tape::new();
    /// let y = tape.tensor(&ndarray::array![-1.0, 0.0, 2.0f64.ln()]);
    /// assert_eq!(Bijector::Ordered.forward(y)?.to_vec(), vec![-1.0, 0.0, 2.0]);
    /// assert!((Bijector::Ordered.log_abs_det_jacobian(y)?.value() - 2.0f64.ln()).abs() < 1e-15);
    /// let back = Bijector::Ordered.inverse(&[-1.0, 0.0, 2.0])?;
    /// assert!((back[2] - 2.0f64.ln()).abs() < 1e-15);
    /// assert!(Bijector::Ordered.inverse(&[1.0, 1.0]).is_err()); // not strictly increasing
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// Stan Reference Manual, "Constraint Transforms", "Ordered vector".
    Ordered,
    /// ℝⁿ → strictly increasing vectors of positive numbers (Stan's `positive_ordered`):
    /// `x₁ = e^{y₁}`, `xₖ = xₖ₋₁ + e^{yₖ}`; `ln |det J| = Σₖ yₖ`.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::Bijector;
    /// let tape = Tape::new();
    /// let y = tape.tensor(&ndarray::array![0.0, 0.0]);
    /// assert_eq!(Bijector::PositiveOrdered.forward(y)?.to_vec(), vec![1.0, 2.0]);
    /// assert!(Bijector::PositiveOrdered.inverse(&[0.0, 1.0]).is_err()); // 0 is not positive
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// Stan Reference Manual, "Constraint Transforms", "Positive ordered vector".
    PositiveOrdered,
    /// ℝᴷ⁽ᴷ⁻¹⁾ᐟ² → K×K Cholesky factors of correlation matrices (Stan's
    /// `cholesky_factor_corr[K]`): lower triangular, positive diagonal, rows of unit
    /// Euclidean norm (so `L Lᵀ` has a unit diagonal). Row-major K×K output.
    ///
    /// The unconstrained vector fills the strictly lower triangle row by row
    /// (`y₁₀, y₂₀, y₂₁, y₃₀, …`); `zᵢⱼ = tanh yᵢⱼ` are canonical partial correlations, and
    /// row `i` is built left to right from the squared norm still free:
    /// `wᵢ₀ = zᵢ₀`, `wᵢⱼ = zᵢⱼ √(1 − Σ_{k<j} wᵢₖ²)`, `wᵢᵢ = √(1 − Σ_{k<i} wᵢₖ²)`, `w₀₀ = 1`.
    /// Since `1 − Σ_{k<j} wᵢₖ² = Π_{k<j} (1 − zᵢₖ²) = Π_{k<j} sech² yᵢₖ`, every entry is
    /// formed as `tanh yᵢⱼ · exp(Σ_{k<j} ln sech yᵢₖ)`, with no cancellation.
    ///
    /// The Jacobian onto the strictly-lower entries is triangular (row by row, left to
    /// right) with diagonal `sech² yᵢⱼ · √(Π_{k<j} sech² yᵢₖ)`, so
    /// `ln |det J| = Σ_{i>j} [2 ln sech yᵢⱼ + Σ_{k<j} ln sech yᵢₖ] = Σ_{i>j} (i − j + 1) ln sech yᵢⱼ`
    /// (0-based `i`, `j`), the Stan manual's expression collected per coordinate.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::{Bijector, Constraint};
    /// let tape = Tape::new();
    /// let y = tape.tensor(&ndarray::array![0.5, -1.0, 2.0]); // K = 3
    /// let l = Bijector::CholeskyFactorCorr.forward(y)?;
    /// assert_eq!(l.dims(), &[3, 3]);
    /// let l = l.to_vec();
    /// assert!((l[3] - 0.5f64.tanh()).abs() < 1e-15); // w₁₀ = tanh y₁₀
    /// assert!(Constraint::CholeskyFactorCorr.check_event(&l));
    /// let back = Bijector::CholeskyFactorCorr.inverse(&l)?;
    /// assert!((back[2] - 2.0).abs() < 1e-12);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// Stan Reference Manual, "Constraint Transforms", "Cholesky factors of correlation
    /// matrices"; Lewandowski, Kurowicka & Joe (2009), *Generating random correlation
    /// matrices based on vines and extended onion method*, J. Multivariate Anal. 100.
    CholeskyFactorCorr,
    /// ℝ^{c(c+1)/2 + (r−c)c} → `rows`×`cols` (r ≥ c) lower-trapezoidal matrices with a
    /// positive diagonal (Stan's `cholesky_factor_cov[rows, cols]`), row-major. The first
    /// c(c+1)/2 coordinates fill the top c×c block exactly as [`Bijector::LowerCholesky`]
    /// (which this reuses: for `rows == cols` the two are the same map); the remaining
    /// (r − c)·c coordinates are the bottom rows, unchanged. `ln |det J|` = Σ of the
    /// diagonal's `y`.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::Bijector;
    /// let tape = Tape::new();
    /// let b = Bijector::CholeskyFactorCov { rows: 3, cols: 2 };
    /// assert_eq!(b.unconstrained_len(6)?, 5);
    /// let y = tape.tensor(&ndarray::array![0.0, 0.5, 1.0, -2.0, 3.0]);
    /// let x = b.forward(y)?;
    /// assert_eq!(x.dims(), &[3, 2]);
    /// let e = f64::exp;
    /// assert_eq!(x.to_vec(), vec![1.0, 0.0, 0.5, e(1.0), -2.0, 3.0]);
    /// assert_eq!(b.log_abs_det_jacobian(y)?.value(), 1.0);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// Stan Reference Manual, "Constraint Transforms", "Cholesky factors of covariance
    /// matrices".
    CholeskyFactorCov {
        /// Number of rows M (≥ `cols`).
        rows: usize,
        /// Number of columns N (≥ 1).
        cols: usize,
    },
    /// ℝᴺ → vectors of length N+1 summing to 0 (Stan 2.36's `sum_to_zero_vector`), by Stan's
    /// isometric transform: `x = V y` with the orthonormal Helmert-like columns
    /// `vₙ = (1, …, 1, −n, 0, …, 0)/√(n(n+1))` (n ones), evaluated in O(N) as
    /// `x₀ = Σ_{n≥1} wₙ`, `xⱼ = Σ_{n>j} wₙ − j wⱼ`, `wₙ = yₙ₋₁/√(n(n+1))`.
    ///
    /// The map is linear and an isometry onto the hyperplane Σx = 0 (`VᵀV = I`), so its
    /// volume factor √det(JᵀJ) is 1 and `ln |det J|` is **0**, as Stan treats it ("a linear
    /// transform, with no Jacobian"). (The determinant of the map onto the first N
    /// coordinates alone is the constant `(N+1)^{−1/2}`; constants do not change a
    /// posterior.) The inverse is `y = Vᵀ x`.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Tape;
    /// use infer_dist::Bijector;
    /// let tape = Tape::new();
    /// let y = tape.tensor(&ndarray::array![2.0f64.sqrt()]);
    /// let x = Bijector::SumToZero.forward(y)?.to_vec();
    /// assert!((x[0] - 1.0).abs() < 1e-15 && (x[1] + 1.0).abs() < 1e-15);
    /// assert_eq!(Bijector::SumToZero.log_abs_det_jacobian(y)?.value(), 0.0);
    /// assert!(Bijector::SumToZero.inverse(&[1.0, 1.0]).is_err()); // does not sum to 0
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    ///
    /// # References
    /// Stan Reference Manual 2.36, "Constraint Transforms", "Zero sum vector"; Stan Math
    /// `sum_to_zero_constrain`; Egozcue et al. (2003), *Isometric logratio transformations
    /// for compositional data analysis*, Math. Geol. 35.
    SumToZero,
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

/// `x` itself when every element is finite, else [`DistError::OutsideSupport`] naming the
/// first offending element (an image formed by sums that left the range of f64).
fn finite_image<'t>(what: &'static str, x: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
    match x.to_vec().into_iter().find(|v| !v.is_finite()) {
        Some(v) => Err(outside(
            what,
            v,
            "the image at this point is beyond the range of f64",
        )),
        None => Ok(x),
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
