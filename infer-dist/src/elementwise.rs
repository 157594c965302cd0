//! [`Elementwise`]: the one trait of the families whose log density is a function of one value
//! element and the parameters at that element (Normal, Gamma, Beta, Poisson, …), and the one
//! implementation of their tape-facing methods.
//!
//! A family file holds what is its own: the struct, its parameters with their checks and the
//! constructor's docs (through [`crate::bind::family!`]), and an `impl Elementwise` with the
//! formulas — their [`Domain`] (whose test `log_prob` applies before calling them, and for most
//! families also the support), the log density with its partials (and its split into
//! data and parameter-only terms where `log_prob_sum` hoists the latter), and where the family
//! has them the cdf, the sampler, entropy, mean and variance. Everything that records on the tape is written once, here: `log_prob` is one
//! fused node ([`util::lp_map`]); `log_prob_sum` one fused reduction ([`util::lp_sum`]), in
//! scaled form when the family's partials are ([`util::lp_sum_scaled`]), with the
//! parameter-only terms hoisted when the family splits its density ([`util::lp_sum_hoisted`]),
//! after a family-specific fast path if it has one; `cdf` one fused node; `sample` one draw per
//! element; `rsample` one constant of standard noise and one fused node for the pathwise
//! transform.
//!
//! Adding a family: a new file with the `family!` struct and an `impl Elementwise`, and its line
//! `module::Type` in the registry of `lib.rs` (`for_each_family!`), which declares the module,
//! re-exports the type (also in the prelude) and gives it its variant of [`crate::Family`].

use crate::bind::{Base, Kernel, RKernel};
use crate::util::{self, Scaled};
use crate::{Constraint, DistError};
use infer_ad::{Operand, Shape, Tape, Tensor, Var};
use ndarray::ArrayD;

/// What a family file uses: `use crate::elementwise::prelude::*;`.
pub(crate) mod prelude {
    pub(crate) use crate::bind::family;
    pub(crate) use crate::elementwise::{Domain, Elementwise, Formula, Noise, implicit};
    pub(crate) use crate::special;
    pub(crate) use crate::util::{self, Check, Scaled, param_map};
    pub(crate) use crate::{Constraint, DistError};
    pub(crate) use infer_ad::{Operand, Tensor, Var};
}

/// The argument array of an elementwise family's formulas, `[f64; K]`: the value (or, for a
/// pathwise transform, the standard noise) in slot 0, then the K − 1 parameters. Implemented for
/// K = 2, 3, 4 (one to three parameters); it carries the K-dependent calls of [`util`].
pub(crate) trait Arity: Copy + Sized + 'static {
    /// The parameters on a tape, `[Tensor<'t>; K − 1]`.
    type Params<'t>: Copy;
    /// The parameters' values (or their partials), `[f64; K − 1]`.
    type Theta: Copy;
    /// The scaled form of the partials, [`Scaled<K>`].
    type Scaled: Copy;
    /// Partials as they are (no operand scales).
    const UNSCALED: Self::Scaled;

    /// Zeros.
    const ZERO: Self;

    /// The tape of the parameters.
    fn tape<'t>(params: Self::Params<'t>) -> &'t Tape;

    /// The array with slot 0 set to `x`.
    fn with_first(self, x: f64) -> Self;

    /// Slot 0.
    fn first(self) -> f64;

    /// [`util::off_support`] at the value `x`.
    fn off_support(x: f64) -> (f64, Self);

    /// The parameters' values broadcast to `batch`, one argument array per element (slot 0 is 0).
    fn columns(params: Self::Params<'_>, batch: Shape) -> Vec<Self>;

    /// [`util::lp_map`] over `[value, params…]`, with `f` in the scaled form `at.sc` if given.
    fn lp_map<'t>(
        at: AtValue<'_, 't, Self>,
        f: impl Fn(Self) -> (f64, Self),
    ) -> Result<Tensor<'t>, DistError>;

    /// Σ of the elementwise `kernel` over `[value, params…]`: [`util::lp_sum_hoisted`] with
    /// `split` = (data, norm), else [`util::lp_sum_scaled`] in the scaled form `at.sc`, else
    /// [`util::lp_sum`].
    fn lp_sum<'t>(
        at: AtValue<'_, 't, Self>,
        kernel: impl Fn(Self) -> (f64, Self),
        split: Option<(impl Fn(Self) -> (f64, Self), impl Fn(Self) -> (f64, Self))>,
    ) -> Result<Var<'t>, DistError>;

    /// [`util::param_map`] over the parameters.
    fn param_map<'t>(
        batch: Shape,
        params: Self::Params<'t>,
        f: impl Fn(Self::Theta) -> (f64, Self::Theta),
    ) -> Result<Tensor<'t>, DistError>;

    /// One fused node over `[first, params…]`.
    fn fused_map<'t>(
        first: Tensor<'t>,
        params: Self::Params<'t>,
        f: impl Fn(Self) -> (f64, Self),
    ) -> Result<Tensor<'t>, DistError>;
}

/// What `log_prob`, `log_prob_sum` and `cdf` evaluate ([`Arity::lp_map`], [`Arity::lp_sum`]):
/// the family's name and batch shape, the value, the parameters, and the scaled form of the
/// formula's partials if it has one.
pub(crate) struct AtValue<'a, 't, A: Arity> {
    dist: &'static str,
    batch: Shape,
    value: Operand<'a, 't>,
    params: A::Params<'t>,
    sc: Option<A::Scaled>,
}

macro_rules! arity {
    ($($k:literal),*) => {$(
        impl Arity for [f64; $k] {
            type Params<'t> = [Tensor<'t>; $k - 1];
            type Theta = [f64; $k - 1];
            type Scaled = Scaled<$k>;
            const UNSCALED: Scaled<$k> = Scaled { by: 1, pow: [0; $k] };
            const ZERO: Self = [0.0; $k];

            #[inline(always)]
            fn tape<'t>(params: Self::Params<'t>) -> &'t Tape {
                params[0].tape()
            }

            #[inline(always)]
            fn with_first(mut self, x: f64) -> Self {
                self[0] = x;
                self
            }

            #[inline(always)]
            fn first(self) -> f64 {
                self[0]
            }

            #[inline(always)]
            fn off_support(x: f64) -> (f64, Self) {
                util::off_support(x)
            }

            fn columns(params: Self::Params<'_>, batch: Shape) -> Vec<Self> {
                let cols = params.map(|p| util::bvals(p, batch));
                (0..batch.numel())
                    .map(|i| std::array::from_fn(|k| if k == 0 { 0.0 } else { cols[k - 1][i] }))
                    .collect()
            }

            #[inline(always)]
            fn lp_map<'t>(
                at: AtValue<'_, 't, Self>,
                f: impl Fn(Self) -> (f64, Self),
            ) -> Result<Tensor<'t>, DistError> {
                let AtValue { dist, batch, value, params, sc } = at;
                let ops = operands(value, params);
                match sc {
                    Some(sc) => util::lp_map(dist, batch, ops, sc.kernel(f)),
                    None => util::lp_map(dist, batch, ops, f),
                }
            }

            #[inline(always)]
            fn lp_sum<'t>(
                at: AtValue<'_, 't, Self>,
                kernel: impl Fn(Self) -> (f64, Self),
                split: Option<(impl Fn(Self) -> (f64, Self), impl Fn(Self) -> (f64, Self))>,
            ) -> Result<Var<'t>, DistError> {
                let AtValue { dist, batch, value, params, sc } = at;
                let ops = operands(value, params);
                match (split, sc) {
                    (Some((data, norm)), sc) => util::lp_sum_hoisted(
                        dist,
                        batch,
                        ops,
                        kernel,
                        data,
                        norm,
                        sc.unwrap_or(Self::UNSCALED),
                    ),
                    (None, Some(sc)) => util::lp_sum_scaled(dist, batch, ops, kernel, sc),
                    (None, None) => util::lp_sum(dist, batch, ops, kernel),
                }
            }

            #[inline(always)]
            fn param_map<'t>(
                batch: Shape,
                params: Self::Params<'t>,
                f: impl Fn(Self::Theta) -> (f64, Self::Theta),
            ) -> Result<Tensor<'t>, DistError> {
                util::param_map(batch, params, f)
            }

            #[inline(always)]
            fn fused_map<'t>(
                first: Tensor<'t>,
                params: Self::Params<'t>,
                f: impl Fn(Self) -> (f64, Self),
            ) -> Result<Tensor<'t>, DistError> {
                Ok(first.tape().fused_map(
                    std::array::from_fn(|k| if k == 0 { first } else { params[k - 1] }),
                    |_, a| f(a),
                )?)
            }
        }
    )*};
}

arity!(2, 3, 4);

/// `[first, params…]`.
#[inline(always)]
fn operands<'a, 't, const K: usize, const P: usize>(
    first: Operand<'a, 't>,
    params: [Tensor<'t>; P],
) -> [Operand<'a, 't>; K] {
    std::array::from_fn(|k| {
        if k == 0 {
            first
        } else {
            Operand::Tensor(params[k - 1])
        }
    })
}

/// Where the log density of an elementwise family is defined, as a test of one value element
/// ([`Elementwise::DOMAIN`]). Outside it `log_prob` is
/// [`util::off_support`] (−∞, NaN for a NaN value, with zero partials) without calling the
/// family's formulas; it is also the family's support ([`Domain::constraint`]) unless the
/// family names another.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Domain {
    /// Every value: the family's formulas handle ±∞ and NaN themselves.
    Any,
    /// The finite reals (support [`Constraint::Real`]).
    Finite,
    /// [0, ∞).
    NonNegative,
    /// (0, ∞).
    Positive,
    /// [0, 1].
    UnitInterval,
    /// The non-negative integers ([`util::is_count`]).
    Count,
}

impl Domain {
    /// Whether the value element `x` is in the domain.
    #[inline(always)]
    pub(crate) fn contains(self, x: f64) -> bool {
        match self {
            Domain::Any => true,
            Domain::Finite => x.is_finite(),
            Domain::NonNegative => x >= 0.0 && !x.is_infinite(),
            Domain::Positive => x > 0.0 && !x.is_infinite(),
            Domain::UnitInterval => (0.0..=1.0).contains(&x),
            Domain::Count => util::is_count(x),
        }
    }

    /// The support of a family with this domain.
    pub(crate) fn constraint(self) -> Constraint {
        match self {
            Domain::Any | Domain::Finite => Constraint::Real,
            Domain::NonNegative => util::NON_NEGATIVE,
            Domain::Positive => Constraint::Positive,
            Domain::UnitInterval => Constraint::UnitInterval,
            Domain::Count => Constraint::NonNegativeInteger,
        }
    }

    /// `f` inside the domain, [`util::off_support`] outside.
    #[inline(always)]
    fn guard<A: Arity>(self, f: impl Fn(A) -> (f64, A)) -> impl Fn(A) -> (f64, A) {
        move |a| {
            let x = a.first();
            if self.contains(x) {
                f(a)
            } else {
                A::off_support(x)
            }
        }
    }
}

/// The formulas of a family whose log density is elementwise in the value and the parameters
/// (broadcast against each other). Implemented on the family's kernel struct (its parameters
/// bound to one tape, made by [`crate::bind::family!`]); [`Kernel`] and [`RKernel`] follow from
/// it, and with them the public [`crate::Distribution`] and [`crate::Reparameterizable`].
///
/// Every formula takes the argument array `[x, θ₁, …]` ([`Base::Args`], the parameters in the
/// order of the struct) and returns the result with its partials in the same order. A quantity
/// the family does not have is left at its default (`None`, or [`DistError::NotDefined`]).
pub(crate) trait Elementwise<'t>: Base<'t> + Sized {
    /// Where the formulas are called, and (unless the family names its support in
    /// [`crate::bind::family!`]) the family's support.
    const DOMAIN: Domain = Domain::Any;

    /// The log density at one element of the family's [`Elementwise::DOMAIN`] (outside it `log_prob`
    /// does not call this: the log density is −∞, NaN for a NaN value, with zero partials),
    /// with its partials (in the scaled form [`Elementwise::SCALED`] if that is given). Outside
    /// the support (where the domain does not exclude it) −∞ (NaN for a NaN value) with zero
    /// partials.
    fn density(a: Self::Args) -> (f64, Self::Args);

    /// The scaled form of the partials of [`Elementwise::density`], [`Elementwise::data`] and
    /// [`Elementwise::norm`] ([`Scaled`]), if they are in one.
    const SCALED: Option<<Self::Args as Arity>::Scaled> = None;

    /// Whether `log_prob_sum` hoists the parameter-only terms: the density is
    /// [`Elementwise::data`] + [`Elementwise::norm`], and for scalar parameters `norm` is computed
    /// once and `data` per element ([`util::lp_sum_hoisted`]).
    const HOISTED: bool = false;

    /// The density without its parameter-only terms (all of it unless [`Elementwise::HOISTED`]).
    fn data(a: Self::Args) -> (f64, Self::Args) {
        Self::density(a)
    }

    /// The parameter-only terms of the density (none unless [`Elementwise::HOISTED`]); slot 0,
    /// the value, is not read and its partial is not used.
    fn norm(a: Self::Args) -> (f64, Self::Args) {
        let _ = a;
        (0.0, Self::Args::ZERO)
    }

    /// A family-specific `log_prob_sum`, tried first; `None` hands over to the generic sum.
    /// The value may be data borrowed for the call ([`Operand::Data`], read in place).
    ///
    /// # Errors
    /// As [`crate::Distribution::log_prob_sum`].
    fn log_prob_sum_fast(&self, value: Operand<'_, 't>) -> Result<Option<Var<'t>>, DistError> {
        let _ = value;
        Ok(None)
    }

    /// The cdf at one element with its partials.
    fn cdf() -> Option<impl Formula<Self::Args>> {
        None::<FormulaFn<Self::Args>>
    }

    /// A pathwise sampler: the standard noise ε of one element, and x = g(ε, θ) with its
    /// partials (`[ε, θ…]` in, the partial for ε unused). It gives both `sample` and `rsample`.
    fn pathwise() -> Option<(impl Noise, impl Formula<Self::Args>)> {
        None::<(fn(&mut dyn rand::RngCore) -> f64, FormulaFn<Self::Args>)>
    }

    /// One draw at parameters `a` (slot 0 unused), for `sample`; by default from
    /// [`Elementwise::pathwise`]. The elements are drawn in order from one generator.
    ///
    /// # Errors
    /// [`DistError::Sampling`] when the sampler rejects the parameters.
    fn draw(a: Self::Args, rng: &mut dyn rand::RngCore) -> Result<f64, DistError> {
        match Self::pathwise() {
            Some((noise, g)) => Ok(g(a.with_first(noise(rng))).0),
            None => Err(DistError::not_defined(Self::NAME, "sample")),
        }
    }

    /// Pathwise draws on the tape; by default from [`Elementwise::pathwise`].
    ///
    /// # Errors
    /// [`DistError::Sampling`] when the sampler rejects the parameters or a draw is ±∞.
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        let Some((noise, g)) = Self::pathwise() else {
            return Err(DistError::not_defined(Self::NAME, "rsample"));
        };
        let params = self.params();
        let (batch, tape) = (self.batch(), Self::Args::tape(params));
        let eps: Vec<f64> = (0..batch.numel()).map(|_| noise(rng)).collect();
        let eps = util::constant(tape, batch, eps)?;
        util::rdraws(Self::NAME, Self::Args::fused_map(eps, params, g)?)
    }

    /// An elementwise function of all the parameters, in the order of the struct (entropy,
    /// mean, …), broadcast to the batch shape ([`util::param_map`]).
    ///
    /// # Errors
    /// As [`util::param_map`].
    fn map_params(
        &self,
        f: impl Fn(Theta<'t, Self>) -> (f64, Theta<'t, Self>),
    ) -> Result<Tensor<'t>, DistError> {
        Self::Args::param_map(self.batch(), self.params(), f)
    }

    /// See [`crate::Distribution::entropy`].
    ///
    /// # Errors
    /// [`DistError::NotDefined`] unless the family defines it.
    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        Err(DistError::not_defined(Self::NAME, "entropy"))
    }

    /// See [`crate::Distribution::mean`].
    ///
    /// # Errors
    /// [`DistError::NotDefined`] unless the family defines it.
    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Err(DistError::not_defined(Self::NAME, "mean"))
    }

    /// See [`crate::Distribution::variance`].
    ///
    /// # Errors
    /// [`DistError::NotDefined`] unless the family defines it.
    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        Err(DistError::not_defined(Self::NAME, "variance"))
    }
}

/// A formula of an elementwise family: the argument array in, the result and its partials out.
pub(crate) trait Formula<A>: Fn(A) -> (f64, A) {}

impl<A, F: Fn(A) -> (f64, A)> Formula<A> for F {}

/// One draw of standard noise.
pub(crate) trait Noise: Fn(&mut dyn rand::RngCore) -> f64 {}

impl<F: Fn(&mut dyn rand::RngCore) -> f64> Noise for F {}

/// The parameters' values of an elementwise family, `[f64; K − 1]`.
type Theta<'t, F> = <<F as Base<'t>>::Args as Arity>::Theta;

/// A formula as a function pointer: the type of the defaults' `None`.
type FormulaFn<A> = fn(A) -> (f64, A);

/// Draws for an implicit-gradient `rsample`: per element, in order, the N numbers `f` returns
/// at the element's parameters (a draw and its partials), as N untracked constants of the
/// batch shape.
///
/// # Errors
/// As `f`.
pub(crate) fn implicit<'t, F: Elementwise<'t>, const N: usize>(
    k: &F,
    rng: &mut dyn rand::RngCore,
    mut f: impl FnMut(F::Args, &mut dyn rand::RngCore) -> Result<[f64; N], DistError>,
) -> Result<[Tensor<'t>; N], DistError> {
    let params = k.params();
    let cols = F::Args::columns(params, k.batch());
    let mut out: [Vec<f64>; N] = std::array::from_fn(|_| Vec::with_capacity(cols.len()));
    for a in cols {
        for (o, v) in out.iter_mut().zip(f(a, rng)?) {
            o.push(v);
        }
    }
    let tape = F::Args::tape(params);
    let ts = out
        .into_iter()
        .map(|o| util::constant(tape, k.batch(), o))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(std::array::from_fn(|i| ts[i]))
}

/// The family `k` at `value`, with the scaled form `sc` of the formula's partials.
#[inline(always)]
fn at_value<'a, 't, F: Elementwise<'t>>(
    k: &F,
    value: Operand<'a, 't>,
    sc: Option<<F::Args as Arity>::Scaled>,
) -> AtValue<'a, 't, F::Args> {
    AtValue {
        dist: F::NAME,
        batch: k.batch(),
        value,
        params: k.params(),
        sc,
    }
}

impl<'t, F: Elementwise<'t>> Kernel<'t> for F {
    #[inline(always)]
    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        self.log_prob_at(Operand::Tensor(value))
    }

    #[inline(always)]
    fn log_prob_at(&self, value: Operand<'_, 't>) -> Result<Tensor<'t>, DistError> {
        F::Args::lp_map(
            at_value(self, value, F::SCALED),
            F::DOMAIN.guard(F::density),
        )
    }

    #[inline(always)]
    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        self.log_prob_sum_at(Operand::Tensor(value))
    }

    #[inline(always)]
    fn log_prob_sum_at(&self, value: Operand<'_, 't>) -> Result<Var<'t>, DistError> {
        if let Some(lp) = self.log_prob_sum_fast(value)? {
            return Ok(lp);
        }
        F::Args::lp_sum(
            at_value(self, value, F::SCALED),
            F::DOMAIN.guard(F::density),
            F::HOISTED.then_some((F::DOMAIN.guard(F::data), F::norm)),
        )
    }

    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
        let cols = F::Args::columns(self.params(), self.batch());
        let mut x = Vec::with_capacity(cols.len());
        for a in cols {
            x.push(F::draw(a, rng)?);
        }
        util::draws(F::NAME, self.batch(), x)
    }

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        Elementwise::entropy(self)
    }

    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Elementwise::mean(self)
    }

    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        Elementwise::variance(self)
    }

    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        self.cdf_at(Operand::Tensor(value))
    }

    fn cdf_at(&self, value: Operand<'_, 't>) -> Result<Tensor<'t>, DistError> {
        match F::cdf() {
            Some(f) => F::Args::lp_map(at_value(self, value, None), f),
            None => Err(DistError::not_defined(F::NAME, "cdf")),
        }
    }
}

impl<'t, F: Elementwise<'t>> RKernel<'t> for F {
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError> {
        Elementwise::rsample(self, rng)
    }
}
