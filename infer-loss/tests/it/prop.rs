//! Property tests: the estimators that share a value agree on it, and differ in their
//! gradients exactly by the terms they are meant to drop.

use infer_ad::Tape;
use infer_dist::{Cauchy, Normal};
use infer_loss::{elbo_loss, elbo_path_derivative_loss, elbo_score_function_loss};
use proptest::prelude::*;

proptest! {
    /// q = N(m, s), x = m + s e, p = Cauchy(a, b): the path-derivative loss has the value
    /// of elbo_loss, and their gradients differ by the score of q, ∇_θ ln q(x̄; θ).
    #[test]
    fn path_derivative_drops_exactly_the_score(
        m0 in -3.0..3.0f64, s0 in 0.2..3.0f64, e in -3.0..3.0f64,
        a in -2.0..2.0f64, b in 0.3..3.0f64,
    ) {
        let mut grads = Vec::new();
        let mut vals = Vec::new();
        for path_only in [false, true] {
            let tape = Tape::new();
            let (m, s) = (tape.var(m0), tape.var(s0));
            let q = Normal::new(m, s).unwrap();
            let p = Cauchy::new(tape.var(a), tape.var(b)).unwrap();
            let x = m.as_tensor() + s.as_tensor() * tape.constant(&ndarray::arr0(e));
            let loss = if path_only {
                elbo_path_derivative_loss(&p, &q, x).unwrap()
            } else {
                elbo_loss(&p, &q, x).unwrap()
            };
            loss.backward();
            vals.push(loss.value());
            grads.push((m.grad(), s.grad()));
        }
        prop_assert!((vals[0] - vals[1]).abs() <= 1e-12 * vals[0].abs().max(1.0));
        // ∂ ln q/∂m = e/s, ∂ ln q/∂s = (e² − 1)/s at x = m + s e.
        let (dm, ds) = (grads[0].0 - grads[1].0, grads[0].1 - grads[1].1);
        prop_assert!((dm - e / s0).abs() <= 1e-10 * (e / s0).abs().max(1.0));
        prop_assert!((ds - (e * e - 1.0) / s0).abs() <= 1e-10 * ((e * e - 1.0) / s0).abs().max(1.0));
    }

    /// The score-function loss reports the same value as elbo_loss at any value.
    #[test]
    fn score_function_value_is_the_elbo(
        m0 in -3.0..3.0f64, s0 in 0.2..3.0f64, x0 in -5.0..5.0f64,
    ) {
        let tape = Tape::new();
        let q = Normal::new(tape.var(m0), tape.var(s0)).unwrap();
        let p = Cauchy::new(tape.var(0.0), tape.var(1.0)).unwrap();
        let x = tape.constant(&ndarray::arr0(x0));
        let a = elbo_score_function_loss(&p, &q, x).unwrap().value();
        let b = elbo_loss(&p, &q, x).unwrap().value();
        prop_assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0));
    }
}
