//! [`Predictive`]: posterior-predictive draws from a fitted guide.

use crate::LossError;
use infer_ad::{Bound, ParamStore, Tape, Tensor};
use infer_dist::Distribution;
use ndarray::{ArrayD, Axis};

/// A boxed distribution on a tape, as the closures of [`Predictive::sample`] return them.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Gamma, Normal};
/// use infer_loss::BoxedDist;
/// let tape = Tape::new();
/// let sites: Vec<BoxedDist> = vec![
///     Box::new(Normal::new(tape.var(0.0), tape.var(1.0))?),
///     Box::new(Gamma::new(tape.var(2.0), tape.var(1.0))?),
/// ];
/// assert_eq!(sites[1].name(), "Gamma");
/// # Ok::<(), infer_dist::DistError>(())
/// ```
pub type BoxedDist<'t> = Box<dyn Distribution<'t> + 't>;

/// Posterior-predictive draws from a fitted guide (Pyro's `Predictive(model, guide=guide)`):
/// for each of `num_samples` draws, the latent values are drawn from the guide's
/// distributions at the fitted parameters, then the observation family is built from them
/// and drawn once. The result approximates the posterior predictive
/// p(ỹ | y) = ∫ p(ỹ | z) p(z | y) dz with the guide q(z) in place of p(z | y).
///
/// For a `Fit` of infer-mcmc (NUTS draws of a `Model`), the model's generated quantities do
/// this: declare the replicated observations with `Params::generated` (for example
/// `p.generated("y_rep", |rng| Normal::new(mu, sigma)?.sample(rng))`), and every saved draw
/// of the posterior carries one posterior-predictive draw.
///
/// # Examples
/// A guide for a Normal mean with known noise sd 1, and 500 predictive draws of 3
/// observations:
/// ```
/// use infer_ad::{ParamConstraint, ParamStore};
/// use infer_dist::Normal;
/// use infer_loss::{BoxedDist, Predictive};
/// use rand::SeedableRng;
/// let mut store = ParamStore::new();
/// let loc = store.add("loc", ndarray::arr0(2.0))?;
/// let sd = store.add_constrained("sd", ndarray::arr0(0.1), ParamConstraint::positive())?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(5);
/// let draws = Predictive::new(500)?.sample(
///     &store,
///     |_, p| Ok(vec![Box::new(Normal::new(p[loc], p[sd])?) as BoxedDist]),
///     |tape, _, z| {
///         let mu = z[0].broadcast_to(infer_ad::Shape::vector(3))?;
///         Ok(Box::new(Normal::new(mu, tape.var(1.0))?) as BoxedDist)
///     },
///     &mut rng,
/// )?;
/// assert_eq!(draws.latent[0].shape(), &[500]);
/// assert_eq!(draws.observed.shape(), &[500, 3]);
/// let mean = draws.observed.mean().unwrap_or(f64::NAN);
/// // the sd of this mean is √(0.01/500 + 1/1500) ≈ 0.026: the bound is 7 sds
/// assert!((mean - 2.0).abs() < 0.2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Predictive {
    num_samples: usize,
}

/// The draws of [`Predictive::sample`].
///
/// # Examples
/// ```
/// use infer_ad::ParamStore;
/// use infer_dist::Normal;
/// use infer_loss::{BoxedDist, Predictive};
/// use rand::SeedableRng;
/// let draws = Predictive::new(10)?.sample(
///     &ParamStore::new(),
///     |tape, _| Ok(vec![Box::new(Normal::new(tape.var(0.0), tape.var(1.0))?) as BoxedDist]),
///     |tape, _, z| Ok(Box::new(Normal::new(z[0], tape.var(0.1))?) as BoxedDist),
///     &mut rand::rngs::StdRng::seed_from_u64(0),
/// )?;
/// assert_eq!(draws.latent[0].shape(), &[10]);
/// assert_eq!(draws.observed.shape(), &[10]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PredictiveSamples {
    /// One array per latent site, in the guide's order: the draws stacked along a new
    /// leading axis, shape `[num_samples] ++ site shape`.
    pub latent: Vec<ArrayD<f64>>,
    /// The observation draws, shape `[num_samples] ++ observation shape`.
    pub observed: ArrayD<f64>,
}

impl Predictive {
    /// A helper drawing `num_samples` posterior-predictive draws.
    ///
    /// # Errors
    /// [`LossError::InvalidArgument`] for 0.
    ///
    /// # Examples
    /// ```
    /// assert!(infer_loss::Predictive::new(0).is_err());
    /// assert_eq!(infer_loss::Predictive::new(10)?.num_samples(), 10);
    /// # Ok::<(), infer_loss::LossError>(())
    /// ```
    pub fn new(num_samples: usize) -> Result<Self, LossError> {
        if num_samples == 0 {
            return Err(LossError::InvalidArgument {
                name: "num_samples",
                value: 0.0,
                expected: "at least 1",
            });
        }
        Ok(Predictive { num_samples })
    }

    /// The number of draws.
    pub fn num_samples(&self) -> usize {
        self.num_samples
    }

    /// Draws: for each sample, `store`'s parameters are bound to a (cleared, reused) tape,
    /// `guide` returns the latent sites' distributions, each is drawn once (without a
    /// gradient: [`Distribution::sample`]), `likelihood` receives the draws as constant
    /// tensors (in the guide's order) and returns the observation family, which is drawn
    /// once. Everything random comes from `rng`: the same seed gives the same draws.
    ///
    /// # Errors
    /// The closures' errors; [`LossError::Dist`] when a distribution cannot be sampled;
    /// [`LossError::LengthMismatch`] when the guide returns a different number of sites
    /// from one draw to the next; [`LossError::ShapeMismatch`] when a site's (or the
    /// observation's) draws change shape between draws.
    ///
    /// # Examples
    /// See [`Predictive`].
    pub fn sample<G, L, R>(
        &self,
        store: &ParamStore,
        mut guide: G,
        mut likelihood: L,
        rng: &mut R,
    ) -> Result<PredictiveSamples, LossError>
    where
        G: for<'t> FnMut(&'t Tape, &Bound<'t>) -> Result<Vec<BoxedDist<'t>>, LossError>,
        L: for<'t> FnMut(&'t Tape, &Bound<'t>, &[Tensor<'t>]) -> Result<BoxedDist<'t>, LossError>,
        R: rand::RngCore,
    {
        let mut tape = Tape::new();
        let mut latent: Vec<Vec<ArrayD<f64>>> = Vec::new();
        let mut observed = Vec::with_capacity(self.num_samples);
        for s in 0..self.num_samples {
            tape.clear();
            let bound = store.bind(&tape);
            let qs = guide(&tape, &bound)?;
            if s == 0 {
                latent = (0..qs.len())
                    .map(|_| Vec::with_capacity(self.num_samples))
                    .collect();
            } else if qs.len() != latent.len() {
                return Err(LossError::LengthMismatch {
                    what: "Predictive: guide sites",
                    expected: latent.len(),
                    got: qs.len(),
                });
            }
            let mut values = Vec::with_capacity(qs.len());
            for (q, draws) in qs.iter().zip(&mut latent) {
                let z = q.sample(rng)?;
                values.push(tape.constant(&z));
                draws.push(z);
            }
            let obs = likelihood(&tape, &bound, &values)?;
            observed.push(obs.sample(rng)?);
        }
        Ok(PredictiveSamples {
            latent: latent
                .iter()
                .map(|d| stack(d, "Predictive: draws of a latent site"))
                .collect::<Result<_, _>>()?,
            observed: stack(&observed, "Predictive: observation draws")?,
        })
    }
}

/// The draws stacked along a new leading axis.
fn stack(draws: &[ArrayD<f64>], what: &'static str) -> Result<ArrayD<f64>, LossError> {
    if let Some(first) = draws.first()
        && let Some(other) = draws.iter().find(|d| d.shape() != first.shape())
    {
        return Err(LossError::ShapeMismatch {
            what,
            left: first.shape().to_vec(),
            right: other.shape().to_vec(),
        });
    }
    let views: Vec<_> = draws.iter().map(|d| d.view()).collect();
    ndarray::stack(Axis(0), &views).map_err(|_| LossError::ShapeMismatch {
        what,
        left: draws
            .first()
            .map(|d| d.shape().to_vec())
            .unwrap_or_default(),
        right: Vec::new(),
    })
}
