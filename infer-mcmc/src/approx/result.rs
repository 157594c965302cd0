//! [`Approximation`]: the draws of an approximate method on both scales, with log p and
//! log q per draw, read through the model's [`Layout`] like a [`Fit`](crate::Fit).

use std::io::Write;

use ndarray::{Array1, Array2, ArrayD, ArrayView2, Axis};
use rand::RngCore;

use super::pathfinder::log_p_at;
use super::psis::psis;
use super::{ApproxError, Method};
use crate::csv::CsvWriter;
use crate::density::LogDensity;
use crate::fit::{quantity_draws, unknown_name};
use crate::layout::Layout;
use crate::output::OutputError;
use crate::summary::{Summary, SummaryError};

/// The per-draw columns of an approximation, before the recorded values: log p of the draw
/// (`lp__`, as the sampler records it: the unconstrained density the method approximates,
/// up to a constant) and log q under the approximation (`lp_approx__`, normalized).
///
/// # Examples
///
/// ```
/// assert_eq!(infer_mcmc::approx::APPROX_COLUMNS, ["lp__", "lp_approx__"]);
/// ```
pub const APPROX_COLUMNS: [&str; 2] = ["lp__", "lp_approx__"];

/// Draws from an approximation of a posterior (Pathfinder, Laplace, ADVI), recorded as the
/// sampler records its draws: every draw's constrained parameters, transformed parameters and
/// generated quantities ([`LogDensity::write_draw`]) under the model's [`Layout`], with the
/// unconstrained draw, its log p and its log q. Built by any method from its unconstrained
/// draws and their log q with [`Approximation::new`].
///
/// # Examples
///
/// ```
/// use ndarray::Array2;
/// use infer_mcmc::approx::{Approximation, Method};
/// use infer_mcmc::models::Gauss;
/// use rand::SeedableRng;
///
/// // three draws of some method on N(0, I₂), with their log q under it
/// let draws = Array2::from_shape_vec((3, 2), vec![0.1, -0.2, 0.5, 0.3, -1.0, 0.0])?;
/// let log_q = vec![-1.9, -2.0, -2.4];
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let approx = Approximation::new(&mut Gauss::new(2), Method::Laplace, draws, log_q, &mut rng)?;
/// assert_eq!(approx.draws_by_name("x[2]")?.to_vec(), [-0.2, 0.3, 0.0]);
/// assert_eq!(approx.log_p[2], -0.5); // log p = −½‖x‖² of Gauss
/// assert_eq!(approx.gradient_evals, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Approximation {
    /// The method.
    pub method: Method,
    /// The recorded quantities: names, shapes and blocks of the columns of `draws`.
    pub layout: Layout,
    /// The recorded draws, draws × `layout.len()`: the constrained parameters, then the
    /// transformed parameters, then the generated quantities.
    pub draws: Array2<f64>,
    /// The draws on the unconstrained scale, draws × dimension.
    pub unconstrained: Array2<f64>,
    /// log p of each draw (`lp__`): the density the method approximates, −∞ where it rejects
    /// the draw.
    pub log_p: Vec<f64>,
    /// log q of each draw under the approximation (`lp_approx__`).
    pub log_q: Vec<f64>,
    /// Every evaluation of log p and its gradient the method made.
    pub gradient_evals: u64,
    /// Wall time of the method, seconds.
    pub wall_seconds: f64,
    /// The Pareto k̂ of the importance weights when the draws were importance-resampled
    /// (multi-path Pathfinder); see also [`importance_khat`](Self::importance_khat).
    pub pareto_k: Option<f64>,
    /// The method's settings as `key = value` pairs, written in the CSV header.
    pub config: Vec<(String, String)>,
}

impl Approximation {
    /// Records the unconstrained `draws` (draws × dimension) of `method` with their `log_q`:
    /// evaluates log p at each draw (a rejected draw gets −∞; these evaluations are counted
    /// in [`gradient_evals`](Self::gradient_evals)) and writes its recorded values with
    /// [`LogDensity::write_draw`], generated quantities drawn with `rng` in draw order.
    ///
    /// # Errors
    ///
    /// [`ApproxError::DimensionMismatch`] when `draws` does not have the density's dimension
    /// as columns or `log_q` one value per draw; [`ApproxError::LogDensity`] for a fatal
    /// failure; [`ApproxError::Draw`] when a draw cannot be recorded.
    pub fn new<M: LogDensity + ?Sized, R: RngCore + ?Sized>(
        density: &mut M,
        method: Method,
        draws: Array2<f64>,
        log_q: Vec<f64>,
        rng: &mut R,
    ) -> Result<Self, ApproxError> {
        check_dims(density.dim(), &draws, &log_q, None)?;
        let mut grad = vec![0.0; density.dim()];
        let log_p = draws
            .rows()
            .into_iter()
            .map(|row| log_p_at(density, &row.to_vec(), &mut grad))
            .collect::<Result<Vec<f64>, ApproxError>>()?;
        let evals = draws.nrows() as u64;
        Ok(Self::with_log_p(density, method, draws, log_q, log_p, rng)?.add_gradient_evals(evals))
    }

    /// As [`Approximation::new`] with log p already known (`log_p`, one per draw; nothing is
    /// evaluated, so no gradient evaluation is counted).
    ///
    /// # Errors
    ///
    /// As [`Approximation::new`], and [`ApproxError::DimensionMismatch`] for `log_p`.
    pub fn with_log_p<M: LogDensity + ?Sized, R: RngCore + ?Sized>(
        density: &mut M,
        method: Method,
        draws: Array2<f64>,
        log_q: Vec<f64>,
        log_p: Vec<f64>,
        rng: &mut R,
    ) -> Result<Self, ApproxError> {
        check_dims(density.dim(), &draws, &log_q, Some(&log_p))?;
        let layout = density.layout();
        let mut recorded = Array2::zeros((draws.nrows(), layout.len()));
        let mut x = vec![0.0; density.dim()];
        for (index, (row, mut out)) in draws
            .rows()
            .into_iter()
            .zip(recorded.rows_mut())
            .enumerate()
        {
            for (xi, v) in x.iter_mut().zip(row) {
                *xi = *v;
            }
            let out = out.as_slice_mut().ok_or(ApproxError::DimensionMismatch {
                name: "recorded draws",
                expected: layout.len(),
                found: 0,
            })?;
            density
                .write_draw(&x, &mut RngRef(rng), out)
                .map_err(|source| ApproxError::Draw { index, source })?;
        }
        Ok(Self {
            method,
            layout,
            draws: recorded,
            unconstrained: draws,
            log_p,
            log_q,
            gradient_evals: 0,
            wall_seconds: 0.0,
            pareto_k: None,
            config: Vec::new(),
        })
    }

    /// Adds `evals` to [`gradient_evals`](Self::gradient_evals) (the method's own
    /// evaluations; the constructor counts those it made).
    #[must_use]
    pub fn add_gradient_evals(mut self, evals: u64) -> Self {
        self.gradient_evals += evals;
        self
    }

    /// Sets the wall time.
    #[must_use]
    pub fn with_wall_seconds(mut self, seconds: f64) -> Self {
        self.wall_seconds = seconds;
        self
    }

    /// Sets the settings written in the CSV header (`key = value`).
    #[must_use]
    pub fn with_config(mut self, config: Vec<(String, String)>) -> Self {
        self.config = config;
        self
    }

    /// The number of draws.
    #[must_use]
    pub fn num_draws(&self) -> usize {
        self.draws.nrows()
    }

    /// Names of the recorded values (the columns of `draws`), Stan's 1-based form.
    #[must_use]
    pub fn param_names(&self) -> &[String] {
        self.layout.names()
    }

    /// Every draw of the quantity `name` as draws × its shape.
    ///
    /// # Errors
    ///
    /// [`McmcError::UnknownName`](crate::McmcError::UnknownName) when nothing is recorded
    /// under `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::approx::{LaplaceSettings, laplace};
    /// use infer_mcmc::models::EightSchools;
    ///
    /// let s = LaplaceSettings { num_draws: 50, ..LaplaceSettings::default() };
    /// let approx = laplace(&mut EightSchools::classic(), &s)?;
    /// assert_eq!(approx.draws_of("eta")?.shape(), [50, 8]);
    /// assert!(approx.draws_of("eta[1]").is_err()); // a quantity's name, not an element's
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn draws_of(&self, name: &str) -> Result<ArrayD<f64>, crate::McmcError> {
        quantity_draws(
            &self.layout,
            name,
            &[self.num_draws()],
            self.draws.rows().into_iter(),
        )
    }

    /// The draws of one recorded value by its element name (`theta[2]`).
    ///
    /// # Errors
    ///
    /// [`McmcError::UnknownName`](crate::McmcError::UnknownName), whose message gives the
    /// valid names (for an indexed name, the valid 1-based range).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::approx::{LaplaceSettings, laplace};
    /// use infer_mcmc::models::EightSchools;
    ///
    /// let s = LaplaceSettings { num_draws: 50, ..LaplaceSettings::default() };
    /// let approx = laplace(&mut EightSchools::classic(), &s)?;
    /// assert!(approx.draws_by_name("tau")?.iter().all(|&t| t > 0.0));
    /// let err = approx.draws_by_name("eta[9]").unwrap_err();
    /// assert!(err.to_string().contains("eta[1] ..= eta[8]"), "{err}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn draws_by_name(&self, name: &str) -> Result<Array1<f64>, crate::McmcError> {
        let k = self
            .param_names()
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| unknown_name(&self.layout, name))?;
        Ok(self.draws.column(k).to_owned())
    }

    /// The Pareto k̂ of the importance ratios log p − log q of these draws ([`psis`] with
    /// r_eff = 1): how well the approximation covers the density (below 0.7, importance
    /// sampling can correct it; Vehtari et al. 2024). For resampled draws (multi-path
    /// Pathfinder) see [`pareto_k`](Self::pareto_k) instead: the draws are no longer
    /// independent draws of q.
    ///
    /// # Errors
    ///
    /// As [`psis`] (no draw with a finite log p).
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::approx::{LaplaceSettings, laplace};
    /// use infer_mcmc::models::Gauss;
    ///
    /// // the Laplace approximation of a Gaussian is exact: constant ratios, no tail to fit
    /// let approx = laplace(&mut Gauss::new(2), &LaplaceSettings::default())?;
    /// let k = approx.importance_khat()?;
    /// assert!(!(k > 0.5), "{k}");
    /// # Ok::<(), infer_mcmc::approx::ApproxError>(())
    /// ```
    pub fn importance_khat(&self) -> Result<f64, ApproxError> {
        let ratios: Vec<f64> = self
            .log_p
            .iter()
            .zip(&self.log_q)
            .map(|(p, q)| {
                if p.is_finite() {
                    p - q
                } else {
                    f64::NEG_INFINITY
                }
            })
            .collect();
        Ok(psis(&ratios, 1.0)?.pareto_k)
    }

    /// The summary of every recorded value as one chain of draws (mean, sd, MCSE, quantiles,
    /// ESS, R̂ of the split draws), with rows for `lp__` and `lp_approx__` when both are
    /// finite for every draw, and the method's wall time.
    ///
    /// # Errors
    ///
    /// [`SummaryError::Diagnostics`] when a value has fewer than 4 draws or a non-finite
    /// draw.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::approx::{LaplaceSettings, laplace};
    /// use infer_mcmc::models::Gauss;
    ///
    /// let approx = laplace(&mut Gauss::new(2), &LaplaceSettings::default())?;
    /// let summary = approx.summary()?;
    /// assert_eq!(summary.rows().len(), 2);
    /// assert!(summary.get("lp_approx__").is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn summary(&self) -> Result<Summary, SummaryError> {
        let values = self.draws.view().insert_axis(Axis(0));
        let mut summary = Summary::new(self.param_names(), values)?;
        let all_finite = |v: &[f64]| v.iter().all(|x| x.is_finite());
        if all_finite(&self.log_p) && all_finite(&self.log_q) {
            let as_chain =
                |v: &[f64]| ArrayView2::from_shape((1, v.len()), v).map(|a| a.to_owned());
            if let (Ok(p), Ok(q)) = (as_chain(&self.log_p), as_chain(&self.log_q)) {
                summary = summary.with_sampler_rows(&APPROX_COLUMNS, &[p.view(), q.view()])?;
            }
        }
        Ok(summary.with_wall_time(self.wall_seconds))
    }

    /// Writes the draws as a CmdStan-style CSV file: the header comments (`# model = …`,
    /// `# method = pathfinder` (or `laplace`, `variational`), the method's settings, the
    /// crate version), then the columns `lp__, lp_approx__` and the recorded values under
    /// their CmdStan names and in CmdStan's order (containers column-major), one row per
    /// draw — the layout of CmdStan's Pathfinder and Laplace outputs, which ArviZ's
    /// `from_cmdstan` reads (the two `__` columns as sample statistics).
    ///
    /// # Errors
    ///
    /// [`OutputError::InvalidModelName`] for an empty model name or one with a line break;
    /// [`OutputError::Csv`] when writing fails or a `config` entry holds a line break.
    ///
    /// # Examples
    ///
    /// ```
    /// use infer_mcmc::approx::{LaplaceSettings, laplace};
    /// use infer_mcmc::models::Gauss;
    ///
    /// let approx = laplace(&mut Gauss::new(2), &LaplaceSettings { num_draws: 3, ..LaplaceSettings::default() })?;
    /// let mut out = Vec::new();
    /// approx.write_cmdstan_csv(&mut out, "gauss")?;
    /// let text = String::from_utf8(out)?;
    /// assert!(text.starts_with("# model = gauss\n# method = laplace\n"));
    /// assert!(text.contains("\nlp__,lp_approx__,x.1,x.2\n"));
    /// assert_eq!(text.lines().filter(|l| !l.starts_with('#')).count(), 4);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_cmdstan_csv<W: Write>(&self, out: W, model: &str) -> Result<(), OutputError> {
        if model.is_empty() || model.contains(['\n', '\r']) {
            return Err(OutputError::InvalidModelName {
                name: model.to_owned(),
            });
        }
        let mut comments = format!("# model = {model}\n");
        let method = self.method.cmdstan_name();
        comments.push_str(&format!("# method = {method}\n#   {method}\n"));
        match self.method {
            Method::AdviMeanField => comments.push_str("#     algorithm = meanfield\n"),
            Method::AdviFullRank => comments.push_str("#     algorithm = fullrank\n"),
            _ => {}
        }
        // a key or value with a line break makes a line the writer rejects (`InvalidComment`)
        for (k, v) in &self.config {
            comments.push_str(&format!("#     {k} = {v}\n"));
        }
        comments.push_str(&format!("#     gradient_evals = {}\n", self.gradient_evals));
        comments.push_str(&format!(
            "# infer_version = {}\n",
            env!("CARGO_PKG_VERSION")
        ));
        let mut columns: Vec<String> = APPROX_COLUMNS.iter().map(|c| (*c).to_owned()).collect();
        columns.extend(self.layout.cmdstan_names());
        let order = self.layout.cmdstan_order();
        let mut w = CsvWriter::with_comments(out, &comments, &columns)?;
        let mut row = Vec::with_capacity(columns.len());
        for (i, d) in self.draws.rows().into_iter().enumerate() {
            row.clear();
            row.push(self.log_p[i]);
            row.push(self.log_q[i]);
            row.extend(order.iter().map(|&j| d[j]));
            w.write_draw(&row)?;
        }
        w.finish(None)?;
        Ok(())
    }
}

/// `write_draw` takes `&mut dyn RngCore`; this passes any `RngCore`, sized or not.
struct RngRef<'a, R: RngCore + ?Sized>(&'a mut R);

impl<R: RngCore + ?Sized> RngCore for RngRef<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.0.fill_bytes(dst);
    }
}

/// The shapes [`Approximation::new`] needs: `draws` with `dim` columns, one log q (and log p)
/// per draw.
fn check_dims(
    dim: usize,
    draws: &Array2<f64>,
    log_q: &[f64],
    log_p: Option<&[f64]>,
) -> Result<(), ApproxError> {
    let mismatch = |name, expected, found| ApproxError::DimensionMismatch {
        name,
        expected,
        found,
    };
    if draws.ncols() != dim {
        return Err(mismatch("draws (columns)", dim, draws.ncols()));
    }
    if log_q.len() != draws.nrows() {
        return Err(mismatch("log_q", draws.nrows(), log_q.len()));
    }
    if let Some(p) = log_p
        && p.len() != draws.nrows()
    {
        return Err(mismatch("log_p", draws.nrows(), p.len()));
    }
    Ok(())
}
