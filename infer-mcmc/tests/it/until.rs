//! `Sampler::sample_until`: stops at the first check where every target holds, and its draws
//! are those of one uninterrupted run of that length.

use infer_mcmc::diagnostics::{ess_bulk, ess_tail, rhat};
use infer_mcmc::models::Gauss;
use infer_mcmc::until::{SamplingTarget, TargetReport};
use infer_mcmc::{Fit, McmcError, Sampler, SamplerSettings};
use ndarray::s;

use super::common::{fit_each, runs};

fn settings() -> SamplerSettings {
    SamplerSettings {
        seed: 20_261_203,
        ..runs(4, 300, 100)
    }
}

/// A 5-d standard normal sampled until every bulk and tail ESS reaches 1200 and R̂ ≤
/// `max_rhat`, checked every 50 draws per chain, at most 3000.
fn until_ess_1200(max_rhat: f64) -> (Fit, TargetReport) {
    let target = SamplingTarget {
        ess_bulk: 1200.0,
        ess_tail: 1200.0,
        max_rhat,
        check_every: 50,
        max_samples: 3000,
    };
    Sampler::new(settings())
        .unwrap()
        .sample_until(&target, |_| Gauss::new(5))
        .unwrap()
}

/// Whether the targets of [`until_ess_1200`] hold on the first `upto` draws of each chain,
/// computed here from the draws, independently of the report.
fn holds(fit: &Fit, upto: usize, max_rhat: f64) -> bool {
    (0..5).all(|i| {
        let d = fit.param_draws(i).unwrap();
        let d = d.slice(s![.., ..upto]);
        ess_bulk(d).unwrap() >= 1200.0
            && ess_tail(d).unwrap() >= 1200.0
            && rhat(d).unwrap() <= max_rhat
    })
}

/// A 5-d standard normal: NUTS gives about one effective draw per draw for the bulk (often
/// more) and somewhat fewer for the tails, so a target of 1200 bulk and tail ESS over 4
/// chains is met after a few hundred draws per chain, well before the cap of 3000. Checked
/// independently of the report: the targets hold on the returned draws, do not hold on the
/// draws of the previous check (the rule stops at the first check that passes), and the draws
/// equal an uninterrupted run of the returned length bit for bit. Deterministic (fixed seed);
/// the only statistical claim is "met before the cap", which fails only if NUTS's ESS per draw
/// on this target fell below 1200 / 12000 = 0.1 — ten times below its known rate.
#[test]
fn stops_at_the_first_check_that_meets_the_targets() {
    let (fit, report) = until_ess_1200(1.01);
    assert!(report.met, "{report:?}");
    let n = fit.num_draws();
    assert_eq!(report.num_samples, n);
    assert!(n < 3000 && n > 100, "{report:?}");
    assert_eq!((n - 100) % 50, 0);
    assert_eq!(report.checks, (n - 100) / 50 + 1);
    assert!(holds(&fit, n, 1.01));
    assert!(
        !holds(&fit, n - 50, 1.01),
        "the previous check already met the targets"
    );

    let long = fit_each(
        SamplerSettings {
            num_samples: n,
            ..settings()
        },
        |_| Gauss::new(5),
    );
    for (a, b) in fit.chains.iter().zip(&long.chains) {
        assert_eq!(a.draws, b.draws);
    }
}

/// `max_rhat = ∞`: the run stops on ESS alone (R̂ left to be checked afterwards, as the
/// posteriordb runner does): at the first check where every bulk and tail ESS reaches its
/// target, whatever R̂ is there. Deterministic (fixed seed); "met before the cap" fails only if
/// NUTS's ESS per draw on a 5-d standard normal fell below 0.1, ten times below its known rate.
#[test]
fn an_infinite_rhat_target_stops_on_ess_alone() {
    let (fit, report) = until_ess_1200(f64::INFINITY);
    assert!(report.met, "{report:?}");
    let n = fit.num_draws();
    assert!(n < 3000 && n > 100, "{report:?}");
    assert!(holds(&fit, n, f64::INFINITY));
    assert!(
        !holds(&fit, n - 50, f64::INFINITY),
        "the previous check already met the ESS targets"
    );
    assert!(report.worst_rhat.is_finite() && report.worst_rhat >= 1.0 - 1e-3);
}

/// A target that cannot be met stops at the cap, reporting it as not met.
#[test]
fn stops_at_the_cap() {
    let target = SamplingTarget {
        ess_bulk: 1e9,
        check_every: 70,
        max_samples: 230,
        ..SamplingTarget::default()
    };
    let (fit, report) = Sampler::new(settings())
        .unwrap()
        .sample_until(&target, |_| Gauss::new(2))
        .unwrap();
    assert!(!report.met);
    // Checked at 100 and 170 draws, then the last step goes only up to the cap (230).
    assert_eq!((fit.num_draws(), report.checks), (230, 3));
    assert!(report.worst_ess_bulk < 1e9 && report.worst_name.starts_with("x["));
}

/// Sets one field of a target to an invalid value.
type Invalidate = fn(&mut SamplingTarget);

#[test]
fn invalid_targets_are_typed_errors() {
    let sampler = Sampler::new(settings()).unwrap();
    // each field set to an invalid value, with the name the error gives
    let cases: [(Invalidate, &str); 6] = [
        (|t| t.ess_bulk = f64::NAN, "ess_bulk"),
        (|t| t.ess_tail = -1.0, "ess_tail"),
        (|t| t.max_rhat = 0.9, "max_rhat"),
        (|t| t.max_rhat = f64::NAN, "max_rhat"),
        (|t| t.check_every = 0, "check_every"),
        (|t| t.max_samples = 50, "max_samples"),
    ];
    for (set, name) in cases {
        let mut target = SamplingTarget::default();
        set(&mut target);
        let err = sampler
            .sample_until(&target, |_| Gauss::new(2))
            .unwrap_err();
        assert!(
            matches!(err, McmcError::InvalidSetting { name: n, .. } if n == name),
            "{name}: {err}"
        );
    }
}
