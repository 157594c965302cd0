//! The GLM likelihoods as [`Distribution`]s: Stan's `bernoulli_logit_glm`, `poisson_log_glm`
//! and `normal_id_glm`, each over a [`GlmDesign`] with an optional intercept and coefficients
//! on the tape, their `log_prob_sum` one fused node.

use super::{GlmDesign, LinkKind, STACK_COEFS, glm_eval, shape2, with_coefficients};
use crate::{Bernoulli, Constraint, DistError, Distribution, Family, Normal, Poisson};
use infer_ad::{Operand, Shape, Tensor, Var};
use ndarray::ArrayD;

/// The coefficients, intercept and scale shared by the three likelihoods, checked.
#[derive(Debug, Clone)]
struct Params<'t> {
    design: GlmDesign,
    alpha: Option<Tensor<'t>>,
    beta: Tensor<'t>,
    sigma: Option<Tensor<'t>>,
}

impl<'t> Params<'t> {
    fn new(
        dist: &'static str,
        design: &GlmDesign,
        alpha: Option<Tensor<'t>>,
        beta: Tensor<'t>,
        sigma: Option<Tensor<'t>>,
    ) -> Result<Self, DistError> {
        let k = design.ncols();
        if beta.ndim() != 1 || beta.numel() != k {
            return Err(DistError::ShapeMismatch {
                dist,
                what: "coefficients beta against the columns of x",
                left: beta.shape(),
                right: shape2(design.nrows(), k),
            });
        }
        for (name, t) in [("alpha", alpha), ("sigma", sigma)] {
            if let Some(t) = t {
                if t.numel() != 1 {
                    return Err(DistError::ShapeMismatch {
                        dist,
                        what: if name == "alpha" {
                            "intercept alpha (a scalar)"
                        } else {
                            "scale sigma (a scalar)"
                        },
                        left: t.shape(),
                        right: Shape::SCALAR,
                    });
                }
                if !std::ptr::eq(t.tape(), beta.tape()) {
                    return Err(DistError::Ad(infer_ad::AdError::DifferentTapes {
                        op: dist,
                    }));
                }
            }
        }
        // read in blocks through a stack buffer: no allocation per construction
        let finite = |name: &'static str, t: Tensor<'t>| -> Result<(), DistError> {
            let mut buf = [0.0f64; STACK_COEFS];
            let mut r0 = 0;
            while r0 < t.numel() {
                let m = STACK_COEFS.min(t.numel() - r0);
                t.value_range_into(r0, &mut buf[..m]);
                if let Some(&v) = buf[..m].iter().find(|v| !v.is_finite()) {
                    return Err(DistError::InvalidParameter {
                        dist,
                        param: name,
                        value: v,
                        reason: "must be finite",
                    });
                }
                r0 += m;
            }
            Ok(())
        };
        finite("beta", beta)?;
        if let Some(a) = alpha {
            finite("alpha", a)?;
        }
        if let Some(s) = sigma {
            let mut v = [0.0];
            s.value_into(&mut v);
            if !(v[0] > 0.0 && v[0].is_finite()) {
                return Err(DistError::InvalidParameter {
                    dist,
                    param: "sigma",
                    value: v[0],
                    reason: "must be finite and > 0",
                });
            }
        }
        Ok(Params {
            design: design.clone(),
            alpha,
            beta,
            sigma,
        })
    }

    /// η = α + Xβ on the tape (one matrix–vector node, X by reference).
    fn eta(&self) -> Result<Tensor<'t>, DistError> {
        let eta = self.beta.tape().data_matvec(self.design.x(), self.beta)?;
        Ok(match self.alpha {
            Some(a) => eta + a.reshape(&[])?,
            None => eta,
        })
    }

    fn batch(&self) -> Shape {
        Shape::vector(self.design.nrows())
    }

    fn params(&self) -> Vec<(&'static str, Tensor<'t>)> {
        let mut v = Vec::with_capacity(3);
        if let Some(a) = self.alpha {
            v.push(("alpha", a));
        }
        v.push(("beta", self.beta));
        if let Some(s) = self.sigma {
            v.push(("sigma", s));
        }
        v
    }

    /// Σᵢ log p(yᵢ | ηᵢ) as one node: the kernel's single pass over X gives the value and
    /// the gradients in α, β (and σ).
    fn log_prob_sum(
        &self,
        dist: &'static str,
        link: LinkKind,
        y: Operand<'_, 't>,
    ) -> Result<Var<'t>, DistError> {
        let tape = self.beta.tape();
        if y.tape().is_some_and(|yt| !std::ptr::eq(yt, tape)) {
            return Err(DistError::Ad(infer_ad::AdError::DifferentTapes {
                op: dist,
            }));
        }
        let out = self.design.outcomes(dist, link, y)?;
        let k = self.design.ncols();
        with_coefficients(self.beta, k, |b, g| {
            let scalar = |t: Option<Tensor<'t>>| {
                t.map_or(0.0, |t| {
                    let mut v = [0.0];
                    t.value_into(&mut v);
                    v[0]
                })
            };
            let (a, s) = (scalar(self.alpha), scalar(self.sigma));
            // the fused kernel: (the link's value part, Σ r) for η = α + Xβ, `g` = Xᵀr
            let (v, ga) = glm_eval(self.design.blocked(), &out.y, a, b, g, link);
            let (lp, ga, gs) = match link {
                LinkKind::Logit | LinkKind::Log => (v + out.constant, ga, 0.0),
                LinkKind::Identity => {
                    // v = Σ (yᵢ − ηᵢ)², g = Xᵀ(y − η), ga = Σ (yᵢ − ηᵢ)
                    let n = self.design.nrows() as f64;
                    let inv2 = 1.0 / (s * s);
                    for gj in g.iter_mut() {
                        *gj *= inv2;
                    }
                    let lp =
                        -0.5 * v * inv2 - n * (s.ln() + 0.5 * (2.0 * std::f64::consts::PI).ln());
                    (lp, ga * inv2, (v * inv2 - n) / s)
                }
            };
            let (ga, gs) = ([ga], [gs]);
            let mut ins: [(Tensor<'t>, &[f64]); 3] =
                [(self.beta, &*g), (self.beta, &[]), (self.beta, &[])];
            let mut len = 1;
            if let Some(t) = self.alpha {
                ins[len] = (t, &ga);
                len += 1;
            }
            if let Some(t) = self.sigma {
                ins[len] = (t, &gs);
                len += 1;
            }
            Ok(tape.scalar_with_gradients(lp, &ins[..len])?)
        })
    }
}

/// The trait items the three likelihoods share: `log_prob_sum` the fused node, the
/// per-observation methods those of the type's `elementwise()` family on η, the support (and
/// with it `is_discrete`) as given.
macro_rules! glm_items {
    ($name:expr, $link:expr, $support:expr) => {
        fn name(&self) -> &'static str {
            $name
        }
        fn batch_shape(&self) -> Shape {
            self.p.batch()
        }
        fn family(&self) -> Family<'_, 't> {
            Family::Other
        }
        fn params(&self) -> Vec<(&'static str, crate::Param<'t>)> {
            self.p
                .params()
                .into_iter()
                .map(|(n, t)| (n, crate::Param::Tensor(t)))
                .collect()
        }
        fn log_prob(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
            self.elementwise()?.log_prob(value)
        }
        fn log_prob_sum(&self, value: Tensor<'t>) -> Result<Var<'t>, DistError> {
            self.p.log_prob_sum($name, $link, Operand::Tensor(value))
        }
        fn sample(&self, rng: &mut dyn rand::RngCore) -> Result<ArrayD<f64>, DistError> {
            self.elementwise()?.sample(rng)
        }
        fn mean(&self) -> Result<Tensor<'t>, DistError> {
            self.elementwise()?.mean()
        }
        fn variance(&self) -> Result<Tensor<'t>, DistError> {
            self.elementwise()?.variance()
        }
        fn cdf(&self, value: Tensor<'t>) -> Result<Tensor<'t>, DistError> {
            self.elementwise()?.cdf(value)
        }
        fn support(&self) -> Constraint {
            $support
        }
        fn is_discrete(&self) -> bool {
            $support.is_discrete()
        }
    };
}

/// `log_prob_sum` at a value given as data (`&Array1`, `&[f64]`, …), a tensor or a scalar, as
/// the families take it: data is read in place, not copied onto the coefficients' tape. (The
/// trait method takes a tensor; this inherent method is found first.)
macro_rules! glm_value_methods {
    ($ty:ident, $name:expr, $link:expr, $example:literal) => {
        impl<'t> $ty<'t> {
            /// Σ of the log likelihood at `value` (outcomes as data, a tensor or a scalar):
            /// [`Distribution::log_prob_sum`], observed data read in place (not copied onto
            /// the tape).
            ///
            /// # Errors
            /// As [`Distribution::log_prob_sum`]; [`DistError::Ad`] for a tensor on another
            /// tape.
            ///
            /// # Examples
            /// ```
            #[doc = $example]
            /// ```
            pub fn log_prob_sum(
                &self,
                value: impl crate::IntoValue<'t>,
            ) -> Result<Var<'t>, DistError> {
                value.with_value(self.p.beta.tape(), |v| self.p.log_prob_sum($name, $link, v))
            }
        }
    };
}

glm_value_methods!(
    BernoulliLogitGlmDist,
    BERNOULLI,
    LinkKind::Logit,
    "use infer_dist::{BernoulliLogitGlmDist, GlmDesign};
let design = GlmDesign::new(std::sync::Arc::new(ndarray::array![[1.0], [-1.0]]))?;
let tape = infer_ad::Tape::new();
let lik = BernoulliLogitGlmDist::new(&design, None, tape.tensor(&ndarray::array![0.0]))?;
let lp = lik.log_prob_sum(&ndarray::array![1.0, 0.0])?;
assert!((lp.value() - 2.0 * 0.5f64.ln()).abs() < 1e-15);
# Ok::<(), infer_dist::DistError>(())"
);
glm_value_methods!(
    PoissonLogGlmDist,
    POISSON,
    LinkKind::Log,
    "use infer_dist::{GlmDesign, PoissonLogGlmDist};
let design = GlmDesign::new(std::sync::Arc::new(ndarray::array![[0.0], [0.0]]))?;
let tape = infer_ad::Tape::new();
let lik = PoissonLogGlmDist::new(&design, None, tape.tensor(&ndarray::array![0.3]))?;
// rate 1 for both: ln p(0) + ln p(1) = −1 + (−1)
assert!((lik.log_prob_sum(&[0.0, 1.0][..])?.value() + 2.0).abs() < 1e-15);
# Ok::<(), infer_dist::DistError>(())"
);
glm_value_methods!(
    NormalIdGlmDist,
    NORMAL,
    LinkKind::Identity,
    "use infer_dist::{GlmDesign, NormalIdGlmDist};
let design = GlmDesign::new(std::sync::Arc::new(ndarray::array![[1.0], [2.0]]))?;
let tape = infer_ad::Tape::new();
let beta = tape.tensor(&ndarray::array![0.5]);
let lik = NormalIdGlmDist::new(&design, None, beta, tape.scalar(1.0))?;
let y = ndarray::array![0.5, 1.0];
let want = -(2.0 * std::f64::consts::PI).ln();
assert!((lik.log_prob_sum(&y)?.value() - want).abs() < 1e-12);
# Ok::<(), infer_dist::DistError>(())"
);

/// Stan's `bernoulli_logit_glm`: independent outcomes yᵢ ∈ {0, 1} with
/// P(yᵢ = 1) = σ(α + xᵢ·β), the logistic regression likelihood, as a [`Distribution`] of
/// batch shape `[n]` over a [`GlmDesign`].
///
/// [`Distribution::log_prob_sum`] is one fused node (no per-observation values or partials
/// on the tape): one pass over X computes η = α + Xβ, the log likelihood
/// Σ yᵢηᵢ − softplus(ηᵢ) (in the stable form yη − max(η, 0) − ln(1 + e^(−|η|))) and its
/// gradients Xᵀ(y − σ(η)) and Σ (yᵢ − σ(ηᵢ)). An outcome other than 0 or 1 is a typed error
/// there. The per-observation methods (`log_prob`, `sample`, `mean`, `variance`, `entropy`)
/// are those of [`Bernoulli::from_logits`] on η (so `log_prob` of a value outside {0, 1} is
/// −∞, as for `Bernoulli`); `cdf` is not defined, as for `Bernoulli`.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{BernoulliLogitGlmDist, Distribution, GlmDesign};
/// use std::sync::Arc;
/// let design = GlmDesign::new(Arc::new(ndarray::array![[1.0, 0.5], [-0.3, 2.0], [0.7, -1.0]]))?;
/// let tape = Tape::new();
/// let (alpha, beta) = (tape.var(0.1), tape.tensor(&ndarray::array![0.2, -0.1]));
/// let lik = BernoulliLogitGlmDist::new(&design, Some(alpha.as_tensor()), beta)?;
/// let lp = lik.log_prob_sum(tape.constant(&ndarray::array![1.0, 0.0, 1.0]))?;
/// lp.backward();
/// assert!(lp.value() < 0.0 && alpha.grad().is_finite());
/// assert_eq!(lik.batch_shape().dims(), &[3]);
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// Stan Functions Reference, "Bernoulli-logit generalized linear model (logistic
/// regression)".
#[derive(Debug, Clone)]
pub struct BernoulliLogitGlmDist<'t> {
    p: Params<'t>,
}

const BERNOULLI: &str = "BernoulliLogitGlm";
const POISSON: &str = "PoissonLogGlm";
const NORMAL: &str = "NormalIdGlm";

impl<'t> BernoulliLogitGlmDist<'t> {
    /// The likelihood over `design` with intercept `alpha` (a one-element tensor, or none)
    /// and coefficients `beta` (a vector with one element per column of X).
    ///
    /// # Errors
    /// [`DistError::ShapeMismatch`] for a `beta` that is not a vector of `design.ncols()`
    /// elements or an `alpha` of more than one element; [`DistError::InvalidParameter`] for
    /// a non-finite coefficient or intercept; [`DistError::Ad`] when they live on different
    /// tapes.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{BernoulliLogitGlmDist, GlmDesign};
    /// let design = GlmDesign::new(std::sync::Arc::new(ndarray::array![[1.0, 2.0]]))?;
    /// let tape = infer_ad::Tape::new();
    /// assert!(BernoulliLogitGlmDist::new(&design, None, tape.tensor(&ndarray::array![1.0])).is_err());
    /// assert!(BernoulliLogitGlmDist::new(&design, None, tape.tensor(&ndarray::array![1.0, 0.0])).is_ok());
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn new(
        design: &GlmDesign,
        alpha: Option<Tensor<'t>>,
        beta: Tensor<'t>,
    ) -> Result<Self, DistError> {
        Ok(BernoulliLogitGlmDist {
            p: Params::new(BERNOULLI, design, alpha, beta, None)?,
        })
    }

    /// The per-observation family, `Bernoulli::from_logits(α + Xβ)` (recorded on the tape).
    ///
    /// # Errors
    /// As [`Bernoulli::from_logits`] (a non-finite η).
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{BernoulliLogitGlmDist, Distribution, GlmDesign};
    /// let design = GlmDesign::new(std::sync::Arc::new(ndarray::array![[0.0], [1.0]]))?;
    /// let tape = infer_ad::Tape::new();
    /// let lik = BernoulliLogitGlmDist::new(&design, None, tape.tensor(&ndarray::array![2.0]))?;
    /// assert_eq!(lik.elementwise()?.logits()?.to_vec(), vec![0.0, 2.0]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn elementwise(&self) -> Result<Bernoulli<'t>, DistError> {
        Bernoulli::from_logits(self.p.eta()?)
    }
}

impl<'t> Distribution<'t> for BernoulliLogitGlmDist<'t> {
    glm_items!(BERNOULLI, LinkKind::Logit, Constraint::Boolean);

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.elementwise()?.entropy()
    }
}

/// Stan's `poisson_log_glm`: independent counts yᵢ ~ Poisson(e^(α + xᵢ·β)), the Poisson
/// regression likelihood, as a [`Distribution`] of batch shape `[n]` over a [`GlmDesign`].
///
/// [`Distribution::log_prob_sum`] is one fused node: one pass over X computes η = α + Xβ,
/// Σ yᵢηᵢ − e^ηᵢ − ln yᵢ! and the gradients Xᵀ(y − e^η) and Σ (yᵢ − e^ηᵢ); Σ ln yᵢ! is
/// computed once per outcome vector (see [`GlmDesign`]). A count that is negative,
/// fractional or not finite is a typed error there. Where e^η overflows (η > 709) the log
/// likelihood is −∞. The per-observation methods are those of [`Poisson`] with rate e^η.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, GlmDesign, PoissonLogGlmDist};
/// use std::sync::Arc;
/// let design = GlmDesign::new(Arc::new(ndarray::array![[0.0], [0.0]]))?;
/// let tape = Tape::new();
/// let lik = PoissonLogGlmDist::new(&design, None, tape.tensor(&ndarray::array![0.3]))?;
/// // η = 0: each count k has log mass −1 − ln k!
/// let lp = lik.log_prob_sum(tape.constant(&ndarray::array![0.0, 2.0]))?;
/// assert!((lp.value() - (-2.0 - 2f64.ln())).abs() < 1e-14);
/// assert!(lik.log_prob_sum(tape.constant(&ndarray::array![0.0, 1.5])).is_err());
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// Stan Functions Reference, "Poisson-log generalized linear model (Poisson regression)".
#[derive(Debug, Clone)]
pub struct PoissonLogGlmDist<'t> {
    p: Params<'t>,
}

impl<'t> PoissonLogGlmDist<'t> {
    /// The likelihood over `design` with intercept `alpha` (a one-element tensor, or none)
    /// and coefficients `beta` (a vector with one element per column of X).
    ///
    /// # Errors
    /// As [`BernoulliLogitGlmDist::new`].
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{GlmDesign, PoissonLogGlmDist};
    /// let design = GlmDesign::new(std::sync::Arc::new(ndarray::array![[1.0, 2.0]]))?;
    /// let tape = infer_ad::Tape::new();
    /// let beta = tape.tensor(&ndarray::array![f64::NAN, 0.0]);
    /// assert!(PoissonLogGlmDist::new(&design, None, beta).is_err());
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn new(
        design: &GlmDesign,
        alpha: Option<Tensor<'t>>,
        beta: Tensor<'t>,
    ) -> Result<Self, DistError> {
        Ok(PoissonLogGlmDist {
            p: Params::new(POISSON, design, alpha, beta, None)?,
        })
    }

    /// The per-observation family, `Poisson::new(exp(α + Xβ))` (recorded on the tape).
    ///
    /// # Errors
    /// As [`Poisson::new`] (a rate that overflows).
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{Distribution, GlmDesign, PoissonLogGlmDist};
    /// let design = GlmDesign::new(std::sync::Arc::new(ndarray::array![[0.0], [1.0]]))?;
    /// let tape = infer_ad::Tape::new();
    /// let lik = PoissonLogGlmDist::new(&design, None, tape.tensor(&ndarray::array![1.0]))?;
    /// assert_eq!(lik.elementwise()?.rate().to_vec(), vec![1.0, 1f64.exp()]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn elementwise(&self) -> Result<Poisson<'t>, DistError> {
        Poisson::new(self.p.eta()?.exp())
    }
}

impl<'t> Distribution<'t> for PoissonLogGlmDist<'t> {
    glm_items!(POISSON, LinkKind::Log, Constraint::NonNegativeInteger);
}

/// Stan's `normal_id_glm`: independent observations yᵢ ~ Normal(α + xᵢ·β, σ), the linear
/// regression likelihood, as a [`Distribution`] of batch shape `[n]` over a [`GlmDesign`],
/// with a scalar scale σ.
///
/// [`Distribution::log_prob_sum`] is one fused node: one pass over X computes η = α + Xβ,
/// S = Σ (yᵢ − ηᵢ)², the log likelihood −S/(2σ²) − n ln σ − (n/2) ln 2π and its gradients
/// Xᵀ(y − η)/σ², Σ (yᵢ − ηᵢ)/σ² and S/σ³ − n/σ. A non-finite observation is a typed error
/// there. The per-observation methods (also `entropy` and `cdf`) are those of [`Normal`]
/// with location η and scale σ.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, GlmDesign, NormalIdGlmDist};
/// use std::sync::Arc;
/// let design = GlmDesign::new(Arc::new(ndarray::array![[1.0], [2.0]]))?;
/// let tape = Tape::new();
/// let (beta, sigma) = (tape.tensor(&ndarray::array![1.0]), tape.var(1.0));
/// let lik = NormalIdGlmDist::new(&design, None, beta, sigma.as_tensor())?;
/// // y = Xβ exactly: −n/2 ln 2π
/// let lp = lik.log_prob_sum(tape.constant(&ndarray::array![1.0, 2.0]))?;
/// assert!((lp.value() + (2.0 * std::f64::consts::PI).ln()).abs() < 1e-14);
/// lp.backward();
/// assert_eq!(sigma.grad(), -2.0); // S/σ³ − n/σ with S = 0
/// # Ok::<(), infer_dist::DistError>(())
/// ```
///
/// # References
/// Stan Functions Reference, "Normal-id generalized linear model (linear regression)".
#[derive(Debug, Clone)]
pub struct NormalIdGlmDist<'t> {
    p: Params<'t>,
}

impl<'t> NormalIdGlmDist<'t> {
    /// The likelihood over `design` with intercept `alpha` (a one-element tensor, or none),
    /// coefficients `beta` (a vector with one element per column of X) and scale `sigma` (a
    /// one-element tensor).
    ///
    /// # Errors
    /// As [`BernoulliLogitGlmDist::new`]; [`DistError::InvalidParameter`] for a `sigma`
    /// that is not finite and positive, [`DistError::ShapeMismatch`] for one of more than
    /// one element.
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{GlmDesign, NormalIdGlmDist};
    /// let design = GlmDesign::new(std::sync::Arc::new(ndarray::array![[1.0]]))?;
    /// let tape = infer_ad::Tape::new();
    /// let beta = tape.tensor(&ndarray::array![0.5]);
    /// assert!(NormalIdGlmDist::new(&design, None, beta, tape.scalar(0.0)).is_err());
    /// assert!(NormalIdGlmDist::new(&design, None, beta, tape.scalar(2.0)).is_ok());
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn new(
        design: &GlmDesign,
        alpha: Option<Tensor<'t>>,
        beta: Tensor<'t>,
        sigma: Tensor<'t>,
    ) -> Result<Self, DistError> {
        Ok(NormalIdGlmDist {
            p: Params::new(NORMAL, design, alpha, beta, Some(sigma))?,
        })
    }

    /// The per-observation family, `Normal::new(α + Xβ, σ)` (recorded on the tape).
    ///
    /// # Errors
    /// As [`Normal::new`].
    ///
    /// # Examples
    /// ```
    /// use infer_dist::{Distribution, GlmDesign, NormalIdGlmDist};
    /// let design = GlmDesign::new(std::sync::Arc::new(ndarray::array![[0.0], [1.0]]))?;
    /// let tape = infer_ad::Tape::new();
    /// let beta = tape.tensor(&ndarray::array![3.0]);
    /// let lik = NormalIdGlmDist::new(&design, None, beta, tape.scalar(1.0))?;
    /// assert_eq!(lik.mean()?.to_vec(), vec![0.0, 3.0]);
    /// # Ok::<(), infer_dist::DistError>(())
    /// ```
    pub fn elementwise(&self) -> Result<Normal<'t>, DistError> {
        // always present: `new` takes it
        let Some(sigma) = self.p.sigma else {
            return Err(DistError::not_defined(NORMAL, "scale"));
        };
        Normal::new(self.p.eta()?, sigma.reshape(&[])?)
    }
}

impl<'t> Distribution<'t> for NormalIdGlmDist<'t> {
    glm_items!(NORMAL, LinkKind::Identity, Constraint::Real);

    fn entropy(&self) -> Result<Tensor<'t>, DistError> {
        self.elementwise()?.entropy()
    }
}
