//! A [`LogDensity`] seen as an (unnormalized) `infer-dist` distribution over ℝⁿ, so that
//! infer-loss's ELBO estimators take it as their p.
//!
//! The density is a black box with a gradient, evaluated off the tape: its value at a draw z
//! recorded on the tape enters the loss through [`Tape::scalar_with_gradients`] (one node, the
//! gradient ∇ log p(z) as its partials), so the chain rule carries it back to the guide's
//! parameters through z.

use std::cell::{Cell, RefCell};

use infer_ad::{Shape, Tape, Tensor, Var};
use infer_dist::{Constraint, DistError, Distribution, Family, Param};
use ndarray::ArrayD;

use crate::density::LogDensity;
use crate::error::LogDensityError;

const NAME: &str = "LogDensity";

/// The density, its evaluation buffers, the count of evaluations and the last fatal error.
///
/// A failed evaluation (an error, a non-finite value or gradient) has log density −∞ with no
/// gradient, as a point outside a distribution's support: the loss of that draw is +∞ and the
/// caller drops the draw, as Stan drops it. A *fatal* error is also kept, for the caller to
/// return ([`Target::take_fatal`]).
pub(crate) struct Target<'d, D: ?Sized> {
    density: RefCell<&'d mut D>,
    x: RefCell<Vec<f64>>,
    grad: RefCell<Vec<f64>>,
    evals: Cell<u64>,
    fatal: RefCell<Option<LogDensityError>>,
    dim: usize,
}

impl<D: ?Sized> std::fmt::Debug for Target<'_, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("dim", &self.dim)
            .field("evals", &self.evals.get())
            .finish_non_exhaustive()
    }
}

impl<'d, D: LogDensity + ?Sized> Target<'d, D> {
    pub(crate) fn new(density: &'d mut D) -> Self {
        let dim = density.dim();
        Target {
            density: RefCell::new(density),
            x: RefCell::new(vec![0.0; dim]),
            grad: RefCell::new(vec![0.0; dim]),
            evals: Cell::new(0),
            fatal: RefCell::new(None),
            dim,
        }
    }

    /// Evaluations of the density so far (each computes log p and its gradient).
    pub(crate) fn evals(&self) -> u64 {
        self.evals.get()
    }

    /// The fatal error of the last failed evaluation, if any (taken out).
    pub(crate) fn take_fatal(&self) -> Option<LogDensityError> {
        self.fatal.borrow_mut().take()
    }

    /// log p(x), with ∇ log p(x) in `grad`; `None` when the evaluation failed or its value or
    /// gradient is not finite (a fatal error is kept for [`Target::take_fatal`]).
    pub(crate) fn eval(&self, x: &[f64], grad: &mut [f64]) -> Option<f64> {
        self.evals.set(self.evals.get() + 1);
        match self.density.borrow_mut().logp_and_grad(x, grad) {
            Ok(lp) if lp.is_finite() && grad.iter().all(|g| g.is_finite()) => Some(lp),
            Ok(_) | Err(LogDensityError::Recoverable { .. }) => None,
            Err(e) => {
                *self.fatal.borrow_mut() = Some(e);
                None
            }
        }
    }

    /// log p at a point given as a slice (no gradient wanted; the density computes one).
    pub(crate) fn logp(&self, x: &[f64]) -> Option<f64> {
        let mut g = self.grad.borrow_mut();
        self.eval(x, &mut g)
    }

    /// The wrapped density, for calls outside the loss (recording draws).
    pub(crate) fn density(&self) -> std::cell::RefMut<'_, &'d mut D> {
        self.density.borrow_mut()
    }

    fn check_value(&self, value: Tensor<'_>) -> Result<(), DistError> {
        if value.dims() != [self.dim] {
            return Err(DistError::ShapeMismatch {
                dist: NAME,
                what: "value (one point of the unconstrained space)",
                left: value.shape(),
                right: Shape::vector(self.dim),
            });
        }
        Ok(())
    }
}

impl<'t, D: LogDensity + ?Sized> Distribution<'t> for Target<'_, D> {
    fn name(&self) -> &'static str {
        NAME
    }

    fn batch_shape(&self) -> Shape {
        Shape::SCALAR
    }

    fn event_shape(&self) -> Shape {
        Shape::vector(self.dim)
    }

    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        Ok(self.log_prob_sum(value)?.as_tensor())
    }

    /// log p(value) as one node whose partials are ∇ log p; −∞ (a constant) where the
    /// evaluation failed.
    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        self.check_value(value)?;
        let tape: &'t Tape = value.tape();
        let mut x = self.x.borrow_mut();
        let mut grad = self.grad.borrow_mut();
        value.value_into(&mut x);
        match self.eval(&x, &mut grad) {
            Some(lp) => Ok(tape.scalar_with_gradients(lp, &[(value, &grad)])?),
            None => Ok(tape.var(f64::NEG_INFINITY)),
        }
    }

    fn sample(&self, _rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        Err(DistError::NotDefined {
            dist: NAME,
            what: "sample",
        })
    }

    fn support(&self) -> Constraint {
        Constraint::RealVector
    }

    fn family(&self) -> Family<'_, 't> {
        Family::Other
    }

    fn params(&self) -> Vec<(&'static str, Param<'t>)> {
        Vec::new()
    }
}
