//! Hand-derived gradients, one or more per operation.

use infer_ad::{Shape, Tape};
use ndarray::array;
use std::f64::consts::{E, PI};

fn close(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-12 * (1.0 + b.abs()), "{a} vs {b}");
}

#[test]
fn arithmetic() {
    let tape = Tape::new();
    let (x, y) = (tape.var(3.0), tape.var(-2.0));
    let z = (x + y) * (x - y) / y + 2.0 * x - x / 4.0 + 1.0 / y - (-x);
    z.backward();
    // z = (x²−y²)/y + 2x − x/4 + 1/y + x
    close(z.value(), (9.0 - 4.0) / -2.0 + 6.0 - 0.75 - 0.5 + 3.0);
    close(x.grad(), 2.0 * 3.0 / -2.0 + 2.0 - 0.25 + 1.0);
    close(y.grad(), -1.0 - 9.0 / 4.0 - 1.0 / 4.0);
}

#[test]
fn elementary_functions() {
    type Op = fn(infer_ad::Var<'_>) -> infer_ad::Var<'_>;
    let cases: Vec<(Op, f64, f64)> = vec![
        (|v| v.exp(), 1.0, E),
        (|v| v.ln(), 2.0, 0.5),
        (|v| v.ln_1p(), 1.0, 0.5),
        (|v| v.exp_m1(), 0.0, 1.0),
        (|v| v.sqrt(), 4.0, 0.25),
        (|v| v.sin(), 0.0, 1.0),
        (|v| v.cos(), PI / 2.0, -1.0),
        (|v| v.tanh(), 0.0, 1.0),
        (|v| v.sigmoid(), 0.0, 0.25),
        (|v| v.softplus(), 0.0, 0.5),
        (|v| v.log_sigmoid(), 0.0, 0.5),
        (|v| v.abs(), -2.0, -1.0),
        (|v| v.powi(3), 2.0, 12.0),
        (|v| v.powf(0.5), 4.0, 0.25),
        (|v| v.recip(), 2.0, -0.25),
        (|v| v.square(), -3.0, -6.0),
        (|v| v.clamp(-1.0, 1.0), 0.5, 1.0),
        (|v| v.clamp(-1.0, 1.0), 1.5, 0.0),
        // d/dx lnΓ(x) at 1 = ψ(1) = −γ
        (|v| v.lgamma(), 1.0, -0.577_215_664_901_532_9),
        // ψ'(1) = π²/6
        (|v| v.digamma(), 1.0, PI * PI / 6.0),
        (|v| v.erf(), 0.0, 2.0 / PI.sqrt()),
        (|v| v.erfc(), 0.0, -2.0 / PI.sqrt()),
        // d/dx lnΦ(x) at 0 = φ(0)/Φ(0) = 2/√(2π)
        (|v| v.log_normal_cdf(), 0.0, 2.0 / (2.0 * PI).sqrt()),
    ];
    for (k, (f, x, d)) in cases.into_iter().enumerate() {
        let tape = Tape::new();
        let v = tape.var(x);
        f(v).backward();
        assert!(
            (v.grad() - d).abs() < 1e-12,
            "case {k}: {} vs {d}",
            v.grad()
        );
    }
}

#[test]
fn binary_functions() {
    let tape = Tape::new();
    let (x, y) = (tape.var(2.0), tape.var(3.0));
    let p = x.pow(y).unwrap();
    p.backward();
    close(p.value(), 8.0);
    close(x.grad(), 12.0);
    close(y.grad(), 8.0 * 2f64.ln());
    let tape = Tape::new();
    let (x, y) = (tape.var(2.0), tape.var(3.0));
    (x.min(y).unwrap() * 10.0 + x.max(y).unwrap()).backward();
    close(x.grad(), 10.0);
    close(y.grad(), 1.0);
}

#[test]
fn special_function_values() {
    use infer_ad::scalar::*;
    // scipy.special reference values
    close(log_normal_cdf(-10.0), -53.23128515051248);
    close(log_normal_cdf(-40.0), -804.6084420137539);
    close(log_normal_cdf(3.0), -0.0013508099647481925);
    close(log_normal_cdf(10.0), -7.61985302416047e-24);
    close(digamma(-2.5), 1.1031566406452433);
    close(trigamma(0.5), PI * PI / 2.0);
    close(lgamma(0.5), PI.sqrt().ln());
    assert!(digamma(-3.0).is_nan());
    // the reflection keeps large negative arguments from recursing
    assert!(digamma(-1e12 - 0.5).is_finite());
}

#[test]
fn tensor_reductions_and_softmax() {
    let tape = Tape::new();
    let t = tape.tensor(&array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    let w = tape.constant(&array![1.0, 10.0, 100.0]);
    let y = (t.sum_axis(0).unwrap() * w).sum() + t.mean() * 6.0;
    y.backward();
    assert_eq!(
        t.grad(),
        array![[2.0, 11.0, 101.0], [2.0, 11.0, 101.0]].into_dyn()
    );
    let tape = Tape::new();
    let t = tape.tensor(&array![0.0, 2f64.ln()]);
    let lse = t.logsumexp();
    lse.backward();
    close(lse.value(), 3f64.ln());
    let g = t.grad();
    close(g[0], 1.0 / 3.0);
    close(g[1], 2.0 / 3.0);
}

#[test]
fn linear_algebra() {
    let tape = Tape::new();
    let a = tape.tensor(&array![[1.0, 2.0], [3.0, 4.0]]);
    let x = tape.tensor(&array![1.0, -1.0]);
    let y = a.matvec(x).unwrap();
    assert_eq!(y.to_vec(), vec![-1.0, -1.0]);
    y.sum().backward();
    // d/dA Σ(Ax) = 1 xᵀ; d/dx = Aᵀ1
    assert_eq!(a.grad(), array![[1.0, -1.0], [1.0, -1.0]].into_dyn());
    assert_eq!(x.grad(), array![4.0, 6.0].into_dyn());

    let tape = Tape::new();
    let l = tape.tensor(&array![[2.0, 0.0], [1.0, 4.0]]);
    let b = tape.tensor(&array![2.0, 9.0]);
    let x = l.tri_solve(b, true).unwrap(); // x = [1, 2]
    assert_eq!(x.to_vec(), vec![1.0, 2.0]);
    x.sum().backward();
    // gb = L⁻ᵀ 1 = [3/8, 1/4]; gL = −gb xᵀ on the lower triangle
    let gb = b.grad();
    close(gb[0], 0.375);
    close(gb[1], 0.25);
    let gl = l.grad();
    close(gl[[0, 0]], -0.375);
    close(gl[[1, 0]], -0.25);
    close(gl[[1, 1]], -0.5);
    assert_eq!(gl[[0, 1]], 0.0);
}

#[test]
fn shapes_and_broadcasting_rules() {
    let s = |d: &[usize]| Shape::new(d).unwrap();
    assert_eq!(s(&[3, 1]).broadcast(&s(&[4])).unwrap(), s(&[3, 4]));
    assert_eq!(s(&[]).broadcast(&s(&[2, 2])).unwrap(), s(&[2, 2]));
    assert_eq!(s(&[5, 1, 2]).broadcast(&s(&[3, 1])).unwrap(), s(&[5, 3, 2]));
    assert!(s(&[3]).broadcast(&s(&[4])).is_err());
    assert!(s(&[2, 3]).broadcast(&s(&[3, 2])).is_err());
    assert!(Shape::new(&[1; 7]).is_err());
    // gradient of a broadcast operand sums over the broadcast axes
    let tape = Tape::new();
    let a = tape.tensor(&array![[1.0], [2.0]]);
    let b = tape.tensor(&array![10.0, 20.0, 30.0]);
    let c = a * b;
    assert_eq!(c.dims(), &[2, 3]);
    c.sum().backward();
    assert_eq!(a.grad(), array![[60.0], [60.0]].into_dyn());
    assert_eq!(b.grad(), array![3.0, 3.0, 3.0].into_dyn());
}

#[test]
#[should_panic(expected = "[3] vs [4]")]
fn operator_shape_mismatch_panics_with_both_shapes() {
    let tape = Tape::new();
    let a = tape.tensor(&array![1.0, 2.0, 3.0]);
    let b = tape.tensor(&array![1.0, 2.0, 3.0, 4.0]);
    let _ = a + b;
}

#[test]
fn typed_errors() {
    let tape = Tape::new();
    let a = tape.tensor(&array![[1.0, 2.0], [3.0, 4.0]]);
    let v = tape.tensor(&array![1.0, 2.0, 3.0]);
    assert!(matches!(
        a.matvec(v),
        Err(infer_ad::AdError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        a.sum_axis(2),
        Err(infer_ad::AdError::AxisOutOfRange { .. })
    ));
    let z = tape.tensor(&array![[0.0, 0.0], [1.0, 1.0]]);
    assert!(matches!(
        z.tri_solve(v.slice_axis(0, 0, 2).unwrap(), true),
        Err(infer_ad::AdError::Singular { index: 0, .. })
    ));
    let msg = a.matvec(v).unwrap_err().to_string();
    assert!(msg.contains("[2, 2]") && msg.contains("[3]"), "{msg}");
}

#[test]
fn detach_stops_gradients() {
    let tape = Tape::new();
    let t = tape.tensor(&array![1.0, 2.0]);
    let y = (t * t.detach()).sum();
    y.backward();
    assert_eq!(t.grad(), array![1.0, 2.0].into_dyn());
}

#[test]
fn several_backward_passes() {
    let tape = Tape::new();
    let x = tape.var(2.0);
    let a = x * x;
    let b = x.exp();
    a.backward();
    close(x.grad(), 4.0);
    b.backward();
    close(x.grad(), 2f64.exp());
    a.backward();
    close(x.grad(), 4.0);
}

/// The gradient checker handles inputs in column-major (non-standard) layout: element k is
/// the same element for the tape, the perturbation and the comparison.
#[test]
fn gradcheck_accepts_non_standard_layout() {
    use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
    let x = ndarray::Array2::from_shape_fn((2, 3), |(i, j)| 0.3 + (i * 3 + j) as f64 / 7.0)
        .reversed_axes()
        .into_dyn();
    assert!(!x.is_standard_layout());
    let w = ndarray::Array2::from_shape_fn((3, 2), |(i, j)| 1.0 + (i * 2 + j) as f64).into_dyn();
    let report = check_gradient(
        &[x],
        |tape, t| Ok((t[0] * tape.constant(&w)).exp().sum()),
        &GradCheckConfig::default(),
    )
    .unwrap();
    assert_eq!(report.checked, 6);
}

/// A closure given to a fused or mapped operation runs while the recording is moved out of
/// the tape: recording from inside it is caught and reported, and the tape stays usable.
#[test]
fn closures_that_record_on_their_own_tape_are_rejected() {
    let tape = Tape::new();
    let x = tape.tensor(&array![1.0, 2.0]);
    let expect = "recorded on its own tape";
    let runs: [&dyn Fn(); 4] = [
        &|| {
            let _ = tape.fused_sum([x], |_, [v]| {
                let _ = tape.var(v);
                (v, [1.0])
            });
        },
        &|| {
            let _ = tape.fused_map([x], |_, [v]| {
                let _ = tape.var(v);
                (v, [1.0])
            });
        },
        &|| {
            let _ = x.map_with_derivative(|v| {
                let _ = tape.var(v);
                (v, 1.0)
            });
        },
        &|| {
            let _ = x.zip_with_derivative(x, |a, b| {
                let _ = tape.var(a);
                (a * b, b, a)
            });
        },
    ];
    for run in runs {
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(run))
            .expect_err("recording inside the closure must panic");
        let msg = err
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| err.downcast_ref::<&str>().copied())
            .unwrap_or("");
        assert!(msg.contains(expect), "message: {msg}");
        // the recording made before is intact and usable
        let s = (x * 2.0).sum();
        s.backward();
        assert_eq!(x.grad().sum(), 4.0);
    }
}
