//! Tests of the approximations across their parts: Pathfinder on a 100-d correlated
//! Gaussian, Laplace against an independent finite-difference inverse Hessian, the
//! determinism of multi-path Pathfinder across thread counts, the typed errors.

use ndarray::Array2;
use rand::SeedableRng;

use super::*;
use crate::LogDensity;
use crate::models::{CorrGauss, Gauss, LogReg};
use crate::{FnDensity, LogDensityError};

/// N(μ, Σ) in `n` dimensions with Σᵢⱼ = 0.5^|i−j| (AR(1), neighbours correlated 0.5) and
/// μᵢ = ((37 i) mod 17)/4 − 2 (means from −2 to 2).
fn ar1_gaussian(n: usize) -> (impl LogDensity + Clone + Sync, Vec<f64>, Vec<f64>) {
    let cov: Vec<f64> = (0..n * n)
        .map(|k| 0.5f64.powi((k / n).abs_diff(k % n) as i32))
        .collect();
    let mu: Vec<f64> = (0..n).map(|i| ((i * 37) % 17) as f64 / 4.0 - 2.0).collect();
    let centered = CorrGauss::new(cov.clone(), n).expect("Σ is positive definite");
    let m = mu.clone();
    let density = FnDensity::new(n, move |x: &[f64], g: &mut [f64]| {
        let y: Vec<f64> = x.iter().zip(&m).map(|(a, b)| a - b).collect();
        centered.clone().logp_and_grad(&y, g)
    });
    (density, mu, cov)
}

/// Sample means and covariance (row-major) of the rows of `d`.
fn moments(d: &Array2<f64>) -> (Vec<f64>, Vec<f64>) {
    let (m, n) = d.dim();
    let mean: Vec<f64> = (0..n).map(|i| d.column(i).sum() / m as f64).collect();
    let mut cov = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let c: f64 = d
                .column(i)
                .iter()
                .zip(d.column(j))
                .map(|(a, b)| (a - mean[i]) * (b - mean[j]))
                .sum::<f64>()
                / (m - 1) as f64;
            cov[i * n + j] = c;
            cov[j * n + i] = c;
        }
    }
    (mean, cov)
}

/// Single-path Pathfinder on the 100-d AR(1) Gaussian, 1000 draws, seed 0.
///
/// Mean: every coordinate within 0.25 sd of its true mean. The Monte Carlo error of a mean
/// of 1000 draws is 0.032 sd; the rest is the approximation's (near the optimum
/// μ = x + Σ∇log p is a quasi-Newton step to it); over seeds 0–19 the largest deviation was
/// 0.11 sd, a margin of more than 2.
///
/// Covariance: Pathfinder's Σ is the diagonal-plus-rank-2J (J = 5) inverse-Hessian estimate
/// of the best iterate by the ELBO (reverse KL, which favours underdispersion). In 100
/// dimensions it cannot hold the AR(1) band, and the Gilbert–Lemaréchal diagonal follows the
/// curvature of the last step: the exact KL(q‖p) of every iterate's approximation along the
/// path is above 10 nats here, as with Stan's and the authors' implementations of the same
/// formulas (the formulas themselves are checked against the BFGS recursion in
/// `normal.rs`). What the estimate gets right, and what is tested with tolerances from seeds
/// 0–19: every variance of the draws between 0.3 and 1.6 times the true one (seen:
/// 0.40–1.37) and the total variance tr Σ̂ / tr Σ in [0.4, 1.1] (seen: 0.53–0.71, the known
/// underdispersion). The correlations are not recovered in 100 dimensions (the draws'
/// neighbour correlation averages about 0.06 against 0.5); in 10 dimensions multi-path
/// Pathfinder recovers them (next test).
#[test]
fn pathfinder_recovers_the_mean_and_the_scale_of_a_100d_correlated_gaussian() {
    let (mut density, mu, cov) = ar1_gaussian(100);
    let n = mu.len();
    let settings = PathfinderSettings {
        num_paths: 1,
        ..PathfinderSettings::default()
    };
    let approx = pathfinder_on(&mut density, &settings).unwrap();
    assert_eq!(approx.method, Method::Pathfinder);
    assert_eq!(approx.unconstrained.dim(), (1000, n));
    let (mean, c) = moments(&approx.unconstrained);
    for i in 0..n {
        let z = (mean[i] - mu[i]).abs() / cov[i * n + i].sqrt();
        assert!(z < 0.25, "mean {i}: {} vs {} ({z} sd)", mean[i], mu[i]);
        let ratio = c[i * n + i] / cov[i * n + i];
        assert!((0.3..1.6).contains(&ratio), "variance {i}: ratio {ratio}");
    }
    let trace: f64 = (0..n).map(|i| c[i * n + i]).sum::<f64>() / n as f64;
    assert!((0.4..1.1).contains(&trace), "tr Σ̂ / tr Σ = {trace}");
    assert!(approx.log_q.iter().all(|q| q.is_finite()));
    assert!(approx.gradient_evals > 1000);
}

/// Multi-path Pathfinder (4 paths, importance resampling) on the 10-d AR(1) Gaussian
/// recovers mean and covariance: every mean within 0.3 sd, every variance within 0.4 of the
/// true 1, every neighbour covariance within 0.3 of the true 0.5, and a finite k̂ reported.
/// Over seeds 0–19 the largest deviations were 0.21, 0.28 and 0.18 (the resampled 1000
/// draws have an importance-sampling ESS of a few hundred; k̂ ranged up to 0.91). In 100
/// dimensions the importance weights degenerate (k̂ ≈ 1.8) and resampling cannot repair the
/// single paths' covariance.
#[test]
fn multi_path_pathfinder_recovers_the_mean_and_covariance_of_a_10d_gaussian() {
    let (density, mu, cov) = ar1_gaussian(10);
    let n = mu.len();
    let approx = pathfinder(&PathfinderSettings::default(), |_| density.clone()).unwrap();
    assert_eq!(approx.method, Method::MultiPathfinder);
    assert_eq!(approx.num_draws(), 1000);
    let k = approx.pareto_k.expect("multi-path reports k̂");
    assert!(k.is_finite(), "{k}");
    let (mean, c) = moments(&approx.unconstrained);
    for i in 0..n {
        let z = (mean[i] - mu[i]).abs() / cov[i * n + i].sqrt();
        assert!(z < 0.3, "mean {i}: {z} sd");
        assert!(
            (c[i * n + i] - 1.0).abs() < 0.4,
            "variance {i}: {}",
            c[i * n + i]
        );
        if i > 0 {
            let nb = c[i * n + i - 1];
            assert!((nb - 0.5).abs() < 0.3, "covariance ({i}, {}): {nb}", i - 1);
        }
    }
}

/// The paths run on threads with their own seeded RNGs: 1, 2 and 4 threads give the same
/// draws, and so does running them in turn on one density.
#[test]
fn pathfinder_does_not_depend_on_the_thread_count() {
    let run = |threads| {
        let s = PathfinderSettings {
            num_threads: threads,
            num_draws: 200,
            num_psis_draws: 300,
            seed: 11,
            ..PathfinderSettings::default()
        };
        pathfinder(&s, |_| crate::models::EightSchools::classic()).unwrap()
    };
    let one = run(1);
    for threads in [2, 4] {
        let other = run(threads);
        assert_eq!(one.unconstrained, other.unconstrained);
        assert_eq!(one.draws, other.draws);
        assert_eq!(one.pareto_k, other.pareto_k);
        assert_eq!(one.gradient_evals, other.gradient_evals);
    }
    let s = PathfinderSettings {
        num_draws: 200,
        num_psis_draws: 300,
        seed: 11,
        ..PathfinderSettings::default()
    };
    let seq = pathfinder_on(&mut crate::models::EightSchools::classic(), &s).unwrap();
    assert_eq!(one.unconstrained, seq.unconstrained);
}

/// y = α + β x + ε with x = 3952, …, 4013 (kilpisjarvi's covariate: the intercept and the
/// slope correlated −0.99999, their posterior sds 17 and 0.0043) and flat priors: −log p in
/// (α, β, log σ) is badly scaled and conditioned. Returns the density, the least-squares
/// estimate (the posterior mean of (α, β): their marginal is a Student t centred there) and
/// the posterior sds √(RSS / (N − 5) · [(XᵀX)⁻¹]ᵢᵢ) (σ's flat prior integrated out: a t with
/// N − 3 degrees of freedom and scale RSS / (N − 3) · (XᵀX)⁻¹).
fn intercept_slope_ridge() -> (impl LogDensity + Clone + Sync, [f64; 2], [f64; 2]) {
    let n = 62;
    let x: Vec<f64> = (0..n).map(|i| 3952.0 + i as f64).collect();
    // deterministic noise in (−1, 1)
    let y: Vec<f64> = (0..n)
        .map(|i| 9.3 + 0.018 * (x[i] - 3982.0) + ((i * 7919) % 101) as f64 / 50.5 - 1.0)
        .collect();
    let (sx, sy) = (x.iter().sum::<f64>(), y.iter().sum::<f64>());
    let sxx: f64 = x.iter().map(|v| v * v).sum();
    let sxy: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
    let nf = n as f64;
    let det = nf * sxx - sx * sx;
    let beta = (nf * sxy - sx * sy) / det;
    let alpha = (sy - beta * sx) / nf;
    let rss: f64 = x
        .iter()
        .zip(&y)
        .map(|(a, b)| (b - alpha - beta * a).powi(2))
        .sum();
    let s2 = rss / (nf - 5.0);
    let sd = [(s2 * sxx / det).sqrt(), (s2 * nf / det).sqrt()];
    let density = FnDensity::new(3, move |p: &[f64], g: &mut [f64]| {
        let (a, b, log_s) = (p[0], p[1], p[2]);
        let s = log_s.exp();
        g.fill(0.0);
        // flat prior on σ: the Jacobian of σ = exp(log σ) adds log σ
        let mut lp = log_s;
        g[2] = 1.0;
        for (xi, yi) in x.iter().zip(&y) {
            let r = (yi - a - b * xi) / s;
            lp -= 0.5 * r * r + log_s;
            g[0] += r / s;
            g[1] += r * xi / s;
            g[2] += r * r - 1.0;
        }
        Ok(lp)
    });
    (density, [alpha, beta], sd)
}

/// Multi-path Pathfinder (defaults, seed 0) follows the intercept–slope ridge to the
/// posterior: both means within 0.3 posterior sd (the runner's criterion for issue 18).
/// Over seeds 0–9 the largest deviation was 0.072 sd (seed 0: 0.012), a margin of 4, so the
/// fixed seed does not fail by chance. With CmdStan's stopping rule (`rel_patience` 1) the
/// relative tests stop the paths on the ridge: 4.5 sd off on 9 of seeds 0–9 (seed 0: 4.51;
/// the test asserts > 1), the failure [`LbfgsOptions::rel_patience`] mends.
#[test]
fn pathfinder_follows_a_badly_scaled_ridge_to_the_mode() {
    let (density, mean, sd) = intercept_slope_ridge();
    let off = |settings: &PathfinderSettings| {
        let approx = pathfinder(settings, |_| density.clone()).unwrap();
        (0..2)
            .map(|j| {
                let c = approx.unconstrained.column(j);
                (c.sum() / c.len() as f64 - mean[j]).abs() / sd[j]
            })
            .fold(0.0, f64::max)
    };
    let settings = PathfinderSettings::default();
    assert_eq!(settings.lbfgs.rel_patience, 20);
    let z = off(&settings);
    assert!(z < 0.3, "{z} sd off");
    let cmdstan = PathfinderSettings {
        lbfgs: LbfgsOptions {
            rel_patience: 1,
            ..settings.lbfgs
        },
        ..settings
    };
    let z = off(&cmdstan);
    assert!(z > 1.0, "CmdStan's rule: {z} sd off");
}

/// Bernoulli-logit regression data, N = 200, D = 3 (an intercept and two covariates), fixed
/// by integer hashes.
fn logistic_regression() -> LogReg {
    let n = 200;
    let u = |i: usize, k: usize| ((i * 7919 + k * 104_729) % 1000) as f64 / 1000.0;
    let mut x = Vec::with_capacity(n * 3);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let (a, b) = (2.0 * u(i, 1) - 1.0, 2.0 * u(i, 2) - 1.0);
        x.extend_from_slice(&[1.0, a, b]);
        let eta = 0.3 + 1.5 * a - 1.0 * b;
        y.push(if u(i, 3) < 1.0 / (1.0 + (-eta).exp()) {
            1.0
        } else {
            0.0
        });
    }
    LogReg::new(x, y, 3).unwrap()
}

/// The inverse of a symmetric 3×3 matrix by cofactors (independent of the crate's linear
/// algebra).
fn inverse3(a: &[f64]) -> Vec<f64> {
    let m = |i: usize, j: usize| a[i * 3 + j];
    let cof = |i: usize, j: usize| {
        let (r0, r1) = ((i + 1) % 3, (i + 2) % 3);
        let (c0, c1) = ((j + 1) % 3, (j + 2) % 3);
        m(r0, c0) * m(r1, c1) - m(r0, c1) * m(r1, c0)
    };
    let det = (0..3).map(|j| m(0, j) * cof(0, j)).sum::<f64>();
    (0..9).map(|k| cof(k % 3, k / 3) / det).collect()
}

/// Laplace on a logistic regression: the Hessian of the finite differences of the gradient
/// (what `laplace` factors) against second differences of log p *values* at the mode,
/// computed here (step 10⁻⁴: truncation O(h²) ≈ 10⁻⁸, rounding ε|log p|/h² ≈ 2·10⁻⁶ of
/// entries of order 50), to 10⁻⁴ relative; and the covariance of 40,000 Laplace draws
/// against the inverse of that independent Hessian, each entry within 5 standard errors of a
/// sample covariance, √((ΣᵢᵢΣⱼⱼ + Σᵢⱼ²)/N) (false-failure rate ≈ 6 × 5.7·10⁻⁷ per seed; this
/// seed is fixed).
#[test]
fn laplace_on_logistic_regression_matches_the_finite_difference_inverse_hessian() {
    let mut model = logistic_regression();
    let settings = LaplaceSettings {
        num_draws: 40_000,
        ..LaplaceSettings::default()
    };
    let mode = optimize(&mut model, &settings.optimize).unwrap();
    assert!(mode.convergence.converged());
    let x = mode.x.clone();
    let mut g = [0.0; 3];
    let mut f = |x: &[f64]| model.clone().logp_and_grad(x, &mut g).unwrap();
    let h = 1e-4;
    let mut fd = [0.0; 9];
    for i in 0..3 {
        for j in 0..3 {
            let at = |si: f64, sj: f64| {
                let mut p = x.clone();
                p[i] += si * h;
                p[j] += sj * h;
                p
            };
            fd[i * 3 + j] = (f(&at(1.0, 1.0)) - f(&at(1.0, -1.0)) - f(&at(-1.0, 1.0))
                + f(&at(-1.0, -1.0)))
                / (4.0 * h * h);
        }
    }
    let hess = hessian(&mut model, &x).unwrap();
    for k in 0..9 {
        assert!(
            (hess[k] - fd[k]).abs() <= 1e-4 * fd[k].abs().max(1.0),
            "H[{k}]: {} vs {}",
            hess[k],
            fd[k]
        );
    }
    let neg: Vec<f64> = fd.iter().map(|v| -v).collect();
    let sigma = inverse3(&neg);
    let approx = laplace(&mut model, &settings).unwrap();
    assert_eq!(approx.method, Method::Laplace);
    let (mean, c) = moments(&approx.unconstrained);
    let draws = approx.num_draws() as f64;
    for i in 0..3 {
        let se = (sigma[i * 3 + i] / draws).sqrt();
        assert!((mean[i] - x[i]).abs() < 5.0 * se, "mean {i}");
        for j in 0..3 {
            let se =
                ((sigma[i * 3 + i] * sigma[j * 3 + j] + sigma[i * 3 + j].powi(2)) / draws).sqrt();
            assert!(
                (c[i * 3 + j] - sigma[i * 3 + j]).abs() < 5.0 * se,
                "Σ[{i},{j}]: {} vs {}",
                c[i * 3 + j],
                sigma[i * 3 + j]
            );
        }
    }
    // log q is the normalized normal density of the draw: at the mode it would be
    // −½ log |2πΣ|; each draw's is lower by ½ zᵀz, so none exceeds it
    let top = -0.5 * (3.0 * (2.0 * std::f64::consts::PI).ln())
        - 0.5 * {
            let s = &sigma;
            s[0] * (s[4] * s[8] - s[5] * s[7]) - s[1] * (s[3] * s[8] - s[5] * s[6])
                + s[2] * (s[3] * s[7] - s[4] * s[6])
        }
        .ln();
    assert!(approx.log_q.iter().all(|q| *q <= top + 1e-6));
    assert!(approx.log_q.iter().any(|q| *q > top - 0.5));
}

/// A density flat along one axis has a singular Hessian at its mode: a typed error, not NaN
/// draws.
#[test]
fn laplace_reports_a_hessian_that_is_not_positive_definite() {
    let mut ridge = FnDensity::new(2, |x: &[f64], g: &mut [f64]| {
        g[0] = -2.0 * x[0];
        g[1] = 0.0;
        Ok(-x[0] * x[0])
    });
    let e = laplace(&mut ridge, &LaplaceSettings::default()).unwrap_err();
    assert!(
        matches!(
            e,
            ApproxError::NotPositiveDefinite {
                name: "negative Hessian",
                index: 1,
                ..
            }
        ),
        "{e}"
    );
}

/// Typed errors of Pathfinder: a density finite nowhere gives no initial point; a density
/// failing fatally stops the run with its error; with several paths, the error of every
/// path failing.
#[test]
fn pathfinder_errors_are_typed() {
    let nowhere = |_: usize| {
        FnDensity::new(2, |_: &[f64], _: &mut [f64]| {
            Err(LogDensityError::recoverable("never defined"))
        })
    };
    let single = PathfinderSettings {
        num_paths: 1,
        ..PathfinderSettings::default()
    };
    let e = pathfinder(&single, nowhere).unwrap_err();
    assert!(
        matches!(e, ApproxError::Mcmc(crate::McmcError::NoFiniteInit { .. })),
        "{e}"
    );
    let e = pathfinder(&PathfinderSettings::default(), nowhere).unwrap_err();
    assert!(
        matches!(e, ApproxError::AllPathsFailed { paths: 4, .. }),
        "{e}"
    );
    let fatal = |_: usize| {
        FnDensity::new(1, |x: &[f64], g: &mut [f64]| {
            if x[0].abs() < 0.1 {
                return Err(LogDensityError::fatal(std::io::Error::other(
                    "broken model",
                )));
            }
            g[0] = -x[0];
            Ok(-0.5 * x[0] * x[0])
        })
    };
    let e = pathfinder(&PathfinderSettings::default(), fatal).unwrap_err();
    assert!(e.to_string().contains("broken model"), "{e}");
    let bad = PathfinderSettings {
        num_draws: 0,
        ..PathfinderSettings::default()
    };
    assert!(matches!(
        pathfinder(&bad, |_| Gauss::new(1)),
        Err(ApproxError::InvalidSetting {
            name: "num_draws",
            ..
        })
    ));
}

/// The constructor any method uses checks its arguments and counts its evaluations; draws
/// and names come through the layout as for a `Fit`.
#[test]
fn approximation_from_any_method() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let draws = Array2::from_shape_fn((5, 2), |(i, j)| i as f64 - j as f64);
    let a = Approximation::new(
        &mut Gauss::new(2),
        Method::AdviMeanField,
        draws.clone(),
        vec![-1.0; 5],
        &mut rng,
    )
    .unwrap()
    .add_gradient_evals(100);
    assert_eq!(a.gradient_evals, 105);
    assert_eq!(a.draws_of("x").unwrap().shape(), [5, 2]);
    assert_eq!(a.log_p[1], -0.5 * (1.0 + 0.0));
    let err = a.draws_by_name("x[3]").unwrap_err();
    assert!(err.to_string().contains("x[1] ..= x[2]"), "{err}");
    assert!(matches!(
        Approximation::new(
            &mut Gauss::new(3),
            Method::Laplace,
            draws.clone(),
            vec![0.0; 5],
            &mut rng
        ),
        Err(ApproxError::DimensionMismatch { .. })
    ));
    assert!(matches!(
        Approximation::new(
            &mut Gauss::new(2),
            Method::Laplace,
            draws,
            vec![0.0; 4],
            &mut rng
        ),
        Err(ApproxError::DimensionMismatch { name: "log_q", .. })
    ));
    let mut text = Vec::new();
    a.write_cmdstan_csv(&mut text, "gauss").unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("# method = variational\n#   variational\n#     algorithm = meanfield\n")
    );
    assert!(
        text.contains("\nlp__,lp_approx__,x.1,x.2\n-0.5,-1,0,-1\n"),
        "{text}"
    );
    let bad = a.with_config(vec![("note".to_owned(), "two\nlines".to_owned())]);
    assert!(matches!(
        bad.write_cmdstan_csv(Vec::new(), "gauss"),
        Err(crate::OutputError::Csv(
            crate::csv::CsvError::InvalidComment { .. }
        ))
    ));
}

/// `InitStrategy::Pathfinder`: every chain starts at a draw of one Pathfinder run (the
/// same whether the chains run together or one by one), its evaluations are counted, and
/// the default (random inits) is untouched by it.
#[test]
fn nuts_starts_from_pathfinder_draws() {
    use crate::{InitStrategy, Sampler, SamplerSettings};
    let base = SamplerSettings {
        num_chains: 3,
        num_warmup: 30,
        num_samples: 10,
        seed: 5,
        ..SamplerSettings::default()
    };
    let with_pf = SamplerSettings {
        init: InitStrategy::Pathfinder(PathfinderSettings::default()),
        ..base
    };
    let make = |_| crate::models::EightSchools::classic();
    let fit = Sampler::new(with_pf).unwrap().sample(make).unwrap();
    assert!(fit.init_gradient_evals > 0);
    assert_eq!(
        fit.gradient_evals(),
        fit.init_gradient_evals + fit.chains.iter().map(|c| c.gradient_evals()).sum::<u64>()
    );
    let alone = Sampler::new(with_pf)
        .unwrap()
        .sample_chain(2, &mut crate::models::EightSchools::classic())
        .unwrap();
    assert_eq!(alone.init, fit.chains[2].init);
    assert_eq!(alone.draws, fit.chains[2].draws);
    let random = Sampler::new(base).unwrap().sample(make).unwrap();
    assert_eq!(random.init_gradient_evals, 0);
    assert_ne!(random.chains[0].init, fit.chains[0].init);
    // more chains than Pathfinder draws is a setting error
    let too_many = SamplerSettings {
        num_chains: 5,
        init: InitStrategy::Pathfinder(PathfinderSettings {
            num_psis_draws: 4,
            ..PathfinderSettings::default()
        }),
        ..base
    };
    assert!(Sampler::new(too_many).is_err());
}
