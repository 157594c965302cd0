//! Named parameters that persist across tapes, become leaves on each tape, and collect
//! gradients for the optimizers.

use crate::error::AdError;
use crate::shape::Shape;
use crate::tape::Tape;
use crate::tensor::Tensor;
use ndarray::{Array, ArrayD, Dimension};
use std::sync::atomic::{AtomicU64, Ordering};

mod bound;
mod constraint;

pub use bound::Bound;
pub use constraint::{ParamConstraint, PositiveMap};

/// Source of store identities (see [`ParamStore::accumulate_grads`]).
static NEXT_STORE: AtomicU64 = AtomicU64::new(1);

/// Handle to a parameter in a [`ParamStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParamId(pub(crate) usize);

impl ParamId {
    /// Position of the parameter in its store.
    pub fn index(self) -> usize {
        self.0
    }
}

/// A store of named f64 arrays (the model's parameters) with one gradient buffer each.
///
/// Each training step binds the parameters to a fresh (or cleared) tape as tracked leaves,
/// computes a loss, runs the backward pass, and collects the gradients with
/// [`ParamStore::accumulate_grads`]; an [`crate::optim::Optimizer`] then updates the values.
///
/// # Examples
/// ```
/// use infer_ad::{ParamStore, Tape, optim::{Adam, AdamConfig, Optimizer}};
/// let mut store = ParamStore::new();
/// let w = store.add("w", ndarray::arr1(&[3.0]))?;
/// let mut adam = Adam::new(AdamConfig { lr: 0.1, ..AdamConfig::default() })?;
/// let mut tape = Tape::new();
/// for _ in 0..200 {
///     tape.clear();
///     let p = store.bind(&tape);
///     let loss = (p[w] - 1.0).square().sum(); // minimise (w - 1)²
///     loss.backward();
///     store.zero_grads();
///     store.accumulate_grads(&p)?;
///     adam.step(&mut store)?;
/// }
/// assert!((store.value(w)[0] - 1.0).abs() < 1e-2);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ParamStore {
    /// Identity, recorded in every [`Bound`] the store makes so that a binding of another
    /// store is recognized. A clone keeps it (its parameters are the same at that point).
    id: u64,
    names: Vec<String>,
    values: Vec<ArrayD<f64>>,
    grads: Vec<ArrayD<f64>>,
    /// One per parameter ([`ParamConstraint::Real`] for [`ParamStore::add`]).
    constraints: Vec<ParamConstraint>,
}

impl Default for ParamStore {
    fn default() -> Self {
        ParamStore {
            id: NEXT_STORE.fetch_add(1, Ordering::Relaxed),
            names: Vec::new(),
            values: Vec::new(),
            grads: Vec::new(),
            constraints: Vec::new(),
        }
    }
}

impl ParamStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a parameter with an initial value.
    ///
    /// # Errors
    /// [`AdError::DuplicateParameter`] when the name exists; [`AdError::TooManyDims`].
    pub fn add<D: Dimension>(
        &mut self,
        name: impl Into<String>,
        value: Array<f64, D>,
    ) -> Result<ParamId, AdError> {
        let name = name.into();
        if self.names.contains(&name) {
            return Err(AdError::DuplicateParameter { name });
        }
        Shape::new(value.shape())?;
        let value = value.into_dyn().as_standard_layout().into_owned();
        self.grads.push(ArrayD::zeros(value.raw_dim()));
        self.values.push(value);
        self.names.push(name);
        self.constraints.push(ParamConstraint::Real);
        Ok(ParamId(self.names.len() - 1))
    }

    /// Adds a parameter declared to live in a domain (Pyro's `pyro.param(name, init,
    /// constraint=...)`), with its initial value given on the constrained scale. The store
    /// keeps the unconstrained value `T⁻¹(value)`: optimizers update it there, and
    /// [`ParamStore::bind`] records the constrained value `T(u)` on the tape (see
    /// [`ParamConstraint`] for the transforms), so a guide's scale declared positive stays
    /// positive whatever step the optimizer takes. [`ParamStore::value`],
    /// [`ParamStore::to_flat`] and [`ParamStore::write_flat`] work on the unconstrained
    /// scale; [`ParamStore::constrained_value`] reads the constrained one.
    ///
    /// The constraint is a reparameterization for optimization: a sampler that moves the
    /// stored values (infer-mcmc's step functions over a store) moves the unconstrained
    /// ones and targets the closure's density in those coordinates, without the
    /// change-of-variables term; declare constraints of sampled parameters through a model's
    /// parameter layout instead.
    ///
    /// # Errors
    /// [`AdError::InvalidHyperParameter`] for a constraint with bad bounds (see
    /// [`ParamConstraint::validate`]); [`AdError::InvalidArgument`] naming the parameter's
    /// element when an initial value lies outside the open domain, or so close to a bound
    /// that its unconstrained value is not finite; then as [`ParamStore::add`].
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{AdError, ParamConstraint, ParamStore};
    /// let mut s = ParamStore::new();
    /// let p = s.add_constrained(
    ///     "p",
    ///     ndarray::arr1(&[0.25, 0.5]),
    ///     ParamConstraint::Interval { lower: 0.0, upper: 1.0 },
    /// )?;
    /// assert!((s.constrained_value(p)[0] - 0.25).abs() < 1e-15);
    /// assert_eq!(s.value(p)[1], 0.0); // logit 0.5
    /// let err = s.add_constrained("sd", ndarray::arr1(&[-1.0]), ParamConstraint::positive());
    /// assert!(matches!(err, Err(AdError::InvalidArgument { .. })));
    /// # Ok::<(), AdError>(())
    /// ```
    pub fn add_constrained<D: Dimension>(
        &mut self,
        name: impl Into<String>,
        value: Array<f64, D>,
        constraint: ParamConstraint,
    ) -> Result<ParamId, AdError> {
        constraint.validate()?;
        let name = name.into();
        let mut unconstrained = value.into_dyn();
        for (k, x) in unconstrained.iter_mut().enumerate() {
            let u = constraint.inverse(*x);
            if !u.is_finite() {
                return Err(AdError::InvalidArgument {
                    op: "ParamStore::add_constrained",
                    name: format!("{name}[{k}]"),
                    value: *x,
                    reason: constraint.domain(),
                });
            }
            *x = u;
        }
        let id = self.add(name, unconstrained)?;
        self.constraints[id.0] = constraint;
        Ok(id)
    }

    /// A parameter's declared constraint ([`ParamConstraint::Real`] when added with
    /// [`ParamStore::add`]).
    ///
    /// # Panics
    /// If `id` is not from this store.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamConstraint, ParamStore};
    /// let mut s = ParamStore::new();
    /// let w = s.add("w", ndarray::arr1(&[1.0]))?;
    /// let sd = s.add_constrained("sd", ndarray::arr1(&[1.0]), ParamConstraint::positive())?;
    /// assert_eq!(s.constraint(w), ParamConstraint::Real);
    /// assert_eq!(s.constraint(sd), ParamConstraint::positive());
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn constraint(&self, id: ParamId) -> ParamConstraint {
        self.constraints[id.0]
    }

    /// A parameter's value on its constrained scale (for a parameter without a
    /// constraint, a copy of [`ParamStore::value`]), computed as [`ParamStore::bind`]
    /// computes it on the tape.
    ///
    /// # Panics
    /// If `id` is not from this store.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamConstraint, ParamStore};
    /// let mut s = ParamStore::new();
    /// let sd = s.add_constrained("sd", ndarray::arr1(&[2.0]), ParamConstraint::positive())?;
    /// s.value_mut(sd)[0] = -50.0; // any unconstrained value
    /// assert!(s.constrained_value(sd)[0] > 0.0);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn constrained_value(&self, id: ParamId) -> ArrayD<f64> {
        let c = self.constraints[id.0];
        self.values[id.0].mapv(|u| c.forward(u).0)
    }

    /// Looks a parameter up by name.
    ///
    /// # Errors
    /// [`AdError::UnknownParameter`].
    pub fn id(&self, name: &str) -> Result<ParamId, AdError> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(ParamId)
            .ok_or_else(|| AdError::UnknownParameter {
                name: name.to_owned(),
            })
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Total number of scalar elements over all parameters.
    pub fn num_elements(&self) -> usize {
        self.values.iter().map(ArrayD::len).sum()
    }

    /// The ids, in insertion order.
    pub fn ids(&self) -> impl Iterator<Item = ParamId> + '_ {
        (0..self.len()).map(ParamId)
    }

    /// A parameter's name.
    ///
    /// # Panics
    /// If `id` is not from this store.
    pub fn name(&self, id: ParamId) -> &str {
        &self.names[id.0]
    }

    /// A parameter's value.
    ///
    /// # Panics
    /// If `id` is not from this store.
    pub fn value(&self, id: ParamId) -> &ArrayD<f64> {
        &self.values[id.0]
    }

    /// A parameter's value, mutably. If the array is replaced by one of another shape, the
    /// parameter's gradient (and an optimizer's state for it) restarts from zero at the next
    /// step.
    ///
    /// # Panics
    /// If `id` is not from this store.
    pub fn value_mut(&mut self, id: ParamId) -> &mut ArrayD<f64> {
        &mut self.values[id.0]
    }

    /// A parameter's accumulated gradient.
    ///
    /// # Panics
    /// If `id` is not from this store.
    pub fn grad(&self, id: ParamId) -> &ArrayD<f64> {
        &self.grads[id.0]
    }

    /// A parameter's gradient, mutably.
    ///
    /// # Panics
    /// If `id` is not from this store.
    pub fn grad_mut(&mut self, id: ParamId) -> &mut ArrayD<f64> {
        &mut self.grads[id.0]
    }

    /// Value and gradient of parameter `i` as flat row-major slices (for optimizers). A value
    /// that was replaced through [`ParamStore::value_mut`] by an array in another memory
    /// layout is first copied into standard layout, and a gradient whose shape no longer
    /// matches its value is reset to zeros, so the slices always exist and agree in length.
    pub(crate) fn value_and_grad_mut(&mut self, i: usize) -> (&mut [f64], &[f64]) {
        self.normalize(i);
        let value = self.values[i]
            .as_slice_mut()
            .unwrap_or_else(|| unreachable!("normalized to standard layout"));
        let grad = self.grads[i]
            .as_slice()
            .unwrap_or_else(|| unreachable!("normalized to standard layout"));
        (value, grad)
    }

    /// Restores the invariants `value_mut`/`grad_mut` let a caller break: standard layout,
    /// and a gradient of the value's shape.
    fn normalize(&mut self, i: usize) {
        if !self.values[i].is_standard_layout() {
            self.values[i] = self.values[i].as_standard_layout().into_owned();
        }
        if self.grads[i].shape() != self.values[i].shape() {
            self.grads[i] = ArrayD::zeros(self.values[i].raw_dim());
        } else if !self.grads[i].is_standard_layout() {
            self.grads[i] = self.grads[i].as_standard_layout().into_owned();
        }
    }

    /// Makes every parameter a tracked leaf on `tape` (a constrained parameter's leaf is
    /// its unconstrained value, and indexing the binding gives the constrained value, one
    /// elementwise node; see [`ParamStore::add_constrained`]).
    ///
    /// Each binding is counted on the tape until [`Tape::clear`]
    /// ([`Tape::binds_since_clear`]); a debug build warns once when a tape is bound many
    /// times without being cleared, the sign of a training loop that forgot to clear it.
    pub fn bind<'t>(&self, tape: &'t Tape) -> Bound<'t> {
        let leaves: Vec<_> = self.values.iter().map(|v| tape.tensor(v)).collect();
        self.finish_bind(tape, leaves)
    }

    /// The binding of `leaves`: their constrained views when the store declares a
    /// constraint, and the tape's count of bindings.
    fn finish_bind<'t>(&self, tape: &'t Tape, leaves: Vec<Tensor<'t>>) -> Bound<'t> {
        tape.note_bind();
        let views = if self.constraints.iter().all(|c| c.is_real()) {
            Vec::new()
        } else {
            leaves
                .iter()
                .zip(&self.constraints)
                .map(|(&leaf, &c)| {
                    if c.is_real() {
                        leaf
                    } else {
                        leaf.map_internal(move |u| c.forward(u))
                    }
                })
                .collect()
        };
        Bound {
            store: self.id,
            leaves,
            views,
        }
    }

    /// Makes every parameter a tracked leaf on `tape`, taking the values from `flat` (all
    /// parameters concatenated in store order, each row-major) instead of the store. This is
    /// how a sampler evaluates the model at a proposal without touching the store.
    ///
    /// # Errors
    /// [`AdError::LengthMismatch`] when `flat.len()` differs from [`ParamStore::num_elements`].
    ///
    /// # Examples
    /// ```
    /// let mut s = infer_ad::ParamStore::new();
    /// let a = s.add("a", ndarray::arr1(&[1.0, 2.0]))?;
    /// let tape = infer_ad::Tape::new();
    /// let p = s.bind_flat(&tape, &[5.0, 6.0])?;
    /// assert_eq!(p[a].to_vec(), vec![5.0, 6.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn bind_flat<'t>(&self, tape: &'t Tape, flat: &[f64]) -> Result<Bound<'t>, AdError> {
        if flat.len() != self.num_elements() {
            return Err(AdError::LengthMismatch {
                shape: Shape::vector(self.num_elements()),
                len: flat.len(),
            });
        }
        let mut leaves = Vec::with_capacity(self.len());
        let mut at = 0;
        for v in &self.values {
            let n = v.len();
            leaves.push(tape.tensor_from_slice(v.shape(), &flat[at..at + n])?);
            at += n;
        }
        Ok(self.finish_bind(tape, leaves))
    }

    /// Copies all values, concatenated in store order, into `out`.
    ///
    /// # Errors
    /// [`AdError::LengthMismatch`] when `out.len()` differs from [`ParamStore::num_elements`].
    pub fn read_flat(&self, out: &mut [f64]) -> Result<(), AdError> {
        self.check_flat(out.len())?;
        let mut at = 0;
        for v in &self.values {
            for x in v.iter() {
                out[at] = *x;
                at += 1;
            }
        }
        Ok(())
    }

    /// All values concatenated in store order.
    pub fn to_flat(&self) -> Vec<f64> {
        self.values.iter().flat_map(|v| v.iter().copied()).collect()
    }

    /// Sets all values from `flat` (concatenated in store order).
    ///
    /// # Errors
    /// [`AdError::LengthMismatch`] when `flat.len()` differs from [`ParamStore::num_elements`].
    ///
    /// # Examples
    /// ```
    /// let mut s = infer_ad::ParamStore::new();
    /// s.add("a", ndarray::arr1(&[1.0, 2.0]))?;
    /// s.add("b", ndarray::arr0(3.0))?;
    /// s.write_flat(&[4.0, 5.0, 6.0])?;
    /// assert_eq!(s.to_flat(), vec![4.0, 5.0, 6.0]);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn write_flat(&mut self, flat: &[f64]) -> Result<(), AdError> {
        self.check_flat(flat.len())?;
        let mut at = 0;
        for v in &mut self.values {
            for x in v.iter_mut() {
                *x = flat[at];
                at += 1;
            }
        }
        Ok(())
    }

    fn check_flat(&self, len: usize) -> Result<(), AdError> {
        if len == self.num_elements() {
            Ok(())
        } else {
            Err(AdError::LengthMismatch {
                shape: Shape::vector(self.num_elements()),
                len,
            })
        }
    }

    /// Sets every gradient to zero.
    pub fn zero_grads(&mut self) {
        for g in &mut self.grads {
            g.fill(0.0);
        }
    }

    /// Adds the gradients of the last backward pass on `bound`'s tape into the store.
    ///
    /// # Errors
    /// Nothing is accumulated, and the error is [`AdError::ForeignBinding`] when `bound` was
    /// made by another store (a clone of this store counts as this store) or before
    /// parameters were added; [`AdError::ShapeMismatch`] when a parameter was replaced by one
    /// of another shape (through [`ParamStore::value_mut`]) after `bound` was made.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{AdError, ParamStore, Tape};
    /// let (mut a, mut b) = (ParamStore::new(), ParamStore::new());
    /// a.add("w", ndarray::arr1(&[1.0]))?;
    /// b.add("w", ndarray::arr1(&[1.0]))?;
    /// let tape = Tape::new();
    /// let p = a.bind(&tape);
    /// p.leaves()[0].square().sum().backward();
    /// a.accumulate_grads(&p)?;
    /// assert_eq!(a.grad_norm(), 2.0);
    /// assert!(matches!(b.accumulate_grads(&p), Err(AdError::ForeignBinding { .. })));
    /// # Ok::<(), AdError>(())
    /// ```
    pub fn accumulate_grads(&mut self, bound: &Bound<'_>) -> Result<(), AdError> {
        if bound.store != self.id {
            return Err(AdError::ForeignBinding {
                reason: "it was made by another ParamStore",
            });
        }
        if bound.leaves.len() != self.len() {
            return Err(AdError::ForeignBinding {
                reason: "parameters were added to the store after it was made",
            });
        }
        for (leaf, value) in bound.leaves.iter().zip(&self.values) {
            if leaf.dims() != value.shape() {
                return Err(AdError::mismatch(
                    "accumulate_grads",
                    leaf.shape(),
                    Shape::new(value.shape())?,
                ));
            }
        }
        for (i, leaf) in bound.leaves.iter().enumerate() {
            self.normalize(i);
            let tape = leaf.tape();
            let inner = tape.inner_mut();
            let s = leaf.start_index();
            // iter_mut visits in logical (row-major) order, matching the leaf's slots
            for (k, gi) in self.grads[i].iter_mut().enumerate().take(leaf.numel()) {
                *gi += inner.grads().get(s + k).copied().unwrap_or(0.0);
            }
        }
        Ok(())
    }

    /// Global L2 norm of all gradients, without overflow or underflow of the squares (NaN
    /// when a gradient is NaN, ∞ when one is infinite or the norm exceeds `f64::MAX`).
    ///
    /// # Examples
    /// ```
    /// let mut s = infer_ad::ParamStore::new();
    /// let id = s.add("w", ndarray::arr1(&[0.0, 0.0]))?;
    /// s.grad_mut(id).assign(&ndarray::arr1(&[3e200, 4e200]).into_dyn());
    /// assert!((s.grad_norm() - 5e200).abs() <= 2e-16 * 5e200);
    /// # Ok::<(), infer_ad::AdError>(())
    /// ```
    pub fn grad_norm(&self) -> f64 {
        let (scaled, scale) = self.scaled_grad_norm();
        scaled / scale
    }

    /// The global gradient norm as `(n, s)` with norm = `n / s`, where `s` is a power of two
    /// chosen so that no square in `n` overflows or underflows (1 for gradients of moderate
    /// size, where `n` is the plain √Σg²).
    pub(crate) fn scaled_grad_norm(&self) -> (f64, f64) {
        let all = || self.grads.iter().flat_map(|g| g.iter());
        let amax = all().fold(0.0f64, |m, x| m.max(x.abs()));
        if amax.is_nan() || all().any(|x| x.is_nan()) {
            return (f64::NAN, 1.0);
        }
        // Exact powers of two (2⁻⁶⁰⁰, 2⁶⁰⁰): between the thresholds no scaling happens.
        let scale = if amax > 1e150 {
            f64::from_bits((1023u64 - 600) << 52)
        } else if amax < 1e-150 && amax > 0.0 {
            f64::from_bits((1023u64 + 600) << 52)
        } else {
            1.0
        };
        let sum: f64 = all().map(|x| (x * scale) * (x * scale)).sum();
        (sum.sqrt(), scale)
    }

    /// Visits every (name, value) pair.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ArrayD<f64>)> {
        self.names.iter().map(String::as_str).zip(&self.values)
    }
}
