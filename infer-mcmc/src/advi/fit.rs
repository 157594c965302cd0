//! The result of an ADVI fit.

use std::time::Duration;

use ndarray::{Array2, ArrayD};

use super::error::AdviError;
use super::settings::AdviFamily;
use crate::layout::Layout;

/// One ELBO estimate of the convergence test.
///
/// # Examples
/// ```
/// use infer_mcmc::advi::{advi, AdviSettings};
/// use infer_mcmc::models::Gauss;
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
/// let fit = advi(&mut Gauss::new(2), &AdviSettings::default(), &mut rng)?;
/// let first = fit.elbo_trace[0];
/// assert_eq!(first.iteration, 100);
/// assert_eq!(first.rel_change_mean, 1.0); // Stan's first change, from ELBO 0
/// # Ok::<(), infer_mcmc::advi::AdviError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ElboEval {
    /// The iteration after which the ELBO was estimated.
    pub iteration: usize,
    /// The estimate (`elbo_samples` draws).
    pub elbo: f64,
    /// Mean of the relative changes in the circular buffer.
    pub rel_change_mean: f64,
    /// Median (upper, for an even count) of the relative changes in the buffer.
    pub rel_change_median: f64,
}

/// A fitted ADVI guide N(μ, LLᵀ) on the unconstrained space, its draws and how the fit went.
///
/// The draws are what Stan's `variational` method writes (without its first row, the mean):
/// `output_samples` unconstrained draws with log p and log q of each, and the recorded
/// quantities of each draw (parameters on the constrained scale, transformed parameters,
/// generated quantities) in the density's [`Layout`].
///
/// # Examples
/// ```
/// use infer_mcmc::advi::{advi, AdviSettings};
/// use infer_mcmc::models::Gauss;
/// use rand::SeedableRng;
/// let mut rng = rand::rngs::StdRng::seed_from_u64(3);
/// let fit = advi(&mut Gauss::new(2), &AdviSettings::default(), &mut rng)?;
/// assert_eq!(fit.draws.dim(), (1000, 2));
/// assert_eq!(fit.log_q.len(), 1000);
/// assert!(fit.sd().iter().all(|&s| (s - 1.0).abs() < 0.3));
/// # Ok::<(), infer_mcmc::advi::AdviError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AdviFit {
    /// The variational family.
    pub family: AdviFamily,
    /// μ, the guide's mean on the unconstrained scale.
    pub mean: Vec<f64>,
    /// L (n × n, lower-triangular, positive diagonal), the Cholesky factor of the guide's
    /// covariance on the unconstrained scale; diagonal (the sds) for the mean-field family.
    pub scale_tril: Array2<f64>,
    /// The unconstrained draws, `output_samples` × n.
    pub draws: Array2<f64>,
    /// ln q of each draw under the guide (normalized).
    pub log_q: Vec<f64>,
    /// ln p of each draw (the density's, unnormalized, Jacobian included; −∞ where it cannot
    /// be evaluated).
    pub log_p: Vec<f64>,
    /// The recorded quantities of each draw, `output_samples` × `layout.len()`.
    pub values: Array2<f64>,
    /// Names, shapes and blocks of the columns of `values`.
    pub layout: Layout,
    /// The step-size scale of the returned ascent (adapted or given).
    pub eta: f64,
    /// Ascents restarted with a smaller η after the adapted one diverged (see
    /// [`AdviSettings::adapt_engaged`](super::AdviSettings::adapt_engaged)); 0 when the first
    /// ascent succeeded.
    pub restarts: usize,
    /// The ELBO estimates of the convergence test.
    pub elbo_trace: Vec<ElboEval>,
    /// Iterations of the main loop (the step-size search not counted).
    pub iterations: usize,
    /// Whether the convergence test passed before `max_iterations`.
    pub converged: bool,
    /// Evaluations of the log density (each with its gradient): initialization, step-size
    /// search, gradients, ELBO estimates and the log p of the output draws.
    pub gradient_evals: u64,
    /// Wall time of the whole fit.
    pub wall_time: Duration,
}

impl AdviFit {
    /// The dimension n of the unconstrained space.
    ///
    /// # Examples
    /// ```
    /// # use infer_mcmc::advi::{advi, AdviSettings};
    /// # use rand::SeedableRng;
    /// # let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    /// let fit = advi(&mut infer_mcmc::models::Gauss::new(3), &AdviSettings::default(), &mut rng)?;
    /// assert_eq!(fit.dim(), 3);
    /// # Ok::<(), infer_mcmc::advi::AdviError>(())
    /// ```
    #[must_use]
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// The guide's standard deviations on the unconstrained scale, √(Σⱼ Lᵢⱼ²).
    ///
    /// # Examples
    /// ```
    /// # use infer_mcmc::advi::{advi, AdviSettings};
    /// # use rand::SeedableRng;
    /// # let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    /// let fit = advi(&mut infer_mcmc::models::Gauss::new(3), &AdviSettings::default(), &mut rng)?;
    /// assert_eq!(fit.sd().len(), 3);
    /// # Ok::<(), infer_mcmc::advi::AdviError>(())
    /// ```
    #[must_use]
    pub fn sd(&self) -> Vec<f64> {
        self.scale_tril
            .rows()
            .into_iter()
            .map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt())
            .collect()
    }

    /// The guide's covariance LLᵀ on the unconstrained scale.
    ///
    /// # Examples
    /// ```
    /// # use infer_mcmc::advi::{advi, AdviSettings, AdviFamily};
    /// # use rand::SeedableRng;
    /// # let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    /// let s = AdviSettings { family: AdviFamily::FullRank, ..AdviSettings::default() };
    /// let fit = advi(&mut infer_mcmc::models::Gauss::new(2), &s, &mut rng)?;
    /// let c = fit.covariance();
    /// assert_eq!(c[[0, 1]], c[[1, 0]]);
    /// # Ok::<(), infer_mcmc::advi::AdviError>(())
    /// ```
    #[must_use]
    pub fn covariance(&self) -> Array2<f64> {
        self.scale_tril.dot(&self.scale_tril.t())
    }

    /// The draws of the recorded quantity `name` (a parameter, transformed parameter or
    /// generated quantity of the layout), shape `[output_samples] ++ shape of name`.
    ///
    /// # Errors
    /// [`AdviError::UnknownName`] when nothing is recorded under `name`.
    ///
    /// # Examples
    /// ```
    /// # use infer_mcmc::advi::{advi, AdviSettings};
    /// # use rand::SeedableRng;
    /// # let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    /// let fit = advi(&mut infer_mcmc::models::Gauss::new(3), &AdviSettings::default(), &mut rng)?;
    /// assert_eq!(fit.draws_of("x")?.shape(), [1000, 3]);
    /// assert!(fit.draws_of("y").is_err());
    /// # Ok::<(), infer_mcmc::advi::AdviError>(())
    /// ```
    pub fn draws_of(&self, name: &str) -> Result<ArrayD<f64>, AdviError> {
        let e = self
            .layout
            .entry(name)
            .ok_or_else(|| AdviError::UnknownName {
                name: name.to_owned(),
            })?;
        let mut shape = vec![self.values.nrows()];
        shape.extend_from_slice(&e.shape);
        let cols = e.columns();
        let values: Vec<f64> = self
            .values
            .rows()
            .into_iter()
            .flat_map(|row| cols.clone().map(move |k| row[k]))
            .collect();
        ArrayD::from_shape_vec(shape, values).map_err(|_| AdviError::UnknownName {
            name: name.to_owned(),
        })
    }
}

impl AdviFit {
    /// The fit's output draws as an [`Approximation`](crate::approx::Approximation): the
    /// recorded values under the model's names, the unconstrained draws with their log p
    /// (`lp__`) and log q (`lp_approx__`), the gradient evaluations and wall time of the fit;
    /// with the approximations' summary and CmdStan CSV.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::advi::{AdviSettings, advi};
    /// use infer_mcmc::approx::Method;
    /// use infer_mcmc::models::Gauss;
    /// use rand::SeedableRng;
    ///
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    /// let fit = advi(&mut Gauss::new(2), &AdviSettings::default(), &mut rng)?;
    /// let approx = fit.approximation();
    /// assert_eq!(approx.method, Method::AdviMeanField);
    /// assert_eq!(approx.num_draws(), 1000);
    /// assert_eq!(approx.param_names(), ["x[1]", "x[2]"]);
    /// println!("{}", approx.summary()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn approximation(&self) -> crate::approx::Approximation {
        use crate::approx::Method;
        let method = match self.family {
            AdviFamily::MeanField => Method::AdviMeanField,
            AdviFamily::FullRank => Method::AdviFullRank,
        };
        crate::approx::Approximation {
            method,
            layout: self.layout.clone(),
            draws: self.values.clone(),
            unconstrained: self.draws.clone(),
            log_p: self.log_p.clone(),
            log_q: self.log_q.clone(),
            gradient_evals: self.gradient_evals,
            wall_seconds: self.wall_time.as_secs_f64(),
            pareto_k: None,
            config: vec![
                (
                    "algorithm".to_owned(),
                    match self.family {
                        AdviFamily::MeanField => "meanfield",
                        AdviFamily::FullRank => "fullrank",
                    }
                    .to_owned(),
                ),
                ("eta".to_owned(), self.eta.to_string()),
                ("iterations".to_owned(), self.iterations.to_string()),
                ("converged".to_owned(), u8::from(self.converged).to_string()),
            ],
        }
    }
}
