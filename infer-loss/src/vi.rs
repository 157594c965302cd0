//! `vi_loss`: the VI training loss with the estimator chosen per model.

use crate::analytical_kl::analytical_kl_divergence_loss;
use crate::elbo::elbo_loss;
use crate::log_prob::log_prob_sum;
use crate::regularization::regularization_sum;
use crate::score_function::score_surrogate;
use crate::util::{add_opt, check_len, check_scaling, finish, is_delta, scale};
use crate::{DivFn, LossError};
use infer_ad::{Tensor, Var};
use infer_dist::{Distribution, has_closed_form_kl};

/// Which gradient estimator [`vi_loss_with`] uses for the latent sites.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Estimator {
    /// The seed's automatic choice: [`Estimator::Divergence`] when every latent q is
    /// reparameterizable; else [`Estimator::AnalyticKl`] when every latent site has a
    /// closed-form KL(q ‖ p) or a reparameterizable q; else [`Estimator::ScoreFunction`].
    #[default]
    Auto,
    /// `div_fn` at every latent site (pathwise when the values are reparameterized draws).
    Divergence,
    /// [`crate::analytical_kl_divergence_loss`] at every latent site (with
    /// [`crate::elbo_loss`] where there is no closed form).
    AnalyticKl,
    /// The unbiased score-function estimator (see [`crate::elbo_score_function`]); the
    /// negative log likelihood of the observed sites enters its weight, minus
    /// [`ViOptions::baseline`]. Draw the latent values without a path to q's parameters
    /// ([`Distribution::sample`]), or the likelihood's dependence on them is counted twice.
    ScoreFunction,
}

/// Settings of [`vi_loss_with`].
#[derive(Debug, Clone, Copy)]
pub struct ViOptions {
    /// The weight of the regularization (KL) term relative to the likelihood, e.g. the
    /// fraction of the data set in a mini-batch. Finite and ≥ 0. Default `1`.
    pub kl_scaling: f64,
    /// The per-site divergence of the pathwise branch. Default [`crate::elbo_loss`].
    pub div_fn: DivFn,
    /// The estimator. Default [`Estimator::Auto`].
    pub estimator: Estimator,
    /// A constant subtracted from the weight of the score-function estimator (a *baseline*,
    /// Williams 1992): any value keeps the gradient unbiased, and a value close to the
    /// loss (e.g. a moving average of past loss values) removes most of its variance.
    /// Ignored by the other estimators. Default `0`.
    pub baseline: f64,
}

impl Default for ViOptions {
    fn default() -> Self {
        ViOptions {
            kl_scaling: 1.0,
            div_fn: elbo_loss,
            estimator: Estimator::Auto,
            baseline: 0.0,
        }
    }
}

/// The VI loss of a model given as lists of sites: the negative log likelihood of the
/// observed sites plus `kl_scaling` times the regularization of the latent sites,
///
/// −Σ_{i observed} ln pᵢ(xᵢ) + kl_scaling · Σ_{i latent} div(pᵢ, qᵢ, xᵢ),
///
/// with the estimator chosen as the seed chooses it ([`Estimator::Auto`]): if every latent
/// q is reparameterizable, the pathwise [`crate::elbo_loss`] (the values should then be
/// reparameterized draws); else, if every latent site has a closed-form KL(q ‖ p) or a
/// reparameterizable q, [`crate::analytical_kl_divergence_loss`]; else the unbiased
/// score-function estimator, whose value is the same sum and whose weight includes the
/// observed sites' negative log likelihood. A latent site whose q is a `Delta` (a point
/// estimate) contributes its prior loss `−ln pᵢ(xᵢ)` in every branch.
///
/// `observed[i]` marks site `i` as observed: its value is data and its `q_dists[i]` is
/// ignored (pass any distribution, e.g. `p_dists[i]`).
///
/// The score-function branch returns `nll + kl_scaling · Σ(ln q − ln p)` like the others
/// (the Python original returns that sum divided by `kl_scaling`).
///
/// # Errors
/// [`LossError::LengthMismatch`] when the lists differ in length; [`LossError::Empty`] for
/// empty lists; [`LossError::InvalidArgument`] for a negative or non-finite `kl_scaling`;
/// [`LossError::Dist`] as the densities.
///
/// # Examples
/// The seed's example: five Cauchy(0, 1) priors, five N(0, 1) q's, values 0, …, 4.
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Distribution, Normal};
/// let tape = Tape::new();
/// let (zero, one) = (tape.var(0.0), tape.var(1.0));
/// let p = Cauchy::new(zero, one)?;
/// let q = Normal::new(zero, one)?;
/// let p_dists: Vec<&dyn Distribution> = vec![&p; 5];
/// let q_dists: Vec<&dyn Distribution> = vec![&q; 5];
/// let values: Vec<_> = (0..5).map(|i| tape.var(i as f64).as_tensor()).collect();
/// let loss = infer_loss::vi_loss(&p_dists, &q_dists, &values, &[false; 5], 1.0)?;
/// assert!((loss.value() + 6.4327).abs() < 1e-4);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The seed's training loop (see also `examples/vi_loop.rs`):
/// ```
/// use infer_ad::optim::{Adam, AdamConfig, Optimizer};
/// use infer_ad::{ParamStore, Tape};
/// use infer_dist::{Cauchy, Distribution, Normal, Reparameterizable};
/// use rand::SeedableRng;
/// let k = 5;
/// let mut store = ParamStore::new();
/// let params: Vec<_> = (0..2 * k)
///     .map(|i| store.add(format!("param{i}"), ndarray::arr1(&[1.0])))
///     .collect::<Result<_, _>>()?;
/// let mut opt = Adam::new(AdamConfig::default())?;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
/// let mut tape = Tape::new();
/// for _ in 0..2 {
///     tape.clear();
///     let bound = store.bind(&tape);
///     let (zero, one) = (tape.var(0.0), tape.var(1.0));
///     let p = Cauchy::new(zero, one)?;
///     let q_dists = (0..k)
///         .map(|i| Normal::new(bound[params[2 * i]], bound[params[2 * i + 1]]))
///         .collect::<Result<Vec<_>, _>>()?;
///     let values = q_dists
///         .iter()
///         .map(|q| q.rsample(&mut rng))
///         .collect::<Result<Vec<_>, _>>()?;
///     let p_refs: Vec<&dyn Distribution> = vec![&p; k];
///     let q_refs: Vec<&dyn Distribution> = q_dists.iter().map(|q| q as _).collect();
///     let loss = infer_loss::vi_loss(&p_refs, &q_refs, &values, &vec![false; k], 1.0)?;
///     loss.backward();
///     store.zero_grads();
///     store.accumulate_grads(&bound)?;
///     opt.step(&mut store)?;
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn vi_loss<'t>(
    p_dists: &[&dyn Distribution<'t>],
    q_dists: &[&dyn Distribution<'t>],
    values: &[Tensor<'t>],
    observed: &[bool],
    kl_scaling: f64,
) -> Result<Var<'t>, LossError> {
    let opts = ViOptions {
        kl_scaling,
        ..ViOptions::default()
    };
    vi_loss_with(p_dists, q_dists, values, observed, &opts)
}

/// [`vi_loss`] with every setting explicit: the divergence of the pathwise branch
/// (`div_fn`, as the seed's argument of that name) and the estimator (to force one).
///
/// # Errors
/// As [`vi_loss`].
///
/// # Examples
/// Sticking the landing as the divergence:
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Distribution, Normal, Reparameterizable};
/// use infer_loss::{ViOptions, elbo_path_derivative_loss, vi_loss_with};
/// use rand::SeedableRng;
/// let tape = Tape::new();
/// let p = Cauchy::new(tape.var(0.0), tape.var(1.0))?;
/// let q = Normal::new(tape.var(0.3), tape.var(1.2))?;
/// let x = q.rsample(&mut rand::rngs::StdRng::seed_from_u64(1))?;
/// let opts = ViOptions { div_fn: elbo_path_derivative_loss, ..ViOptions::default() };
/// let loss = vi_loss_with(&[&p], &[&q], &[x], &[false], &opts)?;
/// assert!(loss.value().is_finite());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn vi_loss_with<'t>(
    p_dists: &[&dyn Distribution<'t>],
    q_dists: &[&dyn Distribution<'t>],
    values: &[Tensor<'t>],
    observed: &[bool],
    opts: &ViOptions,
) -> Result<Var<'t>, LossError> {
    vi_impl(p_dists, q_dists, values, observed, opts, "vi_loss")
}

/// The VI loss with the closed-form KL(q ‖ p) wherever possible: like [`vi_loss`], but the
/// pathwise branch is skipped — every latent site with a closed-form KL or a
/// reparameterizable q uses [`crate::analytical_kl_divergence_loss`] (falling back to
/// [`crate::elbo_loss`] where there is no closed form); otherwise the score-function
/// estimator.
///
/// # Errors
/// As [`vi_loss`].
///
/// # Examples
/// ```
/// use infer_ad::Tape;
/// use infer_dist::{Cauchy, Distribution, Normal};
/// let tape = Tape::new();
/// let (zero, one) = (tape.var(0.0), tape.var(1.0));
/// let p = Cauchy::new(zero, one)?;
/// let q = Normal::new(zero, one)?;
/// let p_dists: Vec<&dyn Distribution> = vec![&p; 5];
/// let q_dists: Vec<&dyn Distribution> = vec![&q; 5];
/// let values: Vec<_> = (0..5).map(|i| tape.var(i as f64).as_tensor()).collect();
/// let loss = infer_loss::vi_analytical_kl_loss(&p_dists, &q_dists, &values, &[false; 5], 1.0)?;
/// assert!((loss.value() + 6.4327).abs() < 1e-4); // no Normal–Cauchy closed form
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn vi_analytical_kl_loss<'t>(
    p_dists: &[&dyn Distribution<'t>],
    q_dists: &[&dyn Distribution<'t>],
    values: &[Tensor<'t>],
    observed: &[bool],
    kl_scaling: f64,
) -> Result<Var<'t>, LossError> {
    let opts = ViOptions {
        kl_scaling,
        ..ViOptions::default()
    };
    let est = if all_latent(p_dists, q_dists, observed, kl_or_rsample) {
        Estimator::AnalyticKl
    } else {
        Estimator::ScoreFunction
    };
    let opts = ViOptions {
        estimator: est,
        ..opts
    };
    vi_impl(
        p_dists,
        q_dists,
        values,
        observed,
        &opts,
        "vi_analytical_kl_loss",
    )
}

fn vi_impl<'t>(
    p_dists: &[&dyn Distribution<'t>],
    q_dists: &[&dyn Distribution<'t>],
    values: &[Tensor<'t>],
    observed: &[bool],
    opts: &ViOptions,
    function: &'static str,
) -> Result<Var<'t>, LossError> {
    let n = p_dists.len();
    check_len("vi_loss q_dists", n, q_dists.len())?;
    check_len("vi_loss values", n, values.len())?;
    check_len("vi_loss observed", n, observed.len())?;
    check_scaling("kl_scaling", opts.kl_scaling)?;
    let kl = opts.kl_scaling;
    let nll = log_prob_sum(p_dists, values, Some(observed))?.map(|lp| -lp);
    let estimator = match opts.estimator {
        Estimator::Auto => choose(p_dists, q_dists, observed),
        e => e,
    };
    let loss = match estimator {
        Estimator::ScoreFunction => {
            if !opts.baseline.is_finite() {
                return Err(LossError::InvalidArgument {
                    name: "baseline",
                    value: opts.baseline,
                    expected: "a finite number",
                });
            }
            score_surrogate(
                p_dists,
                q_dists,
                values,
                Some(observed),
                nll,
                kl,
                opts.baseline,
            )?
            .loss
        }
        e => {
            let div_fn: DivFn = if e == Estimator::AnalyticKl {
                analytical_kl_divergence_loss
            } else {
                opts.div_fn
            };
            let reg = if std::ptr::fn_addr_eq(div_fn, elbo_loss as DivFn) {
                // The default divergence: batch the scalar sites (same value and gradient).
                crate::batch::elbo_sum(p_dists, q_dists, values, observed)?
            } else {
                regularization_sum(p_dists, q_dists, values, Some(observed), div_fn)?
            };
            add_opt(nll, reg.map(|r| scale(r, kl)))?
        }
    };
    finish(loss, function)
}

/// The seed's automatic choice of estimator.
fn choose(
    p_dists: &[&dyn Distribution<'_>],
    q_dists: &[&dyn Distribution<'_>],
    observed: &[bool],
) -> Estimator {
    if all_latent(p_dists, q_dists, observed, |_, q| {
        q.as_reparameterizable().is_some()
    }) {
        Estimator::Divergence
    } else if all_latent(p_dists, q_dists, observed, kl_or_rsample) {
        Estimator::AnalyticKl
    } else {
        Estimator::ScoreFunction
    }
}

/// Whether the site has a closed-form KL(q ‖ p) or a reparameterizable q.
fn kl_or_rsample(p: &dyn Distribution<'_>, q: &dyn Distribution<'_>) -> bool {
    q.as_reparameterizable().is_some() || has_closed_form_kl(q, p)
}

/// Whether `pred` holds at every latent site whose q is not a `Delta` (a point estimate
/// contributes its prior loss whatever the estimator).
fn all_latent(
    p_dists: &[&dyn Distribution<'_>],
    q_dists: &[&dyn Distribution<'_>],
    observed: &[bool],
    pred: impl Fn(&dyn Distribution<'_>, &dyn Distribution<'_>) -> bool,
) -> bool {
    p_dists
        .iter()
        .zip(q_dists)
        .zip(observed)
        .filter(|((_, q), obs)| !**obs && !is_delta(**q))
        .all(|((p, q), _)| pred(*p, *q))
}
