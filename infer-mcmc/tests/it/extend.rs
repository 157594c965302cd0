//! `Sampler::extend`: a finished run continued gives the draws of one uninterrupted run.

use crate::common::Triangle;
use infer_mcmc::{Algorithm, Sampler, SamplerSettings};

use super::common::{fit_model, runs, uninterrupted};

/// 301 + 200 sampling iterations against 501 in one run, thinned by 3 (the boundary falls
/// mid-way through a thinning period), for NUTS and static HMC: every kept draw (parameters
/// and the generated quantity), every sampler statistic and the final state agree bit for bit.
#[test]
fn extend_equals_one_uninterrupted_run() {
    for algorithm in [Algorithm::Nuts, Algorithm::StaticHmc { num_steps: 7 }] {
        let settings = SamplerSettings {
            thin: 3,
            seed: 11,
            algorithm,
            ..runs(3, 150, 301)
        };
        let short = fit_model(settings, &Triangle);
        let extended = Sampler::new(settings)
            .unwrap()
            .extend_model(&short, 200, &Triangle)
            .unwrap();
        let long = uninterrupted(settings, 501);
        assert_eq!(extended.settings.num_samples, 501);
        for (e, l) in extended.chains.iter().zip(&long.chains) {
            assert_eq!(e.draws.dim(), (167, 3));
            assert_eq!(e.draws, l.draws, "{algorithm:?}, chain {}", e.chain);
            assert_eq!(e.stats, l.stats);
            assert_eq!(e.state.position(), l.state.position());
            assert_eq!(e.state.sampling_iterations(), 501);
        }
    }
}

/// Extending by nothing changes nothing; a run can be extended twice.
#[test]
fn extend_twice_and_by_zero() {
    let settings = SamplerSettings {
        seed: 3,
        ..runs(2, 100, 100)
    };
    let s = Sampler::new(settings).unwrap();
    let fit = s.sample_model(&Triangle).unwrap();
    let same = s.extend_model(&fit, 0, &Triangle).unwrap();
    assert_eq!(same.chains[0].draws, fit.chains[0].draws);
    let twice = s
        .extend_model(&s.extend_model(&fit, 50, &Triangle).unwrap(), 70, &Triangle)
        .unwrap();
    let long = uninterrupted(settings, 220);
    assert_eq!(twice.chains[1].draws, long.chains[1].draws);
}
