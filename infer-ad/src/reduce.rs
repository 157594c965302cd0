//! Reductions: sums, means, log-sum-exp, softmax (over all elements or along an axis).

use crate::error::AdError;
use crate::kernels::{dev_moments, lane_sum8};
use crate::shape::Shape;
use crate::tape::{NONE, Node, check_same_tape};
use crate::tensor::Tensor;
use crate::var::Var;

impl<'t> Tensor<'t> {
    /// Sum of all elements (one node, no partials stored).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![1.0, 2.0, 3.0]);
    /// assert_eq!(t.sum().value(), 6.0);
    /// ```
    #[inline]
    pub fn sum(self) -> Var<'t> {
        self.scaled_sum(1.0)
    }

    /// Mean of all elements.
    pub fn mean(self) -> Var<'t> {
        self.scaled_sum(1.0 / self.numel() as f64)
    }

    /// Σᵢ (xᵢ − m)², the sum of squared deviations from `m`, over all elements — the data
    /// term of a Normal log density with scalar parameters. Vectorized passes with independent
    /// accumulators, and nothing stored per element: for a tracked tensor, the backward pass
    /// computes ∂/∂xᵢ = 2(xᵢ − m) and ∂/∂m = −2 Σᵢ (xᵢ − m) together in one pass over the
    /// values; for data, ∂/∂m is kept from the forward pass.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when `m` lives on another tape.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.tensor(&ndarray::array![1.0, 2.0, 4.0]);
    /// let m = tape.var(2.0);
    /// let s = x.sum_sq_dev(m)?;
    /// assert_eq!(s.value(), 1.0 + 0.0 + 4.0);
    /// s.backward();
    /// assert_eq!(x.grad().iter().copied().collect::<Vec<_>>(), vec![-2.0, 0.0, 4.0]);
    /// assert_eq!(m.grad(), -2.0 * (-1.0 + 0.0 + 2.0));
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn sum_sq_dev(self, m: Var<'t>) -> Result<Var<'t>, AdError> {
        check_same_tape("sum_sq_dev", self.tape, m.tape)?;
        let n = self.numel();
        let mv = m.val;
        let mut g = self.tape.inner_reading(self.start, n);
        let a = self.start as usize;
        let out = g.next_slot();
        if self.tracked {
            // Both gradients in one backward pass; the forward pass only needs Σ (x − m)².
            let s2 = lane_sum8(&g.vals[a..a + n], |v| (v - mv) * (v - mv));
            g.vals.push(s2);
            g.push_node(Node::SqDev {
                out,
                a: self.start,
                n: n as u32,
                m: m.idx,
                mv,
            });
            return Ok(Var {
                tape: self.tape,
                idx: out,
                val: s2,
            });
        }
        // Data: the centre's partial −2 Σ (x − m) is kept from the forward pass.
        let (s1, s2) = dev_moments(&g.vals[a..a + n], mv);
        g.vals.push(s2);
        g.push_rec(out, m.idx, -2.0 * s1);
        Ok(Var {
            tape: self.tape,
            idx: out,
            val: s2,
        })
    }

    fn scaled_sum(self, c: f64) -> Var<'t> {
        let n = self.numel();
        let mut g = self.tape.inner_reading(self.start, n);
        let a = self.start as usize;
        let total: f64 = g.vals[a..a + n].iter().sum::<f64>() * c;
        let out = g.next_slot();
        g.vals.push(total);
        if self.tracked {
            g.push_node(Node::Sum {
                out,
                a: self.start,
                n: n as u32,
                c,
            });
        }
        Var {
            tape: self.tape,
            idx: out,
            val: total,
        }
    }

    /// ln Σ exp(xᵢ) over all elements, computed stably (max-shifted); its gradient is the
    /// softmax. [`Tensor::log_sum_exp`] with the same limits, except that an empty tensor
    /// gives −∞ here instead of an error.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![1000.0, 1000.0]);
    /// assert!((t.logsumexp().value() - (1000.0 + 2f64.ln())).abs() < 1e-12);
    /// ```
    pub fn logsumexp(self) -> Var<'t> {
        crate::logsumexp::record_lse(self)
    }

    fn check_axis(&self, axis: usize) -> Result<(usize, usize, usize), AdError> {
        if axis >= self.ndim() {
            return Err(AdError::AxisOutOfRange {
                axis,
                shape: self.shape,
            });
        }
        let d = self.dims();
        let outer: usize = d[..axis].iter().product();
        let inner: usize = d[axis + 1..].iter().product();
        Ok((outer, d[axis], inner))
    }

    /// Sum along `axis` (the axis is removed).
    ///
    /// # Errors
    /// [`AdError::AxisOutOfRange`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(t.sum_axis(0)?.to_vec(), vec![4.0, 6.0]);
    /// assert_eq!(t.sum_axis(1)?.to_vec(), vec![3.0, 7.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn sum_axis(self, axis: usize) -> Result<Tensor<'t>, AdError> {
        self.grouped(axis)
    }

    /// Mean along `axis` (the axis is removed).
    ///
    /// # Errors
    /// [`AdError::AxisOutOfRange`].
    pub fn mean_axis(self, axis: usize) -> Result<Tensor<'t>, AdError> {
        let len = self.check_axis(axis)?.1;
        Ok(self.sum_axis(axis)?.scale(1.0 / len as f64))
    }

    /// ln Σ exp along `axis` (the axis is removed), computed stably:
    /// [`Tensor::log_sum_exp_axis`], except that an empty axis gives −∞ here instead of an
    /// error.
    ///
    /// # Errors
    /// [`AdError::AxisOutOfRange`].
    pub fn logsumexp_axis(self, axis: usize) -> Result<Tensor<'t>, AdError> {
        crate::logsumexp::record_lse_axis(self, axis)
    }

    /// log-softmax along `axis`: `x − logsumexp(x)` broadcast back.
    ///
    /// # Errors
    /// [`AdError::AxisOutOfRange`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let t = tape.tensor(&ndarray::array![[1.0, 2.0, 3.0]]);
    /// let p = t.log_softmax(1)?.exp();
    /// assert!((p.sum().value() - 1.0).abs() < 1e-15);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn log_softmax(self, axis: usize) -> Result<Tensor<'t>, AdError> {
        let lse = self.logsumexp_axis(axis)?;
        let keep = lse.reshape(self.shape.with_axis(axis, 1).dims())?;
        Ok(self - keep)
    }

    /// Softmax along `axis`.
    ///
    /// # Errors
    /// [`AdError::AxisOutOfRange`].
    pub fn softmax(self, axis: usize) -> Result<Tensor<'t>, AdError> {
        Ok(self.log_softmax(axis)?.exp())
    }

    fn grouped(self, axis: usize) -> Result<Tensor<'t>, AdError> {
        let (outer, len, inner) = self.check_axis(axis)?;
        let out_shape: Shape = self.shape.remove_axis(axis);
        let m = outer * inner;
        let n = self.numel();
        let tape = self.tape;
        let mut g = tape.inner_mut();
        let kept = if self.tracked { n } else { 0 };
        g.reserve("sum_axis", m, 0, kept, out_shape.dims())?;
        let a = self.start as usize;
        let out = g.next_slot() as usize;
        g.vals.resize(out + m, 0.0);
        // (an empty result computes nothing: no loop over the axes of an empty tensor, whose
        // other dimensions may be huge)
        for o in 0..if m == 0 { 0 } else { outer } {
            for i in 0..inner {
                let base = a + o * len * inner + i;
                let r = out + o * inner + i;
                let mut s = 0.0;
                for j in 0..len {
                    s += g.vals[base + j * inner];
                }
                g.vals[r] = s;
            }
        }
        if self.tracked {
            let idx = g.u.len();
            for k in 0..n {
                let o = k / (len * inner);
                let i = k % inner;
                let r = o * inner + i;
                g.u.push(r as u32);
            }
            g.push_node(Node::Group {
                out: out as u32,
                a: self.start,
                n: n as u32,
                p: NONE,
                idx: idx as u32,
            });
        }
        Ok(Tensor::from_slot(tape, out as u32, out_shape, self.tracked))
    }
}
