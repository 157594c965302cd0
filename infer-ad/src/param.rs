//! Named parameters that persist across tapes, become leaves on each tape, and collect
//! gradients for the optimizers.

use crate::error::AdError;
use crate::shape::Shape;
use crate::tape::Tape;
use crate::tensor::Tensor;
use ndarray::{Array, ArrayD, Dimension};

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
///     store.accumulate_grads(&p);
///     adam.step(&mut store);
/// }
/// assert!((store.value(w)[0] - 1.0).abs() < 1e-2);
/// # Ok::<(), infer_ad::AdError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ParamStore {
    names: Vec<String>,
    values: Vec<ArrayD<f64>>,
    grads: Vec<ArrayD<f64>>,
}

/// The parameters of a [`ParamStore`] bound to one tape as tracked leaves; index it with a
/// [`ParamId`].
#[derive(Debug, Clone)]
pub struct Bound<'t> {
    leaves: Vec<Tensor<'t>>,
}

impl<'t> Bound<'t> {
    /// The leaf of a parameter.
    ///
    /// # Panics
    /// If `id` is not from the store that made this binding.
    pub fn get(&self, id: ParamId) -> Tensor<'t> {
        self.leaves[id.0]
    }

    /// All leaves, in the store's order.
    pub fn leaves(&self) -> &[Tensor<'t>] {
        &self.leaves
    }
}

impl<'t> std::ops::Index<ParamId> for Bound<'t> {
    type Output = Tensor<'t>;
    fn index(&self, id: ParamId) -> &Tensor<'t> {
        &self.leaves[id.0]
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
        Ok(ParamId(self.names.len() - 1))
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

    /// A parameter's value, mutably (its shape must not change).
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

    /// Value and gradient of a parameter together (for optimizers).
    pub(crate) fn value_and_grad_mut(&mut self, i: usize) -> (&mut ArrayD<f64>, &ArrayD<f64>) {
        (&mut self.values[i], &self.grads[i])
    }

    /// Makes every parameter a tracked leaf on `tape`.
    pub fn bind<'t>(&self, tape: &'t Tape) -> Bound<'t> {
        Bound {
            leaves: self.values.iter().map(|v| tape.tensor(v)).collect(),
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
    /// # Panics
    /// If `bound` was made from a store with other shapes.
    pub fn accumulate_grads(&mut self, bound: &Bound<'_>) {
        for (g, leaf) in self.grads.iter_mut().zip(&bound.leaves) {
            let tape = leaf.tape();
            let inner = tape.inner.borrow();
            let s = leaf.start_index();
            let slice = g.as_slice_mut().expect("gradients are in standard layout");
            for (i, gi) in slice.iter_mut().enumerate() {
                *gi += inner.adj.get(s + i).copied().unwrap_or(0.0);
            }
        }
    }

    /// Global L2 norm of all gradients.
    pub fn grad_norm(&self) -> f64 {
        self.grads
            .iter()
            .flat_map(|g| g.iter())
            .map(|x| x * x)
            .sum::<f64>()
            .sqrt()
    }

    /// Visits every (name, value) pair.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ArrayD<f64>)> {
        self.names.iter().map(String::as_str).zip(&self.values)
    }
}
