//! [`ParameterSet`]: an ordered set of named f64 arrays that an EMA can average.

use crate::error::MeanTeacherError;
use infer_ad::ParamStore;
use ndarray::ArrayD;
use std::collections::BTreeMap;

/// An ordered set of named f64 arrays — a model's parameters — that a
/// [`MeanTeacher`](crate::MeanTeacher) can average.
///
/// Implemented for infer-ad's [`ParamStore`], for `BTreeMap<String, ArrayD<f64>>` and for
/// `Vec<(String, ArrayD<f64>)>`. Positions `0..num_arrays()` index the arrays; the order must
/// be stable between calls. Access by position should be cheap (it is O(1) for the store and
/// the vector, O(position) for the map, which is negligible beside the array work).
///
/// # Examples
/// ```
/// use infer_mean_teacher::ParameterSet;
/// use std::collections::BTreeMap;
/// let mut map = BTreeMap::new();
/// map.insert("w".to_string(), ndarray::arr1(&[1.0, 2.0]).into_dyn());
/// assert_eq!(map.num_arrays(), 1);
/// assert_eq!(map.array(0).0, "w");
/// map.array_mut(0)[0] = 5.0;
/// assert_eq!(map["w"][0], 5.0);
/// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
/// ```
pub trait ParameterSet {
    /// Number of arrays.
    fn num_arrays(&self) -> usize;

    /// Name and value of the array at position `i`.
    ///
    /// # Panics
    /// May panic if `i >= self.num_arrays()`.
    fn array(&self, i: usize) -> (&str, &ArrayD<f64>);

    /// The array at position `i`, mutably. Callers keep its shape.
    ///
    /// # Panics
    /// May panic if `i >= self.num_arrays()`.
    fn array_mut(&mut self, i: usize) -> &mut ArrayD<f64>;

    /// Clears anything besides the values that a copy should not inherit (the gradients of a
    /// [`ParamStore`]). Called on a teacher made by cloning a student. Default: nothing.
    fn reset_auxiliary(&mut self) {}

    /// Total number of scalar elements.
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::ParameterSet;
    /// let mut store = infer_ad::ParamStore::new();
    /// store.add("w", ndarray::Array2::<f64>::zeros((3, 4)))?;
    /// assert_eq!(ParameterSet::num_elements(&store), 12);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn num_elements(&self) -> usize {
        (0..self.num_arrays()).map(|i| self.array(i).1.len()).sum()
    }

    /// Checks that `other` has the same names and shapes in the same order; `self` is
    /// reported as the student.
    ///
    /// # Errors
    /// [`MeanTeacherError::CountMismatch`], [`MeanTeacherError::NameMismatch`] or
    /// [`MeanTeacherError::ShapeMismatch`], naming the first offending parameter.
    ///
    /// # Examples
    /// ```
    /// use infer_mean_teacher::ParameterSet;
    /// let a = vec![("w".to_string(), ndarray::arr1(&[1.0]).into_dyn())];
    /// let b = vec![("w".to_string(), ndarray::arr1(&[1.0, 2.0]).into_dyn())];
    /// a.check_same_layout(&a)?;
    /// assert!(a.check_same_layout(&b).is_err());
    /// # Ok::<(), infer_mean_teacher::MeanTeacherError>(())
    /// ```
    fn check_same_layout(&self, other: &Self) -> Result<(), MeanTeacherError>
    where
        Self: Sized,
    {
        check_layout(self, other)
    }
}

/// Checks that `teacher` matches `student` name by name and shape by shape.
pub(crate) fn check_layout<P: ParameterSet + ?Sized>(
    student: &P,
    teacher: &P,
) -> Result<(), MeanTeacherError> {
    let n = student.num_arrays();
    if teacher.num_arrays() != n {
        return Err(MeanTeacherError::CountMismatch {
            student: n,
            teacher: teacher.num_arrays(),
        });
    }
    for i in 0..n {
        let (sn, sa) = student.array(i);
        let (tn, ta) = teacher.array(i);
        if sn != tn {
            return Err(MeanTeacherError::NameMismatch {
                index: i,
                student: sn.to_owned(),
                teacher: tn.to_owned(),
            });
        }
        if sa.shape() != ta.shape() {
            return Err(MeanTeacherError::ShapeMismatch {
                name: sn.to_owned(),
                student: sa.shape().to_vec(),
                teacher: ta.shape().to_vec(),
            });
        }
    }
    Ok(())
}

impl ParameterSet for ParamStore {
    fn num_arrays(&self) -> usize {
        self.len()
    }

    fn array(&self, i: usize) -> (&str, &ArrayD<f64>) {
        let id = store_id(self, i);
        (self.name(id), self.value(id))
    }

    fn array_mut(&mut self, i: usize) -> &mut ArrayD<f64> {
        let id = store_id(self, i);
        self.value_mut(id)
    }

    fn reset_auxiliary(&mut self) {
        self.zero_grads();
    }
}

/// The id of the `i`-th parameter of a store.
///
/// # Panics
/// If `i >= store.len()`.
fn store_id(store: &ParamStore, i: usize) -> infer_ad::ParamId {
    match store.ids().nth(i) {
        Some(id) => id,
        None => panic!(
            "parameter position {i} out of range for a store of {}",
            store.len()
        ),
    }
}

impl ParameterSet for BTreeMap<String, ArrayD<f64>> {
    fn num_arrays(&self) -> usize {
        self.len()
    }

    fn array(&self, i: usize) -> (&str, &ArrayD<f64>) {
        match self.iter().nth(i) {
            Some((k, v)) => (k.as_str(), v),
            None => panic!(
                "parameter position {i} out of range for a map of {}",
                self.len()
            ),
        }
    }

    fn array_mut(&mut self, i: usize) -> &mut ArrayD<f64> {
        let len = self.len();
        match self.values_mut().nth(i) {
            Some(v) => v,
            None => panic!("parameter position {i} out of range for a map of {len}"),
        }
    }
}

impl ParameterSet for Vec<(String, ArrayD<f64>)> {
    fn num_arrays(&self) -> usize {
        self.len()
    }

    fn array(&self, i: usize) -> (&str, &ArrayD<f64>) {
        let (k, v) = &self[i];
        (k.as_str(), v)
    }

    fn array_mut(&mut self, i: usize) -> &mut ArrayD<f64> {
        &mut self[i].1
    }
}
