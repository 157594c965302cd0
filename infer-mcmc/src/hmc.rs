//! Static Hamiltonian Monte Carlo: a fixed number of leapfrog steps and a Metropolis test.

use rand::Rng;

use crate::density::LogDensity;
use crate::error::{McmcError, check};
use crate::hamiltonian::{LeapfrogOutcome, PhasePoint, Position, leapfrog};
use crate::kernel::{Integrator, Kernel, check_dims, check_step_size};
use crate::metric::Metric;
use crate::transition::Transition;

/// Static HMC with `num_steps` leapfrog steps of a fixed size per transition.
///
/// A fresh momentum p ~ N(0, M) is drawn, the trajectory is integrated for `num_steps`
/// steps and its end point is accepted with probability min(1, exp(H₀ − H)). A divergent
/// step (H − H₀ > `max_delta_h`, a non-finite or rejected point) ends the trajectory and the
/// proposal is rejected (acceptance statistic 0 for a non-finite point).
///
/// # Examples
///
/// ```
/// use infer_mcmc::{FnDensity, Kernel, Metric, MetricKind, Position, StaticHmc};
/// use rand::SeedableRng;
///
/// let mut model = FnDensity::new(2, |x: &[f64], g: &mut [f64]| {
///     g.iter_mut().zip(x).for_each(|(g, x)| *g = -x);
///     Ok(-0.5 * x.iter().map(|v| v * v).sum::<f64>())
/// });
/// let mut hmc = StaticHmc::new(Metric::identity(2, MetricKind::Diagonal), 0.3, 5, 1000.0)?;
/// let mut pos = Position::new(&mut model, vec![0.0, 0.0])?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(9);
/// let t = hmc.transition(&mut model, &mut pos, &mut rng)?;
/// assert_eq!((t.n_leapfrog, t.tree_depth), (5, 0));
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
///
/// # References
///
/// Neal (2011), *MCMC using Hamiltonian dynamics*, Handbook of MCMC, ch. 5.
#[derive(Clone, Debug)]
pub struct StaticHmc {
    integrator: Integrator,
    num_steps: usize,
    max_delta_h: f64,
    z: PhasePoint,
}

impl StaticHmc {
    /// A static HMC kernel.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidSetting`] for a step size that is not finite and positive,
    /// `num_steps == 0` or `max_delta_h ≤ 0`; [`McmcError::ZeroDimension`].
    pub fn new(
        metric: Metric,
        step_size: f64,
        num_steps: usize,
        max_delta_h: f64,
    ) -> Result<Self, McmcError> {
        check_step_size(step_size)?;
        check(num_steps >= 1, "num_steps", num_steps as f64, ">= 1")?;
        check(max_delta_h > 0.0, "max_delta_h", max_delta_h, "> 0")?;
        let integrator = Integrator::new(metric, step_size)?;
        Ok(Self {
            z: PhasePoint::new(integrator.dim()),
            integrator,
            num_steps,
            max_delta_h,
        })
    }

    /// The number of leapfrog steps per transition.
    #[must_use]
    pub fn num_steps(&self) -> usize {
        self.num_steps
    }
}

impl Kernel for StaticHmc {
    fn integrator(&self) -> &Integrator {
        &self.integrator
    }

    fn integrator_mut(&mut self) -> &mut Integrator {
        &mut self.integrator
    }

    /// One transition from `position` (moved in place if the proposal is accepted).
    ///
    /// # Errors
    ///
    /// As [`Kernel::transition`].
    fn transition<M: LogDensity + ?Sized, R: Rng + ?Sized>(
        &mut self,
        density: &mut M,
        position: &mut Position,
        rng: &mut R,
    ) -> Result<Transition, McmcError> {
        let (metric, step_size) = (self.integrator.metric(), self.integrator.step_size());
        check_dims(metric.dim(), density.dim(), position)?;
        let z = &mut self.z;
        z.start(position, metric, rng);
        let h0 = z.energy;
        let mut n_leapfrog = 0;
        let mut divergence = None;
        let mut energy = h0;
        for _ in 0..self.num_steps {
            let outcome = leapfrog(density, metric, z, step_size, h0, self.max_delta_h)?;
            n_leapfrog += 1;
            energy = outcome.energy();
            if let LeapfrogOutcome::Divergent(d) = outcome {
                divergence = Some(d);
                break;
            }
        }
        let w = h0 - energy;
        let accept_stat = if w > 0.0 { 1.0 } else { w.exp() };
        let accepted =
            divergence.is_none() && (accept_stat >= 1.0 || rng.random::<f64>() < accept_stat);
        let (logp, energy) = if accepted {
            z.store(position);
            (z.logp, z.energy)
        } else {
            (position.logp, h0)
        };
        Ok(Transition {
            accept_stat,
            accept_stat_sym: crate::nuts::symmetric_accept(w),
            n_leapfrog,
            tree_depth: 0,
            divergent: divergence.is_some(),
            divergence,
            energy,
            logp,
            step_size,
        })
    }
}
