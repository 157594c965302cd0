//! The arithmetic operators of tensors: with another tensor or a [`Var`] (broadcasting), with
//! an `f64` constant, and with a data array (recorded as an untracked constant).

use super::Tensor;
use super::elementwise::{align, binary};
use crate::error::AdError;
use crate::scalar as s;
use crate::shape::Shape;
use crate::tape::{Deferred, Node, Offset};
use crate::var::Var;
use ndarray::{ArrayBase, Data, Dimension};
use std::ops::{Add, Div, Mul, Neg, Sub};

/// Addition or subtraction (`sign` = ±1 on `b`) without a partials arena.
///
/// # Panics
/// As the operators: different tapes, shapes that do not broadcast, or a broadcast result the
/// tape cannot hold.
#[track_caller]
fn add_sub<'t>(a: Tensor<'t>, b: Tensor<'t>, sign: f64, op: &'static str) -> Tensor<'t> {
    let (mut a, mut b) = (a, b);
    let shape = match align(&mut a, &mut b, op) {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    };
    let n = shape.numel();
    if let Some(t) = add_to_deferred(a, b, sign, op, shape, false) {
        return t;
    }
    // `s + product`: the same values (addition commutes bit for bit)
    if sign == 1.0
        && let Some(t) = add_to_deferred(b, a, sign, op, shape, true)
    {
        return t;
    }
    let sa = usize::from(a.numel() == n);
    let sb = usize::from(b.numel() == n);
    let tape = a.tape;
    // reads only `a` and `b` (deferred values elsewhere stay deferred)
    let mut g = tape.inner_reading_both((a.start, a.numel()), (b.start, b.numel()));
    if let Err(e) = g.reserve(op, n, 0, 0, shape.dims()) {
        panic!("{e}");
    }
    let out = g.next_slot();
    let (ia, ib) = (a.start as usize, b.start as usize);
    // the outputs written into a resized buffer, with the strides constant in each loop, so
    // that the loops vectorize (the same additions as one push per element)
    let o = out as usize;
    g.vals.resize(o + n, 0.0);
    let (src, dst) = g.vals.split_at_mut(o);
    match (sa, sb) {
        (1, 1) => {
            for ((d, &x), &y) in dst.iter_mut().zip(&src[ia..ia + n]).zip(&src[ib..ib + n]) {
                *d = x + sign * y;
            }
        }
        (1, _) => {
            let y = sign * src[ib];
            for (d, &x) in dst.iter_mut().zip(&src[ia..ia + n]) {
                *d = x + y;
            }
        }
        (_, 1) => {
            let x = src[ia];
            for (d, &y) in dst.iter_mut().zip(&src[ib..ib + n]) {
                *d = x + sign * y;
            }
        }
        _ => {
            for d in dst.iter_mut() {
                *d = src[ia] + sign * src[ib];
            }
        }
    }
    if a.tracked {
        g.push_node(Node::Lin {
            out,
            a: a.start,
            n: n as u32,
            s: sa as u32,
            c: 1.0,
        });
    }
    if b.tracked {
        g.push_node(Node::Lin {
            out,
            a: b.start,
            n: n as u32,
            s: sb as u32,
            c: sign,
        });
    }
    Tensor::from_slot(tape, out, shape, a.tracked || b.tracked)
}

/// `a ± b` when `a` is a deferred data product whose values nothing has read and `b` a
/// scalar (see `tape/deferred.rs`): recorded with the same nodes as [`add_sub`] (in its
/// order: `b`'s first when `commuted`, the operator having been `b + a`), its values
/// deferred too, so that a likelihood can evaluate `X·β + α` in its own pass
/// ([`crate::Tape::deferred_affine`]). `None`, recording nothing, for any other operands.
#[track_caller]
fn add_to_deferred<'t>(
    a: Tensor<'t>,
    b: Tensor<'t>,
    sign: f64,
    op: &'static str,
    shape: Shape,
    commuted: bool,
) -> Option<Tensor<'t>> {
    let n = shape.numel();
    if b.numel() != 1 || a.numel() != n {
        return None;
    }
    let tape = a.tape;
    let mut g = tape.inner_raw();
    let p = g.deferred?;
    if p.offset.is_some() || p.out != a.start || p.m as usize != n || p.overlaps(b.start, 1) {
        return None;
    }
    if let Err(e) = g.reserve(op, n, 0, 0, shape.dims()) {
        panic!("{e}");
    }
    let out = g.next_slot();
    g.vals.resize(out as usize + n, 0.0);
    // the product is tracked (only a tracked product is deferred)
    let product = Node::Lin {
        out,
        a: a.start,
        n: n as u32,
        s: 1,
        c: 1.0,
    };
    let scalar = b.tracked.then_some(Node::Lin {
        out,
        a: b.start,
        n: n as u32,
        s: 0,
        c: sign,
    });
    if commuted {
        scalar.into_iter().for_each(|nd| g.push_node(nd));
        g.push_node(product);
    } else {
        g.push_node(product);
        scalar.into_iter().for_each(|nd| g.push_node(nd));
    }
    g.deferred = Some(Deferred {
        offset: Some(Offset {
            sum: out,
            s: b.start,
            sign,
            tracked: b.tracked,
        }),
        ..p
    });
    Some(Tensor::from_slot(tape, out, shape, true))
}

/// The operators' panic on an error of the operation (different tapes, shapes that do not
/// broadcast), reported at the caller's line.
#[track_caller]
fn expect_ok<T>(r: Result<T, AdError>) -> T {
    match r {
        Ok(x) => x,
        Err(e) => panic!("{e}"),
    }
}

impl<'t> Add for Tensor<'t> {
    type Output = Tensor<'t>;
    /// # Panics
    /// When the shapes do not broadcast (both shapes are named) or the operands live on
    /// different tapes.
    #[track_caller]
    fn add(self, o: Tensor<'t>) -> Tensor<'t> {
        add_sub(self, o, 1.0, "add")
    }
}
impl<'t> Sub for Tensor<'t> {
    type Output = Tensor<'t>;
    /// # Panics
    /// When the shapes do not broadcast (both shapes are named) or the operands live on
    /// different tapes.
    #[track_caller]
    fn sub(self, o: Tensor<'t>) -> Tensor<'t> {
        add_sub(self, o, -1.0, "sub")
    }
}
impl<'t> Mul for Tensor<'t> {
    type Output = Tensor<'t>;
    /// # Panics
    /// When the shapes do not broadcast (both shapes are named) or the operands live on
    /// different tapes.
    #[track_caller]
    fn mul(self, o: Tensor<'t>) -> Tensor<'t> {
        expect_ok(binary(self, o, "mul", s::d_mul))
    }
}
impl<'t> Div for Tensor<'t> {
    type Output = Tensor<'t>;
    /// # Panics
    /// When the shapes do not broadcast (both shapes are named) or the operands live on
    /// different tapes.
    #[track_caller]
    fn div(self, o: Tensor<'t>) -> Tensor<'t> {
        expect_ok(binary(self, o, "div", s::d_div))
    }
}
impl<'t> Neg for Tensor<'t> {
    type Output = Tensor<'t>;
    fn neg(self) -> Tensor<'t> {
        self.scale(-1.0)
    }
}

macro_rules! tensor_scalar_ops {
    ($tr:ident, $m:ident, $tc:expr, $ct:expr) => {
        impl<'t> $tr<Var<'t>> for Tensor<'t> {
            type Output = Tensor<'t>;
            #[track_caller]
            fn $m(self, v: Var<'t>) -> Tensor<'t> {
                $tr::$m(self, v.as_tensor())
            }
        }
        impl<'t> $tr<Tensor<'t>> for Var<'t> {
            type Output = Tensor<'t>;
            #[track_caller]
            fn $m(self, t: Tensor<'t>) -> Tensor<'t> {
                $tr::$m(self.as_tensor(), t)
            }
        }
        impl<'t> $tr<f64> for Tensor<'t> {
            type Output = Tensor<'t>;
            fn $m(self, c: f64) -> Tensor<'t> {
                let f: fn(Tensor<'t>, f64) -> Tensor<'t> = $tc;
                f(self, c)
            }
        }
        impl<'t> $tr<Tensor<'t>> for f64 {
            type Output = Tensor<'t>;
            fn $m(self, t: Tensor<'t>) -> Tensor<'t> {
                let f: fn(f64, Tensor<'t>) -> Tensor<'t> = $ct;
                f(self, t)
            }
        }
    };
}

tensor_scalar_ops!(Add, add, |t, c| t.add_scalar(c), |c, t| t.add_scalar(c));
tensor_scalar_ops!(Sub, sub, |t, c| t.add_scalar(-c), |c, t| t
    .scale(-1.0)
    .add_scalar(c));
tensor_scalar_ops!(Mul, mul, |t, c| t.scale(c), |c, t| t.scale(c));
tensor_scalar_ops!(Div, div, |t, c| t.scale(1.0 / c), |c, t| t.map_internal(
    |x| {
        let r = 1.0 / x;
        (c * r, -c * r * r)
    }
));

/// Operators between a tape handle and a data array (`b * &x`, `&y - mu`): the array is
/// recorded as an untracked constant on the handle's tape, and the operation broadcasts as
/// between two tensors.
macro_rules! tensor_data_ops {
    ($tr:ident, $m:ident) => {
        impl<'t, S: Data<Elem = f64>, D: Dimension> $tr<&ArrayBase<S, D>> for Tensor<'t> {
            type Output = Tensor<'t>;
            /// # Panics
            /// When the shapes do not broadcast (both shapes are named).
            #[track_caller]
            fn $m(self, a: &ArrayBase<S, D>) -> Tensor<'t> {
                $tr::$m(self, self.tape.constant(a))
            }
        }
        impl<'t, S: Data<Elem = f64>, D: Dimension> $tr<Tensor<'t>> for &ArrayBase<S, D> {
            type Output = Tensor<'t>;
            /// # Panics
            /// When the shapes do not broadcast (both shapes are named).
            #[track_caller]
            fn $m(self, t: Tensor<'t>) -> Tensor<'t> {
                $tr::$m(t.tape.constant(self), t)
            }
        }
        impl<'t, S: Data<Elem = f64>, D: Dimension> $tr<&ArrayBase<S, D>> for Var<'t> {
            type Output = Tensor<'t>;
            /// # Panics
            /// Never for a scalar and an array (a scalar broadcasts to every shape).
            #[track_caller]
            fn $m(self, a: &ArrayBase<S, D>) -> Tensor<'t> {
                $tr::$m(self.as_tensor(), a)
            }
        }
        impl<'t, S: Data<Elem = f64>, D: Dimension> $tr<Var<'t>> for &ArrayBase<S, D> {
            type Output = Tensor<'t>;
            /// # Panics
            /// Never for a scalar and an array (a scalar broadcasts to every shape).
            #[track_caller]
            fn $m(self, v: Var<'t>) -> Tensor<'t> {
                $tr::$m(self, v.as_tensor())
            }
        }
    };
}

tensor_data_ops!(Add, add);
tensor_data_ops!(Sub, sub);
tensor_data_ops!(Mul, mul);
tensor_data_ops!(Div, div);
