//! `num_particles`: the ELBO estimators averaged over several draws.

use crate::LossError;
use crate::util::{add, finish};
use infer_ad::Var;

/// The mean of `num_particles` losses, `(1/n) Σᵢ particle(i)`: the Monte Carlo ELBO
/// estimators averaged over `n` independent draws (Pyro's and NumPyro's `num_particles`),
/// which divides the variance of the loss and of its gradient by `n` at `n` times the cost.
///
/// `particle(i)` computes the loss of particle `i` on one tape — it draws its own values
/// (with `rsample` for the pathwise estimators, `sample` for the score-function one) and
/// calls [`crate::vi_loss`] or any other loss. Every estimator of this crate stays unbiased
/// under the average: each particle's score-function surrogate carries its own detached
/// weight. With `n = 1` the particle's loss is returned as it is (no operation is recorded),
/// so a loop that calls this with one particle gives bit-identical results to one that calls
/// the loss directly.
///
/// [`crate::Svi`] takes the number of particles as a setting and calls this.
///
/// # Errors
/// [`LossError::InvalidArgument`] for `num_particles == 0`; the first error of a particle;
/// [`LossError::Ad`] ([`infer_ad::AdError::DifferentTapes`]) when two particles' losses
/// live on different tapes.
///
/// # Examples
/// A Normal q fitted to a Cauchy prior, the loss averaged over 8 reparameterized draws:
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Normal, Reparameterizable};
/// use infer_loss::{mean_over_particles, vi_loss};
/// use rand::SeedableRng;
/// let tape = Tape::new();
/// let (loc, scale) = (tape.var(0.0), tape.var(1.5));
/// let p = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
/// let q = Normal::new(loc, scale)?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
/// let loss = mean_over_particles(8, |_| {
///     let x = q.rsample(&mut rng)?;
///     vi_loss(&[&p], &[&q], &[x], &[false], 1.0)
/// })?;
/// loss.backward();
/// assert!(scale.grad().is_finite());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn mean_over_particles<'t>(
    num_particles: usize,
    mut particle: impl FnMut(usize) -> Result<Var<'t>, LossError>,
) -> Result<Var<'t>, LossError> {
    if num_particles == 0 {
        return Err(LossError::InvalidArgument {
            name: "num_particles",
            value: 0.0,
            expected: "at least 1",
        });
    }
    let mut acc = None;
    for i in 0..num_particles {
        acc = add(acc, particle(i)?)?;
    }
    let total = finish(acc, "mean_over_particles")?;
    Ok(if num_particles == 1 {
        total
    } else {
        total / num_particles as f64
    })
}
