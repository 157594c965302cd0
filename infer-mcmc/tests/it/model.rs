//! The tape-based model interface: gradients through the constraint transforms agree with a
//! hand-written model, and the log-Jacobians make prior-only sampling of constrained
//! parameters recover the priors' moments.

use infer_ad::Var;
use infer_dist::{Beta, Constraint, Dirichlet, Gamma, HalfCauchy, Normal};
use infer_mcmc::diagnostics::mcse_mean;
use infer_mcmc::init::Inits;
use infer_mcmc::layout::Block;
use infer_mcmc::model::{Model, Params, TapeModel, bounds};
use infer_mcmc::models::EightSchools as HandWritten;
use infer_mcmc::{LogDensity, LogDensityError, Sampler, SamplerSettings};
use ndarray::{arr0, arr1};

use super::common::{fit_model, runs};

#[derive(Clone)]
struct EightSchools;

const Y: [f64; 8] = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
const SIGMA: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];

impl Model for EightSchools {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let tape = p.tape();
        let mu = p.scalar("mu", Constraint::Real)?.as_tensor();
        let tau = p.scalar("tau", Constraint::Positive)?.as_tensor();
        let eta = p.vector("eta", 8, Constraint::Real)?;
        let theta = p.transformed("theta", mu + tau * eta)?;
        let c = |x: f64| tape.constant(&arr0(x));
        Ok(Normal::new(c(0.0), c(5.0))?.log_prob_sum(mu)?
            + HalfCauchy::new(c(5.0))?.log_prob_sum(tau)?
            + Normal::new(c(0.0), c(1.0))?.log_prob_sum(eta)?
            + Normal::new(theta, tape.constant(&arr1(&SIGMA)))?
                .log_prob_sum(tape.constant(&arr1(&Y)))?)
    }
}

/// Same unconstrained coordinates (μ, log τ, η) as the hand-written model: the gradients must
/// agree to rounding and the log densities differ by a constant.
#[test]
fn gradient_matches_the_hand_written_model() {
    let mut tape_model = TapeModel::new(EightSchools).unwrap();
    let mut hand = HandWritten::classic();
    assert_eq!(tape_model.dim(), 10);
    let layout = tape_model.layout();
    assert_eq!(layout.names()[2], "eta[1]");
    assert_eq!(layout.names()[10], "theta[1]");
    assert_eq!(layout.len(), 18);
    assert_eq!(
        layout.entry("theta").map(|e| e.block),
        Some(Block::TransformedParameter)
    );
    let mut offset = None;
    for k in 0..5 {
        let x: Vec<f64> = (0..10)
            .map(|i| ((i * 7 + k * 3) % 11) as f64 / 5.0 - 1.0)
            .collect();
        let (mut g1, mut g2) = (vec![0.0; 10], vec![0.0; 10]);
        let a = tape_model.logp_and_grad(&x, &mut g1).unwrap();
        let b = hand.logp_and_grad(&x, &mut g2).unwrap();
        for (u, v) in g1.iter().zip(&g2) {
            assert!((u - v).abs() <= 1e-10 * (1.0 + v.abs()), "{u} vs {v}");
        }
        let d = a - b;
        let first = *offset.get_or_insert(d);
        assert!(
            (d - first).abs() < 1e-9,
            "log densities differ by a non-constant: {d} vs {first}"
        );
    }
    // constrained output: tau = exp(log tau); theta = mu + tau * eta
    let mut out = vec![0.0; 18];
    let x = [1.0, 0.5, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0];
    tape_model
        .write_draw(&x, &mut rand::rng(), &mut out)
        .unwrap();
    assert!((out[1] - 0.5f64.exp()).abs() < 1e-15);
    assert!((out[10] - (1.0 + 0.5f64.exp() * 2.0)).abs() < 1e-14);
    assert!((out[17] - (1.0 - 0.5f64.exp())).abs() < 1e-14);
}

/// Priors only, on three constrained supports. Their means are known exactly:
/// Gamma(3, 2) → 1.5, Beta(2, 5) → 2/7, Dirichlet(2, 3, 5) → (0.2, 0.3, 0.5).
#[derive(Clone)]
struct Priors;

impl Model for Priors {
    fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
        let tape = p.tape();
        let c = |x: f64| tape.constant(&arr0(x));
        let sigma = p.scalar("sigma", Constraint::Positive)?.as_tensor();
        let theta = p.scalar("theta", Constraint::UnitInterval)?.as_tensor();
        let simplex = p.vector("p", 3, Constraint::Simplex)?;
        Ok(Gamma::new(c(3.0), c(2.0))?.log_prob_sum(sigma)?
            + Beta::new(c(2.0), c(5.0))?.log_prob_sum(theta)?
            + Dirichlet::new(tape.constant(&arr1(&[2.0, 3.0, 5.0])))?.log_prob_sum(simplex)?)
    }
}

/// Means within 4 MCSE (two-sided false-failure rate 6e-5 per quantity, ~4e-4 over six).
#[test]
fn jacobians_recover_prior_moments() {
    let settings = SamplerSettings {
        seed: 21,
        ..runs(4, 500, 1000)
    };
    let fit = fit_model(settings, &Priors);
    assert_eq!(fit.num_divergent(), 0);
    for (name, want) in [
        ("sigma", 1.5),
        ("theta", 2.0 / 7.0),
        ("p[1]", 0.2),
        ("p[2]", 0.3),
        ("p[3]", 0.5),
    ] {
        let d = fit
            .draws_by_name(name)
            .unwrap_or_else(|e| panic!("{name} recorded: {e}"));
        let mean = d.mean().unwrap();
        let mcse = mcse_mean(d.view()).unwrap();
        assert!(
            (mean - want).abs() <= 4.0 * mcse,
            "{name}: mean {mean}, want {want}, mcse {mcse}"
        );
    }
    let p = [1, 2, 3].map(|i| fit.draws_by_name(&format!("p[{i}]")).unwrap());
    let total = &p[0] + &p[1] + &p[2];
    assert!(
        total.iter().all(|s| (s - 1.0).abs() < 1e-12),
        "simplex draws sum to 1"
    );
}

#[test]
fn invalid_models_are_rejected() {
    #[derive(Clone, Debug)]
    struct Discrete;
    impl Model for Discrete {
        fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
            p.scalar("k", Constraint::NonNegativeInteger)?;
            Ok(p.tape().var(0.0))
        }
    }
    let err = TapeModel::new(Discrete)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains('k'), "{err}");
}

/// Two declarations under one name, an invalid name, and declarations that depend on the
/// parameter values: typed errors naming the quantity, never a panic.
#[test]
fn inconsistent_declarations_are_typed_errors() {
    #[derive(Debug)]
    struct Twice;
    impl Model for Twice {
        fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
            let a = p.scalar("a", Constraint::Real)?;
            let b = p.scalar("a", Constraint::Real)?;
            Ok(a + b)
        }
    }
    let err = TapeModel::new(Twice).unwrap_err().to_string();
    assert!(err.contains("`a` is declared twice"), "{err}");

    #[derive(Debug)]
    struct BadName;
    impl Model for BadName {
        fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
            p.scalar("a.b", Constraint::Real)
        }
    }
    let err = TapeModel::new(BadName).unwrap_err().to_string();
    assert!(err.contains("\"a.b\""), "{err}");

    // declares `b` only where a > 0: the layout learned at a = 0 lacks it
    struct ValueDependent;
    impl Model for ValueDependent {
        fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
            let a = p.scalar("a", Constraint::Real)?;
            if a.value() > 0.0 {
                let b = p.scalar("b", Constraint::Real)?;
                return Ok(a * b);
            }
            Ok(a * 0.0)
        }
    }
    let mut m = TapeModel::new(ValueDependent).unwrap();
    assert_eq!(m.dim(), 1);
    let mut g = [0.0];
    assert!(m.logp_and_grad(&[-1.0], &mut g).is_ok());
    let err = m.logp_and_grad(&[1.0], &mut g).unwrap_err();
    assert!(!err.is_recoverable());
    assert!(err.to_string().contains("`b`"), "{err}");
}

/// A GARCH-style dependent bound (Stan: `real<lower=0, upper=1 - alpha> beta`) and a
/// generated quantity. The model adds no density beyond the supports, so (alpha, beta) is
/// uniform on the triangle {alpha, beta > 0, alpha + beta < 1}: E[alpha] = E[beta] = 1/3, the
/// generated quantity `total` = alpha + beta has mean 2/3 and `coin` ~ Uniform(0, 1) mean 1/2. Means within 4 MCSE (two-sided false-failure
/// rate 6e-5 each; fixed seed).
#[test]
fn dependent_bounds_and_generated_quantities() {
    struct Triangle;
    impl Model for Triangle {
        fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
            let alpha = p.scalar("alpha", bounds(0.0, 1.0))?;
            let beta = p.scalar("beta", bounds(0.0, 1.0 - alpha))?;
            p.generated("total", |_| {
                Ok::<_, LogDensityError>(alpha.value() + beta.value())
            })?;
            p.generated("coin", |rng| {
                Ok::<_, LogDensityError>(rand::Rng::random::<f64>(rng))
            })?;
            Ok(alpha * 0.0)
        }
    }
    let settings = SamplerSettings {
        seed: 5,
        ..runs(4, 500, 1000)
    };
    let fit = fit_model(settings, &Triangle);
    assert_eq!(fit.param_names(), ["alpha", "beta", "total", "coin"]);
    let a = fit.draws_by_name("alpha").unwrap();
    let b = fit.draws_by_name("beta").unwrap();
    assert!(
        a.iter()
            .zip(&b)
            .all(|(a, b)| *a > 0.0 && *b > 0.0 && a + b < 1.0)
    );
    for (name, want) in [
        ("alpha", 1.0 / 3.0),
        ("beta", 1.0 / 3.0),
        ("total", 2.0 / 3.0),
        ("coin", 0.5),
    ] {
        let d = fit.draws_by_name(name).unwrap();
        let (mean, mcse) = (d.mean().unwrap(), mcse_mean(d.view()).unwrap());
        assert!(
            (mean - want).abs() <= 4.0 * mcse,
            "{name}: {mean} vs {want} (mcse {mcse})"
        );
    }
    // the generated quantities use a stream of their own: the parameter draws are those of
    // the same model without them
    struct TriangleOnly;
    impl Model for TriangleOnly {
        fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
            let alpha = p.scalar("alpha", bounds(0.0, 1.0))?;
            p.scalar("beta", bounds(0.0, 1.0 - alpha))?;
            Ok(alpha * 0.0)
        }
    }
    let plain = fit_model(settings, &TriangleOnly);
    assert_eq!(plain.draws_by_name("beta").unwrap(), b);
}

/// Inits by name on the constrained scale: used as given, the rest random; unknown names,
/// wrong lengths and values outside the support are typed errors naming the parameter.
#[test]
fn named_inits() {
    let settings = runs(2, 0, 1);
    let sampler = |inits: Inits| {
        Sampler::new(settings)
            .unwrap()
            .with_named_inits(vec![inits])
    };
    let fit = sampler(Inits::new().set("tau", 2.0).set("mu", 1.5))
        .sample_model(&EightSchools)
        .unwrap();
    for c in &fit.chains {
        assert_eq!(c.init[0], 1.5);
        assert!((c.init[1] - 2f64.ln()).abs() < 1e-15);
    }
    assert_ne!(
        fit.chains[0].init[2], fit.chains[1].init[2],
        "eta drawn per chain"
    );
    for (inits, needle) in [
        (Inits::new().set("sigma", 1.0), "`sigma`"),
        (Inits::new().set("theta", vec![0.0; 8]), "`theta`"),
        (Inits::new().set("eta", vec![0.0; 3]), "`eta`"),
        (Inits::new().set("tau", -1.0), "`tau`"),
    ] {
        let err = sampler(inits)
            .sample_model(&EightSchools)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{needle}: {err}");
    }
}

/// The constraints of issue 14 through the whole sampler, prior only, against exact moments:
/// `ordered` (order statistics of three N(0, 1): E = ∓3/(2√π), 0), `positive_ordered`
/// (order statistics of three Exp(1): 1/3, 5/6, 11/6), `cholesky_factor_corr` with the
/// LKJ(1) density of its factor (uniform correlation matrices in 3 dimensions: E[r²] = 1/4
/// for every correlation),
/// `sum_to_zero` with a N(0, I₄) density on the plane (E[x²] = 3/4) and a 3×2
/// `cholesky_factor_cov` with N(0, 1) on every entry (E[C₁₁] = √(2/π), E[C₃₂²] = 1). Each mean
/// within 4 MCSE (two-sided false-failure rate 6e-5 per quantity, ~7e-4 over the twelve;
/// fixed seed).
#[test]
fn new_constraints_sample_their_exact_moments() {
    struct Constrained;
    impl Model for Constrained {
        fn log_density<'t>(&self, p: &mut Params<'t>) -> Result<Var<'t>, LogDensityError> {
            let x = p.vector("x", 3, Constraint::Ordered)?;
            let z = p.vector("z", 3, Constraint::PositiveOrdered)?;
            let l = p.matrix("L", 3, 3, Constraint::CholeskyFactorCorr)?;
            let s = p.vector("s", 4, Constraint::SumToZero)?;
            let c = p.matrix(
                "C",
                3,
                2,
                Constraint::CholeskyFactorCov { rows: 3, cols: 2 },
            )?;
            // LKJ(1) on the Cholesky factor: Π_{i≥2} L_ii^(K − i), here L₂₂¹ (Stan's
            // lkj_corr_cholesky_lpdf with η = 1)
            let lkj = l.at(&[1, 1])?.ln();
            Ok((x.square().sum() + s.square().sum() + c.square().sum()) * -0.5 - z.sum() + lkj)
        }
    }
    let settings = SamplerSettings {
        seed: 7,
        ..runs(4, 1000, 1000)
    };
    let fit = fit_model(settings, &Constrained);
    let d = |name: &str| fit.draws_by_name(name).unwrap();
    let order = 3.0 / (2.0 * std::f64::consts::PI.sqrt());
    let (l21, l31, l22, l32) = (d("L[2,1]"), d("L[3,1]"), d("L[2,2]"), d("L[3,2]"));
    let r23 = (&l21 * &l31 + &l22 * &l32).mapv(|r| r * r);
    let checks = [
        ("x[1]", d("x[1]"), -order),
        ("x[2]", d("x[2]"), 0.0),
        ("x[3]", d("x[3]"), order),
        ("z[1]", d("z[1]"), 1.0 / 3.0),
        ("z[2]", d("z[2]"), 5.0 / 6.0),
        ("z[3]", d("z[3]"), 11.0 / 6.0),
        ("L[2,1]²", l21.mapv(|v| v * v), 0.25),
        ("L[3,1]²", l31.mapv(|v| v * v), 0.25),
        ("r23²", r23, 0.25),
        ("s[1]²", d("s[1]").mapv(|v| v * v), 0.75),
        ("C[1,1]", d("C[1,1]"), (2.0 / std::f64::consts::PI).sqrt()),
        ("C[3,2]²", d("C[3,2]").mapv(|v| v * v), 1.0),
    ];
    for (name, draws, want) in checks {
        let (mean, mcse) = (draws.mean().unwrap(), mcse_mean(draws.view()).unwrap());
        assert!(
            (mean - want).abs() <= 4.0 * mcse,
            "{name}: {mean} vs {want} (mcse {mcse})"
        );
    }
    let s: Vec<_> = (1..=4).map(|i| d(&format!("s[{i}]"))).collect();
    let total = &s[0] + &s[1] + &s[2] + &s[3];
    assert!(
        total.iter().all(|t| t.abs() < 1e-12),
        "sum_to_zero draws sum to 0"
    );
}
