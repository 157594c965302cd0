//! Private helpers shared by the families: parameter validation, shapes, broadcasting of plain
//! values, and the noise/array plumbing of samplers.

use crate::DistError;
use infer_ad::{Shape, Tape, Tensor};
use ndarray::{ArrayD, IxDyn};

/// Checks every element of `t` with `ok`; the first failure is reported with its value.
#[inline]
pub(crate) fn check(
    dist: &'static str,
    param: &'static str,
    t: Tensor<'_>,
    ok: impl Fn(f64) -> bool,
    reason: &'static str,
) -> Result<(), DistError> {
    let n = t.numel();
    if n == 1 {
        // A scalar parameter: read it directly (the common case, e.g. `Normal::new(0, 5)`).
        let v = t.flat(0)?.value();
        return if ok(v) {
            Ok(())
        } else {
            Err(invalid(dist, param, v, reason))
        };
    }
    // Small arrays are read into a stack buffer (no allocation per construction).
    const CHUNK: usize = 16;
    if n <= CHUNK {
        let mut stack = [0.0f64; CHUNK];
        t.value_into(&mut stack[..n]);
        return check_values(dist, param, &stack[..n], ok, reason);
    }
    check_values(dist, param, &t.to_vec(), ok, reason)
}

#[inline(always)]
fn check_values(
    dist: &'static str,
    param: &'static str,
    vals: &[f64],
    ok: impl Fn(f64) -> bool,
    reason: &'static str,
) -> Result<(), DistError> {
    match vals.iter().find(|&&v| !ok(v)) {
        None => Ok(()),
        Some(&v) => Err(invalid(dist, param, v, reason)),
    }
}

#[cold]
#[inline(never)]
fn invalid(dist: &'static str, param: &'static str, value: f64, reason: &'static str) -> DistError {
    DistError::InvalidParameter {
        dist,
        param,
        value,
        reason,
    }
}

/// A finite, strictly positive number.
pub(crate) fn positive(x: f64) -> bool {
    x > 0.0 && x.is_finite()
}

/// A finite number.
pub(crate) fn finite(x: f64) -> bool {
    x.is_finite()
}

/// A probability in [0, 1].
pub(crate) fn prob(x: f64) -> bool {
    (0.0..=1.0).contains(&x)
}

pub(crate) const POSITIVE: &str = "must be finite and > 0";
pub(crate) const FINITE: &str = "must be finite";
pub(crate) const PROB: &str = "must be a probability in [0, 1]";

/// The broadcast shape of the parameters.
#[inline]
pub(crate) fn batch(dist: &'static str, params: &[Tensor<'_>]) -> Result<Shape, DistError> {
    let mut shape = Shape::SCALAR;
    for p in params {
        shape = shape
            .broadcast(&p.shape())
            .map_err(|_| DistError::ShapeMismatch {
                dist,
                what: "parameters",
                left: shape,
                right: p.shape(),
            })?;
    }
    Ok(shape)
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

/// An array of `shape` holding `data` (row-major).
pub(crate) fn array(shape: Shape, data: Vec<f64>) -> Result<ArrayD<f64>, DistError> {
    let len = data.len();
    ArrayD::from_shape_vec(IxDyn(shape.dims()), data)
        .map_err(|_| DistError::Ad(infer_ad::AdError::LengthMismatch { shape, len }))
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
    use rand::Rng;
    (0..n)
        .map(|_| rng.sample::<f64, _>(rand_distr::StandardNormal))
        .collect()
}

/// `n` uniform draws in the open interval (0, 1).
pub(crate) fn uniforms(rng: &mut dyn rand::RngCore, n: usize) -> Vec<f64> {
    use rand::Rng;
    (0..n)
        .map(|_| rng.sample::<f64, _>(rand_distr::OpenClosed01))
        .map(|u| {
            if u >= 1.0 {
                1.0 - f64::EPSILON / 2.0
            } else {
                u
            }
        })
        .collect()
}

/// The value's elements are in the family's support, for elementwise constraints.
#[inline]
pub(crate) fn neg_inf<const K: usize>() -> (f64, [f64; K]) {
    (f64::NEG_INFINITY, [0.0; K])
}

/// Elementwise log density through one fused node: `inputs[0]` is the value, the rest the
/// parameters; `f` returns the value and the K partials.
pub(crate) fn lp_map<'t, const K: usize>(
    dist: &'static str,
    batch: Shape,
    inputs: [Tensor<'t>; K],
    f: impl Fn([f64; K]) -> (f64, [f64; K]),
) -> Result<Tensor<'t>, DistError> {
    value_shape(dist, inputs[0].shape(), batch)?;
    Ok(inputs[0].tape().fused_map(inputs, |_, a| f(a))?)
}

/// Σ of the elementwise log density through one fused reduction node.
pub(crate) fn lp_sum<'t, const K: usize>(
    dist: &'static str,
    batch: Shape,
    inputs: [Tensor<'t>; K],
    f: impl Fn([f64; K]) -> (f64, [f64; K]),
) -> Result<infer_ad::Var<'t>, DistError> {
    value_shape(dist, inputs[0].shape(), batch)?;
    Ok(inputs[0].tape().fused_sum(inputs, |_, a| f(a))?)
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

/// The trait items every family shares.
macro_rules! common_items {
    ($name:expr, $fam:ident, [$($p:ident),*]) => {
        fn name(&self) -> &'static str {
            $name
        }
        fn batch_shape(&self) -> infer_ad::Shape {
            self.batch
        }
        fn family(&self) -> $crate::Family<'_, 't> {
            $crate::Family::$fam(self)
        }
        fn params(&self) -> Vec<(&'static str, infer_ad::Tensor<'t>)> {
            vec![$((stringify!($p), self.$p)),*]
        }
    };
}
pub(crate) use common_items;

/// `as_reparameterizable` for a family that implements [`crate::Reparameterizable`].
macro_rules! reparameterizable {
    () => {
        fn as_reparameterizable(&self) -> Option<&dyn $crate::Reparameterizable<'t>> {
            Some(self)
        }
    };
}
pub(crate) use reparameterizable;

/// Accessors for the parameters, named as PyTorch names them.
macro_rules! accessors {
    ($($p:ident),*) => {
        $(
            #[doc = concat!("The `", stringify!($p), "` parameter, as given to the constructor.")]
            pub fn $p(&self) -> infer_ad::Tensor<'t> {
                self.$p
            }
        )*
    };
}
pub(crate) use accessors;
