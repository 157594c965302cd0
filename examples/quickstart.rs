//! Quickstart: eight schools with NUTS, written on the tape with infer's distributions.
//!
//! The non-centered eight-schools model (Rubin 1981; Gelman et al., BDA3 §5.5):
//! μ ~ N(0, 5), τ ~ HalfCauchy(5), ηⱼ ~ N(0, 1), yⱼ ~ N(μ + τ ηⱼ, σⱼ).
//! Four chains run on threads with live progress bars; the summary is printed as CmdStan's
//! `stansummary` prints it — the warmup and sampling times of each chain, the sampler's rows
//! (`lp__`, `accept_stat__`, `stepsize__`, `treedepth__`, `n_leapfrog__`, `divergent__`,
//! `energy__`), the parameters (mean, MCSE, sd, quantiles, bulk/tail ESS, R-hat), then
//! divergences, max-treedepth hits and gradient evaluations per chain with their totals and
//! the wall time — and CmdStan-compatible CSV files are written to `out/` (readable by
//! ArviZ's `from_cmdstan` and CmdStan's `stansummary`).
//!
//! The summary's layout (numbers vary with the machine's timings):
//! ```text
//! 4 chains: each with 1000 draws; 4000 draws in total.
//!
//! Warmup took (…, …, …, …) seconds, … seconds total
//! Sampling took (…, …, …, …) seconds, … seconds total
//! Wall time … seconds; … gradient evaluations in total
//!
//!                 Mean  MCSE  StdDev  5%  50%  95%  ESS_bulk  ESS_tail  R_hat
//!
//! lp__             …
//! accept_stat__    …
//! stepsize__       …  NaN  …               NaN  NaN  NaN
//! treedepth__      …
//! n_leapfrog__     …
//! divergent__      …
//! energy__         …
//!
//! mu               …
//! tau              …
//! eta[1] … eta[8]  …
//! theta[1] … theta[8] …
//!
//! Chain  Draws  Divergent  Max_treedepth  Gradient_evals  Warmup_s  Sampling_s
//! 1       1000          …              0               …         …           …
//! …
//! Total   4000          …              0               …         …           …
//! ```
//!
//! Then the seed document's variational-inference loop: five Cauchy(0, 1) priors, five Normal
//! approximations built from parameters, reparameterized draws, `vi_loss`, backward, Adam.
//!
//! Run: `cargo run --release --example quickstart`

use infer::ad::optim::{Adam, AdamConfig, Optimizer};
use infer::ad::{ParamStore, Tape, Var};
use infer::dist::{Cauchy, Constraint, Distribution, HalfCauchy, Normal, Reparameterizable};
use infer::loss::vi_loss;
use infer::mcmc::model::{Model, Params};
use infer::mcmc::{LogDensityError, ProgressBars, Sampler, SamplerSettings};
use ndarray::Array1;
use rand::SeedableRng;
use std::error::Error;

/// The data: estimated treatment effects and their standard errors.
#[derive(Debug, Clone)]
struct EightSchools {
    y: Array1<f64>,
    sigma: Array1<f64>,
}

impl Model for EightSchools {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let mu = p.scalar("mu", Constraint::Real)?;
        let tau = p.scalar("tau", Constraint::Positive)?;
        let eta = p.vector("eta", self.y.len(), Constraint::Real)?;
        // Stan's transformed parameter: the school effects, recorded with every draw.
        let theta = p.transformed("theta", mu + tau * eta)?;
        let prior = Normal::new(0.0, 5.0)?.log_prob_sum(mu)?
            + HalfCauchy::new(5.0)?.log_prob_sum(tau)?
            + Normal::new(0.0, 1.0)?.log_prob_sum(eta)?;
        let likelihood = Normal::new(theta, &self.sigma)?.log_prob_sum(&self.y)?;
        Ok(prior + likelihood)
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let path = format!(
        "{}/tests/data/bench/eight_schools.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let data: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let model = EightSchools {
        y: Array1::from(serde_json::from_value::<Vec<f64>>(data["y"].clone())?),
        sigma: Array1::from(serde_json::from_value::<Vec<f64>>(data["sigma"].clone())?),
    };

    // Stan's defaults (1000 warmup, 1000 draws, target 0.8); eight schools' funnel asks for a
    // higher target acceptance to avoid divergences, as it does in Stan.
    let settings = SamplerSettings {
        num_chains: 4,
        target_accept: 0.95,
        seed: 2026,
        ..SamplerSettings::default()
    };
    let sampler = Sampler::new(settings)?.with_observer(ProgressBars::for_settings(&settings)?);
    let fit = sampler.sample_model(&model)?;

    println!("\n{}", fit.summary()?);
    let files = fit.write_cmdstan_csvs("out/eight_schools")?;
    for f in &files {
        println!("wrote {}", f.display());
    }

    seed_vi_loop()
}

/// The seed's VI training loop: `params` hold (loc, scale) for five Normal q's fitted to five
/// Cauchy(0, 1) priors by minimizing `vi_loss` (here, with reparameterizable q's, the ELBO).
fn seed_vi_loop() -> Result<(), Box<dyn Error>> {
    let k = 5;
    let mut store = ParamStore::new();
    let params = (0..2 * k)
        .map(|i| store.add(format!("params[{i}]"), ndarray::arr1(&[1.0])))
        .collect::<Result<Vec<_>, _>>()?;
    let mut opt = Adam::new(AdamConfig {
        lr: 0.01,
        ..AdamConfig::default()
    })?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let observed = vec![false; k];
    let mut tape = Tape::new();
    let steps = 5000;
    let mut running = 0.0;
    for step in 0..steps {
        tape.clear();
        let p = store.bind(&tape);
        let prior = Cauchy::new(tape.scalar(0.0), tape.scalar(1.0))?;
        let q_dists = (0..k)
            .map(|i| Normal::new(p[params[2 * i]], p[params[2 * i + 1]]))
            .collect::<Result<Vec<_>, _>>()?;
        let values = q_dists
            .iter()
            .map(|q| q.rsample(&mut rng))
            .collect::<Result<Vec<_>, _>>()?;
        let p_dists: Vec<&dyn Distribution> = vec![&prior; k];
        let q_refs: Vec<&dyn Distribution> =
            q_dists.iter().map(|q| q as &dyn Distribution).collect();
        let loss = vi_loss(&p_dists, &q_refs, &values, &observed, 1.0)?;
        loss.backward();
        store.zero_grads();
        store.accumulate_grads(&p)?;
        opt.step(&mut store)?;
        running = if step == 0 {
            loss.value()
        } else {
            0.99 * running + 0.01 * loss.value()
        };
    }
    println!(
        "
seed VI loop: {steps} steps, smoothed loss {running:.3}"
    );
    for i in 0..k {
        let (loc, scale) = (
            store.value(params[2 * i])[0],
            store.value(params[2 * i + 1])[0],
        );
        println!("  q{i} = Normal({loc:+.3}, {scale:.3})");
    }
    Ok(())
}
