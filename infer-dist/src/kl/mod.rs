//! Closed-form Kullback–Leibler divergences KL(p ‖ q) = E_p[ln p(X) − ln q(X)], differentiable
//! on the tape in the parameters of both distributions.
//!
//! Two ways in:
//!
//! * statically, through the [`KlDivergence`] trait implemented for every concrete pair
//!   (`Normal: KlDivergence<'t, Normal<'t>>`, …);
//! * at run time over trait objects, through [`kl_divergence`] and [`has_closed_form_kl`],
//!   which dispatch on [`Distribution::family`] of both arguments (losses such as `vi_loss`
//!   choose between the analytic KL and a Monte Carlo estimate this way).
//!
//! The pairs and their formulas follow PyTorch's `torch/distributions/kl.py` (which is also
//! where the conformance values come from); [`KL_PAIRS`] lists them. Where the support of `p`
//! is not contained in that of `q` the divergence is `+∞` (never NaN), with gradient 0, as
//! PyTorch returns `inf`. A few forms are more complete than PyTorch's: Normal–Laplace keeps
//! the location term, and Binomial–Binomial with `p.total_count < q.total_count` is computed
//! exactly (an expectation over p with bounded work for any count) instead of being refused.
//!
//! Every pair is evaluated in a form that stays finite (or +∞ where the divergence exceeds
//! f64) and non-negative for every valid parameter, including subnormal and near-`f64::MAX`
//! values, with gradients that are not NaN where the divergence is finite: supports are
//! compared exactly (0 · ln 0 = 0), quotients and differences that could overflow are taken
//! in logarithms or from halves, the terms of size a ln a of ln Γ and ψ are cancelled
//! analytically (Stirling's form, `stable.rs` and `beta_parts.rs`), and what remains is
//! grouped into non-negative terms (φ(s) = eˢ − 1 − s, a categorical divergence, Jensen gaps)
//! plus terms of the size of a logarithm, so that no ∞ − ∞ arises. A divergence is ≥ 0; where a form clamps a negative result to 0, the
//! negative can only be rounding, and the code says so. MultivariateNormal–MultivariateNormal
//! is a sum of non-negative terms whose triangular solves run with an unbounded exponent
//! (`mvn.rs`, `wide.rs`).
//!
//! The result has the broadcast batch shape of `p` and `q`.
//!
//! # References
//! * PyTorch, `torch/distributions/kl.py` (pair registry and formulas).
//! * Gil, M. (2011), *On Rényi divergence measures for continuous distributions* (Laplace,
//!   Pareto), as cited there.
//! * Chyzak, F. & Nielsen, F. (2019), *A closed-form formula for the Kullback–Leibler
//!   divergence between Cauchy distributions*, arXiv:1905.10965.

mod beta;
mod beta_parts;
mod cauchy;
mod discrete;
mod gamma;
mod infinite;
mod location_scale;
mod mvn;
mod stable;
mod uniform;
mod wide;

use crate::{DistError, Distribution, Family};
use infer_ad::{Shape, Tensor};

/// Euler–Mascheroni constant γ.
pub(crate) const EULER_GAMMA: f64 = 0.577_215_664_901_532_9;

/// A closed-form KL divergence KL(self ‖ q) between two concrete families.
///
/// The result is a tensor of the broadcast batch shape of both distributions, recorded on the
/// tape: gradients flow to every continuous parameter of `self` and of `q`. It is `+∞` (with
/// gradient 0) where the support of `self` is not contained in that of `q`.
///
/// # Errors
/// [`DistError::ShapeMismatch`] when the batch shapes of `self` and `q` do not broadcast (or
/// the event sizes differ); [`DistError::Ad`] for a tape error.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{KlDivergence, Normal};
/// let tape = Tape::new();
/// let (mp, sp) = (tape.var(0.0), tape.var(1.0));
/// let p = Normal::new(mp, sp)?;
/// let q = Normal::new(tape.var(1.0), tape.var(2.0))?;
/// let kl = p.kl_divergence(&q)?.sum();
/// // ln(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½
/// let want = 2f64.ln() + (1.0 + 1.0) / 8.0 - 0.5;
/// assert!((kl.value() - want).abs() < 1e-15);
/// kl.backward();
/// assert!((mp.grad() - (-0.25)).abs() < 1e-15); // (μp − μq)/σq²
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// PyTorch, `torch/distributions/kl.py`.
pub trait KlDivergence<'t, Q: ?Sized> {
    /// KL(self ‖ q), elementwise over the broadcast batch.
    ///
    /// # Errors
    /// See the trait documentation.
    fn kl_divergence(&self, q: &Q) -> Result<Tensor<'t>, DistError>;
}

/// Generates the run-time registry from the list of pairs with a closed form.
macro_rules! registry {
    ($(($p:ident, $q:ident)),* $(,)?) => {
        /// Every `(p, q)` pair (PyTorch class names) with a closed-form KL divergence: the
        /// pairs [`kl_divergence`] accepts.
        ///
        /// # Examples
        /// ```
        /// assert!(infer_dist::KL_PAIRS.contains(&("Gamma", "Normal")));
        /// assert!(!infer_dist::KL_PAIRS.contains(&("Normal", "Cauchy")));
        /// ```
        pub const KL_PAIRS: &[(&str, &str)] = &[$((stringify!($p), stringify!($q))),*];

        fn dispatch<'t>(
            p: &dyn Distribution<'t>,
            q: &dyn Distribution<'t>,
        ) -> Option<Result<Tensor<'t>, DistError>> {
            match (p.family(), q.family()) {
                $((Family::$p(a), Family::$q(b)) => Some(a.kl_divergence(b)),)*
                _ => None,
            }
        }

        fn registered(p: &Family<'_, '_>, q: &Family<'_, '_>) -> bool {
            matches!((p, q), $((Family::$p(_), Family::$q(_)))|*)
        }
    };
}

registry! {
    // Location–scale families and their transforms (location_scale.rs, cauchy.rs).
    (Normal, Normal), (Normal, Laplace), (Normal, Gumbel),
    (LogNormal, LogNormal), (HalfNormal, HalfNormal),
    (Laplace, Normal), (Laplace, Laplace),
    (Gumbel, Normal), (Gumbel, Gumbel),
    (Cauchy, Cauchy), (HalfCauchy, HalfCauchy),
    // The gamma family (gamma.rs).
    (Exponential, Normal), (Exponential, Exponential), (Exponential, Gamma),
    (Exponential, Gumbel), (Exponential, Chi2),
    (Gamma, Normal), (Gamma, Exponential), (Gamma, Gamma), (Gamma, Gumbel), (Gamma, Chi2),
    (Chi2, Normal), (Chi2, Exponential), (Chi2, Gamma), (Chi2, Gumbel), (Chi2, Chi2),
    (InverseGamma, InverseGamma),
    // Beta and Dirichlet (beta.rs).
    (Beta, Normal), (Beta, Exponential), (Beta, Gamma), (Beta, Beta), (Beta, Chi2),
    (Beta, Uniform),
    (Dirichlet, Dirichlet),
    // Uniform and Pareto (uniform.rs).
    (Uniform, Normal), (Uniform, Exponential), (Uniform, Gamma), (Uniform, Uniform),
    (Uniform, Gumbel), (Uniform, Chi2), (Uniform, Pareto), (Uniform, Beta),
    (Pareto, Normal), (Pareto, Exponential), (Pareto, Gamma), (Pareto, Chi2),
    (Pareto, Pareto),
    // Discrete families (discrete.rs).
    (Bernoulli, Bernoulli), (Bernoulli, Poisson), (Binomial, Binomial), (Poisson, Poisson),
    (Geometric, Geometric), (Categorical, Categorical),
    // Multivariate normal (mvn.rs).
    (MultivariateNormal, MultivariateNormal),
    // Supports that do not nest: KL = +∞ (infinite.rs).
    (Normal, Exponential), (Normal, Gamma), (Normal, Chi2), (Normal, Beta), (Normal, Pareto),
    (Normal, Uniform),
    (Laplace, Exponential), (Laplace, Gamma), (Laplace, Chi2), (Laplace, Beta),
    (Laplace, Pareto), (Laplace, Uniform),
    (Gumbel, Exponential), (Gumbel, Gamma), (Gumbel, Chi2), (Gumbel, Beta), (Gumbel, Pareto),
    (Gumbel, Uniform),
    (Exponential, Beta), (Exponential, Pareto), (Exponential, Uniform),
    (Gamma, Beta), (Gamma, Pareto), (Gamma, Uniform),
    (Chi2, Beta), (Chi2, Pareto), (Chi2, Uniform),
    (Beta, Pareto),
    (Pareto, Beta), (Pareto, Uniform),
    (Poisson, Bernoulli), (Poisson, Binomial),
}

/// KL(p ‖ q) for two distributions known only as trait objects, dispatched on their
/// [`Distribution::family`]. The pairs are those of [`KL_PAIRS`].
///
/// # Errors
/// [`DistError::NoClosedForm`] naming both families when the pair has no closed form (see
/// [`has_closed_form_kl`]); otherwise as [`KlDivergence::kl_divergence`].
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Distribution, DistError, Gamma, Normal, kl_divergence};
/// let tape = Tape::new();
/// let p: Box<dyn Distribution<'_>> = Box::new(Gamma::new(tape.var(2.0), tape.var(1.0))?);
/// let q: Box<dyn Distribution<'_>> = Box::new(Normal::new(tape.var(2.0), tape.var(1.5))?);
/// let kl = kl_divergence(p.as_ref(), q.as_ref())?;
/// assert!(kl.sum().value() > 0.0);
/// let c = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
/// assert!(matches!(
///     kl_divergence(q.as_ref(), &c),
///     Err(DistError::NoClosedForm { p: "Normal", q: "Cauchy" })
/// ));
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// PyTorch, `torch.distributions.kl.kl_divergence`.
pub fn kl_divergence<'t>(
    p: &dyn Distribution<'t>,
    q: &dyn Distribution<'t>,
) -> Result<Tensor<'t>, DistError> {
    dispatch(p, q).unwrap_or_else(|| {
        Err(DistError::NoClosedForm {
            p: p.name(),
            q: q.name(),
        })
    })
}

/// Whether [`kl_divergence`] has a closed form for this pair of families (it does not look
/// at the parameters: an infinite divergence counts as a closed form).
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Beta, Cauchy, Normal, has_closed_form_kl};
/// let tape = Tape::new();
/// let n = Normal::new(tape.var(0.0), tape.var(1.0))?;
/// let b = Beta::new(tape.var(2.0), tape.var(3.0))?;
/// let c = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
/// assert!(has_closed_form_kl(&b, &n));
/// assert!(has_closed_form_kl(&n, &b)); // +∞: the supports do not nest
/// assert!(!has_closed_form_kl(&n, &c));
/// # Ok::<(), infer_dist::DistError>(())
/// ```
pub fn has_closed_form_kl(p: &dyn Distribution<'_>, q: &dyn Distribution<'_>) -> bool {
    registered(&p.family(), &q.family())
}

/// The broadcast shape of all parameter tensors of `p` and `q`.
pub(crate) fn joint_shape(
    p: &'static str,
    q: &'static str,
    params: &[Tensor<'_>],
) -> Result<Shape, DistError> {
    let mut shape = Shape::SCALAR;
    for t in params {
        shape = shape
            .broadcast(&t.shape())
            .map_err(|_| DistError::ShapeMismatch {
                dist: if p == q { p } else { q },
                what: "KL divergence: batch shapes of p and q",
                left: shape,
                right: t.shape(),
            })?;
    }
    Ok(shape)
}

/// KL(p ‖ q) elementwise as one fused node over `ops` (parameters of p, then of q): `f` gives
/// the divergence at one element with its partials; the result has the broadcast shape of all
/// of `ops` (`p`, `q` name the families in a shape error).
pub(crate) fn kl_map<'t, const K: usize>(
    p: &'static str,
    q: &'static str,
    ops: [Tensor<'t>; K],
    f: impl Fn([f64; K]) -> (f64, [f64; K]),
) -> Result<Tensor<'t>, DistError> {
    let shape = joint_shape(p, q, &ops)?;
    let kl = ops[0].tape().fused_map(ops, |_, a| f(a))?;
    to_shape(kl, shape)
}

/// `KlDivergence` of `P` against each gamma-family `Q` (Exponential, Gamma, Chi2, written as
/// Gamma(αq, βq) by `AsGamma`): one fused node of `f(θ₁, θ₂, αq, βq)` over the parameters
/// `[θ₁, θ₂]` of `P` (given by their accessors) and the Gamma form of `Q`.
macro_rules! against_gamma_family {
    ($(#[$doc:meta])* $p:ident [$p1:ident, $p2:ident], $f:ident) => {
        $crate::kl::against_gamma_family!(@q $(#[$doc])* $p [$p1, $p2], $f, Exponential);
        $crate::kl::against_gamma_family!(@q $(#[$doc])* $p [$p1, $p2], $f, Gamma);
        $crate::kl::against_gamma_family!(@q $(#[$doc])* $p [$p1, $p2], $f, Chi2);
    };
    (@q $(#[$doc:meta])* $p:ident [$p1:ident, $p2:ident], $f:ident, $q:ident) => {
        $crate::kl::kl!(
            $(#[$doc])*
            $p, $q, |p, q| {
                let (aq, rq) = $crate::kl::gamma::AsGamma::as_gamma(q);
                $crate::kl::kl_map(
                    stringify!($p),
                    stringify!($q),
                    [p.$p1(), p.$p2(), aq, rq],
                    $f,
                )
            }
        );
    };
}
pub(crate) use against_gamma_family;

/// The event size K shared by `p` and `q` (the last axis of both, neither 0-d).
///
/// # Errors
/// [`DistError::ShapeMismatch`] naming `dist` and `what` otherwise.
pub(crate) fn event_size(
    dist: &'static str,
    what: &'static str,
    p: Tensor<'_>,
    q: Tensor<'_>,
) -> Result<usize, DistError> {
    let k = p.dims().last().copied().unwrap_or(0);
    if p.ndim() == 0 || q.ndim() == 0 || q.dims().last() != Some(&k) {
        return Err(DistError::ShapeMismatch {
            dist,
            what,
            left: p.shape(),
            right: q.shape(),
        });
    }
    Ok(k)
}

/// `kl` broadcast to `shape` (a no-op when it already has it).
pub(crate) fn to_shape<'t>(kl: Tensor<'t>, shape: Shape) -> Result<Tensor<'t>, DistError> {
    Ok(kl.broadcast_to(shape)?)
}

/// ln(x/y) for positive `x`, `y` (either may be +∞ only if the other is finite): the quotient
/// when it is a normal number (one rounding), else the difference of the logarithms, so that
/// neither overflow nor subnormal underflow of `x/y` reaches the result.
pub(crate) fn ln_ratio(x: f64, y: f64) -> f64 {
    let r = x / y;
    if r.is_normal() {
        r.ln()
    } else {
        x.ln() - y.ln()
    }
}

/// ln(x − y) for `x > y`, also when `x − y` overflows (then from the halves, exact there).
pub(crate) fn ln_diff(x: f64, y: f64) -> f64 {
    let d = x - y;
    if d.is_finite() {
        d.ln()
    } else {
        (0.5 * x - 0.5 * y).ln() + std::f64::consts::LN_2
    }
}

/// (x − y)/s for finite `x`, `y` and `s > 0`, without the spurious ∞ of an overflowing
/// difference (the result is ±∞ only when the true quotient is beyond f64).
pub(crate) fn scaled_diff(x: f64, y: f64, s: f64) -> f64 {
    let d = x - y;
    if d.is_finite() {
        d / s
    } else {
        (0.5 * x - 0.5 * y) / s * 2.0
    }
}

/// A 0-d constant on the tape of `like`.
pub(crate) fn constant(like: Tensor<'_>, x: f64) -> Tensor<'_> {
    like.tape().constant(&ndarray::arr0(x))
}

/// Implements [`KlDivergence`] for one pair: `kl!(P, Q, |p, q| body)` with a doc comment, or
/// `kl!(P, Q, [p's parameters], [q's parameters], f)` for the divergence [`kl_map`] of `f` over
/// the parameters (by their accessors on the bound kernels).
macro_rules! kl {
    ($(#[$doc:meta])* $p_ty:ident, $q_ty:ident, |$p:ident, $q:ident $(, $tape:ident)?| $body:expr) => {
        $(#[$doc])*
        impl<'t> $crate::kl::KlDivergence<'t, $crate::$q_ty<'t>> for $crate::$p_ty<'t> {
            fn kl_divergence(
                &self,
                other: &$crate::$q_ty<'t>,
            ) -> Result<infer_ad::Tensor<'t>, $crate::DistError> {
                use $crate::bind::KlBind;
                let tape = self.kl_tape().or_else(|| other.kl_tape()).ok_or(
                    $crate::DistError::Unbound {
                        dist: stringify!($p_ty),
                        what: "kl_divergence",
                    },
                )?;
                let ($p, $q) = (&self.kl_bind(tape)?, &other.kl_bind(tape)?);
                $(let $tape = tape;)?
                $body
            }
        }
    };
    (
        $(#[$doc:meta])* $p_ty:ident, $q_ty:ident, [$($pp:ident),+], [$($qp:ident),+], $f:expr
    ) => {
        $crate::kl::kl!(
            $(#[$doc])*
            $p_ty, $q_ty, |p, q| $crate::kl::kl_map(
                stringify!($p_ty),
                stringify!($q_ty),
                [$(p.$pp(),)+ $(q.$qp(),)+],
                $f,
            )
        );
    };
}
pub(crate) use kl;
