//! [`Params`], the declarations of one evaluation of a [`Model`](super::Model), and the
//! values it records.

use rand::rngs::StdRng;
use rand::{Rng, RngCore, SeedableRng};

use super::ModelError;
use super::support::{Support, Transform};
use crate::error::LogDensityError;
use crate::init::Inits;
use crate::layout::{Block, Entry, EntrySpec, Layout, ParamSupport};
use infer_ad::{Tape, Tensor, Var};
use infer_dist::Bijector;

/// What one evaluation of a model is for.
pub(super) enum Mode<'a> {
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

/// The declarations and recorded values of one evaluation of a [`Model`](super::Model); see
/// the module docs.
pub struct Params<'t> {
    tape: &'t Tape,
    pub(super) mode: Mode<'t>,
    layout: Option<&'t Layout>,
    /// Position of each declaration in the layout's entries.
    order: &'t [usize],
    y: Option<Tensor<'t>>,
    pub(super) next: usize,
    pub(super) log_jac: Option<Var<'t>>,
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
    /// An evaluation in `mode` at unconstrained point `y` (if any), nothing declared yet.
    pub(super) fn new(
        tape: &'t Tape,
        mode: Mode<'t>,
        layout: Option<&'t Layout>,
        order: &'t [usize],
        y: Option<Tensor<'t>>,
        jacobian: bool,
    ) -> Self {
        Params {
            tape,
            mode,
            layout,
            order,
            y,
            next: 0,
            log_jac: None,
            jacobian,
        }
    }

    /// Adds `lj` to the log |Jacobian| accumulated so far.
    fn add_log_jac(&mut self, lj: Var<'t>) {
        self.log_jac = Some(self.log_jac.map_or(lj, |acc| acc + lj));
    }

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
                    self.add_log_jac(lj);
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
            self.add_log_jac(lj);
        }
        if let Mode::Record { out, .. } = &mut self.mode {
            let layout = self.layout.expect("a layout outside discovery");
            let e = &layout.entries()[self.order[self.next - 1]];
            x.value_into(&mut out[e.columns()]);
        }
        Ok(x.reshape(shape)?)
    }
}
