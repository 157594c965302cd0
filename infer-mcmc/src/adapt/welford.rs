//! Welford's streaming estimators of the variance and covariance, and the regularized
//! metric Stan builds from them.

use crate::error::McmcError;
use crate::metric::{Metric, MetricKind};

/// Streaming mean and variance of each coordinate (Welford 1962).
///
/// # Examples
///
/// ```
/// use infer_mcmc::adapt::WelfordVariance;
///
/// let mut w = WelfordVariance::new(1);
/// for x in [1.0, 2.0, 3.0, 4.0] {
///     w.add(&[x]);
/// }
/// assert_eq!(w.variance(), vec![5.0 / 3.0]);
/// ```
#[derive(Clone, Debug)]
pub struct WelfordVariance {
    n: usize,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl WelfordVariance {
    /// An empty estimator of dimension `dim`.
    #[must_use]
    pub fn new(dim: usize) -> Self {
        Self {
            n: 0,
            mean: vec![0.0; dim],
            m2: vec![0.0; dim],
        }
    }

    /// Adds one draw.
    pub fn add(&mut self, x: &[f64]) {
        self.n += 1;
        let n = self.n as f64;
        for i in 0..self.mean.len() {
            let delta = x[i] - self.mean[i];
            self.mean[i] += delta / n;
            self.m2[i] += delta * (x[i] - self.mean[i]);
        }
    }

    /// Number of draws added.
    #[must_use]
    pub fn count(&self) -> usize {
        self.n
    }

    /// Sample variance (divisor n − 1).
    #[must_use]
    pub fn variance(&self) -> Vec<f64> {
        let d = (self.n as f64 - 1.0).max(1.0);
        self.m2.iter().map(|m| m / d).collect()
    }

    /// Forgets all draws.
    pub fn reset(&mut self) {
        self.n = 0;
        self.mean.fill(0.0);
        self.m2.fill(0.0);
    }
}

/// Streaming mean and covariance matrix (Welford 1962).
///
/// # Examples
///
/// ```
/// use infer_mcmc::adapt::WelfordCovariance;
///
/// let mut w = WelfordCovariance::new(2);
/// for x in [[0.0, 0.0], [1.0, 2.0], [2.0, 4.0]] {
///     w.add(&x);
/// }
/// assert_eq!(w.covariance(), vec![1.0, 2.0, 2.0, 4.0]);
/// ```
#[derive(Clone, Debug)]
pub struct WelfordCovariance {
    n: usize,
    mean: Vec<f64>,
    m2: Vec<f64>,
    delta: Vec<f64>,
}

impl WelfordCovariance {
    /// An empty estimator of dimension `dim`.
    #[must_use]
    pub fn new(dim: usize) -> Self {
        Self {
            n: 0,
            mean: vec![0.0; dim],
            m2: vec![0.0; dim * dim],
            delta: vec![0.0; dim],
        }
    }

    /// Adds one draw.
    pub fn add(&mut self, x: &[f64]) {
        self.n += 1;
        let n = self.n as f64;
        let d = self.mean.len();
        for i in 0..d {
            self.delta[i] = x[i] - self.mean[i];
            self.mean[i] += self.delta[i] / n;
        }
        for i in 0..d {
            let a = x[i] - self.mean[i];
            for j in 0..d {
                self.m2[i * d + j] += a * self.delta[j];
            }
        }
    }

    /// Number of draws added.
    #[must_use]
    pub fn count(&self) -> usize {
        self.n
    }

    /// Sample covariance (divisor n − 1), row-major and symmetrized.
    #[must_use]
    pub fn covariance(&self) -> Vec<f64> {
        let d = self.mean.len();
        let div = (self.n as f64 - 1.0).max(1.0);
        let mut c = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                c[i * d + j] = 0.5 * (self.m2[i * d + j] + self.m2[j * d + i]) / div;
            }
        }
        c
    }

    /// Forgets all draws.
    pub fn reset(&mut self) {
        self.n = 0;
        self.mean.fill(0.0);
        self.m2.fill(0.0);
    }
}

/// The estimator behind a metric of either kind, producing Stan's regularized metric
/// (n/(n+5))·Σ̂ + 10⁻³·(5/(n+5))·I.
///
/// # Examples
///
/// ```
/// use infer_mcmc::adapt::MetricEstimator;
/// use infer_mcmc::MetricKind;
///
/// let mut e = MetricEstimator::new(MetricKind::Diagonal, 1);
/// for x in [1.0, 3.0, 1.0, 3.0, 1.0] {
///     e.add(&[x]);
/// }
/// let m = e.metric()?;
/// let want = 5.0 / 10.0 * 1.2 + 1e-3 * 0.5;
/// assert!((m.inverse_diagonal()[0] - want).abs() < 1e-15);
/// # Ok::<(), infer_mcmc::McmcError>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum MetricEstimator {
    /// Marginal variances for a diagonal metric.
    Diagonal(WelfordVariance),
    /// Full covariance for a dense metric.
    Dense(WelfordCovariance),
}

impl MetricEstimator {
    /// An empty estimator for a metric of the given kind (for [`MetricKind::LowRank`], the
    /// diagonal one: [`Adaptation::FisherLowRank`](crate::settings::Adaptation::FisherLowRank)
    /// fits the low-rank factors, not this estimator).
    #[must_use]
    pub fn new(kind: MetricKind, dim: usize) -> Self {
        match kind {
            MetricKind::Dense => Self::Dense(WelfordCovariance::new(dim)),
            // Stan's windows estimate no low-rank factors: the diagonal part.
            MetricKind::Diagonal | MetricKind::LowRank => Self::Diagonal(WelfordVariance::new(dim)),
        }
    }

    /// Adds one draw.
    pub fn add(&mut self, x: &[f64]) {
        match self {
            Self::Diagonal(w) => w.add(x),
            Self::Dense(w) => w.add(x),
        }
    }

    /// Forgets all draws.
    pub fn reset(&mut self) {
        match self {
            Self::Diagonal(w) => w.reset(),
            Self::Dense(w) => w.reset(),
        }
    }

    /// The regularized metric from the draws so far.
    ///
    /// # Errors
    ///
    /// [`McmcError::InvalidMetric`] if an estimated variance is not finite, or
    /// [`McmcError::NotPositiveDefinite`] if the dense estimate cannot be factored.
    pub fn metric(&self) -> Result<Metric, McmcError> {
        match self {
            Self::Diagonal(w) => {
                let n = w.count() as f64;
                let (a, b) = (n / (n + 5.0), 1e-3 * (5.0 / (n + 5.0)));
                Metric::diagonal(w.variance().into_iter().map(|v| a * v + b).collect())
            }
            Self::Dense(w) => {
                let n = w.count() as f64;
                let (a, b) = (n / (n + 5.0), 1e-3 * (5.0 / (n + 5.0)));
                let d = w.mean.len();
                let mut c = w.covariance();
                for (k, v) in c.iter_mut().enumerate() {
                    *v *= a;
                    if k / d == k % d {
                        *v += b;
                    }
                }
                Metric::dense(c, d)
            }
        }
    }
}
