//! `ode::ode_solve`: closed-form solutions and sensitivities (exponential decay, logistic
//! growth, a harmonic oscillator), gradients against central differences at tight tolerances,
//! and the typed errors.

use infer_ad::gradcheck::{GradCheckConfig, check_gradient};
use infer_ad::ode::{OdeOptions, ode_solve};
use infer_ad::{AdError, Tape, Var};

fn logistic<'s>(
    _: &'s Tape,
    _: f64,
    y: &[Var<'s>],
    th: &[Var<'s>],
) -> Result<Vec<Var<'s>>, AdError> {
    Ok(vec![th[0] * y[0] * (1.0 - y[0] / th[1])])
}

fn decay<'s>(_: &'s Tape, _: f64, y: &[Var<'s>], th: &[Var<'s>]) -> Result<Vec<Var<'s>>, AdError> {
    Ok(vec![-(th[0] * y[0])])
}

fn blow<'s>(_: &'s Tape, _: f64, y: &[Var<'s>], _: &[Var<'s>]) -> Result<Vec<Var<'s>>, AdError> {
    Ok(vec![y[0] * y[0]])
}
use ndarray::{ArrayD, IxDyn, array};

fn tight() -> OdeOptions {
    OdeOptions {
        rtol: 1e-10,
        atol: 1e-10,
        ..OdeOptions::default()
    }
}

/// dy/dt = −k y: y = y₀ e^{−kt}, ∂y/∂y₀ = e^{−kt}, ∂y/∂k = −t y. Relative error ≤ 1e-8 at
/// tolerances 1e-10 (the global error of an adaptive 5th-order method stays within a small
/// multiple of the local tolerance here).
#[test]
fn exponential_decay_and_its_sensitivities() {
    let times = [0.3, 1.0, 2.5, 4.0];
    for (i, &t_end) in times.iter().enumerate() {
        let tape = Tape::new();
        let y0 = tape.tensor(&array![1.7]);
        let k = tape.tensor(&array![0.9]);
        let y = ode_solve(
            &tape,
            |_, _, y, th| Ok(vec![-(th[0] * y[0])]),
            y0,
            0.0,
            &times,
            k,
            &tight(),
        )
        .unwrap();
        let exact = 1.7 * (-0.9 * t_end).exp();
        let got = y.to_vec()[i];
        assert!((got - exact).abs() <= 1e-8 * exact, "{got} vs {exact}");
        y.flat(i).unwrap().backward();
        let (gy0, gk) = (y0.grad()[[0]], k.grad()[[0]]);
        assert!((gy0 - exact / 1.7).abs() <= 1e-8, "{gy0}");
        assert!((gk + t_end * exact).abs() <= 1e-8 * t_end * exact, "{gk}");
    }
}

/// Logistic growth dy/dt = r y (1 − y/K): y = K / (1 + (K/y₀ − 1) e^{−rt}); and the gradient of
/// a weighted sum of the outputs against central differences in y₀, r and K.
#[test]
fn logistic_growth() {
    let f = logistic;
    let times = [0.5, 1.0, 2.0, 5.0];
    let tape = Tape::new();
    let y0 = tape.tensor(&array![0.2]);
    let th = tape.tensor(&array![1.3, 4.0]);
    let y = ode_solve(&tape, f, y0, 0.0, &times, th, &tight()).unwrap();
    for (i, &t) in times.iter().enumerate() {
        let exact = 4.0 / (1.0 + (4.0 / 0.2 - 1.0) * (-1.3 * t).exp());
        assert!((y.to_vec()[i] - exact).abs() <= 1e-8 * exact);
    }
    let x0 = ArrayD::from_shape_vec(IxDyn(&[1]), vec![0.2]).unwrap();
    let p = ArrayD::from_shape_vec(IxDyn(&[2]), vec![1.3, 4.0]).unwrap();
    check_gradient(
        &[x0, p],
        |tp, v| {
            let y = ode_solve(tp, f, v[0], 0.0, &times, v[1], &tight())?;
            let w = tp.constant(&array![[0.5], [1.0], [-0.7], [2.0]]);
            Ok((y * w).sum())
        },
        &GradCheckConfig::default(),
    )
    .unwrap();
}

/// A two-dimensional system, y₁' = y₂, y₂' = −ω² y₁ from (1, 0): y₁ = cos ωt,
/// ∂y₁/∂ω = −t sin ωt.
#[test]
fn harmonic_oscillator() {
    let tape = Tape::new();
    let y0 = tape.constant(&array![1.0, 0.0]);
    let w = tape.tensor(&array![2.0]);
    let times = [0.7, 3.0];
    let y = ode_solve(
        &tape,
        |_, _, y, th| Ok(vec![y[1], -(th[0] * th[0] * y[0])]),
        y0,
        0.0,
        &times,
        w,
        &tight(),
    )
    .unwrap();
    assert_eq!(y.dims(), &[2, 2]);
    let v = y.to_vec();
    assert!((v[2] - (2.0f64 * 3.0).cos()).abs() <= 1e-8);
    y.flat(2).unwrap().backward();
    let want = -3.0 * (2.0f64 * 3.0).sin();
    assert!(
        (w.grad()[[0]] - want).abs() <= 1e-7,
        "{} vs {want}",
        w.grad()[[0]]
    );
}

#[test]
fn typed_errors() {
    let tape = Tape::new();
    let y0 = tape.tensor(&array![1.0]);
    let th = tape.tensor(&array![1.0]);
    let opts = OdeOptions::default();
    assert!(matches!(
        ode_solve(&tape, decay, y0, 0.0, &[1.0, 1.0], th, &opts),
        Err(AdError::OdeInvalid { .. })
    ));
    assert!(matches!(
        ode_solve(&tape, decay, y0, 2.0, &[1.0], th, &opts),
        Err(AdError::OdeInvalid { .. })
    ));
    let nan = tape.tensor(&array![f64::NAN]);
    assert!(matches!(
        ode_solve(&tape, decay, y0, 0.0, &[1.0], nan, &opts),
        Err(AdError::OdeNotFinite { .. })
    ));
    let few = OdeOptions {
        max_steps: 3,
        ..opts
    };
    let stiff = tape.tensor(&array![1e6]);
    assert!(matches!(
        ode_solve(&tape, decay, y0, 0.0, &[10.0], stiff, &few),
        Err(AdError::OdeTooManySteps { steps: 3, .. })
    ));
    // y' = y²: blows up at t = 1 from y(0) = 1
    assert!(ode_solve(&tape, blow, y0, 0.0, &[2.0], th, &opts).is_err());
    let other = Tape::new();
    assert!(matches!(
        ode_solve(
            &tape,
            decay,
            other.tensor(&array![1.0]),
            0.0,
            &[1.0],
            th,
            &opts
        ),
        Err(AdError::DifferentTapes { .. })
    ));
}
