//! Reading the teacher on a tape: its weights as untracked constants, indexable like
//! infer-ad's [`Bound`](infer_ad::Bound).

use crate::ema::MeanTeacher;
use infer_ad::{ParamConstraint, ParamId, ParamStore, Tape, Tensor};
use std::ops::Index;

/// The parameters of a [`ParamStore`] placed on a tape as untracked constants: operations on
/// them record no backward nodes and no gradient can reach them. Index it with the
/// [`ParamId`]s of the store (for a teacher, the student's ids). Write the model's forward pass
/// generic over `impl Index<ParamId, Output = Tensor<'t>>` to run it on either this or a
/// tracked [`Bound`](infer_ad::Bound).
///
/// # Examples
/// ```
/// use infer_ad::{ParamStore, Tape};
/// use infer_mean_teacher::Constants;
/// let mut store = ParamStore::new();
/// let w = store.add("w", ndarray::arr1(&[1.0, 2.0]))?;
/// let tape = Tape::new();
/// let c = Constants::bind(&store, &tape);
/// assert!(!c[w].is_tracked());
/// assert_eq!(c[w].to_vec(), vec![1.0, 2.0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Constants<'t> {
    tensors: Vec<Tensor<'t>>,
}

impl<'t> Constants<'t> {
    /// Places every parameter of `store` on `tape` as an untracked constant: its value on
    /// its declared scale, as [`Bound`](infer_ad::Bound) gives it (the constrained value of
    /// a parameter added with [`ParamStore::add_constrained`]).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamStore, Tape};
    /// let mut store = ParamStore::new();
    /// store.add("b", ndarray::arr1(&[0.5]))?;
    /// let tape = Tape::new();
    /// let c = infer_mean_teacher::Constants::bind(&store, &tape);
    /// assert_eq!(c.tensors().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// A constrained parameter reads as its constrained value, as on a tracked binding:
    /// ```
    /// use infer_ad::{ParamConstraint, ParamStore, Tape};
    /// let mut store = ParamStore::new();
    /// let sd = store.add_constrained("sd", ndarray::arr1(&[0.5]), ParamConstraint::positive())?;
    /// let tape = Tape::new();
    /// let c = infer_mean_teacher::Constants::bind(&store, &tape);
    /// assert_eq!(c[sd].to_vec(), store.bind(&tape)[sd].to_vec());
    /// assert!((c[sd].to_vec()[0] - 0.5).abs() < 1e-15);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bind(store: &ParamStore, tape: &'t Tape) -> Self {
        Constants {
            tensors: store
                .ids()
                .map(|id| {
                    if store.constraint(id) == ParamConstraint::Real {
                        tape.constant(store.value(id))
                    } else {
                        tape.constant(&store.constrained_value(id))
                    }
                })
                .collect(),
        }
    }

    /// The tensor of a parameter.
    ///
    /// # Panics
    /// If `id` does not index a parameter of the bound store.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamStore, Tape};
    /// let mut store = ParamStore::new();
    /// let b = store.add("b", ndarray::arr1(&[0.5]))?;
    /// let tape = Tape::new();
    /// let c = infer_mean_teacher::Constants::bind(&store, &tape);
    /// assert_eq!(c.get(b).to_vec(), vec![0.5]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, id: ParamId) -> Tensor<'t> {
        self.tensors[id.index()]
    }

    /// All tensors, in the store's order.
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamStore, Tape};
    /// let mut store = ParamStore::new();
    /// store.add("a", ndarray::arr1(&[1.0]))?;
    /// store.add("b", ndarray::arr1(&[2.0, 3.0]))?;
    /// let tape = Tape::new();
    /// let c = infer_mean_teacher::Constants::bind(&store, &tape);
    /// assert_eq!(c.tensors()[1].numel(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn tensors(&self) -> &[Tensor<'t>] {
        &self.tensors
    }
}

impl<'t> Index<ParamId> for Constants<'t> {
    type Output = Tensor<'t>;
    fn index(&self, id: ParamId) -> &Tensor<'t> {
        &self.tensors[id.index()]
    }
}

impl MeanTeacher<ParamStore> {
    /// The teacher's weights on `tape` as untracked constants, indexed by the student's
    /// [`ParamId`]s: the teacher's forward pass records no backward nodes and the teacher
    /// never receives a gradient (Tarvainen & Valpola 2017 stop the gradient at the teacher).
    ///
    /// # Examples
    /// ```
    /// use infer_ad::{ParamStore, Tape};
    /// use infer_mean_teacher::{EmaSettings, MeanTeacher};
    /// let mut student = ParamStore::new();
    /// let w = student.add("w", ndarray::arr1(&[3.0]))?;
    /// let mt = MeanTeacher::new(EmaSettings::default(), &student)?;
    /// let tape = Tape::new();
    /// let t = mt.bind_teacher(&tape);
    /// let s = student.bind(&tape);
    /// let loss = (s[w] - t[w]).square().sum();
    /// loss.backward();
    /// assert!(!t[w].is_tracked());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bind_teacher<'t>(&self, tape: &'t Tape) -> Constants<'t> {
        Constants::bind(&self.teacher, tape)
    }
}
