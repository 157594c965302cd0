//! Initial points: Stan's Uniform(−2, 2) search on the unconstrained scale, or user inits.

use rand::Rng;

use crate::density::LogDensity;
use crate::error::{LogDensityError, McmcError};
use crate::hamiltonian::Position;

/// Draws points uniformly from (−`radius`, `radius`)ⁿ until log p and its gradient are
/// finite, at most `max_tries` times (Stan: radius 2, 100 tries). Radius 0 tries the origin
/// once.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{random_init, FnDensity, LogDensityError};
/// use rand::SeedableRng;
///
/// // log p is finite only for x > 0.
/// let mut model = FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
///     if x[0] <= 0.0 {
///         return Err(LogDensityError::recoverable("x must be positive"));
///     }
///     g[0] = 1.0 / x[0] - 1.0;
///     Ok(x[0].ln() - x[0])
/// });
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let pos = random_init(&mut model, 2.0, 100, 0, &mut rng)?;
/// assert!(pos.q()[0] > 0.0);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
///
/// # Errors
///
/// [`McmcError::NoFiniteInit`] when every try failed; [`McmcError::LogDensity`] for a fatal
/// density failure; [`McmcError::ZeroDimension`].
pub fn random_init<M: LogDensity + ?Sized, R: Rng + ?Sized>(
    density: &mut M,
    radius: f64,
    max_tries: usize,
    chain: usize,
    rng: &mut R,
) -> Result<Position, McmcError> {
    let dim = density.dim();
    if dim == 0 {
        return Err(McmcError::ZeroDimension);
    }
    let tries = if radius == 0.0 { 1 } else { max_tries };
    for _ in 0..tries {
        let q: Vec<f64> = (0..dim)
            .map(|_| {
                if radius == 0.0 {
                    0.0
                } else {
                    rng.random_range(-radius..radius)
                }
            })
            .collect();
        match Position::new(density, q) {
            Ok(p) => return Ok(p),
            Err(McmcError::NonFiniteStart { .. })
            | Err(McmcError::LogDensity(LogDensityError::Recoverable { .. })) => {}
            Err(e) => return Err(e),
        }
    }
    Err(McmcError::NoFiniteInit {
        chain,
        tries,
        radius,
    })
}
