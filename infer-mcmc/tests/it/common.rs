//! Shared helpers: loading the benchmark data, checking moments against references, test
//! models, and running with a timeout.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use infer_ad::{ParamStore, Var};
use infer_mcmc::diagnostics::{ess_bulk, mcse_mean};
use infer_mcmc::model::{Model, Params, bounds};
use infer_mcmc::models::{CorrGauss, EightSchools, LogReg};
use infer_mcmc::{
    DualAveragingOptions, Fit, LogDensity, LogDensityError, Sampler, SamplerSettings,
    dual_averaging,
};
use serde_json::Value;

/// `tests/data` of the workspace.
pub fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/data")
}

pub fn read_json(rel: &str) -> Value {
    let path = data_dir().join(rel);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad JSON in {}: {e}", path.display()))
}

fn vec_f64(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn rows_f64(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .expect("array of rows")
        .iter()
        .map(vec_f64)
        .collect()
}

pub fn corr_gauss() -> CorrGauss {
    let d = read_json("bench/corr_gauss.json");
    CorrGauss::from_rows(&rows_f64(&d["cov"])).expect("valid covariance")
}

pub fn logreg() -> LogReg {
    let d = read_json("bench/logreg.json");
    LogReg::from_rows(&rows_f64(&d["x"]), vec_f64(&d["y"])).expect("valid logreg data")
}

pub fn eight_schools() -> EightSchools {
    let d = read_json("bench/eight_schools.json");
    EightSchools::new(vec_f64(&d["y"]), vec_f64(&d["sigma"])).expect("valid data")
}

/// The exact (name, mean, sd) of every coordinate of a [`CorrGauss`]: mean 0, sd √Σᵢᵢ.
pub fn corr_gauss_moments(model: &CorrGauss) -> Vec<(String, f64, f64)> {
    let cov = model.covariance();
    let n = model.dim();
    (0..n)
        .map(|i| (format!("x[{}]", i + 1), 0.0, cov[i * n + i].sqrt()))
        .collect()
}

/// Reference (mean, sd) of every parameter of a model in `reference_posteriors.json`.
pub fn reference(model: &str) -> Vec<(String, f64, f64)> {
    let d = read_json("bench/reference_posteriors.json");
    d[model]
        .as_object()
        .expect("model entry")
        .iter()
        .map(|(k, v)| {
            (
                k.clone(),
                v["mean"].as_f64().expect("mean"),
                v["sd"].as_f64().expect("sd"),
            )
        })
        .collect()
}

/// Checks, for each `(name, mean, sd)`: |mean − m̂| ≤ 4 MCSE and |ŝd/sd − 1| ≤ `sd_tol`.
/// Returns a description of every failure.
pub fn check_moments(fit: &Fit, expected: &[(String, f64, f64)], sd_tol: f64) -> Vec<String> {
    let mut failures = Vec::new();
    let (mut max_z, mut max_sd_dev, mut min_ess) = (0.0f64, 0.0f64, f64::INFINITY);
    for (name, mean, sd) in expected {
        let draws = fit
            .draws_by_name(name)
            .unwrap_or_else(|e| panic!("no parameter {name}: {e}"));
        let n = draws.len() as f64;
        let m = draws.mean().expect("non-empty");
        let s = (draws.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)).sqrt();
        let mcse = mcse_mean(draws.view()).expect("diagnosable draws");
        let ess = ess_bulk(draws.view()).expect("diagnosable draws");
        let z = (m - mean) / mcse;
        max_z = max_z.max(z.abs());
        max_sd_dev = max_sd_dev.max((s / sd - 1.0).abs());
        min_ess = min_ess.min(ess);
        if !(z.abs() <= 4.0) || !((s / sd - 1.0).abs() <= sd_tol) {
            failures.push(format!(
                "{name}: mean {m:.4} (want {mean:.4}, z = {z:.2}, mcse {mcse:.4}, ess {ess:.0}), sd {s:.4} (want {sd:.4}, ratio {:.3})",
                s / sd
            ));
        }
    }
    println!(
        "{} parameters: max |z| = {max_z:.2}, max |sd ratio − 1| = {max_sd_dev:.3}, min bulk ESS = {min_ess:.0}, divergences = {}",
        expected.len(),
        fit.num_divergent()
    );
    failures
}

/// For the continuation tests (extend, checkpoints): a bounded parameter, a dependent bound
/// and a generated quantity drawing from its RNG.
pub struct Triangle;

impl Model for Triangle {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let alpha = p.scalar("alpha", bounds(0.0, 1.0))?;
        let beta = p.scalar("beta", bounds(0.0, 1.0 - alpha))?;
        p.generated("coin", |rng| {
            Ok::<_, LogDensityError>(rand::Rng::random::<f64>(rng))
        })?;
        Ok(alpha * 0.5 + beta)
    }
}

/// [`Triangle`] sampled with `settings` but `num_samples` sampling iterations in one run: what
/// a continued run must equal.
pub fn uninterrupted(settings: SamplerSettings, num_samples: usize) -> Fit {
    fit_model(
        SamplerSettings {
            num_samples,
            ..settings
        },
        &Triangle,
    )
}

/// A parameter store holding one vector `x` with the values `init`.
pub fn store(init: &[f64]) -> ParamStore {
    let mut params = ParamStore::new();
    params.add("x", ndarray::arr1(init)).unwrap();
    params
}

/// The step size of the seed's loop: dual averaging (default options) from the heuristic's
/// `(ε₀, ε̄, h̄)` for the first `adapt` iterations, then the averaged ε̄.
pub struct SeedSchedule {
    eps0: f64,
    eps_bar: f64,
    h_bar: f64,
    adapt: usize,
}

impl SeedSchedule {
    /// The schedule from the heuristic's `(ε₀, ε̄, h̄)`.
    pub fn new((eps0, eps_bar, h_bar): (f64, f64, f64), adapt: usize) -> Self {
        Self {
            eps0,
            eps_bar,
            h_bar,
            adapt,
        }
    }

    /// The first step size, ε₀.
    pub fn initial(&self) -> f64 {
        self.eps0
    }

    /// The step size after iteration `i` (1-based), whose acceptance statistic is `accept_stat`.
    pub fn next(&mut self, i: usize, accept_stat: f64) -> f64 {
        if i > self.adapt {
            return self.eps_bar;
        }
        let (eps, eps_bar, h_bar) = dual_averaging(
            accept_stat,
            i,
            self.eps0,
            self.eps_bar,
            self.h_bar,
            DualAveragingOptions::default(),
        )
        .unwrap();
        (self.eps_bar, self.h_bar) = (eps_bar, h_bar);
        eps
    }
}

/// Runs `f` on its own thread and waits at most `secs` seconds for it: a hang fails the
/// test (the thread is left behind) instead of blocking the suite.
pub fn within<T: Send + 'static>(
    secs: u64,
    what: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(Ok(v)) => v,
        Ok(Err(_)) => panic!("{what}: panicked"),
        Err(_) => panic!("{what}: no answer within {secs} s (hang)"),
    }
}

/// log p = −ln cosh x per coordinate (written stably): finite with a finite gradient at
/// every finite point, so any initial radius finds a start.
#[derive(Clone, Copy, Debug)]
pub struct LogCosh(usize);

impl LogDensity for LogCosh {
    fn dim(&self) -> usize {
        self.0
    }
    fn logp_and_grad(&mut self, x: &[f64], g: &mut [f64]) -> Result<f64, LogDensityError> {
        let mut lp = 0.0;
        for (xi, gi) in x.iter().zip(g.iter_mut()) {
            let a = xi.abs();
            // ln cosh x = |x| + ln(1 + e^{−2|x|}) − ln 2
            lp -= a + (-2.0 * a).exp().ln_1p() - std::f64::consts::LN_2;
            *gi = -xi.tanh();
        }
        Ok(lp)
    }
}

pub fn log_cosh(dim: usize) -> LogCosh {
    LogCosh(dim)
}

/// One chain of two draws, no warmup.
pub fn tiny() -> SamplerSettings {
    runs(1, 0, 2)
}

/// `num_chains` chains of `num_warmup` warmup and `num_samples` sampling iterations, every
/// other setting the default.
pub fn runs(num_chains: usize, num_warmup: usize, num_samples: usize) -> SamplerSettings {
    SamplerSettings {
        num_chains,
        num_warmup,
        num_samples,
        ..SamplerSettings::default()
    }
}

/// [`Sampler::sample_model`] with `settings`, panicking on an error.
pub fn fit_model<M: Model + Sync>(settings: SamplerSettings, model: &M) -> Fit {
    Sampler::new(settings).unwrap().sample_model(model).unwrap()
}

/// [`Sampler::sample`] with `settings`, panicking on an error.
pub fn fit_each<M: LogDensity, F: Fn(usize) -> M + Sync>(
    settings: SamplerSettings,
    make_model: F,
) -> Fit {
    Sampler::new(settings).unwrap().sample(make_model).unwrap()
}

/// [`Sampler::sample_cloned`] with `settings`, panicking on an error.
pub fn fit_cloned<M: LogDensity + Clone + Sync>(settings: SamplerSettings, model: &M) -> Fit {
    Sampler::new(settings)
        .unwrap()
        .sample_cloned(model)
        .unwrap()
}
