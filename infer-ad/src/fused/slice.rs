//! [`Tape::fused_sum_slice`]: a scalar computed from one tensor's values as a slice, with its
//! per-element partials written in place — for a hand-written kernel (explicit vector lanes,
//! run-time selected instruction sets) that a per-element closure cannot express.

use super::with_values_detached;
use crate::error::AdError;
use crate::operand::{Operand, compute_deferred_read};
use crate::tape::{Node, Tape, check_same_tape};
use crate::tensor::Tensor;
use crate::var::Var;

/// Where the closure of [`Tape::fused_sum_slice`] appends its partials, in the elements'
/// order: exactly one for each element, in pieces of any length (a kernel's block at a time),
/// written once rather than zeroed first and overwritten.
///
/// # Examples
/// ```
/// let tape = infer_ad::Tape::new();
/// let x = tape.tensor(&ndarray::array![1.0, 2.0, 3.0, 4.0]);
/// // Σ xᵢ², its partials 2xᵢ appended two at a time
/// let (y, ()) = tape.fused_sum_slice(x, |xs, out| {
///     if let Some(out) = out {
///         for pair in xs.chunks(2) {
///             out.extend(&[2.0 * pair[0], 2.0 * pair[1]]);
///         }
///     }
///     (xs.iter().map(|v| v * v).sum(), ())
/// })?;
/// y.backward();
/// assert_eq!(x.grad().iter().copied().collect::<Vec<_>>(), vec![2.0, 4.0, 6.0, 8.0]);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
#[derive(Debug)]
pub struct PartialsOut<'a> {
    buf: &'a mut Vec<f64>,
    end: usize,
}

impl PartialsOut<'_> {
    /// Appends the partials for the next `ps.len()` elements.
    ///
    /// # Panics
    /// If that makes more partials than the tensor has elements.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.tensor(&ndarray::array![1.0, 2.0, 3.0, 4.0]);
    /// // Σ xᵢ², its partials 2xᵢ appended two at a time
    /// let (y, ()) = tape.fused_sum_slice(x, |xs, out| {
    ///     if let Some(out) = out {
    ///         for pair in xs.chunks(2) {
    ///             out.extend(&[2.0 * pair[0], 2.0 * pair[1]]);
    ///         }
    ///     }
    ///     (xs.iter().map(|v| v * v).sum(), ())
    /// })?;
    /// y.backward();
    /// assert_eq!(x.grad().iter().copied().collect::<Vec<_>>(), vec![2.0, 4.0, 6.0, 8.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    #[inline]
    pub fn extend(&mut self, ps: &[f64]) {
        assert!(
            ps.len() <= self.end - self.buf.len(),
            "fused_sum_slice: more partials than elements"
        );
        self.buf.extend_from_slice(ps);
    }
}

impl Tape {
    /// Records a scalar that `f` computes from the values of `x`, read in place as one
    /// row-major slice. When `x` is tracked, `f` also receives a [`PartialsOut`] to which it
    /// appends ∂value/∂xᵢ for every element in order (stored on the tape, as the partials of
    /// [`Tape::fused_sum`] are); when `x` is not tracked it receives `None` and need not
    /// compute them. `f` returns the value and anything else it computed (sums that
    /// the caller records for other operands, as with [`Tape::fused_sum_with_partials`]).
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when `x` lives on another tape;
    /// [`AdError::TooManyElements`] or [`AdError::OutOfMemory`] when the tape cannot hold
    /// the result or the partials.
    ///
    /// # Panics
    /// If `f` records on this tape (it must only compute with the values it is given), or
    /// appends fewer or more partials than `x` has elements.
    ///
    /// # Examples
    /// Σ xᵢ³ with its partials 3xᵢ², and Σ xᵢ returned alongside:
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.tensor(&ndarray::array![1.0, 2.0, 3.0]);
    /// let (y, s) = tape.fused_sum_slice(x, |xs, partials| {
    ///     if let Some(p) = partials {
    ///         for v in xs {
    ///             p.extend(&[3.0 * v * v]);
    ///         }
    ///     }
    ///     (xs.iter().map(|v| v * v * v).sum(), xs.iter().sum::<f64>())
    /// })?;
    /// assert_eq!((y.value(), s), (36.0, 6.0));
    /// y.backward();
    /// assert_eq!(x.grad().iter().copied().collect::<Vec<_>>(), vec![3.0, 12.0, 27.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn fused_sum_slice<'t, R>(
        &'t self,
        x: Tensor<'t>,
        f: impl FnOnce(&[f64], Option<&mut PartialsOut<'_>>) -> (f64, R),
    ) -> Result<(Var<'t>, R), AdError> {
        check_same_tape("fused_sum_slice", self, x.tape)?;
        compute_deferred_read(self, &[Operand::Tensor(x)]);
        let n = x.numel();
        let nf = if x.tracked { n } else { 0 };
        self.inner_raw()
            .reserve("fused_sum_slice", 1, nf, 0, x.dims())?;
        let a = x.start as usize;
        let (p, written, (total, rest)) = with_values_detached(self, |vals, partials| {
            let p = partials.len();
            let xs = &vals[a..a + n];
            if x.tracked {
                let mut out = PartialsOut {
                    buf: partials,
                    end: p + n,
                };
                let r = f(xs, Some(&mut out));
                (p, partials.len() - p, r)
            } else {
                (p, n, f(xs, None))
            }
        });
        assert!(
            written == n,
            "fused_sum_slice: {written} partials for {n} elements"
        );
        let mut g = self.inner_raw();
        let out = g.next_slot();
        g.vals.push(total);
        if x.tracked {
            g.push_node(Node::Red {
                out,
                a: x.start,
                n: n as u32,
                p: p as u32,
            });
        }
        drop(g);
        Ok((
            Var {
                tape: self,
                idx: out,
                val: total,
            },
            rest,
        ))
    }
}

#[cfg(test)]
mod tests {
    use crate::Tape;

    #[test]
    fn untracked_value_gets_no_partials_and_records_nothing_for_it() {
        let tape = Tape::new();
        let x = tape.constant(&ndarray::array![1.0, 2.0]);
        let (y, had) = tape
            .fused_sum_slice(x, |xs, out| (xs.iter().sum(), out.is_some()))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((y.value(), had), (3.0, false));
    }

    #[test]
    #[should_panic(expected = "1 partials for 2 elements")]
    fn too_few_partials_panic() {
        let tape = Tape::new();
        let x = tape.tensor(&ndarray::array![1.0, 2.0]);
        let _ = tape.fused_sum_slice(x, |_, out| {
            if let Some(out) = out {
                out.extend(&[1.0]);
            }
            (0.0, ())
        });
    }

    #[test]
    #[should_panic(expected = "more partials than elements")]
    fn too_many_partials_panic() {
        let tape = Tape::new();
        let x = tape.tensor(&ndarray::array![1.0, 2.0]);
        let _ = tape.fused_sum_slice(x, |_, out| {
            if let Some(out) = out {
                out.extend(&[1.0, 2.0, 3.0]);
            }
            (0.0, ())
        });
    }
}
