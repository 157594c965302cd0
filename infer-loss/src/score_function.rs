//! Score-function (REINFORCE) estimators of the ELBO gradient, corrected to be unbiased.
//!
//! For an objective `f(x) = R(x) + Σᵢ (ln qᵢ(xᵢ; θ) − ln pᵢ(xᵢ; φ))` with `x ~ q_θ` drawn
//! without a path to θ, the gradient is
//!
//! ∇_θ E\[f\] = E[f(x) ∇_θ ln q(x; θ)] (the score term; the explicit E[∇_θ ln q] = 0 is dropped),
//! ∇_φ E\[f\] = E[∇_φ f(x)].
//!
//! The surrogate recorded on the tape is
//!
//! S = R + Σᵢ(−ln pᵢ(x̄ᵢ)) + W̄ · (Σᵢ ln qᵢ(x̄ᵢ) − c) + c,
//!
//! with `x̄` the detached values, `c` the value of Σ ln q and `W̄ = value of f` a constant.
//! Its **value** is the Monte Carlo estimate of the negative ELBO `f(x)` (the term
//! `W̄ · (Σ ln q − c)` is exactly 0), and its **gradient** is `W̄ ∇_θ Σ ln q − ∇_φ Σ ln p + ∇R`,
//! an unbiased estimate of the gradient of `E[f]` (Williams 1992; Ranganath, Gerrish & Blei
//! 2014, eq. 3).
//!
//! The Python original returns `Σ ln q · (ln q − ln p)` with `ln q` *not* detached inside the
//! weight; the extra gradient `E[ln q ∇ ln q] = −∇H[q]` biases it towards wider q (a Normal q
//! fitted to a Normal target ends with σ ≈ 1.41 instead of 1). Here the weight is detached.

use crate::LossError;
use crate::prior::prior_loss;
use crate::util::{add, add_opt, check_len, finish, is_delta, reject_delta, value_of};
use infer_ad::{Tensor, Var};
use infer_dist::Distribution;

/// The score-function (REINFORCE) negative ELBO of one site: value −(ln p(x) − ln q(x)),
/// gradient
///
/// (ln q(x̄) − ln p(x̄)) · ∇_θ ln q(x̄; θ) − ∇_φ ln p(x̄; φ),  x̄ = stop_gradient(x),
///
/// an unbiased estimate of the gradient of KL(q ‖ p) when `x ~ q`. It needs no
/// reparameterization, so it serves discrete and other non-reparameterizable q. See the
/// [module documentation](self) for the surrogate and why the weight is detached (the
/// deliberate correction of the Python original).
///
/// # Errors
/// [`LossError::DeltaNotSupported`] for a `Delta` p or q; [`LossError::Dist`] when `value`
/// does not broadcast against a batch shape.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Distribution, Normal};
/// use rand::SeedableRng;
/// let tape = Tape::new();
/// let (loc, scale) = (tape.var(0.5), tape.var(0.8));
/// let p = Normal::new(tape.var(0.0), tape.var(1.0))?;
/// let q = Normal::new(loc, scale)?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
/// let x = tape.constant(&q.sample(&mut rng)?);
/// let loss = infer_loss::elbo_score_function_loss(&p, &q, x)?;
/// // The value is the ELBO estimate −(ln p(x) − ln q(x)) ...
/// let elbo = infer_loss::elbo_loss(&p, &q, x)?;
/// assert!((loss.value() - elbo.value()).abs() < 1e-12);
/// // ... the gradient is the score-function estimate.
/// loss.backward();
/// let xv = x.to_vec()[0];
/// let w = elbo.value();
/// assert!((loc.grad() - w * (xv - 0.5) / 0.64).abs() < 1e-10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # References
/// Williams, R. J. (1992). Simple statistical gradient-following algorithms for
/// connectionist reinforcement learning. Machine Learning 8.
/// Ranganath, R., Gerrish, S. & Blei, D. M. (2014). Black box variational inference. AISTATS.
pub fn elbo_score_function_loss<'t>(
    p_dist: &dyn Distribution<'t>,
    q_dist: &dyn Distribution<'t>,
    value: Tensor<'t>,
) -> Result<Var<'t>, LossError> {
    reject_delta("elbo_score_function_loss", p_dist, q_dist)?;
    let x = value.detach();
    let lp = p_dist.log_prob_sum(x)?;
    let lq = q_dist.log_prob_sum(x)?;
    let w = lq.value() - lp.value();
    Ok(score_term(lq, w, 1.0) - lp)
}

/// The score-function negative ELBO over lists of sites, plus a regularization term `R`
/// (any other loss, e.g. the negative log likelihood of observed data given the latent
/// values): value
///
/// R + Σᵢ −(ln pᵢ(xᵢ) − ln qᵢ(xᵢ)),
///
/// gradient `W̄ · ∇_θ Σᵢ ln qᵢ(x̄ᵢ) − Σᵢ ∇_φ ln pᵢ(x̄ᵢ) + ∇R` with the constant weight `W̄` =
/// the value. Sites whose q is a `Delta` contribute their [`crate::prior_loss`] (pathwise,
/// at the value given) and are part of the weight, like `R`.
///
/// For an unbiased gradient, `R` must depend on the sampled latent values only through
/// their values (build it from detached or constant values), since its dependence on the
/// draw is accounted for by the score term.
///
/// # Errors
/// [`LossError::LengthMismatch`] when the lists differ in length; [`LossError::Empty`] when
/// they are empty and there is no regularization; [`LossError::Dist`] as the densities.
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Distribution, Normal};
/// let tape = Tape::new();
/// let p: Vec<Cauchy> = (0..5)
///     .map(|_| Cauchy::new(tape.var(0.0), tape.var(1.0)))
///     .collect::<Result<_, _>>()?;
/// let q: Vec<Normal> = (0..5)
///     .map(|_| Normal::new(tape.var(0.0), tape.var(1.0)))
///     .collect::<Result<_, _>>()?;
/// let p_refs: Vec<&dyn Distribution> = p.iter().map(|d| d as &dyn Distribution).collect();
/// let q_refs: Vec<&dyn Distribution> = q.iter().map(|d| d as &dyn Distribution).collect();
/// let values: Vec<_> = (0..5).map(|i| tape.var(i as f64).as_tensor()).collect();
/// let loss = infer_loss::elbo_score_function(&p_refs, &q_refs, &values, None)?;
/// // The value is the negative ELBO estimate, as vi_regularization's (the seed's −6.4327).
/// assert!((loss.value() + 6.4327).abs() < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # References
/// Ranganath, R., Gerrish, S. & Blei, D. M. (2014). Black box variational inference. AISTATS.
pub fn elbo_score_function<'t>(
    p_dists: &[&dyn Distribution<'t>],
    q_dists: &[&dyn Distribution<'t>],
    values: &[Tensor<'t>],
    regularization: Option<Var<'t>>,
) -> Result<Var<'t>, LossError> {
    check_len("elbo_score_function q_dists", p_dists.len(), q_dists.len())?;
    check_len("elbo_score_function values", p_dists.len(), values.len())?;
    let parts = score_surrogate(p_dists, q_dists, values, None, regularization, 1.0, 0.0)?;
    finish(parts.loss, "elbo_score_function")
}

/// The pieces of a score-function surrogate.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ScoreParts<'t> {
    /// The surrogate loss.
    pub(crate) loss: Option<Var<'t>>,
    /// Σ ln qᵢ(x̄ᵢ) over the non-Delta latent sites (for control variates).
    pub(crate) log_q: Option<Var<'t>>,
}

/// `(ln q − c) · w + scale · c`: value `scale · c`, gradient `w ∇ ln q`.
#[inline]
fn score_term<'t>(log_q: Var<'t>, w: f64, scale: f64) -> Var<'t> {
    let c = log_q.value();
    if !w.is_finite() || !c.is_finite() {
        // The estimate is not finite (a value outside a support): report it as it is.
        return crate::util::scale(log_q, scale);
    }
    (log_q - c) * w + scale * c
}

/// The score-function surrogate of `extra + scale · Σᵢ (ln qᵢ(x̄ᵢ) − ln pᵢ(x̄ᵢ))` over the
/// sites `i` with `skip[i] == false` (all sites when `skip` is `None`); Delta sites
/// contribute `scale · prior_loss`. The constant `baseline` is subtracted from the score
/// weight (unbiased for any constant, since E[∇ ln q] = 0). Lengths must have been checked.
pub(crate) fn score_surrogate<'t>(
    p_dists: &[&dyn Distribution<'t>],
    q_dists: &[&dyn Distribution<'t>],
    values: &[Tensor<'t>],
    skip: Option<&[bool]>,
    extra: Option<Var<'t>>,
    scale: f64,
    baseline: f64,
) -> Result<ScoreParts<'t>, LossError> {
    // Pathwise part: Delta prior losses and −ln p at the detached values.
    let mut path: Option<Var<'t>> = None;
    let mut log_q: Option<Var<'t>> = None;
    let mut w = 0.0;
    for i in 0..p_dists.len() {
        if skip.is_some_and(|s| s[i]) {
            continue;
        }
        let (p, q) = (p_dists[i], q_dists[i]);
        if is_delta(q) {
            let d = prior_loss(p, q, values[i])?;
            w += d.value();
            path = add(path, d)?;
            continue;
        }
        let x = values[i].detach();
        let lp = p.log_prob_sum(x)?;
        let lq = q.log_prob_sum(x)?;
        w += lq.value() - lp.value();
        path = add(path, -lp)?;
        log_q = add(log_q, lq)?;
    }
    let path = path.map(|v| crate::util::scale(v, scale));
    let w = value_of(extra) + scale * w - baseline;
    let score = log_q.map(|lq| score_term(lq, w, scale));
    Ok(ScoreParts {
        loss: add_opt(add_opt(extra, path)?, score)?,
        log_q,
    })
}
