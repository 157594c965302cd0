//! [`TapeModel`], a [`Model`] as a [`LogDensity`] on the unconstrained space.

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

use super::params::{Mode, Params};
use super::{Model, ModelError};
use crate::density::{LogDensity, TapeInputs, tape_logp_and_grad};
use crate::error::{LogDensityError, McmcError};
use crate::init::Inits;
use crate::layout::{Block, EntrySpec, Layout};
use crate::panic::catch_model_panic;
use infer_ad::{Tape, Tensor, Var};

/// Runs `model` with declarations collected, the parameters at unconstrained coordinates from
/// `source`; the declarations in call order, or the model's error.
fn discover<M: Model + ?Sized>(
    model: &M,
    source: &mut dyn FnMut(usize) -> Vec<f64>,
) -> Result<Vec<EntrySpec>, LogDensityError> {
    let tape = Tape::new();
    let mode = Mode::Discover {
        specs: Vec::new(),
        source,
    };
    let mut p = Params::new(&tape, mode, None, &[], None, true);
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
        let mut p = Params::new(tape, mode, Some(layout), order, y, jacobian);
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

/// One [`TapeModel`] of `model` per chain, for the samplers' model factories: the layout is
/// learned once (a panic while learning it is reported as one of chain 0) and each call
/// wraps the shared model with its own tape.
///
/// # Errors
/// As [`TapeModel::new`]; [`McmcError::ChainPanicked`] when the model panics.
pub(crate) fn tape_models<'m, M: Model + Sync>(
    model: &'m M,
) -> Result<impl Fn(usize) -> TapeModel<&'m M> + Sync + 'm, McmcError> {
    let (layout, order) = catch_model_panic(0, || TapeModel::new(model))?.parts();
    Ok(move |_| TapeModel::with_parts(model, layout.clone(), order.clone()))
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
