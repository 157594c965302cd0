//! The [`Distribution`] trait, the [`Reparameterizable`] capability, and [`Family`] for run-time
//! discovery of the concrete type.

use crate::{Constraint, DistError, Param};
use infer_ad::{Shape, Tensor, Var};
use ndarray::{ArrayD, Axis};

/// A probability distribution whose parameters live on an `infer_ad` tape, so that its log
/// density is differentiable with respect to every continuous parameter and to the value.
///
/// Parameters may be scalars (0-d tensors) or arrays; their shapes broadcast (NumPy rules) to
/// the *batch shape*. A value's log density is computed elementwise over the broadcast of the
/// value's batch part and the batch shape.
///
/// **Outside the support** [`Distribution::log_prob`] returns −∞ (never NaN), with gradient 0.
///
/// Capabilities are discoverable through `&dyn Distribution`:
/// [`Distribution::as_reparameterizable`] for pathwise sampling and [`Distribution::family`]
/// for the concrete type (the KL registry is keyed by it).
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, Normal};
/// let tape = Tape::new();
/// let (loc, scale) = (tape.var(0.0), tape.var(2.0));
/// let d: Box<dyn Distribution<'_>> = Box::new(Normal::new(loc, scale)?);
/// let x = tape.constant(&ndarray::array![0.5, -1.0]);
/// let lp = d.log_prob_sum(x)?;
/// lp.backward();
/// assert!(scale.grad().is_finite());
/// assert!(d.as_reparameterizable().is_some());
/// # Ok::<(), infer_dist::DistError>(())
/// ```
pub trait Distribution<'t>: std::fmt::Debug {
    /// PyTorch's class name, e.g. `"Normal"`.
    fn name(&self) -> &'static str;

    /// The broadcast shape of the parameters (without the event dimensions).
    fn batch_shape(&self) -> Shape;

    /// The shape of one event: `[]` for scalar families, `[K]` for Dirichlet, Categorical's
    /// is `[]` (the value is an index), `[n]` for a multivariate normal.
    fn event_shape(&self) -> Shape {
        Shape::SCALAR
    }

    /// Elementwise log density (or log mass) of `value`; the result has the broadcast shape of
    /// the value's batch part and [`Distribution::batch_shape`]. Outside the support: −∞ (never
    /// NaN), gradient 0.
    ///
    /// # Errors
    /// [`DistError::ShapeMismatch`] when the value does not broadcast against the batch shape.
    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError>;

    /// Σ log_prob(value). Families override it with a single fused node: the fast path for a
    /// log likelihood over N observations. (The families' inherent `log_prob_sum` also takes
    /// observed data, `&y`, and reads it in place instead of recording it on the tape; see
    /// [`crate::param`].)
    ///
    /// # Errors
    /// As [`Distribution::log_prob`].
    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        Ok(self.log_prob(value)?.sum())
    }

    /// One draw per batch element (no gradient), shape `batch_shape ++ event_shape`.
    ///
    /// # Errors
    /// [`DistError::Sampling`] when the underlying sampler rejects the parameters.
    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError>;

    /// `n` independent draws stacked along a new leading axis: shape
    /// `[n] ++ batch_shape ++ event_shape`.
    ///
    /// # Errors
    /// As [`Distribution::sample`].
    fn sample_n(&self, n: usize, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let mut draws = Vec::with_capacity(n);
        for _ in 0..n {
            draws.push(self.sample(rng)?.insert_axis(Axis(0)));
        }
        let views: Vec<_> = draws.iter().map(|d| d.view()).collect();
        if views.is_empty() {
            let mut dims = vec![0];
            dims.extend_from_slice(self.batch_shape().dims());
            dims.extend_from_slice(self.event_shape().dims());
            return Ok(ArrayD::zeros(dims));
        }
        ndarray::concatenate(Axis(0), &views).map_err(|_| DistError::Sampling {
            dist: self.name(),
            reason: "draws of inconsistent shape",
        })
    }

    /// Differential (or Shannon) entropy, shape `batch_shape`.
    ///
    /// # Errors
    /// [`DistError::NotDefined`] where PyTorch does not define it.
    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        Err(DistError::not_defined(self.name(), "entropy"))
    }

    /// The mean, shape `batch_shape ++ event_shape` (±∞ or NaN where PyTorch returns them,
    /// e.g. a Cauchy-like StudentT with df ≤ 1).
    ///
    /// # Errors
    /// [`DistError::NotDefined`] where PyTorch does not define it.
    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Err(DistError::not_defined(self.name(), "mean"))
    }

    /// The variance, shape `batch_shape ++ event_shape`.
    ///
    /// # Errors
    /// [`DistError::NotDefined`] where PyTorch does not define it.
    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        Err(DistError::not_defined(self.name(), "variance"))
    }

    /// The cumulative distribution function at `value`, elementwise.
    ///
    /// # Errors
    /// [`DistError::NotDefined`] where PyTorch does not define it;
    /// [`DistError::ShapeMismatch`].
    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        let _ = value;
        Err(DistError::not_defined(self.name(), "cdf"))
    }

    /// The support. For a batch whose bounds differ per element, the hull of the bounds.
    fn support(&self) -> Constraint;

    /// Whether the family is discrete (its log_prob is a log mass; no value gradient).
    fn is_discrete(&self) -> bool {
        false
    }

    /// The pathwise-sampling capability, if the family has it.
    fn as_reparameterizable(&self) -> Option<&dyn Reparameterizable<'t>> {
        None
    }

    /// The concrete family, for run-time dispatch (e.g. the closed-form KL registry).
    fn family(&self) -> Family<'_, 't>;

    /// The parameters, `(PyTorch name, parameter)`, in PyTorch's order: tensors on the tape,
    /// or constants (numbers, data arrays) of a distribution built from constants only.
    fn params(&self) -> Vec<(&'static str, Param<'t>)>;
}

/// Pathwise (reparameterized) sampling: a draw `x = g(ε, θ)` recorded on the tape, so that
/// gradients of a function of `x` flow to every continuous parameter θ.
///
/// Location–scale and inverse-cdf families use the explicit transform; Gamma and the families
/// built on it (Beta, Dirichlet, Chi2, StudentT, InverseGamma) use implicit reparameterization
/// gradients, ∂x/∂α = −(∂F/∂α)(x; α) / p(x; α) (Figurnov, Mohamed & Mnih 2018).
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Gamma, Reparameterizable};
/// use rand::SeedableRng;
/// let tape = Tape::new();
/// let alpha = tape.var(2.5);
/// let g = Gamma::new(alpha, tape.var(1.0))?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let x = g.rsample(&mut rng)?;
/// x.sum().backward();
/// assert!(alpha.grad() > 0.0); // larger shape, larger draw
/// # Ok::<(), infer_dist::DistError>(())
/// ```
pub trait Reparameterizable<'t>: Distribution<'t> {
    /// One draw per batch element on the tape, shape `batch_shape ++ event_shape`.
    ///
    /// # Errors
    /// [`DistError::Sampling`] when the underlying sampler rejects the parameters.
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError>;
}

/// [`Family`], one variant per registered family (`for_each_family!` in `lib.rs`).
macro_rules! family_enum {
    ($($module:ident::$ty:ident),* $(,)?) => {
        /// The concrete type behind a `&dyn Distribution`, one variant per family (`Other` for types
        /// defined outside this crate).
        ///
        /// # Examples
        /// ```
        /// use infer_ad::Tape;
        /// use infer_dist::{Distribution, Family, Normal};
        /// let tape = Tape::new();
        /// let d = Normal::new(tape.var(0.0), tape.var(1.0))?;
        /// assert!(matches!(d.family(), Family::Normal(_)));
        /// # Ok::<(), infer_dist::DistError>(())
        /// ```
        #[derive(Debug, Clone, Copy)]
        #[non_exhaustive]
        #[allow(missing_docs)]
        pub enum Family<'a, 't> {
            $($ty(&'a crate::$ty<'t>),)*
            /// A [`Mixture`](crate::Mixture). Without a reference: a mixture holds its
            /// components as a `Box<dyn Distribution<'t>>`, and a reference to it would make
            /// `Family` invariant in `'t` (two families of different lifetimes could no longer
            /// be compared).
            Mixture,
            /// A distribution defined outside this crate.
            Other,
        }
    };
}

for_each_family!(family_enum);
