//! Log-sum-exp and mixtures in log space: [`Tensor::log_sum_exp`], [`Tensor::log_sum_exp_axis`],
//! the free functions [`log_sum_exp`] over scalar variables, [`log_mix`] (Stan's two-component
//! `log_mix`) and [`log_mix_weights`] (K components with simplex weights).
//!
//! Every one of them is the weighted form ln Σᵢ wᵢ e^{xᵢ} (wᵢ = 1 for the plain log-sum-exp),
//! computed shifted by the largest term that has a positive weight, m = max{xᵢ : wᵢ > 0}:
//!
//! ln Σᵢ wᵢ e^{xᵢ} = m + ln Σᵢ wᵢ e^{xᵢ − m},
//!
//! so no term overflows and the sum is at least the weight of the largest term (no ln 0 unless
//! every term vanishes). The partials are ∂/∂xᵢ = wᵢ e^{xᵢ − v} (the softmax, for unit
//! weights) and ∂/∂wᵢ = e^{xᵢ − v}, v the result. Limits, stated once for all of them:
//!
//! * a NaN term or weight gives NaN, with NaN partials;
//! * when every term with a positive weight is −∞ the result is −∞ and every partial is 0
//!   (nothing can move a −∞ sum by a finite step);
//! * when some term with a positive weight is +∞ the result is +∞; the partials are those of
//!   the limit in which the infinite terms grow together: ∂/∂xᵢ = wᵢ/k and ∂/∂wᵢ = 1/k for the
//!   infinite terms (k the total weight of the infinite terms) and 0 for the others.
//!
//! Reference: the max shift is the standard one (e.g. Stan Math's `log_sum_exp` and `log_mix`,
//! `stan/math/prim/fun/log_mix.hpp`); the code and the limits above are this crate's.

use crate::error::AdError;
use crate::fastmath;
use crate::shape::Shape;
use crate::tape::{Node, Tape, check_same_tape};
use crate::tensor::Tensor;
use crate::var::Var;

mod mix;
pub use mix::LogMixArgs;

/// The shape of ln Σ wᵢ e^{xᵢ} over one group of terms (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Lse {
    /// A finite maximum `m`: the result is `v = m + ln s`, s = Σ wᵢ e^{xᵢ − m} (≥ the
    /// largest term's weight), kept as 1/s.
    Finite { m: f64, v: f64, inv_s: f64 },
    /// Every positively weighted term is −∞ (or there is none).
    NegInf,
    /// Some positively weighted term is +∞; `k` is the total weight of those terms.
    PosInf { k: f64 },
    /// A NaN term or weight.
    Nan,
}

impl Lse {
    /// Scans `n` terms, term `i` being `x(i)` with weight `w(i)`.
    #[inline]
    fn scan(n: usize, x: impl Fn(usize) -> f64, w: impl Fn(usize) -> f64) -> Lse {
        let mut m = f64::NEG_INFINITY;
        let mut nan = false;
        for i in 0..n {
            let (xi, wi) = (x(i), w(i));
            nan |= xi.is_nan() || wi.is_nan();
            if wi > 0.0 && xi > m {
                m = xi;
            }
        }
        if nan {
            return Lse::Nan;
        }
        if m == f64::NEG_INFINITY {
            return Lse::NegInf;
        }
        if m == f64::INFINITY {
            let k = (0..n)
                .filter(|&i| x(i) == f64::INFINITY && w(i) > 0.0)
                .map(&w)
                .sum();
            return Lse::PosInf { k };
        }
        let s: f64 = (0..n)
            .filter(|&i| w(i) > 0.0)
            .map(|i| w(i) * fastmath::exp(x(i) - m))
            .sum();
        Lse::Finite {
            m,
            v: m + s.ln(),
            inv_s: 1.0 / s,
        }
    }

    /// The result.
    #[inline]
    fn value(self) -> f64 {
        match self {
            Lse::Finite { v, .. } => v,
            Lse::NegInf => f64::NEG_INFINITY,
            Lse::PosInf { .. } => f64::INFINITY,
            Lse::Nan => f64::NAN,
        }
    }

    /// ∂/∂wᵢ of the term `x` (see the module documentation); ∂/∂xᵢ is `w` times this.
    #[inline]
    fn d_weight(self, x: f64) -> f64 {
        match self {
            Lse::Finite { m, v, inv_s } => {
                // e^{x − m}/s rather than e^{x − v}: v = m + ln s is rounded to m's ulp, which
                // would cost the softmax weights relative accuracy when |m| is large. (Only a
                // term of zero weight can exceed m; if its e^{x − m} overflows, e^{x − v} is
                // the better try.)
                let e = fastmath::exp(x - m);
                if e.is_finite() {
                    e * inv_s
                } else {
                    fastmath::exp(x - v)
                }
            }
            Lse::NegInf => 0.0,
            Lse::PosInf { k } => {
                if x == f64::INFINITY {
                    1.0 / k
                } else {
                    0.0
                }
            }
            Lse::Nan => f64::NAN,
        }
    }

    /// ∂/∂xᵢ of the term `x` with weight `w`.
    #[inline]
    fn d_term(self, x: f64, w: f64) -> f64 {
        if w == 0.0 && !matches!(self, Lse::Nan) {
            // (a zero weight silences its term, even an infinite one: no 0 · ∞)
            0.0
        } else {
            w * self.d_weight(x)
        }
    }
}

/// Records ln Σ exp over the whole tensor (−∞ for an empty one); the body of
/// [`Tensor::log_sum_exp`] and of [`Tensor::logsumexp`].
pub(crate) fn record_lse(t: Tensor<'_>) -> Var<'_> {
    let n = t.numel();
    let a = t.start as usize;
    let mut g = t.tape.inner_mut();
    let x = &g.vals[a..a + n];
    let lse = Lse::scan(n, |i| x[i], |_| 1.0);
    let v = lse.value();
    let out = g.next_slot();
    g.vals.push(v);
    if t.tracked {
        g.push_red(out, t.start, n, |vals, i| lse.d_term(vals[a + i], 1.0));
    }
    Var {
        tape: t.tape,
        idx: out,
        val: v,
    }
}

/// Records ln Σ exp along `axis` (−∞ where the axis is empty); the body of
/// [`Tensor::log_sum_exp_axis`] and of [`Tensor::logsumexp_axis`].
pub(crate) fn record_lse_axis(t: Tensor<'_>, axis: usize) -> Result<Tensor<'_>, AdError> {
    if axis >= t.ndim() {
        return Err(AdError::AxisOutOfRange {
            axis,
            shape: t.shape,
        });
    }
    let d = t.dims();
    let (outer, len, inner): (usize, usize, usize) = (
        d[..axis].iter().product(),
        d[axis],
        d[axis + 1..].iter().product(),
    );
    let out_shape: Shape = t.shape.remove_axis(axis);
    let m = out_shape.numel();
    let n = t.numel();
    let a = t.start as usize;
    let mut g = t.tape.inner_mut();
    let keep = t.tracked && n > 0;
    let kept = if keep { n } else { 0 };
    g.reserve("log_sum_exp_axis", m, kept, kept, out_shape.dims())?;
    let out = g.next_slot() as usize;
    g.vals.resize(out + m, 0.0);
    let (p, idx) = (g.f.len(), g.u.len());
    if keep {
        g.f.resize(p + n, 0.0);
        g.u.resize(idx + n, 0);
    }
    // (an empty result computes nothing: no loop over the axes of an empty tensor, whose
    // other dimensions may be huge)
    for o in 0..if m == 0 { 0 } else { outer } {
        for i in 0..inner {
            let base = a + o * len * inner + i;
            let r = o * inner + i;
            let x = &g.vals;
            let lse = Lse::scan(len, |j| x[base + j * inner], |_| 1.0);
            g.vals[out + r] = lse.value();
            if keep {
                for j in 0..len {
                    let k = (o * len + j) * inner + i;
                    let dx = lse.d_term(g.vals[base + j * inner], 1.0);
                    g.f[p + k] = dx;
                    g.u[idx + k] = r as u32;
                }
            }
        }
    }
    if keep {
        g.push_node(Node::Group {
            out: out as u32,
            a: t.start,
            n: n as u32,
            p: p as u32,
            idx: idx as u32,
        });
    }
    Ok(Tensor::from_slot(t.tape, out as u32, out_shape, t.tracked))
}

impl<'t> Tensor<'t> {
    /// ln Σᵢ exp(xᵢ) over all elements, computed stably (shifted by the largest element), as
    /// one node; its gradient is the softmax. All −∞ gives −∞ with a zero gradient; a +∞
    /// element gives +∞ (gradient shared equally by the +∞ elements); NaN propagates (see [`log_sum_exp`](crate::log_sum_exp) for the
    /// limits).
    ///
    /// [`Tensor::logsumexp`] is the same without the check for an empty tensor (it returns
    /// −∞ there).
    ///
    /// # Errors
    /// [`AdError::Empty`] for a tensor without elements: in a log density an empty sum is
    /// almost always a mis-sliced operand, and its −∞ would silently reject every draw.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.tensor(&ndarray::array![1000.0, 1000.0, f64::NEG_INFINITY]);
    /// let lse = x.log_sum_exp()?;
    /// assert!((lse.value() - (1000.0 + 2f64.ln())).abs() < 1e-12);
    /// lse.backward();
    /// assert_eq!(x.grad().iter().copied().collect::<Vec<_>>(), vec![0.5, 0.5, 0.0]);
    /// assert!(tape.tensor(&ndarray::Array1::<f64>::zeros(0)).log_sum_exp().is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn log_sum_exp(self) -> Result<Var<'t>, AdError> {
        if self.numel() == 0 {
            return Err(AdError::Empty { op: "log_sum_exp" });
        }
        Ok(record_lse(self))
    }

    /// ln Σ exp along `axis` (the axis is removed), each group computed as
    /// [`Tensor::log_sum_exp`] does, as one node.
    ///
    /// # Errors
    /// [`AdError::AxisOutOfRange`]; [`AdError::Empty`] when the axis has length 0.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.tensor(&ndarray::array![[0.0, 0.0], [f64::NEG_INFINITY, f64::NEG_INFINITY]]);
    /// let l = x.log_sum_exp_axis(1)?;
    /// assert_eq!(l.to_vec(), vec![2f64.ln(), f64::NEG_INFINITY]);
    /// l.sum().backward();
    /// assert_eq!(x.grad().iter().copied().collect::<Vec<_>>(), vec![0.5, 0.5, 0.0, 0.0]);
    /// assert!(x.log_sum_exp_axis(2).is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn log_sum_exp_axis(self, axis: usize) -> Result<Tensor<'t>, AdError> {
        if axis < self.ndim() && self.dims()[axis] == 0 {
            return Err(AdError::Empty {
                op: "log_sum_exp_axis",
            });
        }
        record_lse_axis(self, axis)
    }
}

/// ln Σᵢ exp(xᵢ) of scalar variables, computed stably, recorded as one output with one
/// backward edge per input (the softmax weights).
///
/// This and [`Tensor::log_sum_exp`], [`Tensor::log_sum_exp_axis`], [`log_mix`] and
/// [`log_mix_weights`] are all ln Σᵢ wᵢ e^{xᵢ} (wᵢ = 1 here), computed as
/// m + ln Σᵢ wᵢ e^{xᵢ − m} with m the largest term of positive weight (the usual shift, as in
/// Stan Math's `log_sum_exp` and `log_mix`), so no term overflows and the sum is never below
/// the largest term's weight. Partials: ∂/∂xᵢ = wᵢ e^{xᵢ − v}, ∂/∂wᵢ = e^{xᵢ − v} (v the
/// result). Limits:
///
/// * a NaN term or weight gives NaN, with NaN partials;
/// * when every term of positive weight is −∞, the result is −∞ and every partial is 0;
/// * when a term of positive weight is +∞, the result is +∞, and the partials are those of
///   the limit in which the infinite terms grow together: ∂/∂xᵢ = wᵢ/k and ∂/∂wᵢ = 1/k for
///   the infinite terms (k their total weight), 0 for the others.
///
/// # Errors
/// [`AdError::Empty`] for an empty slice; [`AdError::DifferentTapes`] when the variables live
/// on different tapes.
///
/// # Examples
/// ```
/// let tape = infer_ad::Tape::new();
/// let (a, b) = (tape.var(-1.0), tape.var(2.0));
/// let l = infer_ad::log_sum_exp(&[a, b])?;
/// let expect = ((-1f64).exp() + 2f64.exp()).ln();
/// assert!((l.value() - expect).abs() < 1e-15);
/// l.backward();
/// assert!((a.grad() + b.grad() - 1.0).abs() < 1e-15);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
pub fn log_sum_exp<'t>(xs: &[Var<'t>]) -> Result<Var<'t>, AdError> {
    let first = xs.first().ok_or(AdError::Empty { op: "log_sum_exp" })?;
    let tape = first.tape;
    for x in xs {
        check_same_tape("log_sum_exp", tape, x.tape)?;
    }
    let lse = Lse::scan(xs.len(), |i| xs[i].val, |_| 1.0);
    let d: Vec<f64> = xs.iter().map(|x| lse.d_term(x.val, 1.0)).collect();
    Ok(record_scalar(
        tape,
        lse.value(),
        xs.iter().map(|x| x.idx).zip(d),
    ))
}

/// Records a scalar output `v` with the backward edges `(input slot, partial)`.
fn record_scalar(tape: &Tape, v: f64, edges: impl IntoIterator<Item = (u32, f64)>) -> Var<'_> {
    let mut g = tape.inner_mut();
    let out = g.next_slot();
    g.vals.push(v);
    for (a, d) in edges {
        g.push_rec(out, a, d);
    }
    Var {
        tape,
        idx: out,
        val: v,
    }
}

/// The typed error for a mixing proportion outside [0, 1] (or NaN).
#[cold]
fn bad_proportion(op: &'static str, name: String, value: f64) -> AdError {
    AdError::InvalidArgument {
        op,
        name,
        value,
        reason: "a mixing proportion must lie in [0, 1]",
    }
}

/// ln(θ e^{lp₁} + (1 − θ) e^{lp₂}): the log density of a two-component mixture with
/// proportion θ, given each component's log density (Stan's `log_mix(theta, lp1, lp2)`).
/// Computed stably (shifted by the larger of the positively weighted log densities: no
/// overflow, no ln 0, exact `lp₂` at θ = 0 and `lp₁` at θ = 1), with the partials
///
/// ∂/∂lp₁ = θ e^{lp₁ − v}, ∂/∂lp₂ = (1 − θ) e^{lp₂ − v}, ∂/∂θ = e^{lp₁ − v} − e^{lp₂ − v}.
///
/// The operands may be scalars or tensors (see [`LogMixArgs`] for the accepted combinations):
///
/// * `θ`, `lp₁`, `lp₂` all [`Var`] (θ may also be an `f64`): a [`Var`], recorded as one
///   output with one backward edge per tracked operand;
/// * any of them a [`Tensor`]: the elementwise mixture, a [`Tensor`] of the three operands'
///   broadcast shape (θ typically a scalar proportion, `lp₁` and `lp₂` the per-observation
///   log densities of the two components), recorded as one fused elementwise node (one
///   partial per element and tracked operand). Sum it for the log likelihood.
///
/// Infinite and NaN log densities follow the rules of
/// [`log_sum_exp`](crate::log_sum_exp) (both −∞ gives −∞ with zero gradients; NaN propagates).
///
/// # Errors
/// [`AdError::InvalidArgument`] naming `theta` (or `theta[i]`, `i` the flat index into a
/// tensor θ) and its value when θ is outside [0, 1] or NaN; [`AdError::DifferentTapes`];
/// [`AdError::ShapeMismatch`] when the tensor shapes do not broadcast. A failed call records
/// nothing.
///
/// # Examples
/// ```
/// let tape = infer_ad::Tape::new();
/// let (theta, lp1, lp2) = (tape.var(0.25), tape.var(-1.0), tape.var(-3.0));
/// let l = infer_ad::log_mix(theta, lp1, lp2)?;
/// let expect = (0.25 * (-1f64).exp() + 0.75 * (-3f64).exp()).ln();
/// assert!((l.value() - expect).abs() < 1e-15);
/// assert!(infer_ad::log_mix(tape.var(1.5), lp1, lp2).is_err());
///
/// // elementwise over observations, θ broadcast
/// let a = tape.tensor(&ndarray::array![-1.0, -2.0, f64::NEG_INFINITY]);
/// let b = tape.tensor(&ndarray::array![-3.0, -2.0, -0.5]);
/// let ls = infer_ad::log_mix(theta, a, b)?;
/// assert_eq!(ls.dims(), &[3]);
/// assert!((ls.to_vec()[0] - expect).abs() < 1e-15);
/// assert!((ls.to_vec()[1] + 2.0).abs() < 1e-15);
/// assert!((ls.to_vec()[2] - (0.75f64.ln() - 0.5)).abs() < 1e-15);
/// ls.sum().backward();
/// assert!((b.grad()[[2]] - 1.0).abs() < 1e-15);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
pub fn log_mix<'t, T, L1, L2>(
    theta: T,
    lp1: L1,
    lp2: L2,
) -> Result<<(T, L1, L2) as LogMixArgs<'t>>::Output, AdError>
where
    (T, L1, L2): LogMixArgs<'t>,
{
    (theta, lp1, lp2).log_mix()
}

/// (value, ∂/∂θ, ∂/∂lp₁, ∂/∂lp₂) of one two-component mixture; θ already checked.
#[inline]
fn mix_one(th: f64, a: f64, b: f64) -> (f64, f64, f64, f64) {
    let (x, w) = ([a, b], [th, 1.0 - th]);
    let lse = Lse::scan(2, |i| x[i], |i| w[i]);
    let dth = if matches!(lse, Lse::NegInf) {
        0.0
    } else {
        weight_diff(lse, x, w)
    };
    (lse.value(), dth, lse.d_term(a, w[0]), lse.d_term(b, w[1]))
}

/// The scalar form of [`log_mix`]: θ a variable (`Ok(var)`) or a constant (`Err(value)`).
fn log_mix_scalar<'t>(
    theta: Result<Var<'t>, f64>,
    lp1: Var<'t>,
    lp2: Var<'t>,
) -> Result<Var<'t>, AdError> {
    check_same_tape("log_mix", lp1.tape, lp2.tape)?;
    if let Ok(t) = theta {
        check_same_tape("log_mix", t.tape, lp1.tape)?;
    }
    let th = match theta {
        Ok(t) => t.val,
        Err(c) => c,
    };
    if !(0.0..=1.0).contains(&th) {
        return Err(bad_proportion("log_mix", "theta".to_owned(), th));
    }
    let (v, dth, d1, d2) = mix_one(th, lp1.val, lp2.val);
    let th_edge = theta.ok().map(|t| (t.idx, dth));
    Ok(record_scalar(
        lp1.tape,
        v,
        [(lp1.idx, d1), (lp2.idx, d2)].into_iter().chain(th_edge),
    ))
}

/// ∂/∂θ = ∂/∂w₁ − ∂/∂w₂ for weights (θ, 1 − θ), as one difference of exponentials.
fn weight_diff(lse: Lse, x: [f64; 2], w: [f64; 2]) -> f64 {
    match lse {
        Lse::Finite { .. } => {
            // e^{x₁ − v} − e^{x₂ − v}, with an infinite term of zero weight kept infinite
            // (its direction is the true limit) rather than ∞ − ∞
            let (a, b) = (lse.d_weight(x[0]), lse.d_weight(x[1]));
            if a.is_infinite() && b.is_infinite() {
                if x[0] > x[1] {
                    f64::INFINITY
                } else if x[0] < x[1] {
                    f64::NEG_INFINITY
                } else {
                    0.0
                }
            } else {
                a - b
            }
        }
        _ => {
            lse.d_weight(x[0]) * f64::from(u8::from(w[0] > 0.0))
                - lse.d_weight(x[1]) * f64::from(u8::from(w[1] > 0.0))
        }
    }
}

/// Tolerance on Σ wᵢ − 1 for [`log_mix_weights`]: weights from a softmax or a stick-breaking
/// transform sum to 1 within a few ulps; 1e-8 admits any of those and rejects a vector that is
/// not meant to be a simplex.
pub const SIMPLEX_TOLERANCE: f64 = 1e-8;

/// ln Σₖ wₖ e^{lpₖ}: the log density of a K-component mixture with simplex weights `weights`
/// given each component's log density `lps` (Stan's `log_mix(theta, lambda)` for vectors).
/// Computed stably as [`log_mix`] is, recorded as one output with one node per tracked
/// operand: ∂/∂lpₖ = wₖ e^{lpₖ − v} and ∂/∂wₖ = e^{lpₖ − v}.
///
/// # Errors
/// [`AdError::DifferentTapes`]; [`AdError::ShapeMismatch`] unless both have the same shape;
/// [`AdError::Empty`] for no components; [`AdError::InvalidArgument`] naming `weights[k]` and
/// its value for a weight outside [0, 1] (or NaN), or naming `sum of weights` when
/// |Σ wₖ − 1| > [`SIMPLEX_TOLERANCE`].
///
/// # Examples
/// ```
/// let tape = infer_ad::Tape::new();
/// let w = tape.tensor(&ndarray::array![0.2, 0.3, 0.5]);
/// let lps = tape.tensor(&ndarray::array![-1.0, -2.0, -4.0]);
/// let l = infer_ad::log_mix_weights(w, lps)?;
/// let expect = (0.2 * (-1f64).exp() + 0.3 * (-2f64).exp() + 0.5 * (-4f64).exp()).ln();
/// assert!((l.value() - expect).abs() < 1e-15);
/// let bad = tape.tensor(&ndarray::array![0.2, 0.3, 0.6]);
/// assert!(infer_ad::log_mix_weights(bad, lps).is_err());
/// # Ok::<(), infer_ad::AdError>(())
/// ```
pub fn log_mix_weights<'t>(weights: Tensor<'t>, lps: Tensor<'t>) -> Result<Var<'t>, AdError> {
    const OP: &str = "log_mix_weights";
    check_same_tape(OP, weights.tape, lps.tape)?;
    if weights.shape != lps.shape {
        return Err(AdError::mismatch(OP, weights.shape, lps.shape));
    }
    let n = lps.numel();
    if n == 0 {
        return Err(AdError::Empty { op: OP });
    }
    let tape = lps.tape;
    let mut g = tape.inner_mut();
    let (wa, xa) = (weights.start as usize, lps.start as usize);
    let ws = &g.vals[wa..wa + n];
    if let Some(k) = ws.iter().position(|w| !(0.0..=1.0).contains(w)) {
        let w = ws[k];
        drop(g);
        return Err(bad_proportion(OP, format!("weights[{k}]"), w));
    }
    let total: f64 = ws.iter().sum();
    if (total - 1.0).abs() > SIMPLEX_TOLERANCE {
        return Err(AdError::InvalidArgument {
            op: OP,
            name: "sum of weights".to_owned(),
            value: total,
            reason: "simplex weights must sum to 1 (within 1e-8)",
        });
    }
    let vals = &g.vals;
    let lse = Lse::scan(n, |k| vals[xa + k], |k| vals[wa + k]);
    let v = lse.value();
    let out = g.next_slot();
    g.vals.push(v);
    for (t, is_weight) in [(lps, false), (weights, true)] {
        if !t.tracked {
            continue;
        }
        g.push_red(out, t.start, n, |vals, k| {
            let (x, w) = (vals[xa + k], vals[wa + k]);
            if is_weight {
                lse.d_weight(x)
            } else {
                lse.d_term(x, w)
            }
        });
    }
    drop(g);
    Ok(Var {
        tape,
        idx: out,
        val: v,
    })
}
