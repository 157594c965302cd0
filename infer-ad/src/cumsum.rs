//! Cumulative sums ([`Tensor::cumsum`]): one node whose backward pass is the reverse
//! cumulative sum of the output adjoints, O(n) (`kernels::cumsum_backward`).

use crate::error::AdError;
use crate::tape::Node;
use crate::tensor::Tensor;

impl<'t> Tensor<'t> {
    /// The cumulative sum along axis 0: `y[i, …] = Σ_{k ≤ i} x[k, …]` (for a vector, the
    /// running sum; Stan's `cumulative_sum`, NumPy's `cumsum(x, axis=0)`). Same shape as the
    /// input; one node, whose backward pass adds the reverse cumulative sum of the output's
    /// adjoints, `x̄[k, …] += Σ_{i ≥ k} ȳ[i, …]`, in one O(n) sweep.
    ///
    /// # Errors
    /// [`AdError::WrongRank`] for a 0-dimensional tensor (there is no axis to sum along).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let x = tape.tensor(&ndarray::array![1.0, 2.0, 3.0]);
    /// let y = x.cumsum()?;
    /// assert_eq!(y.to_vec(), vec![1.0, 3.0, 6.0]);
    /// y.sum().backward(); // x₁ appears in 3 partial sums, x₂ in 2, x₃ in 1
    /// assert_eq!(x.grad().iter().copied().collect::<Vec<_>>(), vec![3.0, 2.0, 1.0]);
    /// let m = tape.tensor(&ndarray::array![[1.0, 10.0], [2.0, 20.0]]);
    /// assert_eq!(m.cumsum()?.to_vec(), vec![1.0, 10.0, 3.0, 30.0]);
    /// assert!(tape.var(1.0).as_tensor().cumsum().is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn cumsum(self) -> Result<Tensor<'t>, AdError> {
        if self.ndim() == 0 {
            return Err(AdError::wrong_rank("cumsum", 1, self.shape));
        }
        let total = self.numel();
        let len = self.dims()[0];
        let inner = total.checked_div(len).unwrap_or(0);
        let a = self.start as usize;
        let mut g = self.tape.inner_mut();
        g.reserve("cumsum", total, 0, 0, self.dims())?;
        let out = g.next_slot() as usize;
        g.vals.resize(out + total, 0.0);
        let (x, y) = g.vals.split_at_mut(out);
        let x = &x[a..a + total];
        if inner > 0 {
            y[..inner].copy_from_slice(&x[..inner]);
            for i in inner..total {
                y[i] = y[i - inner] + x[i];
            }
        }
        if self.tracked && total > 0 {
            g.push_node(Node::CumSum {
                out: out as u32,
                a: self.start,
                n: len as u32,
                inner: inner as u32,
            });
        }
        Ok(Tensor::from_slot(
            self.tape,
            out as u32,
            self.shape,
            self.tracked,
        ))
    }
}
