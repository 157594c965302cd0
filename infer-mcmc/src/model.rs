//! Models written as Stan programs are: declare each quantity once, where it is used.
//!
//! A [`Model`] is one function, [`Model::log_density`], that declares its parameters as it
//! goes — [`Params::scalar`], [`Params::vector`], [`Params::matrix`], [`Params::array`], each
//! with its support, bounds possibly depending on earlier parameters — records transformed
//! parameters ([`Params::transformed`]) and generated quantities ([`Params::generated`], run
//! with an RNG once per saved draw, never per gradient) and returns log p up to a constant.
//! The names are written once: [`TapeModel::new`] runs the function once to learn the
//! [`Layout`] (names, shapes, blocks, supports), and every later evaluation takes the k-th
//! declaration as the k-th entry of that layout, with no lookup by name. As in Stan, the
//! declarations — their names, shapes and supports — must not depend on parameter values.
//!
//! [`TapeModel`] is the model as a [`LogDensity`] on the unconstrained space ℝⁿ: each
//! parameter's support maps to a bijection of `infer-dist` (positive → exp, interval → scaled
//! sigmoid, simplex → stick-breaking, …), the log |Jacobian| is added, and saved draws record
//! the parameters on the constrained scale, then the transformed parameters, then the
//! generated quantities, under Stan's names.
//!
//! # Examples
//! Eight schools, non-centered, with the school effects as a transformed parameter and a
//! posterior-predictive replicate as a generated quantity:
//! ```
//! use infer_ad::{Tape, Var};
//! use infer_dist::{Constraint, Distribution, HalfCauchy, Normal};
//! use infer_mcmc::model::{Model, Params};
//! use infer_mcmc::{LogDensityError, Sampler, SamplerSettings};
//!
//! struct EightSchools { y: ndarray::Array1<f64>, sigma: ndarray::Array1<f64> }
//!
//! impl Model for EightSchools {
//!     fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
//!         let t = p.tape();
//!         let mu = p.scalar("mu", Constraint::Real)?;
//!         let tau = p.scalar("tau", Constraint::Positive)?;
//!         let eta = p.vector("eta", 8, Constraint::Real)?;
//!         let theta = p.transformed("theta", mu + tau * eta)?;
//!         let sigma = t.constant(&self.sigma);
//!         p.generated("y_rep", |rng| Normal::new(theta, sigma)?.sample(rng))?;
//!         Ok(Normal::new(t.scalar(0.0), t.scalar(5.0))?.log_prob_sum(mu.as_tensor())?
//!             + HalfCauchy::new(t.scalar(5.0))?.log_prob_sum(tau.as_tensor())?
//!             + Normal::new(t.scalar(0.0), t.scalar(1.0))?.log_prob_sum(eta)?
//!             + Normal::new(theta, sigma)?.log_prob_sum(t.constant(&self.y))?)
//!     }
//! }
//!
//! let model = EightSchools {
//!     y: ndarray::arr1(&[28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]),
//!     sigma: ndarray::arr1(&[15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]),
//! };
//! let settings = SamplerSettings { num_chains: 1, num_warmup: 200, num_samples: 200, ..SamplerSettings::default() };
//! let fit = Sampler::new(settings)?.sample_model(&model)?;
//! assert!(fit.draws_by_name("tau")?.iter().all(|&t| t > 0.0));
//! assert_eq!(fit.param_names()[10], "theta[1]"); // mu, tau, eta[1..8], then theta
//! assert!(fit.draws_by_name("y_rep[8]").is_ok());
//! assert!(fit.draws_by_name("eta[0]").is_err()); // 1-based: the error names eta[1] ..= eta[8]
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

use crate::density::{LogDensity, TapeInputs, tape_logp_and_grad};
use crate::error::{LogDensityError, McmcError};
use crate::init::Inits;
use crate::layout::{Block, Entry, EntrySpec, Layout, LayoutError, ParamSupport};
use infer_ad::{AdError, Tape, Tensor, Var};
use infer_dist::{Bijector, Constraint, DistError};

/// One bound of a parameter: a number, or a value computed from other parameters.
///
/// # Examples
/// ```
/// use infer_mcmc::model::Bound;
/// let tape = infer_ad::Tape::new();
/// let a = tape.var(0.3);
/// assert!(matches!(Bound::from(1.0), Bound::Value(v) if v == 1.0));
/// assert!(matches!(Bound::from(1.0 - a), Bound::Tensor(_)));
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Bound<'t> {
    /// A fixed number.
    Value(f64),
    /// A value on the tape (a scalar, or one bound per element).
    Tensor(Tensor<'t>),
}

impl<'t> Bound<'t> {
    /// The bound as a tensor on `tape` (a number becomes a 0-d constant).
    fn on(self, tape: &'t Tape) -> Tensor<'t> {
        match self {
            Bound::Value(v) => tape.scalar(v),
            Bound::Tensor(t) => t,
        }
    }
}

impl From<f64> for Bound<'_> {
    fn from(v: f64) -> Self {
        Bound::Value(v)
    }
}

impl<'t> From<Var<'t>> for Bound<'t> {
    fn from(v: Var<'t>) -> Self {
        Bound::Tensor(v.as_tensor())
    }
}

impl<'t> From<Tensor<'t>> for Bound<'t> {
    fn from(v: Tensor<'t>) -> Self {
        Bound::Tensor(v)
    }
}

/// The support of a declared parameter: a fixed [`Constraint`] or bounds that may depend on
/// other parameters (Stan's `real<lower=0, upper=1 - alpha1> beta1`).
///
/// # Examples
/// ```
/// use infer_dist::Constraint;
/// use infer_mcmc::model::{Support, bounds, lower, upper};
/// let _ = Support::from(Constraint::Simplex);
/// let tape = infer_ad::Tape::new();
/// let alpha = tape.var(0.4);
/// let _ = bounds(0.0, 1.0 - alpha);
/// let _ = lower(alpha);
/// let _ = upper(0.0);
/// ```
#[derive(Clone, Copy, Debug)]
pub enum Support<'t> {
    /// A support fixed in advance.
    Constraint(Constraint),
    /// Lower and/or upper bounds, evaluated at each point; the transform is Stan's (`L + eʸ`,
    /// `U − eʸ`, `L + (U − L) σ(y)`), its log |Jacobian| included, with gradients flowing
    /// into the bounds.
    Bounds {
        /// The lower bound, if any.
        lower: Option<Bound<'t>>,
        /// The upper bound, if any.
        upper: Option<Bound<'t>>,
    },
}

impl From<Constraint> for Support<'_> {
    fn from(c: Constraint) -> Self {
        Support::Constraint(c)
    }
}

/// `lower < x`, the bound a number or an expression of other parameters.
pub fn lower<'t>(l: impl Into<Bound<'t>>) -> Support<'t> {
    Support::Bounds {
        lower: Some(l.into()),
        upper: None,
    }
}

/// `x < upper`, the bound a number or an expression of other parameters.
pub fn upper<'t>(u: impl Into<Bound<'t>>) -> Support<'t> {
    Support::Bounds {
        lower: None,
        upper: Some(u.into()),
    }
}

/// `lower < x < upper`, each bound a number or an expression of other parameters.
pub fn bounds<'t>(l: impl Into<Bound<'t>>, u: impl Into<Bound<'t>>) -> Support<'t> {
    Support::Bounds {
        lower: Some(l.into()),
        upper: Some(u.into()),
    }
}

/// A model's declarations disagree with its layout, or inits disagree with the declarations.
///
/// # Examples
/// ```
/// use infer_mcmc::model::ModelError;
/// let e = ModelError::UnknownInit { name: "sigm".into() };
/// assert!(e.to_string().contains("sigm"));
/// ```
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The layout could not be built (duplicate or invalid names).
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// A declaration differs from the one made at the same place when the layout was
    /// learned: the declarations depend on parameter values.
    #[error(
        "declaration {index} is `{found}` but the layout has `{expected}` there: declarations (names, shapes, supports) must not depend on parameter values"
    )]
    Declaration {
        /// The 0-based position of the declaration.
        index: usize,
        /// What the layout holds there (or `(none)`).
        expected: String,
        /// What was declared (or `(none)`: fewer declarations than in the layout).
        found: String,
    },
    /// A parameter's support has no bijection onto ℝⁿ, or its shape does not fit it.
    #[error("parameter `{name}`: {reason}")]
    Support {
        /// The parameter.
        name: String,
        /// Why.
        reason: &'static str,
    },
    /// A generated quantity or transformed parameter changed shape between draws.
    #[error("`{name}` has {found} values but its declared shape holds {expected}")]
    Shape {
        /// The quantity.
        name: String,
        /// The number of values of the declared shape.
        expected: usize,
        /// The number of values given.
        found: usize,
    },
    /// An init names no parameter of the model.
    #[error("init for `{name}`, which is not a parameter of the model")]
    UnknownInit {
        /// The name given.
        name: String,
    },
    /// An init value is outside its parameter's support.
    #[error("init for `{name}`: {reason}")]
    InitOutsideSupport {
        /// The parameter.
        name: String,
        /// Why (from the bijector's inverse).
        reason: String,
    },
}

impl From<ModelError> for LogDensityError {
    fn from(e: ModelError) -> Self {
        LogDensityError::fatal(e)
    }
}

impl From<AdError> for LogDensityError {
    /// A matrix that is not positive definite (`cholesky`) or singular (`tri_solve`), or an
    /// ODE that cannot be solved (non-finite, too many steps, step-size underflow) at this
    /// point rejects the point, as Stan rejects it (inside a trajectory a divergence); the
    /// structural errors (shapes, tapes, memory, an ill-posed ODE) stop the chain.
    fn from(e: AdError) -> Self {
        match e {
            AdError::NotPositiveDefinite { .. } => {
                LogDensityError::recoverable("matrix not positive definite at this point")
            }
            AdError::Singular { .. } => {
                LogDensityError::recoverable("singular triangular matrix at this point")
            }
            AdError::OdeNotFinite { .. }
            | AdError::OdeTooManySteps { .. }
            | AdError::OdeStepSizeUnderflow { .. } => {
                LogDensityError::recoverable("the ODE cannot be solved at this point")
            }
            other => LogDensityError::fatal(other),
        }
    }
}

impl From<DistError> for LogDensityError {
    fn from(e: DistError) -> Self {
        match e {
            DistError::InvalidParameter { .. } | DistError::OutsideSupport { .. } => {
                LogDensityError::recoverable("invalid distribution parameter at this point")
            }
            other => LogDensityError::fatal(other),
        }
    }
}

/// A log density over declared, constrained parameters; see the module docs.
pub trait Model {
    /// Declares the parameters (with `p`), records transformed parameters and generated
    /// quantities, and returns log p(θ) up to a constant at the constrained values it was
    /// given. Return [`LogDensityError::Recoverable`] for points the model cannot evaluate
    /// but the chain may continue from (a divergence); `?` on an `infer-dist` error converts
    /// invalid distribution parameters into recoverable errors and everything else into
    /// fatal ones.
    ///
    /// # Errors
    /// As above.
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError>;
}

impl<M: Model + ?Sized> Model for &M {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        (**self).log_density(p)
    }
}

/// What one evaluation of a model is for.
enum Mode<'a> {
    /// Learning the layout: declarations are collected; parameters take the values of
    /// unconstrained coordinates drawn by `source`.
    Discover {
        specs: Vec<EntrySpec>,
        source: &'a mut dyn FnMut(usize) -> Vec<f64>,
    },
    /// A gradient: parameters are read from `y`; transformed parameters and generated
    /// quantities are not recorded.
    Gradient,
    /// A saved draw: everything is recorded into `out`, generated quantities with `rng`.
    Record {
        out: &'a mut [f64],
        rng: Box<StdRng>,
    },
    /// Inits: parameters take the given constrained values (or random unconstrained ones),
    /// whose unconstrained coordinates are written into `out`.
    Unconstrain {
        inits: &'a Inits,
        radius: f64,
        rng: &'a mut dyn RngCore,
        out: &'a mut [f64],
    },
}

/// The declarations and recorded values of one evaluation of a [`Model`]; see the module
/// docs.
pub struct Params<'t> {
    tape: &'t Tape,
    mode: Mode<'t>,
    layout: Option<&'t Layout>,
    /// Position of each declaration in the layout's entries.
    order: &'t [usize],
    y: Option<Tensor<'t>>,
    next: usize,
    log_jac: Option<Var<'t>>,
    jacobian: bool,
}

impl std::fmt::Debug for Params<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Params")
            .field("declarations", &self.next)
            .finish_non_exhaustive()
    }
}

/// A value that can be recorded as a transformed parameter: a [`Var`] or a [`Tensor`].
pub trait TapeValue<'t>: Copy {
    /// Its shape (empty for a scalar).
    fn dims(&self) -> Vec<usize>;
    /// Its values, row-major, into `out`.
    fn write(&self, out: &mut [f64]);
}

impl<'t> TapeValue<'t> for Var<'t> {
    fn dims(&self) -> Vec<usize> {
        Vec::new()
    }
    fn write(&self, out: &mut [f64]) {
        out[0] = self.value();
    }
}

impl<'t> TapeValue<'t> for Tensor<'t> {
    fn dims(&self) -> Vec<usize> {
        self.shape().dims().to_vec()
    }
    fn write(&self, out: &mut [f64]) {
        self.value_into(out);
    }
}

/// A value that can be recorded as a generated quantity: `f64`, a `Vec<f64>` or any
/// `ndarray` array of `f64`.
pub trait GeneratedValue {
    /// Its shape and its values, row-major.
    fn into_values(self) -> (Vec<usize>, Vec<f64>);
}

impl GeneratedValue for f64 {
    fn into_values(self) -> (Vec<usize>, Vec<f64>) {
        (Vec::new(), vec![self])
    }
}

impl GeneratedValue for Vec<f64> {
    fn into_values(self) -> (Vec<usize>, Vec<f64>) {
        (vec![self.len()], self)
    }
}

impl<S: ndarray::Data<Elem = f64>, D: ndarray::Dimension> GeneratedValue
    for ndarray::ArrayBase<S, D>
{
    fn into_values(self) -> (Vec<usize>, Vec<f64>) {
        (self.shape().to_vec(), self.iter().copied().collect())
    }
}

impl<'t> Params<'t> {
    /// The tape of this evaluation.
    #[must_use]
    pub fn tape(&self) -> &'t Tape {
        self.tape
    }

    /// Whether this evaluation records a saved draw (transformed parameters and generated
    /// quantities are computed); `false` for gradient evaluations. Work that only feeds
    /// recorded quantities can be skipped when it is `false`.
    #[must_use]
    pub fn is_recording(&self) -> bool {
        matches!(self.mode, Mode::Record { .. } | Mode::Discover { .. })
    }

    /// A scalar parameter.
    ///
    /// # Errors
    /// A fatal [`ModelError`] when the declaration differs from the layout or the support
    /// has no bijection; a recoverable error when dependent bounds are out of order at this
    /// point.
    pub fn scalar(
        &mut self,
        name: &str,
        support: impl Into<Support<'t>>,
    ) -> Result<Var<'t>, LogDensityError> {
        Ok(self.declare(name, &[], support.into())?.item()?)
    }

    /// A vector parameter of length `len`.
    ///
    /// # Errors
    /// As [`Params::scalar`].
    pub fn vector(
        &mut self,
        name: &str,
        len: usize,
        support: impl Into<Support<'t>>,
    ) -> Result<Tensor<'t>, LogDensityError> {
        self.declare(name, &[len], support.into())
    }

    /// A `rows × cols` matrix parameter (row-major on the tape; recorded as Stan does).
    ///
    /// # Errors
    /// As [`Params::scalar`].
    pub fn matrix(
        &mut self,
        name: &str,
        rows: usize,
        cols: usize,
        support: impl Into<Support<'t>>,
    ) -> Result<Tensor<'t>, LogDensityError> {
        self.declare(name, &[rows, cols], support.into())
    }

    /// A parameter of any shape.
    ///
    /// # Errors
    /// As [`Params::scalar`].
    pub fn array(
        &mut self,
        name: &str,
        shape: &[usize],
        support: impl Into<Support<'t>>,
    ) -> Result<Tensor<'t>, LogDensityError> {
        self.declare(name, shape, support.into())
    }

    /// Records `value` as the transformed parameter `name` (with every saved draw) and
    /// returns it.
    ///
    /// # Errors
    /// A fatal [`ModelError`] when the declaration differs from the layout.
    pub fn transformed<T: TapeValue<'t>>(
        &mut self,
        name: &str,
        value: T,
    ) -> Result<T, LogDensityError> {
        let dims = value.dims();
        if let Mode::Discover { specs, .. } = &mut self.mode {
            specs.push(EntrySpec::new(name, &dims, Block::TransformedParameter));
            self.next += 1;
            return Ok(value);
        }
        let e = self.check_declaration(name, &dims, Block::TransformedParameter)?;
        if let Mode::Record { out, .. } = &mut self.mode {
            value.write(&mut out[e.columns()]);
        }
        Ok(value)
    }

    /// The generated quantity `name`: `f` runs with an RNG once per saved draw (and once when
    /// the layout is learned, to find its shape), never during gradient evaluations. Use it
    /// for posterior-predictive replicates and any derived quantity.
    ///
    /// # Errors
    /// What `f` returns; a fatal [`ModelError`] when the declaration differs from the layout
    /// or `f` returns a value of another size than before.
    pub fn generated<G, E, F>(&mut self, name: &str, f: F) -> Result<(), LogDensityError>
    where
        G: GeneratedValue,
        E: Into<LogDensityError>,
        F: FnOnce(&mut dyn RngCore) -> Result<G, E>,
    {
        match &mut self.mode {
            Mode::Discover { specs, .. } => {
                let mut rng = StdRng::seed_from_u64(0);
                let (dims, _) = f(&mut rng).map_err(Into::into)?.into_values();
                specs.push(EntrySpec::new(name, &dims, Block::GeneratedQuantity));
                self.next += 1;
                Ok(())
            }
            Mode::Record { .. } => {
                let e = self.check_name(name, Block::GeneratedQuantity)?;
                let Mode::Record { out, rng } = &mut self.mode else {
                    unreachable!("matched above")
                };
                let (_, values) = f(&mut **rng).map_err(Into::into)?.into_values();
                if values.len() != e.numel() {
                    return Err(ModelError::Shape {
                        name: name.to_owned(),
                        expected: e.numel(),
                        found: values.len(),
                    }
                    .into());
                }
                out[e.columns()].copy_from_slice(&values);
                Ok(())
            }
            Mode::Gradient | Mode::Unconstrain { .. } => {
                self.check_name(name, Block::GeneratedQuantity)?;
                Ok(())
            }
        }
    }

    /// The layout entry of the next declaration, checked against `name` and `block`.
    fn check_name(&mut self, name: &str, block: Block) -> Result<&'t Entry, ModelError> {
        let layout = self.layout.expect("a layout outside discovery");
        let index = self.next;
        let entry = self.order.get(index).map(|&k| &layout.entries()[k]);
        match entry {
            Some(e) if e.name == name && e.block == block => {
                self.next += 1;
                Ok(e)
            }
            other => Err(ModelError::Declaration {
                index,
                expected: other.map_or_else(|| "(none)".to_owned(), |e| e.name.clone()),
                found: name.to_owned(),
            }),
        }
    }

    /// As [`Params::check_name`], and the shape too.
    fn check_declaration(
        &mut self,
        name: &str,
        dims: &[usize],
        block: Block,
    ) -> Result<&'t Entry, ModelError> {
        let e = self.check_name(name, block)?;
        if e.shape != dims {
            return Err(ModelError::Declaration {
                index: self.next - 1,
                expected: format!("{} of shape {:?}", e.name, e.shape),
                found: format!("{name} of shape {dims:?}"),
            });
        }
        Ok(e)
    }

    fn declare(
        &mut self,
        name: &str,
        shape: &[usize],
        support: Support<'t>,
    ) -> Result<Tensor<'t>, LogDensityError> {
        let tape = self.tape;
        if let (Mode::Gradient, Support::Constraint(c)) = (&self.mode, support) {
            // The hot path (every gradient, a fixed support): the layout already holds the
            // support and the coordinates; no transform description is built.
            let e = self.check_declaration(name, shape, Block::Parameter)?;
            if e.support == Some(ParamSupport::Fixed(c))
                && let (Some(range), Some(b)) = (e.unconstrained.clone(), c.bijector())
            {
                let y = self.y.expect("an input outside discovery");
                let u = y.slice_axis(0, range.start, range.end)?;
                let x = b.forward(u)?;
                if self.jacobian && b != Bijector::Identity {
                    let lj = b.log_abs_det_jacobian(u)?;
                    self.log_jac = Some(self.log_jac.map_or(lj, |acc| acc + lj));
                }
                return Ok(x.reshape(shape)?);
            }
            // a support other than the layout's: the general path reports it
            self.next -= 1;
        }
        let numel: usize = shape.iter().product();
        let transform = Transform::new(name, support, numel)?;
        let len = transform.unconstrained_len;
        let u = match &mut self.mode {
            Mode::Discover { specs, source } => {
                let u = source(len);
                specs.push(EntrySpec::parameter(name, shape, len, Some(transform.kind)));
                self.next += 1;
                tape.constant_from_slice(&[len], &u)?
            }
            Mode::Gradient | Mode::Record { .. } => {
                let e = self.check_declaration(name, shape, Block::Parameter)?;
                let range = e.unconstrained.clone().unwrap_or(0..0);
                if e.support != Some(transform.kind) || range.len() != len {
                    return Err(ModelError::Declaration {
                        index: self.next - 1,
                        expected: format!("{name} with support {:?}", e.support),
                        found: format!("{name} with support {:?}", transform.kind),
                    }
                    .into());
                }
                let y = self.y.expect("an input outside discovery");
                y.slice_axis(0, range.start, range.end)?
            }
            Mode::Unconstrain { .. } => {
                let e = self.check_declaration(name, shape, Block::Parameter)?;
                let range = e.unconstrained.clone().unwrap_or(0..0);
                let Mode::Unconstrain {
                    inits,
                    radius,
                    rng,
                    out,
                } = &mut self.mode
                else {
                    unreachable!("matched above")
                };
                let u = match inits.get(name) {
                    Some(x) => {
                        if x.len() != numel {
                            return Err(ModelError::Shape {
                                name: name.to_owned(),
                                expected: numel,
                                found: x.len(),
                            }
                            .into());
                        }
                        transform
                            .inverse(tape, x)
                            .map_err(|e| ModelError::InitOutsideSupport {
                                name: name.to_owned(),
                                reason: e.to_string(),
                            })?
                    }
                    None => (0..len)
                        .map(|_| {
                            let r: f64 = rng.random();
                            *radius * (2.0 * r - 1.0)
                        })
                        .collect(),
                };
                out[range].copy_from_slice(&u);
                tape.constant_from_slice(&[len], &u)?
            }
        };
        let (x, lj) = transform.forward(u, self.jacobian)?;
        if let Some(lj) = lj {
            self.log_jac = Some(self.log_jac.map_or(lj, |acc| acc + lj));
        }
        if let Mode::Record { out, .. } = &mut self.mode {
            let layout = self.layout.expect("a layout outside discovery");
            let e = &layout.entries()[self.order[self.next - 1]];
            x.value_into(&mut out[e.columns()]);
        }
        Ok(x.reshape(shape)?)
    }
}

/// A parameter's transform at one evaluation: a fixed bijector or bounds on the tape.
struct Transform<'t> {
    kind: ParamSupport,
    bijector: Option<Bijector>,
    lower: Option<Bound<'t>>,
    upper: Option<Bound<'t>>,
    unconstrained_len: usize,
}

impl<'t> Transform<'t> {
    fn new(name: &str, support: Support<'t>, numel: usize) -> Result<Self, ModelError> {
        let err = |reason| ModelError::Support {
            name: name.to_owned(),
            reason,
        };
        match support {
            Support::Constraint(c) => {
                let bijector = c.bijector().ok_or_else(|| {
                    err("its support has no bijection onto the real line (discrete?)")
                })?;
                let len = bijector
                    .unconstrained_len(numel)
                    .map_err(|_| err("its shape does not fit its support"))?;
                Ok(Transform {
                    kind: ParamSupport::Fixed(c),
                    bijector: Some(bijector),
                    lower: None,
                    upper: None,
                    unconstrained_len: len,
                })
            }
            Support::Bounds { lower, upper } => {
                let kind = ParamSupport::Bounds {
                    lower: lower.is_some(),
                    upper: upper.is_some(),
                };
                // Fixed numbers where a fixed constraint exists: the bijector of that support.
                let fixed = match (lower, upper) {
                    (None, None) => Some(Constraint::Real),
                    (Some(Bound::Value(l)), None) => Some(Constraint::GreaterThan(l)),
                    (Some(Bound::Value(low)), Some(Bound::Value(high))) => {
                        Some(Constraint::Interval { low, high })
                    }
                    _ => None,
                };
                if let Some(c) = fixed {
                    if let Constraint::Interval { low, high } = c
                        && !(low < high)
                    {
                        return Err(err("its lower bound is not below its upper bound"));
                    }
                    let bijector = c
                        .bijector()
                        .ok_or_else(|| err("no bijection for these bounds"))?;
                    return Ok(Transform {
                        kind,
                        bijector: Some(bijector),
                        lower: None,
                        upper: None,
                        unconstrained_len: numel,
                    });
                }
                Ok(Transform {
                    kind,
                    bijector: None,
                    lower,
                    upper,
                    unconstrained_len: numel,
                })
            }
        }
    }

    fn forward(
        &self,
        u: Tensor<'t>,
        jacobian: bool,
    ) -> Result<(Tensor<'t>, Option<Var<'t>>), LogDensityError> {
        match self.bijector {
            Some(b) => {
                let x = b.forward(u)?;
                let lj = if jacobian && b != Bijector::Identity {
                    Some(b.log_abs_det_jacobian(u)?)
                } else {
                    None
                };
                Ok((x, lj))
            }
            None => {
                let tape = u.tape();
                let l = self.lower.map(|b| b.on(tape));
                let h = self.upper.map(|b| b.on(tape));
                let (x, lj) = infer_dist::bounded(u, l, h)?;
                Ok((x, jacobian.then_some(lj)))
            }
        }
    }

    fn inverse(&self, tape: &'t Tape, x: &[f64]) -> Result<Vec<f64>, DistError> {
        match self.bijector {
            Some(b) => b.inverse(x),
            None => {
                let l = self.lower.map(|b| b.on(tape).to_vec());
                let h = self.upper.map(|b| b.on(tape).to_vec());
                infer_dist::unbounded(x, l.as_deref(), h.as_deref())
            }
        }
    }
}

/// Runs `model` with declarations collected, the parameters at unconstrained coordinates from
/// `source`; the declarations in call order, or the model's error.
fn discover<M: Model + ?Sized>(
    model: &M,
    source: &mut dyn FnMut(usize) -> Vec<f64>,
) -> Result<Vec<EntrySpec>, LogDensityError> {
    let tape = Tape::new();
    let mut p = Params {
        tape: &tape,
        mode: Mode::Discover {
            specs: Vec::new(),
            source,
        },
        layout: None,
        order: &[],
        y: None,
        next: 0,
        log_jac: None,
        jacobian: true,
    };
    model.log_density(&mut p)?;
    match p.mode {
        Mode::Discover { specs, .. } => Ok(specs),
        _ => unreachable!("discovery mode throughout"),
    }
}

/// A [`Model`] as a [`LogDensity`] on the unconstrained space (see the module docs). Owns
/// its tape, which is cleared and reused at every evaluation.
///
/// # Examples
/// ```
/// use infer_ad::Var;
/// use infer_dist::{Constraint, Distribution, Exponential};
/// use infer_mcmc::model::{Model, Params, TapeModel};
/// use infer_mcmc::{LogDensity, LogDensityError};
///
/// struct Rate;
/// impl Model for Rate {
///     fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
///         let lambda = p.scalar("lambda", Constraint::Positive)?;
///         Ok(Exponential::new(p.tape().scalar(1.0))?.log_prob_sum(lambda.as_tensor())?)
///     }
/// }
/// let mut m = TapeModel::new(Rate)?;
/// assert_eq!(m.layout().names(), ["lambda"]);
/// let mut grad = [0.0];
/// // log p(y) = −eʸ + y (the Jacobian of λ = eʸ included): at y = 0, −1 with gradient 0.
/// assert_eq!(m.logp_and_grad(&[0.0], &mut grad)?, -1.0);
/// assert_eq!(grad, [0.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct TapeModel<M> {
    model: M,
    layout: Layout,
    /// Position in the layout's entries of each declaration, in call order.
    order: Vec<usize>,
    tape: Tape,
    /// Whether log p includes the log |Jacobian| of the parameters' transforms.
    jacobian: bool,
}

/// Tries at random points when the model cannot be evaluated at the unconstrained origin
/// while its layout is learned (Stan's init radius 2).
const DISCOVERY_TRIES: usize = 100;

impl<M: Model> TapeModel<M> {
    /// Wraps a model, learning its layout by one evaluation at the unconstrained origin (or,
    /// if the model cannot be evaluated there, at up to 100 points drawn uniformly from
    /// (−2, 2), with a fixed seed).
    ///
    /// # Errors
    /// [`McmcError::Model`] for duplicated or invalid names, a support with no bijection onto
    /// ℝⁿ (a discrete support) or a shape that does not fit it (a simplex needs a vector, a
    /// Cholesky factor a square matrix); [`McmcError::ZeroDimension`] for a model without
    /// parameters; [`McmcError::LogDensity`] when the model fails at every point tried.
    pub fn new(model: M) -> Result<Self, McmcError> {
        let mut rng = StdRng::seed_from_u64(0x1a70_u64);
        let mut specs = None;
        let mut last = None;
        for attempt in 0..=DISCOVERY_TRIES {
            let mut source = |len: usize| -> Vec<f64> {
                if attempt == 0 {
                    vec![0.0; len]
                } else {
                    (0..len).map(|_| rng.random_range(-2.0..2.0)).collect()
                }
            };
            match discover(&model, &mut source) {
                Ok(s) => {
                    specs = Some(s);
                    break;
                }
                Err(e) if e.is_recoverable() => last = Some(e),
                Err(LogDensityError::Fatal { source }) => {
                    return Err(match source.downcast::<ModelError>() {
                        Ok(m) => McmcError::Model(*m),
                        Err(source) => McmcError::LogDensity(LogDensityError::Fatal { source }),
                    });
                }
                Err(e) => return Err(McmcError::LogDensity(e)),
            }
        }
        let Some(specs) = specs else {
            return Err(McmcError::LogDensity(last.unwrap_or_else(|| {
                LogDensityError::recoverable("model not evaluable")
            })));
        };
        let names: Vec<String> = specs.iter().map(|s| s.name.clone()).collect();
        let layout = Layout::new(specs).map_err(|e| McmcError::Model(e.into()))?;
        if layout.dim() == 0 {
            return Err(McmcError::ZeroDimension);
        }
        let order = names
            .iter()
            .map(|n| {
                layout
                    .entries()
                    .iter()
                    .position(|e| &e.name == n)
                    .unwrap_or(usize::MAX)
            })
            .collect();
        Ok(TapeModel {
            model,
            layout,
            order,
            tape: Tape::new(),
            jacobian: true,
        })
    }

    /// The wrapped model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The layout and the declaration order, to wrap the same model again without learning
    /// them a second time ([`TapeModel::with_parts`]).
    pub(crate) fn parts(&self) -> (Layout, Vec<usize>) {
        (self.layout.clone(), self.order.clone())
    }

    /// A wrapper with a known layout and declaration order (from [`TapeModel::parts`] of a
    /// wrapper of the same model).
    pub(crate) fn with_parts(model: M, layout: Layout, order: Vec<usize>) -> Self {
        TapeModel {
            model,
            layout,
            order,
            tape: Tape::new(),
            jacobian: true,
        }
    }

    /// Whether log p includes the log |Jacobian| of the parameters' transforms (Stan's
    /// `jacobian` flag). With it (the default, what the sampler needs) the log density is that
    /// of the unconstrained coordinates; without it, that of the constrained parameters,
    /// evaluated at their transforms — its maximum is the posterior mode (MAP) of the
    /// constrained parameters, what CmdStan's `optimize` finds by default
    /// ([`optimize_model`](crate::approx::optimize_model)).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::Var;
    /// use infer_dist::{Constraint, Distribution, Exponential};
    /// use infer_mcmc::model::{Model, Params, TapeModel};
    /// use infer_mcmc::{LogDensity, LogDensityError};
    ///
    /// struct Rate;
    /// impl Model for Rate {
    ///     fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
    ///         let lambda = p.scalar("lambda", Constraint::Positive)?;
    ///         Ok(Exponential::new(p.tape().scalar(1.0))?.log_prob_sum(lambda.as_tensor())?)
    ///     }
    /// }
    /// let mut m = TapeModel::new(Rate)?.with_jacobian(false);
    /// assert!(!m.jacobian());
    /// let mut grad = [0.0];
    /// // log p(λ) = −λ at λ = e¹ (no + y of the Jacobian), gradient −eʸ
    /// let lp = m.logp_and_grad(&[1.0], &mut grad)?;
    /// assert!((lp + 1f64.exp()).abs() < 1e-12 && (grad[0] + 1f64.exp()).abs() < 1e-12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_jacobian(mut self, jacobian: bool) -> Self {
        self.jacobian = jacobian;
        self
    }

    /// Whether log p includes the log |Jacobian| (see [`TapeModel::with_jacobian`]).
    #[must_use]
    pub fn jacobian(&self) -> bool {
        self.jacobian
    }

    /// Runs the model in `mode` at unconstrained point `y` (if any): the log density with the
    /// log |Jacobian| added when `jacobian`.
    fn run<'t>(
        model: &M,
        tape: &'t Tape,
        layout: &'t Layout,
        order: &'t [usize],
        y: Option<Tensor<'t>>,
        mode: Mode<'t>,
        jacobian: bool,
    ) -> Result<Var<'t>, LogDensityError> {
        let mut p = Params {
            tape,
            mode,
            layout: Some(layout),
            order,
            y,
            next: 0,
            log_jac: None,
            jacobian,
        };
        let lp = model.log_density(&mut p)?;
        if p.next != order.len() {
            let missing = order
                .get(p.next)
                .map_or_else(String::new, |&k| layout.entries()[k].name.clone());
            return Err(ModelError::Declaration {
                index: p.next,
                expected: missing,
                found: "(none)".to_owned(),
            }
            .into());
        }
        Ok(match p.log_jac {
            Some(j) => lp + j,
            None => lp,
        })
    }
}

impl<M: Model> LogDensity for TapeModel<M> {
    fn dim(&self) -> usize {
        self.layout.dim()
    }

    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        let TapeModel {
            model,
            layout,
            order,
            tape,
            jacobian,
        } = self;
        let jacobian = *jacobian;
        tape_logp_and_grad(tape, grad, |tape| {
            let y = tape.tensor_from_slice(&[layout.dim()], x)?;
            let lp = Self::run(
                model,
                tape,
                layout,
                order,
                Some(y),
                Mode::Gradient,
                jacobian,
            )?;
            Ok((TapeInputs::Vector(y), lp))
        })
    }

    fn layout(&self) -> Layout {
        self.layout.clone()
    }

    fn write_draw(
        &mut self,
        x: &[f64],
        rng: &mut dyn RngCore,
        out: &mut [f64],
    ) -> Result<(), LogDensityError> {
        self.tape.clear();
        let tape = &self.tape;
        let y = tape.constant_from_slice(&[self.layout.dim()], x)?;
        let mode = Mode::Record {
            out,
            rng: Box::new(StdRng::seed_from_u64(rng.next_u64())),
        };
        Self::run(
            &self.model,
            tape,
            &self.layout,
            &self.order,
            Some(y),
            mode,
            false,
        )?;
        Ok(())
    }

    fn init_point(
        &mut self,
        inits: &Inits,
        radius: f64,
        rng: &mut dyn RngCore,
    ) -> Result<Vec<f64>, LogDensityError> {
        for (name, _) in inits.iter() {
            match self.layout.entry(name) {
                Some(e) if e.block == Block::Parameter => {}
                _ => {
                    return Err(ModelError::UnknownInit {
                        name: name.to_owned(),
                    }
                    .into());
                }
            }
        }
        self.tape.clear();
        let mut out = vec![0.0; self.layout.dim()];
        let mode = Mode::Unconstrain {
            inits,
            radius,
            rng,
            out: &mut out,
        };
        Self::run(
            &self.model,
            &self.tape,
            &self.layout,
            &self.order,
            None,
            mode,
            false,
        )?;
        Ok(out)
    }
}

impl From<LayoutError> for McmcError {
    fn from(e: LayoutError) -> Self {
        McmcError::Model(e.into())
    }
}
