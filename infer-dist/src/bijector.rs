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
use infer_ad::{AdError, Tensor, Var};

mod bounds;
mod cholesky;
mod ordered;
mod simplex;
mod sum_to_zero;

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
            Bijector::Ordered => "Ordered",
            Bijector::PositiveOrdered => "PositiveOrdered",
            Bijector::CholeskyFactorCorr => "CholeskyFactorCorr",
            Bijector::CholeskyFactorCov { .. } => "CholeskyFactorCov",
            Bijector::SumToZero => "SumToZero",
        }
    }

    /// Checks the bounds of `ShiftedExp` and `ScaledSigmoid` (finite, `low < high`) and the
    /// shape of `CholeskyFactorCov` (`rows ≥ cols ≥ 1`).
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
            Bijector::CholeskyFactorCov { cols: 0, .. } => bad("cols", 0.0, "must be at least 1"),
            Bijector::CholeskyFactorCov { rows, cols } if rows < cols => {
                bad("rows", rows as f64, "must be at least cols")
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
        matches!(
            self,
            Bijector::Identity
                | Bijector::Exp
                | Bijector::ShiftedExp { .. }
                | Bijector::ScaledSigmoid { .. }
                | Bijector::Sigmoid
        )
    }

    /// Number of unconstrained coordinates for a constrained value of `constrained_len`
    /// elements: the same for elementwise transforms and the ordered vectors, `K − 1` for a
    /// K-simplex and a sum-to-zero K-vector, `n(n+1)/2` for an n×n Cholesky factor
    /// (`constrained_len = n²`), `K(K−1)/2` for a K×K correlation Cholesky factor,
    /// `c(c+1)/2 + (r−c)c` for `CholeskyFactorCov { rows: r, cols: c }`.
    ///
    /// # Errors
    /// [`DistError::InvalidLength`] for an empty simplex, sum-to-zero vector or correlation
    /// factor, a length that is not a square, or a `CholeskyFactorCov` length other than
    /// `rows · cols`; [`DistError::InvalidParameter`] for a `CholeskyFactorCov` shape with
    /// `rows < cols` or `cols = 0`.
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
            Bijector::SumToZero => sum_to_zero::unconstrained_len(constrained_len),
            Bijector::CholeskyFactorCorr => cholesky::corr_unconstrained_len(constrained_len),
            Bijector::CholeskyFactorCov { rows, cols } => {
                self.validate()?;
                cholesky::cov_unconstrained_len(*rows, *cols, constrained_len)
            }
            Bijector::Identity
            | Bijector::Exp
            | Bijector::ShiftedExp { .. }
            | Bijector::ScaledSigmoid { .. }
            | Bijector::Sigmoid
            | Bijector::Ordered
            | Bijector::PositiveOrdered => Ok(constrained_len),
        }
    }

    /// Number of constrained elements produced from `unconstrained_len` coordinates: the
    /// inverse of [`Bijector::unconstrained_len`].
    ///
    /// # Errors
    /// [`DistError::InvalidLength`] when `unconstrained_len` is not a triangular number
    /// (`LowerCholesky`, `CholeskyFactorCorr`) or not the length of the `CholeskyFactorCov`
    /// shape; [`DistError::InvalidParameter`] for an invalid `CholeskyFactorCov` shape.
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
            Bijector::SumToZero => Ok(unconstrained_len + 1),
            Bijector::CholeskyFactorCorr => cholesky::corr_constrained_len(unconstrained_len),
            Bijector::CholeskyFactorCov { rows, cols } => {
                self.validate()?;
                cholesky::cov_constrained_len(*rows, *cols, unconstrained_len)
            }
            Bijector::Identity
            | Bijector::Exp
            | Bijector::ShiftedExp { .. }
            | Bijector::ScaledSigmoid { .. }
            | Bijector::Sigmoid
            | Bijector::Ordered
            | Bijector::PositiveOrdered => Ok(unconstrained_len),
        }
    }

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
    /// [`DistError::Ad`] wrapping [`AdError::WrongRank`] when a non-elementwise transform
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
