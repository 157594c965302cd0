//! Fused custom operations: an elementwise function of several broadcast operands recorded as
//! one node (or one node per tracked operand), with partials computed alongside the value.
//! This is how distributions record a log density over N observations at about the cost of
//! evaluating it.

use crate::error::AdError;
use crate::shape::Shape;
use crate::tape::{Node, Tape};
use crate::tensor::Tensor;
use crate::var::Var;

/// Aligns K operands to one broadcast shape; each is either full-size or a single element.
fn align_all<'t, const K: usize>(
    tape: &'t Tape,
    inputs: [Tensor<'t>; K],
    op: &'static str,
) -> Result<([Tensor<'t>; K], Shape), AdError> {
    let mut shape = Shape::SCALAR;
    for t in &inputs {
        assert!(std::ptr::eq(tape, t.tape), "{op}: tensor from another tape");
        shape = shape
            .broadcast(&t.shape)
            .map_err(|_| AdError::ShapeMismatch {
                op,
                left: shape,
                right: t.shape,
            })?;
    }
    let n = shape.numel();
    let mut out = inputs;
    for t in &mut out {
        if t.numel() != n && t.numel() != 1 {
            *t = t.broadcast_to(shape)?;
        }
    }
    Ok((out, shape))
}

impl Tape {
    /// Records `Σᵢ f(x₁ᵢ, …, x_Kᵢ)` over K operands broadcast to a common shape, as a single
    /// scalar. `f` receives the element index and the K operand values and returns the value
    /// and its K partial derivatives. For a full-size tracked operand the partials are stored
    /// (one f64 per element); for a single-element operand they are summed on the fly.
    /// Untracked operands store nothing.
    ///
    /// # Errors
    /// [`AdError::ShapeMismatch`] when the operands do not broadcast.
    ///
    /// # Panics
    /// If an operand belongs to another tape.
    ///
    /// # Examples
    /// A Normal log density over data with scalar `loc` and `scale`:
    /// ```
    /// use infer_ad::Tape;
    /// let tape = Tape::new();
    /// let x = tape.constant(&ndarray::array![0.5, -1.0, 2.0]);
    /// let loc = tape.var(0.0).as_tensor();
    /// let scale = tape.var(1.5).as_tensor();
    /// let lp = tape.fused_sum([x, loc, scale], |_, [x, m, s]| {
    ///     let z = (x - m) / s;
    ///     let v = -0.5 * z * z - s.ln() - infer_ad::scalar::LN_SQRT_2PI;
    ///     (v, [-z / s, z / s, (z * z - 1.0) / s])
    /// })?;
    /// lp.backward();
    /// assert!(loc.grad().iter().all(|g| g.is_finite()));
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn fused_sum<'t, const K: usize>(
        &'t self,
        inputs: [Tensor<'t>; K],
        mut f: impl FnMut(usize, [f64; K]) -> (f64, [f64; K]),
    ) -> Result<Var<'t>, AdError> {
        let (ops, shape) = align_all(self, inputs, "fused_sum")?;
        let n = shape.numel();
        // `f` is user code: run it on the recording moved out of the tape.
        self.with_detached(|g| {
            let mut starts = [0usize; K];
            let mut strides = [0usize; K];
            let mut full = [false; K];
            let mut pofs = [0usize; K];
            let mut acc = [0.0f64; K];
            let p0 = g.f.len();
            let mut p = p0;
            for k in 0..K {
                starts[k] = ops[k].start as usize;
                strides[k] = usize::from(ops[k].numel() == n);
                full[k] = ops[k].tracked && strides[k] == 1 && n > 1;
                if full[k] {
                    pofs[k] = p - p0;
                    p += n;
                }
            }
            g.f.resize(p, 0.0);
            let mut total = 0.0;
            {
                // Borrow the value and partial buffers once, outside the element loop, so the
                // loop reads and writes plain slices.
                let crate::tape::Inner {
                    vals, f: partials, ..
                } = &mut *g;
                let vals: &[f64] = vals;
                let parts = &mut partials[p0..p];
                for i in 0..n {
                    let mut xs = [0.0; K];
                    for k in 0..K {
                        xs[k] = vals[starts[k] + i * strides[k]];
                    }
                    let (v, d) = f(i, xs);
                    total += v;
                    for k in 0..K {
                        if full[k] {
                            parts[pofs[k] + i] = d[k];
                        } else {
                            acc[k] += d[k];
                        }
                    }
                }
            }
            for k in 0..K {
                pofs[k] += p0;
            }
            let out = g.next_slot();
            g.vals.push(total);
            for k in 0..K {
                if !ops[k].tracked {
                    continue;
                }
                if full[k] {
                    g.push_node(Node::Red {
                        out,
                        a: ops[k].start,
                        n: n as u32,
                        p: pofs[k] as u32,
                    });
                } else {
                    g.push_rec(out, ops[k].start, acc[k]);
                }
            }
            Ok(Var {
                tape: self,
                idx: out,
                val: total,
            })
        })
    }

    /// Records the elementwise `f(x₁ᵢ, …, x_Kᵢ)` over K operands broadcast to a common shape,
    /// as one tensor; `f` returns the value and its K partials. One node per tracked operand.
    ///
    /// # Errors
    /// [`AdError::ShapeMismatch`] when the operands do not broadcast.
    ///
    /// # Panics
    /// If an operand belongs to another tape.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![1.0, 2.0]);
    /// let b = tape.var(3.0).as_tensor();
    /// let y = tape.fused_map([a, b], |_, [a, b]| (a * b, [b, a]))?;
    /// y.sum().backward();
    /// assert_eq!(b.grad().sum(), 3.0);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn fused_map<'t, const K: usize>(
        &'t self,
        inputs: [Tensor<'t>; K],
        mut f: impl FnMut(usize, [f64; K]) -> (f64, [f64; K]),
    ) -> Result<Tensor<'t>, AdError> {
        let (ops, shape) = align_all(self, inputs, "fused_map")?;
        let n = shape.numel();
        // `f` is user code: run it on the recording moved out of the tape.
        self.with_detached(|g| {
            let mut starts = [0usize; K];
            let mut strides = [0usize; K];
            let mut pofs = [0usize; K];
            let p0 = g.f.len();
            let mut p = p0;
            for k in 0..K {
                starts[k] = ops[k].start as usize;
                strides[k] = usize::from(ops[k].numel() == n);
                if ops[k].tracked {
                    pofs[k] = p - p0;
                    p += n;
                }
            }
            g.f.resize(p, 0.0);
            let out = g.next_slot();
            g.vals.resize(out as usize + n, 0.0);
            {
                // Inputs precede the output region: split once, then loop over plain slices.
                let crate::tape::Inner {
                    vals, f: partials, ..
                } = &mut *g;
                let (inp, outp) = vals.split_at_mut(out as usize);
                let parts = &mut partials[p0..p];
                for i in 0..n {
                    let mut xs = [0.0; K];
                    for k in 0..K {
                        xs[k] = inp[starts[k] + i * strides[k]];
                    }
                    let (v, d) = f(i, xs);
                    outp[i] = v;
                    for k in 0..K {
                        if ops[k].tracked {
                            parts[pofs[k] + i] = d[k];
                        }
                    }
                }
            }
            for k in 0..K {
                pofs[k] += p0;
            }
            let mut tracked = false;
            for k in 0..K {
                if ops[k].tracked {
                    tracked = true;
                    g.push_node(Node::Elem {
                        out,
                        a: ops[k].start,
                        n: n as u32,
                        p: pofs[k] as u32,
                        s: strides[k] as u32,
                    });
                }
            }
            Ok(Tensor::from_slot(self, out, shape, tracked))
        })
    }
}

impl Tape {
    /// Records a scalar whose value and gradient the caller has computed: `value` depends on
    /// each tensor in `inputs` with the given gradient (one entry per element, in the tensor's
    /// logical row-major order). This is the hook for hand-fused nodes — a GLM likelihood
    /// that computes Xᵀr in its forward pass, a solver with an adjoint — that then compose
    /// with everything else on the tape. Untracked inputs record nothing.
    ///
    /// The caller vouches for the gradient; check it with [`crate::gradcheck`].
    ///
    /// # Errors
    /// [`AdError::LengthMismatch`] when a gradient's length differs from its tensor's number
    /// of elements.
    ///
    /// # Panics
    /// If an input belongs to another tape.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.tensor(&ndarray::array![1.0, 2.0, 3.0]);
    /// // ½‖x‖², with its gradient x
    /// let xs = [1.0, 2.0, 3.0];
    /// let half_sq: f64 = xs.iter().map(|v| 0.5 * v * v).sum();
    /// let y = tape.scalar_with_gradients(half_sq, &[(x, &xs)])?;
    /// (y * 2.0).backward();
    /// assert_eq!(x.grad().iter().copied().collect::<Vec<_>>(), vec![2.0, 4.0, 6.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn scalar_with_gradients<'t>(
        &'t self,
        value: f64,
        inputs: &[(Tensor<'t>, &[f64])],
    ) -> Result<Var<'t>, AdError> {
        for (t, grad) in inputs {
            assert!(
                std::ptr::eq(self, t.tape),
                "scalar_with_gradients: tensor from another tape"
            );
            if grad.len() != t.numel() {
                return Err(AdError::LengthMismatch {
                    shape: t.shape,
                    len: grad.len(),
                });
            }
        }
        let mut g = self.inner_mut();
        let out = g.next_slot();
        g.vals.push(value);
        for (t, grad) in inputs {
            if !t.tracked {
                continue;
            }
            if grad.len() == 1 {
                g.push_rec(out, t.start, grad[0]);
                continue;
            }
            // Tensors are contiguous from `start` in row-major order, so gradient entry i
            // belongs to slot start + i.
            let p = g.f.len();
            g.f.extend_from_slice(grad);
            g.push_node(Node::Red {
                out,
                a: t.start,
                n: grad.len() as u32,
                p: p as u32,
            });
        }
        Ok(Var {
            tape: self,
            idx: out,
            val: value,
        })
    }
}
