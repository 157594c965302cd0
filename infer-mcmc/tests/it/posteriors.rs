//! Posterior moments of the four benchmark models (release mode; fixed seeds).
//!
//! Criteria (issue 6): every mean within 4 MCSE of the exact or reference value, every sd
//! within 10%, no divergences. MCSE and ESS come from `infer_mcmc::diagnostics` (ArviZ's
//! definitions). For P parameters with accurate MCSEs the false-failure rate of the mean check
//! is ≈ P · 6.3e-5 (|z| > 4 for a normal); with ESS in the thousands the sd check sits at
//! ≥ 5 standard errors (rate < 1e-6 per parameter), except where noted.

use infer_mcmc::models::Gauss;
use infer_mcmc::{MetricKind, Sampler, SamplerSettings};

use crate::common::{
    check_moments, corr_gauss, corr_gauss_moments, eight_schools, fit_cloned, fit_each, logreg,
    reference,
};

fn settings(seed: u64) -> SamplerSettings {
    SamplerSettings {
        seed,
        ..SamplerSettings::default()
    }
}

#[test]
fn gauss100_exact_moments() {
    // 100 parameters: false-failure rate ≈ 0.6% (means), negligible (sds; ESS ≈ 3000+).
    let fit = fit_each(settings(100), |_| Gauss::new(100));
    let expected: Vec<_> = (1..=100).map(|i| (format!("x[{i}]"), 0.0, 1.0)).collect();
    let failures = check_moments(&fit, &expected, 0.10);
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(fit.num_divergent(), 0);
}

#[test]
fn corr_gauss_dense_metric_exact_moments() {
    // 50 parameters: false-failure rate ≈ 0.3% (means), negligible (sds).
    let model = corr_gauss();
    let s = SamplerSettings {
        metric: MetricKind::Dense,
        ..settings(200)
    };
    let fit = fit_cloned(s, &model);
    let failures = check_moments(&fit, &corr_gauss_moments(&model), 0.10);
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(fit.num_divergent(), 0);
    assert_eq!(fit.chains[0].metric.kind(), MetricKind::Dense);
}

#[test]
fn logreg_matches_stan_reference() {
    // 25 parameters: false-failure rate ≈ 0.2% (means), negligible (sds). The reference's own
    // MCSE (100,000 draws) inflates the z-scores by < 3%.
    let model = logreg();
    let fit = fit_cloned(settings(300), &model);
    let expected = reference("logreg");
    assert_eq!(expected.len(), 25);
    let failures = check_moments(&fit, &expected, 0.10);
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(fit.num_divergent(), 0);
}

#[test]
fn eight_schools_matches_stan_reference() {
    // Target acceptance 0.95 (the reference runs used it too) to get zero divergences in the
    // funnel's neck. 4 chains × 5000 draws: τ is heavy-tailed, and with 1000 draws per chain its
    // sd estimate has a relative standard error of ≈ 5%, too close to the 10% bound; with 5000
    // it is ≈ 2.5% (false-failure rate of the τ sd check ≈ 1e-4). 10 parameters: ≈ 0.06% for the
    // means.
    let model = eight_schools();
    let s = SamplerSettings {
        target_accept: 0.95,
        num_samples: 5000,
        ..settings(400)
    };
    let fit = Sampler::new(s).unwrap().sample_cloned(&model).unwrap();
    let expected = reference("eight_schools");
    assert_eq!(expected.len(), 10);
    let failures = check_moments(&fit, &expected, 0.10);
    assert!(failures.is_empty(), "{failures:#?}");
    assert_eq!(fit.num_divergent(), 0, "divergences in eight schools");
}

#[test]
fn static_hmc_sampler_exact_moments() {
    // Static HMC through the Sampler (adapted step size and diagonal metric, 3 steps: with the adapted metric the
    // integration time is ≈ 3, away from the period 2π where static HMC stops mixing) on a
    // 5-D normal with scales 0.5..8: 5 parameters, false-failure rate ≈ 3e-4 for the means;
    // sds with ESS in the thousands, > 5 standard errors.
    let scales = [0.5, 1.0, 2.0, 4.0, 8.0];
    let model = infer_mcmc::FnDensity::new(5, move |x: &[f64], g: &mut [f64]| {
        let mut lp = 0.0;
        for i in 0..5 {
            let v = scales[i] * scales[i];
            g[i] = -x[i] / v;
            lp -= 0.5 * x[i] * x[i] / v;
        }
        Ok(lp)
    });
    let s = SamplerSettings {
        algorithm: infer_mcmc::Algorithm::StaticHmc { num_steps: 3 },
        num_samples: 2000,
        ..settings(500)
    };
    let fit = Sampler::new(s).unwrap().sample(|_| model.clone()).unwrap();
    let expected: Vec<_> = (0..5)
        .map(|i| (format!("x[{}]", i + 1), 0.0, scales[i]))
        .collect();
    let ess = infer_mcmc::diagnostics::ess_bulk(fit.draws_by_name("x[5]").unwrap().view()).unwrap();
    assert!(ess > 1000.0, "static HMC mixes poorly: ESS {ess}");
    let failures = check_moments(&fit, &expected, 0.10);
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(fit.chains.iter().all(|c| {
        c.stats
            .iter()
            .all(|s| s.tree_depth == 0 && s.n_leapfrog == 3)
    }));
}
