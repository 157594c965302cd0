//! Models written on the `infer-ad` tape over named, constrained parameters.
//!
//! A [`Model`] declares its parameters ([`ParamSpec`]: name, shape, support) and computes
//! its log density on the tape from their **constrained** values. [`TapeModel`] turns it into
//! a [`LogDensity`] over the unconstrained space ℝⁿ: each parameter's support maps to a
//! bijection of `infer-dist` (positive → exp, interval → scaled sigmoid, simplex →
//! stick-breaking, …), the sampler moves on ℝⁿ, and the log |Jacobian| of the transforms is
//! added to the log density. Draws are recorded on the constrained scale under Stan's names
//! (`theta[1]`, `L[2,1]`).
//!
//! # Examples
//! Eight schools, non-centered:
//! ```
//! use infer_ad::{Tape, Var};
//! use infer_dist::{Constraint, Distribution, HalfCauchy, Normal};
//! use infer_mcmc::model::{Model, ModelParams, ParamSpec, TapeModel};
//! use infer_mcmc::{LogDensityError, Sampler, SamplerSettings};
//!
//! #[derive(Clone)]
//! struct EightSchools { y: ndarray::Array1<f64>, sigma: ndarray::Array1<f64> }
//!
//! impl Model for EightSchools {
//!     fn params(&self) -> Vec<ParamSpec> {
//!         vec![
//!             ParamSpec::scalar("mu", Constraint::Real),
//!             ParamSpec::scalar("tau", Constraint::Positive),
//!             ParamSpec::new("eta", &[8], Constraint::Real),
//!         ]
//!     }
//!     fn log_density<'t>(&self, tape: &'t Tape, p: &ModelParams<'t>) -> Result<Var<'t>, LogDensityError> {
//!         let (mu, tau, eta) = (p.get("mu")?, p.get("tau")?, p.get("eta")?);
//!         let lp = Normal::new(tape.constant(&ndarray::arr0(0.0)), tape.constant(&ndarray::arr0(5.0)))?.log_prob_sum(mu)?
//!             + HalfCauchy::new(tape.constant(&ndarray::arr0(5.0)))?.log_prob_sum(tau)?
//!             + Normal::new(tape.constant(&ndarray::arr0(0.0)), tape.constant(&ndarray::arr0(1.0)))?.log_prob_sum(eta)?
//!             + Normal::new(mu + tau * eta, tape.constant(&self.sigma))?.log_prob_sum(tape.constant(&self.y))?;
//!         Ok(lp)
//!     }
//! }
//!
//! let model = EightSchools {
//!     y: ndarray::arr1(&[28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0]),
//!     sigma: ndarray::arr1(&[15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0]),
//! };
//! let settings = SamplerSettings { num_chains: 1, num_warmup: 200, num_samples: 200, ..SamplerSettings::default() };
//! let fit = Sampler::new(settings)?.sample(|_| TapeModel::new(model.clone()).expect("valid specs"))?;
//! assert!(fit.draws_by_name("tau").expect("recorded").iter().all(|&t| t > 0.0));
//! assert!(fit.draws_by_name("eta[8]").is_ok());
//! assert!(fit.draws_by_name("eta[0]").is_err()); // 1-based: the error names eta[1] ..= eta[8]
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::density::LogDensity;
use crate::error::{LogDensityError, McmcError};
use infer_ad::{AdError, Tape, Tensor, Var};
use infer_dist::{Bijector, Constraint, DistError};

/// Declaration of one model parameter: its name, its shape (empty for a scalar) and its
/// support on the constrained scale.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Name, as reported in the draws (`"tau"`, `"beta"`).
    pub name: String,
    /// Shape; empty for a scalar.
    pub shape: Vec<usize>,
    /// Support of the parameter; must have a bijection onto ℝⁿ (continuous supports).
    pub support: Constraint,
}

impl ParamSpec {
    /// A parameter of the given shape and support.
    pub fn new(name: impl Into<String>, shape: &[usize], support: Constraint) -> Self {
        ParamSpec {
            name: name.into(),
            shape: shape.to_vec(),
            support,
        }
    }

    /// A scalar parameter.
    pub fn scalar(name: impl Into<String>, support: Constraint) -> Self {
        Self::new(name, &[], support)
    }

    fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// A log density on the tape over named constrained parameters. Implement [`Model::params`]
/// and [`Model::log_density`]; wrap it in a [`TapeModel`] to sample it.
pub trait Model {
    /// The parameters, in a fixed order.
    fn params(&self) -> Vec<ParamSpec>;

    /// log p(θ) up to a constant, from the constrained parameter values on `tape`. Return
    /// [`LogDensityError::Recoverable`] for points the model cannot evaluate but the chain
    /// may continue from (a divergence); `?` on an `infer-dist` error converts invalid
    /// distribution parameters into recoverable errors and everything else into fatal ones.
    ///
    /// # Errors
    /// As above.
    fn log_density<'t>(
        &self,
        tape: &'t Tape,
        params: &ModelParams<'t>,
    ) -> Result<Var<'t>, LogDensityError>;
}

/// The constrained parameter values of one evaluation, looked up by name.
#[derive(Debug)]
pub struct ModelParams<'t> {
    names: &'t [String],
    values: Vec<Tensor<'t>>,
}

impl<'t> ModelParams<'t> {
    /// The value of parameter `name`.
    ///
    /// # Errors
    /// A fatal [`LogDensityError`] when the model declared no such parameter.
    pub fn get(&self, name: &str) -> Result<Tensor<'t>, LogDensityError> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| self.values[i])
            .ok_or_else(|| {
                LogDensityError::fatal(AdError::UnknownParameter {
                    name: name.to_owned(),
                })
            })
    }

    /// The values in declaration order.
    pub fn values(&self) -> &[Tensor<'t>] {
        &self.values
    }
}

impl From<AdError> for LogDensityError {
    fn from(e: AdError) -> Self {
        LogDensityError::fatal(e)
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

#[derive(Debug, Clone)]
struct Slot {
    bijector: Bijector,
    shape: Vec<usize>,
    offset: usize,
    len: usize,
    constrained_len: usize,
}

/// A [`Model`] as a [`LogDensity`] on the unconstrained space (see the module docs). Owns
/// its tape, which is cleared and reused at every evaluation.
#[derive(Debug)]
pub struct TapeModel<M> {
    model: M,
    names: Vec<String>,
    slots: Vec<Slot>,
    dim: usize,
    constrained_dim: usize,
    tape: Tape,
}

impl<M: Model> TapeModel<M> {
    /// Wraps a model.
    ///
    /// # Errors
    /// [`McmcError::InvalidModel`] for a parameter whose support has no bijection
    /// onto ℝⁿ (a discrete support) or whose shape does not fit it (a simplex needs a
    /// vector, a Cholesky factor a square matrix), or duplicated names.
    pub fn new(model: M) -> Result<Self, McmcError> {
        let specs = model.params();
        let mut slots = Vec::with_capacity(specs.len());
        let mut names: Vec<String> = Vec::with_capacity(specs.len());
        let (mut dim, mut constrained_dim) = (0, 0);
        for spec in &specs {
            if names.contains(&spec.name) {
                return Err(McmcError::InvalidModel {
                    param: spec.name.clone(),
                    reason: "declared twice",
                });
            }
            let bijector = spec
                .support
                .bijector()
                .ok_or_else(|| McmcError::InvalidModel {
                    param: spec.name.clone(),
                    reason: "its support has no bijection onto the real line (discrete?)",
                })?;
            let constrained_len = spec.numel();
            let len = bijector.unconstrained_len(constrained_len).map_err(|_| {
                McmcError::InvalidModel {
                    param: spec.name.clone(),
                    reason: "its shape does not fit its support",
                }
            })?;
            slots.push(Slot {
                bijector,
                shape: spec.shape.clone(),
                offset: dim,
                len,
                constrained_len,
            });
            names.push(spec.name.clone());
            dim += len;
            constrained_dim += constrained_len;
        }
        if dim == 0 {
            return Err(McmcError::ZeroDimension);
        }
        Ok(TapeModel {
            model,
            names,
            slots,
            dim,
            constrained_dim,
            tape: Tape::new(),
        })
    }

    /// The wrapped model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// Maps constrained values (concatenated in declaration order, row-major) to the
    /// unconstrained point, e.g. to give the sampler user inits.
    ///
    /// # Errors
    /// A fatal [`LogDensityError`] for a wrong length or a value outside a support.
    pub fn unconstrain(&self, constrained: &[f64]) -> Result<Vec<f64>, LogDensityError> {
        if constrained.len() != self.constrained_dim {
            return Err(LogDensityError::fatal(AdError::LengthMismatch {
                shape: infer_ad::Shape::vector(self.constrained_dim),
                len: constrained.len(),
            }));
        }
        let mut out = Vec::with_capacity(self.dim);
        let mut at = 0;
        for s in &self.slots {
            let part = s
                .bijector
                .inverse(&constrained[at..at + s.constrained_len])?;
            out.extend_from_slice(&part);
            at += s.constrained_len;
        }
        Ok(out)
    }

    fn constrained<'t>(
        slots: &[Slot],
        y: Tensor<'t>,
        with_jacobian: bool,
    ) -> Result<(Vec<Tensor<'t>>, Option<Var<'t>>), LogDensityError> {
        let mut values = Vec::with_capacity(slots.len());
        let mut log_jac: Option<Var<'t>> = None;
        for s in slots {
            let u = y.slice_axis(0, s.offset, s.offset + s.len)?;
            let x = s.bijector.forward(u)?;
            values.push(x.reshape(&s.shape)?);
            if with_jacobian && s.bijector != Bijector::Identity {
                let lj = s.bijector.log_abs_det_jacobian(u)?;
                log_jac = Some(log_jac.map_or(lj, |acc| acc + lj));
            }
        }
        Ok((values, log_jac))
    }
}

impl<M: Model> LogDensity for TapeModel<M> {
    fn dim(&self) -> usize {
        self.dim
    }

    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        self.tape.clear();
        let tape = &self.tape;
        let y = tape.tensor_from_slice(&[self.dim], x)?;
        let (values, log_jac) = Self::constrained(&self.slots, y, true)?;
        let params = ModelParams {
            names: &self.names,
            values,
        };
        let lp = self.model.log_density(tape, &params)?;
        let lp = match log_jac {
            Some(j) => lp + j,
            None => lp,
        };
        lp.backward();
        y.grad_into(grad);
        Ok(lp.value())
    }

    fn param_names(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(self.constrained_dim);
        for (name, s) in self.names.iter().zip(&self.slots) {
            if s.shape.is_empty() {
                out.push(name.clone());
                continue;
            }
            let n: usize = s.shape.iter().product();
            for flat in 0..n {
                let mut idx = Vec::with_capacity(s.shape.len());
                let mut rem = flat;
                for d in s.shape.iter().rev() {
                    idx.push(rem % d + 1);
                    rem /= d;
                }
                idx.reverse();
                let idx: Vec<String> = idx.iter().map(ToString::to_string).collect();
                out.push(format!("{name}[{}]", idx.join(",")));
            }
        }
        out
    }

    fn constrained_dim(&self) -> usize {
        self.constrained_dim
    }

    fn write_constrained(&self, x: &[f64], out: &mut [f64]) -> Result<(), LogDensityError> {
        let tape = Tape::new();
        let y = tape.constant(&ndarray::ArrayView1::from(x));
        let (values, _) = Self::constrained(&self.slots, y, false)?;
        let mut at = 0;
        for v in values {
            let n = v.numel();
            v.value_into(&mut out[at..at + n]);
            at += n;
        }
        Ok(())
    }
}
