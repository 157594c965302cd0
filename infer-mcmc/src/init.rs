//! Initial points: Stan's Uniform(−2, 2) search on the unconstrained scale, or user inits.

use rand::Rng;

use crate::density::LogDensity;
use crate::error::{LogDensityError, McmcError, check};
use crate::hamiltonian::Position;

/// Draws points uniformly from [−`radius`, `radius`)ⁿ until log p and its gradient are
/// finite, at most `max_tries` times (Stan: radius 2, 100 tries). Radius 0 tries the origin
/// once. Each coordinate is `radius · (2u − 1)` with `u` uniform on [0, 1), which is exact
/// for every finite radius (a range `−r..r` cannot be sampled once `2r` overflows, as for
/// `r = 1e308`).
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
/// [`McmcError::InvalidSetting`] naming `init_radius` unless the radius is finite and ≥ 0;
/// [`McmcError::NoFiniteInit`] when every try failed; [`McmcError::LogDensity`] for a fatal
/// density failure; [`McmcError::ZeroDimension`].
pub fn random_init<M: LogDensity + ?Sized, R: Rng + ?Sized>(
    density: &mut M,
    radius: f64,
    max_tries: usize,
    chain: usize,
    rng: &mut R,
) -> Result<Position, McmcError> {
    check(
        radius >= 0.0 && radius.is_finite(),
        "init_radius",
        radius,
        "finite and >= 0",
    )?;
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
                    // u ∈ [0, 1): 2u − 1 ∈ [−1, 1) exactly, and the product cannot overflow.
                    let u: f64 = rng.random();
                    radius * (2.0 * u - 1.0)
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
