//! Phase-space points, the leapfrog integrator and its explicit outcome.

use crate::density::LogDensity;
use crate::error::{LogDensityError, McmcError};
use crate::metric::Metric;

/// A position in the unconstrained space with its cached log density and gradient.
///
/// A transition starts from a `Position` and moves it in place, so the gradient at the
/// current draw is never recomputed.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{FnDensity, Position};
///
/// let mut model = FnDensity::new(2, |x: &[f64], g: &mut [f64]| {
///     g.iter_mut().zip(x).for_each(|(g, x)| *g = -x);
///     Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
/// });
/// let pos = Position::new(&mut model, vec![1.0, 1.0])?;
/// assert_eq!(pos.logp(), -1.0);
/// assert_eq!(pos.grad(), &[-1.0, -1.0]);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
#[derive(Clone, Debug)]
pub struct Position {
    pub(crate) q: Vec<f64>,
    pub(crate) grad: Vec<f64>,
    pub(crate) logp: f64,
}

impl Position {
    /// Evaluates the density at `q`.
    ///
    /// # Errors
    ///
    /// [`McmcError::DimensionMismatch`] if `q.len() != density.dim()`;
    /// [`McmcError::NonFiniteStart`] if log p or its gradient is not finite;
    /// [`McmcError::LogDensity`] if the density returns an error.
    pub fn new<M: LogDensity + ?Sized>(density: &mut M, q: Vec<f64>) -> Result<Self, McmcError> {
        let dim = density.dim();
        if q.len() != dim {
            return Err(McmcError::DimensionMismatch {
                name: "position",
                expected: dim,
                found: q.len(),
            });
        }
        let mut pos = Self {
            grad: vec![0.0; dim],
            q,
            logp: f64::NAN,
        };
        pos.evaluate(density)?;
        Ok(pos)
    }

    /// Moves to `q` and re-evaluates the density there.
    ///
    /// # Errors
    ///
    /// As [`Position::new`]; on error the position is left at `q` with log p = NaN.
    pub fn set_q<M: LogDensity + ?Sized>(
        &mut self,
        density: &mut M,
        q: &[f64],
    ) -> Result<(), McmcError> {
        if q.len() != self.q.len() {
            return Err(McmcError::DimensionMismatch {
                name: "position",
                expected: self.q.len(),
                found: q.len(),
            });
        }
        self.q.copy_from_slice(q);
        self.evaluate(density)
    }

    fn evaluate<M: LogDensity + ?Sized>(&mut self, density: &mut M) -> Result<(), McmcError> {
        self.logp = f64::NAN;
        let logp = density.logp_and_grad(&self.q, &mut self.grad)?;
        if !logp.is_finite() || !self.grad.iter().all(|g| g.is_finite()) {
            return Err(McmcError::NonFiniteStart { logp });
        }
        self.logp = logp;
        Ok(())
    }

    /// The coordinates.
    #[must_use]
    pub fn q(&self) -> &[f64] {
        &self.q
    }

    /// log p at the position.
    #[must_use]
    pub fn logp(&self) -> f64 {
        self.logp
    }

    /// ∇ log p at the position.
    #[must_use]
    pub fn grad(&self) -> &[f64] {
        &self.grad
    }

    /// Dimension.
    #[must_use]
    pub fn dim(&self) -> usize {
        self.q.len()
    }
}

/// Why a leapfrog step was declared divergent.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Divergence {
    /// H − H₀ exceeded the threshold (`max_delta_h`, 1000 by default).
    EnergyError {
        /// The Hamiltonian H at the new point.
        energy: f64,
    },
    /// The density returned a non-finite log p, or H was NaN (e.g. a non-finite gradient).
    NonFinite,
    /// The density reported a recoverable error.
    Rejected {
        /// The density's reason.
        reason: &'static str,
    },
}

/// Outcome of one leapfrog step.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum LeapfrogOutcome {
    /// The step completed with a finite Hamiltonian within the threshold.
    Completed {
        /// The Hamiltonian H = −log p(q) + ½ pᵀM⁻¹p at the new point.
        energy: f64,
    },
    /// The step diverged; the trajectory must stop.
    Divergent(Divergence),
}

impl LeapfrogOutcome {
    /// H at the new point; +∞ when it is not available (NaN, rejected point).
    #[must_use]
    pub fn energy(&self) -> f64 {
        match *self {
            Self::Completed { energy } | Self::Divergent(Divergence::EnergyError { energy }) => {
                energy
            }
            Self::Divergent(_) => f64::INFINITY,
        }
    }

    /// Whether the step diverged.
    #[must_use]
    pub fn is_divergent(&self) -> bool {
        matches!(self, Self::Divergent(_))
    }
}

/// A point in phase space with everything a trajectory needs at it.
#[derive(Clone, Debug)]
pub(crate) struct PhasePoint {
    pub(crate) q: Vec<f64>,
    pub(crate) p: Vec<f64>,
    /// p♯ = M⁻¹ p.
    pub(crate) p_sharp: Vec<f64>,
    pub(crate) grad: Vec<f64>,
    pub(crate) logp: f64,
    /// H = −log p + ½ pᵀ p♯.
    pub(crate) energy: f64,
}

impl PhasePoint {
    pub(crate) fn new(dim: usize) -> Self {
        Self {
            q: vec![0.0; dim],
            p: vec![0.0; dim],
            p_sharp: vec![0.0; dim],
            grad: vec![0.0; dim],
            logp: f64::NAN,
            energy: f64::NAN,
        }
    }

    /// Copies every field of `other` (no allocation).
    #[inline]
    pub(crate) fn copy_from(&mut self, other: &Self) {
        self.q.copy_from_slice(&other.q);
        self.p.copy_from_slice(&other.p);
        self.p_sharp.copy_from_slice(&other.p_sharp);
        self.grad.copy_from_slice(&other.grad);
        self.logp = other.logp;
        self.energy = other.energy;
    }

    /// Sets q, gradient and log p from a position, draws a fresh momentum p ~ N(0, M) and
    /// computes p♯ and H.
    pub(crate) fn start<R: rand::Rng + ?Sized>(
        &mut self,
        pos: &Position,
        metric: &Metric,
        rng: &mut R,
    ) {
        self.q.copy_from_slice(&pos.q);
        self.grad.copy_from_slice(&pos.grad);
        self.logp = pos.logp;
        metric.sample_momentum(rng, &mut self.p);
        let pmp = metric.sharp(&self.p, &mut self.p_sharp);
        self.energy = -self.logp + 0.5 * pmp;
    }

    /// Writes q, gradient and log p back into a position.
    pub(crate) fn store(&self, pos: &mut Position) {
        pos.q.copy_from_slice(&self.q);
        pos.grad.copy_from_slice(&self.grad);
        pos.logp = self.logp;
    }
}

/// One leapfrog step of size `eps` (negative for backward in time), in place:
/// p ← p + ε/2 ∇log p(q); q ← q + ε M⁻¹p; p ← p + ε/2 ∇log p(q).
///
/// One gradient evaluation, no allocation. The outcome is divergent when the density
/// rejects the point, when H is NaN, or when H − `h0` > `max_delta_h` (Stan's rule).
///
/// # Errors
///
/// A fatal [`LogDensityError`] from the density.
#[inline]
pub(crate) fn leapfrog<M: LogDensity + ?Sized>(
    density: &mut M,
    metric: &Metric,
    z: &mut PhasePoint,
    eps: f64,
    h0: f64,
    max_delta_h: f64,
) -> Result<LeapfrogOutcome, LogDensityError> {
    let half = 0.5 * eps;
    let n = z.q.len();
    match metric.diag_inv() {
        Some(inv) => {
            let (q, p, g) = (&mut z.q[..n], &mut z.p[..n], &z.grad[..n]);
            let inv = &inv[..n];
            for i in 0..n {
                let pi = p[i] + half * g[i];
                p[i] = pi;
                q[i] += eps * inv[i] * pi;
            }
        }
        None => {
            for i in 0..n {
                z.p[i] += half * z.grad[i];
            }
            metric.sharp(&z.p, &mut z.p_sharp);
            for i in 0..n {
                z.q[i] += eps * z.p_sharp[i];
            }
        }
    }
    let logp = match density.logp_and_grad(&z.q, &mut z.grad) {
        Ok(v) => v,
        Err(LogDensityError::Recoverable { reason }) => {
            z.logp = f64::NAN;
            z.energy = f64::INFINITY;
            return Ok(LeapfrogOutcome::Divergent(Divergence::Rejected { reason }));
        }
        Err(e) => return Err(e),
    };
    z.logp = logp;
    if !logp.is_finite() {
        z.energy = f64::INFINITY;
        return Ok(LeapfrogOutcome::Divergent(Divergence::NonFinite));
    }
    let pmp = match metric.diag_inv() {
        Some(inv) => {
            let (p, ps, g) = (&mut z.p[..n], &mut z.p_sharp[..n], &z.grad[..n]);
            let inv = &inv[..n];
            let mut acc = 0.0;
            for i in 0..n {
                let pi = p[i] + half * g[i];
                p[i] = pi;
                let si = inv[i] * pi;
                ps[i] = si;
                acc += pi * si;
            }
            acc
        }
        None => {
            for i in 0..n {
                z.p[i] += half * z.grad[i];
            }
            metric.sharp(&z.p, &mut z.p_sharp)
        }
    };
    let energy = -logp + 0.5 * pmp;
    if energy.is_nan() {
        z.energy = f64::INFINITY;
        return Ok(LeapfrogOutcome::Divergent(Divergence::NonFinite));
    }
    z.energy = energy;
    if energy - h0 > max_delta_h {
        return Ok(LeapfrogOutcome::Divergent(Divergence::EnergyError {
            energy,
        }));
    }
    Ok(LeapfrogOutcome::Completed { energy })
}
