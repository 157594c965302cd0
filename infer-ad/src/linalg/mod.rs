//! Linear algebra on the tape: dot, matrix–vector and matrix–matrix products, triangular
//! solves, the Cholesky factor and log-determinants (this file), and products with a
//! constant data matrix held by reference (`data.rs`). The arithmetic is in
//! [`crate::kernels`].

mod data;

pub use data::DataAffine;

use crate::error::AdError;
use crate::kernels::{cholesky_into, dot, gemm_acc, tri_solve_into};
use crate::shape::Shape;
use crate::tape::{Node, check_same_tape};
use crate::tensor::Tensor;
use crate::var::Var;

fn need_rank(t: &Tensor<'_>, op: &'static str, r: usize) -> Result<(), AdError> {
    if t.ndim() == r {
        Ok(())
    } else {
        Err(AdError::wrong_rank(op, r, t.shape))
    }
}

impl<'t> Tensor<'t> {
    /// Inner product of two 1-d tensors of equal length.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![1.0, 2.0]);
    /// let b = tape.tensor(&ndarray::array![3.0, 4.0]);
    /// let d = a.dot(b)?;
    /// d.backward();
    /// assert_eq!(d.value(), 11.0);
    /// assert_eq!(a.grad().as_slice().unwrap(), &[3.0, 4.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn dot(self, o: Tensor<'t>) -> Result<Var<'t>, AdError> {
        check_same_tape("dot", self.tape, o.tape)?;
        need_rank(&self, "dot", 1)?;
        need_rank(&o, "dot", 1)?;
        if self.numel() != o.numel() {
            return Err(AdError::mismatch("dot", self.shape, o.shape));
        }
        let n = self.numel();
        let mut g = self.tape.inner_mut();
        let (a, b) = (self.start as usize, o.start as usize);
        let v = dot(&g.vals[a..a + n], &g.vals[b..b + n]);
        let out = g.next_slot();
        g.vals.push(v);
        if self.tracked || o.tracked {
            g.push_node(Node::Dot {
                out,
                a: self.start,
                b: o.start,
                n: n as u32,
            });
        }
        Ok(Var {
            tape: self.tape,
            idx: out,
            val: v,
        })
    }

    /// Matrix–vector product `self (m×k) · x (k)`.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`]; [`AdError::TooManyElements`]
    /// when the m results would not fit on the tape (an empty m×0 matrix may have any m).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// let x = tape.tensor(&ndarray::array![1.0, -1.0]);
    /// assert_eq!(a.matvec(x)?.to_vec(), vec![-1.0, -1.0]);
    /// let other = infer_ad::Tape::new();
    /// assert!(a.matvec(other.tensor(&ndarray::array![1.0, -1.0])).is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn matvec(self, x: Tensor<'t>) -> Result<Tensor<'t>, AdError> {
        check_same_tape("matvec", self.tape, x.tape)?;
        need_rank(&self, "matvec", 2)?;
        need_rank(&x, "matvec", 1)?;
        let (m, k) = (self.dims()[0], self.dims()[1]);
        if x.numel() != k {
            return Err(AdError::mismatch("matvec", self.shape, x.shape));
        }
        let tape = self.tape;
        let mut g = tape.inner_mut();
        g.reserve("matvec", m, 0, 0, &[m])?;
        let (a, xs) = (self.start as usize, x.start as usize);
        let out = g.next_slot();
        for i in 0..m {
            let v = dot(&g.vals[a + i * k..a + (i + 1) * k], &g.vals[xs..xs + k]);
            g.vals.push(v);
        }
        let tracked = self.tracked || x.tracked;
        if tracked {
            g.push_node(Node::MatVec {
                out,
                a: self.start,
                x: x.start,
                m: m as u32,
                k: k as u32,
                ta: self.tracked,
                tx: x.tracked,
            });
        }
        Ok(Tensor::from_slot(tape, out, Shape::vector(m), tracked))
    }

    /// Matrix product `self (m×k) · b (k×n)`.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`]; [`AdError::TooManyElements`]
    /// when the m×n product has too many elements or would not fit on the tape.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    /// let c = a.matmul(a)?;
    /// assert_eq!(c.to_vec(), vec![7.0, 10.0, 15.0, 22.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn matmul(self, b: Tensor<'t>) -> Result<Tensor<'t>, AdError> {
        check_same_tape("matmul", self.tape, b.tape)?;
        need_rank(&self, "matmul", 2)?;
        need_rank(&b, "matmul", 2)?;
        let (m, k) = (self.dims()[0], self.dims()[1]);
        let n = b.dims()[1];
        if b.dims()[0] != k {
            return Err(AdError::mismatch("matmul", self.shape, b.shape));
        }
        let shape = Shape::matrix(m, n)?;
        let tape = self.tape;
        let mut g = tape.inner_mut();
        g.reserve("matmul", m * n, 0, 0, shape.dims())?;
        let out = g.next_slot() as usize;
        g.vals.resize(out + m * n, 0.0);
        let (inp, outp) = g.vals.split_at_mut(out);
        let (a0, b0) = (self.start as usize, b.start as usize);
        // An empty product computes nothing (m or n may be huge when the other is 0).
        if m * n != 0 {
            gemm_acc(
                [m, k, n],
                &inp[a0..a0 + m * k],
                false,
                &inp[b0..b0 + k * n],
                false,
                &mut outp[..m * n],
            );
        }
        let tracked = self.tracked || b.tracked;
        if tracked {
            g.push_node(Node::MatMul {
                out: out as u32,
                a: self.start,
                b: b.start,
                m: m as u32,
                k: k as u32,
                n: n as u32,
                ta: self.tracked,
                tb: b.tracked,
            });
        }
        Ok(Tensor::from_slot(tape, out as u32, shape, tracked))
    }

    /// Solves `self · X = b` for triangular `self` (n×n; `lower` selects which triangle is
    /// read — the other is ignored); `b` is a vector (n) or a matrix (n×m). Gradients flow to
    /// both; the matrix's gradient lives on the triangle that was read.
    ///
    /// # Errors
    /// [`AdError::DifferentTapes`] when the operands live on different tapes;
    /// [`AdError::WrongRank`], [`AdError::ShapeMismatch`], or [`AdError::Singular`] when a
    /// diagonal element is 0 or not finite.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let l = tape.tensor(&ndarray::array![[2.0, 0.0], [1.0, 1.0]]);
    /// let b = tape.tensor(&ndarray::array![2.0, 3.0]);
    /// let x = l.tri_solve(b, true)?;
    /// assert_eq!(x.to_vec(), vec![1.0, 2.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn tri_solve(self, b: Tensor<'t>, lower: bool) -> Result<Tensor<'t>, AdError> {
        check_same_tape("tri_solve", self.tape, b.tape)?;
        need_rank(&self, "tri_solve", 2)?;
        let n = self.dims()[0];
        let ok_b = match b.ndim() {
            1 => b.dims()[0] == n,
            2 => b.dims()[0] == n,
            _ => false,
        };
        if self.dims()[1] != n || !ok_b {
            return Err(AdError::mismatch("tri_solve", self.shape, b.shape));
        }
        let m = if b.ndim() == 1 { 1 } else { b.dims()[1] };
        let tape = self.tape;
        let mut g = tape.inner_mut();
        g.reserve("tri_solve", n * m, 0, 0, b.dims())?;
        let l0 = self.start as usize;
        for i in 0..n {
            let d = g.vals[l0 + i * n + i];
            if d == 0.0 || !d.is_finite() {
                return Err(AdError::Singular { index: i, value: d });
            }
        }
        let out = g.next_slot() as usize;
        let b0 = b.start as usize;
        g.vals.extend_from_within(b0..b0 + n * m);
        let (inp, outp) = g.vals.split_at_mut(out);
        tri_solve_into(&inp[l0..l0 + n * n], outp, n, m, lower, false);
        let tracked = self.tracked || b.tracked;
        if tracked {
            g.push_node(Node::TriSolve {
                out: out as u32,
                l: self.start,
                b: b.start,
                n: n as u32,
                m: m as u32,
                lower,
                tl: self.tracked,
                tb: b.tracked,
            });
        }
        Ok(Tensor::from_slot(tape, out as u32, b.shape, tracked))
    }

    /// The lower Cholesky factor L of a symmetric positive-definite matrix (L Lᵀ = A, zeros
    /// above the diagonal), as Stan's `cholesky_decompose`: one node, whose backward pass is
    /// Murray's (2016) formula (O(n³), two triangular solves). The factor is that of the
    /// symmetric part ½(A + Aᵀ), and the gradient goes to both triangles.
    ///
    /// # Errors
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`] for a non-square matrix;
    /// [`AdError::NotPositiveDefinite`] naming the row whose pivot is ≤ 0 or not finite
    /// (a NaN entry included).
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let a = tape.tensor(&ndarray::array![[4.0, 2.0], [2.0, 5.0]]);
    /// let l = a.cholesky()?;
    /// assert_eq!(l.to_vec(), vec![2.0, 0.0, 1.0, 2.0]);
    /// l.sum().backward();
    /// assert!(a.grad().iter().all(|g| g.is_finite()));
    /// let bad = tape.tensor(&ndarray::array![[1.0, 2.0], [2.0, 1.0]]);
    /// assert!(bad.cholesky().is_err());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn cholesky(self) -> Result<Tensor<'t>, AdError> {
        need_rank(&self, "cholesky", 2)?;
        let n = self.dims()[0];
        if self.dims()[1] != n {
            return Err(AdError::mismatch("cholesky", self.shape, self.shape));
        }
        let tape = self.tape;
        let mut g = tape.inner_mut();
        g.reserve("cholesky", n * n, 0, 0, &[])?;
        let a0 = self.start as usize;
        let out = g.next_slot() as usize;
        g.vals.resize(out + n * n, 0.0);
        let (inp, outp) = g.vals.split_at_mut(out);
        if let Err((index, value)) = cholesky_into(&inp[a0..a0 + n * n], outp, n) {
            g.vals.truncate(out);
            return Err(AdError::NotPositiveDefinite { index, value });
        }
        if self.tracked {
            g.push_node(Node::Cholesky {
                out: out as u32,
                a: self.start,
                n: n as u32,
            });
        }
        Ok(Tensor::from_slot(
            tape,
            out as u32,
            self.shape,
            self.tracked,
        ))
    }

    /// The diagonal of a square matrix, as a vector (one gather node).
    ///
    /// # Errors
    /// [`AdError::WrongRank`] or [`AdError::ShapeMismatch`] for a non-square matrix.
    pub fn diag(self) -> Result<Tensor<'t>, AdError> {
        need_rank(&self, "diag", 2)?;
        let n = self.dims()[0];
        if self.dims()[1] != n {
            return Err(AdError::mismatch("diag", self.shape, self.shape));
        }
        let idx: Vec<u32> = (0..n).map(|i| self.start + (i * n + i) as u32).collect();
        self.gather_slots("diag", &idx, Shape::vector(n))
    }

    /// ln |det T| of a triangular matrix: Σ ln |Tᵢᵢ|.
    ///
    /// # Errors
    /// As [`Tensor::diag`].
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// let l = tape.tensor(&ndarray::array![[2.0, 0.0], [5.0, 3.0]]);
    /// assert!((l.tri_logdet()?.value() - 6f64.ln()).abs() < 1e-15);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn tri_logdet(self) -> Result<Var<'t>, AdError> {
        Ok(self.diag()?.abs().ln().sum())
    }
}

#[cfg(test)]
mod tests {
    use crate::tape::Tape;

    /// A solve or product whose output no gradient reaches sends nothing, even when its
    /// values are NaN or ∞ (issue 13: the sweep visits it, and 0 · NaN made the gradient of
    /// the matrix NaN in a later, unrelated backward pass). Expected gradients: d/dl₀₀ of
    /// ln l₀₀ = 1/l₀₀ = 0.5, 0 elsewhere.
    #[test]
    fn unreached_nodes_with_non_finite_values_send_no_nan() {
        let tape = Tape::new();
        let l = tape.tensor(&ndarray::array![[2.0, 0.0], [1.0, 4.0]]);
        let b = tape.tensor(&ndarray::array![[f64::NAN, 1.0], [f64::INFINITY, 2.0]]);
        let solved = l.tri_solve(b, true).expect("2×2");
        let prod = l.matmul(b).expect("2×2");
        let prod_t = b.matmul(l).expect("2×2");
        assert!(solved.to_vec().iter().any(|v| !v.is_finite()));
        assert!(prod.to_vec().iter().any(|v| !v.is_finite()));
        assert!(prod_t.to_vec().iter().any(|v| !v.is_finite()));
        let root = l.at(&[0, 0]).expect("in range").ln();
        root.backward();
        let g: Vec<f64> = l.grad().iter().copied().collect();
        assert_eq!(g, vec![0.5, 0.0, 0.0, 0.0]);
        assert!(b.grad().iter().all(|&g| g == 0.0));
        // and a reached product with ∞ in one operand: zero adjoints stay out of the sum
        // (column 0 of gC is 0), the reached terms are exact: gB = Lᵀ gC
        let gc_mask = tape.constant(&ndarray::array![[0.0, 1.0], [0.0, 1.0]]);
        let lp = (l.matmul(b).expect("2×2") * gc_mask).sum();
        lp.backward();
        let gb: Vec<f64> = b.grad().iter().copied().collect();
        assert_eq!(gb, vec![0.0, 3.0, 0.0, 4.0]);
        // gL = gC Bᵀ: row i = Σⱼ gC[i, j] B[k, j] = B[k, 1] = (1, 2) for both rows
        let gl: Vec<f64> = l.grad().iter().copied().collect();
        assert_eq!(gl, vec![1.0, 2.0, 1.0, 2.0]);
    }
}
