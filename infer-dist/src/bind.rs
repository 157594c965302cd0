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

use crate::{Constraint, DistError};
use infer_ad::{Shape, Tensor, Var};
use ndarray::ArrayD;

/// The mathematics of a family on bound (tape) parameters: the computing methods of
/// [`crate::Distribution`], with the same meaning and defaults.
pub(crate) trait Kernel<'t> {
    /// PyTorch's class name.
    fn name(&self) -> &'static str;

    /// The broadcast shape of the parameters.
    fn batch_shape(&self) -> Shape;

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

    /// See [`crate::Distribution::sample`].
    fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError>;

    /// See [`crate::Distribution::entropy`].
    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        Err(DistError::NotDefined {
            dist: self.name(),
            what: "entropy",
        })
    }

    /// See [`crate::Distribution::mean`].
    fn mean(&self) -> Result<Tensor<'t>, DistError> {
        Err(DistError::NotDefined {
            dist: self.name(),
            what: "mean",
        })
    }

    /// See [`crate::Distribution::variance`].
    fn variance(&self) -> Result<Tensor<'t>, DistError> {
        Err(DistError::NotDefined {
            dist: self.name(),
            what: "variance",
        })
    }

    /// See [`crate::Distribution::cdf`].
    fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
        let _ = value;
        Err(DistError::NotDefined {
            dist: self.name(),
            what: "cdf",
        })
    }

    /// See [`crate::Distribution::support`].
    fn support(&self) -> Constraint;

    /// See [`crate::Distribution::is_discrete`].
    fn is_discrete(&self) -> bool {
        false
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

/// `name` and `batch_shape` of a kernel whose struct has a `batch` field.
macro_rules! kernel_items {
    ($name:expr) => {
        fn name(&self) -> &'static str {
            $name
        }
        fn batch_shape(&self) -> infer_ad::Shape {
            self.batch
        }
    };
}
pub(crate) use kernel_items;

/// Defines a family's public struct (parameters as [`crate::Param`]) and its kernel struct
/// (parameters as tensors), the binding between them, the parameter accessors of both, and the
/// public struct's [`crate::Distribution`] (and, with `rsample`, [`crate::Reparameterizable`])
/// by forwarding to the kernel's [`Kernel`] (and [`RKernel`]) implementation.
///
/// `extra` fields (plain data such as flags) are copied from one struct to the other; `names`
/// (optional) gives the parameters' names in [`crate::Distribution::params`] when they are not
/// the field names (a family built from probabilities or from logits).
macro_rules! family {
    (
        $(#[$doc:meta])*
        pub struct $name:ident / $kname:ident {
            params: [$($p:ident),+ $(,)?],
            extra: {$($e:ident : $et:ty),* $(,)?},
        }
        name: $dist:expr,
        rsample: $rs:tt
        $(, names: |$d:ident| $names:expr)? $(,)?
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name<'t> {
            $($p: $crate::Param<'t>,)+
            $($e: $et,)*
            batch: infer_ad::Shape,
        }

        /// The kernel of the family: its parameters bound to one tape.
        #[derive(Debug, Clone, Copy)]
        pub(crate) struct $kname<'t> {
            $(pub(crate) $p: infer_ad::Tensor<'t>,)+
            $(pub(crate) $e: $et,)*
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
                    $($e: self.$e,)*
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
                    $($e: self.$e,)*
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
                    None => Err($crate::DistError::Unbound { dist: $dist, what }),
                }
            }

            /// The kernel and the value on one tape: the value's, else the parameters'.
            #[inline(always)]
            fn bind_value(
                &self,
                value: impl $crate::param::IntoValue<'t>,
                what: &'static str,
            ) -> Result<($kname<'t>, infer_ad::Tensor<'t>), $crate::DistError> {
                let tape = value
                    .value_tape()
                    .or_else(|| self.tape())
                    .ok_or($crate::DistError::Unbound { dist: $dist, what })?;
                Ok((self.bind(tape)?, value.value_on(tape)?))
            }

            /// Elementwise log density of `value` (a tensor, a scalar `Var`, or observed data
            /// such as `&y`); see [`Distribution::log_prob`](crate::Distribution::log_prob).
            ///
            /// # Errors
            /// As [`Distribution::log_prob`](crate::Distribution::log_prob);
            /// [`DistError::Unbound`](crate::DistError::Unbound) when neither the value nor
            /// any parameter is on a tape.
            #[inline(always)]
            pub fn log_prob(
                &self,
                value: impl $crate::param::IntoValue<'t>,
            ) -> Result<infer_ad::Tensor<'t>, $crate::DistError> {
                let (k, v) = self.bind_value(value, "log_prob")?;
                $crate::bind::Kernel::log_prob(&k, v)
            }

            /// Σ of the log density of `value` (a tensor, a scalar `Var`, or observed data such
            /// as `&y`); see [`Distribution::log_prob_sum`](crate::Distribution::log_prob_sum).
            ///
            /// # Errors
            /// As [`Distribution::log_prob_sum`](crate::Distribution::log_prob_sum);
            /// [`DistError::Unbound`](crate::DistError::Unbound) when neither the value nor
            /// any parameter is on a tape.
            #[inline(always)]
            pub fn log_prob_sum(
                &self,
                value: impl $crate::param::IntoValue<'t>,
            ) -> Result<infer_ad::Var<'t>, $crate::DistError> {
                let (k, v) = self.bind_value(value, "log_prob_sum")?;
                $crate::bind::Kernel::log_prob_sum(&k, v)
            }

            /// The cdf at `value` (a tensor, a scalar `Var`, or data); see
            /// [`Distribution::cdf`](crate::Distribution::cdf).
            ///
            /// # Errors
            /// As [`Distribution::cdf`](crate::Distribution::cdf);
            /// [`DistError::Unbound`](crate::DistError::Unbound) when neither the value nor
            /// any parameter is on a tape.
            #[inline]
            pub fn cdf(
                &self,
                value: impl $crate::param::IntoValue<'t>,
            ) -> Result<infer_ad::Tensor<'t>, $crate::DistError> {
                let (k, v) = self.bind_value(value, "cdf")?;
                $crate::bind::Kernel::cdf(&k, v)
            }
        }

        impl<'t> $crate::Distribution<'t> for $name<'t> {
            #[inline]
            fn name(&self) -> &'static str {
                $dist
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
            #[inline(always)]
            fn log_prob(
                &self,
                value: infer_ad::Tensor<'t>,
            ) -> Result<infer_ad::Tensor<'t>, $crate::DistError> {
                $crate::bind::Kernel::log_prob(&self.bind(value.tape())?, value)
            }
            #[inline(always)]
            fn log_prob_sum(
                &self,
                value: infer_ad::Tensor<'t>,
            ) -> Result<infer_ad::Var<'t>, $crate::DistError> {
                $crate::bind::Kernel::log_prob_sum(&self.bind(value.tape())?, value)
            }
            #[inline]
            fn sample(
                &self,
                rng: &mut dyn rand::RngCore,
            ) -> Result<ndarray::ArrayD<f64>, $crate::DistError> {
                self.with_own(|k| $crate::bind::Kernel::sample(k, rng))
            }
            #[inline]
            fn entropy(&self) -> Result<infer_ad::Tensor<'t>, $crate::DistError> {
                $crate::bind::Kernel::entropy(&self.bound("entropy")?)
            }
            #[inline]
            fn mean(&self) -> Result<infer_ad::Tensor<'t>, $crate::DistError> {
                $crate::bind::Kernel::mean(&self.bound("mean")?)
            }
            #[inline]
            fn variance(&self) -> Result<infer_ad::Tensor<'t>, $crate::DistError> {
                $crate::bind::Kernel::variance(&self.bound("variance")?)
            }
            #[inline]
            fn cdf(
                &self,
                value: infer_ad::Tensor<'t>,
            ) -> Result<infer_ad::Tensor<'t>, $crate::DistError> {
                $crate::bind::Kernel::cdf(&self.bind(value.tape())?, value)
            }
            #[inline]
            fn support(&self) -> $crate::Constraint {
                // as in `event_shape`: the binding cannot fail
                self.with_own(|k| Ok($crate::bind::Kernel::support(k)))
                    .unwrap_or($crate::Constraint::Real)
            }
            #[inline]
            fn is_discrete(&self) -> bool {
                self.with_own(|k| Ok($crate::bind::Kernel::is_discrete(k)))
                    .unwrap_or(false)
            }
            $crate::bind::family!(@reparam $rs);
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

        $crate::bind::family!(@rimpl $rs, $name);

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
    (@reparam true) => {
        #[inline]
        fn as_reparameterizable(&self) -> Option<&dyn $crate::Reparameterizable<'t>> {
            Some(self)
        }
    };
    (@reparam false) => {};
    (@rimpl true, $name:ident) => {
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
    (@rimpl false, $name:ident) => {};
}
pub(crate) use family;
