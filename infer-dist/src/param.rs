//! Operands of the distribution constructors and log densities: a [`Param`] is a tensor on a
//! tape, or a constant (a number or a data array) that is put on a tape only when a method
//! needs one.
//!
//! Every family's constructor takes `impl crate::IntoParam<'t>` for each parameter, so that
//! `Normal::new(0.0, 5.0)`, `Normal::new(mu, 1.0)`, `Normal::new(&means, sigma)` and
//! `Normal::new(loc_tensor, scale_var)` all compile. Constants given together with at least one
//! tape handle are placed on that handle's tape at once (as untracked constants: no gradient
//! slot); a distribution built from constants only keeps them as numbers and places them on the
//! tape of the value it is asked about (`log_prob`, `log_prob_sum`, `cdf`), or of the other
//! distribution in a KL divergence. The families' `log_prob`, `log_prob_sum` and `cdf` take
//! `impl crate::IntoValue<'t>`: a `Var`, a `Tensor`, a number, or observed data (`&y` for an
//! ndarray, a slice or a `Vec`, an `Arc<ArrayD>`, a [`Param`]).
//!
//! **Observed data is read in place, not copied.** A value given as data is passed to the
//! family's kernel as an [`infer_ad::Operand::Data`] borrowed for the one call
//! ([`IntoValue::with_value`]): the fused log density reads it where it is, neither copied
//! into an `Arc` nor recorded on the tape, and nothing the call records refers to it
//! afterwards (no gradient flows to data; the recorded node keeps only the parameters'
//! partials). This holds for every family whose `log_prob_sum`, `log_prob` or `cdf` runs
//! through the shared elementwise kernels — the hoisted fast paths of Normal and StudentT
//! included — for Bernoulli (and its logistic-regression fast path on `data_matvec` logits)
//! and for the GLM likelihoods' `log_prob_sum`. A non-contiguous view (a column of a
//! row-major matrix) is read through a buffer of the call, and data broadcast against a
//! larger batch is expanded in one; neither is put on the tape. The results are the same to
//! the bit as with `tape.constant(&y)`: the same kernel runs on the same numbers. The other
//! families (Categorical, Dirichlet, Multinomial, MultivariateNormal, …) and a [`Mixture`]
//! record data values as an untracked constant first, as before.
//!
//! ```
//! use infer_ad::Tape;
//! use infer_dist::Normal;
//! let y: Vec<f64> = (0..10_000).map(|i| (i as f64 * 0.1).sin()).collect();
//! let tape = Tape::new();
//! let (mu, sigma) = (tape.var(0.1), tape.var(1.5));
//! let before = tape.len();
//! let lp = Normal::new(mu, sigma)?.log_prob_sum(&y)?; // y read where it is
//! assert!(tape.len() - before < 10); // a few slots, not 10 000
//! // the same numbers, to the bit, as the copy on the tape gives
//! let copy = Normal::new(mu, sigma)?.log_prob_sum(tape.constant(&ndarray::arr1(&y)))?;
//! assert_eq!(lp.value().to_bits(), copy.value().to_bits());
//! # Ok::<(), infer_dist::DistError>(())
//! ```
//!
//! [`Mixture`]: crate::Mixture

mod value;

pub use value::IntoValue;

use crate::DistError;
use infer_ad::{Shape, Tape, Tensor, Var};
use ndarray::{Array1, Array2, ArrayBase, ArrayD, Data, Dimension};
use std::sync::Arc;

/// A distribution parameter or value: a [`Tensor`] (or scalar [`Var`]) on a tape, or a
/// constant not yet on any tape.
///
/// Built with `From`/`Into` from `f64`, `Var`, `Tensor`, `&ArrayD<f64>`, `&Array1<f64>`,
/// `&Array2<f64>`, `&[f64]`, `&Vec<f64>` and `Arc<ArrayD<f64>>` (shared data, not copied when
/// the parameter is built).
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, Normal, Param};
/// let tape = Tape::new();
/// let mu = tape.var(0.5);
/// // a prior from two numbers, evaluated at a parameter on the tape
/// let lp = Normal::new(0.0, 5.0)?.log_prob_sum(mu)?;
/// lp.backward();
/// assert!((mu.grad() + 0.5 / 25.0).abs() < 1e-15);
/// // observed data as the value: no `tape.constant` needed
/// let y = ndarray::array![0.1, -0.3, 1.2];
/// let ll = Normal::new(mu, 1.0)?.log_prob_sum(&y)?;
/// assert!(ll.value() < 0.0);
/// assert!(matches!(Param::from(2.0), Param::Scalar(x) if x == 2.0));
/// # Ok::<(), infer_dist::DistError>(())
/// ```
#[derive(Debug, Clone)]
pub enum Param<'t> {
    /// A tensor on a tape (a tracked parameter or an untracked constant already recorded).
    Tensor(Tensor<'t>),
    /// A number, not on any tape.
    Scalar(f64),
    /// A data array, not on any tape (shared, never copied until a tape needs it).
    Array(Arc<ArrayD<f64>>),
}

impl<'t> Param<'t> {
    /// The shape: `[]` for a number.
    ///
    /// # Errors
    /// [`DistError::Ad`] when a data array has more dimensions than a tensor may have.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Param;
    /// let y = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
    /// assert_eq!(Param::from(&y).shape()?.dims(), &[2, 2]);
    /// assert_eq!(Param::from(1.0).shape()?.dims(), &[] as &[usize]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    #[inline(always)]
    pub fn shape(&self) -> Result<Shape, DistError> {
        match self {
            Param::Tensor(t) => Ok(t.shape()),
            Param::Scalar(_) => Ok(Shape::SCALAR),
            Param::Array(a) => Ok(Shape::new(a.shape())?),
        }
    }

    /// The tape of a tensor operand; `None` for a constant.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Param;
    /// let tape = infer_ad::Tape::new();
    /// assert!(Param::from(tape.var(1.0)).tape().is_some());
    /// assert!(Param::from(1.0).tape().is_none());
    /// ```
    #[inline(always)]
    pub fn tape(&self) -> Option<&'t Tape> {
        match self {
            Param::Tensor(t) => Some(t.tape()),
            _ => None,
        }
    }

    /// The values, row-major (nothing recorded).
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Param;
    /// assert_eq!(Param::from(&[1.0, 2.0][..]).to_vec(), vec![1.0, 2.0]);
    /// ```
    #[inline]
    pub fn to_vec(&self) -> Vec<f64> {
        match self {
            Param::Tensor(t) => t.to_vec(),
            Param::Scalar(x) => vec![*x],
            Param::Array(a) => a.iter().copied().collect(),
        }
    }

    /// The number of elements.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(infer_dist::Param::from(3.0).numel(), 1);
    /// ```
    #[inline]
    pub fn numel(&self) -> usize {
        match self {
            Param::Tensor(t) => t.numel(),
            Param::Scalar(_) => 1,
            Param::Array(a) => a.len(),
        }
    }

    /// The tensor, if the operand is one.
    ///
    /// # Examples
    /// ```
    /// let tape = infer_ad::Tape::new();
    /// assert!(infer_dist::Param::from(tape.var(1.0)).as_tensor().is_some());
    /// assert!(infer_dist::Param::from(1.0).as_tensor().is_none());
    /// ```
    #[inline]
    pub fn as_tensor(&self) -> Option<Tensor<'t>> {
        match self {
            Param::Tensor(t) => Some(*t),
            _ => None,
        }
    }

    /// The operand on `tape`: a tensor as it is (after checking that it lives on `tape`), a
    /// constant recorded as an untracked constant (no gradient slot).
    ///
    /// # Errors
    /// [`DistError::Ad`] with [`infer_ad::AdError::DifferentTapes`] for a tensor on another
    /// tape.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::Param;
    /// let tape = infer_ad::Tape::new();
    /// let t = Param::from(2.5).on(&tape)?;
    /// assert_eq!(t.to_vec(), vec![2.5]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    #[inline(always)]
    pub fn on<'s>(&self, tape: &'s Tape) -> Result<Tensor<'s>, DistError>
    where
        't: 's,
    {
        match self {
            Param::Tensor(t) => {
                let t: Tensor<'s> = *t;
                infer_ad::check_same_tape("distribution parameter", tape, t.tape())?;
                Ok(t)
            }
            Param::Scalar(x) => Ok(tape.scalar(*x)),
            Param::Array(a) => Ok(tape.constant(a.as_ref())),
        }
    }
}

impl<'t> From<Tensor<'t>> for Param<'t> {
    #[inline]
    fn from(t: Tensor<'t>) -> Self {
        Param::Tensor(t)
    }
}

impl<'t> From<Var<'t>> for Param<'t> {
    #[inline]
    fn from(v: Var<'t>) -> Self {
        Param::Tensor(v.as_tensor())
    }
}

impl From<f64> for Param<'_> {
    #[inline]
    fn from(x: f64) -> Self {
        Param::Scalar(x)
    }
}

impl From<Arc<ArrayD<f64>>> for Param<'_> {
    #[inline]
    fn from(a: Arc<ArrayD<f64>>) -> Self {
        Param::Array(a)
    }
}

impl From<&ArrayD<f64>> for Param<'_> {
    #[inline]
    fn from(a: &ArrayD<f64>) -> Self {
        Param::Array(Arc::new(a.clone()))
    }
}

impl From<&Array1<f64>> for Param<'_> {
    #[inline]
    fn from(a: &Array1<f64>) -> Self {
        Param::Array(Arc::new(a.clone().into_dyn()))
    }
}

impl From<&Array2<f64>> for Param<'_> {
    #[inline]
    fn from(a: &Array2<f64>) -> Self {
        Param::Array(Arc::new(a.clone().into_dyn()))
    }
}

impl From<&[f64]> for Param<'_> {
    #[inline]
    fn from(a: &[f64]) -> Self {
        Param::Array(Arc::new(Array1::from(a.to_vec()).into_dyn()))
    }
}

impl From<&Vec<f64>> for Param<'_> {
    #[inline]
    fn from(a: &Vec<f64>) -> Self {
        Param::from(a.as_slice())
    }
}

impl<'t> From<&Param<'t>> for Param<'t> {
    #[inline]
    fn from(p: &Param<'t>) -> Self {
        p.clone()
    }
}

/// A constructor argument: anything a [`Param`] can be built from. Each family's constructor
/// first looks for a tape among its arguments ([`IntoParam::param_tape`]) and then converts
/// each one for that tape ([`IntoParam::into_param`]): data arrays are copied once, straight onto
/// the tape when there is one (as `tape.constant(&x)` would), and into a shared array only when
/// every argument is a constant.
///
/// # Examples
/// ```
/// use infer_dist::{IntoParam, Param};
/// let tape = infer_ad::Tape::new();
/// let sigma = ndarray::array![1.0, 2.0];
/// assert!((&sigma).param_tape().is_none());
/// assert!(matches!((&sigma).into_param(Some(&tape)), Param::Tensor(_)));
/// assert!(matches!((&sigma).into_param(None), Param::Array(_)));
/// ```
pub trait IntoParam<'t> {
    /// The tape of a tape handle; `None` for a constant (the default).
    #[inline(always)]
    fn param_tape(&self) -> Option<&'t Tape> {
        None
    }
    /// The parameter, on `tape` if one is given and this is a data array.
    fn into_param(self, tape: Option<&'t Tape>) -> Param<'t>;
}

impl<'t> IntoParam<'t> for Param<'t> {
    #[inline(always)]
    fn param_tape(&self) -> Option<&'t Tape> {
        self.tape()
    }
    #[inline(always)]
    fn into_param(self, _tape: Option<&'t Tape>) -> Param<'t> {
        self
    }
}

impl<'t> IntoParam<'t> for &Param<'t> {
    #[inline(always)]
    fn param_tape(&self) -> Option<&'t Tape> {
        self.tape()
    }
    #[inline(always)]
    fn into_param(self, _tape: Option<&'t Tape>) -> Param<'t> {
        self.clone()
    }
}

impl<'t> IntoParam<'t> for Tensor<'t> {
    #[inline(always)]
    fn param_tape(&self) -> Option<&'t Tape> {
        Some(self.tape())
    }
    #[inline(always)]
    fn into_param(self, _tape: Option<&'t Tape>) -> Param<'t> {
        Param::Tensor(self)
    }
}

impl<'t> IntoParam<'t> for Var<'t> {
    #[inline(always)]
    fn param_tape(&self) -> Option<&'t Tape> {
        Some(self.tape())
    }
    #[inline(always)]
    fn into_param(self, _tape: Option<&'t Tape>) -> Param<'t> {
        Param::Tensor(self.as_tensor())
    }
}

impl<'t> IntoParam<'t> for f64 {
    #[inline(always)]
    fn into_param(self, _tape: Option<&'t Tape>) -> Param<'t> {
        Param::Scalar(self)
    }
}

impl<'t> IntoParam<'t> for Arc<ArrayD<f64>> {
    #[inline(always)]
    fn into_param(self, _tape: Option<&'t Tape>) -> Param<'t> {
        Param::Array(self)
    }
}

impl<'t, S: Data<Elem = f64>, D: Dimension> IntoParam<'t> for &ArrayBase<S, D> {
    #[inline(always)]
    fn into_param(self, tape: Option<&'t Tape>) -> Param<'t> {
        match tape {
            // an array of more than six axes stays an array: its shape check reports it
            Some(tape) if self.ndim() <= infer_ad::MAX_NDIM => Param::Tensor(tape.constant(self)),
            _ => Param::Array(Arc::new(self.to_owned().into_dyn())),
        }
    }
}

impl<'t> IntoParam<'t> for &[f64] {
    #[inline(always)]
    fn into_param(self, tape: Option<&'t Tape>) -> Param<'t> {
        match tape {
            Some(tape) => Param::Tensor(tape.constant(&ndarray::ArrayView1::from(self))),
            None => Param::from(self),
        }
    }
}

impl<'t> IntoParam<'t> for &Vec<f64> {
    #[inline(always)]
    fn into_param(self, tape: Option<&'t Tape>) -> Param<'t> {
        self.as_slice().into_param(tape)
    }
}

/// The constructor arguments `$p` as [`Param`]s: data arrays copied onto the tape of the first
/// tape handle among them (if any), then every constant placed on that tape
/// ([`bind_eager`]). Returns early with the error of [`bind_eager`].
macro_rules! take_params {
    ($dist:expr; $($p:ident),+ $(,)?) => {{
        let tape = None$(.or($crate::param::IntoParam::param_tape(&$p)))+;
        $crate::param::bind_eager($dist, [$($crate::param::IntoParam::into_param($p, tape)),+])?
    }};
}
pub(crate) use take_params;

/// The tape of the first tensor among `ps`, if any.
pub(crate) fn first_tape<'t>(ps: &[&Param<'t>]) -> Option<&'t Tape> {
    ps.iter().find_map(|p| p.tape())
}

/// Places every constant of `ps` on the tape of the first tensor among them, if there is one
/// (so that a distribution built with at least one tape handle holds tensors only and binds at
/// no cost later); constants only stay as they are.
///
/// # Errors
/// [`DistError::Ad`] with [`infer_ad::AdError::DifferentTapes`] naming `dist` when two tensors
/// live on different tapes.
#[inline(always)]
pub(crate) fn bind_eager<'t, const K: usize>(
    dist: &'static str,
    ps: [Param<'t>; K],
) -> Result<[Param<'t>; K], DistError> {
    let Some(tape) = ps.iter().find_map(|p| p.tape()) else {
        return Ok(ps);
    };
    let mut out = ps;
    for p in out.iter_mut() {
        match p {
            Param::Tensor(t) => infer_ad::check_same_tape(dist, tape, t.tape())?,
            _ => *p = Param::Tensor(p.on(tape)?),
        }
    }
    Ok(out)
}
