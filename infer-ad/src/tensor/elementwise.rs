//! Elementwise operations: maps with a derivative ([`Tensor::map_with_derivative`] and the
//! crate's own functions), linear maps, and binary operations with NumPy broadcasting.

use super::Tensor;
use crate::error::AdError;
use crate::scalar as s;
use crate::shape::Shape;
use crate::tape::{Inner, Node, check_same_tape};

impl<'t> Tensor<'t> {
    /// Applies `f` elementwise, where `f` returns `(value, derivative)`: one fused node.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![1.0, 2.0]);
    /// let cube = t.map_with_derivative(|x| (x * x * x, 3.0 * x * x));
    /// cube.sum().backward();
    /// assert_eq!(t.grad().as_slice().unwrap(), &[3.0, 12.0]);
    /// ```
    pub fn map_with_derivative(self, f: impl Fn(f64) -> (f64, f64)) -> Tensor<'t> {
        // `f` is user code: run it on the recording moved out of the tape.
        self.map_impl(f, true)
    }

    /// [`Tensor::map_with_derivative`] for a crate-internal derivative function (which never
    /// touches a tape, so it may run while the recording is borrowed).
    #[inline]
    pub(crate) fn map_internal(self, f: impl Fn(f64) -> (f64, f64)) -> Tensor<'t> {
        self.map_impl(f, false)
    }

    #[inline(always)]
    fn map_impl(self, f: impl Fn(f64) -> (f64, f64), user: bool) -> Tensor<'t> {
        let n = self.numel();
        let tape = self.tape;
        let body = |g: &mut Inner| {
            let out = g.next_slot();
            let a = self.start as usize;
            if !self.tracked {
                for i in 0..n {
                    let v = f(g.vals[a + i]).0;
                    g.vals.push(v);
                }
                return Tensor::from_slot(tape, out, self.shape, false);
            }
            let p = g.f.len();
            g.f.resize(p + n, 0.0);
            g.vals.resize(out as usize + n, 0.0);
            {
                let Inner { vals, f: parts, .. } = &mut *g;
                let (inp, outp) = vals.split_at_mut(out as usize);
                let inp = &inp[a..a + n];
                let parts = &mut parts[p..p + n];
                for i in 0..n {
                    let (v, d) = f(inp[i]);
                    outp[i] = v;
                    parts[i] = d;
                }
            }
            g.push_node(Node::Elem {
                out,
                a: self.start,
                n: n as u32,
                p: p as u32,
                s: 1,
            });
            Tensor::from_slot(tape, out, self.shape, true)
        };
        if user {
            tape.with_detached(body)
        } else {
            // reads only `self` (deferred values elsewhere stay deferred)
            body(&mut tape.inner_reading(self.start, n))
        }
    }

    /// Elementwise `f(self, other)` with broadcasting, where `f` returns
    /// `(value, ∂/∂self, ∂/∂other)`: the building block for custom binary functions.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::ShapeMismatch`] when the shapes do not broadcast;
    /// [`AdError::TooManyElements`] or [`AdError::OutOfMemory`] when the tape cannot hold
    /// the broadcast result.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![1.0, 2.0]);
    /// let b = tape.tensor(&ndarray::array![3.0, 4.0]);
    /// let p = a.zip_with_derivative(b, |x, y| (x * y, y, x))?;
    /// assert_eq!(p.to_vec(), vec![3.0, 8.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn zip_with_derivative(
        self,
        other: Tensor<'t>,
        f: impl Fn(f64, f64) -> (f64, f64, f64),
    ) -> Result<Tensor<'t>, AdError> {
        // a user-supplied `f` runs on the recording moved out of the tape
        binary_impl(self, other, "zip_with_derivative", f, true)
    }

    /// Elementwise `self ⊕ c` for a linear op with constant partial `c` on `self`.
    fn linear(self, value: impl Fn(f64) -> f64, c: f64) -> Tensor<'t> {
        let n = self.numel();
        let mut g = self.tape.inner_reading(self.start, n);
        let out = g.next_slot();
        let a = self.start as usize;
        for i in 0..n {
            let v = value(g.vals[a + i]);
            g.vals.push(v);
        }
        if self.tracked {
            g.push_node(Node::Lin {
                out,
                a: self.start,
                n: n as u32,
                s: 1,
                c,
            });
        }
        Tensor::from_slot(self.tape, out, self.shape, self.tracked)
    }

    /// Adds a constant.
    pub fn add_scalar(self, c: f64) -> Tensor<'t> {
        self.linear(|x| x + c, 1.0)
    }

    /// Multiplies by a constant.
    pub fn scale(self, c: f64) -> Tensor<'t> {
        self.linear(|x| x * c, c)
    }

    /// xⁿ elementwise.
    pub fn powi(self, n: i32) -> Tensor<'t> {
        self.map_internal(|x| s::d_powi(x, n))
    }

    /// xᵖ elementwise for a constant p.
    pub fn powf(self, p: f64) -> Tensor<'t> {
        self.map_internal(|x| s::d_powf(x, p))
    }

    /// Clamps elementwise to `[lo, hi]`; zero gradient outside.
    pub fn clamp(self, lo: f64, hi: f64) -> Tensor<'t> {
        self.map_internal(|x| s::d_clamp(x, lo, hi))
    }

    /// Elementwise xʸ with broadcasting.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::ShapeMismatch`] when the shapes do not broadcast.
    pub fn pow(self, y: Tensor<'t>) -> Result<Tensor<'t>, AdError> {
        binary(self, y, "pow", s::d_pow)
    }

    /// Elementwise minimum with broadcasting (ties: gradient to `self`).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::ShapeMismatch`] when the shapes do not broadcast.
    pub fn minimum(self, o: Tensor<'t>) -> Result<Tensor<'t>, AdError> {
        binary(self, o, "minimum", s::d_min)
    }

    /// Elementwise maximum with broadcasting (ties: gradient to `self`).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::ShapeMismatch`] when the shapes do not broadcast.
    pub fn maximum(self, o: Tensor<'t>) -> Result<Tensor<'t>, AdError> {
        binary(self, o, "maximum", s::d_max)
    }
}

/// Checks that `a` and `b` share a tape and broadcasts them to a common shape in place;
/// afterwards each is either the full shape or a single element (stride 0). Returns the
/// shape. In place rather than returning the two tensors, which the compiler copies field by
/// field on every operation.
#[inline(always)]
pub(crate) fn align<'t>(
    a: &mut Tensor<'t>,
    b: &mut Tensor<'t>,
    op: &'static str,
) -> Result<Shape, AdError> {
    check_same_tape(op, a.tape, b.tape)?;
    let shape = match a.shape.broadcast(&b.shape) {
        Ok(s) => s,
        Err(AdError::ShapeMismatch { .. }) => return Err(AdError::mismatch(op, a.shape, b.shape)),
        Err(e) => return Err(e),
    };
    fit(a, shape)?;
    fit(b, shape)?;
    Ok(shape)
}

/// Broadcasts `t` to `shape` (to which it broadcasts) unless it already has `shape`'s size or
/// is a single element, which the kernels read with stride 0.
#[inline(always)]
pub(crate) fn fit(t: &mut Tensor<'_>, shape: Shape) -> Result<(), AdError> {
    let m = t.numel();
    if m != shape.numel() && m != 1 {
        *t = t.broadcast_to(shape)?;
    }
    Ok(())
}

/// Elementwise binary operation with a crate-internal derivative function (which never touches
/// a tape, so it may run while the recording is borrowed).
pub(crate) fn binary<'t>(
    a: Tensor<'t>,
    b: Tensor<'t>,
    op: &'static str,
    f: impl Fn(f64, f64) -> (f64, f64, f64),
) -> Result<Tensor<'t>, AdError> {
    binary_impl(a, b, op, f, false)
}

/// [`binary`]; with `user`, `f` is user-supplied and runs on the recording moved out of the
/// tape (it may record on the tape itself).
#[inline(always)]
fn binary_impl<'t>(
    a: Tensor<'t>,
    b: Tensor<'t>,
    op: &'static str,
    f: impl Fn(f64, f64) -> (f64, f64, f64),
    user: bool,
) -> Result<Tensor<'t>, AdError> {
    let (mut a, mut b) = (a, b);
    let shape = align(&mut a, &mut b, op)?;
    let n = shape.numel();
    let sa = usize::from(a.numel() == n);
    let sb = usize::from(b.numel() == n);
    let tape = a.tape;
    let body = |g: &mut Inner| {
        let tracked = a.tracked || b.tracked;
        let parts = (usize::from(a.tracked) + usize::from(b.tracked)) * n;
        g.reserve(op, n, parts, 0, shape.dims())?;
        let out = g.next_slot();
        let (ia, ib) = (a.start as usize, b.start as usize);
        if !tracked {
            for i in 0..n {
                let v = f(g.vals[ia + i * sa], g.vals[ib + i * sb]).0;
                g.vals.push(v);
            }
            return Ok(Tensor::from_slot(tape, out, shape, false));
        }
        let pa = g.f.len();
        let pb = pa + if a.tracked { n } else { 0 };
        let pend = pb + if b.tracked { n } else { 0 };
        g.f.resize(pend, 0.0);
        for i in 0..n {
            let (v, da, db) = f(g.vals[ia + i * sa], g.vals[ib + i * sb]);
            g.vals.push(v);
            if a.tracked {
                g.f[pa + i] = da;
            }
            if b.tracked {
                g.f[pb + i] = db;
            }
        }
        if a.tracked {
            g.push_node(Node::Elem {
                out,
                a: a.start,
                n: n as u32,
                p: pa as u32,
                s: sa as u32,
            });
        }
        if b.tracked {
            g.push_node(Node::Elem {
                out,
                a: b.start,
                n: n as u32,
                p: pb as u32,
                s: sb as u32,
            });
        }
        Ok(Tensor::from_slot(tape, out, shape, true))
    };
    if user {
        tape.with_detached(body)
    } else {
        // reads only `a` and `b` (deferred values elsewhere stay deferred)
        body(&mut tape.inner_reading_both((a.start, a.numel()), (b.start, b.numel())))
    }
}
