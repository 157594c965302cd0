//! Parameters with a declared constraint (`ParamStore::add_constrained`): stored
//! unconstrained, read constrained on the tape, gradients by the chain rule, typed errors
//! for bad constraints and for initial values outside the domain.

use infer_ad::optim::{Adam, AdamConfig, Optimizer};
use infer_ad::{AdError, ParamConstraint, ParamStore, PositiveMap, Tape};
use ndarray::arr1;

fn sigmoid(u: f64) -> f64 {
    1.0 / (1.0 + (-u).exp())
}

/// The transforms written out independently: (x, dx/du).
fn by_hand(c: ParamConstraint, u: f64) -> (f64, f64) {
    match c {
        ParamConstraint::GreaterThan {
            lower,
            map: PositiveMap::Softplus,
        } => (lower + u.exp().ln_1p(), sigmoid(u)),
        ParamConstraint::GreaterThan {
            lower,
            map: PositiveMap::Exp,
        } => (lower + u.exp(), u.exp()),
        ParamConstraint::Interval { lower, upper } => (
            lower + (upper - lower) * sigmoid(u),
            (upper - lower) * sigmoid(u) * (1.0 - sigmoid(u)),
        ),
        _ => (u, 1.0),
    }
}

fn lower_of(c: ParamConstraint) -> f64 {
    match c {
        ParamConstraint::GreaterThan { lower, .. } | ParamConstraint::Interval { lower, .. } => {
            lower
        }
        ParamConstraint::Real => 0.0,
    }
}

const CONSTRAINTS: [ParamConstraint; 5] = [
    ParamConstraint::GreaterThan {
        lower: 0.0,
        map: PositiveMap::Softplus,
    },
    ParamConstraint::GreaterThan {
        lower: 0.0,
        map: PositiveMap::Exp,
    },
    ParamConstraint::GreaterThan {
        lower: -3.0,
        map: PositiveMap::Softplus,
    },
    ParamConstraint::GreaterThan {
        lower: 1.5,
        map: PositiveMap::Exp,
    },
    ParamConstraint::Interval {
        lower: -1.0,
        upper: 4.0,
    },
];

#[test]
fn initial_values_round_trip_and_are_read_constrained() {
    for c in CONSTRAINTS {
        let lower = match c {
            ParamConstraint::GreaterThan { lower, .. }
            | ParamConstraint::Interval { lower, .. } => lower,
            ParamConstraint::Real => unreachable!(),
        };
        let init = arr1(&[lower + 1e-6, lower + 0.3, lower + 2.0, lower + 4.9]);
        let mut s = ParamStore::new();
        let id = s.add_constrained("x", init.clone(), c).unwrap();
        assert_eq!(s.constraint(id), c);
        let tape = Tape::new();
        let b = s.bind(&tape);
        let on_tape = b[id].to_vec();
        let read = s.constrained_value(id);
        for k in 0..init.len() {
            // the store's reading and the tape's value are the same computation
            assert_eq!(on_tape[k], read[k]);
            // and the round trip T(T⁻¹(x)) recovers the initial value
            assert!(
                (read[k] - init[k]).abs() <= 1e-12 * (1.0 + init[k].abs()),
                "{c:?}: {} vs {}",
                read[k],
                init[k]
            );
            // the stored value is the unconstrained one, and the leaf holds it
            let (x, _) = by_hand(c, s.value(id)[k]);
            assert!((x - init[k]).abs() <= 1e-9 * (1.0 + init[k].abs()));
            assert_eq!(b.leaf(id).to_vec()[k], s.value(id)[k]);
        }
    }
}

#[test]
fn gradients_flow_to_the_unconstrained_value_by_the_chain_rule() {
    for c in CONSTRAINTS {
        let mut s = ParamStore::new();
        let lower = match c {
            ParamConstraint::GreaterThan { lower, .. }
            | ParamConstraint::Interval { lower, .. } => lower,
            ParamConstraint::Real => unreachable!(),
        };
        let id = s.add_constrained("x", arr1(&[lower + 1.0; 3]), c).unwrap();
        let plain = s.add("y", arr1(&[0.25])).unwrap();
        // push the unconstrained values to a spread of points, negative ones included
        s.value_mut(id).assign(&arr1(&[-2.0, 0.1, 3.0]).into_dyn());
        let target = [0.7, -0.2, 1.9];
        let tape = Tape::new();
        let b = s.bind(&tape);
        let loss = (b[id] - &arr1(&target)).square().sum() + b[plain].square().sum();
        loss.backward();
        s.accumulate_grads(&b).unwrap();
        for k in 0..3 {
            let (x, dx) = by_hand(c, s.value(id)[k]);
            let expect = 2.0 * (x - target[k]) * dx;
            let got = s.grad(id)[k];
            assert!(
                (got - expect).abs() <= 1e-12 * (1.0 + expect.abs()),
                "{c:?}[{k}]: {got} vs {expect}"
            );
        }
        // an unconstrained parameter in the same store is untouched by the machinery
        assert_eq!(s.grad(plain)[0], 0.5);
        assert_eq!(b[plain].to_vec(), b.leaf(plain).to_vec());
    }
}

#[test]
fn no_optimizer_step_leaves_the_domain() {
    // Adam with a huge learning rate pulls the value towards the target −10, far below the
    // bound: the unconstrained value runs off towards −∞, the constrained one stays positive.
    let mut s = ParamStore::new();
    let id = s
        .add_constrained("sd", arr1(&[1.0]), ParamConstraint::positive())
        .unwrap();
    let mut adam = Adam::new(AdamConfig {
        lr: 5.0,
        ..AdamConfig::default()
    })
    .unwrap();
    let mut tape = Tape::new();
    for _ in 0..50 {
        tape.clear();
        let b = s.bind(&tape);
        (b[id] + 10.0).square().sum().backward();
        s.zero_grads();
        s.accumulate_grads(&b).unwrap();
        adam.step(&mut s).unwrap();
        assert!(s.constrained_value(id)[0] > 0.0);
    }
    // far below: a raw parameter would have crossed 0 at the first step (1 − 5 < 0)
    assert!(s.value(id)[0] < -20.0);
}

#[test]
fn bind_flat_reads_constrained_values_too() {
    let mut s = ParamStore::new();
    let a = s.add("a", arr1(&[1.0])).unwrap();
    let sd = s
        .add_constrained("sd", arr1(&[1.0]), ParamConstraint::positive_exp())
        .unwrap();
    let tape = Tape::new();
    let b = s.bind_flat(&tape, &[3.0, 2.0f64.ln()]).unwrap();
    assert_eq!(b[a].to_vec(), vec![3.0]);
    assert!((b[sd].to_vec()[0] - 2.0).abs() < 1e-15);
    assert_eq!(b.leaves()[1].to_vec(), vec![2.0f64.ln()]);
}

#[test]
fn values_outside_the_domain_are_typed_errors_naming_the_element() {
    let cases: [(ParamConstraint, f64); 8] = [
        (ParamConstraint::positive(), 0.0),
        (ParamConstraint::positive(), -1.0),
        (ParamConstraint::positive_exp(), f64::NAN),
        (ParamConstraint::positive(), f64::INFINITY),
        (
            ParamConstraint::Interval {
                lower: 0.0,
                upper: 1.0,
            },
            1.0,
        ),
        (
            ParamConstraint::Interval {
                lower: 0.0,
                upper: 1.0,
            },
            -0.5,
        ),
        // inside, but rounding onto the bound: σ⁻¹ would be +∞
        (
            ParamConstraint::Interval {
                lower: 0.0,
                upper: 1.0,
            },
            1.0 - 1e-17,
        ),
        (ParamConstraint::Real, f64::NAN),
    ];
    for (c, bad) in cases {
        let mut s = ParamStore::new();
        let err = s
            .add_constrained("theta", arr1(&[0.5, bad]), c)
            .unwrap_err();
        match err {
            AdError::InvalidArgument { name, value, .. } => {
                assert_eq!(name, "theta[1]");
                assert!(value == bad || (value.is_nan() && bad.is_nan()));
            }
            other => panic!("{c:?}, {bad}: {other:?}"),
        }
        assert!(s.is_empty(), "nothing is added on error");
    }
}

#[test]
fn bad_constraints_are_typed_errors() {
    let bad = [
        (
            ParamConstraint::GreaterThan {
                lower: f64::NEG_INFINITY,
                map: PositiveMap::Exp,
            },
            "lower",
        ),
        (
            ParamConstraint::Interval {
                lower: f64::NAN,
                upper: 1.0,
            },
            "lower",
        ),
        (
            ParamConstraint::Interval {
                lower: 2.0,
                upper: 1.0,
            },
            "upper",
        ),
        (
            ParamConstraint::Interval {
                lower: -f64::MAX,
                upper: f64::MAX,
            },
            "upper",
        ),
    ];
    for (c, which) in bad {
        let mut s = ParamStore::new();
        match s.add_constrained("x", arr1(&[0.5]), c) {
            Err(AdError::InvalidHyperParameter { name, .. }) => assert_eq!(name, which),
            other => panic!("{c:?}: {other:?}"),
        }
    }
    // a duplicate name is still the store's error
    let mut s = ParamStore::new();
    s.add("x", arr1(&[1.0])).unwrap();
    assert!(matches!(
        s.add_constrained("x", arr1(&[1.0]), ParamConstraint::positive()),
        Err(AdError::DuplicateParameter { .. })
    ));
}

#[test]
fn extreme_unconstrained_values_stay_finite_and_in_the_closed_domain() {
    for c in CONSTRAINTS {
        let mut s = ParamStore::new();
        let id = s
            .add_constrained("x", arr1(&[lower_of(c) + 1.0]), c)
            .unwrap();
        for u in [-800.0, -40.0, 0.0, 40.0, 700.0] {
            s.value_mut(id)[0] = u;
            let x = s.constrained_value(id)[0];
            assert!(x.is_finite(), "{c:?} at {u}: {x}");
            match c {
                ParamConstraint::GreaterThan { lower, .. } => assert!(x >= lower),
                ParamConstraint::Interval { lower, upper } => {
                    assert!((lower..=upper).contains(&x))
                }
                ParamConstraint::Real => unreachable!(),
            }
            let tape = Tape::new();
            let b = s.bind(&tape);
            b[id].sum().backward();
            let g = b.leaf(id).grad()[0];
            assert!(g.is_finite() && g >= 0.0, "{c:?} at {u}: derivative {g}");
        }
    }
}
