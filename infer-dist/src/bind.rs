//! Deferred binding of constant parameters.
//!
//! A family is two structs made by [`family!`]: the public one, whose parameters are
//! [`Param`]s (tensors, or numbers and data arrays not yet on a tape), and a crate-private
//! *kernel* struct whose parameters are tensors on one tape. The kernel carries the family's
//! mathematics ([`Kernel`], [`RKernel`]); the public struct validates at construction and
//! implements [`crate::Distribution`] by binding its parameters to the tape of the value (or,
//! for quantities without a value, to its own tape) and forwarding to the kernel.
//!
//! Binding a parameter that is already a tensor copies a handle; a constant becomes one
//! untracked constant on the tape (no gradient slot). A distribution built with at least one
//! tape handle has its constants placed on that tape at construction, so binding it later
//! costs nothing but the handle copies.

use crate::elementwise::Arity;
use crate::{Constraint, DistError};
use infer_ad::{Operand, Shape, Tensor, Var};
use ndarray::ArrayD;

/// What [`family!`] records of every kernel: PyTorch's class name, the batch shape and the
/// parameters.
pub(crate) trait Base<'t> {
    /// PyTorch's class name.
    const NAME: &'static str;

    /// `[f64; K]`: a value and the K − 1 parameters, as an elementwise family's formulas take
    /// them ([`crate::elementwise::Elementwise`]).
    type Args: Arity;

    /// The broadcast shape of the parameters.
    fn batch(&self) -> Shape;

    /// The parameters, in the order of the struct (and of [`Base::Args`] after the value).
    fn params(&self) -> <Self::Args as Arity>::Params<'t>;

    /// The support (for parameter-dependent bounds, the hull over the batch); a family is
    /// discrete when its support is a set of integers ([`Constraint::is_discrete`]).
    fn support(&self) -> Constraint;
}

/// The mathematics of a family on bound (tape) parameters: the computing methods of
/// [`crate::Distribution`], with the same meaning and defaults. The elementwise families have it
/// from [`crate::elementwise::Elementwise`].
pub(crate) trait Kernel<'t>: Base<'t> {
    /// PyTorch's class name.
    fn name(&self) -> &'static str {
        Self::NAME
    }

    /// The broadcast shape of the parameters.
    fn batch_shape(&self) -> Shape {
        self.batch()
    }

    /// See [`crate::Distribution::event_shape`].
    fn event_shape(&self) -> Shape {
        Shape::SCALAR
    }

    /// See [`crate::Distribution::log_prob`].
    fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError>;

    /// See [`crate::Distribution::log_prob_sum`].
    fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
        Ok(self.log_prob(value)?.sum())
    }

    /// [`Kernel::log_prob`] at a value that may be data borrowed for the call; by default
    /// the data is recorded on the tape as an untracked constant first.
    fn log_prob_at(&self, value: Operand<'_, 't>) -> Result<Tensor<'t>, DistError> {
        self.log_prob(self.on_tape(value)?)
    }

    /// [`Kernel::log_prob_sum`] at a value that may be data borrowed for the call (read in
    /// place by the elementwise families and the GLM fast path); by default the data is
    /// recorded on the tape as an untracked constant first.
    fn log_prob_sum_at(&self, value: Operand<'_, 't>) -> Result<Var<'t>, DistError> {
        self.log_prob_sum(self.on_tape(value)?)
    }

    /// [`Kernel::cdf`] at a value that may be data borrowed for the call; by default the
    /// data is recorded on the tape as an untracked constant first.
    fn cdf_at(&self, value: Operand<'_, 't>) -> Result<Tensor<'t>, DistError> {
        self.cdf(self.on_tape(value)?)
    }

    /// The value on the parameters' tape (data as an untracked constant).
    fn on_tape(&self, value: Operand<'_, 't>) -> Result<Tensor<'t>, DistError> {
        Ok(value.on(<Self::Args as Arity>::tape(self.params()))?)
    }

    /// See [`crate::Distribution::sample`].
    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError>;

    /// See [`crate::Distribution::entropy`].
    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        Err(DistError::not_defined(self.name(), "entropy"))
    }

    /// See [`crate::Distribution::mean`].
    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Err(DistError::not_defined(self.name(), "mean"))
    }

    /// See [`crate::Distribution::variance`].
    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        Err(DistError::not_defined(self.name(), "variance"))
    }

    /// See [`crate::Distribution::cdf`].
    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        let _ = value;
        Err(DistError::not_defined(self.name(), "cdf"))
    }
}

/// Pathwise sampling on bound parameters: see [`crate::Reparameterizable::rsample`].
pub(crate) trait RKernel<'t>: Kernel<'t> {
    /// See [`crate::Reparameterizable::rsample`].
    fn rsample(&self, rng: &mut dyn rand::RngCore) -> Result<Tensor<'t>, DistError>;
}

/// The binding the closed-form KL divergences use: both distributions on one tape.
pub(crate) trait KlBind<'t> {
    /// The bound form.
    type K;
    /// The tape of the parameters, if any is a tensor.
    fn kl_tape(&self) -> Option<&'t infer_ad::Tape>;
    /// The bound form on `tape`.
    fn kl_bind(&self, tape: &'t infer_ad::Tape) -> Result<Self::K, DistError>;
}

/// Defines a family's public struct (parameters as [`crate::Param`]) and its kernel struct
/// (parameters as tensors), the binding between them, the parameter accessors of both, and the
/// public struct's [`crate::Distribution`] (and, with `rsample`, [`crate::Reparameterizable`])
/// by forwarding to the kernel's [`Kernel`] (and [`RKernel`]) implementation.
///
/// It also defines the module's `const NAME`, PyTorch's class name (`name`, by default the type's
/// name). `: Reparameterizable` after the two names (or `rsample: true`) makes the family
/// reparameterizable. A family whose parameters are each checked at construction declares them
/// with its constructor, `new(param: check, …)` after the constructor's docs: the public
/// `new(param, …)` checks each parameter with the [`Check`](crate::util::Check) written after
/// its name. Otherwise `params: [param, …]` names them (the family writes its own constructors
/// on the generated `checked`); `extra` fields (optional; plain data such as flags) are copied
/// from one struct to the other; `names` (optional) gives the parameters' names in
/// [`crate::Distribution::params`] when they are not the field names (a family built from
/// probabilities or from logits). `support` (optional for an elementwise family, whose support
/// is then the [`Domain`](crate::elementwise::Domain) of its formulas) is a function of the
/// kernel.
macro_rules! family {
    // the constructor's form: `new(param: check, …)` declares the parameters
    (
        $(#[$doc:meta])*
        pub struct $name:ident / $kname:ident $(: $rt:ident)? {
            $(#[$ndoc:meta])*
            new($($p:ident : $c:expr),+ $(,)?),
            $($rest:tt)*
        }
    ) => {
        $crate::bind::family! {
            $(#[$doc])*
            pub struct $name / $kname $(: $rt)? {
                params: [$($p: $c),+],
                $(#[$ndoc])*
                new,
                $($rest)*
            }
        }
    };
    (
        $(#[$doc:meta])*
        pub struct $name:ident / $kname:ident $(: $rt:ident)? {
            params: [$($p:ident $(: $c:expr)?),+ $(,)?],
            $(extra: {$($e:ident : $et:ty),* $(,)?},)?
            $(name: $pyname:expr,)?
            $(names: |$d:ident| $names:expr,)?
            $($(#[$ndoc:meta])* new,)?
            $(support: $sup:expr,)?
            $(rsample: $rs:tt $(,)?)?
        }
    ) => {
        /// PyTorch's class name of the family.
        const NAME: &str = $crate::bind::family!(@name $name $($pyname)?);

        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name<'t> {
            $($p: $crate::Param<'t>,)+
            $($($e: $et,)*)?
            batch: infer_ad::Shape,
        }

        /// The kernel of the family: its parameters bound to one tape.
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct $kname<'t> {
            $(pub(crate) $p: infer_ad::Tensor<'t>,)+
            $($(pub(crate) $e: $et,)*)?
            pub(crate) batch: infer_ad::Shape,
        }

        impl<'t> $kname<'t> {
            $(
                #[allow(dead_code)]
                pub(crate) fn $p(&self) -> infer_ad::Tensor<'t> {
                    self.$p
                }
            )+
        }

        impl<'t> $crate::bind::Base<'t> for $kname<'t> {
            const NAME: &'static str = NAME;
            type Args = [f64; 1 + [$(stringify!($p)),+].len()];
            #[inline(always)]
            fn batch(&self) -> infer_ad::Shape {
                self.batch
            }
            #[inline(always)]
            fn params(&self) -> <Self::Args as $crate::elementwise::Arity>::Params<'t> {
                [$(self.$p),+]
            }
            #[inline]
            fn support(&self) -> $crate::Constraint {
                $crate::bind::family!(@support self $($sup)?)
            }
        }

        $crate::bind::family!(@new $name [$($p $(: $c)?),+] $({ $(#[$ndoc])* })?);

        impl<'t> $name<'t> {
            $(
                #[doc = concat!(
                    "The `", stringify!($p), "` parameter as given to the constructor (a ",
                    "constant given together with a tape handle is on that handle's tape)."
                )]
                pub fn $p(&self) -> &$crate::Param<'t> {
                    &self.$p
                }
            )+

            /// The distribution from its parameters (numbers, data or tape handles): each
            /// checked elementwise with its [`Check`](crate::util::Check) of `checks` (in the
            /// order of the parameters), then the batch shape from their broadcast.
            #[allow(dead_code)]
            #[inline(always)]
            fn checked(
                $($p: impl $crate::IntoParam<'t>,)+
                checks: [$crate::util::Check; [$(stringify!($p)),+].len()],
            ) -> Result<Self, $crate::DistError> {
                let [$($p),+] = $crate::param::take_params!(NAME; $($p),+);
                let mut checks = checks.into_iter();
                $(
                    if let Some(c) = checks.next() {
                        $crate::util::check_param(NAME, stringify!($p), &$p, c.ok, c.reason)?;
                    }
                )+
                let batch = $crate::util::param_batch(NAME, &[$(&$p),+])?;
                Ok($name { $($p,)+ $($($e: Default::default(),)*)? batch })
            }

            /// The tape of the parameters, `None` when every parameter is a constant.
            #[inline(always)]
            pub fn tape(&self) -> Option<&'t infer_ad::Tape> {
                $crate::param::first_tape(&[$(&self.$p),+])
            }

            /// The same distribution with every parameter on `tape` (constants as untracked
            /// constants), for quantities that need a tape when every parameter is a
            /// constant (`entropy`, `mean`, `variance`, `rsample`).
            ///
            /// # Errors
            /// [`DistError::Ad`](crate::DistError::Ad) with
            /// [`infer_ad::AdError::DifferentTapes`] when a parameter lives on another tape.
            #[inline]
            pub fn on(&self, tape: &'t infer_ad::Tape) -> Result<Self, $crate::DistError> {
                Ok($name {
                    $($p: $crate::Param::Tensor(self.$p.on(tape)?),)+
                    $($($e: self.$e,)*)?
                    batch: self.batch,
                })
            }

            /// The kernel on `tape`.
            #[inline(always)]
            pub(crate) fn bind<'s>(
                &self,
                tape: &'s infer_ad::Tape,
            ) -> Result<$kname<'s>, $crate::DistError>
            where
                't: 's,
            {
                Ok($kname {
                    $($p: self.$p.on(tape)?,)+
                    $($($e: self.$e,)*)?
                    batch: self.batch,
                })
            }

            /// The kernel on the parameters' own tape, or on a scratch tape when every
            /// parameter is a constant, for results that do not live on a tape.
            #[inline]
            fn with_own<R>(&self, f: impl for<'s> FnOnce(&$kname<'s>) -> Result<R, $crate::DistError>)
                -> Result<R, $crate::DistError>
            {
                match self.tape() {
                    Some(tape) => f(&self.bind(tape)?),
                    None => {
                        let tape = infer_ad::Tape::new();
                        f(&self.bind(&tape)?)
                    }
                }
            }

            /// The kernel on the parameters' own tape; [`DistError::Unbound`](crate::DistError::Unbound)
            /// when every parameter is a constant.
            #[inline]
            pub(crate) fn bound(&self, what: &'static str) -> Result<$kname<'t>, $crate::DistError> {
                match self.tape() {
                    Some(tape) => self.bind(tape),
                    None => Err($crate::DistError::Unbound { dist: NAME, what }),
                }
            }

            /// The kernel on the value's tape, else on the parameters' tape, and `f` of it
            /// and the value (data read in place for the call, not copied onto the tape).
            #[inline(always)]
            fn at_value<R>(
                &self,
                value: impl $crate::param::IntoValue<'t>,
                what: &'static str,
                f: impl for<'a> FnOnce(&$kname<'t>, infer_ad::Operand<'a, 't>)
                    -> Result<R, $crate::DistError>,
            ) -> Result<R, $crate::DistError> {
                let tape = value
                    .value_tape()
                    .or_else(|| self.tape())
                    .ok_or($crate::DistError::Unbound { dist: NAME, what })?;
                let k = self.bind(tape)?;
                value.with_value(tape, |v| f(&k, v))
            }

            $crate::bind::family! {
                @at_value
                /// Elementwise log density of `value` (a tensor, a scalar `Var`, or observed data
                /// such as `&y`); see [`Distribution::log_prob`](crate::Distribution::log_prob).
                /// Observed data is read in place, not copied onto the tape, by the families
                /// with elementwise kernels (see [`crate::param`]).
                #[inline(always)]
                log_prob -> infer_ad::Tensor<'t>, "log_prob", log_prob_at
            }
            $crate::bind::family! {
                @at_value
                /// Σ of the log density of `value` (a tensor, a scalar `Var`, or observed data
                /// such as `&y`); see
                /// [`Distribution::log_prob_sum`](crate::Distribution::log_prob_sum). Observed
                /// data is read in place, not copied (neither into an `Arc` nor onto the tape),
                /// by the families with elementwise kernels and Bernoulli (see
                /// [`crate::param`]): the node keeps only the parameters' partials.
                #[inline(always)]
                log_prob_sum -> infer_ad::Var<'t>, "log_prob_sum", log_prob_sum_at
            }
            $crate::bind::family! {
                @at_value
                /// The cdf at `value` (a tensor, a scalar `Var`, or data, read in place by the
                /// families with elementwise kernels); see
                /// [`Distribution::cdf`](crate::Distribution::cdf).
                #[inline]
                cdf -> infer_ad::Tensor<'t>, "cdf", cdf_at
            }
        }

        impl<'t> $crate::Distribution<'t> for $name<'t> {
            #[inline]
            fn name(&self) -> &'static str {
                NAME
            }
            #[inline]
            fn batch_shape(&self) -> infer_ad::Shape {
                self.batch
            }
            #[inline]
            fn event_shape(&self) -> infer_ad::Shape {
                // binding to the own (or a scratch) tape cannot fail: the constructor checked
                // that every tensor parameter shares one tape
                self.with_own(|k| Ok($crate::bind::Kernel::event_shape(k)))
                    .unwrap_or(infer_ad::Shape::SCALAR)
            }
            $crate::bind::family! {
                @forward_value
                #[inline(always)] log_prob -> infer_ad::Tensor<'t>,
                #[inline(always)] log_prob_sum -> infer_ad::Var<'t>,
                #[inline] cdf -> infer_ad::Tensor<'t>,
            }
            #[inline]
            fn sample(
                &self,
                rng: &mut dyn rand::RngCore,
            ) -> Result<ndarray::ArrayD<f64>, $crate::DistError> {
                self.with_own(|k| $crate::bind::Kernel::sample(k, rng))
            }
            $crate::bind::family!(@forward_bound entropy, mean, variance);
            #[inline]
            fn support(&self) -> $crate::Constraint {
                // as in `event_shape`: the binding cannot fail
                self.with_own(|k| Ok($crate::bind::Base::support(k)))
                    .unwrap_or($crate::Constraint::Real)
            }
            #[inline]
            fn is_discrete(&self) -> bool {
                $crate::Distribution::support(self).is_discrete()
            }
            $crate::bind::family!(@reparam $($rs)? $($rt)?);
            #[inline]
            fn family(&self) -> $crate::Family<'_, 't> {
                $crate::Family::$name(self)
            }
            #[inline]
            fn params(&self) -> Vec<(&'static str, $crate::Param<'t>)> {
                #[allow(unused_variables)]
                let names = [$(stringify!($p)),+];
                $(let names = (|$d: &Self| $names)(self);)?
                let ps = [$(self.$p.clone()),+];
                names.into_iter().zip(ps).collect()
            }
        }

        $crate::bind::family!(@rimpl $name $($rs)? $($rt)?);

        impl<'t> $crate::bind::KlBind<'t> for $name<'t> {
            type K = $kname<'t>;
            #[inline]
            fn kl_tape(&self) -> Option<&'t infer_ad::Tape> {
                self.tape()
            }
            #[inline]
            fn kl_bind(&self, tape: &'t infer_ad::Tape) -> Result<Self::K, $crate::DistError> {
                self.bind(tape)
            }
        }
    };
    (@at_value $(#[$attr:meta])* $m:ident -> $ret:ty, $what:literal, $at:ident) => {
        $(#[$attr])*
        ///
        /// # Errors
        #[doc = concat!("As [`Distribution::", $what, "`](crate::Distribution::", $what, ");")]
        /// [`DistError::Unbound`](crate::DistError::Unbound) when neither the value nor any
        /// parameter is on a tape.
        pub fn $m(
            &self,
            value: impl $crate::param::IntoValue<'t>,
        ) -> Result<$ret, $crate::DistError> {
            self.at_value(value, $what, |k, v| $crate::bind::Kernel::$at(k, v))
        }
    };
    // `Distribution` methods at a value: the kernel on the value's tape
    (@forward_value $($(#[$attr:meta])* $m:ident -> $ret:ty),* $(,)?) => {$(
        $(#[$attr])*
        fn $m(&self, value: infer_ad::Tensor<'t>) -> Result<$ret, $crate::DistError> {
            $crate::bind::Kernel::$m(&self.bind(value.tape())?, value)
        }
    )*};
    // `Distribution` methods without a value: the kernel on the parameters' own tape
    (@forward_bound $($m:ident),*) => {$(
        #[inline]
        fn $m(&self) -> Result<infer_ad::Tensor<'t>, $crate::DistError> {
            $crate::bind::Kernel::$m(&self.bound(stringify!($m))?)
        }
    )*};
    (@support $k:ident $sup:expr) => {{
        let support: fn(&Self) -> $crate::Constraint = $sup;
        support($k)
    }};
    // the support of an elementwise family that names none: its domain's
    (@support $k:ident) => {
        <Self as $crate::elementwise::Elementwise>::DOMAIN.constraint()
    };
    (@name $name:ident $pyname:expr) => {
        $pyname
    };
    (@name $name:ident) => {
        stringify!($name)
    };
    (@new $name:ident [$($p:ident : $c:expr),+] {
        $(#[$doc:meta])*
    }) => {
        impl<'t> $name<'t> {
            $(#[$doc])*
            #[inline]
            pub fn new(
                $($p: impl $crate::IntoParam<'t>,)+
            ) -> Result<Self, $crate::DistError> {
                Self::checked($($p,)+ [$($c),+])
            }
        }
    };
    (@new $name:ident [$($p:ident $(: $c:expr)?),+]) => {};
    (@reparam true) => {
        $crate::bind::family!(@reparam Reparameterizable);
    };
    (@reparam Reparameterizable) => {
        #[inline]
        fn as_reparameterizable(&self) -> Option<&dyn $crate::Reparameterizable<'t>> {
            Some(self)
        }
    };
    (@reparam $(false)?) => {};
    (@rimpl $name:ident true) => {
        $crate::bind::family!(@rimpl $name Reparameterizable);
    };
    (@rimpl $name:ident Reparameterizable) => {
        impl<'t> $crate::Reparameterizable<'t> for $name<'t> {
            #[inline]
            fn rsample(
                &self,
                rng: &mut dyn rand::RngCore,
            ) -> Result<infer_ad::Tensor<'t>, $crate::DistError> {
                $crate::bind::RKernel::rsample(&self.bound("rsample")?, rng)
            }
        }
    };
    (@rimpl $name:ident $(false)?) => {};
}
pub(crate) use family;
