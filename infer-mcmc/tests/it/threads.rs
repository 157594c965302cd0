//! Reproducibility: the draws depend on the seed only, not on the number of threads.

use std::sync::atomic::{AtomicUsize, Ordering};

use infer_mcmc::models::EightSchools;
use infer_mcmc::{DrawEvent, Fit, Observer, Phase, Sampler, SamplerSettings};

use super::common::{fit_each, runs};

fn fit(threads: usize, seed: u64) -> Fit {
    let settings = SamplerSettings {
        num_threads: threads,
        seed,
        target_accept: 0.9,
        ..runs(4, 300, 200)
    };
    fit_each(settings, |_| EightSchools::classic())
}

fn bits(fit: &Fit) -> Vec<u64> {
    let mut out = Vec::new();
    for c in &fit.chains {
        out.extend(c.draws.iter().map(|v| v.to_bits()));
        for s in &c.stats {
            out.extend(s.to_array().iter().map(|v| v.to_bits()));
        }
        out.push(c.step_size.to_bits());
        out.extend(c.metric.inverse_diagonal().iter().map(|v| v.to_bits()));
    }
    out
}

#[test]
fn identical_draws_whatever_the_number_of_threads() {
    let one = bits(&fit(1, 21));
    assert_eq!(one, bits(&fit(4, 21)));
    assert_eq!(one, bits(&fit(2, 21)));
    assert_ne!(
        one,
        bits(&fit(1, 22)),
        "a different seed must change the draws"
    );
}

#[test]
fn chains_differ_and_sample_chain_matches() {
    let f = fit(2, 3);
    assert_ne!(f.chains[0].draws, f.chains[1].draws);
    let settings = *Sampler::new(f.settings).unwrap().settings();
    let alone = Sampler::new(settings)
        .unwrap()
        .sample_chain(2, &mut EightSchools::classic())
        .unwrap();
    assert_eq!(alone.draws, f.chains[2].draws);
}

#[derive(Debug, Default)]
struct Counter {
    warmup: AtomicUsize,
    sampling: AtomicUsize,
    max_div: AtomicUsize,
}

impl Observer for Counter {
    fn on_draw(&self, e: &DrawEvent) {
        match e.phase {
            Phase::Warmup => self.warmup.fetch_add(1, Ordering::Relaxed),
            Phase::Sampling => self.sampling.fetch_add(1, Ordering::Relaxed),
        };
        self.max_div.fetch_max(e.divergences, Ordering::Relaxed);
    }
}

#[test]
fn observer_sees_every_iteration() {
    let counter = Counter::default();
    let settings = runs(3, 50, 30);
    let fit = Sampler::new(settings)
        .unwrap()
        .with_observer(&counter)
        .sample(|_| EightSchools::classic())
        .unwrap();
    assert_eq!(counter.warmup.load(Ordering::Relaxed), 150);
    assert_eq!(counter.sampling.load(Ordering::Relaxed), 90);
    assert!(
        counter.max_div.load(Ordering::Relaxed)
            >= fit
                .chains
                .iter()
                .map(|c| c.num_divergent())
                .max()
                .unwrap_or(0)
    );
}
