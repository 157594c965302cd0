//! Observed data held by reference (issue 14 item 4): a family's `log_prob_sum(&y)` (and
//! `log_prob(&y)`, `cdf(&y)`) reads `y` where it is instead of recording it on the tape.
//!
//! For each case the same log density is recorded twice on fresh tapes with the same
//! parameters, once with the observations as a tape constant (`tape.constant(&y)`, the
//! spelling that copies them) and once borrowed (`&y`, `&Vec`, `&[f64]`, a non-contiguous
//! view, an `Arc`), and the tests check that
//!
//! - the value and every parameter's gradient are equal bit for bit (both run the same kernel
//!   on the same numbers in the same order; the expected values are those of the existing
//!   spelling, which the other suites check against independent references);
//! - the borrowed spelling records exactly the number of observations fewer value slots on
//!   the tape (plus the broadcast copy where the value broadcasts), and for `log_prob_sum`
//!   with scalar parameters at most a few slots whatever N (`Tape::len`, the counter of
//!   recorded values);
//! - a value that does not broadcast against the batch shape is a typed error naming both
//!   shapes, with either spelling.

use infer_ad::{Tape, Tensor};
use infer_dist::*;
use ndarray::{Array1, ArrayD, IxDyn, arr0};
use std::sync::Arc;

/// What one spelling produced: the value's and the gradients' bits, and the slots recorded.
#[derive(Debug, PartialEq)]
struct Outcome {
    value: u64,
    grads: Vec<Vec<u64>>,
    grown: usize,
}

/// Records `$lp` on a fresh tape `$tape` whose tracked parameters `$ps` are `$params`
/// (tensors of the given arrays), runs the backward pass and returns the [`Outcome`].
macro_rules! record {
    ($params:expr, |$tape:ident, $ps:ident| $lp:expr) => {{
        let $tape = Tape::new();
        let $ps: Vec<Tensor<'_>> = $params.iter().map(|p| $tape.tensor(p)).collect();
        let before = $tape.len();
        let lp = $lp?;
        let grown = $tape.len() - before;
        lp.backward();
        Outcome {
            value: lp.value().to_bits(),
            grads: $ps
                .iter()
                .map(|t| t.grad().iter().map(|g| g.to_bits()).collect())
                .collect(),
            grown,
        }
    }};
}

/// The constant spelling `$d.log_prob_sum(tape.constant(&y))` against the borrowed one
/// `$d.log_prob_sum(&y)` for the distribution `$d` built from the tracked parameters `$ps`:
/// bit-identical, and the borrowed spelling records exactly `copies` fewer slots (the
/// constant, and its broadcast where the value broadcasts). Evaluates to the number of slots
/// the borrowed spelling recorded.
macro_rules! same_sum {
    ($name:expr, $params:expr, $y:expr, $copies:expr, |$ps:ident| $d:expr) => {{
        let y: &ArrayD<f64> = $y;
        let on_tape = record!($params, |tape, $ps| $d.log_prob_sum(tape.constant(y)));
        let borrowed = record!($params, |tape, $ps| $d.log_prob_sum(y));
        assert_eq!(on_tape.value, borrowed.value, "{}: value", $name);
        assert_eq!(on_tape.grads, borrowed.grads, "{}: gradients", $name);
        assert_eq!(
            on_tape.grown,
            borrowed.grown + $copies,
            "{}: slots with the constant, and borrowed + copies",
            $name,
        );
        borrowed.grown
    }};
}

fn arr(v: &[f64]) -> ArrayD<f64> {
    Array1::from(v.to_vec()).into_dyn()
}

fn scalar(x: f64) -> ArrayD<f64> {
    arr0(x).into_dyn()
}

/// N observations in (0, 1), spread deterministically (no generator needed).
fn unit(n: usize) -> ArrayD<f64> {
    arr(&(0..n)
        .map(|i| (i as f64 + 0.5) / n as f64)
        .collect::<Vec<_>>())
}

/// N observations around 0, both signs.
fn real(n: usize) -> ArrayD<f64> {
    arr(&(0..n)
        .map(|i| 3.0 * ((i as f64) * 0.7).sin() + 0.1 * i as f64 / n as f64)
        .collect::<Vec<_>>())
}

#[test]
fn scalar_parameters_fast_and_hoisted_paths_are_bit_identical() -> Result<(), DistError> {
    // N above the fused sum's block threshold (64), and one below it: both loops
    let mut grown = Vec::new();
    for n in [1000, 37] {
        let (x, u) = (real(n), unit(n));
        let pos = x.mapv(|v| v.abs() + 0.05);
        let counts = x.mapv(|v| (v.abs() * 2.0).floor());
        let bits = u.mapv(|v| if v < 0.4 { 1.0 } else { 0.0 });
        let two = [scalar(0.3), scalar(1.7)];
        let three = [scalar(4.5), scalar(0.3), scalar(1.2)];
        grown.push(same_sum!("Normal", two, &x, n, |p| Normal::new(
            p[0], p[1]
        )?));
        // StudentT's block kernel records no per-observation node at all for data (it needs
        // no partials for it): one slot fewer again
        grown.push(same_sum!("StudentT", three, &x, n + 1, |p| StudentT::new(
            p[0], p[1], p[2]
        )?));
        grown.push(same_sum!("Cauchy", two, &x, n, |p| Cauchy::new(
            p[0], p[1]
        )?));
        grown.push(same_sum!("Laplace", two, &x, n, |p| Laplace::new(
            p[0], p[1]
        )?));
        grown.push(same_sum!("Gumbel", two, &x, n, |p| Gumbel::new(
            p[0], p[1]
        )?));
        grown.push(same_sum!("Gamma", two, &pos, n, |p| Gamma::new(
            p[0], p[1]
        )?));
        grown.push(same_sum!("InverseGamma", two, &pos, n, |p| {
            InverseGamma::new(p[0], p[1])?
        }));
        grown.push(same_sum!("LogNormal", two, &pos, n, |p| LogNormal::new(
            p[0], p[1]
        )?));
        grown.push(same_sum!("Beta", two, &u, n, |p| Beta::new(p[0], p[1])?));
        grown.push(same_sum!("Weibull", two, &pos, n, |p| Weibull::new(
            p[0], p[1]
        )?));
        let one = [scalar(1.3)];
        grown.push(same_sum!("Exponential", one, &pos, n, |p| {
            Exponential::new(p[0])?
        }));
        grown.push(same_sum!("HalfNormal", one, &pos, n, |p| HalfNormal::new(
            p[0]
        )?));
        grown.push(same_sum!("HalfCauchy", one, &pos, n, |p| HalfCauchy::new(
            p[0]
        )?));
        grown.push(same_sum!("Chi2", one, &pos, n, |p| Chi2::new(p[0])?));
        grown.push(same_sum!("Poisson", one, &counts, n, |p| Poisson::new(
            p[0]
        )?));
        grown.push(same_sum!("Bernoulli", [scalar(0.3)], &bits, n, |p| {
            Bernoulli::from_probs(p[0])?
        }));
        grown.push(same_sum!(
            "Bernoulli logits",
            [scalar(-0.4)],
            &bits,
            n,
            |p| { Bernoulli::from_logits(p[0])? }
        ));
        // a value outside the support: −∞ from the elementwise kernel, by either spelling
        let mut bad = pos.clone();
        bad[[n / 2]] = -1.0;
        grown.push(same_sum!("Gamma off support", two, &bad, n, |p| {
            Gamma::new(p[0], p[1])?
        }));
    }
    // with scalar parameters the borrowed spelling records a few slots whatever N
    assert!(grown.iter().all(|&g| g <= 3), "{grown:?}");
    Ok(())
}

#[test]
fn array_parameters_and_broadcasting_are_bit_identical() -> Result<(), DistError> {
    let n = 300;
    let x = real(n);
    let locs = x.mapv(|v| 0.5 * v - 0.2);
    // a location per observation (the elementwise reduction with stored partials)
    same_sum!(
        "Normal array loc",
        [locs.clone(), scalar(0.8)],
        &x,
        n,
        |p| { Normal::new(p[0], p[1])? }
    );
    same_sum!(
        "StudentT array loc",
        [scalar(3.0), locs.clone(), scalar(0.8)],
        &x,
        n,
        |p| StudentT::new(p[0], p[1], p[2])?
    );
    // parameters of shape [2, 3] and a value of shape [3]: the value broadcasts (the constant
    // spelling also records the broadcast copy, 6 slots, on the tape)
    let loc23 = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![0.1, -0.2, 0.3, 0.4, 0.0, -0.6])
        .expect("six values for [2, 3]");
    let y3 = arr(&[0.25, -1.0, 2.0]);
    same_sum!(
        "Normal broadcast value",
        [loc23.clone(), scalar(1.1)],
        &y3,
        3 + 6,
        |p| { Normal::new(p[0], p[1])? }
    );
    same_sum!(
        "Gamma broadcast value",
        [loc23.mapv(|v| v.abs() + 0.5), scalar(2.0)],
        &y3.mapv(f64::abs),
        3 + 6,
        |p| Gamma::new(p[0], p[1])?
    );
    // a value of shape [2, 1] against a batch of [3]: both broadcast to [2, 3]
    let y21 = ArrayD::from_shape_vec(IxDyn(&[2, 1]), vec![0.5, -0.5]).expect("two values");
    same_sum!(
        "Normal [2,1] by [3]",
        [y3.clone(), scalar(0.9)],
        &y21,
        2 + 6,
        |p| { Normal::new(p[0], p[1])? }
    );
    // a value of shape [2, 3] against a location of shape [3] (the parameter broadcasts)
    same_sum!(
        "Normal [2,3] by [3]",
        [y3.clone(), scalar(0.9)],
        &loc23,
        6,
        |p| { Normal::new(p[0], p[1])? }
    );
    Ok(())
}

#[test]
fn every_data_spelling_reads_in_place() -> Result<(), DistError> {
    let n = 500;
    let x = real(n);
    let v: Vec<f64> = x.iter().copied().collect();
    let shared = Arc::new(x.clone());
    let two = [scalar(0.3), scalar(1.7)];
    let want = record!(two, |tape, p| Normal::new(p[0], p[1])?
        .log_prob_sum(tape.constant(&x)));
    let spellings = [
        record!(two, |tape, p| Normal::new(p[0], p[1])?.log_prob_sum(&v)),
        record!(two, |tape, p| Normal::new(p[0], p[1])?
            .log_prob_sum(v.as_slice())),
        record!(two, |tape, p| Normal::new(p[0], p[1])?
            .log_prob_sum(Arc::clone(&shared))),
        record!(two, |tape, p| Normal::new(p[0], p[1])?
            .log_prob_sum(Param::from(Arc::clone(&shared)))),
        record!(two, |tape, p| Normal::new(p[0], p[1])?
            .log_prob_sum(&x.view())),
    ];
    for (i, got) in spellings.iter().enumerate() {
        assert_eq!(
            (got.value, &got.grads),
            (want.value, &want.grads),
            "spelling {i}"
        );
        assert_eq!(got.grown + n, want.grown, "spelling {i}");
    }
    // a column of a row-major matrix is not contiguous: read through a buffer of the call,
    // still not onto the tape
    let m = ndarray::Array2::from_shape_fn((n, 2), |(i, j)| x[[i]] + j as f64);
    let col = m.column(1);
    let want = record!(two, |tape, p| Normal::new(p[0], p[1])?
        .log_prob_sum(tape.constant(&col)));
    let got = record!(two, |tape, p| Normal::new(p[0], p[1])?.log_prob_sum(&col));
    assert_eq!((got.value, &got.grads), (want.value, &want.grads));
    assert_eq!(got.grown + n, want.grown);
    Ok(())
}

#[test]
fn log_prob_and_cdf_read_data_in_place() -> Result<(), DistError> {
    let n = 200;
    let x = real(n);
    let locs = x.mapv(|v| 0.25 * v);
    let ps = [locs, scalar(1.3)];
    // log_prob: the result (n slots) is recorded, the value is not
    let want = record!(ps, |tape, p| Normal::new(p[0], p[1])?
        .log_prob(tape.constant(&x))
        .map(|t| t.sum()));
    let got = record!(ps, |tape, p| Normal::new(p[0], p[1])?
        .log_prob(&x)
        .map(|t| t.sum()));
    assert_eq!((got.value, &got.grads), (want.value, &want.grads));
    assert_eq!(got.grown + n, want.grown);
    let want = record!(ps, |tape, p| Normal::new(p[0], p[1])?
        .cdf(tape.constant(&x))
        .map(|t| t.sum()));
    let got = record!(ps, |tape, p| Normal::new(p[0], p[1])?
        .cdf(&x)
        .map(|t| t.sum()));
    assert_eq!((got.value, &got.grads), (want.value, &want.grads));
    assert_eq!(got.grown + n, want.grown);
    Ok(())
}

#[test]
fn glm_likelihoods_read_outcomes_in_place() -> Result<(), DistError> {
    let n = 400;
    let x = ndarray::Array2::from_shape_fn((n, 3), |(i, j)| ((i * 3 + j) as f64 * 0.37).sin());
    let design = GlmDesign::new(Arc::new(x.clone()))?;
    let yr = real(n);
    let yb = unit(n).mapv(|v| if (v * 7.0).fract() < 0.5 { 1.0 } else { 0.0 });
    let yc = yr.mapv(|v| (v.abs() * 2.0).floor());
    let ps = [arr(&[0.2, -0.4, 0.1]), scalar(0.3), scalar(1.4)];
    macro_rules! glm_same {
        ($name:expr, $y:expr, |$p:ident| $d:expr) => {{
            let y: &ArrayD<f64> = $y;
            let want = record!(ps, |tape, $p| $d.log_prob_sum(tape.constant(y)));
            let got = record!(ps, |tape, $p| $d.log_prob_sum(y));
            assert_eq!(
                (got.value, &got.grads),
                (want.value, &want.grads),
                "{}",
                $name
            );
            assert_eq!(got.grown + n, want.grown, "{}", $name);
            assert!(got.grown <= 2, "{}: {got:?}", $name);
        }};
    }
    glm_same!("NormalIdGlm", &yr, |p| NormalIdGlmDist::new(
        &design,
        Some(p[1]),
        p[0],
        p[2]
    )?);
    glm_same!("BernoulliLogitGlm", &yb, |p| BernoulliLogitGlmDist::new(
        &design,
        Some(p[1]),
        p[0]
    )?);
    glm_same!("PoissonLogGlm", &yc, |p| PoissonLogGlmDist::new(
        &design,
        Some(p[1]),
        p[0]
    )?);
    // the plain spelling of logistic regression: Bernoulli on the logits α + Xβ, its fast
    // path reading the outcomes in place
    let xs = Arc::new(x.clone());
    let want = record!(ps, |tape, p| Bernoulli::from_logits(
        tape.data_matvec(&xs, p[0])? + p[1]
    )?
    .log_prob_sum(tape.constant(&yb)));
    let got = record!(ps, |tape, p| Bernoulli::from_logits(
        tape.data_matvec(&xs, p[0])? + p[1]
    )?
    .log_prob_sum(&yb));
    assert_eq!((got.value, &got.grads), (want.value, &want.grads));
    assert_eq!(got.grown + n, want.grown);
    // an outcome outside {0, 1}: the same typed error either way
    let mut bad = yb.clone();
    bad[[3]] = 0.5;
    let tape = Tape::new();
    let beta = tape.tensor(&ps[0]);
    let lik = BernoulliLogitGlmDist::new(&design, None, beta)?;
    let a = lik.log_prob_sum(&bad).map(|v| v.value());
    let b = lik.log_prob_sum(tape.constant(&bad)).map(|v| v.value());
    assert!(a.is_err(), "{a:?}");
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    Ok(())
}

#[test]
fn shape_mismatch_is_a_typed_error_naming_the_shapes() -> Result<(), DistError> {
    let tape = Tape::new();
    let loc = tape.tensor(&arr(&[0.0, 1.0, 2.0]));
    let d = Normal::new(loc, 1.0)?;
    let y4 = arr(&[0.0, 1.0, 2.0, 3.0]);
    let before = tape.len();
    for r in [d.log_prob_sum(&y4), d.log_prob_sum(tape.constant(&y4))] {
        match r {
            Err(DistError::ShapeMismatch { left, right, .. }) => {
                assert_eq!((left.dims(), right.dims()), (&[4][..], &[3][..]));
            }
            other => panic!("expected a shape mismatch, got {other:?}"),
        }
    }
    // the borrowed spelling recorded nothing before failing; the constant one its copy
    assert_eq!(tape.len(), before + 4);
    let y23 = ArrayD::zeros(IxDyn(&[2, 2]));
    assert!(matches!(
        d.log_prob(&y23),
        Err(DistError::ShapeMismatch { .. })
    ));
    // the GLM likelihood: outcomes against the rows of X
    let design = GlmDesign::new(Arc::new(ndarray::Array2::zeros((3, 1))))?;
    let lik = NormalIdGlmDist::new(&design, None, tape.tensor(&arr(&[0.5])), tape.scalar(1.0))?;
    assert!(matches!(
        lik.log_prob_sum(&y4),
        Err(DistError::ShapeMismatch { .. })
    ));
    Ok(())
}
