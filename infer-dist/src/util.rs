//! Private helpers shared by the families: parameter validation ([`check`]), shapes,
//! broadcasting of plain values, the noise/array plumbing of samplers, and the fused log
//! density nodes.

use crate::DistError;
use infer_ad::{Operand, Shape, Tape, Tensor};
use ndarray::{ArrayD, IxDyn};

mod check;

pub(crate) use check::{
    Check, FINITE, POSITIVE, PROB, ROW_TOTALS, check_param, check_row_sums, finite, param_batch,
    positive, prob, probs_or_logits, split_categories, split_last,
};

/// The support [0, ∞).
pub(crate) const NON_NEGATIVE: crate::Constraint = crate::Constraint::GreaterThanEq(0.0);

/// Checks that every handle in `ts` is recorded on the tape of the first: a handle indexes slots
/// of its own tape, so combining handles of two tapes would read the wrong values (or panic in
/// the tape's fused operations). The constructors check it through [`batch`], and the families
/// whose own log density combines handles with operators (Categorical, Dirichlet,
/// MultivariateNormal) directly; the log densities and cdfs of [`lp_map`] and [`lp_sum`] rely
/// on the tape's fused operations, which check their operands themselves.
#[inline]
pub(crate) fn same_tape(dist: &'static str, ts: &[Tensor<'_>]) -> Result<(), DistError> {
    if let Some((first, rest)) = ts.split_first() {
        for t in rest {
            infer_ad::check_same_tape(dist, first.tape(), t.tape())?;
        }
    }
    Ok(())
}

/// The shape of `log_prob(value)`: the broadcast of the value's shape and the batch shape.
#[inline]
pub(crate) fn value_shape(
    dist: &'static str,
    value: Shape,
    batch: Shape,
) -> Result<Shape, DistError> {
    value
        .broadcast(&batch)
        .map_err(|_| DistError::ShapeMismatch {
            dist,
            what: "value and batch shape",
            left: value,
            right: batch,
        })
}

/// The values of `t` broadcast to `shape` (plain f64, nothing recorded). `t.shape()` must
/// broadcast to `shape`.
pub(crate) fn bvals(t: Tensor<'_>, shape: Shape) -> Vec<f64> {
    let src = t.to_vec();
    broadcast_slice(&src, t.shape(), shape)
}

/// The values of a parameter broadcast to `shape` (plain f64, nothing recorded).
pub(crate) fn param_bvals(p: &crate::Param<'_>, shape: Shape) -> Vec<f64> {
    match p {
        crate::Param::Tensor(t) => bvals(*t, shape),
        // a constant's shape broadcasts to `shape` (checked by `param_batch`)
        other => {
            let src = other.to_vec();
            let from = other.shape().unwrap_or(shape);
            broadcast_slice(&src, from, shape)
        }
    }
}

/// Broadcasts row-major `src` of shape `from` to shape `to`.
pub(crate) fn broadcast_slice(src: &[f64], from: Shape, to: Shape) -> Vec<f64> {
    let n = to.numel();
    if from == to {
        return src.to_vec();
    }
    if src.len() == 1 {
        return vec![src[0]; n];
    }
    let nd = to.ndim();
    let off = nd - from.ndim();
    let fs = from.strides();
    let ts = to.strides();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let mut j = 0;
        for k in off..nd {
            let coord = (i / ts[k]) % to.dims()[k];
            if from.dims()[k - off] != 1 {
                j += coord * fs[k - off];
            }
        }
        out.push(src[j]);
    }
    out
}

/// The least element of `t` (+∞ for none): the lower end of a support's hull.
pub(crate) fn lowest(t: Tensor<'_>) -> f64 {
    t.to_vec().into_iter().fold(f64::INFINITY, f64::min)
}

/// The greatest element of `t` (−∞ for none): the upper end of a support's hull.
pub(crate) fn highest(t: Tensor<'_>) -> f64 {
    t.to_vec().into_iter().fold(f64::NEG_INFINITY, f64::max)
}

/// An array of `shape` holding `data` (row-major).
pub(crate) fn array(shape: Shape, data: Vec<f64>) -> Result<ArrayD<f64>, DistError> {
    let len = data.len();
    ArrayD::from_shape_vec(IxDyn(shape.dims()), data)
        .map_err(|_| DistError::Ad(infer_ad::AdError::LengthMismatch { shape, len }))
}

/// The draws of a sampler as an array of `shape`.
///
/// # Errors
/// [`DistError::Sampling`] when a draw is ±∞: the exact draw exceeds the range of f64 (e.g. a
/// Student t with df = 1e-300, whose draws are ~10^(10^300)), which no finite number
/// represents, and ±∞ is outside every family's support.
pub(crate) fn draws(
    dist: &'static str,
    shape: Shape,
    data: Vec<f64>,
) -> Result<ArrayD<f64>, DistError> {
    if data.iter().any(|x| x.is_infinite()) {
        return Err(DistError::Sampling {
            dist,
            reason: "a draw exceeds the range of f64 at these parameters",
        });
    }
    array(shape, data)
}

/// A pathwise draw (`rsample`) checked like [`draws`].
///
/// # Errors
/// [`DistError::Sampling`] when an element is ±∞ (the exact draw exceeds the range of f64).
pub(crate) fn rdraws<'t>(dist: &'static str, t: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
    if t.any_infinite() {
        return Err(DistError::Sampling {
            dist,
            reason: "a draw exceeds the range of f64 at these parameters",
        });
    }
    Ok(t)
}

/// An untracked tensor of `shape` holding `data`.
pub(crate) fn constant<'t>(
    tape: &'t Tape,
    shape: Shape,
    data: Vec<f64>,
) -> Result<Tensor<'t>, DistError> {
    Ok(tape.constant_from_slice(shape.dims(), &data)?)
}

/// A 0-d untracked tensor.
pub(crate) fn scalar(tape: &Tape, x: f64) -> Tensor<'_> {
    tape.scalar(x)
}

/// `n` standard normal draws.
pub(crate) fn normals(rng: &mut dyn rand::RngCore, n: usize) -> Vec<f64> {
    (0..n).map(|_| normal(rng)).collect()
}

/// One standard normal draw.
#[inline]
pub(crate) fn normal(rng: &mut dyn rand::RngCore) -> f64 {
    use rand::Rng;
    rng.sample::<f64, _>(rand_distr::StandardNormal)
}

/// `n` uniform draws in the open interval (0, 1).
pub(crate) fn uniforms(rng: &mut dyn rand::RngCore, n: usize) -> Vec<f64> {
    (0..n).map(|_| uniform(rng)).collect()
}

/// One uniform draw in the open interval (0, 1).
#[inline]
pub(crate) fn uniform(rng: &mut dyn rand::RngCore) -> f64 {
    use rand::Rng;
    let u = rng.sample::<f64, _>(rand_distr::OpenClosed01);
    if u >= 1.0 {
        1.0 - f64::EPSILON / 2.0
    } else {
        u
    }
}

/// ln|x − m|, also when x − m overflows.
pub(crate) fn ln_abs_diff(x: f64, m: f64) -> f64 {
    let d = x - m;
    if d.is_finite() {
        d.abs().ln()
    } else {
        (0.5 * x - 0.5 * m).abs().ln() + std::f64::consts::LN_2
    }
}

/// a·b where a vanishing factor wins: 0·∞ = 0. For the partials of a cdf, a density (which
/// underflows to 0 far in a tail) times a factor that grows without bound there (z, x, …): the
/// exact product tends to 0, the floating-point one would be NaN at z = ±∞.
#[inline]
pub(crate) fn mul0(a: f64, b: f64) -> f64 {
    if a == 0.0 || b == 0.0 { 0.0 } else { a * b }
}

/// −∞ with zero partials: the log density at a value the family cannot produce.
#[inline]
pub(crate) fn neg_inf<const K: usize>() -> (f64, [f64; K]) {
    (f64::NEG_INFINITY, [0.0; K])
}

/// A non-negative integer (as f64): a count, a value in the support of the counting families.
#[inline]
pub(crate) fn is_count(x: f64) -> bool {
    x >= 0.0 && x.fract() == 0.0 && x.is_finite()
}

/// The log density at a value outside the support: NaN for a NaN value (NaN in, NaN out),
/// −∞ otherwise, with zero partials.
#[inline]
pub(crate) fn off_support<const K: usize>(x: f64) -> (f64, [f64; K]) {
    if x.is_nan() {
        (f64::NAN, [0.0; K])
    } else {
        neg_inf()
    }
}

/// The tape of the first tensor among `ops` (a family's parameters are tensors on it).
///
/// # Errors
/// [`DistError::Unbound`] when every operand is data (no family calls it so).
#[inline(always)]
fn ops_tape<'t>(dist: &'static str, ops: &[Operand<'_, 't>]) -> Result<&'t Tape, DistError> {
    ops.iter().find_map(|o| o.tape()).ok_or(DistError::Unbound {
        dist,
        what: "log_prob",
    })
}

/// Elementwise log density through one fused node: `inputs[0]` is the value (a tensor, or
/// data read in place), the rest the parameters; `f` returns the value and the K partials.
pub(crate) fn lp_map<'t, const K: usize>(
    dist: &'static str,
    batch: Shape,
    inputs: [Operand<'_, 't>; K],
    f: impl Fn([f64; K]) -> (f64, [f64; K]),
) -> Result<Tensor<'t>, DistError> {
    value_shape(dist, inputs[0].shape(), batch)?;
    Ok(ops_tape(dist, &inputs)?.fused_map_operands(inputs, |_, a| f(a))?)
}

/// Σ of the elementwise log density through one fused reduction node.
pub(crate) fn lp_sum<'t, const K: usize>(
    dist: &'static str,
    batch: Shape,
    inputs: [Operand<'_, 't>; K],
    f: impl Fn([f64; K]) -> (f64, [f64; K]),
) -> Result<infer_ad::Var<'t>, DistError> {
    value_shape(dist, inputs[0].shape(), batch)?;
    Ok(ops_tape(dist, &inputs)?
        .fused_sum_operands(inputs, |_, a| f(a))?
        .0)
}

/// How a kernel in *scaled form* reports its partials: the partial for operand k multiplied
/// by `σ^pow[k]`, σ being operand `by` (a scale or a rate). A location-scale family's partials
/// for μ and σ are `g(z)/σ` with `g` finite or of one sign where the partial itself overflows
/// (for a subnormal σ, 1/σ alone is +∞): summed over the values of a scalar parameter, the
/// unscaled partials could be +∞ for one value and −∞ for another — NaN, where the true sum is
/// finite or of a definite sign — while the sum of the `g(zᵢ)`, divided once, is right.
/// `pow[0]` (the value's partial, never summed) is 0.
#[derive(Clone, Copy)]
pub(crate) struct Scaled<const K: usize> {
    /// The operand that scales.
    pub by: usize,
    /// The power of σ each operand's partial is multiplied by.
    pub pow: [u8; K],
}

impl<const K: usize> Scaled<K> {
    /// Partials scaled by operand `by` to the powers `pow`.
    pub(crate) const fn new(by: usize, pow: [u8; K]) -> Self {
        Scaled { by, pow }
    }

    /// The partials `d` in scaled form divided back by σ^pow, one factor at a time (σ²
    /// underflows for σ ≲ 1e-154 where (x − μ)/σ/σ is an ordinary number): as products with
    /// 1/σ when that is a normal number (one division per element on the elementwise path,
    /// not one per factor), by division when 1/σ overflows or is subnormal.
    #[inline(always)]
    pub(crate) fn unscale(&self, s: f64, mut d: [f64; K]) -> [f64; K] {
        let r = 1.0 / s;
        let normal = r.is_normal();
        for k in 0..K {
            for _ in 0..self.pow[k] {
                d[k] = if normal { d[k] * r } else { d[k] / s };
            }
        }
        d
    }

    /// The elementwise kernel (true partials) of a kernel in scaled form.
    #[inline(always)]
    pub(crate) fn kernel(
        self,
        f: impl Fn([f64; K]) -> (f64, [f64; K]),
    ) -> impl Fn([f64; K]) -> (f64, [f64; K]) {
        move |a| {
            let (v, d) = f(a);
            (v, self.unscale(a[self.by], d))
        }
    }
}

/// The operands with every parameter detached (nothing recorded for them), and the
/// parameters' values, when every parameter is a single element and the value has more than
/// one: the case where each parameter's partial is a sum over the values.
fn scalar_params<'a, 't, const K: usize>(
    inputs: &[Operand<'a, 't>; K],
) -> Option<([Operand<'a, 't>; K], [f64; K])> {
    if inputs[0].numel() <= 1 || !inputs[1..].iter().all(|t| t.numel() == 1) {
        return None;
    }
    let mut p = [0.0; K];
    for k in 1..K {
        let mut v = [0.0];
        inputs[k].value_range_into(0, &mut v);
        p[k] = v[0];
    }
    Some((
        std::array::from_fn(|k| {
            if k == 0 {
                inputs[0]
            } else {
                inputs[k].detach()
            }
        }),
        p,
    ))
}

/// `value` (partial 1) plus the parameters with their gradients `g`, as one scalar node
/// (data operands, which get no gradient, left out).
fn with_param_grads<'t, const K: usize>(
    value: f64,
    data: infer_ad::Var<'t>,
    inputs: &[Operand<'_, 't>; K],
    g: [f64; K],
) -> Result<infer_ad::Var<'t>, DistError> {
    // entry 0 is the data sum (partial 1) in place of the value: no allocation on this
    // per-gradient path
    let grads: [[f64; 1]; K] = std::array::from_fn(|k| [if k == 0 { 1.0 } else { g[k] }]);
    let mut pairs: [(Tensor<'t>, &[f64]); K] = std::array::from_fn(|_| (data.as_tensor(), &[][..]));
    let mut len = 0;
    for k in 0..K {
        let t = if k == 0 {
            Some(data.as_tensor())
        } else {
            inputs[k].as_tensor()
        };
        if let Some(t) = t {
            pairs[len] = (t, &grads[k][..]);
            len += 1;
        }
    }
    Ok(data.tape().scalar_with_gradients(value, &pairs[..len])?)
}

/// Σ of the elementwise log density of a kernel in scaled form ([`Scaled`]): with scalar
/// parameters their partials are summed in scaled form and divided once; otherwise as
/// [`lp_sum`] with the unscaled kernel (each partial then goes to its own element).
pub(crate) fn lp_sum_scaled<'t, const K: usize>(
    dist: &'static str,
    batch: Shape,
    inputs: [Operand<'_, 't>; K],
    scaled: impl Fn([f64; K]) -> (f64, [f64; K]),
    sc: Scaled<K>,
) -> Result<infer_ad::Var<'t>, DistError> {
    if let Some((ops, p)) = scalar_params(&inputs) {
        value_shape(dist, inputs[0].shape(), batch)?;
        let (d, acc) = ops_tape(dist, &inputs)?.fused_sum_operands(ops, |_, a| scaled(a))?;
        return with_param_grads(d.value(), d, &inputs, sc.unscale(p[sc.by], acc));
    }
    lp_sum(dist, batch, inputs, sc.kernel(scaled))
}

/// Σ of the elementwise log density with the parameter-only terms hoisted, for a family whose
/// log density is `data(x, θ) + norm(θ)` (as `Normal::log_prob_sum` hoists ln σ): when every
/// parameter is a scalar, `norm` is computed once and counted n times, and `data` once per
/// element in one fused reduction node. `kernel` is the whole log density (`data + norm`, with
/// the family's exact handling of extreme values): it is used when a parameter is an array,
/// and whenever the hoisted form is not finite (a value outside the support, an overflow), so
/// that those cases are exactly as [`lp_sum_scaled`] computes them.
///
/// All three report their partials in the scaled form `sc` ([`Scaled`]): a parameter's
/// gradient is (Σ data partials + n · norm partial)/σ^pow, one division after the sum.
/// `norm` receives the same argument array as `kernel` (its entry 0, the value, is unused)
/// and returns the partials for the parameters (entry 0 ignored).
pub(crate) fn lp_sum_hoisted<'t, const K: usize>(
    dist: &'static str,
    batch: Shape,
    inputs: [Operand<'_, 't>; K],
    kernel: impl Fn([f64; K]) -> (f64, [f64; K]),
    data: impl Fn([f64; K]) -> (f64, [f64; K]),
    norm: impl Fn([f64; K]) -> (f64, [f64; K]),
    sc: Scaled<K>,
) -> Result<infer_ad::Var<'t>, DistError> {
    if let Some((ops, p)) = scalar_params(&inputs) {
        value_shape(dist, inputs[0].shape(), batch)?;
        let (c, dc) = norm(p);
        if c.is_finite() && dc[1..].iter().all(|d| d.is_finite()) {
            let tape = ops_tape(dist, &inputs)?;
            let (d, acc) = tape.fused_sum_operands(ops, |_, a| data(a))?;
            let nf = inputs[0].numel() as f64;
            let total = d.value() + nf * c;
            if total.is_finite() {
                let g = sc.unscale(p[sc.by], std::array::from_fn(|k| acc[k] + nf * dc[k]));
                return with_param_grads(total, d, &inputs, g);
            }
        }
    }
    lp_sum_scaled(dist, batch, inputs, kernel, sc)
}

/// An elementwise function of the parameters (entropy, mean, …) broadcast to the batch shape.
pub(crate) fn param_map<'t, const K: usize>(
    batch: Shape,
    inputs: [Tensor<'t>; K],
    f: impl Fn([f64; K]) -> (f64, [f64; K]),
) -> Result<Tensor<'t>, DistError> {
    let t = inputs[0].tape().fused_map(inputs, |_, a| f(a))?;
    Ok(t.broadcast_to(batch)?)
}

/// The constant `value` (±∞ or NaN: a moment that does not exist) broadcast to the batch shape,
/// on the tape of `param` with zero partials.
pub(crate) fn param_fill<'t>(
    batch: Shape,
    param: Tensor<'t>,
    value: f64,
) -> Result<Tensor<'t>, DistError> {
    param_map(batch, [param], |_| (value, [0.0]))
}

/// A moment `f()` with its partials where it is finite (`finite`), else ∞ with zero partials.
#[inline(always)]
pub(crate) fn finite_if<const K: usize>(
    finite: bool,
    f: impl FnOnce() -> (f64, [f64; K]),
) -> (f64, [f64; K]) {
    if finite {
        f()
    } else {
        (f64::INFINITY, [0.0; K])
    }
}
