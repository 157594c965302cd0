//! NUTS on the four benchmark models (Stan's figures in BENCHMARKS.md) with gradients from the infer-ad tape — the
//! like-for-like comparison with Stan, which also differentiates its models automatically —
//! and with the hand-written gradients of `infer_mcmc::models` for reference. Logistic
//! regression is also run with its likelihood as one fused tape node (`glm`,
//! [`BernoulliLogitGlm`]), as Stan users would write it with `bernoulli_logit_glm`, and as a
//! user writes it plainly (`plain`: `Bernoulli::from_logits(X·β)`, which takes the same fused
//! kernel because the data product is deferred).
//!
//! One chain, 1000 warmup + 1000 draws, diagonal metric, target acceptance 0.8; averages over
//! seeds. Printed: wall time of warmup + sampling, minimum bulk ESS over the parameters, and
//! that minimum per gradient evaluation (leapfrog steps in the 1000 sampling iterations), next
//! to Stan's figures: the anchor run recorded in BENCHMARKS.md (Stan's wall time and the ESS/grad of its
//! seed-1 run), and Stan's mean ESS/grad over 200–400 seeds measured on this machine class
//! with the anchors' settings and scored with our `ess_bulk` (BENCHMARKS.md, "ESS per
//! gradient against Stan"), since one run's minimum ESS varies by ±30% between seeds.
//!
//! Run: `cargo run --release --example nuts_benchmark -- [--seeds N] [--only MODEL]
//! [--grad-evals N] [--time-in-grad]`. `--only` restricts the run to one model;
//! `--grad-evals N` adds, per model and engine, the time of one `logp_and_grad` (best of 20
//! blocks of N/20 calls) at fixed points (the cost per gradient, free of the sampler and of
//! trajectory lengths); `--time-in-grad` times every gradient call of the runs and prints the
//! share of the wall time spent in them (off by default: two clock reads per call add to the
//! wall time being measured).

#[path = "common/bench.rs"]
mod bench;

use bench::{data, min_ess_bulk};
use infer::ad::Var;
use infer::ad::scalar::softplus_and_sigmoid;
use infer::dist::{Bernoulli, BernoulliLogitGlm, Constraint, HalfCauchy, Normal};
use infer::mcmc::layout::Layout;
use infer::mcmc::model::{Model, Params, TapeModel};
use infer::mcmc::models::{CorrGauss, EightSchools, Gauss, LogReg};
use infer::mcmc::{LogDensity, LogDensityError, Sampler, SamplerSettings};
use ndarray::{Array1, Array2};
use serde_json::Value;
use std::error::Error;
use std::sync::Arc;
use std::time::Instant;

fn matrix(v: &Value) -> Result<Array2<f64>, Box<dyn Error>> {
    let rows: Vec<Vec<f64>> = serde_json::from_value(v.clone())?;
    let (n, d) = (rows.len(), rows.first().map_or(0, Vec::len));
    Ok(Array2::from_shape_vec(
        (n, d),
        rows.into_iter().flatten().collect(),
    )?)
}

/// x ~ N(0, I) in `dim` dimensions.
struct TapeGauss(usize);
impl Model for TapeGauss {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        Ok(p.vector("x", self.0, Constraint::Real)?.square().sum() * -0.5)
    }
}

/// x ~ N(0, Σ): −½ xᵀ Σ⁻¹ x with the precision matrix held by reference.
struct TapeCorrGauss(Arc<Array2<f64>>);
impl Model for TapeCorrGauss {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let tape = p.tape();
        let x = p.vector("x", self.0.nrows(), Constraint::Real)?;
        Ok(tape.data_matvec(&self.0, x)?.dot(x)? * -0.5)
    }
}

/// β ~ N(0, I), yᵢ ~ Bernoulli(logit = xᵢ·β): one matrix–vector node and one fused likelihood.
struct TapeLogReg {
    x: Arc<Array2<f64>>,
    y: Array1<f64>,
}
impl Model for TapeLogReg {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let tape = p.tape();
        let b = p.vector("beta", self.x.ncols(), Constraint::Real)?;
        let eta = tape.data_matvec(&self.x, b)?;
        let y = tape.constant(&self.y);
        let ll = tape.fused_sum([eta, y], |_, [e, y]| {
            let (sp, s) = softplus_and_sigmoid(e);
            (y * e - sp, [y - s, 0.0])
        })?;
        Ok(ll - b.square().sum() * 0.5)
    }
}

/// The same model as a user writes it: `Bernoulli::from_logits(X·β)` on the deferred data
/// product (which takes the GLM fast path) and a Normal prior.
struct TapeLogRegPlain {
    x: Arc<Array2<f64>>,
    y: Array1<f64>,
}
impl Model for TapeLogRegPlain {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let b = p.vector("beta", self.x.ncols(), Constraint::Real)?;
        let prior = Normal::new(0.0, 1.0)?.log_prob_sum(b)?;
        let eta = p.tape().data_matvec(&self.x, b)?;
        Ok(prior + Bernoulli::from_logits(eta)?.log_prob_sum(&self.y)?)
    }
}

/// The same model with the likelihood as one fused node ([`BernoulliLogitGlm`], Stan's
/// `bernoulli_logit_glm` idea: the gradient Xᵀ(y − σ(Xβ)) is formed in the forward pass) and
/// the prior as a Normal log density.
struct TapeLogRegGlm(BernoulliLogitGlm);
impl Model for TapeLogRegGlm {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let tape = p.tape();
        let b = p.vector("beta", self.0.x().ncols(), Constraint::Real)?;
        let prior = Normal::new(tape.scalar(0.0), tape.scalar(1.0))?;
        Ok(self.0.log_prob(b, None)? + prior.log_prob_sum(b)?)
    }
}

/// Eight schools, non-centered, written with infer-dist's distributions.
struct TapeEightSchools {
    y: Array1<f64>,
    sigma: Array1<f64>,
}
impl Model for TapeEightSchools {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let mu = p.scalar("mu", Constraint::Real)?;
        let tau = p.scalar("tau", Constraint::Positive)?;
        let eta = p.vector("eta", self.y.len(), Constraint::Real)?;
        Ok(Normal::new(0.0, 5.0)?.log_prob_sum(mu)?
            + HalfCauchy::new(5.0)?.log_prob_sum(tau)?
            + Normal::new(0.0, 1.0)?.log_prob_sum(eta)?
            + Normal::new(mu + tau * eta, &self.sigma)?.log_prob_sum(&self.y)?)
    }
}

/// Counts gradient evaluations (warmup and sampling) and, if `timed`, the time spent in them.
struct Counted<'m, M> {
    inner: &'m mut M,
    calls: usize,
    timed: bool,
    secs: f64,
}
impl<M: LogDensity> LogDensity for Counted<'_, M> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn logp_and_grad(&mut self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogDensityError> {
        self.calls += 1;
        if !self.timed {
            return self.inner.logp_and_grad(x, grad);
        }
        let t = Instant::now();
        let r = self.inner.logp_and_grad(x, grad);
        self.secs += t.elapsed().as_secs_f64();
        r
    }
    fn layout(&self) -> Layout {
        self.inner.layout()
    }
    fn write_draw(
        &mut self,
        x: &[f64],
        rng: &mut dyn rand::RngCore,
        out: &mut [f64],
    ) -> Result<(), LogDensityError> {
        self.inner.write_draw(x, rng, out)
    }
}

struct Row {
    wall: f64,
    grads: usize,
    grad_secs: f64,
    ess_per_grad: f64,
    min_ess: f64,
    divergent: usize,
}

fn run<M: LogDensity>(model: &mut M, seed: u64, timed: bool) -> Result<Row, Box<dyn Error>> {
    let sampler = Sampler::new(SamplerSettings {
        num_chains: 1,
        seed,
        ..SamplerSettings::default()
    })?;
    let mut counted = Counted {
        inner: model,
        calls: 0,
        timed,
        secs: 0.0,
    };
    let start = Instant::now();
    let chain = sampler.sample_chain(0, &mut counted)?;
    let wall = start.elapsed().as_secs_f64();
    let min_ess = min_ess_bulk(&chain.draws)?;
    Ok(Row {
        wall,
        grads: counted.calls,
        grad_secs: counted.secs,
        ess_per_grad: min_ess / chain.num_leapfrog() as f64,
        min_ess,
        divergent: chain.num_divergent(),
    })
}

/// Seconds per `logp_and_grad`: the fastest of 20 blocks of `evals / 20` calls each, cycling
/// through a few fixed points (after 10% of the calls as warm-up).
fn time_grad<M: LogDensity>(model: &mut M, evals: usize) -> Result<f64, Box<dyn Error>> {
    let dim = model.dim();
    let points: Vec<Vec<f64>> = (0..4)
        .map(|p| {
            (0..dim)
                .map(|j| 0.1 * (((j * 7 + p * 3) % 11) as f64 - 5.0) / 5.0)
                .collect()
        })
        .collect();
    let mut grad = vec![0.0; dim];
    let mut sink = 0.0;
    for k in 0..evals / 10 {
        sink += model.logp_and_grad(&points[k % 4], &mut grad)?;
    }
    // The minimum over 20 blocks: the machine's noise only ever adds time.
    let block = (evals / 20).max(1);
    let mut secs = f64::INFINITY;
    for _ in 0..20 {
        let start = Instant::now();
        for k in 0..block {
            sink += model.logp_and_grad(&points[k % 4], &mut grad)?;
        }
        secs = secs.min(start.elapsed().as_secs_f64() / block as f64);
    }
    std::hint::black_box(sink);
    Ok(secs)
}

fn main() -> Result<(), Box<dyn Error>> {
    let args: Vec<String> = std::env::args().collect();
    let flag = |name: &str| bench::flag(&args, name);
    let seeds: u64 = flag("--seeds").map_or(Ok(5), |s| s.parse())?;
    let only = flag("--only").cloned();
    let grad_evals: usize = flag("--grad-evals").map_or(Ok(0), |s| s.parse())?;
    let timed = args.iter().any(|a| a == "--time-in-grad");
    let cov = matrix(&data("corr_gauss.json")?["cov"])?;
    let lr = data("logreg.json")?;
    let x = matrix(&lr["x"])?;
    let y: Vec<f64> = serde_json::from_value(lr["y"].clone())?;
    let ya = Array1::from(y.clone());
    let es = data("eight_schools.json")?;
    let (ys, sig): (Vec<f64>, Vec<f64>) = (
        serde_json::from_value(es["y"].clone())?,
        serde_json::from_value(es["sigma"].clone())?,
    );

    // precision matrix of corr_gauss for the tape model (the hand-written model inverts it itself)
    let hand_corr =
        CorrGauss::from_rows(&cov.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>())?;
    let precision = Arc::new(invert_spd(&cov)?);
    let xa = Arc::new(x.clone());
    let glm = BernoulliLogitGlm::new(xa.clone(), &y)?;
    let hand_lr = LogReg::from_rows(
        &x.outer_iter().map(|r| r.to_vec()).collect::<Vec<_>>(),
        y.clone(),
    )?;

    println!(
        "NUTS, one chain, 1000 warmup + 1000 draws, diagonal metric, target 0.8; mean over {seeds} seeds"
    );
    println!(
        "{:<14} {:<6} {:>8} {:>7} {:>7} {:>9} {:>9} {:>7} {:>7} {:>7} {:>7} {:>4} {:>8} {:>7}",
        "model",
        "grad",
        "wall s",
        "Stan s",
        "ratio",
        "min ESS",
        "ESS/grad",
        "Stan s1",
        "ratio",
        "Stan μ",
        "ratio",
        "div",
        "grads",
        "in grad"
    );
    // (model, Stan's seed-1 ESS/grad and wall time from the anchor run (BENCHMARKS.md), Stan's mean ESS/grad
    // over 400, 200, 200 and 400 seeds from BENCHMARKS.md)
    let anchors = [
        ("gauss100", 0.125, 0.49, 0.1038),
        ("corr_gauss", 0.023, 1.24, 0.0230),
        ("logreg", 0.203, 0.90, 0.1878),
        ("eight_schools", 0.051, 0.14, 0.0690),
    ];
    for (name, stan_eg, stan_wall, stan_mean) in anchors {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        if grad_evals > 0 {
            let tape_s = match name {
                "gauss100" => time_grad(&mut TapeModel::new(TapeGauss(100))?, grad_evals)?,
                "corr_gauss" => time_grad(
                    &mut TapeModel::new(TapeCorrGauss(precision.clone()))?,
                    grad_evals,
                )?,
                "logreg" => time_grad(
                    &mut TapeModel::new(TapeLogReg {
                        x: xa.clone(),
                        y: ya.clone(),
                    })?,
                    grad_evals,
                )?,
                _ => time_grad(
                    &mut TapeModel::new(TapeEightSchools {
                        y: Array1::from(ys.clone()),
                        sigma: Array1::from(sig.clone()),
                    })?,
                    grad_evals,
                )?,
            };
            if name == "logreg" {
                let glm_s =
                    time_grad(&mut TapeModel::new(TapeLogRegGlm(glm.clone()))?, grad_evals)?;
                let plain_s = time_grad(
                    &mut TapeModel::new(TapeLogRegPlain {
                        x: xa.clone(),
                        y: ya.clone(),
                    })?,
                    grad_evals,
                )?;
                println!(
                    "{name:<14} gradient: tape (GLM node) {:.2} µs, plain Bernoulli spelling {:.2} µs, plain/GLM {:.2}",
                    glm_s * 1e6,
                    plain_s * 1e6,
                    plain_s / glm_s
                );
            }
            let hand_s = match name {
                "gauss100" => time_grad(&mut Gauss::new(100), grad_evals)?,
                "corr_gauss" => time_grad(&mut hand_corr.clone(), grad_evals)?,
                "logreg" => time_grad(&mut hand_lr.clone(), grad_evals)?,
                _ => time_grad(&mut EightSchools::new(ys.clone(), sig.clone())?, grad_evals)?,
            };
            println!(
                "{name:<14} gradient: tape {:.2} µs, hand {:.2} µs, tape/hand {:.2}",
                tape_s * 1e6,
                hand_s * 1e6,
                tape_s / hand_s
            );
        }
        let engines: &[&str] = if name == "logreg" {
            &["tape", "plain", "glm", "hand"]
        } else {
            &["tape", "hand"]
        };
        for &engine in engines {
            let mut rows = Vec::new();
            for seed in 0..seeds {
                let row = match (name, engine) {
                    ("gauss100", "tape") => run(&mut TapeModel::new(TapeGauss(100))?, seed, timed)?,
                    ("gauss100", _) => run(&mut Gauss::new(100), seed, timed)?,
                    ("corr_gauss", "tape") => run(
                        &mut TapeModel::new(TapeCorrGauss(precision.clone()))?,
                        seed,
                        timed,
                    )?,
                    ("corr_gauss", _) => run(&mut hand_corr.clone(), seed, timed)?,
                    ("logreg", "tape") => run(
                        &mut TapeModel::new(TapeLogReg {
                            x: xa.clone(),
                            y: ya.clone(),
                        })?,
                        seed,
                        timed,
                    )?,
                    ("logreg", "plain") => run(
                        &mut TapeModel::new(TapeLogRegPlain {
                            x: xa.clone(),
                            y: ya.clone(),
                        })?,
                        seed,
                        timed,
                    )?,
                    ("logreg", "glm") => run(
                        &mut TapeModel::new(TapeLogRegGlm(glm.clone()))?,
                        seed,
                        timed,
                    )?,
                    ("logreg", _) => run(&mut hand_lr.clone(), seed, timed)?,
                    (_, "tape") => run(
                        &mut TapeModel::new(TapeEightSchools {
                            y: Array1::from(ys.clone()),
                            sigma: Array1::from(sig.clone()),
                        })?,
                        seed,
                        timed,
                    )?,
                    _ => run(
                        &mut EightSchools::new(ys.clone(), sig.clone())?,
                        seed,
                        timed,
                    )?,
                };
                rows.push(row);
            }
            let k = rows.len() as f64;
            let wall = rows.iter().map(|r| r.wall).sum::<f64>() / k;
            let eg = rows.iter().map(|r| r.ess_per_grad).sum::<f64>() / k;
            let ess = rows.iter().map(|r| r.min_ess).sum::<f64>() / k;
            let div: usize = rows.iter().map(|r| r.divergent).sum();
            let grads = rows.iter().map(|r| r.grads).sum::<usize>() as f64 / k;
            let in_grad = if timed {
                format!(
                    "{:.2}",
                    rows.iter().map(|r| r.grad_secs).sum::<f64>() / k / wall
                )
            } else {
                "-".to_string()
            };
            println!(
                "{name:<14} {engine:<6} {wall:>8.3} {stan_wall:>7.2} {:>7.2} {ess:>9.0} {eg:>9.3} {stan_eg:>7.3} {:>7.2} {stan_mean:>7.4} {:>7.2} {div:>4} {grads:>8.0} {in_grad:>7}",
                wall / stan_wall,
                eg / stan_eg,
                eg / stan_mean,
            );
        }
    }
    Ok(())
}

/// Inverse of a symmetric positive-definite matrix via Cholesky (for the precision matrix).
fn invert_spd(a: &Array2<f64>) -> Result<Array2<f64>, Box<dyn Error>> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            if i == j {
                let d = a[[i, i]] - s;
                if d <= 0.0 {
                    return Err("covariance is not positive definite".into());
                }
                l[[i, j]] = d.sqrt();
            } else {
                l[[i, j]] = (a[[i, j]] - s) / l[[j, j]];
            }
        }
    }
    // A⁻¹ = L⁻ᵀ L⁻¹: solve for each unit vector
    let mut inv = Array2::<f64>::zeros((n, n));
    for c in 0..n {
        let mut z = vec![0.0; n];
        for i in 0..n {
            let s: f64 = (0..i).map(|k| l[[i, k]] * z[k]).sum();
            z[i] = (if i == c { 1.0 } else { 0.0 } - s) / l[[i, i]];
        }
        let mut x = vec![0.0; n];
        for i in (0..n).rev() {
            let s: f64 = (i + 1..n).map(|k| l[[k, i]] * x[k]).sum();
            x[i] = (z[i] - s) / l[[i, i]];
        }
        for r in 0..n {
            inv[[r, c]] = x[r];
        }
    }
    Ok(inv)
}
