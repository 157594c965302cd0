//! Single transitions: invariance of NUTS and static HMC with a fixed step size, trajectory
//! bookkeeping, error behaviour.

use infer_mcmc::{
    FnDensity, Kernel, LogDensity, LogDensityError, McmcError, Metric, MetricKind, Nuts,
    NutsOptions, Position, StaticHmc, Transition,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// N(0, diag(s²)) in two dimensions.
fn scaled_normal(s: [f64; 2]) -> impl LogDensity {
    FnDensity::new(2, move |x: &[f64], g: &mut [f64]| {
        let mut lp = 0.0;
        for i in 0..2 {
            g[i] = -x[i] / (s[i] * s[i]);
            lp -= 0.5 * x[i] * x[i] / (s[i] * s[i]);
        }
        Ok(lp)
    })
}

/// Mean and variance of each coordinate over `n` transitions of `kernel` on
/// N(0, diag(1, 9)) from `start`, the RNG seeded with `seed`; `check` sees every transition
/// and the position it reached.
fn run<K: Kernel>(
    kernel: &mut K,
    start: [f64; 2],
    seed: u64,
    n: usize,
    mut check: impl FnMut(&Transition, &Position),
) -> ([f64; 2], [f64; 2]) {
    let mut model = scaled_normal([1.0, 3.0]);
    let mut pos = Position::new(&mut model, start.to_vec()).unwrap();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut sum = [0.0; 2];
    let mut sq = [0.0; 2];
    for _ in 0..n {
        let t = kernel.transition(&mut model, &mut pos, &mut rng).unwrap();
        check(&t, &pos);
        let x = [pos.q()[0], pos.q()[1]];
        for i in 0..2 {
            sum[i] += x[i];
            sq[i] += x[i] * x[i];
        }
    }
    let nf = n as f64;
    let mean = [sum[0] / nf, sum[1] / nf];
    let var = [
        sq[0] / nf - mean[0] * mean[0],
        sq[1] / nf - mean[1] * mean[1],
    ];
    (mean, var)
}

#[test]
fn nuts_leaves_the_target_invariant() {
    // 20,000 transitions with a fixed step on N(0, diag(1, 9)); NUTS draws are nearly
    // independent here (ESS ≈ n), so the mean's sd is ≈ s/√n (0.007 and 0.021) and the
    // variance's relative sd ≈ √(2/n) = 1%. Tolerances: means 0.06·s (> 8 sd), variances 6%
    // (6 sd): false-failure rate < 1e-8. A bias in the multinomial sampling shows up as a
    // variance error of tens of percent.
    let mut nuts = Nuts::new(
        Metric::identity(2, MetricKind::Diagonal),
        0.7,
        NutsOptions::default(),
    )
    .unwrap();
    let (mean, var) = run(&mut nuts, [0.3, -0.2], 11, 20_000, |t, pos| {
        assert!(t.accept_stat >= 0.0 && t.accept_stat <= 1.0);
        assert!(t.n_leapfrog < 1 << 10 && t.tree_depth <= 10);
        assert!(t.n_leapfrog >= 1 << (t.tree_depth.max(1) - 1));
        assert!(!t.divergent);
        assert_eq!(t.logp, pos.logp());
    });
    assert!(mean[0].abs() < 0.06 && mean[1].abs() < 0.18, "{mean:?}");
    assert!(
        (var[0] - 1.0).abs() < 0.06 && (var[1] / 9.0 - 1.0).abs() < 0.06,
        "{var:?}"
    );
}

#[test]
fn nuts_with_dense_metric_is_invariant() {
    // Same tolerances as above; the dense metric is deliberately wrong (not the covariance).
    let metric = Metric::dense(vec![2.0, 0.6, 0.6, 0.5], 2).unwrap();
    let mut nuts = Nuts::new(metric, 0.4, NutsOptions::default()).unwrap();
    let (mean, var) = run(&mut nuts, [0.0, 0.0], 12, 20_000, |_, _| {});
    assert!(mean[0].abs() < 0.06 && mean[1].abs() < 0.18, "{mean:?}");
    assert!(
        (var[0] - 1.0).abs() < 0.06 && (var[1] / 9.0 - 1.0).abs() < 0.06,
        "{var:?}"
    );
}

#[test]
fn static_hmc_leaves_the_target_invariant() {
    // 40,000 transitions of 4 steps of 0.4 on N(0, diag(1, 9)): the slow coordinate mixes
    // slowly (ESS ≈ n/40), so its mean's sd ≈ 3/√1000 ≈ 0.1 and its variance's relative sd
    // ≈ √(2/1000) ≈ 4.5%; tolerances 0.45 and 20% (> 4 sd each): false-failure rate < 1e-4.
    let mut hmc =
        StaticHmc::new(Metric::identity(2, MetricKind::Diagonal), 0.4, 4, 1000.0).unwrap();
    let (mean, var) = run(&mut hmc, [0.0, 0.0], 13, 40_000, |t, _| {
        assert_eq!((t.n_leapfrog, t.tree_depth), (4, 0));
    });
    assert!(mean[0].abs() < 0.06 && mean[1].abs() < 0.45, "{mean:?}");
    assert!(
        (var[0] - 1.0).abs() < 0.06 && (var[1] / 9.0 - 1.0).abs() < 0.2,
        "{var:?}"
    );
}

#[test]
fn depth_limit_and_huge_step_divergence() {
    let mut model = scaled_normal([1.0, 1.0]);
    let opts = NutsOptions {
        max_depth: 1,
        ..NutsOptions::default()
    };
    let mut nuts = Nuts::new(Metric::identity(2, MetricKind::Diagonal), 0.1, opts).unwrap();
    let mut pos = Position::new(&mut model, vec![1.0, 1.0]).unwrap();
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..20 {
        let t = nuts.transition(&mut model, &mut pos, &mut rng).unwrap();
        assert_eq!(t.n_leapfrog, 1);
        assert_eq!(t.tree_depth, 1);
    }
    // A step of 1e4 on a standard normal: H explodes, the first leapfrog diverges and the
    // chain stays where it is.
    nuts.set_step_size(1e4).unwrap();
    let before = pos.q().to_vec();
    let t = nuts.transition(&mut model, &mut pos, &mut rng).unwrap();
    assert!(t.divergent);
    assert_eq!(t.tree_depth, 0);
    assert_eq!(t.n_leapfrog, 1);
    assert_eq!(t.accept_stat, 0.0);
    assert_eq!(pos.q(), &before[..]);
}

#[test]
fn same_seed_same_transitions() {
    let go = || {
        let mut model = scaled_normal([1.0, 2.0]);
        let mut nuts = Nuts::new(
            Metric::identity(2, MetricKind::Diagonal),
            0.5,
            NutsOptions::default(),
        )
        .unwrap();
        let mut pos = Position::new(&mut model, vec![0.1, 0.1]).unwrap();
        let mut rng = StdRng::seed_from_u64(99);
        (0..50)
            .map(|_| {
                nuts.transition(&mut model, &mut pos, &mut rng).unwrap();
                pos.q()[1].to_bits()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(go(), go());
}

#[test]
fn fatal_error_stops_the_transition_and_keeps_the_position() {
    let mut model = FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
        if x[0].abs() > 0.5 {
            return Err(LogDensityError::fatal(std::io::Error::other("model bug")));
        }
        g[0] = -x[0];
        Ok(-0.5 * x[0] * x[0])
    });
    let mut nuts = Nuts::new(
        Metric::identity(1, MetricKind::Diagonal),
        2.0,
        NutsOptions::default(),
    )
    .unwrap();
    let mut pos = Position::new(&mut model, vec![0.0]).unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    let err = nuts.transition(&mut model, &mut pos, &mut rng).unwrap_err();
    assert!(matches!(
        err,
        McmcError::LogDensity(LogDensityError::Fatal { .. })
    ));
    assert_eq!(pos.q(), &[0.0]);
}

#[test]
fn non_finite_start_is_a_typed_error() {
    let mut model = FnDensity::new(1, |_: &[f64], g: &mut [f64]| {
        g[0] = 0.0;
        Ok(f64::NAN)
    });
    let err = Position::new(&mut model, vec![0.0]).unwrap_err();
    assert!(matches!(err, McmcError::NonFiniteStart { .. }));
    let err = Position::new(&mut model, vec![0.0, 1.0]).unwrap_err();
    assert!(matches!(err, McmcError::DimensionMismatch { .. }));
}
