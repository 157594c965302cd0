//! The operand combinations of [`log_mix`](crate::log_mix) and its elementwise (tensor) form.

use super::{bad_proportion, log_mix_scalar, mix_one};
use crate::error::AdError;
use crate::shape::Shape;
use crate::tape::{Node, Tape, check_same_tape};
use crate::tensor::{Tensor, fit};
use crate::var::Var;

mod sealed {
    pub trait Sealed {}
}

/// The operand triples `(θ, lp₁, lp₂)` accepted by [`log_mix`](crate::log_mix), and what it
/// returns for each.
///
/// * `(Var, Var, Var)` and `(f64, Var, Var)`: a [`Var`];
/// * θ an `f64`, a [`Var`] or a [`Tensor`], and `lp₁`, `lp₂` each a [`Var`] or a [`Tensor`]
///   with at least one [`Tensor`] among the three: a [`Tensor`] of the broadcast shape,
///   the mixture taken elementwise.
///
/// The trait is sealed: it exists only to give [`log_mix`](crate::log_mix) these forms.
///
/// # Examples
/// ```
/// use infer_ad::LogMixArgs;
/// let tape = infer_ad::Tape::new();
/// let lp = tape.tensor(&ndarray::array![0.0, -1.0]);
/// let l = (0.5, lp, lp).log_mix()?; // the same as infer_ad::log_mix(0.5, lp, lp)
/// assert_eq!(l.to_vec(), vec![0.0, -1.0]);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
pub trait LogMixArgs<'t>: sealed::Sealed {
    /// [`Var`] for scalar operands, [`Tensor`] when any operand is a tensor.
    type Output;

    /// ln(θ e^{lp₁} + (1 − θ) e^{lp₂}), as [`log_mix`](crate::log_mix) documents.
    ///
    /// # Errors
    /// As [`log_mix`](crate::log_mix).
    fn log_mix(self) -> Result<Self::Output, AdError>;
}

impl sealed::Sealed for (Var<'_>, Var<'_>, Var<'_>) {}
impl<'t> LogMixArgs<'t> for (Var<'t>, Var<'t>, Var<'t>) {
    type Output = Var<'t>;
    fn log_mix(self) -> Result<Var<'t>, AdError> {
        log_mix_scalar(Ok(self.0), self.1, self.2)
    }
}

impl sealed::Sealed for (f64, Var<'_>, Var<'_>) {}
impl<'t> LogMixArgs<'t> for (f64, Var<'t>, Var<'t>) {
    type Output = Var<'t>;
    fn log_mix(self) -> Result<Var<'t>, AdError> {
        log_mix_scalar(Err(self.0), self.1, self.2)
    }
}

/// One operand of the elementwise form: a constant (θ only) or a tensor.
#[derive(Clone, Copy)]
enum Operand<'t> {
    Const(f64),
    T(Tensor<'t>),
}

impl<'t> Operand<'t> {
    fn tensor(self) -> Option<Tensor<'t>> {
        match self {
            Operand::T(t) => Some(t),
            Operand::Const(_) => None,
        }
    }

    fn shape(self) -> Shape {
        self.tensor().map_or(Shape::SCALAR, |t| t.shape)
    }

    fn tracked(self) -> bool {
        self.tensor().is_some_and(|t| t.tracked)
    }
}

/// Conversion of one operand type into an [`Operand`].
trait IntoOperand<'t> {
    fn operand(self) -> Operand<'t>;
}

impl<'t> IntoOperand<'t> for f64 {
    fn operand(self) -> Operand<'t> {
        Operand::Const(self)
    }
}

impl<'t> IntoOperand<'t> for Var<'t> {
    fn operand(self) -> Operand<'t> {
        Operand::T(self.as_tensor())
    }
}

impl<'t> IntoOperand<'t> for Tensor<'t> {
    fn operand(self) -> Operand<'t> {
        Operand::T(self)
    }
}

/// Conversion of a log-density operand (a [`Var`] or a [`Tensor`]) into a tensor.
trait IntoLp<'t> {
    fn lp(self) -> Tensor<'t>;
}

impl<'t> IntoLp<'t> for Var<'t> {
    fn lp(self) -> Tensor<'t> {
        self.as_tensor()
    }
}

impl<'t> IntoLp<'t> for Tensor<'t> {
    fn lp(self) -> Tensor<'t> {
        self
    }
}

macro_rules! tensor_forms {
    ($( ($th:ty, $l1:ty, $l2:ty) ),* $(,)?) => {$(
        impl<'t> sealed::Sealed for ($th, $l1, $l2) {}
        impl<'t> LogMixArgs<'t> for ($th, $l1, $l2) {
            type Output = Tensor<'t>;
            fn log_mix(self) -> Result<Tensor<'t>, AdError> {
                log_mix_tensors(self.0.operand(), self.1.lp(), self.2.lp())
            }
        }
    )*};
}

tensor_forms!(
    (f64, Tensor<'t>, Tensor<'t>),
    (f64, Var<'t>, Tensor<'t>),
    (f64, Tensor<'t>, Var<'t>),
    (Var<'t>, Tensor<'t>, Tensor<'t>),
    (Var<'t>, Var<'t>, Tensor<'t>),
    (Var<'t>, Tensor<'t>, Var<'t>),
    (Tensor<'t>, Tensor<'t>, Tensor<'t>),
    (Tensor<'t>, Var<'t>, Tensor<'t>),
    (Tensor<'t>, Tensor<'t>, Var<'t>),
    (Tensor<'t>, Var<'t>, Var<'t>),
);

/// The elementwise mixture: validates everything before recording anything, broadcasts the
/// operands, then records the values and one `Elem` node per tracked operand (stride 0 for a
/// single-element operand, whose adjoint collects every output's contribution).
fn log_mix_tensors<'t>(
    theta: Operand<'t>,
    lp1: Tensor<'t>,
    lp2: Tensor<'t>,
) -> Result<Tensor<'t>, AdError> {
    const OP: &str = "log_mix";
    let (mut a, mut b) = (lp1, lp2);
    check_same_tape(OP, a.tape, b.tape)?;
    let tape: &'t Tape = a.tape;
    if let Some(t) = theta.tensor() {
        check_same_tape(OP, t.tape, tape)?;
    }
    let shape = theta
        .shape()
        .broadcast(&a.shape)
        .and_then(|s| s.broadcast(&b.shape))
        .map_err(|_| mismatch3(theta.shape(), a.shape, b.shape))?;
    // θ checked on its own elements, before any broadcast copy reaches the tape
    match theta {
        Operand::Const(c) => {
            if !(0.0..=1.0).contains(&c) {
                return Err(bad_proportion(OP, "theta".to_owned(), c));
            }
        }
        Operand::T(t) => {
            let g = tape.inner_mut();
            let s = t.start as usize;
            let vals = &g.vals[s..s + t.numel()];
            if let Some(i) = vals.iter().position(|v| !(0.0..=1.0).contains(v)) {
                let v = vals[i];
                drop(g);
                let name = if t.numel() == 1 {
                    "theta".to_owned()
                } else {
                    format!("theta[{i}]")
                };
                return Err(bad_proportion(OP, name, v));
            }
        }
    }
    let n = shape.numel();
    let mut th = theta;
    if let Operand::T(t) = &mut th {
        fit(t, shape)?;
    }
    fit(&mut a, shape)?;
    fit(&mut b, shape)?;
    let stride = |t: Tensor<'_>| usize::from(t.numel() == n);
    let (sa, sb) = (stride(a), stride(b));
    let (st, th_start, th_const) = match th {
        Operand::T(t) => (stride(t), t.start as usize, 0.0),
        Operand::Const(c) => (0, 0, c),
    };
    let is_const = matches!(th, Operand::Const(_));
    let tracked = [th.tracked(), a.tracked, b.tracked];
    let any = tracked.iter().any(|&x| x);
    let mut g = tape.inner_mut();
    let parts = tracked.iter().filter(|&&x| x).count() * n;
    g.reserve(OP, n, parts, 0, shape.dims())?;
    let out = g.next_slot();
    let p0 = g.f.len();
    // partial blocks: θ, lp₁, lp₂ (only the tracked ones)
    let mut p = [0usize; 3];
    let mut next = p0;
    for k in 0..3 {
        p[k] = next;
        if tracked[k] {
            next += n;
        }
    }
    if any {
        g.f.resize(next, 0.0);
    }
    let (ia, ib) = (a.start as usize, b.start as usize);
    for i in 0..n {
        let t = if is_const {
            th_const
        } else {
            g.vals[th_start + i * st]
        };
        let (v, dth, d1, d2) = mix_one(t, g.vals[ia + i * sa], g.vals[ib + i * sb]);
        g.vals.push(v);
        if any {
            for (k, d) in [dth, d1, d2].into_iter().enumerate() {
                if tracked[k] {
                    g.f[p[k] + i] = d;
                }
            }
        }
    }
    let inputs = [
        th.tensor().map(|t| (t.start, st)),
        Some((a.start, sa)),
        Some((b.start, sb)),
    ];
    for k in 0..3 {
        if let (true, Some((start, s))) = (tracked[k], inputs[k]) {
            g.push_node(Node::Elem {
                out,
                a: start,
                n: n as u32,
                p: p[k] as u32,
                s: s as u32,
            });
        }
    }
    drop(g);
    Ok(Tensor::from_slot(tape, out, shape, any))
}

/// The shape error of three operands that do not broadcast: names the first pair that fails.
#[cold]
fn mismatch3(t: Shape, a: Shape, b: Shape) -> AdError {
    let (left, right) = if t.broadcast(&a).is_err() {
        (t, a)
    } else if a.broadcast(&b).is_err() {
        (a, b)
    } else {
        (t, b)
    };
    AdError::mismatch("log_mix", left, right)
}
