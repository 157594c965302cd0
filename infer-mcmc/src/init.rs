//! Initial points: Stan's Uniform(−2, 2) search on the unconstrained scale, or user inits.

use rand::{Rng, RngCore};

use infer_dist::Constraint;

use crate::layout::{Block, Layout, ParamSupport};
use crate::model::ModelError;

use crate::density::LogDensity;
use crate::error::{LogDensityError, McmcError, check_init_radius};
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
    let dim = density.dim();
    if dim == 0 {
        return Err(McmcError::ZeroDimension);
    }
    first_finite(density, radius, max_tries, chain, |_| {
        Ok((0..dim)
            .map(|_| {
                if radius == 0.0 {
                    0.0
                } else {
                    // u ∈ [0, 1): 2u − 1 ∈ [−1, 1) exactly, and the product cannot overflow.
                    let u: f64 = rng.random();
                    radius * (2.0 * u - 1.0)
                }
            })
            .collect())
    })
}

/// The first point from `point` where the log density and its gradient are finite, at most
/// `max_tries` points (one for radius 0, where every point is the same); recoverable
/// failures and non-finite values move on to the next point.
fn first_finite<M: LogDensity + ?Sized>(
    density: &mut M,
    radius: f64,
    max_tries: usize,
    chain: usize,
    mut point: impl FnMut(&mut M) -> Result<Vec<f64>, McmcError>,
) -> Result<Position, McmcError> {
    check_init_radius(radius)?;
    let tries = if radius == 0.0 { 1 } else { max_tries };
    for _ in 0..tries {
        let q = point(density)?;
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

/// Initial values by name on the constrained scale (`{"tau": 1.0, "beta": [..]}`), as
/// CmdStan's init files give them. Parameters not named are drawn as Stan draws them,
/// uniformly from (−radius, radius) on the unconstrained scale. Each value is checked against
/// the model's layout when a chain starts: an unknown name, a wrong number of values or a
/// value outside the support is a typed error naming the parameter.
///
/// # Examples
/// ```
/// use infer_mcmc::init::Inits;
/// let inits = Inits::new().set("tau", 1.0).set("beta", vec![0.5, -0.5]);
/// assert_eq!(inits.get("beta"), Some(&[0.5, -0.5][..]));
/// assert_eq!(inits.get("sigma"), None);
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inits {
    values: Vec<(String, Vec<f64>)>,
}

impl Inits {
    /// No values: every parameter drawn at random.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the value of parameter `name` (replacing an earlier one): a number for a scalar,
    /// a `Vec`, slice or array of the parameter's elements in row-major order otherwise.
    #[must_use]
    pub fn set(mut self, name: impl Into<String>, value: impl InitValue) -> Self {
        let name = name.into();
        let value = value.into_init();
        match self.values.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.values.push((name, value)),
        }
        self
    }

    /// The value given for `name`, row-major.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&[f64]> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The names and values given, in the order they were set.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[f64])> {
        self.values.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }
}

/// A value accepted by [`Inits::set`]: `f64`, `Vec<f64>`, `&[f64]`, `[f64; N]` or an
/// `ndarray` array (row-major).
pub trait InitValue {
    /// The values, row-major.
    fn into_init(self) -> Vec<f64>;
}

impl InitValue for f64 {
    fn into_init(self) -> Vec<f64> {
        vec![self]
    }
}

impl InitValue for Vec<f64> {
    fn into_init(self) -> Vec<f64> {
        self
    }
}

impl InitValue for &[f64] {
    fn into_init(self) -> Vec<f64> {
        self.to_vec()
    }
}

impl<const N: usize> InitValue for [f64; N] {
    fn into_init(self) -> Vec<f64> {
        self.to_vec()
    }
}

impl<S: ndarray::Data<Elem = f64>, D: ndarray::Dimension> InitValue for ndarray::ArrayBase<S, D> {
    fn into_init(self) -> Vec<f64> {
        self.iter().copied().collect()
    }
}

/// The unconstrained point of `inits` for a density whose parameters are all unconstrained
/// ([`LogDensity::init_point`]'s default): each named value is copied to its coordinates,
/// the rest drawn uniformly from (−radius, radius).
///
/// # Errors
/// A fatal [`LogDensityError`] naming an unknown parameter, a wrong number of values, or a
/// parameter whose support is not the real line.
pub fn identity_init_point(
    layout: &Layout,
    inits: &Inits,
    radius: f64,
    rng: &mut dyn RngCore,
) -> Result<Vec<f64>, LogDensityError> {
    for (name, _) in inits.iter() {
        if layout
            .entry(name)
            .is_none_or(|e| e.block != Block::Parameter)
        {
            return Err(ModelError::UnknownInit {
                name: name.to_owned(),
            }
            .into());
        }
    }
    let mut out: Vec<f64> = (0..layout.dim())
        .map(|_| {
            let u: f64 = rng.random();
            radius * (2.0 * u - 1.0)
        })
        .collect();
    for e in layout.entries() {
        let (Some(range), Some(x)) = (e.unconstrained.clone(), inits.get(&e.name)) else {
            continue;
        };
        if e.support != Some(ParamSupport::Fixed(Constraint::Real)) {
            return Err(ModelError::InitOutsideSupport {
                name: e.name.clone(),
                reason: "the density maps it through a transform it does not expose".into(),
            }
            .into());
        }
        if x.len() != range.len() {
            return Err(ModelError::Shape {
                name: e.name.clone(),
                expected: range.len(),
                found: x.len(),
            }
            .into());
        }
        out[range].copy_from_slice(x);
    }
    Ok(out)
}

/// The starting point of a chain from named `inits` ([`LogDensity::init_point`]): the
/// parameters not named are drawn again, up to `max_tries` times, until the log density and
/// its gradient are finite.
///
/// # Errors
///
/// [`McmcError::InvalidSetting`] for a negative or non-finite radius; the model's error for
/// an unknown name, a wrong number of values or a value outside the support;
/// [`McmcError::NoFiniteInit`] when no try gives a finite log density.
///
/// # Examples
///
/// ```
/// use infer_mcmc::{init::{Inits, named_init}, models::Gauss};
/// use rand::SeedableRng;
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let p = named_init(&mut Gauss::new(2), &Inits::new().set("x", [1.0, 2.0]), 2.0, 100, 0, &mut rng)?;
/// assert_eq!(p.q(), [1.0, 2.0]);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
pub fn named_init<M: LogDensity + ?Sized, R: RngCore>(
    density: &mut M,
    inits: &Inits,
    radius: f64,
    max_tries: usize,
    chain: usize,
    rng: &mut R,
) -> Result<Position, McmcError> {
    first_finite(density, radius, max_tries, chain, |d| {
        Ok(d.init_point(inits, radius, rng)?)
    })
}

/// The range [`draws_inverse_metric`] clamps each initial inverse-metric entry to:
/// [10⁻⁸, 10⁸], posterior standard deviations from 10⁻⁴ to 10⁴ on the unconstrained scale.
/// An approximation that collapses a coordinate (a variance of 10⁻²⁰) would otherwise freeze
/// it for the warmup's first window, and one that is far too wide would make the first steps
/// diverge.
///
/// # Examples
///
/// ```
/// use infer_mcmc::init::INIT_METRIC_RANGE;
///
/// assert_eq!(INIT_METRIC_RANGE, (1e-8, 1e8));
/// ```
pub const INIT_METRIC_RANGE: (f64, f64) = (1e-8, 1e8);

/// An initial inverse metric (diagonal of M⁻¹) from approximate posterior draws on the
/// unconstrained scale, draws × dimension (e.g. a Pathfinder
/// [`Approximation::unconstrained`](crate::approx::Approximation::unconstrained), what
/// [`InitStrategy::PathfinderMetric`](crate::settings::InitStrategy::PathfinderMetric)
/// uses): per coordinate the sample variance (denominator n − 1, by the warmup's
/// [`WelfordVariance`](crate::adapt::WelfordVariance)), clamped to
/// [`INIT_METRIC_RANGE`]. A coordinate whose variance is not finite and positive (fewer than
/// two draws, a non-finite draw, or draws that all agree, as after an importance resampling
/// that kept one draw) gets 1, the unit metric's entry.
///
/// For multi-path Pathfinder the draws are importance-resampled from the paths' normal
/// approximations, so their variance also reflects the PSIS weights, where one path's
/// low-rank-plus-diagonal covariance would reflect that path alone.
///
/// # Examples
///
/// ```
/// use infer_mcmc::init::draws_inverse_metric;
/// use ndarray::array;
///
/// let draws = array![[0.0, 5.0, 1e-9], [2.0, 5.0, -1e-9], [4.0, 5.0, 0.0]];
/// let v = draws_inverse_metric(draws.view());
/// assert_eq!(v, vec![4.0, 1.0, 1e-8]); // variance 4; all equal: 1; 10⁻¹⁸ clamped
/// ```
#[must_use]
pub fn draws_inverse_metric(draws: ndarray::ArrayView2<'_, f64>) -> Vec<f64> {
    // the sample variances by the warmup's own estimator (fewer than two draws: 0, then 1)
    let mut w = crate::adapt::WelfordVariance::new(draws.ncols());
    for row in draws.rows() {
        match row.as_slice() {
            Some(x) => w.add(x),
            None => w.add(&row.to_vec()),
        }
    }
    w.variance()
        .into_iter()
        .map(|var| {
            if var.is_finite() && var > 0.0 {
                var.clamp(INIT_METRIC_RANGE.0, INIT_METRIC_RANGE.1)
            } else {
                1.0
            }
        })
        .collect()
}
