//! Diagnostics beyond the conformance file: edge shapes (odd draws, one chain, ties, the
//! minimum of 4 draws, many chains) against ArviZ 0.23.4, degenerate inputs, errors.

use infer_mcmc::diagnostics::{
    Diagnostics, DiagnosticsError, ess_bulk, ess_mean, ess_quantile, ess_tail, mcse_mean, quantile,
    quantiles, rhat,
};
use ndarray::{Array2, array};

/// Deterministic AR(1) draws driven by a 64-bit LCG (Knuth's MMIX constants), reproduced
/// bit for bit by the Python script that computed the ArviZ reference values:
/// `y ← φ y + (u − 1/2)`, optionally floored to a grid (ties) and offset per chain.
fn lcg_draws(
    chains: usize,
    draws: usize,
    phi: f64,
    seed: u64,
    grid: Option<f64>,
    offsets: Option<&[f64]>,
) -> Array2<f64> {
    let mut state = seed;
    let mut out = Array2::zeros((chains, draws));
    for c in 0..chains {
        let mut y = 0.0;
        for i in 0..draws {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (state >> 11) as f64 / (1u64 << 53) as f64;
            y = phi * y + (u - 0.5);
            let mut v = y;
            if let Some(g) = grid {
                v = (v / g).floor() * g;
            }
            if let Some(o) = offsets {
                v += o[c];
            }
            out[[c, i]] = v;
        }
    }
    out
}

struct Reference {
    name: &'static str,
    draws: Array2<f64>,
    /// rhat, ess_bulk, ess_tail, mcse_mean, ess_mean (ArviZ 0.23.4).
    want: [f64; 5],
    /// numpy.quantile at 0.05, 0.5, 0.95.
    q: [f64; 3],
}

fn references() -> Vec<Reference> {
    vec![
        Reference {
            name: "odd_draws",
            draws: lcg_draws(3, 101, 0.5, 1, None, None),
            want: [
                1.0082852343228894,
                105.17123805796875,
                110.21317562921189,
                0.030558395855309617,
                108.01163117797883,
            ],
            q: [
                -0.5351057424371181,
                -0.022006459026406078,
                0.47850382154757637,
            ],
        },
        Reference {
            name: "one_chain",
            draws: lcg_draws(1, 400, 0.8, 2, None, None),
            want: [
                f64::NAN,
                44.272863359326415,
                122.97251152739615,
                0.08001439525372875,
                42.93475499387018,
            ],
            q: [-0.9040497262998929, 0.12241238343176622, 0.8831696375277663],
        },
        Reference {
            name: "ties",
            draws: lcg_draws(4, 300, 0.3, 3, Some(0.25), None),
            want: [
                1.002622699656135,
                681.7376364913721,
                746.9001244810244,
                0.01209056707739885,
                688.743511870912,
            ],
            q: [-0.5, 0.0, 0.25],
        },
        Reference {
            name: "min_draws",
            draws: lcg_draws(2, 4, 0.0, 4, None, None),
            want: [
                0.9723934210909662,
                7.224719895935548,
                7.224719895935548,
                0.12044382555660751,
                7.224719895935548,
            ],
            q: [
                -0.4120975054994581,
                -0.10699216509844506,
                0.4080804186674549,
            ],
        },
        Reference {
            name: "seven_chains",
            draws: lcg_draws(7, 60, 0.2, 5, None, None),
            want: [
                1.016446896422071,
                355.9769185175197,
                338.0649020515821,
                0.014845181013826337,
                378.5797009315206,
            ],
            q: [
                -0.461621665243243,
                0.0017208121950195547,
                0.4289337937938877,
            ],
        },
        Reference {
            name: "offset_chain",
            draws: lcg_draws(4, 500, 0.6, 6, None, Some(&[0.0, 0.0, 0.0, 1.5])),
            want: [
                1.5271877489133805,
                7.466839150414876,
                31.406081283410177,
                0.3154423156271665,
                5.307646707687754,
            ],
            q: [-0.5128810461826534, 0.19262523877650167, 1.8342230126827368],
        },
        Reference {
            name: "long_ar",
            draws: lcg_draws(4, 5000, 0.95, 7, None, None),
            want: [
                1.007940311684369,
                443.12739545141557,
                1141.1877270769712,
                0.04360862518662077,
                443.1354272413403,
            ],
            q: [
                -1.4841911067394968,
                0.014311938095818436,
                1.5534174051823417,
            ],
        },
    ]
}

fn close(got: f64, want: f64, rel: f64) -> bool {
    (got.is_nan() && want.is_nan()) || (got - want).abs() <= rel * want.abs().max(1e-300)
}

#[test]
fn edge_shapes_match_arviz() {
    for r in references() {
        let d = Diagnostics::new(r.draws.view()).unwrap();
        let got = [d.rhat, d.ess_bulk, d.ess_tail, d.mcse_mean, d.ess_mean];
        let names = ["rhat", "ess_bulk", "ess_tail", "mcse_mean", "ess_mean"];
        for k in 0..5 {
            assert!(
                close(got[k], r.want[k], 1e-6),
                "{} {}: got {}, want {}",
                r.name,
                names[k],
                got[k],
                r.want[k]
            );
        }
        let q = [d.q5, d.q50, d.q95];
        for k in 0..3 {
            assert!(close(q[k], r.q[k], 1e-12), "{} q{k}", r.name);
        }
    }
}

#[test]
fn single_functions_agree_with_the_bundle() {
    let draws = lcg_draws(4, 333, 0.7, 11, None, None);
    let v = draws.view();
    let d = Diagnostics::new(v).unwrap();
    assert_eq!(rhat(v).unwrap(), d.rhat);
    assert_eq!(ess_bulk(v).unwrap(), d.ess_bulk);
    assert_eq!(ess_tail(v).unwrap(), d.ess_tail);
    assert_eq!(ess_mean(v).unwrap(), d.ess_mean);
    assert_eq!(mcse_mean(v).unwrap(), d.mcse_mean);
    assert_eq!(quantile(v, 0.5).unwrap(), d.q50);
    assert_eq!(quantiles(v, &[0.05, 0.95]).unwrap(), vec![d.q5, d.q95]);
    let tail = ess_quantile(v, 0.05)
        .unwrap()
        .min(ess_quantile(v, 0.95).unwrap());
    assert_eq!(tail, d.ess_tail);
    assert_eq!((d.chains, d.draws), (4, 333));
}

#[test]
fn constant_draws_follow_arviz() {
    // ArviZ: R-hat NaN (0/0), ESS = number of draws, MCSE 0.
    let draws = Array2::from_elem((4, 100), 3.25);
    let d = Diagnostics::new(draws.view()).unwrap();
    assert!(d.rhat.is_nan());
    assert_eq!(d.ess_bulk, 400.0);
    assert_eq!(d.ess_tail, 400.0);
    assert_eq!(d.mcse_mean, 0.0);
    assert_eq!((d.mean, d.sd, d.q50), (3.25, 0.0, 3.25));

    // Chains constant at different values: within-chain variance 0, R-hat infinite.
    let stuck = array![[1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]];
    assert_eq!(rhat(stuck.view()).unwrap(), f64::INFINITY);
}

#[test]
fn invalid_inputs_are_typed_errors() {
    let empty = Array2::<f64>::zeros((0, 10));
    assert_eq!(
        rhat(empty.view()).unwrap_err(),
        DiagnosticsError::Empty {
            chains: 0,
            draws: 10
        }
    );
    let short = Array2::<f64>::zeros((2, 3));
    assert_eq!(
        ess_bulk(short.view()).unwrap_err(),
        DiagnosticsError::TooFewDraws { draws: 3 }
    );
    let mut nan = Array2::<f64>::zeros((2, 10));
    nan[[1, 7]] = f64::NAN;
    let err = Diagnostics::new(nan.view()).unwrap_err();
    assert!(matches!(
        err,
        DiagnosticsError::NonFinite {
            chain: 1,
            draw: 7,
            ..
        }
    ));
    assert_eq!(err.to_string(), "draw 7 of chain 1 is not finite: NaN");
    let ok = Array2::<f64>::zeros((2, 10));
    assert!(matches!(
        ess_quantile(ok.view(), -0.1),
        Err(DiagnosticsError::InvalidProbability { .. })
    ));
}

#[test]
fn non_contiguous_views_are_accepted() {
    // A transposed view (draws × chains storage) gives the same values as a copy.
    let stored = lcg_draws(300, 4, 0.0, 9, None, None);
    let view = stored.t();
    let owned = view.to_owned();
    assert_eq!(
        Diagnostics::new(view).unwrap(),
        Diagnostics::new(owned.view()).unwrap()
    );
}

/// Many long chains (4 × 25,000 draws, the size of the reference runs) are handled; the
/// speed itself is measured by the `diagnostics` benchmark, not here.
#[test]
fn four_chains_of_25000_draws() {
    let draws = lcg_draws(4, 25_000, 0.9, 13, None, None);
    let d = Diagnostics::new(draws.view()).unwrap();
    assert!(d.ess_bulk > 1000.0 && d.rhat < 1.01);
}
