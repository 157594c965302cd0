//! Values, hand-derived gradients, errors and estimator selection of the public API.

use infer_ad::{Tape, Tensor};
use infer_dist::{Cauchy, Delta, Distribution, Gamma, Normal, Poisson, Uniform, kl_divergence};
use infer_loss::{
    Estimator, LossError, ViOptions, analytical_kl_divergence_loss, elbo_entropy_loss, elbo_loss,
    elbo_path_derivative_loss, elbo_score_function, elbo_score_function_loss, log_prob,
    log_prob_volume_adjustment, negative_log_prob, prior_loss, vi_analytical_kl_loss, vi_loss,
    vi_loss_with, vi_regularization, volume_adjustment,
};

type R = Result<(), Box<dyn std::error::Error>>;

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1.0)
}

fn c(tape: &Tape, x: f64) -> Tensor<'_> {
    tape.constant(&ndarray::arr0(x))
}

/// q = N(m, s), x = m + s e, p = N(0, 1): the gradients of the pathwise ELBO and of the
/// path-derivative ELBO, derived by hand.
#[test]
fn elbo_and_path_derivative_gradients() -> R {
    let (m0, s0, e) = (0.3, 1.7, -0.8);
    let x0 = m0 + s0 * e;
    for path_only in [false, true] {
        let tape = Tape::new();
        let (m, s) = (tape.var(m0), tape.var(s0));
        let q = Normal::new(m, s)?;
        let p = Normal::new(c(&tape, 0.0), c(&tape, 1.0))?;
        let x = m.as_tensor() + s.as_tensor() * c(&tape, e);
        let loss = if path_only {
            elbo_path_derivative_loss(&p, &q, x)?
        } else {
            elbo_loss(&p, &q, x)?
        };
        // Same value either way: ln q(x) − ln p(x).
        let want = -0.5 * e * e - s0.ln() + 0.5 * x0 * x0;
        assert!(close(loss.value(), want, 1e-14));
        loss.backward();
        if path_only {
            assert!(close(m.grad(), x0 - e / s0, 1e-14));
            assert!(close(s.grad(), x0 * e - e * e / s0, 1e-14));
        } else {
            assert!(close(m.grad(), x0, 1e-14));
            assert!(close(s.grad(), x0 * e - 1.0 / s0, 1e-14));
        }
    }
    Ok(())
}

/// A value without a path: the path-derivative loss has no gradient to q at all.
#[test]
fn path_derivative_with_constant_value() -> R {
    let tape = Tape::new();
    let (m, s) = (tape.var(1.0), tape.var(1.0));
    let q = Normal::new(m, s)?;
    let p = Cauchy::new(c(&tape, 0.0), c(&tape, 1.0))?;
    let loss = elbo_path_derivative_loss(&p, &q, c(&tape, 1.0))?;
    assert!(close(loss.value(), 0.9189385332046727, 1e-12));
    loss.backward();
    assert_eq!((m.grad(), s.grad()), (0.0, 0.0));
    Ok(())
}

/// The score-function surrogate: the value is the ELBO estimate; the gradient is
/// (ln q − ln p)·∇ ln q − ∇ ln p, with x detached.
#[test]
fn score_function_value_and_gradient() -> R {
    let (m0, s0, x0, pm0) = (0.4, 0.7, 1.3, -0.5);
    let tape = Tape::new();
    let (m, s, pm) = (tape.var(m0), tape.var(s0), tape.var(pm0));
    let q = Normal::new(m, s)?;
    let p = Normal::new(pm, c(&tape, 1.0))?;
    let x = tape.var(x0); // tracked: the estimator must not differentiate through it
    let loss = elbo_score_function_loss(&p, &q, x.as_tensor())?;
    let z = (x0 - m0) / s0;
    let lq = -0.5 * z * z - s0.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln();
    let lp = -0.5 * (x0 - pm0).powi(2) - 0.5 * (2.0 * std::f64::consts::PI).ln();
    assert!(close(loss.value(), lq - lp, 1e-14));
    loss.backward();
    let w = lq - lp;
    assert!(close(m.grad(), w * z / s0, 1e-13));
    assert!(close(s.grad(), w * (z * z - 1.0) / s0, 1e-13));
    assert!(close(pm.grad(), -(x0 - pm0), 1e-13));
    assert_eq!(x.grad(), 0.0);
    Ok(())
}

/// The list version adds the regularization to the value and to the weight.
#[test]
fn score_function_list_with_regularization() -> R {
    let tape = Tape::new();
    let (m, s) = (tape.var(0.2), tape.var(1.1));
    let q = Normal::new(m, s)?;
    let p = Cauchy::new(c(&tape, 0.0), c(&tape, 1.0))?;
    let r = tape.var(2.5);
    let x = c(&tape, 0.9);
    let loss = elbo_score_function(&[&p], &[&q], &[x], Some(r))?;
    let elbo = elbo_loss(&p, &q, x)?.value();
    assert!(close(loss.value(), elbo + 2.5, 1e-14));
    loss.backward();
    let z = (0.9 - 0.2) / 1.1;
    assert!(close(m.grad(), (elbo + 2.5) * z / 1.1, 1e-13));
    assert_eq!(r.grad(), 1.0);
    Ok(())
}

#[test]
fn analytical_kl_is_kl_q_to_p() -> R {
    let tape = Tape::new();
    let p = Normal::new(c(&tape, 0.0), c(&tape, 1.0))?;
    let q = Normal::new(c(&tape, 1.0), c(&tape, 2.0))?;
    let x = c(&tape, 0.5);
    let got = analytical_kl_divergence_loss(&p, &q, x)?.value();
    let qp = kl_divergence(&q, &p)?.sum().value();
    let pq = kl_divergence(&p, &q)?.sum().value();
    assert_eq!(got, qp);
    assert!((got - pq).abs() > 0.1);
    // KL(N(1, 2²) ‖ N(0, 1)) = −ln 2 + (4 + 1)/2 − ½
    assert!(close(got, -(2f64.ln()) + 2.0, 1e-14));
    // No closed form (Normal ‖ Cauchy): the fallback elbo_loss.
    let pc = Cauchy::new(c(&tape, 0.0), c(&tape, 1.0))?;
    let got = analytical_kl_divergence_loss(&pc, &q, x)?.value();
    assert_eq!(got, elbo_loss(&pc, &q, x)?.value());
    Ok(())
}

#[test]
fn entropy_loss_and_delta_rejection() -> R {
    let tape = Tape::new();
    let p = Normal::new(c(&tape, 0.0), c(&tape, 1.0))?;
    let q = Normal::new(c(&tape, 0.0), c(&tape, 2.0))?;
    let x = c(&tape, 0.5);
    let got = elbo_entropy_loss(&p, &q, x)?.value();
    let h = 0.5 + 0.5 * (2.0 * std::f64::consts::PI).ln() + 2f64.ln();
    assert!(close(
        got,
        -(-0.125 - 0.5 * (2.0 * std::f64::consts::PI).ln() + h),
        1e-14
    ));
    let d = Delta::new(c(&tape, 0.5))?;
    assert!(matches!(
        elbo_entropy_loss(&p, &d, x),
        Err(LossError::DeltaNotSupported { .. })
    ));
    assert!(matches!(
        elbo_score_function_loss(&p, &d, x),
        Err(LossError::DeltaNotSupported { .. })
    ));
    Ok(())
}

#[test]
fn lists_of_different_lengths_are_errors() -> R {
    let tape = Tape::new();
    let p = Normal::new(c(&tape, 0.0), c(&tape, 1.0))?;
    let x = c(&tape, 0.5);
    let two: [&dyn Distribution; 2] = [&p, &p];
    let mismatch = |r: Result<infer_ad::Var<'_>, LossError>| {
        matches!(r, Err(LossError::LengthMismatch { .. }))
    };
    assert!(mismatch(negative_log_prob(&two, &[x])));
    assert!(mismatch(log_prob(&two, &[x])));
    assert!(mismatch(log_prob_volume_adjustment(&two, &[x])));
    assert!(mismatch(vi_regularization(&two, &[&p], &[x, x], elbo_loss)));
    assert!(mismatch(vi_regularization(&two, &two, &[x], elbo_loss)));
    assert!(mismatch(elbo_score_function(&two, &[&p], &[x, x], None)));
    assert!(mismatch(vi_loss(&two, &two, &[x, x], &[false], 1.0)));
    assert!(mismatch(vi_loss(
        &two,
        &[&p],
        &[x, x],
        &[false, false],
        1.0
    )));
    assert!(mismatch(vi_analytical_kl_loss(
        &two,
        &two,
        &[x],
        &[false, false],
        1.0
    )));
    assert!(matches!(
        negative_log_prob(&[], &[]),
        Err(LossError::Empty { .. })
    ));
    assert!(matches!(
        vi_loss(&two, &two, &[x, x], &[false, false], -1.0),
        Err(LossError::InvalidArgument {
            name: "kl_scaling",
            ..
        })
    ));
    assert!(matches!(
        vi_loss(&two, &two, &[x, x], &[false, false], f64::NAN),
        Err(LossError::InvalidArgument { .. })
    ));
    Ok(())
}

/// A Delta q contributes its prior loss, in every branch.
#[test]
fn delta_sites_contribute_the_prior_loss() -> R {
    let tape = Tape::new();
    let v = tape.var(0.7);
    let p = Cauchy::new(c(&tape, 0.0), c(&tape, 1.0))?;
    let d = Delta::new(v)?;
    let q = Normal::new(c(&tape, 0.0), c(&tape, 1.0))?;
    let x = c(&tape, 0.3);
    let prior = prior_loss(&p, &d, v.as_tensor())?.value();
    let elbo = elbo_loss(&p, &q, x)?.value();
    let ps: [&dyn Distribution; 2] = [&p, &p];
    let qs: [&dyn Distribution; 2] = [&d, &q];
    let vals = [v.as_tensor(), x];
    let reg = vi_regularization(&ps, &qs, &vals, elbo_loss)?;
    assert!(close(reg.value(), prior + elbo, 1e-14));
    for est in [
        Estimator::Auto,
        Estimator::AnalyticKl,
        Estimator::ScoreFunction,
        Estimator::Divergence,
    ] {
        let opts = ViOptions {
            estimator: est,
            ..ViOptions::default()
        };
        let loss = vi_loss_with(&ps, &qs, &vals, &[false, false], &opts)?;
        assert!(close(loss.value(), prior + elbo, 1e-14), "{est:?}");
        loss.backward();
        // The point estimate gets the gradient of −ln p(v) in every branch.
        assert!(close(v.grad(), 2.0 * 0.7 / (1.0 + 0.49), 1e-12), "{est:?}");
    }
    Ok(())
}

/// The automatic choice: reparameterizable → pathwise; closed-form KL → analytic; else
/// score function. Observed sites give their negative log likelihood; kl_scaling scales the
/// rest.
#[test]
fn vi_loss_chooses_its_estimator() -> R {
    let tape = Tape::new();
    // Poisson q, Poisson p: not reparameterizable, closed-form KL → analytic KL.
    let rate_q = tape.var(2.0);
    let qp = Poisson::new(rate_q)?;
    let pp = Poisson::new(c(&tape, 3.0))?;
    let k = c(&tape, 1.0);
    let obs = Normal::new(c(&tape, 0.0), c(&tape, 1.0))?;
    let y = c(&tape, 0.5);
    let ps: [&dyn Distribution; 2] = [&pp, &obs];
    let qs: [&dyn Distribution; 2] = [&qp, &obs];
    let loss = vi_loss(&ps, &qs, &[k, y], &[false, true], 0.5)?;
    let kl = kl_divergence(&qp, &pp)?.sum().value();
    let nll = -obs.log_prob_sum(y)?.value();
    assert!(close(loss.value(), nll + 0.5 * kl, 1e-14));
    // A Poisson q against a Gamma p has neither → score function.
    let pg = Gamma::new(c(&tape, 2.0), c(&tape, 1.0))?;
    let ps: [&dyn Distribution; 2] = [&pg, &obs];
    let loss = vi_loss(&ps, &qs, &[k, y], &[false, true], 0.5)?;
    let lq = qp.log_prob_sum(k)?.value();
    let lp = pg.log_prob_sum(k)?.value();
    assert!(close(loss.value(), nll + 0.5 * (lq - lp), 1e-14));
    loss.backward();
    // Score weight: nll + 0.5 (ln q − ln p); score of the Poisson rate: k/λ − 1.
    let w = nll + 0.5 * (lq - lp);
    assert!(close(rate_q.grad(), w * (1.0 / 2.0 - 1.0), 1e-12));
    // The same with a baseline: value unchanged, weight shifted.
    let opts = ViOptions {
        kl_scaling: 0.5,
        baseline: 1.0,
        ..ViOptions::default()
    };
    let loss2 = vi_loss_with(&ps, &qs, &[k, y], &[false, true], &opts)?;
    assert_eq!(loss2.value(), loss.value());
    loss2.backward();
    assert!(close(rate_q.grad(), (w - 1.0) * (1.0 / 2.0 - 1.0), 1e-12));
    // vi_analytical_kl_loss with reparameterizable q's: the closed form where it exists.
    let pn = Normal::new(c(&tape, 0.0), c(&tape, 1.0))?;
    let qn = Normal::new(c(&tape, 1.0), c(&tape, 1.0))?;
    let loss = vi_analytical_kl_loss(&[&pn], &[&qn], &[c(&tape, 3.0)], &[false], 1.0)?;
    assert!(close(loss.value(), 0.5, 1e-14));
    let loss = vi_loss(&[&pn], &[&qn], &[c(&tape, 3.0)], &[false], 1.0)?;
    assert!(close(
        loss.value(),
        elbo_loss(&pn, &qn, c(&tape, 3.0))?.value(),
        1e-14
    ));
    Ok(())
}

#[test]
fn volume_adjustments() -> R {
    let tape = Tape::new();
    let g = Gamma::new(c(&tape, 2.0), c(&tape, 2.0))?;
    let x = tape.var(2.5);
    let adj = volume_adjustment(&g, x.as_tensor())?;
    assert!(close(adj.value(), 2.5f64.ln(), 1e-15));
    adj.backward();
    assert!(close(x.grad(), 1.0 / 2.5, 1e-15));
    // Interval (−1, 3): ln((x + 1)(3 − x)/4).
    let u = Uniform::new(c(&tape, -1.0), c(&tape, 3.0))?;
    let y = tape.var(0.5);
    let adj = volume_adjustment(&u, y.as_tensor())?;
    assert!(close(adj.value(), (1.5f64 * 2.5 / 4.0).ln(), 1e-14));
    adj.backward();
    assert!(close(y.grad(), 1.0 / 1.5 - 1.0 / 2.5, 1e-14));
    // Real support: 0. Discrete: no bijector.
    let n = Normal::new(c(&tape, 0.0), c(&tape, 1.0))?;
    assert_eq!(volume_adjustment(&n, y.as_tensor())?.value(), 0.0);
    let pois = Poisson::new(c(&tape, 1.0))?;
    assert!(matches!(
        volume_adjustment(&pois, c(&tape, 1.0)),
        Err(LossError::NoBijector { .. })
    ));
    Ok(())
}

/// `vi_loss` evaluates scalar sites that share a prior object in batches; the value and the
/// gradients must equal the site-by-site sum (here forced through a divergence that is not
/// `elbo_loss` itself, so that it is not batched).
#[test]
fn batched_sites_match_the_site_by_site_sum() -> R {
    let per_site: infer_loss::DivFn = |p, q, x| elbo_loss(p, q, x);
    let mut results = Vec::new();
    for batched in [true, false] {
        let tape = Tape::new();
        let leaves: Vec<_> = [0.3, 1.2, -0.7, 0.8, 1.5, 0.6, 0.1, 0.4, 2.0]
            .iter()
            .map(|&v| tape.var(v))
            .collect();
        let shared = Cauchy::new(c(&tape, 0.0), c(&tape, 1.0))?;
        let own = Normal::new(leaves[8], c(&tape, 2.0))?;
        let q0 = Normal::new(leaves[0], leaves[1])?;
        let q1 = Normal::new(leaves[2], leaves[3])?;
        let q2 = infer_dist::Laplace::new(leaves[4], leaves[5])?;
        let q3 = Normal::new(
            tape.tensor(&ndarray::array![0.1, 0.2]),
            tape.tensor(&ndarray::array![1.0, 0.5]),
        )?;
        let d = Delta::new(leaves[6])?;
        let e = |v: f64| c(&tape, v);
        let x0 = leaves[0].as_tensor() + leaves[1].as_tensor() * e(0.4);
        let x1 = leaves[2].as_tensor() + leaves[3].as_tensor() * e(-1.1);
        let x2 = leaves[4].as_tensor() + leaves[5].as_tensor() * e(0.9);
        let x3 = tape.constant(&ndarray::array![0.3, -0.2]);
        let x4 = leaves[6].as_tensor();
        let x5 = leaves[7].as_tensor() * e(2.0);
        let ps: [&dyn Distribution; 7] = [&shared, &shared, &shared, &shared, &shared, &own, &own];
        let qs: [&dyn Distribution; 7] = [&q0, &q1, &q2, &q3, &d, &q0, &own];
        let y = c(&tape, 0.25);
        let vals = [x0, x1, x2, x3, x4, x5, y];
        let obs = [false, false, false, false, false, false, true];
        let opts = ViOptions {
            kl_scaling: 0.7,
            div_fn: if batched { elbo_loss } else { per_site },
            ..ViOptions::default()
        };
        let loss = vi_loss_with(&ps, &qs, &vals, &obs, &opts)?;
        loss.backward();
        let grads: Vec<f64> = leaves.iter().map(|l| l.grad()).collect();
        results.push((loss.value(), grads));
    }
    let ((va, ga), (vb, gb)) = (&results[0], &results[1]);
    assert!(close(*va, *vb, 1e-13), "{va} vs {vb}");
    for (a, b) in ga.iter().zip(gb) {
        assert!(close(*a, *b, 1e-12), "{a} vs {b}");
    }
    Ok(())
}
